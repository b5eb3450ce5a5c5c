/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: what a device, or anyone who can reach the syslog
 * port, sends. The first byte picks the parser (the rest is one message) or
 * the stream framing (the rest is a stream, fed in reads of the second
 * byte's size). A parsed message's slices lie within it, RFC 5424
 * structured data it accepted walks cleanly, and its record reads back as
 * one valid export entry; the framing emits messages within the buffer, no
 * longer than its max, and consumes everything at the end of the stream.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/export.h"
#include "common/macro.h"
#include "syslog/framing.h"
#include "syslog/parse.h"
#include "syslog/record.h"
#include "tests/fuzz/fuzz.h"

#define FRAME_MAX 64

static void within(struct syslog_slice s, const uint8_t *p, size_t len)
{
	if (s.p && (s.p < p || s.p + s.len > p + len))
		abort();
}

static int walked(struct syslog_slice id, struct syslog_slice name, struct syslog_slice value, void *ctx)
{
	uint8_t out[4096];

	(void)id, (void)name, (void)ctx;
	if (value.len <= sizeof(out) && syslog_sd_unescape(value, out) > value.len)
		abort();
	return 0;
}

static void check_parse(const uint8_t *p, size_t len)
{
	const struct syslog_parse_opts o = { .utc_offset_s = 8 * 3600, .now_us = UINT64_C(1796000000000000) };
	const struct syslog_origin origin = { "syslog", "udp", "192.0.2.1", 1, false };
	struct export_field f[64];
	struct export_reader rd;
	struct syslog_msg m;
	struct buf b;
	char host[256];
	size_t n;

	syslog_parse(p, len, &o, &m);
	within(m.hostname, p, len);
	within(m.app, p, len);
	within(m.procid, p, len);
	within(m.msgid, p, len);
	within(m.sd, p, len);
	within(m.msg, p, len);
	if ((m.format == SYSLOG_UNPARSED) != (m.error != NULL) || m.severity > 7 || m.facility > 23)
		abort();
	if (m.format == SYSLOG_RFC5424 && syslog_sd_each(m.sd, walked, NULL) != 0)
		abort();
	syslog_record_host(&m, &origin, host, sizeof(host));
	buf_init(&b, 1 << 20);
	if (syslog_record(&b, &m, &origin, host) == 0) {
		export_reader_init(&rd, b.data, b.len, &(struct export_limits){ 2, 64, 1 << 20, 1 << 21 });
		if (export_reader_next(&rd, f, ARRAY_SIZE(f), &n) != 1 || export_reader_next(&rd, f, ARRAY_SIZE(f), &n) != 0)
			abort();
	}
	buf_free(&b);
}

struct span {
	const uint8_t *buf;
	size_t len;
};

static void framed(const uint8_t *msg, size_t len, bool truncated, void *ctx)
{
	const struct span *s = ctx;

	(void)truncated;
	if (len > FRAME_MAX || msg < s->buf || msg + len > s->buf + s->len)
		abort();
}

static void check_framing(const uint8_t *p, size_t len, size_t chunk)
{
	struct syslog_framing fr = { .max = FRAME_MAX };
	uint8_t buf[FRAME_MAX + SYSLOG_FRAME_HEADER_MAX];
	size_t have = 0, at = 0, used;

	for (;;) {
		size_t k = MIN(chunk, MIN(len - at, sizeof(buf) - have));
		struct span s = { buf, 0 };
		memcpy(buf + have, p + at, k);
		have += k;
		at += k;
		s.len = have;
		used = syslog_frames(&fr, buf, have, at == len, framed, &s);
		if (used > have || (at == len && used != have) || (have == sizeof(buf) && !used))
			abort();
		memmove(buf, buf + used, have - used);
		have -= used;
		if (at == len)
			break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	if (data[0] & 1)
		check_framing(data + 2, size - 2, (size_t)data[1] % 32 + 1);
	else
		check_parse(data + 1, size - 1);
	return 0;
}
