/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_PGPOSITIONS_H
#define VIGIL_PGPOSITIONS_H

#include <stddef.h>
#include <stdint.h>

#include "store/forwardstate.h"
#include "store/pg.h"

/*
 * The forwarders' positions shared in PostgreSQL (`forward_positions`, as
 * forward/position.h keeps them in meta.db): the collector that forwards
 * under a forwarder's lease writes where its receiver is, and the next to
 * take the lease goes on from there. This file alone holds SQL that names
 * the table on PostgreSQL.
 */
int pgpositions_schema(PGconn *c);
/* 1 and *ret (its strings NULL) with the cursor in cursor (size bytes, "" for none); 0 when name has no row. */
int pgpositions_get(PGconn *c, const char *name, struct forward_state *ret, char *cursor, size_t size);
/* s, only while epoch is lease's (pglease.h): -ESTALE when another collector has taken it since. */
int pgpositions_put(PGconn *c, const char *lease, int64_t epoch, const struct forward_state *s);
/* fn for each forwarder's row, by name. */
int pgpositions_each(PGconn *c, int (*fn)(const struct forward_state *s, void *ctx), void *ctx);

#endif
