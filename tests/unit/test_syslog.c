/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "common/export.h"
#include "common/macro.h"
#include "common/util.h"
#include "syslog/framing.h"
#include "syslog/parse.h"
#include "syslog/record.h"

/* 2026-02-10T00:00:00Z: the "now" the tests parse at. */
#define NOW_US UINT64_C(1770681600000000)

static void parse(const char *text, int32_t offset, struct syslog_msg *m)
{
	const struct syslog_parse_opts o = { .utc_offset_s = offset, .now_us = NOW_US };

	syslog_parse((const uint8_t *)text, strlen(text), &o, m);
}

static void assert_slice(struct syslog_slice s, const char *want)
{
	if (!want) {
		assert_null(s.p);
		return;
	}
	assert_non_null(s.p);
	assert_int_equal(s.len, strlen(want));
	assert_memory_equal(s.p, want, s.len);
}

static uint64_t at(const char *rfc3339)
{
	uint64_t us;

	assert_int_equal(parse_rfc3339(rfc3339, &us), 0);
	return us;
}

/* RFC 5424's own examples (6.5). */
static void rfc5424_examples(void **state)
{
	struct syslog_msg m;

	parse("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xef\xbb\xbf'su root' failed", 0, &m);
	assert_int_equal(m.format, SYSLOG_RFC5424);
	assert_int_equal(m.facility, 4);
	assert_int_equal(m.severity, 2);
	assert_int_equal(m.ts_us, at("2003-10-11T22:14:15.003Z"));
	assert_slice(m.hostname, "mymachine.example.com");
	assert_slice(m.app, "su");
	assert_slice(m.procid, NULL);
	assert_slice(m.msgid, "ID47");
	assert_slice(m.sd, NULL);
	assert_slice(m.msg, "'su root' failed");

	parse("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.", 0, &m);
	assert_int_equal(m.ts_us, at("2003-08-24T12:14:15.000003Z"));
	assert_slice(m.procid, "8710");
	assert_slice(m.msg, "%% It's time to make the do-nuts.");

	parse("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" "
	      "eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 class=\"high\"]",
	      0, &m);
	assert_int_equal(m.format, SYSLOG_RFC5424);
	assert_slice(m.sd, "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
			   "[examplePriority@32473 class=\"high\"]");
	assert_slice(m.msg, NULL);
}

struct params {
	int n;
	char last[64];
};

static int count_param(struct syslog_slice id, struct syslog_slice name, struct syslog_slice value, void *ctx)
{
	struct params *p = ctx;
	uint8_t v[64];
	size_t n = syslog_sd_unescape(value, v);

	(void)id, (void)name;
	p->n++;
	(void)snprintf(p->last, sizeof(p->last), "%.*s", (int)n, (const char *)v);
	return 0;
}

/* Structured data: every parameter, escapes undone; malformed data makes the message unparsed, kept whole. */
static void structured_data(void **state)
{
	struct syslog_msg m;
	struct params p = { 0 };

	parse("<14>1 - h a - - [x@1 a=\"1\" b=\"2\"][y@1 c=\"q\\\"u\\]o\\\\te\\n\"] text", 0, &m);
	assert_int_equal(m.format, SYSLOG_RFC5424);
	assert_int_equal(m.ts_us, 0);
	assert_int_equal(syslog_sd_each(m.sd, count_param, &p), 0);
	assert_int_equal(p.n, 3);
	assert_string_equal(p.last, "q\"u]o\\te\\n");
	assert_slice(m.msg, "text");

	parse("<14>1 - h a - - [x@1 a=\"never closed] text", 0, &m);
	assert_int_equal(m.format, SYSLOG_UNPARSED);
	assert_string_equal(m.error, "the structured data is malformed");
	assert_int_equal(m.severity, 6);
	assert_slice(m.msg, "<14>1 - h a - - [x@1 a=\"never closed] text");

	parse("<14>1 2026-13-45T99:00:00Z h a - - - text", 0, &m);
	assert_int_equal(m.format, SYSLOG_UNPARSED);
	assert_string_equal(m.error, "the RFC 5424 timestamp is not RFC 3339");
}

/* RFC 3164 as devices send it: with and without year, fraction, zone and hostname. */
static void rfc3164_variants(void **state)
{
	struct syslog_msg m;

	parse("<13>Feb  5 17:32:18 10.0.0.99 myproc[10]: %% It's time to make the do-nuts.\n", 8 * 3600, &m);
	assert_int_equal(m.format, SYSLOG_RFC3164);
	assert_int_equal(m.facility, 1);
	assert_int_equal(m.severity, 5);
	assert_int_equal(m.ts_us, at("2026-02-05T17:32:18+08:00"));
	assert_slice(m.hostname, "10.0.0.99");
	assert_slice(m.app, "myproc");
	assert_slice(m.procid, "10");
	assert_slice(m.msg, "%% It's time to make the do-nuts.");

	/* December, read in February: last year's. */
	parse("<13>Dec 31 23:59:59 fw-1 kernel: x", 0, &m);
	assert_int_equal(m.ts_us, at("2025-12-31T23:59:59Z"));

	/* Cisco: an unsynchronised clock, milliseconds, no hostname, the tag after a colon. */
	parse("<187>*Feb  1 00:00:12.345: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down", 0, &m);
	assert_int_equal(m.ts_us, at("2026-02-01T00:00:12.345Z"));
	assert_slice(m.hostname, NULL);
	assert_slice(m.app, "%LINK-3-UPDOWN");
	assert_slice(m.msg, "Interface Gi0/1, changed state to down");

	/* Huawei: the year, and a zone. */
	parse("<189>Feb  2 2026 11:00:01+08:00 HUAWEI %%01SHELL/5/CMDRECORD(s)[0]: Recorded command", 0, &m);
	assert_int_equal(m.ts_us, at("2026-02-02T03:00:01Z"));
	assert_slice(m.hostname, "HUAWEI");
	assert_slice(m.app, "%%01SHELL/5/CMDRECORD(s)");
	assert_slice(m.procid, "0");

	/* RFC 3339 in a BSD line, as rsyslog forwards it. */
	parse("<30>2026-02-09T10:00:00.5+08:00 web-1 nginx: started", 0, &m);
	assert_int_equal(m.ts_us, at("2026-02-09T02:00:00.5Z"));
	assert_slice(m.hostname, "web-1");
	assert_slice(m.app, "nginx");

	/* No timestamp: all of it is the message (RFC 3164 4.3.3). */
	parse("<13>just some text: here", 0, &m);
	assert_int_equal(m.format, SYSLOG_RFC3164);
	assert_int_equal(m.ts_us, 0);
	assert_slice(m.hostname, NULL);
	assert_slice(m.msg, "just some text: here");
}

static void garbage(void **state)
{
	static const char *const bad[] = { "no pri at all", "<192>1 too high", "<>empty", "<12", "", "<1234>x" };
	struct syslog_msg m;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		parse(bad[i], 0, &m);
		assert_int_equal(m.format, SYSLOG_UNPARSED);
		assert_int_equal(m.severity, -1);
		assert_string_equal(m.error, "no <PRI> at the start");
		assert_int_equal(m.msg.len, strlen(bad[i]));
	}
}

struct frames {
	int n, truncated;
	char text[8][64];
};

static void got_frame(const uint8_t *msg, size_t len, bool truncated, void *ctx)
{
	struct frames *f = ctx;

	if (f->n < 8)
		(void)snprintf(f->text[f->n], sizeof(f->text[0]), "%.*s", (int)len, (const char *)msg);
	f->n++;
	f->truncated += truncated;
}

/* Feeds text to a stream of max-byte messages, split at every chunk bytes, as reads would bring it. */
static struct frames feed(const char *text, size_t max, size_t chunk)
{
	struct syslog_framing fr = { .max = max };
	struct frames f = { 0 };
	uint8_t buf[256];
	size_t len = 0, at = 0, total = strlen(text), used;

	while (at < total || len) {
		size_t k = MIN(chunk, MIN(total - at, sizeof(buf) - len));
		memcpy(buf + len, text + at, k);
		len += k;
		at += k;
		used = syslog_frames(&fr, buf, len, at == total, got_frame, &f);
		memmove(buf, buf + used, len - used);
		len -= used;
		if (at == total)
			break;
	}
	assert_int_equal(len, 0);
	return f;
}

/* Octet counting and LF framing, told apart at each frame; long messages cut and the rest skipped. */
static void framing(void **state)
{
	static const char stream[] = "11 <13>1 - a b\n<14>lf framed\n5 <15>x<16>last, no LF";
	struct frames f;

	for (size_t chunk = 1; chunk <= sizeof(stream); chunk++) {
		f = feed(stream, 64, chunk);
		assert_int_equal(f.n, 4);
		assert_string_equal(f.text[0], "<13>1 - a b");
		assert_string_equal(f.text[1], "<14>lf framed");
		assert_string_equal(f.text[2], "<15>x");
		assert_string_equal(f.text[3], "<16>last, no LF");
		assert_int_equal(f.truncated, 0);
	}
	for (size_t chunk = 1; chunk <= 40; chunk++) {
		f = feed("30 <13>0123456789abcdefghijklmnop<14>long LF line that goes on\n<15>ok\n", 10, chunk);
		assert_int_equal(f.n, 3);
		assert_string_equal(f.text[0], "<13>012345");
		assert_string_equal(f.text[1], "<14>long L");
		assert_string_equal(f.text[2], "<15>ok");
		assert_int_equal(f.truncated, 2);
	}
	/* The stream ends inside an octet-counted message: what came is kept, as cut. */
	for (size_t chunk = 1; chunk <= 12; chunk++) {
		f = feed("20 <13>short", 64, chunk);
		assert_int_equal(f.n, 1);
		assert_string_equal(f.text[0], "<13>short");
		assert_int_equal(f.truncated, 1);
	}
}

/* A record: the header's fields, the structured data's parameters as fields named as fields can be. */
static void records(void **state)
{
	const struct syslog_origin o = { .source = "syslog", .transport = "udp", .peer = "192.0.2.7", .received_us = NOW_US };
	struct export_field fields[64];
	struct export_reader rd;
	struct syslog_msg m;
	struct buf b;
	char host[256];
	size_t n;

	parse("<165>1 2003-10-11T22:14:15.003Z - evntslog - ID47 [exampleSDID@32473 iut=\"3\" ev.Src=\"App\"] hi", 0, &m);
	syslog_record_host(&m, &o, host, sizeof(host));
	assert_string_equal(host, "192.0.2.7");
	buf_init(&b, 65536);
	assert_int_equal(syslog_record(&b, &m, &o, host), 0);
	export_reader_init(&rd, b.data, b.len, &(struct export_limits){ .max_fields = 64, .max_field_bytes = 4096,
									   .max_entries = 4, .max_entry_bytes = 65536 });
	assert_int_equal(export_reader_next(&rd, fields, ARRAY_SIZE(fields), &n), 1);
	assert_true(export_field_is(export_find(fields, n, "MESSAGE"), "hi"));
	assert_true(export_field_is(export_find(fields, n, "PRIORITY"), "5"));
	assert_true(export_field_is(export_find(fields, n, "SYSLOG_FACILITY"), "20"));
	assert_true(export_field_is(export_find(fields, n, "SYSLOG_MSGID"), "ID47"));
	assert_true(export_field_is(export_find(fields, n, "SYSLOG_SD_EXAMPLESDID_32473_IUT"), "3"));
	assert_true(export_field_is(export_find(fields, n, "SYSLOG_SD_EXAMPLESDID_32473_EV_SRC"), "App"));
	assert_true(export_field_is(export_find(fields, n, "_HOSTNAME"), "192.0.2.7"));
	assert_true(export_field_is(export_find(fields, n, "__REALTIME_TIMESTAMP"), "1065910455003000"));
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc5424_examples), cmocka_unit_test(structured_data), cmocka_unit_test(rfc3164_variants),
		cmocka_unit_test(garbage),	    cmocka_unit_test(framing),	       cmocka_unit_test(records),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
