/* SPDX-License-Identifier: Apache-2.0 */
/* The dial tests' schedule (dialtests/schedule.c): phases, starts, limits, missed starts, no clock. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "common/macro.h"
#include "dialtests/schedule.h"

#define S (1000000ull)

static void first_start_keeps_a_phase(void **state)
{
	uint64_t interval = 60 * S, base = 1800000000ull * S;
	uint64_t a = schedule_first_start("license-api", interval, base);
	uint64_t b = schedule_first_start("license-api", interval, base + 17 * S);
	uint64_t c = schedule_first_start("license-api", interval, base + 3600 * S + 5);

	assert_true(a >= base && a < base + interval);
	assert_true(b >= base + 17 * S && b < base + 17 * S + interval);
	/* The same test, whenever it is scheduled: the same place in the interval. */
	assert_int_equal(a % interval, b % interval);
	assert_int_equal(a % interval, c % interval);
	/* Now itself when now is the phase. */
	assert_int_equal(schedule_first_start("license-api", interval, a), a);
}

/* A test's ops: which slots the limits hold back, what was started, and a plan from within a start. */
struct fake {
	bool held[8];
	size_t started[16], n_started;
	uint64_t planned[16];
	struct schedule_slot *slots;
	size_t n;
	uint64_t now, missed;
	bool end_at_once; /* the run ends within its start and plans again, as a failing run does */
};

static void *prepare(size_t i, uint64_t planned, void *ctx)
{
	struct fake *f = ctx;

	if (f->held[i])
		return NULL;
	f->planned[f->n_started] = planned;
	return &f->slots[i];
}

static void start(void *run, void *ctx)
{
	struct fake *f = ctx;
	struct schedule_slot *s = run;
	const struct schedule_ops ops = { prepare, start, f };

	f->started[f->n_started++] = (size_t)(s - f->slots);
	if (f->end_at_once) {
		s->running = false;
		(void)schedule_plan(f->slots, f->n, f->now, &ops, &f->missed);
	}
}

static uint64_t plan(struct fake *f)
{
	const struct schedule_ops ops = { prepare, start, f };

	return schedule_plan(f->slots, f->n, f->now, &ops, &f->missed);
}

static void due_slots_start_and_move_on(void **state)
{
	struct schedule_slot slots[] = {
		{ .next_us = 100 * S, .interval_us = 10 * S }, /* due */
		{ .next_us = 130 * S, .interval_us = 10 * S }, /* to come: the next wake-up */
		{ .next_us = 90 * S, .interval_us = 10 * S, .running = true }, /* its run goes on */
		{ .next_us = 150 * S, .interval_us = 60 * S },
	};
	struct fake f = { .slots = slots, .n = ARRAY_SIZE(slots), .now = 105 * S };

	assert_int_equal(plan(&f), 130 * S);
	assert_int_equal(f.n_started, 1);
	assert_int_equal(f.started[0], 0);
	assert_int_equal(f.planned[0], 100 * S);
	assert_true(slots[0].running);
	/* The next start keeps the phase: 110, not 115. */
	assert_int_equal(slots[0].next_us, 110 * S);
	assert_int_equal(slots[2].next_us, 90 * S);
	assert_int_equal(f.missed, 0);
	/* While it runs it is not started again. */
	assert_int_equal(plan(&f), 130 * S);
	assert_int_equal(f.n_started, 1);
}

static void held_starts_wait_and_missed_ones_are_counted(void **state)
{
	struct schedule_slot slots[] = {
		{ .next_us = 100 * S, .interval_us = 10 * S },
		{ .next_us = 100 * S, .interval_us = 10 * S },
	};
	struct fake f = { .slots = slots, .n = ARRAY_SIZE(slots), .now = 100 * S, .held = { true, false } };

	(void)plan(&f);
	/* Held by the limits: still due, not moved, not counted. */
	assert_int_equal(f.n_started, 1);
	assert_int_equal(f.started[0], 1);
	assert_false(slots[0].running);
	assert_int_equal(slots[0].next_us, 100 * S);
	/* The limits let it: it starts late, for the start it was due at; the starts passed over since are counted. */
	f.held[0] = false;
	f.now = 135 * S;
	(void)plan(&f);
	assert_int_equal(f.n_started, 2);
	assert_int_equal(f.planned[1], 100 * S);
	assert_int_equal(slots[0].next_us, 140 * S);
	assert_int_equal(f.missed, 3);
}

static void a_run_that_ends_at_once_starts_once(void **state)
{
	struct schedule_slot slots[] = { { .next_us = 100 * S, .interval_us = 10 * S } };
	struct fake f = { .slots = slots, .n = 1, .now = 100 * S, .end_at_once = true };

	/* The plan from within the start sees the slot moved on already: no second start for the same time. */
	(void)plan(&f);
	assert_int_equal(f.n_started, 1);
	assert_int_equal(slots[0].next_us, 110 * S);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(first_start_keeps_a_phase),
		cmocka_unit_test(due_slots_start_and_move_on),
		cmocka_unit_test(held_starts_wait_and_missed_ones_are_counted),
		cmocka_unit_test(a_run_that_ends_at_once_starts_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
