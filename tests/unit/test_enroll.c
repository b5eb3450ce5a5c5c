/* SPDX-License-Identifier: Apache-2.0 */
/* Enrollment's pieces: certificates (enroll/x509.c), the token text, and the service on a temporary data_dir. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/util.h"
#include "enroll/enroll.h"
#include "enroll/x509.h"
#include "tests/unit/tmpdir.h"

#define NOW (UINT64_C(1790000000) * USEC_PER_SEC)
#define DAY_S 86400

static struct x509_issuer *new_ca(void)
{
	char *cert = NULL, *key = NULL;
	struct x509_issuer *is = NULL;

	assert_int_equal(x509_ca_new("test CA", NOW, 365 * DAY_S, &cert, &key), 0);
	assert_int_equal(x509_issuer_load(cert, key, &is), 0);
	free(cert);
	x509_free_secret(key);
	return is;
}

static char *client_cert(struct x509_issuer *is, const char *key, const char *name, uint64_t lifetime_s,
			 struct x509_cert_info *info)
{
	char *csr = NULL, *cert = NULL;

	assert_int_equal(x509_csr_new(key, name, &csr), 0);
	assert_int_equal(x509_issue(is, &(struct x509_request){ .csr = csr, .name = name, .usage = X509_USAGE_CLIENT,
							       .now_us = NOW, .lifetime_s = lifetime_s },
				    &cert, info),
			 0);
	free(csr);
	return cert;
}

static void issue_and_verify(void **state)
{
	struct x509_issuer *is = new_ca(), *other = new_ca();
	struct x509_cert_info info, again;
	struct x509_csr_info ci;
	char *key = NULL, *csr = NULL, *cert;

	assert_int_equal(x509_key_new(&key), 0);
	assert_int_equal(x509_csr_new(key, "web-1.gov.example", &csr), 0);
	assert_int_equal(x509_csr_check(csr, &ci), 0);
	assert_string_equal(ci.name, "web-1.gov.example");
	cert = client_cert(is, key, "web-1.gov.example", 30 * DAY_S, &info);
	assert_string_equal(info.name, "web-1.gov.example");
	assert_string_equal(info.key_id, ci.key_id);
	assert_int_equal(strlen(info.serial), X509_SERIAL_HEX);
	/* The life asked for, after a grace of five minutes before now. */
	assert_true(info.not_after_us - NOW == 30ull * DAY_S * USEC_PER_SEC);
	assert_true(NOW - info.not_before_us == 300 * USEC_PER_SEC);
	assert_int_equal(x509_cert_info(cert, &again), 0);
	assert_string_equal(again.fingerprint, info.fingerprint);
	assert_int_equal(x509_issuer_verify(is, cert, NOW), 0);
	assert_int_equal(x509_issuer_verify(is, cert, info.not_after_us + USEC_PER_SEC), -EKEYEXPIRED);
	assert_int_equal(x509_issuer_verify(other, cert, NOW), -EBADMSG);
	assert_int_equal(x509_issuer_verify(is, "not a certificate", NOW), -EBADMSG);
	free(cert);
	free(csr);
	x509_free_secret(key);
	x509_issuer_free(is);
	x509_issuer_free(other);
}

/* A request whose signature does not hold, and names a certificate cannot have. */
static void bad_requests(void **state)
{
	struct x509_issuer *is = new_ca(), *none = NULL;
	struct x509_cert_info info;
	struct x509_csr_info ci;
	char *key = NULL, *csr = NULL, *cert = NULL, *p;

	assert_int_equal(x509_key_new(&key), 0);
	assert_int_equal(x509_csr_new(key, "web-1", &csr), 0);
	/* A byte of the signature's base64, near the end, changed. */
	p = strstr(csr, "-----END") - 6;
	*p = *p == 'A' ? 'B' : 'A';
	assert_int_equal(x509_csr_check(csr, &ci), -EBADMSG);
	assert_int_equal(x509_issue(is, &(struct x509_request){ .csr = csr, .name = "web-1", .now_us = NOW,
							       .lifetime_s = DAY_S },
				    &cert, &info),
			 -EBADMSG);
	assert_null(cert);
	assert_false(x509_name_valid(""));
	assert_false(x509_name_valid("a b"));
	assert_false(x509_name_valid("-web"));
	assert_false(x509_name_valid("web..gov"));
	assert_false(x509_name_valid("web/1"));
	assert_true(x509_name_valid("web-1"));
	assert_true(x509_name_valid("10.0.0.5"));
	assert_true(x509_name_valid("::1"));
	/* A name longer than a CN holds is refused for a request, not cut. */
	assert_int_equal(x509_csr_new(key, "a-host-name-that-is-longer-than-sixty-four-characters-in-all.gov.example", &p), -EINVAL);
	assert_int_equal(x509_issuer_load("x", key, &none), -EBADMSG);
	assert_null(none);
	free(csr);
	x509_free_secret(key);
	x509_issuer_free(is);
}

static void token_text(void **state)
{
	struct enroll_token_text t = { 0 }, back;
	char text[ENROLL_TOKEN_TEXT_MAX + 1];

	memset(t.id, 'a', ENROLL_TOKEN_ID_HEX);
	memset(t.secret, '1', ENROLL_TOKEN_SECRET_HEX);
	memset(t.ca, 'f', 64);
	enroll_token_format(&t, text);
	assert_int_equal(strlen(text), ENROLL_TOKEN_TEXT_MAX);
	assert_int_equal(enroll_token_parse(text, &back), 0);
	assert_string_equal(back.id, t.id);
	assert_string_equal(back.secret, t.secret);
	assert_string_equal(back.ca, t.ca);
	text[5 + ENROLL_TOKEN_ID_HEX] = '-';
	assert_int_equal(enroll_token_parse(text, &back), -EINVAL);
	assert_int_equal(enroll_token_parse("vgl1.", &back), -EINVAL);
	assert_int_equal(enroll_token_parse(NULL, &back), -EINVAL);
}

static void count(const char *serial, void *ctx)
{
	(*(int *)ctx)++;
}

/* The service: a token's uses counted with the certificates they paid for, renewal, revocation. */
static void service(void **state)
{
	const uint64_t now = now_realtime_us();
	struct enroll_conf conf = { .enabled = true, .lifetime_ms = 3600 * 1000, .names = "collector.test 127.0.0.1" };
	struct enroll_token t = { .created_by = "test", .created_us = now, .expires_us = now + 3600 * USEC_PER_SEC,
				  .uses_max = 1, .labels = "zone=a" };
	char text[ENROLL_TOKEN_TEXT_MAX + 1], why[512], *key = NULL, *csr = NULL;
	struct enroll_grant g, renewed, g2;
	struct enrollment *e;
	int n = 0;

	assert_int_equal(enrollment_open(&conf, test_dir, &e), 0);
	assert_int_equal(enrollment_token_create(e, &t, text), 0);
	assert_non_null(strstr(text, enrollment_ca_fingerprint(e)));
	assert_int_equal(x509_key_new(&key), 0);
	assert_int_equal(x509_csr_new(key, "web-1", &csr), 0);
	assert_int_equal(enrollment_enroll(e, text, csr, now, &g, why, sizeof(why)), 0);
	assert_string_equal(g.labels, "zone=a");
	assert_false(enrollment_revoked(e, g.info.serial));
	assert_int_equal(enrollment_enroll(e, text, csr, now, &renewed, why, sizeof(why)), -EACCES);
	assert_non_null(strstr(why, "used as many times"));
	assert_int_equal(enrollment_renew(e, g.cert, csr, now + USEC_PER_SEC, &renewed, why, sizeof(why)), 0);
	assert_string_equal(renewed.info.name, "web-1");
	assert_string_not_equal(renewed.info.serial, g.info.serial);
	/* The name's certificates in force, both of them, revoked at once; the revoked one renews no more. */
	assert_int_equal(enrollment_certs_revoke(e, "web-1", "test", now + 2 * USEC_PER_SEC, count, &n), 2);
	assert_int_equal(n, 2);
	assert_true(enrollment_revoked(e, g.info.serial));
	assert_true(enrollment_revoked(e, renewed.info.serial));
	assert_int_equal(enrollment_renew(e, renewed.cert, csr, now + 3 * USEC_PER_SEC, &g2, why, sizeof(why)),
			 -EKEYREVOKED);
	assert_int_equal(enrollment_certs_revoke(e, "web-1", "test", now + 4 * USEC_PER_SEC, count, &n), -ENOENT);
	free(renewed.cert);
	free(g.cert);
	free(csr);
	x509_free_secret(key);
	enrollment_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(issue_and_verify),
		cmocka_unit_test(bad_requests),
		cmocka_unit_test(token_text),
		cmocka_unit_test(service),
	};

	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
