/* Unit tests of ledger_query_text (kiosk/ledger/query.h): the one read-only question a
 * scenario's expect-ledger asks, and every way it refuses to write or to guess. */
#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kiosk/ledger/query.h"

struct fixture {
	char *dir, *db;
};

static void exec_ok(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		g_error("%s: %s", sql, msg);
}

/* A database in WAL mode with a table, as the kiosk's is; the writer stays open during the
 * test, as the kiosk's connection does while a scenario asks. */
static sqlite3 *make_db(struct fixture *f)
{
	f->dir = g_dir_make_tmp("kiosk-query-XXXXXX", NULL);
	f->db = g_build_filename(f->dir, "k.db", NULL);
	sqlite3 *db = NULL;
	g_assert_cmpint(sqlite3_open(f->db, &db), ==, SQLITE_OK);
	exec_ok(db, "PRAGMA journal_mode=WAL;"
		    "CREATE TABLE note (id INTEGER PRIMARY KEY, value_fils INTEGER NOT NULL, state TEXT);"
		    "INSERT INTO note(value_fils, state) VALUES (5000, 'stacked'), (10000, NULL);");
	return db;
}

static void free_fixture(struct fixture *f)
{
	char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
	g_assert_cmpint(system(cmd), ==, 0);
	g_free(cmd);
	g_free(f->db);
	g_free(f->dir);
}

static void expect_value(const char *db, const char *sql, enum ledger_query_kind want_kind, const char *want)
{
	char out[64] = "unset";
	enum ledger_query_kind kind = (enum ledger_query_kind)-1;
	struct kio_error err = {0};
	if (ledger_query_text(db, sql, out, sizeof(out), &kind, &err) != 0)
		g_error("%s: %s", sql, err.msg);
	g_assert_cmpint(kind, ==, want_kind);
	g_assert_cmpstr(out, ==, want);
}

static void expect_refused(const char *db, const char *sql, int want_rc, const char *message)
{
	char out[64];
	enum ledger_query_kind kind;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_query_text(db, sql, out, sizeof(out), &kind, &err), ==, want_rc);
	if (!strstr(err.msg, message))
		g_error("%s: expected \"%s\" in \"%s\"", sql, message, err.msg);
}

static void test_values(void)
{
	struct fixture f;
	sqlite3 *w = make_db(&f);
	expect_value(f.db, "SELECT count(*) FROM note", LEDGER_QUERY_VALUE, "2");
	expect_value(f.db, "SELECT sum(value_fils) FROM note", LEDGER_QUERY_VALUE, "15000");
	expect_value(f.db, "SELECT state FROM note ORDER BY id", LEDGER_QUERY_VALUE, "stacked");
	expect_value(f.db, "SELECT value_fils / 3.0 FROM note WHERE id = 1", LEDGER_QUERY_VALUE, "1666.66666666667");
	expect_value(f.db, "SELECT ''", LEDGER_QUERY_VALUE, "");
	/* NULL, the text 'NULL' and no row: three answers, two spellings the caller tells apart by kind. */
	expect_value(f.db, "SELECT state FROM note WHERE id = 2", LEDGER_QUERY_NULL, "NULL");
	expect_value(f.db, "SELECT 'NULL'", LEDGER_QUERY_VALUE, "NULL");
	expect_value(f.db, "SELECT state FROM note WHERE id = 99", LEDGER_QUERY_NO_ROW, "(no row)");
	/* One statement, with what may follow it. */
	expect_value(f.db, "  SELECT 1;  ", LEDGER_QUERY_VALUE, "1");
	expect_value(f.db, "SELECT 2; -- why\n/* and a note */ ;", LEDGER_QUERY_VALUE, "2");
	expect_value(f.db, "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 10) "
			   "SELECT sum(n) FROM c", LEDGER_QUERY_VALUE, "55");
	expect_value(f.db, "PRAGMA user_version", LEDGER_QUERY_VALUE, "0");
	expect_value(f.db, "SELECT name FROM pragma_table_info('note') WHERE name = 'x'", LEDGER_QUERY_NO_ROW, "(no row)");
	/* The writer sees its own rows after the reads: nothing changed under it. */
	sqlite3_close(w);
	free_fixture(&f);
}

/* The rows are as make_db wrote them. */
static void expect_unchanged(const char *db)
{
	expect_value(db, "SELECT count(*) || '/' || sum(value_fils) FROM note", LEDGER_QUERY_VALUE, "2/15000");
}

static void test_never_writes(void)
{
	struct fixture f;
	sqlite3 *w = make_db(&f);
	expect_refused(f.db, "DELETE FROM note", KIO_ERR_INVALID, "the query would write to the database");
	expect_refused(f.db, "UPDATE note SET value_fils = 0", KIO_ERR_INVALID, "would write");
	expect_refused(f.db, "INSERT INTO note(value_fils) VALUES (1)", KIO_ERR_INVALID, "would write");
	expect_refused(f.db, "DROP TABLE note", KIO_ERR_INVALID, "would write");
	expect_refused(f.db, "CREATE TABLE x(a)", KIO_ERR_INVALID, "would write");
	expect_refused(f.db, "BEGIN IMMEDIATE", KIO_ERR_INVALID, "");
	/* Read-only to sqlite3_stmt_readonly, yet not a question: the authorizer refuses them. */
	char *other = g_build_filename(f.dir, "other.db", NULL);
	char *attach = g_strdup_printf("ATTACH '%s' AS other", other);
	expect_refused(f.db, attach, KIO_ERR_INVALID, "not authorized");
	g_assert_false(g_file_test(other, G_FILE_TEST_EXISTS));
	g_free(attach);
	g_free(other);
	expect_refused(f.db, "PRAGMA user_version = 7", KIO_ERR_INVALID, "");
	expect_value(f.db, "PRAGMA user_version", LEDGER_QUERY_VALUE, "0");
	/* A second statement, which could write, is never run. */
	expect_refused(f.db, "SELECT 1; DELETE FROM note", KIO_ERR_INVALID, "more than one statement");
	expect_refused(f.db, "SELECT 1; SELECT 2", KIO_ERR_INVALID, "more than one statement");
	expect_unchanged(f.db);
	sqlite3_close(w);
	free_fixture(&f);
}

static void test_errors(void)
{
	struct fixture f;
	sqlite3 *w = make_db(&f);
	expect_refused(f.db, "SELEKT 1", KIO_ERR_INVALID, "syntax error");
	expect_refused(f.db, "SELECT a FROM nowhere", KIO_ERR_INVALID, "no such table: nowhere");
	expect_refused(f.db, "", KIO_ERR_INVALID, "no statement");
	expect_refused(f.db, " -- only a comment", KIO_ERR_INVALID, "no statement");
	/* A value that does not fit is an error, never a cut value that might compare equal. */
	char out[8];
	enum ledger_query_kind kind;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_query_text(f.db, "SELECT 'exactly8'", out, sizeof(out), &kind, &err), ==, KIO_ERR_INVALID);
	g_assert_nonnull(strstr(err.msg, "the value is 8 bytes, more than the 7 taken"));
	g_assert_cmpint(ledger_query_text(f.db, "SELECT 'seven77'", out, sizeof(out), &kind, &err), ==, 0);
	g_assert_cmpstr(out, ==, "seven77");
	/* A runaway query ends. */
	expect_refused(f.db, "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT count(*) FROM c",
		       KIO_ERR_IO, "ran more than");
	/* Too long to be a scenario's question. */
	char *huge = g_strnfill(LEDGER_QUERY_MAX_SQL + 1, ' ');
	memcpy(huge, "SELECT 1", 8);
	expect_refused(f.db, huge, KIO_ERR_INVALID, "more than 4096");
	g_free(huge);
	sqlite3_close(w);
	/* No database: said, and none created. */
	char *missing = g_build_filename(f.dir, "missing.db", NULL);
	expect_refused(missing, "SELECT 1", KIO_ERR_NOT_FOUND, "no database there");
	g_assert_false(g_file_test(missing, G_FILE_TEST_EXISTS));
	g_free(missing);
	/* A FIFO named as the database: refused at once, not waited on for a writer by SQLite's
	 * read-only open (alarm: a hang fails the test). */
	char *fifo = g_build_filename(f.dir, "fifo.db", NULL);
	g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
	alarm(10);
	expect_refused(fifo, "SELECT 1", KIO_ERR_IO, "fifo.db: not a regular file");
	alarm(0);
	g_assert_cmpint(g_unlink(fifo), ==, 0);
	g_free(fifo);
	free_fixture(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ledger/query/values", test_values);
	g_test_add_func("/ledger/query/never-writes", test_never_writes);
	g_test_add_func("/ledger/query/errors", test_errors);
	return g_test_run();
}
