/* The page check (check.h): geometry, text fit and touch targets of a built page. */
#include "check.h"

#include <stdio.h>
#include <string.h>

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

/* One code point of UTF-8 at *p (advanced past it); U+FFFD for a malformed byte (the text
 * engine refuses those before a page is drawn; here it only must not be misread). */
static unsigned next_cp(const unsigned char **p)
{
	const unsigned char *s = *p;
	unsigned c = s[0];
	int n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
	if (n < 0) {
		*p = s + 1;
		return 0xFFFD;
	}
	unsigned cp = n == 0 ? c : c & (0x3F >> n);
	for (int k = 1; k <= n; k++) {
		if ((s[k] & 0xC0) != 0x80) {
			*p = s + k;
			return 0xFFFD;
		}
		cp = cp << 6 | (s[k] & 0x3F);
	}
	*p = s + n + 1;
	return cp;
}

static bool arabic_letter(unsigned cp)
{
	bool arabic = (cp >= 0x0600 && cp <= 0x06FF) || (cp >= 0x0750 && cp <= 0x077F) ||
		      (cp >= 0x08A0 && cp <= 0x08FF) || (cp >= 0xFB50 && cp <= 0xFDFF) || (cp >= 0xFE70 && cp <= 0xFEFF);
	/* Digits, separators and marks in those blocks are not letters (UAX #9: AN, EN, CS, NSM). */
	return arabic && !(cp >= 0x0660 && cp <= 0x066C) && !(cp >= 0x06F0 && cp <= 0x06F9) && cp != 0x060C &&
	       !(cp >= 0x064B && cp <= 0x065F) && cp != 0x0670;
}

static bool latin_letter(unsigned cp)
{
	return (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') || (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7);
}

static int digit_kind(unsigned cp) /* 0 none, 1 European (EN), 2 Arabic-Indic (AN) */
{
	if ((cp >= '0' && cp <= '9') || (cp >= 0x06F0 && cp <= 0x06F9))
		return 1;
	return cp >= 0x0660 && cp <= 0x0669 ? 2 : 0;
}

/*
 * Rule 6: the first "digits-digits" (or "+") in text that the bidi algorithm shows backwards,
 * copied to out; NULL for none. After an Arabic letter a European number is an Arabic number
 * (UAX #9, W2), and a "-" or "+" between Arabic numbers stays a neutral (W4 joins them only
 * across a CS such as "/" or ":"), so "2099-12-31" after Arabic reads "31-12-2099" on screen.
 * Inside an isolate (LRI, RLI, FSI ... PDI) or an embedding the run is the writer's own.
 */
static const char *reversed_number(const char *text, char *out, size_t cap)
{
	if (!text)
		return NULL;
	int depth = 0;
	bool after_arabic = false;
	const unsigned char *p = (const unsigned char *)text;
	while (*p) {
		const unsigned char *start = p;
		unsigned cp = next_cp(&p);
		if (cp >= 0x2066 && cp <= 0x2068) {
			depth++;
			continue;
		}
		if (cp >= 0x202A && cp <= 0x202E && cp != 0x202C) {
			depth++;
			continue;
		}
		if ((cp == 0x2069 || cp == 0x202C) && depth > 0) {
			depth--;
			continue;
		}
		if (depth > 0)
			continue;
		if (arabic_letter(cp)) {
			after_arabic = true;
			continue;
		}
		if (latin_letter(cp)) {
			after_arabic = false;
			continue;
		}
		int kind = digit_kind(cp);
		if (!kind)
			continue;
		/* A run of digits, then "-" or "+", then a digit. */
		const unsigned char *q = p;
		unsigned c2 = 0;
		while (*q) {
			const unsigned char *at = q;
			c2 = next_cp(&q);
			if (!digit_kind(c2)) {
				q = at;
				break;
			}
			if (digit_kind(c2) == 2)
				kind = 2;
		}
		p = q;
		if (*q != '-' && *q != '+')
			continue;
		const unsigned char *r = q + 1;
		unsigned c3 = *r ? next_cp(&r) : 0;
		if (!digit_kind(c3) || (kind != 2 && digit_kind(c3) != 2 && !after_arabic))
			continue;
		/* The whole of it for the message: "2099-12-31", not "2099-12". */
		while (*r) {
			const unsigned char *at = r;
			unsigned c4 = next_cp(&r);
			if (digit_kind(c4))
				continue;
			const unsigned char *after = r;
			if ((c4 == '-' || c4 == '+') && *after && digit_kind(next_cp(&after)))
				continue;
			r = at;
			break;
		}
		snprintf(out, cap, "%.*s", (int)(r - start), (const char *)start);
		return out;
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
		if (reversed_number(w->text, run, sizeof(run)) || reversed_number(w->subtext, run, sizeof(run)))
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
