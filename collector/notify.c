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
#include "metrics.h"
#include "notify.h"
#include "probes/curl_loop.h"

#define IN_FLIGHT_MAX 8
#define ATTEMPTS_MAX 10
#define BACKOFF_MAX_US (10 * 60 * USEC_PER_SEC)
#define ANSWER_MAX (64 * 1024)

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS notifications(id INTEGER PRIMARY KEY, alert INTEGER NOT NULL,"
	" target TEXT NOT NULL, event TEXT NOT NULL, payload TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'queued',"
	" attempts INTEGER NOT NULL DEFAULT 0, next_attempt INTEGER NOT NULL, last_error TEXT,"
	" created INTEGER NOT NULL, sent INTEGER);"
	"CREATE INDEX IF NOT EXISTS notifications_due ON notifications(state, next_attempt);";

int notify_schema(sqlite3 *db)
{
	return db_exec(db, schema);
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

/* One notification being sent. */
struct delivery {
	struct notifier *n;
	int64_t id, alert;
	unsigned attempts;
	const struct catalog_snapshot *defs; /* a reference: target stays valid while the request runs */
	const struct notify_conf *target;
	CURL *easy;
	struct curl_slist *headers; /* email: the recipients */
	char *body;                 /* email: the whole message */
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
	sd_event_source *timer;
	struct delivery d[IN_FLIGHT_MAX];
};

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

#define WECOM_CONTENT_MAX 2048

/* The request body for the target's type; the URL may carry a signature (DingTalk). */
static json_t *chat_body(struct delivery *d, json_t *p, char **url)
{
	const char *type = d->target->type;
	char title[1024], ts[24], sign[64] = "", *secret = target_secret(d->target);
	struct buf text;
	json_t *body = NULL;
	const char *t;

	buf_init(&text, 64 * 1024);
	message(d->target, p, title, sizeof(title), &text);
	t = text.data ? (const char *)text.data : "";
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
	buf_free(&text);
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
static char *mail_message(struct delivery *d, json_t *p)
{
	const struct notify_conf *t = d->target;
	char title[1024], date[64];
	time_t now = (time_t)(now_realtime_us() / USEC_PER_SEC);
	struct buf text, out;
	const char *w = t->to;
	char rcpt[256];
	struct tm tm;
	int r;

	buf_init(&text, 64 * 1024);
	buf_init(&out, 256 * 1024);
	message(t, p, title, sizeof(title), &text);
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
			       (long long)d->id, (long long)now, (long long)d->id);
	if (r == 0)
		r = base64_lines(&out, text.data ? (const char *)text.data : "");
	if (r == 0)
		r = buf_terminate(&out);
	buf_free(&text);
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
static int mail_request(struct delivery *d, json_t *p)
{
	const struct notify_conf *t = d->target;
	const char *w = t->to;
	char rcpt[256], from[300], *password = t->username ? target_secret(t) : NULL;
	int r = 0;

	d->body = mail_message(d, p);
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

/* The request for one notification into d: URL, headers and body by the target's type. */
static int build_request(struct delivery *d, const char *payload_text)
{
	json_t *p = json_loads(payload_text, 0, NULL), *body;
	char *url = NULL, header[64];
	int r = -EINVAL;

	if (!p)
		goto out;
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
	if (strcmp(d->target->type, "email") == 0) {
		r = mail_request(d, p);
		goto out;
	}
	if (strcmp(d->target->type, "webhook") != 0) {
		body = chat_body(d, p, &url);
	} else {
		body = json_deep_copy(p);
		json_object_set_new(body, "notification_id", json_integer(d->id));
		json_object_set_new(body, "target", json_string(d->target->name));
		url = strdup(d->target->url);
	}
	d->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	(void)snprintf(header, sizeof(header), "X-Vigil-Notification: %lld", (long long)d->id);
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
	json_decref(p);
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

static void record(struct notifier *n, struct delivery *d, const char *error)
{
	uint64_t now = now_realtime_us(), backoff = MIN(USEC_PER_SEC << MIN(d->attempts, 20u), BACKOFF_MAX_US);
	bool give_up = error && d->attempts + 1 >= ATTEMPTS_MAX;
	sqlite3_stmt *st = NULL, *ev = NULL;
	char note[600];

	(void)snprintf(note, sizeof(note), "%s: %s", d->target->name, error ? error : "delivered");
	if (db_exec(n->db, "BEGIN IMMEDIATE") < 0)
		return;
	if (db_prepare(n->db, "UPDATE notifications SET state=?2, attempts=attempts+1, next_attempt=?3,"
			      " last_error=?4, sent=CASE WHEN ?2='sent' THEN ?5 END WHERE id=?1", &st) == 0 &&
	    db_prepare(n->db, "INSERT INTO alert_events(alert, ts, actor, action, note) VALUES (?,?,'vigil',?,?)",
		       &ev) == 0) {
		sqlite3_bind_int64(st, 1, d->id);
		sqlite3_bind_text(st, 2, !error ? "sent" : give_up ? "failed" : "queued", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)(now + backoff));
		sqlite3_bind_text(st, 4, error, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)now);
		sqlite3_bind_int64(ev, 1, d->alert);
		sqlite3_bind_int64(ev, 2, (sqlite3_int64)now);
		sqlite3_bind_text(ev, 3, !error ? "notified" : give_up ? "notify_failed" : "notify_retry", -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(ev, 4, note, -1, SQLITE_STATIC);
		/* A test message (alert 0) has no history to write to. */
		if (sqlite3_step(st) == SQLITE_DONE && (d->alert == 0 || sqlite3_step(ev) == SQLITE_DONE))
			(void)db_exec(n->db, "COMMIT");
		else
			(void)db_exec(n->db, "ROLLBACK");
	} else {
		(void)db_exec(n->db, "ROLLBACK");
	}
	sqlite3_finalize(st);
	sqlite3_finalize(ev);
	metrics_add(!error ? &metrics.notifications_sent :
		    give_up ? &metrics.notifications_failed :
			      &metrics.notifications_retried,
		    1);
	if (error)
		log_warning("notify %s: notification %lld (alert %lld): %s%s", d->target->name, (long long)d->id,
			    (long long)d->alert, error, give_up ? "; giving up" : "; will retry");
}

static void on_done(CURL *easy, CURLcode result, void *userdata)
{
	struct delivery *d = userdata;
	long status = 0;
	char why[512];

	(void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	record(d->n, d, judge(d, result, status, why, sizeof(why)));
	delivery_release(d);
}

static bool in_flight(const struct notifier *n, int64_t id)
{
	for (size_t i = 0; i < IN_FLIGHT_MAX; i++)
		if (n->d[i].busy && n->d[i].id == id)
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

/* Starts what is due, as many as there are free slots. */
static void send_due(struct notifier *n)
{
	sqlite3_stmt *st;
	struct delivery *d;

	if (db_prepare(n->db, "SELECT id, alert, target, payload, attempts FROM notifications"
			      " WHERE state='queued' AND next_attempt<=? ORDER BY id LIMIT 64", &st) < 0)
		return;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now_realtime_us());
	while ((d = free_slot(n)) && sqlite3_step(st) == SQLITE_ROW) {
		const struct catalog_snapshot *defs;
		const struct notify_conf *t;

		if (in_flight(n, sqlite3_column_int64(st, 0)))
			continue;
		defs = catalog_get(n->catalog);
		t = catalog_target(defs, (const char *)sqlite3_column_text(st, 2));
		*d = (struct delivery){ .n = n, .id = sqlite3_column_int64(st, 0), .alert = sqlite3_column_int64(st, 1),
					.attempts = (unsigned)sqlite3_column_int(st, 4), .defs = defs, .target = t,
					.busy = true };
		buf_init(&d->answer, ANSWER_MAX);
		if (!t) {
			/* The target was deleted or left the configuration: nothing to send it with. */
			record(n, d, "no such [notify] target any more");
			delivery_release(d);
			continue;
		}
		d->easy = curl_easy_init();
		if (!d->easy || build_request(d, (const char *)sqlite3_column_text(st, 3)) < 0 ||
		    curl_easy_setopt(d->easy, CURLOPT_WRITEFUNCTION, on_answer) != CURLE_OK ||
		    curl_easy_setopt(d->easy, CURLOPT_WRITEDATA, d) != CURLE_OK ||
		    curl_loop_add(n->curl, d->easy, on_done, d) < 0) {
			record(n, d, "cannot build the request");
			delivery_release(d);
		}
	}
	sqlite3_finalize(st);
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
	char path[4096];
	int r;

	if (!n)
		return -ENOMEM;
	n->conf = conf;
	n->catalog = catalog;
	for (size_t i = 0; i < IN_FLIGHT_MAX; i++)
		n->d[i].n = n;
	(void)snprintf(path, sizeof(path), "%s/meta.db", conf->storage.data_dir);
	r = db_open(path, false, false, conf->storage.sync ? DB_SYNC_FULL : DB_SYNC_NORMAL, &n->db);
	if (r == 0)
		r = notify_schema(n->db);
	if (r == 0)
		r = curl_loop_new(event, &n->curl);
	if (r == 0)
		r = sd_event_add_time_relative(event, &n->timer, CLOCK_MONOTONIC, USEC_PER_SEC, 100000, on_timer, n);
	if (r == 0)
		r = sd_event_source_set_enabled(n->timer, SD_EVENT_ON);
	if (r < 0) {
		notifier_stop(n);
		return r;
	}
	*ret = n;
	return 0;
}
