/* Unit tests of the PNG reader (kiosk/core/image.h, core_png_read_rgba) the screens draw the
 * catalogue's icons with: a written image read back pixel for pixel, and each refusal named. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	return g_test_run();
}
