/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_HTTP_INTERNAL_H
#define VIGIL_HTTP_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdint.h>

#include "api/accounts.h"
#include "common/macro.h"
#include "store/storage.h"

struct http_server;

/* What a handler gets: the request, who asked, and a store to read. */
struct request {
	struct http_server *h;
	struct MHD_Connection *c;
	const char *url;
	const char *method;
	struct storage_reader *rd;
	char user[128];
	char role[32];
	unsigned status; /* of the answer queued, for the audit log */
	const char *body; /* a POST's body, body_len bytes, not terminated */
	size_t body_len;
	const char *target;  /* the request target as sent, still percent-encoded */
	char detail[512];    /* what the request did to what, for the audit log (audit_detail()) */
	char cursor_out[64]; /* a paged read's next_cursor, for the audit log */
	bool by_session;     /* who asks is a console session (its cookie), not a bearer token */
	char session_id[SESSION_ID_LEN + 1];
	struct session_who who; /* by_session: who, and what they must do first */
	char set_cookie[192];   /* a Set-Cookie the answer carries, or "" */
};

/* The console session's cookie. */
#define SESSION_COOKIE "vigil_session"

/* Says in the audit log's row what the request does to what ("token bob, role viewer"); never secrets. */
void audit_detail(struct request *rq, const char *fmt, ...) _printf_(2, 3);

/* The alerts the handlers of api_alerts.c act on, and the rules and targets api_defs.c defines. */
struct alerting *http_alerting(const struct request *rq);
struct catalog *http_catalog(const struct request *rq);
struct dialtests *http_dialtests(const struct request *rq);
struct config_groups *http_groups(const struct request *rq);
struct dialer *http_dialer(const struct request *rq);

/* Enrollment (NULL: [enroll] enabled=no), and [ingest] listen= (what enrolled agents are told to send to). */
struct enrollment *http_enrollment(const struct request *rq);
const char *http_ingest_listen(const struct request *rq);
/*
 * The body as a JSON object ({} for an empty body when empty_ok); NULL when
 * it is not one, with the 400 answer queued in *answered.
 */
json_t *request_object(struct request *rq, bool empty_ok, enum MHD_Result *answered);

/* Queues j (taken over) as the JSON answer. */
enum MHD_Result respond_json(struct request *rq, unsigned status, json_t *j);
/* body (malloc'ed, taken even on failure) of len bytes as type, with headers: name, value, …, NULL (or NULL). */
enum MHD_Result respond_bytes(struct request *rq, unsigned status, const char *type, char *body, size_t len,
			      const char *const *headers);
/* {"error": error, "reason": ...} with status; counted in the self-metrics. */
enum MHD_Result respond_error(struct request *rq, unsigned status, const char *error, const char *fmt, ...)
	_printf_(4, 5);
/* Whether the asker's role is admin; whether it may read logs (operator, admin, security). */
bool request_is_admin(const struct request *rq);
bool request_reads_logs(const struct request *rq);
/* Who asks: a bearer token, or else a console session's cookie (SESSION_COOKIE); -EACCES. */
int request_authenticate(struct request *rq);
/*
 * What a session may not do yet: a change without its CSRF token (a page
 * of another site can make the browser send the cookie, not read the
 * token), or, but on a self_route, anything while its password must change
 * or its role's second factor is not enrolled. The error's name, with why;
 * NULL when it may (and for a token).
 */
const char *session_refusal(struct request *rq, bool self_route, const char **why);
/* The users and their sessions. */
struct accounts *http_accounts(const struct request *rq);
/* Whether the server speaks TLS (a session cookie is then Secure). */
bool http_tls_on(const struct request *rq);
/*
 * The answer to a negative errno from a store that says why in reason:
 * -EINVAL 400, -ENOENT 404, -EEXIST, -EPERM and -EBUSY 409, -EAGAIN (a
 * database busy past its timeout) and -EPIPE or -ECONNREFUSED (the shared
 * one out of reach) 503 with Retry-After, anything else 500 (reason, then
 * strerror).
 */
enum MHD_Result respond_errno(struct request *rq, int r, const char *reason);
/* [hosts] silent_after, in microseconds. */
uint64_t http_silent_after_us(const struct request *rq);
/*
 * How much an answer may hold: [http] max_answer bytes of its items'
 * text. A handler takes each item's size before adding it; when one does
 * not fit (and something was taken), spent is set and the answer says
 * "truncated" and where the next page starts.
 */
struct answer_budget {
	size_t left;
	bool spent;
	bool taken;
};
struct answer_budget answer_budget(const struct request *rq);
/* Whether n more bytes fit; the first item always does. */
bool answer_budget_take(struct answer_budget *b, size_t n);

/* A query parameter, NULL when absent or empty. */
const char *arg(const struct request *rq, const char *name);
/*
 * since= and until= (see parse_time_param), each left untouched when
 * absent; negative when either is malformed, which SINCE_UNTIL_HELP explains.
 */
int since_until_args(const struct request *rq, uint64_t *since, uint64_t *until);
/* limit= within 1..[http] max_limit into *ret (untouched when absent); -EINVAL when malformed. */
int limit_arg(const struct request *rq, uint32_t *ret);
/* [http], and the audit log the server writes. */
const struct http_conf *http_conf_of(const struct request *rq);
struct audit *http_audit_log(const struct request *rq);
/* Every collector's audit rows, with a shared store (pgaudit.h); NULL: this collector's log alone. */
struct pgaudit *http_audit_shared(const struct request *rq);
/* [storage], the key seals are checked with (NULL: none) and the digest the store chains with. */
const struct storage_conf *http_storage_conf(const struct request *rq);
const struct sealkey *http_seal_key(const struct request *rq);
enum hash_alg http_storage_hash(const struct request *rq);
#define SINCE_UNTIL_HELP "since/until: expected RFC 3339, epoch seconds, or a duration ago (15m, 2h)"

/* The handlers, one file per resource (api/hosts.c, api/probes.c, ...), routed by api/http.c. */
enum MHD_Result api_post_session(struct request *rq);
enum MHD_Result api_get_session(struct request *rq);
enum MHD_Result api_delete_session(struct request *rq);
enum MHD_Result api_post_password(struct request *rq);
enum MHD_Result api_post_totp(struct request *rq);
enum MHD_Result api_post_totp_confirm(struct request *rq);
enum MHD_Result api_get_users(struct request *rq);
enum MHD_Result api_post_user(struct request *rq);
enum MHD_Result api_post_user_action(struct request *rq);
enum MHD_Result api_get_logs(struct request *rq);
enum MHD_Result api_get_enroll_ca(struct request *rq);
enum MHD_Result api_post_enroll(struct request *rq);
enum MHD_Result api_post_enroll_renew(struct request *rq);
enum MHD_Result api_get_enroll_tokens(struct request *rq);
enum MHD_Result api_post_enroll_token(struct request *rq);
enum MHD_Result api_get_self_metrics(struct request *rq);
enum MHD_Result api_get_groups(struct request *rq);
enum MHD_Result api_get_group(struct request *rq);
enum MHD_Result api_put_group(struct request *rq);
enum MHD_Result api_post_group(struct request *rq);
enum MHD_Result api_delete_group(struct request *rq);
enum MHD_Result api_get_config_preview(struct request *rq);
enum MHD_Result api_delete_enroll_token(struct request *rq);
enum MHD_Result api_get_enroll_certs(struct request *rq);
enum MHD_Result api_delete_enroll_cert(struct request *rq);
enum MHD_Result api_get_verify(struct request *rq);
enum MHD_Result api_get_seals(struct request *rq);
enum MHD_Result api_get_audit(struct request *rq);
enum MHD_Result api_get_hosts(struct request *rq);
enum MHD_Result api_get_host(struct request *rq);
enum MHD_Result api_get_metrics(struct request *rq);
enum MHD_Result api_get_logmetrics(struct request *rq);
enum MHD_Result api_get_logmetric(struct request *rq);
enum MHD_Result api_post_logmetric(struct request *rq);
enum MHD_Result api_put_logmetric(struct request *rq);
enum MHD_Result api_delete_logmetric(struct request *rq);

/* A probe's latest result, as the API shows it. */
struct probe_state_row;
json_t *probe_state_json(const struct probe_state_row *p);
/* fn for the probes' readers: p's JSON appended to the array ctx. */
int probe_state_append(const struct probe_state_row *p, void *ctx);
enum MHD_Result api_get_probes(struct request *rq);
enum MHD_Result api_get_alerts(struct request *rq);
enum MHD_Result api_get_alert(struct request *rq);
enum MHD_Result api_get_alert_events(struct request *rq);
enum MHD_Result api_post_alert_action(struct request *rq);
enum MHD_Result api_get_silences(struct request *rq);
enum MHD_Result api_post_silence(struct request *rq);
enum MHD_Result api_post_silence_preview(struct request *rq);
enum MHD_Result api_get_routes(struct request *rq);
enum MHD_Result api_get_logs_count(struct request *rq);
enum MHD_Result api_get_logs_stats(struct request *rq);
enum MHD_Result api_delete_silence(struct request *rq);
enum MHD_Result api_get_notify(struct request *rq);
enum MHD_Result api_post_notify_test(struct request *rq);
enum MHD_Result api_get_probe_history(struct request *rq);
enum MHD_Result api_get_dialtests(struct request *rq);
enum MHD_Result api_get_dialtest(struct request *rq);
enum MHD_Result api_post_dialtest(struct request *rq);
enum MHD_Result api_put_dialtest(struct request *rq);
enum MHD_Result api_delete_dialtest(struct request *rq);
enum MHD_Result api_run_dialtest(struct request *rq);
enum MHD_Result api_get_tokens(struct request *rq);
enum MHD_Result api_post_token(struct request *rq);
enum MHD_Result api_delete_token(struct request *rq);
enum MHD_Result api_get_rules(struct request *rq);
enum MHD_Result api_get_rule(struct request *rq);
enum MHD_Result api_post_rule(struct request *rq);
enum MHD_Result api_put_rule(struct request *rq);
enum MHD_Result api_delete_rule(struct request *rq);
enum MHD_Result api_get_target(struct request *rq);
enum MHD_Result api_post_target(struct request *rq);
enum MHD_Result api_put_target(struct request *rq);
enum MHD_Result api_delete_target(struct request *rq);

#endif
