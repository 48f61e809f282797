/* The basket harnesses' run and its check after a restart (settled.h). */
#include "settled.h"

#include <glib.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <sys/wait.h>

#include "kiosk/ledger/chain.h"

/* The cashbox as the settled journal has it: value, count and count by value. */
static struct crash_device cashbox_of(const char *path, GString *by_value)
{
	sqlite3 *db = NULL;
	g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
	struct crash_device dev = {.max_fils = INT64_MAX};
	sqlite3_stmt *st = NULL;
	g_assert_cmpint(sqlite3_prepare_v2(db,
					   "SELECT value_fils, count(*) FROM note_journey WHERE state IN ('credited', 'stacked')"
					   " GROUP BY value_fils",
					   -1, &st, NULL),
			==, SQLITE_OK);
	g_string_assign(by_value, "{");
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t value = sqlite3_column_int64(st, 0), count = sqlite3_column_int64(st, 1);
		g_string_append_printf(by_value, "%s\"%" G_GINT64_FORMAT "\":%" G_GINT64_FORMAT, by_value->len > 1 ? "," : "",
				       value, count);
		dev.cashbox_fils += value * count;
		dev.stacked += count;
	}
	g_string_append(by_value, "}");
	sqlite3_finalize(st);
	sqlite3_close(db);
	dev.by_value = by_value->str;
	return dev;
}

void crash_check_settled(const char *path, const char *point)
{
	GString *by_value = g_string_new(NULL);
	struct crash_device dev = cashbox_of(path, by_value);
	char why[512];
	if (crash_invariants_check(path, &dev, why, sizeof(why)))
		g_error("after %s: %s", point, why);
	g_string_free(by_value, TRUE);
	struct ledger_verdict v;
	struct kio_error err = {0};
	if (ledger_verify_file(path, &v, &err) != 0 || !v.ok)
		g_error("after %s: chain: %s", point, err.msg[0] ? err.msg : v.why);
}

static char *fresh_db(const struct crash_day *d)
{
	char *path = lfix_temp_db(d->prefix);
	if (d->seed)
		d->seed(path);
	return path;
}

static void restart_and_check(const struct crash_day *d, const char *path, const char *point)
{
	d->restart(path, point);
	crash_check_settled(path, point);
}

unsigned crash_every_point(const struct crash_day *d)
{
	/* The census: a whole day names every point it passes, in order. */
	char *path = fresh_db(d);
	char **points = lfix_census(path, d->day);
	restart_and_check(d, path, "the day's end");
	lfix_remove_db(path);
	unsigned n_points = g_strv_length(points);
	for (size_t k = 0; k < d->n_required; k++)
		if (!g_strv_contains((const char *const *)points, d->required[k]))
			g_error("the day never reaches %s", d->required[k]);
	for (unsigned i = 1; i <= n_points; i++) {
		path = fresh_db(d);
		int status = lfix_run_child(path, (int)i, -1, d->day);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
			g_error("kill %u (%s): the child did not die by SIGKILL (status %d)", i, points[i - 1], status);
		restart_and_check(d, path, points[i - 1]);
		lfix_remove_db(path);
	}
	g_strfreev(points);
	return n_points;
}
