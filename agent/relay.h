/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_RELAY_H
#define VIGIL_RELAY_H

#include <systemd/sd-event.h>

#include "agent/pipeline.h"
#include "agent/spool.h"
#include "syslog/receiver.h"

/*
 * The agent's [syslog] (docs/security-center.md, Relaying): the devices of
 * its network segment send to it, and each device's records go into the
 * spool as batches of the device's own identity, in order with the
 * agent's, so they reach the collector as durably as the agent's lines and
 * each device is a host there. The receiver's thread hands its batches to
 * the event loop through a bounded queue; past it the oldest are dropped
 * and counted (syslog_dropped in --status), as they are while the spool is
 * full.
 */
struct relay;

/* Copies c (a reload keeps what it started with); pipeline and spool outlive *ret. NULL *ret: no listen=. */
int relay_start(const struct syslog_conf *c, sd_event *event, struct pipeline *p, struct spool *spool,
		struct relay **ret);
/* Stops receiving and hands what is queued to the pipeline. NULL is fine. */
void relay_stop(struct relay *r);
/* Hands queued batches to the pipeline while it can take them: each tick, and when the receiver has news. */
void relay_drain(struct relay *r);

#endif
