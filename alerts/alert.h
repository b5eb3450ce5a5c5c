/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VIGIL_ALERT_H
#define VIGIL_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * An alert's lifecycle, as pure logic: no I/O, no clock of its own (every
 * call is given "now"), so it is tested with any timeline. The collector
 * loads an alert, steps it with what its rule sees, stores it and its
 * history.
 *
 *   (none) --active--> pending --held for for=--> firing --inactive--> resolved
 *      pending --inactive--> resolved without having fired (cancelled)
 *      resolved --active--> pending again: the same alert, not a second one
 *
 * Ops actions (acknowledge, assign, ...) sit on top and are not states.
 */

enum alert_state {
	ALERT_PENDING,
	ALERT_FIRING,
	ALERT_RESOLVED,
	ALERT_CLOSED, /* by an operator; the next occurrence opens a new alert */
	_ALERT_STATE_MAX,
};
const char *alert_state_name(enum alert_state s);
int alert_state_from_name(const char *name); /* -EINVAL when unknown */

enum alert_severity {
	SEVERITY_INFO,
	SEVERITY_WARNING,
	SEVERITY_CRITICAL,
	SEVERITY_DISASTER,
	_SEVERITY_MAX,
};
const char *alert_severity_name(enum alert_severity s);
int alert_severity_from_name(const char *name); /* -EINVAL when unknown */

/* How a rule's alerts behave over time. */
struct alert_timing {
	uint64_t for_us;          /* how long a condition holds before it fires */
	unsigned flap_changes;    /* more firing/resolved changes than this ... */
	uint64_t flap_window_us;  /* ... within this window: flapping */
	bool clear_ack_on_recovery;
};

#define ALERT_CHANGES_KEPT 32

struct alert {
	enum alert_state state;
	uint64_t pending_since_us; /* when the condition was last seen to start */
	uint64_t fired_us;         /* when it last fired; 0: never */
	uint64_t resolved_us;      /* when it last resolved; 0: not resolved */
	bool acked;
	bool flapping;
	uint64_t escalated_us;     /* when this firing was escalated; 0: not */
	/* When it last fired or resolved, newest last: what flapping is judged by. */
	uint64_t changes[ALERT_CHANGES_KEPT];
	size_t n_changes;
};

/* What a step did, as bits: each is an event in the alert's history. */
enum {
	ALERT_EV_PENDING = 1 << 0,
	ALERT_EV_FIRED = 1 << 1,
	ALERT_EV_RESOLVED = 1 << 2,
	ALERT_EV_CANCELLED = 1 << 3,  /* resolved while pending: never fired */
	ALERT_EV_UNACKED = 1 << 4,    /* recovery cleared the acknowledgement */
	ALERT_EV_FLAPPING = 1 << 5,   /* started flapping */
	ALERT_EV_STEADY = 1 << 6,     /* stopped flapping */
};

/* A new alert for a condition first seen active at now (pending, or firing if for= is 0). */
void alert_open(struct alert *a, const struct alert_timing *t, uint64_t now_us, unsigned *events);

/* One evaluation: whether the condition holds at now. Returns the event bits. */
unsigned alert_step(struct alert *a, const struct alert_timing *t, bool active, uint64_t now_us);

/*
 * Whether a firing alert nobody acknowledged within after_us of firing is
 * due to go to the next targets (once per firing; after_us 0: never).
 */
bool alert_escalation_due(const struct alert *a, uint64_t after_us, uint64_t now_us);

/*
 * A silence's time: in force from starts to ends, and when every is not 0,
 * again every "every" microseconds after (a maintenance window: every
 * Sunday 02:00 to 04:00) until until.
 */
struct silence_time {
	uint64_t starts, ends;
	uint64_t every; /* 0: once */
	uint64_t until; /* every: no window is in force from here on */
};
bool silence_in_force(const struct silence_time *t, uint64_t now_us);
/* The start of the window in force at now or of the next one; 0 when none is to come. */
uint64_t silence_next_start(const struct silence_time *t, uint64_t now_us);

/*
 * A threshold with hysteresis: active once value crosses threshold (above
 * or below it), and stays active until it is back past recover.
 */
bool threshold_active(bool was_active, double value, bool above, double threshold, double recover);

#endif
