/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>

#include "api/sessions.h"
#include "common/db.h"
#include "common/macro.h"
#include "common/hash.h"
#include "common/util.h"

int sessions_schema(sqlite3 *db)
{
	return db_exec(db, "CREATE TABLE IF NOT EXISTS sessions(id BLOB PRIMARY KEY, user TEXT NOT NULL,"
			   " csrf TEXT NOT NULL, created INTEGER NOT NULL, last_seen INTEGER NOT NULL);"
			   "CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user);");
}

/* Runs sql with ?1 the id's hash, ?2 and ?5 texts, ?3 and ?4 numbers; the statement's changes, or -errno. */
static int run(sqlite3 *db, const char *sql, const char *id, const char *text, const char *text2, int64_t a,
	       int64_t b)
{
	uint8_t hash[SHA256_SIZE];
	sqlite3_stmt *st;
	int r = id ? sha256(id, strlen(id), hash) : 0;

	if (r == 0)
		r = db_prepare(db, sql, &st);
	if (r < 0)
		return r;
	if (id)
		sqlite3_bind_blob(st, 1, hash, sizeof(hash), SQLITE_STATIC);
	sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, a);
	sqlite3_bind_int64(st, 4, b);
	sqlite3_bind_text(st, 5, text2, -1, SQLITE_STATIC);
	r = db_step_done(db, st);
	sqlite3_finalize(st);
	return r < 0 ? r : sqlite3_changes(db);
}

int sessions_create(sqlite3 *db, const char *id, const char *user, const char *csrf, uint64_t now)
{
	int r = run(db, "INSERT INTO sessions(id, user, csrf, created, last_seen) VALUES (?1, ?2, ?5, ?3, ?3)", id, user,
		    csrf, (int64_t)now, 0);

	return r < 0 ? r : 0;
}

int sessions_get(sqlite3 *db, const char *id, struct session *ret)
{
	uint8_t hash[SHA256_SIZE];
	sqlite3_stmt *st;
	int rc, r;

	if (sha256(id, strlen(id), hash) < 0)
		return -EACCES;
	r = db_prepare(db, "SELECT user, csrf, created, last_seen FROM sessions WHERE id=?", &st);
	if (r < 0)
		return r;
	sqlite3_bind_blob(st, 1, hash, sizeof(hash), SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		(void)snprintf(ret->user, sizeof(ret->user), "%s", sqlite3_column_text(st, 0));
		(void)snprintf(ret->csrf, sizeof(ret->csrf), "%s", sqlite3_column_text(st, 1));
		ret->created = (uint64_t)sqlite3_column_int64(st, 2);
		ret->last_seen = (uint64_t)sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -EACCES : db_errno(rc);
}

int sessions_touch(sqlite3 *db, const char *id, uint64_t now)
{
	int r = run(db, "UPDATE sessions SET last_seen=?3 WHERE id=?1", id, NULL, NULL, (int64_t)now, 0);

	return r < 0 ? r : 0;
}

int sessions_delete(sqlite3 *db, const char *id)
{
	int r = run(db, "DELETE FROM sessions WHERE id=?1", id, NULL, NULL, 0, 0);

	return r < 0 ? r : 0;
}

int sessions_delete_user(sqlite3 *db, const char *user, const char *except)
{
	int r = run(db, "DELETE FROM sessions WHERE user=?2 AND id IS NOT ?1", except, user, NULL, 0, 0);

	return r < 0 ? r : 0;
}

int sessions_prune(sqlite3 *db, uint64_t now, uint64_t idle_us, uint64_t lifetime_us)
{
	int r = run(db, "DELETE FROM sessions WHERE last_seen<?3 OR created<?4", NULL, NULL, NULL,
		    (int64_t)(now - MIN(now, idle_us)), (int64_t)(now - MIN(now, lifetime_us)));

	return r < 0 ? r : 0;
}
