/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "common/log.h"
#include "common/macro.h"
#include "common/hash.h"
#include "common/tls.h"
#include "common/transport.h"
#include "common/util.h"
#include "store/ingest.h"
#include "common/confmsg.h"
#include "common/metrics.h"
#include "store/verify.h"

#define RETENTION_INTERVAL_US (3600 * USEC_PER_SEC)
/* An agent past [ingest] per_agent batches at the writer asks again after this. */
#define PER_AGENT_RETRY_MS 200
/* A refused agent asks again this often: the conflict shows as long as both hosts send. */
#define CONFLICT_RETRY_MS 60000

struct job {
	struct ingest *in;
	nng_ctx ctx;
	nng_aio *aio;
	bool sending;
	nng_msg *msg; /* the request, kept while its block is stored */
	ZSTD_DCtx *dctx;
	struct buf raw;
	struct batch_info info;
	struct logmatch *logmatch; /* a reference to the rules info was matched with, kept until the next batch */
	struct logmetrics *logmetrics; /* the same, of the log metrics its rows are of */
	struct block_in block;
	char agent_hex[33];
	char peer[TLS_PEER_NAME_MAX + 1]; /* the name of the TLS certificate the batch came with, or "" */
	bool relayed; /* came on INGEST_RELAY_URL */
	bool holding; /* its batch waits for or is at the writer; under the ingest's lock */
	struct job *next;
};

/* The most batches one group commit stores. */
#define GROUP_MAX 1024

/* Batches stored together, from the writer to the sharer. */
struct group {
	struct job *jobs[GROUP_MAX];          /* as queued: the newest first */
	struct block_in *blocks[GROUP_MAX];   /* their blocks, in arrival order */
	size_t n;
	uint32_t day;
	int own; /* storage_store_own()'s result */
	uint64_t us; /* the time the group took to store so far */
};

struct ingest {
	const struct ingest_conf *conf;
	const struct storage_conf *storage_conf;
	struct ingest_rules rules;
	struct storage *storage;
	nng_socket sock;
	bool sock_open;
	bool tls; /* agents are known by their certificates */
	struct job *jobs;
	size_t n_jobs;
	struct frame_limits flim;
	struct export_limits elim;
	pthread_t writer, sharer;
	bool writer_started, sharer_started;
	/*
	 * The writer stores a group in this collector's own store and hands it
	 * to the sharer, which stores it in the shared one and answers its
	 * agents, while the writer goes on with the next group in the other.
	 */
	struct group groups[2];
	struct group *handed; /* under lock: the group at the sharer, until answered */
	bool writer_done;     /* under lock: nothing more will be handed */
	pthread_cond_t handed_cond;
	nng_listener local; /* INGEST_LOCAL_URL: what comes in on it is the collector's own */
	nng_listener relay; /* INGEST_RELAY_URL: what the collector relays for devices */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *queue; /* verified jobs for the writer, under lock */
	void (*on_stored)(void *userdata); /* under lock */
	void *on_stored_data;
	bool stopping;
};

/* Whether a message logged at most once a minute (*last: when it was, on any thread) is due now. */
static bool once_a_minute(atomic_uint_fast64_t *last_logged)
{
	uint64_t now = now_monotonic_us(), last = atomic_load(last_logged);

	return now - last >= 60 * USEC_PER_SEC && atomic_compare_exchange_strong(last_logged, &last, now);
}

/* len bytes of data as the answer to j's request. */
static void send_bytes(struct job *j, const void *data, size_t len)
{
	nng_msg *m;

	if (nng_msg_alloc(&m, 0) != 0 || nng_msg_append(m, data, len) != 0) {
		/* Without a reply the agent times out and resends: nothing is lost. */
		log_error("ingest: cannot allocate a reply");
		nng_msg_free(m);
		j->sending = false;
		nng_ctx_recv(j->ctx, j->aio);
		return;
	}
	j->sending = true;
	nng_aio_set_msg(j->aio, m);
	nng_ctx_send(j->ctx, j->aio);
}

static void send_reply(struct job *j, uint16_t status, uint64_t seq, uint32_t retry_ms, const char *reason)
{
	uint8_t out[REPLY_HEADER_SIZE + REPLY_REASON_MAX];
	const struct ingest_rules *rules = &j->in->rules;
	struct reply rep = { .status = status, .seq = seq, .server_time_us = now_realtime_us(),
			     .retry_after_ms = retry_ms,
			     .config_version = rules->config_generation ? rules->config_generation(rules->config_ctx) : 0 };
	size_t n;

	(void)snprintf(rep.reason, sizeof(rep.reason), "%s", reason ? reason : "");
	n = reply_encode(&rep, out);
	send_bytes(j, out, n);
}

/* On an nng thread: an agent asks for its configuration; answered at once, nothing stored. */
static void answer_config(struct job *j)
{
	static atomic_uint_fast64_t config_failed;
	const struct ingest_rules *rules = &j->in->rules;
	struct config_request q;
	struct config_reply rep = { .status = CONFIG_UNAVAILABLE };
	struct buf text, tests, out;
	int r = config_request_decode(nng_msg_body(j->msg), nng_msg_len(j->msg), &q);

	nng_msg_free(TAKE_PTR(j->msg));
	buf_init(&text, CONFIG_TEXT_MAX);
	buf_init(&tests, CONFIG_TESTS_MAX);
	buf_init(&out, CONFREP_HEADER_SIZE + CONFIG_TEXT_MAX + CONFIG_TESTS_MAX);
	if (r < 0) {
		metrics_add(&metrics.config_bad, 1);
		/* A batch reply the asker cannot take for its answer: it asks again later. */
		send_reply(j, REPLY_REJECTED, 0, 0, "malformed config request");
		goto out;
	}
	if (rules->config_compose) {
		rep.generation = rules->config_generation(rules->config_ctx);
		hex_encode(q.agent_id, AGENT_ID_SIZE, j->agent_hex);
		r = rules->config_compose(rules->config_ctx, q.labels, j->agent_hex, &text,
					  q.takes_dialtests ? &tests : NULL, &rep.version);
		rep.status = r == CONFIG_OK || r == CONFIG_NONE ? (uint16_t)r : CONFIG_UNAVAILABLE;
		if (r < 0 && once_a_minute(&config_failed))
			log_warning("ingest: cannot compose the configuration of agent %s: %s; answered \"unavailable\" "
				    "(vigil_ingest_config_requests_total; logged once a minute)", j->agent_hex, strerror(-r));
		rep.text = text.data;
		rep.text_len = text.len;
		rep.tests = tests.data;
		rep.tests_len = tests.len;
	}
	metrics_add(rep.status == CONFIG_OK ? &metrics.config_ok :
		    rep.status == CONFIG_NONE ? &metrics.config_none : &metrics.config_unavailable, 1);
	if (config_reply_encode(&rep, &out) < 0) {
		rep = (struct config_reply){ .status = CONFIG_UNAVAILABLE, .generation = rep.generation };
		buf_reset(&out);
		(void)config_reply_encode(&rep, &out);
	}
	send_bytes(j, out.data, out.len);
out:
	buf_free(&text);
	buf_free(&tests);
	buf_free(&out);
}

static bool no_agent_runs(void *ctx, uint64_t id)
{
	(void)ctx;
	(void)id;
	return false;
}

static void reject(struct job *j, enum frame_error e, uint64_t seq)
{
	char reason[128];

	/* Our own trouble (memory) is not the batch's fault: the agent retries it. */
	if (e == FRAME_ERR_STORAGE) {
		nng_msg_free(TAKE_PTR(j->msg));
		metrics_add(&metrics.batches_retry, 1);
		send_reply(j, REPLY_RETRY, seq, 1000, "collector short of memory");
		return;
	}
	metrics_add(&metrics.batches_rejected, 1);
	metrics_add(&metrics.errors[e], 1);
	(void)snprintf(reason, sizeof(reason), "%s", frame_error_name(e));
	log_warning("ingest: rejected batch %s/%" PRIu64 ": %s", j->agent_hex[0] ? j->agent_hex : "?", seq,
		    reason);
	nng_msg_free(TAKE_PTR(j->msg));
	send_reply(j, REPLY_REJECTED, seq, 0, reason);
}

/*
 * The batches of agent waiting for or at the writer (under in->lock): an
 * agent holds at most [ingest] per_agent of the contexts, so no one agent
 * keeps the others from them.
 */
static uint64_t holding(struct ingest *in, const uint8_t agent[AGENT_ID_SIZE])
{
	uint64_t n = 0;

	for (size_t i = 0; i < in->n_jobs; i++)
		n += in->jobs[i].holding && memcmp(in->jobs[i].block.agent, agent, AGENT_ID_SIZE) == 0;
	return n;
}

/* Counts and logs (at most once a minute) what a stored batch's derived rows left out. */
static void note_cut(const struct job *j, uint64_t seq)
{
	static atomic_uint_fast64_t last_logged;
	const struct verify_cut *c = &j->info.cut;

	if (!c->metric_rows && !c->probe_rows && !c->message_bytes && !c->inventory_fields && !c->future_times &&
	    !c->logmetric_series)
		return;
	metrics_add(&metrics.cut_logmetric_series, c->logmetric_series);
	metrics_add(&metrics.cut_future_times, c->future_times);
	metrics_add(&metrics.cut_metric_rows, c->metric_rows);
	metrics_add(&metrics.cut_probe_rows, c->probe_rows);
	metrics_add(&metrics.cut_message_bytes, c->message_bytes);
	metrics_add(&metrics.cut_inventory_fields, c->inventory_fields);
	if (!once_a_minute(&last_logged))
		return;
	log_warning("ingest: batch %s/%" PRIu64 " is stored whole, but past the limits of what one batch may add to "
		    "the rows derived from it: %" PRIu64 " metric values, %" PRIu64 " probe results, %" PRIu64
		    " bytes of probe messages, %" PRIu64 " inventory fields, %" PRIu64 " log metric series left out; %"
		    PRIu64 " records dated more than 5 minutes ahead took the collector's time (is the agent's clock "
		    "right?) (vigil_ingest_cut_total; logged once a minute).",
		    j->agent_hex, seq, c->metric_rows, c->probe_rows, c->message_bytes, c->inventory_fields,
		    c->logmetric_series, c->future_times);
}

/* Logs a refusal at most once a minute: a peer cannot fill the log by being refused. */
static void log_refused(const struct job *j, uint64_t seq, const char *reason)
{
	static atomic_uint_fast64_t last_logged;

	if (!once_a_minute(&last_logged))
		return;
	log_warning("ingest: refused batch %s/%" PRIu64 ": %s (vigil_ingest_batches_total{result=\"refused\"}; "
		    "logged once a minute)", j->agent_hex, seq, reason);
}

/* Answers that the batch is not this peer's to send, counted in counter: the agent keeps it and asks again later. */
static void refuse(struct job *j, uint64_t seq, atomic_uint_fast64_t *counter, const char *reason)
{
	metrics_add(counter, 1);
	log_refused(j, seq, reason);
	nng_msg_free(TAKE_PTR(j->msg));
	send_reply(j, REPLY_REFUSED, seq, CONFLICT_RETRY_MS, reason);
}

/*
 * Under TLS, sets j->peer to the name of the certificate the batch came
 * with; true if the batch was answered instead (its peer is gone, the
 * certificate names nothing an agent could be known by, or it was revoked).
 */
static bool peer_unknown(struct job *j, uint64_t seq)
{
	const struct ingest_rules *rules = &j->in->rules;
	struct tls_peer peer;
	char why[128];
	int r;

	j->peer[0] = 0;
	if (!j->in->tls || j->info.local || j->relayed)
		return false;
	r = tls_peer(nng_msg_get_pipe(j->msg), &peer);
	if (r == -EPIPE) {
		/* No one to answer: the agent resends on its next connection. */
		nng_msg_free(TAKE_PTR(j->msg));
		nng_ctx_recv(j->ctx, j->aio);
		return true;
	}
	if (r == 0 && rules->revoked && rules->revoked(rules->revoked_ctx, peer.serial)) {
		(void)snprintf(why, sizeof(why), "the client certificate (serial %s) was revoked", peer.serial);
		refuse(j, seq, &metrics.batches_revoked, why);
		return true;
	}
	if (r == 0 && peer.name[0]) {
		memcpy(j->peer, peer.name, sizeof(j->peer));
		return false;
	}
	refuse(j, seq, &metrics.batches_refused,
	       "the client certificate names no host (no CN or DNS name in printable ASCII)");
	return true;
}

/* On an nng thread: everything about a batch that needs no database. */
static void verify(struct job *j)
{
	struct ingest *in = j->in;
	size_t len = nng_msg_len(j->msg);
	struct frame_header h = { 0 };
	enum frame_error e;
	uint64_t now = now_realtime_us();
	bool relay;

	metrics_add(&metrics.bytes_in, len);
	j->agent_hex[0] = 0;
	if (confmsg_magic(nng_msg_body(j->msg), len) == CONFREQ_MAGIC) {
		/* Under TLS only from a certificate that names a host, and not a revoked one. */
		if (!peer_unknown(j, 0))
			answer_config(j);
		return;
	}
	e = frame_open(j->dctx, nng_msg_body(j->msg), len, &in->flim, &h, &j->raw);
	if (e == FRAME_OK || e > FRAME_ERR_VERSION)
		hex_encode(h.agent_id, AGENT_ID_SIZE, j->agent_hex);
	logmatch_unref(j->logmatch);
	logmetrics_unref(j->logmetrics);
	j->logmatch = in->rules.now(in->rules.ctx);
	j->logmetrics = in->rules.metrics_now(in->rules.ctx);
	j->info.local = nng_listener_id(nng_pipe_listener(nng_msg_get_pipe(j->msg))) == nng_listener_id(in->local);
	j->relayed = nng_listener_id(nng_pipe_listener(nng_msg_get_pipe(j->msg))) == nng_listener_id(in->relay);
	j->info.relayed = j->relayed;
	j->info.dialtest_on_agents = in->rules.dialtest_on_agents ? in->rules.dialtest_on_agents : no_agent_runs;
	j->info.dialtest_ctx = in->rules.dialtests_ctx;
	if (e == FRAME_OK && peer_unknown(j, h.seq))
		return;
	j->info.no_index = !in->conf->index;
	j->info.logmetrics = j->logmetrics;
	if (e == FRAME_OK)
		e = batch_verify(j->raw.data, j->raw.len, &in->elim, j->logmatch, now, &j->info);
	if (e == FRAME_OK && j->info.records != h.records)
		e = FRAME_ERR_COUNT_MISMATCH;
	if (e != FRAME_OK) {
		reject(j, e, h.seq);
		return;
	}
	j->block = (struct block_in){ .seq = h.seq, .received_us = now, .ts_min = j->info.ts_min,
				      .ts_max = j->info.ts_max, .records = h.records, .raw_len = h.raw_len,
				      .zframe = (const uint8_t *)nng_msg_body(j->msg) + FRAME_HEADER_SIZE,
				      .zlen = len - FRAME_HEADER_SIZE };
	memcpy(j->block.agent, h.agent_id, AGENT_ID_SIZE);
	j->block.local = j->info.local;
	/* Hashed here, in parallel; the writer only chains 32-byte digests. */
	if (hash_digest(storage_hash(j->in->storage), j->block.zframe, j->block.zlen, j->block.digest) < 0) {
		reject(j, FRAME_ERR_STORAGE, h.seq);
		return;
	}
	/* Under TLS the host is the one the certificate names, whatever the records say. */
	j->block.certificate = j->peer[0] ? j->peer : NULL;
	/* A relay's batches may be a device's: their records say which; the certificate still binds the id. */
	relay = j->peer[0] && word_listed(in->conf->relays, j->peer);
	j->block.host = j->peer[0] && !relay ? j->peer : j->info.host[0] ? j->info.host : NULL;
	block_streams_from(&j->block, &j->info);
	j->block.probes = j->info.probes;
	j->block.n_probes = j->info.n_probes;
	j->block.metrics = j->info.metrics;
	j->block.n_metrics = j->info.n_metrics;
	j->block.inventory = j->info.inventory;
	j->block.labels = j->info.labels;
	j->block.logmatch = j->logmatch;
	j->block.hits = j->info.hits;
	j->block.index = j->info.index;
	j->block.index_len = j->info.index_len;
	j->block.logmetric_rows = j->info.logmetric_rows;
	j->block.n_logmetric_rows = j->info.n_logmetric_rows;
	pthread_mutex_lock(&in->lock);
	if (holding(in, h.agent_id) >= in->conf->per_agent) {
		pthread_mutex_unlock(&in->lock);
		nng_msg_free(TAKE_PTR(j->msg));
		metrics_add(&metrics.batches_retry, 1);
		send_reply(j, REPLY_RETRY, h.seq, PER_AGENT_RETRY_MS, "busy with this agent's other batches");
		return;
	}
	j->holding = true;
	j->next = in->queue;
	in->queue = j;
	pthread_cond_signal(&in->cond);
	pthread_mutex_unlock(&in->lock);
}

static void job_cb(void *arg)
{
	struct job *j = arg;
	int rv = nng_aio_result(j->aio);

	if (j->sending) {
		if (rv != 0)
			nng_msg_free(nng_aio_get_msg(j->aio));
		j->sending = false;
	} else if (rv == 0) {
		j->msg = nng_aio_get_msg(j->aio);
		verify(j);
		return;
	}
	if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
		return;
	nng_ctx_recv(j->ctx, j->aio);
}

static void reply_stored(struct job *j)
{
	struct block_in *b = &j->block;
	char reason[640];

	switch (b->result) {
	case BLOCK_STORED:
		note_cut(j, b->seq);
		metrics_add(&metrics.batches_stored, 1);
		metrics_add(&metrics.records_stored, b->records);
		metrics_add(&metrics.raw_bytes_stored, b->raw_len);
		if (b->index)
			metrics_add(&metrics.index_bytes, b->index_len);
		else if (j->in->conf->index)
			metrics_add(&metrics.batches_unindexed, 1);
		send_reply(j, REPLY_STORED, b->seq, 0, NULL);
		break;
	case BLOCK_DUPLICATE:
		metrics_add(&metrics.batches_duplicate, 1);
		log_debug("ingest: batch %s/%" PRIu64 " is a duplicate, acknowledged", j->agent_hex, b->seq);
		send_reply(j, REPLY_DUPLICATE, b->seq, 0, NULL);
		break;
	case BLOCK_CONFLICT:
		metrics_add(&metrics.batches_conflict, 1);
		/* The reply carries what fits of it (REPLY_REASON_MAX); the log all of it. */
		(void)snprintf(reason, sizeof(reason), "agent id conflict: batch %" PRIu64 " is stored from host %s"
			       " with other content; this one is from %s", b->seq, b->conflict_host,
			       b->host ? b->host : "a host that names none");
		log_warning("ingest: refused batch %s/%" PRIu64 ": %s", j->agent_hex, b->seq, reason);
		send_reply(j, REPLY_CONFLICT, b->seq, CONFLICT_RETRY_MS, reason);
		break;
	case BLOCK_REFUSED:
		(void)snprintf(reason, sizeof(reason), "agent id is bound to the certificate of %s; this batch came "
			       "with the certificate of %s", b->bound_certificate, b->certificate);
		refuse(j, b->seq, &metrics.batches_refused, reason);
		break;
	default:
		metrics_add(&metrics.batches_retry, 1);
		send_reply(j, REPLY_RETRY, b->seq, 1000, "storage unavailable");
		break;
	}
}

/* Retention needs the writer's connections, so the writer runs it, hourly. */
static void maybe_retention(struct ingest *in, uint64_t *next_us)
{
	uint64_t now = now_monotonic_us();

	if (now < *next_us)
		return;
	*next_us = now + RETENTION_INTERVAL_US;
	if (storage_retention(in->storage, now_realtime_us(), in->storage_conf->retention_days) < 0)
		log_error("retention: failed, will try again in an hour");
}

/* Waits for queued jobs (or a minute); returns them, NULL when stopping with none. */
static struct job *wait_jobs(struct ingest *in, bool *ret_stop)
{
	struct job *list;
	struct timespec until = deadline_after_ms(CLOCK_REALTIME, 60 * 1000);

	pthread_mutex_lock(&in->lock);
	while (!in->queue && !in->stopping)
		if (pthread_cond_timedwait(&in->cond, &in->lock, &until) == ETIMEDOUT)
			break;
	list = TAKE_PTR(in->queue);
	*ret_stop = in->stopping;
	pthread_mutex_unlock(&in->lock);
	return list;
}

static void tell_stored(struct ingest *in, struct block_in **blocks, size_t n)
{
	bool any = false;

	for (size_t i = 0; i < n && !any; i++)
		any = block_may_alert(blocks[i]);
	pthread_mutex_lock(&in->lock);
	if (any && in->on_stored)
		in->on_stored(in->on_stored_data);
	pthread_mutex_unlock(&in->lock);
}

void ingest_on_stored(struct ingest *in, void (*fn)(void *userdata), void *userdata)
{
	pthread_mutex_lock(&in->lock);
	in->on_stored = fn;
	in->on_stored_data = userdata;
	pthread_mutex_unlock(&in->lock);
}

/* Waits for the sharer to be done with the group it has, then hands it g (NULL: the writer is done). */
static void hand_over(struct ingest *in, struct group *g)
{
	pthread_mutex_lock(&in->lock);
	while (in->handed)
		pthread_cond_wait(&in->handed_cond, &in->lock);
	in->handed = g;
	in->writer_done = !g;
	pthread_cond_broadcast(&in->handed_cond);
	pthread_mutex_unlock(&in->lock);
}

/* The writer: takes every queued batch and stores them as one group in the collector's own store. */
static void *writer_main(void *arg)
{
	struct ingest *in = arg;
	uint64_t next_retention = 0;

	for (unsigned k = 0;; k++) {
		struct group *g = &in->groups[k % ARRAY_SIZE(in->groups)];
		struct job *list;
		bool stop;
		uint64_t t0;

		maybe_retention(in, &next_retention);
		list = wait_jobs(in, &stop);
		if (!list) {
			if (stop)
				break;
			continue;
		}
		/* The queue is LIFO; store in arrival order. */
		for (g->n = 0; list && g->n < GROUP_MAX; list = list->next)
			g->jobs[g->n++] = list;
		for (size_t i = 0; i < g->n; i++)
			g->blocks[i] = &g->jobs[g->n - 1 - i]->block;
		t0 = now_monotonic_us();
		g->own = storage_store_own(in->storage, g->blocks, g->n, &g->day);
		g->us = now_monotonic_us() - t0;
		hand_over(in, g);
	}
	hand_over(in, NULL);
	return NULL;
}

/* The group the writer hands over, NULL when it is done. */
static struct group *wait_handed(struct ingest *in)
{
	struct group *g;

	pthread_mutex_lock(&in->lock);
	while (!in->handed && !in->writer_done)
		pthread_cond_wait(&in->handed_cond, &in->lock);
	g = in->handed;
	pthread_mutex_unlock(&in->lock);
	return g;
}

/* The sharer: stores each group in the shared store (if any), then answers its agents. */
static void *sharer_main(void *arg)
{
	struct ingest *in = arg;
	struct group *g;

	while ((g = wait_handed(in))) {
		uint64_t t0 = now_monotonic_us();

		if (storage_store_shared(in->storage, g->own, g->day, g->blocks, g->n) < 0)
			log_error("ingest: storing %zu batches failed; agents will retry", g->n);
		metrics_add(&metrics.commits, 1);
		metrics_add(&metrics.commit_us, g->us + now_monotonic_us() - t0);
		tell_stored(in, g->blocks, g->n);
		pthread_mutex_lock(&in->lock);
		for (size_t i = 0; i < g->n; i++)
			g->jobs[i]->holding = false;
		pthread_mutex_unlock(&in->lock);
		for (size_t i = 0; i < g->n; i++) {
			struct job *j = g->jobs[g->n - 1 - i];
			nng_msg_free(TAKE_PTR(j->msg));
			reply_stored(j);
		}
		/* Only now may the writer fill g again. */
		pthread_mutex_lock(&in->lock);
		in->handed = NULL;
		pthread_cond_broadcast(&in->handed_cond);
		pthread_mutex_unlock(&in->lock);
	}
	return NULL;
}

static void pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	if (ev == NNG_PIPE_EV_ADD_POST) {
		metrics_add(&metrics.connections, 1);
		atomic_fetch_add(&metrics.connections_active, 1);
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		atomic_fetch_sub(&metrics.connections_active, 1);
	}
}

static int open_jobs(struct ingest *in)
{
	in->n_jobs = in->conf->contexts;
	in->jobs = calloc(in->n_jobs, sizeof(*in->jobs));
	if (!in->jobs)
		return -ENOMEM;
	for (size_t i = 0; i < in->n_jobs; i++) {
		struct job *j = &in->jobs[i];
		int rv;

		j->in = in;
		buf_init(&j->raw, in->flim.max_raw);
		j->dctx = ZSTD_createDCtx();
		if (!j->dctx)
			return -ENOMEM;
		rv = nng_ctx_open(&j->ctx, in->sock);
		if (rv == 0)
			rv = nng_aio_alloc(&j->aio, job_cb, j);
		if (rv)
			return nng_to_errno(rv);
	}
	return 0;
}

int ingest_start(const struct ingest_conf *conf, const struct storage_conf *storage_conf, struct storage *storage,
		 const struct ingest_rules *rules, struct ingest **ret)
{
	struct ingest *in = calloc(1, sizeof(*in));
	int rv, r;

	if (!in)
		return -ENOMEM;
	in->conf = conf;
	in->storage_conf = storage_conf;
	in->storage = storage;
	in->rules = *rules;
	in->flim = (struct frame_limits){ .max_message = conf->max_message,
					  .max_raw = conf->max_raw,
					  .max_records = (uint32_t)conf->max_records };
	in->elim = (struct export_limits){ .max_entries = conf->max_records, .max_fields = 1024,
					   .max_field_bytes = conf->max_field,
					   .max_entry_bytes = conf->max_field + 64 * 1024 };
	pthread_mutex_init(&in->lock, NULL);
	pthread_cond_init(&in->cond, NULL);
	pthread_cond_init(&in->handed_cond, NULL);
	rv = nng_rep0_open(&in->sock);
	if (rv) {
		r = log_error_errno(nng_to_errno(rv), "ingest: cannot open socket: %s", nng_strerror(rv));
		goto fail;
	}
	in->sock_open = true;
	in->tls = transport_is_tls(&conf->t);
	if (!in->tls)
		log_warning("ingest on %s: without TLS, agent ids and host names are what batches claim: anyone who "
			    "can reach this address can send as any agent. Use tls+tcp:// with tls_ca beyond one host "
			    "(docs/security.md).", conf->t.address);
	metrics_watch_socket((uint32_t)nng_socket_id(in->sock));
	(void)nng_socket_set_size(in->sock, NNG_OPT_RECVMAXSZ, conf->max_message);
	(void)nng_pipe_notify(in->sock, NNG_PIPE_EV_ADD_POST, pipe_cb, in);
	(void)nng_pipe_notify(in->sock, NNG_PIPE_EV_REM_POST, pipe_cb, in);
	r = open_jobs(in);
	if (r < 0)
		goto fail;
	if (pthread_create(&in->sharer, NULL, sharer_main, in) != 0) {
		r = -EAGAIN;
		goto fail;
	}
	in->sharer_started = true;
	if (pthread_create(&in->writer, NULL, writer_main, in) != 0) {
		r = -EAGAIN;
		goto fail;
	}
	in->writer_started = true;
	r = transport_listen(in->sock, &conf->t);
	if (r < 0)
		goto fail;
	rv = nng_listen(in->sock, INGEST_LOCAL_URL, &in->local, 0);
	if (rv == 0)
		rv = nng_listen(in->sock, INGEST_RELAY_URL, &in->relay, 0);
	if (rv) {
		r = log_error_errno(nng_to_errno(rv), "ingest: cannot listen inproc: %s", nng_strerror(rv));
		goto fail;
	}
	for (size_t i = 0; i < in->n_jobs; i++)
		nng_ctx_recv(in->jobs[i].ctx, in->jobs[i].aio);
	*ret = in;
	return 0;
fail:
	ingest_stop(in);
	return r;
}

void ingest_stop(struct ingest *in)
{
	if (!in)
		return;
	/* Jobs already queued are stored and answered before the writer exits. */
	pthread_mutex_lock(&in->lock);
	in->stopping = true;
	pthread_cond_signal(&in->cond);
	pthread_mutex_unlock(&in->lock);
	if (in->writer_started)
		(void)pthread_join(in->writer, NULL);
	else
		hand_over(in, NULL);
	if (in->sharer_started)
		(void)pthread_join(in->sharer, NULL);
	if (in->sock_open)
		(void)nng_close(in->sock);
	for (size_t i = 0; in->jobs && i < in->n_jobs; i++) {
		struct job *j = &in->jobs[i];
		if (j->aio)
			nng_aio_free(j->aio);
		nng_msg_free(j->msg);
		batch_info_free(&j->info);
		logmatch_unref(j->logmatch);
		logmetrics_unref(j->logmetrics);
		ZSTD_freeDCtx(j->dctx);
		buf_free(&j->raw);
	}
	free(in->jobs);
	pthread_cond_destroy(&in->handed_cond);
	pthread_cond_destroy(&in->cond);
	pthread_mutex_destroy(&in->lock);
	free(in);
}
