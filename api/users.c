/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>

#include "api/users.h"
#include "common/db.h"
#include "common/macro.h"

int users_schema(sqlite3 *db)
{
	return db_exec(db, "CREATE TABLE IF NOT EXISTS users(name TEXT PRIMARY KEY, role TEXT NOT NULL,"
			   " password TEXT NOT NULL, must_change INTEGER NOT NULL DEFAULT 0,"
			   " disabled INTEGER NOT NULL DEFAULT 0, totp BLOB, totp_pending BLOB,"
			   " totp_step INTEGER NOT NULL DEFAULT 0, recovery TEXT NOT NULL DEFAULT '[]',"
			   " failures INTEGER NOT NULL DEFAULT 0, failures_since INTEGER NOT NULL DEFAULT 0,"
			   " locked_until INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL,"
			   " updated INTEGER NOT NULL, last_login INTEGER NOT NULL DEFAULT 0);");
}

#define USER_COLUMNS                                                                                            \
	"name, role, password, must_change, disabled, totp, totp_pending, totp_step, failures, failures_since," \
	" locked_until, created, last_login"

/* A blob column of TOTP_SECRET_SIZE bytes into out; whether there was one. */
static bool secret_of(sqlite3_stmt *st, int col, uint8_t out[TOTP_SECRET_SIZE])
{
	if (sqlite3_column_bytes(st, col) != TOTP_SECRET_SIZE)
		return false;
	memcpy(out, sqlite3_column_blob(st, col), TOTP_SECRET_SIZE);
	return true;
}

static void user_of(sqlite3_stmt *st, struct user *u)
{
	memset(u, 0, sizeof(*u));
	(void)snprintf(u->name, sizeof(u->name), "%s", sqlite3_column_text(st, 0));
	(void)snprintf(u->role, sizeof(u->role), "%s", sqlite3_column_text(st, 1));
	(void)snprintf(u->password, sizeof(u->password), "%s", sqlite3_column_text(st, 2));
	u->must_change = sqlite3_column_int(st, 3);
	u->disabled = sqlite3_column_int(st, 4);
	u->has_totp = secret_of(st, 5, u->totp);
	u->has_pending = secret_of(st, 6, u->pending);
	u->totp_step = (uint64_t)sqlite3_column_int64(st, 7);
	u->failures = (uint64_t)sqlite3_column_int64(st, 8);
	u->failures_since = (uint64_t)sqlite3_column_int64(st, 9);
	u->locked_until = (uint64_t)sqlite3_column_int64(st, 10);
	u->created = (uint64_t)sqlite3_column_int64(st, 11);
	u->last_login = (uint64_t)sqlite3_column_int64(st, 12);
}

int users_get(sqlite3 *db, const char *name, struct user *ret)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(db, "SELECT " USER_COLUMNS " FROM users WHERE name=?", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		user_of(st, ret);
	r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : db_errno(rc);
	sqlite3_finalize(st);
	return r;
}

int users_create(sqlite3 *db, const char *name, const char *role, const char *hash, bool must_change, uint64_t now)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(db, "INSERT INTO users(name, role, password, must_change, created, updated)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, ?5)", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, must_change);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : (rc & 0xff) == SQLITE_CONSTRAINT ? -EEXIST : db_errno(rc);
}

json_t *user_json(const struct user *u)
{
	return json_pack("{s:s, s:s, s:b, s:b, s:b, s:I, s:I, s:I}", "name", u->name, "role", u->role, "disabled",
			 u->disabled, "must_change", u->must_change, "totp", u->has_totp, "locked_until",
			 (json_int_t)u->locked_until, "created", (json_int_t)u->created, "last_login",
			 (json_int_t)u->last_login);
}

int users_list(sqlite3 *db, json_t *items)
{
	sqlite3_stmt *st;
	struct user u;
	int rc, r = db_prepare(db, "SELECT " USER_COLUMNS " FROM users ORDER BY name", &st);

	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		user_of(st, &u);
		json_array_append_new(items, user_json(&u));
	}
	explicit_bzero(&u, sizeof(u));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

/*
 * Runs sql on the user called name (its ?1), the other parameters bound by
 * bind (one the SQL does not have is left alone); -ENOENT when it changed
 * no row.
 */
static int update(sqlite3 *db, const char *sql, const char *name, void (*bind)(sqlite3_stmt *st, const void *ctx),
		  const void *ctx)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, sql, &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (bind)
		bind(st, ctx);
	r = db_step_done(db, st);
	if (r == 0 && sqlite3_changes(db) == 0)
		r = -ENOENT;
	sqlite3_finalize(st);
	return r;
}

/* What bind_values() binds: ?2, ?3, ?4 the numbers, ?5 text, ?6 a secret. */
struct values {
	const char *text;
	const void *blob;
	int64_t a, b, c;
};

static void bind_values(sqlite3_stmt *st, const void *ctx)
{
	const struct values *v = ctx;

	sqlite3_bind_int64(st, 2, v->a);
	sqlite3_bind_int64(st, 3, v->b);
	sqlite3_bind_int64(st, 4, v->c);
	if (v->text)
		sqlite3_bind_text(st, 5, v->text, -1, SQLITE_STATIC);
	if (v->blob)
		sqlite3_bind_blob(st, 6, v->blob, TOTP_SECRET_SIZE, SQLITE_STATIC);
}

int users_set_password(sqlite3 *db, const char *name, const char *hash, bool must_change, uint64_t now)
{
	const struct values v = { .text = hash, .a = must_change, .b = (int64_t)now };

	/* A new password also unlocks: an admin's reset is how a locked-out user gets back in. */
	return update(db, "UPDATE users SET password=?5, must_change=?2, updated=?3, failures=0, locked_until=0"
			  " WHERE name=?1", name, bind_values, &v);
}

int users_set_role(sqlite3 *db, const char *name, const char *role, uint64_t now)
{
	const struct values v = { .text = role, .b = (int64_t)now };

	return update(db, "UPDATE users SET role=?5, updated=?3 WHERE name=?1", name, bind_values,
		      &v);
}

int users_set_disabled(sqlite3 *db, const char *name, bool disabled, uint64_t now)
{
	const struct values v = { .a = disabled, .b = (int64_t)now };

	return update(db, "UPDATE users SET disabled=?2, updated=?3 WHERE name=?1", name, bind_values, &v);
}

int users_login_failed(sqlite3 *db, const char *name, uint64_t now, uint64_t window_us, uint64_t max,
		       bool *ret_locked)
{
	sqlite3_stmt *st;
	int rc, r;

	/*
	 * count: this failure's number, a new count when the window of the
	 * first has passed. SET reads the old row, so it is written out twice.
	 */
#define COUNT "(CASE WHEN ?2-failures_since>?3 THEN 1 ELSE failures+1 END)"
	r = db_prepare(db, "UPDATE users SET failures=CASE WHEN " COUNT ">=?4 THEN 0 ELSE " COUNT " END,"
			   " failures_since=CASE WHEN ?2-failures_since>?3 THEN ?2 ELSE failures_since END,"
			   " locked_until=CASE WHEN " COUNT ">=?4 THEN ?2+?3 ELSE locked_until END"
			   " WHERE name=?1 RETURNING locked_until=?2+?3", &st);
#undef COUNT
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)window_us);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)max);
	rc = sqlite3_step(st);
	*ret_locked = rc == SQLITE_ROW && sqlite3_column_int(st, 0);
	r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : db_errno(rc);
	sqlite3_finalize(st);
	return r;
}

int users_login_ok(sqlite3 *db, const char *name, uint64_t now)
{
	const struct values v = { .a = (int64_t)now };

	return update(db, "UPDATE users SET failures=0, last_login=?2 WHERE name=?1", name, bind_values, &v);
}

int users_set_totp_step(sqlite3 *db, const char *name, uint64_t step)
{
	const struct values v = { .a = (int64_t)step };

	/* Conditional: two logins with one code at once (on two collectors, or two threads) cannot both pass. */
	return update(db, "UPDATE users SET totp_step=?2 WHERE name=?1 AND totp_step<?2", name, bind_values, &v);
}

int users_set_totp_pending(sqlite3 *db, const char *name, const uint8_t *secret)
{
	const struct values v = { .blob = secret };

	return update(db, "UPDATE users SET totp_pending=?6 WHERE name=?1", name, bind_values, &v);
}

int users_set_totp(sqlite3 *db, const char *name, const uint8_t *secret, const char *const *recovery, size_t n)
{
	json_t *codes = json_array();
	struct values v = { .blob = secret };
	int r;

	for (size_t i = 0; codes && i < n; i++)
		json_array_append_new(codes, json_string(recovery[i]));
	v.text = codes ? json_dumps(codes, JSON_COMPACT) : NULL;
	json_decref(codes);
	if (!v.text)
		return -ENOMEM;
	r = update(db, "UPDATE users SET totp=?6, totp_pending=NULL, recovery=?5 WHERE name=?1", name, bind_values, &v);
	free((char *)v.text);
	return r;
}

int users_use_recovery(sqlite3 *db, const char *name, const char *hash)
{
	const struct values v = { .text = hash };

	return update(db, "UPDATE users SET recovery=(SELECT json_group_array(value) FROM json_each(recovery)"
			  " WHERE value<>?5) WHERE name=?1 AND EXISTS (SELECT 1 FROM json_each(recovery) WHERE value=?5)",
		      name, bind_values, &v);
}

int users_export(sqlite3 *db, users_export_fn fn, void *ctx)
{
	const char *codes[RECOVERY_CODES];
	sqlite3_stmt *st;
	struct user u;
	json_t *rec;
	size_t n;
	bool ok;
	int rc, r = db_prepare(db, "SELECT " USER_COLUMNS ", recovery FROM users ORDER BY name", &st);

	if (r < 0)
		return r;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		user_of(st, &u);
		rec = json_loads((const char *)sqlite3_column_text(st, 13), 0, NULL);
		n = json_array_size(rec);
		ok = json_is_array(rec) && n <= ARRAY_SIZE(codes);
		for (size_t i = 0; ok && i < n; i++)
			ok = (codes[i] = json_string_value(json_array_get(rec, i))) != NULL;
		r = ok ? fn(&u, codes, n, ctx) : -EUCLEAN;
		json_decref(rec);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_errno(rc);
	explicit_bzero(&u, sizeof(u));
	sqlite3_finalize(st);
	return r;
}
