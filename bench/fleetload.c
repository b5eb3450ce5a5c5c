/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/fleet.sh's load generator: a simulated fleet.
 *   fleetload ADDRESS[,ADDRESS...] AGENTS SECONDS [PROBES [PROBE_INTERVAL_S [METRIC_INTERVAL_S]]]
 * behaves like AGENTS agents, each with its own id, host name and nng
 * connection to a collector (agent i to the (i mod k)-th of k addresses,
 * so several collectors share the fleet evenly): every PROBE_INTERVAL_S (30) a
 * batch of PROBES (50) probe results and two log lines, every
 * METRIC_INTERVAL_S (10) a batch of a host metric record (CPU, memory,
 * load: 16 values) and a heartbeat, as the agent writes them (Journal
 * Export records, a zstd frame, the batch header), each agent's first
 * batches spread over the first interval. An agent waits for the reply to
 * one batch before it sends the next, as a real one with one batch in
 * flight. After SECONDS it prints the batches sent, the replies by
 * outcome, the batches that were late (due while their agent still waited
 * for the reply to the one before), and the latency from sending to the
 * reply: p50, p99, max.
 *
 * Like a real agent it asks for its central configuration (docs/control.md)
 * whenever a reply names a config generation it has not been answered at,
 * before its next batch; it prints how many asked, and how long it took
 * from the first reply that named the newest generation until the last
 * agent was answered at it (what a config group's change costs a fleet).
 */
#include "config.h"

#include <inttypes.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "common/buf.h"
#include "common/confmsg.h"
#include "common/export.h"
#include "common/fields.h"
#include "common/frame.h"
#include "common/macro.h"
#include "common/util.h"

#define LATENCY_BUCKETS 64 /* powers of two of microseconds */
#define TICK_US (10 * USEC_PER_MSEC)
#define ADDRESSES_MAX 8

struct agent {
	unsigned n;
	uint8_t id[AGENT_ID_SIZE];
	char host[32];
	uint64_t seq;
	uint64_t next_probes_us, next_metrics_us; /* monotonic */
	atomic_bool busy;
	bool late;          /* a batch came due while the last one waited: counted once */
	uint64_t sent_us;
	nng_socket sock;
	nng_ctx ctx;
	nng_aio *aio;
	bool receiving;
	bool asking;                /* the request out is a config request */
	atomic_uint_fast32_t wants; /* the newest generation a reply named */
	atomic_uint_fast32_t has;   /* the generation it was answered at */
};

static unsigned n_probes = 50;
static atomic_uint_fast64_t sent, late, errors, by_status[8], latency[LATENCY_BUCKETS];
static uint64_t latency_max;
static pthread_mutex_t max_lock = PTHREAD_MUTEX_INITIALIZER;
/* The config generations, under gen_lock: the newest named, when first, how many answered at it, when last. */
static pthread_mutex_t gen_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t newest_gen;
static uint64_t newest_seen_us, newest_answered, newest_last_us, config_answers;

static void generation_named(struct agent *a, uint32_t gen)
{
	atomic_store(&a->wants, gen);
	pthread_mutex_lock(&gen_lock);
	if (gen != newest_gen) {
		newest_gen = gen;
		newest_seen_us = now_monotonic_us();
		newest_answered = 0;
	}
	pthread_mutex_unlock(&gen_lock);
}

static void config_answered(struct agent *a, const struct config_reply *rep)
{
	atomic_store(&a->has, rep->generation);
	pthread_mutex_lock(&gen_lock);
	config_answers++;
	if (rep->generation == newest_gen) {
		newest_answered++;
		newest_last_us = now_monotonic_us();
	}
	pthread_mutex_unlock(&gen_lock);
}

static void record_latency(uint64_t us)
{
	unsigned b = 0;

	while (b + 1 < LATENCY_BUCKETS && (UINT64_C(1) << (b + 1)) <= us)
		b++;
	atomic_fetch_add(&latency[b], 1);
	pthread_mutex_lock(&max_lock);
	if (us > latency_max)
		latency_max = us;
	pthread_mutex_unlock(&max_lock);
}

/* The upper bound of the bucket holding the q-th fraction of replies. */
static uint64_t percentile(double q)
{
	uint64_t total = 0, seen = 0;

	for (unsigned b = 0; b < LATENCY_BUCKETS; b++)
		total += atomic_load(&latency[b]);
	for (unsigned b = 0; b < LATENCY_BUCKETS; b++) {
		seen += atomic_load(&latency[b]);
		if (total && (double)seen >= q * (double)total)
			return MIN(UINT64_C(1) << (b + 1), latency_max);
	}
	return 0;
}

static void on_aio(void *arg)
{
	struct agent *a = arg;
	struct reply rep;
	nng_msg *m;

	if (nng_aio_result(a->aio) != 0) {
		if (!a->receiving)
			nng_msg_free(nng_aio_get_msg(a->aio));
		atomic_fetch_add(&errors, 1);
		a->receiving = false;
		atomic_store(&a->busy, false);
		return;
	}
	if (!a->receiving) {
		a->receiving = true;
		nng_ctx_recv(a->ctx, a->aio);
		return;
	}
	m = nng_aio_get_msg(a->aio);
	if (a->asking) {
		struct config_reply crep;

		if (config_reply_decode(nng_msg_body(m), nng_msg_len(m), &crep) == 0 && crep.status != CONFIG_UNAVAILABLE)
			config_answered(a, &crep);
		else
			atomic_fetch_add(&errors, 1);
	} else if (reply_decode(nng_msg_body(m), nng_msg_len(m), &rep) == 0 && rep.status < 8) {
		record_latency(now_monotonic_us() - a->sent_us);
		atomic_fetch_add(&by_status[rep.status], 1);
		if (rep.config_version)
			generation_named(a, rep.config_version);
	} else {
		atomic_fetch_add(&errors, 1);
	}
	nng_msg_free(m);
	a->receiving = false;
	atomic_store(&a->busy, false);
}

/* A record the agent makes itself: time, host, kind, then the fields in f. */
static void own_record(struct buf *raw, const struct agent *a, const char *kind, const struct buf *f, uint64_t now)
{
	(void)export_put_u64(raw, FIELD_TIME, now);
	(void)export_put_str(raw, FIELD_HOST, a->host);
	if (kind)
		(void)export_put_str(raw, FIELD_KIND, kind);
	if (f)
		(void)buf_append(raw, f->data, f->len);
	(void)export_end_entry(raw);
}

static unsigned probes_batch(const struct agent *a, struct buf *raw, uint64_t now)
{
	static const char *const status[] = { "ok", "ok", "ok", "ok", "ok", "ok", "ok", "warning" };
	char name[32], msg[96];
	struct buf f;

	buf_init(&f, 4096);
	for (unsigned i = 0; i < n_probes; i++) {
		f.len = 0;
		(void)snprintf(name, sizeof(name), "svc-%02u", i);
		(void)snprintf(msg, sizeof(msg), "connected to 10.%u.%u.%u:%u in %u us", a->n % 250, i, a->n % 7, 8000 + i,
			       300 + (a->n + i) % 900);
		(void)export_put_str(&f, FIELD_PROBE_NAME, name);
		(void)export_put_str(&f, FIELD_PROBE_TYPE, "tcp");
		(void)export_put_str(&f, FIELD_PROBE_STATUS, status[(a->n + i) % 8 == 7 && i == 0 ? 7 : 0]);
		(void)export_put_u64(&f, FIELD_PROBE_LATENCY_US, 300 + (a->n + i) % 900);
		(void)export_put_str(&f, FIELD_PRIORITY, "6");
		(void)export_put_str(&f, FIELD_MESSAGE, msg);
		own_record(raw, a, KIND_PROBE, &f, now);
	}
	for (unsigned i = 0; i < 2; i++) {
		f.len = 0;
		(void)snprintf(msg, sizeof(msg), "GET /api/v1/exchange/records status=200 dur_ms=%u user=u%u", 12 + i,
			       a->n);
		(void)export_put_str(&f, FIELD_MESSAGE, msg);
		(void)export_put_str(&f, FIELD_SOURCE, "app");
		(void)export_put_str(&f, FIELD_PRIORITY, "6");
		own_record(raw, a, NULL, &f, now);
	}
	buf_free(&f);
	return n_probes + 2;
}

static unsigned metrics_batch(const struct agent *a, struct buf *raw, uint64_t now)
{
	static const char *const names[] = { "METRIC_CPU_USER", "METRIC_CPU_SYSTEM", "METRIC_CPU_IDLE",
		"METRIC_CPU_IOWAIT", "METRIC_MEM_TOTAL", "METRIC_MEM_AVAILABLE", "METRIC_MEM_USED_PCT", "METRIC_SWAP_USED",
		"METRIC_LOAD1", "METRIC_LOAD5", "METRIC_LOAD15", "METRIC_PROCS", "METRIC_UPTIME", "METRIC_CTXT",
		"METRIC_INTR", "METRIC_FORKS" };
	struct buf f;

	buf_init(&f, 4096);
	(void)export_put_str(&f, FIELD_METRIC_SET, "cpu");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		(void)export_put_u64(&f, names[i], (a->n * 13 + i * 7 + now / USEC_PER_SEC) % 1000);
	own_record(raw, a, KIND_METRIC, &f, now);
	own_record(raw, a, KIND_HEARTBEAT, NULL, now);
	buf_free(&f);
	return 2;
}

static void send_batch(struct agent *a, ZSTD_CCtx *cctx, bool probes)
{
	uint64_t now = now_realtime_us();
	struct buf raw, frame;
	unsigned records;
	nng_msg *m = NULL;

	buf_init(&raw, 1024 * 1024);
	buf_init(&frame, 1024 * 1024);
	records = probes ? probes_batch(a, &raw, now) : metrics_batch(a, &raw, now);
	{
		struct frame_header h = { .version = FRAME_VERSION, .seq = a->seq + 1, .records = records,
					  .raw_len = (uint32_t)raw.len, .created_us = now };

		memcpy(h.agent_id, a->id, AGENT_ID_SIZE);
		if (frame_build(cctx, &h, raw.data, raw.len, 1, &frame) < 0 || nng_msg_alloc(&m, frame.len) != 0) {
			atomic_fetch_add(&errors, 1);
			atomic_store(&a->busy, false);
			goto out;
		}
	}
	memcpy(nng_msg_body(m), frame.data, frame.len);
	a->asking = false;
	a->seq++;
	a->sent_us = now_monotonic_us();
	a->receiving = false;
	nng_aio_set_msg(a->aio, m);
	nng_ctx_send(a->ctx, a->aio);
	atomic_fetch_add(&sent, 1);
out:
	buf_free(&raw);
	buf_free(&frame);
}

/* A config request, as the agent's shipper sends it, with no labels: every group without a selector is its. */
static void ask_config(struct agent *a)
{
	uint8_t out[CONFREQ_HEADER_SIZE + CONFREQ_LABELS_MAX];
	struct config_request q = { .running = (uint32_t)atomic_load(&a->has) };
	nng_msg *m;
	size_t n;

	memcpy(q.agent_id, a->id, AGENT_ID_SIZE);
	n = config_request_encode(&q, out);
	if (nng_msg_alloc(&m, n) != 0) {
		atomic_fetch_add(&errors, 1);
		atomic_store(&a->busy, false);
		return;
	}
	memcpy(nng_msg_body(m), out, n);
	a->asking = true;
	a->receiving = false;
	nng_aio_set_msg(a->aio, m);
	nng_ctx_send(a->ctx, a->aio);
}

static int agent_open(struct agent *a, unsigned n, const char *address, uint64_t probe_us, uint64_t metric_us)
{
	nng_dialer d;

	a->n = n;
	memset(a->id, 0xf1, AGENT_ID_SIZE);
	memcpy(a->id, &n, sizeof(n));
	(void)snprintf(a->host, sizeof(a->host), "fleet-%05u", n);
	a->next_probes_us = now_monotonic_us() + (uint64_t)rand() % probe_us;
	a->next_metrics_us = now_monotonic_us() + (uint64_t)rand() % metric_us;
	if (nng_req0_open(&a->sock) != 0 || nng_ctx_open(&a->ctx, a->sock) != 0 ||
	    nng_aio_alloc(&a->aio, on_aio, a) != 0 || nng_dialer_create(&d, a->sock, address) != 0)
		return -1;
	(void)nng_dialer_set_ms(d, NNG_OPT_RECONNMINT, 100);
	(void)nng_dialer_set_ms(d, NNG_OPT_RECONNMAXT, 2000);
	/* The collector's own answer is what is measured: no resend behind it. */
	(void)nng_ctx_set_ms(a->ctx, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	nng_aio_set_timeout(a->aio, 60000);
	return nng_dialer_start(d, NNG_FLAG_NONBLOCK) == 0 ? 0 : -1;
}

/* The comma-separated list into addr (its strings point into list, which is cut): their count, 0 if too many. */
static unsigned split_addresses(char *list, char *addr[ADDRESSES_MAX])
{
	unsigned k = 0;

	for (char *save = NULL, *a = strtok_r(list, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
		if (k == ADDRESSES_MAX)
			return 0;
		addr[k++] = a;
	}
	return k;
}

int main(int argc, char **argv)
{
	char *addr[ADDRESSES_MAX];
	unsigned n, seconds, n_addr;
	uint64_t probe_us, metric_us, end;
	struct agent *agents;
	ZSTD_CCtx *cctx = ZSTD_createCCtx();

	if (argc < 4) {
		fprintf(stderr, "usage: fleetload ADDRESS[,ADDRESS...] AGENTS SECONDS [PROBES [PROBE_INTERVAL_S [METRIC_INTERVAL_S]]]\n");
		return 2;
	}
	n = (unsigned)atoi(argv[2]);
	seconds = (unsigned)atoi(argv[3]);
	n_probes = argc > 4 ? (unsigned)atoi(argv[4]) : 50;
	probe_us = (argc > 5 ? (uint64_t)atoi(argv[5]) : 30) * USEC_PER_SEC;
	metric_us = (argc > 6 ? (uint64_t)atoi(argv[6]) : 10) * USEC_PER_SEC;
	n_addr = split_addresses(argv[1], addr);
	agents = calloc(n, sizeof(*agents));
	if (!agents || !cctx || n_addr == 0 || n == 0 || seconds == 0 || probe_us == 0 || metric_us == 0)
		return 2;
	srand(1);
	for (unsigned i = 0; i < n; i++)
		if (agent_open(&agents[i], i, addr[i % n_addr], probe_us, metric_us) < 0) {
			fprintf(stderr, "fleetload: agent %u: cannot dial %s (ulimit -n?)\n", i, addr[i % n_addr]);
			return 1;
		}
	end = now_monotonic_us() + seconds * USEC_PER_SEC;
	while (now_monotonic_us() < end) {
		uint64_t now = now_monotonic_us();

		for (unsigned i = 0; i < n; i++) {
			struct agent *a = &agents[i];
			bool probes = now >= a->next_probes_us, metrics = now >= a->next_metrics_us;

			if (atomic_load(&a->wants) != atomic_load(&a->has) && !atomic_exchange(&a->busy, true)) {
				ask_config(a);
				continue;
			}
			if (!probes && !metrics)
				continue;
			if (atomic_exchange(&a->busy, true)) {
				if (!a->late)
					atomic_fetch_add(&late, 1);
				a->late = true;
				continue;
			}
			a->late = false;
			if (probes)
				a->next_probes_us += probe_us;
			else
				a->next_metrics_us += metric_us;
			send_batch(a, cctx, probes);
		}
		usleep(TICK_US);
	}
	/* Up to 10 s for the replies still coming. */
	for (int w = 0; w < 1000; w++) {
		bool any = false;

		for (unsigned i = 0; i < n && !any; i++)
			any = atomic_load(&agents[i].busy);
		if (!any)
			break;
		usleep(10000);
	}
	struct rusage ru;

	(void)getrusage(RUSAGE_SELF, &ru);
	printf("agents %u seconds %u cpu_s %.1f sent %" PRIu64 " stored %" PRIu64 " duplicate %" PRIu64 " retry %" PRIu64
	       " other %" PRIu64 " errors %" PRIu64 " late %" PRIu64 " p50_us %" PRIu64 " p99_us %" PRIu64
	       " max_us %" PRIu64 "\n",
	       n, seconds, (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
	       atomic_load(&sent), atomic_load(&by_status[REPLY_STORED]),
	       atomic_load(&by_status[REPLY_DUPLICATE]), atomic_load(&by_status[REPLY_RETRY]),
	       atomic_load(&by_status[REPLY_REJECTED]) + atomic_load(&by_status[REPLY_CONFLICT]) +
		       atomic_load(&by_status[REPLY_REFUSED]),
	       atomic_load(&errors), atomic_load(&late), percentile(0.50), percentile(0.99), latency_max);
	printf("config_answers %" PRIu64 " newest_generation %" PRIu32 " answered_at_it %" PRIu64 " spread_ms %.0f\n",
	       config_answers, newest_gen, newest_answered,
	       newest_answered ? (double)(newest_last_us - newest_seen_us) / 1000.0 : 0.0);
	/* The sockets are left to the exit (nng issue #1543: a close with requests set up can hang). */
	ZSTD_freeCCtx(cctx);
	return 0;
}
