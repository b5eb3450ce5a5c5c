/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_SHA256_H
#define VIGIL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "macro.h"

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

#endif
