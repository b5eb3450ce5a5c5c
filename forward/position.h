/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_FORWARD_POSITION_H
#define VIGIL_FORWARD_POSITION_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/forwardstate.h"
#include "store/logquery.h"

/*
 * Where each forwarder is and how it fares (meta.db's forward_positions):
 * the cursor of the last record its receiver acknowledged, kept across
 * restarts so a forwarder goes on after it and skips nothing; and, for the
 * forward_lag rule, how far behind it was when it last wrote and why its
 * last attempt failed.
 */
int forward_positions_schema(sqlite3 *meta);
/* The largest cursor text kept (a log cursor's). */
#define FORWARD_CURSOR_MAX LOG_CURSOR_TEXT_MAX
/*
 * 1 and *ret when name has a row, its cursor copied into cursor (of
 * FORWARD_CURSOR_MAX + 1 bytes; "" for none) and its other strings NULL; 0
 * when it has none yet.
 */
int forward_state_get(sqlite3 *meta, const char *name, struct forward_state *ret, char *cursor);
int forward_state_put(sqlite3 *meta, const struct forward_state *s);
/*
 * The rows of forwarders the configuration no longer has (not among the n
 * names) keep their position but say they are not behind: nothing is
 * waiting for them, and the forward_lag rule lets their alerts go.
 */
int forward_states_retire(sqlite3 *meta, const char *const *names, size_t n);
/* fn for each forwarder's row (its strings valid during the call); none before any forwarder ran. */
int forward_states_each(sqlite3 *meta, int (*fn)(const struct forward_state *s, void *ctx), void *ctx);

#endif
