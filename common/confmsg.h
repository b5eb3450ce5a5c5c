/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_CONFMSG_H
#define VIGIL_CONFMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/frame.h"

/*
 * The central configuration's messages (docs/protocol.md, docs/control.md),
 * on the agent's REQ socket beside its batches. A batch's reply carries the
 * collector's config generation; an agent that has not yet asked at that
 * generation sends a config request, and the collector answers with the
 * configuration its config groups give an agent of those labels.
 */

#define CONFREQ_MAGIC 0x31434756u /* "VGC1" */
#define CONFREQ_HEADER_SIZE 32
#define CONFREQ_LABELS_MAX 1024
#define CONFREP_MAGIC 0x314b4756u /* "VGK1" */
#define CONFREP_HEADER_SIZE 24
#define CONFIG_TEXT_MAX (256 * 1024)
#define CONFIG_TESTS_MAX (256 * 1024)
#define CONFREQ_TAKES_DIALTESTS 1u /* flags: the agent runs the dial tests it is sent */

struct config_request {
	uint8_t agent_id[AGENT_ID_SIZE];
	uint32_t running; /* the version the agent runs (0: none) */
	bool takes_dialtests; /* an older agent is sent no dial tests */
	char labels[CONFREQ_LABELS_MAX + 1]; /* its local [agent] labels, "k=v k=v" */
};

enum config_status {
	CONFIG_OK = 0,          /* text is this agent's configuration */
	CONFIG_NONE = 1,        /* no group is for this agent: it runs on its own files alone */
	CONFIG_UNAVAILABLE = 2, /* ask again later */
	_CONFIG_STATUS_MAX,
};

struct config_reply {
	uint16_t status;
	uint32_t generation; /* what the batches' replies say while this holds */
	uint32_t version;    /* of text: the digest agents report */
	const uint8_t *text; /* CONFIG_OK: into the message decoded */
	size_t text_len;
	const uint8_t *tests; /* CONFIG_OK: the dial tests it runs, a JSON array (or nothing) */
	size_t tests_len;
};

/* The magic a message begins with (0 when shorter than 4 bytes): a batch or a config request. */
uint32_t confmsg_magic(const void *msg, size_t len);

/* Returns the encoded length; out holds CONFREQ_HEADER_SIZE + CONFREQ_LABELS_MAX. */
size_t config_request_encode(const struct config_request *q, uint8_t *out);
/* -EBADMSG when msg is not one, or its labels are too long or hold a NUL. */
int config_request_decode(const void *msg, size_t len, struct config_request *ret);

/* Appends the reply to out; -EINVAL when the text is over CONFIG_TEXT_MAX. */
int config_reply_encode(const struct config_reply *r, struct buf *out);
/* -EBADMSG when msg is not one; ret->text points into msg. */
int config_reply_decode(const void *msg, size_t len, struct config_reply *ret);

#endif
