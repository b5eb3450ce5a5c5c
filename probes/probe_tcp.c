/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <limits.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <sys/socket.h>

#include "common/log.h"
#include "common/macro.h"
#include "probes/probe-internal.h"

/*
 * connect (to each address of the name in turn until one answers), then
 * optionally a TLS handshake, then optionally send and wait for expected
 * text. Names are resolved with getaddrinfo_a, polled from the loop, so a
 * slow DNS server never blocks it; OpenSSL runs on the non-blocking socket.
 */
struct tcp_state {
	struct gaicb req;
	struct gaicb *list[1];
	char host[256], port[16];
	char send[1024];
	size_t send_len;
	const struct addrinfo *next; /* tried if connecting to the current one fails */
	SSL *ssl;
	bool resolving;
	bool connected;
	bool tls_done;
};

static void tcp_stop(struct probe *p)
{
	struct tcp_state *t = p->type_state;

	p->io = sd_event_source_disable_unref(p->io);
	p->poll = sd_event_source_disable_unref(p->poll);
	if (t) {
		SSL_free(t->ssl);
		t->ssl = NULL;
	}
	if (p->fd >= 0)
		(void)close(p->fd);
	p->fd = -1;
	if (t) {
		if (t->resolving && gai_cancel(&t->req) == EAI_NOTCANCELED)
			(void)gai_suspend((const struct gaicb *const *)t->list, 1, NULL);
		if (t->req.ar_result)
			freeaddrinfo(t->req.ar_result);
		free(t);
		p->type_state = NULL;
	}
}

/* "\r", "\n", "\t" and "\\" in send= become the bytes. */
static size_t unescape(const char *in, char *out, size_t size)
{
	size_t n = 0;

	for (; *in && n < size; in++) {
		if (*in == '\\' && in[1]) {
			in++;
			out[n++] = *in == 'r' ? '\r' : *in == 'n' ? '\n' : *in == 't' ? '\t' : *in;
		} else {
			out[n++] = *in;
		}
	}
	return n;
}

/* The events the socket must wait for before the next try. */
static void want(struct probe *p, uint32_t events)
{
	(void)sd_event_source_set_io_events(p->io, events);
}

/* After an SSL call returned r <= 0: -EAGAIN (waiting), 0 (closed cleanly) or an error. */
static int tls_wait(struct probe *p, struct tcp_state *t, int r)
{
	switch (SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		want(p, EPOLLIN);
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		want(p, EPOLLOUT);
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		return errno ? -errno : -ECONNRESET;
	default:
		return -EPROTO;
	}
}

static ssize_t io_send(struct probe *p, struct tcp_state *t, const void *data, size_t len)
{
	ssize_t n;
	int r;

	if (t->ssl) {
		r = SSL_write(t->ssl, data, (int)MIN(len, (size_t)INT_MAX));
		return r > 0 ? r : tls_wait(p, t, r);
	}
	n = send(p->fd, data, len, MSG_NOSIGNAL);
	if (n < 0 && errno == EAGAIN)
		want(p, EPOLLOUT);
	return n < 0 ? -errno : n;
}

static ssize_t io_recv(struct probe *p, struct tcp_state *t, void *data, size_t len)
{
	ssize_t n;
	int r;

	if (t->ssl) {
		r = SSL_read(t->ssl, data, (int)MIN(len, (size_t)INT_MAX));
		return r > 0 ? r : tls_wait(p, t, r);
	}
	n = recv(p->fd, data, len, 0);
	if (n < 0 && errno == EAGAIN)
		want(p, EPOLLIN);
	return n < 0 ? -errno : n;
}

/* What went wrong in a TLS handshake, in the words of OpenSSL. */
static const char *tls_error(struct tcp_state *t, int r)
{
	long v = SSL_get_verify_result(t->ssl);
	unsigned long e = ERR_peek_last_error();

	if (v != X509_V_OK)
		return X509_verify_cert_error_string(v);
	if (e && ERR_reason_error_string(e))
		return ERR_reason_error_string(e);
	return strerror(-r);
}

static int tls_begin(struct probe *p, struct tcp_state *t)
{
	bool numeric = strchr(t->host, ':') || strspn(t->host, "0123456789.") == strlen(t->host);

	t->ssl = SSL_new(p->attached);
	if (!t->ssl || SSL_set_fd(t->ssl, p->fd) != 1)
		return -ENOMEM;
	if (!numeric)
		(void)SSL_set_tlsext_host_name(t->ssl, t->host);
	if (!p->conf->tls_verify)
		return 0;
	if (numeric)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), t->host) == 1 ? 0 : -EINVAL;
	return SSL_set1_host(t->ssl, t->host) == 1 ? 0 : -EINVAL;
}

/* 1: done, 0: waiting for the socket or the run finished. */
static int tls_handshake(struct probe *p, struct tcp_state *t)
{
	int r;

	ERR_clear_error();
	r = SSL_connect(t->ssl);
	if (r != 1) {
		r = tls_wait(p, t, r);
		if (r != -EAGAIN)
			probe_finish(p, PROBE_CRITICAL, "TLS handshake with %s: %s", p->conf->address,
				     tls_error(t, r ? r : -ECONNRESET));
		return 0;
	}
	t->tls_done = true;
	probe_detail_u64(p, "PROBE_TLS_US", probe_elapsed_us(p));
	probe_detail(p, "PROBE_TLS_VERSION", SSL_get_version(t->ssl));
	probe_detail(p, "PROBE_TLS_CIPHER", SSL_get_cipher_name(t->ssl));
	want(p, EPOLLOUT);
	return 1;
}

static void connect_to(struct probe *p, const struct addrinfo *ai);

/* 1: connected. 0: failed, then the next address is tried, or the run finished. */
static int on_connected(struct probe *p, struct tcp_state *t)
{
	int err = 0;
	socklen_t len = sizeof(err);

	(void)getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) {
		if (t->next) {
			p->io = sd_event_source_disable_unref(p->io);
			(void)close(p->fd);
			p->fd = -1;
			connect_to(p, t->next);
		} else {
			probe_finish(p, PROBE_CRITICAL, "connect to %s: %s", p->conf->address, strerror(err));
		}
		return 0;
	}
	t->connected = true;
	probe_detail_u64(p, "PROBE_CONNECT_US", probe_elapsed_us(p));
	if (p->conf->tls && tls_begin(p, t) < 0) {
		probe_finish(p, PROBE_UNKNOWN, "TLS setup for %s failed", p->conf->address);
		return 0;
	}
	return 1;
}

static void on_answer(struct probe *p, struct tcp_state *t)
{
	const char *expect = p->conf->expect;
	ssize_t n;

	for (;;) {
		if (buf_reserve(&p->io_buf, 4096) < 0) {
			probe_finish(p, PROBE_CRITICAL, "%s: no '%s' in the first 64 KiB", p->conf->address, expect);
			return;
		}
		n = io_recv(p, t, p->io_buf.data + p->io_buf.len, 4096);
		if (n == -EAGAIN)
			return;
		if (n <= 0)
			break;
		p->io_buf.len += (size_t)n;
		(void)buf_terminate(&p->io_buf);
		if (memmem(p->io_buf.data, p->io_buf.len, expect, strlen(expect))) {
			probe_finish(p, PROBE_OK, "%s answered with '%s'", p->conf->address, expect);
			return;
		}
	}
	probe_finish(p, PROBE_CRITICAL, "%s closed without '%s'%s%s", p->conf->address, expect, n < 0 ? ": " : "",
		     n < 0 ? strerror((int)-n) : "");
}

/* One step further each time the socket is ready: connect, TLS, send, expect. */
static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct probe *p = userdata;
	struct tcp_state *t = p->type_state;
	ssize_t n;

	if (!t->connected && !on_connected(p, t))
		return 0;
	if (t->ssl && !t->tls_done && !tls_handshake(p, t))
		return 0;
	while (p->io_done < t->send_len) {
		n = io_send(p, t, t->send + p->io_done, t->send_len - p->io_done);
		if (n == -EAGAIN)
			return 0;
		if (n <= 0) {
			probe_finish(p, PROBE_CRITICAL, "send to %s: %s", p->conf->address,
				     strerror(n < 0 ? (int)-n : ECONNRESET));
			return 0;
		}
		p->io_done += (size_t)n;
	}
	if (!p->conf->expect) {
		if (t->ssl)
			probe_finish(p, PROBE_OK, "%s: %s handshake done", p->conf->address, SSL_get_version(t->ssl));
		else
			probe_finish(p, PROBE_OK, "connected to %s", p->conf->address);
		return 0;
	}
	want(p, EPOLLIN);
	on_answer(p, t);
	return 0;
}

static void connect_to(struct probe *p, const struct addrinfo *ai)
{
	struct tcp_state *t = p->type_state;
	int fd = -1, r;

	for (; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			probe_finish(p, PROBE_UNKNOWN, "socket: %s", strerror(errno));
			return;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS)
			break;
		r = errno;
		(void)close(fd);
		if (!ai->ai_next) {
			probe_finish(p, PROBE_CRITICAL, "connect to %s: %s", p->conf->address, strerror(r));
			return;
		}
	}
	p->fd = fd;
	t->next = ai->ai_next;
	r = sd_event_add_io(p->event, &p->io, fd, EPOLLOUT, on_io, p);
	if (r < 0)
		probe_finish(p, PROBE_UNKNOWN, "event loop: %s", strerror(-r));
}

static int on_resolve_poll(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct probe *p = userdata;
	struct tcp_state *t = p->type_state;
	int e = gai_error(&t->req);

	if (e == EAI_INPROGRESS) {
		(void)sd_event_source_set_time_relative(s, 5000);
		return 0;
	}
	t->resolving = false;
	p->poll = sd_event_source_disable_unref(p->poll);
	if (e != 0) {
		probe_finish(p, PROBE_CRITICAL, "cannot resolve %s: %s", t->host, gai_strerror(e));
		return 0;
	}
	probe_detail_u64(p, "PROBE_DNS_US", probe_elapsed_us(p));
	connect_to(p, t->req.ar_result);
	return 0;
}

static int split_address(const char *a, struct tcp_state *t)
{
	const char *colon = strrchr(a, ':');
	size_t hl;

	if (!colon || !colon[1] || strlen(colon + 1) >= sizeof(t->port))
		return -EINVAL;
	hl = (size_t)(colon - a);
	if (hl >= 2 && a[0] == '[' && a[hl - 1] == ']') {
		a++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(t->host))
		return -EINVAL;
	memcpy(t->host, a, hl);
	t->host[hl] = 0;
	memcpy(t->port, colon + 1, strlen(colon + 1) + 1);
	return 0;
}

static int tcp_start(struct probe *p)
{
	static const struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo numeric = hints, *ai;
	struct tcp_state *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return -ENOMEM;
	p->type_state = t;
	p->io_done = 0;
	buf_reset(&p->io_buf);
	probe_detail(p, "PROBE_ADDRESS", p->conf->address);
	if (split_address(p->conf->address, t) < 0) {
		probe_finish(p, PROBE_UNKNOWN, "address=%s: expected HOST:PORT", p->conf->address);
		return 0;
	}
	if (p->conf->send)
		t->send_len = unescape(p->conf->send, t->send, sizeof(t->send));
	numeric.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(t->host, t->port, &numeric, &ai) == 0) {
		t->req.ar_result = ai;
		connect_to(p, ai);
		return 0;
	}
	t->req = (struct gaicb){ .ar_name = t->host, .ar_service = t->port, .ar_request = &hints };
	t->list[0] = &t->req;
	r = getaddrinfo_a(GAI_NOWAIT, t->list, 1, NULL);
	if (r != 0) {
		probe_finish(p, PROBE_UNKNOWN, "cannot resolve %s: %s", t->host, gai_strerror(r));
		return 0;
	}
	t->resolving = true;
	return sd_event_add_time_relative(p->event, &p->poll, CLOCK_MONOTONIC, 1000, 1000, on_resolve_poll, p);
}

static const char *const tcp_required[] = { "address", NULL };
static const char *const tcp_allowed[] = { "send", "expect", "tls", "tls_verify", "tls_ca", NULL };

/* With tls=yes: one context for the probe's life (loading CA certificates is not cheap). */
static int tcp_attach(struct probe *p)
{
	SSL_CTX *ctx;
	int ok;

	if (!p->conf->tls)
		return 0;
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return -ENOMEM;
	ok = SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (ok && p->conf->tls_verify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		ok = p->conf->tls_ca ? SSL_CTX_load_verify_locations(ctx, p->conf->tls_ca, NULL) :
				       SSL_CTX_set_default_verify_paths(ctx);
		if (!ok)
			log_error("probe %s: cannot load CA certificates%s%s", p->conf->name,
				  p->conf->tls_ca ? " from " : "", p->conf->tls_ca ? p->conf->tls_ca : "");
	}
	if (!ok) {
		SSL_CTX_free(ctx);
		return -EINVAL;
	}
	p->attached = ctx;
	return 0;
}

static void tcp_detach(struct probe *p)
{
	SSL_CTX_free(p->attached);
	p->attached = NULL;
}

const struct probe_ops probe_tcp_ops = {
	.type = "tcp",
	.required = tcp_required,
	.allowed = tcp_allowed,
	.start = tcp_start,
	.stop = tcp_stop,
	.attach = tcp_attach,
	.detach = tcp_detach,
};
