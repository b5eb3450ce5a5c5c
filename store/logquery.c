/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
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
#include "store/shards.h"
#include "store/verify.h"

#define FIELDS_MAX 1024

int log_cursor_parse(const char *s, struct log_cursor *ret)
{
	unsigned day, rec;
	long long block;
	int n = 0;

	if (sscanf(s, "%u-%lld-%u%n", &day, &block, &rec, &n) != 3 || s[n] || block < 0)
		return -EINVAL;
	*ret = (struct log_cursor){ .day = day, .block = block, .rec = rec };
	return 0;
}

void log_cursor_format(const struct log_cursor *c, char *out, size_t size)
{
	(void)snprintf(out, size, "%u-%" PRId64 "-%u", c->day, c->block, c->rec);
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

static const char *record_source(const struct export_field *f, size_t n, size_t *ret_len)
{
	for (size_t k = 0; field_stream_keys[k]; k++) {
		const struct export_field *s;
		if (k == 1)
			continue; /* the path is in fields; the source names the tail */
		s = export_find(f, n, field_stream_keys[k]);
		if (s) {
			*ret_len = s->value_len;
			return (const char *)s->value;
		}
	}
	*ret_len = 0;
	return "";
}

/* Whether fields a and b have the same key. */
static bool same_key(const struct export_field *a, const struct export_field *b)
{
	return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

/*
 * "fields": every field but the message, by key in the order first seen; a
 * key that occurs more than once holds an array of its values.
 */
static int render_fields(struct buf *o, const struct export_field *f, size_t n, const struct export_field *msg)
{
	bool first = true;
	int r = buf_append(o, "\"fields\":{", 10);

	for (size_t i = 0; r == 0 && i < n; i++) {
		size_t more = 0, j;
		if (&f[i] == msg)
			continue;
		for (j = 0; j < i && !same_key(&f[j], &f[i]); j++)
			;
		if (j < i)
			continue;
		for (j = i + 1; j < n; j++)
			more += same_key(&f[j], &f[i]);
		if (!first)
			r = buf_putc(o, ',');
		first = false;
		if (r == 0)
			r = json_buf_string(o, (const uint8_t *)f[i].key, f[i].key_len);
		if (r == 0)
			r = buf_putc(o, ':');
		if (r == 0 && more)
			r = buf_putc(o, '[');
		for (j = i; r == 0 && j < n; j++) {
			if (j > i && !same_key(&f[j], &f[i]))
				continue;
			if (j > i)
				r = buf_putc(o, ',');
			if (r == 0)
				r = json_buf_string(o, f[j].value, f[j].value_len);
		}
		if (r == 0 && more)
			r = buf_putc(o, ']');
	}
	return r == 0 ? buf_putc(o, '}') : r;
}

/* One item of the answer, as JSON text straight from the decoded record: no tree per record. */
static int render_record(struct scan *sc, const struct export_field *f, size_t n, uint64_t ts)
{
	struct buf *o = &sc->res->items;
	const struct export_field *msg = export_find(f, n, FIELD_MESSAGE);
	char id[64];
	size_t slen;
	const char *src = record_source(f, n, &slen);
	int r = sc->res->n_items ? buf_putc(o, sc->q->separator) : 0;

	log_cursor_format(&sc->pos, id, sizeof(id));
	if (r == 0)
		r = buf_printf(o, "{\"id\":\"%s\",\"ts\":%" PRIu64 ",\"host\":", id, ts);
	if (r == 0)
		r = json_buf_string(o, (const uint8_t *)sc->host, strlen(sc->host));
	if (r == 0)
		r = buf_append(o, ",\"source\":", 10);
	if (r == 0)
		r = json_buf_string(o, (const uint8_t *)src, slen);
	if (r == 0)
		r = buf_append(o, ",\"message\":", 11);
	if (r == 0)
		r = json_buf_string(o, msg ? msg->value : (const uint8_t *)"", msg ? msg->value_len : 0);
	if (r == 0)
		r = buf_putc(o, ',');
	if (r == 0)
		r = render_fields(o, f, n, msg);
	if (r == 0)
		r = buf_putc(o, '}');
	sc->res->n_items++;
	return r;
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
		src = record_source(f, n, &len);
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

/* Record rec of the block, decoded into f: taken if it matches. Returns 1 when the limit is reached. */
static int examine(struct scan *sc, const struct export_field *f, size_t n, uint32_t rec)
{
	const struct export_field *tsf = export_find(f, n, FIELD_TIME);
	uint64_t ts = 0;

	sc->pos.rec = rec;
	sc->res->records++;
	if (tsf)
		(void)export_value_u64(tsf->value, tsf->value_len, &ts);
	if (!record_matches(sc, f, n, ts))
		return 0;
	if (sc->q->counts) {
		uint64_t at = ts >= sc->q->since ? (ts - sc->q->since) / sc->q->bucket_us : SIZE_MAX;

		if (at < sc->q->n_buckets)
			sc->q->counts[at]++;
		return 0;
	}
	if (sc->q->tally)
		return tally_record(sc, f, n);
	if (render_record(sc, f, n, ts) < 0)
		return -ENOMEM;
	/* A page past LOG_ITEMS_SOFT_MAX bytes is full, whatever its limit. */
	return sc->res->n_items >= sc->q->limit || sc->res->items.len >= LOG_ITEMS_SOFT_MAX;
}

/* Decompresses block b into sc->raw. */
static int decompress(struct scan *sc, const struct block_row *b)
{
	size_t raw_len = b->raw_len, n, zlen;
	const void *frame;

	sc->host = b->host;
	sc->agent = b->agent;
	buf_reset(&sc->raw);
	if (buf_reserve(&sc->raw, raw_len) < 0)
		return -ENOMEM;
	frame = blocks_row_frame(b, &zlen);
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

/* One block of the day being scanned. Returns 1 when stopped (limit or budget). */
static int scan_block(const struct block_row *b, void *ctx)
{
	struct scan *sc = ctx;
	const struct log_query *q = sc->q;
	bool resumed = sc->resuming && b->id == q->after.block;
	int r;

	if (resumed && (q->newest_first ? q->after.rec == 0 : (int64_t)q->after.rec >= (int64_t)b->records - 1))
		return 0;
	sc->pos = (struct log_cursor){ .day = sc->day, .block = b->id };
	if (!query_block_may_match(q->match, &(struct query_block){ .host = b->host, .agent = b->agent,
								     .index = b->index, .index_len = b->index_len })) {
		/* Examined all the same, from its index: the cursor moves past it. */
		sc->pos.rec = q->newest_first ? 0 : b->records ? b->records - 1 : 0;
		sc->res->skipped++;
		return 0;
	}
	sc->res->unindexed += !b->index;
	r = decompress(sc, b);
	if (r == 0 && q->newest_first)
		r = scan_backward(sc, resumed ? q->after.rec : UINT32_MAX);
	else if (r == 0)
		r = scan_forward(sc, resumed ? (int64_t)q->after.rec : -1);
	if (r == 1)
		sc->res->stopped = "limit";
	else if (r == 0 && sc->res->bytes >= q->scan_budget)
		sc->res->stopped = "budget", r = 1;
	return r;
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
	return blocks_select(db, &sel, scan_block, sc);
}

/* -ERANGE for a cursor past what is stored: a day, block or record that was never written. */
static int check_cursor(struct storage_reader *rd, const struct log_cursor *c)
{
	sqlite3 *meta = storage_reader_meta(rd), *db;
	uint32_t max_day;
	int64_t last;
	bool past;
	int r = shards_newest(meta, &max_day);

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

int log_query_run(struct storage_reader *rd, const struct log_query *q, struct log_result *ret)
{
	struct log_result res = { .next = q->after };
	struct scan sc = { .q = q, .res = &res, .pos = q->after, .rd = rd };
	struct shard_range range = { .since = q->since, .until = q->until, .newest_first = q->newest_first,
				     .from_day = q->has_cursor ? q->after.day : 0 };
	int r = q->has_cursor ? check_cursor(rd, &q->after) : 0;

	if (r < 0)
		return r;
	buf_init(&res.items, SIZE_MAX / 2);
	sc.fields = malloc(FIELDS_MAX * sizeof(*sc.fields));
	sc.dctx = ZSTD_createDCtx();
	buf_init(&sc.raw, SIZE_MAX / 2);
	if (!sc.fields || !sc.dctx)
		r = -ENOMEM;
	if (r == 0)
		r = shards_each(storage_reader_meta(rd), &range, scan_day, &sc);
	free(sc.fields);
	free(sc.offsets);
	query_scratch_free(&sc.scratch);
	ZSTD_freeDCtx(sc.dctx);
	buf_free(&sc.raw);
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
