/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/tls.h"
#include "common/util.h"
#include "enroll/x509.h"

struct x509_issuer {
	X509 *cert;
	EVP_PKEY *key;
	char *pem;
	char fingerprint[X509_FINGERPRINT_HEX + 1];
};

/* The PEM a write_fn puts into a memory BIO, as a new string; NULL on error. */
static char *bio_string(BIO *b)
{
	char *data, *s = NULL;
	long n = b ? BIO_get_mem_data(b, &data) : 0;

	if (n > 0 && (s = malloc((size_t)n + 1))) {
		memcpy(s, data, (size_t)n);
		s[n] = 0;
	}
	return s;
}

static BIO *bio_of(const char *pem)
{
	return pem ? BIO_new_mem_buf(pem, -1) : NULL;
}

static EVP_PKEY *read_key(const char *pem)
{
	BIO *b = bio_of(pem);
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return k;
}

static X509 *read_cert(const char *pem)
{
	BIO *b = bio_of(pem);
	X509 *c = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return c;
}

static X509_REQ *read_csr(const char *pem)
{
	BIO *b = bio_of(pem);
	X509_REQ *r = b ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return r;
}

void x509_free_secret(char *pem)
{
	if (pem)
		explicit_bzero(pem, strlen(pem));
	free(pem);
}

int x509_key_new(char **ret_key)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
	EVP_PKEY *k = NULL;
	BIO *b = NULL;
	int r = -ENOMEM;

	if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1) != 1 || EVP_PKEY_keygen(ctx, &k) != 1)
		goto out;
	b = BIO_new(BIO_s_mem());
	if (b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1 && (*ret_key = bio_string(b)))
		r = 0;
out:
	ERR_clear_error();
	if (b) {
		char *data;
		long n = BIO_get_mem_data(b, &data);

		if (n > 0)
			explicit_bzero(data, (size_t)n);
	}
	BIO_free(b);
	EVP_PKEY_free(k);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/* SHA-256 of a public key's SubjectPublicKeyInfo, hex. */
static int key_id(EVP_PKEY *k, char out[X509_FINGERPRINT_HEX + 1])
{
	unsigned char *der = NULL, md[32];
	unsigned int mdlen = 0;
	int n = k ? i2d_PUBKEY(k, &der) : -1;
	int ok = n > 0 && EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) == 1 && mdlen == sizeof(md);

	OPENSSL_free(der);
	if (!ok)
		return -EBADMSG;
	hex_encode(md, sizeof(md), out);
	return 0;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x21 || *s > 0x7e)
			return false;
	return true;
}

bool x509_name_valid(const char *name)
{
	unsigned char addr[16];
	size_t label = 0, n = strlen_or_0(name);

	if (n == 0 || n > X509_NAME_MAX)
		return false;
	if (inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1)
		return true;
	for (const char *c = name; *c; c++) {
		if (*c == '.') {
			if (label == 0 || c[-1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' ||
		      *c == '_'))
			return false;
		if (++label > 63 || (label == 1 && *c == '-'))
			return false;
	}
	return label > 0 && name[n - 1] != '-';
}

static void subject_cn(X509_NAME *subject, char out[X509_NAME_MAX + 1])
{
	int n = X509_NAME_get_text_by_NID(subject, NID_commonName, out, X509_NAME_MAX + 1);

	if (n <= 0 || (size_t)n != strlen(out) || !printable(out))
		out[0] = 0;
}

/* A subject of CN cn, or none when cn is too long for one (its subjectAltName names it then). */
static X509_NAME *name_of(const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	if (n && strlen(cn) <= X509_CN_MAX && X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) != 1) {
		X509_NAME_free(n);
		n = NULL;
	}
	return n;
}

int x509_csr_new(const char *key, const char *name, char **ret_csr)
{
	EVP_PKEY *k;
	X509_REQ *rq;
	X509_NAME *subject;
	BIO *b;
	int r;

	if (strlen(name) > X509_CN_MAX)
		return -EINVAL;
	k = read_key(key);
	rq = X509_REQ_new();
	subject = name_of(name);
	b = BIO_new(BIO_s_mem());
	r = k ? -ENOMEM : -EBADMSG;
	if (k && rq && subject && b && X509_REQ_set_version(rq, 0) == 1 && X509_REQ_set_subject_name(rq, subject) == 1 &&
	    X509_REQ_set_pubkey(rq, k) == 1 && X509_REQ_sign(rq, k, EVP_sha256()) > 0 &&
	    PEM_write_bio_X509_REQ(b, rq) == 1 && (*ret_csr = bio_string(b)))
		r = 0;
	ERR_clear_error();
	BIO_free(b);
	X509_NAME_free(subject);
	X509_REQ_free(rq);
	EVP_PKEY_free(k);
	return r;
}

int x509_csr_check(const char *csr, struct x509_csr_info *ret)
{
	X509_REQ *rq = read_csr(csr);
	EVP_PKEY *k = rq ? X509_REQ_get_pubkey(rq) : NULL;
	int r = -EBADMSG;

	memset(ret, 0, sizeof(*ret));
	if (k && X509_REQ_verify(rq, k) == 1 && key_id(k, ret->key_id) == 0) {
		subject_cn(X509_REQ_get_subject_name(rq), ret->name);
		r = 0;
	}
	ERR_clear_error();
	EVP_PKEY_free(k);
	X509_REQ_free(rq);
	return r;
}

static int time_us(const ASN1_TIME *t, uint64_t *ret)
{
	struct tm tm;
	time_t s;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return -EBADMSG;
	s = timegm(&tm);
	if (s < 0)
		return -EBADMSG;
	*ret = (uint64_t)s * USEC_PER_SEC;
	return 0;
}

static int fingerprint(X509 *c, char out[X509_FINGERPRINT_HEX + 1])
{
	unsigned char md[32];
	unsigned int n = 0;

	if (X509_digest(c, EVP_sha256(), md, &n) != 1 || n != sizeof(md))
		return -EBADMSG;
	hex_encode(md, sizeof(md), out);
	return 0;
}

static int info_of(X509 *c, struct x509_cert_info *ret)
{
	EVP_PKEY *k = X509_get_pubkey(c);
	int r;

	memset(ret, 0, sizeof(*ret));
	subject_cn(X509_get_subject_name(c), ret->name);
	r = key_id(k, ret->key_id);
	if (r == 0) {
		tls_certificate_serial(c, ret->serial, sizeof(ret->serial));
		r = ret->serial[0] ? 0 : -EBADMSG;
	}
	if (r == 0)
		r = fingerprint(c, ret->fingerprint);
	if (r == 0)
		r = time_us(X509_get0_notBefore(c), &ret->not_before_us);
	if (r == 0)
		r = time_us(X509_get0_notAfter(c), &ret->not_after_us);
	EVP_PKEY_free(k);
	return r;
}

int x509_cert_info(const char *cert, struct x509_cert_info *ret)
{
	X509 *c = read_cert(cert);
	int r = c ? info_of(c, ret) : -EBADMSG;

	ERR_clear_error();
	X509_free(c);
	return r;
}

/* The extension nid=value (OpenSSL's configuration syntax), in the context of issuer and subject. */
static int add_ext(X509 *c, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx(&ctx, issuer, c, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	ok = e && X509_add_ext(c, e, -1) == 1;
	X509_EXTENSION_free(e);
	return ok ? 0 : -EINVAL;
}

static int random_serial(X509 *c)
{
	unsigned char raw[16];
	BIGNUM *bn;
	int ok;

	if (random_bytes(raw, sizeof(raw)) < 0)
		return -EIO;
	raw[0] = (unsigned char)((raw[0] & 0x7f) | 0x40); /* positive, and 16 bytes long */
	bn = BN_bin2bn(raw, sizeof(raw), NULL);
	ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c)) != NULL;
	BN_free(bn);
	return ok ? 0 : -ENOMEM;
}

/* A certificate for subject's key, valid from now for lifetime_s, before its extensions and signature. */
static X509 *cert_new(EVP_PKEY *subject_key, const char *cn, X509_NAME *issuer, uint64_t now_us, uint64_t lifetime_s)
{
	X509 *c = X509_new();
	X509_NAME *subject = name_of(cn);
	/* Valid a little before now, for hosts whose clocks are behind: five minutes, or a tenth of a short life. */
	uint64_t grace = MIN(300u, lifetime_s / 10);
	time_t from = (time_t)(now_us / USEC_PER_SEC - grace);
	bool ok = c && subject && X509_set_version(c, 2) == 1 && random_serial(c) == 0 &&
		  X509_set_subject_name(c, subject) == 1 && X509_set_issuer_name(c, issuer ? issuer : subject) == 1 &&
		  X509_set_pubkey(c, subject_key) == 1 && X509_time_adj_ex(X509_getm_notBefore(c), 0, 0, &from) &&
		  X509_time_adj_ex(X509_getm_notAfter(c), (int)(lifetime_s / 86400), (long)(lifetime_s % 86400 + grace),
				   &from);

	X509_NAME_free(subject);
	if (!ok) {
		X509_free(c);
		return NULL;
	}
	return c;
}

static char *cert_pem(X509 *c)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = b && PEM_write_bio_X509(b, c) == 1 ? bio_string(b) : NULL;

	BIO_free(b);
	return s;
}

int x509_ca_new(const char *name, uint64_t now_us, uint64_t lifetime_s, char **ret_cert, char **ret_key)
{
	char *key = NULL;
	EVP_PKEY *k = NULL;
	X509 *c = NULL;
	int r = x509_key_new(&key);

	if (r < 0)
		return r;
	r = -ENOMEM;
	k = read_key(key);
	c = k ? cert_new(k, name, NULL, now_us, lifetime_s) : NULL;
	if (c && add_ext(c, c, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") == 0 &&
	    add_ext(c, c, NID_key_usage, "critical,keyCertSign,cRLSign") == 0 &&
	    add_ext(c, c, NID_subject_key_identifier, "hash") == 0 && X509_sign(c, k, EVP_sha256()) > 0 &&
	    (*ret_cert = cert_pem(c))) {
		*ret_key = TAKE_PTR(key);
		r = 0;
	}
	ERR_clear_error();
	X509_free(c);
	EVP_PKEY_free(k);
	x509_free_secret(key);
	return r;
}

int x509_issuer_load(const char *cert, const char *key, struct x509_issuer **ret)
{
	struct x509_issuer *is = calloc(1, sizeof(*is));
	int r = -ENOMEM;

	if (!is)
		return r;
	is->cert = read_cert(cert);
	is->key = read_key(key);
	is->pem = is->cert ? cert_pem(is->cert) : NULL;
	if (!is->cert || !is->key || X509_check_private_key(is->cert, is->key) != 1 || X509_check_ca(is->cert) == 0 ||
	    fingerprint(is->cert, is->fingerprint) < 0)
		r = -EBADMSG;
	else if (is->pem)
		r = 0;
	ERR_clear_error();
	if (r < 0)
		x509_issuer_free(TAKE_PTR(is));
	*ret = is;
	return r;
}

void x509_issuer_free(struct x509_issuer *is)
{
	if (!is)
		return;
	X509_free(is->cert);
	EVP_PKEY_free(is->key);
	free(is->pem);
	free(is);
}

const char *x509_issuer_cert(const struct x509_issuer *is)
{
	return is->pem;
}

const char *x509_issuer_fingerprint(const struct x509_issuer *is)
{
	return is->fingerprint;
}

/* "DNS:a,IP:1.2.3.4,…" for name and the words of alt, into out. */
static int alt_names(const char *name, const char *alt, char *out, size_t size)
{
	unsigned char addr[16];
	const char *p = alt;
	char word[X509_NAME_MAX + 2];
	size_t n = 0;

	for (const char *w = name; w; w = next_word(&p, word, sizeof(word)) ? word : NULL) {
		bool ip = inet_pton(AF_INET, w, addr) == 1 || inet_pton(AF_INET6, w, addr) == 1;
		int m;

		if (!x509_name_valid(w))
			return -EINVAL;
		m = snprintf(out + n, size - n, "%s%s:%s", n ? "," : "", ip ? "IP" : "DNS", w);
		if (m < 0 || (size_t)m >= size - n)
			return -E2BIG;
		n += (size_t)m;
	}
	return 0;
}

int x509_issue(struct x509_issuer *is, const struct x509_request *rq, char **ret_cert, struct x509_cert_info *info)
{
	X509_REQ *csr = read_csr(rq->csr);
	EVP_PKEY *k = csr ? X509_REQ_get_pubkey(csr) : NULL;
	char san[4096];
	X509 *c = NULL;
	int r = -EBADMSG;

	if (!k || X509_REQ_verify(csr, k) != 1)
		goto out;
	r = alt_names(rq->name, rq->alt, san, sizeof(san));
	if (r < 0)
		goto out;
	r = -ENOMEM;
	c = cert_new(k, rq->name, X509_get_subject_name(is->cert), rq->now_us, rq->lifetime_s);
	if (!c)
		goto out;
	r = add_ext(c, is->cert, NID_basic_constraints, "critical,CA:FALSE");
	if (r == 0)
		r = add_ext(c, is->cert, NID_key_usage, "critical,digitalSignature,keyEncipherment");
	if (r == 0)
		r = add_ext(c, is->cert, NID_ext_key_usage, rq->usage == X509_USAGE_SERVER ? "serverAuth" : "clientAuth");
	if (r == 0)
		r = add_ext(c, is->cert, NID_subject_alt_name, san);
	if (r == 0)
		r = add_ext(c, is->cert, NID_authority_key_identifier, "keyid");
	if (r == 0 && X509_sign(c, is->key, EVP_sha256()) <= 0)
		r = -EINVAL;
	if (r == 0)
		r = info_of(c, info);
	if (r == 0 && !(*ret_cert = cert_pem(c)))
		r = -ENOMEM;
out:
	ERR_clear_error();
	X509_free(c);
	EVP_PKEY_free(k);
	X509_REQ_free(csr);
	return r;
}

int x509_issuer_verify(const struct x509_issuer *is, const char *cert, uint64_t now_us)
{
	X509 *c = read_cert(cert);
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int r = -EBADMSG, err;

	if (!c || !store || !ctx || X509_STORE_add_cert(store, is->cert) != 1 ||
	    X509_STORE_CTX_init(ctx, store, c, NULL) != 1)
		goto out;
	X509_STORE_CTX_set_time(ctx, 0, (time_t)(now_us / USEC_PER_SEC));
	if (X509_verify_cert(ctx) == 1) {
		r = 0;
		goto out;
	}
	err = X509_STORE_CTX_get_error(ctx);
	if (err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID)
		r = -EKEYEXPIRED;
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(c);
	return r;
}
