/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/macro.h"
#include "store/pg.h"
#include "store/pgblocks.h"
#include "store/pgstore.h"
#include "store/storage.h"

struct pgstore {
	struct pg_link link; /* connected again at the next call after the server went away */
	const struct pg_dialect *d;
	bool writer;
	uint32_t day_made; /* the partitions of this day and the next are there */
};

/* A transaction the server ended for a conflict with another (serialization, deadlock) is run again, this often. */
#define TRIES 3
/* Blocks a search reads the rows of at once (their frames one at a time). */
#define SELECT_PAGE 256

bool pgstore_built(void)
{
	return true;
}

bool pgstore_dialect_known(const char *name)
{
	return pg_dialect_find(name) != NULL;
}

/* The writer's tables, on each of its connections. */
static int writer_schema(PGconn *c, void *ctx)
{
	const struct pgstore *p = ctx;

	return pgblocks_schema(c, p->d);
}

int pgstore_open(const struct storage_conf *c, bool writer, struct pgstore **ret)
{
	struct pgstore *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	p->d = pg_dialect_find(c->dialect ? c->dialect : "postgresql");
	p->writer = writer;
	r = !p->d ? -EINVAL : pg_link_init(&p->link, &(struct pg_conf){ .url = c->url, .password_file = c->password_file });
	if (r == 0 && writer) {
		p->link.on_connect = writer_schema;
		p->link.ctx = p;
	}
	if (r == 0)
		r = pg_link_up(&p->link);
	if (r < 0) {
		pgstore_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

void pgstore_free(struct pgstore *p)
{
	if (!p)
		return;
	pg_link_free(&p->link);
	free(p);
}

/* The partitions of day and the next, before the day's first block: outside the writing transaction. */
static int make_days(struct pgstore *p, uint32_t day)
{
	int r = day == p->day_made ? 0 : pgblocks_prepare_day(p->link.c, p->d, day);

	if (r == 0 && day != p->day_made && (r = pgblocks_prepare_day(p->link.c, p->d, day + 1)) == 0)
		p->day_made = day;
	return r;
}

/* The blocks bound for the shared store, by (agent, seq): collectors locking their rows in one order never deadlock. */
static int by_key(const void *a, const void *b)
{
	const struct block_in *x = *(struct block_in *const *)a, *y = *(struct block_in *const *)b;
	int k = memcmp(x->agent, y->agent, AGENT_ID_SIZE);

	return k ? k : (x->seq > y->seq) - (x->seq < y->seq);
}

/* One transaction over the n blocks of to: each one's shared result into its result. */
static int store_once(struct pgstore *p, uint32_t day, struct block_in **to, size_t n)
{
	int r = pg_link_up(&p->link);

	if (r == 0)
		r = make_days(p, day);
	if (r == 0)
		r = pg_exec(p->link.c, "BEGIN");
	for (size_t i = 0; r == 0 && i < n; i++)
		r = pgblocks_store(p->link.c, day, to[i]);
	if (r == 0)
		r = pg_exec(p->link.c, "COMMIT");
	if (r < 0 && p->link.c && PQstatus(p->link.c) == CONNECTION_OK)
		(void)pg_exec(p->link.c, "ROLLBACK");
	return pg_link_settle(&p->link, r);
}

/*
 * The n blocks of to, sorted by key (one order for every collector), in
 * one transaction, run again after a conflict with another collector's or
 * a connection that had gone; each one's shared result into its result.
 */
static int store_shared(struct pgstore *p, uint32_t day, struct block_in **to, size_t n)
{
	int r = 0;

	for (int t = 0; n && t < TRIES; t++) {
		r = store_once(p, day, to, n);
		if (r != -EAGAIN && r != -EPIPE)
			break;
	}
	if (r < 0)
		log_error_errno(r, "storage: %zu blocks not stored in PostgreSQL (%m); their agents send them again", n);
	return r;
}

int pgstore_store(struct pgstore *p, uint32_t day, struct block_in **blocks, size_t n)
{
	struct block_in **to = calloc(MAX(n, (size_t)1), sizeof(*to));
	struct kept {
		enum block_result result;
		int64_t block_id;
	} *kept = calloc(MAX(n, (size_t)1), sizeof(*kept));
	size_t m = 0;
	int r = to && kept ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < n; i++)
		if (blocks[i]->result == BLOCK_STORED || blocks[i]->result == BLOCK_DUPLICATE)
			to[m++] = blocks[i];
	if (r == 0)
		qsort(to, m, sizeof(*to), by_key);
	/* What each has from the collector's own store: what the agent is told, unless the shared store refuses. */
	for (size_t i = 0; i < m; i++)
		kept[i] = (struct kept){ to[i]->result, to[i]->block_id };
	if (r == 0)
		r = store_shared(p, day, to, m);
	for (size_t i = 0; i < m; i++) {
		struct block_in *b = to[i];
		if (r < 0)
			b->result = BLOCK_FAILED;
		else if (b->result == BLOCK_CONFLICT)
			log_warning("storage: batch %" PRIu64 " of host %s: another collector stored another batch of its agent "
				    "under that number (host %s); two agents share one id",
				    b->seq, b->host ? b->host : "?", b->conflict_host);
		else
			b->result = kept[i].result;
		b->block_id = kept[i].block_id;
	}
	free(to);
	free(kept);
	return r;
}

int pgstore_copy(struct pgstore *p, uint32_t day, struct block_in **blocks, size_t n)
{
	qsort(blocks, n, sizeof(*blocks), by_key);
	return store_shared(p, day, blocks, n);
}

int pgstore_has(struct pgstore *p, const struct block_in *b)
{
	int r = pg_link_up(&p->link);

	return pg_link_settle(&p->link, r == 0 ? pgblocks_has(p->link.c, b) : r);
}

int pgstore_retention(struct pgstore *p, uint32_t cutoff, unsigned *ret_days)
{
	int r = pg_link_up(&p->link);

	*ret_days = 0;
	return pg_link_settle(&p->link, r == 0 ? pgblocks_retention(p->link.c, cutoff, ret_days) : r);
}

int pgstore_select(struct pgstore *p, const struct pgstore_select *q, int (*fn)(const struct block_row *b, void *ctx),
		   void *ctx)
{
	struct pgblocks_select s = { .from = { q->xid, q->id }, .newest_first = q->newest_first, .host = q->host,
				     .since = q->since, .until = q->until, .limit = SELECT_PAGE };
	unsigned n = SELECT_PAGE;
	int r = pg_link_up(&p->link);

	if (q->newest_first && !q->xid && !q->id)
		s.from = (struct pg_cursor){ INT64_MAX, INT64_MAX };
	while (r == 0 && n == SELECT_PAGE) {
		struct pg_cursor last = s.from;
		r = pgblocks_select(p->link.c, p->d, &s, fn, ctx, &n, &last);
		/* The next page from the block after the last one given (ids are whole numbers). */
		s.from = (struct pg_cursor){ last.xid, s.newest_first ? last.id - 1 : last.id + 1 };
	}
	return pg_link_settle(&p->link, r);
}

int pgstore_cursor_check(struct pgstore *p, uint64_t xid, int64_t id, uint32_t rec)
{
	int r = pg_link_up(&p->link);

	return pg_link_settle(&p->link, r == 0 ? pgblocks_cursor_check(p->link.c, &(struct pg_cursor){ xid, id }, rec) : r);
}
