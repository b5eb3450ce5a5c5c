/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "common/macro.h"
#include "common/util.h"
#include "store/blocks.h"
#include "store/chain.h"
#include "store/shards.h"
#include "store/storage.h"

/*
 * The chain's verifier: walks every shard's blocks in ingest order, and the
 * rows derived from them alongside, hashing them as the writer did
 * (chain.h). What it reads comes from blocks.c; no SQL here.
 */

/* A walk of the chain over every shard, oldest block first. */
struct walk {
	uint8_t prev[SHA256_SIZE];
	bool started;
	uint64_t blocks;
	int problems;
	size_t max_problems;
	void (*problem)(uint32_t day, int64_t block, const char *what, void *userdata);
	void *userdata;
};

static void walk_problem(struct walk *w, uint32_t day, int64_t block, const char *what)
{
	if ((size_t)w->problems++ < w->max_problems)
		w->problem(day, block, what, w->userdata);
}

/* A column into a digest as what it holds. */
static void chain_column(struct chain_digest *d, sqlite3_stmt *st, int col)
{
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_INTEGER:
		chain_int(d, sqlite3_column_int64(st, col));
		break;
	case SQLITE_FLOAT:
		chain_real(d, sqlite3_column_double(st, col));
		break;
	case SQLITE_TEXT:
		chain_text(d, sqlite3_column_text(st, col), (size_t)sqlite3_column_bytes(st, col));
		break;
	case SQLITE_BLOB:
		chain_blob(d, sqlite3_column_blob(st, col), (size_t)sqlite3_column_bytes(st, col));
		break;
	default:
		chain_null(d);
	}
}

/*
 * A derived table read in the order it was written, alongside the blocks:
 * its rows of each block are hashed as the writer hashed them.
 */
struct rows {
	enum chain_table t;
	sqlite3_stmt *st;
	bool more;
	int64_t block; /* of the current row; INT64_MIN for a row from before rows named their block */
};

static void rows_next(struct rows *rw)
{
	rw->more = sqlite3_step(rw->st) == SQLITE_ROW;
	rw->block = !rw->more ? INT64_MAX : sqlite3_column_type(rw->st, 0) == SQLITE_NULL ? INT64_MIN :
								       sqlite3_column_int64(rw->st, 0);
}

static int rows_open(sqlite3 *db, enum chain_table t, struct rows *ret)
{
	int r;

	*ret = (struct rows){ .t = t };
	r = blocks_derived_open(db, t, &ret->st);
	if (r == 0)
		rows_next(ret);
	return r;
}

/*
 * The digest of the rows of block (scheme 2 and on) in one table. Rows before it
 * belong to older blocks (scheme 1: not hashed, skipped) or are out of
 * place: added, moved, or left by a block removed.
 */
static int rows_digest(struct walk *w, uint32_t day, struct rows *rw, int64_t block, int64_t last_v1,
		       enum hash_alg alg, uint8_t out[SHA256_SIZE])
{
	struct chain_digest d;
	char what[160];

	for (; rw->more && rw->block < block; rows_next(rw)) {
		if (rw->block == INT64_MIN || rw->block <= last_v1)
			continue;
		(void)snprintf(what, sizeof(what), "a row of %s names block %" PRId64 ", which is not before it: "
			       "rows were added, moved, or left by a removed block", blocks_derived_name(rw->t), rw->block);
		walk_problem(w, day, block, what);
	}
	chain_begin(&d, alg);
	for (; rw->more && rw->block == block; rows_next(rw)) {
		for (int c = 1; c <= blocks_derived_columns(rw->t); c++)
			chain_column(&d, rw->st, c);
		chain_row_end(&d);
	}
	return chain_end(&d, out);
}

/* Scheme 1: hash = SHA-256(prev | agent | seq | SHA-256(frame)). */
static int hash_v1(sqlite3_stmt *st, const void *prev, uint8_t out[SHA256_SIZE])
{
	const char *agent_hex = (const char *)sqlite3_column_text(st, BLOCK_COL_AGENT);
	uint8_t agent[AGENT_ID_SIZE], seq_le[8], digest[SHA256_SIZE];

	if (!agent_hex || hex_decode(agent_hex, agent, sizeof(agent)) < 0)
		return -EBADMSG;
	put_le64(seq_le, (uint64_t)sqlite3_column_int64(st, BLOCK_COL_SEQ));
	if (sha256(sqlite3_column_blob(st, BLOCK_COL_FRAME), (size_t)sqlite3_column_bytes(st, BLOCK_COL_FRAME), digest) < 0 ||
	    hash_v(HASH_SHA256, out, prev, (size_t)SHA256_SIZE, agent, sizeof(agent), seq_le, sizeof(seq_le), digest,
		     (size_t)SHA256_SIZE, NULL) < 0)
		return -ENOMEM;
	return 0;
}

/* Schemes 2 to 5 (chain.h): every column of the row, the frame, and the rows of each derived table it chains. */
static int hash_chained(struct walk *w, uint32_t day, sqlite3_stmt *st, int64_t scheme, const void *prev,
			struct rows *rows, int64_t last_v1, uint8_t out[SHA256_SIZE])
{
	int64_t id = sqlite3_column_int64(st, BLOCK_COL_ID);
	uint8_t frame[SHA256_SIZE], digests[_CHAIN_TABLES][SHA256_SIZE];
	struct chain_digest d;
	int r = hash_digest(chain_alg(scheme), sqlite3_column_blob(st, BLOCK_COL_FRAME),
			    (size_t)sqlite3_column_bytes(st, BLOCK_COL_FRAME), frame);

	for (int t = 0; r == 0 && t < chain_tables(scheme); t++)
		r = rows_digest(w, day, &rows[t], id, last_v1, chain_alg(scheme), digests[t]);
	if (r < 0)
		return r;
	chain_block_begin(&d, scheme, prev, day);
	for (int c = 0; c < BLOCK_COLS_HASHED; c++)
		chain_column(&d, st, c);
	chain_blob(&d, frame, SHA256_SIZE);
	for (int t = 0; t < chain_tables(scheme); t++)
		chain_blob(&d, digests[t], SHA256_SIZE);
	return chain_end(&d, out);
}

/* Checks one block row (BLOCK_COL_*) against the chain; last_v1: the newest scheme 1 block so far. */
static void verify_block(struct walk *w, uint32_t day, sqlite3_stmt *st, struct rows *rows, int64_t *last_v1)
{
	int64_t id = sqlite3_column_int64(st, BLOCK_COL_ID), scheme = sqlite3_column_int64(st, BLOCK_COL_CHAIN);
	const void *prev = sqlite3_column_blob(st, BLOCK_COL_PREV_HASH), *hash = sqlite3_column_blob(st, BLOCK_COL_HASH);
	uint8_t want[SHA256_SIZE];
	int r;

	w->blocks++;
	if (sqlite3_column_bytes(st, BLOCK_COL_PREV_HASH) != SHA256_SIZE ||
	    sqlite3_column_bytes(st, BLOCK_COL_HASH) != SHA256_SIZE) {
		walk_problem(w, day, id, "malformed row");
		w->started = false;
		return;
	}
	if (w->started && memcmp(prev, w->prev, SHA256_SIZE) != 0)
		walk_problem(w, day, id, "prev_hash does not match the block before: a block was removed or replaced");
	if (scheme == 1)
		*last_v1 = id;
	r = scheme == 1			    ? hash_v1(st, prev, want) :
	    scheme >= 2 && scheme <= CHAIN_SCHEME_SM3 ? hash_chained(w, day, st, scheme, prev, rows, *last_v1, want) :
						    -EPROTONOSUPPORT;
	if (r == -ENOMEM)
		walk_problem(w, day, id, "out of memory while hashing");
	else if (r < 0 || memcmp(want, hash, SHA256_SIZE) != 0)
		walk_problem(w, day, id, "content does not match its hash: the block or a row derived from it was altered");
	/* Go on from the stored hash, so one bad block is reported once. */
	memcpy(w->prev, hash, SHA256_SIZE);
	w->started = true;
}

/* Rows left after the last block: no stored block is theirs. */
static void rows_left(struct walk *w, uint32_t day, struct rows *rows, int64_t last_v1)
{
	char what[160];

	for (int t = 0; t < _CHAIN_TABLES; t++)
		for (; rows[t].st && rows[t].more; rows_next(&rows[t]))
			if (rows[t].block != INT64_MIN && rows[t].block > last_v1) {
				(void)snprintf(what, sizeof(what), "a row of %s names block %" PRId64 ", which is not stored",
					       blocks_derived_name(t), rows[t].block);
				walk_problem(w, day, rows[t].block, what);
			}
}

/* Walks one shard's blocks, and (scheme 2 and on) their rows alongside, in one read transaction. */
static int verify_blocks(struct walk *w, sqlite3 *db, uint32_t day)
{
	bool v2 = blocks_chained(db);
	struct rows rows[_CHAIN_TABLES] = { 0 };
	int64_t last_v1 = 0;
	sqlite3_stmt *st = NULL;
	int k = db_exec(db, "BEGIN");

	/* A shard from before block_index (or logmetric_rows) has no rows of it: none to read. */
	for (int t = 0; k == 0 && v2 && t < _CHAIN_TABLES; t++)
		if (blocks_derived_present(db, t))
			k = rows_open(db, t, &rows[t]);
	if (k == 0)
		k = blocks_walk_open(db, &st);
	while (k == 0 && (k = sqlite3_step(st)) == SQLITE_ROW) {
		verify_block(w, day, st, rows, &last_v1);
		k = 0;
	}
	if (k == SQLITE_DONE) {
		k = 0;
		rows_left(w, day, rows, last_v1);
	} else if (k > 0) {
		k = db_errno(k);
	}
	sqlite3_finalize(st);
	for (int t = 0; t < _CHAIN_TABLES; t++)
		sqlite3_finalize(rows[t].st);
	(void)db_exec(db, "COMMIT");
	return k;
}

struct verify_walk {
	struct storage_reader *rd;
	struct walk w;
};

static int verify_shard(uint32_t day, int64_t counted, void *ctx)
{
	struct verify_walk *vw = ctx;
	struct walk *w = &vw->w;
	sqlite3 *db = storage_reader_shard(vw->rd, day);
	uint64_t before = w->blocks;
	int k;

	if (!db) {
		walk_problem(w, day, 0, "shard file missing or unreadable");
		return 0;
	}
	k = verify_blocks(w, db, day);
	if (k < 0)
		return k;
	/* More is fine (ingest goes on while we read); fewer means blocks were deleted. */
	if ((int64_t)(w->blocks - before) < counted)
		walk_problem(w, day, 0, "the shard holds fewer blocks than the catalogue counted: blocks were deleted");
	return 0;
}

int storage_verify(struct storage_reader *r, uint64_t *ret_blocks, size_t max_problems,
		   void (*problem)(uint32_t day, int64_t block, const char *what, void *userdata),
		   void *userdata)
{
	struct verify_walk vw = { .rd = r,
				  .w = { .max_problems = max_problems, .problem = problem, .userdata = userdata } };
	int k = shards_each_counted(storage_reader_meta(r), verify_shard, &vw);

	if (k < 0)
		return k;
	*ret_blocks = vw.w.blocks;
	return vw.w.problems;
}
