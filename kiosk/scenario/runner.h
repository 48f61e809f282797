/*
 * Runs a parsed scenario against the kiosk through its test port (kiosk/testport.h), one
 * command per step. The app's loop calls runner_step only when the kiosk is quiet (no pending
 * input, no due timer), so each command sees the effects of the one before. This header is all
 * the app sees of the runner; it exists only in builds with the test port.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiosk/core/bytebuf.h"
#include "kiosk/core/config.h"
#include "kiosk/core/err.h"
#include "kiosk/testport.h"
#include "script.h"

struct runner;

enum runner_status {
	RUNNER_CONTINUE, /* a command ran; let the app process what it caused */
	RUNNER_WAIT,     /* let time pass until *wait_until_ms */
	RUNNER_DONE,     /* finished: *exit_code is 0 (all held) or 1 (an expectation failed) */
};

/* What the kiosk that will run the scenario has, for the parse-time checks and `power-cut`. */
struct runner_env {
	bool simulate; /* simulated devices: note, fault, clear and test-print can work */
	/* `power-cut`: the scenario supervisor's pipe (kiosk/scenario/supervise.h), where the
	 * runner writes what the next kiosk process needs before this one dies; -1 without one. */
	int carry_fd;
	/* What the process before this one wrote there at its power-cut; NULL on the first. */
	const void *carry;
	size_t carry_len;
};

/*
 * Loads the scenario at path (checked as runner_check_cmd does: KIO_ERR_INVALID with
 * "file:line: reason" in err, nothing done) and starts the run on port (borrowed, like env's
 * carry). Call it before anything the scenario checks happens: it notes what the output folder
 * already holds (expect-file and friends see only what this run wrote) and from then on watches
 * the log (an error line the scenario did not declare with expect-log fails it). After a
 * power-cut, env->carry holds both, and the line to go on from.
 */
int runner_open(const char *path, const struct runner_env *env, const struct testport *port, struct runner **out,
		struct kio_error *err);
void runner_free(struct runner *runner); /* accepts NULL; stops the scenario's host if any */
/*
 * The scenario's own host (kiosk/scenario/host.h), for a scenario whose first host command is
 * `host up` (runner_open refuses one whose first is another): started here, and its URL, CA,
 * certificate and key written into cfg's [host]. The app calls it right after runner_open,
 * before it opens the ledger: the kiosk's chain key (`<db>.secret`) comes from the host's
 * enrolment. 0 with nothing done for a scenario without host commands; host.h's errors.
 */
int runner_host_config(struct runner *runner, struct core_config *cfg, struct kio_error *err);
/* The largest carry a power-cut may hand on (16 MiB: a few hundred thousand files). */
#define RUNNER_CARRY_MAX (16 << 20)
/*
 * Checks a carry (the bytes a kiosk process wrote at its power-cut) against the scenario at
 * path without running anything: 0 when the next process can go on from it, otherwise
 * KIO_ERR_CORRUPT (or script_load's error) with the reason in err. The supervisor calls it
 * before starting another kiosk; tests and the fuzz target too. again, when not NULL, gets
 * the carry encoded again from what was decoded (the same bytes, when it returns 0).
 */
int runner_carry_check(const char *path, const void *carry, size_t len, struct core_bytebuf *again,
		       struct kio_error *err);
/* The virtual time, in ms since the run began, the kiosk's clock starts at: 0, or where the
 * clock of the process before a power-cut stood. */
uint64_t runner_clock_start_ms(const struct runner *runner);
enum runner_status runner_step(struct runner *runner, uint64_t now_ms, uint64_t *wait_until_ms, int *exit_code);
/*
 * After the kiosk has shut down: status is the run's exit status so far. A run that passed
 * fails (1) if an undeclared error was logged while shutting down or an expect-log line never
 * came, or, with a scenario host, if the kiosk's records and the host's differ (scn_host_check);
 * the reason is printed. Any other status is returned unchanged. The scenario's host is
 * stopped here whatever the status.
 */
int runner_finish(struct runner *runner, int status);

/*
 * A failure the app found outside a command (the page check): prints it as the failure of the
 * command that ran last (`file:line: FAILED: <line>`, or before the first line), like a failed
 * expectation.
 */
void runner_report_failure(struct runner *runner, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The parse-time check of device names, fault kinds, screen ids, log levels, queries, and of
 * commands that need simulated devices (script_check_fn; check_user is a const struct
 * runner_env *, NULL to check names only). */
int runner_check_cmd(const struct script_cmd *cmd, void *check_user, char *why, size_t why_len);
