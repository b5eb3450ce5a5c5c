/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "search/sketch.h"

#define GAMMA ((1 + SKETCH_ALPHA) / (1 - SKETCH_ALPHA))
#define SKETCH_VERSION 1

void sketch_free(struct sketch *s)
{
	free(s->idx);
	free(s->cnt);
	*s = (struct sketch){ 0 };
}

static int grow(struct sketch *s, size_t need)
{
	size_t cap = s->cap ? s->cap : 16;
	int32_t *idx;
	uint64_t *cnt;

	if (need <= s->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	idx = realloc(s->idx, cap * sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	s->idx = idx;
	cnt = realloc(s->cnt, cap * sizeof(*cnt));
	if (!cnt)
		return -ENOMEM;
	s->cnt = cnt;
	s->cap = cap;
	return 0;
}

/* The lowest buckets folded into one, so that at most SKETCH_BINS_MAX remain. */
static void collapse(struct sketch *s)
{
	size_t extra = s->n - SKETCH_BINS_MAX;
	uint64_t low = 0;

	for (size_t i = 0; i <= extra; i++)
		low += s->cnt[i];
	s->cnt[extra] = low;
	memmove(s->idx, s->idx + extra, SKETCH_BINS_MAX * sizeof(*s->idx));
	memmove(s->cnt, s->cnt + extra, SKETCH_BINS_MAX * sizeof(*s->cnt));
	s->n = SKETCH_BINS_MAX;
}

/* Adds c to bucket i, keeping the buckets in order. */
static int add_bucket(struct sketch *s, int32_t i, uint64_t c)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->idx[mid] < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->n && s->idx[lo] == i) {
		s->cnt[lo] += c;
		return 0;
	}
	if (grow(s, s->n + 1) < 0)
		return -ENOMEM;
	memmove(s->idx + lo + 1, s->idx + lo, (s->n - lo) * sizeof(*s->idx));
	memmove(s->cnt + lo + 1, s->cnt + lo, (s->n - lo) * sizeof(*s->cnt));
	s->idx[lo] = i;
	s->cnt[lo] = c;
	s->n++;
	if (s->n > SKETCH_BINS_MAX)
		collapse(s);
	return 0;
}

static void note(struct sketch *s, uint64_t count, double sum, double min, double max)
{
	if (!s->count || min < s->min)
		s->min = min;
	if (!s->count || max > s->max)
		s->max = max;
	s->count += count;
	s->sum += sum;
}

int sketch_add(struct sketch *s, double v)
{
	int r = 0;

	if (isnan(v))
		return -EINVAL;
	if (v <= SKETCH_MIN_VALUE)
		s->zeros++;
	else
		r = add_bucket(s, (int32_t)ceil(log(v) / log(GAMMA)), 1);
	if (r == 0)
		note(s, 1, v, v, v);
	return r;
}

int sketch_merge(struct sketch *s, const struct sketch *o)
{
	for (size_t i = 0; i < o->n; i++)
		if (add_bucket(s, o->idx[i], o->cnt[i]) < 0)
			return -ENOMEM;
	if (o->count) {
		s->zeros += o->zeros;
		note(s, o->count, o->sum, o->min, o->max);
	}
	return 0;
}

double sketch_quantile(const struct sketch *s, double q)
{
	double rank, v;
	uint64_t seen;

	if (!s->count)
		return NAN;
	q = q < 0 ? 0 : q > 1 ? 1 : q;
	rank = q * (double)(s->count - 1);
	seen = s->zeros;
	if ((double)seen > rank)
		return s->min < 0 ? s->min : 0;
	for (size_t i = 0; i < s->n; i++) {
		seen += s->cnt[i];
		if ((double)seen > rank) {
			v = 2 * pow(GAMMA, s->idx[i]) / (GAMMA + 1);
			/* The extremes are known exactly: no estimate beyond them. */
			return v < s->min ? s->min : v > s->max ? s->max : v;
		}
	}
	return s->max;
}

static int put_varint(uint8_t *p, uint64_t v)
{
	int n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static int get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	return -EBADMSG;
}

static void put_double(uint8_t *p, double d)
{
	memcpy(p, &d, sizeof(d));
}

/* [version][min][max][sum] (8 bytes each, host order: a blob is read where written) [zeros][n] then n × [zigzag delta of idx][count]. */
int sketch_encode(const struct sketch *s, uint8_t **ret, size_t *ret_len)
{
	uint8_t *p = malloc(1 + 24 + 20 + s->n * 20);
	size_t at = 1;
	int32_t prev = 0;

	if (!p)
		return -ENOMEM;
	p[0] = SKETCH_VERSION;
	put_double(p + at, s->min);
	put_double(p + at + 8, s->max);
	put_double(p + at + 16, s->sum);
	at += 24;
	at += (size_t)put_varint(p + at, s->zeros);
	at += (size_t)put_varint(p + at, s->n);
	for (size_t i = 0; i < s->n; i++) {
		int64_t d = (int64_t)s->idx[i] - prev;
		at += (size_t)put_varint(p + at, ((uint64_t)d << 1) ^ (uint64_t)(d >> 63));
		at += (size_t)put_varint(p + at, s->cnt[i]);
		prev = s->idx[i];
	}
	*ret = p;
	*ret_len = at;
	return 0;
}

int sketch_decode_merge(struct sketch *s, const uint8_t *p, size_t len)
{
	const uint8_t *end = p + len;
	struct sketch o = { 0 };
	uint64_t n, zz, c;
	int64_t idx = 0;
	int r = -EBADMSG;

	if (len < 25 || p[0] != SKETCH_VERSION)
		return -EBADMSG;
	memcpy(&o.min, p + 1, 8);
	memcpy(&o.max, p + 9, 8);
	memcpy(&o.sum, p + 17, 8);
	p += 25;
	if (get_varint(&p, end, &o.zeros) < 0 || get_varint(&p, end, &n) < 0 || n > SKETCH_BINS_MAX)
		return -EBADMSG;
	o.count = o.zeros;
	if (grow(&o, n ? n : 1) < 0)
		return -ENOMEM;
	for (; o.n < n; o.n++) {
		if (get_varint(&p, end, &zz) < 0 || get_varint(&p, end, &c) < 0)
			goto done;
		/* A delta beyond 32 bits leaves the buckets' range whatever idx was: refused before it can overflow. */
		if (zz >> 33)
			goto done;
		idx += (int64_t)(zz >> 1) ^ -(int64_t)(zz & 1);
		if (idx < INT32_MIN || idx > INT32_MAX || (o.n && idx <= o.idx[o.n - 1]) || c > UINT64_MAX - o.count)
			goto done;
		o.idx[o.n] = (int32_t)idx;
		o.cnt[o.n] = c;
		o.count += c;
	}
	r = p == end && o.count ? sketch_merge(s, &o) : -EBADMSG;
done:
	sketch_free(&o);
	return r;
}
