/* SPDX-License-Identifier: Apache-2.0 */
/* Matching a parsed query: against a record, and against what a block's index says. */
#include "config.h"

#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "common/fields.h"
#include "search/query-internal.h"
#include "search/query.h"
#include "search/tokens.h"

/* The regex copies compiled for another query freed. */
static void scratch_regexes_free(struct query_scratch *s)
{
	for (size_t i = 0; i < s->n_res; i++)
		if (s->have[i])
			regfree(&s->res[i]);
	free(s->res);
	free(s->have);
	s->res = NULL;
	s->have = NULL;
	s->n_res = 0;
	s->q = NULL;
}

/* s ready for q: room for a copy of each of its regexes (none: every thread uses q's own). */
static void scratch_for(struct query_scratch *s, const struct query *q)
{
	if (s->q == q)
		return;
	scratch_regexes_free(s);
	s->res = calloc(q->n, sizeof(*s->res));
	s->have = calloc(q->n, 1);
	if (s->res && s->have) {
		s->n_res = q->n;
		s->q = q;
	} else {
		scratch_regexes_free(s);
	}
}

/* This thread's copy of n's regex (validated when parsed), or n's own. */
static const regex_t *regex_of(struct query_scratch *s, const struct node *n)
{
	size_t i;

	if (!s || !s->q)
		return &n->re;
	i = (size_t)(n - s->q->nodes);
	if (!s->have[i]) {
		if (regcomp(&s->res[i], n->pattern, n->cflags) != 0)
			return &n->re;
		s->have[i] = 1;
	}
	return &s->res[i];
}

void query_scratch_free(struct query_scratch *s)
{
	scratch_regexes_free(s);
	free(s->folded);
	free(s->copy);
	*s = (struct query_scratch){ 0 };
}

/* What matching one record keeps: the message folded once, when a term first needs it. */
struct matching {
	const struct query *q;
	const struct query_record *r;
	struct query_scratch *s;
	const struct export_field *message;
	bool folded, failed;
};

/*
 * ASCII's upper case into lower, 8 bytes at a time: a byte gets 0x20 where
 * it is 'A'..'Z' (its high bit clear, and >= 'A' but not > 'Z').
 */
static void fold(uint8_t *out, const uint8_t *in, size_t len)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), high = ones * 0x80;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t x, low, ge_a, gt_z;
		memcpy(&x, in + i, 8);
		low = x & ~high;
		ge_a = low + ones * (0x80 - 'A');
		gt_z = low + ones * (0x7f - 'Z');
		x |= ((ge_a ^ gt_z) & ~x & high) >> 2;
		memcpy(out + i, &x, 8);
	}
	for (; i < len; i++)
		out[i] = tokens_fold(in[i]);
}

static bool folded_message(struct matching *m, const uint8_t **ret, size_t *ret_len)
{
	size_t len = m->message ? m->message->value_len : 0;

	if (!m->message) {
		*ret = (const uint8_t *)"";
		*ret_len = 0;
		return true;
	}
	if (!m->folded) {
		if (len > m->s->cap) {
			uint8_t *grown = realloc(m->s->folded, len);
			if (!grown) {
				m->failed = true;
				return false;
			}
			m->s->folded = grown;
			m->s->cap = len;
		}
		fold(m->s->folded, m->message->value, len);
		m->folded = true;
	}
	*ret = m->s->folded;
	*ret_len = len;
	return true;
}

/* The needle n->text in the folded hay, not inside a longer word where it begins or ends with a word byte. */
static bool text_found(const struct node *n, const uint8_t *hay, size_t len)
{
	const uint8_t *p = hay, *end = hay + len;

	while ((size_t)(end - p) >= n->len) {
		const uint8_t *hit = memmem(p, (size_t)(end - p), n->text, n->len);
		if (!hit)
			return false;
		if ((!n->word_start || hit == hay || !tokens_word_byte(hit[-1])) &&
		    (!n->word_end || hit + n->len == end || !tokens_word_byte(hit[n->len])))
			return true;
		p = hit + 1;
	}
	return false;
}

static bool folded_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (tokens_fold(a[i]) != b[i])
			return false;
	return true;
}

/*
 * Whether n's regex matches v. A stored value ends where its length says,
 * not at a NUL: it is copied into s, NUL-terminated (regexec() and the
 * sanitizers' view of it read up to a NUL whatever REG_STARTEND says). s
 * NULL: v is a C string already.
 */
static bool regex_found(struct query_scratch *s, const struct node *n, const uint8_t *v, size_t len)
{
	regmatch_t m = { .rm_so = 0, .rm_eo = (regoff_t)len };

	if (s) {
		if (len + 1 > s->copy_cap) {
			char *grown = realloc(s->copy, len + 1);
			if (!grown)
				return false;
			s->copy = grown;
			s->copy_cap = len + 1;
		}
		memcpy(s->copy, v, len);
		s->copy[len] = 0;
		v = (const uint8_t *)s->copy;
	}
	return regexec(regex_of(s, n), (const char *)v, 1, &m, REG_STARTEND) == 0;
}

bool query_number(const void *v, size_t len, double *ret)
{
	char buf[64], *end;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, v, len);
	buf[len] = 0;
	*ret = strtod(buf, &end);
	return !*end && !isnan(*ret);
}

static bool compared(const struct node *n, const uint8_t *v, size_t len)
{
	double x;

	if (!query_number(v, len, &x))
		return false;
	switch (n->op) {
	case CMP_LT: return x < n->num;
	case CMP_LE: return x <= n->num;
	case CMP_GT: return x > n->num;
	case CMP_GE: return x >= n->num;
	case CMP_EQ: return x == n->num;
	}
	return false;
}

/* Whether the value v of a field n looks at satisfies n; s as for regex_found(). */
static bool value_matches(struct query_scratch *s, const struct node *n, const uint8_t *v, size_t len)
{
	switch (n->kind) {
	case N_EQ: return folded_equal(v, len, n->text, n->len);
	case N_REGEX: return regex_found(s, n, v, len);
	case N_CMP: return compared(n, v, len);
	default: return false;
	}
}

static bool key_is(const struct export_field *f, const char *key)
{
	return f->key_len == strlen(key) && memcmp(f->key, key, f->key_len) == 0;
}

/* Whether any field n looks at (a key, or the stream's keys) has a value satisfying n. */
static bool fields_match(struct query_scratch *s, const struct node *n, const struct query_record *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct export_field *f = &r->fields[i];
		bool looked = false;
		if (n->target == T_SOURCE)
			for (size_t k = 0; field_stream_keys[k] && !looked; k++)
				looked = key_is(f, field_stream_keys[k]);
		else
			looked = key_is(f, n->key);
		if (looked && value_matches(s, n, f->value, f->value_len))
			return true;
	}
	return false;
}

/* The host's name and agent id are C strings. */
static bool host_matches(const struct node *n, const char *host, const char *agent)
{
	return (host && value_matches(NULL, n, (const uint8_t *)host, strlen(host))) ||
	       (agent && value_matches(NULL, n, (const uint8_t *)agent, strlen(agent)));
}

static bool node_matches(struct matching *m, int i)
{
	const struct node *n = &m->q->nodes[i];
	const uint8_t *text;
	size_t len;

	switch (n->kind) {
	case N_AND: return node_matches(m, n->a) && node_matches(m, n->b);
	case N_OR: return node_matches(m, n->a) || node_matches(m, n->b);
	case N_NOT: return !node_matches(m, n->a);
	default: break;
	}
	if (n->target == T_HOST)
		return host_matches(n, m->r->host, m->r->agent);
	if (n->target != T_MESSAGE)
		return fields_match(m->s, n, m->r);
	if (n->kind == N_REGEX)
		return m->message && regex_found(m->s, n, m->message->value, m->message->value_len);
	/* Without a letter, folding changes nothing the needle could match. */
	if (!n->folds)
		return m->message && text_found(n, m->message->value, m->message->value_len);
	return folded_message(m, &text, &len) && text_found(n, text, len);
}

bool query_match(const struct query *q, const struct query_record *r, struct query_scratch *s)
{
	struct matching m = { .q = q, .r = r, .s = s, .message = export_find(r->fields, r->n, FIELD_MESSAGE) };
	bool hit;

	if (!q)
		return true;
	scratch_for(s, q);
	hit = node_matches(&m, q->root);
	return hit && !m.failed;
}

/* What a block can tell of a term: no record matches, some may, every one does. */
enum maybe { NONE, SOME, ALL };

static enum maybe block_node(const struct query *q, int i, const struct query_block *b)
{
	const struct node *n = &q->nodes[i];
	enum maybe x, y;
	bool any;

	switch (n->kind) {
	case N_AND:
		x = block_node(q, n->a, b);
		y = x == NONE ? NONE : block_node(q, n->b, b);
		return x == NONE || y == NONE ? NONE : x == ALL && y == ALL ? ALL : SOME;
	case N_OR:
		x = block_node(q, n->a, b);
		y = x == ALL ? ALL : block_node(q, n->b, b);
		return x == ALL || y == ALL ? ALL : x == NONE && y == NONE ? NONE : SOME;
	case N_NOT:
		x = block_node(q, n->a, b);
		return x == ALL ? NONE : x == NONE ? ALL : SOME;
	default: break;
	}
	if (n->target == T_HOST)
		return host_matches(n, b->host, b->agent) ? ALL : NONE;
	if (!b->index || !n->indexed)
		return SOME;
	if (n->kind == N_TEXT) {
		for (size_t k = 0; k < n->n_tokens; k++)
			if (!tokens_filter_has(b->index, b->index_len, n->tokens[k]))
				return NONE;
		return SOME;
	}
	any = false;
	for (size_t k = 0; k < n->n_tokens && !any; k++)
		any = tokens_filter_has(b->index, b->index_len, n->tokens[k]);
	return any ? SOME : NONE;
}

bool query_block_may_match(const struct query *q, const struct query_block *b)
{
	return !q || block_node(q, q->root, b) != NONE;
}
