/*
 * A screen's page: the widgets it shows, each with a stable dotted id (`home.topup`),
 * its text already in the session language, and the hit-testing a finger goes through.
 * No SDL here: pages are built and inspected headless (scenarios, unit tests).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiosk/text/text.h"

struct ui_rect {
	int x, y, w, h;
};

enum ui_kind {
	UI_LABEL,  /* text only, not touchable */
	UI_PANEL,  /* a coloured area (header band, banner); not touchable */
	UI_BUTTON, /* touchable, one line of text */
	UI_TILE,   /* touchable, a title and a subtitle */
	UI_KEY,    /* a key of an on-screen keypad: `type` taps these */
};

struct ui_widget {
	char id[48];
	enum ui_kind kind;
	struct ui_rect rect;
	char *text;     /* owned; may be NULL */
	char *subtext;  /* owned; tiles only */
	/* owned, may be NULL: a PNG file (a catalogue entity's icon) drawn centred over the text,
	 * image_px square, UI_IMAGE_GAP(text_px) above it; part of what the widget measures. */
	char *image;
	int image_px;
	uint32_t key;   /* UI_KEY: the character it types (a code point) */
	int text_px;
	bool bold;
	enum text_align align;
	enum text_dir dir; /* defaults to the page's direction */
	uint32_t fg, bg, border; /* 0xRRGGBBAA; bg alpha 0 = transparent */
	bool visible;
	bool enabled;
};

struct ui_page {
	struct ui_widget *widgets; /* drawn in order: later ones are on top */
	size_t n, cap;
	uint32_t background;
	bool rtl;       /* the page's language reads right to left */
	int width, height;
	/* Borrowed, may be NULL: measures text so screens can size boxes to it (ui_text_measure). */
	struct text_engine *text;
};

/*
 * How text sits in a widget, shared by the drawing (display.c), the layouts (screens) and the
 * page check: it wraps at the box width less UI_TEXT_PAD on each side and is centred
 * vertically; a tile's subtitle is 3/5 of the title's size, UI_SUBTEXT_GAP(px) below it.
 */
enum { UI_TEXT_PAD = 24 };
/*
 * The smallest text a customer screen draws, in logical px, whatever the scale (kiosk/ui/grid.h,
 * ui_text_px): 5.3 mm on a 15" 1024 x 768 panel, read at arm's length. A subtitle never goes
 * under it either.
 */
enum { UI_TEXT_MIN_PX = 18 };
#define UI_SUBTEXT_PX(px) ((px) * 3 / 5 > UI_TEXT_MIN_PX ? (px) * 3 / 5 : UI_TEXT_MIN_PX)
#define UI_SUBTEXT_GAP(px) ((px) / 3)
#define UI_IMAGE_GAP(px) ((px) / 3)

/* The extent of a widget's text (and image) as it will be drawn in its box. */
struct ui_text_extent {
	int width;  /* the widest line, title or subtitle */
	int height; /* title, gap and subtitle */
	int lines;
	int word_cuts; /* lines cut inside a word (text_layout_word_cuts): > 0 is text that does not fit */
};
/*
 * Measures w's text (and subtext) at w's box width. Returns 0, or KIO_ERR_NOMEM if the engine
 * could not lay it out. A widget without text measures 0 x 0.
 */
int ui_widget_measure(struct text_engine *text, const struct ui_widget *w, struct ui_text_extent *out);
/*
 * The height text takes in a box box_w wide (UI_TEXT_PAD inside each side), for layouts that
 * size a box to its content; 0 if page->text is NULL (a page built without an engine).
 */
int ui_page_text_height(const struct ui_page *page, const char *text, int px, bool bold, enum text_dir dir,
			int box_w);

/*
 * The extent of text in a box box_w wide, as ui_widget_measure gives it: word_cuts > 0 means a
 * word does not fit that narrow (the engine cut it in two pieces that each fit the width), as
 * does width > box_w less 2 * UI_TEXT_PAD for a single cluster wider than the box; layouts that
 * try several widths, such as grid columns, use it to refuse one. Returns 0 (all zero if page->text is NULL), or
 * KIO_ERR_NOMEM if the engine could not lay it out.
 */
int ui_page_text_extent(const struct ui_page *page, const char *text, int px, bool bold, enum text_dir dir,
			int box_w, struct ui_text_extent *out);

void ui_page_init(struct ui_page *page, int width, int height, bool rtl, uint32_t background);
void ui_page_clear(struct ui_page *page); /* frees the widgets' texts; keeps size and direction */
/* Removes the widgets from the n-th on (a layout taking back what did not fit); n <= page->n. */
void ui_page_truncate(struct ui_page *page, size_t n);

/*
 * Adds a widget (visible, enabled, centred text); text is copied. In an RTL page the
 * rect is mirrored horizontally, so screens lay out once in reading order ("start" = x 0).
 * Returns the widget, borrowed from the page until the next add or clear.
 */
struct ui_widget *ui_page_add(struct ui_page *page, const char *id, enum ui_kind kind,
			      struct ui_rect rect, const char *text);

struct ui_widget *ui_page_find(struct ui_page *page, const char *id);
/* The topmost visible touchable widget under (x, y), enabled or not, or NULL. */
struct ui_widget *ui_page_hit(struct ui_page *page, int x, int y);
/* The touchable widget whose text is exactly text, or NULL. */
struct ui_widget *ui_page_find_text(struct ui_page *page, const char *text);
/* True if text is one of the strings the page shows (any visible widget's text or subtext). */
bool ui_page_shows_text(const struct ui_page *page, const char *text);

static inline bool ui_widget_touchable(const struct ui_widget *w)
{
	return w->kind == UI_BUTTON || w->kind == UI_TILE || w->kind == UI_KEY;
}
