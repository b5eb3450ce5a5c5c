/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "alerts/alert.h"
#include "alerts/alerting-internal.h"
#include "alerts/alerting.h"
#include "alerts/queue.h"
#include "alerts/routes.h"
#include "alerts/rules.h"
#include "alerts/silences.h"
#include "common/buf.h"
#include "common/db.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/metrics.h"
#include "common/util.h"
#include "store/fleet.h"
#include "store/hosts.h"
#include "store/storage.h"
#include "store/verify.h"

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

static int seen_add_id(int64_t id, void *ctx)
{
	struct seen *s = ctx;
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
			r = alert_store_event(a->store, id, now, "vigil", event_names[i].action, value);
	return r;
}

static void timing_of(const struct rule_conf *rule, struct alert_timing *t)
{
	*t = (struct alert_timing){ .for_us = rule->for_ms * 1000, .flap_changes = (unsigned)rule->flap_changes,
				    .flap_window_us = rule->flap_window_ms * 1000,
				    .clear_ack_on_recovery = rule->clear_ack_on_recovery };
}

/* A candidate's alert's labels: the rule's, host, and probe or instance. */
static json_t *alert_labels(const struct rule_conf *rule, const struct rule_type *type, const struct candidate *c)
{
	json_t *l = rule->labels ? labels_json((const uint8_t *)rule->labels, strlen(rule->labels)) : json_object();

	json_object_set_new(l, "host", json_string(c->host));
	if (*c->item)
		json_object_set_new(l, type->item_label ? type->item_label : "instance", json_string(c->item));
	return l;
}

/* The labels (from alert_labels()) as stored, and the summary of a candidate's alert. */
static int describe(const struct rule_conf *rule, const struct rule_type *type, const struct candidate *c, json_t *l,
		    char **labels, char *summary, size_t size)
{
	json_t *vars = json_deep_copy(l);

	json_object_set_new(vars, "value", json_string(c->value));
	json_object_set_new(vars, "rule", json_string(rule->name));
	render(rule->summary ? rule->summary : type->summary, vars, summary, size);
	*labels = json_dumps(l, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(vars);
	return *labels ? 0 : -ENOMEM;
}

static int save_alert(struct alerting *a, const struct rule_conf *rule, const struct rule_type *type,
		      const struct candidate *c, json_t *l, const char *fp, const struct alert *al, int64_t *id,
		      const struct alert_quiet *q, uint64_t now)
{
	char summary[1024];
	_cleanup_free_ char *labels = NULL;
	int r = describe(rule, type, c, l, &labels, summary, sizeof(summary));
	struct alert_row row = { .fingerprint = fp, .rule = rule->name, .agent = c->agent, .host = c->host,
				 .labels = labels, .severity = rule->severity, .summary = summary, .value = c->value,
				 .al = al, .q = q, .now = now };

	return r < 0 ? r : alert_store_save(a->store, &row, id);
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

/* Where the alert is shown: the console at [alerts] console_url, or else on the API's port. */
static json_t *alert_url(const struct alerting_env *env, int64_t id)
{
	const char *console = env->alerts->console_url;
	char url[1024];

	if (console)
		(void)snprintf(url, sizeof(url), "%.*s/alerts/%lld", (int)strcspn(console, "#"), console, (long long)id);
	else
		(void)snprintf(url, sizeof(url), "http%s://%s/alerts/%lld", env->api_tls ? "s" : "", env->api_listen,
			       (long long)id);
	return json_string(url);
}

/*
 * Queues the change for targets (space-separated names) and, when routed,
 * for the targets of every [route] the alert matches; each target once. In
 * the evaluation's transaction.
 */
static int tell(struct alerting *a, const char *targets, bool routed, int64_t id, const char *event, uint64_t now)
{
	json_t *alert = NULL;
	int r = alert_store_get(a->store, id, &alert);

	if (r < 0)
		return r;
	json_object_set_new(alert, "event", json_string(event));
	json_object_set_new(alert, "url", alert_url(&a->env, id));
	r = routes_tell(a->store, a->env.file, targets, routed, alert, now, &a->enqueued);
	json_decref(alert);
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
			 const struct alert_quiet *was, const struct alert_quiet *is, uint64_t now)
{
	const char *event;
	int r = 0;

	if (was->suppressed != is->suppressed)
		r = alert_store_event(a->store, id, now, "vigil", is->suppressed ? "suppressed" : "unsuppressed",
				      is->suppressed ? "the host is silent" : "the host is heard from again");
	if (r == 0 && was->silenced != is->silenced)
		r = alert_store_event(a->store, id, now, "vigil", is->silenced ? "silenced" : "unsilenced",
				      is->silenced ? "a silence matches" : "no silence matches any more");
	event = was->silenced && !is->silenced && !is->suppressed ? told_at_unsilence(al) : NULL;
	if (r == 0 && event)
		r = tell(a, rule->notify, true, id, event, now);
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

static int open_add(const char *fp, void *ctx)
{
	struct alerting *a = ctx;

	if (a->n_open == a->cap_open) {
		size_t cap = a->cap_open ? a->cap_open * 2 : 64;
		char **grown = realloc(a->open, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		a->open = grown;
		a->cap_open = cap;
	}
	a->open[a->n_open] = strdup(fp);
	if (!a->open[a->n_open])
		return -ENOMEM;
	a->n_open++;
	return 0;
}

/* The fingerprints of rule's open alerts into a->open. */
static int load_open(struct alerting *a, const struct rule_conf *rule)
{
	int r;

	open_clear(a);
	r = alert_store_open_fingerprints(a->store, rule->name, open_add, a);
	if (a->n_open)
		qsort(a->open, a->n_open, sizeof(*a->open), cmp_str);
	return r;
}

/* One rule's evaluation: what its type hands candidates to. */
struct evaluation {
	struct rule_eval e;
	struct alerting *a;
	const struct rule_type *type;
	struct seen seen;
};

/* Steps (or opens) the alert of one candidate and records what changed. */
static int consider(struct rule_eval *e, const struct candidate *c)
{
	struct evaluation *eval = e->evaluator;
	struct alerting *a = eval->a;
	const struct rule_conf *rule = e->rule;
	uint64_t now = e->now;
	struct alert_timing t;
	struct alert al;
	struct alert_quiet was = { 0 }, is = { .suppressed = c->suppressed };
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
	labels = alert_labels(rule, eval->type, c);
	is.silenced = silences_match(a->silences, rule->name, rule->severity, labels);
	timing_of(rule, &t);
	r = alert_store_load(a->store, fp, &al, &was, &id);
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
		r = seen_add_id(id, &eval->seen); /* nothing changed: no write */
		goto out;
	}
	r = save_alert(a, rule, eval->type, c, labels, fp, &al, &id, &is, now);
	if (r == 0)
		r = record_events(a, id, ev, now, c->value);
	event = notified_event(ev, &al);
	if (r == 0 && event && !is.suppressed && !is.silenced)
		r = tell(a, rule->notify, true, id, event, now);
	if (r == 0)
		r = quiet_changed(a, rule, id, &al, &was, &is, now);
	if (r == 0 && escalate)
		r = alert_store_event(a->store, id, now, "vigil", "escalated", rule->escalate_to);
	if (r == 0 && escalate)
		r = tell(a, rule->escalate_to, false, id, "escalated", now);
	if (r == 0)
		r = seen_add_id(id, &eval->seen);
out:
	json_decref(labels);
	return r;
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
	r = fleet_hosts_each(a->fleet, &all, put_last_seen, a);
	if (r == 0 && a->n_last_seen)
		qsort(a->last_seen, a->n_last_seen, sizeof(*a->last_seen), cmp_last_seen);
	return r;
}

static bool host_silent(struct rule_eval *e, const char *agent)
{
	struct alerting *a = ((struct evaluation *)e->evaluator)->a;
	struct last_seen key, *found;

	(void)snprintf(key.agent, sizeof(key.agent), "%s", agent);
	found = a->n_last_seen ? bsearch(&key, a->last_seen, a->n_last_seen, sizeof(key), cmp_last_seen) : NULL;
	return e->now > (found ? found->at : 0) + e->silent_after_us;
}

/* Open alerts whose probe or host is gone: their condition no longer holds. */
static int eval_vanished(struct evaluation *ev)
{
	struct alerting *a = ev->a;
	struct seen open = { 0 };
	int r = alert_store_open_ids(a->store, ev->e.rule->name, seen_add_id, &open);

	/* Collected first, then stepped one by one: no statement stays open across the writes. */
	for (size_t i = 0; r == 0 && i < open.n; i++) {
		struct candidate c = { 0 };
		char fp[512] = "", agent[512] = "", host[512] = "";
		const char *sep;

		if (seen_has(&ev->seen, open.ids[i]))
			continue;
		(void)alert_store_identity(a->store, open.ids[i], fp, agent, host, sizeof(fp));
		sep = strrchr(fp, '\x1f');
		(void)snprintf(c.value, sizeof(c.value), "%s", ev->type->gone);
		c.agent = agent;
		c.host = host;
		c.item = sep ? sep + 1 : "";
		r = consider(&ev->e, &c);
	}
	free(open.ids);
	return r;
}

static bool dialtest_quorum(struct rule_eval *e, const char *name, const char *labels, struct rule_quorum *ret)
{
	const struct alerting *a = ((struct evaluation *)e->evaluator)->a;

	*ret = (struct rule_quorum){ 1, 0, 0 };
	return !a->env.dialtest_quorum || a->env.dialtest_quorum(a->env.quorum_ctx, name, labels, ret);
}

/* One rule: its type's candidates, then what vanished. */
static int evaluate_rule(struct alerting *a, const struct rule_conf *rule, uint64_t now)
{
	struct evaluation ev = {
		.e = { .rule = rule, .now = now, .meta = a->db, .fleet = a->fleet,
		       .silent_after_us = a->env.hosts->silent_after_ms * 1000,
		       .interval_us = a->env.alerts->interval_ms * 1000,
		       .host_silent = host_silent, .consider = consider, .dialtest_quorum = dialtest_quorum },
		.a = a,
		.type = rule_type_find(rule->type),
	};
	int r;

	/* The checks refuse an unknown type where it is read: none reaches here. */
	if (!ev.type)
		return log_error_errno(EINVAL, "alerts: rule %s has no type %s", rule->name, rule->type);
	ev.e.evaluator = &ev;
	r = load_open(a, rule);
	if (r == 0)
		r = ev.type->evaluate(&ev.e);
	if (r == 0)
		r = eval_vanished(&ev);
	free(ev.seen.ids);
	return r;
}

struct orphans {
	const struct catalog_snapshot *snap;
	struct seen gone;
};

static int orphan_of(int64_t id, const char *rule, void *ctx)
{
	struct orphans *o = ctx;

	return catalog_rule(o->snap, rule) ? 0 : seen_add_id(id, &o->gone);
}

/* Open alerts of rules no longer defined (deleted through the API, or gone from the file) resolve. */
static int eval_orphans(struct alerting *a, const struct catalog_snapshot *snap, uint64_t now)
{
	struct orphans o = { .snap = snap };
	int r = alert_store_active(a->store, orphan_of, &o);

	for (size_t i = 0; r == 0 && i < o.gone.n; i++) {
		r = alert_store_resolve(a->store, o.gone.ids[i], now);
		if (r == 0)
			r = alert_store_event(a->store, o.gone.ids[i], now, "vigil", "resolved",
					      "its rule is no longer defined");
	}
	free(o.gone.ids);
	return r;
}

/*
 * The silences in force, before the evaluation's transaction (a shared
 * store that answers slowly holds no lock of meta.db's). One that cannot
 * be read does not lapse: those read last still apply, said once.
 */
static void read_silences(struct alerting *a, uint64_t now_us)
{
	int r = silences_in_force(&a->silence_store, now_us, a->silences);

	if (r < 0 && !a->silences_stale)
		log_error_errno(r, "alerts: the silences in %s cannot be read (%m); the %zu read before apply until they can",
				a->silence_store.ops->name, json_array_size(a->silences));
	else if (r == 0 && a->silences_stale)
		log_info("alerts: the silences in %s are read again", a->silence_store.ops->name);
	a->silences_stale = r < 0;
}

int alerting_evaluate(struct alerting *a, uint64_t now_us)
{
	const struct catalog_snapshot *snap;
	int r;

	/* Every collector, leading or not: its API and its ingest's log rules see what another defined. */
	r = catalog_refresh(a->catalog);
	if (r < 0 && !a->catalog_stale)
		log_error_errno(r, "alerts: the definitions cannot be read again (%m); those in force stay until they can");
	a->catalog_stale = r < 0;
	snap = catalog_get(a->catalog);
	r = 0;

	pthread_mutex_lock(&a->lock);
	if (!alert_store_leads(a->store, "alerting", a->holder, &a->lead))
		goto out;
	read_silences(a, now_us);
	r = alert_store_begin(a->store, true);
	if (r == 0)
		r = load_last_seen(a);
	for (size_t i = 0; r == 0 && i < snap->n_rules; i++)
		r = evaluate_rule(a, snap->rules[i], now_us);
	if (r == 0)
		r = eval_orphans(a, snap, now_us);
	r = alert_store_end(a->store, r);
	metrics_add(r < 0 ? &metrics.alert_evaluation_errors : &metrics.alert_evaluations, 1);
	if (r < 0)
		log_error("alerts: evaluation failed: %s", strerror(-r));
out:
	pthread_mutex_unlock(&a->lock);
	catalog_release(snap);
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

/* Another collector stored what may change an alert: evaluated soon, as this collector's own is. */
static int on_heard(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct alerting *a = userdata;
	int r = pgstore_listened(a->listener);

	if (r > 0)
		alerting_poke(a);
	/* The connection went: the socket with it; the next interval connects again. */
	if (r < 0)
		a->heard = sd_event_source_disable_unref(a->heard);
	return 0;
}

/* The listener's socket watched, connected again first when it had gone (each interval). */
static void listen_watch(struct alerting *a)
{
	int fd;

	if (!a->listener || a->heard)
		return;
	if (pgstore_listened(a->listener) < 0 || (fd = pgstore_listener_fd(a->listener)) < 0)
		return;
	if (sd_event_add_io(a->event, &a->heard, fd, EPOLLIN, on_heard, a) < 0)
		a->heard = NULL;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct alerting *a = userdata;

	listen_watch(a);
	run(a);
	(void)sd_event_source_set_time_relative(s, a->env.alerts->interval_ms * 1000);
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

bool alerting_leads(void *alerting)
{
	struct alerting *a = alerting;

	return !storage_conf_shared(a->env.storage) || a->lead == ALERT_LEAD_LEADS;
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
	sd_event_source_disable_unref(a->heard);
	pgstore_listener_free(a->listener);
	if (a->wake_fd >= 0)
		close(a->wake_fd);
	alert_store_free(a->store);
	storage_reader_free(a->fleet);
	if (a->silence_store.ops)
		a->silence_store.ops->close(a->silence_store.db);
	db_close(a->db);
	json_decref(a->silences);
	open_clear(a);
	free(a->open);
	free(a->last_seen);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

/*
 * With backend=postgresql the alerts, their notifications and the silences
 * are the shared database's, and so is the state of the fleet the rules
 * read: an alert raised by the collector that evaluates is every
 * collector's, a silence made on any holds on it.
 */
static int open_shared(struct alerting *a, const struct storage_conf *c)
{
	int r = storage_reader_open(c->data_dir, &a->fleet);

	if (r < 0)
		return r;
	storage_reader_share(a->fleet, c);
	if (!storage_conf_shared(c)) {
		a->silence_store = (struct silence_store){ &silence_store_sqlite, a->db };
		return alert_store_open(a->db, &a->store);
	}
	r = alert_store_open_pg(c->url, c->password_file, &a->store);
	if (r < 0)
		return r;
	a->silence_store.ops = &silence_store_pg;
	return silence_store_pg_open(c->url, c->password_file, &a->silence_store.db);
}

int alerting_start(const struct alerting_env *env, struct catalog *catalog, sd_event *event, struct alerting **ret)
{
	struct alerting *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return -ENOMEM;
	a->env = *env;
	a->catalog = catalog;
	pthread_mutex_init(&a->lock, NULL);
	a->silences = json_array();
	a->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	r = a->silences ? storage_meta_connect(env->storage->data_dir, env->storage->sync, &a->db) : -ENOMEM;
	if (r == 0)
		r = silences_schema(a->db);
	if (r == 0)
		r = open_shared(a, env->storage);
	process_name(a->holder, sizeof(a->holder));
	if (r == 0 && a->wake_fd < 0)
		r = -errno;
	if (r == 0 && event)
		r = sd_event_add_time_relative(event, &a->timer, CLOCK_MONOTONIC, env->alerts->interval_ms * 1000,
					       100000, on_timer, a);
	if (r == 0 && event)
		r = sd_event_add_time(event, &a->soon, CLOCK_MONOTONIC, 0, 1000, on_soon, a);
	if (r == 0 && event)
		r = sd_event_source_set_enabled(a->soon, SD_EVENT_OFF);
	if (r == 0 && event)
		r = sd_event_add_io(event, &a->wake, a->wake_fd, EPOLLIN, on_wake, a);
	a->event = event;
	/* Without it, what another collector stored waits for the next interval: worth a word, not a refusal. */
	if (r == 0 && event && storage_conf_shared(env->storage) && pgstore_listen(env->storage, &a->listener) < 0)
		log_warning("alerts: not told when another collector stores what may change an alert;"
			    " evaluated each interval instead");
	listen_watch(a);
	if (r < 0) {
		alerting_stop(a);
		return r;
	}
	*ret = a;
	return 0;
}
