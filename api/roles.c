/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "api/roles.h"
#include "common/macro.h"

static const char *const role_names[] = { "viewer", "operator", "admin", "security", "auditor" };

unsigned role_bit(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(role_names); i++)
		if (strcmp(role_names[i], name) == 0)
			return 1u << i;
	return 0;
}

const char *role_check(const char *name, char *why, size_t size)
{
	char all[128];

	if (role_bit(name))
		return NULL;
	roles_text(ROLES_ANY, all, sizeof(all));
	(void)snprintf(why, size, "expected %s", all);
	return why;
}

void roles_text(unsigned roles, char *out, size_t size)
{
	size_t n = 0, left = (size_t)__builtin_popcount(roles);

	out[0] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(role_names); i++) {
		if (!(roles & (1u << i)))
			continue;
		left--;
		n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s%s", role_names[i],
				      left > 1 ? ", " : left == 1 ? " or " : "");
	}
}
