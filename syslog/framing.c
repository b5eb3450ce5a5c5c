/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <string.h>

#include "common/macro.h"
#include "syslog/framing.h"

/* "LEN " at p: the header's length and LEN into *n; 0 if it is not one (yet: *more when it could become one). */
static size_t octet_header(const uint8_t *p, size_t len, uint64_t *n, bool *more)
{
	size_t i = 0;

	*n = 0;
	*more = false;
	for (; i < len && i < SYSLOG_FRAME_HEADER_MAX - 1 && p[i] >= '0' && p[i] <= '9'; i++)
		*n = *n * 10 + (uint64_t)(p[i] - '0');
	if (i < len && p[i] == ' ' && i > 0 && p[0] != '0' && *n <= UINT32_MAX)
		return i + 1;
	*more = i == len && i < SYSLOG_FRAME_HEADER_MAX - 1;
	return 0;
}

size_t syslog_frames(struct syslog_framing *f, const uint8_t *buf, size_t len, bool eof,
		     void (*emit)(const uint8_t *msg, size_t len, bool truncated, void *ctx), void *ctx)
{
	size_t at = 0;

	while (at < len) {
		const uint8_t *p = buf + at, *lf;
		size_t left = len - at, head;
		uint64_t n;
		bool more;

		if (f->skip) {
			size_t k = (size_t)MIN(f->skip, (uint64_t)left);
			f->skip -= k;
			at += k;
			continue;
		}
		if (f->skip_line) {
			lf = memchr(p, '\n', left);
			at += lf ? (size_t)(lf - p) + 1 : left;
			f->skip_line = !lf;
			continue;
		}
		head = p[0] >= '1' && p[0] <= '9' ? octet_header(p, left, &n, &more) : (more = false, 0);
		if (head) {
			size_t keep = (size_t)MIN(n, (uint64_t)f->max);
			/* The stream ended inside the message: what came of it is kept, as cut. */
			if (left - head < keep && eof)
				keep = left - head;
			else if (left - head < keep)
				break;
			emit(p + head, keep, keep < n, ctx);
			f->skip = n - keep;
			at += head + keep;
			continue;
		}
		if (more && !eof)
			break;
		lf = memchr(p, '\n', MIN(left, f->max + 1));
		if (lf) {
			/* An empty line (a sender's LF after an octet-counted frame) is no message. */
			if (lf > p && !(lf == p + 1 && p[0] == '\r'))
				emit(p, (size_t)(lf - p), false, ctx);
			at += (size_t)(lf - p) + 1;
		} else if (left > f->max) {
			emit(p, f->max, true, ctx);
			at += f->max;
			f->skip_line = true;
		} else if (eof) {
			emit(p, left, false, ctx);
			at = len;
		} else {
			break;
		}
	}
	return at;
}
