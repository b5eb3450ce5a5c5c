/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <regex.h>
#include <stdio.h>

#include "common/log.h"
#include "common/macro.h"
#include "common/regex.h"
#include "fetch/curl_loop.h"
#include "probes/probe-internal.h"

#define BODY_MAX (1024 * 1024)

static struct curl_loop *shared_loop;
static unsigned shared_users;

int probe_curl_attach(struct probe *p)
{
	int r = shared_loop ? 0 : curl_loop_new(p->event, &shared_loop);

	if (r < 0)
		return r;
	shared_users++;
	p->attached = shared_loop;
	return 0;
}

void probe_curl_detach(struct probe *p)
{
	if (!p->attached)
		return;
	p->attached = NULL;
	if (--shared_users == 0) {
		curl_loop_free(shared_loop);
		shared_loop = NULL;
	}
}

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
	struct probe *p = userdata;

	/* Keep the first BODY_MAX bytes for the checks; read the rest without keeping it. */
	(void)buf_append(&p->io_buf, data, MIN(size * n, BODY_MAX - MIN(p->io_buf.len, (size_t)BODY_MAX)));
	return size * n;
}

void probe_curl_stop(struct probe *p)
{
	if (!p->easy)
		return;
	curl_loop_remove(shared_loop, p->easy);
	curl_easy_cleanup(p->easy);
	p->easy = NULL;
}

int probe_curl_prepare(struct probe *p, const char *url)
{
	CURL *e = curl_easy_init();

	if (!e)
		return -ENOMEM;
	p->easy = e;
	p->curl_error[0] = 0;
	buf_reset(&p->io_buf);
	(void)curl_easy_setopt(e, CURLOPT_URL, url);
	(void)curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	/* The probe's deadline decides; curl's own is a backstop behind it. */
	(void)curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)p->conf->timeout_ms + 1000);
	(void)curl_easy_setopt(e, CURLOPT_ERRORBUFFER, p->curl_error);
	(void)curl_easy_setopt(e, CURLOPT_USERAGENT, "vigil-probe/" PACKAGE_VERSION);
	(void)curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	(void)curl_easy_setopt(e, CURLOPT_WRITEDATA, p);
	/* A fresh connection each run, so connect and TLS timings are real. */
	(void)curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	(void)curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	return 0;
}

int probe_curl_go(struct probe *p, curl_done_fn done)
{
	int r = curl_loop_add(shared_loop, p->easy, done, p);

	if (r < 0)
		probe_curl_stop(p);
	return r;
}

static void add_timings(struct probe *p, CURL *e)
{
	static const struct { CURLINFO info; const char *key; } t[] = {
		{ CURLINFO_NAMELOOKUP_TIME_T, "PROBE_DNS_US" },     { CURLINFO_CONNECT_TIME_T, "PROBE_CONNECT_US" },
		{ CURLINFO_APPCONNECT_TIME_T, "PROBE_TLS_US" },     { CURLINFO_STARTTRANSFER_TIME_T, "PROBE_TTFB_US" },
		{ CURLINFO_REDIRECT_TIME_T, "PROBE_REDIRECT_US" }, { CURLINFO_TOTAL_TIME_T, "PROBE_TOTAL_US" },
	};
	curl_off_t v, bytes = 0;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (curl_easy_getinfo(e, t[i].info, &v) == CURLE_OK && v > 0)
			probe_detail_u64(p, t[i].key, (uint64_t)v);
	if (curl_easy_getinfo(e, CURLINFO_SIZE_DOWNLOAD_T, &bytes) == CURLE_OK)
		probe_detail_u64(p, "PROBE_BYTES", (uint64_t)bytes);
}

/* "200 204", "2xx 3xx": does code match? */
static bool status_expected(const char *spec, long code)
{
	_cleanup_free_ char *dup = strdup(spec);
	char *save = NULL;

	for (char *w = dup ? strtok_r(dup, " ,", &save) : NULL; w; w = strtok_r(NULL, " ,", &save)) {
		if (strlen(w) == 3 && (w[1] == 'x' || w[1] == 'X') && w[0] - '0' == code / 100)
			return true;
		if (strtol(w, NULL, 10) == code)
			return true;
	}
	return false;
}

static void check_body(struct probe *p, long code)
{
	const char *body = p->io_buf.data ? (const char *)p->io_buf.data : "";
	regex_t re;
	char why[160];
	int m;

	if (p->conf->contains && !strstr(body, p->conf->contains)) {
		probe_finish(p, PROBE_CRITICAL, "HTTP %ld, but the body lacks '%s'", code, p->conf->contains);
		return;
	}
	if (p->conf->regex) {
		if (regex_compile(&re, p->conf->regex, REG_EXTENDED | REG_NOSUB, why, sizeof(why)) < 0) {
			probe_finish(p, PROBE_UNKNOWN, "regex=%s: %s", p->conf->regex, why);
			return;
		}
		m = regexec(&re, body, 0, NULL, 0);
		regfree(&re);
		if (m != 0) {
			probe_finish(p, PROBE_CRITICAL, "HTTP %ld, but the body does not match /%s/", code, p->conf->regex);
			return;
		}
	}
	probe_finish(p, PROBE_OK, "HTTP %ld in %.1f ms", code, (double)probe_elapsed_us(p) / 1000.0);
}

static void http_done(CURL *e, CURLcode rc, void *userdata)
{
	struct probe *p = userdata;
	long code = 0;

	add_timings(p, e);
	(void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK) {
		probe_finish(p, PROBE_CRITICAL, "%s", p->curl_error[0] ? p->curl_error : curl_easy_strerror(rc));
		return;
	}
	probe_detail_u64(p, "PROBE_HTTP_STATUS", (uint64_t)code);
	(void)buf_terminate(&p->io_buf);
	if (!status_expected(p->conf->expect_status, code))
		probe_finish(p, PROBE_CRITICAL, "HTTP %ld (expected %s)", code, p->conf->expect_status);
	else
		check_body(p, code);
}

static int http_start(struct probe *p)
{
	int r;

	probe_detail(p, "PROBE_URL", p->conf->url);
	r = probe_curl_prepare(p, p->conf->url);
	if (r < 0)
		return r;
	(void)curl_easy_setopt(p->easy, CURLOPT_FOLLOWLOCATION, p->conf->follow_redirects ? 1L : 0L);
	(void)curl_easy_setopt(p->easy, CURLOPT_MAXREDIRS, 5L);
	(void)curl_easy_setopt(p->easy, CURLOPT_SSL_VERIFYPEER, p->conf->tls_verify ? 1L : 0L);
	(void)curl_easy_setopt(p->easy, CURLOPT_SSL_VERIFYHOST, p->conf->tls_verify ? 2L : 0L);
	if (p->conf->tls_ca)
		(void)curl_easy_setopt(p->easy, CURLOPT_CAINFO, p->conf->tls_ca);
	return probe_curl_go(p, http_done);
}

static const char *const http_required[] = { "url", NULL };
static const char *const http_allowed[] = { "expect_status", "contains", "regex", "tls_verify", "tls_ca",
					    "follow_redirects", NULL };

const struct probe_ops probe_http_ops = {
	.type = "http",
	.required = http_required,
	.allowed = http_allowed,
	.start = http_start,
	.stop = probe_curl_stop,
	.attach = probe_curl_attach,
	.detach = probe_curl_detach,
};
