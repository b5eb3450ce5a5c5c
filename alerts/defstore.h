/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_DEFSTORE_H
#define VIGIL_DEFSTORE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Where the definitions made through the API (rules, notification targets,
 * log metrics) are kept for the catalog (catalog.h): meta.db's
 * `definitions` (defstore-sqlite.c alone holds its SQL), or with [storage]
 * backend=postgresql the database the collectors share (pgdefs.c), where
 * a version moves with each change so every collector sees that the
 * definitions changed and builds them again. The catalog's lock guards
 * the store's connection.
 */

/* The config groups' kinds (control/groups.h): each group now, and each version it had ("NAME/V"). */
#define DEFS_KIND_CONFIG_GROUP "agentconfig"
#define DEFS_KIND_CONFIG_VERSION "agentconfig-version"

/* A stored definition; its strings valid during the callback. */
struct defs_row {
	const char *name, *definition; /* the JSON given */
	const char *author;
	uint64_t created, updated;
};

struct defs_store_ops {
	const char *name; /* for the log */
	/* fn for each definition of kind, by name; stops at fn's non-zero answer (given back). */
	int (*each)(void *db, const char *kind, int (*fn)(const struct defs_row *row, void *ctx), void *ctx);
	/* fn for the definition (kind, name) when there is one. */
	int (*get)(void *db, const char *kind, const char *name, int (*fn)(const struct defs_row *row, void *ctx),
		   void *ctx);
	/* Puts (definition) or deletes (NULL) (kind, name), in the change's transaction. */
	int (*put)(void *db, const char *kind, const char *name, const char *definition, const char *author,
		   uint64_t now);
	/*
	 * A change: every collector's in turn, the version it starts from into
	 * *ret; end() commits (r 0, the version moved on into *ret) or rolls
	 * back (r < 0, given back).
	 */
	int (*begin)(void *db, uint64_t *ret);
	int (*end)(void *db, int r, uint64_t *ret);
	/* The version now: moved by every change made through any collector (meta.db's: one collector's, 0). */
	int (*version)(void *db, uint64_t *ret);
	void (*close)(void *db);
};

struct defs_store {
	const struct defs_store_ops *ops;
	void *db;
};

struct storage_conf;
/*
 * The store for storage (store/storage.h): with backend=postgresql the
 * shared database's, so a definition made through any collector holds on
 * all; else meta.db's. The catalog's, and the config groups' (control/groups.h).
 */
int defs_store_open(const struct storage_conf *storage, struct defs_store *ret);
/* meta.db's in data_dir: one collector's, so its version never moves. Makes the table. */
int defs_store_sqlite_open(const char *data_dir, bool sync, struct defs_store *ret);
/* The shared database's: connects and makes the tables. -EOPNOTSUPP without libpq; pg.h's errors. */
int defs_store_pg_open(const char *url, const char *password_file, struct defs_store *ret);

#endif
