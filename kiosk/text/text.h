/*
 * The bilingual text engine: every string the kiosk shows or prints is laid out here
 * (FriBidi levels, HarfBuzz shaping, line breaking, per-line visual reordering) and
 * drawn from one glyph path, on screen (SDL) or into a receipt bitmap.
 */
#pragma once

#include <stdbool.h>
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
