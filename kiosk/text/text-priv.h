/*
 * Internals of the text engine, shared by kiosk/text/ sources and its tests only: the bidi and
 * line-break stages, the face table, the layout record and the glyph cache.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <fribidi.h>
#include <ft2build.h>
#include FT_FREETYPE_H
#include <hb.h>

#include "kiosk/text/text.h"

/* Font roles: index into the engine's base faces. */
enum text_role {
	TEXT_ROLE_ARABIC,
	TEXT_ROLE_ARABIC_BOLD,
	TEXT_ROLE_LATIN,
	TEXT_ROLE_LATIN_BOLD,
	TEXT_ROLE_COUNT
};

/* Sizes outside this range are clamped: an atlas page must hold the largest glyph. */
#define TEXT_SIZE_MIN 4
#define TEXT_SIZE_MAX 300

/*
 * The widest line and the tallest layout the engine makes, in pixels. Their 26.6 values (at most
 * 2^30) and every pen position and height stay inside int32_t; a text that would go beyond is
 * refused (text_layout_new returns NULL) instead of wrapping around to a negative width. The
 * kiosk's screens are below 8K; 16.7 million pixels leave room for any tool use.
 */
#define TEXT_EXTENT_MAX_PX (1 << 24)

/* Bounds of the caches (issue 4: "state the bound"). */
#define TEXT_LAYOUT_CACHE_ENTRIES 512
#define TEXT_LAYOUT_CACHE_BYTES (8u << 20)   /* block capacities, not just the bytes used */
/*
 * Cached layouts live in power-of-two blocks (1 KiB to 8 MiB); an evicted layout's block
 * waits in a spare list for the next miss of its size, so a full cache that keeps
 * missing allocates nothing (issue 4: zero allocations per call in the steady state).
 * Spare blocks are bounded too; past the bound they go back to the heap.
 */
#define TEXT_LAYOUT_BLOCK_MIN_SHIFT 10
#define TEXT_LAYOUT_BLOCK_MAX_SHIFT 23
#define TEXT_LAYOUT_SPARE_BYTES (2u << 20)
#define TEXT_GLYPH_CACHE_ENTRIES 4096
#define TEXT_SIZED_FONTS_MAX 64
#define TEXT_ATLAS_SIZE 1024
/*
 * The atlas starts this tall and doubles when full, up to TEXT_ATLAS_SIZE: the software
 * renderer allocates and clears a texture whole, and a 1024x1024 one was 1,024 page faults and
 * a 4 MiB memset before the first frame, for glyphs that fill a fraction of it (issue 14).
 */
#define TEXT_ATLAS_START_H 512

/* Glyphs and shaping use one set of FreeType load flags so advances match the bitmaps. */
#define TEXT_FT_LOAD_FLAGS FT_LOAD_NO_HINTING

/* ---- bidi stage (bidi.c) ---- */

/* Work arrays of the level resolver, grown to the longest paragraph seen and kept. */
struct text_bidi_work {
	int cap;
	uint8_t *cls, *orig, *seq_cls, *xlevel;
	int *match, *kept, *run_of, *run_start, *seq, *pairs;
};
void text_bidi_work_reserve(struct text_bidi_work *w, int len);
void text_bidi_work_free(struct text_bidi_work *w); /* leaves w empty, reusable */

/*
 * Resolves embedding levels of one paragraph (rules P2..I2 with N0 bracket pairs, and L1
 * for segment and paragraph separators). btypes may be NULL (BidiTest.txt has classes
 * only). *par_dir is in/out: FRIBIDI_PAR_LTR, _RTL, _ON (auto, LTR if no strong),
 * _WLTR/_WRTL (auto, else the given one); on return the resolved direction. Allocates
 * only to grow w. Returns 0.
 */
int text_bidi_levels(struct text_bidi_work *w, const FriBidiCharType *types, const FriBidiBracketType *btypes,
		     int len, FriBidiParType *par_dir, FriBidiLevel *levels);

/*
 * Rules L1 (trailing whitespace reset) and L2 for the line [off, off+len) of a paragraph.
 * levels is updated in place for that line; map[off..off+len) receives, for each visual
 * position, the logical index shown there. Returns 0 or KIO_ERR_NOMEM.
 */
int text_bidi_reorder_line(const FriBidiCharType *types, int off, int len, FriBidiParType par_dir,
			   FriBidiLevel *levels, FriBidiStrIndex *map);

/* Types and bracket types from code points (the engine's first bidi step). */
void text_bidi_classify(const uint32_t *cps, int len, FriBidiCharType *types,
			FriBidiBracketType *btypes);

/* ---- line-break stage (linebreak.c) ---- */

enum text_brk { TEXT_BRK_MUST, TEXT_BRK_ALLOW, TEXT_BRK_NO };

/*
 * UAX #14 opportunities: brk[i] says whether a break is allowed after cps[i] (the last is
 * TEXT_BRK_MUST, rule LB3). Any uint32_t values are valid input (surrogates, noncharacters
 * and values above U+10FFFF break like unassigned code points); allocates nothing.
 */
void text_linebreaks(const uint32_t *cps, size_t len, uint8_t *brk);
/* The Unicode version of the line-break tables and rules, e.g. "15.0.0". */
extern const char text_linebreak_unicode[];

/* ---- UTF-8 (utf8.c) ---- */

/*
 * Decodes len bytes into cps (room for len entries); offs[i] is the byte offset of cps[i],
 * offs[n] = len. Invalid or overlong sequences, surrogates and values above U+10FFFF become
 * U+FFFD, one per maximal invalid subpart. Returns the count.
 */
size_t text_utf8_decode(const char *s, size_t len, uint32_t *cps, uint32_t *offs);

/* ---- faces (font.c) ---- */

struct text_font {
	enum text_role role;
	int size_px;
	FT_Face ft;
	hb_font_t *hb;
	int32_t ascent26, descent26; /* descent positive, 26.6 pixels */
};

/* Returns the sized font index for (role, size), creating it; -1 if FreeType fails (logged). */
int text_font_get(struct text_engine *engine, enum text_role role, int size_px);
bool text_role_has(const struct text_engine *engine, enum text_role role, uint32_t cp);
const char *text_default_face_path(enum text_role role);
const char *text_role_path(const struct text_engine *engine, enum text_role role);

/* ---- the layout record ---- */

struct text_glyph {
	uint32_t gid;
	uint32_t cluster;   /* byte offset into the layout's text */
	int32_t x26;        /* pen position from the line's left edge, 26.6 */
	int32_t x_offset26, y_offset26, x_advance26;
	uint16_t font;      /* index into engine->fonts */
	uint8_t flags;      /* hb_glyph_flags_t */
	uint8_t role;       /* enum text_role of that font */
};

/* A visual run: glyphs of one level and one font, in left-to-right order. */
struct text_run {
	uint32_t glyph_start, glyph_count;
	uint32_t byte_start, byte_end; /* logical byte range it shows */
	uint8_t level;
};

struct text_line {
	uint32_t run_start, run_count;
	uint32_t byte_start, byte_end; /* logical range, separators and hung spaces included */
	int32_t width26;               /* advance of the shown glyphs */
	int x_px;                      /* left edge inside the block, after alignment */
	bool rtl;                      /* paragraph direction */
};

struct text_layout {
	uint64_t font_gen;  /* the engine's font generation the glyph fonts belong to */
	struct text_style style;   /* as used, sizes clamped */
	struct text_style asked;   /* as given: the cache key */
	char *text;         /* copy, NUL-terminated, the cluster offsets index it */
	size_t text_len;
	struct text_line *lines;
	struct text_run *runs;
	struct text_glyph *glyphs;
	uint32_t n_lines, n_runs, n_glyphs;
	int width, height, baseline, line_height, natural_width;
	int word_cuts;      /* lines that end inside a word: the box was narrower than a word */
	size_t bytes;       /* bytes used */
	size_t cap;         /* bytes allocated: a cache block's capacity, else bytes */
	bool pooled;        /* in a cache block: goes back to the spare list, not to free() */
};

/* ---- caches (cache.c, glyph.c) ---- */

struct layout_entry;
struct glyph_entry;

/*
 * One atlas texture holds glyphs in one colour, baked in (RGB = colour, A = coverage x
 * alpha). SDL's software renderer blends an unmodulated ARGB texture on its fast path;
 * with a colour mod it falls to the generic per-pixel blitter, 4x slower (measured by
 * bench-text: 1.86 vs 0.47 ms for the home screen).
 */
struct atlas_page {
	struct SDL_Texture *tex;
	uint32_t gen;        /* glyph positions are valid when their gen matches */
	int h;               /* the texture's height: TEXT_ATLAS_START_H doubled up to TEXT_ATLAS_SIZE */
	int shelf_x, shelf_y, shelf_h;
};

struct layout_cache {
	struct layout_entry *pool;        /* TEXT_LAYOUT_CACHE_ENTRIES + 1, allocated once */
	struct layout_entry *free_entries;
	void *spare[TEXT_LAYOUT_BLOCK_MAX_SHIFT + 1]; /* blocks by log2 capacity, linked */
	size_t spare_bytes;
	struct layout_entry **buckets;
	size_t n_buckets;
	struct layout_entry *lru_head, *lru_tail; /* head = most recent */
	size_t count, bytes;
	uint64_t hits, misses;
};

struct glyph_cache {
	struct glyph_entry *pool;         /* TEXT_GLYPH_CACHE_ENTRIES, allocated once */
	struct glyph_entry **buckets;
	size_t n_buckets;
	struct glyph_entry *lru_head, *lru_tail;
	struct glyph_entry *free_list;
	size_t count;
	/* The atlas: white glyphs with coverage as alpha, tinted per draw by the texture's colour
	 * and alpha modulation, so any number of colours share one upload of each glyph. Shelves
	 * packed top to bottom; it starts over when full. */
	struct SDL_Renderer *renderer;
	struct atlas_page atlas;
	uint32_t next_gen;
	uint64_t uploads;                 /* glyph bitmaps sent to the renderer (text_engine_atlas_uploads) */
	uint32_t *upload;                 /* scratch for one glyph's RGBA pixels */
	size_t upload_cap;
};

struct scratch {
	size_t cap;
	uint32_t *cps, *offs;
	FriBidiCharType *types;
	FriBidiBracketType *btypes;
	FriBidiLevel *levels;
	FriBidiStrIndex *map;
	hb_script_t *scripts;
	uint8_t *roles, *brk;
	int32_t *adv26;
	uint8_t *cluster_start;
	int32_t *run_of;
	struct text_bidi_work bidi;
	/* growable outputs */
	struct text_glyph *glyphs; size_t glyphs_cap, n_glyphs;
	struct text_run *runs; size_t runs_cap, n_runs;
	struct text_line *lines; size_t lines_cap, n_lines;
	struct item *items; size_t items_cap, n_items;
	struct text_glyph *shaped; size_t shaped_cap, n_shaped;
	int64_t widest26; /* the widest line emitted since the build began */
	int word_cuts;    /* lines ended by an emergency cut inside a word since the build began */
	char refused[128]; /* why the last text_layout_build returned NULL, "" if it did not */
};

struct text_engine {
	FT_Library ft;
	char *paths[TEXT_ROLE_COUNT];
	void *data[TEXT_ROLE_COUNT]; /* the font files, mapped read-only (font.c, map_file) */
	size_t data_len[TEXT_ROLE_COUNT];
	FT_Face base[TEXT_ROLE_COUNT];       /* unsized, for coverage checks */
	struct text_font fonts[TEXT_SIZED_FONTS_MAX];
	int n_fonts;
	uint64_t font_gen;
	hb_buffer_t *buf;
	hb_unicode_funcs_t *ufuncs;
	hb_language_t lang_ar, lang_en;
	struct scratch s;
	struct layout_cache lc;
	struct glyph_cache gc;
};

/*
 * Builds a layout. With lc NULL the caller owns it (text_layout_free); otherwise its
 * memory is a block from lc's spares (text_layout_block_put gives it back).
 */
struct text_layout *text_layout_build(struct text_engine *engine, const char *utf8, size_t len,
				      const struct text_style *style, struct layout_cache *lc);
/* A block of at least bytes from lc's spares, or the heap; *cap receives its capacity. */
void *text_layout_block_get(struct layout_cache *lc, size_t bytes, size_t *cap);
void text_layout_block_put(struct layout_cache *lc, struct text_layout *layout);

void text_layout_cache_init(struct layout_cache *lc);
void text_layout_cache_clear(struct layout_cache *lc);
void text_layout_cache_fini(struct layout_cache *lc); /* clears, then frees spares and tables */
const struct text_layout *text_layout_cache_get(struct text_engine *engine, const char *utf8,
						size_t len, const struct text_style *style);

void text_glyph_cache_init(struct glyph_cache *gc);
void text_glyph_cache_clear(struct glyph_cache *gc);
void text_glyph_cache_fini(struct glyph_cache *gc);

/* Drops every sized font, and with them the glyph and layout caches. */
void text_fonts_flush(struct text_engine *engine);
