/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_SCHEDULE_H
#define VIGIL_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * When dial tests run. Each test starts at a fixed phase within its
 * interval, spread by its name, so a thousand tests of one interval do not
 * start at once and a test keeps its phase across restarts. A start the
 * limits or a run still going hold back is made as soon as they let it; a
 * start passed over entirely is counted, not made up. Pure: times are
 * given, nothing runs.
 */

/* A test on the schedule. */
struct schedule_slot {
	uint64_t next_us;     /* its next planned start (realtime µs) */
	uint64_t interval_us;
	bool running;         /* a run of it is under way: none starts until that one ends */
};

/* The first start at or after now at the phase name gives within interval_us. */
uint64_t schedule_first_start(const char *name, uint64_t interval_us, uint64_t now);

/* What schedule_plan() asks of its caller for slot i. */
struct schedule_ops {
	/*
	 * A run of slot i, planned for planned, made but not started; NULL
	 * when the limits hold it back (or it cannot be made).
	 */
	void *(*prepare)(size_t i, uint64_t planned, void *ctx);
	/* Starts what prepare() made. It may end at once, and plan again (re-entrantly). */
	void (*start)(void *run, void *ctx);
	void *ctx;
};

/*
 * Starts every slot due at now that is not running and that prepare()
 * lets start; moves each one started on to its next start, past now, by
 * whole intervals (the starts passed over are added to *missed). Returns
 * the earliest start still to come of the slots not due (UINT64_MAX:
 * none); a running slot is planned again when its run ends.
 */
uint64_t schedule_plan(struct schedule_slot *slots, size_t n, uint64_t now, const struct schedule_ops *ops,
		       uint64_t *missed);

#endif
