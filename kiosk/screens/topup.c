/*
 * The top-up journey's screens: topup-card (the card number on a keypad), topup-pay (cash in)
 * and topup-done. They render the flow's view (kiosk/flows/topup.h) and forward taps, cash
 * events, printer changes and the flow's own times to topup_step; the flow decides every move,
 * and sync() only shows the screen of the step it is in.
 *
 *   flow step        screen        app_go by sync()
 *   CARD             topup-card
 *   CHECKING         topup-card    ("checking the card", the keys and next off; the host asked)
 *   PAY, CLOSING     topup-pay
 *   DONE             topup-done    (the receipt is printed once, on arrival)
 *   END home         home          ─┐ leave(): the flow is freed, the acceptor disabled
 *   END attract      attract        │
 *   END out of svc   attract       ─┘ (attract says out of service)
 *
 * Invariants:
 *  1. A flow runs exactly while one of the three screens is current: topup-card's enter
 *     starts it when none runs (topup-pay and topup-done, entered with none, send there: no
 *     way in skips the card step), and the leave hook of whichever is left for another
 *     screen ends it, by any path (the flow's END, out of service, `goto`, shutdown).
 *  2. Leaving in PAY by a path that is not the flow's own (out of service, `goto`, shutdown)
 *     gives the flow a cancel first, so money paid is completed, never abandoned (flow
 *     invariant 4); topup_free then disables the acceptor (flow invariant 1).
 *  3. Device events are stepped at once (the flow queues what arrives inside its own steps),
 *     but the screen moves from the loop (a wake at "now"), never inside a driver's callback.
 *  4. The app never times these screens out: the flow's deadline (topup_deadline_ms) is the
 *     one timer, re-armed after every step; every touch, a button or not, is the flow's
 *     activity (TOPUP_IN_ACTIVITY), and the receipt job's end is the flow's TOPUP_IN_RECEIPT.
 *  5. A flow left with its transaction open (CLOSING with a note in the path, or the ledger
 *     refused the end) hands it to recovery at once (app_recover_left_open), which waits for
 *     the acceptor and prints its receipt: it does not wait for the next start, blocking
 *     every customer's ledger_tx_open meanwhile.
 *  6. A flow starts only while the service is offered (app_service_available): not while
 *     recovery may end open transactions, out of service, or with the acceptor out.
 *  7. The host is asked once per entry into CHECKING (app_card_ask), and its answer, with
 *     what the offline limits leave (sync_offline_check), is the flow's one TOPUP_IN_HOST; the
 *     app bounds the wait by host.timeout_ms and stays busy meanwhile (app.c invariant 6).
 *  8. Every transaction the flow ends (view.tx_ends grows) kicks the sync (app_sync_kick).
 */
#define LOG_MODULE "scr-topup"
#include <inttypes.h>
#include <stdlib.h>

#include "kiosk/app.h"
#include "kiosk/core/log.h"
#include "kiosk/flows/topup.h"
#include "kiosk/print/print.h"
#include "kiosk/sync/sync.h"
#include "kiosk/ui/check.h"
#include "kiosk/ui/flow.h"
#include "layout.h"
#include "theme.h"

_Static_assert(CONFIG_PREFIXES_MAX <= SESSION_PREFIXES_MAX, "every configured prefix reaches the flow");

struct topup_screens {
	struct topup *flow;
	char prefixes[CONFIG_PREFIXES_MAX][CONFIG_PREFIX_DIGITS + 1]; /* the flow borrows them */
	struct topup_view shown; /* the view the page was last built from */
	bool receipt_asked;      /* DONE: the receipt was sent to the printer, or refused */
	bool asked;              /* CHECKING: the host was asked (invariant 7) */
	uint32_t kicked_ends;    /* view.tx_ends the sync was last kicked for (invariant 8) */
	char job[APP_RECEIPT_JOB_MAX]; /* ... sent: its job, whose end on_receipt hears */
};

static bool is_flow_screen(enum scr_id id)
{
	return id == SCR_TOPUP_CARD || id == SCR_TOPUP_PAY || id == SCR_TOPUP_DONE;
}

static struct topup_screens *screens_of(struct app *app) { return app_flow(app); }

/* ---- the flow ---- */

static struct topup_screens *begin(struct app *app)
{
	const struct core_config *cc = app_config(app);
	struct topup_screens *ts = xcalloc(1, sizeof(*ts));
	struct topup_config cfg;
	topup_config_default(&cfg);
	cfg.min_fils = cc->topup_min_fils;
	cfg.max_fils = cc->topup_max_fils;
	cfg.n_prefixes = core_config_prefixes(cc, ts->prefixes);
	for (size_t i = 0; i < cfg.n_prefixes; i++)
		cfg.prefixes[i] = ts->prefixes[i];
	/* Typing a number is like any customer screen; paying waits at least the flow's own time,
	 * since a customer may be looking for notes. */
	cfg.card_idle_ms = (uint64_t)cc->inactivity_timeout_s * 1000;
	if (cfg.pay_idle_ms < cfg.card_idle_ms)
		cfg.pay_idle_ms = cfg.card_idle_ms;
	cfg.done_ms = (uint64_t)cc->topup_done_s * 1000;
	cfg.no_receipt_ms = (uint64_t)cc->topup_no_receipt_s * 1000;
	cfg.host_check = true; /* invariant 7 */
	struct kio_error err = {0};
	if (topup_new(&cfg, app_ledger(app), app_cash(app), app_clock(app), lang_code(app_lang(app)),
		      app_receipt_can_print(app), &ts->flow, &err) != 0) {
		LOG_ERR("cannot start a top-up: %s", err.msg);
		free(ts);
		return NULL;
	}
	topup_view(ts->flow, &ts->shown);
	app_set_flow(app, ts);
	return ts;
}

static void print_receipt_once(struct app *app, struct topup_screens *ts, const struct topup_view *v)
{
	if (ts->receipt_asked || !v->print_receipt)
		return;
	ts->receipt_asked = true;
	struct kio_error err = {0};
	if (app_print_topup_receipt(app, topup_tx_id(ts->flow), ts->job, &err) != 0) {
		LOG_WARN("transaction %" PRId64 ": no receipt: %s", v->tx_seq, err.msg);
		ts->job[0] = '\0';
		const struct topup_input failed = {.kind = TOPUP_IN_RECEIPT, .receipt_printed = false};
		topup_step(ts->flow, &failed); /* flow invariant 7 */
	}
}

/* Invariant 1, 2 and 5. */
static void end(struct app *app, enum scr_id to)
{
	struct topup_screens *ts = screens_of(app);
	if (!ts)
		return;
	if (topup_current(ts->flow) == TOPUP_PAY) {
		const struct topup_input cancel = {.kind = TOPUP_IN_CANCEL};
		if (topup_step(ts->flow, &cancel) != 0)
			LOG_WARN("the paying step refused a cancel on the way out");
	}
	struct topup_view v;
	topup_view(ts->flow, &v);
	if (v.tx_ends != ts->kicked_ends)
		app_sync_kick(app); /* invariant 8: the cancel above may have ended one */
	if (v.step == TOPUP_DONE)
		print_receipt_once(app, ts, &v);
	else if (v.step == TOPUP_CLOSING)
		LOG_WARN("transaction %" PRId64 " left with a note in the path: recovery completes it", v.tx_seq);
	/* Invariant 5: what the flow could not end, recovery ends now, not at the next start. */
	bool left_open = v.step == TOPUP_CLOSING || v.exit == TOPUP_EXIT_OUT_OF_SERVICE;
	topup_free(ts->flow);
	free(ts);
	app_set_flow(app, NULL);
	if (left_open && to != SCR_COUNT)
		app_recover_left_open(app);
}

static enum scr_id screen_for(const struct topup_view *v)
{
	switch (v->step) {
	case TOPUP_CARD:
	case TOPUP_CHECKING: return SCR_TOPUP_CARD;
	case TOPUP_PAY:
	case TOPUP_CLOSING: return SCR_TOPUP_PAY;
	case TOPUP_DONE: return SCR_TOPUP_DONE;
	case TOPUP_END:
	case TOPUP_STEP_COUNT: break;
	}
	return v->exit == TOPUP_EXIT_HOME ? SCR_HOME : SCR_ATTRACT;
}

/* What the offline limits leave for a top-up to card (flow invariant 11): -1 when none apply,
 * 0 when nothing is left or the ledger cannot say. No host configured: none (a standalone
 * kiosk). The host answered for the card (answered): it is online, and this top-up is not an
 * offline one, so no allowance caps it, unless the earlier top-ups it has not acknowledged are
 * already past a limit (a sync stuck on a refusal while card questions still pass): then none
 * is taken until it has. Else the smaller of max_fils and what card_max_fils and
 * kiosk_max_fils leave; the sync's own check (sync_offline_check) has the last word. */
static int64_t offline_allowance(struct app *app, const char *card, int64_t max_fils, bool answered)
{
	const struct core_config *cc = app_config(app);
	struct sync_status st;
	sync_status_get(app_sync(app), &st);
	if (!st.configured)
		return -1;
	struct sync_offline_verdict ov;
	struct kio_error err = {0};
	if (sync_offline_check(app_sync(app), app_ledger(app), card, 0, &ov, &err) != 0) {
		LOG_WARN("offline limits: %s: this top-up waits for the host", err.msg);
		return 0;
	}
	if (ov.result != SYNC_OFFLINE_OK) {
		LOG_INFO("offline limits: %s reached (card %" PRId64 " top-ups, %" PRId64 " fils; kiosk %" PRId64
			 " top-ups, %" PRId64 " fils not acknowledged)",
			 sync_offline_result_name(ov.result), ov.unacked.card_count, ov.unacked.card_fils,
			 ov.unacked.kiosk_count, ov.unacked.kiosk_fils);
		return 0;
	}
	if (answered)
		return -1;
	int64_t left = max_fils;
	if (cc->offline_card_max_fils - ov.unacked.card_fils < left)
		left = cc->offline_card_max_fils - ov.unacked.card_fils;
	if (cc->offline_kiosk_max_fils - ov.unacked.kiosk_fils < left)
		left = cc->offline_kiosk_max_fils - ov.unacked.kiosk_fils;
	if (left <= 0)
		return 0;
	if (sync_offline_check(app_sync(app), app_ledger(app), card, left, &ov, &err) != 0 ||
	    ov.result != SYNC_OFFLINE_OK) {
		LOG_WARN("offline limits: the sync refuses %" PRId64 " fils the configuration leaves: waits for the host",
			 left);
		return 0;
	}
	return left;
}

static void on_card_answer(struct app *app, const struct sync_card_result *r);

/* Invariant 7: one question per entry into CHECKING. True when the flow was stepped here
 * (the ask was refused): that step did its own sync, and the caller's view is stale. */
static bool ask_host(struct app *app, struct topup_screens *ts, const struct topup_view *v)
{
	if (!v->checking) {
		ts->asked = false;
		return false;
	}
	if (ts->asked)
		return false;
	ts->asked = true;
	struct kio_error err = {0};
	if (app_card_ask(app, v->card, &err) == 0)
		return false;
	/* The flow checked the number: this is a fault of ours, and no answer will come. */
	LOG_ERR("asking the host about the card: %s", err.msg);
	struct sync_card_result r = {.result = SYNC_ASK_UNREACHABLE};
	snprintf(r.why, sizeof(r.why), "%s", err.msg);
	on_card_answer(app, &r);
	return true;
}

/* After every step: the screen of the flow's step, a page rebuilt if the view changed, the
 * flow's next deadline (invariant 4), the host asked (invariant 7), the sync kicked
 * (invariant 8). */
static void sync(struct app *app)
{
	struct topup_screens *ts = screens_of(app);
	if (!ts)
		return;
	struct topup_view v;
	topup_view(ts->flow, &v);
	if (v.tx_ends != ts->kicked_ends) {
		ts->kicked_ends = v.tx_ends;
		app_sync_kick(app);
	}
	if (ask_host(app, ts, &v))
		return;
	if (v.step == TOPUP_DONE) {
		print_receipt_once(app, ts, &v);
		topup_view(ts->flow, &v); /* a refused send changed what DONE says */
	}
	bool changed = memcmp(&v, &ts->shown, sizeof(v)) != 0;
	ts->shown = v;
	enum scr_id want = screen_for(&v);
	if (want != app_screen(app)) {
		app_go(app, want); /* may end the flow (invariant 1): ts is gone */
		return;
	}
	if (changed)
		app_refresh(app);
	uint64_t at = topup_deadline_ms(ts->flow);
	if (at)
		app_wake_at(app, at);
}

static void step(struct app *app, const struct topup_input *in)
{
	struct topup_screens *ts = screens_of(app);
	if (!ts)
		return;
	int rc = topup_step(ts->flow, in);
	if (rc && rc != KIO_ERR_INVALID)
		LOG_INFO("step %s: %s", topup_step_name(topup_current(ts->flow)), kio_strerror(rc));
	sync(app);
}

/* ---- lifecycle hooks, shared by the three screens ---- */

static void enter_card(struct app *app, enum scr_id from)
{
	(void)from;
	/* Invariant 6: no way in while the service is not offered (home disables its tile). */
	if (!screens_of(app) && !app_service_available(app, APP_SERVICE_TOPUP)) {
		LOG_WARN("top-up not available now: back to home");
		app_go(app, SCR_HOME);
		return;
	}
	if (!screens_of(app) && !begin(app)) {
		app_go(app, SCR_HOME); /* follows this enter */
		return;
	}
	sync(app);
}

/* Only the flow leads here (sync); a way in without one (the test port's goto) starts the
 * flow at its beginning, never past the card step. */
static void enter_other(struct app *app, enum scr_id from)
{
	(void)from;
	if (!screens_of(app)) {
		app_go(app, SCR_TOPUP_CARD); /* follows this enter */
		return;
	}
	sync(app);
}

static void leave(struct app *app, enum scr_id to)
{
	if (to == SCR_COUNT || !is_flow_screen(to))
		end(app, to);
}

/* Invariant 3. */
static void on_cash(struct app *app, const struct cash_event *ev)
{
	struct topup_screens *ts = screens_of(app);
	if (!ts)
		return;
	const struct topup_input in = {.kind = TOPUP_IN_CASH, .cash = *ev};
	topup_step(ts->flow, &in);
	app_wake_at(app, app_now_ms(app));
}

static void on_devices(struct app *app)
{
	struct topup_screens *ts = screens_of(app);
	if (!ts)
		return;
	if (app_out_of_service(app) && topup_current(ts->flow) != TOPUP_DONE) {
		LOG_WARN("out of service during a top-up (%s): leaving it", topup_step_name(topup_current(ts->flow)));
		app_go(app, SCR_ATTRACT);
		return;
	}
	const struct topup_input in = {.kind = TOPUP_IN_PRINTER, .printer_ok = app_receipt_can_print(app)};
	step(app, &in);
}

/* Flow invariant 6: a touch anywhere, a button or not, restarts the step's idle time. */
static void on_activity(struct app *app)
{
	const struct topup_input in = {.kind = TOPUP_IN_ACTIVITY};
	step(app, &in);
}

/* Flow invariant 7: the done screen's receipt job ended; the ledger has recorded how. */
static void on_receipt(struct app *app, const struct receipt_event *ev)
{
	struct topup_screens *ts = screens_of(app);
	bool printed = false;
	if (!ts || !scr_receipt_job_ended(ts->job, ev, &printed))
		return;
	const struct topup_input in = {.kind = TOPUP_IN_RECEIPT, .receipt_printed = printed};
	/* From the driver's callback: the flow steps now, the screen follows from the loop
	 * (invariant 3). */
	if (topup_step(ts->flow, &in) == 0)
		app_wake_at(app, app_now_ms(app));
}

/* Invariant 7: the host's word, read into the flow's terms. A card the host does not know,
 * or has only as unregistered (money paid to a number it never issued), is refused as unknown;
 * a host that answers but cannot say now (5xx, a refusal of ours) is as good as unreachable. */
static void on_card_answer(struct app *app, const struct sync_card_result *r)
{
	struct topup_screens *ts = screens_of(app);
	if (!ts || topup_current(ts->flow) != TOPUP_CHECKING)
		return; /* flow invariant 9: the customer moved on */
	struct topup_view v;
	topup_view(ts->flow, &v);
	struct topup_input in = {.kind = TOPUP_IN_HOST};
	in.host.word = TOPUP_HOST_UNREACHABLE;
	switch (r->result) {
	case SYNC_ASK_NOT_CONFIGURED: in.host.word = TOPUP_HOST_NONE; break;
	case SYNC_ASK_UNREACHABLE: break;
	case SYNC_ASK_ANSWERED:
		switch (r->answer.kind) {
		case SYNC_CARD_FOUND:
			in.host.word = r->answer.status == SYNC_CARD_ACTIVE    ? TOPUP_HOST_ACTIVE
				       : r->answer.status == SYNC_CARD_BLOCKED ? TOPUP_HOST_BLOCKED
									: TOPUP_HOST_UNKNOWN;
			in.host.balance_fils = r->answer.balance_fils;
			break;
		case SYNC_CARD_UNKNOWN:
		case SYNC_CARD_BAD: in.host.word = TOPUP_HOST_UNKNOWN; break;
		case SYNC_CARD_RETRY:
		case SYNC_CARD_REFUSED:
		case SYNC_CARD_KIND_COUNT: break;
		}
		break;
	}
	if (in.host.word == TOPUP_HOST_UNREACHABLE)
		LOG_WARN("card %s: the host cannot say now (%s): the top-up goes on within the offline limits",
			 v.card_masked, r->why[0] ? r->why : r->answer.error.code);
	in.host.allowance_fils = in.host.word == TOPUP_HOST_BLOCKED || in.host.word == TOPUP_HOST_UNKNOWN
					 ? 0
					 : offline_allowance(app, v.card, v.max_fils, in.host.word == TOPUP_HOST_ACTIVE);
	step(app, &in);
}

static void on_wake(struct app *app)
{
	const struct topup_input in = {.kind = TOPUP_IN_TICK};
	step(app, &in);
}

static void on_tap(struct app *app, const char *id)
{
	static const struct {
		const char *id;
		enum topup_input_kind kind;
	} taps[] = {
		{"key.del", TOPUP_IN_DEL},       {"key.clear", TOPUP_IN_CLEAR},   {"nav.next", TOPUP_IN_NEXT},
		{"nav.back", TOPUP_IN_BACK},     {"nav.cancel", TOPUP_IN_CANCEL}, {"pay.finish", TOPUP_IN_FINISH},
		{"done.close", TOPUP_IN_FINISH},
	};
	struct topup_input in = {.kind = TOPUP_IN_COUNT};
	if (scr_key_digit(id, &in.digit))
		in.kind = TOPUP_IN_KEY;
	for (size_t i = 0; i < sizeof(taps) / sizeof(taps[0]); i++)
		if (strcmp(id, taps[i].id) == 0)
			in.kind = taps[i].kind;
	if (in.kind != TOPUP_IN_COUNT)
		step(app, &in);
}

/* ---- drawing ---- */

/*
 * Every size is a design px on the reference screen (kiosk/ui/grid.h) and goes through ui_px or
 * ui_text_px; the page is laid out by scr_lay_out (layout.h), which sizes boxes to their text.
 */
enum { NUMBER_PX = SCR_NUMBER_PX, MSG_PX = SCR_MSG_PX, BODY_PX = SCR_BODY_PX, TOTAL_PX = SCR_TOTAL_PX, TXN_PX = 48,
       TXN_LARGE_PX = 96 };

/* Notices that mean the customer's note or money was not taken as they expected. */
static bool notice_is_fault(const char *key)
{
	static const char *const faults[] = {
		"topup.pay.note-over-max", "topup.pay.note-rejected",      "topup.pay.note-not-recorded",
		"topup.pay.acceptor-fault", "topup.pay.acceptor-unavailable", "topup.error.ledger",
		"topup.card.bad-prefix", "topup.card.bad-luhn", "topup.done.note-unsettled",
		"topup.card.blocked", "topup.card.unknown", "topup.card.needs-host",
	};
	for (size_t i = 0; key && i < sizeof(faults) / sizeof(faults[0]); i++)
		if (strcmp(key, faults[i]) == 0)
			return true;
	return false;
}

static const char *str_or_null(struct app *app, const char *key) { return key ? app_str(app, key) : NULL; }

/* tmpl with its placeholder name replaced by value (already in the page's digits: app_money). */
static void fill_template(const char *tmpl, const char *name, const char *value, char *out, size_t size)
{
	const char *at = strstr(tmpl, name);
	if (at)
		snprintf(out, size, "%.*s%s%s", (int)(at - tmpl), tmpl, value, at + strlen(name));
	else
		snprintf(out, size, "%s", tmpl);
}


/* ---- topup-card ---- */

/*
 * One column: the number, its message and the notices, the keypad under them, the bar. Two
 * (landscape): those in the start column, the keypad in the end one, so keys keep a finger's
 * size on a short screen. Short of room, the label over the number goes first; the number,
 * its message, the notices and the keys stay.
 */
static void draw_card(struct app *app, struct ui_page *page)
{
	const struct topup_view *v = &screens_of(app)->shown;
	/* "Press Next" only when Next can be pressed: with the acceptor out, the notice says why. */
	bool ok = strcmp(v->card_msg, "topup.card.ok") == 0;
	/* After a host refusal the notice says what to do; "press next" would say the opposite. */
	bool refused = v->notice && strncmp(v->notice, "topup.card.", 11) == 0;
	const char *msg = ok && (!v->next_enabled || refused) ? NULL : app_str(app, v->card_msg);
	const char *notice = str_or_null(app, v->notice);
	struct scr_button nav[] = {
		{"nav.back", app_str(app, "common.back"), false, true},
		{"nav.cancel", app_str(app, "common.cancel"), false, true},
		{"nav.next", app_str(app, "nav.next"), true, v->next_enabled},
	};
	static const int rows[] = {3};
	struct scr_item items[] = {
		{"card.label", app_str(app, "topup.card.label"), NULL, BODY_PX, false, false, TEXT_DIR_AUTO, THEME_MUTED,
		 SCR_LOOK_LABEL, 0, 1},
		/* The number as typed, in fours, always left to right (an identifier, Western digits). */
		{"card.number", v->card_grouped[0] ? v->card_grouped : NULL, "0000 0000 0000 0000", NUMBER_PX, true, true,
		 TEXT_DIR_LTR, THEME_TEXT, SCR_LOOK_NUMBER, 0, 0},
		{"card.msg", msg, NULL, MSG_PX, true, false, TEXT_DIR_AUTO,
		 notice_is_fault(v->card_msg) ? THEME_FAULT_TEXT : THEME_BAND, SCR_LOOK_LABEL, 0, 0},
		{"card.notice", notice, NULL, MSG_PX, true, false, TEXT_DIR_AUTO, 0,
		 notice_is_fault(v->notice) ? SCR_LOOK_FAULT : SCR_LOOK_WARN, 0, 0},
		/* Said before the customer commits to paying, and again on the paying screen. */
		{"card.no-change", app_str(app, v->no_change_msg), NULL, BODY_PX, true, false, TEXT_DIR_AUTO, 0, SCR_LOOK_WARN,
		 0, 0},
		{"card.printer", str_or_null(app, v->printer_msg), NULL, BODY_PX, true, false, TEXT_DIR_AUTO, 0, SCR_LOOK_FAULT,
		 0, 0},
	};
	if (v->checking)
		items[2].fg = THEME_BAND; /* "checking the card": the kiosk is busy, nothing is wrong */
	const struct scr_layout L = {
		.header_id = "topup.title", .title = app_str(app, "topup.title"),
		.items = items, .n = (int)(sizeof(items) / sizeof(items[0])),
		.buttons = nav, .wide = nav, .rows = rows, .n_rows = 1, .n_buttons = 3,
		.keypad = true, .clear = app_str(app, "key.clear"), .del = app_str(app, "key.del"),
		.keys_wait = v->checking, /* the host is asked about the number */
	};
	scr_lay_out(page, &L);
}

/* ---- topup-pay ---- */

/*
 * Start column: the card, the no-change and printer notices, the notes taken, the limits, what
 * to do; end column: the host's balance (or that it needs the host), the offline limit's
 * explanation, the total, the count, the latest note's notice. Short of room, these go, in
 * order: the label over the card number, "insert notes", the notes taken, the label over the
 * total, the count with "the balance needs the host" and the offline limit's explanation (the
 * limits line keeps the lowered maximum). The amounts (a balance the host gave included), the
 * card number, the limits, the notices and the buttons stay.
 */
static void draw_pay(struct app *app, struct ui_page *page)
{
	const struct topup_view *v = &screens_of(app)->shown;
	char notes[256], limits[256], min[48], max[48], total[48], count[128], list[160] = "", num[24];
	const char *sep = app_lang(app) == LANG_AR ? "، " : ", "; /* Arabic comma U+060C */
	for (size_t i = 0; i < v->n_denoms; i++) {
		snprintf(num, sizeof(num), "%s%" PRId64, i ? sep : "", v->denoms_fils[i] / TOPUP_FILS_PER_AED);
		strncat(list, num, sizeof(list) - strlen(list) - 1);
	}
	app_fill(app, app_str(app, "topup.pay.notes"), "{notes}", list, notes, sizeof(notes));
	app_money(app, v->min_fils, min, sizeof(min));
	app_money(app, v->max_fils, max, sizeof(max));
	char half[256];
	const char *lt = app_str(app, "topup.pay.limits");
	/* Two placeholders: each amount already in the page's digits. */
	const char *at = strstr(lt, "{min}");
	if (at)
		snprintf(half, sizeof(half), "%.*s%s%s", (int)(at - lt), lt, min, at + 5);
	else
		snprintf(half, sizeof(half), "%s", lt);
	at = strstr(half, "{max}");
	if (at)
		snprintf(limits, sizeof(limits), "%.*s%s%s", (int)(at - half), half, max, at + 5);
	else
		snprintf(limits, sizeof(limits), "%s", half);
	app_money(app, v->total_fils, total, sizeof(total));
	snprintf(num, sizeof(num), "%" PRId64, v->notes);
	app_fill(app, app_nstr(app, "topup.pay.count", (unsigned long)v->notes), "{count}", num, count, sizeof(count));
	const char *insert = v->step == TOPUP_CLOSING ? app_str(app, "topup.pay.closing")
			     : v->accepting          ? app_str(app, "topup.pay.insert")
						     : NULL;
	const char *notice = str_or_null(app, v->notice);
	bool paying = v->step == TOPUP_PAY;
	/* The host's word (flow invariant 12) and the offline limit (invariant 11). */
	char balance[256] = "", limit[256] = "", amount[48];
	if (v->balance_known) {
		app_money(app, v->balance_fils, amount, sizeof(amount));
		fill_template(app_str(app, "topup.pay.balance"), "{amount}", amount, balance, sizeof(balance));
	} else if (v->balance_msg) {
		snprintf(balance, sizeof(balance), "%s", app_str(app, v->balance_msg));
	}
	if (v->limit_msg) {
		app_money(app, v->max_fils, amount, sizeof(amount));
		fill_template(app_str(app, v->limit_msg), "{max}", amount, limit, sizeof(limit));
	}
	/* Two columns: back, cancel, finish in one row (reading order); one: finish on its own. */
	struct scr_button buttons[] = {
		{"pay.finish", app_str(app, "topup.pay.finish"), true, paying && v->finish_enabled},
		{"nav.back", app_str(app, "common.back"), false, paying && v->back_enabled},
		{"nav.cancel", app_str(app, v->cancel_finishes ? "topup.pay.finish-with-paid" : "common.cancel"), false,
		 paying},
	};
	struct scr_button wide_buttons[] = {buttons[1], buttons[2], buttons[0]};
	static const int rows[] = {1, 2};
	struct scr_item items[] = {
		{"pay.card.label", app_str(app, "topup.card.label"), NULL, BODY_PX, false, false, TEXT_DIR_AUTO,
		 THEME_MUTED, SCR_LOOK_LABEL, 0, 1},
		{"pay.card", v->card_masked, NULL, MSG_PX, true, true, TEXT_DIR_LTR, THEME_BAND, SCR_LOOK_LABEL, 0, 0},
		{"pay.no-change", app_str(app, v->no_change_msg), NULL, BODY_PX, true, false, TEXT_DIR_AUTO, 0, SCR_LOOK_WARN, 0,
		 0},
		{"pay.printer", str_or_null(app, v->printer_msg), NULL, BODY_PX, true, false, TEXT_DIR_AUTO, 0, SCR_LOOK_FAULT,
		 1, 0},
		{"pay.notes", notes, NULL, BODY_PX, false, false, TEXT_DIR_AUTO, THEME_TEXT, SCR_LOOK_LABEL, 0, 3},
		{"pay.limits", limits, NULL, BODY_PX, false, false, TEXT_DIR_AUTO, THEME_TEXT, SCR_LOOK_LABEL, 0, 0},
		{"pay.insert", insert, NULL, MSG_PX, true, false, TEXT_DIR_AUTO, THEME_BAND, SCR_LOOK_LABEL, 0, 2},
		/* The host's word and the offline limit beside the total (the end column has the room).
		 * A balance is an amount, kept; "needs the host" and the limit's explanation go last,
		 * with the count (5): the limits line still shows the lowered maximum. */
		{"pay.balance", balance[0] ? balance : NULL, NULL, BODY_PX, v->balance_known, false, TEXT_DIR_AUTO,
		 v->balance_known ? THEME_TEXT : THEME_MUTED, SCR_LOOK_LABEL, 1, v->balance_known ? 0 : 5},
		{"pay.limit", limit[0] ? limit : NULL, NULL, BODY_PX, true, false, TEXT_DIR_AUTO, 0, SCR_LOOK_WARN, 1, 5},
		{"pay.total.label", app_str(app, "topup.pay.total"), NULL, BODY_PX, false, false, TEXT_DIR_AUTO,
		 THEME_MUTED, SCR_LOOK_LABEL, 1, 4},
		{"pay.total", total, NULL, TOTAL_PX, true, true, TEXT_DIR_AUTO, THEME_TEXT, SCR_LOOK_LABEL, 1, 0},
		{"pay.count", count, NULL, BODY_PX, false, false, TEXT_DIR_AUTO, THEME_MUTED, SCR_LOOK_LABEL, 1, 5},
		{"pay.notice", notice, NULL, BODY_PX, true, false, TEXT_DIR_AUTO, 0,
		 notice_is_fault(v->notice) ? SCR_LOOK_FAULT : SCR_LOOK_WARN, 1, 0},
	};
	const struct scr_layout L = {
		.header_id = "topup.pay.title", .title = app_str(app, "topup.pay.title"),
		.items = items, .n = (int)(sizeof(items) / sizeof(items[0])),
		.buttons = buttons, .wide = wide_buttons, .rows = rows, .n_rows = 2, .n_buttons = 3,
	};
	scr_lay_out(page, &L);
}

/* ---- topup-done ---- */

/*
 * Start column: what was credited, to which card, when it reaches it; end column: the proof
 * (the transaction number, the receipt). Short of room, these go, in order: the labels over
 * the card and the transaction number, then "credited to your card" over the amount. The
 * amount, the card, the number, the receipt and sync messages and the button stay.
 */
static void draw_done(struct app *app, struct ui_page *page)
{
	const struct topup_view *v = &screens_of(app)->shown;
	char amount[48], txn[32];
	app_money(app, v->credited_fils, amount, sizeof(amount));
	/* The same reference as the receipt's (app_print_topup_receipt). */
	snprintf(txn, sizeof(txn), "TXN-%06" PRId64, v->tx_seq);
	bool large = v->tx_number_large;
	const char *receipt = app_str(app, v->receipt_msg ? v->receipt_msg : "topup.done.take-receipt");
	const char *sync_msg = app_str(app, v->done_msg ? v->done_msg : "topup.done.queued-for-sync");
	/* Flow invariant 12: the host's balance plus this credit, said to be so. */
	char new_balance[256] = "", figure[48];
	if (v->new_balance_msg) {
		app_money(app, v->new_balance_fils, figure, sizeof(figure));
		fill_template(app_str(app, v->new_balance_msg), "{amount}", figure, new_balance, sizeof(new_balance));
	}
	struct scr_button nav[] = {{"done.close", app_str(app, "topup.done.close"), true, true}};
	static const int rows[] = {1};
	struct scr_item items[] = {
		{"done.credited", app_str(app, "topup.done.credited"), NULL, MSG_PX, true, false, TEXT_DIR_AUTO, THEME_BAND,
		 SCR_LOOK_LABEL, 0, 2},
		{"done.amount", amount, NULL, TOTAL_PX, true, true, TEXT_DIR_AUTO, THEME_TEXT, SCR_LOOK_LABEL, 0, 0},
		{"done.card.label", app_str(app, "topup.card.label"), NULL, BODY_PX, false, false, TEXT_DIR_AUTO,
		 THEME_MUTED, SCR_LOOK_LABEL, 0, 1},
		{"done.card", v->card_masked, NULL, MSG_PX, true, true, TEXT_DIR_LTR, THEME_TEXT, SCR_LOOK_LABEL, 0, 0},
		{"done.balance", new_balance[0] ? new_balance : NULL, NULL, BODY_PX, true, false, TEXT_DIR_AUTO, THEME_TEXT,
		 SCR_LOOK_LABEL, 0, 0},
		{"done.sync", sync_msg, NULL, BODY_PX, false, false, TEXT_DIR_AUTO, THEME_MUTED, SCR_LOOK_LABEL, 0, 0},
		{"done.number.label", app_str(app, "topup.done.number"), NULL, BODY_PX, false, false, TEXT_DIR_AUTO,
		 THEME_MUTED, SCR_LOOK_LABEL, 1, 1},
		{"done.number", txn, NULL, large ? TXN_LARGE_PX : TXN_PX, true, true, TEXT_DIR_LTR, THEME_TEXT, SCR_LOOK_LABEL, 1,
		 0},
		{"done.receipt", receipt, NULL, MSG_PX, true, false, TEXT_DIR_AUTO, 0, large ? SCR_LOOK_FAULT : SCR_LOOK_WARN, 1, 0},
		/* Red only for what went wrong ("the acceptor works again" is no fault). */
		{"done.notice", str_or_null(app, v->notice), NULL, BODY_PX, true, false, TEXT_DIR_AUTO, 0,
		 notice_is_fault(v->notice) ? SCR_LOOK_FAULT : SCR_LOOK_WARN, 1, 0},
	};
	const struct scr_layout L = {
		.header_id = "topup.done.title", .title = app_str(app, "topup.done.title"),
		.items = items, .n = (int)(sizeof(items) / sizeof(items[0])),
		.buttons = nav, .wide = nav, .rows = rows, .n_rows = 1, .n_buttons = 1,
	};
	scr_lay_out(page, &L);
}

/* A flow's screen built with no flow (an enter that could not start one, before its queued
 * move to home happens) shows only its title. */
#define FLOW_SCREEN(var, sid, draw, enter_fn)                                                       \
	static void build_##var(struct app *app, struct ui_page *page)                              \
	{                                                                                           \
		if (screens_of(app))                                                                \
			draw(app, page);                                                            \
		else                                                                                \
			theme_header(page, "topup.title", app_str(app, "topup.title"));             \
	}                                                                                           \
	const struct scr_def var = {                                                                \
		.id = sid,                                                                          \
		.customer_session = true,                                                           \
		.build = build_##var,                                                               \
		.on_tap = on_tap,                                                                   \
		.enter = enter_fn,                                                                  \
		.leave = leave,                                                                     \
		.on_cash = on_cash,                                                                 \
		.on_devices = on_devices,                                                           \
		.on_wake = on_wake,                                                                 \
		.on_activity = on_activity,                                                         \
		.on_receipt = on_receipt,                                                           \
		.on_card_answer = on_card_answer,                                                   \
	}

FLOW_SCREEN(scr_topup_card, "topup-card", draw_card, enter_card);
FLOW_SCREEN(scr_topup_pay, "topup-pay", draw_pay, enter_other);
FLOW_SCREEN(scr_topup_done, "topup-done", draw_done, enter_other);
