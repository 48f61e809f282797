/* Unit tests of kiosk/txreceipt.c beyond the printer: which job ids name a transaction's
 * receipt, and that a printed one is recorded in the ledger so recovery does not print it. */
#include <glib.h>
#include <stdlib.h>

#include "kiosk/core/clock.h"
#include "kiosk/ledger/notes.h"
#include "kiosk/ledger/store.h"
#include "kiosk/ledger/tx.h"
#include "kiosk/txreceipt.h"

static void test_job_seq(void)
{
	int64_t seq = 0;
	g_assert_true(txreceipt_job_seq("TXN-000042", &seq));
	g_assert_cmpint(seq, ==, 42);
	g_assert_true(txreceipt_job_seq("TXN-000042-R2", &seq));
	g_assert_cmpint(seq, ==, 42);
	g_assert_true(txreceipt_job_seq("TXN-1234567", &seq));
	g_assert_cmpint(seq, ==, 1234567);
	seq = 7;
	/* A test print, a short number, a zero, junk after it, an overflow: none is a receipt's. */
	static const char *const not_ours[] = {"TEST-0001", "TXN-42", "TXN-000000", "TXN-000042x", "TXN-000042-",
					       "TXN-000042-R", "TXN-000042-R0", "txn-000042", "TXN-99999999999999999999",
					       "", "TXN-"};
	for (size_t i = 0; i < G_N_ELEMENTS(not_ours); i++)
		g_assert_false(txreceipt_job_seq(not_ours[i], &seq));
	g_assert_cmpint(seq, ==, 7);
}

static void test_printed_recorded(void)
{
	char *dir = g_dir_make_tmp("kiosk-txreceipt-XXXXXX", NULL);
	char *path = g_build_filename(dir, "k.db", NULL);
	struct kio_error err = {0};
	struct ledger *l = NULL;
	g_assert_cmpint(ledger_open(path, &l, &err), ==, 0);
	struct core_clock *clock = core_clock_new(true, 1798761600);
	struct ledger_notes *notes = ledger_notes_new(l, clock);
	struct cash_journal *j = ledger_notes_journal(notes);
	struct ledger_tx tx;
	g_assert_cmpint(ledger_tx_open(l, 1798761600, LEDGER_TX_TOPUP, "en", "7840123456789012", &tx, &err), ==, 0);
	struct cash_note n = {.device = "essp:001C962C", .channel = 5, .value_fils = 10000,
			      .state = CASH_NOTE_CREDITED};
	g_assert_cmpint(cash_journal_begin(j, &n, &err), ==, 0);
	struct ledger_tx *list = NULL;
	size_t count = 0;
	g_assert_cmpint(ledger_tx_recover(l, 1798761700, &list, &count, &err), ==, 0);
	free(list);
	int64_t *due = NULL;
	g_assert_cmpint(ledger_receipts_due(l, &due, &count, &err), ==, 0);
	g_assert_cmpuint(count, ==, 1);
	free(due);

	int64_t id = 0;
	/* A failed job (paper out mid-job) of a transaction is recorded as not printed: still due. */
	g_assert_cmpint(txreceipt_failed(l, "TEST-0001", 1798761790, &id, &err), ==, KIO_ERR_NOT_FOUND);
	g_assert_cmpint(txreceipt_failed(l, "TXN-000001", 1798761790, &id, &err), ==, 0);
	g_assert_cmpint(id, ==, tx.id);
	struct ledger_receipt rec;
	g_assert_cmpint(ledger_receipt_get(l, tx.id, &rec, &err), ==, 0);
	g_assert_cmpint(rec.failed_s, ==, 1798761790);
	g_assert_cmpint(rec.printed_s, ==, 0);
	g_assert_cmpint(ledger_receipts_due(l, &due, &count, &err), ==, 0);
	g_assert_cmpuint(count, ==, 1);
	free(due);
	g_assert_cmpint(txreceipt_printed(l, "TEST-0001", 1798761800, &id, &err), ==, KIO_ERR_NOT_FOUND);
	g_assert_cmpint(txreceipt_printed(l, "TXN-000002", 1798761800, &id, &err), ==, KIO_ERR_NOT_FOUND);
	g_assert_cmpint(txreceipt_printed(l, "TXN-000001-R3", 1798761800, &id, &err), ==, 0);
	g_assert_cmpint(id, ==, tx.id);
	g_assert_cmpint(ledger_receipts_due(l, &due, &count, &err), ==, 0);
	g_assert_cmpuint(count, ==, 0);
	g_assert_cmpint(ledger_check(l, &err), ==, 0);

	ledger_notes_free(notes);
	core_clock_free(clock);
	ledger_close(l);
	char *cmd = g_strdup_printf("rm -rf '%s'", dir);
	g_assert_cmpint(system(cmd), ==, 0);
	g_free(cmd);
	g_free(path);
	g_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/txreceipt/job-seq", test_job_seq);
	g_test_add_func("/txreceipt/printed-recorded", test_printed_recorded);
	return g_test_run();
}
