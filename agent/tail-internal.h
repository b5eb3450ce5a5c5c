/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_TAIL_INTERNAL_H
#define VIGIL_TAIL_INTERNAL_H

/*
 * What agent/tail.c (files: finding, rotation, truncation, checkpoints) and
 * agent/tail_lines.c (their lines: framing, parts joined, parsing, the
 * sink) share of a [tail] source.
 */
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "agent/parsers.h"
#include "agent/sink.h"
#include "agent/spool.h"
#include "common/buf.h"
#include "common/hash.h"
#include "parse/container.h"

struct tail_file {
	struct tail_file *next;
	struct tail_source *src;
	char *path;
	int fd;
	uint64_t dev, ino;
	uint64_t offset;   /* end of the last line the sink took */
	uint64_t read_pos; /* file position after buf's bytes */
	uint8_t fp[SHA256_SIZE];
	uint32_t fp_len;
	char *buf;
	size_t buf_len, buf_cap;
	uint64_t rotated_at; /* monotonic us; 0 while the path still names it */
	bool dirty;          /* offset moved since the last checkpoint snapshot */
	enum {
		CP_NONE,
		CP_PENDING,        /* in a snapshot not yet committed */
		CP_PENDING_FORGET, /* ... as read to its end: let go once committed */
	} cp;
	bool done;           /* read to its end after rotation: let go at commit */
	bool skipping;       /* discarding the rest of an over-long line */
	struct buf fields;   /* VIGIL_SOURCE and VIGIL_PATH (and a container's names) in export format */
	struct buf partial;  /* a container's message so far, while its runtime wrote it in parts */
	bool pending;        /* partial holds a message whose last part is still to come */
	uint64_t held;       /* bytes past offset read into partial: the checkpoint stays before them */
	int copy_fd;         /* copytruncate's copy, read up to copy_end before the file again */
	uint64_t copy_end;
};

struct tail_source {
	const struct tail_conf *conf;
	const struct line_format *format;
	struct agent_parser *parser; /* NULL: lines go as they are */
	struct buf scratch;          /* a line's message decoded (docker) */
	struct buf line_fields;      /* a line's own fields */
	struct spool *spool;
	struct source_sink sink;
	sd_event_source *inotify;
	struct tail_file *files;
	bool changed;
	bool scanned_once;
};

/* Parts read past the checkpoint are read again from there: what was joined of them goes. */
void tail_partial_drop(struct tail_file *f);
/* Hands complete lines in f->buf to the sink, keeping the partial tail (final: the file's end, all of it). */
int tail_emit_lines(struct tail_file *f, bool final);

#endif
