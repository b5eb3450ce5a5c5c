/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <time.h>

#include "common/util.h"
#include "probes/probe-internal.h"

/*
 * Days until a certificate expires: a PEM file's, or the one a TLS endpoint
 * presents (its chain is not verified: this probe is about expiry, and a
 * self-signed or private-CA certificate expires all the same).
 */

static void finish_days(struct probe *p, const char *what, int64_t secs_left)
{
	int64_t days = secs_left >= 0 ? secs_left / 86400 : -((-secs_left + 86399) / 86400);

	char v[32];

	probe_detail_u64(p, "PROBE_CERT_EXPIRES", (uint64_t)((int64_t)(now_realtime_us() / USEC_PER_SEC) + secs_left));
	(void)snprintf(v, sizeof(v), "%" PRId64, days);
	probe_detail(p, "PROBE_CERT_DAYS_LEFT", v);
	if (secs_left <= 0)
		probe_finish(p, PROBE_CRITICAL, "%s: certificate expired %" PRId64 " days ago", what, -days);
	else if ((uint64_t)days < p->conf->critical_days)
		probe_finish(p, PROBE_CRITICAL, "%s: certificate expires in %" PRId64 " days", what, days);
	else if ((uint64_t)days < p->conf->warning_days)
		probe_finish(p, PROBE_WARNING, "%s: certificate expires in %" PRId64 " days", what, days);
	else
		probe_finish(p, PROBE_OK, "%s: certificate valid for %" PRId64 " more days", what, days);
}

static void check_file(struct probe *p)
{
	FILE *f = fopen(p->conf->file, "re");
	int err = f ? 0 : errno, days = 0, secs = 0;
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

	if (f)
		(void)fclose(f);
	if (!x) {
		probe_finish(p, PROBE_UNKNOWN, "%s: %s", p->conf->file, f ? "no PEM certificate in it" : strerror(err));
		return;
	}
	if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)) != 1)
		probe_finish(p, PROBE_UNKNOWN, "%s: unreadable expiry date", p->conf->file);
	else
		finish_days(p, p->conf->file, (int64_t)days * 86400 + secs);
	X509_free(x);
}

static void endpoint_done(CURL *e, CURLcode rc, void *userdata)
{
	struct probe *p = userdata;
	time_t expires;

	if (rc != CURLE_OK) {
		probe_finish(p, PROBE_CRITICAL, "%s: %s", p->conf->address,
			     p->curl_error[0] ? p->curl_error : curl_easy_strerror(rc));
		return;
	}
	if (curl_cert_expiry(e, &expires) < 0) {
		probe_finish(p, PROBE_UNKNOWN, "%s: the server sent no readable certificate", p->conf->address);
		return;
	}
	finish_days(p, p->conf->address, (int64_t)expires - (int64_t)(now_realtime_us() / USEC_PER_SEC));
}

static int cert_start(struct probe *p)
{
	char url[600];
	int r;

	if (p->conf->file) {
		probe_detail(p, "PROBE_PATH", p->conf->file);
		check_file(p);
		return 0;
	}
	probe_detail(p, "PROBE_ADDRESS", p->conf->address);
	(void)snprintf(url, sizeof(url), "https://%s/", p->conf->address);
	r = probe_curl_prepare(p, url);
	if (r < 0)
		return r;
	(void)curl_easy_setopt(p->easy, CURLOPT_CONNECT_ONLY, 1L);
	(void)curl_easy_setopt(p->easy, CURLOPT_CERTINFO, 1L);
	(void)curl_easy_setopt(p->easy, CURLOPT_SSL_VERIFYPEER, 0L);
	(void)curl_easy_setopt(p->easy, CURLOPT_SSL_VERIFYHOST, 0L);
	return probe_curl_go(p, endpoint_done);
}

static const char *const cert_allowed[] = { "address", "file", "warning_days", "critical_days", NULL };

const struct probe_ops probe_cert_ops = {
	.type = "cert",
	.allowed = cert_allowed,
	.start = cert_start,
	.stop = probe_curl_stop,
	.attach = probe_curl_attach,
	.detach = probe_curl_detach,
};
