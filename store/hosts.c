/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>

#include "common/db.h"
#include "common/log.h"
#include "common/macro.h"
#include "store/hosts.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS hosts(id TEXT PRIMARY KEY, hostname TEXT, first_seen INTEGER,"
	" last_seen INTEGER, batches INTEGER DEFAULT 0, records INTEGER DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS probe_state(agent TEXT NOT NULL, name TEXT NOT NULL, host TEXT NOT NULL,"
	" type TEXT, status TEXT NOT NULL, latency_us INTEGER, message TEXT, ts INTEGER NOT NULL,"
	" PRIMARY KEY(agent, name)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS agent_conflicts(agent TEXT NOT NULL, host TEXT NOT NULL, other_host TEXT NOT NULL,"
	" seq INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, count INTEGER NOT NULL,"
	" PRIMARY KEY(agent, host, other_host)) WITHOUT ROWID;";

/* Columns added after the first release, each with why. */
static const struct {
	const char *table, *column, *sql;
} added[] = {
	{ "hosts", "inventory", "ALTER TABLE hosts ADD COLUMN inventory TEXT" },
	{ "hosts", "labels", "ALTER TABLE hosts ADD COLUMN labels TEXT" },
	/* results in a row with the same status: what probe alert rules count */
	{ "probe_state", "streak", "ALTER TABLE probe_state ADD COLUMN streak INTEGER NOT NULL DEFAULT 1" },
	/* the collector's own identity (its dial tests' results), which is no agent's host */
	{ "hosts", "collector", "ALTER TABLE hosts ADD COLUMN collector INTEGER NOT NULL DEFAULT 0" },
	/* under TLS, the certificate the id was first stored with; a batch with another is refused */
	{ "hosts", "certificate", "ALTER TABLE hosts ADD COLUMN certificate TEXT" },
};

int hosts_schema(sqlite3 *meta)
{
	int r = db_exec(meta, schema);

	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(added); i++)
		if (!db_has_column(meta, added[i].table, added[i].column))
			r = db_exec(meta, added[i].sql);
	return r;
}

enum { W_SEEN, W_INVENTORY, W_NAME, W_CERTIFICATE, W_CONFLICT, W_PROBE, _W_MAX };

static const char *const writer_sql[_W_MAX] = {
	[W_SEEN] = "INSERT INTO hosts(id, hostname, first_seen, last_seen, batches, records, collector, certificate)"
		   " VALUES (?1,?2,?3,?3,?4,?5,?6,?7) ON CONFLICT(id) DO UPDATE SET hostname=?2,"
		   " last_seen=max(last_seen, ?3), batches=batches+?4, records=records+?5, collector=?6,"
		   " certificate=coalesce(certificate, ?7)",
	[W_INVENTORY] = "UPDATE hosts SET inventory=?2, labels=?3 WHERE id=?1",
	[W_NAME] = "SELECT hostname, collector FROM hosts WHERE id=?1",
	[W_CERTIFICATE] = "SELECT certificate FROM hosts WHERE id=?1",
	[W_CONFLICT] = "INSERT INTO agent_conflicts(agent, host, other_host, seq, first_seen, last_seen, count)"
		       " VALUES (?1,?2,?3,?4,?5,?5,1) ON CONFLICT(agent, host, other_host) DO UPDATE SET seq=?4,"
		       " last_seen=max(last_seen, ?5), count=count+1",
	[W_PROBE] = "INSERT INTO probe_state(agent, name, host, type, status, latency_us, message, ts)"
		    " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(agent, name) DO UPDATE SET host=excluded.host,"
		    " type=excluded.type, status=excluded.status, latency_us=excluded.latency_us,"
		    " message=excluded.message, ts=excluded.ts,"
		    " streak=CASE WHEN probe_state.status=excluded.status THEN probe_state.streak+1 ELSE 1 END"
		    " WHERE excluded.ts >= probe_state.ts RETURNING streak",
};

struct hosts_writer {
	sqlite3 *meta;
	sqlite3_stmt *st[_W_MAX];
};

int hosts_writer_open(sqlite3 *meta, struct hosts_writer **ret)
{
	struct hosts_writer *w = calloc(1, sizeof(*w));
	int r = w ? db_prepare_all(meta, writer_sql, _W_MAX, w->st) : -ENOMEM;

	if (r < 0) {
		free(w);
		return r;
	}
	w->meta = meta;
	*ret = w;
	return 0;
}

void hosts_writer_free(struct hosts_writer *w)
{
	if (!w)
		return;
	db_finalize_all(w->st, _W_MAX);
	free(w);
}

int hosts_writer_seen(struct hosts_writer *w, const char *agent, const char *host, int64_t received, int64_t batches,
		      int64_t records, bool collector, const char *certificate)
{
	sqlite3_stmt *st = w->st[W_SEEN];

	sqlite3_bind_text(st, 1, agent, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, host, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, received);
	sqlite3_bind_int64(st, 4, batches);
	sqlite3_bind_int64(st, 5, records);
	sqlite3_bind_int(st, 6, collector);
	sqlite3_bind_text(st, 7, certificate, -1, SQLITE_TRANSIENT);
	return db_step_done(w->meta, st);
}

int hosts_writer_inventory(struct hosts_writer *w, const char *agent, const char *inventory, const char *labels)
{
	sqlite3_stmt *st = w->st[W_INVENTORY];

	sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, inventory, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, labels, -1, SQLITE_STATIC);
	return db_step_done(w->meta, st);
}

/* The text of column 0 of w's statement i for agent into out; false if there is no row or no text. */
static bool lookup(struct hosts_writer *w, int i, const char *agent, char *out, size_t size, bool *ret_flag)
{
	sqlite3_stmt *st = w->st[i];
	const unsigned char *v = NULL;

	sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		v = sqlite3_column_text(st, 0);
		if (v)
			(void)snprintf(out, size, "%s", (const char *)v);
		if (ret_flag)
			*ret_flag = sqlite3_column_int(st, 1);
	}
	(void)sqlite3_reset(st);
	return v != NULL;
}

bool hosts_writer_name(struct hosts_writer *w, const char *agent, char *name, size_t size, bool *ret_collector)
{
	bool collector = false, known = lookup(w, W_NAME, agent, name, size, &collector);

	if (ret_collector)
		*ret_collector = collector;
	return known;
}

bool hosts_writer_certificate(struct hosts_writer *w, const char *agent, char *out, size_t size)
{
	return lookup(w, W_CERTIFICATE, agent, out, size, NULL);
}

int hosts_writer_conflict(struct hosts_writer *w, const char *agent, const char *host, const char *other_host,
			  uint64_t seq, uint64_t when)
{
	sqlite3_stmt *st = w->st[W_CONFLICT];

	sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, other_host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)seq);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)when);
	return db_step_done(w->meta, st);
}

int hosts_writer_probe(struct hosts_writer *w, const char *agent, const char *host, const struct probe_row *p,
		       bool *ret_noteworthy)
{
	sqlite3_stmt *st = w->st[W_PROBE];
	int rc;

	sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->name, (int)p->name_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, p->type, (int)p->type_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, p->status, (int)p->status_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)p->latency_us);
	sqlite3_bind_text(st, 7, p->message, (int)p->message_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)p->ts);
	rc = sqlite3_step(st);
	/* A new streak (its status changed) or a result not ok is what an alert rule may act on. */
	if (rc == SQLITE_ROW && (sqlite3_column_int64(st, 0) == 1 || !probe_row_ok(p)))
		*ret_noteworthy = true;
	while (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return log_error_errno(db_errno(rc), "storage: probe state of %s: %s", agent, sqlite3_errmsg(w->meta));
	return 0;
}

static struct bytes column_bytes(sqlite3_stmt *st, int col)
{
	const unsigned char *v = sqlite3_column_text(st, col);

	return (struct bytes){ v ? (const char *)v : "", (size_t)sqlite3_column_bytes(st, col) };
}

/* Steps st until fn answers non-zero or the rows end; finalizes it. */
static int each_row(sqlite3_stmt *st, int (*row)(sqlite3_stmt *st, void *ctx), void *ctx)
{
	int r = 0, rc;

	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = row(st, ctx);
	if (r == 0 && rc != SQLITE_DONE)
		r = db_errno(rc);
	sqlite3_finalize(st);
	return r;
}

struct host_fn {
	int (*fn)(const struct host_row *h, void *ctx);
	void *ctx;
};

static int host_of_row(sqlite3_stmt *st, void *ctx)
{
	const struct host_fn *f = ctx;
	struct host_row h = { .id = (const char *)sqlite3_column_text(st, 0), .hostname = column_bytes(st, 1),
			      .first_seen = (uint64_t)sqlite3_column_int64(st, 2),
			      .last_seen = (uint64_t)sqlite3_column_int64(st, 3),
			      .batches = (uint64_t)sqlite3_column_int64(st, 4),
			      .records = (uint64_t)sqlite3_column_int64(st, 5),
			      .inventory = (const char *)sqlite3_column_text(st, 6),
			      .labels = (const char *)sqlite3_column_text(st, 7),
			      .certificate = (const char *)sqlite3_column_text(st, 12),
			      .collector = sqlite3_column_int(st, 13) };

	for (int i = 0; i < 4; i++)
		h.probes[i] = (uint64_t)sqlite3_column_int64(st, 8 + i);
	return f->fn(&h, f->ctx);
}

#define HOST_COLUMNS "SELECT id, hostname, first_seen, coalesce(last_seen, 0), batches, records, inventory, labels,"
#define PROBE_COUNTS                                                                            \
	" (SELECT count(*) FROM probe_state p WHERE p.agent = h.id AND status = 'ok'),"       \
	" (SELECT count(*) FROM probe_state p WHERE p.agent = h.id AND status = 'warning'),"  \
	" (SELECT count(*) FROM probe_state p WHERE p.agent = h.id AND status = 'critical')," \
	" (SELECT count(*) FROM probe_state p WHERE p.agent = h.id AND status = 'unknown'),"
#define HOSTS_OF " certificate, collector FROM hosts h"
#define ONE_HOST " WHERE id=?1 OR hostname=?1 ORDER BY collector, last_seen DESC LIMIT 1"
#define ALL_HOSTS " WHERE (?3 OR collector=0) AND (?2 IS NULL OR coalesce(hostname, id) GLOB ?2) ORDER BY hostname, id"

int hosts_each(sqlite3 *meta, const struct host_filter *f, int (*fn)(const struct host_row *h, void *ctx), void *ctx)
{
	static const char *const sql[2][2] = {
		{ HOST_COLUMNS PROBE_COUNTS HOSTS_OF ALL_HOSTS, HOST_COLUMNS PROBE_COUNTS HOSTS_OF ONE_HOST },
		{ HOST_COLUMNS " 0, 0, 0, 0," HOSTS_OF ALL_HOSTS, HOST_COLUMNS " 0, 0, 0, 0," HOSTS_OF ONE_HOST },
	};
	struct host_fn hf = { fn, ctx };
	sqlite3_stmt *st;
	int r = db_prepare(meta, sql[f->no_probe_counts][f->id_or_name != NULL], &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, f->id_or_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, f->name_glob, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, f->with_collector);
	return each_row(st, host_of_row, &hf);
}

struct probe_fn {
	int (*fn)(const struct probe_state_row *p, void *ctx);
	void *ctx;
};

static int probe_of_row(sqlite3_stmt *st, void *ctx)
{
	const struct probe_fn *f = ctx;
	struct probe_state_row p = { .host = column_bytes(st, 0), .name = column_bytes(st, 1),
				     .type = column_bytes(st, 2), .status = column_bytes(st, 3),
				     .latency_us = sqlite3_column_int64(st, 4), .message = column_bytes(st, 5),
				     .ts = (uint64_t)sqlite3_column_int64(st, 6),
				     .agent = (const char *)sqlite3_column_text(st, 7),
				     .streak = (uint64_t)sqlite3_column_int64(st, 8),
				     .host_last_seen = (uint64_t)sqlite3_column_int64(st, 9),
				     .collector = sqlite3_column_int(st, 10) != 0,
				     .labels = (const char *)sqlite3_column_text(st, 11) };

	return f->fn(&p, f->ctx);
}

int hosts_probes_each(sqlite3 *meta, const struct probe_state_filter *f,
		      int (*fn)(const struct probe_state_row *p, void *ctx), void *ctx)
{
	struct probe_fn pf = { fn, ctx };
	const char *binds[] = { f->host, f->agent, f->status, f->name_glob, f->host_glob, f->type };
	sqlite3_stmt *st;
	int r = db_prepare(meta,
			   "SELECT p.host, p.name, p.type, p.status, p.latency_us, p.message, p.ts, p.agent, p.streak,"
			   " coalesce(h.last_seen, 0), coalesce(h.collector, 0), h.labels FROM probe_state p LEFT JOIN hosts h ON h.id=p.agent"
			   " WHERE (?1 IS NULL OR p.host=?1 OR p.agent=?1) AND (?2 IS NULL OR p.agent=?2)"
			   " AND (?3 IS NULL OR p.status=?3) AND (?4 IS NULL OR p.name GLOB ?4)"
			   " AND (?5 IS NULL OR p.host GLOB ?5) AND (?6 IS NULL OR p.type=?6) ORDER BY p.host, p.name",
			   &st);

	if (r < 0)
		return r;
	for (int i = 0; i < (int)ARRAY_SIZE(binds); i++)
		sqlite3_bind_text(st, i + 1, binds[i], -1, SQLITE_STATIC);
	return each_row(st, probe_of_row, &pf);
}

int hosts_conflicts_each(sqlite3 *meta, const char *agent, uint64_t since_us,
			 int (*fn)(const struct agent_conflict *c, void *ctx), void *ctx)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(meta,
			       "SELECT agent, (SELECT group_concat(h, ', ') FROM (SELECT host AS h FROM agent_conflicts a"
			       " WHERE a.agent=c.agent UNION SELECT other_host FROM agent_conflicts b WHERE b.agent=c.agent)),"
			       " max(seq), min(first_seen), max(last_seen), sum(count) FROM agent_conflicts c"
			       " WHERE last_seen>=?1 AND (?2 IS NULL OR agent=?2) GROUP BY agent ORDER BY agent", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)since_us);
	sqlite3_bind_text(st, 2, agent, -1, SQLITE_STATIC);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct agent_conflict c = { .agent = (const char *)sqlite3_column_text(st, 0),
					    .hosts = (const char *)sqlite3_column_text(st, 1),
					    .seq = (uint64_t)sqlite3_column_int64(st, 2),
					    .first_seen = (uint64_t)sqlite3_column_int64(st, 3),
					    .last_seen = (uint64_t)sqlite3_column_int64(st, 4),
					    .count = (uint64_t)sqlite3_column_int64(st, 5) };
		r = fn(&c, ctx);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_errno(rc);
	sqlite3_finalize(st);
	return r;
}
