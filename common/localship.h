/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_LOCALSHIP_H
#define VIGIL_LOCALSHIP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/*
 * Ships records the collector makes itself (dial test results, the lines
 * devices send by syslog) into its ingest, over nng inproc, as an agent
 * ships its batches: so they are stored, indexed, hash-chained, kept and
 * queried like any other records. Threads of its own (senders) each send a
 * batch at a time and resend it until it is stored; records wait in a
 * bounded queue, and past it the oldest are dropped, counted and logged.
 */
struct localship;

struct localship_conf {
	const char *name;             /* who ships, in the log: "dialtests", "syslog" */
	size_t max_puts;              /* what waits: puts, at most (and as many times 64 KB) */
	size_t senders;               /* batches at ingest at once (1 to 8): they share its commits */
	unsigned linger_ms;           /* how long puts gather into one batch (0: a caller that batches itself) */
	atomic_uint_fast64_t *dropped; /* counts the records dropped */
	const char *dropped_metric;   /* its name, for the log */
};

/* c (its strings and counter) outlives *ret. */
int localship_start(const char *url, const struct localship_conf *c, struct localship **ret);
/* Tries to store what is queued (for up to 5 s), then stops. NULL is fine. */
void localship_stop(struct localship *s);

/*
 * Queues records (export format, entries of them, each ending with its
 * blank line) to be stored under agent, the 16 bytes of their host's
 * identity; consecutive puts of one agent go in one batch. Thread-safe.
 */
void localship_put(struct localship *s, const uint8_t agent[16], const struct buf *records, uint32_t entries);
/* Sends what is queued now, without waiting to fill a batch. */
void localship_flush(struct localship *s);

#endif
