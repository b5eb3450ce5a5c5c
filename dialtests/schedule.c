/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "common/macro.h"
#include "dialtests/schedule.h"

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

uint64_t schedule_first_start(const char *name, uint64_t interval_us, uint64_t now)
{
	uint64_t phase = fnv1a(name) % interval_us;

	return now + (phase + interval_us - now % interval_us) % interval_us;
}

uint64_t schedule_plan(struct schedule_slot *slots, size_t n, uint64_t now, const struct schedule_ops *ops,
		       uint64_t *missed)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < n; i++) {
		struct schedule_slot *s = &slots[i];
		void *run;

		if (s->running)
			continue;
		if (s->next_us > now) {
			next = MIN(next, s->next_us);
			continue;
		}
		/* Due, and held back: a run's end plans again. */
		run = ops->prepare(i, s->next_us, ops->ctx);
		if (!run)
			continue;
		/* Before the start, which may end the run and plan again at once. */
		s->running = true;
		s->next_us += s->interval_us;
		while (s->next_us <= now) {
			s->next_us += s->interval_us;
			(*missed)++;
		}
		ops->start(run, ops->ctx);
	}
	return next;
}
