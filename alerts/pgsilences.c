/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/silences.h"
#include "common/macro.h"
#include "store/pg.h"

/* The silences in the database the collectors share: silences.h's store, its SQL on PostgreSQL. */
struct pgsilences {
	struct pg_link link; /* connected again at the next call after the server went away */
};

static int schema(PGconn *c, void *ctx)
{
	static const char sql[] =
		"CREATE TABLE IF NOT EXISTS silences(id bigserial PRIMARY KEY, matchers text NOT NULL, starts bigint NOT NULL,"
		" ends bigint NOT NULL, creator text NOT NULL, comment text NOT NULL, created bigint NOT NULL,"
		" every bigint NOT NULL DEFAULT 0, until bigint NOT NULL DEFAULT 0)";

	(void)ctx;
	return pg_schema(c, sql);
}

int silence_store_pg_open(const char *url, const char *password_file, void **ret)
{
	struct pgsilences *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	r = pg_link_start(&p->link, &(struct pg_conf){ .url = url, .password_file = password_file }, schema, NULL);
	if (r < 0) {
		free(p);
		return r;
	}
	*ret = p;
	return 0;
}

static void pg_close(void *db)
{
	struct pgsilences *p = db;

	if (!p)
		return;
	pg_link_free(&p->link);
	free(p);
}

/* sql with params on p's connection (made again if it had gone): its rows into *ret, or NULL ret. */
static int run(struct pgsilences *p, const char *sql, const struct pg_param *params, int n, PGresult **ret)
{
	return pg_link_run(&p->link, sql, params, n, ret);
}

static int pg_add(void *db, const struct silence_rec *s, int64_t *ret_id)
{
	const struct pg_num starts = pg_num((long long)s->t.starts), ends = pg_num((long long)s->t.ends),
			    every = pg_num((long long)s->t.every), until = pg_num((long long)s->t.until),
			    created = pg_num((long long)s->created);
	const struct pg_param p[] = { PG_TEXT(s->matchers), PG_TEXT(starts.s), PG_TEXT(ends.s), PG_TEXT(every.s),
				      PG_TEXT(until.s), PG_TEXT(s->creator), PG_TEXT(s->comment), PG_TEXT(created.s) };
	PGresult *res = NULL;
	int r = run(db, "INSERT INTO silences(matchers, starts, ends, every, until, creator, comment, created)"
			" VALUES ($1, $2::bigint, $3::bigint, $4::bigint, $5::bigint, $6, $7, $8::bigint) RETURNING id",
		    p, ARRAY_SIZE(p), &res);

	if (r == 0)
		*ret_id = pg_int(res, 0, 0);
	PQclear(res);
	return r;
}

static int pg_expire(void *db, int64_t id, uint64_t now)
{
	const struct pg_num i = pg_num(id), t = pg_num((long long)now);
	const struct pg_param p[] = { PG_TEXT(i.s), PG_TEXT(t.s) };
	PGresult *res = NULL;
	/* A recurring silence ends for good: no window from now on. */
	int r = run(db, "UPDATE silences SET ends = least(ends, $2::bigint),"
			" until = CASE WHEN every > 0 THEN $2::bigint ELSE until END WHERE id = $1::bigint"
			" AND (every = 0 AND ends > $2::bigint OR every > 0 AND until > $2::bigint) RETURNING id",
		    p, ARRAY_SIZE(p), &res);

	if (r == 0 && PQntuples(res) == 0)
		r = -ENOENT;
	PQclear(res);
	return r;
}

static int pg_each(void *db, enum silence_pick pick, int64_t id, uint64_t now,
		   int (*fn)(const struct silence_rec *s, void *ctx), void *ctx)
{
	static const char *const where[] = {
		[SILENCE_ONE] = "id = $1::bigint",
		[SILENCE_NOT_OVER] = "(every = 0 AND ends > $2::bigint) OR (every > 0 AND until > $2::bigint)",
		[SILENCE_ALL] = "true",
		[SILENCE_IN_FORCE] = "starts <= $2::bigint AND (every = 0 AND ends > $2::bigint OR every > 0 AND until > $2::bigint)",
		[SILENCE_EVERY] = "true",
	};
	const struct pg_num i = pg_num(id), t = pg_num((long long)now);
	const struct pg_param p[] = { PG_TEXT(i.s), PG_TEXT(t.s) };
	char sql[512];
	PGresult *res = NULL;
	int r;

	/* Both parameters typed in every statement, used or not: the server must know each one's type. */
	(void)snprintf(sql, sizeof(sql), "SELECT id, matchers, creator, comment, created, starts, ends, every, until"
					 " FROM silences WHERE $1::bigint = $1::bigint AND $2::bigint = $2::bigint AND (%s)"
					 " ORDER BY id %s", where[pick], silence_order(pick));
	r = run(db, sql, p, ARRAY_SIZE(p), &res);
	for (int k = 0; r == 0 && k < PQntuples(res); k++) {
		struct silence_rec rec = {
			.id = pg_int(res, k, 0), .matchers = PQgetvalue(res, k, 1), .creator = PQgetvalue(res, k, 2),
			.comment = PQgetvalue(res, k, 3), .created = (uint64_t)pg_int(res, k, 4),
			.t = { (uint64_t)pg_int(res, k, 5), (uint64_t)pg_int(res, k, 6), (uint64_t)pg_int(res, k, 7),
			       (uint64_t)pg_int(res, k, 8) },
		};

		r = fn(&rec, ctx);
	}
	PQclear(res);
	return r < 0 ? r : 0;
}

static int pg_put(void *db, const struct silence_rec *s)
{
	const struct pg_num id = pg_num(s->id), starts = pg_num((long long)s->t.starts), ends = pg_num((long long)s->t.ends),
			    every = pg_num((long long)s->t.every), until = pg_num((long long)s->t.until),
			    created = pg_num((long long)s->created);
	const struct pg_param p[] = { PG_TEXT(id.s), PG_TEXT(s->matchers), PG_TEXT(starts.s), PG_TEXT(ends.s),
				      PG_TEXT(every.s), PG_TEXT(until.s), PG_TEXT(s->creator), PG_TEXT(s->comment),
				      PG_TEXT(created.s) };
	PGresult *res = NULL;
	int r = run(db, "INSERT INTO silences(id, matchers, starts, ends, every, until, creator, comment, created)"
			" VALUES ($1::bigint, $2, $3::bigint, $4::bigint, $5::bigint, $6::bigint, $7, $8, $9::bigint)"
			" ON CONFLICT (id) DO NOTHING RETURNING id",
		    p, ARRAY_SIZE(p), &res);
	bool copied = r == 0 && PQntuples(res) == 1;

	PQclear(res);
	/* The ids handed out from now on come after the copied ones. */
	if (r == 0 && copied)
		r = run(db, "SELECT setval(pg_get_serial_sequence('silences', 'id'), (SELECT max(id) FROM silences))", NULL,
			0, NULL);
	return r < 0 ? r : copied;
}

const struct silence_store_ops silence_store_pg = {
	.name = "PostgreSQL", .add = pg_add, .expire = pg_expire, .each = pg_each, .close = pg_close, .put = pg_put,
};
