/*
 * The crash suite's basket cases (issue 13), a small driver until the basket journey's own
 * kill harness (the flow with the validator model, as crash.c runs the top-up) comes: a child
 * runs fees transactions on the real ledger and note journal and SIGKILLs itself at each hit
 * of every kill point it passes; the restarted kiosk settles the notes, recovers, serves the
 * next customer, and the crash suite's invariants (invariants.c) are checked in SQL.
 *
 * Vouchers are paid in by the real pay.voucher machine (kiosk/flows/vpay.h) against a model of
 * the host's vouchers in its own SQLite file (host.db beside the ledger: what survives the kill
 * at the host), which redeems idempotently per redemption id, applies the kiosk's voucher_void
 * records as host/records.c H10 does and refuses a voided id. The driver adds one kill point of
 * its own, host-redeemed: the host committed a redemption whose answer the kiosk has not yet
 * booked. After each restart the host model is synced (the voids applied, then every
 * redemption retried late, as a network that delayed it would), and no voucher value may be
 * lost: for each voucher, what the host holds + what the kiosk booked = its value.
 *
 * There is no device model here: the restart settles each note journey as the simplest device
 * fate would (a note not yet credited went back, a credited one is in the cashbox), and the
 * cashbox figures are read from the journal after that. The device invariants (3-5) therefore
 * hold by construction; the ledger's (1, 2, 6-11, invariant 11 the basket's balance) are what
 * this driver puts to the test, with ledger_check and the chain's verify.
 */
#include <glib.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "settled.h"
#include "kiosk/core/vcode.h"
#include "kiosk/flows/vpay.h"
#include "kiosk/ledger/basket.h"
#include "kiosk/ledger/chain.h"
#include "kiosk/ledger/notes.h"
#include "kiosk/ledger/tx.h"
#include "tests/common/ledgerfix.h"
#include "kiosk/sync/sync.h"

#define NOW 1798761600
#define DEV "essp:CRASHBSK"
#define CARD "7840123456789012"

struct kiosk {
	struct ledger *l;
	struct core_clock *clock;
	struct ledger_notes *notes;
	struct cash_journal *j;
};

static int kiosk_open(struct kiosk *k, const char *path, struct kio_error *err)
{
	memset(k, 0, sizeof(*k));
	int rc = ledger_open(path, &k->l, err);
	if (rc)
		return rc;
	k->clock = core_clock_new(true, NOW);
	k->notes = ledger_notes_new(k->l, k->clock);
	k->j = ledger_notes_journal(k->notes);
	return 0;
}

static void kiosk_close(struct kiosk *k)
{
	ledger_notes_free(k->notes);
	core_clock_free(k->clock);
	ledger_close(k->l);
}

/* A note's journey as the driver journals it: escrow, accepted, credited, stacked. */
static void child_note(struct kiosk *k, int64_t value)
{
	struct kio_error err = {0};
	struct cash_note n = {.device = DEV, .channel = 1, .value_fils = value, .state = CASH_NOTE_ESCROW,
			      .counters_known = true};
	LFIX_CHILD_CHECK(cash_journal_begin(k->j, &n, &err) == 0);
	LFIX_CHILD_CHECK(cash_journal_advance(k->j, n.id, CASH_NOTE_ACCEPTED, "accept", &err) == 0);
	LFIX_CHILD_CHECK(cash_journal_advance(k->j, n.id, CASH_NOTE_CREDITED, "credit", &err) == 0);
	LFIX_CHILD_CHECK(cash_journal_advance(k->j, n.id, CASH_NOTE_STACKED, "stacked", &err) == 0);
}

static struct ledger_fee_line fee(const char *entity, const char *service, const char *ref, int64_t amount)
{
	struct ledger_fee_line l = {.amount_fils = amount};
	snprintf(l.entity, sizeof(l.entity), "%s", entity);
	snprintf(l.service, sizeof(l.service), "%s", service);
	snprintf(l.reference, sizeof(l.reference), "%s", ref);
	return l;
}

/* ---- the host's vouchers, modelled (what a kill of the kiosk leaves at the host) ---- */

struct vhost {
	sqlite3 *db;
};

static char *host_path(const char *ledger_path)
{
	return g_strdup_printf("%s.host", ledger_path);
}

static void vh_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "host model: %s: %s\n", sql, msg);
		_exit(93);
	}
}

static sqlite3 *vh_open(const char *ledger_path)
{
	char *path = host_path(ledger_path);
	sqlite3 *db = NULL;
	if (sqlite3_open(path, &db) != SQLITE_OK)
		_exit(94);
	g_free(path);
	vh_exec(db, "PRAGMA synchronous = FULL;"
		    "CREATE TABLE IF NOT EXISTS voucher (code TEXT PRIMARY KEY, value INTEGER, remaining INTEGER);"
		    "CREATE TABLE IF NOT EXISTS redemption (rid TEXT PRIMARY KEY, code TEXT, amount INTEGER);"
		    "CREATE TABLE IF NOT EXISTS void (rid TEXT PRIMARY KEY)");
	return db;
}

static int64_t vh_int(sqlite3 *db, const char *sql, const char *a)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		_exit(96);
	if (a)
		sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* POST /v1/vouchers/validate */
static void vh_validate(sqlite3 *db, const char *code, struct sync_voucher_result *r)
{
	memset(r, 0, sizeof(*r));
	r->result = SYNC_ASK_ANSWERED;
	int64_t left = vh_int(db, "SELECT remaining FROM voucher WHERE code = ?1", code);
	r->answer.kind = left < 0 ? SYNC_VOUCHER_UNKNOWN : left == 0 ? SYNC_VOUCHER_SPENT : SYNC_VOUCHER_VALID;
	r->answer.value_fils = left > 0 ? left : 0;
	snprintf(r->answer.expires, sizeof(r->answer.expires), "2027-01-30");
}

/* POST /v1/vouchers/redeem: idempotent per id, refused once voided (accounts.c). */
static void vh_redeem(sqlite3 *db, const char *code, const char *rid, int64_t amount, struct sync_redeem_result *r)
{
	memset(r, 0, sizeof(*r));
	r->result = SYNC_ASK_ANSWERED;
	r->attempts = 1;
	vh_exec(db, "BEGIN IMMEDIATE");
	if (vh_int(db, "SELECT count(*) FROM void WHERE rid = ?1", rid) > 0) {
		r->answer.kind = SYNC_VOUCHER_SPENT;
	} else if (vh_int(db, "SELECT amount FROM redemption WHERE rid = ?1", rid) == amount) {
		r->answer.kind = SYNC_VOUCHER_REDEEMED;
		r->answer.redeemed_fils = amount;
	} else if (vh_int(db, "SELECT remaining FROM voucher WHERE code = ?1", code) >= amount) {
		char *sql = sqlite3_mprintf("UPDATE voucher SET remaining = remaining - %lld WHERE code = %Q;"
					    "INSERT INTO redemption VALUES (%Q, %Q, %lld)",
					    (long long)amount, code, rid, code, (long long)amount);
		vh_exec(db, sql);
		sqlite3_free(sql);
		r->answer.kind = SYNC_VOUCHER_REDEEMED;
		r->answer.redeemed_fils = amount;
	} else {
		r->answer.kind = SYNC_VOUCHER_SPENT;
	}
	vh_exec(db, "COMMIT");
}

/* The host applying the kiosk's voucher_void records (H10): each once, the value given back. */
static void vh_apply_voids(sqlite3 *db, const char *ledger_path)
{
	char *sql = sqlite3_mprintf("ATTACH %Q AS k", ledger_path);
	vh_exec(db, sql);
	sqlite3_free(sql);
	vh_exec(db, "BEGIN IMMEDIATE;"
		    "UPDATE voucher SET remaining = remaining + (SELECT coalesce(sum(r.amount), 0) FROM redemption r"
		    "  JOIN k.voucher_void v ON v.redemption_id = r.rid WHERE r.code = voucher.code"
		    "  AND r.rid NOT IN (SELECT rid FROM void));"
		    "INSERT OR IGNORE INTO void SELECT redemption_id FROM k.voucher_void;"
		    "COMMIT; DETACH k");
}

/* A voucher customer through the real machine, the host model answering: pays `code` whole. */
static void child_voucher(struct kiosk *k, sqlite3 *host, struct lfix_killer *killer, int64_t tx_id, const char *code)
{
	struct kio_error err = {0};
	int64_t due = 0, paid = 0;
	LFIX_CHILD_CHECK(ledger_basket_due(k->l, tx_id, &due, &paid, &err) == 0);
	struct vpay *v = NULL;
	LFIX_CHILD_CHECK(vpay_new(k->l, tx_id, due - paid, &v, &err) == 0);
	for (const char *p = code; *p; p++) {
		struct vpay_input in = {.kind = VPAY_IN_KEY, .digit = *p};
		LFIX_CHILD_CHECK(vpay_step(v, &in, NOW) == 0);
	}
	struct vpay_input in = {.kind = VPAY_IN_REDEEM};
	LFIX_CHILD_CHECK(vpay_step(v, &in, NOW) == 0);
	struct vpay_view view;
	vpay_view(v, &view);
	LFIX_CHILD_CHECK(view.ask == VPAY_ASK_VALIDATE);
	vpay_ask_sent(v);
	struct sync_voucher_result valid;
	vh_validate(host, view.code, &valid);
	in = (struct vpay_input){.kind = VPAY_IN_VALID, .valid = &valid};
	LFIX_CHILD_CHECK(vpay_step(v, &in, NOW) == 0);
	in = (struct vpay_input){.kind = VPAY_IN_REDEEM};
	LFIX_CHILD_CHECK(vpay_step(v, &in, NOW) == 0); /* the intent commits here (voucher-intent) */
	vpay_view(v, &view);
	LFIX_CHILD_CHECK(view.ask == VPAY_ASK_REDEEM);
	vpay_ask_sent(v);
	struct sync_redeem_result redeemed;
	vh_redeem(host, view.code, view.redemption_id, view.amount_fils, &redeemed);
	lfix_on_point(killer, "host-redeemed");
	in = (struct vpay_input){.kind = VPAY_IN_REDEEMED, .redeem = &redeemed};
	LFIX_CHILD_CHECK(vpay_step(v, &in, NOW) == 0); /* voucher-paid */
	vpay_view(v, &view);
	LFIX_CHILD_CHECK(view.outcome == VPAY_PAID);
	vpay_free(v);
}

static void voucher_codes(char full[17], char part[17])
{
	snprintf(full, 17, "911111111111111%c", vcode_damm("911111111111111", 15));
	snprintf(part, 17, "922222222222222%c", vcode_damm("922222222222222", 15));
}

/* The day's customers: a basket paid by a voucher and cash with a line refused (rest to a
 * voucher), one overpaid to a card, one cancelled before any money, a top-up, and a basket
 * paid in full whose second line has no answer yet when the day ends (start-up recovery). */
static void child_day(const char *path, struct lfix_killer *killer)
{
	struct kio_error err = {0};
	struct kiosk k;
	if (kiosk_open(&k, path, &err) != 0)
		_exit(91);
	ledger_set_checkpoint(k.l, lfix_on_point, killer);
	sqlite3 *host = vh_open(path);
	struct ledger_fee_line two[] = {fee("police", "police-fines", "10012345", 60000),
					fee("dewa", "dewa-bill", "2001234567", 25550)};
	/* First, a basket paid by two vouchers through the machine: 20000 of 85550, then one of
	 * 100000, whose excess (34450) goes to a new voucher. */
	char full[17], part[17];
	voucher_codes(full, part);
	struct ledger_tx vt;
	LFIX_CHILD_CHECK(ledger_basket_open(k.l, NOW, "en", two, 2, &vt, &err) == 0);
	child_voucher(&k, host, killer, vt.id, full);
	child_voucher(&k, host, killer, vt.id, part);
	LFIX_CHILD_CHECK(ledger_basket_line_result(k.l, vt.id, 1, LEDGER_LINE_PAID, "P-V1", NOW, &err) == 0);
	LFIX_CHILD_CHECK(ledger_basket_line_result(k.l, vt.id, 2, LEDGER_LINE_PAID, "P-V2", NOW, &err) == 0);
	LFIX_CHILD_CHECK(ledger_basket_close(k.l, vt.id, NOW, LEDGER_REST_VOUCHER, NULL, 30, NULL, &err) == 0);

	char code[VCODE_DIGITS + 1];
	LFIX_CHILD_CHECK(vcode_generate(code) == 0);
	struct ledger_tx tx;
	LFIX_CHILD_CHECK(ledger_basket_open(k.l, NOW, "en", two, 2, &tx, &err) == 0);
	char rid[37];
	LFIX_CHILD_CHECK(ledger_basket_voucher_intent(k.l, tx.id, code, 20000, NOW, rid, &err) == 0);
	LFIX_CHILD_CHECK(ledger_basket_voucher_paid(k.l, tx.id, code, rid, 20000, NOW, &err) == 0);
	child_note(&k, 50000);
	child_note(&k, 20000);
	LFIX_CHILD_CHECK(ledger_basket_line_result(k.l, tx.id, 1, LEDGER_LINE_PAID, "P-1", NOW, &err) == 0);
	LFIX_CHILD_CHECK(ledger_basket_line_result(k.l, tx.id, 2, LEDGER_LINE_REFUSED, NULL, NOW, &err) == 0);
	LFIX_CHILD_CHECK(ledger_basket_close(k.l, tx.id, NOW, LEDGER_REST_VOUCHER, NULL, 30, NULL, &err) == 0);

	LFIX_CHILD_CHECK(ledger_basket_open(k.l, NOW, "ar", two + 1, 1, &tx, &err) == 0);
	child_note(&k, 50000);
	LFIX_CHILD_CHECK(ledger_basket_line_result(k.l, tx.id, 1, LEDGER_LINE_PAID, "P-2", NOW, &err) == 0);
	LFIX_CHILD_CHECK(ledger_basket_close(k.l, tx.id, NOW, LEDGER_REST_CARD, CARD, 30, NULL, &err) == 0);

	LFIX_CHILD_CHECK(ledger_basket_open(k.l, NOW, "en", two, 2, &tx, &err) == 0);
	LFIX_CHILD_CHECK(ledger_basket_close(k.l, tx.id, NOW, LEDGER_REST_NONE, NULL, 30, NULL, &err) == 0);

	LFIX_CHILD_CHECK(ledger_tx_open(k.l, NOW, LEDGER_TX_TOPUP, "en", CARD, &tx, &err) == 0);
	child_note(&k, 10000);
	LFIX_CHILD_CHECK(ledger_tx_complete(k.l, tx.id, NOW, NULL, &err) == 0);

	LFIX_CHILD_CHECK(ledger_basket_open(k.l, NOW, "en", two, 2, &tx, &err) == 0);
	child_note(&k, 100000);
	LFIX_CHILD_CHECK(ledger_basket_line_result(k.l, tx.id, 1, LEDGER_LINE_PAID, "P-3", NOW, &err) == 0);
	sqlite3_close(host);
	_exit(0);
}

/* The host's vouchers before the day: the two the voucher customer pays with. */
static void seed_host(const char *path)
{
	char full[17], part[17];
	voucher_codes(full, part);
	sqlite3 *db = vh_open(path);
	char *sql = sqlite3_mprintf("INSERT INTO voucher VALUES (%Q, 20000, 20000), (%Q, 100000, 100000)", full, part);
	vh_exec(db, sql);
	sqlite3_free(sql);
	sqlite3_close(db);
}

/* After the restart the host applies the kiosk's records (the voids), and a redeem the network
 * delayed arrives late: nothing may move value again. Then, per voucher, the host's remaining
 * value + what the kiosk booked from it = its value: no fils lost or made, whatever the kill. */
static void check_vouchers(const char *path, const char *point)
{
	sqlite3 *host = vh_open(path);
	vh_apply_voids(host, path);
	sqlite3_stmt *st = NULL;
	g_assert_cmpint(sqlite3_prepare_v2(host, "SELECT rid, code, amount FROM redemption", -1, &st, NULL), ==, SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char rid[37], code[17];
		snprintf(rid, sizeof(rid), "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(code, sizeof(code), "%s", (const char *)sqlite3_column_text(st, 1));
		struct sync_redeem_result late;
		vh_redeem(host, code, rid, sqlite3_column_int64(st, 2), &late);
	}
	sqlite3_finalize(st);
	char *sql = sqlite3_mprintf("ATTACH %Q AS k", path);
	vh_exec(host, sql);
	sqlite3_free(sql);
	int64_t lost = vh_int(host,
			      "SELECT count(*) FROM voucher v WHERE v.value != v.remaining +"
			      " (SELECT coalesce(sum(p.value_fils), 0) FROM k.voucher_payment p WHERE p.code = v.code)",
			      NULL);
	int64_t booked_unredeemed = vh_int(host,
					   "SELECT count(*) FROM k.voucher_payment p WHERE p.code IN (SELECT code FROM voucher)"
					   " AND NOT EXISTS (SELECT 1 FROM redemption r"
					   " WHERE r.rid = p.redemption_id AND r.amount = p.value_fils)",
					   NULL);
	vh_exec(host, "DETACH k");
	sqlite3_close(host);
	if (lost != 0 || booked_unredeemed != 0)
		g_error("after %s: %" G_GINT64_FORMAT " voucher(s) lost or gained value, %" G_GINT64_FORMAT
			" booked without the host's redemption",
			point, lost, booked_unredeemed);
}

/* The restarted kiosk: settles the journeys the kill left open, recovers, serves a customer. */
static void restart(const char *path, const char *point)
{
	struct kio_error err = {0};
	struct kiosk k;
	if (kiosk_open(&k, path, &err) != 0)
		g_error("after %s: reopen: %s", point, err.msg);
	struct cash_note open[16];
	size_t n = 0;
	if (cash_journal_list_open(k.j, DEV, open, G_N_ELEMENTS(open), &n, &err) != 0)
		g_error("after %s: open journeys: %s", point, err.msg);
	for (size_t i = 0; i < n; i++) {
		enum cash_note_state to = open[i].state == CASH_NOTE_CREDITED ? CASH_NOTE_STACKED : CASH_NOTE_RETURNED;
		if (cash_journal_advance(k.j, open[i].id, to, "settled at start-up", &err) != 0)
			g_error("after %s: settle note %lld: %s", point, (long long)open[i].id, err.msg);
	}
	struct ledger_tx *list = NULL;
	if (ledger_tx_recover(k.l, NOW + 60, &list, &n, &err) != 0)
		g_error("after %s: recovery: %s", point, err.msg);
	free(list);
	/* The next customer: a basket paid in cash, the rest to a card. */
	struct ledger_fee_line one = fee("rta", "salik-recharge", "55512345", 5000);
	struct ledger_tx tx;
	struct cash_note note = {.device = DEV, .channel = 1, .value_fils = 10000, .state = CASH_NOTE_ESCROW};
	if (ledger_basket_open(k.l, NOW + 120, "ar", &one, 1, &tx, &err) != 0 || cash_journal_begin(k.j, &note, &err) != 0 ||
	    cash_journal_advance(k.j, note.id, CASH_NOTE_CREDITED, "credit", &err) != 0 ||
	    cash_journal_advance(k.j, note.id, CASH_NOTE_STACKED, "stacked", &err) != 0 ||
	    ledger_basket_line_result(k.l, tx.id, 1, LEDGER_LINE_PAID, "P-9", NOW + 120, &err) != 0 ||
	    ledger_basket_close(k.l, tx.id, NOW + 120, LEDGER_REST_CARD, CARD, 30, NULL, &err) != 0)
		g_error("after %s: the next customer: %s", point, err.msg);
	if (ledger_check(k.l, &err) != 0)
		g_error("after %s: %s", point, err.msg);
	kiosk_close(&k);
	check_vouchers(path, point);
}

static void test_every_point(void)
{
	static const char *const basket_points[] = {"basket-open-written", "basket-opened", "voucher-intent-written",
						    "voucher-intent", "host-redeemed", "voucher-paid-written",
						    "voucher-paid", "line-result-written", "line-result",
						    "basket-end-written", "basket-ended"};
	const struct crash_day d = {.prefix = "kiosk-crash-basket", .day = child_day, .seed = seed_host,
				    .restart = restart, .required = basket_points,
				    .n_required = G_N_ELEMENTS(basket_points)};
	unsigned n_points = crash_every_point(&d);
	g_test_message("baskets SIGKILLed at %u hits of their kill points: %zu invariants held after each restart",
		       n_points, crash_invariants_count());
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/crash-basket/every-point", test_every_point);
	return g_test_run();
}
