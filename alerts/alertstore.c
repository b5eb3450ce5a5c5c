/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>

#include "alerts/alertstore.h"
#include "alerts/queue.h"
#include "common/db.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/util.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS alerts(id INTEGER PRIMARY KEY, fingerprint TEXT NOT NULL, rule TEXT NOT NULL,"
	" agent TEXT NOT NULL, host TEXT NOT NULL, labels TEXT NOT NULL, state TEXT NOT NULL, severity TEXT NOT NULL,"
	" summary TEXT NOT NULL, value TEXT, pending_since INTEGER NOT NULL, fired INTEGER NOT NULL DEFAULT 0,"
	" resolved INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL, acked_by TEXT, assignee TEXT,"
	" flapping INTEGER NOT NULL DEFAULT 0, suppressed INTEGER NOT NULL DEFAULT 0,"
	" silenced INTEGER NOT NULL DEFAULT 0, escalated INTEGER NOT NULL DEFAULT 0, changes BLOB);"
	"CREATE UNIQUE INDEX IF NOT EXISTS alerts_open ON alerts(fingerprint) WHERE state<>'closed';"
	"CREATE INDEX IF NOT EXISTS alerts_rule ON alerts(rule, state);"
	"CREATE TABLE IF NOT EXISTS alert_events(id INTEGER PRIMARY KEY, alert INTEGER NOT NULL, ts INTEGER NOT NULL,"
	" actor TEXT NOT NULL, action TEXT NOT NULL, note TEXT);"
	"CREATE INDEX IF NOT EXISTS alert_events_alert ON alert_events(alert, id);";

#define ALERT_COLUMNS                                                                                           \
	"id, rule, state, severity, host, agent, labels, summary, value, pending_since, fired, resolved, updated," \
	" acked_by, assignee, flapping, suppressed, silenced"

/*
 * An alert_filter: ?1 state, ?2 severity, ?3 host, ?4 a label's JSON path, ?5 its value, ?6 the assignee
 * ('' for none), ?7 unacknowledged only, ?8 text (lower case) in the summary, rule, host, assignee or
 * acknowledger, ?9 the summary searched without the log line its value names; NULL: any. instr(), not
 * LIKE: the text's '%' and '_' are themselves.
 */
#define LOG_LINE_SQL "substr(value, instr(value, ' s: ') + 4)"
#define SUMMARY_SEEN_SQL                                                                                          \
	"CASE WHEN ?9 AND instr(value, ' s: ') > 0 AND " LOG_LINE_SQL " <> '' THEN replace(summary, " LOG_LINE_SQL \
	", '') ELSE summary END"
#define FILTER_SQL                                                                                                 \
	"(?1 IS NULL AND state<>'closed' OR state=?1) AND (?2 IS NULL OR severity=?2)"                            \
	" AND (?3 IS NULL OR host=?3 OR agent=?3) AND (?4 IS NULL OR json_extract(labels, ?4)=?5)"                 \
	" AND (?6 IS NULL OR coalesce(assignee, '')=?6) AND (NOT ?7 OR acked_by IS NULL)"                         \
	" AND (?8 IS NULL OR instr(lower(" SUMMARY_SEEN_SQL " || char(10) || rule || char(10) || host || char(10)" \
	" || coalesce(assignee, '') || char(10) || coalesce(acked_by, '')), ?8) > 0)"

#define EVENT_SQL "INSERT INTO alert_events(alert, ts, actor, action, note) VALUES (?,?,?,?,?)"

enum {
	S_LOAD,
	S_INSERT,
	S_UPDATE,
	S_EVENT,
	S_OPEN_IDS,
	S_LIST,
	S_COUNTS,
	S_GET,
	S_HISTORY,
	S_IDENTITY,
	S_ACTIVE,
	S_RESOLVE,
	S_OPEN_FPS,
	S_EVENTS,
	_S_MAX,
};

static const char *const sql[_S_MAX] = {
	[S_LOAD] = "SELECT id, state, pending_since, fired, resolved, acked_by IS NOT NULL, flapping, suppressed, changes,"
		   " silenced, escalated FROM alerts WHERE fingerprint=? AND state<>'closed'",
	[S_INSERT] = "INSERT INTO alerts(fingerprint, rule, agent, host, labels, state, severity, summary, value,"
		     " pending_since, fired, resolved, updated, flapping, suppressed, changes, silenced, escalated)"
		     " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18)",
	/* The parameters are the INSERT's, plus ?19 (still acknowledged) and ?20 (the id). */
	[S_UPDATE] = "UPDATE alerts SET host=?4, labels=?5, state=?6, summary=?8, value=?9, pending_since=?10, fired=?11,"
		     " resolved=?12, updated=?13, acked_by=CASE WHEN ?19 THEN acked_by END, flapping=?14,"
		     " suppressed=?15, changes=?16, silenced=?17, escalated=?18 WHERE id=?20",
	[S_EVENT] = EVENT_SQL,
	[S_OPEN_IDS] = "SELECT id FROM alerts WHERE rule=? AND state<>'closed'",
	/* The count is over every row the filter selects, before the limit: a list says what it leaves out. */
	[S_LIST] = "SELECT " ALERT_COLUMNS ", count(*) OVER () FROM alerts WHERE " FILTER_SQL " ORDER BY id DESC LIMIT 1000",
	[S_COUNTS] = "SELECT severity, count(*) FROM alerts WHERE " FILTER_SQL " GROUP BY severity",
	[S_GET] = "SELECT " ALERT_COLUMNS " FROM alerts WHERE id=?",
	[S_HISTORY] = "SELECT ts, actor, action, note FROM alert_events WHERE alert=? ORDER BY id",
	[S_IDENTITY] = "SELECT fingerprint, agent, host FROM alerts WHERE id=?",
	[S_ACTIVE] = "SELECT id, rule FROM alerts WHERE state IN ('pending', 'firing')",
	[S_RESOLVE] = "UPDATE alerts SET state='resolved', resolved=?1, updated=?1 WHERE id=?2",
	[S_OPEN_FPS] = "SELECT fingerprint FROM alerts WHERE rule=? AND state<>'closed'",
	[S_EVENTS] = "SELECT e.id, e.alert, e.ts, e.actor, e.action, e.note, a.rule, a.severity, a.host, a.agent,"
		     " a.labels, a.summary, a.value FROM alert_events e JOIN alerts a ON a.id=e.alert WHERE e.id>?"
		     " ORDER BY e.id LIMIT ?",
};

struct sqlite_alerts {
	sqlite3 *db;
	sqlite3_stmt *st[_S_MAX];
};

static void sq_free(void *db)
{
	struct sqlite_alerts *s = db;

	db_finalize_all(s->st, _S_MAX);
	free(s);
}

static int sq_lead(void *db, const char *work, const char *holder)
{
	(void)db;
	(void)work;
	(void)holder;
	return 1;
}

static int sq_begin(void *db, bool fenced)
{
	struct sqlite_alerts *s = db;

	(void)fenced;
	return db_exec(s->db, "BEGIN IMMEDIATE");
}

static int sq_end(void *db, int r)
{
	return db_end(((struct sqlite_alerts *)db)->db, r);
}

/* Steps st once, resets it and clears its bindings; logs a failure. */
static int step_done(struct sqlite_alerts *s, sqlite3_stmt *st)
{
	int r = db_step_done(s->db, st);

	(void)sqlite3_clear_bindings(st);
	return r;
}

static int sq_load(void *db, const char *fingerprint, struct alert *al, struct alert_quiet *q,
		     int64_t *ret_id)
{
	struct sqlite_alerts *s = db;
	sqlite3_stmt *st = s->st[S_LOAD];
	int rc;

	*ret_id = 0;
	memset(al, 0, sizeof(*al));
	sqlite3_bind_text(st, 1, fingerprint, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const uint8_t *ch = sqlite3_column_blob(st, 8);
		size_t n = (size_t)sqlite3_column_bytes(st, 8) / 8;

		*ret_id = sqlite3_column_int64(st, 0);
		al->state = MAX(alert_state_from_name((const char *)sqlite3_column_text(st, 1)), 0);
		al->pending_since_us = (uint64_t)sqlite3_column_int64(st, 2);
		al->fired_us = (uint64_t)sqlite3_column_int64(st, 3);
		al->resolved_us = (uint64_t)sqlite3_column_int64(st, 4);
		al->acked = sqlite3_column_int(st, 5);
		al->flapping = sqlite3_column_int(st, 6);
		q->suppressed = sqlite3_column_int(st, 7);
		q->silenced = sqlite3_column_int(st, 9);
		al->escalated_us = (uint64_t)sqlite3_column_int64(st, 10);
		al->n_changes = MIN(n, (size_t)ALERT_CHANGES_KEPT);
		for (size_t i = 0; ch && i < al->n_changes; i++)
			al->changes[i] = get_le64(ch + 8 * i);
	}
	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_errno(rc);
}

static void bind_changes(sqlite3_stmt *st, int col, const struct alert *al)
{
	uint8_t blob[ALERT_CHANGES_KEPT * 8];

	for (size_t i = 0; i < al->n_changes; i++)
		put_le64(blob + 8 * i, al->changes[i]);
	sqlite3_bind_blob(st, col, blob, (int)(al->n_changes * 8), SQLITE_TRANSIENT);
}

static int sq_save(void *db, const struct alert_row *row, int64_t *id)
{
	struct sqlite_alerts *s = db;
	sqlite3_stmt *st = s->st[*id ? S_UPDATE : S_INSERT];
	const struct alert *al = row->al;
	int r;

	sqlite3_bind_text(st, 1, row->fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, row->rule, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, row->agent, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, row->host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, row->labels, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, alert_state_name(al->state), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, row->severity, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, row->summary, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, row->value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)al->pending_since_us);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)al->fired_us);
	sqlite3_bind_int64(st, 12, (sqlite3_int64)al->resolved_us);
	sqlite3_bind_int64(st, 13, (sqlite3_int64)row->now);
	sqlite3_bind_int(st, 14, al->flapping);
	sqlite3_bind_int(st, 15, row->q->suppressed);
	bind_changes(st, 16, al);
	sqlite3_bind_int(st, 17, row->q->silenced);
	sqlite3_bind_int64(st, 18, (sqlite3_int64)al->escalated_us);
	if (*id) {
		sqlite3_bind_int(st, 19, al->acked);
		sqlite3_bind_int64(st, 20, *id);
	}
	r = step_done(s, st);
	if (r == 0 && !*id)
		*id = sqlite3_last_insert_rowid(s->db);
	return r;
}

static void bind_event(sqlite3_stmt *st, int64_t id, uint64_t ts, const char *actor, const char *action,
		       const char *note)
{
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)ts);
	sqlite3_bind_text(st, 3, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, note, -1, SQLITE_STATIC);
}

static int sq_event(void *db, int64_t id, uint64_t ts, const char *actor, const char *action,
		      const char *note)
{
	struct sqlite_alerts *s = db;
	bind_event(s->st[S_EVENT], id, ts, actor, action, note);
	return step_done(s, s->st[S_EVENT]);
}

/* Steps the statement i bound with rule (or nothing), calling row(st, ctx) for each row until it answers non-zero. */
static int each(struct sqlite_alerts *s, int i, const char *rule, int (*row)(sqlite3_stmt *st, void *ctx), void *ctx)
{
	sqlite3_stmt *st = s->st[i];
	int rc, r = 0;

	if (rule)
		sqlite3_bind_text(st, 1, rule, -1, SQLITE_STATIC);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = row(st, ctx);
	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
	return r == 0 && rc != SQLITE_DONE ? db_errno(rc) : r;
}

struct fp_fn {
	int (*fn)(const char *fp, void *ctx);
	void *ctx;
};

static int call_fp(sqlite3_stmt *st, void *ctx)
{
	const struct fp_fn *f = ctx;

	return f->fn((const char *)sqlite3_column_text(st, 0), f->ctx);
}

static int sq_open_fingerprints(void *db, const char *rule, int (*fn)(const char *fp, void *ctx),
				  void *ctx)
{
	struct sqlite_alerts *s = db;
	struct fp_fn f = { fn, ctx };

	return each(s, S_OPEN_FPS, rule, call_fp, &f);
}

struct id_fn {
	int (*fn)(int64_t id, void *ctx);
	int (*fn_rule)(int64_t id, const char *rule, void *ctx);
	void *ctx;
};

static int call_id(sqlite3_stmt *st, void *ctx)
{
	const struct id_fn *f = ctx;

	return f->fn ? f->fn(sqlite3_column_int64(st, 0), f->ctx) :
		       f->fn_rule(sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1), f->ctx);
}

static int sq_open_ids(void *db, const char *rule, int (*fn)(int64_t id, void *ctx), void *ctx)
{
	struct sqlite_alerts *s = db;
	struct id_fn f = { .fn = fn, .ctx = ctx };

	return each(s, S_OPEN_IDS, rule, call_id, &f);
}

static int sq_active(void *db, int (*fn)(int64_t id, const char *rule, void *ctx), void *ctx)
{
	struct sqlite_alerts *s = db;
	struct id_fn f = { .fn_rule = fn, .ctx = ctx };

	return each(s, S_ACTIVE, NULL, call_id, &f);
}

static bool sq_identity(void *db, int64_t id, char *fp, char *agent, char *host, size_t size)
{
	struct sqlite_alerts *s = db;
	sqlite3_stmt *st = s->st[S_IDENTITY];
	bool found;

	sqlite3_bind_int64(st, 1, id);
	found = sqlite3_step(st) == SQLITE_ROW;
	if (found) {
		(void)snprintf(fp, size, "%s", sqlite3_column_text(st, 0));
		(void)snprintf(agent, size, "%s", sqlite3_column_text(st, 1));
		(void)snprintf(host, size, "%s", sqlite3_column_text(st, 2));
	}
	(void)sqlite3_reset(st);
	return found;
}

static int sq_resolve(void *db, int64_t id, uint64_t now)
{
	struct sqlite_alerts *s = db;
	sqlite3_stmt *st = s->st[S_RESOLVE];

	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 2, id);
	return step_done(s, st);
}

static json_t *text_or_null(sqlite3_stmt *st, int col)
{
	const unsigned char *v = sqlite3_column_text(st, col);

	return v ? json_string((const char *)v) : json_null();
}

/* A row of ALERT_COLUMNS as the API shows it. */
static json_t *alert_json(sqlite3_stmt *st)
{
	json_t *labels = json_loads((const char *)sqlite3_column_text(st, 6), 0, NULL);

	return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:o, s:o, s:b, s:b, s:b}",
			 "id", (json_int_t)sqlite3_column_int64(st, 0), "rule", text_or_null(st, 1), "state",
			 text_or_null(st, 2), "severity", text_or_null(st, 3), "host", text_or_null(st, 4), "agent",
			 text_or_null(st, 5), "labels", labels ? labels : json_object(), "summary", text_or_null(st, 7),
			 "value", text_or_null(st, 8), "started", (json_int_t)sqlite3_column_int64(st, 9), "fired",
			 (json_int_t)sqlite3_column_int64(st, 10), "resolved", (json_int_t)sqlite3_column_int64(st, 11),
			 "updated", (json_int_t)sqlite3_column_int64(st, 12), "acked_by", text_or_null(st, 13),
			 "assignee", text_or_null(st, 14), "flapping", sqlite3_column_int(st, 15), "suppressed",
			 sqlite3_column_int(st, 16), "silenced", sqlite3_column_int(st, 17));
}

static int sq_get(void *db, int64_t id, json_t **ret)
{
	struct sqlite_alerts *s = db;
	sqlite3_stmt *st = s->st[S_GET];
	int rc;

	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	*ret = rc == SQLITE_ROW ? alert_json(st) : NULL;
	(void)sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return *ret ? 0 : -ENOMEM;
	return rc == SQLITE_DONE ? -ENOENT : db_errno(rc);
}

/* f into st's FILTER_SQL parameters; path holds the label's JSON path and text in lower case while st runs. */
static void bind_filter(sqlite3_stmt *st, const struct alert_filter *f, char path[80], char text[ALERT_TEXT_MAX + 1])
{
	if (f->label_key)
		(void)snprintf(path, 80, "$.\"%s\"", f->label_key);
	/* SQLite's lower() folds ASCII only; so does this, and the rest (Chinese has no case) matches as it is. */
	for (size_t i = 0; f->text && i <= ALERT_TEXT_MAX; i++)
		text[i] = f->text[i] >= 'A' && f->text[i] <= 'Z' ? (char)(f->text[i] - 'A' + 'a') : f->text[i];
	sqlite3_bind_text(st, 1, f->state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, f->severity, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, f->host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, f->label_key ? path : NULL, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, f->label_value, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, f->assignee, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, f->unacked);
	sqlite3_bind_text(st, 8, f->text ? text : NULL, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, f->hide_log_lines);
}

static int sq_counts(void *db, const struct alert_filter *f, json_t *counts)
{
	struct sqlite_alerts *s = db;
	struct alert_filter any = *f;
	sqlite3_stmt *st = s->st[S_COUNTS];
	char path[80], text[ALERT_TEXT_MAX + 1];
	int rc;

	any.severity = NULL;
	bind_filter(st, &any, path, text);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_object_set_new(counts, (const char *)sqlite3_column_text(st, 0), json_integer(sqlite3_column_int64(st, 1)));
	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

static int sq_list(void *db, const struct alert_filter *f, json_t *items, int64_t *ret_total)
{
	struct sqlite_alerts *s = db;
	sqlite3_stmt *st = s->st[S_LIST];
	char path[80], text[ALERT_TEXT_MAX + 1];
	int rc;

	bind_filter(st, f, path, text);
	*ret_total = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_array_append_new(items, alert_json(st));
		*ret_total = sqlite3_column_int64(st, sqlite3_column_count(st) - 1);
	}
	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

static int sq_events(void *db, int64_t after, unsigned limit, json_t *items, int64_t *ret_last)
{
	struct sqlite_alerts *s = db;
	sqlite3_stmt *st = s->st[S_EVENTS];
	int rc;

	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, limit);
	*ret_last = after;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *labels = json_loads((const char *)sqlite3_column_text(st, 10), 0, NULL);
		*ret_last = sqlite3_column_int64(st, 0);
		json_array_append_new(items, json_pack("{s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
						       "id", (json_int_t)*ret_last, "alert",
						       (json_int_t)sqlite3_column_int64(st, 1), "ts",
						       (json_int_t)sqlite3_column_int64(st, 2), "actor", text_or_null(st, 3),
						       "action", text_or_null(st, 4), "note", text_or_null(st, 5), "rule",
						       text_or_null(st, 6), "severity", text_or_null(st, 7), "host",
						       text_or_null(st, 8), "agent", text_or_null(st, 9), "labels",
						       labels ? labels : json_object(), "summary", text_or_null(st, 11),
						       "value", text_or_null(st, 12)));
	}
	(void)sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

static int sq_history(void *db, int64_t id, json_t *history)
{
	struct sqlite_alerts *s = db;
	sqlite3_stmt *h = s->st[S_HISTORY];
	int rc;

	sqlite3_bind_int64(h, 1, id);
	while ((rc = sqlite3_step(h)) == SQLITE_ROW)
		json_array_append_new(history, json_pack("{s:I, s:o, s:o, s:o}", "ts",
							 (json_int_t)sqlite3_column_int64(h, 0), "actor",
							 text_or_null(h, 1), "action", text_or_null(h, 2), "note",
							 text_or_null(h, 3)));
	(void)sqlite3_reset(h);
	return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

/* What each ops action changes; ?1 is the alert, ?2 the action's argument, ?3 now. NULL: history only. */
static const char *const act_sql[ALERT_ACTIONS] = {
	[ALERT_ACK] = "UPDATE alerts SET acked_by=?2, updated=?3 WHERE id=?1",
	[ALERT_UNACK] = "UPDATE alerts SET acked_by=NULL, updated=?3 WHERE id=?1",
	[ALERT_ASSIGN] = "UPDATE alerts SET assignee=?2, updated=?3 WHERE id=?1",
	[ALERT_SEVERITY] = "UPDATE alerts SET severity=?2, updated=?3 WHERE id=?1",
	[ALERT_CLOSE] = "UPDATE alerts SET state='closed', updated=?3,"
			" resolved=CASE WHEN resolved=0 THEN ?3 ELSE resolved END WHERE id=?1",
};

static int sq_act(void *db, int64_t id, enum alert_action action, const char *arg, uint64_t now)
{
	struct sqlite_alerts *s = db;
	sqlite3_stmt *st;
	int r;

	if (!act_sql[action])
		return 0;
	r = db_prepare(s->db, act_sql[action], &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, arg, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
	r = db_step_done(s->db, st);
	sqlite3_finalize(st);
	return r;
}

static const struct alert_store_ops sqlite_ops = {
	.free = sq_free, .lead = sq_lead, .begin = sq_begin, .end = sq_end, .load = sq_load, .save = sq_save,
	.event = sq_event, .open_fingerprints = sq_open_fingerprints, .open_ids = sq_open_ids, .active = sq_active,
	.identity = sq_identity, .resolve = sq_resolve, .get = sq_get, .list = sq_list, .counts = sq_counts,
	.history = sq_history, .events = sq_events, .act = sq_act, .queue = &queue_sqlite,
};

int alert_store_open(sqlite3 *db, struct alert_store **ret)
{
	struct alert_store *a = calloc(1, sizeof(*a));
	struct sqlite_alerts *s = calloc(1, sizeof(*s));
	int r = a && s ? db_exec(db, schema) : -ENOMEM;

	if (r == 0)
		r = queue_schema(db);
	if (r == 0)
		r = db_prepare_all(db, sql, _S_MAX, s->st);
	if (r < 0) {
		free(s);
		free(a);
		return r;
	}
	s->db = db;
	*a = (struct alert_store){ &sqlite_ops, s, db };
	*ret = a;
	return 0;
}

/* The row st stands on as a JSON object of its columns. */
static json_t *row_json(sqlite3_stmt *st)
{
	json_t *row = json_object();

	for (int i = 0; row && i < sqlite3_column_count(st); i++) {
		const char *name = sqlite3_column_name(st, i);
		const unsigned char *text;
		json_t *v = NULL;
		size_t n;
		char *valid;

		switch (sqlite3_column_type(st, i)) {
		case SQLITE_INTEGER:
			v = json_integer(sqlite3_column_int64(st, i));
			break;
		case SQLITE_FLOAT:
			v = json_real(sqlite3_column_double(st, i));
			break;
		case SQLITE_BLOB: /* an alert's changes: times, 8 bytes each */
			v = json_array();
			for (int k = 0; v && k + 8 <= sqlite3_column_bytes(st, i); k += 8)
				json_array_append_new(v, json_integer((json_int_t)get_le64(
								 (const uint8_t *)sqlite3_column_blob(st, i) + k)));
			break;
		case SQLITE_TEXT:
			text = sqlite3_column_text(st, i);
			n = (size_t)sqlite3_column_bytes(st, i);
			valid = malloc(UTF8_VALID_SIZE(n));
			v = valid ? json_string(utf8_valid_copy((const char *)text, n, valid, UTF8_VALID_SIZE(n))) : NULL;
			free(valid);
			break;
		default:
			v = json_null();
		}
		if (!v || json_object_set_new(row, name, v) < 0) {
			json_decref(row);
			return NULL;
		}
	}
	return row;
}

int alert_rows_step(sqlite3_stmt *st, int (*fn)(json_t *row, void *ctx), void *ctx)
{
	int rc, r = 0;

	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *row = row_json(st);

		r = row ? fn(row, ctx) : -ENOMEM;
		json_decref(row);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_errno(rc);
	sqlite3_finalize(st);
	return r;
}

int alert_rows_export(sqlite3 *db, const char *table, int (*fn)(json_t *row, void *ctx), void *ctx)
{
	const char *all = strcmp(table, "alerts") == 0	     ? "SELECT * FROM alerts ORDER BY id" :
			  strcmp(table, "alert_events") == 0 ? "SELECT * FROM alert_events ORDER BY id" :
							       NULL;
	sqlite3_stmt *st;
	int r = all ? db_prepare(db, all, &st) : -EINVAL;

	return r < 0 ? r : alert_rows_step(st, fn, ctx);
}

/* The store's calls, on its backend. */

void alert_store_free(struct alert_store *s)
{
	if (!s)
		return;
	s->ops->free(s->db);
	free(s);
}

int alert_store_lead(struct alert_store *s, const char *work, const char *holder)
{
	return s->ops->lead(s->db, work, holder);
}

bool alert_store_leads(struct alert_store *s, const char *work, const char *holder, enum alert_lead *last)
{
	int r = alert_store_lead(s, work, holder);
	enum alert_lead was = *last;

	*last = r > 0 ? ALERT_LEAD_LEADS : r == 0 ? ALERT_LEAD_FOLLOWS : ALERT_LEAD_UNKNOWN;
	if (*last == was || !s->ops->shared)
		return r > 0;
	if (r > 0)
		log_info("%s: this collector (%s) does this work now", work, holder);
	else if (r == 0)
		log_info("%s: another collector does this work; this one (%s) stands by", work, holder);
	else
		log_error_errno(r, "%s: cannot tell which collector does this work (%m); none here until it can", work);
	return r > 0;
}

int alert_store_begin(struct alert_store *s, bool fenced)
{
	return s->ops->begin(s->db, fenced);
}

int alert_store_end(struct alert_store *s, int r)
{
	return s->ops->end(s->db, r);
}

int alert_store_load(struct alert_store *s, const char *fingerprint, struct alert *al, struct alert_quiet *q,
		     int64_t *ret_id)
{
	return s->ops->load(s->db, fingerprint, al, q, ret_id);
}

int alert_store_save(struct alert_store *s, const struct alert_row *row, int64_t *id)
{
	return s->ops->save(s->db, row, id);
}

int alert_store_event(struct alert_store *s, int64_t id, uint64_t ts, const char *actor, const char *action,
		      const char *note)
{
	return s->ops->event(s->db, id, ts, actor, action, note);
}

int alert_store_open_fingerprints(struct alert_store *s, const char *rule, int (*fn)(const char *fp, void *ctx),
				  void *ctx)
{
	return s->ops->open_fingerprints(s->db, rule, fn, ctx);
}

int alert_store_open_ids(struct alert_store *s, const char *rule, int (*fn)(int64_t id, void *ctx), void *ctx)
{
	return s->ops->open_ids(s->db, rule, fn, ctx);
}

int alert_store_active(struct alert_store *s, int (*fn)(int64_t id, const char *rule, void *ctx), void *ctx)
{
	return s->ops->active(s->db, fn, ctx);
}

bool alert_store_identity(struct alert_store *s, int64_t id, char *fp, char *agent, char *host, size_t size)
{
	return s->ops->identity(s->db, id, fp, agent, host, size);
}

int alert_store_resolve(struct alert_store *s, int64_t id, uint64_t now)
{
	return s->ops->resolve(s->db, id, now);
}

int alert_store_get(struct alert_store *s, int64_t id, json_t **ret)
{
	return s->ops->get(s->db, id, ret);
}

int alert_store_list(struct alert_store *s, const struct alert_filter *f, json_t *items, int64_t *ret_total)
{
	return s->ops->list(s->db, f, items, ret_total);
}

int alert_store_counts(struct alert_store *s, const struct alert_filter *f, json_t *counts)
{
	return s->ops->counts(s->db, f, counts);
}

int alert_store_history(struct alert_store *s, int64_t id, json_t *history)
{
	return s->ops->history(s->db, id, history);
}

int alert_store_events(struct alert_store *s, int64_t after, unsigned limit, json_t *items, int64_t *ret_last)
{
	return s->ops->events(s->db, after, limit, items, ret_last);
}

/* The body member each ops action takes: "" none. */
static const struct {
	const char *name, *arg;
} actions[ALERT_ACTIONS] = {
	[ALERT_ACK] = { "ack", "" },	       [ALERT_UNACK] = { "unack", "" },
	[ALERT_ASSIGN] = { "assign", "to" },   [ALERT_COMMENT] = { "comment", "note" },
	[ALERT_SEVERITY] = { "severity", "severity" }, [ALERT_CLOSE] = { "close", "" },
};

static int action_index(const char *action)
{
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
		if (strcmp(actions[i].name, action) == 0)
			return (int)i;
	return -1;
}

const char *alert_action_arg(const char *action)
{
	int i = action_index(action);

	return i < 0 ? NULL : actions[i].arg;
}

int alert_store_act(struct alert_store *s, int64_t id, const char *action, const char *arg, uint64_t now)
{
	int i = action_index(action);

	return i < 0 ? -EINVAL : s->ops->act(s->db, id, (enum alert_action)i, arg, now);
}
