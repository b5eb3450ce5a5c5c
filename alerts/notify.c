/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>

#include "alerts/alertstore.h"
#include "alerts/channel.h"
#include "alerts/notify.h"
#include "alerts/queue.h"
#include "common/buf.h"
#include "common/db.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/metrics.h"
#include "common/util.h"
#include "fetch/curl_loop.h"

#define IN_FLIGHT_MAX 8
#define ATTEMPTS_MAX 10
#define BACKOFF_MAX_US (10 * 60 * USEC_PER_SEC)
#define ANSWER_MAX (64 * 1024)
/* Most notifications one digest carries. */
#define DIGEST_MAX 50
#define MINUTE_US (60 * USEC_PER_SEC)

/* One message being sent: a notification, or a digest of several to a rate-limited target. */
struct delivery {
	struct notifier *n;
	struct queued q[DIGEST_MAX]; /* q[0] names the message (X-Vigil-Notification) */
	size_t n_q;
	const struct catalog_snapshot *defs; /* a reference: target stays valid while the request runs */
	const struct channel_ops *channel;
	struct channel_msg msg;
	struct buf answer;
	char error[CURL_ERROR_SIZE];
	bool busy;
};

struct notifier {
	struct catalog *catalog;
	sqlite3 *db;               /* meta.db, when the store is its */
	struct alert_store *store; /* the queue's */
	char holder[300];          /* this collector's name among those that may send (process_name()) */
	enum alert_lead lead;      /* of the sending, with several collectors on one database */
	struct curl_loop *curl;
	sd_event_source *timer; /* every second: what is due */
	sd_event_source *kick;  /* at once: new notifications */
	struct delivery d[IN_FLIGHT_MAX];
};

/* The request of d into its easy handle, by its target's channel, from payloads (one per notification d carries). */
static int build_request(struct delivery *d, json_t *payloads)
{
	const struct notify_conf *t = d->msg.target;

	(void)curl_easy_setopt(d->msg.easy, CURLOPT_TIMEOUT_MS, 10000L);
	(void)curl_easy_setopt(d->msg.easy, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(d->msg.easy, CURLOPT_ERRORBUFFER, d->error);
	/*
	 * Each delivery on a connection of its own: a kept connection carries
	 * the TLS and login of the target that opened it, not this one's.
	 */
	(void)curl_easy_setopt(d->msg.easy, CURLOPT_FORBID_REUSE, 1L);
	if (t->tls_ca)
		(void)curl_easy_setopt(d->msg.easy, CURLOPT_CAINFO, t->tls_ca);
	d->msg.payloads = payloads;
	d->msg.id = d->q[0].id;
	return d->channel->request(&d->msg);
}

static size_t on_answer(char *data, size_t size, size_t n, void *userdata)
{
	struct delivery *d = userdata;

	(void)buf_append(&d->answer, data, MIN(size * n, ANSWER_MAX - MIN(d->answer.len, (size_t)ANSWER_MAX)));
	return size * n;
}

static void delivery_release(struct delivery *d)
{
	curl_easy_cleanup(d->msg.easy);
	curl_slist_free_all(d->msg.headers);
	free(d->msg.body);
	buf_free(&d->answer);
	catalog_release(d->defs);
	*d = (struct delivery){ .n = d->n };
}

/* What went wrong, or NULL when the target took it. */
static const char *judge(struct delivery *d, CURLcode result, long status, char *why, size_t size)
{
	if (result != CURLE_OK) {
		(void)snprintf(why, size, "%s%s%s", curl_easy_strerror(result), *d->error ? ": " : "", d->error);
		return why;
	}
	return d->channel->judge(&d->msg, status, &d->answer, why, size);
}

/* The outcome of one notification of d, and the event in its alert's history; in record()'s transaction. */
static int record_one(struct notifier *n, struct delivery *d, const struct queued *q, const char *error, bool final,
		      uint64_t now)
{
	const char *name = d->msg.target ? d->msg.target->name : "?";
	uint64_t backoff = MIN(USEC_PER_SEC << MIN(q->attempts, 20u), BACKOFF_MAX_US);
	bool give_up = error && (final || q->attempts + 1 >= ATTEMPTS_MAX);
	enum queue_state state = !error ? QUEUE_SENT : give_up ? QUEUE_FAILED : QUEUE_QUEUED;
	char note[600];
	int r;

	(void)snprintf(note, sizeof(note), "%s: %s", name, error ? error : "delivered");
	if (d->n_q > 1)
		(void)snprintf(note + strlen(note), sizeof(note) - strlen(note), " (in a digest of %zu)", d->n_q);
	r = queue_record(n->store, q, state, now + backoff, error, now, d->n_q > 1 ? d->q[0].id : 0);
	/* A test message (alert 0) has no history to write to. */
	if (r == 0 && q->alert)
		r = alert_store_event(n->store, q->alert, now, "vigil",
				    !error ? "notified" : give_up ? "notify_failed" : "notify_retry", note);
	metrics_add(!error ? &metrics.notifications_sent :
		    give_up ? &metrics.notifications_failed :
			      &metrics.notifications_retried,
		    1);
	if (error)
		log_warning("notify %s: notification %lld (alert %lld): %s%s", name, (long long)q->id, (long long)q->alert,
			    error, give_up ? "; giving up" : "; will retry");
	return r;
}

/* final: an error no retry can mend (the target is gone): the notification fails at once. */
static void record(struct notifier *n, struct delivery *d, const char *error, bool final)
{
	uint64_t now = now_realtime_us();
	int r = alert_store_begin(n->store, true);

	for (size_t i = 0; r == 0 && i < d->n_q; i++)
		r = record_one(n, d, &d->q[i], error, final, now);
	r = alert_store_end(n->store, r);
	/* Delivered, and the lease gone to another collector meanwhile: it sends this again, its id the same. */
	if (r < 0)
		log_error_errno(r, "notify: the outcome of notification %lld cannot be recorded: %m", (long long)d->q[0].id);
}

static void on_done(CURL *easy, CURLcode result, void *userdata)
{
	struct delivery *d = userdata;
	long status = 0;
	char why[512];

	(void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	record(d->n, d, judge(d, result, status, why, sizeof(why)), false);
	delivery_release(d);
}

static bool in_flight(const struct notifier *n, int64_t id)
{
	for (size_t i = 0; i < IN_FLIGHT_MAX; i++)
		for (size_t k = 0; n->d[i].busy && k < n->d[i].n_q; k++)
			if (n->d[i].q[k].id == id)
				return true;
	return false;
}

static struct delivery *free_slot(struct notifier *n)
{
	for (size_t i = 0; i < IN_FLIGHT_MAX; i++)
		if (!n->d[i].busy)
			return &n->d[i];
	return NULL;
}

/* Messages a minute the target takes (0: no limit): its rate_limit=, or its channel's. */
static uint64_t rate_limit(const struct notify_conf *t, const struct channel_ops *ch)
{
	return t->rate_limit ? t->rate_limit : ch->rate_limit;
}

/* Messages to target within the last minute: sent (a digest counts once) and on their way. */
static uint64_t sent_last_minute(struct notifier *n, const char *target)
{
	uint64_t count = queue_sent_since(n->store, target, now_realtime_us() - MINUTE_US);

	for (size_t i = 0; i < IN_FLIGHT_MAX; i++)
		count += n->d[i].busy && n->d[i].msg.target && strcmp(n->d[i].msg.target->name, target) == 0;
	return count;
}

/* What take_due() is filling. */
struct taking {
	struct notifier *n;
	struct delivery *d;
	size_t max;
	json_t *payloads;
};

static int take_one(const struct queued *q, const char *payload, void *ctx)
{
	struct taking *t = ctx;
	json_t *p;

	if (t->d->n_q >= t->max)
		return 1;
	if (in_flight(t->n, q->id))
		return 0;
	p = json_loads(payload, 0, NULL);
	t->d->q[t->d->n_q++] = *q;
	(void)json_array_append_new(t->payloads, p ? p : json_object());
	return 0;
}

/*
 * Fills d with what is due for target (up to max, not in flight), their
 * payloads into payloads. The number taken.
 */
static size_t take_due(struct notifier *n, struct delivery *d, const char *target, size_t max, json_t *payloads)
{
	struct taking t = { n, d, max, payloads };

	(void)queue_due_of(n->store, target, now_realtime_us(), DIGEST_MAX + IN_FLIGHT_MAX, take_one, &t);
	return d->n_q;
}

/* Names of the targets send_due() is done with this round. */
struct held {
	char names[IN_FLIGHT_MAX + 64][256];
	size_t n;
};

static bool held_has(const struct held *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->names[i], name) == 0)
			return true;
	return false;
}

static void held_add(struct held *h, const char *name)
{
	if (h->n < ARRAY_SIZE(h->names))
		(void)snprintf(h->names[h->n++], sizeof(h->names[0]), "%s", name);
}

/*
 * Starts the delivery of what is due for target into d: one notification,
 * or, when a rate limit would hold back some of what is due, everything due
 * in one digest (DingTalk throttles a robot for ten minutes past its limit;
 * one message that says all beats twenty that say part of it). Nothing when
 * the limit is reached: it waits for the minute to pass.
 */
static void start(struct notifier *n, struct delivery *d, const struct catalog_snapshot *defs,
		  const struct notify_conf *t, struct held *held)
{
	const struct channel_ops *ch = channel_find(t->type);
	uint64_t limit = rate_limit(t, ch), used = limit ? sent_last_minute(n, t->name) : 0;
	json_t *payloads = json_array();
	size_t due = 0;

	*d = (struct delivery){ .n = n, .defs = defs, .channel = ch, .msg = { .target = t }, .busy = true };
	buf_init(&d->answer, ANSWER_MAX);
	if (payloads && (!limit || used < limit))
		due = take_due(n, d, t->name, limit ? DIGEST_MAX : 1, payloads);
	if (due > 1 && used + due <= limit) {
		/* Room for each: this one now, the others in their turn. */
		d->n_q = 1;
		while (json_array_size(payloads) > 1)
			(void)json_array_remove(payloads, 1);
	}
	if (due == 0 || d->n_q > 1)
		held_add(held, t->name);
	if (due == 0) {
		delivery_release(d);
		json_decref(payloads);
		return;
	}
	d->msg.easy = curl_easy_init();
	if (!d->msg.easy || build_request(d, payloads) < 0 ||
	    curl_easy_setopt(d->msg.easy, CURLOPT_WRITEFUNCTION, on_answer) != CURLE_OK ||
	    curl_easy_setopt(d->msg.easy, CURLOPT_WRITEDATA, d) != CURLE_OK ||
	    curl_loop_add(n->curl, d->msg.easy, on_done, d) < 0) {
		record(n, d, "cannot build the request", false);
		delivery_release(d);
	}
	json_decref(payloads);
}

/* What send_due() goes through. */
struct sending {
	struct notifier *n;
	struct held *held;
};

/* Starts what is due for q's target, unless it is in flight or done with this round. */
static int send_one(const struct queued *q, const char *name, void *ctx)
{
	struct sending *s = ctx;
	struct notifier *n = s->n;
	struct delivery *d = free_slot(n);
	const struct catalog_snapshot *defs;
	const struct notify_conf *t;

	if (!d)
		return 1;
	if (in_flight(n, q->id) || held_has(s->held, name))
		return 0;
	defs = catalog_get(n->catalog);
	t = catalog_target(defs, name);
	if (t) {
		start(n, d, defs, t, s->held);
		return 0;
	}
	/* The target was deleted or left the configuration: nothing to send it with. */
	*d = (struct delivery){ .n = n, .defs = defs, .n_q = 1, .busy = true };
	d->q[0] = *q;
	record(n, d, "no such [notify] target any more", true);
	delivery_release(d);
	return 0;
}

/* Starts what is due, as many as there are free slots, a target at a time. */
static void send_due(struct notifier *n)
{
	struct sending s = { n, NULL };

	if (!alert_store_leads(n->store, "notify", n->holder, &n->lead))
		return;
	s.held = calloc(1, sizeof(*s.held));
	if (s.held)
		(void)queue_due(n->store, now_realtime_us(), 256, send_one, &s);
	free(s.held);
}

void notifier_kick(void *userdata)
{
	struct notifier *n = userdata;

	(void)sd_event_source_set_enabled(n->kick, SD_EVENT_ONESHOT);
}

static int on_kick(sd_event_source *s, void *userdata)
{
	send_due(userdata);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	send_due(userdata);
	(void)sd_event_source_set_time_relative(s, USEC_PER_SEC);
	return 0;
}

void notifier_stop(struct notifier *n)
{
	if (!n)
		return;
	sd_event_source_disable_unref(n->timer);
	sd_event_source_disable_unref(n->kick);
	for (size_t i = 0; i < IN_FLIGHT_MAX; i++)
		if (n->d[i].busy) {
			curl_loop_remove(n->curl, n->d[i].msg.easy);
			delivery_release(&n->d[i]);
		}
	curl_loop_free(n->curl);
	alert_store_free(n->store);
	db_close(n->db);
	free(n);
}

int notifier_start(const struct storage_conf *storage, struct catalog *catalog, sd_event *event,
		   struct notifier **ret)
{
	struct notifier *n = calloc(1, sizeof(*n));
	int r;

	if (!n)
		return -ENOMEM;
	n->catalog = catalog;
	for (size_t i = 0; i < IN_FLIGHT_MAX; i++)
		n->d[i].n = n;
	process_name(n->holder, sizeof(n->holder));
	if (storage_conf_shared(storage))
		r = alert_store_open_pg(storage->url, storage->password_file, &n->store);
	else {
		r = storage_meta_connect(storage->data_dir, storage->sync, &n->db);
		if (r == 0)
			r = alert_store_open(n->db, &n->store);
	}
	if (r == 0)
		r = curl_loop_new(event, &n->curl);
	if (r == 0)
		r = sd_event_add_time_relative(event, &n->timer, CLOCK_MONOTONIC, USEC_PER_SEC, 100000, on_timer, n);
	if (r == 0)
		r = sd_event_source_set_enabled(n->timer, SD_EVENT_ON);
	if (r == 0)
		r = sd_event_add_defer(event, &n->kick, on_kick, n);
	if (r == 0)
		r = sd_event_source_set_enabled(n->kick, SD_EVENT_OFF);
	if (r < 0) {
		notifier_stop(n);
		return r;
	}
	*ret = n;
	return 0;
}
