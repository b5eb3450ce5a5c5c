/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_SYSLOG_NET_H
#define VIGIL_SYSLOG_NET_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "syslog/framing.h"

/* The receiver's sockets and streams (syslog/receiver.c runs them). */

enum syslog_transport {
	SYSLOG_UDP,
	SYSLOG_TCP,
	SYSLOG_TLS,
};

extern const char *const syslog_transport_names[];

struct syslog_listener {
	int fd;
	enum syslog_transport transport;
	char url[128];
};

/* Binds url (udp://, tcp:// or tls://HOST:PORT); what is wrong in err. */
int syslog_listen(const char *url, struct syslog_listener *ret, char *err, size_t err_size);
/* Whether url names a transport and an address (no socket made). */
bool syslog_url_valid(const char *url);

/* The server side of tls://: TLS 1.2 and 1.3, and a client certificate when client_ca is given. NULL with err. */
SSL_CTX *syslog_tls_ctx(const char *cert, const char *key, const char *client_ca, char *err, size_t err_size);

/* The sender's address, without its port, into out. */
void syslog_peer_name(const struct sockaddr_storage *sa, char *out, size_t size);

/* A stream being read: its bytes until a whole message is there. */
struct syslog_stream {
	int fd;
	SSL *ssl;        /* tls:// */
	bool handshaken; /* tls://: the handshake is done */
	enum syslog_transport transport;
	char peer[64];
	uint64_t last_us; /* monotonic: when it last sent */
	struct syslog_framing framing;
	uint8_t *buf; /* max message + SYSLOG_FRAME_HEADER_MAX */
	size_t len, cap;
};

/* Reading a stream: 1 (more may come), 0 (closed, everything emitted), or a negative errno (drop it). */
int syslog_stream_read(struct syslog_stream *s, void (*emit)(const uint8_t *msg, size_t len, bool truncated, void *ctx),
		       void *ctx);
/* The events to poll the stream for: a TLS handshake may want to write. */
short syslog_stream_events(const struct syslog_stream *s);
void syslog_stream_close(struct syslog_stream *s);

#endif
