/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_COLL_CONF_H
#define VIGIL_COLL_CONF_H

#include <stdbool.h>
#include <stdint.h>

#include "common/conf.h"
#include "common/transport.h"

/* One [rule "NAME"] section: when alerts open, and how they behave. */
struct rule_conf {
	char *name;
	char *type;     /* probe, host_silent, metric, log or dialtest */
	char *severity; /* info, warning, critical or disaster */
	char *summary;  /* a template: {{host}}, {{probe}}, {{instance}}, {{value}}, {{rule}}, any label */
	uint64_t for_ms;
	char *host;     /* glob on host names */
	char *labels;   /* "k=v k=v", added to the alerts' labels */
	char *probe;    /* probe: glob on probe names */
	uint64_t consecutive; /* probe: results not ok in a row */
	uint64_t silent_for_ms; /* host_silent */
	char *metric;   /* metric: "<set>.<field>", e.g. filesystem.used_pct */
	char *instance; /* metric: glob on the instance (a mount, a disk, an interface) */
	char *above, *below, *recover; /* metric: numbers; one of above and below */
	char *pattern;  /* log: extended regex on MESSAGE */
	char *unit, *source; /* log: globs */
	uint64_t count;     /* log: matches within window_ms (0: 1) */
	uint64_t window_ms; /* log (0: 5 minutes) */
	char *dialtest;  /* dialtest: glob on test names */
	char *condition; /* dialtest: failure, latency (above= ms) or cert_days (below= days) */
	uint64_t flap_changes;
	uint64_t flap_window_ms;
	bool clear_ack_on_recovery;
	char *notify;   /* target names, space-separated */
	uint64_t escalate_after_ms; /* firing and unacknowledged this long: tell escalate_to */
	char *escalate_to;
};

/* One [notify "NAME"] section: where alerts are sent. */
struct notify_conf {
	char *name;
	char *type;        /* webhook, dingtalk, wecom, feishu or email */
	char *url;         /* email: smtp://HOST[:PORT] or smtps:// */
	char *secret;      /* dingtalk, feishu: the robot's signing secret; email: the password */
	char *secret_file; /* the same, read from a file (first line) */
	char *lang;        /* zh or en */
	char *tls_ca;      /* CA file the server's certificate is checked against (default the system's) */
	char *from;        /* email: the sender address */
	char *to;          /* email: recipient addresses, space-separated */
	char *username;    /* email: SMTP AUTH user (with secret) */
	bool starttls;     /* email over smtp://: require STARTTLS */
	uint64_t rate_limit; /* chat robots: messages a minute (0: the type's: DingTalk, WeCom 20, Feishu 100) */
};

/* One [route "NAME"] section: alerts whose labels match go to its targets too. */
struct route_conf {
	char *name;
	char *match;  /* "key=glob key=glob" on labels, rule and severity */
	char *notify; /* target names, space-separated */
};

/* The collector's configuration; owns every string in it. */
struct coll_conf {
	struct {
		struct transport_conf t;
		uint64_t contexts;
		uint64_t per_agent;
		uint64_t max_message;
		uint64_t max_raw;
		uint64_t max_records;
		uint64_t max_field;
	} ingest;
	struct {
		char *data_dir;
		bool sync;
		uint64_t retention_days;
	} storage;
	struct {
		char *listen;
		uint64_t threads;
		uint64_t connections;
		uint64_t per_address;
		uint64_t idle_timeout_ms;
		uint64_t max_limit;
		uint64_t scan_budget;
		uint64_t max_answer;
		char *tls_cert, *tls_key, *tls_client_ca;
	} http;
	struct {
		uint64_t silent_after_ms;
	} hosts;
	struct {
		uint64_t interval_ms;
		char *console_url;
	} alerts;
	struct {
		char *dir;
		uint64_t concurrency;
		uint64_t per_host;
		char *host;
		uint64_t queue;
		char *secrets_dir, *secrets_env;
	} dialtests;
	struct {
		uint64_t retention_days;
		uint64_t session_idle_ms;
		uint64_t auth_failure_window_ms;
	} audit;
	struct rule_conf **rules;
	size_t n_rules;
	struct notify_conf **notifies;
	size_t n_notifies;
	struct route_conf **routes;
	size_t n_routes;
};

/* The target named name, or NULL. */
const struct notify_conf *coll_conf_notify(const struct coll_conf *c, const char *name);

extern const struct conf_schema coll_conf_schema;
/* The rule coll_conf_load() adds unless the file has one of type agent_conflict. */
#define BUILTIN_CONFLICT_RULE "agent-id-conflict"
/* The [rule] and [notify] sections: the API fills its definitions through them too. */
extern const struct conf_section *const coll_conf_rule_section, *const coll_conf_notify_section;

/* Whether a [notify] target called name exists, wherever targets are kept. */
struct target_lookup {
	bool (*has)(const void *userdata, const char *name);
	const void *userdata;
};
/* The checks across keys of one rule and one target; errors "where: [rule \"NAME\"] ..." into errs. */
void coll_conf_check_rule(const struct rule_conf *r, const struct target_lookup *t, const char *where,
			  struct conf_errors *errs);
void coll_conf_check_notify(const struct notify_conf *n, const char *where, struct conf_errors *errs);

/* Loads path; on error prints file:line messages to stderr. */
int coll_conf_load(const char *path, struct coll_conf **ret);
void coll_conf_free(struct coll_conf *c);

#endif
