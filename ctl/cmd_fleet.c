/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "common/conf.h"
#include "common/macro.h"
#include "common/util.h"
#include "ctl/ctl.h"

int cmd_hosts(struct ctl *c, char **words, size_t n)
{
	json_t *j = ctl_get(c, "/api/v1/hosts", NULL, 0), *item;
	size_t i;

	if (!j)
		return 1;
	if (!c->json)
		printf("%-32s %-24s %-28s %10s %12s\n", "ID", "HOSTNAME", "LAST SEEN", "BATCHES", "RECORDS");
	json_array_foreach(json_object_get(j, "items"), i, item) {
		char seen[40];
		if (c->json) {
			ctl_print_json(item);
			continue;
		}
		format_rfc3339_us((uint64_t)json_integer_value(json_object_get(item, "last_seen")), seen, sizeof(seen));
		printf("%-32s %-24s %-28s %10" JSON_INTEGER_FORMAT " %12" JSON_INTEGER_FORMAT "\n",
		       json_string_value(json_object_get(item, "id")),
		       json_string_value(json_object_get(item, "hostname")), seen,
		       json_integer_value(json_object_get(item, "batches")),
		       json_integer_value(json_object_get(item, "records")));
	}
	json_decref(j);
	return 0;
}

int cmd_probes(struct ctl *c, char **words, size_t n)
{
	const struct ctl_args *a = &c->a;
	const struct param params[] = { { "host", a->host }, { "status", a->status } };
	json_t *j = ctl_get(c, "/api/v1/probes", params, ARRAY_SIZE(params)), *item;
	size_t i;

	if (!j)
		return 1;
	if (!c->json)
		printf("%-20s %-24s %-8s %-9s %10s  %s\n", "HOST", "PROBE", "TYPE", "STATUS", "LATENCY", "MESSAGE");
	json_array_foreach(json_object_get(j, "items"), i, item) {
		if (c->json) {
			ctl_print_json(item);
			continue;
		}
		printf("%-20s %-24s %-8s %-9s %8.1fms  %s\n", json_string_value(json_object_get(item, "host")),
		       json_string_value(json_object_get(item, "name")), json_string_value(json_object_get(item, "type")),
		       json_string_value(json_object_get(item, "status")),
		       (double)json_integer_value(json_object_get(item, "latency_us")) / 1000.0,
		       json_string_value(json_object_get(item, "message")));
	}
	json_decref(j);
	return 0;
}

int cmd_verify(struct ctl *c, char **words, size_t n)
{
	json_t *j = ctl_get(c, "/api/v1/verify", NULL, 0), *item;
	size_t i;
	int ok;

	if (!j)
		return 1;
	json_array_foreach(json_object_get(j, "problems"), i, item)
		printf("block %s: %s\n", json_string_value(json_object_get(item, "block")),
		       json_string_value(json_object_get(item, "problem")));
	ok = json_is_true(json_object_get(j, "ok"));
	printf("%" JSON_INTEGER_FORMAT " blocks checked: %s\n", json_integer_value(json_object_get(j, "blocks")),
	       ok ? "the hash chain is intact" : "TAMPERING OR DAMAGE FOUND");
	json_decref(j);
	return ok ? 0 : 3;
}

