/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "common/export.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/util.h"
#include "probes/probe-internal.h"

#define P(f) offsetof(struct probe_conf, f)
#define FIRST_RUN_SPREAD_MS 10000

const struct conf_key probe_conf_keys[PROBE_CONF_N_KEYS] = {
	{ "type", CONF_STR, P(type), NULL, .required = true, .help = "tcp, http, cert, command, file, process or unit" },
	{ "interval", CONF_SECS, P(interval_ms), "10s", 100, 86400000, .help = "time between runs" },
	{ "timeout", CONF_SECS, P(timeout_ms), "5s", 10, 3600000, .help = "a run still going after this is critical" },
	{ "address", CONF_STR, P(address), NULL, .help = "tcp, cert: HOST:PORT to connect to" },
	{ "send", CONF_STR, P(send), NULL, .help = "tcp: bytes to send once connected (\\\\r \\\\n \\\\t understood)" },
	{ "expect", CONF_STR, P(expect), NULL, .help = "tcp: text the answer must contain" },
	{ "command", CONF_STR, P(command), NULL, .help = "command: a Nagios plugin and its arguments, split like a shell (no shell runs)" },
	{ "path", CONF_STR, P(path), NULL, .help = "file: the file to check" },
	{ "max_age", CONF_SECS, P(max_age_ms), NULL, .help = "file: critical if not modified for this long" },
	{ "min_size", CONF_SIZE, P(min_size), NULL, .help = "file: warning if smaller" },
	{ "max_size", CONF_SIZE, P(max_size), NULL, .help = "file: warning if larger" },
	{ "name", CONF_STR, P(process), NULL, .help = "process: process name (as in /proc/PID/comm)" },
	{ "pidfile", CONF_STR, P(pidfile), NULL, .help = "process: a file holding the PID" },
	{ "cmdline", CONF_STR, P(cmdline), NULL, .help = "process: extended regex the command line must match" },
	{ "min_count", CONF_UINT, P(min_count), "1", .help = "process: critical below this many" },
	{ "max_count", CONF_UINT, P(max_count), NULL, .help = "process: critical above this many (0: no limit)" },
	{ "url", CONF_STR, P(url), NULL, .help = "http: the URL to fetch" },
	{ "expect_status", CONF_STR, P(expect_status), "2xx 3xx", .help = "http: acceptable status codes or classes" },
	{ "contains", CONF_STR, P(contains), NULL, .help = "http: text the body must contain" },
	{ "regex", CONF_STR, P(regex), NULL, .help = "http: extended regex the body must match" },
	{ "tls", CONF_BOOL, P(tls), "no", .help = "tcp: a TLS handshake once connected; send and expect go over TLS" },
	{ "tls_verify", CONF_BOOL, P(tls_verify), "yes", .help = "http, tcp: verify the server's certificate and name" },
	{ "tls_ca", CONF_STR, P(tls_ca), NULL, .help = "http, tcp: CA certificates (PEM) to verify with instead of the system's" },
	{ "follow_redirects", CONF_BOOL, P(follow_redirects), "no", .help = "http: follow redirects (up to 5)" },
	{ "file", CONF_STR, P(file), NULL, .help = "cert: a PEM certificate file to check instead of address=" },
	{ "warning_days", CONF_UINT, P(warning_days), "30", .help = "cert: warning with fewer days left" },
	{ "critical_days", CONF_UINT, P(critical_days), "7", .help = "cert: critical with fewer days left" },
	{ "unit", CONF_STR, P(unit), NULL, .help = "unit: the systemd unit to watch, e.g. nginx.service" },
};
_Static_assert(ARRAY_SIZE(probe_conf_keys) == PROBE_CONF_N_KEYS, "PROBE_CONF_N_KEYS is the table's size");

static const struct probe_ops *const all_ops[] = {
	&probe_tcp_ops, &probe_http_ops, &probe_cert_ops, &probe_command_ops, &probe_file_ops, &probe_process_ops,
	&probe_unit_ops,
};

const char *probe_status_name(enum probe_status s)
{
	static const char *const names[] = { "ok", "warning", "critical", "unknown" };

	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "unknown";
}

static const struct probe_ops *find_ops(const char *type)
{
	for (size_t i = 0; type && i < ARRAY_SIZE(all_ops); i++)
		if (strcmp(all_ops[i]->type, type) == 0)
			return all_ops[i];
	return NULL;
}

static bool listed(const char *const *list, const char *key)
{
	for (; list && *list; list++)
		if (strcmp(*list, key) == 0)
			return true;
	return false;
}

static bool key_set(const struct probe_conf *c, const struct conf_key *k)
{
	return !conf_key_is_default(k, c);
}

void probe_conf_check(const struct probe_conf *c, const char *file, struct conf_errors *errs)
{
	const struct probe_ops *ops = find_ops(c->type);

	if (!c->type)
		return; /* reported as a missing required key */
	if (!ops) {
		conf_error_add(errs, file, "[probe \"%s\"] type=%s: expected tcp, http, cert, command, file, process or unit",
			       c->name, c->type);
		return;
	}
	for (size_t i = 0; i < PROBE_CONF_N_KEYS; i++) {
		const struct conf_key *k = &probe_conf_keys[i];
		bool common = strcmp(k->name, "type") == 0 || strcmp(k->name, "interval") == 0 ||
			      strcmp(k->name, "timeout") == 0;
		if (common)
			continue;
		if (listed(ops->required, k->name) && !key_set(c, k))
			conf_error_add(errs, file, "[probe \"%s\"]: type=%s needs %s=", c->name, c->type, k->name);
		else if (!listed(ops->required, k->name) && !listed(ops->allowed, k->name) && key_set(c, k))
			conf_error_add(errs, file, "[probe \"%s\"]: %s= does not apply to type=%s", c->name,
				       k->name, c->type);
	}
	if (ops == &probe_process_ops && !c->process && !c->pidfile && !c->cmdline)
		conf_error_add(errs, file, "[probe \"%s\"]: type=process needs name=, pidfile= or cmdline=",
			       c->name);
	if (ops == &probe_cert_ops && !c->file == !c->address)
		conf_error_add(errs, file, "[probe \"%s\"]: type=cert needs one of address= and file=", c->name);
}

uint64_t probe_elapsed_us(const struct probe *p)
{
	return now_monotonic_us() - p->started_us;
}

void probe_detail(struct probe *p, const char *key, const char *value)
{
	(void)export_put_str(&p->details, key, value);
}

void probe_detail_u64(struct probe *p, const char *key, uint64_t value)
{
	(void)export_put_u64(&p->details, key, value);
}

static void schedule(struct probe *p, uint64_t delay_us)
{
	(void)sd_event_source_set_time_relative(p->timer, delay_us);
	(void)sd_event_source_set_enabled(p->timer, SD_EVENT_ONESHOT);
}

void probe_finish(struct probe *p, enum probe_status s, const char *fmt, ...)
{
	struct probe_result r = { .status = s, .latency_us = probe_elapsed_us(p), .details = &p->details };
	uint64_t elapsed = r.latency_us, interval = p->conf->interval_ms * 1000;
	bool changed;
	va_list ap;

	if (!p->running)
		return;
	p->running = false;
	p->ops->stop(p);
	(void)sd_event_source_set_enabled(p->deadline, SD_EVENT_OFF);
	va_start(ap, fmt);
	(void)vsnprintf(r.message, sizeof(r.message), fmt, ap);
	va_end(ap);
	/* One line: the message is shown in lists and alerts. */
	for (char *c = r.message; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	changed = !p->has_last || p->last != s;
	p->has_last = true;
	p->last = s;
	p->report(p->userdata, p, &r, changed);
	schedule(p, p->rerun || elapsed >= interval ? 0 : interval - elapsed);
	p->rerun = false;
}

void probe_run_now(struct probe *p)
{
	if (p->running)
		p->rerun = true;
	else
		schedule(p, 0);
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct probe *p = userdata;

	probe_finish(p, PROBE_CRITICAL, "timed out after %" PRIu64 " ms", p->conf->timeout_ms);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct probe *p = userdata;
	int r;

	p->started_us = now_monotonic_us();
	p->running = true;
	buf_reset(&p->details);
	(void)sd_event_source_set_time_relative(p->deadline, p->conf->timeout_ms * 1000);
	(void)sd_event_source_set_enabled(p->deadline, SD_EVENT_ONESHOT);
	r = p->ops->start(p);
	if (r < 0)
		probe_finish(p, PROBE_UNKNOWN, "cannot run: %s", strerror(-r));
	return 0;
}

int probe_new(sd_event *event, const struct probe_conf *conf, probe_report_fn report, void *userdata,
	      struct probe **ret)
{
	struct probe *p = calloc(1, sizeof(*p));
	uint32_t jitter = 0;
	int r;

	if (!p)
		return -ENOMEM;
	p->conf = conf;
	p->ops = find_ops(conf->type);
	p->event = event;
	p->report = report;
	p->userdata = userdata;
	p->fd = -1;
	p->pid = -1;
	buf_init(&p->details, 64 * 1024);
	buf_init(&p->io_buf, 64 * 1024);
	if (!p->ops) {
		r = -EINVAL;
		goto fail;
	}
	/*
	 * Spread the first runs so that many probes do not fire in one
	 * instant, but not over a long interval: a new probe shows soon.
	 */
	(void)random_bytes(&jitter, sizeof(jitter));
	r = sd_event_add_time_relative(event, &p->timer, CLOCK_MONOTONIC,
				       (uint64_t)jitter % (MIN(conf->interval_ms, FIRST_RUN_SPREAD_MS) * 1000), 1000,
				       on_timer, p);
	if (r == 0)
		r = sd_event_add_time_relative(event, &p->deadline, CLOCK_MONOTONIC, conf->timeout_ms * 1000, 1000,
					       on_deadline, p);
	if (r < 0)
		goto fail;
	(void)sd_event_source_set_enabled(p->deadline, SD_EVENT_OFF);
	if (p->ops->attach) {
		r = p->ops->attach(p);
		if (r < 0)
			goto fail;
	}
	*ret = p;
	return 0;
fail:
	probe_free(p);
	return r;
}

void probe_free(struct probe *p)
{
	if (!p)
		return;
	if (p->ops)
		p->ops->stop(p);
	if (p->ops && p->ops->detach)
		p->ops->detach(p);
	sd_event_source_disable_unref(p->timer);
	sd_event_source_disable_unref(p->deadline);
	buf_free(&p->details);
	buf_free(&p->io_buf);
	free(p);
}

const struct probe_conf *probe_conf(const struct probe *p)
{
	return p->conf;
}
