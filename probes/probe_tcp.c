/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <netdb.h>
#include <stdio.h>
#include <sys/socket.h>

#include "common/macro.h"
#include "probe-internal.h"

/*
 * connect, then optionally send and wait for expected text. Names are
 * resolved with getaddrinfo_a, polled from the loop, so a slow DNS server
 * never blocks it.
 */
struct tcp_state {
	struct gaicb req;
	struct gaicb *list[1];
	char host[256], port[16];
	char send[1024];
	size_t send_len;
	bool resolving;
	bool connected;
};

static void tcp_stop(struct probe *p)
{
	struct tcp_state *t = p->type_state;

	p->io = sd_event_source_disable_unref(p->io);
	p->poll = sd_event_source_disable_unref(p->poll);
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

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct probe *p = userdata;
	struct tcp_state *t = p->type_state;
	int err = 0;
	socklen_t len = sizeof(err);
	ssize_t n;

	if (revents & EPOLLOUT) {
		if (!t->connected) {
			(void)getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
			if (err) {
				probe_finish(p, PROBE_CRITICAL, "connect to %s: %s", p->conf->address, strerror(err));
				return 0;
			}
			t->connected = true;
			probe_detail_u64(p, "PROBE_CONNECT_US", probe_elapsed_us(p));
		}
		if (p->io_done < t->send_len) {
			n = send(fd, t->send + p->io_done, t->send_len - p->io_done, MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN) {
				probe_finish(p, PROBE_CRITICAL, "send to %s: %s", p->conf->address, strerror(errno));
				return 0;
			}
			p->io_done += n > 0 ? (size_t)n : 0;
			if (p->io_done < t->send_len)
				return 0;
		}
		if (!p->conf->expect) {
			probe_finish(p, PROBE_OK, "connected to %s", p->conf->address);
			return 0;
		}
		(void)sd_event_source_set_io_events(s, EPOLLIN);
		return 0;
	}
	if (buf_reserve(&p->io_buf, 4096) < 0) {
		probe_finish(p, PROBE_CRITICAL, "%s: no '%s' in the first 64 KiB", p->conf->address, p->conf->expect);
		return 0;
	}
	n = recv(fd, p->io_buf.data + p->io_buf.len, 4096, 0);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n > 0) {
		p->io_buf.len += (size_t)n;
		(void)buf_terminate(&p->io_buf);
		if (memmem(p->io_buf.data, p->io_buf.len, p->conf->expect, strlen(p->conf->expect)))
			probe_finish(p, PROBE_OK, "%s answered with '%s'", p->conf->address, p->conf->expect);
		return 0;
	}
	probe_finish(p, PROBE_CRITICAL, "%s closed without '%s'%s%s", p->conf->address, p->conf->expect,
		     n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
	return 0;
}

static void connect_to(struct probe *p, const struct addrinfo *ai)
{
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), r;

	if (fd < 0) {
		probe_finish(p, PROBE_UNKNOWN, "socket: %s", strerror(errno));
		return;
	}
	p->fd = fd;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
		probe_finish(p, PROBE_CRITICAL, "connect to %s: %s", p->conf->address, strerror(errno));
		return;
	}
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
static const char *const tcp_allowed[] = { "send", "expect", NULL };

const struct probe_ops probe_tcp_ops = {
	.type = "tcp",
	.required = tcp_required,
	.allowed = tcp_allowed,
	.start = tcp_start,
	.stop = tcp_stop,
};
