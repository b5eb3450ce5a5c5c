/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/db.h"
#include "enroll/certs.h"

int enroll_certs_schema(sqlite3 *meta)
{
	return db_exec(meta, "CREATE TABLE IF NOT EXISTS agent_certs(serial TEXT PRIMARY KEY, name TEXT NOT NULL,"
			     " key_id TEXT NOT NULL, origin TEXT NOT NULL, issued INTEGER NOT NULL,"
			     " expires INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0, revoked_by TEXT);"
			     "CREATE INDEX IF NOT EXISTS agent_certs_name ON agent_certs(name, expires)");
}

int enroll_cert_add(sqlite3 *meta, const struct agent_cert *c)
{
	sqlite3_stmt *st;
	int r = db_prepare(meta, "INSERT INTO agent_certs(serial, name, key_id, origin, issued, expires)"
				 " VALUES (?,?,?,?,?,?)", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, c->serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->key_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->origin, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)c->issued_us);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)c->expires_us);
	r = db_step_done(meta, st);
	sqlite3_finalize(st);
	return r;
}

int enroll_cert_other_key(sqlite3 *meta, const char *name, const char *key_id, uint64_t now_us, char *serial,
			  size_t size)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(meta, "SELECT serial FROM agent_certs WHERE name=? AND expires>? AND revoked=0"
				     " AND key_id<>? ORDER BY expires DESC LIMIT 1", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now_us);
	sqlite3_bind_text(st, 3, key_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		(void)snprintf(serial, size, "%s", (const char *)sqlite3_column_text(st, 0));
	else
		r = rc == SQLITE_DONE ? -ENOENT : db_errno(rc);
	sqlite3_finalize(st);
	return r;
}

int enroll_cert_revoked(sqlite3 *meta, const char *serial)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(meta, "SELECT revoked FROM agent_certs WHERE serial=?", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = sqlite3_column_int64(st, 0) != 0;
	else
		r = rc == SQLITE_DONE ? -ENOENT : db_errno(rc);
	sqlite3_finalize(st);
	return r;
}

#define REVOKABLE "revoked=0 AND (serial=?3 OR (name=?3 AND expires>?1))"

int enroll_certs_revoke(sqlite3 *meta, const char *what, const char *by, uint64_t now_us,
			void (*fn)(const char *serial, void *ctx), void *ctx)
{
	sqlite3_stmt *st[2] = { 0 };
	static const char *const sql[] = {
		"SELECT serial FROM agent_certs WHERE " REVOKABLE,
		"UPDATE agent_certs SET revoked=?1, revoked_by=?2 WHERE " REVOKABLE,
	};
	int rc = SQLITE_DONE, n = 0, r = db_prepare_all(meta, sql, 2, st);

	for (int i = 0; r == 0 && i < 2; i++) {
		sqlite3_bind_int64(st[i], 1, (sqlite3_int64)now_us);
		sqlite3_bind_text(st[i], 2, by, -1, SQLITE_STATIC);
		sqlite3_bind_text(st[i], 3, what, -1, SQLITE_STATIC);
	}
	while (r == 0 && (rc = sqlite3_step(st[0])) == SQLITE_ROW) {
		fn((const char *)sqlite3_column_text(st[0], 0), ctx);
		n++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_errno(rc);
	if (r == 0 && n)
		r = db_step_done(meta, st[1]);
	db_finalize_all(st, 2);
	if (r < 0)
		return r;
	return n ? n : -ENOENT;
}

int enroll_certs_each(sqlite3 *meta, bool revoked_only, int (*fn)(const struct agent_cert *c, void *ctx), void *ctx)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(meta, "SELECT serial, name, key_id, origin, issued, expires, revoked, revoked_by"
				     " FROM agent_certs WHERE revoked<>0 OR NOT ? ORDER BY issued DESC, serial", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int(st, 1, revoked_only);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct agent_cert c = { .serial = (const char *)sqlite3_column_text(st, 0),
					.name = (const char *)sqlite3_column_text(st, 1),
					.key_id = (const char *)sqlite3_column_text(st, 2),
					.origin = (const char *)sqlite3_column_text(st, 3),
					.issued_us = (uint64_t)sqlite3_column_int64(st, 4),
					.expires_us = (uint64_t)sqlite3_column_int64(st, 5),
					.revoked_us = (uint64_t)sqlite3_column_int64(st, 6),
					.revoked_by = (const char *)sqlite3_column_text(st, 7) };

		r = fn(&c, ctx);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_errno(rc);
	sqlite3_finalize(st);
	return r;
}
