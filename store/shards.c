/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>

#include "common/db.h"
#include "common/macro.h"
#include "common/util.h"
#include "store/shards.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS shards(day INTEGER PRIMARY KEY, file TEXT NOT NULL, ts_min INTEGER,"
	" ts_max INTEGER, blocks INTEGER DEFAULT 0, records INTEGER DEFAULT 0, bytes INTEGER DEFAULT 0,"
	" synced_block INTEGER DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS dedup(agent TEXT NOT NULL, seq INTEGER NOT NULL, day INTEGER NOT NULL,"
	" PRIMARY KEY(agent, seq)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS dedup_day ON dedup(day);";

void shards_path(const char *dir, uint32_t day, char *out, size_t size)
{
	char name[16];

	format_day(day, name, sizeof(name));
	(void)snprintf(out, size, "%s/shards/%s.db", dir, name);
}

int shards_schema(sqlite3 *meta)
{
	int r = db_exec(meta, schema);

	/*
	 * digest: a batch is a duplicate only with the same frame; rows from
	 * before have none, and the shard's frame is read when one is needed.
	 */
	if (r == 0 && !db_has_column(meta, "dedup", "digest"))
		r = db_exec(meta, "ALTER TABLE dedup ADD COLUMN digest BLOB");
	return r;
}

void shard_counts_add(struct shard_counts *c, uint64_t records, uint64_t bytes, uint64_t ts_min, uint64_t ts_max,
		      int64_t id)
{
	if (!c->blocks)
		c->ts_min = UINT64_MAX;
	c->blocks++;
	c->records += records;
	c->bytes += bytes;
	c->ts_min = MIN(c->ts_min, ts_min);
	c->ts_max = MAX(c->ts_max, ts_max);
	c->max_id = MAX(c->max_id, id);
}

enum { W_ADD, W_COUNT, W_DEDUP_GET, W_DEDUP_PUT, _W_MAX };

static const char *const writer_sql[_W_MAX] = {
	[W_ADD] = "INSERT OR IGNORE INTO shards(day, file) VALUES (?,?)",
	[W_COUNT] = "UPDATE shards SET ts_min=min(coalesce(ts_min, ?2), ?2), ts_max=max(coalesce(ts_max, ?3), ?3),"
		    " blocks=blocks+?4, records=records+?5, bytes=bytes+?6, synced_block=max(synced_block, ?7)"
		    " WHERE day=?1",
	[W_DEDUP_GET] = "SELECT digest, day FROM dedup WHERE agent=? AND seq=?",
	[W_DEDUP_PUT] = "INSERT OR IGNORE INTO dedup(agent, seq, day, digest) VALUES (?,?,?,?)",
};

struct shards_writer {
	sqlite3 *meta;
	sqlite3_stmt *st[_W_MAX];
};

int shards_writer_open(sqlite3 *meta, struct shards_writer **ret)
{
	struct shards_writer *w = calloc(1, sizeof(*w));
	int r = w ? db_prepare_all(meta, writer_sql, _W_MAX, w->st) : -ENOMEM;

	if (r < 0) {
		free(w);
		return r;
	}
	w->meta = meta;
	*ret = w;
	return 0;
}

void shards_writer_free(struct shards_writer *w)
{
	if (!w)
		return;
	db_finalize_all(w->st, _W_MAX);
	free(w);
}

int shards_writer_add(struct shards_writer *w, uint32_t day)
{
	sqlite3_stmt *st = w->st[W_ADD];
	char name[16];

	format_day(day, name, sizeof(name));
	sqlite3_bind_int64(st, 1, day);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	return db_step_done(w->meta, st);
}

int shards_writer_count(struct shards_writer *w, uint32_t day, const struct shard_counts *c)
{
	sqlite3_stmt *st = w->st[W_COUNT];

	if (!c->blocks)
		return 0;
	sqlite3_bind_int64(st, 1, day);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)c->ts_min);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)c->ts_max);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)c->blocks);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)c->records);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)c->bytes);
	sqlite3_bind_int64(st, 7, c->max_id);
	return db_step_done(w->meta, st);
}

int shards_writer_dedup_get(struct shards_writer *w, const char *agent, uint64_t seq, struct dedup_entry *ret)
{
	sqlite3_stmt *st = w->st[W_DEDUP_GET];
	int found;

	sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
	found = sqlite3_step(st) == SQLITE_ROW;
	if (found) {
		*ret = (struct dedup_entry){ .day = (uint32_t)sqlite3_column_int64(st, 1),
					     .has_digest = sqlite3_column_bytes(st, 0) == SHA256_SIZE };
		if (ret->has_digest)
			memcpy(ret->digest, sqlite3_column_blob(st, 0), SHA256_SIZE);
	}
	(void)sqlite3_reset(st);
	return found;
}

int shards_writer_dedup_put(struct shards_writer *w, const char *agent, uint64_t seq, uint32_t day,
			    const uint8_t digest[SHA256_SIZE])
{
	sqlite3_stmt *st = w->st[W_DEDUP_PUT];

	sqlite3_bind_text(st, 1, agent, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
	sqlite3_bind_int64(st, 3, day);
	sqlite3_bind_blob(st, 4, digest, SHA256_SIZE, SQLITE_TRANSIENT);
	return db_step_done(w->meta, st);
}

int shards_newest(sqlite3 *meta, uint32_t *ret_day)
{
	sqlite3_stmt *st;
	int r = db_prepare(meta, "SELECT coalesce(max(day), 0) FROM shards", &st);

	if (r < 0)
		return r;
	*ret_day = sqlite3_step(st) == SQLITE_ROW ? (uint32_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return 0;
}

int shards_records_after(sqlite3 *meta, uint32_t day, uint64_t *ret)
{
	sqlite3_stmt *st;
	int r = db_prepare(meta, "SELECT coalesce(sum(records), 0) FROM shards WHERE day>?", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, day);
	*ret = sqlite3_step(st) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return 0;
}

bool shards_known(sqlite3 *meta, uint32_t day)
{
	sqlite3_stmt *st;
	bool known;

	if (db_prepare(meta, "SELECT 1 FROM shards WHERE day=?", &st) < 0)
		return false;
	sqlite3_bind_int64(st, 1, day);
	known = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return known;
}

/* Steps st, calling fn with its first column as a day and its second as a number; stops at fn's non-zero. */
static int each_day(sqlite3_stmt *st, int (*fn)(uint32_t day, int64_t n, void *ctx), void *ctx)
{
	int r = 0, rc;

	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = fn((uint32_t)sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), ctx);
	if (r == 0 && rc != SQLITE_DONE)
		r = db_errno(rc);
	sqlite3_finalize(st);
	return r;
}

struct day_fn {
	int (*fn)(uint32_t day, void *ctx);
	void *ctx;
};

static int call_day(uint32_t day, int64_t n, void *ctx)
{
	const struct day_fn *d = ctx;

	(void)n;
	return d->fn(day, d->ctx);
}

int shards_each(sqlite3 *meta, const struct shard_range *range, int (*fn)(uint32_t day, void *ctx), void *ctx)
{
	struct day_fn d = { fn, ctx };
	sqlite3_stmt *st;
	int r = db_prepare(meta,
			   range->newest_first ?
				   "SELECT day, 0 FROM shards WHERE (?1=0 OR day<=?1) AND ts_max>=?2 AND (?3=0 OR ts_min<=?3)"
				   " ORDER BY day DESC" :
				   "SELECT day, 0 FROM shards WHERE day>=?1 AND ts_max>=?2 AND (?3=0 OR ts_min<=?3) ORDER BY day",
			   &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, range->from_day);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)range->since);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)range->until);
	return each_day(st, call_day, &d);
}

int shards_each_recent(sqlite3 *meta, size_t n, int (*fn)(uint32_t day, int64_t synced, void *ctx), void *ctx)
{
	sqlite3_stmt *st;
	int r = db_prepare(meta, "SELECT day, synced_block FROM shards ORDER BY day DESC LIMIT ?", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)n);
	return each_day(st, fn, ctx);
}

int shards_each_counted(sqlite3 *meta, int (*fn)(uint32_t day, int64_t blocks, void *ctx), void *ctx)
{
	sqlite3_stmt *st;
	int r = db_prepare(meta, "SELECT day, blocks FROM shards ORDER BY day", &st);

	return r < 0 ? r : each_day(st, fn, ctx);
}

int shards_expired(sqlite3 *meta, uint32_t cutoff, uint32_t keep, uint32_t *days, size_t cap, size_t *ret_n)
{
	sqlite3_stmt *st;
	size_t n = 0;
	int r = db_prepare(meta, "SELECT day FROM shards WHERE day<? AND day<>? ORDER BY day", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, cutoff);
	sqlite3_bind_int64(st, 2, keep);
	while (n < cap && sqlite3_step(st) == SQLITE_ROW)
		days[n++] = (uint32_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	*ret_n = n;
	return 0;
}

int shards_forget(sqlite3 *meta, uint32_t day)
{
	static const char *const sql[] = { "DELETE FROM dedup WHERE day=?1", "DELETE FROM shards WHERE day=?1" };
	int r = 0;

	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(sql); i++) {
		sqlite3_stmt *st;
		r = db_prepare(meta, sql[i], &st);
		if (r < 0)
			break;
		sqlite3_bind_int64(st, 1, day);
		r = db_step_done(meta, st);
		sqlite3_finalize(st);
	}
	return r;
}
