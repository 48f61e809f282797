/*
 * Joining forms at a line break (issue 4). The engine shapes each paragraph whole, breaks
 * lines on the shaped advances, and reshapes a line's edge only where the break falls
 * inside a shaping context (HarfBuzz flags the glyph UNSAFE_TO_BREAK), as Blink's
 * ShapingLineBreaker and Pango do:
 *   - a break at a space changes no form: each line shows exactly the glyphs the whole
 *     paragraph was shaped to, which are also the glyphs of each word shaped alone;
 *   - a break inside a joining context (after a ZERO WIDTH SPACE, which is transparent to
 *     joining, or an emergency cut inside a word wider than the line) cuts the join: each
 *     line shows the glyphs of its own substring shaped alone, so the letter before the
 *     break takes its final (or isolated) form and the one after it its initial form, not
 *     the medial forms of the unbroken word.
 * Expected glyphs come from HarfBuzz itself on the same face, not from the engine.
 */
#include <hb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/text/text.h"

static int failures;

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                          \
		}                                                                            \
	} while (0)

enum { SIZE_PX = 40, MAX_GLYPHS = 128 };

static struct text_engine *engine;
static hb_font_t *arabic_font;

struct glyph {
	uint32_t gid, cluster;
};

/*
 * HarfBuzz on text[off, off + len) the way the engine sets up an Arabic run. With context,
 * the rest of text is pre- and post-context (the paragraph shaping); without, the
 * substring stands alone (a line shaped on its own). Clusters are byte offsets into text.
 */
static int hb_shape_range(hb_font_t *font, const char *text, size_t off, size_t len, bool context,
			  hb_direction_t dir, struct glyph *out, int max)
{
	hb_buffer_t *buf = hb_buffer_create();
	hb_buffer_set_direction(buf, dir);
	hb_buffer_set_script(buf, HB_SCRIPT_ARABIC);
	hb_buffer_set_language(buf, hb_language_from_string("ar", -1));
	hb_buffer_set_cluster_level(buf, HB_BUFFER_CLUSTER_LEVEL_MONOTONE_CHARACTERS);
	if (context)
		hb_buffer_add_utf8(buf, text, (int)strlen(text), (unsigned)off, (int)len);
	else
		hb_buffer_add_utf8(buf, text + off, (int)len, 0, (int)len);
	hb_shape(font, buf, NULL, 0);
	unsigned n = 0;
	hb_glyph_info_t *info = hb_buffer_get_glyph_infos(buf, &n);
	int count = 0;
	for (unsigned i = 0; i < n && count < max; i++)
		out[count++] = (struct glyph){info[i].codepoint, info[i].cluster + (context ? 0 : (uint32_t)off)};
	hb_buffer_destroy(buf);
	return count;
}

/* The engine's glyphs of one line, left to right; only those from the Arabic face if asked. */
static int engine_line(const struct text_layout *l, int line, bool arabic_only, struct glyph *out, int max)
{
	int n = text_layout_line_glyphs(l, line), count = 0;
	for (int i = 0; i < n && count < max; i++) {
		struct text_glyph_info g;
		if (!text_layout_glyph(l, line, i, &g))
			return -1;
		if (!arabic_only || g.arabic_face)
			out[count++] = (struct glyph){g.glyph_id, g.cluster};
	}
	return count;
}

/* Keeps the glyphs whose cluster lies in [lo, hi). */
static int only_clusters(struct glyph *g, int n, uint32_t lo, uint32_t hi)
{
	int m = 0;
	for (int i = 0; i < n; i++)
		if (g[i].cluster >= lo && g[i].cluster < hi)
			g[m++] = g[i];
	return m;
}

static bool same(const struct glyph *a, int na, const struct glyph *b, int nb)
{
	if (na != nb)
		return false;
	for (int i = 0; i < na; i++)
		if (a[i].gid != b[i].gid || a[i].cluster != b[i].cluster)
			return false;
	return true;
}

static void dump(const char *what, const struct glyph *g, int n)
{
	fprintf(stderr, "  %s:", what);
	for (int i = 0; i < n; i++)
		fprintf(stderr, " %u=%u", g[i].gid, g[i].cluster);
	fprintf(stderr, "\n");
}

static int natural_width(const char *s, size_t len, enum text_dir dir)
{
	struct text_style st = {.size_px = SIZE_PX, .dir = dir};
	struct text_layout *l = text_layout_new(engine, s, len, &st);
	int w = l ? text_layout_natural_width(l) : -1;
	text_layout_free(l);
	return w;
}

static struct text_layout *wrapped(const char *s, enum text_dir dir, int width)
{
	struct text_style st = {.size_px = SIZE_PX, .dir = dir, .max_width = width};
	struct text_layout *l = text_layout_new(engine, s, strlen(s), &st);
	if (!l) {
		fprintf(stderr, "layout of \"%s\" failed\n", s);
		exit(1);
	}
	return l;
}

/* The smallest cluster on a line: where it starts in logical order. */
static uint32_t line_start(const struct text_layout *l, int line)
{
	struct glyph g[MAX_GLYPHS];
	int n = engine_line(l, line, false, g, MAX_GLYPHS);
	uint32_t lo = UINT32_MAX;
	for (int i = 0; i < n; i++)
		lo = g[i].cluster < lo ? g[i].cluster : lo;
	return lo;
}

/*
 * Checks an Arabic paragraph broken into two lines at byte cut: each line against HarfBuzz
 * on its substring alone, and against the whole paragraph's shaping, which must agree with
 * it (break at a space) or differ from it (break inside a joining context).
 */
static void check_two_lines(const char *name, const char *s, const struct text_layout *l, size_t cut,
			    size_t line1_end, bool joins_across)
{
	size_t len = strlen(s);
	struct glyph got[MAX_GLYPHS], alone[MAX_GLYPHS], para[MAX_GLYPHS];
	CHECK(text_layout_line_count(l) == 2);
	if (text_layout_line_count(l) != 2) {
		fprintf(stderr, "  %s: %d lines\n", name, text_layout_line_count(l));
		return;
	}
	CHECK(line_start(l, 1) == cut);
	int np = hb_shape_range(arabic_font, s, 0, len, true, HB_DIRECTION_RTL, para, MAX_GLYPHS);
	for (int line = 0; line < 2; line++) {
		size_t lo = line ? cut : 0, hi = line ? len : line1_end;
		int ng = engine_line(l, line, false, got, MAX_GLYPHS);
		int na = hb_shape_range(arabic_font, s, lo, hi - lo, false, HB_DIRECTION_RTL, alone, MAX_GLYPHS);
		struct glyph in_para[MAX_GLYPHS];
		memcpy(in_para, para, sizeof(para[0]) * (size_t)np);
		int nip = only_clusters(in_para, np, (uint32_t)lo, (uint32_t)hi);
		bool ok_alone = same(got, ng, alone, na);
		bool ok_para = same(got, ng, in_para, nip);
		CHECK(ok_alone);
		CHECK(ok_para == !joins_across);
		if (!ok_alone || ok_para != !joins_across) {
			fprintf(stderr, "  %s, line %d:\n", name, line + 1);
			dump("engine", got, ng);
			dump("substring alone", alone, na);
			dump("in the paragraph", in_para, nip);
		}
	}
}

/* "بطاقة الدرهم": the break at the space leaves both words as the paragraph shaped them. */
static void test_break_at_space(void)
{
	const char *s = "بطاقة الدرهم";
	size_t first = strlen("بطاقة"), cut = first + 1;
	/* Room for the wider word, not for both. */
	int w1 = natural_width(s, first, TEXT_DIR_RTL), w2 = natural_width(s + cut, strlen(s + cut), TEXT_DIR_RTL);
	int w = (w1 > w2 ? w1 : w2) + 8;
	CHECK(w1 > 0 && w2 > 0 && w < natural_width(s, strlen(s), TEXT_DIR_RTL));
	struct text_layout *l = wrapped(s, TEXT_DIR_RTL, w);
	check_two_lines("break at a space", s, l, cut, first, false);

	/* The visible ends: teh marbuta final at the end of line 1, alef isolated on line 2. */
	struct glyph g[MAX_GLYPHS];
	int n = engine_line(l, 0, false, g, MAX_GLYPHS);
	hb_codepoint_t final_teh = 0, alef = 0;
	CHECK(hb_font_get_nominal_glyph(arabic_font, 0xFE94, &final_teh)); /* TEH MARBUTA FINAL */
	CHECK(hb_font_get_nominal_glyph(arabic_font, 0x0627, &alef));
	CHECK(n > 0 && g[0].gid == final_teh); /* leftmost in RTL = logically last */
	n = engine_line(l, 1, false, g, MAX_GLYPHS);
	CHECK(n > 0 && g[n - 1].gid == alef && g[n - 1].cluster == cut); /* rightmost = first */
	text_layout_free(l);
}

/*
 * "مست<ZWSP>شفى": ZWSP is a UAX #14 break opportunity but transparent to joining, so
 * unbroken the teh and sheen are medial; broken there, teh ends its line final and sheen
 * starts the next initial.
 */
static void test_break_in_joining_context(void)
{
	const char *s = "مست\u200bشفى";
	size_t first = strlen("مست"), cut = first + strlen("\u200b");
	int w = natural_width(s, cut, TEXT_DIR_RTL);
	struct text_layout *l = wrapped(s, TEXT_DIR_RTL, w + 4);
	check_two_lines("break after ZWSP", s, l, cut, cut, true);

	hb_codepoint_t teh_final = 0, sheen_initial = 0;
	CHECK(hb_font_get_nominal_glyph(arabic_font, 0xFE96, &teh_final));
	CHECK(hb_font_get_nominal_glyph(arabic_font, 0xFEB7, &sheen_initial));
	struct glyph g[MAX_GLYPHS];
	int n = engine_line(l, 0, false, g, MAX_GLYPHS);
	bool found = false;
	for (int i = 0; i < n; i++)
		found |= g[i].cluster == strlen("مس") && g[i].gid == teh_final;
	CHECK(found);
	n = engine_line(l, 1, false, g, MAX_GLYPHS);
	CHECK(n > 0 && g[n - 1].cluster == cut && g[n - 1].gid == sheen_initial);
	text_layout_free(l);
}

/* A word wider than the line is cut between clusters, and the cut breaks the join. */
static void test_emergency_cut(void)
{
	const char *s = "المستشفيات";
	int w = natural_width(s, strlen(s), TEXT_DIR_RTL);
	struct text_layout *l = wrapped(s, TEXT_DIR_RTL, w * 6 / 10);
	uint32_t cut = text_layout_line_count(l) == 2 ? line_start(l, 1) : 0;
	CHECK(cut > 0 && cut < strlen(s));
	/* The cut must fall between two letters that join (none of alef, dal, reh, waw before it). */
	check_two_lines("emergency cut", s, l, cut, cut, true);
	text_layout_free(l);
}

/*
 * An LTR paragraph wrapping inside an Arabic phrase at a space: the Arabic words on each
 * line are the paragraph's glyphs (no reshaping at a space), and the runs stay whole.
 */
static void test_break_inside_embedded_arabic(void)
{
	const char *s = "pay RTA (هيئة الطرق) fees";
	const char *arabic = strstr(s, "هيئة");
	size_t first_end = (size_t)(strstr(s, " الطرق") - s), cut = first_end + 1;
	int w = natural_width(s, first_end, TEXT_DIR_LTR);
	struct text_layout *l = wrapped(s, TEXT_DIR_LTR, w + 4);
	CHECK(text_layout_line_count(l) == 2);
	CHECK(line_start(l, 1) == cut);
	struct glyph para[MAX_GLYPHS], got[MAX_GLYPHS], alone[MAX_GLYPHS];
	size_t a0 = (size_t)(arabic - s), a1 = (size_t)(strstr(s, ")") - s);
	int np = hb_shape_range(arabic_font, s, a0, a1 - a0, true, HB_DIRECTION_RTL, para, MAX_GLYPHS);
	for (int line = 0; line < 2 && text_layout_line_count(l) == 2; line++) {
		size_t lo = line ? cut : a0, hi = line ? a1 : first_end;
		int ng = engine_line(l, line, true, got, MAX_GLYPHS);
		struct glyph in_para[MAX_GLYPHS];
		memcpy(in_para, para, sizeof(para[0]) * (size_t)np);
		int nip = only_clusters(in_para, np, (uint32_t)lo, (uint32_t)hi);
		int na = hb_shape_range(arabic_font, s, lo, hi - lo, false, HB_DIRECTION_RTL, alone, MAX_GLYPHS);
		CHECK(ng > 0 && same(got, ng, in_para, nip));
		CHECK(same(got, ng, alone, na));
		if (!same(got, ng, in_para, nip)) {
			dump("engine", got, ng);
			dump("in the paragraph", in_para, nip);
		}
	}
	text_layout_free(l);
}

static hb_font_t *open_font(const char *path)
{
	hb_blob_t *blob = hb_blob_create_from_file(path);
	hb_face_t *face = hb_face_create(blob, 0);
	hb_font_t *font = hb_face_get_glyph_count(face) ? hb_font_create(face) : NULL;
	hb_face_destroy(face);
	hb_blob_destroy(blob);
	return font;
}

int main(void)
{
	struct kio_error err = {0};
	if (text_engine_new(NULL, &engine, &err) != 0) {
		/* The fonts are a build dependency (fonts-noto-core); missing means skip. */
		fprintf(stderr, "SKIP: %s\n", err.msg);
		return 77;
	}
	arabic_font = open_font(text_engine_face_path(engine, true, false));
	if (!arabic_font) {
		fprintf(stderr, "HarfBuzz cannot open the engine's faces\n");
		return 1;
	}
	test_break_at_space();
	test_break_in_joining_context();
	test_emergency_cut();
	test_break_inside_embedded_arabic();
	hb_font_destroy(arabic_font);
	text_engine_free(engine);
	printf("%s\n", failures ? "FAIL" : "ok");
	return failures ? 1 : 0;
}
