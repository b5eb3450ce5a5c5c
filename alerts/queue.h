/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_QUEUE_H
#define VIGIL_QUEUE_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The notification queue: `notifications` in meta.db, one row per
 * notification (an alert's change for one target), with its payload, state
 * (queued, sent, failed), attempts and next attempt. This file alone holds
 * SQL that names the table. Every call runs on the caller's connection, in
 * its transaction if one is open.
 */

/* Creates the table (and adds what older versions lack). */
int queue_schema(sqlite3 *db);

/* Queues payload (a JSON object: the alert as the API shows it, and "event") for target; its id in *ret_id (may be NULL). */
int queue_add(sqlite3 *db, int64_t alert, const char *target, const char *event, const char *payload, uint64_t now_us,
	      int64_t *ret_id);

/* A notification as the sender takes it. */
struct queued {
	int64_t id, alert;
	unsigned attempts;
};
/* fn(q, target, ctx) for up to limit notifications due at now, oldest first; stops at fn's non-zero answer. */
int queue_due(sqlite3 *db, uint64_t now, size_t limit,
	      int (*fn)(const struct queued *q, const char *target, void *ctx), void *ctx);
/* fn(q, payload, ctx) for up to limit notifications of target due at now, oldest first; stops at fn's non-zero. */
int queue_due_of(sqlite3 *db, const char *target, uint64_t now, size_t limit,
		 int (*fn)(const struct queued *q, const char *payload, void *ctx), void *ctx);
/* Messages to target sent since since_us, a digest once. */
uint64_t queue_sent_since(sqlite3 *db, const char *target, uint64_t since_us);

enum queue_state { QUEUE_QUEUED, QUEUE_SENT, QUEUE_FAILED };
/*
 * The outcome of an attempt at q: its new state, when to try again
 * (queued), why it failed (NULL when sent), and the first notification of
 * the digest that carried it (0: it went alone).
 */
int queue_record(sqlite3 *db, const struct queued *q, enum queue_state state, uint64_t next_attempt, const char *error,
		 uint64_t now, int64_t digest);

/* What target's queue holds: queued, sent and failed, and the last error (into last_error, "" if none). */
struct queue_stats {
	int64_t queued, sent, failed;
	char last_error[512];
	bool has_error;
};
int queue_stats(sqlite3 *db, const char *target, struct queue_stats *ret);

/*
 * The first limit notifications of alert, oldest first, appended to items:
 * {"id","target","event","state","attempts","created","sent" (0: not sent),
 * "error" (the last attempt's, or null)}.
 */
int queue_of_alert(sqlite3 *db, int64_t alert, size_t limit, json_t *items);

#endif
