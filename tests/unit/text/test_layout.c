/*
 * Unit tests of the layout engine on the tricky kiosk cases of issue 4: lam-alef,
 * harakat, tatweel, mirrored brackets, amounts inside Arabic, wrapping both ways, carets,
 * caching, the face rule, and drawing through SDL's software renderer and into gray.
 */
#include <SDL.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ft2build.h>
#include FT_FREETYPE_H

#include "kiosk/text/text.h"

static int failures;

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                  \
		}                                                                    \
	} while (0)

static struct text_engine *engine;
static FT_Library ftlib;
static FT_Face latin, arabic;

static struct text_style style(int size, enum text_dir dir, int width)
{
	return (struct text_style){.size_px = size, .dir = dir, .max_width = width,
				   .align = TEXT_ALIGN_START};
}

static struct text_layout *lay(const char *s, struct text_style st)
{
	struct text_layout *l = text_layout_new(engine, s, strlen(s), &st);
	if (!l) {
		fprintf(stderr, "layout of \"%s\" failed\n", s);
		exit(1);
	}
	return l;
}

static int glyphs_of(const struct text_layout *l, int line, struct text_glyph_info *out, int max)
{
	int n = text_layout_line_glyphs(l, line);
	for (int i = 0; i < n && i < max; i++)
		if (!text_layout_glyph(l, line, i, &out[i]))
			return -1;
	return n;
}

static void test_lam_alef(void)
{
	/* NotoSansArabic ligates lam-alef into one glyph whose cluster covers both letters. */
	struct text_layout *l = lay("سلام", style(32, TEXT_DIR_AUTO, 0));
	struct text_glyph_info g[8];
	int n = glyphs_of(l, 0, g, 8);
	CHECK(n == 3);
	/* Visual order in RTL: clusters descend left to right: meem, lam-alef, seen. */
	CHECK(g[0].cluster == 6 && g[1].cluster == 2 && g[2].cluster == 0);
	CHECK(g[1].glyph_id == FT_Get_Char_Index(arabic, 0xfefc) ||
	      g[1].glyph_id != FT_Get_Char_Index(arabic, 0x0644));
	CHECK(g[0].rtl && g[0].arabic_face);
	text_layout_free(l);
}

static void test_harakat(void)
{
	/* With MONOTONE_CHARACTERS each haraka keeps its own cluster, zero advance. */
	const char *s = "\xd8\xb3\xd9\x8e\xd9\x84\xd9\x85"; /* seen fatha lam meem */
	struct text_layout *l = lay(s, style(32, TEXT_DIR_AUTO, 0));
	struct text_glyph_info g[8];
	int n = glyphs_of(l, 0, g, 8);
	CHECK(n == 4);
	int fatha = -1;
	for (int i = 0; i < n; i++)
		if (g[i].cluster == 2)
			fatha = i;
	CHECK(fatha >= 0);
	if (fatha >= 0) {
		CHECK(g[fatha].x_advance26 == 0);
		CHECK(g[fatha].glyph_id == FT_Get_Char_Index(arabic, 0x064e));
	}
	/* Caret movement steps over the haraka with its letter. */
	CHECK(text_layout_next_index(l, 0) == 4);
	CHECK(text_layout_prev_index(l, 4) == 0);
	text_layout_free(l);
}

static void test_tatweel(void)
{
	/* Tatweel is Common script: it takes the Arabic face (Noto Sans lacks it) and joins. */
	struct text_layout *l = lay("تـــطبيق", style(32, TEXT_DIR_AUTO, 0));
	struct text_glyph_info g[16];
	int n = glyphs_of(l, 0, g, 16);
	unsigned tatweel = FT_Get_Char_Index(arabic, 0x0640);
	int count = 0;
	for (int i = 0; i < n; i++) {
		CHECK(g[i].arabic_face);
		if (g[i].glyph_id == tatweel) {
			count++;
			CHECK(g[i].x_advance26 > 0);
		}
	}
	CHECK(count == 3);
	text_layout_free(l);
}

static void test_brackets_mirrored(void)
{
	/* In RTL "(1)" shows as "(1)": the left glyph is parenleft but shows the ")" (cluster 2). */
	struct text_layout *l = lay("(1)", style(32, TEXT_DIR_RTL, 0));
	struct text_glyph_info g[4];
	int n = glyphs_of(l, 0, g, 4);
	CHECK(n == 3);
	CHECK(g[0].cluster == 2 && g[0].glyph_id == FT_Get_Char_Index(latin, '('));
	CHECK(g[2].cluster == 0 && g[2].glyph_id == FT_Get_Char_Index(latin, ')'));
	CHECK(!g[0].arabic_face); /* no Arabic face has brackets */
	text_layout_free(l);

	/* "(e-Dirham)" inside Arabic: the brackets are level 1 by N0 and mirror. */
	const char *s = "الدرهم (e-Dirham) الإلكتروني";
	l = lay(s, style(32, TEXT_DIR_AUTO, 0));
	struct text_glyph_info h[64];
	n = glyphs_of(l, 0, h, 64);
	const char *open = strchr(s, '('), *close = strchr(s, ')');
	int pos_open = -1, pos_close = -1, pos_e = -1;
	for (int i = 0; i < n; i++) {
		if (h[i].cluster == (uint32_t)(open - s))
			pos_open = i;
		if (h[i].cluster == (uint32_t)(close - s))
			pos_close = i;
		if (h[i].cluster == (uint32_t)(open - s) + 1)
			pos_e = i;
	}
	/* The opening bracket is right of the Latin word, shown as ')'. */
	CHECK(pos_open > pos_e && pos_close < pos_e && pos_close >= 0);
	if (pos_open >= 0 && pos_close >= 0) {
		CHECK(h[pos_open].glyph_id == FT_Get_Char_Index(latin, ')'));
		CHECK(h[pos_close].glyph_id == FT_Get_Char_Index(latin, '('));
	}
	text_layout_free(l);
}

static void test_amount_in_arabic(void)
{
	/* "AED 1,250.00" keeps its left-to-right order inside an RTL sentence. */
	const char *s = "المبلغ AED 1,250.00 فقط";
	struct text_layout *l = lay(s, style(32, TEXT_DIR_AUTO, 0));
	struct text_glyph_info g[64];
	int n = glyphs_of(l, 0, g, 64);
	uint32_t a = (uint32_t)(strstr(s, "AED") - s), z = (uint32_t)(strstr(s, "00 ") - s) + 1;
	int first = -1, last = -1;
	for (int i = 0; i < n; i++)
		if (g[i].cluster >= a && g[i].cluster <= z) {
			if (first < 0)
				first = i;
			last = i;
		}
	CHECK(first >= 0 && last - first == (int)(z - a));
	for (int i = first; i >= 0 && i < last; i++) {
		CHECK(g[i + 1].cluster == g[i].cluster + 1);
		CHECK(!g[i].arabic_face || g[i].cluster > a + 3);
	}
	/* The Arabic word that starts the sentence is rightmost. */
	CHECK(g[n - 1].cluster == 0);
	/* A number after an Arabic word keeps the Arabic face whole (face rule 3). */
	text_layout_free(l);
	l = lay("150.00 درهم", style(32, TEXT_DIR_AUTO, 0));
	n = glyphs_of(l, 0, g, 64);
	for (int i = 0; i < n; i++)
		CHECK(g[i].arabic_face);
	/* RTL paragraph: the number comes first, so it is on the right, read left to right. */
	CHECK(g[n - 1].cluster == 5 && g[n - 6].cluster == 0);
	text_layout_free(l);
	/* Percent is missing from the Arabic face: the whole "30%" run switches to Latin. */
	l = lay("نمو 30% في", style(32, TEXT_DIR_AUTO, 0));
	n = glyphs_of(l, 0, g, 64);
	for (int i = 0; i < n; i++)
		if (g[i].cluster >= 7 && g[i].cluster <= 9)
			CHECK(!g[i].arabic_face);
	text_layout_free(l);
}

static void check_wrap(const char *s, enum text_dir dir, int width)
{
	struct text_layout *l = lay(s, style(24, dir, width));
	int lines = text_layout_line_count(l);
	CHECK(lines >= 3);
	CHECK(text_layout_width(l) == width);
	CHECK(text_layout_natural_width(l) <= width);
	CHECK(text_layout_height(l) == lines * (text_layout_height(l) / lines));
	bool rtl = dir == TEXT_DIR_RTL;
	for (int k = 0; k < lines; k++) {
		int n = text_layout_line_glyphs(l, k);
		CHECK(n > 0);
		int32_t w = 0;
		struct text_glyph_info g;
		for (int i = 0; i < n; i++)
			if (text_layout_glyph(l, k, i, &g))
				w += g.x_advance26;
		int x = text_layout_line_x(l, k);
		/* START: flush right in RTL, flush left in LTR. */
		if (rtl)
			CHECK(x + (w + 63) / 64 == width);
		else
			CHECK(x == 0);
	}
	/* Every byte of the text is shown once, in one of the lines (no loss at breaks). */
	size_t len = strlen(s);
	unsigned char *seen = calloc(len, 1);
	for (int k = 0; k < lines; k++) {
		struct text_glyph_info g;
		for (int i = 0; text_layout_glyph(l, k, i, &g); i++)
			if (g.cluster < len)
				seen[g.cluster] = 1;
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x80)
			continue;
		if (!seen[i])
			fprintf(stderr, "byte %zu (%c) of \"%s\" not shown\n", i, s[i], s);
		CHECK(seen[i]);
	}
	free(seen);
	text_layout_free(l);
}

static void test_wrapping(void)
{
	check_wrap("Pay your DEWA bill, Salik top-up, RTA penalties and residency fees with the "
		   "e-Dirham card at this kiosk.",
		   TEXT_DIR_LTR, 200);
	check_wrap("ادفع فاتورة هيئة كهرباء ومياه دبي ورسوم سالك ومخالفات المرور بالدرهم "
		   "الإلكتروني في هذا الكشك",
		   TEXT_DIR_RTL, 200);
	/* A word wider than the line is cut between clusters, never dropped. */
	struct text_layout *l = lay("ABCDEFGHIJKLMNOPQRSTUVWXYZ", style(24, TEXT_DIR_LTR, 60));
	CHECK(text_layout_line_count(l) >= 4);
	text_layout_free(l);
	/* Hard line break and paragraph direction per paragraph. */
	l = lay("مرحبا\nHello", style(24, TEXT_DIR_AUTO, 300));
	CHECK(text_layout_line_count(l) == 2);
	CHECK(text_layout_line_x(l, 0) > 0);   /* RTL paragraph: right */
	CHECK(text_layout_line_x(l, 1) == 0);  /* LTR paragraph: left */
	text_layout_free(l);
}

static void test_caret(void)
{
	/* RTL: the caret before the first letter is at the right edge of the line. */
	struct text_layout *l = lay("سلام", style(32, TEXT_DIR_AUTO, 0));
	struct text_caret c0, c1, c2, cend;
	CHECK(text_layout_caret(l, 0, true, &c0) == 0);
	CHECK(text_layout_caret(l, 2, true, &c1) == 0);
	CHECK(text_layout_caret(l, 4, true, &c2) == 0); /* inside lam-alef: split */
	CHECK(text_layout_caret(l, 8, true, &cend) == 0);
	CHECK(c0.x == text_layout_width(l));
	CHECK(c0.x > c1.x && c1.x > c2.x && c2.x > cend.x);
	CHECK(cend.x == 0);
	CHECK(text_layout_hit(l, c2.x, 5) == 4);
	CHECK(text_layout_hit(l, -50, 5) == 8);
	CHECK(text_layout_hit(l, 5000, 5) == 0);
	text_layout_free(l);

	/* LTR text: carets grow to the right; bytes inside a character snap back. */
	l = lay("AED 10", style(32, TEXT_DIR_LTR, 0));
	struct text_caret a, b;
	CHECK(text_layout_caret(l, 0, false, &a) == 0 && a.x == 0);
	CHECK(text_layout_caret(l, 3, false, &b) == 0 && b.x > a.x);
	CHECK(text_layout_hit(l, b.x + 1, 0) == 3);
	text_layout_free(l);

	/* Multi-line: the caret's line follows the index. */
	l = lay("one two three four five six", style(24, TEXT_DIR_LTR, 80));
	struct text_caret last;
	CHECK(text_layout_caret(l, strlen("one two three four five six"), false, &last) == 0);
	CHECK(last.line == text_layout_line_count(l) - 1);
	CHECK(last.y == last.line * last.height);
	text_layout_free(l);
}

static void test_invalid_and_empty(void)
{
	static const char bad[] = "\xff\xfe\xc0\x80 AED \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82";
	struct text_style st = style(32, TEXT_DIR_AUTO, 50);
	struct text_layout *l = text_layout_new(engine, bad, sizeof(bad) - 1, &st);
	CHECK(l != NULL);
	CHECK(text_layout_line_count(l) >= 1);
	text_layout_free(l);
	l = lay("", style(32, TEXT_DIR_RTL, 100));
	CHECK(text_layout_line_count(l) == 1 && text_layout_height(l) > 0);
	struct text_caret c;
	CHECK(text_layout_caret(l, 0, true, &c) == 0 && c.x == 100);
	text_layout_free(l);
	/* Regional indicators and U+FFFF aborted the libunibreak 1.1 stage this engine replaced. */
	l = lay("\xf0\x9f\x87\xa6\xf0\x9f\x87\xaa flag \xef\xbf\xbf end", style(20, TEXT_DIR_AUTO, 40));
	CHECK(text_layout_line_count(l) >= 2);
	text_layout_free(l);
}

static void test_cache(void)
{
	struct text_style st = style(28, TEXT_DIR_AUTO, 0);
	const struct text_layout *a = text_layout(engine, "ادفع الآن", &st);
	const struct text_layout *b = text_layout(engine, "ادفع الآن", &st);
	CHECK(a && a == b);
	st.bold = true;
	const struct text_layout *c = text_layout(engine, "ادفع الآن", &st);
	CHECK(c && c != a);
	/* Many distinct strings: still answers, cache stays bounded (no crash, no leak). */
	char buf[32];
	for (int i = 0; i < 2000; i++) {
		snprintf(buf, sizeof(buf), "AED %d.00", i);
		CHECK(text_layout(engine, buf, &st) != NULL);
	}
}

static void test_digits(void)
{
	char out[64];
	size_t n = text_digits_apply(TEXT_DIGITS_EASTERN_ARABIC, "AED 1,250.00", out, sizeof(out));
	CHECK(n == strlen(out));
	CHECK(strcmp(out, "AED \xd9\xa1\xd9\xac\xd9\xa2\xd9\xa5\xd9\xa0\xd9\xab\xd9\xa0\xd9\xa0") == 0);
	n = text_digits_apply(TEXT_DIGITS_WESTERN, "1,250.00", out, sizeof(out));
	CHECK(n == 8 && strcmp(out, "1,250.00") == 0);
	/* Truncation never splits a character. */
	n = text_digits_apply(TEXT_DIGITS_EASTERN_ARABIC, "12", out, 4);
	CHECK(n == 4 && strlen(out) == 2);
}

static void test_draw(void)
{
	/* SDL's software renderer on a surface: no video driver needed. */
	SDL_Surface *surf = SDL_CreateRGBSurfaceWithFormat(0, 300, 80, 32, SDL_PIXELFORMAT_ARGB8888);
	CHECK(surf != NULL);
	if (!surf)
		return;
	SDL_Renderer *r = SDL_CreateSoftwareRenderer(surf);
	CHECK(r != NULL);
	if (!r)
		return;
	SDL_SetRenderDrawColor(r, 255, 255, 255, 255);
	SDL_RenderClear(r);
	struct text_style st = {.size_px = 32, .dir = TEXT_DIR_AUTO, .max_width = 300};
	const struct text_layout *l = text_layout(engine, "ادفع 150.00 درهم", &st);
	CHECK(l != NULL);
	CHECK(text_draw_sdl(engine, r, l, 0, 0, 0x000000ff) == 0);
	SDL_RenderPresent(r);
	/* RTL START: about 230 px of text, flush right: no ink in the first 60 px. */
	int left = 0, right = 0;
	const uint32_t *px = surf->pixels;
	for (int y = 0; y < 80; y++)
		for (int x = 0; x < 300; x++) {
			uint32_t p = px[y * (surf->pitch / 4) + x];
			if ((p & 0xff) < 128) {
				if (x < 60)
					left++;
				if (x >= 150)
					right++;
			}
		}
	if (!(left == 0 && right > 200))
		fprintf(stderr, "draw: %d ink pixels left, %d right\n", left, right);
	CHECK(left == 0 && right > 200);
	/* Same glyphs to gray, for the receipt. */
	uint8_t *gray = calloc(300 * 80, 1);
	CHECK(text_draw_gray(engine, l, gray, 300, 300, 80, 0, 0) == 0);
	int ink = 0;
	for (int i = 0; i < 300 * 80; i++)
		ink += gray[i] > 128;
	CHECK(ink > 200);
	free(gray);
	/* Any number of colours share one upload of each glyph: every frame of a screen with
	 * more colours than the old per-colour atlas pages re-uploaded its glyphs (a scenario's
	 * tap cost milliseconds of real time). */
	uint64_t uploads = text_engine_atlas_uploads(engine);
	CHECK(uploads > 0);
	for (int round = 0; round < 3; round++)
		for (uint32_t c = 0; c < 7; c++)
			CHECK(text_draw_sdl(engine, r, l, 0, 0, (c * 0x23456700u) | 0xffu) == 0);
	if (text_engine_atlas_uploads(engine) != uploads)
		fprintf(stderr, "draw: %llu uploads for 21 redraws\n",
			(unsigned long long)(text_engine_atlas_uploads(engine) - uploads));
	CHECK(text_engine_atlas_uploads(engine) == uploads);
	/* The tint is each draw's own: red ink, then blue ink on the same glyphs. */
	static const uint32_t tints[2] = {0xff0000ffu, 0x0000ffffu};
	for (int t = 0; t < 2; t++) {
		SDL_SetRenderDrawColor(r, 255, 255, 255, 255);
		SDL_RenderClear(r);
		CHECK(text_draw_sdl(engine, r, l, 0, 0, tints[t]) == 0);
		SDL_RenderPresent(r);
		int tinted = 0, other = 0;
		for (int y = 0; y < 80; y++)
			for (int x = 0; x < 300; x++) {
				uint32_t p = px[y * (surf->pitch / 4) + x];
				int pr = (int)(p >> 16 & 0xff), pg = (int)(p >> 8 & 0xff), pb = (int)(p & 0xff);
				if (pr > 200 && pg < 60 && pb < 60)
					tinted += t == 0;
				else if (pb > 200 && pr < 60 && pg < 60)
					tinted += t == 1;
				else if (pr < 128 && pg < 128 && pb < 128)
					other++; /* dark ink of neither tint */
			}
		if (tinted < 100 || other > 0)
			fprintf(stderr, "draw: tint %08x: %d tinted, %d other ink pixels\n", tints[t], tinted, other);
		CHECK(tinted >= 100 && other == 0);
	}
	text_engine_release_renderer(engine);
	SDL_DestroyRenderer(r);
	SDL_FreeSurface(surf);
}

/*
 * The atlas starts small and grows as glyphs fill it (issue 14: a 1024x1024 texture was 1,024
 * page faults and a 4 MiB memset before the first frame). A draw that grows it half-way keeps
 * its tint on the glyphs after the growth: every ink pixel is the draw's red.
 */
static void test_atlas_grows(void)
{
	struct text_engine *fresh = NULL;
	struct kio_error err = {0};
	CHECK(text_engine_new(NULL, &fresh, &err) == 0);
	SDL_Surface *surf = SDL_CreateRGBSurfaceWithFormat(0, 1000, 1400, 32, SDL_PIXELFORMAT_RGB888);
	SDL_Renderer *r = surf ? SDL_CreateSoftwareRenderer(surf) : NULL;
	CHECK(fresh && r);
	if (!fresh || !r)
		return;
	CHECK(text_engine_atlas_height(fresh) == 0);
	struct text_style small = style(24, TEXT_DIR_AUTO, 900);
	CHECK(text_draw_sdl(fresh, r, text_layout(fresh, "Top up", &small), 0, 0, 0x000000ff) == 0);
	int start = text_engine_atlas_height(fresh);
	if (!(start > 0 && start < 1024))
		fprintf(stderr, "atlas: %d rows after one word\n", start);
	CHECK(start > 0 && start < 1024);
	SDL_SetRenderDrawColor(r, 128, 128, 128, 255); /* a white glyph shows on grey */
	SDL_RenderClear(r);
	struct text_style big = style(130, TEXT_DIR_AUTO, 1000);
	const struct text_layout *l =
		text_layout(fresh, "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789", &big);
	CHECK(l != NULL);
	CHECK(text_draw_sdl(fresh, r, l, 0, 0, 0xff0000ffu) == 0);
	SDL_RenderPresent(r);
	if (text_engine_atlas_height(fresh) <= start)
		fprintf(stderr, "atlas: %d rows after 62 glyphs at 130 px\n", text_engine_atlas_height(fresh));
	CHECK(text_engine_atlas_height(fresh) > start);
	int red = 0, other = 0;
	const uint32_t *px = surf->pixels;
	for (int y = 0; y < 1400; y++)
		for (int x = 0; x < 1000; x++) {
			uint32_t p = px[y * (surf->pitch / 4) + x];
			int pr = (int)(p >> 16 & 0xff), pg = (int)(p >> 8 & 0xff), pb = (int)(p & 0xff);
			if (pr > 200 && pg < 60 && pb < 60)
				red++;
			else if (pg != pb || pg > 128 || pr < 128)
				other++; /* neither the grey nor a blend of the red over it */
		}
	if (red < 10000 || other > 0)
		fprintf(stderr, "atlas: %d red, %d other ink pixels\n", red, other);
	CHECK(red >= 10000 && other == 0);
	text_engine_release_renderer(fresh);
	SDL_DestroyRenderer(r);
	SDL_FreeSurface(surf);
	text_engine_free(fresh);
}

/* An empty text as the very first layout of an engine, before any text grew its scratch
 * arrays (fuzz_text_layout, corpus empty-text-on-fresh-engine): under UBSan this was a
 * memcpy from NULL. */
static void test_empty_on_fresh_engine(void)
{
	struct text_engine *fresh = NULL;
	struct kio_error err = {0};
	CHECK(text_engine_new(NULL, &fresh, &err) == 0);
	if (!fresh)
		return;
	struct text_style st = style(24, TEXT_DIR_AUTO, 0);
	struct text_layout *l = text_layout_new(fresh, "", 0, &st);
	CHECK(l != NULL);
	if (l) {
		CHECK(text_layout_line_count(l) >= 1);
		CHECK(text_layout_line_glyphs(l, 0) == 0);
		text_layout_free(l);
	}
	CHECK(text_layout(fresh, "", &st) != NULL);
	text_engine_free(fresh);
}

/*
 * The engine maps its font files rather than reading them into the heap (issue 14: 1.5 MB
 * copied and 380 page faults before the first frame): each face's file is in the process's
 * mappings. (This test's own FreeType faces map the regular files too; the bold ones only the
 * engine does.)
 */
static void test_fonts_mapped(void)
{
	for (int ar = 0; ar < 2; ar++)
		for (int bold = 0; bold < 2; bold++) {
			const char *path = text_engine_face_path(engine, ar, bold);
			FILE *f = fopen("/proc/self/maps", "r");
			CHECK(f != NULL);
			if (!f)
				return;
			char line[1024];
			bool found = false;
			while (fgets(line, sizeof(line), f)) {
				line[strcspn(line, "\n")] = '\0';
				size_t n = strlen(line), k = strlen(path);
				found |= n >= k && strcmp(line + n - k, path) == 0;
			}
			fclose(f);
			if (!found)
				fprintf(stderr, "fonts: %s is not mapped\n", path);
			CHECK(found);
		}
}

/*
 * Glyphs are shaped and drawn unhinted (TEXT_FT_LOAD_FLAGS, issue 14: TrueType bytecode was
 * a tenth of a one-shot screenshot's CPU, and at the kiosk's sizes, 18 px and up, hinting
 * changed no stroke a customer sees). The advances HarfBuzz positions with are then the
 * outlines' own, FreeType's linear advance at that size, as the rasteriser places the glyph;
 * hinted, they were rounded to whole pixels and most of these differed. GPOS kerning may
 * move a few, so three quarters must match, in both scripts.
 */
static void test_unhinted_advances(void)
{
	static const struct {
		const char *text;
		int size;
		bool ar;
	} cases[] = {
		{"Add credit to your e-Dirham card", 24, false},
		{"Pay government fees", 29, false},
		{"أضف رصيداً إلى بطاقة الدرهم الإلكتروني", 24, true},
		{"دفع الرسوم الحكومية", 29, true},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		FT_Face face = cases[k].ar ? arabic : latin;
		CHECK(FT_Set_Pixel_Sizes(face, 0, (FT_UInt)cases[k].size) == 0);
		struct text_layout *l = lay(cases[k].text, style(cases[k].size, TEXT_DIR_AUTO, 0));
		int n = text_layout_line_glyphs(l, 0), same = 0, of_face = 0;
		for (int i = 0; i < n; i++) {
			struct text_glyph_info g;
			CHECK(text_layout_glyph(l, 0, i, &g));
			if (g.arabic_face != cases[k].ar || FT_Load_Glyph(face, g.glyph_id, FT_LOAD_NO_HINTING) != 0)
				continue;
			of_face++;
			int32_t linear26 = (int32_t)((face->glyph->linearHoriAdvance + 512) >> 10);
			same += g.x_advance26 == linear26;
		}
		if (!(of_face >= 10 && same * 4 >= of_face * 3))
			fprintf(stderr, "advances of \"%s\": %d of %d glyphs at the outline's own\n", cases[k].text, same,
				of_face);
		CHECK(of_face >= 10 && same * 4 >= of_face * 3);
		text_layout_free(l);
	}
}

static void test_engine_errors(void)
{
	struct text_engine_config cfg = {.arabic_regular = "/nonexistent/font.ttf"};
	struct text_engine *e = NULL;
	struct kio_error err = {0};
	CHECK(text_engine_new(&cfg, &e, &err) == KIO_ERR_NOT_FOUND);
	CHECK(e == NULL && strstr(err.msg, "/nonexistent/font.ttf") != NULL);
	text_engine_free(NULL);
}

int main(void)
{
	struct kio_error err = {0};
	if (text_engine_new(NULL, &engine, &err) != 0) {
		/* The fonts are a build dependency (fonts-noto-core); missing means skip. */
		fprintf(stderr, "SKIP: %s\n", err.msg);
		return 77;
	}
	if (FT_Init_FreeType(&ftlib) || FT_New_Face(ftlib, text_engine_face_path(engine, false, false), 0, &latin) ||
	    FT_New_Face(ftlib, text_engine_face_path(engine, true, false), 0, &arabic)) {
		fprintf(stderr, "FreeType setup failed\n");
		return 1;
	}
	test_lam_alef();
	test_harakat();
	test_tatweel();
	test_brackets_mirrored();
	test_amount_in_arabic();
	test_wrapping();
	test_caret();
	test_invalid_and_empty();
	test_cache();
	test_atlas_grows();
	test_digits();
	test_draw();
	test_empty_on_fresh_engine();
	test_engine_errors();
	test_fonts_mapped();
	test_unhinted_advances();
	text_engine_free(engine);
	FT_Done_Face(latin);
	FT_Done_Face(arabic);
	FT_Done_FreeType(ftlib);
	printf("%s\n", failures ? "FAIL" : "ok");
	return failures ? 1 : 0;
}
