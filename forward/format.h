/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_FORWARD_FORMAT_H
#define VIGIL_FORWARD_FORMAT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/export.h"
#include "store/logquery.h"

/*
 * A stored record as the message a forwarder sends (docs/security-center.md):
 * pure, from the record's decoded fields into a buffer. A format is a row of
 * the table forward_format_find() looks in (rfc5424, json); a framing puts
 * messages one after another on a stream (RFC 6587: octet counting, or a line
 * feed after each).
 */
struct forward_format;

/* The format called name, or NULL. */
const struct forward_format *forward_format_find(const char *name);
/* The formats' names, space-separated, for errors and docs. */
const char *forward_format_names(void);

/* What the renderer is given (log_query's render_ctx): the forwarder's settings and counters. */
struct forward_style {
	const struct forward_format *format;
	bool octet_counted; /* "LEN SP MSG"; else MSG LF, a line feed inside MSG written #012 */
	size_t max_message; /* longer messages are cut (at a character) and counted */
	const char *sd_id;  /* RFC 5424 structured data element naming the record ("vigil@32473") */
	atomic_uint_fast64_t *truncated;
	uint64_t *oldest_ts; /* lowered to each rendered record's time: the forwarder's lag */
};

/* log_render_fn (store/logquery.h) for ctx a struct forward_style: one framed message. */
int forward_render(struct buf *o, char separator, const struct log_cursor *pos, const char *host,
		   const struct export_field *f, size_t n, uint64_t ts, const void *ctx);

/*
 * An alert's event (an item of GET /api/v1/alerts/events) or an audit row
 * (of GET /api/v1/audit, host: this collector's name) as one framed
 * message: RFC 5424 from vigil, facility log alert (14) or log audit (13),
 * its members in structured data and its summary or detail as the text; or,
 * format=json, the item itself.
 */
int forward_render_alert_event(struct buf *o, const json_t *item, const struct forward_style *st);
int forward_render_audit_row(struct buf *o, const json_t *item, const char *host, const struct forward_style *st);
/*
 * A seal (an item of GET /api/v1/seals) the same way, log audit (13) at
 * notice, MSGID seal: its fields in structured data, from which the sealed
 * text is rebuilt (docs/storage.md); format=json carries that text too.
 */
int forward_render_seal(struct buf *o, const json_t *item, const char *host, const struct forward_style *st);

/* Whether sd_id is an RFC 5424 SD-ID: 1 to 32 printable ASCII characters but '=', ' ', ']' and '"'. */
bool forward_sd_id_valid(const char *sd_id);

/*
 * The next octet-counted message of p (len bytes) into *msg, *msg_len:
 * the bytes it takes, 0 at the end, -EBADMSG when p does not hold one.
 */
int forward_next_frame(const uint8_t *p, size_t len, const uint8_t **msg, size_t *msg_len);

#endif
