/*
 * A voucher paid into a basket (kiosk/flows/vpay.h) through the sync worker's real transport
 * to the reference host (netfix.h), with the redeem's answer cut after the host committed:
 *   retried  the sync retries under the same redemption id, gets the first answer, the
 *            machine books it; the records match the host's redemption (no alarm).
 *   crashed  the kiosk dies while the answer is lost (the app gave up, then the power went):
 *            start-up recovery voids the intent, the drain carries the void, the host gives
 *            the voucher its value back, and the redeem retried late is refused: nothing lost,
 *            nothing spent twice.
 */
#include <glib.h>
#include <string.h>

#include "kiosk/flows/vpay.h"
#include "kiosk/ledger/basket.h"
#include "kiosk/ledger/tx.h"
#include "kiosk/sync/sync.h"
#include "netfix.h"

#define NOW 1798761600
#define V50 "9135724680246804"     /* demo: 50.00 AED */
#define V200 "9260482601593711"    /* demo: 200.00 AED */

static struct netfix fx;

static int64_t host_remaining(const char *code)
{
	return netfix_host_intf(&fx, "SELECT remaining_fils FROM voucher WHERE code = '%s'", code);
}

#define REDEMPTIONS "SELECT count(*) FROM voucher_redemption WHERE redemption_id = '%s'"

static void step(struct vpay *v, enum vpay_input_kind kind)
{
	struct vpay_input in = {.kind = kind};
	g_assert_cmpint(vpay_step(v, &in, NOW), ==, 0);
}

/* The machine to REDEEMING for code, the host asked to validate through the worker; returns
 * the redeem ask's id, sent with the host faulting cut-after-commit. */
static uint32_t to_redeem_cut(struct nsync *ks, struct vpay *v, const char *code, const char *tx_uuid,
			      struct vpay_view *view)
{
	for (const char *p = code; *p; p++) {
		struct vpay_input in = {.kind = VPAY_IN_KEY, .digit = *p};
		g_assert_cmpint(vpay_step(v, &in, NOW), ==, 0);
	}
	step(v, VPAY_IN_REDEEM);
	vpay_view(v, view);
	g_assert_cmpint(view->ask, ==, VPAY_ASK_VALIDATE);
	struct kio_error err = {0};
	uint32_t id = sync_voucher_ask(ks->s, view->code, &err);
	g_assert_cmpuint(id, !=, 0);
	vpay_ask_sent(v);
	struct sync_voucher_result valid;
	TEST_WAIT_FOR(&ks->w, sync_voucher_poll(ks->s, &valid));
	struct vpay_input in = {.kind = VPAY_IN_VALID, .valid = &valid};
	g_assert_cmpint(vpay_step(v, &in, NOW), ==, 0);
	step(v, VPAY_IN_REDEEM); /* the intent is committed here */
	vpay_view(v, view);
	g_assert_cmpint(view->ask, ==, VPAY_ASK_REDEEM);
	netfix_host_fault(&fx, "cut-after-commit");
	id = sync_voucher_redeem(ks->s, view->code, view->redemption_id, tx_uuid, view->amount_fils, &err);
	g_assert_cmpuint(id, !=, 0);
	vpay_ask_sent(v);
	/* The host commits; its answer is lost; the proxy down fails the retries meanwhile. */
	netfix_wait_cut_commit(&fx, REDEMPTIONS, view->redemption_id);
	return id;
}

static struct ledger_tx open_basket(struct nsync *ks, int64_t fils)
{
	struct ledger_fee_line line = {.entity = "police", .service = "good-conduct", .amount_fils = fils};
	/* Not paid at the host in these cases: the voucher is what is under test. */
	struct ledger_tx tx;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_basket_open(ks->k.k.ledger, NOW, "en", &line, 1, &tx, &err), ==, 0);
	return tx;
}

static void test_retried(void)
{
	struct nsync ks;
	netfix_sync_new(&fx, &ks, "K-VPAY-R");
	struct ledger_tx tx = open_basket(&ks, 4000);
	struct vpay *v = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(vpay_new(ks.k.k.ledger, tx.id, 4000, &v, &err), ==, 0);
	struct vpay_view view;
	uint32_t id = to_redeem_cut(&ks, v, V50, tx.uuid, &view);
	struct sync_redeem_result r;
	g_usleep(300000);
	g_assert_false(sync_redeem_poll(ks.s, &r)); /* still retrying, same key */
	netfix_clear(&fx);
	TEST_WAIT_FOR(&ks.w, sync_redeem_poll(ks.s, &r));
	g_assert_cmpuint(r.ask, ==, id);
	struct vpay_input in = {.kind = VPAY_IN_REDEEMED, .redeem = &r};
	g_assert_cmpint(vpay_step(v, &in, NOW), ==, 0);
	vpay_view(v, &view);
	g_assert_cmpint(view.outcome, ==, VPAY_PAID);
	g_assert_cmpint(view.paid_fils, ==, 5000);
	vpay_free(v);
	g_assert_cmpint(host_remaining(V50), ==, 0);
	/* The customer leaves before the line is paid: the voucher's whole value is their rest, a
	 * new voucher (no entity is paid, so the host's records hold only the voucher side). */
	struct ledger_basket_end end;
	g_assert_cmpint(ledger_basket_close(ks.k.k.ledger, tx.id, NOW, LEDGER_REST_VOUCHER, NULL, 30, &end, &err), ==, 0);
	g_assert_cmpint(end.rest_fils, ==, 5000);
	sync_free(ks.s);
	ks.s = NULL;
	netfix_drain_new(&fx, &ks.k);
	netfix_drain_all(&ks.k);
	netfix_check(&fx, &ks.k);
	g_assert_cmpint(host_remaining(V50), ==, 0);
	g_assert_cmpint(host_remaining(end.voucher), ==, 5000);
	g_assert_cmpint(hostfix_int(fx.db, "SELECT count(*) FROM voucher_void"), ==, 0);
	netfix_sync_free(&ks);
}

static void test_crashed(void)
{
	struct nsync ks;
	netfix_sync_new(&fx, &ks, "K-VPAY-C");
	int64_t before = host_remaining(V200);
	g_assert_cmpint(before, >, 0);
	struct ledger_tx tx = open_basket(&ks, 30000);
	struct vpay *v = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(vpay_new(ks.k.k.ledger, tx.id, 30000, &v, &err), ==, 0);
	struct vpay_view view;
	uint32_t id = to_redeem_cut(&ks, v, V200, tx.uuid, &view);
	char rid[37];
	snprintf(rid, sizeof(rid), "%s", view.redemption_id);
	g_assert_cmpint(host_remaining(V200), ==, 0); /* the host spent it; the kiosk has not booked it */
	/* The app gives up, then the power goes: nothing more of this kiosk runs. The restart:
	 * recovery ends the basket (nothing paid: cancelled) and voids the intent. */
	vpay_free(v);
	g_assert_cmpint(netfix_sync_power_cut(&fx, &ks, id, NOW + 60), ==, LEDGER_TX_CANCELLED);
	size_t n = 0;
	struct ledger_voucher_intent in[LEDGER_BASKET_INTENTS_MAX];
	g_assert_cmpint(ledger_basket_intents(ks.k.k.ledger, tx.id, in, G_N_ELEMENTS(in), &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpint(in[0].state, ==, LEDGER_INTENT_VOID);
	/* The drain carries the void; the host gives the value back. */
	netfix_drain_new(&fx, &ks.k);
	netfix_drain_all(&ks.k);
	netfix_check(&fx, &ks.k);
	g_assert_cmpint(host_remaining(V200), ==, before);
	/* The redeem, retried late under its id (a delayed request, a confused app): refused. */
	netfix_sync_up(&fx, &ks);
	id = sync_voucher_redeem(ks.s, V200, rid, tx.uuid, before, &err);
	g_assert_cmpuint(id, !=, 0);
	struct sync_redeem_result r;
	TEST_WAIT_FOR(&ks.w, sync_redeem_poll(ks.s, &r));
	g_assert_cmpint(r.result, ==, SYNC_ASK_ANSWERED);
	g_assert_cmpint(r.answer.kind, ==, SYNC_VOUCHER_SPENT);
	g_assert_cmpint(host_remaining(V200), ==, before);
	g_assert_cmpint(netfix_host_intf(&fx, REDEMPTIONS, rid), ==, 1);
	netfix_sync_free(&ks);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/network/voucher-pay/redeem-cut-retried", test_retried);
	g_test_add_func("/network/voucher-pay/redeem-cut-crashed", test_crashed);
	return netfix_run(&fx);
}
