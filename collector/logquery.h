/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_LOGQUERY_H
#define VIGIL_LOGQUERY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "storage.h"

/*
 * GET /api/v1/logs: picks blocks through the shard catalogue and the block
 * index (host, time range, streams), decompresses them and filters records.
 * Results come in ingest order; a cursor (day, block, record) names the last
 * record examined, so a reader resumes exactly after it and never skips
 * logs that arrived late.
 */
struct log_cursor {
	uint32_t day;
	int64_t block;
	uint32_t rec;
};

struct log_query {
	const char *host;   /* hostname or agent id; NULL = any */
	const char *source; /* tail name, path, unit or identifier; NULL = any */
	const char *q;      /* substring of MESSAGE; NULL = any */
	uint64_t since, until; /* microseconds, inclusive; until 0 = open */
	uint32_t limit;
	struct log_cursor after;
	uint64_t scan_budget; /* decompressed bytes examined at most */
};

int log_cursor_parse(const char *s, struct log_cursor *ret);
void log_cursor_format(const struct log_cursor *c, char *out, size_t size);

/* Fills items (a new JSON array, owned by the caller) and the cursor to resume from. */
int log_query_run(struct storage_reader *r, const struct log_query *q, json_t **ret_items,
		  struct log_cursor *ret_next);

/* A JSON string of arbitrary bytes: invalid UTF-8 becomes U+FFFD. */
json_t *json_bytes(const uint8_t *p, size_t len);

#endif
