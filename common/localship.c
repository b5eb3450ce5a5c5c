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
#include "common/metrics.h"
#include "common/transport.h"
#include "common/util.h"

#define BATCH_PUTS_MAX 256
#define BATCH_BYTES_MAX (8 * 1024 * 1024)
#define PUT_BYTES_AVG (64 * 1024) /* what waits is bounded by max_puts of these, in bytes */
#define SENDERS_MAX 8
#define REPLY_TIMEOUT_MS 10000
#define STOP_FLUSH_MS 5000

/* A put's records (owned), how many entries, and whose. */
struct span {
	uint8_t *data;
	size_t len;
	uint32_t entries;
	uint8_t agent[AGENT_ID_SIZE];
};

/* One sender: a REQ socket of its own, so several batches are at ingest at once and share its commits. */
struct sender {
	struct localship *s;
	pthread_t thread;
	bool started;
	nng_socket sock;
	ZSTD_CCtx *cctx;
};

struct localship {
	const struct localship_conf *conf;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct span *ring; /* max spans from head, n of them waiting; under lock */
	size_t head, n, max, bytes;
	bool flush, stopping;
	uint64_t give_up_us;
	uint64_t dropped_logged_us;
	uint64_t last_seq; /* of any agent, under lock: each agent's grow too */
	struct sender senders[SENDERS_MAX];
	size_t n_senders;
};

static struct span *at(struct localship *s, size_t i)
{
	return &s->ring[(s->head + i) % s->max];
}

/* Drops the oldest put to make room (under lock); counted, and logged at most once a minute. */
static void drop_oldest(struct localship *s)
{
	struct span *sp = at(s, 0);
	uint64_t now = now_monotonic_us();

	metrics_add(s->conf->dropped, sp->entries);
	s->bytes -= sp->len;
	free(sp->data);
	s->head = (s->head + 1) % s->max;
	s->n--;
	if (now - s->dropped_logged_us > 60 * USEC_PER_SEC) {
		s->dropped_logged_us = now;
		log_warning("%s: %zu batches of records wait to be stored; dropping the oldest (see %s)", s->conf->name,
			    s->n, s->conf->dropped_metric);
	}
}

void localship_put(struct localship *s, const uint8_t agent[16], const struct buf *records, uint32_t entries)
{
	uint8_t *copy = malloc(MAX(records->len, (size_t)1));
	struct span *sp;

	if (!copy) {
		metrics_add(s->conf->dropped, entries);
		log_warning("%s: no memory for %u records; dropped (see %s)", s->conf->name, entries,
			    s->conf->dropped_metric);
		return;
	}
	memcpy(copy, records->data, records->len);
	pthread_mutex_lock(&s->lock);
	while (s->n && (s->n == s->max || s->bytes + records->len > s->max * PUT_BYTES_AVG))
		drop_oldest(s);
	sp = at(s, s->n++);
	*sp = (struct span){ .data = copy, .len = records->len, .entries = entries };
	memcpy(sp->agent, agent, AGENT_ID_SIZE);
	s->bytes += records->len;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

void localship_flush(struct localship *s)
{
	pthread_mutex_lock(&s->lock);
	s->flush = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* The clock as the sequence number: it only has to grow, across restarts too. */
static uint64_t next_seq(struct localship *s)
{
	uint64_t seq;

	pthread_mutex_lock(&s->lock);
	seq = s->last_seq = MAX(now_realtime_us(), s->last_seq + 1);
	pthread_mutex_unlock(&s->lock);
	return seq;
}

/* One round trip of frame: the reply's status (REPLY_RETRY when there was none). */
static enum reply_status round_trip(struct sender *w, const struct buf *frame, char *reason, size_t size)
{
	struct reply rep = { .status = REPLY_RETRY };
	nng_msg *m = NULL;
	int rv = nng_msg_alloc(&m, 0);

	if (rv == 0)
		rv = nng_msg_append(m, frame->data, frame->len);
	if (rv == 0)
		rv = nng_sendmsg(w->sock, m, 0);
	else
		nng_msg_free(m);
	if (rv == 0 && (rv = nng_recvmsg(w->sock, &m, 0)) == 0) {
		if (reply_decode(nng_msg_body(m), nng_msg_len(m), &rep) < 0)
			rep.status = REPLY_RETRY;
		nng_msg_free(m);
	}
	(void)snprintf(reason, size, "%s", rep.reason);
	return rv == 0 ? rep.status : REPLY_RETRY;
}

/* Sends raw (records entries of agent) as one batch until it is stored, or stopping gives up on it. */
static void send_batch(struct sender *w, const uint8_t agent[AGENT_ID_SIZE], const struct buf *raw, uint32_t records)
{
	struct localship *s = w->s;
	struct frame_header h = { .version = FRAME_VERSION, .seq = next_seq(s), .records = records,
				  .raw_len = (uint32_t)raw->len, .created_us = now_realtime_us() };
	enum reply_status st;
	struct buf frame;
	char reason[256];

	memcpy(h.agent_id, agent, AGENT_ID_SIZE);
	buf_init(&frame, 2 * raw->len + 4096);
	if (frame_build(w->cctx, &h, raw->data, raw->len, 1, &frame) < 0) {
		log_error("%s: cannot frame %u records; dropped", s->conf->name, records);
		metrics_add(s->conf->dropped, records);
		buf_free(&frame);
		return;
	}
	for (;;) {
		st = round_trip(w, &frame, reason, sizeof(reason));
		/* The clock stepped back onto a sequence number stored before: the next one will do. */
		if (st == REPLY_CONFLICT) {
			log_warning("%s: batch %" PRIu64 " was stored before with other records (the clock went back); "
				    "sent again", s->conf->name, h.seq);
			h.seq = next_seq(s);
			frame_header_encode(&h, frame.data);
			continue;
		}
		if (st != REPLY_RETRY)
			break;
		if (now_monotonic_us() > __atomic_load_n(&s->give_up_us, __ATOMIC_RELAXED)) {
			log_error("%s: %u records could not be stored before stopping; dropped", s->conf->name, records);
			metrics_add(s->conf->dropped, records);
			break;
		}
		(void)nanosleep(&(struct timespec){ .tv_nsec = 200 * 1000000L }, NULL);
	}
	if (st == REPLY_REJECTED) {
		log_error("%s: ingest refused %u records: %s", s->conf->name, records, reason);
		metrics_add(s->conf->dropped, records);
	}
	buf_free(&frame);
}

/*
 * Takes the oldest puts of one agent (up to BATCH_PUTS_MAX, and
 * BATCH_BYTES_MAX but for the first) off the queue into raw and agent
 * (under lock); how many entries (0: none taken).
 */
static uint32_t take(struct localship *s, struct buf *raw, uint8_t agent[AGENT_ID_SIZE])
{
	uint32_t entries = 0;
	size_t k = 0;

	buf_reset(raw);
	if (!s->n)
		return 0;
	memcpy(agent, at(s, 0)->agent, AGENT_ID_SIZE);
	while (k < MIN(s->n, (size_t)BATCH_PUTS_MAX) && memcmp(at(s, k)->agent, agent, AGENT_ID_SIZE) == 0 &&
	       (k == 0 || raw->len + at(s, k)->len <= BATCH_BYTES_MAX) &&
	       buf_append(raw, at(s, k)->data, at(s, k)->len) == 0) {
		entries += at(s, k)->entries;
		s->bytes -= at(s, k)->len;
		free(at(s, k)->data);
		k++;
	}
	s->head = (s->head + k) % s->max;
	s->n -= k;
	/* A put larger than any batch can hold would stay first for ever. */
	if (!k)
		drop_oldest(s);
	return entries;
}

static void *ship_main(void *arg)
{
	struct sender *w = arg;
	struct localship *s = w->s;
	uint8_t agent[AGENT_ID_SIZE];
	struct buf raw;

	buf_init(&raw, BATCH_BYTES_MAX + 64 * 1024 * 1024);
	pthread_mutex_lock(&s->lock);
	for (;;) {
		uint32_t entries;

		while (!s->n && !s->stopping)
			pthread_cond_wait(&s->cond, &s->lock);
		if (!s->n)
			break;
		if (!s->flush && !s->stopping && s->n < BATCH_PUTS_MAX && s->conf->linger_ms) {
			struct timespec until = deadline_after_ms(CLOCK_REALTIME, s->conf->linger_ms);

			(void)pthread_cond_timedwait(&s->cond, &s->lock, &until);
		}
		s->flush = false;
		entries = take(s, &raw, agent);
		pthread_mutex_unlock(&s->lock);
		if (entries)
			send_batch(w, agent, &raw, entries);
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
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	__atomic_store_n(&s->give_up_us, now_monotonic_us() + STOP_FLUSH_MS * 1000, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	for (size_t i = 0; i < s->n_senders; i++) {
		if (s->senders[i].started)
			(void)pthread_join(s->senders[i].thread, NULL);
		/*
		 * The REQ socket is left to the process's exit: closing one can hang
		 * in Debian's libnng 1.5.2 (nng issue #1543, as the agent found).
		 */
		ZSTD_freeCCtx(s->senders[i].cctx);
	}
	while (s->n)
		drop_oldest(s);
	free(s->ring);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int sender_start(struct localship *s, struct sender *w, const char *url)
{
	int rv;

	w->s = s;
	w->cctx = ZSTD_createCCtx();
	if (!w->cctx)
		return -ENOMEM;
	if ((rv = nng_req0_open(&w->sock)) || (rv = nng_socket_set_ms(w->sock, NNG_OPT_RECVTIMEO, REPLY_TIMEOUT_MS)) ||
	    (rv = nng_socket_set_ms(w->sock, NNG_OPT_SENDTIMEO, REPLY_TIMEOUT_MS)) || (rv = nng_dial(w->sock, url, NULL, 0)))
		return log_error_errno(nng_to_errno(rv), "%s: cannot reach ingest at %s: %s", s->conf->name, url,
				       nng_strerror(rv));
	if (pthread_create(&w->thread, NULL, ship_main, w) != 0)
		return -EAGAIN;
	w->started = true;
	return 0;
}

int localship_start(const char *url, const struct localship_conf *c, struct localship **ret)
{
	struct localship *s = calloc(1, sizeof(*s));
	int r = 0;

	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->conf = c;
	s->give_up_us = UINT64_MAX;
	s->max = MAX(c->max_puts, (size_t)1);
	s->ring = calloc(s->max, sizeof(*s->ring));
	if (!s->ring)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < MIN(MAX(c->senders, (size_t)1), (size_t)SENDERS_MAX); i++, s->n_senders++)
		r = sender_start(s, &s->senders[i], url);
	if (r < 0) {
		localship_stop(s);
		return r;
	}
	*ret = s;
	return 0;
}
