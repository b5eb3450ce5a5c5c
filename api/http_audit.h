/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_HTTP_AUDIT_H
#define VIGIL_HTTP_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "api/audit.h"

/*
 * What of the API's requests goes into the audit log, and how much of it.
 *
 * - A pull session is one row: a read of a paged endpoint (logs, the audit
 *   log) that goes on from the cursor the same user's previous read of the
 *   same query was given, within the idle time, is covered by the row of
 *   that session's first read. So a puller that reads to the end gets an
 *   empty page, although its reads are recorded (GB/T 22239-2019 8.1.4.3).
 * - Failed authentications are recorded per source address: the first of
 *   a window (a minute by default) as a row, the rest of that window
 *   counted and written as one row when it ends, so no one without a token
 *   can fill the disk.
 * - Objects are the request target as sent (still percent-encoded), cut to
 *   HTTP_AUDIT_OBJECT_MAX bytes with the length it had.
 *
 * Thread-safe. The audit log is borrowed and must outlive it.
 */
struct http_audit;

#define HTTP_AUDIT_OBJECT_MAX 512

/* One answered request; every pointer is borrowed for the call. */
struct http_audit_request {
	const char *user, *role; /* "-" when no valid token was given */
	const char *action;      /* e.g. "logs.read", "auth.failed" */
	const char *target;      /* the request target as sent: path and query */
	const char *address;     /* the peer's address, without the port */
	const char *source;      /* the peer as "ADDRESS:PORT" */
	unsigned status;
	const char *detail;      /* what was done to what, or NULL */
	bool paged;              /* a cursor-paged read: its pulls are sessions */
	const char *cursor_in;   /* paged: the cursor asked with (NULL: none) */
	const char *cursor_out;  /* paged: the next_cursor answered */
};

int http_audit_new(struct audit *a, uint64_t session_idle_us, uint64_t failure_window_us, struct http_audit **ret);
/* Writes what is still counted (http_audit_flush()) and frees. NULL is fine. */
void http_audit_free(struct http_audit *ha);

void http_audit_record(struct http_audit *ha, const struct http_audit_request *rq, uint64_t now_us);
/* Writes the failed authentications counted in windows that ended by now_us: call it every window or so. */
void http_audit_flush(struct http_audit *ha, uint64_t now_us);

#endif
