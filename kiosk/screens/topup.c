/*
 * The top-up journey's screens: topup-card (the card number on a keypad), topup-pay (cash in)
 * and topup-done. They render the flow's view (kiosk/flows/topup.h) and forward taps, cash
 * events, printer changes and the flow's own times to topup_step; the flow decides every move,
 * and sync() only shows the screen of the step it is in.
 *
 *   flow step        screen        app_go by sync()
 *   CARD             topup-card
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
 */
#define LOG_MODULE "scr-topup"
#include <inttypes.h>
#include <stdlib.h>

#include "kiosk/app.h"
#include "kiosk/core/log.h"
#include "kiosk/flows/topup.h"
#include "kiosk/print/print.h"
#include "kiosk/ui/check.h"
#include "kiosk/ui/flow.h"
#include "theme.h"

_Static_assert(CONFIG_PREFIXES_MAX <= SESSION_PREFIXES_MAX, "every configured prefix reaches the flow");

struct topup_screens {
	struct topup *flow;
	char prefixes[CONFIG_PREFIXES_MAX][CONFIG_PREFIX_DIGITS + 1]; /* the flow borrows them */
	struct topup_view shown; /* the view the page was last built from */
	bool receipt_asked;      /* DONE: the receipt was sent to the printer, or refused */
	char job[APP_RECEIPT_JOB_MAX]; /* ... sent: its job, whose end on_receipt hears */
};

enum { GAP = 20, NAV_MIN = 100, NAV_PREF = 130, KEY_MIN = UI_TOUCH_MIN_PX, KEY_PREF = 150, KEY_MAX_W = 280,
       NUMBER_PX = 72, KEY_PX = 64, KEY_LABEL_PX = 40, MSG_PX = 40, BODY_PX = 38, TOTAL_PX = 88, BAND_PAD = 14, TXN_PX = 48, TXN_LARGE_PX = 96 };
_Static_assert((int)NAV_MIN >= (int)UI_TOUCH_MIN_PX, "the navigation buttons are touch targets");

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
	case TOPUP_CARD: return SCR_TOPUP_CARD;
	case TOPUP_PAY:
	case TOPUP_CLOSING: return SCR_TOPUP_PAY;
	case TOPUP_DONE: return SCR_TOPUP_DONE;
	case TOPUP_END:
	case TOPUP_STEP_COUNT: break;
	}
	return v->exit == TOPUP_EXIT_HOME ? SCR_HOME : SCR_ATTRACT;
}

/* After every step: the screen of the flow's step, a page rebuilt if the view changed, the
 * flow's next deadline (invariant 4). */
static void sync(struct app *app)
{
	struct topup_screens *ts = screens_of(app);
	if (!ts)
		return;
	struct topup_view v;
	topup_view(ts->flow, &v);
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
	if (!ts || !ts->job[0] || strcmp(ev->job_id, ts->job) != 0 ||
	    (ev->kind != RECEIPT_EV_PRINTED && ev->kind != RECEIPT_EV_FAILED))
		return;
	ts->job[0] = '\0';
	const struct topup_input in = {.kind = TOPUP_IN_RECEIPT, .receipt_printed = ev->kind == RECEIPT_EV_PRINTED};
	/* From the driver's callback: the flow steps now, the screen follows from the loop
	 * (invariant 3). */
	if (topup_step(ts->flow, &in) == 0)
		app_wake_at(app, app_now_ms(app));
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
	if (strncmp(id, "key.", 4) == 0 && id[4] >= '0' && id[4] <= '9' && id[5] == '\0') {
		in.kind = TOPUP_IN_KEY;
		in.digit = id[4];
	}
	for (size_t i = 0; i < sizeof(taps) / sizeof(taps[0]); i++)
		if (strcmp(id, taps[i].id) == 0)
			in.kind = taps[i].kind;
	if (in.kind != TOPUP_IN_COUNT)
		step(app, &in);
}

/* ---- drawing ---- */

static enum text_dir page_dir(const struct ui_page *page) { return page->rtl ? TEXT_DIR_RTL : TEXT_DIR_LTR; }
static int inner_w(const struct ui_page *page) { return page->width - 2 * THEME_MARGIN; }
static int max_i(int a, int b) { return a > b ? a : b; }

/* Notices that mean the customer's note or money was not taken as they expected. */
static bool notice_is_fault(const char *key)
{
	static const char *const faults[] = {
		"topup.pay.note-over-max", "topup.pay.note-rejected",      "topup.pay.note-not-recorded",
		"topup.pay.acceptor-fault", "topup.pay.acceptor-unavailable", "topup.error.ledger",
		"topup.card.bad-prefix", "topup.card.bad-luhn", "topup.done.note-unsettled",
	};
	for (size_t i = 0; key && i < sizeof(faults) / sizeof(faults[0]); i++)
		if (strcmp(key, faults[i]) == 0)
			return true;
	return false;
}

/* A row of buttons across the page in reading order, as tall as the tallest label needs. */
struct nav_button {
	const char *id, *text;
	bool primary, enabled;
};

static int nav_h(const struct ui_page *page, const struct nav_button *b, int n)
{
	int w = (inner_w(page) - (n - 1) * GAP) / n, h = NAV_MIN;
	for (int i = 0; i < n; i++)
		h = max_i(h, ui_page_text_height(page, b[i].text, b[i].primary ? THEME_BUTTON_PX : THEME_BUTTON_SECONDARY_PX,
						   true, page_dir(page), w));
	return h;
}

static void nav_row(struct ui_page *page, const struct nav_button *b, int n, const struct ui_flow_item *slot)
{
	int w = (inner_w(page) - (n - 1) * GAP) / n;
	for (int i = 0; i < n; i++) {
		struct ui_rect r = {THEME_MARGIN + i * (w + GAP), slot->y, w, slot->h};
		struct ui_widget *x = b[i].primary ? theme_button(page, b[i].id, r, b[i].text)
						   : theme_button_secondary(page, b[i].id, r, b[i].text);
		x->enabled = b[i].enabled;
	}
}

static const char *str_or_null(struct app *app, const char *key) { return key ? app_str(app, key) : NULL; }

/* ---- topup-card ---- */

enum card_slot { C_HEADER, C_LABEL, C_NUMBER, C_MSG, C_NOTICE, C_NO_CHANGE, C_PRINTER, C_FILL_1, C_KEYS_1, C_KEYS_2, C_KEYS_3, C_KEYS_4,
		 C_FILL_2, C_NAV, C_COUNT };

/* A text box in a column of the page (x from the start edge, as ui_page_add takes it). */
static struct ui_widget *col_add(struct ui_page *page, const char *id, enum ui_kind kind, int x, int w,
				 const struct ui_flow_item *slot, const char *text)
{
	return ui_page_add(page, id, kind, (struct ui_rect){x, slot->y, w, slot->h}, text);
}

/*
 * Portrait: one column, the keypad under the number. Landscape (wider than tall): the number
 * and its message in the start half, the keypad in the end half, the buttons across the bottom,
 * so the keys keep a finger's size on a 1080-high screen.
 */
static void draw_card(struct app *app, struct ui_page *page)
{
	const struct topup_view *v = &screens_of(app)->shown;
	enum text_dir dir = page_dir(page);
	const char *title = app_str(app, "topup.title");
	const char *card_label = app_str(app, "topup.card.label");
	/* "Press Next" only when Next can be pressed: with the acceptor out, the notice says why. */
	bool ok = strcmp(v->card_msg, "topup.card.ok") == 0;
	const char *msg = ok && !v->next_enabled ? NULL : app_str(app, v->card_msg);
	const char *notice = str_or_null(app, v->notice);
	/* Said before the customer commits to paying, and again on the paying screen. */
	const char *no_change = app_str(app, v->no_change_msg);
	const char *printer = str_or_null(app, v->printer_msg);
	bool wide = page->width > page->height;
	int col_w = wide ? (inner_w(page) - 2 * GAP) / 2 : inner_w(page);
	int keys_x = wide ? THEME_MARGIN + col_w + 2 * GAP : THEME_MARGIN;
	int number_px = NUMBER_PX;
	for (int one; number_px > 24; number_px -= 4) {
		one = ui_page_text_height(page, "0", number_px, true, TEXT_DIR_LTR, col_w);
		if (ui_page_text_height(page, "0000 0000 0000 0000", number_px, true, TEXT_DIR_LTR, col_w) <= one)
			break;
	}
	struct nav_button nav[] = {
		{"nav.back", app_str(app, "common.back"), false, true},
		{"nav.cancel", app_str(app, "common.cancel"), false, true},
		{"nav.next", app_str(app, "nav.next"), true, v->next_enabled},
	};
	int kw = (col_w - 2 * GAP) / 3;
	if (kw > KEY_MAX_W)
		kw = KEY_MAX_W;
	/* A key is a touch target and as tall as its digit or label. */
	int key_min = KEY_MIN;
	key_min = max_i(key_min, ui_page_text_height(page, "0", KEY_PX, true, TEXT_DIR_LTR, kw));
	key_min = max_i(key_min, ui_page_text_height(page, app_str(app, "key.clear"), KEY_LABEL_PX, true, dir, kw));
	key_min = max_i(key_min, ui_page_text_height(page, app_str(app, "key.del"), KEY_LABEL_PX, true, dir, kw));
	int number_h = ui_page_text_height(page, "0", number_px, true, TEXT_DIR_LTR, col_w) + 2 * BAND_PAD;
	int nh = nav_h(page, nav, 3);
	struct ui_flow_item key_row = wide ? (struct ui_flow_item){0, 0, 0, 0} : (struct ui_flow_item){key_min, KEY_PREF, 0, 0};
	struct ui_flow_item s[C_COUNT] = {
		[C_HEADER] = {theme_header_height(page, title), 0},
		[C_LABEL] = {ui_page_text_height(page, card_label, BODY_PX, false, dir, col_w), 0},
		[C_NUMBER] = {number_h, 0},
		[C_MSG] = {msg ? ui_page_text_height(page, msg, MSG_PX, true, dir, col_w) : 0, 0},
		[C_NOTICE] = {notice ? ui_page_text_height(page, notice, MSG_PX, true, dir, col_w) + 2 * BAND_PAD : 0, 0},
		[C_NO_CHANGE] = {ui_page_text_height(page, no_change, BODY_PX, true, dir, col_w) + 2 * BAND_PAD, 0},
		[C_PRINTER] = {printer ? ui_page_text_height(page, printer, BODY_PX, true, dir, col_w) + 2 * BAND_PAD : 0, 0},
		[C_FILL_1] = {0, UI_FLOW_FILL},
		[C_KEYS_1] = key_row,
		[C_KEYS_2] = key_row,
		[C_KEYS_3] = key_row,
		[C_KEYS_4] = key_row,
		[C_FILL_2] = {0, UI_FLOW_FILL},
		[C_NAV] = {nh, max_i(nh, NAV_PREF)},
	};
	for (int i = 0; i < C_COUNT; i++)
		if (s[i].pref != UI_FLOW_FILL && s[i].pref < s[i].min)
			s[i].pref = s[i].min;
	ui_flow_column(s, C_COUNT, 0, page->height - THEME_MARGIN / 2, GAP);
	struct ui_flow_item *keys = &s[C_KEYS_1];
	struct ui_flow_item side[6];
	if (wide) {
		side[0] = (struct ui_flow_item){0, UI_FLOW_FILL, 0, 0};
		for (int r = 1; r <= 4; r++)
			side[r] = (struct ui_flow_item){key_min, max_i(key_min, KEY_PREF), 0, 0};
		side[5] = (struct ui_flow_item){0, UI_FLOW_FILL, 0, 0};
		ui_flow_column(side, 6, s[C_LABEL].y, s[C_NAV].y - GAP, GAP);
		keys = &side[1];
	}

	theme_header(page, "topup.title", title);
	struct ui_widget *w = col_add(page, "card.label", UI_LABEL, THEME_MARGIN, col_w, &s[C_LABEL], card_label);
	w->text_px = BODY_PX, w->fg = THEME_MUTED;
	/* The number as typed, in fours, always left to right (an identifier, Western digits). */
	w = col_add(page, "card.number", UI_PANEL, THEME_MARGIN, col_w, &s[C_NUMBER],
		    v->card_grouped[0] ? v->card_grouped : NULL);
	w->bg = THEME_TILE, w->border = THEME_TILE_BORDER, w->fg = THEME_TEXT;
	w->text_px = number_px, w->bold = true, w->dir = TEXT_DIR_LTR;
	if (msg) {
		w = col_add(page, "card.msg", UI_LABEL, THEME_MARGIN, col_w, &s[C_MSG], msg);
		w->text_px = MSG_PX, w->bold = true, w->fg = notice_is_fault(v->card_msg) ? THEME_FAULT_TEXT : THEME_BAND;
	}
	if (notice) {
		w = col_add(page, "card.notice", UI_PANEL, THEME_MARGIN, col_w, &s[C_NOTICE], notice);
		bool fault = notice_is_fault(v->notice);
		w->bg = fault ? THEME_FAULT_BG : THEME_WARN_BG, w->fg = fault ? THEME_FAULT_TEXT : THEME_WARN_TEXT;
		w->text_px = MSG_PX, w->bold = true;
	}
	w = col_add(page, "card.no-change", UI_PANEL, THEME_MARGIN, col_w, &s[C_NO_CHANGE], no_change);
	w->bg = THEME_WARN_BG, w->fg = THEME_WARN_TEXT, w->text_px = BODY_PX, w->bold = true;
	if (printer) {
		w = col_add(page, "card.printer", UI_PANEL, THEME_MARGIN, col_w, &s[C_PRINTER], printer);
		w->bg = THEME_FAULT_BG, w->fg = THEME_FAULT_TEXT, w->text_px = BODY_PX, w->bold = true;
	}

	/* The keypad reads as a phone's in both languages (1 2 3 on top, left to right): its
	 * column is mirrored with the page, its keys are not (ui_page_add mirrors every rect of an
	 * RTL page, so they are given pre-mirrored). */
	static const char *const rows[4][3] = {
		{"1", "2", "3"}, {"4", "5", "6"}, {"7", "8", "9"}, {"clear", "0", "del"}};
	int x0 = keys_x + (col_w - 3 * kw - 2 * GAP) / 2;
	if (page->rtl)
		x0 = page->width - x0 - (3 * kw + 2 * GAP);
	for (int r = 0; r < 4; r++) {
		for (int c = 0; c < 3; c++) {
			const char *k = rows[r][c];
			char id[16];
			snprintf(id, sizeof(id), "key.%s", k);
			int x = x0 + c * (kw + GAP);
			if (page->rtl)
				x = page->width - x - kw;
			struct ui_rect rect = {x, keys[r].y, kw, keys[r].h};
			if (k[1] == '\0') {
				w = ui_page_add(page, id, UI_KEY, rect, k);
				w->key = (uint32_t)k[0];
				w->bg = THEME_TILE, w->border = THEME_TILE_BORDER, w->fg = THEME_TEXT;
				w->text_px = KEY_PX, w->bold = true, w->dir = TEXT_DIR_LTR;
			} else {
				w = theme_button_secondary(page, id, rect, app_str(app, id));
				w->text_px = KEY_LABEL_PX;
			}
		}
	}
	nav_row(page, nav, 3, &s[C_NAV]);
}

/* ---- a page of text items and buttons, in one column or two ---- */

enum item_look { LOOK_LABEL, LOOK_WARN, LOOK_FAULT };

struct item {
	const char *id, *text; /* text NULL: the item is left out */
	int px;                /* the largest size; a one-line item shrinks to stay on one line */
	bool bold, one_line;
	enum text_dir dir;     /* AUTO: the page's */
	uint32_t fg;
	enum item_look look;
	int col;               /* landscape: 0 the start half, 1 the end half */
};

#define ITEMS_MAX 16

/*
 * Lays items out under the header and buttons above the bottom edge. Portrait (or any page
 * taller than wide): one column, items in order, then the button rows (rows[i] buttons in
 * row i). Landscape: items with col 0 in the start half, col 1 in the end half, every button
 * in one row across the bottom, so a 1080-high screen keeps room for the text.
 */
static void lay_out(struct ui_page *page, const char *header_id, const char *title, struct item *items, int n,
		    const struct nav_button *buttons, const int *rows, int n_rows)
{
	bool wide = page->width > page->height;
	int n_buttons = 0;
	for (int r = 0; r < n_rows; r++)
		n_buttons += rows[r];
	int half = (inner_w(page) - 2 * GAP) / 2;
	int col_w = wide ? half : inner_w(page);
	int header_h = theme_header_height(page, title);
	int bottom = page->height - THEME_MARGIN / 2;
	/* The buttons, bottom up. */
	struct ui_flow_item nav[4];
	int nav_rows = wide ? 1 : n_rows;
	const struct nav_button *row_start[4];
	int row_n[4];
	for (int r = 0, k = 0; r < nav_rows; r++) {
		row_start[r] = &buttons[k];
		row_n[r] = wide ? n_buttons : rows[r];
		k += row_n[r];
		int h = nav_h(page, row_start[r], row_n[r]);
		nav[r] = (struct ui_flow_item){h, max_i(h, NAV_PREF), 0, 0};
	}
	/* The items' sizes at their column's width. */
	struct ui_flow_item slot[ITEMS_MAX + 1];
	int px[ITEMS_MAX];
	for (int i = 0; i < n; i++) {
		struct item *it = &items[i];
		enum text_dir dir = it->dir == TEXT_DIR_AUTO ? page_dir(page) : it->dir;
		px[i] = it->px;
		if (it->text && it->one_line)
			for (int one; px[i] > 24; px[i] -= 4) {
				one = ui_page_text_height(page, "0", px[i], it->bold, dir, col_w);
				if (ui_page_text_height(page, it->text, px[i], it->bold, dir, col_w) <= one)
					break;
			}
		int h = it->text ? ui_page_text_height(page, it->text, px[i], it->bold || it->look != LOOK_LABEL, dir,
						       col_w) : 0;
		if (it->text && it->look != LOOK_LABEL)
			h += 2 * BAND_PAD;
		slot[i] = (struct ui_flow_item){h, h, 0, 0};
	}
	/* One column (portrait) or two (landscape), each a flow from the header to the buttons,
	 * the room left at its end; then the buttons, measured from the bottom. */
	int nav_total = 0;
	for (int r = 0; r < nav_rows; r++)
		nav_total += nav[r].pref + GAP;
	int items_bottom = bottom - nav_total;
	struct ui_flow_item col_items[ITEMS_MAX + 1];
	int map[ITEMS_MAX];
	for (int c = 0; c < (wide ? 2 : 1); c++) {
		int m = 0;
		for (int i = 0; i < n; i++)
			if (!wide || items[i].col == c) {
				map[m] = i;
				col_items[m++] = slot[i];
			}
		col_items[m] = (struct ui_flow_item){0, UI_FLOW_FILL, 0, 0};
		ui_flow_column(col_items, (size_t)m + 1, header_h + GAP / 2, items_bottom, GAP / 2);
		for (int k = 0; k < m; k++)
			slot[map[k]] = col_items[k];
	}
	struct ui_flow_item navs[5];
	navs[0] = (struct ui_flow_item){0, UI_FLOW_FILL, 0, 0};
	for (int r = 0; r < nav_rows; r++)
		navs[r + 1] = nav[r];
	ui_flow_column(navs, (size_t)nav_rows + 1, items_bottom, bottom, GAP / 2);

	theme_header(page, header_id, title);
	for (int i = 0; i < n; i++) {
		struct item *it = &items[i];
		if (!it->text)
			continue;
		int x = THEME_MARGIN + (wide && it->col ? half + 2 * GAP : 0);
		struct ui_widget *w = col_add(page, it->id, it->look == LOOK_LABEL ? UI_LABEL : UI_PANEL, x, col_w,
					      &slot[i], it->text);
		w->text_px = px[i], w->bold = it->bold || it->look != LOOK_LABEL;
		if (it->dir != TEXT_DIR_AUTO)
			w->dir = it->dir;
		w->fg = it->look == LOOK_WARN ? THEME_WARN_TEXT : it->look == LOOK_FAULT ? THEME_FAULT_TEXT : it->fg;
		if (it->look != LOOK_LABEL)
			w->bg = it->look == LOOK_WARN ? THEME_WARN_BG : THEME_FAULT_BG;
	}
	for (int r = 0; r < nav_rows; r++)
		nav_row(page, row_start[r], row_n[r], &navs[r + 1]);
}

/* ---- topup-pay ---- */

enum pay_slot { P_HEADER, P_CARD_LABEL, P_CARD, P_NO_CHANGE, P_PRINTER, P_NOTES, P_LIMITS, P_INSERT, P_TOTAL_LABEL, P_TOTAL,
		P_COUNT_LINE, P_NOTICE, P_FILL, P_NAV_1, P_NAV_2, P_COUNT };

static void draw_pay(struct app *app, struct ui_page *page)
{
	const struct topup_view *v = &screens_of(app)->shown;
	const char *title = app_str(app, "topup.pay.title");
	const char *card_label = app_str(app, "topup.card.label");
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
	const char *no_change = app_str(app, v->no_change_msg);
	const char *printer = str_or_null(app, v->printer_msg);
	const char *insert = v->step == TOPUP_CLOSING ? app_str(app, "topup.pay.closing")
			     : v->accepting          ? app_str(app, "topup.pay.insert")
						     : NULL;
	const char *notice = str_or_null(app, v->notice);
	const char *total_label = app_str(app, "topup.pay.total");
	bool paying = v->step == TOPUP_PAY;
	/* Landscape: back, cancel, finish in one row (reading order); portrait: finish on its own. */
	struct nav_button buttons[] = {
		{"pay.finish", app_str(app, "topup.pay.finish"), true, paying && v->finish_enabled},
		{"nav.back", app_str(app, "common.back"), false, paying && v->back_enabled},
		{"nav.cancel", app_str(app, v->cancel_finishes ? "topup.pay.finish-with-paid" : "common.cancel"), false,
		 paying},
	};
	struct nav_button wide_buttons[] = {buttons[1], buttons[2], buttons[0]};
	static const int rows[] = {1, 2};
	struct item items[] = {
		{"pay.card.label", card_label, BODY_PX, false, false, TEXT_DIR_AUTO, THEME_MUTED, LOOK_LABEL, 0},
		{"pay.card", v->card_masked, MSG_PX, true, true, TEXT_DIR_LTR, THEME_BAND, LOOK_LABEL, 0},
		{"pay.no-change", no_change, BODY_PX, true, false, TEXT_DIR_AUTO, 0, LOOK_WARN, 0},
		{"pay.printer", printer, BODY_PX, true, false, TEXT_DIR_AUTO, 0, LOOK_FAULT, 1},
		{"pay.notes", notes, BODY_PX, false, false, TEXT_DIR_AUTO, THEME_TEXT, LOOK_LABEL, 0},
		{"pay.limits", limits, BODY_PX, false, false, TEXT_DIR_AUTO, THEME_TEXT, LOOK_LABEL, 0},
		{"pay.insert", insert, MSG_PX, true, false, TEXT_DIR_AUTO, THEME_BAND, LOOK_LABEL, 0},
		{"pay.total.label", total_label, BODY_PX, false, false, TEXT_DIR_AUTO, THEME_MUTED, LOOK_LABEL, 1},
		{"pay.total", total, TOTAL_PX, true, true, TEXT_DIR_AUTO, THEME_TEXT, LOOK_LABEL, 1},
		{"pay.count", count, BODY_PX, false, false, TEXT_DIR_AUTO, THEME_MUTED, LOOK_LABEL, 1},
		{"pay.notice", notice, BODY_PX, true, false, TEXT_DIR_AUTO, 0,
		 notice_is_fault(v->notice) ? LOOK_FAULT : LOOK_WARN, 1},
	};
	bool wide = page->width > page->height;
	lay_out(page, "topup.pay.title", title, items, (int)(sizeof(items) / sizeof(items[0])),
		wide ? wide_buttons : buttons, rows, 2);
}

/* ---- topup-done ---- */

enum done_slot { D_HEADER, D_CREDITED, D_AMOUNT, D_CARD_LABEL, D_CARD, D_TXN_LABEL, D_TXN, D_RECEIPT, D_SYNC, D_NOTICE, D_FILL,
		 D_NAV, D_COUNT };

static void draw_done(struct app *app, struct ui_page *page)
{
	const struct topup_screens *ts = screens_of(app);
	const struct topup_view *v = &ts->shown;
	const char *title = app_str(app, "topup.done.title");
	const char *credited = app_str(app, "topup.done.credited");
	const char *card_label = app_str(app, "topup.card.label");
	char amount[48], txn[32];
	app_money(app, v->credited_fils, amount, sizeof(amount));
	/* The same reference as the receipt's (app_print_topup_receipt). */
	snprintf(txn, sizeof(txn), "TXN-%06" PRId64, v->tx_seq);
	bool large = v->tx_number_large;
	const char *txn_label = app_str(app, "topup.done.number");
	const char *receipt = app_str(app, v->receipt_msg ? v->receipt_msg : "topup.done.take-receipt");
	const char *sync_msg = app_str(app, v->done_msg ? v->done_msg : "topup.done.queued-for-sync");
	const char *notice = str_or_null(app, v->notice);
	struct nav_button nav[] = {{"done.close", app_str(app, "topup.done.close"), true, true}};
	static const int rows[] = {1};
	/* Landscape: what was credited at the start, the proof (number, receipt) at the end. */
	struct item items[] = {
		{"done.credited", credited, MSG_PX, true, false, TEXT_DIR_AUTO, THEME_BAND, LOOK_LABEL, 0},
		{"done.amount", amount, TOTAL_PX, true, true, TEXT_DIR_AUTO, THEME_TEXT, LOOK_LABEL, 0},
		{"done.card.label", card_label, BODY_PX, false, false, TEXT_DIR_AUTO, THEME_MUTED, LOOK_LABEL, 0},
		{"done.card", v->card_masked, MSG_PX, true, true, TEXT_DIR_LTR, THEME_TEXT, LOOK_LABEL, 0},
		{"done.sync", sync_msg, BODY_PX, false, false, TEXT_DIR_AUTO, THEME_MUTED, LOOK_LABEL, 0},
		{"done.number.label", txn_label, BODY_PX, false, false, TEXT_DIR_AUTO, THEME_MUTED, LOOK_LABEL, 1},
		{"done.number", txn, large ? TXN_LARGE_PX : TXN_PX, true, true, TEXT_DIR_LTR, THEME_TEXT, LOOK_LABEL, 1},
		{"done.receipt", receipt, MSG_PX, true, false, TEXT_DIR_AUTO, 0, large ? LOOK_FAULT : LOOK_WARN, 1},
		{"done.notice", notice, BODY_PX, true, false, TEXT_DIR_AUTO, 0, LOOK_FAULT, 1},
	};
	lay_out(page, "topup.done.title", title, items, (int)(sizeof(items) / sizeof(items[0])), nav, rows, 1);
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
	}

FLOW_SCREEN(scr_topup_card, "topup-card", draw_card, enter_card);
FLOW_SCREEN(scr_topup_pay, "topup-pay", draw_pay, enter_other);
FLOW_SCREEN(scr_topup_done, "topup-done", draw_done, enter_other);
