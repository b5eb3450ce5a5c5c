/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_SHIPPER_H
#define VIGIL_SHIPPER_H

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "agent/agent_conf.h"
#include "agent/spool.h"
#include "common/confmsg.h"

/*
 * Sends spooled batches to the collector over nng REQ, several in flight
 * (one nng context each), oldest first. A batch is deleted from the spool
 * only on a "stored" or "duplicate" reply, moved to quarantine on
 * "rejected", and retried with exponential backoff otherwise. nng's threads
 * only hand completions over an eventfd; all spool work runs on the event loop.
 */
struct shipper;

struct shipper_stats {
	uint64_t acked;
	uint64_t duplicates;
	uint64_t quarantined;
	uint64_t retries;
	uint64_t conflicts; /* batches refused: another host uses this agent's id */
	uint64_t conflict_us; /* monotonic time of the last such refusal */
	uint64_t refusals; /* batches refused: under TLS, this agent's id belongs to another certificate */
	uint64_t refusal_us; /* monotonic time of the last one */
	int64_t skew_us; /* collector clock minus ours, from the last reply */
	unsigned connected;
};

/*
 * conf and spool are borrowed. drained is called on the event loop after a
 * batch left the spool, so a paused reader may resume.
 */
int shipper_new(sd_event *event, const struct agent_conf *conf, struct spool *spool,
		void (*drained)(void *userdata), void *userdata, struct shipper **ret);
/* Aborts what is in flight (it stays spooled) and frees. NULL is fine. */
void shipper_free(struct shipper *sh);
/* A reloaded configuration whose [collector] section is the old one's: conf is borrowed from now on. */
void shipper_set_conf(struct shipper *sh, const struct agent_conf *conf);
/* New batches were spooled: fill free slots. */
void shipper_kick(struct shipper *sh);
void shipper_get_stats(const struct shipper *sh, struct shipper_stats *ret);

/*
 * The central configuration's channel (agent/central.h): generation(ud, g)
 * for each reply that names the collector's config generation (not 0),
 * done(ud, reply, 0) for the answer to shipper_ask_config(), or done(ud,
 * NULL, -errno) when none came. Both on the event loop.
 */
void shipper_on_config(struct shipper *sh, void (*generation)(void *ud, uint32_t generation),
		       void (*done)(void *ud, const struct config_reply *rep, int err), void *ud);
/* Sends q on the socket the batches go on; -EBUSY while an earlier one is out. */
int shipper_ask_config(struct shipper *sh, const struct config_request *q);

#endif
