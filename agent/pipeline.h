/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_PIPELINE_H
#define VIGIL_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "agent/agent_conf.h"
#include "agent/sink.h"
#include "agent/spool.h"
#include "common/buf.h"

/*
 * The batch pipeline: records go into the open batch; a full batch, or one
 * older than [batch] max_delay_ms, is sealed (compressed on the sealer's
 * thread while reading goes on) and then committed to the spool in one
 * transaction with the sources' checkpoints taken when it was sealed. Batches
 * commit in order, one in the sealer at a time. While a commit fails, both
 * are kept and retried and reading pauses: nothing read is lost.
 */
struct pipeline;

/* What the pipeline asks of the agent's sources and connection. */
struct pipeline_hooks {
	/* An upper bound on the checkpoints the sources hold. */
	size_t (*checkpoints_max)(void *userdata);
	/* Writes the sources' positions now (at most cap), returns how many. */
	size_t (*checkpoints)(void *userdata, struct spool_checkpoint *cps, size_t cap);
	/* The positions last taken were stored (ok) or not: the sources move on, or keep theirs. */
	void (*checkpoints_done)(void *userdata, bool ok);
	/* A batch is in the spool: there is something to ship. */
	void (*committed)(void *userdata);
	/* Reading may go on (a commit made room; a source has news). */
	void (*wake)(void *userdata);
	void *userdata;
};

/*
 * A pipeline for the agent id, writing to spool (not owned) under conf's
 * [batch] settings (pipeline_set_conf() replaces them at a reload); hostname
 * goes into every record. *ret is the caller's, freed by pipeline_free().
 */
int pipeline_new(sd_event *event, struct spool *spool, const struct agent_conf *conf,
		 const uint8_t id[AGENT_ID_SIZE], const char *hostname, const struct pipeline_hooks *hooks,
		 struct pipeline **ret);
/* Waits for the sealer; what was not drained stays unread (its sources' checkpoints did not move). */
void pipeline_free(struct pipeline *p);
/* conf (not owned) must outlive the pipeline or the next call. */
void pipeline_set_conf(struct pipeline *p, const struct agent_conf *conf);

/* What the sources hand their records to (see sink.h); lines are stamped with pipeline_set_read_time(). */
const struct source_sink *pipeline_sink(struct pipeline *p);
/* The read time of the lines a reader pass takes: one clock read a pass, not a line. */
void pipeline_set_read_time(struct pipeline *p, uint64_t realtime_us);
/* False while the spool is full or a commit failed: reading pauses. */
bool pipeline_can_read(struct pipeline *p);
/*
 * n records of another identity, id (a device the agent relays), as a
 * batch of their own, after the open batch: its own frame in the spool, no
 * checkpoint moved. *records is swapped with an empty buffer.
 */
int pipeline_relay(struct pipeline *p, const uint8_t id[AGENT_ID_SIZE], struct buf *records, uint32_t n);

/*
 * A record of the agent's own (probe result, metric, inventory, heartbeat):
 * time, host, VIGIL_KIND=kind, then fields (NULL: none). now: seal at once
 * (a changed probe status is what the collector alerts on). 0 once it is in
 * a batch (a seal that fails then is retried, the record kept); one that
 * cannot be batched is counted as dropped and logged.
 */
int pipeline_add_own(struct pipeline *p, const char *kind, const struct buf *fields, bool now);
/* A record of the agent's own that could not even be made (err): counted as dropped and logged. */
void pipeline_dropped(struct pipeline *p, const char *kind, int err);

/* Seals the open batch (or, empty, stores the checkpoints that moved). */
int pipeline_flush(struct pipeline *p);
/* Everything read so far into the spool: before a reload, at shutdown. */
int pipeline_drain(struct pipeline *p);
/* The once-a-second tick: retries a failed commit, stores moved checkpoints, says when the spool fills or empties. */
void pipeline_tick(struct pipeline *p);
/* Whether a batch was sealed since the last call or one is open (a heartbeat is not needed). */
bool pipeline_busy_since(struct pipeline *p);

#endif
