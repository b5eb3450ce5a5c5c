/* SPDX-License-Identifier: Apache-2.0 */
/* What the security center reads: the logs, the integrity check, the audit log. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "api/audit.h"
#include "api/http-internal.h"
#include "api/http.h"
#include "api/pgaudit.h"
#include "common/conf.h"
#include "common/fields.h"
#include "common/json.h"
#include "common/macro.h"
#include "common/util.h"
#include "store/logquery.h"
#include "store/storage.h"

/* since=, until= and limit= (1..[http] max_limit) of a paged read; false after queuing the 400 in *answered. */
static bool range_args(struct request *rq, uint64_t *since, uint64_t *until, uint32_t *limit,
		       enum MHD_Result *answered)
{
	if (since_until_args(rq, since, until) < 0)
		*answered = respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", SINCE_UNTIL_HELP);
	else if (limit_arg(rq, limit) < 0)
		*answered = respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "limit: expected 1..%" PRIu64,
					  http_conf_of(rq)->max_limit);
	else
		return true;
	return false;
}

/* priority= (0..7, syslog's: records of that priority or more urgent) into q; false after queuing the 400. */
static bool priority_arg(struct request *rq, struct log_query *q, enum MHD_Result *answered)
{
	const char *v = arg(rq, "priority");
	uint64_t n;

	if (!v)
		return true;
	if (conf_parse_uint(v, &n) < 0 || n > 7) {
		*answered = respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request",
					  "priority: expected 0 (emerg) to 7 (debug): that priority and more urgent");
		return false;
	}
	q->by_priority = true;
	q->max_priority = (unsigned)n;
	return true;
}

/* Buckets a count answers at most. */
#define COUNT_BUCKETS_MAX 1000

/* The buckets of a count: since (default an hour ago) to until (default now) in steps of step= (default 1/60 of it). */
static bool count_args(struct request *rq, struct log_query *q, uint64_t *until, enum MHD_Result *answered)
{
	const char *step = arg(rq, "step");
	uint64_t now = now_realtime_us(), ms = 0, span;

	*until = 0;
	if (since_until_args(rq, &q->since, until) < 0) {
		*answered = respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", SINCE_UNTIL_HELP);
		return false;
	}
	if (!*until)
		*until = now;
	if (!q->since)
		q->since = *until > 3600 * USEC_PER_SEC ? *until - 3600 * USEC_PER_SEC : 0;
	span = *until > q->since ? *until - q->since : 0;
	if (step && (conf_parse_duration_ms(step, 1000, &ms) < 0 || ms == 0)) {
		*answered = respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "step: expected a duration (30s, 5m, 1h)");
		return false;
	}
	q->bucket_us = ms ? ms * 1000 : MAX(span / 60, USEC_PER_SEC);
	q->n_buckets = span / q->bucket_us + 1;
	if (!span || q->n_buckets > COUNT_BUCKETS_MAX) {
		*answered = respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request",
					  "since..until in steps of %" PRIu64 " s: expected 1 to %d buckets", q->bucket_us / USEC_PER_SEC,
					  COUNT_BUCKETS_MAX);
		return false;
	}
	q->until = *until;
	return true;
}

/* The query every log endpoint starts from: its filters and the collector's limits; limit the default. */
static struct log_query query_of(struct request *rq, uint32_t limit)
{
	const struct http_conf *c = http_conf_of(rq);

	return (struct log_query){ .host = arg(rq, "host"), .source = arg(rq, "source"), .kind = arg(rq, "kind"),
				   .limit = limit, .scan_budget = c->scan_budget, .threads = (unsigned)c->search_threads };
}

/* What a search and a count take alike: priority=, kind=, cursor=; false after queuing the 400. */
static bool query_args(struct request *rq, struct log_query *q, enum MHD_Result *answered)
{
	const char *cursor = arg(rq, "cursor");

	if (!priority_arg(rq, q, answered))
		return false;
	if (q->kind && !name_valid(q->kind, 64, "")) {
		*answered = respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request",
					  "kind: expected log, probe, metric, inventory, heartbeat or another VIGIL_KIND");
		return false;
	}
	q->has_cursor = cursor != NULL;
	if (cursor && log_cursor_parse(cursor, &q->after) < 0) {
		*answered = respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request",
					  "cursor: expected a next_cursor value from an earlier answer");
		return false;
	}
	return true;
}

/*
 * Runs q with q= parsed (search/query.h); where it stopped, as both answers give it
 * ({"next_cursor", "complete", "stopped", "scanned"}), into *progress, the cursor for the
 * audit log too. false after queuing the error.
 */
static bool query_run(struct request *rq, struct log_query *q, struct log_result *res, json_t **progress,
		      enum MHD_Result *answered)
{
	char next[64], err[256];
	struct query *match = NULL;
	int r = query_parse(arg(rq, "q") ? arg(rq, "q") : "", &match, err, sizeof(err));

	if (r == -EINVAL) {
		*answered = respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "q: %s (docs/logs.md)", err);
		return false;
	}
	q->match = match;
	if (r == 0)
		r = log_query_run(rq->rd, q, res);
	query_free(match);
	q->match = NULL;
	if (r == -ERANGE)
		*answered = respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request",
					  "cursor: %s is past the logs stored; it comes from no answer of this collector",
					  arg(rq, "cursor"));
	else if (r == -ECONNREFUSED || r == -EPIPE)
		*answered = respond_errno(rq, r, "log query failed");
	else if (r < 0)
		*answered = respond_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "log query failed: %s",
					  strerror(-r));
	if (r < 0)
		return false;
	log_cursor_format(&res->next, next, sizeof(next));
	(void)snprintf(rq->cursor_out, sizeof(rq->cursor_out), "%s", next);
	*progress = json_pack("{s:s, s:b, s:s?, s:{s:I, s:I, s:I, s:I, s:I}}", "next_cursor", next, "complete",
			      res->complete, "stopped", res->stopped, "scanned", "blocks", (json_int_t)res->blocks,
			      "bytes", (json_int_t)res->bytes, "records", (json_int_t)res->records, "skipped",
			      (json_int_t)res->skipped, "unindexed", (json_int_t)res->unindexed);
	return true;
}

/* The answer j (taken) with progress's members (taken). */
static enum MHD_Result respond_with_progress(struct request *rq, json_t *j, json_t *progress)
{
	if (j && progress)
		(void)json_object_update(j, progress);
	json_decref(progress);
	return respond_json(rq, MHD_HTTP_OK, j);
}

/* GET /api/v1/logs/count: matches per time bucket, for a chart above a search; in ingest order, by cursor when cut short. */
enum MHD_Result api_get_logs_count(struct request *rq)
{
	struct log_query q = query_of(rq, 1);
	struct log_result res;
	enum MHD_Result answered;
	uint64_t until, total = 0;
	json_t *buckets, *progress;
	bool ran;

	if (!count_args(rq, &q, &until, &answered) || !query_args(rq, &q, &answered))
		return answered;
	q.counts = calloc(q.n_buckets, sizeof(*q.counts));
	if (!q.counts)
		return respond_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
	ran = query_run(rq, &q, &res, &progress, &answered);
	if (!ran) {
		free(q.counts);
		return answered;
	}
	buf_free(&res.items);
	buckets = json_array();
	for (size_t i = 0; i < q.n_buckets; i++) {
		json_array_append_new(buckets, json_pack("[I, I]", (json_int_t)(q.since + i * q.bucket_us), (json_int_t)q.counts[i]));
		total += q.counts[i];
	}
	free(q.counts);
	return respond_with_progress(rq,
				     json_pack("{s:I, s:I, s:I, s:o, s:I}", "since", (json_int_t)q.since, "until",
					       (json_int_t)until, "step_ms", (json_int_t)(q.bucket_us / 1000), "buckets",
					       buckets, "total", (json_int_t)total),
				     progress);
}

/* Values GET /api/v1/logs/stats answers at most. */
#define STATS_TOP_MAX 100

/* by= into q: host, source, or a field (the query language's names: status is STATUS). false after the 400. */
static bool by_arg(struct request *rq, struct log_query *q, char key[EXPORT_KEY_MAX + 1], enum MHD_Result *answered)
{
	const char *by = arg(rq, "by");
	size_t n = strlen(by);

	q->by = strcmp(by, "host") == 0 ? LOG_BY_HOST : strcmp(by, "source") == 0 ? LOG_BY_SOURCE : LOG_BY_FIELD;
	for (size_t i = 0; i <= n && i <= EXPORT_KEY_MAX; i++)
		key[i] = by[i] >= 'a' && by[i] <= 'z' ? (char)(by[i] - 'a' + 'A') : by[i];
	if (q->by == LOG_BY_FIELD && (strcmp(by, "unit") == 0 || strcmp(by, "priority") == 0))
		(void)snprintf(key, EXPORT_KEY_MAX + 1, "%s", by[0] == 'u' ? FIELD_UNIT : FIELD_PRIORITY);
	else if (q->by == LOG_BY_FIELD && (n > EXPORT_KEY_MAX || !export_key_valid(key, n))) {
		*answered = respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request",
					  "by: expected host, source, unit, priority or a field name (letters, digits, '_')");
		return false;
	}
	q->by_key = key;
	return true;
}

/* The tally's top n as [{"value", "count"}], and what it leaves out. */
static json_t *top_json(const struct tally *t, size_t n, const struct log_result *res)
{
	struct tally_entry top[STATS_TOP_MAX];
	json_t *items = json_array();
	uint64_t others;
	size_t k;

	tally_top(t, top, n, &k, &others);
	for (size_t i = 0; i < k; i++)
		json_array_append_new(items, json_pack("{s:o, s:I}", "value", json_bytes(top[i].value, top[i].len), "count",
						       (json_int_t)top[i].count));
	return json_pack("{s:o, s:I, s:I, s:b}", "top", items, "others", (json_int_t)others, "without",
			 (json_int_t)res->without, "cut", tally_cut(t));
}

/*
 * GET /api/v1/logs/stats: without by=, the matches per step (as /logs/count); with by=, the top
 * values of a field (host, source) among the matches, in ingest order, by cursor when cut short.
 */
enum MHD_Result api_get_logs_stats(struct request *rq)
{
	struct log_query q = query_of(rq, 1);
	char key[EXPORT_KEY_MAX + 1];
	const char *top = arg(rq, "top");
	uint64_t until, n = 10;
	struct log_result res;
	enum MHD_Result answered;
	json_t *progress, *j;

	if (!arg(rq, "by"))
		return api_get_logs_count(rq);
	if (top && (conf_parse_uint(top, &n) < 0 || n < 1 || n > STATS_TOP_MAX))
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "top: expected 1 to %d", STATS_TOP_MAX);
	if (!count_args(rq, &q, &until, &answered) || !query_args(rq, &q, &answered) || !by_arg(rq, &q, key, &answered))
		return answered;
	q.tally = tally_new();
	if (!q.tally)
		return respond_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
	if (!query_run(rq, &q, &res, &progress, &answered)) {
		tally_free(q.tally);
		return answered;
	}
	buf_free(&res.items);
	j = top_json(q.tally, n, &res);
	tally_free(q.tally);
	(void)json_object_set_new(j, "since", json_integer((json_int_t)q.since));
	(void)json_object_set_new(j, "until", json_integer((json_int_t)until));
	(void)json_object_set_new(j, "by", json_string(arg(rq, "by")));
	return respond_with_progress(rq, j, progress);
}

/* Whether the asker wants NDJSON: format=ndjson, or an Accept naming it. */
static bool wants_ndjson(struct request *rq)
{
	const char *format = arg(rq, "format"),
		   *accept = MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);

	return format ? strcmp(format, "ndjson") == 0 : accept && strstr(accept, "application/x-ndjson");
}

/*
 * The page as JSON ({"items":[…], progress…}) or NDJSON (an item a line, the
 * progress in Vigil-* headers), items written as the query rendered them.
 */
static enum MHD_Result respond_items(struct request *rq, struct log_result *res, json_t *progress, bool ndjson)
{
	char *tail = json_dumps(progress, JSON_COMPACT);
	struct buf b;
	int r;

	json_decref(progress);
	buf_init(&b, SIZE_MAX / 2);
	r = tail ? 0 : -ENOMEM;
	if (r == 0 && ndjson) {
		/* The items are the answer: taken, not copied. */
		if (res->n_items)
			r = buf_putc(&res->items, '\n');
		b = res->items;
		res->items = (struct buf){ 0 };
	} else if (r == 0) {
		/* One allocation for the answer; progress's members after the items: "{" dropped, the rest as it is. */
		r = buf_reserve(&b, sizeof("{\"items\":[],") - 1 + res->items.len + strlen(tail));
		if (r == 0)
			r = buf_append_lit(&b, "{\"items\":[");
		if (r == 0)
			r = buf_append(&b, res->items.data, res->items.len);
		if (r == 0)
			r = buf_append_lit(&b, "],");
		if (r == 0)
			r = buf_append(&b, tail + 1, strlen(tail + 1));
	}
	free(tail);
	buf_free(&res->items);
	if (r < 0) {
		buf_free(&b);
		return respond_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
	}
	if (!ndjson)
		return respond_bytes(rq, MHD_HTTP_OK, "application/json", (char *)TAKE_PTR(b.data), b.len, NULL);
	return respond_bytes(rq, MHD_HTTP_OK, "application/x-ndjson", (char *)TAKE_PTR(b.data), b.len,
			     (const char *const[]){ "Vigil-Next-Cursor", rq->cursor_out, "Vigil-Complete",
						    res->complete ? "true" : "false", "Vigil-Stopped",
						    res->stopped ? res->stopped : "", NULL });
}

enum MHD_Result api_get_logs(struct request *rq)
{
	struct log_query q = query_of(rq, 100);
	const char *order = arg(rq, "order"), *format = arg(rq, "format");
	bool ndjson = wants_ndjson(rq);
	struct log_result res;
	enum MHD_Result answered;
	json_t *progress;

	if (!range_args(rq, &q.since, &q.until, &q.limit, &answered))
		return answered;
	if (order && strcmp(order, "asc") && strcmp(order, "desc"))
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request",
				     "order: expected asc (ingest order, the default) or desc (newest first)");
	if (format && strcmp(format, "json") && strcmp(format, "ndjson"))
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "format: expected json or ndjson");
	if (!query_args(rq, &q, &answered))
		return answered;
	q.newest_first = order && strcmp(order, "desc") == 0;
	q.separator = ndjson ? '\n' : ',';
	if (!query_run(rq, &q, &res, &progress, &answered))
		return answered;
	return respond_items(rq, &res, progress, ndjson);
}

/*
 * GET /api/v1/audit?since=&until=&user=&action=&limit=&cursor=: oldest
 * first, paged by id (with a shared store, every collector's rows, paged by
 * the order they were copied in).
 */
enum MHD_Result api_get_audit(struct request *rq)
{
	struct audit_filter f = { .user = arg(rq, "user"), .action = arg(rq, "action"), .object = arg(rq, "object"), .limit = 100 };
	const char *cursor = arg(rq, "cursor");
	uint64_t n;
	int64_t last;
	json_t *items;
	enum MHD_Result answered;
	char next[32];
	int r;

	if (!range_args(rq, &f.since, &f.until, &f.limit, &answered))
		return answered;
	if (cursor && (conf_parse_uint(cursor, &n) < 0 || n > INT64_MAX))
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request",
				     "cursor: expected a next_cursor value from an earlier answer");
	f.after = cursor ? (int64_t)n : 0;
	if (http_audit_shared(rq)) {
		r = pgaudit_query(http_audit_shared(rq), &f, &items, &last);
		if (r < 0)
			return respond_errno(rq, r, "cannot read the audit log in the shared store");
	} else if ((r = audit_query(http_audit_log(rq), &f, &items, &last)) < 0) {
		return respond_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "audit query failed: %s",
				     strerror(-r));
	}
	(void)snprintf(next, sizeof(next), "%" PRId64, last);
	(void)snprintf(rq->cursor_out, sizeof(rq->cursor_out), "%s", next);
	return respond_json(rq, MHD_HTTP_OK, json_pack("{s:o, s:s}", "items", items, "next_cursor", next));
}
