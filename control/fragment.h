/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_FRAGMENT_H
#define VIGIL_FRAGMENT_H

#include "common/conf.h"

/*
 * config, the text of the config group called name, checked with the
 * agent's own checker (agent_conf_check_fragment()) and for what no agent
 * takes from the collector whatever it allows: its connection, spool,
 * batches, enrollment, device relay and [central]. 0, or < 0 with errs
 * ("group NAME:LINE: ...").
 */
int fragment_check(const char *name, const char *config, struct conf_errors *errs);

#endif
