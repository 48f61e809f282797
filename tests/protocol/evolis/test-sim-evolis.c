/* Card printer conversations against the simulated Evolis: issue, encode, faults, PNG. */
#include "drivers/sim/evolis/sim-evolis.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/protocol/evolis/evolis.h"

static struct sim_evolis *new_sim(int feeder, int ribbon)
{
	struct sim_evolis_config cfg;
	sim_evolis_config_default(&cfg);
	cfg.feeder_cards = feeder;
	cfg.ribbon_cards = ribbon;
	struct sim_evolis *s = NULL;
	g_assert_cmpint(sim_evolis_new(&cfg, &s, NULL), ==, 0);
	return s;
}

/* Sends one encoded command and returns its single parsed reply. */
static struct evolis_reply chat(struct sim_evolis *s, const struct core_bytebuf *b)
{
	struct kio_error err = {0};
	if (sim_evolis_write(s, b->data, b->len, &err) != 0)
		g_error("write: %s", err.msg);
	uint8_t rx[256];
	size_t n = sim_evolis_read(s, rx, sizeof(rx));
	size_t frame = 0;
	g_assert_cmpint(evolis_reply_frame(rx, n, &frame, &err), ==, 0);
	g_assert_cmpuint(frame, ==, n); /* exactly one reply */
	struct evolis_reply r;
	g_assert_cmpint(evolis_reply_parse(rx, frame, &r, &err), ==, 0);
	return r;
}

static struct evolis_reply cmd(struct sim_evolis *s, const char *text)
{
	struct core_bytebuf b = {0};
	g_assert_cmpint(evolis_encode_command(&b, text, NULL), ==, 0);
	struct evolis_reply r = chat(s, &b);
	core_bytebuf_free(&b);
	return r;
}

static struct evolis_reply read_(struct sim_evolis *s, enum evolis_read what)
{
	struct core_bytebuf b = {0};
	g_assert_cmpint(evolis_encode_read(&b, what, NULL), ==, 0);
	struct evolis_reply r = chat(s, &b);
	core_bytebuf_free(&b);
	return r;
}

static uint32_t counter(struct sim_evolis *s, enum evolis_read what)
{
	struct evolis_reply r = read_(s, what);
	uint32_t v;
	g_assert_cmpint(evolis_reply_counter(&r, &v, NULL), ==, 0);
	return v;
}

static enum evolis_card_position position(struct sim_evolis *s)
{
	struct evolis_reply r = read_(s, EVOLIS_READ_CARD_POSITION);
	enum evolis_card_position p;
	g_assert_cmpint(evolis_reply_card_position(&r, &p, NULL), ==, 0);
	return p;
}

static int volts(struct sim_evolis *s, enum evolis_read what)
{
	struct evolis_reply r = read_(s, what);
	int mv;
	g_assert_cmpint(evolis_reply_volts(&r, &mv, NULL), ==, 0);
	return mv;
}

/* Face with a frame, a diagonal and a block "1" near the top-left corner. */
static struct evolis_face *face_pattern(void)
{
	struct evolis_face *f = evolis_face_new();
	for (int y = 0; y < EVOLIS_FACE_HEIGHT; y++)
		for (int x = 0; x < EVOLIS_FACE_WIDTH; x++) {
			bool frame = x < 6 || y < 6 || x >= EVOLIS_FACE_WIDTH - 6 || y >= EVOLIS_FACE_HEIGHT - 6;
			bool diag = abs(x * EVOLIS_FACE_HEIGHT / EVOLIS_FACE_WIDTH - y) < 2;
			bool one = x >= 60 && x < 90 && y >= 40 && y < 200;
			bool foot = x >= 40 && x < 110 && y >= 180 && y < 200;
			bool flag = x >= 40 && x < 60 && y >= 40 && y < 70;
			evolis_face_set(f, x, y, frame || diag || one || foot || flag);
		}
	return f;
}

static void expect_ok(struct evolis_reply r)
{
	if (r.kind != EVOLIS_REPLY_OK)
		g_error("expected OK, got \"%s\"", r.text);
}

static void test_identity_and_status(void)
{
	struct sim_evolis *s = new_sim(10, 200);
	struct evolis_reply r = read_(s, EVOLIS_READ_MODEL);
	g_assert_cmpint(r.kind, ==, EVOLIS_REPLY_VALUE);
	g_assert_cmpstr(r.text, ==, "Evolis KC200 (simulated)");
	r = read_(s, EVOLIS_READ_SERIAL);
	g_assert_cmpstr(r.text, ==, "SIM0000001");
	r = read_(s, EVOLIS_READ_FIRMWARE);
	g_assert_cmpstr(r.text, ==, "SIM 1.0");
	g_assert_cmpint(position(s), ==, EVOLIS_CARD_NONE);
	g_assert_cmpint(volts(s, EVOLIS_READ_COVER), ==, 5000);
	g_assert_cmpint(volts(s, EVOLIS_READ_FEEDER), ==, 5000);
	expect_ok(read_(s, EVOLIS_READ_RIBBON_END));
	g_assert_cmpuint(counter(s, EVOLIS_READ_CARDS_INSERTED), ==, 0);
	g_assert_cmpuint(counter(s, EVOLIS_READ_PANELS_PRINTED), ==, 0);
	g_assert_cmpuint(counter(s, EVOLIS_READ_RIBBON_LEFT), ==, 200);
	expect_ok(cmd(s, "Pem;2"));
	r = cmd(s, "Xyz");
	g_assert_cmpint(r.kind, ==, EVOLIS_REPLY_ERROR);
	g_assert_cmpint(r.fault, ==, EVOLIS_FAULT_COMMAND);
	r = cmd(s, "Pr;ymcko");
	g_assert_cmpint(r.fault, ==, EVOLIS_FAULT_COMMAND);
	sim_evolis_free(s);
}

/* The full issue conversation: pre-check, station, encode, print, eject. */
static void issue_card(struct sim_evolis *s, const char *number, const struct evolis_face *f)
{
	struct core_bytebuf b = {0};
	evolis_encode_ribbon_k(&b);
	expect_ok(chat(s, &b));
	core_bytebuf_free(&b);
	evolis_encode_move_to_station(&b, EVOLIS_STATION_CONTACTLESS);
	expect_ok(chat(s, &b));
	core_bytebuf_free(&b);
	g_assert_cmpint(position(s), ==, EVOLIS_CARD_CONTACTLESS);
	g_assert_cmpint(evolis_encode_mag_track2(&b, number, NULL), ==, 0);
	/* Two commands, two replies. */
	g_assert_cmpint(sim_evolis_write(s, b.data, b.len, NULL), ==, 0);
	uint8_t rx[16];
	size_t n = sim_evolis_read(s, rx, sizeof(rx));
	g_assert_cmpmem(rx, n, "OK\rOK\r", 6);
	core_bytebuf_free(&b);
	evolis_encode_print_front_k(&b, f);
	g_assert_cmpint(sim_evolis_write(s, b.data, b.len, NULL), ==, 0);
	n = sim_evolis_read(s, rx, sizeof(rx));
	g_assert_cmpmem(rx, n, "OK\rOK\rOK\rOK\r", 12); /* Ss, Sr, Db, Se */
	core_bytebuf_free(&b);
	g_assert_cmpint(position(s), ==, EVOLIS_CARD_NONE);
}

static void assert_card_face(const struct sim_evolis_card *c, const struct evolis_face *f)
{
	for (int y = 0; y < EVOLIS_FACE_HEIGHT; y++)
		for (int x = 0; x < EVOLIS_FACE_WIDTH; x++)
			if (sim_evolis_card_get(c, x, y) != evolis_face_get(f, x, y))
				g_error("face pixel %d,%d differs", x, y);
}

static void test_issue(void)
{
	struct sim_evolis *s = new_sim(10, 200);
	struct evolis_face *f = face_pattern();
	issue_card(s, "6354120000012345", f);
	g_assert_cmpuint(sim_evolis_card_count(s), ==, 1);
	const struct sim_evolis_card *c = sim_evolis_card(s, 0);
	g_assert_false(c->rejected);
	g_assert_true(c->encoded);
	g_assert_cmpstr(c->track2, ==, "6354120000012345");
	g_assert_true(c->printed);
	assert_card_face(c, f);
	g_assert_cmpuint(counter(s, EVOLIS_READ_CARDS_INSERTED), ==, 1);
	g_assert_cmpuint(counter(s, EVOLIS_READ_PANELS_PRINTED), ==, 1);
	g_assert_cmpuint(counter(s, EVOLIS_READ_RIBBON_LEFT), ==, 199);
	g_assert_cmpint(sim_evolis_feeder_level(s), ==, 9);

	/* A second card straight through the print job (no station first). */
	struct core_bytebuf b = {0};
	evolis_encode_print_front_k(&b, f);
	g_assert_cmpint(sim_evolis_write(s, b.data, b.len, NULL), ==, 0);
	g_assert_cmpuint(sim_evolis_readable(s), ==, 12);
	uint8_t rx[16];
	sim_evolis_read(s, rx, sizeof(rx));
	core_bytebuf_free(&b);
	g_assert_cmpuint(sim_evolis_card_count(s), ==, 2);
	g_assert_false(sim_evolis_card(s, 1)->encoded);
	g_assert_null(sim_evolis_card(s, 2));
	sim_evolis_free(s);
	free(f);
}

static void test_reject(void)
{
	struct sim_evolis *s = new_sim(10, 200);
	expect_ok(cmd(s, "Sis"));
	g_assert_cmpint(position(s), ==, EVOLIS_CARD_CONTACT);
	struct core_bytebuf b = {0};
	evolis_encode_reject(&b);
	expect_ok(chat(s, &b));
	g_assert_cmpuint(sim_evolis_card_count(s), ==, 1);
	g_assert_true(sim_evolis_card(s, 0)->rejected);
	g_assert_false(sim_evolis_card(s, 0)->printed);
	struct evolis_reply r = chat(s, &b); /* nothing left to reject */
	g_assert_cmpint(r.kind, ==, EVOLIS_REPLY_ERROR);
	g_assert_cmpstr(r.text, ==, "ERR NO CARD");
	core_bytebuf_free(&b);
	/* Se outside a sequence ejects an unprinted card. */
	expect_ok(cmd(s, "Sic"));
	evolis_encode_eject(&b);
	expect_ok(chat(s, &b));
	core_bytebuf_free(&b);
	g_assert_cmpuint(sim_evolis_card_count(s), ==, 2);
	g_assert_false(sim_evolis_card(s, 1)->rejected);
	/* Smw without Dm is a parameter error. */
	struct evolis_reply e = cmd(s, "Smw");
	g_assert_cmpint(e.fault, ==, EVOLIS_FAULT_COMMAND);
	e = cmd(s, "Dm;2;12AB");
	g_assert_cmpint(e.fault, ==, EVOLIS_FAULT_COMMAND);
	sim_evolis_free(s);
}

static void test_fault_feeder_empty(void)
{
	struct sim_evolis *s = new_sim(1, 200);
	struct evolis_face *f = face_pattern();
	issue_card(s, "1", f);
	/* The feeder is now empty by count. */
	g_assert_cmpint(volts(s, EVOLIS_READ_FEEDER), ==, 0);
	struct evolis_reply r = cmd(s, "Sic");
	g_assert_cmpint(r.kind, ==, EVOLIS_REPLY_ERROR);
	g_assert_cmpint(r.fault, ==, EVOLIS_FAULT_FEEDER_EMPTY);
	struct kio_error err = {0};
	g_assert_cmpint(evolis_reply_expect_ok(&r, &err), ==, KIO_ERR_BUSY);
	g_assert_nonnull(strstr(err.msg, "feeder empty"));
	sim_evolis_load_feeder(s, 50);
	expect_ok(cmd(s, "Sic"));
	expect_ok(cmd(s, "Ser"));
	/* Injected: feeder-empty while cards are counted in. */
	sim_evolis_fault_set(s, SIM_EVOLIS_FAULT_FEEDER_EMPTY, true);
	g_assert_cmpint(volts(s, EVOLIS_READ_FEEDER), ==, 0);
	struct core_bytebuf b = {0};
	evolis_encode_print_front_k(&b, f);
	g_assert_cmpint(sim_evolis_write(s, b.data, b.len, NULL), ==, 0);
	uint8_t rx[64];
	size_t n = sim_evolis_read(s, rx, sizeof(rx));
	g_assert_cmpmem(rx, n, "OK\rOK\rOK\rERR FEEDER EMPTY\r", 26);
	core_bytebuf_free(&b);
	g_assert_cmpuint(sim_evolis_card_count(s), ==, 2);
	sim_evolis_fault_set(s, SIM_EVOLIS_FAULT_FEEDER_EMPTY, false);
	g_assert_cmpint(volts(s, EVOLIS_READ_FEEDER), ==, 5000);
	sim_evolis_free(s);
	free(f);
}

static void test_fault_ribbon(void)
{
	struct sim_evolis *s = new_sim(10, 2);
	struct evolis_face *f = face_pattern();
	issue_card(s, "42", f);
	struct evolis_reply end = read_(s, EVOLIS_READ_RIBBON_END);
	uint32_t left = counter(s, EVOLIS_READ_RIBBON_LEFT);
	g_assert_cmpuint(left, ==, 1);
	g_assert_cmpint(evolis_ribbon_state(end.kind != EVOLIS_REPLY_OK, left, 5), ==,
		EVOLIS_FAULT_RIBBON_LOW);
	issue_card(s, "43", f);
	end = read_(s, EVOLIS_READ_RIBBON_END);
	g_assert_cmpint(end.fault, ==, EVOLIS_FAULT_RIBBON_OUT);
	g_assert_cmpint(evolis_ribbon_state(end.kind != EVOLIS_REPLY_OK,
		counter(s, EVOLIS_READ_RIBBON_LEFT), 5), ==, EVOLIS_FAULT_RIBBON_OUT);
	/* Printing now fails; the encoded card stays at the station for Ser. */
	expect_ok(cmd(s, "Sic"));
	struct core_bytebuf b = {0};
	evolis_encode_print_front_k(&b, f);
	g_assert_cmpint(sim_evolis_write(s, b.data, b.len, NULL), ==, 0);
	uint8_t rx[64];
	size_t n = sim_evolis_read(s, rx, sizeof(rx));
	g_assert_cmpmem(rx, n, "OK\rOK\rOK\rERR RIBBON ENDED\r", 26);
	core_bytebuf_free(&b);
	g_assert_cmpint(position(s), ==, EVOLIS_CARD_CONTACTLESS);
	expect_ok(cmd(s, "Ser"));

	/* Injected ribbon-out with plenty left on the counter. */
	sim_evolis_load_ribbon(s, 500);
	expect_ok(read_(s, EVOLIS_READ_RIBBON_END));
	sim_evolis_fault_set(s, SIM_EVOLIS_FAULT_RIBBON_OUT, true);
	end = read_(s, EVOLIS_READ_RIBBON_END);
	g_assert_cmpint(end.fault, ==, EVOLIS_FAULT_RIBBON_OUT);
	sim_evolis_fault_set(s, SIM_EVOLIS_FAULT_RIBBON_OUT, false);
	issue_card(s, "44", f);
	g_assert_cmpint(sim_evolis_ribbon_level(s), ==, 499);
	sim_evolis_free(s);
	free(f);
}

static void test_fault_jam_and_cover(void)
{
	struct sim_evolis *s = new_sim(10, 200);
	expect_ok(cmd(s, "Sic"));
	sim_evolis_fault_set(s, SIM_EVOLIS_FAULT_JAM, true);
	g_assert_true(sim_evolis_fault_get(s, SIM_EVOLIS_FAULT_JAM));
	struct evolis_reply r = cmd(s, "Ser");
	g_assert_cmpint(r.fault, ==, EVOLIS_FAULT_JAM);
	r = cmd(s, "Sis");
	g_assert_cmpint(r.fault, ==, EVOLIS_FAULT_JAM);
	g_assert_cmpint(position(s), ==, EVOLIS_CARD_CONTACTLESS);
	sim_evolis_fault_set(s, SIM_EVOLIS_FAULT_JAM, false);
	g_assert_cmpint(position(s), ==, EVOLIS_CARD_NONE);
	struct sim_evolis_stats st;
	sim_evolis_stats(s, &st);
	g_assert_cmpuint(st.cards_lost, ==, 1);
	g_assert_cmpuint(st.cards_inserted, ==, 1);
	g_assert_cmpuint(sim_evolis_card_count(s), ==, 0);

	sim_evolis_fault_set(s, SIM_EVOLIS_FAULT_COVER_OPEN, true);
	g_assert_cmpint(volts(s, EVOLIS_READ_COVER), ==, 0);
	r = cmd(s, "Sic");
	g_assert_cmpint(r.fault, ==, EVOLIS_FAULT_COVER_OPEN);
	g_assert_cmpint(sim_evolis_feeder_level(s), ==, 9);
	sim_evolis_fault_set(s, SIM_EVOLIS_FAULT_COVER_OPEN, false);
	g_assert_cmpint(volts(s, EVOLIS_READ_COVER), ==, 5000);
	expect_ok(cmd(s, "Sic"));
	sim_evolis_free(s);
}

static void test_fault_disconnect(void)
{
	struct sim_evolis *s = new_sim(10, 200);
	sim_evolis_fault_set(s, SIM_EVOLIS_FAULT_DISCONNECT, true);
	g_assert_false(sim_evolis_connected(s));
	const uint8_t q[] = "\x1bRlr;p\r";
	g_assert_cmpint(sim_evolis_write(s, q, sizeof(q) - 1, NULL), ==, 0);
	g_assert_cmpuint(sim_evolis_readable(s), ==, 0);
	sim_evolis_fault_set(s, SIM_EVOLIS_FAULT_DISCONNECT, false);
	g_assert_cmpint(position(s), ==, EVOLIS_CARD_NONE);

	const char *names[] = {"feeder-empty", "ribbon-out", "jam", "cover-open", "disconnect"};
	for (int i = 0; i < SIM_EVOLIS_FAULT_COUNT; i++) {
		enum sim_evolis_fault f;
		g_assert_cmpint(sim_evolis_fault_parse(names[i], &f), ==, 0);
		g_assert_cmpint(f, ==, i);
		g_assert_cmpstr(sim_evolis_fault_name(f), ==, names[i]);
	}
	enum sim_evolis_fault f;
	g_assert_cmpint(sim_evolis_fault_parse("paper-out", &f), ==, KIO_ERR_NOT_FOUND);
	sim_evolis_free(s);
}

/* The whole issue stream, split at many points (every point of the command part, strided
 * through the 84 KB panel), gives the same replies and card. */
static void test_splits(void)
{
	struct evolis_face *f = face_pattern();
	struct core_bytebuf b = {0};
	evolis_encode_ribbon_k(&b);
	evolis_encode_move_to_station(&b, EVOLIS_STATION_CONTACT);
	g_assert_cmpint(evolis_encode_mag_track2(&b, "987654321", NULL), ==, 0);
	evolis_encode_print_front_k(&b, f);
	const char want[] = "OK\rOK\rOK\rOK\rOK\rOK\rOK\rOK\r";
	for (size_t cut = 0; cut <= b.len; cut += (cut < 64 || cut > b.len - 64) ? 1 : 997) {
		struct sim_evolis *s = new_sim(5, 5);
		g_assert_cmpint(sim_evolis_write(s, b.data, cut, NULL), ==, 0);
		g_assert_cmpint(sim_evolis_write(s, b.data + cut, b.len - cut, NULL), ==, 0);
		uint8_t rx[64];
		size_t n = sim_evolis_read(s, rx, sizeof(rx));
		g_assert_cmpmem(rx, n, want, sizeof(want) - 1);
		g_assert_cmpuint(sim_evolis_card_count(s), ==, 1);
		g_assert_cmpstr(sim_evolis_card(s, 0)->track2, ==, "987654321");
		if (cut % 7 == 0)
			assert_card_face(sim_evolis_card(s, 0), f);
		sim_evolis_free(s);
	}
	core_bytebuf_free(&b);
	free(f);
}

static void test_framing_errors(void)
{
	struct sim_evolis *s = new_sim(5, 5);
	struct kio_error err = {0};
	/* Bytes outside a frame, then a valid command: the command still answers. */
	const uint8_t junk[] = "xx\x01\x1bRlr;p\r";
	g_assert_cmpint(sim_evolis_write(s, junk, sizeof(junk) - 1, &err), ==, KIO_ERR_PROTOCOL);
	g_assert_nonnull(strstr(err.msg, "outside a command"));
	uint8_t rx[64];
	size_t n = sim_evolis_read(s, rx, sizeof(rx));
	g_assert_cmpmem(rx, n, "OK\r", 3);
	/* NUL padding (dpavlin's driver) and a command without ESC right after CR (guide §3). */
	const uint8_t pad[] = "\x1bSs\r\0\0\0\x1bSr\rRco;c\r";
	g_assert_cmpint(sim_evolis_write(s, pad, sizeof(pad) - 1, &err), ==, 0);
	n = sim_evolis_read(s, rx, sizeof(rx));
	g_assert_cmpmem(rx, n, "OK\rOK\r0\r", 8);
	/* Over-long text: no reply. ESC inside a command restarts it. */
	char longer[300];
	longer[0] = 0x1B;
	memset(longer + 1, 'a', 298);
	longer[299] = '\r';
	g_assert_cmpint(sim_evolis_write(s, (const uint8_t *)longer, 300, &err), ==, KIO_ERR_PROTOCOL);
	g_assert_nonnull(strstr(err.msg, "over-long"));
	g_assert_cmpuint(sim_evolis_readable(s), ==, 0);
	const uint8_t restart[] = "\x1bRl\x1bRlr;p\r";
	g_assert_cmpint(sim_evolis_write(s, restart, sizeof(restart) - 1, &err), ==, KIO_ERR_PROTOCOL);
	n = sim_evolis_read(s, rx, sizeof(rx));
	g_assert_cmpmem(rx, n, "OK\r", 3);
	/* Bad Db header: refused with a reply, parser back to waiting. */
	const uint8_t bad[] = "\x1b" "Db;k;3;\x1bRlr;p\r";
	g_assert_cmpint(sim_evolis_write(s, bad, sizeof(bad) - 1, &err), ==, KIO_ERR_PROTOCOL);
	n = sim_evolis_read(s, rx, sizeof(rx));
	g_assert_cmpmem(rx, n, "ERR PARAMETER\rOK\r", 17);
	/* A colour panel is counted past by its size (1016 lines x 648 dots x 7 bits), CR and ESC
	 * bytes inside it included, and not printed on this K-only model. */
	size_t big = 1016 * 648 * 7 / 8;
	uint8_t *panel = g_malloc(big + 32);
	memcpy(panel, "\x1b" "Db;y;128;", 10);
	for (size_t i = 0; i < big; i++)
		panel[10 + i] = i % 3 == 0 ? 0x0D : i % 3 == 1 ? 0x1B : 'A';
	memcpy(panel + 10 + big, "\r\x1bRlr;p\r", 8);
	g_assert_cmpint(sim_evolis_write(s, panel, 10 + big + 8, &err), ==, 0);
	n = sim_evolis_read(s, rx, sizeof(rx));
	g_assert_cmpmem(rx, n, "OK\rOK\r", 6);
	/* Db data followed by ESC (the guide's example) is accepted; by junk, reported. */
	memcpy(panel, "\x1b" "Db;k;2;", 8);
	memset(panel + 8, 0x0D, EVOLIS_PANEL_K_BYTES);
	memcpy(panel + 8 + EVOLIS_PANEL_K_BYTES, "\x1bRlr;p\r", 7);
	g_assert_cmpint(sim_evolis_write(s, panel, 8 + EVOLIS_PANEL_K_BYTES + 7, &err), ==, 0);
	n = sim_evolis_read(s, rx, sizeof(rx));
	g_assert_cmpmem(rx, n, "OK\rOK\r", 6);
	memcpy(panel + 8 + EVOLIS_PANEL_K_BYTES, "Z\x1bRlr;p\r", 8);
	g_assert_cmpint(sim_evolis_write(s, panel, 8 + EVOLIS_PANEL_K_BYTES + 8, &err), ==,
		KIO_ERR_PROTOCOL);
	g_assert_nonnull(strstr(err.msg, "after Db data"));
	n = sim_evolis_read(s, rx, sizeof(rx));
	g_assert_cmpmem(rx, n, "OK\rOK\r", 6);
	g_free(panel);
	struct sim_evolis_stats st;
	sim_evolis_stats(s, &st);
	g_assert_cmpuint(st.protocol_errors, ==, 5);
	g_assert_cmpint(sim_evolis_last_error(s)->code, ==, KIO_ERR_PROTOCOL);
	sim_evolis_free(s);
}

static void test_garbage(void)
{
	GRand *rng = g_rand_new_with_seed(7);
	for (int round = 0; round < 300; round++) {
		struct sim_evolis *s = new_sim(3, 3);
		uint8_t buf[400];
		static const char *const words[] = {"\x1bSic\r", "\x1bSe\r", "\x1bSs\r", "\x1bSer\r",
			"\x1b" "Db;k;2;", "\x1bRco;c\r", "\x1b" "Dm;2;1\r", "\x1bSmw\r", "\r", "\x1b"};
		size_t len = 0;
		while (len < sizeof(buf) - 16) {
			guint32 r = g_rand_int(rng);
			if (r & 1) {
				const char *w = words[(r >> 1) % G_N_ELEMENTS(words)];
				memcpy(buf + len, w, strlen(w));
				len += strlen(w);
			} else {
				buf[len++] = (uint8_t)(r >> 8);
			}
		}
		size_t pos = 0;
		while (pos < len) {
			size_t n = 1 + g_rand_int_range(rng, 0, 40);
			if (n > len - pos)
				n = len - pos;
			int rc = sim_evolis_write(s, buf + pos, n, NULL);
			g_assert_true(rc == 0 || rc == KIO_ERR_PROTOCOL);
			pos += n;
		}
		/* Every reply the model produced parses. */
		uint8_t rx[4096];
		size_t n = sim_evolis_read(s, rx, sizeof(rx)), off = 0;
		while (off < n) {
			size_t frame;
			g_assert_cmpint(evolis_reply_frame(rx + off, n - off, &frame, NULL), ==, 0);
			g_assert_cmpuint(frame, >, 0);
			struct evolis_reply r;
			g_assert_cmpint(evolis_reply_parse(rx + off, frame, &r, NULL), ==, 0);
			off += frame;
		}
		/* Invariant 3: every card taken from the feeder is accounted for. */
		struct sim_evolis_stats st;
		sim_evolis_stats(s, &st);
		g_assert_cmpuint(st.cards_inserted, ==, sim_evolis_card_count(s) + st.cards_lost +
			(sim_evolis_position(s) != SIM_EVOLIS_POS_NONE));
		g_assert_cmpint(sim_evolis_feeder_level(s), ==, 3 - (int)st.cards_inserted);
		sim_evolis_free(s);
	}
	g_rand_free(rng);
}

static uint8_t *read_png(const char *path, int *w, int *h)
{
	FILE *fp = fopen(path, "rb");
	g_assert_nonnull(fp);
	png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	if (setjmp(png_jmpbuf(png)))
		g_error("libpng failed reading %s", path);
	png_init_io(png, fp);
	png_read_info(png, info);
	*w = (int)png_get_image_width(png, info);
	*h = (int)png_get_image_height(png, info);
	g_assert_cmpint(png_get_bit_depth(png, info), ==, 1);
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
	fclose(fp);
	return px;
}

static void test_png(void)
{
	struct sim_evolis *s = new_sim(10, 200);
	struct evolis_face *f = face_pattern();
	issue_card(s, "6354120000012345", f);
	const char *keep = g_getenv("KIOSK_TEST_OUT");
	char *dir = keep ? g_strdup(keep) : g_dir_make_tmp("evolis-XXXXXX", NULL);
	char *path = g_build_filename(dir, "card-6354120000012345.png", NULL);
	struct kio_error err = {0};
	g_assert_cmpint(sim_evolis_card_write_png(sim_evolis_card(s, 0), path, &err), ==, 0);
	int w, h;
	uint8_t *px = read_png(path, &w, &h);
	g_assert_cmpint(w, ==, 1016);
	g_assert_cmpint(h, ==, 648);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			g_assert_cmpint(px[(size_t)y * 1016 + (size_t)x], ==, evolis_face_get(f, x, y));
	g_free(px);
	char *bad = g_build_filename(dir, "missing", "c.png", NULL);
	g_assert_cmpint(sim_evolis_card_write_png(sim_evolis_card(s, 0), bad, &err), ==, KIO_ERR_IO);
	if (!keep) {
		g_assert_cmpint(g_remove(path), ==, 0);
		g_assert_cmpint(g_rmdir(dir), ==, 0);
	}
	g_free(bad);
	g_free(path);
	g_free(dir);
	sim_evolis_free(s);
	free(f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sim-evolis/identity-and-status", test_identity_and_status);
	g_test_add_func("/sim-evolis/issue", test_issue);
	g_test_add_func("/sim-evolis/reject", test_reject);
	g_test_add_func("/sim-evolis/fault/feeder-empty", test_fault_feeder_empty);
	g_test_add_func("/sim-evolis/fault/ribbon", test_fault_ribbon);
	g_test_add_func("/sim-evolis/fault/jam-and-cover", test_fault_jam_and_cover);
	g_test_add_func("/sim-evolis/fault/disconnect", test_fault_disconnect);
	g_test_add_func("/sim-evolis/splits", test_splits);
	g_test_add_func("/sim-evolis/framing-errors", test_framing_errors);
	g_test_add_func("/sim-evolis/garbage", test_garbage);
	g_test_add_func("/sim-evolis/png", test_png);
	return g_test_run();
}
