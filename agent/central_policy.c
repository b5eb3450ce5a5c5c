/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <fnmatch.h>
#include <ini.h>
#include <stdio.h>

#include "agent/central_policy.h"
#include "common/macro.h"

enum verdict {
	V_ALLOW,
	V_PATH,    /* a path: within allow_paths */
	V_COMMAND, /* runs a program: allow_commands */
	V_DENY,
};

/* A key of a section kind ("*": any of its keys, after the named ones). */
struct rule {
	const char *section, *key;
	enum verdict v;
};

/*
 * The rules, first match wins; a section not listed is refused whole. The
 * connection, the spool, enrollment, the device relay (it listens) and
 * [central] itself are the host's alone.
 */
static const struct rule rules[] = {
	{ "journal", "directory", V_PATH },
	{ "journal", "*", V_ALLOW },
	{ "metrics", "*", V_ALLOW },
	{ "parser", "*", V_ALLOW },
	{ "tail", "path", V_PATH },
	{ "tail", "*", V_ALLOW },
	{ "probe", "path", V_PATH },
	{ "probe", "pidfile", V_PATH },
	{ "probe", "file", V_PATH },
	{ "probe", "tls_ca", V_PATH },
	{ "probe", "command", V_COMMAND },
	{ "probe", "*", V_ALLOW },
};

struct checker {
	const struct central_policy *p;
	const char *name;
	struct conf_errors *errs;
	FILE *fp;
	unsigned line;
	int r;
};

bool central_path_allowed(const char *globs, const char *path)
{
	char glob[1024];

	if (path[0] != '/' || strstr(path, "/../") || strstr(path, "/./") || strstr(path, "//") ||
	    (strlen(path) >= 3 && strcmp(path + strlen(path) - 3, "/..") == 0) ||
	    (strlen(path) >= 2 && strcmp(path + strlen(path) - 2, "/.") == 0))
		return false;
	for (const char *g = globs ? globs : ""; *(g += strspn(g, " \t"));) {
		size_t n = strcspn(g, " \t");

		if (n < sizeof(glob)) {
			memcpy(glob, g, n);
			glob[n] = 0;
			if (fnmatch(glob, path, 0) == 0)
				return true;
		}
		g += n;
	}
	return false;
}

static enum verdict verdict_of(const char *section, const char *key)
{
	size_t n = strcspn(section, " ");

	for (size_t i = 0; i < ARRAY_SIZE(rules); i++)
		if (strlen(rules[i].section) == n && memcmp(rules[i].section, section, n) == 0 &&
		    (strcmp(rules[i].key, key) == 0 || strcmp(rules[i].key, "*") == 0))
			return rules[i].v;
	return V_DENY;
}

static void refuse(struct checker *c, const char *section, const char *key, const char *value, const char *why)
{
	char where[512];

	(void)snprintf(where, sizeof(where), "%s:%u", c->name, c->line);
	conf_error_add(c->errs, where, "[%s] %s=%s: %s", section, key, value, why);
	c->r = -EPERM;
}

#define NO_COMMANDS "this host's [central] allow_commands=no: the collector may not run programs here"

static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct checker *c = user;

	switch (verdict_of(section, key)) {
	case V_ALLOW:
		/* A command probe named by its type runs a program as surely as by its command=. */
		if (strncmp(section, "probe ", 6) == 0 && strcmp(key, "type") == 0 && strcmp(value, "command") == 0 &&
		    !c->p->allow_commands)
			refuse(c, section, key, value, NO_COMMANDS);
		break;
	case V_PATH:
		if (!central_path_allowed(c->p->allow_paths, value))
			refuse(c, section, key, value, "not within this host's [central] allow_paths");
		break;
	case V_COMMAND:
		if (!c->p->allow_commands)
			refuse(c, section, key, value, NO_COMMANDS);
		break;
	case V_DENY:
		refuse(c, section, key, value, "this host's own to set, not the collector's");
		break;
	}
	return 1;
}

static char *counting_reader(char *str, int num, void *stream)
{
	struct checker *c = stream;
	char *r = fgets(str, num, c->fp);

	if (r)
		c->line++;
	return r;
}

int central_policy_check(const struct central_policy *p, const char *name, const char *text,
			 struct conf_errors *errs)
{
	struct checker c = { .p = p, .name = name, .errs = errs };

	c.fp = fmemopen((void *)text, strlen(text), "r");
	if (!c.fp)
		return -ENOMEM;
	/* Syntax is the configuration loader's to report: here only what it would set. */
	(void)ini_parse_stream(counting_reader, &c, handler, &c);
	(void)fclose(c.fp);
	return c.r;
}
