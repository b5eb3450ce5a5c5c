/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_TLS_H
#define VIGIL_TLS_H

#include <nng/nng.h>
#include <openssl/x509.h>
#include <stddef.h>

/*
 * nng's tls+tcp:// on OpenSSL instead of the mbed TLS that Debian's nng
 * 1.5 is built with: TLS 1.2 and 1.3, AEAD ciphers only, IP addresses
 * checked against a certificate's IP names, CRLs in a tls_ca file honoured,
 * and the peer certificate's name reachable per pipe, which nng 1.5 does
 * not offer (docs/decisions.md).
 *
 * tls_engine_init() registers the engine for the whole process; call it
 * before the first TLS endpoint is made (transport_dial() and
 * transport_listen() do). Idempotent and thread-safe.
 */
int tls_engine_init(void);

/* TLS 1.2 suites: forward secret and AEAD only (TLS 1.3's are all AEAD). What every TLS endpoint of vigil offers. */
#define TLS_CIPHERS_TLS12 "ECDHE+AESGCM:ECDHE+CHACHA20"

/* The longest name tls_peer() gives. */
#define TLS_PEER_NAME_MAX 255

/* The verified certificate a peer presented. */
struct tls_peer {
	/* Its subject's CN, or its first DNS name when it has no CN, printable ASCII only; "" for neither. */
	char name[TLS_PEER_NAME_MAX + 1];
	char serial[2 * 20 + 1]; /* lower-case hex, as x509_cert_info() gives it */
};

/* c's serial in lower-case hex into out (size bytes); "" if it does not fit. What enrollment records, too. */
void tls_certificate_serial(X509 *c, char *out, size_t size);

/*
 * The certificate the peer of pipe p presented, into *ret. -ENOENT if p is
 * not a TLS pipe of this engine or its peer was not verified, -EPIPE if p
 * is gone.
 */
int tls_peer(nng_pipe p, struct tls_peer *ret);

#endif
