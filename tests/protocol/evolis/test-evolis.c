/* Evolis encoders byte-exact against the programming guide, and every reply form parsed. */
#include "drivers/protocol/evolis/evolis.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

static void assert_frames(const struct core_bytebuf *b, const char *want)
{
	/* want uses '|' for ESC and '#' for CR, so tests read like the guide's "(ESC)..(CR)". */
	size_t n = strlen(want);
	g_assert_cmpuint(b->len, ==, n);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = want[i] == '|' ? 0x1B : want[i] == '#' ? 0x0D : (uint8_t)want[i];
		if (b->data[i] != c)
			g_error("byte %zu is 0x%02x, want 0x%02x", i, b->data[i], c);
	}
}

static void test_commands(void)
{
	struct core_bytebuf b = {0};
	struct kio_error err = {0};
	g_assert_cmpint(evolis_encode_command(&b, "Pem;2", &err), ==, 0);
	assert_frames(&b, "|Pem;2#");
	g_assert_cmpint(evolis_encode_command(&b, "", &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(evolis_encode_command(&b, "Se\r", &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(evolis_encode_command(&b, "S\x1b", &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(evolis_encode_command(&b, NULL, &err), ==, KIO_ERR_INVALID);
	char longer[257];
	memset(longer, 'a', 256);
	longer[256] = '\0';
	g_assert_cmpint(evolis_encode_command(&b, longer, &err), ==, KIO_ERR_INVALID);
	longer[255] = '\0';
	g_assert_cmpint(evolis_encode_command(&b, longer, &err), ==, 0);
	g_assert_cmpuint(b.len, ==, 7 + 257);
	core_bytebuf_free(&b);

	const char *want[EVOLIS_READ_COUNT] = {"|Rtp#", "|Rfv#", "|Rsn#", "|Rlr;p#", "|Rse;o#",
		"|Rse;f#", "|Rcr#", "|Rco;c#", "|Rco;p#", "|Rco;l#"};
	for (int r = 0; r < EVOLIS_READ_COUNT; r++) {
		g_assert_cmpint(evolis_encode_read(&b, (enum evolis_read)r, &err), ==, 0);
		assert_frames(&b, want[r]);
		core_bytebuf_free(&b);
	}
	g_assert_cmpint(evolis_encode_read(&b, EVOLIS_READ_COUNT, &err), ==, KIO_ERR_INVALID);
	g_assert_null(evolis_read_text(EVOLIS_READ_COUNT));

	evolis_encode_ribbon_k(&b);
	evolis_encode_move_to_station(&b, EVOLIS_STATION_CONTACT);
	evolis_encode_move_to_station(&b, EVOLIS_STATION_CONTACTLESS);
	evolis_encode_reject(&b);
	evolis_encode_eject(&b);
	assert_frames(&b, "|Pr;k#|Sis#|Sic#|Ser#|Se#");
	core_bytebuf_free(&b);

	g_assert_cmpint(evolis_encode_mag_track2(&b, "6354120000012345", &err), ==, 0);
	assert_frames(&b, "|Dm;2;6354120000012345#|Smw#");
	g_assert_cmpint(evolis_encode_mag_track2(&b, "12a4", &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(evolis_encode_mag_track2(&b, "", &err), ==, KIO_ERR_INVALID);
	g_assert_cmpint(evolis_encode_mag_track2(&b, "12345678901234567890123456789012345678", &err),
		==, KIO_ERR_INVALID);
	g_assert_cmpint(evolis_encode_mag_track2(&b, "1234567890123456789012345678901234567", &err),
		==, 0);
	core_bytebuf_free(&b);
}

static void test_face_panel(void)
{
	struct evolis_face *f = evolis_face_new();
	evolis_face_set(f, 0, 0, true);       /* top-left */
	evolis_face_set(f, 1015, 647, true);  /* bottom-right */
	evolis_face_set(f, 10, 647, true);    /* bottom row, column 10 */
	evolis_face_set(f, 1016, 0, true);    /* outside: ignored */
	g_assert_true(evolis_face_get(f, 0, 0));
	g_assert_false(evolis_face_get(f, 1016, 0));
	uint8_t *panel = g_malloc(EVOLIS_PANEL_K_BYTES);
	evolis_face_to_panel(f, panel);
	/* Line 0 = column 0: face row 0 is the last dot (j = 647 = byte 80, bit 0x01). */
	g_assert_cmphex(panel[80], ==, 0x01);
	/* Line 10: face row 647 is dot 0, MSB of the line's first byte. */
	g_assert_cmphex(panel[10 * 81], ==, 0x80);
	/* Line 1015: dot 0. */
	g_assert_cmphex(panel[1015 * 81], ==, 0x80);
	size_t ink = 0;
	for (size_t i = 0; i < EVOLIS_PANEL_K_BYTES; i++)
		ink += (size_t)__builtin_popcount(panel[i]);
	g_assert_cmpuint(ink, ==, 3);
	struct evolis_face *back = evolis_face_new();
	evolis_panel_to_face(panel, back);
	g_assert_cmpmem(back, sizeof(*back), f, sizeof(*f));

	struct core_bytebuf b = {0};
	evolis_encode_print_front_k(&b, f);
	g_assert_cmpuint(b.len, ==, 4 + 4 + 8 + EVOLIS_PANEL_K_BYTES + 1 + 4);
	g_assert_cmpmem(b.data, 16, "\x1bSs\r\x1bSr\r\x1b" "Db;k;2;", 16);
	g_assert_cmpmem(b.data + 16, EVOLIS_PANEL_K_BYTES, panel, EVOLIS_PANEL_K_BYTES);
	g_assert_cmpmem(b.data + 16 + EVOLIS_PANEL_K_BYTES, 5, "\r\x1bSe\r", 5);
	core_bytebuf_free(&b);

	const uint8_t cov[2 * 3] = {0, 200, 255, 127, 128, 0};
	struct kio_error err = {0};
	struct evolis_face *c = evolis_face_new();
	g_assert_cmpint(evolis_face_from_coverage(c, cov, 3, 2, 3, 128, &err), ==, 0);
	g_assert_cmphex(c->bits[0][0], ==, 0x60);
	g_assert_cmphex(c->bits[1][0], ==, 0x40);
	g_assert_cmpint(evolis_face_from_coverage(c, cov, 1017, 1, 2000, 128, &err), ==,
		KIO_ERR_INVALID);
	g_assert_cmpint(evolis_face_from_coverage(c, cov, 3, 2, 3, 0, &err), ==, KIO_ERR_INVALID);
	free(c);
	free(back);
	free(f);
	g_free(panel);
}

static struct evolis_reply parse_ok(const char *s)
{
	struct evolis_reply r;
	struct kio_error err = {0};
	if (evolis_reply_parse((const uint8_t *)s, strlen(s), &r, &err) != 0)
		g_error("parse \"%s\": %s", s, err.msg);
	return r;
}

static void test_reply_frame(void)
{
	size_t n;
	struct kio_error err = {0};
	g_assert_cmpint(evolis_reply_frame((const uint8_t *)"OK\rCARD\r", 8, &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 3);
	g_assert_cmpint(evolis_reply_frame((const uint8_t *)"OK", 2, &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 0);
	g_assert_cmpint(evolis_reply_frame((const uint8_t *)"5,00 Volts\0", 11, &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 11);
	g_assert_cmpint(evolis_reply_frame((const uint8_t *)"OK\n", 3, &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 3);
	g_assert_cmpint(evolis_reply_frame((const uint8_t *)"\x06" "OK", 3, &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpint(evolis_reply_frame((const uint8_t *)"\x15", 1, &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 0);
	g_assert_cmpint(evolis_reply_frame((const uint8_t *)"\x15" "F", 2, &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 2);
	g_assert_cmpint(evolis_reply_frame(NULL, 0, &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 0);
	uint8_t longer[200];
	memset(longer, 'A', sizeof(longer));
	g_assert_cmpint(evolis_reply_frame(longer, 128, &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 0);
	g_assert_cmpint(evolis_reply_frame(longer, 129, &n, &err), ==, KIO_ERR_PROTOCOL);
	longer[128] = '\r';
	g_assert_cmpint(evolis_reply_frame(longer, 200, &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 129);
}

static void test_reply_parse(void)
{
	struct evolis_reply r = parse_ok("OK\r");
	g_assert_cmpint(r.kind, ==, EVOLIS_REPLY_OK);
	g_assert_cmpint(evolis_reply_expect_ok(&r, NULL), ==, 0);
	r = parse_ok("\x06");
	g_assert_cmpint(r.kind, ==, EVOLIS_REPLY_OK);

	static const struct {
		const char *text;
		enum evolis_fault fault;
		int code;
	} errs[] = {
		{"ERR FEEDER EMPTY\r", EVOLIS_FAULT_FEEDER_EMPTY, KIO_ERR_BUSY},
		{"ERR RIBBON ENDED\r", EVOLIS_FAULT_RIBBON_OUT, KIO_ERR_BUSY},
		{"ERR MECHANICAL", EVOLIS_FAULT_JAM, KIO_ERR_BUSY},
		{"ERR CARD JAM", EVOLIS_FAULT_JAM, KIO_ERR_BUSY},
		{"ERR COVER OPEN", EVOLIS_FAULT_COVER_OPEN, KIO_ERR_BUSY},
		{"ERR BUSY", EVOLIS_FAULT_BUSY, KIO_ERR_BUSY},
		{"ERR WRITE MAGNETIC", EVOLIS_FAULT_ENCODE, KIO_ERR_BUSY},
		{"ERR COMMAND", EVOLIS_FAULT_COMMAND, KIO_ERR_PROTOCOL},
		{"ERR PARAMETER", EVOLIS_FAULT_COMMAND, KIO_ERR_PROTOCOL},
		{"ERR NEED CLEANING", EVOLIS_FAULT_UNKNOWN, KIO_ERR_BUSY},
		{"ERR", EVOLIS_FAULT_UNKNOWN, KIO_ERR_BUSY},
		{"\x15" "F", EVOLIS_FAULT_FEEDER_EMPTY, KIO_ERR_BUSY},
		{"\x15" "R", EVOLIS_FAULT_RIBBON_OUT, KIO_ERR_BUSY},
		{"\x15" "T", EVOLIS_FAULT_JAM, KIO_ERR_BUSY},
		{"\x15" "C", EVOLIS_FAULT_COVER_OPEN, KIO_ERR_BUSY},
		{"\x15" "K", EVOLIS_FAULT_ENCODE, KIO_ERR_BUSY},
		{"\x15" "D", EVOLIS_FAULT_ENCODE, KIO_ERR_BUSY},
		{"\x15" "W", EVOLIS_FAULT_ENCODE, KIO_ERR_BUSY},
		{"\x15" "1", EVOLIS_FAULT_COMMAND, KIO_ERR_PROTOCOL},
		{"\x15" "2", EVOLIS_FAULT_COMMAND, KIO_ERR_PROTOCOL},
		{"\x15" "Z", EVOLIS_FAULT_UNKNOWN, KIO_ERR_BUSY},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(errs); i++) {
		r = parse_ok(errs[i].text);
		g_assert_cmpint(r.kind, ==, EVOLIS_REPLY_ERROR);
		g_assert_cmpint(r.fault, ==, errs[i].fault);
		struct kio_error err = {0};
		g_assert_cmpint(evolis_reply_expect_ok(&r, &err), ==, errs[i].code);
		g_assert_nonnull(strstr(err.msg, evolis_fault_name(errs[i].fault)));
	}
	r = parse_ok("ERRATIC");
	g_assert_cmpint(r.kind, ==, EVOLIS_REPLY_VALUE);
	g_assert_cmpint(evolis_reply_expect_ok(&r, NULL), ==, KIO_ERR_PROTOCOL);

	struct evolis_reply bad;
	struct kio_error err = {0};
	g_assert_cmpint(evolis_reply_parse((const uint8_t *)"\r", 1, &bad, &err), ==, KIO_ERR_PROTOCOL);
	g_assert_cmpint(evolis_reply_parse((const uint8_t *)"", 0, &bad, &err), ==, KIO_ERR_PROTOCOL);
	g_assert_cmpint(evolis_reply_parse((const uint8_t *)"O\x01K", 3, &bad, &err), ==,
		KIO_ERR_PROTOCOL);
	g_assert_cmpint(evolis_reply_parse((const uint8_t *)"OK\xff", 3, &bad, &err), ==,
		KIO_ERR_PROTOCOL);
	g_assert_cmpint(evolis_reply_parse((const uint8_t *)"\x15", 1, &bad, &err), ==,
		KIO_ERR_PROTOCOL);
	g_assert_cmpint(evolis_reply_parse((const uint8_t *)"\x06x", 2, &bad, &err), ==,
		KIO_ERR_PROTOCOL);
	uint8_t longer[130];
	memset(longer, 'A', sizeof(longer));
	g_assert_cmpint(evolis_reply_parse(longer, 129, &bad, &err), ==, KIO_ERR_PROTOCOL);
	g_assert_cmpint(evolis_reply_parse(longer, 128, &bad, &err), ==, 0);
	g_assert_cmpuint(strlen(bad.text), ==, 128);

	for (int f = 0; f < EVOLIS_FAULT_COUNT; f++)
		g_assert_nonnull(evolis_fault_name((enum evolis_fault)f));
	g_assert_cmpstr(evolis_fault_name(EVOLIS_FAULT_COUNT), ==, "invalid");
}

static void test_typed_values(void)
{
	uint32_t v = 0;
	struct evolis_reply r = parse_ok("1234\r");
	g_assert_cmpint(evolis_reply_counter(&r, &v, NULL), ==, 0);
	g_assert_cmpuint(v, ==, 1234);
	r = parse_ok("999999999");
	g_assert_cmpint(evolis_reply_counter(&r, &v, NULL), ==, 0);
	g_assert_cmpuint(v, ==, 999999999);
	r = parse_ok("1000000000");
	g_assert_cmpint(evolis_reply_counter(&r, &v, NULL), ==, KIO_ERR_PROTOCOL);
	r = parse_ok("12a");
	g_assert_cmpint(evolis_reply_counter(&r, &v, NULL), ==, KIO_ERR_PROTOCOL);
	r = parse_ok("OK");
	g_assert_cmpint(evolis_reply_counter(&r, &v, NULL), ==, KIO_ERR_PROTOCOL);

	int mv = -1;
	r = parse_ok("5,00 Volts\r");
	g_assert_cmpint(evolis_reply_volts(&r, &mv, NULL), ==, 0);
	g_assert_cmpint(mv, ==, 5000);
	g_assert_true(evolis_sensor_high(mv));
	r = parse_ok("0,00 Volts");
	g_assert_cmpint(evolis_reply_volts(&r, &mv, NULL), ==, 0);
	g_assert_cmpint(mv, ==, 0);
	g_assert_false(evolis_sensor_high(mv));
	r = parse_ok("4.91 Volts");
	g_assert_cmpint(evolis_reply_volts(&r, &mv, NULL), ==, 0);
	g_assert_cmpint(mv, ==, 4910);
	r = parse_ok("0,2 Volts");
	g_assert_cmpint(evolis_reply_volts(&r, &mv, NULL), ==, KIO_ERR_PROTOCOL);
	r = parse_ok("5,00 Volt");
	g_assert_cmpint(evolis_reply_volts(&r, &mv, NULL), ==, KIO_ERR_PROTOCOL);

	static const struct {
		const char *text;
		enum evolis_card_position pos;
	} pos[] = {
		{"OK", EVOLIS_CARD_NONE}, {"NO CARD", EVOLIS_CARD_NONE}, {"CARD", EVOLIS_CARD_PRINT},
		{"ERR CARD", EVOLIS_CARD_PRINT}, {"SMART CARD", EVOLIS_CARD_CONTACT},
		{"CONTACTLESS CARD", EVOLIS_CARD_CONTACTLESS},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(pos); i++) {
		enum evolis_card_position p = (enum evolis_card_position)-1;
		r = parse_ok(pos[i].text);
		g_assert_cmpint(evolis_reply_card_position(&r, &p, NULL), ==, 0);
		g_assert_cmpint(p, ==, pos[i].pos);
	}
	enum evolis_card_position p;
	r = parse_ok("CARDS");
	g_assert_cmpint(evolis_reply_card_position(&r, &p, NULL), ==, KIO_ERR_PROTOCOL);

	g_assert_cmpint(evolis_ribbon_state(false, 500, 50), ==, EVOLIS_FAULT_NONE);
	g_assert_cmpint(evolis_ribbon_state(false, 50, 50), ==, EVOLIS_FAULT_RIBBON_LOW);
	g_assert_cmpint(evolis_ribbon_state(false, 0, 50), ==, EVOLIS_FAULT_RIBBON_OUT);
	g_assert_cmpint(evolis_ribbon_state(true, 500, 50), ==, EVOLIS_FAULT_RIBBON_OUT);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/evolis/encode/commands", test_commands);
	g_test_add_func("/evolis/encode/face-panel", test_face_panel);
	g_test_add_func("/evolis/reply/frame", test_reply_frame);
	g_test_add_func("/evolis/reply/parse", test_reply_parse);
	g_test_add_func("/evolis/reply/typed", test_typed_values);
	return g_test_run();
}
