/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/util.h"
#include "store/pg.h"
#include "store/pgblocks.h"
#include "store/pgderived.h"
#include "store/pghosts.h"
#include "store/pglease.h"
#include "store/pglockouts.h"
#include "store/pgpositions.h"
#include "store/pgstore.h"
#include "store/storage.h"

struct pgstore {
	struct pg_link link; /* connected again at the next call after the server went away */
	const struct pg_dialect *d;
	bool writer;
	uint32_t day_made; /* the partitions of this day and the next are there */
	uint64_t pruned_us; /* when the writer last removed the derived rows no rule reads (monotonic) */
	char lease[96];     /* the work this connection leads (pgstore_lead()), "" none */
	int64_t epoch;      /* the lease's, when it was taken */
	struct pgblocks_chain chain; /* the writer's, as its last transaction committed it */
	char name[256];              /* the collector's (process_name()), in the chains' catalogue */
	uint64_t started_us;
};

/* How often a writer removes the derived rows no rule reads any more (every collector's writer: each delete is idempotent). */
#define PRUNE_EVERY_US (10 * 60 * USEC_PER_SEC)

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
	int r = pgblocks_schema(c, p->d);

	if (r == 0)
		r = pghosts_schema(c);
	if (r == 0)
		r = pgderived_schema(c);
	if (r == 0)
		r = pgpositions_schema(c);
	if (r == 0)
		r = pglockouts_schema(c);
	return r == 0 ? pglease_schema(c) : r;
}

int pgstore_open(const struct storage_conf *c, bool writer, struct pgstore **ret)
{
	struct pgstore *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	p->d = pg_dialect_find(c->dialect ? c->dialect : "postgresql");
	p->writer = writer;
	process_name(p->name, sizeof(p->name));
	p->started_us = now_realtime_us();
	r = !p->d ? -EINVAL : pgblocks_chain_init(&p->chain, storage_conf_hash(c));
	r = r < 0 ? r
		  : pg_link_start(&p->link, &(struct pg_conf){ .url = c->url, .password_file = c->password_file },
				  writer ? writer_schema : NULL, p);
	if (r < 0) {
		free(p);
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

/* The partitions of one day: the blocks' and their history's. */
static int make_day(struct pgstore *p, uint32_t day)
{
	int r = pgblocks_prepare_day(p->link.c, p->d, day);

	return r == 0 ? pgderived_prepare_day(p->link.c, p->d, day) : r;
}

/* The partitions of day and the next, before the day's first block: outside the writing transaction. */
static int make_days(struct pgstore *p, uint32_t day)
{
	int r = day == p->day_made ? 0 : make_day(p, day);

	if (r == 0 && day != p->day_made && (r = make_day(p, day + 1)) == 0)
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

#define STORED_CHANNEL "vigil_stored"

/* Said when the group holds a block stored there now that may change an alert (as the database saw it). */
static int say_stored(PGconn *c, struct block_in *const *blocks, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (block_may_alert(blocks[i]))
			return pg_run(c, "SELECT pg_notify('" STORED_CHANNEL "', '')", NULL, 0, NULL);
	return 0;
}

/*
 * One transaction over the n blocks of to: each one's shared result into
 * its result, and the rows derived from those stored now; with fleet, what
 * they add to the fleet's state.
 */
static int store_once(struct pgstore *p, uint32_t day, struct block_in **to, size_t n, bool fleet)
{
	struct pgblocks_chain chain = p->chain;
	int r = pg_link_up(&p->link);

	if (r == 0)
		r = make_days(p, day);
	if (r == 0)
		r = pg_exec(p->link.c, "BEGIN");
	for (size_t i = 0; r == 0 && i < n; i++)
		r = pgblocks_store(p->link.c, day, to[i], &chain);
	if (r == 0 && chain.pos != p->chain.pos)
		r = pgblocks_chain_commit(p->link.c, &chain, p->chain.pos, p->name, p->started_us);
	if (r == 0 && fleet)
		r = pghosts_group(p->link.c, to, n);
	if (r == 0)
		r = pgderived_group(p->link.c, day, to, n);
	if (r == 0 && fleet)
		r = say_stored(p->link.c, to, n);
	if (r == 0)
		r = pg_exec(p->link.c, "COMMIT");
	if (r == 0)
		p->chain = chain;
	if (r < 0 && p->link.c && PQstatus(p->link.c) == CONNECTION_OK)
		(void)pg_exec(p->link.c, "ROLLBACK");
	return pg_link_settle(&p->link, r);
}

/* After the chain's head was found moved by someone else: this run goes on in a chain of its own again. */
static int chain_again(struct pgstore *p)
{
	char was[sizeof(p->chain.name)];
	int r;

	memcpy(was, p->chain.name, sizeof(was));
	r = pgblocks_chain_init(&p->chain, p->chain.alg);
	if (r == 0)
		log_warning("storage: the head of chain %s in PostgreSQL is not where this collector left it (a commit "
			    "whose answer was lost, or a change there); its blocks go on in chain %s, and --verify "
			    "checks the old one", was, p->chain.name);
	return r;
}

/*
 * The n blocks of to, sorted by key (one order for every collector), in
 * one transaction, run again after a conflict with another collector's or
 * a connection that had gone; each one's shared result into its result.
 */
static int store_shared(struct pgstore *p, uint32_t day, struct block_in **to, size_t n, bool fleet)
{
	int r = 0;

	for (int t = 0; n && t < TRIES; t++) {
		r = store_once(p, day, to, n, fleet);
		if (r == -ESTALE)
			r = chain_again(p) < 0 ? -ESTALE : -EAGAIN;
		if (r != -EAGAIN && r != -EPIPE)
			break;
	}
	if (r < 0)
		log_error_errno(r, "storage: %zu blocks not stored in PostgreSQL (%m); their agents send them again", n);
	return r;
}

/* The derived rows older than any rule's window, removed now and then; a failure only waits for the next time. */
static void prune(struct pgstore *p)
{
	uint64_t now = now_monotonic_us();
	int r;

	if (p->pruned_us && now - p->pruned_us < PRUNE_EVERY_US)
		return;
	p->pruned_us = now;
	r = pg_link_up(&p->link);
	r = pg_link_settle(&p->link, r < 0 ? r : pgderived_prune(p->link.c, now_realtime_us()));
	if (r < 0)
		log_error_errno(r, "storage: the derived rows older than a day stay in PostgreSQL until the next try (%m)");
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
		r = store_shared(p, day, to, m, true);
	if (r == 0)
		prune(p);
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

int pgstore_bound_certificates(struct pgstore *p, struct block_in **blocks, size_t n)
{
	int r = pg_link_up(&p->link);

	return pg_link_settle(&p->link, r == 0 ? pghosts_certificates(p->link.c, blocks, n) : r);
}

int pgstore_copy(struct pgstore *p, uint32_t day, struct block_in **blocks, size_t n)
{
	qsort(blocks, n, sizeof(*blocks), by_key);
	/* The fleet's state is copied as it stands (migrate.h), not rebuilt from the blocks; their history is. */
	return store_shared(p, day, blocks, n, false);
}

struct fleet_copier {
	PGconn *c;
	struct pgstore_fleet_copy *rep;
	bool verifying;
};

/* A row's answer r (1 copied or found, 0 there already or missing) into the report's counts of its kind. */
static int tally(struct fleet_copier *k, int r, uint64_t *rows, uint64_t *copied, uint64_t *present)
{
	if (r < 0)
		return r;
	if (k->verifying) {
		k->rep->verified += r;
		return 0;
	}
	(*rows)++;
	*copied += r;
	*present += !r;
	return 0;
}

static int copy_host(const struct host_row *h, void *ctx)
{
	struct fleet_copier *k = ctx;

	return tally(k, k->verifying ? pghosts_holds(k->c, h->id, NULL) : pghosts_copy_host(k->c, h), &k->rep->hosts,
		     &k->rep->hosts_copied, &k->rep->hosts_present);
}

static int copy_probe(const struct probe_state_row *s, void *ctx)
{
	struct fleet_copier *k = ctx;

	return tally(k, k->verifying ? pghosts_holds(k->c, s->agent, &s->name) : pghosts_copy_probe(k->c, s),
		     &k->rep->probes, &k->rep->probes_copied, &k->rep->probes_present);
}

/* Each host and probe of meta once: copied, or (verifying) looked for. */
static int fleet_walk(struct fleet_copier *k, sqlite3 *meta)
{
	int r = hosts_each(meta, &(struct host_filter){ .with_collector = true, .no_probe_counts = true }, copy_host, k);

	return r == 0 ? hosts_probes_each(meta, &(struct probe_state_filter){ 0 }, copy_probe, k) : r;
}

int pgstore_copy_fleet(struct pgstore *p, sqlite3 *meta, struct pgstore_fleet_copy *ret)
{
	struct fleet_copier k = { .rep = ret };
	int r = pg_link_up(&p->link);

	*ret = (struct pgstore_fleet_copy){ 0 };
	k.c = p->link.c;
	if (r == 0)
		r = pg_exec(k.c, "BEGIN");
	if (r == 0)
		r = fleet_walk(&k, meta);
	if (r == 0)
		r = pg_exec(k.c, "COMMIT");
	if (r < 0 && k.c && PQstatus(k.c) == CONNECTION_OK)
		(void)pg_exec(k.c, "ROLLBACK");
	k.verifying = true;
	if (r == 0)
		r = fleet_walk(&k, meta);
	return pg_link_settle(&p->link, r);
}

int pgstore_has(struct pgstore *p, const struct block_in *b)
{
	int r = pg_link_up(&p->link);

	return pg_link_settle(&p->link, r == 0 ? pgblocks_has(p->link.c, b) : r);
}

int pgstore_check_copies(struct pgstore *p, struct pgstore_copy *v, size_t n)
{
	int r = pg_link_up(&p->link);

	return pg_link_settle(&p->link, r == 0 ? pgblocks_check(p->link.c, v, n) : r);
}

int pgstore_verify_chains(struct pgstore *p, struct pgstore_chains_check *v)
{
	int r = pg_link_up(&p->link);

	return pg_link_settle(&p->link, r == 0 ? pgblocks_verify_chains(p->link.c, v) : r);
}

int pgstore_digest_agree(struct pgstore *p, enum hash_alg alg)
{
	char theirs[16] = "";
	int r = pg_link_up(&p->link);

	r = pg_link_settle(&p->link, r == 0 ? pgblocks_digest_agree(p->link.c, alg, theirs, sizeof(theirs)) : r);
	if (r == -EXDEV)
		log_error("[storage] this store's digest is %s, but the collectors of this database use %s: every "
			  "collector of one database hashes alike (hash=%s), or a batch sent again to another reads as "
			  "a conflict", hash_name(alg), theirs, theirs);
	return r;
}

void pgstore_chain_head(const struct pgstore *p, char name[CHAIN_SHARED_NAME], int64_t *ret_pos, uint8_t ret_hash[HASH_SIZE])
{
	(void)snprintf(name, CHAIN_SHARED_NAME, "%s", p->chain.pos ? p->chain.name : "");
	*ret_pos = p->chain.pos;
	memcpy(ret_hash, p->chain.head, HASH_SIZE);
}

int pgstore_chain_hash_of(struct pgstore *p, const char *chain, int64_t pos, uint8_t ret_hash[HASH_SIZE])
{
	int r = pg_link_up(&p->link);

	return pg_link_settle(&p->link, r == 0 ? pgblocks_chain_hash_of(p->link.c, chain, pos, ret_hash) : r);
}

int pgstore_retention(struct pgstore *p, uint32_t cutoff, unsigned *ret_days)
{
	int r = pg_link_up(&p->link);

	*ret_days = 0;
	if (r == 0)
		r = pg_link_settle(&p->link, pgblocks_retention(p->link.c, cutoff, ret_days));
	return r == 0 ? pg_link_settle(&p->link, pgderived_retention(p->link.c, cutoff)) : r;
}

int pgstore_select(struct pgstore *p, const struct pgstore_select *q, int (*fn)(const struct block_row *b, void *ctx),
		   void *ctx)
{
	struct pgblocks_select s = { .from = { q->xid, q->id }, .newest_first = q->newest_first, .host = q->host,
				     .source = q->source,
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

struct pgstore_listener {
	struct pg_link link;
};

static int listen_on(PGconn *c, void *ctx)
{
	(void)ctx;
	return pg_exec(c, "LISTEN " STORED_CHANNEL);
}

int pgstore_listen(const struct storage_conf *c, struct pgstore_listener **ret)
{
	struct pgstore_listener *l = calloc(1, sizeof(*l));
	int r = l ? pg_link_start(&l->link, &(struct pg_conf){ .url = c->url, .password_file = c->password_file },
				  listen_on, NULL)
		  : -ENOMEM;

	if (r < 0) {
		free(l);
		return r;
	}
	*ret = l;
	return 0;
}

int pgstore_listener_fd(struct pgstore_listener *l)
{
	return l->link.c ? PQsocket(l->link.c) : -1;
}

int pgstore_listened(struct pgstore_listener *l)
{
	PGnotify *n;
	int r = pg_link_up(&l->link), heard = 0;

	if (r < 0)
		return r;
	if (!PQconsumeInput(l->link.c))
		return pg_link_settle(&l->link, -EPIPE);
	while ((n = PQnotifies(l->link.c))) {
		heard = 1;
		PQfreemem(n);
	}
	return heard;
}

void pgstore_listener_free(struct pgstore_listener *l)
{
	if (!l)
		return;
	pg_link_free(&l->link);
	free(l);
}

int pgstore_records_after(struct pgstore *p, uint64_t xid, int64_t id, uint32_t rec, uint64_t *ret)
{
	int r = pg_link_up(&p->link);

	return pg_link_settle(&p->link,
			      r == 0 ? pgblocks_records_after(p->link.c, &(struct pg_cursor){ xid, id }, rec, ret) : r);
}

int pgstore_lead(struct pgstore *p, const char *work, const char *holder)
{
	int r = pg_link_up(&p->link);

	r = pg_link_settle(&p->link, r == 0 ? pglease_try(p->link.c, work, holder, &p->epoch) : r);
	(void)snprintf(p->lease, sizeof(p->lease), "%s", r == 1 ? work : "");
	return r;
}

int pgstore_position_get(struct pgstore *p, const char *name, struct forward_state *ret, char *cursor, size_t size)
{
	int r = pg_link_up(&p->link);

	return pg_link_settle(&p->link, r == 0 ? pgpositions_get(p->link.c, name, ret, cursor, size) : r);
}

int pgstore_position_put(struct pgstore *p, const struct forward_state *s)
{
	int r = *p->lease ? pg_link_up(&p->link) : -ESTALE;

	r = pg_link_settle(&p->link, r == 0 ? pgpositions_put(p->link.c, p->lease, p->epoch, s) : r);
	if (r == -ESTALE)
		*p->lease = '\0';
	return r;
}

int pgstore_lockout_add(struct pgstore *p, const char *user, uint64_t now, uint64_t until)
{
	int r = pg_link_up(&p->link);

	return pg_link_settle(&p->link, r == 0 ? pglockouts_add(p->link.c, user, now, until) : r);
}

int pgstore_lockouts_each(struct pgstore *p, uint64_t since_us, int (*fn)(const struct lockout_count *l, void *ctx),
			  void *ctx)
{
	int r = pg_link_up(&p->link);

	return pg_link_settle(&p->link, r == 0 ? pglockouts_each(p->link.c, since_us, fn, ctx) : r);
}

int pgstore_positions_each(struct pgstore *p, int (*fn)(const struct forward_state *s, void *ctx), void *ctx)
{
	int r = pg_link_up(&p->link);

	return pg_link_settle(&p->link, r == 0 ? pgpositions_each(p->link.c, fn, ctx) : r);
}

int pgstore_hosts_each(struct pgstore *p, const struct host_filter *f, int (*fn)(const struct host_row *h, void *ctx),
		       void *ctx)
{
	int r = pg_link_up(&p->link);

	return pg_link_settle(&p->link, r == 0 ? pghosts_each(p->link.c, f, fn, ctx) : r);
}

int pgstore_probes_each(struct pgstore *p, const struct probe_state_filter *f,
			int (*fn)(const struct probe_state_row *s, void *ctx), void *ctx)
{
	int r = pg_link_up(&p->link);

	return pg_link_settle(&p->link, r == 0 ? pghosts_probes_each(p->link.c, f, fn, ctx) : r);
}

int pgstore_metric_latest(struct pgstore *p, const char *name, uint64_t since_us, const char *host_glob,
			  const char *instance_glob, int (*fn)(const struct metric_sample *s, void *ctx), void *ctx)
{
	int r = pg_link_up(&p->link);

	return pg_link_settle(&p->link, r == 0 ? pgderived_metric_latest(p->link.c, name, since_us, host_glob,
									instance_glob, fn, ctx) :
						 r);
}

int pgstore_log_matches(struct pgstore *p, const char *rule, uint64_t since_us, const char *host_glob,
			int (*fn)(const struct metric_sample *s, void *ctx), void *ctx)
{
	int r = pg_link_up(&p->link);

	return pg_link_settle(&p->link, r == 0 ? pgderived_log_matches(p->link.c, rule, since_us, host_glob, fn, ctx) : r);
}

int pgstore_dialtest_results(struct pgstore *p, int64_t id, uint64_t since, uint64_t until, size_t limit,
			     int (*fn)(const struct dialtest_run_row *run, void *ctx), void *ctx)
{
	int r = pg_link_up(&p->link);

	return pg_link_settle(&p->link,
			      r == 0 ? pgderived_dialtest_results(p->link.c, id, since, until, limit, fn, ctx) : r);
}

/* Room for the agents of one host name: a few, each id 32 characters. */
#define AGENTS_ARRAY_MAX (64u << 10)

/* The agents host names (NULL: every host's, *ret NULL) as an array parameter in a, *ret its text. */
static int agents_of(struct pgstore *p, const char *host, struct buf *a, const char **ret)
{
	int r = host ? pghosts_agents_of(p->link.c, host, a) : 0;

	*ret = host && r == 0 ? (const char *)a->data : NULL;
	return r;
}

/* What a reader of one host's history (NULL: every host's) asks of pgderived.h, given its agents. */
struct history_read {
	const char *host, *name;
	uint64_t since, until, step;
	size_t limit;
	bool recent;
	int (*probe)(const struct probe_result *pr, void *ctx);
	int (*bucket)(const struct metric_bucket *m, void *ctx);
	int (*part)(const struct logmetric_part *part, void *ctx);
	void *ctx;
};

static int read_history(struct pgstore *p, const struct history_read *q)
{
	struct buf a;
	const char *agents = NULL;
	int r = pg_link_up(&p->link);

	buf_init(&a, AGENTS_ARRAY_MAX);
	if (r == 0)
		r = agents_of(p, q->host, &a, &agents);
	if (r == 0 && q->probe)
		r = pgderived_probe_history(p->link.c, agents, q->name, q->since, q->until, q->limit, q->probe, q->ctx);
	else if (r == 0 && q->bucket)
		r = pgderived_metric_buckets(p->link.c, q->name, agents, q->since, q->until, q->step, q->bucket, q->ctx);
	else if (r == 0)
		r = pgderived_logmetric_rows(p->link.c, q->name, agents, q->since, q->until, q->recent, q->part, q->ctx);
	buf_free(&a);
	return pg_link_settle(&p->link, r);
}

int pgstore_logmetric_rows(struct pgstore *p, const char *metric, const char *host, uint64_t since, uint64_t until,
			   bool recent, int (*fn)(const struct logmetric_part *part, void *ctx), void *ctx)
{
	return read_history(p, &(struct history_read){ .host = host, .name = metric, .since = since, .until = until,
						       .recent = recent, .part = fn, .ctx = ctx });
}

int pgstore_probe_history(struct pgstore *p, const char *host, const char *name, uint64_t since, uint64_t until,
			  size_t limit, int (*fn)(const struct probe_result *pr, void *ctx), void *ctx)
{
	return read_history(p, &(struct history_read){ .host = host, .name = name, .since = since, .until = until,
						       .limit = limit, .probe = fn, .ctx = ctx });
}

int pgstore_metric_buckets(struct pgstore *p, const char *name, const char *host, uint64_t since, uint64_t until,
			   uint64_t step, int (*fn)(const struct metric_bucket *m, void *ctx), void *ctx)
{
	return read_history(p, &(struct history_read){ .host = host, .name = name, .since = since, .until = until,
						       .step = step, .bucket = fn, .ctx = ctx });
}

int pgstore_metric_known(struct pgstore *p, const char *name, bool log)
{
	int r = pg_link_up(&p->link);

	return pg_link_settle(&p->link, r == 0 ? pgderived_metric_known(p->link.c, name, log) : r);
}

int pgstore_conflicts_each(struct pgstore *p, const char *agent, uint64_t since_us,
			   int (*fn)(const struct agent_conflict *c, void *ctx), void *ctx)
{
	int r = pg_link_up(&p->link);

	return pg_link_settle(&p->link, r == 0 ? pghosts_conflicts_each(p->link.c, agent, since_us, fn, ctx) : r);
}
