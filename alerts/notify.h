/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_NOTIFY_H
#define VIGIL_NOTIFY_H

#include <sqlite3.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "alerts/catalog.h"
#include "collector/coll_conf.h"

/*
 * Notifications to [notify "NAME"] targets: a queue in meta.db and a sender
 * on the collector's event loop (curl multi). A notification is queued in
 * the same transaction as the alert change that causes it, so none is lost
 * to a crash; it is retried with backoff until delivered or given up, and
 * every attempt's outcome is an event in the alert's history. A crash
 * between a delivery and its "sent" mark sends it again: each carries its
 * id (X-Vigil-Notification, "notification_id") for receivers to drop the
 * repeat.
 */

/* Creates the queue's table in db (meta.db) if it is not there. */
int notify_schema(sqlite3 *db);

/* Queues payload (a JSON object: the alert as the API shows it, and "event") for target, in db's open transaction. */
int notify_enqueue(sqlite3 *db, int64_t alert, const char *target, const char *event, const char *payload,
		   uint64_t now_us);

struct notifier;

/* conf and catalog (the targets) are borrowed and must outlive *ret. */
int notifier_start(const struct coll_conf *conf, struct catalog *catalog, sd_event *event, struct notifier **ret);
void notifier_stop(struct notifier *n);
/* Looks at the queue now rather than at the next second (new notifications are in it); on the event loop. */
void notifier_kick(void *notifier);

#endif
