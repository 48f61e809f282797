/* The kiosk's look: colours and the page furniture every screen shares. */
#pragma once

#include <stdio.h>
#include <string.h>

#include "kiosk/core/xmalloc.h"
#include "kiosk/ui/grid.h"
#include "kiosk/ui/widget.h"

struct app;

/* UAE government palette: deep green band, warm gold accent, high-contrast text. */
#define THEME_BG 0xF3F5F4FFu
#define THEME_BAND 0x0B5D4BFFu
#define THEME_ON_BAND 0xFFFFFFFFu
#define THEME_ACCENT 0xB8860BFFu
#define THEME_TEXT 0x1A1A1AFFu
#define THEME_MUTED 0x55605CFFu
#define THEME_TILE 0xFFFFFFFFu
#define THEME_TILE_BORDER 0xC9D3CFFFu
#define THEME_BUTTON 0x0B5D4BFFu
#define THEME_WARN_BG 0xFFF3CDFFu
#define THEME_WARN_TEXT 0x7A4B00FFu
#define THEME_FAULT_BG 0xF8D7DAFFu
#define THEME_FAULT_TEXT 0x7A1520FFu

/*
 * Sizes are design px on the reference screen (kiosk/ui/grid.h: 1080 x 1920 or 1920 x 1080);
 * a layout takes them through theme_px() (ui_px), and the theme_* functions below do so
 * themselves: every px argument they take is a design px. THEME_HEADER_H is the header's least
 * height on the 1920 px tall reference, so a share of the screen's height (11.5 %).
 */
enum { THEME_MARGIN = 60, THEME_HEADER_H = 220, THEME_FOOTER_H = 200 };
/* Text sizes of theme_button and theme_button_secondary, for layouts that measure their labels. */
enum { THEME_BUTTON_PX = 56, THEME_BUTTON_SECONDARY_PX = 48 };
/* The preferred height of a button in a bottom bar (theme_bar_height), and the gap between boxes. */
enum { THEME_BAR_H = 130, THEME_GAP = 30 };

/* v design px at the page's scale (ui_px). */
static inline int theme_px(const struct ui_page *page, int v) { return ui_px(page, v); }
/* The page margin, scaled. */
static inline int theme_margin(const struct ui_page *page) { return ui_px(page, THEME_MARGIN); }
/* The page's width less the margins. */
static inline int theme_inner(const struct ui_page *page) { return page->width - 2 * theme_margin(page); }
/* Text px of a theme_button / theme_button_secondary on this page. */
static inline int theme_button_px(const struct ui_page *page) { return ui_text_px(page, THEME_BUTTON_PX); }
static inline int theme_button_secondary_px(const struct ui_page *page)
{
	return ui_text_px(page, THEME_BUTTON_SECONDARY_PX);
}
/*
 * The height a bottom bar of buttons with these labels needs (each label measured at the
 * secondary button size in a box w wide, page direction), at least a touch target; *pref gets
 * THEME_BAR_H scaled, or the need if larger. Labels may be NULL-terminated early (n counts).
 */
int theme_bar_height(const struct ui_page *page, const char *const *labels, size_t n, int w, int *pref);

/*
 * The green header band with a title (in the page's language): THEME_HEADER_H tall, or as tall
 * as the title measures plus a margin when it wraps further. theme_header_height says how tall
 * before it is added; theme_header returns it.
 */
int theme_header_height(const struct ui_page *page, const char *title);
int theme_header(struct ui_page *page, const char *id, const char *title);
/* A primary action button (green, white text), its text at THEME_BUTTON_PX scaled. */
struct ui_widget *theme_button(struct ui_page *page, const char *id, struct ui_rect rect, const char *text);
/* A quiet secondary button (white, green text), THEME_BUTTON_SECONDARY_PX scaled. */
struct ui_widget *theme_button_secondary(struct ui_page *page, const char *id, struct ui_rect rect,
					 const char *text);
/*
 * A label across the page's width less the margins, its text at design px (scaled), its box as
 * tall as its text measures there; the caller sets its y. dir AUTO: the page's direction.
 */
struct ui_widget *theme_label(struct ui_page *page, const char *id, const char *text, int px, bool bold,
			      enum text_dir dir, uint32_t fg);

/*
 * A keypad of UI_KEY widgets in area (kiosk/ui/grid.h: 3 x 4, square keys gap design px apart,
 * none larger than max_key design px, 0 for no cap, centred): `key.0`..`key.9` typing their
 * digit, then `key.clear` and `key.del` labelled clear_label and del_label (keys with no
 * character: key 0). Digits are THEME_KEY_PX (scaled, and at most half a key); the two
 * labels THEME_BUTTON_SECONDARY_PX, smaller if they need it to fit their key on one line.
 * area is in reading order like every rect (on an RTL page it is mirrored), but the keys inside
 * are laid out as on every phone and card terminal, 1 at the top left, in Arabic too. Returns
 * the pad's rect (reading order, as area).
 */
enum { THEME_KEY_PX = 64 };

/*
 * A row of label and value (kiosk/ui/grid.h, ui_row_split): the label muted at the start,
 * label_w px wide, the value bold at the end, both at px design px. The value's widget is id
 * (so `pay.total` is the amount a scenario reads), the label's id + ".label". theme_row_height:
 * the height the taller of the two needs in a row w px wide, at least px's line.
 */
int theme_row_height(const struct ui_page *page, const char *label, const char *value, int w, int label_w, int px);
void theme_row(struct ui_page *page, const char *id, struct ui_rect row, int label_w, const char *label,
	       const char *value, int px);
struct ui_rect theme_keypad(struct ui_page *page, struct ui_rect area, int gap, int max_key, const char *clear_label,
			    const char *del_label);

/*
 * Device notices: one band per device and language, each as tall as its text measures at the
 * page's width less the margins (a notice that wraps to two lines gets a two-line band).
 * theme_notices_height is the height of the whole area (0 without notices); theme_device_notices
 * adds the bands from top_y down and returns the y below the last one. Bilingual pages
 * (attract) show Arabic over English for each device in portrait, and side by side in landscape
 * (Arabic on the right, English on the left, the pair as tall as the taller).
 */
int theme_notices_height(struct app *app, const struct ui_page *page, bool bilingual);
int theme_device_notices(struct app *app, struct ui_page *page, int top_y, bool bilingual);
