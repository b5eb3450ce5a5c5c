/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>

#include "alerts/channel.h"
#include "alerts/message.h"
#include "common/macro.h"
#include "common/util.h"

/* The chat robots (DingTalk, WeCom, Feishu): a markdown or text message; each answers 200 and says in the body whether it took it. */

/* The message's title and text into title and text; -ENOMEM when it could not be made. */
static int render(struct channel_msg *m, char *title, size_t tsize, struct buf *text)
{
	buf_init(text, 64 * 1024);
	message_render(m->target, m->payloads, title, tsize, text);
	return text->data ? 0 : -ENOMEM;
}

/* DingTalk's signature: Base64(HMAC-SHA256(secret, "<ms>\n<secret>")), URL-encoded, in the query. */
static char *dingtalk_url(CURL *easy, const char *url, const char *secret)
{
	long long ms = (long long)(now_realtime_us() / 1000);
	char msg[600], b64[64], *sign, *out = NULL;

	if (!secret)
		return strdup(url);
	(void)snprintf(msg, sizeof(msg), "%lld\n%s", ms, secret);
	if (channel_hmac_b64(secret, msg, b64) < 0)
		return NULL;
	sign = curl_easy_escape(easy, b64, 0);
	if (sign && asprintf(&out, "%s%ctimestamp=%lld&sign=%s", url, strchr(url, '?') ? '&' : '?', ms, sign) < 0)
		out = NULL;
	curl_free(sign);
	return out;
}

static void secret_free(char *secret)
{
	if (secret)
		explicit_bzero(secret, strlen(secret));
	free(secret);
}

static int dingtalk_request(struct channel_msg *m)
{
	char title[1024], *secret, *url;
	struct buf text;
	int r = render(m, title, sizeof(title), &text);

	if (r < 0)
		return r;
	secret = channel_secret(m->target);
	url = dingtalk_url(m->easy, m->target->url, secret);
	r = channel_post_json(m, url, json_pack("{s:s, s:{s:s, s:s}}", "msgtype", "markdown", "markdown", "title", title,
						"text", (const char *)text.data));
	secret_free(secret);
	free(url);
	buf_free(&text);
	return r;
}

/* The key is in the URL; markdown content is refused past MESSAGE_TEXT_MAX bytes. */
static int wecom_request(struct channel_msg *m)
{
	char title[1024];
	struct buf text;
	int r = render(m, title, sizeof(title), &text);

	if (r < 0)
		return r;
	r = channel_post_json(m, m->target->url,
			      json_pack("{s:s, s:{s:s%}}", "msgtype", "markdown", "markdown", "content",
					(const char *)text.data, utf8_prefix((const char *)text.data, MESSAGE_TEXT_MAX)));
	buf_free(&text);
	return r;
}

/* Feishu: HMAC-SHA256 keyed with "<seconds>\n<secret>" over nothing, in the body. */
static int feishu_request(struct channel_msg *m)
{
	char title[1024], ts[24], sign[64] = "", key[600], *secret;
	struct buf text;
	json_t *body;
	int r = render(m, title, sizeof(title), &text);

	if (r < 0)
		return r;
	secret = channel_secret(m->target);
	(void)snprintf(ts, sizeof(ts), "%lld", (long long)(now_realtime_us() / USEC_PER_SEC));
	if (secret) {
		(void)snprintf(key, sizeof(key), "%s\n%s", ts, secret);
		if (channel_hmac_b64(key, "", sign) < 0)
			sign[0] = 0;
		explicit_bzero(key, sizeof(key));
	}
	body = json_pack("{s:s, s:{s:s}}", "msg_type", "text", "content", "text", (const char *)text.data);
	if (body && secret) {
		json_object_set_new(body, "timestamp", json_string(ts));
		json_object_set_new(body, "sign", json_string(sign));
	}
	r = channel_post_json(m, m->target->url, body);
	secret_free(secret);
	buf_free(&text);
	return r;
}

static const char *str(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

/* The robots answer 200 and say in the body whether they took it (errcode, code or StatusCode 0). */
static const char *chat_judge(const struct channel_msg *m, long status, const struct buf *answer, char *why,
			      size_t size)
{
	json_t *a = NULL;
	json_int_t errcode;

	if (channel_http_status(status, why, size))
		return why;
	if (answer->data)
		a = json_loadb((const char *)answer->data, answer->len, 0, NULL);
	errcode = !a					 ? -1 :
		  json_object_get(a, "errcode")		 ? json_integer_value(json_object_get(a, "errcode")) :
		  json_object_get(a, "code")		 ? json_integer_value(json_object_get(a, "code")) :
		  json_object_get(a, "StatusCode")	 ? json_integer_value(json_object_get(a, "StatusCode")) :
							   -1;
	if (errcode != 0)
		(void)snprintf(why, size, "%s answered code %lld: %s", m->target->type, (long long)errcode,
			       !a ? "not a JSON answer" : json_object_get(a, "errmsg") ? str(a, "errmsg") : str(a, "msg"));
	json_decref(a);
	return errcode ? why : NULL;
}

const struct channel_ops channel_dingtalk = {
	.type = "dingtalk", .rate_limit = 20, .rate_limited = true, .signs = true,
	.request = dingtalk_request, .judge = chat_judge,
};
const struct channel_ops channel_wecom = {
	.type = "wecom", .rate_limit = 20, .rate_limited = true,
	.request = wecom_request, .judge = chat_judge,
};
const struct channel_ops channel_feishu = {
	.type = "feishu", .rate_limit = 100, .rate_limited = true, .signs = true,
	.request = feishu_request, .judge = chat_judge,
};
