/* The SQLite note journal: journeys begin, advance forward only, credit at most once,
 * survive reopening, and list what is unfinished per device. */
#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "kiosk/ledger/notes.h"
#include "kiosk/ledger/store-priv.h"

struct fixture {
	char *dir, *path;
	struct core_clock *clock;
	struct ledger *ledger;
	struct ledger_notes *notes;
	struct cash_journal *j;
};

static void open_db(struct fixture *f)
{
	struct kio_error err;
	g_assert_cmpint(ledger_open(f->path, &f->ledger, &err), ==, 0);
	f->notes = ledger_notes_new(f->ledger, f->clock);
	f->j = ledger_notes_journal(f->notes);
}

static void close_db(struct fixture *f)
{
	ledger_notes_free(f->notes);
	ledger_close(f->ledger);
	f->notes = NULL;
	f->ledger = NULL;
}

static void setup(struct fixture *f, gconstpointer data)
{
	f->dir = g_dir_make_tmp("notes-XXXXXX", NULL);
	g_assert_nonnull(f->dir);
	f->path = g_build_filename(f->dir, "kiosk.db", NULL);
	f->clock = core_clock_new(true, 1700000000);
	open_db(f);
}

static void teardown(struct fixture *f, gconstpointer data)
{
	close_db(f);
	core_clock_free(f->clock);
	char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
	g_assert_cmpint(system(cmd), ==, 0);
	g_free(cmd);
	g_free(f->path);
	g_free(f->dir);
}

static int64_t begin(struct fixture *f, const char *device, int64_t fils, uint32_t stacked)
{
	struct cash_note n = {.channel = 3, .value_fils = fils, .state = CASH_NOTE_ESCROW,
			      .counters_known = true, .stacked_before = stacked};
	snprintf(n.device, sizeof(n.device), "%s", device);
	struct kio_error err;
	g_assert_cmpint(cash_journal_begin(f->j, &n, &err), ==, 0);
	g_assert_cmpint(n.id, >, 0);
	return n.id;
}

static void test_journey(struct fixture *f, gconstpointer data)
{
	struct kio_error err;
	g_assert_cmpint(ledger_schema_version(f->ledger), ==, ledger_schema_latest());
	int64_t id = begin(f, "essp:1", 2000, 41);
	g_assert_cmpint(cash_journal_advance(f->j, id, CASH_NOTE_ACCEPTED, "kiosk", &err), ==, 0);
	g_assert_cmpint(cash_journal_advance(f->j, id, CASH_NOTE_CREDITED, "poll: NOTE CREDIT", &err), ==, 0);
	/* Invariant 1: a second credit is refused, whatever the caller thinks. */
	g_assert_cmpint(cash_journal_advance(f->j, id, CASH_NOTE_CREDITED, "again", &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(cash_journal_advance(f->j, id, CASH_NOTE_RETURNED, "late", &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(cash_journal_advance(f->j, id, CASH_NOTE_STACKED, "poll: STACKED", &err), ==, 0);
	g_assert_cmpint(cash_journal_advance(f->j, id, CASH_NOTE_STACKED, "again", &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(cash_journal_advance(f->j, 9999, CASH_NOTE_STACKED, "nobody", &err), ==, KIO_ERR_NOT_FOUND);
	struct cash_note n;
	g_assert_cmpint(ledger_notes_get(f->notes, id, &n, &err), ==, 0);
	g_assert_cmpint(n.state, ==, CASH_NOTE_STACKED);
	g_assert_cmpint(n.value_fils, ==, 2000);
	g_assert_cmpuint(n.stacked_before, ==, 41);
	g_assert_cmpstr(n.device, ==, "essp:1");
	int64_t steps = 0;
	g_assert_cmpint(ledger_notes_steps(f->notes, id, &steps, &err), ==, 0);
	g_assert_cmpint(steps, ==, 4); /* begin, accepted, credited, stacked; refusals leave no step */
}

static void test_open_survives_reopen(struct fixture *f, gconstpointer data)
{
	struct kio_error err;
	int64_t a = begin(f, "essp:1", 500, 0);
	int64_t b = begin(f, "essp:1", 1000, 1);
	int64_t c = begin(f, "essp:2", 5000, 7);
	g_assert_cmpint(cash_journal_advance(f->j, a, CASH_NOTE_RETURNED, "poll: REJECTED", &err), ==, 0);
	g_assert_cmpint(cash_journal_advance(f->j, b, CASH_NOTE_ACCEPTED, "kiosk", &err), ==, 0);
	close_db(f);
	open_db(f);
	struct cash_note open[4];
	size_t n = 0;
	g_assert_cmpint(cash_journal_list_open(f->j, "essp:1", open, 4, &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpint(open[0].id, ==, b);
	g_assert_cmpint(open[0].state, ==, CASH_NOTE_ACCEPTED);
	g_assert_cmpint(cash_journal_list_open(f->j, "essp:2", open, 0, &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 1); /* counted even when it does not fit */
	g_assert_cmpint(cash_journal_advance(f->j, c, CASH_NOTE_CREDITED, "power-up", &err), ==, 0);
	int64_t count = 0, total = 0;
	g_assert_cmpint(ledger_notes_count(f->notes, "essp:2", CASH_NOTE_CREDITED, &count, &total, &err), ==, 0);
	g_assert_cmpint(count, ==, 1);
	g_assert_cmpint(total, ==, 5000);
}

/* SQLite calls the authorizer while it compiles a statement, and only then. */
static int count_compiles(void *user, int action, const char *a, const char *b, const char *c, const char *d)
{
	(void)action, (void)a, (void)b, (void)c, (void)d;
	(*(int *)user)++;
	return SQLITE_OK;
}

static void note_round(struct fixture *f, uint32_t stacked)
{
	struct kio_error err;
	int64_t id = begin(f, "essp:1", 5000, stacked);
	g_assert_cmpint(cash_journal_advance(f->j, id, CASH_NOTE_ACCEPTED, "kiosk", &err), ==, 0);
	g_assert_cmpint(cash_journal_advance(f->j, id, CASH_NOTE_CREDITED, "poll: NOTE CREDIT", &err), ==, 0);
	g_assert_cmpint(cash_journal_advance(f->j, id, CASH_NOTE_STACKED, "poll: STACKED", &err), ==, 0);
}

/* store.c invariant 5: a note's four commits (each a BEGIN, its reads and writes, its
 * booking on the chain, a COMMIT) compile no SQL once the connection has run them before;
 * they compiled every statement on every call (a sixth of a top-up's CPU). */
static void test_warm_note_compiles_nothing(struct fixture *f, gconstpointer data)
{
	int compiles = 0;
	/* Before the warm-up: setting an authorizer expires every prepared statement. */
	g_assert_cmpint(sqlite3_set_authorizer(ledger_db(f->ledger), count_compiles, &compiles), ==, SQLITE_OK);
	note_round(f, 0);
	g_assert_cmpint(compiles, >, 0);
	compiles = 0;
	note_round(f, 1);
	g_assert_cmpint(compiles, ==, 0);
	struct kio_error err;
	int64_t count = 0, total = 0;
	g_assert_cmpint(ledger_notes_count(f->notes, "essp:1", CASH_NOTE_STACKED, &count, &total, &err), ==, 0);
	g_assert_cmpint(count, ==, 2);
	g_assert_cmpint(total, ==, 10000);
	sqlite3_set_authorizer(ledger_db(f->ledger), NULL, NULL);
}

/* What the cache hands out: the same statement for the same text, reset and unbound when it
 * comes back (no read held, no caller's pointer kept); a second one while the first is out. */
static void test_stmt_cache(struct fixture *f, gconstpointer data)
{
	static const char sql[] = "SELECT ?1, (SELECT count(*) FROM note_journey)";
	sqlite3_stmt *a = NULL, *b = NULL, *again = NULL;
	g_assert_cmpint(ledger_stmt(f->ledger, sql, &a), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_bind_int(a, 1, 42), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_step(a), ==, SQLITE_ROW);
	g_assert_cmpint(sqlite3_column_int(a, 0), ==, 42);
	g_assert_true(sqlite3_stmt_busy(a));
	/* Nested: the same text while `a` is out is another statement, finalized when done. */
	g_assert_cmpint(ledger_stmt(f->ledger, sql, &b), ==, SQLITE_OK);
	g_assert_true(b != a);
	ledger_stmt_done(f->ledger, b);
	ledger_stmt_done(f->ledger, a);
	g_assert_false(sqlite3_stmt_busy(a));
	g_assert_cmpint(ledger_stmt(f->ledger, sql, &again), ==, SQLITE_OK);
	g_assert_true(again == a);
	g_assert_cmpint(sqlite3_step(again), ==, SQLITE_ROW);
	g_assert_cmpint(sqlite3_column_type(again, 0), ==, SQLITE_NULL); /* the 42 is gone */
	ledger_stmt_done(f->ledger, again);
	/* A text SQLite refuses: its code, no statement, nothing cached. */
	sqlite3_stmt *bad = NULL;
	g_assert_cmpint(ledger_stmt(f->ledger, "SELECT FROM nowhere", &bad), ==, SQLITE_ERROR);
	g_assert_null(bad);
	ledger_stmt_done(f->ledger, bad);
	/* Every statement is back: the connection closes (teardown) with none left open. */
}

static void test_begin_credited(struct fixture *f, gconstpointer data)
{
	/* A note the device credited without an escrow we saw (power-up, anomaly). */
	struct kio_error err;
	struct cash_note n = {.channel = 1, .value_fils = 500, .state = CASH_NOTE_CREDITED};
	snprintf(n.device, sizeof(n.device), "essp:9");
	g_assert_cmpint(cash_journal_begin(f->j, &n, &err), ==, 0);
	g_assert_cmpint(cash_journal_advance(f->j, n.id, CASH_NOTE_CREDITED, "again", &err), ==, KIO_ERR_INVALID);
	n.state = CASH_NOTE_STACKED;
	g_assert_cmpint(cash_journal_begin(f->j, &n, &err), ==, KIO_ERR_INVALID);
}

/* A damaged or hand-edited database: a journey whose column is not what begin() writes is
 * refused as corrupt, naming the journey and the column, never read as some other note. */
static void test_bad_row_refused(struct fixture *f, gconstpointer data)
{
	static const struct {
		const char *set, *column;
	} cases[] = {
		{"channel = 300", "channel"},
		{"channel = 2.5", "channel"},
		{"value_fils = 'AED 50'", "value"},
		{"stacked_before = 4294967296", "stacked_before"},
		{"rejected_before = -1", "rejected_before"},
		{"counters_known = 2", "counters_known"},
		{"device = CAST('essp:1' AS BLOB)", "device"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		int64_t id = begin(f, "essp:1", 1000, 3);
		sqlite3 *db = NULL;
		g_assert_cmpint(sqlite3_open(f->path, &db), ==, SQLITE_OK);
		char *sql = g_strdup_printf("UPDATE note_journey SET %s WHERE id = %" G_GINT64_FORMAT, cases[i].set, id);
		g_assert_cmpint(sqlite3_exec(db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
		g_free(sql);
		sqlite3_close(db);

		struct kio_error err;
		struct cash_note n;
		g_test_message("%s", cases[i].set);
		char *want = g_strdup_printf("journey %" G_GINT64_FORMAT " has a bad %s", id, cases[i].column);
		g_assert_cmpint(ledger_notes_get(f->notes, id, &n, &err), ==, KIO_ERR_CORRUPT);
		g_assert_nonnull(strstr(err.msg, want));
		struct cash_note open[4];
		size_t count = 0;
		/* The device's rows are matched by name, so a device stored as a blob is not among
		 * them; every other case is the device's one open journey. */
		int rc = cash_journal_list_open(f->j, "essp:1", open, 4, &count, &err);
		if (strcmp(cases[i].column, "device") != 0) {
			g_assert_cmpint(rc, ==, KIO_ERR_CORRUPT);
			g_assert_nonnull(strstr(err.msg, want));
		}
		g_free(want);
		g_assert_cmpint(cash_journal_advance(f->j, id, CASH_NOTE_RETURNED, "test", &err), ==, 0);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/notes/journey", struct fixture, NULL, setup, test_journey, teardown);
	g_test_add("/notes/open-survives-reopen", struct fixture, NULL, setup, test_open_survives_reopen, teardown);
	g_test_add("/notes/warm-note-compiles-nothing", struct fixture, NULL, setup, test_warm_note_compiles_nothing,
		   teardown);
	g_test_add("/notes/stmt-cache", struct fixture, NULL, setup, test_stmt_cache, teardown);
	g_test_add("/notes/begin-credited", struct fixture, NULL, setup, test_begin_credited, teardown);
	g_test_add("/notes/bad-row-refused", struct fixture, NULL, setup, test_bad_row_refused, teardown);
	return g_test_run();
}
