/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>

#include "common/log.h"
#include "common/macro.h"
#include "common/util.h"
#include "api/audit.h"
#include "api/console.h"
#include "api/http_audit.h"
#include "api/http_tls.h"
#include "api/http-internal.h"
#include "api/http.h"
#include "api/roles.h"
#include "common/metrics.h"
#include "store/storage.h"

#define BODY_MAX (64 * 1024)

/* How long a daemon replaced at a reload may go on serving its open connections. */
#define DRAIN_US (10 * USEC_PER_SEC)

struct http_server {
	struct api_env env;
	struct MHD_Daemon *daemon;
	struct http_tls *tls;       /* what daemon serves with; NULL: plain HTTP */
	struct MHD_Daemon *old;     /* replaced at a reload, serving its open connections until drained */
	struct http_tls *old_tls;
	uint64_t old_until_us;      /* monotonic */
	pthread_mutex_t lock;       /* tls, for the handlers of both daemons */
	struct http_audit *trail;
	struct http_deps deps;
	struct accounts *accounts;
	struct console *console; /* NULL: none installed, the API only */
};


struct accounts *http_accounts(const struct request *rq)
{
	return rq->h->accounts;
}

bool http_tls_on(const struct request *rq)
{
	return rq->h->tls != NULL;
}

struct alerting *http_alerting(const struct request *rq)
{
	return rq->h->deps.alerting;
}

struct catalog *http_catalog(const struct request *rq)
{
	return rq->h->deps.catalog;
}

struct config_groups *http_groups(const struct request *rq)
{
	return rq->h->deps.groups;
}

struct dialtests *http_dialtests(const struct request *rq)
{
	return rq->h->deps.dialtests;
}

struct dialer *http_dialer(const struct request *rq)
{
	return rq->h->deps.dialer;
}

struct enrollment *http_enrollment(const struct request *rq)
{
	return rq->h->deps.enrollment;
}

const char *http_ingest_listen(const struct request *rq)
{
	return rq->h->env.ingest_listen;
}

json_t *request_object(struct request *rq, bool empty_ok, enum MHD_Result *answered)
{
	json_error_t err = { .text = "" };
	json_t *body = !rq->body_len && empty_ok ? json_object() :
						   json_loadb(rq->body ? rq->body : "", rq->body_len,
							      JSON_REJECT_DUPLICATES, &err);

	if (json_is_object(body))
		return body;
	json_decref(body);
	*answered = respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "body: expected a JSON object%s%s",
				  *err.text ? ": " : "", err.text);
	return NULL;
}

struct answer_budget answer_budget(const struct request *rq)
{
	return (struct answer_budget){ .left = rq->h->env.http->max_answer };
}

bool answer_budget_take(struct answer_budget *b, size_t n)
{
	/* JSON escaping and the keys around a value: a margin, not an exact count. */
	n += 64;
	if (b->taken && n > b->left) {
		b->spent = true;
		return false;
	}
	b->left -= MIN(n, b->left);
	b->taken = true;
	return true;
}

void audit_detail(struct request *rq, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(rq->detail, sizeof(rq->detail), fmt, ap);
	va_end(ap);
}

const char *arg(const struct request *rq, const char *name)
{
	const char *v = MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, name);

	return v && *v ? v : NULL;
}

uint64_t http_silent_after_us(const struct request *rq)
{
	return rq->h->env.hosts->silent_after_ms * 1000;
}

int since_until_args(const struct request *rq, uint64_t *since, uint64_t *until)
{
	const char *s = arg(rq, "since"), *u = arg(rq, "until");
	uint64_t now = now_realtime_us();

	if (s && parse_time_param(s, now, since) < 0)
		return -EINVAL;
	return u ? parse_time_param(u, now, until) : 0;
}

const struct http_conf *http_conf_of(const struct request *rq)
{
	return rq->h->env.http;
}

struct audit *http_audit_log(const struct request *rq)
{
	return rq->h->deps.audit;
}

struct pgaudit *http_audit_shared(const struct request *rq)
{
	return rq->h->deps.audit_shared;
}

const struct storage_conf *http_storage_conf(const struct request *rq)
{
	return rq->h->env.storage;
}

const struct sealkey *http_seal_key(const struct request *rq)
{
	return rq->h->deps.seal_key;
}

enum hash_alg http_storage_hash(const struct request *rq)
{
	return rq->h->deps.store_hash;
}

int limit_arg(const struct request *rq, uint32_t *ret)
{
	const char *v = arg(rq, "limit");
	uint64_t n;

	if (!v)
		return 0;
	if (conf_parse_uint(v, &n) < 0 || n == 0 || n > http_conf_of(rq)->max_limit)
		return -EINVAL;
	*ret = (uint32_t)n;
	return 0;
}

bool request_is_admin(const struct request *rq)
{
	return role_bit(rq->role) == ROLE_ADMIN;
}

bool request_reads_logs(const struct request *rq)
{
	return role_bit(rq->role) & ROLES_LOGS;
}

struct route {
	const char *method;
	const char *path;
	enum MHD_Result (*handler)(struct request *rq);
	unsigned roles;
	const char *action; /* as the audit log names it */
	unsigned flags;     /* AUDITED, PAGED, PUBLIC, SELF */
	const char *params; /* the query parameters it takes, space-separated; NULL: none */
};

enum {
	AUDITED = 1 << 0, /* every call recorded, not only refusals */
	PAGED = 1 << 1,   /* a read paged by cursor: a pull is one audit row (http_audit.h) */
	PUBLIC = 1 << 2,  /* taken without a token or session: the login */
	SELF = 1 << 3,    /* what a session must do first (change its password, enrol TOTP) is done here */
};

/* A path ending in '/' matches everything under it; the handler reads the rest. */
static const struct route routes[] = {
	{ "POST", "/api/v1/session", api_post_session, ROLES_ANY, "session.create", AUDITED | PUBLIC, NULL },
	{ "GET", "/api/v1/session", api_get_session, ROLES_ANY, "session.read", SELF, NULL },
	{ "DELETE", "/api/v1/session", api_delete_session, ROLES_ANY, "session.delete", AUDITED | SELF, NULL },
	{ "POST", "/api/v1/session/password", api_post_password, ROLES_ANY, "password.change", AUDITED | SELF, NULL },
	{ "POST", "/api/v1/session/totp", api_post_totp, ROLES_ANY, "totp.begin", AUDITED | SELF, NULL },
	{ "POST", "/api/v1/session/totp/confirm", api_post_totp_confirm, ROLES_ANY, "totp.enrol", AUDITED | SELF, NULL },
	{ "GET", "/api/v1/users", api_get_users, ROLE_ADMIN, "users.read", 0, NULL },
	{ "POST", "/api/v1/users", api_post_user, ROLE_ADMIN, "user.create", AUDITED, NULL },
	{ "POST", "/api/v1/users/", api_post_user_action, ROLE_ADMIN, "user.action", AUDITED, NULL },
	{ "GET", "/metrics", api_get_self_metrics, ROLES_STATE | ROLE_SECURITY, "metrics.read", 0, NULL },
	{ "GET", "/api/v1/hosts", api_get_hosts, ROLES_STATE, "hosts.read", 0, NULL },
	{ "GET", "/api/v1/config-groups", api_get_groups, ROLE_OPERATOR | ROLE_ADMIN, "configgroups.read", 0, NULL },
	{ "GET", "/api/v1/config-groups/", api_get_group, ROLE_OPERATOR | ROLE_ADMIN, "configgroups.read", 0, NULL },
	{ "PUT", "/api/v1/config-groups/", api_put_group, ROLE_ADMIN, "configgroup.update", AUDITED, NULL },
	{ "POST", "/api/v1/config-groups/", api_post_group, ROLE_ADMIN, "configgroup.promote", AUDITED, NULL },
	{ "DELETE", "/api/v1/config-groups/", api_delete_group, ROLE_ADMIN, "configgroup.delete", AUDITED, NULL },
	{ "GET", "/api/v1/config-preview", api_get_config_preview, ROLE_OPERATOR | ROLE_ADMIN, "configgroups.read", 0, "labels agent" },
	{ "GET", "/api/v1/hosts/", api_get_host, ROLES_STATE, "hosts.read", 0, NULL },
	{ "GET", "/api/v1/logs", api_get_logs, ROLES_LOGS, "logs.read", AUDITED | PAGED, "host source q kind priority since until limit cursor order format" },
	{ "GET", "/api/v1/logs/count", api_get_logs_count, ROLES_LOGS, "logs.count", AUDITED | PAGED, "host source q kind priority since until step cursor" },
	{ "GET", "/api/v1/logs/stats", api_get_logs_stats, ROLES_LOGS, "logs.count", AUDITED | PAGED, "host source q kind priority since until step cursor by top" },
	{ "GET", "/api/v1/verify", api_get_verify, ROLES_INTEGRITY, "verify.read", AUDITED, NULL },
	{ "GET", "/api/v1/seals", api_get_seals, ROLES_INTEGRITY | ROLES_AUDIT, "seals.read", AUDITED | PAGED, "limit cursor" },
	{ "GET", "/api/v1/audit", api_get_audit, ROLES_AUDIT, "audit.read", AUDITED | PAGED, "user action object since until limit cursor" },
	{ "GET", "/api/v1/probes", api_get_probes, ROLES_STATE, "probes.read", 0, "host status" },
	{ "GET", "/api/v1/metrics", api_get_metrics, ROLES_STATE, "metrics.read", 0, "name host step since until" },
	{ "GET", "/api/v1/logmetrics", api_get_logmetrics, ROLES_STATE, "metrics.read", 0, NULL },
	{ "GET", "/api/v1/logmetrics/", api_get_logmetric, ROLES_STATE, "metrics.read", 0, NULL },
	{ "POST", "/api/v1/logmetrics", api_post_logmetric, ROLE_ADMIN, "logmetric.create", AUDITED, NULL },
	{ "PUT", "/api/v1/logmetrics/", api_put_logmetric, ROLE_ADMIN, "logmetric.update", AUDITED, NULL },
	{ "DELETE", "/api/v1/logmetrics/", api_delete_logmetric, ROLE_ADMIN, "logmetric.delete", AUDITED, NULL },
	{ "GET", "/api/v1/probes/", api_get_probe_history, ROLES_STATE, "probes.read", 0, "since until" },
	{ "GET", "/api/v1/alerts", api_get_alerts, ROLES_STATE, "alerts.read", 0, "state severity host label assignee unacked q" },
	{ "GET", "/api/v1/alerts/events", api_get_alert_events, ROLES_STATE | ROLE_SECURITY, "alerts.read", 0, "cursor limit" },
	{ "GET", "/api/v1/alerts/", api_get_alert, ROLES_STATE, "alerts.read", 0, NULL },
	{ "POST", "/api/v1/alerts/", api_post_alert_action, ROLE_OPERATOR | ROLE_ADMIN, "alert.action", AUDITED, NULL },
	{ "GET", "/api/v1/silences", api_get_silences, ROLES_STATE, "silences.read", 0, "all" },
	{ "POST", "/api/v1/silences", api_post_silence, ROLE_OPERATOR | ROLE_ADMIN, "silence.create", AUDITED, NULL },
	{ "POST", "/api/v1/silences/preview", api_post_silence_preview, ROLE_OPERATOR | ROLE_ADMIN, "silences.preview", 0, NULL },
	{ "DELETE", "/api/v1/silences/", api_delete_silence, ROLE_OPERATOR | ROLE_ADMIN, "silence.expire", AUDITED, NULL },
	{ "GET", "/api/v1/routes", api_get_routes, ROLE_OPERATOR | ROLE_ADMIN, "routes.read", 0, NULL },
	{ "GET", "/api/v1/notify", api_get_notify, ROLE_OPERATOR | ROLE_ADMIN, "notify.read", 0, NULL },
	{ "GET", "/api/v1/notify/", api_get_target, ROLE_OPERATOR | ROLE_ADMIN, "notify.read", 0, NULL },
	{ "POST", "/api/v1/notify", api_post_target, ROLE_ADMIN, "notify.create", AUDITED, NULL },
	{ "PUT", "/api/v1/notify/", api_put_target, ROLE_ADMIN, "notify.update", AUDITED, NULL },
	{ "DELETE", "/api/v1/notify/", api_delete_target, ROLE_ADMIN, "notify.delete", AUDITED, NULL },
	{ "POST", "/api/v1/notify/", api_post_notify_test, ROLE_ADMIN, "notify.test", AUDITED, NULL },
	{ "GET", "/api/v1/dialtests", api_get_dialtests, ROLES_STATE, "dialtests.read", 0, NULL },
	{ "GET", "/api/v1/dialtests/", api_get_dialtest, ROLES_STATE, "dialtests.read", 0, "since until limit window" },
	{ "POST", "/api/v1/dialtests", api_post_dialtest, ROLE_ADMIN, "dialtest.create", AUDITED, NULL },
	{ "PUT", "/api/v1/dialtests/", api_put_dialtest, ROLE_ADMIN, "dialtest.update", AUDITED, NULL },
	{ "DELETE", "/api/v1/dialtests/", api_delete_dialtest, ROLE_ADMIN, "dialtest.delete", AUDITED, NULL },
	{ "POST", "/api/v1/dialtests/", api_run_dialtest, ROLE_OPERATOR | ROLE_ADMIN, "dialtest.run", AUDITED, NULL },
	{ "GET", "/api/v1/enroll/ca", api_get_enroll_ca, ROLES_ANY, "enroll.ca", PUBLIC, NULL },
	{ "POST", "/api/v1/enroll", api_post_enroll, ROLES_ANY, "enroll", AUDITED | PUBLIC, NULL },
	{ "POST", "/api/v1/enroll/renew", api_post_enroll_renew, ROLES_ANY, "enroll.renew", AUDITED | PUBLIC, NULL },
	{ "GET", "/api/v1/enroll/tokens", api_get_enroll_tokens, ROLE_ADMIN, "enroll_tokens.read", 0, NULL },
	{ "POST", "/api/v1/enroll/tokens", api_post_enroll_token, ROLE_ADMIN, "enroll_token.create", AUDITED, NULL },
	{ "DELETE", "/api/v1/enroll/tokens/", api_delete_enroll_token, ROLE_ADMIN, "enroll_token.revoke", AUDITED, NULL },
	{ "GET", "/api/v1/enroll/certs", api_get_enroll_certs, ROLE_ADMIN, "agent_certs.read", 0, NULL },
	{ "DELETE", "/api/v1/enroll/certs/", api_delete_enroll_cert, ROLE_ADMIN, "agent_cert.revoke", AUDITED, NULL },
	{ "GET", "/api/v1/tokens", api_get_tokens, ROLE_ADMIN, "tokens.read", 0, NULL },
	{ "POST", "/api/v1/tokens", api_post_token, ROLE_ADMIN, "token.create", AUDITED, NULL },
	{ "DELETE", "/api/v1/tokens/", api_delete_token, ROLE_ADMIN, "token.delete", AUDITED, NULL },
	{ "GET", "/api/v1/rules", api_get_rules, ROLES_STATE, "rules.read", 0, NULL },
	{ "GET", "/api/v1/rules/", api_get_rule, ROLES_STATE, "rules.read", 0, NULL },
	{ "POST", "/api/v1/rules", api_post_rule, ROLE_ADMIN, "rule.create", AUDITED, NULL },
	{ "PUT", "/api/v1/rules/", api_put_rule, ROLE_ADMIN, "rule.update", AUDITED, NULL },
	{ "DELETE", "/api/v1/rules/", api_delete_rule, ROLE_ADMIN, "rule.delete", AUDITED, NULL },
};

static bool route_matches(const struct route *rt, const char *url)
{
	size_t n = strlen(rt->path);

	return rt->path[n - 1] == '/' ? strncmp(url, rt->path, n) == 0 && url[n] : strcmp(url, rt->path) == 0;
}

/* The peer's address into addr, and as "ADDRESS:PORT" ("[ADDRESS]:PORT" for IPv6) into source. */
static void peer_address(struct MHD_Connection *c, char *addr, size_t addr_size, char *source, size_t size)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	char host[NI_MAXHOST], port[NI_MAXSERV];

	if (!sa || getnameinfo(sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
			       host, sizeof(host), port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		(void)snprintf(addr, addr_size, "unknown");
		(void)snprintf(source, size, "unknown");
		return;
	}
	(void)snprintf(addr, addr_size, "%s", host);
	(void)snprintf(source, size, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
}

static void audit_request(struct request *rq, const struct route *rt, const char *action)
{
	char addr[NI_MAXHOST], source[NI_MAXHOST + NI_MAXSERV + 4];
	struct http_audit_request ar = { .user = rq->user[0] ? rq->user : "-", .role = rq->role[0] ? rq->role : "-",
					 .action = action, .target = rq->target, .address = addr, .source = source,
					 .status = rq->status, .detail = rq->detail[0] ? rq->detail : NULL,
					 .paged = rt && (rt->flags & PAGED), .cursor_in = arg(rq, "cursor"),
					 .cursor_out = rq->cursor_out };

	peer_address(rq->c, addr, sizeof(addr), source, sizeof(source));
	http_audit_record(rq->h->trail, &ar, now_realtime_us());
}

struct unknown_args {
	const char *known;
	char names[256];
	size_t n;
};

static enum MHD_Result collect_unknown(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct unknown_args *u = cls;

	if (!word_listed(u->known, key) && u->n < sizeof(u->names))
		u->n += (size_t)snprintf(u->names + u->n, sizeof(u->names) - u->n, "%s%s", u->n ? ", " : "", key);
	return MHD_YES;
}

/* 400 for a query parameter the route does not take: a misspelt filter must not widen the answer. */
static enum MHD_Result check_params(struct request *rq, const struct route *rt, bool *ret_bad)
{
	struct unknown_args u = { .known = rt->params };

	(void)MHD_get_connection_values(rq->c, MHD_GET_ARGUMENT_KIND, collect_unknown, &u);
	*ret_bad = u.n > 0;
	if (!u.n)
		return MHD_YES;
	return respond_error(rq, MHD_HTTP_BAD_REQUEST, "bad_request", "unknown query parameter%s %s; %s %s takes %s",
			     strchr(u.names, ',') ? "s" : "", u.names, rt->method, rt->path,
			     rt->params ? rt->params : "none");
}

/*
 * With [http] tls_client_ca, a request goes on only with a client
 * certificate that chains to it. Checked against the daemon's own material,
 * whichever of the two the connection came in on during a reload.
 */
static bool client_ok(struct request *rq, char *why, size_t size)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(rq->c, MHD_CONNECTION_INFO_DAEMON);
	struct http_server *h = rq->h;
	bool ok;

	pthread_mutex_lock(&h->lock);
	/* No old_tls: the reload fell back, and both daemons serve with tls. */
	ok = http_tls_client_ok(ci && ci->daemon == h->old && h->old_tls ? h->old_tls : h->tls, rq->c, why, size);
	pthread_mutex_unlock(&h->lock);
	return ok;
}

/* The answer to a request whose asker could not be told: refused, or the users' store out of reach. */
static enum MHD_Result unauthenticated(struct request *rq, int r)
{
	enum MHD_Result ret;

	rq->user[0] = rq->role[0] = 0;
	if (r == -EACCES)
		ret = respond_error(rq, MHD_HTTP_UNAUTHORIZED, "unauthorized",
				    "missing or invalid bearer token or session (Authorization: Bearer TOKEN, or log in:"
				    " POST /api/v1/session)");
	else /* Not a refusal: the console must not take it for a logout. */
		ret = respond_errno(rq, r, "who asks cannot be told now");
	audit_request(rq, NULL, "auth.failed");
	return ret;
}

static enum MHD_Result dispatch(struct request *rq)
{
	const struct route *match = NULL;
	const char *refusal, *why_not = NULL;
	enum MHD_Result ret;
	char need[64], why[512];
	bool bad;
	int r;

	if (strncmp(rq->url, "/api/", 5) != 0 && strcmp(rq->url, "/metrics") != 0)
		return console_serve(rq->h->console, rq->c, rq->url, rq->method, rq->h->tls != NULL, &rq->status);
	for (size_t i = 0; i < ARRAY_SIZE(routes); i++)
		if (route_matches(&routes[i], rq->url)) {
			match = &routes[i];
			if (strcmp(routes[i].method, rq->method) == 0)
				break;
		}
	if (!match)
		return respond_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no endpoint %s", rq->url);
	if (!client_ok(rq, why, sizeof(why))) {
		ret = respond_error(rq, MHD_HTTP_FORBIDDEN, "forbidden", "%s", why);
		audit_request(rq, NULL, "auth.certificate");
		return ret;
	}
	if (storage_reader_open(rq->h->env.storage->data_dir, &rq->rd) == 0)
		storage_reader_share(rq->rd, rq->h->env.storage);
	else
		return respond_error(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "storage not ready");
	if (match->flags & PUBLIC && strcmp(match->method, rq->method) == 0) {
		ret = match->handler(rq);
		audit_request(rq, match, match->action);
		return ret;
	}
	r = request_authenticate(rq);
	if (r < 0)
		return unauthenticated(rq, r);
	if (strcmp(match->method, rq->method) != 0) {
		ret = respond_error(rq, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "%s does not accept %s",
				    rq->url, rq->method);
		audit_request(rq, match, match->action);
		return ret;
	}
	if (!(role_bit(rq->role) & match->roles)) {
		roles_text(match->roles, need, sizeof(need));
		ret = respond_error(rq, MHD_HTTP_FORBIDDEN, "forbidden", "%s %s needs the role %s; %s %s has %s",
				    rq->method, match->path, need, rq->by_session ? "user" : "token", rq->user, rq->role);
		audit_request(rq, match, match->action);
		return ret;
	}
	refusal = session_refusal(rq, match->flags & SELF, &why_not);
	if (refusal) {
		ret = respond_error(rq, MHD_HTTP_FORBIDDEN, refusal, "%s", why_not);
		audit_request(rq, match, match->action);
		return ret;
	}
	ret = check_params(rq, match, &bad);
	if (!bad)
		ret = match->handler(rq);
	if (match->flags & AUDITED)
		audit_request(rq, match, match->action);
	return ret;
}

/*
 * A request as it arrives: the target as sent (for the audit log) and the
 * body, up to BODY_MAX; freed when MHD is done with the request.
 */
struct upload {
	char target[HTTP_AUDIT_OBJECT_MAX + 64];
	bool started;
	struct buf body;
	bool too_large;
};

/* MHD's first word on a request, with the target before it is decoded: what the audit log records. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct upload *up = calloc(1, sizeof(*up));
	size_t n = strlen(uri);

	if (!up)
		return NULL;
	if (n < HTTP_AUDIT_OBJECT_MAX)
		(void)snprintf(up->target, sizeof(up->target), "%s", uri);
	else
		(void)snprintf(up->target, sizeof(up->target), "%.*s... (%zu bytes)", HTTP_AUDIT_OBJECT_MAX - 40, uri, n);
	buf_init(&up->body, BODY_MAX);
	return up;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *data, size_t *data_size, void **state)
{
	struct request rq = { .h = cls, .c = c, .url = url, .method = method };
	struct upload *up = *state;
	enum MHD_Result ret;

	if (!up)
		return MHD_NO;
	/* First call: headers only. */
	if (!up->started) {
		up->started = true;
		return MHD_YES;
	}
	if (*data_size) {
		if (!up->too_large && buf_append(&up->body, data, *data_size) < 0)
			up->too_large = true;
		*data_size = 0;
		return MHD_YES;
	}
	metrics_add(&metrics.http_requests, 1);
	if (up->too_large)
		return respond_error(&rq, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", "the body is over %d bytes",
				     BODY_MAX);
	rq.target = up->target;
	rq.body = (const char *)up->body.data;
	rq.body_len = up->body.len;
	ret = dispatch(&rq);
	storage_reader_free(rq.rd);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode toe)
{
	struct upload *up = *state;

	if (!up)
		return;
	buf_free(&up->body);
	free(up);
	*state = NULL;
}

static int parse_listen(const char *listen, struct sockaddr_storage *ret, socklen_t *ret_len)
{
	_cleanup_free_ char *host = strdup(listen);
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *ai;
	char *colon = host ? strrchr(host, ':') : NULL, *h;
	int rc;

	if (!colon)
		return -EINVAL;
	*colon = 0;
	h = host;
	if (*h == '[' && colon[-1] == ']') {
		h++;
		colon[-1] = 0;
	}
	rc = getaddrinfo(*h ? h : NULL, colon + 1, &hints, &ai);
	if (rc)
		return -EADDRNOTAVAIL;
	memcpy(ret, ai->ai_addr, ai->ai_addrlen);
	*ret_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* libmicrohttpd's own messages (a failed TLS handshake, a socket error) go to our log. */
_printf_(2, 0) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '.'))
		msg[--n] = 0;
	log_info("http: %s", msg);
}

/*
 * Starts a daemon serving h with tls (NULL: plain HTTP) on the listening
 * socket fd, or (fd < 0) on a socket bound to sa.
 */
static struct MHD_Daemon *start_daemon(struct http_server *h, const struct http_tls *tls, int fd,
				       const struct sockaddr_storage *sa)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_ITC;
	struct MHD_OptionItem ops[9 + HTTP_TLS_OPTIONS + 1] = {
		{ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, NULL },
		{ MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)h->env.http->threads, NULL },
		{ MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)(h->env.http->idle_timeout_ms / 1000), NULL },
		{ MHD_OPTION_CONNECTION_LIMIT, (intptr_t)h->env.http->connections, NULL },
		/* So that no one address, holding idle connections, keeps the others out. */
		{ MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)h->env.http->per_address, NULL },
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL },
		{ MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, NULL },
	};
	size_t n = 7;

	if (fd >= 0)
		ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_LISTEN_SOCKET, fd, NULL };
	else
		ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, (void *)sa };
	if (sa && sa->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (tls) {
		flags |= MHD_USE_TLS;
		n += http_tls_options(tls, ops + n);
	}
	ops[n] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
}

int http_start(const struct api_env *env, const struct http_deps *deps, struct http_server **ret)
{
	struct http_server *h = calloc(1, sizeof(*h));
	struct sockaddr_storage sa;
	socklen_t salen;
	int r;

	if (!h)
		return -ENOMEM;
	h->env = *env;
	h->deps = *deps;
	pthread_mutex_init(&h->lock, NULL);
	r = parse_listen(env->http->listen, &sa, &salen);
	if (r < 0) {
		log_error_errno(r, "[http] listen=%s: cannot resolve", env->http->listen);
		goto fail;
	}
	r = accounts_open(env->storage, env->users, &h->accounts);
	if (r == 0)
		r = http_tls_load(env->http, &h->tls);
	/* Without its console (not installed, or unreadable: logged), the collector still serves the API. */
	if (r == 0 && env->http->console_dir)
		(void)console_load(env->http->console_dir, &h->console);
	if (r == 0)
		r = http_audit_new(h->deps.audit, env->audit->session_idle_ms * 1000,
				   env->audit->auth_failure_window_ms * 1000, &h->trail);
	if (r < 0)
		goto fail;
	h->daemon = start_daemon(h, h->tls, -1, &sa);
	if (!h->daemon) {
		r = log_error_errno(EADDRINUSE, "[http] listen=%s: cannot start the HTTP%s server", env->http->listen,
				    h->tls ? "S" : "");
		goto fail;
	}
	*ret = h;
	return 0;
fail:
	http_stop(h);
	return r;
}

/* The daemon a reload replaced, once its connections are done or its time is up. */
static void reap_old(struct http_server *h, bool now)
{
	const union MHD_DaemonInfo *di;
	struct http_tls *tls;

	if (!h->old)
		return;
	di = MHD_get_daemon_info(h->old, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	if (!now && di && di->num_connections > 0 && now_monotonic_us() < h->old_until_us)
		return;
	MHD_stop_daemon(h->old);
	pthread_mutex_lock(&h->lock);
	h->old = NULL;
	tls = TAKE_PTR(h->old_tls);
	pthread_mutex_unlock(&h->lock);
	http_tls_free(tls);
}

int http_reload(struct http_server *h)
{
	struct http_tls *tls = NULL;
	struct MHD_Daemon *fresh;
	MHD_socket fd;
	int r;

	if (!h->tls)
		return 0;
	r = http_tls_load(h->env.http, &tls);
	if (r < 0)
		return log_error_errno(r, "reload: the API's certificates cannot be read; serving with those it has: %m");
	/* A daemon an earlier reload replaced has had its time. */
	reap_old(h, true);
	/* The listening socket goes to a daemon with the new certificates; the old serves what it has open. */
	fd = MHD_quiesce_daemon(h->daemon);
	if (fd == MHD_INVALID_SOCKET) {
		http_tls_free(tls);
		return log_error_errno(EIO, "reload: cannot take the API's socket over; serving with the certificates it has");
	}
	fresh = start_daemon(h, tls, fd, NULL);
	if (!fresh) {
		/* The socket is ours now: back to the material that worked, so the API keeps answering. */
		http_tls_free(tls);
		tls = NULL;
		fresh = start_daemon(h, h->tls, fd, NULL);
		log_error("reload: cannot start the HTTPS server with the new certificates; %s",
			  fresh ? "serving with those it had" : "THE API IS DOWN until a restart");
		if (!fresh)
			return -EIO;
	}
	pthread_mutex_lock(&h->lock);
	h->old = h->daemon;
	h->daemon = fresh;
	if (tls) {
		h->old_tls = h->tls;
		h->tls = tls;
	}
	pthread_mutex_unlock(&h->lock);
	h->old_until_us = now_monotonic_us() + DRAIN_US;
	if (!tls)
		return -EIO;
	log_info("reload: the API serves with the certificate in %s", h->env.http->tls_cert);
	return 0;
}

void http_tick(struct http_server *h)
{
	http_audit_flush(h->trail, now_realtime_us());
	reap_old(h, false);
}

void http_stop(struct http_server *h)
{
	if (!h)
		return;
	reap_old(h, true);
	if (h->daemon)
		MHD_stop_daemon(h->daemon);
	http_audit_free(h->trail);
	http_tls_free(h->tls);
	accounts_free(h->accounts);
	console_free(h->console);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
