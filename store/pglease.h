/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_PGLEASE_H
#define VIGIL_PGLEASE_H

#include <stdint.h>

#include "store/pg.h"

/*
 * Work that must happen once among several collectors (evaluation, the
 * notifier, the dial-test schedule, retention, seals: docs/scale.md), led
 * by one of them: `leases` on PostgreSQL, a row per kind of work with its
 * holder and epoch, beside a session advisory lock per kind. The lock is
 * the collector's while its connection lives; the server frees it the
 * moment that connection ends (a killed collector), so another takes over
 * at its next try. Each taking raises the epoch, and a leader's writes go
 * through pglease_fenced(): a leader that lost its connection (and so the
 * lease) without knowing writes nothing after its successor began. This
 * file alone holds SQL that names the table.
 */

int pglease_schema(PGconn *c);

/*
 * Tries to take the lease of name for holder (a collector's name): 1 and
 * the new epoch into *epoch when this connection holds it now (taken, or
 * held already: the epoch it had), 0 when another does. Call it every
 * second or so; the connection must stay open while the work runs.
 */
int pglease_try(PGconn *c, const char *name, const char *holder, int64_t *epoch);

/*
 * Runs sql (its parameters params, n of them, then the epoch as $n+1 and
 * the lease's name as $n+2) only while epoch is the lease's: sql must end
 * its WHERE with "… AND EXISTS (SELECT 1 FROM leases WHERE name=$n+2 AND
 * epoch=$n+1)" through PGLEASE_FENCE(n). How many rows it wrote into
 * *ret_rows; -ESTALE when the lease has passed to another.
 */
#define PGLEASE_FENCE(a, b) "EXISTS (SELECT 1 FROM leases WHERE name=$" #b " AND epoch=$" #a "::bigint)"
int pglease_fenced(PGconn *c, const char *name, int64_t epoch, const char *sql, const struct pg_param *params, int n,
		   long long *ret_rows);

/*
 * Inside a transaction: 0 while epoch is still name's, the lease row held
 * (FOR SHARE) until the transaction ends, so no other collector can take
 * the lease before it commits; -ESTALE when another has taken it. What a
 * leader's transaction begins with, its writes fenced all at once.
 */
int pglease_hold(PGconn *c, const char *name, int64_t epoch);

/* Gives the lease up (at a clean stop: the next holder need not wait for the connection to end). */
int pglease_release(PGconn *c, const char *name);

#endif
