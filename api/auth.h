/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_AUTH_H
#define VIGIL_AUTH_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hash.h"

/*
 * Who may use the API: `tokens` in meta.db, each a name, a role and the
 * SHA-256 of the token (the clear token is shown once, when it is made,
 * by accounts.h's accounts_token_create()). This file alone holds SQL that
 * names the table; each call runs on the caller's connection.
 */

/* Creates the table on a meta connection. */
int auth_schema(sqlite3 *meta);
/* The token whose SHA-256 is hash, called name, with role; -EEXIST if name is taken. */
int auth_token_insert(sqlite3 *meta, const char *name, const char *role, const uint8_t hash[SHA256_SIZE], uint64_t now);
/* Revokes the token called name at once; -ENOENT if there is none. */
int auth_token_delete(sqlite3 *meta, const char *name);
/* The token whose SHA-256 is hash: 0 with its name and role copied out, -EACCES if unknown. */
int auth_token_find(sqlite3 *meta, const uint8_t hash[SHA256_SIZE], char *ret_name, size_t name_size, char *ret_role,
		    size_t role_size);
/* fn(name, role, created, hash) for every token, by name; stops at fn's first non-zero answer. */
typedef int (*auth_token_fn)(const char *name, const char *role, uint64_t created, const uint8_t hash[SHA256_SIZE],
			     void *ctx);
int auth_tokens_each(sqlite3 *meta, auth_token_fn fn, void *ctx);

#endif
