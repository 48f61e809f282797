/* Inside the ledger module (and its own tests) only: the database handle and the store's
 * health, for the ledger's other tables. */
#pragma once

#include <sqlite3.h>
#include <stdint.h>

#include "store.h"

/* Borrowed: valid until ledger_close. */
sqlite3 *ledger_db(struct ledger *ledger);

/* The connection's prepared statement for `sql` (store.c invariant 5), ready to bind and
 * step: prepared on the first use of that text, reused after. Returns SQLite's code (the
 * message is sqlite3_errmsg(ledger_db)); *st is NULL unless SQLITE_OK. Borrowed: give it back
 * with ledger_stmt_done, never sqlite3_finalize. A text already out (a nested use) or past
 * the cache's size gets a statement of its own, finalized by ledger_stmt_done. */
int ledger_stmt(struct ledger *ledger, const char *sql, sqlite3_stmt **st);
/* Gives back a statement from ledger_stmt (NULL: nothing): resets it, ending any read it
 * held, and clears its bindings. Call it after reading the last column or error you need. */
void ledger_stmt_done(struct ledger *ledger, sqlite3_stmt *st);

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

/* The ledger's write transaction (tx.c, notes.c): the outermost begin is BEGIN IMMEDIATE,
 * a nested one a savepoint, so a step called inside another commits with it. commit and
 * rollback end the innermost. `what` names the step in an error ("note journal: credit"). A failed COMMIT rolls back and puts the store in FAILING. */
int ledger_write_begin(struct ledger *ledger, const char *what, struct kio_error *err);
int ledger_write_commit(struct ledger *ledger, const char *what, struct kio_error *err);
void ledger_write_rollback(struct ledger *ledger);
/* True inside a write the ledger owns (nested steps must not commit on their own). */
bool ledger_write_open(const struct ledger *ledger);

/* Named kill point (tx.c and notes.c headers list them): calls the test's checkpoint hook. */
void ledger_checkpoint(struct ledger *ledger, const char *point);

/* The per-kiosk chain key (chain.c), loaded by ledger_open. Borrowed. */
const uint8_t *ledger_key(const struct ledger *ledger);

/* tx.c: books a note that just became CREDITED, in the caller's write transaction: a cash
 * payment of the open transaction, or suspense when none is open (tx.c invariant 2). */
int ledger_book_credit(struct ledger *ledger, int64_t note_id, int64_t value_fils, int64_t now_s,
		       struct kio_error *err);
/* tx.c: at ledger_open while the chain is still empty, books every credited note (credited
 * by a kiosk before the ledger existed, schema 3 and older) to suspense, in one commit. */
int ledger_book_orphans(struct ledger *ledger, int64_t now_s, struct kio_error *err);
