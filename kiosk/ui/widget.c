/* Page bookkeeping, hit-testing, and measuring a widget's text as it will be drawn. */
#include "widget.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/core/err.h"
#include "kiosk/core/xmalloc.h"

void ui_page_init(struct ui_page *page, int width, int height, bool rtl, uint32_t background)
{
	memset(page, 0, sizeof(*page));
	page->width = width;
	page->height = height;
	page->rtl = rtl;
	page->background = background;
}

void ui_page_clear(struct ui_page *page)
{
	for (size_t i = 0; i < page->n; i++) {
		free(page->widgets[i].text);
		free(page->widgets[i].subtext);
		free(page->widgets[i].image);
	}
	free(page->widgets);
	page->widgets = NULL;
	page->n = page->cap = 0;
}

void ui_page_truncate(struct ui_page *page, size_t n)
{
	for (size_t i = n; i < page->n; i++) {
		free(page->widgets[i].text);
		free(page->widgets[i].subtext);
		free(page->widgets[i].image);
	}
	if (n < page->n)
		page->n = n;
}

struct ui_widget *ui_page_add(struct ui_page *page, const char *id, enum ui_kind kind,
			      struct ui_rect rect, const char *text)
{
	if (page->n == page->cap) {
		page->cap = page->cap ? page->cap * 2 : 32;
		page->widgets = xrealloc(page->widgets, page->cap * sizeof(*page->widgets));
	}
	struct ui_widget *w = &page->widgets[page->n++];
	memset(w, 0, sizeof(*w));
	snprintf(w->id, sizeof(w->id), "%s", id);
	w->kind = kind;
	if (page->rtl)
		rect.x = page->width - rect.x - rect.w;
	w->rect = rect;
	w->text = text ? xstrdup(text) : NULL;
	w->text_px = 40;
	w->align = TEXT_ALIGN_CENTER;
	w->dir = page->rtl ? TEXT_DIR_RTL : TEXT_DIR_LTR;
	w->fg = 0x1A1A1AFF;
	w->visible = true;
	w->enabled = true;
	return w;
}

struct ui_widget *ui_page_find(struct ui_page *page, const char *id)
{
	for (size_t i = 0; i < page->n; i++)
		if (strcmp(page->widgets[i].id, id) == 0)
			return &page->widgets[i];
	return NULL;
}

static bool contains(const struct ui_rect *r, int x, int y)
{
	return x >= r->x && x < r->x + r->w && y >= r->y && y < r->y + r->h;
}

struct ui_widget *ui_page_hit(struct ui_page *page, int x, int y)
{
	for (size_t i = page->n; i-- > 0;) {
		struct ui_widget *w = &page->widgets[i];
		if (w->visible && ui_widget_touchable(w) && contains(&w->rect, x, y))
			return w;
	}
	return NULL;
}

struct ui_widget *ui_page_find_text(struct ui_page *page, const char *text)
{
	for (size_t i = 0; i < page->n; i++) {
		struct ui_widget *w = &page->widgets[i];
		if (ui_widget_touchable(w) && w->text && strcmp(w->text, text) == 0)
			return w;
	}
	return NULL;
}

bool ui_page_shows_text(const struct ui_page *page, const char *text)
{
	for (size_t i = 0; i < page->n; i++) {
		const struct ui_widget *w = &page->widgets[i];
		if (!w->visible)
			continue;
		if ((w->text && strcmp(w->text, text) == 0) || (w->subtext && strcmp(w->subtext, text) == 0))
			return true;
	}
	return false;
}

/* One block of text at the box width the drawing uses; false if the engine failed. */
static bool measure_block(struct text_engine *text, const char *s, int px, bool bold, enum text_dir dir,
			  int box_w, struct ui_text_extent *out)
{
	struct text_style style = {.size_px = px, .bold = bold, .dir = dir, .max_width = box_w - 2 * UI_TEXT_PAD};
	/* A box narrower than its padding wraps at every cluster; the check reports it. */
	if (style.max_width < 1)
		style.max_width = 1;
	const struct text_layout *layout = text_layout(text, s, &style);
	if (!layout)
		return false;
	out->width = text_layout_natural_width(layout);
	out->height = text_layout_height(layout);
	out->lines = text_layout_line_count(layout);
	out->word_cuts = text_layout_word_cuts(layout);
	return true;
}

int ui_widget_measure(struct text_engine *text, const struct ui_widget *w, struct ui_text_extent *out)
{
	memset(out, 0, sizeof(*out));
	if (!w->text)
		return 0;
	if (!measure_block(text, w->text, w->text_px, w->bold, w->dir, w->rect.w, out))
		return KIO_ERR_NOMEM;
	if (w->subtext) {
		struct ui_text_extent sub;
		if (!measure_block(text, w->subtext, UI_SUBTEXT_PX(w->text_px), false, w->dir, w->rect.w, &sub))
			return KIO_ERR_NOMEM;
		out->width = sub.width > out->width ? sub.width : out->width;
		out->height += UI_SUBTEXT_GAP(w->text_px) + sub.height;
		out->lines += sub.lines;
		out->word_cuts += sub.word_cuts;
	}
	if (w->image && w->image_px > 0) {
		/* The image over the text: the page check holds it to the box like the text. */
		out->height += w->image_px + UI_IMAGE_GAP(w->text_px);
		out->width = w->image_px > out->width ? w->image_px : out->width;
	}
	return 0;
}

int ui_page_text_height(const struct ui_page *page, const char *text, int px, bool bold, enum text_dir dir,
			int box_w)
{
	struct ui_text_extent ext = {0};
	if (!page->text || !text || !measure_block(page->text, text, px, bold, dir, box_w, &ext))
		return 0;
	return ext.height;
}

int ui_page_text_extent(const struct ui_page *page, const char *text, int px, bool bold, enum text_dir dir,
			int box_w, struct ui_text_extent *out)
{
	memset(out, 0, sizeof(*out));
	if (!page->text || !text)
		return 0;
	return measure_block(page->text, text, px, bold, dir, box_w, out) ? 0 : KIO_ERR_NOMEM;
}
