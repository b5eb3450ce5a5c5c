/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/macro.h"
#include "forward/conn.h"
#include "forward/format.h"

#define FIELD(k, v) { (const char *)(k), sizeof(k) - 1, (const uint8_t *)(v), sizeof(v) - 1 }

static atomic_uint_fast64_t truncated;
static uint64_t oldest;

static struct forward_style style(const char *format, bool octet, size_t max)
{
	truncated = 0;
	oldest = 0;
	return (struct forward_style){ .format = forward_format_find(format), .octet_counted = octet,
				       .max_message = max, .sd_id = "vigil@32473", .truncated = &truncated,
				       .oldest_ts = &oldest };
}

/* The one framed message of f, as text (the caller's). */
static char *render(const struct forward_style *st, const struct export_field *f, size_t n, uint64_t ts)
{
	struct log_cursor pos = { .day = 20425, .block = 12, .rec = 7 };
	struct buf o;
	char *s;

	buf_init(&o, 1 << 20);
	assert_int_equal(forward_render(&o, 0, &pos, "block-host", f, n, ts, st), 0);
	s = strndup((const char *)o.data, o.len);
	buf_free(&o);
	return s;
}

/* The RFC 5424 header from the record's fields; its id and source in structured data with ", \ and ] escaped. */
static void rfc5424_message(void **state)
{
	const struct export_field f[] = {
		FIELD("_HOSTNAME", "web 1"),         FIELD("SYSLOG_IDENTIFIER", "sshd"), FIELD("PRIORITY", "3"),
		FIELD("SYSLOG_FACILITY", "10"),      FIELD("_PID", "4242"),
		FIELD("VIGIL_SOURCE", "a\"b]c\\d"), FIELD("MESSAGE", "登录失败 用户=张三"),
	};
	struct forward_style st = style("rfc5424", false, 8192);
	char *s = render(&st, f, ARRAY_SIZE(f), 1795305600123456ull);

	(void)state;
	assert_string_equal(s, "<83>1 2026-11-22T00:00:00.123456Z web_1 sshd 4242 - "
			       "[vigil@32473 id=\"20425-12-7\" source=\"a\\\"b\\]c\\\\d\"] 登录失败 用户=张三\n");
	assert_int_equal(oldest, 1795305600123456ull);
	free(s);
}

/* Without the fields: user.info, the block's host, "-" for what is missing; octet-counted as LEN SP MSG. */
static void defaults_and_octet_counting(void **state)
{
	const struct export_field f[] = { FIELD("MESSAGE", "a\nb"), FIELD("PRIORITY", "9") };
	struct forward_style st = style("rfc5424", true, 8192);
	char *s = render(&st, f, ARRAY_SIZE(f), 0);
	const char *want = "<14>1 1970-01-01T00:00:00.000000Z block-host - - - [vigil@32473 id=\"20425-12-7\"] a\nb";
	const uint8_t *msg;
	size_t len;
	char framed[256];

	(void)state;
	(void)snprintf(framed, sizeof(framed), "%zu %s", strlen(want), want);
	assert_string_equal(s, framed);
	assert_int_equal(forward_next_frame((const uint8_t *)s, strlen(s), &msg, &len), (int)strlen(s));
	assert_int_equal(len, strlen(want));
	assert_memory_equal(msg, want, len);
	free(s);
}

/* LF framing writes a line feed inside a message #012; a message past max_message is cut at a character, counted. */
static void lf_escape_and_cut(void **state)
{
	const struct export_field f[] = { FIELD("MESSAGE", "x\ny\n登录失败登录失败") };
	struct forward_style st = style("rfc5424", false, 8192);
	char *s = render(&st, f, ARRAY_SIZE(f), 0), *cut;
	size_t len;

	(void)state;
	assert_non_null(strstr(s, "] x#012y#012登录失败登录失败\n"));
	assert_int_equal(truncated, 0);
	len = strlen(s) - 1;
	free(s);
	/* 2 bytes short of the whole: the last character (3 bytes) goes whole. */
	st = style("rfc5424", false, len - 2);
	cut = render(&st, f, ARRAY_SIZE(f), 0);
	assert_int_equal(truncated, 1);
	assert_int_equal(strlen(cut), len - 3 + 1);
	assert_non_null(strstr(cut, "登录失败登录失\n"));
	free(cut);
}

/* json: the API's item, a line each. */
static void json_message(void **state)
{
	const struct export_field f[] = { FIELD("MESSAGE", "hi \"there\""), FIELD("_HOSTNAME", "h1") };
	struct forward_style st = style("json", false, 8192);
	char *s = render(&st, f, ARRAY_SIZE(f), 5);
	const char *head = "{\"id\":\"20425-12-7\",\"ts\":5,\"host\":\"block-host\",";

	(void)state;
	assert_true(strncmp(s, head, strlen(head)) == 0);
	assert_non_null(strstr(s, "\"message\":\"hi \\\"there\\\"\""));
	assert_int_equal(s[strlen(s) - 1], '\n');
	assert_ptr_equal(strchr(s, '\n'), s + strlen(s) - 1);
	free(s);
}

/* CEF after the header: '|' and '\\' escaped in its header, '=' and '\\' in values, line feeds \\n; severity 0-10. */
static void cef_message(void **state)
{
	const struct export_field f[] = { FIELD("MESSAGE", "a|b=c\\d\ne"), FIELD("SYSLOG_IDENTIFIER", "s|d"),
					  FIELD("PRIORITY", "3"), FIELD("_HOSTNAME", "h=1"), FIELD("_PID", "9") };
	struct forward_style st = style("cef", false, 8192);
	char *s = render(&st, f, ARRAY_SIZE(f), 1795305600123456ull), *cef = strstr(s, "] CEF:0|");

	(void)state;
	assert_non_null(cef);
	assert_string_equal(cef, "] CEF:0|vigil|vigil|" PACKAGE_VERSION "|s\\|d|a\\|b=c\\\\d\\ne|7|rt=1795305600123 "
				 "dvchost=h\\=1 dvcpid=9 externalId=20425-12-7 msg=a|b\\=c\\\\d\\ne\n");
	free(s);
}

/* LEEF 1.0 after the header: tab-separated attributes, a tab in a value written as a space. */
static void leef_message(void **state)
{
	const struct export_field f[] = { FIELD("MESSAGE", "x\ty\nz"), FIELD("SYSLOG_IDENTIFIER", "sshd"),
					  FIELD("PRIORITY", "4"), FIELD("VIGIL_SOURCE", "auth") };
	struct forward_style st = style("leef", false, 8192);
	char *s = render(&st, f, ARRAY_SIZE(f), 1795305600123456ull), *leef = strstr(s, "] LEEF:1.0|");

	(void)state;
	assert_non_null(leef);
	assert_string_equal(leef, "] LEEF:1.0|vigil|vigil|" PACKAGE_VERSION "|sshd|devTime=2026-11-22T00:00:00.123Z"
				  "\tdevTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSX\tsev=5\tidentHostName=block-host"
				  "\tvigilId=20425-12-7\tsource=auth\tmsg=x y\\nz\n");
	free(s);
}

/* An alert's event and an audit row from their JSON: facility, level, structured data, the note not said twice. */
static void events_as_syslog(void **state)
{
	json_t *ev = json_pack("{s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", (json_int_t)812, "alert",
			       (json_int_t)7, "ts", (json_int_t)0, "actor", "vigil", "action", "fired", "note", "down",
			       "rule", "svc\"down", "severity", "critical", "host", "web-1", "summary", "nginx down");
	json_t *row = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s}", "id", (json_int_t)41, "ts",
				(json_int_t)0, "user", "alice", "role", "admin", "action", "token.create", "object",
				"/api/v1/tokens", "outcome", "failure", "status", (json_int_t)409, "source", "local",
				"detail", "token x");
	struct forward_style st = style("rfc5424", false, 8192);
	struct buf o;

	(void)state;
	buf_init(&o, 1 << 20);
	assert_int_equal(forward_render_alert_event(&o, ev, &st), 0);
	assert_int_equal(forward_render_audit_row(&o, row, "c1", &st), 0);
	assert_int_equal(buf_terminate(&o), 0);
	assert_string_equal((const char *)o.data,
			    "<115>1 1970-01-01T00:00:00.000000Z web-1 vigil - alert [vigil@32473 id=\"812\" alert=\"7\" "
			    "rule=\"svc\\\"down\" severity=\"critical\" action=\"fired\" actor=\"vigil\"] nginx down\n"
			    "<108>1 1970-01-01T00:00:00.000000Z c1 vigil - audit [vigil@32473 id=\"41\" user=\"alice\" "
			    "role=\"admin\" action=\"token.create\" object=\"/api/v1/tokens\" outcome=\"failure\" "
			    "status=\"409\" source=\"local\"] token x\n");
	buf_free(&o);
	json_decref(ev);
	json_decref(row);
}

static void frames_that_do_not_hold(void **state)
{
	static const char *const bad[] = { "x 1", "12 short", " 3 abc", "99999999999 a", "3abc", "3" };
	const uint8_t *msg;
	size_t len;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(forward_next_frame((const uint8_t *)bad[i], strlen(bad[i]), &msg, &len), -EBADMSG);
	assert_int_equal(forward_next_frame((const uint8_t *)"", 0, &msg, &len), 0);
	assert_int_equal(forward_next_frame((const uint8_t *)"3 abc4 defg", 11, &msg, &len), 5);
}

/* RELP frames as the receiver sends them: whole, cut short, or not frames at all. */
static void relp_frames(void **state)
{
	static const char two[] = "1 rsp 93 200 OK\nrelp_version=0\n"
				  "relp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog\n"
				  "2 rsp 6 200 OK\n0 serverclose 0\n";
	static const char *const bad[] = { "x rsp 6 200 OK\n", "1 RSP 6 200 OK\n", "1 rsp 6 200 OK!", "1 rsp x\n",
					   "1 rsp 6\n", "1234567890 rsp 0\n" };
	struct relp_frame f;
	size_t at = 0;
	int n;

	(void)state;
	n = forward_relp_frame((const uint8_t *)two, sizeof(two) - 1, &f);
	assert_int_equal(n, 103);
	assert_int_equal(f.txnr, 1);
	assert_string_equal(f.command, "rsp");
	assert_int_equal(f.len, 93);
	assert_memory_equal(f.data, "200 OK\nrelp_version=0", 21);
	at += (size_t)n;
	assert_int_equal(forward_relp_frame((const uint8_t *)two + at, sizeof(two) - 1 - at, &f), 15);
	assert_int_equal(f.txnr, 2);
	at += 15;
	assert_int_equal(forward_relp_frame((const uint8_t *)two + at, sizeof(two) - 1 - at, &f), 16);
	assert_string_equal(f.command, "serverclose");
	assert_int_equal(f.len, 0);
	for (size_t cut = 0; cut < 15; cut++)
		assert_int_equal(forward_relp_frame((const uint8_t *)two + 103, cut, &f), 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(forward_relp_frame((const uint8_t *)bad[i], strlen(bad[i]), &f), -EBADMSG);
}

static void urls_and_names(void **state)
{
	static const char *const good[] = { "tcp://siem:514", "tls://10.0.0.1:6514", "udp://[::1]:514",
					    "tls://siem.gov.cn:6514" };
	static const char *const bad[] = { "http://siem:514", "tcp://siem", "tcp://:514", "tcp://siem:0",
					   "tcp://siem:65536", "tcp://siem:51a", "tcp://[::1:514", "tcp://a/b:514", "" };
	char why[128];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		assert_int_equal(forward_url_check(good[i], why, sizeof(why)), 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(forward_url_check(bad[i], why, sizeof(why)), -EINVAL);
	assert_true(forward_url_frames("udp://[::1]:514"));
	assert_true(forward_url_frames("relp://siem:2514"));
	assert_false(forward_url_frames("tls://10.0.0.1:6514"));
	assert_true(forward_sd_id_valid("vigil@32473"));
	assert_false(forward_sd_id_valid(""));
	assert_false(forward_sd_id_valid("a=b"));
	assert_false(forward_sd_id_valid("a b"));
	assert_false(forward_sd_id_valid("a]"));
	assert_false(forward_sd_id_valid("012345678901234567890123456789012"));
	assert_null(forward_format_find("cef2"));
	assert_null(forward_format_find(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc5424_message),
		cmocka_unit_test(defaults_and_octet_counting),
		cmocka_unit_test(lf_escape_and_cut),
		cmocka_unit_test(json_message),
		cmocka_unit_test(cef_message),
		cmocka_unit_test(leef_message),
		cmocka_unit_test(events_as_syslog),
		cmocka_unit_test(frames_that_do_not_hold),
		cmocka_unit_test(relp_frames),
		cmocka_unit_test(urls_and_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
