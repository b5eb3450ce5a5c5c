/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_CHAIN_H
#define VIGIL_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "common/sha256.h"

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
 * frame only.
 */
#define CHAIN_SCHEME 4

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

/* How many of the tables a block of scheme (2 to 4) chains: the first ones. */
static inline int chain_tables(int64_t scheme)
{
	return scheme >= 4 ? _CHAIN_TABLES : scheme == 3 ? CHAIN_LOGMETRICS : CHAIN_INDEX;
}

/* A digest being fed; begun NULL-safe: a failed begin is reported by chain_end(). */
struct chain_digest {
	struct sha256_ctx *c;
};

void chain_begin(struct chain_digest *d);
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

/* A block's digest begun with its scheme (2 to 4), the hash before it and its day; its columns follow. */
void chain_block_begin(struct chain_digest *d, int64_t scheme, const uint8_t prev[SHA256_SIZE], uint32_t day);

#endif
