/*
 * The fees journey's screens (issue 13): the entity list, a entity's services, the reference
 * keypad, the amount, the basket, and "paying comes soon". They render the flow's view
 * (kiosk/flows/fees.h) and forward taps and the host's answers to fees_step; the flow decides
 * every move, and sync() only shows the screen of the step it is in.
 *
 *   flow step        screen           app_go by sync()
 *   ENTITY           fees             tiles fees.entity.<id>
 *   SERVICE          fees-service     tiles fees.service.<id>
 *   REFERENCE        fees-reference   fees.reference, key.0..9, key.del, key.clear, fees.next
 *   CHECKING         fees-reference   ("looking it up", keys and next off; the host asked)
 *   AMOUNT           fees-amount      fees.amount; fees.bill.<n>; amount.up/down, keys; fees.add
 *   BASKET           basket           basket.line.<n>, basket.remove.<n>, basket.total,
 *                                     basket.more, basket.pay
 *   PAY_SOON         fees-pay         "coming soon" (soon.c's page), fees-pay.back to the basket
 *   END              home             leave(): the flow is freed
 *
 * Every screen but fees-pay has nav.back and nav.cancel (the basket: cancel only; more is its
 * way back to the entities).
 *
 * Invariants:
 *  1. A flow runs exactly while one of these screens is current: fees' enter starts it when
 *     none runs (the others, entered with none, send to fees: no way in skips the entity
 *     list), and the leave hook of whichever is left for another screen frees it, by any path
 *     (the flow's END, the inactivity timeout, out of service, `goto`, shutdown). Nothing is
 *     booked and the acceptor is never enabled here (flow invariant 1): these screens have no
 *     on_cash, so a note offered is returned by the app.
 *  2. The host is asked once per entry into CHECKING (app_fee_ask), about what the flow shows
 *     (the catalogue's host entity and service, the typed reference); the answer is handed to
 *     the flow with what was asked, so the flow can refuse an answer to another question (flow
 *     invariant 3). While the question is out the app is busy (app.c invariant 6).
 *  3. The link's state reaches the flow when it changes (FEES_IN_LINK, app_host_online), not
 *     at every step: an unreachable answer takes the flow offline (flow invariant 4) and a
 *     status that has not caught up yet must not put it back online.
 *  4. The flow starts only while the service is offered (app_service_available: the money
 *     services are, and a catalogue was loaded).
 */
#define LOG_MODULE "scr-fees"
#include <inttypes.h>
#include <stdlib.h>
#include <time.h>

#include "kiosk/app.h"
#include "kiosk/core/log.h"
#include "kiosk/core/vcode.h"
#include "kiosk/fees/catalogue.h"
#include "kiosk/flows/fees.h"
#include "kiosk/flows/feespay.h"
#include "kiosk/flows/vpay.h"
#include "kiosk/sync/sync.h"
#include "kiosk/ui/check.h"
#include "kiosk/ui/flow.h"
#include "layout.h"
#include "theme.h"
#include "vpay.h"

struct fees_screens {
	struct fees *flow;
	struct fees_view shown;  /* the view the page was last built from */
	bool asked;              /* CHECKING: the host was asked (invariant 2) */
	char asked_entity[CAT_ID_MAX + 1], asked_service[CAT_ID_MAX + 1], asked_reference[CAT_REF_MAX + 1];
	bool online_fed;         /* the link state last given to the flow (invariant 3) */
	/* The basket's page when its lines do not all fit (basket_try): the first line shown and
	 * how many the last drawing showed. */
	size_t first_line, page_lines;
	/* The paying half (kiosk/flows/feespay.h), while the browsing flow is at PAY. */
	struct feespay *pay;
	struct feespay_view pshown;
	char prefixes[CONFIG_PREFIXES_MAX][CONFIG_PREFIX_DIGITS + 1]; /* the flow borrows them */
	uint32_t kicked_ends;    /* pshown.tx_ends the sync was last kicked for (invariant 7) */
	bool receipt_asked;      /* DONE: the receipt was sent, or refused */
	char job[APP_RECEIPT_JOB_MAX];
};

static bool is_fees_screen(enum scr_id id)
{
	return id == SCR_FEES || id == SCR_FEES_SERVICE || id == SCR_FEES_REFERENCE || id == SCR_FEES_AMOUNT ||
	       id == SCR_BASKET || id == SCR_FEES_PAY || id == SCR_FEES_CHANGE || id == SCR_FEES_CARD ||
	       id == SCR_FEES_DONE || id == SCR_FEES_VOUCHER;
}

static struct fees_screens *screens_of(struct app *app) { return app_flow(app); }

/* ---- the flow ---- */

static struct fees_screens *begin(struct app *app)
{
	struct fees_screens *fs = xcalloc(1, sizeof(*fs));
	struct kio_error err = {0};
	fs->online_fed = app_host_online(app);
	if (fees_new(app_catalogue(app), fs->online_fed, &fs->flow, &err) != 0) {
		LOG_ERR("cannot start the fees journey: %s", err.msg);
		free(fs);
		return NULL;
	}
	fees_view(fs->flow, &fs->shown);
	app_set_flow(app, fs);
	return fs;
}

static void pay_end(struct app *app, struct fees_screens *fs, enum scr_id to);

/* Invariant 1: browsing leaves nothing to settle; the paying half is ended by pay_end. */
static void end(struct app *app, enum scr_id to)
{
	struct fees_screens *fs = screens_of(app);
	if (!fs)
		return;
	pay_end(app, fs, to);
	fees_free(fs->flow);
	free(fs);
	app_set_flow(app, NULL);
}

static enum scr_id screen_for(const struct fees_view *v)
{
	switch (v->step) {
	case FEES_ENTITY: return SCR_FEES;
	case FEES_SERVICE: return SCR_FEES_SERVICE;
	case FEES_REFERENCE:
	case FEES_CHECKING: return SCR_FEES_REFERENCE;
	case FEES_AMOUNT: return SCR_FEES_AMOUNT;
	case FEES_BASKET: return SCR_BASKET;
	case FEES_PAY: return SCR_FEES_PAY; /* pay_screen_for says which of the paying screens */
	case FEES_END:
	case FEES_STEP_COUNT: break;
	}
	return SCR_HOME;
}

static void on_fee_answer(struct app *app, const struct sync_fee_result *r);

/* Invariant 2: one question per entry into CHECKING. True when the flow was stepped here (the
 * ask was refused): that step did its own sync. */
static bool ask_host(struct app *app, struct fees_screens *fs, const struct fees_view *v)
{
	if (!v->checking) {
		fs->asked = false;
		return false;
	}
	if (fs->asked)
		return false;
	fs->asked = true;
	snprintf(fs->asked_entity, sizeof(fs->asked_entity), "%s", v->entity->id);
	snprintf(fs->asked_service, sizeof(fs->asked_service), "%s", v->service->id);
	snprintf(fs->asked_reference, sizeof(fs->asked_reference), "%s", v->reference);
	struct kio_error err = {0};
	if (app_fee_ask(app, v->service->host_entity, v->service->host_service, v->reference, &err) == 0)
		return false;
	/* The catalogue's check passed: a path the host does not take is the catalogue's fault. */
	LOG_ERR("asking the host about %s/%s: %s", v->service->host_entity, v->service->host_service, err.msg);
	struct sync_fee_result r = {.result = SYNC_FEE_ERROR};
	snprintf(r.why, sizeof(r.why), "%s", err.msg);
	on_fee_answer(app, &r);
	return true;
}

static void pay_sync(struct app *app, struct fees_screens *fs);

/* After every step: the link's state (invariant 3), the screen of the flow's step, a page
 * rebuilt if the view changed, the host asked (invariant 2). */
static void sync(struct app *app)
{
	struct fees_screens *fs = screens_of(app);
	if (!fs)
		return;
	bool online = app_host_online(app);
	if (online != fs->online_fed) {
		fs->online_fed = online;
		const struct fees_input link = {.kind = FEES_IN_LINK, .online = online};
		fees_step(fs->flow, &link);
	}
	struct fees_view v;
	fees_view(fs->flow, &v);
	if (v.step == FEES_PAY) {
		pay_sync(app, fs); /* may end the flow: fs is gone */
		return;
	}
	if (ask_host(app, fs, &v))
		return;
	bool changed = memcmp(&v, &fs->shown, sizeof(v)) != 0;
	fs->shown = v;
	enum scr_id want = screen_for(&v);
	if (want != app_screen(app)) {
		app_go(app, want); /* may end the flow (invariant 1): fs is gone */
		return;
	}
	if (changed)
		app_refresh(app);
}

static void step(struct app *app, const struct fees_input *in)
{
	struct fees_screens *fs = screens_of(app);
	if (!fs)
		return;
	int rc = fees_step(fs->flow, in);
	if (rc && rc != KIO_ERR_INVALID)
		LOG_INFO("step %s: %s", fees_step_name(fees_current(fs->flow)), kio_strerror(rc));
	sync(app);
	/* A refused input may have set a notice: the page shows it. */
	app_refresh(app);
}

/* ---- lifecycle hooks ---- */

static void enter_list(struct app *app, enum scr_id from)
{
	(void)from;
	/* Invariant 4: no way in while the service is not offered (home disables its tile). */
	if (!screens_of(app) && !app_service_available(app, APP_SERVICE_FEES)) {
		LOG_WARN("fees not available now: back to home");
		app_go(app, SCR_HOME);
		return;
	}
	if (!screens_of(app) && !begin(app)) {
		app_go(app, SCR_HOME);
		return;
	}
	sync(app);
}

/* Only the flow leads here; a way in without one (goto) starts at the entity list. */
static void enter_other(struct app *app, enum scr_id from)
{
	(void)from;
	if (!screens_of(app)) {
		app_go(app, SCR_FEES);
		return;
	}
	sync(app);
}

static void leave(struct app *app, enum scr_id to)
{
	if (to == SCR_COUNT || !is_fees_screen(to))
		end(app, to);
}

static void on_devices(struct app *app)
{
	if (screens_of(app) && app_out_of_service(app)) {
		LOG_WARN("out of service while browsing fees: leaving (nothing was booked)");
		app_go(app, SCR_ATTRACT);
		return;
	}
	sync(app);
}

/* Invariant 2: the host's answer, in the flow's terms, with what was asked. */
static void on_fee_answer(struct app *app, const struct sync_fee_result *r)
{
	struct fees_screens *fs = screens_of(app);
	if (!fs || fees_current(fs->flow) != FEES_CHECKING)
		return; /* flow invariant 3: the customer moved on */
	struct fees_answer *a = xcalloc(1, sizeof(*a));
	snprintf(a->entity, sizeof(a->entity), "%s", fs->asked_entity);
	snprintf(a->service, sizeof(a->service), "%s", fs->asked_service);
	snprintf(a->reference, sizeof(a->reference), "%s", fs->asked_reference);
	switch (r->result) {
	case SYNC_FEE_OK: a->result = FEES_ANSWER_OK; break;
	case SYNC_FEE_NOT_FOUND: a->result = FEES_ANSWER_NOT_FOUND; break;
	case SYNC_FEE_UNREACHABLE: a->result = FEES_ANSWER_UNREACHABLE; break;
	case SYNC_FEE_NOT_CONFIGURED: a->result = FEES_ANSWER_NOT_CONFIGURED; break;
	case SYNC_FEE_ERROR:
	case SYNC_FEE_STATUS_COUNT: a->result = FEES_ANSWER_ERROR; break;
	}
	if (r->result != SYNC_FEE_OK)
		LOG_WARN("fee inquiry %s/%s: %s (%s%s%s)", fs->asked_entity, fs->asked_service,
			 sync_fee_status_name((int)r->result), r->code, r->code[0] ? ": " : "", r->why);
	if (r->result == SYNC_FEE_OK) {
		snprintf(a->payee, sizeof(a->payee), "%s", r->payee);
		snprintf(a->description, sizeof(a->description), "%s", r->description);
		switch (r->kind) {
		case SYNC_FEE_KIND_FIXED: a->kind = FEES_DUE_FIXED; break;
		case SYNC_FEE_KIND_ITEMS: a->kind = FEES_DUE_ITEMS; break;
		case SYNC_FEE_KIND_OPEN: a->kind = FEES_DUE_OPEN; break;
		case SYNC_FEE_KIND_COUNT: a->result = FEES_ANSWER_ERROR; break;
		}
		a->due_fils = r->due_fils;
		a->min_fils = r->min_fils, a->max_fils = r->max_fils, a->step_fils = r->step_fils;
		_Static_assert(SYNC_FEE_ITEMS_MAX <= FEES_ITEMS_MAX, "every item the sync keeps reaches the flow");
		_Static_assert(SYNC_FEE_ID_MAX <= FEES_BILL_MAX, "an item id fits a basket line");
		for (size_t i = 0; i < r->n_items && i < FEES_ITEMS_MAX; i++) {
			snprintf(a->items[i].id, sizeof(a->items[i].id), "%s", r->items[i].id);
			snprintf(a->items[i].description, sizeof(a->items[i].description), "%s", r->items[i].description);
			a->items[i].amount_fils = r->items[i].amount_fils;
			a->n_items = i + 1;
		}
		if (r->n_items_host > r->n_items)
			LOG_WARN("fee inquiry %s/%s: the host lists %zu items, the kiosk shows the first %zu", fs->asked_entity,
				 fs->asked_service, r->n_items_host, r->n_items);
	}
	const struct fees_input in = {.kind = FEES_IN_ANSWER, .answer = a};
	step(app, &in);
	free(a);
}

/*
 * Flow invariant 8: what the offline limits leave for a basket of total_fils (the kiosk-wide
 * money the host has not acknowledged, top-ups, fees lines settled offline and rests credited
 * to cards), asked at every PAY, online or not, by the top-up's rule (topup.h invariant 11):
 * -1 when none apply (no host configured, or online with the unacknowledged money within the
 * limits); 0 when it is already past one (online too: a link down but not yet seen so settles
 * the lines offline) or the ledger cannot say; offline, what sync_offline_check_basket leaves.
 */
static int64_t basket_allowance(struct app *app, int64_t total_fils, bool online)
{
	const struct core_config *cc = app_config(app);
	struct sync_status st;
	sync_status_get(app_sync(app), &st);
	if (!st.configured)
		return -1;
	struct sync_offline_verdict ov;
	struct kio_error err = {0};
	if (sync_offline_check_basket(app_sync(app), app_ledger(app), 0, &ov, &err) != 0) {
		LOG_WARN("offline limits: %s: the basket waits for the host", err.msg);
		return 0;
	}
	if (ov.result != SYNC_OFFLINE_OK) {
		LOG_INFO("offline limits: %s reached (kiosk %" PRId64 " fils not acknowledged): no basket until the "
			 "host acknowledges",
			 sync_offline_result_name(ov.result), ov.unacked.kiosk_fils);
		return 0;
	}
	if (online)
		return -1;
	if (sync_offline_check_basket(app_sync(app), app_ledger(app), total_fils, &ov, &err) != 0) {
		LOG_WARN("offline limits: %s: the basket waits for the host", err.msg);
		return 0;
	}
	switch (ov.result) {
	case SYNC_OFFLINE_OK: return total_fils;
	case SYNC_OFFLINE_KIOSK_FILS: {
		int64_t left = cc->offline_kiosk_max_fils - ov.unacked.kiosk_fils;
		return left > 0 && left < total_fils ? left : 0;
	}
	default: return 0;
	}
}

static void on_tap(struct app *app, const char *id)
{
	static const struct {
		const char *id;
		enum fees_input_kind kind;
	} taps[] = {
		{"key.del", FEES_IN_DEL},        {"key.clear", FEES_IN_CLEAR},  {"fees.next", FEES_IN_NEXT},
		{"nav.back", FEES_IN_BACK},      {"nav.cancel", FEES_IN_CANCEL}, {"amount.up", FEES_IN_UP},
		{"amount.down", FEES_IN_DOWN},   {"fees.add", FEES_IN_ADD},     {"basket.more", FEES_IN_MORE},
		{"basket.pay", FEES_IN_PAY},
	};
	struct fees_screens *fs = screens_of(app);
	if (fs && (strcmp(id, "basket.page.prev") == 0 || strcmp(id, "basket.page.next") == 0)) {
		/* A page of the basket (draw_basket): the screen's, not the flow's. */
		bool next = strcmp(id, "basket.page.next") == 0;
		size_t k = fs->page_lines ? fs->page_lines : 1;
		fs->first_line = next ? fs->first_line + k : fs->first_line >= k ? fs->first_line - k : 0;
		app_refresh(app);
		return;
	}
	struct fees_input in = {.kind = FEES_IN_COUNT};
	if (scr_key_digit(id, &in.digit)) {
		in.kind = FEES_IN_KEY;
	} else if (strncmp(id, "fees.entity.", 12) == 0) {
		in.kind = FEES_IN_ENTITY, in.id = id + 12;
	} else if (strncmp(id, "fees.service.", 13) == 0) {
		in.kind = FEES_IN_SERVICE, in.id = id + 13;
	} else if (strncmp(id, "fees.bill.", 10) == 0) {
		in.kind = FEES_IN_BILL, in.n = atoi(id + 10);
	} else if (strncmp(id, "basket.remove.", 14) == 0) {
		in.kind = FEES_IN_REMOVE, in.n = atoi(id + 14);
	}
	for (size_t i = 0; i < sizeof(taps) / sizeof(taps[0]); i++)
		if (strcmp(id, taps[i].id) == 0)
			in.kind = taps[i].kind;
	if (in.kind == FEES_IN_PAY && fs) {
		struct fees_view v;
		fees_view(fs->flow, &v);
		in.allowance_fils = basket_allowance(app, v.total_fils, v.online);
	}
	if (in.kind != FEES_IN_COUNT)
		step(app, &in);
}

/* ---- drawing ---- */

static enum text_dir page_dir(const struct ui_page *page) { return page->rtl ? TEXT_DIR_RTL : TEXT_DIR_LTR; }
static int max_i(int a, int b) { return a > b ? a : b; }
static const char *str_or_null(struct app *app, const char *key) { return key ? app_str(app, key) : NULL; }

/* A catalogue text in the session's language. */
static const char *cat_str(struct app *app, const struct cat_text *t) { return app_lang(app) == LANG_AR ? t->ar : t->en; }

/* tmpl with {name} replaced by value (already in the page's digits where it is a figure). */
static void fill(const char *tmpl, const char *name, const char *value, char *out, size_t size)
{
	const char *at = strstr(tmpl, name);
	if (at)
		snprintf(out, size, "%.*s%s%s", (int)(at - tmpl), tmpl, value, at + strlen(name));
	else
		snprintf(out, size, "%s", tmpl);
}

/* An amount as the page writes it (app_money), its figure and currency kept on one line: a
 * no-break space (U+00A0) for each space, so "AED" never ends a line above "50.00". */
static char *money(struct app *app, int64_t fils, char *out, size_t size)
{
	char plain[48];
	app_money(app, fils, plain, sizeof(plain));
	size_t o = 0;
	for (const char *p = plain; *p && o + 3 < size; p++) {
		if (*p == ' ')
			out[o++] = (char)0xC2, out[o++] = (char)0xA0;
		else
			out[o++] = *p;
	}
	out[o] = '\0';
	return out;
}

/* A left-to-right run (a reference, an item id, a masked name) kept in order inside an
 * Arabic line (README, "Catalogues"). */
static void ltr_run(struct app *app, const char *s, char *out, size_t size) { app_ltr(app, s, out, size); }

/* "Dubai Police: Traffic fines" (fees.what): what the customer is paying. */
static void what_line(struct app *app, const struct fees_view *v, char *out, size_t size)
{
	char half[2 * CAT_NAME_MAX + 64];
	fill(app_str(app, "fees.what"), "{entity}", cat_str(app, &v->entity->name), half, sizeof(half));
	fill(half, "{service}", cat_str(app, &v->service->name), out, size);
}

/* The host's own text (a description, a payee) inside a line of the page: between FSI and PDI
 * (U+2068, U+2069) on an Arabic page, so an English description keeps its order and does not
 * pull the figures around it out of theirs, whatever its direction. */
static void host_run(struct app *app, const char *s, char *out, size_t size)
{
	if (app_lang(app) == LANG_AR && s[0])
		snprintf(out, size, "\u2068%s\u2069", s);
	else
		snprintf(out, size, "%s", s);
}

/* Messages that mean something went wrong (red), as against guidance (amber). */
static bool msg_is_fault(const char *key)
{
	static const char *const faults[] = {
		"fees.reference.empty", "fees.reference.short", "fees.reference.long", "fees.reference.char",
		"fees.reference.check", "fees.reference.unknown", "fees.reference.needs-host", "fees.reference.host-error",
		"fees.service.needs-host", "fees.amount.below-min", "fees.amount.above-max", "fees.amount.off-step",
		"basket.full",
	};
	for (size_t i = 0; key && i < sizeof(faults) / sizeof(faults[0]); i++)
		if (strcmp(key, faults[i]) == 0)
			return true;
	return false;
}

/* ---- the tile lists: entities, services ---- */

/*
 * Header, prompt, tiles, the flow's notice, the bar (back, cancel). The tiles take the room
 * between, in the columns that room suits (ui_grid_columns, as home's), each as tall as its
 * icon, title and subtitle; short of room the titles (and icons) step down, then the prompt
 * goes, then the icons.
 */
enum { LINE_PX = 34 }; /* a basket line's text, design px */
enum { TILE_PAD = 20, TILE_MIN = 130, TILE_PREF = 360, TILE_GAP = 24, PROMPT_PX = 44, BAR_MAX_W = 640,
       TILE_ASPECT = 1600 };
#define TILES_MAX 32

struct tile {
	char id[48];
	const char *title, *sub;
	const char *image; /* a PNG over the title (an entity's icon), or NULL */
	bool enabled;
};

struct tiles {
	struct ui_page *page;
	const struct tile *t;
	int n, px;
	bool images; /* the icons are shown (the last room given up, after the prompt) */
};

static const int tile_px_steps[] = {44, 40, 36, 32, 28, 24};

/* An icon is twice its title's size: it steps down with the title when room is short. */
static int tile_image_px(const struct ui_page *page, int title_design_px) { return ui_px(page, 2 * title_design_px); }

static int tile_min_h(void *ctx, int i, int w)
{
	struct tiles *T = ctx;
	struct ui_page *p = T->page;
	int px = ui_text_px(p, T->px);
	struct ui_text_extent title, sub;
	if (ui_page_text_extent(p, T->t[i].title, px, true, page_dir(p), w, &title) != 0 ||
	    ui_page_text_extent(p, T->t[i].sub, UI_SUBTEXT_PX(px), false, page_dir(p), w, &sub) != 0)
		return -1;
	if (title.word_cuts > 0 || sub.word_cuts > 0 || title.width > w - 2 * UI_TEXT_PAD ||
	    sub.width > w - 2 * UI_TEXT_PAD)
		return -1;
	int need = title.height + UI_SUBTEXT_GAP(px) + sub.height + 2 * ui_px(p, TILE_PAD);
	if (T->images && T->t[i].image)
		need += tile_image_px(p, T->px) + UI_IMAGE_GAP(px);
	return max_i(need, max_i(ui_px(p, TILE_MIN), UI_TOUCH_MIN_PX));
}

static void tile_page(struct app *app, struct ui_page *page, const char *header_id, const char *title,
		      const char *prompt_id, const char *prompt, const struct tile *t, int n, const char *notice)
{
	int m = theme_margin(page), inner = theme_inner(page), gap = ui_px(page, THEME_GAP);
	int tile_gap = ui_px(page, TILE_GAP);
	const char *back = app_str(app, "common.back"), *cancel = app_str(app, "common.cancel");
	struct ui_rect bar[2];
	ui_bar((struct ui_rect){m, 0, inner, 0}, 2, gap, ui_px(page, BAR_MAX_W), bar);
	int bar_pref, bar_need = theme_bar_height(page, (const char *const[]){back, cancel}, 2, bar[0].w, &bar_pref);
	int header_h = theme_header_height(page, title);
	int prompt_h = ui_page_text_height(page, prompt, ui_text_px(page, PROMPT_PX), false, page_dir(page), inner);
	int notice_h = notice ? ui_page_text_height(page, notice, ui_text_px(page, SCR_BODY_PX), true, page_dir(page),
						    inner) + 2 * ui_px(page, SCR_BAND_PAD)
			      : 0;
	enum { S_HEADER, S_PROMPT, S_TILES, S_NOTICE, S_BAR, S_COUNT };
	struct ui_flow_item s[S_COUNT] = {
		[S_HEADER] = {header_h, header_h}, [S_PROMPT] = {prompt_h, prompt_h}, [S_TILES] = {0, UI_FLOW_FILL},
		[S_NOTICE] = {notice_h, notice_h}, [S_BAR] = {bar_need, bar_pref},
	};
	struct tiles T = {.page = page, .t = t, .n = n, .images = true};
	int rows_h[TILES_MAX] = {0}, cols = 0;
	bool show_prompt = true;
	/* Room given up in this order: the bar's spare height, the titles' size a step at a time,
	 * the prompt, the icons. */
	for (int attempt = 0; attempt < 3 && !cols; attempt++) {
		if (attempt == 1)
			s[S_PROMPT].min = s[S_PROMPT].pref = 0, show_prompt = false;
		if (attempt == 2)
			T.images = false;
		for (size_t st = 0; st < sizeof(tile_px_steps) / sizeof(tile_px_steps[0]) && !cols; st++) {
			T.px = tile_px_steps[st];
			for (int bar_try = 0; bar_try < 2 && !cols; bar_try++) {
				s[S_BAR].min = s[S_BAR].pref = bar_try == 0 ? bar_pref : bar_need;
				ui_flow_column(s, S_COUNT, 0, page->height - m / 2, gap);
				struct ui_rect area = {m, s[S_TILES].y, inner, s[S_TILES].h};
				cols = ui_grid_columns((size_t)n, area, tile_gap, ui_px(page, TILE_PREF), TILE_ASPECT, tile_min_h,
						       &T, rows_h);
			}
		}
	}
	if (!cols) {
		/* Nothing fits: two columns at their minimums, which the page check then reports. */
		cols = 2;
		int cw = (inner - tile_gap) / 2;
		for (int i = 0; i < n; i++) {
			int th = tile_min_h(&T, i, cw);
			th = th < 0 ? ui_px(page, TILE_MIN) : th;
			rows_h[i / 2] = max_i(th, rows_h[i / 2]);
		}
	}
	theme_header(page, header_id, title);
	if (show_prompt) {
		struct ui_widget *pw = ui_page_add(page, prompt_id, UI_LABEL,
						   (struct ui_rect){m, s[S_PROMPT].y, inner, s[S_PROMPT].h}, prompt);
		pw->text_px = ui_text_px(page, PROMPT_PX), pw->fg = THEME_TEXT, pw->align = TEXT_ALIGN_START;
	}
	int cw = (inner - (cols - 1) * tile_gap) / cols, y = s[S_TILES].y;
	for (int i = 0; i < n; i++) {
		int col = i % cols, row = i / cols;
		if (i && col == 0)
			y += rows_h[row - 1] + tile_gap;
		struct ui_widget *w = ui_page_add(page, t[i].id, UI_TILE,
						  (struct ui_rect){m + col * (cw + tile_gap), y, cw, rows_h[row]}, t[i].title);
		w->subtext = xstrdup(t[i].sub);
		w->bg = THEME_TILE, w->border = THEME_TILE_BORDER, w->fg = THEME_BAND;
		w->text_px = ui_text_px(page, T.px), w->bold = true, w->enabled = t[i].enabled;
		if (T.images && t[i].image) {
			w->image = xstrdup(t[i].image);
			w->image_px = tile_image_px(page, T.px);
		}
	}
	if (notice) {
		struct ui_widget *nw = ui_page_add(page, "fees.notice", UI_PANEL,
						   (struct ui_rect){m, s[S_NOTICE].y, inner, s[S_NOTICE].h}, notice);
		nw->text_px = ui_text_px(page, SCR_BODY_PX), nw->bold = true;
		nw->bg = THEME_FAULT_BG, nw->fg = THEME_FAULT_TEXT;
	}
	ui_bar((struct ui_rect){m, s[S_BAR].y, inner, s[S_BAR].h}, 2, gap, ui_px(page, BAR_MAX_W), bar);
	theme_button_secondary(page, "nav.back", bar[0], back);
	theme_button_secondary(page, "nav.cancel", bar[1], cancel);
}

/* Entities in the catalogue's `order`, then by id (a stable order whatever the files' order). */
static int by_order(const void *a, const void *b)
{
	const struct cat_entity *x = *(const struct cat_entity *const *)a, *y = *(const struct cat_entity *const *)b;
	return x->order != y->order ? (x->order < y->order ? -1 : 1) : strcmp(x->id, y->id);
}

static void draw_entities(struct app *app, struct ui_page *page)
{
	const struct catalogue *cat = app_catalogue(app);
	const struct cat_entity *order[TILES_MAX];
	struct tile t[TILES_MAX];
	char subs[TILES_MAX][96], num[16], icons[TILES_MAX][sizeof(((struct core_config *)0)->fees_catalogue) + 96];
	int n = 0;
	for (size_t i = 0; i < cat->n_entities && n < TILES_MAX; i++)
		order[n++] = &cat->entities[i];
	qsort(order, (size_t)n, sizeof(order[0]), by_order);
	for (int i = 0; i < n; i++) {
		snprintf(t[i].id, sizeof(t[i].id), "fees.entity.%s", order[i]->id);
		t[i].title = cat_str(app, &order[i]->name);
		snprintf(num, sizeof(num), "%zu", order[i]->n_services);
		app_fill(app, app_nstr(app, "fees.entity.count", (unsigned long)order[i]->n_services), "{count}", num,
			 subs[i], sizeof(subs[i]));
		t[i].sub = subs[i];
		t[i].enabled = order[i]->n_services > 0;
		/* The icons beside the catalogue's folder (docs/catalogue.md: DIR/../icons). */
		snprintf(icons[i], sizeof(icons[i]), "%s/../icons/%s", app_config(app)->fees_catalogue, order[i]->icon);
		t[i].image = order[i]->icon[0] ? icons[i] : NULL;
	}
	const struct fees_view *v = &screens_of(app)->shown;
	tile_page(app, page, "fees.title", app_str(app, "fees.title"), "fees.prompt", app_str(app, "fees.entity.prompt"),
		  t, n, str_or_null(app, v->notice));
}

/* What a service's tile says under its name: its fee, or that it needs the host now. */
static void service_sub(struct app *app, const struct fees_screens *fs, const struct cat_service *s, char *out,
			size_t size)
{
	char a[48], b[48], half[160];
	if (!fees_service_open(fs->flow, s)) {
		snprintf(out, size, "%s", app_str(app, "fees.service.needs-host"));
		return;
	}
	switch (s->kind) {
	case CAT_FEE_FIXED:
		money(app, s->amount_fils, a, sizeof(a));
		fill(app_str(app, "fees.service.fixed"), "{amount}", a, out, size);
		return;
	case CAT_FEE_INQUIRY:
	case CAT_FEE_KIND_COUNT: break;
	case CAT_FEE_OPEN:
		money(app, s->min_fils, a, sizeof(a));
		money(app, s->max_fils, b, sizeof(b));
		fill(app_str(app, "fees.service.open"), "{min}", a, half, sizeof(half));
		fill(half, "{max}", b, out, size);
		return;
	}
	snprintf(out, size, "%s", app_str(app, "fees.service.inquiry"));
}

static void draw_services(struct app *app, struct ui_page *page)
{
	struct fees_screens *fs = screens_of(app);
	const struct cat_entity *e = fs->shown.entity;
	struct tile t[TILES_MAX];
	char subs[TILES_MAX][192];
	int n = 0;
	for (size_t i = 0; i < e->n_services && n < TILES_MAX; i++, n++) {
		const struct cat_service *s = &e->services[i];
		snprintf(t[n].id, sizeof(t[n].id), "fees.service.%s", s->id);
		t[n].title = cat_str(app, &s->name);
		service_sub(app, fs, s, subs[n], sizeof(subs[n]));
		t[n].sub = subs[n];
		t[n].image = NULL;
		t[n].enabled = fees_service_open(fs->flow, s);
	}
	tile_page(app, page, "fees.service.title", cat_str(app, &e->name), "fees.prompt",
		  app_str(app, "fees.service.prompt"), t, n, str_or_null(app, fs->shown.notice));
}

/* ---- fees-reference ---- */

/*
 * One column: what is being paid, the reference's name, the number, its verdict, the notice,
 * the keypad, the bar (back, cancel, next). Two (landscape): the keypad in the end column.
 * Short of room, the entity and service line goes first, then the reference's name; the
 * number, its verdict, the notice and the keys stay.
 */
static void draw_reference(struct app *app, struct ui_page *page)
{
	const struct fees_view *v = &screens_of(app)->shown;
	const struct cat_service *s = v->service;
	char what[2 * CAT_NAME_MAX + 8], label[320], sample[CAT_REF_MAX + 1], num[8];
	what_line(app, v, what, sizeof(what));
	/* The reference's name and its length, the catalogue's. */
	if (s->reference.min_len == s->reference.max_len) {
		snprintf(num, sizeof(num), "%d", s->reference.max_len);
		char tmp[320];
		fill(app_str(app, "fees.reference.name"), "{name}", cat_str(app, &s->reference.name), tmp, sizeof(tmp));
		app_fill(app, tmp, "{digits}", num, label, sizeof(label));
	} else {
		fill(app_str(app, "fees.reference.name-range"), "{name}", cat_str(app, &s->reference.name), label,
		     sizeof(label));
		char tmp[320];
		snprintf(num, sizeof(num), "%d", s->reference.min_len);
		app_fill(app, label, "{min}", num, tmp, sizeof(tmp));
		snprintf(num, sizeof(num), "%d", s->reference.max_len);
		app_fill(app, tmp, "{max}", num, label, sizeof(label));
	}
	int len = s->reference.max_len < CAT_REF_MAX ? s->reference.max_len : CAT_REF_MAX;
	memset(sample, '0', (size_t)len);
	sample[len] = '\0';
	/* The verdict's message with the catalogue's lengths in it. */
	char msg[256] = "";
	if (v->reference_msg) {
		char tmp[256];
		snprintf(num, sizeof(num), "%d", s->reference.min_len);
		app_fill(app, app_str(app, v->reference_msg), "{min}", num, tmp, sizeof(tmp));
		snprintf(num, sizeof(num), "%d", s->reference.max_len);
		app_fill(app, tmp, "{max}", num, msg, sizeof(msg));
	}
	bool same = v->notice && v->reference_msg && strcmp(v->notice, v->reference_msg) == 0;
	struct scr_button nav[] = {
		{"nav.back", app_str(app, "common.back"), false, !v->checking},
		{"nav.cancel", app_str(app, "common.cancel"), false, true},
		{"fees.next", app_str(app, "nav.next"), true, v->next_enabled},
	};
	static const int rows[] = {3};
	struct scr_item items[] = {
		{"fees.what", what, NULL, SCR_BODY_PX, true, false, TEXT_DIR_AUTO, THEME_BAND, SCR_LOOK_LABEL, 0, 2},
		{"fees.reference.label", label, NULL, SCR_BODY_PX, false, false, TEXT_DIR_AUTO, THEME_MUTED, SCR_LOOK_LABEL,
		 0, 1},
		/* The reference as typed, left to right (an identifier, Western digits). */
		{"fees.reference", v->reference[0] ? v->reference : NULL, sample, SCR_NUMBER_PX, true, true, TEXT_DIR_LTR,
		 THEME_TEXT, SCR_LOOK_NUMBER, 0, 0},
		{"fees.reference.msg", msg[0] && !same ? msg : NULL, NULL, SCR_MSG_PX, true, false, TEXT_DIR_AUTO,
		 msg_is_fault(v->reference_msg) ? THEME_FAULT_TEXT : THEME_BAND, SCR_LOOK_LABEL, 0, 0},
		{"fees.notice", same ? msg : str_or_null(app, v->notice), NULL, SCR_MSG_PX, true, false, TEXT_DIR_AUTO, 0,
		 msg_is_fault(v->notice) ? SCR_LOOK_FAULT : SCR_LOOK_WARN, 0, 0},
	};
	const struct scr_layout L = {
		.header_id = "fees.reference.title", .title = cat_str(app, &s->name),
		.items = items, .n = (int)(sizeof(items) / sizeof(items[0])),
		.buttons = nav, .wide = nav, .rows = rows, .n_rows = 1, .n_buttons = 3,
		.keypad = true, .clear = app_str(app, "key.clear"), .del = app_str(app, "key.del"),
		.keys_wait = v->checking, /* the host is asked about the reference */
	};
	scr_lay_out(page, &L);
}

/* ---- fees-amount ---- */

/*
 * One column: what is being paid and for which reference, the payee and the description the
 * host gave, then the amount: fixed (the figure), items (one choice per item, chosen ones
 * coloured), or open (the figure between less and more, its limits, the keypad to type it);
 * the notice; the bar (back, cancel, add). Short of room, these go, in order: the reference
 * line, the entity and service line, the label over a fixed amount, the description. The
 * amount, the items, the limits, the payee, the notice and the buttons stay.
 */
static void draw_amount(struct app *app, struct ui_page *page)
{
	const struct fees_view *v = &screens_of(app)->shown;
	const struct cat_service *s = v->service;
	char what[2 * CAT_NAME_MAX + 8], ref[256] = "", ref_run[64], payee[256] = "", payee_run[FEES_TEXT_MAX + 8];
	char amount[48], limits[256] = "", a[48], b[48], c[48], half[256];
	what_line(app, v, what, sizeof(what));
	if (v->reference[0]) {
		ltr_run(app, v->reference, ref_run, sizeof(ref_run));
		snprintf(ref, sizeof(ref), "%s: %s", cat_str(app, &s->reference.name), ref_run);
	}
	if (v->payee[0]) {
		host_run(app, v->payee, payee_run, sizeof(payee_run));
		fill(app_str(app, "fees.amount.payee"), "{payee}", payee_run, payee, sizeof(payee));
	}
	money(app, v->amount_fils, amount, sizeof(amount));
	bool open = v->kind == FEES_DUE_OPEN, items = v->kind == FEES_DUE_ITEMS;
	if (open) {
		money(app, v->min_fils, a, sizeof(a));
		money(app, v->max_fils, b, sizeof(b));
		money(app, v->step_fils, c, sizeof(c));
		fill(app_str(app, "fees.amount.limits"), "{min}", a, limits, sizeof(limits));
		fill(limits, "{max}", b, half, sizeof(half));
		fill(half, "{step}", c, limits, sizeof(limits));
	}
	struct scr_item it[SCR_ITEMS_MAX];
	struct scr_item_ext ext[SCR_ITEMS_MAX];
	char bills[FEES_ITEMS_MAX][FEES_TEXT_MAX + 160];
	char bill_ids[FEES_ITEMS_MAX][24];
	memset(ext, 0, sizeof(ext));
	int n = 0;
#define ITEM(...) (it[n++] = (struct scr_item){__VA_ARGS__})
	ITEM("fees.what", what, NULL, SCR_BODY_PX, true, false, TEXT_DIR_AUTO, THEME_BAND, SCR_LOOK_LABEL, 0, 2);
	ITEM("fees.amount.reference", ref[0] ? ref : NULL, NULL, SCR_BODY_PX, false, false, TEXT_DIR_AUTO, THEME_MUTED,
	     SCR_LOOK_LABEL, 0, 1);
	ITEM("fees.amount.payee", payee[0] ? payee : NULL, NULL, SCR_BODY_PX, false, false, TEXT_DIR_AUTO, THEME_TEXT,
	     SCR_LOOK_LABEL, 0, 0);
	char desc[FEES_TEXT_MAX + 8];
	host_run(app, v->description, desc, sizeof(desc));
	ITEM("fees.amount.description", v->description[0] && !items ? desc : NULL, NULL, SCR_BODY_PX, false,
	     false, TEXT_DIR_AUTO, THEME_MUTED, SCR_LOOK_LABEL, 0, 4);
	if (items) {
		ITEM("fees.amount.prompt", app_str(app, "fees.amount.choose-bills"), NULL, SCR_BODY_PX, true, false,
		     TEXT_DIR_AUTO, THEME_BAND, SCR_LOOK_LABEL, 1, 0);
		for (size_t i = 0; i < v->n_items && n < SCR_ITEMS_MAX - 3; i++) {
			char figure[48], id_run[FEES_BILL_MAX + 8];
			money(app, v->items[i].amount_fils, figure, sizeof(figure));
			char item_desc[FEES_TEXT_MAX + 8];
			ltr_run(app, v->items[i].id, id_run, sizeof(id_run));
			host_run(app, v->items[i].description, item_desc, sizeof(item_desc));
			snprintf(bills[i], sizeof(bills[i]), "%s %s · %s%s%s", id_run, item_desc, figure,
				 v->in_basket[i] ? " · " : "", v->in_basket[i] ? app_str(app, "fees.amount.in-basket") : "");
			snprintf(bill_ids[i], sizeof(bill_ids[i]), "fees.bill.%zu", i + 1);
			ext[n].enabled = !v->in_basket[i];
			ext[n].selected = v->chosen[i];
			ITEM(bill_ids[i], bills[i], NULL, SCR_BODY_PX, true, false, TEXT_DIR_AUTO, 0, SCR_LOOK_CHOICE, 1, 0);
		}
	} else if (open) {
		ITEM("fees.amount.limits", limits, NULL, SCR_BODY_PX, false, false, TEXT_DIR_AUTO, THEME_TEXT,
		     SCR_LOOK_LABEL, 0, 0);
		ext[n].btn_id[0] = "amount.down", ext[n].btn_text[0] = app_str(app, "fees.amount.less");
		ext[n].btn_id[1] = "amount.up", ext[n].btn_text[1] = app_str(app, "fees.amount.more");
		ext[n].btn_enabled[0] = v->down_enabled, ext[n].btn_enabled[1] = v->up_enabled;
		ITEM("fees.amount", amount, NULL, SCR_TOTAL_PX, true, true, TEXT_DIR_AUTO, THEME_TEXT, SCR_LOOK_STEPPER, 0,
		     0);
	} else {
		ITEM("fees.amount.label", app_str(app, "fees.amount.due"), NULL, SCR_BODY_PX, false, false, TEXT_DIR_AUTO,
		     THEME_MUTED, SCR_LOOK_LABEL, 1, 3);
		ITEM("fees.amount", amount, NULL, SCR_TOTAL_PX, true, true, TEXT_DIR_AUTO, THEME_TEXT, SCR_LOOK_LABEL, 1, 0);
	}
	/* An open amount's keypad takes the end column of its own (as the card screen's): the
	 * figure and what is said of it stay at the start. */
	ITEM("fees.amount.msg", str_or_null(app, v->amount_msg), NULL, SCR_BODY_PX, true, false, TEXT_DIR_AUTO, 0,
	     msg_is_fault(v->amount_msg) ? SCR_LOOK_FAULT : SCR_LOOK_WARN, open ? 0 : 1, 0);
	ITEM("fees.notice", str_or_null(app, v->notice), NULL, SCR_BODY_PX, true, false, TEXT_DIR_AUTO, 0,
	     msg_is_fault(v->notice) ? SCR_LOOK_FAULT : SCR_LOOK_WARN, open ? 0 : 1, 0);
#undef ITEM
	struct scr_button nav[] = {
		{"nav.back", app_str(app, "common.back"), false, true},
		{"nav.cancel", app_str(app, "common.cancel"), false, true},
		{"fees.add", app_str(app, "fees.add"), true, v->add_enabled},
	};
	static const int rows[] = {3};
	const struct scr_layout L = {
		.header_id = "fees.amount.title", .title = cat_str(app, &s->name),
		.items = it, .ext = ext, .n = n,
		.buttons = nav, .wide = nav, .rows = rows, .n_rows = 1, .n_buttons = 3,
		.keypad = open, .clear = app_str(app, "key.clear"), .del = app_str(app, "key.del"),
	};
	scr_lay_out(page, &L);
}

/* ---- basket ---- */

/*
 * One column: a band per line with its remove button at the end, the total, the notice, the
 * bar (cancel, more, pay). Two (landscape): the lines at the start, the total at the end. Each
 * line says the entity and service, the reference and the bill, the amount; a basket too long
 * for the page says it shorter (the service, its reference and bill, the amount: compact), and
 * short of room still the total's label goes. Every line, the total and the buttons stay.
 */
static bool basket_try(struct app *app, struct ui_page *page, bool compact, size_t first, size_t count)
{
	const struct fees_view *v = &screens_of(app)->shown;
	const struct catalogue *cat = app_catalogue(app);
	struct scr_item it[SCR_ITEMS_MAX];
	struct scr_item_ext ext[SCR_ITEMS_MAX];
	char text[FEES_BASKET_MAX][640], ids[FEES_BASKET_MAX][40], rm[FEES_BASKET_MAX][40], total[48];
	memset(ext, 0, sizeof(ext));
	int n = 0;
	for (size_t i = first; i < first + count && i < v->n_lines; i++) {
		const struct fees_line *l = &v->lines[i];
		const struct cat_entity *e = catalogue_entity(cat, l->entity);
		const struct cat_service *s = e ? catalogue_service(e, l->service) : NULL;
		char amount[48], ref[CAT_REF_MAX + 8], bill[FEES_BILL_MAX + 8], detail[400] = "";
		money(app, l->amount_fils, amount, sizeof(amount));
		if (l->reference[0]) {
			ltr_run(app, l->reference, ref, sizeof(ref));
			if (s && !compact)
				snprintf(detail, sizeof(detail), "%s: %s", cat_str(app, &s->reference.name), ref);
			else
				snprintf(detail, sizeof(detail), "%s", ref);
		}
		if (l->bill[0]) {
			ltr_run(app, l->bill, bill, sizeof(bill));
			size_t at = strlen(detail);
			char desc[FEES_TEXT_MAX + 8];
			host_run(app, l->description, desc, sizeof(desc));
			snprintf(detail + at, sizeof(detail) - at, "%s%s%s%s", at ? " · " : "", bill, compact ? "" : " ",
				 compact ? "" : desc);
		}
		const char *sname = s ? cat_str(app, &s->name) : l->service;
		if (compact) {
			snprintf(text[i], sizeof(text[i]), "%s%s%s · %s", sname, detail[0] ? " " : "", detail, amount);
		} else {
			char half[2 * CAT_NAME_MAX + 64], what[2 * CAT_NAME_MAX + 64];
			fill(app_str(app, "fees.what"), "{entity}", e ? cat_str(app, &e->name) : l->entity, half,
			     sizeof(half));
			fill(half, "{service}", sname, what, sizeof(what));
			snprintf(text[i], sizeof(text[i]), "%s\n%s%s%s", what, detail, detail[0] ? "\n" : "", amount);
		}
		snprintf(ids[i], sizeof(ids[i]), "basket.line.%zu", i + 1);
		snprintf(rm[i], sizeof(rm[i]), "basket.remove.%zu", i + 1);
		ext[n].btn_id[0] = rm[i], ext[n].btn_text[0] = app_str(app, "basket.remove"), ext[n].btn_enabled[0] = true;
		it[n++] = (struct scr_item){ids[i], text[i], NULL, LINE_PX, false, false, TEXT_DIR_AUTO, THEME_TEXT,
					    SCR_LOOK_REMOVABLE, 0, 0};
	}
	/* A page of the lines: which ones, and the buttons to the others. */
	char pg[160] = "", num[3][16];
	if (count < v->n_lines) {
		char t1[160], t2[160];
		snprintf(num[0], sizeof(num[0]), "%zu", first + 1);
		snprintf(num[1], sizeof(num[1]), "%zu", first + count < v->n_lines ? first + count : v->n_lines);
		snprintf(num[2], sizeof(num[2]), "%zu", v->n_lines);
		app_fill(app, app_str(app, "basket.page"), "{first}", num[0], t1, sizeof(t1));
		app_fill(app, t1, "{last}", num[1], t2, sizeof(t2));
		app_fill(app, t2, "{count}", num[2], pg, sizeof(pg));
		ext[n].btn_id[0] = "basket.page.prev", ext[n].btn_text[0] = app_str(app, "basket.page.prev");
		ext[n].btn_id[1] = "basket.page.next", ext[n].btn_text[1] = app_str(app, "basket.page.next");
		ext[n].btn_enabled[0] = first > 0, ext[n].btn_enabled[1] = first + count < v->n_lines;
		it[n++] = (struct scr_item){"basket.page", pg, NULL, SCR_BODY_PX, true, false, TEXT_DIR_AUTO, THEME_TEXT,
					    SCR_LOOK_STEPPER, 0, 0};
	}
	money(app, v->total_fils, total, sizeof(total));
	it[n++] = (struct scr_item){"basket.empty", v->n_lines ? NULL : app_str(app, "basket.empty"), NULL, SCR_MSG_PX,
				    true, false, TEXT_DIR_AUTO, THEME_BAND, SCR_LOOK_LABEL, 0, 0};
	it[n++] = (struct scr_item){"basket.total.label", app_str(app, "basket.total"), NULL, SCR_BODY_PX, false, false,
				    TEXT_DIR_AUTO, THEME_MUTED, SCR_LOOK_LABEL, 1, 1};
	it[n++] = (struct scr_item){"basket.total", total, NULL, SCR_TOTAL_PX, true, true, TEXT_DIR_AUTO, THEME_TEXT,
				    SCR_LOOK_LABEL, 1, 0};
	it[n++] = (struct scr_item){"fees.notice", str_or_null(app, v->notice), NULL, SCR_BODY_PX, true, false,
				    TEXT_DIR_AUTO, 0, msg_is_fault(v->notice) ? SCR_LOOK_FAULT : SCR_LOOK_WARN, 1, 0};
	struct scr_button nav[] = {
		{"nav.cancel", app_str(app, "common.cancel"), false, true},
		{"basket.more", app_str(app, "basket.more"), false, v->more_enabled},
		{"basket.pay", app_str(app, "basket.pay"), true, v->pay_enabled},
	};
	static const int rows[] = {3};
	const struct scr_layout L = {
		.header_id = "basket.title", .title = app_str(app, "basket.title"),
		.items = it, .ext = ext, .n = n,
		.buttons = nav, .wide = nav, .rows = rows, .n_rows = 1, .n_buttons = 3,
	};
	return scr_lay_out(page, &L);
}

/* Every line in full; every line compact; then pages of fewer and fewer compact lines, with
 * the buttons between pages (a full basket on a 768 px tall screen). */
static void draw_basket(struct app *app, struct ui_page *page)
{
	struct fees_screens *fs = screens_of(app);
	size_t n = fs->shown.n_lines, mark = page->n;
	fs->page_lines = n;
	if (basket_try(app, page, false, 0, n))
		return;
	ui_page_truncate(page, mark);
	if (basket_try(app, page, true, 0, n) || n < 2)
		return; /* nothing to split in pages: as it is, the page check says what is off */
	/* The most lines a page fits, measured on a full page (the first), then the page that
	 * holds the first line asked for. */
	for (size_t k = n - 1; k >= 1; k--) {
		ui_page_truncate(page, mark);
		fs->page_lines = k;
		bool fits = basket_try(app, page, true, 0, k);
		if (!fits && k > 1)
			continue;
		size_t first = (fs->first_line < n ? fs->first_line : n - 1) / k * k;
		fs->first_line = first;
		if (first) {
			ui_page_truncate(page, mark);
			basket_try(app, page, true, first, k);
		}
		return; /* at one line a page, as it is: the page check says what is off */
	}
}


/* A fees screen built with no flow (an enter that could not start one, before its queued move
 * to home happens) shows only its title. */
#define FEES_SCREEN(var, sid, draw, enter_fn)                                                       \
	static void build_##var(struct app *app, struct ui_page *page)                              \
	{                                                                                           \
		if (screens_of(app) && app_catalogue(app))                                          \
			draw(app, page);                                                            \
		else                                                                                \
			theme_header(page, "fees.title", app_str(app, "fees.title"));              \
	}                                                                                           \
	const struct scr_def var = {                                                                \
		.id = sid,                                                                          \
		.customer_session = true,                                                           \
		.build = build_##var,                                                               \
		.on_tap = on_tap,                                                                   \
		.enter = enter_fn,                                                                  \
		.leave = leave,                                                                     \
		.on_devices = on_devices,                                                           \
		.on_fee_answer = on_fee_answer,                                                     \
	}

FEES_SCREEN(scr_fees, "fees", draw_entities, enter_list);
FEES_SCREEN(scr_fees_service, "fees-service", draw_services, enter_other);
FEES_SCREEN(scr_fees_reference, "fees-reference", draw_reference, enter_other);
FEES_SCREEN(scr_fees_amount, "fees-amount", draw_amount, enter_other);
FEES_SCREEN(scr_basket, "basket", draw_basket, enter_other);

/* ---- the paying half: fees-pay, fees-change, fees-card, fees-done (kiosk/flows/feespay.h) ----
 *
 *   paying step               screen        what the screens do for it
 *   PAY, CLOSING, SETTLING    fees-pay      cash to feespay_step; SETTLING: app_pay_ask once
 *   CHANGE                    fees-change   change.card, change.voucher
 *   CARD, CARD_CHECKING       fees-card     keypad; CARD_CHECKING: app_card_ask and the limits
 *   VOUCHER                   fees-voucher  scr_vpay_build; app_voucher_ask / app_voucher_redeem
 *                                           as view.vpay.ask says, once each
 *   DONE                      fees-done     the receipt printed once (txreceipt_print)
 *   END basket                basket        the browsing flow back at BASKET (nothing paid)
 *   END home/attract/o.o.s.   home/attract  the browsing flow ended too
 *
 *  5. The paying flow runs exactly while the browsing flow is at PAY: created (and the basket
 *     opened) when PAY is entered, freed when its END is seen or the journey's screens are
 *     left (pay_end), by any path.
 *  6. Left by a path that is not the flow's own (out of service, `goto`, shutdown): PAY is
 *     cancelled and CHANGE/CARD sent to a voucher first (flow invariant 4), so money is never
 *     left without its place; a transaction still open after that (CLOSING, SETTLING, a ledger
 *     failure) is recovery's at once (app_recover_left_open).
 *  7. Every transaction the flow ends kicks the sync (app_sync_kick), and the host is asked
 *     once per SETTLING (view.pay_ask) and once per CARD_CHECKING (view.card_ask).
 */

static struct fees_screens *pay_screens(struct app *app)
{
	struct fees_screens *fs = screens_of(app);
	return fs && fs->pay ? fs : NULL;
}

static bool pay_begin(struct app *app, struct fees_screens *fs)
{
	const struct core_config *cc = app_config(app);
	const struct catalogue *cat = app_catalogue(app);
	struct feespay_config cfg;
	feespay_config_default(&cfg);
	cfg.overpay_cap_fils = cc->fees_overpay_cap_fils;
	cfg.voucher_days = cc->fees_voucher_days;
	cfg.n_prefixes = core_config_prefixes(cc, fs->prefixes);
	for (size_t i = 0; i < cfg.n_prefixes; i++)
		cfg.prefixes[i] = fs->prefixes[i];
	cfg.change_idle_ms = (uint64_t)cc->inactivity_timeout_s * 1000;
	if (cfg.pay_idle_ms < cfg.change_idle_ms)
		cfg.pay_idle_ms = cfg.change_idle_ms;
	cfg.done_ms = (uint64_t)cc->topup_done_s * 1000;
	cfg.no_receipt_ms = (uint64_t)cc->topup_no_receipt_s * 1000;
	struct fees_view v;
	fees_view(fs->flow, &v);
	struct feespay_line lines[FEESPAY_LINES_MAX];
	memset(lines, 0, sizeof(lines));
	_Static_assert(FEES_BASKET_MAX <= FEESPAY_LINES_MAX, "every basket line is paid");
	for (size_t i = 0; i < v.n_lines; i++) {
		const struct fees_line *l = &v.lines[i];
		const struct cat_entity *e = catalogue_entity(cat, l->entity);
		const struct cat_service *sv = e ? catalogue_service(e, l->service) : NULL;
		struct feespay_line *o = &lines[i];
		snprintf(o->ledger.entity, sizeof(o->ledger.entity), "%s", l->entity);
		snprintf(o->ledger.service, sizeof(o->ledger.service), "%s", l->service);
		snprintf(o->ledger.reference, sizeof(o->ledger.reference), "%s", l->reference);
		snprintf(o->ledger.bill, sizeof(o->ledger.bill), "%s", l->bill);
		o->ledger.amount_fils = l->amount_fils;
		/* The host's path (catalogue.h), not the catalogue's ids. */
		snprintf(o->host_entity, sizeof(o->host_entity), "%s", sv ? sv->host_entity : l->entity);
		snprintf(o->host_service, sizeof(o->host_service), "%s", sv ? sv->host_service : l->service);
		o->needs_host = l->needs_host;
	}
	struct kio_error err = {0};
	if (feespay_new(&cfg, app_ledger(app), app_cash(app), app_clock(app), lang_code(app_lang(app)),
			app_receipt_can_print(app), lines, v.n_lines, &fs->pay, &err) != 0) {
		LOG_ERR("cannot start paying the basket: %s", err.msg);
		return false;
	}
	fs->receipt_asked = false;
	fs->job[0] = '\0';
	feespay_open(fs->pay); /* flow invariant 1 */
	feespay_view(fs->pay, &fs->pshown);
	return true;
}

static enum scr_id pay_screen_for(const struct feespay_view *v)
{
	switch (v->step) {
	case FEESPAY_PAY:
	case FEESPAY_CLOSING:
	case FEESPAY_SETTLING: return SCR_FEES_PAY;
	case FEESPAY_CHANGE: return SCR_FEES_CHANGE;
	case FEESPAY_CARD:
	case FEESPAY_CARD_CHECKING: return SCR_FEES_CARD;
	case FEESPAY_VOUCHER: return SCR_FEES_VOUCHER;
	case FEESPAY_DONE: return SCR_FEES_DONE;
	case FEESPAY_END:
	case FEESPAY_STEP_COUNT: break;
	}
	return v->exit == FEESPAY_EXIT_BASKET ? SCR_BASKET : v->exit == FEESPAY_EXIT_HOME ? SCR_HOME : SCR_ATTRACT;
}

static void pay_print_once(struct app *app, struct fees_screens *fs, const struct feespay_view *v)
{
	if (fs->receipt_asked || !v->print_receipt)
		return;
	fs->receipt_asked = true;
	struct kio_error err = {0};
	if (app_print_topup_receipt(app, feespay_tx_id(fs->pay), fs->job, &err) != 0) {
		LOG_WARN("fees transaction %" PRId64 ": no receipt: %s", v->tx_seq, err.msg);
		fs->job[0] = '\0';
		const struct feespay_input failed = {.kind = FEESPAY_IN_RECEIPT, .receipt_printed = false};
		feespay_step(fs->pay, &failed); /* flow invariant 8 */
	}
}

/* Invariant 6. */
static void pay_end(struct app *app, struct fees_screens *fs, enum scr_id to)
{
	if (!fs->pay)
		return;
	for (int k = 0; k < 3; k++) {
		enum feespay_step st = feespay_current(fs->pay);
		if (st != FEESPAY_PAY && st != FEESPAY_CHANGE && st != FEESPAY_CARD && st != FEESPAY_CARD_CHECKING &&
		    st != FEESPAY_VOUCHER)
			break;
		const struct feespay_input cancel = {.kind = FEESPAY_IN_CANCEL};
		if (feespay_step(fs->pay, &cancel) != 0)
			LOG_WARN("the paying step %s refused a cancel on the way out", feespay_step_name(st));
	}
	struct feespay_view v;
	feespay_view(fs->pay, &v);
	if (v.tx_ends != fs->kicked_ends)
		app_sync_kick(app);
	if (v.step == FEESPAY_DONE)
		pay_print_once(app, fs, &v);
	/* VOUCHER still: its redeem was out (flow invariant 10); recovery voids it if unbooked. */
	bool left_open = v.step == FEESPAY_CLOSING || v.step == FEESPAY_SETTLING || v.step == FEESPAY_VOUCHER ||
			 v.exit == FEESPAY_EXIT_OUT_OF_SERVICE;
	if (left_open)
		LOG_WARN("fees transaction %" PRId64 " left open at %s: recovery ends it", v.tx_seq, feespay_step_name(v.step));
	feespay_free(fs->pay);
	fs->pay = NULL;
	if (left_open && to != SCR_COUNT)
		app_recover_left_open(app);
}

static void on_card_answer(struct app *app, const struct sync_card_result *r);

static void vpay_in(struct fees_screens *fs, const struct vpay_input *vi)
{
	const struct feespay_input in = {.kind = FEESPAY_IN_VPAY, .vpay = vi};
	int rc = feespay_step(fs->pay, &in);
	if (rc && rc != KIO_ERR_INVALID && rc != KIO_ERR_BUSY)
		LOG_INFO("voucher step: %s", kio_strerror(rc));
}

/* Invariant 7: the questions the view asks, once each. True when a step happened here. */
static bool pay_ask(struct app *app, struct fees_screens *fs, const struct feespay_view *v)
{
	struct kio_error err = {0};
	if (v->step == FEESPAY_VOUCHER && v->vpay.ask != VPAY_ASK_NONE) {
		feespay_vpay_sent(fs->pay);
		if (v->vpay.ask == VPAY_ASK_VALIDATE) {
			if (app_voucher_ask(app, v->vpay.code, &err) == 0)
				return false;
			LOG_WARN("asking the host about a voucher: %s", err.msg);
			struct sync_voucher_result r = {.result = SYNC_ASK_UNREACHABLE};
			snprintf(r.why, sizeof(r.why), "%s", err.msg);
			const struct vpay_input vi = {.kind = VPAY_IN_VALID, .valid = &r};
			vpay_in(fs, &vi);
			return true;
		}
		if (app_voucher_redeem(app, v->vpay.code, v->vpay.redemption_id, v->tx_uuid, v->vpay.amount_fils, &err) == 0)
			return false;
		LOG_WARN("redeeming a voucher: %s: given up (the close voids the intent)", err.msg);
		const struct vpay_input vi = {.kind = VPAY_IN_GIVE_UP};
		vpay_in(fs, &vi);
		return true;
	}
	if (v->pay_ask) {
		feespay_pay_sent(fs->pay);
		struct sync_pay_line lines[FEESPAY_LINES_MAX];
		for (size_t i = 0; i < v->n_lines; i++) {
			const struct feespay_line *l = &v->lines[i];
			snprintf(lines[i].entity, sizeof(lines[i].entity), "%s", l->host_entity);
			snprintf(lines[i].service, sizeof(lines[i].service), "%s", l->host_service);
			snprintf(lines[i].reference, sizeof(lines[i].reference), "%s", l->ledger.reference);
			snprintf(lines[i].bill, sizeof(lines[i].bill), "%s", l->ledger.bill);
			lines[i].amount_fils = l->ledger.amount_fils;
		}
		if (app_pay_ask(app, v->tx_uuid, lines, v->n_lines, &err) == 0)
			return false;
		LOG_WARN("fees transaction %" PRId64 ": the payment could not be asked (%s): settled from the records",
			 v->tx_seq, err.msg);
		const struct feespay_answer none = {.answered = false};
		const struct feespay_input in = {.kind = FEESPAY_IN_PAY_ANSWER, .answer = &none};
		feespay_step(fs->pay, &in);
		return true;
	}
	if (v->card_ask) {
		feespay_card_sent(fs->pay);
		if (app_card_ask(app, v->card, &err) == 0)
			return false;
		LOG_ERR("asking the host about the rest's card: %s", err.msg);
		struct sync_card_result r = {.result = SYNC_ASK_UNREACHABLE};
		snprintf(r.why, sizeof(r.why), "%s", err.msg);
		on_card_answer(app, &r);
		return true;
	}
	return false;
}

static void pay_sync(struct app *app, struct fees_screens *fs)
{
	if (!fs->pay && !pay_begin(app, fs)) {
		const struct fees_input back = {.kind = FEES_IN_BACK};
		fees_step(fs->flow, &back);
		sync(app);
		return;
	}
	struct feespay_view v;
	feespay_view(fs->pay, &v);
	if (v.tx_ends != fs->kicked_ends) {
		fs->kicked_ends = v.tx_ends;
		app_sync_kick(app);
	}
	if (v.step == FEESPAY_DONE) {
		pay_print_once(app, fs, &v);
		feespay_view(fs->pay, &v);
	}
	if (v.step == FEESPAY_END) {
		if (v.exit == FEESPAY_EXIT_BASKET) {
			/* Nothing was paid: the basket again, as it was. */
			feespay_free(fs->pay);
			fs->pay = NULL;
			const struct fees_input back = {.kind = FEES_IN_BACK};
			fees_step(fs->flow, &back);
			sync(app);
			return;
		}
		enum scr_id to = pay_screen_for(&v);
		app_go(app, to); /* leave: pay_end, the flow freed */
		return;
	}
	enum scr_id want = pay_screen_for(&v);
	if (want != app_screen(app)) {
		/* The screen first: a move drops the questions of the screen left (screen.h,
		 * lifecycle 6), so the new screen's enter asks (it syncs here again). */
		app_go(app, want);
		return;
	}
	if (pay_ask(app, fs, &v)) {
		pay_sync(app, fs);
		return;
	}
	bool changed = memcmp(&v, &fs->pshown, sizeof(v)) != 0;
	fs->pshown = v;
	if (changed)
		app_refresh(app);
	uint64_t at = feespay_deadline_ms(fs->pay);
	if (at)
		app_wake_at(app, at);
}

static void pay_step(struct app *app, const struct feespay_input *in)
{
	struct fees_screens *fs = pay_screens(app);
	if (!fs)
		return;
	int rc = feespay_step(fs->pay, in);
	if (rc && rc != KIO_ERR_INVALID)
		LOG_INFO("paying step %s: %s", feespay_step_name(feespay_current(fs->pay)), kio_strerror(rc));
	pay_sync(app, fs);
}

static void pay_on_tap(struct app *app, const char *id)
{
	static const struct {
		const char *id;
		enum feespay_input_kind kind;
	} taps[] = {
		{"nav.cancel", FEESPAY_IN_CANCEL}, {"nav.back", FEESPAY_IN_BACK},       {"nav.next", FEESPAY_IN_NEXT},
		{"key.del", FEESPAY_IN_DEL},       {"key.clear", FEESPAY_IN_CLEAR},     {"change.card", FEESPAY_IN_TO_CARD},
		{"change.voucher", FEESPAY_IN_TO_VOUCHER}, {"done.close", FEESPAY_IN_FINISH},
		{"pay.voucher", FEESPAY_IN_VOUCHER},
	};
	struct fees_screens *fs = pay_screens(app);
	if (fs && feespay_current(fs->pay) == FEESPAY_VOUCHER) {
		/* The voucher page's taps go to the voucher machine (vpay.h). */
		struct vpay_input vi = {.kind = VPAY_IN_COUNT};
		if (scr_key_digit(id, &vi.digit))
			vi.kind = VPAY_IN_KEY;
		else if (strcmp(id, "key.del") == 0)
			vi.kind = VPAY_IN_DEL;
		else if (strcmp(id, "key.clear") == 0)
			vi.kind = VPAY_IN_CLEAR;
		else if (strcmp(id, "voucher.redeem") == 0)
			vi.kind = VPAY_IN_REDEEM;
		else if (strcmp(id, "voucher.back") == 0)
			vi.kind = VPAY_IN_BACK;
		if (vi.kind != VPAY_IN_COUNT) {
			vpay_in(fs, &vi);
			pay_sync(app, fs);
		}
		return;
	}
	struct feespay_input in = {.kind = FEESPAY_IN_COUNT};
	if (scr_key_digit(id, &in.digit))
		in.kind = FEESPAY_IN_KEY;
	for (size_t i = 0; i < sizeof(taps) / sizeof(taps[0]); i++)
		if (strcmp(id, taps[i].id) == 0)
			in.kind = taps[i].kind;
	if (in.kind != FEESPAY_IN_COUNT)
		pay_step(app, &in);
}

static void pay_enter(struct app *app, enum scr_id from)
{
	(void)from;
	if (!pay_screens(app)) {
		app_go(app, SCR_FEES); /* only the flow leads here (goto: the start) */
		return;
	}
	pay_sync(app, screens_of(app));
}

static void pay_on_cash(struct app *app, const struct cash_event *ev)
{
	struct fees_screens *fs = pay_screens(app);
	if (!fs)
		return;
	const struct feespay_input in = {.kind = FEESPAY_IN_CASH, .cash = *ev};
	feespay_step(fs->pay, &in);
	app_wake_at(app, app_now_ms(app)); /* the screen follows from the loop */
}

static void pay_on_wake(struct app *app)
{
	const struct feespay_input in = {.kind = FEESPAY_IN_TICK};
	pay_step(app, &in);
}

static void pay_on_activity(struct app *app)
{
	const struct feespay_input in = {.kind = FEESPAY_IN_ACTIVITY};
	pay_step(app, &in);
}

static void pay_on_devices(struct app *app)
{
	struct fees_screens *fs = pay_screens(app);
	if (!fs)
		return;
	if (app_out_of_service(app) && feespay_current(fs->pay) != FEESPAY_DONE) {
		LOG_WARN("out of service while paying fees (%s): leaving", feespay_step_name(feespay_current(fs->pay)));
		app_go(app, SCR_ATTRACT);
		return;
	}
	const struct feespay_input in = {.kind = FEESPAY_IN_PRINTER, .printer_ok = app_receipt_can_print(app)};
	pay_step(app, &in);
}

static void pay_on_receipt(struct app *app, const struct receipt_event *ev)
{
	struct fees_screens *fs = pay_screens(app);
	bool printed = false;
	if (!fs || !scr_receipt_job_ended(fs->job, ev, &printed))
		return;
	const struct feespay_input in = {.kind = FEESPAY_IN_RECEIPT, .receipt_printed = printed};
	if (feespay_step(fs->pay, &in) == 0)
		app_wake_at(app, app_now_ms(app));
}

/* Flow invariant 6: the host's answer in the flow's terms; anything but a 200 with every line
 * is no answer (the host settles the lines from the records). */
static void on_pay_answer(struct app *app, const struct sync_pay_result *r)
{
	struct fees_screens *fs = pay_screens(app);
	if (!fs || feespay_current(fs->pay) != FEESPAY_SETTLING)
		return;
	struct feespay_answer a = {.answered = false};
	if (r->result == SYNC_ASK_ANSWERED && r->answer.kind == SYNC_PAY_ANSWERED) {
		a.answered = true;
		a.n = r->answer.n;
		for (size_t i = 0; i < r->answer.n && i < FEESPAY_LINES_MAX; i++) {
			a.word[i] = r->answer.lines[i].status == SYNC_LINE_PAID ? FEESPAY_LINE_PAID : FEESPAY_LINE_REFUSED;
			snprintf(a.host_ref[i], sizeof(a.host_ref[i]), "%s", r->answer.lines[i].host_ref);
			if (a.word[i] == FEESPAY_LINE_REFUSED)
				LOG_INFO("line %zu refused by the host: %s %s", i + 1, r->answer.lines[i].reason,
					 r->answer.lines[i].message);
		}
	} else {
		LOG_WARN("payment: no usable answer (%s%s%s): the lines are settled from the records",
			 r->result == SYNC_ASK_ANSWERED ? sync_pay_kind_name((int)r->answer.kind) : "unanswered",
			 r->why[0] ? ": " : "", r->why);
	}
	const struct feespay_input in = {.kind = FEESPAY_IN_PAY_ANSWER, .answer = &a};
	pay_step(app, &in);
}

/* The voucher machine takes the host's answers as they are (vpay.h, invariant 6). */
static void on_voucher_answer(struct app *app, const struct sync_voucher_result *r)
{
	struct fees_screens *fs = pay_screens(app);
	if (!fs || feespay_current(fs->pay) != FEESPAY_VOUCHER)
		return;
	const struct vpay_input vi = {.kind = VPAY_IN_VALID, .valid = r};
	vpay_in(fs, &vi);
	pay_sync(app, fs);
}

static void on_redeem_answer(struct app *app, const struct sync_redeem_result *r, bool gave_up)
{
	struct fees_screens *fs = pay_screens(app);
	if (!fs || feespay_current(fs->pay) != FEESPAY_VOUCHER)
		return;
	const struct vpay_input vi = {.kind = gave_up ? VPAY_IN_GIVE_UP : VPAY_IN_REDEEMED, .redeem = gave_up ? NULL : r};
	vpay_in(fs, &vi);
	pay_sync(app, fs);
}

/* Flow invariant 7: the host's word on the rest's card, and whether the offline limits take
 * the credit (the sync's own check; none apply without a host). */
static void on_card_answer(struct app *app, const struct sync_card_result *r)
{
	struct fees_screens *fs = pay_screens(app);
	if (!fs || feespay_current(fs->pay) != FEESPAY_CARD_CHECKING)
		return;
	struct feespay_view v;
	feespay_view(fs->pay, &v);
	struct feespay_input in = {.kind = FEESPAY_IN_CARD_WORD};
	in.card.word = FEESPAY_CARD_UNREACHABLE;
	if (r->result == SYNC_ASK_NOT_CONFIGURED)
		in.card.word = FEESPAY_CARD_NONE;
	else if (r->result == SYNC_ASK_ANSWERED && r->answer.kind == SYNC_CARD_FOUND)
		in.card.word = r->answer.status == SYNC_CARD_ACTIVE    ? FEESPAY_CARD_ACTIVE
			       : r->answer.status == SYNC_CARD_BLOCKED ? FEESPAY_CARD_BLOCKED
								: FEESPAY_CARD_UNKNOWN;
	else if (r->result == SYNC_ASK_ANSWERED && r->answer.kind == SYNC_CARD_UNKNOWN)
		in.card.word = FEESPAY_CARD_UNKNOWN;
	in.card.allowance_ok = true;
	if (in.card.word != FEESPAY_CARD_NONE) {
		struct sync_offline_verdict ov;
		struct kio_error err = {0};
		int64_t fils = in.card.word == FEESPAY_CARD_ACTIVE ? 0 : v.rest_fils;
		if (sync_offline_check(app_sync(app), app_ledger(app), v.card, fils, &ov, &err) != 0) {
			LOG_WARN("offline limits: %s: the rest waits for the host", err.msg);
			in.card.allowance_ok = false;
		} else {
			in.card.allowance_ok = ov.result == SYNC_OFFLINE_OK;
		}
	}
	pay_step(app, &in);
}

/* ---- drawing the paying screens ---- */

static bool pay_msg_is_fault(const char *key)
{
	static const char *const faults[] = {
		"pay.note-over-cap", "pay.note-not-needed", "pay.note-rejected", "pay.note-not-recorded",
		"pay.acceptor-fault", "pay.acceptor-unavailable", "fees.error.ledger", "change.card.blocked",
		"change.card.unknown", "change.card.needs-host", "topup.card.bad-prefix", "topup.card.bad-luhn",
	};
	for (size_t i = 0; key && i < sizeof(faults) / sizeof(faults[0]); i++)
		if (strcmp(key, faults[i]) == 0)
			return true;
	return false;
}

static const char *status_key(enum ledger_line_status st)
{
	switch (st) {
	case LEDGER_LINE_PAID: return "fees.done.line.paid";
	case LEDGER_LINE_REFUSED: return "fees.done.line.refused";
	case LEDGER_LINE_OFFLINE: return "fees.done.line.offline";
	case LEDGER_LINE_UNPAID: return "fees.done.line.unpaid";
	case LEDGER_LINE_UNCONFIRMED: return "fees.done.line.unconfirmed";
	}
	return "fees.done.line.unpaid";
}

/* "Dubai Police: Traffic fines · AED 300.00 · Paid" for line i. */
static void pay_line_text(struct app *app, const struct feespay_view *v, size_t i, char *out, size_t size)
{
	const struct catalogue *cat = app_catalogue(app);
	const struct ledger_fee_line *l = &v->lines[i].ledger;
	const struct cat_entity *e = catalogue_entity(cat, l->entity);
	const struct cat_service *sv = e ? catalogue_service(e, l->service) : NULL;
	char half[2 * CAT_NAME_MAX + 64], what[2 * CAT_NAME_MAX + 64], amount[48], ref[CAT_REF_MAX + 40] = "";
	fill(app_str(app, "fees.what"), "{entity}", e ? cat_str(app, &e->name) : l->entity, half, sizeof(half));
	fill(half, "{service}", sv ? cat_str(app, &sv->name) : l->service, what, sizeof(what));
	money(app, l->amount_fils, amount, sizeof(amount));
	if (l->bill[0])
		ltr_run(app, l->bill, ref, sizeof(ref));
	else if (l->reference[0])
		ltr_run(app, l->reference, ref, sizeof(ref));
	snprintf(out, size, "%s%s%s · %s%s%s", what, ref[0] ? " · " : "", ref, amount, v->decided[i] ? " · " : "",
		 v->decided[i] ? app_str(app, status_key(v->status[i])) : "");
}

static void amount_in(struct app *app, const char *key, int64_t fils, char *out, size_t size)
{
	char a[48];
	money(app, fils, a, sizeof(a));
	fill(app_str(app, key), "{amount}", a, out, size);
}

/*
 * fees-pay: from the first frame, no change is given and where an overpayment goes (flow
 * invariant 2's promise); then due, paid, remaining and the largest note taken now. Short of
 * room: the labels over due and paid go first, then the insert line. The amounts, the notices
 * and the buttons stay.
 */
static void draw_pay(struct app *app, struct ui_page *page)
{
	const struct feespay_view *v = &screens_of(app)->pshown;
	char due[48], paid[48], remaining[48], largest[256] = "", notice[256] = "";
	money(app, v->due_fils, due, sizeof(due));
	money(app, v->paid_fils, paid, sizeof(paid));
	money(app, v->remaining_fils, remaining, sizeof(remaining));
	if (v->step == FEESPAY_PAY && v->largest_note_fils > 0)
		amount_in(app, "pay.largest", v->largest_note_fils, largest, sizeof(largest));
	if (v->notice && strcmp(v->notice, "pay.note-over-cap") == 0)
		amount_in(app, v->notice, v->notice_fils, notice, sizeof(notice));
	else if (v->notice)
		snprintf(notice, sizeof(notice), "%s", app_str(app, v->notice));
	const char *doing = v->step == FEESPAY_SETTLING  ? app_str(app, "settle.asking")
			    : v->step == FEESPAY_CLOSING ? app_str(app, "pay.closing")
			    : v->accepting               ? app_str(app, "pay.insert")
							 : NULL;
	bool paying = v->step == FEESPAY_PAY;
	struct scr_button buttons[] = {
		{"nav.back", app_str(app, "common.back"), false, paying && v->back_enabled},
		{"pay.voucher", app_str(app, "pay.voucher"), false, v->voucher_enabled},
		{"nav.cancel", app_str(app, v->cancel_keeps_money ? "pay.finish-rest" : "common.cancel"), true, paying},
	};
	static const int rows[] = {3};
	struct scr_item items[] = {
		{"pay.no-change", app_str(app, v->no_change_msg), NULL, SCR_BODY_PX, true, false, TEXT_DIR_AUTO, 0,
		 SCR_LOOK_WARN, 0, 0},
		{"pay.printer", str_or_null(app, v->printer_msg), NULL, SCR_BODY_PX, true, false, TEXT_DIR_AUTO, 0,
		 SCR_LOOK_FAULT, 0, 0},
		{"pay.due.label", app_str(app, "pay.due"), NULL, SCR_BODY_PX, false, false, TEXT_DIR_AUTO, THEME_MUTED,
		 SCR_LOOK_LABEL, 0, 1},
		{"pay.due", due, NULL, SCR_MSG_PX, true, true, TEXT_DIR_AUTO, THEME_TEXT, SCR_LOOK_LABEL, 0, 0},
		{"pay.paid.label", app_str(app, "pay.paid"), NULL, SCR_BODY_PX, false, false, TEXT_DIR_AUTO, THEME_MUTED,
		 SCR_LOOK_LABEL, 0, 1},
		{"pay.paid", paid, NULL, SCR_MSG_PX, true, true, TEXT_DIR_AUTO, THEME_TEXT, SCR_LOOK_LABEL, 0, 0},
		{"pay.remaining.label", app_str(app, "pay.remaining"), NULL, SCR_BODY_PX, false, false, TEXT_DIR_AUTO,
		 THEME_MUTED, SCR_LOOK_LABEL, 1, 1},
		{"pay.remaining", remaining, NULL, SCR_TOTAL_PX, true, true, TEXT_DIR_AUTO, THEME_TEXT, SCR_LOOK_LABEL, 1, 0},
		{"pay.largest", largest[0] ? largest : NULL, NULL, SCR_BODY_PX, false, false, TEXT_DIR_AUTO, THEME_TEXT,
		 SCR_LOOK_LABEL, 1, 0},
		{"pay.insert", doing, NULL, SCR_MSG_PX, true, false, TEXT_DIR_AUTO, THEME_BAND, SCR_LOOK_LABEL, 1, 2},
		{"pay.notice", notice[0] ? notice : NULL, NULL, SCR_BODY_PX, true, false, TEXT_DIR_AUTO, 0,
		 pay_msg_is_fault(v->notice) ? SCR_LOOK_FAULT : SCR_LOOK_WARN, 1, 0},
	};
	const struct scr_layout L = {
		.header_id = "pay.title", .title = app_str(app, "pay.title"),
		.items = items, .n = (int)(sizeof(items) / sizeof(items[0])),
		.buttons = buttons, .wide = buttons, .rows = rows, .n_rows = 1, .n_buttons = 3,
	};
	scr_lay_out(page, &L);
}

/* fees-voucher: the voucher machine's page (kiosk/screens/vpay.c). */
static void draw_voucher(struct app *app, struct ui_page *page)
{
	scr_vpay_build(app, page, &screens_of(app)->pshown.vpay);
}

/* fees-change: the rest, why there is one, each line's result; card or voucher. Short of
 * room the lines go (the done screen and the receipt list them). */
static void draw_change(struct app *app, struct ui_page *page)
{
	const struct feespay_view *v = &screens_of(app)->pshown;
	char rest[256], lines[FEESPAY_LINES_MAX][640], ids[FEESPAY_LINES_MAX][32];
	amount_in(app, "change.rest", v->rest_fils, rest, sizeof(rest));
	struct scr_item it[SCR_ITEMS_MAX];
	int n = 0;
	it[n++] = (struct scr_item){"change.amount", rest, NULL, SCR_MSG_PX, true, false, TEXT_DIR_AUTO, THEME_TEXT,
				    SCR_LOOK_LABEL, 0, 0};
	it[n++] = (struct scr_item){"change.why", str_or_null(app, v->rest_why), NULL, SCR_BODY_PX, true, false,
				    TEXT_DIR_AUTO, 0, SCR_LOOK_WARN, 0, 0};
	it[n++] = (struct scr_item){"change.offline", v->host_unanswered ? app_str(app, "fees.done.offline") : NULL, NULL,
				    SCR_BODY_PX, true, false, TEXT_DIR_AUTO, 0, SCR_LOOK_WARN, 0, 0};
	for (size_t i = 0; i < v->n_lines && n < SCR_ITEMS_MAX - 2; i++) {
		pay_line_text(app, v, i, lines[i], sizeof(lines[i]));
		snprintf(ids[i], sizeof(ids[i]), "change.line.%zu", i + 1);
		it[n++] = (struct scr_item){ids[i], lines[i], NULL, SCR_BODY_PX, false, false, TEXT_DIR_AUTO, THEME_TEXT,
					    SCR_LOOK_LABEL, 1, 1};
	}
	it[n++] = (struct scr_item){"change.prompt", app_str(app, "change.prompt"), NULL, SCR_MSG_PX, true, false,
				    TEXT_DIR_AUTO, THEME_BAND, SCR_LOOK_LABEL, 1, 0};
	struct scr_button buttons[] = {
		{"change.card", app_str(app, "change.card"), false, true},
		{"change.voucher", app_str(app, "change.voucher"), true, true},
	};
	static const int rows[] = {2};
	const struct scr_layout L = {
		.header_id = "change.title", .title = app_str(app, "change.title"),
		.items = it, .n = n,
		.buttons = buttons, .wide = buttons, .rows = rows, .n_rows = 1, .n_buttons = 2,
	};
	scr_lay_out(page, &L);
}

/* fees-card: the card number for the rest, as the top-up's card screen. */
static void draw_card(struct app *app, struct ui_page *page)
{
	const struct feespay_view *v = &screens_of(app)->pshown;
	char rest[256];
	amount_in(app, "change.rest", v->rest_fils, rest, sizeof(rest));
	bool checking = v->step == FEESPAY_CARD_CHECKING;
	bool ok = strcmp(v->card_msg, "topup.card.ok") == 0;
	const char *msg = ok && v->notice ? NULL : app_str(app, v->card_msg);
	/* Back is the way to the voucher (CHANGE offers it): a third button does not fit a
	 * landscape bar beside the keypad in Arabic at 1024 x 768. */
	struct scr_button nav[] = {
		{"nav.back", app_str(app, "common.back"), false, true},
		{"nav.next", app_str(app, "nav.next"), true, v->next_enabled},
	};
	static const int rows[] = {2};
	struct scr_item items[] = {
		{"card.rest", rest, NULL, SCR_BODY_PX, true, false, TEXT_DIR_AUTO, THEME_TEXT, SCR_LOOK_LABEL, 0, 0},
		{"card.label", app_str(app, "topup.card.label"), NULL, SCR_BODY_PX, false, false, TEXT_DIR_AUTO, THEME_MUTED,
		 SCR_LOOK_LABEL, 0, 1},
		{"card.number", v->card_grouped[0] ? v->card_grouped : NULL, "0000 0000 0000 0000", SCR_TOTAL_PX, true, true,
		 TEXT_DIR_LTR, THEME_TEXT, SCR_LOOK_NUMBER, 0, 0},
		{"card.msg", msg, NULL, SCR_MSG_PX, true, false, TEXT_DIR_AUTO,
		 pay_msg_is_fault(v->card_msg) ? THEME_FAULT_TEXT : THEME_BAND, SCR_LOOK_LABEL, 0, 0},
		{"card.notice", str_or_null(app, v->notice), NULL, SCR_MSG_PX, true, false, TEXT_DIR_AUTO, 0,
		 SCR_LOOK_FAULT, 0, 0},
	};
	const struct scr_layout L = {
		.header_id = "change.card.title", .title = app_str(app, "change.card.title"),
		.items = items, .n = (int)(sizeof(items) / sizeof(items[0])),
		.buttons = nav, .wide = nav, .rows = rows, .n_rows = 1, .n_buttons = 2,
		.keypad = true, .clear = app_str(app, "key.clear"), .del = app_str(app, "key.del"),
		.keys_wait = checking, /* the host is asked about the card */
	};
	scr_lay_out(page, &L);
}

/* fees-done: each line's result, what was paid, where the rest went, the number and the
 * receipt. Short of room the lines go first (the receipt lists them), then the labels. */
static void draw_done(struct app *app, struct ui_page *page)
{
	const struct feespay_view *v = &screens_of(app)->pshown;
	char paid[256], rest[512] = "", txn[32], lines[FEESPAY_LINES_MAX][640], ids[FEESPAY_LINES_MAX][32];
	amount_in(app, "fees.done.paid", v->end.paid_fils, paid, sizeof(paid));
	if (v->end.rest_to == LEDGER_REST_VOUCHER) {
		char code[VCODE_FORMATTED_LEN + 1] = "", ltr[VCODE_FORMATTED_LEN + 16], a[48], date[16], t1[512], t2[512];
		if (!vcode_format(v->end.voucher, code))
			snprintf(code, sizeof(code), "%s", v->end.voucher);
		ltr_run(app, code, ltr, sizeof(ltr));
		money(app, v->end.rest_fils, a, sizeof(a));
		/* The last day, in the Gulf's time (UTC+4 all year), as the receipt prints it. */
		time_t t = (time_t)(v->end.voucher_expires_s + 4 * 3600);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "%Y-%m-%d", &tm);
		char date_ltr[32];
		ltr_run(app, date, date_ltr, sizeof(date_ltr));
		fill(app_str(app, "fees.done.voucher"), "{code}", ltr, t1, sizeof(t1));
		fill(t1, "{amount}", a, t2, sizeof(t2));
		fill(t2, "{date}", date_ltr, rest, sizeof(rest));
	} else if (v->end.rest_to == LEDGER_REST_CARD) {
		char a[48], t1[512], card[SESSION_CARD_TEXT + 16];
		money(app, v->end.rest_fils, a, sizeof(a));
		ltr_run(app, v->card_masked, card, sizeof(card));
		fill(app_str(app, "fees.done.card"), "{card}", card, t1, sizeof(t1));
		fill(t1, "{amount}", a, rest, sizeof(rest));
	}
	snprintf(txn, sizeof(txn), "TXN-%06" PRId64, v->tx_seq);
	bool large = v->tx_number_large;
	struct scr_item it[SCR_ITEMS_MAX];
	int n = 0;
	for (size_t i = 0; i < v->n_lines && n < SCR_ITEMS_MAX - 7; i++) {
		pay_line_text(app, v, i, lines[i], sizeof(lines[i]));
		snprintf(ids[i], sizeof(ids[i]), "done.line.%zu", i + 1);
		it[n++] = (struct scr_item){ids[i], lines[i], NULL, SCR_BODY_PX, false, false, TEXT_DIR_AUTO, THEME_TEXT,
					    SCR_LOOK_LABEL, 0, 2};
	}
	it[n++] = (struct scr_item){"done.offline", v->host_unanswered ? app_str(app, "fees.done.offline") : NULL, NULL,
				    SCR_BODY_PX, true, false, TEXT_DIR_AUTO, 0, SCR_LOOK_WARN, 0, 0};
	it[n++] = (struct scr_item){"done.paid", paid, NULL, SCR_MSG_PX, true, false, TEXT_DIR_AUTO, THEME_TEXT,
				    SCR_LOOK_LABEL, 0, 0};
	it[n++] = (struct scr_item){"done.rest", rest[0] ? rest : NULL, NULL, SCR_MSG_PX, true, false, TEXT_DIR_AUTO,
				    THEME_TEXT, SCR_LOOK_LABEL, 1, 0};
	it[n++] = (struct scr_item){"done.number.label", app_str(app, "topup.done.number"), NULL, SCR_BODY_PX, false,
				    false, TEXT_DIR_AUTO, THEME_MUTED, SCR_LOOK_LABEL, 1, 1};
	it[n++] = (struct scr_item){"done.number", txn, NULL, large ? 96 : 48, true, true, TEXT_DIR_LTR, THEME_TEXT,
				    SCR_LOOK_LABEL, 1, 0};
	it[n++] = (struct scr_item){"done.receipt", app_str(app, v->receipt_msg ? v->receipt_msg : "topup.done.take-receipt"),
				    NULL, SCR_MSG_PX, true, false, TEXT_DIR_AUTO, 0, large ? SCR_LOOK_FAULT : SCR_LOOK_WARN,
				    1, 0};
	struct scr_button nav[] = {{"done.close", app_str(app, "topup.done.close"), true, true}};
	static const int rows[] = {1};
	const struct scr_layout L = {
		.header_id = "fees.done.title", .title = app_str(app, "fees.done.title"),
		.items = it, .n = n,
		.buttons = nav, .wide = nav, .rows = rows, .n_rows = 1, .n_buttons = 1,
	};
	scr_lay_out(page, &L);
}

/* A paying screen built with no paying flow (goto, before its queued move) shows its title. */
#define PAY_SCREEN(var, sid, draw)                                                                  \
	static void build_##var(struct app *app, struct ui_page *page)                              \
	{                                                                                           \
		if (pay_screens(app) && app_catalogue(app))                                         \
			draw(app, page);                                                            \
		else                                                                                \
			theme_header(page, "pay.title", app_str(app, "pay.title"));                \
	}                                                                                           \
	const struct scr_def var = {                                                                \
		.id = sid,                                                                          \
		.customer_session = true,                                                           \
		.build = build_##var,                                                               \
		.on_tap = pay_on_tap,                                                               \
		.enter = pay_enter,                                                                 \
		.leave = leave,                                                                     \
		.on_cash = pay_on_cash,                                                             \
		.on_devices = pay_on_devices,                                                       \
		.on_wake = pay_on_wake,                                                             \
		.on_activity = pay_on_activity,                                                     \
		.on_receipt = pay_on_receipt,                                                       \
		.on_card_answer = on_card_answer,                                                   \
		.on_pay_answer = on_pay_answer,                                                     \
		.on_voucher_answer = on_voucher_answer,                                             \
		.on_redeem_answer = on_redeem_answer,                                               \
	}

PAY_SCREEN(scr_fees_pay, "fees-pay", draw_pay);
PAY_SCREEN(scr_fees_change, "fees-change", draw_change);
PAY_SCREEN(scr_fees_card, "fees-card", draw_card);
PAY_SCREEN(scr_fees_done, "fees-done", draw_done);
PAY_SCREEN(scr_fees_voucher, "fees-voucher", draw_voucher);
