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
#include "common/buf.h"
#include "common/export.h"
#include "common/frame.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/util.h"
#include "common/sha256.h"
#include "agent/hostmetrics.h"
#include "agent/inventory.h"
#include "agent/journal.h"
#include "agent/lineprio.h"
#include "probes/probe.h"
#include "agent/shipper.h"
#include "agent/sealer.h"
#include "agent/spool.h"
#include "agent/tail.h"

/* sd_id128_get_machine_app_specific() key of the ids agents derived before the spool kept one. */
#define VIGIL_APP_ID SD_ID128_MAKE(6b, 1d, 2f, 9a, 44, 0c, 4e, 7b, 9f, 21, 5a, c3, 0e, 88, d1, 47)
#define READ_BUDGET (4 * 1024 * 1024)
#define RECORD_OVERHEAD 4096

struct agent {
	char *config_path;
	struct agent_conf *conf;
	sd_event *event;
	struct spool *spool;
	struct shipper *shipper;
	struct tail_source **tails;
	size_t n_tails;
	struct journal_source *journal;
	struct probe **probes;
	size_t n_probes;
	uint8_t id[AGENT_ID_SIZE];
	char hostname[256];
	struct buf host_field;
	struct buf batch;
	uint32_t batch_records;
	struct spool_checkpoint *cps;
	size_t cps_cap;
	size_t n_cps; /* the snapshot of the batch in the sealer */
	struct sealer *sealer;
	bool flush_failed;
	bool spool_was_full;
	uint64_t now_us; /* read time of the lines being read, per reader pass */
	sd_event_source *reader, *flush_timer, *poll_timer, *inventory_timer, *heartbeat_timer;
	uint8_t inventory_hash[32];
	struct hostmetrics *hostmetrics;
	sd_event_source *metrics_timer;
	bool sealed_since_heartbeat;
};

static int flush(struct agent *a);

static bool sink_can_read(void *userdata)
{
	struct agent *a = userdata;

	return !a->flush_failed && !spool_full(a->spool);
}

static void put(struct buf *b, const void *p, size_t n)
{
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

/*
 * One line becomes one record. The fixed fields are copied from prebuilt
 * export-format pieces: this runs for every line read.
 */
static int sink_line(void *userdata, struct tail_file *f, const char *line, size_t len)
{
	static const char ts_key[] = "__REALTIME_TIMESTAMP=";
	struct agent *a = userdata;
	size_t flen, tlen;
	const uint8_t *fields = tail_file_fields(f, &flen);
	int prio = line_priority(line, len), r;
	char ts[21], pfield[12] = "PRIORITY=0\n";

	if (a->batch.len + len + flen + RECORD_OVERHEAD > a->batch.max) {
		r = flush(a);
		if (r < 0)
			return r;
	}
	tlen = format_u64(a->now_us, ts);
	r = buf_reserve(&a->batch, sizeof(ts_key) + tlen + a->host_field.len + flen + sizeof(pfield));
	if (r < 0)
		return log_error_errno(r, "batch: cannot add a line of %zu bytes: %m", len);
	put(&a->batch, ts_key, sizeof(ts_key) - 1);
	put(&a->batch, ts, tlen);
	put(&a->batch, "\n", 1);
	put(&a->batch, a->host_field.data, a->host_field.len);
	put(&a->batch, fields, flen);
	if (prio >= 0) {
		pfield[9] = (char)('0' + prio);
		put(&a->batch, pfield, 11);
	}
	r = export_put_n(&a->batch, "MESSAGE", 7, line, len);
	if (r == 0)
		r = export_end_entry(&a->batch);
	if (r < 0)
		return log_error_errno(r, "batch: cannot add a line of %zu bytes: %m", len);
	if (a->batch_records++ == 0) {
		(void)sd_event_source_set_time_relative(a->flush_timer, a->conf->batch.max_delay_ms * 1000);
		(void)sd_event_source_set_enabled(a->flush_timer, SD_EVENT_ONESHOT);
	}
	return 0;
}

/* A whole record from a source that builds its own (the journal). */
static int sink_record(void *userdata, const void *fields, size_t len)
{
	struct agent *a = userdata;
	int r;

	if (a->batch.len + len + RECORD_OVERHEAD > a->batch.max) {
		r = flush(a);
		if (r < 0)
			return r;
	}
	r = buf_reserve(&a->batch, len + 1);
	if (r < 0)
		return log_error_errno(r, "batch: cannot add a record of %zu bytes: %m", len);
	put(&a->batch, fields, len);
	put(&a->batch, "\n", 1);
	if (a->batch_records++ == 0) {
		(void)sd_event_source_set_time_relative(a->flush_timer, a->conf->batch.max_delay_ms * 1000);
		(void)sd_event_source_set_enabled(a->flush_timer, SD_EVENT_ONESHOT);
	}
	return 0;
}

static int sink_advanced(void *userdata)
{
	struct agent *a = userdata;

	if (a->batch_records >= a->conf->batch.max_records || a->batch.len >= a->conf->batch.max_bytes)
		return flush(a);
	return 0;
}

static void sink_count(void *userdata, enum spool_counter c)
{
	struct agent *a = userdata;

	spool_count(a->spool, c, 1);
}

static void sink_wake(void *userdata)
{
	struct agent *a = userdata;

	(void)sd_event_source_set_enabled(a->reader, SD_EVENT_ON);
}

static const struct source_sink sink_ops = {
	.line = sink_line,
	.record = sink_record,
	.advanced = sink_advanced,
	.can_read = sink_can_read,
	.count = sink_count,
	.wake = sink_wake,
};

static size_t collect_checkpoints(struct agent *a)
{
	size_t need = 1, n = 0;

	for (size_t i = 0; i < a->n_tails; i++)
		need += tail_source_file_count(a->tails[i]);
	if (need > a->cps_cap) {
		struct spool_checkpoint *p = realloc(a->cps, need * sizeof(*p));
		if (!p)
			return 0;
		a->cps = p;
		a->cps_cap = need;
	}
	for (size_t i = 0; i < a->n_tails; i++)
		n += tail_source_checkpoints(a->tails[i], a->cps + n, a->cps_cap - n);
	n += journal_source_checkpoints(a->journal, a->cps + n, a->cps_cap - n);
	return n;
}

static void checkpoints_done(struct agent *a, bool ok)
{
	for (size_t i = 0; i < a->n_tails; i++)
		if (ok)
			tail_source_checkpoints_done(a->tails[i]);
		else
			tail_source_checkpoints_failed(a->tails[i]);
	if (ok)
		journal_source_checkpoints_done(a->journal);
	else
		journal_source_checkpoints_failed(a->journal);
	a->n_cps = 0;
}

static void spool_failed(struct agent *a, int r, uint64_t seq, uint32_t records)
{
	if (!a->flush_failed)
		log_error_errno(r, "spool: cannot store batch %" PRIu64 " (%u records): %m; reading paused, retrying",
				seq, records);
	a->flush_failed = true;
}

/*
 * Commits the batch the sealer finished, with the checkpoints snapshotted
 * when it was sealed, in one transaction. On failure both are kept and
 * retried (on the poll tick); reading stays paused meanwhile.
 */
static int commit_sealed(struct agent *a)
{
	struct frame_header h;
	const struct buf *frame;
	int r;

	frame = sealer_result(a->sealer, &h, &r);
	if (!frame)
		return 0;
	if (r < 0) {
		sealer_retry(a->sealer);
		spool_failed(a, r, h.seq, h.records);
		return r;
	}
	r = spool_append(a->spool, h.seq, h.created_us, h.records, frame->data, frame->len, a->cps, a->n_cps);
	if (r < 0) {
		spool_failed(a, r, h.seq, h.records);
		return r;
	}
	sealer_release(a->sealer);
	if (a->flush_failed)
		log_info("spool: batch %" PRIu64 " stored, reading resumes", h.seq);
	a->flush_failed = false;
	checkpoints_done(a, true);
	shipper_kick(a->shipper);
	if (sink_can_read(a))
		(void)sd_event_source_set_enabled(a->reader, SD_EVENT_ON);
	return 0;
}

static void on_sealed(void *userdata)
{
	(void)commit_sealed(userdata);
}

/*
 * Seals the batch: its checkpoints are snapshotted now and it goes to the
 * sealer to be compressed while reading goes on. One batch is in the sealer
 * at a time and batches commit in order, so this first waits for and
 * commits the one before.
 */
static int flush(struct agent *a)
{
	struct frame_header h = { .version = FRAME_VERSION };
	int r;

	sealer_wait(a->sealer);
	r = commit_sealed(a);
	if (r < 0)
		return r;
	a->n_cps = collect_checkpoints(a);
	if (a->batch_records == 0) {
		r = a->n_cps || spool_counters_dirty(a->spool) ? spool_checkpoints_write(a->spool, a->cps, a->n_cps) : 0;
		checkpoints_done(a, r == 0);
		return r;
	}
	memcpy(h.agent_id, a->id, sizeof(h.agent_id));
	h.seq = spool_next_seq(a->spool);
	h.records = a->batch_records;
	h.raw_len = (uint32_t)a->batch.len;
	h.created_us = now_realtime_us();
	r = sealer_submit(a->sealer, &a->batch, &h, (int)a->conf->batch.zstd_level);
	if (r < 0)
		return log_error_errno(r, "batch %" PRIu64 ": cannot seal: %m", h.seq);
	a->sealed_since_heartbeat = true;
	a->batch_records = 0;
	(void)sd_event_source_set_enabled(a->flush_timer, SD_EVENT_OFF);
	return 0;
}

/* Everything read so far into the spool: before a reload, at shutdown. */
static int drain(struct agent *a)
{
	int r = flush(a);

	if (r == 0) {
		sealer_wait(a->sealer);
		r = commit_sealed(a);
	}
	return r;
}

static int on_reader(sd_event_source *s, void *userdata)
{
	struct agent *a = userdata;
	int more = 0;

	for (size_t i = 0; i < a->n_tails; i++) {
		a->now_us = now_realtime_us();
		more |= tail_source_work(a->tails[i], READ_BUDGET / (a->n_tails + 1));
	}
	if (a->journal) {
		int r = journal_source_work(a->journal, READ_BUDGET / (a->n_tails + 1));
		if (r < 0)
			log_warning_errno(r, "journal: reading stopped (%m), retrying.");
		more |= r > 0;
	}
	if (!more || !sink_can_read(a))
		(void)sd_event_source_set_enabled(s, SD_EVENT_OFF);
	return 0;
}

static int on_flush_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)flush(userdata);
	return 0;
}

static void on_drained(void *userdata)
{
	struct agent *a = userdata;

	if (sink_can_read(a))
		(void)sd_event_source_set_enabled(a->reader, SD_EVENT_ON);
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
				 ", REFUSED: THE ID BELONGS TO ANOTHER CERTIFICATE (see vigil-agent(8))" : "",
			 spool_pending(a->spool),
			 spool_bytes(a->spool), spool_full(a->spool) ? " (full, reading paused)" : "",
			 spool_counter(a->spool, SPOOL_CTR_BATCHES_ACKED),
			 spool_counter(a->spool, SPOOL_CTR_BATCHES_QUARANTINED),
			 spool_counter(a->spool, SPOOL_CTR_LINES_TRUNCATED));
}

/* Once a second: find new and rotated files, retry a failed flush, report. */
static int on_poll(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct agent *a = userdata;

	for (size_t i = 0; i < a->n_tails; i++)
		tail_source_mark_changed(a->tails[i]);
	/* Also writes checkpoints that moved with no lines (a file let go, a rewind). */
	if (a->flush_failed)
		(void)commit_sealed(a);
	else if (a->batch_records == 0)
		(void)flush(a);
	if (spool_full(a->spool) != a->spool_was_full) {
		a->spool_was_full = !a->spool_was_full;
		if (a->spool_was_full)
			log_warning("spool full (%" PRIu64 " bytes, cap %" PRIu64 "): reading paused until the collector acknowledges",
				    spool_bytes(a->spool), a->conf->spool.max_bytes);
		else
			log_notice("spool below its cap again: reading resumes");
	}
	if (sink_can_read(a))
		(void)sd_event_source_set_enabled(a->reader, SD_EVENT_ON);
	update_status(a);
	(void)sd_event_source_set_time_relative(s, USEC_PER_SEC);
	return 0;
}

/*
 * A probe result becomes a record. A changed status is sealed and shipped
 * at once rather than at the batch timer: it is what the collector alerts on.
 */
/*
 * A record of the agent's own (probe result, metric, inventory, heartbeat):
 * timestamp, host, kind, then fields. now: seal the batch at once. One that
 * cannot be batched (the spool failing) is counted and logged.
 */
static int emit_own(struct agent *a, const char *kind, const struct buf *fields, bool now)
{
	struct buf rec;
	int r;

	buf_init(&rec, 256 * 1024);
	r = export_put_u64(&rec, "__REALTIME_TIMESTAMP", now_realtime_us());
	if (r == 0)
		r = buf_append(&rec, a->host_field.data, a->host_field.len);
	if (r == 0)
		r = export_put_str(&rec, "VIGIL_KIND", kind);
	if (r == 0 && fields)
		r = buf_append(&rec, fields->data, fields->len);
	if (r == 0)
		r = sink_record(a, rec.data, rec.len);
	if (r == 0)
		r = now ? flush(a) : sink_advanced(a);
	if (r < 0) {
		spool_count(a->spool, SPOOL_CTR_RECORDS_DROPPED, 1);
		log_warning_errno(r, "%s record not recorded (%m), counted as dropped.", kind);
	}
	buf_free(&rec);
	return r;
}

static void on_probe_result(void *userdata, const struct probe *p, const struct probe_result *res, bool changed)
{
	static const char prio[] = { '6', '4', '2', '3' };
	const struct probe_conf *c = probe_conf(p);
	struct buf f;
	int r;

	if (changed)
		log_notice("probe %s: %s: %s", c->name, probe_status_name(res->status), res->message);
	buf_init(&f, 128 * 1024);
	r = export_put_str(&f, "PROBE_NAME", c->name);
	if (r == 0)
		r = export_put_str(&f, "PROBE_TYPE", c->type);
	if (r == 0)
		r = export_put_str(&f, "PROBE_STATUS", probe_status_name(res->status));
	if (r == 0)
		r = export_put_u64(&f, "PROBE_LATENCY_US", res->latency_us);
	if (r == 0)
		r = export_put_n(&f, "PRIORITY", 8, &prio[res->status], 1);
	if (r == 0)
		r = export_put_str(&f, "MESSAGE", res->message);
	if (r == 0)
		r = buf_append(&f, res->details->data, res->details->len);
	if (r == 0)
		(void)emit_own(userdata, "probe", &f, changed);
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
	    sha256(inv.data, inv.len, hash) == 0 && memcmp(hash, a->inventory_hash, sizeof(hash)) != 0) {
		if (emit_own(a, "inventory", &inv, true) == 0)
			memcpy(a->inventory_hash, hash, sizeof(hash));
	}
	buf_free(&inv);
	(void)sd_event_source_set_time_relative(s, 60 * USEC_PER_SEC);
	return 0;
}

static void emit_metric(void *userdata, const struct buf *fields)
{
	(void)emit_own(userdata, "metric", fields, false);
}

/* The agent's own health: what it read, spooled, shipped and dropped, and what it costs. */
static void emit_agent_metrics(struct agent *a)
{
	static const enum spool_counter shown[] = {
		SPOOL_CTR_RECORDS_SPOOLED, SPOOL_CTR_BATCHES_SPOOLED, SPOOL_CTR_BATCHES_ACKED,
		SPOOL_CTR_BATCHES_QUARANTINED, SPOOL_CTR_RECORDS_QUARANTINED, SPOOL_CTR_LINES_TRUNCATED,
		SPOOL_CTR_FILES_VANISHED, SPOOL_CTR_JOURNAL_GAPS, SPOOL_CTR_JOURNAL_ENTRIES_SKIPPED,
	};
	unsigned long utime = 0, stime = 0;
	long rss_pages = 0;
	char key[80];
	struct buf f;
	FILE *st;

	buf_init(&f, 8192);
	(void)export_put_str(&f, "METRIC_SET", "agent");
	for (size_t i = 0; i < ARRAY_SIZE(shown); i++) {
		char *k = key + snprintf(key, sizeof(key), "METRIC_%s", spool_counter_name(shown[i]));
		for (char *c = key + 7; c < k; c++)
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

	if (!a->sealed_since_heartbeat && a->batch_records == 0)
		(void)emit_own(a, "heartbeat", NULL, true);
	a->sealed_since_heartbeat = false;
	(void)sd_event_source_set_time_relative(s, a->conf->agent.heartbeat_ms * 1000);
	return 0;
}

/* keep_shipper: the collector's connection stays (a reload that did not change it). */
static void stop_sources(struct agent *a, bool keep_shipper)
{
	for (size_t i = 0; i < a->n_probes; i++)
		probe_free(a->probes[i]);
	free(a->probes);
	a->probes = NULL;
	a->n_probes = 0;
	journal_source_free(a->journal);
	a->journal = NULL;
	for (size_t i = 0; i < a->n_tails; i++)
		tail_source_free(a->tails[i]);
	free(a->tails);
	a->tails = NULL;
	a->n_tails = 0;
	if (!keep_shipper) {
		shipper_free(a->shipper);
		a->shipper = NULL;
	}
}

static int start_sources(struct agent *a)
{
	int r;

	/* Starting may already read (a rotated file's rest, a truncated file's copy). */
	a->now_us = now_realtime_us();
	r = a->shipper ? 0 : shipper_new(a->event, a->conf, a->spool, on_drained, a, &a->shipper);
	if (r < 0)
		return r;
	a->tails = calloc(MAX(a->conf->n_tails, 1u), sizeof(*a->tails));
	if (!a->tails)
		return -ENOMEM;
	for (size_t i = 0; i < a->conf->n_tails; i++) {
		struct source_sink sink = sink_ops;
		sink.userdata = a;
		r = tail_source_new(a->conf->tails[i], a->spool, &sink, a->event, &a->tails[i]);
		if (r < 0)
			return log_error_errno(r, "tail %s: cannot start: %m", a->conf->tails[i]->name);
		a->n_tails++;
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
	if (a->conf->journal.enabled) {
		struct source_sink sink = sink_ops;
		sink.userdata = a;
		r = journal_source_new(&a->conf->journal, a->spool, &sink, a->event, &a->journal);
		if (r < 0)
			return r;
	}
	(void)sd_event_source_set_enabled(a->reader, SD_EVENT_ON);
	return 0;
}

static void setup_batch(struct agent *a)
{
	uint64_t max_line = 0;

	for (size_t i = 0; i < a->conf->n_tails; i++)
		max_line = MAX(max_line, a->conf->tails[i]->max_line_bytes);
	if (a->conf->journal.enabled)
		max_line = MAX(max_line, (uint64_t)JOURNAL_ENTRY_MAX);
	/* Keeps the capacity; a reload may change the ceiling. */
	a->batch.max = a->conf->batch.max_bytes + max_line + RECORD_OVERHEAD + a->host_field.len;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct agent *a = userdata;
	struct agent_conf *fresh;
	bool keep;
	int r;

	(void)sd_notify(false, "RELOADING=1");
	log_info("reloading %s", a->config_path);
	r = agent_conf_load(a->config_path, &fresh);
	if (r < 0) {
		log_error("reload of %s failed; keeping the running configuration", a->config_path);
		(void)sd_notify(false, "READY=1");
		return 0;
	}
	if (strcmp(fresh->agent.state_dir, a->conf->agent.state_dir) != 0)
		log_warning("state_dir changes take effect at restart, ignoring.");
	/* Everything read so far goes to the spool first: checkpoints make the swap lossless. */
	if (drain(a) < 0) {
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
	keep = transport_conf_equal(&fresh->collector.t, &a->conf->collector.t) &&
	       fresh->collector.inflight == a->conf->collector.inflight;
	stop_sources(a, keep);
	agent_conf_free(a->conf);
	a->conf = fresh;
	if (keep)
		shipper_set_conf(a->shipper, a->conf);
	setup_batch(a);
	r = start_sources(a);
	if (r < 0)
		return log_error_errno(r, "reload: cannot start sources: %m");
	(void)sd_notify(false, "READY=1");
	return 0;
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct agent *a = userdata;

	(void)sd_notify(false, "STOPPING=1");
	if (drain(a) < 0)
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
	buf_init(&a->host_field, 1024);
	return export_put_str(&a->host_field, "_HOSTNAME", host);
}

static int agent_setup(struct agent *a)
{
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
	setup_batch(a);
	r = sd_event_default(&a->event);
	if (r < 0)
		return r;
	r = sealer_new(a->event, on_sealed, a, &a->sealer);
	if (r < 0)
		return r;
	if ((r = sd_event_add_signal(a->event, NULL, SIGTERM, on_sigterm, a)) < 0 ||
	    (r = sd_event_add_signal(a->event, NULL, SIGINT, on_sigterm, a)) < 0 ||
	    (r = sd_event_add_signal(a->event, NULL, SIGHUP, on_sighup, a)) < 0 ||
	    (r = sd_event_add_defer(a->event, &a->reader, on_reader, a)) < 0 ||
	    (r = sd_event_add_time_relative(a->event, &a->flush_timer, CLOCK_MONOTONIC, UINT64_MAX / 2, 0,
					    on_flush_timer, a)) < 0 ||
	    (r = sd_event_add_time_relative(a->event, &a->poll_timer, CLOCK_MONOTONIC, USEC_PER_SEC, 0,
					    on_poll, a)) < 0)
		return log_error_errno(r, "event loop setup: %m");
	(void)sd_event_source_set_enabled(a->flush_timer, SD_EVENT_OFF);
	(void)sd_event_source_set_enabled(a->poll_timer, SD_EVENT_ON);
	if ((r = sd_event_add_time_relative(a->event, &a->inventory_timer, CLOCK_MONOTONIC, 0, USEC_PER_SEC,
					    on_inventory, a)) < 0 ||
	    (r = sd_event_add_time_relative(a->event, &a->heartbeat_timer, CLOCK_MONOTONIC,
					    MAX(a->conf->agent.heartbeat_ms, 1000u) * 1000, USEC_PER_SEC, on_heartbeat, a)) < 0)
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
	sealer_free(a->sealer);
	stop_sources(a, false);
	sd_event_source_disable_unref(a->reader);
	sd_event_source_disable_unref(a->flush_timer);
	sd_event_source_disable_unref(a->poll_timer);
	sd_event_source_disable_unref(a->inventory_timer);
	sd_event_source_disable_unref(a->heartbeat_timer);
	sd_event_source_disable_unref(a->metrics_timer);
	hostmetrics_free(a->hostmetrics);
	sd_event_unref(a->event);
	spool_free(a->spool);
	buf_free(&a->batch);
	buf_free(&a->host_field);
	free(a->cps);
	agent_conf_free(a->conf);
}

static int print_status(struct agent_conf *conf)
{
	uint8_t id[AGENT_ID_SIZE];
	char hex[2 * AGENT_ID_SIZE + 1];
	sd_id128_t legacy;
	struct spool *s;
	int r = spool_open(conf->agent.state_dir, DB_SYNC_NORMAL, conf->spool.max_bytes, &s);

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
			 "       vigil-agent --version\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "status", no_argument, NULL, 's' },
		{ "new-id", no_argument, NULL, 'N' },
		{ "version", no_argument, NULL, 'V' },
		{ "list-config-keys", no_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct agent a = { 0 };
	bool check = false, status = false, renew = false;
	int c, r;

	log_setup("vigil-agent");
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'c': a.config_path = optarg; break;
		case 'C': check = true; break;
		case 's': status = true; break;
		case 'N': renew = true; break;
		case 'V': printf("vigil-agent %s\n", PACKAGE_VERSION); return 0;
		case 'K': conf_schema_print(&agent_conf_schema, stdout); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!a.config_path || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (agent_conf_load(a.config_path, &a.conf) < 0)
		return 1;
	if (check) {
		printf("%s: OK\n", a.config_path);
		agent_conf_free(a.conf);
		return 0;
	}
	if (status || renew) {
		r = status ? print_status(a.conf) : new_identity(a.conf);
		agent_conf_free(a.conf);
		return r < 0 ? 1 : 0;
	}
	r = agent_setup(&a);
	if (r == 0) {
		(void)sd_notifyf(false, "READY=1\nSTATUS=running, %zu tail sources%s, %zu probes", a.n_tails,
				 a.journal ? ", journal" : "", a.n_probes);
		log_info("started: %zu tail sources%s, %zu probes, collector %s, state in %s", a.n_tails,
			 a.journal ? ", journal" : "", a.n_probes, a.conf->collector.t.address, a.conf->agent.state_dir);
		r = sd_event_loop(a.event);
	}
	agent_done(&a);
	return r < 0 ? 1 : 0;
}
