/*
 * The note journal in SQLite (schema migration 2: note_journey and note_step): the
 * cash_journal that cash-in drivers record each banknote's journey through. One
 * transaction per step, committed before the call returns (WAL, synchronous=FULL, as
 * store.c opens the database), so a step the driver acted on survives a crash.
 */
#pragma once

#include "drivers/class/cash-journal.h"
#include "kiosk/core/clock.h"
#include "store.h"

struct ledger_notes;

/* Borrows ledger and clock (wall time of each step); both must outlive it. Caller frees
 * with ledger_notes_free. */
struct ledger_notes *ledger_notes_new(struct ledger *ledger, const struct core_clock *clock);
void ledger_notes_free(struct ledger_notes *notes); /* accepts NULL */
/* The journal face, borrowed from notes. */
struct cash_journal *ledger_notes_journal(struct ledger_notes *notes);

/* For tests and the technicians' menu: one journey by id (KIO_ERR_NOT_FOUND if none), and
 * how many journeys of a device (NULL: of every device) are in a state with their total
 * value (total_fils may be NULL). */
int ledger_notes_get(struct ledger_notes *notes, int64_t id, struct cash_note *out, struct kio_error *err);
int ledger_notes_count(struct ledger_notes *notes, const char *device, enum cash_note_state state,
		       int64_t *count, int64_t *total_fils, struct kio_error *err);
/* Steps recorded for a journey (the audit trail): count only. */
int ledger_notes_steps(struct ledger_notes *notes, int64_t id, int64_t *count, struct kio_error *err);
