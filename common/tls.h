/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_TLS_H
#define VIGIL_TLS_H

#include <nng/nng.h>
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

/*
 * The name of the verified certificate the peer of pipe p presented: its
 * subject's CN, or its first DNS name when it has no CN, printable ASCII
 * only. Copied into buf (size bytes, NUL-terminated). -ENOENT if p is not
 * a TLS pipe of this engine or its peer was not verified, -ENAMETOOLONG if
 * the name does not fit, -EPIPE if p is gone.
 */
int tls_peer_name(nng_pipe p, char *buf, size_t size);

/* The longest name tls_peer_name() gives. */
#define TLS_PEER_NAME_MAX 255

#endif
