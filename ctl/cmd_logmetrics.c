/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/macro.h"
#include "ctl/ctl.h"

/* Log metrics (/api/v1/logmetrics): listed, shown, defined with the keys of a [logmetric] section, deleted. */

static void logmetric_row(json_t *item)
{
	json_t *l;
	size_t i;

	printf("%-24s %-7s %8" JSON_INTEGER_FORMAT "s %-16s ", ctl_text(item, "name"), ctl_text(item, "defined_in"),
	       json_integer_value(json_object_get(item, "step_ms")) / 1000, ctl_text(item, "value"));
	json_array_foreach(json_object_get(item, "labels"), i, l)
		printf("%s%s", i ? "," : "", json_string_value(l));
	printf("%s %s\n", json_array_size(json_object_get(item, "labels")) ? "" : "-", ctl_text(item, "query"));
}

static int logmetric_list(struct ctl *c, char **words, size_t n)
{
	char header[128];

	(void)snprintf(header, sizeof(header), "%-24s %-7s %9s %-16s %s %s\n", "NAME", "DEFINED", "STEP", "VALUE",
		       "LABELS", "QUERY");
	return ctl_list(c, "/api/v1/logmetrics", NULL, 0, header, logmetric_row);
}

/* /api/v1/logmetrics/NAME into path; false after saying why when NAME would not be one path segment. */
static bool logmetric_path(const char *name, char *path, size_t size)
{
	if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(name) ||
	    strlen(name) > 64) {
		fprintf(stderr, "vigilctl: logmetric %s: a name is lower-case letters, digits and '_'\n", name);
		return false;
	}
	(void)snprintf(path, size, "/api/v1/logmetrics/%s", name);
	return true;
}

static void print_logmetric(const struct ctl *c, json_t *j)
{
	json_t *v;
	size_t i;

	if (c->json) {
		ctl_print_json(j);
		return;
	}
	logmetric_row(j);
	printf("  series:");
	json_array_foreach(json_object_get(j, "metrics"), i, v)
		printf(" %s", json_string_value(v));
	printf("\n");
}

static int logmetric_show(struct ctl *c, char **words, size_t n)
{
	char path[128];
	json_t *j;

	if (!logmetric_path(words[0], path, sizeof(path)))
		return 2;
	j = ctl_get(c, path, NULL, 0);
	if (!j)
		return 1;
	print_logmetric(c, j);
	json_decref(j);
	return 0;
}

/* NAME KEY=VALUE…: the section's keys as the file has them (query=, value=, labels=, step=). */
static int logmetric_put(struct ctl *c, char **words, size_t n, bool create)
{
	json_t *body = json_object(), *j = NULL;
	char path[128], *text = NULL;

	if (!logmetric_path(words[0], path, sizeof(path))) {
		json_decref(body);
		return 2;
	}
	for (size_t i = 1; i < n; i++) {
		const char *eq = strchr(words[i], '=');
		char key[32];

		if (!eq || eq == words[i] || eq - words[i] >= (ptrdiff_t)sizeof(key)) {
			fprintf(stderr, "vigilctl: logmetric: %s: expected KEY=VALUE (query=, value=, labels=, step=)\n",
				words[i]);
			json_decref(body);
			return 2;
		}
		(void)snprintf(key, sizeof(key), "%.*s", (int)(eq - words[i]), words[i]);
		json_object_set_new(body, key, json_string(eq + 1));
	}
	if (create)
		json_object_set_new(body, "name", json_string(words[0]));
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text)
		j = ctl_request(c, create ? "POST" : "PUT", create ? "/api/v1/logmetrics" : path, text);
	free(text);
	if (!j)
		return 1;
	print_logmetric(c, j);
	json_decref(j);
	return 0;
}

static int logmetric_add(struct ctl *c, char **words, size_t n)
{
	return logmetric_put(c, words, n, true);
}

static int logmetric_set(struct ctl *c, char **words, size_t n)
{
	return logmetric_put(c, words, n, false);
}

static int logmetric_delete(struct ctl *c, char **words, size_t n)
{
	char path[128];
	json_t *j;

	if (!logmetric_path(words[0], path, sizeof(path)))
		return 2;
	j = ctl_request(c, "DELETE", path, NULL);
	if (!j)
		return 1;
	if (c->json)
		ctl_print_json(j);
	json_decref(j);
	return 0;
}

static const struct ctl_command logmetric_commands[] = {
	{ "list", 0, 0, "", "the log metrics, the file's and the API's", NULL, logmetric_list },
	{ "show", 1, 1, "NAME", "one, with the names of its series", NULL, logmetric_show },
	{ "add", 1, 5, "NAME [query=Q] [value=FIELD] [labels='F F'] [step=D]", "defines one", NULL, logmetric_add },
	{ "set", 1, 5, "NAME [query=Q] [value=FIELD] [labels='F F'] [step=D]", "defines it anew (keys not given: defaults)",
	  NULL, logmetric_set },
	{ "delete", 1, 1, "NAME", "no longer kept (what was stored stays readable)", NULL, logmetric_delete },
};

int cmd_logmetric(struct ctl *c, char **words, size_t n)
{
	return ctl_run_sub(c, "logmetric", logmetric_commands, ARRAY_SIZE(logmetric_commands), words, n);
}
