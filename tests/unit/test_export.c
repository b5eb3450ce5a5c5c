/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/export.h"
#include "common/macro.h"

static const struct export_limits lim = { .max_entries = 16, .max_fields = 8,
					  .max_field_bytes = 64, .max_entry_bytes = 256 };

static void roundtrip_text_and_binary(void **state)
{
	struct export_field f[8];
	struct export_reader rd;
	struct buf b;
	size_t n;

	buf_init(&b, 4096);
	assert_int_equal(export_put_str(&b, "MESSAGE", "hello world"), 0);
	assert_int_equal(export_put(&b, "BIN", "a\nb\0c", 5), 0);
	assert_int_equal(export_put_u64(&b, "__REALTIME_TIMESTAMP", 1234567890123456ull), 0);
	assert_int_equal(export_end_entry(&b), 0);
	assert_int_equal(export_put_str(&b, "MESSAGE", ""), 0);
	assert_int_equal(export_end_entry(&b), 0);
	/* The binary form is KEY\n, le64 length, data, \n. */
	assert_non_null(memmem(b.data, b.len, "BIN\n\x05\0\0\0\0\0\0\0a\nb\0c\n", 18));

	export_reader_init(&rd, b.data, b.len, &lim);
	assert_int_equal(export_reader_next(&rd, f, 8, &n), 1);
	assert_int_equal(n, 3);
	assert_int_equal(f[0].value_len, 11);
	assert_memory_equal(f[0].value, "hello world", 11);
	assert_int_equal(f[1].value_len, 5);
	assert_memory_equal(f[1].value, "a\nb\0c", 5);
	assert_non_null(export_find(f, n, "__REALTIME_TIMESTAMP"));
	assert_null(export_find(f, n, "NOPE"));
	assert_int_equal(export_reader_next(&rd, f, 8, &n), 1);
	assert_int_equal(n, 1);
	assert_int_equal(f[0].value_len, 0);
	assert_int_equal(export_reader_next(&rd, f, 8, &n), 0);
	buf_free(&b);
}

static void invalid_keys_refused_by_writer(void **state)
{
	static const char *const bad[] = { "", "lower", "1ABC", "A-B", "A B",
		"ABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDE" };
	struct buf b;

	buf_init(&b, 4096);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(export_put_str(&b, bad[i], "x"), -EINVAL);
	assert_int_equal(b.len, 0);
	assert_true(export_key_valid("_SYSTEMD_UNIT", 13));
	buf_free(&b);
}

struct bad_case {
	const char *name;
	const char *data;
	size_t len;
	int expect;
};

static void malformed_and_limits(void **state)
{
	static const struct bad_case cases[] = {
		{ "no newline", "MESSAGE=x", 9, -EBADMSG },
		{ "bad key", "mess=x\n", 7, -EBADMSG },
		{ "binary short length", "B\n\x01\0\0", 5, -EBADMSG },
		{ "binary length past end", "B\n\x10\0\0\0\0\0\0\0ab\n", 13, -EBADMSG },
		{ "binary missing newline", "B\n\x02\0\0\0\0\0\0\0abX", 13, -EBADMSG },
		{ "binary huge length", "B\n\xff\xff\xff\xff\xff\xff\xff\x7f" "ab\n", 13, -E2BIG },
		{ "field too large", "A=0123456789012345678901234567890123456789012345678901234567890123456789\n", 73, -E2BIG },
		{ "too many fields", "A=1\nB=1\nC=1\nD=1\nE=1\nF=1\nG=1\nH=1\nI=1\n", 36, -E2BIG },
	};
	struct export_field f[8];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct export_reader rd;
		size_t n;
		int r;

		export_reader_init(&rd, cases[i].data, cases[i].len, &lim);
		r = export_reader_next(&rd, f, 8, &n);
		if (r != cases[i].expect)
			fail_msg("case '%s': got %d, expected %d", cases[i].name, r, cases[i].expect);
	}
}

static void entry_and_count_limits(void **state)
{
	struct export_limits small = lim;
	struct export_field f[8];
	struct export_reader rd;
	struct buf b;
	size_t n;

	buf_init(&b, 1 << 20);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(export_put_str(&b, "MESSAGE", "0123456789"), 0);
		assert_int_equal(export_end_entry(&b), 0);
	}
	small.max_entries = 2;
	export_reader_init(&rd, b.data, b.len, &small);
	assert_int_equal(export_reader_next(&rd, f, 8, &n), 1);
	assert_int_equal(export_reader_next(&rd, f, 8, &n), 1);
	assert_int_equal(export_reader_next(&rd, f, 8, &n), -E2BIG);

	small = lim;
	small.max_entry_bytes = 10;
	export_reader_init(&rd, b.data, b.len, &small);
	assert_int_equal(export_reader_next(&rd, f, 8, &n), -E2BIG);
	buf_free(&b);
}

static void last_entry_without_blank_line(void **state)
{
	static const char data[] = "\n\nA=1\nB=2\n\n\nC=3\n";
	struct export_field f[8];
	struct export_reader rd;
	size_t n;

	export_reader_init(&rd, data, sizeof(data) - 1, &lim);
	assert_int_equal(export_reader_next(&rd, f, 8, &n), 1);
	assert_int_equal(n, 2);
	assert_int_equal(export_reader_next(&rd, f, 8, &n), 1);
	assert_int_equal(n, 1);
	assert_int_equal(export_reader_next(&rd, f, 8, &n), 0);
}

/* Control bytes anywhere (word-at-a-time scan) force the binary form; tab and UTF-8 do not. */
static void binary_detection_at_every_position(void **state)
{
	static const uint8_t specials[] = { 0x01, '\n', 0x1f, 0x7f, 0x00 };
	char v[21];
	struct buf b;

	buf_init(&b, 4096);
	for (size_t s = 0; s < sizeof(specials); s++)
		for (size_t pos = 0; pos < sizeof(v); pos++) {
			memset(v, 'a', sizeof(v));
			v[pos] = (char)specials[s];
			buf_reset(&b);
			assert_int_equal(export_put(&b, "K", v, sizeof(v)), 0);
			if (memcmp(b.data, "K\n", 2) != 0)
				fail_msg("byte 0x%02x at %zu not binary", specials[s], pos);
		}
	memset(v, 'a', sizeof(v));
	v[3] = '\t';
	memcpy(v + 9, "\xe4\xb8\xad\xff\x80", 5);
	buf_reset(&b);
	assert_int_equal(export_put(&b, "K", v, sizeof(v)), 0);
	assert_memory_equal(b.data, "K=", 2);
	buf_free(&b);
}

static void writer_respects_buffer_ceiling(void **state)
{
	struct buf b;

	buf_init(&b, 16);
	assert_int_equal(export_put_str(&b, "MESSAGE", "this is far too long"), -ENOBUFS);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip_text_and_binary),
		cmocka_unit_test(invalid_keys_refused_by_writer),
		cmocka_unit_test(malformed_and_limits),
		cmocka_unit_test(entry_and_count_limits),
		cmocka_unit_test(last_entry_without_blank_line),
		cmocka_unit_test(binary_detection_at_every_position),
		cmocka_unit_test(writer_respects_buffer_ceiling),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
