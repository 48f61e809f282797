/*
 * The engine object and its faces: the four font files loaded once, and one FreeType face
 * plus HarfBuzz font per (role, pixel size), bounded by TEXT_SIZED_FONTS_MAX.
 */
#define LOG_MODULE "text"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hb-ft.h>

#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"
#include "kiosk/text/text-priv.h"

#define NOTO_DIR "/usr/share/fonts/truetype/noto/"

/*
 * Noto Sans Arabic, not Naskh: kiosk labels are read at arm's length on a touch screen,
 * and the sans design has the larger x-height and open counters of UI lettering and
 * matches Noto Sans in stroke and weight beside Latin text. (Naskh is a book hand whose
 * tall ascenders and deep descenders also cost line height.)
 */
static const char *const default_paths[TEXT_ROLE_COUNT] = {
	[TEXT_ROLE_ARABIC] = NOTO_DIR "NotoSansArabic-Regular.ttf",
	[TEXT_ROLE_ARABIC_BOLD] = NOTO_DIR "NotoSansArabic-Bold.ttf",
	[TEXT_ROLE_LATIN] = NOTO_DIR "NotoSans-Regular.ttf",
	[TEXT_ROLE_LATIN_BOLD] = NOTO_DIR "NotoSans-Bold.ttf",
};

const char *text_default_face_path(enum text_role role)
{
	return default_paths[role];
}

/*
 * Maps the font file read-only. It was read whole into the heap: 1.5 MB of the four Noto files
 * copied and 380 page faults before the first frame, where FreeType reads only the tables and
 * glyphs it needs, straight from the page cache (issue 14). The fonts are the system's package
 * files, replaced by dpkg through a rename, which leaves this mapping on the old file.
 */
static int map_file(const char *path, void **data, size_t *len, struct kio_error *err)
{
	int rc = 0;
	/* O_NONBLOCK: a FIFO named as a font (`kiosk layout --font`, a test's face) is refused
	 * below, not waited on for a writer; reads of a regular file ignore it. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return kio_fail(err, errno == ENOENT ? KIO_ERR_NOT_FOUND : KIO_ERR_IO, "open font %s: %s", path,
				strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0) {
		rc = kio_fail(err, KIO_ERR_IO, "font %s: %s", path, strerror(errno));
		goto out_close;
	}
	if (S_ISDIR(st.st_mode) || !S_ISREG(st.st_mode)) {
		rc = kio_fail(err, KIO_ERR_INVALID, "font %s: %s", path,
			      S_ISDIR(st.st_mode) ? "is a folder, not a font file" : "is not a regular file");
		goto out_close;
	}
	/* A font file beyond 64 MiB is not one of ours; refuse before mapping. */
	if (st.st_size <= 0 || st.st_size > (64L << 20)) {
		rc = kio_fail(err, KIO_ERR_INVALID, "font %s: %lld bytes (a font file has 1 byte to 64 MiB)", path,
			      (long long)st.st_size);
		goto out_close;
	}
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		rc = kio_fail(err, KIO_ERR_IO, "map font %s: %s", path, strerror(errno));
		goto out_close;
	}
	*data = map;
	*len = (size_t)st.st_size;
out_close:
	close(fd);
	return rc;
}

int text_engine_new(const struct text_engine_config *cfg, struct text_engine **out,
		    struct kio_error *err)
{
	int rc = 0;
	struct text_engine *e = xcalloc(1, sizeof(*e));
	*out = NULL;

	if (FT_Init_FreeType(&e->ft) != 0) {
		rc = kio_fail(err, KIO_ERR_NOMEM, "FT_Init_FreeType failed");
		goto out_free;
	}
	const char *want[TEXT_ROLE_COUNT] = {
		cfg ? cfg->arabic_regular : NULL, cfg ? cfg->arabic_bold : NULL,
		cfg ? cfg->latin_regular : NULL, cfg ? cfg->latin_bold : NULL,
	};
	for (int r = 0; r < TEXT_ROLE_COUNT; r++) {
		e->paths[r] = xstrdup(want[r] ? want[r] : default_paths[r]);
		rc = map_file(e->paths[r], &e->data[r], &e->data_len[r], err);
		if (rc)
			goto out_free;
		FT_Error fe = FT_New_Memory_Face(e->ft, e->data[r], (FT_Long)e->data_len[r], 0,
						 &e->base[r]);
		if (fe) {
			rc = kio_fail(err, KIO_ERR_INVALID, "font %s: FreeType error %d", e->paths[r],
				      fe);
			goto out_free;
		}
		if (!FT_IS_SCALABLE(e->base[r])) {
			rc = kio_fail(err, KIO_ERR_UNSUPPORTED, "font %s: not scalable", e->paths[r]);
			goto out_free;
		}
	}
	e->buf = hb_buffer_create();
	if (!hb_buffer_allocation_successful(e->buf)) {
		rc = kio_fail(err, KIO_ERR_NOMEM, "hb_buffer_create failed");
		goto out_free;
	}
	e->ufuncs = hb_unicode_funcs_get_default();
	e->lang_ar = hb_language_from_string("ar", -1);
	e->lang_en = hb_language_from_string("en", -1);
	text_layout_cache_init(&e->lc);
	text_glyph_cache_init(&e->gc);
	*out = e;
	return 0;

out_free:
	text_engine_free(e);
	return rc;
}

static void fonts_drop(struct text_engine *e)
{
	for (int i = 0; i < e->n_fonts; i++) {
		/* hb owns the sized FT_Face (see text_font_get). */
		hb_font_destroy(e->fonts[i].hb);
	}
	e->n_fonts = 0;
	e->font_gen++;
}

void text_fonts_flush(struct text_engine *e)
{
	LOG_INFO("flushing %d sized fonts and the caches", e->n_fonts);
	text_layout_cache_clear(&e->lc);
	text_glyph_cache_clear(&e->gc);
	fonts_drop(e);
}

void text_engine_free(struct text_engine *e)
{
	if (!e)
		return;
	text_layout_cache_fini(&e->lc);
	text_glyph_cache_fini(&e->gc);
	fonts_drop(e);
	hb_buffer_destroy(e->buf);
	for (int r = 0; r < TEXT_ROLE_COUNT; r++) {
		if (e->base[r])
			FT_Done_Face(e->base[r]);
		if (e->data[r] && munmap(e->data[r], e->data_len[r]) != 0)
			LOG_WARN("unmap font %s: %s", e->paths[r], strerror(errno));
		free(e->paths[r]);
	}
	if (e->ft)
		FT_Done_FreeType(e->ft);
	struct scratch *s = &e->s;
	free(s->cps);
	free(s->offs);
	free(s->types);
	free(s->btypes);
	free(s->levels);
	free(s->map);
	free(s->scripts);
	free(s->roles);
	free(s->brk);
	free(s->adv26);
	free(s->cluster_start);
	free(s->run_of);
	text_bidi_work_free(&s->bidi);
	free(s->glyphs);
	free(s->runs);
	free(s->lines);
	free(s->items);
	free(s->shaped);
	free(e);
}

/*
 * Horizontal advances of one sized font, every glyph of the face, filled on first use.
 * hb_ft keeps only 256 advances (keyed by the low bits of the glyph id), so Arabic text
 * kept reloading glyphs through FT_Load_Glyph, which allocates in the auto-hinter:
 * 1 to 4 heap allocations per uncached layout after warm-up (bench-text --count-allocs).
 */
struct advance_cache {
	hb_font_t *parent;  /* the hb_ft font, which owns the FT_Face */
	unsigned n;
	int32_t *adv;       /* ADV_UNKNOWN until asked */
};
#define ADV_UNKNOWN INT32_MIN

static void advance_cache_free(void *data)
{
	struct advance_cache *c = data;
	hb_font_destroy(c->parent);
	free(c->adv);
	free(c);
}

static void on_h_advances(hb_font_t *font, void *data, unsigned count, const hb_codepoint_t *glyph,
			  unsigned glyph_stride, hb_position_t *adv, unsigned adv_stride, void *user)
{
	(void)font, (void)user;
	struct advance_cache *c = data;
	for (unsigned i = 0; i < count; i++) {
		hb_codepoint_t g = *glyph;
		if (g < c->n) {
			if (c->adv[g] == ADV_UNKNOWN)
				c->adv[g] = hb_font_get_glyph_h_advance(c->parent, g);
			*adv = c->adv[g];
		} else {
			*adv = hb_font_get_glyph_h_advance(c->parent, g);
		}
		glyph = (const hb_codepoint_t *)((const char *)glyph + glyph_stride);
		adv = (hb_position_t *)((char *)adv + adv_stride);
	}
}

/* A sub-font of hb (taking it) whose advances come from a per-glyph table. */
static hb_font_t *with_advance_cache(hb_font_t *hb, unsigned num_glyphs)
{
	struct advance_cache *c = xcalloc(1, sizeof(*c));
	c->parent = hb;
	c->n = num_glyphs;
	c->adv = xmalloc((num_glyphs ? num_glyphs : 1) * sizeof(*c->adv));
	for (unsigned i = 0; i < num_glyphs; i++)
		c->adv[i] = ADV_UNKNOWN;
	hb_font_t *sub = hb_font_create_sub_font(hb);
	hb_font_funcs_t *funcs = hb_font_funcs_create();
	hb_font_funcs_set_glyph_h_advances_func(funcs, on_h_advances, NULL, NULL);
	hb_font_funcs_make_immutable(funcs);
	/* Everything else (glyph lookup, extents, names) falls through to the parent. */
	hb_font_set_funcs(sub, funcs, c, advance_cache_free);
	hb_font_funcs_destroy(funcs);
	hb_font_make_immutable(sub);
	return sub;
}

int text_font_get(struct text_engine *e, enum text_role role, int size_px)
{
	for (int i = 0; i < e->n_fonts; i++)
		if (e->fonts[i].role == role && e->fonts[i].size_px == size_px)
			return i;
	/*
	 * Full: drop them all rather than one, since cached layouts and glyphs name fonts by
	 * index. Only a caller cycling through dozens of sizes gets here.
	 */
	if (e->n_fonts == TEXT_SIZED_FONTS_MAX)
		text_fonts_flush(e);

	struct text_font *f = &e->fonts[e->n_fonts];
	FT_Error fe = FT_New_Memory_Face(e->ft, e->data[role], (FT_Long)e->data_len[role], 0, &f->ft);
	if (fe) {
		LOG_ERR("%s: FT_New_Memory_Face error %d", e->paths[role], fe);
		return -1;
	}
	fe = FT_Set_Pixel_Sizes(f->ft, 0, (FT_UInt)size_px);
	if (fe) {
		LOG_ERR("%s: FT_Set_Pixel_Sizes(%d) error %d", e->paths[role], size_px, fe);
		FT_Done_Face(f->ft);
		return -1;
	}
	hb_font_t *hb = hb_ft_font_create_referenced(f->ft);
	/* Same load flags as the rasteriser, so shaped advances match the drawn bitmaps. */
	hb_ft_font_set_load_flags(hb, TEXT_FT_LOAD_FLAGS);
	f->hb = with_advance_cache(hb, (unsigned)f->ft->num_glyphs);
	/* hb_ft_font_create_referenced took a reference; drop ours so hb owns the face. */
	FT_Done_Face(f->ft);
	f->role = role;
	f->size_px = size_px;
	f->ascent26 = (int32_t)f->ft->size->metrics.ascender;
	f->descent26 = (int32_t)-f->ft->size->metrics.descender;
	return e->n_fonts++;
}

bool text_role_has(const struct text_engine *e, enum text_role role, uint32_t cp)
{
	return FT_Get_Char_Index(e->base[role], cp) != 0;
}

const char *text_role_path(const struct text_engine *e, enum text_role role)
{
	return e->paths[role];
}

const char *text_engine_face_path(const struct text_engine *e, bool arabic, bool bold)
{
	return e->paths[(arabic ? TEXT_ROLE_ARABIC : TEXT_ROLE_LATIN) + (bold ? 1 : 0)];
}
