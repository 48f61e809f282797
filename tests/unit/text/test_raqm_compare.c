/*
 * Glyph-for-glyph comparison with libraqm 0.7 (test-only oracle) on the kiosk corpus:
 * same faces per character, same pixel size and load flags, one line each; glyph ids,
 * visual order, clusters, advances and offsets must all match.
 *
 * Faces are given to raqm per character as the engine chose them (the face rule of issue 4
 * is tested in test_layout.c); this compares bidi, itemisation, shaping and reordering.
 *
 * One documented difference is allowed: a combining mark's cluster. The engine shapes with
 * HB_BUFFER_CLUSTER_LEVEL_MONOTONE_CHARACTERS so a haraka keeps its own cluster (the
 * caret can stop between letter and haraka, backspace removes only the haraka); raqm 0.7
 * uses HarfBuzz's default level, which merges it into its base letter's cluster. Such a
 * glyph must still match in everything else, and its raqm cluster must be an earlier one.
 */
#include <hb.h>
#include <raqm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "kiosk/text/text-priv.h"

struct config {
	int size;
	bool bold;
	enum text_dir dir;
};

static const struct config configs[] = {
	{24, false, TEXT_DIR_AUTO},
	{40, true, TEXT_DIR_AUTO},
	{32, false, TEXT_DIR_RTL},
	{32, false, TEXT_DIR_LTR},
};

static FT_Library ft;
static FT_Face faces[2][2]; /* [arabic][bold] */

static size_t u8len(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

static long mark_cluster_diffs;

static bool is_mark_at(const char *s, size_t i)
{
	const unsigned char *u = (const unsigned char *)s + i;
	uint32_t cp = u[0];
	if (cp >= 0xf0)
		cp = (cp & 0x07) << 18 | (u[1] & 0x3fu) << 12 | (u[2] & 0x3fu) << 6 | (u[3] & 0x3fu);
	else if (cp >= 0xe0)
		cp = (cp & 0x0f) << 12 | (u[1] & 0x3fu) << 6 | (u[2] & 0x3fu);
	else if (cp >= 0xc0)
		cp = (cp & 0x1f) << 6 | (u[1] & 0x3fu);
	return hb_unicode_general_category(hb_unicode_funcs_get_default(), cp) ==
	       HB_UNICODE_GENERAL_CATEGORY_NON_SPACING_MARK;
}

/* Returns true if raqm and the engine agree; prints the first differences. */
static bool compare(struct text_engine *e, const char *s, const struct config *cf, int *shown)
{
	struct text_style st = {.size_px = cf->size, .bold = cf->bold, .dir = cf->dir};
	size_t len = strlen(s);
	struct text_layout *l = text_layout_new(e, s, len, &st);
	if (!l || text_layout_line_count(l) != 1) {
		fprintf(stderr, "engine: no single line for \"%s\"\n", s);
		text_layout_free(l);
		return false;
	}
	int n = text_layout_line_glyphs(l, 0);
	struct text_glyph_info *g = calloc((size_t)n + 1, sizeof(*g));
	signed char *face_at = calloc(len + 1, 1);
	for (int i = 0; i < n; i++) {
		text_layout_glyph(l, 0, i, &g[i]);
		face_at[g[i].cluster] = g[i].arabic_face ? 2 : 1;
	}

	raqm_t *rq = raqm_create();
	bool ok = rq && raqm_set_text_utf8(rq, s, len);
	raqm_direction_t dir = cf->dir == TEXT_DIR_RTL ? RAQM_DIRECTION_RTL
			       : cf->dir == TEXT_DIR_LTR ? RAQM_DIRECTION_LTR : RAQM_DIRECTION_DEFAULT;
	ok = ok && raqm_set_par_direction(rq, dir);
	int cur = 1;
	for (size_t i = 0; ok && i < len; i += u8len((unsigned char)s[i])) {
		if (face_at[i])
			cur = face_at[i];
		FT_Face f = faces[cur == 2][cf->bold];
		ok = raqm_set_freetype_face_range(rq, f, i, u8len((unsigned char)s[i]));
	}
	ok = ok && raqm_set_freetype_load_flags(rq, TEXT_FT_LOAD_FLAGS) && raqm_layout(rq);
	size_t rn = 0;
	raqm_glyph_t *rg = ok ? raqm_get_glyphs(rq, &rn) : NULL;
	if (!rg) {
		fprintf(stderr, "raqm failed on \"%s\"\n", s);
		ok = false;
		goto out;
	}
	if ((size_t)n != rn) {
		ok = false;
		if ((*shown)++ < 10)
			fprintf(stderr, "size %d%s dir %d \"%s\": %d glyphs, raqm %zu\n", cf->size,
				cf->bold ? " bold" : "", cf->dir, s, n, rn);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		const raqm_glyph_t *r = &rg[i];
		FT_Face want = faces[g[i].arabic_face][cf->bold];
		bool mark_diff = r->cluster != g[i].cluster && r->cluster < g[i].cluster &&
				 is_mark_at(s, g[i].cluster);
		mark_cluster_diffs += mark_diff;
		if (r->index != g[i].glyph_id || (r->cluster != g[i].cluster && !mark_diff) ||
		    r->x_advance != g[i].x_advance26 || r->x_offset != g[i].x_offset26 ||
		    r->y_offset != g[i].y_offset26 || r->ftface != want) {
			ok = false;
			if ((*shown)++ < 10)
				fprintf(stderr,
					"size %d%s dir %d \"%s\" glyph %d: engine %u=%u@%d,%d+%d, "
					"raqm %u=%u@%d,%d+%d\n",
					cf->size, cf->bold ? " bold" : "", cf->dir, s, i, g[i].glyph_id,
					g[i].cluster, g[i].x_offset26, g[i].y_offset26, g[i].x_advance26,
					r->index, r->cluster, r->x_offset, r->y_offset, r->x_advance);
			break;
		}
	}
out:
	raqm_destroy(rq);
	free(face_at);
	free(g);
	text_layout_free(l);
	return ok;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "corpus.txt";
	struct corpus c;
	struct text_engine *e;
	struct kio_error err = {0};
	if (text_engine_new(NULL, &e, &err) != 0) {
		fprintf(stderr, "SKIP: %s\n", err.msg);
		return 77;
	}
	if (corpus_load(path, &c) != 0)
		return 1;
	if (FT_Init_FreeType(&ft) != 0)
		return 1;
	for (int a = 0; a < 2; a++)
		for (int b = 0; b < 2; b++)
			if (FT_New_Face(ft, text_engine_face_path(e, a, b), 0, &faces[a][b]) != 0) {
				fprintf(stderr, "cannot open %s\n", text_engine_face_path(e, a, b));
				return 1;
			}
	long pass = 0, total = 0;
	int shown = 0;
	for (size_t k = 0; k < sizeof(configs) / sizeof(configs[0]); k++) {
		const struct config *cf = &configs[k];
		for (int a = 0; a < 2; a++)
			for (int b = 0; b < 2; b++)
				FT_Set_Pixel_Sizes(faces[a][b], 0, (FT_UInt)cf->size);
		for (size_t i = 0; i < c.count; i++) {
			total++;
			pass += compare(e, c.lines[i], cf, &shown);
		}
	}
	printf("libraqm %s comparison: %ld/%ld layouts identical (%zu strings x %zu styles)\n",
	       raqm_version_string(), pass, total, c.count, sizeof(configs) / sizeof(configs[0]));
	printf("  documented difference: %ld mark glyphs keep their own cluster (raqm merges them)\n",
	       mark_cluster_diffs);
	/* Issue 4 asks for at least 200 strings; every layout must match. */
	int rc = c.count >= 200 && pass == total ? 0 : 1;
	for (int a = 0; a < 2; a++)
		for (int b = 0; b < 2; b++)
			FT_Done_Face(faces[a][b]);
	FT_Done_FreeType(ft);
	corpus_free(&c);
	text_engine_free(e);
	return rc;
}
