/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>

#include "api/auth.h"
#include "common/db.h"
#include "common/hash.h"

int auth_schema(sqlite3 *meta)
{
	return db_exec(meta, "CREATE TABLE IF NOT EXISTS tokens(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
			     " role TEXT NOT NULL, hash BLOB UNIQUE NOT NULL, created INTEGER NOT NULL);");
}

int auth_token_insert(sqlite3 *meta, const char *name, const char *role, const uint8_t hash[SHA256_SIZE], uint64_t now)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(meta, "INSERT INTO tokens(name, role, hash, created) VALUES (?,?,?,?)", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, hash, SHA256_SIZE, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : (rc & 0xff) == SQLITE_CONSTRAINT ? -EEXIST : db_errno(rc);
}

int auth_token_delete(sqlite3 *meta, const char *name)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(meta, "DELETE FROM tokens WHERE name=?", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	r = rc != SQLITE_DONE ? db_errno(rc) : sqlite3_changes(meta) ? 0 : -ENOENT;
	sqlite3_finalize(st);
	return r;
}

int auth_token_find(sqlite3 *meta, const uint8_t hash[SHA256_SIZE], char *ret_name, size_t name_size, char *ret_role,
		    size_t role_size)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(meta, "SELECT name, role FROM tokens WHERE hash=?", &st);

	if (r < 0)
		return r;
	sqlite3_bind_blob(st, 1, hash, SHA256_SIZE, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		(void)snprintf(ret_name, name_size, "%s", (const char *)sqlite3_column_text(st, 0));
		(void)snprintf(ret_role, role_size, "%s", (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -EACCES : db_errno(rc);
}

int auth_tokens_each(sqlite3 *meta, auth_token_fn fn, void *ctx)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(meta, "SELECT name, role, created, hash FROM tokens ORDER BY name", &st);

	if (r < 0)
		return r;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = sqlite3_column_bytes(st, 3) != SHA256_SIZE ?
			    -EUCLEAN :
			    fn((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
			       (uint64_t)sqlite3_column_int64(st, 2), sqlite3_column_blob(st, 3), ctx);
	if (r == 0 && rc != SQLITE_DONE)
		r = db_errno(rc);
	sqlite3_finalize(st);
	return r;
}
