/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "common/conf.h"
#include "common/macro.h"
#include "common/util.h"
#include "ctl/ctl.h"

static void host_row(json_t *item)
{
	char seen[40];

	format_rfc3339_us((uint64_t)json_integer_value(json_object_get(item, "last_seen")), seen, sizeof(seen));
	printf("%-32s %-24s %-28s %10" JSON_INTEGER_FORMAT " %12" JSON_INTEGER_FORMAT "\n", ctl_text(item, "id"),
	       ctl_text(item, "hostname"), seen, json_integer_value(json_object_get(item, "batches")),
	       json_integer_value(json_object_get(item, "records")));
}

int cmd_hosts(struct ctl *c, char **words, size_t n)
{
	char header[128];

	(void)snprintf(header, sizeof(header), "%-32s %-24s %-28s %10s %12s\n", "ID", "HOSTNAME", "LAST SEEN",
		       "BATCHES", "RECORDS");
	return ctl_list(c, "/api/v1/hosts", NULL, 0, header, host_row);
}

static void probe_row(json_t *item)
{
	printf("%-20s %-24s %-8s %-9s %8.1fms  %s\n", ctl_text(item, "host"), ctl_text(item, "name"),
	       ctl_text(item, "type"), ctl_text(item, "status"),
	       (double)json_integer_value(json_object_get(item, "latency_us")) / 1000.0, ctl_text(item, "message"));
}

int cmd_probes(struct ctl *c, char **words, size_t n)
{
	const struct param params[] = { { "host", c->a.host }, { "status", c->a.status } };
	char header[128];

	(void)snprintf(header, sizeof(header), "%-20s %-24s %-8s %-9s %10s  %s\n", "HOST", "PROBE", "TYPE", "STATUS",
		       "LATENCY", "MESSAGE");
	return ctl_list(c, "/api/v1/probes", params, ARRAY_SIZE(params), header, probe_row);
}

int cmd_verify(struct ctl *c, char **words, size_t n)
{
	json_t *j = ctl_get(c, "/api/v1/verify", NULL, 0), *item, *seals;
	size_t i;
	int ok;

	if (!j)
		return 1;
	seals = json_object_get(j, "seals");
	json_array_foreach(json_object_get(j, "problems"), i, item)
		printf("block %s: %s\n", json_string_value(json_object_get(item, "block")),
		       json_string_value(json_object_get(item, "problem")));
	json_array_foreach(json_object_get(seals, "problems"), i, item)
		printf("seal %" JSON_INTEGER_FORMAT ": %s\n", json_integer_value(json_object_get(item, "seal")),
		       json_string_value(json_object_get(item, "problem")));
	ok = json_is_true(json_object_get(j, "ok"));
	printf("%" JSON_INTEGER_FORMAT " blocks checked (%s), %" JSON_INTEGER_FORMAT " seals checked: %s\n",
	       json_integer_value(json_object_get(j, "blocks")), json_string_value(json_object_get(j, "hash")),
	       json_integer_value(json_object_get(seals, "checked")),
	       ok ? "the hash chain is intact" : "TAMPERING OR DAMAGE FOUND");
	json_decref(j);
	return ok ? 0 : 3;
}

