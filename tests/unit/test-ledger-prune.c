/* Unit tests of the ledger's retention (kiosk/ledger/prune.c): what a prune takes with nothing,
 * part and all synced, inside and past the retention; verify, export, the sync's reads,
 * ledger_check and new records after it; the triggers refusing a hand-written DELETE; a base
 * changed by hand; `kiosk ledger prune`; and SIGKILL at each of the prune's kill points. */
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/common/ledgerfix.h"
#include "kiosk/ledger/chain.h"
#include "kiosk/ledger/export.h"
#include "kiosk/ledger/notes.h"
#include "kiosk/ledger/prune.h"
#include "kiosk/ledger/store-priv.h"
#include "kiosk/ledger/store.h"
#include "kiosk/ledger/sync-state.h"
#include "kiosk/ledger/tool.h"
#include "kiosk/ledger/tx.h"

#define CARD "7840123456789012"
#define DEV "essp:001C962C"
#define DAY LEDGER_DAY_S
/* Past, so `kiosk ledger prune` (which takes the wall clock) sees these records as old. */
#define T0 ((int64_t)1700000000)
#define RETENTION 90

static int64_t query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		g_error("%s: %s", sql, sqlite3_errmsg(db));
	g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void assert_holds(struct ledger *l)
{
	struct kio_error err = {0};
	if (ledger_check(l, &err) != 0)
		g_error("ledger_check: %s", err.msg);
}

static void credit_note(struct lfix *f, int64_t value_fils)
{
	struct kio_error err = {0};
	struct cash_note note = {.device = DEV, .channel = 4, .value_fils = value_fils, .state = CASH_NOTE_ESCROW,
				 .counters_known = true};
	g_assert_cmpint(cash_journal_begin(f->j, &note, &err), ==, 0);
	g_assert_cmpint(cash_journal_advance(f->j, note.id, CASH_NOTE_CREDITED, "poll: NOTE CREDIT", &err), ==, 0);
	g_assert_cmpint(cash_journal_advance(f->j, note.id, CASH_NOTE_STACKED, "poll: STACKED", &err), ==, 0);
}

/* A completed top-up of two notes, ended at at_s, with its receipt printed; returns its
 * tx_end's rec. */
static int64_t topup(struct lfix *f, int64_t at_s)
{
	struct kio_error err = {0};
	struct ledger_tx tx;
	g_assert_cmpint(ledger_tx_open(f->l, at_s, LEDGER_TX_TOPUP, "ar", CARD, &tx, &err), ==, 0);
	credit_note(f, 5000);
	credit_note(f, 1000);
	g_assert_cmpint(ledger_tx_complete(f->l, tx.id, at_s, NULL, &err), ==, 0);
	g_assert_cmpint(ledger_receipt_printed(f->l, tx.id, at_s, &err), ==, 0);
	return query_int(ledger_db(f->l), "SELECT rec FROM chain_head");
}

static void ack(const char *path, int64_t acked)
{
	struct ledger_sync *ls = NULL;
	struct kio_error err = {0};
	if (ledger_sync_open(path, true, &ls, &err) != 0)
		g_error("ledger_sync_open: %s", err.msg);
	if (ledger_sync_ack(ls, acked, T0, NULL, &err) != 0)
		g_error("ledger_sync_ack: %s", err.msg);
	ledger_sync_close(ls);
}

static struct ledger_prune_result prune(struct lfix *f, int64_t now_s)
{
	struct ledger_prune_result r;
	struct kio_error err = {0};
	if (ledger_prune(f->l, now_s, RETENTION, &r, &err) != 0)
		g_error("ledger_prune: %s", err.msg);
	assert_holds(f->l);
	return r;
}

static struct ledger_verdict verify_ok(const char *path)
{
	struct ledger_verdict v;
	struct kio_error err = {0};
	if (ledger_verify_file(path, &v, &err) != 0)
		g_error("verify: %s", err.msg);
	if (!v.ok)
		g_error("verify: %s", v.why);
	return v;
}

/* The export's lines after `since`, in one string. */
static char *export_text(const char *path, int64_t since)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct kio_error err = {0};
	if (ledger_export_file(path, since, out, &err) != 0)
		g_error("export: %s", err.msg);
	fclose(out);
	return buf;
}

/* Three top-ups 200, 150 and 100 days before `now`, and a stray note to suspense between the
 * first two (at T0 + 125 days: NOW - 175 days). Records: 1-5, 6, 7-11, 12-16. */
static int64_t ends[3], stray;

static void three_old_topups(struct lfix *f, int64_t now)
{
	ends[0] = topup(f, now - 200 * DAY);
	/* The clock of the note journal: the stray note at 175 days before NOW. */
	core_clock_advance_to(f->clock, (uint64_t)(125 * DAY) * 1000);
	credit_note(f, 2000);
	stray = query_int(ledger_db(f->l), "SELECT rec FROM chain_head");
	ends[1] = topup(f, now - 150 * DAY);
	ends[2] = topup(f, now - 100 * DAY);
	assert_holds(f->l);
}

#define NOW (T0 + 300 * DAY)

static void test_nothing_synced(void)
{
	struct lfix f;
	lfix_new(&f, "kiosk-ledger-prune", T0);
	three_old_topups(&f, NOW);
	char *before = export_text(f.path, 0);
	struct ledger_prune_result r = prune(&f, NOW);
	g_assert_cmpint(r.records, ==, 0);
	g_assert_cmpint(r.upto, ==, 0);
	char *after = export_text(f.path, 0);
	g_assert_cmpstr(before, ==, after);
	g_assert_cmpint(verify_ok(f.path).base, ==, 0);
	g_free(before);
	g_free(after);
	lfix_free(&f);
}

static void test_partly_synced(void)
{
	struct lfix f;
	lfix_new(&f, "kiosk-ledger-prune", T0);
	three_old_topups(&f, NOW);
	/* The host holds the first two top-ups and the stray note, and half of the third. */
	ack(f.path, ends[1] + 2);
	char *unsynced = export_text(f.path, ends[1]);
	struct ledger_prune_result r = prune(&f, NOW);
	g_assert_cmpint(r.upto, ==, ends[1]);
	g_assert_cmpint(r.records, ==, ends[1]);
	g_assert_cmpint(r.transactions, ==, 2);
	sqlite3 *db = ledger_db(f.l);
	g_assert_cmpint(query_int(db, "SELECT count(*) FROM tx"), ==, 1);
	g_assert_cmpint(query_int(db, "SELECT min(rec) FROM tx_item"), ==, ends[1] + 2);
	g_assert_cmpint(query_int(db, "SELECT count(*) FROM suspense"), ==, 0);
	g_assert_cmpint(query_int(db, "SELECT count(*) FROM outbox"), ==, 1);
	g_assert_cmpint(query_int(db, "SELECT count(*) FROM outbox WHERE sent_s IS NULL"), ==, 1);
	g_assert_cmpint(query_int(db, "SELECT count(*) FROM receipt"), ==, 1);
	g_assert_cmpint(query_int(db, "SELECT seq FROM chain_base"), ==, 2);
	/* The newest pruned note's journey stays (its id is never handed out again); the third
	 * top-up's notes stay whole. */
	g_assert_cmpint(query_int(db, "SELECT count(*) FROM note_journey"), ==, 3);
	g_assert_cmpint(query_int(db, "SELECT count(*) FROM note_step WHERE note_id IN (SELECT note_id FROM payment)"),
			>, 0);
	/* verify, export, the sync's reads: from the base on, the unsynced records unchanged. */
	struct ledger_verdict v = verify_ok(f.path);
	g_assert_cmpint(v.base, ==, ends[1]);
	g_assert_cmpint(v.records, ==, ends[2] - ends[1]);
	char *now_unsynced = export_text(f.path, ends[1]), *all = export_text(f.path, 0);
	g_assert_cmpstr(now_unsynced, ==, unsynced);
	g_assert_cmpstr(all, ==, unsynced);
	struct ledger_sync *ls = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_sync_open(f.path, true, &ls, &err), ==, 0);
	struct ledger_sync_batch b;
	g_assert_cmpint(ledger_sync_batch_read(ls, ends[1] + 2, 500, &b, &err), ==, 0);
	g_assert_cmpint(b.first_rec, ==, ends[1] + 3);
	g_assert_cmpint(b.last_rec, ==, ends[2]);
	ledger_sync_batch_clear(&b);
	struct ledger_sync_status st;
	g_assert_cmpint(ledger_sync_status_read(ls, &st, &err), ==, 0);
	g_assert_cmpint(st.queue_depth, ==, ends[2] - ends[1] - 2);
	g_assert_cmpint(ledger_sync_ack(ls, ends[2], NOW, NULL, &err), ==, 0);
	g_assert_cmpint(ledger_sync_check(ls, &err), ==, 0);
	ledger_sync_close(ls);
	/* New records go on the chain, numbers go on, and a reopen checks the head. */
	lfix_close(&f);
	lfix_open(&f);
	int64_t fourth = topup(&f, NOW);
	assert_holds(f.l);
	g_assert_cmpint(query_int(ledger_db(f.l), "SELECT max(seq) FROM tx"), ==, 4);
	g_assert_cmpint(verify_ok(f.path).records, ==, fourth - ends[1]);
	g_free(unsynced);
	g_free(now_unsynced);
	g_free(all);
	lfix_free(&f);
}

static void test_synced_inside_retention(void)
{
	struct lfix f;
	lfix_new(&f, "kiosk-ledger-prune", T0);
	three_old_topups(&f, NOW);
	ack(f.path, ends[2]);
	/* 90 days after the first top-up: it is exactly at the cut-off and goes; the rest stay. */
	struct ledger_prune_result r = prune(&f, NOW - 110 * DAY);
	g_assert_cmpint(r.upto, ==, ends[0]);
	/* The stray note's suspense record is a boundary of its own. */
	r = prune(&f, NOW - 61 * DAY);
	g_assert_cmpint(r.upto, ==, stray);
	g_assert_cmpint(r.records, ==, 1);
	/* A second before the second top-up leaves the retention: nothing more. */
	r = prune(&f, NOW - 60 * DAY - 1);
	g_assert_cmpint(r.records, ==, 0);
	g_assert_cmpint(r.upto, ==, stray);
	g_assert_cmpint(query_int(ledger_db(f.l), "SELECT count(*) FROM tx"), ==, 2);
	verify_ok(f.path);
	lfix_free(&f);
}

static void test_all_synced_after_retention(void)
{
	struct lfix f;
	lfix_new(&f, "kiosk-ledger-prune", T0);
	three_old_topups(&f, NOW);
	ack(f.path, ends[2]);
	struct ledger_prune_result r = prune(&f, NOW);
	g_assert_cmpint(r.upto, ==, ends[2]);
	g_assert_cmpint(r.transactions, ==, 3);
	sqlite3 *db = ledger_db(f.l);
	g_assert_cmpint(query_int(db, "SELECT count(*) FROM tx") + query_int(db, "SELECT count(*) FROM payment") +
				query_int(db, "SELECT count(*) FROM outbox") + query_int(db, "SELECT count(*) FROM receipt"),
			==, 0);
	g_assert_cmpint(query_int(db, "SELECT count(*) FROM note_journey"), ==, 1);
	struct ledger_verdict v = verify_ok(f.path);
	g_assert_cmpint(v.records, ==, 0);
	g_assert_cmpint(v.base, ==, ends[2]);
	char *all = export_text(f.path, 0);
	g_assert_cmpstr(all, ==, "");
	g_free(all);
	/* Nothing left but the base: a reopen checks the head against it; a prune again is a
	 * no-op; the next top-up is number 4 and its notes get new ids. */
	lfix_close(&f);
	lfix_open(&f);
	g_assert_cmpint(prune(&f, NOW).records, ==, 0);
	int64_t kept = query_int(ledger_db(f.l), "SELECT id FROM note_journey");
	topup(&f, NOW);
	db = ledger_db(f.l);
	g_assert_cmpint(query_int(db, "SELECT seq FROM tx"), ==, 4);
	g_assert_cmpint(query_int(db, "SELECT min(note_id) FROM payment"), >, kept);
	assert_holds(f.l);
	verify_ok(f.path);
	lfix_free(&f);
}

/* A note journey still open keeps every booking of its note or a later one. */
static void test_open_journey_holds(void)
{
	struct lfix f;
	lfix_new(&f, "kiosk-ledger-prune", T0);
	struct kio_error err = {0};
	ends[0] = topup(&f, NOW - 200 * DAY);
	struct cash_note stuck = {.device = DEV, .channel = 4, .value_fils = 500, .state = CASH_NOTE_ESCROW};
	g_assert_cmpint(cash_journal_begin(f.j, &stuck, &err), ==, 0);
	ends[1] = topup(&f, NOW - 150 * DAY);
	ack(f.path, ends[1]);
	struct ledger_prune_result r = prune(&f, NOW);
	g_assert_cmpint(r.upto, ==, ends[0]);
	g_assert_cmpint(cash_journal_advance(f.j, stuck.id, CASH_NOTE_RETURNED, "returned", &err), ==, 0);
	r = prune(&f, NOW);
	g_assert_cmpint(r.upto, ==, ends[1]);
	verify_ok(f.path);
	lfix_free(&f);
}

/* What no one but a prune may do, by hand-written SQL on the kiosk's own connection. */
static void test_triggers_refuse(void)
{
	struct lfix f;
	lfix_new(&f, "kiosk-ledger-prune", T0);
	three_old_topups(&f, NOW);
	ack(f.path, ends[1]);
	sqlite3 *db = ledger_db(f.l);
	static const char *const deletes[] = {
		"DELETE FROM tx WHERE rec = 1",          "DELETE FROM tx_item WHERE rec = 2",
		"DELETE FROM payment WHERE rec = 3",     "DELETE FROM tx_end WHERE rec = 5",
		"DELETE FROM suspense",                  "DELETE FROM outbox",
		"DELETE FROM receipt",                   "DELETE FROM chain_base",
		"UPDATE chain_base SET rec = 5",
	};
	for (size_t k = 0; k < G_N_ELEMENTS(deletes); k++) {
		char *msg = lfix_exec_fails(db, deletes[k]);
		g_assert_nonnull(strstr(msg, "ledger: "));
		g_free(msg);
	}
	char *msg;
	/* Permits the trigger refuses: beyond the acknowledgement, inside the retention, in the
	 * middle of a transaction, at the base. */
	int64_t cutoff = NOW - RETENTION * DAY;
	char *sql[] = {
		g_strdup_printf("INSERT INTO prune_permit VALUES (1, %lld, %lld)", (long long)ends[2], (long long)cutoff),
		g_strdup_printf("INSERT INTO prune_permit VALUES (1, %lld, %lld)", (long long)ends[1],
				(long long)(NOW - 160 * DAY)),
		g_strdup_printf("INSERT INTO prune_permit VALUES (1, %lld, %lld)", (long long)ends[1] - 1, (long long)cutoff),
		g_strdup_printf("INSERT INTO prune_permit VALUES (1, 0, %lld)", (long long)cutoff),
	};
	for (size_t k = 0; k < G_N_ELEMENTS(sql); k++) {
		msg = lfix_exec_fails(db, sql[k]);
		g_assert_nonnull(strstr(msg, "whole transactions the host acknowledged"));
		g_free(msg);
		g_free(sql[k]);
	}
	/* A prune by hand that leaves records behind cannot clear its permit, so it cannot
	 * commit without one (and ledger_check reports a committed permit). */
	lfix_exec_ok(db, "BEGIN");
	char *permit = g_strdup_printf("INSERT INTO prune_permit VALUES (1, %lld, %lld)", (long long)ends[0],
				       (long long)cutoff);
	lfix_exec_ok(db, permit);
	g_free(permit);
	/* Rows beyond the permit: */
	msg = lfix_exec_fails(db, "DELETE FROM payment WHERE rec = 9");
	g_assert_nonnull(strstr(msg, "only a prune removes it"));
	g_free(msg);
	msg = lfix_exec_fails(db, "DELETE FROM prune_permit");
	g_assert_nonnull(strstr(msg, "every record up to its end"));
	g_free(msg);
	lfix_exec_ok(db, "ROLLBACK");
	g_assert_cmpint(query_int(db, "SELECT count(*) FROM prune_permit"), ==, 0);
	assert_holds(f.l);
	lfix_free(&f);
}

/* A base changed by hand (triggers dropped: what they cannot stop) fails verify and start. */
static void test_base_tamper(void)
{
	struct lfix f;
	lfix_new(&f, "kiosk-ledger-prune", T0);
	three_old_topups(&f, NOW);
	ack(f.path, ends[2]);
	prune(&f, NOW - 100 * DAY + RETENTION * DAY - DAY); /* takes the first two */
	lfix_close(&f);
	sqlite3 *db = NULL;
	g_assert_cmpint(sqlite3_open(f.path, &db), ==, SQLITE_OK);
	lfix_exec_ok(db, "DROP TRIGGER chain_base_moves_in_prune; UPDATE chain_base SET seq = seq + 1");
	sqlite3_close(db);
	struct ledger_verdict v;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_verify_file(f.path, &v, &err), ==, 0);
	g_assert_false(v.ok);
	g_assert_nonnull(strstr(v.why, "chain base"));
	struct ledger *l = NULL;
	g_assert_cmpint(ledger_open(f.path, &l, &err), ==, KIO_ERR_CORRUPT);
	g_assert_nonnull(strstr(err.msg, "chain base"));
	lfix_remove_db(f.path);
}

static void test_daily(void)
{
	struct lfix f;
	lfix_new(&f, "kiosk-ledger-prune", T0);
	three_old_topups(&f, NOW);
	ack(f.path, ends[2]);
	int64_t last = 0;
	g_assert_true(ledger_prune_daily(f.l, NOW - 80 * DAY, RETENTION, &last)); /* the first call runs */
	g_assert_cmpint(query_int(ledger_db(f.l), "SELECT rec FROM chain_base"), ==, stray);
	g_assert_false(ledger_prune_daily(f.l, NOW - 80 * DAY + DAY - 1, RETENTION, &last));
	g_assert_cmpint(query_int(ledger_db(f.l), "SELECT rec FROM chain_base"), ==, stray);
	g_assert_true(ledger_prune_daily(f.l, NOW - 50 * DAY, RETENTION, &last));
	g_assert_cmpint(query_int(ledger_db(f.l), "SELECT rec FROM chain_base"), ==, ends[1]);
	lfix_free(&f);
}

static void test_tool(void)
{
	struct lfix f;
	lfix_new(&f, "kiosk-ledger-prune", T0);
	/* Records in the past of the wall clock `kiosk ledger prune` reads. */
	int64_t wall = (int64_t)time(NULL);
	three_old_topups(&f, wall);
	ack(f.path, ends[2]);
	lfix_close(&f);
	char *dir = g_path_get_dirname(f.path);
	char *cfg = g_build_filename(dir, "kiosk.ini", NULL);
	g_assert_true(g_file_set_contents(cfg, "[host]\nretention_days = 120\n", -1, NULL));
	char *argv[] = {"ledger", "prune", "--db", f.path, "--config", cfg, NULL};
	/* Its report on stdout, read back (and kept out of the TAP stream). */
	char *report = g_build_filename(dir, "out.txt", NULL);
	fflush(stdout);
	int saved = dup(1), fd = open(report, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(dup2(fd, 1), ==, 1);
	close(fd);
	int rc = ledger_tool_main(6, argv);
	fflush(stdout);
	g_assert_cmpint(dup2(saved, 1), ==, 1);
	close(saved);
	g_assert_cmpint(rc, ==, 0);
	char *text = NULL;
	g_assert_true(g_file_get_contents(report, &text, NULL, NULL));
	g_assert_nonnull(strstr(text, ": pruned 11 records (2 transactions); the chain now starts after record 11\n"));
	g_free(text);
	g_free(report);
	g_assert_cmpint(verify_ok(f.path).base, ==, ends[1]);
	char *no_cfg[] = {"ledger", "prune", "--db", f.path, NULL};
	g_assert_cmpint(ledger_tool_main(4, no_cfg), ==, 2);
	char *verify_cfg[] = {"ledger", "verify", "--db", f.path, "--config", cfg, NULL};
	g_assert_cmpint(ledger_tool_main(6, verify_cfg), ==, 2);
	g_free(cfg);
	g_free(dir);
	lfix_remove_db(f.path);
}

/* ---- SIGKILL at each kill point of the prune ---- */

struct killer {
	const char *at; /* kill here */
	bool seen;
};

static void on_point(void *user, const char *point)
{
	struct killer *k = user;
	if (strcmp(point, k->at) == 0) {
		k->seen = true;
		raise(SIGKILL);
	}
}

static void test_sigkill_at_each_point(void)
{
	static const char *const points[] = {"prune-base-written", "prune-written", "pruned"};
	for (size_t p = 0; p < G_N_ELEMENTS(points); p++) {
		struct lfix f;
		lfix_new(&f, "kiosk-ledger-prune", T0);
		three_old_topups(&f, NOW);
		ack(f.path, ends[1] + 2);
		char *unsynced = export_text(f.path, ends[1] + 2);
		lfix_close(&f);
		pid_t pid = fork();
		g_assert_cmpint(pid, >=, 0);
		if (pid == 0) {
			struct ledger *l = NULL;
			struct kio_error err = {0};
			if (ledger_open(f.path, &l, &err) != 0)
				_exit(91);
			struct killer k = {.at = points[p]};
			ledger_set_checkpoint(l, on_point, &k);
			ledger_prune(l, NOW, RETENTION, NULL, &err);
			_exit(92); /* the point was not reached */
		}
		int status = 0;
		g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
			g_error("%s: the child did not die by SIGKILL (status %d)", points[p], status);
		/* Restarted: the ledger opens, holds and verifies; nothing unsynced is lost; the
		 * prune happened whole or not at all. */
		lfix_open(&f);
		assert_holds(f.l);
		struct ledger_verdict v = verify_ok(f.path);
		bool committed = strcmp(points[p], "pruned") == 0;
		g_assert_cmpint(v.base, ==, committed ? ends[1] : 0);
		g_assert_cmpint(query_int(ledger_db(f.l), "SELECT count(*) FROM tx"), ==, committed ? 1 : 3);
		char *after = export_text(f.path, ends[1] + 2);
		g_assert_cmpstr(after, ==, unsynced);
		g_assert_cmpint(query_int(ledger_db(f.l), "SELECT count(*) FROM prune_permit"), ==, 0);
		/* And the prune runs to its end on the next try. */
		g_assert_cmpint(prune(&f, NOW).upto, ==, ends[1]);
		g_test_message("SIGKILL at %s: ledger holds, %lld unsynced records kept", points[p],
			       (long long)(ends[2] - ends[1] - 2));
		g_free(unsynced);
		g_free(after);
		lfix_free(&f);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ledger/prune/nothing-synced", test_nothing_synced);
	g_test_add_func("/ledger/prune/partly-synced", test_partly_synced);
	g_test_add_func("/ledger/prune/synced-inside-retention", test_synced_inside_retention);
	g_test_add_func("/ledger/prune/all-synced-after-retention", test_all_synced_after_retention);
	g_test_add_func("/ledger/prune/open-journey-holds", test_open_journey_holds);
	g_test_add_func("/ledger/prune/triggers-refuse", test_triggers_refuse);
	g_test_add_func("/ledger/prune/base-tamper", test_base_tamper);
	g_test_add_func("/ledger/prune/daily", test_daily);
	g_test_add_func("/ledger/prune/tool", test_tool);
	g_test_add_func("/ledger/prune/sigkill-at-each-point", test_sigkill_at_each_point);
	return g_test_run();
}
