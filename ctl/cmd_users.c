/* SPDX-License-Identifier: Apache-2.0 */
/* vigilctl user: the named users, for admins (POST /api/v1/users…). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "common/macro.h"
#include "ctl/ctl.h"

static void user_row(json_t *u)
{
	printf("%-24s %-9s %-8s %-11s %-4s\n", ctl_text(u, "name"), ctl_text(u, "role"),
	       json_is_true(json_object_get(u, "disabled")) ? "disabled" : "active",
	       json_is_true(json_object_get(u, "must_change")) ? "must change" : "-",
	       json_is_true(json_object_get(u, "totp")) ? "totp" : "-");
}

static int user_list(struct ctl *c, char **words, size_t n)
{
	char header[128];

	(void)snprintf(header, sizeof(header), "%-24s %-9s %-8s %-11s %-4s\n", "NAME", "ROLE", "STATE", "PASSWORD",
		       "2FA");
	return ctl_list(c, "/api/v1/users", NULL, 0, header, user_row);
}

/* The first line of standard input, without its newline; NULL when there is none. */
static char *password_line(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len = getline(&line, &cap, stdin);

	if (len <= 0) {
		free(line);
		fprintf(stderr, "vigilctl: expected the password on standard input\n");
		return NULL;
	}
	line[strcspn(line, "\r\n")] = 0;
	return line;
}

/* Sends body (taken) to path; prints a line, or the answer with --json. */
static int post_user(struct ctl *c, const char *path, json_t *body, const char *done)
{
	json_t *j = ctl_post(c, path, body);

	if (!j)
		return 1;
	if (c->json)
		ctl_print_json(j);
	else
		puts(done);
	json_decref(j);
	return 0;
}

static int user_add(struct ctl *c, char **words, size_t n)
{
	char *pw = password_line();
	json_t *body;

	if (!pw)
		return 2;
	body = json_pack("{s:s, s:s, s:s}", "name", words[0], "role", words[1], "password", pw);
	explicit_bzero(pw, strlen(pw));
	free(pw);
	return post_user(c, "/api/v1/users", body, "user created: the password must be changed at the first login");
}

/* disable, enable, role ROLE, reset-password (from standard input) on user words[0]. */
static int user_act(struct ctl *c, char **words, size_t n)
{
	const char *action = c->sub;
	char path[256], *pw = NULL;
	json_t *body = json_pack("{s:s}", "action", action);

	(void)snprintf(path, sizeof(path), "/api/v1/users/%s", words[0]);
	if (strcmp(action, "role") == 0)
		json_object_set_new(body, "role", json_string(words[1]));
	if (strcmp(action, "reset-password") == 0) {
		pw = password_line();
		if (!pw) {
			json_decref(body);
			return 2;
		}
		json_object_set_new(body, "password", json_string(pw));
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	return post_user(c, path, body, "done");
}

static const struct ctl_command user_commands[] = {
	{ "list", 0, 0, "", "the users", NULL, user_list },
	{ "add", 2, 2, "NAME ROLE < password", "a user, who changes the password at the first login", NULL, user_add },
	{ "disable", 1, 1, "NAME", "no more logins; the user's sessions end", NULL, user_act },
	{ "enable", 1, 1, "NAME", "logins again", NULL, user_act },
	{ "role", 2, 2, "NAME ROLE", "another role; the user's sessions end", NULL, user_act },
	{ "reset-password", 1, 1, "NAME < password", "a new password (unlocks), changed at the next login", NULL,
	  user_act },
};

int cmd_user(struct ctl *c, char **words, size_t n)
{
	return ctl_run_sub(c, "user", user_commands, ARRAY_SIZE(user_commands), words, n);
}
