/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_FORWARD_POSITION_H
#define VIGIL_FORWARD_POSITION_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/logquery.h"

/*
 * Where each forwarder is and how it fares (meta.db's forward_positions):
 * the cursor of the last record its receiver acknowledged, kept across
 * restarts so a forwarder goes on after it and skips nothing; and, for the
 * forward_lag rule, how far behind it was when it last wrote and why its
 * last attempt failed.
 */
struct forward_state {
	const char *name;
	bool has_pos; /* false: nothing acknowledged yet */
	struct log_cursor pos;
	uint64_t sent;     /* records acknowledged, in all */
	uint64_t lag_us;   /* the age of the oldest record not acknowledged (0: caught up), as of updated */
	uint64_t behind;   /* records stored after pos */
	uint64_t updated;  /* microseconds since the epoch */
	const char *error; /* the last attempt's failure; NULL when it worked */
};

int forward_positions_schema(sqlite3 *meta);
/* 1 and *ret (its strings NULL) when name has a row; 0 when it has none yet. */
int forward_state_get(sqlite3 *meta, const char *name, struct forward_state *ret);
int forward_state_put(sqlite3 *meta, const struct forward_state *s);
/* fn for each forwarder's row (its strings valid during the call); none before any forwarder ran. */
int forward_states_each(sqlite3 *meta, int (*fn)(const struct forward_state *s, void *ctx), void *ctx);

#endif
