/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "common/export.h"
#include "common/fields.h"
#include "common/macro.h"
#include "parse/out.h"

size_t parse_field_name(const char *key, size_t klen, char *out)
{
	size_t i = 0, n = 0;

	while (i < klen && !((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= 'A' && key[i] <= 'Z')))
		i++;
	for (; i < klen && n < EXPORT_KEY_MAX; i++) {
		char c = key[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			c = '_';
		out[n++] = c;
	}
	out[n] = '\0';
	return n;
}

static bool taken(const char *name, size_t n)
{
	static const char *const own[] = { FIELD_MESSAGE, FIELD_PRIORITY, FIELD_IDENTIFIER };

	if (field_reserved(name, n) || (n >= 10 && memcmp(name, "CONTAINER_", 10) == 0) ||
	    (n >= 4 && memcmp(name, "K8S_", 4) == 0))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(own); i++)
		if (strlen(own[i]) == n && memcmp(own[i], name, n) == 0)
			return true;
	return false;
}

int parse_put(struct parse_out *o, const char *key, size_t klen, const void *value, size_t vlen)
{
	char name[FIELD_LEN(FIELD_RENAMED_PREFIX) + EXPORT_KEY_MAX + 1];
	size_t p = FIELD_LEN(FIELD_RENAMED_PREFIX), n;

	if (vlen == 0 || (vlen == 1 && *(const char *)value == '-'))
		return 0;
	n = parse_field_name(key, klen, name + p);
	if (n == 0 || o->n >= PARSE_FIELDS_MAX) {
		o->dropped++;
		return 0;
	}
	if (taken(name + p, n)) {
		memcpy(name, FIELD_RENAMED_PREFIX, p);
		n = MIN(n + p, (size_t)EXPORT_KEY_MAX);
		p = 0;
	}
	o->n++;
	if (o->level_key && strcmp(o->level_key, name + p) == 0)
		*o->level = parse_level(value, vlen);
	return export_put_n(o->b, name + p, n, value, vlen);
}

int parse_level(const char *v, size_t len)
{
#define W(s, p) { s, sizeof(s) - 1, p }
	static const struct { const char *word; size_t len; int prio; } words[] = {
		W("EMERG", 0), W("PANIC", 0), W("ALERT", 1), W("CRIT", 2), W("CRITICAL", 2),
		W("FATAL", 2), W("ERROR", 3), W("ERR", 3), W("WARNING", 4), W("WARN", 4),
		W("NOTICE", 5), W("INFO", 6), W("DEBUG", 7), W("TRACE", 7),
	};
#undef W

	if (len == 1 && v[0] >= '0' && v[0] <= '7')
		return v[0] - '0';
	for (size_t k = 0; k < ARRAY_SIZE(words); k++)
		if (words[k].len == len && strncasecmp(v, words[k].word, len) == 0)
			return words[k].prio;
	return -1;
}
