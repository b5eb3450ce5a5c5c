/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_PARSE_CONTAINER_H
#define VIGIL_PARSE_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/*
 * How a followed file frames its lines: as written (plain), or as a
 * container runtime writes a container's output, one line of the file per
 * piece of output with its time and stream:
 *
 *   cri     2026-11-29T08:00:00.123456789Z stdout F the message
 *           (containerd, CRI-O; P instead of F: the message goes on in the
 *           next line, written when the runtime cut a long one)
 *   docker  {"log":"the message\n","stream":"stdout","time":"2026-…Z"}
 *           (Docker's json-file; a log without its "\n" goes on likewise)
 */
struct line_view {
	const char *msg; /* into the line, or into the decoder's scratch */
	size_t len;
	const char *stream; /* "stdout", "stderr"; NULL when the framing has none */
	uint64_t time_us;   /* the runtime's time; 0 when the framing has none */
	bool partial;       /* continues in the next line */
};

struct line_format {
	const char *name;
	/*
	 * One line (without its newline) into *v: 0, or -EBADMSG when it is not
	 * in the format (*v is then the line as it is). scratch (the caller's)
	 * holds a message that had to be decoded.
	 */
	int (*decode)(const char *line, size_t len, struct buf *scratch, struct line_view *v);
};

/* The format named, or NULL; the names for a config's error. */
const struct line_format *line_format_find(const char *name);
#define LINE_FORMAT_NAMES "plain, cri or docker"

/*
 * The pod, namespace, container name and id of a kubelet's log path,
 * /var/log/containers/POD_NAMESPACE_CONTAINER-ID.log (any directory), as
 * export fields appended to out. 1 when the name is of that shape, 0 when
 * not, -ENOBUFS.
 */
int container_path_fields(const char *path, struct buf *out);

#endif
