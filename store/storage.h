/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_STORAGE_H
#define VIGIL_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/db.h"
#include "common/frame.h"
#include "store/verify.h"

/*
 * The collector's store (docs/storage.md): DATA_DIR/meta.db (hosts, the
 * (agent, seq) dedup rows with each frame's digest, agent id conflicts, the
 * shard catalogue, tokens) and one
 * DATA_DIR/shards/YYYYMMDD.db per day of ingest holding log blocks: each
 * batch's zstd frame as it arrived, indexed by host, time range and streams,
 * with the probe results, metrics, log matches and dial test results derived
 * from it, chained by SHA-256 over every column of the block and every row
 * derived from it (chain.h). Retention removes whole shard files.
 *
 * The writer side (storage_open/storage_store) belongs to one thread.
 * Readers (storage_reader_*) open their own connections, any thread.
 */
struct storage;

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
	const char *host; /* NULL: the name the agent's earlier batches gave */
	const char *certificate; /* the name of the verified TLS certificate it came with; NULL without TLS */
	uint64_t received_us;
	bool local; /* from the collector itself (its dial tests), not an agent: not listed as a host */
	uint64_t ts_min, ts_max;
	uint32_t records;
	uint32_t raw_len;
	const void *zframe; /* the zstd frame, without the request header */
	size_t zlen;
	uint8_t digest[32]; /* SHA-256 of zframe, computed before the writer */
	const char *streams[STORAGE_STREAMS_MAX];
	size_t n_streams;
	const struct probe_row *probes; /* probe results in the block, stored as rows too */
	size_t n_probes;
	const struct metric_row *metrics; /* metric values in the block, stored as rows too */
	size_t n_metrics;
	const char *inventory, *labels; /* JSON for the host's row, or NULL */
	const struct logmatch *logmatch; /* the log rules the block was matched with, or NULL */
	const struct logmatch_hit *hits; /* their matches, one per rule */
	enum block_result result; /* set by storage_store() */
	bool noteworthy; /* set by storage_store(): a probe result not ok, or a changed status, was stored */
	char conflict_host[256];  /* BLOCK_CONFLICT: the host of the batch stored as (agent, seq) */
	char bound_certificate[256]; /* BLOCK_REFUSED: the certificate the agent id is bound to */
	int64_t block_id;         /* set when stored */
};

int storage_open(const char *data_dir, enum db_sync sync, struct storage **ret);
void storage_free(struct storage *s);

/*
 * Stores blocks in one transaction per database (group commit): a block
 * whose (agent, seq) was stored before with the same frame is marked
 * BLOCK_DUPLICATE and not stored again; with another frame, BLOCK_CONFLICT
 * (two agents with one id), recorded and not stored; under TLS, a block
 * whose agent id is bound to another certificate is BLOCK_REFUSED and
 * leaves no trace (the first certificate an id is stored with binds it).
 * Returns once durable;
 * on failure every pending block is BLOCK_FAILED and a negative errno is
 * returned.
 */
int storage_store(struct storage *s, struct block_in **blocks, size_t n);

/* Batches refused because two hosts use one agent id, per agent. */
struct agent_conflict {
	const char *agent;
	const char *hosts; /* every host named, "web-1, web-2" */
	uint64_t seq;      /* the last sequence number refused */
	uint64_t first_seen, last_seen; /* microseconds */
	uint64_t count;    /* batches refused */
};
/*
 * Calls fn for the conflicts of agent (NULL: every agent) seen since
 * since_us, on meta (any connection to meta.db); stops at fn's first
 * non-zero answer and returns it.
 */
int storage_conflicts_each(sqlite3 *meta, const char *agent, uint64_t since_us,
			   int (*fn)(const struct agent_conflict *c, void *ctx), void *ctx);

/* Deletes shard files older than days before now, and their dedup rows. */
int storage_retention(struct storage *s, uint64_t now_us, uint64_t days);

/*
 * Another read-write connection to DATA_DIR/meta.db (which storage_open()
 * made): for the parts that keep their own tables there (alerts,
 * notifications, definitions, dial tests). fsync at each commit when sync.
 */
int storage_meta_connect(const char *data_dir, bool sync, sqlite3 **ret);

/* Tokens (hashed with SHA-256; the clear token is shown once). */
/* -EEXIST if name is taken. Opens the meta database itself: safe while the collector runs. */
int storage_token_create(const char *data_dir, const char *name, const char *role, char **ret_token);
/* Revokes the token called name at once; -ENOENT if there is none. Safe while the collector runs. */
int storage_token_delete(const char *data_dir, const char *name);

/* Reader side: one per request/thread; shard connections are opened on demand. */
struct storage_reader;

int storage_reader_open(const char *data_dir, struct storage_reader **ret);
void storage_reader_free(struct storage_reader *r);
sqlite3 *storage_reader_meta(struct storage_reader *r);
/* The shard of day, or NULL (logged) if it cannot be opened. Owned by the reader. */
sqlite3 *storage_reader_shard(struct storage_reader *r, uint32_t day);
/*
 * Calls fn(db, ctx) for each shard that may hold records from since to
 * until (0: no end), oldest first or newest first; db is NULL for a shard
 * that cannot be opened (logged). Stops at the first fn that returns
 * non-zero (an error, or a positive "enough") and returns that; 0 when
 * every shard was seen.
 */
int storage_reader_each_shard(struct storage_reader *r, uint64_t since, uint64_t until, bool newest_first,
			      int (*fn)(sqlite3 *db, void *ctx), void *ctx);
/* Looks up a bearer token: 0 with name and role copied out, -EACCES if unknown. */
int storage_reader_token(struct storage_reader *r, const char *token, char *ret_name,
			 size_t name_sz, char *ret_role, size_t role_sz);

/*
 * Walks every block in ingest order and checks the hash chain: each block's
 * prev_hash is the hash before it, and its hash is recomputed from its row
 * and the rows derived from it (chain.h), which must each name a block in
 * its place; each shard holds as many blocks as the catalogue counted. The
 * chain starts at the oldest block kept (retention removes whole shards).
 * Each problem found calls problem (up to max_problems); returns the number
 * of problems, or a negative errno if the store cannot be read.
 */
int storage_verify(struct storage_reader *r, uint64_t *ret_blocks, size_t max_problems,
		   void (*problem)(uint32_t day, int64_t block, const char *what, void *userdata),
		   void *userdata);

#endif
