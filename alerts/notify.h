/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_NOTIFY_H
#define VIGIL_NOTIFY_H

#include <systemd/sd-event.h>

#include "alerts/catalog.h"
#include "store/storage.h"

/*
 * The sender of notifications to [notify "NAME"] targets, on the
 * collector's event loop (curl multi): it takes what is due from the queue
 * (alerts/queue.h), where each notification was put in the same
 * transaction as the alert change that causes it, so none is lost to a
 * crash; has the target's channel (alerts/channel.h) make the request;
 * retries with backoff until delivered or given up; and records every
 * attempt's outcome as an event in the alert's history. Rate-limited
 * targets get what is due as one digest. A crash between a delivery and
 * its "sent" mark sends it again: each carries its id
 * (X-Vigil-Notification, "notification_id") for receivers to drop the
 * repeat.
 */
struct notifier;

/* storage and catalog (the targets) are borrowed and must outlive *ret. */
int notifier_start(const struct storage_conf *storage, struct catalog *catalog, sd_event *event,
		   struct notifier **ret);
void notifier_stop(struct notifier *n);
/* Looks at the queue now rather than at the next second (new notifications are in it); on the event loop. */
void notifier_kick(void *notifier);

#endif
