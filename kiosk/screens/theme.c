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

enum { NOTICE_PX = 34, NOTICE_PAD = 14, NOTICE_GAP = 12 };

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

static int notice_band_h(const struct ui_page *page, const char *text, enum lang lang)
{
	return ui_page_text_height(page, text, NOTICE_PX, true, lang == LANG_AR ? TEXT_DIR_RTL : TEXT_DIR_LTR,
				   page->width - 2 * THEME_MARGIN) +
	       2 * NOTICE_PAD;
}

int theme_notices_height(struct app *app, const struct ui_page *page, bool bilingual)
{
	struct app_notice notices[APP_MAX_NOTICES];
	enum lang langs[2];
	int n = app_device_notices(app, notices, APP_MAX_NOTICES), bands = notice_langs(app, bilingual, langs);
	int h = 0;
	for (int i = 0; i < n; i++) {
		h += i ? NOTICE_GAP : 0;
		for (int b = 0; b < bands; b++)
			h += notice_band_h(page, app_str_in(app, langs[b], notices[i].key), langs[b]);
	}
	return h;
}

int theme_device_notices(struct app *app, struct ui_page *page, int top_y, bool bilingual)
{
	struct app_notice notices[APP_MAX_NOTICES];
	enum lang langs[2];
	int n = app_device_notices(app, notices, APP_MAX_NOTICES), bands = notice_langs(app, bilingual, langs);
	int y = top_y;
	for (int i = 0; i < n; i++) {
		y += i ? NOTICE_GAP : 0;
		for (int b = 0; b < bands; b++) {
			enum lang lang = langs[b];
			const char *text = app_str_in(app, lang, notices[i].key);
			char id[48];
			snprintf(id, sizeof(id), "notice.%s%s", notices[i].device,
				 bilingual ? (lang == LANG_AR ? ".ar" : ".en") : "");
			int h = notice_band_h(page, text, lang);
			struct ui_widget *w = ui_page_add(page, id, UI_PANEL,
							  (struct ui_rect){THEME_MARGIN, y, page->width - 2 * THEME_MARGIN, h}, text);
			bool fault = notices[i].severity == DEV_STATE_FAULT || notices[i].severity == DEV_STATE_OFFLINE;
			w->bg = fault ? THEME_FAULT_BG : THEME_WARN_BG;
			w->fg = fault ? THEME_FAULT_TEXT : THEME_WARN_TEXT;
			w->text_px = NOTICE_PX;
			w->bold = true;
			w->dir = lang == LANG_AR ? TEXT_DIR_RTL : TEXT_DIR_LTR;
			w->align = TEXT_ALIGN_START;
			y += h;
		}
	}
	return y;
}
