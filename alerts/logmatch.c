/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fields.h"
#include "common/macro.h"
#include "common/regex.h"
#include "common/util.h"
#include "alerts/logmatch.h"

struct compiled {
	char *name, *unit, *source;
	regex_t re;
};

struct logmatch {
	atomic_uint refs;
	size_t n;
	struct compiled rules[];
};

static void compiled_free(struct compiled *c, bool has_re)
{
	free(c->name);
	free(c->unit);
	free(c->source);
	if (has_re)
		regfree(&c->re);
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *d;

	if (!s || !*s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

int logmatch_new(const struct logmatch_rule *rules, size_t n, struct logmatch **ret, size_t *ret_bad, char *err,
		 size_t err_size)
{
	struct logmatch *m;
	int r = 0;

	if (n > LOGMATCH_RULES_MAX)
		return -E2BIG;
	m = calloc(1, sizeof(*m) + n * sizeof(m->rules[0]));
	if (!m)
		return -ENOMEM;
	atomic_init(&m->refs, 1);
	for (; m->n < n; m->n++) {
		struct compiled *c = &m->rules[m->n];
		bool oom = false;
		int e;

		c->name = dup_or_null(rules[m->n].name, &oom);
		c->unit = dup_or_null(rules[m->n].unit, &oom);
		c->source = dup_or_null(rules[m->n].source, &oom);
		e = regex_compile(&c->re, rules[m->n].pattern ? rules[m->n].pattern : "", REG_EXTENDED | REG_NOSUB, err,
				  err_size);
		if (e != 0) {
			*ret_bad = m->n;
			compiled_free(c, false);
			r = -EINVAL;
			break;
		}
		if (oom || !c->name) {
			compiled_free(c, true);
			r = -ENOMEM;
			break;
		}
	}
	if (r < 0) {
		logmatch_unref(m);
		return r;
	}
	*ret = m;
	return 0;
}

struct logmatch *logmatch_ref(struct logmatch *m)
{
	if (m)
		atomic_fetch_add(&m->refs, 1);
	return m;
}

void logmatch_unref(struct logmatch *m)
{
	if (!m || atomic_fetch_sub(&m->refs, 1) != 1)
		return;
	for (size_t i = 0; i < m->n; i++)
		compiled_free(&m->rules[i], true);
	free(m);
}

size_t logmatch_count(const struct logmatch *m)
{
	return m ? m->n : 0;
}

const char *logmatch_name(const struct logmatch *m, size_t i)
{
	return m->rules[i].name;
}

/* A field's value as a C string in buf (cut to size), or NULL when the record has no such field. */
static const char *field_cstr(const struct export_field *f, size_t n, const char *key, char *buf, size_t size)
{
	const struct export_field *x = export_find(f, n, key);
	size_t len;

	if (!x)
		return NULL;
	len = MIN(x->value_len, size - 1);
	memcpy(buf, x->value, len);
	buf[len] = 0;
	return buf;
}

static bool glob_ok(const char *glob, const char *value)
{
	return !glob || (value && fnmatch(glob, value, 0) == 0);
}

static bool source_ok(const char *glob, const struct export_field *f, size_t n)
{
	char v[512];

	if (!glob)
		return true;
	for (size_t k = 0; k < FIELD_STREAM_KEYS; k++)
		if (glob_ok(glob, field_cstr(f, n, field_stream_keys[k], v, sizeof(v))))
			return true;
	return false;
}

void logmatch_record(const struct logmatch *m, const struct export_field *f, size_t n, uint64_t ts,
		     struct logmatch_hit *hits)
{
	char msg[LOGMATCH_MESSAGE_MAX + 1], unit[512];
	size_t n_sample;
	const char *u;

	if (!m || m->n == 0 || export_find(f, n, FIELD_KIND) || !field_cstr(f, n, FIELD_MESSAGE, msg, sizeof(msg)))
		return;
	u = field_cstr(f, n, FIELD_UNIT, unit, sizeof(unit));
	for (size_t i = 0; i < m->n; i++) {
		const struct compiled *c = &m->rules[i];
		struct logmatch_hit *h = &hits[i];

		if (!glob_ok(c->unit, u) || !source_ok(c->source, f, n) || regexec(&c->re, msg, 0, NULL, 0) != 0)
			continue;
		if (h->count++ == 0 || ts < h->ts_first)
			h->ts_first = ts;
		h->ts_last = MAX(h->ts_last, ts);
		n_sample = utf8_prefix(msg, sizeof(h->sample) - 1);
		memcpy(h->sample, msg, n_sample);
		h->sample[n_sample] = 0;
		utf8_sanitize(h->sample);
	}
}
