/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/macro.h"
#include "common/util.h"
#include "dialtests/dialtest.h"

#define SHOWN_MAX 200 /* of a body or value in an assertion's failure */

void dt_response_clear(struct dt_response *r)
{
	json_decref(r->json);
	*r = (struct dt_response){ 0 };
}

/* One step of a path: ".key", "[3]", "['key']" or "[\"key\"]"; advances *p. */
static json_t *path_step(json_t *cur, const char **p)
{
	const char *s = *p, *end;
	char key[256];

	if (*s == '.') {
		s++;
		end = s + strcspn(s, ".[");
	} else if (s[0] == '[' && (s[1] == '\'' || s[1] == '"')) {
		end = strchr(s + 2, s[1]);
		if (!end || end[1] != ']')
			return NULL;
		s += 2;
		*p = end + 2;
		(void)snprintf(key, sizeof(key), "%.*s", (int)(end - s), s);
		return json_object_get(cur, key);
	} else if (s[0] == '[') {
		char *num_end;
		long i = strtol(s + 1, &num_end, 10);

		if (num_end == s + 1 || *num_end != ']' || i < 0)
			return NULL;
		*p = num_end + 1;
		return json_array_get(cur, (size_t)i);
	} else {
		return NULL;
	}
	if (end == s || (size_t)(end - s) >= sizeof(key))
		return NULL;
	(void)snprintf(key, sizeof(key), "%.*s", (int)(end - s), s);
	*p = end;
	return json_object_get(cur, key);
}

json_t *dt_json_path(json_t *root, const char *path)
{
	const char *p = path + 1;
	json_t *cur = root;

	if (!path || path[0] != '$')
		return NULL;
	while (cur && *p)
		cur = path_step(cur, &p);
	return cur;
}

bool dt_header(const char *headers, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);

	for (const char *l = headers; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *v;
		size_t len;

		if (strncasecmp(l, name, n) != 0 || l[n] != ':')
			continue;
		v = l + n + 1;
		v += strspn(v, " \t");
		len = strcspn(v, "\r\n");
		(void)snprintf(out, size, "%.*s", (int)len, v);
		return true;
	}
	return false;
}

static json_t *body_json(struct dt_response *r)
{
	if (!r->json_tried) {
		r->json_tried = true;
		r->json = r->body ? json_loadb(r->body, r->body_len, JSON_DECODE_ANY, NULL) : NULL;
	}
	return r->json;
}

/* A body or value as a failure shows it: the first SHOWN_MAX bytes, whole characters, valid UTF-8. */
static json_t *shown(const char *s, size_t len)
{
	char buf[SHOWN_MAX + 1];
	size_t n = MIN(len, (size_t)SHOWN_MAX);

	memcpy(buf, s, n);
	buf[n] = 0;
	buf[utf8_prefix(buf, n)] = 0;
	utf8_sanitize(buf);
	return json_string(buf);
}

static double number(json_t *v)
{
	return json_is_integer(v) ? (double)json_integer_value(v) : json_real_value(v);
}

static bool json_same(json_t *a, json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return number(a) == number(b);
	return json_equal(a, b);
}

static bool json_contains(json_t *have, json_t *want)
{
	size_t i;
	json_t *v;

	if (json_is_string(have) && json_is_string(want))
		return strstr(json_string_value(have), json_string_value(want)) != NULL;
	json_array_foreach(have, i, v)
		if (json_same(v, want))
			return true;
	return false;
}

static bool json_holds(const struct dt_assert *a, json_t *have)
{
	switch (a->op) {
	case DT_EQ: return have && json_same(have, a->value);
	case DT_NE: return have && !json_same(have, a->value);
	case DT_LT: return json_is_number(have) && number(have) < number(a->value);
	case DT_GT: return json_is_number(have) && number(have) > number(a->value);
	case DT_HAS: return have && json_contains(have, a->value);
	case DT_EXISTS: return have != NULL;
	}
	return false;
}

static const char *const op_names[] = { "==", "!=", "<", ">", "contains", "exists" };
static const char *const tls_names[] = { "1.0", "1.1", "1.2", "1.3" };

static json_t *tls_name(int v)
{
	return v >= 10 && v <= 13 ? json_string(tls_names[v - 10]) : json_null();
}

static bool body_holds(const struct dt_assert *a, const struct dt_response *r)
{
	const char *body = r->body ? r->body : "";

	if (a->match == DT_CONTAINS)
		return memmem(body, r->body_len, a->text, strlen(a->text)) != NULL;
	/* The dialer keeps the body terminated, so regexec sees all of it (up to a NUL byte). */
	return (regexec(&a->re, body, 0, NULL, 0) == 0) == (a->match == DT_REGEX);
}

bool dt_assert_holds(const struct dt_assert *a, struct dt_response *r, json_t **failure)
{
	static const char *const body_keys[] = { "contains", "regex", "not_regex" };
	char value[1024];
	json_t *have, *codes;
	bool ok = false, found;

	*failure = NULL;
	switch (a->type) {
	case DT_STATUS:
		for (size_t i = 0; i < a->n_status; i++)
			ok |= a->status[i] == r->status;
		if (ok)
			return true;
		codes = json_array();
		for (size_t i = 0; i < a->n_status; i++)
			json_array_append_new(codes, json_integer(a->status[i]));
		*failure = json_pack("{s:s, s:o, s:I}", "type", "status", "expected", codes, "actual", (json_int_t)r->status);
		return false;
	case DT_BODY:
		if (body_holds(a, r))
			return true;
		*failure = json_pack("{s:s, s:s, s:o}", "type", "body", body_keys[a->match], a->text, "actual",
				     shown(r->body ? r->body : "", r->body_len));
		return false;
	case DT_HEADER:
		found = dt_header(r->headers, a->header, value, sizeof(value));
		if (found && regexec(&a->re, value, 0, NULL, 0) == 0)
			return true;
		*failure = json_pack("{s:s, s:s, s:s, s:o}", "type", "header", "name", a->header, "regex", a->text,
				     "actual", found ? shown(value, strlen(value)) : json_null());
		return false;
	case DT_JSON:
		have = body_json(r) ? dt_json_path(r->json, a->path) : NULL;
		if (json_holds(a, have))
			return true;
		/* "o" takes the reference made here: a borrowed value is incref'd for it. */
		*failure = json_pack("{s:s, s:s, s:s, s:O*, s:o}", "type", "json", "path", a->path, "op",
				     op_names[a->op], "expected", a->value, "actual",
				     have	   ? json_incref(have) :
				     body_json(r) ? json_null() :
						    json_string("(the body is not JSON)"));
		return false;
	case DT_LATENCY:
		if (r->total_ms <= (double)a->max_ms)
			return true;
		*failure = json_pack("{s:s, s:I, s:f}", "type", "latency", "max_ms", (json_int_t)a->max_ms, "actual",
				     r->total_ms);
		return false;
	case DT_CERT:
		if (r->has_cert && r->cert_days >= a->min_days)
			return true;
		*failure = json_pack("{s:s, s:I, s:o}", "type", "cert", "min_days", (json_int_t)a->min_days, "actual",
				     r->has_cert ? json_integer(r->cert_days) : json_null());
		return false;
	case DT_TLS:
		if (r->tls >= a->min_tls)
			return true;
		*failure = json_pack("{s:s, s:o, s:o}", "type", "tls", "min_version", tls_name(a->min_tls), "actual",
				     tls_name(r->tls));
		return false;
	}
	return false;
}

char *dt_extract_value(const struct dt_extract *x, struct dt_response *r, char *why, size_t why_size)
{
	regmatch_t m[10];
	char value[4096];
	json_t *v;

	switch (x->from) {
	case DT_FROM_JSON:
		v = body_json(r) ? dt_json_path(r->json, x->path) : NULL;
		if (json_is_string(v))
			return strdup(json_string_value(v));
		if (v && !json_is_null(v))
			return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		(void)snprintf(why, why_size, "%s: no value at %s", x->name, x->path);
		return NULL;
	case DT_FROM_HEADER:
		if (dt_header(r->headers, x->header, value, sizeof(value)))
			return strdup(value);
		(void)snprintf(why, why_size, "%s: no header %s", x->name, x->header);
		return NULL;
	case DT_FROM_REGEX:
		if (r->body && regexec(&x->re, r->body, ARRAY_SIZE(m), m, 0) == 0 && m[x->group].rm_so >= 0)
			return strndup(r->body + m[x->group].rm_so, (size_t)(m[x->group].rm_eo - m[x->group].rm_so));
		(void)snprintf(why, why_size, "%s: the body does not match the regex", x->name);
		return NULL;
	}
	return NULL;
}

/* v as the inside of a JSON string: what jansson writes, without the quotes. */
static int append_json_escaped(struct buf *out, const char *v)
{
	json_t *s = json_string(v);
	char *text = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
	int r = text && strlen(text) >= 2 ? buf_append(out, text + 1, strlen(text) - 2) : -EINVAL;

	free(text);
	json_decref(s);
	return r;
}

int dt_render(const char *tpl, dt_lookup_fn var, dt_lookup_fn secret, void *userdata, char **ret, char *err,
	      size_t err_size)
{
	struct buf out;
	const char *p = tpl;
	bool json;
	int r = 0;

	buf_init(&out, 4 * 1024 * 1024);
	while (r == 0 && *p) {
		const char *open = strstr(p, "{{"), *close = open ? strstr(open + 2, "}}") : NULL, *v;
		char name[128];

		if (!close) {
			r = buf_append(&out, p, strlen(p));
			break;
		}
		r = buf_append(&out, p, (size_t)(open - p));
		(void)snprintf(name, sizeof(name), "%.*s", (int)(close - open - 2), open + 2);
		json = strncmp(name, "json:", 5) == 0;
		v = strncmp(name, "secret:", 7) == 0 ? secret(name + 7, userdata) : var(name + (json ? 5 : 0), userdata);
		if (!v) {
			(void)snprintf(err, err_size, "{{%s}}: %s", name,
				       strncmp(name, "secret:", 7) == 0 ? "no such secret, or it cannot be read" :
									  "no such variable (yet)");
			r = -ENOENT;
			break;
		}
		if (r == 0)
			r = json ? append_json_escaped(&out, v) : buf_append(&out, v, strlen(v));
		p = close + 2;
	}
	if (r == 0)
		r = buf_terminate(&out);
	if (r < 0) {
		buf_free(&out);
		return r;
	}
	*ret = out.data ? (char *)out.data : strdup("");
	return *ret ? 0 : -ENOMEM;
}

bool dt_line_safe(const char *s)
{
	return !strpbrk(s, "\r\n");
}

/* The forms a secret may take in what a service answers: as it is, inside a JSON string, in a URL. */
static void secret_forms(const char *v, char forms[3][4096])
{
	json_t *js = json_string(v);
	char *text = js ? json_dumps(js, JSON_ENCODE_ANY) : NULL;
	size_t o = 0;

	(void)snprintf(forms[0], sizeof(forms[0]), "%s", v);
	(void)snprintf(forms[1], sizeof(forms[1]), "%.*s", text ? (int)strlen(text) - 2 : 0, text ? text + 1 : "");
	for (const unsigned char *p = (const unsigned char *)v; *p && o + 4 < sizeof(forms[2]); p++)
		o += (size_t)snprintf(forms[2] + o, sizeof(forms[2]) - o, isalnum(*p) || strchr("-._~", *p) ? "%c" : "%%%02X", *p);
	forms[2][o] = 0;
	free(text);
	json_decref(js);
}

/* s with every occurrence of each form replaced into *ret: 1, or 0 when none occurs, or -ENOMEM. */
static int redact_string(const char *s, char forms[][3][4096], const char *const *names, size_t n, char **ret)
{
	struct buf out;
	bool hit = false;
	int r = 0;

	buf_init(&out, SIZE_MAX / 2);
	while (*s && r == 0) {
		size_t k = 0, f = 0, len = 0;

		for (k = 0; k < n && !len; k++)
			for (f = 0; f < 3 && !len; f++)
				if (forms[k][f][0] && strncmp(s, forms[k][f], strlen(forms[k][f])) == 0)
					len = strlen(forms[k][f]);
		if (len) {
			hit = true;
			r = buf_printf(&out, "[secret:%s]", names[k - 1]);
			s += len;
		} else {
			r = buf_append(&out, s++, 1);
		}
	}
	if (r == 0 && hit)
		r = buf_terminate(&out);
	if (r < 0 || !hit) {
		buf_free(&out);
		return r < 0 ? -ENOMEM : 0;
	}
	*ret = (char *)out.data;
	return 1;
}

/* The string v, member of j under key (object) or at i (array), redacted in place. */
static int redact_value(json_t *j, const char *key, size_t i, json_t *v, char forms[][3][4096],
			const char *const *names, size_t n)
{
	char *clean = NULL;
	int r = redact_string(json_string_value(v), forms, names, n, &clean);

	if (r > 0)
		r = (key ? json_object_set_new(j, key, json_string(clean)) : json_array_set_new(j, i, json_string(clean))) ?
			    -ENOMEM : 0;
	free(clean);
	return r;
}

static int redact_tree(json_t *j, char forms[][3][4096], const char *const *names, size_t n)
{
	const char *k;
	json_t *v;
	size_t i;
	int r = 0;

	if (json_is_object(j)) {
		json_object_foreach(j, k, v)
			if (r == 0)
				r = json_is_string(v) ? redact_value(j, k, 0, v, forms, names, n) :
							redact_tree(v, forms, names, n);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if (r == 0)
				r = json_is_string(v) ? redact_value(j, NULL, i, v, forms, names, n) :
							redact_tree(v, forms, names, n);
	}
	return r;
}

int dt_redact(json_t *j, const char *const *values, const char *const *names, size_t n)
{
	char (*forms)[3][4096] = calloc(n ? n : 1, sizeof(*forms));
	int r;

	if (!forms)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (values[i] && *values[i])
			secret_forms(values[i], forms[i]);
	r = redact_tree(j, forms, names, n);
	explicit_bzero(forms, (n ? n : 1) * sizeof(*forms));
	free(forms);
	return r;
}
