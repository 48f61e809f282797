/*
 * Ledger benchmark (README: Benchmarks): durable commits, fsyncs and time per banknote and
 * per top-up through the real write path (note journal + ledger + chain), against the floor
 * measured in the same run: a bare SQLite insert, one per commit, with the same pragmas
 * (WAL, synchronous=FULL) in the same folder.
 *
 *   bench-ledger [TOP_UPS [NOTES_PER_TOP_UP [DIR]]]   (defaults 200, 3, the current folder)
 *
 * fsyncs are counted by interposing fsync/fdatasync (SQLite calls them through the PLT);
 * commits by SQLite's commit hook on each connection. Both sides first run uncounted until
 * their WAL has wrapped at least once: a WAL still growing costs a file-size journal commit
 * per fdatasync on ext4 (about 5x here), which would compare a young file to an old one.
 */
#include <dlfcn.h>
#include <glib.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kiosk/ledger/notes.h"
#include "kiosk/ledger/store-priv.h"
#include "kiosk/ledger/store.h"
#include "kiosk/ledger/tx.h"

static long n_fsync;

int fsync(int fd);
int fdatasync(int fd);

int fsync(int fd)
{
	static int (*real)(int);
	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	n_fsync++;
	return real(fd);
}

int fdatasync(int fd)
{
	static int (*real)(int);
	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	n_fsync++;
	return real(fd);
}

static int on_commit(void *user)
{
	(*(long *)user)++;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "bench-ledger: %s failed\n", what);
		exit(1);
	}
}

struct run {
	long commits, fsyncs;
	double seconds, cpu; /* wall and this process's CPU time */
};

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The floor: one row per commit on a bare connection with the ledger's pragmas. */
#define WARM_COMMITS 3000 /* the WAL checkpoints at 1000 pages: wrapped at least once */

static struct run floor_run(const char *dir, long n)
{
	char *path = g_build_filename(dir, "floor.db", NULL);
	sqlite3 *db = NULL;
	must(sqlite3_open(path, &db) == SQLITE_OK, "open floor");
	must(sqlite3_exec(db,
			  "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
			  "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v INTEGER NOT NULL) STRICT;",
			  NULL, NULL, NULL) == SQLITE_OK,
	     "floor schema");
	sqlite3_stmt *st = NULL;
	must(sqlite3_prepare_v2(db, "INSERT INTO t(v) VALUES (?)", -1, &st, NULL) == SQLITE_OK, "prepare");
	struct run r = {0};
	for (long k = 0; k < WARM_COMMITS + n; k++) {
		if (k == WARM_COMMITS) {
			sqlite3_commit_hook(db, on_commit, &r.commits);
			r.fsyncs = n_fsync;
			r.seconds = now_s();
			r.cpu = cpu_s();
		}
		must(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK, "begin");
		sqlite3_bind_int64(st, 1, k);
		must(sqlite3_step(st) == SQLITE_DONE, "insert");
		sqlite3_reset(st);
		must(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK, "commit");
	}
	r.seconds = now_s() - r.seconds;
	r.cpu = cpu_s() - r.cpu;
	r.fsyncs = n_fsync - r.fsyncs;
	sqlite3_finalize(st);
	sqlite3_close(db);
	g_free(path);
	return r;
}

/* Top-ups through the real write path: open, each note escrow → accepted → credited
 * (booked) → stacked, complete. */
static void ledger_run(const char *dir, long tx_count, long notes, struct run *per_note_steps, struct run *whole)
{
	char *path = g_build_filename(dir, "ledger.db", NULL);
	struct ledger *l = NULL;
	struct kio_error err = {0};
	if (ledger_open(path, &l, &err) != 0) {
		fprintf(stderr, "bench-ledger: %s\n", err.msg);
		exit(1);
	}
	struct core_clock *clock = core_clock_new(true, 1798761600);
	struct ledger_notes *ln = ledger_notes_new(l, clock);
	struct cash_journal *j = ledger_notes_journal(ln);
	long commits = 0;
	sqlite3_commit_hook(ledger_db(l), on_commit, &commits);
	long warm = WARM_COMMITS / (notes * 4 + 2) + 1;
	long f0 = 0, c0 = 0;
	double t0 = 0, cpu0 = 0;
	for (long t = 0; t < warm + tx_count; t++) {
		if (t == warm) {
			memset(per_note_steps, 0, sizeof(*per_note_steps));
			f0 = n_fsync;
			c0 = commits;
			t0 = now_s();
			cpu0 = cpu_s();
		}
		struct ledger_tx tx;
		must(ledger_tx_open(l, 1798761600 + t, LEDGER_TX_TOPUP, "en", "7840123456789012", &tx, &err) == 0,
		     "open");
		for (long k = 0; k < notes; k++) {
			long nf = n_fsync, nc = commits;
			double nt = now_s();
			struct cash_note note = {.device = "essp:bench", .channel = 4, .value_fils = 5000,
						 .state = CASH_NOTE_ESCROW, .counters_known = true};
			must(cash_journal_begin(j, &note, &err) == 0, "escrow");
			must(cash_journal_advance(j, note.id, CASH_NOTE_ACCEPTED, "accept", &err) == 0, "accept");
			must(cash_journal_advance(j, note.id, CASH_NOTE_CREDITED, "credit", &err) == 0, "credit");
			must(cash_journal_advance(j, note.id, CASH_NOTE_STACKED, "stacked", &err) == 0, "stacked");
			per_note_steps->seconds += now_s() - nt;
			per_note_steps->fsyncs += n_fsync - nf;
			per_note_steps->commits += commits - nc;
		}
		must(ledger_tx_complete(l, tx.id, 1798761600 + t, NULL, &err) == 0, "complete");
	}
	whole->seconds = now_s() - t0;
	whole->cpu = cpu_s() - cpu0;
	whole->fsyncs = n_fsync - f0;
	whole->commits = commits - c0;
	must(ledger_check(l, &err) == 0, "ledger_check");
	ledger_notes_free(ln);
	core_clock_free(clock);
	ledger_close(l);
	g_free(path);
}

int main(int argc, char **argv)
{
	long tx_count = argc > 1 ? atol(argv[1]) : 200;
	long notes = argc > 2 ? atol(argv[2]) : 3;
	const char *parent = argc > 3 ? argv[3] : ".";
	if (tx_count < 1 || notes < 1) {
		fprintf(stderr, "usage: bench-ledger [TOP_UPS [NOTES_PER_TOP_UP [DIR]]]\n");
		return 2;
	}
	char *tmpl = g_build_filename(parent, "bench-ledger-XXXXXX", NULL);
	char *dir = g_mkdtemp(tmpl);
	must(dir != NULL, "mkdtemp");
	long steps = tx_count * (notes * 4 + 2);
	/* The floor before and after the ledger, averaged: the disk's speed drifts. */
	struct run fa = floor_run(dir, steps / 2);
	struct run note, whole;
	ledger_run(dir, tx_count, notes, &note, &whole);
	struct run fb = floor_run(dir, steps - steps / 2);
	struct run fl = {fa.commits + fb.commits, fa.fsyncs + fb.fsyncs, fa.seconds + fb.seconds, fa.cpu + fb.cpu};
	double floor_us = fl.seconds * 1e6 / (double)fl.commits;
	double floor_fs = (double)fl.fsyncs / (double)fl.commits;
	long n_notes = tx_count * notes;
	double note_us = note.seconds * 1e6 / (double)n_notes;
	double tx_us = whole.seconds * 1e6 / (double)tx_count;
	printf("bench-ledger: %ld top-ups of %ld notes in %s\n", tx_count, notes, dir);
	printf("floor (bare insert, WAL, synchronous=FULL): %ld commits, %.2f fsyncs/commit, %.0f us/commit\n",
	       fl.commits, floor_fs, floor_us);
	printf("per note (escrow, accept, credit+booking, stack): %.2f commits, %.2f fsyncs, %.0f us"
	       " = %.2f x the floor's commit (%.2f floor commits' fsyncs)\n",
	       (double)note.commits / (double)n_notes, (double)note.fsyncs / (double)n_notes, note_us,
	       note_us / floor_us, (double)note.fsyncs / (double)n_notes / floor_fs);
	printf("per top-up (open, %ld notes, complete): %.2f commits, %.2f fsyncs, %.0f us = %.2f x the floor's"
	       " commit\n",
	       notes, (double)whole.commits / (double)tx_count, (double)whole.fsyncs / (double)tx_count, tx_us,
	       tx_us / floor_us);
	double lc_us = whole.seconds * 1e6 / (double)whole.commits;
	double lc_cpu = whole.cpu * 1e6 / (double)whole.commits, fl_cpu = fl.cpu * 1e6 / (double)fl.commits;
	printf("per ledger commit: %.0f us = %.2f x the floor's; CPU %.0f us = %.2f x the floor's %.0f us (the"
	       " chain, triggers, lookups; the rest of the wall time is syncing more pages)\n",
	       lc_us, lc_us / floor_us, lc_cpu, lc_cpu / fl_cpu, fl_cpu);
	char *cmd = g_strdup_printf("rm -rf '%s'", dir);
	int rc = system(cmd);
	g_free(cmd);
	g_free(dir);
	return rc == 0 ? 0 : 1;
}
