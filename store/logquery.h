/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_LOGQUERY_H
#define VIGIL_LOGQUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/util.h"

#include "common/buf.h"
#include "common/export.h"
#include "search/query.h"
#include "search/tally.h"
#include "store/storage.h"

/*
 * GET /api/v1/logs: picks blocks through the shard catalogue and the block
 * index (host, time range, streams), asks each block's token filter whether
 * the query may match in it, decompresses those that may and filters records.
 * Results come in ingest order (or newest first); a cursor (day, block,
 * record) names the last record examined, so a reader resumes exactly after
 * it and never skips logs that arrived late. A query examines at most its
 * budget of decompressed bytes and says whether it reached the end.
 */
struct log_cursor {
	uint32_t day;
	int64_t block;
	uint32_t rec;
	/* Shared in PostgreSQL (backend=postgresql): the block's transaction; day is 0 ("pXID-BLOCK-REC"). */
	uint64_t xid;
};

/*
 * Writes the item of the record at pos (its id), from host, time ts, into o
 * after separator (0: none): 0, or a negative errno with o as far as it got.
 */
typedef int (*log_render_fn)(struct buf *o, char separator, const struct log_cursor *pos, const char *host,
			     const struct export_field *f, size_t n, uint64_t ts, const void *ctx);

/* kind= of records without VIGIL_KIND: lines from files and the journal. */
#define LOG_KIND_LOG "log"

struct log_query {
	const char *host;   /* hostname or agent id; NULL = any */
	const char *source; /* tail name, path, unit or identifier; NULL = any */
	const struct query *match; /* search/query.h; NULL = any */
	const char *kind;   /* VIGIL_KIND (probe, metric, ...), LOG_KIND_LOG, or NULL = any */
	bool by_priority;      /* only records of PRIORITY 0..max_priority (syslog's: 3 err, 4 warning) */
	unsigned max_priority;
	uint64_t since, until; /* microseconds, inclusive; until 0 = open */
	uint32_t limit;
	char separator;     /* between items: ',' (a JSON array's), '\n' (NDJSON's) or 0 (none) */
	/* Each item's text: NULL for the API's JSON (logrender.h); a forwarder's message (forward/). */
	log_render_fn render;
	const void *render_ctx;
	bool newest_first;  /* else ingest order, the order a puller follows */
	bool has_cursor;    /* resume after (newest first: before) after */
	struct log_cursor after;
	uint64_t scan_budget; /* decompressed bytes examined at most */
	unsigned threads;     /* blocks scanned at once ([http] search_threads); 0: one per CPU */
	/*
	 * Counting instead of listing (counts not NULL): each match from since
	 * on adds one to counts[(ts - since) / bucket_us] (the caller's array of
	 * n_buckets); nothing is listed and limit does not apply.
	 */
	uint64_t *counts;
	size_t n_buckets;
	uint64_t bucket_us;
	/*
	 * Or tallying (tally not NULL): each match adds its value of by (a
	 * field by_key, its host, its source) to tally (search/tally.h).
	 */
	struct tally *tally;
	enum { LOG_BY_FIELD, LOG_BY_HOST, LOG_BY_SOURCE } by;
	const char *by_key;
};

/* A page's items stop at this many bytes of JSON, whatever the limit (stopped "limit"). */
#define LOG_ITEMS_SOFT_MAX (64u << 20)

/* What a query found and how far it looked; items is owned by the caller (buf_free()). */
struct log_result {
	struct buf items; /* the items as JSON text, separated by the query's separator */
	size_t n_items;
	struct log_cursor next; /* the last record examined: where the next page resumes */
	bool complete;          /* every block in range was examined: nothing more matches now */
	const char *stopped;    /* why not: "limit" or "budget"; NULL when complete */
	uint64_t blocks, bytes, records; /* examined: blocks, their decompressed bytes, records */
	uint64_t skipped;   /* blocks in range that their index ruled out (not decompressed) */
	uint64_t unindexed; /* blocks examined that have no index (stored before it, or too many tokens) */
	uint64_t without;   /* tallying a field: matches without it */
};

int log_cursor_parse(const char *s, struct log_cursor *ret);
/* "DAY-BLOCK-REC" or "pXID-BLOCK-REC", the longest a cursor's text is, without its NUL. */
#define LOG_CURSOR_TEXT_MAX (3 * U64_DECIMAL_MAX + 3)
/* c as text into out (LOG_CURSOR_TEXT_MAX bytes, no NUL): its length. No printf: it runs for every item. */
size_t log_cursor_text(const struct log_cursor *c, char *out);
void log_cursor_format(const struct log_cursor *c, char *out, size_t size);

/*
 * -ERANGE when q's cursor points past what is stored (a day, block or
 * record never written), or is another store's. With backend=postgresql
 * (storage_reader_shared()) the blocks are every collector's, in the
 * order their transactions ended, read without the token index.
 */
int log_query_run(struct storage_reader *r, const struct log_query *q, struct log_result *ret);

#endif
