/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/logmatch.h"
#include "common/macro.h"
#include "common/util.h"
#include "search/logmetric.h"
#include "store/pgderived.h"
#include "store/pgrows.h"

/*
 * The history a reader pages through (a probe's results, a metric's
 * series), kept as long as the blocks: partitions by day of ingest,
 * dropped with the blocks' (pgderived_retention()). One index each, by
 * agent: a host's rows are its agents' (pgderived.h). A row per probe
 * result and metric value is most of what the database holds: the agent
 * as its 16 bytes, not their hex; a probe's result without the host
 * name, which its history does not show.
 */
static const char *const history_tables[] = { "probe_results", "metric_points" };

int pgderived_schema(PGconn *c)
{
	/*
	 * metric_latest is rewritten at every sample: no index but its key and
	 * room left in each page, so an update stays in its page (a HOT update)
	 * and the table does not grow with dead rows between vacuums. A rule
	 * reads it whole (agents × instances rows).
	 */
	static const char sql[] =
		"CREATE TABLE IF NOT EXISTS metric_latest(agent text NOT NULL, name text NOT NULL, instance text NOT NULL,"
		" host text NOT NULL, ts bigint NOT NULL, value double precision NOT NULL,"
		" PRIMARY KEY (agent, name, instance)) WITH (fillfactor = 50);"
		"CREATE TABLE IF NOT EXISTS log_matches(rule text NOT NULL, agent text NOT NULL, host text NOT NULL,"
		" ts_first bigint NOT NULL, ts_last bigint NOT NULL, count bigint NOT NULL, sample text NOT NULL);"
		"CREATE INDEX IF NOT EXISTS log_matches_by_rule ON log_matches(rule, ts_last);"
		"CREATE TABLE IF NOT EXISTS logmetric_rows(metric text NOT NULL, agent text NOT NULL, host text NOT NULL,"
		" labels text NOT NULL, ts bigint NOT NULL, ts_last bigint NOT NULL, count bigint NOT NULL,"
		" sum double precision NOT NULL, sketch bytea);"
		"CREATE INDEX IF NOT EXISTS logmetric_rows_by_metric ON logmetric_rows(metric, ts_last);"
		"CREATE TABLE IF NOT EXISTS dialtest_results(test bigint NOT NULL, ts bigint NOT NULL, agent text NOT NULL,"
		" host text NOT NULL, name text NOT NULL, outcome text NOT NULL, latency_us bigint NOT NULL,"
		" result text NOT NULL);"
		"CREATE INDEX IF NOT EXISTS dialtest_results_by_test ON dialtest_results(test, ts);"
		"CREATE TABLE IF NOT EXISTS probe_results(day integer NOT NULL, agent bytea NOT NULL, name text NOT NULL,"
		" ts bigint NOT NULL, type text NOT NULL, status text NOT NULL, latency_us bigint NOT NULL,"
		" message text NOT NULL) PARTITION BY RANGE (day);"
		"CREATE INDEX IF NOT EXISTS probe_results_by_probe ON probe_results(agent, name, ts);"
		"CREATE TABLE IF NOT EXISTS metric_points(day integer NOT NULL, agent bytea NOT NULL, host text NOT NULL,"
		" name text NOT NULL, instance text NOT NULL, ts bigint NOT NULL, value double precision NOT NULL)"
		" PARTITION BY RANGE (day);"
		"CREATE INDEX IF NOT EXISTS metric_points_by_name ON metric_points(name, agent, ts)";

	return pg_schema(c, sql);
}

int pgderived_prepare_day(PGconn *c, const struct pg_dialect *d, uint32_t day)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(history_tables); i++)
		r = pg_partition_make(c, d, history_tables[i], day);
	return r;
}

/* A double as PostgreSQL's float8 takes it: its own words for what is not a number. */
static int array_real(struct buf *col, double v)
{
	char s[32];

	if (isnan(v))
		(void)snprintf(s, sizeof(s), "NaN");
	else if (isinf(v))
		(void)snprintf(s, sizeof(s), "%sInfinity", v < 0 ? "-" : "");
	else
		(void)snprintf(s, sizeof(s), "%.17g", v);
	return pg_array_text(col, s, strlen(s));
}

static int metric_key(const struct pgrow *a, const struct pgrow *b)
{
	const struct metric_row *m = a->item, *n = b->item;
	size_t common = MIN(m->instance_len, n->instance_len);
	int k = memcmp(a->b->agent, b->b->agent, AGENT_ID_SIZE);

	if (k == 0)
		k = strcmp(m->name, n->name);
	if (k == 0)
		k = common ? memcmp(m->instance, n->instance, common) : 0;
	return k ? k : (m->instance_len > n->instance_len) - (m->instance_len < n->instance_len);
}

static int add_metric(struct buf *col, const struct pgrow *row)
{
	const struct metric_row *m = row->item;
	int r = pgrows_agent_column(&col[0], row->b);

	if (r == 0)
		r = pg_array_text(&col[1], m->name, strlen(m->name));
	if (r == 0)
		r = pg_array_text(&col[2], m->instance ? m->instance : "", m->instance ? m->instance_len : 0);
	if (r == 0)
		r = pgrows_host_column(&col[3], row->b);
	if (r == 0)
		r = pg_array_int(&col[4], (long long)m->ts);
	return r == 0 ? array_real(&col[5], m->value) : r;
}

static uint64_t metric_time(const struct pgrow *row)
{
	return ((const struct metric_row *)row->item)->ts;
}

/* A later value of an instance replaces the one kept; an earlier one (sent late) changes nothing. */
static const struct pgrows_statement metric_latest = {
	"INSERT INTO metric_latest AS m (agent, name, instance, host, ts, value)"
	" SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::float8[])"
	" ON CONFLICT (agent, name, instance) DO UPDATE SET host = excluded.host, ts = excluded.ts,"
	" value = excluded.value WHERE excluded.ts >= m.ts",
	6, add_metric, metric_key, metric_time
};

/* A log rule's matches in a block: the item is the index of the rule in the block's logmatch. */
static int add_match(struct buf *col, const struct pgrow *row)
{
	size_t i = (size_t)((const struct logmatch_hit *)row->item - row->b->hits);
	const struct logmatch_hit *h = row->item;
	const char *rule = logmatch_name(row->b->logmatch, i);
	int r = pg_array_text(&col[0], rule, strlen(rule));

	if (r == 0)
		r = pgrows_agent_column(&col[1], row->b);
	if (r == 0)
		r = pgrows_host_column(&col[2], row->b);
	if (r == 0)
		r = pg_array_int(&col[3], (long long)h->ts_first);
	if (r == 0)
		r = pg_array_int(&col[4], (long long)h->ts_last);
	if (r == 0)
		r = pg_array_int(&col[5], (long long)h->count);
	return r == 0 ? pg_array_text(&col[6], h->sample, strnlen(h->sample, sizeof(h->sample))) : r;
}

static const struct pgrows_statement log_matches = {
	"INSERT INTO log_matches(rule, agent, host, ts_first, ts_last, count, sample)"
	" SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[])",
	7, add_match, NULL, NULL
};

static int add_logmetric(struct buf *col, const struct pgrow *row)
{
	const struct logmetric_row *m = row->item;
	int r = pg_array_text(&col[0], m->metric, strlen(m->metric));

	if (r == 0)
		r = pgrows_agent_column(&col[1], row->b);
	if (r == 0)
		r = pgrows_host_column(&col[2], row->b);
	if (r == 0)
		r = pg_array_text(&col[3], m->labels, strlen(m->labels));
	if (r == 0)
		r = pg_array_int(&col[4], (long long)m->ts);
	if (r == 0)
		r = pg_array_int(&col[5], (long long)m->ts_last);
	if (r == 0)
		r = pg_array_int(&col[6], (long long)m->count);
	if (r == 0)
		r = array_real(&col[7], m->sum);
	return r == 0 ? pg_array_bytes(&col[8], m->sketch, m->sketch_len) : r;
}

static const struct pgrows_statement logmetric_rows = {
	"INSERT INTO logmetric_rows(metric, agent, host, labels, ts, ts_last, count, sum, sketch)"
	" SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[],"
	" $7::bigint[], $8::float8[], $9::bytea[])",
	9, add_logmetric, NULL, NULL
};

/* A dial test's run: the item is its probe row (one with a result). */
static int add_dialtest(struct buf *col, const struct pgrow *row)
{
	const struct probe_row *p = row->item;
	int r = pg_array_int(&col[0], (long long)p->dialtest_id);

	if (r == 0)
		r = pg_array_int(&col[1], (long long)p->ts);
	if (r == 0)
		r = pgrows_agent_column(&col[2], row->b);
	if (r == 0)
		r = pgrows_host_column(&col[3], row->b);
	if (r == 0)
		r = pg_array_text(&col[4], p->name, p->name_len);
	if (r == 0)
		r = pg_array_text(&col[5], p->outcome ? p->outcome : "", p->outcome ? p->outcome_len : 0);
	if (r == 0)
		r = pg_array_int(&col[6], (long long)p->latency_us);
	return r == 0 ? pg_array_text(&col[7], p->result, p->result_len) : r;
}

static const struct pgrows_statement dialtest_results = {
	"INSERT INTO dialtest_results(test, ts, agent, host, name, outcome, latency_us, result)"
	" SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],"
	" $7::bigint[], $8::text[])",
	8, add_dialtest, NULL, NULL
};

static int add_point(struct buf *col, const struct pgrow *row)
{
	const struct metric_row *m = row->item;
	int r = pg_array_int(&col[0], row->day);

	if (r == 0)
		r = pg_array_bytes(&col[1], row->b->agent, AGENT_ID_SIZE);
	if (r == 0)
		r = pgrows_host_column(&col[2], row->b);
	if (r == 0)
		r = pg_array_text(&col[3], m->name, strlen(m->name));
	if (r == 0)
		r = pg_array_text(&col[4], m->instance ? m->instance : "", m->instance ? m->instance_len : 0);
	if (r == 0)
		r = pg_array_int(&col[5], (long long)m->ts);
	return r == 0 ? array_real(&col[6], m->value) : r;
}

static const struct pgrows_statement metric_points = {
	"INSERT INTO metric_points(day, agent, host, name, instance, ts, value)"
	" SELECT * FROM unnest($1::integer[], $2::bytea[], $3::text[], $4::text[], $5::text[], $6::bigint[],"
	" $7::float8[])",
	7, add_point, NULL, NULL
};

static int add_probe(struct buf *col, const struct pgrow *row)
{
	const struct probe_row *p = row->item;
	int r = pg_array_int(&col[0], row->day);

	if (r == 0)
		r = pg_array_bytes(&col[1], row->b->agent, AGENT_ID_SIZE);
	if (r == 0)
		r = pg_array_text(&col[2], p->name, p->name_len);
	if (r == 0)
		r = pg_array_int(&col[3], (long long)p->ts);
	if (r == 0)
		r = pg_array_text(&col[4], p->type ? p->type : "", p->type ? p->type_len : 0);
	if (r == 0)
		r = pg_array_text(&col[5], p->status ? p->status : "", p->status ? p->status_len : 0);
	if (r == 0)
		r = pg_array_int(&col[6], (long long)p->latency_us);
	return r == 0 ? pg_array_text(&col[7], p->message ? p->message : "", p->message ? p->message_len : 0) : r;
}

static const struct pgrows_statement probe_results = {
	"INSERT INTO probe_results(day, agent, name, ts, type, status, latency_us, message)"
	" SELECT * FROM unnest($1::integer[], $2::bytea[], $3::text[], $4::bigint[], $5::text[], $6::text[],"
	" $7::bigint[], $8::text[])",
	8, add_probe, NULL, NULL
};

/* The rows a kind takes of a block: how many items it has, and the i-th (NULL: it adds no row). */
struct kind {
	const struct pgrows_statement *st;
	size_t (*count)(const struct block_in *b);
	const void *(*item)(const struct block_in *b, size_t i);
};

static size_t n_metrics(const struct block_in *b)
{
	return b->n_metrics;
}

static const void *metric_item(const struct block_in *b, size_t i)
{
	return &b->metrics[i];
}

static size_t n_rules(const struct block_in *b)
{
	return b->logmatch ? logmatch_count(b->logmatch) : 0;
}

static const void *match_item(const struct block_in *b, size_t i)
{
	return b->hits[i].count ? &b->hits[i] : NULL;
}

static size_t n_logmetric_rows(const struct block_in *b)
{
	return b->n_logmetric_rows;
}

static const void *logmetric_item(const struct block_in *b, size_t i)
{
	return &b->logmetric_rows[i];
}

static size_t n_probes(const struct block_in *b)
{
	return b->n_probes;
}

static const void *probe_item(const struct block_in *b, size_t i)
{
	return &b->probes[i];
}

static const void *dialtest_item(const struct block_in *b, size_t i)
{
	return b->probes[i].result ? &b->probes[i] : NULL;
}

static const struct kind kinds[] = {
	{ &metric_latest, n_metrics, metric_item },
	{ &log_matches, n_rules, match_item },
	{ &logmetric_rows, n_logmetric_rows, logmetric_item },
	{ &dialtest_results, n_probes, dialtest_item },
	{ &metric_points, n_metrics, metric_item },
	{ &probe_results, n_probes, probe_item },
};

/* The rows of kind k of the blocks stored now, in the order of the group. */
static int group_kind(PGconn *c, const struct kind *k, struct block_in *const *blocks, size_t n, uint32_t day)
{
	size_t m = 0, order = 0;
	struct pgrow *rows;
	int r;

	for (size_t i = 0; i < n; i++)
		m += blocks[i]->result == BLOCK_STORED ? k->count(blocks[i]) : 0;
	if (m == 0)
		return 0;
	rows = calloc(m, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	m = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; blocks[i]->result == BLOCK_STORED && j < k->count(blocks[i]); j++) {
			const void *item = k->item(blocks[i], j);

			if (item)
				rows[m++] = (struct pgrow){ .b = blocks[i], .item = item, .day = day, .order = order++ };
		}
	r = pgrows_run(c, k->st, rows, m);
	free(rows);
	return r;
}

int pgderived_group(PGconn *c, uint32_t day, struct block_in *const *blocks, size_t n)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(kinds); i++)
		r = group_kind(c, &kinds[i], blocks, n, day);
	return r;
}

int pgderived_prune(PGconn *c, uint64_t now_us)
{
	const struct pg_num before = pg_num((long long)(now_us > PGDERIVED_KEEP_US ? now_us - PGDERIVED_KEEP_US : 0));
	const struct pg_param p[] = { PG_TEXT(before.s) };
	int r = pg_run(c, "DELETE FROM metric_latest WHERE ts < $1::bigint", p, 1, NULL);

	return r == 0 ? pg_run(c, "DELETE FROM log_matches WHERE ts_last < $1::bigint", p, 1, NULL) : r;
}

/* Rows of (agent, host, instance, value, line) whose host and instance pass the globs, into fn. */
static int each_sample(PGresult *res, const char *host_glob, const char *instance_glob,
		       int (*fn)(const struct metric_sample *s, void *ctx), void *ctx)
{
	int r = 0;

	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		struct metric_sample s = { .agent = PQgetvalue(res, i, 0), .host = PQgetvalue(res, i, 1),
					   .instance = PQgetvalue(res, i, 2), .value = strtod(PQgetvalue(res, i, 3), NULL),
					   .line = PQgetvalue(res, i, 4), .ts = (uint64_t)pg_int(res, i, 5) };

		if (pgrows_glob_passes(host_glob, s.host) && pgrows_glob_passes(instance_glob, s.instance))
			r = fn(&s, ctx);
	}
	return r;
}

int pgderived_metric_latest(PGconn *c, const char *name, uint64_t since_us, const char *host_glob,
			    const char *instance_glob, int (*fn)(const struct metric_sample *s, void *ctx), void *ctx)
{
	char host_like[512], instance_like[512];
	const struct pg_num since = pg_num((long long)since_us);
	const struct pg_param p[] = { PG_TEXT(name), PG_TEXT(since.s), PG_TEXT(host_like), PG_TEXT(instance_like) };
	PGresult *res = NULL;
	int r;

	pgrows_like_of_glob(host_glob, host_like, sizeof(host_like));
	pgrows_like_of_glob(instance_glob, instance_like, sizeof(instance_like));
	r = pg_run(c, "SELECT agent, host, instance, value, '', ts FROM metric_latest WHERE name = $1 AND ts >= $2::bigint"
		      " AND host LIKE $3 AND instance LIKE $4 ORDER BY ts",
		   p, ARRAY_SIZE(p), &res);
	if (r == 0)
		r = each_sample(res, host_glob, instance_glob, fn, ctx);
	PQclear(res);
	return r;
}

int pgderived_log_matches(PGconn *c, const char *rule, uint64_t since_us, const char *host_glob,
			  int (*fn)(const struct metric_sample *s, void *ctx), void *ctx)
{
	char host_like[512];
	const struct pg_num since = pg_num((long long)since_us);
	const struct pg_param p[] = { PG_TEXT(rule), PG_TEXT(since.s), PG_TEXT(host_like) };
	PGresult *res = NULL;
	int r;

	/*
	 * Per agent and host (the glob decides on the host in C), the latest
	 * group last: whoever sums an agent's groups keeps the newest line.
	 */
	pgrows_like_of_glob(host_glob, host_like, sizeof(host_like));
	r = pg_run(c, "SELECT agent, host, '', sum(count), (array_agg(sample ORDER BY ts_last DESC))[1], max(ts_last)"
		      " FROM log_matches"
		      " WHERE rule = $1 AND ts_last >= $2::bigint AND host LIKE $3 GROUP BY agent, host"
		      " ORDER BY max(ts_last)",
		   p, ARRAY_SIZE(p), &res);
	if (r == 0)
		r = each_sample(res, host_glob, NULL, fn, ctx);
	PQclear(res);
	return r;
}

int pgderived_retention(PGconn *c, uint32_t cutoff)
{
	const struct pg_num before = pg_num((long long)cutoff * 86400 * 1000000);
	const struct pg_param p[] = { PG_TEXT(before.s) };
	int r = pg_run(c, "DELETE FROM dialtest_results WHERE ts < $1::bigint", p, 1, NULL);

	if (r == 0)
		r = pg_run(c, "DELETE FROM logmetric_rows WHERE ts_last < $1::bigint", p, 1, NULL);
	for (size_t t = 0; r == 0 && t < ARRAY_SIZE(history_tables); t++) {
		PGresult *res = NULL;

		r = pg_partitions_before(c, history_tables[t], cutoff, &res);
		for (int i = 0; r == 0 && i < PQntuples(res); i++)
			r = pg_partition_drop(c, history_tables[t], (uint32_t)pg_int(res, i, 0));
		PQclear(res);
	}
	return r;
}

int pgderived_dialtest_results(PGconn *c, int64_t id, uint64_t since, uint64_t until, size_t limit,
			       int (*fn)(const struct dialtest_run_row *run, void *ctx), void *ctx)
{
	const struct pg_num i = pg_num(id), s = pg_num((long long)since), u = pg_num((long long)until),
			    n = pg_num((long long)MIN(limit, (size_t)INT32_MAX));
	const struct pg_param p[] = { PG_TEXT(i.s), PG_TEXT(s.s), PG_TEXT(u.s), PG_TEXT(n.s) };
	PGresult *res = NULL;
	int r = pg_run(c, "SELECT result, ts, agent, host FROM dialtest_results WHERE test = $1::bigint"
			  " AND ts >= $2::bigint AND ts <= $3::bigint ORDER BY ts DESC LIMIT $4::bigint",
		       p, ARRAY_SIZE(p), &res);

	for (int k = 0; r == 0 && k < PQntuples(res); k++) {
		const struct dialtest_run_row run = { PQgetvalue(res, k, 0), (uint64_t)pg_int(res, k, 1),
						      PQgetvalue(res, k, 2), PQgetvalue(res, k, 3) };
		r = fn(&run, ctx);
	}
	PQclear(res);
	return r < 0 ? r : 0;
}

int pgderived_logmetric_rows(PGconn *c, const char *metric, const char *agents, uint64_t since, uint64_t until,
			     bool recent, int (*fn)(const struct logmetric_part *p, void *ctx), void *ctx)
{
	const struct pg_num s = pg_num((long long)since), u = pg_num((long long)until);
	const struct pg_param p[] = { PG_TEXT(metric), PG_TEXT(s.s), PG_TEXT(u.s), PG_TEXT(agents) };
	PGresult *res = NULL;
	/* A step's last record is never before its start: ts_last >= since narrows by the index either way. */
	int r = pg_run(c, recent ? "SELECT agent, host, labels, ts, count, sketch FROM logmetric_rows"
				   " WHERE metric = $1 AND ts_last >= $2::bigint AND ts <= $3::bigint"
				   " AND ($4::text[] IS NULL OR agent = ANY($4::text[]))"
				 : "SELECT agent, host, labels, ts, count, sketch FROM logmetric_rows"
				   " WHERE metric = $1 AND ts_last >= $2::bigint AND ts >= $2::bigint AND ts <= $3::bigint"
				   " AND ($4::text[] IS NULL OR agent = ANY($4::text[]))",
		       p, ARRAY_SIZE(p), &res);

	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		size_t len = 0;
		unsigned char *sketch = PQgetisnull(res, i, 5) ? NULL :
				       PQunescapeBytea((const unsigned char *)PQgetvalue(res, i, 5), &len);
		struct logmetric_part part = { .agent = PQgetvalue(res, i, 0), .host = PQgetvalue(res, i, 1),
					       .labels = PQgetvalue(res, i, 2), .ts = (uint64_t)pg_int(res, i, 3),
					       .count = (uint64_t)pg_int(res, i, 4), .sketch = sketch,
					       .sketch_len = len };

		r = PQgetisnull(res, i, 5) || sketch ? fn(&part, ctx) : -ENOMEM;
		PQfreemem(sketch);
	}
	PQclear(res);
	return r;
}

int pgderived_probe_history(PGconn *c, const char *agents, const char *name, uint64_t since, uint64_t until,
			    size_t limit, int (*fn)(const struct probe_result *p, void *ctx), void *ctx)
{
	char valid[UTF8_VALID_SIZE(512)];
	const struct pg_num s = pg_num((long long)since), u = pg_num((long long)until),
			    n = pg_num((long long)MIN(limit, (size_t)INT32_MAX));
	const struct pg_param p[] = { PG_TEXT(agents), PG_TEXT(utf8_valid_copy(name, strnlen(name, 512), valid, sizeof(valid))),
				      PG_TEXT(s.s), PG_TEXT(u.s), PG_TEXT(n.s) };
	PGresult *res = NULL;
	int r = pg_run(c, "SELECT ts, status, latency_us, message, type FROM probe_results"
			  " WHERE agent IN (SELECT decode(a, 'hex') FROM unnest($1::text[]) a) AND name = $2 AND ts >= $3::bigint"
			  " AND ($4::bigint = 0 OR ts <= $4::bigint) ORDER BY ts LIMIT $5::bigint",
		       p, ARRAY_SIZE(p), &res);

	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		struct probe_result pr = { .ts = (uint64_t)pg_int(res, i, 0), .status = PQgetvalue(res, i, 1),
					   .status_len = (size_t)PQgetlength(res, i, 1), .latency_us = pg_int(res, i, 2),
					   .message = PQgetvalue(res, i, 3), .message_len = (size_t)PQgetlength(res, i, 3),
					   .type = PQgetvalue(res, i, 4), .type_len = (size_t)PQgetlength(res, i, 4) };

		r = fn(&pr, ctx);
	}
	PQclear(res);
	return r < 0 ? r : 0;
}

int pgderived_metric_buckets(PGconn *c, const char *name, const char *agents, uint64_t since, uint64_t until,
			     uint64_t step, int (*fn)(const struct metric_bucket *m, void *ctx), void *ctx)
{
	const struct pg_num s = pg_num((long long)since), u = pg_num((long long)until), w = pg_num((long long)step);
	const struct pg_param p[] = { PG_TEXT(name), PG_TEXT(agents), PG_TEXT(s.s), PG_TEXT(u.s), PG_TEXT(w.s) };
	PGresult *res = NULL;
	int r = pg_run(c, "SELECT host, instance, (ts / $5::bigint) * $5::bigint, sum(value), min(value), max(value),"
			  " count(*) FROM metric_points WHERE name = $1"
			  " AND ($2::text[] IS NULL OR agent IN (SELECT decode(a, 'hex') FROM unnest($2::text[]) a))"
			  " AND ts >= $3::bigint AND ts <= $4::bigint GROUP BY 1, 2, 3",
		       p, ARRAY_SIZE(p), &res);

	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		struct metric_bucket m = { .host = PQgetvalue(res, i, 0), .instance = PQgetvalue(res, i, 1),
					   .bucket = pg_int(res, i, 2), .sum = strtod(PQgetvalue(res, i, 3), NULL),
					   .min = strtod(PQgetvalue(res, i, 4), NULL),
					   .max = strtod(PQgetvalue(res, i, 5), NULL), .count = pg_int(res, i, 6) };

		r = fn(&m, ctx);
	}
	PQclear(res);
	return r;
}

int pgderived_metric_known(PGconn *c, const char *name, bool log)
{
	const struct pg_param p[] = { PG_TEXT(name) };
	PGresult *res = NULL;
	int r = pg_run(c, log ? "SELECT 1 FROM logmetric_rows WHERE metric = $1 LIMIT 1"
			      : "SELECT 1 FROM metric_points WHERE name = $1 LIMIT 1",
		       p, 1, &res);

	if (r == 0)
		r = PQntuples(res) == 1;
	PQclear(res);
	return r;
}
