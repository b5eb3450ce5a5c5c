/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Web servers' access logs: a log format (nginx's log_format, Apache's
 * LogFormat) compiled into literals and variables, matched left to right:
 * a variable's value runs up to the literal after it.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "parse/parser.h"

#define WEB_ITEMS_MAX 64
#define WEB_FORMAT_MAX 1024

struct item {
	bool var;
	const char *text; /* a literal (into the program's copy of the format), or a field name (into names) */
	size_t len;
};

struct program {
	char *text;
	char names[WEB_FORMAT_MAX]; /* the names made for Apache's %{Header}i */
	size_t names_len;
	struct item items[WEB_ITEMS_MAX];
	size_t n;
};
static const char NGINX_COMBINED[] = "$remote_addr - $remote_user [$time_local] \"$request\" $status "
				     "$body_bytes_sent \"$http_referer\" \"$http_user_agent\"";
static const char NGINX_MAIN[] = "$remote_addr - $remote_user [$time_local] \"$request\" $status "
				 "$body_bytes_sent \"$http_referer\" \"$http_user_agent\" \"$http_x_forwarded_for\"";
static const char APACHE_COMBINED[] = "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-agent}i\"";
static const char APACHE_COMMON[] = "%h %l %u %t \"%r\" %>s %b";

/* Apache's directives, by letter, named as nginx names the same thing. */
static const char *apache_name(char c)
{
	static const struct { char c; const char *name; } names[] = {
		{ 'a', "remote_addr" }, { 'h', "remote_addr" }, { 'A', "server_addr" }, { 'l', "ident" },
		{ 'u', "remote_user" }, { 't', "time_local" }, { 'r', "request" }, { 's', "status" },
		{ 'b', "body_bytes_sent" }, { 'B', "body_bytes_sent" }, { 'D', "request_time_us" },
		{ 'T', "request_time" }, { 'v', "server_name" }, { 'V', "server_name" }, { 'U', "request_path" },
		{ 'q', "query_string" }, { 'm', "request_method" }, { 'H', "server_protocol" },
		{ 'p', "server_port" }, { 'P', "pid" }, { 'O', "bytes_sent" }, { 'I', "bytes_received" },
		{ 'X', "connection_status" }, { 'k', "keepalive_requests" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].c == c)
			return names[i].name;
	return NULL;
}

static int add(struct program *pg, bool var, const char *text, size_t len, char *err, size_t err_size)
{
	if (len == 0)
		return 0;
	/* Two variables side by side cannot be told apart; a literal merges with the one before it. */
	if (pg->n && !var && !pg->items[pg->n - 1].var && pg->items[pg->n - 1].text + pg->items[pg->n - 1].len == text) {
		pg->items[pg->n - 1].len += len;
		return 0;
	}
	if (var && pg->n && pg->items[pg->n - 1].var) {
		(void)snprintf(err, err_size, "pattern: two variables with nothing between them cannot be told apart");
		return -EINVAL;
	}
	if (pg->n == WEB_ITEMS_MAX) {
		(void)snprintf(err, err_size, "pattern: more than %d pieces", WEB_ITEMS_MAX);
		return -EINVAL;
	}
	pg->items[pg->n++] = (struct item){ var, text, len };
	return 0;
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* nginx: $name or ${name}; the rest is literal. The program's text is rewritten in place. */
static int compile_nginx(struct program *pg, char *err, size_t err_size)
{
	char *s = pg->text;
	int r = 0;

	while (*s && r == 0) {
		char *v = s + 1, *e;
		if (*s != '$') {
			r = add(pg, false, s, 1, err, err_size);
			s++;
			continue;
		}
		if (*v == '{') {
			e = strchr(++v, '}');
			if (!e) {
				(void)snprintf(err, err_size, "pattern: '${' without '}'");
				return -EINVAL;
			}
			s = e + 1;
		} else {
			for (e = v; is_name_char(*e); e++)
				;
			s = e;
		}
		if (e == v) {
			(void)snprintf(err, err_size, "pattern: '$' without a variable name");
			return -EINVAL;
		}
		r = add(pg, true, v, (size_t)(e - v), err, err_size);
	}
	return r;
}

/* One Apache directive after its '%': its modifiers, {argument} and letter. */
static int apache_directive(struct program *pg, char **sp, char *err, size_t err_size)
{
	char *s = *sp, *arg = NULL, *argend = NULL;
	const char *name;

	while (*s == '<' || *s == '>' || *s == '!' || *s == ',' || (*s >= '0' && *s <= '9'))
		s++;
	if (*s == '{') {
		arg = s + 1;
		argend = strchr(arg, '}');
		if (!argend) {
			(void)snprintf(err, err_size, "pattern: '%%{' without '}'");
			return -EINVAL;
		}
		s = argend + 1;
	}
	*sp = s + 1;
	/* %{Header}i is the request's header: nginx's $http_header. */
	if (*s == 'i' && arg) {
		size_t n = (size_t)(argend - arg);
		char *dst = pg->names + pg->names_len;
		if (pg->names_len + n + 5 > sizeof(pg->names))
			return -EINVAL;
		memcpy(dst, "http_", 5);
		memcpy(dst + 5, arg, n);
		pg->names_len += n + 5;
		return add(pg, true, dst, n + 5, err, err_size);
	}
	name = apache_name(*s);
	if (!name) {
		(void)snprintf(err, err_size, "pattern: %%%c is not a LogFormat directive this parser knows", *s ? *s : ' ');
		return -EINVAL;
	}
	return add(pg, true, name, strlen(name), err, err_size);
}

static int compile_apache(struct program *pg, char *err, size_t err_size)
{
	char *s = pg->text;
	int r = 0;

	while (*s && r == 0) {
		if (*s == '%' && s[1] == '%') {
			r = add(pg, false, s + 1, 1, err, err_size);
			s += 2;
		} else if (*s == '%') {
			s++;
			r = apache_directive(pg, &s, err, err_size);
		} else {
			/* httpd.conf writes quotes as \": pasted from there, they mean '"'. */
			if (*s == '\\' && s[1] == '"')
				s++;
			r = add(pg, false, s, 1, err, err_size);
			s++;
		}
	}
	return r;
}

static void program_free(void *state)
{
	struct program *pg = state;

	if (!pg)
		return;
	free(pg->text);
	free(pg);
}

static int compile(const char *pattern, void **ret, char *err, size_t err_size,
		   int (*compile_as)(struct program *, char *, size_t))
{
	struct program *pg;
	int r;

	if (strlen(pattern) > WEB_FORMAT_MAX) {
		(void)snprintf(err, err_size, "pattern: longer than %d bytes", WEB_FORMAT_MAX);
		return -EINVAL;
	}
	pg = calloc(1, sizeof(*pg));
	if (!pg || !(pg->text = strdup(pattern))) {
		free(pg);
		return -ENOMEM;
	}
	r = compile_as(pg, err, err_size);
	if (r == 0 && pg->n == 0) {
		(void)snprintf(err, err_size, "pattern: empty");
		r = -EINVAL;
	}
	if (r < 0) {
		program_free(pg);
		return r;
	}
	*ret = pg;
	return 0;
}

static int nginx_compile(const char *pattern, void **ret, char *err, size_t err_size)
{
	if (!pattern || strcmp(pattern, "combined") == 0)
		pattern = NGINX_COMBINED;
	else if (strcmp(pattern, "main") == 0)
		pattern = NGINX_MAIN;
	return compile(pattern, ret, err, err_size, compile_nginx);
}

static int apache_compile(const char *pattern, void **ret, char *err, size_t err_size)
{
	if (!pattern || strcmp(pattern, "combined") == 0)
		pattern = APACHE_COMBINED;
	else if (strcmp(pattern, "common") == 0)
		pattern = APACHE_COMMON;
	return compile(pattern, ret, err, err_size, compile_apache);
}

/* The literal lit at or after p, not escaped (a '"' written \" inside a value); NULL if none. */
static const char *find_literal(const char *p, const char *end, const struct item *lit)
{
	while (p < end) {
		const char *f = memmem(p, (size_t)(end - p), lit->text, lit->len);
		if (!f || f == p || f[-1] != '\\')
			return f;
		p = f + 1;
	}
	return NULL;
}

/* "GET /a?b=1 HTTP/1.1": its method, URI, path and protocol, as nginx names them. */
static int put_request(struct parse_out *o, const char *v, size_t len)
{
	const char *end = v + len, *sp1 = memchr(v, ' ', len), *sp2, *uri, *q;
	int r;

	if (!sp1)
		return 0;
	uri = sp1 + 1;
	sp2 = memchr(uri, ' ', (size_t)(end - uri));
	if (!sp2)
		sp2 = end;
	q = memchr(uri, '?', (size_t)(sp2 - uri));
	r = parse_put(o, "request_method", 14, v, (size_t)(sp1 - v));
	if (r == 0)
		r = parse_put(o, "request_uri", 11, uri, (size_t)(sp2 - uri));
	if (r == 0)
		r = parse_put(o, "request_path", 12, uri, (size_t)((q ? q : sp2) - uri));
	if (r == 0 && sp2 < end)
		r = parse_put(o, "server_protocol", 15, sp2 + 1, (size_t)(end - sp2 - 1));
	return r;
}

static int put_var(struct parse_out *o, const struct item *it, const char *v, size_t len)
{
	int r;

	/* Apache's %t keeps its brackets, nginx's [$time_local] has them outside. */
	if (it->len == 10 && memcmp(it->text, "time_local", 10) == 0 && len >= 2 && v[0] == '[' && v[len - 1] == ']')
		v++, len -= 2;
	r = parse_put(o, it->text, it->len, v, len);
	if (r == 0 && it->len == 7 && memcmp(it->text, "request", 7) == 0)
		r = put_request(o, v, len);
	if (r == 0 && it->len == 6 && memcmp(it->text, "status", 6) == 0 && len == 3 && v[0] >= '1' && v[0] <= '5') {
		char cls[3] = { v[0], 'x', 'x' };
		r = parse_put(o, "status_class", 12, cls, 3);
	}
	return r;
}

/* Text after the last piece is allowed: a format often gains fields at its end. */
static int web_run(void *state, const char *line, size_t len, struct parse_out *o)
{
	const struct program *pg = state;
	const char *p = line, *end = line + len;
	int r = 0;

	for (size_t i = 0; i < pg->n && r == 0; i++) {
		const struct item *it = &pg->items[i];
		const char *stop;
		if (!it->var) {
			if ((size_t)(end - p) < it->len || memcmp(p, it->text, it->len) != 0)
				return 0;
			p += it->len;
			continue;
		}
		stop = i + 1 < pg->n ? find_literal(p, end, &pg->items[i + 1]) : end;
		if (!stop)
			return 0;
		r = put_var(o, it, p, (size_t)(stop - p));
		p = stop;
	}
	return r < 0 ? r : 1;
}

const struct parser_ops parser_nginx_ops = {
	.name = "nginx", .compile = nginx_compile, .run = web_run, .free = program_free,
};

const struct parser_ops parser_apache_ops = {
	.name = "apache", .compile = apache_compile, .run = web_run, .free = program_free,
};
