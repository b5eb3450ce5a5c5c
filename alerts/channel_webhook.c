/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "alerts/channel.h"

/* A webhook gets the alert as the API shows it, with the notification's id and the target's name. */
static int webhook_request(struct channel_msg *m)
{
	json_t *body = json_deep_copy(json_array_get(m->payloads, 0));

	json_object_set_new(body, "notification_id", json_integer(m->id));
	json_object_set_new(body, "target", json_string(m->target->name));
	return channel_post_json(m, m->target->url, body);
}

static const char *webhook_judge(const struct channel_msg *m, long status, const struct buf *answer, char *why,
				 size_t size)
{
	(void)m;
	(void)answer;
	return channel_http_status(status, why, size);
}

const struct channel_ops channel_webhook = {
	.type = "webhook",
	.request = webhook_request,
	.judge = webhook_judge,
};
