/* SPDX-License-Identifier: Apache-2.0 */
/* Named users' logins on a real meta.db: policy, lockout, second factor, sessions' ends. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "api/accounts.h"
#include "api/userdb.h"
#include "common/db.h"
#include "common/util.h"
#include "store/storage.h"
#include "tests/unit/tmpdir.h"

#define T0 (1800000000ull * USEC_PER_SEC)
#define MIN_US (60 * USEC_PER_SEC)

static const struct users_conf conf = {
	.password_min_length = 12, .password_min_classes = 3, .lockout_failures = 5, .lockout_ms = 15 * 60 * 1000,
	.session_idle_ms = 30 * 60 * 1000, .session_lifetime_ms = 12 * 3600 * 1000, .totp_roles = "admin security auditor",
};

static struct accounts *open_accounts(const char *name)
{
	struct accounts *a;
	char dir[300];
	struct storage_conf storage = { .data_dir = dir };

	(void)snprintf(dir, sizeof(dir), "%s/%s", test_dir, name);
	assert_int_equal(accounts_open(&storage, &conf, &a), 0);
	return a;
}

static int login(struct accounts *a, const char *user, const char *pw, const char *totp, uint64_t now,
		 char id[SESSION_ID_LEN + 1], struct session_who *who)
{
	const struct login_request rq = { .user = user, .password = pw, .totp = totp };
	uint64_t locked;

	return accounts_login(a, &rq, now, id, who, &locked);
}

static void code_of(const char *secret, uint64_t now, char out[7])
{
	uint8_t key[TOTP_SECRET_SIZE];
	uint32_t c;

	assert_int_equal(base32_decode(secret, key, sizeof(key)), TOTP_SECRET_SIZE);
	assert_int_equal(hotp(key, sizeof(key), now / USEC_PER_SEC / TOTP_STEP_S, 6, &c), 0);
	(void)snprintf(out, 7, "%06u", c);
}

/* A weak password is refused; five wrong ones lock the user, even against the right one, until a reset. */
static void policy_and_lockout(void **state)
{
	struct accounts *a = open_accounts("lockout");
	struct session_who who;
	char id[SESSION_ID_LEN + 1], why[256];

	assert_int_equal(accounts_create(a, "li.na", "operator", "short", false, T0, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "12 characters"));
	assert_int_equal(accounts_create(a, "li na", "operator", "Operator-pass-1", false, T0, why, sizeof(why)), -EINVAL);
	assert_int_equal(accounts_create(a, "li.na", "operator", "Operator-pass-1", false, T0, why, sizeof(why)), 0);
	assert_int_equal(accounts_create(a, "li.na", "viewer", "Operator-pass-1", false, T0, why, sizeof(why)), -EEXIST);
	assert_int_equal(login(a, "nobody", "Operator-pass-1", NULL, T0, id, &who), LOGIN_WRONG);
	for (int i = 0; i < 4; i++)
		assert_int_equal(login(a, "li.na", "wrong-password-1", NULL, T0 + (uint64_t)i, id, &who), LOGIN_WRONG);
	assert_int_equal(login(a, "li.na", "wrong-password-1", NULL, T0 + 5, id, &who), LOGIN_LOCKED);
	assert_int_equal(login(a, "li.na", "Operator-pass-1", NULL, T0 + 6, id, &who), LOGIN_LOCKED);
	/* The lock ends with its window. */
	assert_int_equal(login(a, "li.na", "Operator-pass-1", NULL, T0 + 16 * MIN_US, id, &who), LOGIN_OK);
	assert_string_equal(who.role, "operator");
	assert_false(who.must_change);
	assert_false(who.must_enrol);
	/* Failures spread wider than the window do not add up. */
	for (int i = 0; i < 8; i++)
		assert_int_equal(login(a, "li.na", "wrong-password-1", NULL, T0 + (uint64_t)(20 + 16 * i) * MIN_US, id, &who),
				 LOGIN_WRONG);
	/* An admin's reset unlocks, and the new password is changed at the next login. */
	for (int i = 0; i < 5; i++)
		(void)login(a, "li.na", "wrong-password-1", NULL, T0 + 200 * MIN_US, id, &who);
	assert_int_equal(accounts_reset_password(a, "li.na", "Reset-by-admin-2", T0 + 201 * MIN_US, why, sizeof(why)), 0);
	assert_int_equal(login(a, "li.na", "Reset-by-admin-2", NULL, T0 + 202 * MIN_US, id, &who), LOGIN_OK);
	assert_true(who.must_change);
	assert_int_equal(accounts_change_password(a, "li.na", "wrong-old-pass-3", "Chosen-by-me-3", id,
						  T0 + 203 * MIN_US, why, sizeof(why)),
			 -EACCES);
	assert_int_equal(accounts_change_password(a, "li.na", "Reset-by-admin-2", "Chosen-by-me-3", id,
						  T0 + 203 * MIN_US, why, sizeof(why)),
			 0);
	/* The session that changed it goes on; the flag is gone. */
	assert_int_equal(accounts_session(a, id, T0 + 204 * MIN_US, &who), 0);
	assert_false(who.must_change);
	accounts_free(a);
}

/* Sessions end when idle, at their lifetime, at logout, and when the user is disabled or changes role. */
static void sessions_end(void **state)
{
	struct accounts *a = open_accounts("sessions");
	struct session_who who;
	char id[SESSION_ID_LEN + 1], id2[SESSION_ID_LEN + 1], why[256];
	uint64_t t = T0;

	assert_int_equal(accounts_create(a, "wang.fang", "viewer", "Viewer-pass-123", false, T0, why, sizeof(why)), 0);
	assert_int_equal(login(a, "wang.fang", "Viewer-pass-123", NULL, t, id, &who), LOGIN_OK);
	assert_int_equal(strlen(who.csrf), SESSION_ID_LEN);
	assert_string_not_equal(who.csrf, id);
	/* Kept alive by use for 11 hours, then the lifetime ends it. */
	for (int i = 0; i < 44; i++) {
		t += 15 * MIN_US;
		assert_int_equal(accounts_session(a, id, t, &who), 0);
	}
	assert_int_equal(accounts_session(a, id, t + 2 * 3600 * USEC_PER_SEC, &who), -EACCES);
	assert_int_equal(login(a, "wang.fang", "Viewer-pass-123", NULL, t, id, &who), LOGIN_OK);
	assert_int_equal(accounts_session(a, id, t + 31 * MIN_US, &who), -EACCES);
	assert_int_equal(accounts_session(a, id, t, &who), -EACCES); /* an ended one stays ended */
	assert_int_equal(login(a, "wang.fang", "Viewer-pass-123", NULL, t, id, &who), LOGIN_OK);
	assert_int_equal(login(a, "wang.fang", "Viewer-pass-123", NULL, t, id2, &who), LOGIN_OK);
	assert_int_equal(accounts_logout(a, id), 0);
	assert_int_equal(accounts_session(a, id, t, &who), -EACCES);
	assert_int_equal(accounts_session(a, id2, t, &who), 0);
	assert_int_equal(accounts_set_role(a, "wang.fang", "operator", t), 0);
	assert_int_equal(accounts_session(a, id2, t, &who), -EACCES);
	assert_int_equal(login(a, "wang.fang", "Viewer-pass-123", NULL, t, id, &who), LOGIN_OK);
	assert_string_equal(who.role, "operator");
	assert_int_equal(accounts_set_disabled(a, "wang.fang", true, t), 0);
	assert_int_equal(accounts_session(a, id, t, &who), -EACCES);
	assert_int_equal(login(a, "wang.fang", "Viewer-pass-123", NULL, t, id, &who), LOGIN_DISABLED);
	assert_int_equal(accounts_set_disabled(a, "wang.fang", false, t), 0);
	assert_int_equal(login(a, "wang.fang", "Viewer-pass-123", NULL, t, id, &who), LOGIN_OK);
	assert_int_equal(accounts_session(a, "not-a-session", t, &who), -EACCES);
	/* Seen by a collector whose clock is ahead: not ended by the one behind (no time passed there). */
	assert_int_equal(login(a, "wang.fang", "Viewer-pass-123", NULL, t + 5 * USEC_PER_SEC, id, &who), LOGIN_OK);
	assert_int_equal(accounts_session(a, id, t, &who), 0);
	accounts_free(a);
}

/* An admin must enrol; then a login needs a code, each code works once, a recovery code once. */
static void second_factor(void **state)
{
	struct accounts *a = open_accounts("totp");
	char id[SESSION_ID_LEN + 1], why[256], secret[64], uri[256], code[7], codes[RECOVERY_CODES][RECOVERY_CODE_LEN + 1];
	const uint64_t t = T0;
	struct session_who who;
	uint64_t locked;

	assert_int_equal(accounts_create(a, "root", "admin", "Admin-pass-1234", false, t, why, sizeof(why)), 0);
	assert_int_equal(login(a, "root", "Admin-pass-1234", NULL, t, id, &who), LOGIN_OK);
	assert_true(who.must_enrol);
	assert_int_equal(accounts_totp_begin(a, "root", secret, sizeof(secret), uri, sizeof(uri)), 0);
	assert_int_equal(strlen(secret), 32);
	assert_non_null(strstr(uri, "otpauth://totp/vigil:root?secret="));
	assert_int_equal(accounts_totp_confirm(a, "root", "000000", t, codes), -EACCES);
	code_of(secret, t, code);
	assert_int_equal(accounts_totp_confirm(a, "root", code, t, codes), 0);
	assert_int_equal(strlen(codes[0]), RECOVERY_CODE_LEN);

	assert_int_equal(login(a, "root", "Admin-pass-1234", NULL, t + MIN_US, id, &who), LOGIN_CODE_NEEDED);
	assert_int_equal(login(a, "root", "Wrong-pass-1234", NULL, t + MIN_US, id, &who), LOGIN_WRONG);
	code_of(secret, t + MIN_US, code);
	assert_int_equal(login(a, "root", "Admin-pass-1234", code, t + MIN_US, id, &who), LOGIN_OK);
	assert_false(who.must_enrol);
	/* The same code again: refused (it was seen), and counted. */
	assert_int_equal(login(a, "root", "Admin-pass-1234", code, t + MIN_US + 1, id, &who), LOGIN_WRONG);
	{
		const struct login_request rq = { .user = "root", .password = "Admin-pass-1234", .recovery = codes[3] };

		assert_int_equal(accounts_login(a, &rq, t + 2 * MIN_US, id, &who, &locked), LOGIN_OK);
		assert_int_equal(accounts_login(a, &rq, t + 3 * MIN_US, id, &who, &locked), LOGIN_WRONG);
	}
	accounts_free(a);
}

/* A TOTP step is taken once: two logins with one code at once (two threads, two collectors) cannot both pass. */
static void totp_step_once(void **state)
{
	char path[300];
	sqlite3 *db;

	(void)snprintf(path, sizeof(path), "%s/step.db", test_dir);
	assert_int_equal(db_open(path, true, false, DB_SYNC_NORMAL, &db), 0);
	assert_int_equal(users_schema(db), 0);
	assert_int_equal(userdb_sqlite.create(db, "root", "admin", "x", false, T0), 0);
	assert_int_equal(userdb_sqlite.set_totp_step(db, "root", 60000000), 0);
	assert_int_equal(userdb_sqlite.set_totp_step(db, "root", 60000000), -ENOENT);
	assert_int_equal(userdb_sqlite.set_totp_step(db, "root", 59999999), -ENOENT);
	assert_int_equal(userdb_sqlite.set_totp_step(db, "root", 60000001), 0);
	assert_int_equal(userdb_sqlite.set_totp_step(db, "nobody", 60000002), -ENOENT);
	db_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(policy_and_lockout),
		cmocka_unit_test(sessions_end),
		cmocka_unit_test(second_factor),
		cmocka_unit_test(totp_step_once),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
