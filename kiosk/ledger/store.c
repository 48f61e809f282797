/* SQLite open, pragmas and schema migrations. */
#define LOG_MODULE "ledger"
#include "store.h"
#include "store-priv.h"

#include <sqlite3.h>
#include <stdlib.h>

#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"

struct ledger {
	sqlite3 *db;
};

/*
 * Append-only: migration N takes user_version N-1 to N. Never edit one that has shipped;
 * add the next. Each runs inside the same transaction as its user_version bump, so a crash
 * mid-migration leaves the previous version intact.
 */
static const char *const migrations[] = {
	/* 1: device state changes, for the technicians' menu and fault history. */
	"CREATE TABLE device_event ("
	"  id INTEGER PRIMARY KEY,"
	"  at_s INTEGER NOT NULL,"
	"  device TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  detail TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX device_event_by_device ON device_event(device, id);",
	/* 2: each banknote's journey from escrow to the cashbox or back (notes.h). One row per
	 * note with its current state, and every step it took, for reconciliation after a
	 * crash and for the technicians' audit. */
	"CREATE TABLE note_journey ("
	"  id INTEGER PRIMARY KEY,"
	"  device TEXT NOT NULL,"
	"  channel INTEGER NOT NULL,"
	"  value_fils INTEGER NOT NULL CHECK (value_fils >= 0),"
	"  state TEXT NOT NULL"
	"    CHECK (state IN ('escrow', 'accepted', 'credited', 'stacked', 'returned')),"
	"  counters_known INTEGER NOT NULL,"
	"  stacked_before INTEGER NOT NULL,"
	"  rejected_before INTEGER NOT NULL,"
	"  begun_s INTEGER NOT NULL,"
	"  credited_s INTEGER,"
	"  closed_s INTEGER"
	");"
	"CREATE INDEX note_journey_open ON note_journey(device, state, id);"
	"CREATE TABLE note_step ("
	"  id INTEGER PRIMARY KEY,"
	"  note_id INTEGER NOT NULL REFERENCES note_journey(id),"
	"  at_s INTEGER NOT NULL,"
	"  state TEXT NOT NULL,"
	"  why TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX note_step_by_note ON note_step(note_id, id);",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int ledger_schema_latest(void) { return N_MIGRATIONS; }

static int db_fail(struct ledger *ledger, struct kio_error *err, const char *what)
{
	return kio_fail(err, KIO_ERR_IO, "database: %s: %s", what, sqlite3_errmsg(ledger->db));
}

static int read_user_version(struct ledger *ledger, int *version, struct kio_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(ledger->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return db_fail(ledger, err, "read user_version");
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : db_fail(ledger, err, "read user_version");
}

static int migrate(struct ledger *ledger, struct kio_error *err)
{
	int version = 0;
	int rc = read_user_version(ledger, &version, err);
	if (rc)
		return rc;
	if (version > N_MIGRATIONS)
		return kio_fail(err, KIO_ERR_CORRUPT,
				"database schema version %d is newer than this kiosk knows (%d)", version,
				N_MIGRATIONS);
	for (int v = version; v < N_MIGRATIONS; v++) {
		char *sql = xasprintf("BEGIN IMMEDIATE; %s PRAGMA user_version = %d; COMMIT;", migrations[v],
				      v + 1);
		char *msg = NULL;
		int src = sqlite3_exec(ledger->db, sql, NULL, NULL, &msg);
		free(sql);
		if (src != SQLITE_OK) {
			kio_fail(err, KIO_ERR_IO, "database: migration %d failed: %s", v + 1, msg ? msg : "?");
			sqlite3_free(msg);
			sqlite3_exec(ledger->db, "ROLLBACK", NULL, NULL, NULL);
			return KIO_ERR_IO;
		}
		LOG_INFO("schema migrated to version %d", v + 1);
	}
	return 0;
}

int ledger_open(const char *path, struct ledger **out, struct kio_error *err)
{
	struct ledger *ledger = xcalloc(1, sizeof(*ledger));
	int rc;
	if (sqlite3_open_v2(path, &ledger->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		rc = kio_fail(err, KIO_ERR_IO, "database %s: %s", path,
			      ledger->db ? sqlite3_errmsg(ledger->db) : "cannot open");
		goto out_close;
	}
	sqlite3_busy_timeout(ledger->db, 2000);
	/* WAL + synchronous=FULL: a committed money record survives a power cut. */
	char *msg = NULL;
	if (sqlite3_exec(ledger->db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", NULL,
			 NULL, &msg) != SQLITE_OK) {
		rc = kio_fail(err, KIO_ERR_IO, "database %s: %s", path, msg ? msg : "pragma failed");
		sqlite3_free(msg);
		goto out_close;
	}
	rc = migrate(ledger, err);
	if (rc)
		goto out_close;
	*out = ledger;
	return 0;

out_close:
	ledger_close(ledger);
	return rc;
}

void ledger_close(struct ledger *ledger)
{
	if (!ledger)
		return;
	sqlite3_close(ledger->db);
	free(ledger);
}

sqlite3 *ledger_db(struct ledger *ledger) { return ledger->db; }

int ledger_schema_version(struct ledger *ledger)
{
	int version = -1;
	read_user_version(ledger, &version, NULL);
	return version;
}

int ledger_device_event_add(struct ledger *ledger, int64_t wall_s, const char *device,
			    const char *state, const char *detail, struct kio_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(ledger->db,
			       "INSERT INTO device_event(at_s, device, state, detail) VALUES (?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(ledger, err, "record device event");
	sqlite3_bind_int64(st, 1, wall_s);
	sqlite3_bind_text(st, 2, device, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, state, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, detail ? detail : "", -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(ledger, err, "record device event");
	sqlite3_finalize(st);
	return rc;
}

int ledger_device_event_count(struct ledger *ledger, int64_t *count, struct kio_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(ledger->db, "SELECT count(*) FROM device_event", -1, &st, NULL) != SQLITE_OK)
		return db_fail(ledger, err, "count device events");
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*count = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : db_fail(ledger, err, "count device events");
}
