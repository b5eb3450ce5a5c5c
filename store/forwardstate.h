/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_FORWARDSTATE_H
#define VIGIL_FORWARDSTATE_H

#include <stdint.h>

/*
 * Where a forwarder ([forward "NAME"]) is and how it fares, as either
 * store keeps it: this collector's meta.db (forward/position.h), or the
 * database the collectors share (pgstore.h), where the one that forwards
 * leaves it for the next.
 */
struct forward_state {
	const char *name;
	const char *cursor; /* the position as text: a log cursor, or an event's id; NULL: nothing acknowledged yet */
	uint64_t sent;     /* records acknowledged, in all */
	uint64_t lag_us;   /* the age of the oldest record not acknowledged (0: caught up), as of updated */
	uint64_t behind;   /* records stored after pos */
	uint64_t updated;  /* microseconds since the epoch */
	const char *error; /* the last attempt's failure; NULL when it worked */
};

#endif
