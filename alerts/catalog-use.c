/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "alerts/catalog.h"
#include "common/macro.h"
#include "common/util.h"
#include "search/logseries.h"

/* What a definition that goes would leave without what it uses. */

/* The rule that names target in notify= or escalate_to=, or NULL. */
static const char *rule_naming_target(const struct catalog_snapshot *s, const char *target)
{
	for (size_t i = 0; i < s->n_rules; i++) {
		const char *lists[] = { s->rules[i]->notify, s->rules[i]->escalate_to };

		for (size_t l = 0; l < ARRAY_SIZE(lists); l++)
			if (word_listed(lists[l], target))
				return s->rules[i]->name;
	}
	return NULL;
}

/* The rule whose metric= is one of log metric's statistics (log.NAME.STAT), or NULL. */
static const char *rule_reading(const struct catalog_snapshot *s, const char *logmetric)
{
	size_t n = strlen(logmetric);

	for (size_t i = 0; i < s->n_rules; i++) {
		const char *m = s->rules[i]->metric;

		if (m && strncmp(m, LOGSERIES_PREFIX, strlen(LOGSERIES_PREFIX)) == 0 &&
		    strncmp(m + strlen(LOGSERIES_PREFIX), logmetric, n) == 0 && m[strlen(LOGSERIES_PREFIX) + n] == '.')
			return s->rules[i]->name;
	}
	return NULL;
}

int catalog_in_use(const struct catalog_snapshot *s, enum catalog_kind kind, const char *name, char *reason,
		  size_t size)
{
	const char *user = kind == CATALOG_NOTIFY ? rule_naming_target(s, name) :
			   kind == CATALOG_LOGMETRIC ? rule_reading(s, name) : NULL;

	if (!user)
		return 0;
	(void)snprintf(reason, size, kind == CATALOG_NOTIFY ? "[rule \"%s\"] sends to [notify \"%s\"]" :
				     "[rule \"%s\"] reads [logmetric \"%s\"]", user, name);
	return -EBUSY;
}
