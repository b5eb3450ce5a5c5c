/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "alerts/alert.h"

#define SEC 1000000ull
#define T0 (1795000000ull * SEC)

static const struct alert_timing slow = { .for_us = 60 * SEC, .flap_changes = 4, .flap_window_us = 600 * SEC };

static void fires_at_once_without_for(void **state)
{
	struct alert_timing t = slow;
	struct alert a;
	unsigned ev;

	t.for_us = 0;
	alert_open(&a, &t, T0, &ev);
	assert_int_equal(ev, ALERT_EV_PENDING | ALERT_EV_FIRED);
	assert_int_equal(a.state, ALERT_FIRING);
	assert_true(a.fired_us == T0);
	assert_int_equal(alert_step(&a, &t, true, T0 + SEC), 0);
	assert_int_equal(alert_step(&a, &t, false, T0 + 2 * SEC), ALERT_EV_RESOLVED);
	assert_int_equal(a.state, ALERT_RESOLVED);
	/* Again: the same alert goes through pending to firing in one step. */
	assert_int_equal(alert_step(&a, &t, true, T0 + 3 * SEC), ALERT_EV_PENDING | ALERT_EV_FIRED);
	assert_true(a.fired_us == T0 + 3 * SEC && a.resolved_us == 0);
}

static void pending_until_held_for_long_enough(void **state)
{
	struct alert a;
	unsigned ev;

	alert_open(&a, &slow, T0, &ev);
	assert_int_equal(ev, ALERT_EV_PENDING);
	assert_int_equal(alert_step(&a, &slow, true, T0 + 59 * SEC), 0);
	assert_int_equal(a.state, ALERT_PENDING);
	assert_int_equal(alert_step(&a, &slow, true, T0 + 60 * SEC), ALERT_EV_FIRED);
	assert_int_equal(a.state, ALERT_FIRING);
	assert_int_equal(alert_step(&a, &slow, false, T0 + 90 * SEC), ALERT_EV_RESOLVED);
	/* A new occurrence must hold for= again, counted from when it came back. */
	assert_int_equal(alert_step(&a, &slow, true, T0 + 100 * SEC), ALERT_EV_PENDING);
	assert_int_equal(alert_step(&a, &slow, true, T0 + 159 * SEC), 0);
	assert_int_equal(alert_step(&a, &slow, true, T0 + 160 * SEC), ALERT_EV_FIRED);
}

static void pending_that_clears_never_fires(void **state)
{
	struct alert a;
	unsigned ev;

	alert_open(&a, &slow, T0, &ev);
	assert_int_equal(alert_step(&a, &slow, false, T0 + 30 * SEC), ALERT_EV_CANCELLED);
	assert_int_equal(a.state, ALERT_RESOLVED);
	assert_true(a.fired_us == 0);
	assert_int_equal(alert_step(&a, &slow, false, T0 + 31 * SEC), 0);
}

static void flapping_is_marked_once_and_ends(void **state)
{
	struct alert_timing t = slow;
	unsigned ev, flaps = 0, all = 0;
	uint64_t now = T0;
	struct alert a;

	t.for_us = 0;
	alert_open(&a, &t, now, &ev);
	/* Fire and resolve every 30 s: 4 changes in the window are fine, the 5th is flapping. */
	for (int i = 1; i <= 12; i++) {
		now += 30 * SEC;
		ev = alert_step(&a, &t, i % 2 == 0, now);
		flaps += !!(ev & ALERT_EV_FLAPPING);
		all |= ev;
		if (i == 3)
			assert_false(a.flapping);
	}
	assert_int_equal(flaps, 1);
	assert_true(a.flapping);
	assert_false(all & ALERT_EV_STEADY);
	/* Quiet for longer than the window: steady again. */
	ev = alert_step(&a, &t, false, now + 601 * SEC);
	assert_true(ev & ALERT_EV_STEADY);
	assert_false(a.flapping);
}

static void recovery_clears_ack_when_asked(void **state)
{
	struct alert_timing t = slow;
	struct alert a;
	unsigned ev;

	t.for_us = 0;
	alert_open(&a, &t, T0, &ev);
	a.acked = true;
	assert_int_equal(alert_step(&a, &t, false, T0 + SEC), ALERT_EV_RESOLVED);
	assert_true(a.acked);
	t.clear_ack_on_recovery = true;
	alert_step(&a, &t, true, T0 + 2 * SEC);
	assert_int_equal(alert_step(&a, &t, false, T0 + 3 * SEC), ALERT_EV_RESOLVED | ALERT_EV_UNACKED);
	assert_false(a.acked);
}

static void escalation_is_due_once_per_firing_unless_acked(void **state)
{
	struct alert_timing t = slow;
	struct alert a;
	unsigned ev;

	t.for_us = 0;
	alert_open(&a, &t, T0, &ev);
	assert_false(alert_escalation_due(&a, 0, T0 + 3600 * SEC));
	assert_false(alert_escalation_due(&a, 300 * SEC, T0 + 299 * SEC));
	assert_true(alert_escalation_due(&a, 300 * SEC, T0 + 300 * SEC));
	a.escalated_us = T0 + 300 * SEC;
	assert_false(alert_escalation_due(&a, 300 * SEC, T0 + 900 * SEC));
	/* A new firing may escalate again; an acknowledged one does not. */
	alert_step(&a, &t, false, T0 + 1000 * SEC);
	alert_step(&a, &t, true, T0 + 1001 * SEC);
	assert_true(alert_escalation_due(&a, 300 * SEC, T0 + 1301 * SEC));
	a.acked = true;
	assert_false(alert_escalation_due(&a, 300 * SEC, T0 + 1301 * SEC));
}

static void thresholds_have_hysteresis(void **state)
{
	/* above 90, recovered below 80 */
	assert_false(threshold_active(false, 85, true, 90, 80));
	assert_true(threshold_active(false, 91, true, 90, 80));
	assert_true(threshold_active(true, 85, true, 90, 80));
	assert_false(threshold_active(true, 79, true, 90, 80));
	/* below 10 (free space), recovered above 15 */
	assert_true(threshold_active(false, 9, false, 10, 15));
	assert_true(threshold_active(true, 12, false, 10, 15));
	assert_false(threshold_active(true, 16, false, 10, 15));
	assert_false(threshold_active(false, 12, false, 10, 15));
}

static void names_round_trip(void **state)
{
	for (int s = 0; s < _ALERT_STATE_MAX; s++)
		assert_int_equal(alert_state_from_name(alert_state_name(s)), s);
	for (int s = 0; s < _SEVERITY_MAX; s++)
		assert_int_equal(alert_severity_from_name(alert_severity_name(s)), s);
	assert_true(alert_severity_from_name("urgent") < 0);
	assert_true(alert_state_from_name(NULL) < 0);
}

#define H (3600 * SEC)
#define DAY (24 * H)

/* Every Sunday 02:00-04:00 for four weeks, the first on day 0. */
static void maintenance_windows_recur(void **state)
{
	const struct silence_time t = { .starts = 2 * H, .ends = 4 * H, .every = 7 * DAY, .until = 28 * DAY };

	(void)state;
	assert_false(silence_in_force(&t, 1 * H));
	assert_true(silence_in_force(&t, 2 * H));
	assert_true(silence_in_force(&t, 4 * H - 1));
	assert_false(silence_in_force(&t, 4 * H));
	assert_false(silence_in_force(&t, 3 * DAY));
	assert_true(silence_in_force(&t, 7 * DAY + 3 * H));
	assert_true(silence_in_force(&t, 21 * DAY + 2 * H));
	assert_false(silence_in_force(&t, 28 * DAY + 3 * H)); /* past until */
	assert_int_equal(silence_next_start(&t, 0), 2 * H);
	assert_int_equal(silence_next_start(&t, 3 * H), 2 * H); /* the one in force */
	assert_int_equal(silence_next_start(&t, 5 * H), 7 * DAY + 2 * H);
	assert_int_equal(silence_next_start(&t, 22 * DAY), 0); /* the next would start past until */
}

static void one_silence_once(void **state)
{
	const struct silence_time t = { .starts = 10 * SEC, .ends = 20 * SEC };

	(void)state;
	assert_false(silence_in_force(&t, 9 * SEC));
	assert_true(silence_in_force(&t, 10 * SEC));
	assert_false(silence_in_force(&t, 20 * SEC));
	assert_false(silence_in_force(&t, 7 * DAY + 15 * SEC));
	assert_int_equal(silence_next_start(&t, 0), 10 * SEC);
	assert_int_equal(silence_next_start(&t, 20 * SEC), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fires_at_once_without_for),
		cmocka_unit_test(pending_until_held_for_long_enough),
		cmocka_unit_test(pending_that_clears_never_fires),
		cmocka_unit_test(flapping_is_marked_once_and_ends),
		cmocka_unit_test(recovery_clears_ack_when_asked),
		cmocka_unit_test(escalation_is_due_once_per_firing_unless_acked),
		cmocka_unit_test(thresholds_have_hysteresis),
		cmocka_unit_test(names_round_trip),
		cmocka_unit_test(maintenance_windows_recur),
		cmocka_unit_test(one_silence_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
