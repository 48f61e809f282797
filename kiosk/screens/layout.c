/* Laying out a flow's page to fit the screen (layout.h): the tries, in the order layout.h gives. */
#include "layout.h"

#include <string.h>

#include "kiosk/ui/check.h"
#include "kiosk/ui/flow.h"
#include "kiosk/ui/grid.h"
#include "theme.h"

enum { DROP_LEVELS = 5 };

static enum text_dir page_dir(const struct ui_page *page) { return page->rtl ? TEXT_DIR_RTL : TEXT_DIR_LTR; }
static int max_i(int a, int b) { return a > b ? a : b; }

/* Where one try put everything. */
struct placed {
	struct ui_rect item[SCR_ITEMS_MAX];
	int px[SCR_ITEMS_MAX];
	bool shown[SCR_ITEMS_MAX];
	struct ui_rect pad;
	struct ui_rect bar[SCR_BAR_ROWS_MAX][SCR_BAR_N_MAX];
	int bar_n[SCR_BAR_ROWS_MAX], n_bars;
	const struct scr_button *bar_b[SCR_BAR_ROWS_MAX];
};

static bool item_present(const struct scr_item *it) { return it->text || it->sample; }

/* Design px of a stepper's square buttons (at least a touch target). */
enum { STEP_BUTTON = 120 };

static bool touchable_look(enum scr_look look)
{
	return look == SCR_LOOK_CHOICE || look == SCR_LOOK_STEPPER || look == SCR_LOOK_REMOVABLE;
}

static int step_side(const struct ui_page *page) { return max_i(ui_px(page, STEP_BUTTON), UI_TOUCH_MIN_PX); }

/* A removable item's button: as wide as its label on one line, at least a touch target. */
static int remove_w(const struct ui_page *page, const struct scr_item_ext *x)
{
	struct ui_text_extent e;
	if (!x || !x->btn_text[0] ||
	    ui_page_text_extent(page, x->btn_text[0], theme_button_secondary_px(page), true, page_dir(page), 1 << 14,
				&e) != 0)
		return UI_TOUCH_MIN_PX;
	return max_i(e.width + 2 * UI_TEXT_PAD, UI_TOUCH_MIN_PX);
}

/*
 * A stepper in a box w wide too narrow for its figure between the buttons puts the figure
 * over them (a narrow column of a small screen): the figure is measured at the smallest text
 * size, unbroken, beside the two buttons.
 */
static bool stepper_stacked(const struct ui_page *page, const struct scr_item *it, int w)
{
	struct ui_text_extent e;
	const char *t = it->sample ? it->sample : it->text;
	if (ui_page_text_extent(page, t, UI_TEXT_MIN_PX, true, it->dir == TEXT_DIR_AUTO ? page_dir(page) : it->dir,
				1 << 14, &e) != 0)
		return false;
	return w - 2 * (step_side(page) + ui_px(page, SCR_GAP)) < e.width + 2 * UI_TEXT_PAD;
}

/* The width an item's own text has in a box w wide: less its buttons. */
static int text_w(const struct ui_page *page, const struct scr_layout *L, int i, int w)
{
	const struct scr_item *it = &L->items[i];
	int gap = ui_px(page, SCR_GAP);
	if (it->look == SCR_LOOK_STEPPER)
		return stepper_stacked(page, it, w) ? w : w - 2 * (step_side(page) + gap);
	if (it->look == SCR_LOOK_REMOVABLE)
		return w - remove_w(page, L->ext ? &L->ext[i] : NULL) - gap;
	return w;
}

/* The item's text px in a box w wide: a one-line item steps down until it is one line. */
static int item_px(const struct ui_page *page, const struct scr_item *it, int w)
{
	const char *t = it->sample ? it->sample : it->text;
	enum text_dir dir = it->dir == TEXT_DIR_AUTO ? page_dir(page) : it->dir;
	bool bold = it->bold || it->look != SCR_LOOK_LABEL;
	int px = ui_text_px(page, it->px);
	for (; it->one_line && px > UI_TEXT_MIN_PX; px -= 2)
		if (ui_page_text_height(page, t, px, bold, dir, w) <= ui_page_text_height(page, "0", px, bold, dir, w))
			break;
	return px;
}

static int item_h(const struct ui_page *page, const struct scr_item *it, int px, int w)
{
	const char *t = it->sample ? it->sample : it->text;
	enum text_dir dir = it->dir == TEXT_DIR_AUTO ? page_dir(page) : it->dir;
	int h = ui_page_text_height(page, t, px, it->bold || it->look != SCR_LOOK_LABEL, dir, w);
	if (it->look == SCR_LOOK_LABEL)
		return h;
	h += 2 * ui_px(page, SCR_BAND_PAD);
	if (it->look == SCR_LOOK_STEPPER)
		return max_i(h, step_side(page));
	return touchable_look(it->look) ? max_i(h, UI_TOUCH_MIN_PX) : h;
}

/* A bar button row's least height: each label at its button's size, at least a touch target;
 * -1 if a button w px wide is no touch target or a word of its label is wider than it. */
static int bar_need(const struct ui_page *page, const struct scr_button *b, int n, int w)
{
	if (w < UI_TOUCH_MIN_PX)
		return -1;
	int h = UI_TOUCH_MIN_PX;
	for (int i = 0; i < n; i++) {
		struct ui_text_extent e;
		int px = b[i].primary ? theme_button_px(page) : theme_button_secondary_px(page);
		if (ui_page_text_extent(page, b[i].text, px, true, page_dir(page), w, &e) != 0 || e.word_cuts > 0 ||
		    e.width > w - 2 * UI_TEXT_PAD)
			return -1;
		h = max_i(h, e.height);
	}
	return h;
}

/* The least key: a touch target, wide enough for the clear and delete words at a legible size. */
static int key_least(const struct ui_page *page, const struct scr_layout *L)
{
	int k = UI_TOUCH_MIN_PX;
	const char *words[] = {L->clear, L->del};
	for (int i = 0; i < 2; i++) {
		struct ui_text_extent e;
		if (ui_page_text_extent(page, words[i], ui_text_px(page, SCR_KEY_LABEL_MIN_PX), true, page_dir(page), 1 << 14,
					&e) == 0)
			k = max_i(k, e.width + 2 * UI_TEXT_PAD);
	}
	return k;
}

/*
 * One try at laying L out: in one column or two, items of drop level >= level left out, the
 * bars at their preferred height or (tight) their least. Fills P; false if something does not
 * fit (P then holds the try as it is, run past the bottom, for the page check to report).
 */
/* One column; two with the bar under the start one (the keypad's column full height); two with the bar across. */
enum arrangement { ARR_ONE, ARR_TWO_SIDE, ARR_TWO_ACROSS };

static bool place(const struct ui_page *page, const struct scr_layout *L, enum arrangement arr, int level, bool tight,
		  struct placed *P)
{
	bool two = arr != ARR_ONE;
	int m = theme_margin(page), inner = theme_inner(page), gap = ui_px(page, SCR_GAP), col_gap = gap;
	int col_w = two ? (inner - col_gap) / 2 : inner;
	bool fits = true;
	memset(P, 0, sizeof(*P));
	/* The keypad's column is widened for its least keys, down to a third of the page left for
	 * the text beside it; the keypad then runs from the header to the bottom and the bar sits
	 * under the text, so the keys keep their size on a short landscape screen. */
	int key = key_least(page, L);
	int widths[2] = {col_w, col_w};
	bool pad_side = arr == ARR_TWO_SIDE && L->keypad;
	if (two && L->keypad && ui_keypad_width(key, gap) > col_w) {
		widths[1] = ui_keypad_width(key, gap);
		widths[0] = inner - col_gap - widths[1];
		if (widths[0] < inner / 3)
			fits = false;
	}
	int bar_w = pad_side ? widths[0] : inner;
	/* The bars, bottom up. */
	P->n_bars = two ? 1 : L->n_rows;
	int y = page->height - m / 2;
	for (int r = P->n_bars - 1; r >= 0; r--) {
		int first = 0;
		for (int k = 0; k < r; k++)
			first += L->rows[k];
		P->bar_n[r] = two ? L->n_buttons : L->rows[r];
		P->bar_b[r] = two ? L->wide : L->buttons + first;
		struct ui_rect probe[SCR_BAR_N_MAX];
		ui_bar((struct ui_rect){m, 0, bar_w, 0}, (size_t)P->bar_n[r], gap, 0, probe);
		int h = bar_need(page, P->bar_b[r], P->bar_n[r], probe[0].w);
		if (h < 0)
			fits = false, h = UI_TOUCH_MIN_PX;
		if (!tight)
			h = max_i(h, ui_px(page, THEME_BAR_H));
		y -= h;
		ui_bar((struct ui_rect){m, y, bar_w, h}, (size_t)P->bar_n[r], gap, 0, P->bar[r]);
		y -= gap;
	}
	int top = theme_header_height(page, L->title) + gap;
	/* Each column a flow from the header to the bars, the room left at its end or to the keypad. */
	for (int c = 0; c < (two ? 2 : 1); c++) {
		struct ui_flow_item f[SCR_ITEMS_MAX + 1];
		int map[SCR_ITEMS_MAX], k = 0;
		int x = m + (c ? widths[0] + col_gap : 0);
		col_w = widths[c];
		int bottom = pad_side && c == 1 ? page->height - m / 2 : y;
		for (int i = 0; i < L->n; i++) {
			const struct scr_item *it = &L->items[i];
			if ((two && it->col != c) || !item_present(it) || (it->drop && it->drop <= level))
				continue;
			P->shown[i] = true;
			int tw = text_w(page, L, i, col_w);
			if (tw < UI_TOUCH_MIN_PX)
				fits = false, tw = UI_TOUCH_MIN_PX;
			P->px[i] = item_px(page, it, tw);
			/* A word wider than the box even at the smallest size is text that does not fit
			 * (the page check fails it): another arrangement, or a drop, must give it room. */
			struct ui_text_extent e;
			if (ui_page_text_extent(page, it->sample ? it->sample : it->text, P->px[i],
						it->bold || it->look != SCR_LOOK_LABEL,
						it->dir == TEXT_DIR_AUTO ? page_dir(page) : it->dir, tw, &e) == 0 &&
			    (e.word_cuts > 0 || e.width > tw - 2 * UI_TEXT_PAD))
				fits = false;
			int h = item_h(page, it, P->px[i], tw);
			if (it->look == SCR_LOOK_STEPPER && stepper_stacked(page, it, col_w))
				h = ui_page_text_height(page, it->sample ? it->sample : it->text, P->px[i], true,
							it->dir == TEXT_DIR_AUTO ? page_dir(page) : it->dir, tw) +
				    2 * ui_px(page, SCR_BAND_PAD) + gap + step_side(page);
			map[k] = i;
			f[k++] = ui_flow_slot(h, h);
		}
		bool pad_here = L->keypad && c == (two ? 1 : 0);
		int pad_min = pad_here ? ui_keypad_height(key, gap) : 0;
		if (pad_here && ui_keypad_width(key, gap) > col_w)
			fits = false;
		f[k] = ui_flow_slot(pad_min, UI_FLOW_FILL);
		if (ui_flow_column(f, (size_t)k + 1, top, bottom, gap) != 0)
			fits = false;
		for (int j = 0; j < k; j++)
			P->item[map[j]] = (struct ui_rect){x, f[j].y, col_w, f[j].h};
		if (pad_here)
			P->pad = (struct ui_rect){x, f[k].y, col_w, f[k].h};
	}
	return fits;
}

/* The touchable looks (layout.h): their widgets in box r (reading order), text at px. */
static void add_touchable(struct ui_page *page, const struct scr_layout *L, int i, struct ui_rect r, int px)
{
	const struct scr_item *it = &L->items[i];
	static const struct scr_item_ext none = {0};
	const struct scr_item_ext *x = L->ext ? &L->ext[i] : &none;
	int gap = ui_px(page, SCR_GAP);
	struct ui_widget *w;
	switch (it->look) {
	case SCR_LOOK_CHOICE:
		/* Chosen: the band's colours, as a primary button; else a white box with a band border. */
		w = ui_page_add(page, it->id, UI_BUTTON, r, it->text);
		w->text_px = px, w->bold = true, w->enabled = x->enabled;
		w->bg = x->selected ? THEME_BAND : THEME_TILE;
		w->fg = x->selected ? THEME_ON_BAND : THEME_BAND;
		w->border = THEME_BAND;
		break;
	case SCR_LOOK_STEPPER: {
		int side = step_side(page);
		struct ui_rect less = {r.x, r.y + (r.h - side) / 2, side, side};
		struct ui_rect more = {r.x + r.w - side, less.y, side, side};
		struct ui_rect label = {r.x + side + gap, r.y, r.w - 2 * (side + gap), r.h};
		if (stepper_stacked(page, it, r.w)) {
			/* The figure over the two buttons, each half the width. */
			label = (struct ui_rect){r.x, r.y, r.w, r.h - side - gap};
			less = (struct ui_rect){r.x, r.y + r.h - side, (r.w - gap) / 2, side};
			more = (struct ui_rect){r.x + r.w - (r.w - gap) / 2, less.y, (r.w - gap) / 2, side};
		}
		w = ui_page_add(page, it->id, UI_LABEL, label, it->text);
		w->text_px = px, w->bold = it->bold, w->fg = it->fg;
		for (int b = 0; b < 2; b++) {
			struct ui_widget *btn = theme_button(page, x->btn_id[b], b ? more : less, x->btn_text[b]);
			btn->enabled = x->btn_enabled[b];
		}
		break;
	}
	case SCR_LOOK_REMOVABLE: {
		int bw = remove_w(page, x);
		w = ui_page_add(page, it->id, UI_PANEL, (struct ui_rect){r.x, r.y, r.w - bw - gap, r.h}, it->text);
		w->text_px = px, w->bold = it->bold, w->bg = THEME_TILE, w->border = THEME_TILE_BORDER, w->fg = THEME_TEXT;
		w->align = TEXT_ALIGN_START;
		struct ui_widget *btn = theme_button_secondary(page, x->btn_id[0], (struct ui_rect){r.x + r.w - bw, r.y, bw, r.h},
							      x->btn_text[0]);
		btn->enabled = x->btn_enabled[0];
		break;
	}
	case SCR_LOOK_LABEL:
	case SCR_LOOK_WARN:
	case SCR_LOOK_FAULT:
	case SCR_LOOK_NUMBER: break;
	}
}

/*
 * Lays L out and adds its widgets. The arrangement follows the page's shape (landscape: two
 * columns, the bar in one row; else one column and the bar's rows); what does not fit gives up
 * room in this order, trying each step in the page's arrangement and then in the others: the
 * bars' spare height, then the items of drop level 1, 2, ... (each screen's order).
 */
bool scr_key_digit(const char *id, char *digit)
{
	if (strncmp(id, "key.", 4) != 0 || id[4] < '0' || id[4] > '9' || id[5] != '\0')
		return false;
	*digit = id[4];
	return true;
}

bool scr_lay_out(struct ui_page *page, const struct scr_layout *L)
{
	bool wide = ui_page_landscape(page);
	struct placed P;
	bool done = false;
	static const enum arrangement wide_first[] = {ARR_TWO_SIDE, ARR_TWO_ACROSS, ARR_ONE};
	static const enum arrangement tall_first[] = {ARR_ONE, ARR_TWO_SIDE, ARR_TWO_ACROSS};
	const enum arrangement *arrs = wide ? wide_first : tall_first;
	for (int level = 0; level <= DROP_LEVELS && !done; level++)
		for (int a = 0; a < 3 && !done; a++)
			for (int tight = 0; tight < 2 && !done; tight++)
				done = place(page, L, arrs[a], level, tight, &P);
	if (!done)
		place(page, L, arrs[0], DROP_LEVELS, true, &P); /* as it is: the page check says what is off */

	theme_header(page, L->header_id, L->title);
	for (int i = 0; i < L->n; i++) {
		const struct scr_item *it = &L->items[i];
		if (!P.shown[i])
			continue;
		if (touchable_look(it->look)) {
			add_touchable(page, L, i, P.item[i], P.px[i]);
			continue;
		}
		struct ui_widget *w = ui_page_add(page, it->id, it->look == SCR_LOOK_LABEL ? UI_LABEL : UI_PANEL, P.item[i],
						  it->text);
		w->text_px = P.px[i], w->bold = it->bold || it->look != SCR_LOOK_LABEL;
		if (it->dir != TEXT_DIR_AUTO)
			w->dir = it->dir;
		switch (it->look) {
		case SCR_LOOK_LABEL: w->fg = it->fg; break;
		case SCR_LOOK_WARN: w->bg = THEME_WARN_BG, w->fg = THEME_WARN_TEXT; break;
		case SCR_LOOK_FAULT: w->bg = THEME_FAULT_BG, w->fg = THEME_FAULT_TEXT; break;
		case SCR_LOOK_NUMBER: w->bg = THEME_TILE, w->border = THEME_TILE_BORDER, w->fg = THEME_TEXT; break;
		case SCR_LOOK_CHOICE:
		case SCR_LOOK_STEPPER:
		case SCR_LOOK_REMOVABLE: break;
		}
	}
	if (L->keypad) {
		size_t first_key = page->n;
		theme_keypad(page, P.pad, SCR_GAP, SCR_KEY_MAX, L->clear, L->del);
		for (size_t i = first_key; L->keys_wait && i < page->n; i++)
			page->widgets[i].enabled = false;
	}
	for (int r = 0; r < P.n_bars; r++)
		for (int i = 0; i < P.bar_n[r]; i++) {
			const struct scr_button *b = &P.bar_b[r][i];
			struct ui_widget *x = b->primary ? theme_button(page, b->id, P.bar[r][i], b->text)
							 : theme_button_secondary(page, b->id, P.bar[r][i], b->text);
			x->enabled = b->enabled;
		}
	return done;
}
