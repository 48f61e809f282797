/* Inside the ledger module (and its own tests) only: the database handle and the store's
 * health, for the ledger's other tables. */
#pragma once

#include <sqlite3.h>

#include "store.h"

/* Borrowed: valid until ledger_close. */
sqlite3 *ledger_db(struct ledger *ledger);

/* A write failed (after the busy timeout): the store is FAILING (store.c invariant 4). */
void ledger_write_failed(struct ledger *ledger, const struct kio_error *why);
/* 0 while the store is OK; KIO_ERR_IO naming `what` while it is FAILING. */
int ledger_refuse_while_failing(struct ledger *ledger, const char *what, struct kio_error *err);
/* One device_event row, in whatever transaction is open; no health bookkeeping. */
int ledger_insert_device_event(struct ledger *ledger, int64_t wall_s, const char *device, const char *state,
			       const char *detail, struct kio_error *err);

/* Tests: runs migrations from+1..to and sets user_version to `to`, inside the caller's
 * transaction on db (another connection, as another program would). */
int ledger_test_apply(sqlite3 *db, int from, int to, struct kio_error *err);
/* Tests: creates the database at path with the schema as of `version` (0..latest), as the
 * kiosk of that version left it, with no rows beyond what the migrations insert. */
int ledger_test_build_at(const char *path, int version, struct kio_error *err);
