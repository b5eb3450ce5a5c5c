/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <fnmatch.h>
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>

#include "alerts/logmatch.h"
#include "alerts/rules.h"
#include "common/fields.h"
#include "common/macro.h"
#include "common/regex.h"
#include "common/util.h"
#include "forward/position.h"
#include "search/logseries.h"
#include "store/blocks.h"
#include "store/fleet.h"
#include "store/hosts.h"
#include "store/lockouts.h"

/* What the candidates of one rule are judged with. */
struct judging {
	struct rule_eval *e;
	uint64_t silent_us, need;
};

/* A probe's latest result as j judges it into c (its names are c's caller's). */
static void probe_judged(const struct judging *j, const struct probe_state_row *p, struct candidate *c)
{
	c->active = !(p->status.len == 2 && memcmp(p->status.p, "ok", 2) == 0) && p->streak >= j->need;
	c->suppressed = j->e->now > p->host_last_seen + j->silent_us;
	(void)snprintf(c->value, sizeof(c->value), "%.*s: %.*s", (int)p->status.len, p->status.p, (int)p->message.len,
		       p->message.p);
}

static int probe_candidate(const struct probe_state_row *p, void *ctx)
{
	struct judging *j = ctx;
	char host[256], item[512];
	struct candidate c = { .agent = p->agent, .host = host, .item = item };

	(void)snprintf(host, sizeof(host), "%.*s", (int)p->host.len, p->host.p);
	(void)snprintf(item, sizeof(item), "%.*s", (int)p->name.len, p->name.p);
	probe_judged(j, p, &c);
	return j->e->consider(j->e, &c);
}

static int eval_probe(struct rule_eval *e)
{
	const struct rule_conf *rule = e->rule;
	struct probe_state_filter f = { .name_glob = rule->probe ? rule->probe : "*", .host_glob = rule->host };
	struct judging j = { e, e->silent_after_us, MAX(rule->consecutive, (uint64_t)1) };

	return fleet_probes_each(e->fleet, &f, probe_candidate, &j);
}

static int host_candidate(const struct host_row *h, void *ctx)
{
	struct judging *j = ctx;
	uint64_t now = j->e->now;
	char host[256];
	struct candidate c = { .agent = h->id, .host = host, .item = "", .active = now > h->last_seen + j->silent_us };

	(void)snprintf(host, sizeof(host), "%.*s", (int)h->hostname.len, h->hostname.p);
	if (!h->hostname.len)
		(void)snprintf(host, sizeof(host), "%s", h->id);
	(void)snprintf(c.value, sizeof(c.value), "last heard from %" PRIu64 " s ago",
		       now > h->last_seen ? (now - h->last_seen) / 1000000 : 0);
	return j->e->consider(j->e, &c);
}

static int eval_host_silent(struct rule_eval *e)
{
	const struct rule_conf *rule = e->rule;
	struct host_filter f = { .name_glob = rule->host, .no_probe_counts = true };
	struct judging j = { e, rule->silent_for_ms ? rule->silent_for_ms * 1000 : e->silent_after_us, 0 };

	return fleet_hosts_each(e->fleet, &f, host_candidate, &j);
}

/* The latest sample of a metric per (agent, instance), or the matches of a log rule per agent. */
struct sample {
	char agent[33], host[256], instance[256];
	double value;
	uint64_t ts;
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
	x->ts = MAX(x->ts, m->ts);
	if (sum)
		(void)snprintf(x->line, sizeof(x->line), "%s", m->line);
	return 0;
}

static int put_sample(const struct metric_sample *m, void *ctx)
{
	return samples_put(ctx, m, false);
}

static int put_match(const struct metric_sample *m, void *ctx)
{
	return samples_put(ctx, m, true);
}

/* What a rule on a log metric (log.NAME.STAT) reads: the rows of its window. */
struct logmetric_query {
	const struct rule_conf *rule;
	struct logseries *ls;
};

static int add_log_part(const struct logmetric_part *p, void *ctx)
{
	const struct logmetric_query *q = ctx;

	if (fnmatch(q->rule->host, p->host, 0) || fnmatch(q->rule->instance ? q->rule->instance : "*", p->labels, 0))
		return 0;
	return logseries_add(q->ls, p->agent, p->host, p->labels, p->ts, p->count, p->sketch, p->sketch_len);
}

static int put_log_sample(const char *agent, const char *host, const char *labels, uint64_t bucket, double value,
			  void *ctx)
{
	return samples_put(ctx, &(struct metric_sample){ .agent = agent, .host = host, .instance = labels,
							 .value = value, .line = "" }, false);
}

/*
 * A log metric's statistic over the window, one sample per (agent, labels):
 * of the rows (each a block's part of a step) that saw a record in it.
 */
static int log_samples(struct rule_eval *e, const char *metric, enum logstat st, uint64_t since_us,
		       struct samples *ss)
{
	/* One bucket holds the window: every row since since_us merges into it. */
	struct logmetric_query q = { e->rule, NULL };
	int r = logseries_new(UINT64_MAX >> 1, &q.ls);

	if (r == 0)
		r = fleet_logmetric_rows(e->fleet, metric, NULL, since_us, UINT64_MAX >> 1, true, add_log_part, &q);
	if (r == 0)
		r = logseries_each(q.ls, st, put_log_sample, ss);
	logseries_free(q.ls);
	return r;
}

/* Whether another agent has a newer sample of x's instance. */
static bool superseded(const struct samples *ss, const struct sample *x)
{
	for (size_t i = 0; i < ss->n; i++)
		if (ss->s[i].ts > x->ts && strcmp(ss->s[i].instance, x->instance) == 0)
			return true;
	return false;
}

/*
 * The latest sample of each instance within window_us (0: a minute, or
 * three evaluations); of a log metric, its statistic over that window.
 * newest_only: of each instance, only the newest of any agent's (a dial
 * test's, whichever collector ran it last: one that no longer runs the
 * schedule does not stand for the test).
 */
static int metric_within(struct rule_eval *e, uint64_t window_us, bool newest_only)
{
	const struct rule_conf *rule = e->rule;
	uint64_t now = e->now, window = window_us ? window_us : MAX(3 * e->interval_us, 60 * USEC_PER_SEC);
	uint64_t since = now > window ? now - window : 0;
	struct samples ss = { 0 };
	char metric[LOGMETRIC_NAME_MAX + 1];
	enum logstat st;
	int r = logstat_parse(rule->metric, metric, &st) == 0 ?
			log_samples(e, metric, st, since, &ss) :
			fleet_metric_latest(e->fleet, rule->metric, since, rule->host, rule->instance ? rule->instance : "*",
					    put_sample, &ss);

	for (size_t i = 0; r == 0 && i < ss.n; i++) {
		const struct sample *x = &ss.s[i];
		struct candidate c = { .agent = x->agent, .host = x->host, .item = x->instance, .has_sample = true,
				       .sample = x->value, .suppressed = e->host_silent(e, x->agent) };

		if (newest_only && superseded(&ss, x))
			continue;
		(void)snprintf(c.value, sizeof(c.value), "%s%s%s = %g", rule->metric, *c.item ? " " : "", c.item,
			       x->value);
		r = e->consider(e, &c);
	}
	free(ss.s);
	return r;
}

static int eval_metric(struct rule_eval *e)
{
	return metric_within(e, 0, false);
}

static int eval_log(struct rule_eval *e)
{
	const struct rule_conf *rule = e->rule;
	uint64_t now = e->now, window = (rule->window_ms ? rule->window_ms : 300000) * 1000,
		 need = MAX(rule->count, (uint64_t)1);
	struct samples ss = { 0 };
	int r = fleet_log_matches(e->fleet, rule->name, now > window ? now - window : 0, rule->host, put_match, &ss);

	for (size_t i = 0; r == 0 && i < ss.n; i++) {
		const struct sample *x = &ss.s[i];
		struct candidate c = { .agent = x->agent, .host = x->host, .item = "", .active = x->value >= need,
				       .suppressed = e->host_silent(e, x->agent) };

		(void)snprintf(c.value, sizeof(c.value), "%.0f in %" PRIu64 " s: %s", x->value, window / USEC_PER_SEC,
			       x->line);
		r = e->consider(e, &c);
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
struct collected;
static int consider_collected(struct rule_eval *e, int (*read)(struct collected *cs));
static int read_dialtests(struct collected *cs);

static int eval_dialtest(struct rule_eval *e)
{
	const struct rule_conf *rule = e->rule;
	const char *cond = rule->condition ? rule->condition : "failure";
	struct rule_conf r = *rule;
	int k;

	e->rule = &r;
	if (strcmp(cond, "failure") == 0) {
		r.probe = rule->dialtest;
		k = consider_collected(e, read_dialtests);
	} else {
		r.metric = strcmp(cond, "latency") == 0 ? "dialtest.total_ms" : "dialtest.cert_days_left";
		r.instance = rule->dialtest;
		k = metric_within(e, DIALTEST_WINDOW_US, true);
	}
	e->rule = rule;
	return k;
}

/*
 * Candidates read from meta.db in full before any is considered: no
 * statement stays open across consider()'s writes. Each keeps its strings.
 */
#define COLLECTED_MAX 1000

struct collected {
	struct rule_eval *e;
	struct candidate c[COLLECTED_MAX];
	struct {
		char agent[33], host[256], item[65];
	} s[COLLECTED_MAX];
	size_t n;
};

/* Candidate i made anew, its strings copied in. */
static struct candidate *collected_set(struct collected *cs, size_t i, const char *agent, const char *host,
				       const char *item)
{
	(void)snprintf(cs->s[i].agent, sizeof(cs->s[i].agent), "%s", agent);
	(void)snprintf(cs->s[i].host, sizeof(cs->s[i].host), "%s", host);
	(void)snprintf(cs->s[i].item, sizeof(cs->s[i].item), "%s", item);
	cs->c[i] = (struct candidate){ .agent = cs->s[i].agent, .host = cs->s[i].host, .item = cs->s[i].item };
	return &cs->c[i];
}

/* The next candidate, its strings copied in; NULL when there is room for no more. */
static struct candidate *collected_add(struct collected *cs, const char *agent, const char *host, const char *item)
{
	return cs->n == COLLECTED_MAX ? NULL : collected_set(cs, cs->n++, agent, host, item);
}

/* read(cs) fills cs; then each candidate is considered. */
static int consider_collected(struct rule_eval *e, int (*read)(struct collected *cs))
{
	struct collected *cs = calloc(1, sizeof(*cs));
	int r;

	if (!cs)
		return -ENOMEM;
	cs->e = e;
	r = read(cs);
	for (size_t i = 0; r >= 0 && i < cs->n; i++)
		r = e->consider(e, &cs->c[i]);
	free(cs);
	return r < 0 ? r : 0;
}

/*
 * A dial test's state across its vantage points: the collector (the newest
 * run of any collector's identity: with several on one database each runs
 * the schedule while it leads, and one that no longer does must not stand
 * for the test) and each agent whose labels its run_on selects. With
 * vantage= a rule watches each vantage apart ("TEST@VANTAGE"); without, the
 * test as a whole, failing when its fail_when's K vantages fail.
 */
/* A vantage's newest run, as a rule sees it. */
struct vantage_run {
	char agent[33], host[256];
	bool collector, failing, fresh;
	uint64_t ts;
	char line[160];   /* "VANTAGE: status: message" */
	size_t status_at; /* where "status: message" begins in it */
};

/* One test's vantages as read: the collectors' newest run, and the agents' counted as they come. */
struct test_state {
	char item[65];
	struct rule_quorum qc;
	bool collector_runs;        /* the collector is one of its vantages */
	struct vantage_run newest;  /* the collectors' newest run (ts 0: none) */
	unsigned failing, reporting; /* of the agents' fresh runs */
	char failed[512];           /* their failing runs' lines */
	size_t at;
	struct vantage_run last;    /* the last of them read */
};

#define TESTS_SLOTS 2048 /* open addressing over COLLECTED_MAX tests at most */

struct quorum_read {
	struct collected *cs;
	struct judging j;
	struct test_state *tests; /* COLLECTED_MAX of them, in the order met */
	size_t n;
	int16_t slot[TESTS_SLOTS]; /* index into tests + 1; 0: empty */
};

/* The state of test item, made when first met; NULL when there is room for no more. */
static struct test_state *test_state(struct quorum_read *q, const char *item)
{
	for (size_t i = fnv1a_32(FNV1A_32_INIT, item) % TESTS_SLOTS;; i = (i + 1) % TESTS_SLOTS) {
		struct test_state *t;

		if (q->slot[i] && strcmp(q->tests[q->slot[i] - 1].item, item) == 0)
			return &q->tests[q->slot[i] - 1];
		if (q->slot[i])
			continue;
		if (q->n == COLLECTED_MAX)
			return NULL;
		t = &q->tests[q->n++];
		q->slot[i] = (int16_t)q->n;
		(void)snprintf(t->item, sizeof(t->item), "%s", item);
		t->qc = (struct rule_quorum){ 1, 0, 0 };
		t->collector_runs = q->j.e->dialtest_quorum(q->j.e, item, NULL, &t->qc);
		return t;
	}
}

static void vantage_run_of(const struct quorum_read *q, const struct test_state *t, const struct probe_state_row *p,
			   struct vantage_run *v)
{
	const struct rule_eval *e = q->j.e;
	const char *name;

	*v = (struct vantage_run){ .collector = p->collector, .ts = p->ts };
	(void)snprintf(v->agent, sizeof(v->agent), "%s", p->agent);
	(void)snprintf(v->host, sizeof(v->host), "%.*s", (int)p->host.len, p->host.p);
	name = p->collector ? "collector" : v->host;
	v->failing = !(p->status.len == 2 && memcmp(p->status.p, "ok", 2) == 0) && p->streak >= q->j.need;
	v->fresh = (!t->qc.interval_us || e->now <= p->ts + 3 * t->qc.interval_us + 60 * USEC_PER_SEC) &&
		   (p->collector || e->now <= p->host_last_seen + q->j.silent_us);
	(void)snprintf(v->line, sizeof(v->line), "%.64s: %.*s: %.*s", name, (int)MIN(p->status.len, 16u), p->status.p,
		       (int)MIN(p->message.len, 64u), p->message.p);
	v->status_at = MIN(strlen(name), (size_t)64) + 2;
}

/* With vantage=, one candidate a vantage it names: "TEST@VANTAGE". */
static void vantage_candidate(struct quorum_read *q, const struct test_state *t, const struct vantage_run *v)
{
	const char *name = v->collector ? "collector" : v->host;
	char item[sizeof(t->item) + sizeof(v->host) + 1];
	struct candidate *c;

	if (!v->fresh || fnmatch(q->j.e->rule->vantage, name, 0) != 0)
		return;
	(void)snprintf(item, sizeof(item), "%s@%s", t->item, name);
	c = collected_add(q->cs, v->collector ? "" : v->agent, v->collector ? "" : v->host, item);
	if (c) {
		c->active = v->failing;
		(void)snprintf(c->value, sizeof(c->value), "%s", v->line);
	}
}

static int vantage_put(const struct probe_state_row *p, void *ctx)
{
	struct quorum_read *q = ctx;
	char item[65];
	struct test_state *t;
	struct vantage_run v;

	(void)snprintf(item, sizeof(item), "%.*s", (int)p->name.len, p->name.p);
	t = test_state(q, item);
	if (!t)
		return 1;
	/* A host the test does not run on speaks for none of its vantages. */
	if (p->collector ? !t->collector_runs :
			   !q->j.e->dialtest_quorum(q->j.e, item, p->labels ? p->labels : "{}", &t->qc))
		return 0;
	/* The collectors' identities are one vantage: the newest run stands for them, once all are read. */
	if (p->collector) {
		if (p->ts > t->newest.ts)
			vantage_run_of(q, t, p, &t->newest);
		return 0;
	}
	vantage_run_of(q, t, p, &v);
	if (q->j.e->rule->vantage)
		vantage_candidate(q, t, &v);
	else if (v.fresh) {
		t->last = v;
		t->reporting++;
		t->failing += v.failing;
		if (v.failing && t->at < sizeof(t->failed))
			t->at += (size_t)snprintf(t->failed + t->at, sizeof(t->failed) - t->at, "; %s", v.line);
	}
	return 0;
}

/*
 * Without vantage=, one candidate a test, failing when K of its reporting
 * vantages fail, naming them, and named by the collector that ran it last
 * (as a test the collector alone runs always was); a test with one vantage
 * reads as it always did: its status and message.
 */
static void quorum_candidate(struct quorum_read *q, struct test_state *t)
{
	const struct vantage_run *by = t->newest.ts ? &t->newest : NULL;
	bool collector = by && by->fresh;
	unsigned failing = t->failing + (collector && by->failing), reporting = t->reporting + collector;
	struct candidate *c = collected_add(q->cs, by ? by->agent : "", by ? by->host : "", t->item);
	size_t at;

	if (!c)
		return;
	c->active = failing >= t->qc.k;
	if (reporting <= 1 && !t->qc.n) {
		(void)snprintf(c->value, sizeof(c->value), "%s",
			       collector ? by->line + by->status_at : reporting ? t->last.line + t->last.status_at : "");
		return;
	}
	at = (size_t)snprintf(c->value, sizeof(c->value), "%u of %u vantages failing (fail_when %u of %u)", failing,
			      reporting, t->qc.k, t->qc.n);
	if (collector && by->failing && at < sizeof(c->value))
		at += (size_t)snprintf(c->value + at, sizeof(c->value) - at, "; %s", by->line);
	if (at < sizeof(c->value))
		(void)snprintf(c->value + at, sizeof(c->value) - at, "%s", t->failed);
}

static int read_dialtests(struct collected *cs)
{
	struct rule_eval *e = cs->e;
	struct probe_state_filter f = { .name_glob = e->rule->probe ? e->rule->probe : "*", .host_glob = e->rule->host,
					.type = DIALTEST_TYPE };
	struct quorum_read *q = calloc(1, sizeof(*q));
	int r;

	if (!q || !(q->tests = calloc(COLLECTED_MAX, sizeof(*q->tests)))) {
		free(q);
		return -ENOMEM;
	}
	q->cs = cs;
	q->j = (struct judging){ e, e->silent_after_us, MAX(e->rule->consecutive, (uint64_t)1) };
	r = fleet_probes_each(e->fleet, &f, vantage_put, q);
	for (size_t i = 0; r >= 0 && i < q->n; i++)
		if (!e->rule->vantage)
			quorum_candidate(q, &q->tests[i]);
		else if (q->tests[i].newest.ts)
			vantage_candidate(q, &q->tests[i], &q->tests[i].newest);
	free(q->tests);
	free(q);
	return r;
}

/* An agent id conflict holds while refusals go on: a refused agent asks again every minute. */
#define CONFLICT_ACTIVE_US (10 * 60 * USEC_PER_SEC)

static int conflict_put(const struct agent_conflict *ac, void *ctx)
{
	struct candidate *c = collected_add(ctx, ac->agent, ac->hosts ? ac->hosts : "", "");

	if (!c)
		return 1;
	c->active = true;
	(void)snprintf(c->value, sizeof(c->value),
		       "agent id %s is used by more than one host (%s): %" PRIu64 " batches refused, the last %" PRIu64,
		       ac->agent, ac->hosts ? ac->hosts : "", ac->count, ac->seq);
	return 0;
}

static int read_conflicts(struct collected *cs)
{
	uint64_t now = cs->e->now;

	return fleet_conflicts_each(cs->e->fleet, NULL, now - MIN(now, CONFLICT_ACTIVE_US), conflict_put, cs);
}

/* Hosts that send with one agent id (cloned VMs): their batches are refused until one gets a new id. */
static int eval_agent_conflict(struct rule_eval *e)
{
	return consider_collected(e, read_conflicts);
}

/* A lockout rule's window= when it gives none. */
#define LOCKOUT_WINDOW_MS 3600000

static uint64_t lockout_window_us(const struct rule_conf *rule)
{
	return (rule->window_ms ? rule->window_ms : LOCKOUT_WINDOW_MS) * 1000;
}

static int lockout_put(const struct lockout_count *lc, void *ctx)
{
	struct collected *cs = ctx;
	struct candidate *c = collected_add(cs, "", "", lc->user);
	char until[40];

	if (!c)
		return 1;
	c->active = lc->count >= MAX(cs->e->rule->count, (uint64_t)1);
	format_rfc3339_us(lc->until, until, sizeof(until));
	(void)snprintf(c->value, sizeof(c->value),
		       "%" PRIu64 " lockout%s in %" PRIu64 " s after failed logins, the last until %s", lc->count,
		       lc->count == 1 ? "" : "s", lockout_window_us(cs->e->rule) / USEC_PER_SEC, until);
	return 0;
}

static int read_lockouts(struct collected *cs)
{
	uint64_t now = cs->e->now, window = lockout_window_us(cs->e->rule);
	struct pgstore *pg = NULL;
	int k = storage_reader_shared(cs->e->fleet, &pg);

	if (k < 0)
		return k;
	/* The shared store's when there is one: a user locked through another collector counts here. */
	return k ? pgstore_lockouts_each(pg, now - MIN(now, window), lockout_put, cs)
		 : lockouts_each(cs->e->meta, now - MIN(now, window), lockout_put, cs);
}

/* Console users locked out by failed logins count= times (default 1) within window=: someone tries their passwords. */
static int eval_lockout(struct rule_eval *e)
{
	return consider_collected(e, read_lockouts);
}

static int forward_put(const struct forward_state *s, void *ctx)
{
	struct collected *cs = ctx;
	struct candidate *c = collected_add(cs, "", "", s->name);
	uint64_t now = cs->e->now;
	/* Behind as of its last write: a forwarder that cannot deliver falls further behind each second since. */
	uint64_t lag = s->lag_us ? s->lag_us + (now - MIN(now, s->updated)) : 0;

	if (!c)
		return 1;
	c->has_sample = true;
	c->sample = (double)lag / 1e6;
	(void)snprintf(c->value, sizeof(c->value), "%.0f s behind, %" PRIu64 " records stored after its position%s%s",
		       c->sample, s->behind, s->error ? "; the last attempt: " : "", s->error ? s->error : "");
	return 0;
}

/* Where each forwarder is: in the shared store when there is one (the collector that forwards keeps it there). */
static int read_forwards(struct collected *cs)
{
	struct pgstore *pg = NULL;
	int k = storage_reader_shared(cs->e->fleet, &pg);

	if (k < 0)
		return k;
	return k ? pgstore_positions_each(pg, forward_put, cs) : forward_states_each(cs->e->meta, forward_put, cs);
}

/* A [forward] whose oldest record not yet acknowledged by its receiver is older than above= seconds. */
static int eval_forward_lag(struct rule_eval *e)
{
	return consider_collected(e, read_forwards);
}

static void check_forward_lag(const struct rule_conf *r, const char *where, struct conf_errors *errs)
{
	if (!r->above || r->below)
		conf_error_add(errs, where, "[rule \"%s\"]: type=forward_lag needs above= (seconds) and no below=",
			       r->name);
}

static void check_metric(const struct rule_conf *r, const char *where, struct conf_errors *errs)
{
	char metric[LOGMETRIC_NAME_MAX + 1];
	enum logstat st;

	if (!r->metric || !r->above == !r->below)
		conf_error_add(errs, where, "[rule \"%s\"]: type=metric needs metric= and one of above= and below=",
			       r->name);
	else if (logstat_parse(r->metric, metric, &st) == -EINVAL)
		conf_error_add(errs, where, "[rule \"%s\"] metric=%s: a log metric is log.NAME.STAT, STAT one of "
			       LOGSTAT_NAMES, r->name, r->metric);
}

static void check_log(const struct rule_conf *r, const char *where, struct conf_errors *errs)
{
	regex_t re;
	char why[256];

	if (!r->pattern) {
		conf_error_add(errs, where, "[rule \"%s\"]: type=log needs pattern=", r->name);
		return;
	}
	if (regex_compile(&re, r->pattern, REG_EXTENDED | REG_NOSUB, why, sizeof(why)) < 0) {
		conf_error_add(errs, where, "[rule \"%s\"] pattern=%s: %s", r->name, r->pattern, why);
		return;
	}
	regfree(&re);
}

static void check_dialtest(const struct rule_conf *r, const char *where, struct conf_errors *errs)
{
	const char *c = r->condition ? r->condition : "failure";
	bool failure = strcmp(c, "failure") == 0, latency = strcmp(c, "latency") == 0, cert = strcmp(c, "cert_days") == 0;

	if (!failure && !latency && !cert)
		conf_error_add(errs, where, "[rule \"%s\"] condition=%s: expected failure, latency or cert_days", r->name, c);
	if (latency && (!r->above || r->below))
		conf_error_add(errs, where, "[rule \"%s\"]: condition=latency needs above= (milliseconds)", r->name);
	if (cert && (!r->below || r->above))
		conf_error_add(errs, where, "[rule \"%s\"]: condition=cert_days needs below= (days)", r->name);
	if (failure && (r->above || r->below || r->recover))
		conf_error_add(errs, where, "[rule \"%s\"]: condition=failure takes no above=, below=, recover=", r->name);
	if (!failure && r->consecutive)
		conf_error_add(errs, where, "[rule \"%s\"]: consecutive= applies to condition=failure", r->name);
	if (!failure && r->vantage)
		conf_error_add(errs, where, "[rule \"%s\"]: vantage= applies to condition=failure", r->name);
}

/* In the order "type=...: expected ..." lists them. */
static const struct rule_type type_probe = {
	.name = "probe", .item_label = "probe", .summary = "{{probe}} on {{host}}: {{value}}",
	.gone = "no longer reported", .keys = RULE_KEYS_PROBE | RULE_KEYS_CONSECUTIVE, .evaluate = eval_probe,
};
static const struct rule_type type_host_silent = {
	.name = "host_silent", .summary = "{{host}}: {{value}}", .gone = "no longer reported",
	.keys = RULE_KEYS_SILENT, .evaluate = eval_host_silent,
};
static const struct rule_type type_metric = {
	.name = "metric", .summary = "{{host}}: {{value}}", .gone = "no longer reported",
	.keys = RULE_KEYS_METRIC | RULE_KEYS_THRESHOLD, .evaluate = eval_metric, .check = check_metric,
};
static const struct rule_type type_log = {
	.name = "log", .summary = "{{host}}: {{value}}", .gone = "no match within the window",
	.keys = RULE_KEYS_LOG | RULE_KEYS_COUNT,
	.matches_lines = true, .evaluate = eval_log, .check = check_log,
};
static const struct rule_type type_dialtest = {
	.name = "dialtest", .item_label = "dialtest", .summary = "dial test {{dialtest}}: {{value}}",
	.gone = "no longer reported", .keys = RULE_KEYS_DIALTEST | RULE_KEYS_THRESHOLD | RULE_KEYS_CONSECUTIVE,
	.evaluate = eval_dialtest, .check = check_dialtest,
};
static const struct rule_type type_agent_conflict = {
	.name = "agent_conflict", .summary = "{{host}}: {{value}}", .gone = "no batch refused for 10 minutes",
	.evaluate = eval_agent_conflict,
};

static const struct rule_type type_lockout = {
	.name = "lockout", .item_label = "user", .summary = "console user {{user}} locked out: {{value}}",
	.gone = "no lockout within the window", .keys = RULE_KEYS_COUNT, .evaluate = eval_lockout,
};

static const struct rule_type type_forward_lag = {
	.name = "forward_lag", .item_label = "forward", .summary = "forward {{forward}}: {{value}}",
	.gone = "no longer forwarding", .keys = RULE_KEYS_THRESHOLD, .evaluate = eval_forward_lag,
	.check = check_forward_lag,
};

const struct rule_type *const rule_types[] = {
	&type_probe, &type_host_silent, &type_metric, &type_log, &type_dialtest, &type_agent_conflict, &type_lockout,
	&type_forward_lag,
};
const size_t n_rule_types = ARRAY_SIZE(rule_types);

const struct rule_type *rule_type_find(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(rule_types); i++)
		if (strcmp(rule_types[i]->name, name) == 0)
			return rule_types[i];
	return NULL;
}

const char *rule_keys_name(unsigned group, bool *ret_plural)
{
	static const struct {
		unsigned group;
		const char *keys;
		bool plural;
	} names[] = {
		{ RULE_KEYS_DIALTEST, "dialtest=, condition= and vantage=", true },
		{ RULE_KEYS_LOG, "pattern=, unit=, source=", true },
		{ RULE_KEYS_COUNT, "count= and window=", true },
		{ RULE_KEYS_METRIC, "metric= and instance=", true },
		{ RULE_KEYS_THRESHOLD, "above=, below=, recover=", true },
		{ RULE_KEYS_PROBE, "probe=", false },
		{ RULE_KEYS_CONSECUTIVE, "consecutive=", false },
		{ RULE_KEYS_SILENT, "silent_for=", false },
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].group == group) {
			*ret_plural = names[i].plural;
			return names[i].keys;
		}
	*ret_plural = false;
	return "?";
}

bool rule_keys_set(const struct rule_conf *r, unsigned group)
{
	switch (group) {
	case RULE_KEYS_PROBE: return r->probe;
	case RULE_KEYS_CONSECUTIVE: return r->consecutive;
	case RULE_KEYS_SILENT: return r->silent_for_ms;
	case RULE_KEYS_METRIC: return r->metric || r->instance;
	case RULE_KEYS_THRESHOLD: return r->above || r->below || r->recover;
	case RULE_KEYS_LOG: return r->pattern || r->unit || r->source;
	case RULE_KEYS_COUNT: return r->count || r->window_ms;
	case RULE_KEYS_DIALTEST: return r->dialtest || r->condition || r->vantage;
	default: return false;
	}
}
