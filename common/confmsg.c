/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "common/confmsg.h"
#include "common/macro.h"

/*
 * Request: magic, version (1), labels' length, agent id, running version,
 * flags, then the labels. Reply: magic, status, 2 bytes reserved,
 * generation, version, text's length, the tests' length, then the text and
 * the tests.
 */
#define CONFMSG_VERSION 1

uint32_t confmsg_magic(const void *msg, size_t len)
{
	return len < 4 ? 0 : get_le32(msg);
}

size_t config_request_encode(const struct config_request *q, uint8_t *out)
{
	size_t n = strnlen(q->labels, CONFREQ_LABELS_MAX);

	memset(out, 0, CONFREQ_HEADER_SIZE);
	put_le32(out, CONFREQ_MAGIC);
	put_le16(out + 4, CONFMSG_VERSION);
	put_le16(out + 6, (uint16_t)n);
	memcpy(out + 8, q->agent_id, AGENT_ID_SIZE);
	put_le32(out + 24, q->running);
	put_le32(out + 28, q->takes_dialtests ? CONFREQ_TAKES_DIALTESTS : 0);
	memcpy(out + CONFREQ_HEADER_SIZE, q->labels, n);
	return CONFREQ_HEADER_SIZE + n;
}

int config_request_decode(const void *msg, size_t len, struct config_request *ret)
{
	const uint8_t *p = msg;
	size_t n;

	if (len < CONFREQ_HEADER_SIZE || get_le32(p) != CONFREQ_MAGIC || get_le16(p + 4) != CONFMSG_VERSION)
		return -EBADMSG;
	n = get_le16(p + 6);
	if (n > CONFREQ_LABELS_MAX || len != CONFREQ_HEADER_SIZE + n || memchr(p + CONFREQ_HEADER_SIZE, 0, n))
		return -EBADMSG;
	memcpy(ret->agent_id, p + 8, AGENT_ID_SIZE);
	ret->running = get_le32(p + 24);
	ret->takes_dialtests = get_le32(p + 28) & CONFREQ_TAKES_DIALTESTS;
	memcpy(ret->labels, p + CONFREQ_HEADER_SIZE, n);
	ret->labels[n] = 0;
	return 0;
}

int config_reply_encode(const struct config_reply *r, struct buf *out)
{
	uint8_t h[CONFREP_HEADER_SIZE] = { 0 };
	size_t n = r->status == CONFIG_OK ? r->text_len : 0, t = r->status == CONFIG_OK ? r->tests_len : 0;
	int e;

	if (n > CONFIG_TEXT_MAX || t > CONFIG_TESTS_MAX)
		return -EINVAL;
	put_le32(h, CONFREP_MAGIC);
	put_le16(h + 4, r->status);
	put_le32(h + 8, r->generation);
	put_le32(h + 12, r->version);
	put_le32(h + 16, (uint32_t)n);
	put_le32(h + 20, (uint32_t)t);
	e = buf_reserve(out, sizeof(h) + n + t);
	if (e < 0)
		return e;
	(void)buf_append(out, h, sizeof(h));
	(void)buf_append(out, r->text, n);
	(void)buf_append(out, r->tests, t);
	return 0;
}

int config_reply_decode(const void *msg, size_t len, struct config_reply *ret)
{
	const uint8_t *p = msg;
	size_t n, t;

	if (len < CONFREP_HEADER_SIZE || get_le32(p) != CONFREP_MAGIC)
		return -EBADMSG;
	n = get_le32(p + 16);
	t = get_le32(p + 20);
	if (n > CONFIG_TEXT_MAX || t > CONFIG_TESTS_MAX || len != CONFREP_HEADER_SIZE + n + t)
		return -EBADMSG;
	ret->status = get_le16(p + 4);
	if (ret->status >= _CONFIG_STATUS_MAX || (ret->status != CONFIG_OK && (n || t)))
		return -EBADMSG;
	ret->generation = get_le32(p + 8);
	ret->version = get_le32(p + 12);
	ret->text = p + CONFREP_HEADER_SIZE;
	ret->text_len = n;
	ret->tests = p + CONFREP_HEADER_SIZE + n;
	ret->tests_len = t;
	return 0;
}
