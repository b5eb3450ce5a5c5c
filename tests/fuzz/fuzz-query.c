/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the log query language and the token index. The input
 * is a query, a NUL, then a message. A query that parses is matched against
 * a record of that message (and a few fields); a record it matches must be
 * one whose block the index would read: the index never rules a match out.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "search/query.h"
#include "search/tokens.h"
#include "tests/fuzz/fuzz.h"

static void field(struct export_field *f, const char *key, const void *value, size_t len)
{
	*f = (struct export_field){ .key = key, .key_len = strlen(key), .value = value, .value_len = len };
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t qlen = nul ? (size_t)(nul - data) : size;
	const uint8_t *msg = nul ? nul + 1 : data + size;
	size_t mlen = (size_t)(data + size - msg);
	char *text = malloc(qlen + 1), err[256];
	struct export_field f[4];
	struct tokens_builder *b = tokens_builder_new();
	struct query_scratch s = { 0 };
	struct query *q = NULL;
	uint8_t *blob = NULL;
	size_t len = 0;

	if (!text || !b)
		abort();
	memcpy(text, data, qlen);
	text[qlen] = 0;
	field(&f[0], "MESSAGE", msg, mlen);
	field(&f[1], "STATUS", "502", 3);
	field(&f[2], "PRIORITY", "3", 1);
	field(&f[3], "_SYSTEMD_UNIT", msg, mlen < 64 ? mlen : 64);
	tokens_of_text(msg, mlen, tokens_builder_add, b);
	for (int i = 1; i < 4; i++)
		tokens_builder_add(tokens_of_field(f[i].key, f[i].key_len, f[i].value, f[i].value_len), b);
	if (query_parse(text, &q, err, sizeof(err)) == 0 && tokens_builder_write(b, &blob, &len) == 0) {
		struct query_record r = { .fields = f, .n = 4, .host = "web-1", .agent = "00ff" };
		struct query_block blk = { .host = "web-1", .agent = "00ff", .index = blob, .index_len = len };
		if (query_match(q, &r, &s) && !query_block_may_match(q, &blk))
			__builtin_trap();
	}
	free(blob);
	query_scratch_free(&s);
	query_free(q);
	tokens_builder_free(b);
	free(text);
	return 0;
}
