/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "alerts/alert.h"
#include "common/macro.h"

static const char *const state_names[] = { "pending", "firing", "resolved", "closed" };
static const char *const severity_names[] = { "info", "warning", "critical", "disaster" };
_Static_assert(ARRAY_SIZE(state_names) == _ALERT_STATE_MAX, "a name per state");
_Static_assert(ARRAY_SIZE(severity_names) == _SEVERITY_MAX, "a name per severity");

static int index_of(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (strcmp(names[i], name) == 0)
			return (int)i;
	return -EINVAL;
}

const char *alert_state_name(enum alert_state s)
{
	return (unsigned)s < ARRAY_SIZE(state_names) ? state_names[s] : "unknown";
}

int alert_state_from_name(const char *name)
{
	return index_of(state_names, ARRAY_SIZE(state_names), name);
}

const char *alert_severity_name(enum alert_severity s)
{
	return (unsigned)s < ARRAY_SIZE(severity_names) ? severity_names[s] : "unknown";
}

int alert_severity_from_name(const char *name)
{
	return index_of(severity_names, ARRAY_SIZE(severity_names), name);
}

/* Notes a fire or a resolution and judges flapping by those within the window. */
static unsigned note_change(struct alert *a, const struct alert_timing *t, uint64_t now_us)
{
	size_t recent = 0;

	if (a->n_changes == ALERT_CHANGES_KEPT) {
		memmove(a->changes, a->changes + 1, (ALERT_CHANGES_KEPT - 1) * sizeof(a->changes[0]));
		a->n_changes--;
	}
	a->changes[a->n_changes++] = now_us;
	for (size_t i = 0; i < a->n_changes; i++)
		recent += now_us - a->changes[i] <= t->flap_window_us;
	if (!a->flapping && t->flap_changes && recent > t->flap_changes) {
		a->flapping = true;
		return ALERT_EV_FLAPPING;
	}
	return 0;
}

static unsigned fire(struct alert *a, const struct alert_timing *t, uint64_t now_us)
{
	a->state = ALERT_FIRING;
	a->fired_us = now_us;
	a->resolved_us = 0;
	return ALERT_EV_FIRED | note_change(a, t, now_us);
}

void alert_open(struct alert *a, const struct alert_timing *t, uint64_t now_us, unsigned *events)
{
	memset(a, 0, sizeof(*a));
	a->state = ALERT_PENDING;
	a->pending_since_us = now_us;
	*events = ALERT_EV_PENDING;
	if (t->for_us == 0)
		*events |= fire(a, t, now_us);
}

unsigned alert_step(struct alert *a, const struct alert_timing *t, bool active, uint64_t now_us)
{
	unsigned ev = 0;

	/* Flapping ends once a whole window passes without a change. */
	if (a->flapping && a->n_changes && now_us - a->changes[a->n_changes - 1] > t->flap_window_us) {
		a->flapping = false;
		ev |= ALERT_EV_STEADY;
	}
	if (a->state == ALERT_RESOLVED && active) {
		/* Back: pending again, and with for=0 firing in this same step. */
		a->state = ALERT_PENDING;
		a->pending_since_us = now_us;
		ev |= ALERT_EV_PENDING;
	}
	switch (a->state) {
	case ALERT_PENDING:
		if (!active) {
			a->state = ALERT_RESOLVED;
			a->resolved_us = now_us;
			ev |= ALERT_EV_CANCELLED;
		} else if (now_us - a->pending_since_us >= t->for_us) {
			ev |= fire(a, t, now_us);
		}
		break;
	case ALERT_FIRING:
		if (active)
			break;
		a->state = ALERT_RESOLVED;
		a->resolved_us = now_us;
		ev |= ALERT_EV_RESOLVED | note_change(a, t, now_us);
		if (a->acked && t->clear_ack_on_recovery) {
			a->acked = false;
			ev |= ALERT_EV_UNACKED;
		}
		break;
	default:
		break;
	}
	return ev;
}

bool alert_escalation_due(const struct alert *a, uint64_t after_us, uint64_t now_us)
{
	return after_us && a->state == ALERT_FIRING && !a->acked && now_us - a->fired_us >= after_us &&
	       a->escalated_us < a->fired_us;
}

bool threshold_active(bool was_active, double value, bool above, double threshold, double recover)
{
	if (above)
		return was_active ? value > recover : value > threshold;
	return was_active ? value < recover : value < threshold;
}

bool silence_in_force(const struct silence_time *t, uint64_t now_us)
{
	if (now_us < t->starts)
		return false;
	if (t->every == 0)
		return now_us < t->ends;
	return now_us < t->until && (now_us - t->starts) % t->every < t->ends - t->starts;
}

uint64_t silence_next_start(const struct silence_time *t, uint64_t now_us)
{
	uint64_t s;

	if (t->every == 0)
		return now_us < t->ends ? t->starts : 0;
	if (now_us < t->starts)
		s = t->starts;
	else {
		s = t->starts + (now_us - t->starts) / t->every * t->every;
		if (now_us >= s + (t->ends - t->starts))
			s += t->every;
	}
	return s < t->until ? s : 0;
}
