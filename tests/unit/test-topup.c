/* Unit tests of the customer's session (card entry, Luhn, issuer prefixes, the idle policy)
 * and of the top-up flow driven through every transition with a real ledger in a temporary
 * database and the real eSSP driver over the simulated validator, in virtual time. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/flows/topup.h"
#include "kiosk/ledger/notes.h"
#include "kiosk/ledger/store-priv.h"
#include "kiosk/ledger/tx.h"
#include "kiosk/session/session.h"
#include "tests/common/ledgerfix.h"
#include "tests/host/essp/essp-cash-fixture.h"

#define AED(n) ((int64_t)(n) * 100)
#define CARD "7840123456789014"

/* ---- The session ---- */

static void test_luhn(void)
{
	/* Known-good: ISO/IEC 7812 worked example, a Visa test number, issuer-784 numbers. */
	static const char *const good[] = {"79927398713", "4539578763621486", "1234567812345670",
					   CARD, "7840000000000009", "7849876543210127"};
	static const char *const bad[] = {"79927398710", "79927398714", "4539578763621487",
					  "7840123456789012", "7840123456789041", "1234567812345678"};
	for (size_t i = 0; i < G_N_ELEMENTS(good); i++)
		g_assert_true(session_luhn_ok(good[i], strlen(good[i])));
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		g_assert_false(session_luhn_ok(bad[i], strlen(bad[i])));
	g_assert_false(session_luhn_ok("", 0));
	g_assert_false(session_luhn_ok("7992739871a", 11));
}

static const char *problem(const char *card, const char *const *prefixes, size_t n)
{
	return session_card_problem(card, strlen(card), prefixes, n);
}

static void test_card_problem(void)
{
	const char *const p784[] = {"784"};
	const char *const two[] = {"784", "7850"};
	g_assert_cmpstr(problem("", p784, 1), ==, "topup.card.enter");
	g_assert_cmpstr(problem("7", p784, 1), ==, "topup.card.incomplete");
	g_assert_cmpstr(problem("78", p784, 1), ==, "topup.card.incomplete");
	/* Said as soon as the digits leave every prefix, not at the 16th. */
	g_assert_cmpstr(problem("71", p784, 1), ==, "topup.card.bad-prefix");
	g_assert_cmpstr(problem("4539578763621486", p784, 1), ==, "topup.card.bad-prefix");
	g_assert_cmpstr(problem("7850123456789011", p784, 1), ==, "topup.card.bad-prefix");
	g_assert_null(problem("7850123456789011", two, 2));
	g_assert_cmpstr(problem("7851", two, 2), ==, "topup.card.bad-prefix");
	g_assert_cmpstr(problem("784012345678901", p784, 1), ==, "topup.card.incomplete");
	g_assert_cmpstr(problem("7840123456789012", p784, 1), ==, "topup.card.bad-luhn");
	g_assert_null(problem(CARD, p784, 1));
	g_assert_null(problem("4539578763621486", NULL, 0)); /* no prefixes: any issuer */
}

static void test_card_keys(void)
{
	struct session s;
	session_start(&s, "ar", AED(10), AED(5000), 0);
	g_assert_cmpstr(s.lang, ==, "ar");
	char text[SESSION_CARD_TEXT];
	g_assert_false(session_card_del(&s));
	g_assert_false(session_card_key(&s, 'x'));
	for (const char *c = CARD; *c; c++)
		g_assert_true(session_card_key(&s, *c));
	g_assert_false(session_card_key(&s, '1')); /* 16 is all */
	session_card_grouped(&s, text);
	g_assert_cmpstr(text, ==, "7840 1234 5678 9014");
	session_card_masked(s.card, text);
	g_assert_cmpstr(text, ==, "**** **** **** 9014");
	g_assert_true(session_card_del(&s));
	g_assert_true(session_card_del(&s));
	session_card_grouped(&s, text);
	g_assert_cmpstr(text, ==, "7840 1234 5678 90");
	session_card_masked(s.card, text);
	g_assert_cmpstr(text, ==, ""); /* only a whole number is shown masked */
	g_assert_true(session_card_clear(&s));
	g_assert_false(session_card_clear(&s));
	g_assert_cmpuint(s.card_len, ==, 0);
	session_start(&s, "fr", 1, 2, 0);
	g_assert_cmpstr(s.lang, ==, "en");
}

static void test_idle_policy(void)
{
	struct session s;
	session_start(&s, "en", AED(10), AED(5000), 1000);
	g_assert_false(session_idle(&s, 60999, 60000));
	g_assert_true(session_idle(&s, 61000, 60000));
	g_assert_false(session_idle(&s, 999999, 0));
	g_assert_cmpint(session_idle_action(&s), ==, SESSION_IDLE_ATTRACT);
	s.path = SESSION_PATH_ACCEPTED;
	g_assert_cmpint(session_idle_action(&s), ==, SESSION_IDLE_WAIT);
	s.path = SESSION_PATH_EMPTY;
	s.paid_fils = AED(5);
	g_assert_cmpint(session_idle_action(&s), ==, SESSION_IDLE_COMPLETE);
	s.path = SESSION_PATH_RETURNING;
	g_assert_cmpint(session_idle_action(&s), ==, SESSION_IDLE_WAIT);
	session_touch(&s, 500); /* never backwards */
	g_assert_cmpuint(s.last_activity_ms, ==, 1000);
}

/* ---- The flow over the real ledger and driver ---- */

struct ffx {
	struct fx fx; /* first: fx_run_until predicates get the ffx */
	char *db; /* lfix_temp_db's */
	struct topup_config cfg;
	struct topup *t;
	bool printer_down; /* the printer cannot print when the flow starts */
	size_t checks; /* ledger_check runs that passed */
};

static void assert_ledger(struct ffx *f)
{
	struct kio_error err = {0};
	int rc = ledger_check(f->fx.ledger, &err);
	if (rc)
		g_error("ledger_check: %s", err.msg);
	f->checks++;
}

/* The app's routing, in miniature: the fixture's record of events, then the flow; the
 * ledger's invariants are checked after every event the flow handled. */
static void on_event(void *user, const struct cash_event *ev)
{
	struct ffx *f = user;
	g_assert_cmpuint(f->fx.n_ev, <, FX_EVENTS_MAX);
	f->fx.ev[f->fx.n_ev++] = *ev;
	if (f->t)
		topup_cash_listener(f->t, ev);
	assert_ledger(f);
}

static void new_flow(struct ffx *f)
{
	struct kio_error err = {0};
	g_assert_cmpint(topup_new(&f->cfg, f->fx.ledger, f->fx.unit, f->fx.loop.clock, "en", !f->printer_down, &f->t, &err),
			==, 0);
}

/* A kiosk with a temporary database, connected to the validator, the flow at CARD. */
static void ffx_start(struct ffx *f)
{
	fx_init(&f->fx);
	fx_prepare(&f->fx);
	f->db = lfix_temp_db("kiosk-topup");
	g_assert_cmpint(fx_open_ledger(&f->fx, f->db), ==, 0);
	fx_start(&f->fx);
	cash_set_listener(f->fx.unit, on_event, f);
	g_assert_true(fx_run_until(&f->fx, fx_in_run, 20000));
	if (!f->cfg.n_denoms)
		topup_config_default(&f->cfg);
	new_flow(f);
}

static void ffx_fini(struct ffx *f)
{
	topup_free(f->t);
	fx_fini(&f->fx);
	lfix_remove_db(f->db);
}

static struct topup_view view(struct ffx *f)
{
	struct topup_view v;
	topup_view(f->t, &v);
	return v;
}

static int in(struct ffx *f, enum topup_input_kind kind)
{
	struct topup_input i = {.kind = kind};
	int rc = topup_step(f->t, &i);
	assert_ledger(f);
	return rc;
}

static void type(struct ffx *f, const char *digits)
{
	for (; *digits; digits++) {
		struct topup_input i = {.kind = TOPUP_IN_KEY, .digit = *digits};
		g_assert_cmpint(topup_step(f->t, &i), ==, 0);
	}
}

static void tick_after(struct ffx *f, uint64_t ms)
{
	fx_run_for(&f->fx, ms);
	g_assert_cmpint(in(f, TOPUP_IN_TICK), ==, 0);
}

static uint64_t now(struct ffx *f) { return core_clock_now_ms(f->fx.loop.clock); }

/* Runs to t_ms of virtual time (t_ms in the future), then ticks. */
static void tick_at(struct ffx *f, uint64_t t_ms)
{
	g_assert_cmpuint(t_ms, >, now(f));
	tick_after(f, t_ms - now(f));
}

static bool device_enabled(struct fx *f) { return fx_sim(f).enabled && fx_status(f).enabled; }
static bool device_disabled(struct fx *f) { return !fx_sim(f).enabled && !fx_status(f).enabled; }

/* The acceptor takes no note: the driver says so and the device itself is inhibited. */
static void assert_disabled(struct ffx *f)
{
	g_assert_true(fx_run_until(&f->fx, device_disabled, 5000));
	fx_run_for(&f->fx, 1000);
	g_assert_true(device_disabled(&f->fx));
	g_assert_cmpint(sim_essp_insert_note(f->fx.sim, AED(10)), ==, KIO_ERR_BUSY);
}

/* The driver was told to stop, whatever the device can still answer (a jammed unit). */
static void assert_disabled_now(struct ffx *f)
{
	g_assert_false(fx_status(&f->fx).enabled);
	struct topup_view v;
	topup_view(f->t, &v);
	g_assert_false(v.accepting);
}

static void to_pay(struct ffx *f)
{
	type(f, CARD);
	g_assert_true(view(f).next_enabled);
	g_assert_cmpint(in(f, TOPUP_IN_NEXT), ==, 0);
	g_assert_cmpint(view(f).step, ==, TOPUP_PAY);
	g_assert_true(fx_run_until(&f->fx, device_enabled, 5000));
}

static size_t n_credited;
static bool credited_more(struct fx *f) { return fx_count(f, CASH_EV_CREDITED) > n_credited; }
static size_t n_returned;
static bool returned_more(struct fx *f) { return fx_count(f, CASH_EV_RETURNED) > n_returned; }
static bool path_empty(struct fx *f) { return fx_sim(f).note == SIM_ESSP_NOTE_NONE && fx_info(f).note_id == 0; }

/* A customer inserts a note the flow takes: it is credited and booked. */
static void pay(struct ffx *f, int64_t fils)
{
	n_credited = fx_count(&f->fx, CASH_EV_CREDITED);
	g_assert_cmpint(sim_essp_insert_note(f->fx.sim, fils), ==, 0);
	fx_notify(&f->fx);
	g_assert_true(fx_run_until(&f->fx, credited_more, 10000));
	g_assert_true(fx_run_until(&f->fx, path_empty, 10000));
}

static bool has_rejected(struct fx *f) { return fx_count(f, CASH_EV_REJECTED) > 0; }

static struct ledger_tx tx_of(struct ffx *f, int64_t id)
{
	struct ledger_tx tx;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_tx_get(f->fx.ledger, id, &tx, &err), ==, 0);
	return tx;
}

static bool no_open_tx(struct ffx *f)
{
	struct ledger_tx tx;
	struct kio_error err = {0};
	return ledger_tx_current(f->fx.ledger, &tx, &err) == KIO_ERR_NOT_FOUND;
}

static void test_flow_card(void)
{
	struct ffx f = {0};
	ffx_start(&f);
	struct topup_view v = view(&f);
	g_assert_cmpint(v.step, ==, TOPUP_CARD);
	g_assert_cmpstr(v.card_msg, ==, "topup.card.enter");
	g_assert_cmpstr(v.no_change_msg, ==, "topup.pay.no-change"); /* said before cash goes in */
	g_assert_null(v.printer_msg);
	g_assert_false(v.next_enabled);
	g_assert_cmpint(in(&f, TOPUP_IN_NEXT), ==, KIO_ERR_INVALID);
	type(&f, "71");
	g_assert_cmpstr(view(&f).card_msg, ==, "topup.card.bad-prefix");
	g_assert_cmpint(in(&f, TOPUP_IN_CLEAR), ==, 0);
	type(&f, "7840123456789012");
	v = view(&f);
	g_assert_cmpstr(v.card_msg, ==, "topup.card.bad-luhn");
	g_assert_cmpstr(v.card_grouped, ==, "7840 1234 5678 9012");
	g_assert_false(v.next_enabled);
	g_assert_cmpint(in(&f, TOPUP_IN_NEXT), ==, KIO_ERR_INVALID);
	g_assert_cmpint(in(&f, TOPUP_IN_DEL), ==, 0);
	g_assert_cmpstr(view(&f).card_msg, ==, "topup.card.incomplete");
	type(&f, "4");
	g_assert_cmpstr(view(&f).card_msg, ==, "topup.card.ok");
	g_assert_true(view(&f).next_enabled);
	g_assert_cmpint(in(&f, TOPUP_IN_FINISH), ==, KIO_ERR_INVALID); /* not a CARD input */
	/* Nothing opened in the ledger, the acceptor never enabled while typing. */
	g_assert_true(no_open_tx(&f));
	assert_disabled(&f);
	g_assert_cmpint(in(&f, TOPUP_IN_BACK), ==, 0);
	v = view(&f);
	g_assert_cmpint(v.step, ==, TOPUP_END);
	g_assert_cmpint(v.exit, ==, TOPUP_EXIT_HOME);
	g_assert_cmpint(topup_tx_id(f.t), ==, 0);
	topup_free(f.t);

	/* Cancel: home as well; inactivity: attract. */
	new_flow(&f);
	type(&f, "784");
	g_assert_cmpint(in(&f, TOPUP_IN_CANCEL), ==, 0);
	g_assert_cmpint(view(&f).exit, ==, TOPUP_EXIT_HOME);
	topup_free(f.t);
	new_flow(&f);
	type(&f, "784");
	tick_after(&f, f.cfg.card_idle_ms - 1000);
	g_assert_cmpint(view(&f).step, ==, TOPUP_CARD);
	type(&f, "0"); /* a key is a sign of life */
	tick_after(&f, f.cfg.card_idle_ms - 1000);
	g_assert_cmpint(view(&f).step, ==, TOPUP_CARD);
	tick_after(&f, 1000);
	g_assert_cmpint(view(&f).step, ==, TOPUP_END);
	g_assert_cmpint(view(&f).exit, ==, TOPUP_EXIT_ATTRACT);
	g_assert_true(no_open_tx(&f));
	ffx_fini(&f);
}

/* The flow's kill points (topup.h), in the order a finished top-up passes them. */
static void on_flow_point(void *user, const char *point)
{
	GString *seen = user;
	g_string_append_printf(seen, "%s%s", seen->len ? " " : "", point);
}

static void test_flow_finish(void)
{
	struct ffx f = {0};
	ffx_start(&f);
	GString *points = g_string_new("");
	topup_set_checkpoint(f.t, on_flow_point, points);
	to_pay(&f);
	g_assert_cmpstr(points->str, ==, "pay-enabled");
	int64_t id = topup_tx_id(f.t);
	g_assert_cmpint(id, >, 0);
	g_assert_cmpint(tx_of(&f, id).state, ==, LEDGER_TX_OPEN); /* opened on next */
	struct topup_view v = view(&f);
	g_assert_cmpstr(v.card_masked, ==, "**** **** **** 9014");
	g_assert_cmpint(v.min_fils, ==, AED(10));
	g_assert_cmpint(v.max_fils, ==, AED(5000));
	g_assert_cmpuint(v.n_denoms, ==, 8);
	g_assert_true(v.accepting);
	g_assert_true(v.back_enabled);
	g_assert_false(v.finish_enabled);
	g_assert_false(v.cancel_finishes);
	g_assert_cmpint(in(&f, TOPUP_IN_FINISH), ==, KIO_ERR_INVALID);

	pay(&f, AED(5));
	v = view(&f);
	g_assert_cmpint(v.total_fils, ==, AED(5));
	g_assert_false(v.finish_enabled); /* below the minimum */
	g_assert_true(v.cancel_finishes);
	g_assert_false(v.back_enabled);
	g_assert_cmpint(in(&f, TOPUP_IN_BACK), ==, KIO_ERR_INVALID);
	g_assert_cmpint(in(&f, TOPUP_IN_FINISH), ==, KIO_ERR_INVALID);
	pay(&f, AED(100));
	pay(&f, AED(5));
	v = view(&f);
	g_assert_cmpint(v.total_fils, ==, AED(110));
	g_assert_cmpint(v.notes, ==, 3);
	g_assert_cmpuint(v.notes_by_denom[0], ==, 2); /* AED 5 */
	g_assert_cmpuint(v.notes_by_denom[4], ==, 1); /* AED 100 */
	g_assert_true(v.finish_enabled);
	/* Invariant 3: the total is the ledger's. */
	g_assert_cmpint(tx_of(&f, id).paid_fils, ==, AED(110));

	g_assert_cmpint(in(&f, TOPUP_IN_FINISH), ==, 0);
	g_assert_cmpstr(points->str, ==, "pay-enabled closing done");
	g_string_free(points, TRUE);
	uint64_t done_at = now(&f);
	v = view(&f);
	g_assert_cmpint(v.step, ==, TOPUP_DONE);
	g_assert_cmpint(v.credited_fils, ==, AED(110));
	g_assert_cmpint(v.tx_seq, ==, 1);
	g_assert_cmpuint(strlen(v.tx_uuid), ==, 36);
	g_assert_cmpstr(v.card_masked, ==, "**** **** **** 9014");
	g_assert_true(v.print_receipt);
	g_assert_false(v.tx_number_large);
	g_assert_cmpstr(v.done_msg, ==, "topup.done.queued-for-sync");
	struct ledger_tx tx = tx_of(&f, id);
	g_assert_cmpint(tx.state, ==, LEDGER_TX_COMPLETED);
	g_assert_cmpint(tx.credited_fils, ==, AED(110));
	g_assert_false(tx.recovered);
	g_assert_cmpstr(tx.card, ==, CARD);
	int64_t pending = 0;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_outbox_pending(f.fx.ledger, &pending, &err), ==, 0);
	g_assert_cmpint(pending, ==, 1); /* queued for sync */
	assert_disabled(&f);
	g_assert_cmpint(fx_sim(&f.fx).cashbox_fils, ==, AED(110));

	/* The done step returns to attract by itself. */
	tick_at(&f, done_at + f.cfg.done_ms - 1);
	g_assert_cmpint(view(&f).step, ==, TOPUP_DONE);
	tick_after(&f, 1);
	g_assert_cmpint(view(&f).step, ==, TOPUP_END);
	g_assert_cmpint(view(&f).exit, ==, TOPUP_EXIT_ATTRACT);
	g_assert_cmpint(in(&f, TOPUP_IN_NEXT), ==, KIO_ERR_INVALID); /* END takes nothing */
	g_assert_cmpuint(f.checks, >, 10);
	ffx_fini(&f);
}

static void test_flow_cancel_and_back(void)
{
	struct ffx f = {0};
	ffx_start(&f);
	to_pay(&f);
	int64_t first = topup_tx_id(f.t);
	g_assert_cmpint(in(&f, TOPUP_IN_BACK), ==, 0);
	struct topup_view v = view(&f);
	g_assert_cmpint(v.step, ==, TOPUP_CARD);
	g_assert_cmpstr(v.card_grouped, ==, "7840 1234 5678 9014"); /* kept for a second try */
	g_assert_cmpint(tx_of(&f, first).state, ==, LEDGER_TX_CANCELLED);
	assert_disabled(&f);

	g_assert_cmpint(in(&f, TOPUP_IN_NEXT), ==, 0);
	int64_t second = topup_tx_id(f.t);
	g_assert_cmpint(tx_of(&f, second).seq, ==, 2);
	g_assert_true(fx_run_until(&f.fx, device_enabled, 5000));
	g_assert_cmpint(in(&f, TOPUP_IN_CANCEL), ==, 0);
	v = view(&f);
	g_assert_cmpint(v.step, ==, TOPUP_END);
	g_assert_cmpint(v.exit, ==, TOPUP_EXIT_HOME);
	g_assert_cmpint(tx_of(&f, second).state, ==, LEDGER_TX_CANCELLED);
	assert_disabled(&f);
	g_assert_cmpint(fx_sim(&f.fx).cashbox_fils, ==, 0);
	topup_free(f.t);

	/* The app drops the flow in PAY (shutting down): the acceptor is disabled, the
	 * transaction left for start-up recovery (invariants 1 and 4). */
	new_flow(&f);
	to_pay(&f);
	int64_t third = topup_tx_id(f.t);
	topup_free(f.t);
	f.t = NULL;
	assert_disabled(&f);
	g_assert_cmpint(tx_of(&f, third).state, ==, LEDGER_TX_OPEN);
	ffx_fini(&f);
}

/* After a note is credited, cancel is "finish with what I paid", even below the minimum. */
static void test_flow_cancel_with_money(void)
{
	struct ffx f = {0};
	ffx_start(&f);
	to_pay(&f);
	pay(&f, AED(5));
	g_assert_cmpint(in(&f, TOPUP_IN_CANCEL), ==, 0);
	struct topup_view v = view(&f);
	g_assert_cmpint(v.step, ==, TOPUP_DONE);
	g_assert_cmpint(v.credited_fils, ==, AED(5));
	g_assert_cmpint(tx_of(&f, topup_tx_id(f.t)).state, ==, LEDGER_TX_COMPLETED);
	assert_disabled(&f);
	g_assert_cmpint(in(&f, TOPUP_IN_FINISH), ==, 0); /* a tap on done: attract */
	g_assert_cmpint(view(&f).exit, ==, TOPUP_EXIT_ATTRACT);
	ffx_fini(&f);
}

static void test_flow_over_max(void)
{
	struct ffx f = {0};
	topup_config_default(&f.cfg);
	f.cfg.max_fils = AED(100);
	ffx_start(&f);
	to_pay(&f);
	pay(&f, AED(50));
	n_returned = fx_count(&f.fx, CASH_EV_RETURNED);
	g_assert_cmpint(sim_essp_insert_note(f.fx.sim, AED(100)), ==, 0);
	fx_notify(&f.fx);
	g_assert_true(fx_run_until(&f.fx, returned_more, 10000));
	g_assert_true(fx_run_until(&f.fx, path_empty, 10000));
	struct topup_view v = view(&f);
	g_assert_cmpstr(v.notice, ==, "topup.pay.note-over-max");
	g_assert_cmpint(v.total_fils, ==, AED(50));
	g_assert_cmpint(fx_sum(&f.fx, CASH_EV_RETURNED), ==, AED(100)); /* back at the bezel */
	g_assert_cmpint(fx_sim(&f.fx).cashbox_fils, ==, AED(50));
	g_assert_cmpint(fx_journal(&f.fx, CASH_NOTE_RETURNED, NULL), ==, 1);
	/* A note the acceptor does not recognise goes back; the customer is told. */
	g_assert_cmpint(sim_essp_insert_fake(f.fx.sim, 0x02), ==, 0);
	fx_notify(&f.fx);
	g_assert_true(fx_run_until(&f.fx, has_rejected, 10000));
	g_assert_true(fx_run_until(&f.fx, path_empty, 10000));
	g_assert_cmpstr(view(&f).notice, ==, "topup.pay.note-rejected");
	g_assert_cmpint(view(&f).total_fils, ==, AED(50));
	/* Up to the maximum exactly is fine. */
	pay(&f, AED(50));
	g_assert_cmpint(view(&f).total_fils, ==, AED(100));
	g_assert_null(view(&f).notice);
	g_assert_cmpint(in(&f, TOPUP_IN_FINISH), ==, 0);
	g_assert_cmpint(view(&f).credited_fils, ==, AED(100));
	assert_disabled(&f);
	g_assert_cmpint(fx_sim(&f.fx).cashbox_fils, ==, AED(100));
	ffx_fini(&f);
}

static bool sim_escrow(struct fx *f) { return fx_sim(f).note == SIM_ESSP_NOTE_ESCROW; }
static size_t n_escrow;
static bool escrow_more(struct fx *f) { return fx_count(f, CASH_EV_ESCROW) > n_escrow; }

/* The customer cancels while the note is in escrow (read by the device, the flow not yet
 * told): it goes back, it is not stacked, nothing is booked. */
static void test_flow_cancel_escrow(void)
{
	struct ffx f = {0};
	ffx_start(&f);
	to_pay(&f);
	int64_t id = topup_tx_id(f.t);
	g_assert_cmpint(sim_essp_insert_note(f.fx.sim, AED(50)), ==, 0);
	fx_notify(&f.fx);
	g_assert_true(fx_run_until(&f.fx, sim_escrow, 5000));
	g_assert_cmpuint(fx_count(&f.fx, CASH_EV_ESCROW), ==, 0);
	g_assert_cmpint(in(&f, TOPUP_IN_CANCEL), ==, 0);
	g_assert_cmpint(view(&f).step, ==, TOPUP_END);
	g_assert_cmpint(tx_of(&f, id).state, ==, LEDGER_TX_CANCELLED);
	n_returned = 0;
	g_assert_true(fx_run_until(&f.fx, returned_more, 10000));
	g_assert_true(fx_run_until(&f.fx, path_empty, 10000));
	g_assert_cmpuint(fx_count(&f.fx, CASH_EV_ESCROW), ==, 1);
	g_assert_cmpuint(fx_count(&f.fx, CASH_EV_CREDITED), ==, 0);
	g_assert_cmpint(fx_sim(&f.fx).cashbox_fils, ==, 0);
	g_assert_cmpint(fx_journal(&f.fx, CASH_NOTE_RETURNED, NULL), ==, 1);
	int64_t count = -1, total = -1;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_suspense_total(f.fx.ledger, &count, &total, &err), ==, 0);
	g_assert_cmpint(count, ==, 0);
	assert_disabled(&f);
	ffx_fini(&f);
}

/* Cancel while an accepted note is on its way to the cashbox: CLOSING waits for it, and the
 * top-up completes with it (invariant 5). */
static void test_flow_cancel_stacking(void)
{
	struct ffx f = {0};
	ffx_start(&f);
	to_pay(&f);
	g_assert_cmpint(sim_essp_insert_note(f.fx.sim, AED(20)), ==, 0);
	fx_notify(&f.fx);
	n_escrow = 0;
	g_assert_true(fx_run_until(&f.fx, escrow_more, 5000));
	g_assert_cmpint(topup_session(f.t)->path, ==, SESSION_PATH_ACCEPTED);
	g_assert_false(view(&f).back_enabled);
	g_assert_cmpint(in(&f, TOPUP_IN_CANCEL), ==, 0);
	g_assert_cmpint(view(&f).step, ==, TOPUP_CLOSING);
	g_assert_cmpint(in(&f, TOPUP_IN_NEXT), ==, KIO_ERR_INVALID);
	n_credited = 0;
	g_assert_true(fx_run_until(&f.fx, credited_more, 10000));
	struct topup_view v = view(&f);
	g_assert_cmpint(v.step, ==, TOPUP_DONE);
	g_assert_cmpint(v.credited_fils, ==, AED(20));
	g_assert_null(v.notice);
	assert_disabled(&f);
	g_assert_cmpint(fx_sim(&f.fx).cashbox_fils, ==, AED(20));
	ffx_fini(&f);
}

static bool fault_jam(struct fx *f) { return fx_status(f).fault == CASH_FAULT_JAM; }
static bool no_fault_enabled(struct fx *f) { return fx_status(f).fault == CASH_FAULT_NONE && fx_status(f).enabled; }

static void test_flow_idle(void)
{
	/* Before money: attract, the transaction cancelled. */
	struct ffx f = {0};
	ffx_start(&f);
	to_pay(&f);
	int64_t id = topup_tx_id(f.t);
	tick_after(&f, f.cfg.pay_idle_ms - 1000);
	g_assert_cmpint(view(&f).step, ==, TOPUP_PAY);
	tick_after(&f, 1000);
	g_assert_cmpint(view(&f).step, ==, TOPUP_END);
	g_assert_cmpint(view(&f).exit, ==, TOPUP_EXIT_ATTRACT);
	g_assert_cmpint(tx_of(&f, id).state, ==, LEDGER_TX_CANCELLED);
	assert_disabled(&f);
	topup_free(f.t);

	/* With money: completed as on finish, then attract by itself. */
	new_flow(&f);
	to_pay(&f);
	id = topup_tx_id(f.t);
	pay(&f, AED(5));
	tick_after(&f, f.cfg.pay_idle_ms - 1000);
	pay(&f, AED(10)); /* a note is a sign of life */
	tick_after(&f, f.cfg.pay_idle_ms - 1000);
	g_assert_cmpint(view(&f).step, ==, TOPUP_PAY);
	tick_after(&f, 1000);
	struct topup_view v = view(&f);
	g_assert_cmpint(v.step, ==, TOPUP_DONE);
	g_assert_cmpint(v.credited_fils, ==, AED(15));
	g_assert_true(v.print_receipt);
	struct ledger_tx tx = tx_of(&f, id);
	g_assert_cmpint(tx.state, ==, LEDGER_TX_COMPLETED);
	g_assert_cmpint(tx.credited_fils, ==, AED(15));
	assert_disabled(&f);
	tick_after(&f, f.cfg.done_ms);
	g_assert_cmpint(view(&f).exit, ==, TOPUP_EXIT_ATTRACT);
	g_assert_true(no_open_tx(&f));
	topup_free(f.t);

	/* A note stuck in the path (a jam) when the customer walks away: no more cash is taken,
	 * the flow waits for the note up to closing_ms, then leaves with nothing credited. */
	new_flow(&f);
	to_pay(&f);
	id = topup_tx_id(f.t);
	n_escrow = fx_count(&f.fx, CASH_EV_ESCROW);
	g_assert_cmpint(sim_essp_insert_note(f.fx.sim, AED(50)), ==, 0);
	fx_notify(&f.fx);
	g_assert_true(fx_run_until(&f.fx, escrow_more, 5000));
	sim_essp_set_fault(f.fx.sim, SIM_ESSP_FAULT_JAM, true);
	g_assert_true(fx_run_until(&f.fx, fault_jam, 5000));
	g_assert_cmpint(session_idle_action(topup_session(f.t)), ==, SESSION_IDLE_WAIT);
	tick_after(&f, f.cfg.pay_idle_ms);
	g_assert_cmpint(view(&f).step, ==, TOPUP_CLOSING);
	g_assert_cmpint(tx_of(&f, id).state, ==, LEDGER_TX_OPEN);
	assert_disabled_now(&f);
	tick_after(&f, f.cfg.closing_ms);
	g_assert_cmpint(view(&f).step, ==, TOPUP_END);
	g_assert_cmpint(view(&f).exit, ==, TOPUP_EXIT_ATTRACT);
	g_assert_cmpint(tx_of(&f, id).state, ==, LEDGER_TX_CANCELLED);
	n_returned = fx_count(&f.fx, CASH_EV_RETURNED);
	sim_essp_set_fault(f.fx.sim, SIM_ESSP_FAULT_JAM, false);
	sim_essp_power_cycle(f.fx.sim, core_clock_now_ms(f.fx.loop.clock));
	fx_notify(&f.fx);
	g_assert_true(fx_run_until(&f.fx, returned_more, 20000));
	g_assert_cmpint(fx_sim(&f.fx).cashbox_fils, ==, AED(15));
	ffx_fini(&f);
}


/* topup_deadline_ms is the one timer the app keeps for the flow's screens: a tick one
 * millisecond before it changes nothing, a tick at it moves the flow, in every step with a
 * timer (CARD, PAY, CLOSING, DONE), and END has none. */
static void check_deadline(struct ffx *f, enum topup_step before)
{
	uint64_t at = topup_deadline_ms(f->t);
	g_assert_cmpuint(at, >, now(f));
	tick_at(f, at - 1);
	g_assert_cmpint(view(f).step, ==, before);
	tick_at(f, at);
	g_assert_cmpint(view(f).step, !=, before);
}

static void test_flow_deadline(void)
{
	struct ffx f = {0};
	ffx_start(&f);
	type(&f, "7");
	check_deadline(&f, TOPUP_CARD);
	g_assert_cmpint(view(&f).exit, ==, TOPUP_EXIT_ATTRACT);
	g_assert_cmpuint(topup_deadline_ms(f.t), ==, 0);
	topup_free(f.t);

	new_flow(&f);
	to_pay(&f);
	pay(&f, AED(20));
	check_deadline(&f, TOPUP_PAY);
	g_assert_cmpint(view(&f).step, ==, TOPUP_DONE);
	check_deadline(&f, TOPUP_DONE);
	g_assert_cmpint(view(&f).step, ==, TOPUP_END);
	topup_free(f.t);

	/* CLOSING: a note stuck in the path after finish. */
	new_flow(&f);
	to_pay(&f);
	pay(&f, AED(20));
	n_escrow = fx_count(&f.fx, CASH_EV_ESCROW);
	g_assert_cmpint(sim_essp_insert_note(f.fx.sim, AED(50)), ==, 0);
	fx_notify(&f.fx);
	g_assert_true(fx_run_until(&f.fx, escrow_more, 5000));
	sim_essp_set_fault(f.fx.sim, SIM_ESSP_FAULT_JAM, true);
	g_assert_true(fx_run_until(&f.fx, fault_jam, 5000));
	g_assert_cmpint(in(&f, TOPUP_IN_FINISH), ==, 0);
	g_assert_cmpint(view(&f).step, ==, TOPUP_CLOSING);
	check_deadline(&f, TOPUP_CLOSING);
	g_assert_cmpint(view(&f).step, ==, TOPUP_DONE);
	sim_essp_set_fault(f.fx.sim, SIM_ESSP_FAULT_JAM, false);
	ffx_fini(&f);
}

/* The acceptor jams mid-payment with a note on its way to the cashbox: the customer is told,
 * what was credited is completed, and the jammed note is never lost: when a technician
 * clears it, it comes back out of the front (or would be booked to suspense if credited). */
static void test_flow_fault_mid_payment(void)
{
	struct ffx f = {0};
	ffx_start(&f);
	to_pay(&f);
	int64_t id = topup_tx_id(f.t);
	pay(&f, AED(20));
	n_escrow = fx_count(&f.fx, CASH_EV_ESCROW);
	g_assert_cmpint(sim_essp_insert_note(f.fx.sim, AED(50)), ==, 0);
	fx_notify(&f.fx);
	g_assert_true(fx_run_until(&f.fx, escrow_more, 5000));
	g_assert_cmpint(topup_session(f.t)->path, ==, SESSION_PATH_ACCEPTED);
	fx_run_for(&f.fx, 10);
	sim_essp_set_fault(f.fx.sim, SIM_ESSP_FAULT_JAM, true);
	g_assert_true(fx_run_until(&f.fx, fault_jam, 5000));
	struct topup_view v = view(&f);
	g_assert_cmpstr(v.notice, ==, "topup.pay.acceptor-fault");
	g_assert_false(v.accepting);
	g_assert_cmpint(v.total_fils, ==, AED(20));
	g_assert_true(v.cancel_finishes);
	g_assert_true(v.finish_enabled);
	/* The customer finishes; the jammed note holds CLOSING for closing_ms at most. */
	g_assert_cmpint(in(&f, TOPUP_IN_FINISH), ==, 0);
	g_assert_cmpint(view(&f).step, ==, TOPUP_CLOSING);
	tick_after(&f, f.cfg.closing_ms - 1000);
	g_assert_cmpint(view(&f).step, ==, TOPUP_CLOSING);
	tick_after(&f, 1000);
	v = view(&f);
	g_assert_cmpint(v.step, ==, TOPUP_DONE);
	g_assert_cmpint(v.credited_fils, ==, AED(20));
	g_assert_cmpstr(v.notice, ==, "topup.done.note-unsettled");
	g_assert_cmpint(tx_of(&f, id).state, ==, LEDGER_TX_COMPLETED);
	g_assert_false(fx_status(&f.fx).enabled);
	g_assert_false(fx_sim(&f.fx).enabled);

	/* A technician clears the jam and power-cycles: the note comes out of the front. */
	n_returned = fx_count(&f.fx, CASH_EV_RETURNED);
	sim_essp_set_fault(f.fx.sim, SIM_ESSP_FAULT_JAM, false);
	sim_essp_power_cycle(f.fx.sim, core_clock_now_ms(f.fx.loop.clock));
	fx_notify(&f.fx);
	g_assert_true(fx_run_until(&f.fx, returned_more, 20000));
	g_assert_cmpint(fx_sim(&f.fx).cashbox_fils, ==, AED(20));
	g_assert_cmpint(fx_journal(&f.fx, CASH_NOTE_RETURNED, NULL), ==, 1);
	assert_disabled(&f);
	topup_free(f.t);
	f.t = NULL;

	/* A fault before any money: the customer is told and leaves; nothing recorded but the
	 * cancellation. A fault at CARD keeps next disabled. */
	new_flow(&f);
	to_pay(&f);
	id = topup_tx_id(f.t);
	sim_essp_set_fault(f.fx.sim, SIM_ESSP_FAULT_CASHBOX_REMOVED, true);
	fx_notify(&f.fx);
	fx_run_for(&f.fx, 2000);
	g_assert_cmpstr(view(&f).notice, ==, "topup.pay.acceptor-fault");
	g_assert_cmpint(in(&f, TOPUP_IN_CANCEL), ==, 0);
	g_assert_cmpint(view(&f).exit, ==, TOPUP_EXIT_HOME);
	g_assert_cmpint(tx_of(&f, id).state, ==, LEDGER_TX_CANCELLED);
	topup_free(f.t);
	new_flow(&f);
	type(&f, CARD);
	g_assert_cmpint(in(&f, TOPUP_IN_NEXT), ==, KIO_ERR_BUSY);
	g_assert_cmpstr(view(&f).notice, ==, "topup.pay.acceptor-unavailable");
	g_assert_false(view(&f).next_enabled);
	g_assert_true(no_open_tx(&f));
	sim_essp_set_fault(f.fx.sim, SIM_ESSP_FAULT_CASHBOX_REMOVED, false);
	fx_notify(&f.fx);
	fx_run_for(&f.fx, 2000);
	g_assert_true(view(&f).next_enabled);
	g_assert_cmpint(in(&f, TOPUP_IN_NEXT), ==, 0);
	g_assert_true(fx_run_until(&f.fx, no_fault_enabled, 5000));
	g_assert_cmpint(in(&f, TOPUP_IN_CANCEL), ==, 0);
	assert_disabled(&f);
	ffx_fini(&f);
}

static void test_flow_printer_down(void)
{
	struct ffx f = {0};
	f.printer_down = true;
	ffx_start(&f);
	g_assert_cmpstr(view(&f).printer_msg, ==, "topup.receipt.unavailable"); /* before cash */
	to_pay(&f);
	g_assert_cmpstr(view(&f).printer_msg, ==, "topup.receipt.unavailable");
	pay(&f, AED(10));
	g_assert_cmpint(in(&f, TOPUP_IN_FINISH), ==, 0);
	struct topup_view v = view(&f);
	g_assert_cmpint(v.step, ==, TOPUP_DONE);
	g_assert_true(v.tx_number_large);
	g_assert_false(v.print_receipt);
	g_assert_cmpint(v.tx_seq, ==, 1);
	topup_free(f.t);

	/* The printer comes back before the money: the receipt prints. */
	new_flow(&f);
	struct topup_input p = {.kind = TOPUP_IN_PRINTER, .printer_ok = true};
	g_assert_cmpint(topup_step(f.t, &p), ==, 0);
	g_assert_null(view(&f).printer_msg);
	to_pay(&f);
	pay(&f, AED(10));
	g_assert_cmpint(in(&f, TOPUP_IN_FINISH), ==, 0);
	v = view(&f);
	g_assert_false(v.tx_number_large);
	g_assert_true(v.print_receipt);
	g_assert_cmpint(v.tx_seq, ==, 2);
	ffx_fini(&f);
}

/* A receipt job that fails after it was sent (paper out mid-job, printer offline): DONE stops
 * saying "take your receipt" and shows the number large (invariant 7); one that printed
 * changes nothing; the input means nothing outside DONE. */
static void test_flow_receipt_failed(void)
{
	struct ffx f = {0};
	ffx_start(&f);
	struct topup_input failed = {.kind = TOPUP_IN_RECEIPT, .receipt_printed = false};
	struct topup_input printed = {.kind = TOPUP_IN_RECEIPT, .receipt_printed = true};
	g_assert_cmpint(topup_step(f.t, &failed), ==, KIO_ERR_INVALID); /* CARD: no receipt yet */
	to_pay(&f);
	pay(&f, AED(20));
	g_assert_cmpint(in(&f, TOPUP_IN_FINISH), ==, 0);
	struct topup_view v = view(&f);
	g_assert_cmpint(v.step, ==, TOPUP_DONE);
	g_assert_true(v.print_receipt);
	g_assert_false(v.tx_number_large);
	g_assert_cmpstr(v.receipt_msg, ==, "topup.done.take-receipt");
	g_assert_cmpint(topup_step(f.t, &printed), ==, 0);
	g_assert_cmpstr(view(&f).receipt_msg, ==, "topup.done.take-receipt");
	g_assert_cmpint(topup_step(f.t, &failed), ==, 0);
	v = view(&f);
	g_assert_cmpint(v.step, ==, TOPUP_DONE);
	g_assert_true(v.tx_number_large);
	g_assert_cmpstr(v.receipt_msg, ==, "topup.done.receipt-failed");
	g_assert_cmpint(v.tx_seq, ==, 1);
	g_assert_cmpint(v.credited_fils, ==, AED(20));
	/* A late word of the same job does not bring the promise back. */
	g_assert_cmpint(topup_step(f.t, &printed), ==, 0);
	g_assert_cmpstr(view(&f).receipt_msg, ==, "topup.done.receipt-failed");
	tick_after(&f, f.cfg.no_receipt_ms);
	g_assert_cmpint(view(&f).exit, ==, TOPUP_EXIT_ATTRACT);
	ffx_fini(&f);
}

/* Invariant 8: a receipt that fails late in DONE restarts its time, and the time is
 * no_receipt_ms: the customer now copies the number down. A printed receipt keeps done_ms;
 * no receipt at DONE (printer down) has no_receipt_ms from the start. */
static void test_flow_receipt_failed_time(void)
{
	struct ffx f = {0};
	ffx_start(&f);
	g_assert_cmpuint(f.cfg.no_receipt_ms, ==, 60000);
	struct topup_input failed = {.kind = TOPUP_IN_RECEIPT, .receipt_printed = false};
	struct topup_input printed = {.kind = TOPUP_IN_RECEIPT, .receipt_printed = true};
	to_pay(&f);
	pay(&f, AED(20));
	g_assert_cmpint(in(&f, TOPUP_IN_FINISH), ==, 0);
	uint64_t done_at = now(&f);
	g_assert_cmpuint(topup_deadline_ms(f.t), ==, done_at + f.cfg.done_ms);
	/* The job fails 1 s before the done screen would have gone. */
	tick_at(&f, done_at + f.cfg.done_ms - 1000);
	g_assert_cmpint(view(&f).step, ==, TOPUP_DONE);
	g_assert_cmpint(topup_step(f.t, &failed), ==, 0);
	uint64_t failed_at = now(&f);
	g_assert_cmpuint(topup_deadline_ms(f.t), ==, failed_at + f.cfg.no_receipt_ms);
	tick_at(&f, done_at + f.cfg.done_ms + 1000); /* the old time has passed: still DONE */
	g_assert_cmpint(view(&f).step, ==, TOPUP_DONE);
	/* A second word of failure does not extend it again, nor a late "printed" shorten it. */
	g_assert_cmpint(topup_step(f.t, &failed), ==, 0);
	g_assert_cmpint(topup_step(f.t, &printed), ==, 0);
	g_assert_cmpuint(topup_deadline_ms(f.t), ==, failed_at + f.cfg.no_receipt_ms);
	tick_at(&f, failed_at + f.cfg.no_receipt_ms - 1);
	g_assert_cmpint(view(&f).step, ==, TOPUP_DONE);
	tick_at(&f, failed_at + f.cfg.no_receipt_ms);
	g_assert_cmpint(view(&f).exit, ==, TOPUP_EXIT_ATTRACT);
	topup_free(f.t);

	/* Printed: done_ms, unchanged. */
	new_flow(&f);
	to_pay(&f);
	pay(&f, AED(10));
	g_assert_cmpint(in(&f, TOPUP_IN_FINISH), ==, 0);
	done_at = now(&f);
	g_assert_cmpint(topup_step(f.t, &printed), ==, 0);
	tick_at(&f, done_at + f.cfg.done_ms);
	g_assert_cmpint(view(&f).exit, ==, TOPUP_EXIT_ATTRACT);
	topup_free(f.t);

	/* No receipt at DONE (the printer could not print): no_receipt_ms from DONE. */
	new_flow(&f);
	struct topup_input down = {.kind = TOPUP_IN_PRINTER, .printer_ok = false};
	g_assert_cmpint(topup_step(f.t, &down), ==, 0);
	to_pay(&f);
	pay(&f, AED(10));
	g_assert_cmpint(in(&f, TOPUP_IN_FINISH), ==, 0);
	done_at = now(&f);
	g_assert_true(view(&f).tx_number_large);
	g_assert_cmpuint(topup_deadline_ms(f.t), ==, done_at + f.cfg.no_receipt_ms);
	tick_at(&f, done_at + f.cfg.done_ms);
	g_assert_cmpint(view(&f).step, ==, TOPUP_DONE);
	tick_at(&f, done_at + f.cfg.no_receipt_ms);
	g_assert_cmpint(view(&f).exit, ==, TOPUP_EXIT_ATTRACT);
	ffx_fini(&f);
}

/* A touch that hits no button is activity (invariant 6): the customer typing or looking for
 * notes is not timed out while they touch the screen; without touches the idle time holds. */
static void test_flow_activity(void)
{
	struct ffx f = {0};
	ffx_start(&f);
	tick_after(&f, f.cfg.card_idle_ms - 1000);
	g_assert_cmpint(in(&f, TOPUP_IN_ACTIVITY), ==, 0);
	tick_after(&f, f.cfg.card_idle_ms - 1000);
	g_assert_cmpint(view(&f).step, ==, TOPUP_CARD);
	g_assert_cmpuint(topup_deadline_ms(f.t), ==, now(&f) + 1000);
	to_pay(&f);
	tick_after(&f, f.cfg.pay_idle_ms - 1000);
	g_assert_cmpint(in(&f, TOPUP_IN_ACTIVITY), ==, 0);
	tick_after(&f, f.cfg.pay_idle_ms - 1000);
	g_assert_cmpint(view(&f).step, ==, TOPUP_PAY);
	tick_after(&f, 1000);
	g_assert_cmpint(view(&f).step, ==, TOPUP_END); /* no more touches: the idle time holds */
	g_assert_cmpint(view(&f).exit, ==, TOPUP_EXIT_ATTRACT);
	g_assert_cmpint(in(&f, TOPUP_IN_ACTIVITY), ==, 0); /* END: nothing to wait for */
	g_assert_cmpint(view(&f).step, ==, TOPUP_END);
	ffx_fini(&f);
}

/* The kiosk dies with a transaction open and notes booked; a new process opens the ledger,
 * the driver settles, recovery completes the top-up with all that was paid. */
static void test_flow_recovery(void)
{
	struct ffx f = {0};
	ffx_start(&f);
	to_pay(&f);
	int64_t id = topup_tx_id(f.t);
	pay(&f, AED(20));
	pay(&f, AED(50));
	/* Power cut: no completion, no cancel (topup_free ends nothing, invariant 4). */
	topup_free(f.t);
	f.t = NULL;
	f.fx.unit->ops->destroy(f.fx.unit);
	f.fx.unit = NULL;
	fx_close_ledger(&f.fx);

	g_assert_cmpint(fx_open_ledger(&f.fx, f.db), ==, 0);
	struct kio_error err = {0};
	g_assert_cmpint(essp_cash_new(&f.fx.tap->base, f.fx.loop.timers, &f.fx.cfg, &f.fx.journal.base, &f.fx.unit, &err),
			==, 0);
	cash_set_listener(f.fx.unit, on_event, &f);
	g_assert_true(fx_run_until(&f.fx, fx_in_run, 20000));
	struct ledger_tx *list = NULL;
	size_t n = 0;
	g_assert_cmpint(ledger_tx_recover(f.fx.ledger, core_clock_wall_s(f.fx.loop.clock), &list, &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpint(list[0].id, ==, id);
	g_assert_cmpint(list[0].state, ==, LEDGER_TX_COMPLETED);
	g_assert_true(list[0].recovered);
	g_assert_cmpint(list[0].credited_fils, ==, AED(70));
	free(list);
	assert_ledger(&f);
	g_assert_cmpint(fx_sim(&f.fx).cashbox_fils, ==, AED(70));
	assert_disabled(&f); /* a new kiosk starts with the acceptor disabled */

	/* The next customer gets the next number. */
	new_flow(&f);
	to_pay(&f);
	g_assert_cmpint(tx_of(&f, topup_tx_id(f.t)).seq, ==, 2);
	pay(&f, AED(10));
	g_assert_cmpint(in(&f, TOPUP_IN_FINISH), ==, 0);
	g_assert_cmpint(view(&f).credited_fils, ==, AED(10));
	ffx_fini(&f);
}

/* The ledger cannot write: money it cannot record is not taken, and money already taken is
 * left in an open transaction only for recovery to complete (invariants 1 and 4). */
static void test_flow_ledger_fails(void)
{
	struct ffx f = {0};
	ffx_start(&f);
	struct kio_error why = {.code = KIO_ERR_IO}, err = {0};
	snprintf(why.msg, sizeof(why.msg), "test: disk I/O error");

	/* At next: out of service, nothing opened, the acceptor never enabled. */
	ledger_write_failed(f.fx.ledger, &why);
	type(&f, CARD);
	g_assert_cmpint(in(&f, TOPUP_IN_NEXT), ==, 0);
	struct topup_view v = view(&f);
	g_assert_cmpint(v.step, ==, TOPUP_END);
	g_assert_cmpint(v.exit, ==, TOPUP_EXIT_OUT_OF_SERVICE);
	g_assert_cmpstr(v.notice, ==, "topup.error.ledger");
	g_assert_true(no_open_tx(&f));
	assert_disabled(&f);
	g_assert_cmpint(ledger_recover(f.fx.ledger, &err), ==, 0);
	topup_free(f.t);

	/* At finish, with money paid: out of service, the acceptor disabled, the transaction
	 * left open with its money; recovery completes it. */
	new_flow(&f);
	to_pay(&f);
	int64_t id = topup_tx_id(f.t);
	pay(&f, AED(20));
	ledger_write_failed(f.fx.ledger, &why);
	g_assert_cmpint(in(&f, TOPUP_IN_FINISH), ==, 0);
	v = view(&f);
	g_assert_cmpint(v.step, ==, TOPUP_END);
	g_assert_cmpint(v.exit, ==, TOPUP_EXIT_OUT_OF_SERVICE);
	g_assert_cmpstr(v.notice, ==, "topup.error.ledger");
	assert_disabled(&f);
	struct ledger_tx tx = tx_of(&f, id);
	g_assert_cmpint(tx.state, ==, LEDGER_TX_OPEN);
	g_assert_cmpint(tx.paid_fils, ==, AED(20));
	g_assert_cmpint(ledger_recover(f.fx.ledger, &err), ==, 0);
	struct ledger_tx *list = NULL;
	size_t n = 0;
	g_assert_cmpint(ledger_tx_recover(f.fx.ledger, core_clock_wall_s(f.fx.loop.clock), &list, &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpint(list[0].credited_fils, ==, AED(20));
	g_assert_cmpint(list[0].state, ==, LEDGER_TX_COMPLETED);
	free(list);
	assert_ledger(&f);
	ffx_fini(&f);
}

/* A cash unit that will not be enabled (drivers refuse a command they cannot carry out). */
struct refusing_unit {
	struct cash_unit base;
	unsigned enables, disables;
};

static int refusing_enable(struct cash_unit *u, const int64_t *fils, size_t n)
{
	(void)fils;
	(void)n;
	((struct refusing_unit *)u)->enables++;
	return KIO_ERR_IO;
}
static int refusing_disable(struct cash_unit *u)
{
	((struct refusing_unit *)u)->disables++;
	return 0;
}
static int refusing_escrow(struct cash_unit *u)
{
	(void)u;
	return KIO_ERR_BUSY;
}
static void refusing_status(struct cash_unit *u, struct cash_status *out)
{
	(void)u;
	memset(out, 0, sizeof(*out));
}

static void test_flow_enable_fails(void)
{
	static const struct cash_unit_ops ops = {.enable = refusing_enable, .disable = refusing_disable,
						 .escrow_accept = refusing_escrow, .escrow_return = refusing_escrow,
						 .get_status = refusing_status};
	struct refusing_unit unit = {.base = {.ops = &ops, .name = "refusing"}};
	struct core_clock *clock = core_clock_new(true, 1798761600);
	struct ledger *ledger = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_open(":memory:", &ledger, &err), ==, 0);
	struct topup_config cfg;
	topup_config_default(&cfg);
	struct topup *t = NULL;
	g_assert_cmpint(topup_new(&cfg, ledger, &unit.base, clock, "ar", true, &t, &err), ==, 0);
	g_assert_cmpuint(unit.disables, ==, 1); /* invariant 1: CARD takes nothing */
	for (const char *c = CARD; *c; c++) {
		struct topup_input k = {.kind = TOPUP_IN_KEY, .digit = *c};
		g_assert_cmpint(topup_step(t, &k), ==, 0);
	}
	struct topup_input next = {.kind = TOPUP_IN_NEXT};
	g_assert_cmpint(topup_step(t, &next), ==, 0);
	struct topup_view v;
	topup_view(t, &v);
	g_assert_cmpint(v.step, ==, TOPUP_CARD);
	g_assert_cmpstr(v.notice, ==, "topup.pay.acceptor-unavailable");
	g_assert_cmpuint(unit.enables, ==, 1);
	g_assert_cmpuint(unit.disables, ==, 2);
	struct ledger_tx tx;
	g_assert_cmpint(ledger_tx_current(ledger, &tx, &err), ==, KIO_ERR_NOT_FOUND);
	g_assert_cmpint(ledger_tx_get(ledger, 1, &tx, &err), ==, 0);
	g_assert_cmpint(tx.state, ==, LEDGER_TX_CANCELLED);
	g_assert_cmpstr(tx.lang, ==, "ar");
	g_assert_cmpint(ledger_check(ledger, &err), ==, 0);
	topup_free(t);
	ledger_close(ledger);
	core_clock_free(clock);
}

/* A unit that reports from inside the kiosk's own command: accepting a note credits it at
 * once (journal and event before escrow_accept returns). The flow handles the event after
 * the step that gave the command, so the note is not left "in the path" forever. */
struct eager {
	struct cash_unit base;
	struct cash_journal *journal;
	int64_t note_id, value_fils;
};

static int eager_enable(struct cash_unit *u, const int64_t *fils, size_t n)
{
	(void)u;
	(void)fils;
	(void)n;
	return 0;
}

static int eager_accept(struct cash_unit *u)
{
	struct eager *e = (struct eager *)u;
	struct kio_error err = {0};
	g_assert_cmpint(cash_journal_advance(e->journal, e->note_id, CASH_NOTE_ACCEPTED, "accept", &err), ==, 0);
	g_assert_cmpint(cash_journal_advance(e->journal, e->note_id, CASH_NOTE_CREDITED, "credit", &err), ==, 0);
	struct cash_event ev = {.kind = CASH_EV_CREDITED, .value_fils = e->value_fils, .note_id = e->note_id};
	cash_emit(u, &ev);
	return 0;
}

static int eager_disable(struct cash_unit *u)
{
	(void)u;
	return 0;
}

static void test_flow_event_inside_command(void)
{
	static const struct cash_unit_ops ops = {.enable = eager_enable, .disable = eager_disable,
						 .escrow_accept = eager_accept, .escrow_return = refusing_escrow,
						 .get_status = refusing_status};
	struct eager unit = {.base = {.ops = &ops, .name = "eager"}};
	struct core_clock *clock = core_clock_new(true, 1798761600);
	struct ledger *ledger = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_open(":memory:", &ledger, &err), ==, 0);
	struct ledger_notes *notes = ledger_notes_new(ledger, clock);
	unit.journal = ledger_notes_journal(notes);
	struct topup_config cfg;
	topup_config_default(&cfg);
	struct topup *t = NULL;
	g_assert_cmpint(topup_new(&cfg, ledger, &unit.base, clock, "en", true, &t, &err), ==, 0);
	cash_set_listener(&unit.base, topup_cash_listener, t);
	for (const char *c = CARD; *c; c++) {
		struct topup_input k = {.kind = TOPUP_IN_KEY, .digit = *c};
		g_assert_cmpint(topup_step(t, &k), ==, 0);
	}
	struct topup_input next = {.kind = TOPUP_IN_NEXT};
	g_assert_cmpint(topup_step(t, &next), ==, 0);
	g_assert_cmpint(topup_current(t), ==, TOPUP_PAY);

	struct cash_note note = {.device = "eager:1", .value_fils = AED(20), .state = CASH_NOTE_ESCROW};
	g_assert_cmpint(cash_journal_begin(unit.journal, &note, &err), ==, 0);
	unit.note_id = note.id;
	unit.value_fils = AED(20);
	struct cash_event esc = {.kind = CASH_EV_ESCROW, .value_fils = AED(20), .note_id = note.id};
	cash_emit(&unit.base, &esc);
	g_assert_cmpint(topup_session(t)->path, ==, SESSION_PATH_EMPTY);
	struct topup_view v;
	topup_view(t, &v);
	g_assert_cmpint(v.total_fils, ==, AED(20));
	g_assert_true(v.finish_enabled);
	struct topup_input fin = {.kind = TOPUP_IN_FINISH};
	g_assert_cmpint(topup_step(t, &fin), ==, 0);
	topup_view(t, &v);
	g_assert_cmpint(v.step, ==, TOPUP_DONE);
	g_assert_cmpint(v.credited_fils, ==, AED(20));
	g_assert_cmpint(ledger_check(ledger, &err), ==, 0);
	topup_free(t);
	ledger_notes_free(notes);
	ledger_close(ledger);
	core_clock_free(clock);
}

static void test_flow_config(void)
{
	struct topup_config cfg;
	topup_config_default(&cfg);
	g_assert_cmpint(cfg.min_fils, ==, 1000);
	g_assert_cmpint(cfg.max_fils, ==, 500000);
	g_assert_cmpuint(cfg.done_ms, ==, 30000);
	g_assert_cmpuint(cfg.no_receipt_ms, ==, 60000);
	g_assert_cmpstr(cfg.prefixes[0], ==, "784");
	struct topup *t = NULL;
	struct kio_error err = {0};
	cfg.max_fils = cfg.min_fils - 1;
	g_assert_cmpint(topup_new(&cfg, NULL, NULL, NULL, "en", true, &t, &err), ==, KIO_ERR_INVALID);
	g_assert_null(t);
	topup_config_default(&cfg);
	cfg.prefixes[0] = "78a";
	g_assert_cmpint(topup_new(&cfg, NULL, NULL, NULL, "en", true, &t, &err), ==, KIO_ERR_INVALID);
	g_assert_nonnull(strstr(err.msg, "78a"));
	topup_config_default(&cfg);
	cfg.n_denoms = 0;
	g_assert_cmpint(topup_new(&cfg, NULL, NULL, NULL, "en", true, &t, &err), ==, KIO_ERR_INVALID);
	topup_config_default(&cfg);
	cfg.denoms_fils[3] = 0;
	g_assert_cmpint(topup_new(&cfg, NULL, NULL, NULL, "en", true, &t, &err), ==, KIO_ERR_INVALID);
	for (int s = 0; s < TOPUP_STEP_COUNT; s++)
		g_assert_nonnull(topup_step_name(s));
	g_assert_null(topup_step_name(TOPUP_STEP_COUNT));
	g_assert_cmpstr(topup_exit_name(TOPUP_EXIT_OUT_OF_SERVICE), ==, "out-of-service");
	g_assert_cmpstr(topup_step_name(TOPUP_CHECKING), ==, "checking");
	for (int w = 0; w < TOPUP_HOST_WORD_COUNT; w++)
		g_assert_nonnull(topup_host_word_name(w));
	g_assert_null(topup_host_word_name(TOPUP_HOST_WORD_COUNT));
}

/* ---- Asking the host (host_check; topup.h invariants 9 to 12) ---- */

static int host(struct ffx *f, enum topup_host_word word, int64_t balance_fils, int64_t allowance_fils)
{
	struct topup_input i = {.kind = TOPUP_IN_HOST, .host = {word, balance_fils, allowance_fils}};
	int rc = topup_step(f->t, &i);
	assert_ledger(f);
	return rc;
}

/* A flow that asks the host, typed up to next: CHECKING, nothing open (invariant 9). */
static void to_checking(struct ffx *f, GString *points)
{
	if (points)
		topup_set_checkpoint(f->t, on_flow_point, points);
	type(f, CARD);
	g_assert_cmpint(in(f, TOPUP_IN_NEXT), ==, 0);
	struct topup_view v = view(f);
	g_assert_cmpint(v.step, ==, TOPUP_CHECKING);
	g_assert_true(v.checking);
	g_assert_cmpstr(v.card, ==, CARD);
	g_assert_cmpstr(v.card_msg, ==, "topup.card.checking");
	g_assert_false(v.next_enabled);
	g_assert_true(v.back_enabled);
	g_assert_cmpint(topup_tx_id(f->t), ==, 0);
	g_assert_true(no_open_tx(f));
	g_assert_false(fx_status(&f->fx).enabled);
	/* The number is what the host is asked about: keys wait. */
	struct topup_input key = {.kind = TOPUP_IN_KEY, .digit = '1'};
	g_assert_cmpint(topup_step(f->t, &key), ==, KIO_ERR_INVALID);
	g_assert_cmpint(in(f, TOPUP_IN_FINISH), ==, KIO_ERR_INVALID);
}

static void ffx_start_host(struct ffx *f)
{
	topup_config_default(&f->cfg);
	f->cfg.host_check = true;
	ffx_start(f);
}

static void test_flow_host_active(void)
{
	struct ffx f = {0};
	ffx_start_host(&f);
	GString *points = g_string_new("");
	to_checking(&f, points);
	g_assert_cmpstr(points->str, ==, "checking");
	/* A host word outside CHECKING moves nothing; a negative balance is no word. */
	g_assert_cmpint(host(&f, TOPUP_HOST_ACTIVE, -1, -1), ==, KIO_ERR_INVALID);
	g_assert_cmpint(view(&f).step, ==, TOPUP_CHECKING);
	g_assert_cmpint(host(&f, TOPUP_HOST_ACTIVE, AED(25), AED(1000)), ==, 0);
	struct topup_view v = view(&f);
	g_assert_cmpint(v.step, ==, TOPUP_PAY);
	g_assert_cmpstr(points->str, ==, "checking pay-enabled");
	topup_set_checkpoint(f.t, NULL, NULL);
	g_string_free(points, TRUE);
	g_assert_true(v.balance_known);
	g_assert_cmpint(v.balance_fils, ==, AED(25));
	g_assert_cmpstr(v.balance_msg, ==, "topup.pay.balance");
	g_assert_cmpint(v.max_fils, ==, AED(1000)); /* invariant 11: the allowance is below max */
	g_assert_cmpstr(v.limit_msg, ==, "topup.pay.offline-max");
	g_assert_true(fx_run_until(&f.fx, device_enabled, 5000));
	g_assert_cmpint(host(&f, TOPUP_HOST_ACTIVE, AED(25), -1), ==, KIO_ERR_INVALID); /* a late word */
	pay(&f, AED(50));
	g_assert_cmpint(in(&f, TOPUP_IN_FINISH), ==, 0);
	v = view(&f);
	g_assert_cmpint(v.step, ==, TOPUP_DONE);
	g_assert_cmpint(v.credited_fils, ==, AED(50));
	/* Invariant 12: the host's balance plus this credit, said to be so. */
	g_assert_cmpstr(v.new_balance_msg, ==, "topup.done.new-balance");
	g_assert_cmpint(v.new_balance_fils, ==, AED(75));
	g_assert_cmpuint(v.tx_ends, ==, 1);
	ffx_fini(&f);
}

static void test_flow_host_refuses(void)
{
	struct ffx f = {0};
	ffx_start_host(&f);
	/* Blocked: back at CARD with the host's reason, nothing opened (invariant 10). */
	to_checking(&f, NULL);
	g_assert_cmpint(host(&f, TOPUP_HOST_BLOCKED, AED(25), 0), ==, 0);
	struct topup_view v = view(&f);
	g_assert_cmpint(v.step, ==, TOPUP_CARD);
	g_assert_cmpstr(v.notice, ==, "topup.card.blocked");
	g_assert_cmpstr(v.card_grouped, ==, "7840 1234 5678 9014");
	g_assert_true(no_open_tx(&f));
	g_assert_cmpuint(v.tx_ends, ==, 0);
	assert_disabled(&f);
	/* The refusal was about that number: editing it clears it. */
	g_assert_cmpint(in(&f, TOPUP_IN_DEL), ==, 0);
	g_assert_null(view(&f).notice);
	type(&f, "4");
	/* Unknown (or unregistered): the same, its own reason; then a back from CHECKING. */
	g_assert_cmpint(in(&f, TOPUP_IN_NEXT), ==, 0);
	g_assert_cmpint(host(&f, TOPUP_HOST_UNKNOWN, 0, 0), ==, 0);
	g_assert_cmpstr(view(&f).notice, ==, "topup.card.unknown");
	g_assert_cmpint(in(&f, TOPUP_IN_NEXT), ==, 0);
	g_assert_null(view(&f).notice); /* asked again */
	g_assert_cmpint(in(&f, TOPUP_IN_BACK), ==, 0);
	g_assert_cmpint(view(&f).step, ==, TOPUP_CARD);
	/* Invariant 9: the answer to the abandoned question moves nothing. */
	g_assert_cmpint(host(&f, TOPUP_HOST_ACTIVE, AED(25), -1), ==, KIO_ERR_INVALID);
	g_assert_cmpint(view(&f).step, ==, TOPUP_CARD);
	g_assert_true(no_open_tx(&f));
	/* Cancel from CHECKING: home; idle there: attract. */
	g_assert_cmpint(in(&f, TOPUP_IN_NEXT), ==, 0);
	g_assert_cmpint(in(&f, TOPUP_IN_CANCEL), ==, 0);
	g_assert_cmpint(view(&f).exit, ==, TOPUP_EXIT_HOME);
	topup_free(f.t);
	new_flow(&f);
	to_checking(&f, NULL);
	g_assert_cmpuint(topup_deadline_ms(f.t), ==, now(&f) + f.cfg.card_idle_ms);
	tick_after(&f, f.cfg.card_idle_ms);
	g_assert_cmpint(view(&f).exit, ==, TOPUP_EXIT_ATTRACT);
	g_assert_true(no_open_tx(&f));
	assert_disabled(&f);
	ffx_fini(&f);
}

static void test_flow_host_offline(void)
{
	struct ffx f = {0};
	ffx_start_host(&f);
	f.cfg.min_fils = AED(10);
	/* Unreachable, 40 AED left by the limits: PAY says the balance needs the host, takes at
	 * most 40, returns a note past it as over the maximum (invariants 11, 12). */
	to_checking(&f, NULL);
	g_assert_cmpint(host(&f, TOPUP_HOST_UNREACHABLE, 0, AED(40)), ==, 0);
	struct topup_view v = view(&f);
	g_assert_cmpint(v.step, ==, TOPUP_PAY);
	g_assert_false(v.balance_known);
	g_assert_cmpstr(v.balance_msg, ==, "topup.pay.balance-needs-host");
	g_assert_cmpint(v.max_fils, ==, AED(40));
	g_assert_cmpstr(v.limit_msg, ==, "topup.pay.offline-max");
	g_assert_true(fx_run_until(&f.fx, device_enabled, 5000));
	pay(&f, AED(20));
	n_returned = fx_count(&f.fx, CASH_EV_RETURNED);
	g_assert_cmpint(sim_essp_insert_note(f.fx.sim, AED(50)), ==, 0);
	fx_notify(&f.fx);
	g_assert_true(fx_run_until(&f.fx, returned_more, 10000));
	g_assert_true(fx_run_until(&f.fx, path_empty, 10000));
	g_assert_cmpstr(view(&f).notice, ==, "topup.pay.note-over-max");
	g_assert_cmpint(view(&f).total_fils, ==, AED(20));
	pay(&f, AED(20));
	g_assert_cmpint(in(&f, TOPUP_IN_FINISH), ==, 0);
	v = view(&f);
	g_assert_cmpint(v.credited_fils, ==, AED(40));
	g_assert_null(v.new_balance_msg); /* no balance is guessed */
	g_assert_cmpint(fx_sim(&f.fx).cashbox_fils, ==, AED(40));
	topup_free(f.t);

	/* Less than the minimum left: refused at CARD, no transaction (invariant 11). */
	new_flow(&f);
	to_checking(&f, NULL);
	g_assert_cmpint(host(&f, TOPUP_HOST_UNREACHABLE, 0, AED(9)), ==, 0);
	v = view(&f);
	g_assert_cmpint(v.step, ==, TOPUP_CARD);
	g_assert_cmpstr(v.notice, ==, "topup.card.needs-host");
	g_assert_true(no_open_tx(&f));
	assert_disabled(&f);
	/* The limits bind an answered card too. */
	g_assert_cmpint(in(&f, TOPUP_IN_NEXT), ==, 0);
	g_assert_cmpint(host(&f, TOPUP_HOST_ACTIVE, AED(25), 0), ==, 0);
	g_assert_cmpstr(view(&f).notice, ==, "topup.card.needs-host");
	g_assert_true(no_open_tx(&f));
	/* No host configured: no limit, no balance, the configured maximum. */
	g_assert_cmpint(in(&f, TOPUP_IN_NEXT), ==, 0);
	g_assert_cmpint(host(&f, TOPUP_HOST_NONE, 0, -1), ==, 0);
	v = view(&f);
	g_assert_cmpint(v.step, ==, TOPUP_PAY);
	g_assert_cmpint(v.max_fils, ==, f.cfg.max_fils);
	g_assert_null(v.limit_msg);
	g_assert_cmpstr(v.balance_msg, ==, "topup.pay.balance-needs-host");
	g_assert_cmpint(in(&f, TOPUP_IN_CANCEL), ==, 0);
	g_assert_cmpuint(view(&f).tx_ends, ==, 1); /* a cancellation is an end the sync hears of */
	g_assert_true(no_open_tx(&f));
	ffx_fini(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/session/luhn", test_luhn);
	g_test_add_func("/session/card-problem", test_card_problem);
	g_test_add_func("/session/card-keys", test_card_keys);
	g_test_add_func("/session/idle-policy", test_idle_policy);
	g_test_add_func("/topup/config", test_flow_config);
	g_test_add_func("/topup/card", test_flow_card);
	g_test_add_func("/topup/finish", test_flow_finish);
	g_test_add_func("/topup/cancel-and-back", test_flow_cancel_and_back);
	g_test_add_func("/topup/cancel-with-money", test_flow_cancel_with_money);
	g_test_add_func("/topup/over-max", test_flow_over_max);
	g_test_add_func("/topup/cancel-escrow", test_flow_cancel_escrow);
	g_test_add_func("/topup/cancel-stacking", test_flow_cancel_stacking);
	g_test_add_func("/topup/idle", test_flow_idle);
	g_test_add_func("/topup/deadline", test_flow_deadline);
	g_test_add_func("/topup/fault-mid-payment", test_flow_fault_mid_payment);
	g_test_add_func("/topup/printer-down", test_flow_printer_down);
	g_test_add_func("/topup/receipt-failed", test_flow_receipt_failed);
	g_test_add_func("/topup/receipt-failed-time", test_flow_receipt_failed_time);
	g_test_add_func("/topup/activity", test_flow_activity);
	g_test_add_func("/topup/recovery", test_flow_recovery);
	g_test_add_func("/topup/ledger-fails", test_flow_ledger_fails);
	g_test_add_func("/topup/enable-fails", test_flow_enable_fails);
	g_test_add_func("/topup/event-inside-command", test_flow_event_inside_command);
	g_test_add_func("/topup/host-active", test_flow_host_active);
	g_test_add_func("/topup/host-refuses", test_flow_host_refuses);
	g_test_add_func("/topup/host-offline", test_flow_host_offline);
	return g_test_run();
}
