/* Writing images as PNG (libpng): screenshots, simulated receipts and card faces. */
#pragma once

#include <stdint.h>

#include "err.h"

/* rgba: 4 bytes per pixel, R G B A in memory order. */
int core_png_write_rgba(const char *path, int width, int height, int stride, const uint8_t *rgba,
			struct kio_error *err);
/* ink: 1 bit per pixel, MSB = leftmost, 1 = ink (black): receipts and card faces. */
int core_png_write_ink(const char *path, int width, int height, int stride, const uint8_t *bits,
		       struct kio_error *err);
/* gray: 1 byte per pixel, 0 black .. 255 white. */
int core_png_write_gray(const char *path, int width, int height, int stride, const uint8_t *gray,
			struct kio_error *err);
