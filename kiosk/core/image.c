/* PNG output through libpng, with its longjmp error path kept inside this file; PNG input
 * through libpng's simplified API (no longjmp). */
#include "image.h"

#include <errno.h>
#include <stdbool.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"

static int write_png(const char *path, int width, int height, int stride, const uint8_t *pixels,
		     int color_type, int bit_depth, bool bgrx, struct kio_error *err)
{
	if (width <= 0 || height <= 0)
		return kio_fail(err, KIO_ERR_INVALID, "%s: empty image %dx%d", path, width, height);
	FILE *f = fopen(path, "wb");
	if (!f)
		return kio_fail(err, KIO_ERR_IO, "%s: %s", path, strerror(errno));
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	volatile int rc = 0;
	if (!png || !info) {
		rc = kio_fail(err, KIO_ERR_NOMEM, "%s: libpng setup failed", path);
		goto out;
	}
	if (setjmp(png_jmpbuf(png))) {
		rc = kio_fail(err, KIO_ERR_IO, "%s: libpng write failed", path);
		goto out;
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, bit_depth, color_type, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	/* Screenshots are written often in tests: favour speed over the last few percent of size.
	 * No row filter: libpng's default tries all five on every row, half of a one-shot
	 * screenshot's CPU, and on flat UI colours and receipts NONE even compresses better
	 * (attract, 1080x1920: 160 -> 144 KB, 76 -> 46 ms CPU per run; issue 14). */
	png_set_compression_level(png, 3);
	png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
	png_write_info(png, info);
	if (bgrx) {
		png_set_bgr(png);
		png_set_filler(png, 0, PNG_FILLER_AFTER); /* on writing: the 4th byte is dropped */
	}
	if (bit_depth == 1)
		png_set_invert_mono(png); /* PNG grey 1 is white; ours is ink */
	for (int y = 0; y < height; y++)
		png_write_row(png, (png_const_bytep)(pixels + (size_t)y * (size_t)stride));
	png_write_end(png, NULL);
out:
	png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
	if (fclose(f) != 0 && rc == 0)
		rc = kio_fail(err, KIO_ERR_IO, "%s: %s", path, strerror(errno));
	return rc;
}

int core_png_write_rgba(const char *path, int width, int height, int stride, const uint8_t *rgba,
			struct kio_error *err)
{
	return write_png(path, width, height, stride, rgba, PNG_COLOR_TYPE_RGBA, 8, false, err);
}

int core_png_write_bgrx(const char *path, int width, int height, int stride, const uint8_t *bgrx,
			struct kio_error *err)
{
	return write_png(path, width, height, stride, bgrx, PNG_COLOR_TYPE_RGB, 8, true, err);
}

int core_png_write_gray(const char *path, int width, int height, int stride, const uint8_t *gray,
			struct kio_error *err)
{
	return write_png(path, width, height, stride, gray, PNG_COLOR_TYPE_GRAY, 8, false, err);
}

int core_png_write_ink(const char *path, int width, int height, int stride, const uint8_t *bits,
		       struct kio_error *err)
{
	return write_png(path, width, height, stride, bits, PNG_COLOR_TYPE_GRAY, 1, false, err);
}

int core_png_read_rgba(const char *path, int max_side, uint8_t **rgba, int *width, int *height,
		       struct kio_error *err)
{
	*rgba = NULL;
	*width = *height = 0;
	if (access(path, R_OK) != 0)
		return kio_fail(err, errno == ENOENT ? KIO_ERR_NOT_FOUND : KIO_ERR_IO, "%s: %s", path, strerror(errno));
	png_image img;
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&img, path))
		return kio_fail(err, KIO_ERR_INVALID, "%s: not a PNG (%s)", path, img.message);
	/* Checked before the pixels are allocated: a size in a file is no size to trust. */
	if (img.width < 1 || img.height < 1 || img.width > (png_uint_32)max_side || img.height > (png_uint_32)max_side) {
		png_image_free(&img);
		return kio_fail(err, KIO_ERR_INVALID, "%s: %ux%u px, more than %d a side", path, img.width, img.height,
				max_side);
	}
	img.format = PNG_FORMAT_RGBA;
	uint8_t *px = xmalloc(PNG_IMAGE_SIZE(img));
	if (!png_image_finish_read(&img, NULL, px, 0, NULL)) {
		free(px);
		png_image_free(&img);
		return kio_fail(err, KIO_ERR_INVALID, "%s: cannot be read (%s)", path, img.message);
	}
	*rgba = px;
	*width = (int)img.width, *height = (int)img.height;
	return 0;
}
