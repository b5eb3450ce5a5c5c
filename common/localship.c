/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <zstd.h>

#include "common/frame.h"
#include "common/localship.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/transport.h"
#include "common/util.h"
#include "common/metrics.h"

#define BATCH_PUTS_MAX 256
#define BATCH_BYTES_MAX (8 * 1024 * 1024)
#define LINGER_MS 100 /* records gather this long into one batch */
#define REPLY_TIMEOUT_MS 10000
#define STOP_FLUSH_MS 5000

/* A put's records: their bytes in the queue's buffer, how many entries, and whose. */
struct span {
	size_t off, len;
	uint32_t entries;
	uint8_t agent[AGENT_ID_SIZE];
};

struct localship {
	const struct localship_conf *conf;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct buf queue;   /* records, back to back, under lock */
	struct span *spans; /* where each one starts; a ring would save the moves, the queue is small */
	size_t n, max;
	bool flush, stopping;
	uint64_t dropped_logged_us;
	nng_socket sock;
	uint64_t last_seq; /* of any agent: each agent's grow too */
	ZSTD_CCtx *cctx;
};

/* Drops the oldest record to make room (under lock); counted, and logged at most once a minute. */
static void drop_oldest(struct localship *s)
{
	size_t len = s->spans[0].len;
	uint32_t entries = s->spans[0].entries;
	uint64_t now = now_monotonic_us();

	memmove(s->queue.data, s->queue.data + len, s->queue.len - len);
	s->queue.len -= len;
	memmove(s->spans, s->spans + 1, (s->n - 1) * sizeof(*s->spans));
	s->n--;
	for (size_t i = 0; i < s->n; i++)
		s->spans[i].off -= len;
	metrics_add(s->conf->dropped, entries);
	if (now - s->dropped_logged_us > 60 * USEC_PER_SEC) {
		s->dropped_logged_us = now;
		log_warning("%s: %zu batches of records wait to be stored; dropping the oldest (see %s)", s->conf->name,
			    s->max, s->conf->dropped_metric);
	}
}

void localship_put(struct localship *s, const uint8_t agent[16], const struct buf *records, uint32_t entries)
{
	pthread_mutex_lock(&s->lock);
	if (s->n == s->max)
		drop_oldest(s);
	if (buf_append(&s->queue, records->data, records->len) == 0) {
		s->spans[s->n] = (struct span){ .off = s->queue.len - records->len, .len = records->len, .entries = entries };
		memcpy(s->spans[s->n++].agent, agent, AGENT_ID_SIZE);
		pthread_cond_signal(&s->cond);
	} else {
		metrics_add(s->conf->dropped, entries);
		log_warning("%s: no room for %u records of %zu bytes; dropped (see %s)", s->conf->name, entries,
			    records->len, s->conf->dropped_metric);
	}
	pthread_mutex_unlock(&s->lock);
}

void localship_flush(struct localship *s)
{
	pthread_mutex_lock(&s->lock);
	s->flush = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/*
 * Sends raw (records entries of agent) as one batch until it is stored;
 * false when stopping cut it short.
 */
static bool send_batch(struct localship *s, const uint8_t agent[AGENT_ID_SIZE], const struct buf *raw,
		       uint32_t records, uint64_t give_up_us)
{
	/* The seq only has to grow, across restarts too: the clock does that for us. */
	struct frame_header h = { .version = FRAME_VERSION, .seq = MAX(now_realtime_us(), s->last_seq + 1),
				  .records = records, .raw_len = (uint32_t)raw->len, .created_us = now_realtime_us() };
	struct buf frame;
	bool done = false;

	s->last_seq = h.seq;
	memcpy(h.agent_id, agent, AGENT_ID_SIZE);
	buf_init(&frame, 2 * raw->len + 4096);
	if (frame_build(s->cctx, &h, raw->data, raw->len, 1, &frame) < 0) {
		log_error("%s: cannot frame %u records; dropped", s->conf->name, records);
		metrics_add(s->conf->dropped, records);
		buf_free(&frame);
		return true;
	}
	while (!done) {
		struct reply rep = { .status = REPLY_RETRY };
		nng_msg *m = NULL;
		int rv = nng_msg_alloc(&m, 0);

		if (rv == 0)
			rv = nng_msg_append(m, frame.data, frame.len);
		if (rv == 0)
			rv = nng_sendmsg(s->sock, m, 0);
		else
			nng_msg_free(m);
		if (rv == 0 && (rv = nng_recvmsg(s->sock, &m, 0)) == 0) {
			if (reply_decode(nng_msg_body(m), nng_msg_len(m), &rep) < 0)
				rep.status = REPLY_RETRY;
			nng_msg_free(m);
		}
		done = rv == 0 && rep.status != REPLY_RETRY && rep.status != REPLY_CONFLICT;
		/* The clock stepped back onto a sequence number stored before: the next one will do. */
		if (rv == 0 && rep.status == REPLY_CONFLICT) {
			log_warning("%s: batch %" PRIu64 " was stored before with other records (the clock went back); "
				    "sent again as %" PRIu64, s->conf->name, h.seq, h.seq + 1);
			h.seq = s->last_seq = MAX(h.seq, s->last_seq) + 1;
			frame_header_encode(&h, frame.data);
			continue;
		}
		if (done && rep.status == REPLY_REJECTED) {
			log_error("%s: ingest refused %u records: %s", s->conf->name, records, rep.reason);
			metrics_add(s->conf->dropped, records);
		}
		if (!done && now_monotonic_us() > give_up_us) {
			log_error("%s: %u records could not be stored before stopping; dropped", s->conf->name, records);
			metrics_add(s->conf->dropped, records);
			break;
		}
		if (!done)
			(void)nanosleep(&(struct timespec){ .tv_nsec = 200 * 1000000L }, NULL);
	}
	buf_free(&frame);
	return done;
}

/*
 * Takes the oldest puts of one agent (up to BATCH_PUTS_MAX, and
 * BATCH_BYTES_MAX but for the first) off the queue into raw and agent
 * (under lock); how many puts, and entries.
 */
static uint32_t take(struct localship *s, struct buf *raw, uint8_t agent[AGENT_ID_SIZE], uint32_t *entries)
{
	size_t k = 0, len = 0;

	while (k < MIN(s->n, (size_t)BATCH_PUTS_MAX) && memcmp(s->spans[k].agent, s->spans[0].agent, AGENT_ID_SIZE) == 0 &&
	       (k == 0 || len + s->spans[k].len <= BATCH_BYTES_MAX))
		len += s->spans[k++].len;
	buf_reset(raw);
	*entries = 0;
	if (k == 0 || buf_append(raw, s->queue.data, len) < 0)
		return 0;
	memcpy(agent, s->spans[0].agent, AGENT_ID_SIZE);
	for (size_t i = 0; i < k; i++)
		*entries += s->spans[i].entries;
	memmove(s->queue.data, s->queue.data + len, s->queue.len - len);
	s->queue.len -= len;
	memmove(s->spans, s->spans + k, (s->n - k) * sizeof(*s->spans));
	s->n -= k;
	for (size_t i = 0; i < s->n; i++)
		s->spans[i].off -= len;
	return (uint32_t)k;
}

static void *ship_main(void *arg)
{
	struct localship *s = arg;
	uint8_t agent[AGENT_ID_SIZE];
	struct buf raw;
	uint64_t give_up = UINT64_MAX;

	buf_init(&raw, 64 * 1024 * 1024);
	pthread_mutex_lock(&s->lock);
	for (;;) {
		uint32_t k, entries;

		while (!s->n && !s->stopping)
			pthread_cond_wait(&s->cond, &s->lock);
		if (s->stopping && give_up == UINT64_MAX)
			give_up = now_monotonic_us() + STOP_FLUSH_MS * 1000;
		if (!s->n)
			break;
		if (!s->flush && !s->stopping && s->n < BATCH_PUTS_MAX) {
			struct timespec until = deadline_after_ms(CLOCK_REALTIME, LINGER_MS);

			(void)pthread_cond_timedwait(&s->cond, &s->lock, &until);
		}
		s->flush = false;
		k = take(s, &raw, agent, &entries);
		pthread_mutex_unlock(&s->lock);
		if (k)
			(void)send_batch(s, agent, &raw, entries, give_up);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	buf_free(&raw);
	return NULL;
}

void localship_stop(struct localship *s)
{
	if (!s)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->lock);
		s->stopping = true;
		pthread_cond_signal(&s->cond);
		pthread_mutex_unlock(&s->lock);
		(void)pthread_join(s->thread, NULL);
	}
	/*
	 * The REQ socket is left to the process's exit: closing one can hang
	 * in Debian's libnng 1.5.2 (nng issue #1543, as the agent found).
	 */
	ZSTD_freeCCtx(s->cctx);
	buf_free(&s->queue);
	free(s->spans);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int localship_start(const char *url, const struct localship_conf *c, struct localship **ret)
{
	struct localship *s = calloc(1, sizeof(*s));
	int rv, r = 0;

	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->conf = c;
	buf_init(&s->queue, c->max_puts * 64 * 1024);
	s->max = c->max_puts;
	s->spans = calloc(c->max_puts, sizeof(*s->spans));
	s->cctx = ZSTD_createCCtx();
	if (!s->spans || !s->cctx)
		r = -ENOMEM;
	if (r == 0 && ((rv = nng_req0_open(&s->sock)) || (rv = nng_socket_set_ms(s->sock, NNG_OPT_RECVTIMEO, REPLY_TIMEOUT_MS)) ||
		       (rv = nng_socket_set_ms(s->sock, NNG_OPT_SENDTIMEO, REPLY_TIMEOUT_MS)) ||
		       (rv = nng_dial(s->sock, url, NULL, 0))))
		r = log_error_errno(nng_to_errno(rv), "%s: cannot reach ingest at %s: %s", c->name, url, nng_strerror(rv));
	if (r == 0 && pthread_create(&s->thread, NULL, ship_main, s) != 0)
		r = -EAGAIN;
	s->started = r == 0;
	if (r < 0) {
		localship_stop(s);
		return r;
	}
	*ret = s;
	return 0;
}
