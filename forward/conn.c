/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/macro.h"
#include "common/tls.h"
#include "common/util.h"
#include "forward/conn.h"
#include "forward/format.h"

struct forward_conn {
	const struct transport *tr;
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
};

/* A URL scheme's transport: how it connects past the socket, writes and closes. */
struct transport {
	const char *scheme;
	int socktype;
	int (*start)(struct forward_conn *c, const struct forward_target *t, const char *host, char *err, size_t size);
	int (*write)(struct forward_conn *c, const uint8_t *p, size_t len, uint64_t *dropped, char *err, size_t size);
};

/* A socket error as a negative errno, its text in err. */
static int sock_error(int e, const char *what, char *err, size_t size)
{
	(void)snprintf(err, size, "%s: %s", what, strerror(e));
	return -e;
}

static int stream_write(struct forward_conn *c, const uint8_t *p, size_t len, uint64_t *dropped, char *err,
			size_t size)
{
	(void)dropped;
	while (len) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sock_error(errno == EAGAIN ? ETIMEDOUT : errno, "send", err, size);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Nothing past the socket. */
static int no_start(struct forward_conn *c, const struct forward_target *t, const char *host, char *err,
		     size_t size)
{
	(void)c, (void)t, (void)host, (void)err, (void)size;
	return 0;
}

/* OpenSSL's last error as text into err; -EPROTO. */
static int tls_error(const char *what, char *err, size_t size)
{
	unsigned long e = ERR_get_error();
	char text[256] = "";

	if (e)
		ERR_error_string_n(e, text, sizeof(text));
	ERR_clear_error();
	(void)snprintf(err, size, "%s: %s", what, *text ? text : "failed");
	return -EPROTO;
}

/* TLS 1.2 or 1.3 to the receiver, its certificate checked against the CA and the name (or address) it must hold. */
static int tls_start(struct forward_conn *c, const struct forward_target *t, const char *host, char *err,
		     size_t size)
{
	const char *name = t->tls_server_name ? t->tls_server_name : host;
	long verify;

	c->ctx = SSL_CTX_new(TLS_client_method());
	if (!c->ctx || SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(c->ctx, TLS_CIPHERS_TLS12) != 1)
		return tls_error("TLS setup", err, size);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	if (t->tls_ca ? SSL_CTX_load_verify_locations(c->ctx, t->tls_ca, NULL) != 1
		      : SSL_CTX_set_default_verify_paths(c->ctx) != 1)
		return tls_error(t->tls_ca ? t->tls_ca : "the system's CAs", err, size);
	if (t->tls_cert && (SSL_CTX_use_certificate_chain_file(c->ctx, t->tls_cert) != 1 ||
			    SSL_CTX_use_PrivateKey_file(c->ctx, t->tls_key, SSL_FILETYPE_PEM) != 1 ||
			    SSL_CTX_check_private_key(c->ctx) != 1))
		return tls_error(t->tls_cert, err, size);
	if (!(c->ssl = SSL_new(c->ctx)) || SSL_set_fd(c->ssl, c->fd) != 1)
		return tls_error("TLS setup", err, size);
	if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), name) != 1 &&
	    (SSL_set_tlsext_host_name(c->ssl, name) != 1 || SSL_set1_host(c->ssl, name) != 1))
		return tls_error("TLS server name", err, size);
	ERR_clear_error();
	if (SSL_connect(c->ssl) == 1)
		return 0;
	verify = SSL_get_verify_result(c->ssl);
	if (verify != X509_V_OK) {
		ERR_clear_error();
		(void)snprintf(err, size, "TLS handshake: the receiver's certificate: %s",
			       X509_verify_cert_error_string(verify));
		return -EPROTO;
	}
	return tls_error("TLS handshake", err, size);
}

static int tls_write(struct forward_conn *c, const uint8_t *p, size_t len, uint64_t *dropped, char *err, size_t size)
{
	(void)dropped;
	while (len) {
		size_t n;
		ERR_clear_error();
		if (SSL_write_ex(c->ssl, p, len, &n) != 1)
			return SSL_get_error(c->ssl, 0) == SSL_ERROR_SYSCALL && errno
				       ? sock_error(errno == EAGAIN ? ETIMEDOUT : errno, "TLS send", err, size)
				       : tls_error("TLS send", err, size);
		p += n;
		len -= n;
	}
	return 0;
}

/* Each octet-counted message a datagram; what the network refuses is counted, not retried (UDP promises nothing). */
static int udp_write(struct forward_conn *c, const uint8_t *p, size_t len, uint64_t *dropped, char *err, size_t size)
{
	const uint8_t *msg;
	size_t msg_len;
	int n;

	while ((n = forward_next_frame(p, len, &msg, &msg_len)) > 0) {
		if (send(c->fd, msg, msg_len, MSG_NOSIGNAL) < 0)
			++*dropped;
		p += n;
		len -= (size_t)n;
	}
	if (n < 0)
		(void)snprintf(err, size, "internal: a datagram page not octet-counted");
	return n;
}

static const struct transport transports[] = {
	{ "tcp", SOCK_STREAM, no_start, stream_write },
	{ "tls", SOCK_STREAM, tls_start, tls_write },
	{ "udp", SOCK_DGRAM, no_start, udp_write },
};

/* url's transport, host (without brackets) and port into the buffers; NULL when it names none. */
static const struct transport *parse_url(const char *url, char *host, size_t hsize, char *port, size_t psize)
{
	const char *sep = url ? strstr(url, "://") : NULL, *h, *colon;
	const struct transport *tr = NULL;
	size_t hlen;

	for (size_t i = 0; sep && i < ARRAY_SIZE(transports); i++)
		if ((size_t)(sep - url) == strlen(transports[i].scheme) &&
		    memcmp(url, transports[i].scheme, (size_t)(sep - url)) == 0)
			tr = &transports[i];
	if (!tr)
		return NULL;
	h = sep + 3;
	if (*h == '[') {
		const char *end = strchr(h, ']');
		if (!end || end[1] != ':')
			return NULL;
		colon = end + 1;
		h++;
		hlen = (size_t)(end - h);
	} else {
		colon = strrchr(h, ':');
		if (!colon)
			return NULL;
		hlen = (size_t)(colon - h);
	}
	if (!hlen || hlen >= hsize || !colon[1] || strlen(colon + 1) >= psize || strspn(colon + 1, "0123456789") !=
										     strlen(colon + 1) ||
	    atoi(colon + 1) < 1 || atoi(colon + 1) > 65535 || memchr(h, '/', hlen))
		return NULL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	strcpy(port, colon + 1);
	return tr;
}

int forward_url_check(const char *url, char *why, size_t size)
{
	char host[256], port[8];

	if (parse_url(url, host, sizeof(host), port, sizeof(port)))
		return 0;
	(void)snprintf(why, size, "expected tcp://HOST:PORT, tls://HOST:PORT or udp://HOST:PORT");
	return -EINVAL;
}

bool forward_url_is_datagram(const char *url)
{
	char host[256], port[8];
	const struct transport *tr = parse_url(url, host, sizeof(host), port, sizeof(port));

	return tr && tr->socktype == SOCK_DGRAM;
}

/* A connected socket of ai's, its sends and receives bounded by timeout_ms; -errno. */
static int connect_one(const struct addrinfo *ai, unsigned timeout_ms)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	struct pollfd pfd;
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol), e = 0;
	socklen_t elen = sizeof(e);

	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
		e = errno;
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (!e && poll(&pfd, 1, (int)timeout_ms) != 1)
		e = ETIMEDOUT;
	if (!e && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
		e = errno;
	if (!e && (fcntl(fd, F_SETFL, 0) < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
		   setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0))
		e = errno;
	if (e) {
		close(fd);
		return -e;
	}
	return fd;
}

int forward_conn_open(const struct forward_target *t, unsigned timeout_ms, struct forward_conn **ret, char *err,
		      size_t size)
{
	char host[256], port[8];
	const struct transport *tr = parse_url(t->url, host, sizeof(host), port, sizeof(port));
	struct addrinfo hints = { .ai_family = AF_UNSPEC }, *ai = NULL;
	struct forward_conn *c;
	int r;

	if (!tr)
		return forward_url_check(t->url, err, size);
	hints.ai_socktype = tr->socktype;
	r = getaddrinfo(host, port, &hints, &ai);
	if (r != 0) {
		(void)snprintf(err, size, "%s: %s", host, gai_strerror(r));
		return -EHOSTUNREACH;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		freeaddrinfo(ai);
		return -ENOMEM;
	}
	c->tr = tr;
	c->fd = -ECONNREFUSED;
	for (const struct addrinfo *a = ai; a && c->fd < 0; a = a->ai_next)
		c->fd = connect_one(a, timeout_ms);
	freeaddrinfo(ai);
	r = c->fd < 0 ? sock_error(-c->fd, "connect", err, size) : tr->start(c, t, host, err, size);
	if (r < 0) {
		forward_conn_close(c);
		return r;
	}
	*ret = c;
	return 0;
}

int forward_conn_send(struct forward_conn *c, const uint8_t *p, size_t len, uint64_t *dropped, char *err,
		      size_t size)
{
	return c->tr->write(c, p, len, dropped, err, size);
}

int forward_conn_settle(struct forward_conn *c, unsigned timeout_ms, const atomic_bool *cancel)
{
	uint64_t until = now_monotonic_us() + (uint64_t)timeout_ms * 1000;
	int queued = 0;
	ssize_t n;
	char b;

	if (c->tr->socktype == SOCK_DGRAM)
		return 0;
	while (ioctl(c->fd, SIOCOUTQ, &queued) == 0 && queued > 0) {
		if (atomic_load(cancel))
			return -ECANCELED;
		if (now_monotonic_us() >= until)
			return -ETIMEDOUT;
		(void)nanosleep(&(struct timespec){ .tv_nsec = 5000000 }, NULL);
	}
	/* A receiver of syslog sends nothing but TLS's own records: an end or an error here is the receiver gone. */
	n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0)
		return -ECONNRESET;
	return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK ? -errno : 0;
}

void forward_conn_close(struct forward_conn *c)
{
	if (!c)
		return;
	if (c->ssl)
		SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}
