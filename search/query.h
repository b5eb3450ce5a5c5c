/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_QUERY_H
#define VIGIL_QUERY_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/export.h"

/*
 * The log query language (docs/logs.md has the grammar and examples):
 *
 *   error timeout          both words (AND is implied; "AND" may be written)
 *   "connection reset"     a phrase
 *   error OR warn          either; OR binds looser than AND
 *   -debug, NOT debug      not
 *   (a OR b) c             grouping
 *   /time ?out/            a POSIX extended regex on the message (/…/i: any case)
 *   status:502             a field equal to a value (status:"a b" too)
 *   status:>=500           a number compared: > >= < <=
 *   path:/^\/api\//        a field's value matched by a regex
 *   host: source: unit: priority:   the record's host, stream, systemd unit, priority (a number or err, warning…)
 *
 * Words and phrases match the message: case-insensitively (ASCII), and
 * where they begin or end with a letter, digit or '_', not inside a longer
 * word ("error" is not found in "errors"; outside ASCII, where words are not
 * spaced, anywhere: "失败" is found in "登录失败"). Field names are
 * case-insensitive; values compare folded (ASCII).
 *
 * Parsing is pure and bounded (QUERY_MAX bytes, QUERY_NODES terms and
 * operators, QUERY_DEPTH nesting). A parsed query is read-only: several
 * threads may match with it, each with its own query_scratch.
 */
#define QUERY_MAX 4096
#define QUERY_NODES 256
#define QUERY_DEPTH 32

struct query;

/*
 * Parses text (NUL-terminated). *ret is NULL for a query of nothing but
 * spaces (everything matches). -EINVAL with "POSITION: what was expected"
 * in err (the position counts characters from 1), -ENOMEM. Owned by the
 * caller: query_free().
 */
int query_parse(const char *text, struct query **ret, char *err, size_t err_size);
void query_free(struct query *q);

/* One record as a query sees it; every pointer is borrowed. */
struct query_record {
	const struct export_field *fields;
	size_t n;
	const char *host, *agent; /* the block's: its host's name and its agent id */
};

/*
 * What a match needs to keep between calls, one per thread: a folded copy
 * of the message, a copy a regex reads, and the thread's own compiled copy
 * of each regex (glibc's regexec() locks a regex_t: threads sharing one take
 * turns). Owned by the caller; zeroed before first use; it serves one
 * query (free it before matching another).
 */
struct query_scratch {
	uint8_t *folded;
	size_t cap;
	char *copy;
	size_t copy_cap;
	const struct query *q; /* the query res were compiled for */
	regex_t *res;
	unsigned char *have; /* res[i] holds node i's regex */
	size_t n_res;
};
void query_scratch_free(struct query_scratch *s);

/* Whether r matches q; false also when the scratch cannot grow (out of memory). */
bool query_match(const struct query *q, const struct query_record *r, struct query_scratch *s);

/*
 * What a block can say before it is decompressed: its host, and (index not
 * NULL) whether its Bloom filter may hold a token.
 */
struct query_block {
	const char *host, *agent;
	const uint8_t *index; /* the block's filter (tokens.h), or NULL: not indexed */
	size_t index_len;
};
/* False when no record of the block can match q: it need not be read. */
bool query_block_may_match(const struct query *q, const struct query_block *b);

#endif
