/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pglease.h"

int pglease_schema(PGconn *c)
{
	return pg_schema(c, "CREATE TABLE IF NOT EXISTS leases(name text PRIMARY KEY, holder text NOT NULL,"
			    " epoch bigint NOT NULL, since bigint NOT NULL)");
}

/* The advisory lock of name: one key space, hashed from the name (hashtext is PostgreSQL's, stable). */
#define LOCK_KEY "hashtext('vigil-lease:' || $1)"

/* Whether this session holds name's advisory lock already (pg_try_advisory_lock would stack a second). */
static int held(PGconn *c, const char *name)
{
	const struct pg_param p[] = { PG_TEXT(name) };
	PGresult *res = NULL;
	int r = pg_run(c, "SELECT count(*) FROM pg_locks WHERE locktype='advisory' AND pid=pg_backend_pid()"
			  " AND granted AND objid=(" LOCK_KEY ")::oid",
		       p, 1, &res);

	if (r == 0)
		r = pg_int(res, 0, 0) > 0;
	PQclear(res);
	return r;
}

static int epoch_of(PGconn *c, const char *name, int64_t *epoch)
{
	const struct pg_param p[] = { PG_TEXT(name) };
	PGresult *res = NULL;
	int r = pg_run(c, "SELECT epoch FROM leases WHERE name=$1", p, 1, &res);

	if (r == 0 && PQntuples(res) == 1)
		*epoch = pg_int(res, 0, 0);
	else if (r == 0)
		r = -ENOENT;
	PQclear(res);
	return r;
}

int pglease_try(PGconn *c, const char *name, const char *holder, int64_t *epoch)
{
	const struct pg_param p[] = { PG_TEXT(name), PG_TEXT(holder) };
	PGresult *res = NULL;
	int r = held(c, name);

	if (r == 1)
		return epoch_of(c, name, epoch) == 0 ? 1 : -EIO;
	if (r < 0)
		return r;
	r = pg_run(c, "SELECT pg_try_advisory_lock(" LOCK_KEY ")", p, 1, &res);
	if (r == 0 && strcmp(PQgetvalue(res, 0, 0), "t") != 0)
		r = 1; /* another holds it */
	PQclear(res);
	res = NULL;
	if (r)
		return r == 1 ? 0 : r;
	/* Taken: a new epoch, in which only this holder's fenced writes pass. */
	r = pg_run(c, "INSERT INTO leases(name, holder, epoch, since) VALUES ($1, $2, 1,"
		      " (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)"
		      " ON CONFLICT (name) DO UPDATE SET holder=$2, epoch=leases.epoch + 1, since=excluded.since"
		      " RETURNING epoch",
		   p, 2, &res);
	if (r == 0)
		*epoch = pg_int(res, 0, 0);
	PQclear(res);
	return r == 0 ? 1 : r;
}

int pglease_fenced(PGconn *c, const char *name, int64_t epoch, const char *sql, const struct pg_param *params, int n,
		   long long *ret_rows)
{
	struct pg_param all[16];
	char e[24];
	int64_t now = 0;
	int r;

	if (n + 2 > (int)(sizeof(all) / sizeof(all[0])))
		return -E2BIG;
	(void)snprintf(e, sizeof(e), "%" PRId64, epoch);
	memcpy(all, params, sizeof(*params) * (size_t)n);
	all[n] = (struct pg_param)PG_TEXT(e);
	all[n + 1] = (struct pg_param)PG_TEXT(name);
	r = pg_run_count(c, sql, all, n + 2, ret_rows);
	/* Nothing written: nothing to write, or the lease passed on. */
	if (r == 0 && *ret_rows == 0 && (epoch_of(c, name, &now) < 0 || now != epoch))
		r = -ESTALE;
	return r;
}

int pglease_hold(PGconn *c, const char *name, int64_t epoch)
{
	const struct pg_num e = pg_num(epoch);
	const struct pg_param p[] = { PG_TEXT(name), PG_TEXT(e.s) };
	PGresult *res = NULL;
	int r = pg_run(c, "SELECT 1 FROM leases WHERE name=$1 AND epoch=$2::bigint FOR SHARE", p, 2, &res);

	if (r == 0 && PQntuples(res) != 1)
		r = -ESTALE;
	PQclear(res);
	return r;
}

int pglease_release(PGconn *c, const char *name)
{
	const struct pg_param p[] = { PG_TEXT(name) };

	return pg_run(c, "SELECT pg_advisory_unlock(" LOCK_KEY ")", p, 1, NULL);
}
