/* Receipt documents: paragraphs, label/value rows and rules, laid out and drawn to 1 bit. */
#include "kiosk/print/print.h"

#include <errno.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "print"
#include "kiosk/core/bidinum.h"
#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"

/* Paper edges left white: the head's outer dots print weakest (TM manuals print 576 of the
 * head's dots on 80 mm paper; 8 more each side keeps glyphs off the edge). */
#define MARGIN_X 8
/* Text is aligned by advance widths, and a glyph's ink can reach past its advance (the hook
 * of an "f" ending a right-aligned transaction id went 1 dot into the margin): text keeps
 * this much more room on each side than rules do. */
#define TEXT_OVERHANG 2
#define MARGIN_TOP 16
#define MARGIN_BOTTOM 16
#define ITEM_GAP 4       /* between two items */
#define RULE_PAD 10      /* white above and below a rule */
#define RULE_DOTS 2

enum item_kind { ITEM_TEXT, ITEM_ROW, ITEM_RULE, ITEM_SPACE, ITEM_QR };

struct item {
	enum item_kind kind;
	struct print_style st;
	char *a, *b; /* text, or label and value; a QR's text */
	int px;
	QRcode *qr;  /* ITEM_QR: the symbol, encoded when added */
};

struct print_doc {
	struct item *items;
	size_t n, cap;
};

struct print_doc *print_doc_new(void)
{
	return xcalloc(1, sizeof(struct print_doc));
}

void print_doc_free(struct print_doc *doc)
{
	if (!doc)
		return;
	for (size_t i = 0; i < doc->n; i++) {
		free(doc->items[i].a);
		free(doc->items[i].b);
		if (doc->items[i].qr)
			QRcode_free(doc->items[i].qr);
	}
	free(doc->items);
	free(doc);
}

static struct item *add(struct print_doc *doc, enum item_kind kind, const struct print_style *st)
{
	if (doc->n == doc->cap) {
		doc->cap = doc->cap ? doc->cap * 2 : 16;
		doc->items = xrealloc(doc->items, doc->cap * sizeof(*doc->items));
	}
	struct item *it = &doc->items[doc->n++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	if (st)
		it->st = *st;
	if (it->st.size_px <= 0)
		it->st.size_px = PRINT_SIZE_BODY;
	return it;
}

void print_doc_text(struct print_doc *doc, const struct print_style *st, const char *utf8)
{
	add(doc, ITEM_TEXT, st)->a = xstrdup(utf8 ? utf8 : "");
}

void print_doc_row(struct print_doc *doc, const struct print_style *st, const char *label,
	const char *value)
{
	struct item *it = add(doc, ITEM_ROW, st);
	it->a = xstrdup(label ? label : "");
	it->b = xstrdup(value ? value : "");
}

void print_doc_rule(struct print_doc *doc)
{
	add(doc, ITEM_RULE, NULL);
}

void print_doc_space(struct print_doc *doc, int px)
{
	add(doc, ITEM_SPACE, NULL)->px = px > 0 ? px : 0;
}

int print_doc_qr(struct print_doc *doc, const char *text, struct kio_error *err)
{
	size_t n = text ? strlen(text) : 0;
	if (n == 0 || n > PRINT_QR_TEXT_MAX)
		return kio_fail(err, KIO_ERR_INVALID, "print: a QR code of %zu characters (1..%d)", n,
			PRINT_QR_TEXT_MAX);
	/* Version 0: the smallest symbol that holds it. Case-sensitive 8-bit hint: libqrencode
	 * splits the text into its cheapest modes, so upper-case base32 goes in alphanumeric
	 * mode (5.5 bits a character) and anything else still encodes exactly. */
	errno = 0;
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!qr)
		return kio_fail(err, errno == ENOMEM ? KIO_ERR_NOMEM : KIO_ERR_INVALID,
			"print: libqrencode cannot encode %zu characters: %s", n, strerror(errno));
	struct item *it = add(doc, ITEM_QR, NULL);
	it->a = xstrdup(text);
	it->qr = qr;
	return 0;
}

/* ---- rendering ---- */

/* The dots per module of q on a canvas w dots wide: the standard size, else the smallest
 * readable one, else 0 (it does not fit). */
static int qr_module_dots(const QRcode *q, int w)
{
	int room = w - 2 * MARGIN_X, modules = q->width + 2 * PRINT_QR_QUIET_MODULES;
	if (modules * PRINT_QR_MODULE_DOTS <= room)
		return PRINT_QR_MODULE_DOTS;
	if (modules * PRINT_QR_MODULE_DOTS_MIN <= room)
		return PRINT_QR_MODULE_DOTS_MIN;
	return 0;
}

struct canvas {
	uint8_t *cov; /* NULL while measuring */
	int w, h;
};

static struct text_style text_style_of(const struct print_style *st, enum text_align align,
	int max_width)
{
	return (struct text_style){.size_px = st->size_px, .bold = st->bold, .dir = st->dir,
		.align = align, .max_width = max_width};
}

/*
 * Lays out utf8 through the engine's layout cache; NULL (logged) only if the engine cannot
 * allocate. Borrowed until the next text_layout() call, so each use asks again right before
 * it (a hit is a hash lookup). Shaping every line anew, twice (to measure, then to draw), was
 * an eighth of a headless top-up's CPU (issue 14); most of a receipt's lines (its labels, the
 * kiosk, the footer) are the same on every receipt, and the drawing pass repeats the
 * measuring one.
 */
static const struct text_layout *lay(struct text_engine *e, const char *utf8, struct text_style ts)
{
	return text_layout(e, utf8, &ts);
}

static void draw(struct text_engine *e, const struct canvas *c, const struct text_layout *l,
	int x, int y)
{
	if (c->cov)
		text_draw_gray(e, l, c->cov, c->w, c->w, c->h, x, y);
}

/* Places one item at y; returns its height, -1 if the engine failed, -2 for a QR code wider
 * than the paper. */
static int place(struct text_engine *e, const struct canvas *c, const struct item *it, int y)
{
	int cw = c->w - 2 * MARGIN_X;
	int tw = cw - 2 * TEXT_OVERHANG, tx = MARGIN_X + TEXT_OVERHANG;
	switch (it->kind) {
	case ITEM_SPACE:
		return it->px;
	case ITEM_QR: {
		int m = qr_module_dots(it->qr, c->w);
		if (m == 0)
			return -2;
		int side = (it->qr->width + 2 * PRINT_QR_QUIET_MODULES) * m;
		int x0 = (c->w - side) / 2 + PRINT_QR_QUIET_MODULES * m, y0 = y + PRINT_QR_QUIET_MODULES * m;
		if (c->cov)
			for (int r = 0; r < it->qr->width; r++)
				for (int col = 0; col < it->qr->width; col++) {
					/* libqrencode: bit 0 of each byte is the module's colour (1 = dark). */
					if (!(it->qr->data[r * it->qr->width + col] & 1))
						continue;
					for (int dy = 0; dy < m; dy++)
						memset(c->cov + (size_t)(y0 + r * m + dy) * (size_t)c->w +
								(size_t)(x0 + col * m),
							255, (size_t)m);
				}
		return side;
	}
	case ITEM_RULE:
		if (c->cov)
			for (int k = 0; k < RULE_DOTS; k++)
				memset(c->cov + (size_t)(y + RULE_PAD + k) * (size_t)c->w + MARGIN_X, 255,
					(size_t)cw);
		return 2 * RULE_PAD + RULE_DOTS;
	case ITEM_TEXT: {
		const struct text_layout *l = lay(e, it->a, text_style_of(&it->st, it->st.align, tw));
		if (!l)
			return -1;
		draw(e, c, l, tx, y);
		return text_layout_height(l);
	}
	case ITEM_ROW: {
		/* Label at the paragraph's start edge, value at its end edge: the same direction
		 * for both, so an RTL row puts the label right and the value left. */
		struct text_style ls = text_style_of(&it->st, TEXT_ALIGN_START, tw);
		struct text_style vs = text_style_of(&it->st, TEXT_ALIGN_END, tw);
		const struct text_layout *lab = lay(e, it->a, ls);
		if (!lab)
			return -1;
		int lw = text_layout_natural_width(lab), lh = text_layout_height(lab);
		bool lab_one = text_layout_line_count(lab) == 1;
		const struct text_layout *val = lay(e, it->b, vs);
		if (!val)
			return -1;
		int vw = text_layout_natural_width(val), vh = text_layout_height(val);
		bool one_line = lab_one && text_layout_line_count(val) == 1 && lw + it->st.size_px + vw <= tw;
		if (c->cov) {
			/* Asked again: the value's lookup may have evicted the label. */
			lab = lay(e, it->a, ls);
			if (!lab)
				return -1;
			draw(e, c, lab, tx, y);
			val = lay(e, it->b, vs);
			if (!val)
				return -1;
			/* Too long for one line: the value under its label. */
			draw(e, c, val, tx, one_line ? y : y + lh);
		}
		return one_line ? (lh > vh ? lh : vh) : lh + vh;
	}
	}
	return 0;
}

/* Runs the items once: measures when c->cov is NULL, draws otherwise. place()'s failures. */
static int flow(const struct print_doc *doc, struct text_engine *e, const struct canvas *c)
{
	int y = MARGIN_TOP;
	for (size_t i = 0; i < doc->n; i++) {
		int h = place(e, c, &doc->items[i], y);
		if (h < 0)
			return h;
		y += h + (i + 1 < doc->n ? ITEM_GAP : 0);
	}
	return y + MARGIN_BOTTOM;
}

/* Appends s without the bidi isolates and embeddings (U+202A..202E, U+2066..2069). */
static void append_plain(char **out, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);
	if (*len + n + 2 > *cap) {
		*cap = (*len + n + 2) * 2;
		*out = xrealloc(*out, *cap);
	}
	for (size_t i = 0; i < n; i++) {
		const unsigned char *u = (const unsigned char *)s + i;
		if (i + 2 < n && u[0] == 0xE2 && ((u[1] == 0x80 && u[2] >= 0xAA && u[2] <= 0xAE) ||
			(u[1] == 0x81 && u[2] >= 0xA6 && u[2] <= 0xA9))) {
			i += 2;
			continue;
		}
		(*out)[(*len)++] = s[i];
	}
	(*out)[*len] = '\0';
}

static char *logical_text(const struct print_doc *doc)
{
	size_t len = 0, cap = 256;
	char *t = xmalloc(cap);
	t[0] = '\0';
	for (size_t i = 0; i < doc->n; i++) {
		const struct item *it = &doc->items[i];
		switch (it->kind) {
		case ITEM_TEXT:
			append_plain(&t, &len, &cap, it->a);
			break;
		case ITEM_ROW:
			append_plain(&t, &len, &cap, it->a);
			append_plain(&t, &len, &cap, "\t");
			append_plain(&t, &len, &cap, it->b);
			break;
		case ITEM_RULE:
			append_plain(&t, &len, &cap, "---");
			break;
		case ITEM_QR:
			append_plain(&t, &len, &cap, "QR\t");
			append_plain(&t, &len, &cap, it->a);
			break;
		case ITEM_SPACE:
			continue;
		}
		append_plain(&t, &len, &cap, "\n");
	}
	return t;
}

/* The page check's rule 6 on paper (kiosk/core/bidinum.h): each paragraph and each cell of a
 * row is laid out as a bidi paragraph of its own, so each is looked at alone. A hit is an
 * error in the log, not a refusal: a receipt of money paid must still come out (recovery gives
 * up on one that cannot be drawn), and a scenario fails on the error all the same. */
static void check_numbers(const struct print_doc *doc)
{
	for (size_t i = 0; i < doc->n; i++) {
		const struct item *it = &doc->items[i];
		if (it->kind != ITEM_TEXT && it->kind != ITEM_ROW)
			continue;
		char run[64];
		const char *cell = core_bidi_reversed_number(it->a, run, sizeof(run)) ? it->a
				   : it->kind == ITEM_ROW && core_bidi_reversed_number(it->b, run, sizeof(run)) ? it->b
														    : NULL;
		if (cell)
			LOG_ERR("the receipt's item %zu \"%.80s\" shows \"%s\" backwards after Arabic (put it between LRI "
				"and PDI)",
				i + 1, cell, run);
	}
}

int print_doc_render(const struct print_doc *doc, struct text_engine *engine, int width_dots,
	struct print_receipt **out, struct kio_error *err)
{
	*out = NULL;
	if (width_dots == 0)
		width_dots = 576;
	if (!doc || !engine || doc->n == 0 || width_dots < 64 || width_dots > 2048)
		return kio_fail(err, KIO_ERR_INVALID, "print: %zu items at %d dots",
			doc ? doc->n : 0, width_dots);
	check_numbers(doc);
	struct canvas c = {.cov = NULL, .w = width_dots, .h = 0};
	int h = flow(doc, engine, &c);
	if (h == -2)
		return kio_fail(err, KIO_ERR_INVALID, "print: a QR code is wider than %d dots of paper",
			width_dots);
	if (h < 0)
		return kio_fail(err, KIO_ERR_NOMEM, "print: text layout failed");
	c.h = h;
	c.cov = xcalloc((size_t)h, (size_t)width_dots);
	if (flow(doc, engine, &c) != h) {
		free(c.cov);
		return kio_fail(err, KIO_ERR_NOMEM, "print: text layout failed while drawing");
	}
	struct print_receipt *r = xcalloc(1, sizeof(*r));
	int stride = (width_dots + 7) / 8;
	uint8_t *bits = xcalloc((size_t)h, (size_t)stride);
	/* Ink where the coverage is at least 128, i.e. its top bit: eight dots at a time, and
	 * eight dots of white paper (most of a receipt) with one test. Dot by dot this was the
	 * largest cost of printing a receipt (issue 14: 6% of a headless top-up's CPU). */
	for (int y = 0; y < h; y++) {
		const uint8_t *row = c.cov + (size_t)y * (size_t)width_dots;
		uint8_t *ink = bits + (size_t)y * (size_t)stride;
		int x = 0;
		for (; x + 8 <= width_dots; x += 8) {
			uint64_t eight;
			memcpy(&eight, row + x, sizeof(eight));
			if (!(eight & 0x8080808080808080ull))
				continue;
			uint8_t b = 0;
			for (int k = 0; k < 8; k++)
				b |= (uint8_t)((row[x + k] >> 7) << (7 - k));
			ink[x / 8] = b;
		}
		for (; x < width_dots; x++)
			if (row[x] >= 128)
				ink[x / 8] |= (uint8_t)(0x80u >> (x % 8));
	}
	free(c.cov);
	r->image = (struct receipt_image){.width = width_dots, .height = h, .stride = stride,
		.bits = bits};
	r->text = logical_text(doc);
	*out = r;
	return 0;
}

void print_receipt_free(struct print_receipt *r)
{
	if (!r)
		return;
	free((void *)r->image.bits);
	free(r->text);
	free(r);
}

int print_receipt_write_text(const struct print_receipt *r, const char *path,
	struct kio_error *err)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return kio_fail(err, KIO_ERR_IO, "print: open %s: %s", path, strerror(errno));
	size_t n = strlen(r->text);
	bool ok = fwrite(r->text, 1, n, f) == n;
	if (fclose(f) != 0)
		ok = false;
	return ok ? 0 : kio_fail(err, KIO_ERR_IO, "print: write %s: %s", path, strerror(errno));
}
