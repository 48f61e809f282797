/* Size-derived geometry: scale, grids, keypad, label-value rows, button bars (grid.h). */
#include "grid.h"

#include <stdint.h>
#include <stdlib.h>

#include "kiosk/core/xmalloc.h"

const char *const UI_KEYPAD_KEYS[UI_KEYPAD_N] = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "del"};

int ui_page_scale(const struct ui_page *page)
{
	int64_t s = page->width < page->height ? page->width : page->height;
	int64_t l = page->width < page->height ? page->height : page->width;
	/* min(s / 1080, l / 1536) in 1/1000. */
	int64_t a = s * 1000 / UI_DESIGN_SHORT_PX, b = l * 1000 / UI_DESIGN_LONG_FIT_PX;
	return (int)(a < b ? a : b);
}

int ui_px(const struct ui_page *page, int design_px)
{
	int64_t v = ((int64_t)design_px * ui_page_scale(page) + 500) / 1000;
	if (design_px > 0 && v < 1)
		v = 1;
	return (int)v;
}

int ui_text_px(const struct ui_page *page, int design_px)
{
	int v = ui_px(page, design_px);
	return v > UI_TEXT_MIN_PX ? v : UI_TEXT_MIN_PX;
}

struct ui_rect ui_grid_cell(struct ui_rect area, int cols, int rows, int gap, int i)
{
	if (cols < 1)
		cols = 1;
	if (rows < 1)
		rows = 1;
	int cw = (area.w - (cols - 1) * gap) / cols, ch = (area.h - (rows - 1) * gap) / rows;
	int col = i % cols, row = i / cols;
	struct ui_rect r = {area.x + col * (cw + gap), area.y + row * (ch + gap), cw, ch};
	if (col == cols - 1)
		r.w = area.x + area.w - r.x;
	if (row == rows - 1)
		r.h = area.y + area.h - r.y;
	return r;
}

struct ui_rect ui_grid_square(struct ui_rect area, int cols, int rows, int gap, int max_cell)
{
	if (cols < 1)
		cols = 1;
	if (rows < 1)
		rows = 1;
	int cw = (area.w - (cols - 1) * gap) / cols, ch = (area.h - (rows - 1) * gap) / rows;
	int cell = cw < ch ? cw : ch;
	if (max_cell > 0 && cell > max_cell)
		cell = max_cell;
	if (cell < 0)
		cell = 0;
	int w = cols * cell + (cols - 1) * gap, h = rows * cell + (rows - 1) * gap;
	return (struct ui_rect){area.x + (area.w - w) / 2, area.y + (area.h - h) / 2, w, h};
}

/* |log(a / b)| ordered without floating point: the larger of a/b and b/a, in 1/1000. */
static int64_t ratio_off(int64_t a, int64_t b)
{
	if (a <= 0 || b <= 0)
		return INT64_MAX;
	return a > b ? a * 1000 / b : b * 1000 / a;
}

int ui_grid_columns(size_t n, struct ui_rect area, int gap, int pref_h, int aspect, ui_cell_min_h min_h,
		    void *ctx, int *rows_h_out)
{
	int best = 0;
	int64_t best_off = INT64_MAX;
	size_t best_empty = SIZE_MAX;
	int *rows_h = xcalloc(n ? n : 1, sizeof(*rows_h));
	for (size_t cols = 1; cols <= n; cols++) {
		size_t rows = (n + cols - 1) / cols;
		int cw = (area.w - (int)(cols - 1) * gap) / (int)cols;
		if (cw <= 0)
			break;
		int64_t sum = (int64_t)(rows - 1) * gap;
		bool fits = true;
		for (size_t r = 0; r < rows && fits; r++) {
			rows_h[r] = 0;
			for (size_t c = 0; c < cols && r * cols + c < n; c++) {
				int h = min_h(ctx, (int)(r * cols + c), cw);
				if (h < 0)
					fits = false;
				else if (h > rows_h[r])
					rows_h[r] = h;
			}
			sum += rows_h[r];
		}
		if (!fits || sum > area.h)
			continue;
		/* The rows share the room left, each up to pref_h (no row under its minimum). */
		int64_t left = area.h - sum;
		int tallest = 0;
		for (size_t r = 0; r < rows; r++) {
			int64_t grow = pref_h - rows_h[r];
			int64_t share = left / (int64_t)(rows - r);
			if (grow > share)
				grow = share;
			if (grow > 0) {
				rows_h[r] += (int)grow;
				left -= grow;
			}
			tallest = rows_h[r] > tallest ? rows_h[r] : tallest;
		}
		int64_t off = ratio_off((int64_t)cw * 1000, (int64_t)tallest * aspect);
		size_t empty = rows * cols - n;
		if (empty < best_empty || (empty == best_empty && off < best_off)) {
			best_empty = empty, best_off = off, best = (int)cols;
			if (rows_h_out)
				for (size_t r = 0; r < rows; r++)
					rows_h_out[r] = rows_h[r];
		}
	}
	free(rows_h);
	return best;
}

struct ui_rect ui_keypad_cell(struct ui_rect area, int gap, int max_key, int i)
{
	struct ui_rect pad = ui_grid_square(area, UI_KEYPAD_COLS, UI_KEYPAD_ROWS, gap, max_key);
	return ui_grid_cell(pad, UI_KEYPAD_COLS, UI_KEYPAD_ROWS, gap, i);
}

void ui_row_split(struct ui_rect row, int label_w, int gap, struct ui_rect *label, struct ui_rect *value)
{
	if (label_w > row.w)
		label_w = row.w;
	if (label_w < 0)
		label_w = 0;
	*label = (struct ui_rect){row.x, row.y, label_w, row.h};
	int vx = row.x + label_w + gap;
	*value = (struct ui_rect){vx, row.y, row.x + row.w - vx, row.h};
}

void ui_bar(struct ui_rect area, size_t n, int gap, int max_w, struct ui_rect *out)
{
	if (n == 0)
		return;
	int w = (area.w - (int)(n - 1) * gap) / (int)n;
	if (max_w > 0 && w > max_w)
		w = max_w;
	/* The room the cap leaves is spread between the buttons, so the ends stay at the edges. */
	int space = n > 1 ? (area.w - (int)n * w) / (int)(n - 1) : 0;
	for (size_t i = 0; i < n; i++) {
		out[i] = (struct ui_rect){area.x + (int)i * (w + space), area.y, w, area.h};
		if (n > 1 && i == n - 1)
			out[i].x = area.x + area.w - w;
	}
}
