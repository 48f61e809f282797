/*
 * Fuzz target: the power-cut carry (kiosk/scenario/runner.c), bytes a dying kiosk process
 * hands the next one through the supervisor. Any input is either refused with
 * KIO_ERR_CORRUPT and a reason naming the power-cut, or accepted; an accepted one encodes
 * back to exactly the same bytes, so nothing in it was dropped, clipped or reinterpreted.
 * The scenario it is checked against (5 lines, expect-log at 0 and 3) is written once.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kiosk/core/bytebuf.h"
#include "kiosk/scenario/runner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char scenario_path[4096];

/* In $TMPDIR (the system's temporary folder without it), under a fresh name: two fuzzing
 * jobs, or a job and a test run, must not share or delete each other's file. */
static void write_scenario(void)
{
	const char *dir = getenv("TMPDIR");
	snprintf(scenario_path, sizeof(scenario_path), "%s/fuzz-carry-XXXXXX.scenario", dir && *dir ? dir : P_tmpdir);
	int fd = mkstemps(scenario_path, (int)strlen(".scenario"));
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f || fputs("expect-log error \"a\"\nwait 1\npower-cut\nexpect-log warn \"b\"\nexpect-screen attract\n", f) < 0 ||
	    fclose(f) != 0) {
		fprintf(stderr, "fuzz_carry: cannot write %s\n", scenario_path);
		abort();
	}
}

static void remove_scenario(void) { unlink(scenario_path); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!scenario_path[0]) {
		write_scenario();
		atexit(remove_scenario);
	}
	struct core_bytebuf again = {0};
	struct kio_error err = {0};
	int rc = runner_carry_check(scenario_path, data, size, &again, &err);
	if (rc == 0) {
		if (again.len != size || (size && memcmp(again.data, data, size) != 0)) {
			fprintf(stderr, "fuzz_carry: accepted a carry that does not encode back to itself\n");
			abort();
		}
	} else if (rc != KIO_ERR_CORRUPT || !strstr(err.msg, "power-cut: ")) {
		fprintf(stderr, "fuzz_carry: refused without a reason (rc %d): %s\n", rc, err.msg);
		abort();
	}
	core_bytebuf_free(&again);
	return 0;
}
