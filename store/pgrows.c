/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/util.h"
#include "store/pgrows.h"

void pgrows_agent(const struct block_in *b, char *out)
{
	hex_encode(b->agent, AGENT_ID_SIZE, out);
}

int pgrows_agent_column(struct buf *col, const struct block_in *b)
{
	char agent[2 * AGENT_ID_SIZE + 1];

	pgrows_agent(b, agent);
	return pg_array_text(col, agent, strlen(agent));
}

int pgrows_host_column(struct buf *col, const struct block_in *b)
{
	return pg_array_text(col, b->host ? b->host : "", strlen_or_0(b->host));
}

static int by_key_then_order(const void *x, const void *y, void *statement)
{
	const struct pgrows_statement *st = statement;
	const struct pgrow *a = x, *b = y;
	int k = st->key_cmp(a, b);

	return k ? k : (a->order > b->order) - (a->order < b->order);
}

/* Of each run of one key in rows (sorted), the row of the greatest time only; how many are left. */
static size_t keep_latest(const struct pgrows_statement *st, struct pgrow *rows, size_t n)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		if (m && st->key_cmp(&rows[m - 1], &rows[i]) == 0) {
			if (st->time(&rows[i]) >= st->time(&rows[m - 1]))
				rows[m - 1] = rows[i];
			continue;
		}
		rows[m++] = rows[i];
	}
	return m;
}

/* Sorts rows by key (keeping a key's latest only, when the statement says so) and numbers their rounds; how many. */
static unsigned number_rounds(const struct pgrows_statement *st, struct pgrow *rows, size_t *n)
{
	unsigned rounds = *n ? 1 : 0;

	if (!st->key_cmp)
		return rounds;
	qsort_r(rows, *n, sizeof(*rows), by_key_then_order, (void *)st);
	if (st->time)
		*n = keep_latest(st, rows, *n);
	for (size_t i = 1; i < *n; i++) {
		rows[i].round = st->key_cmp(&rows[i - 1], &rows[i]) == 0 ? rows[i - 1].round + 1 : 0;
		rounds = MAX(rounds, rows[i].round + 1);
	}
	return rounds;
}

/* One statement of a round; with sum, the count it answers is added there. */
static int run_round(PGconn *c, const struct pgrows_statement *st, const struct pg_param *p, int64_t *sum)
{
	PGresult *res = NULL;
	int r = pg_run(c, st->sql, p, st->n_columns, sum ? &res : NULL);

	if (r == 0 && sum)
		*sum += PQntuples(res) == 1 ? pg_int(res, 0, 0) : 0;
	PQclear(res);
	return r;
}

static int run_rounds(PGconn *c, const struct pgrows_statement *st, struct pgrow *rows, size_t n, int64_t *sum)
{
	struct buf col[PGROWS_COLUMNS_MAX];
	struct pg_param p[PGROWS_COLUMNS_MAX] = { 0 };
	unsigned rounds = number_rounds(st, rows, &n);
	int r = st->n_columns <= PGROWS_COLUMNS_MAX ? 0 : -E2BIG;

	for (int i = 0; r == 0 && i < st->n_columns; i++)
		buf_init(&col[i], PGROWS_ARRAY_MAX);
	for (unsigned round = 0; r == 0 && round < rounds; round++) {
		for (int i = 0; i < st->n_columns; i++)
			buf_reset(&col[i]);
		for (size_t i = 0; r == 0 && i < n; i++)
			if (rows[i].round == round)
				r = st->add(col, &rows[i]);
		for (int i = 0; r == 0 && i < st->n_columns; i++)
			if (!(p[i].value = pg_array_end(&col[i])))
				r = -ENOBUFS;
		if (r == 0)
			r = run_round(c, st, p, sum);
	}
	for (int i = 0; st->n_columns <= PGROWS_COLUMNS_MAX && i < st->n_columns; i++)
		buf_free(&col[i]);
	return r;
}

int pgrows_run(PGconn *c, const struct pgrows_statement *st, struct pgrow *rows, size_t n)
{
	return run_rounds(c, st, rows, n, NULL);
}

int pgrows_run_count(PGconn *c, const struct pgrows_statement *st, struct pgrow *rows, size_t n, int64_t *ret)
{
	*ret = 0;
	return run_rounds(c, st, rows, n, ret);
}

void pgrows_like_of_glob(const char *glob, char *out, size_t size)
{
	size_t o = 0;

	for (const char *g = glob ? glob : ""; *g && !strchr("*?[", *g) && o + 3 < size; g++) {
		if (strchr("%_\\", *g))
			out[o++] = '\\';
		out[o++] = *g;
	}
	out[o++] = '%';
	out[o] = 0;
}

bool pgrows_glob_passes(const char *glob, const char *s)
{
	return !glob || sqlite3_strglob(glob, s) == 0;
}
