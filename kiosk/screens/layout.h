/*
 * The layout of a flow's page (the top-up's and the fees' screens): a header, a column (or two)
 * of text boxes measured to their text, an optional keypad and bars of buttons at the bottom,
 * fitted to any configured screen size by giving up room in a documented order. Screens fill a
 * scr_layout and call scr_lay_out; the page check (kiosk/ui/check.h) judges the result.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "kiosk/text/text.h"
#include "kiosk/ui/widget.h"

/* Design px (kiosk/ui/grid.h) the flows' pages share. */
enum { SCR_GAP = 20, SCR_BAND_PAD = 14, SCR_KEY_MAX = 280, SCR_KEY_LABEL_MIN_PX = 28, SCR_NUMBER_PX = 72,
       SCR_MSG_PX = 40, SCR_BODY_PX = 38, SCR_TOTAL_PX = 88 };

/* A button of a bottom bar. */
struct scr_button {
	const char *id, *text;
	bool primary, enabled;
};

/*
 * How an item is drawn. LABEL: text; WARN, FAULT: a coloured band; NUMBER: a white box (a
 * number being typed). The three below need the item's scr_item_ext and are touch targets:
 * CHOICE: the whole box is a button (id) that is chosen or not (ext.selected); STEPPER: the text
 * between two square buttons, ext.btn_id[0] at the start and [1] at the end (less, more);
 * REMOVABLE: a band of text with one button at its end, ext.btn_id[0].
 */
enum scr_look { SCR_LOOK_LABEL, SCR_LOOK_WARN, SCR_LOOK_FAULT, SCR_LOOK_NUMBER, SCR_LOOK_CHOICE, SCR_LOOK_STEPPER,
		SCR_LOOK_REMOVABLE };

/*
 * A text box of a page. drop: 0, always shown; n > 0, left out from drop level n on, when the
 * page does not fit otherwise (the order each screen documents). Never dropped, by rule: the
 * amounts, the card number, the limits, the no-change notice, what went wrong, the buttons.
 */
struct scr_item {
	const char *id, *text; /* text NULL: the item is left out, unless sample is set */
	const char *sample;    /* measured instead of text (card.number: shown empty, sized full) */
	int px;                /* design px; a one_line item steps down to stay on one line */
	bool bold, one_line;
	enum text_dir dir;     /* AUTO: the page's */
	uint32_t fg;
	enum scr_look look;
	int col;               /* two columns: 0 the start one, 1 the end one */
	int drop;
};

/* What the touchable looks need (CHOICE, STEPPER, REMOVABLE), index as the items. */
struct scr_item_ext {
	bool enabled, selected;          /* CHOICE */
	const char *btn_id[2], *btn_text[2]; /* STEPPER: less, more; REMOVABLE: [0] */
	bool btn_enabled[2];
};

#define SCR_ITEMS_MAX 16
enum { SCR_BAR_ROWS_MAX = 2, SCR_BAR_N_MAX = 3 };

struct scr_layout {
	const char *header_id, *title;
	struct scr_item *items;
	const struct scr_item_ext *ext; /* NULL, or one per item */
	int n;
	/* One column: rows of buttons (rows[i] in row i); two columns: wide, all in one row. */
	const struct scr_button *buttons, *wide;
	const int *rows;
	int n_rows, n_buttons;
	bool keypad; /* a keypad at the end of the one column, or the end column */
	const char *clear, *del;
	/* The keypad shown with every key disabled: what was typed is being asked about (the
	 * host checks the number or the code), or the ask is over; the keys wait for it. */
	bool keys_wait;
};

/*
 * Lays L out and adds its widgets to page. The arrangement follows the page's shape
 * (landscape: two columns, the bar in one row; else one column and the bar's rows); what does
 * not fit gives up room in this order, trying each step in the page's arrangement and then in
 * the others: the bars' spare height, then the items of drop level 1, 2, ... (each screen's
 * order). What fits nowhere is added as it is, for the page check to report, and false is
 * returned (a screen may take its widgets back, ui_page_truncate, and try a shorter page).
 */
bool scr_lay_out(struct ui_page *page, const struct scr_layout *L);

/* A tap on the keypad's digit keys: true with *digit set for "key.0" to "key.9" (the ids its
 * keys carry); false for any other id, key.del and key.clear included (screens map those to
 * their flows' inputs in their tap tables). */
bool scr_key_digit(const char *id, char *digit);
