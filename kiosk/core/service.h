/*
 * The kiosk as a systemd service (data/kiosk.service): READY once the first frame is on the
 * screen, WATCHDOG keep-alives sent from the event loop, STOPPING on the way out, through
 * libsystemd's sd_notify. Outside systemd, or built without libsystemd, each call does nothing.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * How often the loop must say it is alive, in ms (half the unit's WatchdogSec=), or 0 when no
 * watchdog watches this process. The unit's main process is cage, so systemd names cage in
 * WATCHDOG_PID: the kiosk, cage's child, takes the watchdog when WATCHDOG_PID is itself or its
 * parent (the unit has NotifyAccess=all so the child's keep-alives count).
 */
uint64_t core_service_watchdog_ms(void);

/* The rule above, on the environment's two strings (NULL when unset); for the tests. */
uint64_t core_service_watchdog_ms_for(const char *usec, const char *pid, pid_t self, pid_t parent);

void core_service_ready(void);
/* One keep-alive; call it from the loop's own timer, never from another thread, so a loop that
 * hangs stops sending and systemd restarts the unit. */
void core_service_alive(void);
void core_service_stopping(void);
