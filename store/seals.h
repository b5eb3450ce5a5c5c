/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_SEALS_H
#define VIGIL_SEALS_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hash.h"
#include "store/chain.h"
#include "store/sealkey.h"

/*
 * The seals (docs/storage.md, Seals), in meta.db's `seals`: each binds
 * where one day's block chain stood (its newest block and its hash, and how
 * many blocks the day held), where the audit log's chain stood and, on a
 * shared store, where this collector's chain there stood, under a
 * key the store does not hold (store/sealkey.h), and chains to the seal
 * before it. This file alone holds SQL that names the table.
 *
 * What is sealed is the text seal_message() writes, one "name=value" a
 * line; the signature is over those bytes exactly, so a copy kept outside
 * (the security center's) can be checked with openssl alone.
 */
#define SEAL_MESSAGE_MAX 1024

struct seal {
	int64_t id;
	uint64_t made;      /* µs since the epoch */
	uint32_t day;       /* the shard's; 0: the store held no block yet */
	int64_t blocks;     /* how many the day's shard held */
	int64_t last_block; /* its newest block's id (0: none) */
	uint8_t head[HASH_SIZE];
	int64_t audit_id; /* the audit log's newest row (0: none) */
	uint8_t audit_head[HASH_SIZE];
	char shared_chain[CHAIN_SHARED_NAME]; /* the chain this collector writes in the shared store (pgblocks.h); "": none */
	int64_t shared_pos;    /* its last block's place */
	uint8_t shared_head[HASH_SIZE];
	bool closed;      /* the day had ended: its last seal */
	char chain[8];    /* the chains' digest: "sha256" or "sm3" */
	char method[12];  /* sealkey_method() */
	char key_id[17];  /* sealkey_id() */
	uint8_t prev[HASH_SIZE]; /* SM3 of the seal before (its message, then its signature); zeros for the first */
	uint8_t sig[SEALKEY_SIG_MAX];
	size_t sig_len;
};

int seals_schema(sqlite3 *meta);

/* The sealed text of s (every field but sig) into buf; its length, or -E2BIG. */
int seal_message(const struct seal *s, char *buf, size_t size);
/* SM3(message | sig) of s: what the next seal's prev is. */
int seal_link(const struct seal *s, uint8_t out[HASH_SIZE]);

/* The newest seal (of day, or of any day when day is 0) into *ret: 1, 0 if none, or a negative errno. */
int seals_newest(sqlite3 *meta, uint32_t day, struct seal *ret);
/* Appends s, whose id must be the newest's + 1 (the caller's transaction). */
int seals_insert(sqlite3 *meta, const struct seal *s);
/*
 * fn(seal, ctx) for up to limit seals with ids above after, oldest first
 * (limit 0: all); stops at the first fn that returns non-zero and returns it.
 */
int seals_each(sqlite3 *meta, int64_t after, unsigned limit, int (*fn)(const struct seal *s, void *ctx), void *ctx);
/*
 * Up to limit seals after id after, oldest first, as the API and the
 * forwarders give them: a new JSON array in *items of each seal's fields
 * (hashes and the signature in hex, made as RFC 3339 and ts in µs) and the
 * exact text sealed as message; the last one's id in *last (after: none).
 */
int seals_page(sqlite3 *meta, int64_t after, unsigned limit, json_t **items, int64_t *last);

#endif
