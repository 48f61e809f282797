/*
 * One read-only question to a kiosk database, answered as text: the scenario command
 * `expect-ledger "SQL" "VALUE"` and anyone auditing by hand. A connection of its own, opened
 * read-only, so nothing asked here can change the money records.
 */
#pragma once

#include <stddef.h>

#include "kiosk/core/err.h"

/* What the first column of the first row was. */
enum ledger_query_kind {
	LEDGER_QUERY_VALUE,  /* a value, as SQLite's text of it (integers "42", reals "1.5") */
	LEDGER_QUERY_NULL,   /* SQL NULL: out is "NULL" */
	LEDGER_QUERY_NO_ROW, /* the query gave no row: out is "(no row)" */
};

/* The longest statement taken; longer is a mistake in a scenario. */
#define LEDGER_QUERY_MAX_SQL 4096
/* SQLite steps a query may take (sqlite3_progress_handler): a runaway recursive query ends
 * with an error instead of hanging the scenario. */
#define LEDGER_QUERY_MAX_STEPS 50000000

/*
 * Runs sql, exactly one statement that only reads (a SELECT, a WITH ... SELECT, a read-only
 * PRAGMA; no ATTACH, no write, no second statement), on the database at db_path, opened
 * read-only (SQLITE_OPEN_READONLY, never created), and writes the first column of the first
 * row into out (cap bytes, NUL-terminated), and *kind. Errors, err filled: KIO_ERR_INVALID for
 * SQL that does not compile, is more than one statement, or would write (naming why), and for
 * a value of cap bytes or more (never cut: a cut value could equal what it was compared to);
 * KIO_ERR_NOT_FOUND for a database that is not there;
 * KIO_ERR_IO for a database that cannot be read or a query that fails while it runs.
 */
int ledger_query_text(const char *db_path, const char *sql, char *out, size_t cap, enum ledger_query_kind *kind,
		      struct kio_error *err);
