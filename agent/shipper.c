/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/eventfd.h>

#include "common/confmsg.h"
#include "common/frame.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/transport.h"
#include "common/util.h"
#include "agent/shipper.h"

/* Touched on the event loop only. */
enum slot_state {
	SLOT_IDLE,
	SLOT_BUSY, /* nng owns the slot until its completion is posted */
	SLOT_BACKOFF,
};

struct slot {
	struct shipper *sh;
	nng_ctx ctx;
	nng_aio *aio;
	enum slot_state state;
	bool receiving; /* nng thread's stage; set before each send */
	uint64_t seq;
	uint32_t records;
	unsigned attempts;
	int result;     /* nng error of the finished exchange */
	nng_msg *reply; /* owned by the slot between posting and handling */
	sd_event_source *retry;
	struct slot *next_done;
	bool control; /* the config requests' slot, not a batch's */
};

struct shipper {
	const struct agent_conf *conf;
	struct spool *spool;
	sd_event *event;
	nng_socket sock;
	struct slot *slots; /* the batches', then the config requests' */
	size_t n_slots;     /* of batches */
	uint64_t picked; /* highest seq handed to a slot */
	int efd;
	sd_event_source *efd_source;
	pthread_mutex_t lock;
	struct slot *done; /* completions posted by nng threads, under lock */
	/*
	 * Pipes up, counted by nng's pipe callbacks. Allocated apart: the
	 * socket outlives the shipper (see shipper_free), and its callbacks
	 * keep counting here; nng's socket holds the pointer until exit.
	 */
	atomic_uint *connected;
	struct shipper_stats stats;
	void (*drained)(void *userdata);
	void *userdata;
	bool skew_warned;
	void (*generation)(void *ud, uint32_t generation);
	void (*config_done)(void *ud, const struct config_reply *rep, int err);
	void *config_ud;
};

static void post(struct slot *sl, int result, nng_msg *reply)
{
	struct shipper *sh = sl->sh;
	uint64_t one = 1;

	sl->result = result;
	sl->reply = reply;
	pthread_mutex_lock(&sh->lock);
	sl->next_done = sh->done;
	sh->done = sl;
	pthread_mutex_unlock(&sh->lock);
	if (write(sh->efd, &one, sizeof(one)) < 0)
		log_warning("shipper: eventfd write failed, ignoring.");
}

/* Runs on an nng thread: touches only the slot's aio and the done list. */
static void slot_cb(void *arg)
{
	struct slot *sl = arg;
	int rv = nng_aio_result(sl->aio);

	if (!sl->receiving) {
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(sl->aio));
			post(sl, rv, NULL);
			return;
		}
		sl->receiving = true;
		nng_ctx_recv(sl->ctx, sl->aio);
		return;
	}
	post(sl, rv, rv == 0 ? nng_aio_get_msg(sl->aio) : NULL);
}

/* len bytes of data as sl's request: nng owns the slot until its completion is posted. */
static int slot_post(struct slot *sl, const void *data, size_t len)
{
	nng_msg *m;
	int rv = nng_msg_alloc(&m, 0);

	if (rv == 0)
		rv = nng_msg_append(m, data, len);
	if (rv) {
		nng_msg_free(m);
		sl->state = SLOT_IDLE;
		return nng_to_errno(rv);
	}
	sl->state = SLOT_BUSY;
	sl->receiving = false;
	nng_aio_set_msg(sl->aio, m);
	nng_aio_set_timeout(sl->aio, (nng_duration)sl->sh->conf->collector.timeout_ms);
	nng_ctx_send(sl->ctx, sl->aio);
	return 0;
}

static int slot_send(struct slot *sl)
{
	struct shipper *sh = sl->sh;
	struct spool_batch b;
	int r;

	r = spool_next_batch(sh->spool, sl->seq - 1, &b);
	if (r < 0 || b.seq != sl->seq) {
		if (r == 0)
			free(b.frame);
		/* Gone already (acked by an earlier attempt): nothing to send. */
		sl->state = SLOT_IDLE;
		return r == -ENOENT || r == 0 ? 0 : r;
	}
	sl->records = b.records;
	r = slot_post(sl, b.frame, b.len);
	free(b.frame);
	return r;
}

void shipper_kick(struct shipper *sh)
{
	for (size_t i = 0; sh && i < sh->n_slots; i++) {
		struct slot *sl = &sh->slots[i];
		uint64_t seq;

		if (sl->state != SLOT_IDLE)
			continue;
		if (spool_next_pending(sh->spool, sh->picked, &seq) < 0)
			return;
		sh->picked = seq;
		sl->seq = seq;
		sl->attempts = 0;
		if (slot_send(sl) < 0)
			log_warning("shipper: cannot send batch %" PRIu64 ", will retry.", sl->seq);
	}
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct slot *sl = userdata;

	sl->retry = sd_event_source_disable_unref(sl->retry);
	if (slot_send(sl) < 0)
		log_warning("shipper: cannot resend batch %" PRIu64 ", will retry.", sl->seq);
	shipper_kick(sl->sh);
	return 0;
}

static void backoff(struct slot *sl, uint64_t delay_ms)
{
	struct shipper *sh = sl->sh;
	uint64_t exp = 100u << MIN(sl->attempts, 16u);
	int r;

	if (!delay_ms)
		delay_ms = MIN(exp, sh->conf->collector.backoff_max_ms);
	sl->attempts++;
	sh->stats.retries++;
	sl->state = SLOT_BACKOFF;
	r = sd_event_add_time_relative(sh->event, &sl->retry, CLOCK_MONOTONIC, delay_ms * 1000, 0,
				       on_retry, sl);
	if (r < 0) {
		log_error_errno(r, "shipper: cannot arm retry timer: %m");
		sl->state = SLOT_IDLE;
		sh->picked = MIN(sh->picked, sl->seq - 1);
	}
}

static void check_skew(struct shipper *sh, const struct reply *rep)
{
	int64_t skew = (int64_t)rep->server_time_us - (int64_t)now_realtime_us();

	sh->stats.skew_us = skew;
	if ((skew > 5000000 || skew < -5000000) && !sh->skew_warned) {
		log_warning("collector %s: clocks differ by %.1f s; record times are this host's.",
			    sh->conf->collector.t.address, (double)skew / 1e6);
		sh->skew_warned = true;
	}
}

/* Kept: once the identity is sorted out (see vigil-agent(8)), the batch is delivered. */
static void refused(struct slot *sl, const struct reply *rep)
{
	struct shipper *sh = sl->sh;
	bool conflict = rep->status == REPLY_CONFLICT;

	log_error("collector %s: batch %" PRIu64 " refused: %s; %s; kept, retrying", sh->conf->collector.t.address,
		  sl->seq, rep->reason,
		  conflict ? "another host uses this agent's id: run 'vigil-agent --new-id' on one of them (see vigil-agent(8))"
			   : "under TLS the collector refuses this agent's certificate or knows its id by another one"
			     " (see vigil-agent(8))");
	spool_count(sh->spool, conflict ? SPOOL_CTR_BATCHES_CONFLICT : SPOOL_CTR_BATCHES_REFUSED, 1);
	if (conflict) {
		sh->stats.conflicts++;
		sh->stats.conflict_us = now_monotonic_us();
	} else {
		sh->stats.refusals++;
		sh->stats.refusal_us = now_monotonic_us();
	}
	backoff(sl, MAX(rep->retry_after_ms, 1000u));
}

static void handle_reply(struct slot *sl, nng_msg *m)
{
	struct shipper *sh = sl->sh;
	struct reply rep;
	int r = reply_decode(nng_msg_body(m), nng_msg_len(m), &rep);

	if (r < 0 || rep.seq != sl->seq) {
		log_warning("collector %s: malformed reply to batch %" PRIu64 ", will retry.",
			    sh->conf->collector.t.address, sl->seq);
		backoff(sl, 0);
		return;
	}
	check_skew(sh, &rep);
	if (rep.config_version && sh->generation)
		sh->generation(sh->config_ud, rep.config_version);
	switch (rep.status) {
	case REPLY_STORED:
	case REPLY_DUPLICATE:
		if (rep.status == REPLY_DUPLICATE) {
			sh->stats.duplicates++;
			spool_count(sh->spool, SPOOL_CTR_BATCHES_DUPLICATE, 1);
		}
		sh->stats.acked++;
		spool_count(sh->spool, SPOOL_CTR_BATCHES_ACKED, 1);
		(void)spool_ack(sh->spool, sl->seq);
		sl->state = SLOT_IDLE;
		break;
	case REPLY_RETRY:
		backoff(sl, MAX(rep.retry_after_ms, 100u));
		return;
	case REPLY_CONFLICT:
	case REPLY_REFUSED:
		refused(sl, &rep);
		return;
	case REPLY_REJECTED:
		log_error("collector %s: rejected batch %" PRIu64 " (%u records): %s; moved to quarantine",
			  sh->conf->collector.t.address, sl->seq, sl->records, rep.reason);
		spool_count(sh->spool, SPOOL_CTR_BATCHES_QUARANTINED, 1);
		spool_count(sh->spool, SPOOL_CTR_RECORDS_QUARANTINED, sl->records);
		sh->stats.quarantined++;
		if (spool_quarantine(sh->spool, sl->seq, rep.reason) < 0)
			log_error("shipper: cannot quarantine batch %" PRIu64, sl->seq);
		sl->state = SLOT_IDLE;
		break;
	default:
		log_warning("collector %s: reply %u to batch %" PRIu64 " is none this agent knows (%s), will retry.",
			    sh->conf->collector.t.address, rep.status, sl->seq, rep.reason);
		backoff(sl, MAX(rep.retry_after_ms, 1000u));
		return;
	}
	if (sh->drained)
		sh->drained(sh->userdata);
}

/* The config request's answer, handed to whoever asked. */
static void handle_config(struct slot *sl, nng_msg *m)
{
	struct shipper *sh = sl->sh;
	struct config_reply rep;
	int r = nng_to_errno(sl->result);

	sl->state = SLOT_IDLE;
	if (r == 0)
		r = config_reply_decode(nng_msg_body(m), nng_msg_len(m), &rep);
	if (sh->config_done)
		sh->config_done(sh->config_ud, r == 0 ? &rep : NULL, r);
	nng_msg_free(m);
}

static void handle_done(struct slot *sl)
{
	struct shipper *sh = sl->sh;
	nng_msg *m = TAKE_PTR(sl->reply);

	if (sl->control) {
		handle_config(sl, m);
		return;
	}

	if (sl->result == NNG_ECLOSED || sl->result == NNG_ECANCELED) {
		nng_msg_free(m);
		sl->state = SLOT_IDLE;
		return;
	}
	if (sl->result != 0) {
		log_debug("collector %s: batch %" PRIu64 ": %s, will retry.", sh->conf->collector.t.address,
			  sl->seq, nng_strerror(sl->result));
		backoff(sl, 0);
		return;
	}
	handle_reply(sl, m);
	nng_msg_free(m);
}

static int on_eventfd(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct shipper *sh = userdata;
	struct slot *list, *next;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return log_error_errno(errno, "shipper: eventfd read: %m");
	pthread_mutex_lock(&sh->lock);
	list = TAKE_PTR(sh->done);
	pthread_mutex_unlock(&sh->lock);
	for (; list; list = next) {
		next = list->next_done;
		handle_done(list);
	}
	shipper_kick(sh);
	return 0;
}

static void pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	atomic_uint *connected = arg;

	if (ev == NNG_PIPE_EV_ADD_POST)
		atomic_fetch_add(connected, 1);
	else if (ev == NNG_PIPE_EV_REM_POST)
		atomic_fetch_sub(connected, 1);
}

static int open_socket(struct shipper *sh)
{
	int rv;

	sh->connected = calloc(1, sizeof(*sh->connected));
	if (!sh->connected)
		return -ENOMEM;
	rv = nng_req0_open(&sh->sock);
	if (rv) {
		free(TAKE_PTR(sh->connected));
		return log_error_errno(nng_to_errno(rv), "shipper: cannot open socket: %s", nng_strerror(rv));
	}
	/* Resends are ours (with backoff and the spool as the source of truth). */
	(void)nng_socket_set_ms(sh->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	(void)nng_pipe_notify(sh->sock, NNG_PIPE_EV_ADD_POST, pipe_cb, sh->connected);
	(void)nng_pipe_notify(sh->sock, NNG_PIPE_EV_REM_POST, pipe_cb, sh->connected);
	return transport_dial(sh->sock, &sh->conf->collector.t);
}

static int open_slots(struct shipper *sh)
{
	sh->n_slots = sh->conf->collector.inflight;
	sh->slots = calloc(sh->n_slots + 1, sizeof(*sh->slots));
	if (!sh->slots)
		return -ENOMEM;
	for (size_t i = 0; i <= sh->n_slots; i++) {
		struct slot *sl = &sh->slots[i];
		int rv;

		sl->sh = sh;
		sl->control = i == sh->n_slots;
		rv = nng_ctx_open(&sl->ctx, sh->sock);
		if (rv == 0)
			rv = nng_aio_alloc(&sl->aio, slot_cb, sl);
		if (rv)
			return nng_to_errno(rv);
	}
	return 0;
}

int shipper_new(sd_event *event, const struct agent_conf *conf, struct spool *spool,
		void (*drained)(void *userdata), void *userdata, struct shipper **ret)
{
	struct shipper *sh = calloc(1, sizeof(*sh));
	int r;

	if (!sh)
		return -ENOMEM;
	sh->conf = conf;
	sh->spool = spool;
	sh->event = event;
	sh->drained = drained;
	sh->userdata = userdata;
	sh->efd = -1;
	pthread_mutex_init(&sh->lock, NULL);
	sh->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sh->efd < 0) {
		r = -errno;
		goto fail;
	}
	r = sd_event_add_io(event, &sh->efd_source, sh->efd, EPOLLIN, on_eventfd, sh);
	if (r < 0)
		goto fail;
	r = open_socket(sh);
	if (r < 0)
		goto fail;
	r = open_slots(sh);
	if (r < 0)
		goto fail;
	*ret = sh;
	shipper_kick(sh);
	return 0;
fail:
	shipper_free(sh);
	return r;
}

void shipper_free(struct shipper *sh)
{
	if (!sh)
		return;
	/*
	 * The socket is left open, to close when the process exits: libnng
	 * 1.5.2's nng_close can wait forever when a REQ context's operation was
	 * being set up as the socket closed (nng issue #1543; the agent hung at
	 * shutdown and at reloads). Stopping each aio aborts its operation and
	 * waits for its callback; none runs after that, so the slots can go.
	 */
	for (size_t i = 0; sh->slots && i <= sh->n_slots; i++)
		if (sh->slots[i].aio)
			nng_aio_stop(sh->slots[i].aio);
	for (size_t i = 0; sh->slots && i <= sh->n_slots; i++) {
		struct slot *sl = &sh->slots[i];
		if (sl->aio)
			nng_aio_free(sl->aio);
		sd_event_source_disable_unref(sl->retry);
	}
	for (struct slot *d = sh->done; d; d = d->next_done)
		nng_msg_free(TAKE_PTR(d->reply));
	free(sh->slots);
	sd_event_source_disable_unref(sh->efd_source);
	if (sh->efd >= 0)
		(void)close(sh->efd);
	pthread_mutex_destroy(&sh->lock);
	free(sh);
}

void shipper_set_conf(struct shipper *sh, const struct agent_conf *conf)
{
	sh->conf = conf;
}

void shipper_get_stats(const struct shipper *sh, struct shipper_stats *ret)
{
	*ret = sh->stats;
	ret->connected = sh->connected ? atomic_load(sh->connected) : 0;
}

void shipper_on_config(struct shipper *sh, void (*generation)(void *ud, uint32_t generation),
		       void (*done)(void *ud, const struct config_reply *rep, int err), void *ud)
{
	sh->generation = generation;
	sh->config_done = done;
	sh->config_ud = ud;
}

int shipper_ask_config(struct shipper *sh, const struct config_request *q)
{
	struct slot *sl = &sh->slots[sh->n_slots];
	uint8_t out[CONFREQ_HEADER_SIZE + CONFREQ_LABELS_MAX];

	if (sl->state != SLOT_IDLE)
		return -EBUSY;
	return slot_post(sl, out, config_request_encode(q, out));
}
