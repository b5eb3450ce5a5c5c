/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_SOURCE_H
#define VIGIL_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/spool.h"

/*
 * A source of records for the batch pipeline (it hands them to a
 * struct source_sink, sink.h): a [tail] section's files (tail.c), the
 * journal (journal.c). Each kind is a table of these operations, and the
 * agent keeps its sources as an array of struct source: a new kind (a
 * syslog listener) is a new table, not a new case in the agent.
 */
struct source_ops {
	const char *kind;
	/* Reads until caught up or about budget bytes: 1 if more is left, 0, or -errno (tried again). */
	int (*work)(void *impl, size_t budget);
	/* The once-a-second look (new and rotated files); NULL: its fd tells it everything. */
	void (*tick)(void *impl);
	/* An upper bound on the checkpoints it can give now. */
	size_t (*checkpoints_max)(const void *impl);
	/*
	 * Snapshots the positions that moved since the last snapshot into cps
	 * (up to cap) and returns how many. The strings stay valid until
	 * checkpoints_done().
	 */
	size_t (*checkpoints)(void *impl, struct spool_checkpoint *cps, size_t cap);
	/* The snapshot was stored (ok: what it let go is closed) or not (its positions are dirty again). */
	void (*checkpoints_done)(void *impl, bool ok);
	void (*free)(void *impl);
};

/* One running source: its kind's operations and its state (owned; ops->free releases it). */
struct source {
	const struct source_ops *ops;
	void *impl;
};

#endif
