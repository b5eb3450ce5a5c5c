/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_TAIL_H
#define VIGIL_TAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "agent/agent_conf.h"
#include "agent/sink.h"
#include "agent/spool.h"

/*
 * A [tail "NAME"] source: follows the files its glob matches, through
 * rename-and-create and copytruncate rotation, and hands complete lines to
 * a sink. A file's offset only counts lines the sink has taken; the sink
 * persists offsets (tail_source_checkpoints) in the same spool transaction
 * as the batch holding those lines.
 */
struct tail_source;
struct tail_file;

/* conf, spool and sink are borrowed and must outlive the source. */
int tail_source_new(const struct tail_conf *conf, struct spool *spool, const struct source_sink *sink,
		    sd_event *event, struct tail_source **ret);
void tail_source_free(struct tail_source *t);

/* Finds files, then reads until caught up or budget bytes. Returns 1 if more is left. */
int tail_source_work(struct tail_source *t, size_t budget);
/* Called by the owner when inotify or its poll timer says something changed. */
void tail_source_mark_changed(struct tail_source *t);

/* The export-format fields that name a file's lines (path and source). */
const uint8_t *tail_file_fields(const struct tail_file *f, size_t *ret_len);

/*
 * Snapshots the checkpoint of every file whose offset moved since the last
 * snapshot into cps (up to cap) and returns how many. The strings stay valid,
 * and the files stay open, until tail_source_checkpoints_done() or _failed().
 */
size_t tail_source_checkpoints(struct tail_source *t, struct spool_checkpoint *cps, size_t cap);
/* The snapshot was committed: files it let go (read to their end) are closed. */
void tail_source_checkpoints_done(struct tail_source *t);
/* The snapshot was not written: its files are dirty again. */
void tail_source_checkpoints_failed(struct tail_source *t);
size_t tail_source_file_count(const struct tail_source *t);

#endif
