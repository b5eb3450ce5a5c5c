/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>

#include "common/sha256.h"

int sha256(const void *data, size_t len, uint8_t out[SHA256_SIZE])
{
	return EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL) == 1 ? 0 : -ENOMEM;
}

int sha256_v(uint8_t out[SHA256_SIZE], const void *data, size_t len, ...)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	va_list ap;
	int ok;

	ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	va_start(ap, len);
	while (ok && data) {
		ok = EVP_DigestUpdate(ctx, data, len) == 1;
		data = va_arg(ap, const void *);
		if (data)
			len = va_arg(ap, size_t);
	}
	va_end(ap);
	ok = ok && EVP_DigestFinal_ex(ctx, out, NULL) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -ENOMEM;
}

struct sha256_ctx {
	EVP_MD_CTX *md;
	bool failed;
};

struct sha256_ctx *sha256_begin(void)
{
	struct sha256_ctx *c = calloc(1, sizeof(*c));

	if (c)
		c->md = EVP_MD_CTX_new();
	if (!c || !c->md || EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1) {
		if (c)
			EVP_MD_CTX_free(c->md);
		free(c);
		return NULL;
	}
	return c;
}

void sha256_add(struct sha256_ctx *c, const void *data, size_t len)
{
	if (c && !c->failed && EVP_DigestUpdate(c->md, data, len) != 1)
		c->failed = true;
}

int sha256_end(struct sha256_ctx *c, uint8_t out[SHA256_SIZE])
{
	bool ok = c && !c->failed && EVP_DigestFinal_ex(c->md, out, NULL) == 1;

	if (c)
		EVP_MD_CTX_free(c->md);
	free(c);
	return ok ? 0 : -ENOMEM;
}
