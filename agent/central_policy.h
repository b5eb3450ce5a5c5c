/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_CENTRAL_POLICY_H
#define VIGIL_CENTRAL_POLICY_H

#include <stdbool.h>

#include "common/conf.h"

/*
 * What the collector's configuration may set on this host, as the local
 * [central] section allows (docs/control.md has the threat model): tails,
 * parsers, journal filters, metrics, [agent] labels, and probes of the
 * kinds that run no program; command probes only with allow_commands; every
 * path only within allow_paths. Pure: the text's keys against the rules.
 */
struct central_policy {
	bool allow_commands;
	const char *allow_paths; /* space-separated globs, "*" matching "/" too; NULL: none */
};

/*
 * text, called name in errors ("name:LINE: ..."), against p: 0, or -EPERM
 * with one error for each key refused in errs.
 */
int central_policy_check(const struct central_policy *p, const char *name, const char *text,
			 struct conf_errors *errs);

/* Whether path lies within one of globs (space-separated): absolute, no "." or ".." part. */
bool central_path_allowed(const char *globs, const char *path);

#endif
