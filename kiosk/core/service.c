/* Readiness and the watchdog's keep-alives to systemd (service.h). */
#define LOG_MODULE "service"
#include "service.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "kiosk-config.h"
#include "log.h"

#if KIOSK_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

static bool parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s)
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || s[0] == '-')
		return false;
	*out = v;
	return true;
}

uint64_t core_service_watchdog_ms_for(const char *usec, const char *pid, pid_t self, pid_t parent)
{
	uint64_t us = 0, p = 0;
	if (!parse_u64(usec, &us) || us == 0)
		return 0;
	/* No WATCHDOG_PID: the watchdog is for whoever reads it (sd_watchdog_enabled's rule). */
	if (pid && *pid && (!parse_u64(pid, &p) || (p != (uint64_t)self && p != (uint64_t)parent)))
		return 0;
	/* Half the period, as sd_watchdog_enabled(3) advises: one late turn of the loop is not a
	 * restart. At least 1 ms so a tiny period still pings. */
	uint64_t ms = us / 2000;
	return ms ? ms : 1;
}

uint64_t core_service_watchdog_ms(void)
{
#if KIOSK_HAVE_SYSTEMD
	if (!getenv("NOTIFY_SOCKET"))
		return 0;
	return core_service_watchdog_ms_for(getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"), getpid(), getppid());
#else
	return 0;
#endif
}

#if KIOSK_HAVE_SYSTEMD
static void notify(const char *state)
{
	/* 0: no NOTIFY_SOCKET, not under systemd. A failure loses one message; the watchdog's next
	 * keep-alive, or the unit's TimeoutStartSec=, deals with it, so it is logged only. */
	int rc = sd_notify(0, state);
	if (rc < 0)
		log_errno(LOG_WARN, LOG_MODULE, -rc, "sd_notify %s", state);
}
#else
static void notify(const char *state) { (void)state; }
#endif

void core_service_ready(void)
{
	LOG_INFO("ready");
	notify("READY=1\nSTATUS=on screen");
}

void core_service_alive(void) { notify("WATCHDOG=1"); }

void core_service_stopping(void) { notify("STOPPING=1"); }
