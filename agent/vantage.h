/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_VANTAGE_H
#define VIGIL_VANTAGE_H

#include <jansson.h>
#include <systemd/sd-event.h>

#include "agent/pipeline.h"

/*
 * This host as a vantage point of the collector's dial tests
 * (docs/control.md): the tests whose run_on selects its labels came with
 * its central configuration; each runs on its own schedule with the
 * collector's engine (dialtests/run.h), one run of a test at a time, and
 * its result goes out as a probe record through the spool like any other.
 */
struct vantage;

/* Whether tests (a JSON array of definitions, as the collector sent them) all hold; why not into err. */
int vantage_check(json_t *tests, char *err, size_t err_size);

/*
 * Runs tests (borrowed for the call: each is parsed into the vantage) on
 * event, their results to pipeline (borrowed, outliving it) under host, the
 * vantage's name. *ret is NULL when there are none.
 */
int vantage_new(sd_event *event, json_t *tests, const char *host, struct pipeline *pipeline, struct vantage **ret);
/* Stops the runs under way (their results are not shipped) and frees it. NULL is fine. */
void vantage_free(struct vantage *v);

#endif
