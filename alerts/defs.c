/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>

#include "alerts/alert.h"
#include "alerts/channel.h"
#include "alerts/defs.h"
#include "alerts/rules.h"
#include "common/macro.h"
#include "common/util.h"

#define R(f) offsetof(struct rule_conf, f)
#define N(f) offsetof(struct notify_conf, f)
#define T(f) offsetof(struct route_conf, f)
#define M(f) offsetof(struct logmetric_conf, f)

static const struct conf_key rule_keys[] = {
	{ "type", CONF_STR, R(type), NULL, .required = true, .help = "a rule type: probe, host_silent, metric, log, dialtest or agent_conflict" },
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
	{ "count", CONF_UINT, R(count), NULL, 0, 1000000000, .help = "log: matching lines within window before the condition holds; lockout: lockouts of one user within window (default 1)" },
	{ "window", CONF_SECS, R(window_ms), NULL, 0, 86400000, .help = "log: the window lines are counted in (default 5m); lockout: the window lockouts are counted in (default 1h)" },
	{ "dialtest", CONF_STR, R(dialtest), NULL, .help = "dialtest: glob on dial test names (default all)" },
	{ "condition", CONF_STR, R(condition), NULL, .help = "dialtest: failure (default), latency (total ms above=) or cert_days (days left below=)" },
	{ "vantage", CONF_STR, R(vantage), NULL, .help = "dialtest, condition=failure: glob on vantage points (collector, or an agent's host), each watched apart; default the test's quorum (fail_when)" },
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

static const struct conf_key logmetric_keys[] = {
	{ "query", CONF_STR, M(query), NULL, .help = "which log records: the log query language (docs/logs.md); default all" },
	{ "value", CONF_STR, M(value), NULL, .help = "a numeric field whose distribution is kept (count, sum, avg, min, max, p50, p90, p95, p99); default a count only" },
	{ "labels", CONF_STR, M(labels), NULL, .help = "fields whose values label the series, space-separated, at most 4 (e.g. route status_class)" },
	{ "step", CONF_SECS, M(step_ms), "60s", 1000, 86400000, .help = "the time a series' point covers" },
};

const struct conf_section alert_rule_section = { "rule", true, rule_keys, ARRAY_SIZE(rule_keys), 0, NULL };
const struct conf_section alert_notify_section = { "notify", true, notify_keys, ARRAY_SIZE(notify_keys), 0, NULL };
const struct conf_section alert_route_section = { "route", true, route_keys, ARRAY_SIZE(route_keys), 0, NULL };
const struct conf_section alert_logmetric_section = { "logmetric", true, logmetric_keys, ARRAY_SIZE(logmetric_keys), 0,
						      NULL };

_Static_assert(offsetof(struct rule_conf, name) == 0, "conf_named_append: the name comes first");
_Static_assert(offsetof(struct notify_conf, name) == 0, "conf_named_append: the name comes first");
_Static_assert(offsetof(struct route_conf, name) == 0, "conf_named_append: the name comes first");
_Static_assert(offsetof(struct logmetric_conf, name) == 0, "conf_named_append: the name comes first");

struct rule_conf *alert_defs_add_rule(struct alert_defs *d, const char *name)
{
	return conf_named_append((void ***)&d->rules, &d->n_rules, sizeof(struct rule_conf), name);
}

struct notify_conf *alert_defs_add_notify(struct alert_defs *d, const char *name)
{
	return conf_named_append((void ***)&d->notifies, &d->n_notifies, sizeof(struct notify_conf), name);
}

struct route_conf *alert_defs_add_route(struct alert_defs *d, const char *name)
{
	return conf_named_append((void ***)&d->routes, &d->n_routes, sizeof(struct route_conf), name);
}

struct logmetric_conf *alert_defs_add_logmetric(struct alert_defs *d, const char *name)
{
	return conf_named_append((void ***)&d->logmetrics, &d->n_logmetrics, sizeof(struct logmetric_conf), name);
}

void alert_defs_free(struct alert_defs *d)
{
	conf_named_free((void **)d->rules, d->n_rules, &alert_rule_section);
	conf_named_free((void **)d->notifies, d->n_notifies, &alert_notify_section);
	conf_named_free((void **)d->routes, d->n_routes, &alert_route_section);
	conf_named_free((void **)d->logmetrics, d->n_logmetrics, &alert_logmetric_section);
	*d = (struct alert_defs){ 0 };
}

const struct notify_conf *alert_defs_notify(const struct alert_defs *d, const char *name)
{
	return conf_named_find((const void *const *)d->notifies, d->n_notifies, name);
}

const struct rule_conf *alert_defs_rule(const struct alert_defs *d, const char *name)
{
	return conf_named_find((const void *const *)d->rules, d->n_rules, name);
}

struct logmetric_def alert_logmetric_def(const struct logmetric_conf *c)
{
	return (struct logmetric_def){ c->name, c->query, c->value, c->labels, c->step_ms };
}

/* The rule of type called name, severity severity, unless d has one of that type or name. */
static int add_builtin(struct alert_defs *d, const char *name, const char *type, const char *severity)
{
	static const char *const keys[] = { "type", "severity" };
	const char *const values[] = { type, severity };
	struct conf_errors errs = { 0 };
	struct rule_conf *r;
	int k;

	for (size_t i = 0; i < d->n_rules; i++)
		if (strcmp(d->rules[i]->type, type) == 0 || strcmp(d->rules[i]->name, name) == 0)
			return 0;
	r = alert_defs_add_rule(d, name);
	if (!r)
		return -ENOMEM;
	k = conf_instance_fill(&alert_rule_section, r, keys, values, ARRAY_SIZE(keys), "built-in", &errs);
	conf_errors_free(&errs);
	return k;
}

int alert_defs_add_builtin(struct alert_defs *d)
{
	int r = add_builtin(d, BUILTIN_CONFLICT_RULE, "agent_conflict", "critical");

	return r < 0 ? r : add_builtin(d, BUILTIN_LOCKOUT_RULE, "lockout", "warning");
}

/* "a, b or c" of n names, name(i) each, into out. */
static const char *list_names(size_t n, const char *(*name)(size_t i, const void *ctx), const void *ctx,
			      const char *last_sep, char *out, size_t size)
{
	size_t len = 0;

	out[0] = 0;
	for (size_t i = 0; i < n; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? last_sep : ", ";
		int k = snprintf(out + len, size - len, "%s%s", sep, name(i, ctx));
		if (k < 0 || (size_t)k >= size - len)
			break;
		len += (size_t)k;
	}
	return out;
}

/* The channels pick is true of. */
struct channel_pick {
	const struct channel_ops *ch[8];
	size_t n;
};

static const char *picked_channel(size_t i, const void *ctx)
{
	return ((const struct channel_pick *)ctx)->ch[i]->type;
}

static const char *channels_with(bool (*pick)(const struct channel_ops *ch), char *out, size_t size)
{
	struct channel_pick p = { .n = 0 };

	for (size_t i = 0; i < n_channels && p.n < ARRAY_SIZE(p.ch); i++)
		if (pick(channels[i]))
			p.ch[p.n++] = channels[i];
	return list_names(p.n, picked_channel, &p, " and ", out, size);
}

static bool takes_rate_limit(const struct channel_ops *ch)
{
	return ch->rate_limited;
}

static bool takes_secret(const struct channel_ops *ch)
{
	return ch->signs || ch->mail;
}

static const char *any_channel(size_t i, const void *ctx)
{
	(void)ctx;
	return channels[i]->type;
}

static void check_email(const struct notify_conf *n, const struct channel_ops *ch, const char *path,
			struct conf_errors *errs)
{
	bool email = ch && ch->mail;
	char list[256];

	if (email && n->url && strncmp(n->url, "smtp://", 7) != 0 && strncmp(n->url, "smtps://", 8) != 0)
		conf_error_add(errs, path, "[notify \"%s\"] url=%s: expected smtp:// or smtps://", n->name, n->url);
	if (email && (!n->from || !n->to))
		conf_error_add(errs, path, "[notify \"%s\"]: type=email needs from= and to=", n->name);
	if (email && !n->username != !(n->secret || n->secret_file))
		conf_error_add(errs, path, "[notify \"%s\"]: username= and a password (secret= or secret_file=) go together",
			       n->name);
	if (n->rate_limit && ch && !ch->rate_limited)
		conf_error_add(errs, path, "[notify \"%s\"]: rate_limit= applies to %s", n->name,
			       channels_with(takes_rate_limit, list, sizeof(list)));
	if (!email && (n->from || n->to || n->username || !n->starttls))
		conf_error_add(errs, path, "[notify \"%s\"]: from=, to=, username=, starttls= apply to type=email",
			       n->name);
}

void alert_notify_check(const struct notify_conf *n, const char *path, struct conf_errors *errs)
{
	const struct channel_ops *ch = channel_find(n->type);
	bool email = ch && ch->mail, signs = ch && ch->signs;
	char list[256];

	if (n->type && !ch)
		conf_error_add(errs, path, "[notify \"%s\"] type=%s: expected %s", n->name, n->type,
			       list_names(n_channels, any_channel, NULL, " or ", list, sizeof(list)));
	if (!email && n->url && strncmp(n->url, "http://", 7) != 0 && strncmp(n->url, "https://", 8) != 0)
		conf_error_add(errs, path, "[notify \"%s\"] url=%s: expected http:// or https://", n->name, n->url);
	check_email(n, ch, path, errs);
	if (!signs && !email && (n->secret || n->secret_file))
		conf_error_add(errs, path, "[notify \"%s\"]: secret= and secret_file= apply to %s", n->name,
			       channels_with(takes_secret, list, sizeof(list)));
	if (n->secret && n->secret_file)
		conf_error_add(errs, path, "[notify \"%s\"]: secret= or secret_file=, not both", n->name);
	if (strcmp(n->lang, "zh") != 0 && strcmp(n->lang, "en") != 0)
		conf_error_add(errs, path, "[notify \"%s\"] lang=%s: expected zh or en", n->name, n->lang);
}

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

static const char *any_type(size_t i, const void *ctx)
{
	(void)ctx;
	return rule_types[i]->name;
}

/* The types that take group, for "... apply to type=metric and dialtest". */
struct type_pick {
	const struct rule_type *t[16];
	size_t n;
};

static const char *picked_type(size_t i, const void *ctx)
{
	return ((const struct type_pick *)ctx)->t[i]->name;
}

/* Each key a type does not take is an error naming the types that do. */
static void check_groups(const struct rule_conf *r, const struct rule_type *type, const char *path,
			 struct conf_errors *errs)
{
	static const unsigned groups[] = { RULE_KEYS_DIALTEST, RULE_KEYS_LOG, RULE_KEYS_COUNT, RULE_KEYS_METRIC,
					   RULE_KEYS_THRESHOLD, RULE_KEYS_PROBE, RULE_KEYS_CONSECUTIVE, RULE_KEYS_SILENT };
	char list[256];
	bool plural;

	for (size_t g = 0; g < ARRAY_SIZE(groups); g++) {
		struct type_pick p = { .n = 0 };
		const char *keys;

		if ((type->keys & groups[g]) || !rule_keys_set(r, groups[g]))
			continue;
		for (size_t i = 0; i < n_rule_types && p.n < ARRAY_SIZE(p.t); i++)
			if (rule_types[i]->keys & groups[g])
				p.t[p.n++] = rule_types[i];
		keys = rule_keys_name(groups[g], &plural);
		conf_error_add(errs, path, "[rule \"%s\"]: %s %s to type=%s", r->name, keys, plural ? "apply" : "applies",
			       list_names(p.n, picked_type, &p, " and ", list, sizeof(list)));
	}
}

void alert_rule_check(const struct rule_conf *r, const struct target_lookup *t, const char *path,
		      struct conf_errors *errs)
{
	const struct rule_type *type = rule_type_find(r->type);
	const char *bad;
	size_t bad_len;
	char list[256];

	if (r->type && !type)
		conf_error_add(errs, path, "[rule \"%s\"] type=%s: expected %s", r->name, r->type,
			       list_names(n_rule_types, any_type, NULL, " or ", list, sizeof(list)));
	if (type && type->check)
		type->check(r, path, errs);
	if (type)
		check_groups(r, type, path, errs);
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
	if (r->labels && labels_check(r->labels, &bad, &bad_len) < 0)
		conf_error_add(errs, path, "[rule \"%s\"] labels: '%.*s' is not key=value", r->name, (int)bad_len, bad);
}

void alert_route_check(const struct route_conf *r, const struct target_lookup *t, const char *path,
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
