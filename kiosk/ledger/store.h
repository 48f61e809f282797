/*
 * The kiosk's durable store: one SQLite database opened once at start-up, its schema
 * created and upgraded by numbered migrations recorded in PRAGMA user_version. The rest
 * of the kiosk records through the small functions here and never sees SQLite.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "kiosk/core/err.h"

struct ledger;

/* The connection's page cache, KiB (PRAGMA cache_size = -LEDGER_CACHE_KIB): its bound. A
 * top-up touches the tails of a few tables and indexes and the chain head; the rest of a
 * month's ledger is read back only by audits, from the OS's page cache. SQLite's default
 * (2,000 KiB) filled over the first ~3,000 top-ups of a long run and was most of its RSS
 * growth (issue 14, bench/longrun.sh). */
#define LEDGER_CACHE_KIB 512

/* Opens (creating if needed), checks and migrates the database at path, and holds it for
 * this process alone (an exclusive lock on "<path>.lock", which says the holder's pid) until
 * ledger_close; ":memory:" is a private in-memory database with no lock. *out is NULL on
 * any failure, and nothing is open then. Errors, each naming the path:
 *  - KIO_ERR_BUSY: another kiosk holds the database (the message gives its pid).
 *  - KIO_ERR_CORRUPT: not a database, damaged (PRAGMA quick_check), or written by a newer
 *    kiosk (user_version above what we know): refused before anything writes the file.
 *  - KIO_ERR_IO: read-only, its folder not writable, locked by another program beyond the
 *    busy timeout, or a test write fails.
 * Caller frees with ledger_close. */
int ledger_open(const char *path, struct ledger **out, struct kio_error *err);
void ledger_close(struct ledger *ledger); /* accepts NULL */

/* The schema version this build creates, and the one found in an open database. */
int ledger_schema_latest(void);
int ledger_schema_version(struct ledger *ledger);

/*
 * Health at run time. A write that fails after the busy timeout puts the store in FAILING:
 * the listener hears (failing=true, why) once, from inside the call that failed, so it must
 * only note the fact. While FAILING, journal writes fail at once (KIO_ERR_IO) and device
 * events are kept in memory. ledger_recover tries a real write and, in the same
 * transaction, the kept events; on success the store is OK again and the listener hears
 * (false, NULL). The kiosk takes no money while the store is FAILING.
 */
enum ledger_fault { LEDGER_FAULT_NONE, LEDGER_FAULT_WRITE_FAILED, LEDGER_FAULT_COUNT };
typedef void (*ledger_fault_fn)(void *user, bool failing, const char *why);
void ledger_set_fault_listener(struct ledger *ledger, ledger_fault_fn fn, void *user);
bool ledger_failing(const struct ledger *ledger);
/* "none", "write-failed"; NULL for another value. */
const char *ledger_fault_name(int fault);
/* 0 when the store is OK (again); else the write that still fails. */
int ledger_recover(struct ledger *ledger, struct kio_error *err);

/* A device changed state (fault, recovery, connect): kept for the technicians' menu. 0 when
 * committed; otherwise the store is FAILING and the event is kept in memory until
 * ledger_recover writes it (beyond 256 kept events, only their number is recorded). */
int ledger_device_event_add(struct ledger *ledger, int64_t wall_s, const char *device,
			    const char *state, const char *detail, struct kio_error *err);
/* A technician's test print on device: the next number of the kiosk's test prints (1, 2, ...,
 * never reused, across restarts), recorded as a device event "test-print" with the number as
 * its detail. Refused while the store is failing; a failed write takes the store to FAILING. */
int ledger_test_print_next(struct ledger *ledger, int64_t wall_s, const char *device, unsigned *number,
			   struct kio_error *err);
/* Number of device events stored (tests and the technicians' menu). */
int ledger_device_event_count(struct ledger *ledger, int64_t *count, struct kio_error *err);

/* Tests and the crash suite: called at each named kill point of the ledger (tx.h and
 * notes.h list them) with its name; NULL removes it. */
typedef void (*ledger_checkpoint_fn)(void *user, const char *point);
void ledger_set_checkpoint(struct ledger *ledger, ledger_checkpoint_fn fn, void *user);

/* HMAC-SHA256(the chain's secret, label) into out (32 bytes): a key for another use derived
 * from the secret, which itself never leaves the ledger module. The receipt signing seed is
 * the one user (kiosk/proof, PROOF_SEED_LABEL); the host derives the same from the chain key
 * it was given at enrolment. */
void ledger_derive_key(const struct ledger *ledger, const char *label, uint8_t out[32]);
