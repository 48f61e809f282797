/*
 * attract: the idle screen, in both languages, where a customer picks Arabic or English.
 *
 * The page measures itself: every text box is as tall as its text, and the device notices take
 * the height their bands measure at the bottom. A column layout (kiosk/ui/flow.h) shares the
 * rest: spaces shrink first, then the language buttons (down to LANG_BUTTON_MIN); if even that
 * does not fit, the taglines give up their room, since the greeting and the buttons are what a
 * customer needs.
 */
#include "kiosk/app.h"
#include "kiosk/ui/check.h"
#include "kiosk/ui/flow.h"
#include "theme.h"

enum { LANG_BUTTON_MIN = 120, LANG_BUTTON_PREF = 220, BOTTOM_MARGIN = 30 };
_Static_assert((int)LANG_BUTTON_MIN >= (int)UI_TOUCH_MIN_PX, "a language button is a touch target");

enum slot {
	S_BRAND_TOP, S_BRAND_AR, S_BRAND_EN, S_BRAND_BOTTOM, S_SPACE_1, S_WELCOME_1, S_TAGLINE_1, S_SPACE_2,
	S_WELCOME_2, S_TAGLINE_2, S_FILL_1, S_CHOOSE_AR, S_CHOOSE_EN, S_SPACE_3, S_BUTTONS, S_FILL_2, S_NOTICES,
	S_COUNT
};

static enum text_dir dir_of(enum lang lang) { return lang == LANG_AR ? TEXT_DIR_RTL : TEXT_DIR_LTR; }

static struct ui_widget *label(struct ui_page *page, const char *id, const struct ui_flow_item *slot,
			       const char *text, int px, bool bold, enum lang lang, uint32_t fg)
{
	struct ui_widget *t = ui_page_add(page, id, UI_LABEL,
					  (struct ui_rect){THEME_MARGIN, slot->y, page->width - 2 * THEME_MARGIN, slot->h},
					  text);
	t->text_px = px, t->bold = bold, t->fg = fg, t->dir = dir_of(lang);
	return t;
}

static void build(struct app *app, struct ui_page *page)
{
	int w = page->width, inner = w - 2 * THEME_MARGIN;
	/* Bilingual page: nothing is mirrored, each text carries its own direction. */
	page->rtl = false;
	/* The start language's greeting comes first. */
	enum lang first = app_lang(app), second = first == LANG_AR ? LANG_EN : LANG_AR;
	const char *brand_ar = app_str_in(app, LANG_AR, "brand.name"), *brand_en = app_str_in(app, LANG_EN, "brand.name");
	const char *welcome[2] = {app_str_in(app, first, "attract.welcome"), app_str_in(app, second, "attract.welcome")};
	const char *tagline[2] = {app_str_in(app, first, "attract.tagline"), app_str_in(app, second, "attract.tagline")};
	const char *choose_ar = app_str_in(app, LANG_AR, "attract.choose");
	const char *choose_en = app_str_in(app, LANG_EN, "attract.choose");
	int welcome_px[2] = {96, 80};
	int bw = (w - 3 * THEME_MARGIN) / 2;
	const char *name_en = app_str_in(app, LANG_EN, "lang.name"), *name_ar = app_str_in(app, LANG_AR, "lang.name");
	int button_text = ui_page_text_height(page, name_en, 64, true, TEXT_DIR_LTR, bw);
	int ar_text = ui_page_text_height(page, name_ar, 72, true, TEXT_DIR_RTL, bw);
	button_text = ar_text > button_text ? ar_text : button_text;
	int notices_h = theme_notices_height(app, page, true);

	struct ui_flow_item s[S_COUNT] = {
		[S_BRAND_TOP] = {16, 30},
		[S_BRAND_AR] = {ui_page_text_height(page, brand_ar, 76, true, TEXT_DIR_RTL, w), 0},
		[S_BRAND_EN] = {ui_page_text_height(page, brand_en, 60, true, TEXT_DIR_LTR, w), 0},
		[S_BRAND_BOTTOM] = {16, 40},
		[S_SPACE_1] = {16, 120},
		[S_WELCOME_1] = {ui_page_text_height(page, welcome[0], welcome_px[0], true, dir_of(first), inner), 0},
		[S_TAGLINE_1] = {ui_page_text_height(page, tagline[0], 44, false, dir_of(first), inner), 0},
		[S_SPACE_2] = {16, 40},
		[S_WELCOME_2] = {ui_page_text_height(page, welcome[1], welcome_px[1], true, dir_of(second), inner), 0},
		[S_TAGLINE_2] = {ui_page_text_height(page, tagline[1], 44, false, dir_of(second), inner), 0},
		[S_FILL_1] = {16, UI_FLOW_FILL},
		[S_CHOOSE_AR] = {ui_page_text_height(page, choose_ar, 44, false, TEXT_DIR_RTL, inner), 0},
		[S_CHOOSE_EN] = {ui_page_text_height(page, choose_en, 40, false, TEXT_DIR_LTR, inner), 0},
		[S_SPACE_3] = {16, 40},
		/* A button no smaller than a finger, nor than its label. */
		[S_BUTTONS] = {button_text > LANG_BUTTON_MIN ? button_text : LANG_BUTTON_MIN, LANG_BUTTON_PREF},
		[S_FILL_2] = {notices_h ? 16 : 0, UI_FLOW_FILL},
		[S_NOTICES] = {notices_h, 0},
	};
	for (int i = 0; i < S_COUNT; i++)
		if (s[i].pref != UI_FLOW_FILL && s[i].pref < s[i].min)
			s[i].pref = s[i].min;
	bool taglines = true;
	if (ui_flow_column(s, S_COUNT, 0, page->height - BOTTOM_MARGIN, 0) != 0) {
		s[S_TAGLINE_1].min = s[S_TAGLINE_1].pref = s[S_TAGLINE_2].min = s[S_TAGLINE_2].pref = 0;
		taglines = false;
		ui_flow_column(s, S_COUNT, 0, page->height - BOTTOM_MARGIN, 0);
	}

	struct ui_widget *band = ui_page_add(page, "attract.brand", UI_PANEL,
					     (struct ui_rect){0, 0, w, s[S_BRAND_BOTTOM].y + s[S_BRAND_BOTTOM].h}, NULL);
	band->bg = THEME_BAND;
	struct ui_widget *t = ui_page_add(page, "attract.brand.ar", UI_LABEL,
					  (struct ui_rect){0, s[S_BRAND_AR].y, w, s[S_BRAND_AR].h}, brand_ar);
	t->fg = THEME_ON_BAND, t->text_px = 76, t->bold = true, t->dir = TEXT_DIR_RTL;
	t = ui_page_add(page, "attract.brand.en", UI_LABEL, (struct ui_rect){0, s[S_BRAND_EN].y, w, s[S_BRAND_EN].h},
			brand_en);
	t->fg = THEME_ON_BAND, t->text_px = 60, t->bold = true, t->dir = TEXT_DIR_LTR;

	static const enum slot welcome_slot[2] = {S_WELCOME_1, S_WELCOME_2}, tagline_slot[2] = {S_TAGLINE_1, S_TAGLINE_2};
	for (int i = 0; i < 2; i++) {
		enum lang lang = i == 0 ? first : second;
		char id[48];
		snprintf(id, sizeof(id), "attract.welcome.%s", lang_code(lang));
		label(page, id, &s[welcome_slot[i]], welcome[i], welcome_px[i], true, lang, THEME_BAND);
		if (!taglines)
			continue;
		snprintf(id, sizeof(id), "attract.tagline.%s", lang_code(lang));
		label(page, id, &s[tagline_slot[i]], tagline[i], 44, false, lang, THEME_MUTED);
	}
	label(page, "attract.choose", &s[S_CHOOSE_AR], choose_ar, 44, false, LANG_AR, THEME_TEXT);
	label(page, "attract.choose.en", &s[S_CHOOSE_EN], choose_en, 40, false, LANG_EN, THEME_TEXT);

	/* Arabic on the right, English on the left, as readers of each expect. */
	struct ui_rect en = {THEME_MARGIN, s[S_BUTTONS].y, bw, s[S_BUTTONS].h};
	struct ui_widget *b = theme_button(page, "attract.en", en, name_en);
	b->text_px = 64, b->dir = TEXT_DIR_LTR;
	b = theme_button(page, "attract.ar", (struct ui_rect){2 * THEME_MARGIN + bw, s[S_BUTTONS].y, bw, s[S_BUTTONS].h},
			 name_ar);
	b->text_px = 72, b->dir = TEXT_DIR_RTL;

	theme_device_notices(app, page, s[S_NOTICES].y, true);
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
