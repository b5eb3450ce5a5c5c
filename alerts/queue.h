/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_QUEUE_H
#define VIGIL_QUEUE_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts/alertstore.h"

/*
 * The notification queue: `notifications`, one row per notification (an
 * alert's change for one target), with its payload, state (queued, sent,
 * failed), attempts and next attempt, in the alert store's database
 * (alertstore.h): queue.c alone holds meta.db's SQL that names the table,
 * pgalerts.c the shared database's. Every call runs on the store's
 * connection, in its transaction if one is open.
 */

/* Creates the table in meta.db (and adds what older versions lack). */
int queue_schema(sqlite3 *db);

/* Queues payload (a JSON object: the alert as the API shows it, and "event") for target; its id in *ret_id (may be NULL). */
int queue_add(struct alert_store *s, int64_t alert, const char *target, const char *event, const char *payload, uint64_t now_us,
	      int64_t *ret_id);

/* A notification as the sender takes it. */
struct queued {
	int64_t id, alert;
	unsigned attempts;
};
/* fn(q, target, ctx) for up to limit notifications due at now, oldest first; stops at fn's non-zero answer. */
int queue_due(struct alert_store *s, uint64_t now, size_t limit,
	      int (*fn)(const struct queued *q, const char *target, void *ctx), void *ctx);
/* fn(q, payload, ctx) for up to limit notifications of target due at now, oldest first; stops at fn's non-zero. */
int queue_due_of(struct alert_store *s, const char *target, uint64_t now, size_t limit,
		 int (*fn)(const struct queued *q, const char *payload, void *ctx), void *ctx);
/* Messages to target sent since since_us, a digest once. */
uint64_t queue_sent_since(struct alert_store *s, const char *target, uint64_t since_us);

enum queue_state { QUEUE_QUEUED, QUEUE_SENT, QUEUE_FAILED };
/*
 * The outcome of an attempt at q: its new state, when to try again
 * (queued), why it failed (NULL when sent), and the first notification of
 * the digest that carried it (0: it went alone).
 */
int queue_record(struct alert_store *s, const struct queued *q, enum queue_state state, uint64_t next_attempt, const char *error,
		 uint64_t now, int64_t digest);

/* What target's queue holds: queued, sent and failed, and the last error (into last_error, "" if none). */
struct queue_stats {
	int64_t queued, sent, failed;
	char last_error[512];
	bool has_error;
};
int queue_stats(struct alert_store *s, const char *target, struct queue_stats *ret);

/*
 * The first limit notifications of alert, oldest first, appended to items:
 * {"id","target","event","state","attempts","created","sent" (0: not sent),
 * "error" (the last attempt's, or null)}.
 */
int queue_of_alert(struct alert_store *s, int64_t alert, size_t limit, json_t *items);

/* meta.db's notifications, oldest first, as alert_rows_export() gives rows (--migrate). */
int queue_rows_export(sqlite3 *db, int (*fn)(json_t *row, void *ctx), void *ctx);

/* A store's queue: the calls above on its queue_db. */
struct queue_ops {
	int (*add)(void *db, int64_t alert, const char *target, const char *event, const char *payload, uint64_t now_us,
		   int64_t *ret_id);
	int (*due)(void *db, uint64_t now, size_t limit, int (*fn)(const struct queued *q, const char *target, void *ctx),
		   void *ctx);
	int (*due_of)(void *db, const char *target, uint64_t now, size_t limit,
		      int (*fn)(const struct queued *q, const char *payload, void *ctx), void *ctx);
	uint64_t (*sent_since)(void *db, const char *target, uint64_t since_us);
	int (*record)(void *db, const struct queued *q, enum queue_state state, uint64_t next_attempt, const char *error,
		      uint64_t now, int64_t digest);
	int (*stats)(void *db, const char *target, struct queue_stats *ret);
	int (*of_alert)(void *db, int64_t alert, size_t limit, json_t *items);
};

/* meta.db's: queue_db is the sqlite3 connection. */
extern const struct queue_ops queue_sqlite;

#endif
