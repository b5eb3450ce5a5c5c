/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_ENROLL_H
#define VIGIL_ENROLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "enroll/ca.h"
#include "enroll/certs.h"
#include "enroll/tokens.h"
#include "enroll/x509.h"

/*
 * Enrollment (docs/operations.md): hosts get their agents' certificates
 * with a token instead of a CA run by hand. Over the CA (ca.h), the tokens
 * (tokens.h) and the issued certificates (certs.h), on a meta.db
 * connection of its own; thread-safe (the API's thread pool, the ingest's
 * threads asking enrollment_revoked()).
 */
struct enrollment;

/* conf is borrowed and must outlive *ret. */
int enrollment_open(const struct enroll_conf *conf, const char *data_dir, struct enrollment **ret);
void enrollment_free(struct enrollment *e);

const struct enroll_conf *enrollment_conf(const struct enrollment *e);
/* The CA's certificate (PEM) and fingerprint, borrowed for e's life. */
const char *enrollment_ca_cert(const struct enrollment *e);
const char *enrollment_ca_fingerprint(const struct enrollment *e);

/* A certificate issued: cert is the caller's to free. */
struct enroll_grant {
	char *cert;
	struct x509_cert_info info;
	char labels[1024]; /* the token's */
};

/*
 * A host enrolls with token (the text of enroll_token_format()) and a
 * request for its name. why (size bytes) says what went wrong:
 * -EACCES (the token refused: unknown, expired, used up, revoked),
 * -EINVAL (not a request, or a name no certificate can have), -EEXIST
 * (a certificate with another key is in force for the name).
 */
int enrollment_enroll(struct enrollment *e, const char *token, const char *csr, uint64_t now_us,
		      struct enroll_grant *ret, char *why, size_t size);
/*
 * An agent renews cert with a request for the same name and key (its
 * signature proves the key): -EKEYEXPIRED, -EKEYREVOKED, -EACCES (not one
 * of this CA's), -EINVAL (the request does not match the certificate).
 */
int enrollment_renew(struct enrollment *e, const char *cert, const char *csr, uint64_t now_us,
		     struct enroll_grant *ret, char *why, size_t size);

/* A new token: its id into t->id, its text (shown once) into text. */
int enrollment_token_create(struct enrollment *e, struct enroll_token *t, char text[ENROLL_TOKEN_TEXT_MAX + 1]);
int enrollment_token_revoke(struct enrollment *e, const char *id, uint64_t now_us);
int enrollment_tokens_each(struct enrollment *e, int (*fn)(const struct enroll_token *t, void *ctx), void *ctx);

/* Revokes a serial or a name's certificates (enroll_certs_revoke()); fn(serial, ctx) for each. */
int enrollment_certs_revoke(struct enrollment *e, const char *what, const char *by, uint64_t now_us,
			    void (*fn)(const char *serial, void *ctx), void *ctx);
int enrollment_certs_each(struct enrollment *e, int (*fn)(const struct agent_cert *c, void *ctx), void *ctx);

/* Whether the certificate of serial (hex, as x509_cert_info gives it) was revoked; NULL e: none is. */
bool enrollment_revoked(struct enrollment *e, const char *serial);

#endif
