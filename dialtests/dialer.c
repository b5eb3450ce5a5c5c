/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/export.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/sha256.h"
#include "common/util.h"
#include "dialtests/dialer.h"
#include "dialtests/ship.h"
#include "store/ingest.h"
#include "common/metrics.h"
#include "fetch/curl_loop.h"

#define VARS_MAX 64
#define RETRY_DELAY_US (1 * USEC_PER_SEC)
#define HEADERS_MAX (64 * 1024)

enum outcome { OUTCOME_OK, OUTCOME_ASSERTION, OUTCOME_ERROR };
static const char *const outcome_names[] = { "ok", "assertion_failed", "probe_error" };

/* A test on the schedule. */
struct slot {
	int64_t id;
	const struct dialtest_entry *e; /* in the dialer's snapshot */
	uint64_t next_us;               /* realtime: its next planned start */
	bool running;
};

/* A run asked for through the API, waiting for its turn within the limits. */
struct asked_run {
	int64_t id;
	uint64_t planned_us; /* when it was asked for: the result's "scheduled" */
	struct asked_run *next;
};

struct run {
	struct dialer *d;
	const struct dialtests_snapshot *defs; /* a reference: test stays valid */
	const struct dialtest *t;
	int64_t id;
	bool scheduled;
	uint64_t planned_us, started_us;
	unsigned attempt;
	size_t step;
	char host[256]; /* of the first step: what per_host counts */
	CURL *easy;
	struct curl_slist *headers;
	char *url, *body, *user, *password, *bearer; /* the current step's, rendered */
	char origin[512]; /* scheme://host:port of url: redirects may not leave it */
	char refused[1024]; /* why on_prereq stopped a redirect */
	struct buf resp, resp_headers;
	int tls;
	char curl_error[CURL_ERROR_SIZE];
	char *var_names[VARS_MAX], *var_values[VARS_MAX];
	size_t n_vars;
	char *secrets[DIALTEST_ITEMS_MAX]; /* read at the attempt's start; NULL: unreadable */
	json_t *steps;
	enum outcome outcome;
	char message[512];
	bool asked; /* through the API: its result is stored at once */
	sd_event_source *retry;
	struct run *next;
};

struct dialer {
	const struct dialtests_conf *conf;
	struct dialtests *defs;
	sd_event *event;
	struct curl_loop *curl;
	sd_event_source *timer, *wake;
	int wake_fd;
	const struct dialtests_snapshot *defs_now; /* what the slots point into (a reference) */
	struct slot *slots;
	size_t n_slots;
	struct run *runs;
	size_t n_running;
	struct dialship *ship;
	sd_event_source *heartbeat;
	uint64_t shipped_us; /* when the last record was queued */
	char host[256];
	pthread_mutex_t lock;    /* asked, n_asked, reload, cancelled */
	struct asked_run *asked; /* asked for through the API, newest first, not yet taken by the loop */
	size_t n_asked;          /* asked and queued, at most DIALER_ASKED_MAX */
	struct asked_run *queue; /* taken, waiting for the limits, oldest first; the loop's */
	bool reload;
	bool cancelled; /* stopping: no runs asked for any more */
};

static void schedule(struct dialer *d);
static void step_start(struct run *r);
static const char *var_lookup(const char *name, void *userdata);

/* ---- the result */

static json_t *ms(curl_off_t us)
{
	return json_real((double)us / 1000.0);
}

/* curl's cumulative times as phases: DNS, connect, TLS, time to first byte, transfer; and redirects, total. */
static json_t *timings(CURL *e)
{
	curl_off_t dns = 0, conn = 0, app = 0, start = 0, total = 0, redir = 0;

	(void)curl_easy_getinfo(e, CURLINFO_NAMELOOKUP_TIME_T, &dns);
	(void)curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &conn);
	(void)curl_easy_getinfo(e, CURLINFO_APPCONNECT_TIME_T, &app);
	(void)curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME_T, &start);
	(void)curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total);
	(void)curl_easy_getinfo(e, CURLINFO_REDIRECT_TIME_T, &redir);
	conn = MAX(conn, dns);
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "dns", ms(dns), "connect", ms(conn - dns), "tls",
			 ms(app ? app - conn : 0), "ttfb", ms(start ? start - MAX(app, conn) : 0), "transfer",
			 ms(start ? total - start : 0), "redirect", ms(redir), "total", ms(total));
}

static const char *error_kind(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return "dns";
	case CURLE_COULDNT_CONNECT:
		return "connect";
	case CURLE_OPERATION_TIMEDOUT:
		return "timeout";
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return "tls";
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_TOO_MANY_REDIRECTS:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return "http";
	default:
		return "other";
	}
}

/* The result of the run as the results API gives it. */
static json_t *result_json(const struct run *r)
{
	return json_pack("{s:I, s:s, s:b, s:s, s:I, s:I, s:i, s:s, s:O}", "id", (json_int_t)r->id, "name", r->t->name,
			 "ok", r->outcome == OUTCOME_OK, "outcome", outcome_names[r->outcome], "scheduled",
			 (json_int_t)r->planned_us, "started", (json_int_t)r->started_us, "attempts", (int)r->attempt,
			 "message", r->message, "steps", r->steps);
}

/* The smallest certificate days left of the steps (INT64_MAX: none was TLS) and the total time. */
static void sums(const struct run *r, int64_t *days, double *total_ms)
{
	json_t *s;
	size_t i;

	*days = INT64_MAX;
	*total_ms = 0;
	json_array_foreach(r->steps, i, s) {
		json_t *c = json_object_get(s, "cert_days_left");

		*total_ms += json_real_value(json_object_get(json_object_get(s, "timings_ms"), "total"));
		if (json_is_integer(c))
			*days = MIN(*days, (int64_t)json_integer_value(c));
	}
}

/*
 * Two records: a probe result (status, latency, one line, and the whole
 * result in DIALTEST_RESULT) that probe_state, the probe history and alert
 * rules take, and the metrics dialtest.total_ms, ok, cert_days_left.
 */
static void ship(struct run *r, json_t *result)
{
	static const char *const status[] = { "ok", "critical", "critical" };
	char *text = json_dumps(result, JSON_COMPACT | JSON_REAL_PRECISION(15)), labels[1024] = "";
	struct dialer *d = r->d;
	int64_t days;
	double total;
	struct buf rec;
	const char *k;
	json_t *v;
	int e = 0;

	sums(r, &days, &total);
	json_object_foreach(r->t->labels, k, v)
		(void)snprintf(labels + strlen(labels), sizeof(labels) - strlen(labels), "%s%s=%s", *labels ? " " : "",
			       k, json_string_value(v));
	buf_init(&rec, 8 * 1024 * 1024);
	e |= export_put_u64(&rec, "__REALTIME_TIMESTAMP", r->started_us);
	e |= export_put_str(&rec, "_HOSTNAME", d->host);
	e |= export_put_str(&rec, "VIGIL_KIND", "probe");
	e |= export_put_str(&rec, "PROBE_NAME", r->t->name);
	e |= export_put_str(&rec, "PROBE_TYPE", "dialtest");
	e |= export_put_str(&rec, "PROBE_STATUS", status[r->outcome]);
	e |= export_put_u64(&rec, "PROBE_LATENCY_US", (uint64_t)(total * 1000));
	e |= export_put_str(&rec, "MESSAGE", json_string_value(json_object_get(result, "message")));
	e |= export_put_u64(&rec, "DIALTEST_ID", (uint64_t)r->id);
	e |= export_put_str(&rec, "DIALTEST_OUTCOME", outcome_names[r->outcome]);
	if (*labels)
		e |= export_put_str(&rec, "DIALTEST_LABELS", labels);
	e |= export_put_str(&rec, "DIALTEST_RESULT", text ? text : "{}");
	e |= export_end_entry(&rec);
	e |= export_put_u64(&rec, "__REALTIME_TIMESTAMP", r->started_us);
	e |= export_put_str(&rec, "_HOSTNAME", d->host);
	e |= export_put_str(&rec, "VIGIL_KIND", "metric");
	e |= export_put_str(&rec, "METRIC_SET", "dialtest");
	e |= export_put_str(&rec, "METRIC_TEST", r->t->name);
	e |= export_put_u64(&rec, "METRIC_OK", r->outcome == OUTCOME_OK);
	e |= buf_printf(&rec, "METRIC_TOTAL_MS=%.3f\n", total);
	if (days != INT64_MAX)
		e |= buf_printf(&rec, "METRIC_CERT_DAYS_LEFT=%" PRId64 "\n", days);
	e |= export_end_entry(&rec);
	if (e == 0)
		dialship_put(d->ship, &rec, 2);
	else
		log_error("dialtest %s: cannot encode its result; dropped", r->t->name);
	d->shipped_us = now_monotonic_us();
	buf_free(&rec);
	free(text);
}

/* ---- one run */

static void step_clear(struct run *r)
{
	if (r->easy) {
		curl_loop_remove(r->d->curl, r->easy);
		curl_easy_cleanup(r->easy);
		r->easy = NULL;
	}
	curl_slist_free_all(r->headers);
	r->headers = NULL;
	if (r->password)
		explicit_bzero(r->password, strlen(r->password));
	free(r->url);
	free(r->body);
	free(r->user);
	free(r->password);
	free(r->bearer);
	r->url = r->body = r->user = r->password = r->bearer = NULL;
	buf_reset(&r->resp);
	buf_reset(&r->resp_headers);
	r->tls = 0;
	r->curl_error[0] = 0;
	r->refused[0] = 0;
}

/* What an attempt read or made: variables and secrets go, each attempt starts afresh. */
static void attempt_clear(struct run *r)
{
	step_clear(r);
	for (size_t i = 0; i < r->n_vars; i++) {
		free(r->var_names[i]);
		free(r->var_values[i]);
	}
	r->n_vars = 0;
	for (size_t i = 0; i < DIALTEST_ITEMS_MAX; i++) {
		if (r->secrets[i])
			explicit_bzero(r->secrets[i], strlen(r->secrets[i]));
		free(r->secrets[i]);
		r->secrets[i] = NULL;
	}
	json_decref(r->steps);
	r->steps = json_array();
}

static void run_free(struct run *r)
{
	attempt_clear(r);
	json_decref(r->steps);
	sd_event_source_disable_unref(r->retry);
	buf_free(&r->resp);
	buf_free(&r->resp_headers);
	dialtests_release(r->defs);
	free(r);
}

static struct slot *slot_of(struct dialer *d, int64_t id)
{
	for (size_t i = 0; i < d->n_slots; i++)
		if (d->slots[i].id == id)
			return &d->slots[i];
	return NULL;
}

/*
 * What the run says of the secrets it read (a service that echoes a header
 * or a body): redacted before the result is stored or answered. Should that
 * fail, only the outcome is kept.
 */
static void redact(struct run *r, json_t *result)
{
	const char *values[DIALTEST_ITEMS_MAX], *names[DIALTEST_ITEMS_MAX];
	size_t n = 0;

	for (size_t i = 0; i < r->t->n_secrets; i++)
		if (r->secrets[i]) {
			values[n] = r->secrets[i];
			names[n++] = r->t->secrets[i].name;
		}
	if (n && dt_redact(result, values, names, n) < 0) {
		json_object_set_new(result, "steps", json_array());
		json_object_set_new(result, "message", json_string("(the result could not be cleared of secrets; left out)"));
	}
}

static void run_finish(struct run *r)
{
	struct dialer *d = r->d;
	json_t *result = result_json(r);
	struct slot *slot = r->scheduled ? slot_of(d, r->id) : NULL;

	redact(r, result);

	metrics_add(&metrics.dialtest_runs[r->outcome], 1);
	ship(r, result);
	/* Someone follows a run asked for: its result goes to the store now, not with the next batch. */
	if (r->asked)
		dialship_flush(d->ship);
	json_decref(result);
	if (slot)
		slot->running = false;
	for (struct run **p = &d->runs; *p; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	d->n_running--;
	run_free(r);
	schedule(d);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct run *r = userdata;

	attempt_clear(r);
	r->attempt++;
	r->step = 0;
	r->outcome = OUTCOME_OK;
	step_start(r);
	return 0;
}

/* The attempt ended: a failure is tried again (retries=) before it counts. */
static void attempt_done(struct run *r)
{
	if (r->outcome != OUTCOME_OK && r->attempt <= r->t->retries) {
		/* One timer per run, armed again for each retry. */
		int rc = r->retry ? sd_event_source_set_time_relative(r->retry, RETRY_DELAY_US) :
				    sd_event_add_time_relative(r->d->event, &r->retry, CLOCK_MONOTONIC, RETRY_DELAY_US,
							       10000, on_retry, r);

		step_clear(r);
		if (rc >= 0 && sd_event_source_set_enabled(r->retry, SD_EVENT_ONESHOT) >= 0)
			return;
	}
	if (r->outcome == OUTCOME_OK)
		(void)snprintf(r->message, sizeof(r->message), "ok: %zu step%s", r->t->n_steps, r->t->n_steps > 1 ? "s" : "");
	step_clear(r);
	run_finish(r);
}

/* The step failed before or without an answer: the probe could not run it. */
static void step_error(struct run *r, json_t *step, const char *kind, const char *message)
{
	json_object_set_new(step, "error", json_pack("{s:s, s:s}", "kind", kind, "message", message));
	json_array_append_new(r->steps, step);
	r->outcome = OUTCOME_ERROR;
	(void)snprintf(r->message, sizeof(r->message), "step %s: %s: %s", r->t->steps[r->step].name, kind, message);
	attempt_done(r);
}

static json_t *step_json(const struct dt_step *s)
{
	return json_pack("{s:s, s:b, s:n, s:n, s:n, s:n, s:n, s:n}", "name", s->name, "ok", 0, "status", "timings_ms",
			 "bytes", "cert_days_left", "failed_assertion", "error");
}

/* The response as the checks see it; the body is kept terminated for them. */
static void response_of(struct run *r, CURL *e, struct dt_response *resp)
{
	curl_off_t total = 0;
	time_t expires;

	(void)buf_terminate(&r->resp);
	(void)buf_terminate(&r->resp_headers);
	(void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->status);
	(void)curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total);
	resp->body = r->resp.data ? (const char *)r->resp.data : "";
	resp->body_len = r->resp.len;
	resp->headers = r->resp_headers.data ? (const char *)r->resp_headers.data : "";
	resp->total_ms = (double)total / 1000.0;
	resp->tls = r->tls;
	if (curl_cert_expiry(e, &expires) == 0) {
		int64_t left = (int64_t)expires - (int64_t)(now_realtime_us() / USEC_PER_SEC);

		resp->has_cert = true;
		resp->cert_days = left >= 0 ? left / 86400 : -((-left + 86399) / 86400);
	}
}

static bool add_var(struct run *r, const char *name, char *value)
{
	for (size_t i = 0; i < r->n_vars; i++)
		if (strcmp(r->var_names[i], name) == 0) {
			free(r->var_values[i]);
			r->var_values[i] = value;
			return true;
		}
	if (r->n_vars == VARS_MAX || !(r->var_names[r->n_vars] = strdup(name))) {
		free(value);
		return false;
	}
	r->var_values[r->n_vars++] = value;
	return true;
}

static const char *no_secret(const char *name, void *userdata)
{
	return NULL;
}

/*
 * Whether an assertion holds, its expected text (a json value that is a
 * string, a body's contains) filled in from the variables first. Not from
 * secrets: a failure shows what was expected.
 */
static bool holds(struct run *r, const struct dt_assert *a, struct dt_response *resp, json_t **failure)
{
	const char *tpl = a->type == DT_JSON && json_is_string(a->value)    ? json_string_value(a->value) :
			  a->type == DT_BODY && a->match == DT_CONTAINS ? a->text :
									    NULL;
	struct dt_assert filled = *a;
	char *text = NULL, err[256];
	bool ok;

	if (!tpl || !strstr(tpl, "{{"))
		return dt_assert_holds(a, resp, failure);
	if (dt_render(tpl, var_lookup, no_secret, r, &text, err, sizeof(err)) < 0) {
		*failure = json_pack("{s:s, s:s}", "type", a->type == DT_JSON ? "json" : "body", "reason", err);
		return false;
	}
	if (a->type == DT_JSON)
		filled.value = json_string(text);
	else
		filled.text = text;
	ok = dt_assert_holds(&filled, resp, failure);
	if (a->type == DT_JSON)
		json_decref(filled.value);
	free(text);
	return ok;
}

/* Assertions in order (the first that fails is the step's), then extractions. */
static bool check(struct run *r, const struct dt_step *s, struct dt_response *resp, json_t *step)
{
	json_t *failure = NULL;
	char why[256];

	for (size_t i = 0; i < s->n_asserts; i++)
		if (!holds(r, &s->asserts[i], resp, &failure)) {
			json_object_set_new(failure, "index", json_integer((json_int_t)i));
			goto failed;
		}
	for (size_t i = 0; i < s->n_extracts; i++) {
		char *v = dt_extract_value(&s->extracts[i], resp, why, sizeof(why));

		if (!v || !add_var(r, s->extracts[i].name, v)) {
			failure = json_pack("{s:s, s:s, s:s}", "type", "extract", "name", s->extracts[i].name, "reason",
					    v ? "too many variables" : why);
			goto failed;
		}
	}
	return true;
failed:
	{
		char *text = json_dumps(failure, JSON_COMPACT);

		(void)snprintf(r->message, sizeof(r->message), "step %s: %s assertion failed: %s", s->name,
			       json_string_value(json_object_get(failure, "type")), text ? text : "");
		free(text);
	}
	json_object_set_new(step, "failed_assertion", failure);
	return false;
}

static void step_done(CURL *e, CURLcode rc, void *userdata)
{
	struct run *r = userdata;
	const struct dt_step *s = &r->t->steps[r->step];
	struct dt_response resp = { 0 };
	json_t *step = step_json(s);
	curl_off_t bytes = 0;
	bool ok;

	json_object_set_new(step, "timings_ms", timings(e));
	if (rc == CURLE_ABORTED_BY_CALLBACK && *r->refused) {
		step_error(r, step, "http", r->refused);
		return;
	}
	if (rc != CURLE_OK) {
		step_error(r, step, error_kind(rc), *r->curl_error ? r->curl_error : curl_easy_strerror(rc));
		return;
	}
	response_of(r, e, &resp);
	(void)curl_easy_getinfo(e, CURLINFO_SIZE_DOWNLOAD_T, &bytes);
	json_object_set_new(step, "status", json_integer(resp.status));
	json_object_set_new(step, "bytes", json_integer(bytes));
	if (resp.has_cert)
		json_object_set_new(step, "cert_days_left", json_integer(resp.cert_days));
	if (resp.tls)
		json_object_set_new(step, "tls_version", json_string(resp.tls == 13 ? "1.3" : resp.tls == 12 ? "1.2" :
								     resp.tls == 11 ? "1.1" : "1.0"));
	ok = check(r, s, &resp, step);
	dt_response_clear(&resp);
	json_object_set_new(step, "ok", json_boolean(ok));
	json_array_append_new(r->steps, step);
	step_clear(r);
	if (!ok) {
		r->outcome = OUTCOME_ASSERTION;
		attempt_done(r);
	} else if (++r->step < r->t->n_steps) {
		step_start(r);
	} else {
		attempt_done(r);
	}
}

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
	struct run *r = userdata;

	/* The first DT_BODY_MAX bytes are checked; the rest is read and let go. */
	(void)buf_append(&r->resp, data, MIN(size * n, DT_BODY_MAX - MIN(r->resp.len, (size_t)DT_BODY_MAX)));
	return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *userdata)
{
	struct run *r = userdata;

	/* A redirect's headers give way to the next response's. */
	if (size * n >= 5 && memcmp(data, "HTTP/", 5) == 0)
		buf_reset(&r->resp_headers);
	(void)buf_append(&r->resp_headers, data, MIN(size * n, HEADERS_MAX - MIN(r->resp_headers.len, (size_t)HEADERS_MAX)));
	return size * n;
}

/* "scheme://host:port" of url, the port made explicit. */
static int url_origin(const char *url, char *out, size_t size)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	int r = -EINVAL;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
		(void)snprintf(out, size, "%s://%s:%s", scheme, host, port);
		r = 0;
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return r;
}

/* Once connected, before each request: the origin holds; which TLS version was agreed. */
static int on_prereq(void *userdata, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port,
		     int conn_local_port)
{
	struct run *r = userdata;
	const struct curl_tlssessioninfo *info = NULL;
	char *now = NULL, origin[sizeof(r->origin)];

	/*
	 * Before each request, redirects' too: a step's headers, body and
	 * credentials (its secrets) go only to the origin it names.
	 */
	if (curl_easy_getinfo(r->easy, CURLINFO_EFFECTIVE_URL, &now) != CURLE_OK || !now ||
	    url_origin(now, origin, sizeof(origin)) < 0 || strcmp(origin, r->origin) != 0) {
		(void)snprintf(r->refused, sizeof(r->refused), "a redirect to %.256s leaves %s: not followed (a step's "
			       "headers, body and secrets go only to the origin it names)", now ? now : "?", r->origin);
		return CURL_PREREQFUNC_ABORT;
	}
	if (curl_easy_getinfo(r->easy, CURLINFO_TLS_SSL_PTR, &info) == CURLE_OK && info &&
	    info->backend == CURLSSLBACKEND_OPENSSL && info->internals) {
		int v = SSL_version(info->internals);

		r->tls = v == TLS1_3_VERSION ? 13 : v == TLS1_2_VERSION ? 12 : v == TLS1_1_VERSION ? 11 :
			 v == TLS1_VERSION   ? 10 : 0;
	}
	return CURL_PREREQFUNC_OK;
}

static const char *var_lookup(const char *name, void *userdata)
{
	struct run *r = userdata;

	for (size_t i = 0; i < r->n_vars; i++)
		if (strcmp(r->var_names[i], name) == 0)
			return r->var_values[i];
	return NULL;
}

/* Whether path, its links followed, is still in [dialtests] secrets_dir (a link there may point anywhere). */
static bool secret_file_inside(const struct dialer *d, const char *path)
{
	char *real = realpath(path, NULL), *dir = realpath(d->conf->secrets_dir, NULL);
	bool inside = real && dir && dt_path_inside(real, dir);

	if (real && !inside)
		log_warning("dialtests: secret file %s resolves to %s, outside %s ([dialtests] secrets_dir); not read",
			    path, real, d->conf->secrets_dir);
	free(real);
	free(dir);
	return inside;
}

/* A secret's value: the first line of its file, or its environment variable; read once an attempt. */
static const char *secret_lookup(const char *name, void *userdata)
{
	struct run *r = userdata;

	for (size_t i = 0; i < r->t->n_secrets; i++) {
		const struct dt_secret *s = &r->t->secrets[i];
		char line[4096];
		FILE *f;

		if (strcmp(s->name, name) != 0)
			continue;
		if (!r->secrets[i] && s->env && getenv(s->env))
			r->secrets[i] = strdup(getenv(s->env));
		if (!r->secrets[i] && s->file && secret_file_inside(r->d, s->file) && (f = fopen(s->file, "re"))) {
			if (fgets(line, sizeof(line), f)) {
				line[strcspn(line, "\r\n")] = 0;
				r->secrets[i] = strdup(line);
			}
			explicit_bzero(line, sizeof(line));
			fclose(f);
		}
		return r->secrets[i];
	}
	return NULL;
}

static int render(struct run *r, const char *tpl, char **out, char *err, size_t size)
{
	*out = NULL;
	return tpl ? dt_render(tpl, var_lookup, secret_lookup, r, out, err, size) : 0;
}

/* The current step's templates, filled in; -ENOENT with why in err. */
static int render_step(struct run *r, const struct dt_step *s, char *err, size_t size)
{
	int rc = render(r, s->url, &r->url, err, size);

	if (rc == 0 && (!dt_line_safe(r->url) || url_origin(r->url, r->origin, sizeof(r->origin)) < 0)) {
		(void)snprintf(err, size, "url: not a URL once its variables are in, or one with a line break");
		rc = -ENOENT;
	}

	if (rc == 0)
		rc = render(r, s->body, &r->body, err, size);
	if (rc == 0)
		rc = render(r, s->basic_user, &r->user, err, size);
	if (rc == 0)
		rc = render(r, s->basic_password, &r->password, err, size);
	if (rc == 0)
		rc = render(r, s->bearer, &r->bearer, err, size);
	for (size_t i = 0; rc == 0 && i < s->n_headers; i++) {
		char *v = NULL, *line = NULL;
		struct curl_slist *l;

		rc = render(r, s->header_values[i], &v, err, size);
		/* An answer's value with a line break would add headers of its own to this request. */
		if (rc == 0 && !dt_line_safe(v)) {
			(void)snprintf(err, size, "header %s: its value holds a line break once its variables are in",
				       s->header_names[i]);
			rc = -ENOENT;
		}
		if (rc == 0 && asprintf(&line, "%s: %s", s->header_names[i], v) < 0)
			rc = -ENOMEM;
		l = rc == 0 ? curl_slist_append(r->headers, line) : NULL;
		if (rc == 0 && !l)
			rc = -ENOMEM;
		if (l)
			r->headers = l;
		free(v);
		free(line);
	}
	return rc;
}

static void set_options(struct run *r, const struct dt_step *s, CURL *e)
{
	static const long versions[] = { [10] = CURL_HTTP_VERSION_1_0, [11] = CURL_HTTP_VERSION_1_1,
					 [20] = CURL_HTTP_VERSION_2_0 };
	long ms = (long)(r->t->timeout_us / 1000);

	(void)curl_easy_setopt(e, CURLOPT_URL, r->url);
	(void)curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms);
	(void)curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms);
	(void)curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->curl_error);
	(void)curl_easy_setopt(e, CURLOPT_USERAGENT, "vigil-dialtest/" PACKAGE_VERSION);
	/* A fresh connection each run, so connect and TLS timings are real. */
	(void)curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	(void)curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	(void)curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	(void)curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	(void)curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	(void)curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	(void)curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
	(void)curl_easy_setopt(e, CURLOPT_PREREQDATA, r);
	(void)curl_easy_setopt(e, CURLOPT_CERTINFO, 1L);
	(void)curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, (long)s->tls_verify);
	(void)curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, s->tls_verify ? 2L : 0L);
	(void)curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, (long)s->follow_redirects);
	(void)curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
#if LIBCURL_VERSION_NUM >= 0x075500
	(void)curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	(void)curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	if (s->http_version)
		(void)curl_easy_setopt(e, CURLOPT_HTTP_VERSION, versions[s->http_version]);
	if (s->tls_ca)
		(void)curl_easy_setopt(e, CURLOPT_CAINFO, s->tls_ca);
	if (s->client_cert) {
		(void)curl_easy_setopt(e, CURLOPT_SSLCERT, s->client_cert);
		(void)curl_easy_setopt(e, CURLOPT_SSLKEY, s->client_key);
	}
	if (r->body)
		(void)curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
	if (s->method)
		(void)curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, s->method);
	if (s->method && strcmp(s->method, "HEAD") == 0)
		(void)curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	if (r->headers)
		(void)curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	if (r->user) {
		(void)curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		(void)curl_easy_setopt(e, CURLOPT_USERNAME, r->user);
		(void)curl_easy_setopt(e, CURLOPT_PASSWORD, r->password);
	}
	if (r->bearer) {
		(void)curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
		(void)curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, r->bearer);
	}
}

static void step_start(struct run *r)
{
	const struct dt_step *s = &r->t->steps[r->step];
	char err[256] = "";
	int rc = render_step(r, s, err, sizeof(err));

	if (rc < 0) {
		step_error(r, step_json(s), "config", rc == -ENOENT ? err : strerror(-rc));
		return;
	}
	r->easy = curl_easy_init();
	if (!r->easy) {
		step_error(r, step_json(s), "config", "out of memory");
		return;
	}
	set_options(r, s, r->easy);
	if (curl_loop_add(r->d->curl, r->easy, step_done, r) < 0) {
		curl_easy_cleanup(r->easy);
		r->easy = NULL;
		step_error(r, step_json(s), "config", "cannot start the transfer");
	}
}

/* The host part of a URL, for per_host. */
static void url_host(const char *url, char *out, size_t size)
{
	const char *h = strstr(url, "://");

	h = h ? h + 3 : url;
	(void)snprintf(out, size, "%.*s", (int)strcspn(h, "/?#"), h);
}

static struct run *run_new(struct dialer *d, const struct dialtests_snapshot *defs, const struct dialtest_entry *e,
			   uint64_t planned_us)
{
	struct run *r = calloc(1, sizeof(*r));

	if (!r) {
		dialtests_release(defs);
		return NULL;
	}
	*r = (struct run){ .d = d, .defs = defs, .t = e->test, .id = e->id, .planned_us = planned_us,
			   .started_us = now_realtime_us(), .attempt = 1, .steps = json_array() };
	buf_init(&r->resp, DT_BODY_MAX + 1);
	buf_init(&r->resp_headers, HEADERS_MAX + 1);
	url_host(e->test->steps[0].url, r->host, sizeof(r->host));
	r->next = d->runs;
	d->runs = r;
	d->n_running++;
	return r;
}

/* ---- the schedule */

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* The first start at or after now at the test's phase: spread by its name across the interval. */
static uint64_t first_start(const struct dialtest *t, uint64_t now)
{
	uint64_t phase = fnv1a(t->name) % t->interval_us;

	return now + (phase + t->interval_us - now % t->interval_us) % t->interval_us;
}

static unsigned running_on(const struct dialer *d, const char *host)
{
	unsigned n = 0;

	for (const struct run *r = d->runs; r; r = r->next)
		n += strcmp(r->host, host) == 0;
	return n;
}

/* Slots for the tests defined now: kept (with their next start) for tests still there. */
static void resync(struct dialer *d)
{
	const struct dialtests_snapshot *defs = dialtests_get(d->defs);
	struct slot *slots = calloc(defs->n ? defs->n : 1, sizeof(*slots));
	uint64_t now = now_realtime_us();
	size_t n = 0;

	if (!slots) {
		dialtests_release(defs);
		return;
	}
	for (size_t i = 0; i < defs->n; i++) {
		const struct dialtest *t = defs->items[i].test;
		const struct slot *old = slot_of(d, defs->items[i].id);

		if (!t->enabled)
			continue;
		slots[n] = old ? *old : (struct slot){ .id = defs->items[i].id, .next_us = first_start(t, now) };
		slots[n].e = &defs->items[i];
		n++;
	}
	free(d->slots);
	d->slots = slots;
	d->n_slots = n;
	dialtests_release(d->defs_now);
	d->defs_now = defs;
}

/* Whether a run against the host of e's first step may start now, within the limits. */
static bool within_limits(struct dialer *d, const struct dialtest_entry *e)
{
	char host[256];

	url_host(e->test->steps[0].url, host, sizeof(host));
	return d->n_running < d->conf->concurrency && running_on(d, host) < d->conf->per_host;
}

/* Runs asked for through the API start, oldest first, as the limits let them. */
static void start_asked(struct dialer *d)
{
	struct asked_run **p = &d->queue;

	while (*p) {
		struct asked_run *q = *p;
		const struct dialtest_entry *e = dialtests_find(d->defs_now, q->id);
		struct run *r;

		if (e && !within_limits(d, e)) {
			p = &q->next;
			continue;
		}
		r = e ? run_new(d, dialtests_ref(d->defs_now), e, q->planned_us) : NULL;
		if (!r && e) {
			p = &q->next;
			continue;
		}
		/* Started, or its test was deleted meanwhile: it leaves the queue either way. */
		*p = q->next;
		free(q);
		pthread_mutex_lock(&d->lock);
		d->n_asked--;
		pthread_mutex_unlock(&d->lock);
		if (r) {
			r->asked = true;
			step_start(r);
		}
	}
}

/* Starts what is due and the limits allow; sets the timer to the next start. */
static void schedule(struct dialer *d)
{
	uint64_t now = now_realtime_us(), next = UINT64_MAX;

	start_asked(d);

	for (size_t i = 0; i < d->n_slots; i++) {
		struct slot *s = &d->slots[i];
		const struct dialtest_entry *e = s->e;
		struct run *r;

		if (s->running)
			continue;
		if (s->next_us > now) {
			next = MIN(next, s->next_us);
			continue;
		}
		if (!within_limits(d, e))
			continue; /* due, held: a run's end calls schedule() again */
		r = run_new(d, dialtests_ref(d->defs_now), e, s->next_us);
		if (!r)
			continue;
		r->scheduled = true;
		s->running = true;
		/* The next start keeps the phase; starts missed meanwhile are counted, not made up. */
		s->next_us += e->test->interval_us;
		while (s->next_us <= now) {
			s->next_us += e->test->interval_us;
			metrics_add(&metrics.dialtest_runs_skipped, 1);
		}
		step_start(r);
	}
	if (next != UINT64_MAX) {
		(void)sd_event_source_set_time(d->timer, next);
		(void)sd_event_source_set_enabled(d->timer, SD_EVENT_ONESHOT);
	}
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	schedule(userdata);
	return 0;
}

/* Manual runs asked for, and a reload: on the loop. */
static int on_wake(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct dialer *d = userdata;
	struct asked_run *list, **tail = &d->queue;
	uint64_t count;
	bool reload;

	(void)!read(fd, &count, sizeof(count));
	pthread_mutex_lock(&d->lock);
	list = d->asked;
	d->asked = NULL;
	reload = d->reload;
	d->reload = false;
	pthread_mutex_unlock(&d->lock);
	if (reload)
		resync(d);
	/* Newest first as asked: onto the queue's tail oldest first. */
	while (*tail)
		tail = &(*tail)->next;
	while (list) {
		struct asked_run *q = list, **at = tail;

		list = q->next;
		q->next = *at;
		*at = q;
	}
	schedule(d);
	return 0;
}

static void poke(struct dialer *d)
{
	uint64_t one = 1;

	(void)!write(d->wake_fd, &one, sizeof(one));
}

static void asked_free(struct asked_run *q)
{
	while (q) {
		struct asked_run *next = q->next;
		free(q);
		q = next;
	}
}

void dialer_cancel(struct dialer *d)
{
	struct asked_run *list;

	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->cancelled = true;
	list = TAKE_PTR(d->asked);
	pthread_mutex_unlock(&d->lock);
	asked_free(list);
}

void dialer_reload(struct dialer *d)
{
	pthread_mutex_lock(&d->lock);
	d->reload = true;
	pthread_mutex_unlock(&d->lock);
	poke(d);
}

int dialer_ask(struct dialer *d, int64_t id, uint64_t *ret_planned_us)
{
	const struct dialtests_snapshot *defs = dialtests_get(d->defs);
	bool known = dialtests_find(defs, id) != NULL;
	uint64_t planned_us = now_realtime_us();
	struct asked_run *q;
	int r = 0;

	dialtests_release(defs);
	if (!known)
		return -ENOENT;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	*q = (struct asked_run){ .id = id, .planned_us = planned_us };
	pthread_mutex_lock(&d->lock);
	if (d->cancelled)
		r = -ECANCELED;
	else if (d->n_asked >= DIALER_ASKED_MAX)
		r = -EBUSY;
	if (r == 0) {
		q->next = d->asked;
		d->asked = q;
		d->n_asked++;
	}
	pthread_mutex_unlock(&d->lock);
	if (r < 0) {
		free(q);
		return r;
	}
	/* q is the loop's from here on: it may start, and be freed, at once. */
	poke(d);
	*ret_planned_us = planned_us;
	return 0;
}

/*
 * While tests are scheduled, the collector's host is heard from at least
 * every HEARTBEAT_US, as an agent is: tests with long intervals do not make
 * it look silent (which would suppress their alerts).
 */
#define HEARTBEAT_US (30 * USEC_PER_SEC)

static int on_heartbeat(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct dialer *d = userdata;
	struct buf rec;

	if (d->n_slots && now_monotonic_us() - d->shipped_us >= HEARTBEAT_US) {
		buf_init(&rec, 4096);
		if (export_put_u64(&rec, "__REALTIME_TIMESTAMP", now_realtime_us()) == 0 &&
		    export_put_str(&rec, "_HOSTNAME", d->host) == 0 && export_put_str(&rec, "VIGIL_KIND", "heartbeat") == 0 &&
		    export_end_entry(&rec) == 0)
			dialship_put(d->ship, &rec, 1);
		d->shipped_us = now_monotonic_us();
		buf_free(&rec);
	}
	(void)sd_event_source_set_time_relative(s, HEARTBEAT_US);
	return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

/* The host name results are stored under, and the agent id it makes. */
static int identity(const struct dialtests_conf *conf, char *host, size_t size, uint8_t agent[AGENT_ID_SIZE])
{
	uint8_t digest[32];
	char seed[300];

	if (conf->host)
		(void)snprintf(host, size, "%s", conf->host);
	else if (gethostname(host, size) < 0)
		return -errno;
	host[size - 1] = 0;
	(void)snprintf(seed, sizeof(seed), "vigil-collector-dialtests\n%s", host);
	if (sha256(seed, strlen(seed), digest) < 0)
		return -EIO;
	memcpy(agent, digest, AGENT_ID_SIZE);
	return 0;
}

void dialer_stop(struct dialer *d)
{
	if (!d)
		return;
	dialer_cancel(d);
	asked_free(d->queue);
	while (d->runs) {
		struct run *r = d->runs;

		d->runs = r->next;
		run_free(r);
	}
	sd_event_source_disable_unref(d->timer);
	sd_event_source_disable_unref(d->wake);
	sd_event_source_disable_unref(d->heartbeat);
	if (d->wake_fd >= 0)
		close(d->wake_fd);
	curl_loop_free(d->curl);
	dialship_stop(d->ship);
	free(d->slots);
	dialtests_release(d->defs_now);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

int dialer_start(const struct dialtests_conf *conf, struct dialtests *defs, sd_event *event, struct dialer **ret)
{
	struct dialer *d = calloc(1, sizeof(*d));
	uint8_t agent[AGENT_ID_SIZE];
	int r;

	if (!d)
		return -ENOMEM;
	d->conf = conf;
	d->defs = defs;
	d->event = event;
	pthread_mutex_init(&d->lock, NULL);
	d->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	r = d->wake_fd < 0 ? -errno : identity(conf, d->host, sizeof(d->host), agent);
	if (r == 0)
		r = dialship_start(INGEST_LOCAL_URL, agent, conf->queue, &d->ship);
	if (r == 0)
		r = curl_loop_new(event, &d->curl);
	if (r == 0)
		r = sd_event_add_time(event, &d->timer, CLOCK_REALTIME, UINT64_MAX, 1000, on_timer, d);
	if (r == 0)
		r = sd_event_add_io(event, &d->wake, d->wake_fd, EPOLLIN, on_wake, d);
	if (r == 0)
		r = sd_event_add_time_relative(event, &d->heartbeat, CLOCK_MONOTONIC, HEARTBEAT_US, USEC_PER_SEC,
					       on_heartbeat, d);
	if (r < 0) {
		dialer_stop(d);
		return r;
	}
	resync(d);
	schedule(d);
	*ret = d;
	return 0;
}
