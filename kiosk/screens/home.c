/*
 * home: the main menu of services, in the session language.
 *
 * The page measures itself: the prompt's box is as tall as its text, each tile row as tall as
 * its tallest tile's title and subtitle (and never under TILE_MIN), the device notices as tall
 * as their bands, above the cancel button. A column layout (kiosk/ui/flow.h) gives the tiles the
 * room that is left, up to TILE_PREF; the notices never cover a tile.
 */
#include "kiosk/app.h"
#include "kiosk/ui/check.h"
#include "kiosk/ui/flow.h"
#include "theme.h"

struct tile {
	const char *id, *title_key, *sub_key;
	enum app_service service;
	enum scr_id target;
};

/* Reading order: the first tile is top-start (top-right in Arabic). */
static const struct tile tiles[] = {
	{"home.topup", "home.topup", "home.topup.sub", APP_SERVICE_TOPUP, SCR_TOPUP_CARD},
	{"home.buy-card", "home.buy_card", "home.buy_card.sub", APP_SERVICE_BUY_CARD, SCR_BUY_CARD},
	{"home.fees", "home.fees", "home.fees.sub", APP_SERVICE_FEES, SCR_FEES},
	{"home.balance", "home.balance", "home.balance.sub", APP_SERVICE_BALANCE, SCR_BALANCE},
};
#define N_TILES (sizeof(tiles) / sizeof(tiles[0]))

enum {
	TILE_PX = 52, TILE_PAD = 24, TILE_MIN = 160, TILE_PREF = 520, TILE_GAP = 40,
	LANG_W = 300, LANG_H = 100, CANCEL_MIN = 100, CANCEL_PREF = 130, PROMPT_PX = 48,
};
_Static_assert((int)TILE_MIN >= (int)UI_TOUCH_MIN_PX && (int)LANG_H >= (int)UI_TOUCH_MIN_PX &&
		       (int)CANCEL_MIN >= (int)UI_TOUCH_MIN_PX,
	       "home's touch targets");

enum slot { S_HEADER, S_LANG, S_PROMPT, S_ROW_1, S_ROW_2, S_FILL, S_NOTICES, S_CANCEL, S_COUNT };

static const char *tile_sub(struct app *app, size_t i, bool available)
{
	return app_str(app, available ? tiles[i].sub_key : "home.unavailable");
}

static void build(struct app *app, struct ui_page *page)
{
	int w = page->width, inner = w - 2 * THEME_MARGIN;
	int tw = (inner - TILE_GAP) / 2;
	enum text_dir dir = page->rtl ? TEXT_DIR_RTL : TEXT_DIR_LTR;
	bool available[N_TILES];
	int row_min[2] = {TILE_MIN, TILE_MIN};
	for (size_t i = 0; i < N_TILES; i++) {
		available[i] = app_service_available(app, tiles[i].service);
		int h = ui_page_text_height(page, app_str(app, tiles[i].title_key), TILE_PX, true, dir, tw) +
			UI_SUBTEXT_GAP(TILE_PX) +
			ui_page_text_height(page, tile_sub(app, i, available[i]), UI_SUBTEXT_PX(TILE_PX), false, dir, tw) +
			2 * TILE_PAD;
		if (h > row_min[i / 2])
			row_min[i / 2] = h;
	}
	int notices_h = theme_notices_height(app, page, false);
	int header_h = theme_header_height(page, app_str(app, "home.title"));
	int cancel_text = ui_page_text_height(page, app_str(app, "common.cancel"), THEME_BUTTON_SECONDARY_PX, true, dir,
						inner);
	int prompt_h = ui_page_text_height(page, app_str(app, "home.prompt"), PROMPT_PX, false, dir, inner);
	enum lang other = app_lang(app) == LANG_AR ? LANG_EN : LANG_AR;
	enum text_dir other_dir = other == LANG_AR ? TEXT_DIR_RTL : TEXT_DIR_LTR;
	const char *other_name = app_str_in(app, other, "lang.name");
	int lang_h = ui_page_text_height(page, other_name, THEME_BUTTON_SECONDARY_PX, true, other_dir, LANG_W);
	lang_h = lang_h > LANG_H ? lang_h : LANG_H;
	struct ui_flow_item s[S_COUNT] = {
		[S_HEADER] = {header_h, header_h},
		[S_LANG] = {lang_h, lang_h},
		[S_PROMPT] = {prompt_h, prompt_h},
		[S_ROW_1] = {row_min[0], TILE_PREF > row_min[0] ? TILE_PREF : row_min[0]},
		[S_ROW_2] = {row_min[1], TILE_PREF > row_min[1] ? TILE_PREF : row_min[1]},
		[S_FILL] = {0, UI_FLOW_FILL},
		[S_NOTICES] = {notices_h, notices_h},
		[S_CANCEL] = {cancel_text > CANCEL_MIN ? cancel_text : CANCEL_MIN,
			      CANCEL_PREF > cancel_text ? CANCEL_PREF : cancel_text},
	};
	ui_flow_column(s, S_COUNT, 0, page->height - THEME_MARGIN, 30);

	theme_header(page, "home.title", app_str(app, "home.title"));
	/* The other language, at the end of the header (top-left in Arabic). */
	struct ui_widget *lang = theme_button_secondary(page, "home.lang",
							(struct ui_rect){w - LANG_W - 30, s[S_LANG].y, LANG_W, s[S_LANG].h},
							other_name);
	lang->dir = other_dir;

	struct ui_widget *prompt = ui_page_add(page, "home.prompt", UI_LABEL,
					       (struct ui_rect){THEME_MARGIN, s[S_PROMPT].y, inner, s[S_PROMPT].h},
					       app_str(app, "home.prompt"));
	prompt->text_px = PROMPT_PX, prompt->fg = THEME_TEXT, prompt->align = TEXT_ALIGN_START;

	for (size_t i = 0; i < N_TILES; i++) {
		int col = (int)(i % 2), row = (int)(i / 2);
		const struct ui_flow_item *r = &s[row ? S_ROW_2 : S_ROW_1];
		struct ui_widget *t = ui_page_add(page, tiles[i].id, UI_TILE,
						  (struct ui_rect){THEME_MARGIN + col * (tw + TILE_GAP), r->y, tw, r->h},
						  app_str(app, tiles[i].title_key));
		t->subtext = xstrdup(tile_sub(app, i, available[i]));
		t->bg = THEME_TILE;
		t->border = THEME_TILE_BORDER;
		t->fg = THEME_BAND;
		t->text_px = TILE_PX;
		t->bold = true;
		t->enabled = available[i];
	}

	theme_device_notices(app, page, s[S_NOTICES].y, false);
	theme_button_secondary(page, "home.cancel", (struct ui_rect){THEME_MARGIN, s[S_CANCEL].y, inner, s[S_CANCEL].h},
			       app_str(app, "common.cancel"));
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
	for (size_t i = 0; i < N_TILES; i++)
		if (strcmp(widget_id, tiles[i].id) == 0)
			app_go(app, tiles[i].target);
}

const struct scr_def scr_home = {
	.id = "home",
	.customer_session = true,
	.build = build,
	.on_tap = on_tap,
};
