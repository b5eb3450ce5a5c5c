/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "common/file.h"
#include "common/macro.h"
#include "ctl/ctl.h"

/* vigilctl config-group: the config groups of docs/control.md over /api/v1/config-groups. */

#define GROUPS "/api/v1/config-groups"
#define GROUP_TEXT_MAX (64 * 1024)

static void group_row(json_t *item)
{
	printf("%-24s %5" JSON_INTEGER_FORMAT " %7" JSON_INTEGER_FORMAT "  %-16s %s\n", ctl_text(item, "name"),
	       json_integer_value(json_object_get(item, "order")), json_integer_value(json_object_get(item, "version")),
	       ctl_text(item, "author"), *ctl_text(item, "selector") ? ctl_text(item, "selector") : "(every agent)");
}

static int group_list(struct ctl *c, char **words, size_t n)
{
	return ctl_list(c, GROUPS, NULL, 0, "NAME                     ORDER VERSION  AUTHOR           SELECTOR\n",
			group_row);
}

/* GROUPS/NAME[suffix] into path; false (said why) when NAME is no group's name. */
static bool group_path(const char *name, const char *suffix, char *path, size_t size)
{
	if (!*name || strlen(name) > 64 || strchr(name, '/') || strchr(name, '?') || strchr(name, '%')) {
		(void)fprintf(stderr, "vigilctl: '%s' is not a config group's name\n", name);
		return false;
	}
	(void)snprintf(path, size, GROUPS "/%s%s", name, suffix);
	return true;
}

/* A group: its keys, then its configuration as the agents get it. */
static void print_group(json_t *j)
{
	printf("name:     %s\nselector: %s\norder:    %" JSON_INTEGER_FORMAT "\nversion:  %" JSON_INTEGER_FORMAT
	       "\nauthor:   %s\n\n%s",
	       ctl_text(j, "name"), ctl_text(j, "selector"), json_integer_value(json_object_get(j, "order")),
	       json_integer_value(json_object_get(j, "version")), ctl_text(j, "author"), ctl_text(j, "config"));
}

static int group_show(struct ctl *c, char **words, size_t n)
{
	char path[128];
	json_t *j;

	if (!group_path(words[0], "", path, sizeof(path)) || !(j = ctl_get(c, path, NULL, 0)))
		return 1;
	if (c->json)
		ctl_print_json(j);
	else
		print_group(j);
	json_decref(j);
	return 0;
}

static void version_row(json_t *item)
{
	printf("%7" JSON_INTEGER_FORMAT "  %-16s %s\n", json_integer_value(json_object_get(item, "version")),
	       ctl_text(item, "author"), ctl_text(item, "selector"));
}

static int group_versions(struct ctl *c, char **words, size_t n)
{
	char path[160];

	if (!group_path(words[0], "/versions", path, sizeof(path)))
		return 2;
	return ctl_list(c, path, NULL, 0, "VERSION  AUTHOR           SELECTOR\n", version_row);
}

/* --canary and --percent as a rollout: the new version for those agents first. */
static json_t *rollout_of(const struct ctl *c)
{
	json_t *r = json_object();

	if (c->a.canary)
		json_object_set_new(r, "canary", json_string(c->a.canary));
	if (c->a.percent)
		json_object_set_new(r, "percent", json_integer(strtoll(c->a.percent, NULL, 10)));
	return r;
}

/* set NAME FILE: the file's text (-: standard input) as the group's next version. */
static int group_set(struct ctl *c, char **words, size_t n)
{
	json_t *body, *j = NULL;
	char path[128], *text = NULL, *dump = NULL;
	int r;

	if (!group_path(words[0], "", path, sizeof(path)))
		return 2;
	r = file_read_text(strcmp(words[1], "-") == 0 ? "/dev/stdin" : words[1], GROUP_TEXT_MAX, &text);
	if (r < 0) {
		(void)fprintf(stderr, "vigilctl: cannot read %s: %s\n", words[1], strerror(-r));
		return 1;
	}
	body = json_pack("{s:s}", "config", text);
	if (body && c->a.selector)
		json_object_set_new(body, "selector", json_string(c->a.selector));
	if (body && c->a.order)
		json_object_set_new(body, "order", json_integer(strtoll(c->a.order, NULL, 10)));
	if (body && (c->a.canary || c->a.percent))
		json_object_set_new(body, "rollout", rollout_of(c));
	dump = body ? json_dumps(body, JSON_COMPACT) : NULL;
	j = dump ? ctl_request(c, "PUT", path, dump) : NULL;
	if (j && c->json)
		ctl_print_json(j);
	else if (j)
		printf("config group %s: version %" JSON_INTEGER_FORMAT "%s\n", ctl_text(j, "name"),
		       json_integer_value(json_object_get(j, "version")),
		       json_object_get(j, "rollout") ? ", rolled out (vigilctl config-group promote when it holds)" : "");
	free(dump);
	free(text);
	json_decref(body);
	r = j ? 0 : 1;
	json_decref(j);
	return r;
}

static int group_promote(struct ctl *c, char **words, size_t n)
{
	char path[128];
	json_t *j;

	if (!group_path(words[0], "/promote", path, sizeof(path)) || !(j = ctl_request(c, "POST", path, "")))
		return 1;
	printf("config group %s: version %" JSON_INTEGER_FORMAT " for every agent it selects\n", words[0],
	       json_integer_value(json_object_get(j, "version")));
	json_decref(j);
	return 0;
}

static int group_delete(struct ctl *c, char **words, size_t n)
{
	char path[128];
	json_t *j;

	if (!group_path(words[0], "", path, sizeof(path)) || !(j = ctl_request(c, "DELETE", path, NULL)))
		return 1;
	printf("config group %s deleted\n", words[0]);
	json_decref(j);
	return 0;
}

/* preview [K=V…]: the configuration an agent of those labels runs, and the dial tests it runs. */
static int group_preview(struct ctl *c, char **words, size_t n)
{
	char labels[1024] = "";
	size_t at = 0;
	json_t *j;

	for (size_t i = 0; i < n && at < sizeof(labels); i++)
		at += (size_t)snprintf(labels + at, sizeof(labels) - at, "%s%s", i ? " " : "", words[i]);
	j = ctl_get(c, "/api/v1/config-preview", (const struct param[]){ { "labels", labels } }, 1);
	if (!j)
		return 1;
	if (c->json) {
		ctl_print_json(j);
	} else {
		json_t *t;
		size_t i;

		printf("# version %" JSON_INTEGER_FORMAT "\n%s", json_integer_value(json_object_get(j, "version")),
		       ctl_text(j, "config"));
		json_array_foreach(json_object_get(j, "dialtests"), i, t)
			printf("# dial test %" JSON_INTEGER_FORMAT " %s (docs/dialtests.md: this host a vantage point)\n",
			       json_integer_value(json_object_get(t, "id")), ctl_text(t, "name"));
	}
	json_decref(j);
	return 0;
}

static const struct ctl_command group_commands[] = {
	{ "list", 0, 0, "", "the groups, in the order agents get them", NULL, group_list },
	{ "show", 1, 1, "NAME", "one, with its configuration", NULL, group_show },
	{ "versions", 1, 1, "NAME", "every version it had, oldest first", NULL, group_versions },
	{ "set", 2, 2, "NAME FILE [--selector K=V…] [--order N] [--canary K=V…] [--percent N]",
	  "defines it, or its next version, from an agent.conf fragment (-: standard input); with --canary or\n"
	  "       --percent, for those agents only until it is promoted", NULL, group_set },
	{ "promote", 1, 1, "NAME", "the version rolled out, for every agent the group selects", NULL, group_promote },
	{ "delete", 1, 1, "NAME", "deletes it (its versions stay)", NULL, group_delete },
	{ "preview", 0, 16, "[K=V…]", "the configuration an agent of those labels gets", NULL, group_preview },
};

int cmd_config_group(struct ctl *c, char **words, size_t n)
{
	return ctl_run_sub(c, "config-group", group_commands, ARRAY_SIZE(group_commands), words, n);
}
