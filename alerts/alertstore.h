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
 * `alert_events` (what happened to each, by whom), with the notification
 * queue (queue.h) beside them, in one of two stores: meta.db (this file
 * and queue.c alone hold its SQL that names them), or with [storage]
 * backend=postgresql the database the collectors share (pgalerts.c), so
 * that an alert raised through one collector is the same alert on every
 * one. The caller holds whatever lock guards the store's connection and
 * runs its writes inside alert_store_begin() and alert_store_end().
 */

struct alert_store;

/* meta.db's, on db (borrowed: it outlives the store); creates the tables and prepares the statements. */
int alert_store_open(sqlite3 *db, struct alert_store **ret);
/*
 * The shared database's (a connection of its own, made again after the
 * server went away; the tables made if they are not there): -EOPNOTSUPP
 * without libpq, else pg.h's errors.
 */
int alert_store_open_pg(const char *url, const char *password_file, struct alert_store **ret);
void alert_store_free(struct alert_store *s);

/*
 * Whether this store leads work (a name: "alerting", "notify"), work only
 * one collector may do at a time: 1 it does (taken now, or held), 0
 * another collector does, or -errno. meta.db is one collector's: always 1.
 * On the shared database it is a lease (store/pglease.h), the holder's
 * while its connection lives; ask again before each round of the work.
 */
int alert_store_lead(struct alert_store *s, const char *work, const char *holder);
/* What a worker knew of its lead at its last asking; UNASKED to begin with. */
enum alert_lead { ALERT_LEAD_UNASKED, ALERT_LEAD_LEADS, ALERT_LEAD_FOLLOWS, ALERT_LEAD_UNKNOWN };
/* alert_store_lead() as a yes or no (an error: no), *last updated and, in a shared store, each change logged once. */
bool alert_store_leads(struct alert_store *s, const char *work, const char *holder, enum alert_lead *last);
/*
 * A transaction (each writer's in turn: every event is committed in the
 * order of its id). fenced: of the work the store leads, refused
 * (-ESTALE) when another collector has taken it since. alert_store_end()
 * commits when r is 0, else rolls back, and gives r or the commit's error.
 */
int alert_store_begin(struct alert_store *s, bool fenced);
int alert_store_end(struct alert_store *s, int r);

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
/* The alert as the API shows it (without history) into *ret (the caller's); -ENOENT when there is none. */
int alert_store_get(struct alert_store *s, int64_t id, json_t **ret);
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
 * Writers take their turn (alert_store_begin()), so an event with a
 * smaller id is never committed after one with a larger: a reader that
 * goes on after the last id it was given misses none.
 */
int alert_store_events(struct alert_store *s, int64_t after, unsigned limit, json_t *items, int64_t *ret_last);

/*
 * An ops action: ack, unack, assign (arg: to whom), comment, severity
 * (arg: the severity), close. alert_action_arg() says which body member
 * an action takes ("" for none, NULL for no such action); the actor is
 * its argument when it takes none.
 */
const char *alert_action_arg(const char *action);
/*
 * The rows of meta.db's table ("alerts" or "alert_events"; queue.h's
 * queue_rows_export() for the queue's), oldest first, each as a JSON
 * object of its columns (an alert's changes as an array of numbers, text
 * as valid UTF-8) into fn, which gives it back (its own reference taken if
 * kept); stops at fn's first non-zero answer.
 */
int alert_rows_export(sqlite3 *db, const char *table, int (*fn)(json_t *row, void *ctx), void *ctx);
/* Each row of st (prepared on meta.db) into fn as alert_rows_export() gives rows; finalizes st. For the queue's too. */
int alert_rows_step(sqlite3_stmt *st, int (*fn)(json_t *row, void *ctx), void *ctx);

/*
 * vigil-collector --migrate URL: meta.db's alerts, their events and the
 * notifications copied into the shared database, each row with its id
 * unless one of that id is there already, then each read back and
 * compared. 0 when every row is verified; -EUCLEAN when some is not; else
 * -errno. Copied into a database other collectors already raise alerts
 * in, rows whose ids are taken differ and stay in meta.db.
 */
struct alerts_copy {
	uint64_t alerts, events, notifications; /* rows of each */
	uint64_t copied, present, verified;
};
int alerts_migrate(const char *data_dir, const char *url, const char *password_file, struct alerts_copy *ret);

/* The ops actions, in that order: what each changes is the store's SQL. */
enum alert_action { ALERT_ACK, ALERT_UNACK, ALERT_ASSIGN, ALERT_COMMENT, ALERT_SEVERITY, ALERT_CLOSE, ALERT_ACTIONS };
int alert_store_act(struct alert_store *s, int64_t id, const char *action, const char *arg, uint64_t now);

/* A store's backend: the calls above on its db, and its queue's (queue.h) on queue_db. */
struct queue_ops;
struct alert_store_ops {
	bool shared; /* several collectors may use it: who leads is worth the log */
	void (*free)(void *db);
	int (*lead)(void *db, const char *work, const char *holder);
	int (*begin)(void *db, bool fenced);
	int (*end)(void *db, int r);
	int (*load)(void *db, const char *fingerprint, struct alert *al, struct alert_quiet *q, int64_t *ret_id);
	int (*save)(void *db, const struct alert_row *row, int64_t *id);
	int (*event)(void *db, int64_t id, uint64_t ts, const char *actor, const char *action, const char *note);
	int (*open_fingerprints)(void *db, const char *rule, int (*fn)(const char *fp, void *ctx), void *ctx);
	int (*open_ids)(void *db, const char *rule, int (*fn)(int64_t id, void *ctx), void *ctx);
	int (*active)(void *db, int (*fn)(int64_t id, const char *rule, void *ctx), void *ctx);
	bool (*identity)(void *db, int64_t id, char *fp, char *agent, char *host, size_t size);
	int (*resolve)(void *db, int64_t id, uint64_t now);
	int (*get)(void *db, int64_t id, json_t **ret);
	int (*list)(void *db, const struct alert_filter *f, json_t *items, int64_t *ret_total);
	int (*counts)(void *db, const struct alert_filter *f, json_t *counts);
	int (*history)(void *db, int64_t id, json_t *history);
	int (*events)(void *db, int64_t after, unsigned limit, json_t *items, int64_t *ret_last);
	int (*act)(void *db, int64_t id, enum alert_action action, const char *arg, uint64_t now);
	const struct queue_ops *queue;
	/*
	 * --migrate into the shared database (NULL for meta.db's): row, a
	 * table's row as alert_rows_export() gives it, put there with its id
	 * (1 copied, 0 one of that id is there already); whether the row
	 * there holds what row does; the ids handed out from then on after
	 * the copied ones.
	 */
	int (*put_row)(void *db, const char *table, json_t *row);
	int (*holds_row)(void *db, const char *table, json_t *row);
	int (*rows_done)(void *db);
};

struct alert_store {
	const struct alert_store_ops *ops;
	void *db, *queue_db;
};


#endif
