/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/macro.h"
#include "common/util.h"
#include "store/sealkey.h"

static const uint8_t sm2_id[] = "1234567812345678";
#define SM2_ID_LEN 16

struct sealkey {
	enum sealkey_kind kind;
	uint8_t *secret; /* HMAC */
	size_t secret_len;
	EVP_PKEY *pkey; /* SM2 */
	char id[17];
};

void sealkey_free(struct sealkey *k)
{
	if (!k)
		return;
	if (k->secret)
		OPENSSL_clear_free(k->secret, k->secret_len);
	EVP_PKEY_free(k->pkey);
	free(k);
}

/* The whole file, checked for who may read it; *ret owned by the caller (cleared before it is freed). */
static int read_key_file(const char *path, bool secret, uint8_t **ret, size_t *ret_len, char *err, size_t err_size)
{
	struct stat st;
	uint8_t *buf = NULL;
	ssize_t n = 0;
	int r = 0, fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		r = -errno;
		(void)snprintf(err, err_size, "cannot open %s: %s", path, strerror(errno));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > SEALKEY_FILE_MAX) {
		(void)snprintf(err, err_size, "%s is not a regular file of at most %d bytes", path, SEALKEY_FILE_MAX);
		r = -EINVAL;
	} else if (secret && (st.st_mode & 0007)) {
		(void)snprintf(err, err_size, "%s can be read by others (mode %04o): chmod o-rwx it", path,
			       (unsigned)(st.st_mode & 07777));
		r = -EACCES;
	} else if (!(buf = calloc(1, (size_t)st.st_size + 1))) {
		r = -ENOMEM;
	} else if ((n = read(fd, buf, (size_t)st.st_size)) != st.st_size) {
		(void)snprintf(err, err_size, "cannot read %s", path);
		r = -EIO;
	}
	close(fd);
	if (r < 0) {
		if (buf)
			OPENSSL_clear_free(buf, (size_t)st.st_size + 1);
		return r;
	}
	*ret = buf;
	*ret_len = (size_t)n;
	return 0;
}

/* An SM2 key from PEM; 1.1.1 reads it as an EC key on the SM2 curve and must be told. */
static EVP_PKEY *sm2_from_pem(const uint8_t *pem, size_t len, bool private)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *pkey = NULL;

	if (bio)
		pkey = private ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	if (pkey && !EVP_PKEY_is_a(pkey, "SM2")) {
#else
	if (pkey && (EVP_PKEY_id(pkey) != EVP_PKEY_EC ||
		     EC_GROUP_get_curve_name(EC_KEY_get0_group(EVP_PKEY_get0_EC_KEY(pkey))) != NID_sm2 ||
		     EVP_PKEY_set_alias_type(pkey, EVP_PKEY_SM2) != 1)) {
#endif
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	return pkey;
}

static int make_id(struct sealkey *k)
{
	uint8_t digest[HASH_SIZE], *der = NULL;
	int n, r;

	if (k->kind == SEALKEY_HMAC) {
		r = hash_hmac(HASH_SM3, k->secret, k->secret_len, "vigil-seal-key-id", 17, digest);
	} else {
		n = i2d_PUBKEY(k->pkey, &der);
		r = n > 0 ? hash_digest(HASH_SM3, der, (size_t)n, digest) : -ENOMEM;
		OPENSSL_free(der);
	}
	if (r == 0)
		hex_encode(digest, 8, k->id);
	return r;
}

int sealkey_load(enum sealkey_kind kind, const char *path, struct sealkey **ret, char *err, size_t err_size)
{
	struct sealkey *k = calloc(1, sizeof(*k));
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	if (!k)
		return -ENOMEM;
	k->kind = kind;
	r = read_key_file(path, kind != SEALKEY_SM2_PUBLIC, &data, &len, err, err_size);
	if (r == 0 && kind == SEALKEY_HMAC) {
		k->secret = data;
		k->secret_len = len;
		data = NULL;
		if (len < SEALKEY_HMAC_MIN) {
			(void)snprintf(err, err_size, "%s holds %zu bytes; an HMAC-SM3 key has %d at least "
				       "(head -c 32 /dev/urandom makes one)", path, len, SEALKEY_HMAC_MIN);
			r = -EINVAL;
		}
	} else if (r == 0) {
		k->pkey = sm2_from_pem(data, len, kind == SEALKEY_SM2_PRIVATE);
		if (!k->pkey) {
			(void)snprintf(err, err_size, "%s is not an SM2 %s key in PEM (openssl genpkey -algorithm SM2 "
				       "makes one)", path, kind == SEALKEY_SM2_PRIVATE ? "private" : "public");
			r = -EINVAL;
		}
	}
	if (data)
		OPENSSL_clear_free(data, len + 1);
	if (r == 0)
		r = make_id(k);
	if (r < 0) {
		sealkey_free(k);
		return r;
	}
	*ret = k;
	return 0;
}

const char *sealkey_method(const struct sealkey *k)
{
	return k->kind == SEALKEY_HMAC ? "hmac-sm3" : "sm2";
}

bool sealkey_can_sign(const struct sealkey *k)
{
	return k->kind != SEALKEY_SM2_PUBLIC;
}

const char *sealkey_id(const struct sealkey *k)
{
	return k->id;
}

/* A digest context for SM2 with SM3 and the standard identifier, for signing or verifying; NULL on failure. */
static EVP_MD_CTX *sm2_begin(const struct sealkey *k, bool sign, EVP_PKEY_CTX **ret_pctx)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new(k->pkey, NULL);
	int ok = md && pctx && EVP_PKEY_CTX_set1_id(pctx, sm2_id, SM2_ID_LEN) > 0;

	if (ok) {
		EVP_MD_CTX_set_pkey_ctx(md, pctx);
		ok = sign ? EVP_DigestSignInit(md, NULL, EVP_sm3(), NULL, k->pkey) == 1 :
			    EVP_DigestVerifyInit(md, NULL, EVP_sm3(), NULL, k->pkey) == 1;
	}
	if (!ok) {
		EVP_MD_CTX_free(md);
		EVP_PKEY_CTX_free(pctx);
		return NULL;
	}
	*ret_pctx = pctx;
	return md;
}

int sealkey_sign(const struct sealkey *k, const void *msg, size_t len, uint8_t *sig, size_t *ret_len)
{
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD_CTX *md;
	size_t n = SEALKEY_SIG_MAX;
	int ok;

	if (k->kind == SEALKEY_HMAC) {
		*ret_len = HASH_SIZE;
		return hash_hmac(HASH_SM3, k->secret, k->secret_len, msg, len, sig);
	}
	if (k->kind != SEALKEY_SM2_PRIVATE)
		return -EPERM;
	md = sm2_begin(k, true, &pctx);
	ok = md && EVP_DigestSign(md, sig, &n, msg, len) == 1;
	/* The pkey context is ours, not the digest context's. */
	EVP_MD_CTX_free(md);
	EVP_PKEY_CTX_free(pctx);
	if (!ok)
		return -ENOMEM;
	*ret_len = n;
	return 0;
}

int sealkey_check(const struct sealkey *k, const void *msg, size_t len, const uint8_t *sig, size_t sig_len)
{
	uint8_t want[HASH_SIZE];
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD_CTX *md;
	int r;

	if (k->kind == SEALKEY_HMAC) {
		r = hash_hmac(HASH_SM3, k->secret, k->secret_len, msg, len, want);
		if (r == 0 && (sig_len != HASH_SIZE || CRYPTO_memcmp(want, sig, HASH_SIZE) != 0))
			r = -EBADMSG;
		return r;
	}
	md = sm2_begin(k, false, &pctx);
	r = !md ? -ENOMEM : EVP_DigestVerify(md, sig, sig_len, msg, len) == 1 ? 0 : -EBADMSG;
	EVP_MD_CTX_free(md);
	EVP_PKEY_CTX_free(pctx);
	return r;
}
