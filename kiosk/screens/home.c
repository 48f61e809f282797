/* home: the main menu of services, in the session language. */
#include "kiosk/app.h"
#include "theme.h"

struct tile {
	const char *id, *title_key, *sub_key;
	enum app_service service;
	enum scr_id target;
};

/* Reading order: the first tile is top-start (top-right in Arabic). */
static const struct tile tiles[] = {
	{"home.topup", "home.topup", "home.topup.sub", APP_SERVICE_TOPUP, SCR_TOPUP},
	{"home.buy-card", "home.buy_card", "home.buy_card.sub", APP_SERVICE_BUY_CARD, SCR_BUY_CARD},
	{"home.fees", "home.fees", "home.fees.sub", APP_SERVICE_FEES, SCR_FEES},
	{"home.balance", "home.balance", "home.balance.sub", APP_SERVICE_BALANCE, SCR_BALANCE},
};

static void build(struct app *app, struct ui_page *page)
{
	int w = page->width;
	theme_header(page, "home.title", app_str(app, "home.title"));

	/* The other language, at the end of the header (top-left in Arabic). */
	enum lang other = app_lang(app) == LANG_AR ? LANG_EN : LANG_AR;
	struct ui_widget *lang = theme_button_secondary(page, "home.lang",
							(struct ui_rect){w - 300 - 30, THEME_HEADER_H + 30, 300, 100},
							app_str_in(app, other, "lang.name"));
	lang->dir = other == LANG_AR ? TEXT_DIR_RTL : TEXT_DIR_LTR;

	struct ui_widget *prompt = ui_page_add(page, "home.prompt", UI_LABEL,
					       (struct ui_rect){THEME_MARGIN, THEME_HEADER_H + 150, w - 2 * THEME_MARGIN, 100},
					       app_str(app, "home.prompt"));
	prompt->text_px = 48, prompt->fg = THEME_TEXT, prompt->align = TEXT_ALIGN_START;

	int gap = 40, tw = (w - 2 * THEME_MARGIN - gap) / 2, th = 520, top = THEME_HEADER_H + 290;
	for (size_t i = 0; i < sizeof(tiles) / sizeof(tiles[0]); i++) {
		int col = (int)(i % 2), row = (int)(i / 2);
		struct ui_rect r = {THEME_MARGIN + col * (tw + gap), top + row * (th + gap), tw, th};
		struct ui_widget *t = ui_page_add(page, tiles[i].id, UI_TILE, r, app_str(app, tiles[i].title_key));
		bool available = app_service_available(app, tiles[i].service);
		t->subtext = xstrdup(app_str(app, available ? tiles[i].sub_key : "home.unavailable"));
		t->bg = THEME_TILE;
		t->border = THEME_TILE_BORDER;
		t->fg = THEME_BAND;
		t->text_px = 52;
		t->bold = true;
		t->enabled = available;
	}

	int bottom = page->height - THEME_MARGIN;
	theme_button_secondary(page, "home.cancel", (struct ui_rect){THEME_MARGIN, bottom - 130, w - 2 * THEME_MARGIN, 130},
			       app_str(app, "common.cancel"));
	theme_device_notices(app, page, bottom - 160, false);
}

static void on_tap(struct app *app, const char *widget_id)
{
	if (strcmp(widget_id, "home.lang") == 0) {
		app_set_lang(app, app_lang(app) == LANG_AR ? LANG_EN : LANG_AR);
		return;
	}
	if (strcmp(widget_id, "home.cancel") == 0) {
		app_go(app, SCR_ATTRACT);
		return;
	}
	for (size_t i = 0; i < sizeof(tiles) / sizeof(tiles[0]); i++)
		if (strcmp(widget_id, tiles[i].id) == 0)
			app_go(app, tiles[i].target);
}

const struct scr_def scr_home = {
	.id = "home",
	.customer_session = true,
	.build = build,
	.on_tap = on_tap,
};
