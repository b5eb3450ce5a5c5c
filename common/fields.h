/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_FIELDS_H
#define VIGIL_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The record fields the agent and the collector agree on (docs/protocol.md).
 * The agent's own records (probe results, metrics, inventory, heartbeats)
 * use names in reserved namespaces; a record read from a source (the
 * journal, where any program may add fields) that carries such a name has
 * it renamed, so no source can pass for the agent.
 */

/* Prepended to a reserved name found in a source's record: VIGIL_KIND becomes USER_VIGIL_KIND. */
#define FIELD_RENAMED_PREFIX "USER_"

/* Whether key (len bytes) is in a namespace the agent reserves for its own records. */
bool field_reserved(const char *key, size_t len);

#endif
