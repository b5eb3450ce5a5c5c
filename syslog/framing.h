/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_SYSLOG_FRAMING_H
#define VIGIL_SYSLOG_FRAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Messages out of a TCP or TLS stream (RFC 6587): octet-counted ("LEN SP
 * MSG", what RFC 5425 asks) or LF-terminated (what most devices send),
 * told apart at each frame by its first byte, as rsyslog does. A message
 * longer than max is cut there and the rest of it skipped, so no sender can
 * make a buffer grow. Pure; fuzzed by tests/fuzz/fuzz-syslog.c.
 */
struct syslog_framing {
	size_t max;      /* longest message kept */
	uint64_t skip;   /* bytes of a cut octet-counted message still to skip */
	bool skip_line;  /* skipping a cut LF-terminated message to its LF */
};

/*
 * Calls emit for each whole message in buf (len bytes; eof: the stream
 * ended, so what is left is the last message) and returns how many bytes
 * it consumed; the caller keeps the rest and appends to it. A caller whose
 * buffer holds max + SYSLOG_FRAME_HEADER_MAX bytes always gets progress.
 */
#define SYSLOG_FRAME_HEADER_MAX 11 /* "4294967295 " */
size_t syslog_frames(struct syslog_framing *f, const uint8_t *buf, size_t len, bool eof,
		     void (*emit)(const uint8_t *msg, size_t len, bool truncated, void *ctx), void *ctx);

#endif
