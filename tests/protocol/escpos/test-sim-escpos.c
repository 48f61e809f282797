/* The simulated receipt printer: stream parsing at every split, faults, round trip, PNG. */
#include "drivers/sim/escpos/sim-escpos.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/protocol/escpos/escpos.h"

static struct sim_escpos *new_sim(const struct sim_escpos_config *cfg)
{
	struct sim_escpos *s = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(sim_escpos_new(cfg, &s, &err), ==, 0);
	g_assert_nonnull(s);
	return s;
}

static void write_all(struct sim_escpos *s, const uint8_t *buf, size_t len, int want_rc)
{
	size_t acc = 0;
	struct kio_error err = {0};
	int rc = sim_escpos_write(s, buf, len, &acc, &err);
	if (rc != want_rc)
		g_error("write rc %d (%s), want %d", rc, err.msg, want_rc);
	g_assert_cmpuint(acc, ==, len);
}

static void write_buf(struct sim_escpos *s, const struct core_bytebuf *b)
{
	write_all(s, b->data, b->len, 0);
}

/* A recognisable picture: frame, diagonal, and an "E" of solid blocks, 576 x h. */
static struct escpos_bitmap *pattern(int w, int h)
{
	struct escpos_bitmap *bm;
	g_assert_cmpint(escpos_bitmap_new(w, h, &bm, NULL), ==, 0);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			bool frame = x < 4 || y < 4 || x >= w - 4 || y >= h - 4;
			bool diag = abs(x * h / w - y) < 2;
			bool e = x >= 40 && x < 120 && y >= 40 && y < 200 &&
				(x < 60 || (y < 60) || (y >= 110 && y < 130) || y >= 180);
			bool checker = x >= 200 && x < 264 && y >= 40 && y < 104 && ((x / 8 + y / 8) % 2);
			escpos_bitmap_set(bm, x, y, frame || diag || e || checker);
		}
	return bm;
}

static void assert_page_equals_bitmap(const struct sim_escpos_page *p, const struct escpos_bitmap *bm,
	int y0)
{
	g_assert_cmpint(p->width, ==, 576);
	for (int y = 0; y < bm->height; y++)
		for (int x = 0; x < p->width; x++)
			if (sim_escpos_page_get(p, x, y0 + y) != escpos_bitmap_get(bm, x, y))
				g_error("pixel %d,%d differs", x, y);
}

static void test_round_trip(void)
{
	struct escpos_bitmap *bm = pattern(576, 600);
	struct core_bytebuf b = {0};
	escpos_encode_init(&b);
	escpos_encode_realtime_disable(&b);
	g_assert_cmpint(escpos_encode_raster(&b, bm, 0, NULL), ==, 0);
	escpos_encode_cut(&b, ESCPOS_CUT_PARTIAL_FEED, 0);

	struct sim_escpos *s = new_sim(NULL);
	write_buf(s, &b);
	g_assert_cmpuint(sim_escpos_receipt_count(s), ==, 1);
	const struct sim_escpos_page *r = sim_escpos_receipt(s, 0);
	g_assert_cmpint(r->height, ==, 600);
	g_assert_true(r->partial_cut);
	assert_page_equals_bitmap(r, bm, 0);
	g_assert_cmpint(sim_escpos_current(s)->height, ==, 0);
	struct sim_escpos_stats st;
	sim_escpos_stats(s, &st);
	g_assert_cmpuint(st.bands, ==, 3);
	g_assert_cmpuint(st.cuts, ==, 1);
	g_assert_cmpuint(st.protocol_errors, ==, 0);
	g_assert_cmpuint(st.bytes_in, ==, b.len);
	g_assert_null(sim_escpos_receipt(s, 1));
	sim_escpos_free(s);
	core_bytebuf_free(&b);
	escpos_bitmap_free(bm);
}

/* A compact job touching every parser state, then compared over every split point. */
static void build_job(struct core_bytebuf *b, struct escpos_bitmap **out_bm)
{
	struct escpos_bitmap *bm;
	g_assert_cmpint(escpos_bitmap_new(24, 5, &bm, NULL), ==, 0);
	for (int i = 0; i < 24; i++)
		escpos_bitmap_set(bm, i, i % 5, true);
	escpos_encode_init(b);
	escpos_encode_realtime_disable(b);
	g_assert_cmpint(escpos_encode_status_request(b, 4, NULL), ==, 0);
	g_assert_cmpint(escpos_encode_raster(b, bm, 2, NULL), ==, 0);
	escpos_encode_lf(b);
	escpos_encode_feed_dots(b, 3);
	g_assert_cmpint(escpos_encode_process_id(b, "T001", NULL), ==, 0);
	escpos_encode_cut(b, ESCPOS_CUT_FULL_FEED, 2);
	g_assert_cmpint(escpos_encode_status_request(b, 1, NULL), ==, 0);
	*out_bm = bm;
}

static void check_job_result(struct sim_escpos *s, const struct escpos_bitmap *bm)
{
	g_assert_cmpuint(sim_escpos_receipt_count(s), ==, 1);
	const struct sim_escpos_page *r = sim_escpos_receipt(s, 0);
	/* 5 raster rows + LF (34 rows = 1/6 in at 203 dpi) + 3 dots + 2 feed before the cut. */
	g_assert_cmpint(r->height, ==, 5 + 34 + 3 + 2);
	g_assert_false(r->partial_cut);
	for (int y = 0; y < r->height; y++)
		for (int x = 0; x < 576; x++)
			g_assert_cmpint(sim_escpos_page_get(r, x, y), ==, escpos_bitmap_get(bm, x, y));
	uint8_t rx[32];
	size_t n = sim_escpos_read(s, rx, sizeof(rx));
	const uint8_t want[] = {0x12, 0x37, 0x22, 'T', '0', '0', '1', 0x00, 0x12};
	g_assert_cmpmem(rx, n, want, sizeof(want));
}

static void test_every_split(void)
{
	struct core_bytebuf b = {0};
	struct escpos_bitmap *bm;
	build_job(&b, &bm);
	for (size_t cut = 0; cut <= b.len; cut++) {
		struct sim_escpos *s = new_sim(NULL);
		write_all(s, b.data, cut, 0);
		write_all(s, b.data + cut, b.len - cut, 0);
		check_job_result(s, bm);
		sim_escpos_free(s);
	}
	/* Byte by byte, and in three pieces at every pair of points of a shorter prefix. */
	struct sim_escpos *s = new_sim(NULL);
	for (size_t i = 0; i < b.len; i++)
		write_all(s, b.data + i, 1, 0);
	check_job_result(s, bm);
	sim_escpos_free(s);
	for (size_t a = 0; a < b.len; a += 3)
		for (size_t c = a; c <= b.len; c += 5) {
			s = new_sim(NULL);
			write_all(s, b.data, a, 0);
			write_all(s, b.data + a, c - a, 0);
			write_all(s, b.data + c, b.len - c, 0);
			check_job_result(s, bm);
			sim_escpos_free(s);
		}
	core_bytebuf_free(&b);
	escpos_bitmap_free(bm);
}

static void status_all(struct sim_escpos *s, uint8_t out[4], size_t *n)
{
	struct core_bytebuf b = {0};
	for (int k = 1; k <= 4; k++)
		g_assert_cmpint(escpos_encode_status_request(&b, k, NULL), ==, 0);
	write_buf(s, &b);
	*n = sim_escpos_read(s, out, 4);
	core_bytebuf_free(&b);
}

static void test_status_faults(void)
{
	struct sim_escpos *s = new_sim(NULL);
	uint8_t r[4];
	size_t n;
	struct escpos_status st;

	status_all(s, r, &n);
	g_assert_cmpmem(r, n, ((const uint8_t[]){0x12, 0x12, 0x12, 0x12}), 4);

	sim_escpos_fault_set(s, SIM_ESCPOS_FAULT_PAPER_NEAR_END, true);
	status_all(s, r, &n);
	g_assert_cmpmem(r, n, ((const uint8_t[]){0x12, 0x12, 0x12, 0x1E}), 4);
	escpos_status_init(&st);
	for (int k = 0; k < 4; k++)
		g_assert_cmpint(escpos_status_parse(&st, k + 1, r[k], NULL), ==, 0);
	g_assert_cmpint(escpos_status_paper(&st), ==, ESCPOS_PAPER_NEAR_END);
	g_assert_true(escpos_status_ready(&st));
	sim_escpos_fault_set(s, SIM_ESCPOS_FAULT_PAPER_NEAR_END, false);

	sim_escpos_fault_set(s, SIM_ESCPOS_FAULT_PAPER_OUT, true);
	status_all(s, r, &n);
	g_assert_cmpmem(r, n, ((const uint8_t[]){0x1A, 0x32, 0x12, 0x7E}), 4);
	escpos_status_init(&st);
	for (int k = 0; k < 4; k++)
		g_assert_cmpint(escpos_status_parse(&st, k + 1, r[k], NULL), ==, 0);
	g_assert_cmpint(escpos_status_paper(&st), ==, ESCPOS_PAPER_OUT);
	g_assert_false(escpos_status_ready(&st));
	sim_escpos_fault_set(s, SIM_ESCPOS_FAULT_PAPER_OUT, false);

	sim_escpos_fault_set(s, SIM_ESCPOS_FAULT_COVER_OPEN, true);
	g_assert_true(sim_escpos_fault_get(s, SIM_ESCPOS_FAULT_COVER_OPEN));
	status_all(s, r, &n);
	g_assert_cmpmem(r, n, ((const uint8_t[]){0x1A, 0x16, 0x12, 0x12}), 4);
	escpos_status_init(&st);
	for (int k = 0; k < 4; k++)
		g_assert_cmpint(escpos_status_parse(&st, k + 1, r[k], NULL), ==, 0);
	g_assert_true(st.cover_open);
	g_assert_true(st.offline);
	sim_escpos_fault_set(s, SIM_ESCPOS_FAULT_COVER_OPEN, false);

	sim_escpos_fault_set(s, SIM_ESCPOS_FAULT_DISCONNECT, true);
	g_assert_false(sim_escpos_connected(s));
	status_all(s, r, &n);
	g_assert_cmpuint(n, ==, 0);
	sim_escpos_fault_set(s, SIM_ESCPOS_FAULT_DISCONNECT, false);
	g_assert_true(sim_escpos_connected(s));
	status_all(s, r, &n);
	g_assert_cmpuint(n, ==, 4);
	sim_escpos_free(s);
}

static void test_fault_names(void)
{
	const char *names[] = {"paper-near-end", "paper-out", "cover-open", "disconnect", "paper-runs-out"};
	G_STATIC_ASSERT(G_N_ELEMENTS(names) == SIM_ESCPOS_FAULT_COUNT);
	for (int i = 0; i < (int)G_N_ELEMENTS(names); i++) {
		enum sim_escpos_fault f;
		g_assert_cmpint(sim_escpos_fault_parse(names[i], &f), ==, 0);
		g_assert_cmpint(f, ==, i);
		g_assert_cmpstr(sim_escpos_fault_name(f), ==, names[i]);
	}
	enum sim_escpos_fault f;
	g_assert_cmpint(sim_escpos_fault_parse("jam", &f), ==, KIO_ERR_NOT_FOUND);
}

/* Paper out in the middle of a receipt: the rest is held, status still answers, and the
 * printer resumes after reload, giving the split receipt of research §5. */
static void test_paper_out_holds_and_resumes(void)
{
	struct escpos_bitmap *bm = pattern(576, 100);
	struct core_bytebuf first = {0}, rest = {0};
	struct escpos_bitmap *top, *bottom;
	g_assert_cmpint(escpos_bitmap_new(576, 40, &top, NULL), ==, 0);
	g_assert_cmpint(escpos_bitmap_new(576, 60, &bottom, NULL), ==, 0);
	memcpy(top->bits, bm->bits, 40 * 72);
	memcpy(bottom->bits, bm->bits + 40 * 72, 60 * 72);
	escpos_encode_init(&first);
	g_assert_cmpint(escpos_encode_raster(&first, top, 0, NULL), ==, 0);
	g_assert_cmpint(escpos_encode_raster(&rest, bottom, 0, NULL), ==, 0);
	g_assert_cmpint(escpos_encode_process_id(&rest, "P001", NULL), ==, 0);
	escpos_encode_cut(&rest, ESCPOS_CUT_PARTIAL_FEED, 0);

	struct sim_escpos_config cfg;
	sim_escpos_config_default(&cfg);
	cfg.rx_capacity = 8192; /* holds the whole tail; backpressure has its own test */
	struct sim_escpos *s = new_sim(&cfg);
	write_buf(s, &first);
	g_assert_cmpint(sim_escpos_current(s)->height, ==, 40);
	sim_escpos_fault_set(s, SIM_ESCPOS_FAULT_PAPER_OUT, true);
	write_buf(s, &rest);
	struct sim_escpos_stats st;
	sim_escpos_stats(s, &st);
	g_assert_cmpuint(st.held, ==, rest.len);
	g_assert_cmpint(sim_escpos_current(s)->height, ==, 40);
	g_assert_cmpuint(sim_escpos_receipt_count(s), ==, 0);
	g_assert_cmpuint(sim_escpos_readable(s), ==, 0); /* process id not answered yet */
	uint8_t b4[] = {0x10, 0x04, 0x04}, r;
	write_all(s, b4, 3, 0);
	g_assert_cmpuint(sim_escpos_read(s, &r, 1), ==, 1);
	g_assert_cmphex(r, ==, 0x7E);

	sim_escpos_fault_set(s, SIM_ESCPOS_FAULT_PAPER_OUT, false);
	sim_escpos_stats(s, &st);
	g_assert_cmpuint(st.held, ==, 0);
	g_assert_cmpuint(sim_escpos_receipt_count(s), ==, 1);
	const struct sim_escpos_page *rc = sim_escpos_receipt(s, 0);
	g_assert_cmpint(rc->height, ==, 100);
	assert_page_equals_bitmap(rc, bm, 0);
	uint8_t pid[8];
	g_assert_cmpuint(sim_escpos_read(s, pid, sizeof(pid)), ==, 7);
	g_assert_cmpmem(pid, 7, ((const uint8_t[]){0x37, 0x22, 'P', '0', '0', '1', 0}), 7);

	sim_escpos_free(s);
	core_bytebuf_free(&first);
	core_bytebuf_free(&rest);
	escpos_bitmap_free(bm);
	escpos_bitmap_free(top);
	escpos_bitmap_free(bottom);
}

/* `fault receipt paper-runs-out`: armed, the printer reads ready; the roll ends
 * SIM_ESCPOS_RUNS_OUT_ROWS rows into the next raster, which is paper out in the middle of
 * that job, the rest held. */
static void test_paper_runs_out(void)
{
	struct sim_escpos_config cfg;
	sim_escpos_config_default(&cfg);
	cfg.rx_capacity = 1 << 20;
	struct sim_escpos *s = new_sim(&cfg);
	sim_escpos_fault_set(s, SIM_ESCPOS_FAULT_PAPER_RUNS_OUT, true);
	uint8_t r[4];
	size_t n;
	status_all(s, r, &n);
	g_assert_cmpmem(r, n, ((const uint8_t[]){0x12, 0x12, 0x12, 0x12}), 4); /* ready, paper present */
	struct escpos_bitmap *bm = pattern(576, SIM_ESCPOS_RUNS_OUT_ROWS + 100);
	struct core_bytebuf job = {0};
	escpos_encode_init(&job);
	g_assert_cmpint(escpos_encode_raster(&job, bm, 0, NULL), ==, 0);
	escpos_encode_cut(&job, ESCPOS_CUT_PARTIAL_FEED, 0);
	write_buf(s, &job);
	g_assert_true(sim_escpos_fault_get(s, SIM_ESCPOS_FAULT_PAPER_OUT));
	g_assert_false(sim_escpos_fault_get(s, SIM_ESCPOS_FAULT_PAPER_RUNS_OUT));
	g_assert_cmpint(sim_escpos_current(s)->height, ==, SIM_ESCPOS_RUNS_OUT_ROWS);
	struct sim_escpos_stats st;
	sim_escpos_stats(s, &st);
	g_assert_cmpuint(st.held, >, 0);
	g_assert_cmpuint(sim_escpos_receipt_count(s), ==, 0);
	uint8_t b4[] = {0x10, 0x04, 0x04}, p;
	write_all(s, b4, 3, 0);
	g_assert_cmpuint(sim_escpos_read(s, &p, 1), ==, 1);
	g_assert_cmphex(p, ==, 0x7E); /* paper out */
	sim_escpos_free(s);
	core_bytebuf_free(&job);
	escpos_bitmap_free(bm);
}

static void test_offline_backpressure(void)
{
	struct sim_escpos_config cfg;
	sim_escpos_config_default(&cfg);
	cfg.rx_capacity = 64;
	struct sim_escpos *s = new_sim(&cfg);
	sim_escpos_fault_set(s, SIM_ESCPOS_FAULT_COVER_OPEN, true);
	uint8_t data[200];
	memset(data, 0x0A, sizeof(data));
	size_t acc = 0;
	g_assert_cmpint(sim_escpos_write(s, data, sizeof(data), &acc, NULL), ==, 0);
	g_assert_cmpuint(acc, ==, 64);
	g_assert_cmpint(sim_escpos_current(s)->height, ==, 0); /* nothing printed with cover open */
	sim_escpos_fault_set(s, SIM_ESCPOS_FAULT_COVER_OPEN, false);
	g_assert_cmpint(sim_escpos_current(s)->height, ==, 64 * 34);
	/* Online, the buffer drains as it fills: a write larger than it is accepted whole. */
	g_assert_cmpint(sim_escpos_write(s, data, sizeof(data), &acc, NULL), ==, 0);
	g_assert_cmpuint(acc, ==, sizeof(data));
	sim_escpos_free(s);
}

/*
 * A long paper-out with a host polling DLE EOT 1..4: the status always answers, the queries
 * never fill the buffer for good, and the held print data still resumes on reload. Before the
 * fix the 4 KB buffer filled with the host's own queries and every later write was refused.
 */
static void test_offline_status_polling(void)
{
	struct sim_escpos_config cfg;
	sim_escpos_config_default(&cfg);
	cfg.rx_capacity = 64;
	struct sim_escpos *s = new_sim(&cfg);
	sim_escpos_fault_set(s, SIM_ESCPOS_FAULT_PAPER_OUT, true);
	uint8_t lines[10];
	memset(lines, 0x0A, sizeof(lines));
	size_t acc = 0;
	g_assert_cmpint(sim_escpos_write(s, lines, sizeof(lines), &acc, NULL), ==, 0);
	g_assert_cmpuint(acc, ==, sizeof(lines));
	const uint8_t poll[] = {0x10, 0x04, 1, 0x10, 0x04, 2, 0x10, 0x04, 3, 0x10, 0x04, 4};
	for (int round = 0; round < 1000; round++) { /* ~83 min of 5 s polls */
		g_assert_cmpint(sim_escpos_write(s, poll, sizeof(poll), &acc, NULL), ==, 0);
		g_assert_cmpuint(acc, ==, sizeof(poll));
		uint8_t rep[8];
		g_assert_cmpuint(sim_escpos_read(s, rep, sizeof(rep)), ==, 4);
		g_assert_cmpuint(rep[0], ==, 0x1A); /* offline */
		g_assert_cmpuint(rep[1], ==, 0x32); /* stopped by paper end */
		g_assert_cmpuint(rep[3], ==, 0x7E); /* paper end */
	}
	struct sim_escpos_stats st;
	sim_escpos_stats(s, &st);
	g_assert_cmpuint(st.held, ==, cfg.rx_capacity);
	g_assert_cmpuint(st.realtime_unbuffered, >, 3000);
	/* Print data and a real-time command cut short are still refused with the buffer full. */
	g_assert_cmpint(sim_escpos_write(s, lines, 1, &acc, NULL), ==, 0);
	g_assert_cmpuint(acc, ==, 0);
	g_assert_cmpint(sim_escpos_write(s, poll, 2, &acc, NULL), ==, 0);
	g_assert_cmpuint(acc, ==, 0);
	/* Reloaded: the held lines print, then the buffered queries parse without effect. */
	sim_escpos_fault_set(s, SIM_ESCPOS_FAULT_PAPER_OUT, false);
	g_assert_cmpint(sim_escpos_current(s)->height, ==, 10 * 34);
	sim_escpos_stats(s, &st);
	g_assert_cmpuint(st.held, ==, 0);
	g_assert_cmpuint(st.protocol_errors, ==, 0);
	g_assert_cmpint(sim_escpos_write(s, poll, sizeof(poll), &acc, NULL), ==, 0);
	uint8_t rep[8];
	g_assert_cmpuint(sim_escpos_read(s, rep, sizeof(rep)), ==, 4);
	g_assert_cmpuint(rep[0], ==, 0x12);
	sim_escpos_free(s);
}

static void test_absurd_raster(void)
{
	struct sim_escpos *s = new_sim(NULL);
	struct kio_error err = {0};
	size_t acc;
	/* 65535 x 65535 bytes announced: refused, counted past, nothing allocated. */
	const uint8_t huge[] = {0x1D, 0x76, 0x30, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3};
	g_assert_cmpint(sim_escpos_write(s, huge, sizeof(huge), &acc, &err), ==, KIO_ERR_PROTOCOL);
	g_assert_cmpint(err.code, ==, KIO_ERR_PROTOCOL);
	g_assert_nonnull(strstr(err.msg, "refused"));
	g_assert_cmpint(sim_escpos_current(s)->height, ==, 0);
	g_assert_cmpint(sim_escpos_last_error(s)->code, ==, KIO_ERR_PROTOCOL);
	sim_escpos_free(s);

	/* Height above the band limit, then its data, then a valid job that must print. */
	s = new_sim(NULL);
	const uint8_t tall[] = {0x1D, 0x76, 0x30, 0x00, 0x01, 0x00, 0x00, 0x09}; /* y = 2304 */
	g_assert_cmpint(sim_escpos_write(s, tall, sizeof(tall), &acc, &err), ==, KIO_ERR_PROTOCOL);
	uint8_t *junk = g_malloc(2304);
	memset(junk, 0xFF, 2304);
	write_all(s, junk, 2304, 0); /* consumed as the refused block's data, not printed */
	g_free(junk);
	g_assert_cmpint(sim_escpos_current(s)->height, ==, 0);
	const uint8_t ok[] = {0x1D, 0x76, 0x30, 0x00, 0x01, 0x00, 0x01, 0x00, 0x81, 0x1D, 0x56, 0x41,
		0x00};
	write_all(s, ok, sizeof(ok), 0);
	g_assert_cmpuint(sim_escpos_receipt_count(s), ==, 1);
	g_assert_true(sim_escpos_page_get(sim_escpos_receipt(s, 0), 0, 0));
	g_assert_true(sim_escpos_page_get(sim_escpos_receipt(s, 0), 7, 0));
	g_assert_cmpuint(sim_escpos_page_ink(sim_escpos_receipt(s, 0)), ==, 2);

	/* Zero width. */
	const uint8_t zero[] = {0x1D, 0x76, 0x30, 0x00, 0x00, 0x00, 0x05, 0x00};
	g_assert_cmpint(sim_escpos_write(s, zero, sizeof(zero), &acc, &err), ==, KIO_ERR_PROTOCOL);
	sim_escpos_free(s);
}

static void test_unknown_and_text(void)
{
	struct sim_escpos *s = new_sim(NULL);
	struct kio_error err = {0};
	size_t acc;
	const uint8_t unknown[] = {0x1B, 0x01};
	g_assert_cmpint(sim_escpos_write(s, unknown, 2, &acc, &err), ==, KIO_ERR_PROTOCOL);
	g_assert_nonnull(strstr(err.msg, "unknown command 1b 01"));
	const uint8_t text[] = "Hello";
	g_assert_cmpint(sim_escpos_write(s, text, 5, &acc, &err), ==, KIO_ERR_PROTOCOL);
	g_assert_nonnull(strstr(err.msg, "raster only"));
	const uint8_t gsv[] = {0x1D, 0x56, 0x07};
	g_assert_cmpint(sim_escpos_write(s, gsv, 3, &acc, &err), ==, KIO_ERR_PROTOCOL);
	struct sim_escpos_stats st;
	sim_escpos_stats(s, &st);
	g_assert_cmpuint(st.text_bytes, ==, 5);
	g_assert_cmpuint(st.protocol_errors, ==, 7);
	/* Known commands with lengths we do not model are skipped cleanly, including sized
	 * GS ( and FS ( blocks and NUL-terminated lists, and the next raster prints. */
	const uint8_t known[] = {0x1B, 0x21, 0x08, 0x1B, 0x74, 37, 0x1B, 0x44, 8, 16, 0, 0x1D, 0x28,
		0x6B, 0x03, 0x00, 0x31, 0x43, 0x05, 0x1C, 0x28, 0x41, 0x02, 0x00, 0x30, 0x30, 0x1B, 0x63,
		0x35, 0x01, 0x1D, 0x76, 0x30, 0x00, 0x01, 0x00, 0x01, 0x00, 0xF0, 0x1D, 0x56, 0x42, 0x00};
	write_all(s, known, sizeof(known), 0);
	g_assert_cmpuint(sim_escpos_receipt_count(s), ==, 1);
	g_assert_cmpuint(sim_escpos_page_ink(sim_escpos_receipt(s, 0)), ==, 4);
	sim_escpos_free(s);
}

/* Truncated at every length: never crashes, prints only completed rows, no receipt. */
static void test_truncated(void)
{
	struct core_bytebuf b = {0};
	struct escpos_bitmap *bm;
	build_job(&b, &bm);
	size_t cut_at = b.len - 7; /* before GS V 65 2 and DLE EOT 1 */
	for (size_t len = 0; len < cut_at; len++) {
		struct sim_escpos *s = new_sim(NULL);
		write_all(s, b.data, len, 0);
		g_assert_cmpuint(sim_escpos_receipt_count(s), ==, 0);
		g_assert_cmpint(sim_escpos_current(s)->height, <=, 5 + 34 + 3);
		sim_escpos_free(s);
	}
	core_bytebuf_free(&b);
	escpos_bitmap_free(bm);
}

static void test_garbage(void)
{
	GRand *rng = g_rand_new_with_seed(42);
	for (int round = 0; round < 200; round++) {
		struct sim_escpos_config cfg;
		sim_escpos_config_default(&cfg);
		cfg.max_page_rows = 4000;
		struct sim_escpos *s = new_sim(&cfg);
		uint8_t buf[512];
		for (size_t i = 0; i < sizeof(buf); i++) {
			/* Biased towards command introducers so headers get exercised. */
			guint32 r = g_rand_int(rng);
			static const uint8_t pick[] = {0x1B, 0x1D, 0x10, 0x1C, 0x0A, 0x76, 0x30, 0x56, 0x28};
			buf[i] = (r & 3) == 0 ? pick[(r >> 8) % sizeof(pick)] : (uint8_t)(r >> 16);
		}
		size_t pos = 0, acc;
		while (pos < sizeof(buf)) {
			size_t n = 1 + g_rand_int_range(rng, 0, 64);
			if (n > sizeof(buf) - pos)
				n = sizeof(buf) - pos;
			int rc = sim_escpos_write(s, buf + pos, n, &acc, NULL);
			g_assert_true(rc == 0 || rc == KIO_ERR_PROTOCOL);
			pos += n;
			uint8_t sink[64];
			while (sim_escpos_read(s, sink, sizeof(sink)))
				;
		}
		g_assert_cmpint(sim_escpos_current(s)->height, <=, 4000);
		sim_escpos_free(s);
	}
	g_rand_free(rng);
}

/* Epson answers DLE EOT found inside raster data (research §1.2); the image is unharmed. */
static void test_realtime_inside_data(void)
{
	struct escpos_bitmap *bm;
	g_assert_cmpint(escpos_bitmap_new(24, 1, &bm, NULL), ==, 0);
	bm->bits[0] = 0x10;
	bm->bits[1] = 0x04;
	bm->bits[2] = 0x02;
	struct core_bytebuf b = {0};
	g_assert_cmpint(escpos_encode_raster(&b, bm, 0, NULL), ==, 0);
	struct sim_escpos *s = new_sim(NULL);
	write_buf(s, &b);
	uint8_t r[4];
	g_assert_cmpuint(sim_escpos_read(s, r, sizeof(r)), ==, 1);
	g_assert_cmphex(r[0], ==, 0x12);
	g_assert_cmpint(sim_escpos_current(s)->height, ==, 1);
	g_assert_true(sim_escpos_page_get(sim_escpos_current(s), 3, 0));
	g_assert_true(sim_escpos_page_get(sim_escpos_current(s), 13, 0));
	g_assert_true(sim_escpos_page_get(sim_escpos_current(s), 22, 0));
	g_assert_cmpuint(sim_escpos_page_ink(sim_escpos_current(s)), ==, 3);
	sim_escpos_free(s);
	core_bytebuf_free(&b);

	/* DLE DC4 fn2 inside image data powers the printer off unless GS ( D disabled it. */
	bm->bits[0] = 0x10;
	bm->bits[1] = 0x14;
	bm->bits[2] = 0x02;
	struct escpos_bitmap *bm5;
	g_assert_cmpint(escpos_bitmap_new(40, 1, &bm5, NULL), ==, 0);
	memcpy(bm5->bits, (const uint8_t[]){0x10, 0x14, 0x02, 0x01, 0x08}, 5);
	g_assert_cmpint(escpos_encode_raster(&b, bm5, 0, NULL), ==, 0);
	s = new_sim(NULL);
	write_buf(s, &b);
	g_assert_false(sim_escpos_connected(s));
	struct sim_escpos_stats st;
	sim_escpos_stats(s, &st);
	g_assert_cmpuint(st.power_offs, ==, 1);
	sim_escpos_power_cycle(s);
	g_assert_true(sim_escpos_connected(s));
	struct core_bytebuf safe = {0};
	escpos_encode_init(&safe);
	escpos_encode_realtime_disable(&safe);
	write_buf(s, &safe);
	write_buf(s, &b);
	g_assert_true(sim_escpos_connected(s));
	g_assert_cmpint(sim_escpos_current(s)->height, ==, 1);
	sim_escpos_free(s);
	core_bytebuf_free(&b);
	core_bytebuf_free(&safe);
	escpos_bitmap_free(bm);
	escpos_bitmap_free(bm5);
}

/* Raster rows go into the page a run at a time where no real-time command can be in them; a
 * DLE EOT split across two rows, across two writes or after a run of plain data must still be
 * answered once, and every dot land where it would byte by byte, at every split. */
static void test_realtime_across_rows_every_split(void)
{
	static const uint8_t rows[4][3] = {
		{0xAA, 0x00, 0x81}, {0x7E, 0x01, 0x10}, {0x04, 0x01, 0xF0}, {0x10, 0x55, 0x10},
	};
	struct escpos_bitmap *bm;
	g_assert_cmpint(escpos_bitmap_new(24, 4, &bm, NULL), ==, 0);
	for (int y = 0; y < 4; y++)
		memcpy(bm->bits + (size_t)y * bm->stride, rows[y], 3);
	struct core_bytebuf b = {0};
	g_assert_cmpint(escpos_encode_raster(&b, bm, 0, NULL), ==, 0);
	for (size_t cut = 0; cut <= b.len; cut++) {
		struct sim_escpos *s = new_sim(NULL);
		write_all(s, b.data, cut, 0);
		write_all(s, b.data + cut, b.len - cut, 0);
		uint8_t r[4];
		g_assert_cmpuint(sim_escpos_read(s, r, sizeof(r)), ==, 1); /* rows 1-2: DLE EOT 1 */
		const struct sim_escpos_page *p = sim_escpos_current(s);
		g_assert_cmpint(p->height, ==, 4);
		size_t ink = 0;
		for (int y = 0; y < 4; y++)
			for (int x = 0; x < 24; x++) {
				bool want = rows[y][x / 8] & (0x80u >> (x % 8));
				g_assert_cmpint(sim_escpos_page_get(p, x, y), ==, want);
				ink += want;
			}
		g_assert_cmpuint(sim_escpos_page_ink(p), ==, ink);
		sim_escpos_free(s);
	}
	core_bytebuf_free(&b);
	escpos_bitmap_free(bm);
}

static void test_cutter_offset(void)
{
	struct sim_escpos_config cfg;
	sim_escpos_config_default(&cfg);
	cfg.cutter_offset = 20;
	struct sim_escpos *s = new_sim(&cfg);
	struct escpos_bitmap *bm = pattern(576, 50);
	struct core_bytebuf b = {0};
	g_assert_cmpint(escpos_encode_raster(&b, bm, 0, NULL), ==, 0);
	escpos_encode_cut(&b, ESCPOS_CUT_FULL, 0);
	write_buf(s, &b);
	/* Cut without feed: the 20 rows between head and cutter stay on the roll. */
	g_assert_cmpuint(sim_escpos_receipt_count(s), ==, 1);
	g_assert_cmpint(sim_escpos_receipt(s, 0)->height, ==, 30);
	g_assert_cmpint(sim_escpos_current(s)->height, ==, 20);
	for (int x = 0; x < 576; x++)
		g_assert_cmpint(sim_escpos_page_get(sim_escpos_current(s), x, 0), ==,
			escpos_bitmap_get(bm, x, 30));
	core_bytebuf_free(&b);
	/* Cut with feed: all printed rows pass the cutter, n more are fed. */
	escpos_encode_cut(&b, ESCPOS_CUT_PARTIAL_FEED, 5);
	write_buf(s, &b);
	g_assert_cmpuint(sim_escpos_receipt_count(s), ==, 2);
	g_assert_cmpint(sim_escpos_receipt(s, 1)->height, ==, 25);
	g_assert_cmpint(sim_escpos_current(s)->height, ==, 20);
	sim_escpos_free(s);
	core_bytebuf_free(&b);
	escpos_bitmap_free(bm);
}

static void test_align_and_scale(void)
{
	struct sim_escpos *s = new_sim(NULL);
	/* ESC a 1 centres; GS v 0 m=3 doubles both ways: 8 dots -> 16 dots, 1 row -> 2 rows. */
	const uint8_t job[] = {0x1B, 0x61, 0x01, 0x1D, 0x76, 0x30, 0x03, 0x01, 0x00, 0x01, 0x00, 0xC0,
		0x1B, 0x61, 0x32, 0x1D, 0x76, 0x30, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01};
	write_all(s, job, sizeof(job), 0);
	const struct sim_escpos_page *p = sim_escpos_current(s);
	g_assert_cmpint(p->height, ==, 3);
	int off = (576 - 16) / 2;
	for (int y = 0; y < 2; y++)
		for (int x = 0; x < 576; x++)
			g_assert_cmpint(sim_escpos_page_get(p, x, y), ==, x >= off && x < off + 4);
	g_assert_true(sim_escpos_page_get(p, 575, 2)); /* right aligned, last dot */
	g_assert_cmpuint(sim_escpos_page_ink(p), ==, 9);
	sim_escpos_free(s);
}

static void test_page_limit(void)
{
	struct sim_escpos_config cfg;
	sim_escpos_config_default(&cfg);
	cfg.max_page_rows = 100;
	struct sim_escpos *s = new_sim(&cfg);
	struct escpos_bitmap *bm = pattern(576, 150);
	struct core_bytebuf b = {0};
	g_assert_cmpint(escpos_encode_raster(&b, bm, 0, NULL), ==, 0);
	size_t acc;
	struct kio_error err = {0};
	g_assert_cmpint(sim_escpos_write(s, b.data, b.len, &acc, &err), ==, KIO_ERR_PROTOCOL);
	g_assert_nonnull(strstr(err.msg, "longer than 100"));
	g_assert_cmpint(sim_escpos_current(s)->height, ==, 100);
	struct sim_escpos_stats st;
	sim_escpos_stats(s, &st);
	g_assert_cmpuint(st.lost_rows, ==, 50);
	sim_escpos_free(s);
	core_bytebuf_free(&b);
	escpos_bitmap_free(bm);

	struct sim_escpos_config bad;
	sim_escpos_config_default(&bad);
	bad.width_dots = 4;
	struct sim_escpos *none = NULL;
	g_assert_cmpint(sim_escpos_new(&bad, &none, NULL), ==, KIO_ERR_INVALID);
	g_assert_null(none);
}

/* Reads a PNG back with libpng into 0 = white, 1 = black per pixel. */
static uint8_t *read_png(const char *path, int *w, int *h)
{
	FILE *f = fopen(path, "rb");
	g_assert_nonnull(f);
	png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	g_assert_nonnull(png);
	g_assert_nonnull(info);
	if (setjmp(png_jmpbuf(png)))
		g_error("libpng failed reading %s", path);
	png_init_io(png, f);
	png_read_info(png, info);
	*w = (int)png_get_image_width(png, info);
	*h = (int)png_get_image_height(png, info);
	g_assert_cmpint(png_get_bit_depth(png, info), ==, 1);
	g_assert_cmpint(png_get_color_type(png, info), ==, PNG_COLOR_TYPE_GRAY);
	png_set_expand_gray_1_2_4_to_8(png);
	png_read_update_info(png, info);
	uint8_t *px = g_malloc((size_t)*w * (size_t)*h);
	uint8_t *row = g_malloc((size_t)*w);
	for (int y = 0; y < *h; y++) {
		png_read_row(png, row, NULL);
		for (int x = 0; x < *w; x++)
			px[(size_t)y * (size_t)*w + (size_t)x] = row[x] == 0;
	}
	g_free(row);
	png_destroy_read_struct(&png, &info, NULL);
	fclose(f);
	return px;
}

static void test_png(void)
{
	struct escpos_bitmap *bm = pattern(576, 300);
	struct core_bytebuf b = {0};
	escpos_encode_init(&b);
	g_assert_cmpint(escpos_encode_raster(&b, bm, 0, NULL), ==, 0);
	escpos_encode_cut(&b, ESCPOS_CUT_PARTIAL_FEED, 0);
	struct sim_escpos *s = new_sim(NULL);
	write_buf(s, &b);
	g_assert_cmpuint(sim_escpos_receipt_count(s), ==, 1);

	const char *keep = g_getenv("KIOSK_TEST_OUT");
	char *dir = keep ? g_strdup(keep) : g_dir_make_tmp("escpos-XXXXXX", NULL);
	g_assert_nonnull(dir);
	char *path = g_build_filename(dir, "receipt-T0001.png", NULL);
	struct kio_error err = {0};
	g_assert_cmpint(sim_escpos_page_write_png(sim_escpos_receipt(s, 0), path, &err), ==, 0);
	int w, h;
	uint8_t *px = read_png(path, &w, &h);
	g_assert_cmpint(w, ==, 576);
	g_assert_cmpint(h, ==, 300);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			g_assert_cmpint(px[(size_t)y * 576 + (size_t)x], ==, escpos_bitmap_get(bm, x, y));
	g_free(px);

	char *bad = g_build_filename(dir, "no-such-dir", "r.png", NULL);
	g_assert_cmpint(sim_escpos_page_write_png(sim_escpos_receipt(s, 0), bad, &err), ==,
		KIO_ERR_IO);
	g_assert_nonnull(strstr(err.msg, "no-such-dir"));
	g_assert_cmpint(sim_escpos_page_write_png(sim_escpos_current(s), path, &err), ==,
		KIO_ERR_INVALID);
	if (!keep) {
		g_assert_cmpint(g_remove(path), ==, 0);
		g_assert_cmpint(g_rmdir(dir), ==, 0);
	}
	g_free(bad);
	g_free(path);
	g_free(dir);
	sim_escpos_free(s);
	core_bytebuf_free(&b);
	escpos_bitmap_free(bm);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sim-escpos/round-trip", test_round_trip);
	g_test_add_func("/sim-escpos/every-split", test_every_split);
	g_test_add_func("/sim-escpos/status-faults", test_status_faults);
	g_test_add_func("/sim-escpos/fault-names", test_fault_names);
	g_test_add_func("/sim-escpos/paper-out-holds-and-resumes", test_paper_out_holds_and_resumes);
	g_test_add_func("/sim-escpos/paper-runs-out", test_paper_runs_out);
	g_test_add_func("/sim-escpos/offline-backpressure", test_offline_backpressure);
	g_test_add_func("/sim-escpos/offline-status-polling", test_offline_status_polling);
	g_test_add_func("/sim-escpos/absurd-raster", test_absurd_raster);
	g_test_add_func("/sim-escpos/unknown-and-text", test_unknown_and_text);
	g_test_add_func("/sim-escpos/truncated", test_truncated);
	g_test_add_func("/sim-escpos/garbage", test_garbage);
	g_test_add_func("/sim-escpos/realtime-inside-data", test_realtime_inside_data);
	g_test_add_func("/sim-escpos/realtime-across-rows-every-split", test_realtime_across_rows_every_split);
	g_test_add_func("/sim-escpos/cutter-offset", test_cutter_offset);
	g_test_add_func("/sim-escpos/align-and-scale", test_align_and_scale);
	g_test_add_func("/sim-escpos/page-limit", test_page_limit);
	g_test_add_func("/sim-escpos/png", test_png);
	return g_test_run();
}
