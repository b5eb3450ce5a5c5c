/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_PGDERIVED_H
#define VIGIL_PGDERIVED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/blocks.h"
#include "store/pg.h"

/*
 * The rows derived from blocks, shared in PostgreSQL so that the collector
 * that evaluates (alerts/alerting.h) and every collector's API read what
 * every collector received: `metric_latest` (each agent's latest value of
 * each metric instance: all a metric rule asks), `log_matches` (a row per
 * block per log rule that matched in it), `logmetric_rows` (a row per
 * block per log metric series), `dialtest_results`, and the history:
 * `probe_results` and `metric_points`, as the shards keep them
 * (store/blocks.h). Written by every collector in the
 * transaction of its blocks, for the blocks stored there now (a duplicate
 * adds nothing). This file alone holds SQL that names them on
 * PostgreSQL.
 */

int pgderived_schema(PGconn *c);

/* What the n blocks of a group commit add, after pgblocks_store() gave each its shared result, in the caller's transaction. */
int pgderived_group(PGconn *c, uint32_t day, struct block_in *const *blocks, size_t n);

/* No rule looks further back (a log rule's window is at most a day): older latest values and matches go (pgderived_prune()). */
#define PGDERIVED_KEEP_US (25 * 3600 * UINT64_C(1000000))
int pgderived_prune(PGconn *c, uint64_t now_us);

/*
 * As blocks.h's blocks_metric_latest(), blocks_log_matches() and
 * blocks_logmetric_rows() over every collector's. A reader of a host's
 * rows names its agents (pghosts_agents_of(): an array parameter; NULL:
 * every host's).
 */
int pgderived_metric_latest(PGconn *c, const char *name, uint64_t since_us, const char *host_glob,
			    const char *instance_glob, int (*fn)(const struct metric_sample *s, void *ctx), void *ctx);
int pgderived_log_matches(PGconn *c, const char *rule, uint64_t since_us, const char *host_glob,
			  int (*fn)(const struct metric_sample *s, void *ctx), void *ctx);
int pgderived_logmetric_rows(PGconn *c, const char *metric, const char *agents, uint64_t since, uint64_t until,
			     bool recent, int (*fn)(const struct logmetric_part *p, void *ctx), void *ctx);
/*
 * Dial test id's runs from until back to since, newest first, at most
 * limit: fn(its result (JSON), its time, ctx) until fn answers non-zero.
 * They are kept with the blocks: pgderived_retention() deletes those before
 * day cutoff, as the blocks' partitions of those days are dropped.
 */
int pgderived_dialtest_results(PGconn *c, int64_t id, uint64_t since, uint64_t until, size_t limit,
			       int (*fn)(const struct dialtest_run_row *run, void *ctx), void *ctx);
int pgderived_retention(PGconn *c, uint32_t cutoff);

/*
 * The history readers page through, as blocks.h's blocks_probe_history()
 * (at most limit, oldest first), blocks_metric_buckets() and
 * blocks_metric_known() (1 or 0) give a shard's: `probe_results` and
 * `metric_points`, a row per result and value, in partitions by the day
 * the blocks were stored (pgderived_prepare_day() before the day's first,
 * outside the writing transaction), dropped with the blocks'
 * (pgderived_retention(), which also deletes the log metrics' rows and
 * the dial tests' results of those days).
 */
int pgderived_prepare_day(PGconn *c, const struct pg_dialect *d, uint32_t day);
int pgderived_probe_history(PGconn *c, const char *agents, const char *name, uint64_t since, uint64_t until,
			    size_t limit, int (*fn)(const struct probe_result *p, void *ctx), void *ctx);
int pgderived_metric_buckets(PGconn *c, const char *name, const char *agents, uint64_t since, uint64_t until,
			     uint64_t step, int (*fn)(const struct metric_bucket *m, void *ctx), void *ctx);
int pgderived_metric_known(PGconn *c, const char *name, bool log);

#endif
