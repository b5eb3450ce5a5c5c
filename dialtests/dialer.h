/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_DIALER_H
#define VIGIL_DIALER_H

#include <jansson.h>
#include <systemd/sd-event.h>

#include "dialtests/catalog.h"

/*
 * Runs the dial tests on the collector's event loop: curl multi, each test
 * at a fixed phase within its interval (so a thousand do not start at once),
 * at most [dialtests] concurrency runs in all and per_host against one
 * host; a slow or hanging target holds only its own runs. Each run's result
 * is stored as a probe record (type dialtest) and metrics, through ingest.
 */
struct dialer;

/*
 * Whether this collector runs the scheduled tests now: with several
 * collectors on one database, only the one that leads (the one that
 * evaluates the alerts: alerting_leads()), so that a test runs once per
 * interval among them. Asked on the event loop before each round; NULL:
 * always. A collector that comes to lead starts each test at its next
 * phase from then on: none is made up for the time another ran them.
 */
struct dialer_lead {
	bool (*leads)(void *ctx);
	void *ctx;
};

/* conf, defs and lead are borrowed and must outlive *ret. */
int dialer_start(const struct dialtests_conf *conf, struct dialtests *defs, const struct dialer_lead *lead,
		 sd_event *event, struct dialer **ret);
void dialer_stop(struct dialer *d);

/* The definitions changed (through the API): schedule what is there now. Thread-safe. */
void dialer_reload(struct dialer *d);

/* Runs asked for that may wait for the limits at once. */
#define DIALER_ASKED_MAX 64

/*
 * Asks for a run of test id now, apart from its schedule; for the HTTP
 * threads, which do not wait for it. It starts as soon as the limits
 * ([dialtests] concurrency, per_host) let it, and its result is stored
 * with "scheduled" = *ret_planned_us. -ENOENT when there is no such test,
 * -EBUSY when DIALER_ASKED_MAX runs asked for wait already, -ECANCELED when stopping.
 */
int dialer_ask(struct dialer *d, int64_t id, uint64_t *ret_planned_us);

/* Refuses new runs asked for and forgets those waiting: for the collector's stop. */
void dialer_cancel(struct dialer *d);

#endif
