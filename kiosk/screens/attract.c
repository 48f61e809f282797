/* attract: the idle screen, in both languages, where a customer picks Arabic or English. */
#include "kiosk/app.h"
#include "theme.h"

static void build(struct app *app, struct ui_page *page)
{
	int w = page->width;
	/* Bilingual page: nothing is mirrored, each text carries its own direction. */
	page->rtl = false;
	struct ui_widget *band = ui_page_add(page, "attract.brand", UI_PANEL,
					     (struct ui_rect){0, 0, w, THEME_HEADER_H + 80}, NULL);
	band->bg = THEME_BAND;
	struct ui_widget *t = ui_page_add(page, "attract.brand.ar", UI_LABEL, (struct ui_rect){0, 30, w, 120},
					  app_str_in(app, LANG_AR, "brand.name"));
	t->fg = THEME_ON_BAND, t->text_px = 76, t->bold = true, t->dir = TEXT_DIR_RTL;
	t = ui_page_add(page, "attract.brand.en", UI_LABEL, (struct ui_rect){0, 150, w, 100},
			app_str_in(app, LANG_EN, "brand.name"));
	t->fg = THEME_ON_BAND, t->text_px = 60, t->bold = true, t->dir = TEXT_DIR_LTR;

	/* The start language's greeting comes first. */
	enum lang first = app_lang(app), second = first == LANG_AR ? LANG_EN : LANG_AR;
	enum lang order[2] = {first, second};
	int y = 420;
	for (int i = 0; i < 2; i++) {
		enum lang lang = order[i];
		enum text_dir dir = lang == LANG_AR ? TEXT_DIR_RTL : TEXT_DIR_LTR;
		char id[48];
		snprintf(id, sizeof(id), "attract.welcome.%s", lang_code(lang));
		t = ui_page_add(page, id, UI_LABEL, (struct ui_rect){THEME_MARGIN, y, w - 2 * THEME_MARGIN, 130},
				app_str_in(app, lang, "attract.welcome"));
		t->text_px = i == 0 ? 96 : 80, t->bold = true, t->fg = THEME_BAND, t->dir = dir;
		snprintf(id, sizeof(id), "attract.tagline.%s", lang_code(lang));
		t = ui_page_add(page, id, UI_LABEL, (struct ui_rect){THEME_MARGIN, y + 140, w - 2 * THEME_MARGIN, 150},
				app_str_in(app, lang, "attract.tagline"));
		t->text_px = 44, t->fg = THEME_MUTED, t->dir = dir;
		y += 330;
	}

	t = ui_page_add(page, "attract.choose", UI_LABEL, (struct ui_rect){THEME_MARGIN, 1110, w - 2 * THEME_MARGIN, 90},
			app_str_in(app, LANG_AR, "attract.choose"));
	t->text_px = 44, t->fg = THEME_TEXT, t->dir = TEXT_DIR_RTL;
	t = ui_page_add(page, "attract.choose.en", UI_LABEL, (struct ui_rect){THEME_MARGIN, 1190, w - 2 * THEME_MARGIN, 80},
			app_str_in(app, LANG_EN, "attract.choose"));
	t->text_px = 40, t->fg = THEME_TEXT, t->dir = TEXT_DIR_LTR;

	/* Arabic on the right, English on the left, as readers of each expect. */
	int bw = (w - 3 * THEME_MARGIN) / 2;
	struct ui_widget *b = theme_button(page, "attract.en", (struct ui_rect){THEME_MARGIN, 1320, bw, 220},
					   app_str_in(app, LANG_EN, "lang.name"));
	b->text_px = 64, b->dir = TEXT_DIR_LTR;
	b = theme_button(page, "attract.ar", (struct ui_rect){2 * THEME_MARGIN + bw, 1320, bw, 220},
			 app_str_in(app, LANG_AR, "lang.name"));
	b->text_px = 72, b->dir = TEXT_DIR_RTL;

	theme_device_notices(app, page, page->height - 40, true);
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
