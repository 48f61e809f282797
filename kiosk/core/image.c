/* PNG output through libpng, with its longjmp error path kept inside this file, and a
 * screen's own pixels through libdeflate; PNG input through libpng's simplified API (no
 * longjmp). */
#include "image.h"

#include <errno.h>
#include <libdeflate.h>
#include <stdbool.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

/*
 * A buffer of at least len bytes, zeroed, mapped rather than malloc'd: a screenshot's
 * scanlines are megabytes, and a fresh malloc of that size is a fresh mapping anyway. Aligned
 * to and advised as transparent huge pages, it faults a handful of times instead of once per
 * 4 KiB (issue 14, as kiosk/ui/display.c's page); pages never written are never faulted.
 * *map and *map_len are what big_free unmaps. NULL when the mapping fails.
 */
static uint8_t *big_alloc(size_t len, void **map, size_t *map_len)
{
	enum { HUGE_PAGE = 2 << 20 };
	size_t huge_len = (len + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	*map_len = huge_len + HUGE_PAGE;
	*map = mmap(NULL, *map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*map == MAP_FAILED) {
		*map = NULL;
		return NULL;
	}
	uint8_t *p = (uint8_t *)(((uintptr_t)*map + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
#ifdef MADV_HUGEPAGE
	(void)madvise(p, huge_len, MADV_HUGEPAGE); /* advice: where it is refused, 4 KiB pages */
#endif
	return p;
}

static void big_free(void *map, size_t map_len)
{
	if (map)
		(void)munmap(map, map_len);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* One chunk: its length, type, data and the CRC-32 of type and data (PNG spec, 5.3). */
static bool write_chunk(FILE *f, const char type[4], const uint8_t *data, size_t len)
{
	uint8_t head[8], tail[4];
	put32(head, (uint32_t)len);
	memcpy(head + 4, type, 4);
	uint32_t crc = libdeflate_crc32(0, head + 4, 4);
	if (len > 0) /* libdeflate_crc32 of a NULL buffer is the initial value, not crc */
		crc = libdeflate_crc32(crc, data, len);
	put32(tail, crc);
	return fwrite(head, 1, sizeof(head), f) == sizeof(head) && (len == 0 || fwrite(data, 1, len, f) == len) &&
	       fwrite(tail, 1, sizeof(tail), f) == sizeof(tail);
}

/*
 * A screen's pixels as an opaque 8-bit RGB PNG, every row filter NONE, the zlib stream made by
 * libdeflate at its level 1. Screenshots are what a one-shot `--script` run spends the most on
 * after start-up: libpng feeding zlib (level 3, the best zlib did here: level 1 was no faster,
 * the SUB and UP filters with Z_RLE or Z_HUFFMAN_ONLY slower or larger, libpng's own filter
 * choice three times slower) deflated a 1080x1920 attract screen in about 11 ms to 120 KB;
 * libdeflate, which compresses a whole buffer at once, in about 7 ms to 99 KB, conversion to
 * RGB included (issue 14). The price is the scanlines in memory, 6.2 MB, in huge pages.
 */
int core_png_write_bgrx(const char *path, int width, int height, int stride, const uint8_t *bgrx,
			struct kio_error *err)
{
	if (width <= 0 || height <= 0)
		return kio_fail(err, KIO_ERR_INVALID, "%s: empty image %dx%d", path, width, height);
	int rc = 0;
	size_t row = 1 + (size_t)width * 3, raw_len = row * (size_t)height;
	void *raw_map = NULL, *out_map = NULL;
	size_t raw_map_len = 0, out_map_len = 0;
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(1);
	size_t bound = c ? libdeflate_zlib_compress_bound(c, raw_len) : 0;
	uint8_t *raw = c ? big_alloc(raw_len, &raw_map, &raw_map_len) : NULL;
	uint8_t *out = raw ? big_alloc(bound, &out_map, &out_map_len) : NULL;
	if (!out) {
		rc = kio_fail(err, KIO_ERR_NOMEM, "%s: no memory to compress %dx%d pixels", path, width, height);
		goto out_free;
	}
	for (int y = 0; y < height; y++) {
		uint8_t *d = raw + (size_t)y * row;
		const uint8_t *p = bgrx + (size_t)y * (size_t)stride;
		*d++ = 0; /* filter type NONE */
		for (int x = 0; x < width; x++, d += 3, p += 4)
			d[0] = p[2], d[1] = p[1], d[2] = p[0];
	}
	size_t n = libdeflate_zlib_compress(c, raw, raw_len, out, bound);
	if (n == 0) {
		rc = kio_fail(err, KIO_ERR_IO, "%s: libdeflate could not compress %dx%d pixels", path, width, height);
		goto out_free;
	}
	FILE *f = fopen(path, "wb");
	if (!f) {
		rc = kio_fail(err, KIO_ERR_IO, "%s: %s", path, strerror(errno));
		goto out_free;
	}
	static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
	uint8_t ihdr[13];
	put32(ihdr, (uint32_t)width);
	put32(ihdr + 4, (uint32_t)height);
	ihdr[8] = 8;                        /* bits per channel */
	ihdr[9] = 2;                        /* colour type: RGB */
	ihdr[10] = ihdr[11] = ihdr[12] = 0; /* deflate, adaptive filtering, no interlace */
	bool ok = fwrite(signature, 1, sizeof(signature), f) == sizeof(signature) &&
		  write_chunk(f, "IHDR", ihdr, sizeof(ihdr)) && write_chunk(f, "IDAT", out, n) &&
		  write_chunk(f, "IEND", NULL, 0);
	if (!ok)
		rc = kio_fail(err, KIO_ERR_IO, "%s: %s", path, strerror(errno));
	if (fclose(f) != 0 && rc == 0)
		rc = kio_fail(err, KIO_ERR_IO, "%s: %s", path, strerror(errno));
out_free:
	big_free(out_map, out_map_len);
	big_free(raw_map, raw_map_len);
	libdeflate_free_compressor(c);
	return rc;
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
