/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_AGENT_PARSERS_H
#define VIGIL_AGENT_PARSERS_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/agent_conf.h"
#include "common/buf.h"

/*
 * The [parser] sections compiled, and who uses which: a tail by its
 * parser= key, the journal by the units and identifiers a parser lists.
 * The set borrows the config; one thread uses it.
 */
struct parser_set;
struct agent_parser;

/* 0, -EINVAL (a section the config check would have refused), -ENOMEM. Owned: parser_set_free(). */
int parser_set_new(const struct agent_conf *c, struct parser_set **ret);
void parser_set_free(struct parser_set *s);

/* Whether any parser lists journal units or identifiers. */
bool parser_set_for_journal_any(const struct parser_set *s);
/* The parser named (a tail's parser= key), or NULL. */
struct agent_parser *parser_set_find(struct parser_set *s, const char *name);
/* The parser of a journal entry with this unit and identifier (either may be NULL; not NUL-terminated), or NULL. */
struct agent_parser *parser_set_for_journal(struct parser_set *s, const char *unit, size_t unit_len,
					    const char *ident, size_t ident_len);

/*
 * line's fields appended to out (export format). 1: parsed, with *priority
 * the level of the priority_field (-1 if none); 0: not in the format,
 * out as it was. -ENOBUFS from out, as it was too.
 */
int agent_parser_run(struct agent_parser *ap, const char *line, size_t len, struct buf *out, int *priority);

#endif
