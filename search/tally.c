/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "search/tally.h"

struct value {
	uint8_t *bytes;
	size_t len;
	uint64_t count, order; /* order: when first seen */
};

struct tally {
	struct value *v; /* open addressing by hash; bytes NULL: free */
	size_t cap, n;
	uint64_t others;
	int cut;
};

static uint64_t hash(const uint8_t *p, size_t len)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * UINT64_C(0x100000001b3);
	return h ^ (h >> 29);
}

struct tally *tally_new(void)
{
	struct tally *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cap = 256;
	t->v = calloc(t->cap, sizeof(*t->v));
	if (!t->v) {
		free(t);
		return NULL;
	}
	return t;
}

void tally_free(struct tally *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cap; i++)
		free(t->v[i].bytes);
	free(t->v);
	free(t);
}

static size_t slot_of(const struct value *v, size_t cap, const uint8_t *p, size_t len)
{
	size_t i = (size_t)hash(p, len) & (cap - 1);

	while (v[i].bytes && !(v[i].len == len && memcmp(v[i].bytes, p, len) == 0))
		i = (i + 1) & (cap - 1);
	return i;
}

static int grow(struct tally *t)
{
	size_t cap = t->cap * 2;
	struct value *v = calloc(cap, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->v[i].bytes)
			v[slot_of(v, cap, t->v[i].bytes, t->v[i].len)] = t->v[i];
	free(t->v);
	t->v = v;
	t->cap = cap;
	return 0;
}

int tally_add(struct tally *t, const uint8_t *value, size_t len)
{
	size_t i;

	if (len > TALLY_VALUE_MAX)
		len = TALLY_VALUE_MAX;
	i = slot_of(t->v, t->cap, value, len);
	if (t->v[i].bytes) {
		t->v[i].count++;
		return 0;
	}
	if (t->n >= TALLY_DISTINCT_MAX) {
		t->others++;
		t->cut = 1;
		return 0;
	}
	if (2 * (t->n + 1) > t->cap) {
		if (grow(t) < 0) {
			t->others++;
			return -ENOMEM;
		}
		i = slot_of(t->v, t->cap, value, len);
	}
	/* One byte more: an empty value has bytes too, which marks the slot used. */
	t->v[i].bytes = malloc(len + 1);
	if (!t->v[i].bytes) {
		t->others++;
		return -ENOMEM;
	}
	memcpy(t->v[i].bytes, value, len);
	t->v[i].len = len;
	t->v[i].count = 1;
	t->v[i].order = t->n++;
	return 0;
}

/* More counted first; of equal counts, the first seen. */
static int before(const struct value *a, const struct value *b)
{
	return a->count != b->count ? a->count > b->count : a->order < b->order;
}

void tally_top(const struct tally *t, struct tally_entry *out, size_t n, size_t *ret_n, uint64_t *ret_others)
{
	const struct value *best[128];
	size_t k = 0;
	uint64_t rest = t->others;

	if (n > 128)
		n = 128;
	/* An insertion into the n best kept sorted: n is small, the values many. */
	for (size_t i = 0; i < t->cap; i++) {
		const struct value *v = &t->v[i];
		size_t at;
		if (!v->bytes)
			continue;
		rest += v->count;
		if (k == n && (n == 0 || !before(v, best[n - 1])))
			continue;
		at = k < n ? k++ : n - 1;
		while (at > 0 && before(v, best[at - 1])) {
			best[at] = best[at - 1];
			at--;
		}
		best[at] = v;
	}
	for (size_t i = 0; i < k; i++) {
		out[i] = (struct tally_entry){ .value = best[i]->bytes, .len = best[i]->len, .count = best[i]->count };
		rest -= best[i]->count;
	}
	*ret_n = k;
	*ret_others = rest;
}

int tally_cut(const struct tally *t)
{
	return t->cut;
}
