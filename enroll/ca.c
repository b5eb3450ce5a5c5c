/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/file.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/util.h"
#include "enroll/ca.h"

#define CA_LIFETIME_S (10ull * 366 * 86400)
/* Issued again at every start; long enough for a collector that runs for years without one. */
#define SERVER_LIFETIME_S (825ull * 86400)
#define CA_KEY "ca/ca.key"

struct enroll_ca {
	struct x509_issuer *issuer;
};

static int read_pem(const char *what, const char *path, char **ret)
{
	int r = file_read_text(path, PEM_FILE_MAX, ret);

	if (r < 0 && r != -ENOENT)
		log_error_errno(r, "enroll: cannot read the %s %s: %m", what, path);
	return r;
}

/* The organisation's CA of [enroll] ca_cert= and ca_key=. */
static int load_given(const struct enroll_conf *conf, struct x509_issuer **ret)
{
	_cleanup_free_ char *cert = NULL;
	char *key = NULL;
	int r = read_pem("CA certificate", conf->ca_cert, &cert);

	if (r == 0)
		r = read_pem("CA key", conf->ca_key, &key);
	if (r == -ENOENT)
		return log_error_errno(r, "enroll: %s or %s does not exist", conf->ca_cert, conf->ca_key);
	if (r == 0 && (r = x509_issuer_load(cert, key, ret)) < 0)
		log_error_errno(r, "enroll: %s and %s are not a CA certificate (CA:TRUE) and its private key",
				conf->ca_cert, conf->ca_key);
	x509_free_secret(key);
	return r;
}

static int write_pem(const char *data_dir, const char *name, const char *pem, unsigned mode)
{
	char path[4096];
	int r;

	(void)snprintf(path, sizeof(path), "%s/%s", data_dir, name);
	r = file_write_atomic(path, pem, strlen(pem), mode);
	if (r < 0)
		log_error_errno(r, "enroll: cannot write %s: %m", path);
	return r;
}

static int make_own(const char *data_dir)
{
	char host[256] = "", name[320], *cert = NULL, *key = NULL;
	int r;

	(void)gethostname(host, sizeof(host) - 1);
	/* A CN holds 64 characters. */
	(void)snprintf(name, sizeof(name), "vigil collector CA %.40s", host);
	r = x509_ca_new(name, now_realtime_us(), CA_LIFETIME_S, &cert, &key);
	if (r < 0)
		return log_error_errno(r, "enroll: cannot make a CA: %m");
	/* The key first: a certificate without its key is what a crash in between must not leave. */
	r = write_pem(data_dir, CA_KEY, key, 0600);
	if (r == 0)
		r = write_pem(data_dir, ENROLL_CA_CERT, cert, 0644);
	if (r == 0)
		log_notice("enroll: made the collector's CA in %s/%s (fingerprint in GET /api/v1/enroll/ca)", data_dir,
			   ENROLL_CA_DIR);
	free(cert);
	x509_free_secret(key);
	return r;
}

/* The collector's own CA under DATA_DIR/ca/, made if it is not there. */
static int load_own(const char *data_dir, struct x509_issuer **ret)
{
	char cert_path[4096], key_path[4096], *key = NULL;
	_cleanup_free_ char *cert = NULL;
	int r, rk;

	(void)snprintf(cert_path, sizeof(cert_path), "%s/%s", data_dir, ENROLL_CA_CERT);
	(void)snprintf(key_path, sizeof(key_path), "%s/%s", data_dir, CA_KEY);
	r = read_pem("CA certificate", cert_path, &cert);
	rk = read_pem("CA key", key_path, &key);
	if (r == -ENOENT && rk == -ENOENT) {
		r = make_own(data_dir);
		if (r == 0)
			r = read_pem("CA certificate", cert_path, &cert);
		if (r == 0)
			rk = read_pem("CA key", key_path, &key);
	} else if (r == -ENOENT || rk == -ENOENT) {
		r = log_error_errno(ENOENT, "enroll: %s is there without %s (or the other way round): restore it from"
					    " a backup; a new CA would orphan every enrolled agent", r ? key_path : cert_path,
				    r ? cert_path : key_path);
	}
	if (r == 0)
		r = rk;
	if (r == 0 && (r = x509_issuer_load(cert, key, ret)) < 0)
		log_error_errno(r, "enroll: %s and %s are not a CA certificate and its key", cert_path, key_path);
	x509_free_secret(key);
	return r;
}

/* DATA_DIR/ca/server.pem and server.key: a new key and certificate for names (the first its CN). */
static int issue_server(struct x509_issuer *is, const struct enroll_conf *conf, const char *data_dir)
{
	char host[256] = "", names[1024], first[X509_NAME_MAX + 1], *key = NULL, *csr = NULL, *cert = NULL;
	const char *p;
	struct x509_cert_info info;
	int r;

	(void)gethostname(host, sizeof(host) - 1);
	if (conf->names)
		(void)snprintf(names, sizeof(names), "%s", conf->names);
	else
		(void)snprintf(names, sizeof(names), "%s localhost 127.0.0.1 ::1", x509_name_valid(host) ? host : "");
	p = names;
	if (!next_word(&p, first, sizeof(first)))
		return log_error_errno(EINVAL, "enroll: names= is empty");
	r = x509_key_new(&key);
	if (r == 0)
		r = x509_csr_new(key, first, &csr);
	if (r == 0)
		r = x509_issue(is, &(struct x509_request){ .csr = csr, .name = first, .alt = p, .usage = X509_USAGE_SERVER,
							  .now_us = now_realtime_us(), .lifetime_s = SERVER_LIFETIME_S },
			       &cert, &info);
	if (r < 0)
		log_error_errno(r, "enroll: cannot issue the collector's certificate for %s: %m", names);
	if (r == 0)
		r = write_pem(data_dir, ENROLL_SERVER_KEY, key, 0600);
	if (r == 0)
		r = write_pem(data_dir, ENROLL_SERVER_CERT, cert, 0644);
	free(csr);
	free(cert);
	x509_free_secret(key);
	return r;
}

int enroll_ca_open(const struct enroll_conf *conf, const char *data_dir, struct enroll_ca **ret)
{
	struct enroll_ca *ca = calloc(1, sizeof(*ca));
	char dir[4096];
	int r;

	if (!ca)
		return -ENOMEM;
	(void)snprintf(dir, sizeof(dir), "%s/%s", data_dir, ENROLL_CA_DIR);
	r = mkdir_p(dir, 0700);
	if (r < 0)
		log_error_errno(r, "enroll: cannot create %s: %m", dir);
	if (r == 0)
		r = conf->ca_cert ? load_given(conf, &ca->issuer) : load_own(data_dir, &ca->issuer);
	if (r == 0)
		r = issue_server(ca->issuer, conf, data_dir);
	if (r < 0) {
		enroll_ca_free(ca);
		return r;
	}
	*ret = ca;
	return 0;
}

void enroll_ca_free(struct enroll_ca *ca)
{
	if (!ca)
		return;
	x509_issuer_free(ca->issuer);
	free(ca);
}

struct x509_issuer *enroll_ca_issuer(struct enroll_ca *ca)
{
	return ca->issuer;
}
