/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <curl/curl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <termios.h>
#include <unistd.h>

#include "alerts/silences.h"
#include "api/accounts.h"
#include "api/usermigrate.h"
#include "api/audit.h"
#include "api/pgaudit.h"
#include "api/roles.h"
#include "collector/coll_conf.h"
#include "common/localship.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/macro.h"
#include "common/util.h"
#include "control/groups.h"
#include "control/vantages.h"
#include "api/http.h"
#include "store/ingest.h"
#include "alerts/notify.h"
#include "dialtests/dialer.h"
#include "enroll/enroll.h"
#include "forward/forward.h"
#include "store/sealing.h"
#include "store/copies.h"
#include "store/migrate.h"
#include "store/storage.h"

/* How soon a config group changed through another collector is in force on this one. */
#define CONFIG_REFRESH_S 10

struct collector {
	struct coll_conf *conf;
	sd_event *event;
	struct storage *storage;
	struct catalog *catalog;
	struct ingest *ingest;
	struct alerting *alerting;
	struct notifier *notifier;
	struct dialtests *dialtests;
	struct dialer *dialer;
	struct dialer_lead dialer_lead; /* the dial-test schedule runs where the alerts are evaluated */
	struct forwarders *forwarders;
	struct audit *audit;
	struct http_server *http;
	sd_event_source *tick;
	uint64_t next_retention_us; /* monotonic */
	struct pgaudit *audit_shared; /* with a shared store: where the audit rows are copied each second */
	sd_event_source *audit_copy;
	bool audit_copy_failing;
	struct sealkey *seal_key;   /* NULL: the store is not sealed */
	struct seal_audit sealed_audit;
	struct seal_shared sealed_shared; /* with a shared store: the chain this collector writes there */
	struct sealer *sealer;      /* NULL: the key can only check */
	sd_event_source *seal_timer;
	struct localship_conf syslog_ship_conf;
	struct localship *syslog_ship;
	struct syslog_receiver *syslog; /* NULL: no [syslog] listen= */
	struct enrollment *enrollment;  /* NULL: [enroll] enabled=no */
	struct config_groups *groups;   /* the agents' central configuration */
};

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct collector *c = userdata;

	(void)sd_notify(false, "STOPPING=1");
	log_info("stopping on signal %u", si->ssi_signo);
	return sd_event_exit(c->event, 0);
}

/* The API's certificates are read again; other settings take effect at restart. */
static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct collector *c = userdata;

	(void)sd_notify(false, "RELOADING=1");
	log_notice("SIGHUP: reloading the API's TLS certificates; other settings take effect at restart.");
	(void)http_reload(c->http);
	(void)sd_notify(false, "READY=1");
	return 0;
}

/* The audit rows to the shared store, each second: an action through any collector is listed by all. */
static int on_audit_copy(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct collector *c = userdata;
	int r = pgaudit_copy(c->audit_shared);

	if (r < 0 && !c->audit_copy_failing)
		log_error_errno(r, "audit: the rows cannot be copied to the shared store (%m); they are kept here and"
				   " copied when it answers");
	else if (r >= 0 && c->audit_copy_failing)
		log_info("audit: the rows are copied to the shared store again");
	c->audit_copy_failing = r < 0;
	(void)sd_event_source_set_time_relative(s, USEC_PER_SEC);
	return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

/* Each failure window (at most a minute): the audit log's counted refusals; hourly: its retention. */
static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct collector *c = userdata;

	http_tick(c->http);
	if (usec >= c->next_retention_us) {
		(void)audit_retention(c->audit, now_realtime_us(), c->conf->audit.retention_days);
		c->next_retention_us = usec + 3600 * USEC_PER_SEC;
	}
	/* Another collector's change to the config groups reaches this one's agents within CONFIG_REFRESH_S. */
	if (config_groups_refresh(c->groups) < 0)
		log_warning("config groups: cannot read the shared store now; those in force stay");
	(void)sd_event_source_set_time_relative(s, MIN(c->conf->audit.auth_failure_window_ms * 1000,
						       CONFIG_REFRESH_S * USEC_PER_SEC));
	return 0;
}

static uint32_t config_generation(void *groups)
{
	return config_groups_generation(groups);
}

static int config_compose(void *groups, const char *labels, const char *agent, struct buf *out, struct buf *tests,
			  uint32_t *version)
{
	return config_groups_compose(groups, labels, agent, out, tests, version);
}

/*
 * A dial test's fail_when, for the rules that judge it across its vantage
 * points, and whether a host of labels (JSON; NULL: the collector) is one.
 */
static bool dialtest_quorum(void *dialtests, const char *name, const char *labels, struct rule_quorum *ret)
{
	const struct dialtests_snapshot *s = dialtests_get(dialtests);
	const struct dialtest_entry *e = dialtests_find_name(s, name);
	bool vantage = e && (labels ? dialtest_runs_on(e->test, labels) : e->test->on_collector);

	if (e)
		*ret = (struct rule_quorum){ e->test->fail_k, e->test->fail_n, e->test->interval_us };
	dialtests_release(s);
	return vantage;
}

static bool dialtest_on_agents(void *dialtests, uint64_t id)
{
	const struct dialtests_snapshot *s = dialtests_get(dialtests);
	const struct dialtest_entry *e = id <= INT64_MAX ? dialtests_find(s, (int64_t)id) : NULL;
	bool on = e && e->test->n_vantages;

	dialtests_release(s);
	return on;
}

/* The log rules ingest matches each batch's records with, as the catalog has them now. */
static struct logmatch *log_rules_now(void *catalog)
{
	return catalog_logmatch(catalog);
}

/* The log metrics ingest feeds each batch's records to, as the catalog has them now. */
static struct logmetrics *log_metrics_now(void *catalog)
{
	return catalog_logmetrics(catalog);
}

/* What a [forward] of what=alerts reads. */
static bool cert_revoked(void *enrollment, const char *serial)
{
	return enrollment_revoked(enrollment, serial);
}

static int alert_events(void *alerting, int64_t after, unsigned limit, json_t **ret)
{
	return alerting_events(alerting, after, limit, ret);
}

/* What a [forward] of what=audit reads: every row, oldest first. */
static int audit_rows(void *audit, int64_t after, unsigned limit, json_t **items, int64_t *last)
{
	return audit_query(audit, &(struct audit_filter){ .after = after, .limit = limit }, items, last);
}

/* What a device sent by syslog: stored under its own identity, as an agent's batch. */
static void syslog_to_store(void *ship, const uint8_t sender[16], const struct buf *records, uint32_t n)
{
	localship_put(ship, sender, records, n);
}

static int syslog_setup(struct collector *c)
{
	int r;

	if (!c->conf->syslog.listen)
		return 0;
	/* The receiver gathers each device's records itself. */
	c->syslog_ship_conf = (struct localship_conf){ "syslog", c->conf->syslog.queue, 4, 0, &metrics.syslog_dropped,
						       "vigil_syslog_dropped_total" };
	r = localship_start(INGEST_RELAY_URL, &c->syslog_ship_conf, &c->syslog_ship);
	if (r == 0)
		r = syslog_start(&c->conf->syslog, &(struct syslog_sink){ syslog_to_store, c->syslog_ship }, &c->syslog);
	return r;
}

/* Each seal_interval, from the start: the seals of what changed. */
static int on_seal_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct collector *c = userdata;

	(void)sealer_run(c->sealer, now_realtime_us());
	return sd_event_source_set_time_relative(s, c->conf->storage.seal_interval_ms * 1000);
}

static int shared_head(void *ctx, char ret_name[CHAIN_SHARED_NAME], int64_t *ret_pos, uint8_t ret_hash[HASH_SIZE])
{
	storage_shared_head(ctx, ret_name, ret_pos, ret_hash);
	return 0;
}

/* The seal key, and the sealer when the key can sign: the first seals as the loop starts. */
static int sealing_setup(struct collector *c)
{
	const struct storage_conf *sc = &c->conf->storage;
	char err[512];
	int r = sealing_key(sc, &c->seal_key, err, sizeof(err));

	if (r < 0)
		return log_error_errno(r, "[storage] %s", err);
	if (!c->seal_key || !sealkey_can_sign(c->seal_key))
		return 0;
	c->sealed_audit = audit_sealed(c->audit);
	c->sealed_shared = (struct seal_shared){ .head = shared_head, .ctx = c->storage };
	r = sealer_open(sc->data_dir, sc->sync, c->seal_key, storage_hash(c->storage), &c->sealed_audit,
			storage_conf_shared(sc) ? &c->sealed_shared : NULL, &c->sealer);
	if (r < 0)
		return log_error_errno(r, "cannot open the seals in %s: %m", sc->data_dir);
	r = sd_event_add_time_relative(c->event, &c->seal_timer, CLOCK_MONOTONIC, 0, USEC_PER_SEC / 10, on_seal_timer,
				       c);
	if (r < 0)
		return log_error_errno(r, "event loop setup: %m");
	r = sd_event_source_set_enabled(c->seal_timer, SD_EVENT_ON);
	if (r < 0)
		return log_error_errno(r, "event loop setup: %m");
	log_info("seals: the store is sealed with %s (key %s) every %" PRIu64 " s and at each day's end",
		 sealkey_method(c->seal_key), sealkey_id(c->seal_key), sc->seal_interval_ms / 1000);
	return 0;
}

static int collector_setup(struct collector *c)
{
	sigset_t ss;
	int r;

	r = storage_open(c->conf->storage.data_dir, c->conf->storage.sync ? DB_SYNC_FULL : DB_SYNC_NORMAL,
			 storage_conf_hash(&c->conf->storage), &c->storage);
	if (r == 0)
		r = storage_share(c->storage, &c->conf->storage);
	if (r < 0)
		return r;
	r = sd_event_default(&c->event);
	if (r < 0)
		return r;
	(void)sigemptyset(&ss);
	(void)sigaddset(&ss, SIGTERM);
	(void)sigaddset(&ss, SIGINT);
	(void)sigaddset(&ss, SIGHUP);
	/* Blocked before nng and MHD start threads, so only the event loop sees them. */
	(void)sigprocmask(SIG_BLOCK, &ss, NULL);
	(void)signal(SIGPIPE, SIG_IGN);
	/* Before any thread: curl's global setup is not thread-safe. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return log_error_errno(ENOMEM, "cannot set up libcurl");
	if ((r = sd_event_add_signal(c->event, NULL, SIGTERM, on_signal, c)) < 0 ||
	    (r = sd_event_add_signal(c->event, NULL, SIGINT, on_signal, c)) < 0 ||
	    (r = sd_event_add_signal(c->event, NULL, SIGHUP, on_sighup, c)) < 0)
		return log_error_errno(r, "event loop setup: %m");
	(void)sd_event_set_watchdog(c->event, true);
	r = catalog_open(&c->conf->storage, &c->conf->defs, &c->catalog);
	if (r < 0)
		return log_error_errno(r, "cannot read the rules and targets defined through the API: %m");
	/* Before ingest and the API: it issues the certificate they may serve with. */
	if (c->conf->enroll.enabled) {
		r = enrollment_open(&c->conf->enroll, c->conf->storage.data_dir, &c->enrollment);
		if (r < 0)
			return log_error_errno(r, "cannot set up enrollment: %m");
	}
	r = dialtests_open(&c->conf->dialtests, &c->conf->storage, &c->dialtests);
	if (r < 0)
		return log_error_errno(r, "cannot read the dial tests: %m");
	r = config_groups_open(&c->conf->storage, &c->groups);
	if (r < 0)
		return log_error_errno(r, "cannot read the config groups: %m");
	/* Before ingest answers on its threads: the tests agents run go with their configuration. */
	config_groups_set_dialtests(c->groups, c->dialtests);
	r = ingest_start(&c->conf->ingest, &c->conf->storage, c->storage,
			 &(struct ingest_rules){ log_rules_now, log_metrics_now, c->catalog, cert_revoked, c->enrollment,
						 config_generation, config_compose, c->groups, dialtest_on_agents,
						 c->dialtests },
			 &c->ingest);
	if (r < 0)
		return r;
	r = alerting_start(&(struct alerting_env){ .alerts = &c->conf->alerts, .hosts = &c->conf->hosts,
						   .storage = &c->conf->storage, .file = &c->conf->defs,
						   .api_listen = c->conf->http.listen,
						   .api_tls = c->conf->http.tls_cert != NULL,
						   .dialtest_quorum = dialtest_quorum, .quorum_ctx = c->dialtests },
			   c->catalog, c->event, &c->alerting);
	if (r < 0)
		return log_error_errno(r, "cannot start alert evaluation: %m");
	r = notifier_start(&c->conf->storage, c->catalog, c->event, &c->notifier);
	if (r < 0)
		return log_error_errno(r, "cannot start notifications: %m");
	ingest_on_stored(c->ingest, alerting_poke, c->alerting);
	r = syslog_setup(c);
	if (r < 0)
		return r;
	alerting_on_enqueued(c->alerting, notifier_kick, c->notifier);
	c->dialer_lead = (struct dialer_lead){ alerting_leads, c->alerting };
	r = dialer_start(&c->conf->dialtests, c->dialtests, &c->dialer_lead, c->event, &c->dialer);
	if (r < 0)
		return log_error_errno(r, "cannot start the dial tests: %m");
	r = audit_open(c->conf->storage.data_dir, storage_conf_hash(&c->conf->storage), &c->audit);
	if (r < 0)
		return log_error_errno(r, "cannot open the audit log in %s: %m", c->conf->storage.data_dir);
	if (storage_conf_shared(&c->conf->storage)) {
		r = pgaudit_open(&c->conf->storage, c->audit, &c->audit_shared);
		if (r == 0)
			r = sd_event_add_time_relative(c->event, &c->audit_copy, CLOCK_MONOTONIC, 0, USEC_PER_SEC / 10,
						       on_audit_copy, c);
		if (r < 0)
			return log_error_errno(r, "cannot copy the audit log to the shared store: %m");
	}
	r = sealing_setup(c);
	if (r < 0)
		return r;
	r = forwarders_start(&c->conf->forwards, &c->conf->storage,
			     &(struct forward_sources){ alert_events, c->alerting, audit_rows, c->audit }, &c->forwarders);
	if (r < 0)
		return r;
	r = http_start(&(struct api_env){ .http = &c->conf->http, .storage = &c->conf->storage,
					  .hosts = &c->conf->hosts, .audit = &c->conf->audit, .users = &c->conf->users,
					  .ingest_listen = c->conf->ingest.t.address },
		       &(struct http_deps){ .audit = c->audit, .audit_shared = c->audit_shared, .alerting = c->alerting,
					    .catalog = c->catalog, .groups = c->groups, .dialtests = c->dialtests, .dialer = c->dialer, .seal_key = c->seal_key,
					    .enrollment = c->enrollment,
					    .store_hash = storage_hash(c->storage) },
		       &c->http);
	if (r < 0)
		return r;
	r = sd_event_add_time_relative(c->event, &c->tick, CLOCK_MONOTONIC, 0, USEC_PER_SEC / 10, on_tick, c);
	if (r < 0)
		return log_error_errno(r, "event loop setup: %m");
	return sd_event_source_set_enabled(c->tick, SD_EVENT_ON);
}

static void collector_done(struct collector *c)
{
	/* An API call waiting for a dial test's run would wait out its timeouts: the loop no longer turns. */
	dialer_cancel(c->dialer);
	sd_event_source_disable_unref(c->tick);
	http_stop(c->http);
	forwarders_stop(c->forwarders);
	/* What the API recorded last is sealed before the log closes. */
	sd_event_source_disable_unref(c->seal_timer);
	if (c->sealer)
		(void)sealer_run(c->sealer, now_realtime_us());
	sealer_free(c->sealer);
	sealkey_free(c->seal_key);
	/* The API's last rows copied while the database answers; else at the next start. */
	sd_event_source_disable_unref(c->audit_copy);
	if (c->audit_shared)
		(void)pgaudit_copy(c->audit_shared);
	pgaudit_free(c->audit_shared);
	audit_close(c->audit);
	/* Before ingest: they ship what is still queued through it. */
	syslog_stop(c->syslog);
	localship_stop(c->syslog_ship);
	dialer_stop(c->dialer);
	/* Ingest before the alerting: its writer pokes the alerting. */
	ingest_stop(c->ingest);
	/* After ingest: its threads compose the tests agents run. */
	dialtests_free(c->dialtests);
	notifier_stop(c->notifier);
	alerting_stop(c->alerting);
	enrollment_free(c->enrollment);
	catalog_free(c->catalog);
	config_groups_free(c->groups);
	storage_free(c->storage);
	sd_event_unref(c->event);
	coll_conf_free(c->conf);
}

/* An action taken on this machine's command line, in the audit log as "local:USER". */
static void audit_local(const struct coll_conf *conf, const char *action, const char *object, bool success)
{
	const struct passwd *pw = getpwuid(getuid());
	struct audit *a;
	char user[160];

	(void)snprintf(user, sizeof(user), "local:%s", pw ? pw->pw_name : "?");
	if (audit_open(conf->storage.data_dir, storage_conf_hash(&conf->storage), &a) < 0)
		return;
	(void)audit_record(a, &(struct audit_event){ .user = user, .role = "-", .action = action, .object = object,
						     .success = success, .source = "local" });
	audit_close(a);
}

static int create_token(const struct coll_conf *conf, const char *name, const char *role)
{
	char *token = NULL, object[512], why[160];
	struct accounts *a;
	int r;

	if (role_check(role, why, sizeof(why)))
		return log_error_errno(EINVAL, "--role %s: %s", role, why);
	/* Where the collector keeps them: meta.db (safe while it runs, and before it ever did), or the database. */
	r = accounts_open(&conf->storage, &conf->users, &a);
	if (r == 0) {
		r = accounts_token_create(a, name, role, now_realtime_us(), &token);
		accounts_free(a);
	}
	(void)snprintf(object, sizeof(object), "token %s (role %s)", name, role);
	audit_local(conf, "token.create", object, r == 0);
	if (r == -EEXIST)
		return log_error_errno(r, "a token named '%s' exists already", name);
	if (r < 0)
		return log_error_errno(r, "cannot create token: %m");
	printf("%s\n", token);
	free(token);
	return 0;
}

/*
 * The password for --create-user: standard input's first line; on a
 * terminal it is asked for twice, not echoed. -EINVAL when the two differ.
 */
static int read_password(char *pw, size_t size)
{
	bool tty = isatty(STDIN_FILENO);
	struct termios old, quiet;
	char again[PASSWORD_MAX + 2];
	int r = 0;

	if (tty && tcgetattr(STDIN_FILENO, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	if (tty)
		(void)fputs("password: ", stderr);
	if (!fgets(pw, (int)size, stdin))
		r = -EINVAL;
	if (r == 0 && tty) {
		(void)fputs("\nagain: ", stderr);
		if (!fgets(again, sizeof(again), stdin) || strcmp(again, pw) != 0)
			r = log_error_errno(EINVAL, "the two passwords differ");
		(void)fputs("\n", stderr);
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	}
	explicit_bzero(again, sizeof(again));
	pw[strcspn(pw, "\r\n")] = 0;
	return r;
}

/* --create-user NAME --role ROLE: the first admin, with a password of their own (no change asked). */
static int create_user(const struct coll_conf *conf, const char *name, const char *role)
{
	char pw[PASSWORD_MAX + 2], why[256], object[256];
	struct accounts *a;
	int r;

	if (role_check(role, why, sizeof(why)))
		return log_error_errno(EINVAL, "--role %s: %s", role, why);
	r = read_password(pw, sizeof(pw));
	if (r == 0)
		r = accounts_open(&conf->storage, &conf->users, &a);
	if (r == 0) {
		r = accounts_create(a, name, role, pw, false, now_realtime_us(), why, sizeof(why));
		accounts_free(a);
		if (r < 0)
			log_error("--create-user %s: %s", name, r == -EINVAL || r == -EEXIST ? why : strerror(-r));
	}
	explicit_bzero(pw, sizeof(pw));
	(void)snprintf(object, sizeof(object), "user %s (role %s)", name, role);
	audit_local(conf, "user.create", object, r == 0);
	if (r == 0)
		printf("user %s (%s) created\n", name, role);
	return r;
}

static void print_problem(uint32_t day, int64_t block, const char *what, void *userdata)
{
	printf("shard %u block %" PRId64 ": %s\n", day, block, what);
}

/* Checks the audit log's hash chain: -EUCLEAN if a row was changed or removed. */
static int verify_audit(struct audit *a)
{
	uint64_t rows;
	int64_t bad;
	int r = audit_verify(a, &rows, &bad);

	if (r < 0)
		return log_error_errno(r, "verify: cannot read the audit log: %m");
	if (bad)
		printf("audit log: row %" PRId64 " does not match the chain (changed, or a row before it removed)\n",
		       bad);
	printf("%" PRIu64 " audit rows checked (%s), %s\n", rows, hash_name(audit_hash(a)),
	       bad ? "chain broken" : "chain intact");
	return bad ? -EUCLEAN : 0;
}

static void print_seal_problem(int64_t seal, const char *what, void *userdata)
{
	printf("seal %" PRId64 ": %s\n", seal, what);
}

/* Checks the seals with the configured key: -EUCLEAN on any problem. */
static int verify_seals(const struct coll_conf *conf, struct storage_reader *rd, struct audit *a)
{
	const struct storage_conf *sc = &conf->storage;
	struct seal_audit sealed = audit_sealed(a);
	struct seal_shared shared;
	struct seals_report rep;
	struct sealkey *key;
	struct pgstore *pg = NULL;
	char err[512], when[64];
	int r = sealing_key(sc, &key, err, sizeof(err));

	if (r < 0)
		return log_error_errno(r, "[storage] %s", err);
	if ((r = storage_reader_shared(rd, &pg)) < 0) {
		sealkey_free(key);
		return log_error_errno(r, "verify: cannot reach PostgreSQL for the seals: %m");
	}
	shared = copies_sealed(pg);
	r = seals_verify(rd, key, &sealed, pg ? &shared : NULL,
			 storage_retention_cutoff(now_realtime_us(), sc->retention_days), 1000, print_seal_problem, NULL,
			 &rep);
	if (r < 0) {
		sealkey_free(key);
		return log_error_errno(r, "verify: cannot read the seals: %m");
	}
	format_rfc3339_us(rep.newest_made, when, sizeof(when));
	printf("%" PRIu64 " seals checked", rep.checked);
	if (key)
		printf(" (%s, key %s)", sealkey_method(key), sealkey_id(key));
	if (rep.unchecked)
		printf(", %" PRIu64 " not checked: no seal key in the configuration", rep.unchecked);
	if (rep.expired)
		printf(", %" PRIu64 " of days retention removed", rep.expired);
	printf(", newest %s, %d problems\n", rep.newest_made ? when : "none", rep.problems);
	sealkey_free(key);
	return rep.problems ? -EUCLEAN : 0;
}

/* With a shared store: the database's copies of this store's blocks, -EUCLEAN if one is altered or missing. */
static int verify_copies(const struct coll_conf *conf, struct storage_reader *rd)
{
	struct copies_report rep;
	int r;

	if (!storage_conf_shared(&conf->storage))
		return 0;
	r = storage_verify_copies(rd, &conf->storage, 1000, print_problem, NULL, &rep);
	if (r < 0)
		return log_error_errno(r, "verify: cannot check the blocks in PostgreSQL: %m");
	printf("%" PRIu64 " blocks checked in PostgreSQL: %" PRIu64 " the same, %" PRIu64 " altered, %" PRIu64
	       " missing, %" PRIu64 " received in the last seconds and not there yet\n", rep.checked, rep.same,
	       rep.altered, rep.missing, rep.pending);
	return rep.altered || rep.missing ? -EUCLEAN : 0;
}

static void print_shared_problem(uint32_t day, int64_t block, const char *what, void *userdata)
{
	(void)userdata;
	printf("PostgreSQL day %u block %" PRId64 ": %s\n", day, block, what);
}

/* With a shared store: every collector's chains in it, -EUCLEAN on any problem. */
static int verify_chains(struct storage_reader *rd)
{
	struct pgstore_chains_check v = { .max_problems = 1000, .problem = print_shared_problem };
	struct pgstore *pg;
	int r = storage_reader_shared(rd, &pg);

	if (r == 1)
		r = pgstore_verify_chains(pg, &v);
	else if (r == 0)
		return 0;
	if (r < 0)
		return log_error_errno(r, "verify: cannot walk the chains in PostgreSQL: %m");
	printf("%" PRIu64 " chains walked in PostgreSQL, %" PRIu64 " blocks, %" PRIu64 " in no chain, %" PRIu64
	       " problems\n", v.chains, v.blocks, v.unchained, v.problems);
	return v.problems ? -EUCLEAN : 0;
}

/* Checks the stored blocks' and the audit log's hash chains and the seals; safe while the collector runs. */
static int verify(const struct coll_conf *conf)
{
	struct storage_reader *rd;
	struct audit *a;
	uint64_t blocks = 0;
	int r = storage_reader_open(conf->storage.data_dir, &rd), ra, rs, rc;

	if (r < 0)
		return log_error_errno(r, "cannot open the store in %s: %m", conf->storage.data_dir);
	/* One connection to the shared store for the chains' walk and the seals. */
	storage_reader_share(rd, &conf->storage);
	r = audit_open(conf->storage.data_dir, storage_conf_hash(&conf->storage), &a);
	if (r < 0) {
		storage_reader_free(rd);
		return log_error_errno(r, "cannot open the audit log in %s: %m", conf->storage.data_dir);
	}
	r = storage_verify(rd, &blocks, 1000, print_problem, NULL);
	if (r < 0)
		log_error_errno(r, "verify: cannot read the store: %m");
	else
		printf("%" PRIu64 " blocks checked, %d problems\n", blocks, r);
	rc = verify_copies(conf, rd);
	rc = verify_chains(rd) < 0 ? -EUCLEAN : rc;
	ra = verify_audit(a);
	rs = verify_seals(conf, rd, a);
	audit_close(a);
	storage_reader_free(rd);
	return r || rc < 0 || ra < 0 || rs < 0 ? -EUCLEAN : 0;
}

/* --migrate URL: the definitions made through the API, and the dial tests with their history. */
static int migrate_definitions(const struct coll_conf *conf, const char *url)
{
	struct dialtests_copy dc;
	struct defs_copy df;
	int r, d;

	r = defs_migrate(conf->storage.data_dir, url, conf->storage.password_file, &df);
	if (r == 0 || r == -EUCLEAN)
		printf("%" PRIu64 " definitions: %" PRIu64 " copied, %" PRIu64 " there already; %" PRIu64
		       " verified in PostgreSQL\n", df.defs, df.copied, df.present, df.verified);
	if (r < 0 && r != -EUCLEAN)
		return r;
	d = dialtests_migrate(conf->storage.data_dir, url, conf->storage.password_file, &dc);
	if (d == 0 || d == -EUCLEAN)
		printf("%" PRIu64 " dial tests, %" PRIu64 " changes of them: %" PRIu64 " copied, %" PRIu64
		       " there already; %" PRIu64 " verified in PostgreSQL\n", dc.tests, dc.changes, dc.copied, dc.present,
		       dc.verified);
	return r < 0 ? r : d;
}

/*
 * --migrate URL: the store's blocks and fleet, then its users and tokens, then its silences and its alerts
 * (their events, the notifications), then the definitions and dial tests made through the API, copied into
 * PostgreSQL ([storage] password_file= and dialect= apply).
 */
static int migrate(const struct coll_conf *conf, const char *url)
{
	struct storage_conf to = conf->storage;
	struct usermigrate_report u;
	struct migrate_report rep;
	struct silences_copy sc;
	struct alerts_copy ac;
	int r, k, q, a, d;

	to.url = (char *)url;
	r = storage_migrate(conf->storage.data_dir, &to, &rep);
	if (r == 0 || r == -EUCLEAN)
		printf("%" PRIu64 " blocks of %u days: %" PRIu64 " copied, %" PRIu64 " there already, %" PRIu64
		       " conflicting (not copied), %" PRIu64 " unreadable, %" PRIu64 " without their rows; %" PRIu64
		       " verified in PostgreSQL\n",
		       rep.blocks, rep.days, rep.copied, rep.present, rep.conflicts, rep.unreadable, rep.underived,
		       rep.verified);
	if (r == 0 || r == -EUCLEAN)
		printf("%" PRIu64 " hosts: %" PRIu64 " copied, %" PRIu64 " there already; %" PRIu64 " probes: %" PRIu64
		       " copied, %" PRIu64 " there already; %" PRIu64 " verified in PostgreSQL\n",
		       rep.fleet.hosts, rep.fleet.hosts_copied, rep.fleet.hosts_present, rep.fleet.probes,
		       rep.fleet.probes_copied, rep.fleet.probes_present, rep.fleet.verified);
	if (r < 0 && r != -EUCLEAN)
		return r;
	k = usermigrate_run(conf->storage.data_dir, url, conf->storage.password_file, &u);
	if (k == 0 || k == -EUCLEAN)
		printf("%" PRIu64 " users: %" PRIu64 " copied, %" PRIu64 " there already; %" PRIu64 " tokens: %" PRIu64
		       " copied, %" PRIu64 " there already; %" PRIu64 " verified in PostgreSQL\n",
		       u.users, u.users_copied, u.users_present, u.tokens, u.tokens_copied, u.tokens_present, u.verified);
	if (k < 0 && k != -EUCLEAN)
		return k;
	q = silences_migrate(conf->storage.data_dir, url, conf->storage.password_file, &sc);
	if (q == 0 || q == -EUCLEAN)
		printf("%" PRIu64 " silences: %" PRIu64 " copied, %" PRIu64 " there already; %" PRIu64
		       " verified in PostgreSQL\n", sc.silences, sc.copied, sc.present, sc.verified);
	if (q < 0 && q != -EUCLEAN)
		return q;
	a = alerts_migrate(conf->storage.data_dir, url, conf->storage.password_file, &ac);
	if (a == 0 || a == -EUCLEAN)
		printf("%" PRIu64 " alerts, %" PRIu64 " events, %" PRIu64 " notifications: %" PRIu64 " copied, %" PRIu64
		       " there already; %" PRIu64 " verified in PostgreSQL\n", ac.alerts, ac.events, ac.notifications,
		       ac.copied, ac.present, ac.verified);
	if (a < 0 && a != -EUCLEAN)
		return a;
	d = migrate_definitions(conf, url);
	return r < 0 ? r : k < 0 ? k : q < 0 ? q : a < 0 ? a : d;
}

static void usage(FILE *f)
{
	(void)fprintf(f, "Usage: vigil-collector --config FILE [--check-config]\n"
			 "       vigil-collector --config FILE --create-token NAME --role ROLE\n"
			 "       vigil-collector --config FILE --create-user NAME --role ROLE < password\n"
			 "       (ROLE: viewer, operator, admin, security or auditor)\n"
			 "       vigil-collector --config FILE --verify\n"
			 "       vigil-collector --config FILE --migrate postgresql://…\n"
			 "       vigil-collector --version\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "create-token", required_argument, NULL, 't' },
		{ "create-user", required_argument, NULL, 'u' },
		{ "role", required_argument, NULL, 'r' },
		{ "verify", no_argument, NULL, 'y' },
		{ "migrate", required_argument, NULL, 'm' },
		{ "version", no_argument, NULL, 'V' },
		{ "list-config-keys", no_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct collector c = { 0 };
	const char *config = NULL, *token = NULL, *user = NULL, *role = NULL, *migrate_to = NULL;
	bool check = false, verify_only = false;
	int opt, r;

	log_setup("vigil-collector");
	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) >= 0) {
		switch (opt) {
		case 'c': config = optarg; break;
		case 'C': check = true; break;
		case 't': token = optarg; break;
		case 'u': user = optarg; break;
		case 'r': role = optarg; break;
		case 'y': verify_only = true; break;
		case 'm': migrate_to = optarg; break;
		case 'V': printf("vigil-collector %s\n", PACKAGE_VERSION); return 0;
		case 'K': conf_schema_print(coll_conf_schema(), stdout); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!config || optind != argc || (token && user) || (!!(token || user) != !!role)) {
		usage(stderr);
		return 2;
	}
	if (coll_conf_load(config, &c.conf) < 0)
		return 1;
	if (check) {
		r = dialtests_check_dir(&c.conf->dialtests);
		if (r == 0)
			printf("%s: OK\n", config);
		coll_conf_free(c.conf);
		return r ? 1 : 0;
	}
	if (migrate_to) {
		r = migrate(c.conf, migrate_to);
		coll_conf_free(c.conf);
		return r < 0 ? 1 : 0;
	}
	if (verify_only) {
		r = verify(c.conf);
		coll_conf_free(c.conf);
		return r < 0 ? 1 : 0;
	}
	if (token || user) {
		r = token ? create_token(c.conf, token, role) : create_user(c.conf, user, role);
		coll_conf_free(c.conf);
		return r < 0 ? 1 : 0;
	}
	r = collector_setup(&c);
	if (r == 0) {
		(void)sd_notifyf(false, "READY=1\nSTATUS=ingest on %s, API on %s", c.conf->ingest.t.address,
				 c.conf->http.listen);
		log_info("started: ingest on %s, API on http%s://%s, data in %s", c.conf->ingest.t.address,
			 c.conf->http.tls_cert ? "s" : "", c.conf->http.listen, c.conf->storage.data_dir);
		r = sd_event_loop(c.event);
	}
	collector_done(&c);
	return r < 0 ? 1 : 0;
}
