/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <zstd.h>

#include "common/log.h"
#include "common/macro.h"
#include "agent/sealer.h"

enum job_state {
	JOB_NONE,
	JOB_RUNNING,
	JOB_IN_PLACE, /* compressed by the owner's thread, in sealer_submit() */
	JOB_FINISHED, /* frame ready, not yet released by the owner */
};

/*
 * A batch up to this size is compressed in place (a few hundred µs at
 * most): a quiet host's batches then wake no thread, and their result waits
 * for the owner's next look, not an eventfd's turn of the loop.
 */
#define IN_PLACE_MAX (64 * 1024)

struct sealer {
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum job_state state; /* under lock */
	bool quit;            /* under lock */
	struct buf raw;       /* the worker's while RUNNING */
	struct buf frame;
	struct frame_header h;
	int level;
	int error;
	ZSTD_CCtx *cctx;
	int efd;
	sd_event_source *efd_source;
	void (*done)(void *userdata);
	void *userdata;
};

static void *worker(void *arg)
{
	struct sealer *s = arg;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		uint64_t one = 1;

		while (s->state != JOB_RUNNING && !s->quit)
			pthread_cond_wait(&s->cond, &s->lock);
		if (s->quit)
			break;
		pthread_mutex_unlock(&s->lock);
		buf_reset(&s->frame);
		s->error = frame_build(s->cctx, &s->h, s->raw.data, s->raw.len, s->level, &s->frame);
		pthread_mutex_lock(&s->lock);
		s->state = JOB_FINISHED;
		pthread_cond_broadcast(&s->cond);
		if (write(s->efd, &one, sizeof(one)) < 0)
			log_warning("sealer: eventfd write failed, ignoring.");
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static int on_eventfd(sd_event_source *es, int fd, uint32_t revents, void *userdata)
{
	struct sealer *s = userdata;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warning("sealer: eventfd read failed, ignoring.");
	s->done(s->userdata);
	return 0;
}

int sealer_new(sd_event *event, void (*done)(void *userdata), void *userdata, struct sealer **ret)
{
	struct sealer *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->done = done;
	s->userdata = userdata;
	s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->cctx = ZSTD_createCCtx();
	buf_init(&s->raw, SIZE_MAX / 4);
	buf_init(&s->frame, SIZE_MAX / 4);
	if (s->efd < 0 || !s->cctx) {
		r = s->efd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	r = sd_event_add_io(event, &s->efd_source, s->efd, EPOLLIN, on_eventfd, s);
	if (r < 0)
		goto fail;
	if (pthread_create(&s->thread, NULL, worker, s) != 0) {
		r = -EAGAIN;
		goto fail;
	}
	s->started = true;
	*ret = s;
	return 0;
fail:
	sealer_free(s);
	return r;
}

void sealer_free(struct sealer *s)
{
	if (!s)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->lock);
		while (s->state == JOB_RUNNING)
			pthread_cond_wait(&s->cond, &s->lock);
		s->quit = true;
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->lock);
		(void)pthread_join(s->thread, NULL);
	}
	sd_event_source_disable_unref(s->efd_source);
	if (s->efd >= 0)
		(void)close(s->efd);
	ZSTD_freeCCtx(s->cctx);
	buf_free(&s->raw);
	buf_free(&s->frame);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int sealer_submit(struct sealer *s, struct buf *raw, const struct frame_header *h, int level)
{
	struct buf tmp;

	pthread_mutex_lock(&s->lock);
	if (s->state != JOB_NONE) {
		pthread_mutex_unlock(&s->lock);
		return -EBUSY;
	}
	/* The emptied buffer keeps the caller's ceiling; capacity is reused both ways. */
	tmp = s->raw;
	buf_reset(&tmp);
	tmp.max = raw->max;
	s->raw = *raw;
	*raw = tmp;
	s->h = *h;
	s->level = level;
	if (s->raw.len > IN_PLACE_MAX) {
		s->state = JOB_RUNNING;
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	s->state = JOB_IN_PLACE;
	pthread_mutex_unlock(&s->lock);
	buf_reset(&s->frame);
	s->error = frame_build(s->cctx, &s->h, s->raw.data, s->raw.len, s->level, &s->frame);
	pthread_mutex_lock(&s->lock);
	s->state = JOB_FINISHED;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

void sealer_wait(struct sealer *s)
{
	pthread_mutex_lock(&s->lock);
	while (s->state == JOB_RUNNING)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
}

const struct buf *sealer_result(struct sealer *s, struct frame_header *ret_h, int *ret_error)
{
	enum job_state st;

	pthread_mutex_lock(&s->lock);
	st = s->state;
	pthread_mutex_unlock(&s->lock);
	if (st != JOB_FINISHED)
		return NULL;
	*ret_h = s->h;
	*ret_error = s->error;
	return &s->frame;
}

void sealer_retry(struct sealer *s)
{
	pthread_mutex_lock(&s->lock);
	if (s->state == JOB_FINISHED) {
		s->state = JOB_RUNNING;
		pthread_cond_broadcast(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
}

void sealer_release(struct sealer *s)
{
	pthread_mutex_lock(&s->lock);
	if (s->state == JOB_FINISHED)
		s->state = JOB_NONE;
	pthread_mutex_unlock(&s->lock);
}
