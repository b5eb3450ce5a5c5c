/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_VANTAGES_H
#define VIGIL_VANTAGES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "dialtests/catalog.h"

/*
 * Agents as dial-test vantage points (docs/control.md): the tests whose
 * run_on selects an agent's labels travel with its central configuration,
 * in the same reply and under the same version, so an agent runs what its
 * configuration says or neither. Pure over a snapshot of the catalog.
 */

/* The tests of s that run on an agent of labels, as a JSON array of their definitions into out (reset); how many. */
int vantage_tests(const struct dialtests_snapshot *s, const char *labels, struct buf *out);

/* Whether t runs on a host of labels (a JSON object, as its inventory reported them). */
bool dialtest_runs_on(const struct dialtest *t, const char *labels_json);

/* A JSON object of labels as [agent] labels writes them, "k=v k=v", into out; false when it does not fit. */
bool labels_text_of_json(json_t *labels, char *out, size_t size);

/* The version of an agent's configuration text with its tests (the text's own when it has none). */
uint32_t vantage_version(uint32_t text_version, const struct buf *tests);

/*
 * The config generation with the tests any agent runs (a snapshot's
 * agents_digest): moves when either does; never 0.
 */
uint32_t vantage_generation(uint32_t groups_generation, uint32_t agents_digest);

#endif
