/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_FLEET_H
#define VIGIL_FLEET_H

#include <stdint.h>

#include "store/hosts.h"
#include "store/storage.h"

/*
 * The fleet's state as the API shows it: from the store the collectors
 * share when there is one (every collector's hosts: pgstore.h), else from
 * this collector's meta.db (hosts.h). The same rows and filters either
 * way; the shared store out of reach is its connection's error (-ECONNREFUSED,
 * -EPIPE, ...), never an empty fleet.
 */
int fleet_hosts_each(struct storage_reader *r, const struct host_filter *f,
		     int (*fn)(const struct host_row *h, void *ctx), void *ctx);
int fleet_probes_each(struct storage_reader *r, const struct probe_state_filter *f,
		      int (*fn)(const struct probe_state_row *p, void *ctx), void *ctx);
int fleet_conflicts_each(struct storage_reader *r, const char *agent, uint64_t since_us,
			 int (*fn)(const struct agent_conflict *c, void *ctx), void *ctx);

#endif
