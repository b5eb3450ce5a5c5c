/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "agent/relay.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/metrics.h"

/* A device's batch waiting for the loop. */
struct item {
	uint8_t id[AGENT_ID_SIZE];
	struct buf records;
	uint32_t n;
};

struct relay {
	struct syslog_conf conf; /* a copy: owned */
	struct pipeline *pipeline;
	struct spool *spool;
	struct syslog_receiver *receiver;
	sd_event_source *wake_source;
	int wake;
	pthread_mutex_t lock;
	struct item *ring; /* conf.queue items from head, n of them; under lock */
	size_t head, n, max;
	atomic_uint_fast64_t dropped;
	uint64_t seen[5]; /* the receiver's counters as the spool last had them */
};

/* The receiver's counters the spool keeps, in the order of seen[]. */
static const struct {
	atomic_uint_fast64_t *metric;
	enum spool_counter counter;
} counted[] = {
	{ &metrics.syslog_messages[0], SPOOL_CTR_SYSLOG_RECEIVED },
	{ &metrics.syslog_messages[1], SPOOL_CTR_SYSLOG_RECEIVED },
	{ &metrics.syslog_messages[2], SPOOL_CTR_SYSLOG_RECEIVED },
	{ &metrics.syslog_unparsed, SPOOL_CTR_SYSLOG_UNPARSED },
	{ &metrics.syslog_truncated, SPOOL_CTR_SYSLOG_TRUNCATED },
};

/* On the receiver's thread: the batch joins the queue, the oldest making room. */
static void put(void *ctx, const uint8_t sender[16], const struct buf *records, uint32_t n)
{
	struct relay *r = ctx;
	struct item *it;

	pthread_mutex_lock(&r->lock);
	if (r->n == r->max) {
		it = &r->ring[r->head];
		atomic_fetch_add(&r->dropped, it->n);
		buf_free(&it->records);
		r->head = (r->head + 1) % r->max;
		r->n--;
	}
	it = &r->ring[(r->head + r->n) % r->max];
	memcpy(it->id, sender, AGENT_ID_SIZE);
	buf_init(&it->records, records->len + 1);
	if (buf_append(&it->records, records->data, records->len) == 0) {
		it->n = n;
		r->n++;
	} else {
		atomic_fetch_add(&r->dropped, n);
	}
	pthread_mutex_unlock(&r->lock);
	(void)eventfd_write(r->wake, 1);
}

/* What the receiver counted since the spool last took it. */
static void count(struct relay *r)
{
	uint64_t dropped = atomic_exchange(&r->dropped, 0);

	for (size_t i = 0; i < ARRAY_SIZE(counted); i++) {
		uint64_t now = atomic_load(counted[i].metric);
		if (now != r->seen[i])
			spool_count(r->spool, counted[i].counter, now - r->seen[i]);
		r->seen[i] = now;
	}
	if (dropped) {
		spool_count(r->spool, SPOOL_CTR_SYSLOG_DROPPED, dropped);
		log_warning("syslog: %" PRIu64 " records of devices dropped: the spool could not take them in time",
			    dropped);
	}
}

void relay_drain(struct relay *r)
{
	struct item it;

	if (!r)
		return;
	count(r);
	for (;;) {
		pthread_mutex_lock(&r->lock);
		if (!r->n || !pipeline_can_read(r->pipeline)) {
			pthread_mutex_unlock(&r->lock);
			return;
		}
		it = r->ring[r->head];
		r->head = (r->head + 1) % r->max;
		r->n--;
		pthread_mutex_unlock(&r->lock);
		if (pipeline_relay(r->pipeline, it.id, &it.records, it.n) == 0)
			spool_count(r->spool, SPOOL_CTR_SYSLOG_RELAYED, it.n);
		else
			spool_count(r->spool, SPOOL_CTR_SYSLOG_DROPPED, it.n);
		buf_free(&it.records);
	}
}

static int on_wake(sd_event_source *s, int fd, uint32_t events, void *userdata)
{
	eventfd_t v;

	(void)s, (void)events;
	(void)eventfd_read(fd, &v);
	relay_drain(userdata);
	return 0;
}

static int copy_conf(struct syslog_conf *to, const struct syslog_conf *from)
{
	*to = *from;
	to->listen = from->listen ? strdup(from->listen) : NULL;
	to->tls_cert = from->tls_cert ? strdup(from->tls_cert) : NULL;
	to->tls_key = from->tls_key ? strdup(from->tls_key) : NULL;
	to->tls_client_ca = from->tls_client_ca ? strdup(from->tls_client_ca) : NULL;
	to->utc_offset = from->utc_offset ? strdup(from->utc_offset) : NULL;
	return (from->listen && !to->listen) || (from->tls_cert && !to->tls_cert) || (from->tls_key && !to->tls_key) ||
			       (from->tls_client_ca && !to->tls_client_ca) || (from->utc_offset && !to->utc_offset) ?
		       -ENOMEM :
		       0;
}

void relay_stop(struct relay *r)
{
	if (!r)
		return;
	syslog_stop(r->receiver);
	relay_drain(r);
	sd_event_source_disable_unref(r->wake_source);
	if (r->wake >= 0)
		close(r->wake);
	for (; r->ring && r->n; r->n--, r->head = (r->head + 1) % r->max)
		buf_free(&r->ring[r->head].records);
	free(r->ring);
	free(r->conf.listen);
	free(r->conf.tls_cert);
	free(r->conf.tls_key);
	free(r->conf.tls_client_ca);
	free(r->conf.utc_offset);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

int relay_start(const struct syslog_conf *c, sd_event *event, struct pipeline *p, struct spool *spool,
		struct relay **ret)
{
	struct relay *r;
	int k;

	*ret = NULL;
	if (!c->listen || !*c->listen)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	r->pipeline = p;
	r->spool = spool;
	r->max = MAX(c->queue, (uint64_t)1);
	r->ring = calloc(r->max, sizeof(*r->ring));
	r->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	k = !r->ring ? -ENOMEM : r->wake < 0 ? -errno : copy_conf(&r->conf, c);
	for (size_t i = 0; i < ARRAY_SIZE(counted); i++)
		r->seen[i] = atomic_load(counted[i].metric);
	if (k == 0)
		k = sd_event_add_io(event, &r->wake_source, r->wake, EPOLLIN, on_wake, r);
	if (k == 0)
		k = syslog_start(&r->conf, &(struct syslog_sink){ put, r }, &r->receiver);
	if (k < 0) {
		relay_stop(r);
		return k;
	}
	*ret = r;
	return 0;
}
