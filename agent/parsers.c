/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/parsers.h"
#include "common/export.h"
#include "common/log.h"
#include "common/util.h"
#include "parse/parser.h"

struct agent_parser {
	const struct parser_conf *conf;
	struct parser *p;
	char priority_key[EXPORT_KEY_MAX + 1]; /* priority_field as parse_out names it */
	size_t priority_key_len;               /* 0: no priority_field */
};

struct parser_set {
	struct agent_parser *parsers;
	size_t n;
};

int parser_set_new(const struct agent_conf *c, struct parser_set **ret)
{
	struct parser_set *s = calloc(1, sizeof(*s));
	int r = 0;

	if (!s || (c->n_parsers && !(s->parsers = calloc(c->n_parsers, sizeof(*s->parsers))))) {
		free(s);
		return -ENOMEM;
	}
	for (; s->n < c->n_parsers && r == 0; s->n++) {
		struct agent_parser *ap = &s->parsers[s->n];
		const struct parser_conf *pc = c->parsers[s->n];
		char err[512];

		ap->conf = pc;
		r = parser_new(pc->format, pc->pattern, &ap->p, err, sizeof(err));
		if (r == -EINVAL)
			log_error("[parser \"%s\"] %s", pc->name, err);
		if (r == 0 && pc->priority_field)
			ap->priority_key_len = parse_field_name(pc->priority_field, strlen(pc->priority_field),
								ap->priority_key);
	}
	if (r < 0) {
		parser_set_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void parser_set_free(struct parser_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		parser_free(s->parsers[i].p);
	free(s->parsers);
	free(s);
}

struct agent_parser *parser_set_find(struct parser_set *s, const char *name)
{
	for (size_t i = 0; name && i < s->n; i++)
		if (strcmp(s->parsers[i].conf->name, name) == 0)
			return &s->parsers[i];
	return NULL;
}

bool parser_set_for_journal_any(const struct parser_set *s)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (s->parsers[i].conf->units || s->parsers[i].conf->identifiers)
			return true;
	return false;
}

struct agent_parser *parser_set_for_journal(struct parser_set *s, const char *unit, size_t unit_len,
					    const char *ident, size_t ident_len)
{
	for (size_t i = 0; i < s->n; i++)
		if (list_has_word(s->parsers[i].conf->units, unit, unit_len) ||
		    list_has_word(s->parsers[i].conf->identifiers, ident, ident_len))
			return &s->parsers[i];
	return NULL;
}

int agent_parser_run(struct agent_parser *ap, const char *line, size_t len, struct buf *out, int *priority)
{
	struct parse_out o = { .b = out, .level_key = ap->priority_key_len ? ap->priority_key : NULL,
			       .level = priority };
	int r;

	*priority = -1;
	r = parser_run(ap->p, line, len, &o);
	if (r <= 0)
		*priority = -1;
	return r;
}
