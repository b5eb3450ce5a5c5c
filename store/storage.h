/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_STORAGE_H
#define VIGIL_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/db.h"
#include "common/frame.h"
#include "store/blocks.h"
#include "store/pgstore.h"
#include "store/verify.h"

/*
 * The collector's store (docs/storage.md): DATA_DIR/meta.db, where the
 * catalogue of shards and the (agent, seq) index (shards.h) and the
 * fleet's state (hosts.h) are, and one DATA_DIR/shards/YYYY-MM-DD.db per
 * day of ingest holding the blocks and the rows derived from them
 * (blocks.h), chained by SHA-256 over every column (chain.h). This file
 * holds no SQL: it runs the writer's group commit over those owners, the
 * recovery after a crash, and retention (whole shard files), and opens
 * the readers' connections.
 *
 * The writer side (storage_open/storage_store) belongs to one thread, but for
 * storage_store_shared(), which may run on a second.
 * Readers (storage_reader_*) open their own connections, any thread.
 */
struct storage;

/*
 * [storage]: where the store is, whether every commit is fsynced, how long
 * shards are kept, the chains' digest (hash: "sha256" or "sm3") and what
 * seals them (store/sealing.h).
 */
struct storage_conf {
	char *data_dir;
	bool sync;
	uint64_t retention_days;
	char *hash;
	char *seal_key_file;   /* an HMAC-SM3 secret */
	char *seal_sign_key;   /* an SM2 private key (PEM) */
	char *seal_verify_key; /* an SM2 public key (PEM): checks seals, cannot make them */
	uint64_t seal_interval_ms;
	/* backend=postgresql: the blocks are shared with other collectors in the database url names (pgstore.h). */
	char *backend;
	char *url;
	char *password_file;
	char *dialect;
};

/* Whether c stores the blocks in PostgreSQL (backend=postgresql). */
bool storage_conf_shared(const struct storage_conf *c);

/* The digest hash= names (sha256 when it names none). */
enum hash_alg storage_conf_hash(const struct storage_conf *c);

/*
 * Opens the store, creating it. Its hash chain's digest is alg if it holds
 * no block yet; else the one its blocks were chained with (logged when it
 * differs from alg).
 */
int storage_open(const char *data_dir, enum db_sync sync, enum hash_alg alg, struct storage **ret);
void storage_free(struct storage *s);
/*
 * With backend=postgresql, what s stores goes to the shared store too
 * (pgstore.h), in the same storage_store() call (or its second step,
 * storage_store_shared()), after s's own commit; a block is acknowledged
 * once both hold it. s's shards then keep the blocks
 * and their chain only: the rows derived from them (blocks.h) are the
 * database's, which every reader reads (fleet.h). Connects now: -errno,
 * logged, when the database cannot be reached.
 */
int storage_share(struct storage *s, const struct storage_conf *c);
/* The digest the store chains its blocks and their frames with. */
enum hash_alg storage_hash(const struct storage *s);

/*
 * Stores blocks in one transaction per database (group commit): a block
 * whose (agent, seq) was stored before with the same frame is marked
 * BLOCK_DUPLICATE and not stored again; with another frame, BLOCK_CONFLICT
 * (two agents with one id), recorded and not stored; under TLS, a block
 * whose agent id is bound to another certificate is BLOCK_REFUSED and
 * leaves no trace (the first certificate an id is stored with binds it).
 * Returns once durable; on failure every pending block is BLOCK_FAILED and
 * a negative errno is
 * returned.
 */
int storage_store(struct storage *s, struct block_in **blocks, size_t n);
/* Where the chain this collector writes in the shared store stands (pgstore_chain_head()); "" and 0 without one. */
void storage_shared_head(struct storage *s, char name[CHAIN_SHARED_NAME], int64_t *ret_pos, uint8_t ret_hash[HASH_SIZE]);
/*
 * storage_store() in its two steps, for a writer that overlaps them: the
 * first in s's own store (the shard, meta), the day of the shard in *ret_day;
 * the second in the shared store (none without backend=postgresql), which
 * decides what each block's agent is told, given own, the first's result
 * (below 0: not asked, own returned). The second step of a group may run on
 * another thread while the first of the next group runs; the second steps
 * run one at a time, in the order of their first.
 */
int storage_store_own(struct storage *s, struct block_in **blocks, size_t n, uint32_t *ret_day);
int storage_store_shared(struct storage *s, int own, uint32_t day, struct block_in **blocks, size_t n);

/* The first day retention keeps: shards of days before it are deleted. */
uint32_t storage_retention_cutoff(uint64_t now_us, uint64_t days);
/* Deletes shard files older than days before now, and their dedup rows. */
int storage_retention(struct storage *s, uint64_t now_us, uint64_t days);

/*
 * Another read-write connection to DATA_DIR/meta.db (which storage_open()
 * made): for the parts that keep their own tables there (alerts,
 * notifications, definitions, dial tests). fsync at each commit when sync.
 */
int storage_meta_connect(const char *data_dir, bool sync, sqlite3 **ret);

/* Reader side: one per request/thread; shard connections are opened on demand. */
struct storage_reader;

int storage_reader_open(const char *data_dir, struct storage_reader **ret);
void storage_reader_free(struct storage_reader *r);
/* r reads the blocks from the shared store c names, when c is shared (the log API: every collector's blocks). */
void storage_reader_share(struct storage_reader *r, const struct storage_conf *c);
/* The shared store r reads blocks from, connected on first use: 1 (*ret set), 0 when r reads only its own, or -errno. */
int storage_reader_shared(struct storage_reader *r, struct pgstore **ret);
sqlite3 *storage_reader_meta(struct storage_reader *r);
/* Whether the catalogue names any shard. */
bool storage_reader_has_blocks(struct storage_reader *r);
/* The shard of day, or NULL (logged) if it cannot be opened. Owned by the reader. */
sqlite3 *storage_reader_shard(struct storage_reader *r, uint32_t day);
/*
 * Calls fn(db, ctx) for each shard that may hold records from since to
 * until (0: no end), oldest first or newest first; db is NULL for a shard
 * that cannot be opened (logged). Stops at the first fn that returns
 * non-zero (an error, or a positive "enough") and returns that; 0 when
 * every shard was seen.
 */
int storage_reader_each_shard(struct storage_reader *r, uint64_t since, uint64_t until, bool newest_first,
			      int (*fn)(sqlite3 *db, void *ctx), void *ctx);
/*
 * The records stored after record rec of block in day's shard (with no
 * position, day 0: every record kept): how far a reader by cursor is behind.
 */
int storage_reader_records_after(struct storage_reader *r, uint32_t day, int64_t block, uint32_t rec,
				 uint64_t *ret);
/*
 * Walks every block in ingest order and checks the hash chain: each block's
 * prev_hash is the hash before it, and its hash is recomputed from its row
 * and the rows derived from it (chain.h), which must each name a block in
 * its place; each shard holds as many blocks as the catalogue counted. The
 * chain starts at the oldest block kept (retention removes whole shards).
 * Each problem found calls problem (up to max_problems); returns the number
 * of problems, or a negative errno if the store cannot be read.
 */
int storage_verify(struct storage_reader *r, uint64_t *ret_blocks, size_t max_problems,
		   void (*problem)(uint32_t day, int64_t block, const char *what, void *userdata),
		   void *userdata);

/*
 * Whether b, stored now (its result BLOCK_STORED), holds what may change an
 * alert: a probe result not ok or changed, or lines a log rule matched.
 * Steady ok results wait for the evaluator's timer.
 */
bool block_may_alert(const struct block_in *b);

#endif
