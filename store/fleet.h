/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_FLEET_H
#define VIGIL_FLEET_H

#include <stdbool.h>
#include <stdint.h>

#include "store/blocks.h"
#include "store/hosts.h"
#include "store/storage.h"

/*
 * The fleet's state as the API shows it: from the store the collectors
 * share when there is one (every collector's hosts: pgstore.h), else from
 * this collector's meta.db (hosts.h). The same rows and filters either
 * way; the shared store out of reach is its connection's error (-ECONNREFUSED,
 * -EPIPE, ...), never an empty fleet.
 */
int fleet_hosts_each(struct storage_reader *r, const struct host_filter *f,
		     int (*fn)(const struct host_row *h, void *ctx), void *ctx);
int fleet_probes_each(struct storage_reader *r, const struct probe_state_filter *f,
		      int (*fn)(const struct probe_state_row *p, void *ctx), void *ctx);
int fleet_conflicts_each(struct storage_reader *r, const char *agent, uint64_t since_us,
			 int (*fn)(const struct agent_conflict *c, void *ctx), void *ctx);

/*
 * What the alert rules read of the rows derived from blocks (store/blocks.h's
 * readers): from the shared store, every collector's; else from each shard
 * of this collector's that may hold rows since the time given.
 */
int fleet_metric_latest(struct storage_reader *r, const char *name, uint64_t since_us, const char *host_glob,
			const char *instance_glob, int (*fn)(const struct metric_sample *s, void *ctx), void *ctx);
int fleet_log_matches(struct storage_reader *r, const char *rule, uint64_t since_us, const char *host_glob,
		      int (*fn)(const struct metric_sample *s, void *ctx), void *ctx);
int fleet_logmetric_rows(struct storage_reader *r, const char *metric, const char *host, uint64_t since,
			 uint64_t until, bool recent, int (*fn)(const struct logmetric_part *p, void *ctx), void *ctx);

/*
 * What the API pages through, as blocks.h's readers of a shard give it:
 * host's (its id or name; NULL: every host's) results of probe name, at
 * most limit, oldest first; a metric's buckets; whether a metric (log: a
 * log metric) has a point (1, 0 or -errno). From the shared store, every
 * collector's; else this collector's shards.
 */
int fleet_probe_history(struct storage_reader *r, const char *host, const char *name, uint64_t since, uint64_t until,
			size_t limit, int (*fn)(const struct probe_result *p, void *ctx), void *ctx);
int fleet_metric_buckets(struct storage_reader *r, const char *name, const char *host, uint64_t since, uint64_t until,
			 uint64_t step, int (*fn)(const struct metric_bucket *m, void *ctx), void *ctx);
int fleet_metric_known(struct storage_reader *r, const char *name, bool log);

/*
 * Dial test id's runs from until back to since, newest first, at most
 * limit (whichever collector made them, with a shared store), until fn
 * answers non-zero.
 */
int fleet_dialtest_results(struct storage_reader *r, int64_t id, uint64_t since, uint64_t until, size_t limit,
			   int (*fn)(const struct dialtest_run_row *run, void *ctx), void *ctx);

#endif
