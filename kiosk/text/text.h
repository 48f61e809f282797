/*
 * The bilingual text engine: every string the kiosk shows or prints is laid out here
 * (FriBidi levels, HarfBuzz shaping, line breaking, per-line visual reordering) and
 * drawn from one glyph path, on screen (SDL) or into a receipt bitmap.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiosk/core/err.h"

struct SDL_Renderer;
struct text_engine;
struct text_layout;

enum text_dir { TEXT_DIR_AUTO, TEXT_DIR_RTL, TEXT_DIR_LTR };
/* START is the right edge in an RTL paragraph, the left edge in an LTR one. */
enum text_align { TEXT_ALIGN_START, TEXT_ALIGN_END, TEXT_ALIGN_CENTER };

struct text_style {
	int size_px;          /* pixels per em */
	bool bold;
	enum text_dir dir;    /* AUTO: the first strong character decides, else LTR */
	enum text_align align;
	int max_width;        /* wrap at this width in pixels; 0 = one line per paragraph */
};

struct text_engine_config {
	/* NULL members take the defaults (Debian fonts-noto-core files). */
	const char *arabic_regular, *arabic_bold;
	const char *latin_regular, *latin_bold;
};

/* Loads the faces. On failure returns a negative KIO_ERR_* and fills err naming the file. */
int text_engine_new(const struct text_engine_config *cfg, struct text_engine **out,
		    struct kio_error *err);
void text_engine_free(struct text_engine *engine); /* accepts NULL */

/*
 * Lays out utf8 (any bytes: invalid UTF-8 is replaced, never trusted) in style.
 * The result is borrowed from the engine's bounded LRU cache: valid until the next
 * text_layout() call that may evict it, so draw or measure right away, and never free it.
 * Returns NULL only if the engine cannot allocate (logged).
 */
const struct text_layout *text_layout(struct text_engine *engine, const char *utf8,
				      const struct text_style *style);

/* Extent of the laid-out block: width is the widest line (or max_width when aligned). */
int text_layout_width(const struct text_layout *layout);
int text_layout_height(const struct text_layout *layout);
int text_layout_line_count(const struct text_layout *layout);
/* Distance from the top of the block to the first baseline. */
int text_layout_baseline(const struct text_layout *layout);

/*
 * Draws with the block's top-left at (x, y); alignment happens inside max_width (or the
 * block's own width when max_width is 0). rgba is 0xRRGGBBAA.
 */
int text_draw_sdl(struct text_engine *engine, struct SDL_Renderer *renderer,
		  const struct text_layout *layout, int x, int y, uint32_t rgba);

/*
 * Draws into an 8-bit coverage bitmap (0 = paper, 255 = ink), clipped to w x h; the
 * receipt printer thresholds it to 1 bit. Same layout, same glyphs as the screen.
 */
int text_draw_gray(struct text_engine *engine, const struct text_layout *layout,
		   uint8_t *pixels, int stride, int w, int h, int x, int y);

/* `kiosk layout ...`: the developer tool (see `kiosk layout --help`). Returns an exit status. */
int text_layout_tool_main(int argc, char **argv);

/* ---- Added by the engine work: inspection, carets, digits, uncached layouts ---- */

/* The widest line, whatever max_width is. */
int text_layout_natural_width(const struct text_layout *layout);
/* How many lines end with a cut inside a word because max_width was narrower than the word
 * (no break opportunity on the line): each such word is drawn in two pieces that each fit,
 * so the width cannot show it. A screen layout treats any cut as text that does not fit. */
int text_layout_word_cuts(const struct text_layout *layout);

/*
 * A layout outside the cache, owned by the caller (text_layout_free): for tools, tests and
 * benchmarks. len is the byte count (utf8 need not be NUL-terminated). NULL only on
 * allocation failure of the engine's libraries (logged).
 */
struct text_layout *text_layout_new(struct text_engine *engine, const char *utf8, size_t len,
				    const struct text_style *style);
void text_layout_free(struct text_layout *layout); /* accepts NULL */

/* One glyph as laid out; advances and offsets in 26.6 pixels (1/64 px). */
struct text_glyph_info {
	uint32_t glyph_id;     /* in its own face */
	uint32_t cluster;      /* UTF-8 byte offset of the first character it shows */
	int32_t x26;           /* pen position from the line's left edge (before alignment) */
	int32_t x_offset26, y_offset26, x_advance26;
	bool arabic_face;      /* which of the engine's two faces (bold follows the style) */
	bool rtl;              /* shaped right to left */
};
/* Glyphs of one visual line, left to right. Returns the count, or -1 if line is out of range. */
int text_layout_line_glyphs(const struct text_layout *layout, int line);
/* Fills out for glyph i of line; false if out of range. */
bool text_layout_glyph(const struct text_layout *layout, int line, int i,
		       struct text_glyph_info *out);
/* Left edge of a line inside the block after alignment, in pixels; -1 if out of range. */
int text_layout_line_x(const struct text_layout *layout, int line);
/*
 * Destroys the glyph atlas texture. Call it before destroying the renderer that
 * text_draw_sdl() drew with (text_engine_free() also destroys the texture, so free the
 * engine first or call this). The next draw makes a new atlas.
 */
void text_engine_release_renderer(struct text_engine *engine);
/* Glyph bitmaps uploaded to the renderer since the engine started. Glyphs are uploaded white
 * and tinted per draw, so drawing text already drawn uploads nothing, in whatever colour. */
uint64_t text_engine_atlas_uploads(const struct text_engine *engine);
/* The glyph atlas texture's height in pixels now: 0 before the first draw, then growing as
 * glyphs fill it, at most 1024 (its width). */
int text_engine_atlas_height(const struct text_engine *engine);

/* Path of the face a glyph came from (borrowed from the engine). */
const char *text_engine_face_path(const struct text_engine *engine, bool arabic, bool bold);

/*
 * Carets for the on-screen keyboard. A caret sits before the character at byte index
 * (clamped to the text and moved back to a character start). Where one index has two
 * screen positions (a direction boundary), rtl_affinity picks the one that belongs to the
 * right-to-left side. Positions are in block pixels, as drawn. Ligatures (lam-alef) are
 * split evenly between the characters they show.
 */
struct text_caret {
	int line;
	int x, y, height;
};
int text_layout_caret(const struct text_layout *layout, size_t index, bool rtl_affinity,
		      struct text_caret *out); /* 0, or KIO_ERR_INVALID for an empty layout */
/* The byte index whose caret is nearest to (x, y), block pixels. */
size_t text_layout_hit(const struct text_layout *layout, int x, int y);
/*
 * Logical caret movement over the text the layout holds: the next or previous character
 * start that is not a combining mark (harakat stay with their letter).
 */
size_t text_layout_next_index(const struct text_layout *layout, size_t index);
size_t text_layout_prev_index(const struct text_layout *layout, size_t index);

/*
 * Digit shapes, chosen when an amount or number is formatted (issue 4: Western by default,
 * Eastern Arabic as an option), never by the renderer.
 */
enum text_digits { TEXT_DIGITS_WESTERN, TEXT_DIGITS_EASTERN_ARABIC };
/*
 * Copies utf8 to out (NUL-terminated, truncated to out_size), with EASTERN_ARABIC turning
 * 0-9 into U+0660..0669 and '.' / ',' between two digits into U+066B / U+066C.
 * Returns the length the whole result needs (without NUL), like snprintf.
 */
size_t text_digits_apply(enum text_digits digits, const char *utf8, char *out, size_t out_size);
