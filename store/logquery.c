/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <zstd.h>

#include "common/buf.h"
#include "common/export.h"
#include "common/log.h"
#include "common/macro.h"
#include "store/logquery.h"
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

/* Length of the valid UTF-8 sequence at p, or 0. */
static size_t utf8_len(const uint8_t *p, size_t n)
{
	size_t len;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, cp = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

json_t *json_bytes(const uint8_t *p, size_t len)
{
	struct buf b;
	json_t *j;
	size_t i = 0, k;

	while (i < len && (k = utf8_len(p + i, len - i)))
		i += k;
	if (i == len)
		return json_stringn_nocheck((const char *)p, len);
	buf_init(&b, len * 3 + 1);
	(void)buf_append(&b, p, i);
	while (i < len) {
		k = utf8_len(p + i, len - i);
		if (k) {
			(void)buf_append(&b, p + i, k);
			i += k;
		} else {
			(void)buf_append(&b, "\xef\xbf\xbd", 3);
			i++;
		}
	}
	j = json_stringn_nocheck((const char *)b.data, b.len);
	buf_free(&b);
	return j;
}

struct scan {
	const struct log_query *q;
	struct log_result *res;
	struct log_cursor pos; /* the last record examined */
	struct export_field *fields;
	struct buf raw;
	ZSTD_DCtx *dctx;
	const char *host;
	size_t *offsets; /* newest first: where each record of the block begins */
	size_t cap_offsets;
};

static bool kind_matches(const char *kind, const struct export_field *f, size_t n)
{
	const struct export_field *k = export_find(f, n, "VIGIL_KIND");

	return strcmp(kind, LOG_KIND_LOG) == 0 ? !k : export_field_is(k, kind);
}

static bool record_matches(const struct scan *sc, const struct export_field *f, size_t n, uint64_t ts)
{
	const struct log_query *q = sc->q;

	if (ts < q->since || (q->until && ts > q->until))
		return false;
	if (q->kind && !kind_matches(q->kind, f, n))
		return false;
	if (q->source) {
		bool hit = false;
		for (size_t k = 0; verify_stream_keys[k] && !hit; k++)
			hit = export_field_is(export_find(f, n, verify_stream_keys[k]), q->source);
		if (!hit)
			return false;
	}
	if (q->q) {
		const struct export_field *m = export_find(f, n, "MESSAGE");
		if (!m || !memmem(m->value, m->value_len, q->q, strlen(q->q)))
			return false;
	}
	return true;
}

static const char *record_source(const struct export_field *f, size_t n, size_t *ret_len)
{
	for (size_t k = 0; verify_stream_keys[k]; k++) {
		const struct export_field *s;
		if (k == 1)
			continue; /* the path is in fields; the source names the tail */
		s = export_find(f, n, verify_stream_keys[k]);
		if (s) {
			*ret_len = s->value_len;
			return (const char *)s->value;
		}
	}
	*ret_len = 0;
	return "";
}

static json_t *record_json(const struct scan *sc, const struct export_field *f, size_t n, uint64_t ts)
{
	json_t *fields = json_object(), *item;
	const struct export_field *msg = export_find(f, n, "MESSAGE");
	char id[64], key[EXPORT_KEY_MAX + 1];
	size_t slen;
	const char *src = record_source(f, n, &slen);

	for (size_t i = 0; i < n; i++) {
		json_t *v, *old;
		if (&f[i] == msg)
			continue;
		memcpy(key, f[i].key, f[i].key_len);
		key[f[i].key_len] = 0;
		v = json_bytes(f[i].value, f[i].value_len);
		old = json_object_get(fields, key);
		if (!old) {
			json_object_set_new(fields, key, v);
		} else if (json_is_array(old)) {
			json_array_append_new(old, v);
		} else {
			json_t *arr = json_array();
			json_array_append(arr, old);
			json_array_append_new(arr, v);
			json_object_set_new(fields, key, arr);
		}
	}
	log_cursor_format(&sc->pos, id, sizeof(id));
	item = json_object();
	json_object_set_new(item, "id", json_string(id));
	json_object_set_new(item, "ts", json_integer((json_int_t)ts));
	json_object_set_new(item, "host", json_bytes((const uint8_t *)sc->host, strlen(sc->host)));
	json_object_set_new(item, "source", json_bytes((const uint8_t *)src, slen));
	json_object_set_new(item, "message", msg ? json_bytes(msg->value, msg->value_len) : json_string(""));
	json_object_set_new(item, "fields", fields);
	return item;
}

static const struct export_limits scan_limits = { .max_entries = UINT32_MAX, .max_fields = FIELDS_MAX,
						  .max_field_bytes = SIZE_MAX, .max_entry_bytes = SIZE_MAX };

/* Record rec of the block, decoded into f: taken if it matches. Returns 1 when the limit is reached. */
static int examine(struct scan *sc, const struct export_field *f, size_t n, uint32_t rec)
{
	const struct export_field *tsf = export_find(f, n, "__REALTIME_TIMESTAMP");
	uint64_t ts = 0;

	sc->pos.rec = rec;
	sc->res->records++;
	if (tsf)
		(void)parse_timestamp(tsf->value, tsf->value_len, &ts);
	if (!record_matches(sc, f, n, ts))
		return 0;
	json_array_append_new(sc->res->items, record_json(sc, f, n, ts));
	return json_array_size(sc->res->items) >= sc->q->limit;
}

/* Decompresses the block of row st (id, host, records, raw_len, frame) into sc->raw. */
static int decompress(struct scan *sc, sqlite3_stmt *st)
{
	size_t raw_len = (size_t)sqlite3_column_int64(st, 3), n;

	sc->host = (const char *)sqlite3_column_text(st, 1);
	buf_reset(&sc->raw);
	if (buf_reserve(&sc->raw, raw_len) < 0)
		return -ENOMEM;
	n = ZSTD_decompressDCtx(sc->dctx, sc->raw.data, raw_len, sqlite3_column_blob(st, 4),
				(size_t)sqlite3_column_bytes(st, 4));
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

static int prepare_blocks(sqlite3 *db, const struct log_query *q, sqlite3_stmt **ret)
{
	char sql[1024];
	int r;

	/* Fixed fragments only; every value is bound. */
	(void)snprintf(sql, sizeof(sql),
		       "SELECT id, host, records, raw_len, frame FROM blocks WHERE id%s?1%s%s%s%s ORDER BY id%s",
		       q->newest_first ? "<=" : ">=", q->host ? " AND (host=?2 OR agent=?2)" : "", " AND ts_max>=?3",
		       q->until ? " AND ts_min<=?4" : "",
		       q->source ? " AND id IN (SELECT block FROM streams WHERE value IN (?5, '" STORAGE_STREAM_ANY "'))" : "",
		       q->newest_first ? " DESC" : "");
	r = sqlite3_prepare_v2(db, sql, -1, ret, NULL);
	if (r != SQLITE_OK)
		return log_error_errno(db_errno(r), "logs: %s", sqlite3_errmsg(db));
	if (q->host)
		sqlite3_bind_text(*ret, 2, q->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(*ret, 3, (sqlite3_int64)q->since);
	if (q->until)
		sqlite3_bind_int64(*ret, 4, (sqlite3_int64)q->until);
	if (q->source)
		sqlite3_bind_text(*ret, 5, q->source, -1, SQLITE_STATIC);
	return 0;
}

/* Scans the blocks of one day's shard. Returns 1 when stopped (limit or budget). */
static int scan_day(struct scan *sc, struct storage_reader *rd, uint32_t day)
{
	const struct log_query *q = sc->q;
	sqlite3 *db = storage_reader_shard(rd, day);
	bool same = q->has_cursor && day == q->after.day;
	sqlite3_stmt *st;
	int r = 0;

	if (!db)
		return -EIO;
	r = prepare_blocks(db, q, &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, same ? q->after.block : q->newest_first ? INT64_MAX : 0);
	while (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		bool resumed = same && id == q->after.block;

		if (resumed && (q->newest_first ? q->after.rec == 0 :
						  (int64_t)q->after.rec >= sqlite3_column_int64(st, 2) - 1))
			continue;
		sc->pos = (struct log_cursor){ .day = day, .block = id };
		r = decompress(sc, st);
		if (r == 0 && q->newest_first)
			r = scan_backward(sc, resumed ? q->after.rec : UINT32_MAX);
		else if (r == 0)
			r = scan_forward(sc, resumed ? (int64_t)q->after.rec : -1);
		if (r == 1)
			sc->res->stopped = "limit";
		else if (r == 0 && sc->res->bytes >= q->scan_budget)
			sc->res->stopped = "budget", r = 1;
	}
	sqlite3_finalize(st);
	return r;
}

/* -ERANGE for a cursor past what is stored: a day, block or record that was never written. */
static int check_cursor(struct storage_reader *rd, const struct log_cursor *c)
{
	sqlite3 *meta = storage_reader_meta(rd), *db;
	sqlite3_stmt *st;
	int64_t max_day = 0, last = 0;
	bool known;
	int r = db_prepare(meta, "SELECT max(day), EXISTS(SELECT 1 FROM shards WHERE day=?1) FROM shards", &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, c->day);
	if (sqlite3_step(st) == SQLITE_ROW)
		max_day = sqlite3_column_int64(st, 0);
	known = sqlite3_column_int(st, 1);
	sqlite3_finalize(st);
	if (c->day > max_day)
		return -ERANGE;
	/* A shard retention removed: the reader goes on with the next one. */
	if (!known || !(db = storage_reader_shard(rd, c->day)))
		return 0;
	r = db_prepare(db, "SELECT max(id), (SELECT records FROM blocks WHERE id=?1) FROM blocks", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, c->block);
	if (sqlite3_step(st) == SQLITE_ROW) {
		last = sqlite3_column_int64(st, 0);
		if (sqlite3_column_type(st, 1) != SQLITE_NULL && c->rec >= sqlite3_column_int64(st, 1))
			last = -1;
	}
	sqlite3_finalize(st);
	return c->block > last ? -ERANGE : 0;
}

int log_query_run(struct storage_reader *rd, const struct log_query *q, struct log_result *ret)
{
	struct log_result res = { .next = q->after };
	struct scan sc = { .q = q, .res = &res, .pos = q->after };
	sqlite3_stmt *days;
	int r = q->has_cursor ? check_cursor(rd, &q->after) : 0;

	if (r < 0)
		return r;
	r = db_prepare(storage_reader_meta(rd),
		       q->newest_first ?
			       "SELECT day FROM shards WHERE day<=?1 AND ts_max>=?2 AND (?3=0 OR ts_min<=?3) ORDER BY day DESC" :
			       "SELECT day FROM shards WHERE day>=?1 AND ts_max>=?2 AND (?3=0 OR ts_min<=?3) ORDER BY day",
		       &days);
	if (r < 0)
		return r;
	sqlite3_bind_int64(days, 1, q->has_cursor ? q->after.day : q->newest_first ? UINT32_MAX : 0);
	sqlite3_bind_int64(days, 2, (sqlite3_int64)q->since);
	sqlite3_bind_int64(days, 3, (sqlite3_int64)q->until);
	res.items = json_array();
	sc.fields = malloc(FIELDS_MAX * sizeof(*sc.fields));
	sc.dctx = ZSTD_createDCtx();
	buf_init(&sc.raw, SIZE_MAX / 2);
	if (!res.items || !sc.fields || !sc.dctx)
		r = -ENOMEM;
	while (r == 0 && sqlite3_step(days) == SQLITE_ROW)
		r = scan_day(&sc, rd, (uint32_t)sqlite3_column_int64(days, 0));
	sqlite3_finalize(days);
	free(sc.fields);
	free(sc.offsets);
	ZSTD_freeDCtx(sc.dctx);
	buf_free(&sc.raw);
	if (r < 0) {
		json_decref(res.items);
		return r;
	}
	res.complete = r == 0;
	if (res.blocks)
		res.next = sc.pos;
	*ret = res;
	return 0;
}
