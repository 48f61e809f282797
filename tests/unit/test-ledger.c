/* Unit tests of the store: migrations and upgrades, start-up checks (version, read-only,
 * damage, locks, a second kiosk), and the store's health when writes fail at run time. */
#include <glib.h>
#include <glib/gstdio.h>
#include <linux/capability.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kiosk/ledger/notes.h"
#include "kiosk/ledger/store-priv.h"
#include "kiosk/ledger/store.h"
#include "kiosk/ledger/tx.h"

/* A value ledger_open must overwrite: a failed open that leaves *out alone fails the test. */
static struct ledger *const NOT_SET = (struct ledger *)&NOT_SET;

static char *temp_db(void)
{
	char *dir = g_dir_make_tmp("kiosk-ledger-XXXXXX", NULL);
	char *path = g_build_filename(dir, "k.db", NULL);
	g_free(dir);
	return path;
}

static void remove_db(char *path)
{
	char *dir = g_path_get_dirname(path);
	g_chmod(dir, 0755);
	char *cmd = g_strdup_printf("rm -rf '%s'", dir);
	g_assert_cmpint(system(cmd), ==, 0);
	g_free(cmd);
	g_free(dir);
	g_free(path);
}

static void exec_ok(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		g_error("%s: %s", sql, msg ? msg : "?");
}

static char *file_bytes(const char *path, gsize *len)
{
	char *data = NULL;
	g_assert_true(g_file_get_contents(path, &data, len, NULL));
	return data;
}

/* Permission bits bind root only without CAP_DAC_OVERRIDE: the tests that need a read-only
 * file or folder run their check in a child that gave its capabilities up. */
static void drop_capabilities(void)
{
	if (geteuid() != 0)
		return;
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) != 0)
		_exit(90);
}

/* Runs ledger_open(path) in a child without capabilities; returns its result and message. */
static int open_unprivileged(const char *path, char *msg, size_t cap)
{
	int fds[2];
	g_assert_cmpint(pipe(fds), ==, 0);
	pid_t pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		close(fds[0]);
		drop_capabilities();
		struct ledger *l = NOT_SET;
		struct kio_error err = {0};
		int rc = ledger_open(path, &l, &err);
		if (rc != 0 && l != NULL)
			_exit(91);
		ledger_close(rc == 0 ? l : NULL);
		ssize_t n = write(fds[1], err.msg, strlen(err.msg));
		_exit(n < 0 ? 92 : -rc);
	}
	close(fds[1]);
	ssize_t n = read(fds[0], msg, cap - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	int status = 0;
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), <, 90);
	return -WEXITSTATUS(status);
}

static void test_fresh_database_is_migrated(void)
{
	char *path = temp_db();
	struct ledger *l = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_open(path, &l, &err), ==, 0);
	g_assert_cmpint(ledger_schema_version(l), ==, ledger_schema_latest());
	g_assert_cmpint(ledger_device_event_add(l, 1798761600, "cash", "fault", "jam", &err), ==, 0);
	int64_t n = 0;
	g_assert_cmpint(ledger_device_event_count(l, &n, &err), ==, 0);
	g_assert_cmpint(n, ==, 1);
	ledger_close(l);
	/* Reopening keeps data and does not migrate again. */
	g_assert_cmpint(ledger_open(path, &l, &err), ==, 0);
	g_assert_cmpint(ledger_device_event_count(l, &n, &err), ==, 0);
	g_assert_cmpint(n, ==, 1);
	ledger_close(l);
	remove_db(path);
}

static void test_newer_schema_is_refused_unchanged(void)
{
	char *path = temp_db();
	sqlite3 *db;
	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	/* A rollback-journal database, as a newer kiosk might leave it: switching it to WAL
	 * would rewrite its header. */
	char *sql = g_strdup_printf("CREATE TABLE future(x); INSERT INTO future VALUES (42); PRAGMA user_version = %d",
				    ledger_schema_latest() + 1);
	exec_ok(db, sql);
	g_free(sql);
	sqlite3_close(db);
	gsize before_len, after_len;
	char *before = file_bytes(path, &before_len);

	struct ledger *l = NOT_SET;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_open(path, &l, &err), ==, KIO_ERR_CORRUPT);
	g_assert_null(l);
	g_assert_nonnull(strstr(err.msg, "newer than this kiosk knows"));

	char *after = file_bytes(path, &after_len);
	g_assert_cmpmem(before, before_len, after, after_len);
	char *wal = g_strconcat(path, "-wal", NULL);
	g_assert_false(g_file_test(wal, G_FILE_TEST_EXISTS));
	g_free(wal);
	g_free(before);
	g_free(after);
	remove_db(path);
}

static void test_not_a_database(void)
{
	char *path = temp_db();
	g_file_set_contents(path, "this is not an sqlite database, just text that is long enough", -1, NULL);
	struct ledger *l = NOT_SET;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_open(path, &l, &err), ==, KIO_ERR_CORRUPT);
	g_assert_null(l);
	g_assert_nonnull(strstr(err.msg, "database"));
	g_assert_nonnull(strstr(err.msg, path));
	remove_db(path);
}

/* A folder (or any other non-file) named as the database: refused, and no lock file is left
 * beside it. */
static void test_not_a_file_is_refused(void)
{
	char *path = temp_db();
	g_assert_cmpint(g_mkdir(path, 0755), ==, 0);
	struct ledger *l = NOT_SET;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_open(path, &l, &err), ==, KIO_ERR_INVALID);
	g_assert_null(l);
	g_assert_nonnull(strstr(err.msg, "is not a regular file"));
	char *lock = g_strconcat(path, ".lock", NULL);
	g_assert_false(g_file_test(lock, G_FILE_TEST_EXISTS));
	g_free(lock);
	remove_db(path);
}

/* A database the kiosk made and closed, then left for a check. */
static char *made_db(void)
{
	char *path = temp_db();
	struct ledger *l = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_open(path, &l, &err), ==, 0);
	g_assert_cmpint(ledger_device_event_add(l, 1, "cash", "ok", "", &err), ==, 0);
	ledger_close(l);
	return path;
}

static void test_read_only_file_is_refused(void)
{
	char *path = made_db();
	g_assert_cmpint(g_chmod(path, 0444), ==, 0);
	char msg[256];
	g_assert_cmpint(open_unprivileged(path, msg, sizeof(msg)), ==, KIO_ERR_IO);
	g_test_message("%s", msg);
	g_assert_nonnull(strstr(msg, "is read-only"));
	remove_db(path);
}

static void test_read_only_folder_is_refused(void)
{
	/* The lock file already exists (a previous run), so only SQLite's own side files
	 * (-wal, -shm) need the folder. */
	char *path = made_db();
	char *dir = g_path_get_dirname(path);
	g_assert_cmpint(g_chmod(dir, 0555), ==, 0);
	char msg[256];
	g_assert_cmpint(open_unprivileged(path, msg, sizeof(msg)), !=, 0);
	g_test_message("%s", msg);
	g_assert_nonnull(strstr(msg, path));
	/* No lock file yet: refused as early, saying why. */
	char *lock = g_strconcat(path, ".lock", NULL);
	g_assert_cmpint(g_chmod(dir, 0755), ==, 0);
	g_assert_cmpint(g_unlink(lock), ==, 0);
	g_assert_cmpint(g_chmod(dir, 0555), ==, 0);
	g_assert_cmpint(open_unprivileged(path, msg, sizeof(msg)), ==, KIO_ERR_IO);
	g_test_message("%s", msg);
	g_assert_nonnull(strstr(msg, "the folder is not writable"));
	g_free(lock);
	g_free(dir);
	remove_db(path);
}

static void test_damaged_page_is_refused(void)
{
	char *path = temp_db();
	sqlite3 *db;
	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	exec_ok(db, "PRAGMA page_size = 4096; CREATE TABLE t(x TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL"
		    " SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO t SELECT printf('%0100d', i) FROM n;");
	sqlite3_close(db);
	/* Scribble over a b-tree page in the middle of the table: the header still reads. */
	FILE *f = fopen(path, "r+b");
	g_assert_nonnull(f);
	g_assert_cmpint(fseek(f, 20L * 4096, SEEK_SET), ==, 0);
	char junk[4096];
	memset(junk, 0x5A, sizeof(junk));
	g_assert_cmpuint(fwrite(junk, 1, sizeof(junk), f), ==, sizeof(junk));
	g_assert_cmpint(fclose(f), ==, 0);
	gsize before_len, after_len;
	char *before = file_bytes(path, &before_len);

	struct ledger *l = NOT_SET;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_open(path, &l, &err), ==, KIO_ERR_CORRUPT);
	g_assert_null(l);
	g_test_message("%s", err.msg);
	g_assert_nonnull(strstr(err.msg, "is damaged"));
	char *after = file_bytes(path, &after_len);
	g_assert_cmpmem(before, before_len, after, after_len);
	g_free(before);
	g_free(after);
	remove_db(path);
}

static void test_locked_by_another_program_is_refused(void)
{
	char *path = made_db();
	sqlite3 *other;
	g_assert_cmpint(sqlite3_open(path, &other), ==, SQLITE_OK);
	exec_ok(other, "BEGIN EXCLUSIVE; INSERT INTO device_event(at_s, device, state) VALUES (2, 'x', 'y');");
	struct ledger *l = NOT_SET;
	struct kio_error err = {0};
	gint64 t0 = g_get_monotonic_time();
	g_assert_cmpint(ledger_open(path, &l, &err), ==, KIO_ERR_IO);
	gint64 waited_ms = (g_get_monotonic_time() - t0) / 1000;
	g_assert_null(l);
	g_test_message("%s (after %" G_GINT64_FORMAT " ms)", err.msg, waited_ms);
	g_assert_nonnull(strstr(err.msg, "cannot be written"));
	g_assert_nonnull(strstr(err.msg, "another program holds it"));
	/* The busy timeout, not a hang and not an instant give-up. */
	g_assert_cmpint(waited_ms, >=, 1500);
	g_assert_cmpint(waited_ms, <, 10000);
	exec_ok(other, "ROLLBACK");
	sqlite3_close(other);
	remove_db(path);
}

/* Invariant 1 of store.c, across two processes: the second says who holds the database. */
static void test_second_kiosk_is_refused(void)
{
	char *path = temp_db();
	int ready[2], done[2];
	g_assert_cmpint(pipe(ready), ==, 0);
	g_assert_cmpint(pipe(done), ==, 0);
	pid_t pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		struct ledger *l = NULL;
		struct kio_error err;
		char c = ledger_open(path, &l, &err) == 0 ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1 || read(done[0], &c, 1) < 0)
			_exit(2);
		ledger_close(l);
		_exit(0);
	}
	char c = 0;
	g_assert_cmpint(read(ready[0], &c, 1), ==, 1);
	g_assert_cmpint(c, ==, 'y');

	struct ledger *l = NOT_SET;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_open(path, &l, &err), ==, KIO_ERR_BUSY);
	g_assert_null(l);
	char *want = g_strdup_printf("in use by another kiosk (pid %ld)", (long)pid);
	g_assert_nonnull(strstr(err.msg, want));
	g_free(want);

	/* The holder ends: the database is free again, with no stale lock to clean up. */
	g_assert_cmpint(write(done[1], "x", 1), ==, 1);
	int status = 0;
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	g_assert_cmpint(ledger_open(path, &l, &err), ==, 0);
	/* Within one process too: a second open of the same file is refused. */
	struct ledger *again = NOT_SET;
	g_assert_cmpint(ledger_open(path, &again, &err), ==, KIO_ERR_BUSY);
	g_assert_null(again);
	ledger_close(l);
	for (int i = 0; i < 2; i++) {
		close(ready[i]);
		close(done[i]);
	}
	remove_db(path);
}

struct racer {
	char *path;
	GMutex lock;
	GCond cond;
	bool holding;
};

/* Another program upgrades the schema while the kiosk starts: it holds the write lock from
 * before the kiosk reads user_version until after, then commits the same migrations. */
static gpointer race_migrate(gpointer user)
{
	struct racer *r = user;
	sqlite3 *db;
	g_assert_cmpint(sqlite3_open(r->path, &db), ==, SQLITE_OK);
	exec_ok(db, "BEGIN IMMEDIATE");
	g_mutex_lock(&r->lock);
	r->holding = true;
	g_cond_signal(&r->cond);
	g_mutex_unlock(&r->lock);
	g_usleep(400 * 1000);
	struct kio_error err;
	g_assert_cmpint(ledger_test_apply(db, 1, ledger_schema_latest(), &err), ==, 0);
	exec_ok(db, "COMMIT");
	sqlite3_close(db);
	return NULL;
}

static void test_migration_rereads_version_under_lock(void)
{
	char *path = temp_db();
	struct kio_error err = {0};
	g_assert_cmpint(ledger_test_build_at(path, 1, &err), ==, 0);
	struct racer r = {.path = path};
	g_mutex_init(&r.lock);
	g_cond_init(&r.cond);
	GThread *t = g_thread_new("racer", race_migrate, &r);
	g_mutex_lock(&r.lock);
	while (!r.holding)
		g_cond_wait(&r.cond, &r.lock);
	g_mutex_unlock(&r.lock);

	struct ledger *l = NOT_SET;
	g_assert_cmpint(ledger_open(path, &l, &err), ==, 0);
	g_thread_join(t);
	g_assert_cmpint(ledger_schema_version(l), ==, ledger_schema_latest());
	int64_t n = -1;
	g_assert_cmpint(ledger_device_event_count(l, &n, &err), ==, 0);
	g_assert_cmpint(n, ==, 0);
	ledger_close(l);
	g_mutex_clear(&r.lock);
	g_cond_clear(&r.cond);
	remove_db(path);
}

/* Every row of every table, in order, as text: what an upgrade must keep. */
static char *dump(sqlite3 *db, const char *const *tables)
{
	GString *out = g_string_new(NULL);
	for (size_t t = 0; tables[t]; t++) {
		char *sql = g_strdup_printf("SELECT * FROM %s ORDER BY rowid", tables[t]);
		sqlite3_stmt *st;
		g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==, SQLITE_OK);
		g_free(sql);
		g_string_append_printf(out, "[%s]\n", tables[t]);
		while (sqlite3_step(st) == SQLITE_ROW) {
			for (int c = 0; c < sqlite3_column_count(st); c++) {
				const unsigned char *v = sqlite3_column_text(st, c);
				g_string_append_printf(out, "%s=%s|", sqlite3_column_name(st, c),
						       v ? (const char *)v : "NULL");
			}
			g_string_append_c(out, '\n');
		}
		sqlite3_finalize(st);
	}
	return g_string_free(out, FALSE);
}

/* The previous schema version (the migration before the newest), populated, opened by this
 * kiosk: every row survives, the version moves, and the journal works on the old rows. */
static void test_upgrade_populated_previous_version(void)
{
	char *path = temp_db();
	int previous = ledger_schema_latest() - 1;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_test_build_at(path, previous, &err), ==, 0);
	sqlite3 *db;
	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	exec_ok(db, "BEGIN;"
		    "INSERT INTO device_event(at_s, device, state, detail) VALUES"
		    "  (1798761600, 'cash', 'fault', 'jam'), (1798761660, 'cash', 'ok', 'none'),"
		    "  (1798761700, 'receipt', 'warning', 'paper-near-end');"
		    "INSERT INTO note_journey(device, channel, value_fils, state, counters_known, stacked_before,"
		    "  rejected_before, begun_s, credited_s, closed_s) VALUES"
		    "  ('essp:001C962C', 4, 5000, 'stacked', 1, 10, 0, 1798761800, 1798761802, 1798761803),"
		    "  ('essp:001C962C', 2, 1000, 'returned', 1, 11, 0, 1798761900, NULL, 1798761905),"
		    "  ('essp:001C962C', 5, 10000, 'accepted', 1, 11, 0, 1798762000, NULL, NULL);"
		    "INSERT INTO note_step(note_id, at_s, state, why) VALUES"
		    "  (1, 1798761800, 'escrow', 'begin'), (1, 1798761801, 'accepted', 'kiosk: accept'),"
		    "  (1, 1798761802, 'credited', 'poll: NOTE CREDIT'), (1, 1798761803, 'stacked', 'poll: STACKED'),"
		    "  (2, 1798761900, 'escrow', 'begin'), (2, 1798761905, 'returned', 'poll: REJECTED'),"
		    "  (3, 1798762000, 'escrow', 'begin'), (3, 1798762001, 'accepted', 'kiosk: accept');"
		    "COMMIT;");
	static const char *const tables[] = {"device_event", "note_journey", "note_step", NULL};
	char *before = dump(db, tables);
	sqlite3_close(db);

	struct ledger *l = NULL;
	g_assert_cmpint(ledger_open(path, &l, &err), ==, 0);
	g_assert_cmpint(ledger_schema_version(l), ==, ledger_schema_latest());
	char *after = dump(ledger_db(l), tables);
	g_assert_cmpstr(after, ==, before);
	g_assert_nonnull(strstr(before, "detail=paper-near-end|"));
	g_assert_nonnull(strstr(before, "why=kiosk: accept|"));

	/* The open journey from before the upgrade goes on. */
	struct core_clock *clock = core_clock_new(true, 1798762100);
	struct ledger_notes *notes = ledger_notes_new(l, clock);
	struct cash_note open[2];
	size_t n = 0;
	g_assert_cmpint(cash_journal_list_open(ledger_notes_journal(notes), "essp:001C962C", open, 2, &n, &err), ==,
			0);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpint(open[0].value_fils, ==, 10000);
	/* The money ledger (schema 4): the note credited before it is in suspense, once. */
	int64_t count = 0, total = 0;
	g_assert_cmpint(ledger_suspense_total(l, &count, &total, &err), ==, 0);
	g_assert_cmpint(count, ==, 1);
	g_assert_cmpint(total, ==, 5000);
	g_assert_cmpint(ledger_check(l, &err), ==, 0);
	g_assert_cmpint(cash_journal_advance(ledger_notes_journal(notes), open[0].id, CASH_NOTE_CREDITED, "settle",
					     &err),
			==, 0);
	/* The note credited now, with no transaction open, joins it: invariant 2 holds. */
	g_assert_cmpint(ledger_suspense_total(l, &count, &total, &err), ==, 0);
	g_assert_cmpint(count, ==, 2);
	g_assert_cmpint(total, ==, 15000);
	g_assert_cmpint(ledger_check(l, &err), ==, 0);
	ledger_notes_free(notes);
	core_clock_free(clock);
	ledger_close(l);
	g_free(before);
	g_free(after);
	remove_db(path);
}

struct faults {
	int down, up;
	char why[256];
};

static void on_fault(void *user, bool failing, const char *why)
{
	struct faults *f = user;
	if (failing) {
		f->down++;
		snprintf(f->why, sizeof(f->why), "%s", why);
	} else {
		f->up++;
	}
}

/* Invariant 4 of store.c: a write that fails after the busy timeout makes the store FAILING;
 * nothing is dropped, nothing waits again, and recovery writes what was kept, in order. */
static void test_failing_store_keeps_events(void)
{
	char *path = made_db();
	struct ledger *l = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_open(path, &l, &err), ==, 0);
	struct faults f = {0};
	ledger_set_fault_listener(l, on_fault, &f);
	struct core_clock *clock = core_clock_new(true, 1798761600);
	struct ledger_notes *notes = ledger_notes_new(l, clock);
	struct cash_journal *j = ledger_notes_journal(notes);

	/* A real fault: another connection holds the write lock beyond the busy timeout. */
	sqlite3 *other;
	g_assert_cmpint(sqlite3_open(path, &other), ==, SQLITE_OK);
	exec_ok(other, "BEGIN IMMEDIATE");

	gint64 t0 = g_get_monotonic_time();
	g_assert_cmpint(ledger_device_event_add(l, 10, "cash", "fault", "jam", &err), ==, KIO_ERR_IO);
	g_assert_cmpint((g_get_monotonic_time() - t0) / 1000, >=, 1500);
	g_assert_true(ledger_failing(l));
	g_assert_cmpint(f.down, ==, 1);
	g_assert_nonnull(strstr(f.why, "locked"));

	/* FAILING: no more busy waits; the journal refuses at once with a retryable error. */
	t0 = g_get_monotonic_time();
	struct cash_note note = {.device = "essp:1", .channel = 3, .value_fils = 2000, .state = CASH_NOTE_ESCROW};
	g_assert_cmpint(cash_journal_begin(j, &note, &err), ==, KIO_ERR_IO);
	g_assert_nonnull(strstr(err.msg, "the store is failing"));
	g_assert_cmpint(ledger_device_event_add(l, 11, "cash", "ok", "none", &err), ==, KIO_ERR_IO);
	g_assert_cmpint((g_get_monotonic_time() - t0) / 1000, <, 500);
	g_assert_cmpint(f.down, ==, 1);

	g_assert_cmpint(ledger_recover(l, &err), ==, KIO_ERR_IO);
	g_assert_true(ledger_failing(l));
	exec_ok(other, "ROLLBACK");
	sqlite3_close(other);

	g_assert_cmpint(ledger_recover(l, &err), ==, 0);
	g_assert_false(ledger_failing(l));
	g_assert_cmpint(f.up, ==, 1);
	static const char *const tables[] = {"device_event", NULL};
	char *rows = dump(ledger_db(l), tables);
	g_assert_nonnull(strstr(rows, "at_s=10|device=cash|state=fault|detail=jam|\n"
				      "id=3|at_s=11|device=cash|state=ok|detail=none|\n"));
	g_free(rows);
	g_assert_cmpint(cash_journal_begin(j, &note, &err), ==, 0);

	ledger_notes_free(notes);
	core_clock_free(clock);
	ledger_close(l);
	remove_db(path);
}

/* The note journal's failed write (what the eSSP driver meets at escrow or credit) takes the
 * store out of service too, and the driver's retry then fails fast until it recovers. */
static void test_journal_failure_is_a_store_fault(void)
{
	char *path = made_db();
	struct ledger *l = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_open(path, &l, &err), ==, 0);
	struct faults f = {0};
	ledger_set_fault_listener(l, on_fault, &f);
	struct core_clock *clock = core_clock_new(true, 1798761600);
	struct ledger_notes *notes = ledger_notes_new(l, clock);
	struct cash_journal *j = ledger_notes_journal(notes);
	struct cash_note note = {.device = "essp:1", .channel = 3, .value_fils = 2000, .state = CASH_NOTE_ESCROW};
	g_assert_cmpint(cash_journal_begin(j, &note, &err), ==, 0);

	sqlite3 *other;
	g_assert_cmpint(sqlite3_open(path, &other), ==, SQLITE_OK);
	exec_ok(other, "BEGIN IMMEDIATE");
	g_assert_cmpint(cash_journal_advance(j, note.id, CASH_NOTE_ACCEPTED, "kiosk: accept", &err), ==, KIO_ERR_IO);
	g_assert_true(ledger_failing(l));
	g_assert_cmpint(f.down, ==, 1);
	g_assert_nonnull(strstr(f.why, "note journal"));
	gint64 t0 = g_get_monotonic_time();
	g_assert_cmpint(cash_journal_advance(j, note.id, CASH_NOTE_ACCEPTED, "retry", &err), ==, KIO_ERR_IO);
	g_assert_cmpint((g_get_monotonic_time() - t0) / 1000, <, 500);
	exec_ok(other, "ROLLBACK");
	sqlite3_close(other);

	g_assert_cmpint(ledger_recover(l, &err), ==, 0);
	g_assert_cmpint(f.up, ==, 1);
	g_assert_cmpint(cash_journal_advance(j, note.id, CASH_NOTE_ACCEPTED, "retry", &err), ==, 0);
	ledger_notes_free(notes);
	core_clock_free(clock);
	ledger_close(l);
	remove_db(path);
}

/* Beyond the queue, events are counted and the count itself is recorded. */
static void test_failing_store_counts_overflow(void)
{
	char *path = made_db();
	struct ledger *l = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_open(path, &l, &err), ==, 0);
	ledger_write_failed(l, &(struct kio_error){.code = KIO_ERR_IO, .msg = "test: disk gone"});
	for (int i = 0; i < 300; i++)
		g_assert_cmpint(ledger_device_event_add(l, 100 + i, "receipt", "fault", "paper-out", &err), ==,
				KIO_ERR_IO);
	g_assert_cmpint(ledger_recover(l, &err), ==, 0);
	int64_t n = 0;
	g_assert_cmpint(ledger_device_event_count(l, &n, &err), ==, 0);
	g_assert_cmpint(n, ==, 1 + 256 + 1);
	static const char *const tables[] = {"device_event", NULL};
	char *rows = dump(ledger_db(l), tables);
	g_assert_nonnull(strstr(rows, "device=store|state=lost|detail=44 device events lost while the store failed|"));
	g_free(rows);
	ledger_close(l);
	remove_db(path);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	signal(SIGPIPE, SIG_IGN);
	g_test_add_func("/ledger/migrate", test_fresh_database_is_migrated);
	g_test_add_func("/ledger/newer-schema-unchanged", test_newer_schema_is_refused_unchanged);
	g_test_add_func("/ledger/not-a-database", test_not_a_database);
	g_test_add_func("/ledger/not-a-file", test_not_a_file_is_refused);
	g_test_add_func("/ledger/read-only-file", test_read_only_file_is_refused);
	g_test_add_func("/ledger/read-only-folder", test_read_only_folder_is_refused);
	g_test_add_func("/ledger/damaged-page", test_damaged_page_is_refused);
	g_test_add_func("/ledger/locked-by-another-program", test_locked_by_another_program_is_refused);
	g_test_add_func("/ledger/second-kiosk", test_second_kiosk_is_refused);
	g_test_add_func("/ledger/migration-race", test_migration_rereads_version_under_lock);
	g_test_add_func("/ledger/upgrade-previous-version", test_upgrade_populated_previous_version);
	g_test_add_func("/ledger/failing-keeps-events", test_failing_store_keeps_events);
	g_test_add_func("/ledger/journal-failure", test_journal_failure_is_a_store_fault);
	g_test_add_func("/ledger/failing-counts-overflow", test_failing_store_counts_overflow);
	return g_test_run();
}
