/* Fixtures of the host tests (hostfix.h). */
#include "hostfix.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/db.h"
#include "kiosk/ledger/export.h"
#include "kiosk/ledger/tx.h"

static char *script(void)
{
	const char *src = g_getenv("KIOSK_SOURCE_DIR");
	g_assert_nonnull(src);
	return g_build_filename(src, "scripts", "pg-throwaway.sh", NULL);
}

/* The cluster's keeper: a child that waits for this process to end, however it ends (an
 * assertion aborts it), then stops the cluster and removes the folder, so a failed test leaves
 * no postgres running. hostfix_cluster_stop closes the pipe and waits for it. */
static int keeper_fd = -1;
static pid_t keeper_pid = -1;

static void stop_and_remove(const char *dir)
{
	char *sh = script();
	char *argv[] = {"bash", sh, "stop", (char *)dir, NULL};
	int status = 0;
	g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status,
		     NULL);
	char *cmd = g_strdup_printf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		g_printerr("could not remove %s\n", dir);
	g_free(cmd);
	g_free(sh);
}

static void start_keeper(const char *dir)
{
	int fds[2];
	g_assert_cmpint(pipe2(fds, O_CLOEXEC), ==, 0);
	keeper_pid = fork();
	g_assert_cmpint(keeper_pid, >=, 0);
	if (keeper_pid == 0) {
		close(fds[1]);
		/* Out of the test's process group: a timeout's kill of the group must not take the
		 * keeper along before it cleaned up. */
		setpgid(0, 0);
		char c;
		while (read(fds[0], &c, 1) != 0 && errno == EINTR)
			;
		stop_and_remove(dir);
		_exit(0);
	}
	close(fds[0]);
	keeper_fd = fds[1];
}

int hostfix_cluster_start(char **dir, char **conninfo)
{
	/* In the temporary folder (TMPDIR): pg-throwaway.sh refuses, naming it, one whose socket
	 * path would pass 107 bytes, or that the postgres user cannot reach when root. */
	*dir = g_build_filename(g_get_tmp_dir(), "kiosk-hostd-XXXXXX", NULL);
	g_assert_nonnull(g_mkdtemp(*dir));
	start_keeper(*dir);
	char *sh = script();
	char *argv[] = {"bash", sh, "start", *dir, NULL};
	char *out = NULL, *errout = NULL;
	int status = 0;
	GError *gerr = NULL;
	if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &errout, &status, &gerr))
		g_error("pg-throwaway.sh: %s", gerr->message);
	g_free(sh);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
		g_printerr("skip: %s", errout);
		g_free(out);
		g_free(errout);
		hostfix_cluster_stop(*dir);
		*dir = NULL;
		return 77;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		g_error("pg-throwaway.sh start failed: %s", errout);
	g_strchomp(out);
	*conninfo = out;
	g_free(errout);
	PGconn *c = hostfix_connect(*conninfo);
	struct kio_error err;
	if (hdb_migrate(c, NULL, &err) != 0)
		g_error("migrate: %s", err.msg);
	PQfinish(c);
	return 0;
}

void hostfix_cluster_stop(char *dir)
{
	if (!dir)
		return;
	if (keeper_pid > 0) {
		close(keeper_fd);
		int status;
		while (waitpid(keeper_pid, &status, 0) < 0 && errno == EINTR)
			;
		keeper_pid = -1;
	} else {
		stop_and_remove(dir);
	}
	g_free(dir);
}

PGconn *hostfix_connect(const char *conninfo)
{
	PGconn *c;
	struct kio_error err;
	if (hdb_connect(conninfo, &c, &err) != 0)
		g_error("%s", err.msg);
	return c;
}

int64_t hostfix_int(PGconn *c, const char *sql)
{
	PGresult *r;
	struct kio_error err;
	if (hdb_query(c, sql, 0, NULL, &r, NULL, sql, &err) != 0)
		g_error("%s", err.msg);
	if (PQntuples(r) != 1)
		g_error("%s: %d rows", sql, PQntuples(r));
	int64_t v = hdb_int(r, 0, 0);
	PQclear(r);
	return v;
}

void hostfix_exec(PGconn *c, const char *sql)
{
	struct kio_error err;
	if (hdb_exec(c, sql, sql, &err) != 0)
		g_error("%s", err.msg);
}

char *hostfix_snapshot(PGconn *c)
{
	static const char *const tables[] = {"record",	    "card",	    "card_credit",	"kiosk_sync",
					     "voucher",	    "voucher_redemption", "kiosk_cert",	"fee_payment",
					     "fee_payment_line", "fee_account",	"fee_item",		"fee_owed"};
	GString *s = g_string_new(NULL);
	for (size_t t = 0; t < G_N_ELEMENTS(tables); t++) {
		char *sql = g_strdup_printf("SELECT coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '') FROM %s x",
					    tables[t]);
		PGresult *r;
		struct kio_error err;
		if (hdb_query(c, sql, 0, NULL, &r, NULL, sql, &err) != 0)
			g_error("%s", err.msg);
		g_string_append_printf(s, "-- %s\n%s\n", tables[t], PQgetvalue(r, 0, 0));
		PQclear(r);
		g_free(sql);
	}
	return g_string_free(s, FALSE);
}

void hostfix_assert_balances(PGconn *c)
{
	g_assert_cmpint(hostfix_int(c,
				    "SELECT count(*) FROM card c WHERE balance_fils != opening_fils +"
				    " coalesce((SELECT sum(amount_fils) FROM card_credit cc WHERE cc.card = c.card), 0)"),
			==, 0);
}

void kfix_open(struct kfix *k, const char *dir)
{
	memset(k, 0, sizeof(*k));
	k->path = g_build_filename(dir, "ledger", NULL);
	struct kio_error err;
	if (ledger_open(k->path, &k->ledger, &err) != 0)
		g_error("ledger_open: %s", err.msg);
	k->clock = core_clock_new(true, 1798761600);
	k->notes = ledger_notes_new(k->ledger, k->clock);
	k->next_note = 1;
}

void kfix_close(struct kfix *k)
{
	ledger_notes_free(k->notes);
	core_clock_free(k->clock);
	ledger_close(k->ledger);
	g_free(k->path);
	memset(k, 0, sizeof(*k));
}

int64_t kfix_topup(struct kfix *k, const char *card, const int64_t *notes)
{
	struct kio_error err = {0};
	struct ledger_tx tx;
	if (ledger_tx_open(k->ledger, 1798761600, LEDGER_TX_TOPUP, "en", card, &tx, &err) != 0)
		g_error("ledger_tx_open: %s", err.msg);
	struct cash_journal *j = ledger_notes_journal(k->notes);
	for (const int64_t *v = notes; *v; v++) {
		struct cash_note note = {.device = "essp:0001", .channel = 4, .value_fils = *v, .state = CASH_NOTE_ESCROW,
					 .counters_known = true};
		g_assert_cmpint(cash_journal_begin(j, &note, &err), ==, 0);
		g_assert_cmpint(cash_journal_advance(j, note.id, CASH_NOTE_ACCEPTED, "accept", &err), ==, 0);
		g_assert_cmpint(cash_journal_advance(j, note.id, CASH_NOTE_CREDITED, "credit", &err), ==, 0);
		g_assert_cmpint(cash_journal_advance(j, note.id, CASH_NOTE_STACKED, "stacked", &err), ==, 0);
	}
	if (ledger_tx_complete(k->ledger, tx.id, 1798761660, NULL, &err) != 0)
		g_error("ledger_tx_complete: %s", err.msg);
	return tx.id;
}

GPtrArray *kfix_export(struct kfix *k, int64_t since)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct kio_error err;
	if (ledger_export_file(k->path, since, f, &err) != 0)
		g_error("export: %s", err.msg);
	fclose(f);
	GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
	char **parts = g_strsplit(buf, "\n", -1);
	for (char **p = parts; *p; p++)
		if (**p)
			g_ptr_array_add(lines, g_strdup(*p));
	g_strfreev(parts);
	free(buf);
	return lines;
}

char *kfix_batch(GPtrArray *lines, guint from, guint to)
{
	GString *s = g_string_new("{\"records\":[");
	for (guint k = from; k < to && k < lines->len; k++)
		g_string_append_printf(s, "%s%s", k > from ? "," : "", (const char *)lines->pdata[k]);
	g_string_append(s, "]}");
	return g_string_free(s, FALSE);
}
