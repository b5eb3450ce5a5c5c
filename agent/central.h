/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_CENTRAL_H
#define VIGIL_CENTRAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <systemd/sd-event.h>

#include "agent/agent_conf.h"
#include "agent/shipper.h"
#include "common/buf.h"

/*
 * The configuration the collector's config groups give this host
 * (docs/control.md). When a batch's reply names a config generation this
 * agent has not asked at, it asks for its configuration on the batches'
 * socket; what comes is checked against the local [central] section and
 * loaded over the local files, and only then written to STATE_DIR/central.conf
 * and put in force through the reload path (drained first). What fails
 * leaves the running configuration as it is, and is reported with the
 * inventory (HOST_CONFIG_*) until a later one holds.
 */
struct central;

/*
 * config_path is borrowed. changed(ud, reload) is called on the event loop
 * when what to report changed: with reload, a new central.conf was
 * written (or removed) and wants the reload path.
 */
int central_new(const char *config_path, void (*changed)(void *ud, bool reload), void *ud, struct central **ret);
void central_free(struct central *ce); /* NULL is fine */

/*
 * The local files with central.conf over them when it holds, or the local
 * files alone (the failure kept for the report) when it does not: -errno
 * only when the local files themselves do not load (printed to stderr).
 */
int central_load(struct central *ce, struct agent_conf **ret);

/* The shipper (borrowed) asks and answers on event from now on; agent_id is this agent's. */
void central_attach(struct central *ce, sd_event *event, struct shipper *sh, const uint8_t *agent_id);

/* The dial tests in force with the central configuration (borrowed until the next central_load()), or NULL. */
json_t *central_dialtests(const struct central *ce);

/* For --check-config: the version in force, or why the central configuration is not, one line to f. */
void central_report(const struct central *ce, FILE *f);

/* HOST_CONFIG_VERSION, _APPLIED, _ERROR and _WANTED, as far as they hold, appended to an inventory record. */
int central_inventory(const struct central *ce, struct buf *out);

#endif
