/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/console.h"
#include "api/http-internal.h"
#include "common/metrics.h"

/* The answers every handler gives: a body, JSON, an error with its reason, and an errno's answer. */

enum MHD_Result respond_bytes(struct request *rq, unsigned status, const char *type, char *body, size_t len,
			       const char *const *headers)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!resp) {
		free(body);
		return MHD_NO;
	}
	for (size_t i = 0; headers && headers[i]; i += 2)
		(void)MHD_add_response_header(resp, headers[i], headers[i + 1]);
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	(void)MHD_add_response_header(resp, "Cache-Control", "no-store");
	console_common_headers(resp, http_tls_on(rq));
	if (status == MHD_HTTP_UNAUTHORIZED)
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"vigil\"");
	/* Said only of what passes: a database busy or out of reach for a moment. */
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	if (rq->set_cookie[0])
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, rq->set_cookie);
	ret = MHD_queue_response(rq->c, status, resp);
	MHD_destroy_response(resp);
	rq->status = status;
	return ret;
}

enum MHD_Result respond_json(struct request *rq, unsigned status, json_t *j)
{
	/* 15 digits: integers up to 10^15 exactly, and no binary noise (0.066, not 0.066000000000000003). */
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;

	json_decref(j);
	if (!s)
		return MHD_NO;
	return respond_bytes(rq, status, "application/json", s, strlen(s), NULL);
}

enum MHD_Result respond_error(struct request *rq, unsigned status, const char *error, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (status == MHD_HTTP_UNAUTHORIZED)
		metrics_add(&metrics.http_unauthorized, 1);
	else
		metrics_add(&metrics.http_errors, 1);
	return respond_json(rq, status, json_pack("{s:s, s:s}", "error", error, "reason", reason));
}

enum MHD_Result respond_errno(struct request *rq, int r, const char *reason)
{
	switch (r) {
	case -EINVAL:
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "%s", reason);
	case -ENOENT:
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "%s", reason);
	case -EEXIST:
	case -EPERM:
	case -EBUSY:
		return respond_error(rq, MHD_HTTP_CONFLICT, "conflict", "%s", reason);
	case -EAGAIN: /* SQLite's busy: another writer held the database past the busy timeout */
		return respond_error(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
				     "%s%sthe database is busy with another change; try again", reason, *reason ? ": " : "");
	case -EPIPE: /* only the database the collectors share says these */
	case -ECONNREFUSED:
		return respond_error(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
				     "%s%sthe database the collectors share (PostgreSQL) cannot be reached; try again", reason,
				     *reason ? ": " : "");
	default:
		return respond_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "%s%s%s", reason, *reason ? ": " : "",
				     strerror(-r));
	}
}
