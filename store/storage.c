/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>

#include "common/log.h"
#include "common/macro.h"
#include "common/hash.h"
#include "common/util.h"
#include "store/blocks.h"
#include "store/chain.h"
#include "store/hosts.h"
#include "store/lockouts.h"
#include "store/seals.h"
#include "store/shards.h"
#include "store/storage.h"

/* The shard being written: today's. */
struct shard {
	uint32_t day;
	sqlite3 *db;
	struct blocks_writer *w;
	int64_t next_id; /* blocks are numbered by the writer: the id is in the hash */
};

struct storage {
	char *dir;
	enum db_sync sync;
	sqlite3 *meta;
	struct shards_writer *shards;
	struct hosts_writer *hosts;
	struct shard cur;
	uint8_t last_hash[SHA256_SIZE];
	enum hash_alg alg; /* the chain's, since the store's first block */
	struct pgstore *shared; /* backend=postgresql; NULL: the store is this collector's alone */
	bool meta_behind;       /* a meta update after a shard's commit failed: reconciled before the next store */
	/* The writer's two steps may run on two threads (storage.h): one at a time on the shared store's connection. */
	pthread_mutex_t shared_lock;
};

static void shard_close(struct shard *sh)
{
	blocks_writer_free(sh->w);
	db_close(sh->db);
	*sh = (struct shard){ 0 };
}

/* Blocks are numbered by the writer (the id is in the hash): on from the newest. */
static int load_next_id(struct shard *sh)
{
	struct block_head head = { 0 };
	int r = blocks_head(sh->db, &head);

	sh->next_id = head.id + 1;
	return MIN(r, 0);
}

static int shard_open_writer(struct storage *s, uint32_t day)
{
	char path[4096];
	int r;

	shard_close(&s->cur);
	shards_path(s->dir, day, path, sizeof(path));
	r = db_open(path, true, false, s->sync, &s->cur.db);
	if (r < 0)
		return r;
	r = blocks_schema(s->cur.db);
	if (r == 0)
		r = blocks_writer_open(s->cur.db, chain_scheme(s->alg), !s->shared, &s->cur.w);
	if (r == 0)
		r = load_next_id(&s->cur);
	if (r < 0) {
		shard_close(&s->cur);
		return r;
	}
	s->cur.day = day;
	/* A shard meta does not list is one no reader looks in: opened again at the next store, until it is listed. */
	r = shards_writer_add(s->shards, day);
	if (r < 0)
		shard_close(&s->cur);
	return r;
}

/*
 * The chain continues from the newest block of the newest shard, with the
 * digest it was made with: a store keeps the algorithm it started with.
 */
static int load_chain(struct storage *s, enum hash_alg want)
{
	struct block_head head;
	char path[4096];
	uint32_t day;
	sqlite3 *db;
	int r = shards_newest(s->meta, &day);

	s->alg = want;
	if (r < 0 || !day)
		return r;
	shards_path(s->dir, day, path, sizeof(path));
	/* Read before the writer opens: it writes with the algorithm found. */
	if (db_open(path, false, true, s->sync, &db) == 0) {
		if (blocks_head(db, &head) == 1) {
			memcpy(s->last_hash, head.hash, SHA256_SIZE);
			s->alg = chain_alg(head.scheme);
		}
		db_close(db);
	}
	if (s->alg != want)
		log_notice("storage: the store's hash chain is %s since its first block and stays so; hash=%s "
			   "applies to new stores", hash_name(s->alg), hash_name(want));
	return shard_open_writer(s, day);
}
/* What reconciling one shard adds to meta. */
struct restore {
	struct storage *s;
	uint32_t day;
	struct shard_counts c;
};

/* Restores what meta would have recorded for one block. */
static int restore_block(const struct block_row *b, void *ctx)
{
	struct restore *rs = ctx;
	struct storage *s = rs->s;
	uint8_t digest[SHA256_SIZE];
	char name[256];
	bool collector = false;
	size_t zlen;
	const void *frame = blocks_row_frame(b, &zlen);
	int r = hash_digest(s->alg, frame, zlen, digest);

	shard_counts_add(&rs->c, b->records, zlen, b->ts_min, b->ts_max, b->id);
	if (r == 0)
		r = shards_writer_dedup_put(s->shards, b->agent, b->seq, rs->day, digest);
	/* Whether agent is the collector's own identity, as meta knows it (reconcile does not know the pipe). */
	(void)hosts_writer_name(s->hosts, b->agent, name, sizeof(name), &collector);
	if (r == 0)
		r = hosts_writer_seen(s->hosts, b->agent, b->host, (int64_t)b->received, 1, b->records, collector, NULL);
	return r;
}

/*
 * A crash between a shard's COMMIT and meta's, or meta's update failing
 * there (busy past its timeout), leaves blocks that meta does not know: no
 * dedup rows, hosts and catalogue not counted. Blocks past a shard's
 * synced_block watermark get all of that now, in one transaction.
 */
static int reconcile_shard(uint32_t day, int64_t synced, void *ctx)
{
	struct storage *s = ctx;
	struct restore rs = { .s = s, .day = day, .c = { .max_id = synced } };
	char path[4096];
	sqlite3 *db;
	int r;

	shards_path(s->dir, day, path, sizeof(path));
	if (db_open(path, false, true, s->sync, &db) < 0)
		return 0;
	r = db_exec(s->meta, "BEGIN IMMEDIATE");
	if (r == 0)
		r = blocks_each_after(db, synced, restore_block, &rs);
	if (r == 0)
		r = shards_writer_count(s->shards, day, &rs.c);
	r = db_end(s->meta, r);
	if (r == 0 && rs.c.blocks)
		log_notice("storage: %s: recorded in meta %" PRIu64 " blocks committed before a crash or a failed meta update",
			   path, rs.c.blocks);
	db_close(db);
	return r;
}

int storage_open(const char *data_dir, enum db_sync sync, enum hash_alg alg, struct storage **ret)
{
	struct storage *s = calloc(1, sizeof(*s));
	char path[4096];
	int r;

	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->shared_lock, NULL);
	s->sync = sync;
	s->dir = strdup(data_dir);
	if (!s->dir) {
		r = -ENOMEM;
		goto fail;
	}
	(void)snprintf(path, sizeof(path), "%s/shards", data_dir);
	r = mkdir_p(path, 0750);
	if (r < 0) {
		log_error_errno(r, "storage: cannot create %s: %m", path);
		goto fail;
	}
	(void)snprintf(path, sizeof(path), "%s/meta.db", data_dir);
	r = db_open(path, true, false, sync, &s->meta);
	if (r == 0)
		r = shards_schema(s->meta);
	if (r == 0)
		r = hosts_schema(s->meta);
	if (r == 0)
		r = lockouts_schema(s->meta);
	if (r == 0)
		r = seals_schema(s->meta);
	if (r == 0)
		r = shards_writer_open(s->meta, &s->shards);
	if (r == 0)
		r = hosts_writer_open(s->meta, &s->hosts);
	if (r == 0)
		r = shards_each_recent(s->meta, 2, reconcile_shard, s);
	if (r == 0)
		r = load_chain(s, alg);
	if (r < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	storage_free(s);
	return r;
}

enum hash_alg storage_conf_hash(const struct storage_conf *c)
{
	enum hash_alg alg;

	return c->hash && hash_parse(c->hash, &alg) == 0 ? alg : HASH_SHA256;
}

bool storage_conf_shared(const struct storage_conf *c)
{
	return c->backend && strcmp(c->backend, "postgresql") == 0;
}

int storage_share(struct storage *s, const struct storage_conf *c)
{
	int r = storage_conf_shared(c) ? pgstore_open(c, true, &s->shared) : 0;

	if (r < 0)
		return log_error_errno(r, "storage: cannot open the shared store in PostgreSQL: %m");
	if (!s->shared)
		return 0;
	r = pgstore_digest_agree(s->shared, s->alg);
	if (r == -EXDEV)
		return r;
	if (r < 0)
		return log_error_errno(r, "storage: cannot read the shared store's digest: %m");
	log_info("storage: blocks are shared in PostgreSQL with the other collectors of the database");
	/* The rows derived from blocks are the database's: this store keeps the blocks and their chain. */
	r = shard_open_writer(s, s->cur.day);
	return r < 0 ? log_error_errno(r, "storage: cannot open the shard of today again: %m") : 0;
}

enum hash_alg storage_hash(const struct storage *s)
{
	return s->alg;
}

void storage_free(struct storage *s)
{
	if (!s)
		return;
	shard_close(&s->cur);
	pgstore_free(s->shared);
	pthread_mutex_destroy(&s->shared_lock);
	shards_writer_free(s->shards);
	hosts_writer_free(s->hosts);
	db_close(s->meta);
	free(s->dir);
	free(s);
}

/*
 * The frame digest and host of the block stored as (agent, seq) in the shard
 * of day. On the writer's own shard this sees the blocks of the transaction
 * under way. -ENOENT if there is none.
 */
static int stored_block(struct storage *s, uint32_t day, const char *agent, uint64_t seq,
			uint8_t ret_digest[SHA256_SIZE], char *ret_host, size_t host_size)
{
	sqlite3 *db = s->cur.db;
	char path[4096];
	int r;

	if (day != s->cur.day || !db) {
		shards_path(s->dir, day, path, sizeof(path));
		r = db_open(path, false, true, s->sync, &db);
		if (r < 0)
			return r;
	}
	r = blocks_find(db, agent, seq, s->alg, ret_digest, ret_host, host_size);
	if (db != s->cur.db)
		db_close(db);
	return r;
}

/*
 * Compares b with the block stored as its (agent, seq) in the shard of day:
 * the same frame is a duplicate; another is a conflict (two agents share one
 * id), and b->conflict_host names the host whose batch is stored. known: the
 * stored digest, or NULL to read it from the shard.
 */
static enum block_result compare_stored(struct storage *s, struct block_in *b, const char *agent, uint32_t day,
					const uint8_t *known)
{
	uint8_t digest[SHA256_SIZE];
	int r;

	if (known && memcmp(known, b->digest, SHA256_SIZE) == 0)
		return BLOCK_DUPLICATE;
	/* Only a conflict (rare) or a row from before digests reads the shard. */
	r = stored_block(s, day, agent, b->seq, digest, b->conflict_host, sizeof(b->conflict_host));
	if (r < 0 && !known) {
		log_warning_errno(r, "storage: batch %s/%" PRIu64 " was stored, but its shard cannot be read to compare "
				  "(%m); taken as a duplicate.", agent, b->seq);
		return BLOCK_DUPLICATE;
	}
	if (r < 0)
		(void)snprintf(b->conflict_host, sizeof(b->conflict_host), "(unknown)");
	else if (!known)
		known = digest;
	return memcmp(known, b->digest, SHA256_SIZE) == 0 ? BLOCK_DUPLICATE : BLOCK_CONFLICT;
}

/* BLOCK_PENDING if (agent, seq) was never stored, else compare_stored()'s answer. */
static enum block_result classify(struct storage *s, struct block_in *b, const char *agent)
{
	struct dedup_entry e;

	if (shards_writer_dedup_get(s->shards, agent, b->seq, &e) <= 0)
		return BLOCK_PENDING;
	return compare_stored(s, b, agent, e.day, e.has_digest ? e.digest : NULL);
}

/*
 * The latest result per (agent, probe), for GET /api/v1/probes. With a
 * shared store that state is the database's, which says which streaks
 * began (pghosts.h); a result not ok is noteworthy here.
 */
static int update_probe_state(struct storage *s, struct block_in *b, const char *agent)
{
	int r = 0;

	if (s->shared) {
		for (size_t i = 0; i < b->n_probes; i++)
			b->noteworthy |= !probe_row_ok(&b->probes[i]);
		return 0;
	}
	for (size_t i = 0; r == 0 && i < b->n_probes; i++)
		r = hosts_writer_probe(s->hosts, agent, b->host, &b->probes[i], &b->noteworthy);
	return r;
}

/*
 * A batch of journal entries only names no host of the agent's own (the
 * entries keep journald's _HOSTNAME): it takes the name the agent's earlier
 * batches gave, or the agent id. name has room for 256 bytes.
 */
static const char *known_host(struct storage *s, const char *agent, char *name)
{
	if (!hosts_writer_name(s->hosts, agent, name, 256, NULL))
		(void)snprintf(name, 256, "%s", agent);
	return name;
}

/* What one stored block adds to meta, inside update_meta()'s transaction. */
static int block_meta(struct storage *s, struct block_in *b, const char *agent, struct shard_counts *c)
{
	bool stored = b->result == BLOCK_STORED;
	int r = 0;

	if (stored) {
		r = shards_writer_dedup_put(s->shards, agent, b->seq, s->cur.day, b->digest);
		if (r == 0)
			r = update_probe_state(s, b, agent);
		shard_counts_add(c, b->records, b->zlen, b->ts_min, b->ts_max, b->block_id);
	}
	/*
	 * A refused batch is not the agent's to speak for: its host is only
	 * named in the conflict, and a batch with another certificate nowhere.
	 */
	if (r == 0 && b->result == BLOCK_CONFLICT)
		r = hosts_writer_conflict(s->hosts, agent, b->conflict_host, b->host, b->seq, b->received_us);
	else if (r == 0 && b->result != BLOCK_REFUSED)
		r = hosts_writer_seen(s->hosts, agent, b->host, (int64_t)b->received_us, stored, stored ? b->records : 0,
				      b->local, b->certificate);
	/* After the host's row exists: its first batch may carry the inventory. */
	if (r == 0 && stored && b->inventory)
		r = hosts_writer_inventory(s->hosts, agent, b->inventory, b->labels);
	return r;
}

/* Records what was stored in meta: dedup rows, hosts' last seen, the catalogue, id conflicts. */
static int update_meta(struct storage *s, struct block_in **blocks, size_t n, char (*agents)[33])
{
	struct shard_counts c = { 0 };
	int r = db_exec(s->meta, "BEGIN IMMEDIATE");

	for (size_t i = 0; r == 0 && i < n; i++)
		r = block_meta(s, blocks[i], agents[i], &c);
	if (r == 0)
		r = shards_writer_count(s->shards, s->cur.day, &c);
	return db_end(s->meta, r);
}

static void fail_pending(struct block_in **blocks, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (blocks[i]->result != BLOCK_DUPLICATE && blocks[i]->result != BLOCK_CONFLICT &&
		    blocks[i]->result != BLOCK_REFUSED)
			blocks[i]->result = BLOCK_FAILED;
}

/*
 * Under TLS an agent id belongs to the certificate it was first sent with
 * (trust on first use: the shared hosts' binding, which bound_certificates()
 * put in b->bound_certificate, else an earlier block of this group,
 * blocks[0..i), else meta's hosts.certificate). True, with
 * b->bound_certificate set, if b comes with another.
 */
static bool certificate_refused(struct storage *s, struct block_in **blocks, char (*agents)[33], size_t i)
{
	struct block_in *b = blocks[i];

	if (!b->certificate)
		return false;
	for (size_t k = 0; k < i && !b->bound_certificate[0]; k++)
		if (blocks[k]->certificate && blocks[k]->result != BLOCK_REFUSED && strcmp(agents[k], agents[i]) == 0)
			(void)snprintf(b->bound_certificate, sizeof(b->bound_certificate), "%s", blocks[k]->certificate);
	if (!b->bound_certificate[0])
		(void)hosts_writer_certificate(s->hosts, agents[i], b->bound_certificate, sizeof(b->bound_certificate));
	return b->bound_certificate[0] && strcmp(b->bound_certificate, b->certificate) != 0;
}

/* Stores b after prev (which becomes its hash), or marks why not, inside a savepoint. */
static void store_one(struct storage *s, struct block_in *b, const char *agent, uint8_t prev[SHA256_SIZE])
{
	uint8_t hash[SHA256_SIZE];
	int r;

	b->result = classify(s, b, agent);
	if (b->result != BLOCK_PENDING)
		return;
	(void)db_exec(s->cur.db, "SAVEPOINT blk");
	r = blocks_insert(s->cur.w, b, agent, s->cur.next_id, s->cur.day, prev, hash);
	if (r < 0) {
		(void)db_exec(s->cur.db, "ROLLBACK TO blk");
		/* Stored in this shard but not in meta yet: the same group, or a crash before reconcile. */
		b->result = r == -EEXIST ? compare_stored(s, b, agent, s->cur.day, NULL) : BLOCK_FAILED;
	} else {
		b->result = BLOCK_STORED;
		memcpy(prev, hash, SHA256_SIZE);
		s->cur.next_id++;
	}
	(void)db_exec(s->cur.db, "RELEASE blk");
}

/*
 * Where the ids' bindings are decided: with a shared store, by every
 * collector's first use (an id bound through A is bound on B), asked before
 * the group is stored anywhere; else by this one's meta (certificate_refused()).
 */
static int bound_certificates(struct storage *s, struct block_in **blocks, size_t n)
{
	int r;

	for (size_t i = 0; i < n; i++)
		blocks[i]->bound_certificate[0] = 0;
	if (!s->shared)
		return 0;
	pthread_mutex_lock(&s->shared_lock);
	r = pgstore_bound_certificates(s->shared, blocks, n);
	pthread_mutex_unlock(&s->shared_lock);
	return r;
}

int storage_store_own(struct storage *s, struct block_in **blocks, size_t n, uint32_t *ret_day)
{
	uint32_t day = MAX(day_of_us(now_realtime_us()), s->cur.day);
	uint8_t prev[SHA256_SIZE];
	char (*agents)[33] = calloc(MAX(n, (size_t)1), sizeof(*agents));
	int r = agents ? bound_certificates(s, blocks, n) : -ENOMEM;

	/* Before this group moves the watermark past the blocks meta missed. */
	if (r == 0 && s->meta_behind) {
		r = shards_each_recent(s->meta, 2, reconcile_shard, s);
		s->meta_behind = r < 0;
	}
	if (r == 0 && (day != s->cur.day || !s->cur.db))
		r = shard_open_writer(s, day);
	if (r == 0)
		r = db_exec(s->cur.db, "BEGIN IMMEDIATE");
	if (r < 0)
		goto fail;
	memcpy(prev, s->last_hash, SHA256_SIZE);
	for (size_t i = 0; i < n; i++) {
		struct block_in *b = blocks[i];
		hex_encode(b->agent, AGENT_ID_SIZE, agents[i]);
		if (certificate_refused(s, blocks, agents, i)) {
			b->result = BLOCK_REFUSED;
			continue;
		}
		if (!b->host)
			b->host = known_host(s, agents[i], b->host_known);
		store_one(s, b, agents[i], prev);
	}
	r = db_exec(s->cur.db, "COMMIT");
	if (r < 0) {
		(void)sqlite3_exec(s->cur.db, "ROLLBACK", NULL, NULL, NULL);
		/* The ids handed out went with the rollback, and so does the chain's head (s->last_hash kept). */
		(void)load_next_id(&s->cur);
		goto fail;
	}
	memcpy(s->last_hash, prev, SHA256_SIZE);
	/* The blocks are durable now; a failure below is repaired by reconcile, before the next store or at start. */
	s->meta_behind = update_meta(s, blocks, n, agents) < 0;
	if (s->meta_behind)
		log_error("storage: meta update failed after shard commit; repaired before the next store");
	*ret_day = s->cur.day;
	free(agents);
	return 0;
fail:
	fail_pending(blocks, n);
	free(agents);
	return r;
}

int storage_store_shared(struct storage *s, int own, uint32_t day, struct block_in **blocks, size_t n)
{
	int r = own;

	/* Acknowledged once shared too; a block that fails there is a duplicate here when its agent sends it again. */
	if (r == 0 && s->shared) {
		pthread_mutex_lock(&s->shared_lock);
		r = pgstore_store(s->shared, day, blocks, n);
		pthread_mutex_unlock(&s->shared_lock);
	}
	/* Names found by known_host() do not outlive the group. */
	for (size_t i = 0; i < n; i++)
		if (blocks[i]->host == blocks[i]->host_known)
			blocks[i]->host = NULL;
	return r;
}

void storage_shared_head(struct storage *s, char name[CHAIN_SHARED_NAME], int64_t *ret_pos, uint8_t ret_hash[HASH_SIZE])
{
	if (!s->shared) {
		name[0] = '\0';
		*ret_pos = 0;
		memset(ret_hash, 0, HASH_SIZE);
		return;
	}
	pthread_mutex_lock(&s->shared_lock);
	pgstore_chain_head(s->shared, name, ret_pos, ret_hash);
	pthread_mutex_unlock(&s->shared_lock);
}

int storage_store(struct storage *s, struct block_in **blocks, size_t n)
{
	uint32_t day = 0;
	int r = storage_store_own(s, blocks, n, &day);

	return storage_store_shared(s, r, day, blocks, n);
}

/* More expired shards than this (eleven years of days) wait for the next hour's pass. */
#define RETENTION_MAX 4096

/* Removes day's shard file and what meta holds of it. */
static void drop_shard(struct storage *s, uint32_t day)
{
	char path[4096], aux[4200];

	shards_path(s->dir, day, path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT) {
		log_error_errno(errno, "retention: cannot remove %s: %m", path);
		return;
	}
	(void)snprintf(aux, sizeof(aux), "%s-wal", path);
	(void)unlink(aux);
	(void)snprintf(aux, sizeof(aux), "%s-shm", path);
	(void)unlink(aux);
	if (shards_forget(s->meta, day) == 0)
		log_info("retention: removed shard %s", path);
}

uint32_t storage_retention_cutoff(uint64_t now_us, uint64_t days)
{
	uint32_t today = day_of_us(now_us);

	return today > days ? (uint32_t)(today - days) : 0;
}

int storage_retention(struct storage *s, uint64_t now_us, uint64_t days)
{
	uint32_t cutoff = storage_retention_cutoff(now_us, days);
	_cleanup_free_ uint32_t *expired = calloc(RETENTION_MAX, sizeof(*expired));
	size_t n = 0;
	unsigned dropped = 0;
	int r = expired ? shards_expired(s->meta, cutoff, s->cur.day, expired, RETENTION_MAX, &n) : -ENOMEM;

	for (size_t i = 0; r == 0 && i < n; i++)
		drop_shard(s, expired[i]);
	if (r == 0 && s->shared) {
		pthread_mutex_lock(&s->shared_lock);
		r = pgstore_retention(s->shared, cutoff, &dropped);
		pthread_mutex_unlock(&s->shared_lock);
	}
	if (r == 0 && dropped)
		log_info("retention: dropped %u days of blocks in PostgreSQL", dropped);
	return r;
}

int storage_meta_connect(const char *data_dir, bool sync, sqlite3 **ret)
{
	char path[4096];

	(void)snprintf(path, sizeof(path), "%s/meta.db", data_dir);
	return db_open(path, false, false, sync ? DB_SYNC_FULL : DB_SYNC_NORMAL, ret);
}

struct storage_reader {
	char *dir;
	const struct storage_conf *shared_conf; /* NULL: the blocks are read from this collector's shards */
	struct pgstore *shared;
	sqlite3 *meta;
	uint32_t day;
	sqlite3 *shard;
};

int storage_reader_records_after(struct storage_reader *r, uint32_t day, int64_t block, uint32_t rec,
				 uint64_t *ret)
{
	uint64_t later = 0, in_day = 0;
	sqlite3 *shard = day && shards_known(r->meta, day) ? storage_reader_shard(r, day) : NULL;
	int k = shards_records_after(r->meta, day, &later);

	if (k == 0 && shard)
		k = blocks_records_after(shard, block, rec, &in_day);
	*ret = later + in_day;
	return k;
}

bool block_may_alert(const struct block_in *b)
{
	if (b->result != BLOCK_STORED)
		return false;
	if (b->noteworthy)
		return true;
	for (size_t i = 0; i < logmatch_count(b->logmatch); i++)
		if (b->hits[i].count)
			return true;
	return false;
}

int storage_reader_open(const char *data_dir, struct storage_reader **ret)
{
	struct storage_reader *r = calloc(1, sizeof(*r));
	char path[4096];
	int k;

	if (!r)
		return -ENOMEM;
	r->dir = strdup(data_dir);
	(void)snprintf(path, sizeof(path), "%s/meta.db", data_dir);
	k = r->dir ? db_open(path, false, true, DB_SYNC_NORMAL, &r->meta) : -ENOMEM;
	if (k < 0) {
		storage_reader_free(r);
		return k;
	}
	*ret = r;
	return 0;
}

void storage_reader_free(struct storage_reader *r)
{
	if (!r)
		return;
	db_close(r->shard);
	db_close(r->meta);
	pgstore_free(r->shared);
	free(r->dir);
	free(r);
}

void storage_reader_share(struct storage_reader *r, const struct storage_conf *c)
{
	r->shared_conf = storage_conf_shared(c) ? c : NULL;
}

int storage_reader_shared(struct storage_reader *r, struct pgstore **ret)
{
	int k = r->shared_conf && !r->shared ? pgstore_open(r->shared_conf, false, &r->shared) : 0;

	if (k < 0)
		return k;
	*ret = r->shared;
	return r->shared != NULL;
}

bool storage_reader_has_blocks(struct storage_reader *r)
{
	uint32_t day = 0;

	return shards_newest(r->meta, &day) == 0 && day;
}

sqlite3 *storage_reader_meta(struct storage_reader *r)
{
	return r->meta;
}

sqlite3 *storage_reader_shard(struct storage_reader *r, uint32_t day)
{
	char path[4096];

	if (r->shard && r->day == day)
		return r->shard;
	db_close(r->shard);
	r->shard = NULL;
	shards_path(r->dir, day, path, sizeof(path));
	if (db_open(path, false, true, DB_SYNC_NORMAL, &r->shard) < 0)
		return NULL;
	r->day = day;
	return r->shard;
}

struct shard_fn {
	struct storage_reader *r;
	int (*fn)(sqlite3 *db, void *ctx);
	void *ctx;
};

static int call_shard(uint32_t day, void *ctx)
{
	const struct shard_fn *f = ctx;

	return f->fn(storage_reader_shard(f->r, day), f->ctx);
}

int storage_reader_each_shard(struct storage_reader *r, uint64_t since, uint64_t until, bool newest_first,
			      int (*fn)(sqlite3 *db, void *ctx), void *ctx)
{
	struct shard_range range = { .since = since, .until = until, .newest_first = newest_first };
	struct shard_fn f = { r, fn, ctx };

	return shards_each(r->meta, &range, call_shard, &f);
}
