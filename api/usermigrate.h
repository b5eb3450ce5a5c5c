/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_USERMIGRATE_H
#define VIGIL_USERMIGRATE_H

#include <stdint.h>

/*
 * vigil-collector --migrate URL, for what the console and the API know of
 * their users: the users of data_dir/meta.db (their password hashes,
 * second factors, unused recovery codes, lockout state) and the API's
 * tokens (their SHA-256) copied into the database url names (userdb.h),
 * where a collector with backend=postgresql finds them. Sessions are not
 * copied: each user logs in again. A user or token of the same name there
 * already is left as it is ("there already"); each one is then read back
 * from the database and compared (verified: the same password hash and
 * role; the same token hash and role).
 */
struct usermigrate_report {
	uint64_t users, users_copied, users_present;
	uint64_t tokens, tokens_copied, tokens_present;
	uint64_t verified; /* users and tokens the database holds as meta.db does */
};

/* 0 when every user and token is verified; -EUCLEAN when some is not (one there already that differs); else -errno. */
int usermigrate_run(const char *data_dir, const char *url, const char *password_file, struct usermigrate_report *ret);

#endif
