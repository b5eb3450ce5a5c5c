/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"

static const struct {
	const char *name;
	const EVP_MD *(*md)(void);
} algs[] = {
	[HASH_SHA256] = { "sha256", EVP_sha256 },
	[HASH_SM3] = { "sm3", EVP_sm3 },
};

const char *hash_name(enum hash_alg alg)
{
	return algs[alg].name;
}

int hash_parse(const char *name, enum hash_alg *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(algs); i++)
		if (strcmp(name, algs[i].name) == 0) {
			*ret = (enum hash_alg)i;
			return 0;
		}
	return -EINVAL;
}

bool hash_available(enum hash_alg alg)
{
	uint8_t out[HASH_SIZE];

	return hash_digest(alg, "", 0, out) == 0;
}

int hash_digest(enum hash_alg alg, const void *data, size_t len, uint8_t out[HASH_SIZE])
{
	unsigned n = 0;

	return EVP_Digest(data, len, out, &n, algs[alg].md(), NULL) == 1 && n == HASH_SIZE ? 0 : -ENOMEM;
}

int hash_v(enum hash_alg alg, uint8_t out[HASH_SIZE], const void *data, size_t len, ...)
{
	struct hash_ctx *c = hash_begin(alg);
	va_list ap;

	va_start(ap, len);
	while (c && data) {
		hash_add(c, data, len);
		data = va_arg(ap, const void *);
		if (data)
			len = va_arg(ap, size_t);
	}
	va_end(ap);
	return hash_end(c, out);
}

int sha256(const void *data, size_t len, uint8_t out[SHA256_SIZE])
{
	return hash_digest(HASH_SHA256, data, len, out);
}

struct hash_ctx {
	EVP_MD_CTX *md;
	bool failed;
};

struct hash_ctx *hash_begin(enum hash_alg alg)
{
	struct hash_ctx *c = calloc(1, sizeof(*c));

	if (c)
		c->md = EVP_MD_CTX_new();
	if (!c || !c->md || EVP_DigestInit_ex(c->md, algs[alg].md(), NULL) != 1) {
		if (c)
			EVP_MD_CTX_free(c->md);
		free(c);
		return NULL;
	}
	return c;
}

void hash_add(struct hash_ctx *c, const void *data, size_t len)
{
	if (c && !c->failed && EVP_DigestUpdate(c->md, data, len) != 1)
		c->failed = true;
}

int hash_end(struct hash_ctx *c, uint8_t out[HASH_SIZE])
{
	unsigned n = 0;
	bool ok = c && !c->failed && EVP_DigestFinal_ex(c->md, out, &n) == 1 && n == HASH_SIZE;

	if (c)
		EVP_MD_CTX_free(c->md);
	free(c);
	return ok ? 0 : -ENOMEM;
}

int hash_hmac(enum hash_alg alg, const void *key, size_t key_len, const void *data, size_t len,
	      uint8_t out[HASH_SIZE])
{
	unsigned n = 0;

	if (key_len > INT32_MAX)
		return -EINVAL;
	return HMAC(algs[alg].md(), key, (int)key_len, data, len, out, &n) && n == HASH_SIZE ? 0 : -ENOMEM;
}
