/* Unit tests of a fees transaction's money (kiosk/ledger/basket.c): every way a basket ends,
 * voucher payments, start-up recovery in each of its cases, the triggers that refuse an
 * unbalanced end from raw SQL, the chain, export, prune and the migration from a v9 ledger
 * holding top-ups, and SIGKILL at every kill point of a basket journey. */
#include <fcntl.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kiosk/core/vcode.h"
#include "kiosk/ledger/basket.h"
#include "kiosk/ledger/chain.h"
#include "kiosk/ledger/export.h"
#include "kiosk/ledger/notes.h"
#include "kiosk/ledger/prune.h"
#include "kiosk/ledger/recmac.h"
#include "kiosk/ledger/store-priv.h"
#include "kiosk/ledger/sync-state.h"
#include "kiosk/ledger/tx.h"
#include "tests/common/ledgerfix.h"

#define CARD "7840123456789012"
#define NOW 1798761600
#define DAY 86400
#define DEV "essp:001C962C"
#define RID1 "0b6c3f44-9f1e-4c55-8a1e-2f0d4d3b9a01"
#define RID2 "0b6c3f44-9f1e-4c55-8a1e-2f0d4d3b9a02"

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

static char *query_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		g_error("%s: %s", sql, sqlite3_errmsg(db));
	g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
	char *v = g_strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

static void assert_holds(struct ledger *l)
{
	struct kio_error err = {0};
	if (ledger_check(l, &err) != 0)
		g_error("ledger_check: %s", err.msg);
}

/* A valid voucher code (the Damm digit computed, so the test does not hard-code one). */
static void voucher_code(const char *first15, char out[17])
{
	g_assert_cmpint(strlen(first15), ==, 15);
	int d = vcode_damm(first15, 15);
	g_assert_cmpint(d, >=, '0');
	snprintf(out, 17, "%s%c", first15, d);
}

static void credit_note(struct lfix *f, int64_t value_fils)
{
	struct kio_error err = {0};
	struct cash_note note = {.device = DEV, .channel = 4, .value_fils = value_fils, .state = CASH_NOTE_ESCROW,
				 .counters_known = true};
	g_assert_cmpint(cash_journal_begin(f->j, &note, &err), ==, 0);
	g_assert_cmpint(cash_journal_advance(f->j, note.id, CASH_NOTE_ACCEPTED, "kiosk: accept", &err), ==, 0);
	g_assert_cmpint(cash_journal_advance(f->j, note.id, CASH_NOTE_CREDITED, "poll: NOTE CREDIT", &err), ==, 0);
	g_assert_cmpint(cash_journal_advance(f->j, note.id, CASH_NOTE_STACKED, "poll: STACKED", &err), ==, 0);
	assert_holds(f->l);
}

/* A voucher paid in as the app does it (kiosk/flows/vpay.h invariant 2): the intent committed,
 * then the host's redemption booked under the intent's id. */
static void voucher_in_as(struct lfix *f, int64_t tx, const char *code, int64_t value_fils, int64_t now_s,
			  char rid[37])
{
	struct kio_error err = {0};
	g_assert_cmpint(ledger_basket_voucher_intent(f->l, tx, code, value_fils, now_s, rid, &err), ==, 0);
	g_assert_cmpint(ledger_basket_voucher_paid(f->l, tx, code, rid, value_fils, now_s, &err), ==, 0);
}

static void voucher_in(struct lfix *f, int64_t tx, const char *code, int64_t value_fils, int64_t now_s)
{
	struct kio_error err = {0};
	char rid[37];
	g_assert_cmpint(ledger_basket_voucher_intent(f->l, tx, code, value_fils, now_s, rid, &err), ==, 0);
	g_assert_cmpint(ledger_basket_voucher_paid(f->l, tx, code, rid, value_fils, now_s, &err), ==, 0);
}

static struct ledger_fee_line line(const char *entity, const char *service, const char *reference, const char *bill,
				   int64_t amount_fils)
{
	struct ledger_fee_line l = {.amount_fils = amount_fils};
	snprintf(l.entity, sizeof(l.entity), "%s", entity);
	snprintf(l.service, sizeof(l.service), "%s", service);
	snprintf(l.reference, sizeof(l.reference), "%s", reference);
	snprintf(l.bill, sizeof(l.bill), "%s", bill);
	return l;
}

/* A basket of a police fine (600.00) and a DEWA bill (255.50): 85,550 fils. */
static const int64_t FINE = 60000, BILL = 25550;

static struct ledger_tx open_two(struct lfix *f)
{
	struct ledger_fee_line lines[] = {line("police", "police-fines", "10012345", "F-1", FINE),
					  line("dewa", "dewa-bill", "2001234567", "", BILL)};
	struct ledger_tx tx;
	struct kio_error err = {0};
	if (ledger_basket_open(f->l, NOW, "en", lines, 2, &tx, &err) != 0)
		g_error("ledger_basket_open: %s", err.msg);
	assert_holds(f->l);
	return tx;
}

static void result(struct lfix *f, int64_t tx, int n, enum ledger_line_status st, const char *ref)
{
	struct kio_error err = {0};
	if (ledger_basket_line_result(f->l, tx, n, st, ref, NOW + 50, &err) != 0)
		g_error("line %d: %s", n, err.msg);
	assert_holds(f->l);
}

static struct ledger_basket_end close_ok(struct lfix *f, int64_t tx, enum ledger_rest_to to, const char *card)
{
	struct ledger_basket_end end;
	struct kio_error err = {0};
	if (ledger_basket_close(f->l, tx, NOW + 60, to, card, 30, &end, &err) != 0)
		g_error("ledger_basket_close: %s", err.msg);
	assert_holds(f->l);
	/* The receipt's read gives the same. */
	struct ledger_basket_end again;
	g_assert_cmpint(ledger_basket_end_get(f->l, tx, &again, &err), ==, 0);
	g_assert_cmpmem(&again, sizeof(again), &end, sizeof(end));
	return end;
}

static char *status_of(struct lfix *f, int64_t tx, int n)
{
	char *sql = g_strdup_printf("SELECT status FROM fee_result WHERE tx_rec = %" G_GINT64_FORMAT " AND n = %d", tx, n);
	char *s = query_text(ledger_db(f->l), sql);
	g_free(sql);
	return s;
}

#define assert_status(f, tx, n, want) \
	do { \
		char *s_ = status_of(f, tx, n); \
		g_assert_cmpstr(s_, ==, want); \
		g_free(s_); \
	} while (0)

static int64_t count_where(struct lfix *f, const char *table, int64_t tx)
{
	char *sql = g_strdup_printf("SELECT count(*) FROM %s WHERE tx_rec = %" G_GINT64_FORMAT, table, tx);
	int64_t v = query_int(ledger_db(f->l), sql);
	g_free(sql);
	return v;
}

/* Paid exactly: both lines paid at the host, nothing left, completed, queued for sync. */
static void test_paid_exactly(void)
{
	struct lfix f;
	lfix_new(&f, "kiosk-basket", NOW);
	struct kio_error err = {0};
	struct ledger_tx tx = open_two(&f);
	g_assert_cmpint(tx.kind, ==, LEDGER_TX_FEES);
	g_assert_cmpint(tx.seq, ==, 1);
	g_assert_cmpstr(tx.card, ==, "");
	struct ledger_fee_line lines[LEDGER_BASKET_MAX];
	size_t n = 0;
	g_assert_cmpint(ledger_basket_lines(f.l, tx.id, lines, LEDGER_BASKET_MAX, &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 2);
	g_assert_cmpstr(lines[0].reference, ==, "10012345");
	g_assert_cmpstr(lines[0].bill, ==, "F-1");
	g_assert_cmpstr(lines[1].bill, ==, "");
	g_assert_cmpint(lines[1].amount_fils, ==, BILL);
	g_assert_cmpint(ledger_basket_lines(f.l, tx.id, lines, 1, &n, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpuint(n, ==, 0);
	g_assert_nonnull(strstr(err.msg, "transaction 1 has more than 1 lines"));
	/* The results read the same way: every line, undecided ones too; too small a room refused. */
	struct ledger_line_result res[LEDGER_BASKET_MAX];
	g_assert_cmpint(ledger_basket_results(f.l, tx.id, res, LEDGER_BASKET_MAX, &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 2);
	g_assert_false(res[0].decided);
	g_assert_cmpint(ledger_basket_results(f.l, tx.id, res, 1, &n, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpuint(n, ==, 0);
	g_assert_nonnull(strstr(err.msg, "transaction 1 has more than 1 lines"));
	int64_t due = 0, paid = 0;
	g_assert_cmpint(ledger_basket_due(f.l, tx.id, &due, &paid, &err), ==, 0);
	g_assert_cmpint(due, ==, FINE + BILL);
	g_assert_cmpint(paid, ==, 0);
	credit_note(&f, 50000);
	credit_note(&f, 20000);
	credit_note(&f, 10000);
	credit_note(&f, 5000);
	credit_note(&f, 500);
	credit_note(&f, 50); /* not a note, but the sum is what matters here */
	g_assert_cmpint(ledger_basket_due(f.l, tx.id, &due, &paid, &err), ==, 0);
	g_assert_cmpint(paid, ==, FINE + BILL);
	result(&f, tx.id, 1, LEDGER_LINE_PAID, "P-1");
	result(&f, tx.id, 2, LEDGER_LINE_PAID, "P-2");
	struct ledger_basket_end end = close_ok(&f, tx.id, LEDGER_REST_NONE, NULL);
	g_assert_cmpint(end.paid_fils, ==, FINE + BILL);
	g_assert_cmpint(end.lines_fils, ==, FINE + BILL);
	g_assert_cmpint(end.rest_fils, ==, 0);
	g_assert_cmpint(end.rest_to, ==, LEDGER_REST_NONE);
	struct ledger_tx done;
	g_assert_cmpint(ledger_tx_get(f.l, tx.id, &done, &err), ==, 0);
	g_assert_cmpint(done.state, ==, LEDGER_TX_COMPLETED);
	g_assert_cmpint(done.credited_fils, ==, FINE + BILL);
	g_assert_false(done.recovered);
	int64_t pending = 0;
	g_assert_cmpint(ledger_outbox_pending(f.l, &pending, &err), ==, 0);
	g_assert_cmpint(pending, ==, 1);
	g_assert_cmpint(count_where(&f, "voucher_issue", tx.id) + count_where(&f, "tx_item", tx.id), ==, 0);
	/* Ended: nothing more goes in. */
	g_assert_cmpint(ledger_basket_line_result(f.l, tx.id, 1, LEDGER_LINE_PAID, "P-1", NOW, &err), ==,
			KIO_ERR_INVALID);
	g_assert_cmpint(ledger_basket_close(f.l, tx.id, NOW, LEDGER_REST_NONE, NULL, 30, NULL, &err), ==,
			KIO_ERR_INVALID);
	lfix_free(&f);
}

/* Overpaid (a 500 note for 455.00): the customer names a card, credited with the 45.00. */
static void test_overpaid_to_card(void)
{
	struct lfix f;
	lfix_new(&f, "kiosk-basket", NOW);
	struct kio_error err = {0};
	struct ledger_fee_line one[] = {line("rta", "vehicle-renewal", "", "", 45500)};
	struct ledger_tx tx;
	g_assert_cmpint(ledger_basket_open(f.l, NOW, "ar", one, 1, &tx, &err), ==, 0);
	credit_note(&f, 50000);
	result(&f, tx.id, 1, LEDGER_LINE_PAID, "P-9");
	/* The rest needs somewhere to go: refused without, nothing written. */
	int64_t before = query_int(ledger_db(f.l), "SELECT rec FROM chain_head");
	g_assert_cmpint(ledger_basket_close(f.l, tx.id, NOW, LEDGER_REST_NONE, NULL, 30, NULL, &err), ==,
			KIO_ERR_INVALID);
	g_assert_nonnull(strstr(err.msg, "4500 fils left"));
	g_assert_cmpint(ledger_basket_close(f.l, tx.id, NOW, LEDGER_REST_CARD, "78401234", 30, NULL, &err), ==,
			KIO_ERR_INVALID);
	g_assert_cmpint(ledger_basket_close(f.l, tx.id, NOW, LEDGER_REST_CARD, NULL, 30, NULL, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(query_int(ledger_db(f.l), "SELECT rec FROM chain_head"), ==, before);
	struct ledger_basket_end end = close_ok(&f, tx.id, LEDGER_REST_CARD, CARD);
	g_assert_cmpint(end.paid_fils, ==, 50000);
	g_assert_cmpint(end.lines_fils, ==, 45500);
	g_assert_cmpint(end.rest_fils, ==, 4500);
	g_assert_cmpint(end.rest_to, ==, LEDGER_REST_CARD);
	g_assert_cmpstr(end.card, ==, CARD);
	g_assert_cmpint(query_int(ledger_db(f.l), "SELECT amount_fils FROM tx_item WHERE kind = 'topup'"), ==, 4500);
	g_assert_cmpint(count_where(&f, "voucher_issue", tx.id), ==, 0);
	struct ledger_tx done;
	g_assert_cmpint(ledger_tx_get(f.l, tx.id, &done, &err), ==, 0);
	g_assert_cmpstr(done.card, ==, CARD);
	g_assert_cmpint(done.credited_fils, ==, 50000);
	lfix_free(&f);
}

/* Overpaid, the customer takes an e-voucher: a valid code, its value, 30 days. */
static void test_overpaid_to_voucher(void)
{
	struct lfix f;
	lfix_new(&f, "kiosk-basket", NOW);
	struct kio_error err = {0};
	struct ledger_fee_line one[] = {line("rta", "vehicle-renewal", "", "", 45500)};
	struct ledger_tx tx;
	g_assert_cmpint(ledger_basket_open(f.l, NOW, "en", one, 1, &tx, &err), ==, 0);
	credit_note(&f, 50000);
	result(&f, tx.id, 1, LEDGER_LINE_PAID, "P-9");
	g_assert_cmpint(ledger_basket_close(f.l, tx.id, NOW, LEDGER_REST_VOUCHER, NULL, 0, NULL, &err), ==,
			KIO_ERR_INVALID);
	g_assert_cmpint(ledger_basket_close(f.l, tx.id, NOW, LEDGER_REST_VOUCHER, NULL, 3651, NULL, &err), ==,
			KIO_ERR_INVALID);
	struct ledger_basket_end end = close_ok(&f, tx.id, LEDGER_REST_VOUCHER, NULL);
	g_assert_cmpint(end.rest_fils, ==, 4500);
	g_assert_cmpint(end.rest_to, ==, LEDGER_REST_VOUCHER);
	char canon[17];
	g_assert_cmpint(vcode_parse(end.voucher, canon), ==, VCODE_OK);
	g_assert_cmpstr(canon, ==, end.voucher);
	g_assert_cmpint(end.voucher_expires_s, ==, NOW + 60 + 30 * DAY);
	char *why = query_text(ledger_db(f.l), "SELECT why FROM voucher_issue");
	g_assert_cmpstr(why, ==, "overpayment");
	g_free(why);
	g_assert_cmpint(query_int(ledger_db(f.l), "SELECT value_fils FROM voucher_issue"), ==, 4500);
	g_assert_cmpint(count_where(&f, "tx_item", tx.id), ==, 0);
	lfix_free(&f);
}

/* The host refuses line 2 (already paid elsewhere): its money and the overpayment go to a
 * voucher marked refused. */
static void test_refused_line_to_voucher(void)
{
	struct lfix f;
	lfix_new(&f, "kiosk-basket", NOW);
	struct kio_error err = {0};
	struct ledger_tx tx = open_two(&f);
	credit_note(&f, 50000);
	credit_note(&f, 50000);
	result(&f, tx.id, 1, LEDGER_LINE_PAID, "P-1");
	result(&f, tx.id, 2, LEDGER_LINE_REFUSED, NULL);
	int64_t due = 0, paid = 0;
	g_assert_cmpint(ledger_basket_due(f.l, tx.id, &due, &paid, &err), ==, 0);
	g_assert_cmpint(due, ==, FINE);
	g_assert_cmpint(paid, ==, 100000);
	struct ledger_basket_end end = close_ok(&f, tx.id, LEDGER_REST_VOUCHER, NULL);
	g_assert_cmpint(end.lines_fils, ==, FINE);
	g_assert_cmpint(end.rest_fils, ==, 100000 - FINE);
	char *why = query_text(ledger_db(f.l), "SELECT why FROM voucher_issue");
	g_assert_cmpstr(why, ==, "refused");
	g_free(why);
	assert_status(&f, tx.id, 2, "refused");
	lfix_free(&f);
}

/* Cancelled with 200.00 paid of 855.50: every line unpaid, the 200.00 to a voucher (or a card). */
static void test_underpaid_cancel(void)
{
	for (int to_card = 0; to_card < 2; to_card++) {
		struct lfix f;
		lfix_new(&f, "kiosk-basket", NOW);
		struct ledger_tx tx = open_two(&f);
		credit_note(&f, 10000);
		credit_note(&f, 10000);
		struct ledger_basket_end end =
			close_ok(&f, tx.id, to_card ? LEDGER_REST_CARD : LEDGER_REST_VOUCHER, to_card ? CARD : NULL);
		g_assert_cmpint(end.paid_fils, ==, 20000);
		g_assert_cmpint(end.lines_fils, ==, 0);
		g_assert_cmpint(end.rest_fils, ==, 20000);
		g_assert_cmpint(end.rest_to, ==, to_card ? LEDGER_REST_CARD : LEDGER_REST_VOUCHER);
		assert_status(&f, tx.id, 1, "unpaid");
		assert_status(&f, tx.id, 2, "unpaid");
		/* Money moved, so it completed (and syncs): the customer's money is never dropped. */
		struct ledger_tx done;
		struct kio_error err = {0};
		g_assert_cmpint(ledger_tx_get(f.l, tx.id, &done, &err), ==, 0);
		g_assert_cmpint(done.state, ==, LEDGER_TX_COMPLETED);
		if (!to_card) {
			char *why = query_text(ledger_db(f.l), "SELECT why FROM voucher_issue");
			g_assert_cmpstr(why, ==, "cancelled");
			g_free(why);
		}
		lfix_free(&f);
	}
}

/* Cancelled before any money: nothing but the cancellation (lines unpaid), nothing to sync. */
static void test_nothing_paid_cancelled(void)
{
	struct lfix f;
	lfix_new(&f, "kiosk-basket", NOW);
	struct kio_error err = {0};
	struct ledger_tx tx = open_two(&f);
	struct ledger_basket_end end = close_ok(&f, tx.id, LEDGER_REST_NONE, NULL);
	g_assert_cmpint(end.paid_fils, ==, 0);
	g_assert_cmpint(end.rest_to, ==, LEDGER_REST_NONE);
	struct ledger_tx done;
	g_assert_cmpint(ledger_tx_get(f.l, tx.id, &done, &err), ==, 0);
	g_assert_cmpint(done.state, ==, LEDGER_TX_CANCELLED);
	g_assert_cmpint(done.credited_fils, ==, 0);
	assert_status(&f, tx.id, 1, "unpaid");
	assert_status(&f, tx.id, 2, "unpaid");
	int64_t pending = 0;
	g_assert_cmpint(ledger_outbox_pending(f.l, &pending, &err), ==, 0);
	g_assert_cmpint(pending, ==, 0);
	/* The next basket gets the next number. */
	struct ledger_tx next = open_two(&f);
	g_assert_cmpint(next.seq, ==, 2);
	lfix_free(&f);
}

/* Vouchers as a payment: one pays the whole basket; another pays part and cash the rest. A
 * retried booking of the same redemption is not new money. */
static void test_voucher_payments(void)
{
	struct lfix f;
	lfix_new(&f, "kiosk-basket", NOW);
	struct kio_error err = {0};
	char code[17], code2[17];
	voucher_code("912345678901234", code);
	voucher_code("987654321098765", code2);
	struct ledger_fee_line one[] = {line("police", "police-fines", "10012345", "F-7", FINE)};
	struct ledger_tx tx;
	g_assert_cmpint(ledger_basket_open(f.l, NOW, "en", one, 1, &tx, &err), ==, 0);
	/* Full: the voucher's value covers it. */
	char rid1[37], rid2[37];
	g_assert_cmpint(ledger_basket_voucher_intent(f.l, tx.id, code, FINE, NOW + 9, rid1, &err), ==, 0);
	g_assert_cmpint(ledger_basket_voucher_paid(f.l, tx.id, code, rid1, FINE, NOW + 10, &err), ==, 0);
	assert_holds(f.l);
	g_assert_cmpint(ledger_basket_voucher_paid(f.l, tx.id, code, rid1, FINE, NOW + 11, &err), ==, 0);
	g_assert_cmpint(count_where(&f, "voucher_payment", tx.id), ==, 1);
	g_assert_cmpint(ledger_basket_voucher_paid(f.l, tx.id, code, rid1, FINE - 1, NOW + 11, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(ledger_basket_voucher_paid(f.l, tx.id, code2, rid1, FINE, NOW + 11, &err), ==, KIO_ERR_INVALID);
	result(&f, tx.id, 1, LEDGER_LINE_PAID, "P-7");
	struct ledger_basket_end end = close_ok(&f, tx.id, LEDGER_REST_NONE, NULL);
	g_assert_cmpint(end.paid_fils, ==, FINE);
	struct ledger_tx done;
	g_assert_cmpint(ledger_tx_get(f.l, tx.id, &done, &err), ==, 0);
	g_assert_cmpint(done.credited_fils, ==, FINE);
	g_assert_cmpint(done.paid_fils, ==, 0); /* no cash */
	/* The redemption belongs to that transaction: not again in another. */
	struct ledger_tx tx2 = open_two(&f);
	g_assert_cmpint(ledger_basket_voucher_paid(f.l, tx2.id, code, rid1, FINE, NOW, &err), ==, KIO_ERR_INVALID);
	/* Partial: 200.00 of a voucher, the rest in cash, 50.00 over to a voucher. */
	g_assert_cmpint(ledger_basket_voucher_intent(f.l, tx2.id, code2, 20000, NOW + 9, rid2, &err), ==, 0);
	g_assert_cmpint(ledger_basket_voucher_paid(f.l, tx2.id, code2, rid2, 20000, NOW + 10, &err), ==, 0);
	credit_note(&f, 50000);
	credit_note(&f, 20000);
	int64_t due = 0, paid = 0;
	g_assert_cmpint(ledger_basket_due(f.l, tx2.id, &due, &paid, &err), ==, 0);
	g_assert_cmpint(paid, ==, 90000);
	result(&f, tx2.id, 1, LEDGER_LINE_PAID, "P-1");
	result(&f, tx2.id, 2, LEDGER_LINE_PAID, "P-2");
	end = close_ok(&f, tx2.id, LEDGER_REST_VOUCHER, NULL);
	g_assert_cmpint(end.rest_fils, ==, 90000 - FINE - BILL);
	g_assert_cmpint(ledger_tx_get(f.l, tx2.id, &done, &err), ==, 0);
	g_assert_cmpint(done.credited_fils, ==, 90000);
	g_assert_cmpint(done.paid_fils, ==, 70000);
	struct ledger_voucher_paid paid_in[2];
	size_t n_paid = 0;
	g_assert_cmpint(ledger_basket_vouchers(f.l, tx2.id, paid_in, 2, &n_paid, &err), ==, 0);
	g_assert_cmpuint(n_paid, ==, 1);
	g_assert_cmpstr(paid_in[0].code, ==, code2);
	g_assert_cmpint(paid_in[0].value_fils, ==, 20000);
	g_assert_cmpint(ledger_basket_vouchers(f.l, tx2.id, paid_in, 0, &n_paid, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpuint(n_paid, ==, 0);
	g_assert_nonnull(strstr(err.msg, "has more than 0 vouchers paid in"));
	/* Bad input: refused with a reason, nothing written. */
	struct ledger_tx tx3 = open_two(&f);
	char bad[17];
	memcpy(bad, code, sizeof(bad));
	bad[15] = bad[15] == '9' ? '0' : (char)(bad[15] + 1);
	const char *const rid3 = "0b6c3f44-9f1e-4c55-8a1e-2f0d4d3b9a03";
	g_assert_cmpint(ledger_basket_voucher_paid(f.l, tx3.id, bad, rid3, 100, NOW, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(ledger_basket_voucher_paid(f.l, tx3.id, "7840123456789012", rid3, 100, NOW, &err), ==,
			KIO_ERR_INVALID);
	g_assert_cmpint(ledger_basket_voucher_paid(f.l, tx3.id, code, "not-a-uuid", 100, NOW, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(ledger_basket_voucher_paid(f.l, tx3.id, code, rid3, 0, NOW, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(count_where(&f, "voucher_payment", tx3.id), ==, 0);
	/* A voucher never pays a top-up. */
	g_assert_cmpint(ledger_basket_close(f.l, tx3.id, NOW, LEDGER_REST_NONE, NULL, 30, NULL, &err), ==, 0);
	struct ledger_tx top;
	g_assert_cmpint(ledger_tx_open(f.l, NOW, LEDGER_TX_TOPUP, "en", CARD, &top, &err), ==, 0);
	g_assert_cmpint(ledger_basket_voucher_paid(f.l, top.id, code, rid3, 100, NOW, &err), ==, KIO_ERR_INVALID);
	g_assert_nonnull(strstr(err.msg, "not fees"));
	assert_holds(f.l);
	lfix_free(&f);
}

/* Rules on the way: lines checked at the open, one result per line, a line settled only
 * with its money in, the top-up calls refuse a fees transaction. */
static void test_step_rules(void)
{
	struct lfix f;
	lfix_new(&f, "kiosk-basket", NOW);
	struct kio_error err = {0};
	struct ledger_tx tx;
	struct ledger_fee_line bad[] = {
		line("Police", "police-fines", "", "", 100), line("police", "", "", "", 100),
		line("police", "police-fines", "1001 2345", "", 100), line("police", "police-fines", "", "F 1", 100),
		line("police", "police-fines", "", "", 0),
	};
	for (size_t k = 0; k < G_N_ELEMENTS(bad); k++) {
		g_assert_cmpint(ledger_basket_open(f.l, NOW, "en", &bad[k], 1, &tx, &err), ==, KIO_ERR_INVALID);
		g_assert_nonnull(strstr(err.msg, "line 1"));
	}
	struct ledger_fee_line many[LEDGER_BASKET_MAX + 1];
	for (size_t k = 0; k < G_N_ELEMENTS(many); k++)
		many[k] = line("police", "police-fines", "", "", 100);
	g_assert_cmpint(ledger_basket_open(f.l, NOW, "en", many, 0, &tx, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(ledger_basket_open(f.l, NOW, "en", many, LEDGER_BASKET_MAX + 1, &tx, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(ledger_basket_open(f.l, NOW, "fr", many, 1, &tx, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(ledger_tx_open(f.l, NOW, LEDGER_TX_FEES, "en", CARD, &tx, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(query_int(ledger_db(f.l), "SELECT count(*) FROM tx"), ==, 0);
	g_assert_cmpint(ledger_basket_open(f.l, NOW, "en", many, LEDGER_BASKET_MAX, &tx, &err), ==, 0);
	g_assert_cmpint(ledger_basket_open(f.l, NOW, "en", many, 1, NULL, &err), ==, KIO_ERR_BUSY);
	g_assert_cmpint(ledger_basket_lines(f.l, tx.id, many, LEDGER_BASKET_MAX, &(size_t){0}, &err), ==, 0);
	/* Nothing paid: no line can be paid. */
	g_assert_cmpint(ledger_basket_line_result(f.l, tx.id, 1, LEDGER_LINE_PAID, "P", NOW, &err), ==, KIO_ERR_INVALID);
	g_assert_nonnull(strstr(err.msg, "0 fils paid"));
	credit_note(&f, 200);
	result(&f, tx.id, 1, LEDGER_LINE_PAID, "P-1");
	result(&f, tx.id, 2, LEDGER_LINE_OFFLINE, NULL);
	g_assert_cmpint(ledger_basket_line_result(f.l, tx.id, 3, LEDGER_LINE_UNCONFIRMED, NULL, NOW, &err), ==,
			KIO_ERR_INVALID);
	/* Once per line; the same answer again is a retry. */
	result(&f, tx.id, 1, LEDGER_LINE_PAID, "P-1");
	g_assert_cmpint(ledger_basket_line_result(f.l, tx.id, 1, LEDGER_LINE_PAID, "P-2", NOW, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(ledger_basket_line_result(f.l, tx.id, 1, LEDGER_LINE_REFUSED, NULL, NOW, &err), ==,
			KIO_ERR_INVALID);
	g_assert_nonnull(strstr(err.msg, "already paid"));
	g_assert_cmpint(ledger_basket_line_result(f.l, tx.id, 11, LEDGER_LINE_REFUSED, NULL, NOW, &err), ==,
			KIO_ERR_INVALID);
	g_assert_cmpint(ledger_basket_line_result(f.l, tx.id, 0, LEDGER_LINE_REFUSED, NULL, NOW, &err), ==,
			KIO_ERR_INVALID);
	g_assert_cmpint(ledger_basket_line_result(f.l, tx.id, 3, (enum ledger_line_status)9, NULL, NOW, &err), ==,
			KIO_ERR_INVALID);
	g_assert_cmpint(ledger_basket_line_result(f.l, tx.id, 3, LEDGER_LINE_REFUSED, "bad ref", NOW, &err), ==,
			KIO_ERR_INVALID);
	/* A fees transaction ends only through its basket. */
	g_assert_cmpint(ledger_tx_complete(f.l, tx.id, NOW, NULL, &err), ==, KIO_ERR_INVALID);
	g_assert_nonnull(strstr(err.msg, "ledger_basket_close"));
	g_assert_cmpint(ledger_tx_cancel(f.l, tx.id, NOW, &err), ==, KIO_ERR_INVALID);
	/* A top-up is not a basket. */
	g_assert_cmpint(ledger_basket_close(f.l, tx.id, NOW, LEDGER_REST_NONE, NULL, 30, NULL, &err), ==, 0);
	struct ledger_tx top;
	g_assert_cmpint(ledger_tx_open(f.l, NOW, LEDGER_TX_TOPUP, "en", CARD, &top, &err), ==, 0);
	g_assert_cmpint(ledger_basket_close(f.l, top.id, NOW, LEDGER_REST_NONE, NULL, 30, NULL, &err), ==, KIO_ERR_INVALID);
	struct ledger_basket_end end;
	g_assert_cmpint(ledger_basket_end_get(f.l, top.id, &end, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(ledger_basket_end_get(f.l, 999, &end, &err), ==, KIO_ERR_NOT_FOUND);
	assert_holds(f.l);
	lfix_free(&f);
}

/* ---- recovery ---- */

struct recovery_case {
	const char *name;
	int64_t notes[3];       /* cash paid before the crash */
	int64_t voucher_fils;   /* a voucher paid in */
	int results;            /* lines with a result (paid) before the crash */
	enum ledger_tx_state state;
	const char *open_lines; /* what the lines without a result became */
	int64_t voucher_out;    /* the recovered voucher's value, 0: none */
};

static void test_recovery(void)
{
	static const struct recovery_case cases[] = {
		{"nothing paid", {0}, 0, 0, LEDGER_TX_CANCELLED, "unpaid", 0},
		{"paid in full, no answer", {50000, 50000}, 0, 0, LEDGER_TX_COMPLETED, "unconfirmed", 100000 - FINE - BILL},
		{"paid exactly with a voucher and cash", {50000, 5000, 550}, 30000, 0, LEDGER_TX_COMPLETED, "unconfirmed", 0},
		{"paid in full, line 1 answered", {50000, 50000}, 0, 1, LEDGER_TX_COMPLETED, "unconfirmed",
		 100000 - FINE - BILL},
		{"paid short", {20000, 10000}, 0, 0, LEDGER_TX_COMPLETED, "unpaid", 30000},
		{"paid short with a voucher", {10000}, 5000, 0, LEDGER_TX_COMPLETED, "unpaid", 15000},
	};
	for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
		const struct recovery_case *rc = &cases[c];
		g_test_message("recovery: %s", rc->name);
		struct lfix f;
		lfix_new(&f, "kiosk-basket", NOW);
		struct kio_error err = {0};
		struct ledger_tx tx = open_two(&f);
		for (size_t k = 0; k < G_N_ELEMENTS(rc->notes) && rc->notes[k]; k++)
			credit_note(&f, rc->notes[k]);
		if (rc->voucher_fils) {
			char code[17];
			voucher_code("912345678901234", code);
			voucher_in(&f, tx.id, code, rc->voucher_fils, NOW);
		}
		for (int n = 1; n <= rc->results; n++)
			result(&f, tx.id, n, LEDGER_LINE_PAID, "P");
		/* The crash, then the start-up. */
		lfix_close(&f);
		lfix_open(&f);
		struct ledger_tx *list = NULL;
		size_t n = 0;
		g_assert_cmpint(ledger_tx_recover(f.l, NOW + 100, &list, &n, &err), ==, 0);
		g_assert_cmpuint(n, ==, 1);
		g_assert_cmpint(list[0].id, ==, tx.id);
		g_assert_cmpint(list[0].state, ==, rc->state);
		g_assert_true(list[0].recovered);
		free(list);
		assert_holds(f.l);
		for (int k = rc->results + 1; k <= 2; k++)
			assert_status(&f, tx.id, k, rc->open_lines);
		struct ledger_basket_end end;
		g_assert_cmpint(ledger_basket_end_get(f.l, tx.id, &end, &err), ==, 0);
		g_assert_cmpint(end.rest_fils, ==, rc->voucher_out);
		g_assert_cmpint(end.rest_to, ==, rc->voucher_out ? LEDGER_REST_VOUCHER : LEDGER_REST_NONE);
		if (rc->voucher_out) {
			g_assert_cmpint(end.voucher_expires_s, ==, NOW + 100 + 30 * DAY);
			char *why = query_text(ledger_db(f.l), "SELECT why FROM voucher_issue");
			g_assert_cmpstr(why, ==, "recovered");
			g_free(why);
		}
		/* A completed recovery is a receipt to print. */
		int64_t *due = NULL;
		g_assert_cmpint(ledger_receipts_due(f.l, &due, &n, &err), ==, 0);
		g_assert_cmpuint(n, ==, rc->state == LEDGER_TX_COMPLETED ? 1 : 0);
		free(due);
		/* Nothing left open: a second start recovers nothing. */
		g_assert_cmpint(ledger_tx_recover(f.l, NOW + 200, &list, &n, &err), ==, 0);
		g_assert_cmpuint(n, ==, 0);
		lfix_free(&f);
	}
}

/* ---- redemption intents (invariant 15, kiosk/flows/vpay.h invariant 2) ---- */

static void test_voucher_intents(void)
{
	struct lfix f;
	lfix_new(&f, "kiosk-basket", NOW);
	struct kio_error err = {0};
	char a[17], b[17], ra[37], rb[37], again[37];
	voucher_code("912345678901234", a);
	voucher_code("987654321098765", b);
	struct ledger_tx tx = open_two(&f);
	/* A redemption the host confirmed but no intent was written for is not booked: the
	 * ledger would otherwise hold money nobody can void after a crash. */
	g_assert_cmpint(ledger_basket_voucher_paid(f.l, tx.id, a, RID1, 20000, NOW, &err), ==, KIO_ERR_INVALID);
	g_assert_nonnull(strstr(err.msg, "not intended"));
	g_assert_cmpint(count_where(&f, "voucher_payment", tx.id), ==, 0);
	/* The intent: a fresh lowercase uuid, committed. */
	g_assert_cmpint(ledger_basket_voucher_intent(f.l, tx.id, a, 20000, NOW, ra, &err), ==, 0);
	g_assert_cmpuint(strlen(ra), ==, 36);
	g_assert_cmpint(count_where(&f, "voucher_intent", tx.id), ==, 1);
	/* The same voucher again, unanswered: the same redemption, no second intent. */
	g_assert_cmpint(ledger_basket_voucher_intent(f.l, tx.id, a, 20000, NOW + 1, again, &err), ==, 0);
	g_assert_cmpstr(again, ==, ra);
	g_assert_cmpint(count_where(&f, "voucher_intent", tx.id), ==, 1);
	/* Booked only as intended: not another value, not another code. */
	g_assert_cmpint(ledger_basket_voucher_paid(f.l, tx.id, a, ra, 19999, NOW, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(ledger_basket_voucher_paid(f.l, tx.id, b, ra, 20000, NOW, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(ledger_basket_voucher_paid(f.l, tx.id, a, ra, 20000, NOW + 2, &err), ==, 0);
	/* Booked: the same code again is a new redemption (the host says spent). */
	g_assert_cmpint(ledger_basket_voucher_intent(f.l, tx.id, a, 20000, NOW + 3, again, &err), ==, 0);
	g_assert_cmpstr(again, !=, ra);
	/* Another voucher, never answered. */
	g_assert_cmpint(ledger_basket_voucher_intent(f.l, tx.id, b, 5000, NOW + 4, rb, &err), ==, 0);
	struct ledger_voucher_intent in[LEDGER_BASKET_INTENTS_MAX];
	size_t n = 0;
	g_assert_cmpint(ledger_basket_intents(f.l, tx.id, in, G_N_ELEMENTS(in), &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 3);
	g_assert_cmpint(in[0].state, ==, LEDGER_INTENT_BOOKED);
	g_assert_cmpint(in[1].state, ==, LEDGER_INTENT_PENDING);
	g_assert_cmpint(in[2].state, ==, LEDGER_INTENT_PENDING);
	g_assert_cmpstr(in[2].redemption_id, ==, rb);
	g_assert_cmpint(in[2].value_fils, ==, 5000);
	assert_holds(f.l);
	/* The close voids every intent not booked, in the end's commit. */
	credit_note(&f, 100000);
	result(&f, tx.id, 1, LEDGER_LINE_PAID, "P-1");
	result(&f, tx.id, 2, LEDGER_LINE_PAID, "P-2");
	struct ledger_basket_end end = close_ok(&f, tx.id, LEDGER_REST_VOUCHER, NULL);
	g_assert_cmpint(end.paid_fils, ==, 120000);
	g_assert_cmpint(ledger_basket_intents(f.l, tx.id, in, G_N_ELEMENTS(in), &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 3);
	g_assert_cmpint(in[0].state, ==, LEDGER_INTENT_BOOKED);
	g_assert_cmpint(in[1].state, ==, LEDGER_INTENT_VOID);
	g_assert_cmpint(in[2].state, ==, LEDGER_INTENT_VOID);
	g_assert_cmpint(ledger_basket_intents(f.l, tx.id, in, 2, &n, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpuint(n, ==, 0);
	g_assert_nonnull(strstr(err.msg, "has more than 2 redemption intents"));
	g_assert_cmpint(count_where(&f, "voucher_void", tx.id), ==, 2);
	int64_t end_rec = query_int(ledger_db(f.l), "SELECT rec FROM tx_end ORDER BY rec DESC LIMIT 1");
	g_assert_cmpint(query_int(ledger_db(f.l), "SELECT max(rec) FROM voucher_void"), <, end_rec);
	assert_holds(f.l);
	/* Not after the end: no intent, no booking. */
	g_assert_cmpint(ledger_basket_voucher_intent(f.l, tx.id, b, 5000, NOW, again, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(ledger_basket_voucher_paid(f.l, tx.id, b, rb, 5000, NOW, &err), ==, KIO_ERR_INVALID);

	/* A cancelled basket (nothing booked) voids its intents too. */
	struct ledger_tx tx2 = open_two(&f);
	g_assert_cmpint(ledger_basket_voucher_intent(f.l, tx2.id, b, 5000, NOW, rb, &err), ==, 0);
	g_assert_cmpint(ledger_basket_close(f.l, tx2.id, NOW, LEDGER_REST_NONE, NULL, 30, NULL, &err), ==, 0);
	g_assert_cmpint(count_where(&f, "voucher_void", tx2.id), ==, 1);

	/* Recovery: a crash after the intent (the host may have redeemed it) voids it. */
	struct ledger_tx tx3 = open_two(&f);
	credit_note(&f, 10000);
	g_assert_cmpint(ledger_basket_voucher_intent(f.l, tx3.id, b, 5000, NOW, rb, &err), ==, 0);
	lfix_close(&f);
	lfix_open(&f);
	struct ledger_tx *list = NULL;
	g_assert_cmpint(ledger_tx_recover(f.l, NOW + 100, &list, &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 1);
	free(list);
	g_assert_cmpint(ledger_basket_intents(f.l, tx3.id, in, G_N_ELEMENTS(in), &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpint(in[0].state, ==, LEDGER_INTENT_VOID);
	assert_holds(f.l);

	/* At most LEDGER_BASKET_INTENTS_MAX tries in one basket; bad input writes nothing. */
	struct ledger_tx tx4 = open_two(&f);
	for (int k = 0; k < LEDGER_BASKET_INTENTS_MAX; k++)
		g_assert_cmpint(ledger_basket_voucher_intent(f.l, tx4.id, a, 100 + k, NOW, again, &err), ==, 0);
	g_assert_cmpint(ledger_basket_voucher_intent(f.l, tx4.id, a, 99, NOW, again, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpstr(again, ==, "");
	g_assert_cmpint(ledger_basket_voucher_intent(f.l, tx4.id, "9123", 99, NOW, again, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(ledger_basket_voucher_intent(f.l, tx4.id, b, 0, NOW, again, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(count_where(&f, "voucher_intent", tx4.id), ==, LEDGER_BASKET_INTENTS_MAX);
	g_assert_cmpint(ledger_basket_close(f.l, tx4.id, NOW, LEDGER_REST_NONE, NULL, 30, NULL, &err), ==, 0);
	g_assert_cmpint(count_where(&f, "voucher_void", tx4.id), ==, LEDGER_BASKET_INTENTS_MAX);
	/* A top-up takes no intent. */
	struct ledger_tx top;
	g_assert_cmpint(ledger_tx_open(f.l, NOW, LEDGER_TX_TOPUP, "en", CARD, &top, &err), ==, 0);
	g_assert_cmpint(ledger_basket_voucher_intent(f.l, top.id, a, 100, NOW, again, &err), ==, KIO_ERR_INVALID);
	assert_holds(f.l);
	lfix_free(&f);
}

/* ---- the triggers: the rules hold against raw SQL, not only the kiosk's calls ---- */

#define ZMAC "zeroblob(32)"

static void refuse(sqlite3 *db, const char *sql, const char *why)
{
	char *msg = lfix_exec_fails(db, sql);
	if (!strstr(msg, why))
		g_error("%s: refused with '%s', expected '%s'", sql, msg, why);
	g_free(msg);
}

static void test_triggers_refuse(void)
{
	struct lfix f;
	lfix_new(&f, "kiosk-basket", NOW);
	struct kio_error err = {0};
	struct ledger_tx tx = open_two(&f);
	credit_note(&f, 50000);
	credit_note(&f, 50000);
	sqlite3 *db = ledger_db(f.l);
	char *sql;
	/* An end with lines undecided. */
	sql = g_strdup_printf("INSERT INTO tx_end(rec, tx_rec, state, recovered, credited_fils, at_s, mac)"
			      " VALUES (100, %" G_GINT64_FORMAT ", 'completed', 0, 100000, 1, " ZMAC ")", tx.id);
	refuse(db, sql, "invariant 9");
	/* Both lines paid, but 145.00 of the 1000.00 paid in goes nowhere. */
	char *res = g_strdup_printf("INSERT INTO fee_result(rec, tx_rec, n, status, host_ref, at_s, mac) VALUES"
				    " (90, %1$" G_GINT64_FORMAT ", 1, 'paid', NULL, 1, " ZMAC "),"
				    " (91, %1$" G_GINT64_FORMAT ", 2, 'paid', NULL, 1, " ZMAC ")",
				    tx.id);
	lfix_exec_ok(db, "BEGIN");
	lfix_exec_ok(db, res);
	refuse(db, sql, "invariant 9");
	/* Balanced by a voucher of the rest, the end passes the triggers, but only crediting
	 * exactly what was paid in (rolled back: the MACs are not the chain's). */
	char *vi = g_strdup_printf("INSERT INTO voucher_issue(rec, tx_rec, code, value_fils, expires_s, why, at_s, mac)"
				   " VALUES (92, %" G_GINT64_FORMAT ", '9123456789012345', %" G_GINT64_FORMAT
				   ", 10, 'overpayment', 1, " ZMAC ")",
				   tx.id, 100000 - FINE - BILL);
	lfix_exec_ok(db, vi);
	char *low = g_strdup_printf("INSERT INTO tx_end(rec, tx_rec, state, recovered, credited_fils, at_s, mac)"
				    " VALUES (100, %" G_GINT64_FORMAT ", 'completed', 0, 99999, 1, " ZMAC ")",
				    tx.id);
	refuse(db, low, "credit exactly what was paid");
	char *cancel = g_strdup_printf("INSERT INTO tx_end(rec, tx_rec, state, recovered, credited_fils, at_s, mac)"
				       " VALUES (100, %" G_GINT64_FORMAT ", 'cancelled', 0, 0, 1, " ZMAC ")",
				       tx.id);
	refuse(db, cancel, "credit exactly what was paid");
	lfix_exec_ok(db, sql);
	lfix_exec_ok(db, "ROLLBACK");
	/* A voucher of one fils too few or too many. */
	for (int d = -1; d <= 1; d += 2) {
		char *vi2 = g_strdup_printf("INSERT INTO voucher_issue(rec, tx_rec, code, value_fils, expires_s, why, at_s, mac)"
					    " VALUES (92, %" G_GINT64_FORMAT ", '9123456789012345', %" G_GINT64_FORMAT
					    ", 10, 'overpayment', 1, " ZMAC ")",
					    tx.id, 100000 - FINE - BILL + d);
		lfix_exec_ok(db, "BEGIN");
		lfix_exec_ok(db, res);
		lfix_exec_ok(db, vi2);
		refuse(db, sql, "invariant 9");
		lfix_exec_ok(db, "ROLLBACK");
		g_free(vi2);
	}
	/* The rest as a card credit of one fils too many. */
	char *credit = g_strdup_printf("INSERT INTO tx_item(rec, tx_rec, kind, card, amount_fils, mac)"
				       " VALUES (92, %" G_GINT64_FORMAT ", 'topup', '" CARD "', %" G_GINT64_FORMAT ", " ZMAC ")",
				       tx.id, 100000 - FINE - BILL + 1);
	lfix_exec_ok(db, "BEGIN");
	lfix_exec_ok(db, res);
	lfix_exec_ok(db, credit);
	refuse(db, sql, "invariant 9");
	lfix_exec_ok(db, "ROLLBACK");
	g_free(credit);
	/* A line settled with its money not in: 3 x 600.00 > 1000.00 is not possible with two
	 * lines, so a basket of one line of 1500.00. */
	g_free(sql);
	sql = g_strdup_printf("INSERT INTO fee_result(rec, tx_rec, n, status, host_ref, at_s, mac) VALUES"
			      " (90, %" G_GINT64_FORMAT ", 3, 'paid', NULL, 1, " ZMAC ")",
			      tx.id);
	refuse(db, sql, "only for a line of an open fees transaction");
	/* Lines only right after the open. */
	g_free(sql);
	sql = g_strdup_printf("INSERT INTO fee_item(rec, tx_rec, n, entity, service, reference, bill, amount_fils, mac)"
			      " VALUES (90, %" G_GINT64_FORMAT ", 3, 'rta', 'salik-recharge', NULL, NULL, 5000, " ZMAC ")",
			      tx.id);
	refuse(db, sql, "written with their fees transaction's open");
	/* An item of a fees transaction is a card credit with its amount. */
	g_free(sql);
	sql = g_strdup_printf("INSERT INTO tx_item(rec, tx_rec, kind, card, amount_fils, mac)"
			      " VALUES (90, %" G_GINT64_FORMAT ", 'topup', '" CARD "', NULL, " ZMAC ")",
			      tx.id);
	refuse(db, sql, "card credit with its card and amount");
	/* Append-only. */
	refuse(db, "UPDATE fee_item SET amount_fils = 1", "append-only");
	refuse(db, "DELETE FROM fee_item", "append-only");
	refuse(db, "UPDATE tx SET lang = 'ar'", "append-only");
	g_free(sql);
	g_free(res);
	g_free(vi);
	g_free(low);
	g_free(cancel);

	/* Settled beyond what is paid, from raw SQL too. */
	g_assert_cmpint(ledger_basket_close(f.l, tx.id, NOW, LEDGER_REST_VOUCHER, NULL, 30, NULL, &err), ==, 0);
	struct ledger_fee_line big[] = {line("dld", "dld-fee", "", "", 150000)};
	struct ledger_tx tx2;
	g_assert_cmpint(ledger_basket_open(f.l, NOW, "en", big, 1, &tx2, &err), ==, 0);
	credit_note(&f, 100000);
	sql = g_strdup_printf("INSERT INTO fee_result(rec, tx_rec, n, status, host_ref, at_s, mac) VALUES"
			      " (900, %" G_GINT64_FORMAT ", 1, 'unconfirmed', NULL, 1, " ZMAC ")",
			      tx2.id);
	refuse(db, sql, "settled only with its money paid in");
	g_free(sql);
	/* Vouchers and results only into an open fees transaction. */
	sql = g_strdup_printf("INSERT INTO voucher_payment(rec, tx_rec, code, redemption_id, value_fils, at_s, mac)"
			      " VALUES (900, %" G_GINT64_FORMAT ", '9123456789012345', '" RID1 "', 5, 1, " ZMAC ")",
			      tx.id);
	/* Two triggers refuse it (open fees, and invariant 15: never intended); SQLite fires the
	 * newer first, so either message is the refusal. */
	refuse(db, sql, "ledger: a voucher ");
	g_free(sql);
	g_assert_cmpint(ledger_basket_close(f.l, tx2.id, NOW, LEDGER_REST_CARD, CARD, 30, NULL, &err), ==, 0);
	struct ledger_tx top;
	g_assert_cmpint(ledger_tx_open(f.l, NOW, LEDGER_TX_TOPUP, "en", CARD, &top, &err), ==, 0);
	sql = g_strdup_printf("INSERT INTO voucher_issue(rec, tx_rec, code, value_fils, expires_s, why, at_s, mac)"
			      " VALUES (900, %" G_GINT64_FORMAT ", '9123456789012345', 5, 10, 'overpayment', 1, " ZMAC ")",
			      top.id);
	refuse(db, sql, "issued only by an open fees transaction");
	g_free(sql);
	assert_holds(f.l);
	lfix_free(&f);
}

/* ledger_check sees what a trigger cannot stop: a record changed with the triggers dropped. */
static void test_check_sees_tampering(void)
{
	struct lfix f;
	lfix_new(&f, "kiosk-basket", NOW);
	struct ledger_tx tx = open_two(&f);
	credit_note(&f, 100000);
	result(&f, tx.id, 1, LEDGER_LINE_PAID, "P-1");
	result(&f, tx.id, 2, LEDGER_LINE_PAID, "P-2");
	close_ok(&f, tx.id, LEDGER_REST_VOUCHER, NULL);
	sqlite3 *db = ledger_db(f.l);
	lfix_exec_ok(db, "DROP TRIGGER voucher_issue_no_update; UPDATE voucher_issue SET value_fils = value_fils - 1");
	struct kio_error err = {0};
	g_assert_cmpint(ledger_check(f.l, &err), ==, KIO_ERR_CORRUPT);
	g_assert_nonnull(strstr(err.msg, "invariant 9"));
	lfix_free(&f);
}

/* Invariant 15 against raw SQL and tampering: the triggers refuse a booking without its
 * intent, a void of a booked redemption, an end with an intent undecided; ledger_check sees a
 * void deleted with the triggers dropped. */
static void test_intent_triggers(void)
{
	struct lfix f;
	lfix_new(&f, "kiosk-basket", NOW);
	struct kio_error err = {0};
	char a[17], ra[37], rb[37];
	voucher_code("912345678901234", a);
	struct ledger_tx tx = open_two(&f);
	sqlite3 *db = ledger_db(f.l);
	char *sql = g_strdup_printf("INSERT INTO voucher_payment(rec, tx_rec, code, redemption_id, value_fils, at_s, mac)"
				    " VALUES (900, %" G_GINT64_FORMAT ", '%s', '" RID1 "', 5, 1, " ZMAC ")",
				    tx.id, a);
	refuse(db, sql, "as its redemption was intended");
	g_free(sql);
	g_assert_cmpint(ledger_basket_voucher_intent(f.l, tx.id, a, 20000, NOW, ra, &err), ==, 0);
	g_assert_cmpint(ledger_basket_voucher_paid(f.l, tx.id, a, ra, 20000, NOW, &err), ==, 0);
	sql = g_strdup_printf("INSERT INTO voucher_void(rec, tx_rec, code, redemption_id, at_s, mac)"
			      " VALUES (900, %" G_GINT64_FORMAT ", '%s', '%s', 1, " ZMAC ")",
			      tx.id, a, ra);
	refuse(db, sql, "only an intended redemption not booked is void");
	g_free(sql);
	g_assert_cmpint(ledger_basket_voucher_intent(f.l, tx.id, a, 3000, NOW, rb, &err), ==, 0);
	sql = g_strdup_printf("INSERT INTO tx_end(rec, tx_rec, state, recovered, credited_fils, at_s, mac)"
			      " VALUES (900, %" G_GINT64_FORMAT ", 'cancelled', 0, 0, 1, " ZMAC ")",
			      tx.id);
	char *msg = lfix_exec_fails(db, sql);
	g_free(msg); /* refused (by invariant 9 or 15, whichever fires first) */
	g_free(sql);
	refuse(db, "UPDATE voucher_intent SET value_fils = 1", "append-only");
	refuse(db, "DELETE FROM voucher_intent", "append-only");
	credit_note(&f, 100000);
	result(&f, tx.id, 1, LEDGER_LINE_PAID, "P-1");
	result(&f, tx.id, 2, LEDGER_LINE_PAID, "P-2");
	close_ok(&f, tx.id, LEDGER_REST_VOUCHER, NULL);
	refuse(db, "DELETE FROM voucher_void", "append-only");
	/* The end's trigger held; now tamper after it. */
	lfix_exec_ok(db, "DROP TRIGGER voucher_void_no_delete; DELETE FROM voucher_void");
	g_assert_cmpint(ledger_check(f.l, &err), ==, KIO_ERR_CORRUPT);
	g_assert_nonnull(strstr(err.msg, "invariant 15"));
	lfix_free(&f);
}

/* ---- the chain: export, verify, prune ---- */

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

static void verify_ok(const char *path)
{
	struct ledger_verdict v;
	struct kio_error err = {0};
	if (ledger_verify_file(path, &v, &err) != 0)
		g_error("verify: %s", err.msg);
	if (!v.ok)
		g_error("verify: %s", v.why);
}

static void test_export_verify_prune(void)
{
	struct lfix f;
	lfix_new(&f, "kiosk-basket", NOW - 200 * DAY);
	struct kio_error err = {0};
	struct ledger_tx tx;
	struct ledger_fee_line lines[] = {line("police", "police-fines", "10012345", "F-1", FINE),
					  line("dewa", "dewa-bill", "2001234567", "", BILL)};
	g_assert_cmpint(ledger_basket_open(f.l, NOW - 200 * DAY, "en", lines, 2, &tx, &err), ==, 0);
	char code[17], code2[17], rid[37], rid_void[37];
	voucher_code("912345678901234", code);
	voucher_code("987654321098765", code2);
	voucher_in_as(&f, tx.id, code, 10000, NOW - 200 * DAY, rid);
	/* A redemption intended and never answered: the close voids it (invariant 15). */
	g_assert_cmpint(ledger_basket_voucher_intent(f.l, tx.id, code2, 5000, NOW - 200 * DAY, rid_void, &err), ==, 0);
	credit_note(&f, 100000);
	g_assert_cmpint(ledger_basket_line_result(f.l, tx.id, 1, LEDGER_LINE_PAID, "P-1", NOW - 200 * DAY, &err), ==, 0);
	g_assert_cmpint(ledger_basket_line_result(f.l, tx.id, 2, LEDGER_LINE_REFUSED, NULL, NOW - 200 * DAY, &err), ==, 0);
	g_assert_cmpint(ledger_basket_close(f.l, tx.id, NOW - 200 * DAY, LEDGER_REST_VOUCHER, NULL, 30, NULL, &err), ==, 0);
	/* A second one, its rest to a card, to stay after the prune. */
	g_assert_cmpint(ledger_basket_open(f.l, NOW, "ar", lines, 1, &tx, &err), ==, 0);
	credit_note(&f, 100000);
	g_assert_cmpint(ledger_basket_line_result(f.l, tx.id, 1, LEDGER_LINE_OFFLINE, NULL, NOW, &err), ==, 0);
	g_assert_cmpint(ledger_basket_close(f.l, tx.id, NOW, LEDGER_REST_CARD, CARD, 30, NULL, &err), ==, 0);
	assert_holds(f.l);
	int64_t first_end = query_int(ledger_db(f.l), "SELECT min(rec) FROM tx_end");
	lfix_close(&f);
	verify_ok(f.path);

	/* Every record, by table, with its columns in chain order and null where none; and its
	 * MAC as the host recomputes it from the export (recmac.h) with the kiosk's key. */
	uint8_t key[LEDGER_KEY_BYTES], prev[LEDGER_MAC_BYTES] = {0};
	g_assert_cmpint(ledger_secret_read(f.path, false, key, &err), ==, 0);
	char *text = export_text(f.path, 0);
	char **rows = g_strsplit(text, "\n", -1);
	GHashTable *types = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	int64_t last = 0;
	for (char **r = rows; *r && **r; r++) {
		JsonParser *p = json_parser_new();
		g_assert_true(json_parser_load_from_data(p, *r, -1, NULL));
		JsonObject *o = json_node_get_object(json_parser_get_root(p));
		int64_t rec = json_object_get_int_member(o, "rec");
		g_assert_cmpint(rec, ==, last + 1);
		last = rec;
		const char *type = json_object_get_string_member(o, "type");
		const char *const *cols = NULL;
		size_t n_cols = 0;
		g_assert_cmpint(ledger_rec_columns(type, &cols, &n_cols), ==, 0);
		g_assert_cmpuint(n_cols, <=, LEDGER_REC_COLS_MAX);
		struct ledger_rec_val vals[LEDGER_REC_COLS_MAX];
		for (size_t c = 0; c < n_cols; c++) {
			JsonNode *v = json_object_get_member(o, cols[c]);
			g_assert_nonnull(v);
			if (JSON_NODE_HOLDS_NULL(v))
				vals[c] = (struct ledger_rec_val){LEDGER_REC_NULL, 0, NULL};
			else if (json_node_get_value_type(v) == G_TYPE_INT64)
				vals[c] = (struct ledger_rec_val){LEDGER_REC_INT, json_node_get_int(v), NULL};
			else
				vals[c] = (struct ledger_rec_val){LEDGER_REC_TEXT, 0, json_node_get_string(v)};
		}
		uint8_t mac[LEDGER_MAC_BYTES];
		g_assert_cmpint(ledger_rec_mac(key, prev, rec, type, vals, n_cols, mac), ==, 0);
		char hex[2 * LEDGER_MAC_BYTES + 1];
		for (int b = 0; b < LEDGER_MAC_BYTES; b++)
			snprintf(hex + 2 * b, 3, "%02x", mac[b]);
		if (strcmp(hex, json_object_get_string_member(o, "mac")) != 0)
			g_error("record %" G_GINT64_FORMAT " (%s): the host's MAC differs from the kiosk's", rec, type);
		memcpy(prev, mac, sizeof(prev));
		g_hash_table_insert(types, g_strdup(type), GINT_TO_POINTER(GPOINTER_TO_INT(g_hash_table_lookup(types, type)) + 1));
		if (strcmp(type, "fee_item") == 0 && json_object_get_int_member(o, "n") == 2) {
			g_assert_cmpstr(json_object_get_string_member(o, "entity"), ==, "dewa");
			g_assert_true(json_object_get_null_member(o, "bill"));
			g_assert_cmpint(json_object_get_int_member(o, "amount_fils"), ==, BILL);
		}
		if (strcmp(type, "voucher_payment") == 0) {
			g_assert_cmpstr(json_object_get_string_member(o, "code"), ==, code);
			g_assert_cmpstr(json_object_get_string_member(o, "redemption_id"), ==, rid);
		}
		if (strcmp(type, "voucher_void") == 0) {
			g_assert_cmpstr(json_object_get_string_member(o, "code"), ==, code2);
			g_assert_cmpstr(json_object_get_string_member(o, "redemption_id"), ==, rid_void);
		}
		if (strcmp(type, "voucher_issue") == 0) {
			g_assert_cmpint(json_object_get_int_member(o, "value_fils"), ==, 110000 - FINE);
			g_assert_cmpstr(json_object_get_string_member(o, "why"), ==, "refused");
		}
		if (strcmp(type, "fee_result") == 0 && json_object_has_member(o, "host_ref") &&
		    !json_object_get_null_member(o, "host_ref"))
			g_assert_cmpstr(json_object_get_string_member(o, "host_ref"), ==, "P-1");
		g_assert_cmpuint(strlen(json_object_get_string_member(o, "mac")), ==, 64);
		g_object_unref(p);
	}
	g_assert_cmpint(GPOINTER_TO_INT(g_hash_table_lookup(types, "fee_item")), ==, 3);
	g_assert_cmpint(GPOINTER_TO_INT(g_hash_table_lookup(types, "fee_result")), ==, 3);
	g_assert_cmpint(GPOINTER_TO_INT(g_hash_table_lookup(types, "voucher_payment")), ==, 1);
	g_assert_cmpint(GPOINTER_TO_INT(g_hash_table_lookup(types, "voucher_issue")), ==, 1);
	g_assert_cmpint(GPOINTER_TO_INT(g_hash_table_lookup(types, "voucher_intent")), ==, 2);
	g_assert_cmpint(GPOINTER_TO_INT(g_hash_table_lookup(types, "voucher_void")), ==, 1);
	g_assert_cmpint(GPOINTER_TO_INT(g_hash_table_lookup(types, "tx_item")), ==, 1);
	g_hash_table_destroy(types);
	g_strfreev(rows);
	free(text);

	/* A line's amount changed (triggers dropped): verify names that record. */
	char *copy = g_strdup_printf("%s.copy", f.path);
	char *cmd = g_strdup_printf("cp '%s' '%s' && cp '%s.secret' '%s.secret'", f.path, copy, f.path, copy);
	g_assert_cmpint(system(cmd), ==, 0);
	sqlite3 *db = NULL;
	g_assert_cmpint(sqlite3_open(copy, &db), ==, SQLITE_OK);
	lfix_exec_ok(db, "DROP TRIGGER fee_item_no_update; UPDATE fee_item SET amount_fils = 100 WHERE n = 2");
	int64_t changed = query_int(db, "SELECT rec FROM fee_item WHERE n = 2 ORDER BY rec LIMIT 1");
	sqlite3_close(db);
	struct ledger_verdict v;
	g_assert_cmpint(ledger_verify_file(copy, &v, &err), ==, 0);
	g_assert_false(v.ok);
	g_assert_cmpint(v.first_bad, ==, changed);
	g_assert_nonnull(strstr(v.why, "fee_item"));
	g_free(cmd);
	cmd = g_strdup_printf("rm -f '%s' '%s.secret' '%s-wal' '%s-shm'", copy, copy, copy, copy);
	g_assert_cmpint(system(cmd), ==, 0);
	g_free(cmd);
	g_free(copy);

	/* The host acknowledged everything; the first basket is past a 90-day retention. */
	struct ledger_sync *ls = NULL;
	g_assert_cmpint(ledger_sync_open(f.path, true, &ls, &err), ==, 0);
	int64_t head = 0;
	{
		sqlite3 *d = NULL;
		g_assert_cmpint(sqlite3_open_v2(f.path, &d, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
		head = query_int(d, "SELECT rec FROM chain_head");
		sqlite3_close(d);
	}
	g_assert_cmpint(ledger_sync_ack(ls, head, NOW, NULL, &err), ==, 0);
	ledger_sync_close(ls);
	lfix_open(&f);
	struct ledger_prune_result pr;
	if (ledger_prune(f.l, NOW, 90, &pr, &err) != 0)
		g_error("prune: %s", err.msg);
	g_assert_cmpint(pr.upto, ==, first_end);
	g_assert_cmpint(pr.transactions, ==, 1);
	assert_holds(f.l);
	sqlite3 *kdb = ledger_db(f.l);
	g_assert_cmpint(query_int(kdb, "SELECT count(*) FROM fee_item"), ==, 1);
	g_assert_cmpint(query_int(kdb, "SELECT count(*) FROM voucher_payment"), ==, 0);
	g_assert_cmpint(query_int(kdb, "SELECT count(*) FROM voucher_issue"), ==, 0);
	g_assert_cmpint(query_int(kdb, "SELECT count(*) FROM voucher_intent"), ==, 0);
	g_assert_cmpint(query_int(kdb, "SELECT count(*) FROM voucher_void"), ==, 0);
	g_assert_cmpint(query_int(kdb, "SELECT count(*) FROM fee_result"), ==, 1);
	/* Outside a prune, still append-only. */
	refuse(kdb, "DELETE FROM fee_result", "only a prune removes it");
	lfix_close(&f);
	verify_ok(f.path);
	lfix_open(&f);
	lfix_free(&f);
}

/* ---- migration 11 from a v9 ledger holding top-ups ---- */

static void copy_rows(sqlite3 *to, const char *table, const char *where)
{
	char *sql = g_strdup_printf("INSERT INTO main.%s SELECT * FROM old.%s %s", table, table, where);
	lfix_exec_ok(to, sql);
	g_free(sql);
}

static char *snapshot(sqlite3 *db)
{
	return query_text(db, "SELECT group_concat(line, '|') FROM (SELECT t || ':' || rec || ':' || hex(mac) AS line FROM"
			      " (SELECT 'tx' AS t, rec, mac FROM tx UNION ALL SELECT 'tx_item', rec, mac FROM tx_item"
			      " UNION ALL SELECT 'payment', rec, mac FROM payment UNION ALL SELECT 'suspense', rec, mac"
			      " FROM suspense UNION ALL SELECT 'tx_end', rec, mac FROM tx_end) ORDER BY rec)");
}

static void test_migration_from_v9(void)
{
	/* Top-ups (one completed with a receipt, one recovered) and a stray note, written by this
	 * kiosk: the top-up records are byte for byte what a v9 kiosk writes. */
	struct lfix f;
	lfix_new(&f, "kiosk-basket", NOW);
	struct kio_error err = {0};
	credit_note(&f, 1000); /* suspense */
	struct ledger_tx tx;
	g_assert_cmpint(ledger_tx_open(f.l, NOW, LEDGER_TX_TOPUP, "ar", CARD, &tx, &err), ==, 0);
	credit_note(&f, 5000);
	credit_note(&f, 10000);
	g_assert_cmpint(ledger_tx_complete(f.l, tx.id, NOW, NULL, &err), ==, 0);
	g_assert_cmpint(ledger_receipt_printed(f.l, tx.id, NOW, &err), ==, 0);
	g_assert_cmpint(ledger_tx_open(f.l, NOW, LEDGER_TX_TOPUP, "en", CARD, &tx, &err), ==, 0);
	credit_note(&f, 20000);
	struct ledger_tx *list = NULL;
	size_t n = 0;
	g_assert_cmpint(ledger_tx_recover(f.l, NOW, &list, &n, &err), ==, 0);
	free(list);
	g_assert_cmpint(ledger_tx_open(f.l, NOW, LEDGER_TX_TOPUP, "en", CARD, &tx, &err), ==, 0); /* left open */
	lfix_close(&f);

	/* The same rows in a database built as version 9 left it, in chain order. */
	char *old_path = f.path;
	f.path = lfix_temp_db("kiosk-basket-v9");
	g_assert_cmpint(ledger_test_build_at(f.path, 9, &err), ==, 0);
	sqlite3 *db = NULL;
	g_assert_cmpint(sqlite3_open(f.path, &db), ==, SQLITE_OK);
	g_assert_cmpint(query_int(db, "PRAGMA user_version"), ==, 9);
	char *attach = g_strdup_printf("ATTACH '%s' AS old", old_path);
	lfix_exec_ok(db, attach);
	g_free(attach);
	copy_rows(db, "note_journey", "");
	copy_rows(db, "note_step", "");
	sqlite3_stmt *st = NULL;
	g_assert_cmpint(sqlite3_prepare_v2(db,
					   "SELECT rec, 'tx' FROM old.tx UNION ALL SELECT rec, 'tx_item' FROM old.tx_item"
					   " UNION ALL SELECT rec, 'payment' FROM old.payment UNION ALL SELECT rec, 'suspense'"
					   " FROM old.suspense UNION ALL SELECT rec, 'tx_end' FROM old.tx_end ORDER BY 1",
					   -1, &st, NULL),
			==, SQLITE_OK);
	GPtrArray *order = g_ptr_array_new_with_free_func(g_free);
	while (sqlite3_step(st) == SQLITE_ROW)
		g_ptr_array_add(order, g_strdup_printf("%s|WHERE rec = %lld", (const char *)sqlite3_column_text(st, 1),
						       (long long)sqlite3_column_int64(st, 0)));
	sqlite3_finalize(st);
	g_assert_cmpuint(order->len, >, 8);
	for (guint k = 0; k < order->len; k++) {
		char **parts = g_strsplit(order->pdata[k], "|", 2);
		copy_rows(db, parts[0], parts[1]);
		g_strfreev(parts);
	}
	g_ptr_array_free(order, TRUE);
	copy_rows(db, "outbox", "");
	/* By name: the receipt table has grown columns since version 9 (migration 13). */
	lfix_exec_ok(db, "INSERT INTO main.receipt(tx_rec, sent_s, sends, printed_s, failed_s)"
			 " SELECT tx_rec, sent_s, sends, printed_s, failed_s FROM old.receipt");
	lfix_exec_ok(db, "INSERT INTO main.chain_head SELECT * FROM old.chain_head");
	lfix_exec_ok(db, "DETACH old");
	char *before = snapshot(db);
	int64_t tx_rows = query_int(db, "SELECT count(*) FROM tx");
	g_assert_cmpint(tx_rows, ==, 3);
	sqlite3_close(db);
	char *cmd = g_strdup_printf("cp '%s.secret' '%s.secret' && chmod 600 '%s.secret'", old_path, f.path, f.path);
	g_assert_cmpint(system(cmd), ==, 0);
	g_free(cmd);
	lfix_remove_db(old_path);
	verify_ok(f.path); /* the v9 chain holds as copied */

	/* The kiosk starts: migration 11, every row and MAC kept, the rules in force. */
	lfix_open(&f);
	sqlite3 *kdb = ledger_db(f.l);
	g_assert_cmpint(ledger_schema_version(f.l), ==, ledger_schema_latest());
	char *after = snapshot(kdb);
	g_assert_cmpstr(after, ==, before);
	g_free(before);
	g_free(after);
	assert_holds(f.l);
	g_assert_cmpint(query_int(kdb, "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'tx_v10%'"), ==, 0);
	g_assert_cmpint(query_int(kdb, "SELECT count(*) FROM pragma_foreign_key_check"), ==, 0);
	refuse(kdb, "UPDATE tx SET lang = 'en'", "append-only");
	refuse(kdb, "DELETE FROM tx", "append-only");
	refuse(kdb, "INSERT INTO tx(rec, uuid, seq, kind, lang, opened_s, mac) VALUES (99, "
		    "'00000000-0000-4000-8000-000000000000', 4, 'fees', 'en', 1, zeroblob(32))",
	       "already open");
	/* The open top-up is recovered, then a basket opens on the migrated ledger. */
	g_assert_cmpint(ledger_tx_recover(f.l, NOW, &list, &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpint(list[0].state, ==, LEDGER_TX_CANCELLED);
	free(list);
	refuse(kdb, "INSERT INTO tx(rec, uuid, seq, kind, lang, opened_s, mac) VALUES (99, "
		    "'00000000-0000-4000-8000-000000000000', 9, 'fees', 'en', 1, zeroblob(32))",
	       "gapless");
	refuse(kdb, "INSERT INTO tx(rec, uuid, seq, kind, lang, opened_s, mac) VALUES (99, "
		    "'00000000-0000-4000-8000-000000000000', 4, 'card', 'en', 1, zeroblob(32))",
	       "CHECK constraint failed");
	tx = open_two(&f);
	g_assert_cmpint(tx.seq, ==, 4);
	credit_note(&f, 100000);
	result(&f, tx.id, 1, LEDGER_LINE_PAID, "P-1");
	result(&f, tx.id, 2, LEDGER_LINE_PAID, "P-2");
	close_ok(&f, tx.id, LEDGER_REST_CARD, CARD);
	lfix_close(&f);
	verify_ok(f.path);
	lfix_open(&f);
	lfix_free(&f);
}

/* ---- SIGKILL at every kill point of basket journeys ---- */

static void child_note(struct cash_journal *j, int64_t value)
{
	struct kio_error err = {0};
	struct cash_note n = {.device = DEV, .value_fils = value, .state = CASH_NOTE_ESCROW};
	LFIX_CHILD_CHECK(cash_journal_begin(j, &n, &err) == 0);
	LFIX_CHILD_CHECK(cash_journal_advance(j, n.id, CASH_NOTE_CREDITED, "credit", &err) == 0);
	LFIX_CHILD_CHECK(cash_journal_advance(j, n.id, CASH_NOTE_STACKED, "stacked", &err) == 0);
}

/* A kiosk's baskets: one paid with a voucher and cash, a line refused, the rest to a voucher;
 * one overpaid to a card; one cancelled; one left open paid in full (recovery). */
static void child_steps(const char *path, struct lfix_killer *k)
{
	struct kio_error err = {0};
	struct ledger *l = NULL;
	if (ledger_open(path, &l, &err) != 0)
		_exit(91);
	ledger_set_checkpoint(l, lfix_on_point, k);
	struct core_clock *clock = core_clock_new(true, NOW);
	struct ledger_notes *notes = ledger_notes_new(l, clock);
	struct cash_journal *j = ledger_notes_journal(notes);
	struct ledger_fee_line lines[] = {line("police", "police-fines", "10012345", "F-1", FINE),
					  line("dewa", "dewa-bill", "2001234567", "", BILL)};
	char code[17];
	voucher_code("912345678901234", code);
	struct ledger_tx tx;
	LFIX_CHILD_CHECK(ledger_basket_open(l, NOW, "en", lines, 2, &tx, &err) == 0);
	char rid[37];
	LFIX_CHILD_CHECK(ledger_basket_voucher_intent(l, tx.id, code, 20000, NOW, rid, &err) == 0);
	LFIX_CHILD_CHECK(ledger_basket_voucher_paid(l, tx.id, code, rid, 20000, NOW, &err) == 0);
	char code2[17], rid2[37];
	voucher_code("987654321098765", code2);
	LFIX_CHILD_CHECK(ledger_basket_voucher_intent(l, tx.id, code2, 3000, NOW, rid2, &err) == 0); /* never answered */
	child_note(j, 50000);
	child_note(j, 20000);
	LFIX_CHILD_CHECK(ledger_basket_line_result(l, tx.id, 1, LEDGER_LINE_PAID, "P-1", NOW, &err) == 0);
	LFIX_CHILD_CHECK(ledger_basket_line_result(l, tx.id, 2, LEDGER_LINE_REFUSED, NULL, NOW, &err) == 0);
	LFIX_CHILD_CHECK(ledger_basket_close(l, tx.id, NOW, LEDGER_REST_VOUCHER, NULL, 30, NULL, &err) == 0);
	LFIX_CHILD_CHECK(ledger_basket_open(l, NOW, "ar", lines + 1, 1, &tx, &err) == 0);
	child_note(j, 50000);
	LFIX_CHILD_CHECK(ledger_basket_line_result(l, tx.id, 1, LEDGER_LINE_PAID, "P-3", NOW, &err) == 0);
	LFIX_CHILD_CHECK(ledger_basket_close(l, tx.id, NOW, LEDGER_REST_CARD, CARD, 30, NULL, &err) == 0);
	LFIX_CHILD_CHECK(ledger_basket_open(l, NOW, "en", lines, 2, &tx, &err) == 0);
	LFIX_CHILD_CHECK(ledger_basket_close(l, tx.id, NOW, LEDGER_REST_NONE, NULL, 30, NULL, &err) == 0);
	LFIX_CHILD_CHECK(ledger_basket_open(l, NOW, "en", lines, 2, &tx, &err) == 0);
	child_note(j, 100000);
	LFIX_CHILD_CHECK(ledger_basket_line_result(l, tx.id, 1, LEDGER_LINE_PAID, "P-4", NOW, &err) == 0);
	LFIX_CHILD_CHECK(ledger_basket_voucher_intent(l, tx.id, code2, 3000, NOW, rid2, &err) == 0); /* recovery voids it */
	struct ledger_tx *list = NULL;
	size_t n = 0;
	LFIX_CHILD_CHECK(ledger_tx_recover(l, NOW, &list, &n, &err) == 0 && n == 1);
	free(list);
	_exit(0);
}

/* After a kill: the ledger opens and holds; recovery ends what is open by invariant 9; every
 * fees transaction balances; the chain verifies. */
static void check_after_kill(const char *path, const char *point)
{
	struct kio_error err = {0};
	struct ledger *l = NULL;
	if (ledger_open(path, &l, &err) != 0)
		g_error("after %s: reopen: %s", point, err.msg);
	if (ledger_check(l, &err) != 0)
		g_error("after %s: %s", point, err.msg);
	struct ledger_tx *list = NULL;
	size_t n = 0;
	if (ledger_tx_recover(l, NOW + 1, &list, &n, &err) != 0)
		g_error("after %s: recovery: %s", point, err.msg);
	free(list);
	if (ledger_check(l, &err) != 0)
		g_error("after %s and recovery: %s", point, err.msg);
	sqlite3 *db = ledger_db(l);
	g_assert_cmpint(query_int(db, "SELECT count(*) FROM tx WHERE rec NOT IN (SELECT tx_rec FROM tx_end)"), ==, 0);
	g_assert_cmpint(query_int(db, "SELECT count(*) FROM fee_item i WHERE NOT EXISTS (SELECT 1 FROM fee_result r"
				      " WHERE r.tx_rec = i.tx_rec AND r.n = i.n)"),
			==, 0);
	/* Money in = money out, over the whole ledger. */
	g_assert_cmpint(query_int(db, "SELECT (SELECT coalesce(sum(value_fils), 0) FROM payment) +"
				      " (SELECT coalesce(sum(value_fils), 0) FROM voucher_payment) -"
				      " (SELECT coalesce(sum(i.amount_fils), 0) FROM fee_item i JOIN fee_result r"
				      "  ON r.tx_rec = i.tx_rec AND r.n = i.n WHERE r.status IN ('paid', 'offline', 'unconfirmed'))"
				      " - (SELECT coalesce(sum(amount_fils), 0) FROM tx_item WHERE amount_fils IS NOT NULL)"
				      " - (SELECT coalesce(sum(value_fils), 0) FROM voucher_issue)"),
			==, 0);
	/* Invariant 15: once ended, every redemption intent is booked or void (ledger_check says
	 * so too; counted here so the test does not lean on the code it tests). */
	g_assert_cmpint(query_int(db, "SELECT count(*) FROM voucher_intent i WHERE (EXISTS (SELECT 1 FROM voucher_payment"
				      " p WHERE p.redemption_id = i.redemption_id) + EXISTS (SELECT 1 FROM voucher_void v"
				      " WHERE v.redemption_id = i.redemption_id)) != 1"),
			==, 0);
	/* The line answered before the open basket's crash keeps its answer. */
	if (strcmp(point, "the end") == 0)
		g_assert_cmpint(query_int(db, "SELECT count(*) FROM fee_result WHERE status = 'unconfirmed'"), ==, 1);
	ledger_close(l);
	verify_ok(path);
}

static void test_sigkill_at_every_point(void)
{
	char *path = lfix_temp_db("kiosk-basket");
	char **points = lfix_census(path, child_steps);
	check_after_kill(path, "the end");
	lfix_remove_db(path);
	guint n_points = g_strv_length(points);
	static const char *const named[] = {"basket-open-written", "basket-opened", "voucher-intent-written",
					    "voucher-intent", "voucher-paid-written",
					    "voucher-paid", "line-result-written", "line-result",
					    "basket-end-written", "basket-ended", "recover-written", "recovered"};
	for (size_t k = 0; k < G_N_ELEMENTS(named); k++)
		if (!g_strv_contains((const char *const *)points, named[k]))
			g_error("kill point %s never reached", named[k]);
	for (guint i = 1; i <= n_points; i++) {
		path = lfix_temp_db("kiosk-basket");
		int status = lfix_run_child(path, (int)i, -1, child_steps);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
			g_error("kill %u (%s): child did not die by SIGKILL (status %d)", i, points[i - 1], status);
		check_after_kill(path, points[i - 1]);
		lfix_remove_db(path);
	}
	g_test_message("SIGKILL at %u kill points of basket journeys: invariants and chain held after each", n_points);
	g_strfreev(points);
}

/* `kiosk sync status` names the oldest unsynced record's time for the basket's records too
 * (a line: its transaction's open; the others their own at_s), not 0. */
static void test_sync_status_times(void)
{
	struct lfix f;
	lfix_new(&f, "kiosk-basket", NOW);
	struct kio_error err = {0};
	struct ledger_tx tx = open_two(&f);
	char code[17];
	voucher_code("912345678901234", code);
	voucher_in(&f, tx.id, code, 90000, NOW + 7);
	g_assert_cmpint(ledger_basket_line_result(f.l, tx.id, 1, LEDGER_LINE_PAID, "P-1", NOW + 8, &err), ==, 0);
	g_assert_cmpint(ledger_basket_close(f.l, tx.id, NOW + 9, LEDGER_REST_VOUCHER, NULL, 30, NULL, &err), ==, 0);
	sqlite3 *db = ledger_db(f.l);
	const struct {
		const char *rec_sql;
		int64_t want_s;
	} cases[] = {
		{"SELECT rec FROM fee_item WHERE n = 1", NOW},
		{"SELECT rec FROM voucher_payment", NOW + 7},
		{"SELECT rec FROM fee_result WHERE n = 1", NOW + 8},
		{"SELECT rec FROM voucher_issue", NOW + 9},
	};
	for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
		int64_t rec = query_int(db, cases[k].rec_sql);
		struct ledger_sync *ls = NULL;
		g_assert_cmpint(ledger_sync_open(f.path, true, &ls, &err), ==, 0);
		g_assert_cmpint(ledger_sync_ack(ls, rec - 1, NOW, NULL, &err), ==, 0);
		struct ledger_sync_status st;
		g_assert_cmpint(ledger_sync_status_read(ls, &st, &err), ==, 0);
		g_assert_cmpint(st.oldest_unsynced_rec, ==, rec);
		g_assert_cmpint(st.oldest_unsynced_s, ==, cases[k].want_s);
		ledger_sync_close(ls);
	}
	lfix_free(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/basket/paid-exactly", test_paid_exactly);
	g_test_add_func("/basket/overpaid-to-card", test_overpaid_to_card);
	g_test_add_func("/basket/overpaid-to-voucher", test_overpaid_to_voucher);
	g_test_add_func("/basket/refused-line-to-voucher", test_refused_line_to_voucher);
	g_test_add_func("/basket/underpaid-cancel", test_underpaid_cancel);
	g_test_add_func("/basket/nothing-paid-cancelled", test_nothing_paid_cancelled);
	g_test_add_func("/basket/voucher-payments", test_voucher_payments);
	g_test_add_func("/basket/voucher-intents", test_voucher_intents);
	g_test_add_func("/basket/intent-triggers", test_intent_triggers);
	g_test_add_func("/basket/step-rules", test_step_rules);
	g_test_add_func("/basket/recovery", test_recovery);
	g_test_add_func("/basket/triggers-refuse", test_triggers_refuse);
	g_test_add_func("/basket/check-sees-tampering", test_check_sees_tampering);
	g_test_add_func("/basket/export-verify-prune", test_export_verify_prune);
	g_test_add_func("/basket/migration-from-v9", test_migration_from_v9);
	g_test_add_func("/basket/sync-status-times", test_sync_status_times);
	g_test_add_func("/basket/sigkill-every-point", test_sigkill_at_every_point);
	return g_test_run();
}
