/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <systemd/sd-id128.h>

#include "agent/agent_conf.h"
#include "agent/central.h"
#include "agent/vantage.h"
#include "agent/enroll.h"
#include "agent/hostmetrics.h"
#include "agent/inventory.h"
#include "agent/journal.h"
#include "agent/pipeline.h"
#include "agent/relay.h"
#include "agent/shipper.h"
#include "agent/spool.h"
#include "agent/tail.h"
#include "common/buf.h"
#include "common/export.h"
#include "common/fields.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/hash.h"
#include "common/util.h"
#include "probes/probe.h"

/* sd_id128_get_machine_app_specific() key of the ids agents derived before the spool kept one. */
#define VIGIL_APP_ID SD_ID128_MAKE(6b, 1d, 2f, 9a, 44, 0c, 4e, 7b, 9f, 21, 5a, c3, 0e, 88, d1, 47)
#define READ_BUDGET (4 * 1024 * 1024)

struct agent {
	char *config_path;
	struct agent_conf *conf;
	sd_event *event;
	struct spool *spool;
	struct shipper *shipper;
	struct source *sources; /* the [tail] sections', then the journal's */
	size_t n_sources;
	struct probe **probes;
	size_t n_probes;
	struct parser_set *parsers; /* conf's [parser] sections, used by the sources */
	uint8_t id[AGENT_ID_SIZE];
	char hostname[256];
	struct pipeline *pipeline;
	sd_event_source *reader, *poll_timer, *inventory_timer, *heartbeat_timer;
	uint8_t inventory_hash[32];
	struct hostmetrics *hostmetrics;
	sd_event_source *metrics_timer;
	sd_event_source *renew_timer; /* realtime: when the certificate is looked at for renewal next */
	struct relay *relay; /* NULL: no [syslog] */
	struct central *central; /* the collector's configuration for this host */
	struct vantage *vantage; /* the collector's dial tests this host runs */
};

static size_t sources_checkpoints_max(void *userdata)
{
	struct agent *a = userdata;
	size_t n = 0;

	for (size_t i = 0; i < a->n_sources; i++)
		n += a->sources[i].ops->checkpoints_max(a->sources[i].impl);
	return n;
}

static size_t sources_checkpoints(void *userdata, struct spool_checkpoint *cps, size_t cap)
{
	struct agent *a = userdata;
	size_t n = 0;

	for (size_t i = 0; i < a->n_sources; i++)
		n += a->sources[i].ops->checkpoints(a->sources[i].impl, cps + n, cap - n);
	return n;
}

static void sources_checkpoints_done(void *userdata, bool ok)
{
	struct agent *a = userdata;

	for (size_t i = 0; i < a->n_sources; i++)
		a->sources[i].ops->checkpoints_done(a->sources[i].impl, ok);
}

static void on_committed(void *userdata)
{
	struct agent *a = userdata;

	shipper_kick(a->shipper);
}

static void wake_reader(void *userdata)
{
	struct agent *a = userdata;

	(void)sd_event_source_set_enabled(a->reader, SD_EVENT_ON);
}

static int on_reader(sd_event_source *s, void *userdata)
{
	struct agent *a = userdata;
	int more = 0;

	for (size_t i = 0; i < a->n_sources; i++) {
		const struct source *src = &a->sources[i];
		int r;

		pipeline_set_read_time(a->pipeline, now_realtime_us());
		r = src->ops->work(src->impl, READ_BUDGET / a->n_sources);
		if (r < 0)
			log_warning_errno(r, "%s: reading stopped (%m), retrying.", src->ops->kind);
		more |= r > 0;
	}
	if (!more || !pipeline_can_read(a->pipeline))
		(void)sd_event_source_set_enabled(s, SD_EVENT_OFF);
	return 0;
}

/* The shipper got acknowledgements: the spool may have room again. */
static void on_drained(void *userdata)
{
	struct agent *a = userdata;

	if (pipeline_can_read(a->pipeline))
		wake_reader(a);
}

static void update_status(struct agent *a)
{
	struct shipper_stats st = { 0 };
	uint64_t now = now_monotonic_us();

	if (a->shipper)
		shipper_get_stats(a->shipper, &st);
	(void)sd_notifyf(false, "STATUS=%s%s%s; spool %" PRIu64 " batches, %" PRIu64 " bytes%s; acked %" PRIu64
			 ", quarantined %" PRIu64 ", lines cut %" PRIu64,
			 st.connected ? "connected" : "collector unreachable",
			 st.conflicts && now - st.conflict_us < 5 * 60 * USEC_PER_SEC ?
				 ", AGENT ID CONFLICT (see vigil-agent(8), --new-id)" : "",
			 st.refusals && now - st.refusal_us < 5 * 60 * USEC_PER_SEC ?
				 ", REFUSED: A REVOKED CERTIFICATE, OR THE ID BELONGS TO ANOTHER (see vigil-agent(8))" : "",
			 spool_pending(a->spool),
			 spool_bytes(a->spool), spool_full(a->spool) ? " (full, reading paused)" : "",
			 spool_counter(a->spool, SPOOL_CTR_BATCHES_ACKED),
			 spool_counter(a->spool, SPOOL_CTR_BATCHES_QUARANTINED),
			 spool_counter(a->spool, SPOOL_CTR_LINES_TRUNCATED));
}

/* Once a second: find new and rotated files, retry a failed commit, report. */
static int on_poll(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct agent *a = userdata;

	for (size_t i = 0; i < a->n_sources; i++)
		if (a->sources[i].ops->tick)
			a->sources[i].ops->tick(a->sources[i].impl);
	pipeline_tick(a->pipeline);
	relay_drain(a->relay);
	if (pipeline_can_read(a->pipeline))
		wake_reader(a);
	update_status(a);
	(void)sd_event_source_set_time_relative(s, USEC_PER_SEC);
	return 0;
}

/* A changed status is sealed and shipped at once rather than at the batch timer. */
static void on_probe_result(void *userdata, const struct probe *p, const struct probe_result *res, bool changed)
{
	struct agent *a = userdata;
	static const char prio[] = { '6', '4', '2', '3' };
	const struct probe_conf *c = probe_conf(p);
	struct buf f;
	int r;

	if (changed)
		log_notice("probe %s: %s: %s", c->name, probe_status_name(res->status), res->message);
	buf_init(&f, 128 * 1024);
	r = export_put_str(&f, FIELD_PROBE_NAME, c->name);
	if (r == 0)
		r = export_put_str(&f, FIELD_PROBE_TYPE, c->type);
	if (r == 0)
		r = export_put_str(&f, FIELD_PROBE_STATUS, probe_status_name(res->status));
	if (r == 0)
		r = export_put_u64(&f, FIELD_PROBE_LATENCY_US, res->latency_us);
	if (r == 0)
		r = export_put_n(&f, FIELD_PRIORITY, FIELD_LEN(FIELD_PRIORITY), &prio[res->status], 1);
	if (r == 0)
		r = export_put_str(&f, FIELD_MESSAGE, res->message);
	if (r == 0)
		r = buf_append(&f, res->details->data, res->details->len);
	if (r == 0)
		(void)pipeline_add_own(a->pipeline, KIND_PROBE, &f, changed);
	else
		log_warning("probe %s: result too large to record, ignoring.", c->name);
	buf_free(&f);
}

/* The inventory, shipped at start and whenever it changes. */
static int on_inventory(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct agent *a = userdata;
	uint8_t hash[SHA256_SIZE];
	struct buf inv;

	buf_init(&inv, 64 * 1024);
	if (inventory_collect(a->hostname, a->conf->agent.labels, &inv) == 0 &&
	    central_inventory(a->central, &inv) == 0 &&
	    sha256(inv.data, inv.len, hash) == 0 && memcmp(hash, a->inventory_hash, sizeof(hash)) != 0) {
		if (pipeline_add_own(a->pipeline, KIND_INVENTORY, &inv, true) == 0)
			memcpy(a->inventory_hash, hash, sizeof(hash));
	}
	buf_free(&inv);
	(void)sd_event_source_set_time_relative(s, 60 * USEC_PER_SEC);
	return 0;
}

static void emit_metric(void *userdata, const struct buf *fields)
{
	struct agent *a = userdata;

	(void)pipeline_add_own(a->pipeline, KIND_METRIC, fields, false);
}

/* The agent's own health: what it read, spooled, shipped and dropped, and what it costs. */
static void emit_agent_metrics(struct agent *a)
{
	static const enum spool_counter shown[] = {
		SPOOL_CTR_RECORDS_SPOOLED, SPOOL_CTR_BATCHES_SPOOLED, SPOOL_CTR_BATCHES_ACKED,
		SPOOL_CTR_BATCHES_QUARANTINED, SPOOL_CTR_RECORDS_QUARANTINED, SPOOL_CTR_LINES_TRUNCATED,
		SPOOL_CTR_FILES_VANISHED, SPOOL_CTR_JOURNAL_GAPS, SPOOL_CTR_JOURNAL_ENTRIES_SKIPPED,
		SPOOL_CTR_LINES_UNPARSED, SPOOL_CTR_LINES_UNFRAMED,
	};
	unsigned long utime = 0, stime = 0;
	long rss_pages = 0;
	char key[80];
	struct buf f;
	FILE *st;

	buf_init(&f, 8192);
	(void)export_put_str(&f, FIELD_METRIC_SET, "agent");
	for (size_t i = 0; i < ARRAY_SIZE(shown); i++) {
		char *k = key + snprintf(key, sizeof(key), FIELD_METRIC_PREFIX "%s", spool_counter_name(shown[i]));
		for (char *c = key + FIELD_LEN(FIELD_METRIC_PREFIX); c < k; c++)
			*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
		(void)export_put_u64(&f, key, spool_counter(a->spool, shown[i]));
	}
	(void)export_put_u64(&f, "METRIC_SPOOL_BYTES", spool_bytes(a->spool));
	(void)export_put_u64(&f, "METRIC_SPOOL_BATCHES", spool_pending(a->spool));
	st = fopen("/proc/self/stat", "re");
	if (st && fscanf(st, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) == 2)
		(void)export_put_u64(&f, "METRIC_CPU_MS", (utime + stime) * 1000 / (unsigned long)sysconf(_SC_CLK_TCK));
	if (st)
		(void)fclose(st);
	st = fopen("/proc/self/statm", "re");
	if (st && fscanf(st, "%*d %ld", &rss_pages) == 1)
		(void)export_put_u64(&f, "METRIC_RSS_BYTES", (uint64_t)rss_pages * (uint64_t)sysconf(_SC_PAGESIZE));
	if (st)
		(void)fclose(st);
	emit_metric(a, &f);
	buf_free(&f);
}

static int on_metrics(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct agent *a = userdata;

	(void)hostmetrics_sample(a->hostmetrics, now_monotonic_us(), emit_metric, a);
	emit_agent_metrics(a);
	(void)sd_event_source_set_time_relative(s, a->conf->metrics.interval_ms * 1000);
	return 0;
}

/* Keeps the collector's last-seen fresh when nothing else was sent. */
static int on_heartbeat(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct agent *a = userdata;

	if (!pipeline_busy_since(a->pipeline))
		(void)pipeline_add_own(a->pipeline, KIND_HEARTBEAT, NULL, true);
	(void)sd_event_source_set_time_relative(s, a->conf->agent.heartbeat_ms * 1000);
	return 0;
}

/* keep_shipper: the collector's connection stays (a reload that did not change it). */
static void stop_sources(struct agent *a, bool keep_shipper)
{
	vantage_free(TAKE_PTR(a->vantage));
	for (size_t i = 0; i < a->n_probes; i++)
		probe_free(a->probes[i]);
	free(a->probes);
	a->probes = NULL;
	a->n_probes = 0;
	for (size_t i = a->n_sources; i-- > 0;)
		a->sources[i].ops->free(a->sources[i].impl);
	free(a->sources);
	a->sources = NULL;
	a->n_sources = 0;
	parser_set_free(a->parsers);
	a->parsers = NULL;
	if (!keep_shipper) {
		shipper_free(a->shipper);
		a->shipper = NULL;
	}
}

static int start_sources(struct agent *a)
{
	int r;

	/* Starting may already read (a rotated file's rest, a truncated file's copy). */
	pipeline_set_read_time(a->pipeline, now_realtime_us());
	r = a->shipper ? 0 : shipper_new(a->event, a->conf, a->spool, on_drained, a, &a->shipper);
	if (r < 0)
		return r;
	central_attach(a->central, a->event, a->shipper, a->id);
	r = parser_set_new(a->conf, &a->parsers);
	if (r < 0)
		return r;
	a->sources = calloc(a->conf->n_tails + 1, sizeof(*a->sources));
	if (!a->sources)
		return -ENOMEM;
	for (size_t i = 0; i < a->conf->n_tails; i++) {
		r = tail_source_new(a->conf->tails[i], parser_set_find(a->parsers, a->conf->tails[i]->parser), a->spool,
				    pipeline_sink(a->pipeline), a->event, &a->sources[a->n_sources]);
		if (r < 0)
			return log_error_errno(r, "tail %s: cannot start: %m", a->conf->tails[i]->name);
		a->n_sources++;
	}
	a->probes = calloc(MAX(a->conf->n_probes, 1u), sizeof(*a->probes));
	if (!a->probes)
		return -ENOMEM;
	for (size_t i = 0; i < a->conf->n_probes; i++) {
		r = probe_new(a->event, a->conf->probes[i], on_probe_result, a, &a->probes[i]);
		if (r < 0)
			return log_error_errno(r, "probe %s: cannot start: %m", a->conf->probes[i]->name);
		a->n_probes++;
	}
	r = vantage_new(a->event, central_dialtests(a->central), a->hostname, a->pipeline, &a->vantage);
	if (r < 0)
		return log_error_errno(r, "dial tests: cannot start: %m");
	if (a->conf->journal.enabled) {
		r = journal_source_new(&a->conf->journal, a->parsers, a->spool, pipeline_sink(a->pipeline), a->event,
				       &a->sources[a->n_sources]);
		if (r < 0)
			return r;
		a->n_sources++;
	}
	(void)sd_event_source_set_enabled(a->reader, SD_EVENT_ON);
	return 0;
}

/*
 * Reads the configuration again and restarts the sources on it, drained
 * first; reconnect: make the collector's connection again even if its
 * settings did not change (a renewed certificate in the same file).
 */
static int agent_reload(struct agent *a, bool reconnect)
{
	struct agent_conf *fresh;
	bool keep;
	int r;

	(void)sd_notify(false, "RELOADING=1");
	log_info("reloading %s", a->config_path);
	r = central_load(a->central, &fresh);
	if (r < 0) {
		log_error("reload of %s failed; keeping the running configuration", a->config_path);
		(void)sd_notify(false, "READY=1");
		return 0;
	}
	if (strcmp(fresh->agent.state_dir, a->conf->agent.state_dir) != 0)
		log_warning("state_dir changes take effect at restart, ignoring.");
	/* Everything read so far goes to the spool first: checkpoints make the swap lossless. */
	if (pipeline_drain(a->pipeline) < 0) {
		agent_conf_free(fresh);
		log_error("reload: the spool cannot be written; keeping the running configuration");
		(void)sd_notify(false, "READY=1");
		return 0;
	}
	/*
	 * The connection is kept unless the collector settings changed: besides
	 * sparing a reconnect, closing an nng socket with requests in flight can
	 * hang in libnng 1.5.2 (nng issue #1543; seen at reloads under systemd).
	 */
	keep = !reconnect && transport_conf_equal(&fresh->collector.t, &a->conf->collector.t) &&
	       fresh->collector.inflight == a->conf->collector.inflight;
	stop_sources(a, keep);
	agent_conf_free(a->conf);
	a->conf = fresh;
	if (keep)
		shipper_set_conf(a->shipper, a->conf);
	pipeline_set_conf(a->pipeline, a->conf);
	/* The certificate may be another one now: looked at again at once. */
	(void)sd_event_source_set_time(a->renew_timer, now_realtime_us());
	r = start_sources(a);
	if (r < 0)
		return log_error_errno(r, "reload: cannot start sources: %m");
	(void)sd_notify(false, "READY=1");
	return 0;
}

/* What the collector's configuration did: in force through the reload path, and reported at once. */
static void on_central(void *userdata, bool reload)
{
	struct agent *a = userdata;

	if (reload)
		(void)agent_reload(a, false);
	if (a->conf->agent.inventory)
		(void)sd_event_source_set_time(a->inventory_timer, now_monotonic_us());
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	return agent_reload(userdata, false);
}

/* A renewed certificate is sent from the next connection on: the one open now is made again. */
static int on_renew(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct agent *a = userdata;
	uint64_t next;
	int r = agent_renew_if_due(a->conf, now_realtime_us(), &next);

	(void)sd_event_source_set_time(s, next);
	(void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return r == 1 ? agent_reload(a, true) : 0;
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct agent *a = userdata;

	(void)sd_notify(false, "STOPPING=1");
	/* What devices sent up to now goes into the last batches. */
	relay_stop(TAKE_PTR(a->relay));
	if (pipeline_drain(a->pipeline) < 0)
		log_warning("shutdown: last batch not spooled; its lines will be read again.");
	return sd_event_exit(a->event, 0);
}

/* The id agents derived from /etc/machine-id before ids were kept in the spool; NULL if there is none. */
static const uint8_t *legacy_id(sd_id128_t *id)
{
	return sd_id128_get_machine_app_specific(VIGIL_APP_ID, id) >= 0 ? id->bytes : NULL;
}

/* [agent] id= if set, else the spool's (spool_identity()); and the host name records carry. */
static int agent_identity(struct agent *a)
{
	char *host = a->hostname;
	sd_id128_t legacy;
	int r;

	if (a->conf->agent.id) {
		r = hex_decode(a->conf->agent.id, a->id, sizeof(a->id));
		if (r < 0)
			return log_error_errno(r, "[agent] id=%s: expected 32 hex digits", a->conf->agent.id);
	} else {
		r = spool_identity(a->spool, legacy_id(&legacy), a->id);
		if (r < 0)
			return log_error_errno(r, "cannot read or make the agent id in %s: %m", a->conf->agent.state_dir);
	}
	if (a->conf->agent.hostname)
		(void)snprintf(host, sizeof(a->hostname), "%s", a->conf->agent.hostname);
	else
		(void)gethostname(host, sizeof(a->hostname) - 1);
	return 0;
}

static int agent_setup(struct agent *a)
{
	const struct pipeline_hooks hooks = {
		.checkpoints_max = sources_checkpoints_max,
		.checkpoints = sources_checkpoints,
		.checkpoints_done = sources_checkpoints_done,
		.committed = on_committed,
		.wake = wake_reader,
		.userdata = a,
	};
	sigset_t ss;
	int r;

	/* Before any thread exists (sealer, nng): only the event loop takes signals. */
	(void)sigemptyset(&ss);
	(void)sigaddset(&ss, SIGTERM);
	(void)sigaddset(&ss, SIGINT);
	(void)sigaddset(&ss, SIGHUP);
	(void)sigaddset(&ss, SIGCHLD); /* command probes' children, through sd-event */
	(void)sigprocmask(SIG_BLOCK, &ss, NULL);
	(void)signal(SIGPIPE, SIG_IGN);
	r = mkdir_p(a->conf->agent.state_dir, 0750);
	if (r < 0)
		return log_error_errno(r, "cannot create state_dir %s: %m", a->conf->agent.state_dir);
	r = spool_open(a->conf->agent.state_dir, a->conf->spool.sync ? DB_SYNC_FULL : DB_SYNC_NORMAL,
		       a->conf->spool.max_bytes, &a->spool);
	if (r < 0)
		return r;
	r = agent_identity(a);
	if (r < 0)
		return r;
	r = sd_event_default(&a->event);
	if (r < 0)
		return r;
	r = pipeline_new(a->event, a->spool, a->conf, a->id, a->hostname, &hooks, &a->pipeline);
	if (r < 0)
		return r;
	r = relay_start(&a->conf->syslog, a->event, a->pipeline, a->spool, &a->relay);
	if (r < 0)
		return r;
	if ((r = sd_event_add_signal(a->event, NULL, SIGTERM, on_sigterm, a)) < 0 ||
	    (r = sd_event_add_signal(a->event, NULL, SIGINT, on_sigterm, a)) < 0 ||
	    (r = sd_event_add_signal(a->event, NULL, SIGHUP, on_sighup, a)) < 0 ||
	    (r = sd_event_add_defer(a->event, &a->reader, on_reader, a)) < 0 ||
	    (r = sd_event_add_time_relative(a->event, &a->poll_timer, CLOCK_MONOTONIC, USEC_PER_SEC, 0,
					    on_poll, a)) < 0)
		return log_error_errno(r, "event loop setup: %m");
	(void)sd_event_source_set_enabled(a->poll_timer, SD_EVENT_ON);
	if ((r = sd_event_add_time_relative(a->event, &a->inventory_timer, CLOCK_MONOTONIC, 0, USEC_PER_SEC,
					    on_inventory, a)) < 0 ||
	    (r = sd_event_add_time_relative(a->event, &a->heartbeat_timer, CLOCK_MONOTONIC,
					    MAX(a->conf->agent.heartbeat_ms, 1000u) * 1000, USEC_PER_SEC, on_heartbeat, a)) < 0)
		return log_error_errno(r, "event loop setup: %m");
	r = sd_event_add_time(a->event, &a->renew_timer, CLOCK_REALTIME, now_realtime_us(), USEC_PER_SEC, on_renew, a);
	if (r < 0)
		return log_error_errno(r, "event loop setup: %m");
	r = hostmetrics_new(&a->hostmetrics);
	if (r < 0)
		return r;
	/* The first sample primes the rates: cpu, disk and network sets come from the second on. */
	r = sd_event_add_time_relative(a->event, &a->metrics_timer, CLOCK_MONOTONIC, 0, 10000, on_metrics, a);
	if (r < 0)
		return log_error_errno(r, "event loop setup: %m");
	(void)sd_event_source_set_enabled(a->metrics_timer, a->conf->metrics.enabled ? SD_EVENT_ON : SD_EVENT_OFF);
	(void)sd_event_source_set_enabled(a->inventory_timer, a->conf->agent.inventory ? SD_EVENT_ON : SD_EVENT_OFF);
	(void)sd_event_source_set_enabled(a->heartbeat_timer, a->conf->agent.heartbeat_ms ? SD_EVENT_ON : SD_EVENT_OFF);
	(void)sd_event_set_watchdog(a->event, true);
	return start_sources(a);
}

static void agent_done(struct agent *a)
{
	relay_stop(a->relay);
	pipeline_free(a->pipeline);
	stop_sources(a, false);
	sd_event_source_disable_unref(a->reader);
	sd_event_source_disable_unref(a->poll_timer);
	sd_event_source_disable_unref(a->inventory_timer);
	sd_event_source_disable_unref(a->heartbeat_timer);
	sd_event_source_disable_unref(a->metrics_timer);
	sd_event_source_disable_unref(a->renew_timer);
	hostmetrics_free(a->hostmetrics);
	sd_event_unref(a->event);
	spool_free(a->spool);
	agent_conf_free(a->conf);
	central_free(a->central);
}

static int print_status(struct agent_conf *conf)
{
	uint8_t id[AGENT_ID_SIZE];
	char hex[2 * AGENT_ID_SIZE + 1];
	sd_id128_t legacy;
	struct spool *s;
	int r = spool_open_existing(conf->agent.state_dir, &s);

	if (r == -ENOENT)
		return log_error_errno(r, "no spool in %s yet: the agent has not run", conf->agent.state_dir);
	if (r < 0)
		return r;
	if (conf->agent.id)
		(void)snprintf(hex, sizeof(hex), "%s", conf->agent.id);
	else if (spool_identity(s, legacy_id(&legacy), id) == 0)
		hex_encode(id, sizeof(id), hex);
	else
		(void)snprintf(hex, sizeof(hex), "unknown");
	printf("agent_id %s\n", hex);
	printf("spool_batches %" PRIu64 "\nspool_bytes %" PRIu64 "\nnext_seq %" PRIu64 "\n",
	       spool_pending(s), spool_bytes(s), spool_next_seq(s));
	for (int c = 0; c < _SPOOL_CTR_MAX; c++)
		printf("%s %" PRIu64 "\n", spool_counter_name(c), spool_counter(s, c));
	spool_free(s);
	return 0;
}

/*
 * --new-id: after an id conflict (two hosts cloned with one spool), this
 * host takes a new id; its pending batches go out under it. Run it while
 * the agent is stopped.
 */
static int new_identity(struct agent_conf *conf)
{
	char old_hex[2 * AGENT_ID_SIZE + 1], new_hex[2 * AGENT_ID_SIZE + 1];
	uint8_t old[AGENT_ID_SIZE], id[AGENT_ID_SIZE];
	struct spool *s;
	int r;

	if (conf->agent.id)
		return log_error_errno(EINVAL, "[agent] id=%s is set in the configuration: change or remove it there",
				       conf->agent.id);
	r = mkdir_p(conf->agent.state_dir, 0750);
	if (r == 0)
		r = spool_open(conf->agent.state_dir, DB_SYNC_FULL, conf->spool.max_bytes, &s);
	if (r < 0)
		return log_error_errno(r, "cannot open the spool in %s: %m", conf->agent.state_dir);
	r = spool_new_identity(s, old, id);
	if (r == 0) {
		hex_encode(old, sizeof(old), old_hex);
		hex_encode(id, sizeof(id), new_hex);
		printf("agent id %s (was %s); %" PRIu64 " pending batches go out under it\n", new_hex, old_hex,
		       spool_pending(s));
	} else {
		log_error_errno(r, "cannot give the spool in %s a new id: %m", conf->agent.state_dir);
	}
	spool_free(s);
	return r;
}

static void usage(FILE *f)
{
	(void)fprintf(f, "Usage: vigil-agent --config FILE [--check-config | --status | --new-id]\n"
			 "       vigil-agent --config FILE --enroll https://COLLECTOR:PORT --token TOKEN\n"
			 "       vigil-agent --version\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "status", no_argument, NULL, 's' },
		{ "new-id", no_argument, NULL, 'N' },
		{ "enroll", required_argument, NULL, 'E' },
		{ "token", required_argument, NULL, 'T' },
		{ "version", no_argument, NULL, 'V' },
		{ "list-config-keys", no_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct agent a = { 0 };
	bool check = false, status = false, renew = false;
	const char *enroll_url = NULL, *token = NULL;
	int c, r;

	log_setup("vigil-agent");
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'c': a.config_path = optarg; break;
		case 'C': check = true; break;
		case 's': status = true; break;
		case 'N': renew = true; break;
		case 'E': enroll_url = optarg; break;
		case 'T': token = optarg; break;
		case 'V': printf("vigil-agent %s\n", PACKAGE_VERSION); return 0;
		case 'K': conf_schema_print(&agent_conf_schema, stdout); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!a.config_path || optind != argc || !enroll_url != !token) {
		usage(stderr);
		return 2;
	}
	if (central_new(a.config_path, on_central, &a, &a.central) < 0 || central_load(a.central, &a.conf) < 0) {
		central_free(a.central);
		return 1;
	}
	if (check) {
		printf("%s: OK\n", a.config_path);
		central_report(a.central, stdout);
		agent_conf_free(a.conf);
		central_free(a.central);
		return 0;
	}
	if (enroll_url) {
		r = agent_enroll(a.conf, a.config_path, enroll_url, token);
		agent_conf_free(a.conf);
		central_free(a.central);
		return r < 0 ? 1 : 0;
	}
	if (status || renew) {
		r = status ? print_status(a.conf) : new_identity(a.conf);
		agent_conf_free(a.conf);
		central_free(a.central);
		return r < 0 ? 1 : 0;
	}
	r = agent_setup(&a);
	if (r == 0) {
		(void)sd_notifyf(false, "READY=1\nSTATUS=running, %zu tail sources%s, %zu probes", a.conf->n_tails,
				 a.conf->journal.enabled ? ", journal" : "", a.n_probes);
		log_info("started: %zu tail sources%s, %zu probes, collector %s, state in %s", a.conf->n_tails,
			 a.conf->journal.enabled ? ", journal" : "", a.n_probes, a.conf->collector.t.address,
			 a.conf->agent.state_dir);
		r = sd_event_loop(a.event);
	}
	agent_done(&a);
	return r < 0 ? 1 : 0;
}
