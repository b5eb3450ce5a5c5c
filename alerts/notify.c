/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <time.h>

#include "common/buf.h"
#include "common/db.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/util.h"
#include "store/storage.h"
#include "common/metrics.h"
#include "alerts/notify.h"
#include "fetch/curl_loop.h"

#define IN_FLIGHT_MAX 8
#define ATTEMPTS_MAX 10
#define BACKOFF_MAX_US (10 * 60 * USEC_PER_SEC)
#define ANSWER_MAX (64 * 1024)
/* Most notifications one digest carries. */
#define DIGEST_MAX 50
#define MINUTE_US (60 * USEC_PER_SEC)

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS notifications(id INTEGER PRIMARY KEY, alert INTEGER NOT NULL,"
	" target TEXT NOT NULL, event TEXT NOT NULL, payload TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'queued',"
	" attempts INTEGER NOT NULL DEFAULT 0, next_attempt INTEGER NOT NULL, last_error TEXT,"
	" created INTEGER NOT NULL, sent INTEGER, digest INTEGER);"
	"CREATE INDEX IF NOT EXISTS notifications_due ON notifications(state, next_attempt);"
	"CREATE INDEX IF NOT EXISTS notifications_sent ON notifications(target, sent);";

int notify_schema(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int r = db_exec(db, schema);

	/* digest (the first notification of the message that carried it) came after the table. */
	if (r < 0 || sqlite3_prepare_v2(db, "SELECT digest FROM notifications LIMIT 0", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_finalize(st);
		return r;
	}
	return db_exec(db, "ALTER TABLE notifications ADD COLUMN digest INTEGER");
}

int notify_enqueue(sqlite3 *db, int64_t alert, const char *target, const char *event, const char *payload,
		   uint64_t now_us)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(db,
			       "INSERT INTO notifications(alert, target, event, payload, next_attempt, created)"
			       " VALUES (?1,?2,?3,?4,?5,?5)",
			       &st);

	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, alert);
	sqlite3_bind_text(st, 2, target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, event, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, payload, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)now_us);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

/* A notification as the queue holds it. */
struct queued {
	int64_t id, alert;
	unsigned attempts;
};

/* One message being sent: a notification, or a digest of several to a rate-limited target. */
struct delivery {
	struct notifier *n;
	struct queued q[DIGEST_MAX]; /* q[0] names the message (X-Vigil-Notification) */
	size_t n_q;
	const struct catalog_snapshot *defs; /* a reference: target stays valid while the request runs */
	const struct notify_conf *target;
	CURL *easy;
	struct curl_slist *headers; /* HTTP: the headers; email: the recipients */
	char *body;                 /* HTTP: the request body; email: the whole message */
	size_t sent;                /* email: bytes of body read by curl */
	struct buf answer;
	char error[CURL_ERROR_SIZE];
	bool busy;
};

struct notifier {
	const struct coll_conf *conf;
	struct catalog *catalog;
	sqlite3 *db;
	struct curl_loop *curl;
	sd_event_source *timer; /* every second: what is due */
	sd_event_source *kick;  /* at once: new notifications */
	struct delivery d[IN_FLIGHT_MAX];
};

#define WECOM_CONTENT_MAX 2048

static const char *const severity_zh[][2] = {
	{ "info", "信息" }, { "warning", "警告" }, { "critical", "严重" }, { "disaster", "灾难" },
};

static const char *word(const char *lang, const char *en, const char *zh)
{
	return strcmp(lang, "zh") == 0 ? zh : en;
}

static const char *severity_word(const char *lang, const char *sev)
{
	for (size_t i = 0; strcmp(lang, "zh") == 0 && i < ARRAY_SIZE(severity_zh); i++)
		if (strcmp(severity_zh[i][0], sev) == 0)
			return severity_zh[i][1];
	return sev;
}

static const char *event_word(const char *lang, const char *event)
{
	if (strcmp(event, "fired") == 0)
		return word(lang, "FIRING", "告警");
	if (strcmp(event, "resolved") == 0)
		return word(lang, "RESOLVED", "已恢复");
	if (strcmp(event, "test") == 0)
		return word(lang, "TEST, nothing is wrong", "测试: 无故障");
	if (strcmp(event, "escalated") == 0)
		return word(lang, "ESCALATED, nobody acknowledged it", "升级: 无人确认");
	return word(lang, "FLAPPING", "频繁波动");
}

static const char *str(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

/*
 * "[critical] FIRING: summary" (cut to fit title, whole characters only)
 * and a markdown body: what, where, since when, severity, the value, the link to the alert.
 */
static void message(const struct notify_conf *t, json_t *p, char *title, size_t tsize, struct buf *text)
{
	const char *lang = t->lang, *sev = severity_word(lang, str(p, "severity"));
	time_t since = (time_t)(json_integer_value(json_object_get(p, "started")) / 1000000);
	char when[64];
	struct tm tm;
	size_t n;

	if (localtime_r(&since, &tm))
		(void)strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm);
	else
		(void)snprintf(when, sizeof(when), "?");
	(void)buf_printf(text, "[%s] %s: %s", sev, event_word(lang, str(p, "event")), str(p, "summary"));
	(void)buf_terminate(text);
	n = utf8_prefix((const char *)text->data, tsize - 1);
	memcpy(title, text->data, n);
	title[n] = 0;
	buf_reset(text);
	(void)buf_printf(text, "### [%s] %s: %s\n\n- %s: %s\n- %s: %s\n- %s: %s\n- %s: %s\n- %s: %s\n- %s: %lld\n", sev,
			 event_word(lang, str(p, "event")), str(p, "summary"), word(lang, "Host", "主机"), str(p, "host"),
			 word(lang, "Rule", "规则"), str(p, "rule"), word(lang, "Severity", "级别"), sev,
			 word(lang, "Since", "开始时间"), when, word(lang, "Value", "当前值"), str(p, "value"),
			 word(lang, "Alert", "告警编号"), (long long)json_integer_value(json_object_get(p, "id")));
	if (*str(p, "url"))
		(void)buf_printf(text, "- %s: %s\n", word(lang, "Details", "详情"), str(p, "url"));
	(void)buf_terminate(text);
}

/* The first line of secret_file, or secret=. NULL when neither (or unreadable, logged). */
static char *target_secret(const struct notify_conf *t)
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

/* Base64(HMAC-SHA256(key, msg)) into out (room for 64 bytes); -EIO on failure. */
static int hmac_b64(const char *key, const char *msg, char out[static 64])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;

	if (!HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)msg, strlen(msg), mac, &mac_len) ||
	    mac_len != 32)
		return -EIO;
	(void)EVP_EncodeBlock((unsigned char *)out, mac, (int)mac_len);
	return 0;
}

/* DingTalk's signature: Base64(HMAC-SHA256(secret, "<ms>\n<secret>")), URL-encoded, in the query. */
static char *dingtalk_url(CURL *easy, const char *url, const char *secret)
{
	long long ms = (long long)(now_realtime_us() / 1000);
	char msg[600], b64[64], *sign, *out = NULL;

	if (!secret)
		return strdup(url);
	(void)snprintf(msg, sizeof(msg), "%lld\n%s", ms, secret);
	if (hmac_b64(secret, msg, b64) < 0)
		return NULL;
	sign = curl_easy_escape(easy, b64, 0);
	if (sign && asprintf(&out, "%s%ctimestamp=%lld&sign=%s", url, strchr(url, '?') ? '&' : '?', ms, sign) < 0)
		out = NULL;
	curl_free(sign);
	return out;
}


/*
 * What a digest says: how many notifications it carries, then a line for
 * each (severity, event, summary, host), cut to whole lines when long.
 */
static void digest_message(const struct notify_conf *t, json_t *payloads, char *title, size_t tsize,
			   struct buf *text)
{
	const char *lang = t->lang;
	size_t i, n = json_array_size(payloads);
	json_t *p;

	(void)snprintf(title, tsize, lang[0] == 'z' ? "vigil: %zu 条通知合并发送 (限流)" :
						      "vigil: %zu notifications in one (rate limit)", n);
	(void)buf_printf(text, "### %s\n\n", title);
	json_array_foreach(payloads, i, p) {
		size_t before = text->len;

		if (buf_printf(text, "- [%s] %s: %s (%s %s, %s %lld)\n", severity_word(lang, str(p, "severity")),
			       event_word(lang, str(p, "event")), str(p, "summary"), word(lang, "host", "主机"),
			       str(p, "host"), word(lang, "alert", "告警"),
			       (long long)json_integer_value(json_object_get(p, "id"))) < 0 ||
		    text->len > WECOM_CONTENT_MAX - 64) {
			text->len = before;
			(void)buf_printf(text, "- … %zu %s\n", n - i, word(lang, "more", "条未列出"));
			break;
		}
	}
	(void)buf_terminate(text);
}

/* The title and text of d: one notification's message, or the digest of several. */
static void delivery_message(struct delivery *d, json_t *payloads, char *title, size_t tsize, struct buf *text)
{
	if (d->n_q == 1)
		message(d->target, json_array_get(payloads, 0), title, tsize, text);
	else
		digest_message(d->target, payloads, title, tsize, text);
}

/* The request body for the target's type; the URL may carry a signature (DingTalk). */
static json_t *chat_body(struct delivery *d, const char *title, const char *t, char **url)
{
	const char *type = d->target->type;
	char ts[24], sign[64] = "", *secret = target_secret(d->target);
	json_t *body = NULL;

	if (strcmp(type, "dingtalk") == 0) {
		body = json_pack("{s:s, s:{s:s, s:s}}", "msgtype", "markdown", "markdown", "title", title, "text", t);
		*url = dingtalk_url(d->easy, d->target->url, secret);
	} else if (strcmp(type, "wecom") == 0) {
		/* The key is in the URL; markdown content is refused past 2048 bytes. */
		body = json_pack("{s:s, s:{s:s%}}", "msgtype", "markdown", "markdown", "content", t,
				 utf8_prefix(t, WECOM_CONTENT_MAX));
		*url = strdup(d->target->url);
	} else {
		/* Feishu: HMAC-SHA256 keyed with "<seconds>\n<secret>" over nothing, in the body. */
		(void)snprintf(ts, sizeof(ts), "%lld", (long long)(now_realtime_us() / USEC_PER_SEC));
		if (secret) {
			char key[600];

			(void)snprintf(key, sizeof(key), "%s\n%s", ts, secret);
			if (hmac_b64(key, "", sign) < 0)
				sign[0] = 0;
			explicit_bzero(key, sizeof(key));
		}
		body = json_pack("{s:s, s:{s:s}}", "msg_type", "text", "content", "text", t);
		if (body && secret) {
			json_object_set_new(body, "timestamp", json_string(ts));
			json_object_set_new(body, "sign", json_string(sign));
		}
		*url = strdup(d->target->url);
	}
	if (secret)
		explicit_bzero(secret, strlen(secret));
	free(secret);
	return body;
}

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
static char *mail_message(struct delivery *d, const char *title, const char *text)
{
	const struct notify_conf *t = d->target;
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
			       (long long)d->q[0].id, (long long)now, (long long)d->q[0].id);
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
	struct delivery *d = userdata;
	size_t left = strlen(d->body + d->sent), k = MIN(left, size * n);

	memcpy(dst, d->body + d->sent, k);
	d->sent += k;
	return k;
}

/* An email through the target's SMTP server: STARTTLS required unless starttls=no (smtps:// is TLS from the start). */
static int mail_request(struct delivery *d, const char *title, const char *text)
{
	const struct notify_conf *t = d->target;
	const char *w = t->to;
	char rcpt[256], from[300], *password = t->username ? target_secret(t) : NULL;
	int r = 0;

	d->body = mail_message(d, title, text);
	while (next_word(&w, rcpt, sizeof(rcpt))) {
		struct curl_slist *l = curl_slist_append(d->headers, rcpt);

		if (!l)
			r = -ENOMEM;
		else
			d->headers = l;
	}
	(void)snprintf(from, sizeof(from), "<%s>", t->from);
	if (!d->body || !d->headers || r < 0 || (t->username && !password))
		r = -EINVAL;
	else if (curl_easy_setopt(d->easy, CURLOPT_URL, t->url) != CURLE_OK ||
		 curl_easy_setopt(d->easy, CURLOPT_MAIL_FROM, from) != CURLE_OK ||
		 curl_easy_setopt(d->easy, CURLOPT_MAIL_RCPT, d->headers) != CURLE_OK ||
		 curl_easy_setopt(d->easy, CURLOPT_USE_SSL, t->starttls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY) !=
			 CURLE_OK ||
		 curl_easy_setopt(d->easy, CURLOPT_READFUNCTION, mail_read) != CURLE_OK ||
		 curl_easy_setopt(d->easy, CURLOPT_READDATA, d) != CURLE_OK ||
		 curl_easy_setopt(d->easy, CURLOPT_UPLOAD, 1L) != CURLE_OK ||
		 (t->username && (curl_easy_setopt(d->easy, CURLOPT_USERNAME, t->username) != CURLE_OK ||
				  curl_easy_setopt(d->easy, CURLOPT_PASSWORD, password) != CURLE_OK)))
		r = -EINVAL;
	if (password)
		explicit_bzero(password, strlen(password));
	free(password);
	return r;
}

/*
 * The request for d into its easy handle: URL, headers and body by the
 * target's type, from payloads (one per notification d carries).
 */
static int build_request(struct delivery *d, json_t *payloads)
{
	json_t *body = NULL;
	char *url = NULL, header[64], title[1024];
	struct buf text;
	int r = -EINVAL;

	buf_init(&text, 64 * 1024);
	(void)curl_easy_setopt(d->easy, CURLOPT_TIMEOUT_MS, 10000L);
	(void)curl_easy_setopt(d->easy, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(d->easy, CURLOPT_ERRORBUFFER, d->error);
	/*
	 * Each delivery on a connection of its own: a kept connection carries
	 * the TLS and login of the target that opened it, not this one's.
	 */
	(void)curl_easy_setopt(d->easy, CURLOPT_FORBID_REUSE, 1L);
	if (d->target->tls_ca)
		(void)curl_easy_setopt(d->easy, CURLOPT_CAINFO, d->target->tls_ca);
	if (strcmp(d->target->type, "webhook") == 0) {
		body = json_deep_copy(json_array_get(payloads, 0));
		json_object_set_new(body, "notification_id", json_integer(d->q[0].id));
		json_object_set_new(body, "target", json_string(d->target->name));
		url = strdup(d->target->url);
	} else {
		delivery_message(d, payloads, title, sizeof(title), &text);
		if (!text.data)
			goto out;
		if (strcmp(d->target->type, "email") == 0) {
			r = mail_request(d, title, (const char *)text.data);
			goto out;
		}
		body = chat_body(d, title, (const char *)text.data, &url);
	}
	d->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	(void)snprintf(header, sizeof(header), "X-Vigil-Notification: %lld", (long long)d->q[0].id);
	d->headers = curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8");
	if (d->headers)
		d->headers = curl_slist_append(d->headers, header);
	if (!d->body || !url || !d->headers)
		goto out;
	(void)curl_easy_setopt(d->easy, CURLOPT_URL, url);
	(void)curl_easy_setopt(d->easy, CURLOPT_HTTPHEADER, d->headers);
	(void)curl_easy_setopt(d->easy, CURLOPT_POSTFIELDS, d->body);
	r = 0;
out:
	free(url);
	buf_free(&text);
	return r;
}

static size_t on_answer(char *data, size_t size, size_t n, void *userdata)
{
	struct delivery *d = userdata;

	(void)buf_append(&d->answer, data, MIN(size * n, ANSWER_MAX - MIN(d->answer.len, (size_t)ANSWER_MAX)));
	return size * n;
}

static void delivery_release(struct delivery *d)
{
	curl_easy_cleanup(d->easy);
	curl_slist_free_all(d->headers);
	free(d->body);
	buf_free(&d->answer);
	catalog_release(d->defs);
	*d = (struct delivery){ .n = d->n };
}

/* What went wrong, or NULL when the target took it (DingTalk answers 200 with errcode != 0 too). */
static const char *judge(struct delivery *d, CURLcode result, long status, char *why, size_t size)
{
	json_t *a;
	json_int_t errcode;

	if (result != CURLE_OK) {
		(void)snprintf(why, size, "%s%s%s", curl_easy_strerror(result), *d->error ? ": " : "", d->error);
		return why;
	}
	/* SMTP: curl fails the transfer on any refusal; the last reply was 250. */
	if (strcmp(d->target->type, "email") == 0)
		return NULL;
	if (status < 200 || status > 299) {
		(void)snprintf(why, size, "HTTP %ld", status);
		return why;
	}
	if (strcmp(d->target->type, "webhook") == 0)
		return NULL;
	/* The chat robots answer 200 and say in the body whether they took it. */
	(void)buf_terminate(&d->answer);
	a = d->answer.data ? json_loads((const char *)d->answer.data, 0, NULL) : NULL;
	errcode = !a					       ? -1 :
		  json_object_get(a, "errcode")		       ? json_integer_value(json_object_get(a, "errcode")) :
		  json_object_get(a, "code")		       ? json_integer_value(json_object_get(a, "code")) :
		  json_object_get(a, "StatusCode")	       ? json_integer_value(json_object_get(a, "StatusCode")) :
								 -1;
	if (errcode != 0)
		(void)snprintf(why, size, "%s answered code %lld: %s", d->target->type, (long long)errcode,
			       !a ? "not a JSON answer" : json_object_get(a, "errmsg") ? str(a, "errmsg") : str(a, "msg"));
	json_decref(a);
	return errcode ? why : NULL;
}

/* The outcome of one notification of d, and the event in its alert's history; in record()'s transaction. */
static int record_one(struct delivery *d, const struct queued *q, sqlite3_stmt *st, sqlite3_stmt *ev,
		      const char *error, bool final, uint64_t now)
{
	uint64_t backoff = MIN(USEC_PER_SEC << MIN(q->attempts, 20u), BACKOFF_MAX_US);
	bool give_up = error && (final || q->attempts + 1 >= ATTEMPTS_MAX);
	char note[600];
	int r;

	(void)snprintf(note, sizeof(note), "%s: %s", d->target ? d->target->name : "?", error ? error : "delivered");
	if (d->n_q > 1)
		(void)snprintf(note + strlen(note), sizeof(note) - strlen(note), " (in a digest of %zu)", d->n_q);
	sqlite3_bind_int64(st, 1, q->id);
	sqlite3_bind_text(st, 2, !error ? "sent" : give_up ? "failed" : "queued", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)(now + backoff));
	sqlite3_bind_text(st, 4, error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)now);
	if (d->n_q > 1)
		sqlite3_bind_int64(st, 6, d->q[0].id);
	else
		sqlite3_bind_null(st, 6);
	sqlite3_bind_int64(ev, 1, q->alert);
	sqlite3_bind_int64(ev, 2, (sqlite3_int64)now);
	sqlite3_bind_text(ev, 3, !error ? "notified" : give_up ? "notify_failed" : "notify_retry", -1, SQLITE_STATIC);
	sqlite3_bind_text(ev, 4, note, -1, SQLITE_STATIC);
	/* A test message (alert 0) has no history to write to. */
	r = sqlite3_step(st) == SQLITE_DONE && (q->alert == 0 || sqlite3_step(ev) == SQLITE_DONE) ? 0 : -EIO;
	(void)sqlite3_reset(st);
	(void)sqlite3_reset(ev);
	metrics_add(!error ? &metrics.notifications_sent :
		    give_up ? &metrics.notifications_failed :
			      &metrics.notifications_retried,
		    1);
	if (error)
		log_warning("notify %s: notification %lld (alert %lld): %s%s", d->target ? d->target->name : "?",
			    (long long)q->id, (long long)q->alert, error, give_up ? "; giving up" : "; will retry");
	return r;
}

/* final: an error no retry can mend (the target is gone): the notification fails at once. */
static void record(struct notifier *n, struct delivery *d, const char *error, bool final)
{
	uint64_t now = now_realtime_us();
	sqlite3_stmt *st = NULL, *ev = NULL;
	int r = db_exec(n->db, "BEGIN IMMEDIATE");

	if (r == 0)
		r = db_prepare(n->db, "UPDATE notifications SET state=?2, attempts=attempts+1, next_attempt=?3,"
				      " last_error=?4, sent=CASE WHEN ?2='sent' THEN ?5 END, digest=?6 WHERE id=?1", &st);
	if (r == 0)
		r = db_prepare(n->db, "INSERT INTO alert_events(alert, ts, actor, action, note) VALUES (?,?,'vigil',?,?)",
			       &ev);
	for (size_t i = 0; r == 0 && i < d->n_q; i++)
		r = record_one(d, &d->q[i], st, ev, error, final, now);
	(void)db_exec(n->db, r == 0 ? "COMMIT" : "ROLLBACK");
	sqlite3_finalize(st);
	sqlite3_finalize(ev);
}

static void on_done(CURL *easy, CURLcode result, void *userdata)
{
	struct delivery *d = userdata;
	long status = 0;
	char why[512];

	(void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	record(d->n, d, judge(d, result, status, why, sizeof(why)), false);
	delivery_release(d);
}

static bool in_flight(const struct notifier *n, int64_t id)
{
	for (size_t i = 0; i < IN_FLIGHT_MAX; i++)
		for (size_t k = 0; n->d[i].busy && k < n->d[i].n_q; k++)
			if (n->d[i].q[k].id == id)
				return true;
	return false;
}

static struct delivery *free_slot(struct notifier *n)
{
	for (size_t i = 0; i < IN_FLIGHT_MAX; i++)
		if (!n->d[i].busy)
			return &n->d[i];
	return NULL;
}

/* Messages a minute the target's robot takes (0: no limit): DingTalk and WeCom 20, Feishu 100. */
static uint64_t rate_limit(const struct notify_conf *t)
{
	if (t->rate_limit)
		return t->rate_limit;
	return strcmp(t->type, "dingtalk") == 0 || strcmp(t->type, "wecom") == 0 ? 20 :
	       strcmp(t->type, "feishu") == 0					  ? 100 :
										    0;
}

/* Messages to target within the last minute: sent (a digest counts once) and on their way. */
static uint64_t sent_last_minute(struct notifier *n, const char *target)
{
	sqlite3_stmt *st;
	uint64_t count = 0;

	if (db_prepare(n->db, "SELECT count(DISTINCT coalesce(digest, id)) FROM notifications"
			      " WHERE target=? AND sent>=?", &st) == 0) {
		sqlite3_bind_text(st, 1, target, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)(now_realtime_us() - MINUTE_US));
		if (sqlite3_step(st) == SQLITE_ROW)
			count = (uint64_t)sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	for (size_t i = 0; i < IN_FLIGHT_MAX; i++)
		count += n->d[i].busy && n->d[i].target && strcmp(n->d[i].target->name, target) == 0;
	return count;
}

/*
 * Fills d with what is due for target (up to DIGEST_MAX, not in flight),
 * their payloads into payloads. The number taken.
 */
static size_t take_due(struct notifier *n, struct delivery *d, const char *target, size_t max, json_t *payloads)
{
	sqlite3_stmt *st;

	if (db_prepare(n->db, "SELECT id, alert, payload, attempts FROM notifications"
			      " WHERE state='queued' AND next_attempt<=? AND target=? ORDER BY id LIMIT ?", &st) < 0)
		return 0;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now_realtime_us());
	sqlite3_bind_text(st, 2, target, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, DIGEST_MAX + IN_FLIGHT_MAX);
	while (d->n_q < max && sqlite3_step(st) == SQLITE_ROW) {
		json_t *p;

		if (in_flight(n, sqlite3_column_int64(st, 0)))
			continue;
		p = json_loads((const char *)sqlite3_column_text(st, 2), 0, NULL);
		d->q[d->n_q++] = (struct queued){ .id = sqlite3_column_int64(st, 0), .alert = sqlite3_column_int64(st, 1),
						  .attempts = (unsigned)sqlite3_column_int(st, 3) };
		(void)json_array_append_new(payloads, p ? p : json_object());
	}
	sqlite3_finalize(st);
	return d->n_q;
}

/* Names of the targets send_due() is done with this round. */
struct held {
	char names[IN_FLIGHT_MAX + 64][256];
	size_t n;
};

static bool held_has(const struct held *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->names[i], name) == 0)
			return true;
	return false;
}

static void held_add(struct held *h, const char *name)
{
	if (h->n < ARRAY_SIZE(h->names))
		(void)snprintf(h->names[h->n++], sizeof(h->names[0]), "%s", name);
}

/*
 * Starts the delivery of what is due for target into d: one notification,
 * or, when a rate limit would hold back some of what is due, everything due
 * in one digest (DingTalk throttles a robot for ten minutes past its limit;
 * one message that says all beats twenty that say part of it). Nothing when
 * the limit is reached: it waits for the minute to pass.
 */
static void start(struct notifier *n, struct delivery *d, const struct catalog_snapshot *defs,
		  const struct notify_conf *t, struct held *held)
{
	uint64_t limit = rate_limit(t), used = limit ? sent_last_minute(n, t->name) : 0;
	json_t *payloads = json_array();
	size_t due = 0;

	*d = (struct delivery){ .n = n, .defs = defs, .target = t, .busy = true };
	buf_init(&d->answer, ANSWER_MAX);
	if (payloads && (!limit || used < limit))
		due = take_due(n, d, t->name, limit ? DIGEST_MAX : 1, payloads);
	if (due > 1 && used + due <= limit) {
		/* Room for each: this one now, the others in their turn. */
		d->n_q = 1;
		while (json_array_size(payloads) > 1)
			(void)json_array_remove(payloads, 1);
	}
	if (due == 0 || d->n_q > 1)
		held_add(held, t->name);
	if (due == 0) {
		delivery_release(d);
		json_decref(payloads);
		return;
	}
	d->easy = curl_easy_init();
	if (!d->easy || build_request(d, payloads) < 0 ||
	    curl_easy_setopt(d->easy, CURLOPT_WRITEFUNCTION, on_answer) != CURLE_OK ||
	    curl_easy_setopt(d->easy, CURLOPT_WRITEDATA, d) != CURLE_OK || curl_loop_add(n->curl, d->easy, on_done, d) < 0) {
		record(n, d, "cannot build the request", false);
		delivery_release(d);
	}
	json_decref(payloads);
}

/* Starts what is due, as many as there are free slots, a target at a time. */
static void send_due(struct notifier *n)
{
	struct held *held = calloc(1, sizeof(*held));
	sqlite3_stmt *st;
	struct delivery *d;

	if (!held || db_prepare(n->db, "SELECT id, alert, target, attempts FROM notifications"
				       " WHERE state='queued' AND next_attempt<=? ORDER BY id LIMIT 256", &st) < 0) {
		free(held);
		return;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now_realtime_us());
	while ((d = free_slot(n)) && sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 2);
		const struct catalog_snapshot *defs;
		const struct notify_conf *t;

		if (in_flight(n, sqlite3_column_int64(st, 0)) || held_has(held, name))
			continue;
		defs = catalog_get(n->catalog);
		t = catalog_target(defs, name);
		if (t) {
			start(n, d, defs, t, held);
			continue;
		}
		/* The target was deleted or left the configuration: nothing to send it with. */
		*d = (struct delivery){ .n = n, .defs = defs, .n_q = 1, .busy = true };
		d->q[0] = (struct queued){ .id = sqlite3_column_int64(st, 0), .alert = sqlite3_column_int64(st, 1),
					   .attempts = (unsigned)sqlite3_column_int(st, 3) };
		record(n, d, "no such [notify] target any more", true);
		delivery_release(d);
	}
	sqlite3_finalize(st);
	free(held);
}

void notifier_kick(void *userdata)
{
	struct notifier *n = userdata;

	(void)sd_event_source_set_enabled(n->kick, SD_EVENT_ONESHOT);
}

static int on_kick(sd_event_source *s, void *userdata)
{
	send_due(userdata);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	send_due(userdata);
	(void)sd_event_source_set_time_relative(s, USEC_PER_SEC);
	return 0;
}

void notifier_stop(struct notifier *n)
{
	if (!n)
		return;
	sd_event_source_disable_unref(n->timer);
	sd_event_source_disable_unref(n->kick);
	for (size_t i = 0; i < IN_FLIGHT_MAX; i++)
		if (n->d[i].busy) {
			curl_loop_remove(n->curl, n->d[i].easy);
			delivery_release(&n->d[i]);
		}
	curl_loop_free(n->curl);
	db_close(n->db);
	free(n);
}

int notifier_start(const struct coll_conf *conf, struct catalog *catalog, sd_event *event, struct notifier **ret)
{
	struct notifier *n = calloc(1, sizeof(*n));
	int r;

	if (!n)
		return -ENOMEM;
	n->conf = conf;
	n->catalog = catalog;
	for (size_t i = 0; i < IN_FLIGHT_MAX; i++)
		n->d[i].n = n;
	r = storage_meta_connect(conf->storage.data_dir, conf->storage.sync, &n->db);
	if (r == 0)
		r = notify_schema(n->db);
	if (r == 0)
		r = curl_loop_new(event, &n->curl);
	if (r == 0)
		r = sd_event_add_time_relative(event, &n->timer, CLOCK_MONOTONIC, USEC_PER_SEC, 100000, on_timer, n);
	if (r == 0)
		r = sd_event_source_set_enabled(n->timer, SD_EVENT_ON);
	if (r == 0)
		r = sd_event_add_defer(event, &n->kick, on_kick, n);
	if (r == 0)
		r = sd_event_source_set_enabled(n->kick, SD_EVENT_OFF);
	if (r < 0) {
		notifier_stop(n);
		return r;
	}
	*ret = n;
	return 0;
}
