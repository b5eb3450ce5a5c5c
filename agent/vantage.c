/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "agent/vantage.h"
#include "common/fields.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/util.h"
#include "dialtests/run.h"
#include "dialtests/schedule.h"

/* At most as many tests as the collector may send: its reply is bounded, and so is this. */
#define VANTAGE_TESTS_MAX 256

/*
 * The collector sends no test with a secret; one that names any is refused
 * here too, since no file or variable of this host is a dial test's to read.
 */
static const struct dt_policy no_secrets = { "/nonexistent/vigil-agent-has-no-dial-test-secrets", "\x01" };

struct vantage_test {
	int64_t id;
	struct dialtest *t;
	struct run *run; /* the run under way */
};

struct vantage {
	sd_event *event;
	struct pipeline *pipeline;
	struct curl_loop *curl;
	struct run_env env;
	sd_event_source *timer;
	char host[256];
	struct vantage_test *tests;
	struct schedule_slot *plan;
	size_t n;
};

static void schedule(struct vantage *v);

/* A test's definition, parsed; its id into *id. */
static int parse_one(json_t *def, int64_t *id, struct dialtest **ret, char *err, size_t err_size)
{
	json_t *i = json_object_get(def, "id");
	char why[256];
	int r;

	if (!json_is_integer(i) || json_integer_value(i) <= 0) {
		(void)snprintf(err, err_size, "a dial test without its id");
		return -EINVAL;
	}
	*id = (int64_t)json_integer_value(i);
	r = dialtest_parse(def, &no_secrets, ret, why, sizeof(why));
	if (r < 0)
		(void)snprintf(err, err_size, "dial test %s: %s", json_string_value(json_object_get(def, "name")) ?: "?",
			       why);
	return r;
}

int vantage_check(json_t *tests, char *err, size_t err_size)
{
	json_t *def;
	size_t i;

	if (!json_is_array(tests) || json_array_size(tests) > VANTAGE_TESTS_MAX) {
		(void)snprintf(err, err_size, "dial tests: expected a list of at most %d", VANTAGE_TESTS_MAX);
		return -EINVAL;
	}
	json_array_foreach(tests, i, def) {
		struct dialtest *t = NULL;
		int64_t id;
		int r = parse_one(def, &id, &t, err, err_size);

		dialtest_free(t);
		if (r < 0)
			return r;
	}
	return 0;
}

static ssize_t test_of(const struct vantage *v, const struct run *r)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->tests[i].run == r)
			return (ssize_t)i;
	return -1;
}

/* A run ended: its result is this host's probe record, the whole result in it. */
static void run_finished(struct run *r, json_t *result, void *ctx)
{
	struct vantage *v = ctx;
	ssize_t i = test_of(v, r);
	char *text;
	struct buf f;
	int e;

	(void)json_object_set_new(result, "vantage", json_string(v->host));
	text = json_dumps(result, JSON_COMPACT | JSON_REAL_PRECISION(15));
	buf_init(&f, 8 * 1024 * 1024);
	/* pipeline_add_own() counts its own failures; what fails before it is counted the same way. */
	if (!text)
		pipeline_dropped(v->pipeline, "dial test " KIND_PROBE, -ENOMEM);
	else if ((e = run_probe_fields(r, result, text, &f)) < 0)
		pipeline_dropped(v->pipeline, "dial test " KIND_PROBE, e);
	else
		(void)pipeline_add_own(v->pipeline, KIND_PROBE, &f, r->outcome != RUN_OK);
	buf_free(&f);
	free(text);
	json_decref(result);
	if (i >= 0) {
		v->tests[i].run = NULL;
		v->plan[i].running = false;
	}
	run_free(r);
	schedule(v);
}

static void *prepare(size_t i, uint64_t planned, void *ctx)
{
	struct vantage *v = ctx;
	struct vantage_test *vt = &v->tests[i];

	vt->run = run_new(&v->env, vt->t, vt->id, (struct run_ref){ 0 }, planned);
	if (vt->run)
		vt->run->scheduled = true;
	return vt->run;
}

static void start(void *run, void *ctx)
{
	(void)ctx;
	run_start(run);
}

static void schedule(struct vantage *v)
{
	const struct schedule_ops ops = { prepare, start, v };
	uint64_t missed = 0, next = schedule_plan(v->plan, v->n, now_realtime_us(), &ops, &missed);

	if (missed)
		log_debug("dial tests: %" PRIu64 " starts passed over while a run of the same test went on", missed);
	if (next != UINT64_MAX) {
		(void)sd_event_source_set_time(v->timer, next);
		(void)sd_event_source_set_enabled(v->timer, SD_EVENT_ONESHOT);
	}
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s;
	(void)usec;
	schedule(userdata);
	return 0;
}

/* Each enabled test of tests parsed into v. */
static int take_tests(struct vantage *v, json_t *tests)
{
	uint64_t now = now_realtime_us();
	char err[512];
	json_t *def;
	size_t i;

	v->tests = calloc(MAX(json_array_size(tests), 1u), sizeof(*v->tests));
	v->plan = calloc(MAX(json_array_size(tests), 1u), sizeof(*v->plan));
	if (!v->tests || !v->plan)
		return -ENOMEM;
	json_array_foreach(tests, i, def) {
		struct vantage_test *vt = &v->tests[v->n];
		int r = parse_one(def, &vt->id, &vt->t, err, sizeof(err));

		if (r < 0)
			return log_error_errno(r, "%s", err);
		if (!vt->t->enabled) {
			dialtest_free(TAKE_PTR(vt->t));
			continue;
		}
		v->plan[v->n] = (struct schedule_slot){ .interval_us = vt->t->interval_us,
							.next_us = schedule_first_start(vt->t->name, vt->t->interval_us, now) };
		v->n++;
	}
	return 0;
}

int vantage_new(sd_event *event, json_t *tests, const char *host, struct pipeline *pipeline, struct vantage **ret)
{
	struct vantage *v;
	int r;

	*ret = NULL;
	if (json_array_size(tests) == 0)
		return 0;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	*v = (struct vantage){ .event = sd_event_ref(event), .pipeline = pipeline };
	(void)snprintf(v->host, sizeof(v->host), "%s", host);
	r = take_tests(v, tests);
	if (r == 0)
		r = curl_loop_new(event, &v->curl);
	if (r == 0)
		r = sd_event_add_time(event, &v->timer, CLOCK_REALTIME, UINT64_MAX, 100 * USEC_PER_MSEC, on_timer, v);
	if (r < 0) {
		vantage_free(v);
		return r;
	}
	v->env = (struct run_env){ .secrets_dir = no_secrets.secrets_dir, .event = event, .curl = v->curl,
				   .finished = run_finished, .ctx = v };
	log_info("dial tests: this host runs %zu of the collector's as a vantage point", v->n);
	schedule(v);
	*ret = v;
	return 0;
}

void vantage_free(struct vantage *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++)
		run_free(v->tests[i].run);
	for (size_t i = 0; i < v->n; i++)
		dialtest_free(v->tests[i].t);
	sd_event_source_disable_unref(v->timer);
	curl_loop_free(v->curl);
	sd_event_unref(v->event);
	free(v->tests);
	free(v->plan);
	free(v);
}
