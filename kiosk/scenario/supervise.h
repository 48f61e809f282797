/*
 * The scenario supervisor: with --script, the kiosk runs in a child process that this one
 * restarts after each `power-cut` line, so the scenario goes on across the cut (README,
 * "Scenarios"). Only in builds with the test port.
 */
#pragma once

#include <stdbool.h>

#include "kiosk/app.h"

/* Whether the scenario at path has a `power-cut` line. Only such a run is supervised: any other
 * keeps the kiosk in the process its caller started (a harness that signals or waits for that
 * pid, or reads it from the database lock, finds the kiosk). A file that does not parse is
 * false here and reported by app_run. */
bool supervise_wanted(const char *script_path);

/*
 * Runs app_run(opts) in a child process, and again in a new child (same options, so the same
 * database, devices' saved state and output folder) each time a child dies at `power-cut`,
 * handing it what the one before carried over. Returns the last child's exit status. A child
 * that dies of a signal in any other way (a sanitizer's abort, a kill from outside) takes the
 * supervisor with it by the same signal, so whoever started the kiosk sees what the kiosk did.
 * In each child this returns too, with app_run's status, for main() to return.
 */
int supervise_scenario(const struct app_options *opts);
