/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "alerts/queue.h"
#include "common/db.h"
#include "common/macro.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS notifications(id INTEGER PRIMARY KEY, alert INTEGER NOT NULL,"
	" target TEXT NOT NULL, event TEXT NOT NULL, payload TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'queued',"
	" attempts INTEGER NOT NULL DEFAULT 0, next_attempt INTEGER NOT NULL, last_error TEXT,"
	" created INTEGER NOT NULL, sent INTEGER, digest INTEGER);"
	"CREATE INDEX IF NOT EXISTS notifications_due ON notifications(state, next_attempt);"
	"CREATE INDEX IF NOT EXISTS notifications_sent ON notifications(target, sent);";

int queue_schema(sqlite3 *db)
{
	int r = db_exec(db, schema);

	/* digest (the first notification of the message that carried it) came after the table. */
	if (r == 0 && !db_has_column(db, "notifications", "digest"))
		r = db_exec(db, "ALTER TABLE notifications ADD COLUMN digest INTEGER");
	return r;
}

static int sq_add(void *v, int64_t alert, const char *target, const char *event, const char *payload, uint64_t now_us,
	      int64_t *ret_id)
{
	sqlite3 *db = v;
	sqlite3_stmt *st;
	int rc, r = db_prepare(db,
			       "INSERT INTO notifications(alert, target, event, payload, next_attempt, created)"
			       " VALUES (?1,?2,?3,?4,?5,?5)",
			       &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, alert);
	sqlite3_bind_text(st, 2, target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, event, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, payload, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)now_us);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_errno(rc);
	if (ret_id)
		*ret_id = sqlite3_last_insert_rowid(db);
	return 0;
}

static struct queued queued_of(sqlite3_stmt *st)
{
	return (struct queued){ .id = sqlite3_column_int64(st, 0), .alert = sqlite3_column_int64(st, 1),
				.attempts = (unsigned)sqlite3_column_int(st, 3) };
}

/* Steps st (id, alert, text, attempts) into fn; finalizes it. */
static int each_queued(sqlite3_stmt *st, int (*fn)(const struct queued *q, const char *text, void *ctx), void *ctx)
{
	int r = 0;

	while (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
		struct queued q = queued_of(st);
		r = fn(&q, (const char *)sqlite3_column_text(st, 2), ctx);
	}
	sqlite3_finalize(st);
	return r;
}

static int sq_due(void *v, uint64_t now, size_t limit,
	      int (*fn)(const struct queued *q, const char *target, void *ctx), void *ctx)
{
	sqlite3 *db = v;
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT id, alert, target, attempts FROM notifications"
			       " WHERE state='queued' AND next_attempt<=? ORDER BY id LIMIT ?", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	return each_queued(st, fn, ctx);
}

static int sq_due_of(void *v, const char *target, uint64_t now, size_t limit,
		 int (*fn)(const struct queued *q, const char *payload, void *ctx), void *ctx)
{
	sqlite3 *db = v;
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT id, alert, payload, attempts FROM notifications"
			       " WHERE state='queued' AND next_attempt<=? AND target=? ORDER BY id LIMIT ?", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	sqlite3_bind_text(st, 2, target, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
	return each_queued(st, fn, ctx);
}

static uint64_t sq_sent_since(void *v, const char *target, uint64_t since_us)
{
	sqlite3 *db = v;
	sqlite3_stmt *st;
	uint64_t count = 0;

	if (db_prepare(db, "SELECT count(DISTINCT coalesce(digest, id)) FROM notifications WHERE target=? AND sent>=?",
		       &st) < 0)
		return 0;
	sqlite3_bind_text(st, 1, target, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)since_us);
	if (sqlite3_step(st) == SQLITE_ROW)
		count = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return count;
}

static int sq_record(void *v, const struct queued *q, enum queue_state state, uint64_t next_attempt, const char *error,
		 uint64_t now, int64_t digest)
{
	sqlite3 *db = v;
	static const char *const names[] = { [QUEUE_QUEUED] = "queued", [QUEUE_SENT] = "sent", [QUEUE_FAILED] = "failed" };
	sqlite3_stmt *st;
	int r = db_prepare(db, "UPDATE notifications SET state=?2, attempts=attempts+1, next_attempt=?3,"
			       " last_error=?4, sent=CASE WHEN ?2='sent' THEN ?5 END, digest=?6 WHERE id=?1", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, q->id);
	sqlite3_bind_text(st, 2, names[state], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)next_attempt);
	sqlite3_bind_text(st, 4, error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)now);
	if (digest)
		sqlite3_bind_int64(st, 6, digest);
	else
		sqlite3_bind_null(st, 6);
	r = db_step_done(db, st);
	sqlite3_finalize(st);
	return r;
}

static int sq_stats(void *v, const char *target, struct queue_stats *ret)
{
	sqlite3 *db = v;
	sqlite3_stmt *st;
	int r = db_prepare(db,
			   "SELECT count(*) FILTER (WHERE state='queued'), count(*) FILTER (WHERE state='sent'),"
			   " count(*) FILTER (WHERE state='failed'),"
			   " (SELECT last_error FROM notifications WHERE target=?1 AND last_error IS NOT NULL"
			   "  ORDER BY id DESC LIMIT 1)"
			   " FROM notifications WHERE target=?1",
			   &st);

	if (r < 0)
		return r;
	*ret = (struct queue_stats){ 0 };
	sqlite3_bind_text(st, 1, target, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		ret->queued = sqlite3_column_int64(st, 0);
		ret->sent = sqlite3_column_int64(st, 1);
		ret->failed = sqlite3_column_int64(st, 2);
		ret->has_error = sqlite3_column_type(st, 3) != SQLITE_NULL;
		if (ret->has_error)
			(void)snprintf(ret->last_error, sizeof(ret->last_error), "%s", sqlite3_column_text(st, 3));
	}
	sqlite3_finalize(st);
	return 0;
}

/* NULL for a NULL column, else its text as a JSON string. */
static json_t *column_text(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? json_null() : json_string((const char *)sqlite3_column_text(st, i));
}

static int sq_of_alert(void *v, int64_t alert, size_t limit, json_t *items)
{
	sqlite3 *db = v;
	sqlite3_stmt *st;
	int rc, r = db_prepare(db, "SELECT id, target, event, state, attempts, created, sent, last_error"
				   " FROM notifications WHERE alert=? ORDER BY id LIMIT ?", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, alert);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(items, json_pack("{s:I, s:o, s:o, s:o, s:i, s:I, s:I, s:o}",
						       "id", (json_int_t)sqlite3_column_int64(st, 0),
						       "target", column_text(st, 1), "event", column_text(st, 2),
						       "state", column_text(st, 3), "attempts", sqlite3_column_int(st, 4),
						       "created", (json_int_t)sqlite3_column_int64(st, 5),
						       "sent", (json_int_t)sqlite3_column_int64(st, 6),
						       "error", column_text(st, 7)));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

int queue_rows_export(sqlite3 *db, int (*fn)(json_t *row, void *ctx), void *ctx)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT * FROM notifications ORDER BY id", &st);

	return r < 0 ? r : alert_rows_step(st, fn, ctx);
}

const struct queue_ops queue_sqlite = {
	.add = sq_add, .due = sq_due, .due_of = sq_due_of, .sent_since = sq_sent_since, .record = sq_record,
	.stats = sq_stats, .of_alert = sq_of_alert,
};

/* The queue's calls, on its store's backend. */

int queue_add(struct alert_store *s, int64_t alert, const char *target, const char *event, const char *payload,
	      uint64_t now_us, int64_t *ret_id)
{
	return s->ops->queue->add(s->queue_db, alert, target, event, payload, now_us, ret_id);
}

int queue_due(struct alert_store *s, uint64_t now, size_t limit,
	      int (*fn)(const struct queued *q, const char *target, void *ctx), void *ctx)
{
	return s->ops->queue->due(s->queue_db, now, limit, fn, ctx);
}

int queue_due_of(struct alert_store *s, const char *target, uint64_t now, size_t limit,
		 int (*fn)(const struct queued *q, const char *payload, void *ctx), void *ctx)
{
	return s->ops->queue->due_of(s->queue_db, target, now, limit, fn, ctx);
}

uint64_t queue_sent_since(struct alert_store *s, const char *target, uint64_t since_us)
{
	return s->ops->queue->sent_since(s->queue_db, target, since_us);
}

int queue_record(struct alert_store *s, const struct queued *q, enum queue_state state, uint64_t next_attempt,
		 const char *error, uint64_t now, int64_t digest)
{
	return s->ops->queue->record(s->queue_db, q, state, next_attempt, error, now, digest);
}

int queue_stats(struct alert_store *s, const char *target, struct queue_stats *ret)
{
	return s->ops->queue->stats(s->queue_db, target, ret);
}

int queue_of_alert(struct alert_store *s, int64_t alert, size_t limit, json_t *items)
{
	return s->ops->queue->of_alert(s->queue_db, alert, limit, items);
}
