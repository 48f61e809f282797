/*
 * specimen: a developer's screen (never on a customer path) showing the text engine's tricky
 * cases in the session language, for screenshots and by-eye review (issue 4, "A specimen
 * scenario"). Scenarios reach it with `goto specimen`.
 */
#include "kiosk/app.h"
#include "theme.h"

/*
 * Row heights fit the engine's line box (1.12 em above the baseline, 0.48 em below, each
 * rounded up): 43 px at 26 px, 69 at 42, 56 at 34, 136 at 84, and grow to what the text
 * measures where a narrower screen wraps it (the page check holds every row to its text).
 */
enum { CAPTION_PX = 26, CAPTION_H = 44, SAMPLE_PX = 42, SAMPLE_H = 70, GAP = 4 };

/* The screen is designed 1080 px wide; narrower, its sizes shrink with it so it still fits. */
enum { DESIGN_W = 1080 };

struct layout_cursor {
	struct app *app;
	struct ui_page *page;
	int y;
	int scale_w; /* the page width, at most DESIGN_W */
};

static int scaled(const struct layout_cursor *c, int v) { return v * c->scale_w / DESIGN_W; }

/* h, or what text takes at px in a box w wide if that is more (a narrower screen wraps it). */
static int fit(const struct layout_cursor *c, const char *text, int px, bool bold, int w, int h)
{
	int need = ui_page_text_height(c->page, text, px, bold, c->page->rtl ? TEXT_DIR_RTL : TEXT_DIR_LTR, w);
	return need > h ? need : h;
}

static void caption(struct layout_cursor *c, const char *id, const char *key)
{
	const char *text = app_str(c->app, key);
	int px = scaled(c, CAPTION_PX), w = c->page->width - 2 * THEME_MARGIN;
	int h = fit(c, text, px, false, w, scaled(c, CAPTION_H));
	struct ui_widget *cap = ui_page_add(c->page, id, UI_LABEL, (struct ui_rect){THEME_MARGIN, c->y, w, h}, text);
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
	c->y += sample_at(c, id, app_str(c->app, key), THEME_MARGIN, c->page->width - 2 * THEME_MARGIN, SAMPLE_PX,
			  SAMPLE_H, false) +
		GAP;
}

static void build(struct app *app, struct ui_page *page)
{
	int w = page->width, inner = w - 2 * THEME_MARGIN;
	struct layout_cursor c = {app, page, 0, w < DESIGN_W ? w : DESIGN_W};
	c.y = theme_header(page, "specimen.title", app_str(app, "specimen.title")) + 20;

	caption(&c, "specimen.cap.lam_alef", "specimen.cap.lam_alef");
	sample(&c, "specimen.lam_alef", "specimen.lam_alef");
	caption(&c, "specimen.cap.harakat", "specimen.cap.harakat");
	sample(&c, "specimen.harakat", "specimen.harakat");
	caption(&c, "specimen.cap.tatweel", "specimen.cap.tatweel");
	sample(&c, "specimen.tatweel", "specimen.tatweel");

	/* Two amounts side by side, so each sits at the start of its own box. */
	caption(&c, "specimen.cap.amounts", "specimen.cap.amounts");
	int half = (inner - 40) / 2;
	int h1 = sample_at(&c, "specimen.amount.local", app_str(app, "specimen.amount.local"), THEME_MARGIN, half,
			   SAMPLE_PX, SAMPLE_H, false);
	int h2 = sample_at(&c, "specimen.amount.code", app_str(app, "specimen.amount.code"), THEME_MARGIN + half + 40,
			   half, SAMPLE_PX, SAMPLE_H, false);
	c.y += (h1 > h2 ? h1 : h2) + GAP;
	sample(&c, "specimen.amount.total", "specimen.amount.total");

	caption(&c, "specimen.cap.brackets", "specimen.cap.brackets");
	sample(&c, "specimen.brackets", "specimen.brackets");
	caption(&c, "specimen.cap.numbers", "specimen.cap.numbers");
	sample(&c, "specimen.phone", "specimen.phone");
	sample(&c, "specimen.reference", "specimen.reference");

	/* Eastern Arabic digits are a formatting choice (issue 4), so the screen converts here. */
	caption(&c, "specimen.cap.digits", "specimen.cap.digits");
	char eastern[256];
	text_digits_apply(TEXT_DIGITS_EASTERN_ARABIC, app_str(app, "specimen.digits"), eastern, sizeof(eastern));
	c.y += sample_at(&c, "specimen.digits", eastern, THEME_MARGIN, inner, SAMPLE_PX, SAMPLE_H, false) + GAP;

	/* Wrapped by the engine at the box width: four lines in Arabic, five in English. */
	caption(&c, "specimen.cap.paragraph", "specimen.cap.paragraph");
	enum { PARA_PX = 34, PARA_H = 5 * 56 };
	c.y += sample_at(&c, "specimen.paragraph", app_str(app, "specimen.paragraph"), THEME_MARGIN, inner, PARA_PX,
			 PARA_H, false) +
	       GAP;

	caption(&c, "specimen.cap.large", "specimen.cap.large");
	/* Large text mode: twice the sample size, one line in both languages (857 px in English). */
	enum { LARGE_PX = 84, LARGE_H = 140 };
	sample_at(&c, "specimen.large", app_str(app, "specimen.large"), THEME_MARGIN, inner, LARGE_PX, LARGE_H, true);

	/* The other language, as on home, so one scenario shows both. */
	int bottom = page->height - THEME_MARGIN / 2, bw = (inner - 40) / 2;
	enum lang other = app_lang(app) == LANG_AR ? LANG_EN : LANG_AR;
	struct ui_widget *lang = theme_button_secondary(page, "specimen.lang",
							(struct ui_rect){THEME_MARGIN, bottom - 100, bw, 100},
							app_str_in(app, other, "lang.name"));
	lang->dir = other == LANG_AR ? TEXT_DIR_RTL : TEXT_DIR_LTR;
	theme_button_secondary(page, "specimen.back", (struct ui_rect){THEME_MARGIN + bw + 40, bottom - 100, bw, 100},
			       app_str(app, "common.back"));
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
