/* A money ledger on a temporary file for the ledger's tests: the database, its note journal and
 * a virtual clock, opened, closed (a restart) and removed; raw SQL that must pass or fail. */
#pragma once

#include <sqlite3.h>
#include <stdint.h>

#include "kiosk/core/clock.h"
#include "kiosk/ledger/notes.h"
#include "kiosk/ledger/store.h"

/* "<tmp>/<prefix>-XXXXXX/k.db" in a new folder; lfix_remove_db removes the folder and frees. */
char *lfix_temp_db(const char *prefix);
void lfix_remove_db(char *path);

/* sql must succeed (the test aborts naming it otherwise). */
void lfix_exec_ok(sqlite3 *db, const char *sql);
/* sql must fail: its SQLite error message (caller frees with g_free). */
char *lfix_exec_fails(sqlite3 *db, const char *sql);

struct lfix {
	char *path;
	int64_t epoch_s; /* the virtual clock starts here at every open */
	struct ledger *l;
	struct core_clock *clock;
	struct ledger_notes *notes;
	struct cash_journal *j;
};

/* A new database in a temporary folder, opened. */
void lfix_new(struct lfix *f, const char *prefix, int64_t epoch_s);
/* Opens f->path again (after lfix_close: a restart). */
void lfix_open(struct lfix *f);
void lfix_close(struct lfix *f);
/* Closes and removes everything. */
void lfix_free(struct lfix *f);
