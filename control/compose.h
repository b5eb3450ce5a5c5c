/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_COMPOSE_H
#define VIGIL_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/*
 * Pure: which config groups an agent's labels select, and the one
 * configuration they make together (docs/control.md).
 */

/* A group as composed; its strings borrowed. */
struct compose_group {
	const char *name;
	const char *selector; /* "k=v k=v": every pair among the labels; "" selects every agent */
	int64_t order;
	uint64_t version;
	const char *config;
	/*
	 * A version being rolled out: only the agents the canary selector
	 * holds (NULL: none) and the percent whose bucket (rollout_bucket()) is
	 * below it get it; the others get released (NULL: nothing of this group).
	 */
	bool staged;
	const char *canary;
	unsigned percent;
	const struct compose_group *released;
};

/* Where agent (32 hex digits) falls in group's rollout: 0..99, the same each time. */
unsigned rollout_bucket(const char *group, const char *agent);

/* The version of g an agent of labels gets: g, its released one, or NULL. */
const struct compose_group *compose_choose(const struct compose_group *g, const char *labels, const char *agent);

/* Whether labels ("k=v k=v", NULL as "") hold every pair of selector. */
bool selector_matches(const char *selector, const char *labels);

/*
 * The groups (sorted by order, then name) that an agent (its id in hex)
 * of labels gets, each in the version compose_choose() gives it, one after
 * the other, each after a "# group NAME (version V)" line, into out
 * (reset first); their number into *ret_n and the text's version (the
 * first 4 bytes of its SHA-256, never 0) into *ret_version.
 */
int compose(const struct compose_group *groups, size_t n, const char *labels, const char *agent, struct buf *out,
	    size_t *ret_n, uint32_t *ret_version);

/* What every group is now, as one number (never 0): it moves with any change to any of them. */
uint32_t compose_generation(const struct compose_group *groups, size_t n);

/* qsort()'s order of groups: by order, then name. */
int compose_group_cmp(const void *a, const void *b);

#endif
