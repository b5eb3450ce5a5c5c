/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fields.h"
#include "common/macro.h"
#include "common/util.h"
#include "forward/format.h"
#include "store/logrender.h"

struct view;

struct forward_format {
	const char *name;
	int (*render)(struct buf *o, const struct view *v, const struct forward_style *st);
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

/* A field's value as a number of at most max, or def. */
static unsigned field_number(const struct export_field *f, size_t n, const char *key, unsigned max, unsigned def)
{
	const struct export_field *v = export_find(f, n, key);
	uint64_t x;

	return v && export_value_u64(v->value, v->value_len, &x) && x <= max ? (unsigned)x : def;
}

/* What the formats take from a record, found once; and the record as the query gave it. */
struct view {
	const struct log_cursor *pos;
	const char *block_host;
	const struct export_field *f;
	size_t n;
	const uint8_t *msg, *host, *app, *src, *pid;
	size_t msg_len, host_len, app_len, src_len, pid_len;
	unsigned facility, severity; /* syslog's: 0-23, 0-7 */
	char id[LOG_CURSOR_TEXT_MAX];
	size_t id_len;
	uint64_t ts;
};

static void value_of(const struct export_field *f, size_t n, const char *key, const uint8_t **p, size_t *len)
{
	const struct export_field *v = export_find(f, n, key);

	*p = v ? v->value : (const uint8_t *)"";
	*len = v ? v->value_len : 0;
}

/*
 * The host is the record's _HOSTNAME, else its block's; the application
 * SYSLOG_IDENTIFIER, else the source; the priority PRIORITY and
 * SYSLOG_FACILITY (user.info without them).
 */
static void view_of(struct view *v, const struct log_cursor *pos, const char *host, const struct export_field *f,
		    size_t n, uint64_t ts)
{
	const char *src = log_record_source(f, n, &v->src_len);

	v->pos = pos;
	v->block_host = host;
	v->f = f;
	v->n = n;
	v->src = (const uint8_t *)src;
	value_of(f, n, FIELD_MESSAGE, &v->msg, &v->msg_len);
	value_of(f, n, FIELD_HOST, &v->host, &v->host_len);
	if (!v->host_len) {
		v->host = (const uint8_t *)host;
		v->host_len = strlen(host);
	}
	value_of(f, n, FIELD_IDENTIFIER, &v->app, &v->app_len);
	if (!v->app_len) {
		v->app = v->src;
		v->app_len = v->src_len;
	}
	value_of(f, n, "_PID", &v->pid, &v->pid_len);
	v->facility = field_number(f, n, "SYSLOG_FACILITY", 23, 1);
	v->severity = field_number(f, n, FIELD_PRIORITY, 7, 6);
	v->id_len = log_cursor_text(pos, v->id);
	v->ts = ts;
}

/* ts (microseconds since the epoch) in UTC, with digits of its second (6 or 3): 2026-11-21T08:00:00.123456Z. */
static int put_time(struct buf *o, uint64_t ts, int digits)
{
	time_t sec = (time_t)(ts / USEC_PER_SEC);
	unsigned frac = (unsigned)(ts % USEC_PER_SEC) / (digits == 3 ? 1000 : 1);
	struct tm tm;

	if (!gmtime_r(&sec, &tm))
		return buf_append_lit(o, "-");
	return buf_printf(o, "%04d-%02d-%02dT%02d:%02d:%02d.%0*uZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			  tm.tm_hour, tm.tm_min, tm.tm_sec, digits, frac);
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

/* <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID - [SD-ID id="CURSOR" source="…"]: what every format sends first. */
static int put_header(struct buf *o, const struct view *v, const struct forward_style *st)
{
	int r = buf_printf(o, "<%u>1 ", v->facility * 8 + v->severity);

	if (r == 0)
		r = put_time(o, v->ts, 6);
	if (r == 0)
		r = put_header_field(o, v->host, v->host_len, HOSTNAME_MAX);
	if (r == 0)
		r = put_header_field(o, v->app, v->app_len, APP_NAME_MAX);
	if (r == 0)
		r = put_header_field(o, v->pid, v->pid_len, PROCID_MAX);
	if (r == 0)
		r = buf_printf(o, " - [%s", st->sd_id);
	if (r == 0)
		r = put_param(o, "id", (const uint8_t *)v->id, v->id_len);
	if (r == 0 && v->src_len)
		r = put_param(o, "source", v->src, v->src_len);
	return r ? r : buf_putc(o, ']');
}

/* The header, then the message as stored (UTF-8, no BOM). */
static int render_rfc5424(struct buf *o, const struct view *v, const struct forward_style *st)
{
	int r = put_header(o, v, st);

	if (r == 0 && v->msg_len)
		r = buf_putc(o, ' ');
	return r ? r : buf_append(o, v->msg, v->msg_len);
}

/* p with each byte of special written as its escape (a byte, or "\\n" for a line feed) after a backslash. */
static int put_escaped(struct buf *o, const uint8_t *p, size_t len, const char *special)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < len; i++) {
		if (p[i] == '\n' || p[i] == '\r') {
			r = buf_append(o, p[i] == '\n' ? "\\n" : "\\r", 2);
			continue;
		}
		if (p[i] && strchr(special, p[i]))
			r = buf_putc(o, '\\');
		if (r == 0)
			r = buf_putc(o, (char)p[i]);
	}
	return r;
}

/* How much of p (len bytes) to keep for at most max: up to a character's first byte, not inside it. */
static size_t utf8_cut(const uint8_t *p, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && (p[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/* syslog's severity (0 emergency .. 7 debug) as CEF's and LEEF's 0-10 (10 the most severe). */
static unsigned severity_10(unsigned severity)
{
	static const unsigned map[8] = { 10, 9, 8, 7, 5, 3, 2, 1 };

	return map[severity & 7];
}

/*
 * The header, then CEF (ArcSight's Common Event Format, version 0):
 * CEF:0|vigil|vigil|VERSION|SOURCE|MESSAGE|SEVERITY|rt=MS dvchost=HOST
 * dvcpid=PID externalId=CURSOR msg=MESSAGE; '|' and '\' escaped in the
 * header, '=' and '\' in values, line feeds written \n.
 */
static int render_cef(struct buf *o, const struct view *v, const struct forward_style *st)
{
	int r = put_header(o, v, st);

	if (r == 0)
		r = buf_append_lit(o, " CEF:0|vigil|vigil|" PACKAGE_VERSION "|");
	if (r == 0)
		r = put_escaped(o, v->app, v->app_len, "|\\");
	if (r == 0)
		r = buf_putc(o, '|');
	if (r == 0)
		r = put_escaped(o, v->msg, utf8_cut(v->msg, v->msg_len, 512), "|\\");
	if (r == 0)
		r = buf_printf(o, "|%u|rt=%" PRIu64 " dvchost=", severity_10(v->severity), v->ts / 1000);
	if (r == 0)
		r = put_escaped(o, v->host, v->host_len, "=\\");
	if (r == 0 && v->pid_len)
		r = buf_append_lit(o, " dvcpid=");
	if (r == 0 && v->pid_len)
		r = put_escaped(o, v->pid, v->pid_len, "=\\");
	if (r == 0)
		r = buf_printf(o, " externalId=%.*s msg=", (int)v->id_len, v->id);
	return r ? r : put_escaped(o, v->msg, v->msg_len, "=\\");
}

/* A LEEF value: a tab (the delimiter) written as a space, a line feed \n. */
static int put_leef(struct buf *o, const char *key, const uint8_t *p, size_t len)
{
	int r = buf_printf(o, "\t%s=", key);

	for (size_t i = 0; r == 0 && i < len; i++)
		r = p[i] == '\t' ? buf_putc(o, ' ') : p[i] == '\n' ? buf_append(o, "\\n", 2) : buf_putc(o, (char)p[i]);
	return r;
}

/*
 * The header, then LEEF 1.0 (QRadar's Log Event Extended Format):
 * LEEF:1.0|vigil|vigil|VERSION|SOURCE|devTime=…, the attributes
 * tab-separated: devTime and devTimeFormat, sev, identHostName, pid,
 * vigilId (the cursor), source, msg.
 */
static int render_leef(struct buf *o, const struct view *v, const struct forward_style *st)
{
	int r = put_header(o, v, st);

	if (r == 0)
		r = buf_append_lit(o, " LEEF:1.0|vigil|vigil|" PACKAGE_VERSION "|");
	for (size_t i = 0; r == 0 && i < v->app_len; i++)
		r = buf_putc(o, v->app[i] == '|' || v->app[i] < 32 ? '_' : (char)v->app[i]);
	if (r == 0)
		r = buf_append_lit(o, "|devTime=");
	if (r == 0)
		r = put_time(o, v->ts, 3);
	if (r == 0)
		r = buf_printf(o, "\tdevTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSX\tsev=%u", severity_10(v->severity));
	if (r == 0)
		r = put_leef(o, "identHostName", v->host, v->host_len);
	if (r == 0 && v->pid_len)
		r = put_leef(o, "pid", v->pid, v->pid_len);
	if (r == 0)
		r = put_leef(o, "vigilId", (const uint8_t *)v->id, v->id_len);
	if (r == 0 && v->src_len)
		r = put_leef(o, "source", v->src, v->src_len);
	return r ? r : put_leef(o, "msg", v->msg, v->msg_len);
}

/* The item GET /api/v1/logs answers with (docs/api.md), one JSON object a message. */
static int render_json(struct buf *o, const struct view *v, const struct forward_style *st)
{
	(void)st;
	return log_render_item(o, 0, v->pos, v->block_host, v->f, v->n, v->ts);
}

static const struct forward_format formats[] = {
	{ "rfc5424", render_rfc5424 },
	{ "json", render_json },
	{ "cef", render_cef },
	{ "leef", render_leef },
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
	return "rfc5424 json cef leef";
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

/* The message rendered from start on (r: how that went) cut to max_message and framed; o back at start on error. */
static int frame(struct buf *o, size_t start, int r, const struct forward_style *st)
{
	if (r == 0 && !st->octet_counted)
		r = escape_lf(o, start);
	if (r == 0 && o->len - start > st->max_message) {
		o->len = start + utf8_cut(o->data + start, o->len - start, st->max_message);
		atomic_fetch_add_explicit(st->truncated, 1, memory_order_relaxed);
	}
	if (r == 0)
		r = st->octet_counted ? prefix_length(o, start) : buf_putc(o, '\n');
	if (r < 0)
		o->len = start;
	return r;
}

static void note_time(const struct forward_style *st, uint64_t ts)
{
	if (st->oldest_ts && (!*st->oldest_ts || ts < *st->oldest_ts))
		*st->oldest_ts = ts;
}

int forward_render(struct buf *o, char separator, const struct log_cursor *pos, const char *host,
		   const struct export_field *f, size_t n, uint64_t ts, const void *ctx)
{
	const struct forward_style *st = ctx;
	size_t start = o->len;
	struct view v;

	(void)separator;
	note_time(st, ts);
	view_of(&v, pos, host, f, n, ts);
	return frame(o, start, st->format->render(o, &v, st), st);
}

/* A member of item as text ("" when absent; a number in decimal). */
static const char *member(const json_t *item, const char *key, char num[24])
{
	const json_t *v = json_object_get(item, key);

	if (json_is_integer(v)) {
		(void)snprintf(num, 24, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return num;
	}
	/* As the seals' text says it. */
	if (json_is_boolean(v))
		return json_is_true(v) ? "1" : "0";
	return json_is_string(v) ? json_string_value(v) : "";
}

/*
 * An event as RFC 5424: the header from pri, the item's ts and host, app
 * "vigil" and msgid; then [SD_ID id="…" KEY="…"…] of the item's members
 * named in keys; then the members of text (joined by " — ") as the message.
 */
static int render_event(struct buf *o, const json_t *item, unsigned pri, const char *host, const char *msgid,
			const char *const *keys, const char *const *text, const struct forward_style *st)
{
	json_int_t ts = json_integer_value(json_object_get(item, "ts"));
	char num[24];
	bool first = true;
	int r = buf_printf(o, "<%u>1 ", pri);

	if (r == 0)
		r = put_time(o, ts > 0 ? (uint64_t)ts : 0, 6);
	if (r == 0)
		r = put_header_field(o, (const uint8_t *)host, strlen(host), HOSTNAME_MAX);
	if (r == 0)
		r = buf_printf(o, " vigil - %s [%s", msgid, st->sd_id);
	for (size_t k = 0; r == 0 && keys[k]; k++) {
		const char *v = member(item, keys[k], num);
		if (*v)
			r = put_param(o, keys[k], (const uint8_t *)v, strlen(v));
	}
	if (r == 0)
		r = buf_putc(o, ']');
	/* A note the summary holds already (a fired alert's is its value) is not said twice. */
	for (size_t k = 0; r == 0 && text[k]; k++) {
		char first_num[24];
		const char *v = member(item, text[k], num);
		if (!*v || (k && strstr(member(item, text[0], first_num), v)))
			continue;
		r = first ? buf_putc(o, ' ') : buf_append_lit(o, " — ");
		if (r == 0)
			r = buf_append(o, v, strlen(v));
		first = false;
	}
	return r;
}

/* format=json: the item as the API gives it, compact. */
static int render_item_json(struct buf *o, const json_t *item)
{
	char *s = json_dumps(item, JSON_COMPACT | JSON_ENSURE_ASCII);
	int r = s ? buf_append(o, s, strlen(s)) : -ENOMEM;

	free(s);
	return r;
}

static bool is_json(const struct forward_style *st)
{
	return st->format == forward_format_find("json");
}

int forward_render_alert_event(struct buf *o, const json_t *item, const struct forward_style *st)
{
	static const char *const keys[] = { "id", "alert", "rule", "severity", "action", "actor", NULL };
	static const char *const text[] = { "summary", "note", NULL };
	/* log alert (14), at the severity's syslog level: disaster crit, critical err, warning, info. */
	const char *sev = json_string_value(json_object_get(item, "severity"));
	unsigned level = !sev ? 6 : !strcmp(sev, "disaster") ? 2 : !strcmp(sev, "critical") ? 3 :
				   !strcmp(sev, "warning") ? 4 : 6;
	const char *host = json_string_value(json_object_get(item, "host"));
	json_int_t ts = json_integer_value(json_object_get(item, "ts"));
	size_t start = o->len;

	note_time(st, ts > 0 ? (uint64_t)ts : 0);
	return frame(o, start, is_json(st) ? render_item_json(o, item)
					   : render_event(o, item, 14 * 8 + level, host ? host : "", "alert", keys, text, st),
		     st);
}

int forward_render_audit_row(struct buf *o, const json_t *item, const char *host, const struct forward_style *st)
{
	static const char *const keys[] = { "id", "user", "role", "action", "object", "outcome", "status", "source", NULL };
	static const char *const text[] = { "detail", NULL };
	/* log audit (13): notice for what succeeded, warning for what was refused or failed. */
	const char *outcome = json_string_value(json_object_get(item, "outcome"));
	unsigned level = outcome && strcmp(outcome, "success") == 0 ? 5 : 4;
	json_int_t ts = json_integer_value(json_object_get(item, "ts"));
	size_t start = o->len;

	note_time(st, ts > 0 ? (uint64_t)ts : 0);
	return frame(o, start, is_json(st) ? render_item_json(o, item)
					   : render_event(o, item, 13 * 8 + level, host, "audit", keys, text, st),
		     st);
}

int forward_render_seal(struct buf *o, const json_t *item, const char *host, const struct forward_style *st)
{
	static const char *const keys[] = { "id", "day", "blocks", "last_block", "head", "audit_id", "audit_head",
					    "closed", "chain", "method", "key", "prev", "signature", NULL };
	static const char *const text[] = { NULL };
	json_int_t ts = json_integer_value(json_object_get(item, "ts"));
	size_t start = o->len;

	note_time(st, ts > 0 ? (uint64_t)ts : 0);
	return frame(o, start, is_json(st) ? render_item_json(o, item)
					   : render_event(o, item, 13 * 8 + 5, host, "seal", keys, text, st),
		     st);
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
