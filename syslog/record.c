/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/export.h"
#include "common/fields.h"
#include "common/hash.h"
#include "common/macro.h"
#include "syslog/record.h"

static const char *const format_names[] = {
	[SYSLOG_RFC5424] = "rfc5424",
	[SYSLOG_RFC3164] = "rfc3164",
	[SYSLOG_UNPARSED] = "unparsed",
};

static int put_slice(struct buf *b, const char *key, struct syslog_slice s)
{
	return s.p ? export_put(b, key, s.p, s.len) : 0;
}

/* SYSLOG_SD_<ID>_<NAME>: upper case, and '_' for anything a field name cannot hold. */
static size_t sd_key(struct syslog_slice id, struct syslog_slice name, char key[EXPORT_KEY_MAX + 1])
{
	size_t n = (size_t)snprintf(key, EXPORT_KEY_MAX + 1, "SYSLOG_SD_%.*s_%.*s", (int)id.len, (const char *)id.p,
				    (int)name.len, (const char *)name.p);

	n = MIN(n, (size_t)EXPORT_KEY_MAX);
	for (size_t i = 10; i < n; i++) {
		char c = key[i];
		key[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_';
	}
	return n;
}

struct sd_fields {
	struct buf *b;
	unsigned n;
	int r;
};

static int put_param(struct syslog_slice id, struct syslog_slice name, struct syslog_slice value, void *ctx)
{
	struct sd_fields *f = ctx;
	char key[EXPORT_KEY_MAX + 1];
	uint8_t v[1024];
	size_t klen, vlen;

	if (f->n++ >= SYSLOG_SD_PARAMS_MAX || value.len > sizeof(v))
		return 0;
	klen = sd_key(id, name, key);
	vlen = syslog_sd_unescape(value, v);
	f->r = export_put_n(f->b, key, klen, v, vlen);
	return f->r < 0 ? f->r : 0;
}

/* The entry begun at start ended, or (r < 0: a field did not fit) taken out again: 0 or -ENOBUFS. */
static int end_entry(struct buf *out, size_t start, int r)
{
	if (r == 0)
		r = export_end_entry(out);
	if (r < 0) {
		out->len = start;
		return -ENOBUFS;
	}
	return 0;
}

void syslog_record_host(const struct syslog_msg *m, const struct syslog_origin *o, char *host, size_t size)
{
	if (m->hostname.p)
		(void)snprintf(host, size, "%.*s", (int)m->hostname.len, (const char *)m->hostname.p);
	else
		(void)snprintf(host, size, "%s", o->peer);
}

int syslog_record(struct buf *out, const struct syslog_msg *m, const struct syslog_origin *o, const char *host)
{
	size_t start = out->len;
	struct sd_fields sd = { out, 0, 0 };
	int r;

	r = export_put_u64(out, FIELD_TIME, m->ts_us ? m->ts_us : o->received_us);
	r |= export_put_str(out, FIELD_HOST, host);
	r |= export_put_str(out, FIELD_SOURCE, o->source);
	r |= export_put(out, FIELD_MESSAGE, m->msg.p ? (const void *)m->msg.p : "", m->msg.len);
	if (m->severity >= 0) {
		r |= export_put_u64(out, FIELD_PRIORITY, (uint64_t)m->severity);
		r |= export_put_u64(out, "SYSLOG_FACILITY", (uint64_t)m->facility);
	}
	r |= put_slice(out, FIELD_IDENTIFIER, m->app);
	r |= put_slice(out, "SYSLOG_PID", m->procid);
	r |= put_slice(out, "SYSLOG_MSGID", m->msgid);
	r |= put_slice(out, "SYSLOG_SD", m->sd);
	r |= export_put_str(out, "SYSLOG_FORMAT", format_names[m->format]);
	r |= export_put_str(out, "SYSLOG_TRANSPORT", o->transport);
	r |= export_put_str(out, "SYSLOG_PEER", o->peer);
	if (m->error)
		r |= export_put_str(out, "SYSLOG_ERROR", m->error);
	if (o->truncated)
		r |= export_put_str(out, "SYSLOG_TRUNCATED", "1");
	if (r == 0)
		(void)syslog_sd_each(m->sd, put_param, &sd);
	r |= sd.r;
	return end_entry(out, start, r);
}

int syslog_record_inventory(struct buf *out, const struct syslog_origin *o, const char *host)
{
	size_t start = out->len;
	int r = export_put_u64(out, FIELD_TIME, o->received_us);

	r |= export_put_str(out, FIELD_HOST, host);
	r |= export_put_str(out, FIELD_KIND, KIND_INVENTORY);
	r |= export_put_str(out, "HOST_HOSTNAME", host);
	r |= export_put_str(out, "HOST_ADDRESSES", o->peer);
	r |= export_put_str(out, "HOST_SENDER", "syslog");
	r |= export_put_str(out, "HOST_SYSLOG_TRANSPORT", o->transport);
	return end_entry(out, start, r);
}

int syslog_sender_id(const char *host, uint8_t out[16])
{
	uint8_t digest[SHA256_SIZE];
	int r = hash_v(HASH_SHA256, digest, "vigil-syslog-sender", (size_t)19, host, strlen(host), NULL);

	if (r == 0)
		memcpy(out, digest, 16);
	return r;
}
