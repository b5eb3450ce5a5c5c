/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "search/tokens.h"

/* What a token is, mixed into its hash: a word and a field never collide by construction. */
enum { KIND_WORD = 1, KIND_CHAR, KIND_PAIR, KIND_FIELD };

/* Bits per distinct token and hashes per token: about 2 % false positives (Bloom: (1 - e^(-k/b))^k). */
#define BITS_PER_TOKEN 8
#define HASHES 5
#define HEADER 2

/*
 * A token's hash, fed a byte at a time and mixed 8 bytes at a time (most
 * tokens are one such word): a multiply per word, the length at the end
 * (so no two byte strings hash alike by construction), splitmix64's
 * finalizer (every input bit reaches every output bit).
 */
struct hasher {
	uint64_t h, w;
	size_t len;
};

#define K_WORD UINT64_C(0x9e3779b97f4a7c15)
#define K_LEN UINT64_C(0xc2b2ae3d27d4eb4f)

static inline uint64_t mix(uint64_t h)
{
	h ^= h >> 30;
	h *= UINT64_C(0xbf58476d1ce4e5b9);
	h ^= h >> 27;
	h *= UINT64_C(0x94d049bb133111eb);
	return h ^ (h >> 31);
}

static inline void hash_begin(struct hasher *s, int kind)
{
	*s = (struct hasher){ .h = (uint64_t)kind * K_LEN };
}

static inline void hash_byte(struct hasher *s, uint8_t c)
{
	s->w |= (uint64_t)c << (8 * (s->len & 7));
	if ((++s->len & 7) == 0) {
		s->h = (s->h ^ s->w) * K_WORD;
		s->h ^= s->h >> 32;
		s->w = 0;
	}
}

static inline void hash_bytes(struct hasher *s, const uint8_t *p, size_t len, bool fold)
{
	for (size_t i = 0; i < len; i++)
		hash_byte(s, fold ? tokens_fold(p[i]) : p[i]);
}

static inline uint64_t hash_end(struct hasher *s)
{
	return mix(((s->h ^ s->w) * K_WORD) ^ (s->len * K_LEN));
}

/* Each byte folded if it makes words (ASCII letters, digits, '_'), else 0. */
static const uint8_t word_folded[256] = {
	['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4', ['5'] = '5', ['6'] = '6', ['7'] = '7',
	['8'] = '8', ['9'] = '9', ['_'] = '_',
	['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f', ['g'] = 'g', ['h'] = 'h',
	['i'] = 'i', ['j'] = 'j', ['k'] = 'k', ['l'] = 'l', ['m'] = 'm', ['n'] = 'n', ['o'] = 'o', ['p'] = 'p',
	['q'] = 'q', ['r'] = 'r', ['s'] = 's', ['t'] = 't', ['u'] = 'u', ['v'] = 'v', ['w'] = 'w', ['x'] = 'x',
	['y'] = 'y', ['z'] = 'z',
	['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd', ['E'] = 'e', ['F'] = 'f', ['G'] = 'g', ['H'] = 'h',
	['I'] = 'i', ['J'] = 'j', ['K'] = 'k', ['L'] = 'l', ['M'] = 'm', ['N'] = 'n', ['O'] = 'o', ['P'] = 'p',
	['Q'] = 'q', ['R'] = 'r', ['S'] = 's', ['T'] = 't', ['U'] = 'u', ['V'] = 'v', ['W'] = 'w', ['X'] = 'x',
	['Y'] = 'y', ['Z'] = 'z',
};

/*
 * The length of the unit at p outside ASCII: a whole UTF-8 sequence, or
 * what there is of a broken one (a lead byte and the continuation bytes that
 * follow it, or one stray byte). *ok says whether it was whole.
 */
static size_t unit_len(const uint8_t *p, size_t left, bool *ok)
{
	uint8_t c = p[0];
	size_t want = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 1, n = 1;

	while (n < want && n < left && (p[n] & 0xc0) == 0x80)
		n++;
	*ok = n == want && want > 1;
	return n;
}

/* fn for the token of kind over the bytes a, then b (a character: b empty; a pair: both). */
static void emit(int kind, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, token_fn fn, void *ctx)
{
	struct hasher hs;

	hash_begin(&hs, kind);
	hash_bytes(&hs, a, alen, false);
	hash_bytes(&hs, b, blen, false);
	fn(hash_end(&hs), ctx);
}

/*
 * Walks text: fn for each word, and for each character outside ASCII (chars)
 * and each pair of neighbours in a run (pairs). *ok set false on a broken
 * sequence.
 */
static void walk(const uint8_t *t, size_t len, bool chars, bool lone_chars, token_fn fn, void *ctx, bool *ok)
{
	struct hasher hs;
	size_t i = 0;

	while (i < len) {
		if (word_folded[t[i]]) {
			hash_begin(&hs, KIND_WORD);
			do
				hash_byte(&hs, word_folded[t[i++]]);
			while (i < len && word_folded[t[i]]);
			fn(hash_end(&hs), ctx);
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
					emit(KIND_CHAR, t + i, n, NULL, 0, fn, ctx);
				if (prev)
					emit(KIND_PAIR, prev, prev_len, t + i, n, fn, ctx);
				if (!run++)
					first_len = n;
				prev = t + i;
				prev_len = n;
				i += n;
			}
			if (!chars && lone_chars && run == 1)
				emit(KIND_CHAR, t + first, first_len, NULL, 0, fn, ctx);
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
	struct hasher hs;

	/* Keys hold no '=' (A-Z, 0-9, _): "K" "=" "V" names one (key, value). */
	hash_begin(&hs, KIND_FIELD);
	hash_bytes(&hs, (const uint8_t *)key, key_len, false);
	hash_byte(&hs, '=');
	hash_bytes(&hs, value, len, true);
	return hash_end(&hs);
}

/* Tokens seen last, by their low bits: most of a batch's tokens repeat, and a repeat found here is not kept again. */
#define RECENT 4096
/* 2^SKETCH_BITS HyperLogLog registers (Flajolet et al.): how many kept tokens differ, within about 1.6 %. */
#define SKETCH_BITS 12
#define SKETCH (1u << SKETCH_BITS)

/*
 * A batch's tokens are kept in an array (a repeat further apart than recent
 * remembers is kept again) and counted by a sketch; the filter, sized by
 * the count, is made from the array. A set of the distinct tokens, the
 * other way, outgrows the caches at a busy batch's tens of thousands: each
 * token a miss, where here each is a write in order.
 */
struct tokens_builder {
	uint64_t *kept;
	size_t n, cap;
	bool overflow;
	uint64_t recent[RECENT];
	uint8_t sketch[SKETCH];
};

struct tokens_builder *tokens_builder_new(void)
{
	struct tokens_builder *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	tokens_builder_reset(b);
	return b;
}

void tokens_builder_free(struct tokens_builder *b)
{
	if (!b)
		return;
	free(b->kept);
	free(b);
}

void tokens_builder_reset(struct tokens_builder *b)
{
	/* A slot holds a token that cannot be there (not its index's low bits) until one is put in it. */
	for (size_t i = 0; i < RECENT; i++)
		b->recent[i] = i ^ 1;
	memset(b->sketch, 0, sizeof(b->sketch));
	b->n = 0;
	b->overflow = false;
}

/* Twice the room, up to the bound; false when that cannot be had. */
static bool grow(struct tokens_builder *b)
{
	size_t cap = b->cap ? b->cap * 2 : 4096;
	uint64_t *k;

	if (b->cap >= TOKENS_KEPT_MAX || !(k = realloc(b->kept, cap * sizeof(*k))))
		return false;
	b->kept = k;
	b->cap = cap;
	return true;
}

void tokens_builder_add(uint64_t h, void *ctx)
{
	struct tokens_builder *b = ctx;
	uint8_t *reg, rank;

	if (b->recent[h % RECENT] == h)
		return;
	b->recent[h % RECENT] = h;
	if (b->overflow || (b->n == b->cap && !grow(b))) {
		b->overflow = true;
		return;
	}
	b->kept[b->n++] = h;
	/* The register of the top bits keeps the most leading zeros the rest had (the bit set bounds them). */
	reg = &b->sketch[h >> (64 - SKETCH_BITS)];
	rank = (uint8_t)(__builtin_clzll(h << SKETCH_BITS | UINT64_C(1) << (SKETCH_BITS - 1)) + 1);
	if (rank > *reg)
		*reg = rank;
}

size_t tokens_builder_count(const struct tokens_builder *b)
{
	double sum = 0, est;
	size_t zeros = 0;

	for (size_t i = 0; i < SKETCH; i++) {
		sum += 1.0 / (double)(UINT64_C(1) << b->sketch[i]);
		zeros += b->sketch[i] == 0;
	}
	est = 0.7213 / (1 + 1.079 / SKETCH) * SKETCH * SKETCH / sum;
	/* Few tokens: counting the empty registers is the better estimate (linear counting). */
	if (est <= 2.5 * SKETCH && zeros)
		est = SKETCH * log((double)SKETCH / (double)zeros);
	return est > (double)b->n ? b->n : (size_t)(est + 0.5);
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
	size_t bytes = (tokens_builder_count(b) * BITS_PER_TOKEN + 63) / 64 * 8;
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
	for (size_t i = 0; i < b->n; i++)
		set_bits(blob + HEADER, (uint64_t)bytes * 8, b->kept[i]);
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
