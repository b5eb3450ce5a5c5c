/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_LOGMETRIC_H
#define VIGIL_LOGMETRIC_H

#include <stddef.h>
#include <stdint.h>

#include "search/query.h"

/*
 * Log metrics (docs/logs.md "Log metrics"): the records a query matches,
 * counted per step and labelled by fields; with value=, the distribution
 * of a numeric field too (a sketch: search/sketch.h). What the collector
 * keeps per block and step, merged when read, so nothing is lost to a
 * step that spans batches or a restart.
 */
#define LOGMETRICS_MAX 64
#define LOGMETRIC_LABELS_MAX 4
#define LOGMETRIC_LABEL_VALUE_MAX 128 /* a longer value is cut (at a UTF-8 boundary) */
#define LOGMETRIC_SERIES_MAX 1024     /* rows one batch gives, all metrics together */
#define LOGMETRIC_NAME_MAX 64

/* One [logmetric "NAME"] section; every string is borrowed. */
struct logmetric_def {
	const char *name;   /* [a-z0-9_], <= LOGMETRIC_NAME_MAX */
	const char *query;  /* the log query language */
	const char *value;  /* a field whose number is measured; NULL: a count only */
	const char *labels; /* space-separated field names, <= LOGMETRIC_LABELS_MAX */
	uint64_t step_ms;
};

/* Whether d holds: 0, or -EINVAL with "key: why" in err (key being the section's key at fault). */
int logmetric_check(const struct logmetric_def *d, char *err, size_t err_size);

/*
 * The log metrics in force: immutable once made, shared by reference
 * between the definitions' catalogue and each batch ingest feeds through
 * them, so a batch keeps the metrics it started with across a change.
 */
struct logmetrics;
/*
 * The defs compiled (each checked as logmetric_check() does), their strings
 * copied: 0, -EINVAL (err), -ENOMEM. *ret holds one reference.
 */
int logmetrics_new(const struct logmetric_def *defs, size_t n, struct logmetrics **ret, char *err, size_t err_size);
struct logmetrics *logmetrics_ref(struct logmetrics *m); /* NULL is fine */
void logmetrics_unref(struct logmetrics *m);
size_t logmetrics_count(const struct logmetrics *m);
/* The def of metric i, or NULL. */
const struct logmetric_def *logmetrics_def(const struct logmetrics *m, size_t i);
/* The metric named, or NULL. */
const struct logmetric_def *logmetrics_find(const struct logmetrics *m, const char *name);

/* One series of one batch: what a block stores, one row per (metric, labels, step). */
struct logmetric_row {
	const char *metric;
	const char *labels; /* "field=value field=value", in the def's order */
	uint64_t ts;        /* the step's start, microseconds */
	uint64_t ts_last;   /* the newest of its records (what a rule's window looks at) */
	uint64_t count;
	double sum;              /* of the values (value= only) */
	const uint8_t *sketch;   /* sketch_encode()'s bytes, or NULL without value= (or no number seen) */
	size_t sketch_len;
};

/* A batch's series being gathered; one per thread (it keeps the query scratch). */
struct logmetric_acc;
int logmetric_acc_new(struct logmetric_acc **ret);
void logmetric_acc_free(struct logmetric_acc *a);
/* Forgets the last batch's series. */
void logmetric_acc_reset(struct logmetric_acc *a);
/*
 * Adds a record (time ts) to the series of each metric of m it matches.
 * A series past LOGMETRIC_SERIES_MAX is not made: counted in *cut. 0 or -ENOMEM.
 * One batch's records are added with one m, which outlives its rows.
 */
int logmetric_acc_add(struct logmetric_acc *a, const struct logmetrics *m, const struct query_record *r,
		      uint64_t ts, uint64_t *cut);
/* The batch's rows, valid until the next reset: 0 with *ret (n of them), or -ENOMEM. */
int logmetric_acc_rows(struct logmetric_acc *a, const struct logmetric_row **ret, size_t *n);

#endif
