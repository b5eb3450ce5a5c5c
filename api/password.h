/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_PASSWORD_H
#define VIGIL_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

/*
 * Users' passwords: argon2id (RFC 9106) from libargon2, in its encoded form
 * ($argon2id$v=19$m=...,t=...,p=...$salt$hash), with a random salt; and
 * the policy a new password must meet (等保 口令复杂度: a length and a
 * number of character classes).
 */
#define PASSWORD_HASH_MAX 160
#define PASSWORD_MAX 256 /* bytes; longer is refused before any hashing */

struct password_policy {
	uint64_t min_length;  /* characters */
	uint64_t min_classes; /* of lower case, upper case, digits, others */
};

/* NULL when pw meets policy, else why not (a sentence, into why). */
const char *password_weak(const char *pw, const struct password_policy *policy, char *why, size_t size);
/* pw's encoded argon2id hash into out. */
int password_hash(const char *pw, char out[PASSWORD_HASH_MAX]);
/* 0 when pw is the one encoded holds, -EACCES when not, -EINVAL when encoded is no hash of ours. */
int password_check(const char *encoded, const char *pw);
/* The work of a check against no one's hash: a wrong user name costs what a wrong password does. */
void password_check_nobody(const char *pw);

#endif
