/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/db.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/util.h"
#include "enroll/enroll.h"

/* The serials revoked, sorted: what ingest asks about every batch, without the database. */
struct revoked {
	pthread_rwlock_t lock;
	char (*serials)[X509_SERIAL_HEX + 9];
	size_t n, cap;
};

struct enrollment {
	const struct enroll_conf *conf;
	struct enroll_ca *ca;
	pthread_mutex_t lock; /* over meta */
	sqlite3 *meta;
	struct revoked revoked;
};

static int serial_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Whether serial is in rv; the caller holds rv's lock. */
static bool revoked_has(const struct revoked *rv, const char *serial)
{
	return rv->n && bsearch(serial, rv->serials, rv->n, sizeof(*rv->serials), serial_cmp);
}

static void revoked_add(struct revoked *rv, const char *serial)
{
	pthread_rwlock_wrlock(&rv->lock);
	if (strlen(serial) < sizeof(*rv->serials) && !revoked_has(rv, serial)) {
		if (rv->n == rv->cap) {
			size_t cap = rv->cap ? 2 * rv->cap : 64;
			void *p = realloc(rv->serials, cap * sizeof(*rv->serials));

			if (p) {
				rv->serials = p;
				rv->cap = cap;
			}
		}
		if (rv->n < rv->cap) {
			(void)snprintf(rv->serials[rv->n++], sizeof(*rv->serials), "%s", serial);
			qsort(rv->serials, rv->n, sizeof(*rv->serials), serial_cmp);
		} else {
			log_error("enroll: out of memory noting revoked certificate %s: it is refused from the next start",
				  serial);
		}
	}
	pthread_rwlock_unlock(&rv->lock);
}

static int load_revoked(const struct agent_cert *c, void *ctx)
{
	revoked_add(ctx, c->serial);
	return 0;
}

bool enrollment_revoked(struct enrollment *e, const char *serial)
{
	bool found;

	if (!e)
		return false;
	pthread_rwlock_rdlock(&e->revoked.lock);
	found = revoked_has(&e->revoked, serial);
	pthread_rwlock_unlock(&e->revoked.lock);
	return found;
}

int enrollment_open(const struct enroll_conf *conf, const char *data_dir, struct enrollment **ret)
{
	struct enrollment *e = calloc(1, sizeof(*e));
	char path[4096];
	int r;

	if (!e)
		return -ENOMEM;
	e->conf = conf;
	pthread_mutex_init(&e->lock, NULL);
	pthread_rwlock_init(&e->revoked.lock, NULL);
	(void)snprintf(path, sizeof(path), "%s/meta.db", data_dir);
	r = enroll_ca_open(conf, data_dir, &e->ca);
	if (r == 0)
		r = db_open(path, true, false, DB_SYNC_FULL, &e->meta);
	if (r == 0)
		r = enroll_tokens_schema(e->meta);
	if (r == 0)
		r = enroll_certs_schema(e->meta);
	if (r == 0)
		r = enroll_certs_each(e->meta, true, load_revoked, &e->revoked);
	if (r < 0) {
		enrollment_free(e);
		return r;
	}
	*ret = e;
	return 0;
}

void enrollment_free(struct enrollment *e)
{
	if (!e)
		return;
	db_close(e->meta);
	enroll_ca_free(e->ca);
	free(e->revoked.serials);
	pthread_rwlock_destroy(&e->revoked.lock);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

const struct enroll_conf *enrollment_conf(const struct enrollment *e)
{
	return e->conf;
}

const char *enrollment_ca_cert(const struct enrollment *e)
{
	return x509_issuer_cert(enroll_ca_issuer(e->ca));
}

const char *enrollment_ca_fingerprint(const struct enrollment *e)
{
	return x509_issuer_fingerprint(enroll_ca_issuer(e->ca));
}

/* Issues the certificate for csr's key and name, and records it as coming from origin. */
static int issue(struct enrollment *e, const char *csr, const char *name, const char *origin, uint64_t now_us,
		 struct enroll_grant *g)
{
	int r = x509_issue(enroll_ca_issuer(e->ca),
			   &(struct x509_request){ .csr = csr, .name = name, .usage = X509_USAGE_CLIENT,
						   .now_us = now_us, .lifetime_s = e->conf->lifetime_ms / 1000 },
			   &g->cert, &g->info);

	if (r == 0)
		r = enroll_cert_add(e->meta, &(struct agent_cert){ .serial = g->info.serial, .name = g->info.name,
								   .key_id = g->info.key_id, .origin = origin,
								   .issued_us = now_us,
								   .expires_us = g->info.not_after_us });
	if (r < 0) {
		free(g->cert);
		g->cert = NULL;
	}
	return r;
}

/* What a transaction on meta ends with: COMMIT if r is not an error, else ROLLBACK; r, or COMMIT's error. */
static int finish(struct enrollment *e, int r)
{
	r = db_end(e->meta, r);
	pthread_mutex_unlock(&e->lock);
	return r;
}

/* finish() of a transaction that issued g's certificate: g holds none unless it committed. */
static int finish_grant(struct enrollment *e, int r, struct enroll_grant *g)
{
	r = finish(e, r);
	if (r < 0) {
		free(g->cert);
		g->cert = NULL;
	}
	return r;
}

static int begin(struct enrollment *e)
{
	int r;

	pthread_mutex_lock(&e->lock);
	r = db_exec(e->meta, "BEGIN IMMEDIATE");
	if (r < 0)
		pthread_mutex_unlock(&e->lock);
	return r;
}

static int enroll_locked(struct enrollment *e, const struct enroll_token_text *t, const char *csr,
			 const struct x509_csr_info *ci, uint64_t now_us, struct enroll_grant *g, char *why, size_t size)
{
	enum enroll_token_refusal refusal = ENROLL_TOKEN_UNKNOWN;
	char serial[64], origin[32];
	int r = enroll_cert_other_key(e->meta, ci->name, ci->key_id, now_us, serial, sizeof(serial));

	if (r == 0) {
		(void)snprintf(why, size, "a certificate for %s with another key is in force (serial %s): revoke it"
					  " first to enroll this host again (vigilctl agent-cert revoke %s)",
			       ci->name, serial, ci->name);
		return -EEXIST;
	}
	if (r != -ENOENT)
		return r;
	r = enroll_token_use(e->meta, t->id, t->secret, now_us, g->labels, sizeof(g->labels), &refusal);
	if (r < 0)
		return r;
	if (refusal != ENROLL_TOKEN_OK) {
		(void)snprintf(why, size, "token %s: %s", t->id, enroll_token_refusal_text(refusal));
		return -EACCES;
	}
	(void)snprintf(origin, sizeof(origin), "token %s", t->id);
	return issue(e, csr, ci->name, origin, now_us, g);
}

int enrollment_enroll(struct enrollment *e, const char *token, const char *csr, uint64_t now_us,
		      struct enroll_grant *ret, char *why, size_t size)
{
	struct enroll_token_text t;
	struct x509_csr_info ci;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (enroll_token_parse(token, &t) < 0) {
		(void)snprintf(why, size, "token: expected vgl1.ID.SECRET.CA as vigilctl enroll-token create prints it");
		return -EACCES;
	}
	if (x509_csr_check(csr, &ci) < 0 || !x509_name_valid(ci.name) || strlen(ci.name) > X509_CN_MAX) {
		(void)snprintf(why, size, "csr: not a certificate request (PEM) signed by its key, with the host's"
					  " name (a DNS name or an address) as its CN");
		return -EINVAL;
	}
	r = begin(e);
	return r < 0 ? r : finish_grant(e, enroll_locked(e, &t, csr, &ci, now_us, ret, why, size), ret);
}

static int renew_locked(struct enrollment *e, const struct x509_cert_info *old, const char *csr, uint64_t now_us,
			struct enroll_grant *g, char *why, size_t size)
{
	char origin[64];
	int r = enroll_cert_revoked(e->meta, old->serial);

	if (r == -ENOENT || r == 1) {
		(void)snprintf(why, size, "certificate %s %s", old->serial,
			       r == 1 ? "was revoked: enroll the host again with a token" : "was not issued by enrollment");
		return r == 1 ? -EKEYREVOKED : -EACCES;
	}
	if (r < 0)
		return r;
	(void)snprintf(origin, sizeof(origin), "renewal of %s", old->serial);
	return issue(e, csr, old->name, origin, now_us, g);
}

int enrollment_renew(struct enrollment *e, const char *cert, const char *csr, uint64_t now_us,
		     struct enroll_grant *ret, char *why, size_t size)
{
	struct x509_cert_info old;
	struct x509_csr_info ci;
	int r = x509_issuer_verify(enroll_ca_issuer(e->ca), cert, now_us);

	memset(ret, 0, sizeof(*ret));
	if (r == -EKEYEXPIRED) {
		(void)snprintf(why, size, "the certificate has expired: enroll the host again with a token");
		return r;
	}
	if (r < 0 || x509_cert_info(cert, &old) < 0) {
		(void)snprintf(why, size, "certificate: not one this collector's CA issued");
		return -EACCES;
	}
	if (x509_csr_check(csr, &ci) < 0 || strcmp(ci.key_id, old.key_id) != 0 || strcmp(ci.name, old.name) != 0) {
		(void)snprintf(why, size, "csr: must be signed by the certificate's key and name its CN (%s)", old.name);
		return -EINVAL;
	}
	r = begin(e);
	return r < 0 ? r : finish_grant(e, renew_locked(e, &old, csr, now_us, ret, why, size), ret);
}

int enrollment_token_create(struct enrollment *e, struct enroll_token *t, char text[ENROLL_TOKEN_TEXT_MAX + 1])
{
	struct enroll_token_text tt;
	int r;

	pthread_mutex_lock(&e->lock);
	r = enroll_token_add(e->meta, t, tt.secret);
	pthread_mutex_unlock(&e->lock);
	if (r == 0) {
		(void)snprintf(tt.id, sizeof(tt.id), "%s", t->id);
		(void)snprintf(tt.ca, sizeof(tt.ca), "%s", enrollment_ca_fingerprint(e));
		enroll_token_format(&tt, text);
	}
	explicit_bzero(&tt, sizeof(tt));
	return r;
}

int enrollment_token_revoke(struct enrollment *e, const char *id, uint64_t now_us)
{
	int r;

	pthread_mutex_lock(&e->lock);
	r = enroll_token_revoke(e->meta, id, now_us);
	pthread_mutex_unlock(&e->lock);
	return r;
}

int enrollment_tokens_each(struct enrollment *e, int (*fn)(const struct enroll_token *t, void *ctx), void *ctx)
{
	int r;

	pthread_mutex_lock(&e->lock);
	r = enroll_tokens_each(e->meta, fn, ctx);
	pthread_mutex_unlock(&e->lock);
	return r;
}

struct revoking {
	struct enrollment *e;
	void (*fn)(const char *serial, void *ctx);
	void *ctx;
};

static void on_revoked(const char *serial, void *ctx)
{
	struct revoking *rv = ctx;

	revoked_add(&rv->e->revoked, serial);
	rv->fn(serial, rv->ctx);
}

int enrollment_certs_revoke(struct enrollment *e, const char *what, const char *by, uint64_t now_us,
			    void (*fn)(const char *serial, void *ctx), void *ctx)
{
	struct revoking rv = { e, fn, ctx };
	int r = begin(e);

	/* Noted as revoked before the commit: a batch between the two is refused, never one let through after it. */
	if (r == 0)
		r = finish(e, enroll_certs_revoke(e->meta, what, by, now_us, on_revoked, &rv));
	return r;
}

int enrollment_certs_each(struct enrollment *e, int (*fn)(const struct agent_cert *c, void *ctx), void *ctx)
{
	int r;

	pthread_mutex_lock(&e->lock);
	r = enroll_certs_each(e->meta, false, fn, ctx);
	pthread_mutex_unlock(&e->lock);
	return r;
}
