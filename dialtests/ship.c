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
#include "common/log.h"
#include "common/macro.h"
#include "common/transport.h"
#include "common/util.h"
#include "dialtests/ship.h"
#include "common/metrics.h"

#define BATCH_RUNS_MAX 256
#define LINGER_MS 100 /* records gather this long into one batch */
#define REPLY_TIMEOUT_MS 10000
#define STOP_FLUSH_MS 5000

/* A queued run's records: their bytes in the queue's buffer, and how many entries. */
struct span {
	size_t off, len;
	uint32_t entries;
};

struct dialship {
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
	uint8_t agent[AGENT_ID_SIZE];
	uint64_t last_seq;
	ZSTD_CCtx *cctx;
};

/* Drops the oldest record to make room (under lock); counted, and logged at most once a minute. */
static void drop_oldest(struct dialship *s)
{
	size_t len = s->spans[0].len;
	uint64_t now = now_monotonic_us();

	memmove(s->queue.data, s->queue.data + len, s->queue.len - len);
	s->queue.len -= len;
	memmove(s->spans, s->spans + 1, (s->n - 1) * sizeof(*s->spans));
	s->n--;
	for (size_t i = 0; i < s->n; i++)
		s->spans[i].off -= len;
	metrics_add(&metrics.dialtest_results_dropped, 1);
	if (now - s->dropped_logged_us > 60 * USEC_PER_SEC) {
		s->dropped_logged_us = now;
		log_warning("dialtests: %zu results wait to be stored; dropping the oldest (see "
			    "vigil_dialtest_results_dropped_total)", s->max);
	}
}

void dialship_put(struct dialship *s, const struct buf *records, uint32_t entries)
{
	pthread_mutex_lock(&s->lock);
	if (s->n == s->max)
		drop_oldest(s);
	if (buf_append(&s->queue, records->data, records->len) == 0) {
		s->spans[s->n++] = (struct span){ s->queue.len - records->len, records->len, entries };
		pthread_cond_signal(&s->cond);
	} else {
		metrics_add(&metrics.dialtest_results_dropped, 1);
		log_warning("dialtests: no room for a result of %zu bytes; dropped", records->len);
	}
	pthread_mutex_unlock(&s->lock);
}

void dialship_flush(struct dialship *s)
{
	pthread_mutex_lock(&s->lock);
	s->flush = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/*
 * Sends raw (records entries, of runs results) as one batch until it is
 * stored; false when stopping cut it short.
 */
static bool send_batch(struct dialship *s, const struct buf *raw, uint32_t records, uint32_t runs, uint64_t give_up_us)
{
	/* The seq only has to grow, across restarts too: the clock does that for us. */
	struct frame_header h = { .version = FRAME_VERSION, .seq = MAX(now_realtime_us(), s->last_seq + 1),
				  .records = records, .raw_len = (uint32_t)raw->len, .created_us = now_realtime_us() };
	struct buf frame;
	bool done = false;

	s->last_seq = h.seq;
	memcpy(h.agent_id, s->agent, AGENT_ID_SIZE);
	buf_init(&frame, 2 * raw->len + 4096);
	if (frame_build(s->cctx, &h, raw->data, raw->len, 1, &frame) < 0) {
		log_error("dialtests: cannot frame %u results; dropped", runs);
		metrics_add(&metrics.dialtest_results_dropped, runs);
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
			log_warning("dialtests: batch %" PRIu64 " was stored before with other results (the clock went "
				    "back); sent again as %" PRIu64, h.seq, h.seq + 1);
			h.seq = s->last_seq = MAX(h.seq, s->last_seq) + 1;
			frame_header_encode(&h, frame.data);
			continue;
		}
		if (done && rep.status == REPLY_REJECTED) {
			log_error("dialtests: ingest refused %u results: %s", runs, rep.reason);
			metrics_add(&metrics.dialtest_results_dropped, runs);
		}
		if (!done && now_monotonic_us() > give_up_us) {
			log_error("dialtests: %u results could not be stored before stopping; dropped", runs);
			metrics_add(&metrics.dialtest_results_dropped, runs);
			break;
		}
		if (!done)
			(void)nanosleep(&(struct timespec){ .tv_nsec = 200 * 1000000L }, NULL);
	}
	buf_free(&frame);
	return done;
}

/* Takes up to BATCH_RUNS_MAX runs' records off the queue into raw (under lock); how many runs, and entries. */
static uint32_t take(struct dialship *s, struct buf *raw, uint32_t *entries)
{
	size_t k = MIN(s->n, (size_t)BATCH_RUNS_MAX), len = k ? s->spans[k - 1].off + s->spans[k - 1].len : 0;

	buf_reset(raw);
	*entries = 0;
	if (k == 0 || buf_append(raw, s->queue.data, len) < 0)
		return 0;
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
	struct dialship *s = arg;
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
		if (!s->flush && !s->stopping && s->n < BATCH_RUNS_MAX) {
			struct timespec until = deadline_after_ms(CLOCK_REALTIME, LINGER_MS);

			(void)pthread_cond_timedwait(&s->cond, &s->lock, &until);
		}
		s->flush = false;
		k = take(s, &raw, &entries);
		pthread_mutex_unlock(&s->lock);
		if (k)
			(void)send_batch(s, &raw, entries, k, give_up);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	buf_free(&raw);
	return NULL;
}

void dialship_stop(struct dialship *s)
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

int dialship_start(const char *url, const uint8_t agent[16], size_t max_records, struct dialship **ret)
{
	struct dialship *s = calloc(1, sizeof(*s));
	int rv, r = 0;

	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	buf_init(&s->queue, max_records * 64 * 1024);
	s->max = max_records;
	s->spans = calloc(max_records, sizeof(*s->spans));
	s->cctx = ZSTD_createCCtx();
	memcpy(s->agent, agent, AGENT_ID_SIZE);
	if (!s->spans || !s->cctx)
		r = -ENOMEM;
	if (r == 0 && ((rv = nng_req0_open(&s->sock)) || (rv = nng_socket_set_ms(s->sock, NNG_OPT_RECVTIMEO, REPLY_TIMEOUT_MS)) ||
		       (rv = nng_socket_set_ms(s->sock, NNG_OPT_SENDTIMEO, REPLY_TIMEOUT_MS)) ||
		       (rv = nng_dial(s->sock, url, NULL, 0))))
		r = log_error_errno(nng_to_errno(rv), "dialtests: cannot reach ingest at %s: %s", url, nng_strerror(rv));
	if (r == 0 && pthread_create(&s->thread, NULL, ship_main, s) != 0)
		r = -EAGAIN;
	s->started = r == 0;
	if (r < 0) {
		dialship_stop(s);
		return r;
	}
	*ret = s;
	return 0;
}
