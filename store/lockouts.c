/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "common/db.h"
#include "common/util.h"
#include "store/lockouts.h"

int lockouts_schema(sqlite3 *meta)
{
	return db_exec(meta, "CREATE TABLE IF NOT EXISTS lockouts(user TEXT NOT NULL, ts INTEGER NOT NULL,"
			     " until INTEGER NOT NULL);"
			     "CREATE INDEX IF NOT EXISTS lockouts_ts ON lockouts(ts);");
}

int lockouts_add(sqlite3 *meta, const char *user, uint64_t now, uint64_t until)
{
	sqlite3_stmt *st;
	int r = db_prepare(meta, "INSERT INTO lockouts(user, ts, until) VALUES (?,?,?)", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)until);
	r = db_step_done(meta, st);
	sqlite3_finalize(st);
	if (r < 0 || db_prepare(meta, "DELETE FROM lockouts WHERE ts<?", &st) < 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)(now > LOCKOUTS_KEEP_US ? now - LOCKOUTS_KEEP_US : 0));
	r = db_step_done(meta, st);
	sqlite3_finalize(st);
	return r;
}

int lockouts_each(sqlite3 *meta, uint64_t since_us, int (*fn)(const struct lockout_count *c, void *ctx), void *ctx)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(meta, "SELECT user, count(*), max(ts), max(until) FROM lockouts WHERE ts>=?"
						   " GROUP BY user ORDER BY user", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)since_us);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct lockout_count c = { .user = (const char *)sqlite3_column_text(st, 0),
					   .count = (uint64_t)sqlite3_column_int64(st, 1),
					   .last = (uint64_t)sqlite3_column_int64(st, 2),
					   .until = (uint64_t)sqlite3_column_int64(st, 3) };
		r = fn(&c, ctx);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_errno(rc);
	sqlite3_finalize(st);
	return r;
}
