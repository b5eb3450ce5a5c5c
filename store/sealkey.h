/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_SEALKEY_H
#define VIGIL_SEALKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hash.h"

/*
 * The key that seals the store (docs/storage.md, Seals): an HMAC-SM3 secret
 * ([storage] seal_key_file=: whoever can check a seal can make one), or an
 * SM2 key pair (seal_sign_key= the private key, which makes seals;
 * seal_verify_key= the public key alone, which only checks them: what an
 * auditor is given). SM2 signs with SM3 and the distinguishing identifier
 * of GM/T 0009-2012, "1234567812345678", so `openssl dgst -sm3 -verify`
 * checks a seal too.
 */
#define SEALKEY_SIG_MAX 160 /* an SM2 signature, DER: 72 bytes at most; HMAC-SM3: 32 */
#define SEALKEY_FILE_MAX 65536
#define SEALKEY_HMAC_MIN 32 /* bytes of an HMAC key at least */

enum sealkey_kind {
	SEALKEY_HMAC,
	SEALKEY_SM2_PRIVATE,
	SEALKEY_SM2_PUBLIC,
};

struct sealkey;

/*
 * Loads the key file at path. The file must not be readable by others (a
 * secret, or a private key) but for a public key; what is wrong goes into
 * err (a sentence without the key's contents). Owned by the caller:
 * sealkey_free().
 */
int sealkey_load(enum sealkey_kind kind, const char *path, struct sealkey **ret, char *err, size_t err_size);
void sealkey_free(struct sealkey *k);

/* "hmac-sm3" or "sm2". */
const char *sealkey_method(const struct sealkey *k);
bool sealkey_can_sign(const struct sealkey *k);
/*
 * 16 hex digits that name the key and reveal nothing of it: of an HMAC key,
 * HMAC-SM3(key, "vigil-seal-key-id"); of an SM2 key, SM3 of its public key.
 */
const char *sealkey_id(const struct sealkey *k);

/* The seal of msg into sig (SEALKEY_SIG_MAX bytes), its length in *ret_len; 0 or -ENOMEM / -EPERM. */
int sealkey_sign(const struct sealkey *k, const void *msg, size_t len, uint8_t *sig, size_t *ret_len);
/* 0 if sig seals msg under k, -EBADMSG if not, -ENOMEM. */
int sealkey_check(const struct sealkey *k, const void *msg, size_t len, const uint8_t *sig, size_t sig_len);

#endif
