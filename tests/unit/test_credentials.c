/* SPDX-License-Identifier: Apache-2.0 */
/* TOTP (RFC 4226's and RFC 6238's vectors), base32 (RFC 4648's), the password KDF wrapper and policy. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>
#include <string.h>

#include "api/password.h"
#include "common/macro.h"
#include "common/totp.h"

static const uint8_t rfc_key[] = "12345678901234567890";

static void hotp_matches_rfc4226(void **state)
{
	static const uint32_t want[] = { 755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489 };
	uint32_t got;

	for (uint64_t c = 0; c < ARRAY_SIZE(want); c++) {
		assert_int_equal(hotp(rfc_key, 20, c, 6, &got), 0);
		assert_int_equal(got, want[c]);
	}
	assert_int_equal(hotp(rfc_key, 20, 0, 9, &got), -EINVAL);
}

static void totp_matches_rfc6238(void **state)
{
	static const struct {
		uint64_t t;
		uint32_t code;
	} v[] = { { 59, 94287082 },	    { 1111111109, 7081804 },  { 1111111111, 14050471 },
		  { 1234567890, 89005924 }, { 2000000000, 69279037 }, { 20000000000ull, 65353130 } };
	uint32_t got;

	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		assert_int_equal(hotp(rfc_key, 20, v[i].t / TOTP_STEP_S, 8, &got), 0);
		assert_int_equal(got, v[i].code);
	}
}

static void code_at(uint64_t t, char out[7])
{
	uint32_t c;

	assert_int_equal(hotp(rfc_key, 20, t / TOTP_STEP_S, 6, &c), 0);
	(void)snprintf(out, 7, "%06u", c);
}

/* A step either side is let through; two are not; a code is good once; only six digits are a code. */
static void totp_checks_drift_and_replay(void **state)
{
	const uint64_t now = 1800000000;
	uint64_t last = 0;
	char code[7];

	code_at(now - TOTP_STEP_S, code);
	assert_true(totp_check(rfc_key, 20, code, now, &last));
	assert_int_equal(last, (now - TOTP_STEP_S) / TOTP_STEP_S);
	assert_false(totp_check(rfc_key, 20, code, now, &last));
	code_at(now, code);
	assert_true(totp_check(rfc_key, 20, code, now, &last));
	assert_false(totp_check(rfc_key, 20, code, now + 1, &last));
	code_at(now + TOTP_STEP_S, code);
	assert_true(totp_check(rfc_key, 20, code, now, &last));
	last = 0;
	code_at(now - 2 * TOTP_STEP_S, code);
	assert_false(totp_check(rfc_key, 20, code, now, &last));
	code_at(now + 2 * TOTP_STEP_S, code);
	assert_false(totp_check(rfc_key, 20, code, now, &last));
	assert_false(totp_check(rfc_key, 20, "12345", now, &last));
	assert_false(totp_check(rfc_key, 20, "12a456", now, &last));
	assert_false(totp_check(rfc_key, 20, "1234567", now, &last));
}

static void base32_matches_rfc4648(void **state)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const coded[] = { "", "MY", "MZXQ", "MZXW6", "MZXW6YQ", "MZXW6YTB", "MZXW6YTBOI" };
	uint8_t back[16];
	char out[32];

	for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
		assert_int_equal(base32_encode((const uint8_t *)plain[i], strlen(plain[i]), out, sizeof(out)), 0);
		assert_string_equal(out, coded[i]);
		assert_int_equal(base32_decode(coded[i], back, sizeof(back)), (int)strlen(plain[i]));
		assert_memory_equal(back, plain[i], strlen(plain[i]));
	}
	assert_int_equal(base32_decode("mzxw 6ytb oi==", back, sizeof(back)), 6);
	assert_memory_equal(back, "foobar", 6);
	assert_int_equal(base32_decode("MZXW1", back, sizeof(back)), -EINVAL);
	assert_int_equal(base32_decode("MZXW6YTBOI", back, 3), -ENOBUFS);
	assert_int_equal(base32_encode((const uint8_t *)"foobar", 6, out, 10), -ENOBUFS);
}

static void passwords_hash_check_and_policy(void **state)
{
	const struct password_policy policy = { .min_length = 12, .min_classes = 3 };
	char hash[PASSWORD_HASH_MAX], why[200], other[PASSWORD_HASH_MAX], long_pw[PASSWORD_MAX + 2];

	assert_non_null(password_weak("Short1!", &policy, why, sizeof(why)));
	assert_non_null(strstr(why, "12 characters"));
	assert_non_null(password_weak("alllowercaseletters", &policy, why, sizeof(why)));
	assert_non_null(password_weak("lowerUPPERonly", &policy, why, sizeof(why)));
	assert_null(password_weak("lowerUPPER123", &policy, why, sizeof(why)));
	/* Characters, not bytes: 12 Chinese characters and a digit and a letter are 14. */
	assert_null(password_weak("运维值班告警平台口令足够长7a", &policy, why, sizeof(why)));
	assert_non_null(password_weak("口令1a", &policy, why, sizeof(why)));
	memset(long_pw, 'a', sizeof(long_pw) - 1);
	long_pw[sizeof(long_pw) - 1] = 0;
	assert_non_null(password_weak(long_pw, &policy, why, sizeof(why)));

	assert_int_equal(password_hash("correct Horse 9", hash), 0);
	assert_int_equal(strncmp(hash, "$argon2id$v=19$m=19456,t=2,p=1$", 31), 0);
	assert_int_equal(password_check(hash, "correct Horse 9"), 0);
	assert_int_equal(password_check(hash, "correct horse 9"), -EACCES);
	assert_int_equal(password_check(hash, ""), -EACCES);
	assert_int_equal(password_check(hash, long_pw), -EACCES);
	/* A fresh salt each time. */
	assert_int_equal(password_hash("correct Horse 9", other), 0);
	assert_string_not_equal(hash, other);
	assert_int_equal(password_check("vgl_notahash", "x"), -EINVAL);
	assert_int_equal(password_check("$argon2id$v=19$m=19456,t=2,p=1$garbage", "x"), -EINVAL);
	password_check_nobody("anything");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hotp_matches_rfc4226),
		cmocka_unit_test(totp_matches_rfc6238),
		cmocka_unit_test(totp_checks_drift_and_replay),
		cmocka_unit_test(base32_matches_rfc4648),
		cmocka_unit_test(passwords_hash_check_and_policy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
