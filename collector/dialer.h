/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_DIALER_H
#define VIGIL_DIALER_H

#include <jansson.h>
#include <systemd/sd-event.h>

#include "coll_conf.h"
#include "dialtests.h"

/*
 * Runs the dial tests on the collector's event loop: curl multi, each test
 * at a fixed phase within its interval (so a thousand do not start at once),
 * at most [dialtests] concurrency runs in all and per_host against one
 * host; a slow or hanging target holds only its own runs. Each run's result
 * is stored as a probe record (type dialtest) and metrics, through ingest.
 */
struct dialer;

/* conf and defs are borrowed and must outlive *ret. */
int dialer_start(const struct coll_conf *conf, struct dialtests *defs, sd_event *event, struct dialer **ret);
void dialer_stop(struct dialer *d);

/* The definitions changed (through the API): schedule what is there now. Thread-safe. */
void dialer_reload(struct dialer *d);

/*
 * Runs test id now, apart from its schedule, and waits for its result (the
 * JSON the results API gives); for the HTTP threads. -ENOENT when there is
 * no such test; -ETIMEDOUT if it did not end in time (it still ends, and
 * is stored, later).
 */
int dialer_run_now(struct dialer *d, int64_t id, json_t **ret);

/*
 * Ends every wait in dialer_run_now() (-ECANCELED) and refuses new ones:
 * for the collector's stop, before the HTTP threads are joined, while the
 * event loop that would end the runs no longer turns.
 */
void dialer_cancel(struct dialer *d);

#endif
