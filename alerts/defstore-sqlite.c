/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "alerts/defstore.h"
#include "common/db.h"
#include "store/storage.h"

/* meta.db's definitions: one collector's, so its version never moves. */

static int sq_rows(sqlite3_stmt *st, int (*fn)(const struct defs_row *row, void *ctx), void *ctx)
{
	int rc, r = 0;

	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct defs_row row = { .name = (const char *)sqlite3_column_text(st, 0),
					.definition = (const char *)sqlite3_column_text(st, 1),
					.author = (const char *)sqlite3_column_text(st, 2),
					.created = (uint64_t)sqlite3_column_int64(st, 3),
					.updated = (uint64_t)sqlite3_column_int64(st, 4) };
		r = fn(&row, ctx);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_errno(rc);
	sqlite3_finalize(st);
	return r;
}

#define DEF_COLUMNS "SELECT name, definition, author, created, updated FROM definitions WHERE kind=?1"

static int sq_each(void *db, const char *kind, int (*fn)(const struct defs_row *row, void *ctx), void *ctx)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, DEF_COLUMNS " ORDER BY name", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	return sq_rows(st, fn, ctx);
}

static int sq_get(void *db, const char *kind, const char *name, int (*fn)(const struct defs_row *row, void *ctx),
		  void *ctx)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, DEF_COLUMNS " AND name=?2", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	return sq_rows(st, fn, ctx);
}

static int sq_put(void *db, const char *kind, const char *name, const char *definition, const char *author,
		  uint64_t now)
{
	sqlite3_stmt *st;
	int r = definition ? db_prepare(db, "INSERT INTO definitions(kind, name, definition, author, created, updated)"
					    " VALUES (?1,?2,?3,?4,?5,?5) ON CONFLICT(kind, name) DO UPDATE SET"
					    " definition=?3, author=?4, updated=?5", &st) :
			     db_prepare(db, "DELETE FROM definitions WHERE kind=?1 AND name=?2", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (definition) {
		sqlite3_bind_text(st, 3, definition, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, author, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)now);
	}
	r = db_step_done(db, st);
	sqlite3_finalize(st);
	return r;
}

static int sq_begin(void *db, uint64_t *ret)
{
	*ret = 0;
	return db_exec(db, "BEGIN IMMEDIATE");
}

static int sq_end(void *db, int r, uint64_t *ret)
{
	*ret = 0;
	return db_end(db, r);
}

static int sq_version(void *db, uint64_t *ret)
{
	(void)db;
	*ret = 0;
	return 0;
}

static void sq_close(void *db)
{
	db_close(db);
}

const struct defs_store_ops defs_store_sqlite = {
	.name = "meta.db", .each = sq_each, .get = sq_get, .put = sq_put, .begin = sq_begin, .end = sq_end,
	.version = sq_version, .close = sq_close,
};

int defs_store_sqlite_open(const char *data_dir, bool sync, struct defs_store *ret)
{
	sqlite3 *db = NULL;
	int r = storage_meta_connect(data_dir, sync, &db);

	if (r == 0)
		r = db_exec(db, "CREATE TABLE IF NOT EXISTS definitions(kind TEXT NOT NULL, name TEXT NOT NULL,"
				" definition TEXT NOT NULL, author TEXT NOT NULL, created INTEGER NOT NULL,"
				" updated INTEGER NOT NULL, PRIMARY KEY(kind, name))");
	if (r < 0) {
		db_close(db);
		return r;
	}
	*ret = (struct defs_store){ &defs_store_sqlite, db };
	return 0;
}
