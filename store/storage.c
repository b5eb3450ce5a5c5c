/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "common/log.h"
#include "common/macro.h"
#include "common/sha256.h"
#include "store/chain.h"
#include "common/util.h"
#include "store/storage.h"

static const char meta_schema[] =
	"CREATE TABLE IF NOT EXISTS hosts(id TEXT PRIMARY KEY, hostname TEXT, first_seen INTEGER,"
	" last_seen INTEGER, batches INTEGER DEFAULT 0, records INTEGER DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS dedup(agent TEXT NOT NULL, seq INTEGER NOT NULL, day INTEGER NOT NULL,"
	" PRIMARY KEY(agent, seq)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS dedup_day ON dedup(day);"
	"CREATE TABLE IF NOT EXISTS shards(day INTEGER PRIMARY KEY, file TEXT NOT NULL, ts_min INTEGER,"
	" ts_max INTEGER, blocks INTEGER DEFAULT 0, records INTEGER DEFAULT 0, bytes INTEGER DEFAULT 0,"
	" synced_block INTEGER DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS tokens(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
	" role TEXT NOT NULL, hash BLOB UNIQUE NOT NULL, created INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS probe_state(agent TEXT NOT NULL, name TEXT NOT NULL, host TEXT NOT NULL,"
	" type TEXT, status TEXT NOT NULL, latency_us INTEGER, message TEXT, ts INTEGER NOT NULL,"
	" PRIMARY KEY(agent, name)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS agent_conflicts(agent TEXT NOT NULL, host TEXT NOT NULL, other_host TEXT NOT NULL,"
	" seq INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, count INTEGER NOT NULL,"
	" PRIMARY KEY(agent, host, other_host)) WITHOUT ROWID;";

/*
 * A shard: the blocks (chain: the hash scheme of chain.h each was stored
 * with) and the rows derived from them, each naming its block.
 */
static const char shard_schema[] =
	"CREATE TABLE IF NOT EXISTS blocks(id INTEGER PRIMARY KEY, agent TEXT NOT NULL, seq INTEGER NOT NULL,"
	" host TEXT NOT NULL, received INTEGER NOT NULL, ts_min INTEGER NOT NULL, ts_max INTEGER NOT NULL,"
	" records INTEGER NOT NULL, raw_len INTEGER NOT NULL, frame BLOB NOT NULL, prev_hash BLOB NOT NULL,"
	" hash BLOB NOT NULL, chain INTEGER NOT NULL DEFAULT 1, UNIQUE(agent, seq));"
	"CREATE INDEX IF NOT EXISTS blocks_host ON blocks(host, id);"
	"CREATE INDEX IF NOT EXISTS blocks_time ON blocks(ts_min, ts_max);"
	"CREATE TABLE IF NOT EXISTS streams(value TEXT NOT NULL, block INTEGER NOT NULL,"
	" PRIMARY KEY(value, block)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS probes(block INTEGER NOT NULL, ts INTEGER NOT NULL, agent TEXT NOT NULL,"
	" host TEXT NOT NULL, name TEXT NOT NULL, type TEXT, status TEXT NOT NULL, latency_us INTEGER,"
	" message TEXT);"
	"CREATE INDEX IF NOT EXISTS probes_by_name ON probes(host, name, ts);"
	"CREATE TABLE IF NOT EXISTS metrics(ts INTEGER NOT NULL, agent TEXT NOT NULL, host TEXT NOT NULL,"
	" name TEXT NOT NULL, instance TEXT NOT NULL, value REAL NOT NULL, block INTEGER);"
	"CREATE INDEX IF NOT EXISTS metrics_by_name ON metrics(name, host, ts);"
	"CREATE TABLE IF NOT EXISTS log_matches(block INTEGER NOT NULL, rule TEXT NOT NULL, agent TEXT NOT NULL,"
	" host TEXT NOT NULL, ts_first INTEGER NOT NULL, ts_last INTEGER NOT NULL, count INTEGER NOT NULL,"
	" sample TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS log_matches_by_rule ON log_matches(rule, ts_last);"
	"CREATE TABLE IF NOT EXISTS dialtest_results(block INTEGER NOT NULL, ts INTEGER NOT NULL, test INTEGER NOT NULL,"
	" name TEXT NOT NULL, outcome TEXT NOT NULL, latency_us INTEGER NOT NULL, result TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS dialtest_results_by_test ON dialtest_results(test, ts);";

/* A shard made before scheme 2: what it lacks (the shard a collector upgrade finds open). */
static const char shard_migration[] =
	"BEGIN IMMEDIATE; ALTER TABLE blocks ADD COLUMN chain INTEGER NOT NULL DEFAULT 1;"
	" ALTER TABLE metrics ADD COLUMN block INTEGER; COMMIT;";

/*
 * The rows derived from a block, table by table: the writer's INSERT and the
 * verifier's SELECT are both made from columns, so what is hashed cannot
 * differ between them. order: the order rows were stored in.
 */
static const struct derived {
	const char *table;
	const char *columns;
	int n;
	const char *order;
} derived[_CHAIN_TABLES] = {
	[CHAIN_STREAMS] = { "streams", "value", 1, "block, value" },
	[CHAIN_PROBES] = { "probes", "ts, agent, host, name, type, status, latency_us, message", 8, "rowid" },
	[CHAIN_DIALTESTS] = { "dialtest_results", "ts, test, name, outcome, latency_us, result", 6, "rowid" },
	[CHAIN_METRICS] = { "metrics", "ts, agent, host, name, instance, value", 6, "rowid" },
	[CHAIN_MATCHES] = { "log_matches", "rule, agent, host, ts_first, ts_last, count, sample", 7, "rowid" },
};

#define BLOCK_COLUMNS "id, agent, seq, host, received, ts_min, ts_max, records, raw_len, chain, frame, prev_hash, hash"
/* The columns of BLOCK_COLUMNS the block's hash covers as they are, before the frame. */
#define BLOCK_HASHED 10

enum {
	M_DEDUP_GET,
	M_DEDUP_PUT,
	M_HOST_SEEN,
	M_SHARD_ADD,
	M_SHARD_UPDATE,
	M_PROBE_STATE,
	M_HOST_INVENTORY,
	M_HOST_NAME,
	M_CONFLICT,
	M_HOST_CERTIFICATE,
	_M_MAX,
};

static const char *const meta_sql[_M_MAX] = {
	[M_DEDUP_GET] = "SELECT digest, day FROM dedup WHERE agent=? AND seq=?",
	[M_DEDUP_PUT] = "INSERT OR IGNORE INTO dedup(agent, seq, day, digest) VALUES (?,?,?,?)",
	[M_HOST_SEEN] = "INSERT INTO hosts(id, hostname, first_seen, last_seen, batches, records, collector, certificate)"
			" VALUES (?1,?2,?3,?3,?4,?5,?6,?7) ON CONFLICT(id) DO UPDATE SET hostname=?2,"
			" last_seen=max(last_seen, ?3), batches=batches+?4, records=records+?5, collector=?6,"
			" certificate=coalesce(certificate, ?7)",
	[M_SHARD_ADD] = "INSERT OR IGNORE INTO shards(day, file) VALUES (?,?)",
	[M_SHARD_UPDATE] = "UPDATE shards SET ts_min=min(coalesce(ts_min, ?2), ?2), ts_max=max(coalesce(ts_max, ?3), ?3),"
			   " blocks=blocks+?4, records=records+?5, bytes=bytes+?6, synced_block=max(synced_block, ?7)"
			   " WHERE day=?1",
	[M_PROBE_STATE] = "INSERT INTO probe_state(agent, name, host, type, status, latency_us, message, ts)"
			  " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(agent, name) DO UPDATE SET host=excluded.host,"
			  " type=excluded.type, status=excluded.status, latency_us=excluded.latency_us,"
			  " message=excluded.message, ts=excluded.ts,"
			  " streak=CASE WHEN probe_state.status=excluded.status THEN probe_state.streak+1 ELSE 1 END"
			  " WHERE excluded.ts >= probe_state.ts RETURNING streak",
	[M_HOST_INVENTORY] = "UPDATE hosts SET inventory=?2, labels=?3 WHERE id=?1",
	[M_HOST_NAME] = "SELECT hostname, collector FROM hosts WHERE id=?1",
	[M_CONFLICT] = "INSERT INTO agent_conflicts(agent, host, other_host, seq, first_seen, last_seen, count)"
		       " VALUES (?1,?2,?3,?4,?5,?5,1) ON CONFLICT(agent, host, other_host) DO UPDATE SET seq=?4,"
		       " last_seen=max(last_seen, ?5), count=count+1",
	[M_HOST_CERTIFICATE] = "SELECT certificate FROM hosts WHERE id=?1",
};

/* What a group of blocks adds to its shard's catalogue row. */
struct shard_counts {
	uint64_t blocks, records, bytes;
	uint64_t ts_min, ts_max;
	int64_t max_id;
};

struct shard {
	uint32_t day;
	sqlite3 *db;
	sqlite3_stmt *ins_block;
	sqlite3_stmt *ins[_CHAIN_TABLES]; /* of derived[] */
	int64_t next_id; /* blocks are numbered by the writer: the id is in the hash */
};

struct storage {
	char *dir;
	enum db_sync sync;
	sqlite3 *meta;
	sqlite3_stmt *m[_M_MAX];
	struct shard cur;
	uint8_t last_hash[SHA256_SIZE];
};

static void shard_close(struct shard *sh)
{
	sqlite3_finalize(sh->ins_block);
	for (int t = 0; t < _CHAIN_TABLES; t++)
		sqlite3_finalize(sh->ins[t]);
	db_close(sh->db);
	*sh = (struct shard){ 0 };
}

static void shard_path(const char *dir, uint32_t day, char *out, size_t size)
{
	char name[16];

	format_day(day, name, sizeof(name));
	(void)snprintf(out, size, "%s/shards/%s.db", dir, name);
}

static int step_done(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		log_error("storage %s: %s", sqlite3_db_filename(db, "main"), sqlite3_errmsg(db));
		return db_errno(rc);
	}
	return 0;
}

/* "INSERT INTO table(block, columns) VALUES (?1, ...)" of derived table t. */
static int prepare_derived(sqlite3 *db, enum chain_table t, sqlite3_stmt **ret)
{
	const struct derived *d = &derived[t];
	char sql[512];
	int n = snprintf(sql, sizeof(sql), "INSERT INTO %s(block, %s) VALUES (?", d->table, d->columns);

	for (int i = 0; i < d->n; i++)
		n += snprintf(sql + n, sizeof(sql) - (size_t)n, ",?");
	(void)snprintf(sql + n, sizeof(sql) - (size_t)n, ")");
	return db_prepare(db, sql, ret);
}

static bool has_column(sqlite3 *db, const char *table, const char *column)
{
	return sqlite3_table_column_metadata(db, "main", table, column, NULL, NULL, NULL, NULL, NULL) == SQLITE_OK;
}

/* The id the next block of the open shard gets. */
static int load_next_id(struct shard *sh)
{
	sqlite3_stmt *st;
	int r = db_prepare(sh->db, "SELECT coalesce(max(id), 0) + 1 FROM blocks", &st);

	if (r < 0)
		return r;
	sh->next_id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 1;
	sqlite3_finalize(st);
	return 0;
}

static int shard_open_writer(struct storage *s, uint32_t day)
{
	char path[4096], name[16];
	sqlite3_stmt *st = s->m[M_SHARD_ADD];
	int r;

	shard_close(&s->cur);
	shard_path(s->dir, day, path, sizeof(path));
	r = db_open(path, true, false, s->sync, &s->cur.db);
	if (r < 0)
		return r;
	r = db_exec(s->cur.db, shard_schema);
	if (r == 0 && !has_column(s->cur.db, "blocks", "chain"))
		r = db_exec(s->cur.db, shard_migration);
	if (r == 0)
		r = db_prepare(s->cur.db, "INSERT INTO blocks(" BLOCK_COLUMNS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       &s->cur.ins_block);
	for (int t = 0; r == 0 && t < _CHAIN_TABLES; t++)
		r = prepare_derived(s->cur.db, t, &s->cur.ins[t]);
	if (r == 0)
		r = load_next_id(&s->cur);
	if (r < 0) {
		shard_close(&s->cur);
		return r;
	}
	s->cur.day = day;
	format_day(day, name, sizeof(name));
	sqlite3_bind_int64(st, 1, day);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	return step_done(s->meta, st);
}

/* The chain continues from the newest block of the newest shard. */
static int load_chain(struct storage *s)
{
	sqlite3_stmt *st;
	int r = db_prepare(s->meta, "SELECT max(day) FROM shards", &st);
	uint32_t day = 0;

	if (r < 0)
		return r;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		day = (uint32_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (!day)
		return 0;
	r = shard_open_writer(s, day);
	if (r < 0)
		return r;
	r = db_prepare(s->cur.db, "SELECT hash FROM blocks ORDER BY id DESC LIMIT 1", &st);
	if (r < 0)
		return r;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == SHA256_SIZE)
		memcpy(s->last_hash, sqlite3_column_blob(st, 0), SHA256_SIZE);
	sqlite3_finalize(st);
	return 0;
}

static void counts_add(struct shard_counts *c, uint64_t records, uint64_t bytes, uint64_t ts_min,
		       uint64_t ts_max, int64_t id)
{
	if (!c->blocks)
		c->ts_min = UINT64_MAX;
	c->blocks++;
	c->records += records;
	c->bytes += bytes;
	c->ts_min = MIN(c->ts_min, ts_min);
	c->ts_max = MAX(c->ts_max, ts_max);
	c->max_id = MAX(c->max_id, id);
}

/* Adds c to the shard's catalogue row (inside the caller's meta transaction). */
static int record_counts(struct storage *s, uint32_t day, const struct shard_counts *c)
{
	sqlite3_stmt *st = s->m[M_SHARD_UPDATE];

	if (!c->blocks)
		return 0;
	sqlite3_bind_int64(st, 1, day);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)c->ts_min);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)c->ts_max);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)c->blocks);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)c->records);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)c->bytes);
	sqlite3_bind_int64(st, 7, c->max_id);
	return step_done(s->meta, st);
}

/* Meta's record that (agent, seq) is stored, in the shard of day, with its frame's digest. */
static int put_dedup(struct storage *s, const char *agent, int64_t seq, uint32_t day,
		     const uint8_t digest[SHA256_SIZE])
{
	sqlite3_stmt *st = s->m[M_DEDUP_PUT];

	sqlite3_bind_text(st, 1, agent, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, seq);
	sqlite3_bind_int64(st, 3, day);
	sqlite3_bind_blob(st, 4, digest, SHA256_SIZE, SQLITE_TRANSIENT);
	return step_done(s->meta, st);
}

/*
 * The host was heard from at received; batches and records stored are
 * added. collector: the id is the collector's own (its dial tests), not an
 * agent's. certificate: the TLS certificate the id is bound to from now on,
 * unless it is bound already (NULL: none).
 */
static int host_seen(struct storage *s, const char *agent, const char *host, int64_t received, int64_t batches,
		     int64_t records, bool collector, const char *certificate)
{
	sqlite3_stmt *st = s->m[M_HOST_SEEN];

	sqlite3_bind_int(st, 6, collector);
	sqlite3_bind_text(st, 7, certificate, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 1, agent, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, host, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, received);
	sqlite3_bind_int64(st, 4, batches);
	sqlite3_bind_int64(st, 5, records);
	return step_done(s->meta, st);
}

/* Whether agent is the collector's own identity, as meta knows it (reconcile does not know the pipe). */
static bool host_is_collector(struct storage *s, const char *agent)
{
	sqlite3_stmt *st = s->m[M_HOST_NAME];
	bool yes;

	sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
	yes = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 1);
	(void)sqlite3_reset(st);
	return yes;
}

/* Restores what meta would have recorded for one block row (id, agent, seq, host, received, records, frame). */
static int restore_block(struct storage *s, sqlite3_stmt *st, uint32_t day)
{
	const char *agent = (const char *)sqlite3_column_text(st, 1);
	uint8_t digest[SHA256_SIZE];
	int r = sha256(sqlite3_column_blob(st, 9), (size_t)sqlite3_column_bytes(st, 9), digest);

	if (r == 0)
		r = put_dedup(s, agent, sqlite3_column_int64(st, 2), day, digest);

	if (r == 0)
		r = host_seen(s, agent, (const char *)sqlite3_column_text(st, 3), sqlite3_column_int64(st, 4), 1,
			      sqlite3_column_int64(st, 5), host_is_collector(s, agent), NULL);
	return r;
}

/*
 * A crash between a shard's COMMIT and meta's leaves blocks that meta does
 * not know: no dedup rows, hosts and catalogue not counted. Blocks past a
 * shard's synced_block watermark get all of that now, in one transaction.
 */
static int reconcile_shard(struct storage *s, uint32_t day, int64_t synced)
{
	struct shard_counts c = { .max_id = synced };
	sqlite3_stmt *st = NULL;
	char path[4096];
	sqlite3 *db;
	int r;

	shard_path(s->dir, day, path, sizeof(path));
	if (db_open(path, false, true, s->sync, &db) < 0)
		return 0;
	r = db_prepare(db, "SELECT id, agent, seq, host, received, records, length(frame), ts_min, ts_max, frame"
			   " FROM blocks WHERE id>? ORDER BY id", &st);
	if (r == 0)
		r = db_exec(s->meta, "BEGIN IMMEDIATE");
	if (r == 0)
		sqlite3_bind_int64(st, 1, synced);
	while (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
		counts_add(&c, (uint64_t)sqlite3_column_int64(st, 5), (uint64_t)sqlite3_column_int64(st, 6),
			   (uint64_t)sqlite3_column_int64(st, 7), (uint64_t)sqlite3_column_int64(st, 8),
			   sqlite3_column_int64(st, 0));
		r = restore_block(s, st, day);
	}
	if (r == 0)
		r = record_counts(s, day, &c);
	if (r == 0)
		r = db_exec(s->meta, "COMMIT");
	if (r < 0)
		(void)sqlite3_exec(s->meta, "ROLLBACK", NULL, NULL, NULL);
	else if (c.blocks)
		log_notice("storage: %s: recorded %" PRIu64 " blocks committed just before a crash", path, c.blocks);
	sqlite3_finalize(st);
	db_close(db);
	return r;
}

static int reconcile(struct storage *s)
{
	sqlite3_stmt *days;
	int r = db_prepare(s->meta, "SELECT day, synced_block FROM shards ORDER BY day DESC LIMIT 2", &days);

	if (r < 0)
		return r;
	while (r == 0 && sqlite3_step(days) == SQLITE_ROW)
		r = reconcile_shard(s, (uint32_t)sqlite3_column_int64(days, 0), sqlite3_column_int64(days, 1));
	sqlite3_finalize(days);
	return r;
}

/* Schema changes after the first release, by PRAGMA user_version. */
static int migrate_meta(sqlite3 *db)
{
	sqlite3_stmt *st;
	int version = 0, r = db_prepare(db, "PRAGMA user_version", &st);

	if (r < 0)
		return r;
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version < 1)
		r = db_exec(db, "BEGIN; ALTER TABLE hosts ADD COLUMN inventory TEXT;"
				" ALTER TABLE hosts ADD COLUMN labels TEXT; PRAGMA user_version=1; COMMIT;");
	/* streak: results in a row with the same status, what probe alert rules count. */
	if (r == 0 && version < 2)
		r = db_exec(db, "BEGIN; ALTER TABLE probe_state ADD COLUMN streak INTEGER NOT NULL DEFAULT 1;"
				" PRAGMA user_version=2; COMMIT;");
	/*
	 * digest: a batch is a duplicate only with the same frame; rows from
	 * before have none, and the shard's frame is read when one is needed.
	 */
	if (r == 0 && version < 3)
		r = db_exec(db, "BEGIN; ALTER TABLE dedup ADD COLUMN digest BLOB; PRAGMA user_version=3; COMMIT;");
	/* collector: the collector's own identity (its dial tests' results), which is no agent's host. */
	if (r == 0 && version < 4)
		r = db_exec(db, "BEGIN; ALTER TABLE hosts ADD COLUMN collector INTEGER NOT NULL DEFAULT 0;"
				" PRAGMA user_version=4; COMMIT;");
	/*
	 * certificate: under TLS, the name of the certificate the agent id was
	 * first sent with; a batch with another certificate is refused.
	 */
	if (r == 0 && version < 5)
		r = db_exec(db, "BEGIN; ALTER TABLE hosts ADD COLUMN certificate TEXT; PRAGMA user_version=5; COMMIT;");
	return r;
}

int storage_open(const char *data_dir, enum db_sync sync, struct storage **ret)
{
	struct storage *s = calloc(1, sizeof(*s));
	char path[4096];
	int r;

	if (!s)
		return -ENOMEM;
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
		r = db_exec(s->meta, meta_schema);
	if (r == 0)
		r = migrate_meta(s->meta);
	for (int i = 0; r == 0 && i < _M_MAX; i++)
		r = db_prepare(s->meta, meta_sql[i], &s->m[i]);
	if (r == 0)
		r = reconcile(s);
	if (r == 0)
		r = load_chain(s);
	if (r < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	storage_free(s);
	return r;
}

void storage_free(struct storage *s)
{
	if (!s)
		return;
	shard_close(&s->cur);
	for (int i = 0; i < _M_MAX; i++)
		sqlite3_finalize(s->m[i]);
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
	sqlite3_stmt *st = NULL;
	char path[4096];
	int r = 0;

	if (day != s->cur.day || !db) {
		shard_path(s->dir, day, path, sizeof(path));
		r = db_open(path, false, true, s->sync, &db);
		if (r < 0)
			return r;
	}
	r = db_prepare(db, "SELECT host, frame FROM blocks WHERE agent=? AND seq=?", &st);
	if (r == 0) {
		sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
		r = -ENOENT;
		if (sqlite3_step(st) == SQLITE_ROW) {
			(void)snprintf(ret_host, host_size, "%s", (const char *)sqlite3_column_text(st, 0));
			r = sha256(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), ret_digest);
		}
	}
	sqlite3_finalize(st);
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
	sqlite3_stmt *st = s->m[M_DEDUP_GET];
	uint8_t digest[SHA256_SIZE];
	bool found, known = false;
	uint32_t day = 0;

	sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)b->seq);
	found = sqlite3_step(st) == SQLITE_ROW;
	if (found) {
		known = sqlite3_column_bytes(st, 0) == SHA256_SIZE;
		if (known)
			memcpy(digest, sqlite3_column_blob(st, 0), SHA256_SIZE);
		day = (uint32_t)sqlite3_column_int64(st, 1);
	}
	(void)sqlite3_reset(st);
	return found ? compare_stored(s, b, agent, day, known ? digest : NULL) : BLOCK_PENDING;
}

/* The latest result per (agent, probe), for GET /api/v1/probes. */
static int update_probe_state(struct storage *s, struct block_in *b, const char *agent)
{
	sqlite3_stmt *st = s->m[M_PROBE_STATE];
	int rc, r = 0;

	for (size_t i = 0; r == 0 && i < b->n_probes; i++) {
		const struct probe_row *p = &b->probes[i];
		sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, p->name, (int)p->name_len, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, b->host, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, p->type, (int)p->type_len, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, p->status, (int)p->status_len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)p->latency_us);
		sqlite3_bind_text(st, 7, p->message, (int)p->message_len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 8, (sqlite3_int64)p->ts);
		rc = sqlite3_step(st);
		/* What an alert rule may act on: a result not ok, or a change (its streak starts again). */
		if (rc == SQLITE_ROW && (sqlite3_column_int64(st, 0) == 1 || p->status_len != 2 ||
					 memcmp(p->status, "ok", 2) != 0))
			b->noteworthy = true;
		while (rc == SQLITE_ROW)
			rc = sqlite3_step(st);
		(void)sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			r = log_error_errno(db_errno(rc), "storage: probe state of %s: %s", agent, sqlite3_errmsg(s->meta));
	}
	return r;
}

/*
 * A batch of journal entries only names no host of the agent's own (the
 * entries keep journald's _HOSTNAME): it takes the name the agent's earlier
 * batches gave, or the agent id. name has room for 256 bytes.
 */
static const char *known_host(struct storage *s, const char *agent, char *name)
{
	sqlite3_stmt *st = s->m[M_HOST_NAME];
	const unsigned char *known;

	snprintf(name, 256, "%s", agent);
	sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && (known = sqlite3_column_text(st, 0)))
		snprintf(name, 256, "%s", (const char *)known);
	(void)sqlite3_reset(st);
	return name;
}

/*
 * One row being inserted: each value is bound and fed to its table's digest
 * in the same call, so what is stored is what is hashed.
 */
struct ins {
	sqlite3_stmt *st;
	int col;
	struct chain_digest *d;
};

static void ins_begin(struct ins *x, struct storage *s, enum chain_table t, struct chain_digest *d, int64_t block)
{
	*x = (struct ins){ .st = s->cur.ins[t], .col = 1, .d = d };
	sqlite3_bind_int64(x->st, 1, block);
}

static void ins_int(struct ins *x, int64_t v)
{
	sqlite3_bind_int64(x->st, ++x->col, v);
	chain_int(x->d, v);
}

static void ins_real(struct ins *x, double v)
{
	sqlite3_bind_double(x->st, ++x->col, v);
	chain_real(x->d, v);
}

/* p NULL binds null. */
static void ins_text(struct ins *x, const char *p, size_t len)
{
	sqlite3_bind_text(x->st, ++x->col, p, (int)len, SQLITE_STATIC);
	chain_text(x->d, p, len);
}

static int ins_end(struct storage *s, struct ins *x)
{
	chain_row_end(x->d);
	return step_done(s->cur.db, x->st);
}

static int cmp_stream(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The block's streams, once each, in the order the verifier reads them (by value). */
static int insert_streams(struct storage *s, const struct block_in *b, int64_t id, struct chain_digest *d)
{
	const char *v[STORAGE_STREAMS_MAX];
	struct ins x;
	int r = 0;

	memcpy(v, b->streams, b->n_streams * sizeof(*v));
	if (b->n_streams)
		qsort(v, b->n_streams, sizeof(*v), cmp_stream);
	for (size_t i = 0; r == 0 && i < b->n_streams; i++) {
		if (i && strcmp(v[i], v[i - 1]) == 0)
			continue;
		ins_begin(&x, s, CHAIN_STREAMS, d, id);
		ins_text(&x, v[i], strlen(v[i]));
		r = ins_end(s, &x);
	}
	return r;
}

static int insert_probes(struct storage *s, const struct block_in *b, int64_t id, const char *agent,
			 struct chain_digest *d)
{
	struct ins x;
	int r = 0;

	for (size_t i = 0; r == 0 && i < b->n_probes; i++) {
		const struct probe_row *p = &b->probes[i];
		ins_begin(&x, s, CHAIN_PROBES, d, id);
		ins_int(&x, (int64_t)p->ts);
		ins_text(&x, agent, strlen(agent));
		ins_text(&x, b->host, strlen(b->host));
		ins_text(&x, p->name, p->name_len);
		ins_text(&x, p->type, p->type_len);
		ins_text(&x, p->status, p->status_len);
		ins_int(&x, (int64_t)p->latency_us);
		ins_text(&x, p->message, p->message_len);
		r = ins_end(s, &x);
	}
	return r;
}

static int insert_dialtests(struct storage *s, const struct block_in *b, int64_t id, struct chain_digest *d)
{
	struct ins x;
	int r = 0;

	for (size_t i = 0; r == 0 && i < b->n_probes; i++) {
		const struct probe_row *p = &b->probes[i];
		if (!p->result)
			continue;
		ins_begin(&x, s, CHAIN_DIALTESTS, d, id);
		ins_int(&x, (int64_t)p->ts);
		ins_int(&x, (int64_t)p->dialtest_id);
		ins_text(&x, p->name, p->name_len);
		ins_text(&x, p->outcome, p->outcome_len);
		ins_int(&x, (int64_t)p->latency_us);
		ins_text(&x, p->result, p->result_len);
		r = ins_end(s, &x);
	}
	return r;
}

static int insert_metrics(struct storage *s, const struct block_in *b, int64_t id, const char *agent,
			  struct chain_digest *d)
{
	struct ins x;
	int r = 0;

	for (size_t i = 0; r == 0 && i < b->n_metrics; i++) {
		const struct metric_row *m = &b->metrics[i];
		ins_begin(&x, s, CHAIN_METRICS, d, id);
		ins_int(&x, (int64_t)m->ts);
		ins_text(&x, agent, strlen(agent));
		ins_text(&x, b->host, strlen(b->host));
		ins_text(&x, m->name, strlen(m->name));
		ins_text(&x, m->instance, m->instance_len);
		ins_real(&x, m->value);
		r = ins_end(s, &x);
	}
	return r;
}

/* One row per log rule that matched in the block: the evaluator counts them over its window. */
static int insert_matches(struct storage *s, const struct block_in *b, int64_t id, const char *agent,
			  struct chain_digest *d)
{
	struct ins x;
	int r = 0;

	for (size_t i = 0; r == 0 && i < logmatch_count(b->logmatch); i++) {
		const struct logmatch_hit *h = &b->hits[i];
		const char *rule = logmatch_name(b->logmatch, i);

		if (h->count == 0)
			continue;
		ins_begin(&x, s, CHAIN_MATCHES, d, id);
		ins_text(&x, rule, strlen(rule));
		ins_text(&x, agent, strlen(agent));
		ins_text(&x, b->host, strlen(b->host));
		ins_int(&x, (int64_t)h->ts_first);
		ins_int(&x, (int64_t)h->ts_last);
		ins_int(&x, (int64_t)h->count);
		ins_text(&x, h->sample, strlen(h->sample));
		r = ins_end(s, &x);
	}
	return r;
}

/* The rows derived from block id, table by table, each table's digest into digests. */
static int insert_derived(struct storage *s, const struct block_in *b, int64_t id, const char *agent,
			  uint8_t digests[_CHAIN_TABLES][SHA256_SIZE])
{
	struct chain_digest d[_CHAIN_TABLES];
	int r = 0, k;

	for (int t = 0; t < _CHAIN_TABLES; t++)
		chain_begin(&d[t]);
	r = insert_streams(s, b, id, &d[CHAIN_STREAMS]);
	if (r == 0)
		r = insert_probes(s, b, id, agent, &d[CHAIN_PROBES]);
	if (r == 0)
		r = insert_dialtests(s, b, id, &d[CHAIN_DIALTESTS]);
	if (r == 0)
		r = insert_metrics(s, b, id, agent, &d[CHAIN_METRICS]);
	if (r == 0)
		r = insert_matches(s, b, id, agent, &d[CHAIN_MATCHES]);
	for (int t = 0; t < _CHAIN_TABLES; t++)
		if ((k = chain_end(&d[t], digests[t])) < 0 && r == 0)
			r = k;
	return r;
}

/*
 * Inserts one block as id, after the rows derived from it, with its hash
 * over prev and all of them (chain.h). -EEXIST if its (agent, seq) is in
 * the shard already.
 */
static int insert_block(struct storage *s, struct block_in *b, const char *agent, int64_t id,
			const uint8_t prev[SHA256_SIZE], uint8_t hash[SHA256_SIZE])
{
	uint8_t digests[_CHAIN_TABLES][SHA256_SIZE];
	sqlite3_stmt *st = s->cur.ins_block;
	struct chain_digest d;
	struct ins x = { .st = st, .d = &d };
	int rc, r = insert_derived(s, b, id, agent, digests);

	if (r < 0)
		return r;
	chain_block_begin(&d, prev, s->cur.day);
	ins_int(&x, id);
	ins_text(&x, agent, strlen(agent));
	ins_int(&x, (int64_t)b->seq);
	ins_text(&x, b->host, strlen(b->host));
	ins_int(&x, (int64_t)b->received_us);
	ins_int(&x, (int64_t)b->ts_min);
	ins_int(&x, (int64_t)b->ts_max);
	ins_int(&x, b->records);
	ins_int(&x, b->raw_len);
	ins_int(&x, CHAIN_SCHEME);
	chain_blob(&d, b->digest, SHA256_SIZE);
	for (int t = 0; t < _CHAIN_TABLES; t++)
		chain_blob(&d, digests[t], SHA256_SIZE);
	r = chain_end(&d, hash);
	if (r < 0)
		return r;
	sqlite3_bind_blob(st, 11, b->zframe, (int)b->zlen, SQLITE_STATIC);
	sqlite3_bind_blob(st, 12, prev, SHA256_SIZE, SQLITE_STATIC);
	sqlite3_bind_blob(st, 13, hash, SHA256_SIZE, SQLITE_STATIC);
	rc = sqlite3_step(st);
	(void)sqlite3_reset(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return -EEXIST;
	if (rc != SQLITE_DONE)
		return log_error_errno(db_errno(rc), "storage: block %s/%" PRIu64 ": %s", agent, b->seq,
				       sqlite3_errmsg(s->cur.db));
	b->block_id = id;
	return 0;
}

static int record_conflict(struct storage *s, const char *agent, const struct block_in *b)
{
	sqlite3_stmt *st = s->m[M_CONFLICT];

	sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, b->conflict_host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, b->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)b->seq);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)b->received_us);
	return step_done(s->meta, st);
}

/* Records what was stored in meta: dedup rows, hosts' last seen, the catalogue, id conflicts. */
static int update_meta(struct storage *s, struct block_in **blocks, size_t n, char (*agents)[33])
{
	struct shard_counts c = { 0 };
	sqlite3_stmt *st;
	int r = db_exec(s->meta, "BEGIN IMMEDIATE");

	for (size_t i = 0; r == 0 && i < n; i++) {
		struct block_in *b = blocks[i];
		bool stored = b->result == BLOCK_STORED;

		if (stored) {
			r = put_dedup(s, agents[i], (int64_t)b->seq, s->cur.day, b->digest);
			if (r == 0)
				r = update_probe_state(s, b, agents[i]);
			counts_add(&c, b->records, b->zlen, b->ts_min, b->ts_max, b->block_id);
		}
		/*
		 * A refused batch is not the agent's to speak for: its host is only
		 * named in the conflict, and a batch with another certificate nowhere.
		 */
		if (r == 0 && b->result == BLOCK_CONFLICT)
			r = record_conflict(s, agents[i], b);
		else if (r == 0 && b->result != BLOCK_REFUSED)
			r = host_seen(s, agents[i], b->host, (int64_t)b->received_us, stored, stored ? b->records : 0,
				      b->local, b->certificate);
		/* After the host's row exists: its first batch may carry the inventory. */
		if (r == 0 && stored && b->inventory) {
			st = s->m[M_HOST_INVENTORY];
			sqlite3_bind_text(st, 1, agents[i], -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, b->inventory, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, b->labels, -1, SQLITE_STATIC);
			r = step_done(s->meta, st);
		}
	}
	if (r == 0)
		r = record_counts(s, s->cur.day, &c);
	if (r == 0)
		r = db_exec(s->meta, "COMMIT");
	if (r < 0)
		(void)sqlite3_exec(s->meta, "ROLLBACK", NULL, NULL, NULL);
	return r;
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
 * (TOFU: M_HOST_CERTIFICATE, or an earlier block of this group, blocks[0..i)).
 * True, with b->bound_certificate set, if b comes with another.
 */
static bool certificate_refused(struct storage *s, struct block_in **blocks, char (*agents)[33], size_t i)
{
	struct block_in *b = blocks[i];
	sqlite3_stmt *st = s->m[M_HOST_CERTIFICATE];
	const unsigned char *bound;

	if (!b->certificate)
		return false;
	b->bound_certificate[0] = 0;
	for (size_t k = 0; k < i && !b->bound_certificate[0]; k++)
		if (blocks[k]->certificate && blocks[k]->result != BLOCK_REFUSED && strcmp(agents[k], agents[i]) == 0)
			snprintf(b->bound_certificate, sizeof(b->bound_certificate), "%s", blocks[k]->certificate);
	if (!b->bound_certificate[0]) {
		sqlite3_bind_text(st, 1, agents[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW && (bound = sqlite3_column_text(st, 0)))
			snprintf(b->bound_certificate, sizeof(b->bound_certificate), "%s", (const char *)bound);
		(void)sqlite3_reset(st);
	}
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
	r = insert_block(s, b, agent, s->cur.next_id, prev, hash);
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

int storage_store(struct storage *s, struct block_in **blocks, size_t n)
{
	uint32_t day = MAX(day_of_us(now_realtime_us()), s->cur.day);
	uint8_t prev[SHA256_SIZE];
	char (*agents)[33] = calloc(n, sizeof(*agents));
	char (*names)[256] = calloc(n, sizeof(*names));
	int r;

	if (!agents || !names) {
		free(agents);
		free(names);
		fail_pending(blocks, n);
		return -ENOMEM;
	}
	r = day != s->cur.day || !s->cur.db ? shard_open_writer(s, day) : 0;
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
			b->host = known_host(s, agents[i], names[i]);
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
	/* The blocks are durable now; a failure below is repaired by reconcile() at start. */
	if (update_meta(s, blocks, n, agents) < 0)
		log_error("storage: meta update failed after shard commit; repaired at next start");
	r = 0;
out:
	/* Names found by known_host() do not outlive this call. */
	for (size_t i = 0; i < n; i++)
		if (blocks[i]->host == names[i])
			blocks[i]->host = NULL;
	free(agents);
	free(names);
	return r;
fail:
	fail_pending(blocks, n);
	goto out;
}

int storage_retention(struct storage *s, uint64_t now_us, uint64_t days)
{
	uint32_t today = day_of_us(now_us), cutoff = today > days ? (uint32_t)(today - days) : 0;
	sqlite3_stmt *st;
	int r = db_prepare(s->meta, "SELECT day FROM shards WHERE day<? AND day<>? ORDER BY day", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, cutoff);
	sqlite3_bind_int64(st, 2, s->cur.day);
	while (sqlite3_step(st) == SQLITE_ROW) {
		uint32_t day = (uint32_t)sqlite3_column_int64(st, 0);
		char path[4096], aux[4200];
		sqlite3_stmt *del;

		shard_path(s->dir, day, path, sizeof(path));
		if (unlink(path) < 0 && errno != ENOENT) {
			log_error_errno(errno, "retention: cannot remove %s: %m", path);
			continue;
		}
		(void)snprintf(aux, sizeof(aux), "%s-wal", path);
		(void)unlink(aux);
		(void)snprintf(aux, sizeof(aux), "%s-shm", path);
		(void)unlink(aux);
		if (db_prepare(s->meta, "DELETE FROM dedup WHERE day=?1; ", &del) == 0) {
			sqlite3_bind_int64(del, 1, day);
			(void)step_done(s->meta, del);
			sqlite3_finalize(del);
		}
		if (db_prepare(s->meta, "DELETE FROM shards WHERE day=?1", &del) == 0) {
			sqlite3_bind_int64(del, 1, day);
			(void)step_done(s->meta, del);
			sqlite3_finalize(del);
		}
		log_info("retention: removed shard %s", path);
	}
	sqlite3_finalize(st);
	return 0;
}

int storage_conflicts_each(sqlite3 *meta, const char *agent, uint64_t since_us,
			   int (*fn)(const struct agent_conflict *c, void *ctx), void *ctx)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(meta,
			       "SELECT agent, (SELECT group_concat(h, ', ') FROM (SELECT host AS h FROM agent_conflicts a"
			       " WHERE a.agent=c.agent UNION SELECT other_host FROM agent_conflicts b WHERE b.agent=c.agent)),"
			       " max(seq), min(first_seen), max(last_seen), sum(count) FROM agent_conflicts c"
			       " WHERE last_seen>=?1 AND (?2 IS NULL OR agent=?2) GROUP BY agent ORDER BY agent", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)since_us);
	sqlite3_bind_text(st, 2, agent, -1, SQLITE_STATIC);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct agent_conflict c = { .agent = (const char *)sqlite3_column_text(st, 0),
					    .hosts = (const char *)sqlite3_column_text(st, 1),
					    .seq = (uint64_t)sqlite3_column_int64(st, 2),
					    .first_seen = (uint64_t)sqlite3_column_int64(st, 3),
					    .last_seen = (uint64_t)sqlite3_column_int64(st, 4),
					    .count = (uint64_t)sqlite3_column_int64(st, 5) };
		r = fn(&c, ctx);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_errno(rc);
	sqlite3_finalize(st);
	return r;
}

int storage_meta_connect(const char *data_dir, bool sync, sqlite3 **ret)
{
	char path[4096];

	(void)snprintf(path, sizeof(path), "%s/meta.db", data_dir);
	return db_open(path, false, false, sync ? DB_SYNC_FULL : DB_SYNC_NORMAL, ret);
}

int storage_token_create(const char *data_dir, const char *name, const char *role, char **ret_token)
{
	uint8_t raw[32], hash[SHA256_SIZE];
	char hex[65], path[4096], *token = NULL;
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	int r, rc;

	r = mkdir_p(data_dir, 0750);
	if (r < 0)
		return log_error_errno(r, "storage: cannot create %s: %m", data_dir);
	(void)snprintf(path, sizeof(path), "%s/meta.db", data_dir);
	r = random_bytes(raw, sizeof(raw));
	if (r == 0)
		r = db_open(path, true, false, DB_SYNC_FULL, &db);
	if (r == 0)
		r = db_exec(db, meta_schema);
	if (r == 0)
		r = db_prepare(db, "INSERT INTO tokens(name, role, hash, created) VALUES (?,?,?,?)", &st);
	if (r < 0)
		goto out;
	hex_encode(raw, sizeof(raw), hex);
	if (asprintf(&token, "vgl_%s", hex) < 0) {
		token = NULL;
		r = -ENOMEM;
		goto out;
	}
	r = sha256(token, strlen(token), hash);
	if (r < 0)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, hash, sizeof(hash), SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)now_realtime_us());
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		r = db_errno(rc);
		goto out;
	}
	*ret_token = TAKE_PTR(token);
out:
	free(token);
	sqlite3_finalize(st);
	db_close(db);
	return r;
}

int storage_token_delete(const char *data_dir, const char *name)
{
	char path[4096];
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	int r, rc;

	(void)snprintf(path, sizeof(path), "%s/meta.db", data_dir);
	r = db_open(path, true, false, DB_SYNC_FULL, &db);
	if (r == 0)
		r = db_prepare(db, "DELETE FROM tokens WHERE name=?", &st);
	if (r == 0) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		r = rc != SQLITE_DONE ? db_errno(rc) : sqlite3_changes(db) ? 0 : -ENOENT;
	}
	sqlite3_finalize(st);
	db_close(db);
	return r;
}

struct storage_reader {
	char *dir;
	sqlite3 *meta;
	uint32_t day;
	sqlite3 *shard;
};

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
	free(r->dir);
	free(r);
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
	shard_path(r->dir, day, path, sizeof(path));
	if (db_open(path, false, true, DB_SYNC_NORMAL, &r->shard) < 0)
		return NULL;
	r->day = day;
	return r->shard;
}

int storage_reader_each_shard(struct storage_reader *r, uint64_t since, uint64_t until, bool newest_first,
			      int (*fn)(sqlite3 *db, void *ctx), void *ctx)
{
	sqlite3_stmt *days;
	int k = db_prepare(r->meta,
			   newest_first ? "SELECT day FROM shards WHERE ts_max>=?1 AND (?2=0 OR ts_min<=?2) ORDER BY day DESC" :
					  "SELECT day FROM shards WHERE ts_max>=?1 AND (?2=0 OR ts_min<=?2) ORDER BY day",
			   &days);

	if (k < 0)
		return k;
	sqlite3_bind_int64(days, 1, (sqlite3_int64)since);
	sqlite3_bind_int64(days, 2, (sqlite3_int64)until);
	while (k == 0 && sqlite3_step(days) == SQLITE_ROW)
		k = fn(storage_reader_shard(r, (uint32_t)sqlite3_column_int64(days, 0)), ctx);
	sqlite3_finalize(days);
	return k;
}

int storage_reader_token(struct storage_reader *r, const char *token, char *ret_name,
			 size_t name_sz, char *ret_role, size_t role_sz)
{
	uint8_t hash[SHA256_SIZE];
	sqlite3_stmt *st;
	int k = db_prepare(r->meta, "SELECT name, role FROM tokens WHERE hash=?", &st);

	if (k < 0)
		return k;
	if (sha256(token, strlen(token), hash) < 0) {
		sqlite3_finalize(st);
		return -ENOMEM;
	}
	sqlite3_bind_blob(st, 1, hash, sizeof(hash), SQLITE_STATIC);
	k = -EACCES;
	if (sqlite3_step(st) == SQLITE_ROW) {
		(void)snprintf(ret_name, name_sz, "%s", (const char *)sqlite3_column_text(st, 0));
		(void)snprintf(ret_role, role_sz, "%s", (const char *)sqlite3_column_text(st, 1));
		k = 0;
	}
	sqlite3_finalize(st);
	return k;
}

/* A walk of the chain over every shard, oldest block first. */
struct walk {
	uint8_t prev[SHA256_SIZE];
	bool started;
	uint64_t blocks;
	int problems;
	size_t max_problems;
	void (*problem)(uint32_t day, int64_t block, const char *what, void *userdata);
	void *userdata;
};

static void walk_problem(struct walk *w, uint32_t day, int64_t block, const char *what)
{
	if ((size_t)w->problems++ < w->max_problems)
		w->problem(day, block, what, w->userdata);
}

/* A column into a digest as what it holds. */
static void chain_column(struct chain_digest *d, sqlite3_stmt *st, int col)
{
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_INTEGER:
		chain_int(d, sqlite3_column_int64(st, col));
		break;
	case SQLITE_FLOAT:
		chain_real(d, sqlite3_column_double(st, col));
		break;
	case SQLITE_TEXT:
		chain_text(d, sqlite3_column_text(st, col), (size_t)sqlite3_column_bytes(st, col));
		break;
	case SQLITE_BLOB:
		chain_blob(d, sqlite3_column_blob(st, col), (size_t)sqlite3_column_bytes(st, col));
		break;
	default:
		chain_null(d);
	}
}

/*
 * A derived table read in the order it was written, alongside the blocks:
 * its rows of each block are hashed as the writer hashed them.
 */
struct rows {
	enum chain_table t;
	sqlite3_stmt *st;
	bool more;
	int64_t block; /* of the current row; INT64_MIN for a row from before rows named their block */
};

static void rows_next(struct rows *rw)
{
	rw->more = sqlite3_step(rw->st) == SQLITE_ROW;
	rw->block = !rw->more ? INT64_MAX : sqlite3_column_type(rw->st, 0) == SQLITE_NULL ? INT64_MIN :
								       sqlite3_column_int64(rw->st, 0);
}

static int rows_open(sqlite3 *db, enum chain_table t, struct rows *ret)
{
	const struct derived *d = &derived[t];
	char sql[512];
	int r;

	(void)snprintf(sql, sizeof(sql), "SELECT block, %s FROM %s ORDER BY %s", d->columns, d->table, d->order);
	*ret = (struct rows){ .t = t };
	r = db_prepare(db, sql, &ret->st);
	if (r == 0)
		rows_next(ret);
	return r;
}

/*
 * The digest of the rows of block (scheme 2) in one table. Rows before it
 * belong to older blocks (scheme 1: not hashed, skipped) or are out of
 * place: added, moved, or left by a block removed.
 */
static int rows_digest(struct walk *w, uint32_t day, struct rows *rw, int64_t block, int64_t last_v1,
		       uint8_t out[SHA256_SIZE])
{
	struct chain_digest d;
	char what[160];

	for (; rw->more && rw->block < block; rows_next(rw)) {
		if (rw->block == INT64_MIN || rw->block <= last_v1)
			continue;
		(void)snprintf(what, sizeof(what), "a row of %s names block %" PRId64 ", which is not before it: "
			       "rows were added, moved, or left by a removed block", derived[rw->t].table, rw->block);
		walk_problem(w, day, block, what);
	}
	chain_begin(&d);
	for (; rw->more && rw->block == block; rows_next(rw)) {
		for (int c = 1; c <= derived[rw->t].n; c++)
			chain_column(&d, rw->st, c);
		chain_row_end(&d);
	}
	return chain_end(&d, out);
}

/* Scheme 1: hash = SHA-256(prev | agent | seq | SHA-256(frame)). */
static int hash_v1(sqlite3_stmt *st, const void *prev, uint8_t out[SHA256_SIZE])
{
	const char *agent_hex = (const char *)sqlite3_column_text(st, 1);
	uint8_t agent[AGENT_ID_SIZE], seq_le[8], digest[SHA256_SIZE];

	if (!agent_hex || hex_decode(agent_hex, agent, sizeof(agent)) < 0)
		return -EBADMSG;
	put_le64(seq_le, (uint64_t)sqlite3_column_int64(st, 2));
	if (sha256(sqlite3_column_blob(st, 10), (size_t)sqlite3_column_bytes(st, 10), digest) < 0 ||
	    sha256_v(out, prev, (size_t)SHA256_SIZE, agent, sizeof(agent), seq_le, sizeof(seq_le), digest,
		     (size_t)SHA256_SIZE, NULL) < 0)
		return -ENOMEM;
	return 0;
}

/* Scheme 2 (chain.h): every column of the row, the frame, and the rows of each derived table. */
static int hash_v2(struct walk *w, uint32_t day, sqlite3_stmt *st, const void *prev, struct rows *rows,
		   int64_t last_v1, uint8_t out[SHA256_SIZE])
{
	int64_t id = sqlite3_column_int64(st, 0);
	uint8_t frame[SHA256_SIZE], digests[_CHAIN_TABLES][SHA256_SIZE];
	struct chain_digest d;
	int r = sha256(sqlite3_column_blob(st, 10), (size_t)sqlite3_column_bytes(st, 10), frame);

	for (int t = 0; r == 0 && t < _CHAIN_TABLES; t++)
		r = rows_digest(w, day, &rows[t], id, last_v1, digests[t]);
	if (r < 0)
		return r;
	chain_block_begin(&d, prev, day);
	for (int c = 0; c < BLOCK_HASHED; c++)
		chain_column(&d, st, c);
	chain_blob(&d, frame, SHA256_SIZE);
	for (int t = 0; t < _CHAIN_TABLES; t++)
		chain_blob(&d, digests[t], SHA256_SIZE);
	return chain_end(&d, out);
}

/* Checks one block row (BLOCK_COLUMNS) against the chain; last_v1: the newest scheme 1 block so far. */
static void verify_block(struct walk *w, uint32_t day, sqlite3_stmt *st, struct rows *rows, int64_t *last_v1)
{
	int64_t id = sqlite3_column_int64(st, 0), scheme = sqlite3_column_int64(st, 9);
	const void *prev = sqlite3_column_blob(st, 11), *hash = sqlite3_column_blob(st, 12);
	uint8_t want[SHA256_SIZE];
	int r;

	w->blocks++;
	if (sqlite3_column_bytes(st, 11) != SHA256_SIZE || sqlite3_column_bytes(st, 12) != SHA256_SIZE) {
		walk_problem(w, day, id, "malformed row");
		w->started = false;
		return;
	}
	if (w->started && memcmp(prev, w->prev, SHA256_SIZE) != 0)
		walk_problem(w, day, id, "prev_hash does not match the block before: a block was removed or replaced");
	if (scheme == 1)
		*last_v1 = id;
	r = scheme == 1 ? hash_v1(st, prev, want) : scheme == CHAIN_SCHEME ? hash_v2(w, day, st, prev, rows, *last_v1, want) :
							     -EPROTONOSUPPORT;
	if (r == -ENOMEM)
		walk_problem(w, day, id, "out of memory while hashing");
	else if (r < 0 || memcmp(want, hash, SHA256_SIZE) != 0)
		walk_problem(w, day, id, "content does not match its hash: the block or a row derived from it was altered");
	/* Go on from the stored hash, so one bad block is reported once. */
	memcpy(w->prev, hash, SHA256_SIZE);
	w->started = true;
}

/* Rows left after the last block: no stored block is theirs. */
static void rows_left(struct walk *w, uint32_t day, struct rows *rows, int64_t last_v1)
{
	char what[160];

	for (int t = 0; t < _CHAIN_TABLES; t++)
		for (; rows[t].st && rows[t].more; rows_next(&rows[t]))
			if (rows[t].block != INT64_MIN && rows[t].block > last_v1) {
				(void)snprintf(what, sizeof(what), "a row of %s names block %" PRId64 ", which is not stored",
					       derived[t].table, rows[t].block);
				walk_problem(w, day, rows[t].block, what);
			}
}

/* Walks one shard's blocks, and (scheme 2) their rows alongside, in one read transaction. */
static int verify_blocks(struct walk *w, sqlite3 *db, uint32_t day)
{
	bool v2 = has_column(db, "blocks", "chain");
	struct rows rows[_CHAIN_TABLES] = { 0 };
	int64_t last_v1 = 0;
	sqlite3_stmt *st = NULL;
	int k = db_exec(db, "BEGIN");

	for (int t = 0; k == 0 && v2 && t < _CHAIN_TABLES; t++)
		k = rows_open(db, t, &rows[t]);
	if (k == 0)
		k = db_prepare(db, v2 ? "SELECT " BLOCK_COLUMNS " FROM blocks ORDER BY id" :
					"SELECT id, agent, seq, host, received, ts_min, ts_max, records, raw_len, 1, frame,"
					" prev_hash, hash FROM blocks ORDER BY id", &st);
	while (k == 0 && (k = sqlite3_step(st)) == SQLITE_ROW) {
		verify_block(w, day, st, rows, &last_v1);
		k = 0;
	}
	if (k == SQLITE_DONE) {
		k = 0;
		rows_left(w, day, rows, last_v1);
	} else if (k > 0) {
		k = db_errno(k);
	}
	sqlite3_finalize(st);
	for (int t = 0; t < _CHAIN_TABLES; t++)
		sqlite3_finalize(rows[t].st);
	(void)db_exec(db, "COMMIT");
	return k;
}

static int verify_shard(struct storage_reader *r, struct walk *w, uint32_t day, int64_t counted)
{
	sqlite3 *db = storage_reader_shard(r, day);
	uint64_t before = w->blocks;
	int k;

	if (!db) {
		walk_problem(w, day, 0, "shard file missing or unreadable");
		return 0;
	}
	k = verify_blocks(w, db, day);
	if (k < 0)
		return k;
	/* More is fine (ingest goes on while we read); fewer means blocks were deleted. */
	if ((int64_t)(w->blocks - before) < counted)
		walk_problem(w, day, 0, "the shard holds fewer blocks than the catalogue counted: blocks were deleted");
	return 0;
}

int storage_verify(struct storage_reader *r, uint64_t *ret_blocks, size_t max_problems,
		   void (*problem)(uint32_t day, int64_t block, const char *what, void *userdata),
		   void *userdata)
{
	struct walk w = { .max_problems = max_problems, .problem = problem, .userdata = userdata };
	sqlite3_stmt *days;
	int k = db_prepare(r->meta, "SELECT day, blocks FROM shards ORDER BY day", &days);

	if (k < 0)
		return k;
	while (k >= 0 && sqlite3_step(days) == SQLITE_ROW)
		k = verify_shard(r, &w, (uint32_t)sqlite3_column_int64(days, 0), sqlite3_column_int64(days, 1));
	sqlite3_finalize(days);
	if (k < 0)
		return k;
	*ret_blocks = w.blocks;
	return w.problems;
}
