/* Inside the ledger module only: the sync's invariants checked on any connection. */
#pragma once

#include <sqlite3.h>

#include "kiosk/core/err.h"

/* Invariants 2 and 3 of sync-state.c in SQL: 0 when they hold, KIO_ERR_CORRUPT naming the
 * first that does not, KIO_ERR_IO when they cannot be read. ledger_check runs it too, so
 * every test and crash case that checks the ledger checks the sync's marks. */
int sync_state_check(sqlite3 *db, struct kio_error *err);
