/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_PGDERIVED_H
#define VIGIL_PGDERIVED_H

#include <stddef.h>
#include <stdint.h>

#include "store/blocks.h"
#include "store/pg.h"

/*
 * What the alert rules read of the rows derived from blocks, shared in
 * PostgreSQL so that the collector that evaluates (alerts/alerting.h)
 * reads what every collector received: `metric_latest` (each agent's
 * latest value of each metric instance: all a metric rule asks),
 * `log_matches` (a row per block per log rule that matched in it) and
 * `logmetric_rows` (a row per block per log metric series), as the shards
 * keep them (store/blocks.h). Written by every collector in the
 * transaction of its blocks, for the blocks stored there now (a duplicate
 * adds nothing). This file alone holds SQL that names them on
 * PostgreSQL.
 */

int pgderived_schema(PGconn *c);

/* What the n blocks of a group commit add, after pgblocks_store() gave each its shared result, in the caller's transaction. */
int pgderived_group(PGconn *c, struct block_in *const *blocks, size_t n);

/* No rule looks further back (a log rule's window is at most a day): older rows go (pgderived_prune()). */
#define PGDERIVED_KEEP_US (25 * 3600 * UINT64_C(1000000))
int pgderived_prune(PGconn *c, uint64_t now_us);

/* As blocks.h's blocks_metric_latest(), blocks_log_matches() and blocks_logmetric_rows() (recent) over every collector's. */
int pgderived_metric_latest(PGconn *c, const char *name, uint64_t since_us, const char *host_glob,
			    const char *instance_glob, int (*fn)(const struct metric_sample *s, void *ctx), void *ctx);
int pgderived_log_matches(PGconn *c, const char *rule, uint64_t since_us, const char *host_glob,
			  int (*fn)(const struct metric_sample *s, void *ctx), void *ctx);
int pgderived_logmetric_recent(PGconn *c, const char *metric, uint64_t since, uint64_t until,
			       int (*fn)(const struct logmetric_part *p, void *ctx), void *ctx);
/*
 * Dial test id's runs from until back to since, newest first, at most
 * limit: fn(its result (JSON), its time, ctx) until fn answers non-zero.
 * They are kept with the blocks: pgderived_retention() deletes those before
 * day cutoff, as the blocks' partitions of those days are dropped.
 */
int pgderived_dialtest_results(PGconn *c, int64_t id, uint64_t since, uint64_t until, size_t limit,
			       int (*fn)(const char *result, uint64_t ts, void *ctx), void *ctx);
int pgderived_retention(PGconn *c, uint32_t cutoff);

#endif
