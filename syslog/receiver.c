/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macro.h"
#include "common/metrics.h"
#include "common/util.h"
#include "syslog/net.h"
#include "syslog/parse.h"
#include "syslog/receiver.h"
#include "syslog/record.h"

#define LISTENERS_MAX 8
#define UDP_BATCH 32          /* datagrams one recvmmsg() takes */
#define SENDER_SLOTS 2048     /* senders with records waiting, at most (a power of two) */
#define SENDER_RECORDS 4096   /* a sender's records that make a batch */
#define SENDER_BYTES (1024 * 1024)
#define FLUSH_MS 100          /* records wait this long for more of their sender's */
#define HOST_MAX 256

#define C(f) offsetof(struct syslog_conf, f)
const struct conf_key syslog_conf_keys[SYSLOG_CONF_N_KEYS] = {
	{ "listen", CONF_STR, C(listen), NULL, .help = "where devices send: udp://HOST:PORT, tcp://HOST:PORT (octet-counted or LF-framed, RFC 6587) and tls://HOST:PORT (RFC 5425), any of them, separated by spaces" },
	{ "tls_cert", CONF_STR, C(tls_cert), NULL, .help = "tls://'s certificate (PEM, the chain after it)" },
	{ "tls_key", CONF_STR, C(tls_key), NULL, .help = "its private key (PEM)" },
	{ "tls_client_ca", CONF_STR, C(tls_client_ca), NULL, .help = "require of each tls:// sender a certificate signed by this CA (PEM)" },
	{ "max_message", CONF_SIZE, C(max_message), "64K", 480, 1024 * 1024, .help = "longest message kept; a longer one is cut there (counted, SYSLOG_TRUNCATED=1)" },
	{ "max_connections", CONF_UINT, C(max_connections), "256", 1, 65536, .help = "TCP and TLS connections open at once; past it new ones are refused (counted)" },
	{ "idle_timeout", CONF_SECS, C(idle_timeout_ms), "10m", 1000, 86400000, .help = "a connection that sends nothing for this long is closed" },
	{ "utc_offset", CONF_STR, C(utc_offset), "local", .help = "the zone of RFC 3164 timestamps, which carry none: local (this machine's) or +HH:MM / -HH:MM" },
	{ "queue", CONF_UINT, C(queue), "1024", 16, 1000000, .help = "batches of received records waiting to be stored; past it the oldest are dropped (counted)" },
};

/* "local", or ±HH:MM, as seconds east of UTC; -EINVAL for anything else. */
static int utc_offset(const char *v, int32_t *ret)
{
	time_t now = time(NULL);
	struct tm tm;
	int h, m;
	char sign, end;

	if (!v || strcmp(v, "local") == 0) {
		*ret = localtime_r(&now, &tm) ? (int32_t)tm.tm_gmtoff : 0;
		return 0;
	}
	if (sscanf(v, "%c%2d:%2d%c", &sign, &h, &m, &end) != 3 || (sign != '+' && sign != '-') || h > 14 || m > 59 ||
	    strlen(v) != 6)
		return -EINVAL;
	*ret = (sign == '+' ? 1 : -1) * (h * 3600 + m * 60);
	return 0;
}

void syslog_conf_check(const struct syslog_conf *c, const char *where, struct conf_errors *errs)
{
	const char *p = c->listen;
	char url[256];
	bool tls = false;
	int32_t off;

	while (p && next_word(&p, url, sizeof(url))) {
		if (!syslog_url_valid(url))
			conf_error_add(errs, where, "[syslog] listen: %s: expected udp://, tcp:// or tls://HOST:PORT", url);
		tls |= strncmp(url, "tls://", 6) == 0;
	}
	if (tls && (!c->tls_cert || !c->tls_key))
		conf_error_add(errs, where, "[syslog] listen=tls://... needs tls_cert= and tls_key=");
	if (utc_offset(c->utc_offset, &off) < 0)
		conf_error_add(errs, where, "[syslog] utc_offset=%s: expected local, or +HH:MM / -HH:MM", c->utc_offset);
}

/* A sender with records waiting: one batch of its own. */
struct sender {
	char host[HOST_MAX];
	uint8_t id[16];
	struct buf records;
	uint32_t n;
	bool used;
};

struct syslog_receiver {
	const struct syslog_conf *conf;
	struct syslog_sink sink;
	struct syslog_listener listeners[LISTENERS_MAX];
	size_t n_listeners;
	uint32_t udp_overflows[LISTENERS_MAX]; /* the kernel's count, last seen */
	SSL_CTX *tls;
	struct syslog_stream *streams;
	size_t n_streams;
	struct pollfd *fds;
	struct sender *senders; /* SENDER_SLOTS, open addressing */
	size_t n_senders;
	struct syslog_parse_opts parse;
	uint8_t *udp_buf;
	int wake;
	pthread_t thread;
	bool started;
	atomic_bool stop;
	uint64_t flushed_us, idle_checked_us, refused_logged_us;
};

static void flush_sender(struct syslog_receiver *r, struct sender *s)
{
	if (!s->n)
		return;
	r->sink.put(r->sink.ctx, s->id, &s->records, s->n);
	buf_reset(&s->records);
	s->n = 0;
}

/*
 * Every sender's batch goes; a sender that sent nothing since the last time
 * gives its room back, so memory follows the senders that are busy now.
 */
static void flush_all(struct syslog_receiver *r)
{
	for (size_t i = 0; i < SENDER_SLOTS; i++) {
		if (!r->senders[i].n)
			buf_free(&r->senders[i].records);
		flush_sender(r, &r->senders[i]);
	}
	r->flushed_us = now_monotonic_us();
}

/* The sender of host, made (its inventory first) when new; the table is emptied first when it is full. */
static struct sender *sender_of(struct syslog_receiver *r, const char *host, const struct syslog_origin *o)
{
	uint32_t i = fnv1a_32(FNV1A_32_INIT, host) & (SENDER_SLOTS - 1);
	struct sender *s;

	for (; r->senders[i].used; i = (i + 1) & (SENDER_SLOTS - 1))
		if (strcmp(r->senders[i].host, host) == 0)
			return &r->senders[i];
	if (r->n_senders >= SENDER_SLOTS * 3 / 4) {
		flush_all(r);
		for (size_t k = 0; k < SENDER_SLOTS; k++)
			r->senders[k].used = false;
		r->n_senders = 0;
		return sender_of(r, host, o);
	}
	s = &r->senders[i];
	s->used = true;
	r->n_senders++;
	(void)snprintf(s->host, sizeof(s->host), "%s", host);
	(void)syslog_sender_id(host, s->id);
	if (syslog_record_inventory(&s->records, o, host) == 0)
		s->n++;
	return s;
}

/* One message, whatever it holds: stored, counted. */
static void take_message(struct syslog_receiver *r, const uint8_t *p, size_t len, bool truncated,
			 enum syslog_transport t, const char *peer)
{
	struct syslog_origin o = { .source = "syslog", .transport = syslog_transport_names[t], .peer = peer,
				   .received_us = now_realtime_us(), .truncated = truncated };
	char host[HOST_MAX];
	struct syslog_msg m;
	struct sender *s;

	metrics_add(&metrics.syslog_messages[t], 1);
	metrics_add(&metrics.syslog_bytes, len);
	if (truncated)
		metrics_add(&metrics.syslog_truncated, 1);
	r->parse.now_us = o.received_us;
	syslog_parse(p, len, &r->parse, &m);
	if (m.format == SYSLOG_UNPARSED)
		metrics_add(&metrics.syslog_unparsed, 1);
	syslog_record_host(&m, &o, host, sizeof(host));
	s = sender_of(r, host, &o);
	if (syslog_record(&s->records, &m, &o, host) < 0) {
		flush_sender(r, s);
		if (syslog_record(&s->records, &m, &o, host) < 0) {
			metrics_add(&metrics.syslog_dropped, 1);
			return;
		}
	}
	if (++s->n >= SENDER_RECORDS || s->records.len >= SENDER_BYTES)
		flush_sender(r, s);
}

struct stream_ctx {
	struct syslog_receiver *r;
	struct syslog_stream *s;
};

static void stream_message(const uint8_t *msg, size_t len, bool truncated, void *ctx)
{
	struct stream_ctx *c = ctx;

	take_message(c->r, msg, len, truncated, c->s->transport, c->s->peer);
}

/* Datagrams, a batch at a time, until none is left; the kernel's drops counted from what it says. */
static void read_udp(struct syslog_receiver *r, size_t li)
{
	size_t max = r->conf->max_message;
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct sockaddr_storage from[UDP_BATCH];
	char cbuf[UDP_BATCH][CMSG_SPACE(sizeof(uint32_t))], peer[64];
	int n;

	for (int i = 0; i < UDP_BATCH; i++) {
		iov[i] = (struct iovec){ r->udp_buf + (size_t)i * max, max };
		msgs[i].msg_hdr = (struct msghdr){ .msg_name = &from[i], .msg_namelen = sizeof(from[i]), .msg_iov = &iov[i],
						   .msg_iovlen = 1, .msg_control = cbuf[i], .msg_controllen = sizeof(cbuf[i]) };
	}
	n = recvmmsg(r->listeners[li].fd, msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++) {
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
				uint32_t seen;
				memcpy(&seen, CMSG_DATA(c), sizeof(seen));
				metrics_add(&metrics.syslog_udp_overflows, seen - r->udp_overflows[li]);
				r->udp_overflows[li] = seen;
			}
		syslog_peer_name(&from[i], peer, sizeof(peer));
		take_message(r, iov[i].iov_base, MIN((size_t)msgs[i].msg_len, max),
			     (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0, SYSLOG_UDP, peer);
	}
}

static void accept_streams(struct syslog_receiver *r, size_t li)
{
	struct sockaddr_storage from;
	struct syslog_stream *s;

	for (;;) {
		socklen_t len = sizeof(from);
		int fd = accept4(r->listeners[li].fd, (struct sockaddr *)&from, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			break;
		if (r->n_streams >= r->conf->max_connections) {
			close(fd);
			metrics_add(&metrics.syslog_refused, 1);
			if (now_monotonic_us() - r->refused_logged_us > 60 * USEC_PER_SEC) {
				r->refused_logged_us = now_monotonic_us();
				log_warning("syslog: %" PRIu64 " connections are open; refusing more (see "
					    "vigil_syslog_refused_total)", r->conf->max_connections);
			}
			continue;
		}
		s = &r->streams[r->n_streams];
		*s = (struct syslog_stream){ .fd = fd, .transport = r->listeners[li].transport,
					     .last_us = now_monotonic_us(),
					     .framing = { .max = r->conf->max_message },
					     .cap = r->conf->max_message + SYSLOG_FRAME_HEADER_MAX };
		syslog_peer_name(&from, s->peer, sizeof(s->peer));
		s->buf = malloc(s->cap);
		if (s->transport == SYSLOG_TLS && (s->ssl = SSL_new(r->tls)))
			(void)SSL_set_fd(s->ssl, fd);
		if (!s->buf || (s->transport == SYSLOG_TLS && !s->ssl)) {
			syslog_stream_close(s);
			continue;
		}
		r->n_streams++;
		metrics_add(&metrics.syslog_connections, 1);
		atomic_fetch_add(&metrics.syslog_connections_open, 1);
	}
}

/* Closes stream i; the last one takes its place. */
static void drop_stream(struct syslog_receiver *r, size_t i)
{
	syslog_stream_close(&r->streams[i]);
	r->streams[i] = r->streams[--r->n_streams];
	atomic_fetch_sub(&metrics.syslog_connections_open, 1);
}

static void read_stream(struct syslog_receiver *r, size_t i)
{
	struct stream_ctx c = { r, &r->streams[i] };
	int k = syslog_stream_read(c.s, stream_message, &c);

	c.s->last_us = now_monotonic_us();
	if (k <= 0)
		drop_stream(r, i);
}

/* Once a second: streams silent for idle_timeout are closed. */
static void close_idle(struct syslog_receiver *r, uint64_t now)
{
	if (now - r->idle_checked_us < USEC_PER_SEC)
		return;
	r->idle_checked_us = now;
	for (size_t i = r->n_streams; i-- > 0;)
		if (now - r->streams[i].last_us > r->conf->idle_timeout_ms * 1000)
			drop_stream(r, i);
}

/* One poll of everything; what is ready is read. */
static void turn(struct syslog_receiver *r)
{
	size_t nl = r->n_listeners, ns = r->n_streams, n = 0;
	uint64_t now;

	r->fds[n++] = (struct pollfd){ .fd = r->wake, .events = POLLIN };
	for (size_t i = 0; i < nl; i++)
		r->fds[n++] = (struct pollfd){ .fd = r->listeners[i].fd, .events = POLLIN };
	for (size_t i = 0; i < ns; i++)
		r->fds[n++] = (struct pollfd){ .fd = r->streams[i].fd, .events = syslog_stream_events(&r->streams[i]) };
	if (poll(r->fds, n, FLUSH_MS) > 0) {
		/* Streams first and from the last: dropping one moves the last into its place. */
		for (size_t i = ns; i-- > 0;)
			if (r->fds[1 + nl + i].revents)
				read_stream(r, i);
		for (size_t i = 0; i < nl; i++)
			if (r->fds[1 + i].revents & POLLIN) {
				if (r->listeners[i].transport == SYSLOG_UDP)
					read_udp(r, i);
				else
					accept_streams(r, i);
			}
	}
	now = now_monotonic_us();
	close_idle(r, now);
	if (now - r->flushed_us >= FLUSH_MS * 1000)
		flush_all(r);
}

static void *receiver_main(void *arg)
{
	struct syslog_receiver *r = arg;

	while (!atomic_load(&r->stop))
		turn(r);
	flush_all(r);
	return NULL;
}

void syslog_stop(struct syslog_receiver *r)
{
	if (!r)
		return;
	if (r->started) {
		atomic_store(&r->stop, true);
		(void)eventfd_write(r->wake, 1);
		(void)pthread_join(r->thread, NULL);
	}
	while (r->n_streams)
		drop_stream(r, r->n_streams - 1);
	for (size_t i = 0; i < r->n_listeners; i++)
		close(r->listeners[i].fd);
	for (size_t i = 0; r->senders && i < SENDER_SLOTS; i++)
		buf_free(&r->senders[i].records);
	if (r->wake >= 0)
		close(r->wake);
	SSL_CTX_free(r->tls);
	free(r->streams);
	free(r->fds);
	free(r->senders);
	free(r->udp_buf);
	free(r);
}

/* Every listen= URL bound; the TLS context when one is tls://. */
static int listen_all(struct syslog_receiver *r)
{
	const char *p = r->conf->listen;
	char url[256], err[512];
	int k;

	while (next_word(&p, url, sizeof(url))) {
		if (r->n_listeners == LISTENERS_MAX)
			return log_error_errno(E2BIG, "syslog: listen: at most %d addresses", LISTENERS_MAX);
		k = syslog_listen(url, &r->listeners[r->n_listeners], err, sizeof(err));
		if (k < 0)
			return log_error_errno(k, "syslog: listen: %s", err);
		if (r->listeners[r->n_listeners++].transport == SYSLOG_TLS && !r->tls &&
		    !(r->tls = syslog_tls_ctx(r->conf->tls_cert, r->conf->tls_key, r->conf->tls_client_ca, err,
					      sizeof(err))))
			return log_error_errno(EINVAL, "syslog: %s", err);
		log_info("syslog: listening on %s", url);
	}
	return 0;
}

int syslog_start(const struct syslog_conf *c, const struct syslog_sink *sink, struct syslog_receiver **ret)
{
	struct syslog_receiver *r;
	int k;

	*ret = NULL;
	if (!c->listen || !*c->listen)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->conf = c;
	r->sink = *sink;
	r->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	r->streams = calloc(c->max_connections, sizeof(*r->streams));
	r->fds = calloc(1 + LISTENERS_MAX + c->max_connections, sizeof(*r->fds));
	r->senders = calloc(SENDER_SLOTS, sizeof(*r->senders));
	r->udp_buf = malloc((size_t)UDP_BATCH * c->max_message);
	k = r->wake < 0 ? -errno : !r->streams || !r->fds || !r->senders || !r->udp_buf ? -ENOMEM : 0;
	for (size_t i = 0; k == 0 && i < SENDER_SLOTS; i++)
		buf_init(&r->senders[i].records, SENDER_BYTES + 2 * c->max_message + 4096);
	if (k == 0)
		k = utc_offset(c->utc_offset, &r->parse.utc_offset_s);
	if (k == 0)
		k = listen_all(r);
	if (k == 0 && pthread_create(&r->thread, NULL, receiver_main, r) != 0)
		k = -EAGAIN;
	r->started = k == 0;
	if (k < 0) {
		syslog_stop(r);
		return k;
	}
	*ret = r;
	return 0;
}
