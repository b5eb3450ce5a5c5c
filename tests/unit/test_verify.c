/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "agent/lineprio.h"
#include "search/tokens.h"
#include "store/logquery.h"
#include "store/verify.h"
#include "common/macro.h"
#include "common/json.h"
#include "common/util.h"

static const struct export_limits lim = { .max_entries = 100, .max_fields = 32,
					  .max_field_bytes = 4096, .max_entry_bytes = 8192 };

static void index_entries(void **state)
{
	static struct batch_info info;
	struct buf b;

	buf_init(&b, 1 << 16);
	assert_int_equal(export_put_str(&b, "__REALTIME_TIMESTAMP", "2000"), 0);
	assert_int_equal(export_put_str(&b, "_HOSTNAME", "web-1"), 0);
	assert_int_equal(export_put_str(&b, "VIGIL_SOURCE", "app"), 0);
	assert_int_equal(export_put_str(&b, "VIGIL_PATH", "/var/log/app.log"), 0);
	assert_int_equal(export_end_entry(&b), 0);
	assert_int_equal(export_put_str(&b, "__REALTIME_TIMESTAMP", "1000"), 0);
	assert_int_equal(export_put_str(&b, "_SYSTEMD_UNIT", "nginx.service"), 0);
	assert_int_equal(export_put_str(&b, "VIGIL_SOURCE", "app"), 0);
	assert_int_equal(export_end_entry(&b), 0);
	assert_int_equal(export_put_str(&b, "MESSAGE", "no timestamp"), 0);
	assert_int_equal(export_end_entry(&b), 0);

	assert_int_equal(batch_verify(b.data, b.len, &lim, NULL, 5000, &info), FRAME_OK);
	assert_int_equal(info.records, 3);
	assert_int_equal(info.ts_min, 1000);
	assert_int_equal(info.ts_max, 5000);
	assert_string_equal(info.host, "web-1");
	assert_int_equal(info.n_streams, 3);
	assert_string_equal(info.streams[0], "app");
	assert_string_equal(info.streams[1], "/var/log/app.log");
	assert_string_equal(info.streams[2], "nginx.service");
	assert_false(info.streams_overflow);

	assert_int_equal(batch_verify(b.data, b.len - 3, &lim, NULL, 5000, &info), FRAME_ERR_DECODE);
	assert_int_equal(batch_verify(b.data, 0, &lim, NULL, 5000, &info), FRAME_ERR_DECODE);
	batch_info_free(&info);
	buf_free(&b);
}

static bool indexed(const struct batch_info *info, const char *key, const char *value)
{
	return tokens_filter_has(info->index, info->index_len,
				 tokens_of_field(key, strlen(key), (const uint8_t *)value, strlen(value)));
}

/* Every field's (key, value) is in the filter, whether it repeats the last record's at its place or not. */
static void index_fields(void **state)
{
	static const char *const rec[][4] = { { "APP_A", "x", "APP_B", "1" }, { "APP_C", "x", "APP_B", "1" },
					      { "APP_A", "y", "APP_B", "2" }, { "APP_A", "x", "APP_B", "2" } };
	static struct batch_info info;
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 16);
	for (size_t i = 0; i < ARRAY_SIZE(rec); i++) {
		assert_int_equal(export_put_str(&b, rec[i][0], rec[i][1]), 0);
		assert_int_equal(export_put_str(&b, rec[i][2], rec[i][3]), 0);
		assert_int_equal(export_end_entry(&b), 0);
	}
	assert_int_equal(batch_verify(b.data, b.len, &lim, NULL, 5000, &info), FRAME_OK);
	assert_non_null(info.index);
	assert_true(indexed(&info, "APP_A", "x") && indexed(&info, "APP_A", "y"));
	assert_true(indexed(&info, "APP_B", "1") && indexed(&info, "APP_B", "2"));
	assert_true(indexed(&info, "APP_C", "x"));
	assert_false(indexed(&info, "APP_A", "z"));
	batch_info_free(&info);
	buf_free(&b);
}

/* Log records feed the log metrics; agents' own records do not; a line dated far ahead counts as now. */
static void logmetric_rows(void **state)
{
	static struct batch_info info;
	const struct logmetric_def def = { "web", "status:>=500", NULL, "route", 60000 };
	const uint64_t now = 1795939200000000ull, ahead = now + 3600 * USEC_PER_SEC;
	struct logmetrics *m;
	char err[128], ts[32];
	struct buf b;

	assert_int_equal(logmetrics_new(&def, 1, &m, err, sizeof(err)), 0);
	buf_init(&b, 1 << 16);
	for (int i = 0; i < 3; i++) {
		(void)snprintf(ts, sizeof(ts), "%llu", (unsigned long long)(i == 2 ? ahead : now + (uint64_t)i));
		assert_int_equal(export_put_str(&b, "__REALTIME_TIMESTAMP", ts), 0);
		assert_int_equal(export_put_str(&b, "VIGIL_SOURCE", "nginx"), 0);
		assert_int_equal(export_put_str(&b, "ROUTE", "/pay"), 0);
		assert_int_equal(export_put_str(&b, "STATUS", "502"), 0);
		assert_int_equal(export_end_entry(&b), 0);
	}
	/* The agent's own: a metric record with STATUS is not a log line. */
	assert_int_equal(export_put_str(&b, "VIGIL_KIND", "heartbeat"), 0);
	assert_int_equal(export_put_str(&b, "STATUS", "502"), 0);
	assert_int_equal(export_end_entry(&b), 0);
	info.logmetrics = m;
	assert_int_equal(batch_verify(b.data, b.len, &lim, NULL, now, &info), FRAME_OK);
	assert_int_equal(info.n_logmetric_rows, 1);
	assert_string_equal(info.logmetric_rows[0].labels, "route=/pay");
	assert_int_equal(info.logmetric_rows[0].count, 3);
	assert_int_equal(info.logmetric_rows[0].ts, now - now % (60 * USEC_PER_SEC));
	assert_int_equal(info.logmetric_rows[0].ts_last, now + 1);
	assert_int_equal(info.cut.future_times, 1);
	batch_info_free(&info);
	logmetrics_unref(m);
	buf_free(&b);
}

static void many_streams_overflow(void **state)
{
	static struct batch_info info;
	struct export_limits big = lim;
	char path[64];
	struct buf b;

	big.max_entries = 1000;
	buf_init(&b, 1 << 20);
	for (int i = 0; i < VERIFY_STREAMS_MAX + 5; i++) {
		(void)snprintf(path, sizeof(path), "/log/%d", i);
		assert_int_equal(export_put_str(&b, "VIGIL_PATH", path), 0);
		assert_int_equal(export_end_entry(&b), 0);
	}
	assert_int_equal(batch_verify(b.data, b.len, &big, NULL, 1, &info), FRAME_OK);
	assert_int_equal(info.n_streams, VERIFY_STREAMS_MAX);
	assert_true(info.streams_overflow);
	batch_info_free(&info);
	buf_free(&b);
}

static void probe_rows(void **state)
{
	static struct batch_info info;
	struct buf b;

	buf_init(&b, 1 << 16);
	for (int i = 0; i < 40; i++) {
		assert_int_equal(export_put_str(&b, "__REALTIME_TIMESTAMP", "7000"), 0);
		assert_int_equal(export_put_str(&b, "VIGIL_KIND", i % 2 ? "probe" : "metric"), 0);
		assert_int_equal(export_put_str(&b, "PROBE_NAME", "nginx"), 0);
		assert_int_equal(export_put_str(&b, "PROBE_TYPE", "tcp"), 0);
		assert_int_equal(export_put_str(&b, "PROBE_STATUS", "critical"), 0);
		assert_int_equal(export_put_str(&b, "PROBE_LATENCY_US", "1234"), 0);
		assert_int_equal(export_put_str(&b, "MESSAGE", "connection refused"), 0);
		assert_int_equal(export_end_entry(&b), 0);
	}
	assert_int_equal(batch_verify(b.data, b.len, &lim, NULL, 1, &info), FRAME_OK);
	assert_int_equal(info.n_probes, 20);
	assert_int_equal(info.probes[19].ts, 7000);
	assert_int_equal(info.probes[19].latency_us, 1234);
	assert_memory_equal(info.probes[19].status, "critical", info.probes[19].status_len);
	assert_memory_equal(info.probes[19].message, "connection refused", 18);
	batch_info_free(&info);
	buf_free(&b);
}

static void metric_rows(void **state)
{
	static struct batch_info info;
	struct buf b;

	buf_init(&b, 1 << 16);
	assert_int_equal(export_put_str(&b, "__REALTIME_TIMESTAMP", "9000"), 0);
	assert_int_equal(export_put_str(&b, "VIGIL_KIND", "metric"), 0);
	assert_int_equal(export_put_str(&b, "METRIC_SET", "filesystem"), 0);
	assert_int_equal(export_put_str(&b, "METRIC_USED_PCT", "42.50"), 0);
	assert_int_equal(export_put_str(&b, "METRIC_MOUNT", "/var"), 0);
	assert_int_equal(export_put_str(&b, "METRIC_SIZE_BYTES", "1048576"), 0);
	assert_int_equal(export_put_str(&b, "METRIC_DEVICE_MODEL", "not a number"), 0);
	assert_int_equal(export_end_entry(&b), 0);
	assert_int_equal(export_put_str(&b, "METRIC_SET", "cpu"), 0);
	assert_int_equal(export_put_str(&b, "METRIC_USER_PCT", "3"), 0);
	assert_int_equal(export_end_entry(&b), 0); /* no VIGIL_KIND: not a metric */
	assert_int_equal(batch_verify(b.data, b.len, &lim, NULL, 1, &info), FRAME_OK);
	assert_int_equal(info.n_metrics, 2);
	assert_string_equal(info.metrics[0].name, "filesystem.used_pct");
	assert_true(info.metrics[0].value == 42.5);
	assert_int_equal(info.metrics[0].ts, 9000);
	assert_memory_equal(info.metrics[0].instance, "/var", 4);
	assert_string_equal(info.metrics[1].name, "filesystem.size_bytes");
	assert_true(info.metrics[1].value == 1048576.0);
	batch_info_free(&info);
	buf_free(&b);
}

static void json_bytes_sanitizes(void **state)
{
	json_t *j = json_bytes((const uint8_t *)"ok \xe4\xb8\xad\xff end", 11);

	assert_non_null(j);
	assert_string_equal(json_string_value(j), "ok \xe4\xb8\xad\xef\xbf\xbd end");
	json_decref(j);
	j = json_bytes((const uint8_t *)"\xed\xa0\x80", 3); /* a surrogate is not UTF-8 */
	assert_string_equal(json_string_value(j), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	json_decref(j);
}

static void cursors(void **state)
{
	struct log_cursor c;
	char s[64];

	assert_int_equal(log_cursor_parse("20413-17-8191", &c), 0);
	assert_int_equal(c.day, 20413);
	assert_int_equal(c.block, 17);
	assert_int_equal(c.rec, 8191);
	log_cursor_format(&c, s, sizeof(s));
	assert_string_equal(s, "20413-17-8191");
	assert_int_equal(log_cursor_parse("20413-17", &c), -EINVAL);
	assert_int_equal(log_cursor_parse("1-2-3x", &c), -EINVAL);
	assert_int_equal(log_cursor_parse("1--2-3", &c), -EINVAL);
	assert_int_equal(c.xid, 0);

	/* The shared store's: the block's transaction instead of a day, the longest one within the bound. */
	assert_int_equal(log_cursor_parse("p18446744073709551615-9223372036854775807-4294967295", &c), 0);
	assert_true(c.xid == UINT64_MAX && c.block == INT64_MAX && c.rec == UINT32_MAX && c.day == 0);
	assert_true(log_cursor_text(&c, s) <= LOG_CURSOR_TEXT_MAX);
	log_cursor_format(&c, s, sizeof(s));
	assert_string_equal(s, "p18446744073709551615-9223372036854775807-4294967295");
	assert_int_equal(log_cursor_parse("p785-60-99", &c), 0);
	assert_true(c.xid == 785 && c.block == 60 && c.rec == 99);
	assert_int_equal(log_cursor_parse("p0-60-99", &c), -EINVAL);
	assert_int_equal(log_cursor_parse("p-1-60-99", &c), -EINVAL);
	assert_int_equal(log_cursor_parse("p+1-60-99", &c), -EINVAL);
	assert_int_equal(log_cursor_parse("p785-60-99 ", &c), -EINVAL);
	assert_int_equal(log_cursor_parse("p785-60", &c), -EINVAL);
}

static void time_params(void **state)
{
	uint64_t t;

	assert_int_equal(parse_time_param("2026-11-21T08:00:00Z", 0, &t), 0);
	assert_int_equal(t, 1795248000ull * 1000000);
	assert_int_equal(parse_time_param("2026-11-21T08:00:00.5Z", 0, &t), 0);
	assert_int_equal(t, 1795248000ull * 1000000 + 500000);
	assert_int_equal(parse_time_param("1795248000", 0, &t), 0);
	assert_int_equal(t, 1795248000ull * 1000000);
	assert_int_equal(parse_time_param("15m", 3600ull * 1000000, &t), 0);
	assert_int_equal(t, 2700ull * 1000000);
	assert_int_equal(parse_time_param("yesterday", 0, &t), -EINVAL);
	/* Beijing time is UTC+8: the same instant as 00:00Z. */
	assert_int_equal(parse_time_param("2026-11-21T08:00:00+08:00", 0, &t), 0);
	assert_int_equal(t, (1795248000ull - 8 * 3600) * 1000000);
	assert_int_equal(parse_time_param("2026-11-21T08:00:00-01:30", 0, &t), 0);
	assert_int_equal(t, (1795248000ull + 5400) * 1000000);
	assert_int_equal(parse_time_param("2026-11-21T08:00:00+0800", 0, &t), -EINVAL);
	assert_int_equal(parse_time_param("2026-11-21T08:00:00+25:00", 0, &t), -EINVAL);
}

static void line_priorities(void **state)
{
	static const struct { const char *line; int prio; } cases[] = {
		{ "<3>kernel: oops", 3 },
		{ "<13>Nov 21 host app: hi", 5 },
		{ "2026-11-21 12:00:00 ERROR db down", 3 },
		{ "[WARN] disk 91%", 4 },
		{ "level=INFO msg=ok", 6 },
		{ "INFORMATION only", -1 },
		{ "nothing here", -1 },
		{ "FATAL", 2 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		if (line_priority(cases[i].line, strlen(cases[i].line)) != cases[i].prio)
			fail_msg("'%s': expected %d", cases[i].line, cases[i].prio);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(index_entries),
		cmocka_unit_test(index_fields),
		cmocka_unit_test(many_streams_overflow),
		cmocka_unit_test(logmetric_rows),
		cmocka_unit_test(probe_rows),
		cmocka_unit_test(metric_rows),
		cmocka_unit_test(json_bytes_sanitizes),
		cmocka_unit_test(cursors),
		cmocka_unit_test(time_params),
		cmocka_unit_test(line_priorities),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
