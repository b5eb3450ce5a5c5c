/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdlib.h>

#include "alerts/defstore.h"
#include "common/macro.h"
#include "store/pgversion.h"

/* The definitions in the database the collectors share: defstore.h's store, its SQL on PostgreSQL. */
struct pgdefs {
	struct pg_versioned v;
};

static int schema(PGconn *c, void *ctx)
{
	static const char sql[] =
		"CREATE TABLE IF NOT EXISTS definitions(kind text NOT NULL, name text NOT NULL, definition text NOT NULL,"
		" author text NOT NULL, created bigint NOT NULL, updated bigint NOT NULL, PRIMARY KEY (kind, name));"
		"CREATE TABLE IF NOT EXISTS definitions_version(id integer PRIMARY KEY CHECK (id = 1), v bigint NOT NULL);"
		"INSERT INTO definitions_version VALUES (1, 0) ON CONFLICT (id) DO NOTHING";

	(void)ctx;
	return pg_schema(c, sql);
}

static int run(struct pgdefs *p, const char *sql, const struct pg_param *params, int n, PGresult **ret)
{
	return pg_versioned_run(&p->v, sql, params, n, ret);
}

#define DEF_COLUMNS "SELECT name, definition, author, created, updated FROM definitions WHERE kind = $1"

static int rows(struct pgdefs *p, const char *sql, const struct pg_param *params, int n,
		int (*fn)(const struct defs_row *row, void *ctx), void *ctx)
{
	PGresult *res = NULL;
	int r = run(p, sql, params, n, &res);

	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		struct defs_row row = { .name = PQgetvalue(res, i, 0), .definition = PQgetvalue(res, i, 1),
					.author = PQgetvalue(res, i, 2), .created = (uint64_t)pg_int(res, i, 3),
					.updated = (uint64_t)pg_int(res, i, 4) };

		r = fn(&row, ctx);
	}
	PQclear(res);
	return r;
}

static int pg_each(void *db, const char *kind, int (*fn)(const struct defs_row *row, void *ctx), void *ctx)
{
	const struct pg_param p[] = { PG_TEXT(kind) };

	return rows(db, DEF_COLUMNS " ORDER BY name COLLATE \"C\"", p, 1, fn, ctx);
}

static int pg_get(void *db, const char *kind, const char *name, int (*fn)(const struct defs_row *row, void *ctx),
		  void *ctx)
{
	const struct pg_param p[] = { PG_TEXT(kind), PG_TEXT(name) };

	return rows(db, DEF_COLUMNS " AND name = $2", p, 2, fn, ctx);
}

static int pg_put(void *db, const char *kind, const char *name, const char *definition, const char *author,
		  uint64_t now)
{
	const struct pg_num t = pg_num((long long)now);
	const struct pg_param p[] = { PG_TEXT(kind), PG_TEXT(name), PG_TEXT(definition), PG_TEXT(author), PG_TEXT(t.s) };

	if (!definition)
		return run(db, "DELETE FROM definitions WHERE kind = $1 AND name = $2", p, 2, NULL);
	return run(db, "INSERT INTO definitions(kind, name, definition, author, created, updated)"
		       " VALUES ($1, $2, $3, $4, $5::bigint, $5::bigint) ON CONFLICT (kind, name) DO UPDATE SET"
		       " definition = excluded.definition, author = excluded.author, updated = excluded.updated",
		   p, ARRAY_SIZE(p), NULL);
}

static int pg_begin(void *db, uint64_t *ret)
{
	return pg_versioned_begin(&((struct pgdefs *)db)->v, ret);
}

static int pg_end(void *db, int r, uint64_t *ret)
{
	return pg_versioned_end(&((struct pgdefs *)db)->v, r, ret);
}

static int pg_version(void *db, uint64_t *ret)
{
	return pg_versioned_get(&((struct pgdefs *)db)->v, ret);
}

static void pg_close(void *db)
{
	struct pgdefs *p = db;

	pg_link_free(&p->v.link);
	free(p);
}

static const struct defs_store_ops defs_pg = {
	.name = "PostgreSQL", .each = pg_each, .get = pg_get, .put = pg_put, .begin = pg_begin, .end = pg_end,
	.version = pg_version, .close = pg_close,
};

int defs_store_pg_open(const char *url, const char *password_file, struct defs_store *ret)
{
	struct pgdefs *p = calloc(1, sizeof(*p));
	int r = p ? pg_link_start(&p->v.link, &(struct pg_conf){ .url = url, .password_file = password_file }, schema, NULL)
		  : -ENOMEM;

	if (r < 0) {
		free(p);
		return r;
	}
	p->v.table = "definitions_version";
	*ret = (struct defs_store){ &defs_pg, p };
	return 0;
}
