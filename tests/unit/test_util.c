/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>

#include "common/db.h"
#include "common/json.h"
#include "common/macro.h"
#include "common/regex.h"
#include "common/util.h"

/* The published FNV-1a test vectors, and going on from a hash as if the strings were one. */
static void fnv1a_32_vectors(void **state)
{
	(void)state;
	assert_int_equal(fnv1a_32(FNV1A_32_INIT, ""), 0x811c9dc5u);
	assert_int_equal(fnv1a_32(FNV1A_32_INIT, "a"), 0xe40c292cu);
	assert_int_equal(fnv1a_32(FNV1A_32_INIT, "foobar"), 0xbf9cf968u);
	assert_int_equal(fnv1a_32(fnv1a_32(FNV1A_32_INIT, "foo"), "bar"), 0xbf9cf968u);
}

static void utf8_prefixes_cut_whole_characters(void **state)
{
	/* "服务" is two 3-byte characters; "é" is 2 bytes. */
	static const char cn[] = "\xe6\x9c\x8d\xe5\x8a\xa1", mixed[] = "a\xc3\xa9z";

	assert_int_equal(utf8_prefix("abc", 10), 3);
	assert_int_equal(utf8_prefix("abc", 2), 2);
	assert_int_equal(utf8_prefix(cn, 6), 6);
	for (size_t max = 3; max < 6; max++)
		assert_int_equal(utf8_prefix(cn, max), 3);
	assert_int_equal(utf8_prefix(cn, 2), 0);
	assert_int_equal(utf8_prefix(mixed, 2), 1);
	assert_int_equal(utf8_prefix(mixed, 3), 3);
	assert_int_equal(utf8_prefix("", 0), 0);
}

static void invalid_utf8_is_replaced(void **state)
{
	char ok[] = "\xe6\x9c\x8d ok \xc3\xa9", cut[] = "ab\xe6\x9c", bad[] = "\xff\xc0\xaf x \xed\xa0\x80";

	utf8_sanitize(ok);
	assert_string_equal(ok, "\xe6\x9c\x8d ok \xc3\xa9");
	utf8_sanitize(cut);
	assert_string_equal(cut, "ab??");
	/* 0xFF, an overlong '/', a surrogate: not UTF-8. */
	utf8_sanitize(bad);
	assert_string_equal(bad, "??? x ???");
}

static void valid_copies_replace_what_is_not_utf8(void **state)
{
	static const char bad[] = "a\xff\0b\xe6\x9c", cn[] = "\xe6\x9c\x8d\xe5\x8a\xa1";
	char out[UTF8_VALID_SIZE(sizeof(bad))], small[5];

	/* 0xFF, a NUL and a cut sequence each become U+FFFD (a cut one byte by byte). */
	assert_string_equal(utf8_valid_copy(bad, sizeof(bad) - 1, out, sizeof(out)),
			    "a\xef\xbf\xbd\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(utf8_valid_copy(cn, 6, out, sizeof(out)), cn);
	/* Short of room: whole characters only. */
	assert_string_equal(utf8_valid_copy(cn, 6, small, sizeof(small)), "\xe6\x9c\x8d");
	assert_string_equal(utf8_valid_copy("", 0, small, sizeof(small)), "");
}

static void names_are_letters_digits_and_a_few_marks(void **state)
{
	assert_true(name_valid("svc-web_1.2", 64, ""));
	assert_true(name_valid("alice@ops", 64, "@"));
	assert_false(name_valid("alice@ops", 64, ""));
	assert_false(name_valid("a b", 64, ""));
	assert_false(name_valid("", 64, ""));
	assert_false(name_valid(NULL, 64, ""));
	assert_false(name_valid("abcde", 4, ""));
	assert_false(name_valid("\xe6\x9c\x8d", 64, ""));
}

static void words_come_one_by_one(void **state)
{
	const char *p = "  ops-hook\tding  boss-hook-with-a-long-name ";
	char w[10];

	assert_true(next_word(&p, w, sizeof(w)));
	assert_string_equal(w, "ops-hook");
	assert_true(next_word(&p, w, sizeof(w)));
	assert_string_equal(w, "ding");
	assert_true(next_word(&p, w, sizeof(w)));
	assert_string_equal(w, "boss-hook");
	assert_false(next_word(&p, w, sizeof(w)));
	p = "";
	assert_false(next_word(&p, w, sizeof(w)));
	/* A whole word of the list, not a part of one. */
	assert_true(word_listed("admin security\tauditor", "auditor"));
	assert_true(word_listed("admin security auditor", "admin"));
	assert_true(word_listed("since until limit", "until"));
	assert_false(word_listed("admin security", "sec"));
	assert_false(word_listed("superadmin", "admin"));
	assert_false(word_listed("admins", "admin"));
	assert_false(word_listed(NULL, "admin"));
	assert_false(word_listed("a b", ""));
}

static void labels_are_key_value_words(void **state)
{
	const char *bad;
	size_t len;

	assert_int_equal(labels_check("zone=gov-a dept=data", &bad, &len), 0);
	assert_int_equal(labels_check("", &bad, &len), 0);
	assert_true(labels_check("zone=gov-a oops", &bad, &len) < 0);
	assert_int_equal(len, 4);
	assert_memory_equal(bad, "oops", 4);
	assert_true(labels_check("=x", &bad, &len) < 0);
	assert_true(labels_check("a=b=c", &bad, &len) < 0);
}

static void compiles(const char *pattern)
{
	regex_t re;
	char err[160];

	if (regex_compile(&re, pattern, REG_EXTENDED | REG_NOSUB, err, sizeof(err)) != 0)
		fail_msg("%s refused: %s", pattern, err);
	regfree(&re);
}

static void refused(const char *pattern, const char *why)
{
	regex_t re;
	char err[160] = "";

	if (regex_compile(&re, pattern, REG_EXTENDED | REG_NOSUB, err, sizeof(err)) == 0) {
		regfree(&re);
		fail_msg("%s compiled", pattern);
	}
	if (!strstr(err, why))
		fail_msg("%s: \"%s\", not \"%s\"", pattern, err, why);
}

/* Each refused pattern here took glibc's regcomp() from 0.5 s and 150 MB to minutes and 8 GB. */
static void regexes_that_would_blow_up_are_refused(void **state)
{
	char big[REGEX_MAX_LEN + 2];

	compiles("Out of memory|OOM-killer");
	compiles("^[[:alpha:]]+ [0-9]{1,3}(\\.[0-9]{1,3}){3}$");
	compiles("((((((((((a+)+)+)+)+)+)+)+)+)+)+");
	compiles("[]{+*]{2}x\\{3}\\+\\+");
	compiles("(a|b){1,1000}");
	compiles("[a-z]{1,1000}");
	refused("a{x", "Unmatched");
	refused("o+++++++++++++++++++++++", "right after another");
	refused("a{0,255}{0,255}", "right after another");
	refused("o+*+*+*+*+*+*+*+*+*+*+*", "right after another");
	refused("a{1,32767}", "above 1000");
	refused("FFl{,16485}FzF", "above 1000");
	refused("(x{1,255}){1,255}", "20,000 elements");
	refused("((a{255}){255})", "20,000 elements");
	refused("(", "Unmatched (");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	refused(big, "longer than");
}

/*
 * json_buf_string() writes what json_bytes() holds: the same string once
 * parsed, for any bytes; half the random cases are text with a rare byte
 * that needs a look, anywhere in or between 8-byte steps.
 */
static void json_text_is_what_a_tree_would_dump(void **state)
{
	static const char *const cases[] = { "", "plain", "quote \" and \\ back", "\n\r\t\x01\x1f\x7f", "登录失败 用户=张三",
					     "bad \xff\xfe utf-8 \xe6\x9c", "\xed\xa0\x80 surrogate", "\xf0\x9f\x98\x80 emoji" };
	uint64_t rng = 1;

	for (size_t i = 0; i < ARRAY_SIZE(cases) + 2000; i++) {
		uint8_t random[64];
		const uint8_t *p = (const uint8_t *)(i < ARRAY_SIZE(cases) ? cases[i] : (const char *)random);
		size_t len = i < ARRAY_SIZE(cases) ? strlen(cases[i]) : (size_t)(rng >> 40) % sizeof(random);
		json_t *want, *got;
		json_error_t err;
		struct buf b;

		for (size_t k = 0; i >= ARRAY_SIZE(cases) && k < sizeof(random); k++) {
			static const uint8_t rare[] = { '"', '\\', 0x00, 0x01, 0x1f, 0x20, 0x7f, 0x80, 0xe6, 0xff, '!', '#', '[', ']' };
			rng = rng * 6364136223846793005u + 1442695040888963407u;
			random[k] = !(i & 1) ? (uint8_t)(rng >> 56) :
				    (rng >> 56) % 16 ? (uint8_t)('a' + (rng >> 48) % 26) : rare[(rng >> 40) % ARRAY_SIZE(rare)];
		}
		want = json_bytes(p, len);
		buf_init(&b, 4096);
		assert_int_equal(json_buf_string(&b, p, len), 0);
		got = json_loadb((const char *)b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
		if (!got || !json_equal(got, want))
			fail_msg("case %zu: %.*s: %s", i, (int)b.len, (const char *)b.data, err.text);
		json_decref(got);
		json_decref(want);
		buf_free(&b);
	}
}

/*
 * db_end(): a COMMIT that fails (here a deferred foreign key) leaves no
 * transaction open behind it, so the connection's next BEGIN goes through;
 * a BEGIN that failed is rolled back by no one.
 */
static void db_end_rolls_back_a_failed_commit(void **state)
{
	sqlite3 *db;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(db_exec(db, "PRAGMA foreign_keys=ON; CREATE TABLE p(id INTEGER PRIMARY KEY);"
				     "CREATE TABLE c(p INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED);"),
			 0);
	assert_int_equal(db_exec(db, "BEGIN IMMEDIATE; INSERT INTO c VALUES (7);"), 0);
	assert_int_equal(db_end(db, 0), -EEXIST);
	assert_true(sqlite3_get_autocommit(db));
	assert_int_equal(db_exec(db, "BEGIN IMMEDIATE; INSERT INTO p VALUES (7); INSERT INTO c VALUES (7);"), 0);
	assert_int_equal(db_end(db, 1), 1);
	assert_int_equal(db_end(db, -EIO), -EIO);
	assert_true(sqlite3_get_autocommit(db));
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fnv1a_32_vectors),
		cmocka_unit_test(utf8_prefixes_cut_whole_characters),
		cmocka_unit_test(invalid_utf8_is_replaced),
		cmocka_unit_test(valid_copies_replace_what_is_not_utf8),
		cmocka_unit_test(names_are_letters_digits_and_a_few_marks),
		cmocka_unit_test(words_come_one_by_one),
		cmocka_unit_test(labels_are_key_value_words),
		cmocka_unit_test(regexes_that_would_blow_up_are_refused),
		cmocka_unit_test(json_text_is_what_a_tree_would_dump),
		cmocka_unit_test(db_end_rolls_back_a_failed_commit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
