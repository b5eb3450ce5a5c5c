/* SPDX-License-Identifier: Apache-2.0 */
/* The self-describing formats: JSON objects and logfmt. */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/export.h"
#include "common/macro.h"
#include "parse/parser.h"

/* Objects nested deeper than this are kept as JSON text. */
#define JSON_DEPTH 4
/* A key path: EXPORT_KEY_MAX is where a field name is cut anyway. */
#define PATH_MAX_BYTES (2 * EXPORT_KEY_MAX)

static int no_pattern(const char *pattern, void **ret, char *err, size_t err_size)
{
	if (pattern) {
		(void)snprintf(err, err_size, "pattern: this format takes none");
		return -EINVAL;
	}
	*ret = NULL;
	return 0;
}

static void no_state(void *state)
{
}

static int put_json_text(struct parse_out *o, const char *key, size_t klen, const json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	int r;

	if (!text)
		return -ENOMEM;
	r = parse_put(o, key, klen, text, strlen(text));
	free(text);
	return r;
}

static int put_json(struct parse_out *o, char *path, size_t plen, const json_t *v, unsigned depth)
{
	char num[32];
	int n;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (depth < JSON_DEPTH) {
			const char *k;
			json_t *child;
			json_object_foreach((json_t *)v, k, child) {
				size_t klen = strlen(k), at = plen ? plen + 1 : 0;
				int r;
				if (at + klen > PATH_MAX_BYTES) {
					o->dropped++;
					continue;
				}
				if (plen)
					path[plen] = '_';
				memcpy(path + at, k, klen);
				r = put_json(o, path, at + klen, child, depth + 1);
				if (r < 0)
					return r;
			}
			return 0;
		}
		return put_json_text(o, path, plen, v);
	case JSON_ARRAY:
		return put_json_text(o, path, plen, v);
	case JSON_STRING:
		return parse_put(o, path, plen, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return parse_put(o, path, plen, num, (size_t)n);
	case JSON_REAL:
		n = snprintf(num, sizeof(num), "%.15g", json_real_value(v));
		return parse_put(o, path, plen, num, (size_t)n);
	case JSON_TRUE:
		return parse_put(o, path, plen, "true", 4);
	case JSON_FALSE:
		return parse_put(o, path, plen, "false", 5);
	case JSON_NULL:
		return 0;
	}
	return 0;
}

static int json_run(void *state, const char *line, size_t len, struct parse_out *o)
{
	char path[PATH_MAX_BYTES + 1];
	json_t *v;
	int r;

	/* An object is what a JSON logger writes; a bare number or string is a plain line. */
	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	if (!len || *line != '{')
		return 0;
	v = json_loadb(line, len, 0, NULL);
	if (!v)
		return 0;
	r = put_json(o, path, 0, v, 0);
	json_decref(v);
	return r < 0 ? r : 1;
}

const struct parser_ops parser_json_ops = {
	.name = "json", .compile = no_pattern, .run = json_run, .free = no_state,
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* A quoted value from just past its '"': unescaped into v; *p past the closing quote. -EBADMSG if it never closes. */
static int quoted(const char **p, const char *end, struct buf *v)
{
	for (const char *s = *p; s < end; s++) {
		char c = *s;
		if (c == '"') {
			*p = s + 1;
			return 0;
		}
		if (c == '\\' && s + 1 < end) {
			c = *++s;
			c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
		}
		if (buf_putc(v, c) < 0)
			return -ENOBUFS;
	}
	return -EBADMSG;
}

static int logfmt_pair(const char **p, const char *end, struct buf *v, struct parse_out *o, size_t *pairs)
{
	const char *k = *p, *s = *p, *val;
	size_t klen;
	int r;

	while (s < end && !is_space(*s) && *s != '=' && *s != '"')
		s++;
	klen = (size_t)(s - k);
	if (klen == 0)
		return -EBADMSG;
	if (s == end || *s != '=') {
		*p = s;
		/* A bare key is a flag that is set. */
		return s < end && *s == '"' ? -EBADMSG : parse_put(o, k, klen, "true", 4);
	}
	val = ++s;
	if (s < end && *s == '"') {
		s++;
		buf_reset(v);
		r = quoted(&s, end, v);
		if (r < 0)
			return r;
		*p = s;
		(*pairs)++;
		return parse_put(o, k, klen, v->data, v->len);
	}
	while (s < end && !is_space(*s))
		s++;
	*p = s;
	(*pairs)++;
	return parse_put(o, k, klen, val, (size_t)(s - val));
}

static int logfmt_run(void *state, const char *line, size_t len, struct parse_out *o)
{
	const char *p = line, *end = line + len;
	struct buf v;
	size_t pairs = 0;
	int r = 0;

	buf_init(&v, len + 1);
	while (r >= 0) {
		while (p < end && is_space(*p))
			p++;
		if (p == end)
			break;
		r = logfmt_pair(&p, end, &v, o, &pairs);
	}
	buf_free(&v);
	/* Words without one key=value are prose, not logfmt. */
	if (r == -EBADMSG || (r >= 0 && pairs == 0))
		return 0;
	return r < 0 ? r : 1;
}

const struct parser_ops parser_logfmt_ops = {
	.name = "logfmt", .compile = no_pattern, .run = logfmt_run, .free = no_state,
};
