/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_ALERTING_INTERNAL_H
#define VIGIL_ALERTING_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <systemd/sd-event.h>

#include "alerts/alerting.h"
#include "alerts/silences.h"
#include "store/pgstore.h"

/* The evaluator's state, shared by alerting.c (the evaluation) and ops.c (what the API asks of it). */

/* When an agent was last heard from. */
struct last_seen {
	char agent[33];
	uint64_t at;
};

struct alerting {
	struct alerting_env env;
	struct catalog *catalog;
	pthread_mutex_t lock;
	sqlite3 *db;
	struct alert_store *store; /* meta.db's, or the shared database's */
	struct storage_reader *fleet; /* the fleet's state the rules read: the shared store's when there is one */
	char holder[300];             /* this collector's name among those that may lead (process_name()) */
	enum alert_lead lead; /* of the evaluation, with several collectors on one database */
	bool catalog_stale;   /* the definitions could not be read again: logged once */
	sd_event_source *timer; /* every [alerts] interval */
	sd_event_source *soon;  /* after new probe results or log matches, debounced */
	sd_event_source *wake;  /* the eventfd ingest's writer pokes */
	struct pgstore_listener *listener; /* with a shared store: another collector stored what may change an alert */
	sd_event_source *heard; /* its socket; NULL while it is not connected */
	sd_event *event;
	int wake_fd;
	uint64_t last_end_us, last_took_us; /* monotonic: when the last evaluation ended, how long it took */
	bool enqueued;          /* the evaluation queued notifications */
	void (*on_enqueued)(void *userdata);
	void *on_enqueued_data;
	struct silence_store silence_store; /* meta.db's, or the shared database's (its db ours then) */
	json_t *silences; /* matchers of the silences in force, read at each evaluation */
	bool silences_stale; /* the last read failed: those read before still apply (logged once) */
	/* The fingerprints of the open alerts of the rule being evaluated, sorted (strcmp). */
	char **open;
	size_t n_open, cap_open;
	struct last_seen *last_seen; /* every agent's, sorted by agent, read at each evaluation */
	size_t n_last_seen, cap_last_seen;
};

#endif
