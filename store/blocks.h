/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_BLOCKS_H
#define VIGIL_BLOCKS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/frame.h"
#include "common/hash.h"
#include "store/chain.h"
#include "store/verify.h"

/*
 * A day shard's tables (one SQLite file per day of ingest): `blocks`, each
 * batch's zstd frame as it arrived with its host, time range and place in
 * the hash chain, and the rows derived from each block, each naming it:
 * `streams` (the index of what a block holds), `probes`, `metrics`,
 * `log_matches`, `dialtest_results` and `block_index` (the Bloom filter of
 * its tokens). This file alone holds SQL that
 * names them: it creates them, writes a block with its rows and chain
 * hash, and answers every query on them.
 */

#define STORAGE_STREAMS_MAX 64
/* Stream value stored when a block names more streams than are indexed. */
#define STORAGE_STREAM_ANY "*"

enum block_result {
	BLOCK_PENDING,
	BLOCK_STORED,
	BLOCK_DUPLICATE,
	BLOCK_FAILED, /* not stored: the agent is told to retry */
	BLOCK_CONFLICT, /* not stored: (agent, seq) holds another frame; recorded in agent_conflicts */
	BLOCK_REFUSED,  /* not stored: the agent id is bound to another TLS certificate */
};

/* A verified batch; every pointer is borrowed for the storage_store() call. */
struct block_in {
	uint8_t agent[AGENT_ID_SIZE];
	uint64_t seq;
	const char *host; /* NULL: the name the agent's earlier batches gave (storage_store() finds it) */
	char host_known[256]; /* storage_store()'s: where that name is, from one step of the store to the other */
	const char *certificate; /* the name of the verified TLS certificate it came with; NULL without TLS */
	uint64_t received_us;
	bool local; /* from the collector itself (its dial tests), not an agent: not listed as a host */
	uint64_t ts_min, ts_max;
	uint32_t records;
	uint32_t raw_len;
	const void *zframe; /* the zstd frame, without the request header */
	size_t zlen;
	uint8_t digest[32]; /* zframe's digest by the store's hash= (the migration's: SHA-256), computed before the writer */
	const char *streams[STORAGE_STREAMS_MAX];
	size_t n_streams;
	const struct probe_row *probes; /* probe results in the block, stored as rows too */
	size_t n_probes;
	const struct metric_row *metrics; /* metric values in the block, stored as rows too */
	size_t n_metrics;
	const char *inventory, *labels; /* JSON for the host's row, or NULL */
	const struct logmatch *logmatch; /* the log rules the block was matched with, or NULL */
	const struct logmatch_hit *hits; /* their matches, one per rule */
	const struct logmetric_row *logmetric_rows; /* the log metrics' series it adds to */
	size_t n_logmetric_rows;
	const uint8_t *index; /* its tokens' filter (search/tokens.h), or NULL: not indexed */
	size_t index_len;
	enum block_result result; /* set by storage_store() */
	bool noteworthy; /* set by storage_store(): a probe result not ok, or a changed status, was stored */
	char conflict_host[256];  /* BLOCK_CONFLICT: the host of the batch stored as (agent, seq) */
	char bound_certificate[256]; /* the certificate the agent id is bound to, "" none (storage_store()'s); BLOCK_REFUSED: why */
	int64_t block_id;         /* set when stored */
};

/*
 * b's streams from what verifying its batch found (info outlives b), and
 * STORAGE_STREAM_ANY when it held more than are indexed: a search by any
 * source reads it then.
 */
static inline void block_streams_from(struct block_in *b, const struct batch_info *info)
{
	_Static_assert(VERIFY_STREAMS_MAX <= STORAGE_STREAMS_MAX, "a batch's streams fit a block's");
	b->n_streams = info->n_streams;
	for (size_t i = 0; i < info->n_streams; i++)
		b->streams[i] = info->streams[i];
	if (info->streams_overflow && b->n_streams < STORAGE_STREAMS_MAX)
		b->streams[b->n_streams++] = STORAGE_STREAM_ANY;
}

/* Creates the tables of a shard (and adds what older shards lack). */
int blocks_schema(sqlite3 *shard);


/*
 * The writer's statements on the open shard; each call runs in the
 * caller's transaction. Owned by the caller: blocks_writer_free().
 */
struct blocks_writer;
/*
 * Blocks are written with scheme (chain.h): CHAIN_SCHEME or CHAIN_SCHEME_SM3;
 * without rows, only the blocks and their chain (a collector whose
 * readers read the rows from the shared store: they are there), each
 * block hashed as one that derived no rows.
 */
int blocks_writer_open(sqlite3 *shard, int64_t scheme, bool rows, struct blocks_writer **ret);
void blocks_writer_free(struct blocks_writer *w);
/* A shard's newest block: where its chain stands, and what the writer numbers the next block after. */
struct block_head {
	int64_t id, scheme;
	uint8_t hash[HASH_SIZE];
	int64_t blocks; /* how many the shard holds */
};
/* The newest block into *ret: 1, 0 if the shard holds none, or a negative errno. */
int blocks_head(sqlite3 *shard, struct block_head *ret);
/* The stored hash of block id: 0, -ENOENT if the shard holds no such block. */
int blocks_hash_of(sqlite3 *shard, int64_t id, uint8_t ret_hash[HASH_SIZE]);
/*
 * Inserts b (of agent, in the shard of day) as block id, after the rows
 * derived from it, with its hash over prev and all of them (chain.h) into
 * hash. -EEXIST if its (agent, seq) is in the shard already.
 */
int blocks_insert(struct blocks_writer *w, struct block_in *b, const char *agent, int64_t id, uint32_t day,
		  const uint8_t prev[SHA256_SIZE], uint8_t hash[SHA256_SIZE]);

/* The host and the frame's digest (by alg) of the block stored as (agent, seq); -ENOENT if there is none. */
int blocks_find(sqlite3 *shard, const char *agent, uint64_t seq, enum hash_alg alg, uint8_t ret_digest[HASH_SIZE],
		char *ret_host, size_t host_size);

/* A stored block as the queries see it; pointers live until the callback returns. */
struct block_row {
	int64_t id;
	const char *agent, *host;
	uint64_t seq, received, ts_min, ts_max;
	uint32_t records, raw_len;
	const uint8_t *index; /* its filter; NULL: the block is not indexed (or blocks_each_after() does not say) */
	size_t index_len;
	/* On PostgreSQL: the transaction that wrote it (the cursor's first half), its day's partition. 0 in a shard. */
	uint64_t xid;
	uint32_t day;
	/* How blocks_row_frame() reads the frame, with what: the walk's, a shard's statement or a connection. */
	const void *(*read_frame)(const struct block_row *b, size_t *ret_len);
	void *frames;
};
/*
 * The block's zstd frame, read only when asked (a block its index rules out
 * is never read from disk); valid until the next call for a block of the
 * same walk. NULL (*ret_len 0) when it cannot be read.
 */
static inline const void *blocks_row_frame(const struct block_row *b, size_t *ret_len)
{
	return b->read_frame(b, ret_len);
}
/* fn for every block after id synced, by id (what a crash left meta without). */
int blocks_each_after(sqlite3 *shard, int64_t synced, int (*fn)(const struct block_row *b, void *ctx), void *ctx);

/* Which blocks blocks_select() gives: of host (name or agent id), holding source, in a time range. */
struct block_select {
	int64_t from_id;    /* this id and after (newest first: before) */
	bool newest_first;
	const char *host;   /* NULL: any */
	const char *source; /* a stream value; NULL: any */
	uint64_t since, until; /* until 0: open */
};
/* fn for each block q selects, in id order; stops at fn's first non-zero answer and returns it. */
int blocks_select(sqlite3 *shard, const struct block_select *q, int (*fn)(const struct block_row *b, void *ctx),
		  void *ctx);
/* The newest block id of the shard, and whether block, if stored, has no record rec: a cursor's check. */
int blocks_extent(sqlite3 *shard, int64_t block, uint32_t rec, int64_t *ret_newest, bool *ret_rec_past);
/* The records of the shard after record rec of block (those of later blocks, and the rest of block's). */
int blocks_records_after(sqlite3 *shard, int64_t block, uint32_t rec, uint64_t *ret);

/* The rows derived from blocks, as queries read them; text may hold any byte. */
struct probe_result {
	uint64_t ts;
	int64_t latency_us;
	const char *status, *message, *type;
	size_t status_len, message_len, type_len;
};
/* fn for host's (name or agent id) results of probe name from since to until (0: open), oldest first. */
int blocks_probe_history(sqlite3 *shard, const char *host, const char *name, uint64_t since, uint64_t until,
			 int (*fn)(const struct probe_result *p, void *ctx), void *ctx);

/* One step-long bucket of one series of a metric, within one shard. */
struct metric_bucket {
	const char *host, *instance;
	int64_t bucket;
	double sum, min, max;
	int64_t count;
};
/* fn for each bucket of metric name (of host, NULL: any) from since to until, step microseconds long. */
int blocks_metric_buckets(sqlite3 *shard, const char *name, const char *host, uint64_t since, uint64_t until,
			  uint64_t step, int (*fn)(const struct metric_bucket *m, void *ctx), void *ctx);
/* Whether the shard holds a point of metric name (log: of the log metric name, as [logmetric] names it). */
bool blocks_metric_known(sqlite3 *shard, const char *name, bool log);

/* A log metric's row: one block's part of a series' step (search/logmetric.h). */
struct logmetric_part {
	const char *agent, *host, *labels;
	uint64_t ts, count;
	const uint8_t *sketch; /* NULL: a count only */
	size_t sketch_len;
};
/*
 * fn for each row of log metric metric (of host or agent host, NULL: any)
 * whose step starts from since to until; recent: whose step starts by until
 * and saw a record since since (a rule's window).
 */
int blocks_logmetric_rows(sqlite3 *shard, const char *metric, const char *host, uint64_t since, uint64_t until,
			  bool recent, int (*fn)(const struct logmetric_part *p, void *ctx), void *ctx);

/*
 * The latest sample of a metric per (agent, instance) since since_us, of
 * hosts and instances matching the globs; or per agent, the matches of log
 * rule since since_us and the last line matched (value: the count).
 */
struct metric_sample {
	const char *agent, *host, *instance;
	double value;
	const char *line; /* a log rule's last line matched; "" for a metric */
	uint64_t ts;      /* of the value (of the last match) */
};
int blocks_metric_latest(sqlite3 *shard, const char *name, uint64_t since_us, const char *host_glob,
			 const char *instance_glob, int (*fn)(const struct metric_sample *s, void *ctx), void *ctx);
int blocks_log_matches(sqlite3 *shard, const char *rule, uint64_t since_us, const char *host_glob,
		       int (*fn)(const struct metric_sample *s, void *ctx), void *ctx);

/* A dial test's run as stored: its strings valid during the callback. */
struct dialtest_run_row {
	const char *result; /* JSON */
	uint64_t ts;
	const char *agent, *host; /* whose batch it came in: the collector's own, or an agent's (a vantage point) */
};
/* fn for dial test id's results from until back to since, newest first, at most limit. */
int blocks_dialtest_results(sqlite3 *shard, int64_t id, uint64_t since, uint64_t until, size_t limit,
			    int (*fn)(const struct dialtest_run_row *run, void *ctx), void *ctx);

/*
 * What the chain's verifier walks (store/integrity.c), in the order the
 * writer hashed it. A block statement's columns are BLOCK_COL_*; a derived
 * table's are the block, then the table's own blocks_derived_columns(t).
 */
enum {
	BLOCK_COL_ID,
	BLOCK_COL_AGENT,
	BLOCK_COL_SEQ,
	BLOCK_COL_HOST,
	BLOCK_COL_RECEIVED,
	BLOCK_COL_TS_MIN,
	BLOCK_COL_TS_MAX,
	BLOCK_COL_RECORDS,
	BLOCK_COL_RAW_LEN,
	BLOCK_COL_CHAIN, /* the scheme it was hashed with */
	BLOCK_COL_FRAME,
	BLOCK_COL_PREV_HASH,
	BLOCK_COL_HASH,
};
/* The columns before BLOCK_COL_FRAME, which the hash covers as they are. */
#define BLOCK_COLS_HASHED BLOCK_COL_FRAME
/* Whether the shard's blocks know their scheme (scheme 1 shards predate it). */
bool blocks_chained(sqlite3 *shard);
/* Whether the shard has derived table t (shards written before scheme 3 may lack block_index, before 4 logmetric_rows). */
bool blocks_derived_present(sqlite3 *shard, enum chain_table t);
/* Every block, by id. */
int blocks_walk_open(sqlite3 *shard, sqlite3_stmt **ret);
/* Every row of derived table t, in the order it was stored. */
int blocks_derived_open(sqlite3 *shard, enum chain_table t, sqlite3_stmt **ret);
int blocks_derived_columns(enum chain_table t);
const char *blocks_derived_name(enum chain_table t);

#endif
