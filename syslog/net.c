/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/macro.h"
#include "common/metrics.h"
#include "common/tls.h"
#include "common/util.h"
#include "syslog/net.h"

const char *const syslog_transport_names[] = {
	[SYSLOG_UDP] = "udp",
	[SYSLOG_TCP] = "tcp",
	[SYSLOG_TLS] = "tls",
};

/* Room for bursts: a device sends a storm when a link flaps, and a full buffer drops datagrams. */
#define UDP_RCVBUF (8 * 1024 * 1024)
#define LISTEN_BACKLOG 128

static int parse(const char *url, enum syslog_transport *t, char *host, size_t hsize, char *port, size_t psize)
{
	char scheme[8];

	if (url_split(url, scheme, sizeof(scheme), host, hsize, port, psize) < 0)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(syslog_transport_names); i++)
		if (strcmp(scheme, syslog_transport_names[i]) == 0) {
			*t = (enum syslog_transport)i;
			return 0;
		}
	return -EINVAL;
}

bool syslog_url_valid(const char *url)
{
	enum syslog_transport t;
	char host[256], port[8];

	return parse(url, &t, host, sizeof(host), port, sizeof(port)) == 0;
}

/* A bound socket of ai, listening for streams; -errno. */
static int bind_one(const struct addrinfo *ai, bool stream)
{
	int one = 1, fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol), size;

	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (!stream) {
		size = UDP_RCVBUF;
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
		/* The kernel's count of what it dropped, with each datagram. */
		(void)setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	}
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || (stream && listen(fd, LISTEN_BACKLOG) < 0)) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int syslog_listen(const char *url, struct syslog_listener *ret, char *err, size_t err_size)
{
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *ai = NULL;
	char host[256], port[8];
	int r;

	if (parse(url, &ret->transport, host, sizeof(host), port, sizeof(port)) < 0) {
		(void)snprintf(err, err_size, "%s: expected udp://, tcp:// or tls://HOST:PORT", url);
		return -EINVAL;
	}
	hints.ai_socktype = ret->transport == SYSLOG_UDP ? SOCK_DGRAM : SOCK_STREAM;
	r = getaddrinfo(host, port, &hints, &ai);
	if (r != 0) {
		(void)snprintf(err, err_size, "%s: %s", url, gai_strerror(r));
		return -EADDRNOTAVAIL;
	}
	r = bind_one(ai, ret->transport != SYSLOG_UDP);
	freeaddrinfo(ai);
	if (r < 0) {
		(void)snprintf(err, err_size, "%s: %s", url, strerror(-r));
		return r;
	}
	ret->fd = r;
	(void)snprintf(ret->url, sizeof(ret->url), "%s", url);
	return 0;
}

static SSL_CTX *tls_fail(SSL_CTX *ctx, const char *what, char *err, size_t err_size)
{
	unsigned long e = ERR_get_error();

	(void)snprintf(err, err_size, "%s: %s", what, e ? ERR_reason_error_string(e) : "TLS setup failed");
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *syslog_tls_ctx(const char *cert, const char *key, const char *client_ca, char *err, size_t err_size)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS_TLS12) != 1)
		return tls_fail(ctx, "TLS setup", err, err_size);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		return tls_fail(ctx, cert, err, err_size);
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1)
		return tls_fail(ctx, key, err, err_size);
	if (client_ca) {
		if (SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1)
			return tls_fail(ctx, client_ca, err, err_size);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	return ctx;
}

void syslog_peer_name(const struct sockaddr_storage *sa, char *out, size_t size)
{
	const void *addr = sa->ss_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr :
						      (const void *)&((const struct sockaddr_in *)sa)->sin_addr;

	if (!inet_ntop(sa->ss_family, addr, out, (socklen_t)size))
		(void)snprintf(out, size, "unknown");
}

short syslog_stream_events(const struct syslog_stream *s)
{
	return s->ssl && !s->handshaken && SSL_want_write(s->ssl) ? POLLIN | POLLOUT : POLLIN;
}

/* One read into the stream's buffer: bytes read, 0 at the end, -EAGAIN for nothing now, or -errno. */
static ssize_t read_some(struct syslog_stream *s)
{
	size_t n = 0;
	int e;

	if (!s->ssl) {
		ssize_t k = read(s->fd, s->buf + s->len, s->cap - s->len);
		return k < 0 ? -errno : k;
	}
	ERR_clear_error();
	if (!s->handshaken) {
		if (SSL_accept(s->ssl) != 1) {
			e = SSL_get_error(s->ssl, 0);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				return -EAGAIN;
			metrics_add(&metrics.syslog_tls_failures, 1);
			return -EPROTO;
		}
		s->handshaken = true;
	}
	if (SSL_read_ex(s->ssl, s->buf + s->len, s->cap - s->len, &n) == 1)
		return (ssize_t)n;
	e = SSL_get_error(s->ssl, 0);
	return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? -EAGAIN : e == SSL_ERROR_ZERO_RETURN ? 0 : -EPIPE;
}

int syslog_stream_read(struct syslog_stream *s, void (*emit)(const uint8_t *msg, size_t len, bool truncated, void *ctx),
		       void *ctx)
{
	ssize_t k = read_some(s);
	size_t used;

	if (k == -EAGAIN || k == -EINTR)
		return 1;
	/* Ended, cleanly or not: what it sent before is still a message. */
	if (k < 0 && !s->len)
		return (int)k;
	if (k > 0)
		s->len += (size_t)k;
	used = syslog_frames(&s->framing, s->buf, s->len, k <= 0, emit, ctx);
	memmove(s->buf, s->buf + used, s->len - used);
	s->len -= used;
	return k > 0 ? 1 : k == 0 ? 0 : (int)k;
}

void syslog_stream_close(struct syslog_stream *s)
{
	if (s->ssl) {
		(void)SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
	}
	if (s->fd >= 0)
		close(s->fd);
	free(s->buf);
	*s = (struct syslog_stream){ .fd = -1 };
}
