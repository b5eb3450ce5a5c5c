/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <regex.h>
#include <stddef.h>
#include <stdio.h>

#include "collector/coll_conf.h"
#include "alerts/alert.h"
#include "common/macro.h"
#include "common/regex.h"
#include "common/util.h"

#define I(f) offsetof(struct coll_conf, ingest.f) - offsetof(struct coll_conf, ingest)
#define S(f) offsetof(struct coll_conf, storage.f) - offsetof(struct coll_conf, storage)
#define H(f) offsetof(struct coll_conf, http.f) - offsetof(struct coll_conf, http)
#define O(f) offsetof(struct coll_conf, hosts.f) - offsetof(struct coll_conf, hosts)
#define L(f) offsetof(struct coll_conf, alerts.f) - offsetof(struct coll_conf, alerts)
#define D(f) offsetof(struct coll_conf, dialtests.f) - offsetof(struct coll_conf, dialtests)
#define A(f) offsetof(struct coll_conf, audit.f) - offsetof(struct coll_conf, audit)
#define R(f) offsetof(struct rule_conf, f)
#define N(f) offsetof(struct notify_conf, f)
#define T(f) offsetof(struct route_conf, f)

static const struct conf_key ingest_keys[] = {
	{ "listen", CONF_STR, I(t.address), "tcp://127.0.0.1:5170", .help = "tcp://, ipc:// or tls+tcp:// URL agents send to" },
	{ "tls_ca", CONF_STR, I(t.tls_ca), NULL, .help = "CA that signed the agents' certificates" },
	{ "tls_cert", CONF_STR, I(t.tls_cert), NULL, .help = "the collector's certificate (PEM)" },
	{ "tls_key", CONF_STR, I(t.tls_key), NULL, .help = "the collector's private key (PEM)" },
	{ "contexts", CONF_UINT, I(contexts), "8", 1, 1024, .help = "batches received and verified in parallel; bounds the writer's queue" },
	{ "per_agent", CONF_UINT, I(per_agent), "4", 1, 1024, .help = "batches of one agent at the writer at once; past it the agent is told to retry, so no agent holds every context" },
	{ "max_message", CONF_SIZE, I(max_message), "16M", 64, 256 * 1024 * 1024, .help = "largest request accepted" },
	{ "max_raw", CONF_SIZE, I(max_raw), "64M", 64, 1024 * 1024 * 1024, .help = "largest decompressed batch accepted" },
	{ "max_records", CONF_UINT, I(max_records), "65536", 1, 1048576, .help = "most records in one batch" },
	{ "max_field", CONF_SIZE, I(max_field), "1M", 64, 64 * 1024 * 1024, .help = "largest field value accepted" },
};

static const struct conf_key storage_keys[] = {
	{ "data_dir", CONF_STR, S(data_dir), "/var/lib/vigil", .help = "meta database and daily shards" },
	{ "sync", CONF_BOOL, S(sync), "yes", .help = "fsync every commit before acknowledging" },
	{ "retention_days", CONF_UINT, S(retention_days), "184", 1, 36500, .help = "days of shards kept" },
};

static const struct conf_key http_keys[] = {
	{ "listen", CONF_STR, H(listen), "127.0.0.1:8080", .help = "HOST:PORT of the HTTP API" },
	{ "threads", CONF_UINT, H(threads), "4", 1, 64, .help = "HTTP worker threads" },
	{ "connections", CONF_UINT, H(connections), "512", 16, 65536, .help = "connections open at once, in all" },
	{ "per_address", CONF_UINT, H(per_address), "32", 1, 65536, .help = "connections open at once from one address: one address holding idle connections cannot keep the others out" },
	{ "idle_timeout", CONF_SECS, H(idle_timeout_ms), "15s", 1000, 3600000, .help = "a connection that sends nothing (a request started and never finished, too) for this long is closed" },
	{ "max_limit", CONF_UINT, H(max_limit), "10000", 1, 1000000, .help = "largest limit= a query may ask" },
	{ "tls_cert", CONF_STR, H(tls_cert), NULL, .help = "serve HTTPS (TLS 1.2 and 1.3) with this certificate (PEM, the chain after it); reloaded on SIGHUP" },
	{ "tls_key", CONF_STR, H(tls_key), NULL, .help = "the certificate's private key (PEM)" },
	{ "tls_client_ca", CONF_STR, H(tls_client_ca), NULL, .help = "require a client certificate signed by this CA (PEM) of every request, besides its token" },
	{ "max_answer", CONF_SIZE, H(max_answer), "4M", 4096, 1024 * 1024 * 1024, .help = "bytes of items one answer holds at most (probe history, dial test results); past it the answer says truncated and where the next page starts" },
	{ "scan_budget", CONF_SIZE, H(scan_budget), "256M", 1024 * 1024, 64ull * 1024 * 1024 * 1024, .help = "decompressed log bytes one GET /api/v1/logs examines at most; past it the answer says complete=false and the client follows next_cursor" },
};

static const struct conf_key hosts_keys[] = {
	{ "silent_after", CONF_SECS, O(silent_after_ms), "120s", 1000, 86400000, .help = "a host not heard from for this long is silent" },
};

static const struct conf_key alerts_keys[] = {
	{ "interval", CONF_SECS, L(interval_ms), "10s", 1000, 3600000, .help = "time between evaluations of the rules" },
	{ "console_url", CONF_STR, L(console_url), NULL, .help = "the console's base URL; messages link to <console_url>/alerts/ID (default the API's /api/v1/alerts/ID)" },
};

static const struct conf_key dialtests_keys[] = {
	{ "dir", CONF_STR, D(dir), "/etc/vigil/dialtests.d", .help = "a dial test per *.json file (the API defines more)" },
	{ "concurrency", CONF_UINT, D(concurrency), "64", 1, 4096, .help = "dial test runs at once, in all" },
	{ "per_host", CONF_UINT, D(per_host), "8", 1, 4096, .help = "dial test runs at once against one host" },
	{ "host", CONF_STR, D(host), NULL, .help = "the host name dial test results are stored under (default this machine's)" },
	{ "secrets_dir", CONF_STR, D(secrets_dir), "/etc/vigil/secrets", .help = "the folder dial tests' secret files must be in (absolute)" },
	{ "secrets_env_prefix", CONF_STR, D(secrets_env), "VIGIL_SECRET_", .help = "the prefix every environment variable a dial test reads a secret from must have" },
	{ "queue", CONF_UINT, D(queue), "10000", 16, 1000000, .help = "results waiting to be stored, at most; past it the oldest are dropped (counted)" },
};

static const struct conf_key audit_keys[] = {
	{ "retention_days", CONF_UINT, A(retention_days), "184", 1, 36500, .help = "days of the audit log kept, at least; whole calendar months are dropped" },
	{ "session_idle", CONF_SECS, A(session_idle_ms), "10m", 0, 86400000, .help = "reads of logs or of the audit log that go on from the cursor the same user's previous read was given, within this time, are one audit row (0: a row a read)" },
	{ "auth_failure_window", CONF_SECS, A(auth_failure_window_ms), "60s", 1000, 3600000, .help = "failed authentications from one address: the first of this window is a row, the rest one row when it ends" },
};

static const struct conf_key rule_keys[] = {
	{ "type", CONF_STR, R(type), NULL, .required = true, .help = "probe, host_silent, metric, log, dialtest or agent_conflict" },
	{ "severity", CONF_STR, R(severity), "warning", .help = "info, warning, critical or disaster" },
	{ "summary", CONF_STR, R(summary), NULL, .help = "template: {{host}} {{probe}} {{instance}} {{value}} {{rule}} or any label" },
	{ "for", CONF_SECS, R(for_ms), "0", 0, 86400000, .help = "how long the condition holds before the alert fires" },
	{ "host", CONF_STR, R(host), "*", .help = "glob on host names the rule watches" },
	{ "labels", CONF_STR, R(labels), NULL, .help = "key=value pairs added to the alerts' labels" },
	{ "probe", CONF_STR, R(probe), NULL, .help = "probe: glob on probe names (default all)" },
	{ "consecutive", CONF_UINT, R(consecutive), NULL, 0, 1000, .help = "probe: results not ok in a row before the condition holds (default 1)" },
	{ "silent_for", CONF_SECS, R(silent_for_ms), NULL, 0, 86400000 * 30ull, .help = "host_silent: no batch or heartbeat for this long (default [hosts] silent_after)" },
	{ "metric", CONF_STR, R(metric), NULL, .help = "metric: <set>.<field> of the agents' metrics, e.g. filesystem.used_pct" },
	{ "instance", CONF_STR, R(instance), NULL, .help = "metric: glob on the instance (mount, disk, interface; default all)" },
	{ "above", CONF_STR, R(above), NULL, .help = "metric: active when the latest value is above this" },
	{ "below", CONF_STR, R(below), NULL, .help = "metric: active when the latest value is below this" },
	{ "recover", CONF_STR, R(recover), NULL, .help = "metric: active until the value is back past this (default the threshold)" },
	{ "pattern", CONF_STR, R(pattern), NULL, .help = "log: extended regular expression matched against MESSAGE" },
	{ "unit", CONF_STR, R(unit), NULL, .help = "log: glob on the record's _SYSTEMD_UNIT (default any)" },
	{ "source", CONF_STR, R(source), NULL, .help = "log: glob on the record's source, file path, unit or identifier (default any)" },
	{ "count", CONF_UINT, R(count), NULL, 0, 1000000000, .help = "log: matching lines within window before the condition holds (default 1)" },
	{ "window", CONF_SECS, R(window_ms), NULL, 0, 86400000, .help = "log: the window lines are counted in (default 5m)" },
	{ "dialtest", CONF_STR, R(dialtest), NULL, .help = "dialtest: glob on dial test names (default all)" },
	{ "condition", CONF_STR, R(condition), NULL, .help = "dialtest: failure (default), latency (total ms above=) or cert_days (days left below=)" },
	{ "flap_changes", CONF_UINT, R(flap_changes), "5", 0, 1000, .help = "more fires and resolutions than this within flap_window: flapping (0: never)" },
	{ "flap_window", CONF_SECS, R(flap_window_ms), "30m", 1000, 86400000, .help = "the window flapping is judged in" },
	{ "clear_ack_on_recovery", CONF_BOOL, R(clear_ack_on_recovery), "no", .help = "a resolution clears the acknowledgement" },
	{ "notify", CONF_STR, R(notify), NULL, .help = "[notify] target names told when an alert fires, resolves or starts flapping" },
	{ "escalate_after", CONF_SECS, R(escalate_after_ms), "0", 0, 86400000 * 7ull, .help = "a firing alert nobody acknowledged for this long goes to escalate_to (0: never)" },
	{ "escalate_to", CONF_STR, R(escalate_to), NULL, .help = "[notify] target names told when escalate_after passes" },
};

static const struct conf_key notify_keys[] = {
	{ "type", CONF_STR, N(type), NULL, .required = true, .help = "webhook, dingtalk, wecom, feishu or email" },
	{ "url", CONF_STR, N(url), NULL, .required = true, .help = "where to POST (a DingTalk robot's webhook with its access_token); email: smtp://HOST:PORT or smtps://HOST:PORT" },
	{ "secret", CONF_STR, N(secret), NULL, .help = "dingtalk, feishu: the robot's signing secret; email: the SMTP password" },
	{ "secret_file", CONF_STR, N(secret_file), NULL, .help = "the same, from a file whose first line is the secret" },
	{ "lang", CONF_STR, N(lang), "zh", .help = "zh or en: the language of the message" },
	{ "tls_ca", CONF_STR, N(tls_ca), NULL, .help = "CA file the server's certificate is checked against (default the system's)" },
	{ "from", CONF_STR, N(from), NULL, .help = "email: the sender address" },
	{ "to", CONF_STR, N(to), NULL, .help = "email: recipient addresses, space-separated" },
	{ "username", CONF_STR, N(username), NULL, .help = "email: the SMTP AUTH user name (the password is secret= or secret_file=)" },
	{ "starttls", CONF_BOOL, N(starttls), "yes", .help = "email over smtp://: refuse to send unless the server takes STARTTLS" },
	{ "rate_limit", CONF_UINT, N(rate_limit), "0", 0, 10000, .help = "dingtalk, wecom, feishu: messages a minute the robot takes; past it, what is due goes as one digest (0: 20 for DingTalk and WeCom, 100 for Feishu)" },
};

static const struct conf_key route_keys[] = {
	{ "match", CONF_STR, T(match), NULL, .required = true, .help = "key=glob pairs on the alert's labels (and rule, severity), all of which must match" },
	{ "notify", CONF_STR, T(notify), NULL, .required = true, .help = "[notify] target names told of the alerts it matches" },
};

static void *route_instance(void *target, const char *name)
{
	struct coll_conf *c = target;

	return conf_named_append((void ***)&c->routes, &c->n_routes, sizeof(struct route_conf), name);
}
_Static_assert(offsetof(struct route_conf, name) == 0, "conf_named_append: the name comes first");

static void *notify_instance(void *target, const char *name)
{
	struct coll_conf *c = target;

	return conf_named_append((void ***)&c->notifies, &c->n_notifies, sizeof(struct notify_conf), name);
}
_Static_assert(offsetof(struct notify_conf, name) == 0, "conf_named_append: the name comes first");

const struct notify_conf *coll_conf_notify(const struct coll_conf *c, const char *name)
{
	for (size_t i = 0; i < c->n_notifies; i++)
		if (strcmp(c->notifies[i]->name, name) == 0)
			return c->notifies[i];
	return NULL;
}

static void *rule_instance(void *target, const char *name)
{
	struct coll_conf *c = target;

	return conf_named_append((void ***)&c->rules, &c->n_rules, sizeof(struct rule_conf), name);
}
_Static_assert(offsetof(struct rule_conf, name) == 0, "conf_named_append: the name comes first");

static const struct conf_section sections[] = {
	{ "ingest", false, ingest_keys, ARRAY_SIZE(ingest_keys), offsetof(struct coll_conf, ingest), NULL },
	{ "storage", false, storage_keys, ARRAY_SIZE(storage_keys), offsetof(struct coll_conf, storage), NULL },
	{ "http", false, http_keys, ARRAY_SIZE(http_keys), offsetof(struct coll_conf, http), NULL },
	{ "hosts", false, hosts_keys, ARRAY_SIZE(hosts_keys), offsetof(struct coll_conf, hosts), NULL },
	{ "alerts", false, alerts_keys, ARRAY_SIZE(alerts_keys), offsetof(struct coll_conf, alerts), NULL },
	{ "dialtests", false, dialtests_keys, ARRAY_SIZE(dialtests_keys), offsetof(struct coll_conf, dialtests), NULL },
	{ "audit", false, audit_keys, ARRAY_SIZE(audit_keys), offsetof(struct coll_conf, audit), NULL },
	{ "rule", true, rule_keys, ARRAY_SIZE(rule_keys), 0, rule_instance },
	{ "notify", true, notify_keys, ARRAY_SIZE(notify_keys), 0, notify_instance },
	{ "route", true, route_keys, ARRAY_SIZE(route_keys), 0, route_instance },
};
#define RULE_SECTION (&sections[ARRAY_SIZE(sections) - 3])
#define NOTIFY_SECTION (&sections[ARRAY_SIZE(sections) - 2])
#define ROUTE_SECTION (&sections[ARRAY_SIZE(sections) - 1])
const struct conf_section *const coll_conf_rule_section = RULE_SECTION;
const struct conf_section *const coll_conf_notify_section = NOTIFY_SECTION;

const struct conf_schema coll_conf_schema = { sections, ARRAY_SIZE(sections) };

static void check_number(const struct rule_conf *r, const char *key, const char *v, const char *path,
			 struct conf_errors *errs)
{
	char *end;

	if (!v)
		return;
	errno = 0;
	(void)strtod(v, &end);
	if (errno || end == v || *end)
		conf_error_add(errs, path, "[rule \"%s\"] %s=%s: expected a number", r->name, key, v);
}

static void check_dialtest(const struct rule_conf *r, const char *path, struct conf_errors *errs)
{
	const char *c = r->condition ? r->condition : "failure";
	bool failure = strcmp(c, "failure") == 0, latency = strcmp(c, "latency") == 0, cert = strcmp(c, "cert_days") == 0;

	if (!failure && !latency && !cert)
		conf_error_add(errs, path, "[rule \"%s\"] condition=%s: expected failure, latency or cert_days", r->name, c);
	if (latency && (!r->above || r->below))
		conf_error_add(errs, path, "[rule \"%s\"]: condition=latency needs above= (milliseconds)", r->name);
	if (cert && (!r->below || r->above))
		conf_error_add(errs, path, "[rule \"%s\"]: condition=cert_days needs below= (days)", r->name);
	if (failure && (r->above || r->below || r->recover))
		conf_error_add(errs, path, "[rule \"%s\"]: condition=failure takes no above=, below=, recover=", r->name);
	if (!failure && r->consecutive)
		conf_error_add(errs, path, "[rule \"%s\"]: consecutive= applies to condition=failure", r->name);
}

static void check_pattern(const struct rule_conf *r, const char *path, struct conf_errors *errs)
{
	regex_t re;
	char why[256];

	if (!r->pattern) {
		conf_error_add(errs, path, "[rule \"%s\"]: type=log needs pattern=", r->name);
		return;
	}
	if (regex_compile(&re, r->pattern, REG_EXTENDED | REG_NOSUB, why, sizeof(why)) < 0) {
		conf_error_add(errs, path, "[rule \"%s\"] pattern=%s: %s", r->name, r->pattern, why);
		return;
	}
	regfree(&re);
}

static void check_email(const struct notify_conf *n, const char *path, struct conf_errors *errs)
{
	bool email = n->type && strcmp(n->type, "email") == 0;

	if (email && n->url && strncmp(n->url, "smtp://", 7) != 0 && strncmp(n->url, "smtps://", 8) != 0)
		conf_error_add(errs, path, "[notify \"%s\"] url=%s: expected smtp:// or smtps://", n->name, n->url);
	if (email && (!n->from || !n->to))
		conf_error_add(errs, path, "[notify \"%s\"]: type=email needs from= and to=", n->name);
	if (email && !n->username != !(n->secret || n->secret_file))
		conf_error_add(errs, path, "[notify \"%s\"]: username= and a password (secret= or secret_file=) go together",
			       n->name);
	if (n->rate_limit && n->type && (email || strcmp(n->type, "webhook") == 0))
		conf_error_add(errs, path, "[notify \"%s\"]: rate_limit= applies to dingtalk, wecom and feishu", n->name);
	if (!email && (n->from || n->to || n->username || !n->starttls))
		conf_error_add(errs, path, "[notify \"%s\"]: from=, to=, username=, starttls= apply to type=email",
			       n->name);
}

void coll_conf_check_notify(const struct notify_conf *n, const char *path, struct conf_errors *errs)
{
	static const char *const types[] = { "webhook", "dingtalk", "wecom", "feishu", "email" };
	bool known = false, email = n->type && strcmp(n->type, "email") == 0,
	     signs = n->type && (strcmp(n->type, "dingtalk") == 0 || strcmp(n->type, "feishu") == 0);

	for (size_t i = 0; n->type && i < ARRAY_SIZE(types); i++)
		known |= strcmp(n->type, types[i]) == 0;
	if (n->type && !known)
		conf_error_add(errs, path, "[notify \"%s\"] type=%s: expected webhook, dingtalk, wecom, feishu or email",
			       n->name, n->type);
	if (!email && n->url && strncmp(n->url, "http://", 7) != 0 && strncmp(n->url, "https://", 8) != 0)
		conf_error_add(errs, path, "[notify \"%s\"] url=%s: expected http:// or https://", n->name, n->url);
	check_email(n, path, errs);
	if (!signs && !email && (n->secret || n->secret_file))
		conf_error_add(errs, path, "[notify \"%s\"]: secret= and secret_file= apply to dingtalk, feishu and email",
			       n->name);
	if (n->secret && n->secret_file)
		conf_error_add(errs, path, "[notify \"%s\"]: secret= or secret_file=, not both", n->name);
	if (strcmp(n->lang, "zh") != 0 && strcmp(n->lang, "en") != 0)
		conf_error_add(errs, path, "[notify \"%s\"] lang=%s: expected zh or en", n->name, n->lang);
}

/* Each name in a rule's notify= or escalate_to= must be a [notify] section. */
static void check_targets(const struct target_lookup *t, const struct rule_conf *r, const char *list,
			  const char *path, struct conf_errors *errs)
{
	const char *p = list;
	char name[256];

	while (p && next_word(&p, name, sizeof(name)))
		if (!t->has(t->userdata, name))
			conf_error_add(errs, path, "[rule \"%s\"] %s: no [notify \"%s\"] section", r->name,
				       list == r->notify ? "notify" : "escalate_to", name);
}

void coll_conf_check_rule(const struct rule_conf *r, const struct target_lookup *t, const char *path,
			  struct conf_errors *errs)
{
	bool probe = r->type && strcmp(r->type, "probe") == 0, silent = r->type && strcmp(r->type, "host_silent") == 0,
	     metric = r->type && strcmp(r->type, "metric") == 0, log = r->type && strcmp(r->type, "log") == 0,
	     dialtest = r->type && strcmp(r->type, "dialtest") == 0,
	     conflict = r->type && strcmp(r->type, "agent_conflict") == 0;
	const char *bad;
	size_t bad_len;

	if (r->type && !probe && !silent && !metric && !log && !dialtest && !conflict)
		conf_error_add(errs, path,
			       "[rule \"%s\"] type=%s: expected probe, host_silent, metric, log, dialtest or agent_conflict",
			       r->name, r->type);
	if (dialtest)
		check_dialtest(r, path, errs);
	if (!dialtest && (r->dialtest || r->condition))
		conf_error_add(errs, path, "[rule \"%s\"]: dialtest= and condition= apply to type=dialtest", r->name);
	if (log)
		check_pattern(r, path, errs);
	if (!log && (r->pattern || r->unit || r->source || r->count || r->window_ms))
		conf_error_add(errs, path, "[rule \"%s\"]: pattern=, unit=, source=, count=, window= apply to type=log",
			       r->name);
	if (metric && (!r->metric || !r->above == !r->below))
		conf_error_add(errs, path, "[rule \"%s\"]: type=metric needs metric= and one of above= and below=",
			       r->name);
	if (!metric && (r->metric || r->instance))
		conf_error_add(errs, path, "[rule \"%s\"]: metric= and instance= apply to type=metric", r->name);
	if (!metric && !dialtest && (r->above || r->below || r->recover))
		conf_error_add(errs, path, "[rule \"%s\"]: above=, below=, recover= apply to type=metric and dialtest",
			       r->name);
	check_number(r, "above", r->above, path, errs);
	check_number(r, "below", r->below, path, errs);
	check_number(r, "recover", r->recover, path, errs);
	check_targets(t, r, r->notify, path, errs);
	check_targets(t, r, r->escalate_to, path, errs);
	if (!r->escalate_after_ms != !r->escalate_to)
		conf_error_add(errs, path, "[rule \"%s\"]: escalate_after= and escalate_to= go together", r->name);
	if (alert_severity_from_name(r->severity) < 0)
		conf_error_add(errs, path, "[rule \"%s\"] severity=%s: expected info, warning, critical or disaster",
			       r->name, r->severity);
	if (!probe && r->probe)
		conf_error_add(errs, path, "[rule \"%s\"]: probe= applies to type=probe", r->name);
	if (!probe && !dialtest && r->consecutive)
		conf_error_add(errs, path, "[rule \"%s\"]: consecutive= applies to type=probe and dialtest", r->name);
	if (!silent && r->silent_for_ms)
		conf_error_add(errs, path, "[rule \"%s\"]: silent_for= applies to type=host_silent", r->name);
	if (r->labels && labels_check(r->labels, &bad, &bad_len) < 0)
		conf_error_add(errs, path, "[rule \"%s\"] labels: '%.*s' is not key=value", r->name, (int)bad_len, bad);
}

static void check_route(const struct route_conf *r, const struct target_lookup *t, const char *path,
			struct conf_errors *errs)
{
	const char *bad, *p = r->notify;
	size_t bad_len;
	char name[256];

	if (r->match && labels_check(r->match, &bad, &bad_len) < 0)
		conf_error_add(errs, path, "[route \"%s\"] match: '%.*s' is not key=glob", r->name, (int)bad_len, bad);
	while (p && next_word(&p, name, sizeof(name)))
		if (!t->has(t->userdata, name))
			conf_error_add(errs, path, "[route \"%s\"] notify: no [notify \"%s\"] section", r->name, name);
}

static bool conf_has_target(const void *userdata, const char *name)
{
	return coll_conf_notify(userdata, name) != NULL;
}

static void check_values(const void *target, const struct conf_origin *o, struct conf_errors *errs)
{
	const struct coll_conf *c = target;
	const struct target_lookup t = { conf_has_target, c };
	char where[4200];

	transport_conf_check(&c->ingest.t, "ingest", conf_origin_where(o, &c->ingest, "listen", where, sizeof(where)),
			     errs);
	if (c->http.listen && !strrchr(c->http.listen, ':'))
		conf_error_add(errs, conf_origin_where(o, &c->http, "listen", where, sizeof(where)),
			       "[http] listen=%s: expected HOST:PORT", c->http.listen);
	if (!c->http.tls_cert != !c->http.tls_key)
		conf_error_add(errs, conf_origin_where(o, &c->http, c->http.tls_cert ? "tls_cert" : "tls_key", where,
						       sizeof(where)),
			       "[http]: tls_cert= and tls_key= go together");
	if (c->dialtests.secrets_dir && (c->dialtests.secrets_dir[0] != '/' || strlen(c->dialtests.secrets_dir) < 2 ||
					 c->dialtests.secrets_dir[strlen(c->dialtests.secrets_dir) - 1] == '/'))
		conf_error_add(errs, conf_origin_where(o, &c->dialtests, "secrets_dir", where, sizeof(where)),
			       "[dialtests] secrets_dir=%s: expected an absolute path, without a trailing /",
			       c->dialtests.secrets_dir);
	if (c->dialtests.secrets_env && !*c->dialtests.secrets_env)
		conf_error_add(errs, conf_origin_where(o, &c->dialtests, "secrets_env_prefix", where, sizeof(where)),
			       "[dialtests] secrets_env_prefix: expected a prefix, not nothing (every variable)");
	if (c->http.tls_client_ca && !c->http.tls_cert)
		conf_error_add(errs, conf_origin_where(o, &c->http, "tls_client_ca", where, sizeof(where)),
			       "[http] tls_client_ca= needs tls_cert= and tls_key= (HTTPS)");
	for (size_t i = 0; i < c->n_rules; i++)
		coll_conf_check_rule(c->rules[i], &t, conf_origin_where(o, c->rules[i], NULL, where, sizeof(where)),
				     errs);
	for (size_t i = 0; i < c->n_notifies; i++)
		coll_conf_check_notify(c->notifies[i], conf_origin_where(o, c->notifies[i], NULL, where, sizeof(where)),
				       errs);
	for (size_t i = 0; i < c->n_routes; i++)
		check_route(c->routes[i], &t, conf_origin_where(o, c->routes[i], NULL, where, sizeof(where)), errs);
}

/*
 * Two hosts sending with one agent id lose data until someone acts, so that
 * is always watched: unless the file has a rule of type agent_conflict, the
 * built-in one is added.
 */
static int add_builtin_rules(struct coll_conf *c)
{
	static const char *const keys[] = { "type", "severity" }, *const values[] = { "agent_conflict", "critical" };
	struct conf_errors errs = { 0 };
	struct rule_conf *r;
	int k;

	for (size_t i = 0; i < c->n_rules; i++)
		if (strcmp(c->rules[i]->type, "agent_conflict") == 0 || strcmp(c->rules[i]->name, BUILTIN_CONFLICT_RULE) == 0)
			return 0;
	r = rule_instance(c, BUILTIN_CONFLICT_RULE);
	if (!r)
		return -ENOMEM;
	k = conf_instance_fill(RULE_SECTION, r, keys, values, ARRAY_SIZE(keys), "built-in", &errs);
	conf_errors_free(&errs);
	return k;
}

int coll_conf_load(const char *path, struct coll_conf **ret)
{
	struct coll_conf *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	r = conf_load_report(&coll_conf_schema, path, c, check_values);
	if (r == 0)
		r = add_builtin_rules(c);
	if (r < 0) {
		coll_conf_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

void coll_conf_free(struct coll_conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
		if (!sections[i].named)
			conf_free_section(&sections[i], (uint8_t *)c + sections[i].offset);
	conf_named_free((void **)c->rules, c->n_rules, RULE_SECTION);
	conf_named_free((void **)c->notifies, c->n_notifies, NOTIFY_SECTION);
	conf_named_free((void **)c->routes, c->n_routes, ROUTE_SECTION);
	free(c);
}
