/* Images as PNG (libpng): writing screenshots, simulated receipts and card faces; reading the
 * catalogue's icons. */
#pragma once

#include <stdint.h>

#include "err.h"

/* rgba: 4 bytes per pixel, R G B A in memory order. */
int core_png_write_rgba(const char *path, int width, int height, int stride, const uint8_t *rgba,
			struct kio_error *err);
/* bgrx: 4 bytes per pixel, B G R and an unused byte in memory order (SDL's XRGB8888 and
 * ARGB8888 on a little-endian machine), written as an opaque RGB PNG: a screen's own pixels
 * with no conversion pass and a quarter less to compress. */
int core_png_write_bgrx(const char *path, int width, int height, int stride, const uint8_t *bgrx,
			struct kio_error *err);
/* ink: 1 bit per pixel, MSB = leftmost, 1 = ink (black): receipts and card faces. */
int core_png_write_ink(const char *path, int width, int height, int stride, const uint8_t *bits,
		       struct kio_error *err);
/* gray: 1 byte per pixel, 0 black .. 255 white. */
int core_png_write_gray(const char *path, int width, int height, int stride, const uint8_t *gray,
			struct kio_error *err);
/* Reads a PNG file as RGBA (4 bytes a pixel, R G B A in memory order, rows packed): *rgba
 * (caller frees), *width, *height. KIO_ERR_NOT_FOUND for no file, KIO_ERR_INVALID for a file
 * that is not a PNG or is larger than max_side on either side; err names the file. */
int core_png_read_rgba(const char *path, int max_side, uint8_t **rgba, int *width, int *height,
		       struct kio_error *err);
