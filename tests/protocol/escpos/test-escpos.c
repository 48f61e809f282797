/* ESC/POS encoder, status decoder and raster helpers, byte-exact against the Epson reference. */
#include "drivers/protocol/escpos/escpos.h"

#include <glib.h>
#include <string.h>

static void assert_bytes(const struct core_bytebuf *b, const uint8_t *want, size_t n)
{
	g_assert_cmpmem(b->data, b->len, want, n);
}

static void test_simple_commands(void)
{
	struct core_bytebuf b = {0};
	escpos_encode_init(&b);
	assert_bytes(&b, (const uint8_t[]){0x1B, 0x40}, 2);
	core_bytebuf_free(&b);

	escpos_encode_realtime_disable(&b);
	assert_bytes(&b, (const uint8_t[]){0x1D, 0x28, 0x44, 0x05, 0x00, 0x14, 0x01, 0x00, 0x02, 0x00},
		10);
	core_bytebuf_free(&b);

	escpos_encode_lf(&b);
	escpos_encode_feed_lines(&b, 3);
	escpos_encode_feed_dots(&b, 24);
	assert_bytes(&b, (const uint8_t[]){0x0A, 0x1B, 0x64, 0x03, 0x1B, 0x4A, 0x18}, 7);
	core_bytebuf_free(&b);
	g_assert_null(b.data);
	g_assert_cmpuint(b.len, ==, 0);
}

static void test_cut(void)
{
	struct core_bytebuf b = {0};
	escpos_encode_cut(&b, ESCPOS_CUT_FULL, 99);
	escpos_encode_cut(&b, ESCPOS_CUT_PARTIAL, 99);
	escpos_encode_cut(&b, ESCPOS_CUT_FULL_FEED, 0x10);
	escpos_encode_cut(&b, ESCPOS_CUT_PARTIAL_FEED, 0x00);
	assert_bytes(&b, (const uint8_t[]){0x1D, 0x56, 0x00, 0x1D, 0x56, 0x01, 0x1D, 0x56, 0x41, 0x10,
		0x1D, 0x56, 0x42, 0x00}, 14);
	core_bytebuf_free(&b);
}

static void test_status_request(void)
{
	struct core_bytebuf b = {0};
	struct kio_error err = {0};
	for (int n = 1; n <= 4; n++)
		g_assert_cmpint(escpos_encode_status_request(&b, n, &err), ==, 0);
	assert_bytes(&b, (const uint8_t[]){0x10, 0x04, 0x01, 0x10, 0x04, 0x02, 0x10, 0x04, 0x03, 0x10,
		0x04, 0x04}, 12);
	g_assert_cmpint(escpos_encode_status_request(&b, 0, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(err.code, ==, KIO_ERR_INVALID);
	g_assert_cmpint(escpos_encode_status_request(&b, 5, NULL), ==, KIO_ERR_INVALID);
	g_assert_cmpuint(b.len, ==, 12);
	core_bytebuf_free(&b);
}

static void test_process_id(void)
{
	struct core_bytebuf b = {0};
	struct kio_error err = {0};
	g_assert_cmpint(escpos_encode_process_id(&b, "R042", &err), ==, 0);
	assert_bytes(&b, (const uint8_t[]){0x1D, 0x28, 0x48, 0x06, 0x00, 0x30, 0x30, 'R', '0', '4',
		'2'}, 11);
	g_assert_cmpint(escpos_encode_process_id(&b, "R\x1f" "42", &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(escpos_encode_process_id(&b, "R4\x7f" "2", &err), ==, KIO_ERR_INVALID);
	g_assert_cmpuint(b.len, ==, 11);
	core_bytebuf_free(&b);
}

static void test_raster_exact(void)
{
	struct escpos_bitmap *bm;
	struct kio_error err = {0};
	g_assert_cmpint(escpos_bitmap_new(13, 3, &bm, &err), ==, 0);
	g_assert_cmpint(bm->stride, ==, 2);
	escpos_bitmap_set(bm, 0, 0, true);  /* MSB of byte 0 */
	escpos_bitmap_set(bm, 12, 0, true); /* bit 3 of byte 1 */
	escpos_bitmap_set(bm, 7, 1, true);
	escpos_bitmap_set(bm, 8, 2, true);
	escpos_bitmap_set(bm, 13, 2, true); /* outside: ignored */
	escpos_bitmap_set(bm, 8, 2, false);
	escpos_bitmap_set(bm, 9, 2, true);
	g_assert_true(escpos_bitmap_get(bm, 12, 0));
	g_assert_false(escpos_bitmap_get(bm, 13, 0));
	g_assert_false(escpos_bitmap_get(bm, -1, 0));

	struct core_bytebuf b = {0};
	g_assert_cmpint(escpos_encode_raster(&b, bm, 0, &err), ==, 0);
	assert_bytes(&b, (const uint8_t[]){0x1D, 0x76, 0x30, 0x00, 0x02, 0x00, 0x03, 0x00, 0x80, 0x08,
		0x01, 0x00, 0x00, 0x40}, 14);
	core_bytebuf_free(&b);

	/* Band of 2 rows: two blocks, 2 rows then 1. */
	g_assert_cmpint(escpos_encode_raster(&b, bm, 2, &err), ==, 0);
	assert_bytes(&b, (const uint8_t[]){0x1D, 0x76, 0x30, 0x00, 0x02, 0x00, 0x02, 0x00, 0x80, 0x08,
		0x01, 0x00, 0x1D, 0x76, 0x30, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x40}, 22);
	core_bytebuf_free(&b);
	escpos_bitmap_free(bm);
}

static void test_raster_bands(void)
{
	struct escpos_bitmap *bm;
	struct kio_error err = {0};
	g_assert_cmpint(escpos_bitmap_new(576, 600, &bm, &err), ==, 0);
	for (int y = 0; y < 600; y++)
		escpos_bitmap_set(bm, (y * 7) % 576, y, true);
	struct core_bytebuf b = {0};
	g_assert_cmpint(escpos_encode_raster(&b, bm, 0, &err), ==, 0);
	/* 600 rows = 255 + 255 + 90, each block 8 header bytes + rows * 72. */
	g_assert_cmpuint(b.len, ==, 3 * 8 + 600 * 72);
	const int heights[3] = {255, 255, 90};
	size_t off = 0;
	int y = 0;
	for (int i = 0; i < 3; i++) {
		const uint8_t head[8] = {0x1D, 0x76, 0x30, 0x00, 72, 0, (uint8_t)heights[i], 0};
		g_assert_cmpmem(b.data + off, 8, head, 8);
		g_assert_cmpmem(b.data + off + 8, (size_t)heights[i] * 72, bm->bits + (size_t)y * 72,
			(size_t)heights[i] * 72);
		off += 8 + (size_t)heights[i] * 72;
		y += heights[i];
	}
	core_bytebuf_free(&b);

	/* The maximum band puts yH to use: 600 rows in one block, yL 0x58 yH 0x02. */
	g_assert_cmpint(escpos_encode_raster(&b, bm, ESCPOS_BAND_ROWS_MAX, &err), ==, 0);
	g_assert_cmpmem(b.data, 8, ((const uint8_t[]){0x1D, 0x76, 0x30, 0, 72, 0, 0x58, 0x02}), 8);
	core_bytebuf_free(&b);

	g_assert_cmpint(escpos_encode_raster(&b, bm, -1, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(escpos_encode_raster(&b, bm, ESCPOS_BAND_ROWS_MAX + 1, &err), ==,
		KIO_ERR_INVALID);
	g_assert_cmpint(escpos_encode_raster(&b, NULL, 0, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpuint(b.len, ==, 0);
	escpos_bitmap_free(bm);

	g_assert_cmpint(escpos_bitmap_new(2056, 2, &bm, &err), ==, 0);
	g_assert_cmpint(escpos_encode_raster(&b, bm, 0, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpuint(b.len, ==, 0);
	escpos_bitmap_free(bm);

	g_assert_cmpint(escpos_bitmap_new(0, 2, &bm, &err), ==, KIO_ERR_INVALID);
	g_assert_null(bm);
	g_assert_cmpint(escpos_bitmap_new(576, 1 << 30, &bm, &err), ==, KIO_ERR_INVALID);
	g_assert_null(bm);
}

/* Every byte for every kind: exactly the 16 values matching 0xx1xx10 are accepted. */
static void test_status_fixed_bits(void)
{
	for (int kind = 1; kind <= 4; kind++) {
		int ok = 0;
		for (int v = 0; v < 256; v++) {
			struct escpos_status st;
			escpos_status_init(&st);
			struct kio_error err = {0};
			int rc = escpos_status_parse(&st, kind, (uint8_t)v, &err);
			bool fixed_ok = (v & 0x01) == 0 && (v & 0x02) && (v & 0x10) && (v & 0x80) == 0;
			if (fixed_ok) {
				g_assert_cmpint(rc, ==, 0);
				g_assert_cmpuint(st.seen, ==, 1u << kind);
				ok++;
			} else {
				g_assert_cmpint(rc, ==, KIO_ERR_PROTOCOL);
				g_assert_cmpint(err.code, ==, KIO_ERR_PROTOCOL);
				g_assert_cmpuint(st.seen, ==, 0);
			}
		}
		g_assert_cmpint(ok, ==, 16);
	}
	struct escpos_status st;
	escpos_status_init(&st);
	g_assert_cmpint(escpos_status_parse(&st, 0, 0x12, NULL), ==, KIO_ERR_INVALID);
	g_assert_cmpint(escpos_status_parse(&st, 5, 0x12, NULL), ==, KIO_ERR_INVALID);
}

static struct escpos_status parse4(uint8_t b1, uint8_t b2, uint8_t b3, uint8_t b4)
{
	struct escpos_status st;
	escpos_status_init(&st);
	g_assert_cmpint(escpos_status_parse(&st, 1, b1, NULL), ==, 0);
	g_assert_cmpint(escpos_status_parse(&st, 2, b2, NULL), ==, 0);
	g_assert_cmpint(escpos_status_parse(&st, 3, b3, NULL), ==, 0);
	g_assert_cmpint(escpos_status_parse(&st, 4, b4, NULL), ==, 0);
	return st;
}

static void test_status_values(void)
{
	/* All clear. */
	struct escpos_status st = parse4(0x12, 0x12, 0x12, 0x12);
	g_assert_true(escpos_status_ready(&st));
	g_assert_cmpint(escpos_status_paper(&st), ==, ESCPOS_PAPER_OK);

	/* Paper out (research §1.3: 1A, 32, 7E). */
	st = parse4(0x1A, 0x32, 0x12, 0x7E);
	g_assert_true(st.offline);
	g_assert_true(st.paper_end_stop);
	g_assert_true(st.paper_out);
	g_assert_true(st.paper_near_end);
	g_assert_false(st.cover_open);
	g_assert_false(escpos_status_ready(&st));
	g_assert_cmpint(escpos_status_paper(&st), ==, ESCPOS_PAPER_OUT);

	/* python-escpos reads 0x72 as "no paper": the end pair without near-end. */
	st = parse4(0x12, 0x12, 0x12, 0x72);
	g_assert_true(st.paper_out);
	g_assert_false(st.paper_near_end);

	/* Near end: still printing. */
	st = parse4(0x12, 0x12, 0x12, 0x1E);
	g_assert_true(st.paper_near_end);
	g_assert_false(st.paper_out);
	g_assert_true(escpos_status_ready(&st));
	g_assert_cmpint(escpos_status_paper(&st), ==, ESCPOS_PAPER_NEAR_END);

	/* One bit of a pair alone reads as the condition (safe side). */
	st = parse4(0x12, 0x12, 0x12, 0x16);
	g_assert_true(st.paper_near_end);
	st = parse4(0x12, 0x12, 0x12, 0x32);
	g_assert_true(st.paper_out);

	/* Cover open: offline, n=2 bit 2. */
	st = parse4(0x1A, 0x16, 0x12, 0x12);
	g_assert_true(st.cover_open);
	g_assert_true(st.offline);
	g_assert_false(escpos_status_ready(&st));

	/* n = 1: drawer, waiting for recovery, feed button. */
	st = parse4(0x76, 0x12, 0x12, 0x12);
	g_assert_true(st.drawer_pin3_high);
	g_assert_true(st.waiting_recovery);
	g_assert_true(st.feed_button);
	g_assert_false(st.offline);

	/* n = 2: feed by button, error occurred. */
	st = parse4(0x12, 0x5A, 0x12, 0x12);
	g_assert_true(st.feeding_by_button);
	g_assert_true(st.error);
	g_assert_false(escpos_status_ready(&st));

	/* n = 3: each error bit. */
	st = parse4(0x12, 0x12, 0x16, 0x12);
	g_assert_true(st.recoverable_error);
	g_assert_false(st.autocutter_error);
	st = parse4(0x12, 0x12, 0x1A, 0x12);
	g_assert_true(st.autocutter_error);
	g_assert_false(escpos_status_ready(&st));
	st = parse4(0x12, 0x12, 0x32, 0x12);
	g_assert_true(st.unrecoverable_error);
	st = parse4(0x12, 0x12, 0x52, 0x12);
	g_assert_true(st.auto_recoverable_error);
	g_assert_false(st.unrecoverable_error);

	/* Paper from n = 2 alone; unknown from nothing; not ready until all four are known. */
	struct escpos_status partial;
	escpos_status_init(&partial);
	g_assert_cmpint(escpos_status_paper(&partial), ==, ESCPOS_PAPER_UNKNOWN);
	g_assert_cmpint(escpos_status_parse(&partial, 2, 0x32, NULL), ==, 0);
	g_assert_cmpint(escpos_status_paper(&partial), ==, ESCPOS_PAPER_OUT);
	escpos_status_init(&partial);
	g_assert_cmpint(escpos_status_parse(&partial, 1, 0x12, NULL), ==, 0);
	g_assert_false(escpos_status_ready(&partial));

	/* A bad byte leaves earlier fields untouched. */
	st = parse4(0x12, 0x12, 0x12, 0x1E);
	g_assert_cmpint(escpos_status_parse(&st, 4, 0x7F, NULL), ==, KIO_ERR_PROTOCOL);
	g_assert_true(st.paper_near_end);
	g_assert_false(st.paper_out);
}

static void test_classify(void)
{
	g_assert_cmpint(escpos_reply_classify(0x12), ==, ESCPOS_REPLY_DLE_EOT);
	g_assert_cmpint(escpos_reply_classify(0x7E), ==, ESCPOS_REPLY_DLE_EOT);
	g_assert_cmpint(escpos_reply_classify(0x10), ==, ESCPOS_REPLY_ASB_FIRST);
	g_assert_cmpint(escpos_reply_classify(0x3C), ==, ESCPOS_REPLY_ASB_FIRST);
	g_assert_cmpint(escpos_reply_classify(0x11), ==, ESCPOS_REPLY_XON);
	g_assert_cmpint(escpos_reply_classify(0x13), ==, ESCPOS_REPLY_XOFF);
	g_assert_cmpint(escpos_reply_classify(0x37), ==, ESCPOS_REPLY_OTHER);
	g_assert_cmpint(escpos_reply_classify(0x22), ==, ESCPOS_REPLY_OTHER);
	g_assert_cmpint(escpos_reply_classify(0x00), ==, ESCPOS_REPLY_OTHER);
	g_assert_cmpint(escpos_reply_classify(0x92), ==, ESCPOS_REPLY_OTHER);
	int n = 0;
	for (int v = 0; v < 256; v++)
		n += escpos_reply_classify((uint8_t)v) == ESCPOS_REPLY_DLE_EOT;
	g_assert_cmpint(n, ==, 16);
}

static void test_coverage(void)
{
	const uint8_t cov[2 * 4] = {
		0, 127, 128, 255,
		255, 1, 200, 0,
	};
	struct escpos_bitmap *bm;
	struct kio_error err = {0};
	g_assert_cmpint(escpos_bitmap_from_coverage(cov, 3, 2, 4, 128, 0, &bm, &err), ==, 0);
	g_assert_cmpint(bm->width, ==, 576);
	g_assert_cmpint(bm->height, ==, 2);
	g_assert_cmpint(bm->stride, ==, 72);
	/* Row 0: x=2 (128) ink; x=3 is past the image width of 3. Row 1: x=0 and x=2. */
	g_assert_cmphex(bm->bits[0], ==, 0x20);
	g_assert_cmphex(bm->bits[72], ==, 0xA0);
	for (int i = 1; i < 72; i++) {
		g_assert_cmphex(bm->bits[i], ==, 0);
		g_assert_cmphex(bm->bits[72 + i], ==, 0);
	}
	escpos_bitmap_free(bm);

	g_assert_cmpint(escpos_bitmap_from_coverage(cov, 4, 2, 4, 1, 512, &bm, &err), ==, 0);
	g_assert_cmpint(bm->width, ==, 512);
	g_assert_cmpint(bm->stride, ==, 64);
	g_assert_cmphex(bm->bits[0], ==, 0x70);
	g_assert_cmphex(bm->bits[64], ==, 0xE0);
	escpos_bitmap_free(bm);

	g_assert_cmpint(escpos_bitmap_from_coverage(cov, 4, 2, 4, 0, 0, &bm, &err), ==,
		KIO_ERR_INVALID);
	g_assert_cmpint(escpos_bitmap_from_coverage(cov, 4, 2, 3, 128, 0, &bm, &err), ==,
		KIO_ERR_INVALID);
	uint8_t wide[600] = {0};
	g_assert_cmpint(escpos_bitmap_from_coverage(wide, 600, 1, 600, 128, 0, &bm, &err), ==,
		KIO_ERR_INVALID);
	g_assert_null(bm);
	g_assert_nonnull(strstr(err.msg, "wider"));
	g_assert_cmpint(escpos_bitmap_from_coverage(wide, 577, 1, 600, 128, 576, &bm, &err), ==,
		KIO_ERR_INVALID);
	g_assert_cmpint(escpos_bitmap_from_coverage(wide, 576, 1, 600, 128, 576, &bm, &err), ==, 0);
	escpos_bitmap_free(bm);
	escpos_bitmap_free(NULL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/escpos/encode/simple", test_simple_commands);
	g_test_add_func("/escpos/encode/cut", test_cut);
	g_test_add_func("/escpos/encode/status-request", test_status_request);
	g_test_add_func("/escpos/encode/process-id", test_process_id);
	g_test_add_func("/escpos/encode/raster-exact", test_raster_exact);
	g_test_add_func("/escpos/encode/raster-bands", test_raster_bands);
	g_test_add_func("/escpos/status/fixed-bits", test_status_fixed_bits);
	g_test_add_func("/escpos/status/values", test_status_values);
	g_test_add_func("/escpos/status/classify", test_classify);
	g_test_add_func("/escpos/bitmap/coverage", test_coverage);
	return g_test_run();
}
