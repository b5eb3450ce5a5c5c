/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_USERDB_H
#define VIGIL_USERDB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/auth.h"
#include "api/sessions.h"
#include "common/hash.h"
#include "api/users.h"

/*
 * Where the console's users and sessions and the API's tokens are kept:
 * the collector's own meta.db (users.c, sessions.c, auth.c), or, with
 * [storage] backend=postgresql, the database the collectors share
 * (pgusers.c), so that a user made on one collector logs in on another, a
 * session begun on one is good on every one, and so is a token
 * (docs/scale.md). accounts.c holds the policy (passwords,
 * lockout, second factor, when a session ends) over either.
 *
 * Every call runs on db, in the transaction begin() opened if there is
 * one; the caller serialises the calls on one db. Each is 0 or a negative
 * errno as users.h and sessions.h say; -EPIPE (PostgreSQL) when the
 * database could not be reached: connected again at the next call.
 */
struct userdb_ops {
	const char *name; /* for the log: "meta.db", "PostgreSQL" */
	void (*close)(void *db);
	/* A change of a user and the sessions it ends, together: begin(), the calls, end(commit). */
	int (*begin)(void *db);
	int (*end)(void *db, bool commit);

	int (*get)(void *db, const char *name, struct user *ret);
	int (*create)(void *db, const char *name, const char *role, const char *hash, bool must_change, uint64_t now);
	int (*list)(void *db, json_t *items);
	int (*set_password)(void *db, const char *name, const char *hash, bool must_change, uint64_t now);
	int (*set_role)(void *db, const char *name, const char *role, uint64_t now);
	int (*set_disabled)(void *db, const char *name, bool disabled, uint64_t now);
	int (*login_failed)(void *db, const char *name, uint64_t now, uint64_t window_us, uint64_t max, bool *ret_locked);
	int (*login_ok)(void *db, const char *name, uint64_t now);
	/* -ENOENT when step is not after the last one accepted: a code is good once, on every collector. */
	int (*set_totp_step)(void *db, const char *name, uint64_t step);
	int (*set_totp_pending)(void *db, const char *name, const uint8_t *secret);
	int (*set_totp)(void *db, const char *name, const uint8_t *secret, const char *const *recovery, size_t n);
	int (*use_recovery)(void *db, const char *name, const char *hash);

	int (*session_create)(void *db, const char *id, const char *user, const char *csrf, uint64_t now);
	int (*session_get)(void *db, const char *id, struct session *ret);
	int (*session_touch)(void *db, const char *id, uint64_t now);
	int (*session_delete)(void *db, const char *id);
	int (*session_delete_user)(void *db, const char *user, const char *except);
	int (*session_prune)(void *db, uint64_t now, uint64_t idle_us, uint64_t lifetime_us);

	/* The API's tokens, by their SHA-256 (auth.h). */
	int (*token_insert)(void *db, const char *name, const char *role, const uint8_t hash[SHA256_SIZE], uint64_t now);
	int (*token_delete)(void *db, const char *name);
	int (*token_find)(void *db, const uint8_t hash[SHA256_SIZE], char *name, size_t name_size, char *role,
			  size_t role_size);
	int (*tokens_each)(void *db, auth_token_fn fn, void *ctx);
};

/* The users, sessions and tokens in meta.db: db is the sqlite3 connection (borrowed: close() leaves it open). */
extern const struct userdb_ops userdb_sqlite;

/*
 * The users, sessions and tokens in PostgreSQL (url, password_file as pg.h's
 * pg_conf): connects and makes the tables if they are not there; *ret is
 * the db of userdb_pg, closed by its close(). -EOPNOTSUPP in a build
 * without libpq.
 */
extern const struct userdb_ops userdb_pg;
int userdb_pg_open(const char *url, const char *password_file, void **ret);
/*
 * The user u of another store, as it is there (its password hash, second
 * factor, recovery codes' hashes), into db of userdb_pg: 0, or -EEXIST
 * when a user of that name is there already (left as it is).
 */
int userdb_pg_import(void *db, const struct user *u, const char *const *recovery, size_t n);

#endif
