/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/util.h"

json_t *json_bytes(const uint8_t *p, size_t len)
{
	struct buf b;
	json_t *j;
	size_t i = 0, k;

	while (i < len && (k = utf8_sequence(p + i, len - i)))
		i += k;
	if (i == len)
		return json_stringn_nocheck((const char *)p, len);
	buf_init(&b, len * 3 + 1);
	(void)buf_append(&b, p, i);
	while (i < len) {
		k = utf8_sequence(p + i, len - i);
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

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/*
 * Whether none of the 8 bytes at p needs a look: ASCII, not a control, '"'
 * or '\\'. A byte below n sets its high bit in (x - n*ONES) & ~x (exact for
 * bytes below 0x80, and x's own high bits are ruled out first).
 */
static bool plain8(const uint8_t *p)
{
	uint64_t x, quote, backslash;

	memcpy(&x, p, sizeof(x));
	quote = x ^ ('"' * ONES);
	backslash = x ^ ('\\' * ONES);
	return !((x | ((x - 0x20 * ONES) & ~x) | ((quote - ONES) & ~quote) | ((backslash - ONES) & ~backslash)) & HIGHS);
}

int json_buf_string(struct buf *b, const uint8_t *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, run = 0, k;
	int r = buf_putc(b, '"');

	/* Runs of what needs no escape go out in one append; log text is mostly such runs, 8 bytes a step. */
	while (r == 0 && i < len) {
		uint8_t c;

		if (len - i >= 8 && plain8(p + i)) {
			i += 8;
			continue;
		}
		c = p[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			i++;
			continue;
		}
		k = c >= 0x80 ? utf8_sequence(p + i, len - i) : 0;
		if (k) {
			i += k;
			continue;
		}
		r = buf_append(b, p + run, i - run);
		if (r == 0 && c >= 0x80)
			r = buf_append(b, "\xef\xbf\xbd", 3);
		else if (r == 0 && (c == '"' || c == '\\'))
			r = buf_append(b, c == '"' ? "\\\"" : "\\\\", 2);
		else if (r == 0 && (c == '\n' || c == '\r' || c == '\t'))
			r = buf_append(b, c == '\n' ? "\\n" : c == '\r' ? "\\r" : "\\t", 2);
		else if (r == 0)
			r = buf_append(b, (char[]){ '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] }, 6);
		run = ++i;
	}
	if (r == 0)
		r = buf_append(b, p + run, i - run);
	return r == 0 ? buf_putc(b, '"') : r;
}
