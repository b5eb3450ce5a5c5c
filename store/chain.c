/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "store/chain.h"
#include "common/macro.h"
#include "common/frame.h"

/* Each value: a type byte, then a little-endian 64-bit length or number, then the bytes. */
enum { T_INT = 'i', T_REAL = 'r', T_TEXT = 't', T_BLOB = 'b', T_NULL = 'n', T_ROW = '\n' };

static void put(struct chain_digest *d, uint8_t type, uint64_t n, const void *p, size_t len)
{
	uint8_t head[9] = { type };

	put_le64(head + 1, n);
	hash_add(d->c, head, sizeof(head));
	if (len)
		hash_add(d->c, p, len);
}

void chain_begin(struct chain_digest *d, enum hash_alg alg)
{
	d->c = hash_begin(alg);
}

void chain_int(struct chain_digest *d, int64_t v)
{
	put(d, T_INT, (uint64_t)v, NULL, 0);
}

void chain_real(struct chain_digest *d, double v)
{
	uint64_t bits;

	if (isnan(v)) {
		chain_null(d);
		return;
	}
	memcpy(&bits, &v, sizeof(bits));
	put(d, T_REAL, bits, NULL, 0);
}

void chain_text(struct chain_digest *d, const void *p, size_t len)
{
	if (!p)
		chain_null(d);
	else
		put(d, T_TEXT, len, p, len);
}

void chain_blob(struct chain_digest *d, const void *p, size_t len)
{
	if (!p)
		chain_null(d);
	else
		put(d, T_BLOB, len, p, len);
}

void chain_null(struct chain_digest *d)
{
	put(d, T_NULL, 0, NULL, 0);
}

void chain_row_end(struct chain_digest *d)
{
	put(d, T_ROW, 0, NULL, 0);
}

int chain_end(struct chain_digest *d, uint8_t out[SHA256_SIZE])
{
	int r = hash_end(d->c, out);

	d->c = NULL;
	return r;
}

void chain_block_begin(struct chain_digest *d, int64_t scheme, const uint8_t prev[SHA256_SIZE], uint32_t day)
{
	char name[32];
	int n = snprintf(name, sizeof(name), "vigil-block-%" PRId64, scheme);

	chain_begin(d, chain_alg(scheme));
	chain_blob(d, name, (size_t)n);
	chain_blob(d, prev, SHA256_SIZE);
	chain_int(d, day);
}

int chain_shared_hash(enum hash_alg alg, const uint8_t prev[HASH_SIZE], const struct chain_shared_block *b,
		      uint8_t out[HASH_SIZE])
{
	static const char name[] = "vigil-shared-block-1";
	struct chain_digest d;

	chain_begin(&d, alg);
	chain_blob(&d, name, sizeof(name) - 1);
	chain_blob(&d, prev, HASH_SIZE);
	chain_text(&d, b->chain, strlen(b->chain));
	chain_int(&d, b->pos);
	chain_int(&d, b->day);
	chain_blob(&d, b->agent, AGENT_ID_SIZE);
	chain_int(&d, (int64_t)b->seq);
	chain_text(&d, b->host, b->host ? strlen(b->host) : 0);
	chain_int(&d, (int64_t)b->received);
	chain_int(&d, (int64_t)b->ts_min);
	chain_int(&d, (int64_t)b->ts_max);
	chain_int(&d, b->records);
	chain_int(&d, b->raw_len);
	chain_blob(&d, b->digest, HASH_SIZE);
	chain_blob(&d, b->filter, b->filter_len);
	if (!b->streams)
		chain_null(&d);
	else
		chain_int(&d, (int64_t)b->n_streams);
	for (size_t i = 0; b->streams && i < b->n_streams; i++)
		chain_text(&d, b->streams[i], strlen(b->streams[i]));
	return chain_end(&d, out);
}
