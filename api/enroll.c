/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http-internal.h"
#include "common/conf.h"
#include "common/util.h"
#include "enroll/enroll.h"

/*
 * Enrollment (docs/api.md, Enrollment): the CA and the enrollment itself
 * are public (a host has no API token; the enrollment token in the body is
 * its credential), the tokens and certificates are the admin's.
 */

#define TOKEN_USES_MAX 1000000
#define TOKEN_LIFETIME_MAX_MS (365ull * 86400 * 1000)

static struct enrollment *enrollment_or_404(struct request *rq, enum MHD_Result *answered)
{
	struct enrollment *e = http_enrollment(rq);

	if (!e)
		*answered = respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found",
					  "enrollment is off on this collector ([enroll] enabled=no)");
	return e;
}

/* GET /api/v1/enroll/ca: the CA agents are to trust, and its fingerprint (which a token carries). */
enum MHD_Result api_get_enroll_ca(struct request *rq)
{
	enum MHD_Result answered;
	struct enrollment *e = enrollment_or_404(rq, &answered);

	if (!e)
		return answered;
	return respond_json(rq, MHD_HTTP_OK, json_pack("{s:s, s:s}", "certificate", enrollment_ca_cert(e),
						       "fingerprint", enrollment_ca_fingerprint(e)));
}

/* The host the request reached the API by (its Host header, without the port), if it is a name or address. */
static bool request_host(struct request *rq, char *out, size_t size)
{
	const char *h = MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	const char *end;

	if (!h)
		return false;
	if (*h == '[') {
		end = strchr(++h, ']');
	} else {
		end = strrchr(h, ':');
		if (!end)
			end = h + strlen(h);
	}
	if (!end || (size_t)(end - h) >= size)
		return false;
	(void)snprintf(out, size, "%.*s", (int)(end - h), h);
	return x509_name_valid(out);
}

/* Where enrolled agents send: [enroll] ingest_address, or [ingest] listen's port on the host asked. */
static void ingest_address(struct request *rq, const struct enroll_conf *conf, char *out, size_t size)
{
	const char *listen = http_ingest_listen(rq), *port = listen ? strrchr(listen, ':') : NULL;
	char host[X509_NAME_MAX + 1];

	if (conf->ingest_address)
		(void)snprintf(out, size, "%s", conf->ingest_address);
	else if (port && request_host(rq, host, sizeof(host)))
		(void)snprintf(out, size, strchr(host, ':') ? "tls+tcp://[%s]%s" : "tls+tcp://%s%s", host, port);
	else
		out[0] = 0;
}

static json_t *grant_json(struct enrollment *e, const struct enroll_grant *g)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "certificate", g->cert, "ca", enrollment_ca_cert(e),
			 "name", g->info.name, "serial", g->info.serial, "not_before", (json_int_t)g->info.not_before_us,
			 "not_after", (json_int_t)g->info.not_after_us);
}

/* How an enrollment's refusal is answered. */
static enum MHD_Result respond_refusal(struct request *rq, int r, const char *why)
{
	switch (r) {
	case -EACCES:
	case -EKEYEXPIRED:
	case -EKEYREVOKED: return respond_error(rq, MHD_HTTP_FORBIDDEN, "forbidden", "%s", why);
	case -EINVAL: return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "%s", why);
	case -EEXIST: return respond_error(rq, MHD_HTTP_CONFLICT, "conflict", "%s", why);
	default: return respond_errno(rq, r, "cannot issue the certificate");
	}
}

/* The body's two strings named a and b; NULL with the 400 queued. */
static json_t *two_strings(struct request *rq, const char *a, const char **va, const char *b, const char **vb,
			   enum MHD_Result *answered)
{
	json_t *body = request_object(rq, false, answered);

	if (!body)
		return NULL;
	*va = json_string_value(json_object_get(body, a));
	*vb = json_string_value(json_object_get(body, b));
	if (*va && *vb)
		return body;
	json_decref(body);
	*answered = respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "expected {\"%s\": \"…\", \"%s\": \"…\"}", a,
				  b);
	return NULL;
}

/* POST /api/v1/enroll {"token","csr"}: 201 with the certificate, the CA, where to send, and the token's labels. */
enum MHD_Result api_post_enroll(struct request *rq)
{
	enum MHD_Result answered;
	struct enrollment *e = enrollment_or_404(rq, &answered);
	struct enroll_token_text tt;
	struct enroll_grant g;
	const char *token, *csr;
	char why[512], address[X509_NAME_MAX + 64], id[ENROLL_TOKEN_ID_HEX + 16];
	json_t *body, *answer;
	int r;

	if (!e || !(body = two_strings(rq, "token", &token, "csr", &csr, &answered)))
		return answered;
	/* The audit log names the token by its id, never its secret. */
	(void)snprintf(id, sizeof(id), "%s", enroll_token_parse(token, &tt) == 0 ? tt.id : "malformed");
	explicit_bzero(&tt, sizeof(tt));
	audit_detail(rq, "token %s", id);
	r = enrollment_enroll(e, token, csr, now_realtime_us(), &g, why, sizeof(why));
	json_decref(body);
	if (r < 0)
		return respond_refusal(rq, r, why);
	audit_detail(rq, "token %s; %s, serial %s", id, g.info.name, g.info.serial);
	ingest_address(rq, enrollment_conf(e), address, sizeof(address));
	answer = grant_json(e, &g);
	if (answer)
		(void)json_object_set_new(answer, "labels", json_string(g.labels));
	if (answer && address[0])
		(void)json_object_set_new(answer, "ingest", json_pack("{s:s}", "address", address));
	free(g.cert);
	return respond_json(rq, MHD_HTTP_CREATED, answer);
}

/* POST /api/v1/enroll/renew {"certificate","csr"}: a new certificate for the same name and key. */
enum MHD_Result api_post_enroll_renew(struct request *rq)
{
	enum MHD_Result answered;
	struct enrollment *e = enrollment_or_404(rq, &answered);
	struct x509_cert_info old;
	struct enroll_grant g;
	const char *cert, *csr;
	char why[512];
	json_t *body, *answer;
	int r;

	if (!e || !(body = two_strings(rq, "certificate", &cert, "csr", &csr, &answered)))
		return answered;
	if (x509_cert_info(cert, &old) < 0)
		(void)snprintf(old.serial, sizeof(old.serial), "malformed");
	audit_detail(rq, "certificate %s", old.serial);
	r = enrollment_renew(e, cert, csr, now_realtime_us(), &g, why, sizeof(why));
	json_decref(body);
	if (r < 0)
		return respond_refusal(rq, r, why);
	audit_detail(rq, "certificate %s renewed: %s, serial %s", old.serial, g.info.name, g.info.serial);
	answer = grant_json(e, &g);
	free(g.cert);
	return respond_json(rq, MHD_HTTP_OK, answer);
}

static int add_token(const struct enroll_token *t, void *ctx)
{
	json_t *o = json_pack("{s:s, s:s?, s:s, s:I, s:I, s:I, s:I}", "id", t->id, "labels", t->labels, "created_by",
			      t->created_by, "created", (json_int_t)t->created_us, "expires", (json_int_t)t->expires_us,
			      "uses", (json_int_t)t->uses, "uses_max", (json_int_t)t->uses_max);

	if (o && t->revoked_us)
		(void)json_object_set_new(o, "revoked", json_integer((json_int_t)t->revoked_us));
	return o && json_array_append_new(ctx, o) == 0 ? 0 : -ENOMEM;
}

static int add_cert(const struct agent_cert *c, void *ctx)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I}", "serial", c->serial, "name", c->name, "origin", c->origin,
			      "issued", (json_int_t)c->issued_us, "expires", (json_int_t)c->expires_us);

	if (o && c->revoked_us)
		(void)json_object_set_new(o, "revoked", json_pack("{s:I, s:s?}", "at", (json_int_t)c->revoked_us, "by",
								  c->revoked_by));
	return o && json_array_append_new(ctx, o) == 0 ? 0 : -ENOMEM;
}

static int list_tokens(struct enrollment *e, json_t *items)
{
	return enrollment_tokens_each(e, add_token, items);
}

static int list_certs(struct enrollment *e, json_t *items)
{
	return enrollment_certs_each(e, add_cert, items);
}

/* {"items": [...]} as list() fills them in, and with_ca: the CA's fingerprint the tokens carry. */
static enum MHD_Result respond_list(struct request *rq, int (*list)(struct enrollment *e, json_t *items),
				    const char *what, bool with_ca)
{
	enum MHD_Result answered;
	struct enrollment *e = enrollment_or_404(rq, &answered);
	json_t *items;
	int r;

	if (!e)
		return answered;
	items = json_array();
	r = items ? list(e, items) : -ENOMEM;
	if (r < 0) {
		json_decref(items);
		return respond_errno(rq, r, what);
	}
	return respond_json(rq, MHD_HTTP_OK, json_pack("{s:o, s:s?}", "items", items, "ca_fingerprint",
						       with_ca ? enrollment_ca_fingerprint(e) : NULL));
}

/* GET /api/v1/enroll/tokens: every token, without its secret. */
enum MHD_Result api_get_enroll_tokens(struct request *rq)
{
	return respond_list(rq, list_tokens, "cannot read the enrollment tokens", true);
}

/* The body of a token's creation into t; a reason into why on -EINVAL. */
static int token_from(json_t *body, uint64_t now, struct enroll_token *t, char *why, size_t size)
{
	const char *labels = json_string_value(json_object_get(body, "labels")), *bad = NULL;
	const char *expires = json_string_value(json_object_get(body, "expires"));
	json_t *uses = json_object_get(body, "uses");
	uint64_t ms = 0;
	size_t len = 0;

	if (labels && *labels && labels_check(labels, &bad, &len) < 0) {
		(void)snprintf(why, size, "labels: expected key=value words, not %.*s", (int)len, bad);
		return -EINVAL;
	}
	if (!expires || conf_parse_duration_ms(expires, 1000, &ms) < 0 || ms == 0 || ms > TOKEN_LIFETIME_MAX_MS) {
		(void)snprintf(why, size, "expires: a duration up to 365d (30m, 24h, 7d)");
		return -EINVAL;
	}
	if (!json_is_integer(uses) || json_integer_value(uses) < 1 || json_integer_value(uses) > TOKEN_USES_MAX) {
		(void)snprintf(why, size, "uses: how many hosts may enroll with it, 1 to %d", TOKEN_USES_MAX);
		return -EINVAL;
	}
	t->labels = labels;
	t->created_us = now;
	t->expires_us = now + ms * 1000;
	t->uses_max = (uint64_t)json_integer_value(uses);
	return 0;
}

/* POST /api/v1/enroll/tokens {"labels","expires","uses"}: 201 with the token's text, shown this once. */
enum MHD_Result api_post_enroll_token(struct request *rq)
{
	enum MHD_Result answered;
	struct enrollment *e = enrollment_or_404(rq, &answered);
	struct enroll_token t = { .created_by = rq->user };
	char text[ENROLL_TOKEN_TEXT_MAX + 1], why[256];
	json_t *body;
	int r;

	if (!e || !(body = request_object(rq, false, &answered)))
		return answered;
	r = token_from(body, now_realtime_us(), &t, why, sizeof(why));
	if (r < 0) {
		json_decref(body);
		return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "%s", why);
	}
	r = enrollment_token_create(e, &t, text);
	if (r == 0) {
		audit_detail(rq, "enrollment token %s: labels %.200s, %" PRIu64 " uses, until %" PRIu64, t.id,
			     t.labels ? t.labels : "-", t.uses_max, t.expires_us);
		answered = respond_json(rq, MHD_HTTP_CREATED,
					json_pack("{s:s, s:s, s:s?, s:I, s:I}", "id", t.id, "token", text, "labels",
						  t.labels, "expires", (json_int_t)t.expires_us, "uses_max",
						  (json_int_t)t.uses_max));
	} else {
		answered = respond_errno(rq, r, "cannot make the token");
	}
	explicit_bzero(text, sizeof(text));
	json_decref(body);
	return answered;
}

/* DELETE /api/v1/enroll/tokens/ID: no host enrolls with it any more; hosts it enrolled keep their certificates. */
enum MHD_Result api_delete_enroll_token(struct request *rq)
{
	enum MHD_Result answered;
	struct enrollment *e = enrollment_or_404(rq, &answered);
	const char *id = rq->url + strlen("/api/v1/enroll/tokens/");
	int r;

	if (!e)
		return answered;
	audit_detail(rq, "enrollment token %.64s revoked", id);
	r = enrollment_token_revoke(e, id, now_realtime_us());
	if (r == -ENOENT)
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no enrollment token %.64s", id);
	if (r == -EALREADY)
		return respond_error(rq, MHD_HTTP_CONFLICT, "conflict", "enrollment token %.64s was revoked before", id);
	if (r < 0)
		return respond_errno(rq, r, "cannot revoke the token");
	return respond_json(rq, MHD_HTTP_OK, json_pack("{s:s, s:b}", "id", id, "revoked", 1));
}

/* GET /api/v1/enroll/certs: the certificates enrollment issued, newest first. */
enum MHD_Result api_get_enroll_certs(struct request *rq)
{
	return respond_list(rq, list_certs, "cannot read the certificates", false);
}

static void add_serial(const char *serial, void *ctx)
{
	(void)json_array_append_new(ctx, json_string(serial));
}

/* DELETE /api/v1/enroll/certs/SERIAL-OR-NAME: revoked; ingest refuses their batches from now on. */
enum MHD_Result api_delete_enroll_cert(struct request *rq)
{
	enum MHD_Result answered;
	struct enrollment *e = enrollment_or_404(rq, &answered);
	const char *what = rq->url + strlen("/api/v1/enroll/certs/");
	json_t *serials;
	int r;

	if (!e)
		return answered;
	audit_detail(rq, "agent certificates of %.253s revoked", what);
	serials = json_array();
	r = serials ? enrollment_certs_revoke(e, what, rq->user, now_realtime_us(), add_serial, serials) : -ENOMEM;
	if (r == -ENOENT) {
		json_decref(serials);
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found",
				     "no certificate in force has the serial or the name %.253s", what);
	}
	if (r < 0) {
		json_decref(serials);
		return respond_errno(rq, r, "cannot revoke");
	}
	return respond_json(rq, MHD_HTTP_OK, json_pack("{s:o}", "revoked", serials));
}
