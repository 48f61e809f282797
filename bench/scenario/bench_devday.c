/*
 * The floor under a scenario's virtual day: the three real drivers polling their simulated
 * devices (kiosk/devices.c over drivers/sim) through the core timers on a virtual clock, with
 * no display, no screens and no memory file. bench/scenario.sh divides the kiosk's cost of a
 * virtual day by this one, measured in the same run.
 *   bench-devday [DAYS]   prints "devday_cpu_ms N" and "devday_wall_ms N" per virtual day
 */
#define LOG_MODULE "bench"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kiosk/core/clock.h"
#include "kiosk/core/config.h"
#include "kiosk/core/log.h"
#include "kiosk/core/timers.h"
#include "kiosk/devices.h"
#include "kiosk/ledger/notes.h"
#include "kiosk/ledger/store.h"

static int wakes;

static void on_wake(void *user)
{
	(void)user;
	wakes++;
}

static double ms_of(clockid_t id)
{
	struct timespec t;
	clock_gettime(id, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	int days = argc > 1 ? atoi(argv[1]) : 1;
	if (days < 1 || days > 30) {
		fprintf(stderr, "usage: bench-devday [DAYS 1..30]\n");
		return 2;
	}
	/* Its scratch database goes where the user keeps temporary files ($TMPDIR). */
	const char *tmp = getenv("TMPDIR");
	char dir[512];
	int len = snprintf(dir, sizeof(dir), "%s/bench-devday-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
	if (len < 0 || (size_t)len >= sizeof(dir)) {
		fprintf(stderr, "bench-devday: TMPDIR is too long\n");
		return 2;
	}
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	struct core_config cfg;
	core_config_defaults(&cfg);
	snprintf(cfg.out_dir, sizeof(cfg.out_dir), "%s", dir);
	char db[sizeof(dir) + 16];
	snprintf(db, sizeof(db), "%s/kiosk.db", dir);
	struct core_clock *clock = core_clock_new(true, cfg.virtual_epoch_s);
	struct core_timers *timers = core_timers_new(clock);
	struct kio_error err = {0};
	struct ledger *ledger = NULL;
	struct devices *devs = NULL;
	int status = 1;
	if (ledger_open(db, &ledger, &err) != 0) {
		fprintf(stderr, "bench-devday: %s\n", err.msg);
		goto out;
	}
	struct ledger_notes *notes = ledger_notes_new(ledger, clock);
	struct devices_config dc = {
		.simulate = true,
		.cfg = &cfg,
		.timers = timers,
		.journal = ledger_notes_journal(notes),
		.wake = on_wake,
	};
	if (devices_open(&dc, &devs, &err) != 0) {
		fprintf(stderr, "bench-devday: %s\n", err.msg);
		ledger_notes_free(notes);
		goto out;
	}
	double cpu0 = ms_of(CLOCK_PROCESS_CPUTIME_ID), wall0 = ms_of(CLOCK_MONOTONIC);
	uint64_t end = core_clock_now_ms(clock) + (uint64_t)days * 86400000u;
	/* The kiosk's loop without SDL: service wake-ups, fire timers, jump to the next one. */
	for (;;) {
		if (wakes) {
			wakes = 0;
			devices_service(devs);
			continue;
		}
		core_timers_fire_due(timers);
		if (wakes)
			continue;
		uint64_t now = core_clock_now_ms(clock), next;
		if (now >= end)
			break;
		if (!core_timers_next_deadline(timers, &next) || next > end)
			next = end;
		if (next > now)
			core_clock_advance_to(clock, next);
	}
	double cpu = ms_of(CLOCK_PROCESS_CPUTIME_ID) - cpu0, wall = ms_of(CLOCK_MONOTONIC) - wall0;
	printf("devday_cpu_ms %.1f\ndevday_wall_ms %.1f\n", cpu / days, wall / days);
	status = 0;
	devices_free(devs);
	ledger_notes_free(notes);
out:
	ledger_close(ledger);
	core_timers_free(timers);
	core_clock_free(clock);
	char *rm = NULL;
	if (asprintf(&rm, "rm -rf '%s'", dir) > 0) {
		if (system(rm) != 0)
			fprintf(stderr, "bench-devday: could not remove %s\n", dir);
		free(rm);
	}
	return status;
}
