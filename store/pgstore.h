/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_PGSTORE_H
#define VIGIL_PGSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/blocks.h"
#include "store/chain.h"
#include "store/forwardstate.h"
#include "store/hosts.h"
#include "store/lockouts.h"

/*
 * The store several collectors share, on PostgreSQL ([storage]
 * backend=postgresql; docs/scale.md). It holds the blocks: every batch any
 * of the collectors accepted, once (its (agent, seq) unique across them),
 * which the log API searches and a puller follows by a cursor that never
 * skips; and the fleet's state they add to (hosts, probes' latest
 * results, id conflicts: pghosts.h). The rest of a collector's tables are
 * still its own SQLite store's (issue 16 moves them). Built without libpq,
 * every call is -EOPNOTSUPP.
 *
 * A pgstore is one connection: the writer's (one thread) or a reader's
 * (one request); it reconnects after the server went away.
 */
struct storage_conf;
struct pgstore;

/* Whether this program was built with PostgreSQL (configure found libpq). */
bool pgstore_built(void);
/* Whether the dialect name is one this build knows ("postgresql"). */
bool pgstore_dialect_known(const char *name);

/* Connects to the database c names; writer: makes the tables if they are not there. Freed by pgstore_free(). */
int pgstore_open(const struct storage_conf *c, bool writer, struct pgstore **ret);
void pgstore_free(struct pgstore *p);

/*
 * The blocks of one group commit that the collector's own store took
 * (BLOCK_STORED) or had already (BLOCK_DUPLICATE: stored before a crash
 * or a failed commit here), with what they add to the fleet's state, in
 * one transaction, in day's partition: a
 * block another collector stored stays as it was; one whose (agent, seq)
 * holds another frame becomes BLOCK_CONFLICT. On failure those blocks are
 * BLOCK_FAILED (the agent sends them again) and a negative errno returned.
 */
int pgstore_store(struct pgstore *p, uint32_t day, struct block_in **blocks, size_t n);

/* Each block's bound_certificate as the shared hosts say (pghosts.h), before the group is stored anywhere. */
int pgstore_bound_certificates(struct pgstore *p, struct block_in **blocks, size_t n);

/*
 * The n blocks (BLOCK_STORED on entry) in one transaction in day's
 * partition, each one's shared result into its result: BLOCK_STORED,
 * BLOCK_DUPLICATE (there already, the same frame) or BLOCK_CONFLICT
 * (another frame), with the rows the database derives from those stored
 * now (their history: pgderived.h). The migration's (migrate.h); blocks is
 * reordered.
 */
int pgstore_copy(struct pgstore *p, uint32_t day, struct block_in **blocks, size_t n);
/* A collector's own block, as the database should hold a copy of it: pgstore_check_copies() says whether it does (--verify's). */
enum pgstore_copy_state {
	PGSTORE_SAME,    /* its (agent, seq) holds a frame whose SHA-256 is digest */
	PGSTORE_ALTERED, /* another frame */
	PGSTORE_MISSING, /* none */
};
struct pgstore_copy {
	uint8_t agent[AGENT_ID_SIZE];
	uint64_t seq;
	uint8_t digest[32];
	enum pgstore_copy_state state; /* set by pgstore_check_copies() */
};
int pgstore_check_copies(struct pgstore *p, struct pgstore_copy *v, size_t n);
/*
 * --verify of the database's blocks by their chains, whichever collector
 * wrote them (pgblocks.h): each chain of the catalogue walked from its
 * oldest block kept to its head (each block's frame and columns against
 * its hash, each hash against the next one's prev_hash), then the blocks
 * in no chain or past their chain's head. Each problem counted and told
 * (the first max_problems) to problem() with the block's day and id (0, 0
 * for a chain's own); what was found into the counts.
 */
struct pgstore_chains_check {
	size_t max_problems;
	void (*problem)(uint32_t day, int64_t id, const char *what, void *userdata);
	void *userdata;
	uint64_t chains, blocks, unchained, problems;
	size_t told;
};
int pgstore_verify_chains(struct pgstore *p, struct pgstore_chains_check *v);
/*
 * Whether this store's digest of frames (storage.h) is the database's:
 * 0, or -EXDEV (logged, naming both) when the collectors there use
 * another, and every batch an agent sends again would read as a conflict.
 */
int pgstore_digest_agree(struct pgstore *p, enum hash_alg alg);
/* The writer's chain as its last group committed it: name ("" before its first block), place and hash. */
void pgstore_chain_head(const struct pgstore *p, char name[CHAIN_SHARED_NAME], int64_t *ret_pos, uint8_t ret_hash[HASH_SIZE]);
/* The hash of block pos of chain in the database: 0, -ENOENT if it is not there. */
int pgstore_chain_hash_of(struct pgstore *p, const char *chain, int64_t pos, uint8_t ret_hash[HASH_SIZE]);
/* What pgstore_copy_fleet() did. */
struct pgstore_fleet_copy {
	uint64_t hosts, hosts_copied, hosts_present;
	uint64_t probes, probes_copied, probes_present;
	uint64_t verified; /* hosts and probes found there afterwards */
};
/*
 * meta.db's hosts and probes' latest results into the shared store (the
 * migration's), in one transaction, each unless its key is there already;
 * then each one looked for there. Id conflicts are not copied: they are
 * shown for a day after the batch refused, and the next one is recorded.
 */
int pgstore_copy_fleet(struct pgstore *p, sqlite3 *meta, struct pgstore_fleet_copy *ret);

/* 1 when b's (agent, seq) is stored with a frame of b's SHA-256 (b->digest), 0 when not, or -errno. */
int pgstore_has(struct pgstore *p, const struct block_in *b);

/* Drops the days before cutoff; how many went into *ret_days. */
int pgstore_retention(struct pgstore *p, uint32_t cutoff, unsigned *ret_days);

/* What pgstore_select() gives: from a place (block xid/id; zero: the start, or newest first the end) on. */
struct pgstore_select {
	uint64_t xid;
	int64_t id;
	bool newest_first;
	const char *host;   /* a name or an agent id; NULL: any */
	const char *source; /* the blocks that hold this stream (or any: STORAGE_STREAM_ANY); NULL: every block */
	uint64_t since, until;
};
/*
 * fn for each block q selects, the block at q's place included, in
 * cursor order (in ingest order, only blocks of finished transactions:
 * none can appear before one given later), frames read on demand; stops
 * at fn's first non-zero answer and returns it; 0 after the last block.
 */
int pgstore_select(struct pgstore *p, const struct pgstore_select *q, int (*fn)(const struct block_row *b, void *ctx),
		   void *ctx);

/* The fleet's state every collector adds to, as hosts.h's readers give meta.db's. */
int pgstore_hosts_each(struct pgstore *p, const struct host_filter *f, int (*fn)(const struct host_row *h, void *ctx),
		       void *ctx);
int pgstore_probes_each(struct pgstore *p, const struct probe_state_filter *f,
			int (*fn)(const struct probe_state_row *s, void *ctx), void *ctx);
int pgstore_conflicts_each(struct pgstore *p, const char *agent, uint64_t since_us,
			   int (*fn)(const struct agent_conflict *c, void *ctx), void *ctx);
/* What the alert rules read of the derived rows every collector adds to, as blocks.h's readers give a shard's. */
int pgstore_metric_latest(struct pgstore *p, const char *name, uint64_t since_us, const char *host_glob,
			  const char *instance_glob, int (*fn)(const struct metric_sample *s, void *ctx), void *ctx);
int pgstore_log_matches(struct pgstore *p, const char *rule, uint64_t since_us, const char *host_glob,
			int (*fn)(const struct metric_sample *s, void *ctx), void *ctx);
int pgstore_logmetric_rows(struct pgstore *p, const char *metric, const char *host, uint64_t since, uint64_t until,
			   bool recent, int (*fn)(const struct logmetric_part *part, void *ctx), void *ctx);
/*
 * The history every collector adds to, as blocks.h's blocks_probe_history()
 * (at most limit results), blocks_metric_buckets() and blocks_metric_known()
 * (1 or 0) give a shard's. A host (its id or its name) is read by its
 * agents: those the shared hosts name so now.
 */
int pgstore_probe_history(struct pgstore *p, const char *host, const char *name, uint64_t since, uint64_t until,
			  size_t limit, int (*fn)(const struct probe_result *pr, void *ctx), void *ctx);
int pgstore_metric_buckets(struct pgstore *p, const char *name, const char *host, uint64_t since, uint64_t until,
			   uint64_t step, int (*fn)(const struct metric_bucket *m, void *ctx), void *ctx);
int pgstore_metric_known(struct pgstore *p, const char *name, bool log);
/* A dial test's runs whichever collector made them, newest first, as blocks_dialtest_results() gives a shard's. */
int pgstore_dialtest_results(struct pgstore *p, int64_t id, uint64_t since, uint64_t until, size_t limit,
			     int (*fn)(const struct dialtest_run_row *run, void *ctx), void *ctx);

/*
 * What another collector stored that may change an alert (a probe result
 * not ok or changed, a line a log rule matched) is said on the database's
 * channel when its transaction commits; a listener hears it, so the
 * collector that evaluates need not wait for its next interval.
 */
struct pgstore_listener;
int pgstore_listen(const struct storage_conf *c, struct pgstore_listener **ret);
/* The socket to wait on for readable; -1 while not connected (pgstore_listened() connects again). */
int pgstore_listener_fd(struct pgstore_listener *l);
/* What arrived taken: 1 when something was said since the last call, 0 not, or -errno (connected again at the next call). */
int pgstore_listened(struct pgstore_listener *l);
void pgstore_listener_free(struct pgstore_listener *l);

/* -ERANGE when block xid/id, record rec, was never stored (a cursor from no answer of this store). */
int pgstore_cursor_check(struct pgstore *p, uint64_t xid, int64_t id, uint32_t rec);
/* How many records are stored after record rec of block xid/id, into *ret. */
int pgstore_records_after(struct pgstore *p, uint64_t xid, int64_t id, uint32_t rec, uint64_t *ret);

/*
 * Work one collector does at a time (a forwarder's sending: its lease
 * "forward:NAME"), led through p's connection (pglease.h): 1 this
 * connection leads it (taken now, or held), 0 another collector does, or
 * -errno. Ask again before each round of the work: a connection lost and
 * made again has to take it anew.
 */
int pgstore_lead(struct pgstore *p, const char *work, const char *holder);
/* The forwarders' positions (store/forwardstate.h): pgpositions.h's get and each; put fenced by the lead p holds (-ESTALE). */
int pgstore_position_get(struct pgstore *p, const char *name, struct forward_state *ret, char *cursor, size_t size);
int pgstore_position_put(struct pgstore *p, const struct forward_state *s);
int pgstore_positions_each(struct pgstore *p, int (*fn)(const struct forward_state *s, void *ctx), void *ctx);
/* The console's lockouts (store/lockouts.h), whichever collector locked the user. */
int pgstore_lockout_add(struct pgstore *p, const char *user, uint64_t now, uint64_t until);
int pgstore_lockouts_each(struct pgstore *p, uint64_t since_us, int (*fn)(const struct lockout_count *l, void *ctx),
			  void *ctx);

#endif
