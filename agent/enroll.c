/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/enroll.h"
#include "common/buf.h"
#include "common/file.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/util.h"
#include "enroll/tokens.h"
#include "enroll/x509.h"

#define ANSWER_MAX (256 * 1024)
#define CALL_TIMEOUT_S 10L
/* A failed renewal is tried again this often, at most (and at least every tenth of what is left). */
#define RETRY_MAX_US (3600 * USEC_PER_SEC)
#define RETRY_MIN_US (2 * USEC_PER_SEC)

struct call {
	const char *base;   /* https://HOST:PORT */
	const char *path;   /* /api/v1/... */
	const char *ca;     /* the CA file to verify the collector with; NULL: none (the CA is checked by its fingerprint) */
	json_t *body;       /* NULL: GET */
	long status;
	json_t *answer;     /* the caller's */
	char err[2048 + CURL_ERROR_SIZE + 8];
};

static size_t on_body(char *p, size_t size, size_t n, void *userdata)
{
	struct buf *b = userdata;

	if (b->len + size * n > ANSWER_MAX || buf_append(b, p, size * n) < 0)
		return 0;
	return size * n;
}

/* One call to the collector's API; -EIO with c->err on a transport error, else c->status and c->answer. */
static int call_api(struct call *c)
{
	char url[2048], errbuf[CURL_ERROR_SIZE] = "";
	_cleanup_free_ char *post = c->body ? json_dumps(c->body, JSON_COMPACT) : NULL;
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	CURL *e = curl_easy_init();
	struct buf body;
	CURLcode rc = CURLE_OUT_OF_MEMORY;

	buf_init(&body, ANSWER_MAX);
	(void)snprintf(url, sizeof(url), "%s%s", c->base, c->path);
	if (e && hdr && (!c->body || post)) {
		(void)curl_easy_setopt(e, CURLOPT_URL, url);
		(void)curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
		(void)curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
		(void)curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
		(void)curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
		(void)curl_easy_setopt(e, CURLOPT_TIMEOUT, CALL_TIMEOUT_S);
		(void)curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		(void)curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
		if (c->ca) {
			(void)curl_easy_setopt(e, CURLOPT_CAINFO, c->ca);
		} else {
			(void)curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
			(void)curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
		}
		if (post)
			(void)curl_easy_setopt(e, CURLOPT_POSTFIELDS, post);
		rc = curl_easy_perform(e);
	}
	if (rc == CURLE_OK) {
		(void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &c->status);
		c->answer = json_loadb((const char *)body.data, body.len, 0, NULL);
	} else {
		(void)snprintf(c->err, sizeof(c->err), "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	}
	curl_easy_cleanup(e);
	curl_slist_free_all(hdr);
	buf_free(&body);
	return rc == CURLE_OK ? 0 : -EIO;
}

/* The reason of an error answer, or a word about the status. */
static const char *answer_reason(const struct call *c)
{
	const char *r = json_string_value(json_object_get(c->answer, "reason"));

	return r ? r : "no reason given";
}

static const char *answer_text(const struct call *c, const char *key)
{
	return json_string_value(json_object_get(c->answer, key));
}

/* The files enrollment keeps, under STATE_DIR/enroll/. */
struct enroll_paths {
	char dir[4096], key[4200], cert[4200], ca[4200], dropin_dir[4096], dropin[4200];
};

static void paths_of(const struct agent_conf *conf, const char *config_path, struct enroll_paths *p)
{
	(void)snprintf(p->dir, sizeof(p->dir), "%s/enroll", conf->agent.state_dir);
	(void)snprintf(p->key, sizeof(p->key), "%s/agent.key", p->dir);
	(void)snprintf(p->cert, sizeof(p->cert), "%s/agent.pem", p->dir);
	(void)snprintf(p->ca, sizeof(p->ca), "%s/ca.pem", p->dir);
	(void)snprintf(p->dropin_dir, sizeof(p->dropin_dir), "%s.d", config_path);
	(void)snprintf(p->dropin, sizeof(p->dropin), "%s/%s", p->dropin_dir, ENROLL_DROPIN);
}

/* Writes path, owned by owner (the state folder's user) when root writes it for the agent. */
static int write_owned(const char *path, const char *text, unsigned mode, const struct stat *owner)
{
	int r = file_write_atomic(path, text, strlen(text), mode);

	if (r == 0 && owner && chown(path, owner->st_uid, owner->st_gid) < 0)
		r = -errno;
	if (r < 0)
		log_error_errno(r, "cannot write %s: %m", path);
	return r;
}

/* The host's key: the one there, or a new one written first (0600). */
static int host_key(const struct enroll_paths *p, const struct stat *owner, char **ret)
{
	int r = file_read_text(p->key, PEM_FILE_MAX, ret);

	if (r != -ENOENT) {
		if (r < 0)
			log_error_errno(r, "cannot read %s: %m", p->key);
		return r;
	}
	r = x509_key_new(ret);
	if (r < 0)
		return log_error_errno(r, "cannot make a key: %m");
	r = write_owned(p->key, *ret, 0600, owner);
	if (r < 0) {
		x509_free_secret(*ret);
		*ret = NULL;
	}
	return r;
}

/* The collector's CA, checked against the fingerprint the token carries, into p->ca. */
static int fetch_ca(const char *url, const char *fingerprint, const struct enroll_paths *p, const struct stat *owner)
{
	struct call c = { .base = url, .path = "/api/v1/enroll/ca" };
	struct x509_cert_info info;
	const char *pem;
	int r = call_api(&c);

	if (r < 0) {
		log_error("enroll: cannot reach the collector: %s", c.err);
		goto out;
	}
	pem = answer_text(&c, "certificate");
	r = -EPROTO;
	if (c.status != 200 || !pem) {
		log_error("enroll: %s/api/v1/enroll/ca answered %ld: %s", url, c.status, answer_reason(&c));
		goto out;
	}
	if (x509_cert_info(pem, &info) < 0) {
		log_error("enroll: %s did not send a certificate as its CA", url);
		goto out;
	}
	r = -EPERM;
	if (strcmp(info.fingerprint, fingerprint) != 0) {
		log_error("enroll: the CA at %s has the fingerprint %s; the token was made for the CA %s: this is not"
			  " the collector the token belongs to (or something in between answers for it). Nothing was sent.",
			  url, info.fingerprint, fingerprint);
		goto out;
	}
	r = write_owned(p->ca, pem, 0644, owner);
out:
	json_decref(c.answer);
	return r;
}

/* The labels of the configuration, and those of the token whose keys it does not set. */
static void merge_labels(const char *own, const char *token, char *out, size_t size)
{
	const char *p = token;
	char word[256];
	size_t n = (size_t)snprintf(out, size, "%s", own ? own : "");

	while (n < size && next_word(&p, word, sizeof(word))) {
		size_t klen = strcspn(word, "=");
		bool set = false;
		const char *q = own;
		char w[256];

		while (q && next_word(&q, w, sizeof(w)))
			set |= strncmp(w, word, klen) == 0 && w[klen] == '=';
		if (!set)
			n += (size_t)snprintf(out + n, size - n, "%s%s", n ? " " : "", word);
	}
}

static int write_dropin(const struct agent_conf *conf, const struct enroll_paths *p, const char *url,
			const char *ingest, const char *token_labels)
{
	char labels[2048], text[16384], now[64];
	int n;

	merge_labels(conf->agent.labels, token_labels, labels, sizeof(labels));
	format_rfc3339_us(now_realtime_us(), now, sizeof(now));
	n = snprintf(text, sizeof(text),
		     "# Written by vigil-agent --enroll %s at %s; the agent renews the certificate itself.\n"
		     "# To enroll again, run vigil-agent --enroll with a new token (see vigil-agent(8)).\n"
		     "%s%s%s"
		     "[collector]\naddress=%s\ntls_ca=%s\ntls_cert=%s\ntls_key=%s\n\n[enroll]\nurl=%s\n",
		     url, now, labels[0] ? "[agent]\nlabels=" : "", labels, labels[0] ? "\n\n" : "", ingest, p->ca,
		     p->cert, p->key, url);
	if (n < 0 || (size_t)n >= sizeof(text))
		return -E2BIG;
	n = mkdir_p(p->dropin_dir, 0755);
	if (n < 0)
		return log_error_errno(n, "cannot create %s: %m", p->dropin_dir);
	return write_owned(p->dropin, text, 0644, NULL);
}

/* The name the certificate is for: [agent] hostname=, or this machine's. */
static int host_name(const struct agent_conf *conf, char *out, size_t size)
{
	if (conf->agent.hostname)
		(void)snprintf(out, size, "%s", conf->agent.hostname);
	else if (gethostname(out, size - 1) < 0)
		out[0] = 0;
	out[size - 1] = 0;
	if (!x509_name_valid(out) || strlen(out) > X509_CN_MAX)
		return log_error_errno(EINVAL, "enroll: the host name \"%s\" cannot be a certificate's: set [agent]"
					       " hostname= to a DNS name of at most %d characters", out, X509_CN_MAX);
	return 0;
}

/* Sends the request with the token; writes the certificate and the drop-in from the answer. */
static int request_cert(const struct agent_conf *conf, const char *url, const char *token, const char *csr,
			const struct enroll_paths *p, const struct stat *owner)
{
	struct call c = { .base = url, .path = "/api/v1/enroll", .ca = p->ca,
			  .body = json_pack("{s:s, s:s}", "token", token, "csr", csr) };
	const char *cert, *ingest;
	int r = c.body ? call_api(&c) : -ENOMEM;

	if (r == -EIO)
		log_error("enroll: %s (is the URL's host among the collector's [enroll] names=?)", c.err);
	if (r < 0)
		goto out;
	cert = answer_text(&c, "certificate");
	ingest = json_string_value(json_object_get(json_object_get(c.answer, "ingest"), "address"));
	r = -EPROTO;
	if (c.status != 201 || !cert) {
		log_error("enroll: refused (%ld): %s", c.status, answer_reason(&c));
		goto out;
	}
	if (!ingest) {
		log_error("enroll: the collector did not say where to send (set [enroll] ingest_address= there)");
		goto out;
	}
	r = write_owned(p->cert, cert, 0644, owner);
	if (r == 0)
		r = write_dropin(conf, p, url, ingest, answer_text(&c, "labels"));
	if (r == 0)
		printf("enrolled as %s (certificate %s), sending to %s\nwrote %s\nnext: systemctl enable --now"
		       " vigil-agent (systemctl restart vigil-agent if it runs already)\n",
		       answer_text(&c, "name"), answer_text(&c, "serial"), ingest, p->dropin);
out:
	json_decref(c.answer);
	json_decref(c.body);
	return r;
}

/* "-": the token is the first line of standard input, kept out of the process list and the shell's history. */
static int token_text(const char *arg, char *out, size_t size)
{
	if (strcmp(arg, "-") != 0) {
		(void)snprintf(out, size, "%s", arg);
		return 0;
	}
	if (!fgets(out, (int)size, stdin))
		return log_error_errno(EINVAL, "--token -: expected the token on standard input");
	out[strcspn(out, "\r\n")] = 0;
	return 0;
}

int agent_enroll(const struct agent_conf *conf, const char *config_path, const char *url, const char *arg)
{
	char token[ENROLL_TOKEN_TEXT_MAX + 2];
	struct enroll_token_text tt;
	struct enroll_paths p;
	struct stat st, *owner = NULL;
	char name[256], *key = NULL, *csr = NULL;
	int r;

	if (strncmp(url, "https://", 8) != 0 || strlen(url) > 1024)
		return log_error_errno(EINVAL, "--enroll %s: expected the collector's https://HOST:PORT", url);
	r = token_text(arg, token, sizeof(token));
	if (r < 0)
		return r;
	if (enroll_token_parse(token, &tt) < 0)
		return log_error_errno(EINVAL, "--token: expected vgl1.ID.SECRET.CA, as vigilctl enroll-token create"
					       " prints it");
	r = host_name(conf, name, sizeof(name));
	if (r < 0)
		return r;
	paths_of(conf, config_path, &p);
	r = mkdir_p(p.dir, 0750);
	if (r < 0)
		return log_error_errno(r, "cannot create %s: %m", p.dir);
	/* Root enrolls for the agent's user, who owns the state folder. */
	if (geteuid() == 0 && stat(conf->agent.state_dir, &st) == 0 && st.st_uid != 0) {
		owner = &st;
		if (chown(p.dir, st.st_uid, st.st_gid) < 0)
			return log_error_errno(errno, "cannot give %s to the agent's user: %m", p.dir);
	}
	r = fetch_ca(url, tt.ca, &p, owner);
	if (r == 0)
		r = host_key(&p, owner, &key);
	if (r == 0 && (r = x509_csr_new(key, name, &csr)) < 0)
		log_error_errno(r, "cannot make the certificate request: %m");
	if (r == 0)
		r = request_cert(conf, url, token, csr, &p, owner);
	explicit_bzero(&tt, sizeof(tt));
	explicit_bzero(token, sizeof(token));
	x509_free_secret(key);
	free(csr);
	return r;
}

/* When the certificate of info is due for renewal: when a third of its life is left. */
static uint64_t renew_at(const struct x509_cert_info *info)
{
	return info->not_before_us + (info->not_after_us - info->not_before_us) / 3 * 2;
}

static uint64_t retry_after(const struct x509_cert_info *info, uint64_t now_us)
{
	uint64_t left = info->not_after_us > now_us ? info->not_after_us - now_us : 0;

	return now_us + MAX(RETRY_MIN_US, MIN(RETRY_MAX_US, left / 10));
}

static int renew(const struct agent_conf *conf, const char *cert, char **ret_cert)
{
	const struct transport_conf *t = &conf->collector.t;
	struct call c = { .base = conf->enroll.url, .path = "/api/v1/enroll/renew", .ca = t->tls_ca };
	struct x509_cert_info info;
	char *key = NULL, *csr = NULL;
	const char *fresh;
	int r = file_read_text(t->tls_key, PEM_FILE_MAX, &key);

	if (r < 0)
		return log_error_errno(r, "renewal: cannot read %s: %m", t->tls_key);
	r = x509_cert_info(cert, &info);
	if (r == 0)
		r = x509_csr_new(key, info.name, &csr);
	x509_free_secret(key);
	if (r == 0 && !(c.body = json_pack("{s:s, s:s}", "certificate", cert, "csr", csr)))
		r = -ENOMEM;
	if (r == 0 && (r = call_api(&c)) < 0)
		log_warning("renewal of certificate %s: %s; trying again later", info.serial, c.err);
	fresh = answer_text(&c, "certificate");
	if (r == 0 && (c.status != 200 || !fresh)) {
		log_warning("renewal of certificate %s refused (%ld): %s", info.serial, c.status, answer_reason(&c));
		r = -EPERM;
	}
	if (r == 0 && !(*ret_cert = strdup(fresh)))
		r = -ENOMEM;
	json_decref(c.answer);
	json_decref(c.body);
	free(csr);
	return r;
}

int agent_renew_if_due(const struct agent_conf *conf, uint64_t now_us, uint64_t *next_us)
{
	const char *path = conf->collector.t.tls_cert;
	_cleanup_free_ char *cert = NULL, *fresh = NULL;
	struct x509_cert_info info, got;
	int r;

	*next_us = now_us + RETRY_MAX_US;
	if (!conf->enroll.url || !path)
		return 0;
	r = file_read_text(path, PEM_FILE_MAX, &cert);
	if (r == 0 && (r = x509_cert_info(cert, &info)) < 0)
		log_warning("renewal: %s holds no certificate", path);
	else if (r < 0)
		log_warning_errno(r, "renewal: cannot read %s: %m", path);
	if (r < 0)
		return r;
	if (now_us < renew_at(&info)) {
		*next_us = renew_at(&info);
		return 0;
	}
	/* The collector renews no expired certificate: said hourly, until the host is enrolled again. */
	if (now_us >= info.not_after_us)
		return log_error_errno(EKEYEXPIRED, "renewal: certificate %s in %s has expired: enroll the host again"
						    " (vigil-agent --enroll, see vigil-agent(8))", info.serial, path);
	*next_us = retry_after(&info, now_us);
	r = renew(conf, cert, &fresh);
	if (r == 0 && (r = x509_cert_info(fresh, &got)) == 0)
		r = file_write_atomic(path, fresh, strlen(fresh), 0644);
	if (r < 0) {
		char until[64];

		format_rfc3339_us(info.not_after_us, until, sizeof(until));
		return log_warning_errno(r, "renewal: certificate %s not renewed (%m); it expires at %s", info.serial,
					 until);
	}
	log_notice("renewed the certificate: %s, serial %s (was %s)", got.name, got.serial, info.serial);
	/* Not at once again, whatever the new one's life: a collector issuing short ones does not make a loop. */
	*next_us = MAX(renew_at(&got), retry_after(&got, now_us));
	return 1;
}
