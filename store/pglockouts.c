/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "common/macro.h"
#include "store/pglockouts.h"

int pglockouts_schema(PGconn *c)
{
	static const char sql[] = "CREATE TABLE IF NOT EXISTS lockouts(\"user\" text NOT NULL, ts bigint NOT NULL,"
				  " until bigint NOT NULL);"
				  "CREATE INDEX IF NOT EXISTS lockouts_ts ON lockouts(ts)";

	return pg_schema(c, sql);
}

int pglockouts_add(PGconn *c, const char *user, uint64_t now, uint64_t until)
{
	const struct pg_num at = pg_num((long long)now), end = pg_num((long long)until),
			    before = pg_num((long long)(now > LOCKOUTS_KEEP_US ? now - LOCKOUTS_KEEP_US : 0));
	const struct pg_param p[] = { PG_TEXT(user), PG_TEXT(at.s), PG_TEXT(end.s) }, old[] = { PG_TEXT(before.s) };
	int r = pg_run(c, "INSERT INTO lockouts(\"user\", ts, until) VALUES ($1, $2::bigint, $3::bigint)", p,
		       ARRAY_SIZE(p), NULL);

	return r == 0 ? pg_run(c, "DELETE FROM lockouts WHERE ts < $1::bigint", old, 1, NULL) : r;
}

int pglockouts_each(PGconn *c, uint64_t since_us, int (*fn)(const struct lockout_count *l, void *ctx), void *ctx)
{
	const struct pg_num since = pg_num((long long)since_us);
	const struct pg_param p[] = { PG_TEXT(since.s) };
	PGresult *res = NULL;
	int r = pg_run(c, "SELECT \"user\", count(*), max(ts), max(until) FROM lockouts WHERE ts >= $1::bigint"
			  " GROUP BY \"user\" ORDER BY \"user\" COLLATE \"C\"",
		       p, 1, &res);

	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		struct lockout_count l = { .user = PQgetvalue(res, i, 0), .count = (uint64_t)pg_int(res, i, 1),
					   .last = (uint64_t)pg_int(res, i, 2), .until = (uint64_t)pg_int(res, i, 3) };

		r = fn(&l, ctx);
	}
	PQclear(res);
	return r;
}
