/*
 * The crash suite's money invariants: SQL queries on the kiosk's database, run after every
 * case once start-up recovery is over. All of them are in invariants.c, in one table, each with
 * the promise it checks; tests/README.md ("crash/") lists them too.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* What the device says, for the queries that compare the ledger with the cashbox. */
struct crash_device {
	int64_t cashbox_fils;   /* the value of every note in the cashbox */
	int64_t stacked;        /* the device's stacked counter (GA138 GET COUNTERS) */
	const char *by_value;   /* JSON object: note value in fils -> notes in the cashbox, every
				 * channel listed (zeros too), e.g. {"500":2,"1000":0,...} */
	int64_t max_fils;       /* the top-up maximum of the flow's configuration */
};

/* Runs every query read-only on db_path. 0 when all hold; otherwise the number (1-based) of the
 * first that failed and why (its promise and the figure it found, or the SQLite error). */
int crash_invariants_check(const char *db_path, const struct crash_device *dev, char *why, size_t why_len);
size_t crash_invariants_count(void);
