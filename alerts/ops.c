/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "alerts/alert.h"
#include "alerts/alerting-internal.h"
#include "alerts/queue.h"
#include "alerts/silences.h"
#include "common/db.h"
#include "common/macro.h"
#include "common/util.h"

/* What operators ask of alerts through the API: lists, ops actions, silences, the queue; under the evaluator's lock. */

/* {"items": items} into *ret (items taken over), or r when the items could not all be read. */
static int items_answer(json_t *items, int r, json_t **ret)
{
	if (r < 0) {
		json_decref(items);
		return r;
	}
	*ret = json_pack("{s:o}", "items", items);
	return *ret ? 0 : -ENOMEM;
}

int alerting_list(struct alerting *a, const struct alert_filter *f, json_t **ret)
{
	json_t *items = json_array(), *counts = json_object();
	int64_t total = 0;
	int r = items && counts ? 0 : -ENOMEM;

	pthread_mutex_lock(&a->lock);
	if (r == 0)
		r = alert_store_list(a->store, f, items, &total);
	if (r == 0)
		r = alert_store_counts(a->store, f, counts);
	pthread_mutex_unlock(&a->lock);
	r = items_answer(items, r, ret);
	if (r == 0) {
		json_object_set_new(*ret, "total", json_integer(total));
		json_object_set(*ret, "by_severity", counts);
	}
	json_decref(counts);
	return r;
}

int alerting_events(struct alerting *a, int64_t after, unsigned limit, json_t **ret)
{
	json_t *items = json_array();
	int64_t last = after;
	char next[24];
	int r = items ? 0 : -ENOMEM;

	pthread_mutex_lock(&a->lock);
	if (r == 0)
		r = alert_store_events(a->store, after, limit, items, &last);
	pthread_mutex_unlock(&a->lock);
	r = items_answer(items, r, ret);
	(void)snprintf(next, sizeof(next), "%" PRId64, last);
	if (r == 0)
		json_object_set_new(*ret, "next_cursor", json_string(next));
	return r;
}

/* Deliveries an alert's page lists: an alert that flaps for a week is still one page. */
#define DELIVERIES_MAX 500

/* The alert, its history and its notifications' deliveries; the caller holds the lock. */
static int get_locked(struct alerting *a, int64_t id, json_t **ret)
{
	json_t *alert = NULL, *history, *deliveries;
	int r = alert_store_get(a->store, id, &alert);

	if (r < 0)
		return r;
	history = json_array();
	deliveries = json_array();
	r = alert_store_history(a->store, id, history);
	if (r == 0)
		r = queue_of_alert(a->store, id, DELIVERIES_MAX, deliveries);
	json_object_set_new(alert, "history", history);
	json_object_set_new(alert, "deliveries", deliveries);
	*ret = alert;
	return r;
}

int alerting_get(struct alerting *a, int64_t id, json_t **ret)
{
	int r;

	pthread_mutex_lock(&a->lock);
	r = get_locked(a, id, ret);
	pthread_mutex_unlock(&a->lock);
	return r;
}

static const char *body_string(json_t *body, const char *key)
{
	return json_string_value(json_object_get(body, key));
}

/* The action's argument from the body (the actor when it takes none); NULL with *reason when bad. */
static const char *action_arg(json_t *body, const char *need, const char *actor, const char **reason)
{
	const char *v = need ? body_string(body, need) : actor, *note = body_string(body, "note");

	if (json_object_get(body, "note") && !note) {
		*reason = "note: expected a string";
		return NULL;
	}
	if (note && strlen(note) > 4000) {
		*reason = "note: at most 4000 bytes";
		return NULL;
	}
	if (need && (!v || !*v || strlen(v) > 200)) {
		*reason = strcmp(need, "to") == 0       ? "expected {\"to\":\"a user or group\"}" :
			  strcmp(need, "severity") == 0 ? "expected {\"severity\":\"info|warning|critical|disaster\"}" :
							  "expected {\"note\":\"…\"}";
		return NULL;
	}
	if (need && strcmp(need, "severity") == 0 && alert_severity_from_name(v) < 0) {
		*reason = "severity: expected info, warning, critical or disaster";
		return NULL;
	}
	return v;
}

int alerting_act(struct alerting *a, int64_t id, const char *action, const char *actor, json_t *body,
		 const char **reason)
{
	const char *need = alert_action_arg(action), *arg, *note = body_string(body, "note");
	uint64_t now = now_realtime_us();
	char text[4400];
	json_t *cur = NULL;
	int r;

	if (!need) {
		*reason = "unknown action: expected ack, unack, assign, comment, severity or close";
		return -EINVAL;
	}
	arg = action_arg(body, *need ? need : NULL, actor, reason);
	if (!arg)
		return -EINVAL;
	pthread_mutex_lock(&a->lock);
	r = alert_store_begin(a->store, false);
	if (r == 0)
		r = get_locked(a, id, &cur);
	if (r == 0 && strcmp(json_string_value(json_object_get(cur, "state")), "closed") == 0 &&
	    strcmp(action, "comment") != 0)
		r = -EALREADY;
	if (r == 0)
		r = alert_store_act(a->store, id, action, arg, now);
	if (r == 0) {
		if (*need && strcmp(need, "note") != 0)
			(void)snprintf(text, sizeof(text), "%s%s%s", arg, note ? ": " : "", note ? note : "");
		else
			(void)snprintf(text, sizeof(text), "%s", note ? note : "");
		r = alert_store_event(a->store, id, now, actor, action, *text ? text : NULL);
	}
	r = alert_store_end(a->store, r);
	pthread_mutex_unlock(&a->lock);
	json_decref(cur);
	return r;
}

int alerting_silences(struct alerting *a, bool all, json_t **ret)
{
	json_t *items = json_array();
	int r;

	if (!items)
		return -ENOMEM;
	pthread_mutex_lock(&a->lock);
	r = silences_list(&a->silence_store, all, now_realtime_us(), items);
	pthread_mutex_unlock(&a->lock);
	return items_answer(items, r, ret);
}

int alerting_silence_add(struct alerting *a, json_t *body, const char *creator, json_t **ret, const char **reason)
{
	int r;

	pthread_mutex_lock(&a->lock);
	r = silences_add(&a->silence_store, body, creator, now_realtime_us(), ret, reason);
	pthread_mutex_unlock(&a->lock);
	return r;
}

int alerting_silence_preview(struct alerting *a, json_t *matchers, json_t **ret, const char **reason)
{
	json_t *open, *hits, *one, *al;
	size_t i;
	int r;

	*reason = silence_check_matchers(matchers);
	if (*reason)
		return -EINVAL;
	open = json_array();
	hits = json_array();
	one = json_pack("[O]", matchers);
	r = open && hits && one ? 0 : -ENOMEM;
	if (r == 0) {
		pthread_mutex_lock(&a->lock);
		r = alert_store_list(a->store, &(struct alert_filter){ 0 }, open, &(int64_t){ 0 });
		pthread_mutex_unlock(&a->lock);
	}
	json_array_foreach(r == 0 ? open : NULL, i, al)
		if (silences_match(one, json_string_value(json_object_get(al, "rule")),
				   json_string_value(json_object_get(al, "severity")), json_object_get(al, "labels")))
			json_array_append(hits, al);
	if (r == 0) {
		*ret = json_pack("{s:I, s:O}", "count", (json_int_t)json_array_size(hits), "items", hits);
		r = *ret ? 0 : -ENOMEM;
	}
	json_decref(open);
	json_decref(hits);
	json_decref(one);
	return r;
}

int alerting_silence_expire(struct alerting *a, int64_t id, json_t **ret)
{
	int r;

	pthread_mutex_lock(&a->lock);
	r = silences_expire(&a->silence_store, id, now_realtime_us(), ret);
	pthread_mutex_unlock(&a->lock);
	return r;
}

int alerting_notify_queue(struct alerting *a, json_t *target)
{
	const char *name = json_string_value(json_object_get(target, "name"));
	struct queue_stats qs;
	int r;

	pthread_mutex_lock(&a->lock);
	r = queue_stats(a->store, name ? name : "", &qs);
	pthread_mutex_unlock(&a->lock);
	if (r < 0)
		return r;
	json_object_set_new(target, "queued", json_integer(qs.queued));
	json_object_set_new(target, "sent", json_integer(qs.sent));
	json_object_set_new(target, "failed", json_integer(qs.failed));
	json_object_set_new(target, "last_error", qs.has_error ? json_string(qs.last_error) : json_null());
	return 0;
}

int alerting_notify_test(struct alerting *a, const char *name, const char *actor, int64_t *id)
{
	const struct catalog_snapshot *snap = catalog_get(a->catalog);
	bool known = catalog_target(snap, name) != NULL;
	uint64_t now = now_realtime_us();
	json_t *p;
	char *payload;
	int r;

	catalog_release(snap);
	if (!known)
		return -ENOENT;
	p = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "id", (json_int_t)0, "event", "test", "rule",
		      "-", "severity", "info", "host", "-", "summary", "vigil test notification", "value", actor,
		      "started", (json_int_t)now, "state", "firing");
	payload = p ? json_dumps(p, JSON_COMPACT) : NULL;
	json_decref(p);
	if (!payload)
		return -ENOMEM;
	pthread_mutex_lock(&a->lock);
	r = queue_add(a->store, 0, name, "test", payload, now, id);
	pthread_mutex_unlock(&a->lock);
	free(payload);
	return r;
}
