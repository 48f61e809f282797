/* The page check (check.h): geometry, text fit and touch targets of a built page. */
#include "check.h"

#include <stdio.h>
#include <string.h>

#include "kiosk/core/bidinum.h"

static bool intersects(const struct ui_rect *a, const struct ui_rect *b)
{
	return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h && b->y < a->y + a->h;
}

static bool backdrop(const struct ui_widget *w)
{
	return !ui_widget_touchable(w) && !w->text && !w->subtext;
}

/* Rule 5: the first "{name}" in text (name of [a-z0-9_-]), copied to out; NULL for none. */
static const char *placeholder(const char *text, char *out, size_t cap)
{
	for (const char *open = text ? strchr(text, '{') : NULL; open; open = strchr(open + 1, '{')) {
		size_t n = strspn(open + 1, "abcdefghijklmnopqrstuvwxyz0123456789_-");
		if (n > 0 && open[1 + n] == '}') {
			snprintf(out, cap, "%.*s", (int)(n + 2), open);
			return out;
		}
	}
	return NULL;
}

/* "[touch target ]'id' (x,y wxh)" for messages. */
static const char *describe(const struct ui_widget *w, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s'%s' (%d,%d %dx%d)", ui_widget_touchable(w) ? "touch target " : "", w->id, w->rect.x,
		 w->rect.y, w->rect.w, w->rect.h);
	return buf;
}

int ui_page_check(const struct ui_page *page, struct text_engine *text, struct kio_error *err)
{
	char page_desc[80], a[96], b[96];
	snprintf(page_desc, sizeof(page_desc), "%dx%d %s page", page->width, page->height, page->rtl ? "rtl" : "ltr");
	const struct ui_rect screen = {0, 0, page->width, page->height};
	for (size_t i = 0; i < page->n; i++) {
		const struct ui_widget *w = &page->widgets[i];
		if (!w->visible)
			continue;
		const struct ui_rect *r = &w->rect;
		if (r->w <= 0 || r->h <= 0 || r->x < 0 || r->y < 0 || r->x + r->w > screen.w || r->y + r->h > screen.h)
			return kio_fail(err, KIO_ERR_INVALID, "%s: %s is not inside the screen", page_desc,
					describe(w, a, sizeof(a)));
		if (w->text) {
			struct ui_text_extent ext;
			int rc = ui_widget_measure(text, w, &ext);
			if (rc != 0)
				return kio_fail(err, rc, "%s: cannot measure the text of '%s'", page_desc, w->id);
			int room_w = r->w - 2 * UI_TEXT_PAD;
			if (ext.width > room_w || ext.height > r->h)
				return kio_fail(err, KIO_ERR_INVALID,
						"%s: the text of %s overflows its box: %d lines, %dx%d px in %dx%d px",
						page_desc, describe(w, a, sizeof(a)), ext.lines, ext.width, ext.height,
						room_w, r->h);
			/* A word wider than the box is cut in pieces that each fit ("Canc" over "el"):
			 * the extent cannot show it, the engine's count of cuts does. */
			if (ext.word_cuts > 0)
				return kio_fail(err, KIO_ERR_INVALID,
						"%s: the text of %s breaks inside a word (%d cut%s) in %d px",
						page_desc, describe(w, a, sizeof(a)), ext.word_cuts,
						ext.word_cuts == 1 ? "" : "s", room_w);
		}
		char ph[48];
		if (placeholder(w->text, ph, sizeof(ph)) || placeholder(w->subtext, ph, sizeof(ph)))
			return kio_fail(err, KIO_ERR_INVALID, "%s: the text of %s shows the placeholder %s unfilled",
					page_desc, describe(w, a, sizeof(a)), ph);
		char run[64];
		if (core_bidi_reversed_number(w->text, run, sizeof(run)) ||
		    core_bidi_reversed_number(w->subtext, run, sizeof(run)))
			return kio_fail(err, KIO_ERR_INVALID,
					"%s: the text of %s shows \"%s\" backwards after Arabic (put it between LRI and PDI)",
					page_desc, describe(w, a, sizeof(a)), run);
		if (ui_widget_touchable(w) && (r->w < UI_TOUCH_MIN_PX || r->h < UI_TOUCH_MIN_PX))
			return kio_fail(err, KIO_ERR_INVALID, "%s: %s is smaller than %dx%d px", page_desc,
					describe(w, a, sizeof(a)), UI_TOUCH_MIN_PX, UI_TOUCH_MIN_PX);
		for (size_t j = 0; j < i; j++) {
			const struct ui_widget *under = &page->widgets[j];
			if (!under->visible || backdrop(under) || !intersects(r, &under->rect))
				continue;
			int ox = (r->x + r->w < under->rect.x + under->rect.w ? r->x + r->w : under->rect.x + under->rect.w) -
				 (r->x > under->rect.x ? r->x : under->rect.x);
			int oy = (r->y + r->h < under->rect.y + under->rect.h ? r->y + r->h : under->rect.y + under->rect.h) -
				 (r->y > under->rect.y ? r->y : under->rect.y);
			return kio_fail(err, KIO_ERR_INVALID, "%s: %s overlaps %s by %dx%d px", page_desc,
					describe(w, a, sizeof(a)), describe(under, b, sizeof(b)), ox, oy);
		}
	}
	return 0;
}
