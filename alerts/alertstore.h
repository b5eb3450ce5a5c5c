/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_ALERTSTORE_H
#define VIGIL_ALERTSTORE_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "alerts/alert.h"

/*
 * The alerts and their history: `alerts` (one row per alert: its rule,
 * host, labels, state and times; one open alert per fingerprint) and
 * `alert_events` (what happened to each, by whom) in meta.db. This file
 * alone holds SQL that names them. The caller holds whatever lock guards
 * the connection and runs its own transactions.
 */
struct alert_store;

/* Creates the tables on db and prepares the statements; db is borrowed. */
int alert_store_open(sqlite3 *db, struct alert_store **ret);
void alert_store_free(struct alert_store *s);

/* Why an alert is not told: its host is silent, or a silence matches it. */
struct alert_quiet {
	bool suppressed, silenced;
};

/* The open alert of fingerprint into *al and *q; 0 with *ret_id = 0 when there is none. */
int alert_store_load(struct alert_store *s, const char *fingerprint, struct alert *al, struct alert_quiet *q,
		     int64_t *ret_id);

/* An alert as the evaluator writes it. */
struct alert_row {
	const char *fingerprint, *rule, *agent, *host;
	const char *labels; /* JSON */
	const char *severity, *summary, *value;
	const struct alert *al;
	const struct alert_quiet *q;
	uint64_t now;
};
/* Writes the alert *id (0: a new one, whose id is then set). */
int alert_store_save(struct alert_store *s, const struct alert_row *row, int64_t *id);

/* An event in alert id's history. */
int alert_store_event(struct alert_store *s, int64_t id, uint64_t ts, const char *actor, const char *action,
		      const char *note);
/* The same on any connection to meta.db (the notifier's), in its transaction. */
int alert_event_add(sqlite3 *db, int64_t id, uint64_t ts, const char *actor, const char *action, const char *note);

/* fn(fingerprint, ctx) for each open (not closed) alert of rule. */
int alert_store_open_fingerprints(struct alert_store *s, const char *rule, int (*fn)(const char *fp, void *ctx),
				  void *ctx);
/* fn(id, ctx) for each open alert of rule. */
int alert_store_open_ids(struct alert_store *s, const char *rule, int (*fn)(int64_t id, void *ctx), void *ctx);
/* fn(id, rule, ctx) for each pending or firing alert. */
int alert_store_active(struct alert_store *s, int (*fn)(int64_t id, const char *rule, void *ctx), void *ctx);
/* Alert id's fingerprint, agent and host (each size bytes); false if there is none. */
bool alert_store_identity(struct alert_store *s, int64_t id, char *fp, char *agent, char *host, size_t size);
/* Resolves alert id at now (its rule is gone). */
int alert_store_resolve(struct alert_store *s, int64_t id, uint64_t now);

struct alert_filter {
	const char *state;    /* NULL: every state but closed */
	const char *severity; /* NULL: any */
	const char *host;     /* NULL: any */
	const char *label_key, *label_value; /* NULL: any */
	const char *assignee; /* NULL: any; "": nobody's */
	bool unacked;         /* only those nobody acknowledged */
	const char *text;     /* NULL: any; else at most ALERT_TEXT_MAX bytes, found case-insensitively (ASCII) */
	bool hide_log_lines;  /* text is not looked for in the log line a summary names (the asker may not read logs) */
};
#define ALERT_TEXT_MAX 256
/* The alert as the API shows it (without history), or NULL. */
json_t *alert_store_get(struct alert_store *s, int64_t id);
/* The alerts f selects, newest first (at most 1000), appended to items; how many it selects in all in *ret_total. */
int alert_store_list(struct alert_store *s, const struct alert_filter *f, json_t *items, int64_t *ret_total);
/* How many alerts f selects, whatever their severity, per severity, set in counts ({"critical": 3}). */
int alert_store_counts(struct alert_store *s, const struct alert_filter *f, json_t *counts);
/* Alert id's history, oldest first, appended to history. */
int alert_store_history(struct alert_store *s, int64_t id, json_t *history);
/*
 * The events of every alert after event after, oldest first, at most limit,
 * each with its alert's rule, severity, host, labels, summary and value,
 * appended to items; the last one's id in *ret_last (after when none).
 * SQLite has one writer at a time, so an event with a smaller id is never
 * committed after one with a larger: a reader that goes on after the last
 * id it was given misses none.
 */
int alert_store_events(struct alert_store *s, int64_t after, unsigned limit, json_t *items, int64_t *ret_last);

/*
 * An ops action: ack, unack, assign (arg: to whom), comment, severity
 * (arg: the severity), close. alert_action_arg() says which body member
 * an action takes ("" for none, NULL for no such action); the actor is
 * its argument when it takes none.
 */
const char *alert_action_arg(const char *action);
int alert_store_act(struct alert_store *s, int64_t id, const char *action, const char *arg, uint64_t now);

#endif
