/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>

#include "agent/agent_conf.h"
#include "agent/central_policy.h"
#include "control/fragment.h"

int fragment_check(const char *name, const char *config, struct conf_errors *errs)
{
	/* The widest any host's [central] may allow: the rest is each host's to refuse. */
	static const struct central_policy widest = { .allow_commands = true, .allow_paths = "/*" };
	char where[128];
	int r;

	(void)snprintf(where, sizeof(where), "group %s", name);
	r = agent_conf_check_fragment(where, config, errs);
	if (r == 0)
		r = central_policy_check(&widest, where, config, errs);
	return r;
}
