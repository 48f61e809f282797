/*
 * The crash suite's fees journeys through the paying flow (kiosk/flows/feespay.h): a child runs
 * a day of baskets with the real flow, ledger, note journal and eSSP driver over the simulated
 * validator (in-process, in virtual time) and SIGKILLs itself at each hit of every kill point it
 * passes, the flow's (fees-pay-enabled, fees-settling, fees-change, fees-done) and the ledger's;
 * the restarted kiosk settles the note journeys left open, recovers (ledger_tx_recover: an open
 * basket's rest to a voucher), serves the next customer, and the invariants (invariants.c),
 * ledger_check and the chain's verification are checked.
 *
 * The validator dies with the child (it is in-process): the restart settles each open journey
 * as crash-basket.c does (a credited note is in the cashbox, an earlier one went back), and the
 * cashbox is read from the settled journal. What this file puts to the test is the flow's
 * promises across a kill: the basket is open before a note can be credited, money paid always
 * ends on a line, a card or a voucher, never lost or left open, the books balance to the fils.
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
#include "kiosk/flows/feespay.h"
#include "kiosk/ledger/basket.h"
#include "kiosk/ledger/chain.h"
#include "kiosk/ledger/notes.h"
#include "kiosk/ledger/store-priv.h"
#include "kiosk/ledger/tx.h"
#include "tests/common/ledgerfix.h"
#include "tests/host/essp/essp-cash-fixture.h"

#define AED(n) ((int64_t)(n) * 100)
#define CARD "7840123456789014"
#define NOW 1798761600

#define CHILD_CHECK(expr)                                                                                              \
	do {                                                                                                           \
		if (!(expr)) {                                                                                         \
			fprintf(stderr, "crash-feesflow child: %s:%d: %s\n", __FILE__, __LINE__, #expr);              \
			_exit(90);                                                                                     \
		}                                                                                                      \
	} while (0)

/* ---- the child: a day of baskets ---- */

struct day {
	struct fx fx; /* first: fx_run_until predicates get the day */
	struct feespay *p;
	struct lfix_killer *killer;
	size_t n_credited;
};

static void on_event(void *user, const struct cash_event *ev)
{
	struct day *d = user;
	if (d->fx.n_ev < FX_EVENTS_MAX)
		d->fx.ev[d->fx.n_ev++] = *ev;
	if (d->p)
		feespay_cash_listener(d->p, ev);
}

static bool device_enabled(struct fx *f) { return fx_sim(f).enabled && fx_status(f).enabled; }
static bool credited_more(struct fx *f) { return fx_count(f, CASH_EV_CREDITED) > ((struct day *)f)->n_credited; }
static bool path_empty(struct fx *f) { return fx_sim(f).note == SIM_ESSP_NOTE_NONE && fx_info(f).note_id == 0; }

static struct feespay_line line(const char *entity, const char *service, int64_t fils, bool needs_host)
{
	struct feespay_line l;
	memset(&l, 0, sizeof(l));
	snprintf(l.ledger.entity, sizeof(l.ledger.entity), "%s", entity);
	snprintf(l.ledger.service, sizeof(l.ledger.service), "%s", service);
	snprintf(l.ledger.reference, sizeof(l.ledger.reference), "10012345");
	l.ledger.amount_fils = fils;
	snprintf(l.host_entity, sizeof(l.host_entity), "%s", entity);
	snprintf(l.host_service, sizeof(l.host_service), "%s", service);
	l.needs_host = needs_host;
	return l;
}

static void basket(struct day *d, const struct feespay_line *lines, size_t n)
{
	struct feespay_config cfg;
	feespay_config_default(&cfg);
	struct kio_error err = {0};
	feespay_free(d->p);
	d->p = NULL;
	CHILD_CHECK(feespay_new(&cfg, d->fx.ledger, d->fx.unit, d->fx.loop.clock, "en", true, lines, n, &d->p, &err) == 0);
	feespay_set_checkpoint(d->p, lfix_on_point, d->killer);
	feespay_open(d->p);
	CHILD_CHECK(feespay_current(d->p) == FEESPAY_PAY);
	CHILD_CHECK(fx_run_until(&d->fx, device_enabled, 5000));
}

static void note(struct day *d, int64_t fils)
{
	d->n_credited = fx_count(&d->fx, CASH_EV_CREDITED);
	CHILD_CHECK(sim_essp_insert_note(d->fx.sim, fils) == 0);
	fx_notify(&d->fx);
	CHILD_CHECK(fx_run_until(&d->fx, credited_more, 10000));
	CHILD_CHECK(fx_run_until(&d->fx, path_empty, 10000));
}

static void step(struct day *d, enum feespay_input_kind kind)
{
	struct feespay_input in = {.kind = kind};
	CHILD_CHECK(feespay_step(d->p, &in) == 0);
}

static void answer(struct day *d, const struct feespay_answer *a)
{
	struct feespay_input in = {.kind = FEESPAY_IN_PAY_ANSWER, .answer = a};
	feespay_pay_sent(d->p);
	CHILD_CHECK(feespay_step(d->p, &in) == 0);
}

/* The customers: overpaid with no host (lines offline, rest to a voucher); short of the total,
 * the rest to a card; cancelled before any note; a line refused, idle at the choice (voucher);
 * and a basket part-paid when the day ends (start-up recovery). */
static void child_day(const char *path, struct lfix_killer *killer)
{
	struct day d;
	memset(&d, 0, sizeof(d));
	d.killer = killer;
	fx_init(&d.fx);
	fx_prepare(&d.fx);
	CHILD_CHECK(fx_open_ledger(&d.fx, path) == 0);
	fx_start(&d.fx);
	cash_set_listener(d.fx.unit, on_event, &d);
	CHILD_CHECK(fx_run_until(&d.fx, fx_in_run, 20000));
	ledger_set_checkpoint(d.fx.ledger, lfix_on_point, killer);

	const struct feespay_line two[] = {line("police", "good-conduct", AED(220), false),
					   line("dewa", "dewa-bill", AED(450), true)};
	basket(&d, two, 2);
	note(&d, AED(500));
	note(&d, AED(200));
	const struct feespay_answer none = {.answered = false};
	answer(&d, &none);
	step(&d, FEESPAY_IN_TO_VOUCHER);
	CHILD_CHECK(feespay_current(d.p) == FEESPAY_DONE);

	basket(&d, two, 2);
	note(&d, AED(200));
	step(&d, FEESPAY_IN_CANCEL);
	CHILD_CHECK(feespay_current(d.p) == FEESPAY_CHANGE);
	step(&d, FEESPAY_IN_TO_CARD);
	for (const char *c = CARD; *c; c++) {
		struct feespay_input k = {.kind = FEESPAY_IN_KEY, .digit = *c};
		CHILD_CHECK(feespay_step(d.p, &k) == 0);
	}
	step(&d, FEESPAY_IN_NEXT);
	feespay_card_sent(d.p);
	struct feespay_input w = {.kind = FEESPAY_IN_CARD_WORD, .card = {FEESPAY_CARD_ACTIVE, true}};
	CHILD_CHECK(feespay_step(d.p, &w) == 0);
	CHILD_CHECK(feespay_current(d.p) == FEESPAY_DONE);

	basket(&d, two, 1);
	step(&d, FEESPAY_IN_CANCEL);
	CHILD_CHECK(feespay_current(d.p) == FEESPAY_END);

	const struct feespay_line mixed[] = {line("salik", "topup", AED(50), false),
					     line("police", "good-conduct", AED(220), false)};
	basket(&d, mixed, 2);
	note(&d, AED(200));
	note(&d, AED(100));
	struct feespay_answer a = {.answered = true, .n = 2};
	a.word[0] = FEESPAY_LINE_REFUSED;
	a.word[1] = FEESPAY_LINE_PAID;
	snprintf(a.host_ref[1], sizeof(a.host_ref[1]), "P-1");
	answer(&d, &a);
	CHILD_CHECK(feespay_current(d.p) == FEESPAY_CHANGE);
	fx_run_for(&d.fx, 61000);
	step(&d, FEESPAY_IN_TICK);
	CHILD_CHECK(feespay_current(d.p) == FEESPAY_DONE);

	basket(&d, two, 2);
	note(&d, AED(100));
	_exit(0); /* the day ends with it open */
}

/* ---- the restarted kiosk ---- */

static void settle_journeys(struct ledger *l, struct cash_journal *j, const char *point)
{
	sqlite3_stmt *st = NULL;
	g_assert_cmpint(sqlite3_prepare_v2(ledger_db(l), "SELECT DISTINCT device FROM note_journey", -1, &st, NULL), ==,
			SQLITE_OK);
	GPtrArray *devices = g_ptr_array_new_with_free_func(g_free);
	while (sqlite3_step(st) == SQLITE_ROW)
		g_ptr_array_add(devices, g_strdup((const char *)sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	struct kio_error err = {0};
	for (guint d = 0; d < devices->len; d++) {
		struct cash_note open[16];
		size_t n = 0;
		if (cash_journal_list_open(j, devices->pdata[d], open, G_N_ELEMENTS(open), &n, &err) != 0)
			g_error("after %s: open journeys: %s", point, err.msg);
		for (size_t i = 0; i < n; i++) {
			enum cash_note_state to = open[i].state == CASH_NOTE_CREDITED ? CASH_NOTE_STACKED : CASH_NOTE_RETURNED;
			if (cash_journal_advance(j, open[i].id, to, "settled at start-up", &err) != 0)
				g_error("after %s: settle note %lld: %s", point, (long long)open[i].id, err.msg);
		}
	}
	g_ptr_array_free(devices, TRUE);
}

static void restart(const char *path, const char *point)
{
	struct kio_error err = {0};
	struct ledger *l = NULL;
	if (ledger_open(path, &l, &err) != 0)
		g_error("after %s: reopen: %s", point, err.msg);
	struct core_clock *clock = core_clock_new(true, NOW + 86400);
	struct ledger_notes *notes = ledger_notes_new(l, clock);
	settle_journeys(l, ledger_notes_journal(notes), point);
	struct ledger_tx *list = NULL;
	size_t n = 0;
	if (ledger_tx_recover(l, NOW + 86400, &list, &n, &err) != 0)
		g_error("after %s: recovery: %s", point, err.msg);
	free(list);
	struct ledger_tx tx;
	if (ledger_tx_current(l, &tx, &err) != KIO_ERR_NOT_FOUND)
		g_error("after %s: a transaction is still open after recovery", point);
	/* The next customer: the kiosk serves again, numbers go on. */
	struct ledger_fee_line one = {.amount_fils = AED(50)};
	snprintf(one.entity, sizeof(one.entity), "rta");
	snprintf(one.service, sizeof(one.service), "salik-recharge");
	if (ledger_basket_open(l, NOW + 86400, "ar", &one, 1, &tx, &err) != 0 ||
	    ledger_basket_close(l, tx.id, NOW + 86400, LEDGER_REST_NONE, NULL, 30, NULL, &err) != 0)
		g_error("after %s: the next customer: %s", point, err.msg);
	if (ledger_check(l, &err) != 0)
		g_error("after %s: %s", point, err.msg);
	ledger_notes_free(notes);
	core_clock_free(clock);
	ledger_close(l);
}

/* Money paid never vanishes: every fees transaction with money ended, its rest on a card or a
 * voucher (invariant 9 of basket.c is checked by ledger_check and invariants.c too). */
static void test_every_point(void)
{
	static const char *const flow_points[] = {"fees-pay-enabled", "fees-settling", "fees-change", "fees-done",
						  "basket-opened", "line-result", "basket-ended"};
	const struct crash_day d = {.prefix = "kiosk-crash-feesflow", .day = child_day, .restart = restart,
				    .required = flow_points, .n_required = G_N_ELEMENTS(flow_points)};
	unsigned n_points = crash_every_point(&d);
	g_test_message("the paying flow SIGKILLed at %u hits of its and the ledger's kill points: %zu invariants held"
		       " after each restart",
		       n_points, crash_invariants_count());
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/crash-feesflow/every-point", test_every_point);
	return g_test_run();
}
