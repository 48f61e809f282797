/*
 * Size-derived geometry for screens (issue 11): the scale from the reference design to the
 * configured screen, grids of cells (service tiles, a keypad), rows of label and value, and a bar
 * of buttons at the bottom. Pure arithmetic on rects, no text engine and no SDL; combine with
 * ui_flow_column (flow.h) for the vertical stacking and with the page check (check.h) as judge.
 *
 * How a screen lays out at any configured size:
 *   - sizes (text px, margins, gaps, preferred heights) are written as design px on the
 *     reference screen, 1080 x 1920 portrait or 1920 x 1080 landscape, and go through ui_px();
 *   - boxes are as tall as their text measures (ui_page_text_extent), never under
 *     UI_TOUCH_MIN_PX for a touch target (check.h: that one is not scaled, it is a finger);
 *   - the orientation picks the arrangement (ui_page_landscape), the room picks the columns
 *     (ui_grid_columns); what still does not fit is a page-check failure, never an overlap.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "widget.h"

/* The reference screen the design px are drawn for, in its portrait orientation. */
enum { UI_DESIGN_SHORT_PX = 1080, UI_DESIGN_LONG_PX = 1920, UI_DESIGN_LONG_FIT_PX = 1536 };

/*
 * The page's scale, in 1/1000: min(short / 1080, long / UI_DESIGN_LONG_FIT_PX). The long side
 * is allowed to be 20 % denser than the reference (1536 of its 1920 px), since the reference
 * layouts leave that much to flexible space; scaling to fit the whole 1920 would shrink a
 * 4:3 screen's text by a further 20 %. 1000 at 1080 x 1920 and 1920 x 1080, 666 at 1024 x 768
 * and 768 x 1024, 740 at 1280 x 800, 500 at 768 x 768, 2000 at 2160 x 3840.
 */
int ui_page_scale(const struct ui_page *page);
/* design_px at the page's scale, rounded to nearest; at least 1 when design_px > 0. */
int ui_px(const struct ui_page *page, int design_px);
/* A text size: ui_px, but never under UI_TEXT_MIN_PX (widget.h), so small screens stay legible. */
int ui_text_px(const struct ui_page *page, int design_px);
/* True when the page is wider than tall: screens put side by side what portrait stacks. */
static inline bool ui_page_landscape(const struct ui_page *page) { return page->width > page->height; }

/* Cell i (reading order, i = row * cols + col) of a cols x rows grid filling area, gap px
 * apart; the px a division leaves go to the last column and row. */
struct ui_rect ui_grid_cell(struct ui_rect area, int cols, int rows, int gap, int i);

/*
 * Square cells for a cols x rows grid no larger than max_cell px (0: no cap), centred in area:
 * the area to give ui_grid_cell. A keypad (ui_keypad_cell) uses it so its keys stay square
 * whatever the room.
 */
struct ui_rect ui_grid_square(struct ui_rect area, int cols, int rows, int gap, int max_cell);

/*
 * The height cell i needs at width cell_w (what its text measures, at least a touch target), or
 * a negative value if it cannot be laid out that narrow (a word wider than the cell).
 */
typedef int (*ui_cell_min_h)(void *ctx, int i, int cell_w);

/*
 * How many columns to put n cells in, within area: of the column counts 1..n whose rows fit
 * (each row as tall as its tallest cell's min_h, at most pref_h tall, gap px apart), the one
 * that leaves the fewest holes in the last row (a lone tile under three looks like a mistake),
 * then whose cells' width / height is nearest aspect (a ratio in 1/1000: 1000 is square).
 * Portrait screens get two columns of tall tiles, landscape ones a single row. Returns the columns; if
 * no count fits, 0, with *rows_h_out unchanged. rows_h_out (may be NULL): each row's height for
 * the choice, up to n values, the rows grown evenly toward pref_h with the room there is.
 */
int ui_grid_columns(size_t n, struct ui_rect area, int gap, int pref_h, int aspect, ui_cell_min_h min_h,
		    void *ctx, int *rows_h_out);

/*
 * A keypad: 3 columns x 4 rows, keys in the order of UI_KEYPAD_KEYS ("1".."9", then clear, "0",
 * delete, as on a phone and on card terminals, in both languages). Key i's rect in area, square,
 * gap px apart, no larger than max_key (0: no cap), the whole pad centred. Ids by convention:
 * `key.0`..`key.9`, `key.clear`, `key.del` (UI_KEY widgets, `type` in scenarios taps them).
 */
enum { UI_KEYPAD_COLS = 3, UI_KEYPAD_ROWS = 4, UI_KEYPAD_N = 12 };
extern const char *const UI_KEYPAD_KEYS[UI_KEYPAD_N]; /* "1".."9", "clear", "0", "del" */
struct ui_rect ui_keypad_cell(struct ui_rect area, int gap, int max_key, int i);
/* The smallest area a keypad of keys key px fits in, gap px apart. */
static inline int ui_keypad_width(int key, int gap) { return UI_KEYPAD_COLS * key + (UI_KEYPAD_COLS - 1) * gap; }
static inline int ui_keypad_height(int key, int gap) { return UI_KEYPAD_ROWS * key + (UI_KEYPAD_ROWS - 1) * gap; }

/*
 * A row of label and value (a receipt-like summary: "Amount  AED 50.00"): the label takes
 * label_w px at the start of row (reading order: ui_page_add mirrors in RTL), the value the rest
 * after gap. label_w is clamped to the row.
 */
void ui_row_split(struct ui_rect row, int label_w, int gap, struct ui_rect *label, struct ui_rect *value);

/*
 * A bar of n buttons side by side across area (the bottom bar: back, cancel, next), gap px
 * apart, equal widths, each at most max_w px (0: no cap); with a cap, the first button sits at
 * the start, the last at the end and the others spread evenly between. out gets n rects.
 */
void ui_bar(struct ui_rect area, size_t n, int gap, int max_w, struct ui_rect *out);
