/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/macro.h"
#include "search/query.h"
#include "search/tally.h"
#include "search/tokens.h"

/* A record of "KEY=value" strings; the message is one of them. */
struct rec {
	const char *host;
	const char *fields[8];
};

static size_t to_fields(const struct rec *r, struct export_field *f)
{
	size_t n = 0;

	for (; n < ARRAY_SIZE(r->fields) && r->fields[n]; n++) {
		const char *eq = strchr(r->fields[n], '=');
		f[n] = (struct export_field){ .key = r->fields[n], .key_len = (size_t)(eq - r->fields[n]),
					      .value = (const uint8_t *)eq + 1, .value_len = strlen(eq + 1) };
	}
	return n;
}

/* The Bloom filter of one record, as the ingest makes a block's. */
static void index_of(const struct export_field *f, size_t n, uint8_t **blob, size_t *len)
{
	struct tokens_builder *b = tokens_builder_new();

	assert_non_null(b);
	for (size_t i = 0; i < n; i++) {
		if (f[i].key_len == 7 && memcmp(f[i].key, "MESSAGE", 7) == 0)
			tokens_of_text(f[i].value, f[i].value_len, tokens_builder_add, b);
		else if (tokens_field_indexed(f[i].key, f[i].key_len) && f[i].value_len <= TOKENS_VALUE_MAX)
			tokens_builder_add(tokens_of_field(f[i].key, f[i].key_len, f[i].value, f[i].value_len), b);
	}
	assert_int_equal(tokens_builder_write(b, blob, len), 0);
	tokens_builder_free(b);
}

/* Whether text matches r, checked with and without the index, which must never rule out a match. */
static bool matches(const char *text, const struct rec *r)
{
	struct export_field f[8];
	size_t n = to_fields(r, f);
	struct query *q;
	struct query_scratch s = { 0 };
	struct query_record qr = { .fields = f, .n = n, .host = r->host ? r->host : "web-1", .agent = "00ff" };
	char err[256];
	uint8_t *blob;
	size_t len;
	bool hit, maybe, unindexed;

	if (query_parse(text, &q, err, sizeof(err)) < 0)
		fail_msg("%s: %s", text, err);
	index_of(f, n, &blob, &len);
	hit = query_match(q, &qr, &s);
	maybe = query_block_may_match(q, &(struct query_block){ .host = qr.host, .agent = qr.agent, .index = blob,
								  .index_len = len });
	unindexed = query_block_may_match(q, &(struct query_block){ .host = qr.host, .agent = qr.agent });
	if (hit && (!maybe || !unindexed))
		fail_msg("%s: matches, but its block would be skipped", text);
	free(blob);
	query_scratch_free(&s);
	query_free(q);
	return hit;
}

#define MSG(m) { .fields = { "MESSAGE=" m } }
#define LINE(m) (&(struct rec)MSG(m))

static void words_and_phrases(void **state)
{
	static const struct rec line = MSG("2026-12-02 ERROR payment timeout after 30s (user_id=42, count-me)");

	assert_true(matches("error", &line));
	assert_true(matches("Error TIMEOUT", &line));
	assert_true(matches("error AND timeout", &line));
	assert_false(matches("errors", &line));
	assert_false(matches("rror", &line));
	assert_true(matches("\"payment timeout\"", &line));
	assert_false(matches("\"timeout payment\"", &line));
	assert_true(matches("count-me", &line));
	assert_true(matches("user_id=42", &line));
	assert_false(matches("user", &line));
	assert_true(matches("30s", &line));
	assert_true(matches("\"(user_id=42,\"", &line));
	assert_true(matches("/api/v2/records", LINE("GET /api/v2/records 200")));
	assert_true(matches("/health", LINE("GET /health 200")));
	assert_true(matches("   ", &line));
	assert_true(matches("-debug", &line));
	assert_false(matches("-error", &line));
	assert_true(matches("NOT debug", &line));
	assert_true(matches("-", LINE("a - b")));
}

/* A record without a message (a metric, a probe result) matches no word, and not matching is no error. */
static void no_message_no_word(void **state)
{
	static const struct rec r = { .fields = { "VIGIL_KIND=metric", "METRIC_SET=cpu" } };

	assert_false(matches("error", &r));
	assert_false(matches("Error", &r));
	assert_false(matches("/x/", &r));
	assert_true(matches("-error", &r));
	assert_true(matches("vigil_kind:metric", &r));
}

static void or_binds_looser_than_and(void **state)
{
	static const struct rec a = MSG("alpha"), c = MSG("gamma"), bc = MSG("beta gamma");

	/* a b OR c is (a AND b) OR c */
	assert_true(matches("alpha beta OR gamma", &c));
	assert_false(matches("alpha beta OR gamma", &a));
	/* a OR b c is a OR (b AND c) */
	assert_true(matches("alpha OR beta gamma", &a));
	assert_true(matches("alpha OR beta gamma", &bc));
	assert_false(matches("alpha OR beta gamma", LINE("beta")));
	assert_false(matches("(alpha OR beta) gamma", &a));
	assert_true(matches("(alpha OR beta) gamma", &bc));
	assert_true(matches("-(alpha OR beta)", &c));
	assert_false(matches("NOT (alpha OR gamma)", &bc));
	assert_true(matches("-alpha -beta", &c));
	assert_true(matches("alpha OR beta OR gamma", &c));
}

static void chinese_is_found_inside_unspaced_text(void **state)
{
	static const struct rec line = MSG("登录失败 用户=张三 来自 10.0.0.7");

	assert_true(matches("登录失败", &line));
	assert_true(matches("失败", &line));
	assert_true(matches("败", &line));
	assert_true(matches("张三", &line));
	assert_true(matches("用户=张三", &line));
	assert_true(matches("登录失败 张三", &line));
	assert_false(matches("李四", &line));
	assert_false(matches("失登", &line));
	assert_true(matches("10.0.0.7", &line));
	assert_true(matches("10.0.0", &line));
	assert_false(matches("0.0.77", &line));
	assert_true(matches("\"来自 10.0.0.7\"", &line));
}

static void fields_compare(void **state)
{
	static const struct rec r = { .fields = { "MESSAGE=GET /api/v2/records", "STATUS=502", "DUR_MS=840.5",
						  "PRIORITY=3", "_SYSTEMD_UNIT=nginx.service",
						  "VIGIL_PATH=/var/log/nginx/access.log", "ROUTE=Exchange API" } };

	assert_true(matches("status:502", &r));
	assert_true(matches("STATUS:502", &r));
	assert_false(matches("status:50", &r));
	assert_true(matches("status:>=500", &r));
	assert_true(matches("status:>500", &r));
	assert_false(matches("status:<500", &r));
	assert_true(matches("status:<=502", &r));
	assert_true(matches("dur_ms:>840", &r));
	assert_false(matches("dur_ms:>1000", &r));
	assert_true(matches("priority:<=3", &r));
	assert_true(matches("priority:err", &r));
	assert_false(matches("priority:warning", &r));
	assert_false(matches("priority:<3", &r));
	assert_true(matches("unit:nginx.service", &r));
	assert_true(matches("unit:NGINX.service", &r));
	assert_true(matches("source:nginx.service", &r));
	assert_true(matches("source:/var/log/nginx/access.log", &r));
	assert_false(matches("source:/var/log/nginx", &r));
	assert_true(matches("source:/access\\.log$/", &r));
	assert_true(matches("route:\"exchange api\"", &r));
	assert_false(matches("route:exchange", &r));
	assert_true(matches("host:web-1", &r));
	assert_true(matches("host:WEB-1 status:502", &r));
	assert_true(matches("host:00ff", &r));
	assert_false(matches("host:web-2", &r));
	assert_true(matches("-host:web-2", &r));
	assert_false(matches("missing:x", &r));
	assert_true(matches("-missing:x", &r));
	assert_true(matches("message:records", &r));
	assert_true(matches("path:/^\\/api\\// OR GET", &r));
	assert_false(matches("status:>=500 -unit:nginx.service", &r));
}

static void regexes(void **state)
{
	static const struct rec r = MSG("upstream timed out (110: Connection timed out)");

	assert_true(matches("/timed out/", &r));
	assert_true(matches("/time ?d out/", &r));
	assert_false(matches("/TIMED/", &r));
	assert_true(matches("/TIMED/i", &r));
	assert_true(matches("/\\(110:/", &r));
	assert_true(matches("/a\\/b|timed/", &r));
	assert_false(matches("/^timed/", &r));
}

static void errors_name_the_position(void **state)
{
	static const struct {
		const char *q, *err;
	} cases[] = {
		{ "(error OR warn", "15: expected ')'" },
		{ "error)", "6: unexpected ')'" },
		{ "OR error", "1: expected a term before OR" },
		{ "error OR", "9: expected a term after OR" },
		{ "a AND", "6: expected a term after AND" },
		{ "\"unclosed", "1: a phrase begun here has no closing '\"'" },
		{ "status:>=x", "10: expected a number" },
		{ "priority:loud", "10: expected a priority" },
		{ "priority:9", "10: expected a priority" },
		{ "status:", "8: expected a value after 'status:'" },
		{ "host:>3", "6: host: compares no numbers" },
		{ "错误 (a", "6: expected ')'" },
		{ "/a{1,5000}/", "1: " },
		{ "()", "2: expected a term before ')'" },
		{ "a \"\"", "3: an empty phrase" },
	};
	char err[256], deep[80];
	struct query *q;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		err[0] = 0;
		if (query_parse(cases[i].q, &q, err, sizeof(err)) != -EINVAL)
			fail_msg("%s: accepted", cases[i].q);
		if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			fail_msg("%s: %s, not %s", cases[i].q, err, cases[i].err);
	}
	memset(deep, '(', 40);
	strcpy(deep + 40, "a");
	assert_int_equal(query_parse(deep, &q, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "nested deeper than 32"));
}

/* A small deterministic generator: the same lines on every run. */
static uint64_t rng = 88172645463325252u;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static const char *const words[] = { "GET", "POST", "error", "timeout", "user_id", "数据交换", "登录失败",
				     "用户", "张三", "api", "v2", "status", "ok", "Connection", "重置", "x" };

/* Property: every line is found by each of its words and each piece of a Chinese word, and by each field. */
static void every_line_is_found_by_its_tokens(void **state)
{
	char line[512], q[600], status[32];

	for (int round = 0; round < 400; round++) {
		size_t n = 0;
		int k = 3 + (int)(next() % 8);
		for (int i = 0; i < k; i++) {
			static const char *const seps[] = { " ", "=", "/", ", ", "", "-" };
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s%llu%s", words[next() % ARRAY_SIZE(words)],
					      next() % 3 ? "" : "_", (unsigned long long)(next() % 1000),
					      seps[next() % ARRAY_SIZE(seps)]);
		}
		(void)snprintf(status, sizeof(status), "STATUS=%llu", (unsigned long long)(next() % 600));
		struct rec r = { .fields = { NULL, status, "_SYSTEMD_UNIT=app.service" } };
		char msg[600];
		(void)snprintf(msg, sizeof(msg), "MESSAGE=%s", line);
		r.fields[0] = msg;
		/* Each space-separated chunk, quoted, and every substring of 1..4 bytes of it that is whole UTF-8 outside ASCII. */
		for (char *c = line, *sp; *c; c = sp + (*sp != 0)) {
			sp = strchrnul(c, ' ');
			if (sp == c)
				continue;
			(void)snprintf(q, sizeof(q), "\"%.*s\"", (int)(sp - c), c);
			if (!strchr(q + 1, '"') || strchr(q + 1, '"') != q + strlen(q) - 1)
				continue;
			if (!matches(q, &r))
				fail_msg("%s not found in %s", q, line);
		}
		for (const char *c = line; *c; c++) {
			const unsigned char *u = (const unsigned char *)c;
			if (u[0] < 0xe0 || u[0] > 0xef)
				continue;
			/* One and two CJK characters (3 bytes each) from here, where the line has them. */
			for (int chars = 1; chars <= 2; chars++) {
				size_t len = 3 * (size_t)chars;
				bool whole = strlen(c) >= len;
				for (size_t b = 0; whole && b < len; b += 3)
					whole = u[b] >= 0xe0 && u[b] <= 0xef;
				if (!whole)
					continue;
				(void)snprintf(q, sizeof(q), "%.*s", (int)len, c);
				if (!matches(q, &r))
					fail_msg("%s not found in %s", q, line);
			}
		}
		(void)snprintf(q, sizeof(q), "status:%s unit:app.service", status + 7);
		if (!matches(q, &r))
			fail_msg("%s not found", q);
	}
}

/* A batch keeping more tokens than the bound gets no filter (it is scanned), and the builder is whole again after a reset. */
static void a_builder_past_its_bound_writes_no_filter(void **state)
{
	struct tokens_builder *b = tokens_builder_new();
	uint8_t *blob = NULL;
	size_t len = 0;

	(void)state;
	assert_non_null(b);
	for (uint64_t i = 1; i <= (uint64_t)TOKENS_KEPT_MAX + 1; i++)
		tokens_builder_add(i * UINT64_C(0x9e3779b97f4a7c15), b);
	assert_int_equal(tokens_builder_write(b, &blob, &len), -E2BIG);
	assert_null(blob);
	tokens_builder_reset(b);
	tokens_builder_add(42, b);
	assert_int_equal(tokens_builder_count(b), 1);
	assert_int_equal(tokens_builder_write(b, &blob, &len), 0);
	assert_true(tokens_filter_has(blob, len, 42));
	free(blob);
	tokens_builder_free(b);
}

/* The index rules out most blocks that lack a token (about 2 % of them are read anyway). */
static void the_index_rules_out_what_is_absent(void **state)
{
	struct tokens_builder *b = tokens_builder_new();
	uint8_t *blob;
	size_t len, yes = 0;
	char word[32];

	for (int i = 0; i < 2000; i++) {
		(void)snprintf(word, sizeof(word), "present%d", i);
		tokens_of_text((const uint8_t *)word, strlen(word), tokens_builder_add, b);
	}
	/* Repeats do not grow it, near or far; the count is an estimate within a few per cent. */
	tokens_of_text((const uint8_t *)"present7 present7 present1999", 29, tokens_builder_add, b);
	assert_in_range(tokens_builder_count(b), 1940, 2060);
	assert_int_equal(tokens_builder_write(b, &blob, &len), 0);
	assert_true(len <= 2 + 2060 + 8);
	for (int i = 0; i < 10000; i++) {
		struct query *q;
		char err[64];
		(void)snprintf(word, sizeof(word), "absent%d", i);
		assert_int_equal(query_parse(word, &q, err, sizeof(err)), 0);
		yes += query_block_may_match(q, &(struct query_block){ .host = "h", .index = blob, .index_len = len });
		query_free(q);
	}
	assert_true(yes < 500);
	for (int i = 0; i < 2000; i++) {
		(void)snprintf(word, sizeof(word), "Present%d", i);
		struct query *q;
		char err[64];
		assert_int_equal(query_parse(word, &q, err, sizeof(err)), 0);
		assert_true(query_block_may_match(q, &(struct query_block){ .host = "h", .index = blob, .index_len = len }));
		query_free(q);
	}
	free(blob);
	tokens_builder_reset(b);
	assert_int_equal(tokens_builder_count(b), 0);
	tokens_builder_free(b);
}

static void a_tally_keeps_the_top_values(void **state)
{
	struct tally *t = tally_new();
	struct tally_entry top[4];
	uint64_t others;
	size_t n;
	char v[16];

	assert_non_null(t);
	for (int i = 0; i < 5; i++)
		assert_int_equal(tally_add(t, (const uint8_t *)"502", 3), 0);
	for (int i = 0; i < 7; i++)
		assert_int_equal(tally_add(t, (const uint8_t *)"200", 3), 0);
	assert_int_equal(tally_add(t, (const uint8_t *)"404", 3), 0);
	assert_int_equal(tally_add(t, (const uint8_t *)"500", 3), 0);
	assert_int_equal(tally_add(t, (const uint8_t *)"", 0), 0);
	assert_int_equal(tally_add(t, (const uint8_t *)"", 0), 0);
	tally_top(t, top, 2, &n, &others);
	assert_int_equal(n, 2);
	assert_memory_equal(top[0].value, "200", 3);
	assert_int_equal(top[0].count, 7);
	assert_memory_equal(top[1].value, "502", 3);
	assert_int_equal(others, 4);
	tally_top(t, top, 4, &n, &others);
	assert_int_equal(n, 4);
	assert_int_equal(top[2].len, 0);
	assert_int_equal(top[2].count, 2);
	/* Equal counts: the first seen first. */
	assert_memory_equal(top[3].value, "404", 3);
	assert_int_equal(others, 1);
	assert_false(tally_cut(t));
	for (int i = 0; i < TALLY_DISTINCT_MAX; i++) {
		(void)snprintf(v, sizeof(v), "v%d", i);
		assert_int_equal(tally_add(t, (const uint8_t *)v, strlen(v)), 0);
	}
	assert_true(tally_cut(t));
	tally_top(t, top, 1, &n, &others);
	assert_int_equal(top[0].count, 7);
	assert_int_equal(others, 5 + 1 + 1 + 2 + TALLY_DISTINCT_MAX);
	tally_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(words_and_phrases),
		cmocka_unit_test(no_message_no_word),
		cmocka_unit_test(or_binds_looser_than_and),
		cmocka_unit_test(chinese_is_found_inside_unspaced_text),
		cmocka_unit_test(fields_compare),
		cmocka_unit_test(regexes),
		cmocka_unit_test(errors_name_the_position),
		cmocka_unit_test(every_line_is_found_by_its_tokens),
		cmocka_unit_test(the_index_rules_out_what_is_absent),
		cmocka_unit_test(a_builder_past_its_bound_writes_no_filter),
		cmocka_unit_test(a_tally_keeps_the_top_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
