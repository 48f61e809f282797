/*
 * The kiosk's durable store: one SQLite database opened once at start-up, its schema
 * created and upgraded by numbered migrations recorded in PRAGMA user_version. The rest
 * of the kiosk records through the small functions here and never sees SQLite.
 */
#pragma once

#include <stdint.h>

#include "kiosk/core/err.h"

struct ledger;

/* Opens (creating if needed) and migrates the database at path. A database written by a
 * newer kiosk (user_version above what we know) is refused with KIO_ERR_CORRUPT rather than
 * guessed at. Caller frees with ledger_close. */
int ledger_open(const char *path, struct ledger **out, struct kio_error *err);
void ledger_close(struct ledger *ledger); /* accepts NULL */

/* The schema version this build creates, and the one found in an open database. */
int ledger_schema_latest(void);
int ledger_schema_version(struct ledger *ledger);

/* A device changed state (fault, recovery, connect): kept for the technicians' menu. */
int ledger_device_event_add(struct ledger *ledger, int64_t wall_s, const char *device,
			    const char *state, const char *detail, struct kio_error *err);
/* Number of device events stored (tests and the technicians' menu). */
int ledger_device_event_count(struct ledger *ledger, int64_t *count, struct kio_error *err);
