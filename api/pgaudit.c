/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "api/pgaudit.h"
#include "common/macro.h"
#include "store/pg.h"

struct pgaudit {
	/* The copy runs on the main loop, queries on the API's threads: one at a time on the one connection. */
	pthread_mutex_t lock;
	struct pg_link link;
	struct audit *local;
	int64_t copied; /* the newest local row known to be in the table; -1: not known yet */
	bool in_tx;     /* a copy is open: a lost connection is its end */
	char host[256];
};

/* Rows a transaction copies; a call copies this many pages at most, the rest at the next. */
#define COPY_PAGE 500
#define COPY_PAGES 20

static int schema(PGconn *c, void *ctx)
{
	static const char sql[] =
		"CREATE TABLE IF NOT EXISTS audit_log(seq bigserial PRIMARY KEY, chain text NOT NULL, id bigint NOT NULL,"
		" collector text NOT NULL, ts bigint NOT NULL, \"user\" text NOT NULL, role text NOT NULL,"
		" action text NOT NULL, object text NOT NULL, outcome text NOT NULL, status integer NOT NULL,"
		" source text NOT NULL, detail text NOT NULL, UNIQUE (chain, id));"
		"CREATE INDEX IF NOT EXISTS audit_log_ts ON audit_log(ts)";

	(void)ctx;
	return pg_schema(c, sql);
}

static int run(struct pgaudit *p, const char *sql, const struct pg_param *params, int n, PGresult **ret)
{
	return pg_link_run_tx(&p->link, p->in_tx, sql, params, n, ret);
}

/* The newest id of this chain the table has (0: none). */
static int copied_up_to(struct pgaudit *p, int64_t *ret)
{
	const struct pg_param q[] = { PG_TEXT(audit_name(p->local)) };
	PGresult *res = NULL;
	int r = run(p, "SELECT coalesce(max(id), 0) FROM audit_log WHERE chain = $1", q, 1, &res);

	if (r == 0)
		*ret = pg_int(res, 0, 0);
	PQclear(res);
	return r;
}

/* One page of local rows after the newest copied, in one transaction after every other copier's: how many. */
static int copy_page(struct pgaudit *p)
{
	json_t *items = NULL;
	char *text = NULL;
	int64_t after = 0, last = 0;
	int k, r = run(p, "BEGIN", NULL, 0, NULL);

	if (r < 0)
		return r;
	p->in_tx = true;
	r = run(p, "SELECT pg_advisory_xact_lock(hashtext('vigil-audit-copy'))", NULL, 0, NULL);
	if (r == 0)
		r = copied_up_to(p, &after);
	if (r == 0)
		r = audit_query(p->local, &(struct audit_filter){ .after = after, .limit = COPY_PAGE }, &items, &last);
	if (r == 0 && json_array_size(items)) {
		const struct pg_param q[] = { PG_TEXT(audit_name(p->local)), PG_TEXT(p->host),
					      PG_TEXT(text = json_dumps(items, JSON_COMPACT)) };

		r = text ? run(p, "INSERT INTO audit_log(chain, id, collector, ts, \"user\", role, action, object, outcome,"
				  " status, source, detail) SELECT $1, x.id, $2, x.ts, x.\"user\", x.role, x.action,"
				  " x.object, x.outcome, x.status, x.source, x.detail FROM json_to_recordset($3::json) AS"
				  " x(id bigint, ts bigint, \"user\" text, role text, action text, object text, outcome text,"
				  " status integer, source text, detail text) ORDER BY x.id", q, ARRAY_SIZE(q), NULL)
			 : -ENOMEM;
	}
	k = run(p, r == 0 ? "COMMIT" : "ROLLBACK", NULL, 0, NULL);
	p->in_tx = false;
	if (r == 0)
		r = k < 0 ? k : (int)json_array_size(items);
	if (r >= 0)
		p->copied = r ? last : after;
	free(text);
	json_decref(items);
	return r;
}

/* Rows local retention dropped (below the oldest kept) go from the table too. */
static int drop_retained(struct pgaudit *p)
{
	json_t *first = NULL;
	int64_t last = 0;
	int r = audit_query(p->local, &(struct audit_filter){ .limit = 1 }, &first, &last);

	if (r == 0 && json_array_size(first)) {
		const struct pg_num id = pg_num(last);
		const struct pg_param q[] = { PG_TEXT(audit_name(p->local)), PG_TEXT(id.s) };

		r = run(p, "DELETE FROM audit_log WHERE chain = $1 AND id < $2::bigint", q, ARRAY_SIZE(q), NULL);
	}
	json_decref(first);
	return r;
}

static int copy_locked(struct pgaudit *p)
{
	uint8_t hash[HASH_SIZE];
	int64_t head = 0;
	int n = COPY_PAGE, copied = 0, r = 0;

	/* Nothing recorded here since the last copy: no turn taken among the collectors for it. */
	if (audit_head(p->local, &head, hash) == 0 && head == p->copied)
		return 0;
	for (int i = 0; r == 0 && n == COPY_PAGE && i < COPY_PAGES; i++) {
		n = copy_page(p);
		r = MIN(n, 0);
		copied += MAX(n, 0);
	}
	if (r == 0 && copied)
		r = drop_retained(p);
	return r < 0 ? r : copied;
}

int pgaudit_copy(struct pgaudit *p)
{
	int r;

	pthread_mutex_lock(&p->lock);
	r = copy_locked(p);
	pthread_mutex_unlock(&p->lock);
	return r;
}

static json_t *row_json(const PGresult *res, int i)
{
	return json_pack("{s:I, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "seq",
			 (json_int_t)pg_int(res, i, 0), "chain", PQgetvalue(res, i, 1), "collector", PQgetvalue(res, i, 2),
			 "id", (json_int_t)pg_int(res, i, 3), "ts", (json_int_t)pg_int(res, i, 4), "user",
			 PQgetvalue(res, i, 5), "role", PQgetvalue(res, i, 6), "action", PQgetvalue(res, i, 7), "object",
			 PQgetvalue(res, i, 8), "outcome", PQgetvalue(res, i, 9), "status", (int)pg_int(res, i, 10),
			 "source", PQgetvalue(res, i, 11), "detail", PQgetvalue(res, i, 12));
}

int pgaudit_query(struct pgaudit *p, const struct audit_filter *f, json_t **items, int64_t *last)
{
	const struct pg_num after = pg_num(f->after), since = pg_num((long long)f->since),
			    until = pg_num((long long)f->until), limit = pg_num(f->limit);
	const struct pg_param q[] = { PG_TEXT(after.s), PG_TEXT(since.s), PG_TEXT(until.s), PG_TEXT(f->user),
				      PG_TEXT(f->action), PG_TEXT(limit.s), PG_TEXT(f->object) };
	json_t *arr = json_array();
	PGresult *res = NULL;
	int r;

	pthread_mutex_lock(&p->lock);
	r = arr ? run(p, "SELECT seq, chain, collector, id, ts, \"user\", role, action, object, outcome, status, source,"
			 " detail FROM audit_log WHERE seq > $1::bigint AND ts >= $2::bigint"
			 " AND ($3::bigint = 0 OR ts <= $3::bigint) AND ($4::text IS NULL OR \"user\" = $4)"
			 " AND ($5::text IS NULL OR action = $5) AND ($7::text IS NULL OR strpos(object, $7) > 0"
			 " OR strpos(detail, $7) > 0) ORDER BY seq LIMIT $6::bigint", q, ARRAY_SIZE(q), &res)
		: -ENOMEM;
	pthread_mutex_unlock(&p->lock);
	*last = f->after;
	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		*last = pg_int(res, i, 0);
		r = json_array_append_new(arr, row_json(res, i)) == 0 ? 0 : -ENOMEM;
	}
	PQclear(res);
	if (r < 0) {
		json_decref(arr);
		return r;
	}
	*items = arr;
	return 0;
}

void pgaudit_free(struct pgaudit *p)
{
	if (!p)
		return;
	pg_link_free(&p->link);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int pgaudit_open(const struct storage_conf *c, struct audit *local, struct pgaudit **ret)
{
	struct pgaudit *p = calloc(1, sizeof(*p));
	int r = p ? pg_link_start(&p->link, &(struct pg_conf){ .url = c->url, .password_file = c->password_file }, schema,
				  NULL)
		  : -ENOMEM;

	if (r < 0) {
		free(p);
		return r;
	}
	pthread_mutex_init(&p->lock, NULL);
	p->local = local;
	p->copied = -1;
	if (gethostname(p->host, sizeof(p->host) - 1) < 0)
		(void)snprintf(p->host, sizeof(p->host), "?");
	*ret = p;
	return 0;
}
