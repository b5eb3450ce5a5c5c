/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>

#include "api/auth.h"
#include "common/db.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/hash.h"
#include "common/util.h"

int auth_schema(sqlite3 *meta)
{
	return db_exec(meta, "CREATE TABLE IF NOT EXISTS tokens(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
			     " role TEXT NOT NULL, hash BLOB UNIQUE NOT NULL, created INTEGER NOT NULL);");
}

int auth_token_create(const char *data_dir, const char *name, const char *role, char **ret_token)
{
	uint8_t raw[32], hash[SHA256_SIZE];
	char hex[65], path[4096], *token = NULL;
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	int r, rc;

	r = mkdir_p(data_dir, 0750);
	if (r < 0)
		return log_error_errno(r, "tokens: cannot create %s: %m", data_dir);
	(void)snprintf(path, sizeof(path), "%s/meta.db", data_dir);
	r = random_bytes(raw, sizeof(raw));
	if (r == 0)
		r = db_open(path, true, false, DB_SYNC_FULL, &db);
	if (r == 0)
		r = auth_schema(db);
	if (r == 0)
		r = db_prepare(db, "INSERT INTO tokens(name, role, hash, created) VALUES (?,?,?,?)", &st);
	if (r < 0)
		goto out;
	hex_encode(raw, sizeof(raw), hex);
	if (asprintf(&token, "vgl_%s", hex) < 0) {
		token = NULL;
		r = -ENOMEM;
		goto out;
	}
	r = sha256(token, strlen(token), hash);
	if (r < 0)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, hash, sizeof(hash), SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)now_realtime_us());
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		r = db_errno(rc);
		goto out;
	}
	*ret_token = TAKE_PTR(token);
out:
	free(token);
	sqlite3_finalize(st);
	db_close(db);
	return r;
}

int auth_token_delete(const char *data_dir, const char *name)
{
	char path[4096];
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	int r, rc;

	(void)snprintf(path, sizeof(path), "%s/meta.db", data_dir);
	r = db_open(path, true, false, DB_SYNC_FULL, &db);
	if (r == 0)
		r = db_prepare(db, "DELETE FROM tokens WHERE name=?", &st);
	if (r == 0) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		r = rc != SQLITE_DONE ? db_errno(rc) : sqlite3_changes(db) ? 0 : -ENOENT;
	}
	sqlite3_finalize(st);
	db_close(db);
	return r;
}

int auth_token_lookup(sqlite3 *meta, const char *token, char *ret_name, size_t name_sz, char *ret_role,
		      size_t role_sz)
{
	uint8_t hash[SHA256_SIZE];
	sqlite3_stmt *st;
	int k = db_prepare(meta, "SELECT name, role FROM tokens WHERE hash=?", &st);

	if (k < 0)
		return k;
	if (sha256(token, strlen(token), hash) < 0) {
		sqlite3_finalize(st);
		return -ENOMEM;
	}
	sqlite3_bind_blob(st, 1, hash, sizeof(hash), SQLITE_STATIC);
	k = -EACCES;
	if (sqlite3_step(st) == SQLITE_ROW) {
		(void)snprintf(ret_name, name_sz, "%s", (const char *)sqlite3_column_text(st, 0));
		(void)snprintf(ret_role, role_sz, "%s", (const char *)sqlite3_column_text(st, 1));
		k = 0;
	}
	sqlite3_finalize(st);
	return k;
}

int auth_tokens_each(sqlite3 *meta, int (*fn)(const char *name, const char *role, uint64_t created, void *ctx),
		     void *ctx)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(meta, "SELECT name, role, created FROM tokens ORDER BY name", &st);

	if (r < 0)
		return r;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = fn((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
		       (uint64_t)sqlite3_column_int64(st, 2), ctx);
	if (r == 0 && rc != SQLITE_DONE)
		r = db_errno(rc);
	sqlite3_finalize(st);
	return r;
}
