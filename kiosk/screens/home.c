/*
 * home: the main menu of services, in the session language.
 *
 * The page measures itself and derives from the screen's size (kiosk/ui/grid.h): the header as
 * tall as its title, the prompt as tall as its text, the device notices as tall as their bands,
 * and a bar at the bottom with cancel at the start and the other language at the end. The
 * service tiles get the room between, in a grid whose columns follow that room's shape
 * (ui_grid_columns: two columns of tall tiles in portrait, one row in landscape), each row as
 * tall as its tallest tile's title and subtitle and never under TILE_MIN; the notices never
 * cover a tile. If the tiles do not fit even then, the bar gives up its spare height, the tile
 * titles step down in size, and the prompt gives up its room; after that the page check reports
 * the page as it is.
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

/* Design px (grid.h), but for the touch minimums, which are a finger at any scale. */
enum {
	TILE_PX = 52, TILE_PAD = 24, TILE_MIN = 160, TILE_PREF = 520, TILE_GAP = 40, BAR_BUTTON_MAX_W = 640,
	PROMPT_PX = 48, TILE_ASPECT = 1000, /* width / height of a tile to aim for, 1/1000: square */
};
_Static_assert((int)TILE_MIN >= (int)UI_TOUCH_MIN_PX, "home's touch targets");

enum slot { S_HEADER, S_PROMPT, S_TILES, S_NOTICES, S_BAR, S_COUNT };

struct home {
	struct app *app;
	struct ui_page *page;
	bool available[N_TILES];
	enum text_dir dir;
	int tile_px; /* design px of the tiles' titles, stepped down when they do not fit */
};

/* The tiles' title sizes to try, largest first (design px): smaller text before a failed page. */
static const int tile_px_steps[] = {TILE_PX, 46, 40, 34, 30};

static const char *tile_sub(struct app *app, size_t i, bool available)
{
	return app_str(app, available ? tiles[i].sub_key : "home.unavailable");
}

/* ui_cell_min_h: tile i's title and subtitle at width w, padded; -1 if a word is wider than w. */
static int tile_min_h(void *ctx, int i, int w)
{
	struct home *h = ctx;
	struct ui_page *p = h->page;
	int px = ui_text_px(p, h->tile_px);
	struct ui_text_extent title, sub;
	if (ui_page_text_extent(p, app_str(h->app, tiles[i].title_key), px, true, h->dir, w, &title) != 0 ||
	    ui_page_text_extent(p, tile_sub(h->app, (size_t)i, h->available[i]), UI_SUBTEXT_PX(px), false, h->dir, w,
				&sub) != 0)
		return -1;
	if (title.word_cuts > 0 || sub.word_cuts > 0 || title.width > w - 2 * UI_TEXT_PAD || sub.width > w - 2 * UI_TEXT_PAD)
		return -1;
	int need = title.height + UI_SUBTEXT_GAP(px) + sub.height + 2 * ui_px(p, TILE_PAD);
	int least = ui_px(p, TILE_MIN) > UI_TOUCH_MIN_PX ? ui_px(p, TILE_MIN) : UI_TOUCH_MIN_PX;
	return need > least ? need : least;
}

static void build(struct app *app, struct ui_page *page)
{
	struct home h = {.app = app, .page = page, .dir = page->rtl ? TEXT_DIR_RTL : TEXT_DIR_LTR};
	int m = theme_margin(page), inner = theme_inner(page), gap = ui_px(page, THEME_GAP);
	int tile_gap = ui_px(page, TILE_GAP);
	for (size_t i = 0; i < N_TILES; i++)
		h.available[i] = app_service_available(app, tiles[i].service);

	/* The bottom bar: cancel at the start, the other language at the end, in its own script. */
	enum lang other = app_lang(app) == LANG_AR ? LANG_EN : LANG_AR;
	enum text_dir other_dir = other == LANG_AR ? TEXT_DIR_RTL : TEXT_DIR_LTR;
	const char *other_name = app_str_in(app, other, "lang.name"), *cancel = app_str(app, "common.cancel");
	struct ui_rect bar[2];
	ui_bar((struct ui_rect){m, 0, inner, 0}, 2, gap, ui_px(page, BAR_BUTTON_MAX_W), bar);
	int bar_pref, bar_need = theme_bar_height(page, (const char *const[]){cancel}, 1, bar[0].w, &bar_pref);
	int lang_h = ui_page_text_height(page, other_name, theme_button_secondary_px(page), true, other_dir, bar[1].w);
	bar_need = lang_h > bar_need ? lang_h : bar_need;
	bar_pref = bar_need > bar_pref ? bar_need : bar_pref;

	int header_h = theme_header_height(page, app_str(app, "home.title"));
	int prompt_h = ui_page_text_height(page, app_str(app, "home.prompt"), ui_text_px(page, PROMPT_PX), false, h.dir, inner);
	int notices_h = theme_notices_height(app, page, false);
	struct ui_flow_item s[S_COUNT] = {
		[S_HEADER] = {header_h, header_h},
		[S_PROMPT] = {prompt_h, prompt_h},
		[S_TILES] = {0, UI_FLOW_FILL},
		[S_NOTICES] = {notices_h, notices_h},
		[S_BAR] = {bar_need, bar_pref},
	};
	/* The bar keeps its preferred height only if the tiles can spare it: lay out at the minimum first. */
	/*
	 * Giving up room in this order until the tiles fit: the bar's spare height, the tiles' title
	 * size (a step at a time), the prompt (the tiles matter more than the question above them).
	 */
	int rows_h[N_TILES] = {0}, cols = 0;
	bool prompt = true;
	for (int attempt = 0; attempt < 2 && !cols; attempt++) {
		if (attempt == 1)
			s[S_PROMPT].min = s[S_PROMPT].pref = 0, prompt = false;
		for (size_t step = 0; step < sizeof(tile_px_steps) / sizeof(tile_px_steps[0]) && !cols; step++) {
			h.tile_px = tile_px_steps[step];
			for (int bar_try = 0; bar_try < 2 && !cols; bar_try++) {
				s[S_BAR].min = s[S_BAR].pref = bar_try == 0 ? bar_pref : bar_need;
				ui_flow_column(s, S_COUNT, 0, page->height - m, gap);
				struct ui_rect area = {m, s[S_TILES].y, inner, s[S_TILES].h};
				cols = ui_grid_columns(N_TILES, area, tile_gap, ui_px(page, TILE_PREF), TILE_ASPECT,
						       tile_min_h, &h, rows_h);
			}
		}
	}
	if (!cols) {
		/* Nothing fits: two columns at their minimums, which the page check then reports. */
		cols = 2;
		int cw = (inner - tile_gap) / 2;
		for (size_t i = 0; i < N_TILES; i++) {
			int th = tile_min_h(&h, (int)i, cw);
			th = th < 0 ? ui_px(page, TILE_MIN) : th;
			rows_h[i / 2] = th > rows_h[i / 2] ? th : rows_h[i / 2];
		}
	}

	theme_header(page, "home.title", app_str(app, "home.title"));
	if (prompt) {
		struct ui_widget *pw = ui_page_add(page, "home.prompt", UI_LABEL,
						   (struct ui_rect){m, s[S_PROMPT].y, inner, s[S_PROMPT].h},
						   app_str(app, "home.prompt"));
		pw->text_px = ui_text_px(page, PROMPT_PX), pw->fg = THEME_TEXT, pw->align = TEXT_ALIGN_START;
	}

	int cw = (inner - (cols - 1) * tile_gap) / cols, y = s[S_TILES].y;
	for (size_t i = 0; i < N_TILES; i++) {
		int col = (int)i % cols, row = (int)i / cols;
		if (i && col == 0)
			y += rows_h[row - 1] + tile_gap;
		struct ui_widget *t = ui_page_add(page, tiles[i].id, UI_TILE,
						  (struct ui_rect){m + col * (cw + tile_gap), y, cw, rows_h[row]},
						  app_str(app, tiles[i].title_key));
		t->subtext = xstrdup(tile_sub(app, i, h.available[i]));
		t->bg = THEME_TILE;
		t->border = THEME_TILE_BORDER;
		t->fg = THEME_BAND;
		t->text_px = ui_text_px(page, h.tile_px);
		t->bold = true;
		t->enabled = h.available[i];
	}

	theme_device_notices(app, page, s[S_NOTICES].y, false);
	ui_bar((struct ui_rect){m, s[S_BAR].y, inner, s[S_BAR].h}, 2, gap, ui_px(page, BAR_BUTTON_MAX_W), bar);
	theme_button_secondary(page, "home.cancel", bar[0], cancel);
	struct ui_widget *lang = theme_button_secondary(page, "home.lang", bar[1], other_name);
	lang->dir = other_dir;
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
