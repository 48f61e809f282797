/*
 * The application: start-up in a fixed order (configuration, catalogues, scenario,
 * fonts, display, database, devices, recovery of what a crash left open), one event loop,
 * device events turned into screen state, and an orderly shutdown that undoes each step.
 *
 * The loop: input and timers are handled as they come; the page is rebuilt only when
 * state changed and drawn only when rebuilt, so an idle attract screen costs nothing.
 * With the real clock it blocks in SDL_WaitEventTimeout until the next event or timer.
 * With the virtual clock (headless) there is no waiting: when the kiosk is quiet the
 * scenario runs its next command, and `wait` jumps the clock from timer to timer.
 *
 * Out of service (the store cannot record money; kiosk/ledger/store.h):
 *
 *   IN SERVICE ──a ledger write fails (device event, note journal)──► OUT OF SERVICE
 *        ▲                                                                 │
 *        └──────── the store check (every APP_STORE_CHECK_MS) writes ──────┘
 *
 *  1. Out of service, no money is taken: the note acceptor is disabled, every customer
 *     service is unavailable, and attract and home say so in both languages.
 *  2. The switch is made from the loop (a timer), never inside the ledger call that failed:
 *     that call may come from a driver's own call stack.
 *
 * The host link (kiosk/sync/sync.h; the app never sees libcurl or SQLite of it):
 *  3. The sync is started before any input is read (invariant 8: the first frame may come
 *     before it, no tap can); TLS files it cannot read or a URL it refuses are a
 *     configuration error (exit 2), checked before anything is created.
 *  4. Every transaction's end (a flow's completion or cancellation, recovery's) kicks the
 *     drain; the devices' states as the technician sees them go to the heartbeat.
 *  5. A fault of the sync (the host refused a record: record-conflict, chain-broken,
 *     bad-record) is a device state (`host`, kiosk/kdev.h), a device event in the ledger and
 *     an error in the log saying what a technician must do; the kiosk stays in service for
 *     cash (its records are kept, the offline limits bound what it takes meanwhile).
 *  6. A question to the host is out for at most host.timeout_ms of real time, and while it is
 *     the kiosk is busy: the scenario runner does not step and the virtual clock stands still,
 *     so the answered state is what the next scenario line sees.
 *  7. A basket's payment (app_pay_ask) and a voucher's redemption (app_voucher_redeem) are
 *     retried by the sync under their keys (tx_uuid, redemption_id) until host.timeout_ms has
 *     passed; then, or when their screen is left, the retries are given up (sync_ask_give_up)
 *     and the screen hears "no answer": the host settles the lines from the transaction's
 *     records, and a redemption never booked is voided by the basket's close (the intent's
 *     voucher_void), both idempotent per key, so a late commit at the host is no second
 *     payment.
 *
 * Start-up in a window (issue 14, exec to first frame):
 *
 *   fonts, display ──► FIRST FRAME (attract, "starting") ──► output folder, ledger, catalogue,
 *   sync, devices, recovery ──► input queued meanwhile dropped ──► READY, the loop reads input
 *
 *  8. No input is read before the ledger, the sync, the devices and recovery exist: the loop,
 *     the only reader of input, starts after them, and taps made while they started are
 *     flushed unread (app_run), so none acts on a kiosk that cannot record it. Until then
 *     (app->started false) the page shows the kiosk starting, no device notice, and every
 *     service unavailable. A start-up fault after the first frame ends the kiosk as before
 *     it (exit 3, 2 for a configuration the sync refuses); systemd hears READY only once all
 *     of it is up. Headless there is nobody to show a frame to: the order is the same, the
 *     first frame is drawn by the loop.
 */
#define LOG_MODULE "app"
#include "app.h"

#include <SDL2/SDL.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "drivers/class/cardprn.h"
#include "drivers/class/cash.h"
#include "drivers/class/receipt.h"
#include "kiosk-config.h"
#include "kiosk/devices.h"
#include "kiosk/fees/catalogue.h"
#include "kiosk/kdev.h"
#include "kiosk/tech/testprint.h"
#include "kiosk/core/clock.h"
#include "kiosk/core/infile.h"
#include "kiosk/core/log.h"
#include "kiosk/core/path.h"
#include "kiosk/core/service.h"
#include "kiosk/core/timers.h"
#include "kiosk/core/xmalloc.h"
#include "kiosk/ledger/notes.h"
#include "kiosk/ledger/prune.h"
#include "kiosk/ledger/store.h"
#include "kiosk/ledger/tx.h"
#include "kiosk/print/print.h"
#include "kiosk/recovery.h"
#include "kiosk/sync/sync.h"
#if KIOSK_TEST_PORT
#include "kiosk/scenario/runner.h"
#endif
#include "kiosk/testport.h"
#include "kiosk/text/text.h"
#include "kiosk/txreceipt.h"
#include "kiosk/ui/check.h"
#include "kiosk/ui/frames.h"

struct app {
	struct app_options opts;
	struct core_config cfg;
	struct core_clock *clock;
	struct core_timers *timers;
	struct i18n *i18n;
	struct text_engine *text;
	struct ui_display *display;
	struct ledger *ledger;
	struct ledger_notes *notes;
	/* The fees catalogue (kiosk/fees/catalogue.h): NULL when neither the files nor the stored
	 * copy pass its checks (no fees can be paid then). */
	struct catalogue *catalogue;
	struct devices *devices;
	/* Start-up recovery: transactions a crash left open, and their receipts. */
	struct recovery *recovery;
	bool recovering_seen; /* recovery_pending as last drawn */
	/* Device wake-ups arrive as one SDL event type; wake_pending coalesces them, since the
	 * USB event thread may wake the loop many times between two turns. */
	uint32_t wake_event;
	SDL_atomic_t wake_pending;
	uint64_t escrow_timer;
	/* Out of service (invariant 1): the store failed and has not written since. */
	bool out_of_service;
	uint64_t store_timer;
	/* The devices' state and fault as last drawn: a driver may change them from a timer
	 * (a reply timeout) as well as from an event, and the page must follow either way. */
	struct {
		enum dev_state state;
		const char *fault; /* a class fault name: static, compared by content */
	} devices_seen[KDEV_HARDWARE_COUNT];
	/* The technician's last test print per printer (kdev_has(dev, KDEV_ROLE_TEST_PRINT)). */
	struct {
		char id[40];
		enum testport_job state;
	} test_jobs[KDEV_HARDWARE_COUNT];
	struct cash_unit *cash;
	struct receipt_printer *receipt;
	struct card_issuer *card;
	/* The host link (invariants 3 to 6). */
	struct sync *sync;
	uint64_t sync_generation;  /* the status as last read */
	enum sync_fault_state sync_fault;
	int64_t sync_fault_rec;
	uint32_t ask_id;           /* a card question out (0: none) */
	uint64_t ask_deadline_ms;  /* monotonic real time: its answer by then, or unreachable */
	uint32_t fee_ask_id;       /* a fee question out (0: none) */
	uint64_t fee_ask_deadline_ms;
	uint32_t pay_ask_id;       /* a basket's payment out (0: none; invariant 7) */
	uint64_t pay_ask_deadline_ms;
	uint32_t voucher_ask_id;   /* a voucher's validation out (0: none) */
	uint64_t voucher_ask_deadline_ms;
	uint32_t redeem_ask_id;    /* a voucher's redemption out (0: none; invariant 7) */
	uint64_t redeem_ask_deadline_ms;
#if KIOSK_TEST_PORT
	struct runner *runner;
#endif

	enum scr_id screen;
	/* app_go is running (a leave or enter hook may ask for another move: it follows). */
	bool switching, go_queued;
	enum scr_id go_next;
	/* The current screen's own timer (app_wake_at; screen.h, lifecycle 3). */
	uint64_t wake_timer;
	/* When the ledger was last pruned of acknowledged records past [host] retention_days
	 * (ledger_prune_daily; 0: not yet in this process). */
	int64_t prune_last_s;
	/* The flow the current screens share (app_set_flow): its screens' leave hook frees it. */
	void *flow;
	enum lang lang;
	struct ui_page page;
	bool page_stale; /* state changed: rebuild before the next look or draw */
	bool need_draw;
	char pressed[48]; /* the widget a finger went down on */
	uint64_t idle_timer;
	bool quit;
	int exit_code;
	bool page_failed; /* a scenario run's page check failed: the run's outcome is 1 */
	bool first_frame_reported;
	bool started; /* the ledger, sync, devices and recovery exist (invariant 8) */
	/* systemd's watchdog (kiosk/core/service.h): the keep-alive period, 0 if none watches. */
	uint64_t watchdog_ms, watchdog_timer;
	struct ui_frames frames; /* each frame's CPU, for --startup-report (bench/appliance.sh) */
};

/* ---- screens' API ---- */

enum lang app_lang(const struct app *app) { return app->lang; }
const struct core_config *app_config(const struct app *app) { return &app->cfg; }
const char *app_str(const struct app *app, const char *key) { return i18n_get(app->i18n, app->lang, key); }
const char *app_str_in(const struct app *app, enum lang lang, const char *key)
{
	return i18n_get(app->i18n, lang, key);
}

static void invalidate(struct app *app) { app->page_stale = true; }
static void drop_pay_ask(struct app *app);

enum scr_id app_screen(const struct app *app) { return app->screen; }

void app_set_lang(struct app *app, enum lang lang)
{
	if (app->lang != lang)
		LOG_INFO("language: %s", lang_code(lang));
	app->lang = lang;
	invalidate(app);
}

void app_refresh(struct app *app) { invalidate(app); }

static void on_idle_timeout(void *user)
{
	struct app *app = user;
	app->idle_timer = 0;
	LOG_INFO("no touch for %d s on %s: back to attract", app->cfg.inactivity_timeout_s,
		 scr_get(app->screen)->id);
	app_go(app, SCR_ATTRACT);
}

/* Restarts the inactivity countdown on customer screens; stops it elsewhere, and on screens
 * that decide inactivity themselves (screen.h, lifecycle 4). */
static void rearm_idle_timer(struct app *app)
{
	if (app->idle_timer)
		core_timer_cancel(app->timers, app->idle_timer);
	app->idle_timer = 0;
	const struct scr_def *scr = scr_get(app->screen);
	if (scr->customer_session && !scr->on_wake)
		app->idle_timer = core_timer_add(app->timers, (uint64_t)app->cfg.inactivity_timeout_s * 1000,
						 on_idle_timeout, app);
}

static void cancel_wake(struct app *app)
{
	if (app->wake_timer)
		core_timer_cancel(app->timers, app->wake_timer);
	app->wake_timer = 0;
}

/* Every move between screens goes through here, so the lifecycle of screen.h holds on every
 * path: the old screen's leave always runs before the new one is current. */
void app_go(struct app *app, enum scr_id screen)
{
	if (app->switching) {
		app->go_queued = true;
		app->go_next = screen;
		return;
	}
	app->switching = true;
	for (;;) {
		enum scr_id from = app->screen;
		const struct scr_def *old = scr_get(from), *next = scr_get(screen);
		LOG_INFO("screen: %s -> %s", old->id, next->id);
		cancel_wake(app);
		if (old->leave)
			old->leave(app, screen);
		app->ask_id = 0; /* lifecycle 6: an answer is for the screen that asked */
		app->fee_ask_id = 0;
		app->voucher_ask_id = 0;
		drop_pay_ask(app);
		if (screen == SCR_ATTRACT) {
			app->lang = app_default_lang(app);
			/* Between customers, at most once a day: no transaction is open here, and a
			 * prune that fails keeps every record for the next day (kiosk/ledger/prune.c). */
			ledger_prune_daily(app->ledger, core_clock_wall_s(app->clock), app->cfg.host_retention_days,
					   &app->prune_last_s);
		}
		app->screen = screen;
		app->pressed[0] = '\0';
		if (next->enter)
			next->enter(app, from);
		rearm_idle_timer(app);
		invalidate(app);
		if (!app->go_queued)
			break;
		app->go_queued = false;
		screen = app->go_next;
	}
	app->switching = false;
}

static void on_wake(void *user)
{
	struct app *app = user;
	app->wake_timer = 0;
	const struct scr_def *scr = scr_get(app->screen);
	if (scr->on_wake)
		scr->on_wake(app);
}

void app_wake_at(struct app *app, uint64_t at_ms)
{
	cancel_wake(app);
	uint64_t now = core_clock_now_ms(app->clock);
	app->wake_timer = core_timer_add(app->timers, at_ms > now ? at_ms - now : 0, on_wake, app);
}

uint64_t app_now_ms(const struct app *app) { return core_clock_now_ms(app->clock); }
const struct core_clock *app_clock(const struct app *app) { return app->clock; }
struct ledger *app_ledger(struct app *app) { return app->ledger; }
const struct catalogue *app_catalogue(const struct app *app) { return app->catalogue; }
struct cash_unit *app_cash(struct app *app) { return app->cash; }
const struct i18n *app_i18n(const struct app *app) { return app->i18n; }
bool app_out_of_service(const struct app *app) { return app->out_of_service; }
void *app_flow(const struct app *app) { return app->flow; }
void app_set_flow(struct app *app, void *flow) { app->flow = flow; }

bool app_receipt_can_print(struct app *app)
{
	struct receipt_status st;
	app->receipt->ops->get_status(app->receipt, &st);
	/* Paper running low still prints (a warning); every other state does not. */
	return st.state == DEV_STATE_OK || st.state == DEV_STATE_WARNING;
}

const char *app_nstr(const struct app *app, const char *key, unsigned long n)
{
	return i18n_nget(app->i18n, app->lang, key, n);
}

/* The first {name} in tmpl replaced by value; a template without it is shown as it is. */
static char *fill_template(const char *tmpl, const char *name, const char *value, char *out, size_t size)
{
	const char *at = strstr(tmpl, name);
	if (!at)
		snprintf(out, size, "%s", tmpl);
	else
		snprintf(out, size, "%.*s%s%s", (int)(at - tmpl), tmpl, value, at + strlen(name));
	return out;
}

char *app_fill(const struct app *app, const char *tmpl, const char *name, const char *western, char *out,
	       size_t size)
{
	char local[96];
	print_localize_digits(app->i18n, app->lang, western, local, sizeof(local));
	return fill_template(tmpl, name, local, out, size);
}

char *app_ltr(const struct app *app, const char *s, char *out, size_t size)
{
	if (app->lang == LANG_AR)
		snprintf(out, size, "\u2066%s\u2069", s);
	else
		snprintf(out, size, "%s", s);
	return out;
}

char *app_money(const struct app *app, int64_t fils, char *out, size_t size)
{
	char figure[48];
	print_format_fils(fils, figure, sizeof(figure));
	return app_fill(app, app_str(app, "receipt.money"), "{amount}", figure, out, size);
}

/* What the technician is shown for dev: its class's state and fault name, or the store's. */
static void device_status(struct app *app, enum kdev dev, enum dev_state *state, const char **fault)
{
	if (dev == KDEV_STORE) {
		*state = app->out_of_service ? DEV_STATE_FAULT : DEV_STATE_OK;
		*fault = ledger_fault_name(app->out_of_service ? LEDGER_FAULT_WRITE_FAILED : LEDGER_FAULT_NONE);
		return;
	}
	if (dev == KDEV_HOST) {
		*state = app->sync_fault != SYNC_STATUS_FAULT_NONE ? DEV_STATE_FAULT : DEV_STATE_OK;
		*fault = kdev_info(KDEV_HOST)->fault_name((int)app->sync_fault);
		if (!*fault)
			*fault = "?";
		return;
	}
	int f = 0;
	devices_status(app->devices, dev, state, &f);
	const char *name = kdev_info(dev)->fault_name(f);
	*fault = name ? name : "?";
}

_Static_assert(APP_MAX_NOTICES == APP_KIOSK_NOTICES + KDEV_HARDWARE_COUNT,
	       "a notice per hardware device and one kiosk state: none may be dropped");

int app_device_notices(struct app *app, struct app_notice *out, int max)
{
	int n = 0, due = 0;
	static char keys[KDEV_HARDWARE_COUNT][48];
	/* The kiosk's state first (one of APP_KIOSK_NOTICES): the store out of service, nothing
	 * else matters to a customer; else why the money services wait while recovery may still
	 * end open transactions (kiosk/recovery.c invariant 6); the store's own notice says more
	 * when it is the cause. */
	struct app_notice kiosk = {0};
	if (!app->started) /* invariant 8: only "starting" until the devices exist */
		kiosk = (struct app_notice){"kiosk", "status.kiosk.starting", DEV_STATE_WARNING};
	else if (app->out_of_service)
		kiosk = (struct app_notice){kdev_info(KDEV_STORE)->name, "status.store.write-failed", DEV_STATE_FAULT};
	else if (recovery_pending(app->recovery))
		kiosk = (struct app_notice){"kiosk", "status.kiosk.starting", DEV_STATE_WARNING};
	if (kiosk.key && due++ < max)
		out[n++] = kiosk;
	/* Then the hardware in the table's notice order. */
	for (int rank = 0; app->started && rank < KDEV_HARDWARE_COUNT; rank++) {
		for (int d = 0; d < KDEV_HARDWARE_COUNT; d++) {
			enum kdev dev = (enum kdev)d;
			enum dev_state state;
			const char *fault;
			if (kdev_info(dev)->notice_rank != rank)
				continue;
			device_status(app, dev, &state, &fault);
			if (state == DEV_STATE_OK || due++ >= max)
				continue;
			kdev_notice_key(dev, fault, keys[d], sizeof(keys[d]));
			out[n++] = (struct app_notice){kdev_info(dev)->name, keys[d], state};
		}
	}
	if (due > n)
		LOG_ERR("%d notices due, room for %d: the customer does not see %d of them", due, max, due - n);
	return n;
}

bool app_service_available(struct app *app, enum app_service service)
{
	struct cash_status cs;
	struct cardprn_status ks;
	if (!app->started)
		return false; /* invariant 8 */
	app->cash->ops->get_status(app->cash, &cs);
	app->card->ops->get_status(app->card, &ks);
	bool cash_ok = cs.state == DEV_STATE_OK;
	if (app->out_of_service)
		return false; /* invariant 1 */
	/* No money service while recovery may still end open transactions: it would end one a
	 * customer just opened (kiosk/recovery.c invariant 6). */
	bool money_ok = cash_ok && !recovery_pending(app->recovery);
	switch (service) {
	case APP_SERVICE_TOPUP: return money_ok;
	/* The fees journey needs its catalogue too (kiosk/screens/fees.c, invariant 4). */
	case APP_SERVICE_FEES: return money_ok && app->catalogue;
	case APP_SERVICE_BUY_CARD: return money_ok && (ks.state == DEV_STATE_OK || ks.state == DEV_STATE_WARNING);
	case APP_SERVICE_BALANCE: return true;
	}
	return false;
}

/* ---- the host link ---- */

static void record_device(struct app *app, enum kdev dev, enum dev_state state, const char *detail);

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct sync *app_sync(struct app *app) { return app->sync; }
void app_sync_kick(struct app *app) { sync_kick(app->sync); }
bool app_card_asking(const struct app *app) { return app->ask_id != 0; }

int app_card_ask(struct app *app, const char *card, struct kio_error *err)
{
	uint32_t id = sync_card_ask(app->sync, card, err);
	if (!id)
		return KIO_ERR_INVALID;
	app->ask_id = id;
	app->ask_deadline_ms = mono_ms() + (uint64_t)app->cfg.host_timeout_ms;
	return 0;
}

int app_fee_ask(struct app *app, const char *entity, const char *service, const char *reference,
		struct kio_error *err)
{
	uint32_t id = sync_fee_ask(app->sync, entity, service, reference, err);
	if (!id)
		return KIO_ERR_INVALID;
	app->fee_ask_id = id;
	app->fee_ask_deadline_ms = mono_ms() + (uint64_t)app->cfg.host_timeout_ms;
	return 0;
}

/* Invariant 7: the sync retries the payment under its tx_uuid (idempotent at the host) while
 * the screen waits at most host.timeout_ms; then the app gives up the retries and hands the
 * screen "no answer": the lines are settled from the records. */
int app_pay_ask(struct app *app, const char *tx_uuid, const struct sync_pay_line *lines, size_t n,
		struct kio_error *err)
{
	uint32_t id = sync_pay_ask(app->sync, tx_uuid, lines, n, err);
	if (!id)
		return err->code ? err->code : KIO_ERR_INVALID;
	app->pay_ask_id = id;
	app->pay_ask_deadline_ms = mono_ms() + (uint64_t)app->cfg.host_timeout_ms;
	return 0;
}

static void drop_pay_ask(struct app *app)
{
	if (app->pay_ask_id && sync_ask_give_up(app->sync, app->pay_ask_id))
		LOG_WARN("payment ask %" PRIu32 " dropped unanswered: the host settles it from the records",
			 app->pay_ask_id);
	app->pay_ask_id = 0;
	if (app->redeem_ask_id && sync_ask_give_up(app->sync, app->redeem_ask_id))
		LOG_WARN("voucher redeem %" PRIu32 " dropped unanswered: the basket's close voids it", app->redeem_ask_id);
	app->redeem_ask_id = 0;
}

int app_voucher_ask(struct app *app, const char *code, struct kio_error *err)
{
	uint32_t id = sync_voucher_ask(app->sync, code, err);
	if (!id)
		return err->code ? err->code : KIO_ERR_INVALID;
	app->voucher_ask_id = id;
	app->voucher_ask_deadline_ms = mono_ms() + (uint64_t)app->cfg.host_timeout_ms;
	return 0;
}

int app_voucher_redeem(struct app *app, const char *code, const char *redemption_id, const char *tx_uuid,
		       int64_t amount_fils, struct kio_error *err)
{
	uint32_t id = sync_voucher_redeem(app->sync, code, redemption_id, tx_uuid, amount_fils, err);
	if (!id)
		return err->code ? err->code : KIO_ERR_INVALID;
	app->redeem_ask_id = id;
	app->redeem_ask_deadline_ms = mono_ms() + (uint64_t)app->cfg.host_timeout_ms;
	return 0;
}

/* As poll_fee_answer, for the voucher's validation (tried once; unreachable by the bound). */
static void poll_voucher_answer(struct app *app)
{
	if (!app->voucher_ask_id)
		return;
	struct sync_voucher_result r;
	bool got = sync_voucher_poll(app->sync, &r) && r.ask == app->voucher_ask_id;
	if (!got) {
		if (mono_ms() < app->voucher_ask_deadline_ms)
			return;
		r = (struct sync_voucher_result){.ask = app->voucher_ask_id, .result = SYNC_ASK_UNREACHABLE};
		snprintf(r.why, sizeof(r.why), "no answer within host.timeout_ms = %d ms", app->cfg.host_timeout_ms);
		LOG_WARN("voucher: %s", r.why);
	}
	app->voucher_ask_id = 0;
	const struct scr_def *scr = scr_get(app->screen);
	if (scr->on_voucher_answer)
		scr->on_voucher_answer(app, &r);
	invalidate(app);
}

/* Invariant 7 for a redemption: retried by the sync under its redemption_id until the bound,
 * then given up; the screen hears gave_up (the voucher machine's give-up: the intent stays,
 * voided at the close if never booked). */
static void poll_redeem_answer(struct app *app)
{
	if (!app->redeem_ask_id)
		return;
	struct sync_redeem_result r;
	bool got = sync_redeem_poll(app->sync, &r) && r.ask == app->redeem_ask_id;
	bool gave_up = false;
	if (!got) {
		if (mono_ms() < app->redeem_ask_deadline_ms)
			return;
		sync_ask_give_up(app->sync, app->redeem_ask_id);
		r = (struct sync_redeem_result){.ask = app->redeem_ask_id, .result = SYNC_ASK_UNREACHABLE};
		snprintf(r.why, sizeof(r.why), "no answer within host.timeout_ms = %d ms", app->cfg.host_timeout_ms);
		LOG_WARN("voucher redeem: %s", r.why);
		gave_up = true;
	}
	app->redeem_ask_id = 0;
	const struct scr_def *scr = scr_get(app->screen);
	if (scr->on_redeem_answer)
		scr->on_redeem_answer(app, &r, gave_up);
	invalidate(app);
}

static void poll_pay_answer(struct app *app)
{
	if (!app->pay_ask_id)
		return;
	struct sync_pay_result r;
	bool got = sync_pay_poll(app->sync, &r) && r.ask == app->pay_ask_id;
	if (!got) {
		if (mono_ms() < app->pay_ask_deadline_ms)
			return;
		sync_ask_give_up(app->sync, app->pay_ask_id);
		r = (struct sync_pay_result){.ask = app->pay_ask_id, .result = SYNC_ASK_UNREACHABLE};
		snprintf(r.why, sizeof(r.why), "no answer within host.timeout_ms = %d ms", app->cfg.host_timeout_ms);
		LOG_WARN("payment: %s", r.why);
	}
	app->pay_ask_id = 0;
	const struct scr_def *scr = scr_get(app->screen);
	if (scr->on_pay_answer)
		scr->on_pay_answer(app, &r);
	invalidate(app);
}

bool app_host_online(struct app *app)
{
	struct sync_status st;
	sync_status_get(app->sync, &st);
	return st.configured && (st.reachable || (st.last_ok_s == 0 && st.last_error_s == 0));
}

/* As poll_card_answer, for the fee question (lifecycle 6, invariant 6). */
static void poll_fee_answer(struct app *app)
{
	if (!app->fee_ask_id)
		return;
	struct sync_fee_result r;
	bool got = sync_fee_poll(app->sync, &r) && r.ask == app->fee_ask_id;
	if (!got) {
		if (mono_ms() < app->fee_ask_deadline_ms)
			return;
		r = (struct sync_fee_result){.ask = app->fee_ask_id, .result = SYNC_FEE_UNREACHABLE};
		snprintf(r.why, sizeof(r.why), "no answer within host.timeout_ms = %d ms", app->cfg.host_timeout_ms);
		LOG_WARN("fee inquiry: %s", r.why);
	}
	app->fee_ask_id = 0;
	const struct scr_def *scr = scr_get(app->screen);
	if (scr->on_fee_answer)
		scr->on_fee_answer(app, &r);
	invalidate(app);
}

/* From the loop (lifecycle 6): the answer to the screen's question, or unreachable once
 * host.timeout_ms passed without one (invariant 6). */
static void poll_card_answer(struct app *app)
{
	if (!app->ask_id)
		return;
	struct sync_card_result r;
	bool got = sync_card_poll(app->sync, &r) && r.ask == app->ask_id;
	if (!got) {
		if (mono_ms() < app->ask_deadline_ms)
			return;
		r = (struct sync_card_result){.ask = app->ask_id, .result = SYNC_ASK_UNREACHABLE};
		snprintf(r.why, sizeof(r.why), "no answer within host.timeout_ms = %d ms", app->cfg.host_timeout_ms);
		LOG_WARN("card balance: %s", r.why);
	}
	app->ask_id = 0;
	const struct scr_def *scr = scr_get(app->screen);
	if (scr->on_card_answer)
		scr->on_card_answer(app, &r);
	invalidate(app);
}

/* Invariant 5: the sync's state as the technician sees it, read when the worker says it
 * changed. */
static void poll_sync_status(struct app *app)
{
	struct sync_status st;
	sync_status_get(app->sync, &st);
	if (st.generation == app->sync_generation)
		return;
	app->sync_generation = st.generation;
	if (st.fault == app->sync_fault)
		return;
	app->sync_fault = st.fault;
	app->sync_fault_rec = st.fault_rec;
	const char *name = kdev_info(KDEV_HOST)->fault_name((int)st.fault);
	if (st.fault != SYNC_STATUS_FAULT_NONE)
		LOG_ERR("HOST LINK STOPPED: the host refused record %lld (%s: %s). The kiosk keeps every record and "
			"stays in service for cash within the offline limits; a technician must compare the kiosk's "
			"ledger (`kiosk ledger verify`, `kiosk ledger export`) with what the host holds, settle the "
			"cause with the operator, and restart the kiosk to resume the sync",
			(long long)st.fault_rec, name ? name : "?", st.last_error);
	record_device(app, KDEV_HOST, st.fault != SYNC_STATUS_FAULT_NONE ? DEV_STATE_FAULT : DEV_STATE_OK,
		      name ? name : "?");
}

/* What the heartbeat says of a device: "ok", else its fault, else its state ("offline"). */
static const char *heartbeat_state(enum dev_state state, const char *fault)
{
	if (state == DEV_STATE_OK)
		return "ok";
	return strcmp(fault, "none") != 0 ? fault : dev_state_name(state);
}

/* ---- the page ---- */

/* Scenario runs hold every page built (so every frame drawn) to the page check
 * (kiosk/ui/check.h); the first violation ends the run with exit 1. */
static void check_page(struct app *app)
{
#if KIOSK_TEST_PORT
	struct kio_error err;
	if (!app->runner || app->page_failed || ui_page_check(&app->page, app->text, &err) == 0)
		return;
	runner_report_failure(app->runner, "page check on screen '%s' (%s): %s", scr_get(app->screen)->id,
			      lang_code(app->lang), err.msg);
	app->page_failed = true;
	app->exit_code = 1;
	app->quit = true;
#else
	(void)app;
#endif
}

static void rebuild_page(struct app *app)
{
	if (!app->page_stale)
		return;
	uint64_t t0 = ui_frames_cpu_ns();
	ui_page_clear(&app->page);
	ui_page_init(&app->page, app->cfg.width, app->cfg.height, app->lang == LANG_AR, 0xF3F5F4FFu);
	app->page.text = app->text;
	scr_get(app->screen)->build(app, &app->page);
	app->page_stale = false;
	app->need_draw = true;
	check_page(app);
	ui_frames_add_work(&app->frames, ui_frames_cpu_ns() - t0);
}

/* ---- the test port (kiosk/testport.h): only in builds with it ---- */
#if KIOSK_TEST_PORT

static struct ui_page *port_current_page(void *kiosk)
{
	struct app *app = kiosk;
	rebuild_page(app);
	return &app->page;
}

static enum scr_id port_screen(void *kiosk) { return app_screen(kiosk); }
static void port_go(void *kiosk, enum scr_id screen) { app_go(kiosk, screen); }

static struct sim_bench *port_bench(void *kiosk)
{
	struct app *app = kiosk;
	return app->devices ? devices_bench(app->devices) : NULL;
}

static void port_device_status(void *kiosk, enum kdev dev, enum dev_state *state, const char **fault)
{
	device_status(kiosk, dev, state, fault);
}

static int port_test_print(void *kiosk, enum kdev dev, struct kio_error *err)
{
	struct app *app = kiosk;
	if (!kdev_has(dev, KDEV_ROLE_TEST_PRINT))
		return kio_fail(err, KIO_ERR_INVALID, "no test print for '%s' (%s)", kdev_info(dev)->name,
				kdev_names(KDEV_ROLE_TEST_PRINT));
	struct tech_print_ctx ctx = {
		.engine = app->text,
		.i18n = app->i18n,
		.cfg = &app->cfg,
		.devices = app->devices,
		.wall_s = core_clock_wall_s(app->clock),
	};
	char id[sizeof(app->test_jobs[0].id)];
	unsigned seq;
	/* Numbered from the database, so a test print after a restart never overwrites an
	 * earlier one's files. */
	int rc = ledger_test_print_next(app->ledger, ctx.wall_s, kdev_info(dev)->name, &seq, err);
	if (rc) {
		app->test_jobs[dev].state = TESTPORT_JOB_FAILED;
		return rc;
	}
	rc = dev == KDEV_RECEIPT ? tech_test_receipt(&ctx, seq, id, sizeof(id), err)
				     : tech_test_card(&ctx, seq, id, sizeof(id), err);
	memcpy(app->test_jobs[dev].id, id, sizeof(id));
	app->test_jobs[dev].state = rc == 0 ? TESTPORT_JOB_RUNNING : TESTPORT_JOB_FAILED;
	return rc;
}

static enum testport_job port_test_print_state(void *kiosk, enum kdev dev)
{
	struct app *app = kiosk;
	return kdev_has(dev, KDEV_ROLE_TEST_PRINT) ? app->test_jobs[dev].state : TESTPORT_JOB_NONE;
}

static const char *port_out_dir(void *kiosk) { return ((struct app *)kiosk)->cfg.out_dir; }
static const char *port_db_path(void *kiosk) { return ((struct app *)kiosk)->cfg.db_path; }

static int port_push_tap(void *kiosk, int x, int y, struct kio_error *err)
{
	struct app *app = kiosk;
	float fx, fy;
	ui_display_logical_to_finger(app->display, x, y, &fx, &fy);
	static SDL_FingerID next_finger = 1;
	SDL_Event ev = {0};
	ev.type = SDL_FINGERDOWN;
	ev.tfinger.timestamp = SDL_GetTicks();
	ev.tfinger.touchId = 1;
	ev.tfinger.fingerId = next_finger;
	ev.tfinger.x = fx;
	ev.tfinger.y = fy;
	ev.tfinger.pressure = 1.0f;
	if (SDL_PushEvent(&ev) < 0)
		return kio_fail(err, KIO_ERR_IO, "cannot queue a touch: %s", SDL_GetError());
	/* SDL's renderer maps a queued finger to its viewport in place (display.h): the release
	 * starts again from the touch screen's coordinates, not the press's mapped ones. */
	ev.type = SDL_FINGERUP;
	ev.tfinger.x = fx;
	ev.tfinger.y = fy;
	ev.tfinger.pressure = 0.0f;
	if (SDL_PushEvent(&ev) < 0)
		return kio_fail(err, KIO_ERR_IO, "cannot queue a touch: %s", SDL_GetError());
	next_finger++;
	return 0;
}

static int port_screenshot(void *kiosk, const char *name, struct kio_error *err)
{
	struct app *app = kiosk;
	char *path = xasprintf("%s/%s.png", app->cfg.out_dir, name);
	int rc = ui_display_screenshot(app->display, port_current_page(app), path, err);
	if (rc == 0)
		LOG_INFO("screenshot %s", path);
	free(path);
	return rc;
}

static const struct testport_ops port_ops = {
	.current_page = port_current_page,
	.screen = port_screen,
	.go = port_go,
	.push_tap = port_push_tap,
	.screenshot = port_screenshot,
	.bench = port_bench,
	.device_status = port_device_status,
	.test_print = port_test_print,
	.test_print_state = port_test_print_state,
	.out_dir = port_out_dir,
	.db_path = port_db_path,
};

#endif /* KIOSK_TEST_PORT */

/* ---- input ---- */

static void handle_touch(struct app *app, bool down, int x, int y)
{
	rebuild_page(app);
	struct ui_widget *w = ui_page_hit(&app->page, x, y);
	rearm_idle_timer(app);
	/* Any touch, on a button or not, is a customer still there: a screen that keeps its own
	 * idle time (a flow's) hears of it too (screen.h, lifecycle 4). */
	enum scr_id touched = app->screen;
	if (scr_get(touched)->on_activity)
		scr_get(touched)->on_activity(app);
	if (app->screen != touched) {
		app->pressed[0] = '\0'; /* the activity moved the app on: no tap on the old page */
		return;
	}
	if (down) {
		snprintf(app->pressed, sizeof(app->pressed), "%s", w && w->enabled ? w->id : "");
		return;
	}
	/* A tap is a press and a release on the same enabled widget. */
	if (!w || !w->enabled || strcmp(app->pressed, w->id) != 0) {
		app->pressed[0] = '\0';
		return;
	}
	char id[sizeof(app->pressed)];
	snprintf(id, sizeof(id), "%s", w->id);
	app->pressed[0] = '\0';
	LOG_DBG("tap %s on %s", id, scr_get(app->screen)->id);
	scr_get(app->screen)->on_tap(app, id);
}

static void handle_event(struct app *app, const SDL_Event *ev)
{
	int x, y;
	if (ev->type == app->wake_event && app->wake_event != (uint32_t)-1) {
		SDL_AtomicSet(&app->wake_pending, 0);
		devices_service(app->devices);
		poll_sync_status(app);
		return;
	}
	switch (ev->type) {
	case SDL_QUIT: app->quit = true; break;
	case SDL_FINGERDOWN:
	case SDL_FINGERUP:
		ui_display_finger_to_logical(app->display, ev->tfinger.x, ev->tfinger.y, &x, &y);
		handle_touch(app, ev->type == SDL_FINGERDOWN, x, y);
		break;
	case SDL_MOUSEBUTTONDOWN:
	case SDL_MOUSEBUTTONUP:
		/* A developer's mouse in windowed mode; real touches arrive as finger events. */
		if (ev->button.which != SDL_TOUCH_MOUSEID && ev->button.button == SDL_BUTTON_LEFT)
			handle_touch(app, ev->type == SDL_MOUSEBUTTONDOWN, ev->button.x, ev->button.y);
		break;
	case SDL_WINDOWEVENT:
		if (ev->window.event == SDL_WINDOWEVENT_EXPOSED || ev->window.event == SDL_WINDOWEVENT_SIZE_CHANGED) {
			ui_display_invalidate(app->display); /* what was shown is gone: draw it whole */
			app->need_draw = true;
		}
		break;
	default: break;
	}
}

/* ---- devices ---- */

/* A failed write is not lost: the ledger keeps the event until the store writes again, and
 * its fault listener has taken the kiosk out of service. */
static void record_device(struct app *app, enum kdev dev, enum dev_state state, const char *detail)
{
	const char *device = kdev_info(dev)->name;
	struct kio_error err;
	LOG_INFO("%s: %s (%s)", device, dev_state_name(state), detail);
	if (ledger_device_event_add(app->ledger, core_clock_wall_s(app->clock), device, dev_state_name(state),
				    detail, &err) != 0)
		LOG_WARN("%s event kept until the store writes again: %s", device, err.msg);
	invalidate(app);
}

/* ---- out of service ---- */

/* Long enough that a locked store (each try waits the busy timeout) leaves the loop mostly
 * free; short enough that a kiosk is back soon after a technician freed the store. */
#define APP_STORE_CHECK_MS 10000

/*
 * Back in service: a flow the app left while out of service (kiosk/screens/topup.c, invariant
 * 2) could not end its transaction, and an open transaction refuses the next customer's
 * (ledger_tx_open: one at a time). Recovery ends it as it ends a crash's (a top-up credits
 * what was inserted, once the acceptor settled the note in its path) and prints its recovery
 * receipt once: the same path, not a copy of it. Until it has, no money service is offered
 * (kiosk/recovery.c invariant 6), so no customer's transaction is ended under them.
 */
static void end_left_open(struct app *app)
{
	recovery_restart(app->recovery);
	invalidate(app);
}

void app_recover_left_open(struct app *app) { end_left_open(app); }

static void on_store_check(void *user)
{
	struct app *app = user;
	app->store_timer = 0;
	struct kio_error err;
	if (ledger_recover(app->ledger, &err) != 0) {
		LOG_WARN("store still failing: %s", err.msg);
		app->store_timer = core_timer_add(app->timers, APP_STORE_CHECK_MS, on_store_check, app);
		return;
	}
	end_left_open(app);
}

/* Invariant 1, applied from the loop (invariant 2). */
static void apply_store_state(void *user)
{
	struct app *app = user;
	app->store_timer = 0;
	if (!app->out_of_service)
		return;
	int rc = app->cash->ops->disable(app->cash);
	if (rc != 0)
		LOG_ERR("cash: cannot disable the note acceptor: %s", kio_strerror(rc));
	app->store_timer = core_timer_add(app->timers, APP_STORE_CHECK_MS, on_store_check, app);
	/* The screen hears of it as of a device: a flow's screen leaves (lifecycle 1), which ends
	 * its flow with the acceptor disabled and an open transaction left for recovery. */
	const struct scr_def *scr = scr_get(app->screen);
	if (scr->on_devices)
		scr->on_devices(app);
}

/* The ledger's fault listener: called inside the failing ledger call, so it only notes. */
static void on_store_fault(void *user, bool failing, const char *why)
{
	struct app *app = user;
	if (app->out_of_service == failing)
		return;
	app->out_of_service = failing;
	sync_set_device(app->sync, kdev_info(KDEV_STORE)->name, failing ? "write-failed" : "ok");
	if (failing)
		LOG_ERR("OUT OF SERVICE: the database cannot record money (%s); no note is taken until it writes "
			"again",
			why);
	else
		LOG_WARN("back in service: the database writes again");
	if (app->store_timer)
		core_timer_cancel(app->timers, app->store_timer);
	app->store_timer = failing ? core_timer_add(app->timers, 0, apply_store_state, app) : 0;
	invalidate(app);
}

static void return_escrow(void *user)
{
	struct app *app = user;
	app->escrow_timer = 0;
	int rc = app->cash->ops->escrow_return(app->cash);
	if (rc != 0 && rc != KIO_ERR_BUSY)
		LOG_ERR("cash: cannot return the note in escrow: %s", kio_strerror(rc));
}

static void on_cash_event(void *user, const struct cash_event *ev)
{
	struct app *app = user;
	struct cash_status st;
	switch (ev->kind) {
	case CASH_EV_FAULT:
	case CASH_EV_RECOVERED:
		app->cash->ops->get_status(app->cash, &st);
		record_device(app, KDEV_CASH, st.state, cash_fault_name(ev->fault));
		break;
	default:
		break;
	}
	const struct scr_def *scr = scr_get(app->screen);
	if (scr->on_cash) {
		/* The screen's flow decides what every note does (screen.h, lifecycle 3). */
		scr->on_cash(app, ev);
		return;
	}
	switch (ev->kind) {
	case CASH_EV_ESCROW:
		/* No screen takes money yet: a note offered now goes back to the customer. Decided
		 * from the loop, not inside the driver's callback. */
		LOG_INFO("cash: %lld fils in escrow on %s: returning", (long long)ev->value_fils, scr_get(app->screen)->id);
		if (!app->escrow_timer)
			app->escrow_timer = core_timer_add(app->timers, 0, return_escrow, app);
		break;
	case CASH_EV_CREDITED:
		/* No flow takes money yet, so a credit here is a note settled at start-up (the
		 * kiosk died with it in the path) or one the device stacked on its own. Its journey
		 * is in the note journal; the ledger will book it to whoever it belongs to. */
		LOG_WARN("cash: %lld fils credited with no customer session to claim them (see note_journey)",
			 (long long)ev->value_fils);
		break;
	case CASH_EV_FAULT:
	case CASH_EV_RECOVERED:
		break;
	default:
		LOG_INFO("cash: event %d, %lld fils", ev->kind, (long long)ev->value_fils);
		break;
	}
}

static void on_receipt_event(void *user, const struct receipt_event *ev)
{
	struct app *app = user;
	struct receipt_status st;
	if ((ev->kind == RECEIPT_EV_PRINTED || ev->kind == RECEIPT_EV_FAILED) &&
	    strcmp(ev->job_id, app->test_jobs[KDEV_RECEIPT].id) == 0) {
		app->test_jobs[KDEV_RECEIPT].state = ev->kind == RECEIPT_EV_PRINTED ? TESTPORT_JOB_DONE : TESTPORT_JOB_FAILED;
		LOG_INFO("receipt: test print %s %s", ev->job_id, ev->kind == RECEIPT_EV_PRINTED ? "printed" : "failed");
	}
	if (ev->kind == RECEIPT_EV_FAULT || ev->kind == RECEIPT_EV_RECOVERED) {
		app->receipt->ops->get_status(app->receipt, &st);
		record_device(app, KDEV_RECEIPT, st.state, receipt_fault_name(ev->fault));
	}
	/* The ledger first (recovery records every transaction receipt printed or failed), then
	 * the screen that may be waiting for its job (the done screen). */
	recovery_on_receipt_event(app->recovery, ev);
	const struct scr_def *scr = scr_get(app->screen);
	if (scr->on_receipt)
		scr->on_receipt(app, ev);
}

static void on_card_event(void *user, const struct cardprn_event *ev)
{
	struct app *app = user;
	struct cardprn_status st;
	if ((ev->kind == CARDPRN_EV_ISSUED || ev->kind == CARDPRN_EV_FAILED) &&
	    strcmp(ev->card_number, app->test_jobs[KDEV_CARD].id) == 0) {
		app->test_jobs[KDEV_CARD].state = ev->kind == CARDPRN_EV_ISSUED ? TESTPORT_JOB_DONE : TESTPORT_JOB_FAILED;
		LOG_INFO("card: test card %s", ev->kind == CARDPRN_EV_ISSUED ? "issued" : "failed");
	}
	if (ev->kind == CARDPRN_EV_FAULT || ev->kind == CARDPRN_EV_RECOVERED) {
		app->card->ops->get_status(app->card, &st);
		record_device(app, KDEV_CARD, st.state, cardprn_fault_name(ev->fault));
	}
}

/* ---- receipts ---- */

/* The one place a top-up's receipt is made: the real transaction, as the ledger booked it
 * (kiosk/txreceipt.h), job "TXN-<number>". */
int app_print_topup_receipt(struct app *app, int64_t tx_id, char job[APP_RECEIPT_JOB_MAX], struct kio_error *err)
{
	_Static_assert(APP_RECEIPT_JOB_MAX == TXRECEIPT_JOB_MAX, "the job ids the screens keep");
	int rc = txreceipt_print(app->devices, app->ledger, app->text, app->i18n, &app->cfg, app->catalogue, tx_id,
				 core_clock_wall_s(app->clock), job, err);
	if (rc == 0)
		LOG_INFO("receipt %s sent", job);
	return rc;
}

/* ---- the loop ---- */

/* Runs on every turn of the loop, so it compares values and formats nothing: a virtual day
 * is some 400,000 turns (the acceptor is polled every 200 ms), and a string built per turn
 * was a third of what a `wait 86400` cost. */
static void notice_device_changes(struct app *app)
{
	bool changed = false;
	/* Recovery ending is a change of what the services offer (app_service_available). */
	bool recovering = recovery_pending(app->recovery);
	if (recovering != app->recovering_seen) {
		LOG_DBG("recovery %s", recovering ? "pending" : "done");
		app->recovering_seen = recovering;
		changed = true;
		if (!recovering)
			sync_kick(app->sync); /* invariant 4: recovery ended what a crash left open */
	}
	for (int i = 0; i < KDEV_HARDWARE_COUNT; i++) {
		enum dev_state state;
		const char *fault;
		device_status(app, (enum kdev)i, &state, &fault);
		if (state != app->devices_seen[i].state || !app->devices_seen[i].fault ||
		    strcmp(fault, app->devices_seen[i].fault) != 0) {
			LOG_DBG("devices: %s %s (%s)", kdev_info((enum kdev)i)->name, dev_state_name(state), fault);
			app->devices_seen[i].state = state;
			app->devices_seen[i].fault = fault;
			changed = true;
			sync_set_device(app->sync, kdev_info((enum kdev)i)->name, heartbeat_state(state, fault));
		}
	}
	if (!changed)
		return;
	invalidate(app);
	const struct scr_def *scr = scr_get(app->screen);
	if (scr->on_devices)
		scr->on_devices(app);
}

static void report_first_frame(struct app *app)
{
	app->first_frame_reported = true;
	if (!app->opts.startup_report)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	FILE *f = fopen(app->opts.startup_report, "w");
	if (!f) {
		LOG_ERRNO("%s", app->opts.startup_report);
		return;
	}
	fprintf(f, "first_frame_monotonic_ns %lld\n", (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
	fclose(f);
}

/* At exit: what the frames cost, after the first frame's line (bench/appliance.sh). */
static void report_frames(struct app *app)
{
	if (!app->opts.startup_report || !app->first_frame_reported)
		return;
	FILE *f = fopen(app->opts.startup_report, "a");
	if (!f) {
		LOG_ERRNO("%s", app->opts.startup_report);
		return;
	}
	int rc = ui_frames_write(&app->frames, f);
	const struct ui_display_stats *ds = ui_display_stats(app->display);
	if (rc == 0 && fprintf(f, "frames_whole %llu\nframes_partial %llu\nframe_px_total %llu\nframe_damage_errors %llu\n",
			       (unsigned long long)ds->whole, (unsigned long long)ds->partial,
			       (unsigned long long)ds->px, (unsigned long long)ds->damage_errors) < 0)
		rc = -EIO;
	if (fclose(f) != 0 || rc != 0)
		LOG_ERR("%s: the frame lines were not written", app->opts.startup_report);
}

static void draw_if_needed(struct app *app)
{
	rebuild_page(app);
	if (!app->need_draw)
		return;
	/* Headless, a frame nobody sees is not drawn: it was four fifths of a scripted top-up's
	 * CPU (issue 14, headless speed); screenshots draw the page themselves. */
	if (ui_display_shown(app->display)) {
		struct kio_error err;
		uint64_t t0 = ui_frames_cpu_ns();
		if (ui_display_present(app->display, &app->page, &err) != 0)
			LOG_ERR("%s", err.msg);
		ui_frames_end(&app->frames, ui_frames_cpu_ns() - t0);
	}
	app->need_draw = false;
	if (!app->first_frame_reported)
		report_first_frame(app);
}

/* The keep-alive comes from a timer of the loop itself, so a loop that stops turning (a
 * blocking call, a livelock) stops it, and systemd restarts the kiosk (data/kiosk.service). */
static void on_watchdog(void *user)
{
	struct app *app = user;
	core_service_alive();
	app->watchdog_timer = core_timer_add(app->timers, app->watchdog_ms, on_watchdog, app);
}

/*
 * A catalogue the host served (sync_catalogue_take) replaces the one in use only between
 * customer sessions (issue 13: "never mid-flow"): the fees flow borrows the catalogue's
 * entities and services for a whole session (kiosk/flows/fees.h), so nothing is taken while a
 * screen holds a session or any flow is alive; the download waits in the sync's mailbox. The
 * swap is in place (catalogue_swap): every holder of app->catalogue (recovery's receipts) sees
 * the new one. Stored first, as the last good copy with its ETag (kiosk/fees/catalogue-store.c
 * invariant 4); a failed store is logged and the download used anyway (the rows are a fallback,
 * not money), so the next start asks the host again.
 */
static void apply_catalogue_update(struct app *app)
{
	if (!app->sync || scr_get(app->screen)->customer_session || app->flow)
		return;
	struct catalogue *c = NULL;
	char etag[SYNC_ETAG_MAX];
	if (!sync_catalogue_take(app->sync, &c, etag))
		return;
	struct kio_error err = {0};
	if (catalogue_store_download(app->ledger, c, etag, &err) != 0)
		LOG_ERR("catalogue %.12s (ETag %s) not stored, used anyway: %s", c->version, etag, err.msg);
	if (app->catalogue && strcmp(app->catalogue->version, c->version) == 0) {
		catalogue_free(c); /* the same document again: nothing for the screens to redraw */
		return;
	}
	LOG_INFO("catalogue %.12s (ETag %s) in use from now: %zu entities, between sessions", c->version, etag,
		 c->n_entities);
	if (app->catalogue) {
		catalogue_swap(app->catalogue, c);
		catalogue_free(c);
	} else {
		app->catalogue = c;
	}
	invalidate(app);
}

static void run_loop(struct app *app)
{
	bool is_virtual = core_clock_is_virtual(app->clock);
	uint64_t wait_until = 0;
	bool runner_waiting = false;
	while (!app->quit) {
		SDL_Event ev;
		while (SDL_PollEvent(&ev))
			handle_event(app, &ev);
		core_timers_fire_due(app->timers);
		poll_card_answer(app);
		poll_fee_answer(app);
		poll_pay_answer(app);
		poll_voucher_answer(app);
		poll_redeem_answer(app);
		apply_catalogue_update(app);
		notice_device_changes(app);
		if (app->quit)
			break;
		draw_if_needed(app);
		/* Input or timers may have queued more: drain before the scenario moves on. */
		if (SDL_PeepEvents(NULL, 0, SDL_PEEKEVENT, SDL_FIRSTEVENT, SDL_LASTEVENT) > 0)
			continue;
		uint64_t now = core_clock_now_ms(app->clock), next_timer = 0;
		bool have_timer = core_timers_next_deadline(app->timers, &next_timer);
		if (have_timer && next_timer <= now)
			continue;
		if (app->ask_id || app->fee_ask_id || app->pay_ask_id || app->voucher_ask_id || app->redeem_ask_id) {
			/* Invariant 6: busy until the host answers (its wake event) or the bound passes;
			 * real timers still fire meanwhile, virtual ones wait with the clock. */
			uint64_t mono = mono_ms(), deadline = UINT64_MAX;
			if (app->ask_id && app->ask_deadline_ms < deadline)
				deadline = app->ask_deadline_ms;
			if (app->fee_ask_id && app->fee_ask_deadline_ms < deadline)
				deadline = app->fee_ask_deadline_ms;
			if (app->pay_ask_id && app->pay_ask_deadline_ms < deadline)
				deadline = app->pay_ask_deadline_ms;
			if (app->voucher_ask_id && app->voucher_ask_deadline_ms < deadline)
				deadline = app->voucher_ask_deadline_ms;
			if (app->redeem_ask_id && app->redeem_ask_deadline_ms < deadline)
				deadline = app->redeem_ask_deadline_ms;
			if (mono >= deadline)
				continue;
			uint64_t wait = deadline - mono;
			if (!is_virtual && have_timer && next_timer - now < wait)
				wait = next_timer - now;
			if (SDL_WaitEventTimeout(&ev, (int)(wait < 60000 ? wait : 60000)))
				handle_event(app, &ev);
			continue;
		}

#if KIOSK_TEST_PORT
		if (app->runner && !runner_waiting) {
			int code = 0;
			enum runner_status st = runner_step(app->runner, now, &wait_until, &code);
			if (st == RUNNER_DONE) {
				if (!app->page_failed)
					app->exit_code = code;
				break;
			}
			runner_waiting = st == RUNNER_WAIT;
			continue;
		}
#endif

		/* Quiet: sleep (real) or jump (virtual) to the next thing that happens. */
		uint64_t target = UINT64_MAX;
		if (have_timer)
			target = next_timer;
		if (runner_waiting && wait_until < target)
			target = wait_until;
		if (is_virtual) {
			if (target == UINT64_MAX) {
				LOG_ERR("headless run has nothing left to do");
				app->exit_code = 1;
				break;
			}
			core_clock_advance_to(app->clock, target);
		} else {
			int timeout = -1;
			if (target != UINT64_MAX)
				timeout = target > now ? (int)(target - now < 60000 ? target - now : 60000) : 0;
			if (timeout < 0 ? SDL_WaitEvent(&ev) : SDL_WaitEventTimeout(&ev, timeout))
				handle_event(app, &ev);
		}
		if (runner_waiting && core_clock_now_ms(app->clock) >= wait_until)
			runner_waiting = false;
	}
}

/* ---- start-up and shutdown ---- */

enum lang app_default_lang(const struct app *app)
{
	enum lang lang = LANG_AR;
	lang_parse(app->opts.lang ? app->opts.lang : app->cfg.default_language, &lang);
	return lang;
}

/*
 * The output folder and the database, from the command line or the configuration, checked
 * before anything is created: a bad one is exit 2 naming it, never a folder made somewhere
 * else, a cut path, or SQLite's nameless temporary database. Copies the options over cfg.
 */
static int check_paths(struct core_config *cfg, const struct app_options *opts, struct kio_error *err)
{
	char where[160];
	const char *what = "--out";
	if (!opts->out_dir) {
		core_config_where(cfg, "paths", "out_dir", where, sizeof(where));
		what = where;
	}
	const char *out = opts->out_dir ? opts->out_dir : cfg->out_dir;
	int rc = core_path_check_out_dir(what, out, sizeof(cfg->out_dir), err);
	if (rc)
		return rc;
	memmove(cfg->out_dir, out, strlen(out) + 1);

	what = "--db";
	if (!opts->db_path) {
		core_config_where(cfg, "paths", "db", where, sizeof(where));
		what = where;
	}
	const char *db = opts->db_path ? opts->db_path : cfg->db_path;
	/* SQLite gives "" and ":memory:" special meanings: a database that vanishes at exit. */
	if (strcmp(db, ":memory:") == 0)
		return kio_fail(err, KIO_ERR_INVALID, "%s ':memory:': the kiosk needs a database file", what);
	rc = core_path_check_out_file(what, db, sizeof(cfg->db_path), false, err);
	if (rc)
		return rc;
	/* SQLite's side files (-journal, -wal, -shm) and the simulated devices' memory
	 * (.sim-cash, .sim-printers, the longest) are named after the database: they must fit a
	 * file name too. */
	const char *base = strrchr(db, '/') ? strrchr(db, '/') + 1 : db;
	if (strlen(base) + strlen(".sim-printers") > NAME_MAX)
		return kio_fail(err, KIO_ERR_INVALID,
				"%s: a file name of %zu bytes leaves no room for its side files (-journal, -wal, .sim-printers): at most %zu",
				what, strlen(base), (size_t)NAME_MAX - strlen(".sim-printers"));
	memmove(cfg->db_path, db, strlen(db) + 1);
	return 0;
}

/* mkdir -p: the output folder may be nested in a fresh checkout. */
static int make_dir(const char *path, struct kio_error *err)
{
	if (path[0] == '\0')
		return kio_fail(err, KIO_ERR_INVALID, "output folder: the path is empty");
	char *copy = xstrdup(path);
	int rc = 0;
	/* From the second byte: "/" alone is no folder to make; "" is refused above (reading
	 * past its NUL was a heap-buffer-overflow). */
	for (char *p = copy + 1; rc == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(copy, 0755) != 0 && errno != EEXIST)
			rc = kio_fail(err, KIO_ERR_IO, "%s: %s", copy, strerror(errno));
		*p = saved;
		if (saved == '\0')
			break;
	}
	free(copy);
	return rc;
}

/* Invariant 3, before anything is created: the files the sync's mutual TLS reads
 * (sync_start checks them again, and the URL). */
static int check_host_files(const struct core_config *cfg, struct kio_error *err)
{
	if (!cfg->host_url[0])
		return 0;
	const struct {
		const char *name, *path;
	} files[] = {{"ca", cfg->host_ca}, {"cert", cfg->host_cert}, {"key", cfg->host_key}};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char where[160];
		core_config_where(cfg, "host", files[i].name, where, sizeof(where));
		struct stat st;
		if (access(files[i].path, R_OK) != 0)
			return kio_fail(err, KIO_ERR_INVALID, "%s = %s: cannot be read (%s)", where, files[i].path,
					strerror(errno));
		/* Opened without waiting, then fstat()ed (core_infile_open): stat() and access() pass a
		 * FIFO, and libcurl's own open of it for the first sync would then wait for a writer
		 * that never comes, with the kiosk on screen and its records never leaving. */
		struct kio_error why = {0};
		int fd = core_infile_open(files[i].path, files[i].path, 0, &st, &why);
		if (fd < 0)
			return kio_fail(err, KIO_ERR_INVALID, "%s = %s: not a PEM file (%s)", where, files[i].path,
					why.code == KIO_ERR_INVALID ? "not a regular file" : why.msg);
		close(fd);
		/* The sync's own rule for the kiosk's identity (kiosk/sync/transport.h), said here
		 * first so a refusal creates nothing. */
		if (i == 2 && (st.st_uid != geteuid() || (st.st_mode & 077) != 0))
			return kio_fail(err, KIO_ERR_INVALID,
					"%s = %s: must be a file of uid %ld readable by it alone (mode 0600); it is uid %ld "
					"mode %04o",
					where, files[i].path, (long)geteuid(), (long)st.st_uid,
					(unsigned)(st.st_mode & 07777));
	}
	return 0;
}

/* Thread-safe: the USB transports call it from their event thread, the sync its worker. */
static void on_device_wake(void *user)
{
	struct app *app = user;
	if (!SDL_AtomicCAS(&app->wake_pending, 0, 1))
		return;
	SDL_Event ev = {0};
	ev.type = app->wake_event;
	if (SDL_PushEvent(&ev) < 0) {
		/* The queue is full of input; the drivers' own timers will look again. */
		SDL_AtomicSet(&app->wake_pending, 0);
	}
}

/* Recovery receipts wait while a customer is served (kiosk/recovery.c invariant 5). */
static bool recovery_may_print(void *user)
{
	const struct app *app = user;
	return !scr_get(app->screen)->customer_session;
}

int app_run(const struct app_options *opts)
{
	struct app *app = xcalloc(1, sizeof(*app));
	struct kio_error err = {0};
	int status = 3;
	app->opts = *opts;

	/* Everything a user can get wrong is checked before the database is touched. */
	core_config_defaults(&app->cfg);
	if (opts->config_path && core_config_load(&app->cfg, opts->config_path, &err) != 0) {
		fprintf(stderr, "kiosk: %s\n", err.msg);
		status = 2;
		goto out_free;
	}
	if (devices_check_config(&app->cfg, &err) != 0) {
		fprintf(stderr, "kiosk: %s\n", err.msg);
		status = 2;
		goto out_free;
	}
	if (check_paths(&app->cfg, opts, &err) != 0) {
		fprintf(stderr, "kiosk: %s\n", err.msg);
		status = 2;
		goto out_free;
	}
	if (check_host_files(&app->cfg, &err) != 0) {
		fprintf(stderr, "kiosk: %s\n", err.msg);
		status = 2;
		goto out_free;
	}
	if (i18n_load(NULL, &app->i18n, &err) != 0) {
		fprintf(stderr, "kiosk: %s\n", err.msg);
		status = 3; /* the installation, not the user's input */
		goto out_free;
	}
	i18n_set_eastern_digits(app->i18n, app->cfg.digits == CONFIG_DIGITS_EASTERN);
#if KIOSK_TEST_PORT
	/* Before anything runs: the runner notes what the output folder holds and watches the log
	 * from here on. */
	struct runner_env scenario_env = {
		.simulate = opts->simulate,
		.carry_fd = opts->carry_fd,
		.carry = opts->carry,
		.carry_len = opts->carry_len,
	};
	struct testport port = {&port_ops, app};
	if (opts->script_path && runner_open(opts->script_path, &scenario_env, &port, &app->runner, &err) != 0) {
		fprintf(stderr, "kiosk: %s\n", err.msg);
		status = 2;
		goto out_i18n;
	}
	/* A scenario's own host fills [host] before the ledger opens (its chain key comes with the
	 * enrolment). */
	if (app->runner && runner_host_config(app->runner, &app->cfg, &err) != 0) {
		fprintf(stderr, "kiosk: %s\n", err.msg);
		status = err.code == KIO_ERR_INVALID ? 2 : 3;
		runner_free(app->runner);
		goto out_i18n;
	}
#else
	/* main() refuses --script in a build without the test port; this is its second lock. */
	if (opts->script_path) {
		fprintf(stderr, "kiosk: --script: this kiosk was built without the test port (meson -Dtest_port=false)\n");
		status = 2;
		goto out_i18n;
	}
#endif

	bool headless = opts->mode == UI_MODE_HEADLESS;
	/* Virtual time only where every device is simulated too: real devices answer in real time. */
	app->clock = core_clock_new(headless && opts->simulate, app->cfg.virtual_epoch_s);
#if KIOSK_TEST_PORT
	/* After a power-cut the virtual clock goes on from where it stood; a real one does anyway. */
	if (app->runner && core_clock_is_virtual(app->clock))
		core_clock_advance_to(app->clock, runner_clock_start_ms(app->runner));
#endif
	app->timers = core_timers_new(app->clock);

	if (text_engine_new(NULL, &app->text, &err) != 0) {
		LOG_ERR("fonts: %s", err.msg);
		goto out_clock;
	}
	if (ui_display_open(opts->mode, app->cfg.width, app->cfg.height, app->text, &app->display, &err) != 0) {
		LOG_ERR("%s", err.msg);
		goto out_text;
	}
	ui_display_set_scale(app->display, app->cfg.display_scale_pct); /* [display] scale */
	app->lang = app_default_lang(app);
	app->screen = SCR_ATTRACT;
	app->page_stale = true;
	/* Invariant 8: the customer sees the kiosk while its ledger opens (three fdatasyncs, and
	 * a migration or a checkpoint after a crash), its devices start and recovery begins. */
	if (ui_display_shown(app->display))
		draw_if_needed(app);
	/* After the display: a kiosk that cannot show itself leaves no folder behind. */
	if (make_dir(app->cfg.out_dir, &err) != 0) {
		LOG_ERR("output folder: %s", err.msg);
		goto out_display;
	}
	if (ledger_open(app->cfg.db_path, &app->ledger, &err) != 0) {
		LOG_ERR("%s", err.msg);
		goto out_display;
	}
	app->notes = ledger_notes_new(app->ledger, app->clock);
	/* The catalogue after the ledger, whose migration 10 keeps its last good copy. A bad or
	 * missing one is logged by catalogue_open and only takes fees away: top-ups still work. */
	struct kio_error cat_err = {0};
	if (catalogue_open(app->ledger, app->cfg.fees_catalogue, &app->catalogue, &cat_err) != 0)
		LOG_WARN("no fees catalogue: fees cannot be paid on this kiosk"); /* why: logged by catalogue_open */
	ledger_set_fault_listener(app->ledger, on_store_fault, app);
	app->wake_event = SDL_RegisterEvents(1);
	if (app->wake_event == (uint32_t)-1) {
		LOG_ERR("SDL has no room for the device wake-up event");
		goto out_notes;
	}
	/* Invariant 3: after the ledger (migrated to the sync's schema), before any input. */
	app->sync = sync_new(&app->cfg, app->cfg.db_path, on_device_wake, app);
	if (sync_start(app->sync, &err) != 0) {
		fprintf(stderr, "kiosk: host link: %s\n", err.msg);
		status = err.code == KIO_ERR_INVALID ? 2 : 3;
		goto out_sync;
	}
	sync_set_device(app->sync, kdev_info(KDEV_STORE)->name, "ok");
	char *cash_state = xasprintf("%s.sim-cash", app->cfg.db_path);
	char *printer_state = xasprintf("%s.sim-printers", app->cfg.db_path);
	struct devices_config dc = {
		.simulate = opts->simulate,
		.cfg = &app->cfg,
		.cash_state_path = cash_state,
		.printer_state_path = printer_state,
		.timers = app->timers,
		.journal = ledger_notes_journal(app->notes),
		.wake = on_device_wake,
		.wake_user = app,
		.listeners = {on_cash_event, on_receipt_event, on_card_event, app},
	};
	int dev_rc = devices_open(&dc, &app->devices, &err);
	free(cash_state);
	free(printer_state);
	if (dev_rc != 0) {
		LOG_ERR("devices: %s", err.msg);
		goto out_sync;
	}
	app->cash = devices_cash(app->devices);
	app->receipt = devices_receipt(app->devices);
	app->card = devices_card(app->devices);
	/* After the devices: recovery waits for the acceptor to settle the notes that were in its
	 * path before it ends the transactions a crash left open (kiosk/recovery.c invariant 1). */
	const struct recovery_ctx rc_ctx = {
		.ledger = app->ledger,
		.notes = app->notes,
		.devices = app->devices,
		.engine = app->text,
		.i18n = app->i18n,
		.cfg = &app->cfg,
		.catalogue = app->catalogue,
		.clock = app->clock,
		.timers = app->timers,
		.may_print = recovery_may_print,
		.may_print_user = app,
	};
	app->recovery = recovery_new(&rc_ctx);
	/* Invariant 8: from here input is read; what came before is dropped unread (a press
	 * whose release comes later is no tap: handle_touch). Quit, window and device wake-up
	 * events stay queued. The page redraws with the devices' notices. */
	app->started = true;
	invalidate(app);
	SDL_PumpEvents();
	SDL_FlushEvents(SDL_KEYDOWN, SDL_MULTIGESTURE);
	/* Ready once a customer can use it: systemd's start-up timeout covers the compositor, the
	 * fonts, the database, the devices and recovery's start (its wait for the acceptor goes
	 * on in the loop, the money services unavailable meanwhile). */
	core_service_ready();
	LOG_INFO("kiosk %s ready (%s clock, %s devices)", app->cfg.kiosk_id, core_clock_is_virtual(app->clock) ? "virtual" : "real",
		 opts->simulate ? "simulated" : "real");

	/* Virtual time never waits for the wall clock: no watchdog there. */
	app->watchdog_ms = core_clock_is_virtual(app->clock) ? 0 : core_service_watchdog_ms();
	if (app->watchdog_ms) {
		LOG_INFO("systemd watchdog: a keep-alive every %" PRIu64 " ms", app->watchdog_ms);
		on_watchdog(app);
	}
	run_loop(app);
	report_frames(app);
	core_service_stopping();
	core_timer_cancel(app->timers, app->watchdog_timer);
	status = app->exit_code;
	/* Lifecycle 1 on the way out too: a flow's screen disables the acceptor and ends its flow. */
	if (scr_get(app->screen)->leave)
		scr_get(app->screen)->leave(app, SCR_COUNT);
	cancel_wake(app);

	ui_page_clear(&app->page);
	recovery_free(app->recovery);
	devices_free(app->devices);
out_sync:
	sync_free(app->sync); /* stops the worker: an exchange under way ends within host.timeout_ms */
out_notes:
	catalogue_free(app->catalogue);
	ledger_notes_free(app->notes);
	ledger_close(app->ledger);
out_display:
	ui_display_close(app->display);
out_text:
	text_engine_free(app->text);
out_clock:
	core_timers_free(app->timers);
	core_clock_free(app->clock);
#if KIOSK_TEST_PORT
	/* Last: what shutting down logged counts too. */
	if (app->runner)
		status = runner_finish(app->runner, status);
	runner_free(app->runner);
#endif
out_i18n:
	i18n_free(app->i18n);
out_free:
	free(app);
	return status;
}
