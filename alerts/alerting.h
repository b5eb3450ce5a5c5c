/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_ALERTING_H
#define VIGIL_ALERTING_H

#include <jansson.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "alerts/alertstore.h"
#include "alerts/catalog.h"
#include "alerts/defs.h"
#include "alerts/rules.h"
#include "store/hosts.h"
#include "store/storage.h"

/*
 * The evaluator: every [alerts] interval (and soon after ingest stored
 * what may change an alert) each rule's type (alerts/rules.h) hands it the
 * things the rule watches, and each thing's alert is stepped through its
 * lifecycle (alerts/alert.h), stored (alerts/alertstore.h), silenced
 * (alerts/silences.h) and told (alerts/routes.h). Alerts and their history
 * live in meta.db, on a connection of its own shared by the evaluator (on
 * the event loop) and the HTTP threads (ops actions) under a lock. One
 * alert per fingerprint (rule, agent, probe) until an operator closes it.
 */

/* [alerts] */
struct alerts_conf {
	uint64_t interval_ms;
	char *console_url; /* messages link to <console_url>/alerts/ID; NULL: the console at [http] listen */
};

/* What the evaluator works with; all borrowed, and outliving it. */
struct alerting_env {
	const struct alerts_conf *alerts;
	const struct hosts_conf *hosts;
	const struct storage_conf *storage;
	const struct alert_defs *file; /* the file's routes */
	const char *api_listen;        /* [http] listen, for links without a console_url */
	bool api_tls;                  /* whether the API (and its console) speaks HTTPS */
	/* The dial tests' quorums and vantages (rules.h; NULL: every test "1 of 0" anywhere), on the evaluator's thread. */
	bool (*dialtest_quorum)(void *ctx, const char *name, const char *labels, struct rule_quorum *ret);
	void *quorum_ctx;
};

struct alerting;

/* catalog (the rules and targets) is borrowed and must outlive *ret. The first evaluation is one interval away. */
int alerting_start(const struct alerting_env *env, struct catalog *catalog, sd_event *event, struct alerting **ret);
void alerting_stop(struct alerting *a);

/*
 * Asks for an evaluation soon (new probe results or log matches are
 * stored); thread-safe, cheap: what ingest's writer calls after a commit.
 */
void alerting_poke(void *alerting);
/*
 * Whether this collector evaluates the rules, as its last evaluation found
 * (with several collectors on one database only one does; with one:
 * always): who else does work that must be done once (the dial-test
 * schedule). On the event loop.
 */
bool alerting_leads(void *alerting);
/* fn(userdata) after each evaluation on the event loop that queued notifications. */
void alerting_on_enqueued(struct alerting *a, void (*fn)(void *userdata), void *userdata);

/* Runs the rules once at now_us (microseconds); what the timer does. */
int alerting_evaluate(struct alerting *a, uint64_t now_us);

/* {"items":[...]}, newest first; *ret is the caller's. */
int alerting_list(struct alerting *a, const struct alert_filter *f, json_t **ret);
/* The alert with its history; -ENOENT when there is none. */
int alerting_get(struct alerting *a, int64_t id, json_t **ret);
/* {"items":[events after event after, oldest first, at most limit], "next_cursor":"ID"}; *ret is the caller's. */
int alerting_events(struct alerting *a, int64_t after, unsigned limit, json_t **ret);

/*
 * An ops action on alert id by actor: ack, unack, assign (body "to"),
 * comment, severity (body "severity"), close; body's "note" goes into the
 * history. -ENOENT: no such alert; -EINVAL: *reason says what is wrong
 * with the request; -EALREADY: the alert is closed.
 */
int alerting_act(struct alerting *a, int64_t id, const char *action, const char *actor, json_t *body,
		 const char **reason);

/* Silences (alerts/silences.h), under the evaluator's lock. */
/* {"items":[...]}: those not yet over, or all with all. */
int alerting_silences(struct alerting *a, bool all, json_t **ret);
int alerting_silence_add(struct alerting *a, json_t *body, const char *creator, json_t **ret, const char **reason);
/*
 * The open alerts (of the newest 1000) a silence of matchers would silence,
 * as {"items": [...], "count": N}: what a silence would do before it is
 * made. -EINVAL with *reason for matchers a silence could not have.
 */
int alerting_silence_preview(struct alerting *a, json_t *matchers, json_t **ret, const char **reason);
int alerting_silence_expire(struct alerting *a, int64_t id, json_t **ret);

/* Adds target's (an object with its "name") queue: queued, sent, failed, last_error. */
int alerting_notify_queue(struct alerting *a, json_t *target);
/* Queues a test message to target name (alert 0, event "test"); -ENOENT when there is no such target. */
int alerting_notify_test(struct alerting *a, const char *name, const char *actor, int64_t *id);

#endif
