/* The ledger tests' temporary ledger (ledgerfix.h). */
#include "ledgerfix.h"

#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

int64_t lfix_credit_note(struct lfix *f, const char *device, int64_t value_fils)
{
	struct kio_error err = {0};
	struct cash_note note = {.channel = 4, .value_fils = value_fils, .state = CASH_NOTE_ESCROW,
				 .counters_known = true};
	snprintf(note.device, sizeof(note.device), "%s", device);
	if (cash_journal_begin(f->j, &note, &err) != 0 ||
	    cash_journal_advance(f->j, note.id, CASH_NOTE_ACCEPTED, "kiosk: accept", &err) != 0 ||
	    cash_journal_advance(f->j, note.id, CASH_NOTE_CREDITED, "poll: NOTE CREDIT", &err) != 0 ||
	    cash_journal_advance(f->j, note.id, CASH_NOTE_STACKED, "poll: STACKED", &err) != 0)
		g_error("a note of %" G_GINT64_FORMAT " fils into the cashbox: %s", value_fils, err.msg);
	return note.id;
}

struct ledger_fee_line lfix_fee_line(const char *entity, const char *service, const char *reference,
				     const char *bill, int64_t amount_fils)
{
	struct ledger_fee_line l = {.amount_fils = amount_fils};
	snprintf(l.entity, sizeof(l.entity), "%s", entity);
	snprintf(l.service, sizeof(l.service), "%s", service);
	snprintf(l.reference, sizeof(l.reference), "%s", reference);
	snprintf(l.bill, sizeof(l.bill), "%s", bill ? bill : "");
	return l;
}

void lfix_on_point(void *user, const char *point)
{
	struct lfix_killer *k = user;
	k->hits++;
	if (k->report_fd >= 0) {
		char text[64];
		int len = snprintf(text, sizeof(text), "%s\n", point);
		if (write(k->report_fd, text, (size_t)len) != len)
			_exit(95);
	}
	if (k->hits == k->target)
		raise(SIGKILL);
}

int lfix_run_child(const char *path, int target, int report_fd, lfix_child_steps steps)
{
	pid_t pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		struct lfix_killer k = {.target = target, .report_fd = report_fd};
		steps(path, &k);
		_exit(0);
	}
	int status = 0;
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	return status;
}

char **lfix_census(const char *path, lfix_child_steps steps)
{
	int fds[2];
	g_assert_cmpint(pipe(fds), ==, 0);
	int status = lfix_run_child(path, 0, fds[1], steps);
	close(fds[1]);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	GString *names = g_string_new(NULL);
	char buf[512];
	ssize_t r;
	while ((r = read(fds[0], buf, sizeof(buf))) > 0)
		g_string_append_len(names, buf, r);
	close(fds[0]);
	/* "a\nb\n": the last line's end leaves an empty tail, dropped. */
	if (names->len && names->str[names->len - 1] == '\n')
		g_string_truncate(names, names->len - 1);
	char **points = names->len ? g_strsplit(names->str, "\n", -1) : g_new0(char *, 1);
	g_string_free(names, TRUE);
	return points;
}

void lfix_exec_refused(sqlite3 *db, const char *sql, const char *want)
{
	char *msg = lfix_exec_fails(db, sql);
	if (!strstr(msg, want))
		g_error("%s: refused with \"%s\", not \"%s\"", sql, msg, want);
	g_free(msg);
}
