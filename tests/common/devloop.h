/*
 * The kiosk's event loop in miniature, for driver tests without SDL: a virtual clock, the
 * core timers, and wake-ups from transports. Tests run it until a condition holds; virtual
 * time jumps from timer to timer, so a minute of device polling costs microseconds.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "kiosk/core/clock.h"
#include "kiosk/core/timers.h"

struct devloop {
	struct core_clock *clock;   /* virtual, starts at 0 */
	struct core_timers *timers;
	int pending_wakes;          /* wake-ups not yet serviced */
	uint64_t wakes_total;
	/* Called for every wake-up (the kiosk calls the devices' service ops there). */
	void (*service)(void *user);
	void *service_user;
};

void devloop_init(struct devloop *l);
void devloop_fini(struct devloop *l);
/* A transport_wake_fn: pass the devloop as user. */
void devloop_wake(void *user);
/*
 * Services wake-ups and fires due timers; when neither is pending, jumps the clock to the
 * next timer. Stops when done(user) is true (checked after every step) or when max_ms of
 * virtual time has passed, or when nothing at all is pending. Returns done's last answer.
 */
bool devloop_run_until(struct devloop *l, bool (*done)(void *user), void *user, uint64_t max_ms);
/* Runs for exactly ms of virtual time (firing whatever falls due). */
void devloop_run_for(struct devloop *l, uint64_t ms);
