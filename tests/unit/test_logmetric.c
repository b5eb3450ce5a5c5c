/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/macro.h"
#include "search/logmetric.h"
#include "search/sketch.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* xorshift: the same values every run. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Latencies as a web service has them: mostly fast, a long tail, some zeros. */
static double latency(uint64_t *s)
{
	double u = (double)(rnd(s) % 1000000 + 1) / 1000000.0;

	if (rnd(s) % 100 == 0)
		return 0;
	return 5 * exp(3 * -log(u) * 0.6);
}

static void test_sketch_quantiles(void **state)
{
	enum { N = 200000, PARTS = 16 };
	static double v[N];
	static const double qs[] = { 0.01, 0.5, 0.9, 0.99, 0.999, 1 };
	struct sketch whole = { 0 }, merged = { 0 }, parts[PARTS] = { 0 };
	uint64_t seed = 42;

	for (size_t i = 0; i < N; i++) {
		v[i] = latency(&seed);
		assert_int_equal(sketch_add(&whole, v[i]), 0);
		assert_int_equal(sketch_add(&parts[i % PARTS], v[i]), 0);
	}
	/* Through the bytes a block stores, merged as a read merges them. */
	for (size_t p = 0; p < PARTS; p++) {
		uint8_t *b;
		size_t len;
		assert_int_equal(sketch_encode(&parts[p], &b, &len), 0);
		assert_int_equal(sketch_decode_merge(&merged, b, len), 0);
		free(b);
		sketch_free(&parts[p]);
	}
	qsort(v, N, sizeof(v[0]), cmp_double);
	assert_int_equal(whole.count, N);
	assert_int_equal(merged.count, N);
	for (size_t k = 0; k < ARRAY_SIZE(qs); k++) {
		double truth = v[(size_t)(qs[k] * (N - 1))], got = sketch_quantile(&whole, qs[k]);
		if (fabs(got - truth) > SKETCH_ALPHA * truth + 1e-12)
			fail_msg("q%g: %g, truth %g", qs[k], got, truth);
		/* Merging is exact: the parts answer what the whole does. */
		assert_true(sketch_quantile(&merged, qs[k]) == got);
	}
	assert_true(fabs(merged.sum - whole.sum) < 1e-6 * whole.sum);
	assert_true(merged.min == v[0] && merged.max == v[N - 1]);
	/* Bounded: the buckets of six decades of values. */
	assert_true(whole.n < 1000);
	sketch_free(&whole);
	sketch_free(&merged);
}

static void test_sketch_bounds(void **state)
{
	struct sketch s = { 0 }, t = { 0 };
	uint8_t *b;
	size_t len;

	assert_true(isnan(sketch_quantile(&s, 0.5)));
	assert_int_equal(sketch_add(&s, NAN), -EINVAL);
	/* From 1e-6 to 1e300: more buckets than SKETCH_BINS_MAX, the lowest folded, the top kept. */
	for (double x = 1e-6; x < 1e300; x *= 1.01)
		assert_int_equal(sketch_add(&s, x), 0);
	assert_int_equal(s.n, SKETCH_BINS_MAX);
	assert_true(fabs(sketch_quantile(&s, 0.99) / 1e297 - 1) < 0.5);
	assert_true(sketch_quantile(&s, 1) == s.max);
	assert_int_equal(sketch_encode(&s, &b, &len), 0);
	assert_int_equal(sketch_decode_merge(&t, b, len), 0);
	assert_int_equal(t.count, s.count);
	/* Every cut short, a flipped version: refused, nothing merged. */
	for (size_t cut = 0; cut < len; cut += 97)
		assert_int_equal(sketch_decode_merge(&t, b, cut), -EBADMSG);
	b[0] = 9;
	assert_int_equal(sketch_decode_merge(&t, b, len), -EBADMSG);
	assert_int_equal(t.count, s.count);
	free(b);
	sketch_free(&s);
	sketch_free(&t);
}

static void test_logmetric_check(void **state)
{
	static const struct { struct logmetric_def d; const char *err; } cases[] = {
		{ { "Web", "", NULL, NULL, 60000 }, "name: lower-case letters, digits and '_', at most 64" },
		{ { "web", "status:>=", NULL, NULL, 60000 }, "query: 10: expected a number" },
		{ { "web", "", NULL, NULL, 1500 }, "step: whole seconds, at least 1s" },
		{ { "web", "", "dur ms", NULL, 60000 }, "value: 'dur ms' is not a field name" },
		{ { "web", "", NULL, "a b c d e", 60000 }, "labels: at most 4 fields" },
		{ { "web", "", NULL, "route sta-tus", 60000 }, "labels: 'sta-tus' is not a field name" },
	};
	struct logmetric_def ok = { "web_5xx", "status_class:5xx", "request_time", "route status", 60000 };
	struct logmetrics *m;
	char err[256];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		err[0] = '\0';
		assert_int_equal(logmetric_check(&cases[i].d, err, sizeof(err)), -EINVAL);
		if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			fail_msg("case %zu: '%s', expected '%s'", i, err, cases[i].err);
	}
	assert_int_equal(logmetric_check(&ok, err, sizeof(err)), 0);
	assert_int_equal(logmetrics_new(&cases[1].d, 1, &m, err, sizeof(err)), -EINVAL);
	assert_int_equal(logmetrics_new(&ok, 1, &m, err, sizeof(err)), 0);
	assert_string_equal(logmetrics_find(m, "web_5xx")->labels, "route status");
	assert_null(logmetrics_find(m, "web"));
	logmetrics_unref(m);
}

/* A record of a web access log: ROUTE, STATUS, REQUEST_TIME. */
static void rec(struct export_field f[4], const char *route, const char *status, const char *t)
{
	f[0] = (struct export_field){ "MESSAGE", 7, (const uint8_t *)"GET", 3 };
	f[1] = (struct export_field){ "ROUTE", 5, (const uint8_t *)route, strlen(route) };
	f[2] = (struct export_field){ "STATUS", 6, (const uint8_t *)status, strlen(status) };
	f[3] = (struct export_field){ "REQUEST_TIME", 12, (const uint8_t *)t, strlen(t) };
}

static void test_logmetric_series(void **state)
{
	const struct logmetric_def defs[] = {
		{ "errors", "status:>=500", NULL, "route", 60000 },
		{ "latency", "", "request_time", "route status", 10000 },
	};
	struct logmetrics *m;
	struct logmetric_acc *a;
	const struct logmetric_row *rows;
	struct export_field f[4];
	struct query_record r = { .fields = f, .n = 4, .host = "web-1", .agent = "00" };
	uint64_t cut = 0, t0 = 1795939200000000ull;
	size_t n, errors = 0, lat = 0, measured = 0, counted = 0;
	char err[256];

	assert_int_equal(logmetrics_new(defs, 2, &m, err, sizeof(err)), 0);
	assert_int_equal(logmetric_acc_new(&a), 0);
	/* 20 s: 2 steps of errors, 2 series (routes) x 2 statuses x 2 steps of latency. */
	for (int i = 0; i < 200; i++) {
		char t[16];
		(void)snprintf(t, sizeof(t), "%d.5", i);
		rec(f, i % 2 ? "/a" : "/b", i % 4 < 2 ? "200" : "502", i % 10 == 9 ? "-" : t);
		assert_int_equal(logmetric_acc_add(a, m, &r, t0 + (uint64_t)i * 100000, &cut), 0);
	}
	assert_int_equal(logmetric_acc_rows(a, &rows, &n), 0);
	assert_int_equal(cut, 0);
	for (size_t i = 0; i < n; i++) {
		struct sketch s = { 0 };
		if (strcmp(rows[i].metric, "errors") == 0) {
			errors += rows[i].count;
			assert_null(rows[i].sketch);
			assert_true(strcmp(rows[i].labels, "route=/a") == 0 || strcmp(rows[i].labels, "route=/b") == 0);
			continue;
		}
		lat++;
		assert_int_equal(rows[i].ts % 10000000, 0);
		assert_non_null(rows[i].sketch);
		assert_int_equal(sketch_decode_merge(&s, rows[i].sketch, rows[i].sketch_len), 0);
		assert_true(s.count <= rows[i].count);
		measured += s.count;
		counted += rows[i].count;
		sketch_free(&s);
	}
	assert_int_equal(errors, 100);
	assert_int_equal(lat, 2 * 4);
	/* "-" is no number: counted, not measured. */
	assert_int_equal(counted, 200);
	assert_int_equal(measured, 180);
	/* Past LOGMETRIC_SERIES_MAX series a batch makes no more, and counts what it left out. */
	logmetric_acc_reset(a);
	for (int i = 0; i < LOGMETRIC_SERIES_MAX + 10; i++) {
		char route[16];
		(void)snprintf(route, sizeof(route), "/r%d", i);
		rec(f, route, "200", "1");
		assert_int_equal(logmetric_acc_add(a, m, &r, t0, &cut), 0);
	}
	assert_int_equal(logmetric_acc_rows(a, &rows, &n), 0);
	assert_int_equal(n, LOGMETRIC_SERIES_MAX);
	assert_int_equal(cut, 10);
	logmetric_acc_free(a);
	logmetrics_unref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sketch_quantiles),
		cmocka_unit_test(test_sketch_bounds),
		cmocka_unit_test(test_logmetric_check),
		cmocka_unit_test(test_logmetric_series),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
