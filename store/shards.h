/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_SHARDS_H
#define VIGIL_SHARDS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hash.h"

/*
 * Where stored blocks are, in meta.db: the catalogue of day shards
 * (`shards`: one row per shard file, its time range and counts, and the
 * id up to which meta has recorded its blocks) and the index of every
 * (agent, seq) stored, with the shard that holds it and its frame's digest
 * (`dedup`). This file alone holds SQL that names them.
 */

/* DATA_DIR/shards/YYYY-MM-DD.db of day. */
void shards_path(const char *dir, uint32_t day, char *out, size_t size);

/* Creates the tables (and adds what older versions lack) on a meta connection. */
int shards_schema(sqlite3 *meta);

/* What a group of blocks adds to its shard's row. */
struct shard_counts {
	uint64_t blocks, records, bytes;
	uint64_t ts_min, ts_max;
	int64_t max_id; /* the newest block id meta now knows of */
};
void shard_counts_add(struct shard_counts *c, uint64_t records, uint64_t bytes, uint64_t ts_min, uint64_t ts_max,
		      int64_t id);

/*
 * The writer's statements on its meta connection. Every call runs in the
 * caller's transaction. Owned by the caller: shards_writer_free().
 */
struct shards_writer;
int shards_writer_open(sqlite3 *meta, struct shards_writer **ret);
void shards_writer_free(struct shards_writer *w);
/* A catalogue row for day, if there is none. */
int shards_writer_add(struct shards_writer *w, uint32_t day);
/* Adds c to day's row. */
int shards_writer_count(struct shards_writer *w, uint32_t day, const struct shard_counts *c);

/* What meta knows of a stored (agent, seq). */
struct dedup_entry {
	uint32_t day;
	bool has_digest; /* rows from before digests have none */
	uint8_t digest[SHA256_SIZE];
};
/* 1 with *ret set if (agent, seq) is stored, 0 if not. */
int shards_writer_dedup_get(struct shards_writer *w, const char *agent, uint64_t seq, struct dedup_entry *ret);
int shards_writer_dedup_put(struct shards_writer *w, const char *agent, uint64_t seq, uint32_t day,
			    const uint8_t digest[SHA256_SIZE]);

/* Readers, on any connection to meta.db. */
/* The newest day with a shard in *ret_day (0: none). */
int shards_newest(sqlite3 *meta, uint32_t *ret_day);
/* Whether day has a shard in the catalogue. */
bool shards_known(sqlite3 *meta, uint32_t day);
/* The records the catalogue counts in the shards of days after day. */
int shards_records_after(sqlite3 *meta, uint32_t day, uint64_t *ret);

/* Which shards shards_each() visits: those that may hold records from since to until (0: open). */
struct shard_range {
	uint64_t since, until;
	uint32_t from_day; /* and none before it (newest first: after it); 0: no bound */
	bool newest_first;
};
/*
 * Calls fn(day, ctx) for each shard of range; stops at the first fn that
 * returns non-zero and returns that; 0 when every shard was seen.
 */
int shards_each(sqlite3 *meta, const struct shard_range *range, int (*fn)(uint32_t day, void *ctx), void *ctx);
/* fn(day, the newest id meta recorded, ctx) for the newest n shards, newest first: what a crash may have left. */
int shards_each_recent(sqlite3 *meta, size_t n, int (*fn)(uint32_t day, int64_t synced, void *ctx), void *ctx);
/* fn(day, blocks the catalogue counted, ctx) for every shard, oldest first. */
int shards_each_counted(sqlite3 *meta, int (*fn)(uint32_t day, int64_t blocks, void *ctx), void *ctx);
/* Up to cap days before cutoff, other than keep, oldest first, into days; their number in *ret_n. */
int shards_expired(sqlite3 *meta, uint32_t cutoff, uint32_t keep, uint32_t *days, size_t cap, size_t *ret_n);
/* Forgets day: its catalogue row and its dedup rows (its file is gone). */
int shards_forget(sqlite3 *meta, uint32_t day);

#endif
