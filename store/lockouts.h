/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_LOCKOUTS_H
#define VIGIL_LOCKOUTS_H

#include <sqlite3.h>
#include <stdint.h>

/*
 * The console's lockouts, in meta.db: `lockouts`, a row each time a user
 * was locked by failed logins, kept 31 days. The login writes them; the
 * lockout rule type reads them (repeated lockouts are an attack on the
 * console, which the security administrator hears of). This file alone
 * holds SQL that names the table.
 */

/* How long a lockout is kept. */
#define LOCKOUTS_KEEP_US (31ull * 86400 * 1000000)

/* Creates the table on a meta connection. */
int lockouts_schema(sqlite3 *meta);
/* User was locked at now until until; rows older than 31 days go. */
int lockouts_add(sqlite3 *meta, const char *user, uint64_t now, uint64_t until);

/* One user's lockouts since some time: how many, and the last one's start and end. */
struct lockout_count {
	const char *user; /* borrowed for the call */
	uint64_t count, last, until;
};
/* fn(c, ctx) for each user locked since since_us, by name; stops at fn's non-zero answer (returned). */
int lockouts_each(sqlite3 *meta, uint64_t since_us, int (*fn)(const struct lockout_count *c, void *ctx), void *ctx);

#endif
