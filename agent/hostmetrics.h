/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_HOSTMETRICS_H
#define VIGIL_HOSTMETRICS_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/*
 * Host metrics from /proc and statvfs(3): each sample is a set of records,
 * one per "set" (cpu, memory, load, a filesystem, a disk, an interface),
 * each METRIC_SET=... plus METRIC_* fields in export format. Rates and
 * percentages of time need the sample before, kept in the state; the first
 * sample has none of them.
 */
struct hostmetrics;

int hostmetrics_new(struct hostmetrics **ret);
void hostmetrics_free(struct hostmetrics *h);

/*
 * Calls emit once per set with its fields (valid during the call only).
 * Returns 0; a set whose source cannot be read is left out.
 */
int hostmetrics_sample(struct hostmetrics *h, uint64_t now_us,
		       void (*emit)(void *userdata, const struct buf *fields), void *userdata);

#endif
