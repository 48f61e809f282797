/*
 * The one glyph path for both scripts: HarfBuzz glyph ids rasterised once by FreeType
 * into a bounded LRU cache of coverage bitmaps, packed on demand into one SDL atlas texture
 * (white, tinted per draw), or blended into a receipt bitmap. Bounds:
 * TEXT_GLYPH_CACHE_ENTRIES bitmaps, one texture of at most TEXT_ATLAS_SIZE².
 */
#define LOG_MODULE "text"
#include <stdlib.h>
#include <string.h>

#include <SDL.h>

#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"
#include "kiosk/text/text-priv.h"

struct glyph_entry {
	struct glyph_entry *chain;       /* bucket */
	struct glyph_entry *prev, *next; /* LRU, head = most recent */
	uint32_t font, gid;
	int w, h, left, top;             /* bitmap size and placement from the pen */
	uint8_t *cov;                    /* w * h coverage, NULL when empty */
	int ax, ay;                      /* in the atlas, valid when gen matches the atlas's */
	uint32_t gen;
};

#define GLYPH_BUCKETS 8192 /* power of two, twice the entry bound */

void text_glyph_cache_init(struct glyph_cache *gc)
{
	memset(gc, 0, sizeof(*gc));
	gc->pool = xcalloc(TEXT_GLYPH_CACHE_ENTRIES, sizeof(*gc->pool));
	gc->n_buckets = GLYPH_BUCKETS;
	gc->buckets = xcalloc(gc->n_buckets, sizeof(*gc->buckets));
	for (size_t i = 0; i < TEXT_GLYPH_CACHE_ENTRIES; i++) {
		gc->pool[i].chain = gc->free_list;
		gc->free_list = &gc->pool[i];
	}
	gc->next_gen = 1;
}

static void page_restart(struct glyph_cache *gc, struct atlas_page *pg)
{
	/* Each start gets a new generation, so no stale position ever matches. */
	pg->gen = ++gc->next_gen;
	pg->shelf_x = pg->shelf_y = pg->shelf_h = 0;
}

static size_t bucket_of(uint32_t font, uint32_t gid)
{
	uint32_t h = (gid * 2654435761u) ^ (font * 40503u);
	return h & (GLYPH_BUCKETS - 1);
}

static void lru_unlink(struct glyph_cache *gc, struct glyph_entry *g)
{
	if (g->prev)
		g->prev->next = g->next;
	else
		gc->lru_head = g->next;
	if (g->next)
		g->next->prev = g->prev;
	else
		gc->lru_tail = g->prev;
	g->prev = g->next = NULL;
}

static void lru_push(struct glyph_cache *gc, struct glyph_entry *g)
{
	g->prev = NULL;
	g->next = gc->lru_head;
	if (gc->lru_head)
		gc->lru_head->prev = g;
	gc->lru_head = g;
	if (!gc->lru_tail)
		gc->lru_tail = g;
}

static void entry_drop(struct glyph_cache *gc, struct glyph_entry *g)
{
	struct glyph_entry **pp = &gc->buckets[bucket_of(g->font, g->gid)];
	while (*pp != g)
		pp = &(*pp)->chain;
	*pp = g->chain;
	lru_unlink(gc, g);
	free(g->cov);
	memset(g, 0, sizeof(*g));
	g->chain = gc->free_list;
	gc->free_list = g;
	gc->count--;
}

void text_glyph_cache_clear(struct glyph_cache *gc)
{
	while (gc->lru_tail)
		entry_drop(gc, gc->lru_tail);
	/* Atlas space is reclaimed by starting a new generation. */
	page_restart(gc, &gc->atlas);
}

void text_glyph_cache_fini(struct glyph_cache *gc)
{
	if (!gc->pool)
		return;
	text_glyph_cache_clear(gc);
	if (gc->atlas.tex)
		SDL_DestroyTexture(gc->atlas.tex);
	free(gc->pool);
	free(gc->buckets);
	free(gc->upload);
	memset(gc, 0, sizeof(*gc));
}

void text_engine_release_renderer(struct text_engine *engine)
{
	struct glyph_cache *gc = &engine->gc;
	if (gc->atlas.tex)
		SDL_DestroyTexture(gc->atlas.tex);
	gc->atlas.tex = NULL;
	page_restart(gc, &gc->atlas);
	gc->renderer = NULL;
}

static void rasterise(struct text_engine *e, struct glyph_entry *g)
{
	FT_Face face = e->fonts[g->font].ft;
	FT_Error fe = FT_Load_Glyph(face, g->gid, TEXT_FT_LOAD_FLAGS);
	if (!fe)
		fe = FT_Render_Glyph(face->glyph, FT_RENDER_MODE_NORMAL);
	if (fe) {
		/* Cached empty, so a broken glyph costs one log line, not one per frame. */
		LOG_WARN("%s: glyph %u at %dpx: FreeType error %d", e->paths[e->fonts[g->font].role],
			 g->gid, e->fonts[g->font].size_px, fe);
		return;
	}
	const FT_Bitmap *bm = &face->glyph->bitmap;
	if (bm->pixel_mode != FT_PIXEL_MODE_GRAY || !bm->width || !bm->rows)
		return;
	g->w = (int)bm->width;
	g->h = (int)bm->rows;
	g->left = face->glyph->bitmap_left;
	g->top = face->glyph->bitmap_top;
	g->cov = xmalloc((size_t)g->w * (size_t)g->h);
	for (int y = 0; y < g->h; y++) {
		const unsigned char *src = bm->pitch >= 0
			? bm->buffer + (size_t)y * (size_t)bm->pitch
			: bm->buffer + (size_t)(g->h - 1 - y) * (size_t)(-bm->pitch);
		memcpy(g->cov + (size_t)y * (size_t)g->w, src, (size_t)g->w);
	}
}

static struct glyph_entry *glyph_get(struct text_engine *e, uint32_t font, uint32_t gid)
{
	struct glyph_cache *gc = &e->gc;
	size_t b = bucket_of(font, gid);
	for (struct glyph_entry *g = gc->buckets[b]; g; g = g->chain) {
		if (g->font == font && g->gid == gid) {
			if (gc->lru_head != g) {
				lru_unlink(gc, g);
				lru_push(gc, g);
			}
			return g;
		}
	}
	if (!gc->free_list)
		entry_drop(gc, gc->lru_tail);
	struct glyph_entry *g = gc->free_list;
	gc->free_list = g->chain;
	memset(g, 0, sizeof(*g));
	g->font = font;
	g->gid = gid;
	rasterise(e, g);
	g->chain = gc->buckets[b];
	gc->buckets[b] = g;
	lru_push(gc, g);
	gc->count++;
	return g;
}

/*
 * A new atlas texture TEXT_ATLAS_SIZE wide and h tall for pg, in place of the old one (whose
 * tint it keeps: a draw may be half-way through its glyphs). SDL runs the queued copies from
 * the old texture before destroying it. The glyphs' positions start over.
 */
static int atlas_texture(struct glyph_cache *gc, struct atlas_page *pg, int h)
{
	Uint8 r = 0xFF, g = 0xFF, b = 0xFF, a = 0xFF;
	if (pg->tex &&
	    (SDL_GetTextureColorMod(pg->tex, &r, &g, &b) != 0 || SDL_GetTextureAlphaMod(pg->tex, &a) != 0))
		LOG_WARN("atlas tint: %s", SDL_GetError());
	SDL_Texture *tex = SDL_CreateTexture(gc->renderer, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STATIC,
					     TEXT_ATLAS_SIZE, h);
	if (!tex) {
		LOG_ERR("atlas texture %dx%d: %s", TEXT_ATLAS_SIZE, h, SDL_GetError());
		return KIO_ERR_NOMEM;
	}
	if (SDL_SetTextureBlendMode(tex, SDL_BLENDMODE_BLEND) != 0 || SDL_SetTextureColorMod(tex, r, g, b) != 0 ||
	    SDL_SetTextureAlphaMod(tex, a) != 0)
		LOG_WARN("atlas blend mode: %s", SDL_GetError());
	if (pg->tex)
		SDL_DestroyTexture(pg->tex);
	pg->tex = tex;
	pg->h = h;
	page_restart(gc, pg);
	return 0;
}

/* The atlas of renderer r, created on first use. */
static struct atlas_page *atlas_for(struct text_engine *e, SDL_Renderer *r)
{
	struct glyph_cache *gc = &e->gc;
	/*
	 * A different renderer: the old texture belonged to it. The caller must have called
	 * text_engine_release_renderer() if it destroyed that renderer; if not, it is alive.
	 */
	if (gc->renderer != r) {
		text_engine_release_renderer(e);
		gc->renderer = r;
	}
	struct atlas_page *pg = &gc->atlas;
	if (pg->tex)
		return pg;
	/* As tall as it had grown for the renderer before, or the start. */
	if (atlas_texture(gc, pg, pg->h > 0 ? pg->h : TEXT_ATLAS_START_H) != 0)
		return NULL;
	return pg;
}

/* Puts g in the atlas; when it is full, starts it over (older glyphs re-upload). */
static int atlas_place(struct glyph_cache *gc, struct glyph_entry *g)
{
	struct atlas_page *pg = &gc->atlas;
	if (g->gen == pg->gen)
		return 0;
	int w = g->w + 1, h = g->h + 1; /* a clear pixel between glyphs stops bleeding */
	if (w > TEXT_ATLAS_SIZE || h > TEXT_ATLAS_SIZE)
		return KIO_ERR_INVALID;
	if (pg->shelf_x + w > TEXT_ATLAS_SIZE) {
		pg->shelf_y += pg->shelf_h;
		pg->shelf_x = pg->shelf_h = 0;
	}
	if (pg->shelf_y + h > pg->h) {
		if (pg->h < TEXT_ATLAS_SIZE) {
			int grown = pg->h * 2 < TEXT_ATLAS_SIZE ? pg->h * 2 : TEXT_ATLAS_SIZE;
			LOG_DBG("glyph atlas full at %d rows: %d", pg->h, grown);
			int rc = atlas_texture(gc, pg, grown);
			if (rc)
				return rc;
		} else {
			LOG_DBG("glyph atlas full: starting over");
			page_restart(gc, pg);
		}
	}
	size_t need = (size_t)w * (size_t)h;
	if (need > gc->upload_cap) {
		gc->upload = xrealloc(gc->upload, need * sizeof(*gc->upload));
		gc->upload_cap = need;
	}
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint32_t a = (x < g->w && y < g->h) ? g->cov[(size_t)y * (size_t)g->w + (size_t)x] : 0;
			gc->upload[(size_t)y * (size_t)w + (size_t)x] = (a << 24) | 0xFFFFFFu;
		}
	SDL_Rect rect = {pg->shelf_x, pg->shelf_y, w, h};
	if (SDL_UpdateTexture(pg->tex, &rect, gc->upload, w * 4) != 0) {
		LOG_ERR("atlas upload: %s", SDL_GetError());
		return KIO_ERR_IO;
	}
	gc->uploads++;
	g->ax = pg->shelf_x;
	g->ay = pg->shelf_y;
	g->gen = pg->gen;
	pg->shelf_x += w;
	if (h > pg->shelf_h)
		pg->shelf_h = h;
	return 0;
}

uint64_t text_engine_atlas_uploads(const struct text_engine *engine) { return engine->gc.uploads; }

int text_engine_atlas_height(const struct text_engine *engine)
{
	return engine->gc.atlas.tex ? engine->gc.atlas.h : 0;
}

static int round26(int32_t v)
{
	return (int)((v + 32) >> 6);
}

int text_draw_sdl(struct text_engine *e, struct SDL_Renderer *renderer,
		  const struct text_layout *l, int x, int y, uint32_t rgba)
{
	if (!e || !renderer || !l)
		return KIO_ERR_INVALID;
	if (l->font_gen != e->font_gen) {
		LOG_ERR("draw of a layout made before the fonts were flushed");
		return KIO_ERR_INVALID;
	}
	struct glyph_cache *gc = &e->gc;
	struct atlas_page *pg = atlas_for(e, renderer);
	if (!pg)
		return KIO_ERR_NOMEM;
	/* SDL records the modulation with each queued copy, so later draws in other colours
	 * do not repaint these. */
	if (SDL_SetTextureColorMod(pg->tex, (Uint8)(rgba >> 24), (Uint8)(rgba >> 16), (Uint8)(rgba >> 8)) != 0 ||
	    SDL_SetTextureAlphaMod(pg->tex, (Uint8)rgba) != 0) {
		LOG_ERR("glyph colour: %s", SDL_GetError());
		return KIO_ERR_IO;
	}
	int rc;
	for (uint32_t k = 0; k < l->n_lines; k++) {
		const struct text_line *ln = &l->lines[k];
		int base_y = y + (int)k * l->line_height + l->baseline;
		int x0 = x + ln->x_px;
		for (uint32_t r = ln->run_start; r < ln->run_start + ln->run_count; r++) {
			const struct text_run *run = &l->runs[r];
			for (uint32_t i = 0; i < run->glyph_count; i++) {
				const struct text_glyph *tg = &l->glyphs[run->glyph_start + i];
				struct glyph_entry *g = glyph_get(e, tg->font, tg->gid);
				if (!g->cov)
					continue;
				rc = atlas_place(gc, g);
				if (rc == KIO_ERR_INVALID)
					continue; /* larger than the atlas: cannot happen below TEXT_SIZE_MAX */
				if (rc)
					return rc;
				SDL_Rect src = {g->ax, g->ay, g->w, g->h};
				SDL_Rect dst = {x0 + round26(tg->x26 + tg->x_offset26) + g->left,
						base_y - round26(tg->y_offset26) - g->top, g->w, g->h};
				if (SDL_RenderCopy(renderer, pg->tex, &src, &dst) != 0) {
					LOG_ERR("glyph blit: %s", SDL_GetError());
					return KIO_ERR_IO;
				}
			}
		}
	}
	return 0;
}

int text_draw_gray(struct text_engine *e, const struct text_layout *l, uint8_t *pixels,
		   int stride, int w, int h, int x, int y)
{
	if (!e || !l || !pixels || w < 0 || h < 0 || stride < w)
		return KIO_ERR_INVALID;
	if (l->font_gen != e->font_gen) {
		LOG_ERR("draw of a layout made before the fonts were flushed");
		return KIO_ERR_INVALID;
	}
	for (uint32_t k = 0; k < l->n_lines; k++) {
		const struct text_line *ln = &l->lines[k];
		int base_y = y + (int)k * l->line_height + l->baseline;
		int x0 = x + ln->x_px;
		for (uint32_t r = ln->run_start; r < ln->run_start + ln->run_count; r++) {
			const struct text_run *run = &l->runs[r];
			for (uint32_t i = 0; i < run->glyph_count; i++) {
				const struct text_glyph *tg = &l->glyphs[run->glyph_start + i];
				struct glyph_entry *g = glyph_get(e, tg->font, tg->gid);
				if (!g->cov)
					continue;
				int gx = x0 + round26(tg->x26 + tg->x_offset26) + g->left;
				int gy = base_y - round26(tg->y_offset26) - g->top;
				for (int yy = 0; yy < g->h; yy++) {
					int py = gy + yy;
					if (py < 0 || py >= h)
						continue;
					uint8_t *row = pixels + (size_t)py * (size_t)stride;
					const uint8_t *src = g->cov + (size_t)yy * (size_t)g->w;
					for (int xx = 0; xx < g->w; xx++) {
						int px = gx + xx;
						if (px < 0 || px >= w || !src[xx])
							continue;
						/* "over": overlapping marks and joins darken, never wrap. */
						unsigned d = row[px];
						row[px] = (uint8_t)(d + (src[xx] * (255u - d) + 127u) / 255u);
					}
				}
			}
		}
	}
	return 0;
}
