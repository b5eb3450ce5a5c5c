/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/util.h"
#include "search/logseries.h"
#include "search/sketch.h"

struct group {
	char *agent, *host, *labels; /* one allocation, agent first */
	uint64_t bucket, count;
	struct sketch sk;
};

struct logseries {
	uint64_t bucket_us;
	struct group *g;
	size_t n, cap;
	size_t *slot; /* index + 1 into g, 0: empty; a power of two, at most half full */
	size_t n_slots;
};

static const char *const stats[_LOGSTAT_MAX] = {
	[LOGSTAT_COUNT] = "count", [LOGSTAT_RATE] = "rate", [LOGSTAT_SUM] = "sum", [LOGSTAT_AVG] = "avg",
	[LOGSTAT_MIN] = "min", [LOGSTAT_MAX] = "max", [LOGSTAT_P50] = "p50", [LOGSTAT_P90] = "p90",
	[LOGSTAT_P95] = "p95", [LOGSTAT_P99] = "p99",
};

const char *logstat_name(enum logstat st)
{
	return (unsigned)st < _LOGSTAT_MAX ? stats[st] : "?";
}

int logstat_parse(const char *name, char metric[LOGMETRIC_NAME_MAX + 1], enum logstat *stat)
{
	const char *m = name + strlen(LOGSERIES_PREFIX), *dot;

	if (strncmp(name, LOGSERIES_PREFIX, strlen(LOGSERIES_PREFIX)) != 0)
		return -ENOENT;
	dot = strrchr(m, '.');
	if (!dot || dot == m || (size_t)(dot - m) > LOGMETRIC_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(stats); i++)
		if (strcmp(dot + 1, stats[i]) == 0) {
			memcpy(metric, m, (size_t)(dot - m));
			metric[dot - m] = '\0';
			*stat = (enum logstat)i;
			return 0;
		}
	return -EINVAL;
}

int logseries_new(uint64_t bucket_us, struct logseries **ret)
{
	struct logseries *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->bucket_us = MAX(bucket_us, USEC_PER_SEC);
	*ret = s;
	return 0;
}

void logseries_free(struct logseries *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->g[i].agent);
		sketch_free(&s->g[i].sk);
	}
	free(s->g);
	free(s->slot);
	free(s);
}

static uint64_t group_hash(const char *agent, const char *host, const char *labels, uint64_t bucket)
{
	uint64_t h = 1469598103934665603ull ^ (bucket * 0x9e3779b97f4a7c15ull);
	const char *parts[] = { agent, host, labels };

	for (size_t k = 0; k < ARRAY_SIZE(parts); k++) {
		for (const char *p = parts[k]; *p; p++)
			h = (h ^ (uint8_t)*p) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
	}
	return h ^ (h >> 31);
}

static bool same(const struct group *g, const char *agent, const char *host, const char *labels, uint64_t bucket)
{
	return g->bucket == bucket && strcmp(g->agent, agent) == 0 && strcmp(g->host, host) == 0 &&
	       strcmp(g->labels, labels) == 0;
}

static int rehash(struct logseries *s)
{
	size_t n = s->n_slots ? s->n_slots * 2 : 1024, *slot = calloc(n, sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		const struct group *g = &s->g[i];
		size_t k = group_hash(g->agent, g->host, g->labels, g->bucket) & (n - 1);
		while (slot[k])
			k = (k + 1) & (n - 1);
		slot[k] = i + 1;
	}
	free(s->slot);
	s->slot = slot;
	s->n_slots = n;
	return 0;
}

/* The group of (agent, host, labels, bucket), made if new; NULL with *err. */
static struct group *group_of(struct logseries *s, const char *agent, const char *host, const char *labels,
			      uint64_t bucket, int *err)
{
	size_t k, la = strlen(agent) + 1, lh = strlen(host) + 1;
	struct group *g;

	if (2 * (s->n + 1) > s->n_slots && (*err = rehash(s)) < 0)
		return NULL;
	for (k = group_hash(agent, host, labels, bucket) & (s->n_slots - 1); s->slot[k]; k = (k + 1) & (s->n_slots - 1))
		if (same(&s->g[s->slot[k] - 1], agent, host, labels, bucket))
			return &s->g[s->slot[k] - 1];
	*err = s->n == LOGSERIES_GROUPS_MAX ? -E2BIG : -ENOMEM;
	if (s->n == LOGSERIES_GROUPS_MAX)
		return NULL;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct group *grown = realloc(s->g, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		s->g = grown;
		s->cap = cap;
	}
	g = &s->g[s->n];
	*g = (struct group){ .bucket = bucket };
	g->agent = malloc(la + lh + strlen(labels) + 1);
	if (!g->agent)
		return NULL;
	g->host = g->agent + la;
	g->labels = g->host + lh;
	memcpy(g->agent, agent, la);
	memcpy(g->host, host, lh);
	strcpy(g->labels, labels);
	s->slot[k] = ++s->n;
	return g;
}

int logseries_add(struct logseries *s, const char *agent, const char *host, const char *labels, uint64_t ts,
		  uint64_t count, const uint8_t *sketch, size_t sketch_len)
{
	int err = 0;
	struct group *g = group_of(s, agent, host, labels, ts - ts % s->bucket_us, &err);

	if (!g)
		return err;
	g->count += count;
	/* A count-only metric stores no sketch: its value statistics are left out. */
	return sketch ? sketch_decode_merge(&g->sk, sketch, sketch_len) : 0;
}

static double stat_of(const struct logseries *s, const struct group *g, enum logstat st)
{
	static const double q[] = { [LOGSTAT_P50] = 0.5, [LOGSTAT_P90] = 0.9, [LOGSTAT_P95] = 0.95, [LOGSTAT_P99] = 0.99 };

	switch (st) {
	case LOGSTAT_COUNT:
		return (double)g->count;
	case LOGSTAT_RATE:
		return (double)g->count * USEC_PER_SEC / (double)s->bucket_us;
	case LOGSTAT_SUM:
		return g->sk.count ? g->sk.sum : NAN;
	case LOGSTAT_AVG:
		return g->sk.count ? g->sk.sum / (double)g->sk.count : NAN;
	case LOGSTAT_MIN:
		return g->sk.count ? g->sk.min : NAN;
	case LOGSTAT_MAX:
		return g->sk.count ? g->sk.max : NAN;
	default:
		return sketch_quantile(&g->sk, q[st]);
	}
}

static int group_cmp(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	int c = strcmp(x->agent, y->agent);

	if (!c)
		c = strcmp(x->host, y->host);
	if (!c)
		c = strcmp(x->labels, y->labels);
	if (!c)
		c = x->bucket < y->bucket ? -1 : x->bucket > y->bucket;
	return c;
}

int logseries_each(struct logseries *s, enum logstat stat,
		   int (*fn)(const char *agent, const char *host, const char *labels, uint64_t bucket, double value,
			     void *ctx),
		   void *ctx)
{
	int r = 0;

	/* Sorted in place: the slots no longer say where a group is (an add after rebuilds them). */
	if (s->n)
		qsort(s->g, s->n, sizeof(*s->g), group_cmp);
	free(s->slot);
	s->slot = NULL;
	s->n_slots = 0;
	for (size_t i = 0; i < s->n && r == 0; i++) {
		double v = stat_of(s, &s->g[i], stat);
		if (!isnan(v))
			r = fn(s->g[i].agent, s->g[i].host, s->g[i].labels, s->g[i].bucket, v, ctx);
	}
	return r;
}
