/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_JOURNAL_H
#define VIGIL_JOURNAL_H

#include <stddef.h>
#include <systemd/sd-event.h>

#include "agent/agent_conf.h"
#include "agent/parsers.h"
#include "agent/sink.h"
#include "agent/source.h"
#include "agent/spool.h"

/*
 * The [journal] source: follows the systemd journal (or the journal files
 * of a directory) through sd-journal and hands every entry, with all its
 * fields, to the sink. Its checkpoint is the cursor of the last entry the
 * sink took, written in the same spool transaction as the batch holding it.
 * After a restart it resumes right after that entry; if the entry is gone
 * (the journal was vacuumed), it resumes at the oldest entry and records
 * the gap as an event.
 */
struct journal_source;

/* The largest entry shipped: journald allows more, but one record must fit a batch. */
#define JOURNAL_ENTRY_MAX (4u * 1024 * 1024)

/*
 * The journal's source, into *ret (see source.h: its one checkpoint is the
 * cursor). An entry whose unit or identifier a parser of parsers lists gets
 * the fields that parser finds in its MESSAGE. conf, parsers, spool and sink
 * are borrowed and must outlive it.
 */
int journal_source_new(const struct journal_conf *conf, struct parser_set *parsers, struct spool *spool,
		       const struct source_sink *sink,
		       sd_event *event, struct source *ret);

#endif
