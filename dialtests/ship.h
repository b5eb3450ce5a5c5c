/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_DIALSHIP_H
#define VIGIL_DIALSHIP_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/*
 * Ships the collector's own records (dial test results) into its ingest,
 * over nng inproc, as an agent ships its batches: so they are stored,
 * indexed, hash-chained, kept and queried like any other records. A thread
 * of its own sends one batch at a time and resends it until it is stored;
 * records wait in a bounded queue, and past it the oldest are dropped,
 * counted and logged.
 */
struct dialship;

/* agent: the 16 bytes the records are stored under; max_records bounds the queue. */
int dialship_start(const char *url, const uint8_t agent[16], size_t max_records, struct dialship **ret);
/* Tries to store what is queued (for up to 5 s), then stops. NULL is fine. */
void dialship_stop(struct dialship *s);

/* Queues a run's records (export format, entries of them, each ending with its blank line); thread-safe. */
void dialship_put(struct dialship *s, const struct buf *records, uint32_t entries);
/* Sends what is queued now, without waiting to fill a batch. */
void dialship_flush(struct dialship *s);

#endif
