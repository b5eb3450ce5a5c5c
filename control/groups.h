/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_GROUPS_H
#define VIGIL_GROUPS_H

#include <jansson.h>
#include <stdint.h>

#include "common/buf.h"

struct storage_conf;
struct dialtests;

/*
 * The config groups (docs/control.md): fragments of agent configuration
 * in the agent's own syntax, each for the agents whose labels its selector
 * holds, composed in order. Kept through the definitions' store
 * (alerts/defstore.h: meta.db's, or the shared database's), of kind
 * "agentconfig" (each group now) and "agentconfig-version" ("NAME/V":
 * each version as it was given, kept after the group is deleted). Every
 * call is thread-safe: ingest composes on nng's threads.
 */
struct config_groups;

#define GROUP_NAME_MAX 64
#define GROUP_CONFIG_MAX (64 * 1024)

/* storage is borrowed. */
int config_groups_open(const struct storage_conf *storage, struct config_groups **ret);
void config_groups_free(struct config_groups *g); /* NULL is fine */

/* With backend=postgresql: the groups another collector changed, in force here. */
int config_groups_refresh(struct config_groups *g);

/* The dial tests agents run (control/vantages.h) go with their configuration from now on; d is borrowed. */
void config_groups_set_dialtests(struct config_groups *g, struct dialtests *d);

/* What the groups (and the tests agents run) are now, as one number that is never 0 (the batches' replies carry it). */
uint32_t config_groups_generation(struct config_groups *g);

/*
 * The configuration for an agent (its id in hex, for the rollouts) of
 * labels into out (reset first), the dial tests it runs into tests (a JSON
 * array, or empty; NULL: not wanted), and the version of both: CONFIG_OK,
 * or CONFIG_NONE when no group selects it and it runs no test
 * (common/confmsg.h).
 */
int config_groups_compose(struct config_groups *g, const char *labels, const char *agent, struct buf *out,
			  struct buf *tests, uint32_t *ret_version);

/* The version an agent (hex id) of labels should run: its configuration's, or 0 when no group is for it. */
uint32_t config_groups_version_for(struct config_groups *g, const char *labels, const char *agent);

/*
 * {"generation", "items": [{name, selector, order, version, config,
 * author, updated}]} in composing order, or the one called name (-ENOENT).
 */
int config_groups_list(struct config_groups *g, const char *name, json_t **ret);
/* {"name", "items": [each version, oldest first]}; -ENOENT when it never was. */
int config_groups_versions(struct config_groups *g, const char *name, json_t **ret);

/*
 * Defines name, or its next version, from def: {"selector": "k=v ...",
 * "order": 0..1000 (50), "config": "INI text", "rollout": {"canary":
 * "k=v ...", "percent": 0..100}}, the config checked as an agent reads it
 * (control/fragment.h). With rollout, only the agents the canary selector
 * holds and that percent of the others get the new version; the rest keep
 * the one they had (none, for a new group) until config_groups_promote().
 * The answer is the group as listed. -EINVAL with reason ("group NAME:LINE: ...").
 */
int config_groups_put(struct config_groups *g, const char *name, json_t *def, const char *author, json_t **ret,
		      char *reason, size_t reason_size);
/* The version being rolled out, for every agent the group selects: -ENOENT, -EINVAL (none is) with reason. */
int config_groups_promote(struct config_groups *g, const char *name, const char *author, json_t **ret, char *reason,
			  size_t reason_size);
/* -ENOENT when there is none; its versions stay. */
int config_groups_delete(struct config_groups *g, const char *name, char *reason, size_t reason_size);

/*
 * {"labels", "groups": [{name, version}], "version", "config", "dialtests":
 * [definitions]} of what an agent (hex id, or NULL) of labels runs.
 */
int config_groups_preview(struct config_groups *g, const char *labels, const char *agent, json_t **ret);

#endif
