/* ESC/POS command encoders: a receipt job as bytes (init, raster bands, feeds, cut, status). */
#include "drivers/protocol/escpos/escpos.h"

#define LOG_MODULE "escpos"
#include "kiosk/core/log.h"

enum {
	DLE = 0x10,
	EOT = 0x04,
	ESC = 0x1B,
	GS = 0x1D,
	LF = 0x0A,
};

void escpos_encode_init(struct core_bytebuf *b)
{
	core_bytebuf_append(b, (const uint8_t[]){ESC, '@'}, 2);
}

void escpos_encode_realtime_disable(struct core_bytebuf *b)
{
	/* m = 20 (0x14) with two (a, b) pairs: a = 1 pulse, a = 2 power-off; b = 0 disables. */
	core_bytebuf_append(b, (const uint8_t[]){GS, '(', 'D', 0x05, 0x00, 0x14, 0x01, 0x00, 0x02, 0x00},
		10);
}

int escpos_encode_raster(struct core_bytebuf *b, const struct escpos_bitmap *bm, int band_rows,
	struct kio_error *err)
{
	if (band_rows == 0)
		band_rows = ESCPOS_BAND_ROWS_DEFAULT;
	if (band_rows < 1 || band_rows > ESCPOS_BAND_ROWS_MAX)
		return kio_fail(err, KIO_ERR_INVALID, "escpos raster: band of %d rows (1..%d)", band_rows,
			ESCPOS_BAND_ROWS_MAX);
	if (!bm || bm->width < 1 || bm->height < 1)
		return kio_fail(err, KIO_ERR_INVALID, "escpos raster: empty bitmap");
	if (bm->stride > ESCPOS_RASTER_MAX_ROW_BYTES)
		return kio_fail(err, KIO_ERR_INVALID, "escpos raster: %d bytes per row (max %d)",
			bm->stride, ESCPOS_RASTER_MAX_ROW_BYTES);

	int bands = 0;
	for (int y = 0; y < bm->height; y += band_rows) {
		int rows = bm->height - y < band_rows ? bm->height - y : band_rows;
		/* GS v 0 m xL xH yL yH: x in bytes per row, y in dot rows, little-endian. */
		const uint8_t head[8] = {GS, 'v', '0', 0x00, (uint8_t)(bm->stride & 0xFF),
			(uint8_t)(bm->stride >> 8), (uint8_t)(rows & 0xFF), (uint8_t)(rows >> 8)};
		core_bytebuf_append(b, head, sizeof(head));
		core_bytebuf_append(b, bm->bits + (size_t)y * (size_t)bm->stride,
			(size_t)rows * (size_t)bm->stride);
		bands++;
	}
	LOG_DBG("raster %dx%d in %d band(s) of <= %d rows", bm->width, bm->height, bands, band_rows);
	return 0;
}

void escpos_encode_lf(struct core_bytebuf *b)
{
	core_bytebuf_append(b, (const uint8_t[]){LF}, 1);
}

void escpos_encode_feed_lines(struct core_bytebuf *b, uint8_t lines)
{
	core_bytebuf_append(b, (const uint8_t[]){ESC, 'd', lines}, 3);
}

void escpos_encode_feed_dots(struct core_bytebuf *b, uint8_t dots)
{
	core_bytebuf_append(b, (const uint8_t[]){ESC, 'J', dots}, 3);
}

void escpos_encode_cut(struct core_bytebuf *b, enum escpos_cut kind, uint8_t feed)
{
	switch (kind) {
	case ESCPOS_CUT_FULL:
		core_bytebuf_append(b, (const uint8_t[]){GS, 'V', 0x00}, 3);
		break;
	case ESCPOS_CUT_PARTIAL:
		core_bytebuf_append(b, (const uint8_t[]){GS, 'V', 0x01}, 3);
		break;
	case ESCPOS_CUT_FULL_FEED:
		core_bytebuf_append(b, (const uint8_t[]){GS, 'V', 65, feed}, 4);
		break;
	case ESCPOS_CUT_PARTIAL_FEED:
		core_bytebuf_append(b, (const uint8_t[]){GS, 'V', 66, feed}, 4);
		break;
	}
}

int escpos_encode_status_request(struct core_bytebuf *b, int kind, struct kio_error *err)
{
	if (kind < ESCPOS_STATUS_PRINTER || kind > ESCPOS_STATUS_PAPER)
		return kio_fail(err, KIO_ERR_INVALID, "escpos: DLE EOT %d (1..4)", kind);
	core_bytebuf_append(b, (const uint8_t[]){DLE, EOT, (uint8_t)kind}, 3);
	return 0;
}

int escpos_encode_process_id(struct core_bytebuf *b, const char id[4], struct kio_error *err)
{
	for (int i = 0; i < 4; i++)
		if ((uint8_t)id[i] < 0x20 || (uint8_t)id[i] > 0x7E)
			return kio_fail(err, KIO_ERR_INVALID, "escpos: process id byte %d is 0x%02x (0x20..0x7e)",
				i, (uint8_t)id[i]);
	/* pL pH = 6: fn 48 (0x30) with m = 48, then the four id bytes. */
	const uint8_t cmd[11] = {GS, '(', 'H', 0x06, 0x00, 0x30, 0x30, (uint8_t)id[0], (uint8_t)id[1],
		(uint8_t)id[2], (uint8_t)id[3]};
	core_bytebuf_append(b, cmd, sizeof(cmd));
	return 0;
}
