/*
 * One-shot timers on the core clock. The application loop asks for the next deadline
 * to know how long it may sleep (real clock) or how far to jump (virtual clock), and
 * fires what is due. Timers fire in deadline order; equal deadlines in creation order,
 * so virtual runs are deterministic.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"

struct core_timers;
typedef void (*core_timer_fn)(void *user);

struct core_timers *core_timers_new(struct core_clock *clock); /* borrows clock */
void core_timers_free(struct core_timers *timers);
/* The clock the set reads (borrowed), so a module handed the timers can tell the time. */
struct core_clock *core_timers_clock(const struct core_timers *timers);

/* Returns a timer id (> 0) that stays unique for the life of the set. */
uint64_t core_timer_add(struct core_timers *timers, uint64_t delay_ms, core_timer_fn fn, void *user);
/* Cancelling an id that already fired or was cancelled is a no-op. */
void core_timer_cancel(struct core_timers *timers, uint64_t id);

/* False when no timer is pending. */
bool core_timers_next_deadline(const struct core_timers *timers, uint64_t *at_ms);
/* Fires every timer due now (including ones added by callbacks with delay 0); returns how many. */
int core_timers_fire_due(struct core_timers *timers);
