/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_TRANSPORT_H
#define VIGIL_TRANSPORT_H

#include <nng/nng.h>
#include <stdbool.h>

#include "common/conf.h"

/* The nng endpoint keys shared by the agent's [collector] and the collector's [ingest]. */
struct transport_conf {
	char *address;
	char *tls_ca;
	char *tls_cert;
	char *tls_key;
	char *tls_server_name;
};

bool transport_is_tls(const struct transport_conf *t);
/* Whether a and b name the same peer the same way (address and TLS files). */
bool transport_conf_equal(const struct transport_conf *a, const struct transport_conf *b);
/* Adds file-level errors (bad scheme, TLS keys missing) to errs. */
void transport_conf_check(const struct transport_conf *t, const char *section, const char *file,
			  struct conf_errors *errs);
/* Maps an nng error to a negative errno. */
int nng_to_errno(int rv);

/*
 * Starts a dialer (agent) or listener (collector) on sock for t. With TLS,
 * both sides require a certificate signed by tls_ca. Dialing is non-blocking:
 * nng reconnects in the background. Errors are logged with the address.
 */
int transport_dial(nng_socket sock, const struct transport_conf *t);
int transport_listen(nng_socket sock, const struct transport_conf *t);

#endif
