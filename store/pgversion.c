/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>

#include "store/pgversion.h"

int pg_versioned_run(struct pg_versioned *p, const char *sql, const struct pg_param *params, int n, PGresult **ret)
{
	return pg_link_run_tx(&p->link, p->in_tx, sql, params, n, ret);
}

/* The version as the statement before, the table's name, after gives it. */
static int version_of(struct pg_versioned *p, const char *before, const char *after, uint64_t *ret)
{
	PGresult *res = NULL;
	char sql[256];
	int r;

	(void)snprintf(sql, sizeof(sql), "%s%s%s", before, p->table, after);
	r = pg_versioned_run(p, sql, NULL, 0, &res);
	if (r == 0 && ret)
		*ret = PQntuples(res) ? (uint64_t)pg_int(res, 0, 0) : 0;
	PQclear(res);
	return r;
}

int pg_versioned_begin(struct pg_versioned *p, uint64_t *ret)
{
	int r = pg_versioned_run(p, "BEGIN", NULL, 0, NULL);

	if (r < 0)
		return r;
	p->in_tx = true;
	r = version_of(p, "SELECT v FROM ", " WHERE id = 1 FOR UPDATE", ret);
	if (r < 0) {
		(void)pg_versioned_run(p, "ROLLBACK", NULL, 0, NULL);
		p->in_tx = false;
	}
	return r;
}

int pg_versioned_end(struct pg_versioned *p, int r, uint64_t *ret)
{
	int k = r < 0 ? r : version_of(p, "UPDATE ", " SET v = v + 1 WHERE id = 1 RETURNING v", ret);
	int done = pg_versioned_run(p, k < 0 ? "ROLLBACK" : "COMMIT", NULL, 0, NULL);

	p->in_tx = false;
	return k < 0 ? k : done;
}

int pg_versioned_get(struct pg_versioned *p, uint64_t *ret)
{
	return version_of(p, "SELECT v FROM ", " WHERE id = 1", ret);
}
