/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_FORWARD_CONN_H
#define VIGIL_FORWARD_CONN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * A forwarder's connection to its receiver (a SIEM, a syslog relay): a
 * transport per URL scheme, tcp://, tls:// (OpenSSL; the receiver's
 * certificate checked against tls_ca, or the system's CAs, and its name),
 * udp://, relp:// (RELP over TCP: every message answered by the receiver).
 * Blocking, every wait bounded by the timeout given at open.
 */
struct forward_target {
	const char *url; /* SCHEME://HOST:PORT, HOST a name, an IPv4 address or [an IPv6 one] */
	const char *tls_ca, *tls_cert, *tls_key, *tls_server_name;
};

/* 0 when url names a transport and an address; else -EINVAL and why. */
int forward_url_check(const char *url, char *why, size_t size);
/* Whether url's transport frames each message its own way (udp: a datagram; relp: a RELP frame). */
bool forward_url_frames(const char *url);

struct forward_conn;

/* Connects (and shakes hands); *ret is the caller's: forward_conn_close(). On error, err says why. */
int forward_conn_open(const struct forward_target *t, unsigned timeout_ms, struct forward_conn **ret, char *err,
		      size_t size);
/*
 * Sends len bytes of messages. A stream takes them as they are; one that
 * frames them (udp, relp) takes octet-counted messages (format.h) and sends
 * each its way, udp adding to *dropped those the network refused. On error,
 * err says why.
 */
int forward_conn_send(struct forward_conn *c, const uint8_t *p, size_t len, uint64_t *dropped, char *err,
		      size_t size);
/*
 * Waits until the receiver has what was sent: over TCP and TLS, until its
 * TCP has acknowledged every byte and it has not closed the connection
 * since (what was sent reached the receiving host); over RELP, until it
 * answered every message "200 OK" (the receiving program has it). At once
 * for datagrams. -ETIMEDOUT, -ECONNRESET (the receiver closed), -EPROTO
 * (it refused), with err saying why; -ECANCELED as soon as *cancel is set.
 */
int forward_conn_settle(struct forward_conn *c, unsigned timeout_ms, const atomic_bool *cancel, char *err,
			size_t size);

/* A RELP frame: TXNR SP COMMAND SP DATALEN [SP DATA] LF. */
struct relp_frame {
	uint32_t txnr;
	char command[16];
	const uint8_t *data; /* within what was parsed */
	size_t len;
};
/* The frame at the start of p (len bytes) into *ret: the bytes it takes, 0 when not all of it is there, -EBADMSG. */
int forward_relp_frame(const uint8_t *p, size_t len, struct relp_frame *ret);
void forward_conn_close(struct forward_conn *c);

#endif
