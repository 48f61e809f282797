/*
 * Fuzz target for the layout API: any bytes as text, any style. The first 6 bytes pick the
 * style (size, weight, direction, alignment, wrap width); the rest is the text, laid out
 * cached and uncached, queried (carets, hits, glyphs) and drawn into a gray bitmap.
 * Contract: no input crashes, hangs or trips a sanitizer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/text/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct text_engine *engine;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!engine) {
		struct kio_error err = {0};
		if (text_engine_new(NULL, &engine, &err) != 0) {
			fprintf(stderr, "fuzz_text_layout: %s\n", err.msg);
			abort();
		}
	}
	if (size < 6)
		return 0;
	struct text_style st = {
		/* 255 asks for more than the engine allows: the clamp is part of the contract. */
		.size_px = data[0] == 255 ? 1000 : (int)(data[0] % 72) - 2,
		.bold = data[1] & 1,
		.dir = (enum text_dir)((data[1] >> 1) % 4), /* 3: out of range on purpose */
		.align = (enum text_align)((data[1] >> 3) % 4),
		.max_width = (int)(int16_t)(data[2] | data[3] << 8) % 2048,
	};
	uint16_t probe = (uint16_t)(data[4] | data[5] << 8);
	const char *text = (const char *)data + 6;
	size_t len = size - 6;
	if (len > 4096)
		len = 4096;

	struct text_layout *l = text_layout_new(engine, text, len, &st);
	if (!l)
		return 0;
	int lines = text_layout_line_count(l);
	for (int k = 0; k < lines; k++) {
		struct text_glyph_info g;
		for (int i = 0; text_layout_glyph(l, k, i, &g); i++)
			if (g.cluster > len)
				abort(); /* clusters index the text */
	}
	struct text_caret c;
	for (size_t i = 0; i <= len; i += 1 + len / 16)
		if (text_layout_caret(l, i, probe & 1, &c) != 0 || c.line < 0 || c.line >= lines)
			abort();
	size_t hit = text_layout_hit(l, (int)(probe % 600) - 50, (int)(probe / 600));
	if (hit > len)
		abort();
	if (text_layout_next_index(l, hit) > len || text_layout_prev_index(l, hit) > len)
		abort();
	static uint8_t gray[128 * 64];
	if (text_draw_gray(engine, l, gray, 128, 128, 64, (int)(probe % 64) - 32, 0) != 0)
		abort();
	text_layout_free(l);

	/* The cached path: NUL-terminated copy, as screens call it. */
	char *z = malloc(len + 1);
	if (!z)
		abort();
	memcpy(z, text, len);
	z[len] = '\0';
	if (!text_layout(engine, z, &st))
		abort();
	free(z);
	return 0;
}
