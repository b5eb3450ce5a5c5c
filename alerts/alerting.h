/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_ALERTING_H
#define VIGIL_ALERTING_H

#include <jansson.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "alerts/catalog.h"
#include "collector/coll_conf.h"

/*
 * The collector's alerts: every [alerts] interval the [rule "NAME"]
 * sections are evaluated against what ingest stored (probe_state, hosts)
 * and each alert is stepped through its lifecycle (alerts/alert.h). Alerts
 * and their history live in meta.db, on a connection of their own shared by
 * the evaluator (on the event loop) and the HTTP threads (ops actions)
 * under a lock. One alert per fingerprint (rule, agent, probe) until an
 * operator closes it.
 */

struct alerting;

/*
 * conf and catalog (the rules and targets) are borrowed and must outlive
 * *ret. The first evaluation is one interval away.
 */
int alerting_start(const struct coll_conf *conf, struct catalog *catalog, sd_event *event, struct alerting **ret);
void alerting_stop(struct alerting *a);

/*
 * Asks for an evaluation soon (new probe results or log matches are
 * stored); thread-safe, cheap: what ingest's writer calls after a commit.
 */
void alerting_poke(void *alerting);
/* fn(userdata) after each evaluation on the event loop that queued notifications. */
void alerting_on_enqueued(struct alerting *a, void (*fn)(void *userdata), void *userdata);

/* Runs the rules once at now_us (microseconds); what the timer does. */
int alerting_evaluate(struct alerting *a, uint64_t now_us);

struct alert_filter {
	const char *state;    /* NULL: every state but closed */
	const char *severity; /* NULL: any */
	const char *host;     /* NULL: any */
	const char *label_key, *label_value; /* NULL: any */
};
/* {"items":[...]}, newest first; *ret is the caller's. */
int alerting_list(struct alerting *a, const struct alert_filter *f, json_t **ret);
/* The alert with its history; -ENOENT when there is none. */
int alerting_get(struct alerting *a, int64_t id, json_t **ret);

/*
 * An ops action on alert id by actor: ack, unack, assign (body "to"),
 * comment, severity (body "severity"), close; body's "note" goes into the
 * history. -ENOENT: no such alert; -EINVAL: *reason says what is wrong
 * with the request; -EALREADY: the alert is closed.
 */
int alerting_act(struct alerting *a, int64_t id, const char *action, const char *actor, json_t *body,
		 const char **reason);

/*
 * Silences: an alert whose labels (or rule, or severity) match all of a
 * silence's matchers while it is in force is marked silenced and not told;
 * it is still evaluated and recorded, and told (still firing, or resolved)
 * when the silence ends.
 */
/* {"items":[...]}: those not yet over, or all with all. */
int alerting_silences(struct alerting *a, bool all, json_t **ret);
/* Whether body holds as a silence at now_us (nothing stored): NULL, or what is wrong. For the fuzzers. */
const char *alerting_silence_check(json_t *body, uint64_t now_us);
/* From a request body: matchers, comment, starts/ends or duration. -EINVAL with *reason. */
int alerting_silence_add(struct alerting *a, json_t *body, const char *creator, json_t **ret, const char **reason);
/*
 * Ends a silence now, and gives it as it is now in *ret (NULL: not wanted);
 * -ENOENT if there is none in force or to come with that id.
 */
int alerting_silence_expire(struct alerting *a, int64_t id, json_t **ret);

/* Adds target's (an object with its "name") queue: queued, sent, failed, last_error. */
int alerting_notify_queue(struct alerting *a, json_t *target);
/* Queues a test message to target name (alert 0, event "test"); -ENOENT when there is no such target. */
int alerting_notify_test(struct alerting *a, const char *name, const char *actor, int64_t *id);

#endif
