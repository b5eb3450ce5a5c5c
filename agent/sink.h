/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_SINK_H
#define VIGIL_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/spool.h"

struct tail_file;

/* One line of a followed file, as the tail hands it over; every pointer is borrowed. */
struct tail_line {
	const char *msg; /* without its newline */
	size_t len;
	uint64_t time_us;      /* its writer's time (a container runtime's); 0: now */
	const uint8_t *fields; /* its own fields (a container's stream, what its parser found), export format */
	size_t fields_len;
	int priority;          /* from its parser; -1: what the line states (line_priority()) */
};

/*
 * What a source hands its records to: the agent's current batch. A source
 * moves its position past a record only after the sink took it, then calls
 * advanced(), which may seal the batch with the sources' checkpoints.
 */
struct source_sink {
	/* Takes one line of a followed file. Returns 0 or -errno. */
	int (*line)(void *userdata, struct tail_file *f, const struct tail_line *l);
	/* Takes one whole record: its fields in export format, no blank line. */
	int (*record)(void *userdata, const void *fields, size_t len);
	/* Called after the source's position moved past the record; may flush the batch. */
	int (*advanced)(void *userdata);
	/* False while the spool is full or cannot be written: reading pauses. */
	bool (*can_read)(void *userdata);
	/* Counts a drop or an event worth an operator's eye. */
	void (*count)(void *userdata, enum spool_counter c);
	/* Something changed (inotify, the journal's fd): call the source's work() soon. */
	void (*wake)(void *userdata);
	void *userdata;
};

#endif
