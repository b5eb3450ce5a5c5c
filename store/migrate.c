/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "common/buf.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/util.h"
#include "store/migrate.h"
#include "store/shards.h"

/* A transaction's blocks, each a copy of its row (the walk's row is gone at the next), with the rows derived from it. */
struct copy {
	struct block_in in[MIGRATE_BATCH];
	struct block_in *ptrs[MIGRATE_BATCH];
	/* Each block's records decoded, and what they derive (pointing into them); reused from transaction to transaction. */
	struct buf raw[MIGRATE_BATCH];
	struct batch_info info[MIGRATE_BATCH];
	size_t n;
};

/* Larger than any batch ingest takes ([ingest] max_raw at most). */
#define MIGRATE_RAW_MAX (256u << 20)

/* The collector's own identities (whose batches alone carry dial test results), as hex ids. */
#define COLLECTOR_IDS_MAX 16

struct migration {
	struct storage_reader *rd;
	struct pgstore *pg;
	uint32_t day;
	struct copy *batch;
	ZSTD_DCtx *dctx;
	char collector_ids[COLLECTOR_IDS_MAX][2 * AGENT_ID_SIZE + 1];
	size_t n_collector_ids;
	struct migrate_report *rep;
};

static void copy_clear(struct copy *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free((void *)c->in[i].host);
		free((void *)c->in[i].zframe);
	}
	c->n = 0;
}

/*
 * The batch into PostgreSQL, its results counted; then each block not in
 * conflict checked there against the digest computed when it was read.
 */
static int flush(struct migration *m)
{
	struct copy *c = m->batch;
	int r = c->n ? pgstore_copy(m->pg, m->day, c->ptrs, c->n) : 0;

	for (size_t i = 0; r == 0 && i < c->n; i++) {
		m->rep->copied += c->in[i].result == BLOCK_STORED;
		m->rep->present += c->in[i].result == BLOCK_DUPLICATE;
		if (c->in[i].result == BLOCK_CONFLICT) {
			m->rep->conflicts++;
			log_warning("migrate: day %" PRIu32 ", block of agent's batch %" PRIu64 " (host %s): another batch is "
				    "stored under its (agent, seq), by host %s; not copied",
				    m->day, c->in[i].seq, c->in[i].host, c->in[i].conflict_host);
		} else if ((r = pgstore_has(m->pg, &c->in[i])) >= 0) {
			m->rep->verified += r;
			r = 0;
		}
	}
	copy_clear(c);
	return r;
}

/* The block's row as a block_in: its agent, seq, host, times and frame, with the frame's SHA-256. */
static int block_of(const struct block_row *b, struct block_in *in, bool *ret_read)
{
	size_t zlen = 0;
	const void *frame = blocks_row_frame(b, &zlen);

	*ret_read = frame != NULL;
	*in = (struct block_in){ .seq = b->seq, .received_us = b->received, .ts_min = b->ts_min, .ts_max = b->ts_max,
				 .records = b->records, .raw_len = b->raw_len, .zlen = zlen };
	if (!frame)
		return 0;
	if (hex_decode(b->agent, in->agent, AGENT_ID_SIZE) < 0 || hash_digest(HASH_SHA256, frame, zlen, in->digest) < 0)
		return -EUCLEAN;
	in->host = strdup(b->host ? b->host : "");
	in->zframe = malloc(MAX(zlen, (size_t)1));
	if (!in->host || !in->zframe) {
		free((void *)in->host);
		free((void *)in->zframe);
		return -ENOMEM;
	}
	memcpy((void *)in->zframe, frame, zlen);
	return 0;
}

static bool collector_own(const struct migration *m, const char *agent)
{
	for (size_t i = 0; i < m->n_collector_ids; i++)
		if (strcmp(m->collector_ids[i], agent) == 0)
			return true;
	return false;
}

/*
 * The rows the database derives from a block (its probe results, metric
 * values, dial test runs: pgderived.h) and its streams, decoded again from
 * its frame as ingest decoded it, into in. 0 with no rows (and any stream)
 * when the frame does not decode (counted): the block is copied all the same.
 */
static int derive(struct migration *m, const struct block_row *b, struct block_in *in, struct buf *raw,
		  struct batch_info *info)
{
	const struct export_limits lim = { .max_entries = b->records, .max_fields = 1024, .max_field_bytes = SIZE_MAX,
					   .max_entry_bytes = SIZE_MAX };
	size_t n;

	buf_reset(raw);
	/* Until it decodes, it may hold any stream: a search by source still reads it. */
	in->streams[0] = STORAGE_STREAM_ANY;
	in->n_streams = 1;
	if (b->raw_len > MIGRATE_RAW_MAX) {
		m->rep->underived++;
		return 0;
	}
	if (buf_reserve(raw, b->raw_len) < 0)
		return -ENOMEM;
	n = ZSTD_decompressDCtx(m->dctx, raw->data, b->raw_len, in->zframe, in->zlen);
	info->no_index = true;
	info->local = collector_own(m, b->agent);
	if (ZSTD_isError(n) || n != b->raw_len ||
	    batch_verify(raw->data, n, &lim, NULL, b->received, info) != FRAME_OK) {
		m->rep->underived++;
		return 0;
	}
	block_streams_from(in, info);
	in->probes = info->probes;
	in->n_probes = info->n_probes;
	in->metrics = info->metrics;
	in->n_metrics = info->n_metrics;
	return 0;
}

static int copy_block(const struct block_row *b, void *ctx)
{
	struct migration *m = ctx;
	struct copy *c = m->batch;
	bool read;
	int r = block_of(b, &c->in[c->n], &read);

	m->rep->blocks++;
	if (r < 0 || !read) {
		m->rep->unreadable += !read;
		return r;
	}
	r = derive(m, b, &c->in[c->n], &c->raw[c->n], &c->info[c->n]);
	if (r < 0) {
		free((void *)c->in[c->n].host);
		free((void *)c->in[c->n].zframe);
		return r;
	}
	c->in[c->n].result = BLOCK_STORED;
	c->ptrs[c->n] = &c->in[c->n];
	return ++c->n == MIGRATE_BATCH ? flush(m) : 0;
}

static int migrate_day(uint32_t day, void *ctx)
{
	struct migration *m = ctx;
	sqlite3 *shard = storage_reader_shard(m->rd, day);
	int r;

	if (!shard)
		return log_error_errno(EIO, "migrate: the shard of day %" PRIu32 " cannot be opened", day);
	m->day = day;
	r = blocks_each_after(shard, 0, copy_block, m);
	if (r == 0)
		r = flush(m);
	copy_clear(m->batch);
	if (r == 0) {
		m->rep->days++;
		log_info("migrate: day %" PRIu32 " done: %" PRIu64 " blocks so far, %" PRIu64 " copied, %" PRIu64
			 " there already", day, m->rep->blocks, m->rep->copied, m->rep->present);
	}
	return r;
}

static int note_collector(const struct host_row *h, void *ctx)
{
	struct migration *m = ctx;

	if (h->collector && m->n_collector_ids < COLLECTOR_IDS_MAX && strlen(h->id) == 2 * AGENT_ID_SIZE)
		memcpy(m->collector_ids[m->n_collector_ids++], h->id, 2 * AGENT_ID_SIZE + 1);
	return 0;
}

int storage_migrate(const char *data_dir, const struct storage_conf *to, struct migrate_report *ret)
{
	struct migration m = { .rep = ret, .batch = calloc(1, sizeof(*m.batch)), .dctx = ZSTD_createDCtx() };
	int r = storage_reader_open(data_dir, &m.rd);

	*ret = (struct migrate_report){ 0 };
	for (size_t i = 0; m.batch && i < MIGRATE_BATCH; i++)
		buf_init(&m.batch->raw[i], MIGRATE_RAW_MAX);
	if (r < 0) {
		r = log_error_errno(r, "migrate: cannot open the store in %s: %m", data_dir);
		goto out;
	}
	r = m.batch && m.dctx ? pgstore_open(to, true, &m.pg) : -ENOMEM;
	if (r == 0)
		r = hosts_each(storage_reader_meta(m.rd), &(struct host_filter){ .with_collector = true, .no_probe_counts = true },
			       note_collector, &m);
	if (r == 0)
		r = shards_each(storage_reader_meta(m.rd), &(struct shard_range){ 0 }, migrate_day, &m);
	if (r == 0)
		r = pgstore_copy_fleet(m.pg, storage_reader_meta(m.rd), &ret->fleet);
	pgstore_free(m.pg);
	storage_reader_free(m.rd);
out:
	for (size_t i = 0; m.batch && i < MIGRATE_BATCH; i++) {
		batch_info_free(&m.batch->info[i]);
		buf_free(&m.batch->raw[i]);
	}
	free(m.batch);
	ZSTD_freeDCtx(m.dctx);
	if (r == 0 && (ret->verified != ret->blocks - ret->conflicts || ret->unreadable || ret->underived ||
		       ret->fleet.verified != ret->fleet.hosts + ret->fleet.probes))
		r = -EUCLEAN;
	return r;
}
