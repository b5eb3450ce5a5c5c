/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_HASH_H
#define VIGIL_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"

/* Both digests are 32 bytes: a store's rows have room for either. */
#define HASH_SIZE 32
#define SHA256_SIZE HASH_SIZE

/*
 * Digests through OpenSSL's libcrypto (SHA-NI/AVX where the CPU has them;
 * libcurl already brings it in): SHA-256 for token hashes and file
 * fingerprints, and for the stored blocks' and the audit log's hash chains
 * the algorithm the store started with, SHA-256 or SM3 (GB/T 32905-2016,
 * which 密评 expects; in OpenSSL's default provider since 1.1.1).
 */
enum hash_alg {
	HASH_SHA256,
	HASH_SM3,
};

/* "sha256" or "sm3". */
const char *hash_name(enum hash_alg alg);
/* -EINVAL for a name that is neither. */
_must_check_ int hash_parse(const char *name, enum hash_alg *ret);
/* Whether this libcrypto can compute alg (a build without SM3 cannot). */
bool hash_available(enum hash_alg alg);

/* These return 0, or -ENOMEM when OpenSSL cannot allocate its context. */
_must_check_ int hash_digest(enum hash_alg alg, const void *data, size_t len, uint8_t out[HASH_SIZE]);
/* Over several (data, len) pieces as if concatenated; the list ends with NULL. */
_must_check_ int hash_v(enum hash_alg alg, uint8_t out[HASH_SIZE], const void *data, size_t len, ...);

_must_check_ int sha256(const void *data, size_t len, uint8_t out[SHA256_SIZE]);

/*
 * Incremental: hash_begin() (NULL when out of memory), any number of
 * hash_add(), then hash_end(), which frees the context; a failure on the
 * way is reported there. hash_end(NULL, ...) is -ENOMEM.
 */
struct hash_ctx;
struct hash_ctx *hash_begin(enum hash_alg alg);
void hash_add(struct hash_ctx *c, const void *data, size_t len);
_must_check_ int hash_end(struct hash_ctx *c, uint8_t out[HASH_SIZE]);

/*
 * HMAC of data under key with alg's digest into out (HASH_SIZE bytes): 0,
 * or -ENOMEM.
 */
_must_check_ int hash_hmac(enum hash_alg alg, const void *key, size_t key_len, const void *data, size_t len,
			   uint8_t out[HASH_SIZE]);

#endif
