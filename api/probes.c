/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "common/util.h"
#include "api/http-internal.h"
#include "store/logquery.h"

static json_t *text(sqlite3_stmt *st, int col)
{
	const uint8_t *v = sqlite3_column_text(st, col);

	return json_bytes(v ? v : (const uint8_t *)"", (size_t)sqlite3_column_bytes(st, col));
}

static const char *const statuses[] = { "ok", "warning", "critical", "unknown", NULL };

static bool known_status(const char *s)
{
	for (const char *const *k = statuses; *k; k++)
		if (strcmp(*k, s) == 0)
			return true;
	return false;
}

json_t *probe_state_json(sqlite3_stmt *st)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:I, s:o, s:I, s:o}", "host", text(st, 0), "name", text(st, 1),
			 "type", text(st, 2), "status", text(st, 3), "latency_us", (json_int_t)sqlite3_column_int64(st, 4),
			 "message", text(st, 5), "ts", (json_int_t)sqlite3_column_int64(st, 6), "agent", text(st, 7));
}

/* GET /api/v1/probes?host=&status=: the latest result of every probe of every host. */
enum MHD_Result api_get_probes(struct request *rq)
{
	const char *host = arg(rq, "host"), *status = arg(rq, "status");
	sqlite3_stmt *st;
	json_t *items;

	if (status && !known_status(status))
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request",
				     "status: expected ok, warning, critical or unknown");
	if (db_prepare(storage_reader_meta(rq->rd),
		       PROBE_STATE_COLUMNS " WHERE (?1 IS NULL OR host=?1 OR agent=?1) AND (?2 IS NULL OR status=?2)"
		       " ORDER BY host, name",
		       &st) < 0)
		return respond_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "database error");
	sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
	items = json_array();
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(items, probe_state_json(st));
	sqlite3_finalize(st);
	return respond_json(rq, MHD_HTTP_OK, json_pack("{s:o}", "items", items));
}

/* Splits "HOST/NAME/history" (URL-decoded by libmicrohttpd) at the slashes. */
static int split_history_path(const char *rest, char *host, size_t hsz, char *name, size_t nsz)
{
	const char *slash = strchr(rest, '/'), *hist;
	size_t hl, nl;

	if (!slash)
		return -EINVAL;
	hist = strrchr(slash + 1, '/');
	if (!hist || strcmp(hist, "/history") != 0)
		return -EINVAL;
	hl = (size_t)(slash - rest);
	nl = (size_t)(hist - slash - 1);
	if (!hl || !nl || hl >= hsz || nl >= nsz)
		return -EINVAL;
	memcpy(host, rest, hl);
	host[hl] = 0;
	memcpy(name, slash + 1, nl);
	name[nl] = 0;
	return 0;
}

#define HISTORY_MAX 10000

/* What one GET .../history reads from each shard, and has found so far. */
struct history_query {
	const char *host, *name;
	uint64_t since, until;
	json_t *items;
	size_t rows;
	bool truncated;
	struct answer_budget budget;
	uint64_t last_ts;
};

static int shard_history(sqlite3 *db, void *ctx)
{
	struct history_query *q = ctx;
	sqlite3_stmt *st;

	if (!db || db_prepare(db, "SELECT ts, status, latency_us, message, type FROM probes"
			      " WHERE (host=?1 OR agent=?1) AND name=?2 AND ts>=?3 AND (?4=0 OR ts<=?4)"
			      " ORDER BY ts", &st) < 0)
		return 0;
	sqlite3_bind_text(st, 1, q->host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, q->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)q->since);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)q->until);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (q->rows++ == HISTORY_MAX ||
		    !answer_budget_take(&q->budget, (size_t)sqlite3_column_bytes(st, 3) + (size_t)sqlite3_column_bytes(st, 4))) {
			q->truncated = true;
			break;
		}
		q->last_ts = (uint64_t)sqlite3_column_int64(st, 0);
		json_array_append_new(q->items, json_pack("{s:I, s:o, s:I, s:o, s:o}", "ts",
							  (json_int_t)sqlite3_column_int64(st, 0), "status", text(st, 1),
							  "latency_us", (json_int_t)sqlite3_column_int64(st, 2), "message",
							  text(st, 3), "type", text(st, 4)));
	}
	sqlite3_finalize(st);
	return q->truncated;
}

/* GET /api/v1/probes/{host}/{name}/history?since=&until=: results in time order, from the shards. */
enum MHD_Result api_get_probe_history(struct request *rq)
{
	char host[256], name[512];
	struct history_query q = { .host = host, .name = name, .budget = answer_budget(rq) };
	json_t *j;

	if (split_history_path(rq->url + strlen("/api/v1/probes/"), host, sizeof(host), name, sizeof(name)) < 0)
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found",
				     "expected /api/v1/probes/HOST/NAME/history");
	if (since_until_args(rq, &q.since, &q.until) < 0)
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", SINCE_UNTIL_HELP);
	q.items = json_array();
	if (storage_reader_each_shard(rq->rd, q.since, q.until, false, shard_history, &q) < 0) {
		json_decref(q.items);
		return respond_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "database error");
	}
	j = json_pack("{s:o, s:o, s:o, s:b}", "host", json_bytes((const uint8_t *)host, strlen(host)), "name",
		      json_bytes((const uint8_t *)name, strlen(name)), "items", q.items, "truncated", q.truncated);
	/* Oldest first: the next page starts after the newest shown (a since= value, to the microsecond). */
	if (q.truncated) {
		char next[40];
		format_rfc3339_us(q.last_ts + 1, next, sizeof(next));
		json_object_set_new(j, "next_since", json_string(next));
	}
	return respond_json(rq, MHD_HTTP_OK, j);
}
