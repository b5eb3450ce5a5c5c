/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_SHA256_H
#define VIGIL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"

#define SHA256_SIZE 32

/*
 * SHA-256 for token hashes, file fingerprints and the stored blocks' hash
 * chain, through OpenSSL's libcrypto (SHA-NI/AVX where the CPU has them;
 * libcurl already brings it in). Both return 0, or -ENOMEM when OpenSSL
 * cannot allocate its context.
 */
_must_check_ int sha256(const void *data, size_t len, uint8_t out[SHA256_SIZE]);
/* Over several (data, len) pieces as if concatenated; the list ends with NULL. */
_must_check_ int sha256_v(uint8_t out[SHA256_SIZE], const void *data, size_t len, ...);

/*
 * Incremental: sha256_begin() (NULL when out of memory), any number of
 * sha256_add(), then sha256_end(), which frees the context; a failure on the
 * way is reported there. sha256_end(NULL, ...) is -ENOMEM.
 */
struct sha256_ctx;
struct sha256_ctx *sha256_begin(void);
void sha256_add(struct sha256_ctx *c, const void *data, size_t len);
_must_check_ int sha256_end(struct sha256_ctx *c, uint8_t out[SHA256_SIZE]);

#endif
