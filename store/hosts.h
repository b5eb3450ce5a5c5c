/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_HOSTS_H
#define VIGIL_HOSTS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/verify.h"

/*
 * The fleet's state, in meta.db: `hosts` (one row per agent id: its name,
 * when it was first and last heard from, what it sent, its inventory and
 * labels, the certificate its id is bound to), `agent_conflicts` (batches
 * refused because two hosts send with one id) and `probe_state` (the
 * latest result of each probe of each agent). This file alone holds SQL
 * that names them.
 */

/* [hosts]: a host not heard from for silent_after is silent. */
struct hosts_conf {
	uint64_t silent_after_ms;
};

/* A value as stored: not NUL-terminated in general (hosts send bytes). */
struct bytes {
	const char *p;
	size_t len;
};

/* Creates the tables (and adds what older versions lack) on a meta connection. */
int hosts_schema(sqlite3 *meta);

/*
 * Ingest's statements, on the writer's meta connection; each call runs in
 * the caller's transaction. Owned by the caller: hosts_writer_free().
 */
struct hosts_writer;
int hosts_writer_open(sqlite3 *meta, struct hosts_writer **ret);
void hosts_writer_free(struct hosts_writer *w);
/*
 * A batch of agent was received: host is its name from now on, last seen
 * and the counts move on. collector: the id is the collector's own (its
 * dial tests), not an agent's. certificate: the TLS certificate the id is
 * bound to from now on, unless it is bound already (NULL: none).
 */
int hosts_writer_seen(struct hosts_writer *w, const char *agent, const char *host, int64_t received, int64_t batches,
		      int64_t records, bool collector, const char *certificate);
int hosts_writer_inventory(struct hosts_writer *w, const char *agent, const char *inventory, const char *labels);
/* The name agent's batches gave last into name (size bytes) and whether it is the collector's; false if unknown. */
bool hosts_writer_name(struct hosts_writer *w, const char *agent, char *name, size_t size, bool *ret_collector);
/* The certificate agent's id is bound to into out (size bytes); false if none. */
bool hosts_writer_certificate(struct hosts_writer *w, const char *agent, char *out, size_t size);
/* A batch of agent (stored as from host) was refused: other_host sent the same (agent, seq) with other content. */
int hosts_writer_conflict(struct hosts_writer *w, const char *agent, const char *host, const char *other_host,
			  uint64_t seq, uint64_t when);
/*
 * p is agent's latest result of its probe, unless a later one is stored;
 * *ret_noteworthy is set when what an alert rule may act on changed (not
 * ok, or another status than before).
 */
int hosts_writer_probe(struct hosts_writer *w, const char *agent, const char *host, const struct probe_row *p,
		       bool *ret_noteworthy);

/* Readers, on any connection to meta.db. Strings in rows live until fn returns. */
struct host_row {
	const char *id;
	struct bytes hostname;
	uint64_t first_seen, last_seen, batches, records;
	const char *inventory, *labels; /* JSON, or NULL */
	const char *certificate;        /* NULL: the id never came over TLS */
	uint64_t probes[4];             /* latest results ok, warning, critical, unknown */
	bool collector;                 /* the collector's own identity (its dial tests), no agent's host */
};
struct host_filter {
	const char *id_or_name; /* one host: an agent's before the collector's own, the last seen first; NULL: all */
	const char *name_glob;  /* hosts whose name (or id) matches; NULL: any */
	bool no_probe_counts;   /* leave host_row.probes zero: not worth counting */
	bool with_collector;    /* all hosts: the collector's own identity too */
};
/* fn for every host of the fleet matching f (not the collector's own identity unless asked for), by name. */
int hosts_each(sqlite3 *meta, const struct host_filter *f, int (*fn)(const struct host_row *h, void *ctx), void *ctx);

struct probe_state_row {
	const char *agent;
	struct bytes host, name, type, status, message;
	int64_t latency_us;
	uint64_t ts;
	uint64_t streak;         /* results in a row with this status */
	uint64_t host_last_seen; /* when its agent was last heard from */
	bool collector;          /* of the collector's own identity (its dial tests' runs), no agent's */
	const char *labels;      /* its host's, JSON, or NULL */
};
struct probe_state_filter {
	const char *host;      /* the host's name or agent id; NULL: any */
	const char *agent;     /* exactly this agent; NULL: any */
	const char *status;    /* NULL: any */
	const char *name_glob; /* NULL: any */
	const char *host_glob; /* NULL: any */
	const char *type;      /* NULL: any */
};
/* fn for every probe's latest result matching f, by host and name. */
int hosts_probes_each(sqlite3 *meta, const struct probe_state_filter *f,
		      int (*fn)(const struct probe_state_row *p, void *ctx), void *ctx);

/* Batches refused because two hosts use one agent id, per agent. */
struct agent_conflict {
	const char *agent;
	const char *hosts; /* every host named, "web-1, web-2" */
	uint64_t seq;      /* the last sequence number refused */
	uint64_t first_seen, last_seen; /* microseconds */
	uint64_t count;    /* batches refused */
};
/* fn for the conflicts of agent (NULL: every agent) seen since since_us; stops at fn's first non-zero answer. */
int hosts_conflicts_each(sqlite3 *meta, const char *agent, uint64_t since_us,
			 int (*fn)(const struct agent_conflict *c, void *ctx), void *ctx);

#endif
