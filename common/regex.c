/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/macro.h"
#include "common/regex.h"

#define DEPTH_MAX 64

/* One level of groups being measured: the elements so far, and the last atom's. */
struct level {
	unsigned long size, last;
};

/* Past a bracket expression starting at p ('['); its end when unterminated (regcomp says why). */
static const char *bracket_end(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	for (; *p && *p != ']'; p++)
		if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			const char *close = strchr(p + 2, p[1]);

			while (close && close[1] != ']')
				close = strchr(close + 1, p[1]);
			if (!close)
				return p + strlen(p);
			p = close + 1;
		}
	return *p ? p + 1 : p;
}

/* Digits at *p as a number, no larger than REGEX_MAX_REPEAT + 1; advances *p past them all. */
static unsigned long count_at(const char **p)
{
	unsigned long n = 0;

	for (; **p >= '0' && **p <= '9'; (*p)++)
		n = MIN(n * 10 + (unsigned long)(**p - '0'), REGEX_MAX_REPEAT + 1ul);
	return n;
}

/* A bound {m}, {m,}, {m,n} or {,n} (glibc's {0,n}) at p into its largest count; its length, or 0 when p holds none. */
static size_t bound(const char *p, unsigned long *count)
{
	const char *q = p + 1;
	unsigned long m, n;

	if ((*q < '0' || *q > '9') && *q != ',')
		return 0;
	m = n = count_at(&q);
	if (*q == ',') {
		q++;
		/* {m,}: m copies and a star */
		n = *q >= '0' && *q <= '9' ? count_at(&q) : m + 1;
	}
	if (*q != '}')
		return 0;
	*count = MAX(m, n);
	return (size_t)(q - p) + 1;
}

/* Why pattern could blow up regcomp(), or NULL. */
static const char *too_costly(const char *pattern)
{
	struct level lv[DEPTH_MAX] = { { 0, 0 } };
	size_t depth = 0, len;
	bool quantified = false;
	unsigned long count;

	if (strlen(pattern) > REGEX_MAX_LEN)
		return "longer than 1024 bytes";
	for (const char *p = pattern; *p;) {
		bool quantifier = *p == '*' || *p == '+' || *p == '?' || (*p == '{' && bound(p, &count));

		if (quantifier && quantified)
			return "a quantifier right after another (a++, a{2}*): group the first, (a+)+";
		quantified = quantifier;
		if (*p == '*' || *p == '?') {
			p++;
		} else if (*p == '+') {
			lv[depth].size += lv[depth].last;
			p++;
		} else if (quantifier) {
			if (count > REGEX_MAX_REPEAT)
				return "a count above 1000 in {m,n}";
			lv[depth].size += lv[depth].last * (count ? count - 1 : 0);
			lv[depth].last *= count;
			p += bound(p, &count);
		} else if (*p == '(') {
			if (++depth == DEPTH_MAX)
				return "groups nested more than 63 deep";
			lv[depth] = (struct level){ 0, 0 };
			p++;
		} else if (*p == ')' && depth > 0) {
			unsigned long inner = MAX(lv[depth].size, 1ul);

			depth--;
			lv[depth].size += inner;
			lv[depth].last = inner;
			p++;
		} else if (*p == '|' || *p == '^' || *p == '$') {
			lv[depth].last = 0;
			p++;
		} else {
			len = *p == '[' ? (size_t)(bracket_end(p) - p) : *p == '\\' && p[1] ? 2 : 1;
			lv[depth].size++;
			lv[depth].last = 1;
			p += len;
		}
		if (lv[depth].size > REGEX_MAX_EXPANDED)
			return "it would grow past 20,000 elements once its repetitions are copied out";
	}
	return NULL;
}

int regex_compile(regex_t *re, const char *pattern, int cflags, char *err, size_t err_size)
{
	const char *why = too_costly(pattern);
	int e;

	if (why) {
		(void)snprintf(err, err_size, "%s", why);
		return -EINVAL;
	}
	e = regcomp(re, pattern, cflags);
	if (e != 0) {
		(void)regerror(e, re, err, err_size);
		return -EINVAL;
	}
	return 0;
}
