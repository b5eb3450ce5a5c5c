/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_TOKENS_H
#define VIGIL_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * What a block's index holds and a query asks it (docs/logs.md, "The
 * index"). Pure: the index at ingest and the query at search feed the same
 * functions, so a token a line has is the token a query looks for.
 *
 * Text (a MESSAGE) is cut into units: runs of ASCII letters, digits and '_'
 * (folded to lower case) are words; every other ASCII byte separates;
 * outside ASCII, each character and each pair of neighbouring characters of
 * a run is a token (Chinese has no spaces: "登录失败" holds "登录", "录失",
 * "失败" and each character, so a query for "失败" can be asked of the
 * index). A field is one token: its name and its value, folded.
 *
 * Every token is a 64-bit hash (its kind mixed in). The hash is part of the
 * stored format: changing it needs a new index version (TOKENS_VERSION).
 */
#define TOKENS_VERSION 1

typedef void (*token_fn)(uint64_t hash, void *ctx);

/* fn for each token of text. */
void tokens_of_text(const uint8_t *text, size_t len, token_fn fn, void *ctx);
/*
 * fn for the tokens that text found as a word or phrase in a line (search.h's
 * match rule) must have there: its words whole, and of each run outside ASCII
 * its pairs (its character, when alone). False, with nothing called, when
 * text is not valid UTF-8 (then it asks the index nothing).
 */
bool tokens_of_needle(const uint8_t *text, size_t len, token_fn fn, void *ctx);

/* Whether a field is indexed: not the message (its text is) nor the time stamps that differ every line. */
bool tokens_field_indexed(const char *key, size_t key_len);
/* The token of field key (upper case, as stored) holding value (folded here). */
uint64_t tokens_of_field(const char *key, size_t key_len, const uint8_t *value, size_t len);
/* Values longer than this are not indexed (a query for one asks the index nothing). */
#define TOKENS_VALUE_MAX 256

/* ASCII letters, digits, '_': what a word is made of. */
static inline bool tokens_word_byte(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static inline uint8_t tokens_fold(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

/*
 * A block's index: a Bloom filter over its tokens. Made by adding the
 * tokens and then written as a blob, sized by how many differed (an
 * estimate within a few per cent); asked straight from the blob.
 */
struct tokens_builder;
/* NULL when out of memory. Owned by the caller: tokens_builder_free(). */
struct tokens_builder *tokens_builder_new(void);
void tokens_builder_free(struct tokens_builder *b);
/* Forgets what was added: the builder is reused across batches. */
void tokens_builder_reset(struct tokens_builder *b);
/*
 * token_fn-shaped: ctx is the builder. It keeps each token not repeated
 * close by, at most TOKENS_KEPT_MAX (past that, nothing more is kept and no
 * filter can be written).
 */
void tokens_builder_add(uint64_t hash, void *ctx);
#define TOKENS_KEPT_MAX (1u << 22)
/* About how many distinct tokens were added (within a few per cent; exact when none). */
size_t tokens_builder_count(const struct tokens_builder *b);
/*
 * The filter, into *ret (malloc'ed, the caller's) of *ret_len bytes: a
 * version byte, the number of hashes per token, then the bits. -ENOMEM, or
 * -E2BIG when more were kept than the bound (no index: the block is
 * scanned).
 */
int tokens_builder_write(const struct tokens_builder *b, uint8_t **ret, size_t *ret_len);

/* Whether the filter blob may hold hash (false: it surely does not). A blob it cannot read may hold anything. */
bool tokens_filter_has(const uint8_t *blob, size_t len, uint64_t hash);

#endif
