/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "common/util.h"
#include "api/http-internal.h"
#include "store/logquery.h"

/* Host rows with their probe counts by status; the WHERE clause is appended by the caller. */
#define HOST_COLUMNS                                                                                   \
	"SELECT id, hostname, first_seen, last_seen, batches, records, inventory, labels,"             \
	" (SELECT count(*) FROM probe_state p WHERE p.agent = h.id AND status = 'ok'),"              \
	" (SELECT count(*) FROM probe_state p WHERE p.agent = h.id AND status = 'warning'),"         \
	" (SELECT count(*) FROM probe_state p WHERE p.agent = h.id AND status = 'critical'),"        \
	" (SELECT count(*) FROM probe_state p WHERE p.agent = h.id AND status = 'unknown'),"         \
	" certificate FROM hosts h"

/* A JSON column as JSON, or an empty object. */
static json_t *json_column(sqlite3_stmt *st, int col)
{
	const char *v = (const char *)sqlite3_column_text(st, col);
	json_t *j = v ? json_loads(v, 0, NULL) : NULL;

	return j ? j : json_object();
}

/* A host's agent id is shown as in conflict for a day after the last batch refused for it. */
#define CONFLICT_SHOWN_US (24 * 3600 * USEC_PER_SEC)

static int conflict_json(const struct agent_conflict *c, void *ctx)
{
	json_t **ret = ctx;

	*ret = json_pack("{s:s, s:I, s:I, s:I, s:I}", "hosts", c->hosts ? c->hosts : "", "seq", (json_int_t)c->seq,
			 "batches_refused", (json_int_t)c->count, "first_seen", (json_int_t)c->first_seen,
			 "last_seen", (json_int_t)c->last_seen);
	return 1;
}

/* Two hosts sending with this agent id (a cloned VM): the hosts named, or JSON null. */
static json_t *host_conflict(const struct request *rq, const char *agent)
{
	uint64_t now = now_realtime_us();
	json_t *c = NULL;

	(void)storage_conflicts_each(storage_reader_meta(rq->rd), agent, now - MIN(now, CONFLICT_SHOWN_US),
				     conflict_json, &c);
	return c ? c : json_null();
}

static json_t *host_json(const struct request *rq, sqlite3_stmt *st)
{
	const char *host = (const char *)sqlite3_column_text(st, 1);
	uint64_t now = now_realtime_us(), seen = (uint64_t)sqlite3_column_int64(st, 3);
	bool silent = now - MIN(now, seen) > http_silent_after_us(rq);

	const char *cert = (const char *)sqlite3_column_text(st, 12);

	return json_pack("{s:s, s:o, s:I, s:I, s:s, s:I, s:I, s:o, s:o, s:{s:I, s:I, s:I, s:I}, s:o, s:o}",
			 "id", sqlite3_column_text(st, 0),
			 "hostname", json_bytes((const uint8_t *)(host ? host : ""), host ? strlen(host) : 0),
			 "first_seen", (json_int_t)sqlite3_column_int64(st, 2), "last_seen", (json_int_t)seen,
			 "status", silent ? "silent" : "up", "batches", (json_int_t)sqlite3_column_int64(st, 4),
			 "records", (json_int_t)sqlite3_column_int64(st, 5), "inventory", json_column(st, 6),
			 "labels", json_column(st, 7), "probes", "ok", (json_int_t)sqlite3_column_int64(st, 8),
			 "warning", (json_int_t)sqlite3_column_int64(st, 9),
			 "critical", (json_int_t)sqlite3_column_int64(st, 10),
			 "unknown", (json_int_t)sqlite3_column_int64(st, 11),
			 "id_conflict", host_conflict(rq, (const char *)sqlite3_column_text(st, 0)),
			 "certificate", cert ? json_string(cert) : json_null());
}

/* GET /api/v1/hosts: every host, with inventory, labels, up/silent and probe counts. */
enum MHD_Result api_get_hosts(struct request *rq)
{
	sqlite3_stmt *st;
	json_t *items;

	/* The collector's own identity (its dial tests) is no host of the fleet: /api/v1/dialtests shows it. */
	if (db_prepare(storage_reader_meta(rq->rd), HOST_COLUMNS " WHERE collector=0 ORDER BY hostname, id", &st) < 0)
		return respond_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "database error");
	items = json_array();
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(items, host_json(rq, st));
	sqlite3_finalize(st);
	return respond_json(rq, MHD_HTTP_OK, json_pack("{s:o}", "items", items));
}

/* GET /api/v1/hosts/{id}: one host (by agent id or host name) and its probes' latest results. */
enum MHD_Result api_get_host(struct request *rq)
{
	const char *id = rq->url + strlen("/api/v1/hosts/");
	sqlite3_stmt *st;
	json_t *host, *probes;

	if (strchr(id, '/'))
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "expected /api/v1/hosts/ID");
	if (db_prepare(storage_reader_meta(rq->rd), HOST_COLUMNS " WHERE id=?1 OR hostname=?1"
		       " ORDER BY collector, last_seen DESC LIMIT 1", &st) < 0)
		return respond_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "database error");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	host = sqlite3_step(st) == SQLITE_ROW ? host_json(rq, st) : NULL;
	sqlite3_finalize(st);
	if (!host)
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no host %s", id);
	probes = json_array();
	if (db_prepare(storage_reader_meta(rq->rd), PROBE_STATE_COLUMNS " WHERE agent=?1 ORDER BY name", &st) == 0) {
		sqlite3_bind_text(st, 1, json_string_value(json_object_get(host, "id")), -1, SQLITE_TRANSIENT);
		while (sqlite3_step(st) == SQLITE_ROW)
			json_array_append_new(probes, probe_state_json(st));
		sqlite3_finalize(st);
	}
	json_object_set_new(host, "probe_results", probes);
	return respond_json(rq, MHD_HTTP_OK, host);
}
