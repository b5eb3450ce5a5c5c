/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_ROUTES_H
#define VIGIL_ROUTES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "alerts/alertstore.h"
#include "alerts/defs.h"

/*
 * Who is told of an alert's change: the targets its rule names and, when
 * routed, those of every [route] whose match= holds for the alert; each
 * target once. The notifications are queued (alerts/queue.h) in the
 * caller's transaction, the one that records the change.
 */

/* Whether every key=glob of route's match= holds for alert (its labels, or its rule or severity). */
bool route_matches(const struct route_conf *route, json_t *alert);

/*
 * Queues alert (as the API shows it, with "event" and "url") for the
 * space-separated targets and, when routed, the targets of defs' matching
 * routes. *ret_queued is set when anything was queued.
 */
int routes_tell(struct alert_store *s, const struct alert_defs *defs, const char *targets, bool routed, json_t *alert,
		uint64_t now, bool *ret_queued);

#endif
