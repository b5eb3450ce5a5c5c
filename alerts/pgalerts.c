/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/alertstore.h"
#include "alerts/queue.h"
#include "common/macro.h"
#include "common/util.h"
#include "store/pg.h"
#include "store/pglease.h"

/*
 * The alerts, their events and the notification queue in the database the
 * collectors share: alertstore.h's and queue.h's store, its SQL on
 * PostgreSQL. One connection, under the caller's lock; the work it leads
 * is a lease on that connection (store/pglease.h).
 */
struct pgalerts {
	struct pg_link link;
	bool in_tx;      /* a transaction is open: a lost connection is its end, never a new one under it */
	char work[32];   /* the work this connection leads, "" none */
	int64_t epoch;   /* the lease's epoch when it was taken */
};

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS alerts(id bigserial PRIMARY KEY, fingerprint text NOT NULL, rule text NOT NULL,"
	" agent text NOT NULL, host text NOT NULL, labels text NOT NULL, state text NOT NULL, severity text NOT NULL,"
	" summary text NOT NULL, value text, pending_since bigint NOT NULL, fired bigint NOT NULL DEFAULT 0,"
	" resolved bigint NOT NULL DEFAULT 0, updated bigint NOT NULL, acked_by text, assignee text,"
	" flapping integer NOT NULL DEFAULT 0, suppressed integer NOT NULL DEFAULT 0,"
	" silenced integer NOT NULL DEFAULT 0, escalated bigint NOT NULL DEFAULT 0, changes bigint[]);"
	"CREATE UNIQUE INDEX IF NOT EXISTS alerts_open ON alerts(fingerprint) WHERE state<>'closed';"
	"CREATE INDEX IF NOT EXISTS alerts_rule ON alerts(rule, state);"
	"CREATE TABLE IF NOT EXISTS alert_events(id bigserial PRIMARY KEY, alert bigint NOT NULL, ts bigint NOT NULL,"
	" actor text NOT NULL, action text NOT NULL, note text);"
	"CREATE INDEX IF NOT EXISTS alert_events_alert ON alert_events(alert, id);"
	"CREATE TABLE IF NOT EXISTS notifications(id bigserial PRIMARY KEY, alert bigint NOT NULL, target text NOT NULL,"
	" event text NOT NULL, payload text NOT NULL, state text NOT NULL DEFAULT 'queued',"
	" attempts integer NOT NULL DEFAULT 0, next_attempt bigint NOT NULL, last_error text, created bigint NOT NULL,"
	" sent bigint, digest bigint);"
	"CREATE INDEX IF NOT EXISTS notifications_due ON notifications(state, next_attempt);"
	"CREATE INDEX IF NOT EXISTS notifications_sent ON notifications(target, sent);";

static int schema(PGconn *c, void *ctx)
{
	int r = pg_schema(c, schema_sql);

	(void)ctx;
	return r == 0 ? pglease_schema(c) : r;
}

/* sql with params on p's connection (every statement of this store outside a transaction may run twice). */
static int run(struct pgalerts *p, const char *sql, const struct pg_param *params, int n, PGresult **ret)
{
	return pg_link_run_tx(&p->link, p->in_tx, sql, params, n, ret);
}

/* Text from hosts as the database takes it (valid UTF-8: a name that is not must not fail every evaluation). */
static char *valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	char *out = s ? malloc(UTF8_VALID_SIZE(n)) : NULL;

	return out ? utf8_valid_copy(s, n, out, UTF8_VALID_SIZE(n)) : NULL;
}

static void pg_free(void *db)
{
	struct pgalerts *p = db;

	pg_link_free(&p->link);
	free(p);
}

/* A lease asked for, as pg_link_call() calls it. */
struct asking {
	struct pgalerts *p;
	const char *work, *holder;
};

static int ask_lease(PGconn *c, void *ctx)
{
	struct asking *a = ctx;

	return pglease_try(c, a->work, a->holder, &a->p->epoch);
}

static int pg_lead(void *db, const char *work, const char *holder)
{
	struct pgalerts *p = db;
	struct asking a = { p, work, holder };
	int r = pg_link_call(&p->link, ask_lease, &a);

	(void)snprintf(p->work, sizeof(p->work), "%s", r == 1 ? work : "");
	return r;
}

/* Every writer in turn: the ids of events (sequences taken before commit) then commit in their order. */
#define WRITERS_LOCK "SELECT pg_advisory_xact_lock(hashtext('vigil-alert-writes'))"

static int pg_begin(void *db, bool fenced)
{
	struct pgalerts *p = db;
	int r = fenced && !*p->work ? -ESTALE : run(p, "BEGIN", NULL, 0, NULL);

	if (r < 0)
		return r;
	p->in_tx = true;
	r = run(p, WRITERS_LOCK, NULL, 0, NULL);
	if (r == 0 && fenced)
		r = pglease_hold(p->link.c, p->work, p->epoch);
	if (r == -ESTALE)
		*p->work = '\0';
	if (r < 0) {
		(void)run(p, "ROLLBACK", NULL, 0, NULL);
		p->in_tx = false;
	}
	return r;
}

static int pg_end(void *db, int r)
{
	struct pgalerts *p = db;
	int k = run(p, r < 0 ? "ROLLBACK" : "COMMIT", NULL, 0, NULL);

	p->in_tx = false;
	return r < 0 ? r : k;
}

/* "{1,2,3}" (a bigint[] in text form) into changes; how many. */
static size_t changes_parse(const char *s, uint64_t *changes, size_t max)
{
	size_t n = 0;

	while (s && *s && n < max) {
		char *end;
		uint64_t v;

		s += strspn(s, "{,");
		v = strtoull(s, &end, 10);
		if (end == s)
			break;
		changes[n++] = v;
		s = end;
	}
	return n;
}

static int pg_load(void *db, const char *fingerprint, struct alert *al, struct alert_quiet *q, int64_t *ret_id)
{
	_cleanup_free_ char *fp = valid(fingerprint);
	const struct pg_param p[] = { PG_TEXT(fp) };
	PGresult *res = NULL;
	int r = fp ? run(db,
			 "SELECT id, state, pending_since, fired, resolved, (acked_by IS NOT NULL)::int, flapping, suppressed,"
			 " changes, silenced, escalated FROM alerts WHERE fingerprint=$1 AND state<>'closed'",
			 p, 1, &res) :
		     -ENOMEM;

	*ret_id = 0;
	memset(al, 0, sizeof(*al));
	if (r == 0 && PQntuples(res) == 1) {
		*ret_id = pg_int(res, 0, 0);
		al->state = MAX(alert_state_from_name(PQgetvalue(res, 0, 1)), 0);
		al->pending_since_us = (uint64_t)pg_int(res, 0, 2);
		al->fired_us = (uint64_t)pg_int(res, 0, 3);
		al->resolved_us = (uint64_t)pg_int(res, 0, 4);
		al->acked = pg_int(res, 0, 5);
		al->flapping = pg_int(res, 0, 6);
		q->suppressed = pg_int(res, 0, 7);
		al->n_changes = changes_parse(PQgetvalue(res, 0, 8), al->changes, ALERT_CHANGES_KEPT);
		q->silenced = pg_int(res, 0, 9);
		al->escalated_us = (uint64_t)pg_int(res, 0, 10);
	}
	PQclear(res);
	return r;
}

/* The strings of an alert_row as the database takes them. */
struct row_text {
	char *fp, *rule, *agent, *host, *labels, *severity, *summary, *value;
};

static void row_text_free(struct row_text *t)
{
	free(t->fp), free(t->rule), free(t->agent), free(t->host);
	free(t->labels), free(t->severity), free(t->summary), free(t->value);
}

/* al's changes as a bigint[] in text form ("{1,2,3}"). */
static void changes_text(const struct alert *al, char *out, size_t size)
{
	size_t n = (size_t)snprintf(out, size, "{");

	for (size_t i = 0; i < al->n_changes && n < size; i++)
		n += (size_t)snprintf(out + n, size - n, "%s%" PRIu64, i ? "," : "", al->changes[i]);
	if (n < size)
		(void)snprintf(out + n, size - n, "}");
}

static int save_update(void *db, const struct alert_row *row, const struct row_text *t, const char *changes, int64_t id)
{
	const struct alert *al = row->al;
	const struct pg_num pending = pg_num((long long)al->pending_since_us), fired = pg_num((long long)al->fired_us),
			    resolved = pg_num((long long)al->resolved_us), now = pg_num((long long)row->now),
			    acked = pg_num(al->acked), flapping = pg_num(al->flapping),
			    suppressed = pg_num(row->q->suppressed), silenced = pg_num(row->q->silenced),
			    escalated = pg_num((long long)al->escalated_us), self = pg_num(id);
	const struct pg_param p[] = { PG_TEXT(t->host), PG_TEXT(t->labels), PG_TEXT(alert_state_name(al->state)),
				      PG_TEXT(t->summary), PG_TEXT(t->value), PG_TEXT(pending.s), PG_TEXT(fired.s),
				      PG_TEXT(resolved.s), PG_TEXT(now.s), PG_TEXT(acked.s), PG_TEXT(flapping.s),
				      PG_TEXT(suppressed.s), PG_TEXT(changes), PG_TEXT(silenced.s), PG_TEXT(escalated.s),
				      PG_TEXT(self.s) };

	return run(db,
		   "UPDATE alerts SET host=$1, labels=$2, state=$3, summary=$4, value=$5, pending_since=$6::bigint,"
		   " fired=$7::bigint, resolved=$8::bigint, updated=$9::bigint,"
		   " acked_by=CASE WHEN $10::int <> 0 THEN acked_by END, flapping=$11::int, suppressed=$12::int,"
		   " changes=$13::bigint[], silenced=$14::int, escalated=$15::bigint WHERE id=$16::bigint",
		   p, ARRAY_SIZE(p), NULL);
}

static int save_insert(void *db, const struct alert_row *row, const struct row_text *t, const char *changes,
		       int64_t *id)
{
	const struct alert *al = row->al;
	const struct pg_num pending = pg_num((long long)al->pending_since_us), fired = pg_num((long long)al->fired_us),
			    resolved = pg_num((long long)al->resolved_us), now = pg_num((long long)row->now),
			    flapping = pg_num(al->flapping), suppressed = pg_num(row->q->suppressed),
			    silenced = pg_num(row->q->silenced), escalated = pg_num((long long)al->escalated_us);
	const struct pg_param p[] = { PG_TEXT(t->fp), PG_TEXT(t->rule), PG_TEXT(t->agent), PG_TEXT(t->host),
				      PG_TEXT(t->labels), PG_TEXT(alert_state_name(al->state)), PG_TEXT(t->severity),
				      PG_TEXT(t->summary), PG_TEXT(t->value), PG_TEXT(pending.s), PG_TEXT(fired.s),
				      PG_TEXT(resolved.s), PG_TEXT(now.s), PG_TEXT(flapping.s), PG_TEXT(suppressed.s),
				      PG_TEXT(changes), PG_TEXT(silenced.s), PG_TEXT(escalated.s) };
	PGresult *res = NULL;
	int r = run(db,
		    "INSERT INTO alerts(fingerprint, rule, agent, host, labels, state, severity, summary, value,"
		    " pending_since, fired, resolved, updated, flapping, suppressed, changes, silenced, escalated)"
		    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::bigint, $11::bigint, $12::bigint, $13::bigint,"
		    " $14::int, $15::int, $16::bigint[], $17::int, $18::bigint) RETURNING id",
		    p, ARRAY_SIZE(p), &res);

	if (r == 0)
		*id = pg_int(res, 0, 0);
	PQclear(res);
	return r;
}

static int pg_save(void *db, const struct alert_row *row, int64_t *id)
{
	struct row_text t = { valid(row->fingerprint), valid(row->rule), valid(row->agent), valid(row->host),
			      valid(row->labels), valid(row->severity), valid(row->summary), valid(row->value) };
	char changes[ALERT_CHANGES_KEPT * 21 + 3];
	int r = 0;

	if (!t.fp || !t.rule || !t.agent || !t.host || !t.labels || !t.severity || !t.summary || (row->value && !t.value))
		r = -ENOMEM;
	changes_text(row->al, changes, sizeof(changes));
	if (r == 0)
		r = *id ? save_update(db, row, &t, changes, *id) : save_insert(db, row, &t, changes, id);
	row_text_free(&t);
	return r;
}

static int pg_event(void *db, int64_t id, uint64_t ts, const char *actor, const char *action, const char *note)
{
	_cleanup_free_ char *n = valid(note);
	const struct pg_num i = pg_num(id), t = pg_num((long long)ts);
	const struct pg_param p[] = { PG_TEXT(i.s), PG_TEXT(t.s), PG_TEXT(actor), PG_TEXT(action), PG_TEXT(n) };

	if (note && !n)
		return -ENOMEM;
	return run(db, "INSERT INTO alert_events(alert, ts, actor, action, note) VALUES ($1::bigint, $2::bigint, $3, $4, $5)",
		   p, ARRAY_SIZE(p), NULL);
}

/* The rows of sql with params, each handed to row(res, k, ctx) until it answers non-zero. */
static int each(void *db, const char *sql, const struct pg_param *params, int n,
		int (*row)(const PGresult *res, int k, void *ctx), void *ctx)
{
	PGresult *res = NULL;
	int r = run(db, sql, params, n, &res);

	for (int k = 0; r == 0 && k < PQntuples(res); k++)
		r = row(res, k, ctx);
	PQclear(res);
	return r;
}

struct fp_fn {
	int (*fn)(const char *fp, void *ctx);
	void *ctx;
};

static int call_fp(const PGresult *res, int k, void *ctx)
{
	const struct fp_fn *f = ctx;

	return f->fn(PQgetvalue(res, k, 0), f->ctx);
}

static int pg_open_fingerprints(void *db, const char *rule, int (*fn)(const char *fp, void *ctx), void *ctx)
{
	const struct pg_param p[] = { PG_TEXT(rule) };
	struct fp_fn f = { fn, ctx };

	return each(db, "SELECT fingerprint FROM alerts WHERE rule=$1 AND state<>'closed'", p, 1, call_fp, &f);
}

struct id_fn {
	int (*fn)(int64_t id, void *ctx);
	int (*fn_rule)(int64_t id, const char *rule, void *ctx);
	void *ctx;
};

static int call_id(const PGresult *res, int k, void *ctx)
{
	const struct id_fn *f = ctx;

	return f->fn ? f->fn(pg_int(res, k, 0), f->ctx) : f->fn_rule(pg_int(res, k, 0), PQgetvalue(res, k, 1), f->ctx);
}

static int pg_open_ids(void *db, const char *rule, int (*fn)(int64_t id, void *ctx), void *ctx)
{
	const struct pg_param p[] = { PG_TEXT(rule) };
	struct id_fn f = { .fn = fn, .ctx = ctx };

	return each(db, "SELECT id FROM alerts WHERE rule=$1 AND state<>'closed'", p, 1, call_id, &f);
}

static int pg_active(void *db, int (*fn)(int64_t id, const char *rule, void *ctx), void *ctx)
{
	struct id_fn f = { .fn_rule = fn, .ctx = ctx };

	return each(db, "SELECT id, rule FROM alerts WHERE state IN ('pending', 'firing')", NULL, 0, call_id, &f);
}

static bool pg_identity(void *db, int64_t id, char *fp, char *agent, char *host, size_t size)
{
	const struct pg_num i = pg_num(id);
	const struct pg_param p[] = { PG_TEXT(i.s) };
	PGresult *res = NULL;
	bool found = run(db, "SELECT fingerprint, agent, host FROM alerts WHERE id=$1::bigint", p, 1, &res) == 0 &&
		     PQntuples(res) == 1;

	if (found) {
		(void)snprintf(fp, size, "%s", PQgetvalue(res, 0, 0));
		(void)snprintf(agent, size, "%s", PQgetvalue(res, 0, 1));
		(void)snprintf(host, size, "%s", PQgetvalue(res, 0, 2));
	}
	PQclear(res);
	return found;
}

static int pg_resolve(void *db, int64_t id, uint64_t now)
{
	const struct pg_num i = pg_num(id), t = pg_num((long long)now);
	const struct pg_param p[] = { PG_TEXT(t.s), PG_TEXT(i.s) };

	return run(db, "UPDATE alerts SET state='resolved', resolved=$1::bigint, updated=$1::bigint WHERE id=$2::bigint", p,
		   2, NULL);
}

#define ALERT_COLUMNS                                                                                           \
	"id, rule, state, severity, host, agent, labels, summary, value, pending_since, fired, resolved, updated," \
	" acked_by, assignee, flapping, suppressed, silenced"

static json_t *text_or_null(const PGresult *res, int k, int col)
{
	return PQgetisnull(res, k, col) ? json_null() : json_string(PQgetvalue(res, k, col));
}

/* Row k of ALERT_COLUMNS as the API shows it. */
static json_t *alert_json(const PGresult *res, int k)
{
	json_t *labels = json_loads(PQgetvalue(res, k, 6), 0, NULL);

	return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:o, s:o, s:b, s:b, s:b}",
			 "id", (json_int_t)pg_int(res, k, 0), "rule", text_or_null(res, k, 1), "state",
			 text_or_null(res, k, 2), "severity", text_or_null(res, k, 3), "host", text_or_null(res, k, 4),
			 "agent", text_or_null(res, k, 5), "labels", labels ? labels : json_object(), "summary",
			 text_or_null(res, k, 7), "value", text_or_null(res, k, 8), "started",
			 (json_int_t)pg_int(res, k, 9), "fired", (json_int_t)pg_int(res, k, 10), "resolved",
			 (json_int_t)pg_int(res, k, 11), "updated", (json_int_t)pg_int(res, k, 12), "acked_by",
			 text_or_null(res, k, 13), "assignee", text_or_null(res, k, 14), "flapping",
			 (int)pg_int(res, k, 15), "suppressed", (int)pg_int(res, k, 16), "silenced",
			 (int)pg_int(res, k, 17));
}

static int pg_get(void *db, int64_t id, json_t **ret)
{
	const struct pg_num i = pg_num(id);
	const struct pg_param p[] = { PG_TEXT(i.s) };
	PGresult *res = NULL;
	int r = run(db, "SELECT " ALERT_COLUMNS " FROM alerts WHERE id=$1::bigint", p, 1, &res);

	*ret = NULL;
	if (r == 0 && PQntuples(res) == 0)
		r = -ENOENT;
	if (r == 0)
		*ret = alert_json(res, 0);
	PQclear(res);
	return r == 0 && !*ret ? -ENOMEM : r;
}

/*
 * An alert_filter, as alertstore.c's: $1 state, $2 severity, $3 host, $4 a
 * label, $5 its value, $6 the assignee ('' for none), $7 unacknowledged
 * only, $8 text (ASCII lower case: translate() folds the columns the same
 * way, whatever the database's locale) in the summary, rule, host,
 * assignee or acknowledger, $9 the summary searched without the log line
 * its value names; NULL: any.
 */
#define LOG_LINE_SQL "substr(value, strpos(value, ' s: ') + 4)"
#define SUMMARY_SEEN_SQL                                                                                         \
	"CASE WHEN $9::boolean AND strpos(value, ' s: ') > 0 AND " LOG_LINE_SQL " <> '' THEN replace(summary, " \
	LOG_LINE_SQL ", '') ELSE summary END"
#define FILTER_SQL                                                                                              \
	"($1::text IS NULL AND state<>'closed' OR state=$1) AND ($2::text IS NULL OR severity=$2)"             \
	" AND ($3::text IS NULL OR host=$3 OR agent=$3) AND ($4::text IS NULL OR (labels::jsonb ->> $4)=$5::text)" \
	" AND ($6::text IS NULL OR coalesce(assignee, '')=$6) AND (NOT $7::boolean OR acked_by IS NULL)"        \
	" AND ($8::text IS NULL OR strpos(translate(" SUMMARY_SEEN_SQL " || chr(10) || rule || chr(10) || host"  \
	" || chr(10) || coalesce(assignee, '') || chr(10) || coalesce(acked_by, ''),"                            \
	" 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), $8) > 0)"

/* f as FILTER_SQL's parameters; text holds the text in lower case while they are used. */
static void filter_params(const struct alert_filter *f, char text[ALERT_TEXT_MAX + 1], struct pg_param p[9])
{
	for (size_t i = 0; f->text && i <= ALERT_TEXT_MAX; i++)
		text[i] = f->text[i] >= 'A' && f->text[i] <= 'Z' ? (char)(f->text[i] - 'A' + 'a') : f->text[i];
	p[0] = (struct pg_param)PG_TEXT(f->state);
	p[1] = (struct pg_param)PG_TEXT(f->severity);
	p[2] = (struct pg_param)PG_TEXT(f->host);
	p[3] = (struct pg_param)PG_TEXT(f->label_key);
	p[4] = (struct pg_param)PG_TEXT(f->label_value);
	p[5] = (struct pg_param)PG_TEXT(f->assignee);
	p[6] = (struct pg_param)PG_TEXT(f->unacked ? "t" : "f");
	p[7] = (struct pg_param)PG_TEXT(f->text ? text : NULL);
	p[8] = (struct pg_param)PG_TEXT(f->hide_log_lines ? "t" : "f");
}

static int pg_counts(void *db, const struct alert_filter *f, json_t *counts)
{
	struct alert_filter any = *f;
	char text[ALERT_TEXT_MAX + 1];
	struct pg_param p[9];
	PGresult *res = NULL;
	int r;

	any.severity = NULL;
	filter_params(&any, text, p);
	r = run(db, "SELECT severity, count(*) FROM alerts WHERE " FILTER_SQL " GROUP BY severity", p, 9, &res);
	for (int k = 0; r == 0 && k < PQntuples(res); k++)
		json_object_set_new(counts, PQgetvalue(res, k, 0), json_integer(pg_int(res, k, 1)));
	PQclear(res);
	return r;
}

static int pg_list(void *db, const struct alert_filter *f, json_t *items, int64_t *ret_total)
{
	char text[ALERT_TEXT_MAX + 1];
	struct pg_param p[9];
	PGresult *res = NULL;
	int r;

	filter_params(f, text, p);
	/* The count is over every row the filter selects, before the limit: a list says what it leaves out. */
	r = run(db, "SELECT " ALERT_COLUMNS ", count(*) OVER () FROM alerts WHERE " FILTER_SQL
		    " ORDER BY id DESC LIMIT 1000", p, 9, &res);
	*ret_total = 0;
	for (int k = 0; r == 0 && k < PQntuples(res); k++) {
		json_array_append_new(items, alert_json(res, k));
		*ret_total = pg_int(res, k, PQnfields(res) - 1);
	}
	PQclear(res);
	return r;
}

static int pg_history(void *db, int64_t id, json_t *history)
{
	const struct pg_num i = pg_num(id);
	const struct pg_param p[] = { PG_TEXT(i.s) };
	PGresult *res = NULL;
	int r = run(db, "SELECT ts, actor, action, note FROM alert_events WHERE alert=$1::bigint ORDER BY id", p, 1, &res);

	for (int k = 0; r == 0 && k < PQntuples(res); k++)
		json_array_append_new(history, json_pack("{s:I, s:o, s:o, s:o}", "ts", (json_int_t)pg_int(res, k, 0),
							 "actor", text_or_null(res, k, 1), "action",
							 text_or_null(res, k, 2), "note", text_or_null(res, k, 3)));
	PQclear(res);
	return r;
}

static int pg_events(void *db, int64_t after, unsigned limit, json_t *items, int64_t *ret_last)
{
	const struct pg_num a = pg_num(after), l = pg_num(limit);
	const struct pg_param p[] = { PG_TEXT(a.s), PG_TEXT(l.s) };
	PGresult *res = NULL;
	int r = run(db,
		    "SELECT e.id, e.alert, e.ts, e.actor, e.action, e.note, a.rule, a.severity, a.host, a.agent,"
		    " a.labels, a.summary, a.value FROM alert_events e JOIN alerts a ON a.id=e.alert WHERE e.id>$1::bigint"
		    " ORDER BY e.id LIMIT $2::bigint",
		    p, 2, &res);

	*ret_last = after;
	for (int k = 0; r == 0 && k < PQntuples(res); k++) {
		json_t *labels = json_loads(PQgetvalue(res, k, 10), 0, NULL);

		*ret_last = pg_int(res, k, 0);
		json_array_append_new(items, json_pack("{s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
						       "id", (json_int_t)*ret_last, "alert", (json_int_t)pg_int(res, k, 1),
						       "ts", (json_int_t)pg_int(res, k, 2), "actor", text_or_null(res, k, 3),
						       "action", text_or_null(res, k, 4), "note", text_or_null(res, k, 5),
						       "rule", text_or_null(res, k, 6), "severity", text_or_null(res, k, 7),
						       "host", text_or_null(res, k, 8), "agent", text_or_null(res, k, 9),
						       "labels", labels ? labels : json_object(), "summary",
						       text_or_null(res, k, 11), "value", text_or_null(res, k, 12)));
	}
	PQclear(res);
	return r;
}

/* What each ops action changes: $1 is the alert, $2 now, $3 the action's argument when it takes one. NULL: history only. */
static const struct {
	const char *sql;
	bool takes_arg;
} act_sql[ALERT_ACTIONS] = {
	[ALERT_ACK] = { "UPDATE alerts SET acked_by=$3, updated=$2::bigint WHERE id=$1::bigint", true },
	[ALERT_UNACK] = { "UPDATE alerts SET acked_by=NULL, updated=$2::bigint WHERE id=$1::bigint", false },
	[ALERT_ASSIGN] = { "UPDATE alerts SET assignee=$3, updated=$2::bigint WHERE id=$1::bigint", true },
	[ALERT_SEVERITY] = { "UPDATE alerts SET severity=$3, updated=$2::bigint WHERE id=$1::bigint", true },
	[ALERT_CLOSE] = { "UPDATE alerts SET state='closed', updated=$2::bigint,"
			  " resolved=CASE WHEN resolved=0 THEN $2::bigint ELSE resolved END WHERE id=$1::bigint", false },
};

static int pg_act(void *db, int64_t id, enum alert_action action, const char *arg, uint64_t now)
{
	const struct pg_num i = pg_num(id), t = pg_num((long long)now);
	const struct pg_param p[] = { PG_TEXT(i.s), PG_TEXT(t.s), PG_TEXT(arg) };

	if (!act_sql[action].sql)
		return 0;
	return run(db, act_sql[action].sql, p, act_sql[action].takes_arg ? 3 : 2, NULL);
}

/* The queue. */

static int pg_queue_add(void *db, int64_t alert, const char *target, const char *event, const char *payload,
			uint64_t now_us, int64_t *ret_id)
{
	const struct pg_num a = pg_num(alert), t = pg_num((long long)now_us);
	const struct pg_param p[] = { PG_TEXT(a.s), PG_TEXT(target), PG_TEXT(event), PG_TEXT(payload), PG_TEXT(t.s) };
	PGresult *res = NULL;
	int r = run(db,
		    "INSERT INTO notifications(alert, target, event, payload, next_attempt, created)"
		    " VALUES ($1::bigint, $2, $3, $4, $5::bigint, $5::bigint) RETURNING id",
		    p, ARRAY_SIZE(p), &res);

	if (r == 0 && ret_id)
		*ret_id = pg_int(res, 0, 0);
	PQclear(res);
	return r;
}

struct queued_fn {
	int (*fn)(const struct queued *q, const char *text, void *ctx);
	void *ctx;
};

/* A row of (id, alert, text, attempts). */
static int call_queued(const PGresult *res, int k, void *ctx)
{
	const struct queued_fn *f = ctx;
	struct queued q = { .id = pg_int(res, k, 0), .alert = pg_int(res, k, 1), .attempts = (unsigned)pg_int(res, k, 3) };

	return f->fn(&q, PQgetvalue(res, k, 2), f->ctx);
}

static int pg_queue_due(void *db, uint64_t now, size_t limit,
			int (*fn)(const struct queued *q, const char *target, void *ctx), void *ctx)
{
	const struct pg_num t = pg_num((long long)now), l = pg_num((long long)limit);
	const struct pg_param p[] = { PG_TEXT(t.s), PG_TEXT(l.s) };
	struct queued_fn f = { fn, ctx };
	int r = each(db, "SELECT id, alert, target, attempts FROM notifications WHERE state='queued'"
			 " AND next_attempt<=$1::bigint ORDER BY id LIMIT $2::bigint", p, 2, call_queued, &f);

	return r < 0 ? r : 0;
}

static int pg_queue_due_of(void *db, const char *target, uint64_t now, size_t limit,
			   int (*fn)(const struct queued *q, const char *payload, void *ctx), void *ctx)
{
	const struct pg_num t = pg_num((long long)now), l = pg_num((long long)limit);
	const struct pg_param p[] = { PG_TEXT(t.s), PG_TEXT(target), PG_TEXT(l.s) };
	struct queued_fn f = { fn, ctx };
	int r = each(db, "SELECT id, alert, payload, attempts FROM notifications WHERE state='queued'"
			 " AND next_attempt<=$1::bigint AND target=$2 ORDER BY id LIMIT $3::bigint", p, 3, call_queued, &f);

	return r < 0 ? r : 0;
}

static uint64_t pg_queue_sent_since(void *db, const char *target, uint64_t since_us)
{
	const struct pg_num s = pg_num((long long)since_us);
	const struct pg_param p[] = { PG_TEXT(target), PG_TEXT(s.s) };
	PGresult *res = NULL;
	uint64_t count = 0;

	if (run(db, "SELECT count(DISTINCT coalesce(digest, id)) FROM notifications WHERE target=$1 AND sent>=$2::bigint",
		p, 2, &res) == 0)
		count = (uint64_t)pg_int(res, 0, 0);
	PQclear(res);
	return count;
}

static int pg_queue_record(void *db, const struct queued *q, enum queue_state state, uint64_t next_attempt,
			   const char *error, uint64_t now, int64_t digest)
{
	static const char *const names[] = { [QUEUE_QUEUED] = "queued", [QUEUE_SENT] = "sent", [QUEUE_FAILED] = "failed" };
	_cleanup_free_ char *e = valid(error);
	const struct pg_num i = pg_num(q->id), next = pg_num((long long)next_attempt), t = pg_num((long long)now),
			    d = pg_num(digest);
	const struct pg_param p[] = { PG_TEXT(i.s), PG_TEXT(names[state]), PG_TEXT(next.s), PG_TEXT(e), PG_TEXT(t.s),
				      PG_TEXT(digest ? d.s : NULL) };

	if (error && !e)
		return -ENOMEM;
	return run(db,
		   "UPDATE notifications SET state=$2, attempts=attempts+1, next_attempt=$3::bigint, last_error=$4,"
		   " sent=CASE WHEN $2='sent' THEN $5::bigint END, digest=$6::bigint WHERE id=$1::bigint",
		   p, ARRAY_SIZE(p), NULL);
}

static int pg_queue_stats(void *db, const char *target, struct queue_stats *ret)
{
	const struct pg_param p[] = { PG_TEXT(target) };
	PGresult *res = NULL;
	int r = run(db,
		    "SELECT count(*) FILTER (WHERE state='queued'), count(*) FILTER (WHERE state='sent'),"
		    " count(*) FILTER (WHERE state='failed'),"
		    " (SELECT last_error FROM notifications WHERE target=$1 AND last_error IS NOT NULL"
		    "  ORDER BY id DESC LIMIT 1)"
		    " FROM notifications WHERE target=$1",
		    p, 1, &res);

	*ret = (struct queue_stats){ 0 };
	if (r == 0 && PQntuples(res) == 1) {
		ret->queued = pg_int(res, 0, 0);
		ret->sent = pg_int(res, 0, 1);
		ret->failed = pg_int(res, 0, 2);
		ret->has_error = !PQgetisnull(res, 0, 3);
		if (ret->has_error)
			(void)snprintf(ret->last_error, sizeof(ret->last_error), "%s", PQgetvalue(res, 0, 3));
	}
	PQclear(res);
	return r;
}

static int pg_queue_of_alert(void *db, int64_t alert, size_t limit, json_t *items)
{
	const struct pg_num a = pg_num(alert), l = pg_num((long long)limit);
	const struct pg_param p[] = { PG_TEXT(a.s), PG_TEXT(l.s) };
	PGresult *res = NULL;
	int r = run(db, "SELECT id, target, event, state, attempts, created, coalesce(sent, 0), last_error"
			" FROM notifications WHERE alert=$1::bigint ORDER BY id LIMIT $2::bigint", p, 2, &res);

	for (int k = 0; r == 0 && k < PQntuples(res); k++)
		json_array_append_new(items, json_pack("{s:I, s:o, s:o, s:o, s:i, s:I, s:I, s:o}", "id",
						       (json_int_t)pg_int(res, k, 0), "target", text_or_null(res, k, 1),
						       "event", text_or_null(res, k, 2), "state", text_or_null(res, k, 3),
						       "attempts", (int)pg_int(res, k, 4), "created",
						       (json_int_t)pg_int(res, k, 5), "sent", (json_int_t)pg_int(res, k, 6),
						       "error", text_or_null(res, k, 7)));
	PQclear(res);
	return r;
}

/* --migrate: the tables rows are copied into, the only names the statements below are made with. */
static const char *const migrated[] = { "alerts", "alert_events", "notifications" };

static bool is_migrated(const char *table)
{
	for (size_t i = 0; i < ARRAY_SIZE(migrated); i++)
		if (strcmp(migrated[i], table) == 0)
			return true;
	return false;
}

/* sql, made for one of the migrated tables, run with row as its JSON parameter: whether it answered true. */
static int migrated_row(void *db, const char *table, const char *sql, json_t *row, bool *ret)
{
	_cleanup_free_ char *text = json_dumps(row, JSON_COMPACT);
	const struct pg_param p[] = { PG_TEXT(text) };
	PGresult *res = NULL;
	int r = !is_migrated(table) ? -EINVAL : !text ? -ENOMEM : run(db, sql, p, 1, &res);

	if (r == 0)
		*ret = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return r;
}

static int pg_put_row(void *db, const char *table, json_t *row)
{
	char sql[256];
	bool copied = false;
	int r;

	/* The row's columns by name: json_populate_record() takes each key to the column of that name. */
	(void)snprintf(sql, sizeof(sql), "INSERT INTO %s SELECT * FROM json_populate_record(NULL::%s, $1::json)"
					 " ON CONFLICT (id) DO NOTHING RETURNING true", table, table);
	r = migrated_row(db, table, sql, row, &copied);
	return r < 0 ? r : copied;
}

static int pg_holds_row(void *db, const char *table, json_t *row)
{
	char sql[256];
	bool same = false;
	int r;

	/* jsonb containment: every column the row gives, of the same value (numbers as numbers) there. */
	(void)snprintf(sql, sizeof(sql), "SELECT coalesce((SELECT to_jsonb(t) @> $1::jsonb FROM %s t"
					 " WHERE id = ($1::jsonb ->> 'id')::bigint), false)", table);
	r = migrated_row(db, table, sql, row, &same);
	return r < 0 ? r : same;
}

static int pg_rows_done(void *db)
{
	char sql[256];
	int r = 0;

	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(migrated); i++) {
		(void)snprintf(sql, sizeof(sql), "SELECT setval(pg_get_serial_sequence('%s', 'id'),"
						 " greatest((SELECT max(id) FROM %s), 1))", migrated[i], migrated[i]);
		r = run(db, sql, NULL, 0, NULL);
	}
	return r;
}

static const struct queue_ops queue_pg = {
	.add = pg_queue_add, .due = pg_queue_due, .due_of = pg_queue_due_of, .sent_since = pg_queue_sent_since,
	.record = pg_queue_record, .stats = pg_queue_stats, .of_alert = pg_queue_of_alert,
};

static const struct alert_store_ops pg_ops = {
	.shared = true, .free = pg_free, .lead = pg_lead, .begin = pg_begin, .end = pg_end, .load = pg_load, .save = pg_save,
	.event = pg_event, .open_fingerprints = pg_open_fingerprints, .open_ids = pg_open_ids, .active = pg_active,
	.identity = pg_identity, .resolve = pg_resolve, .get = pg_get, .list = pg_list, .counts = pg_counts,
	.history = pg_history, .events = pg_events, .act = pg_act, .queue = &queue_pg,
	.put_row = pg_put_row, .holds_row = pg_holds_row, .rows_done = pg_rows_done,
};

int alert_store_open_pg(const char *url, const char *password_file, struct alert_store **ret)
{
	struct alert_store *a = calloc(1, sizeof(*a));
	struct pgalerts *p = calloc(1, sizeof(*p));
	int r = a && p ? pg_link_start(&p->link, &(struct pg_conf){ .url = url, .password_file = password_file }, schema, NULL) : -ENOMEM;

	if (r < 0) {
		free(p);
		free(a);
		return r;
	}
	*a = (struct alert_store){ &pg_ops, p, p };
	*ret = a;
	return 0;
}
