/* ledger_query_text: one read-only statement on its own read-only connection (query.h). */
#include "kiosk/ledger/query.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "kiosk/core/infile.h"

/* The kiosk may be writing; a read waits for its lock as the kiosk's own reads do. */
#define QUERY_BUSY_MS 2000

/*
 * Only reading: sqlite3_stmt_readonly() calls ATTACH, DETACH and some PRAGMAs read-only
 * (they change the connection, not the file), so the authorizer refuses those too. An
 * ATTACH could otherwise create a file beside the database.
 */
static int authorize(void *user, int action, const char *a, const char *b, const char *db, const char *trigger)
{
	(void)user, (void)a, (void)b, (void)db, (void)trigger;
	switch (action) {
	case SQLITE_SELECT:
	case SQLITE_READ:
	case SQLITE_FUNCTION:
	case SQLITE_RECURSIVE:
		return SQLITE_OK;
	case SQLITE_PRAGMA:
		/* A pragma that sets something writes the file (user_version: refused above, by
		 * sqlite3_stmt_readonly, and by the read-only connection) or only this private
		 * connection, closed right after. Reading ones (user_version, table_info('note'))
		 * are questions like any other. */
		return SQLITE_OK;
	default:
		return SQLITE_DENY;
	}
}

static int on_progress(void *user)
{
	unsigned *calls = user;
	/* Called every 1000 steps (sqlite3_progress_handler below). */
	return ++*calls > LEDGER_QUERY_MAX_STEPS / 1000;
}

/* Whether the rest of the text after the statement is only spaces, comments and semicolons. */
static bool only_blank(sqlite3 *db, const char *tail)
{
	while (*tail) {
		sqlite3_stmt *next = NULL;
		const char *after = NULL;
		if (sqlite3_prepare_v2(db, tail, -1, &next, &after) != SQLITE_OK)
			return false;
		bool empty = next == NULL;
		sqlite3_finalize(next);
		if (!empty)
			return false;
		if (after == tail)
			break;
		tail = after;
	}
	return true;
}

int ledger_query_text(const char *db_path, const char *sql, char *out, size_t cap, enum ledger_query_kind *kind,
		      struct kio_error *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	const char *tail = NULL;
	unsigned steps = 0;
	int rc = 0;
	if (cap)
		out[0] = '\0';
	if (strlen(sql) > LEDGER_QUERY_MAX_SQL)
		return kio_fail(err, KIO_ERR_INVALID, "the query is %zu bytes, more than %d", strlen(sql),
				LEDGER_QUERY_MAX_SQL);
	/* SQLite would say "unable to open database file" for a missing one: say which. */
	struct stat st;
	if (stat(db_path, &st) != 0)
		return kio_fail(err, KIO_ERR_NOT_FOUND, "%s: no database there", db_path);
	/* SQLite's read-only open of a FIFO would wait for a writer: refused first. */
	int rc_file = core_infile_regular(db_path, db_path, err);
	if (rc_file)
		return rc_file == KIO_ERR_NOT_FOUND ? rc_file : KIO_ERR_IO;
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		rc = kio_fail(err, KIO_ERR_IO, "%s: %s", db_path, db ? sqlite3_errmsg(db) : "cannot open");
		goto out_close;
	}
	sqlite3_busy_timeout(db, QUERY_BUSY_MS);
	sqlite3_progress_handler(db, 1000, on_progress, &steps);
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, &tail) != SQLITE_OK) {
		rc = kio_fail(err, KIO_ERR_INVALID, "%s", sqlite3_errmsg(db));
		goto out_close;
	}
	if (!stmt) {
		rc = kio_fail(err, KIO_ERR_INVALID, "no statement in the query");
		goto out_close;
	}
	if (!only_blank(db, tail)) {
		rc = kio_fail(err, KIO_ERR_INVALID, "more than one statement in the query (after '%.40s')", sql);
		goto out_close;
	}
	if (!sqlite3_stmt_readonly(stmt)) {
		rc = kio_fail(err, KIO_ERR_INVALID, "the query would write to the database: only reads are allowed");
		goto out_close;
	}
	/* The authorizer from here: preparing is where it judges, and the checks above gave the
	 * clearer message for writes. */
	sqlite3_finalize(stmt);
	stmt = NULL;
	sqlite3_set_authorizer(db, authorize, NULL);
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		rc = kio_fail(err, KIO_ERR_INVALID, "%s: only reading (SELECT) is allowed", sqlite3_errmsg(db));
		goto out_close;
	}
	int step = sqlite3_step(stmt);
	if (step == SQLITE_DONE) {
		*kind = LEDGER_QUERY_NO_ROW;
		snprintf(out, cap, "(no row)");
	} else if (step == SQLITE_ROW && sqlite3_column_count(stmt) > 0) {
		if (sqlite3_column_type(stmt, 0) == SQLITE_NULL) {
			*kind = LEDGER_QUERY_NULL;
			snprintf(out, cap, "NULL");
		} else {
			*kind = LEDGER_QUERY_VALUE;
			const unsigned char *text = sqlite3_column_text(stmt, 0);
			size_t len = (size_t)sqlite3_column_bytes(stmt, 0);
			if (len >= cap)
				rc = kio_fail(err, KIO_ERR_INVALID, "the value is %zu bytes, more than the %zu taken", len,
					      cap ? cap - 1 : 0);
			else
				snprintf(out, cap, "%s", text ? (const char *)text : "");
		}
	} else if (step == SQLITE_ROW) {
		rc = kio_fail(err, KIO_ERR_INVALID, "the query returns no column");
	} else if (step == SQLITE_INTERRUPT) {
		rc = kio_fail(err, KIO_ERR_IO, "the query ran more than %d steps: stopped", LEDGER_QUERY_MAX_STEPS);
	} else {
		rc = kio_fail(err, KIO_ERR_IO, "%s", sqlite3_errmsg(db));
	}
out_close:
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return rc;
}
