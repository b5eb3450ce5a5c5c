/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <openssl/ssl.h>
#include <stdio.h>

#include "common/export.h"
#include "common/fields.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/util.h"
#include "dialtests/run.h"

#define RETRY_DELAY_US (1 * USEC_PER_SEC)
#define HEADERS_MAX (64 * 1024)

const char *const run_outcome_names[] = { "ok", "assertion_failed", "probe_error" };

static void step_start(struct run *r);
static const char *var_lookup(const char *name, void *userdata);

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
			 "ok", r->outcome == RUN_OK, "outcome", run_outcome_names[r->outcome], "scheduled",
			 (json_int_t)r->planned_us, "started", (json_int_t)r->started_us, "attempts", (int)r->attempt,
			 "message", r->message, "steps", r->steps);
}


static void step_clear(struct run *r)
{
	if (r->easy) {
		curl_loop_remove(r->env->curl, r->easy);
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

void run_free(struct run *r)
{
	if (!r)
		return;
	attempt_clear(r);
	json_decref(r->steps);
	sd_event_source_disable_unref(r->retry);
	buf_free(&r->resp);
	buf_free(&r->resp_headers);
	if (r->ref.release)
		r->ref.release(r->ref.ref);
	free(r);
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
	json_t *result = result_json(r);

	redact(r, result);
	r->env->finished(r, result, r->env->ctx);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct run *r = userdata;

	attempt_clear(r);
	r->attempt++;
	r->step = 0;
	r->outcome = RUN_OK;
	step_start(r);
	return 0;
}

/* The attempt ended: a failure is tried again (retries=) before it counts. */
static void attempt_done(struct run *r)
{
	if (r->outcome != RUN_OK && r->attempt <= r->t->retries) {
		/* One timer per run, armed again for each retry. */
		int rc = r->retry ? sd_event_source_set_time_relative(r->retry, RETRY_DELAY_US) :
				    sd_event_add_time_relative(r->env->event, &r->retry, CLOCK_MONOTONIC, RETRY_DELAY_US,
							       10000, on_retry, r);

		step_clear(r);
		if (rc >= 0 && sd_event_source_set_enabled(r->retry, SD_EVENT_ONESHOT) >= 0)
			return;
	}
	if (r->outcome == RUN_OK)
		(void)snprintf(r->message, sizeof(r->message), "ok: %zu step%s", r->t->n_steps, r->t->n_steps > 1 ? "s" : "");
	step_clear(r);
	run_finish(r);
}

/* The step failed before or without an answer: the probe could not run it. */
static void step_error(struct run *r, json_t *step, const char *kind, const char *message)
{
	json_object_set_new(step, "error", json_pack("{s:s, s:s}", "kind", kind, "message", message));
	json_array_append_new(r->steps, step);
	r->outcome = RUN_ERROR;
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
	if (r->n_vars == RUN_VARS_MAX || !(r->var_names[r->n_vars] = strdup(name))) {
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
		r->outcome = RUN_ASSERTION;
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
static bool secret_file_inside(const char *secrets_dir, const char *path)
{
	char *real = realpath(path, NULL), *dir = realpath(secrets_dir, NULL);
	bool inside = real && dir && dt_path_inside(real, dir);

	if (real && !inside)
		log_warning("dialtests: secret file %s resolves to %s, outside %s ([dialtests] secrets_dir); not read",
			    path, real, secrets_dir);
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
		if (!r->secrets[i] && s->file && secret_file_inside(r->env->secrets_dir, s->file) && (f = fopen(s->file, "re"))) {
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
	if (curl_loop_add(r->env->curl, r->easy, step_done, r) < 0) {
		curl_easy_cleanup(r->easy);
		r->easy = NULL;
		step_error(r, step_json(s), "config", "cannot start the transfer");
	}
}

void run_url_host(const char *url, char *out, size_t size)
{
	const char *h = strstr(url, "://");

	h = h ? h + 3 : url;
	(void)snprintf(out, size, "%.*s", (int)strcspn(h, "/?#"), h);
}

struct run *run_new(const struct run_env *env, const struct dialtest *t, int64_t id, struct run_ref ref,
		    uint64_t planned_us)
{
	struct run *r = calloc(1, sizeof(*r));

	if (!r) {
		if (ref.release)
			ref.release(ref.ref);
		return NULL;
	}
	*r = (struct run){ .env = env, .ref = ref, .t = t, .id = id, .planned_us = planned_us,
			   .started_us = now_realtime_us(), .attempt = 1, .steps = json_array() };
	buf_init(&r->resp, DT_BODY_MAX + 1);
	buf_init(&r->resp_headers, HEADERS_MAX + 1);
	run_url_host(t->steps[0].url, r->host, sizeof(r->host));
	return r;
}

void run_start(struct run *r)
{
	step_start(r);
}

void run_sums(const struct run *r, int64_t *days, double *total_ms)
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

int run_probe_fields(const struct run *r, json_t *result, const char *text, struct buf *out)
{
	static const char *const status[] = { "ok", "critical", "critical" };
	char labels[1024] = "";
	const char *k;
	int64_t days;
	double total;
	json_t *v;
	int e = 0;

	run_sums(r, &days, &total);
	json_object_foreach(r->t->labels, k, v)
		(void)snprintf(labels + strlen(labels), sizeof(labels) - strlen(labels), "%s%s=%s", *labels ? " " : "",
			       k, json_string_value(v));
	e |= export_put_str(out, FIELD_PROBE_NAME, r->t->name);
	e |= export_put_str(out, FIELD_PROBE_TYPE, DIALTEST_TYPE);
	e |= export_put_str(out, FIELD_PROBE_STATUS, status[r->outcome]);
	e |= export_put_u64(out, FIELD_PROBE_LATENCY_US, (uint64_t)(total * 1000));
	e |= export_put_str(out, FIELD_MESSAGE, json_string_value(json_object_get(result, "message")));
	e |= export_put_u64(out, FIELD_DIALTEST_ID, (uint64_t)r->id);
	e |= export_put_str(out, FIELD_DIALTEST_OUTCOME, run_outcome_names[r->outcome]);
	if (*labels)
		e |= export_put_str(out, FIELD_DIALTEST_LABELS, labels);
	e |= export_put_str(out, FIELD_DIALTEST_RESULT, text);
	return e ? -ENOBUFS : 0;
}
