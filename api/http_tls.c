/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <gnutls/gnutls.h>
#include <stdio.h>

#include "common/log.h"
#include "common/macro.h"
#include "api/http_tls.h"
#include "common/file.h"


/* AEAD ciphers only, and no protocol before TLS 1.2. */
#define PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305"

struct http_tls {
	char *cert, *key, *client_ca; /* PEM text; client_ca NULL when none is required */
};

/* The whole of a PEM file, NUL-terminated, into *ret. */
static int read_pem(const char *key, const char *path, char **ret)
{
	int r = file_read_text(path, PEM_FILE_MAX, ret);

	if (r == -EFBIG)
		return log_error_errno(r, "[http] %s=%s: larger than %d bytes", key, path, PEM_FILE_MAX);
	if (r < 0)
		return log_error_errno(r, "[http] %s=%s: cannot read: %m", key, path);
	return 0;
}

void http_tls_free(struct http_tls *t)
{
	if (!t)
		return;
	if (t->key)
		explicit_bzero(t->key, strlen(t->key));
	free(t->cert);
	free(t->key);
	free(t->client_ca);
	free(t);
}

/* What GnuTLS makes of t, before any daemon is given it: a reload must not end up serving nothing. */
static int check_material(const struct http_conf *conf, const struct http_tls *t)
{
	gnutls_certificate_credentials_t cred;
	gnutls_datum_t cert = { (unsigned char *)t->cert, (unsigned)strlen(t->cert) },
		       key = { (unsigned char *)t->key, (unsigned)strlen(t->key) };
	int rc = gnutls_certificate_allocate_credentials(&cred), r = 0;

	if (rc < 0)
		return -ENOMEM;
	rc = gnutls_certificate_set_x509_key_mem(cred, &cert, &key, GNUTLS_X509_FMT_PEM);
	if (rc < 0)
		r = log_error_errno(EINVAL, "[http] tls_cert=%s, tls_key=%s: not a certificate and its key: %s",
				    conf->tls_cert, conf->tls_key, gnutls_strerror(rc));
	if (r == 0 && t->client_ca) {
		gnutls_datum_t ca = { (unsigned char *)t->client_ca, (unsigned)strlen(t->client_ca) };
		rc = gnutls_certificate_set_x509_trust_mem(cred, &ca, GNUTLS_X509_FMT_PEM);
		if (rc <= 0)
			r = log_error_errno(EINVAL, "[http] tls_client_ca=%s: no CA certificate in it%s%s",
					    conf->tls_client_ca, rc < 0 ? ": " : "", rc < 0 ? gnutls_strerror(rc) : "");
	}
	gnutls_certificate_free_credentials(cred);
	return r;
}

int http_tls_load(const struct http_conf *conf, struct http_tls **ret)
{
	struct http_tls *t;
	int r;

	*ret = NULL;
	if (!conf->tls_cert)
		return 0;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	r = read_pem("tls_cert", conf->tls_cert, &t->cert);
	if (r == 0)
		r = read_pem("tls_key", conf->tls_key, &t->key);
	if (r == 0 && conf->tls_client_ca)
		r = read_pem("tls_client_ca", conf->tls_client_ca, &t->client_ca);
	if (r == 0)
		r = check_material(conf, t);
	if (r < 0) {
		http_tls_free(t);
		return r;
	}
	*ret = t;
	return 0;
}

size_t http_tls_options(const struct http_tls *t, struct MHD_OptionItem *ops)
{
	size_t n = 0;

	ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, t->cert };
	ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, t->key };
	ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)PRIORITIES };
	/* With a trust list MHD asks every client for a certificate; http_tls_client_ok() judges it. */
	if (t->client_ca)
		ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_TRUST, 0, t->client_ca };
	return n;
}

bool http_tls_client_ok(const struct http_tls *t, struct MHD_Connection *c, char *why, size_t size)
{
	const union MHD_ConnectionInfo *ci;
	unsigned status = 0;
	int rc;

	if (!t || !t->client_ca)
		return true;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || !ci->tls_session) {
		(void)snprintf(why, size, "not a TLS connection");
		return false;
	}
	rc = gnutls_certificate_verify_peers2((gnutls_session_t)ci->tls_session, &status);
	if (rc == GNUTLS_E_NO_CERTIFICATE_FOUND) {
		(void)snprintf(why, size, "no client certificate: this API requires one signed by [http] tls_client_ca");
		return false;
	}
	if (rc < 0 || status) {
		gnutls_datum_t text = { 0 };
		if (rc == 0 && gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) == 0)
			(void)snprintf(why, size, "the client certificate is not accepted: %s", (const char *)text.data);
		else
			(void)snprintf(why, size, "the client certificate is not accepted: %s", gnutls_strerror(rc));
		gnutls_free(text.data);
		return false;
	}
	return true;
}
