/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>

#include "common/macro.h"
#include "store/pglease.h"
#include "store/pgpositions.h"

int pgpositions_schema(PGconn *c)
{
	static const char sql[] = "CREATE TABLE IF NOT EXISTS forward_positions(name text PRIMARY KEY, cursor text,"
				  " sent bigint NOT NULL, lag_us bigint NOT NULL, behind bigint NOT NULL,"
				  " updated bigint NOT NULL, error text)";

	return pg_schema(c, sql);
}

#define COLUMNS "name, cursor, sent, lag_us, behind, updated, error"

/* Row i of res (COLUMNS) into *s, its strings valid while res is. */
static void state_of(const PGresult *res, int i, struct forward_state *s)
{
	*s = (struct forward_state){ .name = PQgetvalue(res, i, 0),
				     .cursor = PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1),
				     .sent = (uint64_t)pg_int(res, i, 2), .lag_us = (uint64_t)pg_int(res, i, 3),
				     .behind = (uint64_t)pg_int(res, i, 4), .updated = (uint64_t)pg_int(res, i, 5),
				     .error = PQgetisnull(res, i, 6) ? NULL : PQgetvalue(res, i, 6) };
}

int pgpositions_get(PGconn *c, const char *name, struct forward_state *ret, char *cursor, size_t size)
{
	const struct pg_param p[] = { PG_TEXT(name) };
	PGresult *res = NULL;
	int r = pg_run(c, "SELECT " COLUMNS " FROM forward_positions WHERE name = $1", p, 1, &res);

	if (r == 0 && PQntuples(res) == 1) {
		state_of(res, 0, ret);
		r = ret->cursor && (size_t)PQgetlength(res, 0, 1) >= size ? -EBADMSG : 1;
		(void)snprintf(cursor, size, "%s", ret->cursor && r == 1 ? ret->cursor : "");
		ret->name = ret->error = ret->cursor = NULL;
	}
	PQclear(res);
	return r;
}

int pgpositions_put(PGconn *c, const char *lease, int64_t epoch, const struct forward_state *s)
{
	const struct pg_num sent = pg_num((long long)s->sent), lag = pg_num((long long)s->lag_us),
			    behind = pg_num((long long)s->behind), updated = pg_num((long long)s->updated);
	const struct pg_param p[] = { PG_TEXT(s->name), PG_TEXT(s->cursor), PG_TEXT(sent.s), PG_TEXT(lag.s),
				      PG_TEXT(behind.s), PG_TEXT(updated.s), PG_TEXT(s->error) };
	long long rows = 0;

	return pglease_fenced(c, lease, epoch,
			      "INSERT INTO forward_positions(" COLUMNS ") SELECT $1, $2, $3::bigint, $4::bigint,"
			      " $5::bigint, $6::bigint, $7 WHERE " PGLEASE_FENCE(8, 9)
			      " ON CONFLICT (name) DO UPDATE SET cursor = excluded.cursor, sent = excluded.sent,"
			      " lag_us = excluded.lag_us, behind = excluded.behind, updated = excluded.updated,"
			      " error = excluded.error",
			      p, ARRAY_SIZE(p), &rows);
}

int pgpositions_each(PGconn *c, int (*fn)(const struct forward_state *s, void *ctx), void *ctx)
{
	PGresult *res = NULL;
	int r = pg_run(c, "SELECT " COLUMNS " FROM forward_positions ORDER BY name COLLATE \"C\"", NULL, 0, &res);

	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		struct forward_state s;

		state_of(res, i, &s);
		r = fn(&s, ctx);
	}
	PQclear(res);
	return r;
}
