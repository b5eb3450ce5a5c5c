/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_DB_H
#define VIGIL_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * SQLite helpers: every database is WAL, with a busy timeout, and statements
 * are prepared (never built from strings that came from outside).
 */
enum db_sync {
	DB_SYNC_NORMAL, /* survives a killed process, not a power cut */
	DB_SYNC_FULL,   /* fsync at every commit */
};

/* Opens (creating if asked) path; on failure logs with the path and returns -errno. */
int db_open(const char *path, bool create, bool readonly, enum db_sync sync, sqlite3 **ret);
/* Closes, finalizing nothing: callers finalize their statements first. NULL is fine. */
void db_close(sqlite3 *db);
/* Runs SQL text that the program itself wrote (schema, BEGIN/COMMIT). */
int db_exec(sqlite3 *db, const char *sql);
int db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret);
/*
 * Ends the transaction a BEGIN began: COMMIT when r is no error (>= 0);
 * ROLLBACK when it is one or the COMMIT failed (none when no transaction is
 * open: the BEGIN itself failed, so nothing is logged twice). Returns r, or
 * COMMIT's error.
 */
int db_end(sqlite3 *db, int r);
/* Maps an SQLite result code to a negative errno: busy or locked past the busy timeout -EAGAIN, a constraint -EEXIST. */
int db_errno(int rc);
/* Steps st once and resets it, for statements that return nothing needed; logs a failure with the file. */
int db_step_done(sqlite3 *db, sqlite3_stmt *st);
/* Prepares sql[0..n) into st[0..n); on failure finalizes those made and returns the error. */
int db_prepare_all(sqlite3 *db, const char *const *sql, size_t n, sqlite3_stmt **st);
/* Finalizes st[0..n) (NULLs are fine). */
void db_finalize_all(sqlite3_stmt **st, size_t n);
/* Whether table has column (what a migration asks before adding it). */
bool db_has_column(sqlite3 *db, const char *table, const char *column);

#endif
