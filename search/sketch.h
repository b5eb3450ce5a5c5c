/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_SKETCH_H
#define VIGIL_SKETCH_H

#include <stddef.h>
#include <stdint.h>

/*
 * A distribution of numbers in bounded space whose quantiles are within
 * SKETCH_ALPHA relative error, and which merges exactly: DDSketch (Masson,
 * Rim, Lee, VLDB 2019). A value v > 0 counts in the bucket ceil(log_γ v),
 * γ = (1+α)/(1-α); a bucket answers 2γ^i/(γ+1), within α of every value in
 * it. Values at or below SKETCH_MIN_VALUE (zero, negatives) count apart as
 * zeros. Past SKETCH_BINS_MAX buckets the lowest are folded into one (the
 * high quantiles, which alerts are about, keep their accuracy).
 *
 * What a log metric keeps per step: each block's sketch is stored, and the
 * sketches of a step (or of a chart's wider bucket) merge into one.
 */
#define SKETCH_ALPHA 0.01
#define SKETCH_MIN_VALUE 1e-9
#define SKETCH_BINS_MAX 2048

struct sketch {
	uint64_t count, zeros;
	double sum, min, max;
	int32_t *idx; /* ascending */
	uint64_t *cnt;
	size_t n, cap;
};

/* Zeroed is empty; sketch_free() releases it (and leaves it empty). */
void sketch_free(struct sketch *s);
int sketch_add(struct sketch *s, double v);
int sketch_merge(struct sketch *s, const struct sketch *other);
/* The q-quantile (0..1) of what was added; NaN when empty. */
double sketch_quantile(const struct sketch *s, double q);

/* Its bytes, in a malloc'ed *ret (the caller's): 0 or -ENOMEM. */
int sketch_encode(const struct sketch *s, uint8_t **ret, size_t *ret_len);
/* Adds what p holds to s (merging): 0, -EBADMSG, -ENOMEM. */
int sketch_decode_merge(struct sketch *s, const uint8_t *p, size_t len);

#endif
