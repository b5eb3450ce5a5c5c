/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_DTSTORE_H
#define VIGIL_DTSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Where the catalog (catalog.h) keeps the dial tests and their change
 * history: meta.db's `dialtests` and `dialtest_changes` (dtstore-sqlite.c
 * alone holds their SQL), or with [storage] backend=postgresql the
 * database the collectors share (pgdialtests.c), where ids are the same on
 * every collector and a version moves with each change, so each sees that
 * the tests changed and builds them again. The catalog's lock guards the
 * store's connection.
 */

/* A stored test; its strings valid during the callback. */
struct dt_row {
	int64_t id;
	const char *name, *definition; /* the JSON as stored */
	const char *file;              /* the file that defines it; NULL: made through the API */
	const char *author;
	uint64_t created, updated;
};

/* An entry of a test's history. */
struct dt_change {
	int64_t id, dialtest;
	uint64_t ts;
	const char *actor, *action;
	const char *definition; /* NULL for a deletion */
};

/* What a file's test did to the catalog. */
enum dt_synced {
	DT_SYNC_SAME,    /* there, as the file has it */
	DT_SYNC_CREATED, /* new */
	DT_SYNC_UPDATED, /* its definition changed */
	DT_SYNC_API,     /* the name is a test made through the API: the file is left out */
};

struct dt_store_ops {
	const char *name; /* for the log */
	/*
	 * A change's transaction: every collector's in turn. end() commits (r
	 * 0; the version moved on into *ret) or rolls back (r < 0, given back).
	 */
	int (*begin)(void *db);
	int (*end)(void *db, int r, uint64_t *ret);
	/* The version now: moved by every change made through any collector (meta.db's: one collector's, 0). */
	int (*version)(void *db, uint64_t *ret);
	/* fn for each test by id (id 0), or for test id alone; stops at fn's non-zero answer (given back). */
	int (*each)(void *db, int64_t id, int (*fn)(const struct dt_row *row, void *ctx), void *ctx);
	/* fn for each change of test id, oldest first. */
	int (*history)(void *db, int64_t id, int (*fn)(const struct dt_change *c, void *ctx), void *ctx);
	/* Makes (*id 0: its id into *id) or redefines test *id; -EEXIST: the name is another's. */
	int (*put)(void *db, int64_t *id, const char *name, const char *definition, const char *author, uint64_t now);
	int (*remove)(void *db, int64_t id);
	int (*add_change)(void *db, const struct dt_change *c);
	/*
	 * A file's test in (its name's row, the file's from now on, synced by
	 * origin: the collector that read it), its id into *ret_id: a
	 * dt_synced, or an error.
	 */
	int (*sync_file)(void *db, const char *name, const char *definition, const char *path, const char *origin,
			 uint64_t now, int64_t *ret_id);
	/*
	 * After the files: the tests of files that origin read last time and
	 * are gone now (not among names) deleted, each change recorded. A test
	 * of a file another collector read last is that collector's to delete.
	 */
	int (*sync_gone)(void *db, const char *const *names, size_t n, const char *origin, uint64_t now);
	void (*close)(void *db);
};

struct dt_store {
	const struct dt_store_ops *ops;
	void *db;
};

/* meta.db's in data_dir: one collector's, so its version never moves. Makes the tables. */
int dt_store_sqlite_open(const char *data_dir, bool sync, struct dt_store *ret);
/* The shared database's: connects and makes the tables. -EOPNOTSUPP without libpq; pg.h's errors. */
int dt_store_pg_open(const char *url, const char *password_file, struct dt_store *ret);

/*
 * --migrate: a row and a change of meta.db's with its id into the shared
 * database's store (1 copied, 0 there already), then import_done() moves
 * its ids past them. Only on dt_store_pg_open()'s.
 */
int dt_store_pg_import_row(struct dt_store *s, const struct dt_row *row);
int dt_store_pg_import_change(struct dt_store *s, const struct dt_change *c);
int dt_store_pg_import_done(struct dt_store *s);

#endif
