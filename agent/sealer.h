/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_SEALER_H
#define VIGIL_SEALER_H

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "common/buf.h"
#include "common/frame.h"

/*
 * Compresses a sealed batch on a worker thread while the event loop reads
 * on: one batch at a time. The spool commit stays on the loop, in order: the
 * owner commits each finished frame (from its done callback, or after
 * sealer_wait()) before it submits the next.
 */
struct sealer;

/* done runs on the event loop when a submitted batch is compressed. */
int sealer_new(sd_event *event, void (*done)(void *userdata), void *userdata, struct sealer **ret);
/* Waits for a running job, then frees. NULL is fine. */
void sealer_free(struct sealer *s);

/*
 * Swaps *raw with the sealer's empty buffer (so the caller goes on filling
 * a fresh one) and compresses it with header h at level: a small batch at
 * once, in the caller's thread (its result is there when this returns, and
 * done is not called), a larger one on the worker. -EBUSY if a job is
 * running or its frame was not taken yet.
 */
int sealer_submit(struct sealer *s, struct buf *raw, const struct frame_header *h, int level);
/* Blocks until no job is running. */
void sealer_wait(struct sealer *s);
/*
 * The finished frame and its header, or NULL if none is waiting. The frame
 * stays the sealer's until sealer_release().
 */
const struct buf *sealer_result(struct sealer *s, struct frame_header *ret_h, int *ret_error);
void sealer_release(struct sealer *s);
/* Compresses the finished job's batch again (its compression failed). */
void sealer_retry(struct sealer *s);

#endif
