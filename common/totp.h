/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_TOTP_H
#define VIGIL_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Time-based one-time passwords (RFC 6238) as authenticator apps make them:
 * HMAC-SHA-1 (OpenSSL's) over the 30-second step since the epoch, 6 digits,
 * and the base32 (RFC 4648) their secrets are written in. Pure: every call
 * is given the time.
 */
#define TOTP_STEP_S 30
#define TOTP_DIGITS 6
#define TOTP_SECRET_SIZE 20 /* 160 bits, RFC 4226's recommendation */

/* The HOTP value (RFC 4226) of key at counter, as a number of digits digits (6 to 8); -errno. */
int hotp(const uint8_t *key, size_t key_len, uint64_t counter, unsigned digits, uint32_t *ret);

/*
 * Whether code (TOTP_DIGITS digits) is key's at now_s, one step either side
 * allowed for clocks that drift. A code is good once: a step at or before
 * *last_step (the last one accepted, 0 for none) is refused, and the step
 * accepted is written there.
 */
bool totp_check(const uint8_t *key, size_t key_len, const char *code, uint64_t now_s, uint64_t *last_step);

/* key as unpadded base32 into out (NUL-terminated); -ENOBUFS when out is too small. */
int base32_encode(const uint8_t *key, size_t len, char *out, size_t size);
/* Base32 (either case, spaces and padding ignored) into out: the bytes written, or -EINVAL / -ENOBUFS. */
int base32_decode(const char *text, uint8_t *out, size_t size);

#endif
