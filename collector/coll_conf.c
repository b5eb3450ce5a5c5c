/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "collector/coll_conf.h"
#include "common/macro.h"
#include "common/util.h"
#include "store/sealing.h"

#define I(f) offsetof(struct coll_conf, ingest.f) - offsetof(struct coll_conf, ingest)
#define S(f) offsetof(struct coll_conf, storage.f) - offsetof(struct coll_conf, storage)
#define H(f) offsetof(struct coll_conf, http.f) - offsetof(struct coll_conf, http)
#define O(f) offsetof(struct coll_conf, hosts.f) - offsetof(struct coll_conf, hosts)
#define L(f) offsetof(struct coll_conf, alerts.f) - offsetof(struct coll_conf, alerts)
#define D(f) offsetof(struct coll_conf, dialtests.f) - offsetof(struct coll_conf, dialtests)
#define A(f) offsetof(struct coll_conf, audit.f) - offsetof(struct coll_conf, audit)
#define U(f) offsetof(struct coll_conf, users.f) - offsetof(struct coll_conf, users)
#define E(f) offsetof(struct coll_conf, enroll.f) - offsetof(struct coll_conf, enroll)

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
	{ "relays", CONF_STR, I(relays), NULL, .help = "under TLS, the names of agents' certificates whose batches may be of the devices they relay ([syslog] on the agent): their host is the one the records name, not the certificate's" },
	{ "index", CONF_BOOL, I(index), "yes", .help = "store each block with a filter of its tokens, so searches skip blocks that cannot match (no: less CPU and disk at ingest, every search reads every block in range)" },
};

static const struct conf_key storage_keys[] = {
	{ "data_dir", CONF_STR, S(data_dir), "/var/lib/vigil", .help = "meta database and daily shards" },
	{ "sync", CONF_BOOL, S(sync), "yes", .help = "fsync every commit before acknowledging" },
	{ "retention_days", CONF_UINT, S(retention_days), "184", 1, 36500, .help = "days of shards kept" },
	{ "hash", CONF_STR, S(hash), "sha256", .help = "the digest of the blocks' and the audit log's hash chains, sha256 or sm3 (GB/T 32905); a store keeps the one it started with" },
	{ "seal_key_file", CONF_STR, S(seal_key_file), NULL, .help = "seal the chains with HMAC-SM3 under the key in this file (32 bytes or more, outside data_dir, not readable by others)" },
	{ "seal_sign_key", CONF_STR, S(seal_sign_key), NULL, .help = "seal the chains with SM2 signatures by this private key (PEM, outside data_dir, not readable by others)" },
	{ "seal_verify_key", CONF_STR, S(seal_verify_key), NULL, .help = "the SM2 public key (PEM) --verify and /api/v1/verify check seals with: an auditor's, who cannot make seals" },
	{ "seal_interval", CONF_SECS, S(seal_interval_ms), "10m", 1000, 86400000, .help = "how often the open day is sealed again (a closed day is sealed once, when it ends)" },
	{ "backend", CONF_STR, S(backend), "sqlite", .help = "sqlite: the collector's own store in data_dir; postgresql: besides it, the blocks shared with the other collectors of the database url= names, which the log API reads (docs/scale.md)" },
	{ "url", CONF_STR, S(url), NULL, .help = "backend=postgresql: the database, a libpq URL (postgresql://vigil@db.example:5432/vigil?sslmode=verify-full&sslrootcert=/etc/vigil/db-ca.pem, or a socket folder as host=); never a password" },
	{ "password_file", CONF_STR, S(password_file), NULL, .help = "backend=postgresql: the database password (and --migrate's), the first line of this file (outside data_dir, not readable by others); none: peer, certificate or ~/.pgpass" },
	{ "dialect", CONF_STR, S(dialect), "postgresql", .help = "backend=postgresql: what the database is, for the few statements that differ; only postgresql is known" },
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
	{ "console_dir", CONF_STR, H(console_dir), VIGIL_CONSOLE_DIR, .help = "the console's built files (index.html, assets/), served at /; the API only when it has no index.html" },
	{ "search_threads", CONF_UINT, H(search_threads), "0", 0, 64, .help = "blocks one log search decompresses and scans at once (0: one per CPU, at most 8); answers are the same with any number" },
	{ "scan_budget", CONF_SIZE, H(scan_budget), "256M", 1024 * 1024, 64ull * 1024 * 1024 * 1024, .help = "decompressed log bytes one GET /api/v1/logs examines at most; past it the answer says complete=false and the client follows next_cursor" },
};

static const struct conf_key hosts_keys[] = {
	{ "silent_after", CONF_SECS, O(silent_after_ms), "120s", 1000, 86400000, .help = "a host not heard from for this long is silent" },
};

static const struct conf_key alerts_keys[] = {
	{ "interval", CONF_SECS, L(interval_ms), "10s", 1000, 3600000, .help = "time between evaluations of the rules" },
	{ "console_url", CONF_STR, L(console_url), NULL, .help = "the console's base URL; messages link to <console_url>/alerts/ID (default the console on [http] listen)" },
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

static const struct conf_key users_keys[] = {
	{ "password_min_length", CONF_UINT, U(password_min_length), "12", 8, 256, .help = "characters a user's password has at least" },
	{ "password_min_classes", CONF_UINT, U(password_min_classes), "3", 1, 4, .help = "of lower case, upper case, digits and others, how many a password has at least" },
	{ "lockout_failures", CONF_UINT, U(lockout_failures), "5", 1, 1000, .help = "failed logins within lockout_time that lock a user for lockout_time" },
	{ "lockout_time", CONF_SECS, U(lockout_ms), "15m", 1000, 86400000, .help = "the window failed logins are counted in, and how long they lock" },
	{ "session_idle", CONF_SECS, U(session_idle_ms), "30m", 1000, 86400000, .help = "a console session unused for this long ends" },
	{ "session_lifetime", CONF_SECS, U(session_lifetime_ms), "12h", 1000, 2592000000, .help = "a console session ends this long after the login, used or not" },
	{ "totp_roles", CONF_STR, U(totp_roles), "admin security auditor", .help = "roles whose users must enrol a second factor (TOTP) before anything else" },
};

static const struct conf_key enroll_keys[] = {
	{ "enabled", CONF_BOOL, E(enabled), "no", .help = "hosts enroll their agents with a token (vigilctl enroll-token create) and get certificates from the collector's CA" },
	{ "ca_cert", CONF_STR, E(ca_cert), NULL, .help = "an organisation's CA certificate (PEM) to issue with; default: the collector's own, made at its first start in data_dir/ca/" },
	{ "ca_key", CONF_STR, E(ca_key), NULL, .help = "the private key (PEM) of ca_cert=" },
	{ "lifetime", CONF_SECS, E(lifetime_ms), "30d", 10000, 3650ull * 86400000, .help = "how long an agent's certificate is valid; the agent renews it when a third is left" },
	{ "names", CONF_STR, E(names), NULL, .help = "the collector's host names and addresses, space-separated, in the certificate it issues itself each start (data_dir/ca/server.pem); default: this machine's name, localhost, 127.0.0.1, ::1" },
	{ "ingest_address", CONF_STR, E(ingest_address), NULL, .help = "the address enrolled agents send to (tls+tcp://HOST:PORT); default: [ingest] listen's port on the host they reached the API by" },
};

static void *rule_instance(void *target, const char *name)
{
	return alert_defs_add_rule(&((struct coll_conf *)target)->defs, name);
}

static void *notify_instance(void *target, const char *name)
{
	return alert_defs_add_notify(&((struct coll_conf *)target)->defs, name);
}

static void *route_instance(void *target, const char *name)
{
	return alert_defs_add_route(&((struct coll_conf *)target)->defs, name);
}

static void *forward_instance(void *target, const char *name)
{
	return forward_defs_add(&((struct coll_conf *)target)->forwards, name);
}

static void *logmetric_instance(void *target, const char *name)
{
	return alert_defs_add_logmetric(&((struct coll_conf *)target)->defs, name);
}

/* The named sections' key tables are alerting's (alerts/defs.c): the table is filled once, at first use. */
static struct conf_section sections[] = {
	{ "ingest", false, ingest_keys, ARRAY_SIZE(ingest_keys), offsetof(struct coll_conf, ingest), NULL },
	{ "storage", false, storage_keys, ARRAY_SIZE(storage_keys), offsetof(struct coll_conf, storage), NULL },
	{ "http", false, http_keys, ARRAY_SIZE(http_keys), offsetof(struct coll_conf, http), NULL },
	{ "hosts", false, hosts_keys, ARRAY_SIZE(hosts_keys), offsetof(struct coll_conf, hosts), NULL },
	{ "alerts", false, alerts_keys, ARRAY_SIZE(alerts_keys), offsetof(struct coll_conf, alerts), NULL },
	{ "dialtests", false, dialtests_keys, ARRAY_SIZE(dialtests_keys), offsetof(struct coll_conf, dialtests), NULL },
	{ "audit", false, audit_keys, ARRAY_SIZE(audit_keys), offsetof(struct coll_conf, audit), NULL },
	{ "users", false, users_keys, ARRAY_SIZE(users_keys), offsetof(struct coll_conf, users), NULL },
	{ "syslog", false, syslog_conf_keys, SYSLOG_CONF_N_KEYS, offsetof(struct coll_conf, syslog), NULL },
	{ "enroll", false, enroll_keys, ARRAY_SIZE(enroll_keys), offsetof(struct coll_conf, enroll), NULL },
	{ .name = NULL }, /* [forward] */
	{ .name = NULL }, /* [logmetric] */
	{ .name = NULL }, /* [rule] */
	{ .name = NULL }, /* [notify] */
	{ .name = NULL }, /* [route] */
};
static const struct conf_schema schema = { sections, ARRAY_SIZE(sections) };

static void named(size_t i, const struct conf_section *from, void *(*instance)(void *target, const char *name))
{
	sections[i] = *from;
	sections[i].instance = instance;
}

static void sections_init(void)
{
	size_t n = ARRAY_SIZE(sections);

	named(n - 5, &forward_section, forward_instance);
	named(n - 4, &alert_logmetric_section, logmetric_instance);
	named(n - 3, &alert_rule_section, rule_instance);
	named(n - 2, &alert_notify_section, notify_instance);
	named(n - 1, &alert_route_section, route_instance);
}

const struct conf_schema *coll_conf_schema(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	(void)pthread_once(&once, sections_init);
	return &schema;
}

static bool conf_has_target(const void *userdata, const char *name)
{
	return alert_defs_notify(userdata, name) != NULL;
}

/* Each [logmetric] as the ingest compiles it; the error at its key ("query: 14: …" at query=). */
static void check_logmetrics(const struct coll_conf *c, const struct conf_origin *o, struct conf_errors *errs)
{
	char where[4200], err[512], key[16];

	const struct alert_defs *d = &c->defs;

	if (d->n_logmetrics > LOGMETRICS_MAX)
		conf_error_add(errs, conf_origin_where(o, d->logmetrics[LOGMETRICS_MAX], NULL, where, sizeof(where)),
			       "[logmetric]: more than %d sections", LOGMETRICS_MAX);
	for (size_t i = 0; i < d->n_logmetrics; i++) {
		struct logmetric_def def = alert_logmetric_def(d->logmetrics[i]);
		if (logmetric_check(&def, err, sizeof(err)) == 0)
			continue;
		(void)snprintf(key, sizeof(key), "%.*s", (int)strcspn(err, ":"), err);
		conf_error_add(errs, conf_origin_where(o, d->logmetrics[i], strcmp(key, "name") ? key : NULL, where,
						       sizeof(where)),
			       "[logmetric \"%s\"] %s", d->logmetrics[i]->name, err);
	}
}

/* Whether path is inside dir (both resolved): a key kept with the data it seals protects nothing. */
static bool path_inside(const char *path, const char *dir)
{
	_cleanup_free_ char *p = realpath(path, NULL), *d = realpath(dir, NULL);
	size_t n = strlen_or_0(d);

	return p && d && strncmp(p, d, n) == 0 && (p[n] == '/' || p[n] == 0);
}

struct key_check {
	const struct storage_conf *s;
	const struct conf_origin *o;
	struct conf_errors *errs;
};

/* One sealing key: where it is (first call, why NULL), then that it loads. */
static bool check_seal_key(const char *key, const char *path, const char *why, void *ctx)
{
	const struct key_check *k = ctx;
	char where[4200];

	conf_origin_where(k->o, k->s, key, where, sizeof(where));
	if (why)
		conf_error_add(k->errs, where, "[storage] %s: %s", key, why);
	else if (path[0] != '/')
		conf_error_add(k->errs, where, "[storage] %s=%s: expected an absolute path", key, path);
	else if (k->s->data_dir && path_inside(path, k->s->data_dir))
		conf_error_add(k->errs, where, "[storage] %s=%s is inside data_dir: whoever can rewrite the store could "
			       "read it; keep it elsewhere", key, path);
	else
		return true;
	return false;
}

/* Whether a libpq URL or connection string carries a password (user:secret@, or password=). */
static bool url_has_password(const char *url)
{
	const char *scheme = strstr(url, "://"), *at = scheme ? strchr(scheme + 3, '@') : NULL;

	return (at && memchr(scheme + 3, ':', (size_t)(at - scheme - 3))) || strstr(url, "password=");
}

static const char *const backends[] = { "sqlite", "postgresql" };

static void check_backend(const struct storage_conf *s, const struct conf_origin *o, struct conf_errors *errs)
{
	char where[4200];
	size_t k = 0;

	while (k < ARRAY_SIZE(backends) && strcmp(s->backend, backends[k]) != 0)
		k++;
	conf_origin_where(o, s, "backend", where, sizeof(where));
	if (k == ARRAY_SIZE(backends))
		conf_error_add(errs, where, "[storage] backend=%s: expected sqlite or postgresql", s->backend);
	else if (storage_conf_shared(s) && !pgstore_built())
		conf_error_add(errs, where, "[storage] backend=postgresql: this vigil-collector was built without "
			       "PostgreSQL (configure found no libpq)");
	else if (storage_conf_shared(s) && !s->url)
		conf_error_add(errs, where, "[storage] backend=postgresql: set url= to the database");
	else if (!storage_conf_shared(s) && s->url)
		conf_error_add(errs, conf_origin_where(o, s, "url", where, sizeof(where)),
			       "[storage] url= is for backend=postgresql (--migrate takes its URL on the command line)");
	if (s->url && url_has_password(s->url))
		conf_error_add(errs, conf_origin_where(o, s, "url", where, sizeof(where)),
			       "[storage] url=: holds a password; put it in password_file= (the config is read by "
			       "more than the collector, and is logged)");
	if (s->password_file && s->password_file[0] != '/')
		conf_error_add(errs, conf_origin_where(o, s, "password_file", where, sizeof(where)),
			       "[storage] password_file=%s: expected an absolute path", s->password_file);
	if (storage_conf_shared(s) && pgstore_built() && !pgstore_dialect_known(s->dialect))
		conf_error_add(errs, conf_origin_where(o, s, "dialect", where, sizeof(where)),
			       "[storage] dialect=%s: expected postgresql", s->dialect);
}

static void check_storage(const struct storage_conf *s, const struct conf_origin *o, struct conf_errors *errs)
{
	char where[4200];
	enum hash_alg alg;

	if (s->hash && (hash_parse(s->hash, &alg) < 0 || !hash_available(alg)))
		conf_error_add(errs, conf_origin_where(o, s, "hash", where, sizeof(where)),
			       "[storage] hash=%s: expected sha256 or sm3 (one this OpenSSL computes)", s->hash);
	if (s->seal_key_file && (s->seal_sign_key || s->seal_verify_key))
		conf_error_add(errs, conf_origin_where(o, s, "seal_key_file", where, sizeof(where)),
			       "[storage] seal_key_file= (HMAC-SM3) and seal_sign_key=/seal_verify_key= (SM2) exclude "
			       "each other");
	else if (s->seal_sign_key && s->seal_verify_key)
		conf_error_add(errs, conf_origin_where(o, s, "seal_verify_key", where, sizeof(where)),
			       "[storage] seal_verify_key= is for who only checks seals: with seal_sign_key= the "
			       "public key is the private key's");
	sealing_keys_check(s, check_seal_key, &(struct key_check){ s, o, errs });
	check_backend(s, o, errs);
}

static void check_enroll(const struct coll_conf *c, const struct conf_origin *o, struct conf_errors *errs)
{
	const struct enroll_conf *e = &c->enroll;
	char where[4200];

	if (!e->ca_cert != !e->ca_key)
		conf_error_add(errs, conf_origin_where(o, e, e->ca_cert ? "ca_cert" : "ca_key", where, sizeof(where)),
			       "[enroll]: ca_cert= and ca_key= go together");
	if (e->ingest_address && strncmp(e->ingest_address, "tls+tcp://", 10) != 0)
		conf_error_add(errs, conf_origin_where(o, e, "ingest_address", where, sizeof(where)),
			       "[enroll] ingest_address=%s: expected tls+tcp://HOST:PORT", e->ingest_address);
	if (!e->enabled)
		return;
	if (!transport_is_tls(&c->ingest.t))
		conf_error_add(errs, conf_origin_where(o, e, "enabled", where, sizeof(where)),
			       "[enroll] enabled=yes: enrolled agents send over TLS; set [ingest] listen=tls+tcp://…"
			       " and its tls_ca=, tls_cert=, tls_key= (docs/operations.md, Enrollment)");
	if (!c->http.tls_cert)
		conf_error_add(errs, conf_origin_where(o, e, "enabled", where, sizeof(where)),
			       "[enroll] enabled=yes: hosts enroll over HTTPS; set [http] tls_cert= and tls_key="
			       " (the collector's own: data_dir/ca/server.pem and server.key)");
}

static void check_values(const void *target, const struct conf_origin *o, struct conf_errors *errs)
{
	const struct coll_conf *c = target;
	const struct target_lookup t = { conf_has_target, &c->defs };
	char where[4200];

	transport_conf_check(&c->ingest.t, "ingest", false, conf_origin_where(o, &c->ingest, "listen", where, sizeof(where)),
			     errs);
	check_storage(&c->storage, o, errs);
	check_enroll(c, o, errs);
	syslog_conf_check(&c->syslog, conf_origin_where(o, &c->syslog, "listen", where, sizeof(where)), errs);
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
	for (size_t i = 0; i < c->defs.n_rules; i++)
		alert_rule_check(c->defs.rules[i], &t, conf_origin_where(o, c->defs.rules[i], NULL, where, sizeof(where)),
				 errs);
	for (size_t i = 0; i < c->defs.n_notifies; i++)
		alert_notify_check(c->defs.notifies[i],
				   conf_origin_where(o, c->defs.notifies[i], NULL, where, sizeof(where)), errs);
	for (size_t i = 0; i < c->defs.n_routes; i++)
		alert_route_check(c->defs.routes[i], &t,
				  conf_origin_where(o, c->defs.routes[i], NULL, where, sizeof(where)), errs);
	check_logmetrics(c, o, errs);
	for (size_t i = 0; i < c->forwards.n; i++)
		forward_conf_check(c->forwards.list[i], o, errs);
}

int coll_conf_load(const char *path, struct coll_conf **ret)
{
	struct coll_conf *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	r = conf_load_report(coll_conf_schema(), path, c, check_values);
	if (r == 0)
		r = alert_defs_add_builtin(&c->defs);
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
		if (sections[i].name && !sections[i].named)
			conf_free_section(&sections[i], (uint8_t *)c + sections[i].offset);
	alert_defs_free(&c->defs);
	forward_defs_free(&c->forwards);
	free(c);
}
