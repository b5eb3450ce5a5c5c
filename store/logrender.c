/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <string.h>

#include "common/fields.h"
#include "common/json.h"
#include "store/logrender.h"

const char *log_record_source(const struct export_field *f, size_t n, size_t *ret_len)
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
	int r = buf_append_lit(o, "\"fields\":{");

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

int log_render_item(struct buf *o, char separator, const struct log_cursor *pos, const char *host,
		    const struct export_field *f, size_t n, uint64_t ts)
{
	const struct export_field *msg = export_find(f, n, FIELD_MESSAGE);
	size_t slen;
	const char *src = log_record_source(f, n, &slen);
	char id[LOG_CURSOR_TEXT_MAX];
	int r = separator ? buf_putc(o, separator) : 0;

	if (r == 0)
		r = buf_append_lit(o, "{\"id\":\"");
	if (r == 0)
		r = buf_append(o, id, log_cursor_text(pos, id));
	if (r == 0)
		r = buf_append_lit(o, "\",\"ts\":");
	if (r == 0)
		r = buf_put_u64(o, ts);
	if (r == 0)
		r = buf_append_lit(o, ",\"host\":");
	if (r == 0)
		r = json_buf_string(o, (const uint8_t *)host, strlen(host));
	if (r == 0)
		r = buf_append_lit(o, ",\"source\":");
	if (r == 0)
		r = json_buf_string(o, (const uint8_t *)src, slen);
	if (r == 0)
		r = buf_append_lit(o, ",\"message\":");
	if (r == 0)
		r = json_buf_string(o, msg ? msg->value : (const uint8_t *)"", msg ? msg->value_len : 0);
	if (r == 0)
		r = buf_putc(o, ',');
	if (r == 0)
		r = render_fields(o, f, n, msg);
	if (r == 0)
		r = buf_putc(o, '}');
	return r;
}
