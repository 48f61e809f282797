/*
 * attract: the idle screen, in both languages, where a customer picks Arabic or English.
 *
 * The page measures itself: every text box is as tall as its text, and the device notices take
 * the height their bands measure at the bottom. Sizes are design px scaled to the screen
 * (kiosk/ui/grid.h). Portrait stacks the two greetings, one language over the other, above the
 * two buttons; landscape gives each language a column (Arabic on the right, English on the
 * left, as on the buttons) with its greeting, tagline, prompt and button, rows aligned across.
 * A column layout (kiosk/ui/flow.h) shares the height: spaces shrink first, then the language
 * buttons (down to LANG_BUTTON_MIN); if even that does not fit, the taglines give up their
 * room, then the "choose your language" lines, since the greeting and the buttons are what a
 * customer needs.
 */
#include "kiosk/app.h"
#include "kiosk/ui/check.h"
#include "kiosk/ui/flow.h"
#include "theme.h"

/* Design px (grid.h); a language button is never under a finger (UI_TOUCH_MIN_PX) either. */
enum {
	LANG_BUTTON_MIN = 120, LANG_BUTTON_PREF = 220, BOTTOM_MARGIN = 30,
	BRAND_AR_PX = 76, BRAND_EN_PX = 60, WELCOME_FIRST_PX = 96, WELCOME_SECOND_PX = 80, WELCOME_SIDE_PX = 88,
	TAGLINE_PX = 44, CHOOSE_AR_PX = 44, CHOOSE_EN_PX = 40, NAME_AR_PX = 72, NAME_EN_PX = 64,
};
_Static_assert((int)LANG_BUTTON_MIN >= (int)UI_TOUCH_MIN_PX, "a language button is a touch target");

/* The least height of the language buttons: LANG_BUTTON_MIN scaled, a finger, or the label. */
static int button_min(const struct ui_page *p, int label_h)
{
	int least = ui_px(p, LANG_BUTTON_MIN) > UI_TOUCH_MIN_PX ? ui_px(p, LANG_BUTTON_MIN) : UI_TOUCH_MIN_PX;
	return label_h > least ? label_h : least;
}

static enum text_dir dir_of(enum lang lang) { return lang == LANG_AR ? TEXT_DIR_RTL : TEXT_DIR_LTR; }

/* What both arrangements show, measured once. */
struct attract {
	struct app *app;
	struct ui_page *page;
	enum lang first, second; /* the start language's greeting comes first (portrait) */
	const char *brand_ar, *brand_en, *welcome[2], *tagline[2], *choose_ar, *choose_en, *name_ar, *name_en;
	int margin, notices_h;
};

static int th(const struct attract *a, const char *text, int design_px, bool bold, enum lang lang, int w)
{
	return ui_page_text_height(a->page, text, ui_text_px(a->page, design_px), bold, dir_of(lang), w);
}

static int max2(int x, int y) { return x > y ? x : y; }

static struct ui_widget *label(struct attract *a, const char *id, struct ui_rect r, const char *text, int design_px,
			       bool bold, enum lang lang, uint32_t fg)
{
	struct ui_widget *t = ui_page_add(a->page, id, UI_LABEL, r, text);
	t->text_px = ui_text_px(a->page, design_px), t->bold = bold, t->fg = fg, t->dir = dir_of(lang);
	return t;
}

/* The brand band across the top; returns nothing, its slots say where. */
static void brand(struct attract *a, const struct ui_flow_item *ar, const struct ui_flow_item *en, int bottom)
{
	int w = a->page->width;
	struct ui_widget *band = ui_page_add(a->page, "attract.brand", UI_PANEL, (struct ui_rect){0, 0, w, bottom}, NULL);
	band->bg = THEME_BAND;
	label(a, "attract.brand.ar", (struct ui_rect){0, ar->y, w, ar->h}, a->brand_ar, BRAND_AR_PX, true, LANG_AR,
	      THEME_ON_BAND);
	label(a, "attract.brand.en", (struct ui_rect){0, en->y, w, en->h}, a->brand_en, BRAND_EN_PX, true, LANG_EN,
	      THEME_ON_BAND);
}

static void lang_button(struct attract *a, enum lang lang, struct ui_rect r)
{
	struct ui_widget *b = theme_button(a->page, lang == LANG_AR ? "attract.ar" : "attract.en", r,
					   lang == LANG_AR ? a->name_ar : a->name_en);
	b->text_px = ui_text_px(a->page, lang == LANG_AR ? NAME_AR_PX : NAME_EN_PX), b->dir = dir_of(lang);
}

/* Slots shared by both arrangements; P_ ones are portrait only, L_ ones landscape only. */
enum slot {
	S_BRAND_TOP, S_BRAND_AR, S_BRAND_EN, S_BRAND_BOTTOM, S_SPACE_1, S_WELCOME_1, S_TAGLINE_1, S_SPACE_2,
	S_WELCOME_2, S_TAGLINE_2, S_FILL_1, S_CHOOSE_AR, S_CHOOSE_EN, S_SPACE_3, S_BUTTONS, S_FILL_2, S_NOTICES,
	S_COUNT
};

/* What a page too short for everything leaves out, in that order (see place()). */
struct kept {
	bool taglines, choose;
};

/*
 * Lays the slots out; if the minimums do not fit, the taglines give up their room, and then the
 * "choose your language" lines (the buttons' own labels say it). Slots a layout does not use
 * are {0, 0}.
 */
static struct kept place(struct attract *a, struct ui_flow_item *s)
{
	for (int i = 0; i < S_COUNT; i++)
		if (s[i].pref != UI_FLOW_FILL && s[i].pref < s[i].min)
			s[i].pref = s[i].min;
	int bottom = a->page->height - ui_px(a->page, BOTTOM_MARGIN);
	struct kept kept = {true, true};
	if (ui_flow_column(s, S_COUNT, 0, bottom, 0) == 0)
		return kept;
	s[S_TAGLINE_1].min = s[S_TAGLINE_1].pref = s[S_TAGLINE_2].min = s[S_TAGLINE_2].pref = 0;
	kept.taglines = false;
	if (ui_flow_column(s, S_COUNT, 0, bottom, 0) == 0)
		return kept;
	s[S_CHOOSE_AR].min = s[S_CHOOSE_AR].pref = s[S_CHOOSE_EN].min = s[S_CHOOSE_EN].pref = 0;
	kept.choose = false;
	ui_flow_column(s, S_COUNT, 0, bottom, 0);
	return kept;
}

static void brand_slots(struct attract *a, struct ui_flow_item *s)
{
	int w = a->page->width;
	struct ui_page *p = a->page;
	s[S_BRAND_TOP] = ui_flow_slot(ui_px(p, 16), ui_px(p, 30));
	s[S_BRAND_AR] = ui_flow_slot(th(a, a->brand_ar, BRAND_AR_PX, true, LANG_AR, w), 0);
	s[S_BRAND_EN] = ui_flow_slot(th(a, a->brand_en, BRAND_EN_PX, true, LANG_EN, w), 0);
	s[S_BRAND_BOTTOM] = ui_flow_slot(ui_px(p, 16), ui_px(p, 40));
	s[S_SPACE_1] = ui_flow_slot(ui_px(p, 16), ui_px(p, 120));
	s[S_FILL_1] = ui_flow_slot(ui_px(p, 16), UI_FLOW_FILL);
	s[S_SPACE_3] = ui_flow_slot(ui_px(p, 16), ui_px(p, 40));
	s[S_FILL_2] = ui_flow_slot(a->notices_h ? ui_px(p, 16) : 0, UI_FLOW_FILL);
	s[S_NOTICES] = ui_flow_slot(a->notices_h, 0);
}

static void build_portrait(struct attract *a)
{
	struct ui_page *p = a->page;
	int w = p->width, m = a->margin, inner = w - 2 * m, bw = (w - 3 * m) / 2;
	int button_text = max2(th(a, a->name_en, NAME_EN_PX, true, LANG_EN, bw), th(a, a->name_ar, NAME_AR_PX, true, LANG_AR, bw));
	struct ui_flow_item s[S_COUNT] = {0};
	brand_slots(a, s);
	s[S_WELCOME_1] = ui_flow_slot(th(a, a->welcome[0], WELCOME_FIRST_PX, true, a->first, inner), 0);
	s[S_TAGLINE_1] = ui_flow_slot(th(a, a->tagline[0], TAGLINE_PX, false, a->first, inner), 0);
	s[S_SPACE_2] = ui_flow_slot(ui_px(p, 16), ui_px(p, 40));
	s[S_WELCOME_2] = ui_flow_slot(th(a, a->welcome[1], WELCOME_SECOND_PX, true, a->second, inner), 0);
	s[S_TAGLINE_2] = ui_flow_slot(th(a, a->tagline[1], TAGLINE_PX, false, a->second, inner), 0);
	s[S_CHOOSE_AR] = ui_flow_slot(th(a, a->choose_ar, CHOOSE_AR_PX, false, LANG_AR, inner), 0);
	s[S_CHOOSE_EN] = ui_flow_slot(th(a, a->choose_en, CHOOSE_EN_PX, false, LANG_EN, inner), 0);
	/* A button no smaller than a finger, nor than its label. */
	s[S_BUTTONS] = ui_flow_slot(button_min(p, button_text), ui_px(p, LANG_BUTTON_PREF));
	struct kept kept = place(a, s);

	brand(a, &s[S_BRAND_AR], &s[S_BRAND_EN], s[S_BRAND_BOTTOM].y + s[S_BRAND_BOTTOM].h);
	static const enum slot welcome_slot[2] = {S_WELCOME_1, S_WELCOME_2}, tagline_slot[2] = {S_TAGLINE_1, S_TAGLINE_2};
	static const int welcome_px[2] = {WELCOME_FIRST_PX, WELCOME_SECOND_PX};
	for (int i = 0; i < 2; i++) {
		enum lang lang = i == 0 ? a->first : a->second;
		char id[48];
		const struct ui_flow_item *ws = &s[welcome_slot[i]], *ts = &s[tagline_slot[i]];
		snprintf(id, sizeof(id), "attract.welcome.%s", lang_code(lang));
		label(a, id, (struct ui_rect){m, ws->y, inner, ws->h}, a->welcome[i], welcome_px[i], true, lang, THEME_BAND);
		if (!kept.taglines)
			continue;
		snprintf(id, sizeof(id), "attract.tagline.%s", lang_code(lang));
		label(a, id, (struct ui_rect){m, ts->y, inner, ts->h}, a->tagline[i], TAGLINE_PX, false, lang, THEME_MUTED);
	}
	if (kept.choose) {
		label(a, "attract.choose", (struct ui_rect){m, s[S_CHOOSE_AR].y, inner, s[S_CHOOSE_AR].h}, a->choose_ar,
		      CHOOSE_AR_PX, false, LANG_AR, THEME_TEXT);
		label(a, "attract.choose.en", (struct ui_rect){m, s[S_CHOOSE_EN].y, inner, s[S_CHOOSE_EN].h},
		      a->choose_en, CHOOSE_EN_PX, false, LANG_EN, THEME_TEXT);
	}
	/* Arabic on the right, English on the left, as readers of each expect. */
	lang_button(a, LANG_EN, (struct ui_rect){m, s[S_BUTTONS].y, bw, s[S_BUTTONS].h});
	lang_button(a, LANG_AR, (struct ui_rect){2 * m + bw, s[S_BUTTONS].y, bw, s[S_BUTTONS].h});
	theme_device_notices(a->app, p, s[S_NOTICES].y, true);
}

/* Landscape: one column per language, the rows of the two columns as tall as the taller text. */
static void build_landscape(struct attract *a)
{
	struct ui_page *p = a->page;
	int w = p->width, m = a->margin, cw = (w - 3 * m) / 2;
	int en_x = m, ar_x = 2 * m + cw;
	const char *welcome_ar = a->first == LANG_AR ? a->welcome[0] : a->welcome[1];
	const char *welcome_en = a->first == LANG_AR ? a->welcome[1] : a->welcome[0];
	const char *tagline_ar = a->first == LANG_AR ? a->tagline[0] : a->tagline[1];
	const char *tagline_en = a->first == LANG_AR ? a->tagline[1] : a->tagline[0];
	struct ui_flow_item s[S_COUNT] = {0};
	brand_slots(a, s);
	s[S_WELCOME_1] = ui_flow_slot(max2(th(a, welcome_ar, WELCOME_SIDE_PX, true, LANG_AR, cw),
						     th(a, welcome_en, WELCOME_SIDE_PX, true, LANG_EN, cw)), 0);
	s[S_TAGLINE_1] = ui_flow_slot(max2(th(a, tagline_ar, TAGLINE_PX, false, LANG_AR, cw),
						     th(a, tagline_en, TAGLINE_PX, false, LANG_EN, cw)), 0);
	s[S_CHOOSE_AR] = ui_flow_slot(max2(th(a, a->choose_ar, CHOOSE_AR_PX, false, LANG_AR, cw),
						     th(a, a->choose_en, CHOOSE_EN_PX, false, LANG_EN, cw)), 0);
	int button_text = max2(th(a, a->name_en, NAME_EN_PX, true, LANG_EN, cw), th(a, a->name_ar, NAME_AR_PX, true, LANG_AR, cw));
	s[S_BUTTONS] = ui_flow_slot(button_min(p, button_text), ui_px(p, LANG_BUTTON_PREF));
	struct kept kept = place(a, s);

	brand(a, &s[S_BRAND_AR], &s[S_BRAND_EN], s[S_BRAND_BOTTOM].y + s[S_BRAND_BOTTOM].h);
	const struct ui_flow_item *ws = &s[S_WELCOME_1], *ts = &s[S_TAGLINE_1], *cs = &s[S_CHOOSE_AR];
	label(a, "attract.welcome.ar", (struct ui_rect){ar_x, ws->y, cw, ws->h}, welcome_ar, WELCOME_SIDE_PX, true,
	      LANG_AR, THEME_BAND);
	label(a, "attract.welcome.en", (struct ui_rect){en_x, ws->y, cw, ws->h}, welcome_en, WELCOME_SIDE_PX, true,
	      LANG_EN, THEME_BAND);
	if (kept.taglines) {
		label(a, "attract.tagline.ar", (struct ui_rect){ar_x, ts->y, cw, ts->h}, tagline_ar, TAGLINE_PX, false,
		      LANG_AR, THEME_MUTED);
		label(a, "attract.tagline.en", (struct ui_rect){en_x, ts->y, cw, ts->h}, tagline_en, TAGLINE_PX, false,
		      LANG_EN, THEME_MUTED);
	}
	if (kept.choose) {
		label(a, "attract.choose", (struct ui_rect){ar_x, cs->y, cw, cs->h}, a->choose_ar, CHOOSE_AR_PX, false,
		      LANG_AR, THEME_TEXT);
		label(a, "attract.choose.en", (struct ui_rect){en_x, cs->y, cw, cs->h}, a->choose_en, CHOOSE_EN_PX,
		      false, LANG_EN, THEME_TEXT);
	}
	lang_button(a, LANG_EN, (struct ui_rect){en_x, s[S_BUTTONS].y, cw, s[S_BUTTONS].h});
	lang_button(a, LANG_AR, (struct ui_rect){ar_x, s[S_BUTTONS].y, cw, s[S_BUTTONS].h});
	theme_device_notices(a->app, p, s[S_NOTICES].y, true);
}

static void build(struct app *app, struct ui_page *page)
{
	/* Bilingual page: nothing is mirrored, each text carries its own direction. */
	page->rtl = false;
	struct attract a = {.app = app, .page = page, .first = app_lang(app)};
	a.second = a.first == LANG_AR ? LANG_EN : LANG_AR;
	a.brand_ar = app_str_in(app, LANG_AR, "brand.name"), a.brand_en = app_str_in(app, LANG_EN, "brand.name");
	a.welcome[0] = app_str_in(app, a.first, "attract.welcome"), a.welcome[1] = app_str_in(app, a.second, "attract.welcome");
	a.tagline[0] = app_str_in(app, a.first, "attract.tagline"), a.tagline[1] = app_str_in(app, a.second, "attract.tagline");
	a.choose_ar = app_str_in(app, LANG_AR, "attract.choose"), a.choose_en = app_str_in(app, LANG_EN, "attract.choose");
	a.name_en = app_str_in(app, LANG_EN, "lang.name"), a.name_ar = app_str_in(app, LANG_AR, "lang.name");
	a.margin = theme_margin(page);
	a.notices_h = theme_notices_height(app, page, true);
	if (ui_page_landscape(page))
		build_landscape(&a);
	else
		build_portrait(&a);
}

static void on_tap(struct app *app, const char *widget_id)
{
	if (strcmp(widget_id, "attract.ar") == 0 || strcmp(widget_id, "attract.en") == 0) {
		app_set_lang(app, widget_id[8] == 'a' ? LANG_AR : LANG_EN);
		app_go(app, SCR_HOME);
	}
}

const struct scr_def scr_attract = {
	.id = "attract",
	.customer_session = false,
	.build = build,
	.on_tap = on_tap,
};
