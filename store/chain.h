/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_CHAIN_H
#define VIGIL_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "common/hash.h"

/*
 * What the hash chain over stored blocks covers, and how (docs/storage.md,
 * Verification). Pure: the writer feeds it the values it binds, the
 * verifier the values it reads, in the same order.
 *
 * Scheme 4 (CHAIN_SCHEME): a block's hash is
 *   SHA-256("vigil-block-4" | prev_hash | day |
 *           every column of its row but the hash, typed | SHA-256(frame) |
 *           one digest per table of rows derived from it)
 * and a table's digest is SHA-256 over its rows of the block, in the order
 * they were stored, every value typed (integer, real, text, blob, null) and
 * length-prefixed, so no two different rows or columns hash alike. Scheme 3
 * is the same without the log metrics' rows (CHAIN_LOGMETRICS), scheme 2
 * without the block's index (CHAIN_INDEX) too, each named "vigil-block-N";
 * scheme 1 (blocks stored before) covered the agent, the sequence and the
 * frame only. Scheme 5 is scheme 4 with SM3 for every digest in it (the
 * frame's and the tables' too), "vigil-block-5": what a store whose
 * [storage] hash=sm3 writes from its first block on.
 */
#define CHAIN_SCHEME 4
#define CHAIN_SCHEME_SM3 5

/* The scheme a store hashing with alg writes. */
static inline int64_t chain_scheme(enum hash_alg alg)
{
	return alg == HASH_SM3 ? CHAIN_SCHEME_SM3 : CHAIN_SCHEME;
}

/* The digest of a scheme's blocks. */
static inline enum hash_alg chain_alg(int64_t scheme)
{
	return scheme == CHAIN_SCHEME_SM3 ? HASH_SM3 : HASH_SHA256;
}

/* The tables of rows derived from a block, in the order their digests are chained. */
enum chain_table {
	CHAIN_STREAMS,
	CHAIN_PROBES,
	CHAIN_DIALTESTS,
	CHAIN_METRICS,
	CHAIN_MATCHES,
	CHAIN_INDEX,      /* from scheme 3 */
	CHAIN_LOGMETRICS, /* from scheme 4 */
	_CHAIN_TABLES,
};

/* How many of the tables a block of scheme (2 to 5) chains: the first ones. */
static inline int chain_tables(int64_t scheme)
{
	return scheme >= 4 ? _CHAIN_TABLES : scheme == 3 ? CHAIN_LOGMETRICS : CHAIN_INDEX;
}

/* A digest being fed; begun NULL-safe: a failed begin is reported by chain_end(). */
struct chain_digest {
	struct hash_ctx *c;
};

void chain_begin(struct chain_digest *d, enum hash_alg alg);
void chain_int(struct chain_digest *d, int64_t v);
/* NaN goes as null: that is what SQLite stores for it. */
void chain_real(struct chain_digest *d, double v);
/* p NULL: null. */
void chain_text(struct chain_digest *d, const void *p, size_t len);
/* p NULL: null (what SQLite stores for a blob bound from NULL). */
void chain_blob(struct chain_digest *d, const void *p, size_t len);
void chain_null(struct chain_digest *d);
/* Ends a row: rows of different lengths never run together. */
void chain_row_end(struct chain_digest *d);
/* Writes the digest and ends d: 0, or -ENOMEM when hashing failed on the way. */
int chain_end(struct chain_digest *d, uint8_t out[SHA256_SIZE]);

/* A block's digest begun with its scheme (2 to 5), the hash before it and its day; its columns follow. */
void chain_block_begin(struct chain_digest *d, int64_t scheme, const uint8_t prev[SHA256_SIZE], uint32_t day);

/*
 * A block in the shared store (PostgreSQL, docs/scale.md): each collector's
 * run writes a chain of its own there, named at random when it starts, so
 * that writers never wait for each other's previous hash. Its hash is
 *   H("vigil-shared-block-1" | prev_hash | chain | pos | day | agent | seq |
 *     host | received | ts_min | ts_max | records | raw_len | H(frame) |
 *     filter | how many streams | each stream)
 * with H the chain's digest (SHA-256 or SM3) for the frame's too, every
 * value typed as above;
 * the database's own keys (id, transaction) are not in it: they order the
 * pull cursor, not what was received.
 */
/* A shared chain's name: 32 hex digits, drawn at random. */
#define CHAIN_SHARED_NAME 33

struct chain_shared_block {
	const char *chain;
	int64_t pos; /* 1 for the chain's first block */
	uint32_t day;
	const uint8_t *agent; /* AGENT_ID_SIZE bytes */
	uint64_t seq;
	const char *host; /* NULL: none named */
	uint64_t received, ts_min, ts_max;
	uint32_t records, raw_len;
	const uint8_t *digest; /* H(frame) with the chain's digest, HASH_SIZE bytes */
	const uint8_t *filter; /* NULL: not indexed */
	size_t filter_len;
	const char *const *streams; /* as stored: sorted, each once; NULL: none stored (null) */
	size_t n_streams;
};

/* b's hash after prev into out: 0, or -ENOMEM. */
int chain_shared_hash(enum hash_alg alg, const uint8_t prev[HASH_SIZE], const struct chain_shared_block *b,
		      uint8_t out[HASH_SIZE]);

#endif
