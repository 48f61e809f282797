/*
 * The run the basket harnesses share (crash-basket.c, crash-feesflow.c): a day of journeys
 * SIGKILLed at every hit of every kill point its census passes, each case restarted by the
 * harness and then checked against the settled note journal. There is no device model to ask
 * after the restart, so the cashbox is read from the journal the restart settled.
 */
#pragma once

#include <stddef.h>

#include "invariants.h"
#include "tests/common/ledgerfix.h"

/* What a harness gives the run. */
struct crash_day {
	const char *prefix;                          /* of the temporary folders */
	lfix_child_steps day;                        /* the child's day (tests/common/ledgerfix.h) */
	void (*seed)(const char *path);              /* a fresh database's neighbours; NULL: none */
	/* The restarted kiosk on path: settles the journeys, recovers, serves the next customer;
	 * point names the case for its messages. */
	void (*restart)(const char *path, const char *point);
	const char *const *required;                 /* kill points the census must pass */
	size_t n_required;
};

/* The invariants (invariants.c) with the cashbox read from path's settled note journal
 * (value, count, count by value), then the chain verified; g_error naming point if one fails. */
void crash_check_settled(const char *path, const char *point);

/* The census, each required point seen, then one case per hit: restart and check after each.
 * Returns how many hits were killed. */
unsigned crash_every_point(const struct crash_day *d);
