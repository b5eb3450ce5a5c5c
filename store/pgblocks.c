/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/macro.h"
#include "common/util.h"
#include "store/pgblocks.h"

int pgblocks_schema(PGconn *c, const struct pg_dialect *d)
{
	char sql[2048];

	(void)snprintf(sql, sizeof(sql),
		       "CREATE SEQUENCE IF NOT EXISTS blocks_id;"
		       "CREATE TABLE IF NOT EXISTS blocks(day integer NOT NULL, id bigint NOT NULL,"
		       " xid bigint NOT NULL DEFAULT %s, agent bytea NOT NULL, seq bigint NOT NULL, host text,"
		       " received bigint NOT NULL, ts_min bigint NOT NULL, ts_max bigint NOT NULL,"
		       " records integer NOT NULL, raw_len integer NOT NULL, digest bytea NOT NULL, zframe bytea NOT NULL,"
		       " PRIMARY KEY (day, id)) PARTITION BY RANGE (day);"
		       /* The filter of its tokens (search/tokens.h), which lets a search pass a block by unread. */
		       "ALTER TABLE blocks ADD COLUMN IF NOT EXISTS filter bytea;"
		       "CREATE INDEX IF NOT EXISTS blocks_cursor ON blocks(xid, id);"
		       "CREATE TABLE IF NOT EXISTS block_seqs(agent bytea NOT NULL, seq bigint NOT NULL,"
		       " day integer NOT NULL, block bigint NOT NULL, digest bytea NOT NULL, host text,"
		       " PRIMARY KEY (agent, seq))",
		       d->xid_now);
	return pg_schema(c, sql);
}

int pgblocks_prepare_day(PGconn *c, const struct pg_dialect *d, uint32_t day)
{
	return pg_partition_make(c, d, "blocks", day);
}

/* Drops the partition of day (outside any transaction of the caller's), then its (agent, seq) rows. */
static int drop_day(PGconn *c, uint32_t day)
{
	const struct pg_num dayt = pg_num(day);
	const struct pg_param p[] = { PG_TEXT(dayt.s) };
	/* After the blocks: a crash between the two leaves rows that the next retention deletes. */
	int r = pg_partition_drop(c, "blocks", day);

	if (r == 0)
		r = pg_run(c, "DELETE FROM block_seqs WHERE day=$1::integer", p, 1, NULL);
	return r;
}

int pgblocks_retention(PGconn *c, uint32_t cutoff, unsigned *ret_days)
{
	char cut[16];
	const struct pg_param p[] = { PG_TEXT(cut) };
	PGresult *res = NULL;
	int r;

	*ret_days = 0;
	(void)snprintf(cut, sizeof(cut), "%" PRIu32, cutoff);
	r = pg_partitions_before(c, "blocks", cutoff, &res);
	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		r = drop_day(c, (uint32_t)pg_int(res, i, 0));
		*ret_days += r == 0;
	}
	PQclear(res);
	/* And rows of days whose partition an earlier retention dropped before it could delete them. */
	if (r == 0)
		r = pg_run(c, "DELETE FROM block_seqs WHERE day<$1::integer", p, 1, NULL);
	return r;
}

static struct pg_param bytes(const void *p, size_t len)
{
	return (struct pg_param){ .value = p, .len = (int)len, .binary = true };
}

/* The stored (agent, seq)'s answer: the same frame (a duplicate), or another (a conflict, host named). */
static int judge_existing(PGconn *c, struct block_in *b, const struct pg_param *key)
{
	const struct pg_param params[] = { key[0], key[1], bytes(b->digest, sizeof(b->digest)) };
	PGresult *res = NULL;
	int r = pg_run(c, "SELECT digest = $3, coalesce(host, '') FROM block_seqs WHERE agent=$1 AND seq=$2::bigint",
		       params, 3, &res);

	if (r < 0)
		return r;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return -EIO;
	}
	b->result = strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? BLOCK_DUPLICATE : BLOCK_CONFLICT;
	(void)snprintf(b->conflict_host, sizeof(b->conflict_host), "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	return 0;
}

int pgblocks_store(PGconn *c, uint32_t day, struct block_in *b)
{
	char host_text[UTF8_VALID_SIZE(sizeof(b->conflict_host))];
	const struct pg_num seq = pg_num((long long)b->seq), dayt = pg_num(day), received = pg_num((long long)b->received_us),
			    ts_min = pg_num((long long)b->ts_min), ts_max = pg_num((long long)b->ts_max),
			    records = pg_num(b->records), raw_len = pg_num(b->raw_len);
	/* As text PostgreSQL takes: a name that is not UTF-8 would fail the whole group commit, each retry again. */
	const char *host = b->host ? utf8_valid_copy(b->host, strlen(b->host), host_text, sizeof(host_text)) : NULL;
	const struct pg_param key[] = { bytes(b->agent, AGENT_ID_SIZE), PG_TEXT(seq.s) };
	const struct pg_param p[] = { key[0], key[1], PG_TEXT(dayt.s), bytes(b->digest, sizeof(b->digest)), PG_TEXT(host),
				      PG_TEXT(received.s), PG_TEXT(ts_min.s), PG_TEXT(ts_max.s), PG_TEXT(records.s),
				      PG_TEXT(raw_len.s), bytes(b->zframe, b->zlen),
				      b->index ? bytes(b->index, b->index_len) : (struct pg_param){ .value = NULL } };
	PGresult *res = NULL;
	/* One round trip: the (agent, seq) row taken, and the block written only if it was (none after a conflict). */
	int r = pg_run(c, "WITH s AS (INSERT INTO block_seqs(agent, seq, day, block, digest, host)"
			  " VALUES ($1, $2::bigint, $3::integer, nextval('blocks_id'), $4, $5)"
			  " ON CONFLICT (agent, seq) DO NOTHING RETURNING block)"
			  " INSERT INTO blocks(day, id, agent, seq, host, received, ts_min, ts_max, records, raw_len, digest, zframe,"
			  " filter) SELECT $3::integer, s.block, $1, $2::bigint, $5, $6::bigint, $7::bigint, $8::bigint,"
			  " $9::integer, $10::integer, $4, $11, $12::bytea FROM s RETURNING id",
		       p, ARRAY_SIZE(p), &res);

	if (r < 0)
		return r;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return judge_existing(c, b, key);
	}
	b->block_id = pg_int(res, 0, 0);
	b->result = BLOCK_STORED;
	PQclear(res);
	return 0;
}

int pgblocks_after(PGconn *c, const struct pg_dialect *d, struct pg_cursor *cur, unsigned limit,
		   int (*fn)(const struct pg_block *b, void *ctx), void *ctx, unsigned *ret_n)
{
	char sql[512], xid[24], id[24], lim[16];
	const struct pg_param p[] = { PG_TEXT(xid), PG_TEXT(id), PG_TEXT(lim) };
	PGresult *res = NULL;
	int r, n;

	*ret_n = 0;
	(void)snprintf(xid, sizeof(xid), "%" PRIu64, cur->xid);
	(void)snprintf(id, sizeof(id), "%" PRId64, cur->id);
	(void)snprintf(lim, sizeof(lim), "%u", limit);
	/* Below the horizon every transaction has ended: nothing can still commit there, so nothing is passed over. */
	(void)snprintf(sql, sizeof(sql),
		       "SELECT xid, id, day, agent, seq, records FROM blocks WHERE (xid, id) > ($1::bigint, $2::bigint)"
		       " AND xid < %s ORDER BY xid, id LIMIT $3::integer",
		       d->xid_horizon);
	r = pg_run(c, sql, p, 3, &res);
	if (r < 0)
		return r;
	n = PQntuples(res);
	for (int i = 0; r == 0 && i < n; i++) {
		size_t alen = 0;
		unsigned char *agent = PQunescapeBytea((const unsigned char *)PQgetvalue(res, i, 3), &alen);
		struct pg_block b = { .at = { (uint64_t)pg_int(res, i, 0), pg_int(res, i, 1) },
				      .day = (uint32_t)pg_int(res, i, 2), .agent = agent,
				      .seq = (uint64_t)pg_int(res, i, 4), .records = (uint32_t)pg_int(res, i, 5) };

		r = agent && alen == AGENT_ID_SIZE ? fn(&b, ctx) : -EIO;
		PQfreemem(agent);
		if (r == 0) {
			*cur = b.at;
			(*ret_n)++;
		}
	}
	PQclear(res);
	return r;
}

/* A page's frames, read by (day, id) when the search asks; the last one read is held until the next. */
struct frames {
	PGconn *c;
	PGresult *held;
	unsigned char *frame;
	size_t len;
};

static const void *pg_frame(const struct block_row *b, size_t *ret_len)
{
	struct frames *f = b->frames;
	char id[24], day[16];
	const struct pg_param p[] = { PG_TEXT(day), PG_TEXT(id) };

	PQfreemem(f->frame);
	f->frame = NULL;
	f->len = 0;
	*ret_len = 0;
	(void)snprintf(id, sizeof(id), "%" PRId64, b->id);
	(void)snprintf(day, sizeof(day), "%" PRIu32, b->day);
	/* By the whole key: the day names the partition, which id alone would not. */
	if (pg_run(f->c, "SELECT zframe FROM blocks WHERE day=$1::integer AND id=$2::bigint", p, 2, &f->held) < 0)
		return NULL;
	if (PQntuples(f->held) == 1)
		f->frame = PQunescapeBytea((const unsigned char *)PQgetvalue(f->held, 0, 0), &f->len);
	PQclear(f->held);
	f->held = NULL;
	*ret_len = f->len;
	return f->frame;
}

int pgblocks_select(PGconn *c, const struct pg_dialect *d, const struct pgblocks_select *q,
		    int (*fn)(const struct block_row *b, void *ctx), void *ctx, unsigned *ret_n, struct pg_cursor *ret_last)
{
	char sql[768], xid[24], id[24], since[24], until[24], lim[16];
	const struct pg_param p[] = { PG_TEXT(xid), PG_TEXT(id), PG_TEXT(q->host), PG_TEXT(since), PG_TEXT(until), PG_TEXT(lim) };
	struct frames frames = { .c = c };
	PGresult *res = NULL;
	int r;

	*ret_n = 0;
	(void)snprintf(xid, sizeof(xid), "%" PRIu64, q->from.xid);
	(void)snprintf(id, sizeof(id), "%" PRId64, q->from.id);
	(void)snprintf(since, sizeof(since), "%" PRIu64, q->since);
	(void)snprintf(until, sizeof(until), "%" PRIu64, q->until ? q->until : (uint64_t)INT64_MAX);
	(void)snprintf(lim, sizeof(lim), "%u", q->limit);
	/* In ingest order below the horizon (pgblocks_after()); newest first is a browse, what has committed. */
	(void)snprintf(sql, sizeof(sql),
		       "SELECT xid, id, encode(agent, 'hex'), seq, coalesce(host, ''), received, ts_min, ts_max, records,"
		       " raw_len, day, filter FROM blocks WHERE (xid, id) %s ($1::bigint, $2::bigint)%s%s"
		       " AND ($3::text IS NULL OR host = $3 OR encode(agent, 'hex') = $3)"
		       " AND ts_max >= $4::bigint AND ts_min <= $5::bigint ORDER BY xid %s, id %s LIMIT $6::integer",
		       q->newest_first ? "<=" : ">=", q->newest_first ? "" : " AND xid < ",
		       q->newest_first ? "" : d->xid_horizon, q->newest_first ? "DESC" : "", q->newest_first ? "DESC" : "");
	r = pg_run(c, sql, p, 6, &res);
	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		size_t flen = 0;
		unsigned char *filter = PQgetisnull(res, i, 11) ? NULL :
				       PQunescapeBytea((const unsigned char *)PQgetvalue(res, i, 11), &flen);
		struct block_row b = { .xid = (uint64_t)pg_int(res, i, 0), .id = pg_int(res, i, 1),
				       .agent = PQgetvalue(res, i, 2), .seq = (uint64_t)pg_int(res, i, 3),
				       .host = PQgetvalue(res, i, 4), .received = (uint64_t)pg_int(res, i, 5),
				       .ts_min = (uint64_t)pg_int(res, i, 6), .ts_max = (uint64_t)pg_int(res, i, 7),
				       .records = (uint32_t)pg_int(res, i, 8), .raw_len = (uint32_t)pg_int(res, i, 9),
				       .day = (uint32_t)pg_int(res, i, 10), .index = filter, .index_len = flen,
				       .read_frame = pg_frame, .frames = &frames };

		r = fn(&b, ctx);
		PQfreemem(filter);
		(*ret_n)++;
		*ret_last = (struct pg_cursor){ b.xid, b.id };
	}
	PQfreemem(frames.frame);
	PQclear(res);
	return r;
}

int pgblocks_cursor_check(PGconn *c, const struct pg_cursor *at, uint32_t rec)
{
	char xid[24], id[24], recs[16];
	const struct pg_param p[] = { PG_TEXT(xid), PG_TEXT(id), PG_TEXT(recs) };
	PGresult *res = NULL;
	int r;

	(void)snprintf(xid, sizeof(xid), "%" PRIu64, at->xid);
	(void)snprintf(id, sizeof(id), "%" PRId64, at->id);
	(void)snprintf(recs, sizeof(recs), "%" PRIu32, rec);
	/* A block retention dropped has later ones after it (or none are left); one never written has neither. */
	r = pg_run(c, "SELECT coalesce((SELECT records > $3::integer FROM blocks WHERE xid=$1::bigint AND id=$2::bigint),"
		      " EXISTS (SELECT 1 FROM blocks WHERE (xid, id) > ($1::bigint, $2::bigint)) OR NOT EXISTS (SELECT 1 FROM blocks))",
		   p, 3, &res);
	if (r == 0)
		r = strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? 0 : -ERANGE;
	PQclear(res);
	return r;
}

int pgblocks_records_after(PGconn *c, const struct pg_cursor *at, uint32_t rec, uint64_t *ret)
{
	const struct pg_num xid = pg_num((long long)at->xid), id = pg_num(at->id), recs = pg_num(rec);
	const struct pg_param p[] = { PG_TEXT(xid.s), PG_TEXT(id.s), PG_TEXT(recs.s) };
	PGresult *res = NULL;
	int r = pg_run(c, "SELECT (SELECT coalesce(sum(records), 0) FROM blocks WHERE (xid, id) > ($1::bigint, $2::bigint))"
			  " + coalesce((SELECT greatest(records - $3::bigint - 1, 0) FROM blocks"
			  " WHERE xid = $1::bigint AND id = $2::bigint), 0)",
		       p, 3, &res);

	if (r == 0)
		*ret = (uint64_t)pg_int(res, 0, 0);
	PQclear(res);
	return r;
}

int pgblocks_has(PGconn *c, const struct block_in *b)
{
	char seq[24];
	const struct pg_param p[] = { bytes(b->agent, AGENT_ID_SIZE), PG_TEXT(seq), bytes(b->digest, sizeof(b->digest)) };
	PGresult *res = NULL;
	int r;

	(void)snprintf(seq, sizeof(seq), "%" PRIu64, b->seq);
	/* The frame's digest from the bytes stored, not the digest column written beside them. */
	r = pg_run(c, "SELECT 1 FROM block_seqs s JOIN blocks b ON b.day = s.day AND b.id = s.block"
		      " WHERE s.agent=$1 AND s.seq=$2::bigint AND sha256(b.zframe) = $3",
		   p, 3, &res);
	if (r == 0)
		r = PQntuples(res) == 1;
	PQclear(res);
	return r;
}

/* The arrays of the n copies: their place in v, agent, seq and digest. */
static int copy_columns(const struct pgstore_copy *v, size_t n, struct buf *col)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < n; i++) {
		r = pg_array_int(&col[0], (long long)i);
		if (r == 0)
			r = pg_array_bytes(&col[1], v[i].agent, AGENT_ID_SIZE);
		if (r == 0)
			r = pg_array_int(&col[2], (long long)v[i].seq);
		if (r == 0)
			r = pg_array_bytes(&col[3], v[i].digest, sizeof(v[i].digest));
	}
	for (int k = 0; r == 0 && k < 4; k++)
		r = pg_array_end(&col[k]) ? 0 : -ENOBUFS;
	return r;
}

int pgblocks_check(PGconn *c, struct pgstore_copy *v, size_t n)
{
	struct buf col[4];
	PGresult *res = NULL;
	int r;

	for (int k = 0; k < 4; k++)
		buf_init(&col[k], 64u << 20);
	r = copy_columns(v, n, col);
	if (r == 0) {
		const struct pg_param p[] = { PG_TEXT((const char *)col[0].data), PG_TEXT((const char *)col[1].data),
					      PG_TEXT((const char *)col[2].data), PG_TEXT((const char *)col[3].data) };

		r = pg_run(c, "SELECT v.i, b.id IS NULL, coalesce(sha256(b.zframe) = v.digest, false)"
			      " FROM unnest($1::integer[], $2::bytea[], $3::bigint[], $4::bytea[]) AS v(i, agent, seq, digest)"
			      " LEFT JOIN block_seqs s ON s.agent = v.agent AND s.seq = v.seq"
			      " LEFT JOIN blocks b ON b.day = s.day AND b.id = s.block",
			   p, ARRAY_SIZE(p), &res);
	}
	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		long long k = pg_int(res, i, 0);

		if (k >= 0 && (size_t)k < n)
			v[k].state = *PQgetvalue(res, i, 1) == 't' ? PGSTORE_MISSING
				   : *PQgetvalue(res, i, 2) == 't' ? PGSTORE_SAME : PGSTORE_ALTERED;
	}
	PQclear(res);
	for (int k = 0; k < 4; k++)
		buf_free(&col[k]);
	return r;
}
