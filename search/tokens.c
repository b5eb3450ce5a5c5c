/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "search/tokens.h"

/* What a token is, mixed into its hash: a word and a field never collide by construction. */
enum { KIND_WORD = 1, KIND_CHAR, KIND_PAIR, KIND_FIELD };

/* Bits per distinct token and hashes per token: about 2 % false positives (Bloom: (1 - e^(-k/b))^k). */
#define BITS_PER_TOKEN 8
#define HASHES 5
#define HEADER 2

/* FNV-1a, 64 bits, over (kind, bytes), then splitmix64's finalizer: every input bit reaches every output bit. */
#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)

static inline uint64_t mix(uint64_t h)
{
	h ^= h >> 30;
	h *= UINT64_C(0xbf58476d1ce4e5b9);
	h ^= h >> 27;
	h *= UINT64_C(0x94d049bb133111eb);
	return h ^ (h >> 31);
}

static inline uint64_t hash_byte(uint64_t h, uint8_t c)
{
	return (h ^ c) * FNV_PRIME;
}

static uint64_t hash_bytes(uint64_t h, const uint8_t *p, size_t len, bool fold)
{
	for (size_t i = 0; i < len; i++)
		h = hash_byte(h, fold ? tokens_fold(p[i]) : p[i]);
	return h;
}

static inline uint64_t hash_begin(int kind)
{
	return hash_byte(FNV_OFFSET, (uint8_t)kind);
}

/*
 * The length of the unit at p outside ASCII: a whole UTF-8 sequence, or
 * what there is of a broken one (a lead byte and the continuation bytes that
 * follow it, or one stray byte). *ok says whether it was whole.
 */
static size_t unit_len(const uint8_t *p, size_t left, bool *ok)
{
	uint8_t c = p[0];
	size_t want = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 1, n = 1;

	if (c >= 0xf5)
		want = 1;
	while (n < want && n < left && (p[n] & 0xc0) == 0x80)
		n++;
	*ok = n == want && want > 1;
	return n;
}

/*
 * Walks text: fn for each word, and for each character outside ASCII (chars)
 * and each pair of neighbours in a run (pairs). *ok set false on a broken
 * sequence.
 */
static void walk(const uint8_t *t, size_t len, bool chars, bool lone_chars, token_fn fn, void *ctx, bool *ok)
{
	size_t i = 0;

	while (i < len) {
		if (tokens_word_byte(t[i])) {
			size_t s = i;
			while (i < len && tokens_word_byte(t[i]))
				i++;
			fn(mix(hash_bytes(hash_begin(KIND_WORD), t + s, i - s, true)), ctx);
		} else if (t[i] < 0x80) {
			i++;
		} else {
			/* A run outside ASCII: its characters and pairs. */
			const uint8_t *prev = NULL;
			size_t prev_len = 0, run = 0, first = i, first_len = 0;
			while (i < len && t[i] >= 0x80) {
				bool whole;
				size_t n = unit_len(t + i, len - i, &whole);
				if (!whole)
					*ok = false;
				if (chars)
					fn(mix(hash_bytes(hash_begin(KIND_CHAR), t + i, n, false)), ctx);
				if (prev)
					fn(mix(hash_bytes(hash_bytes(hash_begin(KIND_PAIR), prev, prev_len, false), t + i, n, false)),
					   ctx);
				if (!run++)
					first_len = n;
				prev = t + i;
				prev_len = n;
				i += n;
			}
			if (!chars && lone_chars && run == 1)
				fn(mix(hash_bytes(hash_begin(KIND_CHAR), t + first, first_len, false)), ctx);
		}
	}
}

void tokens_of_text(const uint8_t *text, size_t len, token_fn fn, void *ctx)
{
	bool ok = true;

	walk(text, len, true, false, fn, ctx, &ok);
}

/* A token_fn that drops what it is given: the needle's first walk only checks it. */
static void ignore(uint64_t hash, void *ctx)
{
	(void)hash;
	(void)ctx;
}

bool tokens_of_needle(const uint8_t *text, size_t len, token_fn fn, void *ctx)
{
	bool ok = true;

	walk(text, len, false, true, ignore, NULL, &ok);
	if (ok)
		walk(text, len, false, true, fn, ctx, &ok);
	return ok;
}

static bool key_is(const char *key, size_t len, const char *name)
{
	return len == strlen(name) && memcmp(key, name, len) == 0;
}

static bool key_ends(const char *key, size_t len, const char *tail)
{
	size_t n = strlen(tail);

	return len >= n && memcmp(key + len - n, tail, n) == 0;
}

bool tokens_field_indexed(const char *key, size_t key_len)
{
	/* "__" fields are the journal's addresses (cursor, monotonic time, seqnum): unique per line. */
	return !key_is(key, key_len, "MESSAGE") && !(key_len >= 2 && key[0] == '_' && key[1] == '_') &&
	       !key_ends(key, key_len, "_TIMESTAMP") && !key_ends(key, key_len, "_USEC");
}

uint64_t tokens_of_field(const char *key, size_t key_len, const uint8_t *value, size_t len)
{
	uint64_t h = hash_bytes(hash_begin(KIND_FIELD), (const uint8_t *)key, key_len, false);

	return mix(hash_bytes(hash_byte(h, '='), value, len, true));
}

struct tokens_builder {
	uint64_t *slots; /* open addressing; 0 marks a free slot (a token hashing to 0 is has_zero) */
	size_t cap, count;
	bool has_zero, overflow;
};

struct tokens_builder *tokens_builder_new(void)
{
	struct tokens_builder *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->cap = 1024;
	b->slots = calloc(b->cap, sizeof(*b->slots));
	if (!b->slots) {
		free(b);
		return NULL;
	}
	return b;
}

void tokens_builder_free(struct tokens_builder *b)
{
	if (!b)
		return;
	free(b->slots);
	free(b);
}

void tokens_builder_reset(struct tokens_builder *b)
{
	memset(b->slots, 0, b->cap * sizeof(*b->slots));
	b->count = 0;
	b->has_zero = b->overflow = false;
}

static void put(uint64_t *slots, size_t cap, uint64_t h)
{
	size_t i = (size_t)h & (cap - 1);

	while (slots[i] && slots[i] != h)
		i = (i + 1) & (cap - 1);
	slots[i] = h;
}

/* Twice the slots, every token moved over; false when that cannot be had. */
static bool grow(struct tokens_builder *b)
{
	size_t cap = b->cap * 2;
	uint64_t *s;

	if (cap / 2 > TOKENS_DISTINCT_MAX || !(s = calloc(cap, sizeof(*s))))
		return false;
	for (size_t i = 0; i < b->cap; i++)
		if (b->slots[i])
			put(s, cap, b->slots[i]);
	free(b->slots);
	b->slots = s;
	b->cap = cap;
	return true;
}

void tokens_builder_add(uint64_t h, void *ctx)
{
	struct tokens_builder *b = ctx;
	size_t i;

	if (h == 0) {
		b->count += !b->has_zero;
		b->has_zero = true;
		return;
	}
	if (b->overflow)
		return;
	if (2 * (b->count + 1) > b->cap && !grow(b)) {
		b->overflow = true;
		return;
	}
	for (i = (size_t)h & (b->cap - 1); b->slots[i]; i = (i + 1) & (b->cap - 1))
		if (b->slots[i] == h)
			return;
	b->slots[i] = h;
	b->count++;
}

size_t tokens_builder_count(const struct tokens_builder *b)
{
	return b->count;
}

/* The k bit positions of h in a filter of m bits (Kirsch and Mitzenmacher: two hashes make k). */
static inline uint64_t bit_at(uint64_t h, unsigned i, uint64_t m)
{
	uint32_t x = (uint32_t)h + i * ((uint32_t)(h >> 32) | 1);

	return ((uint64_t)x * m) >> 32;
}

static void set_bits(uint8_t *bits, uint64_t m, uint64_t h)
{
	for (unsigned i = 0; i < HASHES; i++) {
		uint64_t at = bit_at(h, i, m);
		bits[at / 8] |= (uint8_t)(1u << (at % 8));
	}
}

int tokens_builder_write(const struct tokens_builder *b, uint8_t **ret, size_t *ret_len)
{
	size_t bytes = (b->count * BITS_PER_TOKEN + 63) / 64 * 8;
	uint8_t *blob;

	if (b->overflow)
		return -E2BIG;
	if (bytes < 8)
		bytes = 8;
	blob = calloc(1, HEADER + bytes);
	if (!blob)
		return -ENOMEM;
	blob[0] = TOKENS_VERSION;
	blob[1] = HASHES;
	for (size_t i = 0; i < b->cap; i++)
		if (b->slots[i])
			set_bits(blob + HEADER, (uint64_t)bytes * 8, b->slots[i]);
	if (b->has_zero)
		set_bits(blob + HEADER, (uint64_t)bytes * 8, 0);
	*ret = blob;
	*ret_len = HEADER + bytes;
	return 0;
}

bool tokens_filter_has(const uint8_t *blob, size_t len, uint64_t h)
{
	uint64_t m;

	if (len <= HEADER || blob[0] != TOKENS_VERSION || blob[1] == 0 || blob[1] > 16)
		return true;
	m = (uint64_t)(len - HEADER) * 8;
	for (unsigned i = 0; i < blob[1]; i++) {
		uint64_t at = bit_at(h, i, m);
		if (!(blob[HEADER + at / 8] & (1u << (at % 8))))
			return false;
	}
	return true;
}
