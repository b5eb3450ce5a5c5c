/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_SESSIONS_H
#define VIGIL_SESSIONS_H

#include <sqlite3.h>
#include <stdint.h>

#include "api/users.h"

/*
 * Console sessions: `sessions` in meta.db, keyed by the SHA-256 of a random
 * 256-bit id (the id itself lives only in the browser's cookie), with the
 * user, the CSRF token that must come with every change, and the times
 * that end it. This file alone holds SQL that names the table.
 */
#define SESSION_ID_LEN 64 /* hex characters */

struct session {
	char user[USER_NAME_MAX + 1];
	char csrf[SESSION_ID_LEN + 1];
	uint64_t created, last_seen;
};

int sessions_schema(sqlite3 *db);
/* A new session id (hex, SESSION_ID_LEN: its hash is stored) of user, whose changes need csrf. */
int sessions_create(sqlite3 *db, const char *id, const char *user, const char *csrf, uint64_t now);
/* The session id as stored: 0 and *ret, or -EACCES when there is none (whether it ended is the caller's to say). */
int sessions_get(sqlite3 *db, const char *id, struct session *ret);
/* The session id seen at now. */
int sessions_touch(sqlite3 *db, const char *id, uint64_t now);
/* Ends the session id (logout). */
int sessions_delete(sqlite3 *db, const char *id);
/* Deletes the sessions ended by now. */
int sessions_prune(sqlite3 *db, uint64_t now, uint64_t idle_us, uint64_t lifetime_us);
/* Ends every session of user but except (NULL: none): disabled, password changed, role changed. */
int sessions_delete_user(sqlite3 *db, const char *user, const char *except);

#endif
