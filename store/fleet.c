/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "store/fleet.h"
#include "store/pgstore.h"

int fleet_hosts_each(struct storage_reader *r, const struct host_filter *f,
		     int (*fn)(const struct host_row *h, void *ctx), void *ctx)
{
	struct pgstore *pg = NULL;
	int k = storage_reader_shared(r, &pg);

	if (k < 0)
		return k;
	return k ? pgstore_hosts_each(pg, f, fn, ctx) : hosts_each(storage_reader_meta(r), f, fn, ctx);
}

int fleet_probes_each(struct storage_reader *r, const struct probe_state_filter *f,
		      int (*fn)(const struct probe_state_row *p, void *ctx), void *ctx)
{
	struct pgstore *pg = NULL;
	int k = storage_reader_shared(r, &pg);

	if (k < 0)
		return k;
	return k ? pgstore_probes_each(pg, f, fn, ctx) : hosts_probes_each(storage_reader_meta(r), f, fn, ctx);
}

int fleet_conflicts_each(struct storage_reader *r, const char *agent, uint64_t since_us,
			 int (*fn)(const struct agent_conflict *c, void *ctx), void *ctx)
{
	struct pgstore *pg = NULL;
	int k = storage_reader_shared(r, &pg);

	if (k < 0)
		return k;
	return k ? pgstore_conflicts_each(pg, agent, since_us, fn, ctx)
		 : hosts_conflicts_each(storage_reader_meta(r), agent, since_us, fn, ctx);
}

/* A reader's call on each shard of its own store (blocks.h's readers take a shard each). */
struct shard_read {
	const char *name, *host, *host_glob, *instance_glob;
	int64_t id; /* a dial test's */
	uint64_t since, until, step;
	bool recent, log;
	size_t limit, n; /* results: at most limit, n so far */
	int stopped;     /* fn's non-zero answer */
	int (*sample)(const struct metric_sample *s, void *ctx);
	int (*part)(const struct logmetric_part *p, void *ctx);
	int (*probe)(const struct probe_result *p, void *ctx);
	int (*bucket)(const struct metric_bucket *m, void *ctx);
	int (*result)(const struct dialtest_run_row *run, void *ctx);
	void *ctx;
};

/* One result more given to the reader, which answered answer: whether the shards' walk stops there. */
static int taken(struct shard_read *q, int answer)
{
	q->n++;
	q->stopped = answer;
	return q->stopped || q->n >= q->limit;
}

static int shard_latest(sqlite3 *shard, void *ctx)
{
	const struct shard_read *q = ctx;

	return shard ? blocks_metric_latest(shard, q->name, q->since, q->host_glob, q->instance_glob, q->sample, q->ctx) : 0;
}

static int shard_matches(sqlite3 *shard, void *ctx)
{
	const struct shard_read *q = ctx;

	return shard ? blocks_log_matches(shard, q->name, q->since, q->host_glob, q->sample, q->ctx) : 0;
}

static int shard_logmetric(sqlite3 *shard, void *ctx)
{
	const struct shard_read *q = ctx;

	if (!shard)
		return q->recent ? 0 : -EIO;
	return blocks_logmetric_rows(shard, q->name, q->host, q->since, q->until, q->recent, q->part, q->ctx);
}

int fleet_metric_latest(struct storage_reader *r, const char *name, uint64_t since_us, const char *host_glob,
			const char *instance_glob, int (*fn)(const struct metric_sample *s, void *ctx), void *ctx)
{
	struct shard_read q = { .name = name, .host_glob = host_glob, .instance_glob = instance_glob, .since = since_us,
				.sample = fn, .ctx = ctx };
	struct pgstore *pg = NULL;
	int k = storage_reader_shared(r, &pg);

	if (k < 0)
		return k;
	return k ? pgstore_metric_latest(pg, name, since_us, host_glob, instance_glob, fn, ctx)
		 : storage_reader_each_shard(r, since_us, 0, false, shard_latest, &q);
}

int fleet_log_matches(struct storage_reader *r, const char *rule, uint64_t since_us, const char *host_glob,
		      int (*fn)(const struct metric_sample *s, void *ctx), void *ctx)
{
	struct shard_read q = { .name = rule, .host_glob = host_glob, .since = since_us, .sample = fn, .ctx = ctx };
	struct pgstore *pg = NULL;
	int k = storage_reader_shared(r, &pg);

	if (k < 0)
		return k;
	return k ? pgstore_log_matches(pg, rule, since_us, host_glob, fn, ctx)
		 : storage_reader_each_shard(r, since_us, 0, false, shard_matches, &q);
}

int fleet_logmetric_rows(struct storage_reader *r, const char *metric, const char *host, uint64_t since,
			 uint64_t until, bool recent, int (*fn)(const struct logmetric_part *p, void *ctx), void *ctx)
{
	struct shard_read q = { .name = metric, .host = host, .since = since, .until = until, .recent = recent,
				.part = fn, .ctx = ctx };
	struct pgstore *pg = NULL;
	int k = storage_reader_shared(r, &pg);

	if (k < 0)
		return k;
	/* A rule's window: the shards stored since its start, whatever the steps' ends. */
	return k ? pgstore_logmetric_rows(pg, metric, host, since, until, recent, fn, ctx)
		 : storage_reader_each_shard(r, since, recent ? 0 : until, false, shard_logmetric, &q);
}

static int take_probe(const struct probe_result *p, void *ctx)
{
	struct shard_read *q = ctx;

	return taken(q, q->probe(p, q->ctx));
}

static int shard_history(sqlite3 *shard, void *ctx)
{
	struct shard_read *q = ctx;

	if (shard)
		(void)blocks_probe_history(shard, q->host, q->name, q->since, q->until, take_probe, q);
	return q->n >= q->limit || q->stopped;
}

int fleet_probe_history(struct storage_reader *r, const char *host, const char *name, uint64_t since, uint64_t until,
			size_t limit, int (*fn)(const struct probe_result *p, void *ctx), void *ctx)
{
	struct shard_read q = { .name = name, .host = host, .since = since, .until = until, .limit = limit,
				.probe = fn, .ctx = ctx };
	struct pgstore *pg = NULL;
	int k = storage_reader_shared(r, &pg);

	if (k < 0)
		return k;
	if (k)
		return pgstore_probe_history(pg, host, name, since, until, limit, fn, ctx);
	k = storage_reader_each_shard(r, since, until, false, shard_history, &q);
	return k < 0 ? k : 0;
}

static int shard_buckets(sqlite3 *shard, void *ctx)
{
	const struct shard_read *q = ctx;

	return shard ? blocks_metric_buckets(shard, q->name, q->host, q->since, q->until, q->step, q->bucket, q->ctx)
		     : -EIO;
}

int fleet_metric_buckets(struct storage_reader *r, const char *name, const char *host, uint64_t since, uint64_t until,
			 uint64_t step, int (*fn)(const struct metric_bucket *m, void *ctx), void *ctx)
{
	struct shard_read q = { .name = name, .host = host, .since = since, .until = until, .step = step, .bucket = fn,
				.ctx = ctx };
	struct pgstore *pg = NULL;
	int k = storage_reader_shared(r, &pg);

	if (k < 0)
		return k;
	return k ? pgstore_metric_buckets(pg, name, host, since, until, step, fn, ctx)
		 : storage_reader_each_shard(r, since, until, false, shard_buckets, &q);
}

static int shard_knows(sqlite3 *shard, void *ctx)
{
	const struct shard_read *q = ctx;

	return shard && blocks_metric_known(shard, q->name, q->log);
}

int fleet_metric_known(struct storage_reader *r, const char *name, bool log)
{
	struct shard_read q = { .name = name, .log = log };
	struct pgstore *pg = NULL;
	int k = storage_reader_shared(r, &pg);

	if (k < 0)
		return k;
	return k ? pgstore_metric_known(pg, name, log) : storage_reader_each_shard(r, 0, 0, true, shard_knows, &q) > 0;
}

/* Dial test results over this collector's shards, newest first: the limit counted across them. */
static int take_result(const struct dialtest_run_row *run, void *ctx)
{
	struct shard_read *q = ctx;

	return taken(q, q->result(run, q->ctx));
}

static int shard_results(sqlite3 *shard, void *ctx)
{
	struct shard_read *q = ctx;

	if (shard)
		(void)blocks_dialtest_results(shard, q->id, q->since, q->until, q->limit - q->n, take_result, q);
	return q->n >= q->limit || q->stopped;
}

int fleet_dialtest_results(struct storage_reader *r, int64_t id, uint64_t since, uint64_t until, size_t limit,
			   int (*fn)(const struct dialtest_run_row *run, void *ctx), void *ctx)
{
	struct shard_read q = { .id = id, .since = since, .until = until, .limit = limit, .result = fn, .ctx = ctx };
	struct pgstore *pg = NULL;
	int k = storage_reader_shared(r, &pg);

	if (k < 0)
		return k;
	if (k)
		return pgstore_dialtest_results(pg, id, since, until, limit, fn, ctx);
	k = storage_reader_each_shard(r, since, until, true, shard_results, &q);
	return k < 0 ? k : 0;
}
