/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_LOGSERIES_H
#define VIGIL_LOGSERIES_H

#include <stddef.h>
#include <stdint.h>

#include "search/logmetric.h"

/*
 * A log metric read back: the rows blocks stored (one per block, series and
 * step) merged into buckets of a chart's step or a rule's window, and a
 * statistic of each. Metrics name them log.NAME.STAT (/api/v1/metrics,
 * [rule] type=metric).
 */
enum logstat {
	LOGSTAT_COUNT, /* records */
	LOGSTAT_RATE,  /* records a second */
	LOGSTAT_SUM,   /* of the values (value= only, as every statistic below) */
	LOGSTAT_AVG,
	LOGSTAT_MIN,
	LOGSTAT_MAX,
	LOGSTAT_P50,
	LOGSTAT_P90,
	LOGSTAT_P95,
	LOGSTAT_P99,
	_LOGSTAT_MAX,
};
#define LOGSTAT_NAMES "count, rate, sum, avg, min, max, p50, p90, p95 or p99"
#define LOGSERIES_PREFIX "log."
/* "p99" of LOGSTAT_P99. */
const char *logstat_name(enum logstat st);

/*
 * name as log.METRIC.STAT: METRIC into metric, 0; -ENOENT when name is not
 * a log metric's (no "log." prefix); -EINVAL when it is but does not hold.
 */
int logstat_parse(const char *name, char metric[LOGMETRIC_NAME_MAX + 1], enum logstat *stat);

/* Groups past this are refused (-E2BIG): a chart of too many series or points. */
#define LOGSERIES_GROUPS_MAX 100000

struct logseries;
/* Buckets of bucket_us (>= 1 s) from origin. Owned: logseries_free(). */
int logseries_new(uint64_t bucket_us, struct logseries **ret);
void logseries_free(struct logseries *s);
/* One stored row; agent may be "" (a chart groups by host). 0, -E2BIG, -EBADMSG (its sketch), -ENOMEM. */
int logseries_add(struct logseries *s, const char *agent, const char *host, const char *labels, uint64_t ts,
		  uint64_t count, const uint8_t *sketch, size_t sketch_len);
/*
 * fn for each group, ordered by agent, host, labels, bucket, with the
 * statistic of what was merged into it; a group that cannot say (a
 * quantile of a count-only metric) is left out. Stops at fn's non-zero.
 */
int logseries_each(struct logseries *s, enum logstat stat,
		   int (*fn)(const char *agent, const char *host, const char *labels, uint64_t bucket, double value,
			     void *ctx),
		   void *ctx);

#endif
