/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/export.h"
#include "common/fields.h"
#include "common/localship.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/metrics.h"
#include "common/hash.h"
#include "common/util.h"
#include "dialtests/dialer.h"
#include "dialtests/run.h"
#include "dialtests/schedule.h"
#include "store/ingest.h"

/* A test on the schedule; its times are plan[] at the same index. */
struct slot {
	int64_t id;
	const struct dialtest_entry *e; /* in the dialer's snapshot */
};

/* A run asked for through the API, waiting for its turn within the limits. */
struct asked_run {
	int64_t id;
	uint64_t planned_us; /* when it was asked for: the result's "scheduled" */
	struct asked_run *next;
};

struct dialer {
	const struct dialtests_conf *conf;
	struct dialtests *defs;
	const struct dialer_lead *lead;
	bool leading; /* it ran the schedule at its last round */
	sd_event *event;
	struct run_env env;
	sd_event_source *timer, *wake;
	int wake_fd;
	const struct dialtests_snapshot *defs_now; /* what the slots point into (a reference) */
	struct slot *slots;
	struct schedule_slot *plan;
	size_t n_slots;
	struct run *runs;
	size_t n_running;
	struct localship *ship;
	struct localship_conf ship_conf;
	uint8_t agent[AGENT_ID_SIZE]; /* the collector's own, its results are stored under */
	sd_event_source *heartbeat, *refresh;
	bool defs_stale;     /* the store could not be asked at the last refresh */
	uint64_t shipped_us; /* when the last record was queued */
	char host[256];
	pthread_mutex_t lock;    /* asked, n_asked, reload, cancelled */
	struct asked_run *asked; /* asked for through the API, newest first, not yet taken by the loop */
	size_t n_asked;          /* asked and queued, at most DIALER_ASKED_MAX */
	struct asked_run *queue; /* taken, waiting for the limits, oldest first; the loop's */
	bool reload;
	bool cancelled; /* stopping: no runs asked for any more */
};

static void schedule(struct dialer *d);

/*
 * Two records: a probe result (status, latency, one line, and the whole
 * result in DIALTEST_RESULT) that probe_state, the probe history and alert
 * rules take, and the metrics dialtest.total_ms, ok, cert_days_left.
 */
static void ship(struct dialer *d, const struct run *r, json_t *result)
{
	char *text = json_dumps(result, JSON_COMPACT | JSON_REAL_PRECISION(15));
	int64_t days;
	double total;
	struct buf rec;
	int e = 0;

	run_sums(r, &days, &total);
	buf_init(&rec, 8 * 1024 * 1024);
	e |= export_put_u64(&rec, FIELD_TIME, r->started_us);
	e |= export_put_str(&rec, FIELD_HOST, d->host);
	e |= export_put_str(&rec, FIELD_KIND, KIND_PROBE);
	e |= run_probe_fields(r, result, text ? text : "{}", &rec);
	e |= export_end_entry(&rec);
	e |= export_put_u64(&rec, FIELD_TIME, r->started_us);
	e |= export_put_str(&rec, FIELD_HOST, d->host);
	e |= export_put_str(&rec, FIELD_KIND, KIND_METRIC);
	e |= export_put_str(&rec, FIELD_METRIC_SET, DIALTEST_TYPE);
	e |= export_put_str(&rec, FIELD_METRIC_TEST, r->t->name);
	e |= export_put_u64(&rec, "METRIC_OK", r->outcome == RUN_OK);
	e |= buf_printf(&rec, "METRIC_TOTAL_MS=%.3f\n", total);
	if (days != INT64_MAX)
		e |= buf_printf(&rec, "METRIC_CERT_DAYS_LEFT=%" PRId64 "\n", days);
	e |= export_end_entry(&rec);
	if (e == 0)
		localship_put(d->ship, d->agent, &rec, 2);
	else
		log_error("dialtest %s: cannot encode its result; dropped", r->t->name);
	d->shipped_us = now_monotonic_us();
	buf_free(&rec);
	free(text);
}

static ssize_t slot_index(const struct dialer *d, int64_t id)
{
	for (size_t i = 0; i < d->n_slots; i++)
		if (d->slots[i].id == id)
			return (ssize_t)i;
	return -1;
}

/* A run ended: its result goes to the store, and what it held back may start. */
static void run_finished(struct run *r, json_t *result, void *ctx)
{
	struct dialer *d = ctx;
	ssize_t slot = r->scheduled ? slot_index(d, r->id) : -1;

	metrics_add(&metrics.dialtest_runs[r->outcome], 1);
	ship(d, r, result);
	/* Someone follows a run asked for: its result goes to the store now, not with the next batch. */
	if (r->asked)
		localship_flush(d->ship);
	json_decref(result);
	if (slot >= 0)
		d->plan[slot].running = false;
	for (struct run **p = &d->runs; *p; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	d->n_running--;
	run_free(r);
	schedule(d);
}

static void release_defs(const void *defs)
{
	dialtests_release(defs);
}

/* A run of e, on the list: NULL when out of memory. */
static struct run *add_run(struct dialer *d, const struct dialtest_entry *e, uint64_t planned_us)
{
	struct run *r = run_new(&d->env, e->test, e->id, (struct run_ref){ dialtests_ref(d->defs_now), release_defs },
				planned_us);

	if (!r)
		return NULL;
	r->next = d->runs;
	d->runs = r;
	d->n_running++;
	return r;
}

static unsigned running_on(const struct dialer *d, const char *host)
{
	unsigned n = 0;

	for (const struct run *r = d->runs; r; r = r->next)
		n += strcmp(r->host, host) == 0;
	return n;
}

/* Slots for the tests defined now: kept (with their next start) for tests still there. */
static void resync(struct dialer *d)
{
	const struct dialtests_snapshot *defs = dialtests_get(d->defs);
	struct slot *slots = calloc(defs->n ? defs->n : 1, sizeof(*slots));
	struct schedule_slot *plan = calloc(defs->n ? defs->n : 1, sizeof(*plan));
	uint64_t now = now_realtime_us();
	size_t n = 0;

	if (!slots || !plan) {
		free(slots);
		free(plan);
		dialtests_release(defs);
		return;
	}
	for (size_t i = 0; i < defs->n; i++) {
		const struct dialtest *t = defs->items[i].test;
		ssize_t old = slot_index(d, defs->items[i].id);

		/* A test run on agents alone is theirs: the collector runs it only when asked. */
		if (!t->enabled || !t->on_collector)
			continue;
		slots[n] = (struct slot){ .id = defs->items[i].id, .e = &defs->items[i] };
		plan[n] = old >= 0 ? d->plan[old] :
				     (struct schedule_slot){ .next_us = schedule_first_start(t->name, t->interval_us, now) };
		plan[n].interval_us = t->interval_us;
		n++;
	}
	free(d->slots);
	free(d->plan);
	d->slots = slots;
	d->plan = plan;
	d->n_slots = n;
	dialtests_release(d->defs_now);
	d->defs_now = defs;
}

/* Whether a run against the host of e's first step may start now, within the limits. */
static bool within_limits(struct dialer *d, const struct dialtest_entry *e)
{
	char host[256];

	run_url_host(e->test->steps[0].url, host, sizeof(host));
	return d->n_running < d->conf->concurrency && running_on(d, host) < d->conf->per_host;
}

/* Runs asked for through the API start, oldest first, as the limits let them. */
static void start_asked(struct dialer *d)
{
	struct asked_run **p = &d->queue;

	while (*p) {
		struct asked_run *q = *p;
		const struct dialtest_entry *e = dialtests_find(d->defs_now, q->id);
		struct run *r;

		if (e && !within_limits(d, e)) {
			p = &q->next;
			continue;
		}
		r = e ? add_run(d, e, q->planned_us) : NULL;
		if (!r && e) {
			p = &q->next;
			continue;
		}
		/* Started, or its test was deleted meanwhile: it leaves the queue either way. */
		*p = q->next;
		free(q);
		pthread_mutex_lock(&d->lock);
		d->n_asked--;
		pthread_mutex_unlock(&d->lock);
		if (r) {
			r->asked = true;
			run_start(r);
		}
	}
}

static void *prepare_scheduled(size_t i, uint64_t planned, void *ctx)
{
	struct dialer *d = ctx;
	const struct dialtest_entry *e = d->slots[i].e;
	struct run *r = within_limits(d, e) ? add_run(d, e, planned) : NULL;

	if (r)
		r->scheduled = true;
	return r;
}

static void start_scheduled(void *run, void *ctx)
{
	(void)ctx;
	run_start(run);
}

/* Whether the scheduled runs are this collector's to make now; on coming to lead, each test's next start from now. */
static bool leads(struct dialer *d)
{
	bool was = d->leading;
	uint64_t now = now_realtime_us();

	d->leading = !d->lead->leads || d->lead->leads(d->lead->ctx);
	for (size_t i = 0; d->leading && !was && i < d->n_slots; i++)
		if (!d->plan[i].running)
			d->plan[i].next_us = schedule_first_start(d->slots[i].e->test->name, d->plan[i].interval_us, now);
	return d->leading;
}

/* How soon a collector that does not lead asks again whether it does. */
#define FOLLOWER_RECHECK_US USEC_PER_SEC

/* Starts what is due and the limits allow; sets the timer to the next start. */
static void schedule(struct dialer *d)
{
	const struct schedule_ops ops = { prepare_scheduled, start_scheduled, d };
	uint64_t missed = 0, next;

	start_asked(d);
	if (!leads(d)) {
		(void)sd_event_source_set_time(d->timer, now_realtime_us() + FOLLOWER_RECHECK_US);
		(void)sd_event_source_set_enabled(d->timer, SD_EVENT_ONESHOT);
		return;
	}
	next = schedule_plan(d->plan, d->n_slots, now_realtime_us(), &ops, &missed);
	metrics_add(&metrics.dialtest_runs_skipped, missed);
	if (next != UINT64_MAX) {
		(void)sd_event_source_set_time(d->timer, next);
		(void)sd_event_source_set_enabled(d->timer, SD_EVENT_ONESHOT);
	}
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	schedule(userdata);
	return 0;
}

/* Manual runs asked for, and a reload: on the loop. */
static int on_wake(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct dialer *d = userdata;
	struct asked_run *list, **tail = &d->queue;
	uint64_t count;
	bool reload;

	(void)!read(fd, &count, sizeof(count));
	pthread_mutex_lock(&d->lock);
	list = d->asked;
	d->asked = NULL;
	reload = d->reload;
	d->reload = false;
	pthread_mutex_unlock(&d->lock);
	if (reload)
		resync(d);
	/* Newest first as asked: onto the queue's tail oldest first. */
	while (*tail)
		tail = &(*tail)->next;
	while (list) {
		struct asked_run *q = list, **at = tail;

		list = q->next;
		q->next = *at;
		*at = q;
	}
	schedule(d);
	return 0;
}

static void poke(struct dialer *d)
{
	uint64_t one = 1;

	(void)!write(d->wake_fd, &one, sizeof(one));
}

static void asked_free(struct asked_run *q)
{
	while (q) {
		struct asked_run *next = q->next;
		free(q);
		q = next;
	}
}

void dialer_cancel(struct dialer *d)
{
	struct asked_run *list;

	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->cancelled = true;
	list = TAKE_PTR(d->asked);
	pthread_mutex_unlock(&d->lock);
	asked_free(list);
}

void dialer_reload(struct dialer *d)
{
	pthread_mutex_lock(&d->lock);
	d->reload = true;
	pthread_mutex_unlock(&d->lock);
	poke(d);
}

/* Whether test id is defined; asking the store again when it is not known here (made through another collector). */
static bool known(struct dialer *d, int64_t id)
{
	const struct dialtests_snapshot *defs = dialtests_get(d->defs);
	bool found = dialtests_find(defs, id) != NULL;

	dialtests_release(defs);
	if (found || dialtests_refresh(d->defs) <= 0)
		return found;
	dialer_reload(d);
	defs = dialtests_get(d->defs);
	found = dialtests_find(defs, id) != NULL;
	dialtests_release(defs);
	return found;
}

int dialer_ask(struct dialer *d, int64_t id, uint64_t *ret_planned_us)
{
	uint64_t planned_us = now_realtime_us();
	struct asked_run *q;
	int r = 0;

	if (!known(d, id))
		return -ENOENT;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	*q = (struct asked_run){ .id = id, .planned_us = planned_us };
	pthread_mutex_lock(&d->lock);
	if (d->cancelled)
		r = -ECANCELED;
	else if (d->n_asked >= DIALER_ASKED_MAX)
		r = -EBUSY;
	if (r == 0) {
		q->next = d->asked;
		d->asked = q;
		d->n_asked++;
	}
	pthread_mutex_unlock(&d->lock);
	if (r < 0) {
		free(q);
		return r;
	}
	/* q is the loop's from here on: it may start, and be freed, at once. */
	poke(d);
	*ret_planned_us = planned_us;
	return 0;
}

/*
 * While tests are scheduled, the collector's host is heard from at least
 * every HEARTBEAT_US, as an agent is: tests with long intervals do not make
 * it look silent (which would suppress their alerts).
 */
#define HEARTBEAT_US (30 * USEC_PER_SEC)

static int on_heartbeat(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct dialer *d = userdata;
	struct buf rec;

	if (d->n_slots && now_monotonic_us() - d->shipped_us >= HEARTBEAT_US) {
		buf_init(&rec, 4096);
		if (export_put_u64(&rec, FIELD_TIME, now_realtime_us()) == 0 &&
		    export_put_str(&rec, FIELD_HOST, d->host) == 0 && export_put_str(&rec, FIELD_KIND, KIND_HEARTBEAT) == 0 &&
		    export_end_entry(&rec) == 0)
			localship_put(d->ship, d->agent, &rec, 1);
		d->shipped_us = now_monotonic_us();
		buf_free(&rec);
	}
	(void)sd_event_source_set_time_relative(s, HEARTBEAT_US);
	return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

/*
 * How often the dialer asks the store whether the tests changed through
 * another collector (with several on one database), so that one made
 * through any runs where the schedule does within this.
 */
#define REFRESH_US (5 * USEC_PER_SEC)

static int on_refresh(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct dialer *d = userdata;
	int r = dialtests_refresh(d->defs);

	if (r < 0 && !d->defs_stale)
		log_error_errno(r, "dialtests: the dial tests cannot be read again (%m); those in force stay until they can");
	d->defs_stale = r < 0;
	if (r > 0) {
		resync(d);
		schedule(d);
	}
	(void)sd_event_source_set_time_relative(s, REFRESH_US);
	return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

/* The host name results are stored under, and the agent id it makes. */
static int identity(const struct dialtests_conf *conf, char *host, size_t size, uint8_t agent[AGENT_ID_SIZE])
{
	uint8_t digest[32];
	char seed[300];
	int r = dialtests_origin(conf, host, size);

	if (r < 0)
		return r;
	(void)snprintf(seed, sizeof(seed), "vigil-collector-dialtests\n%s", host);
	if (sha256(seed, strlen(seed), digest) < 0)
		return -EIO;
	memcpy(agent, digest, AGENT_ID_SIZE);
	return 0;
}

void dialer_stop(struct dialer *d)
{
	if (!d)
		return;
	dialer_cancel(d);
	asked_free(d->queue);
	while (d->runs) {
		struct run *r = d->runs;

		d->runs = r->next;
		run_free(r);
	}
	free(d->plan);
	sd_event_source_disable_unref(d->timer);
	sd_event_source_disable_unref(d->wake);
	sd_event_source_disable_unref(d->heartbeat);
	sd_event_source_disable_unref(d->refresh);
	if (d->wake_fd >= 0)
		close(d->wake_fd);
	curl_loop_free(d->env.curl);
	localship_stop(d->ship);
	free(d->slots);
	dialtests_release(d->defs_now);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

int dialer_start(const struct dialtests_conf *conf, struct dialtests *defs, const struct dialer_lead *lead,
		 sd_event *event, struct dialer **ret)
{
	struct dialer *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return -ENOMEM;
	d->conf = conf;
	d->defs = defs;
	d->lead = lead;
	d->event = event;
	d->env = (struct run_env){ .secrets_dir = conf->secrets_dir, .event = event, .finished = run_finished, .ctx = d };
	pthread_mutex_init(&d->lock, NULL);
	d->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	r = d->wake_fd < 0 ? -errno : identity(conf, d->host, sizeof(d->host), d->agent);
	d->ship_conf = (struct localship_conf){ "dialtests", conf->queue, 1, 100, &metrics.dialtest_results_dropped,
						"vigil_dialtest_results_dropped_total" };
	if (r == 0)
		r = localship_start(INGEST_LOCAL_URL, &d->ship_conf, &d->ship);
	if (r == 0)
		r = curl_loop_new(event, &d->env.curl);
	if (r == 0)
		r = sd_event_add_time(event, &d->timer, CLOCK_REALTIME, UINT64_MAX, 1000, on_timer, d);
	if (r == 0)
		r = sd_event_add_io(event, &d->wake, d->wake_fd, EPOLLIN, on_wake, d);
	if (r == 0)
		r = sd_event_add_time_relative(event, &d->heartbeat, CLOCK_MONOTONIC, HEARTBEAT_US, USEC_PER_SEC,
					       on_heartbeat, d);
	if (r == 0)
		r = sd_event_add_time_relative(event, &d->refresh, CLOCK_MONOTONIC, REFRESH_US, USEC_PER_SEC / 10,
					       on_refresh, d);
	if (r < 0) {
		dialer_stop(d);
		return r;
	}
	resync(d);
	schedule(d);
	*ret = d;
	return 0;
}
