/* The ledger tests' temporary ledger (ledgerfix.h). */
#include "ledgerfix.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

char *lfix_temp_db(const char *prefix)
{
	char *tmpl = g_strdup_printf("%s-XXXXXX", prefix);
	char *dir = g_dir_make_tmp(tmpl, NULL);
	g_assert_nonnull(dir);
	char *path = g_build_filename(dir, "k.db", NULL);
	g_free(tmpl);
	g_free(dir);
	return path;
}

void lfix_remove_db(char *path)
{
	char *dir = g_path_get_dirname(path);
	char *cmd = g_strdup_printf("rm -rf '%s'", dir);
	g_assert_cmpint(system(cmd), ==, 0);
	g_free(cmd);
	g_free(dir);
	g_free(path);
}

void lfix_exec_ok(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		g_error("%s: %s", sql, msg ? msg : "?");
}

char *lfix_exec_fails(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		g_error("%s: succeeded, should fail", sql);
	char *out = g_strdup(msg ? msg : "");
	sqlite3_free(msg);
	return out;
}

void lfix_open(struct lfix *f)
{
	struct kio_error err = {0};
	if (ledger_open(f->path, &f->l, &err) != 0)
		g_error("ledger_open: %s", err.msg);
	f->clock = core_clock_new(true, f->epoch_s);
	f->notes = ledger_notes_new(f->l, f->clock);
	f->j = ledger_notes_journal(f->notes);
}

void lfix_close(struct lfix *f)
{
	ledger_notes_free(f->notes);
	core_clock_free(f->clock);
	ledger_close(f->l);
	f->l = NULL;
}

void lfix_new(struct lfix *f, const char *prefix, int64_t epoch_s)
{
	memset(f, 0, sizeof(*f));
	f->path = lfix_temp_db(prefix);
	f->epoch_s = epoch_s;
	lfix_open(f);
}

void lfix_free(struct lfix *f)
{
	lfix_close(f);
	lfix_remove_db(f->path);
}
