/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pgrace URL PASSWORD_FILE skip|race [WRITERS PULLERS BATCHES]: the blocks
 * on PostgreSQL (store/pgblocks.c) against a real server.
 *
 * skip: a block that commits after one with a larger id. A reader by id
 * alone passes it over for good; the cursor does not: it shows nothing
 * while the older transaction runs, then both, in order.
 *
 * race: WRITERS connections (as several collectors) store BATCHES batches,
 * each delivered by two of them (an agent resending after a failover), in
 * transactions of one to four blocks that stay open a moment, a twentieth
 * of them rolled back and done again; PULLERS connections follow the
 * cursor meanwhile. Every batch must be stored once, and every puller must
 * see every block exactly once. A reader by id alone follows too, and how
 * many blocks it passed over is printed beside (timing decides how many).
 * Prints the figures; exit 0 when all hold. Then retention drops the
 * first day: its partition and (agent, seq) rows go, the other day stays.
 *
 * lease HOLDER SECONDS: a collector contending for the lease "work"
 * (store/pglease.c) every 100 ms; while it leads, a fenced row into
 * lease_work every 20 ms. Prints "leader HOLDER epoch E" when it takes it.
 *
 * fence: a lease given up by one connection and taken by another; the
 * first one's fenced write with its old epoch is refused (-ESTALE).
 *
 * hosts GLOB: the names of the hosts in the collectors' shared tables
 * (store/pghosts.c) that GLOB matches, one a line, as the alert rules
 * would see them.
 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "store/pgblocks.h"
#include "store/pghosts.h"
#include "store/pglease.h"

#define AGENTS 7
#define DAY0 20500u
#define PULL_LIMIT 50
#define DEADLINE_US (120 * USEC_PER_SEC)

static struct pg_conf conf;
static const struct pg_dialect *dialect;
static unsigned n_batches;
static atomic_int writers_left;

static PGconn *connect_or_die(void)
{
	PGconn *c = NULL;

	if (pg_connect(&conf, &c) < 0)
		exit(2);
	return c;
}

/* Batch k: agent k % AGENTS, seq k / AGENTS + 1, in one of two days; its frame depends on k alone. */
static void batch_of(unsigned k, struct block_in *b, uint8_t frame[32], uint32_t *day)
{
	memset(b, 0, sizeof(*b));
	memset(b->agent, 0xa0, AGENT_ID_SIZE);
	b->agent[0] = (uint8_t)(k % AGENTS);
	b->seq = k / AGENTS + 1;
	b->host = "race-host";
	b->received_us = now_realtime_us();
	b->records = 1 + k % 5;
	for (size_t i = 0; i < 32; i++)
		frame[i] = (uint8_t)(k * 31 + i);
	memcpy(b->digest, frame, 32);
	b->zframe = frame;
	b->zlen = 32;
	*day = DAY0 + k % 2;
}

static unsigned batch_key(const uint8_t *agent, uint64_t seq)
{
	return (unsigned)((seq - 1) * AGENTS + agent[0]);
}

struct writer {
	struct pgblocks_chain chain; /* its own, as the collector's run has: not what is raced here */
	unsigned id, n_writers;
	unsigned stored, duplicates, rollbacks;
	int error;
};

/* The batches writer w delivers: those whose first or second deliverer it is. */
static bool delivers(const struct writer *w, unsigned k)
{
	unsigned first = k % w->n_writers, second = (first + 1 + k % (w->n_writers - 1)) % w->n_writers;

	return w->id == first || w->id == second;
}

/* One transaction of the batches ks; what it stored counts once it committed. -EAGAIN: rolled back, to be done again. */
static int store_group(PGconn *c, struct writer *w, const unsigned *ks, size_t n, unsigned *seed)
{
	unsigned stored = 0, duplicates = 0;
	int r = pg_exec(c, "BEGIN");

	for (size_t i = 0; r == 0 && i < n; i++) {
		struct block_in b;
		uint8_t frame[32];
		uint32_t day;

		batch_of(ks[i], &b, frame, &day);
		r = pgblocks_store(c, day, &b, &w->chain);
		if (r == 0 && b.result == BLOCK_STORED)
			stored++;
		else if (r == 0 && b.result == BLOCK_DUPLICATE)
			duplicates++;
		else if (r == 0)
			r = -EPROTO;
	}
	/* Held open a moment: a transaction begun earlier commits after one begun later. */
	usleep((useconds_t)(rand_r(seed) % 2000));
	if (r == 0 && rand_r(seed) % 20 == 0) {
		w->rollbacks++;
		(void)pg_exec(c, "ROLLBACK");
		return -EAGAIN;
	}
	if (r == 0)
		r = pg_exec(c, "COMMIT");
	if (r == 0) {
		w->stored += stored;
		w->duplicates += duplicates;
		return 0;
	}
	(void)pg_exec(c, "ROLLBACK");
	return r;
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	unsigned seed = w->id * 7919 + 1, ks[4];
	PGconn *c = connect_or_die();
	unsigned k = 0;

	while (k < n_batches && !w->error) {
		size_t n = 0, want = 1 + rand_r(&seed) % 4;
		unsigned next = k;
		int r;

		for (; next < n_batches && n < want; next++)
			if (delivers(w, next))
				ks[n++] = next;
		r = n ? store_group(c, w, ks, n, &seed) : 0;
		if (r == -EAGAIN)
			continue;
		if (r < 0)
			w->error = r;
		k = next;
	}
	PQfinish(c);
	atomic_fetch_sub(&writers_left, 1);
	return NULL;
}

struct puller {
	unsigned char *seen;
	unsigned blocks, twice, polls;
	int error;
};

static int saw(const struct pg_block *b, void *ctx)
{
	struct puller *p = ctx;
	unsigned k = batch_key(b->agent, b->seq);

	if (k >= n_batches)
		return -ERANGE;
	p->twice += p->seen[k] > 0;
	p->seen[k]++;
	p->blocks++;
	return 0;
}

static void *puller_main(void *arg)
{
	struct puller *p = arg;
	struct pg_cursor cur = { 0 };
	PGconn *c = connect_or_die();
	uint64_t deadline = now_monotonic_us() + DEADLINE_US;
	bool last = false;

	while (!p->error && now_monotonic_us() < deadline) {
		bool done = atomic_load(&writers_left) == 0;
		unsigned n = 0;

		p->error = pgblocks_after(c, dialect, &cur, PULL_LIMIT, saw, p, &n);
		p->polls++;
		/* After the writers: one more poll that finds nothing ends it. */
		if (n == 0 && last)
			break;
		last = done && n == 0;
		if (n == 0)
			usleep(1000);
	}
	PQfinish(c);
	return NULL;
}

/* A reader by id alone: the blocks above id last, in id order (noted in seen, if given); the largest id into *last. */
static unsigned naive_after(PGconn *c, long long *last, unsigned char *seen)
{
	char after[24];
	const struct pg_param p[] = { PG_TEXT(after) };
	PGresult *res = NULL;
	unsigned n;

	(void)snprintf(after, sizeof(after), "%lld", *last);
	if (pg_run(c, "SELECT id, get_byte(agent, 0), seq FROM blocks WHERE id > $1::bigint ORDER BY id", p, 1, &res) < 0)
		exit(2);
	n = (unsigned)PQntuples(res);
	for (unsigned i = 0; seen && i < n; i++) {
		unsigned k = (unsigned)((pg_int(res, (int)i, 2) - 1) * AGENTS + pg_int(res, (int)i, 1));

		if (k < n_batches)
			seen[k] = 1;
	}
	if (n)
		*last = pg_int(res, (int)n - 1, 0);
	PQclear(res);
	return n;
}

/* The reader by id alone, beside the pullers: what it never saw. */
static void *naive_main(void *arg)
{
	struct puller *p = arg;
	PGconn *c = connect_or_die();
	uint64_t deadline = now_monotonic_us() + DEADLINE_US;
	long long last = 0;

	while (atomic_load(&writers_left) > 0 && now_monotonic_us() < deadline) {
		p->blocks += naive_after(c, &last, p->seen);
		p->polls++;
		usleep(1000);
	}
	p->blocks += naive_after(c, &last, p->seen);
	PQfinish(c);
	return NULL;
}

static long long count(PGconn *c, const char *sql)
{
	PGresult *res = NULL;
	long long n = pg_run(c, sql, NULL, 0, &res) == 0 ? pg_int(res, 0, 0) : -1;

	PQclear(res);
	return n;
}

/* Batches are in day DAY0 or DAY0+1 by parity: dropping DAY0 leaves the odd ones. */
static int retention(PGconn *c)
{
	unsigned days = 0;
	long long left;

	if (pgblocks_retention(c, DAY0 + 1, &days) < 0)
		return 1;
	left = count(c, "SELECT count(*) FROM blocks");
	printf("retention before day %u: %u day dropped, %lld blocks and %lld (agent, seq) rows left\n", DAY0 + 1, days,
	       left, count(c, "SELECT count(*) FROM block_seqs"));
	return days != 1 || left != n_batches / 2 || count(c, "SELECT count(*) FROM block_seqs") != n_batches / 2;
}

static int race(unsigned n_writers, unsigned n_pullers)
{
	pthread_t wt[16], pt[16], nt;
	struct writer w[16] = { 0 };
	struct puller p[16] = { 0 }, naive = { .seen = calloc(n_batches, 1) };
	unsigned naive_missed = 0;
	unsigned duplicates = 0, rollbacks = 0;
	uint64_t t0 = now_monotonic_us();
	PGconn *c = connect_or_die();
	int bad = 0;

	atomic_store(&writers_left, (int)n_writers);
	for (unsigned i = 0; i < n_pullers; i++) {
		p[i].seen = calloc(n_batches, 1);
		pthread_create(&pt[i], NULL, puller_main, &p[i]);
	}
	pthread_create(&nt, NULL, naive_main, &naive);
	for (unsigned i = 0; i < n_writers; i++) {
		w[i] = (struct writer){ .id = i, .n_writers = n_writers };
		if (pgblocks_chain_init(&w[i].chain, HASH_SHA256) < 0)
			return 2;
		pthread_create(&wt[i], NULL, writer_main, &w[i]);
	}
	for (unsigned i = 0; i < n_writers; i++) {
		pthread_join(wt[i], NULL);
		duplicates += w[i].duplicates;
		rollbacks += w[i].rollbacks;
		bad |= w[i].error != 0;
	}
	for (unsigned i = 0; i < n_pullers; i++)
		pthread_join(pt[i], NULL);
	pthread_join(nt, NULL);
	for (unsigned k = 0; k < n_batches; k++)
		naive_missed += naive.seen[k] == 0;
	free(naive.seen);
	printf("%u batches, each by 2 of %u writers: %lld blocks and %lld (agent, seq) rows stored, %u duplicates"
	       " answered, %u transactions rolled back, %.2f s\n",
	       n_batches, n_writers, count(c, "SELECT count(*) FROM blocks"), count(c, "SELECT count(*) FROM block_seqs"),
	       duplicates, rollbacks, (double)(now_monotonic_us() - t0) / 1e6);
	bad |= count(c, "SELECT count(*) FROM blocks") != n_batches || count(c, "SELECT count(*) FROM block_seqs") != n_batches;
	for (unsigned i = 0; i < n_pullers; i++) {
		unsigned missed = 0;

		for (unsigned k = 0; k < n_batches; k++)
			missed += p[i].seen[k] == 0;
		printf("puller %u: %u blocks in %u polls, %u missed, %u seen twice%s\n", i, p[i].blocks, p[i].polls, missed,
		       p[i].twice, p[i].error ? " (error)" : "");
		bad |= missed || p[i].twice || p[i].error;
		free(p[i].seen);
	}
	printf("a reader by id alone, beside them: %u blocks seen, %u passed over for good\n", naive.blocks, naive_missed);
	bad |= retention(c);
	PQfinish(c);
	return bad ? 1 : 0;
}

static int count_cb(const struct pg_block *b, void *ctx)
{
	(*(unsigned *)ctx)++;
	return 0;
}

static int skip(void)
{
	PGconn *a = connect_or_die(), *b = connect_or_die(), *rd = connect_or_die();
	struct block_in first, second, again;
	uint8_t f1[32], f2[32], f3[32];
	struct pg_cursor cur = { 0 };
	unsigned n = 0, seen = 0, naive_seen = 0;
	long long naive = 0;
	uint32_t day;
	struct pgblocks_chain ka, kb;
	int bad = pgblocks_chain_init(&ka, HASH_SHA256) < 0 || pgblocks_chain_init(&kb, HASH_SHA256) < 0;

	batch_of(0, &first, f1, &day);
	batch_of(1, &second, f2, &day);
	/* A's block takes the smaller id; B's commits first. */
	if (pg_exec(a, "BEGIN") < 0 || pgblocks_store(a, DAY0, &first, &ka) < 0 || pg_exec(b, "BEGIN") < 0 ||
	    pgblocks_store(b, DAY0, &second, &kb) < 0 || pg_exec(b, "COMMIT") < 0)
		return 2;
	printf("block %" PRId64 " written, not committed; block %" PRId64 " committed\n", first.block_id, second.block_id);
	naive_seen += naive_after(rd, &naive, NULL);
	if (pgblocks_after(rd, dialect, &cur, 10, count_cb, &n, &seen) < 0)
		return 2;
	printf("while the first runs: the cursor gives %u blocks, a reader by id %u (up to id %lld)\n", seen, naive_seen,
	       naive);
	bad |= seen != 0 || naive_seen != 1;
	if (pg_exec(a, "COMMIT") < 0 || pgblocks_after(rd, dialect, &cur, 10, count_cb, &n, &seen) < 0)
		return 2;
	naive_seen += naive_after(rd, &naive, NULL);
	printf("after it commits: the cursor gives %u blocks, the reader by id %u in all: it passed block %" PRId64
	       " over\n", seen, naive_seen, first.block_id);
	bad |= seen != 2 || naive_seen != 1;
	/* The same (agent, seq) with another frame, from a third connection: a conflict, not a duplicate. */
	batch_of(0, &again, f3, &day);
	f3[0] ^= 1;
	memcpy(again.digest, f3, 32);
	if (pgblocks_store(rd, DAY0, &again, &kb) < 0)
		return 2;
	printf("the first block's (agent, seq) again with another frame: %s\n",
	       again.result == BLOCK_CONFLICT ? "conflict" : "not a conflict");
	bad |= again.result != BLOCK_CONFLICT;
	PQfinish(a);
	PQfinish(b);
	PQfinish(rd);
	return bad;
}

#define WORK_SQL "INSERT INTO lease_work(epoch, holder, at) SELECT $1::bigint, $2, $3::bigint WHERE " PGLEASE_FENCE(4, 5)

static int work_row(PGconn *c, int64_t epoch, const char *holder)
{
	char e[24], at[24];
	const struct pg_param p[] = { PG_TEXT(e), PG_TEXT(holder), PG_TEXT(at) };
	long long rows = 0;

	(void)snprintf(e, sizeof(e), "%" PRId64, epoch);
	(void)snprintf(at, sizeof(at), "%" PRIu64, now_realtime_us());
	return pglease_fenced(c, "work", epoch, WORK_SQL, p, 3, &rows);
}

static int lease(const char *holder, unsigned seconds)
{
	PGconn *c = connect_or_die();
	uint64_t end = now_monotonic_us() + seconds * USEC_PER_SEC, next_try = 0;
	int64_t epoch = 0, led = 0;

	while (now_monotonic_us() < end) {
		if (now_monotonic_us() >= next_try) {
			int r = pglease_try(c, "work", holder, &epoch);

			if (r < 0)
				return 2;
			if (r == 1 && epoch != led) {
				printf("leader %s epoch %" PRId64 "\n", holder, epoch);
				fflush(stdout);
				led = epoch;
			}
			if (r == 0)
				led = 0;
			next_try = now_monotonic_us() + 100 * USEC_PER_MSEC;
		}
		if (led && work_row(c, led, holder) < 0)
			return 2;
		usleep(20000);
	}
	(void)pglease_release(c, "work");
	PQfinish(c);
	return 0;
}

static int fence(void)
{
	PGconn *a = connect_or_die(), *b = connect_or_die();
	int64_t ea = 0, eb = 0;
	int ra, rb, stale;

	ra = pglease_try(a, "fence", "a", &ea);
	rb = pglease_try(b, "fence", "b", &eb);
	printf("a takes the lease: %d (epoch %" PRId64 "); b while a holds it: %d\n", ra, ea, rb);
	(void)pglease_release(a, "fence");
	rb = pglease_try(b, "fence", "b", &eb);
	{
		char e[24], at[24];
		const struct pg_param p[] = { PG_TEXT(e), PG_TEXT("a"), PG_TEXT(at) };
		long long rows = 0;

		(void)snprintf(e, sizeof(e), "%" PRId64, ea);
		(void)snprintf(at, sizeof(at), "%" PRIu64, now_realtime_us());
		stale = pglease_fenced(a, "fence", ea, WORK_SQL, p, 3, &rows);
	}
	printf("a gives it up, b takes it: %d (epoch %" PRId64 "); a's write with epoch %" PRId64 ": %s\n", rb, eb, ea,
	       stale == -ESTALE ? "refused, stale" : "not refused");
	PQfinish(a);
	PQfinish(b);
	return ra == 1 && rb == 1 && eb == ea + 1 && stale == -ESTALE ? 0 : 1;
}

static int print_host(const struct host_row *h, void *ctx)
{
	(void)ctx;
	printf("%.*s\n", (int)h->hostname.len, h->hostname.p);
	return 0;
}

int main(int argc, char **argv)
{
	PGconn *c;
	int r;

	if (argc < 4 || (strcmp(argv[3], "race") == 0 && argc != 7) || (strcmp(argv[3], "lease") == 0 && argc != 6) ||
	    (strcmp(argv[3], "hosts") == 0 && argc != 5)) {
		fprintf(stderr, "usage: pgrace URL PASSWORD_FILE skip | race WRITERS PULLERS BATCHES | lease HOLDER SECONDS"
				" | fence | hosts GLOB\n");
		return 2;
	}
	conf = (struct pg_conf){ .url = argv[1], .password_file = argv[2] };
	dialect = pg_dialect_find("postgresql");
	c = connect_or_die();
	if (strcmp(argv[3], "hosts") == 0) {
		r = pghosts_each(c, &(struct host_filter){ .name_glob = argv[4], .no_probe_counts = true }, print_host, NULL);
		PQfinish(c);
		return r < 0 ? 2 : 0;
	}
	if (strcmp(argv[3], "lease") == 0 || strcmp(argv[3], "fence") == 0) {
		r = pglease_schema(c);
		if (r == 0)
			r = pg_exec(c, "CREATE TABLE IF NOT EXISTS lease_work(epoch bigint, holder text, at bigint)");
		PQfinish(c);
		if (r < 0 && r != -EEXIST)
			return 2;
		return strcmp(argv[3], "fence") == 0 ? fence() : lease(argv[4], (unsigned)atoi(argv[5]));
	}
	r = pgblocks_schema(c, dialect);
	if (r == 0)
		r = pgblocks_prepare_day(c, dialect, DAY0);
	if (r == 0)
		r = pgblocks_prepare_day(c, dialect, DAY0 + 1);
	if (r == 0)
		r = pg_exec(c, "TRUNCATE blocks, block_seqs");
	PQfinish(c);
	if (r < 0)
		return 2;
	if (strcmp(argv[3], "skip") == 0) {
		n_batches = 2;
		return skip();
	}
	n_batches = (unsigned)atoi(argv[6]);
	if (atoi(argv[4]) < 2 || atoi(argv[4]) > 16 || atoi(argv[5]) < 1 || atoi(argv[5]) > 16 || n_batches < 1) {
		fprintf(stderr, "pgrace: 2 to 16 writers, 1 to 16 pullers, a batch at least\n");
		return 2;
	}
	return race((unsigned)atoi(argv[4]), (unsigned)atoi(argv[5]));
}
