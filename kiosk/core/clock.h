/*
 * The one clock every timer and timeout reads. Real: CLOCK_MONOTONIC. Virtual (headless
 * runs): time moves only when the loop advances it, so a scenario can let minutes pass
 * in microseconds and timers fire exactly as they would in real time.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct core_clock;

/* virtual_epoch_s: wall-clock seconds the virtual clock starts at (ignored for real). */
struct core_clock *core_clock_new(bool is_virtual, int64_t virtual_epoch_s);
void core_clock_free(struct core_clock *clock);

bool core_clock_is_virtual(const struct core_clock *clock);
/* Milliseconds since the clock was created; never goes backwards. */
uint64_t core_clock_now_ms(const struct core_clock *clock);
/* Seconds since the Unix epoch, for receipts and records. */
int64_t core_clock_wall_s(const struct core_clock *clock);
/* Virtual clocks only: moves time forward to t (earlier values are ignored). */
void core_clock_advance_to(struct core_clock *clock, uint64_t t_ms);
