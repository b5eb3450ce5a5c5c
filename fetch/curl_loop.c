/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdlib.h>

#include "common/log.h"
#include "fetch/curl_loop.h"

struct curl_loop {
	sd_event *event;
	CURLM *multi;
	sd_event_source *timer;
};

/* What CURLOPT_PRIVATE points at while a transfer is in the loop. */
struct transfer {
	curl_done_fn done;
	void *userdata;
};

static void check_done(struct curl_loop *l)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(l->multi, &left))) {
		struct transfer *t = NULL;
		CURL *easy = m->easy_handle;
		CURLcode rc = m->data.result;

		if (m->msg != CURLMSG_DONE)
			continue;
		(void)curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
		(void)curl_multi_remove_handle(l->multi, easy);
		(void)curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		if (t) {
			curl_done_fn done = t->done;
			void *userdata = t->userdata;
			free(t);
			done(easy, rc, userdata);
		}
	}
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct curl_loop *l = userdata;
	int action = 0, running;

	if (revents & (EPOLLIN | EPOLLHUP))
		action |= CURL_CSELECT_IN;
	if (revents & EPOLLOUT)
		action |= CURL_CSELECT_OUT;
	if (revents & EPOLLERR)
		action |= CURL_CSELECT_ERR;
	(void)curl_multi_socket_action(l->multi, fd, action, &running);
	check_done(l);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct curl_loop *l = userdata;
	int running;

	(void)curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(l);
	return 0;
}

/* CURLMOPT_SOCKETFUNCTION: one I/O source per socket, kept as curl's socket data. */
static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userdata, void *socketp)
{
	struct curl_loop *l = userdata;
	sd_event_source *s = socketp;
	uint32_t events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);

	if (what == CURL_POLL_REMOVE) {
		sd_event_source_disable_unref(s);
		(void)curl_multi_assign(l->multi, fd, NULL);
		return 0;
	}
	if (s) {
		(void)sd_event_source_set_io_events(s, events);
		return 0;
	}
	if (sd_event_add_io(l->event, &s, fd, events, on_io, l) < 0) {
		log_warning("curl: cannot watch socket %d, ignoring.", fd);
		return -1;
	}
	(void)curl_multi_assign(l->multi, fd, s);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: one timer for the whole multi handle. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userdata)
{
	struct curl_loop *l = userdata;

	if (timeout_ms < 0)
		return sd_event_source_set_enabled(l->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
	(void)sd_event_source_set_time_relative(l->timer, (uint64_t)timeout_ms * 1000);
	return sd_event_source_set_enabled(l->timer, SD_EVENT_ONESHOT) < 0 ? -1 : 0;
}

int curl_loop_new(sd_event *event, struct curl_loop **ret)
{
	struct curl_loop *l = calloc(1, sizeof(*l));
	int r;

	if (!l)
		return -ENOMEM;
	l->event = event;
	l->multi = curl_multi_init();
	if (!l->multi) {
		free(l);
		return -ENOMEM;
	}
	r = sd_event_add_time_relative(event, &l->timer, CLOCK_MONOTONIC, 0, 1000, on_timer, l);
	if (r < 0) {
		curl_loop_free(l);
		return r;
	}
	(void)sd_event_source_set_enabled(l->timer, SD_EVENT_OFF);
	(void)curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	(void)curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l);
	(void)curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	(void)curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l);
	*ret = l;
	return 0;
}

void curl_loop_free(struct curl_loop *l)
{
	if (!l)
		return;
	if (l->multi)
		(void)curl_multi_cleanup(l->multi);
	sd_event_source_disable_unref(l->timer);
	free(l);
}

int curl_loop_add(struct curl_loop *l, CURL *easy, curl_done_fn done, void *userdata)
{
	struct transfer *t = malloc(sizeof(*t));

	if (!t)
		return -ENOMEM;
	*t = (struct transfer){ .done = done, .userdata = userdata };
	(void)curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
	if (curl_multi_add_handle(l->multi, easy) != CURLM_OK) {
		(void)curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		free(t);
		return -EIO;
	}
	return 0;
}

void curl_loop_remove(struct curl_loop *l, CURL *easy)
{
	struct transfer *t = NULL;

	(void)curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
	(void)curl_multi_remove_handle(l->multi, easy);
	(void)curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
	free(t);
}

/* curl's certinfo says "Expire date:Dec  3 22:56:55 2026 GMT". */
int curl_cert_expiry(CURL *e, time_t *ret)
{
	struct curl_certinfo *ci = NULL;
	struct tm tm = { 0 };

	if (curl_easy_getinfo(e, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci || ci->num_of_certs < 1)
		return -ENODATA;
	for (struct curl_slist *s = ci->certinfo[0]; s; s = s->next)
		if (strncmp(s->data, "Expire date:", 12) == 0 && strptime(s->data + 12, "%b %d %H:%M:%S %Y GMT", &tm)) {
			*ret = timegm(&tm);
			return 0;
		}
	return -ENODATA;
}
