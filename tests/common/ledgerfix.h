/* A money ledger on a temporary file for the ledger's tests: the database, its note journal and
 * a virtual clock, opened, closed (a restart) and removed; raw SQL that must pass or fail; the
 * fixtures the money tests share (a note into the cashbox, a basket line) and the kill-point
 * hook of their SIGKILL children. */
#pragma once

#include <sqlite3.h>
#include <stdint.h>

#include "kiosk/core/clock.h"
#include "kiosk/ledger/basket.h"
#include "kiosk/ledger/notes.h"
#include "kiosk/ledger/store.h"

/* "<tmp>/<prefix>-XXXXXX/k.db" in a new folder; lfix_remove_db removes the folder and frees. */
char *lfix_temp_db(const char *prefix);
void lfix_remove_db(char *path);

/* sql must succeed (the test aborts naming it otherwise). */
void lfix_exec_ok(sqlite3 *db, const char *sql);
/* sql must fail: its SQLite error message (caller frees with g_free). */
char *lfix_exec_fails(sqlite3 *db, const char *sql);
/* sql must fail with a message holding want (a trigger's refusal). */
void lfix_exec_refused(sqlite3 *db, const char *sql, const char *want);

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

/* A note on f's journal all the way into the cashbox: escrow, accepted, credited (booked there:
 * to the open transaction, or to suspense), stacked; device names the acceptor (channel 4).
 * Returns its id; a refused step aborts the test naming it. */
int64_t lfix_credit_note(struct lfix *f, const char *device, int64_t value_fils);

/* A basket line for ledger_basket_open (bill: NULL or "" for none). */
struct ledger_fee_line lfix_fee_line(const char *entity, const char *service, const char *reference,
				     const char *bill, int64_t amount_fils);

/* The kill-point hook (ledger_set_checkpoint) of a test's child that SIGKILLs itself: each
 * point passed counts a hit and, with report_fd >= 0, is written there as a line (the parent's
 * census); the target-th hit (0: none) raises SIGKILL. */
struct lfix_killer {
	int target;
	int hits;
	int report_fd;
};
void lfix_on_point(void *user, const char *point);

/* In such a child: a step that fails ends it with status 90 (no g_assert: the parent reads the
 * status, and a SIGKILL is the only other way out). */
#define LFIX_CHILD_CHECK(expr) \
	do { \
		if (!(expr)) \
			_exit(90); \
	} while (0)

/* Forks a child that runs steps(path, killer) with the killer's target (0: none) and
 * report_fd; steps ends the child (_exit). Returns the child's wait status. */
typedef void (*lfix_child_steps)(const char *path, struct lfix_killer *k);
int lfix_run_child(const char *path, int target, int report_fd, lfix_child_steps steps);

/* The census: a child runs steps on path with nothing killed and must exit 0; the kill
 * points it passed, in order, NULL-terminated (caller frees with g_strfreev). */
char **lfix_census(const char *path, lfix_child_steps steps);
