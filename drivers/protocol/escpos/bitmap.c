/* 1-bit raster bitmaps in GS v 0 order, and thresholding of rendered coverage into them. */
#include "drivers/protocol/escpos/escpos.h"

#include <stdlib.h>

#include "kiosk/core/xmalloc.h"

/* A receipt 576 dots wide and ~11 m long; anything larger is a caller bug, not a receipt. */
#define BITMAP_MAX_BYTES (64u << 20)

int escpos_bitmap_new(int width, int height, struct escpos_bitmap **out, struct kio_error *err)
{
	*out = NULL;
	if (width < 1 || height < 1)
		return kio_fail(err, KIO_ERR_INVALID, "escpos bitmap: %dx%d", width, height);
	size_t stride = ((size_t)width + 7) / 8;
	if (stride * (size_t)height > BITMAP_MAX_BYTES)
		return kio_fail(err, KIO_ERR_INVALID, "escpos bitmap: %dx%d exceeds %u bytes", width, height,
			BITMAP_MAX_BYTES);
	struct escpos_bitmap *bm = xmalloc(sizeof(*bm));
	bm->width = width;
	bm->height = height;
	bm->stride = (int)stride;
	bm->bits = xcalloc((size_t)height, stride);
	*out = bm;
	return 0;
}

void escpos_bitmap_free(struct escpos_bitmap *bm)
{
	if (!bm)
		return;
	free(bm->bits);
	free(bm);
}

bool escpos_bitmap_get(const struct escpos_bitmap *bm, int x, int y)
{
	if (x < 0 || y < 0 || x >= bm->width || y >= bm->height)
		return false;
	return bm->bits[(size_t)y * (size_t)bm->stride + (size_t)x / 8] & (0x80u >> (x % 8));
}

void escpos_bitmap_set(struct escpos_bitmap *bm, int x, int y, bool ink)
{
	if (x < 0 || y < 0 || x >= bm->width || y >= bm->height)
		return;
	uint8_t *p = &bm->bits[(size_t)y * (size_t)bm->stride + (size_t)x / 8];
	uint8_t m = (uint8_t)(0x80u >> (x % 8));
	*p = ink ? (uint8_t)(*p | m) : (uint8_t)(*p & ~m);
}

int escpos_bitmap_from_coverage(const uint8_t *cov, int width, int height, int cov_stride,
	uint8_t threshold, int printer_width, struct escpos_bitmap **out, struct kio_error *err)
{
	*out = NULL;
	if (printer_width == 0)
		printer_width = ESCPOS_WIDTH_80MM_203DPI;
	if (!cov || width < 1 || height < 1 || cov_stride < width)
		return kio_fail(err, KIO_ERR_INVALID, "escpos coverage: %dx%d stride %d", width, height,
			cov_stride);
	if (threshold == 0)
		return kio_fail(err, KIO_ERR_INVALID, "escpos coverage: threshold 0 would ink blank paper");
	if (printer_width < 8 || printer_width > ESCPOS_RASTER_MAX_ROW_BYTES * 8)
		return kio_fail(err, KIO_ERR_INVALID, "escpos coverage: printer width %d dots",
			printer_width);
	if (width > printer_width)
		return kio_fail(err, KIO_ERR_INVALID,
			"escpos coverage: image %d dots wider than the printer's %d", width, printer_width);

	struct escpos_bitmap *bm;
	int rc = escpos_bitmap_new(printer_width, height, &bm, err);
	if (rc)
		return rc;
	for (int y = 0; y < height; y++) {
		const uint8_t *src = cov + (size_t)y * (size_t)cov_stride;
		uint8_t *dst = bm->bits + (size_t)y * (size_t)bm->stride;
		for (int x = 0; x < width; x++)
			if (src[x] >= threshold)
				dst[x / 8] |= (uint8_t)(0x80u >> (x % 8));
	}
	*out = bm;
	return 0;
}
