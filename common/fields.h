/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_FIELDS_H
#define VIGIL_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The record fields the agent and the collector agree on (docs/protocol.md):
 * every name one side writes and the other reads is here. A probe type's
 * detail fields (PROBE_DNS_US, ...) are written by its module alone and only
 * shown, so they stay there.
 *
 * The agent's own records (probe results, metrics, inventory, heartbeats)
 * use names in reserved namespaces; a record read from a source (the
 * journal, where any program may add fields) that carries such a name has
 * it renamed, so no source can pass for the agent.
 */

/* Every record's. */
#define FIELD_TIME "__REALTIME_TIMESTAMP" /* microseconds since the epoch */
#define FIELD_HOST "_HOSTNAME"
#define FIELD_MESSAGE "MESSAGE"
#define FIELD_PRIORITY "PRIORITY" /* syslog's 0-7 */
#define FIELD_KIND "VIGIL_KIND"   /* absent: a log record */

/* The values of FIELD_KIND. */
#define KIND_PROBE "probe"
#define KIND_METRIC "metric"
#define KIND_INVENTORY "inventory"
#define KIND_HEARTBEAT "heartbeat"
#define KIND_EVENT "event" /* the agent's own news about a source: a journal gap */

/* A log record's stream: the fields that name where it came from. */
#define FIELD_SOURCE "VIGIL_SOURCE" /* the [tail] or [journal] section's name */
#define FIELD_PATH "VIGIL_PATH"
#define FIELD_UNIT "_SYSTEMD_UNIT"
#define FIELD_IDENTIFIER "SYSLOG_IDENTIFIER"
#define SOURCE_JOURNAL "journal" /* the FIELD_SOURCE of the journal's records */
/* Those four, in the order a stream is named by; NULL-terminated. */
#define FIELD_STREAM_KEYS 4
extern const char *const field_stream_keys[FIELD_STREAM_KEYS + 1];

/* A container's log line's (tail format=cri or docker; parse/container.h). */
#define FIELD_CONTAINER_STREAM "CONTAINER_STREAM" /* stdout or stderr */
#define FIELD_CONTAINER_NAME "CONTAINER_NAME"
#define FIELD_CONTAINER_ID "CONTAINER_ID"
#define FIELD_K8S_POD "K8S_POD"
#define FIELD_K8S_NAMESPACE "K8S_NAMESPACE"

/* An event's. */
#define FIELD_EVENT "VIGIL_EVENT"
#define FIELD_LOST_CURSOR "VIGIL_LOST_CURSOR"

/* A probe result's (a dial test's too, with PROBE_TYPE "dialtest"). */
#define FIELD_PROBE_NAME "PROBE_NAME"
#define FIELD_PROBE_TYPE "PROBE_TYPE"
#define FIELD_PROBE_STATUS "PROBE_STATUS"
#define FIELD_PROBE_LATENCY_US "PROBE_LATENCY_US"

/* A metric record's: its set, then METRIC_<NAME> values and the fields naming its instance. */
#define FIELD_METRIC_SET "METRIC_SET"
#define FIELD_METRIC_PREFIX "METRIC_"
#define FIELD_METRIC_MOUNT "METRIC_MOUNT"
#define FIELD_METRIC_DEVICE "METRIC_DEVICE"
#define FIELD_METRIC_INTERFACE "METRIC_INTERFACE"
#define FIELD_METRIC_TEST "METRIC_TEST"

/* A dial test run's, besides its probe-result fields. */
#define DIALTEST_TYPE "dialtest" /* its PROBE_TYPE and METRIC_SET */
#define FIELD_DIALTEST_ID "DIALTEST_ID"
#define FIELD_DIALTEST_OUTCOME "DIALTEST_OUTCOME"
#define FIELD_DIALTEST_LABELS "DIALTEST_LABELS"
#define FIELD_DIALTEST_RESULT "DIALTEST_RESULT"

/* A name's length, for the compare-by-length helpers. */
#define FIELD_LEN(name) (sizeof(name) - 1)

/* Prepended to a reserved name found in a source's record: VIGIL_KIND becomes USER_VIGIL_KIND. */
#define FIELD_RENAMED_PREFIX "USER_"

/* Whether key (len bytes) is in a namespace the agent reserves for its own records. */
bool field_reserved(const char *key, size_t len);

#endif
