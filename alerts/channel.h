/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_CHANNEL_H
#define VIGIL_CHANNEL_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts/defs.h"
#include "common/buf.h"

/*
 * The notification channels (type= of a [notify]): an ops table. A channel
 * turns one message (one notification, or a digest of several) into a
 * request on a curl handle, and judges the answer. The sender (notify.c)
 * knows nothing of any service; a channel nothing of queues. A new channel
 * is an entry in channel.c and a file of its own.
 */

/* One message on its way; the channel sets headers and body, which the sender frees. */
struct channel_msg {
	const struct notify_conf *target;
	CURL *easy;
	json_t *payloads;      /* one per notification carried (the alert as the API shows it, with "event") */
	int64_t id;            /* the first notification's id: the message's (X-Vigil-Notification) */
	struct curl_slist *headers; /* HTTP: the headers; email: the recipients */
	char *body;                 /* HTTP: the request body; email: the whole message */
	size_t sent;                /* email: bytes of body curl has read */
};

struct channel_ops {
	const char *type;     /* type= */
	uint64_t rate_limit;  /* messages a minute the service takes (0: no limit); past it, one digest */
	bool rate_limited;    /* rate_limit= may change it */
	bool signs;           /* secret= is a signing secret */
	bool mail;            /* email: url= is smtp:// or smtps://, and from=, to=, username= apply */
	/* The request for m on m->easy: URL, headers, body. 0, or -EINVAL when it cannot be made. */
	int (*request)(struct channel_msg *m);
	/*
	 * Whether the service took it: NULL, or why not (into why). Called
	 * only for a transfer curl completed; status is the HTTP (or SMTP)
	 * status, answer what the service said.
	 */
	const char *(*judge)(const struct channel_msg *m, long status, const struct buf *answer, char *why,
			     size_t size);
};

/* The channel called type, or NULL. */
const struct channel_ops *channel_find(const char *type);
/* Every channel, in the order "type=...: expected ..." lists them. */
extern const struct channel_ops *const channels[];
extern const size_t n_channels;

/* Helpers the channels share (channel.c). */
/* The first line of secret_file, or secret=: the caller frees it; NULL when neither (or unreadable, logged). */
char *channel_secret(const struct notify_conf *t);
/* Base64(HMAC-SHA256(key, msg)) into out; -EIO on failure. */
int channel_hmac_b64(const char *key, const char *msg, char out[static 64]);
/* JSON headers and body (taken over) for an HTTP POST of m to url. */
int channel_post_json(struct channel_msg *m, const char *url, json_t *body);
/* "HTTP 500" into why when status is not 2xx, else NULL. */
const char *channel_http_status(long status, char *why, size_t size);

/* The channels. */
extern const struct channel_ops channel_webhook, channel_dingtalk, channel_wecom, channel_feishu, channel_email;

#endif
