/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The regex parser: POSIX extended regexes (glibc's, with \w \s \b), whose
 * groups written (?<name>…) (or Python's (?P<name>…)) become fields. POSIX
 * has no named groups: the names are taken out before regcomp() and kept
 * by group number, every '(' outside a bracket expression being a group.
 */
#include "config.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/regex.h"
#include "parse/parser.h"

#define GROUPS_MAX 32
#define GROUP_NAME_MAX 64

struct named {
	regex_t re;
	size_t n_groups;                          /* groups in the regex, named or not */
	char names[GROUPS_MAX + 1][GROUP_NAME_MAX + 1]; /* by group number; "" when unnamed */
	size_t named;
	struct buf line; /* the line NUL-terminated for regexec() */
};

/* Past a bracket expression from just after its '[': "[]a]" and "[^]a]" hold ']', "[[:alpha:]]" a class. */
static const char *past_bracket(const char *s)
{
	if (*s == '^')
		s++;
	if (*s == ']')
		s++;
	while (*s && *s != ']') {
		if (*s == '[' && (s[1] == ':' || s[1] == '.' || s[1] == '=')) {
			const char *e = strstr(s + 2, (char[]){ s[1], ']', '\0' });
			if (!e)
				return NULL;
			s = e + 2;
		} else {
			s++;
		}
	}
	return *s ? s + 1 : NULL;
}

/* A group's "(?<name>" or "(?P<name>" from its '?': the name into g->names, *sp past the '>'. */
static int group_name(struct named *g, const char **sp, char *err, size_t err_size)
{
	const char *s = *sp + 1, *e;

	if (*s == 'P')
		s++;
	if (*s != '<') {
		(void)snprintf(err, err_size, "pattern: '(?' other than (?<name>…) is not POSIX");
		return -EINVAL;
	}
	for (e = ++s; (*e >= 'a' && *e <= 'z') || (*e >= 'A' && *e <= 'Z') || (*e >= '0' && *e <= '9') || *e == '_'; e++)
		;
	if (*e != '>' || e == s || (size_t)(e - s) > GROUP_NAME_MAX) {
		(void)snprintf(err, err_size, "pattern: a group's name is letters, digits and '_', then '>'");
		return -EINVAL;
	}
	memcpy(g->names[g->n_groups], s, (size_t)(e - s));
	g->names[g->n_groups][e - s] = '\0';
	g->named++;
	*sp = e + 1;
	return 0;
}

/* pattern without the names into out (as long as pattern at most). */
static int strip_names(struct named *g, const char *pattern, char *out, char *err, size_t err_size)
{
	const char *s = pattern;
	char *o = out;

	while (*s) {
		if (*s == '\\' && s[1]) {
			*o++ = *s++;
			*o++ = *s++;
		} else if (*s == '[') {
			const char *e = past_bracket(s + 1);
			if (!e) {
				(void)snprintf(err, err_size, "pattern: '[' without ']'");
				return -EINVAL;
			}
			memcpy(o, s, (size_t)(e - s));
			o += e - s;
			s = e;
		} else if (*s == '(') {
			if (++g->n_groups > GROUPS_MAX) {
				(void)snprintf(err, err_size, "pattern: more than %d groups", GROUPS_MAX);
				return -EINVAL;
			}
			*o++ = *s++;
			if (*s == '?' && group_name(g, &s, err, err_size) < 0)
				return -EINVAL;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	if (!g->named) {
		(void)snprintf(err, err_size, "pattern: no (?<name>…) group: nothing would become a field");
		return -EINVAL;
	}
	return 0;
}

static void named_free(void *state)
{
	struct named *g = state;

	if (!g)
		return;
	regfree(&g->re);
	buf_free(&g->line);
	free(g);
}

static int named_compile(const char *pattern, void **ret, char *err, size_t err_size)
{
	struct named *g;
	char *plain;
	int r;

	if (!pattern) {
		(void)snprintf(err, err_size, "pattern: required for format=regex");
		return -EINVAL;
	}
	g = calloc(1, sizeof(*g));
	plain = malloc(strlen(pattern) + 1);
	if (!g || !plain) {
		free(g);
		free(plain);
		return -ENOMEM;
	}
	/* Group numbers start at 1: names[0] is the whole match's, never named. */
	r = strip_names(g, pattern, plain, err, err_size);
	if (r == 0) {
		char why[256];
		r = regex_compile(&g->re, plain, REG_EXTENDED, why, sizeof(why));
		if (r < 0)
			(void)snprintf(err, err_size, "pattern: %s", why);
	}
	free(plain);
	if (r < 0) {
		free(g);
		return r;
	}
	buf_init(&g->line, SIZE_MAX);
	*ret = g;
	return 0;
}

static int named_run(void *state, const char *line, size_t len, struct parse_out *o)
{
	struct named *g = state;
	regmatch_t m[GROUPS_MAX + 1];
	int r;

	buf_reset(&g->line);
	if (buf_append(&g->line, line, len) < 0 || buf_terminate(&g->line) < 0)
		return -ENOMEM;
	/* A NUL in the line ends what regexec() sees: the fields come from the text before it. */
	if (regexec(&g->re, (const char *)g->line.data, g->n_groups + 1, m, 0) != 0)
		return 0;
	for (size_t i = 1; i <= g->n_groups; i++) {
		if (!g->names[i][0] || m[i].rm_so < 0)
			continue;
		r = parse_put(o, g->names[i], strlen(g->names[i]), line + m[i].rm_so,
			      (size_t)(m[i].rm_eo - m[i].rm_so));
		if (r < 0)
			return r;
	}
	return 1;
}

const struct parser_ops parser_regex_ops = {
	.name = "regex", .compile = named_compile, .run = named_run, .free = named_free,
};
