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
	/*
	 * RELP: the next transaction number, the first not yet acknowledged,
	 * what came back (in_used of it: the last frame given).
	 */
	uint32_t txnr, acked_to;
	struct buf in;
	size_t in_used;
};

/* A URL scheme's transport: how it connects past the socket, writes and closes. */
struct transport {
	const char *scheme;
	int socktype;
	bool frames; /* it takes octet-counted messages and sends each its own way (a datagram, a RELP frame) */
	int (*start)(struct forward_conn *c, const struct forward_target *t, const char *host, char *err, size_t size);
	int (*write)(struct forward_conn *c, const uint8_t *p, size_t len, uint64_t *dropped, char *err, size_t size);
	/* Until the receiver has what was written (forward_conn_settle()); NULL: at once (datagrams). */
	int (*settle)(struct forward_conn *c, uint64_t until_us, const atomic_bool *cancel, char *err, size_t size);
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

/* The receiver's TCP has acknowledged every byte (the socket's send queue is empty) and it is still there. */
static int stream_settle(struct forward_conn *c, uint64_t until_us, const atomic_bool *cancel, char *err, size_t size)
{
	int queued = 0;
	ssize_t n;
	char b;

	while (ioctl(c->fd, SIOCOUTQ, &queued) == 0 && queued > 0) {
		if (atomic_load(cancel))
			return -ECANCELED;
		if (now_monotonic_us() >= until_us) {
			(void)snprintf(err, size, "the receiver did not acknowledge in time");
			return -ETIMEDOUT;
		}
		(void)nanosleep(&(struct timespec){ .tv_nsec = 5000000 }, NULL);
	}
	/* A receiver of syslog sends nothing but TLS's own records: an end or an error here is the receiver gone. */
	n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
		(void)snprintf(err, size, "the receiver closed the connection");
		return n == 0 ? -ECONNRESET : -errno;
	}
	return 0;
}

int forward_relp_frame(const uint8_t *p, size_t len, struct relp_frame *ret)
{
	size_t i = 0, n = 0, k;
	uint64_t txnr = 0;

	for (; i < len && i < 9 && p[i] >= '0' && p[i] <= '9'; i++)
		txnr = txnr * 10 + (uint64_t)(p[i] - '0');
	if (i == len)
		return 0;
	if (i == 0 || p[i] != ' ')
		return -EBADMSG;
	for (k = ++i; i < len && i - k < sizeof(ret->command) - 1 && p[i] >= 'a' && p[i] <= 'z'; i++)
		;
	if (i == len)
		return 0;
	if (i == k || p[i] != ' ')
		return -EBADMSG;
	memcpy(ret->command, p + k, i - k);
	ret->command[i - k] = '\0';
	for (k = ++i; i < len && i - k < 9 && p[i] >= '0' && p[i] <= '9'; i++)
		n = n * 10 + (size_t)(p[i] - '0');
	if (i == len)
		return 0;
	if (i == k || (p[i] != ' ' && p[i] != '\n') || (n && p[i] != ' '))
		return -EBADMSG;
	i += p[i] == ' ';
	if (len - i < n + 1)
		return 0;
	if (p[i + n] != '\n')
		return -EBADMSG;
	ret->txnr = (uint32_t)txnr;
	ret->data = p + i;
	ret->len = n;
	return (int)(i + n + 1);
}

/* Up to len bytes from the receiver, over TLS when the connection has it: as recv(). */
static ssize_t stream_read(struct forward_conn *c, uint8_t *p, size_t len)
{
	size_t n = 0;

	if (!c->ssl)
		return recv(c->fd, p, len, 0);
	ERR_clear_error();
	if (SSL_read_ex(c->ssl, p, len, &n) == 1)
		return (ssize_t)n;
	if (SSL_get_error(c->ssl, 0) == SSL_ERROR_ZERO_RETURN)
		return 0;
	errno = errno ? errno : EPROTO;
	return -1;
}

/* Writes all of p on the connection, over TLS when it has it. */
static int conn_write(struct forward_conn *c, const uint8_t *p, size_t len, uint64_t *dropped, char *err, size_t size)
{
	return c->ssl ? tls_write(c, p, len, dropped, err, size) : stream_write(c, p, len, dropped, err, size);
}

/*
 * The next frame the receiver sent into *f (its data valid until the next
 * call), waiting until until_us: 0, or -errno with err saying why.
 */
static int relp_receive(struct forward_conn *c, struct relp_frame *f, uint64_t until_us, const atomic_bool *cancel,
			char *err, size_t size)
{
	if (c->in_used) {
		memmove(c->in.data, c->in.data + c->in_used, c->in.len - c->in_used);
		c->in.len -= c->in_used;
		c->in_used = 0;
	}
	for (;;) {
		int n = forward_relp_frame(c->in.data, c->in.len, f);
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		ssize_t got;
		if (n > 0) {
			c->in_used = (size_t)n;
			return 0;
		}
		if (n < 0) {
			(void)snprintf(err, size, "RELP: the receiver sent what is not a frame");
			return -EPROTO;
		}
		if (atomic_load(cancel))
			return -ECANCELED;
		if (now_monotonic_us() >= until_us) {
			(void)snprintf(err, size, "RELP: the receiver did not acknowledge in time");
			return -ETIMEDOUT;
		}
		/* What TLS has decrypted already is not on the socket any more. */
		if (!(c->ssl && SSL_pending(c->ssl)) && poll(&pfd, 1, 100) != 1)
			continue;
		if (buf_reserve(&c->in, 4096) < 0) {
			(void)snprintf(err, size, "RELP: the receiver's answer is too long");
			return -EPROTO;
		}
		got = stream_read(c, c->in.data + c->in.len, 4096);
		if (got <= 0)
			return sock_error(got == 0 ? ECONNRESET : errno, "RELP: receive", err, size);
		c->in.len += (size_t)got;
	}
}

/* A response's data begins with its status: 200 is done, anything else the receiver's refusal. */
static int relp_response(const struct relp_frame *f, uint32_t want, char *err, size_t size)
{
	if (strcmp(f->command, "serverclose") == 0) {
		(void)snprintf(err, size, "RELP: the receiver is closing the session");
		return -ECONNRESET;
	}
	if (strcmp(f->command, "rsp") != 0 || f->txnr != want) {
		(void)snprintf(err, size, "RELP: expected the answer to %u, got %s to %u", want, f->command, f->txnr);
		return -EPROTO;
	}
	if (f->len < 3 || memcmp(f->data, "200", 3) != 0) {
		(void)snprintf(err, size, "RELP: the receiver refused: %.*s", (int)MIN(f->len, (size_t)200),
			       (const char *)f->data);
		return -EPROTO;
	}
	return 0;
}

/* A transaction number: 1 to 999,999,999, then 1 again (the RELP specification's). */
static uint32_t relp_next(uint32_t txnr)
{
	return txnr >= 999999999 ? 1 : txnr + 1;
}

static int relp_send_frame(struct forward_conn *c, struct buf *out, const char *command, const uint8_t *p, size_t len)
{
	int r = buf_printf(out, "%u %s %zu%s", c->txnr, command, len, len ? " " : "");

	if (r == 0)
		r = buf_append(out, p, len);
	if (r == 0)
		r = buf_putc(out, '\n');
	c->txnr = relp_next(c->txnr);
	return r;
}

/* RELP (rsyslog's Reliable Event Logging Protocol) over TCP: the session opened, offering the syslog command. */
static int relp_start(struct forward_conn *c, const struct forward_target *t, const char *host, char *err, size_t size)
{
	static const char offer[] = "relp_version=0\nrelp_software=vigil," PACKAGE_VERSION "\ncommands=syslog";
	/* The session's opening is not cancelled: it is bounded by its 10 s. */
	static const atomic_bool never = false;
	struct relp_frame f;
	struct buf out;
	int r;

	(void)t, (void)host;
	buf_init(&c->in, 1 << 20);
	buf_init(&out, 4096);
	c->txnr = 1;
	c->acked_to = 1;
	r = relp_send_frame(c, &out, "open", (const uint8_t *)offer, sizeof(offer) - 1);
	if (r == 0)
		r = conn_write(c, out.data, out.len, NULL, err, size);
	buf_free(&out);
	if (r == 0)
		r = relp_receive(c, &f, now_monotonic_us() + 10 * USEC_PER_SEC, &never, err, size);
	if (r == 0)
		r = relp_response(&f, 1, err, size);
	if (r == 0 && !memmem(f.data, f.len, "syslog", 6)) {
		(void)snprintf(err, size, "RELP: the receiver does not offer the syslog command");
		r = -EPROTO;
	}
	c->acked_to = 2;
	return r;
}

/* Each octet-counted message a syslog frame, written as they come; the answers are read when settling. */
static int relp_write(struct forward_conn *c, const uint8_t *p, size_t len, uint64_t *dropped, char *err, size_t size)
{
	const uint8_t *msg;
	size_t msg_len;
	struct buf out;
	int n, r = 0;

	buf_init(&out, SIZE_MAX / 2);
	while (r == 0 && (n = forward_next_frame(p, len, &msg, &msg_len)) > 0) {
		r = relp_send_frame(c, &out, "syslog", msg, msg_len);
		p += n;
		len -= (size_t)n;
	}
	if (r == 0 && n < 0) {
		(void)snprintf(err, size, "internal: a RELP page not octet-counted");
		r = n;
	}
	if (r == 0)
		r = conn_write(c, out.data, out.len, dropped, err, size);
	buf_free(&out);
	return r;
}

/* RELP over TLS (rsyslog's imrelp tls="on"): the receiver checked as for tls://, then the session. */
static int relp_tls_start(struct forward_conn *c, const struct forward_target *t, const char *host, char *err,
			  size_t size)
{
	int r = tls_start(c, t, host, err, size);

	return r < 0 ? r : relp_start(c, t, host, err, size);
}

/* Every syslog frame sent answered "200 OK", in order. */
static int relp_settle(struct forward_conn *c, uint64_t until_us, const atomic_bool *cancel, char *err, size_t size)
{
	while (c->acked_to != c->txnr) {
		struct relp_frame f;
		int r = relp_receive(c, &f, until_us, cancel, err, size);
		if (r == 0)
			r = relp_response(&f, c->acked_to, err, size);
		if (r < 0)
			return r;
		c->acked_to = relp_next(c->acked_to);
	}
	return 0;
}

static const struct transport transports[] = {
	{ "tcp", SOCK_STREAM, false, no_start, stream_write, stream_settle },
	{ "tls", SOCK_STREAM, false, tls_start, tls_write, stream_settle },
	{ "udp", SOCK_DGRAM, true, no_start, udp_write, NULL },
	{ "relp", SOCK_STREAM, true, relp_start, relp_write, relp_settle },
	{ "relp+tls", SOCK_STREAM, true, relp_tls_start, relp_write, relp_settle },
};

/* url's transport, host (without brackets) and port into the buffers; NULL when it names none. */
static const struct transport *parse_url(const char *url, char *host, size_t hsize, char *port, size_t psize)
{
	char scheme[16];

	if (url_split(url, scheme, sizeof(scheme), host, hsize, port, psize) < 0)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(transports); i++)
		if (strcmp(scheme, transports[i].scheme) == 0)
			return &transports[i];
	return NULL;
}

int forward_url_check(const char *url, char *why, size_t size)
{
	char host[256], port[8];

	if (parse_url(url, host, sizeof(host), port, sizeof(port)))
		return 0;
	(void)snprintf(why, size, "expected tcp://HOST:PORT, tls://HOST:PORT, udp://HOST:PORT or relp://HOST:PORT");
	return -EINVAL;
}

bool forward_url_frames(const char *url)
{
	char host[256], port[8];
	const struct transport *tr = parse_url(url, host, sizeof(host), port, sizeof(port));

	return tr && tr->frames;
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

int forward_conn_settle(struct forward_conn *c, unsigned timeout_ms, const atomic_bool *cancel, char *err,
			size_t size)
{
	return c->tr->settle ? c->tr->settle(c, now_monotonic_us() + (uint64_t)timeout_ms * 1000, cancel, err, size) : 0;
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
	buf_free(&c->in);
	free(c);
}
