/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_QUERY_INTERNAL_H
#define VIGIL_QUERY_INTERNAL_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/export.h"
#include "search/query.h"

/* A parsed query as search/query.c makes it and search/match.c reads it: nodes, the root among them. */
enum node_kind { N_AND, N_OR, N_NOT, N_TEXT, N_REGEX, N_EQ, N_CMP };
enum cmp { CMP_LT, CMP_LE, CMP_GT, CMP_GE, CMP_EQ };

/* What a term looks at. */
enum target {
	T_MESSAGE,
	T_FIELD,    /* key */
	T_HOST,     /* the block's host or agent id */
	T_SOURCE,   /* any of field_stream_keys */
	T_PRIORITY, /* PRIORITY, as a number */
};

struct node {
	enum node_kind kind;
	int a, b; /* children: N_AND, N_OR (both), N_NOT (a) */
	enum target target;
	char key[EXPORT_KEY_MAX + 1]; /* T_FIELD: upper case, as stored */
	uint8_t *text;                /* N_TEXT, N_EQ: folded */
	size_t len;
	bool word_start, word_end; /* N_TEXT: not inside a longer word at that end */
	bool folds;                /* N_TEXT: holds a letter, so the message is compared folded */
	regex_t re;                /* N_REGEX */
	bool has_re;
	char *pattern; /* N_REGEX: as compiled into re, for a thread's own copy (query_scratch) */
	int cflags;
	enum cmp op; /* N_CMP */
	double num;
	uint64_t *tokens; /* N_TEXT, N_EQ: what the block's index must hold (N_EQ: any one of n_tokens) */
	size_t n_tokens;
	bool indexed; /* tokens say something: without them the index cannot rule a block out */
};

struct query {
	struct node nodes[QUERY_NODES];
	size_t n;
	int root;
};

/* A field's name (len <= EXPORT_KEY_MAX) as records store it, upper case: what a query's and a log metric's names are looked up by. */
void query_field_key(const char *name, size_t len, char key[EXPORT_KEY_MAX + 1]);

/* Whether v (len bytes) is a number and nothing else, not NaN, into *ret: a query's value, a record's field. */
bool query_number(const void *v, size_t len, double *ret);

#endif
