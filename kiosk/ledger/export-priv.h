/* Inside the ledger module only: the chained records as JSON objects, one encoder shared by
 * the export (JSON lines) and the sync (the body of POST /v1/records), so the two can never
 * disagree on a record's wire form. */
#pragma once

#include <json-glib/json-glib.h>
#include <sqlite3.h>
#include <stdint.h>

#include "kiosk/core/err.h"

/* Called once per record with the record as a JSON object: `rec`, `type`, the table's
 * columns in chain order (chain_specs), `mac` as 64 lowercase hex. obj is borrowed for the
 * call (take a reference to keep it). A non-zero return stops the walk and is returned. */
typedef int (*export_record_fn)(void *user, int64_t rec, JsonNode *obj, struct kio_error *err);

/* Walks the records after `since` in rec order, at most `limit` of them (0: all), in db's
 * current transaction. KIO_ERR_IO when a table cannot be read; fn's own errors. */
int export_records_each(sqlite3 *db, int64_t since, int64_t limit, export_record_fn fn, void *user,
			struct kio_error *err);
