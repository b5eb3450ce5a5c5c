/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_TRANSPORT_H
#define VIGIL_TRANSPORT_H

#include <nng/nng.h>
#include <stdbool.h>

#include "common/conf.h"

/* The nng endpoint keys shared by the agent's [collector] and the collector's [ingest]. */
struct transport_conf {
	char *address; /* a URL; the agent's, several separated by spaces (transport_dial()) */
	char *tls_ca;
	char *tls_cert;
	char *tls_key;
	char *tls_server_name;
};

bool transport_is_tls(const struct transport_conf *t);
/* Whether a and b name the same peer the same way (address and TLS files). */
bool transport_conf_equal(const struct transport_conf *a, const struct transport_conf *b);
/* The most addresses an agent dials. */
#define TRANSPORT_ADDRESSES_MAX 16
/* Adds file-level errors (bad scheme, TLS keys missing; several addresses unless many) to errs. */
void transport_conf_check(const struct transport_conf *t, const char *section, bool many, const char *file,
			  struct conf_errors *errs);
/* Maps an nng error to a negative errno. */
int nng_to_errno(int rv);

/*
 * Starts a dialer (agent) or listener (collector) on sock for t. With TLS,
 * both sides require a certificate signed by tls_ca. Dialing is non-blocking:
 * nng reconnects in the background. An agent's list of addresses is a
 * dialer each, checked each against its own host name (unless
 * tls_server_name): REQ spreads requests over the collectors connected and
 * sends a request again on another when its connection goes. Errors are
 * logged with the address.
 */
int transport_dial(nng_socket sock, const struct transport_conf *t);
int transport_listen(nng_socket sock, const struct transport_conf *t);

#endif
