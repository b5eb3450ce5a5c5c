/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_LOGMATCH_H
#define VIGIL_LOGMATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/export.h"

/*
 * The log rules' patterns, compiled once and matched against every log
 * record ingest decodes (the stored blocks are compressed, so matching is
 * done on the way in, not by the evaluator). A set is immutable once built
 * and shared by reference: ingest threads keep the set they started a batch
 * with while the rules are replaced.
 */

/* What one log rule matches: pattern is an extended regex; unit and source are globs, NULL for any. */
struct logmatch_rule {
	const char *name;
	const char *pattern;
	const char *unit;   /* on _SYSTEMD_UNIT */
	const char *source; /* on any stream field: VIGIL_SOURCE, VIGIL_PATH, _SYSTEMD_UNIT, SYSLOG_IDENTIFIER */
};

#define LOGMATCH_RULES_MAX 256
/* Longer messages are matched on their first this many bytes. */
#define LOGMATCH_MESSAGE_MAX 4096
#define LOGMATCH_SAMPLE_MAX 256

struct logmatch;

/*
 * Compiles rules (every string is copied). -EINVAL with the regex error for
 * the rule at *ret_bad written to err; -E2BIG over LOGMATCH_RULES_MAX.
 */
int logmatch_new(const struct logmatch_rule *rules, size_t n, struct logmatch **ret, size_t *ret_bad, char *err,
		 size_t err_size);
struct logmatch *logmatch_ref(struct logmatch *m);
void logmatch_unref(struct logmatch *m); /* NULL is fine */
size_t logmatch_count(const struct logmatch *m);
const char *logmatch_name(const struct logmatch *m, size_t i);

/* One rule's matches in one batch. */
struct logmatch_hit {
	uint64_t count;
	uint64_t ts_first, ts_last;
	char sample[LOGMATCH_SAMPLE_MAX]; /* the last matching message, cut */
};

/*
 * Matches one record (its fields and time) against every rule, adding to
 * hits[i] for rule i (an array of logmatch_count() hits). Records the agent
 * made itself (VIGIL_KIND) are not log lines and never match.
 */
void logmatch_record(const struct logmatch *m, const struct export_field *f, size_t n, uint64_t ts,
		     struct logmatch_hit *hits);

#endif
