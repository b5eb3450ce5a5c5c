/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/export.h"
#include "common/macro.h"
#include "parse/container.h"
#include "parse/parser.h"

/* The fields in b as "KEY=value\n" lines, into out. */
static void dump(struct buf *b, char *out, size_t size)
{
	struct export_limits lim = { 4, 256, 1 << 20, 1 << 22 };
	struct export_field f[256];
	struct export_reader rd;
	size_t n = 0, at = 0;

	assert_int_equal(export_end_entry(b), 0);
	export_reader_init(&rd, b->data, b->len, &lim);
	assert_int_equal(export_reader_next(&rd, f, ARRAY_SIZE(f), &n), 1);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		at += (size_t)snprintf(out + at, size - at, "%.*s=%.*s\n", (int)f[i].key_len, f[i].key,
				       (int)f[i].value_len, (const char *)f[i].value);
}

/* What format and pattern make of line: the fields as dump() writes them, or "unparsed". */
static const char *parse(const char *format, const char *pattern, const char *line)
{
	static char out[8192];
	struct parser *p;
	struct buf b;
	struct parse_out o = { .b = &b };
	char err[256];
	int r;

	buf_init(&b, 1 << 20);
	assert_int_equal(export_put_str(&b, "MESSAGE", line), 0);
	if (parser_new(format, pattern, &p, err, sizeof(err)) < 0)
		fail_msg("%s %s: %s", format, pattern ? pattern : "", err);
	r = parser_run(p, line, strlen(line), &o);
	assert_true(r >= 0);
	if (r == 0) {
		/* Nothing was left behind by a line that did not parse. */
		assert_int_equal(o.n, 0);
		assert_int_equal(b.len, strlen("MESSAGE=") + strlen(line) + 1);
		strcpy(out, "unparsed");
	} else {
		dump(&b, out, sizeof(out));
		/* The message stays the line as it was, first. */
		assert_int_equal(strncmp(out, "MESSAGE=", 8), 0);
		memmove(out, out + strlen(line) + 9, strlen(out + strlen(line) + 9) + 1);
	}
	parser_free(p);
	buf_free(&b);
	return out;
}

static void test_nginx(void **state)
{
	const char *line = "203.0.113.7 - alice [29/Nov/2026:08:00:00 +0800] \"GET /api/v1/items?id=3 HTTP/1.1\" 502 "
			   "157 \"https://gov.example/\" \"Mozilla/5.0 (X11; \\\"Linux\\\")\"";

	assert_string_equal(parse("nginx", NULL, line),
			    "REMOTE_ADDR=203.0.113.7\nREMOTE_USER=alice\nTIME_LOCAL=29/Nov/2026:08:00:00 +0800\n"
			    "REQUEST=GET /api/v1/items?id=3 HTTP/1.1\nREQUEST_METHOD=GET\n"
			    "REQUEST_URI=/api/v1/items?id=3\nREQUEST_PATH=/api/v1/items\nSERVER_PROTOCOL=HTTP/1.1\n"
			    "STATUS=502\nSTATUS_CLASS=5xx\nBODY_BYTES_SENT=157\nHTTP_REFERER=https://gov.example/\n"
			    "HTTP_USER_AGENT=Mozilla/5.0 (X11; \\\"Linux\\\")\n");
	/* "-" is nginx's nothing: no field. */
	assert_string_equal(parse("nginx", "combined",
				  "10.0.0.1 - - [29/Nov/2026:08:00:01 +0800] \"HEAD / HTTP/1.0\" 200 0 \"-\" \"curl/7.88\""),
			    "REMOTE_ADDR=10.0.0.1\nTIME_LOCAL=29/Nov/2026:08:00:01 +0800\nREQUEST=HEAD / HTTP/1.0\n"
			    "REQUEST_METHOD=HEAD\nREQUEST_URI=/\nREQUEST_PATH=/\nSERVER_PROTOCOL=HTTP/1.0\nSTATUS=200\n"
			    "STATUS_CLASS=2xx\nBODY_BYTES_SENT=0\nHTTP_USER_AGENT=curl/7.88\n");
	/* A log_format of one's own, with ${var}. */
	assert_string_equal(parse("nginx", "$remote_addr ${status} rt=$request_time uct=\"$upstream_connect_time\"",
				  "::1 404 rt=0.125 uct=\"0.001\""),
			    "REMOTE_ADDR=::1\nSTATUS=404\nSTATUS_CLASS=4xx\nREQUEST_TIME=0.125\nUPSTREAM_CONNECT_TIME=0.001\n");
	/* Broken lines are kept as they are. */
	assert_string_equal(parse("nginx", NULL, "10.0.0.1 - - [29/Nov/2026:08:00:01 +0800] \"GET / HTTP/1.1"),
			    "unparsed");
	assert_string_equal(parse("nginx", NULL, "nginx: [emerg] bind() to 0.0.0.0:80 failed"), "unparsed");
	assert_string_equal(parse("nginx", NULL, ""), "unparsed");
}

static void test_apache(void **state)
{
	assert_string_equal(parse("apache", NULL,
				  "192.0.2.5 - bob [10/Oct/2026:13:55:36 -0700] \"POST /login HTTP/1.1\" 401 2326 "
				  "\"http://portal/\" \"Mozilla/4.08\""),
			    "REMOTE_ADDR=192.0.2.5\nREMOTE_USER=bob\nTIME_LOCAL=10/Oct/2026:13:55:36 -0700\n"
			    "REQUEST=POST /login HTTP/1.1\nREQUEST_METHOD=POST\nREQUEST_URI=/login\nREQUEST_PATH=/login\n"
			    "SERVER_PROTOCOL=HTTP/1.1\nSTATUS=401\nSTATUS_CLASS=4xx\nBODY_BYTES_SENT=2326\n"
			    "HTTP_REFERER=http://portal/\nHTTP_USER_AGENT=Mozilla/4.08\n");
	assert_string_equal(parse("apache", "common",
				  "192.0.2.5 - - [10/Oct/2026:13:55:36 -0700] \"GET /a.gif HTTP/1.0\" 200 -"),
			    "REMOTE_ADDR=192.0.2.5\nTIME_LOCAL=10/Oct/2026:13:55:36 -0700\nREQUEST=GET /a.gif HTTP/1.0\n"
			    "REQUEST_METHOD=GET\nREQUEST_URI=/a.gif\nREQUEST_PATH=/a.gif\nSERVER_PROTOCOL=HTTP/1.0\n"
			    "STATUS=200\nSTATUS_CLASS=2xx\n");
	/* Pasted from httpd.conf, quotes escaped; %D and a header. */
	assert_string_equal(parse("apache", "%h \\\"%r\\\" %>s %D %{X-Request-Id}i 100%%",
				  "10.1.1.1 \"GET /x HTTP/2\" 503 84021 ab-12 100%"),
			    "REMOTE_ADDR=10.1.1.1\nREQUEST=GET /x HTTP/2\nREQUEST_METHOD=GET\nREQUEST_URI=/x\n"
			    "REQUEST_PATH=/x\nSERVER_PROTOCOL=HTTP/2\nSTATUS=503\nSTATUS_CLASS=5xx\n"
			    "REQUEST_TIME_US=84021\nHTTP_X_REQUEST_ID=ab-12\n");
}

static void test_json(void **state)
{
	assert_string_equal(parse("json", NULL,
				  "{\"level\":\"error\",\"msg\":\"登录失败\",\"user\":\"张三\",\"status\":502,"
				  "\"dur_ms\":840.5,\"ok\":false,\"req\":{\"path\":\"/a\",\"hdr\":{\"ua\":\"x\"}},"
				  "\"tags\":[1,\"b\"],\"gone\":null,\"@timestamp\":\"2026-11-29T08:00:00Z\"}"),
			    "LEVEL=error\nMSG=登录失败\nUSER=张三\nSTATUS=502\nDUR_MS=840.5\nOK=false\nREQ_PATH=/a\n"
			    "REQ_HDR_UA=x\nTAGS=[1,\"b\"]\nTIMESTAMP=2026-11-29T08:00:00Z\n");
	/* Names the record has or the agent reserves are renamed, not overwritten. */
	assert_string_equal(parse("json", NULL,
				  "{\"message\":\"m\",\"priority\":0,\"VIGIL_KIND\":\"probe\",\"_hostname\":\"h\","
				  "\"k8s_pod\":\"p\",\"syslog_identifier\":\"sshd\"}"),
			    "USER_MESSAGE=m\nUSER_PRIORITY=0\nUSER_VIGIL_KIND=probe\nHOSTNAME=h\nUSER_K8S_POD=p\n"
			    "USER_SYSLOG_IDENTIFIER=sshd\n");
	assert_string_equal(parse("json", NULL, "{\"a\":1"), "unparsed");
	assert_string_equal(parse("json", NULL, "[1,2]"), "unparsed");
	assert_string_equal(parse("json", NULL, "plain text"), "unparsed");
	assert_string_equal(parse("json", NULL, "  {\"a\":\"b\"}"), "A=b\n");
}

static void test_json_bounds(void **state)
{
	char line[16384];
	size_t at = 0;
	struct parser *p;
	struct buf b;
	struct parse_out o = { .b = &b };
	char err[64];

	at += (size_t)snprintf(line + at, sizeof(line) - at, "{");
	for (int i = 0; i < 200; i++)
		at += (size_t)snprintf(line + at, sizeof(line) - at, "%s\"k%d\":%d", i ? "," : "", i, i);
	(void)snprintf(line + at, sizeof(line) - at, "}");
	buf_init(&b, 1 << 20);
	assert_int_equal(parser_new("json", NULL, &p, err, sizeof(err)), 0);
	assert_int_equal(parser_run(p, line, strlen(line), &o), 1);
	assert_int_equal(o.n, PARSE_FIELDS_MAX);
	assert_int_equal(o.dropped, 200 - PARSE_FIELDS_MAX);
	parser_free(p);
	buf_free(&b);
}

static void test_logfmt(void **state)
{
	assert_string_equal(parse("logfmt", NULL,
				  "level=warn msg=\"upstream \\\"slow\\\"\" status=502 dur_ms=840 cached route=/api/v1"),
			    "LEVEL=warn\nMSG=upstream \"slow\"\nSTATUS=502\nDUR_MS=840\nCACHED=true\nROUTE=/api/v1\n");
	assert_string_equal(parse("logfmt", NULL, "user.name=张三 action=登录"), "USER_NAME=张三\nACTION=登录\n");
	assert_string_equal(parse("logfmt", NULL, "just some words"), "unparsed");
	assert_string_equal(parse("logfmt", NULL, "a=1 b=\"never closed"), "unparsed");
	assert_string_equal(parse("logfmt", NULL, "a=1 \"stray quote\""), "unparsed");
}

static void test_regex(void **state)
{
	const char *pat = "^(?<time>[0-9:]+) \\[(?P<level>[a-z]+)\\] (user|svc)=(?<who>\\w+)( took (?<ms>[0-9]+)ms)?";

	assert_string_equal(parse("regex", pat, "08:00:01 [error] user=alice took 840ms"),
			    "TIME=08:00:01\nLEVEL=error\nWHO=alice\nMS=840\n");
	/* An optional group not taken gives no field. */
	assert_string_equal(parse("regex", pat, "08:00:01 [info] svc=api"), "TIME=08:00:01\nLEVEL=info\nWHO=api\n");
	assert_string_equal(parse("regex", pat, "no match here"), "unparsed");
	/* Parentheses inside a bracket expression are not groups. */
	assert_string_equal(parse("regex", "[(]+(?<n>[0-9]+)[])]", "((42)"), "N=42\n");
}

static void test_errors(void **state)
{
	static const struct { const char *format, *pattern, *err; } cases[] = {
		{ "xml", NULL, "format=xml: expected json, logfmt, nginx, apache or regex" },
		{ "json", "x", "pattern: this format takes none" },
		{ "regex", NULL, "pattern: required for format=regex" },
		{ "regex", "(a)", "pattern: no (?<name>…) group: nothing would become a field" },
		{ "regex", "(?:a)(?<b>c)", "pattern: '(?' other than (?<name>…) is not POSIX" },
		{ "regex", "(?<b c>x)", "pattern: a group's name is letters, digits and '_', then '>'" },
		{ "regex", "(?<b>[a)", "pattern: '[' without ']'" },
		{ "regex", "(?<b>a{2}*)", "pattern: " },
		{ "nginx", "$a$b", "pattern: two variables with nothing between them cannot be told apart" },
		{ "nginx", "${a", "pattern: '${' without '}'" },
		{ "nginx", "a $ b", "pattern: '$' without a variable name" },
		{ "apache", "%h %Z", "pattern: %Z is not a LogFormat directive this parser knows" },
		{ "apache", "%{X", "pattern: '%{' without '}'" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct parser *p = NULL;
		char err[256] = "";
		if (parser_new(cases[i].format, cases[i].pattern, &p, err, sizeof(err)) != -EINVAL)
			fail_msg("%s %s: accepted", cases[i].format, cases[i].pattern);
		if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			fail_msg("%s %s: '%s', expected '%s'", cases[i].format, cases[i].pattern, err, cases[i].err);
	}
}

/* format decodes line: "stream|time_us|P or F|message", or "bad|message" when it is not in the format. */
static const char *framed(const char *format, const char *line)
{
	static char out[4096];
	const struct line_format *f = line_format_find(format);
	struct line_view v;
	struct buf scratch;
	int r;

	assert_non_null(f);
	buf_init(&scratch, 1 << 20);
	r = f->decode(line, strlen(line), &scratch, &v);
	if (r < 0)
		(void)snprintf(out, sizeof(out), "bad|%.*s", (int)v.len, v.msg);
	else
		(void)snprintf(out, sizeof(out), "%s|%llu|%c|%.*s", v.stream ? v.stream : "-",
			       (unsigned long long)v.time_us, v.partial ? 'P' : 'F', (int)v.len, v.msg);
	buf_free(&scratch);
	return out;
}

static void test_container_lines(void **state)
{
	assert_string_equal(framed("cri", "2026-11-29T08:00:00.123456789Z stdout F GET /healthz 200"),
			    "stdout|1795939200123456|F|GET /healthz 200");
	assert_string_equal(framed("cri", "2026-11-29T16:00:00.5+08:00 stderr P part one "),
			    "stderr|1795939200500000|P|part one ");
	assert_string_equal(framed("cri", "2026-11-29T08:00:00Z stdout F"), "stdout|1795939200000000|F|");
	assert_string_equal(framed("cri", "2026-11-29T08:00:00Z stdout F:x y"), "stdout|1795939200000000|F|y");
	assert_string_equal(framed("cri", "not a cri line"), "bad|not a cri line");
	/* Found by fuzz-parse: no tags after the stream's space (the tags were read past the line). */
	assert_string_equal(framed("cri", "2027-1-29T08:00:0Z stderr  "), "bad|2027-1-29T08:00:0Z stderr  ");
	assert_string_equal(framed("cri", "2026-11-29T08:00:00Z stdout "), "bad|2026-11-29T08:00:00Z stdout ");
	assert_string_equal(framed("cri", "2026-11-29T08:00:00Z stdin F x"), "bad|2026-11-29T08:00:00Z stdin F x");
	assert_string_equal(framed("cri", "2026-11-29T08:00:00Z stdout X x"), "bad|2026-11-29T08:00:00Z stdout X x");
	assert_string_equal(framed("docker", "{\"log\":\"登录失败 用户=张三\\n\",\"stream\":\"stderr\",\"time\":\"2026-11-29T08:00:00.000000001Z\"}"),
			    "stderr|1795939200000000|F|登录失败 用户=张三");
	assert_string_equal(framed("docker", "{\"log\":\"a long \\\"one\\\"\",\"stream\":\"stdout\",\"time\":\"2026-11-29T08:00:00Z\"}"),
			    "stdout|1795939200000000|P|a long \"one\"");
	assert_string_equal(framed("docker", "{\"log\":\"cut"), "bad|{\"log\":\"cut");
	assert_string_equal(framed("docker", "{\"stream\":\"stdout\"}"), "bad|{\"stream\":\"stdout\"}");
	assert_string_equal(framed("plain", "as it is"), "-|0|F|as it is");
	assert_null(line_format_find("json"));
}

static void test_container_path(void **state)
{
	static const char id[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char path[512], out[1024];
	struct buf b;

	buf_init(&b, 4096);
	(void)snprintf(path, sizeof(path), "/var/log/containers/web-7d4b9-x2x_gov-portal_nginx-%s.log", id);
	assert_int_equal(container_path_fields(path, &b), 1);
	dump(&b, out, sizeof(out));
	assert_string_equal(out, "K8S_POD=web-7d4b9-x2x\nK8S_NAMESPACE=gov-portal\nCONTAINER_NAME=nginx\n"
				 "CONTAINER_ID=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n");
	buf_reset(&b);
	assert_int_equal(container_path_fields("/var/log/nginx/access.log", &b), 0);
	assert_int_equal(container_path_fields("/var/log/containers/a_b_c-123.log", &b), 0);
	(void)snprintf(path, sizeof(path), "/x/a_b_-%s.log", id);
	assert_int_equal(container_path_fields(path, &b), 0);
	(void)snprintf(path, sizeof(path), "/x/_b_c-%s.log", id);
	assert_int_equal(container_path_fields(path, &b), 0);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nginx),
		cmocka_unit_test(test_apache),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_bounds),
		cmocka_unit_test(test_logfmt),
		cmocka_unit_test(test_regex),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_container_lines),
		cmocka_unit_test(test_container_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
