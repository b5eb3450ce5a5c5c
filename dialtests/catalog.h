/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_DIALTESTS_H
#define VIGIL_DIALTESTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "dialtests/dialtest.h"

struct storage_conf;

/*
 * The dial tests defined: JSON files in [dialtests] dir (one test a file,
 * *.json) and those defined through the API, all kept in a store
 * (dtstore.h: meta.db's, or with backend=postgresql the database the
 * collectors share) with their change history, so each has a stable id (on
 * every collector). Readers take an immutable snapshot; a change builds a
 * new one.
 */
struct dialtests;

/* [dialtests] */
struct dialtests_conf {
	char *dir;
	uint64_t concurrency;
	uint64_t per_host;
	char *host;
	uint64_t queue;
	char *secrets_dir, *secrets_env;
};

struct dialtest_entry {
	int64_t id;
	struct dialtest *test; /* owned by the snapshot */
	/* A test run_on agents: its definition with its id, as they are sent it (JSON); NULL for the others. */
	char *for_agents;
};

struct dialtests_snapshot {
	const struct dialtest_entry *items;
	size_t n;
	uint32_t agents_digest; /* of every for_agents text: moves when what any agent runs may change */
};

/*
 * Reads [dialtests] dir into the store and the store's tests. A file that
 * does not hold is logged ("FILE: reason") and left out. conf and storage
 * are borrowed and must outlive *ret.
 */
int dialtests_open(const struct dialtests_conf *conf, const struct storage_conf *storage, struct dialtests **ret);
void dialtests_free(struct dialtests *d);
/*
 * Takes the tests changed through another collector (the store's version
 * moved): 1 when the snapshot is new (the dialer is to resync), 0 when it
 * was current, or the store's error. Blocks on the store: not for a loop
 * that must not wait.
 */
int dialtests_refresh(struct dialtests *d);
/* The name this collector's dial tests run under: [dialtests] host, or the host name. */
int dialtests_origin(const struct dialtests_conf *conf, char *host, size_t size);

/* Checks every file of [dialtests] dir, printing "FILE: reason" for each that does not hold; how many do not. */
int dialtests_check_dir(const struct dialtests_conf *conf);
/* Where the dial tests of conf may read secrets from. */
struct dt_policy dialtests_policy(const struct dialtests_conf *conf);

const struct dialtests_snapshot *dialtests_get(struct dialtests *d);
/* The agents_digest of the snapshot in force, without the lock (what every batch's reply is made with). */
uint32_t dialtests_agents_digest(struct dialtests *d);
void dialtests_release(const struct dialtests_snapshot *s); /* NULL is fine */
/* Another reference to a snapshot one holds. */
const struct dialtests_snapshot *dialtests_ref(const struct dialtests_snapshot *s);
const struct dialtest_entry *dialtests_find(const struct dialtests_snapshot *s, int64_t id);
const struct dialtest_entry *dialtests_find_name(const struct dialtests_snapshot *s, const char *name);

/* {"items":[definition + id, defined_in, author, created, updated]}. */
int dialtests_list(struct dialtests *d, json_t **ret);
/* One of them, with "history" ([{ts, actor, action}]); -ENOENT. */
int dialtests_show(struct dialtests *d, int64_t id, json_t **ret);
/*
 * Creates (id 0) or replaces test id from def. -EINVAL (reason: what and
 * where), -EEXIST (the name is taken), -ENOENT, -EPERM (defined in a file).
 * *ret is the stored test as dialtests_show() gives it.
 */
int dialtests_put(struct dialtests *d, int64_t id, json_t *def, const char *author, json_t **ret, char *reason,
		  size_t reason_size);
/* -ENOENT, -EPERM (defined in a file). */
int dialtests_delete(struct dialtests *d, int64_t id, const char *actor, char *reason, size_t reason_size);

/*
 * --migrate: meta.db's dial tests (of files and of the API) and their
 * history, with their ids, into the shared database, each read back there;
 * run again, what is there already is left. -EUCLEAN when a row differs
 * there (logged).
 */
struct dialtests_copy {
	uint64_t tests, changes;
	uint64_t copied, present, verified;
};
int dialtests_migrate(const char *data_dir, const char *url, const char *password_file, struct dialtests_copy *ret);

#endif
