/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_AUTH_H
#define VIGIL_AUTH_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Who may use the API: `tokens` in meta.db, each a name, a role and the
 * SHA-256 of the token (the clear token is shown once, when it is made).
 * This file alone holds SQL that names the table.
 */

/* Creates the table on a meta connection. */
int auth_schema(sqlite3 *meta);

/*
 * Makes a token called name with role into *ret_token (the caller frees
 * it); -EEXIST if name is taken. Opens DATA_DIR/meta.db itself: safe while
 * the collector runs, and before it ever did.
 */
int auth_token_create(const char *data_dir, const char *name, const char *role, char **ret_token);
/* Revokes the token called name at once; -ENOENT if there is none. */
int auth_token_delete(const char *data_dir, const char *name);

/* A bearer token: 0 with its name and role copied out, -EACCES if unknown. */
int auth_token_lookup(sqlite3 *meta, const char *token, char *ret_name, size_t name_size, char *ret_role,
		      size_t role_size);
/* fn(name, role, created) for every token, by name; stops at fn's first non-zero answer. */
int auth_tokens_each(sqlite3 *meta, int (*fn)(const char *name, const char *role, uint64_t created, void *ctx),
		     void *ctx);

#endif
