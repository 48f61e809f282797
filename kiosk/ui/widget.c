/* Page bookkeeping and hit-testing. */
#include "widget.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	}
	free(page->widgets);
	page->widgets = NULL;
	page->n = page->cap = 0;
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
