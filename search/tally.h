/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_TALLY_H
#define VIGIL_TALLY_H

#include <stddef.h>
#include <stdint.h>

/*
 * Counts of values (byte strings): the top values of a field over the
 * lines a query matches. Bounded: past TALLY_DISTINCT_MAX different values,
 * a new one is counted in `others` only (its count is not known apart).
 */
#define TALLY_DISTINCT_MAX 65536
#define TALLY_VALUE_MAX 256 /* bytes of a value kept; a longer one is counted as its first TALLY_VALUE_MAX */

struct tally;
/* NULL when out of memory. Owned by the caller: tally_free(). */
struct tally *tally_new(void);
void tally_free(struct tally *t);
/* One more of value; -ENOMEM (counted in others, as a value past the bound is). */
int tally_add(struct tally *t, const uint8_t *value, size_t len);

struct tally_entry {
	const uint8_t *value; /* lives as long as the tally */
	size_t len;
	uint64_t count;
};
/*
 * The n most counted values into out (ties: the first seen first), how many
 * in *ret_n; what the rest counted (every other value, and those past the
 * bound) into *ret_others.
 */
void tally_top(const struct tally *t, struct tally_entry *out, size_t n, size_t *ret_n, uint64_t *ret_others);
/* Whether values past the bound were counted in others only. */
int tally_cut(const struct tally *t);

#endif
