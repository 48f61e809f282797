/*
 * A column layout: boxes stacked top to bottom, each between a minimum (what its content
 * measures, or the smallest touch target) and a preferred height, sharing the room there is.
 * Screens use it so that a notice area that grows with its text pushes the rest up and
 * shrinks it within its limits, instead of covering it. Sizes given to it are px on the page:
 * design px go through ui_px first; grids, keypads, label-value rows and button bars across a
 * row are in kiosk/ui/grid.h (their themed widgets in kiosk/screens/theme.h: theme_keypad,
 * theme_row, theme_bar_height).
 */
#pragma once

#include <stddef.h>

#include "kiosk/core/err.h"

/* pref of an item that takes whatever room is left (a flexible space). */
#define UI_FLOW_FILL (-1)

struct ui_flow_item {
	int min, pref; /* heights in px; pref >= min, or UI_FLOW_FILL */
	int y, h;      /* out: where it landed */
};

/* An item of min px that grows to pref (or UI_FLOW_FILL): for assigning slots one by one. */
static inline struct ui_flow_item ui_flow_slot(int min, int pref)
{
	return (struct ui_flow_item){.min = min, .pref = pref, .y = 0, .h = 0};
}

/*
 * Places items from top down to bottom, gap px apart. Each gets its minimum; what is left
 * grows every fixed item toward its preferred height (in proportion to how far each may grow),
 * and what is left after that goes to the fill items in equal parts (none: it stays below the
 * last item). Returns 0, or KIO_ERR_INVALID if even the minimums do not fit: the items are then
 * placed at their minimums and run past bottom, which the page check reports.
 */
int ui_flow_column(struct ui_flow_item *items, size_t n, int top, int bottom, int gap);
