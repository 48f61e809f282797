/* Unit tests of the store: migrations, version checks, device events. */
#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "kiosk/ledger/store.h"

static char *temp_db(void)
{
	char *dir = g_dir_make_tmp("kiosk-ledger-XXXXXX", NULL);
	char *path = g_build_filename(dir, "k.db", NULL);
	g_free(dir);
	return path;
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
	g_free(path);
}

static void test_newer_schema_is_refused(void)
{
	char *path = temp_db();
	sqlite3 *db;
	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	char *sql = g_strdup_printf("PRAGMA user_version = %d", ledger_schema_latest() + 1);
	g_assert_cmpint(sqlite3_exec(db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
	g_free(sql);
	sqlite3_close(db);
	struct ledger *l = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_open(path, &l, &err), ==, KIO_ERR_CORRUPT);
	g_assert_null(l);
	g_assert_nonnull(strstr(err.msg, "newer than this kiosk knows"));
	g_free(path);
}

static void test_not_a_database(void)
{
	char *path = temp_db();
	g_file_set_contents(path, "this is not an sqlite database, just text that is long enough", -1, NULL);
	struct ledger *l = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_open(path, &l, &err), !=, 0);
	g_assert_null(l);
	g_assert_nonnull(strstr(err.msg, "database"));
	g_free(path);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ledger/migrate", test_fresh_database_is_migrated);
	g_test_add_func("/ledger/newer-schema", test_newer_schema_is_refused);
	g_test_add_func("/ledger/not-a-database", test_not_a_database);
	return g_test_run();
}
