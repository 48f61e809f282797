/*
 * Every network fault between the kiosk's sync client (kiosk/sync: the drain, the libcurl
 * transport, the answer parser) and the reference host (kiosk-host serve over mutual TLS),
 * through the fault proxy and the host's answer faults (netfix.h): host down, HTTP 500, an
 * answer slower than the timeout, the connection cut after the host committed (the host's
 * switch, and the proxy cutting part-way through the answer), malformed, truncated,
 * oversized and hostile answers, unknown members. During each: nothing the host did not
 * acknowledge in an accepted answer is marked at the kiosk. After each: the fault cleared, a
 * new top-up booked, the kiosk drains, and netfix_check holds (records equal, balances =
 * opening + credits, one credit per top-up, nothing unacknowledged, no alarm).
 */
#include <glib.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "netfix.h"

#define CARD_A "7841000024680132" /* demo: 25.00 AED */
#define CARD_B "7841000013579022" /* demo: 0 */

static struct netfix fx;

static const int64_t notes_a[] = {5000, 10000, 0}, notes_b[] = {2000, 0}, notes_c[] = {20000, 0};

/* A kiosk with two completed top-ups, nothing sent, a drain over a fresh transport. */
static void kiosk_with_topups(struct nkiosk *k, const char *id, int timeout_ms)
{
	netfix_kiosk_new(&fx, k, id);
	k->timeout_ms = timeout_ms;
	netfix_topup(k, CARD_A, notes_a);
	netfix_topup(k, CARD_B, notes_b);
	netfix_drain_new(&fx, k);
}

/* The fault is cleared; one more top-up; drained; the promise holds. */
static void recover(struct nkiosk *k)
{
	netfix_clear(&fx);
	netfix_topup(k, CARD_A, notes_c);
	netfix_drain_all(k);
	netfix_check(&fx, k);
	netfix_kiosk_free(k);
}

/* One exchange under the fault: BACKOFF naming why, nothing marked at the kiosk; the host
 * holds `host_holds` records of the kiosk afterwards (0: it never saw the batch; -1: all it
 * was sent, committed). */
static void expect_backoff(struct nkiosk *k, const char *why, int64_t host_holds)
{
	int64_t before = netfix_kiosk_acked(k);
	struct sync_drain_outcome o;
	netfix_drain_once(k, &o);
	g_assert_cmpstr(sync_drain_result_name(o.result), ==, "backoff");
	if (!strstr(o.why, why))
		g_error("%s: backoff for '%s', not '%s'", k->id, o.why, why);
	g_assert_cmpint(o.marked, ==, 0);
	g_assert_cmpint(netfix_kiosk_acked(k), ==, before);
	int64_t holds = netfix_host_records(&fx, k);
	g_assert_cmpint(holds, ==, host_holds < 0 ? o.last_rec : host_holds);
}

static void test_down(void)
{
	struct nkiosk k;
	kiosk_with_topups(&k, "K-DOWN", 2000);
	netfix_proxy(&fx, "down");
	expect_backoff(&k, "Couldn't connect", 0);
	recover(&k);
}

static void test_error(void)
{
	struct nkiosk k;
	kiosk_with_topups(&k, "K-ERROR", 2000);
	netfix_host_fault(&fx, "error");
	expect_backoff(&k, "host answered 500 internal_error", 0);
	expect_backoff(&k, "host answered 500 internal_error", 0);
	recover(&k);
}

/* Slower than the timeout on a connection already up: the batch reaches the host, which
 * commits; its answer comes after the kiosk gave up. */
static void test_slow(void)
{
	struct nkiosk k;
	kiosk_with_topups(&k, "K-SLOW", 1000);
	netfix_drain_all(&k);
	netfix_topup(&k, CARD_B, notes_b);
	netfix_proxy(&fx, "slow 2500");
	expect_backoff(&k, "no answer within 1000 ms", -1);
	recover(&k);
}

/* The duplicate-delivery case: committed, then the connection closed with no answer. The
 * resend is all duplicates at the host; nothing is applied twice. */
static void test_cut_after_commit(void)
{
	struct nkiosk k;
	kiosk_with_topups(&k, "K-CUT", 2000);
	netfix_host_fault(&fx, "cut-after-commit");
	expect_backoff(&k, "Server returned nothing", -1);
	netfix_clear(&fx);
	struct sync_drain_outcome o;
	netfix_drain_once(&k, &o);
	g_assert_cmpstr(sync_drain_result_name(o.result), ==, "progress");
	g_assert_cmpint(o.applied, ==, 0);
	g_assert_cmpint(o.duplicates, ==, o.sent);
	recover(&k);
}

/* The proxy cuts the host's bytes part-way: below TLS it cannot see where the answer
 * begins, so the cut moves up 64 bytes a try (each over a fresh TLS handshake) until the
 * host committed and the kiosk got no whole answer. Before that point the host saw nothing;
 * an answer is at least ~150 bytes (status line, headers, body, TLS record), so a 64-byte
 * step cannot pass over it. */
static void test_proxy_cut(void)
{
	struct nkiosk k;
	kiosk_with_topups(&k, "K-PCUT", 2000);
	bool hit = false;
	for (int bytes = 512; bytes < 16384 && !hit; bytes += 64) {
		char mode[32];
		snprintf(mode, sizeof(mode), "cut %d", bytes);
		netfix_proxy(&fx, mode);
		netfix_drain_new(&fx, &k);
		struct sync_drain_outcome o;
		netfix_drain_once(&k, &o);
		if (o.result != SYNC_DRAIN_BACKOFF)
			g_error("cut %d: %s before the host committed and the answer was cut (step too large?)", bytes,
				sync_drain_result_name(o.result));
		g_assert_cmpint(netfix_kiosk_acked(&k), ==, 0);
		int64_t holds = netfix_host_records(&fx, &k);
		if (holds > 0) {
			g_assert_cmpint(holds, ==, o.last_rec);
			g_test_message("cut %d bytes: the host committed %" PRId64 " records, the kiosk: %s", bytes, holds,
				       o.why);
			hit = true;
		}
	}
	g_assert_true(hit);
	recover(&k);
}

/* An answer after the commit that the kiosk must refuse: nothing marked; the resend is
 * acknowledged as duplicates. */
static void answer_fault(const char *id, const char *fault, const char *why)
{
	struct nkiosk k;
	kiosk_with_topups(&k, id, 2000);
	netfix_host_fault(&fx, fault);
	expect_backoff(&k, why, -1);
	recover(&k);
}

static void test_malformed(void) { answer_fault("K-MALFORMED", "malformed", "not JSON"); }
static void test_truncated(void) { answer_fault("K-TRUNCATED", "truncated", "not JSON"); }
static void test_oversized(void) { answer_fault("K-OVERSIZED", "oversized", "exceeds"); }
static void test_hostile_acked(void) { answer_fault("K-ACKED", "hostile-acked", "beyond the last record sent"); }

static void card_ask(struct nkiosk *k, const char *card, struct sync_card_answer *a, int *rc, struct kio_error *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/v1/cards/%s", card);
	struct sync_request req = {"GET", path, NULL, 0, (int64_t)time(NULL), NULL};
	struct sync_response resp = {0};
	if (k->t->exchange(k->t, &req, &resp, err) != 0)
		g_error("GET %s: %s", path, err->msg);
	*rc = sync_wire_card_answer(resp.status, resp.body, resp.len, card, a, err);
	sync_response_clear(&resp);
}

static int64_t host_balance(const char *card)
{
	char *sql = g_strdup_printf("SELECT balance_fils FROM card WHERE card = '%s'", card);
	int64_t v = hostfix_int(fx.db, sql);
	g_free(sql);
	return v;
}

/* Members the kiosk does not know are ignored, in the records answer and the card answer. */
static void test_unknown_fields(void)
{
	struct nkiosk k;
	kiosk_with_topups(&k, "K-UNKNOWN", 2000);
	netfix_host_fault(&fx, "unknown-fields");
	struct sync_drain_outcome o;
	netfix_drain_once(&k, &o);
	g_assert_cmpstr(sync_drain_result_name(o.result), ==, "progress");
	g_assert_cmpint(netfix_kiosk_acked(&k), ==, o.last_rec);
	struct sync_card_answer a;
	struct kio_error err = {0};
	int rc;
	card_ask(&k, CARD_A, &a, &rc, &err);
	if (rc != 0)
		g_error("card answer with unknown members refused: %s", err.msg);
	g_assert_cmpint(a.kind, ==, SYNC_CARD_FOUND);
	g_assert_cmpint(a.balance_fils, ==, host_balance(CARD_A));
	recover(&k);
}

/* A negative balance is refused, never shown; the records go on. */
static void test_hostile_negative(void)
{
	struct nkiosk k;
	kiosk_with_topups(&k, "K-NEGATIVE", 2000);
	netfix_host_fault(&fx, "hostile-negative");
	struct sync_card_answer a;
	struct kio_error err = {0};
	int rc;
	card_ask(&k, CARD_B, &a, &rc, &err);
	g_assert_cmpint(rc, ==, KIO_ERR_PROTOCOL);
	g_assert_nonnull(strstr(err.msg, "'balance_fils' is -250000, below 0"));
	recover(&k);
	/* Cleared, the same ask is answered with the host's balance. */
	struct nkiosk k2;
	netfix_kiosk_new(&fx, &k2, "K-NEGATIVE-2");
	netfix_drain_new(&fx, &k2);
	card_ask(&k2, CARD_B, &a, &rc, &err);
	g_assert_cmpint(rc, ==, 0);
	g_assert_cmpint(a.balance_fils, ==, host_balance(CARD_B));
	g_assert_cmpint(a.balance_fils, >, 0);
	netfix_kiosk_free(&k2);
}

/* The demo card's balance at the host: opening 25.00 AED plus every credit booked here. */
static void test_balances_after_all(void)
{
	hostfix_assert_balances(fx.db);
	g_assert_cmpint(hostfix_int(fx.db, "SELECT count(*) FROM alarm"), ==, 0);
	g_assert_cmpint(hostfix_int(fx.db, "SELECT count(*) FROM card_credit"), ==,
			hostfix_int(fx.db, "SELECT count(*) FROM record WHERE type = 'tx_end'"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/network/faults/down", test_down);
	g_test_add_func("/network/faults/error-500", test_error);
	g_test_add_func("/network/faults/slow", test_slow);
	g_test_add_func("/network/faults/cut-after-commit", test_cut_after_commit);
	g_test_add_func("/network/faults/proxy-cut", test_proxy_cut);
	g_test_add_func("/network/faults/malformed", test_malformed);
	g_test_add_func("/network/faults/truncated", test_truncated);
	g_test_add_func("/network/faults/oversized", test_oversized);
	g_test_add_func("/network/faults/hostile-acked", test_hostile_acked);
	g_test_add_func("/network/faults/hostile-negative", test_hostile_negative);
	g_test_add_func("/network/faults/unknown-fields", test_unknown_fields);
	g_test_add_func("/network/faults/balances-after-all", test_balances_after_all);
	return netfix_run(&fx);
}
