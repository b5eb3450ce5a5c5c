/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_FORWARD_INTERNAL_H
#define VIGIL_FORWARD_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "forward/conn.h"
#include "forward/format.h"
#include "forward/forward.h"
#include "forward/position.h"
#include "search/query.h"
#include "store/logquery.h"

/* What forward.c and sources.c share of a forwarder. */

/* Where a forwarder is: a log cursor (what=logs), or an event's id (alerts, audit). */
struct position {
	struct log_cursor log;
	int64_t id;
};

/* The page read and not yet acknowledged: sent again, as it is, until the receiver has it. */
struct page {
	struct buf text;
	size_t n;
	struct position next;
	uint64_t oldest_ts;
};

/* A forwarder's counters, shown at GET /metrics. */
struct forward_stats {
	atomic_uint_fast64_t sent, truncated, dropped, failures;
	atomic_uint_fast64_t expired; /* days retention removed before all of them was sent */
	atomic_uint_fast64_t lag_us; /* the age of the oldest record not yet acknowledged; 0 when caught up */
	atomic_uint_fast64_t behind; /* records stored after the position, before the filter */
	atomic_uint_fast64_t connected; /* 1 while it holds a connection to its receiver */
};

struct forwarder;

/* What a forwarder reads (what=): a row of sources.c's table. */
struct source {
	const char *name;
	/* The next page after f->pos into p (its text framed): 1 when nothing more is there now, 0, or -errno. */
	int (*read)(struct forwarder *f, struct page *p);
	/* f->pos at the newest there is now (start=now): 1 when it moved, 0 when there is nothing, -errno. */
	int (*newest)(struct forwarder *f);
	/* How many are after f->pos; NULL when not counted. */
	int (*behind)(struct forwarder *f, uint64_t *ret);
	int (*parse)(const char *text, struct position *ret);
	/* p as text into out, of FORWARD_CURSOR_MAX + 1 bytes. */
	void (*format)(const struct position *p, char *out);
	/*
	 * What it reads is the collectors' when they share a store (every
	 * collector's records, the alerts): forwarded by one of them at a time.
	 * Else (the audit log, the seals) each collector's own, by each.
	 */
	bool shared;
};

const struct source *forward_source_find(const char *name);
/* The sources' names, for errors and docs. */
#define FORWARD_SOURCE_NAMES "logs, alerts, audit or seals"

struct forwarder {
	const struct forward_conf *conf;
	const struct source *src;
	struct forwarders *owner;
	struct query *filter;
	struct forward_style style;
	struct forward_stats stats;
	struct forward_conn *conn;
	struct storage_reader *rd;
	sqlite3 *meta;
	/*
	 * With backend=postgresql, the shared store rd reads: the records of
	 * every collector, the position kept there, and the lease (one
	 * collector forwards at a time; the others stand by). NULL: meta.db's.
	 */
	struct pgstore *pg;
	char lease[96];        /* "forward:NAME" */
	char holder[300];      /* this collector among those that may forward (process_name()) */
	bool leads;            /* it held the lease at its last turn */
	bool lead_failing;     /* the lease could not be asked for: logged once until it can */
	struct position pos;
	bool has_pos;
	uint64_t sent;         /* records acknowledged, in all (kept with the position) */
	uint64_t saved_lag_us; /* the lag forward_positions has */
	uint64_t retry_ms;     /* the wait before the next attempt */
	bool failing;          /* logged once until it works again */
	bool read_failing;     /* the same for reading */
	uint32_t expired_day;  /* the last day said to be lost to retention */
	pthread_t thread;
	bool started;
};

struct forwarders {
	const struct storage_conf *storage;
	struct forward_sources sources;
	char host[256]; /* this collector's name: the host of the audit log's messages */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	atomic_bool stop; /* stopping, for the waits outside the lock */
	size_t n;
	struct forwarder fw[];
};

#endif
