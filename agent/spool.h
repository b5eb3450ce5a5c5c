/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_SPOOL_H
#define VIGIL_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/db.h"
#include "common/frame.h"

/*
 * The agent's durable queue: an SQLite file (state_dir/spool.db) holding
 * numbered, immutable, compressed batches, the sources' checkpoints, and the
 * agent's drop counters. A batch and the checkpoints that cover its records
 * are written in one transaction (spool_append), which is what makes delivery
 * effectively-once. A batch leaves only when acknowledged (spool_ack) or
 * refused (spool_quarantine). This file alone holds SQL that names its
 * tables: `meta` (the agent id, the next sequence number), `batches`,
 * `quarantine`, `files` and `cursors` (the checkpoints) and `counters`.
 */
struct spool;

#define SPOOL_FP_MAX 1024

/*
 * Where a source stands: in one file (dev, ino, offset, fingerprint), or, for
 * the journal, at a cursor. Pointers are borrowed for the call.
 */
struct spool_checkpoint {
	const char *source;
	const char *cursor; /* set: a journal cursor, and only source and cursor count */
	uint64_t dev, ino, offset;
	uint8_t fp[32]; /* SHA-256 of the file's first fp_len bytes */
	uint32_t fp_len;
	const char *path;
	bool forget; /* the file was read to its end and let go: delete the row */
};

/* A spooled batch; frame is owned by the caller of spool_next_batch(). */
struct spool_batch {
	uint64_t seq;
	uint32_t records;
	uint8_t *frame;
	size_t len;
};

/* Drop and event counters kept across restarts (agent_counter_name()). */
enum spool_counter {
	SPOOL_CTR_LINES_TRUNCATED,
	SPOOL_CTR_BATCHES_QUARANTINED,
	SPOOL_CTR_RECORDS_QUARANTINED,
	SPOOL_CTR_BATCHES_SPOOLED,
	SPOOL_CTR_RECORDS_SPOOLED,
	SPOOL_CTR_BATCHES_ACKED,
	SPOOL_CTR_BATCHES_DUPLICATE,
	SPOOL_CTR_FILES_TRUNCATED,
	SPOOL_CTR_FILES_VANISHED,
	SPOOL_CTR_JOURNAL_GAPS,
	SPOOL_CTR_JOURNAL_ENTRIES_SKIPPED,
	SPOOL_CTR_RECORDS_DROPPED,
	SPOOL_CTR_BATCHES_CONFLICT,
	SPOOL_CTR_BATCHES_REFUSED,
	SPOOL_CTR_LINES_UNPARSED,
	SPOOL_CTR_LINES_UNFRAMED,
	SPOOL_CTR_SYSLOG_RECEIVED,  /* messages devices sent to [syslog] */
	SPOOL_CTR_SYSLOG_UNPARSED,  /* of them, kept whole: no <PRI> or a broken header */
	SPOOL_CTR_SYSLOG_TRUNCATED, /* of them, cut at max_message */
	SPOOL_CTR_SYSLOG_RELAYED,   /* records of devices spooled */
	SPOOL_CTR_SYSLOG_DROPPED,   /* records of devices dropped: the spool could not take them in time */
	_SPOOL_CTR_MAX,
};
const char *spool_counter_name(enum spool_counter c);

int spool_open(const char *state_dir, enum db_sync sync, uint64_t max_bytes, struct spool **ret);
/*
 * The spool, for a look from outside the agent (--status), only if the
 * agent made it: -ENOENT before. A look that made it would race the agent's
 * first start for the file (the switch to WAL wants it alone). An older
 * spool is brought up to date, as the agent would at its start.
 */
int spool_open_existing(const char *state_dir, struct spool **ret);
void spool_free(struct spool *s);

/*
 * The agent's id, kept in the spool so that it is unique per installation
 * (clones of one VM image share /etc/machine-id, not a spool made after
 * cloning). A spool without one takes legacy (the id agents derived from
 * the machine id before) if it already holds state, so an upgraded agent
 * keeps its id; a new spool takes a random one. legacy may be NULL.
 */
int spool_identity(struct spool *s, const uint8_t *legacy, uint8_t ret[AGENT_ID_SIZE]);
/*
 * Gives the spool a new random id, in one transaction with every pending
 * batch re-addressed to it, so that batches another agent's id conflict
 * kept are delivered under the new one. ret_old: the id it replaces.
 */
int spool_new_identity(struct spool *s, uint8_t ret_old[AGENT_ID_SIZE], uint8_t ret[AGENT_ID_SIZE]);

/* The sequence number the next spool_append() must use. */
uint64_t spool_next_seq(const struct spool *s);
uint64_t spool_bytes(const struct spool *s);
uint64_t spool_pending(const struct spool *s);
bool spool_full(const struct spool *s);
uint64_t spool_counter(const struct spool *s, enum spool_counter c);
/* Bumped in memory; persisted with the next transaction. */
void spool_count(struct spool *s, enum spool_counter c, uint64_t n);
/* Counted since the last transaction: spool_checkpoints_write(s, NULL, 0) persists. */
bool spool_counters_dirty(const struct spool *s);

/*
 * In one transaction: stores the batch as seq (== spool_next_seq()),
 * writes every checkpoint, and persists the counters. On failure nothing
 * changed and the caller still owns its state.
 */
int spool_append(struct spool *s, uint64_t seq, uint64_t created_us, uint32_t records,
		 const void *frame, size_t len, const struct spool_checkpoint *cps, size_t n_cps);

/* Writes checkpoints (and counters) with no batch, e.g. a file let go. */
int spool_checkpoints_write(struct spool *s, const struct spool_checkpoint *cps, size_t n_cps);
/* Loads the checkpoint of (source, dev, ino). -ENOENT if there is none. */
int spool_checkpoint_get(struct spool *s, const char *source, uint64_t dev, uint64_t ino,
			 struct spool_checkpoint *ret);
/* Calls cb for every checkpoint of source; path is valid during the call only. */
int spool_checkpoint_foreach(struct spool *s, const char *source,
			     void (*cb)(const struct spool_checkpoint *cp, void *userdata),
			     void *userdata);
int spool_checkpoint_forget(struct spool *s, const char *source, uint64_t dev, uint64_t ino);
/* The journal cursor stored for source (a new string for the caller), or -ENOENT. */
int spool_cursor_get(struct spool *s, const char *source, char **ret);

/* The first batch with seq > after; -ENOENT if none. */
int spool_next_batch(struct spool *s, uint64_t after, struct spool_batch *ret);
/* Its seq alone, its frame not read; -ENOENT if none. */
int spool_next_pending(struct spool *s, uint64_t after, uint64_t *ret_seq);
int spool_ack(struct spool *s, uint64_t seq);
int spool_quarantine(struct spool *s, uint64_t seq, const char *reason);

#endif
