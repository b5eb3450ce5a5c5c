/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/macro.h"
#include "common/util.h"
#include "store/pghosts.h"
#include "store/pgrows.h"

int pghosts_schema(PGconn *c)
{
	static const char sql[] =
		"CREATE TABLE IF NOT EXISTS hosts(id text PRIMARY KEY, hostname text, first_seen bigint, last_seen bigint,"
		" batches bigint NOT NULL DEFAULT 0, records bigint NOT NULL DEFAULT 0, inventory text, labels text,"
		" collector boolean NOT NULL DEFAULT false, certificate text);"
		"CREATE TABLE IF NOT EXISTS probe_state(agent text NOT NULL, name text NOT NULL, host text NOT NULL,"
		" type text, status text NOT NULL, latency_us bigint, message text, ts bigint NOT NULL,"
		" streak bigint NOT NULL DEFAULT 1, PRIMARY KEY (agent, name));"
		"CREATE TABLE IF NOT EXISTS agent_conflicts(agent text NOT NULL, host text NOT NULL, other_host text NOT NULL,"
		" seq bigint NOT NULL, first_seen bigint NOT NULL, last_seen bigint NOT NULL, count bigint NOT NULL,"
		" PRIMARY KEY (agent, host, other_host))";

	return pg_schema(c, sql);
}

/* A host's row is its agent's; a probe's, the agent's and the probe's name. */
static int host_key(const struct pgrow *a, const struct pgrow *b)
{
	return memcmp(a->b->agent, b->b->agent, AGENT_ID_SIZE);
}

static int probe_key(const struct pgrow *a, const struct pgrow *b)
{
	const struct probe_row *p = a->item, *q = b->item;
	size_t common = MIN(p->name_len, q->name_len);
	int k = host_key(a, b);

	if (k == 0)
		k = common ? memcmp(p->name, q->name, common) : 0;
	return k ? k : (p->name_len > q->name_len) - (p->name_len < q->name_len);
}

static int text_or_null(struct buf *a, const char *s)
{
	return pg_array_text(a, s, strlen_or_0(s));
}

/* For a column that holds no NULL: a value a host left out is "". */
static int text_or_empty(struct buf *a, const char *s, size_t len)
{
	return pg_array_text(a, s ? s : "", s ? len : 0);
}

static int add_host(struct buf *col, const struct pgrow *row)
{
	const struct block_in *b = row->b;
	bool stored = b->result == BLOCK_STORED;
	int r = pgrows_agent_column(&col[0], b);

	if (r == 0)
		r = text_or_null(&col[1], b->host);
	if (r == 0)
		r = pg_array_int(&col[2], (long long)b->received_us);
	if (r == 0)
		r = pg_array_int(&col[3], stored);
	if (r == 0)
		r = pg_array_int(&col[4], stored ? b->records : 0);
	if (r == 0)
		r = text_or_null(&col[5], b->local ? "t" : "f");
	if (r == 0)
		r = text_or_null(&col[6], b->certificate);
	/* The inventory of a batch stored now; a duplicate's was stored with it. */
	if (r == 0)
		r = text_or_null(&col[7], stored ? b->inventory : NULL);
	if (r == 0)
		r = text_or_null(&col[8], stored ? b->labels : NULL);
	return r;
}

static int add_probe(struct buf *col, const struct pgrow *row)
{
	const struct probe_row *p = row->item;
	int r = pgrows_agent_column(&col[0], row->b);

	if (r == 0)
		r = text_or_empty(&col[1], p->name, p->name_len);
	if (r == 0)
		r = pgrows_host_column(&col[2], row->b);
	if (r == 0)
		r = pg_array_text(&col[3], p->type, p->type_len);
	if (r == 0)
		r = text_or_empty(&col[4], p->status, p->status_len);
	if (r == 0)
		r = pg_array_int(&col[5], (long long)p->latency_us);
	if (r == 0)
		r = pg_array_text(&col[6], p->message, p->message_len);
	if (r == 0)
		r = pg_array_int(&col[7], (long long)p->ts);
	return r;
}

static const struct pgrows_statement host_seen = {
	"INSERT INTO hosts AS h (id, hostname, first_seen, last_seen, batches, records, collector, certificate,"
	" inventory, labels) SELECT u.id, u.hostname, u.received, u.received, u.batches, u.records, u.collector,"
	" u.certificate, u.inventory, u.labels FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[],"
	" $5::bigint[], $6::boolean[], $7::text[], $8::text[], $9::text[])"
	" AS u(id, hostname, received, batches, records, collector, certificate, inventory, labels)"
	" ON CONFLICT (id) DO UPDATE SET hostname = excluded.hostname, last_seen = greatest(h.last_seen, excluded.last_seen),"
	" batches = h.batches + excluded.batches, records = h.records + excluded.records, collector = excluded.collector,"
	" certificate = coalesce(h.certificate, excluded.certificate),"
	" inventory = CASE WHEN excluded.inventory IS NULL THEN h.inventory ELSE excluded.inventory END,"
	" labels = CASE WHEN excluded.inventory IS NULL THEN h.labels ELSE excluded.labels END",
	9, add_host, host_key, NULL
};

/*
 * A later result of a probe moves its streak on (or starts one); an earlier one (sent late) changes nothing.
 * Answers how many streaks began (a new probe, or a changed status): what an alert rule may act on.
 */
static const struct pgrows_statement probe_latest = {
	"WITH w AS (INSERT INTO probe_state AS p (agent, name, host, type, status, latency_us, message, ts)"
	" SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[],"
	" $8::bigint[]) ON CONFLICT (agent, name) DO UPDATE SET host = excluded.host, type = excluded.type,"
	" status = excluded.status, latency_us = excluded.latency_us, message = excluded.message, ts = excluded.ts,"
	" streak = CASE WHEN p.status = excluded.status THEN p.streak + 1 ELSE 1 END WHERE excluded.ts >= p.ts"
	" RETURNING streak) SELECT count(*) FROM w WHERE streak = 1",
	8, add_probe, probe_key, NULL
};

/* The group's first stored block with probe results says that a streak began (block_may_alert()). */
static void note_streaks(struct block_in *const *blocks, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (blocks[i]->result == BLOCK_STORED && blocks[i]->n_probes) {
			blocks[i]->noteworthy = true;
			return;
		}
}

/* A batch refused because another under its (agent, seq) holds another frame: the two hosts named. */
static int conflict(PGconn *c, const struct block_in *b)
{
	char agent[2 * AGENT_ID_SIZE + 1], other[UTF8_VALID_SIZE(256)];
	const struct pg_num seq = pg_num((long long)b->seq), when = pg_num((long long)b->received_us);
	const struct pg_param p[] = { PG_TEXT(agent), PG_TEXT(b->conflict_host), PG_TEXT(other), PG_TEXT(seq.s),
				      PG_TEXT(when.s) };

	pgrows_agent(b, agent);
	(void)utf8_valid_copy(b->host, strlen_or_0(b->host), other, sizeof(other));
	return pg_run(c, "INSERT INTO agent_conflicts AS a (agent, host, other_host, seq, first_seen, last_seen, count)"
			 " VALUES ($1, $2, $3, $4::bigint, $5::bigint, $5::bigint, 1) ON CONFLICT (agent, host, other_host)"
			 " DO UPDATE SET seq = excluded.seq, last_seen = greatest(a.last_seen, excluded.last_seen),"
			 " count = a.count + 1",
		      p, ARRAY_SIZE(p), NULL);
}

int pghosts_group(PGconn *c, struct block_in *const *blocks, size_t n)
{
	size_t n_hosts = 0, n_probes = 0, order = 0;
	struct pgrow *rows;
	int64_t begun = 0;
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		n_hosts += blocks[i]->result == BLOCK_STORED || blocks[i]->result == BLOCK_DUPLICATE;
		n_probes += blocks[i]->result == BLOCK_STORED ? blocks[i]->n_probes : 0;
	}
	rows = calloc(MAX(n_hosts + n_probes, (size_t)1), sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	/* The hosts' rows, then the probes', each in the order of the group. */
	for (size_t i = 0, h = 0, q = n_hosts; i < n; i++) {
		const struct block_in *b = blocks[i];

		if (b->result != BLOCK_STORED && b->result != BLOCK_DUPLICATE)
			continue;
		rows[h++] = (struct pgrow){ .b = b, .order = order++ };
		for (size_t j = 0; b->result == BLOCK_STORED && j < b->n_probes; j++)
			rows[q++] = (struct pgrow){ .b = b, .item = &b->probes[j], .order = order++ };
	}
	r = pgrows_run(c, &host_seen, rows, n_hosts);
	if (r == 0)
		r = pgrows_run_count(c, &probe_latest, rows + n_hosts, n_probes, &begun);
	if (r == 0 && begun)
		note_streaks(blocks, n);
	for (size_t i = 0; r == 0 && i < n; i++)
		if (blocks[i]->result == BLOCK_CONFLICT)
			r = conflict(c, blocks[i]);
	free(rows);
	return r;
}

int pghosts_certificates(PGconn *c, struct block_in *const *blocks, size_t n)
{
	struct buf ids;
	struct pg_param p[1] = { 0 };
	PGresult *res = NULL;
	int r = 0;

	buf_init(&ids, PGROWS_ARRAY_MAX);
	for (size_t i = 0; r == 0 && i < n; i++) {
		char agent[2 * AGENT_ID_SIZE + 1];

		hex_encode(blocks[i]->agent, AGENT_ID_SIZE, agent);
		if (blocks[i]->certificate)
			r = pg_array_text(&ids, agent, strlen(agent));
	}
	if (r == 0 && ids.len == 0) {
		buf_free(&ids);
		return 0;
	}
	if (r == 0 && !(p[0].value = pg_array_end(&ids)))
		r = -ENOBUFS;
	if (r == 0)
		r = pg_run(c, "SELECT id, certificate FROM hosts WHERE id = ANY($1::text[]) AND certificate IS NOT NULL", p, 1,
			   &res);
	for (int k = 0; r == 0 && k < PQntuples(res); k++) {
		uint8_t agent[AGENT_ID_SIZE];

		if (hex_decode(PQgetvalue(res, k, 0), agent, sizeof(agent)) < 0)
			continue;
		for (size_t i = 0; i < n; i++)
			if (blocks[i]->certificate && memcmp(blocks[i]->agent, agent, sizeof(agent)) == 0)
				(void)snprintf(blocks[i]->bound_certificate, sizeof(blocks[i]->bound_certificate), "%s",
					       PQgetvalue(res, k, 1));
	}
	PQclear(res);
	buf_free(&ids);
	return r;
}

static struct bytes text_of(const PGresult *res, int row, int col)
{
	return (struct bytes){ PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col) };
}

static const char *text_or_none(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

#define HOST_COLUMNS                                                                                         \
	"SELECT h.id, h.hostname, coalesce(h.first_seen, 0), coalesce(h.last_seen, 0), h.batches, h.records," \
	" h.inventory, h.labels, p.ok, p.warning, p.critical, p.unknown, h.certificate, coalesce(h.hostname, h.id)," \
	" h.collector"
#define HOST_COUNTS(counted)                                                                                    \
	" FROM hosts h LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE status = 'ok') AS ok,"                    \
	" count(*) FILTER (WHERE status = 'warning') AS warning, count(*) FILTER (WHERE status = 'critical')"     \
	" AS critical, count(*) FILTER (WHERE status = 'unknown') AS unknown FROM probe_state s"                   \
	" WHERE s.agent = h.id AND " counted ") p ON true"

int pghosts_each(PGconn *c, const struct host_filter *f, int (*fn)(const struct host_row *h, void *ctx), void *ctx)
{
	char like[512];
	const char *counted = f->no_probe_counts ? "f" : "t", *collector = f->with_collector ? "t" : "f";
	const struct pg_param one[] = { PG_TEXT(f->id_or_name), PG_TEXT(counted) };
	const struct pg_param all[] = { PG_TEXT(like), PG_TEXT(collector), PG_TEXT(counted) };
	PGresult *res = NULL;
	int r;

	pgrows_like_of_glob(f->name_glob, like, sizeof(like));
	if (f->id_or_name)
		r = pg_run(c, HOST_COLUMNS HOST_COUNTS("$2::boolean") " WHERE h.id = $1 OR h.hostname = $1"
			      " ORDER BY h.collector, h.last_seen DESC NULLS LAST LIMIT 1", one, ARRAY_SIZE(one), &res);
	else
		r = pg_run(c, HOST_COLUMNS HOST_COUNTS("$3::boolean") " WHERE ($2::boolean OR NOT h.collector)"
			      " AND coalesce(h.hostname, h.id) LIKE $1 ORDER BY h.hostname COLLATE \"C\" NULLS FIRST,"
			      " h.id COLLATE \"C\"", all, ARRAY_SIZE(all), &res);
	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		struct host_row h = { .id = PQgetvalue(res, i, 0), .hostname = text_of(res, i, 1),
				      .first_seen = (uint64_t)pg_int(res, i, 2), .last_seen = (uint64_t)pg_int(res, i, 3),
				      .batches = (uint64_t)pg_int(res, i, 4), .records = (uint64_t)pg_int(res, i, 5),
				      .inventory = text_or_none(res, i, 6), .labels = text_or_none(res, i, 7),
				      .certificate = text_or_none(res, i, 12),
				      .collector = strcmp(PQgetvalue(res, i, 14), "t") == 0 };

		for (int k = 0; k < 4; k++)
			h.probes[k] = (uint64_t)pg_int(res, i, 8 + k);
		if (pgrows_glob_passes(f->name_glob, PQgetvalue(res, i, 13)))
			r = fn(&h, ctx);
	}
	PQclear(res);
	return r;
}

int pghosts_probes_each(PGconn *c, const struct probe_state_filter *f,
			int (*fn)(const struct probe_state_row *p, void *ctx), void *ctx)
{
	char name_like[512], host_like[512];
	const struct pg_param p[] = { PG_TEXT(f->host), PG_TEXT(f->agent), PG_TEXT(f->status),
				      PG_TEXT(name_like), PG_TEXT(host_like), PG_TEXT(f->type) };
	PGresult *res = NULL;
	int r;

	pgrows_like_of_glob(f->name_glob, name_like, sizeof(name_like));
	pgrows_like_of_glob(f->host_glob, host_like, sizeof(host_like));
	r = pg_run(c, "SELECT p.host, p.name, coalesce(p.type, ''), p.status, coalesce(p.latency_us, 0),"
		      " coalesce(p.message, ''), p.ts, p.agent, p.streak, coalesce(h.last_seen, 0), coalesce(h.collector, false),"
		      " h.labels"
		      " FROM probe_state p LEFT JOIN hosts h ON h.id = p.agent"
		      " WHERE ($1::text IS NULL OR p.host = $1 OR p.agent = $1) AND ($2::text IS NULL OR p.agent = $2)"
		      " AND ($3::text IS NULL OR p.status = $3) AND p.name LIKE $4 AND p.host LIKE $5"
		      " AND ($6::text IS NULL OR p.type = $6) ORDER BY p.host COLLATE \"C\", p.name COLLATE \"C\"",
		   p, ARRAY_SIZE(p), &res);
	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		struct probe_state_row s = { .host = text_of(res, i, 0), .name = text_of(res, i, 1),
					     .type = text_of(res, i, 2), .status = text_of(res, i, 3),
					     .latency_us = pg_int(res, i, 4), .message = text_of(res, i, 5),
					     .ts = (uint64_t)pg_int(res, i, 6), .agent = PQgetvalue(res, i, 7),
					     .streak = (uint64_t)pg_int(res, i, 8),
					     .host_last_seen = (uint64_t)pg_int(res, i, 9),
					     .collector = *PQgetvalue(res, i, 10) == 't',
					     .labels = PQgetisnull(res, i, 11) ? NULL : PQgetvalue(res, i, 11) };

		if (pgrows_glob_passes(f->name_glob, s.name.p) && pgrows_glob_passes(f->host_glob, s.host.p))
			r = fn(&s, ctx);
	}
	PQclear(res);
	return r;
}

int pghosts_conflicts_each(PGconn *c, const char *agent, uint64_t since_us,
			   int (*fn)(const struct agent_conflict *ac, void *ctx), void *ctx)
{
	const struct pg_num since = pg_num((long long)since_us);
	const struct pg_param p[] = { PG_TEXT(since.s), PG_TEXT(agent) };
	PGresult *res = NULL;
	int r = pg_run(c, "SELECT agent, (SELECT string_agg(n, ', ' ORDER BY n COLLATE \"C\") FROM (SELECT host AS n"
		      " FROM agent_conflicts a WHERE a.agent = c.agent UNION SELECT other_host FROM agent_conflicts b"
		      " WHERE b.agent = c.agent) u), max(seq), min(first_seen), max(last_seen), sum(count)"
		      " FROM agent_conflicts c WHERE last_seen >= $1::bigint AND ($2::text IS NULL OR agent = $2)"
		      " GROUP BY agent ORDER BY agent",
		   p, ARRAY_SIZE(p), &res);
	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		struct agent_conflict ac = { .agent = PQgetvalue(res, i, 0), .hosts = PQgetvalue(res, i, 1),
					     .seq = (uint64_t)pg_int(res, i, 2), .first_seen = (uint64_t)pg_int(res, i, 3),
					     .last_seen = (uint64_t)pg_int(res, i, 4), .count = (uint64_t)pg_int(res, i, 5) };

		r = fn(&ac, ctx);
	}
	PQclear(res);
	return r;
}

/* A row's text as valid UTF-8 (struct bytes are not NUL-terminated); freed by the caller. */
static char *valid_dup(struct bytes b)
{
	char *out = malloc(UTF8_VALID_SIZE(b.len));

	return out ? utf8_valid_copy(b.p, b.len, out, UTF8_VALID_SIZE(b.len)) : NULL;
}

int pghosts_copy_host(PGconn *c, const struct host_row *h)
{
	const struct pg_num first = pg_num((long long)h->first_seen), last = pg_num((long long)h->last_seen),
			    batches = pg_num((long long)h->batches), records = pg_num((long long)h->records);
	char *name = valid_dup(h->hostname);
	const struct pg_param p[] = { PG_TEXT(h->id), PG_TEXT(name), PG_TEXT(first.s), PG_TEXT(last.s),
				      PG_TEXT(batches.s), PG_TEXT(records.s), PG_TEXT(h->inventory), PG_TEXT(h->labels),
				      PG_TEXT(h->collector ? "t" : "f"), PG_TEXT(h->certificate) };
	long long rows = 0;
	int r = name ? pg_run_count(c, "INSERT INTO hosts(id, hostname, first_seen, last_seen, batches, records, inventory,"
				       " labels, collector, certificate) VALUES ($1, $2, $3::bigint, $4::bigint, $5::bigint,"
				       " $6::bigint, $7, $8, $9::boolean, $10) ON CONFLICT (id) DO NOTHING",
				    p, ARRAY_SIZE(p), &rows)
		     : -ENOMEM;

	free(name);
	return r < 0 ? r : rows == 1;
}

int pghosts_copy_probe(PGconn *c, const struct probe_state_row *s)
{
	const struct pg_num latency = pg_num(s->latency_us), ts = pg_num((long long)s->ts),
			    streak = pg_num((long long)s->streak);
	char *host = valid_dup(s->host), *name = valid_dup(s->name), *type = valid_dup(s->type);
	char *status = valid_dup(s->status), *message = valid_dup(s->message);
	const struct pg_param p[] = { PG_TEXT(s->agent), PG_TEXT(name), PG_TEXT(host), PG_TEXT(type), PG_TEXT(status),
				      PG_TEXT(latency.s), PG_TEXT(message), PG_TEXT(ts.s), PG_TEXT(streak.s) };
	long long rows = 0;
	int r = host && name && type && status && message
			? pg_run_count(c, "INSERT INTO probe_state(agent, name, host, type, status, latency_us, message, ts,"
					  " streak) VALUES ($1, $2, $3, $4, $5, $6::bigint, $7, $8::bigint, $9::bigint)"
					  " ON CONFLICT (agent, name) DO NOTHING",
				       p, ARRAY_SIZE(p), &rows)
			: -ENOMEM;

	free(host);
	free(name);
	free(type);
	free(status);
	free(message);
	return r < 0 ? r : rows == 1;
}

int pghosts_holds(PGconn *c, const char *agent, const struct bytes *probe)
{
	char *name = probe ? valid_dup(*probe) : NULL;
	const struct pg_param p[] = { PG_TEXT(agent), PG_TEXT(name) };
	PGresult *res = NULL;
	int r = probe && !name ? -ENOMEM
		: probe ? pg_run(c, "SELECT 1 FROM probe_state WHERE agent = $1 AND name = $2", p, 2, &res)
			: pg_run(c, "SELECT 1 FROM hosts WHERE id = $1", p, 1, &res);

	if (r == 0)
		r = PQntuples(res) == 1;
	PQclear(res);
	free(name);
	return r;
}

int pghosts_agents_of(PGconn *c, const char *host, struct buf *agents)
{
	char valid[UTF8_VALID_SIZE(256)];
	const struct pg_param p[] = { PG_TEXT(utf8_valid_copy(host, strnlen(host, 256), valid, sizeof(valid))) };
	PGresult *res = NULL;
	int r = pg_run(c, "SELECT id FROM hosts WHERE id = $1 OR hostname = $1", p, 1, &res);

	buf_reset(agents);
	for (int i = 0; r == 0 && i < PQntuples(res); i++)
		r = pg_array_text(agents, PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0));
	PQclear(res);
	return r == 0 && !pg_array_end(agents) ? -ENOBUFS : r;
}
