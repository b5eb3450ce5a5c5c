/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_SYSLOG_PARSE_H
#define VIGIL_SYSLOG_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * One syslog message as devices send it (docs/security-center.md, Syslog
 * in): RFC 5424, or RFC 3164 as BSD syslogd, network and security devices
 * write it (a timestamp with or without year, fraction and zone; a
 * hostname or none; TAG[PID]:). Pure, no I/O; fuzzed by
 * tests/fuzz/fuzz-syslog.c. Every slice points into the parsed bytes.
 */

struct syslog_slice {
	const uint8_t *p; /* NULL: absent (RFC 5424's "-", or not in the message) */
	size_t len;
};

enum syslog_format {
	SYSLOG_RFC5424,
	SYSLOG_RFC3164,
	SYSLOG_UNPARSED, /* no <PRI>, or a header that cannot be read: kept whole as msg */
};

struct syslog_msg {
	enum syslog_format format;
	int facility, severity; /* -1 without a PRI */
	uint64_t ts_us;         /* µs since the epoch; 0: no timestamp that could be read */
	struct syslog_slice hostname, app, procid, msgid, sd, msg;
	const char *error; /* SYSLOG_UNPARSED: why, a constant sentence */
};

struct syslog_parse_opts {
	int32_t utc_offset_s; /* of a timestamp without a zone (RFC 3164's) */
	uint64_t now_us;      /* the year of a timestamp without one is the one that puts it nearest now */
};

void syslog_parse(const uint8_t *p, size_t len, const struct syslog_parse_opts *o, struct syslog_msg *ret);

/*
 * Calls fn for each SD-PARAM of RFC 5424 structured data sd (as
 * syslog_parse() found it), with its SD-ID; value is as sent, escapes
 * (\", \\, \]) still in (syslog_sd_unescape()). Stops at the first fn that
 * returns non-zero and returns it; -EBADMSG if sd is malformed.
 */
int syslog_sd_each(struct syslog_slice sd,
		   int (*fn)(struct syslog_slice id, struct syslog_slice name, struct syslog_slice value, void *ctx),
		   void *ctx);
/* value without its escapes into out (value.len bytes at most); the length written. */
size_t syslog_sd_unescape(struct syslog_slice value, uint8_t *out);

#endif
