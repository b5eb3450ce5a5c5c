/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "common/conf.h"
#include "common/util.h"
#include "dialtests/dialer.h"
#include "dialtests/catalog.h"
#include "api/http-internal.h"
#include "control/vantages.h"
#include "store/fleet.h"

#define PREFIX "/api/v1/dialtests/"
#define SUMMARY_RESULTS_MAX 100000

/* "/api/v1/dialtests/ID[/WHAT]": id and what ("" when none); false when malformed. */
static bool split_path(const char *url, int64_t *id, const char **what)
{
	const char *p = url + strlen(PREFIX), *slash = strchr(p, '/');
	char num[24];
	uint64_t v;

	if (!slash)
		slash = p + strlen(p);
	if (slash == p || (size_t)(slash - p) >= sizeof(num))
		return false;
	(void)snprintf(num, sizeof(num), "%.*s", (int)(slash - p), p);
	if (conf_parse_uint(num, &v) < 0 || v == 0 || v > INT64_MAX)
		return false;
	*id = (int64_t)v;
	*what = *slash ? slash + 1 : "";
	return true;
}

/*
 * A definition as one who is no admin sees it: the credentials written into
 * it (a bearer token, a password, a header's value) are hidden; a
 * {{secret:NAME}} reference would show nothing anyway.
 */
static void hide_credentials(json_t *def)
{
	json_t *step, *auth, *v;
	const char *k;
	size_t i;

	json_array_foreach(json_object_get(def, "steps"), i, step) {
		if (json_object_get(step, "bearer"))
			json_object_set_new(step, "bearer", json_string("(hidden)"));
		auth = json_object_get(step, "basic_auth");
		if (json_is_object(auth) && json_object_get(auth, "password"))
			json_object_set_new(auth, "password", json_string("(hidden)"));
		json_object_foreach(json_object_get(step, "headers"), k, v)
			if (!dt_header_plain(k))
				json_object_set_new(json_object_get(step, "headers"), k, json_string("(hidden)"));
	}
}

enum MHD_Result api_get_dialtests(struct request *rq)
{
	json_t *j, *def;
	size_t i;
	int r = dialtests_list(http_dialtests(rq), &j);

	if (r < 0)
		return respond_errno(rq, r, "cannot read the dial tests");
	json_array_foreach(request_is_admin(rq) ? NULL : json_object_get(j, "items"), i, def)
		hide_credentials(def);
	return respond_json(rq, MHD_HTTP_OK, j);
}

/*
 * Which vantage point a run came from: "collector" for a collector's own
 * identity, else the agent's host; NULL for an agent's host the test does
 * not run on, whose runs are none of its own (it speaks only for itself).
 */
#define VANTAGES_KNOWN 64

struct vantages_known {
	struct request *rq;
	const struct dialtest *t; /* in snap; NULL: the test is gone, every run shown */
	const struct dialtests_snapshot *snap;
	char agent[VANTAGES_KNOWN][33];
	signed char member[VANTAGES_KNOWN]; /* 1 a collector, 0 an agent it runs on, -1 another host */
	size_t n;
};

static void vantages_known_init(struct vantages_known *vk, struct request *rq, int64_t id)
{
	const struct dialtest_entry *e;

	*vk = (struct vantages_known){ .rq = rq, .snap = dialtests_get(http_dialtests(rq)) };
	e = dialtests_find(vk->snap, id);
	vk->t = e ? e->test : NULL;
}

static void vantages_known_clear(struct vantages_known *vk)
{
	dialtests_release(vk->snap);
}

static int host_member(const struct host_row *h, void *ctx)
{
	struct vantages_known *vk = ctx;
	signed char *m = &vk->member[vk->n];

	/* A collector's run is its own, asked for by hand when the test is the agents' alone. */
	*m = h->collector ? 1 : 0;
	if (vk->t && !h->collector && !dialtest_runs_on(vk->t, h->labels ? h->labels : "{}"))
		*m = -1;
	return 1;
}

static const char *vantage_of(struct vantages_known *vk, const struct dialtest_run_row *run)
{
	size_t i = 0;

	while (i < vk->n && strcmp(vk->agent[i], run->agent) != 0)
		i++;
	if (i == vk->n) {
		/* Past what is remembered, the last slot is asked again each time: bounded either way. */
		i = MIN(vk->n, (size_t)VANTAGES_KNOWN - 1);
		vk->n = i;
		vk->member[i] = vk->t ? -1 : 0;
		(void)snprintf(vk->agent[i], sizeof(vk->agent[0]), "%s", run->agent);
		(void)fleet_hosts_each(vk->rq->rd,
				       &(struct host_filter){ .id_or_name = run->agent, .no_probe_counts = true },
				       host_member, vk);
		vk->n++;
	}
	return vk->member[i] < 0 ? NULL : vk->member[i] ? "collector" : run->host;
}

/* A run's result with its vantage, which the store says (an agent's own claim is not taken); NULL: none to show. */
static json_t *run_result(struct vantages_known *vk, const struct dialtest_run_row *run)
{
	const char *vantage = vantage_of(vk, run);
	json_t *j = vantage ? json_loads(run->result, 0, NULL) : NULL;

	if (j)
		json_object_set_new(j, "vantage", json_string(vantage));
	return j;
}

/* The results of one answer, within its bytes. */
struct results_answer {
	json_t *items;
	struct answer_budget budget;
	uint64_t last_ts;
	struct vantages_known vk;
};

/* A run's result into the answer; non-zero (stop) when the answer's bytes are spent. */
static int add_result(const struct dialtest_run_row *run, void *ctx)
{
	struct results_answer *a = ctx;
	json_t *j;

	if (!answer_budget_take(&a->budget, strlen(run->result)))
		return 1;
	j = run_result(&a->vk, run);
	if (j)
		json_array_append_new(a->items, j);
	a->last_ts = run->ts;
	return 0;
}

/* GET /api/v1/dialtests/ID/results?since=&until=&limit= (default the last hour, 100, newest first). */
static enum MHD_Result get_results(struct request *rq, int64_t id)
{
	uint64_t now = now_realtime_us(), since = now - 3600 * USEC_PER_SEC, until = now, limit = 100;
	const char *l = arg(rq, "limit");
	struct results_answer a = { .items = json_array(), .budget = answer_budget(rq) };
	json_t *j;
	int r;

	if (since_until_args(rq, &since, &until) < 0)
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", SINCE_UNTIL_HELP);
	if (l && (conf_parse_uint(l, &limit) < 0 || limit == 0 || limit > 10000))
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "limit: expected 1 to 10000");
	vantages_known_init(&a.vk, rq, id);
	r = fleet_dialtest_results(rq->rd, id, since, until, (size_t)limit, add_result, &a);
	vantages_known_clear(&a.vk);
	if (r < 0) {
		json_decref(a.items);
		return respond_errno(rq, r, "cannot read the dial tests");
	}
	j = json_pack("{s:I, s:o, s:b}", "id", (json_int_t)id, "items", a.items, "truncated", a.budget.spent);
	/* Newest first: the next page ends before the oldest shown (an until= value, to the microsecond). */
	if (a.budget.spent) {
		char next[40];
		format_rfc3339_us(a.last_ts - 1, next, sizeof(next));
		json_object_set_new(j, "next_until", json_string(next));
	}
	return respond_json(rq, MHD_HTTP_OK, j);
}

/* What a summary gathers, result by result. */
struct tally {
	size_t runs, ok;
	json_t *steps;    /* {"step": [total ms, ...]} */
	json_t *failures; /* {"outcome": {"reason": count}} */
	json_t *vantages; /* {"vantage": {"runs": n, "ok": n}} */
	struct vantages_known vk;
};

static void count_vantage(struct tally *t, json_t *result)
{
	const char *name = json_string_value(json_object_get(result, "vantage"));
	json_t *v = json_object_get(t->vantages, name);

	if (!v) {
		v = json_pack("{s:i, s:i}", "runs", 0, "ok", 0);
		json_object_set_new(t->vantages, name, v);
	}
	json_object_set_new(v, "runs", json_integer(json_integer_value(json_object_get(v, "runs")) + 1));
	if (json_is_true(json_object_get(result, "ok")))
		json_object_set_new(v, "ok", json_integer(json_integer_value(json_object_get(v, "ok")) + 1));
}

static void count_failure(struct tally *t, json_t *result)
{
	const char *outcome = json_string_value(json_object_get(result, "outcome")), *reason = "unknown";
	json_t *s, *by;
	size_t i;

	json_array_foreach(json_object_get(result, "steps"), i, s) {
		const char *a = json_string_value(json_object_get(json_object_get(s, "failed_assertion"), "type")),
			   *e = json_string_value(json_object_get(json_object_get(s, "error"), "kind"));

		if (a || e)
			reason = a ? a : e;
	}
	by = json_object_get(t->failures, outcome ? outcome : "unknown");
	if (!by) {
		by = json_object();
		json_object_set_new(t->failures, outcome ? outcome : "unknown", by);
	}
	json_object_set_new(by, reason, json_integer(json_integer_value(json_object_get(by, reason)) + 1));
}

static int tally_result(const struct dialtest_run_row *run, void *ctx)
{
	struct tally *t = ctx;
	json_t *result = run_result(&t->vk, run), *s;
	size_t i;

	if (!result)
		return 0;
	t->runs++;
	count_vantage(t, result);
	if (json_is_true(json_object_get(result, "ok")))
		t->ok++;
	else
		count_failure(t, result);
	json_array_foreach(json_object_get(result, "steps"), i, s) {
		const char *name = json_string_value(json_object_get(s, "name"));
		json_t *total = json_object_get(json_object_get(s, "timings_ms"), "total"), *list;

		if (!name || !json_is_number(total) || json_is_object(json_object_get(s, "error")))
			continue;
		list = json_object_get(t->steps, name);
		if (!list) {
			list = json_array();
			json_object_set_new(t->steps, name, list);
		}
		json_array_append_new(list, json_real(json_number_value(total)));
	}
	json_decref(result);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The nearest-rank percentiles of a step's times. */
static json_t *percentiles(json_t *list)
{
	size_t n = json_array_size(list), i;
	double *v = malloc((n ? n : 1) * sizeof(*v));
	json_t *x, *o;

	if (!v)
		return NULL;
	json_array_foreach(list, i, x)
		v[i] = json_real_value(x);
	qsort(v, n, sizeof(*v), cmp_double);
#define RANK(p) v[((p) * n + 99) / 100 - 1]
	o = n ? json_pack("{s:I, s:f, s:f, s:f}", "runs", (json_int_t)n, "p50_ms", RANK(50), "p95_ms", RANK(95),
			  "p99_ms", RANK(99)) :
		json_pack("{s:i}", "runs", 0);
#undef RANK
	free(v);
	return o;
}

/* GET /api/v1/dialtests/ID/summary?window=24h */
static enum MHD_Result get_summary(struct request *rq, int64_t id)
{
	const char *w = arg(rq, "window");
	uint64_t window_ms = 24 * 3600 * 1000, now = now_realtime_us();
	struct tally t = { .steps = json_object(), .failures = json_object(), .vantages = json_object() };
	json_t *steps = json_object(), *list;
	const char *name;
	int r;

	if (w && (conf_parse_duration_ms(w, 1000, &window_ms) < 0 || window_ms == 0 ||
		  window_ms > 366ull * 86400 * 1000))
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "window: expected a duration such as 1h or 7d");
	vantages_known_init(&t.vk, rq, id);
	r = fleet_dialtest_results(rq->rd, id, now - MIN(window_ms * 1000, now), now, SUMMARY_RESULTS_MAX, tally_result,
				   &t);
	vantages_known_clear(&t.vk);
	json_object_foreach(t.steps, name, list)
		json_object_set_new(steps, name, percentiles(list));
	json_decref(t.steps);
	if (r < 0) {
		json_decref(steps);
		json_decref(t.failures);
		json_decref(t.vantages);
		return respond_errno(rq, r, "cannot read the dial tests");
	}
	return respond_json(rq, MHD_HTTP_OK,
			    json_pack("{s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "id", (json_int_t)id, "window_s",
				      (json_int_t)(window_ms / 1000), "runs", (json_int_t)t.runs, "ok", (json_int_t)t.ok,
				      "availability_pct", t.runs ? json_real(100.0 * (double)t.ok / (double)t.runs) : json_null(),
				      "steps", steps, "failures", t.failures, "vantages", t.vantages));
}

/* The newest run of each vantage, gathered newest first. */
struct newest {
	json_t *items;
	struct vantages_known vk;
	unsigned failing;
};

static int newest_of_vantage(const struct dialtest_run_row *run, void *ctx)
{
	struct newest *nw = ctx;
	json_t *j = run_result(&nw->vk, run), *x;
	const char *v = json_string_value(json_object_get(j, "vantage"));
	size_t i;

	/* By hand, a collector runs a test that is the agents' alone: no vantage of its state. */
	if (j && strcmp(v, "collector") == 0 && !nw->vk.t->on_collector) {
		json_decref(j);
		return 0;
	}
	if (!j)
		return 0;
	json_array_foreach(nw->items, i, x)
		if (strcmp(json_string_value(json_object_get(x, "vantage")), v) == 0)
			break;
	if (i < json_array_size(nw->items) || json_array_size(nw->items) >= VANTAGES_KNOWN) {
		json_decref(j);
		return 0;
	}
	nw->failing += !json_is_true(json_object_get(j, "ok"));
	json_array_append_new(nw->items, j);
	return 0;
}

/*
 * GET /api/v1/dialtests/ID/vantages: the newest run of each vantage point
 * within three of its intervals, side by side, and the test's state by its
 * fail_when: failing when K fail, unknown while fewer than N report.
 */
static enum MHD_Result get_vantages(struct request *rq, int64_t id)
{
	struct newest nw = { .items = json_array() };
	const struct dialtest *t;
	char reason[64], fail_when[32];
	const char *state;
	uint64_t now = now_realtime_us();
	size_t reporting;
	json_t *j;
	int r = 0;

	vantages_known_init(&nw.vk, rq, id);
	t = nw.vk.t;
	if (t)
		r = fleet_dialtest_results(rq->rd, id, now - MIN(3 * t->interval_us + 60 * USEC_PER_SEC, now), now,
					   SUMMARY_RESULTS_MAX, newest_of_vantage, &nw);
	reporting = json_array_size(nw.items);
	(void)snprintf(reason, sizeof(reason), "no dial test %" PRId64, id);
	if (t)
		(void)snprintf(fail_when, sizeof(fail_when), "%u of %u", t->fail_k, t->fail_n);
	state = !t ? "" : nw.failing >= t->fail_k ? "failing" : reporting < t->fail_n ? "unknown" : "ok";
	j = t && r == 0 ? json_pack("{s:I, s:s, s:s, s:I, s:I, s:O}", "id", (json_int_t)id, "fail_when", fail_when,
				    "state", state, "failing", (json_int_t)nw.failing, "reporting", (json_int_t)reporting,
				    "items", nw.items) :
			  NULL;
	vantages_known_clear(&nw.vk);
	json_decref(nw.items);
	if (!t)
		return respond_errno(rq, -ENOENT, reason);
	return r < 0 ? respond_errno(rq, r, "cannot read the dial tests") : respond_json(rq, MHD_HTTP_OK, j);
}

/* GET /api/v1/dialtests/ID, .../results, .../summary, .../vantages */
enum MHD_Result api_get_dialtest(struct request *rq)
{
	const char *what;
	char reason[64];
	json_t *j;
	int64_t id;
	int r;

	if (!split_path(rq->url, &id, &what))
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "expected " PREFIX "ID");
	if (strcmp(what, "results") == 0)
		return get_results(rq, id);
	if (strcmp(what, "summary") == 0)
		return get_summary(rq, id);
	if (strcmp(what, "vantages") == 0)
		return get_vantages(rq, id);
	if (*what)
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found",
				     "expected " PREFIX "ID[/results|/summary|/vantages]");
	r = dialtests_show(http_dialtests(rq), id, &j);
	(void)snprintf(reason, sizeof(reason), "no dial test %" PRId64, id);
	if (r < 0)
		return respond_errno(rq, r, reason);
	if (!request_is_admin(rq))
		hide_credentials(j);
	return respond_json(rq, MHD_HTTP_OK, j);
}

static enum MHD_Result put(struct request *rq, int64_t id)
{
	enum MHD_Result answered;
	json_t *body = request_object(rq, false, &answered), *j = NULL;
	char reason[512] = "";
	int r;

	if (!body)
		return answered;
	r = dialtests_put(http_dialtests(rq), id, body, rq->user, &j, reason, sizeof(reason));
	audit_detail(rq, "dial test %" JSON_INTEGER_FORMAT " '%.200s' %s",
		     r == 0 ? json_integer_value(json_object_get(j, "id")) : (json_int_t)id,
		     json_string_value(json_object_get(body, "name")) ?: "?", id ? "redefined" : "defined");
	json_decref(body);
	if (r < 0)
		return respond_errno(rq, r, reason);
	dialer_reload(http_dialer(rq));
	return respond_json(rq, id ? MHD_HTTP_OK : MHD_HTTP_CREATED, j);
}

enum MHD_Result api_post_dialtest(struct request *rq)
{
	return put(rq, 0);
}

enum MHD_Result api_put_dialtest(struct request *rq)
{
	const char *what;
	int64_t id;

	if (!split_path(rq->url, &id, &what) || *what)
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "expected " PREFIX "ID");
	return put(rq, id);
}

enum MHD_Result api_delete_dialtest(struct request *rq)
{
	char reason[512] = "";
	const char *what;
	int64_t id;
	int r;

	if (!split_path(rq->url, &id, &what) || *what)
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "expected " PREFIX "ID");
	audit_detail(rq, "dial test %" PRId64 " deleted", id);
	r = dialtests_delete(http_dialtests(rq), id, rq->user, reason, sizeof(reason));
	if (r < 0)
		return respond_errno(rq, r, reason);
	dialer_reload(http_dialer(rq));
	return respond_json(rq, MHD_HTTP_OK, json_pack("{s:I, s:b}", "id", (json_int_t)id, "deleted", 1));
}

/*
 * POST /api/v1/dialtests/ID/run: 202, the run asked for; its result is
 * stored like a scheduled one's ("scheduled" as answered here), to follow
 * at .../results. No HTTP worker waits for a run, and runs asked for keep
 * within the limits scheduled ones do.
 */
enum MHD_Result api_run_dialtest(struct request *rq)
{
	char since[40], results[128];
	const char *what;
	uint64_t planned;
	int64_t id;
	int r;

	if (!split_path(rq->url, &id, &what) || strcmp(what, "run") != 0)
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "expected " PREFIX "ID/run");
	audit_detail(rq, "dial test %" PRId64 " run now", id);
	r = dialer_ask(http_dialer(rq), id, &planned);
	if (r == -ENOENT)
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no dial test %" PRId64, id);
	if (r == -EBUSY)
		return respond_error(rq, MHD_HTTP_TOO_MANY_REQUESTS, "too_many",
				     "%d runs asked for wait already for the limits ([dialtests] concurrency, per_host)",
				     DIALER_ASKED_MAX);
	if (r < 0)
		return respond_error(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "the collector is stopping");
	format_rfc3339_us(planned, since, sizeof(since));
	(void)snprintf(results, sizeof(results), PREFIX "%" PRId64 "/results?since=%s", id, since);
	return respond_json(rq, MHD_HTTP_ACCEPTED, json_pack("{s:I, s:I, s:s}", "id", (json_int_t)id, "scheduled",
							     (json_int_t)planned, "results", results));
}
