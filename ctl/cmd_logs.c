/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "common/conf.h"
#include "common/macro.h"
#include "common/util.h"
#include "ctl/ctl.h"

static void print_log(const struct ctl *c, json_t *item)
{
	char ts[40];

	if (c->json) {
		ctl_print_json(item);
		return;
	}
	format_rfc3339_us((uint64_t)json_integer_value(json_object_get(item, "ts")), ts, sizeof(ts));
	printf("%s %s %s: %s\n", ts, json_string_value(json_object_get(item, "host")),
	       json_string_value(json_object_get(item, "source")),
	       json_string_value(json_object_get(item, "message")));
}

/* Lines vigilctl logs prints at most unless --limit says otherwise (not with --follow). */
#define LOGS_LIMIT_DEFAULT 1000
/* Records asked for in one request. */
#define LOGS_PAGE 1000
#define FOLLOW_INTERVAL_MS 1000

/* --limit as a count; 0 when absent; -1 when malformed (said). */
static int64_t logs_limit(const struct ctl_args *a)
{
	uint64_t n;

	if (!a->limit)
		return 0;
	if (conf_parse_uint(a->limit, &n) < 0 || n == 0 || n > INT32_MAX) {
		fprintf(stderr, "vigilctl: --limit %s: expected a positive number\n", a->limit);
		return -1;
	}
	return (int64_t)n;
}

/*
 * Follows next_cursor until the answer says the range is complete (with
 * --follow: on and on), or --limit lines are printed. A search stops at the
 * collector's scan budget per request, which is why one request is not
 * enough: "complete" says whether it saw everything.
 */
int cmd_logs(struct ctl *c, char **words, size_t n)
{
	const struct ctl_args *a = &c->a;
	_cleanup_free_ char *cursor = NULL;
	struct timespec pause = { .tv_sec = FOLLOW_INTERVAL_MS / 1000,
				  .tv_nsec = (FOLLOW_INTERVAL_MS % 1000) * 1000000L };
	const char *kind = !a->kind ? "log" : strcmp(a->kind, "all") == 0 ? NULL : a->kind;
	int64_t limit = logs_limit(a), printed = 0;
	bool complete = false;
	char page[24];

	if (limit < 0 || (a->follow && a->reverse)) {
		if (limit >= 0)
			fprintf(stderr, "vigilctl: logs --follow reads forward; --reverse does not go with it\n");
		return 2;
	}
	if (!limit && !a->follow)
		limit = LOGS_LIMIT_DEFAULT;
	while (!ctl_interrupted && (!limit || printed < limit)) {
		const struct param params[] = {
			{ "host", a->host },   { "source", a->source }, { "q", a->q },	       { "kind", kind },
			{ "since", a->since }, { "until", a->until },   { "limit", page },      { "cursor", cursor },
			{ "order", a->reverse ? "desc" : NULL }, { "priority", a->priority },
		};
		json_t *j, *items, *item;
		size_t i;

		(void)snprintf(page, sizeof(page), "%" PRId64, limit ? MIN(limit - printed, (int64_t)LOGS_PAGE) : LOGS_PAGE);
		j = ctl_get(c, "/api/v1/logs", params, ARRAY_SIZE(params));
		if (!j)
			return 1;
		items = json_object_get(j, "items");
		json_array_foreach(items, i, item)
			print_log(c, item);
		printed += (int64_t)json_array_size(items);
		complete = json_is_true(json_object_get(j, "complete"));
		free(cursor);
		cursor = strdup(json_string_value(json_object_get(j, "next_cursor")) ?: "");
		json_decref(j);
		(void)fflush(stdout);
		if (complete && !a->follow)
			break;
		/* Not complete: more is waiting (a full page, or the scan budget spent): fetch it at once. */
		if (complete)
			(void)nanosleep(&pause, NULL);
	}
	if (!complete && !ctl_interrupted && !a->follow)
		fprintf(stderr, "vigilctl: stopped after %" PRId64 " lines (--limit %" PRId64 "); more may match: "
				"raise --limit or narrow the search\n", printed, limit);
	return 0;
}

/* metrics --name N [--host H] [--since T] [--until T] [--step D]: a series' points, one a line. */
int cmd_metrics(struct ctl *c, char **words, size_t n)
{
	const struct ctl_args *a = &c->a;
	const struct param params[] = { { "name", a->name }, { "host", a->host }, { "since", a->since },
					{ "until", a->until }, { "step", a->step } };
	json_t *j, *series, *pt;
	size_t i, k;

	if (!a->name) {
		fprintf(stderr, "vigilctl: metrics needs --name, e.g. cpu.user_pct, memory.used_pct, filesystem.used_pct\n");
		return 2;
	}
	j = ctl_get(c, "/api/v1/metrics", params, ARRAY_SIZE(params));
	if (!j)
		return 1;
	if (c->json)
		ctl_print_json(j);
	else
		printf("%-20s %-16s %-26s %12s %12s %12s\n", "HOST", "INSTANCE", "TIME", "AVG", "MIN", "MAX");
	json_array_foreach(c->json ? NULL : json_object_get(j, "series"), i, series) {
		json_array_foreach(json_object_get(series, "points"), k, pt) {
			char ts[40];

			format_rfc3339_us((uint64_t)json_integer_value(json_array_get(pt, 0)), ts, sizeof(ts));
			printf("%-20s %-16s %-26s %12.6g %12.6g %12.6g\n", ctl_text(series, "host"), ctl_text(series, "instance"),
			       ts, json_number_value(json_array_get(pt, 1)), json_number_value(json_array_get(pt, 2)),
			       json_number_value(json_array_get(pt, 3)));
		}
	}
	json_decref(j);
	return 0;
}

