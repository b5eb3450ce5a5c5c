/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <unistd.h>

#include "common/db.h"
#include "common/log.h"
#include "common/macro.h"

int db_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_BUSY: /* past the busy timeout: worth another try, unlike a refusal */
	case SQLITE_LOCKED:
		return -EAGAIN;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EUCLEAN;
	default:
		return -EIO;
	}
}

int db_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &err);

	if (rc != SQLITE_OK) {
		log_error("sqlite %s: %s", sqlite3_db_filename(db, "main"), err ? err : sqlite3_errstr(rc));
		sqlite3_free(err);
		return db_errno(rc);
	}
	return 0;
}

int db_end(sqlite3 *db, int r)
{
	if (r >= 0) {
		int c = db_exec(db, "COMMIT");
		if (c < 0)
			r = c;
	}
	/* A COMMIT that failed leaves its transaction open; a BEGIN that failed opened none. */
	if (r < 0 && !sqlite3_get_autocommit(db))
		(void)db_exec(db, "ROLLBACK");
	return r;
}

int db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret)
{
	int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, ret, NULL);

	if (rc != SQLITE_OK) {
		log_error("sqlite %s: prepare failed: %s", sqlite3_db_filename(db, "main"),
			  sqlite3_errmsg(db));
		return db_errno(rc);
	}
	return 0;
}

#define JOURNAL_TRIES 50
#define JOURNAL_RETRY_US 100000

/*
 * The switch to WAL needs the file to itself and does not wait through the
 * busy handler: another process's read at that moment (an agent's first
 * start beside a --status) makes it fail at once. Tried again for up to 5 s.
 */
static int set_journal(sqlite3 *db, const char *pragmas)
{
	int rc = SQLITE_BUSY;

	for (int i = 0; i < JOURNAL_TRIES && (rc & 0xff) == SQLITE_BUSY; i++) {
		if (i)
			(void)usleep(JOURNAL_RETRY_US);
		rc = sqlite3_exec(db, pragmas, NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK)
		log_error("sqlite %s: %s", sqlite3_db_filename(db, "main"), sqlite3_errmsg(db));
	return db_errno(rc);
}

int db_open(const char *path, bool create, bool readonly, enum db_sync sync, sqlite3 **ret)
{
	int flags = SQLITE_OPEN_NOMUTEX | (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE);
	sqlite3 *db = NULL;
	int rc, r;

	if (create && !readonly)
		flags |= SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &db, flags, NULL);
	if (rc != SQLITE_OK) {
		log_error("sqlite %s: cannot open: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return db_errno(rc);
	}
	(void)sqlite3_busy_timeout(db, 5000);
	(void)sqlite3_extended_result_codes(db, 1);
	if (!readonly) {
		r = set_journal(db, sync == DB_SYNC_FULL ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
							 : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
		if (r < 0) {
			sqlite3_close(db);
			return r;
		}
	}
	*ret = db;
	return 0;
}

void db_close(sqlite3 *db)
{
	if (db && sqlite3_close(db) != SQLITE_OK)
		log_warning("sqlite %s: close failed: %s, ignoring.", sqlite3_db_filename(db, "main"),
			    sqlite3_errmsg(db));
}

int db_step_done(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		log_error("database %s: %s", sqlite3_db_filename(db, "main"), sqlite3_errmsg(db));
		return db_errno(rc);
	}
	return 0;
}

bool db_has_column(sqlite3 *db, const char *table, const char *column)
{
	return sqlite3_table_column_metadata(db, "main", table, column, NULL, NULL, NULL, NULL, NULL) == SQLITE_OK;
}

int db_prepare_all(sqlite3 *db, const char *const *sql, size_t n, sqlite3_stmt **st)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < n; i++)
		r = db_prepare(db, sql[i], &st[i]);
	if (r < 0)
		db_finalize_all(st, n);
	return r;
}

void db_finalize_all(sqlite3_stmt **st, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sqlite3_finalize(st[i]);
		st[i] = NULL;
	}
}
