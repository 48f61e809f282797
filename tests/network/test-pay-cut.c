/*
 * A basket's payment (POST /v1/payments, sync_pay_ask) through the sync worker's real
 * transport to the reference host (netfix.h), with the answer cut after the host committed
 * (issue 13, Tests: "payment request cut after the host commits"):
 *   retried  the sync retries under the same tx_uuid and gets the first answer: the same host
 *            references, one payment and its lines at the host, nothing paid twice; the kiosk
 *            books the lines paid and its records match the host's (no alarm).
 *   crashed  the kiosk dies while the answer is lost (the app gave up, then the power went):
 *            start-up recovery leaves the lines unconfirmed and the rest on a voucher; the
 *            host settles the end from the records against the payment it already made: no
 *            second payment, nothing owed, no alarm.
 * The ledger books lines by the kiosk's catalogue ids, the ask uses the host's path, as the
 * app does (kiosk/screens/fees.c); the host maps one to the other (host/records.c H11).
 */
#include <glib.h>
#include <string.h>

#include "kiosk/ledger/basket.h"
#include "kiosk/ledger/tx.h"
#include "kiosk/sync/sync.h"
#include "netfix.h"

#define NOW 1798761600

static struct netfix fx;

static void credit_note(struct nsync *ks, int64_t value_fils)
{
	struct kio_error err = {0};
	struct cash_note note = {.device = "essp:0001", .channel = 4, .value_fils = value_fils, .state = CASH_NOTE_ESCROW,
				 .counters_known = true};
	struct cash_journal *j = ledger_notes_journal(ks->k.k.notes);
	g_assert_cmpint(cash_journal_begin(j, &note, &err), ==, 0);
	g_assert_cmpint(cash_journal_advance(j, note.id, CASH_NOTE_ACCEPTED, "accept", &err), ==, 0);
	g_assert_cmpint(cash_journal_advance(j, note.id, CASH_NOTE_CREDITED, "credit", &err), ==, 0);
	g_assert_cmpint(cash_journal_advance(j, note.id, CASH_NOTE_STACKED, "stacked", &err), ==, 0);
}

/* A basket of two fixed fees (AED 670.00) paid with AED 700.00 in cash; the payment asked with
 * the host faulting cut-after-commit; returns once the host committed it, the proxy down so
 * the retries fail meanwhile. */
static uint32_t pay_cut(struct nsync *ks, struct ledger_tx *tx)
{
	struct ledger_fee_line lines[2] = {{.entity = "rta", .service = "vehicle-renewal", .reference = "50012345",
					    .amount_fils = 45000},
					   {.entity = "police", .service = "police-good-conduct", .amount_fils = 22000}};
	struct kio_error err = {0};
	g_assert_cmpint(ledger_basket_open(ks->k.k.ledger, NOW, "en", lines, 2, tx, &err), ==, 0);
	credit_note(ks, 50000);
	credit_note(ks, 20000);
	const struct sync_pay_line ask[2] = {{.entity = "rta", .service = "vehicle-renewal", .reference = "50012345",
					      .amount_fils = 45000},
					     {.entity = "police", .service = "good-conduct", .amount_fils = 22000}};
	netfix_host_fault(&fx, "cut-after-commit");
	uint32_t id = sync_pay_ask(ks->s, tx->uuid, ask, 2, &err);
	g_assert_cmpuint(id, !=, 0);
	netfix_wait_cut_commit(&fx, "SELECT count(*) FROM fee_payment WHERE tx_uuid = '%s'", tx->uuid);
	return id;
}

static void assert_paid_once(const char *uuid)
{
	g_assert_cmpint(netfix_host_intf(&fx, "SELECT count(*) FROM fee_payment WHERE tx_uuid = '%s'", uuid), ==, 1);
	g_assert_cmpint(netfix_host_intf(&fx, "SELECT count(*) FROM fee_payment_line WHERE tx_uuid = '%s' AND status = 'paid'", uuid),
			==, 2);
	g_assert_cmpint(netfix_host_intf(&fx, "SELECT count(*) FROM fee_payment_line WHERE tx_uuid = '%s'", uuid), ==, 2);
	g_assert_cmpint(hostfix_int(fx.db, "SELECT count(*) FROM fee_owed"), ==, 0);
}

static void test_retried(void)
{
	struct nsync ks;
	netfix_sync_new(&fx, &ks, "K-PAY-R");
	struct ledger_tx tx;
	uint32_t id = pay_cut(&ks, &tx);
	struct sync_pay_result r;
	g_usleep(300000);
	g_assert_false(sync_pay_poll(ks.s, &r)); /* still retrying, same tx_uuid */
	netfix_clear(&fx);
	TEST_WAIT_FOR(&ks.w, sync_pay_poll(ks.s, &r));
	g_assert_cmpuint(r.ask, ==, id);
	g_assert_cmpint(r.result, ==, SYNC_ASK_ANSWERED);
	g_assert_cmpint(r.answer.kind, ==, SYNC_PAY_ANSWERED);
	g_assert_cmpint(r.attempts, >=, 2);
	g_assert_cmpuint(r.answer.n, ==, 2);
	struct kio_error err = {0};
	for (int n = 1; n <= 2; n++) {
		const struct sync_pay_line_answer *a = &r.answer.lines[n - 1];
		g_assert_cmpint(a->status, ==, SYNC_LINE_PAID);
		/* The first answer's reference: the one the host stored when it committed. */
		g_assert_cmpint(netfix_host_intf(&fx,
						 "SELECT count(*) FROM fee_payment_line WHERE tx_uuid = '%s' AND n = %d"
						 " AND host_ref = '%s'",
						 tx.uuid, n, a->host_ref),
				==, 1);
		g_assert_cmpint(ledger_basket_line_result(ks.k.k.ledger, tx.id, n, LEDGER_LINE_PAID, a->host_ref, NOW, &err),
				==, 0);
	}
	assert_paid_once(tx.uuid);
	struct ledger_basket_end end;
	g_assert_cmpint(ledger_basket_close(ks.k.k.ledger, tx.id, NOW, LEDGER_REST_VOUCHER, NULL, 30, &end, &err), ==, 0);
	g_assert_cmpint(end.rest_fils, ==, 3000);
	sync_free(ks.s);
	ks.s = NULL;
	netfix_drain_new(&fx, &ks.k);
	netfix_drain_all(&ks.k);
	netfix_check(&fx, &ks.k); /* the records equal the host's, no alarm: each paid line matched */
	assert_paid_once(tx.uuid);
	netfix_sync_free(&ks);
}

static void test_crashed(void)
{
	struct nsync ks;
	netfix_sync_new(&fx, &ks, "K-PAY-C");
	struct ledger_tx tx;
	uint32_t id = pay_cut(&ks, &tx);
	/* The app gives up, then the power goes; the restart: paid ≥ due, so the lines are left to
	 * the host, the rest to a voucher. */
	g_assert_cmpint(netfix_sync_power_cut(&fx, &ks, id, NOW + 60), ==, LEDGER_TX_COMPLETED);
	struct kio_error err = {0};
	struct ledger_basket_end end;
	g_assert_cmpint(ledger_basket_end_get(ks.k.k.ledger, tx.id, &end, &err), ==, 0);
	g_assert_cmpint(end.lines_fils, ==, 67000);
	g_assert_cmpint(end.rest_to, ==, LEDGER_REST_VOUCHER);
	g_assert_cmpint(end.rest_fils, ==, 3000);
	/* The drain carries the end; the host settles it against the payment it already made. */
	netfix_drain_new(&fx, &ks.k);
	netfix_drain_all(&ks.k);
	netfix_check(&fx, &ks.k);
	assert_paid_once(tx.uuid);
	g_assert_cmpint(netfix_host_intf(&fx, "SELECT count(*) FROM fee_payment WHERE tx_uuid = '%s' AND source = 'online'", tx.uuid),
			==, 1);
	g_assert_cmpint(netfix_host_intf(&fx, "SELECT count(*) FROM record r JOIN record t ON t.kiosk_id = r.kiosk_id AND t.rec ="
				   " r.tx_rec WHERE t.tx_uuid = '%s' AND r.type = 'fee_result'"
				   " AND r.body->>'status' = 'unconfirmed'",
				   tx.uuid),
			==, 2);
	g_assert_cmpint(netfix_host_intf(&fx, "SELECT remaining_fils FROM voucher WHERE code = '%s'", end.voucher), ==,
			3000);
	netfix_sync_free(&ks);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/network/pay-cut/retried", test_retried);
	g_test_add_func("/network/pay-cut/crashed", test_crashed);
	return netfix_run(&fx);
}
