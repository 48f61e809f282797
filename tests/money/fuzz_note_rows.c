/*
 * Fuzz target: the note journal read back (list_open at start-up, ledger_notes_get) from rows
 * a damaged or hand-edited database can hold: any SQLite type in any column the schema lets
 * through. Promise: a journey is returned only if every column is what begin() writes and the
 * note says exactly what the row says; anything else is KIO_ERR_CORRUPT naming the journey.
 * Input: up to 4 rows of 7 cells (device, channel, value_fils, state, counters_known,
 * stacked_before, rejected_before), each a type byte then its value.
 */
#define LOG_MODULE "fuzz-note-rows"
#include <dirent.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "kiosk/core/log.h"
#include "kiosk/ledger/notes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { COLS = 7, ROWS = 4 };
static const char *const device = "essp:0001";

static struct core_clock *clock_;
static struct ledger *ledger;
static struct ledger_notes *notes;
static sqlite3 *raw; /* a second connection: the rows go in past the journal's own checks */

static char dir[4096 + 32];

static void remove_db(void)
{
	ledger_notes_free(notes);
	ledger_close(ledger);
	sqlite3_close(raw);
	core_clock_free(clock_);
	/* Every file: the store keeps side files beside the database (lock, WAL, secret). */
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[sizeof(dir) + 256];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static void open_once(void)
{
	if (raw)
		return;
	log_set_level(LOG_ERROR);
	/* One database for the whole run, in memory-backed /dev/shm where there is one: the
	 * journal commits with synchronous=FULL. Else the run's own TMPDIR, else this build's
	 * folder (FUZZ_TMP_DIR, meson): a shared /tmp is no place a test may assume it can
	 * write to, or leave a database in when it is killed. */
	const char *tmp = getenv("TMPDIR");
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : tmp && *tmp ? tmp : FUZZ_TMP_DIR;
	snprintf(dir, sizeof(dir), "%s/fuzz-note-rows-XXXXXX", base);
	if (!mkdtemp(dir))
		abort();
	char path[sizeof(dir) + 16];
	snprintf(path, sizeof(path), "%s/kiosk.db", dir);
	atexit(remove_db);
	struct kio_error err = {0};
	clock_ = core_clock_new(true, 1700000000);
	if (ledger_open(path, &ledger, &err) != 0) {
		fprintf(stderr, "fuzz_note_rows: %s\n", err.msg);
		abort();
	}
	notes = ledger_notes_new(ledger, clock_);
	if (sqlite3_open(path, &raw) != SQLITE_OK ||
	    sqlite3_exec(raw, "PRAGMA synchronous=OFF", NULL, NULL, NULL) != SQLITE_OK)
		abort();
}

struct reader {
	const uint8_t *p;
	size_t left;
};

static uint8_t byte(struct reader *r)
{
	if (!r->left)
		return 0;
	r->left--;
	return *r->p++;
}

static int64_t int64(struct reader *r)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | byte(r);
	return (int64_t)v;
}

/* Binds one cell: mostly well-typed values near the edges, sometimes anything. */
static void bind_cell(sqlite3_stmt *st, int col, struct reader *r)
{
	static const char *const states[] = {"escrow", "accepted", "credited", "stacked", "returned"};
	static const int64_t edges[] = {0, 1, -1, 255, 256, 4294967295LL, 4294967296LL, INT64_MAX, INT64_MIN, 5000};
	uint8_t kind = byte(r);
	switch (kind % 8) {
	case 0: /* the value begin() would write */
		if (col == 0)
			sqlite3_bind_text(st, col + 1, device, -1, SQLITE_STATIC);
		else if (col == 3)
			sqlite3_bind_text(st, col + 1, states[byte(r) % 5], -1, SQLITE_STATIC);
		else
			sqlite3_bind_int64(st, col + 1, byte(r) % 4);
		break;
	case 1:
	case 2:
		sqlite3_bind_int64(st, col + 1, edges[byte(r) % (sizeof(edges) / sizeof(edges[0]))]);
		break;
	case 3:
		sqlite3_bind_int64(st, col + 1, int64(r));
		break;
	case 4: {
		int64_t bits = int64(r);
		double d;
		memcpy(&d, &bits, sizeof(d));
		sqlite3_bind_double(st, col + 1, d);
		break;
	}
	case 5:
	case 6: { /* text or blob of the bytes that follow */
		size_t n = byte(r) % 48;
		if (n > r->left)
			n = r->left;
		if (kind % 8 == 5)
			sqlite3_bind_text(st, col + 1, (const char *)r->p, (int)n, SQLITE_TRANSIENT);
		else
			sqlite3_bind_blob(st, col + 1, r->p, (int)n, SQLITE_TRANSIENT);
		r->p += n;
		r->left -= n;
		break;
	}
	default:
		sqlite3_bind_null(st, col + 1);
		break;
	}
}

static bool int_in(sqlite3_stmt *st, int col, int64_t lo, int64_t hi)
{
	return sqlite3_column_type(st, col) == SQLITE_INTEGER && sqlite3_column_int64(st, col) >= lo &&
	       sqlite3_column_int64(st, col) <= hi;
}

/* What the row says, read without the journal; abort()s if the journal's note disagrees. */
static void check_note(int64_t id, int rc, const struct cash_note *n, const struct kio_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(raw,
			       "SELECT device, channel, value_fils, state, counters_known, stacked_before,"
			       " rejected_before FROM note_journey WHERE id = ?",
			       -1, &st, NULL) != SQLITE_OK)
		abort();
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		fprintf(stderr, "fuzz_note_rows: journey %" PRId64 ": %s\n", id, sqlite3_errmsg(raw));
		abort();
	}
	int dev_type = sqlite3_column_type(st, 0); /* before column_text converts it */
	const char *dev = (const char *)sqlite3_column_text(st, 0);
	int dev_len = sqlite3_column_bytes(st, 0);
	bool good = dev_type == SQLITE_TEXT && dev && dev_len < CASH_NOTE_DEVICE_MAX &&
		    strlen(dev) == (size_t)dev_len && int_in(st, 1, 0, 255) && int_in(st, 2, 0, INT64_MAX) &&
		    sqlite3_column_type(st, 3) == SQLITE_TEXT && int_in(st, 4, 0, 1) && int_in(st, 5, 0, UINT32_MAX) &&
		    int_in(st, 6, 0, UINT32_MAX);
	/* The schema's CHECK keeps the state to the five names. */
	const char *state = (const char *)sqlite3_column_text(st, 3);
	if (rc == 0) {
		/* Returned: it must be this row, every column as stored. */
		if (!good || n->id != id || strcmp(n->device, dev) != 0 || strcmp(cash_note_state_name(n->state), state) != 0 ||
		    n->channel != sqlite3_column_int64(st, 1) || n->value_fils != sqlite3_column_int64(st, 2) ||
		    n->counters_known != sqlite3_column_int64(st, 4) || n->stacked_before != sqlite3_column_int64(st, 5) ||
		    n->rejected_before != sqlite3_column_int64(st, 6))
			abort();
	} else if (good) {
		abort(); /* a row begin() could have written is refused */
	} else {
		char want[64];
		snprintf(want, sizeof(want), "journey %" PRId64, id);
		if (rc != KIO_ERR_CORRUPT || !strstr(err->msg, want))
			abort(); /* refused as corrupt, naming the journey a technician must look at */
	}
	sqlite3_finalize(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	open_once();
	struct reader r = {data, size};
	if (sqlite3_exec(raw, "DELETE FROM note_step; DELETE FROM note_journey", NULL, NULL, NULL) != SQLITE_OK)
		abort();
	sqlite3_stmt *ins = NULL;
	if (sqlite3_prepare_v2(raw,
			       "INSERT INTO note_journey(device, channel, value_fils, state, counters_known,"
			       " stacked_before, rejected_before, begun_s) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
			       -1, &ins, NULL) != SQLITE_OK)
		abort();
	int64_t ids[ROWS];
	size_t n_rows = 0;
	for (int row = 0; row < ROWS && r.left; row++) {
		for (int c = 0; c < COLS; c++)
			bind_cell(ins, c, &r);
		/* The schema's own NOT NULL and CHECKs refuse some rows; those cannot be in the file. */
		if (sqlite3_step(ins) == SQLITE_DONE)
			ids[n_rows++] = sqlite3_last_insert_rowid(raw);
		sqlite3_reset(ins);
		sqlite3_clear_bindings(ins);
	}
	sqlite3_finalize(ins);

	struct cash_journal *j = ledger_notes_journal(notes);
	struct cash_note open[ROWS];
	size_t n_open = 0;
	struct kio_error err = {0};
	int rc = cash_journal_list_open(j, device, open, ROWS, &n_open, &err);
	if (rc == 0) {
		for (size_t i = 0; i < n_open; i++) {
			if (open[i].state == CASH_NOTE_STACKED || open[i].state == CASH_NOTE_RETURNED ||
			    strcmp(open[i].device, device) != 0 || (i > 0 && open[i].id <= open[i - 1].id))
				abort(); /* only this device's unfinished journeys, oldest first */
			check_note(open[i].id, 0, &open[i], &err);
		}
	} else if (rc != KIO_ERR_CORRUPT || !strstr(err.msg, "journey ")) {
		abort();
	}
	for (size_t i = 0; i < n_rows; i++) {
		struct cash_note one;
		memset(&one, 0, sizeof(one));
		struct kio_error get_err = {0};
		int get_rc = ledger_notes_get(notes, ids[i], &one, &get_err);
		check_note(ids[i], get_rc, &one, &get_err);
	}
	return 0;
}
