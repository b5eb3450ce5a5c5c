/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/macro.h"
#include "dialtests/dtstore.h"
#include "store/pgversion.h"

/*
 * The dial tests in the database the collectors share: dtstore.h's store,
 * its SQL on PostgreSQL. A file's test also names the collector that read
 * its file last (origin), which alone deletes it when the file goes.
 */
struct pgdialtests {
	struct pg_versioned v;
};

/* The names of a sync's files, as one array parameter: bounded as a catalog of files is. */
#define NAMES_ARRAY_MAX (4 << 20)

static int schema(PGconn *c, void *ctx)
{
	static const char sql[] =
		"CREATE TABLE IF NOT EXISTS dialtests(id bigserial PRIMARY KEY, name text UNIQUE NOT NULL,"
		" definition text NOT NULL, file text, origin text, author text NOT NULL, created bigint NOT NULL,"
		" updated bigint NOT NULL);"
		"CREATE TABLE IF NOT EXISTS dialtest_changes(id bigserial PRIMARY KEY, dialtest bigint NOT NULL,"
		" ts bigint NOT NULL, actor text NOT NULL, action text NOT NULL, definition text);"
		"CREATE INDEX IF NOT EXISTS dialtest_changes_by_test ON dialtest_changes(dialtest, id);"
		"CREATE TABLE IF NOT EXISTS dialtests_version(id integer PRIMARY KEY CHECK (id = 1), v bigint NOT NULL);"
		"INSERT INTO dialtests_version VALUES (1, 0) ON CONFLICT (id) DO NOTHING";

	(void)ctx;
	return pg_schema(c, sql);
}

static int run(struct pgdialtests *p, const char *sql, const struct pg_param *params, int n, PGresult **ret)
{
	return pg_versioned_run(&p->v, sql, params, n, ret);
}

static const char *text_or_null(const PGresult *res, int i, int col)
{
	return PQgetisnull(res, i, col) ? NULL : PQgetvalue(res, i, col);
}

static int pg_begin(void *db)
{
	return pg_versioned_begin(&((struct pgdialtests *)db)->v, NULL);
}

static int pg_end(void *db, int r, uint64_t *ret)
{
	return pg_versioned_end(&((struct pgdialtests *)db)->v, r, ret);
}

static int pg_version(void *db, uint64_t *ret)
{
	return pg_versioned_get(&((struct pgdialtests *)db)->v, ret);
}

static int pg_each(void *db, int64_t id, int (*fn)(const struct dt_row *row, void *ctx), void *ctx)
{
	const struct pg_num n = pg_num(id);
	const struct pg_param p[] = { PG_TEXT(n.s) };
	PGresult *res = NULL;
	int r = run(db, "SELECT id, name, definition, file, author, created, updated FROM dialtests"
			" WHERE $1::bigint = 0 OR id = $1::bigint ORDER BY id", p, 1, &res);

	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		struct dt_row row = { .id = pg_int(res, i, 0), .name = PQgetvalue(res, i, 1),
				      .definition = PQgetvalue(res, i, 2), .file = text_or_null(res, i, 3),
				      .author = PQgetvalue(res, i, 4), .created = (uint64_t)pg_int(res, i, 5),
				      .updated = (uint64_t)pg_int(res, i, 6) };

		r = fn(&row, ctx);
	}
	PQclear(res);
	return r;
}

static int pg_history(void *db, int64_t id, int (*fn)(const struct dt_change *c, void *ctx), void *ctx)
{
	const struct pg_num n = pg_num(id);
	const struct pg_param p[] = { PG_TEXT(n.s) };
	PGresult *res = NULL;
	int r = run(db, "SELECT id, ts, actor, action, definition FROM dialtest_changes WHERE dialtest = $1::bigint"
			" ORDER BY id", p, 1, &res);

	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		struct dt_change c = { .id = pg_int(res, i, 0), .dialtest = id, .ts = (uint64_t)pg_int(res, i, 1),
				       .actor = PQgetvalue(res, i, 2), .action = PQgetvalue(res, i, 3),
				       .definition = text_or_null(res, i, 4) };

		r = fn(&c, ctx);
	}
	PQclear(res);
	return r;
}

static int pg_put(void *db, int64_t *id, const char *name, const char *definition, const char *author, uint64_t now)
{
	const struct pg_num i = pg_num(*id), t = pg_num((long long)now);
	const struct pg_param p[] = { PG_TEXT(name), PG_TEXT(definition), PG_TEXT(author), PG_TEXT(t.s), PG_TEXT(i.s) };
	PGresult *res = NULL;
	int r;

	if (*id)
		return run(db, "UPDATE dialtests SET name = $1, definition = $2, author = $3, updated = $4::bigint"
			       " WHERE id = $5::bigint", p, ARRAY_SIZE(p), NULL);
	r = run(db, "INSERT INTO dialtests(name, definition, author, created, updated)"
		    " VALUES ($1, $2, $3, $4::bigint, $4::bigint) RETURNING id", p, 4, &res);
	if (r == 0)
		*id = pg_int(res, 0, 0);
	PQclear(res);
	return r;
}

static int pg_remove(void *db, int64_t id)
{
	const struct pg_num n = pg_num(id);
	const struct pg_param p[] = { PG_TEXT(n.s) };

	return run(db, "DELETE FROM dialtests WHERE id = $1::bigint", p, 1, NULL);
}

static int pg_add_change(void *db, const struct dt_change *c)
{
	const struct pg_num id = pg_num(c->dialtest), ts = pg_num((long long)c->ts);
	const struct pg_param p[] = { PG_TEXT(id.s), PG_TEXT(ts.s), PG_TEXT(c->actor), PG_TEXT(c->action),
				      PG_TEXT(c->definition) };

	return run(db, "INSERT INTO dialtest_changes(dialtest, ts, actor, action, definition)"
		       " VALUES ($1::bigint, $2::bigint, $3, $4, $5)", p, ARRAY_SIZE(p), NULL);
}

static int pg_sync_file(void *db, const char *name, const char *definition, const char *path, const char *origin,
			uint64_t now, int64_t *ret_id)
{
	const struct pg_num t = pg_num((long long)now);
	const struct pg_param p[] = { PG_TEXT(name), PG_TEXT(definition), PG_TEXT(path), PG_TEXT(origin), PG_TEXT(t.s) };
	PGresult *res = NULL;
	int r = run(db, "INSERT INTO dialtests AS d(name, definition, file, origin, author, created, updated)"
			" VALUES ($1, $2, $3, $4, 'file:' || $3, $5::bigint, $5::bigint) ON CONFLICT (name) DO UPDATE SET"
			" definition = excluded.definition, file = excluded.file, origin = excluded.origin,"
			" updated = CASE WHEN d.definition = excluded.definition THEN d.updated ELSE excluded.updated END"
			" WHERE d.file IS NOT NULL RETURNING id, created = $5::bigint, updated = $5::bigint",
		    p, ARRAY_SIZE(p), &res);

	if (r == 0 && PQntuples(res) == 0)
		r = DT_SYNC_API;
	else if (r == 0) {
		*ret_id = pg_int(res, 0, 0);
		r = *PQgetvalue(res, 0, 1) == 't' ? DT_SYNC_CREATED : *PQgetvalue(res, 0, 2) == 't' ? DT_SYNC_UPDATED :
										       DT_SYNC_SAME;
	}
	PQclear(res);
	return r;
}

static int pg_sync_gone(void *db, const char *const *names, size_t n, const char *origin, uint64_t now)
{
	const struct pg_num t = pg_num((long long)now);
	struct buf a;
	int r = 0;

	buf_init(&a, NAMES_ARRAY_MAX);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = pg_array_text(&a, names[i], strlen(names[i]));
	if (r == 0) {
		const struct pg_param p[] = { PG_TEXT(pg_array_end(&a)), PG_TEXT(origin), PG_TEXT(t.s) };

		r = run(db, "WITH gone AS (DELETE FROM dialtests WHERE file IS NOT NULL AND (origin = $2 OR origin IS NULL)"
			    " AND name <> ALL ($1::text[]) RETURNING id, file)"
			    " INSERT INTO dialtest_changes(dialtest, ts, actor, action)"
			    " SELECT id, $3::bigint, 'file:' || file, 'deleted' FROM gone", p, ARRAY_SIZE(p), NULL);
	}
	buf_free(&a);
	return r;
}

static void pg_close(void *db)
{
	struct pgdialtests *p = db;

	pg_link_free(&p->v.link);
	free(p);
}

static const struct dt_store_ops dt_store_pg = {
	.name = "PostgreSQL", .begin = pg_begin, .end = pg_end, .version = pg_version, .each = pg_each,
	.history = pg_history, .put = pg_put, .remove = pg_remove, .add_change = pg_add_change,
	.sync_file = pg_sync_file, .sync_gone = pg_sync_gone, .close = pg_close,
};

int dt_store_pg_open(const char *url, const char *password_file, struct dt_store *ret)
{
	struct pgdialtests *p = calloc(1, sizeof(*p));
	int r = p ? pg_link_start(&p->v.link, &(struct pg_conf){ .url = url, .password_file = password_file }, schema, NULL)
		  : -ENOMEM;

	if (r < 0) {
		free(p);
		return r;
	}
	p->v.table = "dialtests_version";
	*ret = (struct dt_store){ &dt_store_pg, p };
	return 0;
}

/* A statement that inserts a row or nothing: 1 when it did. */
static int inserted(struct pgdialtests *p, const char *sql, const struct pg_param *params, int n)
{
	PGresult *res = NULL;
	int r = run(p, sql, params, n, &res);

	if (r == 0)
		r = PQntuples(res) > 0;
	PQclear(res);
	return r;
}

int dt_store_pg_import_row(struct dt_store *s, const struct dt_row *row)
{
	const struct pg_num id = pg_num(row->id), c = pg_num((long long)row->created), u = pg_num((long long)row->updated);
	const struct pg_param p[] = { PG_TEXT(id.s),	 PG_TEXT(row->name),   PG_TEXT(row->definition), PG_TEXT(row->file),
				      PG_TEXT(row->author), PG_TEXT(c.s), PG_TEXT(u.s) };

	return inserted(s->db, "INSERT INTO dialtests(id, name, definition, file, author, created, updated)"
			       " VALUES ($1::bigint, $2, $3, $4, $5, $6::bigint, $7::bigint) ON CONFLICT DO NOTHING RETURNING 1",
			p, ARRAY_SIZE(p));
}

int dt_store_pg_import_change(struct dt_store *s, const struct dt_change *ch)
{
	const struct pg_num id = pg_num(ch->id), t = pg_num(ch->dialtest), ts = pg_num((long long)ch->ts);
	const struct pg_param p[] = { PG_TEXT(id.s),	  PG_TEXT(t.s),	 PG_TEXT(ts.s),
				      PG_TEXT(ch->actor), PG_TEXT(ch->action), PG_TEXT(ch->definition) };

	return inserted(s->db, "INSERT INTO dialtest_changes(id, dialtest, ts, actor, action, definition)"
			       " VALUES ($1::bigint, $2::bigint, $3::bigint, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING 1",
			p, ARRAY_SIZE(p));
}

int dt_store_pg_import_done(struct dt_store *s)
{
	static const char *const tables[] = { "dialtests", "dialtest_changes" };
	char sql[256];
	int r = 0;

	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(tables); i++) {
		(void)snprintf(sql, sizeof(sql), "SELECT setval(pg_get_serial_sequence('%s', 'id'),"
						 " greatest((SELECT max(id) FROM %s), 1))", tables[i], tables[i]);
		r = run(s->db, sql, NULL, 0, NULL);
	}
	if (r == 0)
		r = run(s->db, "UPDATE dialtests_version SET v = v + 1 WHERE id = 1", NULL, 0, NULL);
	return r;
}
