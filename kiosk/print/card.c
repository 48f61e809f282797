/* The card face: titles, number and issuer drawn by the text engine into a 1016 x 648 RGBA. */
#include "kiosk/print/print.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "print"
#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"

/* The Evolis panel, landscape (docs/evolis-commands.md): 1016 x 648 dots at 300 dpi. */
#define FACE_W 1016
#define FACE_H 648
#define EDGE 56    /* white margin inside the card edge: printers leave ~1 mm unprinted */
#define FRAME 4    /* the frame's stroke, 1/3 mm of resin */

struct face_ctx {
	struct text_engine *e;
	uint8_t *cov; /* coverage, FACE_W x FACE_H */
};

/* Lays out utf8 across [x, x + width) aligned as asked, top at y; returns its height (-1 if the
 * engine failed) and its natural width in *nat. */
static int put(struct face_ctx *c, const char *utf8, int size, bool bold, enum text_dir dir,
	enum text_align align, int x, int y, int width, int *nat)
{
	struct text_style ts = {.size_px = size, .bold = bold, .dir = dir, .align = align,
		.max_width = width};
	struct text_layout *l = text_layout_new(c->e, utf8, strlen(utf8), &ts);
	if (!l)
		return -1;
	if (c->cov)
		text_draw_gray(c->e, l, c->cov, FACE_W, FACE_W, FACE_H, x, y);
	int h = text_layout_height(l);
	if (nat)
		*nat = text_layout_natural_width(l);
	text_layout_free(l);
	return h;
}

static void fill(uint8_t *cov, int x0, int y0, int x1, int y1)
{
	for (int y = y0; y < y1; y++)
		memset(cov + (size_t)y * FACE_W + (size_t)x0, 255, (size_t)(x1 - x0));
}

/* Arabic at the right edge and English at the left, on one line when both fit. */
static int pair(struct face_ctx *c, const char *ar, const char *en, int size, bool bold, int y)
{
	int x = EDGE + 24, w = FACE_W - 2 * x, wa = 0, we = 0;
	struct face_ctx measure = {c->e, NULL};
	if (put(&measure, ar, size, bold, TEXT_DIR_RTL, TEXT_ALIGN_START, x, y, w, &wa) < 0 ||
		put(&measure, en, size, bold, TEXT_DIR_LTR, TEXT_ALIGN_START, x, y, w, &we) < 0)
		return -1;
	int ha = put(c, ar, size, bold, TEXT_DIR_RTL, TEXT_ALIGN_START, x, y, w, NULL);
	if (wa + we + size <= w) {
		int he = put(c, en, size, bold, TEXT_DIR_LTR, TEXT_ALIGN_START, x, y, w, NULL);
		return ha > he ? ha : he;
	}
	int he = put(c, en, size, bold, TEXT_DIR_LTR, TEXT_ALIGN_START, x, y + ha, w, NULL);
	return ha + he;
}

/* The catalogue's template with {date} replaced; refused without it (a card shows its date). */
static int with_date(const char *tmpl, const char *date, char *out, size_t size, struct kio_error *err)
{
	const char *at = strstr(tmpl, "{date}");
	if (!at)
		return kio_fail(err, KIO_ERR_INVALID, "print: catalogue text \"%s\" has no {date}", tmpl);
	snprintf(out, size, "%.*s%s%s", (int)(at - tmpl), tmpl, date, at + strlen("{date}"));
	return 0;
}

int print_card_face_render(struct text_engine *engine, const struct i18n *i18n,
	const struct print_card *card, struct print_card_face **out, struct kio_error *err)
{
	*out = NULL;
	size_t n = card && card->number ? strlen(card->number) : 0;
	bool digits = n >= 1 && n <= 23;
	for (size_t i = 0; digits && i < n; i++)
		digits = card->number[i] >= '0' && card->number[i] <= '9';
	if (!engine || !i18n || !card || !card->issuer_ar || !card->issuer_en || !digits)
		return kio_fail(err, KIO_ERR_INVALID, "print: card face with a field missing or a "
			"number that is not 1..23 digits");
	if (i18n_has_bidi_override(card->issuer_ar) || i18n_has_bidi_override(card->issuer_en))
		return kio_fail(err, KIO_ERR_INVALID, "print: card face: the issuer holds a bidi override "
			"(U+202A..U+202E)");
	char date[32], when[32], ar_date[160], en_date[160];
	print_format_time(card->issued_s, date, sizeof(date));
	date[7] = '\0'; /* "2027-03": month and year, as cards carry */
	if (with_date(i18n_get(i18n, LANG_AR, "card.issued"), print_ltr(date, when, sizeof(when)), ar_date,
		    sizeof(ar_date), err) != 0 ||
	    with_date(i18n_get(i18n, LANG_EN, "card.issued"), date, en_date, sizeof(en_date), err) != 0)
		return err->code;
	struct face_ctx c = {engine, xcalloc(FACE_H, FACE_W)};
	int rc = 0;

	/* Frame. */
	fill(c.cov, EDGE, EDGE, FACE_W - EDGE, EDGE + FRAME);
	fill(c.cov, EDGE, FACE_H - EDGE - FRAME, FACE_W - EDGE, FACE_H - EDGE);
	fill(c.cov, EDGE, EDGE, EDGE + FRAME, FACE_H - EDGE);
	fill(c.cov, FACE_W - EDGE - FRAME, EDGE, FACE_W - EDGE, FACE_H - EDGE);

	int y = EDGE + 28;
	int h = pair(&c, i18n_get(i18n, LANG_AR, "card.title"), i18n_get(i18n, LANG_EN, "card.title"), 48,
		true, y);
	if (h < 0)
		goto fail;
	y += h + 14;
	fill(c.cov, EDGE + 24, y, FACE_W - EDGE - 24, y + 3);

	/* The number: groups of four, always left to right (a card number is not reversed in an
	 * Arabic context), centred, the largest thing on the card. */
	char grouped[64];
	print_format_card_number(card->number, false, grouped, sizeof(grouped));
	y += 70;
	h = put(&c, grouped, 72, true, TEXT_DIR_LTR, TEXT_ALIGN_CENTER, EDGE + 24, y,
		FACE_W - 2 * (EDGE + 24), NULL);
	if (h < 0)
		goto fail;
	y += h + 4;
	h = pair(&c, i18n_get(i18n, LANG_AR, "card.number"), i18n_get(i18n, LANG_EN, "card.number"), 26,
		false, y);
	if (h < 0)
		goto fail;

	/* Issuer and date at the foot. */
	y = FACE_H - EDGE - 28 - 2 * 36;
	h = pair(&c, card->issuer_ar, card->issuer_en, 26, false, y);
	if (h < 0)
		goto fail;
	h = pair(&c, ar_date, en_date, 26, false, y + 36);
	if (h < 0)
		goto fail;

	struct print_card_face *f = xcalloc(1, sizeof(*f));
	f->width = FACE_W;
	f->height = FACE_H;
	f->stride = FACE_W * 4;
	f->rgba = xmalloc((size_t)FACE_W * FACE_H * 4);
	for (size_t i = 0; i < (size_t)FACE_W * FACE_H; i++) {
		uint8_t v = (uint8_t)(255 - c.cov[i]);
		f->rgba[i * 4 + 0] = f->rgba[i * 4 + 1] = f->rgba[i * 4 + 2] = v;
		f->rgba[i * 4 + 3] = 255;
	}
	*out = f;
	goto out_free;
fail:
	rc = kio_fail(err, KIO_ERR_NOMEM, "print: card face layout failed");
out_free:
	free(c.cov);
	return rc;
}

void print_card_face_free(struct print_card_face *face)
{
	if (!face)
		return;
	free(face->rgba);
	free(face);
}

struct cardprn_image print_card_face_image(const struct print_card_face *face)
{
	return (struct cardprn_image){.width = face->width, .height = face->height,
		.stride = face->stride, .rgba = face->rgba};
}
