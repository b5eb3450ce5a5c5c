/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_ENROLL_CA_H
#define VIGIL_ENROLL_CA_H

#include <stdint.h>

#include "enroll/x509.h"

/* [enroll] */
struct enroll_conf {
	bool enabled;
	char *ca_cert, *ca_key; /* an organisation's CA; NULL: the collector's own, made at its first start */
	uint64_t lifetime_ms;   /* of an agent's certificate */
	char *names;            /* the collector's names and addresses, in its own server certificate */
	char *ingest_address;   /* what enrolled agents dial; NULL: [ingest] listen, on the host they reached the API by */
};

/*
 * The CA enrollment issues with, and the collector's own certificate from
 * it. Without ca_cert=, DATA_DIR/ca/ holds the collector's CA: ca.pem,
 * and ca.key readable by the collector's user only, made at its first
 * start. Every start issues DATA_DIR/ca/server.pem and server.key (a new
 * key) for names=, for [http] and [ingest] to serve with; agents trust the
 * CA, not that certificate, so a new one each start costs them nothing.
 */
struct enroll_ca;

/* Paths under DATA_DIR of what enroll_ca_open() writes. */
#define ENROLL_CA_DIR "ca"
#define ENROLL_CA_CERT "ca/ca.pem"
#define ENROLL_SERVER_CERT "ca/server.pem"
#define ENROLL_SERVER_KEY "ca/server.key"

/* conf is borrowed and must outlive *ret. Errors are logged with the file. */
int enroll_ca_open(const struct enroll_conf *conf, const char *data_dir, struct enroll_ca **ret);
void enroll_ca_free(struct enroll_ca *ca);
struct x509_issuer *enroll_ca_issuer(struct enroll_ca *ca);

#endif
