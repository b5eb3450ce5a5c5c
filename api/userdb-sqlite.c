/* SPDX-License-Identifier: Apache-2.0 */
/* The users, sessions and tokens in meta.db (userdb.h): users.c, sessions.c and auth.c on its connection. */
#include "config.h"

#include "api/auth.h"
#include "api/userdb.h"
#include "common/db.h"

static void sq_close(void *db)
{
	(void)db;
}

static int sq_begin(void *db)
{
	return db_exec(db, "BEGIN IMMEDIATE");
}

static int sq_end(void *db, bool commit)
{
	return db_exec(db, commit ? "COMMIT" : "ROLLBACK");
}

static int sq_get(void *db, const char *name, struct user *ret)
{
	return users_get(db, name, ret);
}

static int sq_create(void *db, const char *name, const char *role, const char *hash, bool must_change, uint64_t now)
{
	return users_create(db, name, role, hash, must_change, now);
}

static int sq_list(void *db, json_t *items)
{
	return users_list(db, items);
}

static int sq_set_password(void *db, const char *name, const char *hash, bool must_change, uint64_t now)
{
	return users_set_password(db, name, hash, must_change, now);
}

static int sq_set_role(void *db, const char *name, const char *role, uint64_t now)
{
	return users_set_role(db, name, role, now);
}

static int sq_set_disabled(void *db, const char *name, bool disabled, uint64_t now)
{
	return users_set_disabled(db, name, disabled, now);
}

static int sq_login_failed(void *db, const char *name, uint64_t now, uint64_t window_us, uint64_t max, bool *ret_locked)
{
	return users_login_failed(db, name, now, window_us, max, ret_locked);
}

static int sq_login_ok(void *db, const char *name, uint64_t now)
{
	return users_login_ok(db, name, now);
}

static int sq_set_totp_step(void *db, const char *name, uint64_t step)
{
	return users_set_totp_step(db, name, step);
}

static int sq_set_totp_pending(void *db, const char *name, const uint8_t *secret)
{
	return users_set_totp_pending(db, name, secret);
}

static int sq_set_totp(void *db, const char *name, const uint8_t *secret, const char *const *recovery, size_t n)
{
	return users_set_totp(db, name, secret, recovery, n);
}

static int sq_use_recovery(void *db, const char *name, const char *hash)
{
	return users_use_recovery(db, name, hash);
}

static int sq_session_create(void *db, const char *id, const char *user, const char *csrf, uint64_t now)
{
	return sessions_create(db, id, user, csrf, now);
}

static int sq_session_get(void *db, const char *id, struct session *ret)
{
	return sessions_get(db, id, ret);
}

static int sq_session_touch(void *db, const char *id, uint64_t now)
{
	return sessions_touch(db, id, now);
}

static int sq_session_delete(void *db, const char *id)
{
	return sessions_delete(db, id);
}

static int sq_session_delete_user(void *db, const char *user, const char *except)
{
	return sessions_delete_user(db, user, except);
}

static int sq_session_prune(void *db, uint64_t now, uint64_t idle_us, uint64_t lifetime_us)
{
	return sessions_prune(db, now, idle_us, lifetime_us);
}

static int sq_token_insert(void *db, const char *name, const char *role, const uint8_t hash[SHA256_SIZE], uint64_t now)
{
	return auth_token_insert(db, name, role, hash, now);
}

static int sq_token_delete(void *db, const char *name)
{
	return auth_token_delete(db, name);
}

static int sq_token_find(void *db, const uint8_t hash[SHA256_SIZE], char *name, size_t name_size, char *role,
			 size_t role_size)
{
	return auth_token_find(db, hash, name, name_size, role, role_size);
}

static int sq_tokens_each(void *db, auth_token_fn fn, void *ctx)
{
	return auth_tokens_each(db, fn, ctx);
}

const struct userdb_ops userdb_sqlite = {
	.name = "meta.db",
	.close = sq_close,
	.begin = sq_begin,
	.end = sq_end,
	.get = sq_get,
	.create = sq_create,
	.list = sq_list,
	.set_password = sq_set_password,
	.set_role = sq_set_role,
	.set_disabled = sq_set_disabled,
	.login_failed = sq_login_failed,
	.login_ok = sq_login_ok,
	.set_totp_step = sq_set_totp_step,
	.set_totp_pending = sq_set_totp_pending,
	.set_totp = sq_set_totp,
	.use_recovery = sq_use_recovery,
	.session_create = sq_session_create,
	.session_get = sq_session_get,
	.session_touch = sq_session_touch,
	.session_delete = sq_session_delete,
	.session_delete_user = sq_session_delete_user,
	.session_prune = sq_session_prune,
	.token_insert = sq_token_insert,
	.token_delete = sq_token_delete,
	.token_find = sq_token_find,
	.tokens_each = sq_tokens_each,
};
