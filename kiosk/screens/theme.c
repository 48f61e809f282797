/* Shared page furniture: header band, buttons, device notices. */
#include "theme.h"

#include "kiosk/app.h"

void theme_header(struct ui_page *page, const char *id, const char *title)
{
	struct ui_widget *band = ui_page_add(page, id, UI_PANEL, (struct ui_rect){0, 0, page->width, THEME_HEADER_H}, title);
	band->bg = THEME_BAND;
	band->fg = THEME_ON_BAND;
	band->text_px = 64;
	band->bold = true;
}

struct ui_widget *theme_button(struct ui_page *page, const char *id, struct ui_rect rect, const char *text)
{
	struct ui_widget *w = ui_page_add(page, id, UI_BUTTON, rect, text);
	w->bg = THEME_BUTTON;
	w->fg = THEME_ON_BAND;
	w->text_px = 56;
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
	w->text_px = 48;
	w->bold = true;
	return w;
}

int theme_device_notices(struct app *app, struct ui_page *page, int bottom_y, bool bilingual)
{
	struct app_notice notices[APP_MAX_NOTICES];
	int n = app_device_notices(app, notices, APP_MAX_NOTICES);
	int y = bottom_y;
	for (int i = n - 1; i >= 0; i--) {
		for (int pass = 0; pass < (bilingual ? 2 : 1); pass++) {
			/* Bilingual pages (attract) show English under Arabic. */
			enum lang lang = bilingual ? (pass == 0 ? LANG_EN : LANG_AR) : app_lang(app);
			int h = 90;
			y -= h + 12;
			char id[48];
			snprintf(id, sizeof(id), "notice.%s%s", notices[i].device, bilingual ? (pass ? ".ar" : ".en") : "");
			struct ui_widget *w = ui_page_add(page, id, UI_PANEL,
							  (struct ui_rect){THEME_MARGIN, y, page->width - 2 * THEME_MARGIN, h},
							  app_str_in(app, lang, notices[i].key));
			bool fault = notices[i].severity == DEV_STATE_FAULT || notices[i].severity == DEV_STATE_OFFLINE;
			w->bg = fault ? THEME_FAULT_BG : THEME_WARN_BG;
			w->fg = fault ? THEME_FAULT_TEXT : THEME_WARN_TEXT;
			w->text_px = 34;
			w->bold = true;
			w->dir = lang == LANG_AR ? TEXT_DIR_RTL : TEXT_DIR_LTR;
			w->align = TEXT_ALIGN_START;
			if (bilingual)
				w->rect.x = THEME_MARGIN; /* bilingual rows are not mirrored */
		}
	}
	return y;
}
