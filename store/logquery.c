/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "common/buf.h"
#include "common/export.h"
#include "common/fields.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/json.h"
#include "search/tally.h"
#include "store/blocks.h"
#include "store/logquery.h"
#include "store/logrender.h"
#include "store/shards.h"
#include "store/verify.h"

#define FIELDS_MAX 1024

int log_cursor_parse(const char *s, struct log_cursor *ret)
{
	unsigned long long xid = 0;
	unsigned day = 0, rec;
	long long block;
	int n = 0;
	bool shared = s[0] == 'p';

	if (shared ? sscanf(s + 1, "%llu-%lld-%u%n", &xid, &block, &rec, &n) != 3 || !xid
		   : sscanf(s, "%u-%lld-%u%n", &day, &block, &rec, &n) != 3)
		return -EINVAL;
	if (s[n + shared] || block < 0 || (shared && (s[1] == '-' || s[1] == '+')))
		return -EINVAL;
	*ret = (struct log_cursor){ .day = day, .block = block, .rec = rec, .xid = xid };
	return 0;
}

size_t log_cursor_text(const struct log_cursor *c, char *out)
{
	size_t n = 0;

	if (c->xid)
		out[n++] = 'p';
	n += u64_decimal(c->xid ? c->xid : c->day, out + n);

	out[n++] = '-';
	n += u64_decimal((uint64_t)c->block, out + n);
	out[n++] = '-';
	return n + u64_decimal(c->rec, out + n);
}

void log_cursor_format(const struct log_cursor *c, char *out, size_t size)
{
	char text[LOG_CURSOR_TEXT_MAX];

	(void)snprintf(out, size, "%.*s", (int)log_cursor_text(c, text), text);
}

struct scan {
	const struct log_query *q;
	struct storage_reader *rd;
	uint32_t day;   /* of the shard being scanned */
	bool resuming;  /* it is the cursor's: its block resumes after the cursor's record */
	struct log_result *res;
	struct log_cursor pos; /* the last record examined */
	struct export_field *fields;
	struct buf raw;
	ZSTD_DCtx *dctx;
	const char *host, *agent;
	struct query_scratch scratch;
	size_t *offsets; /* newest first: where each record of the block begins */
	size_t cap_offsets;
	uint64_t *counts;     /* counting: the buckets this scan adds to (the query's, or a job's) */
	struct job *job;      /* a worker's: each item's record and end are kept for the merge */
	struct pool *pool;    /* the reader's, searching on all cores; NULL: one */
};

/*
 * A block handed to a worker (search on all cores): a copy of what it needs
 * of the row, which is gone once the next row is read, and what it found,
 * merged in block order by the thread that reads the rows.
 */
struct job {
	enum { JOB_FREE, JOB_QUEUED, JOB_RUNNING, JOB_DONE } state;
	uint32_t day;
	int64_t id;
	uint64_t xid;
	char *host, *agent;
	uint32_t records, raw_len;
	uint8_t *frame; /* NULL: the index ruled the block out, nothing to read */
	size_t zlen;
	bool resumed; /* the cursor's block: only after (newest first: before) the cursor's record */
	struct log_result res;
	uint64_t *counts;
	uint32_t *recs; /* each item's record */
	size_t *ends;   /* where each item ends in res.items */
	size_t cap_items;
	struct log_cursor pos; /* the last record it examined */
	int r;                 /* 0, 1 (its own limit), < 0 */
};

static bool kind_matches(const char *kind, const struct export_field *f, size_t n)
{
	const struct export_field *k = export_find(f, n, FIELD_KIND);

	return strcmp(kind, LOG_KIND_LOG) == 0 ? !k : export_field_is(k, kind);
}

static bool record_matches(struct scan *sc, const struct export_field *f, size_t n, uint64_t ts)
{
	const struct log_query *q = sc->q;

	if (ts < q->since || (q->until && ts > q->until))
		return false;
	if (q->kind && !kind_matches(q->kind, f, n))
		return false;
	if (q->by_priority) {
		const struct export_field *p = export_find(f, n, FIELD_PRIORITY);
		uint64_t prio;

		/* A record without a PRIORITY (probe results, metrics) is not a log line of any priority. */
		if (!p || !export_value_u64(p->value, p->value_len, &prio) || prio > q->max_priority)
			return false;
	}
	if (q->source) {
		bool hit = false;
		for (size_t k = 0; field_stream_keys[k] && !hit; k++)
			hit = export_field_is(export_find(f, n, field_stream_keys[k]), q->source);
		if (!hit)
			return false;
	}
	return query_match(q->match, &(struct query_record){ .fields = f, .n = n, .host = sc->host, .agent = sc->agent },
			   &sc->scratch);
}

/* The record's value of the query's by= into its tally; a record without one is counted apart. */
static int tally_record(struct scan *sc, const struct export_field *f, size_t n)
{
	const struct export_field *v;
	size_t len;
	const char *src;

	switch (sc->q->by) {
	case LOG_BY_HOST:
		return tally_add(sc->q->tally, (const uint8_t *)sc->host, strlen(sc->host));
	case LOG_BY_SOURCE:
		src = log_record_source(f, n, &len);
		return tally_add(sc->q->tally, (const uint8_t *)src, len);
	case LOG_BY_FIELD:
		break;
	}
	v = export_find(f, n, sc->q->by_key);
	if (!v) {
		sc->res->without++;
		return 0;
	}
	return tally_add(sc->q->tally, v->value, v->value_len);
}

static const struct export_limits scan_limits = { .max_entries = UINT32_MAX, .max_fields = FIELDS_MAX,
						  .max_field_bytes = SIZE_MAX, .max_entry_bytes = SIZE_MAX };

/* The item just rendered into j's answer: its record, and where it ends (for a merge that takes only some). */
static int note_item(struct job *j, uint32_t rec)
{
	size_t k = j->res.n_items - 1;

	if (k >= j->cap_items) {
		size_t cap = j->cap_items ? 2 * j->cap_items : 256;
		uint32_t *recs = realloc(j->recs, cap * sizeof(*recs));
		size_t *ends;
		if (!recs)
			return -ENOMEM;
		j->recs = recs;
		ends = realloc(j->ends, cap * sizeof(*ends));
		if (!ends)
			return -ENOMEM;
		j->ends = ends;
		j->cap_items = cap;
	}
	j->recs[k] = rec;
	j->ends[k] = j->res.items.len;
	return 0;
}

/* Record rec of the block, decoded into f: taken if it matches. Returns 1 when the limit is reached. */
static int examine(struct scan *sc, const struct export_field *f, size_t n, uint32_t rec)
{
	const struct export_field *tsf = export_find(f, n, FIELD_TIME);
	char sep = sc->res->n_items ? sc->q->separator : 0;
	uint64_t ts = 0;
	int r;

	sc->pos.rec = rec;
	sc->res->records++;
	if (tsf)
		(void)export_value_u64(tsf->value, tsf->value_len, &ts);
	if (!record_matches(sc, f, n, ts))
		return 0;
	if (sc->counts) {
		uint64_t at = ts >= sc->q->since ? (ts - sc->q->since) / sc->q->bucket_us : SIZE_MAX;

		if (at < sc->q->n_buckets)
			sc->counts[at]++;
		return 0;
	}
	if (sc->q->tally)
		return tally_record(sc, f, n);
	r = sc->q->render ? sc->q->render(&sc->res->items, sep, &sc->pos, sc->host, f, n, ts, sc->q->render_ctx)
			  : log_render_item(&sc->res->items, sep, &sc->pos, sc->host, f, n, ts);
	if (r < 0)
		return r;
	sc->res->n_items++;
	if (sc->job && note_item(sc->job, rec) < 0)
		return -ENOMEM;
	/* A page past LOG_ITEMS_SOFT_MAX bytes is full, whatever its limit. */
	return sc->res->n_items >= sc->q->limit || sc->res->items.len >= LOG_ITEMS_SOFT_MAX;
}

/* Decompresses a block's frame (raw_len bytes once decompressed) into sc->raw. */
static int decompress(struct scan *sc, const void *frame, size_t zlen, size_t raw_len)
{
	size_t n;

	buf_reset(&sc->raw);
	if (buf_reserve(&sc->raw, raw_len) < 0)
		return -ENOMEM;
	n = ZSTD_decompressDCtx(sc->dctx, sc->raw.data, raw_len, frame, zlen);
	if (ZSTD_isError(n) || n != raw_len)
		return log_error_errno(EUCLEAN, "logs: block %u/%" PRId64 " does not decompress",
				       sc->pos.day, sc->pos.block);
	sc->raw.len = n;
	sc->res->blocks++;
	sc->res->bytes += raw_len;
	return 0;
}

/* The block's records after after_rec (-1: all), oldest first. Returns 1 when the limit is reached. */
static int scan_forward(struct scan *sc, int64_t after_rec)
{
	struct export_reader rd;
	uint32_t rec = 0;
	size_t n;
	int r, k;

	export_reader_init(&rd, sc->raw.data, sc->raw.len, &scan_limits);
	for (; (r = export_reader_next(&rd, sc->fields, FIELDS_MAX, &n)) > 0; rec++)
		if ((int64_t)rec > after_rec && (k = examine(sc, sc->fields, n, rec)))
			return k;
	return r < 0 ? -EUCLEAN : 0;
}

/* The block's records before before_rec, newest first. Returns 1 when the limit is reached. */
static int scan_backward(struct scan *sc, uint32_t before_rec)
{
	struct export_reader rd;
	size_t count = 0, n;
	int r, k;

	export_reader_init(&rd, sc->raw.data, sc->raw.len, &scan_limits);
	for (;;) {
		size_t at = (size_t)(rd.p - sc->raw.data);
		r = export_reader_next(&rd, sc->fields, FIELDS_MAX, &n);
		if (r <= 0)
			break;
		if (count == sc->cap_offsets) {
			size_t cap = sc->cap_offsets ? 2 * sc->cap_offsets : 1024, *grown;
			grown = realloc(sc->offsets, cap * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			sc->offsets = grown;
			sc->cap_offsets = cap;
		}
		sc->offsets[count++] = at;
	}
	if (r < 0)
		return -EUCLEAN;
	for (size_t i = MIN(count, (size_t)before_rec); i-- > 0;) {
		export_reader_init(&rd, sc->raw.data + sc->offsets[i], sc->raw.len - sc->offsets[i], &scan_limits);
		if (export_reader_next(&rd, sc->fields, FIELDS_MAX, &n) <= 0)
			return -EUCLEAN;
		k = examine(sc, sc->fields, n, (uint32_t)i);
		if (k)
			return k;
	}
	return 0;
}

/* A block's records decompressed and examined, after (before) the cursor's when resumed. 1: the limit. */
static int scan_frame(struct scan *sc, const void *frame, size_t zlen, size_t raw_len, bool resumed)
{
	const struct log_query *q = sc->q;
	int r = decompress(sc, frame, zlen, raw_len);

	if (r == 0 && q->newest_first)
		r = scan_backward(sc, resumed ? q->after.rec : UINT32_MAX);
	else if (r == 0)
		r = scan_forward(sc, resumed ? (int64_t)q->after.rec : -1);
	return r;
}

/* Whether block b holds nothing to examine: the cursor's block already examined to its end. */
static bool resumed_past(const struct log_query *q, const struct block_row *b)
{
	return q->newest_first ? q->after.rec == 0 : (int64_t)q->after.rec >= (int64_t)b->records - 1;
}

/* Whether b's index rules q out. */
static bool ruled_out(const struct log_query *q, const struct block_row *b)
{
	return !query_block_may_match(q->match, &(struct query_block){ .host = b->host, .agent = b->agent,
									.index = b->index, .index_len = b->index_len });
}

/* Where the cursor stands after a block examined from its index alone: past it. */
static uint32_t past_block(const struct log_query *q, uint32_t records)
{
	return q->newest_first ? 0 : records ? records - 1 : 0;
}

/* One block of the day being scanned. Returns 1 when stopped (limit or budget). */
static int scan_block(const struct block_row *b, void *ctx)
{
	struct scan *sc = ctx;
	const struct log_query *q = sc->q;
	bool resumed = sc->resuming && b->id == q->after.block;
	const void *frame;
	size_t zlen;
	int r;

	if (resumed && resumed_past(q, b))
		return 0;
	sc->pos = (struct log_cursor){ .day = sc->day, .block = b->id, .xid = b->xid };
	if (ruled_out(q, b)) {
		/* Examined all the same, from its index: the cursor moves past it. */
		sc->pos.rec = past_block(q, b->records);
		sc->res->skipped++;
		return 0;
	}
	sc->res->unindexed += !b->index;
	sc->host = b->host;
	sc->agent = b->agent;
	frame = blocks_row_frame(b, &zlen);
	r = scan_frame(sc, frame, zlen, b->raw_len, resumed);
	if (r == 1)
		sc->res->stopped = "limit";
	else if (r == 0 && sc->res->bytes >= q->scan_budget)
		sc->res->stopped = "budget", r = 1;
	return r;
}

/* Jobs in flight at once per worker: one being scanned, one waiting. */
#define JOBS_PER_WORKER 2
#define WORKERS_MAX 8

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job jobs[JOBS_PER_WORKER * WORKERS_MAX];
	size_t n_jobs, head, in_flight; /* a ring: jobs[head] is the oldest */
	uint64_t promised;              /* records of the blocks in flight that are read */
	struct scan workers[WORKERS_MAX];
	pthread_t threads[WORKERS_MAX];
	size_t n_threads;
	bool closing, cancelled;
};

static void job_clear(struct job *j)
{
	free(j->host);
	free(j->agent);
	free(j->frame);
	j->host = j->agent = NULL;
	j->frame = NULL;
	buf_reset(&j->res.items);
	j->res = (struct log_result){ .items = j->res.items };
	j->state = JOB_FREE;
}

/* A worker's scan of job j: j's own results, counts and item log. */
static void job_run(struct scan *ws, struct job *j)
{
	ws->res = &j->res;
	ws->job = j;
	ws->counts = j->counts;
	ws->host = j->host;
	ws->agent = j->agent;
	ws->pos = (struct log_cursor){ .day = j->day, .block = j->id, .xid = j->xid };
	j->r = scan_frame(ws, j->frame, j->zlen, j->raw_len, j->resumed);
	j->pos = ws->pos;
}

static void *worker_main(void *arg)
{
	struct scan *ws = arg;
	struct pool *p = ws->pool;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct job *j = NULL;
		for (size_t k = 0; k < p->in_flight && !j; k++) {
			struct job *c = &p->jobs[(p->head + k) % p->n_jobs];
			if (c->state == JOB_QUEUED)
				j = c;
		}
		if (!j && p->closing)
			break;
		if (!j) {
			pthread_cond_wait(&p->cond, &p->lock);
			continue;
		}
		j->state = JOB_RUNNING;
		if (!p->cancelled) {
			pthread_mutex_unlock(&p->lock);
			job_run(ws, j);
			pthread_mutex_lock(&p->lock);
		}
		j->state = JOB_DONE;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/*
 * The oldest job's results into the answer, as a scan of its block on this
 * thread would have left them: the items up to the limit (or the page's
 * bytes), the cursor where it stopped. 1 when the answer is full (limit or
 * budget), < 0 on the job's error.
 */
static int merge(struct scan *sc, struct job *j)
{
	const struct log_query *q = sc->q;
	struct log_result *res = sc->res;
	size_t take = j->res.n_items;
	int r = j->r < 0 ? j->r : 0;

	res->blocks += j->res.blocks;
	res->bytes += j->res.bytes;
	res->records += j->res.records;
	res->unindexed += j->res.unindexed;
	res->skipped += j->res.skipped;
	for (size_t i = 0; r == 0 && j->counts && i < q->n_buckets; i++)
		sc->counts[i] += j->counts[i];
	if (r == 0 && take && res->n_items + take > q->limit)
		take = q->limit - res->n_items;
	for (size_t i = 0; r == 0 && i < take; i++)
		if (res->items.len + j->ends[i] >= LOG_ITEMS_SOFT_MAX)
			take = i + 1;
	if (r == 0 && take && res->n_items && q->separator)
		r = buf_putc(&res->items, q->separator);
	if (r == 0 && take)
		r = buf_append(&res->items, j->res.items.data, j->ends[take - 1]);
	if (r < 0)
		return r;
	res->n_items += take;
	sc->pos = j->pos;
	if (take && (take < j->res.n_items || j->r == 1 || res->n_items >= q->limit ||
		     res->items.len >= LOG_ITEMS_SOFT_MAX)) {
		sc->pos.rec = j->recs[take - 1];
		res->stopped = "limit";
		return 1;
	}
	if (res->bytes >= q->scan_budget && j->frame) {
		res->stopped = "budget";
		return 1;
	}
	return 0;
}

/* Waits for the oldest job and merges it (drop: only waits, the answer is full); its slot is free after. */
static int merge_oldest(struct scan *sc, bool drop)
{
	struct pool *p = sc->pool;
	struct job *j = &p->jobs[p->head];
	int r;

	pthread_mutex_lock(&p->lock);
	while (j->state != JOB_DONE)
		pthread_cond_wait(&p->cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
	r = drop ? 0 : merge(sc, j);
	pthread_mutex_lock(&p->lock);
	p->promised -= j->frame ? j->records : 0;
	job_clear(j);
	p->head = (p->head + 1) % p->n_jobs;
	p->in_flight--;
	pthread_mutex_unlock(&p->lock);
	return r;
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

/*
 * Whether the blocks in flight hold records enough to fill the page when
 * nearly every record is an item (a pull: no words, fields or priority
 * asked of them). Another block read then would be decompressed for
 * nothing; a search keeps every core on blocks, as few of their records match.
 */
static bool page_promised(const struct scan *sc)
{
	const struct log_query *q = sc->q;

	return !q->match && !q->source && !q->by_priority && !q->counts && !q->tally &&
	       sc->res->n_items + sc->pool->promised >= q->limit;
}

/* scan_block() on all cores: the block becomes a job (a ruled-out one too, so the cursor moves in order). */
static int queue_block(const struct block_row *b, void *ctx)
{
	struct scan *sc = ctx;
	struct pool *p = sc->pool;
	const struct log_query *q = sc->q;
	bool resumed = sc->resuming && b->id == q->after.block, skip;
	const void *frame = NULL;
	struct job *j;
	size_t zlen;
	int r = 0;

	if (resumed && resumed_past(q, b))
		return 0;
	while (r == 0 && p->in_flight && (p->in_flight == p->n_jobs || page_promised(sc)))
		r = merge_oldest(sc, false);
	if (r != 0)
		return r;
	j = &p->jobs[(p->head + p->in_flight) % p->n_jobs];
	skip = ruled_out(q, b);
	*j = (struct job){ .res = j->res, .counts = j->counts, .recs = j->recs, .ends = j->ends, .cap_items = j->cap_items,
			   .day = sc->day, .id = b->id, .xid = b->xid, .records = b->records, .raw_len = b->raw_len,
			   .resumed = resumed, .host = dup_or_empty(b->host), .agent = dup_or_empty(b->agent) };
	if (j->counts)
		memset(j->counts, 0, q->n_buckets * sizeof(*j->counts));
	j->res.unindexed = !skip && !b->index;
	j->res.skipped = skip;
	j->pos = (struct log_cursor){ .day = sc->day, .block = b->id, .xid = b->xid,
				      .rec = skip ? past_block(q, b->records) : 0 };
	if (!skip) {
		frame = blocks_row_frame(b, &zlen);
		j->frame = frame ? malloc(zlen) : NULL;
		if (j->frame)
			memcpy(j->frame, frame, zlen);
		j->zlen = zlen;
	}
	if (!j->host || !j->agent || (!skip && !j->frame)) {
		/* A frame that cannot be read is the store's failure, not memory's. */
		r = !skip && !frame ? -EIO : -ENOMEM;
		job_clear(j);
		return r;
	}
	pthread_mutex_lock(&p->lock);
	j->state = skip ? JOB_DONE : JOB_QUEUED;
	p->in_flight++;
	p->promised += skip ? 0 : j->records;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* The jobs left merged in order, after r (the scan's result so far): once it is not 0, only waited for. */
static int pool_drain(struct scan *sc, int r)
{
	struct pool *p = sc->pool;

	while (p->in_flight) {
		int k;
		if (r != 0) {
			pthread_mutex_lock(&p->lock);
			p->cancelled = true;
			pthread_mutex_unlock(&p->lock);
		}
		k = merge_oldest(sc, r != 0);
		if (r == 0)
			r = k;
	}
	return r;
}

/* A worker's own state: what a scan needs, as the reader's (log_query_run()). */
static int scan_init(struct scan *ws, const struct log_query *q)
{
	ws->q = q;
	ws->fields = malloc(FIELDS_MAX * sizeof(*ws->fields));
	ws->dctx = ZSTD_createDCtx();
	buf_init(&ws->raw, SIZE_MAX / 2);
	return ws->fields && ws->dctx ? 0 : -ENOMEM;
}

static void scan_done(struct scan *ws)
{
	free(ws->fields);
	free(ws->offsets);
	query_scratch_free(&ws->scratch);
	ZSTD_freeDCtx(ws->dctx);
	buf_free(&ws->raw);
}

static void pool_free(struct pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->closing = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < p->n_threads; i++)
		(void)pthread_join(p->threads[i], NULL);
	for (size_t i = 0; i < WORKERS_MAX; i++)
		scan_done(&p->workers[i]);
	for (size_t i = 0; i < p->n_jobs; i++) {
		job_clear(&p->jobs[i]);
		buf_free(&p->jobs[i].res.items);
		free(p->jobs[i].counts);
		free(p->jobs[i].recs);
		free(p->jobs[i].ends);
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
}

/* n workers for q, or -ENOMEM / a thread's error (a pool that could not start is freed). */
static int pool_new(const struct log_query *q, size_t n, struct pool **ret)
{
	struct pool *p = calloc(1, sizeof(*p));
	int r = 0;

	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->n_jobs = JOBS_PER_WORKER * n;
	for (size_t i = 0; i < p->n_jobs; i++) {
		buf_init(&p->jobs[i].res.items, SIZE_MAX / 2);
		if (q->counts && !(p->jobs[i].counts = calloc(q->n_buckets, sizeof(uint64_t))))
			r = -ENOMEM;
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		p->workers[i].pool = p;
		r = scan_init(&p->workers[i], q);
		if (r == 0 && (r = -pthread_create(&p->threads[i], NULL, worker_main, &p->workers[i])) == 0)
			p->n_threads++;
	}
	if (r < 0) {
		pool_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

/* Scans the blocks of one day's shard. Returns 1 when stopped (limit or budget). */
static int scan_day(uint32_t day, void *ctx)
{
	struct scan *sc = ctx;
	const struct log_query *q = sc->q;
	sqlite3 *db = storage_reader_shard(sc->rd, day);
	struct block_select sel = { .newest_first = q->newest_first, .host = q->host, .source = q->source,
				    .since = q->since, .until = q->until };

	if (!db)
		return -EIO;
	sc->day = day;
	sc->resuming = q->has_cursor && day == q->after.day;
	sel.from_id = sc->resuming ? q->after.block : q->newest_first ? INT64_MAX : 0;
	return blocks_select(db, &sel, sc->pool ? queue_block : scan_block, sc);
}

/* -ERANGE for a cursor past what is stored: a day, block or record that was never written. */
static int check_cursor(struct storage_reader *rd, const struct log_cursor *c)
{
	sqlite3 *meta = storage_reader_meta(rd), *db;
	uint32_t max_day;
	int64_t last;
	bool past;
	int r = c->xid ? -ERANGE : shards_newest(meta, &max_day);

	/* A cursor of the shared store (pXID-…) means nothing to this collector's own. */
	if (r < 0)
		return r;
	if (c->day > max_day)
		return -ERANGE;
	/* A shard retention removed: the reader goes on with the next one. */
	if (!shards_known(meta, c->day) || !(db = storage_reader_shard(rd, c->day)))
		return 0;
	r = blocks_extent(db, c->block, c->rec, &last, &past);
	if (r < 0)
		return r;
	return c->block > last || past ? -ERANGE : 0;
}

/* The blocks of the store shared in PostgreSQL, every collector's, in the order their transactions ended. */
static int scan_shared(struct scan *sc, struct pgstore *pg)
{
	const struct log_query *q = sc->q;
	struct pgstore_select sel = { .newest_first = q->newest_first, .host = q->host, .source = q->source,
				      .since = q->since, .until = q->until };

	if (q->has_cursor) {
		sel.xid = q->after.xid;
		sel.id = q->after.block;
	}
	sc->resuming = q->has_cursor;
	return pgstore_select(pg, &sel, sc->pool ? queue_block : scan_block, sc);
}

/*
 * -ERANGE for a cursor that is not the shared store's (a collector's own:
 * DAY-…) or past what it holds. The zero cursor an answer gives before
 * any block was stored is the start.
 */
static int check_shared_cursor(struct pgstore *pg, const struct log_cursor *c)
{
	if (!c->xid)
		return c->day || c->block || c->rec ? -ERANGE : 0;
	return pgstore_cursor_check(pg, c->xid, c->block, c->rec);
}

/* Workers for q: [http] search_threads (0: the CPUs), one for a tally (it is not merged), at most WORKERS_MAX. */
static size_t workers_for(const struct log_query *q)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = q->threads ? q->threads : cpus > 0 ? (size_t)cpus : 1;

	return q->tally ? 1 : MIN(n, (size_t)WORKERS_MAX);
}

int log_query_run(struct storage_reader *rd, const struct log_query *q, struct log_result *ret)
{
	struct log_result res = { .next = q->after };
	struct scan sc = { .q = q, .res = &res, .pos = q->after, .rd = rd, .counts = q->counts };
	struct shard_range range = { .since = q->since, .until = q->until, .newest_first = q->newest_first,
				     .from_day = q->has_cursor ? q->after.day : 0 };
	size_t workers = workers_for(q);
	struct pgstore *pg = NULL;
	int shared = storage_reader_shared(rd, &pg), r = MIN(shared, 0);

	if (r >= 0 && q->has_cursor)
		r = shared ? check_shared_cursor(pg, &q->after) : check_cursor(rd, &q->after);
	if (r < 0)
		return r;
	buf_init(&res.items, SIZE_MAX / 2);
	if (r == 0)
		r = scan_init(&sc, q);
	if (r == 0 && workers > 1)
		r = pool_new(q, workers, &sc.pool);
	if (r == 0)
		r = shared ? scan_shared(&sc, pg) : shards_each(storage_reader_meta(rd), &range, scan_day, &sc);
	if (sc.pool)
		r = pool_drain(&sc, r);
	pool_free(sc.pool);
	scan_done(&sc);
	if (r < 0) {
		buf_free(&res.items);
		return r;
	}
	res.complete = r == 0;
	if (res.blocks || res.skipped)
		res.next = sc.pos;
	*ret = res;
	return 0;
}
