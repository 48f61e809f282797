/*
 * The screen: an SDL window and renderer at the kiosk's logical size (full screen, a
 * window, or SDL's offscreen driver when headless), drawing pages through the text engine
 * and writing screenshots. The only UI module that talks to SDL's video API.
 */
#pragma once

#include <stdbool.h>

#include "kiosk/core/err.h"
#include "kiosk/text/text.h"
#include "widget.h"

struct ui_display;

enum ui_display_mode { UI_MODE_FULLSCREEN, UI_MODE_WINDOWED, UI_MODE_HEADLESS };

/* Initialises SDL video; borrows text. */
int ui_display_open(enum ui_display_mode mode, int width, int height, struct text_engine *text,
		    struct ui_display **out, struct kio_error *err);
void ui_display_close(struct ui_display *display); /* accepts NULL; quits SDL video */

/*
 * Whether presented frames reach a screen: false for --headless (SDL's offscreen driver),
 * whose frames nobody sees and which draws only for screenshots.
 */
bool ui_display_shown(const struct ui_display *display);
/*
 * Draws page and presents it: only what changed since the last page presented (the union of
 * the changed widgets' old and new boxes, clipped; D1: the screen then shows exactly what a
 * whole draw of page would), the whole page after ui_display_invalidate, and nothing when no
 * widget changed.
 */
int ui_display_present(struct ui_display *display, const struct ui_page *page, struct kio_error *err);
/* The screen's content was lost (exposed, resized): the next present draws the whole page. */
void ui_display_invalidate(struct ui_display *display);

/* Presents so far: whole pages, partial ones, pixels drawn, and partial frames the
 * KIOSK_UI_CHECK_DAMAGE=1 check found different from a whole draw (0 unless it is on). */
struct ui_display_stats {
	uint64_t whole, partial, px, damage_errors;
};
const struct ui_display_stats *ui_display_stats(const struct ui_display *display);
/* Draws page off the screen and writes it as a PNG at the logical size. */
int ui_display_screenshot(struct ui_display *display, const struct ui_page *page, const char *path,
			  struct kio_error *err);

/*
 * The size of a developer's window for a kiosk screen width x height on a monitor whose usable
 * area is usable_w x usable_h: the screen as it is if it fits in 90 % of that area, else scaled
 * down, aspect kept, to fit it in both directions (a portrait screen by its height, a landscape
 * one by its width). An unknown area (0) leaves the size as it is.
 */
void ui_display_window_fit(int width, int height, int usable_w, int usable_h, int *win_w, int *win_h);

/*
 * Where a width x height page goes on an out_w x out_h output: scaled by the same factor both
 * ways (aspect kept) to the largest that fits, or by scale_pct / 100 when that is given (> 0)
 * and fits, and centred; the rest of the output is a border. The page is always whole on the
 * output: a scale that would not fit is the fitting one.
 */
struct ui_fit {
	double scale; /* output px per page px */
	int x, y, w, h; /* the page's rectangle on the output, in output px */
};
void ui_display_fit(int out_w, int out_h, int width, int height, int scale_pct, struct ui_fit *fit);
/* [display] scale (kiosk/core/config.h): 0 fits, else per cent; the next present is whole. */
void ui_display_set_scale(struct ui_display *display, int scale_pct);

/* A finger (normalised 0..1 as SDL's renderer delivers it, across the page) to page
 * coordinates; and a page point to a finger as a touch screen reports it (across the window). */
void ui_display_finger_to_logical(struct ui_display *display, float fx, float fy, int *x, int *y);
void ui_display_logical_to_finger(struct ui_display *display, int x, int y, float *fx, float *fy);
