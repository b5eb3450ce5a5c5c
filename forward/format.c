/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "common/fields.h"
#include "common/macro.h"
#include "common/util.h"
#include "forward/format.h"
#include "store/logrender.h"

struct forward_format {
	const char *name;
	int (*render)(struct buf *o, const struct log_cursor *pos, const char *host, const struct export_field *f,
		      size_t n, uint64_t ts, const struct forward_style *st);
};

/* RFC 5424's field lengths (6.2). */
#define HOSTNAME_MAX 255
#define APP_NAME_MAX 48
#define PROCID_MAX 128

/* A header field: printable ASCII (33-126) kept, any other byte written '_', at most max bytes; "-" for none. */
static int put_header_field(struct buf *o, const uint8_t *p, size_t len, size_t max)
{
	int r = 0;

	if (!len)
		return buf_append_lit(o, " -");
	r = buf_putc(o, ' ');
	for (size_t i = 0; r == 0 && i < MIN(len, max); i++)
		r = buf_putc(o, p[i] > 32 && p[i] < 127 ? (char)p[i] : '_');
	return r;
}

static int put_field(struct buf *o, const struct export_field *f, size_t n, const char *key, size_t max)
{
	const struct export_field *v = export_find(f, n, key);

	return put_header_field(o, v ? v->value : NULL, v ? v->value_len : 0, max);
}

/* A field's value as a number of at most max, or def. */
static unsigned field_number(const struct export_field *f, size_t n, const char *key, unsigned max, unsigned def)
{
	const struct export_field *v = export_find(f, n, key);
	uint64_t x;

	return v && export_value_u64(v->value, v->value_len, &x) && x <= max ? (unsigned)x : def;
}

/* ts (microseconds since the epoch) as RFC 3339 in UTC with microseconds: 2026-11-21T08:00:00.123456Z. */
static int put_timestamp(struct buf *o, uint64_t ts)
{
	time_t sec = (time_t)(ts / USEC_PER_SEC);
	struct tm tm;

	if (!gmtime_r(&sec, &tm))
		return buf_append_lit(o, " -");
	return buf_printf(o, " %04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			  tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ts % USEC_PER_SEC));
}

/* An SD-PARAM's value: '"', '\' and ']' escaped with '\' (RFC 5424 6.3.3). */
static int put_param(struct buf *o, const char *name, const uint8_t *p, size_t len)
{
	int r = buf_printf(o, " %s=\"", name);

	for (size_t i = 0; r == 0 && i < len; i++) {
		if (p[i] == '"' || p[i] == '\\' || p[i] == ']')
			r = buf_putc(o, '\\');
		if (r == 0)
			r = buf_putc(o, (char)p[i]);
	}
	return r ? r : buf_putc(o, '"');
}

/*
 * <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID - [SD-ID id="CURSOR" source="…"] MSG:
 * the priority from PRIORITY and SYSLOG_FACILITY (user.info without them), the
 * host the record's _HOSTNAME or else its block's, the application from
 * SYSLOG_IDENTIFIER or else the source, the process from _PID; the message as
 * stored, without a BOM.
 */
static int render_rfc5424(struct buf *o, const struct log_cursor *pos, const char *host,
			  const struct export_field *f, size_t n, uint64_t ts, const struct forward_style *st)
{
	const struct export_field *msg = export_find(f, n, FIELD_MESSAGE), *app = export_find(f, n, FIELD_IDENTIFIER),
				  *own_host = export_find(f, n, FIELD_HOST);
	unsigned pri = field_number(f, n, "SYSLOG_FACILITY", 23, 1) * 8 + field_number(f, n, FIELD_PRIORITY, 7, 6);
	char id[LOG_CURSOR_TEXT_MAX];
	size_t slen;
	const char *src = log_record_source(f, n, &slen);
	int r = buf_printf(o, "<%u>1", pri);

	if (r == 0)
		r = put_timestamp(o, ts);
	if (r == 0 && own_host)
		r = put_header_field(o, own_host->value, own_host->value_len, HOSTNAME_MAX);
	else if (r == 0)
		r = put_header_field(o, (const uint8_t *)host, strlen(host), HOSTNAME_MAX);
	if (r == 0)
		r = app ? put_header_field(o, app->value, app->value_len, APP_NAME_MAX)
			: put_header_field(o, (const uint8_t *)src, slen, APP_NAME_MAX);
	if (r == 0)
		r = put_field(o, f, n, "_PID", PROCID_MAX);
	if (r == 0)
		r = buf_printf(o, " - [%s", st->sd_id);
	if (r == 0)
		r = put_param(o, "id", (const uint8_t *)id, log_cursor_text(pos, id));
	if (r == 0 && slen)
		r = put_param(o, "source", (const uint8_t *)src, slen);
	if (r == 0)
		r = buf_putc(o, ']');
	if (r == 0 && msg && msg->value_len)
		r = buf_putc(o, ' ');
	if (r == 0 && msg)
		r = buf_append(o, msg->value, msg->value_len);
	return r;
}

/* The item GET /api/v1/logs answers with (docs/api.md), one JSON object a message. */
static int render_json(struct buf *o, const struct log_cursor *pos, const char *host, const struct export_field *f,
		       size_t n, uint64_t ts, const struct forward_style *st)
{
	(void)st;
	return log_render_item(o, 0, pos, host, f, n, ts);
}

static const struct forward_format formats[] = {
	{ "rfc5424", render_rfc5424 },
	{ "json", render_json },
};

const struct forward_format *forward_format_find(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(formats); i++)
		if (strcmp(formats[i].name, name) == 0)
			return &formats[i];
	return NULL;
}

const char *forward_format_names(void)
{
	return "rfc5424 json";
}

/* Line feeds in o from start on written #012 (rsyslog's escape), so that each message stays one line. */
static int escape_lf(struct buf *o, size_t start)
{
	size_t lf = 0, end = o->len, at;
	int r;

	for (size_t i = start; i < end; i++)
		lf += o->data[i] == '\n';
	if (!lf)
		return 0;
	if ((r = buf_reserve(o, 3 * lf)) < 0)
		return r;
	o->len = at = end + 3 * lf;
	while (end > start) {
		uint8_t c = o->data[--end];
		if (c == '\n') {
			at -= 4;
			memcpy(o->data + at, "#012", 4);
		} else {
			o->data[--at] = c;
		}
	}
	return 0;
}

/* The message from start on made "LEN SP MSG" (RFC 6587 3.4.1). */
static int prefix_length(struct buf *o, size_t start)
{
	char digits[U64_DECIMAL_MAX + 1];
	size_t len = o->len - start, d = (size_t)u64_decimal(len, digits);
	int r = buf_reserve(o, d + 1);

	if (r < 0)
		return r;
	memmove(o->data + start + d + 1, o->data + start, len);
	memcpy(o->data + start, digits, d);
	o->data[start + d] = ' ';
	o->len += d + 1;
	return 0;
}

int forward_render(struct buf *o, char separator, const struct log_cursor *pos, const char *host,
		   const struct export_field *f, size_t n, uint64_t ts, const void *ctx)
{
	const struct forward_style *st = ctx;
	size_t start = o->len;
	int r;

	(void)separator;
	if (st->oldest_ts && (!*st->oldest_ts || ts < *st->oldest_ts))
		*st->oldest_ts = ts;
	r = st->format->render(o, pos, host, f, n, ts, st);
	if (r == 0 && !st->octet_counted)
		r = escape_lf(o, start);
	if (r == 0 && o->len - start > st->max_message) {
		size_t cut = start + st->max_message;
		/* At a character's first byte, not inside it. */
		while (cut > start && (o->data[cut] & 0xc0) == 0x80)
			cut--;
		o->len = cut;
		atomic_fetch_add_explicit(st->truncated, 1, memory_order_relaxed);
	}
	if (r == 0)
		r = st->octet_counted ? prefix_length(o, start) : buf_putc(o, '\n');
	if (r < 0)
		o->len = start;
	return r;
}

bool forward_sd_id_valid(const char *sd_id)
{
	size_t len = strlen(sd_id);

	if (len < 1 || len > 32)
		return false;
	for (size_t i = 0; i < len; i++)
		if (sd_id[i] <= 32 || sd_id[i] >= 127 || strchr("= ]\"", sd_id[i]))
			return false;
	return true;
}

int forward_next_frame(const uint8_t *p, size_t len, const uint8_t **msg, size_t *msg_len)
{
	size_t i = 0, n = 0;

	if (!len)
		return 0;
	while (i < len && i < 10 && p[i] >= '0' && p[i] <= '9')
		n = n * 10 + (size_t)(p[i++] - '0');
	if (i == 0 || i >= len || p[i] != ' ' || n > len - i - 1)
		return -EBADMSG;
	*msg = p + i + 1;
	*msg_len = n;
	return (int)(i + 1 + n);
}
