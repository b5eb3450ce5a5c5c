/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/util.h"
#include "search/logmetric.h"
#include "search/query-internal.h"
#include "search/sketch.h"

#define SLOTS (2 * LOGMETRIC_SERIES_MAX) /* a power of two, half full at most */
#define LABELS_TEXT_MAX (LOGMETRIC_LABELS_MAX * (EXPORT_KEY_MAX + LOGMETRIC_LABEL_VALUE_MAX + 2))

struct compiled {
	struct logmetric_def def;
	struct query *q; /* NULL: every log record */
	char value_key[EXPORT_KEY_MAX + 1];
	char label_names[LOGMETRIC_LABELS_MAX][EXPORT_KEY_MAX + 1]; /* as written, for the labels text */
	char label_keys[LOGMETRIC_LABELS_MAX][EXPORT_KEY_MAX + 1];  /* upper case, as fields are stored */
	size_t n_labels;
};

struct logmetrics {
	struct compiled m[LOGMETRICS_MAX];
	size_t n;
	atomic_uint refs;
	uint64_t generation; /* unique to this set: what an accumulator's scratch was made for */
};

static atomic_uint_fast64_t generations;

struct series {
	size_t metric;
	char *labels;
	uint64_t ts, ts_last, count;
	struct sketch sk;
	uint8_t *encoded;
};

struct logmetric_acc {
	struct series s[LOGMETRIC_SERIES_MAX];
	size_t n;
	int slot[SLOTS]; /* index into s, or -1 */
	struct logmetric_row rows[LOGMETRIC_SERIES_MAX];
	struct query_scratch scratch[LOGMETRICS_MAX]; /* one a metric: each serves one query */
	const struct logmetrics *m; /* the batch's, for its rows' names */
	uint64_t scratch_for;         /* the generation of the metrics the scratch serves; 0: none */
};

static bool name_ok(const char *s, size_t n, bool upper)
{
	if (n == 0 || n > EXPORT_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z' && upper) ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/* d into c (c->q parsed, when c is not NULL): 0 or -EINVAL with "key: why". */
static int compile(const struct logmetric_def *d, struct compiled *c, char *err, size_t err_size)
{
	char qerr[256];
	size_t n = 0;
	struct query *q = NULL;

	if (!d->name || strlen(d->name) > LOGMETRIC_NAME_MAX || !name_ok(d->name, strlen(d->name), false)) {
		(void)snprintf(err, err_size, "name: lower-case letters, digits and '_', at most %d", LOGMETRIC_NAME_MAX);
		return -EINVAL;
	}
	if (d->step_ms < 1000 || d->step_ms % 1000) {
		(void)snprintf(err, err_size, "step: whole seconds, at least 1s");
		return -EINVAL;
	}
	if (d->value && !name_ok(d->value, strlen(d->value), true)) {
		(void)snprintf(err, err_size, "value: '%s' is not a field name", d->value);
		return -EINVAL;
	}
	for (const char *p = d->labels ? d->labels : ""; *(p += strspn(p, " \t"));) {
		size_t len = strcspn(p, " \t");
		if (!name_ok(p, len, true) || n == LOGMETRIC_LABELS_MAX) {
			(void)snprintf(err, err_size, n == LOGMETRIC_LABELS_MAX ? "labels: at most %d fields" :
				       "labels: '%.*s' is not a field name", n == LOGMETRIC_LABELS_MAX ? LOGMETRIC_LABELS_MAX : (int)len, p);
			return -EINVAL;
		}
		if (c) {
			memcpy(c->label_names[n], p, len);
			c->label_names[n][len] = '\0';
			query_field_key(p, len, c->label_keys[n]);
		}
		n++;
		p += len;
	}
	if (query_parse(d->query ? d->query : "", &q, qerr, sizeof(qerr)) < 0) {
		(void)snprintf(err, err_size, "query: %s", qerr);
		return -EINVAL;
	}
	if (!c) {
		query_free(q);
		return 0;
	}
	c->q = q;
	c->n_labels = n;
	if (d->value)
		query_field_key(d->value, strlen(d->value), c->value_key);
	return 0;
}

int logmetric_check(const struct logmetric_def *d, char *err, size_t err_size)
{
	return compile(d, NULL, err, err_size);
}

/* d's strings, copied into c->def. */
static int own_strings(struct compiled *c, const struct logmetric_def *d)
{
	const char *in[] = { d->name, d->query, d->value, d->labels };
	const char **out[] = { &c->def.name, &c->def.query, &c->def.value, &c->def.labels };

	c->def.step_ms = d->step_ms;
	for (size_t i = 0; i < ARRAY_SIZE(in); i++)
		if (in[i] && !(*out[i] = strdup(in[i])))
			return -ENOMEM;
	return 0;
}

static void compiled_free(struct compiled *c)
{
	query_free(c->q);
	free((char *)c->def.name);
	free((char *)c->def.query);
	free((char *)c->def.value);
	free((char *)c->def.labels);
}

int logmetrics_new(const struct logmetric_def *defs, size_t n, struct logmetrics **ret, char *err, size_t err_size)
{
	struct logmetrics *m;
	int r = 0;

	if (n > LOGMETRICS_MAX) {
		(void)snprintf(err, err_size, "more than %d log metrics", LOGMETRICS_MAX);
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	atomic_init(&m->refs, 1);
	m->generation = atomic_fetch_add(&generations, 1) + 1;
	for (; m->n < n && r == 0; m->n++) {
		r = compile(&defs[m->n], &m->m[m->n], err, err_size);
		if (r == 0)
			r = own_strings(&m->m[m->n], &defs[m->n]);
	}
	if (r < 0) {
		if (r == -ENOMEM)
			(void)snprintf(err, err_size, "out of memory");
		logmetrics_unref(m);
		return r;
	}
	*ret = m;
	return 0;
}

struct logmetrics *logmetrics_ref(struct logmetrics *m)
{
	if (m)
		atomic_fetch_add(&m->refs, 1);
	return m;
}

void logmetrics_unref(struct logmetrics *m)
{
	if (!m || atomic_fetch_sub(&m->refs, 1) != 1)
		return;
	for (size_t i = 0; i < m->n; i++)
		compiled_free(&m->m[i]);
	free(m);
}

size_t logmetrics_count(const struct logmetrics *m)
{
	return m ? m->n : 0;
}

const struct logmetric_def *logmetrics_def(const struct logmetrics *m, size_t i)
{
	return m && i < m->n ? &m->m[i].def : NULL;
}

const struct logmetric_def *logmetrics_find(const struct logmetrics *m, const char *name)
{
	for (size_t i = 0; m && i < m->n; i++)
		if (strcmp(m->m[i].def.name, name) == 0)
			return &m->m[i].def;
	return NULL;
}

int logmetric_acc_new(struct logmetric_acc **ret)
{
	struct logmetric_acc *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	memset(a->slot, 0xff, sizeof(a->slot));
	*ret = a;
	return 0;
}

void logmetric_acc_reset(struct logmetric_acc *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->s[i].labels);
		free(a->s[i].encoded);
		sketch_free(&a->s[i].sk);
	}
	a->n = 0;
	memset(a->slot, 0xff, sizeof(a->slot));
}

void logmetric_acc_free(struct logmetric_acc *a)
{
	if (!a)
		return;
	logmetric_acc_reset(a);
	for (size_t i = 0; i < LOGMETRICS_MAX; i++)
		query_scratch_free(&a->scratch[i]);
	free(a);
}

static const struct export_field *field_of(const struct query_record *r, const char *key)
{
	size_t k = strlen(key);

	for (size_t i = 0; i < r->n; i++)
		if (r->fields[i].key_len == k && memcmp(r->fields[i].key, key, k) == 0)
			return &r->fields[i];
	return NULL;
}

/* "name=value name=value" of c's labels in r, into out (LABELS_TEXT_MAX + 1 bytes). */
static void labels_of(const struct compiled *c, const struct query_record *r, char *out)
{
	size_t at = 0;

	out[0] = '\0';
	for (size_t i = 0; i < c->n_labels; i++) {
		const struct export_field *f = field_of(r, c->label_keys[i]);
		size_t vlen = !f ? 0 : f->value_len <= LOGMETRIC_LABEL_VALUE_MAX ? f->value_len :
				  utf8_prefix((const char *)f->value, LOGMETRIC_LABEL_VALUE_MAX);

		at += (size_t)snprintf(out + at, LABELS_TEXT_MAX + 1 - at, "%s%s=%.*s", i ? " " : "", c->label_names[i],
				       (int)vlen, f ? (const char *)f->value : "");
	}
}

static uint64_t series_hash(size_t metric, uint64_t ts, const char *labels)
{
	uint64_t h = 1469598103934665603ull ^ metric ^ (ts * 0x9e3779b97f4a7c15ull);

	for (const char *p = labels; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	return h ^ (h >> 29);
}

/* The series of (metric, ts, labels), made if new; NULL when there is no room (or memory) for it. */
static struct series *series_of(struct logmetric_acc *a, size_t metric, uint64_t ts, const char *labels)
{
	size_t i = series_hash(metric, ts, labels) & (SLOTS - 1);
	struct series *s;

	for (; a->slot[i] >= 0; i = (i + 1) & (SLOTS - 1)) {
		s = &a->s[a->slot[i]];
		if (s->metric == metric && s->ts == ts && strcmp(s->labels, labels) == 0)
			return s;
	}
	if (a->n == LOGMETRIC_SERIES_MAX)
		return NULL;
	s = &a->s[a->n];
	*s = (struct series){ .metric = metric, .ts = ts, .labels = strdup(labels) };
	if (!s->labels)
		return NULL;
	a->slot[i] = (int)a->n++;
	return s;
}

int logmetric_acc_add(struct logmetric_acc *a, const struct logmetrics *m, const struct query_record *r,
		      uint64_t ts, uint64_t *cut)
{
	char labels[LABELS_TEXT_MAX + 1];

	if (m && a->scratch_for != m->generation) {
		for (size_t i = 0; i < LOGMETRICS_MAX; i++)
			query_scratch_free(&a->scratch[i]);
		a->scratch_for = m->generation;
	}
	a->m = m;
	for (size_t i = 0; m && i < m->n; i++) {
		const struct compiled *c = &m->m[i];
		uint64_t step = c->def.step_ms * 1000;
		const struct export_field *v;
		struct series *s;
		double x;

		if (c->q && !query_match(c->q, r, &a->scratch[i]))
			continue;
		labels_of(c, r, labels);
		s = series_of(a, i, ts - ts % step, labels);
		if (!s) {
			(*cut)++;
			continue;
		}
		s->count++;
		s->ts_last = MAX(s->ts_last, ts);
		if (*c->value_key && (v = field_of(r, c->value_key)) && query_number(v->value, v->value_len, &x) &&
		    sketch_add(&s->sk, x) < 0)
			return -ENOMEM;
	}
	return 0;
}

int logmetric_acc_rows(struct logmetric_acc *a, const struct logmetric_row **ret, size_t *n)
{
	for (size_t i = 0; i < a->n; i++) {
		struct series *s = &a->s[i];
		size_t len = 0;

		free(s->encoded);
		s->encoded = NULL;
		if (s->sk.count && sketch_encode(&s->sk, &s->encoded, &len) < 0)
			return -ENOMEM;
		a->rows[i] = (struct logmetric_row){ .metric = a->m->m[s->metric].def.name, .labels = s->labels,
						     .ts = s->ts, .ts_last = s->ts_last, .count = s->count, .sum = s->sk.sum,
						     .sketch = s->encoded, .sketch_len = len };
	}
	*ret = a->rows;
	*n = a->n;
	return 0;
}
