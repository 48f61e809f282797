/* Shared page furniture: header band, buttons, measured labels, device notices. */
#include "theme.h"

#include "kiosk/app.h"

enum { HEADER_PX = 64, HEADER_PAD = 40 };

int theme_header_height(const struct ui_page *page, const char *title)
{
	int h = ui_page_text_height(page, title, HEADER_PX, true, page->rtl ? TEXT_DIR_RTL : TEXT_DIR_LTR, page->width) +
		2 * HEADER_PAD;
	return h > THEME_HEADER_H ? h : THEME_HEADER_H;
}

int theme_header(struct ui_page *page, const char *id, const char *title)
{
	int h = theme_header_height(page, title);
	struct ui_widget *band = ui_page_add(page, id, UI_PANEL, (struct ui_rect){0, 0, page->width, h}, title);
	band->bg = THEME_BAND;
	band->fg = THEME_ON_BAND;
	band->text_px = HEADER_PX;
	band->bold = true;
	return h;
}

struct ui_widget *theme_button(struct ui_page *page, const char *id, struct ui_rect rect, const char *text)
{
	struct ui_widget *w = ui_page_add(page, id, UI_BUTTON, rect, text);
	w->bg = THEME_BUTTON;
	w->fg = THEME_ON_BAND;
	w->text_px = THEME_BUTTON_PX;
	w->bold = true;
	return w;
}

struct ui_widget *theme_button_secondary(struct ui_page *page, const char *id, struct ui_rect rect,
					 const char *text)
{
	struct ui_widget *w = ui_page_add(page, id, UI_BUTTON, rect, text);
	w->bg = THEME_TILE;
	w->border = THEME_BAND;
	w->fg = THEME_BAND;
	w->text_px = THEME_BUTTON_SECONDARY_PX;
	w->bold = true;
	return w;
}

struct ui_widget *theme_label(struct ui_page *page, const char *id, const char *text, int px, bool bold,
			      enum text_dir dir, uint32_t fg)
{
	int box_w = page->width - 2 * THEME_MARGIN;
	struct ui_widget *w = ui_page_add(page, id, UI_LABEL, (struct ui_rect){THEME_MARGIN, 0, box_w, 0}, text);
	w->text_px = px, w->bold = bold, w->fg = fg;
	if (dir != TEXT_DIR_AUTO)
		w->dir = dir;
	w->rect.h = ui_page_text_height(page, text, px, bold, w->dir, box_w);
	return w;
}

/* Notice sizes, largest first. Every notice that can be due at once is shown (app.h
 * APP_MAX_NOTICES: the kiosk's state and all three devices); when they would take more than
 * their share of the page the whole list steps down a size rather than drop one or push a
 * button off the screen. The shares are measured at 800x1920, the smallest screen: three
 * notices at the largest size take 45% of attract (both languages) and 23% of home (one
 * language), and fit; four take 57% of attract, and home fits them only at the smallest size
 * (22%; at 30 px its cancel button leaves the screen): tests/scenarios/store/notices-four.scenario. */
struct notice_size {
	int px, pad, gap;
};
static const struct notice_size notice_sizes[] = {{34, 14, 12}, {30, 10, 10}, {26, 8, 8}};
#define N_NOTICE_SIZES ((int)(sizeof(notice_sizes) / sizeof(notice_sizes[0])))
enum { NOTICE_SHARE_BILINGUAL_PCT = 52, NOTICE_SHARE_PCT = 24 };

/* Each band's language, in the order they are stacked; returns how many bands a device has. */
static int notice_langs(struct app *app, bool bilingual, enum lang out[2])
{
	if (!bilingual) {
		out[0] = app_lang(app);
		return 1;
	}
	out[0] = LANG_AR, out[1] = LANG_EN;
	return 2;
}

static int notice_band_h(const struct ui_page *page, const char *text, enum lang lang, const struct notice_size *z)
{
	return ui_page_text_height(page, text, z->px, true, lang == LANG_AR ? TEXT_DIR_RTL : TEXT_DIR_LTR,
				   page->width - 2 * THEME_MARGIN) +
	       2 * z->pad;
}

static int notices_h(struct app *app, const struct ui_page *page, const struct app_notice *notices, int n,
		     const enum lang *langs, int bands, const struct notice_size *z)
{
	int h = 0;
	for (int i = 0; i < n; i++) {
		h += i ? z->gap : 0;
		for (int b = 0; b < bands; b++)
			h += notice_band_h(page, app_str_in(app, langs[b], notices[i].key), langs[b], z);
	}
	return h;
}

/* The largest size whose whole list fits the share, else the smallest; its height in *h. */
static const struct notice_size *notice_size(struct app *app, const struct ui_page *page,
					     const struct app_notice *notices, int n, const enum lang *langs, int bands,
					     int *h)
{
	int share = page->height * (bands == 2 ? NOTICE_SHARE_BILINGUAL_PCT : NOTICE_SHARE_PCT) / 100;
	for (int i = 0; i < N_NOTICE_SIZES; i++) {
		*h = notices_h(app, page, notices, n, langs, bands, &notice_sizes[i]);
		if (*h <= share || i == N_NOTICE_SIZES - 1)
			return &notice_sizes[i];
	}
	return &notice_sizes[N_NOTICE_SIZES - 1];
}

int theme_notices_height(struct app *app, const struct ui_page *page, bool bilingual)
{
	struct app_notice notices[APP_MAX_NOTICES];
	enum lang langs[2];
	int n = app_device_notices(app, notices, APP_MAX_NOTICES), bands = notice_langs(app, bilingual, langs);
	int h = 0;
	notice_size(app, page, notices, n, langs, bands, &h);
	return h;
}

int theme_device_notices(struct app *app, struct ui_page *page, int top_y, bool bilingual)
{
	struct app_notice notices[APP_MAX_NOTICES];
	enum lang langs[2];
	int n = app_device_notices(app, notices, APP_MAX_NOTICES), bands = notice_langs(app, bilingual, langs);
	int total = 0;
	const struct notice_size *z = notice_size(app, page, notices, n, langs, bands, &total);
	int y = top_y;
	for (int i = 0; i < n; i++) {
		y += i ? z->gap : 0;
		for (int b = 0; b < bands; b++) {
			enum lang lang = langs[b];
			const char *text = app_str_in(app, lang, notices[i].key);
			char id[48];
			snprintf(id, sizeof(id), "notice.%s%s", notices[i].device,
				 bilingual ? (lang == LANG_AR ? ".ar" : ".en") : "");
			int h = notice_band_h(page, text, lang, z);
			struct ui_widget *w = ui_page_add(page, id, UI_PANEL,
							  (struct ui_rect){THEME_MARGIN, y, page->width - 2 * THEME_MARGIN, h}, text);
			bool fault = notices[i].severity == DEV_STATE_FAULT || notices[i].severity == DEV_STATE_OFFLINE;
			w->bg = fault ? THEME_FAULT_BG : THEME_WARN_BG;
			w->fg = fault ? THEME_FAULT_TEXT : THEME_WARN_TEXT;
			w->text_px = z->px;
			w->bold = true;
			w->dir = lang == LANG_AR ? TEXT_DIR_RTL : TEXT_DIR_LTR;
			w->align = TEXT_ALIGN_START;
			y += h;
		}
	}
	return y;
}
