/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <jansson.h>
#include <string.h>

#include "common/export.h"
#include "common/fields.h"
#include "common/macro.h"
#include "common/util.h"
#include "parse/container.h"

/* Longer than any RFC 3339 time with nanoseconds and an offset. */
#define TIME_MAX 40

static uint64_t time_of(const char *s, size_t len)
{
	char t[TIME_MAX];
	uint64_t us;

	if (len == 0 || len >= sizeof(t))
		return 0;
	memcpy(t, s, len);
	t[len] = '\0';
	return parse_rfc3339(t, &us) == 0 ? us : 0;
}

static const char *stream_of(const char *s, size_t len)
{
	if (len == 6 && memcmp(s, "stdout", 6) == 0)
		return "stdout";
	if (len == 6 && memcmp(s, "stderr", 6) == 0)
		return "stderr";
	return NULL;
}

static int decode_plain(const char *line, size_t len, struct buf *scratch, struct line_view *v)
{
	*v = (struct line_view){ .msg = line, .len = len };
	return 0;
}

/* The next space-ended word of [*p, end): its length, and *p past the space; 0 when there is no space. */
static size_t word(const char **p, const char *end, const char **ret)
{
	const char *sp = memchr(*p, ' ', (size_t)(end - *p));

	if (!sp)
		return 0;
	*ret = *p;
	*p = sp + 1;
	return (size_t)(sp - *ret);
}

static int decode_cri(const char *line, size_t len, struct buf *scratch, struct line_view *v)
{
	const char *p = line, *end = line + len, *ts, *stream, *tags, *sp;
	size_t ts_len = word(&p, end, &ts), stream_len, tags_len;

	*v = (struct line_view){ .msg = line, .len = len };
	if (!ts_len || !(stream_len = word(&p, end, &stream)))
		return -EBADMSG;
	/* The tags are the line's last word when the message is empty and its space was not written. */
	tags = p;
	sp = memchr(p, ' ', (size_t)(end - p));
	tags_len = (size_t)((sp ? sp : end) - p);
	p = sp ? sp + 1 : end;
	v->time_us = time_of(ts, ts_len);
	v->stream = stream_of(stream, stream_len);
	/* Tags are ':'-separated; the first is P (partial) or F (full). */
	if (!v->time_us || !v->stream || !tags_len || (tags[0] != 'P' && tags[0] != 'F') ||
	    (tags_len > 1 && tags[1] != ':')) {
		*v = (struct line_view){ .msg = line, .len = len };
		return -EBADMSG;
	}
	v->partial = tags[0] == 'P';
	v->msg = p;
	v->len = (size_t)(end - p);
	return 0;
}

static int decode_docker(const char *line, size_t len, struct buf *scratch, struct line_view *v)
{
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *log = json_object_get(o, "log"), *stream = json_object_get(o, "stream"),
	       *time = json_object_get(o, "time");
	int r = -EBADMSG;

	*v = (struct line_view){ .msg = line, .len = len };
	if (json_is_string(log) && json_is_string(stream) && json_is_string(time)) {
		const char *m = json_string_value(log);
		size_t n = json_string_length(log);

		v->partial = n == 0 || m[n - 1] != '\n';
		n -= v->partial ? 0 : 1;
		buf_reset(scratch);
		r = buf_append(scratch, m, n);
		if (r == 0) {
			v->msg = (const char *)scratch->data;
			v->len = n;
			v->stream = stream_of(json_string_value(stream), json_string_length(stream));
			v->time_us = time_of(json_string_value(time), json_string_length(time));
		} else {
			*v = (struct line_view){ .msg = line, .len = len };
		}
	}
	json_decref(o);
	return r;
}

const struct line_format *line_format_find(const char *name)
{
	static const struct line_format formats[] = {
		{ "plain", decode_plain },
		{ "cri", decode_cri },
		{ "docker", decode_docker },
	};

	for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
		if (strcmp(formats[i].name, name) == 0)
			return &formats[i];
	return NULL;
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int container_path_fields(const char *path, struct buf *out)
{
	/* Pod and namespace names are DNS labels and subdomains: no '_'. The id is 64 hex digits. */
	const char *base = strrchr(path, '/'), *u1, *u2, *end;
	size_t len, r;
	int e;

	base = base ? base + 1 : path;
	len = strlen(base);
	if (len < 4 || strcmp(base + len - 4, ".log") != 0)
		return 0;
	end = base + len - 4;
	u1 = memchr(base, '_', (size_t)(end - base));
	u2 = u1 ? memchr(u1 + 1, '_', (size_t)(end - u1 - 1)) : NULL;
	if (!u1 || !u2 || u1 == base || u2 == u1 + 1 || end - u2 - 1 < 66 || end[-65] != '-' ||
	    !all_hex(end - 64, 64))
		return 0;
	r = (size_t)(end - 65 - (u2 + 1));
	e = export_put_n(out, FIELD_K8S_POD, FIELD_LEN(FIELD_K8S_POD), base, (size_t)(u1 - base));
	if (e == 0)
		e = export_put_n(out, FIELD_K8S_NAMESPACE, FIELD_LEN(FIELD_K8S_NAMESPACE), u1 + 1,
				 (size_t)(u2 - u1 - 1));
	if (e == 0)
		e = export_put_n(out, FIELD_CONTAINER_NAME, FIELD_LEN(FIELD_CONTAINER_NAME), u2 + 1, r);
	if (e == 0)
		e = export_put_n(out, FIELD_CONTAINER_ID, FIELD_LEN(FIELD_CONTAINER_ID), end - 64, 64);
	return e < 0 ? e : 1;
}
