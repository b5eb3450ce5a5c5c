/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <argon2.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api/password.h"
#include "common/util.h"

/* OWASP's argon2id setting (19 MiB, 2 passes, 1 lane): ~30 ms a check here, little memory a login. */
#define T_COST 2
#define M_COST_KIB 19456
#define LANES 1
#define SALT_SIZE 16
#define HASH_SIZE 32

/* Characters (UTF-8 sequences) and classes present in pw. */
static void measure(const char *pw, size_t *chars, unsigned *classes)
{
	bool lower = false, upper = false, digit = false, other = false;

	*chars = 0;
	for (const unsigned char *p = (const unsigned char *)pw; *p; p++) {
		if ((*p & 0xc0) != 0x80)
			(*chars)++;
		lower |= *p >= 'a' && *p <= 'z';
		upper |= *p >= 'A' && *p <= 'Z';
		digit |= *p >= '0' && *p <= '9';
		other |= !(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9');
	}
	*classes = (unsigned)lower + upper + digit + other;
}

const char *password_weak(const char *pw, const struct password_policy *policy, char *why, size_t size)
{
	size_t chars;
	unsigned classes;

	if (strlen(pw) > PASSWORD_MAX) {
		(void)snprintf(why, size, "a password is at most %d bytes", PASSWORD_MAX);
		return why;
	}
	measure(pw, &chars, &classes);
	if (chars >= policy->min_length && classes >= policy->min_classes)
		return NULL;
	(void)snprintf(why, size,
		       "a password needs at least %llu characters of at least %llu of these: lower case, upper case,"
		       " digits, others",
		       (unsigned long long)policy->min_length, (unsigned long long)policy->min_classes);
	return why;
}

int password_hash(const char *pw, char out[PASSWORD_HASH_MAX])
{
	uint8_t salt[SALT_SIZE];
	int r = random_bytes(salt, sizeof(salt));

	if (r < 0)
		return r;
	if (strlen(pw) > PASSWORD_MAX ||
	    argon2_encodedlen(T_COST, M_COST_KIB, LANES, SALT_SIZE, HASH_SIZE, Argon2_id) > PASSWORD_HASH_MAX)
		return -EINVAL;
	r = argon2id_hash_encoded(T_COST, M_COST_KIB, LANES, pw, strlen(pw), salt, sizeof(salt), HASH_SIZE, out,
				  PASSWORD_HASH_MAX);
	return r == ARGON2_OK ? 0 : r == ARGON2_MEMORY_ALLOCATION_ERROR ? -ENOMEM : -EIO;
}

int password_check(const char *encoded, const char *pw)
{
	int r;

	if (strncmp(encoded, "$argon2id$", 10) != 0)
		return -EINVAL;
	if (strlen(pw) > PASSWORD_MAX)
		return -EACCES;
	r = argon2id_verify(encoded, pw, strlen(pw));
	return r == ARGON2_OK ? 0 : r == ARGON2_VERIFY_MISMATCH ? -EACCES : r == ARGON2_MEMORY_ALLOCATION_ERROR ? -ENOMEM : -EINVAL;
}

void password_check_nobody(const char *pw)
{
	static const char nobody[] = "$argon2id$v=19$m=19456,t=2,p=1$bm9ib2R5bm9ib2R5bm9ibw$"
				     "B8jFae3979lrDH1Mu+4FFJdHQJxTtix/bUP13wRHtsQ";

	(void)password_check(nobody, pw);
}
