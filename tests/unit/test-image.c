/* Unit tests of the PNG reader (kiosk/core/image.h, core_png_read_rgba) the screens draw the
 * catalogue's icons with: a written image read back pixel for pixel, and each refusal named;
 * and of the screenshot writer (core_png_write_bgrx, libdeflate): its chunks and pixels. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "kiosk/core/image.h"

static char *tmp_path(const char *name)
{
	char *dir = g_dir_make_tmp("kiosk-image-XXXXXX", NULL);
	g_assert_nonnull(dir);
	char *p = g_build_filename(dir, name, NULL);
	g_free(dir);
	return p;
}

static void remove_with_dir(char *path)
{
	char *dir = g_path_get_dirname(path);
	g_remove(path);
	g_rmdir(dir);
	g_free(dir);
	g_free(path);
}

static void test_round_trip(void)
{
	enum { W = 5, H = 3 };
	uint8_t px[W * H * 4];
	for (size_t i = 0; i < sizeof(px); i++)
		px[i] = (uint8_t)(i * 37 + 11);
	char *path = tmp_path("icon.png");
	struct kio_error err = {0};
	g_assert_cmpint(core_png_write_rgba(path, W, H, W * 4, px, &err), ==, 0);
	uint8_t *back = NULL;
	int w = 0, h = 0;
	g_assert_cmpint(core_png_read_rgba(path, 64, &back, &w, &h, &err), ==, 0);
	g_assert_cmpint(w, ==, W);
	g_assert_cmpint(h, ==, H);
	g_assert_cmpmem(back, sizeof(px), px, sizeof(px));
	free(back);
	/* Larger than the caller allows: refused before any pixel is read. */
	g_assert_cmpint(core_png_read_rgba(path, 4, &back, &w, &h, &err), ==, KIO_ERR_INVALID);
	g_assert_null(back);
	g_assert_cmpint(w, ==, 0);
	g_assert_nonnull(strstr(err.msg, "5x3 px, more than 4 a side"));
	remove_with_dir(path);
}

/*
 * A screen's pixels (B G R X, rows padded) written by core_png_write_bgrx, which builds the PNG
 * itself around libdeflate's stream: every chunk's CRC holds (zlib's crc32, not the writer's),
 * the chunks are IHDR, IDAT, IEND, and libpng reads back each pixel opaque. Sizes odd and
 * even, and one big enough for several deflate blocks.
 */
static void test_bgrx_round_trip(void)
{
	static const int sizes[][2] = {{1, 1}, {5, 3}, {640, 480}};
	for (size_t k = 0; k < G_N_ELEMENTS(sizes); k++) {
		int w = sizes[k][0], h = sizes[k][1], stride = w * 4 + 12;
		uint8_t *px = g_malloc((size_t)stride * (size_t)h);
		for (int y = 0; y < h; y++)
			for (int i = 0; i < stride; i++)
				px[(size_t)y * (size_t)stride + (size_t)i] =
					(uint8_t)(i < w * 4 && (y / 7) % 3 == 0 ? 0xC0 : (uint32_t)(i * 37 + y * 11) >> 2);
		char *path = tmp_path("screen.png");
		struct kio_error err = {0};
		g_assert_cmpint(core_png_write_bgrx(path, w, h, stride, px, &err), ==, 0);

		gchar *file = NULL;
		gsize len = 0;
		g_assert_true(g_file_get_contents(path, &file, &len, NULL));
		static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
		g_assert_cmpuint(len, >, 8);
		g_assert_cmpmem(file, 8, signature, 8);
		const char *want[] = {"IHDR", "IDAT", "IEND"};
		size_t at = 8, n_chunks = 0;
		while (at + 12 <= len) {
			const uint8_t *c = (const uint8_t *)file + at;
			uint32_t n = (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3];
			g_assert_cmpuint(at + 12 + n, <=, len);
			const uint8_t *t = c + 8 + n;
			uint32_t stored = (uint32_t)t[0] << 24 | (uint32_t)t[1] << 16 | (uint32_t)t[2] << 8 | t[3];
			g_assert_cmpuint(n_chunks, <, G_N_ELEMENTS(want));
			g_assert_cmpmem(c + 4, 4, want[n_chunks], 4);
			g_assert_cmphex(stored, ==, crc32(0, c + 4, 4 + n));
			n_chunks++;
			at += 12 + n;
		}
		g_assert_cmpuint(at, ==, len);
		g_assert_cmpuint(n_chunks, ==, 3);
		g_free(file);

		uint8_t *back = NULL;
		int bw = 0, bh = 0;
		g_assert_cmpint(core_png_read_rgba(path, 4096, &back, &bw, &bh, &err), ==, 0);
		g_assert_cmpint(bw, ==, w);
		g_assert_cmpint(bh, ==, h);
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++) {
				const uint8_t *s = px + (size_t)y * (size_t)stride + (size_t)x * 4;
				const uint8_t *d = back + ((size_t)y * (size_t)w + (size_t)x) * 4;
				uint8_t expect[4] = {s[2], s[1], s[0], 0xFF};
				g_assert_cmpmem(d, 4, expect, 4);
			}
		free(back);
		g_free(px);
		remove_with_dir(path);
	}
}

static void test_refusals(void)
{
	struct kio_error err = {0};
	uint8_t *px = (uint8_t *)1;
	int w = 7, h = 7;
	char *path = tmp_path("none.png");
	g_assert_cmpint(core_png_read_rgba(path, 64, &px, &w, &h, &err), ==, KIO_ERR_NOT_FOUND);
	g_assert_null(px);
	g_assert_nonnull(strstr(err.msg, "none.png"));
	/* Not a PNG at all, and a PNG cut after its header. */
	g_assert_true(g_file_set_contents(path, "GIF89a not a png", -1, NULL));
	g_assert_cmpint(core_png_read_rgba(path, 64, &px, &w, &h, &err), ==, KIO_ERR_INVALID);
	g_assert_nonnull(strstr(err.msg, "not a PNG"));
	uint8_t img[16 * 16 * 4] = {0};
	g_assert_cmpint(core_png_write_rgba(path, 16, 16, 64, img, &err), ==, 0);
	gchar *bytes = NULL;
	gsize len = 0;
	g_assert_true(g_file_get_contents(path, &bytes, &len, NULL));
	g_assert_true(g_file_set_contents(path, bytes, 40, NULL)); /* the signature and IHDR only */
	g_free(bytes);
	g_assert_cmpint(core_png_read_rgba(path, 64, &px, &w, &h, &err), ==, KIO_ERR_INVALID);
	g_assert_null(px);
	remove_with_dir(path);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/image/round-trip", test_round_trip);
	g_test_add_func("/image/refusals", test_refusals);
	g_test_add_func("/image/bgrx-round-trip", test_bgrx_round_trip);
	return g_test_run();
}
