/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/db.h"
#include "forward/position.h"

int forward_positions_schema(sqlite3 *meta)
{
	return db_exec(meta, "CREATE TABLE IF NOT EXISTS forward_positions(name TEXT PRIMARY KEY, cursor TEXT,"
			     " sent INTEGER NOT NULL, lag_us INTEGER NOT NULL, behind INTEGER NOT NULL,"
			     " updated INTEGER NOT NULL, error TEXT)");
}

#define COLUMNS "name, cursor, sent, lag_us, behind, updated, error"

/* The row st stands on into *s, its strings valid until st moves. */
static void state_of(sqlite3_stmt *st, struct forward_state *s)
{
	*s = (struct forward_state){ .name = (const char *)sqlite3_column_text(st, 0),
				     .cursor = (const char *)sqlite3_column_text(st, 1),
				     .sent = (uint64_t)sqlite3_column_int64(st, 2),
				     .lag_us = (uint64_t)sqlite3_column_int64(st, 3),
				     .behind = (uint64_t)sqlite3_column_int64(st, 4),
				     .updated = (uint64_t)sqlite3_column_int64(st, 5),
				     .error = (const char *)sqlite3_column_text(st, 6) };
}

int forward_state_get(sqlite3 *meta, const char *name, struct forward_state *ret, char *cursor)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(meta, "SELECT " COLUMNS " FROM forward_positions WHERE name=?", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		state_of(st, ret);
		r = ret->cursor && strlen(ret->cursor) > FORWARD_CURSOR_MAX ? -EBADMSG : 1;
		(void)snprintf(cursor, FORWARD_CURSOR_MAX + 1, "%s", ret->cursor && r == 1 ? ret->cursor : "");
		ret->name = ret->error = ret->cursor = NULL;
	} else if (rc != SQLITE_DONE) {
		r = db_errno(rc);
	}
	sqlite3_finalize(st);
	return r;
}

int forward_state_put(sqlite3 *meta, const struct forward_state *s)
{
	sqlite3_stmt *st;
	int r = db_prepare(meta, "INSERT OR REPLACE INTO forward_positions(" COLUMNS ") VALUES (?,?,?,?,?,?,?)", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, s->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, s->cursor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)s->sent);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)s->lag_us);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)s->behind);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)s->updated);
	if (s->error)
		sqlite3_bind_text(st, 7, s->error, -1, SQLITE_STATIC);
	r = db_step_done(meta, st);
	sqlite3_finalize(st);
	return r;
}

/* Whether name is one of names. */
static bool named(const char *name, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

int forward_states_retire(sqlite3 *meta, const char *const *names, size_t n)
{
	sqlite3_stmt *st, *up;
	int rc, r = db_prepare(meta, "SELECT name FROM forward_positions WHERE lag_us<>0 OR behind<>0", &st);

	if (r < 0)
		return r;
	if ((r = db_prepare(meta, "UPDATE forward_positions SET lag_us=0, behind=0, error=NULL WHERE name=?", &up)) < 0) {
		sqlite3_finalize(st);
		return r;
	}
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		if (!name || named(name, names, n))
			continue;
		sqlite3_bind_text(up, 1, name, -1, SQLITE_TRANSIENT);
		r = db_step_done(meta, up);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_errno(rc);
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	return r;
}

int forward_states_each(sqlite3 *meta, int (*fn)(const struct forward_state *s, void *ctx), void *ctx)
{
	sqlite3_stmt *st;
	struct forward_state s;
	int rc, r = 0;

	/* A store no forwarder ever ran on has no table: nothing to report, nothing to log. */
	if (sqlite3_prepare_v2(meta, "SELECT " COLUMNS " FROM forward_positions ORDER BY name", -1, &st, NULL) != SQLITE_OK)
		return 0;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		state_of(st, &s);
		r = fn(&s, ctx);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_errno(rc);
	sqlite3_finalize(st);
	return r;
}
