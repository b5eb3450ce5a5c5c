/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_ROLES_H
#define VIGIL_ROLES_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The roles a token or a user has (三权分立, docs/api.md): the system
 * administrator (admin: users, tokens, rules, targets, dial tests), the
 * security administrator (security: logs, integrity, the audit log), the
 * audit administrator (auditor: the audit log and nothing else), and the
 * ops roles (operator: acts on alerts, reads logs; viewer: reads state).
 * The route table (api/http.c) is the one place that says which may do
 * what.
 */
enum role {
	ROLE_VIEWER = 1 << 0,
	ROLE_OPERATOR = 1 << 1,
	ROLE_ADMIN = 1 << 2,
	ROLE_SECURITY = 1 << 3,
	ROLE_AUDITOR = 1 << 4,
};
#define ROLES_ANY (ROLE_VIEWER | ROLE_OPERATOR | ROLE_ADMIN | ROLE_SECURITY | ROLE_AUDITOR)
#define ROLES_STATE (ROLE_VIEWER | ROLE_OPERATOR | ROLE_ADMIN)
#define ROLES_LOGS (ROLE_OPERATOR | ROLE_ADMIN | ROLE_SECURITY)
#define ROLES_AUDIT (ROLE_SECURITY | ROLE_AUDITOR)
#define ROLES_INTEGRITY (ROLE_ADMIN | ROLE_SECURITY)

/* The bit of the role called name; 0 when there is no such role. */
unsigned role_bit(const char *name);
/* The roles, as usage and errors list them: "viewer, operator, admin, security or auditor". */
void roles_text(unsigned roles, char *out, size_t size);
/* NULL when name (NULL is none) is a role, else why not ("expected viewer, ... or auditor") in why. */
const char *role_check(const char *name, char *why, size_t size);

#endif
