/*
 * specimen: a developer's screen (never on a customer path) showing the text engine's tricky
 * cases in the session language, for screenshots and by-eye review (issue 4, "A specimen
 * scenario"). Scenarios reach it with `goto specimen`.
 */
#include "kiosk/app.h"
#include "kiosk/ui/check.h"
#include "theme.h"

/*
 * Row heights fit the engine's line box (1.12 em above the baseline, 0.48 em below, each
 * rounded up): 43 px at 26 px, 69 at 42, 56 at 34, 136 at 84, and grow to what the text
 * measures where a narrower screen wraps it (the page check holds every row to its text).
 */
enum { CAPTION_PX = 26, CAPTION_H = 44, SAMPLE_PX = 42, SAMPLE_H = 70, GAP = 4 };

/* Sizes are design px, scaled to the screen like every screen's (kiosk/ui/grid.h). */
struct layout_cursor {
	struct app *app;
	struct ui_page *page;
	int y;
	int x, w; /* the column being filled (reading order), scaled */
	int zoom; /* percent of the screen's scale (build) */
};

static int scaled(const struct layout_cursor *c, int v) { return ui_px(c->page, v * c->zoom / 100); }

/* h, or what text takes at px in a box w wide if that is more (a narrower screen wraps it). */
static int fit(const struct layout_cursor *c, const char *text, int px, bool bold, int w, int h)
{
	int need = ui_page_text_height(c->page, text, px, bold, c->page->rtl ? TEXT_DIR_RTL : TEXT_DIR_LTR, w);
	return need > h ? need : h;
}

static void caption(struct layout_cursor *c, const char *id, const char *key)
{
	const char *text = app_str(c->app, key);
	int px = scaled(c, CAPTION_PX), w = c->w;
	int h = fit(c, text, px, false, w, scaled(c, CAPTION_H));
	struct ui_widget *cap = ui_page_add(c->page, id, UI_LABEL, (struct ui_rect){c->x, c->y, w, h}, text);
	cap->text_px = px, cap->fg = THEME_MUTED, cap->align = TEXT_ALIGN_START;
	c->y += h;
}

/* A sample over [x, x + w) of the row (in reading order: x 0 is the start side); returns its height. */
static int sample_at(struct layout_cursor *c, const char *id, const char *text, int x, int w, int px, int h,
		     bool bold)
{
	px = scaled(c, px);
	h = fit(c, text, px, bold, w, scaled(c, h));
	struct ui_widget *s = ui_page_add(c->page, id, UI_LABEL, (struct ui_rect){x, c->y, w, h}, text);
	s->text_px = px, s->fg = bold ? THEME_BAND : THEME_TEXT, s->align = TEXT_ALIGN_START, s->bold = bold;
	return h;
}

static void sample(struct layout_cursor *c, const char *id, const char *key)
{
	c->y += sample_at(c, id, app_str(c->app, key), c->x, c->w, SAMPLE_PX, SAMPLE_H, false) + scaled(c, GAP);
}

enum { SECTIONS = 9, PARA_PX = 34, PARA_H = 5 * 56, LARGE_PX = 84, LARGE_H = 140, BETWEEN = 40, BAR_H = 100 };

/* Section i of the specimen (a caption and its samples) at the cursor; the cursor moves below it. */
static void section(struct layout_cursor *c, int i)
{
	struct app *app = c->app;
	int between = scaled(c, BETWEEN);
	switch (i) {
	case 0:
		caption(c, "specimen.cap.lam_alef", "specimen.cap.lam_alef");
		sample(c, "specimen.lam_alef", "specimen.lam_alef");
		break;
	case 1:
		caption(c, "specimen.cap.harakat", "specimen.cap.harakat");
		sample(c, "specimen.harakat", "specimen.harakat");
		break;
	case 2:
		caption(c, "specimen.cap.tatweel", "specimen.cap.tatweel");
		sample(c, "specimen.tatweel", "specimen.tatweel");
		break;
	case 3: {
		/* Two amounts side by side, so each sits at the start of its own box. */
		caption(c, "specimen.cap.amounts", "specimen.cap.amounts");
		int half = (c->w - between) / 2;
		int h1 = sample_at(c, "specimen.amount.local", app_str(app, "specimen.amount.local"), c->x, half,
				   SAMPLE_PX, SAMPLE_H, false);
		int h2 = sample_at(c, "specimen.amount.code", app_str(app, "specimen.amount.code"), c->x + half + between,
				   half, SAMPLE_PX, SAMPLE_H, false);
		c->y += (h1 > h2 ? h1 : h2) + scaled(c, GAP);
		sample(c, "specimen.amount.total", "specimen.amount.total");
		break;
	}
	case 4:
		caption(c, "specimen.cap.brackets", "specimen.cap.brackets");
		sample(c, "specimen.brackets", "specimen.brackets");
		break;
	case 5:
		caption(c, "specimen.cap.numbers", "specimen.cap.numbers");
		sample(c, "specimen.phone", "specimen.phone");
		sample(c, "specimen.reference", "specimen.reference");
		break;
	case 6: {
		/* Eastern Arabic digits are a formatting choice (issue 4), so the screen converts here. */
		caption(c, "specimen.cap.digits", "specimen.cap.digits");
		char eastern[256];
		text_digits_apply(TEXT_DIGITS_EASTERN_ARABIC, app_str(app, "specimen.digits"), eastern, sizeof(eastern));
		c->y += sample_at(c, "specimen.digits", eastern, c->x, c->w, SAMPLE_PX, SAMPLE_H, false) + scaled(c, GAP);
		break;
	}
	case 7:
		/* Wrapped by the engine at the box width: four lines in Arabic, five in English (1080 wide). */
		caption(c, "specimen.cap.paragraph", "specimen.cap.paragraph");
		c->y += sample_at(c, "specimen.paragraph", app_str(app, "specimen.paragraph"), c->x, c->w, PARA_PX, PARA_H,
				  false) +
			scaled(c, GAP);
		break;
	default:
		/* Large text mode: twice the sample size, one line in both languages (857 px in English). */
		caption(c, "specimen.cap.large", "specimen.cap.large");
		c->y += sample_at(c, "specimen.large", app_str(app, "specimen.large"), c->x, c->w, LARGE_PX, LARGE_H, true);
		break;
	}
}

/*
 * The sections flow into cols columns: a section that would run into the bottom bar moves to the
 * next column. Text and boxes at zoom percent of the screen's scale. Returns whether all fitted.
 */
static bool build_columns(struct app *app, struct ui_page *page, int cols, int zoom)
{
	int inner = theme_inner(page), m = theme_margin(page), between = ui_px(page, BETWEEN);
	int bar_h = ui_px(page, BAR_H) > UI_TOUCH_MIN_PX ? ui_px(page, BAR_H) : UI_TOUCH_MIN_PX;
	int bottom = page->height - m / 2, limit = bottom - bar_h - ui_px(page, 20);
	int col_w = (inner - (cols - 1) * between) / cols;
	struct layout_cursor c = {app, page, 0, m, col_w, zoom};
	int top = theme_header(page, "specimen.title", app_str(app, "specimen.title")) + ui_px(page, 20);
	c.y = top;
	bool fitted = true;
	for (int i = 0, col = 0; i < SECTIONS; i++) {
		size_t n = page->n;
		int y = c.y;
		section(&c, i);
		if (c.y <= limit)
			continue;
		if (y == top || col == cols - 1) {
			fitted = false; /* the page check reports it */
			continue;
		}
		ui_page_truncate(page, n);
		col++;
		c.x = m + col * (col_w + between), c.y = top;
		section(&c, i);
		fitted &= c.y <= limit;
	}

	/* The other language, as on home, so one scenario shows both: a bottom bar (grid.h). */
	struct ui_rect bar[2];
	ui_bar((struct ui_rect){m, bottom - bar_h, inner, bar_h}, 2, between, 0, bar);
	enum lang other = app_lang(app) == LANG_AR ? LANG_EN : LANG_AR;
	struct ui_widget *lang = theme_button_secondary(page, "specimen.lang", bar[0], app_str_in(app, other, "lang.name"));
	lang->dir = other == LANG_AR ? TEXT_DIR_RTL : TEXT_DIR_LTR;
	theme_button_secondary(page, "specimen.back", bar[1], app_str(app, "common.back"));
	return fitted;
}

/*
 * Fewer columns first, then smaller text: a landscape screen has half the height for the same
 * cases, and the large sample wraps in a narrow column. The last try is left for the page check.
 */
static void build(struct app *app, struct ui_page *page)
{
	static const int zooms[] = {100, 85, 70};
	for (size_t z = 0; z < sizeof(zooms) / sizeof(zooms[0]); z++)
		for (int cols = 1; cols <= 3; cols++) {
			if (build_columns(app, page, cols, zooms[z]))
				return;
			ui_page_truncate(page, 0);
		}
	build_columns(app, page, 3, zooms[sizeof(zooms) / sizeof(zooms[0]) - 1]);
}

static void on_tap(struct app *app, const char *widget_id)
{
	if (strcmp(widget_id, "specimen.lang") == 0)
		app_set_lang(app, app_lang(app) == LANG_AR ? LANG_EN : LANG_AR);
	else if (strcmp(widget_id, "specimen.back") == 0)
		app_go(app, SCR_ATTRACT);
}

const struct scr_def scr_specimen = {
	.id = "specimen",
	.customer_session = false,
	.build = build,
	.on_tap = on_tap,
};
