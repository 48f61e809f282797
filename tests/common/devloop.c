/* A virtual-time event loop for driver tests. */
#include "tests/common/devloop.h"

#include <stddef.h>

void devloop_init(struct devloop *l)
{
	*l = (struct devloop){0};
	l->clock = core_clock_new(true, 0);
	l->timers = core_timers_new(l->clock);
}

void devloop_fini(struct devloop *l)
{
	core_timers_free(l->timers);
	core_clock_free(l->clock);
	l->timers = NULL;
	l->clock = NULL;
}

void devloop_wake(void *user)
{
	struct devloop *l = user;
	l->pending_wakes++;
	l->wakes_total++;
}

/* One step: a wake-up, else due timers, else a jump to the next deadline (not past limit). */
static bool step(struct devloop *l, uint64_t limit)
{
	if (l->pending_wakes) {
		l->pending_wakes = 0;
		if (l->service)
			l->service(l->service_user);
		return true;
	}
	if (core_timers_fire_due(l->timers) > 0)
		return true;
	uint64_t at;
	if (!core_timers_next_deadline(l->timers, &at) || at > limit)
		return false;
	core_clock_advance_to(l->clock, at);
	return true;
}

bool devloop_run_until(struct devloop *l, bool (*done)(void *user), void *user, uint64_t max_ms)
{
	uint64_t limit = core_clock_now_ms(l->clock) + max_ms;
	while (!done(user)) {
		if (!step(l, limit))
			return done(user);
	}
	return true;
}

void devloop_run_for(struct devloop *l, uint64_t ms)
{
	uint64_t limit = core_clock_now_ms(l->clock) + ms;
	while (step(l, limit))
		;
	core_clock_advance_to(l->clock, limit);
	core_timers_fire_due(l->timers);
	while (l->pending_wakes && step(l, limit))
		;
}
