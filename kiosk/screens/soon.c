/* The services whose flows are not built yet, and the fees basket's paying step until it lands:
 * an honest "coming soon" and a way back. */
#include "kiosk/app.h"
#include "kiosk/ui/check.h"
#include "theme.h"

enum { BACK_H = 160, BACK_MAX_W = 640, MESSAGE_PX = 56 }; /* design px (kiosk/ui/grid.h) */

void scr_soon_build(struct app *app, struct ui_page *page, const char *screen, const char *title_key)
{
	int inner = theme_inner(page), m = theme_margin(page);
	char id[48];
	snprintf(id, sizeof(id), "%s.title", screen);
	int header_h = theme_header(page, id, app_str(app, title_key));
	/* The button is BACK_H design px, a finger, or as tall as its label, whichever is most; the
	 * message as tall as its text, centred between the header and the button. */
	const char *back = app_str(app, "common.back");
	int back_w = inner < ui_px(page, BACK_MAX_W) ? inner : ui_px(page, BACK_MAX_W);
	int back_h = ui_page_text_height(page, back, theme_button_px(page), true, page->rtl ? TEXT_DIR_RTL : TEXT_DIR_LTR,
					 back_w);
	int least = ui_px(page, BACK_H) > UI_TOUCH_MIN_PX ? ui_px(page, BACK_H) : UI_TOUCH_MIN_PX;
	back_h = back_h > least ? back_h : least;
	int back_y = page->height - m - back_h;
	snprintf(id, sizeof(id), "%s.soon", screen);
	struct ui_widget *msg = theme_label(page, id, app_str(app, "soon.message"), MESSAGE_PX, true, TEXT_DIR_AUTO, THEME_TEXT);
	msg->rect.y = header_h + (back_y - header_h - msg->rect.h) / 2;
	snprintf(id, sizeof(id), "%s.back", screen);
	/* The bottom bar of one button at the start, no wider than home's, so landscape keeps it a button. */
	struct ui_rect bar;
	ui_bar((struct ui_rect){m, back_y, inner, back_h}, 1, 0, ui_px(page, BACK_MAX_W), &bar);
	theme_button(page, id, bar, back);
}

static void on_tap_soon(struct app *app, const char *widget_id)
{
	const char *dot = strrchr(widget_id, '.');
	if (dot && strcmp(dot, ".back") == 0)
		app_go(app, SCR_HOME);
}

#define SOON_SCREEN(var, sid, key)                                                          \
	static void build_##var(struct app *app, struct ui_page *page)                      \
	{                                                                                   \
		scr_soon_build(app, page, sid, key);                                            \
	}                                                                                   \
	const struct scr_def var = {                                                        \
		.id = sid, .customer_session = true, .build = build_##var, .on_tap = on_tap_soon, \
	}

SOON_SCREEN(scr_buy_card, "buy-card", "home.buy_card");
SOON_SCREEN(scr_balance, "balance", "home.balance");
