/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_INGEST_H
#define VIGIL_INGEST_H

#include "alerts/logmatch.h"
#include "common/transport.h"
#include "store/storage.h"

/*
 * Receives batches on an nng REP socket with [ingest] contexts in parallel.
 * Each context verifies its batch on an nng thread (bounded decompression,
 * full decode), then hands it to the one writer thread, which stores a group
 * of batches per transaction and replies only after COMMIT.
 */
struct ingest;

/* [ingest] */
struct ingest_conf {
	struct transport_conf t;
	uint64_t contexts;
	uint64_t per_agent;
	uint64_t max_message;
	uint64_t max_raw;
	uint64_t max_records;
	uint64_t max_field;
	bool index; /* build each block's token filter (search/tokens.h) */
	char *relays; /* names of agents' certificates whose batches name their host (devices they relay) */
};

/*
 * The log rules in force when a batch arrives, and the log metrics its
 * records feed: references ingest drops (logmatch_unref(),
 * logmetrics_unref()) once the batch is stored. And, under TLS, whether a
 * client certificate was revoked (NULL: none is): a batch that came with
 * one is refused. Called on nng's threads.
 */
struct ingest_rules {
	struct logmatch *(*now)(void *ctx);
	struct logmetrics *(*metrics_now)(void *ctx);
	void *ctx;
	bool (*revoked)(void *revoked_ctx, const char *serial);
	void *revoked_ctx;
	/*
	 * The central configuration (control/groups.h; NULL: none): the
	 * generation every reply carries, and the configuration for an agent
	 * (its id in hex) of labels into out with its version (CONFIG_OK,
	 * CONFIG_NONE, or < 0). Called on nng's threads.
	 */
	uint32_t (*config_generation)(void *config_ctx);
	/* tests: the dial tests it runs (NULL: an agent that runs none) */
	int (*config_compose)(void *config_ctx, const char *labels, const char *agent, struct buf *out,
			      struct buf *tests, uint32_t *version);
	void *config_ctx;
	/* Whether dial test id runs on agents (NULL: none does), called on nng's threads. */
	bool (*dialtest_on_agents)(void *dialtests_ctx, uint64_t id);
	void *dialtests_ctx;
};

/* Where the collector's own records (dial test results) come in, as an agent's would. */
#define INGEST_LOCAL_URL "inproc://vigil-collector-local"
/*
 * What the collector relays for others (the devices [syslog] hears): their
 * records name their host, as the collector's own do, but they are hosts
 * of the fleet, and no dial test result is taken from them.
 */
#define INGEST_RELAY_URL "inproc://vigil-collector-relay"

/*
 * conf, storage_conf and storage are borrowed; storage is used by the
 * writer thread only (it also runs retention, hourly). Each batch's log
 * records are matched against the log rules in force when it arrives.
 */
int ingest_start(const struct ingest_conf *conf, const struct storage_conf *storage_conf, struct storage *storage,
		 const struct ingest_rules *rules, struct ingest **ret);
/*
 * fn(userdata) is called on the writer thread after each commit that stored
 * what may change an alert: a probe result not ok or changed, or lines a log
 * rule matched.
 */
void ingest_on_stored(struct ingest *in, void (*fn)(void *userdata), void *userdata);
/* Stops receiving, lets the writer finish what it holds, and frees. NULL is fine. */
void ingest_stop(struct ingest *in);

#endif
