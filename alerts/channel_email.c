/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <time.h>

#include "alerts/channel.h"
#include "alerts/message.h"
#include "common/macro.h"
#include "common/util.h"

/* RFC 2047: "=?UTF-8?B?...?=" for a header value that may hold Chinese. */
static int encoded_word(struct buf *out, const char *text)
{
	size_t n = strlen(text);
	char *b64 = malloc(4 * ((n + 2) / 3) + 1);
	int r;

	if (!b64)
		return -ENOMEM;
	(void)EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)text, (int)n);
	r = buf_printf(out, "=?UTF-8?B?%s?=", b64);
	free(b64);
	return r;
}

/* text in Base64, in lines of 76 characters as MIME wants. */
static int base64_lines(struct buf *out, const char *text)
{
	size_t n = strlen(text);

	for (size_t i = 0; i < n; i += 57) {
		unsigned char line[80];
		int len = EVP_EncodeBlock(line, (const unsigned char *)text + i, (int)MIN(57, n - i));
		int r = buf_append(out, line, (size_t)len);

		if (r == 0)
			r = buf_append(out, "\r\n", 2);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The message as SMTP's DATA carries it: headers, then the text in Base64 (UTF-8 safe). */
static char *mail_message(struct channel_msg *m, const char *title, const char *text)
{
	const struct notify_conf *t = m->target;
	time_t now = (time_t)(now_realtime_us() / USEC_PER_SEC);
	const char *w = t->to;
	char rcpt[256], date[64];
	struct buf out;
	struct tm tm;
	int r;

	buf_init(&out, 256 * 1024);
	(void)strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", localtime_r(&now, &tm));
	r = buf_printf(&out, "Date: %s\r\nFrom: %s\r\nTo: ", date, t->from);
	for (bool first = true; r == 0 && next_word(&w, rcpt, sizeof(rcpt)); first = false)
		r = buf_printf(&out, "%s%s", first ? "" : ", ", rcpt);
	if (r == 0)
		r = buf_printf(&out, "\r\nSubject: ");
	if (r == 0)
		r = encoded_word(&out, title);
	if (r == 0)
		r = buf_printf(&out, "\r\nMessage-ID: <vigil-notification-%lld-%lld@vigil>\r\nX-Vigil-Notification: %lld\r\n"
				     "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
				     "Content-Transfer-Encoding: base64\r\n\r\n",
			       (long long)m->id, (long long)now, (long long)m->id);
	if (r == 0)
		r = base64_lines(&out, text);
	if (r == 0)
		r = buf_terminate(&out);
	if (r < 0) {
		buf_free(&out);
		return NULL;
	}
	return (char *)out.data; /* the buffer's memory, handed over */
}

static size_t mail_read(char *dst, size_t size, size_t n, void *userdata)
{
	struct channel_msg *m = userdata;
	size_t left = strlen(m->body + m->sent), k = MIN(left, size * n);

	memcpy(dst, m->body + m->sent, k);
	m->sent += k;
	return k;
}

/* An email through the target's SMTP server: STARTTLS required unless starttls=no (smtps:// is TLS from the start). */
static int mail_send(struct channel_msg *m, const char *title, const char *text)
{
	const struct notify_conf *t = m->target;
	const char *w = t->to;
	char rcpt[256], from[300], *password = t->username ? channel_secret(t) : NULL;
	int r = 0;

	m->body = mail_message(m, title, text);
	while (next_word(&w, rcpt, sizeof(rcpt))) {
		struct curl_slist *l = curl_slist_append(m->headers, rcpt);

		if (!l)
			r = -ENOMEM;
		else
			m->headers = l;
	}
	(void)snprintf(from, sizeof(from), "<%s>", t->from);
	if (!m->body || !m->headers || r < 0 || (t->username && !password))
		r = -EINVAL;
	else if (curl_easy_setopt(m->easy, CURLOPT_URL, t->url) != CURLE_OK ||
		 curl_easy_setopt(m->easy, CURLOPT_MAIL_FROM, from) != CURLE_OK ||
		 curl_easy_setopt(m->easy, CURLOPT_MAIL_RCPT, m->headers) != CURLE_OK ||
		 curl_easy_setopt(m->easy, CURLOPT_USE_SSL, t->starttls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY) !=
			 CURLE_OK ||
		 curl_easy_setopt(m->easy, CURLOPT_READFUNCTION, mail_read) != CURLE_OK ||
		 curl_easy_setopt(m->easy, CURLOPT_READDATA, m) != CURLE_OK ||
		 curl_easy_setopt(m->easy, CURLOPT_UPLOAD, 1L) != CURLE_OK ||
		 (t->username && (curl_easy_setopt(m->easy, CURLOPT_USERNAME, t->username) != CURLE_OK ||
				  curl_easy_setopt(m->easy, CURLOPT_PASSWORD, password) != CURLE_OK)))
		r = -EINVAL;
	if (password)
		explicit_bzero(password, strlen(password));
	free(password);
	return r;
}

static int email_request(struct channel_msg *m)
{
	char title[1024];
	struct buf text;
	int r;

	buf_init(&text, 64 * 1024);
	message_render(m->target, m->payloads, title, sizeof(title), &text);
	r = text.data ? mail_send(m, title, (const char *)text.data) : -ENOMEM;
	buf_free(&text);
	return r;
}

/* curl fails the transfer on any refusal; a completed one ended with 250. */
static const char *email_judge(const struct channel_msg *m, long status, const struct buf *answer, char *why,
			       size_t size)
{
	(void)m;
	(void)status;
	(void)answer;
	(void)why;
	(void)size;
	return NULL;
}

const struct channel_ops channel_email = {
	.type = "email", .mail = true,
	.request = email_request, .judge = email_judge,
};
