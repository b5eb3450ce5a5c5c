/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_PGHOSTS_H
#define VIGIL_PGHOSTS_H

#include <stddef.h>
#include <stdint.h>

#include "store/blocks.h"
#include "store/hosts.h"
#include "store/pg.h"

/*
 * The fleet's state shared in PostgreSQL: `hosts`, `probe_state` and
 * `agent_conflicts` as store/hosts.h keeps them in meta.db, written by
 * every collector in the transaction of its blocks (pgstore.h), so any
 * collector lists every host and every probe's latest result, whichever
 * collector its agent sent to. This file alone holds SQL that names them
 * on PostgreSQL. Text from hosts is stored as valid UTF-8 (pg.h's arrays).
 */

/* Creates the tables (a collector's writer, on each of its connections). */
int pghosts_schema(PGconn *c);

/*
 * What the n blocks of a group commit add, after pgblocks_store() gave
 * each its shared result, in the caller's transaction: its host seen (a
 * stored block counted, a duplicate only heard from) with its inventory,
 * its probes' latest results (a stored block's, in order), or the
 * conflict. A probe's streak that began (a new probe, a changed status)
 * makes the group noteworthy (block_may_alert()). Rows go in key order
 * (blocks sorted by agent), so collectors writing the same hosts at once
 * never deadlock.
 */
int pghosts_group(PGconn *c, struct block_in *const *blocks, size_t n);

/*
 * The certificate each block's agent id is bound to in the shared hosts
 * (trust on first use, whichever collector saw it first) into its
 * bound_certificate, for the blocks that came with one; those of an id
 * bound to none yet are left as they are.
 */
int pghosts_certificates(PGconn *c, struct block_in *const *blocks, size_t n);

/* Readers, as hosts.h's on meta.db (the same rows and filters); GLOB as SQLite means it. */
int pghosts_each(PGconn *c, const struct host_filter *f, int (*fn)(const struct host_row *h, void *ctx), void *ctx);
int pghosts_probes_each(PGconn *c, const struct probe_state_filter *f,
			int (*fn)(const struct probe_state_row *p, void *ctx), void *ctx);
int pghosts_conflicts_each(PGconn *c, const char *agent, uint64_t since_us,
			   int (*fn)(const struct agent_conflict *ac, void *ctx), void *ctx);

/*
 * The agents a reader's host names (its id, or its name now) as an array
 * parameter (pg.h's pg_array_*()) into agents, "{}" for none: what the
 * history of a host is read by (pgderived.h).
 */
struct buf;
int pghosts_agents_of(PGconn *c, const char *host, struct buf *agents);

/*
 * --migrate's copies of meta.db's rows, each unless its key is there
 * already (a run cut short, or an agent heard from since): 1 copied, 0
 * there, or -errno. In the caller's transaction.
 */
int pghosts_copy_host(PGconn *c, const struct host_row *h);
int pghosts_copy_probe(PGconn *c, const struct probe_state_row *s);
/* 1 when the host agent (probe NULL), or its probe named probe, is there; 0 when not, or -errno. */
int pghosts_holds(PGconn *c, const char *agent, const struct bytes *probe);

#endif
