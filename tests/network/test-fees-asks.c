/*
 * The kiosk's fees asks (kiosk/sync/sync.h: fee inquiry, voucher validity and redemption,
 * basket payment) through the sync worker's real libcurl transport to the reference host
 * (kiosk-host serve over mutual TLS, demo data, netfix.h). Beyond the answers of each kind:
 * a redemption and a payment whose first answer is lost after the host committed (the host's
 * cut-after-commit fault, then the proxy down) are retried with their key and get the first
 * answer again, the voucher spent once and each bill paid once; an answered bill is no longer
 * due.
 */
#include <glib.h>
#include <string.h>

#include "kiosk/sync/sync.h"
#include "netfix.h"

static struct netfix fx;

static void fee(struct nsync *ks, const char *e, const char *s, const char *ref, struct sync_fee_result *r)
{
	struct kio_error err = {0};
	uint32_t id = sync_fee_ask(ks->s, e, s, ref, &err);
	g_assert_cmpuint(id, !=, 0);
	TEST_WAIT_FOR(&ks->w, sync_fee_poll(ks->s, r));
	g_assert_cmpuint(r->ask, ==, id);
}

static void test_fee_inquiry(void)
{
	struct nsync ks;
	netfix_sync_new(&fx, &ks, "K-FEES");
	struct sync_fee_result r;
	fee(&ks, "dewa", "bill", "2000123456", &r);
	g_assert_cmpint(r.result, ==, SYNC_FEE_OK);
	g_assert_cmpint(r.kind, ==, SYNC_FEE_KIND_FIXED);
	g_assert_cmpint(r.due_fils, ==, 24550);
	g_assert_cmpstr(r.payee, ==, "M*** A*** K***");
	fee(&ks, "police", "fines", "10012345", &r);
	g_assert_cmpint(r.result, ==, SYNC_FEE_OK);
	g_assert_cmpint(r.kind, ==, SYNC_FEE_KIND_ITEMS);
	g_assert_cmpuint(r.n_items, ==, 2);
	g_assert_cmpstr(r.items[0].id, ==, "F-1");
	g_assert_cmpint(r.items[0].amount_fils + r.items[1].amount_fils, ==, 100000);
	fee(&ks, "salik", "topup", "40012345", &r);
	g_assert_cmpint(r.result, ==, SYNC_FEE_OK);
	g_assert_cmpint(r.kind, ==, SYNC_FEE_KIND_OPEN);
	g_assert_cmpint(r.min_fils, ==, 5000);
	g_assert_cmpint(r.step_fils, ==, 5000);
	g_assert_cmpint(r.max_fils, ==, 100000);
	fee(&ks, "dewa", "bill", "2000999999", &r);
	g_assert_cmpint(r.result, ==, SYNC_FEE_NOT_FOUND);
	g_assert_cmpstr(r.code, ==, "reference_unknown");
	fee(&ks, "water", "bill", "1", &r);
	g_assert_cmpint(r.result, ==, SYNC_FEE_NOT_FOUND);
	g_assert_cmpstr(r.code, ==, "entity_unknown");
	/* The host down: the inquiry says so, quickly, and asks nothing more. */
	netfix_proxy(&fx, "down");
	fee(&ks, "dewa", "bill", "2000123456", &r);
	g_assert_cmpint(r.result, ==, SYNC_FEE_UNREACHABLE);
	netfix_clear(&fx);
	netfix_sync_free(&ks);
}

static void voucher(struct nsync *ks, const char *code, struct sync_voucher_result *r)
{
	struct kio_error err = {0};
	uint32_t id = sync_voucher_ask(ks->s, code, &err);
	g_assert_cmpuint(id, !=, 0);
	TEST_WAIT_FOR(&ks->w, sync_voucher_poll(ks->s, r));
	g_assert_cmpuint(r->ask, ==, id);
	g_assert_cmpint(r->result, ==, SYNC_ASK_ANSWERED);
}

static void test_vouchers(void)
{
	struct nsync ks;
	netfix_sync_new(&fx, &ks, "K-VOUCHERS");
	struct sync_voucher_result v;
	voucher(&ks, "9135724680246804", &v);
	g_assert_cmpint(v.answer.kind, ==, SYNC_VOUCHER_VALID);
	g_assert_cmpint(v.answer.value_fils, ==, 5000);
	g_assert_cmpstr(v.answer.expires, ==, "2099-12-31");
	voucher(&ks, "9382716059483720", &v);
	g_assert_cmpint(v.answer.kind, ==, SYNC_VOUCHER_SPENT);
	voucher(&ks, "9473625180937462", &v);
	g_assert_cmpint(v.answer.kind, ==, SYNC_VOUCHER_EXPIRED);
	voucher(&ks, "9100000000000003", &v);
	g_assert_cmpint(v.answer.kind, ==, SYNC_VOUCHER_UNKNOWN);

	/* The 200.00 AED voucher, 50.00 AED of it; the first answer lost after the commit. */
	const char *rid = "4c1d2e3f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", *tx = "4c1d2e3f-5a6b-4c7d-8e9f-0a1b2c3d4e60";
	netfix_host_fault(&fx, "cut-after-commit");
	struct kio_error err = {0};
	uint32_t id = sync_voucher_redeem(ks.s, "9260482601593711", rid, tx, 5000, &err);
	g_assert_cmpuint(id, !=, 0);
	struct sync_redeem_result r;
	gint64 until = g_get_monotonic_time() + 20 * G_TIME_SPAN_SECOND;
	while (hostfix_int(fx.db, "SELECT count(*) FROM voucher_redemption WHERE redemption_id = "
				  "'4c1d2e3f-5a6b-4c7d-8e9f-0a1b2c3d4e5f'") == 0) {
		g_assert_cmpint(g_get_monotonic_time(), <, until);
		g_usleep(20000);
	}
	/* libcurl itself resends a request whose reused connection died with nothing read; the
	 * proxy down makes those fail too, so the sync's own retry (same key) must get the answer. */
	netfix_proxy(&fx, "down");
	netfix_host_fault(&fx, "none");
	g_usleep(300000);
	g_assert_false(sync_redeem_poll(ks.s, &r)); /* still retrying */
	netfix_clear(&fx);
	TEST_WAIT_FOR(&ks.w, sync_redeem_poll(ks.s, &r));
	g_assert_cmpuint(r.ask, ==, id);
	g_assert_cmpint(r.result, ==, SYNC_ASK_ANSWERED);
	g_assert_cmpint(r.answer.kind, ==, SYNC_VOUCHER_REDEEMED);
	g_assert_cmpint(r.answer.redeemed_fils, ==, 5000);
	g_assert_cmpint(r.answer.remaining_fils, ==, 15000);
	g_assert_cmpint(r.attempts, >=, 2);
	g_assert_cmpint(hostfix_int(fx.db, "SELECT remaining_fils FROM voucher WHERE code = '9260482601593711'"), ==,
			15000);
	/* More than remains: spent, answered at once. */
	id = sync_voucher_redeem(ks.s, "9260482601593711", "4c1d2e3f-5a6b-4c7d-8e9f-0a1b2c3d4e61", tx, 20000, &err);
	TEST_WAIT_FOR(&ks.w, sync_redeem_poll(ks.s, &r));
	g_assert_cmpint(r.answer.kind, ==, SYNC_VOUCHER_SPENT);
	g_assert_cmpint(r.attempts, ==, 1);
	netfix_sync_free(&ks);
}

static void test_payment(void)
{
	struct nsync ks;
	netfix_sync_new(&fx, &ks, "K-PAY");
	const struct sync_pay_line lines[] = {
		{"dewa", "bill", "2000123456", "", 24550},
		{"police", "fines", "10012345", "F-1", 60000},
		{"salik", "topup", "40012345", "", 12000}, /* not on a 50.00 AED step */
	};
	const char *tx = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b";
	netfix_host_fault(&fx, "cut-after-commit");
	struct kio_error err = {0};
	uint32_t id = sync_pay_ask(ks.s, tx, lines, 3, &err);
	g_assert_cmpuint(id, !=, 0);
	gint64 until = g_get_monotonic_time() + 20 * G_TIME_SPAN_SECOND;
	while (hostfix_int(fx.db, "SELECT count(*) FROM fee_payment WHERE tx_uuid = '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b'") ==
	       0) {
		g_assert_cmpint(g_get_monotonic_time(), <, until);
		g_usleep(20000);
	}
	netfix_clear(&fx);
	struct sync_pay_result r;
	TEST_WAIT_FOR(&ks.w, sync_pay_poll(ks.s, &r));
	g_assert_cmpuint(r.ask, ==, id);
	g_assert_cmpint(r.result, ==, SYNC_ASK_ANSWERED);
	g_assert_cmpint(r.answer.kind, ==, SYNC_PAY_ANSWERED);
	g_assert_cmpint(r.answer.lines[0].status, ==, SYNC_LINE_PAID);
	g_assert_cmpint(r.answer.lines[1].status, ==, SYNC_LINE_PAID);
	g_assert_cmpint(r.answer.lines[2].status, ==, SYNC_LINE_REFUSED);
	g_assert_cmpstr(r.answer.lines[2].reason, ==, "out_of_bounds");
	/* The retry got the first answer: the host's own references, each bill paid once. */
	char *sql = g_strdup_printf("SELECT count(*) FROM fee_payment_line WHERE host_ref IN ('%s', '%s')",
				    r.answer.lines[0].host_ref, r.answer.lines[1].host_ref);
	g_assert_cmpint(hostfix_int(fx.db, sql), ==, 2);
	g_free(sql);
	g_assert_cmpint(hostfix_int(fx.db, "SELECT count(*) FROM fee_payment_line WHERE status = 'paid'"), ==, 2);
	/* Answered bills are no longer due. */
	struct sync_fee_result f;
	fee(&ks, "dewa", "bill", "2000123456", &f);
	g_assert_cmpint(f.due_fils, ==, 0);
	fee(&ks, "police", "fines", "10012345", &f);
	g_assert_cmpuint(f.n_items, ==, 1);
	g_assert_cmpstr(f.items[0].id, ==, "F-2");
	/* Another basket for the paid fine is refused it. */
	const struct sync_pay_line again[] = {{"police", "fines", "10012345", "F-1", 60000}};
	id = sync_pay_ask(ks.s, "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6c", again, 1, &err);
	TEST_WAIT_FOR(&ks.w, sync_pay_poll(ks.s, &r));
	g_assert_cmpint(r.answer.lines[0].status, ==, SYNC_LINE_REFUSED);
	g_assert_cmpstr(r.answer.lines[0].reason, ==, "already_paid");
	netfix_sync_free(&ks);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/network/fees/inquiry", test_fee_inquiry);
	g_test_add_func("/network/fees/vouchers", test_vouchers);
	g_test_add_func("/network/fees/payment", test_payment);
	return netfix_run(&fx);
}
