/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_DEFS_H
#define VIGIL_DEFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/conf.h"
#include "search/logmetric.h"

/*
 * What alerting is told to do, as the [rule "NAME"], [notify "NAME"],
 * [route "NAME"] and [logmetric "NAME"] sections of collector.conf (and the
 * API, through the same key tables) define it: the structs, their key
 * tables and the checks across keys. The kinds (rule types, channels) come
 * from their own ops tables (alerts/rules.h, alerts/channel.h).
 */

/* One [rule "NAME"] section: when alerts open, and how they behave. */
struct rule_conf {
	char *name;
	char *type;     /* a rule type's name (alerts/rules.h) */
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
	char *vantage;   /* dialtest, failure: glob on vantages, each apart; NULL: the quorum */
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
	char *type;        /* a channel's name (alerts/channel.h) */
	char *url;         /* email: smtp://HOST[:PORT] or smtps:// */
	char *secret;      /* dingtalk, feishu: the robot's signing secret; email: the password */
	char *secret_file; /* the same, read from a file (first line) */
	char *lang;        /* zh or en */
	char *tls_ca;      /* CA file the server's certificate is checked against (default the system's) */
	char *from;        /* email: the sender address */
	char *to;          /* email: recipient addresses, space-separated */
	char *username;    /* email: SMTP AUTH user (with secret) */
	bool starttls;     /* email over smtp://: require STARTTLS */
	uint64_t rate_limit; /* chat robots: messages a minute (0: the channel's) */
};

/* One [route "NAME"] section: alerts whose labels match go to its targets too. */
struct route_conf {
	char *name;
	char *match;  /* "key=glob key=glob" on labels, rule and severity */
	char *notify; /* target names, space-separated */
};

/*
 * One [logmetric "NAME"] section: the log records a query matches, counted
 * (and a field measured) per step at ingest, read by metric rules as
 * log.NAME.STAT (search/logmetric.h).
 */
struct logmetric_conf {
	char *name;
	char *query;
	char *value;
	char *labels;
	uint64_t step_ms;
};

/* What a file's sections define; owns every struct in it (alert_defs_free()). */
struct alert_defs {
	struct rule_conf **rules;
	size_t n_rules;
	struct notify_conf **notifies;
	size_t n_notifies;
	struct route_conf **routes;
	size_t n_routes;
	struct logmetric_conf **logmetrics;
	size_t n_logmetrics;
};

/*
 * The sections' key tables, for a schema (instance is NULL: the schema's
 * owner appends instances to its struct alert_defs with the functions
 * below) and for definitions given through the API (conf_instance_fill()).
 */
extern const struct conf_section alert_rule_section, alert_notify_section, alert_route_section,
	alert_logmetric_section;
struct rule_conf *alert_defs_add_rule(struct alert_defs *d, const char *name);
struct notify_conf *alert_defs_add_notify(struct alert_defs *d, const char *name);
struct route_conf *alert_defs_add_route(struct alert_defs *d, const char *name);
struct logmetric_conf *alert_defs_add_logmetric(struct alert_defs *d, const char *name);
void alert_defs_free(struct alert_defs *d);
/* The target named name, or NULL. */
const struct notify_conf *alert_defs_notify(const struct alert_defs *d, const char *name);
/* The rule named name, or NULL. */
const struct rule_conf *alert_defs_rule(const struct alert_defs *d, const char *name);
/* A [logmetric] section as search/logmetric.h takes it; the strings are c's. */
struct logmetric_def alert_logmetric_def(const struct logmetric_conf *c);

/* The rules added unless the file has one of type agent_conflict, and of type lockout. */
#define BUILTIN_CONFLICT_RULE "agent-id-conflict"
#define BUILTIN_LOCKOUT_RULE "console-lockout"
/*
 * Two hosts sending with one agent id lose data until someone acts, and a
 * console user locked out by failed logins is someone trying passwords
 * (等保 wants it told), so both are always watched: unless d has a rule of
 * the type (or of the name), the built-in one is added.
 */
int alert_defs_add_builtin(struct alert_defs *d);

/* Whether a [notify] target called name exists, wherever targets are kept. */
struct target_lookup {
	bool (*has)(const void *userdata, const char *name);
	const void *userdata;
};
/* The checks across keys of one rule, target and route; errors "where: [rule \"NAME\"] ..." into errs. */
void alert_rule_check(const struct rule_conf *r, const struct target_lookup *t, const char *where,
		      struct conf_errors *errs);
void alert_notify_check(const struct notify_conf *n, const char *where, struct conf_errors *errs);
void alert_route_check(const struct route_conf *r, const struct target_lookup *t, const char *where,
		       struct conf_errors *errs);

#endif
