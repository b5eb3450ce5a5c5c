/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "alerts/logmatch.h"
#include "common/db.h"
#include "common/log.h"
#include "common/macro.h"
#include "store/blocks.h"

/* The blocks (chain: the hash scheme of chain.h each was stored with) and the rows derived from them. */
static const char schema[] =
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
	"CREATE INDEX IF NOT EXISTS dialtest_results_by_test ON dialtest_results(test, ts);"
	"CREATE TABLE IF NOT EXISTS block_index(block INTEGER PRIMARY KEY, filter BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS logmetric_rows(block INTEGER NOT NULL, metric TEXT NOT NULL, agent TEXT NOT NULL,"
	" host TEXT NOT NULL, labels TEXT NOT NULL, ts INTEGER NOT NULL, ts_last INTEGER NOT NULL,"
	" count INTEGER NOT NULL, sum REAL NOT NULL, sketch BLOB);"
	"CREATE INDEX IF NOT EXISTS logmetric_rows_by_metric ON logmetric_rows(metric, ts);";

/* A shard made before scheme 2: what it lacks (the shard a collector upgrade finds open). */
static const char migration[] =
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
	[CHAIN_INDEX] = { "block_index", "filter", 1, "block" },
	[CHAIN_LOGMETRICS] = { "logmetric_rows", "metric, agent, host, labels, ts, ts_last, count, sum, sketch", 9,
			       "rowid" },
};

#define BLOCK_COLUMNS "id, agent, seq, host, received, ts_min, ts_max, records, raw_len, chain, frame, prev_hash, hash"

int blocks_schema(sqlite3 *shard)
{
	int r = db_exec(shard, schema);

	if (r == 0 && !blocks_chained(shard))
		r = db_exec(shard, migration);
	return r;
}

bool blocks_chained(sqlite3 *shard)
{
	return db_has_column(shard, "blocks", "chain");
}

bool blocks_derived_present(sqlite3 *shard, enum chain_table t)
{
	return db_has_column(shard, derived[t].table, "block");
}

struct blocks_writer {
	sqlite3 *db;
	int64_t scheme;
	bool derived; /* false: no rows of derived[] (they are kept elsewhere), each table's digest that of none */
	sqlite3_stmt *block;
	sqlite3_stmt *ins[_CHAIN_TABLES]; /* of derived[] */
};

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

int blocks_writer_open(sqlite3 *shard, int64_t scheme, bool rows, struct blocks_writer **ret)
{
	struct blocks_writer *w = calloc(1, sizeof(*w));
	int r = w ? db_prepare(shard, "INSERT INTO blocks(" BLOCK_COLUMNS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       &w->block) :
		    -ENOMEM;

	for (int t = 0; r == 0 && t < _CHAIN_TABLES; t++)
		r = prepare_derived(shard, t, &w->ins[t]);
	if (r < 0) {
		blocks_writer_free(w);
		return r;
	}
	w->db = shard;
	w->scheme = scheme;
	w->derived = rows;
	*ret = w;
	return 0;
}

void blocks_writer_free(struct blocks_writer *w)
{
	if (!w)
		return;
	sqlite3_finalize(w->block);
	for (int t = 0; t < _CHAIN_TABLES; t++)
		sqlite3_finalize(w->ins[t]);
	free(w);
}

/* Steps st to its row's hash in column col: 1, 0 with no row, or a negative errno. */
static int step_hash(sqlite3_stmt *st, int col, uint8_t out[HASH_SIZE])
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, col) == HASH_SIZE) {
		memcpy(out, sqlite3_column_blob(st, col), HASH_SIZE);
		return 1;
	}
	return rc == SQLITE_ROW ? -EUCLEAN : rc == SQLITE_DONE ? 0 : db_errno(rc);
}

int blocks_head(sqlite3 *shard, struct block_head *ret)
{
	sqlite3_stmt *st;
	/* A shard from before scheme 2, not migrated yet, has no chain column. */
	int r = db_prepare(shard, blocks_chained(shard) ?
				  "SELECT id, hash, chain, (SELECT count(*) FROM blocks) FROM blocks ORDER BY id DESC LIMIT 1" :
				  "SELECT id, hash, 1, (SELECT count(*) FROM blocks) FROM blocks ORDER BY id DESC LIMIT 1",
			   &st);

	if (r < 0)
		return r;
	r = step_hash(st, 1, ret->hash);
	if (r == 1) {
		ret->id = sqlite3_column_int64(st, 0);
		ret->scheme = sqlite3_column_int64(st, 2);
		ret->blocks = sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	return r;
}

int blocks_hash_of(sqlite3 *shard, int64_t id, uint8_t ret_hash[HASH_SIZE])
{
	sqlite3_stmt *st;
	int r = db_prepare(shard, "SELECT hash FROM blocks WHERE id=?", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	r = step_hash(st, 0, ret_hash);
	sqlite3_finalize(st);
	return r == 0 ? -ENOENT : MIN(r, 0);
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

static void ins_begin(struct ins *x, struct blocks_writer *w, enum chain_table t, struct chain_digest *d, int64_t block)
{
	*x = (struct ins){ .st = w->ins[t], .col = 1, .d = d };
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

static void ins_blob(struct ins *x, const void *p, size_t len)
{
	sqlite3_bind_blob(x->st, ++x->col, p, (int)len, SQLITE_STATIC);
	chain_blob(x->d, p, len);
}

static int ins_end(struct blocks_writer *w, struct ins *x)
{
	chain_row_end(x->d);
	return db_step_done(w->db, x->st);
}

static int cmp_stream(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The block's streams, once each, in the order the verifier reads them (by value). */
static int insert_streams(struct blocks_writer *w, const struct block_in *b, int64_t id, struct chain_digest *d)
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
		ins_begin(&x, w, CHAIN_STREAMS, d, id);
		ins_text(&x, v[i], strlen(v[i]));
		r = ins_end(w, &x);
	}
	return r;
}

static int insert_probes(struct blocks_writer *w, const struct block_in *b, int64_t id, const char *agent,
			 struct chain_digest *d)
{
	struct ins x;
	int r = 0;

	for (size_t i = 0; r == 0 && i < b->n_probes; i++) {
		const struct probe_row *p = &b->probes[i];
		ins_begin(&x, w, CHAIN_PROBES, d, id);
		ins_int(&x, (int64_t)p->ts);
		ins_text(&x, agent, strlen(agent));
		ins_text(&x, b->host, strlen(b->host));
		ins_text(&x, p->name, p->name_len);
		ins_text(&x, p->type, p->type_len);
		ins_text(&x, p->status, p->status_len);
		ins_int(&x, (int64_t)p->latency_us);
		ins_text(&x, p->message, p->message_len);
		r = ins_end(w, &x);
	}
	return r;
}

static int insert_dialtests(struct blocks_writer *w, const struct block_in *b, int64_t id, struct chain_digest *d)
{
	struct ins x;
	int r = 0;

	for (size_t i = 0; r == 0 && i < b->n_probes; i++) {
		const struct probe_row *p = &b->probes[i];
		if (!p->result)
			continue;
		ins_begin(&x, w, CHAIN_DIALTESTS, d, id);
		ins_int(&x, (int64_t)p->ts);
		ins_int(&x, (int64_t)p->dialtest_id);
		ins_text(&x, p->name, p->name_len);
		ins_text(&x, p->outcome, p->outcome_len);
		ins_int(&x, (int64_t)p->latency_us);
		ins_text(&x, p->result, p->result_len);
		r = ins_end(w, &x);
	}
	return r;
}

static int insert_metrics(struct blocks_writer *w, const struct block_in *b, int64_t id, const char *agent,
			  struct chain_digest *d)
{
	struct ins x;
	int r = 0;

	for (size_t i = 0; r == 0 && i < b->n_metrics; i++) {
		const struct metric_row *m = &b->metrics[i];
		ins_begin(&x, w, CHAIN_METRICS, d, id);
		ins_int(&x, (int64_t)m->ts);
		ins_text(&x, agent, strlen(agent));
		ins_text(&x, b->host, strlen(b->host));
		ins_text(&x, m->name, strlen(m->name));
		ins_text(&x, m->instance, m->instance_len);
		ins_real(&x, m->value);
		r = ins_end(w, &x);
	}
	return r;
}

/* One row per log rule that matched in the block: the evaluator counts them over its window. */
static int insert_matches(struct blocks_writer *w, const struct block_in *b, int64_t id, const char *agent,
			  struct chain_digest *d)
{
	struct ins x;
	int r = 0;

	for (size_t i = 0; r == 0 && i < logmatch_count(b->logmatch); i++) {
		const struct logmatch_hit *h = &b->hits[i];
		const char *rule = logmatch_name(b->logmatch, i);

		if (h->count == 0)
			continue;
		ins_begin(&x, w, CHAIN_MATCHES, d, id);
		ins_text(&x, rule, strlen(rule));
		ins_text(&x, agent, strlen(agent));
		ins_text(&x, b->host, strlen(b->host));
		ins_int(&x, (int64_t)h->ts_first);
		ins_int(&x, (int64_t)h->ts_last);
		ins_int(&x, (int64_t)h->count);
		ins_text(&x, h->sample, strlen(h->sample));
		r = ins_end(w, &x);
	}
	return r;
}

/* The block's index, when it has one (a block whose tokens were too many to index has none). */
static int insert_index(struct blocks_writer *w, const struct block_in *b, int64_t id, struct chain_digest *d)
{
	struct ins x;

	if (!b->index)
		return 0;
	ins_begin(&x, w, CHAIN_INDEX, d, id);
	ins_blob(&x, b->index, b->index_len);
	return ins_end(w, &x);
}

/* One row per log metric series the block adds to (metric, labels, step): a read merges them. */
static int insert_logmetrics(struct blocks_writer *w, const struct block_in *b, int64_t id, const char *agent,
			     struct chain_digest *d)
{
	struct ins x;
	int r = 0;

	for (size_t i = 0; r == 0 && i < b->n_logmetric_rows; i++) {
		const struct logmetric_row *m = &b->logmetric_rows[i];
		ins_begin(&x, w, CHAIN_LOGMETRICS, d, id);
		ins_text(&x, m->metric, strlen(m->metric));
		ins_text(&x, agent, strlen(agent));
		ins_text(&x, b->host, strlen(b->host));
		ins_text(&x, m->labels, strlen(m->labels));
		ins_int(&x, (int64_t)m->ts);
		ins_int(&x, (int64_t)m->ts_last);
		ins_int(&x, (int64_t)m->count);
		ins_real(&x, m->sum);
		ins_blob(&x, m->sketch, m->sketch_len);
		r = ins_end(w, &x);
	}
	return r;
}

/* The rows derived from block id, table by table, into each table's digest. */
static int insert_rows(struct blocks_writer *w, const struct block_in *b, int64_t id, const char *agent,
		       struct chain_digest *d)
{
	int r = insert_streams(w, b, id, &d[CHAIN_STREAMS]);

	r = r < 0 ? r : insert_probes(w, b, id, agent, &d[CHAIN_PROBES]);
	r = r < 0 ? r : insert_dialtests(w, b, id, &d[CHAIN_DIALTESTS]);
	r = r < 0 ? r : insert_metrics(w, b, id, agent, &d[CHAIN_METRICS]);
	r = r < 0 ? r : insert_matches(w, b, id, agent, &d[CHAIN_MATCHES]);
	r = r < 0 ? r : insert_index(w, b, id, &d[CHAIN_INDEX]);
	return r < 0 ? r : insert_logmetrics(w, b, id, agent, &d[CHAIN_LOGMETRICS]);
}

static int insert_derived(struct blocks_writer *w, const struct block_in *b, int64_t id, const char *agent,
			  uint8_t digests[_CHAIN_TABLES][SHA256_SIZE])
{
	struct chain_digest d[_CHAIN_TABLES];
	int r, k;

	for (int t = 0; t < _CHAIN_TABLES; t++)
		chain_begin(&d[t], chain_alg(w->scheme));
	r = w->derived ? insert_rows(w, b, id, agent, d) : 0;
	for (int t = 0; t < _CHAIN_TABLES; t++)
		if ((k = chain_end(&d[t], digests[t])) < 0 && r == 0)
			r = k;
	return r;
}

int blocks_insert(struct blocks_writer *w, struct block_in *b, const char *agent, int64_t id, uint32_t day,
		  const uint8_t prev[SHA256_SIZE], uint8_t hash[SHA256_SIZE])
{
	uint8_t digests[_CHAIN_TABLES][SHA256_SIZE];
	sqlite3_stmt *st = w->block;
	struct chain_digest d;
	struct ins x = { .st = st, .d = &d };
	int rc, r = insert_derived(w, b, id, agent, digests);

	if (r < 0)
		return r;
	chain_block_begin(&d, w->scheme, prev, day);
	ins_int(&x, id);
	ins_text(&x, agent, strlen(agent));
	ins_int(&x, (int64_t)b->seq);
	ins_text(&x, b->host, strlen(b->host));
	ins_int(&x, (int64_t)b->received_us);
	ins_int(&x, (int64_t)b->ts_min);
	ins_int(&x, (int64_t)b->ts_max);
	ins_int(&x, b->records);
	ins_int(&x, b->raw_len);
	ins_int(&x, w->scheme);
	chain_blob(&d, b->digest, SHA256_SIZE);
	for (int t = 0; t < _CHAIN_TABLES; t++)
		chain_blob(&d, digests[t], SHA256_SIZE);
	r = chain_end(&d, hash);
	if (r < 0)
		return r;
	sqlite3_bind_blob(st, BLOCK_COL_FRAME + 1, b->zframe, (int)b->zlen, SQLITE_STATIC);
	sqlite3_bind_blob(st, BLOCK_COL_PREV_HASH + 1, prev, SHA256_SIZE, SQLITE_STATIC);
	sqlite3_bind_blob(st, BLOCK_COL_HASH + 1, hash, SHA256_SIZE, SQLITE_STATIC);
	rc = sqlite3_step(st);
	(void)sqlite3_reset(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return -EEXIST;
	if (rc != SQLITE_DONE)
		return log_error_errno(db_errno(rc), "storage: block %s/%" PRIu64 ": %s", agent, b->seq,
				       sqlite3_errmsg(w->db));
	b->block_id = id;
	return 0;
}

int blocks_find(sqlite3 *shard, const char *agent, uint64_t seq, enum hash_alg alg, uint8_t ret_digest[HASH_SIZE],
		char *ret_host, size_t host_size)
{
	sqlite3_stmt *st;
	int r = db_prepare(shard, "SELECT host, frame FROM blocks WHERE agent=? AND seq=?", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
	r = -ENOENT;
	if (sqlite3_step(st) == SQLITE_ROW) {
		(void)snprintf(ret_host, host_size, "%s", (const char *)sqlite3_column_text(st, 0));
		r = hash_digest(alg, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), ret_digest);
	}
	sqlite3_finalize(st);
	return r;
}

/* A shard's: its statement selecting the frame of a block id. */
static const void *shard_frame(const struct block_row *b, size_t *ret_len)
{
	sqlite3_stmt *st = b->frames;
	const void *frame = NULL;

	(void)sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, b->id);
	*ret_len = 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		frame = sqlite3_column_blob(st, 0);
		*ret_len = (size_t)sqlite3_column_bytes(st, 0);
	}
	return frame;
}

/*
 * Steps st (columns: id, agent, seq, host, received, ts_min, ts_max,
 * records, raw_len, filter) and calls fn with each block, whose frame is
 * read on demand; finalizes st.
 */
static int each_block(sqlite3 *shard, sqlite3_stmt *st, int (*fn)(const struct block_row *b, void *ctx), void *ctx)
{
	sqlite3_stmt *frames;
	int r = db_prepare(shard, "SELECT frame FROM blocks WHERE id=?", &frames), rc = SQLITE_DONE;

	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct block_row b = { .id = sqlite3_column_int64(st, 0),
				       .agent = (const char *)sqlite3_column_text(st, 1),
				       .seq = (uint64_t)sqlite3_column_int64(st, 2),
				       .host = (const char *)sqlite3_column_text(st, 3),
				       .received = (uint64_t)sqlite3_column_int64(st, 4),
				       .ts_min = (uint64_t)sqlite3_column_int64(st, 5),
				       .ts_max = (uint64_t)sqlite3_column_int64(st, 6),
				       .records = (uint32_t)sqlite3_column_int64(st, 7),
				       .raw_len = (uint32_t)sqlite3_column_int64(st, 8),
				       .index = sqlite3_column_blob(st, 9),
				       .index_len = (size_t)sqlite3_column_bytes(st, 9),
				       .read_frame = shard_frame, .frames = frames };
		r = fn(&b, ctx);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_errno(rc);
	sqlite3_finalize(frames);
	sqlite3_finalize(st);
	return r;
}

#define BLOCK_ROW_COLUMNS "id, agent, seq, host, received, ts_min, ts_max, records, raw_len"
/* The filter of a block, in a shard that has the table (shards written before it have none). */
#define BLOCK_FILTER "(SELECT filter FROM block_index WHERE block=blocks.id)"

int blocks_each_after(sqlite3 *shard, int64_t synced, int (*fn)(const struct block_row *b, void *ctx), void *ctx)
{
	sqlite3_stmt *st;
	int r = db_prepare(shard, "SELECT " BLOCK_ROW_COLUMNS ", NULL FROM blocks WHERE id>? ORDER BY id", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, synced);
	return each_block(shard, st, fn, ctx);
}

int blocks_select(sqlite3 *shard, const struct block_select *q, int (*fn)(const struct block_row *b, void *ctx),
		  void *ctx)
{
	char sql[1024];
	sqlite3_stmt *st;
	int r;

	/* Fixed fragments only; every value is bound. */
	(void)snprintf(sql, sizeof(sql), "SELECT " BLOCK_ROW_COLUMNS ", %s FROM blocks WHERE id%s?1%s AND ts_max>=?3%s%s ORDER BY id%s",
		       blocks_derived_present(shard, CHAIN_INDEX) ? BLOCK_FILTER : "NULL", q->newest_first ? "<=" : ">=", q->host ? " AND (host=?2 OR agent=?2)" : "",
		       q->until ? " AND ts_min<=?4" : "",
		       q->source ? " AND id IN (SELECT block FROM streams WHERE value IN (?5, '" STORAGE_STREAM_ANY "'))" : "",
		       q->newest_first ? " DESC" : "");
	r = sqlite3_prepare_v2(shard, sql, -1, &st, NULL);
	if (r != SQLITE_OK)
		return log_error_errno(db_errno(r), "logs: %s", sqlite3_errmsg(shard));
	sqlite3_bind_int64(st, 1, q->from_id);
	if (q->host)
		sqlite3_bind_text(st, 2, q->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)q->since);
	if (q->until)
		sqlite3_bind_int64(st, 4, (sqlite3_int64)q->until);
	if (q->source)
		sqlite3_bind_text(st, 5, q->source, -1, SQLITE_STATIC);
	return each_block(shard, st, fn, ctx);
}

int blocks_extent(sqlite3 *shard, int64_t block, uint32_t rec, int64_t *ret_newest, bool *ret_rec_past)
{
	sqlite3_stmt *st;
	int r = db_prepare(shard, "SELECT coalesce(max(id), 0), (SELECT records FROM blocks WHERE id=?1) FROM blocks", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, block);
	*ret_newest = 0;
	*ret_rec_past = false;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*ret_newest = sqlite3_column_int64(st, 0);
		*ret_rec_past = sqlite3_column_type(st, 1) != SQLITE_NULL && rec >= sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return 0;
}

int blocks_records_after(sqlite3 *shard, int64_t block, uint32_t rec, uint64_t *ret)
{
	sqlite3_stmt *st;
	int r = db_prepare(shard, "SELECT (SELECT coalesce(sum(records), 0) FROM blocks WHERE id>?1),"
				  " (SELECT records FROM blocks WHERE id=?1)", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, block);
	*ret = 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		int64_t in_block = sqlite3_column_int64(st, 1);
		*ret = (uint64_t)sqlite3_column_int64(st, 0) + (in_block > (int64_t)rec + 1 ? (uint64_t)(in_block - rec - 1) : 0);
	}
	sqlite3_finalize(st);
	return 0;
}

/*
 * Prepares a query on a derived table. A shard from before the table
 * existed has none, which is no error to log: -ENOENT, quietly.
 */
static int prepare_quiet(sqlite3 *shard, const char *sql, sqlite3_stmt **ret)
{
	return sqlite3_prepare_v2(shard, sql, -1, ret, NULL) == SQLITE_OK ? 0 : -ENOENT;
}

static const char *text_of(sqlite3_stmt *st, int col)
{
	const char *v = (const char *)sqlite3_column_text(st, col);

	return v ? v : "";
}

int blocks_probe_history(sqlite3 *shard, const char *host, const char *name, uint64_t since, uint64_t until,
			 int (*fn)(const struct probe_result *p, void *ctx), void *ctx)
{
	sqlite3_stmt *st;
	int r = 0;

	if (db_prepare(shard, "SELECT ts, status, latency_us, message, type FROM probes"
		       " WHERE (host=?1 OR agent=?1) AND name=?2 AND ts>=?3 AND (?4=0 OR ts<=?4) ORDER BY ts", &st) < 0)
		return 0;
	sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)since);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)until);
	while (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
		struct probe_result p = { .ts = (uint64_t)sqlite3_column_int64(st, 0), .status = text_of(st, 1),
					  .status_len = (size_t)sqlite3_column_bytes(st, 1),
					  .latency_us = sqlite3_column_int64(st, 2), .message = text_of(st, 3),
					  .message_len = (size_t)sqlite3_column_bytes(st, 3), .type = text_of(st, 4),
					  .type_len = (size_t)sqlite3_column_bytes(st, 4) };
		r = fn(&p, ctx);
	}
	sqlite3_finalize(st);
	return r;
}

int blocks_metric_buckets(sqlite3 *shard, const char *name, const char *host, uint64_t since, uint64_t until,
			  uint64_t step, int (*fn)(const struct metric_bucket *m, void *ctx), void *ctx)
{
	sqlite3_stmt *st;
	int r = db_prepare(shard, "SELECT host, instance, (ts / ?5) * ?5, sum(value), min(value), max(value), count(*)"
				  " FROM metrics WHERE name=?1 AND (?2 IS NULL OR host=?2 OR agent=?2) AND ts>=?3 AND ts<=?4"
				  " GROUP BY host, instance, 3", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)since);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)until);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)step);
	while (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
		struct metric_bucket m = { .host = text_of(st, 0), .instance = text_of(st, 1),
					   .bucket = sqlite3_column_int64(st, 2), .sum = sqlite3_column_double(st, 3),
					   .min = sqlite3_column_double(st, 4), .max = sqlite3_column_double(st, 5),
					   .count = sqlite3_column_int64(st, 6) };
		r = fn(&m, ctx);
	}
	sqlite3_finalize(st);
	return r;
}

bool blocks_metric_known(sqlite3 *shard, const char *name, bool log)
{
	sqlite3_stmt *st;
	bool found;

	if (prepare_quiet(shard, log ? "SELECT 1 FROM logmetric_rows WHERE metric=? LIMIT 1" :
				       "SELECT 1 FROM metrics WHERE name=? LIMIT 1", &st) < 0)
		return false;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

/* Steps st (agent, host, instance, value, line) into fn; finalizes it. */
static int each_sample(sqlite3_stmt *st, int (*fn)(const struct metric_sample *s, void *ctx), void *ctx)
{
	int r = 0;

	while (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
		struct metric_sample s = { .agent = text_of(st, 0), .host = text_of(st, 1), .instance = text_of(st, 2),
					   .value = sqlite3_column_double(st, 3), .line = text_of(st, 4),
					   .ts = (uint64_t)sqlite3_column_int64(st, 5) };
		r = fn(&s, ctx);
	}
	sqlite3_finalize(st);
	return r;
}

int blocks_metric_latest(sqlite3 *shard, const char *name, uint64_t since_us, const char *host_glob,
			 const char *instance_glob, int (*fn)(const struct metric_sample *s, void *ctx), void *ctx)
{
	sqlite3_stmt *st;

	/* With max(), SQLite takes the bare columns from each group's latest row: one row per instance. */
	if (db_prepare(shard, "SELECT agent, host, instance, value, '', max(ts) FROM metrics WHERE name=?1 AND ts>=?2"
		       " AND host GLOB ?3 AND instance GLOB ?4 GROUP BY agent, instance ORDER BY 6", &st) < 0)
		return 0;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)since_us);
	sqlite3_bind_text(st, 3, host_glob, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, instance_glob, -1, SQLITE_STATIC);
	return each_sample(st, fn, ctx);
}

int blocks_log_matches(sqlite3 *shard, const char *rule, uint64_t since_us, const char *host_glob,
		       int (*fn)(const struct metric_sample *s, void *ctx), void *ctx)
{
	sqlite3_stmt *st;

	/* With max(), SQLite takes the bare sample from the row of the latest match. */
	if (prepare_quiet(shard, "SELECT agent, host, '', sum(count), sample, max(ts_last) FROM log_matches"
			  " WHERE rule=?1 AND ts_last>=?2 AND host GLOB ?3 GROUP BY agent", &st) < 0)
		return 0;
	sqlite3_bind_text(st, 1, rule, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)since_us);
	sqlite3_bind_text(st, 3, host_glob, -1, SQLITE_STATIC);
	return each_sample(st, fn, ctx);
}

int blocks_logmetric_rows(sqlite3 *shard, const char *metric, const char *host, uint64_t since, uint64_t until,
			  bool recent, int (*fn)(const struct logmetric_part *p, void *ctx), void *ctx)
{
	sqlite3_stmt *st;
	int r = 0;

	/* A shard made before scheme 4, opened read-only, has no table: no rows. */
#define LOGMETRIC_ROWS "SELECT agent, host, labels, ts, count, sketch FROM logmetric_rows" \
	" WHERE metric=?1 AND (?2 IS NULL OR host=?2 OR agent=?2) AND ts<=?4 AND "
	if (prepare_quiet(shard, recent ? LOGMETRIC_ROWS "ts_last>=?3" : LOGMETRIC_ROWS "ts>=?3", &st) < 0)
		return 0;
#undef LOGMETRIC_ROWS
	sqlite3_bind_text(st, 1, metric, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)since);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)until);
	while (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
		struct logmetric_part p = { .agent = text_of(st, 0), .host = text_of(st, 1), .labels = text_of(st, 2),
					    .ts = (uint64_t)sqlite3_column_int64(st, 3),
					    .count = (uint64_t)sqlite3_column_int64(st, 4),
					    .sketch = sqlite3_column_blob(st, 5),
					    .sketch_len = (size_t)sqlite3_column_bytes(st, 5) };
		r = fn(&p, ctx);
	}
	sqlite3_finalize(st);
	return r;
}

int blocks_dialtest_results(sqlite3 *shard, int64_t id, uint64_t since, uint64_t until, size_t limit,
			    int (*fn)(const struct dialtest_run_row *run, void *ctx), void *ctx)
{
	const sqlite3_int64 v[] = { id, (sqlite3_int64)since, (sqlite3_int64)until, (sqlite3_int64)limit };
	sqlite3_stmt *st;
	int r = 0;

	if (prepare_quiet(shard, "SELECT d.result, d.ts, b.agent, b.host FROM dialtest_results d JOIN blocks b"
			  " ON b.id = d.block WHERE d.test=? AND d.ts>=? AND d.ts<=? ORDER BY d.ts DESC LIMIT ?", &st) < 0)
		return 0;
	for (int i = 0; i < (int)ARRAY_SIZE(v); i++)
		sqlite3_bind_int64(st, i + 1, v[i]);
	while (r == 0 && sqlite3_step(st) == SQLITE_ROW)
		r = fn(&(struct dialtest_run_row){ text_of(st, 0), (uint64_t)sqlite3_column_int64(st, 1), text_of(st, 2),
						   text_of(st, 3) }, ctx);
	sqlite3_finalize(st);
	return r;
}

int blocks_walk_open(sqlite3 *shard, sqlite3_stmt **ret)
{
	return db_prepare(shard, blocks_chained(shard) ?
					 "SELECT " BLOCK_COLUMNS " FROM blocks ORDER BY id" :
					 "SELECT id, agent, seq, host, received, ts_min, ts_max, records, raw_len, 1, frame,"
					 " prev_hash, hash FROM blocks ORDER BY id",
			  ret);
}

int blocks_derived_open(sqlite3 *shard, enum chain_table t, sqlite3_stmt **ret)
{
	const struct derived *d = &derived[t];
	char sql[512];

	(void)snprintf(sql, sizeof(sql), "SELECT block, %s FROM %s ORDER BY %s", d->columns, d->table, d->order);
	return db_prepare(shard, sql, ret);
}

int blocks_derived_columns(enum chain_table t)
{
	return derived[t].n;
}

const char *blocks_derived_name(enum chain_table t)
{
	return derived[t].table;
}
