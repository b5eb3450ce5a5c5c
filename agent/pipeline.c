/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>

#include "agent/journal.h"
#include "agent/lineprio.h"
#include "agent/pipeline.h"
#include "agent/sealer.h"
#include "agent/tail.h"
#include "common/export.h"
#include "common/fields.h"
#include "common/frame.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/util.h"
#include "parse/out.h"

/* Room kept in a batch beyond a record's payload: its fixed fields. */
#define RECORD_OVERHEAD 4096

struct pipeline {
	const struct agent_conf *conf;
	struct spool *spool;
	struct sealer *sealer;
	struct pipeline_hooks hooks;
	struct source_sink sink;
	uint8_t id[AGENT_ID_SIZE];
	struct buf host_field;
	struct buf batch;
	uint32_t batch_records;
	sd_event_source *flush_timer;
	struct spool_checkpoint *cps;
	size_t cps_cap;
	size_t n_cps; /* the snapshot of the batch in the sealer */
	bool commit_failed;
	bool spool_was_full;
	bool sealed_since; /* see pipeline_busy_since() */
	uint64_t now_us;
};

bool pipeline_can_read(struct pipeline *p)
{
	return !p->commit_failed && !spool_full(p->spool);
}

/* data may be NULL when n is 0 (a line without fields of its own). */
static void put(struct buf *b, const void *data, size_t n)
{
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
}

/* The first record of a batch starts its max_delay_ms clock. */
static void batch_opened(struct pipeline *p)
{
	if (p->batch_records++ == 0) {
		(void)sd_event_source_set_time_relative(p->flush_timer, p->conf->batch.max_delay_ms * 1000);
		(void)sd_event_source_set_enabled(p->flush_timer, SD_EVENT_ONESHOT);
	}
}

/*
 * One line becomes one record. The fixed fields are copied from prebuilt
 * export-format pieces: this runs for every line read.
 */
static int sink_line(void *userdata, struct tail_file *f, const struct tail_line *l)
{
	static const char ts_key[] = "__REALTIME_TIMESTAMP=";
	struct pipeline *p = userdata;
	size_t flen, tlen, len = l->len;
	const uint8_t *fields = tail_file_fields(f, &flen);
	int prio = l->priority >= 0 ? l->priority : line_priority(l->msg, len), r;
	char ts[21], pfield[12] = "PRIORITY=0\n";

	if (p->batch.len + len + flen + l->fields_len + RECORD_OVERHEAD > p->batch.max) {
		r = pipeline_flush(p);
		if (r < 0)
			return r;
	}
	tlen = format_u64(l->time_us ? l->time_us : p->now_us, ts);
	r = buf_reserve(&p->batch, sizeof(ts_key) + tlen + p->host_field.len + flen + l->fields_len + sizeof(pfield));
	if (r < 0)
		return log_error_errno(r, "batch: cannot add a line of %zu bytes: %m", len);
	put(&p->batch, ts_key, sizeof(ts_key) - 1);
	put(&p->batch, ts, tlen);
	put(&p->batch, "\n", 1);
	put(&p->batch, p->host_field.data, p->host_field.len);
	put(&p->batch, fields, flen);
	put(&p->batch, l->fields, l->fields_len);
	if (prio >= 0) {
		pfield[9] = (char)('0' + prio);
		put(&p->batch, pfield, 11);
	}
	r = export_put_n(&p->batch, FIELD_MESSAGE, FIELD_LEN(FIELD_MESSAGE), l->msg, len);
	if (r == 0)
		r = export_end_entry(&p->batch);
	if (r < 0)
		return log_error_errno(r, "batch: cannot add a line of %zu bytes: %m", len);
	batch_opened(p);
	return 0;
}

/* A whole record from a source that builds its own (the journal). */
static int sink_record(void *userdata, const void *fields, size_t len)
{
	struct pipeline *p = userdata;
	int r;

	if (p->batch.len + len + RECORD_OVERHEAD > p->batch.max) {
		r = pipeline_flush(p);
		if (r < 0)
			return r;
	}
	r = buf_reserve(&p->batch, len + 1);
	if (r < 0)
		return log_error_errno(r, "batch: cannot add a record of %zu bytes: %m", len);
	put(&p->batch, fields, len);
	put(&p->batch, "\n", 1);
	batch_opened(p);
	return 0;
}

static int sink_advanced(void *userdata)
{
	struct pipeline *p = userdata;

	if (p->batch_records >= p->conf->batch.max_records || p->batch.len >= p->conf->batch.max_bytes)
		return pipeline_flush(p);
	return 0;
}

static bool sink_can_read(void *userdata)
{
	return pipeline_can_read(userdata);
}

static void sink_count(void *userdata, enum spool_counter c)
{
	struct pipeline *p = userdata;

	spool_count(p->spool, c, 1);
}

static void sink_wake(void *userdata)
{
	struct pipeline *p = userdata;

	p->hooks.wake(p->hooks.userdata);
}

static size_t take_checkpoints(struct pipeline *p)
{
	size_t need = p->hooks.checkpoints_max(p->hooks.userdata);

	if (need > p->cps_cap) {
		struct spool_checkpoint *cps = realloc(p->cps, need * sizeof(*cps));
		if (!cps)
			return 0;
		p->cps = cps;
		p->cps_cap = need;
	}
	return p->hooks.checkpoints(p->hooks.userdata, p->cps, p->cps_cap);
}

static void checkpoints_done(struct pipeline *p, bool ok)
{
	p->hooks.checkpoints_done(p->hooks.userdata, ok);
	p->n_cps = 0;
}

static void commit_failed(struct pipeline *p, int r, uint64_t seq, uint32_t records)
{
	if (!p->commit_failed)
		log_error_errno(r, "spool: cannot store batch %" PRIu64 " (%u records): %m; reading paused, retrying",
				seq, records);
	p->commit_failed = true;
}

/*
 * Commits the batch the sealer finished, with the checkpoints snapshotted
 * when it was sealed, in one transaction. On failure both are kept and
 * retried (on the tick); reading stays paused meanwhile.
 */
static int commit_sealed(struct pipeline *p)
{
	struct frame_header h;
	const struct buf *frame;
	int r;

	frame = sealer_result(p->sealer, &h, &r);
	if (!frame)
		return 0;
	if (r < 0) {
		sealer_retry(p->sealer);
		commit_failed(p, r, h.seq, h.records);
		return r;
	}
	r = spool_append(p->spool, h.seq, h.created_us, h.records, frame->data, frame->len, p->cps, p->n_cps);
	if (r < 0) {
		commit_failed(p, r, h.seq, h.records);
		return r;
	}
	sealer_release(p->sealer);
	if (p->commit_failed)
		log_info("spool: batch %" PRIu64 " stored, reading resumes", h.seq);
	p->commit_failed = false;
	checkpoints_done(p, true);
	p->hooks.committed(p->hooks.userdata);
	if (pipeline_can_read(p))
		p->hooks.wake(p->hooks.userdata);
	return 0;
}

static void on_sealed(void *userdata)
{
	(void)commit_sealed(userdata);
}

/*
 * The checkpoints are snapshotted now and the batch goes to the sealer. One
 * batch is in the sealer at a time, so this first waits for and commits the
 * one before.
 */
int pipeline_flush(struct pipeline *p)
{
	struct frame_header h = { .version = FRAME_VERSION };
	int r;

	sealer_wait(p->sealer);
	r = commit_sealed(p);
	if (r < 0)
		return r;
	p->n_cps = take_checkpoints(p);
	if (p->batch_records == 0) {
		r = p->n_cps || spool_counters_dirty(p->spool) ? spool_checkpoints_write(p->spool, p->cps, p->n_cps) : 0;
		checkpoints_done(p, r == 0);
		return r;
	}
	memcpy(h.agent_id, p->id, sizeof(h.agent_id));
	h.seq = spool_next_seq(p->spool);
	h.records = p->batch_records;
	h.raw_len = (uint32_t)p->batch.len;
	h.created_us = now_realtime_us();
	r = sealer_submit(p->sealer, &p->batch, &h, (int)p->conf->batch.zstd_level);
	if (r < 0)
		return log_error_errno(r, "batch %" PRIu64 ": cannot seal: %m", h.seq);
	p->sealed_since = true;
	p->batch_records = 0;
	(void)sd_event_source_set_enabled(p->flush_timer, SD_EVENT_OFF);
	/* A small batch was compressed in place: committed now (a failure is retried on the tick, nothing lost). */
	(void)commit_sealed(p);
	return 0;
}

int pipeline_relay(struct pipeline *p, const uint8_t id[AGENT_ID_SIZE], struct buf *records, uint32_t n)
{
	struct frame_header h = { .version = FRAME_VERSION };
	int r = pipeline_flush(p);

	/* The agent's own batch goes first, and the sealer is free for this one: its seq follows. */
	if (r == 0) {
		sealer_wait(p->sealer);
		r = commit_sealed(p);
	}
	if (r < 0)
		return r;
	memcpy(h.agent_id, id, sizeof(h.agent_id));
	h.seq = spool_next_seq(p->spool);
	h.records = n;
	h.raw_len = (uint32_t)records->len;
	h.created_us = now_realtime_us();
	r = sealer_submit(p->sealer, records, &h, (int)p->conf->batch.zstd_level);
	if (r < 0)
		return log_error_errno(r, "batch %" PRIu64 ": cannot seal: %m", h.seq);
	p->sealed_since = true;
	(void)commit_sealed(p);
	return 0;
}

int pipeline_drain(struct pipeline *p)
{
	int r = pipeline_flush(p);

	if (r == 0) {
		sealer_wait(p->sealer);
		r = commit_sealed(p);
	}
	return r;
}

void pipeline_tick(struct pipeline *p)
{
	if (p->commit_failed)
		(void)commit_sealed(p);
	else if (p->batch_records == 0)
		(void)pipeline_flush(p); /* checkpoints that moved with no lines: a file let go, a rewind */
	if (spool_full(p->spool) != p->spool_was_full) {
		p->spool_was_full = !p->spool_was_full;
		if (p->spool_was_full)
			log_warning("spool full (%" PRIu64 " bytes, cap %" PRIu64 "): reading paused until the collector acknowledges",
				    spool_bytes(p->spool), p->conf->spool.max_bytes);
		else
			log_notice("spool below its cap again: reading resumes");
	}
}

bool pipeline_busy_since(struct pipeline *p)
{
	bool busy = p->sealed_since || p->batch_records > 0;

	p->sealed_since = false;
	return busy;
}

int pipeline_add_own(struct pipeline *p, const char *kind, const struct buf *fields, bool now)
{
	struct buf rec;
	int r;

	buf_init(&rec, 256 * 1024);
	r = export_put_u64(&rec, FIELD_TIME, now_realtime_us());
	if (r == 0)
		r = buf_append(&rec, p->host_field.data, p->host_field.len);
	if (r == 0)
		r = export_put_str(&rec, FIELD_KIND, kind);
	if (r == 0 && fields)
		r = buf_append(&rec, fields->data, fields->len);
	if (r == 0)
		r = sink_record(p, rec.data, rec.len);
	if (r < 0)
		pipeline_dropped(p, kind, r);
	/* In the batch now: a seal or commit that fails keeps it, retried on the tick, not dropped. */
	else
		(void)(now ? pipeline_flush(p) : sink_advanced(p));
	buf_free(&rec);
	return r;
}

void pipeline_dropped(struct pipeline *p, const char *kind, int err)
{
	spool_count(p->spool, SPOOL_CTR_RECORDS_DROPPED, 1);
	log_warning_errno(err, "%s record not recorded (%m), counted as dropped.", kind);
}

const struct source_sink *pipeline_sink(struct pipeline *p)
{
	return &p->sink;
}

void pipeline_set_read_time(struct pipeline *p, uint64_t realtime_us)
{
	p->now_us = realtime_us;
}

void pipeline_set_conf(struct pipeline *p, const struct agent_conf *conf)
{
	uint64_t max_line = 0;

	p->conf = conf;
	/* A parsed line's fields hold at most its text again, with their names (PARSE_FIELDS_MAX of them). */
	for (size_t i = 0; i < conf->n_tails; i++)
		max_line = MAX(max_line, 2 * conf->tails[i]->max_line_bytes + PARSE_FIELDS_MAX * 2 * EXPORT_KEY_MAX);
	if (conf->journal.enabled)
		max_line = MAX(max_line, (uint64_t)JOURNAL_ENTRY_MAX);
	/* Keeps the capacity; a reload may change the ceiling. */
	p->batch.max = conf->batch.max_bytes + max_line + RECORD_OVERHEAD + p->host_field.len;
}

static int on_flush_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)pipeline_flush(userdata);
	return 0;
}

int pipeline_new(sd_event *event, struct spool *spool, const struct agent_conf *conf,
		 const uint8_t id[AGENT_ID_SIZE], const char *hostname, const struct pipeline_hooks *hooks,
		 struct pipeline **ret)
{
	struct pipeline *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	p->spool = spool;
	p->hooks = *hooks;
	p->sink = (struct source_sink){
		.line = sink_line,
		.record = sink_record,
		.advanced = sink_advanced,
		.can_read = sink_can_read,
		.count = sink_count,
		.wake = sink_wake,
		.userdata = p,
	};
	memcpy(p->id, id, sizeof(p->id));
	buf_init(&p->host_field, 1024);
	r = export_put_str(&p->host_field, FIELD_HOST, hostname);
	if (r < 0)
		goto fail;
	pipeline_set_conf(p, conf);
	r = sealer_new(event, on_sealed, p, &p->sealer);
	if (r < 0)
		goto fail;
	r = sd_event_add_time_relative(event, &p->flush_timer, CLOCK_MONOTONIC, UINT64_MAX / 2, 0, on_flush_timer, p);
	if (r < 0) {
		log_error_errno(r, "event loop setup: %m");
		goto fail;
	}
	(void)sd_event_source_set_enabled(p->flush_timer, SD_EVENT_OFF);
	*ret = p;
	return 0;
fail:
	pipeline_free(p);
	return r;
}

void pipeline_free(struct pipeline *p)
{
	if (!p)
		return;
	sealer_free(p->sealer);
	sd_event_source_disable_unref(p->flush_timer);
	buf_free(&p->batch);
	buf_free(&p->host_field);
	free(p->cps);
	free(p);
}
