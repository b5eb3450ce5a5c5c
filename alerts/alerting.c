/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <fnmatch.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <stdio.h>

#include "alerts/alerting.h"
#include "alerts/alert.h"
#include "common/buf.h"
#include "common/db.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/util.h"
#include "common/metrics.h"
#include "alerts/notify.h"
#include "store/blocks.h"
#include "store/hosts.h"
#include "store/storage.h"
#include "store/verify.h"

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
	"CREATE INDEX IF NOT EXISTS alert_events_alert ON alert_events(alert, id);"
	"CREATE TABLE IF NOT EXISTS silences(id INTEGER PRIMARY KEY, matchers TEXT NOT NULL, starts INTEGER NOT NULL,"
	" ends INTEGER NOT NULL, creator TEXT NOT NULL, comment TEXT NOT NULL, created INTEGER NOT NULL,"
	" every INTEGER NOT NULL DEFAULT 0, until INTEGER NOT NULL DEFAULT 0);";

/* Columns added after the table's first release. */
static int migrate(sqlite3 *db)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "SELECT every FROM silences LIMIT 0", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_finalize(st);
		return 0;
	}
	return db_exec(db, "ALTER TABLE silences ADD COLUMN every INTEGER NOT NULL DEFAULT 0;"
			   " ALTER TABLE silences ADD COLUMN until INTEGER NOT NULL DEFAULT 0;");
}

#define ALERT_COLUMNS                                                                                           \
	"id, rule, state, severity, host, agent, labels, summary, value, pending_since, fired, resolved, updated," \
	" acked_by, assignee, flapping, suppressed, silenced"

enum {
	S_LOAD,
	S_INSERT,
	S_UPDATE,
	S_EVENT,
	S_OPEN_OF_RULE,
	S_LIST,
	S_GET,
	S_HISTORY,
	S_IDENTITY,
	S_SILENCES_NOW,
	S_OPEN_RULES,
	S_ORPHAN,
	S_OPEN_FPS,
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
	[S_EVENT] = "INSERT INTO alert_events(alert, ts, actor, action, note) VALUES (?,?,?,?,?)",
	[S_OPEN_OF_RULE] = "SELECT id FROM alerts WHERE rule=? AND state<>'closed'",
	[S_LIST] = "SELECT " ALERT_COLUMNS " FROM alerts WHERE (?1 IS NULL AND state<>'closed' OR state=?1)"
		   " AND (?2 IS NULL OR severity=?2) AND (?3 IS NULL OR host=?3 OR agent=?3)"
		   " AND (?4 IS NULL OR json_extract(labels, ?4)=?5) ORDER BY id DESC LIMIT 1000",
	[S_GET] = "SELECT " ALERT_COLUMNS " FROM alerts WHERE id=?",
	[S_HISTORY] = "SELECT ts, actor, action, note FROM alert_events WHERE alert=? ORDER BY id",
	[S_IDENTITY] = "SELECT fingerprint, agent, host FROM alerts WHERE id=?",
	[S_SILENCES_NOW] = "SELECT matchers, starts, ends, every, until FROM silences"
			   " WHERE starts<=?1 AND (every=0 AND ends>?1 OR every>0 AND until>?1)",
	[S_OPEN_RULES] = "SELECT id, rule FROM alerts WHERE state IN ('pending', 'firing')",
	[S_ORPHAN] = "UPDATE alerts SET state='resolved', resolved=?1, updated=?1 WHERE id=?2",
	[S_OPEN_FPS] = "SELECT fingerprint FROM alerts WHERE rule=? AND state<>'closed'",
};

/* When an agent was last heard from. */
struct last_seen {
	char agent[33];
	uint64_t at;
};

struct alerting {
	const struct coll_conf *conf;
	struct catalog *catalog;
	pthread_mutex_t lock;
	sqlite3 *db;
	sqlite3_stmt *st[_S_MAX];
	sd_event_source *timer; /* every [alerts] interval */
	sd_event_source *soon;  /* after new probe results or log matches, debounced */
	sd_event_source *wake;  /* the eventfd ingest's writer pokes */
	int wake_fd;
	uint64_t last_end_us, last_took_us; /* monotonic: when the last evaluation ended, how long it took */
	bool enqueued;          /* the evaluation queued notifications */
	void (*on_enqueued)(void *userdata);
	void *on_enqueued_data;
	json_t *silences; /* matchers of the silences in force, read at each evaluation */
	/* The fingerprints of the open alerts of the rule being evaluated, sorted (strcmp). */
	char **open;
	size_t n_open, cap_open;
	struct last_seen *last_seen; /* every agent's, sorted by agent, read at each evaluation */
	size_t n_last_seen, cap_last_seen;
};

static json_t *alert_json(sqlite3_stmt *st);

/* The alert as the API shows it (without history), or NULL; the caller holds the lock. */
static json_t *alert_by_id(struct alerting *a, int64_t id)
{
	sqlite3_stmt *st = a->st[S_GET];
	json_t *alert = NULL;

	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		alert = alert_json(st);
	(void)sqlite3_reset(st);
	return alert;
}

/* What a rule sees for one thing it watches. */
struct candidate {
	const char *agent, *host;
	const char *item; /* the probe's name, the metric's instance; "" for host rules */
	bool active;      /* probe and host rules: the condition holds */
	bool has_sample;  /* metric rules: the condition is the sample against the rule's threshold, */
	double sample;    /* which depends on the alert's side of it (hysteresis) */
	bool suppressed; /* the host is silent: its probes' alerts are not its own problem */
	char value[512];
};

/* Ids of the alerts an evaluation of one rule has seen; bounded by the rule's candidates. */
struct seen {
	int64_t *ids;
	size_t n, cap;
};

static bool seen_has(const struct seen *s, int64_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->ids[i] == id)
			return true;
	return false;
}

static int seen_add(struct seen *s, int64_t id)
{
	int64_t *grown;

	if (s->n == s->cap) {
		grown = realloc(s->ids, (s->cap ? s->cap * 2 : 64) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		s->ids = grown;
		s->cap = s->cap ? s->cap * 2 : 64;
	}
	s->ids[s->n++] = id;
	return 0;
}

static int step_done(struct alerting *a, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		log_error("alerts: %s", sqlite3_errmsg(a->db));
		return db_errno(rc);
	}
	return 0;
}

static int add_event(struct alerting *a, int64_t id, uint64_t ts, const char *actor, const char *action,
		     const char *note)
{
	sqlite3_stmt *st = a->st[S_EVENT];

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)ts);
	sqlite3_bind_text(st, 3, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, note, -1, SQLITE_STATIC);
	return step_done(a, st);
}

/* {{name}} replaced by the variable or label of that name; unknown names stay empty. */
static void render(const char *tpl, json_t *vars, char *out, size_t size)
{
	struct buf b;
	size_t n;

	buf_init(&b, 64 * 1024);
	while (*tpl) {
		const char *end = strncmp(tpl, "{{", 2) == 0 ? strstr(tpl + 2, "}}") : NULL;
		char key[64];
		const char *v;

		if (!end || (size_t)(end - tpl - 2) >= sizeof(key)) {
			(void)buf_append(&b, tpl++, 1);
			continue;
		}
		(void)snprintf(key, sizeof(key), "%.*s", (int)(end - tpl - 2), tpl + 2);
		v = json_string_value(json_object_get(vars, key));
		if (v)
			(void)buf_append(&b, v, strlen(v));
		tpl = end + 2;
	}
	(void)buf_terminate(&b);
	/* Cut whole characters only: a half one would not be valid UTF-8 (nor JSON). */
	n = b.data ? utf8_prefix((const char *)b.data, size - 1) : 0;
	memcpy(out, b.data ? (const char *)b.data : "", n);
	out[n] = 0;
	buf_free(&b);
}

static const struct {
	unsigned bit;
	const char *action;
} event_names[] = {
	{ ALERT_EV_PENDING, "pending" },   { ALERT_EV_FIRED, "fired" },	    { ALERT_EV_RESOLVED, "resolved" },
	{ ALERT_EV_CANCELLED, "cancelled" }, { ALERT_EV_UNACKED, "unacknowledged" }, { ALERT_EV_FLAPPING, "flapping" },
	{ ALERT_EV_STEADY, "steady" },
};

static int record_events(struct alerting *a, int64_t id, unsigned ev, uint64_t now, const char *value)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(event_names); i++)
		if (ev & event_names[i].bit)
			r = add_event(a, id, now, "vigil", event_names[i].action, value);
	return r;
}

static void bind_changes(sqlite3_stmt *st, int col, const struct alert *al)
{
	uint8_t blob[ALERT_CHANGES_KEPT * 8];

	for (size_t i = 0; i < al->n_changes; i++)
		put_le64(blob + 8 * i, al->changes[i]);
	sqlite3_bind_blob(st, col, blob, (int)(al->n_changes * 8), SQLITE_TRANSIENT);
}

/* Why an alert is not told: its host is silent, or a silence matches it. */
struct quiet {
	bool suppressed, silenced;
};

/* The open alert of fingerprint into *al; 0 with *id = 0 when there is none. */
static int load_alert(struct alerting *a, const char *fingerprint, struct alert *al, int64_t *id, struct quiet *q)
{
	sqlite3_stmt *st = a->st[S_LOAD];
	int rc;

	*id = 0;
	memset(al, 0, sizeof(*al));
	sqlite3_bind_text(st, 1, fingerprint, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const uint8_t *ch = sqlite3_column_blob(st, 8);
		size_t n = (size_t)sqlite3_column_bytes(st, 8) / 8;

		*id = sqlite3_column_int64(st, 0);
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

static void timing_of(const struct rule_conf *rule, struct alert_timing *t)
{
	*t = (struct alert_timing){ .for_us = rule->for_ms * 1000, .flap_changes = (unsigned)rule->flap_changes,
				    .flap_window_us = rule->flap_window_ms * 1000,
				    .clear_ack_on_recovery = rule->clear_ack_on_recovery };
}

/* A candidate's alert's labels: the rule's, host, and probe or instance. */
static json_t *alert_labels(const struct rule_conf *rule, const struct candidate *c)
{
	json_t *l = rule->labels ? labels_json((const uint8_t *)rule->labels, strlen(rule->labels)) : json_object();

	json_object_set_new(l, "host", json_string(c->host));
	if (*c->item)
		json_object_set_new(l, strcmp(rule->type, "probe") == 0	     ? "probe" :
				       strcmp(rule->type, "dialtest") == 0 ? "dialtest" :
									     "instance",
				    json_string(c->item));
	return l;
}

/* Whether a silence in force matches: each of its matchers equals a label, or the rule or severity. */
static bool silenced(struct alerting *a, const struct rule_conf *rule, json_t *labels)
{
	json_t *m, *v;
	const char *key;
	size_t i;

	json_array_foreach(a->silences, i, m) {
		bool all = true;

		json_object_foreach(m, key, v) {
			const char *have = strcmp(key, "rule") == 0	     ? rule->name :
					   strcmp(key, "severity") == 0 ? rule->severity :
									  json_string_value(json_object_get(labels, key));
			all &= have && strcmp(have, json_string_value(v)) == 0;
		}
		if (all)
			return true;
	}
	return false;
}

/* The labels (from alert_labels()) as stored, and the summary of a candidate's alert. */
static int describe(const struct rule_conf *rule, const struct candidate *c, json_t *l, char **labels,
		    char *summary, size_t size)
{
	json_t *vars = json_deep_copy(l);

	json_object_set_new(vars, "value", json_string(c->value));
	json_object_set_new(vars, "rule", json_string(rule->name));
	render(rule->summary			 ? rule->summary :
	       strcmp(rule->type, "probe") == 0	   ? "{{probe}} on {{host}}: {{value}}" :
	       strcmp(rule->type, "dialtest") == 0 ? "dial test {{dialtest}}: {{value}}" :
						      "{{host}}: {{value}}",
	       vars, summary, size);
	*labels = json_dumps(l, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(vars);
	return *labels ? 0 : -ENOMEM;
}

static int save_alert(struct alerting *a, const struct rule_conf *rule, const struct candidate *c, json_t *l,
		      const char *fp, const struct alert *al, int64_t *id, const struct quiet *q, uint64_t now)
{
	sqlite3_stmt *st = a->st[*id ? S_UPDATE : S_INSERT];
	char summary[1024], *labels;
	int r = describe(rule, c, l, &labels, summary, sizeof(summary));

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, fp, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, rule->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->agent, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, labels, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, alert_state_name(al->state), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, rule->severity, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, summary, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, c->value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)al->pending_since_us);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)al->fired_us);
	sqlite3_bind_int64(st, 12, (sqlite3_int64)al->resolved_us);
	sqlite3_bind_int64(st, 13, (sqlite3_int64)now);
	sqlite3_bind_int(st, 14, al->flapping);
	sqlite3_bind_int(st, 15, q->suppressed);
	bind_changes(st, 16, al);
	sqlite3_bind_int(st, 17, q->silenced);
	sqlite3_bind_int64(st, 18, (sqlite3_int64)al->escalated_us);
	if (*id) {
		sqlite3_bind_int(st, 19, al->acked);
		sqlite3_bind_int64(st, 20, *id);
	}
	r = step_done(a, st);
	if (r == 0 && !*id)
		*id = sqlite3_last_insert_rowid(a->db);
	free(labels);
	return r;
}

/* The event a change is told as: fired, resolved, or flapping once (then nothing while it flaps). */
static const char *notified_event(unsigned ev, const struct alert *al)
{
	if (ev & ALERT_EV_FLAPPING)
		return "flapping";
	if (al->flapping)
		return NULL;
	return ev & ALERT_EV_FIRED ? "fired" : ev & ALERT_EV_RESOLVED ? "resolved" : NULL;
}

/* Whether every key=glob of a route's match= holds for the alert (labels, or its rule or severity). */
static bool route_matches(const struct route_conf *route, json_t *alert)
{
	const char *p = route->match;
	char word[512];

	while (next_word(&p, word, sizeof(word))) {
		char *eq = strchr(word, '=');
		const char *have;

		if (!eq)
			return false;
		*eq = 0;
		have = strcmp(word, "rule") == 0 || strcmp(word, "severity") == 0 ?
			       json_string_value(json_object_get(alert, word)) :
			       json_string_value(json_object_get(json_object_get(alert, "labels"), word));
		if (!have || fnmatch(eq + 1, have, 0) != 0)
			return false;
	}
	return true;
}

#define TOLD_MAX 64

/* Queues payload for each target named in list not told yet (told keeps the names, up to TOLD_MAX). */
static int enqueue_list(struct alerting *a, const char *list, int64_t id, const char *event, const char *payload,
			uint64_t now, char (*told)[256], size_t *n_told)
{
	const char *p = list;
	char name[256];
	int r = 0;

	while (r == 0 && p && next_word(&p, name, sizeof(name))) {
		bool dup = false;

		for (size_t i = 0; i < *n_told && !dup; i++)
			dup = strcmp(told[i], name) == 0;
		if (dup || *n_told == TOLD_MAX)
			continue;
		memcpy(told[(*n_told)++], name, sizeof(name));
		r = notify_enqueue(a->db, id, name, event, payload, now);
		a->enqueued = true;
	}
	return r;
}

/* Where the alert is shown: the console when [alerts] console_url= is set, else the API. */
static json_t *alert_url(const struct coll_conf *conf, int64_t id)
{
	char url[1024];

	if (conf->alerts.console_url)
		(void)snprintf(url, sizeof(url), "%.*s/alerts/%lld", (int)strcspn(conf->alerts.console_url, "#"),
			       conf->alerts.console_url, (long long)id);
	else
		(void)snprintf(url, sizeof(url), "http://%s/api/v1/alerts/%lld", conf->http.listen, (long long)id);
	return json_string(url);
}

/*
 * Queues the change for targets (space-separated names) and, when routed,
 * for the targets of every [route] the alert matches; each target once. In
 * the evaluation's transaction.
 */
static int enqueue_notifications(struct alerting *a, const char *targets, bool routed, int64_t id,
				 const char *event, uint64_t now)
{
	char told[TOLD_MAX][256];
	size_t n_told = 0;
	json_t *alert = alert_by_id(a, id);
	char *payload = NULL;
	int r;

	if (!alert)
		return -ENOENT;
	json_object_set_new(alert, "event", json_string(event));
	json_object_set_new(alert, "url", alert_url(a->conf, id));
	payload = json_dumps(alert, JSON_COMPACT);
	r = payload ? enqueue_list(a, targets, id, event, payload, now, told, &n_told) : -ENOMEM;
	for (size_t i = 0; r == 0 && routed && i < a->conf->n_routes; i++)
		if (route_matches(a->conf->routes[i], alert))
			r = enqueue_list(a, a->conf->routes[i]->notify, id, event, payload, now, told, &n_told);
	json_decref(alert);
	free(payload);
	return r;
}

/* What a silence's end tells of what it hid: the alert still firing, or its resolution. */
static const char *told_at_unsilence(const struct alert *al)
{
	if (al->state == ALERT_FIRING)
		return "fired";
	return al->state == ALERT_RESOLVED && al->fired_us ? "resolved" : NULL;
}

/* Records and tells a change of the quiet flags. */
static int quiet_changed(struct alerting *a, const struct rule_conf *rule, int64_t id, const struct alert *al,
			 const struct quiet *was, const struct quiet *is, uint64_t now)
{
	const char *event;
	int r = 0;

	if (was->suppressed != is->suppressed)
		r = add_event(a, id, now, "vigil", is->suppressed ? "suppressed" : "unsuppressed",
			      is->suppressed ? "the host is silent" : "the host is heard from again");
	if (r == 0 && was->silenced != is->silenced)
		r = add_event(a, id, now, "vigil", is->silenced ? "silenced" : "unsilenced",
			      is->silenced ? "a silence matches" : "no silence matches any more");
	event = was->silenced && !is->silenced && !is->suppressed ? told_at_unsilence(al) : NULL;
	if (r == 0 && event)
		r = enqueue_notifications(a, rule->notify, true, id, event, now);
	return r;
}

/* above= or below= with recover= (the threshold itself when not given): the rule's threshold. */
static void metric_threshold(const struct rule_conf *rule, bool *above, double *threshold, double *recover)
{
	*above = rule->above != NULL;
	*threshold = strtod(*above ? rule->above : rule->below, NULL);
	*recover = rule->recover ? strtod(rule->recover, NULL) : *threshold;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static bool open_has(const struct alerting *a, const char *fp)
{
	return a->n_open && bsearch(&fp, a->open, a->n_open, sizeof(*a->open), cmp_str);
}

static void open_clear(struct alerting *a)
{
	for (size_t i = 0; i < a->n_open; i++)
		free(a->open[i]);
	a->n_open = 0;
}

/* The fingerprints of rule's open alerts into a->open. */
static int load_open(struct alerting *a, const struct rule_conf *rule)
{
	sqlite3_stmt *st = a->st[S_OPEN_FPS];
	int rc, r = 0;

	open_clear(a);
	sqlite3_bind_text(st, 1, rule->name, -1, SQLITE_STATIC);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (a->n_open == a->cap_open) {
			size_t cap = a->cap_open ? a->cap_open * 2 : 64;
			char **grown = realloc(a->open, cap * sizeof(*grown));

			if (!grown) {
				r = -ENOMEM;
				break;
			}
			a->open = grown;
			a->cap_open = cap;
		}
		a->open[a->n_open] = strdup((const char *)sqlite3_column_text(st, 0));
		r = a->open[a->n_open] ? 0 : -ENOMEM;
		a->n_open += r == 0;
	}
	(void)sqlite3_reset(st);
	if (a->n_open)
		qsort(a->open, a->n_open, sizeof(*a->open), cmp_str);
	return r;
}

/* Steps (or opens) the alert of one candidate and records what changed. */
static int consider(struct alerting *a, const struct rule_conf *rule, const struct candidate *c, uint64_t now,
		    struct seen *seen)
{
	struct alert_timing t;
	struct alert al;
	struct quiet was = { 0 }, is = { .suppressed = c->suppressed };
	json_t *labels;
	double threshold, recover;
	const char *event;
	bool active = c->active, above, escalate;
	char fp[1024];
	int64_t id;
	unsigned ev = 0;
	int r;

	(void)snprintf(fp, sizeof(fp), "%s\x1f%s\x1f%s", rule->name, c->agent, c->item);
	/* Most of what a rule watches is fine and has no alert: nothing to load or build. */
	if (!c->active && !c->has_sample && !open_has(a, fp))
		return 0;
	labels = alert_labels(rule, c);
	is.silenced = silenced(a, rule, labels);
	timing_of(rule, &t);
	r = load_alert(a, fp, &al, &id, &was);
	if (r == 0 && c->has_sample) {
		metric_threshold(rule, &above, &threshold, &recover);
		active = threshold_active(id && (al.state == ALERT_PENDING || al.state == ALERT_FIRING), c->sample,
					  above, threshold, recover);
	}
	if (r < 0 || (!id && !active))
		goto out;
	if (id)
		ev = alert_step(&al, &t, active, now);
	else
		alert_open(&al, &t, now, &ev);
	escalate = !is.suppressed && !is.silenced && alert_escalation_due(&al, rule->escalate_after_ms * 1000, now);
	if (escalate)
		al.escalated_us = now;
	if (!ev && !escalate && id && was.suppressed == is.suppressed && was.silenced == is.silenced) {
		r = seen_add(seen, id); /* nothing changed: no write */
		goto out;
	}
	r = save_alert(a, rule, c, labels, fp, &al, &id, &is, now);
	if (r == 0)
		r = record_events(a, id, ev, now, c->value);
	event = notified_event(ev, &al);
	if (r == 0 && event && !is.suppressed && !is.silenced)
		r = enqueue_notifications(a, rule->notify, true, id, event, now);
	if (r == 0)
		r = quiet_changed(a, rule, id, &al, &was, &is, now);
	if (r == 0 && escalate)
		r = add_event(a, id, now, "vigil", "escalated", rule->escalate_to);
	if (r == 0 && escalate)
		r = enqueue_notifications(a, rule->escalate_to, false, id, "escalated", now);
	if (r == 0)
		r = seen_add(seen, id);
out:
	json_decref(labels);
	return r;
}

/* What the candidates of one rule are judged with. */
struct judging {
	struct alerting *a;
	const struct rule_conf *rule;
	uint64_t now;
	struct seen *seen;
	uint64_t silent_us, need;
};

static int probe_candidate(const struct probe_state_row *p, void *ctx)
{
	struct judging *j = ctx;
	char host[256], item[512];
	struct candidate c = { .agent = p->agent, .host = host, .item = item,
			       .active = !(p->status.len == 2 && memcmp(p->status.p, "ok", 2) == 0) && p->streak >= j->need,
			       .suppressed = j->now > p->host_last_seen + j->silent_us };

	(void)snprintf(host, sizeof(host), "%.*s", (int)p->host.len, p->host.p);
	(void)snprintf(item, sizeof(item), "%.*s", (int)p->name.len, p->name.p);
	(void)snprintf(c.value, sizeof(c.value), "%.*s: %.*s", (int)p->status.len, p->status.p, (int)p->message.len,
		       p->message.p);
	return consider(j->a, j->rule, &c, j->now, j->seen);
}

/* Probe results (of type, or of any type: NULL); a dial test's run from the collector is never suppressed. */
static int eval_probes(struct alerting *a, const struct rule_conf *rule, const char *type, uint64_t now,
		       struct seen *seen)
{
	struct probe_state_filter f = { .name_glob = rule->probe ? rule->probe : "*", .host_glob = rule->host,
					.type = type };
	struct judging j = { a, rule, now, seen, type ? UINT64_MAX / 2 : a->conf->hosts.silent_after_ms * 1000,
			     MAX(rule->consecutive, (uint64_t)1) };

	return hosts_probes_each(a->db, &f, probe_candidate, &j);
}

static int host_candidate(const struct host_row *h, void *ctx)
{
	struct judging *j = ctx;
	char host[256];
	struct candidate c = { .agent = h->id, .host = host, .item = "", .active = j->now > h->last_seen + j->silent_us };

	(void)snprintf(host, sizeof(host), "%.*s", (int)h->hostname.len, h->hostname.p);
	if (!h->hostname.len)
		(void)snprintf(host, sizeof(host), "%s", h->id);
	(void)snprintf(c.value, sizeof(c.value), "last heard from %" PRIu64 " s ago",
		       j->now > h->last_seen ? (j->now - h->last_seen) / 1000000 : 0);
	return consider(j->a, j->rule, &c, j->now, j->seen);
}

static int eval_hosts(struct alerting *a, const struct rule_conf *rule, uint64_t now, struct seen *seen)
{
	struct host_filter f = { .name_glob = rule->host, .no_probe_counts = true };
	struct judging j = { a, rule, now, seen,
			     (rule->silent_for_ms ? rule->silent_for_ms : a->conf->hosts.silent_after_ms) * 1000, 0 };

	return hosts_each(a->db, &f, host_candidate, &j);
}

static int cmp_last_seen(const void *x, const void *y)
{
	return strcmp(((const struct last_seen *)x)->agent, ((const struct last_seen *)y)->agent);
}

static int put_last_seen(const struct host_row *h, void *ctx)
{
	struct alerting *a = ctx;
	struct last_seen *grown;

	if (a->n_last_seen == a->cap_last_seen) {
		size_t cap = a->cap_last_seen ? 2 * a->cap_last_seen : 64;
		grown = realloc(a->last_seen, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		a->last_seen = grown;
		a->cap_last_seen = cap;
	}
	(void)snprintf(a->last_seen[a->n_last_seen].agent, sizeof(a->last_seen[0].agent), "%s", h->id);
	a->last_seen[a->n_last_seen++].at = h->last_seen;
	return 0;
}

/* When each agent was last heard from, as it stands at the start of an evaluation. */
static int load_last_seen(struct alerting *a)
{
	struct host_filter all = { .no_probe_counts = true, .with_collector = true };
	int r;

	a->n_last_seen = 0;
	r = hosts_each(a->db, &all, put_last_seen, a);
	if (r == 0 && a->n_last_seen)
		qsort(a->last_seen, a->n_last_seen, sizeof(*a->last_seen), cmp_last_seen);
	return r;
}

/* Whether the agent has not been heard from for [hosts] silent_after. */
static bool host_silent(struct alerting *a, const char *agent, uint64_t now)
{
	struct last_seen key, *found;

	(void)snprintf(key.agent, sizeof(key.agent), "%s", agent);
	found = a->n_last_seen ? bsearch(&key, a->last_seen, a->n_last_seen, sizeof(key), cmp_last_seen) : NULL;
	return now > (found ? found->at : 0) + a->conf->hosts.silent_after_ms * 1000;
}

/* The latest sample of a metric per (agent, instance), within the freshness window. */
/* Or the matches of a log rule per agent in its window, with the last line matched. */
struct sample {
	char agent[33], host[256], instance[256];
	double value;
	char line[LOGMATCH_SAMPLE_MAX];
};

struct samples {
	struct sample *s;
	size_t n, cap;
};

/* A metric's latest value, or for a log rule (sum) a count added to what earlier shards gave, with the last line. */
static int samples_put(struct samples *ss, const struct metric_sample *m, bool sum)
{
	struct sample *x = NULL, *grown;

	for (size_t i = 0; i < ss->n && !x; i++)
		if (strcmp(ss->s[i].agent, m->agent) == 0 && strcmp(ss->s[i].instance, m->instance) == 0)
			x = &ss->s[i];
	if (!x) {
		if (ss->n == ss->cap) {
			if (ss->cap >= 100000)
				return -E2BIG;
			grown = realloc(ss->s, (ss->cap ? ss->cap * 2 : 16) * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			ss->s = grown;
			ss->cap = ss->cap ? ss->cap * 2 : 16;
		}
		x = &ss->s[ss->n++];
		*x = (struct sample){ 0 };
		(void)snprintf(x->agent, sizeof(x->agent), "%s", m->agent);
		(void)snprintf(x->instance, sizeof(x->instance), "%s", m->instance);
	}
	(void)snprintf(x->host, sizeof(x->host), "%s", m->host);
	x->value = (sum ? x->value : 0) + m->value;
	if (sum)
		(void)snprintf(x->line, sizeof(x->line), "%s", m->line);
	return 0;
}

/* Runs query(db, ctx) on each shard that may hold rows since since_us; stops at its first error. */
static int each_shard(struct alerting *a, uint64_t since_us, int (*query)(sqlite3 *db, void *ctx), void *ctx)
{
	struct storage_reader *rd = NULL;
	int r = storage_reader_open(a->conf->storage.data_dir, &rd);

	if (r == 0)
		r = storage_reader_each_shard(rd, since_us, 0, false, query, ctx);
	storage_reader_free(rd);
	return r;
}

struct shard_query {
	const struct rule_conf *rule;
	uint64_t since_us;
	struct samples *ss;
};

static int put_sample(const struct metric_sample *m, void *ctx)
{
	return samples_put(ctx, m, false);
}

static int put_match(const struct metric_sample *m, void *ctx)
{
	return samples_put(ctx, m, true);
}

static int query_samples(sqlite3 *db, void *ctx)
{
	const struct shard_query *q = ctx;

	return db ? blocks_metric_latest(db, q->rule->metric, q->since_us, q->rule->host,
					 q->rule->instance ? q->rule->instance : "*", put_sample, q->ss) : 0;
}

static int query_matches(sqlite3 *db, void *ctx)
{
	const struct shard_query *q = ctx;

	return db ? blocks_log_matches(db, q->rule->name, q->since_us, q->rule->host, put_match, q->ss) : 0;
}

/* The latest sample of each instance within window_us (0: a minute, or three evaluations). */
static int eval_metrics(struct alerting *a, const struct rule_conf *rule, uint64_t window_us, uint64_t now,
			struct seen *seen)
{
	uint64_t window = window_us ? window_us : MAX(3 * a->conf->alerts.interval_ms * 1000, 60 * USEC_PER_SEC);
	struct samples ss = { 0 };
	struct shard_query q = { rule, now > window ? now - window : 0, &ss };
	int r = each_shard(a, q.since_us, query_samples, &q);

	for (size_t i = 0; r == 0 && i < ss.n; i++) {
		const struct sample *x = &ss.s[i];
		struct candidate c = { .agent = x->agent, .host = x->host, .item = x->instance, .has_sample = true,
				       .sample = x->value, .suppressed = host_silent(a, x->agent, now) };

		(void)snprintf(c.value, sizeof(c.value), "%s%s%s = %g", rule->metric, *c.item ? " " : "", c.item,
			       x->value);
		r = consider(a, rule, &c, now, seen);
	}
	free(ss.s);
	return r;
}

static int eval_logs(struct alerting *a, const struct rule_conf *rule, uint64_t now, struct seen *seen)
{
	uint64_t window = (rule->window_ms ? rule->window_ms : 300000) * 1000, need = MAX(rule->count, (uint64_t)1);
	struct samples ss = { 0 };
	struct shard_query q = { rule, now > window ? now - window : 0, &ss };
	int r = each_shard(a, q.since_us, query_matches, &q);

	for (size_t i = 0; r == 0 && i < ss.n; i++) {
		const struct sample *x = &ss.s[i];
		struct candidate c = { .agent = x->agent, .host = x->host, .item = "", .active = x->value >= need,
				       .suppressed = host_silent(a, x->agent, now) };

		(void)snprintf(c.value, sizeof(c.value), "%.0f in %" PRIu64 " s: %s", x->value, window / USEC_PER_SEC,
			       x->line);
		r = consider(a, rule, &c, now, seen);
	}
	free(ss.s);
	return r;
}

/* A test runs at least hourly to be judged on its latency or certificate: its latest run within two hours counts. */
#define DIALTEST_WINDOW_US (2 * 3600 * USEC_PER_SEC)

/*
 * A dial test rule reads what the dial tests stored: their results as
 * probe results (failure), or their metrics (latency, certificate days).
 */
static int eval_dialtests(struct alerting *a, const struct rule_conf *rule, uint64_t now, struct seen *seen)
{
	const char *cond = rule->condition ? rule->condition : "failure";
	struct rule_conf r = *rule;

	if (strcmp(cond, "failure") == 0) {
		r.probe = rule->dialtest;
		return eval_probes(a, &r, "dialtest", now, seen);
	}
	r.metric = strcmp(cond, "latency") == 0 ? "dialtest.total_ms" : "dialtest.cert_days_left";
	r.instance = rule->dialtest;
	return eval_metrics(a, &r, DIALTEST_WINDOW_US, now, seen);
}

/* An agent id conflict holds while refusals go on: a refused agent asks again every minute. */
#define CONFLICT_ACTIVE_US (10 * 60 * USEC_PER_SEC)
#define CONFLICTS_MAX 1000

struct conflicts {
	struct candidate c[CONFLICTS_MAX];
	char agent[CONFLICTS_MAX][33], hosts[CONFLICTS_MAX][256];
	size_t n;
};

static int conflict_put(const struct agent_conflict *ac, void *ctx)
{
	struct conflicts *cs = ctx;
	size_t i = cs->n;

	if (i == CONFLICTS_MAX)
		return 1;
	(void)snprintf(cs->agent[i], sizeof(cs->agent[i]), "%s", ac->agent);
	(void)snprintf(cs->hosts[i], sizeof(cs->hosts[i]), "%s", ac->hosts ? ac->hosts : "");
	cs->c[i] = (struct candidate){ .agent = cs->agent[i], .host = cs->hosts[i], .item = "", .active = true };
	(void)snprintf(cs->c[i].value, sizeof(cs->c[i].value),
		       "agent id %s is used by more than one host (%s): %" PRIu64 " batches refused, the last %" PRIu64,
		       ac->agent, ac->hosts ? ac->hosts : "", ac->count, ac->seq);
	cs->n++;
	return 0;
}

/* Hosts that send with one agent id (cloned VMs): their batches are refused until one gets a new id. */
static int eval_conflicts(struct alerting *a, const struct rule_conf *rule, uint64_t now, struct seen *seen)
{
	struct conflicts *cs = calloc(1, sizeof(*cs));
	int r;

	if (!cs)
		return -ENOMEM;
	/* Collected first: no statement stays open across consider()'s writes. */
	r = hosts_conflicts_each(a->db, NULL, now - MIN(now, CONFLICT_ACTIVE_US), conflict_put, cs);
	for (size_t i = 0; r >= 0 && i < cs->n; i++)
		r = consider(a, rule, &cs->c[i], now, seen);
	free(cs);
	return r < 0 ? r : 0;
}

/* Open alerts whose probe or host is gone: their condition no longer holds. */
static int eval_vanished(struct alerting *a, const struct rule_conf *rule, uint64_t now, struct seen *seen)
{
	sqlite3_stmt *st = a->st[S_OPEN_OF_RULE];
	struct seen gone = { 0 };
	int rc, r = 0;

	sqlite3_bind_text(st, 1, rule->name, -1, SQLITE_STATIC);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		if (!seen_has(seen, sqlite3_column_int64(st, 0)))
			r = seen_add(&gone, sqlite3_column_int64(st, 0));
	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
	/* Stepped one by one, by id: no statement stays open across the writes. */
	for (size_t i = 0; r == 0 && i < gone.n; i++) {
		sqlite3_stmt *get = a->st[S_IDENTITY];
		struct candidate c = { 0 };
		char agent[64] = "", host[256] = "", item[512] = "";
		const char *fp, *sep;

		sqlite3_bind_int64(get, 1, gone.ids[i]);
		if (sqlite3_step(get) == SQLITE_ROW) {
			fp = (const char *)sqlite3_column_text(get, 0);
			sep = strrchr(fp, '\x1f');
			(void)snprintf(item, sizeof(item), "%s", sep ? sep + 1 : "");
			(void)snprintf(agent, sizeof(agent), "%s", sqlite3_column_text(get, 1));
			(void)snprintf(host, sizeof(host), "%s", sqlite3_column_text(get, 2));
		}
		(void)sqlite3_reset(get);
		(void)snprintf(c.value, sizeof(c.value), "%s",
			       strcmp(rule->type, "log") == 0		 ? "no match within the window" :
			       strcmp(rule->type, "agent_conflict") == 0 ? "no batch refused for 10 minutes" :
									   "no longer reported");
		c.agent = agent;
		c.host = host;
		c.item = item;
		r = consider(a, rule, &c, now, seen);
	}
	free(gone.ids);
	return r;
}

/* Columns starts, ends, every, until from col on. */
static struct silence_time silence_time_of(sqlite3_stmt *st, int col)
{
	return (struct silence_time){ .starts = (uint64_t)sqlite3_column_int64(st, col),
				      .ends = (uint64_t)sqlite3_column_int64(st, col + 1),
				      .every = (uint64_t)sqlite3_column_int64(st, col + 2),
				      .until = (uint64_t)sqlite3_column_int64(st, col + 3) };
}

/* The matchers of the silences in force at now into a->silences. */
static int load_silences(struct alerting *a, uint64_t now)
{
	sqlite3_stmt *st = a->st[S_SILENCES_NOW];
	int rc;

	json_array_clear(a->silences);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct silence_time t = silence_time_of(st, 1);
		json_t *m;

		if (!silence_in_force(&t, now))
			continue;
		m = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
		if (json_is_object(m))
			json_array_append(a->silences, m);
		json_decref(m);
	}
	(void)sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

/* Open alerts of rules no longer defined (deleted through the API, or gone from the file) resolve. */
static int eval_orphans(struct alerting *a, const struct catalog_snapshot *snap, uint64_t now)
{
	sqlite3_stmt *st = a->st[S_OPEN_RULES], *upd = a->st[S_ORPHAN];
	struct seen gone = { 0 };
	int rc, r = 0;

	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		if (!catalog_rule(snap, (const char *)sqlite3_column_text(st, 1)))
			r = seen_add(&gone, sqlite3_column_int64(st, 0));
	(void)sqlite3_reset(st);
	for (size_t i = 0; r == 0 && i < gone.n; i++) {
		sqlite3_bind_int64(upd, 1, (sqlite3_int64)now);
		sqlite3_bind_int64(upd, 2, gone.ids[i]);
		r = step_done(a, upd);
		if (r == 0)
			r = add_event(a, gone.ids[i], now, "vigil", "resolved", "its rule is no longer defined");
	}
	free(gone.ids);
	return r;
}

int alerting_evaluate(struct alerting *a, uint64_t now_us)
{
	const struct catalog_snapshot *snap = catalog_get(a->catalog);
	int r;

	pthread_mutex_lock(&a->lock);
	r = db_exec(a->db, "BEGIN IMMEDIATE");
	if (r == 0)
		r = load_silences(a, now_us);
	if (r == 0)
		r = load_last_seen(a);
	for (size_t i = 0; r == 0 && i < snap->n_rules; i++) {
		const struct rule_conf *rule = snap->rules[i];
		struct seen seen = { 0 };

		r = load_open(a, rule);
		if (r == 0 && strcmp(rule->type, "probe") == 0)
			r = eval_probes(a, rule, NULL, now_us, &seen);
		else if (r == 0 && strcmp(rule->type, "dialtest") == 0)
			r = eval_dialtests(a, rule, now_us, &seen);
		else if (r == 0 && strcmp(rule->type, "metric") == 0)
			r = eval_metrics(a, rule, 0, now_us, &seen);
		else if (r == 0 && strcmp(rule->type, "log") == 0)
			r = eval_logs(a, rule, now_us, &seen);
		else if (r == 0 && strcmp(rule->type, "agent_conflict") == 0)
			r = eval_conflicts(a, rule, now_us, &seen);
		else if (r == 0)
			r = eval_hosts(a, rule, now_us, &seen);
		if (r == 0)
			r = eval_vanished(a, rule, now_us, &seen);
		free(seen.ids);
	}
	if (r == 0)
		r = eval_orphans(a, snap, now_us);
	if (r == 0)
		r = db_exec(a->db, "COMMIT");
	else
		(void)db_exec(a->db, "ROLLBACK");
	pthread_mutex_unlock(&a->lock);
	catalog_release(snap);
	metrics_add(r < 0 ? &metrics.alert_evaluation_errors : &metrics.alert_evaluations, 1);
	if (r < 0)
		log_error("alerts: evaluation failed: %s", strerror(-r));
	return r;
}

/* An evaluation from the event loop: timed, and the notifier told when it queued something. */
static void run(struct alerting *a)
{
	uint64_t t0 = now_monotonic_us();

	a->enqueued = false;
	(void)alerting_evaluate(a, now_realtime_us());
	a->last_end_us = now_monotonic_us();
	a->last_took_us = a->last_end_us - t0;
	metrics_add(&metrics.alert_evaluation_us, a->last_took_us);
	if (a->enqueued && a->on_enqueued)
		a->on_enqueued(a->on_enqueued_data);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct alerting *a = userdata;

	run(a);
	(void)sd_event_source_set_time_relative(s, a->conf->alerts.interval_ms * 1000);
	(void)sd_event_source_set_enabled(s, SD_EVENT_ON);
	return 0;
}

static int on_soon(sd_event_source *s, uint64_t usec, void *userdata)
{
	run(userdata);
	return 0;
}

/*
 * New results: evaluate soon, but no sooner than EVAL_GAP_US (or twice the
 * last evaluation's time) after the last one, so a steady stream of results
 * cannot keep the loop evaluating.
 */
#define EVAL_GAP_US (250 * 1000)

static int on_wake(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct alerting *a = userdata;
	uint64_t count, at = a->last_end_us + MAX(EVAL_GAP_US, 2 * a->last_took_us);
	int enabled = SD_EVENT_OFF;

	if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return log_error_errno(errno, "alerts: reading the wake-up eventfd: %m");
	(void)sd_event_source_get_enabled(a->soon, &enabled);
	if (enabled != SD_EVENT_OFF)
		return 0;
	(void)sd_event_source_set_time(a->soon, MAX(at, now_monotonic_us()));
	return sd_event_source_set_enabled(a->soon, SD_EVENT_ONESHOT);
}

void alerting_poke(void *userdata)
{
	struct alerting *a = userdata;
	uint64_t one = 1;

	/* Full (2^64 - 2 pokes unread) cannot happen; a poke lost to EAGAIN finds the next one pending anyway. */
	(void)!write(a->wake_fd, &one, sizeof(one));
}

void alerting_on_enqueued(struct alerting *a, void (*fn)(void *userdata), void *userdata)
{
	a->on_enqueued = fn;
	a->on_enqueued_data = userdata;
}

void alerting_stop(struct alerting *a)
{
	if (!a)
		return;
	sd_event_source_disable_unref(a->timer);
	sd_event_source_disable_unref(a->soon);
	sd_event_source_disable_unref(a->wake);
	if (a->wake_fd >= 0)
		close(a->wake_fd);
	for (int i = 0; i < _S_MAX; i++)
		sqlite3_finalize(a->st[i]);
	db_close(a->db);
	json_decref(a->silences);
	open_clear(a);
	free(a->open);
	free(a->last_seen);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

int alerting_start(const struct coll_conf *conf, struct catalog *catalog, sd_event *event, struct alerting **ret)
{
	struct alerting *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return -ENOMEM;
	a->conf = conf;
	a->catalog = catalog;
	pthread_mutex_init(&a->lock, NULL);
	a->silences = json_array();
	if (!a->silences) {
		free(a);
		return -ENOMEM;
	}
	a->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	r = storage_meta_connect(conf->storage.data_dir, conf->storage.sync, &a->db);
	if (r == 0)
		r = db_exec(a->db, schema);
	if (r == 0)
		r = migrate(a->db);
	if (r == 0)
		r = notify_schema(a->db);
	for (int i = 0; r == 0 && i < _S_MAX; i++)
		r = db_prepare(a->db, sql[i], &a->st[i]);
	if (r == 0 && a->wake_fd < 0)
		r = -errno;
	if (r == 0 && event)
		r = sd_event_add_time_relative(event, &a->timer, CLOCK_MONOTONIC, conf->alerts.interval_ms * 1000,
					       100000, on_timer, a);
	if (r == 0 && event)
		r = sd_event_add_time(event, &a->soon, CLOCK_MONOTONIC, 0, 1000, on_soon, a);
	if (r == 0 && event)
		r = sd_event_source_set_enabled(a->soon, SD_EVENT_OFF);
	if (r == 0 && event)
		r = sd_event_add_io(event, &a->wake, a->wake_fd, EPOLLIN, on_wake, a);
	if (r < 0) {
		alerting_stop(a);
		return r;
	}
	*ret = a;
	return 0;
}

/* {"items": items} into *ret (items taken over), or r when the items could not all be read. */
static int items_answer(json_t *items, int r, json_t **ret)
{
	if (r < 0) {
		json_decref(items);
		return r;
	}
	*ret = json_pack("{s:o}", "items", items);
	return *ret ? 0 : -ENOMEM;
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

int alerting_list(struct alerting *a, const struct alert_filter *f, json_t **ret)
{
	sqlite3_stmt *st = a->st[S_LIST];
	json_t *items = json_array();
	char path[80];
	int rc;

	if (!items)
		return -ENOMEM;
	if (f->label_key)
		(void)snprintf(path, sizeof(path), "$.\"%s\"", f->label_key);
	pthread_mutex_lock(&a->lock);
	sqlite3_bind_text(st, 1, f->state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, f->severity, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, f->host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, f->label_key ? path : NULL, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, f->label_value, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(items, alert_json(st));
	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
	pthread_mutex_unlock(&a->lock);
	return items_answer(items, rc == SQLITE_DONE ? 0 : db_errno(rc), ret);
}

/* The alert and its history; the caller holds the lock. */
static int get_locked(struct alerting *a, int64_t id, json_t **ret)
{
	sqlite3_stmt *h = a->st[S_HISTORY];
	json_t *alert = alert_by_id(a, id), *history;
	int rc;

	if (!alert)
		return -ENOENT;
	history = json_array();
	sqlite3_bind_int64(h, 1, id);
	while ((rc = sqlite3_step(h)) == SQLITE_ROW)
		json_array_append_new(history, json_pack("{s:I, s:o, s:o, s:o}", "ts",
							 (json_int_t)sqlite3_column_int64(h, 0), "actor",
							 text_or_null(h, 1), "action", text_or_null(h, 2), "note",
							 text_or_null(h, 3)));
	(void)sqlite3_reset(h);
	json_object_set_new(alert, "history", history);
	*ret = alert;
	return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

int alerting_get(struct alerting *a, int64_t id, json_t **ret)
{
	int r;

	pthread_mutex_lock(&a->lock);
	r = get_locked(a, id, ret);
	pthread_mutex_unlock(&a->lock);
	return r;
}

/* What each ops action changes; ?1 is the alert, ?2 the action's argument, ?3 now. */
static const struct {
	const char *action;
	const char *sql; /* NULL: history only */
	const char *arg; /* the body member it needs, NULL: none */
} actions[] = {
	{ "ack", "UPDATE alerts SET acked_by=?2, updated=?3 WHERE id=?1", NULL },
	{ "unack", "UPDATE alerts SET acked_by=NULL, updated=?3 WHERE id=?1", NULL },
	{ "assign", "UPDATE alerts SET assignee=?2, updated=?3 WHERE id=?1", "to" },
	{ "comment", NULL, "note" },
	{ "severity", "UPDATE alerts SET severity=?2, updated=?3 WHERE id=?1", "severity" },
	{ "close", "UPDATE alerts SET state='closed', updated=?3,"
		   " resolved=CASE WHEN resolved=0 THEN ?3 ELSE resolved END WHERE id=?1", NULL },
};

static const char *body_string(json_t *body, const char *key)
{
	return json_string_value(json_object_get(body, key));
}

/* The action's argument from the body (the actor when it takes none); NULL with *reason when bad. */
static const char *action_arg(json_t *body, const char *need, const char *actor, const char **reason)
{
	const char *v = need ? body_string(body, need) : actor, *note = body_string(body, "note");

	if (json_object_get(body, "note") && !note) {
		*reason = "note: expected a string";
		return NULL;
	}
	if (note && strlen(note) > 4000) {
		*reason = "note: at most 4000 bytes";
		return NULL;
	}
	if (need && (!v || !*v || strlen(v) > 200)) {
		*reason = strcmp(need, "to") == 0       ? "expected {\"to\":\"a user or group\"}" :
			  strcmp(need, "severity") == 0 ? "expected {\"severity\":\"info|warning|critical|disaster\"}" :
							  "expected {\"note\":\"…\"}";
		return NULL;
	}
	if (need && strcmp(need, "severity") == 0 && alert_severity_from_name(v) < 0) {
		*reason = "severity: expected info, warning, critical or disaster";
		return NULL;
	}
	return v;
}

int alerting_act(struct alerting *a, int64_t id, const char *action, const char *actor, json_t *body,
		 const char **reason)
{
	const char *arg, *note = body_string(body, "note");
	uint64_t now = now_realtime_us();
	sqlite3_stmt *st = NULL;
	size_t i;
	char text[4400];
	json_t *cur = NULL;
	int r;

	for (i = 0; i < ARRAY_SIZE(actions) && strcmp(actions[i].action, action) != 0; i++)
		;
	if (i == ARRAY_SIZE(actions)) {
		*reason = "unknown action: expected ack, unack, assign, comment, severity or close";
		return -EINVAL;
	}
	arg = action_arg(body, actions[i].arg, actor, reason);
	if (!arg)
		return -EINVAL;
	pthread_mutex_lock(&a->lock);
	r = db_exec(a->db, "BEGIN IMMEDIATE");
	if (r == 0)
		r = get_locked(a, id, &cur);
	if (r == 0 && strcmp(json_string_value(json_object_get(cur, "state")), "closed") == 0 &&
	    strcmp(action, "comment") != 0)
		r = -EALREADY;
	if (r == 0 && actions[i].sql)
		r = db_prepare(a->db, actions[i].sql, &st);
	if (r == 0 && st) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, arg, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
		r = step_done(a, st);
	}
	if (r == 0) {
		if (actions[i].arg && strcmp(actions[i].arg, "note") != 0)
			(void)snprintf(text, sizeof(text), "%s%s%s", arg, note ? ": " : "", note ? note : "");
		else
			(void)snprintf(text, sizeof(text), "%s", note ? note : "");
		r = add_event(a, id, now, actor, action, *text ? text : NULL);
	}
	r = r == 0 ? db_exec(a->db, "COMMIT") : (db_exec(a->db, "ROLLBACK"), r);
	pthread_mutex_unlock(&a->lock);
	sqlite3_finalize(st);
	json_decref(cur);
	return r;
}

#define SILENCE_COLUMNS "id, matchers, creator, comment, created, starts, ends, every, until"

/* A row of SILENCE_COLUMNS; a recurring one tells its period (seconds), until, and its next window's start. */
static json_t *silence_json(sqlite3_stmt *st, uint64_t now)
{
	json_t *m = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL), *j;
	struct silence_time t = silence_time_of(st, 5);

	j = json_pack("{s:I, s:o, s:I, s:I, s:o, s:o, s:I, s:b}", "id", (json_int_t)sqlite3_column_int64(st, 0),
		      "matchers", m ? m : json_object(), "starts", (json_int_t)t.starts, "ends", (json_int_t)t.ends,
		      "creator", text_or_null(st, 2), "comment", text_or_null(st, 3), "created",
		      (json_int_t)sqlite3_column_int64(st, 4), "active", silence_in_force(&t, now));
	if (j && t.every) {
		json_object_set_new(j, "every", json_integer((json_int_t)(t.every / USEC_PER_SEC)));
		json_object_set_new(j, "until", json_integer((json_int_t)t.until));
		json_object_set_new(j, "next_start", json_integer((json_int_t)silence_next_start(&t, now)));
	}
	return j;
}

int alerting_silences(struct alerting *a, bool all, json_t **ret)
{
	uint64_t now = now_realtime_us();
	json_t *items = json_array();
	sqlite3_stmt *st;
	int rc, r;

	if (!items)
		return -ENOMEM;
	pthread_mutex_lock(&a->lock);
	r = db_prepare(a->db,
		       "SELECT " SILENCE_COLUMNS " FROM silences"
		       " WHERE ?1 OR (every=0 AND ends>?2) OR (every>0 AND until>?2) ORDER BY id DESC LIMIT 1000",
		       &st);
	if (r == 0) {
		sqlite3_bind_int(st, 1, all);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			json_array_append_new(items, silence_json(st, now));
		r = rc == SQLITE_DONE ? 0 : db_errno(rc);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&a->lock);
	return items_answer(items, r, ret);
}

/* A label name as a matcher may use it. */
static const char *check_matchers(json_t *m)
{
	const char *key;
	json_t *v;

	if (!json_is_object(m) || json_object_size(m) == 0 || json_object_size(m) > 16)
		return "matchers: expected an object of 1 to 16 label names and values";
	json_object_foreach(m, key, v)
		if (!name_valid(key, 64, "") || !json_is_string(v) || strlen(json_string_value(v)) > 256)
			return "matchers: names of letters, digits, '_', '-', '.'; values strings up to 256 bytes";
	return NULL;
}

#define SILENCE_MAX_US (366 * 86400 * USEC_PER_SEC)

/* every (a duration) and until (default a year after starts) of a recurring silence; NULL, or what is wrong. */
static const char *silence_recurrence(json_t *body, uint64_t now, struct silence_time *t)
{
	const char *every = json_string_value(json_object_get(body, "every")),
		   *until = json_string_value(json_object_get(body, "until"));
	uint64_t ms;

	if (!every)
		return until ? "until: applies to a recurring silence (every)" : NULL;
	if (conf_parse_duration_ms(every, 1000, &ms) < 0 || ms < 3600 * 1000)
		return "every: expected a duration of at least 1h, e.g. 1d or 7d";
	t->every = ms * 1000;
	if (t->ends - t->starts >= t->every)
		return "every: each window must end before the next starts";
	t->until = t->starts + SILENCE_MAX_US;
	if (until && parse_time_param(until, now, &t->until) < 0)
		return "until: expected RFC 3339 or epoch seconds";
	/* A year from the first window, which may be to come: not from now. */
	if (t->until <= now || t->until <= t->starts || t->until - t->starts > SILENCE_MAX_US)
		return "until: in the future, after starts, within a year of it";
	return NULL;
}

/* starts (default now) and ends (or starts + duration) from the body, and a recurrence; NULL, or what is wrong. */
static const char *silence_span(json_t *body, uint64_t now, struct silence_time *t)
{
	const char *s = json_string_value(json_object_get(body, "starts")),
		   *e = json_string_value(json_object_get(body, "ends")),
		   *d = json_string_value(json_object_get(body, "duration"));
	uint64_t ms;

	*t = (struct silence_time){ .starts = now };
	if (s && parse_time_param(s, now, &t->starts) < 0)
		return "starts: expected RFC 3339 or epoch seconds";
	if (!e == !d)
		return "expected one of ends (RFC 3339 or epoch seconds) and duration (e.g. \"2h\")";
	if (e && parse_time_param(e, now, &t->ends) < 0)
		return "ends: expected RFC 3339 or epoch seconds";
	if (d) {
		if (conf_parse_duration_ms(d, 1000, &ms) < 0 || ms == 0)
			return "duration: expected e.g. 90m, 2h, 1d";
		t->ends = t->starts + ms * 1000;
	}
	if (t->ends <= t->starts || (t->ends <= now && !json_object_get(body, "every")))
		return "the silence must end after it starts, and in the future";
	if (t->ends - now > SILENCE_MAX_US && t->ends > now)
		return "a silence lasts at most a year";
	return silence_recurrence(body, now, t);
}

/* A silence's body: its matchers, comment and times into *t; NULL, or what is wrong. */
static const char *silence_parse(json_t *body, uint64_t now, struct silence_time *t)
{
	const char *comment = json_string_value(json_object_get(body, "comment"));
	const char *why = check_matchers(json_object_get(body, "matchers"));

	if (!why && (!comment || !*comment || strlen(comment) > 1000))
		why = "comment: required, up to 1000 bytes (why, and who to ask)";
	return why ? why : silence_span(body, now, t);
}

const char *alerting_silence_check(json_t *body, uint64_t now_us)
{
	struct silence_time t;

	return silence_parse(body, now_us, &t);
}

static int silence_get_locked(struct alerting *a, int64_t id, uint64_t now, json_t **ret)
{
	sqlite3_stmt *st;
	int r = db_prepare(a->db, "SELECT " SILENCE_COLUMNS " FROM silences WHERE id=?", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	*ret = sqlite3_step(st) == SQLITE_ROW ? silence_json(st, now) : NULL;
	sqlite3_finalize(st);
	return *ret ? 0 : -ENOMEM;
}

int alerting_silence_add(struct alerting *a, json_t *body, const char *creator, json_t **ret, const char **reason)
{
	const char *comment = json_string_value(json_object_get(body, "comment"));
	json_t *m = json_object_get(body, "matchers");
	uint64_t now = now_realtime_us();
	struct silence_time t;
	sqlite3_stmt *st = NULL;
	char *matchers;
	int64_t id = 0;
	int rc, r;

	*reason = silence_parse(body, now, &t);
	if (*reason)
		return -EINVAL;
	matchers = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
	if (!matchers)
		return -ENOMEM;
	pthread_mutex_lock(&a->lock);
	r = db_prepare(a->db,
		       "INSERT INTO silences(matchers, starts, ends, every, until, creator, comment, created)"
		       " VALUES (?,?,?,?,?,?,?,?)",
		       &st);
	if (r == 0) {
		sqlite3_bind_text(st, 1, matchers, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)t.starts);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)t.ends);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)t.every);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)t.until);
		sqlite3_bind_text(st, 6, creator, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, comment, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 8, (sqlite3_int64)now);
		rc = sqlite3_step(st);
		r = rc == SQLITE_DONE ? 0 : db_errno(rc);
		id = sqlite3_last_insert_rowid(a->db);
		sqlite3_finalize(st);
	}
	if (r == 0)
		r = silence_get_locked(a, id, now, ret);
	pthread_mutex_unlock(&a->lock);
	free(matchers);
	return r;
}

int alerting_silence_expire(struct alerting *a, int64_t id, json_t **ret)
{
	uint64_t now = now_realtime_us();
	sqlite3_stmt *st;
	int rc, r;

	pthread_mutex_lock(&a->lock);
	/* A recurring silence ends for good: no window from now on. */
	r = db_prepare(a->db, "UPDATE silences SET ends=min(ends, ?2), until=CASE WHEN every>0 THEN ?2 ELSE until END"
			      " WHERE id=?1 AND (every=0 AND ends>?2 OR every>0 AND until>?2)", &st);
	if (r == 0) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
		rc = sqlite3_step(st);
		r = rc != SQLITE_DONE ? db_errno(rc) : sqlite3_changes(a->db) ? 0 : -ENOENT;
		sqlite3_finalize(st);
	}
	if (r == 0 && ret)
		r = silence_get_locked(a, id, now, ret);
	pthread_mutex_unlock(&a->lock);
	return r;
}

/* url without its query (a robot's access_token or key is a secret): scheme://host/path. */
int alerting_notify_queue(struct alerting *a, json_t *target)
{
	const char *name = json_string_value(json_object_get(target, "name"));
	sqlite3_stmt *st = NULL;
	int r;

	pthread_mutex_lock(&a->lock);
	r = db_prepare(a->db,
		       "SELECT count(*) FILTER (WHERE state='queued'), count(*) FILTER (WHERE state='sent'),"
		       " count(*) FILTER (WHERE state='failed'),"
		       " (SELECT last_error FROM notifications WHERE target=?1 AND last_error IS NOT NULL"
		       "  ORDER BY id DESC LIMIT 1)"
		       " FROM notifications WHERE target=?1",
		       &st);
	if (r == 0) {
		sqlite3_bind_text(st, 1, name ? name : "", -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			json_object_set_new(target, "queued", json_integer(sqlite3_column_int64(st, 0)));
			json_object_set_new(target, "sent", json_integer(sqlite3_column_int64(st, 1)));
			json_object_set_new(target, "failed", json_integer(sqlite3_column_int64(st, 2)));
			json_object_set_new(target, "last_error", text_or_null(st, 3));
		}
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&a->lock);
	return r;
}

int alerting_notify_test(struct alerting *a, const char *name, const char *actor, int64_t *id)
{
	const struct catalog_snapshot *snap = catalog_get(a->catalog);
	bool known = catalog_target(snap, name) != NULL;
	uint64_t now = now_realtime_us();
	json_t *p;
	char *payload;
	int r;

	catalog_release(snap);
	if (!known)
		return -ENOENT;
	p = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "id", (json_int_t)0, "event", "test", "rule",
		      "-", "severity", "info", "host", "-", "summary", "vigil test notification", "value", actor,
		      "started", (json_int_t)now, "state", "firing");
	payload = p ? json_dumps(p, JSON_COMPACT) : NULL;
	json_decref(p);
	if (!payload)
		return -ENOMEM;
	pthread_mutex_lock(&a->lock);
	r = notify_enqueue(a->db, 0, name, "test", payload, now);
	*id = sqlite3_last_insert_rowid(a->db);
	pthread_mutex_unlock(&a->lock);
	free(payload);
	return r;
}
