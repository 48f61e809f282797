/*
 * The kiosk's three host drivers (eSSP cash, ESC/POS receipt, Evolis card) over usbx over real
 * libusb against the device models emulated with umockdev, on the real clock: a note credited
 * exactly once, a receipt and a card printed dot for dot, faults mapped, unplug and replug.
 *
 * The loop is the kiosk's in miniature (kiosk/app.c): timers on a real core_clock, and a
 * condition variable the transports' wake callbacks signal from the usbx event thread; on each
 * wake every driver's service op runs on this thread. Waits end on a predicate with a generous
 * deadline; nothing sleeps for a fixed time. The drivers' poll intervals and timeouts are set
 * tight (rt_config_*) so the suite takes seconds, but no outcome depends on them.
 *
 * The models run on umockdev's worker thread: the test reads or changes them only under
 * usbemu_lock (model_* helpers), and usbemu_unlock plugs or unplugs the device when the
 * model's connected() changed.
 */
#include <glib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drivers/host/escpos/escpos-receipt.h"
#include "drivers/host/essp/essp-cash.h"
#include "drivers/host/evolis/evolis-card.h"
#include "drivers/sim/escpos/sim-escpos.h"
#include "drivers/sim/essp/sim-essp.h"
#include "drivers/sim/evolis/sim-evolis.h"
#include "drivers/transport/usb-ids.h"
#include "kiosk/core/clock.h"
#include "kiosk/core/timers.h"
#include "kiosk/core/xmalloc.h"
#include "kiosk/ledger/notes.h"
#include "kiosk/ledger/store.h"
#define LOG_MODULE "test-usb-drivers"
#include "kiosk/core/log.h"
#include "tests/usb/usbtest.h"

/* Long enough for a loaded CI runner under ASan; a passing test never waits this long. */
#define WAIT_MS 15000
#define EVENTS_MAX 64
#define AED(x) ((int64_t)(x) * 100)
#define CARD_NUMBER "6001234567890123"

/* ---- The real-time loop ---- */

struct rt {
	struct usbtest u;
	struct core_clock *clock;   /* real */
	struct core_timers *timers;
	pthread_mutex_t lock;
	pthread_cond_t cond;        /* on CLOCK_MONOTONIC */
	unsigned wakes;             /* under lock: wake-ups from the event thread */
	unsigned serviced;          /* wakes seen by the loop (loop thread only) */
	uint64_t services;          /* service rounds run */

	/* Devices, NULL where a test does not use one. */
	struct usbtest_dev *dc, *dr, *dk;
	struct sim_essp *cash_sim;
	struct sim_escpos *receipt_sim;
	struct sim_evolis *card_sim;
	struct sim_model cash_model, receipt_model, card_model;

	struct ledger *ledger;
	struct ledger_notes *notes;
	struct cash_unit *cash;
	struct receipt_printer *receipt;
	struct card_issuer *card;

	struct cash_event cash_ev[EVENTS_MAX];
	int n_cash;
	struct receipt_event receipt_ev[EVENTS_MAX];
	int n_receipt;
	struct cardprn_event card_ev[EVENTS_MAX];
	int n_card;
};

static void on_any_wake(void *user)
{
	struct rt *rt = user;
	pthread_mutex_lock(&rt->lock);
	rt->wakes++;
	pthread_cond_signal(&rt->cond);
	pthread_mutex_unlock(&rt->lock);
}

static void rt_init(struct rt *rt)
{
	memset(rt, 0, sizeof(*rt));
	usbtest_init(&rt->u);
	rt->u.on_any_wake = on_any_wake;
	rt->u.on_any_wake_user = rt;
	pthread_mutex_init(&rt->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rt->cond, &ca);
	pthread_condattr_destroy(&ca);
	/* Real time: libusb's transfers and the emulated devices do not run on a virtual clock. */
	rt->clock = core_clock_new(false, 0);
	rt->timers = core_timers_new(rt->clock);
}

static void rt_fini(struct rt *rt)
{
	/* Drivers, then transports and libusb (usbtest_fini), then the models they served. */
	if (rt->cash)
		rt->cash->ops->destroy(rt->cash);
	if (rt->receipt)
		rt->receipt->ops->destroy(rt->receipt);
	if (rt->card)
		rt->card->ops->destroy(rt->card);
	usbtest_fini(&rt->u);
	ledger_notes_free(rt->notes);
	ledger_close(rt->ledger);
	sim_essp_free(rt->cash_sim);
	sim_escpos_free(rt->receipt_sim);
	sim_evolis_free(rt->card_sim);
	core_timers_free(rt->timers);
	core_clock_free(rt->clock);
	pthread_cond_destroy(&rt->cond);
	pthread_mutex_destroy(&rt->lock);
}

static void rt_service(struct rt *rt)
{
	rt->services++;
	if (rt->cash)
		rt->cash->ops->service(rt->cash);
	if (rt->receipt)
		rt->receipt->ops->service(rt->receipt);
	if (rt->card)
		rt->card->ops->service(rt->card);
}

/* Blocks until a wake-up arrives or the core clock reaches until_ms. */
static void rt_sleep_until(struct rt *rt, uint64_t until_ms)
{
	uint64_t now = core_clock_now_ms(rt->clock);
	if (until_ms <= now)
		return;
	/* +1 ms: now_ms is truncated, so waking exactly at the deadline may still read it as
	 * not due, and the loop would spin through that millisecond. */
	uint64_t delta = until_ms - now + 1;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(delta / 1000);
	ts.tv_nsec += (long)(delta % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&rt->lock);
	int rc = 0;
	while (rt->wakes == rt->serviced && rc == 0)
		rc = pthread_cond_timedwait(&rt->cond, &rt->lock, &ts);
	pthread_mutex_unlock(&rt->lock);
}

/*
 * Runs the loop (service on wake-ups, fire due timers) until done(arg) holds or max_ms of
 * real time passed. done is checked after every step; it may read the drivers and, under
 * usbemu_lock, the models.
 */
static bool rt_run_until(struct rt *rt, bool (*done)(void *arg), void *arg, uint64_t max_ms)
{
	uint64_t end = core_clock_now_ms(rt->clock) + max_ms;
	for (;;) {
		pthread_mutex_lock(&rt->lock);
		unsigned wakes = rt->wakes;
		pthread_mutex_unlock(&rt->lock);
		if (wakes != rt->serviced) {
			rt->serviced = wakes;
			rt_service(rt);
		}
		core_timers_fire_due(rt->timers);
		if (done(arg))
			return true;
		uint64_t now = core_clock_now_ms(rt->clock), until = end, next = 0;
		if (now >= end)
			return false;
		if (core_timers_next_deadline(rt->timers, &next) && next < until)
			until = next;
		rt_sleep_until(rt, until);
	}
}

/* ---- Events ---- */

static void on_cash(void *user, const struct cash_event *ev)
{
	struct rt *rt = user;
	g_assert_cmpint(rt->n_cash, <, EVENTS_MAX);
	rt->cash_ev[rt->n_cash++] = *ev;
}

static void on_receipt(void *user, const struct receipt_event *ev)
{
	struct rt *rt = user;
	g_assert_cmpint(rt->n_receipt, <, EVENTS_MAX);
	rt->receipt_ev[rt->n_receipt++] = *ev;
}

static void on_card(void *user, const struct cardprn_event *ev)
{
	struct rt *rt = user;
	g_assert_cmpint(rt->n_card, <, EVENTS_MAX);
	rt->card_ev[rt->n_card++] = *ev;
}

static int count_cash(const struct rt *rt, enum cash_event_kind kind)
{
	int n = 0;
	for (int i = 0; i < rt->n_cash; i++)
		n += rt->cash_ev[i].kind == kind;
	return n;
}

static int count_cash_fault(const struct rt *rt, enum cash_event_kind kind, enum cash_fault fault)
{
	int n = 0;
	for (int i = 0; i < rt->n_cash; i++)
		n += rt->cash_ev[i].kind == kind && rt->cash_ev[i].fault == fault;
	return n;
}

static int64_t sum_cash(const struct rt *rt, enum cash_event_kind kind)
{
	int64_t sum = 0;
	for (int i = 0; i < rt->n_cash; i++)
		if (rt->cash_ev[i].kind == kind)
			sum += rt->cash_ev[i].value_fils;
	return sum;
}

static int count_receipt(const struct rt *rt, enum receipt_event_kind kind)
{
	int n = 0;
	for (int i = 0; i < rt->n_receipt; i++)
		n += rt->receipt_ev[i].kind == kind;
	return n;
}

static int count_card(const struct rt *rt, enum cardprn_event_kind kind)
{
	int n = 0;
	for (int i = 0; i < rt->n_card; i++)
		n += rt->card_ev[i].kind == kind;
	return n;
}

/* ---- Devices and drivers ---- */

static void add_cash(struct rt *rt)
{
	struct kio_error err;
	rt->cash_sim = sim_essp_new(NULL, 0, &err);
	g_assert_nonnull(rt->cash_sim);
	sim_model_essp(&rt->cash_model, rt->cash_sim);
	rt->dc = usbtest_attach(&rt->u, USB_ID_CASH_DEFAULT, &rt->cash_model, NULL);
	g_assert_cmpint(ledger_open(":memory:", &rt->ledger, &err), ==, 0);
	rt->notes = ledger_notes_new(rt->ledger, rt->clock);

	struct essp_cash_config cfg;
	essp_cash_config_default(&cfg);
	/* GA973 wants 200 ms or more between polls from a kiosk; over the emulation a round
	 * trip takes about a millisecond, so 50 ms keeps the suite fast and still idles. */
	cfg.poll_ms = 50;
	cfg.reply_timeout_ms = 1000; /* only a lost frame waits for it; none is lost here */
	cfg.reconnect_ms = 200;
	g_assert_cmpint(essp_cash_new(rt->dc->t, rt->timers, &cfg, ledger_notes_journal(rt->notes), &rt->cash,
				      &err),
			==, 0);
	cash_set_listener(rt->cash, on_cash, rt);
}

static void add_receipt(struct rt *rt)
{
	struct kio_error err;
	g_assert_cmpint(sim_escpos_new(NULL, &rt->receipt_sim, &err), ==, 0);
	sim_model_escpos(&rt->receipt_model, rt->receipt_sim);
	rt->dr = usbtest_attach(&rt->u, USB_ID_RECEIPT_DEFAULT, &rt->receipt_model, NULL);
	struct escpos_receipt_config cfg;
	escpos_receipt_config_default(&cfg);
	cfg.poll_ms = 200;
	cfg.job_poll_ms = 50;
	cfg.reply_timeout_ms = 1000;
	cfg.stall_ms = 300;
	cfg.reopen_ms = 200;
	cfg.settle_ms = 50;
	g_assert_cmpint(escpos_receipt_new(rt->dr->t, rt->timers, &cfg, &rt->receipt, &err), ==, 0);
	rt->receipt->on_event = on_receipt;
	rt->receipt->on_event_user = rt;
}

static void add_card(struct rt *rt)
{
	struct kio_error err;
	g_assert_cmpint(sim_evolis_new(NULL, &rt->card_sim, &err), ==, 0);
	sim_model_evolis(&rt->card_model, rt->card_sim);
	rt->dk = usbtest_attach(&rt->u, USB_ID_CARD_DEFAULT, &rt->card_model, NULL);
	struct evolis_card_config cfg;
	evolis_card_config_default(&cfg);
	cfg.poll_ms = 200;
	cfg.reply_timeout_ms = 1000;
	cfg.reopen_ms = 200;
	cfg.settle_ms = 50;
	g_assert_cmpint(evolis_card_new(rt->dk->t, rt->timers, &cfg, &rt->card, &err), ==, 0);
	rt->card->on_event = on_card;
	rt->card->on_event_user = rt;
}

/* ---- Models, under the device lock ---- */

static struct sim_essp_state cash_model_state(struct rt *rt)
{
	struct sim_essp_state st;
	usbemu_lock(rt->dc->emu);
	sim_essp_get_state(rt->cash_sim, &st);
	usbemu_unlock(rt->dc->emu);
	return st;
}

static void cash_model_fault(struct rt *rt, enum sim_essp_fault fault, bool on)
{
	usbemu_lock(rt->dc->emu);
	sim_essp_set_fault(rt->cash_sim, fault, on);
	usbemu_unlock(rt->dc->emu);
}

static void insert_note(struct rt *rt, int64_t fils)
{
	usbemu_lock(rt->dc->emu);
	int rc = sim_essp_insert_note(rt->cash_sim, fils);
	usbemu_unlock(rt->dc->emu);
	g_assert_cmpint(rc, ==, 0);
}

static void receipt_model_fault(struct rt *rt, enum sim_escpos_fault fault, bool on)
{
	usbemu_lock(rt->dr->emu);
	sim_escpos_fault_set(rt->receipt_sim, fault, on);
	usbemu_unlock(rt->dr->emu);
}

static size_t receipt_model_count(struct rt *rt)
{
	usbemu_lock(rt->dr->emu);
	size_t n = sim_escpos_receipt_count(rt->receipt_sim);
	usbemu_unlock(rt->dr->emu);
	return n;
}

static void card_model_fault(struct rt *rt, enum sim_evolis_fault fault, bool on)
{
	usbemu_lock(rt->dk->emu);
	sim_evolis_fault_set(rt->card_sim, fault, on);
	usbemu_unlock(rt->dk->emu);
}

/* ---- Predicates ---- */

static bool cash_running(void *arg)
{
	struct rt *rt = arg;
	struct essp_cash_info info;
	essp_cash_get_info(rt->cash, &info);
	return strcmp(info.phase, "run") == 0;
}

static bool cash_enabled_ok(void *arg)
{
	struct rt *rt = arg;
	struct cash_status st;
	rt->cash->ops->get_status(rt->cash, &st);
	return st.state == DEV_STATE_OK && st.fault == CASH_FAULT_NONE && st.enabled &&
	       cash_model_state(rt).enabled && cash_running(rt);
}

static bool cash_has_escrow(void *arg) { return count_cash(arg, CASH_EV_ESCROW) > 0; }
static bool cash_has_stacked(void *arg) { return count_cash(arg, CASH_EV_STACKED) > 0; }

static bool cash_disconnected(void *arg)
{
	struct rt *rt = arg;
	struct cash_status st;
	rt->cash->ops->get_status(rt->cash, &st);
	return st.fault == CASH_FAULT_DISCONNECTED;
}

/* The note's journey is over on both sides: no open journey, nothing in the device's path. */
static bool cash_note_settled(void *arg)
{
	struct rt *rt = arg;
	struct essp_cash_info info;
	essp_cash_get_info(rt->cash, &info);
	return info.note_id == 0 && cash_model_state(rt).note == SIM_ESSP_NOTE_NONE &&
	       count_cash(rt, CASH_EV_STACKED) + count_cash(rt, CASH_EV_RETURNED) > 0 && cash_enabled_ok(rt);
}

struct count_at_least {
	struct rt *rt;
	enum cash_event_kind kind;
	int n;
};

static bool cash_count_reaches(void *arg)
{
	struct count_at_least *c = arg;
	return count_cash(c->rt, c->kind) >= c->n;
}

struct polls {
	struct rt *rt;
	uint64_t until;
};

static bool cash_commands_reach(void *arg)
{
	struct polls *p = arg;
	struct essp_cash_info info;
	essp_cash_get_info(p->rt->cash, &info);
	return info.commands >= p->until;
}

static bool receipt_ok(void *arg)
{
	struct rt *rt = arg;
	struct receipt_status st;
	rt->receipt->ops->get_status(rt->receipt, &st);
	return st.state == DEV_STATE_OK && st.fault == RECEIPT_FAULT_NONE;
}

struct wait_ev {
	struct rt *rt;
	int from;
	int kind;
};

static bool receipt_has(void *arg)
{
	struct wait_ev *w = arg;
	for (int i = w->from; i < w->rt->n_receipt; i++)
		if ((int)w->rt->receipt_ev[i].kind == w->kind)
			return true;
	return false;
}

static const struct receipt_event *receipt_wait(struct rt *rt, int from, enum receipt_event_kind kind)
{
	struct wait_ev w = {rt, from, (int)kind};
	if (!rt_run_until(rt, receipt_has, &w, WAIT_MS))
		return NULL;
	for (int i = from; i < rt->n_receipt; i++)
		if (rt->receipt_ev[i].kind == kind)
			return &rt->receipt_ev[i];
	return NULL;
}

static bool card_has(void *arg)
{
	struct wait_ev *w = arg;
	for (int i = w->from; i < w->rt->n_card; i++)
		if ((int)w->rt->card_ev[i].kind == w->kind)
			return true;
	return false;
}

static const struct cardprn_event *card_wait(struct rt *rt, int from, enum cardprn_event_kind kind)
{
	struct wait_ev w = {rt, from, (int)kind};
	if (!rt_run_until(rt, card_has, &w, WAIT_MS))
		return NULL;
	for (int i = from; i < rt->n_card; i++)
		if (rt->card_ev[i].kind == kind)
			return &rt->card_ev[i];
	return NULL;
}

static bool card_ok(void *arg)
{
	struct rt *rt = arg;
	struct cardprn_status st;
	rt->card->ops->get_status(rt->card, &st);
	return st.state == DEV_STATE_OK && st.fault == CARDPRN_FAULT_NONE;
}

/* ---- eSSP ---- */

static void cash_enable_all(struct rt *rt)
{
	g_assert_true(rt_run_until(rt, cash_running, rt, WAIT_MS));
	int64_t all[] = {AED(5), AED(10), AED(20), AED(50), AED(100), AED(200), AED(500), AED(1000)};
	g_assert_cmpint(rt->cash->ops->enable(rt->cash, all, G_N_ELEMENTS(all)), ==, 0);
	g_assert_true(rt_run_until(rt, cash_enabled_ok, rt, WAIT_MS));
	g_assert_cmphex(cash_model_state(rt).inhibit_mask, ==, 0xFF);
}

static int64_t journal_count(struct rt *rt, enum cash_note_state state, int64_t *total)
{
	struct essp_cash_info info;
	essp_cash_get_info(rt->cash, &info);
	int64_t n = 0;
	struct kio_error err;
	g_assert_cmpint(ledger_notes_count(rt->notes, info.device, state, &n, total, &err), ==, 0);
	return n;
}

/* One note of `fils` went in, was credited once, and the journal and the cashbox agree. */
static void assert_credited_once(struct rt *rt, int64_t fils)
{
	g_assert_cmpint(count_cash(rt, CASH_EV_CREDITED), ==, 1);
	g_assert_cmpint(sum_cash(rt, CASH_EV_CREDITED), ==, fils);
	g_assert_cmpint(count_cash(rt, CASH_EV_STACKED), ==, 1);
	g_assert_cmpint(count_cash(rt, CASH_EV_RETURNED), ==, 0);
	int64_t total = 0;
	g_assert_cmpint(journal_count(rt, CASH_NOTE_STACKED, &total), ==, 1);
	g_assert_cmpint(total, ==, fils);
	g_assert_cmpint(journal_count(rt, CASH_NOTE_RETURNED, NULL), ==, 0);
	struct sim_essp_state st = cash_model_state(rt);
	g_assert_cmpint(st.cashbox_fils, ==, fils);
	g_assert_cmpuint(st.counters.stacked, ==, 1);
}

/* (a) The driver connects, a 50 AED note reaches escrow, is accepted and credited once. */
static void test_essp_credit(void)
{
	struct rt rt;
	rt_init(&rt);
	add_cash(&rt);
	cash_enable_all(&rt);
	struct essp_cash_info info;
	essp_cash_get_info(rt.cash, &info);
	g_assert_cmpstr(info.device, ==, "essp:001C962C");
	g_assert_cmpuint(info.protocol, ==, 7);

	insert_note(&rt, AED(50));
	g_assert_true(rt_run_until(&rt, cash_has_escrow, &rt, WAIT_MS));
	g_assert_cmpint(rt.cash_ev[rt.n_cash - 1].value_fils, ==, AED(50));
	struct cash_status st;
	rt.cash->ops->get_status(rt.cash, &st);
	g_assert_true(st.escrow_held);
	g_assert_cmpint(st.escrow_fils, ==, AED(50));
	g_assert_cmpint(count_cash(&rt, CASH_EV_CREDITED), ==, 0);
	g_assert_cmpint(cash_model_state(&rt).note, ==, SIM_ESSP_NOTE_ESCROW);
	g_assert_cmpint(journal_count(&rt, CASH_NOTE_ESCROW, NULL), ==, 1);

	g_assert_cmpint(rt.cash->ops->escrow_accept(rt.cash), ==, 0);
	g_assert_true(rt_run_until(&rt, cash_has_stacked, &rt, WAIT_MS));
	/* Twenty more commands (polls): nothing credits the note a second time. */
	essp_cash_get_info(rt.cash, &info);
	struct polls p = {&rt, info.commands + 20};
	g_assert_true(rt_run_until(&rt, cash_commands_reach, &p, WAIT_MS));
	assert_credited_once(&rt, AED(50));
	rt.cash->ops->get_status(rt.cash, &st);
	g_assert_false(st.escrow_held);
	g_assert_cmpuint(st.counts[3], ==, 1); /* AED 50: the fourth denomination */
	essp_cash_get_info(rt.cash, &info);
	g_assert_cmpuint(info.resends, ==, 0);
	g_assert_cmpuint(info.bad_frames, ==, 0);
	g_assert_cmpuint(cash_model_state(&rt).repeats, ==, 0);
	g_test_message("eSSP: %" G_GUINT64_FORMAT " commands, %" G_GUINT64_FORMAT " service rounds",
		       info.commands, rt.services);
	rt_fini(&rt);
}

enum unplug_case {
	UNPLUG_HELD,          /* the note waits in escrow; the cable is pulled and put back */
	UNPLUG_HELD_POWER,    /* the same, and the validator loses power while unplugged */
	UNPLUG_JUST_ACCEPTED, /* the kiosk accepted; the cable is pulled before the loop runs */
};

/*
 * (b) Unplugged with a note in the path: DISCONNECTED, then on replug the driver reconnects
 * and SETTLE ends the journey exactly once, credited or returned, as the device says.
 */
static void test_essp_unplug_escrow(gconstpointer data)
{
	enum unplug_case c = (enum unplug_case)GPOINTER_TO_INT(data);
	struct rt rt;
	rt_init(&rt);
	add_cash(&rt);
	cash_enable_all(&rt);
	insert_note(&rt, AED(50));
	g_assert_true(rt_run_until(&rt, cash_has_escrow, &rt, WAIT_MS));
	if (c == UNPLUG_JUST_ACCEPTED)
		g_assert_cmpint(rt.cash->ops->escrow_accept(rt.cash), ==, 0);
	unsigned addr = usbemu_address(rt.dc->emu);

	cash_model_fault(&rt, SIM_ESSP_FAULT_DISCONNECT, true);
	g_assert_false(usbemu_plugged(rt.dc->emu));
	g_assert_true(rt_run_until(&rt, cash_disconnected, &rt, WAIT_MS));
	struct cash_status st;
	rt.cash->ops->get_status(rt.cash, &st);
	g_assert_cmpint(st.state, ==, DEV_STATE_OFFLINE);
	g_assert_cmpint(count_cash_fault(&rt, CASH_EV_FAULT, CASH_FAULT_DISCONNECTED), ==, 1);
	g_assert_cmpint(count_cash(&rt, CASH_EV_CREDITED) + count_cash(&rt, CASH_EV_RETURNED), ==, 0);

	usbemu_lock(rt.dc->emu);
	if (c == UNPLUG_HELD_POWER)
		sim_essp_power_cycle(rt.cash_sim, core_clock_now_ms(rt.clock));
	sim_essp_set_fault(rt.cash_sim, SIM_ESSP_FAULT_DISCONNECT, false);
	usbemu_unlock(rt.dc->emu);
	g_assert_true(usbemu_plugged(rt.dc->emu));
	g_assert_cmpuint(usbemu_address(rt.dc->emu), !=, addr);
	g_assert_true(rt_run_until(&rt, cash_note_settled, &rt, WAIT_MS));
	g_assert_cmpint(count_cash_fault(&rt, CASH_EV_RECOVERED, CASH_FAULT_DISCONNECTED), ==, 1);

	/* More polls: the outcome does not change or repeat. */
	struct essp_cash_info info;
	essp_cash_get_info(rt.cash, &info);
	struct polls p = {&rt, info.commands + 20};
	g_assert_true(rt_run_until(&rt, cash_commands_reach, &p, WAIT_MS));
	int credited = count_cash(&rt, CASH_EV_CREDITED), returned = count_cash(&rt, CASH_EV_RETURNED);
	g_assert_cmpint(credited + returned, ==, 1);
	struct sim_essp_state ms = cash_model_state(&rt);
	if (credited) {
		assert_credited_once(&rt, AED(50));
	} else {
		g_assert_cmpint(sum_cash(&rt, CASH_EV_RETURNED), ==, AED(50));
		g_assert_cmpint(journal_count(&rt, CASH_NOTE_RETURNED, NULL), ==, 1);
		g_assert_cmpint(journal_count(&rt, CASH_NOTE_STACKED, NULL), ==, 0);
		g_assert_cmpint(ms.cashbox_fils, ==, 0);
		g_assert_cmpuint(ms.counters.stacked, ==, 0);
	}
	/* Nothing is left open in the journal. */
	g_assert_cmpint(journal_count(&rt, CASH_NOTE_ESCROW, NULL) + journal_count(&rt, CASH_NOTE_ACCEPTED, NULL) +
				journal_count(&rt, CASH_NOTE_CREDITED, NULL),
			==, 0);
	/* A held note nobody accepted is never credited. */
	if (c != UNPLUG_JUST_ACCEPTED)
		g_assert_cmpint(returned, ==, 1);
	g_test_message("unplugged with the note %s: %s", c == UNPLUG_JUST_ACCEPTED ? "accepted" : "held",
		       credited ? "credited" : "returned");

	/* The session after the replug takes the next note normally. */
	struct count_at_least next = {&rt, CASH_EV_ESCROW, count_cash(&rt, CASH_EV_ESCROW) + 1};
	insert_note(&rt, AED(20));
	g_assert_true(rt_run_until(&rt, cash_count_reaches, &next, WAIT_MS));
	g_assert_cmpint(rt.cash_ev[rt.n_cash - 1].value_fils, ==, AED(20));
	g_assert_cmpint(rt.cash->ops->escrow_accept(rt.cash), ==, 0);
	next = (struct count_at_least){&rt, CASH_EV_STACKED, count_cash(&rt, CASH_EV_STACKED) + 1};
	g_assert_true(rt_run_until(&rt, cash_count_reaches, &next, WAIT_MS));
	g_assert_cmpint(count_cash(&rt, CASH_EV_CREDITED), ==, credited + 1);
	g_assert_cmpint(cash_model_state(&rt).cashbox_fils, ==, (credited ? AED(50) : 0) + AED(20));
	rt_fini(&rt);
}

/* ---- ESC/POS ---- */

/* A w x h test image: a frame, diagonals and pseudo-random speckle, 1 = ink. */
struct img {
	struct receipt_image ri;
	uint8_t *bits;
};

static void img_make(struct img *im, int w, int h, uint32_t seed)
{
	int stride = (w + 7) / 8;
	im->bits = xcalloc((size_t)h, (size_t)stride);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			seed = seed * 1103515245u + 12345u;
			bool ink = x < 2 || y < 2 || x >= w - 2 || y >= h - 2 || x == y || x == w - 1 - y ||
				   ((seed >> 16) & 7) == 0;
			if (ink)
				im->bits[(size_t)y * (size_t)stride + (size_t)x / 8] |= (uint8_t)(0x80u >> (x % 8));
		}
	im->ri = (struct receipt_image){.width = w, .height = h, .stride = stride, .bits = im->bits};
}

static bool img_get(const struct img *im, int x, int y)
{
	return im->bits[(size_t)y * (size_t)im->ri.stride + (size_t)x / 8] & (0x80u >> (x % 8));
}

/* Receipt `index` of the model is the image at its top-left, white below, and cut. */
static void assert_receipt_is(struct rt *rt, size_t index, const struct img *im)
{
	usbemu_lock(rt->dr->emu);
	g_assert_cmpuint(sim_escpos_receipt_count(rt->receipt_sim), >, index);
	const struct sim_escpos_page *pg = sim_escpos_receipt(rt->receipt_sim, index);
	g_assert_cmpint(pg->height, ==, im->ri.height + 24); /* GS V 66 24 feeds past the cutter */
	g_assert_true(pg->partial_cut);
	int bad_x = -1, bad_y = -1;
	for (int y = 0; y < pg->height && bad_x < 0; y++)
		for (int x = 0; x < pg->width; x++) {
			bool want = y < im->ri.height && x < im->ri.width && img_get(im, x, y);
			if (sim_escpos_page_get(pg, x, y) != want) {
				bad_x = x;
				bad_y = y;
				break;
			}
		}
	usbemu_unlock(rt->dr->emu);
	if (bad_x >= 0)
		g_error("receipt %zu: dot (%d,%d) differs from the image", index, bad_x, bad_y);
}

struct model_rows {
	struct rt *rt;
	int rows;
};

/* The printer has printed at least `rows` rows of the receipt in progress. */
static bool receipt_model_printing(void *arg)
{
	struct model_rows *m = arg;
	usbemu_lock(m->rt->dr->emu);
	int h = sim_escpos_current(m->rt->receipt_sim)->height;
	usbemu_unlock(m->rt->dr->emu);
	return h >= m->rows;
}

static bool receipt_disconnected(void *arg)
{
	struct rt *rt = arg;
	struct receipt_status st;
	rt->receipt->ops->get_status(rt->receipt, &st);
	return st.fault == RECEIPT_FAULT_DISCONNECTED;
}

/* (c) A 576-dot receipt prints dot for dot; the printer's status was read before and after. */
static void test_escpos_print(void)
{
	struct rt rt;
	rt_init(&rt);
	add_receipt(&rt);
	g_assert_true(rt_run_until(&rt, receipt_ok, &rt, WAIT_MS));
	struct receipt_status st;
	rt.receipt->ops->get_status(rt.receipt, &st);
	g_assert_cmpint(st.width_dots, ==, 576);

	struct img im;
	img_make(&im, 576, 700, 1); /* three GS v 0 blocks of up to 255 rows */
	g_assert_cmpint(rt.receipt->ops->print(rt.receipt, "TXN-USB-1", &im.ri), ==, 0);
	const struct receipt_event *ev = receipt_wait(&rt, 0, RECEIPT_EV_PRINTED);
	g_assert_nonnull(ev);
	g_assert_cmpstr(ev->job_id, ==, "TXN-USB-1");
	g_assert_cmpint(count_receipt(&rt, RECEIPT_EV_FAILED), ==, 0);
	g_assert_cmpuint(receipt_model_count(&rt), ==, 1);
	assert_receipt_is(&rt, 0, &im);

	struct escpos_receipt_stats ds;
	escpos_receipt_stats(rt.receipt, &ds);
	g_assert_cmpuint(ds.jobs_printed, ==, 1);
	g_assert_cmpuint(ds.garbage_bytes, ==, 0);
	g_assert_cmpuint(ds.status_timeouts, ==, 0);
	struct sim_escpos_stats ss;
	usbemu_lock(rt.dr->emu);
	sim_escpos_stats(rt.receipt_sim, &ss);
	usbemu_unlock(rt.dr->emu);
	g_assert_cmpuint(ss.protocol_errors, ==, 0);
	g_assert_cmpuint(ss.text_bytes, ==, 0);
	g_assert_cmpuint(ss.status_replies, >=, 8); /* DLE EOT rounds before and after */
	free(im.bits);
	rt_fini(&rt);
}

/* (c) The cover opens mid-job: FAILED with the fault shown; closed: RECOVERED, prints again. */
static void test_escpos_cover_open(void)
{
	struct rt rt;
	rt_init(&rt);
	add_receipt(&rt);
	g_assert_true(rt_run_until(&rt, receipt_ok, &rt, WAIT_MS));
	struct img im;
	img_make(&im, 576, 1000, 5); /* 72 KB: the driver sends it a window at a time */
	g_assert_cmpint(rt.receipt->ops->print(rt.receipt, "MID", &im.ri), ==, 0);
	/* The driver keeps less than the printer's 4 KB buffer unconfirmed and only this thread
	 * runs it, so when the model shows the first rows the job is far from done. */
	struct model_rows m = {&rt, 1};
	g_assert_true(rt_run_until(&rt, receipt_model_printing, &m, WAIT_MS));
	g_assert_cmpint(count_receipt(&rt, RECEIPT_EV_PRINTED), ==, 0);
	receipt_model_fault(&rt, SIM_ESCPOS_FAULT_COVER_OPEN, true);

	const struct receipt_event *ev = receipt_wait(&rt, 0, RECEIPT_EV_FAILED);
	g_assert_nonnull(ev);
	g_assert_cmpstr(ev->job_id, ==, "MID");
	g_assert_cmpint(ev->fault, ==, RECEIPT_FAULT_COVER_OPEN);
	struct receipt_status st;
	rt.receipt->ops->get_status(rt.receipt, &st);
	g_assert_cmpint(st.state, ==, DEV_STATE_FAULT);
	g_assert_cmpint(st.fault, ==, RECEIPT_FAULT_COVER_OPEN);
	g_assert_cmpint(count_receipt(&rt, RECEIPT_EV_PRINTED), ==, 0);
	g_assert_cmpuint(receipt_model_count(&rt), ==, 0);

	receipt_model_fault(&rt, SIM_ESCPOS_FAULT_COVER_OPEN, false);
	ev = receipt_wait(&rt, 0, RECEIPT_EV_RECOVERED);
	g_assert_nonnull(ev);
	g_assert_cmpint(ev->fault, ==, RECEIPT_FAULT_COVER_OPEN);
	g_assert_true(rt_run_until(&rt, receipt_ok, &rt, WAIT_MS));
	/* The interrupted receipt was finished white and cut off: a stub, never a second print. */
	g_assert_cmpuint(receipt_model_count(&rt), ==, 1);
	g_assert_cmpint(count_receipt(&rt, RECEIPT_EV_PRINTED), ==, 0);

	int from = rt.n_receipt;
	g_assert_cmpint(rt.receipt->ops->print(rt.receipt, "AGAIN", &im.ri), ==, 0);
	ev = receipt_wait(&rt, from, RECEIPT_EV_PRINTED);
	g_assert_nonnull(ev);
	g_assert_cmpstr(ev->job_id, ==, "AGAIN");
	assert_receipt_is(&rt, 1, &im);
	g_assert_cmpint(count_receipt(&rt, RECEIPT_EV_FAILED), ==, 1);
	free(im.bits);
	rt_fini(&rt);
}

/* (c) Unplugged while idle: DISCONNECTED, print refused; replugged: RECOVERED, prints. */
static void test_escpos_unplug(void)
{
	struct rt rt;
	rt_init(&rt);
	add_receipt(&rt);
	g_assert_true(rt_run_until(&rt, receipt_ok, &rt, WAIT_MS));
	receipt_model_fault(&rt, SIM_ESCPOS_FAULT_DISCONNECT, true);
	g_assert_true(rt_run_until(&rt, receipt_disconnected, &rt, WAIT_MS));
	struct receipt_status st;
	rt.receipt->ops->get_status(rt.receipt, &st);
	g_assert_cmpint(st.state, ==, DEV_STATE_OFFLINE);
	const struct receipt_event *ev = receipt_wait(&rt, 0, RECEIPT_EV_FAULT);
	g_assert_nonnull(ev);
	g_assert_cmpint(ev->fault, ==, RECEIPT_FAULT_DISCONNECTED);
	struct img im;
	img_make(&im, 576, 120, 9);
	g_assert_cmpint(rt.receipt->ops->print(rt.receipt, "NODEV", &im.ri), ==, KIO_ERR_NO_DEVICE);

	usbemu_lock(rt.dr->emu);
	sim_escpos_power_cycle(rt.receipt_sim); /* a USB-powered-down printer starts empty */
	sim_escpos_fault_set(rt.receipt_sim, SIM_ESCPOS_FAULT_DISCONNECT, false);
	usbemu_unlock(rt.dr->emu);
	ev = receipt_wait(&rt, 0, RECEIPT_EV_RECOVERED);
	g_assert_nonnull(ev);
	g_assert_cmpint(ev->fault, ==, RECEIPT_FAULT_DISCONNECTED);
	g_assert_true(rt_run_until(&rt, receipt_ok, &rt, WAIT_MS));
	struct escpos_receipt_stats ds;
	escpos_receipt_stats(rt.receipt, &ds);
	g_assert_cmpuint(ds.reopens, >=, 1);

	int from = rt.n_receipt;
	g_assert_cmpint(rt.receipt->ops->print(rt.receipt, "AFTER", &im.ri), ==, 0);
	g_assert_nonnull(receipt_wait(&rt, from, RECEIPT_EV_PRINTED));
	g_assert_cmpuint(receipt_model_count(&rt), ==, 1);
	assert_receipt_is(&rt, 0, &im);
	free(im.bits);
	rt_fini(&rt);
}

/* ---- Evolis ---- */

/* A card face: a frame, a filled block and a grey ramp that the threshold splits at 128. */
static uint8_t *make_front(struct cardprn_image *img)
{
	uint8_t *rgba = xcalloc(1016 * 648, 4);
	for (int y = 0; y < 648; y++)
		for (int x = 0; x < 1016; x++) {
			uint8_t *p = rgba + ((size_t)y * 1016 + (size_t)x) * 4;
			uint8_t v = 255;
			if (x < 8 || y < 8 || x >= 1008 || y >= 640)
				v = 0;
			else if (x >= 100 && x < 300 && y >= 100 && y < 200)
				v = 20;
			else if (y >= 400 && y < 450)
				v = (uint8_t)(x * 255 / 1015);
			p[0] = p[1] = p[2] = v;
			p[3] = 255;
		}
	*img = (struct cardprn_image){.width = 1016, .height = 648, .stride = 1016 * 4, .rgba = rgba};
	return rgba;
}

/* The last card out of the printer was issued (not rejected), carries `number` on track 2 and
 * the face, dot for dot. */
static void assert_card_is(struct rt *rt, size_t index, const char *number, const struct cardprn_image *img)
{
	usbemu_lock(rt->dk->emu);
	g_assert_cmpuint(sim_evolis_card_count(rt->card_sim), >, index);
	const struct sim_evolis_card *c = sim_evolis_card(rt->card_sim, index);
	bool rejected = c->rejected, encoded = c->encoded, printed = c->printed;
	char track2[sizeof(c->track2)];
	memcpy(track2, c->track2, sizeof(track2));
	int bad_x = -1, bad_y = -1;
	for (int y = 0; y < 648 && bad_x < 0; y++)
		for (int x = 0; x < 1016; x++) {
			const uint8_t *p = img->rgba + (size_t)y * (size_t)img->stride + (size_t)x * 4;
			bool want = p[3] == 255 && p[0] < 128;
			if (sim_evolis_card_get(c, x, y) != want) {
				bad_x = x;
				bad_y = y;
				break;
			}
		}
	usbemu_unlock(rt->dk->emu);
	g_assert_false(rejected);
	g_assert_true(encoded);
	g_assert_cmpstr(track2, ==, number);
	g_assert_true(printed);
	if (bad_x >= 0)
		g_error("card %zu: dot (%d,%d) differs from the face", index, bad_x, bad_y);
}

static size_t card_model_count(struct rt *rt)
{
	usbemu_lock(rt->dk->emu);
	size_t n = sim_evolis_card_count(rt->card_sim);
	usbemu_unlock(rt->dk->emu);
	return n;
}

static bool card_disconnected(void *arg)
{
	struct rt *rt = arg;
	struct cardprn_status st;
	rt->card->ops->get_status(rt->card, &st);
	return st.fault == CARDPRN_FAULT_DISCONNECTED;
}

/* (d) A card issued: track 2 holds the number, the face is printed; feeder empty is mapped;
 * unplug and replug. */
static void test_evolis_issue(void)
{
	struct rt rt;
	rt_init(&rt);
	add_card(&rt);
	struct cardprn_image img;
	uint8_t *front = make_front(&img);
	g_assert_true(rt_run_until(&rt, card_ok, &rt, WAIT_MS));

	g_assert_cmpint(rt.card->ops->issue(rt.card, CARD_NUMBER, &img), ==, 0);
	const struct cardprn_event *ev = card_wait(&rt, 0, CARDPRN_EV_ISSUED);
	g_assert_nonnull(ev);
	g_assert_cmpstr(ev->card_number, ==, CARD_NUMBER);
	g_assert_cmpint(count_card(&rt, CARDPRN_EV_FAILED), ==, 0);
	g_assert_cmpuint(card_model_count(&rt), ==, 1);
	assert_card_is(&rt, 0, CARD_NUMBER, &img);
	struct cardprn_status st;
	rt.card->ops->get_status(rt.card, &st);
	g_assert_cmpuint(st.cards_issued, ==, 1);

	/* Feeder empty: the issue fails with the class fault, no card leaves the feeder. */
	card_model_fault(&rt, SIM_EVOLIS_FAULT_FEEDER_EMPTY, true);
	int from = rt.n_card;
	g_assert_cmpint(rt.card->ops->issue(rt.card, "6001000000000002", &img), ==, 0);
	ev = card_wait(&rt, from, CARDPRN_EV_FAILED);
	g_assert_nonnull(ev);
	g_assert_cmpint(ev->fault, ==, CARDPRN_FAULT_FEEDER_EMPTY);
	g_assert_cmpstr(ev->card_number, ==, "6001000000000002");
	rt.card->ops->get_status(rt.card, &st);
	g_assert_cmpint(st.fault, ==, CARDPRN_FAULT_FEEDER_EMPTY);
	g_assert_cmpint(st.state, ==, DEV_STATE_FAULT);
	g_assert_cmpuint(card_model_count(&rt), ==, 1);
	card_model_fault(&rt, SIM_EVOLIS_FAULT_FEEDER_EMPTY, false);
	g_assert_true(rt_run_until(&rt, card_ok, &rt, WAIT_MS)); /* the idle poll sees it */

	/* Unplugged: DISCONNECTED, issue refused; replugged: RECOVERED, issues again. */
	card_model_fault(&rt, SIM_EVOLIS_FAULT_DISCONNECT, true);
	g_assert_true(rt_run_until(&rt, card_disconnected, &rt, WAIT_MS));
	rt.card->ops->get_status(rt.card, &st);
	g_assert_cmpint(st.state, ==, DEV_STATE_OFFLINE);
	g_assert_cmpint(rt.card->ops->issue(rt.card, CARD_NUMBER, &img), ==, KIO_ERR_NO_DEVICE);
	from = rt.n_card;
	card_model_fault(&rt, SIM_EVOLIS_FAULT_DISCONNECT, false);
	ev = card_wait(&rt, from, CARDPRN_EV_RECOVERED);
	g_assert_nonnull(ev);
	g_assert_cmpint(ev->fault, ==, CARDPRN_FAULT_DISCONNECTED);
	g_assert_true(rt_run_until(&rt, card_ok, &rt, WAIT_MS));
	from = rt.n_card;
	g_assert_cmpint(rt.card->ops->issue(rt.card, "6001000000000003", &img), ==, 0);
	g_assert_nonnull(card_wait(&rt, from, CARDPRN_EV_ISSUED));
	assert_card_is(&rt, 1, "6001000000000003", &img);
	struct evolis_card_stats cs;
	evolis_card_stats(rt.card, &cs);
	g_assert_cmpuint(cs.issued, ==, 2);
	g_assert_cmpuint(cs.failed, ==, 1);
	g_assert_cmpuint(cs.timeouts, ==, 0);
	g_assert_cmpuint(cs.garbage_replies, ==, 0);
	free(front);
	rt_fini(&rt);
}

/* ---- All three ---- */

struct all_done {
	struct rt *rt;
	int receipts, cards, stacked;
};

static bool all_done(void *arg)
{
	struct all_done *a = arg;
	return count_receipt(a->rt, RECEIPT_EV_PRINTED) >= a->receipts &&
	       count_card(a->rt, CARDPRN_EV_ISSUED) >= a->cards && count_cash(a->rt, CASH_EV_STACKED) >= a->stacked;
}

static bool accept_escrow_then_stacked(void *arg)
{
	struct all_done *a = arg;
	struct cash_status st;
	a->rt->cash->ops->get_status(a->rt->cash, &st);
	if (st.escrow_held)
		g_assert_cmpint(a->rt->cash->ops->escrow_accept(a->rt->cash), ==, 0);
	return all_done(arg);
}

/*
 * (e) The three drivers on one usbx context and one loop: a note, a receipt and a card at the
 * same time; then the card printer leaves and comes back while the others carry on.
 */
static void test_all_three(void)
{
	struct rt rt;
	rt_init(&rt);
	add_cash(&rt);
	add_receipt(&rt);
	add_card(&rt);
	struct cardprn_image card_img;
	uint8_t *front = make_front(&card_img);
	struct img im;
	img_make(&im, 576, 500, 3);
	cash_enable_all(&rt);
	g_assert_true(rt_run_until(&rt, receipt_ok, &rt, WAIT_MS));
	g_assert_true(rt_run_until(&rt, card_ok, &rt, WAIT_MS));

	insert_note(&rt, AED(100));
	g_assert_cmpint(rt.receipt->ops->print(rt.receipt, "TXN-ALL", &im.ri), ==, 0);
	g_assert_cmpint(rt.card->ops->issue(rt.card, CARD_NUMBER, &card_img), ==, 0);
	struct all_done a = {&rt, 1, 1, 1};
	g_assert_true(rt_run_until(&rt, accept_escrow_then_stacked, &a, WAIT_MS));
	assert_credited_once(&rt, AED(100));
	assert_receipt_is(&rt, 0, &im);
	assert_card_is(&rt, 0, CARD_NUMBER, &card_img);

	/* The card printer leaves: the other two do not notice. */
	card_model_fault(&rt, SIM_EVOLIS_FAULT_DISCONNECT, true);
	g_assert_true(rt_run_until(&rt, card_disconnected, &rt, WAIT_MS));
	g_assert_cmpint(rt.receipt->ops->print(rt.receipt, "TXN-ALL-2", &im.ri), ==, 0);
	insert_note(&rt, AED(10));
	a = (struct all_done){&rt, 2, 1, 2};
	g_assert_true(rt_run_until(&rt, accept_escrow_then_stacked, &a, WAIT_MS));
	assert_receipt_is(&rt, 1, &im);
	g_assert_cmpint(sum_cash(&rt, CASH_EV_CREDITED), ==, AED(110));
	g_assert_true(cash_enabled_ok(&rt));
	g_assert_true(receipt_ok(&rt));
	g_assert_cmpint(count_cash_fault(&rt, CASH_EV_FAULT, CASH_FAULT_DISCONNECTED), ==, 0);

	card_model_fault(&rt, SIM_EVOLIS_FAULT_DISCONNECT, false);
	g_assert_true(rt_run_until(&rt, card_ok, &rt, WAIT_MS));
	int from = rt.n_card;
	g_assert_cmpint(rt.card->ops->issue(rt.card, "6001000000000009", &card_img), ==, 0);
	g_assert_nonnull(card_wait(&rt, from, CARDPRN_EV_ISSUED));
	assert_card_is(&rt, 1, "6001000000000009", &card_img);
	g_assert_cmpint(count_receipt(&rt, RECEIPT_EV_FAILED), ==, 0);
	g_assert_cmpint(count_card(&rt, CARDPRN_EV_FAILED), ==, 0);
	free(im.bits);
	free(front);
	rt_fini(&rt);
}

int main(int argc, char **argv)
{
	usbtest_main_init();
	g_test_init(&argc, &argv, NULL);
	enum log_level level;
	if (getenv("KIOSK_LOG") && log_level_parse(getenv("KIOSK_LOG"), &level))
		log_set_level(level);
	g_test_add_func("/usb-drivers/essp/credit", test_essp_credit);
	g_test_add_data_func("/usb-drivers/essp/unplug-held", GINT_TO_POINTER(UNPLUG_HELD), test_essp_unplug_escrow);
	g_test_add_data_func("/usb-drivers/essp/unplug-held-power-cycle", GINT_TO_POINTER(UNPLUG_HELD_POWER),
			     test_essp_unplug_escrow);
	g_test_add_data_func("/usb-drivers/essp/unplug-just-accepted", GINT_TO_POINTER(UNPLUG_JUST_ACCEPTED),
			     test_essp_unplug_escrow);
	g_test_add_func("/usb-drivers/escpos/print", test_escpos_print);
	g_test_add_func("/usb-drivers/escpos/cover-open-mid-job", test_escpos_cover_open);
	g_test_add_func("/usb-drivers/escpos/unplug-replug", test_escpos_unplug);
	g_test_add_func("/usb-drivers/evolis/issue-fault-unplug", test_evolis_issue);
	g_test_add_func("/usb-drivers/all-three", test_all_three);
	return g_test_run();
}
