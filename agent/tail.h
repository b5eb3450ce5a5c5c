/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_TAIL_H
#define VIGIL_TAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "agent/agent_conf.h"
#include "agent/parsers.h"
#include "agent/sink.h"
#include "agent/source.h"
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

/*
 * The source of a [tail] section, into *ret (see source.h: work finds files,
 * then reads; tick looks for new and rotated ones). Lines are framed as
 * conf->format says (a container runtime's: their parts joined, the
 * checkpoint kept before a message's first part until its last is read)
 * and given fields by parser (NULL: none). conf, parser, spool and sink are
 * borrowed and must outlive it.
 */
int tail_source_new(const struct tail_conf *conf, struct agent_parser *parser, struct spool *spool,
		    const struct source_sink *sink,
		    sd_event *event, struct source *ret);

/* The export-format fields that name a file's lines (path and source). */
const uint8_t *tail_file_fields(const struct tail_file *f, size_t *ret_len);

#endif
