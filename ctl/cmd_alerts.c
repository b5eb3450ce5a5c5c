/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "common/conf.h"
#include "common/macro.h"
#include "common/util.h"
#include "ctl/ctl.h"

static void alert_row(json_t *item)
{
	printf("%-6" JSON_INTEGER_FORMAT " %-9s %-9s %-20s %-16s %-12s %s%s\n",
	       json_integer_value(json_object_get(item, "id")), ctl_text(item, "state"), ctl_text(item, "severity"),
	       ctl_text(item, "host"), ctl_text(item, "rule"), ctl_text(item, "acked_by"), ctl_text(item, "summary"),
	       json_is_true(json_object_get(item, "suppressed")) ? " (suppressed)" : "");
}

int cmd_alerts(struct ctl *c, char **words, size_t n)
{
	const struct ctl_args *a = &c->a;
	const struct param params[] = { { "state", a->state },	    { "severity", a->severity },
					{ "host", a->host },	    { "assignee", a->assignee },
					{ "unacked", a->unacked ? "1" : NULL }, { "q", a->q } };
	char header[128];

	(void)snprintf(header, sizeof(header), "%-6s %-9s %-9s %-20s %-16s %-12s %s\n", "ID", "STATE", "SEVERITY",
		       "HOST", "RULE", "ACKED BY", "SUMMARY");
	return ctl_list(c, "/api/v1/alerts", params, ARRAY_SIZE(params), header, alert_row);
}

static void print_alert(const struct ctl *c, json_t *j)
{
	char ts[40];
	json_t *e;
	size_t i;

	if (c->json) {
		ctl_print_json(j);
		return;
	}
	printf("alert %" JSON_INTEGER_FORMAT ": %s\n  %s, %s, host %s, rule %s, acked by %s, assigned to %s\n",
	       json_integer_value(json_object_get(j, "id")), ctl_text(j, "summary"), ctl_text(j, "state"), ctl_text(j, "severity"),
	       ctl_text(j, "host"), ctl_text(j, "rule"), ctl_text(j, "acked_by"), ctl_text(j, "assignee"));
	json_array_foreach(json_object_get(j, "history"), i, e) {
		format_rfc3339_us((uint64_t)json_integer_value(json_object_get(e, "ts")), ts, sizeof(ts));
		printf("  %s %-14s %-16s %s\n", ts, ctl_text(e, "actor"), ctl_text(e, "action"), ctl_text(e, "note"));
	}
}

/* ID [ACTION]: shows the alert with its history, or acts on it first. */
static int alert_act(struct ctl *c, const char *id, const char *action)
{
	const struct ctl_args *a = &c->a;
	json_t *body = json_object(), *j;
	char path[128];
	char *post = NULL;

	if (!ctl_is_id(id)) {
		fprintf(stderr, "vigilctl: alert %s: expected a number\n", id);
		json_decref(body);
		return 2;
	}
	(void)snprintf(path, sizeof(path), "/api/v1/alerts/%s%s%s", id, action ? "/" : "", action ? action : "");
	if (a->note)
		json_object_set_new(body, "note", json_string(a->note));
	if (a->to)
		json_object_set_new(body, "to", json_string(a->to));
	if (a->severity)
		json_object_set_new(body, "severity", json_string(a->severity));
	post = action ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	j = ctl_request(c, NULL, path, post);
	free(post);
	if (!j)
		return 1;
	print_alert(c, j);
	json_decref(j);
	return 0;
}

/* alert ID [ACTION] */
int cmd_alert(struct ctl *c, char **words, size_t n)
{
	return alert_act(c, words[0], n > 1 ? words[1] : NULL);
}

/* ack|unack|assign|comment|severity|close ID [USER|LEVEL]: alert ID ACTION, shorter. */
int cmd_act(struct ctl *c, char **words, size_t n)
{
	struct ctl_args *a = &c->a;
	const char *action = c->cmd;
	bool takes = strcmp(action, "assign") == 0 || strcmp(action, "severity") == 0;

	if (n != (takes ? 2u : 1u)) {
		fprintf(stderr, "vigilctl: expected %s ID%s\n", action,
			strcmp(action, "assign") == 0 ? " USER" : takes ? " LEVEL" : "");
		return 2;
	}
	if (strcmp(action, "assign") == 0)
		a->to = words[1];
	else if (takes)
		a->severity = words[1];
	return alert_act(c, words[0], action);
}

static void silence_row(json_t *s)
{
	char starts[40], ends[40], every[32] = "once", *m;

	format_rfc3339_us((uint64_t)json_integer_value(json_object_get(s, "starts")), starts, sizeof(starts));
	format_rfc3339_us((uint64_t)json_integer_value(json_object_get(s, "ends")), ends, sizeof(ends));
	if (json_object_get(s, "every"))
		(void)snprintf(every, sizeof(every), "every %" JSON_INTEGER_FORMAT "s",
			       json_integer_value(json_object_get(s, "every")));
	m = json_dumps(json_object_get(s, "matchers"), JSON_COMPACT | JSON_SORT_KEYS);
	printf("%-5" JSON_INTEGER_FORMAT " %-6s %-26s %-26s %-14s %-12s %s  %s\n",
	       json_integer_value(json_object_get(s, "id")), json_is_true(json_object_get(s, "active")) ? "yes" : "no",
	       starts, ends, every, ctl_text(s, "creator"), m ? m : "?", ctl_text(s, "comment"));
	free(m);
}

static int silence_list(struct ctl *c, char **words, size_t n)
{
	const struct param params[] = { { "all", c->a.all ? "1" : NULL } };
	char header[128];

	(void)snprintf(header, sizeof(header), "%-5s %-6s %-26s %-26s %-14s %-12s %s\n", "ID", "ACTIVE", "STARTS",
		       "ENDS", "REPEATS", "CREATOR", "MATCHERS  COMMENT");
	return ctl_list(c, "/api/v1/silences", params, ARRAY_SIZE(params), header, silence_row);
}

/* silence add KEY=VALUE... -m COMMENT (--duration D | --ends T) [--starts T] [--every D [--until T]] */
static int silence_add(struct ctl *c, char **words, size_t n)
{
	const struct ctl_args *a = &c->a;
	json_t *m = json_object(), *body, *j;
	char *post;

	for (size_t i = 0; i < n; i++) {
		char *eq = strchr(words[i], '=');

		if (!eq || eq == words[i]) {
			fprintf(stderr, "vigilctl: silence add: '%s' is not KEY=VALUE\n", words[i]);
			json_decref(m);
			return 2;
		}
		*eq = 0;
		json_object_set_new(m, words[i], json_string(eq + 1));
	}
	body = json_pack("{s:o}", "matchers", m);
	if (a->note)
		json_object_set_new(body, "comment", json_string(a->note));
	if (a->starts)
		json_object_set_new(body, "starts", json_string(a->starts));
	if (a->ends)
		json_object_set_new(body, "ends", json_string(a->ends));
	if (a->duration)
		json_object_set_new(body, "duration", json_string(a->duration));
	if (a->every)
		json_object_set_new(body, "every", json_string(a->every));
	if (a->until)
		json_object_set_new(body, "until", json_string(a->until));
	post = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	j = post ? ctl_request(c, NULL, "/api/v1/silences", post) : NULL;
	free(post);
	if (!j)
		return 1;
	if (c->json)
		ctl_print_json(j);
	else
		silence_row(j);
	json_decref(j);
	return 0;
}

static int silence_expire(struct ctl *c, char **words, size_t n)
{
	char path[128];
	json_t *j;

	if (!ctl_is_id(words[0])) {
		fprintf(stderr, "vigilctl: silence expire %s: expected an id\n", words[0]);
		return 2;
	}
	(void)snprintf(path, sizeof(path), "/api/v1/silences/%s", words[0]);
	j = ctl_request(c, "DELETE", path, NULL);
	if (!j)
		return 1;
	if (!c->json)
		printf("silence %s ended\n", words[0]);
	else
		ctl_print_json(j);
	json_decref(j);
	return 0;
}

/* The words after "silence": a command table of its own. */
static const struct ctl_command silence_commands[] = {
	{ "list", 0, 0, "[--all]", "the silences not over yet (all: every one)", NULL, silence_list },
	{ "add", 1, 64, "KEY=VALUE... -m COMMENT (--duration D | --ends T) [--starts T] [--every D [--until T]]",
	  "a silence, or a recurring maintenance window", NULL, silence_add },
	{ "expire", 1, 1, "ID", "ends a silence now", NULL, silence_expire },
};

int cmd_silence(struct ctl *c, char **words, size_t n)
{
	return ctl_run_sub(c, "silence", silence_commands, ARRAY_SIZE(silence_commands), words, n);
}

static void rule_row(json_t *item)
{
	printf("%-24s %-12s %-9s %-7s %s\n", ctl_text(item, "name"), ctl_text(item, "type"), ctl_text(item, "severity"),
	       ctl_text(item, "defined_in"), ctl_text(item, "notify"));
}

int cmd_rules(struct ctl *c, char **words, size_t n)
{
	char header[128];

	(void)snprintf(header, sizeof(header), "%-24s %-12s %-9s %-7s %s\n", "NAME", "TYPE", "SEVERITY", "DEFINED",
		       "NOTIFY");
	return ctl_list(c, "/api/v1/rules", NULL, 0, header, rule_row);
}

