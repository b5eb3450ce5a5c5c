/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "common/db.h"
#include "common/macro.h"
#include "dialtests/dtstore.h"
#include "store/storage.h"

/* The dial tests in meta.db: dtstore.h's store. This file alone holds SQL that names its two tables. */

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS dialtests(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
	" definition TEXT NOT NULL, file TEXT, author TEXT NOT NULL, created INTEGER NOT NULL,"
	" updated INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS dialtest_changes(id INTEGER PRIMARY KEY, dialtest INTEGER NOT NULL,"
	" ts INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, definition TEXT);"
	"CREATE INDEX IF NOT EXISTS dialtest_changes_by_test ON dialtest_changes(dialtest, id);";

static const char *text_or_null(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? NULL : (const char *)sqlite3_column_text(st, col);
}

static int sq_begin(void *db)
{
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

static int sq_each(void *db, int64_t id, int (*fn)(const struct dt_row *row, void *ctx), void *ctx)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(db, "SELECT id, name, definition, file, author, created, updated FROM dialtests"
				   " WHERE ?1 = 0 OR id = ?1 ORDER BY id", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct dt_row row = { .id = sqlite3_column_int64(st, 0), .name = (const char *)sqlite3_column_text(st, 1),
				      .definition = (const char *)sqlite3_column_text(st, 2), .file = text_or_null(st, 3),
				      .author = (const char *)sqlite3_column_text(st, 4),
				      .created = (uint64_t)sqlite3_column_int64(st, 5),
				      .updated = (uint64_t)sqlite3_column_int64(st, 6) };

		r = fn(&row, ctx);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_errno(rc);
	sqlite3_finalize(st);
	return r;
}

static int sq_history(void *db, int64_t id, int (*fn)(const struct dt_change *c, void *ctx), void *ctx)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(db, "SELECT id, ts, actor, action, definition FROM dialtest_changes WHERE dialtest=?"
				   " ORDER BY id", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct dt_change c = { .id = sqlite3_column_int64(st, 0), .dialtest = id,
				       .ts = (uint64_t)sqlite3_column_int64(st, 1),
				       .actor = (const char *)sqlite3_column_text(st, 2),
				       .action = (const char *)sqlite3_column_text(st, 3), .definition = text_or_null(st, 4) };

		r = fn(&c, ctx);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_errno(rc);
	sqlite3_finalize(st);
	return r;
}

static int sq_put(void *db, int64_t *id, const char *name, const char *definition, const char *author, uint64_t now)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(db, *id ? "UPDATE dialtests SET definition=?1, name=?5, author=?2, updated=?3 WHERE id=?4" :
					 "INSERT INTO dialtests(name, definition, author, created, updated)"
					 " VALUES (?5, ?1, ?2, ?3, ?3)", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, definition, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, author, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 4, *id);
	sqlite3_bind_text(st, 5, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return -EEXIST;
	if (rc != SQLITE_DONE)
		return db_errno(rc);
	if (!*id)
		*id = sqlite3_last_insert_rowid(db);
	return 0;
}

static int sq_remove(void *db, int64_t id)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(db, "DELETE FROM dialtests WHERE id=?", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

static int sq_add_change(void *db, const struct dt_change *c)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(db, "INSERT INTO dialtest_changes(dialtest, ts, actor, action, definition)"
				   " VALUES (?,?,?,?,?)", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, c->dialtest);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)c->ts);
	sqlite3_bind_text(st, 3, c->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, c->definition, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

static int sq_sync_file(void *db, const char *name, const char *definition, const char *path, const char *origin,
			uint64_t now, int64_t *ret_id)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(db, "INSERT INTO dialtests(name, definition, file, author, created, updated)"
				   " VALUES (?1,?2,?3,'file:'||?3,?4,?4) ON CONFLICT(name) DO UPDATE SET definition=?2,"
				   " file=?3, updated=CASE WHEN definition=?2 THEN updated ELSE ?4 END WHERE file IS NOT NULL"
				   " RETURNING id, created=?4, updated=?4", &st);

	(void)origin; /* one collector reads them all */
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, definition, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret_id = sqlite3_column_int64(st, 0);
		r = sqlite3_column_int(st, 1) ? DT_SYNC_CREATED : sqlite3_column_int(st, 2) ? DT_SYNC_UPDATED : DT_SYNC_SAME;
	} else {
		r = rc == SQLITE_DONE ? DT_SYNC_API : db_errno(rc);
	}
	sqlite3_finalize(st);
	return r;
}

static int sq_sync_gone(void *db, const char *const *names, size_t n, const char *origin, uint64_t now)
{
	static const char *const sql[] = {
		"CREATE TEMP TABLE IF NOT EXISTS seen(name TEXT PRIMARY KEY)",
		"INSERT OR IGNORE INTO temp.seen(name) VALUES (?)",
		("INSERT INTO dialtest_changes(dialtest, ts, actor, action) SELECT id, ?, 'file:' || file, 'deleted'"
		 " FROM dialtests WHERE file IS NOT NULL AND name NOT IN (SELECT name FROM temp.seen)"),
		"DELETE FROM dialtests WHERE file IS NOT NULL AND name NOT IN (SELECT name FROM temp.seen)",
	};
	sqlite3_stmt *st[ARRAY_SIZE(sql)] = { 0 };
	int r = db_exec(db, sql[0]);

	(void)origin;
	if (r == 0)
		r = db_exec(db, "DELETE FROM temp.seen");
	if (r == 0)
		r = db_prepare_all(db, sql + 1, ARRAY_SIZE(sql) - 1, st + 1);
	for (size_t i = 0; r == 0 && i < n; i++) {
		sqlite3_bind_text(st[1], 1, names[i], -1, SQLITE_STATIC);
		r = db_step_done(db, st[1]);
	}
	if (r == 0) {
		sqlite3_bind_int64(st[2], 1, (sqlite3_int64)now);
		r = db_step_done(db, st[2]);
	}
	if (r == 0)
		r = db_step_done(db, st[3]);
	db_finalize_all(st, ARRAY_SIZE(st));
	return r;
}

static void sq_close(void *db)
{
	db_close(db);
}

static const struct dt_store_ops dt_store_sqlite = {
	.name = "meta.db", .begin = sq_begin, .end = sq_end, .version = sq_version, .each = sq_each,
	.history = sq_history, .put = sq_put, .remove = sq_remove, .add_change = sq_add_change,
	.sync_file = sq_sync_file, .sync_gone = sq_sync_gone, .close = sq_close,
};

int dt_store_sqlite_open(const char *data_dir, bool sync, struct dt_store *ret)
{
	sqlite3 *db = NULL;
	int r = storage_meta_connect(data_dir, sync, &db);

	if (r == 0)
		r = db_exec(db, schema);
	if (r < 0) {
		db_close(db);
		return r;
	}
	*ret = (struct dt_store){ &dt_store_sqlite, db };
	return 0;
}
