/* A small sorted timer list: a kiosk has tens of timers, not thousands. */
#include "timers.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

struct timer {
	uint64_t id;
	uint64_t deadline;
	core_timer_fn fn;
	void *user;
};

struct core_timers {
	struct core_clock *clock;
	struct timer *list; /* sorted by (deadline, id) */
	size_t len, cap;
	uint64_t next_id;
};

struct core_timers *core_timers_new(struct core_clock *clock)
{
	struct core_timers *timers = xcalloc(1, sizeof(*timers));
	timers->clock = clock;
	timers->next_id = 1;
	return timers;
}

void core_timers_free(struct core_timers *timers)
{
	if (!timers)
		return;
	free(timers->list);
	free(timers);
}

struct core_clock *core_timers_clock(const struct core_timers *timers) { return timers->clock; }

uint64_t core_timer_add(struct core_timers *timers, uint64_t delay_ms, core_timer_fn fn, void *user)
{
	if (timers->len == timers->cap) {
		timers->cap = timers->cap ? timers->cap * 2 : 16;
		timers->list = xrealloc(timers->list, timers->cap * sizeof(*timers->list));
	}
	struct timer t = {
		.id = timers->next_id++,
		.deadline = core_clock_now_ms(timers->clock) + delay_ms,
		.fn = fn,
		.user = user,
	};
	/* Insert after every timer with deadline <= ours: equal deadlines keep creation order. */
	size_t at = timers->len;
	while (at > 0 && timers->list[at - 1].deadline > t.deadline)
		at--;
	memmove(&timers->list[at + 1], &timers->list[at], (timers->len - at) * sizeof(t));
	timers->list[at] = t;
	timers->len++;
	return t.id;
}

void core_timer_cancel(struct core_timers *timers, uint64_t id)
{
	for (size_t i = 0; i < timers->len; i++) {
		if (timers->list[i].id == id) {
			memmove(&timers->list[i], &timers->list[i + 1], (timers->len - i - 1) * sizeof(struct timer));
			timers->len--;
			return;
		}
	}
}

bool core_timers_next_deadline(const struct core_timers *timers, uint64_t *at_ms)
{
	if (timers->len == 0)
		return false;
	*at_ms = timers->list[0].deadline;
	return true;
}

int core_timers_fire_due(struct core_timers *timers)
{
	int fired = 0;
	uint64_t now = core_clock_now_ms(timers->clock);
	/* Pop before calling: the callback may add or cancel timers. */
	while (timers->len > 0 && timers->list[0].deadline <= now) {
		struct timer t = timers->list[0];
		memmove(&timers->list[0], &timers->list[1], (timers->len - 1) * sizeof(t));
		timers->len--;
		t.fn(t.user);
		fired++;
	}
	return fired;
}
