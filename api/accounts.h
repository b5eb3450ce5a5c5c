/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_ACCOUNTS_H
#define VIGIL_ACCOUNTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/auth.h"
#include "api/sessions.h"
#include "api/users.h"

/*
 * Named users' logins (docs/console.md): the password (argon2id, a
 * policy), a second factor (TOTP or a recovery code) for the roles that
 * need one, lockout after failed logins, sessions that end when idle and at
 * a lifetime, and the users' management. Over userdb.h (meta.db, or the
 * database the collectors share), on a connection of its own; thread-safe
 * (the API's thread pool).
 */
struct accounts;

/* [users] */
struct users_conf {
	uint64_t password_min_length;
	uint64_t password_min_classes;
	uint64_t lockout_failures; /* within lockout_ms, they lock the user for lockout_ms */
	uint64_t lockout_ms;
	uint64_t session_idle_ms;
	uint64_t session_lifetime_ms;
	char *totp_roles; /* space-separated: those roles must enrol a second factor */
};

struct storage_conf;
/*
 * conf is borrowed and must outlive *ret. The users and sessions are in
 * storage's data_dir/meta.db, or with backend=postgresql in the database
 * the collectors share (userdb.h); the tables are made if not there.
 */
int accounts_open(const struct storage_conf *storage, const struct users_conf *conf, struct accounts **ret);
void accounts_free(struct accounts *a);

struct login_request {
	const char *user, *password;
	const char *totp;     /* six digits, or NULL */
	const char *recovery; /* a recovery code instead, or NULL */
};

enum login_result {
	LOGIN_OK,
	LOGIN_WRONG,        /* no such user, wrong password or wrong code: counted */
	LOGIN_CODE_NEEDED,  /* the password is right; the user has a second factor */
	LOGIN_LOCKED,       /* too many failures: until locked_until */
	LOGIN_DISABLED,
};

/* Who a session is, and what it must do before anything else. */
struct session_who {
	char user[USER_NAME_MAX + 1];
	char role[32];
	char csrf[SESSION_ID_LEN + 1];
	bool must_change; /* its password, set by someone else */
	bool must_enrol;  /* a second factor, which its role needs */
};

/*
 * Checks a login at now; LOGIN_OK makes a session (its id into id) and
 * says who it is in *who. *locked_until is set for LOGIN_LOCKED. Negative
 * on an error of the store.
 */
int accounts_login(struct accounts *a, const struct login_request *rq, uint64_t now, char id[SESSION_ID_LEN + 1],
		   struct session_who *who, uint64_t *locked_until);
/*
 * The session id at now: 0 and *who, or -EACCES (unknown, ended, its user
 * gone or disabled); another negative errno when the store cannot say
 * (-EPIPE: the database could not be reached).
 */
int accounts_session(struct accounts *a, const char *id, uint64_t now, struct session_who *who);
int accounts_logout(struct accounts *a, const char *id);

/*
 * The users' management. why (size bytes) says what is wrong with an
 * argument: -EINVAL (a weak password, a name), -EEXIST, -ENOENT, -EACCES
 * (the old password is wrong). must_change: the password was set for
 * someone else, who changes it at the first login.
 */
int accounts_create(struct accounts *a, const char *name, const char *role, const char *password, bool must_change,
		    uint64_t now, char *why, size_t size);
int accounts_list(struct accounts *a, json_t *items);
/* 0 when password is the user's, -EACCES when not (or no such user). */
int accounts_check_password(struct accounts *a, const char *name, const char *password);
/* A new password set by an admin: the user's sessions end; must be changed at the next login. */
int accounts_reset_password(struct accounts *a, const char *name, const char *password, uint64_t now, char *why,
			    size_t size);
/* The user changes their own password; their other sessions end. */
int accounts_change_password(struct accounts *a, const char *name, const char *old, const char *password,
			     const char *keep_session, uint64_t now, char *why, size_t size);
/* Each ends the user's sessions. */
int accounts_set_role(struct accounts *a, const char *name, const char *role, uint64_t now);
int accounts_set_disabled(struct accounts *a, const char *name, bool disabled, uint64_t now);

/* TOTP enrolment: a new secret, shown once as base32 (secret) and an otpauth:// URI (uri). */
int accounts_totp_begin(struct accounts *a, const char *name, char *secret, size_t secret_size, char *uri,
			size_t uri_size);
/*
 * Confirms it with a code of the new secret at now: it becomes the user's,
 * with RECOVERY_CODES new recovery codes written into codes (each
 * RECOVERY_CODE_LEN characters), shown this once. -EACCES: wrong code.
 */
#define RECOVERY_CODE_LEN 16
int accounts_totp_confirm(struct accounts *a, const char *name, const char *code, uint64_t now,
			  char codes[RECOVERY_CODES][RECOVERY_CODE_LEN + 1]);

/*
 * The API's tokens (auth.h), kept where the users are: a new one called
 * name with role, "vgl_" and 64 hex digits, into *ret_token (the caller
 * frees it), shown this once (only its SHA-256 is kept); -EEXIST when the
 * name is taken.
 */
int accounts_token_create(struct accounts *a, const char *name, const char *role, uint64_t now, char **ret_token);
/* Revoked at once; -ENOENT if there is none. */
int accounts_token_delete(struct accounts *a, const char *name);
/* A bearer token: 0 with its name and role copied out, -EACCES if unknown, another negative errno when unsure. */
int accounts_token_lookup(struct accounts *a, const char *token, char *name, size_t name_size, char *role,
			  size_t role_size);
/* fn(name, role, created, hash) for every token, by name; stops at fn's first non-zero answer. */
int accounts_tokens_each(struct accounts *a, auth_token_fn fn, void *ctx);

#endif
