/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>

#include "alerts/channel.h"
#include "common/log.h"
#include "common/macro.h"

/* In the order "type=...: expected webhook, dingtalk, wecom, feishu or email" lists them. */
const struct channel_ops *const channels[] = {
	&channel_webhook, &channel_dingtalk, &channel_wecom, &channel_feishu, &channel_email,
};
const size_t n_channels = ARRAY_SIZE(channels);

const struct channel_ops *channel_find(const char *type)
{
	for (size_t i = 0; type && i < ARRAY_SIZE(channels); i++)
		if (strcmp(channels[i]->type, type) == 0)
			return channels[i];
	return NULL;
}

char *channel_secret(const struct notify_conf *t)
{
	char line[512];
	FILE *f;

	if (!t->secret_file)
		return t->secret ? strdup(t->secret) : NULL;
	f = fopen(t->secret_file, "re");
	if (!f || !fgets(line, sizeof(line), f)) {
		log_error("notify %s: cannot read secret_file=%s: %m", t->name, t->secret_file);
		if (f)
			fclose(f);
		return NULL;
	}
	fclose(f);
	line[strcspn(line, "\r\n")] = 0;
	return strdup(line);
}

int channel_hmac_b64(const char *key, const char *msg, char out[static 64])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;

	if (!HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)msg, strlen(msg), mac, &mac_len) ||
	    mac_len != 32)
		return -EIO;
	(void)EVP_EncodeBlock((unsigned char *)out, mac, (int)mac_len);
	return 0;
}

int channel_post_json(struct channel_msg *m, const char *url, json_t *body)
{
	char header[64];

	m->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	(void)snprintf(header, sizeof(header), "X-Vigil-Notification: %lld", (long long)m->id);
	m->headers = curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8");
	if (m->headers)
		m->headers = curl_slist_append(m->headers, header);
	if (!m->body || !url || !m->headers)
		return -EINVAL;
	(void)curl_easy_setopt(m->easy, CURLOPT_URL, url);
	(void)curl_easy_setopt(m->easy, CURLOPT_HTTPHEADER, m->headers);
	(void)curl_easy_setopt(m->easy, CURLOPT_POSTFIELDS, m->body);
	return 0;
}

const char *channel_http_status(long status, char *why, size_t size)
{
	if (status >= 200 && status <= 299)
		return NULL;
	(void)snprintf(why, size, "HTTP %ld", status);
	return why;
}
