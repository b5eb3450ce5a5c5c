/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_SILENCES_H
#define VIGIL_SILENCES_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "alerts/alert.h"

/*
 * Silences and maintenance windows: `silences` (matchers, times, who made
 * it and why) in meta.db, or with [storage] backend=postgresql in the
 * database the collectors share (pgsilences.c), so that a silence made on
 * one collector holds on every one. An alert whose labels (or rule, or
 * severity) match all of a silence's matchers while it is in force is
 * marked silenced and not told. This file holds the policy over either
 * store, and alone holds meta.db's SQL that names the table; the caller
 * holds whatever lock guards the store.
 */

/* Creates the table in meta.db (and adds what older versions lack). */
int silences_schema(sqlite3 *db);

/* A silence as stored; its strings live until the callback returns. */
struct silence_rec {
	int64_t id;
	const char *matchers; /* a JSON object */
	const char *creator, *comment;
	uint64_t created;
	struct silence_time t;
};
enum silence_pick {
	SILENCE_ONE,      /* the one of the id given */
	SILENCE_NOT_OVER, /* in force or to come */
	SILENCE_ALL,
	SILENCE_IN_FORCE, /* those that may be in force now (a recurring one's window is the caller's to check) */
	SILENCE_EVERY,    /* every one, oldest first, however many (--migrate) */
};
/* What follows ORDER BY id for pick: newest first, at most 1000 for the API's lists; every one in force; every one oldest first. */
const char *silence_order(enum silence_pick pick);

struct silence_store_ops {
	const char *name; /* for the log */
	int (*add)(void *db, const struct silence_rec *s, int64_t *ret_id);
	/* Ends silence id at now, a recurring one for good; -ENOENT if none is in force or to come. */
	int (*expire)(void *db, int64_t id, uint64_t now);
	/* fn for each silence pick selects at now, in silence_order(); stops at fn's first non-zero answer, gives a negative one. */
	int (*each)(void *db, enum silence_pick pick, int64_t id, uint64_t now,
		    int (*fn)(const struct silence_rec *s, void *ctx), void *ctx);
	void (*close)(void *db);
	/* A silence of another store with its id (--migrate): 1 copied, 0 when one of that id is there. NULL: none. */
	int (*put)(void *db, const struct silence_rec *s);
};
struct silence_store {
	const struct silence_store_ops *ops;
	void *db;
};
/* meta.db's: db is the sqlite3 connection (borrowed: close() leaves it open). */
extern const struct silence_store_ops silence_store_sqlite;
/*
 * The shared database's (url, password_file as pg.h's pg_conf): connects
 * and makes the table if it is not there; *ret is the db of
 * silence_store_pg, closed by its close(). -EOPNOTSUPP without libpq.
 * Errors of its calls are pg.h's (-EPIPE, -ECONNREFUSED: not reached).
 */
extern const struct silence_store_ops silence_store_pg;
int silence_store_pg_open(const char *url, const char *password_file, void **ret);

/*
 * vigil-collector --migrate URL: the silences of data_dir/meta.db copied
 * into the shared database, each with its id (the audit log names it)
 * unless one of that id is there already, then each read back and
 * compared (its matchers, times and comment). 0 when every one is
 * verified; -EUCLEAN when some is not; else -errno.
 */
struct silences_copy {
	uint64_t silences, copied, present, verified;
};
int silences_migrate(const char *data_dir, const char *url, const char *password_file, struct silences_copy *ret);

/* Whether m holds as a silence's matchers (1 to 16 label names and their values): NULL, or what is wrong. */
const char *silence_check_matchers(json_t *m);
/* Whether body holds as a silence at now_us (nothing stored): NULL, or what is wrong. */
const char *silence_check(json_t *body, uint64_t now_us);
/* From a request body: matchers, comment, starts/ends or duration, every/until. -EINVAL with *reason. */
int silences_add(const struct silence_store *s, json_t *body, const char *creator, uint64_t now, json_t **ret, const char **reason);
/* Ends silence id now; gives it as it is now in *ret (NULL: not wanted). -ENOENT if none is in force or to come. */
int silences_expire(const struct silence_store *s, int64_t id, uint64_t now, json_t **ret);
/* Those not over yet (all: every one), newest first, at most 1000, appended to items. */
int silences_list(const struct silence_store *s, bool all, uint64_t now, json_t *items);

/* The matchers of the silences in force at now, into matchers (an array, cleared first). */
int silences_in_force(const struct silence_store *s, uint64_t now, json_t *matchers);
/* Whether one of matchers (from silences_in_force()) holds for an alert of rule, severity and labels. */
bool silences_match(json_t *matchers, const char *rule, const char *severity, json_t *labels);

#endif
