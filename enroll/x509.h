/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_X509_H
#define VIGIL_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The certificates of enrollment, on OpenSSL (1.1.1 and 3): keys, requests,
 * a CA's issuing, and what a certificate says. Everything in and out is
 * PEM text; nothing here touches a file or the clock (times are given).
 * Strings returned through char ** are the caller's to free (a key with
 * x509_free_secret(), which wipes it first).
 */

#define X509_NAME_MAX 253 /* the longest name a certificate of vigil's names (a DNS name's limit) */
#define X509_CN_MAX 64    /* the longest subject CN (X.520's ub-common-name): an agent's name at most */
#define X509_SERIAL_HEX 32 /* serials are 16 random bytes */
#define X509_FINGERPRINT_HEX 64

/* A new EC P-256 private key (PKCS#8 PEM). */
int x509_key_new(char **ret_key);
void x509_free_secret(char *pem);

/* A certificate request for name (the subject's CN: -EINVAL past X509_CN_MAX), signed by key. */
int x509_csr_new(const char *key, const char *name, char **ret_csr);

/* What a request asks for, once its signature is checked (-EBADMSG if it is not a valid request). */
struct x509_csr_info {
	char name[X509_NAME_MAX + 1];              /* the subject's CN, printable ASCII; "" if none */
	char key_id[X509_FINGERPRINT_HEX + 1];     /* SHA-256 of its public key (SubjectPublicKeyInfo DER), hex */
};
int x509_csr_check(const char *csr, struct x509_csr_info *ret);

/* What a certificate says (-EBADMSG if it is not one). Times in microseconds since the epoch. */
struct x509_cert_info {
	char name[X509_NAME_MAX + 1];
	char serial[2 * 20 + 1];                   /* lower-case hex, as tls_certificate_serial() gives it */
	char key_id[X509_FINGERPRINT_HEX + 1];
	char fingerprint[X509_FINGERPRINT_HEX + 1]; /* SHA-256 of the certificate's DER */
	uint64_t not_before_us, not_after_us;
};
int x509_cert_info(const char *cert, struct x509_cert_info *ret);

/* A CA that issues: its certificate and key, loaded once. */
struct x509_issuer;
/* A new self-signed CA certificate and its key, for name, valid from now_us for lifetime_s. */
int x509_ca_new(const char *name, uint64_t now_us, uint64_t lifetime_s, char **ret_cert, char **ret_key);
/* -EBADMSG: not a certificate and its key, or a certificate that may not sign certificates. */
int x509_issuer_load(const char *cert, const char *key, struct x509_issuer **ret);
void x509_issuer_free(struct x509_issuer *is);
/* The issuer's certificate (PEM, borrowed) and its fingerprint. */
const char *x509_issuer_cert(const struct x509_issuer *is);
const char *x509_issuer_fingerprint(const struct x509_issuer *is);

enum x509_usage {
	X509_USAGE_CLIENT, /* an agent: extendedKeyUsage clientAuth */
	X509_USAGE_SERVER, /* the collector: serverAuth, its names and addresses in subjectAltName */
};

struct x509_request {
	const char *csr;    /* whose public key the certificate certifies (checked: x509_csr_check()) */
	const char *name;   /* the subject's CN (none when longer than X509_CN_MAX), and its first subjectAltName */
	const char *alt;    /* more names and addresses, space-separated (server); NULL: none */
	enum x509_usage usage;
	uint64_t now_us;
	uint64_t lifetime_s;
};
/* Issues a certificate; its serial and the rest into *info. -EINVAL for a name that cannot be one. */
int x509_issue(struct x509_issuer *is, const struct x509_request *rq, char **ret_cert, struct x509_cert_info *info);
/*
 * Whether cert was issued by is and is valid at now_us: 0, -EKEYEXPIRED
 * (expired or not yet valid), -EBADMSG (not one of its certificates).
 */
int x509_issuer_verify(const struct x509_issuer *is, const char *cert, uint64_t now_us);

/* Whether name is what a certificate of vigil may be issued for: a host name (RFC 1123) or an address. */
bool x509_name_valid(const char *name);

#endif
