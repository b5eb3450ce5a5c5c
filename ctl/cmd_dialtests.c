/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "common/conf.h"
#include "common/macro.h"
#include "common/util.h"
#include "ctl/ctl.h"

static void print_dialtest_line(json_t *t)
{
	printf("%-5" JSON_INTEGER_FORMAT " %-24s %-8s %-5zu %-5s %s\n", json_integer_value(json_object_get(t, "id")),
	       ctl_text(t, "name"), json_object_get(t, "interval") ? ctl_text(t, "interval") : "60s",
	       json_array_size(json_object_get(t, "steps")), ctl_text(t, "defined_in"),
	       json_is_false(json_object_get(t, "enabled")) ? "disabled" : "");
}

/* A phase's share of the bar, in characters. */
static size_t bar_len(json_t *timings, const char *phase, double per_char)
{
	double v = json_number_value(json_object_get(timings, phase));

	return per_char > 0 ? (size_t)(v / per_char + 0.5) : 0;
}

/*
 * A run as a waterfall: a line per step with its status and a bar of its
 * phases (d DNS, c connect, t TLS, w waiting for the first byte, r
 * receiving), all to one scale, then the figures.
 */
static void print_waterfall(json_t *r)
{
	static const char *const phases[] = { "dns", "connect", "tls", "ttfb", "transfer" };
	static const char marks[] = "dctwr";
	double longest = 0, per_char;
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(r, "steps"), i, s)
		longest = MAX(longest, json_number_value(json_object_get(json_object_get(s, "timings_ms"), "total")));
	per_char = longest / 40.0;
	printf("%s: %s (%" JSON_INTEGER_FORMAT " attempt%s): %s\n", ctl_text(r, "name"), ctl_text(r, "outcome"),
	       json_integer_value(json_object_get(r, "attempts")), json_integer_value(json_object_get(r, "attempts")) > 1 ? "s" : "",
	       ctl_text(r, "message"));
	json_array_foreach(json_object_get(r, "steps"), i, s) {
		json_t *t = json_object_get(s, "timings_ms");
		char bar[64] = "";
		size_t n = 0;

		for (size_t p = 0; p < ARRAY_SIZE(phases); p++)
			for (size_t k = bar_len(t, phases[p], per_char); k > 0 && n < 40; k--)
				bar[n++] = marks[p];
		bar[n] = 0;
		printf("  %-16s %3" JSON_INTEGER_FORMAT " [%-40s] dns %.1f connect %.1f tls %.1f ttfb %.1f transfer %.1f = %.1f ms%s%s\n",
		       ctl_text(s, "name"), json_integer_value(json_object_get(s, "status")), bar,
		       json_number_value(json_object_get(t, "dns")), json_number_value(json_object_get(t, "connect")),
		       json_number_value(json_object_get(t, "tls")), json_number_value(json_object_get(t, "ttfb")),
		       json_number_value(json_object_get(t, "transfer")), json_number_value(json_object_get(t, "total")),
		       json_is_true(json_object_get(s, "ok")) ? "" : "  FAILED",
		       json_object_get(s, "error") && !json_is_null(json_object_get(s, "error")) ? " (error)" : "");
	}
}

/* dialtest summary ID [--window D]: availability and each step's latency percentiles. */
static void print_summary(const struct ctl *c, json_t *j)
{
	json_t *avail = json_object_get(j, "availability_pct"), *st, *v;
	const char *name;

	if (c->json) {
		ctl_print_json(j);
		return;
	}
	printf("dial test %" JSON_INTEGER_FORMAT " over %" JSON_INTEGER_FORMAT " s: %" JSON_INTEGER_FORMAT
	       " runs, %" JSON_INTEGER_FORMAT " ok",
	       json_integer_value(json_object_get(j, "id")), json_integer_value(json_object_get(j, "window_s")),
	       json_integer_value(json_object_get(j, "runs")), json_integer_value(json_object_get(j, "ok")));
	if (json_is_number(avail))
		printf(", availability %.3f%%", json_number_value(avail));
	printf("\n%-24s %8s %10s %10s %10s\n", "STEP", "RUNS", "P50 MS", "P95 MS", "P99 MS");
	json_object_foreach(json_object_get(j, "steps"), name, st)
		printf("%-24s %8" JSON_INTEGER_FORMAT " %10.1f %10.1f %10.1f\n", name,
		       json_integer_value(json_object_get(st, "runs")), json_number_value(json_object_get(st, "p50_ms")),
		       json_number_value(json_object_get(st, "p95_ms")), json_number_value(json_object_get(st, "p99_ms")));
	json_object_foreach(json_object_get(j, "failures"), name, v)
		printf("failures: %-30s %" JSON_INTEGER_FORMAT "\n", name, json_integer_value(v));
}

/* The run asked with "scheduled" = planned among test id's results, or NULL. */
static json_t *find_run(struct ctl *c, const char *id, const char *since, json_int_t planned)
{
	const struct param params[] = { { "since", since }, { "limit", "1000" } };
	char path[128];
	json_t *j, *item, *found = NULL;
	size_t i;

	(void)snprintf(path, sizeof(path), "/api/v1/dialtests/%s/results", id);
	j = ctl_get(c, path, params, ARRAY_SIZE(params));
	json_array_foreach(json_object_get(j, "items"), i, item)
		if (json_integer_value(json_object_get(item, "scheduled")) == planned)
			found = json_incref(item);
	json_decref(j);
	return found;
}

/*
 * dialtest run ID: asks for the run (the collector answers at once, 202)
 * and follows its results until it is there: at most the test's timeouts,
 * retries and a minute's wait for the limits.
 */
static json_t *run_and_follow(struct ctl *c, const char *id, const char *test_path)
{
	struct timespec pause = { .tv_nsec = 250 * 1000000L };
	char path[256], since[40];
	json_t *def = ctl_request(c, NULL, test_path, NULL), *asked, *result = NULL;
	uint64_t timeout_ms = 10000, deadline;
	json_int_t planned;

	if (!def)
		return NULL;
	(void)conf_parse_duration_ms(json_string_value(json_object_get(def, "timeout")) ?: "10s", 1000, &timeout_ms);
	deadline = now_monotonic_us() + 60 * USEC_PER_SEC +
		   (timeout_ms * 1000 * json_array_size(json_object_get(def, "steps")) + USEC_PER_SEC) *
			   (uint64_t)(json_integer_value(json_object_get(def, "retries")) + 1);
	json_decref(def);
	(void)snprintf(path, sizeof(path), "%s/run", test_path);
	asked = ctl_request(c, "POST", path, "");
	if (!asked)
		return NULL;
	planned = json_integer_value(json_object_get(asked, "scheduled"));
	json_decref(asked);
	format_rfc3339_us((uint64_t)planned, since, sizeof(since));
	while (!ctl_interrupted && !(result = find_run(c, id, since, planned)) && now_monotonic_us() < deadline)
		(void)nanosleep(&pause, NULL);
	if (!result && !ctl_interrupted)
		fprintf(stderr, "vigilctl: dialtest run %s: no result in time; it may still come: dialtest results %s\n",
			id, id);
	return result;
}

/* The path of test id (NULL: of them all) into path; false after saying why when id is no id. */
static bool test_path(const char *sub, const char *id, char *path, size_t size)
{
	if (id && !ctl_is_id(id)) {
		fprintf(stderr, "vigilctl: dialtest %s %s: expected an id\n", sub, id);
		return false;
	}
	(void)snprintf(path, size, "/api/v1/dialtests%s%s", id ? "/" : "", id ? id : "");
	return true;
}

static int dialtest_list(struct ctl *c, char **words, size_t n)
{
	char header[128];

	(void)snprintf(header, sizeof(header), "%-5s %-24s %-8s %-5s %s\n", "ID", "NAME", "INTERVAL", "STEPS",
		       "DEFINED");
	return ctl_list(c, "/api/v1/dialtests", NULL, 0, header, print_dialtest_line);
}

static int dialtest_show(struct ctl *c, char **words, size_t n)
{
	char path[128];
	json_t *j;

	if (!test_path("show", words[0], path, sizeof(path)))
		return 2;
	j = ctl_request(c, NULL, path, NULL);
	if (!j)
		return 1;
	(void)json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
	putchar('\n');
	json_decref(j);
	return 0;
}

/* add FILE, edit ID FILE */
static int dialtest_put(struct ctl *c, char **words, size_t n)
{
	bool add = n == 1;
	char path[128], *body;
	json_t *j;

	if (!test_path(add ? "add" : "edit", add ? NULL : words[0], path, sizeof(path)))
		return 2;
	body = ctl_read_json(words[n - 1]);
	j = body ? ctl_request(c, add ? "POST" : "PUT", path, body) : NULL;
	free(body);
	if (!j)
		return 1;
	if (c->json)
		ctl_print_json(j);
	else
		printf("id %" JSON_INTEGER_FORMAT "\n", json_integer_value(json_object_get(j, "id")));
	json_decref(j);
	return 0;
}

/* The run was made and the test failed: exit 3, as verify does for a broken chain. */
static int dialtest_run(struct ctl *c, char **words, size_t n)
{
	char path[128];
	json_t *j;
	int failed;

	if (!test_path("run", words[0], path, sizeof(path)))
		return 2;
	j = run_and_follow(c, words[0], path);
	if (!j)
		return 1;
	if (c->json)
		ctl_print_json(j);
	else
		print_waterfall(j);
	failed = !json_is_true(json_object_get(j, "ok"));
	json_decref(j);
	return failed ? 3 : 0;
}

static int dialtest_summary(struct ctl *c, char **words, size_t n)
{
	const struct param params[] = { { "window", c->a.window } };
	char path[160];
	json_t *j;

	if (!test_path("summary", words[0], path, sizeof(path)))
		return 2;
	(void)snprintf(path + strlen(path), sizeof(path) - strlen(path), "/summary");
	j = ctl_get(c, path, params, ARRAY_SIZE(params));
	if (!j)
		return 1;
	print_summary(c, j);
	json_decref(j);
	return 0;
}

static void result_row(json_t *item)
{
	char ts[40];

	format_rfc3339_us((uint64_t)json_integer_value(json_object_get(item, "started")), ts, sizeof(ts));
	printf("%s %-16s %-16s %zu steps  %s\n", ts, ctl_text(item, "vantage"), ctl_text(item, "outcome"),
	       json_array_size(json_object_get(item, "steps")), ctl_text(item, "message"));
}

/* A run's phase summed over its steps. */
static double phase_ms(json_t *run, const char *phase)
{
	double ms = 0;
	json_t *st;
	size_t i;

	json_array_foreach(json_object_get(run, "steps"), i, st)
		ms += json_number_value(json_object_get(json_object_get(st, "timings_ms"), phase));
	return ms;
}

static int dialtest_vantages(struct ctl *c, char **words, size_t n)
{
	static const char *const phases[] = { "dns", "connect", "tls", "ttfb", "total" };
	char path[160], ts[40];
	json_t *j, *run;
	size_t i;

	if (!test_path("vantages", words[0], path, sizeof(path)))
		return 2;
	(void)snprintf(path + strlen(path), sizeof(path) - strlen(path), "/vantages");
	j = ctl_get(c, path, NULL, 0);
	if (!j)
		return 1;
	if (c->json) {
		ctl_print_json(j);
		json_decref(j);
		return 0;
	}
	printf("%s: %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT " vantages failing (fail_when %s)\n",
	       ctl_text(j, "state"), json_integer_value(json_object_get(j, "failing")),
	       json_integer_value(json_object_get(j, "reporting")), ctl_text(j, "fail_when"));
	printf("%-24s %-16s %-27s %8s %8s %8s %8s %8s  %s\n", "VANTAGE", "OUTCOME", "STARTED", "DNS", "CONNECT", "TLS",
	       "TTFB", "TOTAL MS", "MESSAGE");
	json_array_foreach(json_object_get(j, "items"), i, run) {
		format_rfc3339_us((uint64_t)json_integer_value(json_object_get(run, "started")), ts, sizeof(ts));
		printf("%-24s %-16s %-27s", ctl_text(run, "vantage"), ctl_text(run, "outcome"), ts);
		for (size_t p = 0; p < ARRAY_SIZE(phases); p++)
			printf(" %8.1f", phase_ms(run, phases[p]));
		printf("  %s\n", ctl_text(run, "message"));
	}
	json_decref(j);
	return 0;
}

static int dialtest_results(struct ctl *c, char **words, size_t n)
{
	const struct param params[] = { { "since", c->a.since }, { "until", c->a.until }, { "limit", c->a.limit } };
	char path[160];

	if (!test_path("results", words[0], path, sizeof(path)))
		return 2;
	(void)snprintf(path + strlen(path), sizeof(path) - strlen(path), "/results");
	return ctl_list(c, path, params, ARRAY_SIZE(params), NULL, result_row);
}

/* The words after "dialtest": a command table of its own. */
static const struct ctl_command dialtest_commands[] = {
	{ "list", 0, 0, "", "the dial tests", NULL, dialtest_list },
	{ "show", 1, 1, "ID", "one, as defined", NULL, dialtest_show },
	{ "add", 1, 1, "FILE", "defines one from a JSON file (-: standard input)", NULL, dialtest_put },
	{ "edit", 2, 2, "ID FILE", "defines it anew", NULL, dialtest_put },
	{ "run", 1, 1, "ID", "runs it now and prints each step's phases as a waterfall (exit 3 if it fails)", NULL,
	  dialtest_run },
	{ "summary", 1, 1, "ID [--window D]", "availability and latency percentiles", NULL, dialtest_summary },
	{ "results", 1, 1, "ID [--since T] [--limit N]", "its runs, newest first, with their vantage", NULL,
	  dialtest_results },
	{ "vantages", 1, 1, "ID", "its vantage points' newest runs by phase, and its state by fail_when", NULL,
	  dialtest_vantages },
};

int cmd_dialtest(struct ctl *c, char **words, size_t n)
{
	return ctl_run_sub(c, "dialtest", dialtest_commands, ARRAY_SIZE(dialtest_commands), words, n);
}
