/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_FORWARD_CONN_H
#define VIGIL_FORWARD_CONN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A forwarder's connection to its receiver (a SIEM, a syslog relay): a
 * transport per URL scheme, tcp://, tls:// (OpenSSL; the receiver's
 * certificate checked against tls_ca, or the system's CAs, and its name),
 * udp://. Blocking, every wait bounded by the timeout given at open.
 */
struct forward_target {
	const char *url; /* SCHEME://HOST:PORT, HOST a name, an IPv4 address or [an IPv6 one] */
	const char *tls_ca, *tls_cert, *tls_key, *tls_server_name;
};

/* 0 when url names a transport and an address; else -EINVAL and why. */
int forward_url_check(const char *url, char *why, size_t size);
/* Whether url's transport sends datagrams (no stream: a message a datagram, no framing, no delivery). */
bool forward_url_is_datagram(const char *url);

struct forward_conn;

/* Connects (and shakes hands); *ret is the caller's: forward_conn_close(). On error, err says why. */
int forward_conn_open(const struct forward_target *t, unsigned timeout_ms, struct forward_conn **ret, char *err,
		      size_t size);
/*
 * Sends len bytes of messages. A stream takes them as they are; a datagram
 * transport takes octet-counted messages (format.h) and sends each alone,
 * adding to *dropped those the network refused. On error, err says why.
 */
int forward_conn_send(struct forward_conn *c, const uint8_t *p, size_t len, uint64_t *dropped, char *err,
		      size_t size);
/*
 * Waits until the receiver's TCP has acknowledged every byte sent and the
 * receiver has not closed the connection since: then what was sent reached
 * the receiving host. -ETIMEDOUT, or -ECONNRESET when the receiver closed.
 * At once for datagrams; -ECANCELED as soon as *cancel is set.
 */
int forward_conn_settle(struct forward_conn *c, unsigned timeout_ms, const atomic_bool *cancel);
void forward_conn_close(struct forward_conn *c);

#endif
