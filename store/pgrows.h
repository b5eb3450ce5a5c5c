/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_PGROWS_H
#define VIGIL_PGROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "store/blocks.h"
#include "store/pg.h"

/*
 * The rows a group commit derives from its blocks, written one statement
 * per table (not one per row: 50 probes a block would be 50 round trips):
 * each column an array parameter that unnest() makes rows of. A statement
 * that upserts may write a key once, so rows of one key go in rounds, the
 * k-th row of a key in the k-th statement (a probe's two results in one
 * group, in their order); rows go in key order, so collectors writing the
 * same keys at once never deadlock.
 */

/* One row: of block b, one of its items (a probe's result, a metric, ...), or the block itself (item NULL). */
struct pgrow {
	const struct block_in *b;
	const void *item;
	uint32_t day;   /* the group's (a partition's, for a table partitioned by day) */
	size_t order;   /* in the group */
	unsigned round; /* rows of its key before it */
};

#define PGROWS_COLUMNS_MAX 10
#define PGROWS_ARRAY_MAX (256u << 20) /* bytes of one column's array */

struct pgrows_statement {
	const char *sql; /* $1 … $n_columns: the columns' arrays */
	int n_columns;
	/* Appends row's value of each column to columns[i] (pg.h's pg_array_*()). */
	int (*add)(struct buf *columns, const struct pgrow *row);
	/* The order of the key the statement writes once; NULL: it keys nothing, every row goes at once. */
	int (*key_cmp)(const struct pgrow *a, const struct pgrow *b);
	/*
	 * NULL: every row of a key is written, in rounds. Else only a key's
	 * row of the greatest time (the later in the group of equals): what
	 * an upsert of the latest value would leave, in one statement.
	 */
	uint64_t (*time)(const struct pgrow *row);
};

/* st over the n rows (sorted here by key), in the caller's transaction; pg_run()'s errors, -ENOBUFS past a bound. */
int pgrows_run(PGconn *c, const struct pgrows_statement *st, struct pgrow *rows, size_t n);
/* The same, for a statement that answers one count: their sum over the rounds into *ret. */
int pgrows_run_count(PGconn *c, const struct pgrows_statement *st, struct pgrow *rows, size_t n, int64_t *ret);

/* The agent id of b as the tables name it, into out (2 * AGENT_ID_SIZE + 1 bytes). */
void pgrows_agent(const struct block_in *b, char *out);
/* The same appended to a column (pg_array_text()): the first column of most rows. */
int pgrows_agent_column(struct buf *col, const struct block_in *b);
/* The host of b appended to a column that holds no NULL: the name its batch gave, or "" (its agent's earlier one). */
int pgrows_host_column(struct buf *col, const struct block_in *b);

/*
 * A reader's GLOB (SQLite's, as the rules and the API give it): the LIKE
 * pattern that matches at least what glob matches (its literal start,
 * then anything; "%" for NULL) lets the index narrow the rows, size >= 2;
 * then pgrows_glob_passes() decides each (NULL glob: every one).
 */
void pgrows_like_of_glob(const char *glob, char *out, size_t size);
bool pgrows_glob_passes(const char *glob, const char *s);

#endif
