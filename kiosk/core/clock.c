/* Real and virtual time behind one interface. */
#include "clock.h"

#include <stdlib.h>
#include <time.h>

#include "xmalloc.h"

struct core_clock {
	bool is_virtual;
	uint64_t virtual_ms;
	int64_t virtual_epoch_s;
	struct timespec start;
	int64_t wall_start_s;
};

static uint64_t ts_diff_ms(const struct timespec *a, const struct timespec *b)
{
	int64_t ns = (int64_t)(a->tv_sec - b->tv_sec) * 1000000000 + (a->tv_nsec - b->tv_nsec);
	return ns > 0 ? (uint64_t)(ns / 1000000) : 0;
}

struct core_clock *core_clock_new(bool is_virtual, int64_t virtual_epoch_s)
{
	struct core_clock *clock = xcalloc(1, sizeof(*clock));
	clock->is_virtual = is_virtual;
	clock->virtual_epoch_s = virtual_epoch_s;
	clock_gettime(CLOCK_MONOTONIC, &clock->start);
	clock->wall_start_s = (int64_t)time(NULL);
	return clock;
}

void core_clock_free(struct core_clock *clock) { free(clock); }

bool core_clock_is_virtual(const struct core_clock *clock) { return clock->is_virtual; }

uint64_t core_clock_now_ms(const struct core_clock *clock)
{
	if (clock->is_virtual)
		return clock->virtual_ms;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return ts_diff_ms(&now, &clock->start);
}

int64_t core_clock_wall_s(const struct core_clock *clock)
{
	if (clock->is_virtual)
		return clock->virtual_epoch_s + (int64_t)(clock->virtual_ms / 1000);
	return (int64_t)time(NULL);
}

void core_clock_advance_to(struct core_clock *clock, uint64_t t_ms)
{
	if (clock->is_virtual && t_ms > clock->virtual_ms)
		clock->virtual_ms = t_ms;
}
