/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>

#include "common/macro.h"
#include "common/util.h"
#include "api/http_audit.h"

#define SESSIONS_MAX 64
#define FAILURES_MAX 256

/* A pull going on: the cursor its last read was given. */
struct session {
	char user[128];
	char query[HTTP_AUDIT_OBJECT_MAX]; /* action and target without the cursor */
	char cursor[64];
	uint64_t last_us; /* 0: free */
};

/* Failed authentications from one address in the current window. */
struct failures {
	char address[64];
	uint64_t since_us; /* the first of the minute (its row is written); 0: free */
	uint64_t last_us;
	uint64_t more;     /* after the first, not written yet */
	char last_target[HTTP_AUDIT_OBJECT_MAX];
};

struct http_audit {
	pthread_mutex_t lock;
	struct audit *audit;
	uint64_t idle_us, window_us;
	struct session sessions[SESSIONS_MAX];
	struct failures failures[FAILURES_MAX];
};

int http_audit_new(struct audit *a, uint64_t session_idle_us, uint64_t failure_window_us, struct http_audit **ret)
{
	struct http_audit *ha = calloc(1, sizeof(*ha));

	if (!ha)
		return -ENOMEM;
	pthread_mutex_init(&ha->lock, NULL);
	ha->audit = a;
	ha->idle_us = session_idle_us;
	ha->window_us = failure_window_us;
	*ret = ha;
	return 0;
}

void http_audit_free(struct http_audit *ha)
{
	if (!ha)
		return;
	http_audit_flush(ha, UINT64_MAX);
	pthread_mutex_destroy(&ha->lock);
	free(ha);
}

/* target cut to HTTP_AUDIT_OBJECT_MAX with its length said, into out. */
static void cut_target(const char *target, char *out, size_t size)
{
	size_t n = strlen(target), keep = HTTP_AUDIT_OBJECT_MAX - 40;

	if (n < HTTP_AUDIT_OBJECT_MAX)
		(void)snprintf(out, size, "%s", target);
	else
		(void)snprintf(out, size, "%.*s... (%zu bytes)", (int)keep, target, n);
}

/* The target without its cursor= parameter: what stays the same across a pull's pages. */
static void strip_cursor(const char *target, char *out, size_t size)
{
	const char *q = strchr(target, '?'), *p;
	size_t n = 0;

	(void)snprintf(out, size, "%.*s", q ? (int)(q - target) : (int)strlen(target), target);
	n = strlen(out);
	for (p = q; p && *p && n < size; ) {
		const char *end = strchr(p + 1, '&');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (strncmp(p + 1, "cursor=", 7) != 0)
			n += (size_t)snprintf(out + n, size - n, "%.*s", (int)len, p);
		p = end;
	}
}

static void write_row(struct http_audit *ha, const struct http_audit_request *rq, const char *detail)
{
	char object[HTTP_AUDIT_OBJECT_MAX + 64];

	cut_target(rq->target, object, sizeof(object));
	(void)audit_record(ha->audit, &(struct audit_event){ .user = rq->user, .role = rq->role, .action = rq->action,
							     .object = object, .success = rq->status < 400,
							     .status = rq->status, .source = rq->source,
							     .detail = detail });
}

/*
 * Whether a paged read goes on from a session's last cursor (then it is
 * not written, and the session moves on); else the session starts here.
 */
static bool session_continues(struct http_audit *ha, const struct http_audit_request *rq, uint64_t now)
{
	struct session *s = NULL, *oldest = &ha->sessions[0];
	char query[HTTP_AUDIT_OBJECT_MAX], key[HTTP_AUDIT_OBJECT_MAX];
	bool goes_on;

	strip_cursor(rq->target, key, sizeof(key));
	(void)snprintf(query, sizeof(query), "%s %s", rq->action, key);
	for (size_t i = 0; i < SESSIONS_MAX && !s; i++) {
		struct session *x = &ha->sessions[i];
		if (x->last_us && strcmp(x->user, rq->user) == 0 && strcmp(x->query, query) == 0)
			s = x;
		else if (x->last_us < oldest->last_us)
			oldest = x;
	}
	goes_on = s && rq->cursor_in && strcmp(s->cursor, rq->cursor_in) == 0 && now - s->last_us <= ha->idle_us;
	if (!s) {
		s = oldest;
		(void)snprintf(s->user, sizeof(s->user), "%s", rq->user);
		(void)snprintf(s->query, sizeof(s->query), "%s", query);
	}
	(void)snprintf(s->cursor, sizeof(s->cursor), "%s", rq->cursor_out ? rq->cursor_out : "");
	s->last_us = now;
	return goes_on;
}

static void write_failures(struct http_audit *ha, struct failures *f)
{
	char detail[256], from[40], to[40];
	const struct http_audit_request rq = { .user = "-", .role = "-", .action = "auth.failed",
					       .target = f->last_target, .source = f->address, .status = 401 };

	format_rfc3339_us(f->since_us, from, sizeof(from));
	format_rfc3339_us(f->last_us, to, sizeof(to));
	(void)snprintf(detail, sizeof(detail),
		       "%" PRIu64 " more failed authentications from %s from %s to %s, counted in one row; the last "
		       "asked for the object shown", f->more, f->address, from, to);
	write_row(ha, &rq, detail);
	f->more = 0;
}

/* A failed authentication: written if it is its address's first this minute, else counted. */
static void failed_auth(struct http_audit *ha, const struct http_audit_request *rq, uint64_t now)
{
	struct failures *f = NULL, *oldest = &ha->failures[0];

	for (size_t i = 0; i < FAILURES_MAX && !f; i++) {
		struct failures *x = &ha->failures[i];
		if (x->since_us && strcmp(x->address, rq->address) == 0)
			f = x;
		else if (x->since_us < oldest->since_us)
			oldest = x;
	}
	if (f && now - f->since_us < ha->window_us) {
		f->more++;
		f->last_us = now;
		cut_target(rq->target, f->last_target, sizeof(f->last_target));
		return;
	}
	if (!f) {
		f = oldest;
		if (f->since_us && f->more)
			write_failures(ha, f);
		(void)snprintf(f->address, sizeof(f->address), "%s", rq->address);
	} else if (f->more) {
		write_failures(ha, f);
	}
	f->since_us = f->last_us = now;
	f->more = 0;
	write_row(ha, rq, rq->detail);
}

void http_audit_record(struct http_audit *ha, const struct http_audit_request *rq, uint64_t now_us)
{
	char detail[256];

	pthread_mutex_lock(&ha->lock);
	if (rq->status == 401) {
		failed_auth(ha, rq, now_us);
	} else if (rq->paged && rq->status < 400) {
		if (!session_continues(ha, rq, now_us)) {
			(void)snprintf(detail, sizeof(detail), "pull session from %s%s; its pages within %" PRIu64
				       " s of each other are this row",
				       rq->cursor_in ? "cursor " : "the start", rq->cursor_in ? rq->cursor_in : "",
				       ha->idle_us / USEC_PER_SEC);
			write_row(ha, rq, detail);
		}
	} else {
		write_row(ha, rq, rq->detail);
	}
	pthread_mutex_unlock(&ha->lock);
}

void http_audit_flush(struct http_audit *ha, uint64_t now_us)
{
	pthread_mutex_lock(&ha->lock);
	for (size_t i = 0; i < FAILURES_MAX; i++) {
		struct failures *f = &ha->failures[i];
		if (f->since_us && f->more && now_us - MIN(now_us, f->since_us) >= ha->window_us)
			write_failures(ha, f);
	}
	pthread_mutex_unlock(&ha->lock);
}
