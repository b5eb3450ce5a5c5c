/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/macro.h"
#include "common/util.h"
#include "store/chain.h"
#include "store/pgblocks.h"

int pgblocks_schema(PGconn *c, const struct pg_dialect *d)
{
	char sql[3072];

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
		       /* Its place in the chain of the collector's run that stored it (chain.h), and the runs' heads. */
		       "ALTER TABLE blocks ADD COLUMN IF NOT EXISTS chain text, ADD COLUMN IF NOT EXISTS pos bigint,"
		       " ADD COLUMN IF NOT EXISTS prev_hash bytea, ADD COLUMN IF NOT EXISTS hash bytea;"
		       "CREATE INDEX IF NOT EXISTS blocks_chain ON blocks(chain, pos);"
		       /* The streams it holds (the sources: what a search by source: narrows by), chained too. */
		       "ALTER TABLE blocks ADD COLUMN IF NOT EXISTS streams text[];"
		       "CREATE INDEX IF NOT EXISTS blocks_streams ON blocks USING gin (streams);"
		       "CREATE TABLE IF NOT EXISTS block_chains(name text PRIMARY KEY, collector text NOT NULL,"
		       " hash text NOT NULL, started bigint NOT NULL, pos bigint NOT NULL, head bytea NOT NULL,"
		       " day integer NOT NULL);"
		       /* The digest of every block_seqs.digest: one for all the collectors of the database. */
		       "CREATE TABLE IF NOT EXISTS block_digest(id integer PRIMARY KEY CHECK (id = 1), hash text NOT NULL);"
		       "CREATE TABLE IF NOT EXISTS block_seqs(agent bytea NOT NULL, seq bigint NOT NULL,"
		       " day integer NOT NULL, block bigint NOT NULL, digest bytea NOT NULL, host text,"
		       " PRIMARY KEY (agent, seq))",
		       d->xid_now);
	return pg_schema(c, sql);
}

int pgblocks_digest_agree(PGconn *c, enum hash_alg alg, char *theirs, size_t size)
{
	const struct pg_param p[] = { PG_TEXT(hash_name(alg)) };
	PGresult *res = NULL;
	/* The first collector's choice stays: two starting at once both read the one row that went in. */
	int r = pg_run(c, "INSERT INTO block_digest(id, hash) VALUES (1, $1) ON CONFLICT (id) DO NOTHING", p, 1, NULL);

	if (r == 0)
		r = pg_run(c, "SELECT hash FROM block_digest WHERE id = 1", NULL, 0, &res);
	if (r == 0 && PQntuples(res) != 1)
		r = -EIO;
	if (r == 0) {
		(void)snprintf(theirs, size, "%s", PQgetvalue(res, 0, 0));
		r = strcmp(theirs, hash_name(alg)) == 0 ? 0 : -EXDEV;
	}
	PQclear(res);
	return r;
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
	/* A chain whose last block went has none left. */
	if (r == 0)
		r = pg_run(c, "DELETE FROM block_chains WHERE day<$1::integer", p, 1, NULL);
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

int pgblocks_chain_init(struct pgblocks_chain *k, enum hash_alg alg)
{
	uint8_t name[16];
	/* Unique without being kept anywhere: a copied data directory or a cloned machine draws its own. */
	int r = random_bytes(name, sizeof(name));

	*k = (struct pgblocks_chain){ .alg = alg };
	if (r == 0)
		hex_encode(name, sizeof(name), k->name);
	return r;
}

/* A block's streams as the database holds them: valid UTF-8, sorted, each once; the chain hashes them so. */
struct stored_streams {
	const char *v[STORAGE_STREAMS_MAX];
	size_t n;
	char *text;       /* the values, one after another */
	struct buf array; /* the text[] parameter */
};

static int cmp_text(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int streams_make(const struct block_in *b, struct stored_streams *s)
{
	size_t size = 0, at = 0, n = 0;
	int r = 0;

	buf_init(&s->array, 1u << 20);
	for (size_t i = 0; i < b->n_streams; i++)
		size += UTF8_VALID_SIZE(strlen(b->streams[i]));
	s->text = malloc(MAX(size, (size_t)1));
	if (!s->text)
		return -ENOMEM;
	for (size_t i = 0; i < b->n_streams; i++) {
		size_t len = strlen(b->streams[i]);

		s->v[i] = utf8_valid_copy(b->streams[i], len, s->text + at, UTF8_VALID_SIZE(len));
		at += UTF8_VALID_SIZE(len);
	}
	if (b->n_streams)
		qsort(s->v, b->n_streams, sizeof(*s->v), cmp_text);
	for (size_t i = 0; i < b->n_streams; i++)
		if (!n || strcmp(s->v[i], s->v[n - 1]) != 0)
			s->v[n++] = s->v[i];
	s->n = n;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = pg_array_text(&s->array, s->v[i], strlen(s->v[i]));
	return r == 0 && !pg_array_end(&s->array) ? -ENOBUFS : r;
}

static void streams_free(struct stored_streams *s)
{
	free(s->text);
	buf_free(&s->array);
}

/*
 * b's place after the chain's head, and its hash (chain.h). The frame's
 * digest is the chain's own, not b->digest: that one is the own store's
 * (or the migration's), whose algorithm may be another.
 */
static int chain_link(const struct pgblocks_chain *k, uint32_t day, const struct block_in *b, const char *host,
		      const struct stored_streams *streams, uint8_t hash[HASH_SIZE])
{
	uint8_t digest[HASH_SIZE];
	const struct chain_shared_block x = {
		.chain = k->name, .pos = k->pos + 1, .day = day, .agent = b->agent, .seq = b->seq, .host = host,
		.received = b->received_us, .ts_min = b->ts_min, .ts_max = b->ts_max, .records = b->records,
		.raw_len = b->raw_len, .digest = digest, .filter = b->index, .filter_len = b->index ? b->index_len : 0,
		.streams = streams->v, .n_streams = streams->n,
	};
	int r = hash_digest(k->alg, b->zframe, b->zlen, digest);

	return r < 0 ? r : chain_shared_hash(k->alg, k->head, &x, hash);
}

int pgblocks_store(PGconn *c, uint32_t day, struct block_in *b, struct pgblocks_chain *k)
{
	char host_text[UTF8_VALID_SIZE(sizeof(b->conflict_host))];
	const struct pg_num seq = pg_num((long long)b->seq), dayt = pg_num(day), received = pg_num((long long)b->received_us),
			    ts_min = pg_num((long long)b->ts_min), ts_max = pg_num((long long)b->ts_max),
			    records = pg_num(b->records), raw_len = pg_num(b->raw_len);
	/* As text PostgreSQL takes: a name that is not UTF-8 would fail the whole group commit, each retry again. */
	const char *host = b->host ? utf8_valid_copy(b->host, strlen(b->host), host_text, sizeof(host_text)) : NULL;
	const struct pg_num pos = pg_num(k->pos + 1);
	struct stored_streams streams;
	uint8_t hash[HASH_SIZE];
	const struct pg_param key[] = { bytes(b->agent, AGENT_ID_SIZE), PG_TEXT(seq.s) };
	PGresult *res = NULL;
	int r = streams_make(b, &streams);

	if (r == 0)
		r = chain_link(k, day, b, host, &streams, hash);
	/* One round trip: the (agent, seq) row taken, and the block written only if it was (none after a conflict). */
	if (r == 0) {
		const struct pg_param p[] = { key[0], key[1], PG_TEXT(dayt.s), bytes(b->digest, sizeof(b->digest)),
					      PG_TEXT(host), PG_TEXT(received.s), PG_TEXT(ts_min.s), PG_TEXT(ts_max.s),
					      PG_TEXT(records.s), PG_TEXT(raw_len.s), bytes(b->zframe, b->zlen),
					      b->index ? bytes(b->index, b->index_len) : (struct pg_param){ .value = NULL },
					      PG_TEXT(k->name), PG_TEXT(pos.s), bytes(k->head, HASH_SIZE),
					      bytes(hash, HASH_SIZE), PG_TEXT((const char *)streams.array.data) };

		r = pg_run(c, "WITH s AS (INSERT INTO block_seqs(agent, seq, day, block, digest, host)"
			      " VALUES ($1, $2::bigint, $3::integer, nextval('blocks_id'), $4, $5)"
			      " ON CONFLICT (agent, seq) DO NOTHING RETURNING block)"
			      " INSERT INTO blocks(day, id, agent, seq, host, received, ts_min, ts_max, records, raw_len, digest,"
			      " zframe, filter, chain, pos, prev_hash, hash, streams) SELECT $3::integer, s.block, $1, $2::bigint,"
			      " $5, $6::bigint, $7::bigint, $8::bigint, $9::integer, $10::integer, $4, $11, $12::bytea, $13,"
			      " $14::bigint, $15, $16, $17::text[] FROM s RETURNING id",
			   p, ARRAY_SIZE(p), &res);
	}
	streams_free(&streams);
	if (r < 0)
		return r;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return judge_existing(c, b, key);
	}
	b->block_id = pg_int(res, 0, 0);
	b->result = BLOCK_STORED;
	k->pos++;
	memcpy(k->head, hash, HASH_SIZE);
	k->day = day;
	PQclear(res);
	return 0;
}

int pgblocks_chain_commit(PGconn *c, const struct pgblocks_chain *k, int64_t before, const char *collector,
			  uint64_t started_us)
{
	const struct pg_num pos = pg_num(k->pos), was = pg_num(before), started = pg_num((long long)started_us),
			    day = pg_num(k->day);
	const struct pg_param p[] = { PG_TEXT(k->name), PG_TEXT(collector), PG_TEXT(hash_name(k->alg)), PG_TEXT(started.s),
				      PG_TEXT(pos.s), bytes(k->head, HASH_SIZE), PG_TEXT(day.s), PG_TEXT(was.s) };
	long long rows = 0;
	/* Moved on only from where this run left it: another writer of the same chain is refused, not forked. */
	int r = pg_run_count(c, "INSERT INTO block_chains(name, collector, hash, started, pos, head, day)"
				" VALUES ($1, $2, $3, $4::bigint, $5::bigint, $6, $7::integer) ON CONFLICT (name) DO UPDATE"
				" SET pos = excluded.pos, head = excluded.head, day = excluded.day"
				" WHERE block_chains.pos = $8::bigint",
			     p, ARRAY_SIZE(p), &rows);

	return r < 0 ? r : rows == 1 ? 0 : -ESTALE;
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
	char sql[1024], xid[24], id[24], since[24], until[24], lim[16];
	const struct pg_param p[] = { PG_TEXT(xid), PG_TEXT(id), PG_TEXT(q->host), PG_TEXT(since), PG_TEXT(until), PG_TEXT(lim),
				      PG_TEXT(q->source) };
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
		       " AND ts_max >= $4::bigint AND ts_min <= $5::bigint"
		       /* Blocks stored before their streams were (NULL) may hold any. */
		       " AND ($7::text IS NULL OR streams IS NULL OR streams && ARRAY[$7::text, '" STORAGE_STREAM_ANY "'])"
		       " ORDER BY xid %s, id %s LIMIT $6::integer",
		       q->newest_first ? "<=" : ">=", q->newest_first ? "" : " AND xid < ",
		       q->newest_first ? "" : d->xid_horizon, q->newest_first ? "DESC" : "", q->newest_first ? "DESC" : "");
	r = pg_run(c, sql, p, ARRAY_SIZE(p), &res);
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

/* A walk of one chain, page by page, in the order of its places. */
struct walk {
	PGconn *c;
	const char *name;
	enum hash_alg alg;
	int64_t head_pos;
	uint32_t oldest, started_day; /* the oldest day kept; the day the chain's run began */
	int64_t pos, id;              /* the last block's walked (its place, its id), 0 none */
	uint8_t last[HASH_SIZE];
	struct pgstore_chains_check *v;
};

/* A problem counted, and told while fewer than max_problems were. */
static void report(struct pgstore_chains_check *v, uint32_t day, int64_t id, const char *what)
{
	v->problems++;
	if (v->told++ < v->max_problems)
		v->problem(day, id, what, v->userdata);
}

static void tell(struct walk *w, uint32_t day, int64_t id, const char *what)
{
	char text[256];

	(void)snprintf(text, sizeof(text), "chain %s: %s", w->name, what);
	report(w->v, day, id, text);
}

/* Column col of row i, a bytea given as hex, into out of size bytes: 0, or -EUCLEAN when it is not that long. */
static int hex_column(const PGresult *res, int i, int col, uint8_t *out, size_t size)
{
	const char *s = PQgetvalue(res, i, col);

	return !PQgetisnull(res, i, col) && strlen(s) == 2 * size && hex_decode(s, out, size) == 0 ? 0 : -EUCLEAN;
}

/* Column col of row i, a text[] as JSON, into v (pointers into *ret_json, the caller's to json_decref()): how many, -1 for NULL, or -EUCLEAN. */
static int streams_column(const PGresult *res, int i, int col, const char *v[STORAGE_STREAMS_MAX], json_t **ret_json)
{
	json_t *a = PQgetisnull(res, i, col) ? NULL : json_loads(PQgetvalue(res, i, col), 0, NULL);
	size_t k;
	json_t *x;

	*ret_json = a;
	if (PQgetisnull(res, i, col))
		return -1;
	if (!json_is_array(a) || json_array_size(a) > STORAGE_STREAMS_MAX)
		return -EUCLEAN;
	json_array_foreach (a, k, x) {
		if (!json_is_string(x))
			return -EUCLEAN;
		v[k] = json_string_value(x);
	}
	return (int)json_array_size(a);
}

/* Whether row i's block is what its hash says, and comes where it is after the one walked before. */
static int walk_block(struct walk *w, const PGresult *res, int i)
{
	uint8_t agent[AGENT_ID_SIZE], digest[HASH_SIZE], prev[HASH_SIZE], hash[HASH_SIZE], got[HASH_SIZE];
	size_t flen = 0, zlen = 0;
	unsigned char *filter = PQgetisnull(res, i, 11) ? NULL : PQunescapeBytea((const unsigned char *)PQgetvalue(res, i, 11), &flen);
	unsigned char *zframe = PQunescapeBytea((const unsigned char *)PQgetvalue(res, i, 14), &zlen);
	struct chain_shared_block b = {
		.chain = w->name, .pos = pg_int(res, i, 0), .day = (uint32_t)pg_int(res, i, 1), .agent = agent,
		.seq = (uint64_t)pg_int(res, i, 4), .host = PQgetisnull(res, i, 5) ? NULL : PQgetvalue(res, i, 5),
		.received = (uint64_t)pg_int(res, i, 6), .ts_min = (uint64_t)pg_int(res, i, 7),
		.ts_max = (uint64_t)pg_int(res, i, 8), .records = (uint32_t)pg_int(res, i, 9),
		.raw_len = (uint32_t)pg_int(res, i, 10), .digest = digest, .filter = filter, .filter_len = flen,
	};
	int64_t id = pg_int(res, i, 2);
	const char *streams[STORAGE_STREAMS_MAX];
	json_t *json = NULL;
	int n_streams = streams_column(res, i, 15, streams, &json);
	bool formed = hex_column(res, i, 3, agent, sizeof(agent)) == 0 && hex_column(res, i, 12, prev, sizeof(prev)) == 0 &&
		      hex_column(res, i, 13, hash, sizeof(hash)) == 0 && n_streams != -EUCLEAN;
	int r = zframe ? hash_digest(w->alg, zframe, zlen, digest) : -ENOMEM;

	b.streams = n_streams >= 0 ? streams : NULL;
	b.n_streams = n_streams >= 0 ? (size_t)n_streams : 0;
	if (r == 0 && formed)
		r = chain_shared_hash(w->alg, prev, &b, got);
	if (r == 0) {
		static const uint8_t zero[HASH_SIZE];

		w->v->blocks++;
		if (!formed)
			tell(w, b.day, id, "its chain columns are not digests: altered");
		else if (memcmp(got, hash, HASH_SIZE) != 0)
			tell(w, b.day, id, "its frame or columns are not those its hash covers: altered");
		else if (w->pos ? b.pos != w->pos + 1 || memcmp(prev, w->last, HASH_SIZE) != 0
				: b.pos == 1 ? memcmp(prev, zero, HASH_SIZE) != 0 : w->started_day >= w->oldest)
			tell(w, b.day, id, "the block before it is not the one it names: removed, replaced or added there");
		w->pos = b.pos;
		w->id = id;
		memcpy(w->last, formed ? hash : zero, HASH_SIZE);
	}
	PQfreemem(filter);
	PQfreemem(zframe);
	json_decref(json);
	return r;
}

/* The chain's blocks up to its head, a page at a time (each page's frames held at once). */
#define WALK_PAGE 64

static int walk_chain(struct walk *w, const uint8_t head[HASH_SIZE], uint32_t head_day)
{
	int n = WALK_PAGE, r = 0;

	while (r == 0 && n == WALK_PAGE) {
		const struct pg_num after = pg_num(w->pos), after_id = pg_num(w->id), upto = pg_num(w->head_pos),
				    lim = pg_num(WALK_PAGE);
		const struct pg_param p[] = { PG_TEXT(w->name), PG_TEXT(after.s), PG_TEXT(after_id.s), PG_TEXT(upto.s),
					      PG_TEXT(lim.s) };
		PGresult *res = NULL;

		/* By (place, id): a second block at one place (added there) is walked too, never paged over. */
		r = pg_run(w->c, "SELECT pos, day, id, encode(agent, 'hex'), seq, host, received, ts_min, ts_max, records,"
				 " raw_len, filter, encode(prev_hash, 'hex'), encode(hash, 'hex'), zframe,"
				 " array_to_json(streams)::text"
				 " FROM blocks WHERE chain = $1 AND (pos, id) > ($2::bigint, $3::bigint) AND pos <= $4::bigint"
				 " ORDER BY pos, id LIMIT $5::integer",
			   p, ARRAY_SIZE(p), &res);
		n = r == 0 ? PQntuples(res) : 0;
		for (int i = 0; r == 0 && i < n; i++)
			r = walk_block(w, res, i);
		PQclear(res);
	}
	/* Nothing left of a chain whose last day retention dropped; else its last block is its head. */
	if (r == 0 && (w->pos || head_day >= w->oldest) && (w->pos != w->head_pos || memcmp(w->last, head, HASH_SIZE) != 0))
		tell(w, 0, 0, "its last blocks are not there: removed from its end");
	return r;
}

/* Each chain of the catalogue walked; how many into v. */
static int walk_chains(PGconn *c, struct pgstore_chains_check *v, uint32_t oldest)
{
	PGresult *res = NULL;
	int r = pg_run(c, "SELECT name, hash, pos, encode(head, 'hex'), started, day FROM block_chains ORDER BY started, name",
		       NULL, 0, &res);

	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		uint8_t head[HASH_SIZE];
		struct walk w = { .c = c, .name = PQgetvalue(res, i, 0), .head_pos = pg_int(res, i, 2), .oldest = oldest,
				  .started_day = day_of_us((uint64_t)pg_int(res, i, 4)), .v = v };

		v->chains++;
		if (hash_parse(PQgetvalue(res, i, 1), &w.alg) < 0 || hex_column(res, i, 3, head, sizeof(head)) < 0)
			tell(&w, 0, 0, "its catalogue row is not one a collector wrote: altered");
		else
			r = walk_chain(&w, head, (uint32_t)pg_int(res, i, 5));
	}
	PQclear(res);
	return r;
}

/* The blocks no chain vouches for: in none, or past their chain's head. */
static int unchained(PGconn *c, struct pgstore_chains_check *v)
{
	PGresult *res = NULL;
	/* One statement, one snapshot: a chain's blocks and its head commit together. */
	int r = pg_run(c, "SELECT b.day, b.id, count(*) OVER () FROM blocks b LEFT JOIN block_chains k ON k.name = b.chain"
			  " WHERE k.name IS NULL OR b.pos IS NULL OR b.pos < 1 OR b.pos > k.pos ORDER BY b.day, b.id LIMIT 1000",
		       NULL, 0, &res);

	if (r == 0 && PQntuples(res))
		v->unchained = (uint64_t)pg_int(res, 0, 2);
	for (int i = 0; r == 0 && i < PQntuples(res); i++)
		report(v, (uint32_t)pg_int(res, i, 0), pg_int(res, i, 1),
		       "in no collector's chain: added there, or stored before the chains");
	PQclear(res);
	return r;
}

int pgblocks_verify_chains(PGconn *c, struct pgstore_chains_check *v)
{
	PGresult *res = NULL;
	int r = pg_run(c, "SELECT coalesce(min(day), 0) FROM blocks", NULL, 0, &res);
	uint32_t oldest = r == 0 ? (uint32_t)pg_int(res, 0, 0) : 0;

	PQclear(res);
	if (r == 0)
		r = walk_chains(c, v, oldest);
	return r == 0 ? unchained(c, v) : r;
}

int pgblocks_chain_hash_of(PGconn *c, const char *chain, int64_t pos, uint8_t ret_hash[HASH_SIZE])
{
	const struct pg_num at = pg_num(pos);
	const struct pg_param p[] = { PG_TEXT(chain), PG_TEXT(at.s) };
	PGresult *res = NULL;
	int r = pg_run(c, "SELECT encode(hash, 'hex') FROM blocks WHERE chain = $1 AND pos = $2::bigint ORDER BY id LIMIT 1",
		       p, ARRAY_SIZE(p), &res);

	if (r == 0)
		r = PQntuples(res) == 0 ? -ENOENT : hex_column(res, 0, 0, ret_hash, HASH_SIZE);
	PQclear(res);
	return r;
}
