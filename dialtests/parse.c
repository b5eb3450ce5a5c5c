/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/conf.h"
#include "common/macro.h"
#include "common/regex.h"
#include "common/util.h"
#include "dialtests/dialtest.h"

/* Where in the definition a check is: "steps[1].assert[0]". */
struct where {
	char at[128];
	char *err;
	size_t err_size;
};

static int bad(struct where *w, const char *key, const char *fmt, ...) _printf_(3, 4);

static int bad(struct where *w, const char *key, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)snprintf(w->err, w->err_size, "%s%s%s: %s", w->at, *w->at && key ? "." : "", key ? key : "", msg);
	return -EINVAL;
}

static int dup_str(json_t *v, char **ret)
{
	*ret = strdup(json_string_value(v));
	return *ret ? 0 : -ENOMEM;
}

/* An optional string member into *ret (NULL when absent). */
static int opt_str(struct where *w, json_t *o, const char *key, char **ret)
{
	json_t *v = json_object_get(o, key);

	*ret = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) > 64 * 1024)
		return bad(w, key, "expected a string");
	return dup_str(v, ret);
}

static int opt_bool(struct where *w, json_t *o, const char *key, bool def, bool *ret)
{
	json_t *v = json_object_get(o, key);

	*ret = def;
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return bad(w, key, "expected true or false");
	*ret = json_is_true(v);
	return 0;
}

/* A duration as "10s", "500ms", "2m", or a number of seconds. */
static int opt_duration(struct where *w, json_t *o, const char *key, uint64_t def_ms, uint64_t min_ms,
			uint64_t max_ms, uint64_t *ret_us)
{
	json_t *v = json_object_get(o, key);
	uint64_t ms = def_ms;

	if (json_is_integer(v) && json_integer_value(v) >= 0)
		ms = (uint64_t)json_integer_value(v) * 1000;
	else if (json_is_string(v) && conf_parse_duration_ms(json_string_value(v), 1000, &ms) < 0)
		return bad(w, key, "expected a duration such as \"500ms\", \"10s\", \"5m\"");
	else if (v && !json_is_string(v) && !json_is_integer(v))
		return bad(w, key, "expected a duration such as \"500ms\", \"10s\", \"5m\"");
	if (ms < min_ms || ms > max_ms)
		return bad(w, key, "expected %llu ms to %llu ms", (unsigned long long)min_ms, (unsigned long long)max_ms);
	*ret_us = ms * 1000;
	return 0;
}

/* Only the keys a part of the definition knows: a typo is an error, not a silent default. */
static int known_keys(struct where *w, json_t *o, const char *const *keys)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		size_t i = 0;

		while (keys[i] && strcmp(keys[i], k) != 0)
			i++;
		if (!keys[i])
			return bad(w, k, "unknown key");
	}
	return 0;
}

static int compile(struct where *w, const char *key, const char *src, regex_t *re)
{
	char why[128];

	if (regex_compile(re, src, REG_EXTENDED, why, sizeof(why)) == 0)
		return 0;
	return bad(w, key, "%s", why);
}

static int parse_status(struct where *w, json_t *o, struct dt_assert *a)
{
	json_t *in = json_object_get(o, "in"), *v;
	size_t i;

	if (!json_is_array(in) || json_array_size(in) == 0 || json_array_size(in) > DIALTEST_STATUS_MAX)
		return bad(w, "in", "expected a list of 1 to %d status codes", DIALTEST_STATUS_MAX);
	json_array_foreach(in, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 100 || json_integer_value(v) > 599)
			return bad(w, "in", "expected status codes 100 to 599");
		a->status[a->n_status++] = (long)json_integer_value(v);
	}
	return 0;
}

static int parse_body(struct where *w, json_t *o, struct dt_assert *a)
{
	static const char *const keys[] = { "contains", "regex", "not_regex" };
	json_t *v = NULL;
	int found = 0, r;

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (json_object_get(o, keys[i])) {
			found++;
			a->match = (enum dt_match)i;
			v = json_object_get(o, keys[i]);
		}
	if (found != 1)
		return bad(w, NULL, "a body assertion has one of contains, regex and not_regex");
	if (!json_is_string(v))
		return bad(w, keys[a->match], "expected a string");
	r = dup_str(v, &a->text);
	if (r == 0 && a->match != DT_CONTAINS)
		r = compile(w, keys[a->match], a->text, &a->re);
	return r;
}

static int parse_header(struct where *w, json_t *o, struct dt_assert *a)
{
	int r = opt_str(w, o, "name", &a->header);

	if (r == 0)
		r = opt_str(w, o, "regex", &a->text);
	if (r == 0 && (!a->header || !a->text))
		return bad(w, NULL, "a header assertion has name and regex");
	a->match = DT_REGEX;
	return r < 0 ? r : compile(w, "regex", a->text, &a->re);
}

static int parse_json_assert(struct where *w, json_t *o, struct dt_assert *a)
{
	static const char *const ops[] = { "==", "!=", "<", ">", "contains", "exists" };
	const char *op = json_string_value(json_object_get(o, "op"));
	size_t i = 0;
	int r = opt_str(w, o, "path", &a->path);

	if (r < 0)
		return r;
	if (!a->path || a->path[0] != '$')
		return bad(w, "path", "expected a JSON path such as $.data.code");
	while (op && i < ARRAY_SIZE(ops) && strcmp(ops[i], op) != 0)
		i++;
	if (!op || i == ARRAY_SIZE(ops))
		return bad(w, "op", "expected ==, !=, <, >, contains or exists");
	a->op = (enum dt_op)i;
	a->value = json_incref(json_object_get(o, "value"));
	if (a->op != DT_EXISTS && !a->value)
		return bad(w, "value", "required with op %s", op);
	if ((a->op == DT_LT || a->op == DT_GT) && !json_is_number(a->value))
		return bad(w, "value", "expected a number with op %s", op);
	return 0;
}

static int parse_number_key(struct where *w, json_t *o, const char *key, int64_t min, int64_t max, int64_t *ret)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return bad(w, key, "expected an integer %lld to %lld", (long long)min, (long long)max);
	*ret = json_integer_value(v);
	return 0;
}

static int parse_tls_version(const char *v)
{
	return !v ? -1 : strcmp(v, "1.0") == 0 ? 10 : strcmp(v, "1.1") == 0 ? 11 : strcmp(v, "1.2") == 0 ? 12 :
			  strcmp(v, "1.3") == 0 ? 13 : -1;
}

static int parse_assert(struct where *w, json_t *o, struct dt_assert *a)
{
	static const char *const types[] = { "status", "body", "header", "json", "latency", "cert", "tls" };
	static const char *const keys[] = { "type", "in", "contains", "regex", "not_regex", "name", "path",
					    "op", "value", "max_ms", "min_days", "min_version", NULL };
	const char *type = json_string_value(json_object_get(o, "type"));
	int64_t n = 0;
	size_t i = 0;
	int r;

	if (!json_is_object(o))
		return bad(w, NULL, "expected an object");
	r = known_keys(w, o, keys);
	while (r == 0 && type && i < ARRAY_SIZE(types) && strcmp(types[i], type) != 0)
		i++;
	if (r == 0 && (!type || i == ARRAY_SIZE(types)))
		return bad(w, "type", "expected status, body, header, json, latency, cert or tls");
	if (r < 0)
		return r;
	a->type = (enum dt_assert_type)i;
	switch (a->type) {
	case DT_STATUS: return parse_status(w, o, a);
	case DT_BODY: return parse_body(w, o, a);
	case DT_HEADER: return parse_header(w, o, a);
	case DT_JSON: return parse_json_assert(w, o, a);
	case DT_LATENCY:
		r = parse_number_key(w, o, "max_ms", 1, 3600 * 1000, &n);
		a->max_ms = (uint64_t)n;
		return r;
	case DT_CERT:
		return parse_number_key(w, o, "min_days", 0, 3650, &a->min_days);
	case DT_TLS:
		a->min_tls = parse_tls_version(json_string_value(json_object_get(o, "min_version")));
		return a->min_tls < 0 ? bad(w, "min_version", "expected \"1.0\", \"1.1\", \"1.2\" or \"1.3\"") : 0;
	}
	return 0;
}

static int parse_extract(struct where *w, json_t *o, struct dt_extract *x)
{
	static const char *const keys[] = { "name", "from", "path", "regex", "group", "header", NULL };
	const char *from = json_string_value(json_object_get(o, "from"));
	json_t *g = json_object_get(o, "group");
	char *re = NULL;
	int r;

	if (!json_is_object(o))
		return bad(w, NULL, "expected an object");
	r = known_keys(w, o, keys);
	if (r == 0)
		r = opt_str(w, o, "name", &x->name);
	if (r == 0 && !name_valid(x->name, DIALTEST_NAME_MAX, ""))
		return bad(w, "name", "1 to %d letters, digits, '_', '.', '-'", DIALTEST_NAME_MAX);
	if (r < 0)
		return r;
	if (from && strcmp(from, "json") == 0) {
		x->from = DT_FROM_JSON;
		r = opt_str(w, o, "path", &x->path);
		if (r == 0 && (!x->path || x->path[0] != '$'))
			r = bad(w, "path", "expected a JSON path such as $.data.token");
	} else if (from && strcmp(from, "header") == 0) {
		x->from = DT_FROM_HEADER;
		r = opt_str(w, o, "header", &x->header);
		if (r == 0 && !x->header)
			r = bad(w, "header", "required with from header");
	} else if (from && strcmp(from, "regex") == 0) {
		x->from = DT_FROM_REGEX;
		r = opt_str(w, o, "regex", &re);
		if (r == 0 && !re)
			r = bad(w, "regex", "required with from regex");
		if (r == 0 && g && (!json_is_integer(g) || json_integer_value(g) < 0 || json_integer_value(g) > 9))
			r = bad(w, "group", "expected 0 to 9");
		x->group = g ? (unsigned)json_integer_value(g) : 1;
		if (r == 0)
			r = compile(w, "regex", re, &x->re);
		if (r == 0 && x->group > x->re.re_nsub) {
			r = bad(w, "group", "the regex has %zu groups", x->re.re_nsub);
			regfree(&x->re);
		}
		free(re);
	} else {
		r = bad(w, "from", "expected json, regex or header");
	}
	return r;
}

/* Each member of the object at key (up to max) through fn, with where extended by its index. */
static int each(struct where *w, json_t *o, const char *key, size_t max, size_t *n,
		int (*fn)(struct where *w, json_t *item, void *slot), void *slots, size_t slot_size)
{
	json_t *list = json_object_get(o, key), *item;
	size_t len = strlen(w->at), i;
	int r = 0;

	if (!list)
		return 0;
	if (!json_is_array(list) || json_array_size(list) > max)
		return bad(w, key, "expected a list of at most %zu", max);
	json_array_foreach(list, i, item) {
		(void)snprintf(w->at + len, sizeof(w->at) - len, "%s%s[%zu]", len ? "." : "", key, i);
		r = fn(w, item, (char *)slots + i * slot_size);
		if (r < 0)
			return r;
		*n = i + 1;
		w->at[len] = 0;
	}
	return 0;
}

static int assert_fn(struct where *w, json_t *item, void *slot)
{
	return parse_assert(w, item, slot);
}

static int extract_fn(struct where *w, json_t *item, void *slot)
{
	return parse_extract(w, item, slot);
}

static int parse_headers(struct where *w, json_t *o, struct dt_step *s)
{
	json_t *h = json_object_get(o, "headers"), *v;
	const char *k;

	if (h && (!json_is_object(h) || json_object_size(h) > DIALTEST_ITEMS_MAX))
		return bad(w, "headers", "expected an object of at most %d names and values", DIALTEST_ITEMS_MAX);
	json_object_foreach(h, k, v) {
		if (!json_is_string(v) || !*k || strpbrk(k, ": \r\n") || strpbrk(json_string_value(v), "\r\n"))
			return bad(w, "headers", "%s: expected a name without ':' or spaces and a one-line string", k);
		s->header_names[s->n_headers] = strdup(k);
		s->header_values[s->n_headers] = strdup(json_string_value(v));
		if (!s->header_names[s->n_headers++] || !s->header_values[s->n_headers - 1])
			return -ENOMEM;
	}
	return 0;
}

static int parse_auth(struct where *w, json_t *o, struct dt_step *s)
{
	json_t *basic = json_object_get(o, "basic_auth");
	int r = opt_str(w, o, "bearer", &s->bearer);

	if (r < 0 || !basic)
		return r;
	if (!json_is_object(basic) || !json_is_string(json_object_get(basic, "user")) ||
	    !json_is_string(json_object_get(basic, "password")))
		return bad(w, "basic_auth", "expected {\"user\":\"…\",\"password\":\"…\"}");
	if (s->bearer)
		return bad(w, "basic_auth", "basic_auth or bearer, not both");
	r = dup_str(json_object_get(basic, "user"), &s->basic_user);
	return r < 0 ? r : dup_str(json_object_get(basic, "password"), &s->basic_password);
}

static int parse_step(struct where *w, json_t *o, void *slot)
{
	static const char *const keys[] = { "name", "method", "url", "headers", "body", "basic_auth", "bearer",
					    "tls_verify", "tls_ca", "client_cert", "client_key", "follow_redirects",
					    "http_version", "assert", "extract", NULL };
	struct dt_step *s = slot;
	const char *v;
	int r;

	if (!json_is_object(o))
		return bad(w, NULL, "expected an object");
	r = known_keys(w, o, keys);
	if (r == 0)
		r = opt_str(w, o, "name", &s->name);
	if (r == 0 && !name_valid(s->name, DIALTEST_NAME_MAX, ""))
		return bad(w, "name", "1 to %d letters, digits, '_', '.', '-'", DIALTEST_NAME_MAX);
	if (r == 0)
		r = opt_str(w, o, "method", &s->method);
	if (r == 0 && s->method && (strlen(s->method) > 16 || strspn(s->method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") !=
									  strlen(s->method) || !*s->method))
		return bad(w, "method", "expected GET, POST, PUT, … (capitals)");
	if (r == 0)
		r = opt_str(w, o, "url", &s->url);
	if (r == 0 && (!s->url || (strncmp(s->url, "http://", 7) != 0 && strncmp(s->url, "https://", 8) != 0)))
		return bad(w, "url", "expected http:// or https://");
	if (r == 0)
		r = opt_str(w, o, "body", &s->body);
	if (r == 0)
		r = parse_headers(w, o, s);
	if (r == 0)
		r = parse_auth(w, o, s);
	if (r == 0)
		r = opt_bool(w, o, "tls_verify", true, &s->tls_verify);
	if (r == 0)
		r = opt_bool(w, o, "follow_redirects", false, &s->follow_redirects);
	if (r == 0)
		r = opt_str(w, o, "tls_ca", &s->tls_ca);
	if (r == 0)
		r = opt_str(w, o, "client_cert", &s->client_cert);
	if (r == 0)
		r = opt_str(w, o, "client_key", &s->client_key);
	if (r == 0 && !s->client_cert != !s->client_key)
		return bad(w, "client_cert", "client_cert and client_key go together");
	v = json_string_value(json_object_get(o, "http_version"));
	s->http_version = !v ? 0 : strcmp(v, "1.0") == 0 ? 10 : strcmp(v, "1.1") == 0 ? 11 : strcmp(v, "2") == 0 ? 20 : -1;
	if (r == 0 && (s->http_version < 0 || (json_object_get(o, "http_version") && !v)))
		return bad(w, "http_version", "expected \"1.0\", \"1.1\" or \"2\"");
	if (r == 0)
		r = each(w, o, "assert", DIALTEST_ITEMS_MAX, &s->n_asserts, assert_fn, s->asserts, sizeof(s->asserts[0]));
	if (r == 0)
		r = each(w, o, "extract", DIALTEST_ITEMS_MAX, &s->n_extracts, extract_fn, s->extracts,
			 sizeof(s->extracts[0]));
	return r;
}

bool dt_path_inside(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strncmp(path, dir, n) != 0 || path[n] != '/' || !path[n + 1])
		return false;
	for (const char *p = path + n; p; p = strchr(p + 1, '/'))
		if (strncmp(p, "/./", 3) == 0 || strncmp(p, "/../", 4) == 0 || strcmp(p, "/.") == 0 ||
		    strcmp(p, "/..") == 0 || strncmp(p, "//", 2) == 0)
			return false;
	return true;
}

static int parse_secrets(struct where *w, json_t *o, const struct dt_policy *policy, struct dialtest *t)
{
	json_t *all = json_object_get(o, "secrets"), *v;
	const char *k;

	if (all && (!json_is_object(all) || json_object_size(all) > DIALTEST_ITEMS_MAX))
		return bad(w, "secrets", "expected an object of at most %d names", DIALTEST_ITEMS_MAX);
	json_object_foreach(all, k, v) {
		struct dt_secret *s = &t->secrets[t->n_secrets++];
		json_t *file = json_object_get(v, "file"), *env = json_object_get(v, "env");

		if (!name_valid(k, DIALTEST_NAME_MAX, "") || !json_is_object(v) || json_object_size(v) != 1 ||
		    !(json_is_string(file) || json_is_string(env)))
			return bad(w, "secrets", "%s: expected {\"file\":\"PATH\"} or {\"env\":\"VARIABLE\"}", k);
		if (file && !dt_path_inside(json_string_value(file), policy->secrets_dir))
			return bad(w, "secrets", "%s: a file in %s ([dialtests] secrets_dir), not %s", k,
				   policy->secrets_dir, json_string_value(file));
		if (env && strncmp(json_string_value(env), policy->secrets_env, strlen(policy->secrets_env)) != 0)
			return bad(w, "secrets", "%s: a variable whose name starts with %s ([dialtests] secrets_env_prefix),"
				   " not %s", k, policy->secrets_env, json_string_value(env));
		s->name = strdup(k);
		s->file = file ? strdup(json_string_value(file)) : NULL;
		s->env = env ? strdup(json_string_value(env)) : NULL;
		if (!s->name || (!s->file && !s->env))
			return -ENOMEM;
	}
	return 0;
}

bool dt_header_plain(const char *name)
{
	static const char *const plain[] = { "Accept", "Accept-Language", "Cache-Control", "Content-Type", "User-Agent" };

	for (size_t i = 0; i < ARRAY_SIZE(plain); i++)
		if (strcasecmp(name, plain[i]) == 0)
			return true;
	return false;
}

/* What of t would be handed to every agent that runs it: a credential, or a file of the collector's; NULL: none. */
static const char *credential_of(const struct dialtest *t)
{
	if (t->n_secrets)
		return "secrets";
	for (size_t i = 0; i < t->n_steps; i++) {
		const struct dt_step *s = &t->steps[i];

		if (s->bearer || s->basic_password)
			return s->bearer ? "bearer" : "basic_auth";
		if (s->tls_ca || s->client_cert)
			return s->tls_ca ? "tls_ca" : "client_cert";
		for (size_t h = 0; h < s->n_headers; h++)
			if (!dt_header_plain(s->header_names[h]))
				return "headers";
	}
	return NULL;
}

/* A selector {"zone": "internet"} into "zone=internet", as control/compose.h matches it. */
static int selector_of(struct where *w, json_t *o, char **ret)
{
	char sel[DIALTEST_SELECTOR_MAX] = "";
	const char *k;
	size_t n = 0;
	json_t *v;

	json_object_foreach(o, k, v) {
		const char *val = json_string_value(v);

		if (!val || !*k || strpbrk(k, " =") || !*val || strchr(val, ' '))
			return bad(w, "run_on", "%s: expected a label's name and its value, as [agent] labels has them", k);
		if (n < sizeof(sel))
			n += (size_t)snprintf(sel + n, sizeof(sel) - n, "%s%s=%s", n ? " " : "", k, val);
	}
	if (n == 0 || n >= sizeof(sel) || labels_check(sel, &(const char *){ NULL }, &(size_t){ 0 }) < 0)
		return bad(w, "run_on", "a selector holds 1 label or more, within %d bytes", DIALTEST_SELECTOR_MAX - 1);
	*ret = strdup(sel);
	return *ret ? 0 : -ENOMEM;
}

/* run_on: ["collector", {"zone": "internet"}, ...]; the collector alone when absent. */
static int parse_run_on(struct where *w, json_t *def, struct dialtest *t)
{
	json_t *all = json_object_get(def, "run_on"), *v;
	const char *cred;
	size_t i;
	int r = 0;

	t->on_collector = !all;
	if (all && (!json_is_array(all) || json_array_size(all) == 0))
		return bad(w, "run_on",
			   "expected a list of \"collector\" and label selectors such as {\"zone\": \"internet\"}");
	json_array_foreach(all, i, v) {
		if (json_is_string(v) && strcmp(json_string_value(v), "collector") == 0)
			t->on_collector = true;
		else if (!json_is_object(v))
			return bad(w, "run_on", "[%zu]: expected \"collector\" or a label selector", i);
		else if (t->n_vantages == DIALTEST_VANTAGES_MAX)
			return bad(w, "run_on", "at most %d selectors", DIALTEST_VANTAGES_MAX);
		else if ((r = selector_of(w, v, &t->vantages[t->n_vantages])) < 0)
			return r;
		else
			t->n_vantages++;
	}
	cred = t->n_vantages ? credential_of(t) : NULL;
	if (cred)
		return bad(w, "run_on", "a test run on agents goes to every one of them: it may hold no credential"
			   " or file of the collector's (it has %s); run it on the collector alone", cred);
	return 0;
}

/* fail_when: "K of N"; "1 of 0" (any vantage's failure) when absent. */
static int parse_fail_when(struct where *w, json_t *def, struct dialtest *t)
{
	json_t *v = json_object_get(def, "fail_when");
	unsigned k, n;
	int used = 0;

	t->fail_k = 1;
	if (!v)
		return 0;
	if (!json_is_string(v) || sscanf(json_string_value(v), "%u of %u%n", &k, &n, &used) != 2 ||
	    json_string_value(v)[used] || k == 0 || k > n || n > DIALTEST_QUORUM_MAX)
		return bad(w, "fail_when", "expected \"K of N\", 1 <= K <= N <= %d: failing when K vantages fail",
			   DIALTEST_QUORUM_MAX);
	t->fail_k = k;
	t->fail_n = n;
	return 0;
}

static int step_fn(struct where *w, json_t *item, void *slot)
{
	return parse_step(w, item, slot);
}

int dialtest_parse(json_t *def, const struct dt_policy *policy, struct dialtest **ret, char *err, size_t err_size)
{
	static const char *const keys[] = { "name", "interval", "timeout", "retries", "labels", "enabled",
					    "secrets", "steps", "run_on", "fail_when", "id", "author", "created", "updated",
					    NULL };
	struct where w = { .err = err, .err_size = err_size };
	struct dialtest *t = calloc(1, sizeof(*t));
	json_t *retries, *labels, *v;
	const char *k;
	int r;

	if (!t)
		return -ENOMEM;
	r = json_is_object(def) ? known_keys(&w, def, keys) : bad(&w, NULL, "expected a JSON object");
	if (r == 0)
		r = opt_str(&w, def, "name", &t->name);
	if (r == 0 && !name_valid(t->name, DIALTEST_NAME_MAX, ""))
		r = bad(&w, "name", "1 to %d letters, digits, '_', '.', '-'", DIALTEST_NAME_MAX);
	if (r == 0)
		r = opt_duration(&w, def, "interval", 60000, 1000, 86400000, &t->interval_us);
	if (r == 0)
		r = opt_duration(&w, def, "timeout", 10000, 100, 120000, &t->timeout_us);
	retries = json_object_get(def, "retries");
	if (r == 0 && retries && (!json_is_integer(retries) || json_integer_value(retries) < 0 ||
				  json_integer_value(retries) > 3))
		r = bad(&w, "retries", "expected 0 to 3");
	t->retries = retries ? (unsigned)json_integer_value(retries) : 0;
	if (r == 0)
		r = opt_bool(&w, def, "enabled", true, &t->enabled);
	labels = json_object_get(def, "labels");
	json_object_foreach(labels, k, v)
		if (r == 0 && (!json_is_string(v) || !name_valid(k, 64, "")))
			r = bad(&w, "labels", "%s: expected a name of letters, digits, '_', '.', '-' and a string", k);
	if (r == 0 && labels && !json_is_object(labels))
		r = bad(&w, "labels", "expected an object of names and strings");
	t->labels = labels ? json_deep_copy(labels) : json_object();
	if (r == 0)
		r = parse_secrets(&w, def, policy, t);
	if (r == 0 && (!json_is_array(json_object_get(def, "steps")) ||
		       json_array_size(json_object_get(def, "steps")) == 0))
		r = bad(&w, "steps", "expected a list of 1 to %d steps", DIALTEST_STEPS_MAX);
	if (r == 0)
		r = each(&w, def, "steps", DIALTEST_STEPS_MAX, &t->n_steps, step_fn, t->steps, sizeof(t->steps[0]));
	for (size_t i = 0; r == 0 && i < t->n_steps; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(t->steps[i].name, t->steps[j].name) == 0)
				r = bad(&w, "steps", "two steps are called %s", t->steps[i].name);
	if (r == 0)
		r = parse_run_on(&w, def, t);
	if (r == 0)
		r = parse_fail_when(&w, def, t);
	if (r < 0) {
		dialtest_free(t);
		return r;
	}
	*ret = t;
	return 0;
}

static void step_free(struct dt_step *s)
{
	free(s->name);
	free(s->method);
	free(s->url);
	free(s->body);
	for (size_t i = 0; i < s->n_headers; i++) {
		free(s->header_names[i]);
		free(s->header_values[i]);
	}
	free(s->basic_user);
	free(s->basic_password);
	free(s->bearer);
	free(s->tls_ca);
	free(s->client_cert);
	free(s->client_key);
	for (size_t i = 0; i < DIALTEST_ITEMS_MAX; i++) {
		struct dt_assert *a = &s->asserts[i];

		/* Only those parsed whole have their regex compiled. */
		if ((a->type == DT_BODY || a->type == DT_HEADER) && a->match != DT_CONTAINS && i < s->n_asserts)
			regfree(&a->re);
		free(a->text);
		free(a->header);
		free(a->path);
		json_decref(a->value);
	}
	for (size_t i = 0; i < DIALTEST_ITEMS_MAX; i++) {
		struct dt_extract *x = &s->extracts[i];

		if (x->from == DT_FROM_REGEX && i < s->n_extracts)
			regfree(&x->re);
		free(x->name);
		free(x->path);
		free(x->header);
	}
}

void dialtest_free(struct dialtest *t)
{
	if (!t)
		return;
	free(t->name);
	json_decref(t->labels);
	for (size_t i = 0; i < DIALTEST_ITEMS_MAX; i++) {
		free(t->secrets[i].name);
		free(t->secrets[i].file);
		free(t->secrets[i].env);
	}
	for (size_t i = 0; i < DIALTEST_STEPS_MAX; i++)
		step_free(&t->steps[i]);
	for (size_t i = 0; i < t->n_vantages; i++)
		free(t->vantages[i]);
	free(t);
}
