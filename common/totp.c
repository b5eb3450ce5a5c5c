/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "common/totp.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int hotp(const uint8_t *key, size_t key_len, uint64_t counter, unsigned digits, uint32_t *ret)
{
	static const uint32_t mod[] = { 1000000, 10000000, 100000000 };
	uint8_t msg[8], mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0, off;
	uint32_t bin;

	if (digits < 6 || digits > 8)
		return -EINVAL;
	for (int i = 7; i >= 0; i--, counter >>= 8)
		msg[i] = (uint8_t)counter;
	if (!HMAC(EVP_sha1(), key, (int)key_len, msg, sizeof(msg), mac, &mac_len) || mac_len != 20)
		return -EIO;
	/* RFC 4226 5.3, dynamic truncation */
	off = mac[19] & 0x0f;
	bin = (uint32_t)(mac[off] & 0x7f) << 24 | (uint32_t)mac[off + 1] << 16 | (uint32_t)mac[off + 2] << 8 |
	      mac[off + 3];
	*ret = bin % mod[digits - 6];
	return 0;
}

bool totp_check(const uint8_t *key, size_t key_len, const char *code, uint64_t now_s, uint64_t *last_step)
{
	uint64_t step = now_s / TOTP_STEP_S;
	uint32_t want = 0, got;

	if (strlen(code) != TOTP_DIGITS || strspn(code, "0123456789") != TOTP_DIGITS)
		return false;
	for (size_t i = 0; i < TOTP_DIGITS; i++)
		want = want * 10 + (uint32_t)(code[i] - '0');
	for (uint64_t s = step + 1; s + 2 > step && s > 0; s--) {
		if (s <= *last_step || hotp(key, key_len, s, TOTP_DIGITS, &got) < 0 || got != want)
			continue;
		*last_step = s;
		return true;
	}
	return false;
}

int base32_encode(const uint8_t *key, size_t len, char *out, size_t size)
{
	size_t n = 0, bits = 0;
	uint32_t acc = 0;

	if (size < (len * 8 + 4) / 5 + 1)
		return -ENOBUFS;
	for (size_t i = 0; i < len; i++) {
		acc = acc << 8 | key[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[n++] = alphabet[(acc >> bits) & 31];
		}
	}
	if (bits)
		out[n++] = alphabet[(acc << (5 - bits)) & 31];
	out[n] = 0;
	return 0;
}

int base32_decode(const char *text, uint8_t *out, size_t size)
{
	size_t n = 0, bits = 0;
	uint32_t acc = 0;

	for (const char *p = text; *p; p++) {
		char c = *p >= 'a' && *p <= 'z' ? (char)(*p - 32) : *p;
		const char *at;

		if (c == ' ' || c == '=')
			continue;
		at = c ? strchr(alphabet, c) : NULL;
		if (!at)
			return -EINVAL;
		acc = acc << 5 | (uint32_t)(at - alphabet);
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (n == size)
				return -ENOBUFS;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return (int)n;
}
