/* The other program on the kiosk's database, for run-store.sh: holds its write lock, makes a
 * newer or a damaged database, and prints the device events the kiosk recorded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/ledger/store-priv.h"
#include "kiosk/ledger/store.h"

static int fail(sqlite3 *db, const char *what)
{
	fprintf(stderr, "store-tool: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
	sqlite3_close(db);
	return 1;
}

/* Takes the write lock as any other program could, says "held", and keeps it until its
 * standard input ends. */
static int hold(const char *path)
{
	sqlite3 *db = NULL;
	if (sqlite3_open(path, &db) != SQLITE_OK || sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return fail(db, "hold");
	printf("held\n");
	fflush(stdout);
	while (getchar() != EOF)
		;
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	return 0;
}

/* A database from a kiosk one schema version ahead, in rollback-journal mode. */
static int newer(const char *path)
{
	sqlite3 *db = NULL;
	char sql[160];
	snprintf(sql, sizeof(sql), "CREATE TABLE future(x); INSERT INTO future VALUES (42); PRAGMA user_version = %d;",
		 ledger_schema_latest() + 1);
	if (sqlite3_open(path, &db) != SQLITE_OK || sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return fail(db, "newer");
	sqlite3_close(db);
	return 0;
}

/* A kiosk database of the current schema with 2,000 device events, one b-tree page of
 * which is overwritten: the header still reads, quick_check does not pass. */
static int damage(const char *path)
{
	struct kio_error err;
	if (ledger_test_build_at(path, ledger_schema_latest(), &err) != 0) {
		fprintf(stderr, "store-tool: %s\n", err.msg);
		return 1;
	}
	sqlite3 *db = NULL;
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db,
			 "PRAGMA journal_mode=DELETE; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
			 " WHERE i < 2000) INSERT INTO device_event(at_s, device, state, detail)"
			 " SELECT i, 'cash', 'ok', printf('%0100d', i) FROM n;",
			 NULL, NULL, NULL) != SQLITE_OK)
		return fail(db, "damage");
	sqlite3_close(db);
	FILE *f = fopen(path, "r+b");
	char junk[4096];
	memset(junk, 0x5A, sizeof(junk));
	if (!f || fseek(f, 20L * 4096, SEEK_SET) != 0 || fwrite(junk, 1, sizeof(junk), f) != sizeof(junk) ||
	    fclose(f) != 0) {
		perror("store-tool: damage");
		return 1;
	}
	return 0;
}

static int events(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT device, state, detail FROM device_event ORDER BY id", -1, &st, NULL) !=
		    SQLITE_OK)
		return fail(db, "events");
	while (sqlite3_step(st) == SQLITE_ROW)
		printf("%s %s %s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1), sqlite3_column_text(st, 2));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: store-tool hold|newer|damage|events DB\n");
		return 2;
	}
	if (strcmp(argv[1], "hold") == 0)
		return hold(argv[2]);
	if (strcmp(argv[1], "newer") == 0)
		return newer(argv[2]);
	if (strcmp(argv[1], "damage") == 0)
		return damage(argv[2]);
	if (strcmp(argv[1], "events") == 0)
		return events(argv[2]);
	fprintf(stderr, "store-tool: unknown command '%s'\n", argv[1]);
	return 2;
}
