/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_PGBLOCKS_H
#define VIGIL_PGBLOCKS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/hash.h"
#include "store/blocks.h"
#include "store/chain.h"
#include "store/pg.h"
#include "store/pgstore.h"

/*
 * The blocks on PostgreSQL (docs/scale.md): the second owner of `blocks`,
 * beside blocks.c's SQLite shards. `blocks` is partitioned by day of
 * ingest (retention drops whole partitions); `block_seqs` holds (agent,
 * seq) once, unique across every collector writing to the database, in
 * the same transaction as its block: a batch an agent sends again to
 * another collector after a failover is a duplicate there.
 *
 * Each block carries the id of the transaction that wrote it, and the
 * pull cursor is (transaction, block id): a reader sees only blocks of
 * transactions older than the oldest one still running, so a block that
 * commits after one with a larger id is never skipped; blocks of one
 * transaction appear together. This file alone holds SQL that names the
 * tables.
 */

/* Creates the tables (idempotent, for several collectors starting at once). */
int pgblocks_schema(PGconn *c, const struct pg_dialect *d);
/*
 * Whether alg is the digest the database's (agent, seq) rows are judged
 * by (recorded by the first collector): 0, or -EXDEV with the one recorded
 * in theirs. A batch sent again to a collector of another digest would
 * read as another batch under its number, refused.
 */
int pgblocks_digest_agree(PGconn *c, enum hash_alg alg, char *theirs, size_t size);
/* Makes the partition of day if it is not there: outside a transaction that writes, before the first block of the day. */
int pgblocks_prepare_day(PGconn *c, const struct pg_dialect *d, uint32_t day);

/*
 * The chain a collector's run writes its blocks in (store/chain.h): named
 * at random when the run starts, so no two writers ever share one, each
 * block naming the hash before it. `block_chains` holds every chain's
 * head, moved with its blocks in the same transaction: a chain cut short
 * at its end is seen there, and the seals can bind it.
 */
struct pgblocks_chain {
	char name[CHAIN_SHARED_NAME];
	enum hash_alg alg;
	int64_t pos;             /* the last block's place, 0 before the first */
	uint8_t head[HASH_SIZE]; /* its hash; zeros before the first */
	uint32_t day;            /* its day */
};
/* A new chain of alg: 0, or random_bytes()' error. */
int pgblocks_chain_init(struct pgblocks_chain *k, enum hash_alg alg);

/*
 * Stores b in the caller's transaction, in day's partition: BLOCK_STORED
 * (b->block_id set; k moved on past it), BLOCK_DUPLICATE (the same frame
 * is stored under its (agent, seq)) or BLOCK_CONFLICT (another frame is)
 * into b->result. k is the caller's copy until its transaction commits.
 */
int pgblocks_store(PGconn *c, uint32_t day, struct block_in *b, struct pgblocks_chain *k);
/*
 * Records k's head in the caller's transaction, the chain having been at
 * before (0: new) when it began, of the collector named (a log's name)
 * and started then; -ESTALE when the head found is not before: another
 * writer of that chain moved it.
 */
int pgblocks_chain_commit(PGconn *c, const struct pgblocks_chain *k, int64_t before, const char *collector,
			  uint64_t started_us);

/* The hash of block pos of chain into ret_hash: 0, -ENOENT if there is none (the seals' check). */
int pgblocks_chain_hash_of(PGconn *c, const char *chain, int64_t pos, uint8_t ret_hash[HASH_SIZE]);
/* pgstore_verify_chains()'s walk (pgstore.h). */
int pgblocks_verify_chains(PGconn *c, struct pgstore_chains_check *v);

/*
 * Retention: drops the partitions of days before cutoff (whole, as SQLite
 * shard files go) and their (agent, seq) rows; how many days went into
 * *ret_days.
 */
int pgblocks_retention(PGconn *c, uint32_t cutoff, unsigned *ret_days);

/* Where a reader is: after the block id of transaction xid. Zero: before the first. */
struct pg_cursor {
	uint64_t xid;
	int64_t id;
};

/* A block as a reader gets it; pointers valid until the next call or pgblocks_page_free(). */
struct pg_block {
	struct pg_cursor at;
	uint32_t day;
	const uint8_t *agent; /* AGENT_ID_SIZE bytes */
	uint64_t seq;
	uint32_t records;
};

/*
 * Up to limit blocks after *cur, in cursor order, each to fn (a non-zero
 * answer stops, returned); *cur advances past each. How many were given
 * into *ret_n. Only blocks of finished transactions are given.
 */
int pgblocks_after(PGconn *c, const struct pg_dialect *d, struct pg_cursor *cur, unsigned limit, int (*fn)(const struct pg_block *b, void *ctx),
		   void *ctx, unsigned *ret_n);

/*
 * What a search of the blocks asks (the log API's; store/logquery.c): a
 * page of up to limit blocks from from on (newest first: back from it),
 * the cursor's own block included, of host (a name or an agent id in hex),
 * holding source (NULL: any), overlapping since..until (until 0: open). In ingest order only blocks
 * of finished transactions are given (pgblocks_after()'s horizon).
 */
struct pgblocks_select {
	struct pg_cursor from;
	bool newest_first;
	const char *host;
	const char *source;
	uint64_t since, until;
	unsigned limit;
};
/*
 * fn for each block q selects, in cursor order; its frame is read on
 * demand (blocks_row_frame()), one at a time. A non-zero answer of fn
 * stops and is returned. How many were given into *ret_n; the last one's
 * place into *ret_last.
 */
int pgblocks_select(PGconn *c, const struct pg_dialect *d, const struct pgblocks_select *q,
		    int (*fn)(const struct block_row *b, void *ctx), void *ctx, unsigned *ret_n, struct pg_cursor *ret_last);

/* 1 when b's (agent, seq) is stored with a frame whose SHA-256 is b->digest (recomputed from the stored bytes), else 0. */
int pgblocks_has(PGconn *c, const struct block_in *b);

/* The state of each of the n copies (pgstore.h), in one statement (the digests recomputed by the database from what it stores). */
int pgblocks_check(PGconn *c, struct pgstore_copy *v, size_t n);

/* -ERANGE if the cursor's block (with record rec) was never stored: past the newest, or past its last record. */
int pgblocks_cursor_check(PGconn *c, const struct pg_cursor *at, uint32_t rec);
/* How many records are stored after record rec of block at (a forwarder's behind), into *ret. */
int pgblocks_records_after(PGconn *c, const struct pg_cursor *at, uint32_t rec, uint64_t *ret);

#endif
