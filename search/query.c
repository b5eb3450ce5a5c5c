/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/fields.h"
#include "common/macro.h"
#include "common/regex.h"
#include "search/query-internal.h"
#include "search/query.h"
#include "search/tokens.h"

struct parser {
	const char *s, *p; /* the text, where the parser is */
	struct query *q;
	int depth;
	char *err;
	size_t err_size;
};

/* The position of p, in characters from 1. */
static size_t position(const struct parser *ps, const char *p)
{
	size_t n = 1;

	for (const char *c = ps->s; c < p; c++)
		n += ((uint8_t)*c & 0xc0) != 0x80;
	return n;
}

__attribute__((format(printf, 3, 4))) static int fail(struct parser *ps, const char *at, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(ps->err, ps->err_size, "%zu: ", position(ps, at));

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < ps->err_size)
		(void)vsnprintf(ps->err + n, ps->err_size - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool ends_word(char c)
{
	return !c || is_space(c) || c == '(' || c == ')';
}

static void skip_space(struct parser *ps)
{
	while (is_space(*ps->p))
		ps->p++;
}

/* Whether the keyword kw stands at p on its own. */
static bool keyword(const char *p, const char *kw)
{
	size_t n = strlen(kw);

	return strncmp(p, kw, n) == 0 && ends_word(p[n]);
}

static int new_node(struct parser *ps, enum node_kind kind, const char *at)
{
	struct node *n;

	if (ps->q->n >= QUERY_NODES)
		return fail(ps, at, "more than %d terms and operators", QUERY_NODES);
	n = &ps->q->nodes[ps->q->n];
	*n = (struct node){ .kind = kind, .a = -1, .b = -1 };
	return (int)ps->q->n++;
}

/* A new node of kind at, looking at t (key: the stored field's name, for a field or the priority). */
static int term_node(struct parser *ps, enum node_kind kind, const char *at, enum target t, const char *key)
{
	int i = new_node(ps, kind, at);

	if (i >= 0) {
		ps->q->nodes[i].target = t;
		(void)snprintf(ps->q->nodes[i].key, sizeof(ps->q->nodes[i].key), "%s", key);
	}
	return i;
}

static void add_token(uint64_t h, void *ctx)
{
	struct node *n = ctx;

	n->tokens[n->n_tokens++] = h;
}

/* The folded copy of [p, p + len) into n->text. */
static int set_text(struct node *n, const char *p, size_t len)
{
	n->text = malloc(len + 1);
	if (!n->text)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++)
		n->text[i] = tokens_fold((uint8_t)p[i]);
	n->text[len] = 0;
	n->len = len;
	return 0;
}

/* A word or phrase on the message: its text and the tokens a line holding it has. */
static int text_node(struct parser *ps, const char *at, const char *p, size_t len)
{
	int i = new_node(ps, N_TEXT, at);
	struct node *n;

	if (i < 0)
		return i;
	n = &ps->q->nodes[i];
	if (set_text(n, p, len) < 0 || !(n->tokens = malloc((len + 1) * sizeof(*n->tokens))))
		return -ENOMEM;
	n->word_start = tokens_word_byte(n->text[0]);
	n->word_end = tokens_word_byte(n->text[len - 1]);
	for (size_t k = 0; k < len && !n->folds; k++)
		n->folds = n->text[k] >= 'a' && n->text[k] <= 'z';
	n->indexed = tokens_of_needle(n->text, len, add_token, n) && n->n_tokens > 0;
	return i;
}

/* An unquoted word at ps->p into [*ret, *ret + *ret_len). */
static void read_word(struct parser *ps, const char **ret, size_t *ret_len)
{
	const char *s = ps->p;

	while (!ends_word(*ps->p) && *ps->p != '"')
		ps->p++;
	*ret = s;
	*ret_len = (size_t)(ps->p - s);
}

/*
 * What is quoted from ps->p (at the opening quote q) to the closing one,
 * unescaped into buf: "\q" is q, "\\" is '\'; in a regex any other
 * backslash is kept for regcomp. -ENOENT (nothing reported) when there is
 * no closing quote.
 */
static int read_quoted(struct parser *ps, char q, bool regex, char *buf, size_t size, size_t *ret_len)
{
	const char *p = ps->p + 1;
	size_t n = 0;

	for (; *p && *p != q && n + 2 < size; p++) {
		if (*p == '\\' && (p[1] == q || (!regex && p[1] == '\\')))
			p++;
		else if (*p == '\\' && regex && p[1])
			buf[n++] = *p++;
		buf[n++] = *p;
	}
	if (*p != q)
		return -ENOENT;
	ps->p = p + 1;
	buf[n] = 0;
	*ret_len = n;
	return 0;
}

static int read_phrase(struct parser *ps, char *buf, size_t size, size_t *ret_len)
{
	const char *open = ps->p;
	int r = read_quoted(ps, '"', false, buf, size, ret_len);

	if (r == -ENOENT)
		return fail(ps, open, "a phrase begun here has no closing '\"'");
	if (r == 0 && !*ret_len)
		return fail(ps, open, "an empty phrase");
	return r;
}

/*
 * A regex, /…/ or /…/i, at ps->p; -ENOENT (ps->p unmoved, nothing
 * reported) when what begins with '/' is not one (no closing '/', or more
 * follows it: "/var/log/app.log"), and is a word.
 */
static int regex_node(struct parser *ps, const char *at, enum target t, const char *key)
{
	const char *start = ps->p;
	char pattern[QUERY_MAX + 1], why[256];
	size_t len;
	int i, flags = REG_EXTENDED | REG_NOSUB;
	struct node *n;

	if (read_quoted(ps, '/', true, pattern, sizeof(pattern), &len) < 0)
		return -ENOENT;
	if (*ps->p == 'i' && ends_word(ps->p[1])) {
		flags |= REG_ICASE;
		ps->p++;
	}
	if (!ends_word(*ps->p)) {
		ps->p = start;
		return -ENOENT;
	}
	i = term_node(ps, N_REGEX, at, t, key);
	if (i < 0)
		return i;
	n = &ps->q->nodes[i];
	if (regex_compile(&n->re, pattern, flags, why, sizeof(why)) < 0)
		return fail(ps, at, "%s", why);
	n->has_re = true;
	n->cflags = flags;
	n->pattern = strdup(pattern);
	return n->pattern ? i : -ENOMEM;
}

static const char *const priorities[] = { "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug" };

/* A number, or (priority:) a level's name. */
static bool number_of(const char *v, size_t len, enum target t, double *ret)
{
	for (size_t i = 0; t == T_PRIORITY && i < ARRAY_SIZE(priorities); i++)
		if (strlen(priorities[i]) == len && strncasecmp(v, priorities[i], len) == 0) {
			*ret = (double)i;
			return true;
		}
	return query_number(v, len, ret) && isfinite(*ret) && (t != T_PRIORITY || (*ret >= 0 && *ret <= 7));
}

/* where: the value's place in the text, for an error (v may be a copy unquoted). */
static int cmp_node(struct parser *ps, const char *at, enum target t, const char *key, enum cmp op, const char *v,
		    size_t len, const char *where)
{
	int i;
	struct node *n;
	double num;

	if (!number_of(v, len, t, &num))
		return fail(ps, where, t == T_PRIORITY ? "expected a priority: 0 to 7, or emerg, alert, crit, err, warning, "
						      "notice, info, debug" :
						      "expected a number");
	i = term_node(ps, N_CMP, at, t, key);
	if (i < 0)
		return i;
	n = &ps->q->nodes[i];
	n->op = op;
	n->num = num;
	return i;
}

/* field:value, equal (folded): of a field, the host, a source. */
static int eq_node(struct parser *ps, const char *at, enum target t, const char *key, const char *v, size_t len)
{
	int i = term_node(ps, N_EQ, at, t, key);
	struct node *n;

	if (i < 0)
		return i;
	n = &ps->q->nodes[i];
	if (set_text(n, v, len) < 0 || !(n->tokens = calloc(FIELD_STREAM_KEYS, sizeof(*n->tokens))))
		return -ENOMEM;
	if (len > TOKENS_VALUE_MAX || t == T_HOST)
		return i;
	if (t == T_SOURCE)
		for (size_t k = 0; field_stream_keys[k]; k++)
			n->tokens[n->n_tokens++] = tokens_of_field(field_stream_keys[k], strlen(field_stream_keys[k]),
								   (const uint8_t *)v, len);
	else if (tokens_field_indexed(key, strlen(key)))
		n->tokens[n->n_tokens++] = tokens_of_field(key, strlen(key), (const uint8_t *)v, len);
	n->indexed = n->n_tokens > 0;
	return i;
}

void query_field_key(const char *name, size_t len, char key[EXPORT_KEY_MAX + 1])
{
	for (size_t i = 0; i < len; i++)
		key[i] = name[i] >= 'a' && name[i] <= 'z' ? (char)(name[i] - 'a' + 'A') : name[i];
	key[len] = 0;
}

/* The names a field may go by in a query: the shortcuts, else the stored name in upper case. */
static int field_target(struct parser *ps, const char *at, const char *name, size_t len, char key[EXPORT_KEY_MAX + 1],
			enum target *ret)
{
	static const struct {
		const char *name;
		enum target t;
		const char *key;
	} shortcuts[] = {
		{ "host", T_HOST, "" },	       { "source", T_SOURCE, "" },   { "unit", T_FIELD, FIELD_UNIT },
		{ "priority", T_PRIORITY, FIELD_PRIORITY }, { "message", T_MESSAGE, FIELD_MESSAGE },
	};

	if (len > EXPORT_KEY_MAX)
		return fail(ps, at, "a field name is at most %d characters", EXPORT_KEY_MAX);
	for (size_t i = 0; i < ARRAY_SIZE(shortcuts); i++)
		if (strlen(shortcuts[i].name) == len && strncasecmp(name, shortcuts[i].name, len) == 0) {
			*ret = shortcuts[i].t;
			(void)snprintf(key, EXPORT_KEY_MAX + 1, "%s", shortcuts[i].key);
			return 0;
		}
	query_field_key(name, len, key);
	*ret = T_FIELD;
	return 0;
}

/* A value equal (folded) to what a term looks at: a word of the message, a priority, a field's value. */
static int leaf(struct parser *ps, const char *at, enum target t, const char *key, const char *v, size_t len,
		const char *where)
{
	if (t == T_MESSAGE)
		return text_node(ps, at, v, len);
	if (t == T_PRIORITY)
		return cmp_node(ps, at, t, key, CMP_EQ, v, len, where);
	return eq_node(ps, at, t, key, v, len);
}

/*
 * The value of a term at ps->p, looking at t: a regex, a phrase, a number
 * compared (a field's), a word. name: the field as written (name_len 0: a
 * bare term, on the message).
 */
static int value_term(struct parser *ps, const char *at, enum target t, const char *key, size_t name_len)
{
	static const struct {
		const char *op;
		enum cmp cmp;
	} ops[] = { { ">=", CMP_GE }, { "<=", CMP_LE }, { ">", CMP_GT }, { "<", CMP_LT } };
	char phrase[QUERY_MAX + 1];
	const char *v = ps->p;
	size_t len;
	int r;

	if (*v == '/' && (r = regex_node(ps, at, t, key)) != -ENOENT)
		return r;
	if (*v == '"') {
		r = read_phrase(ps, phrase, sizeof(phrase), &len);
		return r < 0 ? r : leaf(ps, at, t, key, phrase, len, v);
	}
	for (size_t i = 0; name_len && i < ARRAY_SIZE(ops); i++)
		if (strncmp(v, ops[i].op, strlen(ops[i].op)) == 0) {
			if (t == T_MESSAGE || t == T_HOST || t == T_SOURCE)
				return fail(ps, v, "%.*s: compares no numbers", (int)name_len, at);
			ps->p += strlen(ops[i].op);
			read_word(ps, &v, &len);
			return cmp_node(ps, at, t, key, ops[i].cmp, v, len, v);
		}
	read_word(ps, &v, &len);
	if (!len && name_len)
		return fail(ps, v, "expected a value after '%.*s:'", (int)name_len, at);
	if (!len)
		return fail(ps, v, "expected a term");
	return leaf(ps, at, t, key, v, len, v);
}

static int field_term(struct parser *ps, const char *at, size_t name_len)
{
	char key[EXPORT_KEY_MAX + 1];
	enum target t = T_FIELD;
	int r = field_target(ps, at, at, name_len, key, &t);

	if (r < 0)
		return r;
	ps->p = at + name_len + 1;
	return value_term(ps, at, t, key, name_len);
}

/* The length of a field name at p followed by ':' (a letter or '_', then letters, digits, '_'), or 0. */
static size_t field_name(const char *p)
{
	size_t n = 0;

	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_'))
		return 0;
	while (tokens_word_byte((uint8_t)p[n]))
		n++;
	return p[n] == ':' ? n : 0;
}

static int parse_or(struct parser *ps);

static int primary(struct parser *ps)
{
	const char *at = ps->p;
	size_t name;
	int i;

	if (*at == '(') {
		if (++ps->depth > QUERY_DEPTH)
			return fail(ps, at, "nested deeper than %d", QUERY_DEPTH);
		ps->p++;
		i = parse_or(ps);
		if (i < 0)
			return i;
		skip_space(ps);
		if (*ps->p != ')')
			return fail(ps, ps->p, "expected ')'");
		ps->p++;
		ps->depth--;
		return i;
	}
	if (!*at || *at == ')')
		return fail(ps, at, *at ? "expected a term before ')'" : "expected a term");
	name = field_name(at);
	if (name)
		return field_term(ps, at, name);
	return value_term(ps, at, T_MESSAGE, FIELD_MESSAGE, 0);
}

static int unary(struct parser *ps)
{
	const char *at;
	int a, i;

	skip_space(ps);
	at = ps->p;
	/* A '-' alone is a word; before anything else, a NOT. */
	if ((*at == '-' && at[1] && !is_space(at[1]) && at[1] != ')') || keyword(at, "NOT")) {
		ps->p += *at == '-' ? 1 : 3;
		if (++ps->depth > QUERY_DEPTH)
			return fail(ps, at, "nested deeper than %d", QUERY_DEPTH);
		a = unary(ps);
		if (a < 0)
			return a;
		ps->depth--;
		i = new_node(ps, N_NOT, at);
		if (i >= 0)
			ps->q->nodes[i].a = a;
		return i;
	}
	return primary(ps);
}

static int binary(struct parser *ps, enum node_kind kind, int a, int b, const char *at)
{
	int i;

	if (b < 0)
		return b;
	i = new_node(ps, kind, at);
	if (i >= 0) {
		ps->q->nodes[i].a = a;
		ps->q->nodes[i].b = b;
	}
	return i;
}

static int parse_and(struct parser *ps)
{
	int a = unary(ps);

	for (;;) {
		const char *at;
		if (a < 0)
			return a;
		skip_space(ps);
		at = ps->p;
		if (!*at || *at == ')' || keyword(at, "OR"))
			return a;
		if (keyword(at, "AND")) {
			ps->p += 3;
			skip_space(ps);
			if (!*ps->p || *ps->p == ')' || keyword(ps->p, "OR"))
				return fail(ps, ps->p, "expected a term after AND");
		}
		a = binary(ps, N_AND, a, unary(ps), at);
	}
}

static int parse_or(struct parser *ps)
{
	int a;

	skip_space(ps);
	if (keyword(ps->p, "OR") || keyword(ps->p, "AND"))
		return fail(ps, ps->p, "expected a term before %.*s", ps->p[0] == 'O' ? 2 : 3, ps->p);
	a = parse_and(ps);
	while (a >= 0 && keyword(ps->p, "OR")) {
		const char *at = ps->p;
		ps->p += 2;
		skip_space(ps);
		if (!*ps->p || *ps->p == ')' || keyword(ps->p, "OR"))
			return fail(ps, ps->p, "expected a term after OR");
		a = binary(ps, N_OR, a, parse_and(ps), at);
	}
	return a;
}

void query_free(struct query *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->n; i++) {
		free(q->nodes[i].text);
		free(q->nodes[i].tokens);
		free(q->nodes[i].pattern);
		if (q->nodes[i].has_re)
			regfree(&q->nodes[i].re);
	}
	free(q);
}

int query_parse(const char *text, struct query **ret, char *err, size_t err_size)
{
	struct parser ps = { .s = text, .p = text, .err = err, .err_size = err_size };
	int r;

	if (strlen(text) > QUERY_MAX) {
		(void)snprintf(err, err_size, "1: longer than %d bytes", QUERY_MAX);
		return -EINVAL;
	}
	skip_space(&ps);
	if (!*ps.p) {
		*ret = NULL;
		return 0;
	}
	ps.q = calloc(1, sizeof(*ps.q));
	if (!ps.q)
		return -ENOMEM;
	r = parse_or(&ps);
	skip_space(&ps);
	if (r >= 0 && *ps.p)
		r = fail(&ps, ps.p, "unexpected ')'");
	if (r < 0) {
		if (r == -ENOMEM)
			(void)snprintf(err, err_size, "out of memory");
		query_free(ps.q);
		return r;
	}
	ps.q->root = r;
	*ret = ps.q;
	return 0;
}
