/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <fnmatch.h>
#include <stdio.h>

#include "alerts/queue.h"
#include "alerts/routes.h"
#include "common/macro.h"
#include "common/util.h"

bool route_matches(const struct route_conf *route, json_t *alert)
{
	const char *p = route->match;
	char word[512];

	while (next_word(&p, word, sizeof(word))) {
		char *eq = strchr(word, '=');
		const char *have;

		if (!eq)
			return false;
		*eq = 0;
		have = strcmp(word, "rule") == 0 || strcmp(word, "severity") == 0 ?
			       json_string_value(json_object_get(alert, word)) :
			       json_string_value(json_object_get(json_object_get(alert, "labels"), word));
		if (!have || fnmatch(eq + 1, have, 0) != 0)
			return false;
	}
	return true;
}

#define TOLD_MAX 64

/* The targets told so far, up to TOLD_MAX. */
struct told {
	char names[TOLD_MAX][256];
	size_t n;
};

/* Queues payload for each target named in list not told yet. */
static int tell_list(struct alert_store *s, const char *list, int64_t id, const char *event, const char *payload, uint64_t now,
		     struct told *told, bool *queued)
{
	const char *p = list;
	char name[256];
	int r = 0;

	while (r == 0 && p && next_word(&p, name, sizeof(name))) {
		bool dup = false;

		for (size_t i = 0; i < told->n && !dup; i++)
			dup = strcmp(told->names[i], name) == 0;
		if (dup || told->n == TOLD_MAX)
			continue;
		memcpy(told->names[told->n++], name, sizeof(name));
		r = queue_add(s, id, name, event, payload, now, NULL);
		*queued = true;
	}
	return r;
}

int routes_tell(struct alert_store *s, const struct alert_defs *defs, const char *targets, bool routed, json_t *alert,
		uint64_t now, bool *ret_queued)
{
	int64_t id = json_integer_value(json_object_get(alert, "id"));
	const char *event = json_string_value(json_object_get(alert, "event"));
	_cleanup_free_ struct told *told = calloc(1, sizeof(*told));
	_cleanup_free_ char *payload = json_dumps(alert, JSON_COMPACT);
	int r = told && payload ? tell_list(s, targets, id, event, payload, now, told, ret_queued) : -ENOMEM;

	for (size_t i = 0; r == 0 && routed && i < defs->n_routes; i++)
		if (route_matches(defs->routes[i], alert))
			r = tell_list(s, defs->routes[i]->notify, id, event, payload, now, told, ret_queued);
	return r;
}
