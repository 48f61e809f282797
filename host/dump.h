/* `kiosk-host dump`: what the host holds, as JSON lines, for the demo and the tests' equality
 * checks (docs/host.md, "dump"). */
#pragma once

#include <libpq-fe.h>
#include <stdio.h>

#include "kiosk/core/err.h"

/* For each kiosk (or only kiosk_id, may be NULL), in id order: {"kiosk": K, "acked": N}, then
 * its records in rec order exactly as `kiosk ledger export` writes them; then every card:
 * {"card", "status", "balance_fils", "opening_fils", "credited_fils"}; then {"alarms": N}.
 * One read-only transaction, so the lines are one moment's state. KIO_ERR_IO on a database or
 * write error. */
int dump_print(PGconn *c, const char *kiosk_id, FILE *out, struct kio_error *err);
