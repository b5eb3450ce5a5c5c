/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_USERS_H
#define VIGIL_USERS_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/password.h"
#include "common/totp.h"

/*
 * Named users of the console and the API: `users` in meta.db (the role,
 * the argon2id hash of the password, whether it must be changed, the TOTP
 * secret, the hashes of the unused recovery codes, the failed logins that
 * lock the account). This file alone holds SQL that names the table. Every
 * call runs on the caller's connection, in its transaction if one is open.
 */
#define USER_NAME_MAX 64
#define RECOVERY_CODES 10

struct user {
	char name[USER_NAME_MAX + 1];
	char role[32];
	char password[PASSWORD_HASH_MAX];
	bool must_change; /* the password was set by someone else */
	bool disabled;
	bool has_totp;
	uint8_t totp[TOTP_SECRET_SIZE];
	bool has_pending; /* a secret shown for enrolment, not confirmed yet */
	uint8_t pending[TOTP_SECRET_SIZE];
	uint64_t totp_step; /* the last step a code was accepted for (no code twice) */
	uint64_t failures, failures_since, locked_until;
	uint64_t created, last_login;
};

int users_schema(sqlite3 *db);

/* The user called name into *ret; -ENOENT. */
int users_get(sqlite3 *db, const char *name, struct user *ret);
/* A new user with password hash; -EEXIST when the name is taken. */
int users_create(sqlite3 *db, const char *name, const char *role, const char *hash, bool must_change, uint64_t now);
/* u as the API shows it: no hash, no secret. */
json_t *user_json(const struct user *u);
/* Every user as the API shows them (user_json()), by name, appended to items. */
int users_list(sqlite3 *db, json_t *items);

/* Each -ENOENT when there is no such user. */
int users_set_password(sqlite3 *db, const char *name, const char *hash, bool must_change, uint64_t now);
int users_set_role(sqlite3 *db, const char *name, const char *role, uint64_t now);
int users_set_disabled(sqlite3 *db, const char *name, bool disabled, uint64_t now);

/*
 * A failed login at now: counted within window_us of the first; the
 * max-th locks the user until now + window_us (*ret_locked set then).
 */
int users_login_failed(sqlite3 *db, const char *name, uint64_t now, uint64_t window_us, uint64_t max,
		       bool *ret_locked);
/* A login that succeeded: the failures are forgotten. */
int users_login_ok(sqlite3 *db, const char *name, uint64_t now);

/* The TOTP step last accepted; -ENOENT when it is not after the last one (the code was used). */
int users_set_totp_step(sqlite3 *db, const char *name, uint64_t step);
/* A secret shown for enrolment (NULL: none). */
int users_set_totp_pending(sqlite3 *db, const char *name, const uint8_t *secret);
/*
 * The pending secret becomes the user's, with the recovery codes whose
 * hashes (hex SHA-256) are given; or, secret NULL, TOTP is removed.
 */
int users_set_totp(sqlite3 *db, const char *name, const uint8_t *secret, const char *const *recovery, size_t n);
/* Uses up the recovery code with this hash: 0, or -ENOENT when the user has no such code (left). */
int users_use_recovery(sqlite3 *db, const char *name, const char *hash);

/*
 * fn(u, recovery, n, ctx) for every user, by name, with the hashes of the
 * unused recovery codes (--migrate); stops at fn's first non-zero answer.
 * -EUCLEAN for a row whose codes cannot be read.
 */
typedef int (*users_export_fn)(const struct user *u, const char *const *recovery, size_t n, void *ctx);
int users_export(sqlite3 *db, users_export_fn fn, void *ctx);

#endif
