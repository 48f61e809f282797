/* Byte-exact tests of the eSSP layer: GA138's own frames, CRC and stuffing edges, the
 * stream decoder at every split, the sequence-bit rule, builders and reply parsers. */
#include <glib.h>
#include <string.h>

#include "essp-test-util.h"

/* ---- Frames from GA138 (and the NV9USB trace in research §1.1): decode and re-encode ---- */

static const char *const manual_frames[] = {
	"7F 80 01 11 65 82",             /* SYNC */
	"7F 80 01 F0 23 80",             /* OK */
	"7F 80 01 01 06 02",             /* RESET */
	"7F 80 02 06 08 03 94",          /* HOST PROTOCOL VERSION 8 */
	"7F 80 02 06 09 06 14",          /* HOST PROTOCOL VERSION 9 */
	"7F 80 01 F8 10 00",             /* FAIL */
	"7F 80 01 F5 3D 80",             /* COMMAND CANNOT BE PROCESSED */
	"7F 80 01 07 12 02",             /* POLL */
	"7F 80 04 F0 EE 01 EB B9 48",    /* credit ch1 + stacked */
	"7F 80 03 F0 EF 00 CF CA",       /* read, not validated */
	"7F 80 03 F0 EF 03 C5 CA",       /* ch3 in escrow */
	"7F 80 01 0C 2B 82",             /* GET SERIAL */
	"7F 80 05 F0 00 1C 96 2C D4 97", /* serial 0x001C962C */
	"7F 80 03 02 07 00 2B B6",       /* SET INHIBITS 1-3 */
	"7F 80 03 02 FF FF 25 A4",       /* SET INHIBITS all */
	"7F 80 01 18 53 82",             /* HOLD */
	"7F 80 01 57 F2 03",             /* EVENT ACK */
	"7F 00 01 07 11 88",             /* POLL, seq 0 */
	"7F 80 03 02 7F 7F 00 2E 26",    /* 0x7F in DATA */
	"7F 80 03 F0 EE 7F 7F CD CD",    /* credit ch 0x7F */
	"7F 00 01 11 66 08",             /* NV9USB trace: SYNC seq 0 */
	"7F 00 01 F0 20 0A",
	"7F 80 01 09 35 82",             /* DISABLE */
	"7F 80 01 0A 3F 82",             /* ENABLE */
	"7F 80 01 03 09 82",             /* DISPLAY ON */
	"7F 80 01 04 18 02",             /* DISPLAY OFF */
	"7F 80 01 05 1D 82",             /* SETUP REQUEST */
	"7F 80 01 08 30 02",             /* REJECT */
	"7F 80 01 0D 2E 02",             /* UNIT DATA */
	"7F 80 01 0E 24 02",             /* CHANNEL VALUE REQUEST */
	"7F 80 01 17 71 82",             /* LAST REJECT CODE */
	"7F 80 02 F0 08 0C 20",          /* last reject: by host */
	"7F 80 01 59 D5 83",             /* RESET COUNTERS */
	"7F 80 09 4A C5 05 8F 3A 00 00 00 00 B2 73", /* SET GENERATOR 982451653 */
	"7F 80 09 4B 8D A6 13 00 00 00 00 00 6C F6", /* SET MODULUS 1287821 */
	"7F 80 09 4C 79 C8 9C E2 DE 06 00 00 9D 52", /* REQUEST KEY EXCHANGE */
	"7F 80 03 F0 EE 04 D7 CC",       /* credit ch4 */
	"7F 80 02 F0 ED 51 A2",          /* rejecting */
	"7F 80 02 F0 EC 54 22",          /* rejected */
	"7F 80 02 F0 EB 45 A2",          /* stacked */
	"7F 80 02 F0 E9 4A 22",          /* unsafe jam */
	"7F 80 02 F0 E8 4F A2",          /* disabled */
	"7F 80 03 F0 E6 02 C0 7C",       /* fraud ch2 */
	"7F 80 02 F0 E7 6D A2",          /* stacker full */
	"7F 80 03 F0 E1 00 CC 6E",       /* cleared from front, unknown */
	"7F 80 03 F0 E2 02 C3 E4",       /* cleared into cashbox ch2 */
	"7F 80 02 F0 E3 76 22",          /* cashbox removed */
	"7F 80 02 F0 E4 67 A2",          /* cashbox replaced */
	"7F 80 02 F0 E5 62 22",          /* barcode validated */
	"7F 80 02 F0 D1 D9 A2",          /* barcode ack */
	"7F 80 02 F0 E0 7C 22",          /* note path open */
	"7F 80 02 F0 B5 82 23",          /* channel disable */
	"7F 80 02 F0 B6 88 23",          /* initialising */
	"7F 80 03 F0 A8 08 F9 58",       /* ticket printing error: jam */
	"7F 80 03 F0 F1 F8 DC 0C",       /* GA138's "reset + disabled" (doc error: F8) */
	"7F 80 17 F0 00 30 31 30 30 47 42 50 00 00 01 03 05 0A 14 02 02 02 40 00 00 05 61 81",
	"7F 80 0D F0 00 30 33 30 30 45 55 52 01 00 00 07 01 85",
	"7F 80 09 F0 07 05 0A 00 14 00 32 64 BC DA",
	"7F 80 09 60 67 45 23 01 67 45 23 01 BF 6F", /* SET FIXED KEY 0x0123456701234567 */
};

static void test_manual_frames(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(manual_frames); i++) {
		uint8_t wire[ESSP_WIRE_MAX], again[ESSP_WIRE_MAX];
		struct essp_frame f;
		size_t n = hex_bytes(manual_frames[i], wire, sizeof(wire));
		decode_one(wire, n, &f);
		size_t m = 0;
		g_assert_cmpint(essp_frame_encode(f.seqid, f.data, f.len, again, sizeof(again), &m), ==, 0);
		g_assert_cmpmem(again, m, wire, n);
	}
}

static void test_crc(void)
{
	/* SYNC: CRC over 80 01 11 is 0x8265, sent 65 82. */
	const uint8_t sync[] = {0x80, 0x01, 0x11};
	g_assert_cmphex(essp_crc16(0xFFFF, sync, sizeof(sync)), ==, 0x8265);
	g_assert_cmphex(essp_crc16(0xFFFF, NULL, 0), ==, 0xFFFF);
	/* Chained calls equal one call. */
	const uint8_t two[] = {0x80, 0x04, 0xF0, 0xEE, 0x01, 0xEB};
	uint16_t a = essp_crc16(essp_crc16(0xFFFF, two, 2), two + 2, 4);
	g_assert_cmphex(a, ==, essp_crc16(0xFFFF, two, sizeof(two)));
	g_assert_cmphex(a, ==, 0x48B9);
}

/* ---- Encoder edges ---- */

static void test_encode_stuffing(void)
{
	uint8_t out[ESSP_WIRE_MAX];
	size_t n = 0;

	/* LEN 255 of 0x7F: every DATA byte doubles. */
	uint8_t data[ESSP_DATA_MAX];
	memset(data, 0x7F, sizeof(data));
	g_assert_cmpint(essp_frame_encode(0x80, data, 255, out, sizeof(out), &n), ==, 0);
	uint16_t crc;
	{
		uint8_t raw[2 + 255];
		raw[0] = 0x80;
		raw[1] = 0xFF;
		memcpy(raw + 2, data, 255);
		crc = essp_crc16(0xFFFF, raw, sizeof(raw));
	}
	size_t crc_bytes = ((crc & 0xFF) == 0x7F ? 2 : 1) + ((crc >> 8) == 0x7F ? 2 : 1);
	g_assert_cmpuint(n, ==, 1 + 1 + 1 + 510 + crc_bytes);
	g_assert_cmphex(out[0], ==, 0x7F);
	g_assert_cmphex(out[2], ==, 0xFF);
	struct essp_frame f;
	decode_one(out, n, &f);
	g_assert_cmpuint(f.len, ==, 255);
	g_assert_cmpmem(f.data, f.len, data, sizeof(data));

	/* LEN 0x7F is stuffed like data. */
	memset(data, 0x01, 127);
	g_assert_cmpint(essp_frame_encode(0x00, data, 127, out, sizeof(out), &n), ==, 0);
	g_assert_cmphex(out[2], ==, 0x7F);
	g_assert_cmphex(out[3], ==, 0x7F);
	decode_one(out, n, &f);
	g_assert_cmpuint(f.len, ==, 127);

	/* Worst case fits ESSP_WIRE_MAX: SEQ/ID 0x7F, LEN 0xFF, data all 0x7F. */
	memset(data, 0x7F, sizeof(data));
	g_assert_cmpint(essp_frame_encode(0x7F, data, 255, out, sizeof(out), &n), ==, 0);
	g_assert_cmpuint(n, <=, ESSP_WIRE_MAX);
	decode_one(out, n, &f);
	g_assert_cmphex(f.seqid, ==, 0x7F);
}

static void test_encode_errors(void)
{
	uint8_t out[ESSP_WIRE_MAX], data[256] = {0};
	size_t n = 1234;
	g_assert_cmpint(essp_frame_encode(0x80, data, 0, out, sizeof(out), &n), ==, KIO_ERR_INVALID);
	g_assert_cmpint(essp_frame_encode(0x80, data, 256, out, sizeof(out), &n), ==, KIO_ERR_INVALID);
	/* SYNC needs 6 bytes; every shorter buffer fails without writing past cap. */
	const uint8_t sync = ESSP_CMD_SYNC;
	for (size_t cap = 1; cap < 6; cap++) {
		uint8_t *small = g_malloc(cap);
		g_assert_cmpint(essp_frame_encode(0x80, &sync, 1, small, cap, &n), ==, KIO_ERR_INVALID);
		g_free(small);
	}
	g_assert_cmpuint(n, ==, 1234);
	g_assert_cmpint(essp_frame_encode(0x80, &sync, 1, out, 6, &n), ==, 0);
	g_assert_cmpuint(n, ==, 6);
}

/* ---- Stream decoder ---- */

static void test_decoder_every_split(void)
{
	static const char *const frames[] = {
		"7F 80 03 F0 EE 7F 7F CD CD",
		"7F 80 03 02 7F 7F 00 2E 26",
		"7F 80 17 F0 00 30 31 30 30 47 42 50 00 00 01 03 05 0A 14 02 02 02 40 00 00 05 61 81",
	};
	for (size_t k = 0; k < G_N_ELEMENTS(frames); k++) {
		uint8_t wire[64];
		size_t n = hex_bytes(frames[k], wire, sizeof(wire));
		struct essp_frame want;
		decode_one(wire, n, &want);

		for (size_t split = 0; split <= n; split++) {
			struct essp_decoder d;
			struct essp_frame f;
			size_t used = 0;
			essp_decoder_init(&d);
			g_assert_cmpint(essp_decoder_feed(&d, wire, split, &used, &f), ==,
					split == n ? ESSP_DEC_FRAME : ESSP_DEC_MORE);
			g_assert_cmpuint(used, ==, split);
			if (split < n) {
				g_assert_true(split == 0 || essp_decoder_busy(&d));
				g_assert_cmpint(essp_decoder_feed(&d, wire + split, n - split, &used, &f), ==,
						ESSP_DEC_FRAME);
				g_assert_cmpuint(used, ==, n - split);
			}
			g_assert_cmphex(f.seqid, ==, want.seqid);
			g_assert_cmpmem(f.data, f.len, want.data, want.len);
			g_assert_false(essp_decoder_busy(&d));
		}
		/* One byte at a time. */
		struct essp_decoder d;
		struct essp_frame f;
		size_t used;
		essp_decoder_init(&d);
		for (size_t i = 0; i < n; i++)
			g_assert_cmpint(essp_decoder_feed(&d, wire + i, 1, &used, &f), ==,
					i + 1 == n ? ESSP_DEC_FRAME : ESSP_DEC_MORE);
		g_assert_cmpmem(f.data, f.len, want.data, want.len);
		g_assert_cmpuint(d.frames, ==, 1);
	}
}

static void test_decoder_garbage_and_pairs(void)
{
	uint8_t wire[128];
	size_t n = hex_bytes("00 11 F0 23 80 7F 80 01 F0 23 80 55 AA 7F 80 03 F0 EF 03 C5 CA", wire, sizeof(wire));
	struct essp_decoder d;
	struct essp_frame f;
	size_t used, off = 0;
	essp_decoder_init(&d);

	g_assert_cmpint(essp_decoder_feed(&d, wire, n, &used, &f), ==, ESSP_DEC_FRAME);
	g_assert_cmpuint(used, ==, 11);
	g_assert_cmpuint(f.len, ==, 1);
	g_assert_cmphex(f.data[0], ==, 0xF0);
	off += used;
	g_assert_cmpint(essp_decoder_feed(&d, wire + off, n - off, &used, &f), ==, ESSP_DEC_FRAME);
	off += used;
	g_assert_cmpuint(off, ==, n);
	g_assert_cmpuint(f.len, ==, 3);
	g_assert_cmphex(f.data[2], ==, 0x03);
	g_assert_cmpuint(d.skipped, ==, 5 + 2);
	g_assert_cmpuint(d.frames, ==, 2);
	g_assert_cmpuint(d.crc_errors, ==, 0);
}

static void test_decoder_restart(void)
{
	/* A frame cut short by a new STX: "7F 80 03 F0" then a whole OK frame. */
	uint8_t wire[32];
	size_t n = hex_bytes("7F 80 03 F0 7F 80 01 F0 23 80", wire, sizeof(wire));
	struct essp_decoder d;
	struct essp_frame f;
	size_t used;
	essp_decoder_init(&d);
	g_assert_cmpint(essp_decoder_feed(&d, wire, n, &used, &f), ==, ESSP_DEC_FRAME);
	g_assert_cmpuint(used, ==, n);
	g_assert_cmpuint(f.len, ==, 1);
	g_assert_cmphex(f.data[0], ==, 0xF0);
	g_assert_cmpuint(d.restarts, ==, 1);

	/* Two STX in a row at the start read as one stuffed 0x7F SEQ/ID, as GA138 implies. */
	n = hex_bytes("7F 7F 7F 01 F0", wire, sizeof(wire));
	essp_decoder_init(&d);
	g_assert_cmpint(essp_decoder_feed(&d, wire, n, &used, &f), ==, ESSP_DEC_MORE);
	g_assert_cmpuint(d.pos, ==, 3);
	g_assert_cmphex(d.buf[0], ==, 0x7F);
}

static void test_decoder_bad_crc(void)
{
	uint8_t wire[32];
	size_t n = hex_bytes("7F 80 01 F0 23 81 7F 80 01 F0 23 80", wire, sizeof(wire));
	struct essp_decoder d;
	struct essp_frame f;
	size_t used;
	essp_decoder_init(&d);
	g_assert_cmpint(essp_decoder_feed(&d, wire, n, &used, &f), ==, ESSP_DEC_BAD_CRC);
	g_assert_cmpuint(used, ==, 6);
	g_assert_cmpuint(d.crc_errors, ==, 1);
	g_assert_cmpint(essp_decoder_feed(&d, wire + used, n - used, &used, &f), ==, ESSP_DEC_FRAME);
	g_assert_cmpuint(d.frames, ==, 1);

	/* Every single-bit flip of a frame's SEQ/ID..CRC is caught or changes the framing. */
	uint8_t good[16];
	size_t gn = hex_bytes("7F 80 04 F0 EE 01 EB B9 48", good, sizeof(good));
	for (size_t i = 1; i < gn; i++) {
		for (int bit = 0; bit < 8; bit++) {
			uint8_t bad[16];
			memcpy(bad, good, gn);
			bad[i] ^= (uint8_t)(1 << bit);
			essp_decoder_init(&d);
			enum essp_dec_result r = essp_decoder_feed(&d, bad, gn, &used, &f);
			g_assert_cmpint(r, !=, ESSP_DEC_FRAME);
		}
	}
}

static void test_decoder_truncated(void)
{
	uint8_t wire[16];
	size_t n = hex_bytes("7F 80 04 F0 EE 01 EB B9 48", wire, sizeof(wire));
	for (size_t cut = 0; cut < n; cut++) {
		struct essp_decoder d;
		struct essp_frame f;
		size_t used;
		uint8_t *exact = g_memdup2(wire, cut ? cut : 1);
		essp_decoder_init(&d);
		g_assert_cmpint(essp_decoder_feed(&d, exact, cut, &used, &f), ==, ESSP_DEC_MORE);
		g_assert_cmpuint(used, ==, cut);
		g_assert_cmpint(essp_decoder_busy(&d), ==, cut > 0);
		g_free(exact);
	}
}

/* ---- Sequence-bit rule ---- */

static void test_seq_rule(void)
{
	struct essp_seq s;
	struct essp_packet sync, poll, retry;
	struct essp_cmd c;
	struct essp_frame reply;
	struct kio_error err = {0};
	uint8_t want[16];

	essp_seq_init(&s, 0);
	essp_cmd_sync(&c);
	g_assert_cmpint(essp_seq_prepare(&s, &c, &sync), ==, 0);
	g_assert_cmpmem(sync.bytes, sync.len, want, hex_bytes("7F 80 01 11 65 82", want, sizeof(want)));

	/* A reply with the other flag is not ours: flag unchanged, error says so. */
	reply = (struct essp_frame){.seqid = 0x00, .len = 1, .data = {0xF0}};
	g_assert_cmpint(essp_seq_on_reply(&s, &sync, &reply, &err), ==, KIO_ERR_PROTOCOL);
	g_assert_nonnull(strstr(err.msg, "SYNC"));
	g_assert_true(s.flag);

	reply.seqid = 0x80;
	g_assert_cmpint(essp_seq_on_reply(&s, &sync, &reply, &err), ==, 0);
	g_assert_false(s.flag);

	essp_cmd_poll(&c);
	g_assert_cmpint(essp_seq_prepare(&s, &c, &poll), ==, 0);
	g_assert_cmpmem(poll.bytes, poll.len, want, hex_bytes("7F 00 01 07 11 88", want, sizeof(want)));
	/* Timeout: the retry is the kept packet, byte-identical; nothing toggled meanwhile. */
	retry = poll;
	g_assert_cmpmem(retry.bytes, retry.len, poll.bytes, poll.len);
	reply.seqid = 0x00;
	g_assert_cmpint(essp_seq_on_reply(&s, &poll, &reply, NULL), ==, 0);
	g_assert_true(s.flag);
	g_assert_cmpint(essp_seq_prepare(&s, &c, &poll), ==, 0);
	g_assert_cmpmem(poll.bytes, poll.len, want, hex_bytes("7F 80 01 07 12 02", want, sizeof(want)));

	/* SYNC mid-session forces the flag set again whatever it was. */
	reply.seqid = 0x80;
	g_assert_cmpint(essp_seq_on_reply(&s, &poll, &reply, NULL), ==, 0);
	g_assert_false(s.flag);
	essp_cmd_sync(&c);
	g_assert_cmpint(essp_seq_prepare(&s, &c, &sync), ==, 0);
	g_assert_cmphex(sync.seqid, ==, 0x80);

	/* The address goes in the low bits. */
	essp_seq_init(&s, 0x10);
	essp_cmd_poll(&c);
	g_assert_cmpint(essp_seq_prepare(&s, &c, &poll), ==, 0);
	g_assert_cmphex(poll.seqid, ==, 0x90);
	c.len = 0;
	g_assert_cmpint(essp_seq_prepare(&s, &c, &poll), ==, KIO_ERR_INVALID);
}

/* ---- Command builders ---- */

typedef void (*simple_builder)(struct essp_cmd *c);

static void expect_cmd(const struct essp_cmd *c, const char *hex_frame)
{
	uint8_t want[32], got[ESSP_WIRE_MAX];
	size_t wn = hex_bytes(hex_frame, want, sizeof(want)), gn = 0;
	g_assert_cmpint(essp_frame_encode(0x80, c->data, c->len, got, sizeof(got), &gn), ==, 0);
	g_assert_cmpmem(got, gn, want, wn);
}

static void test_builders(void)
{
	static const struct {
		simple_builder fn;
		const char *frame;
		const char *name;
	} simple[] = {
		{essp_cmd_sync, "7F 80 01 11 65 82", "SYNC"},
		{essp_cmd_reset, "7F 80 01 01 06 02", "RESET"},
		{essp_cmd_setup_request, "7F 80 01 05 1D 82", "SETUP REQUEST"},
		{essp_cmd_enable, "7F 80 01 0A 3F 82", "ENABLE"},
		{essp_cmd_disable, "7F 80 01 09 35 82", "DISABLE"},
		{essp_cmd_poll, "7F 80 01 07 12 02", "POLL"},
		{essp_cmd_event_ack, "7F 80 01 57 F2 03", "EVENT ACK"},
		{essp_cmd_hold, "7F 80 01 18 53 82", "HOLD"},
		{essp_cmd_reject, "7F 80 01 08 30 02", "REJECT"},
		{essp_cmd_last_reject_code, "7F 80 01 17 71 82", "LAST REJECT CODE"},
		{essp_cmd_get_serial, "7F 80 01 0C 2B 82", "GET SERIAL NUMBER"},
		{essp_cmd_unit_data, "7F 80 01 0D 2E 02", "UNIT DATA"},
		{essp_cmd_channel_value_request, "7F 80 01 0E 24 02", "CHANNEL VALUE REQUEST"},
		{essp_cmd_display_on, "7F 80 01 03 09 82", "DISPLAY ON"},
		{essp_cmd_display_off, "7F 80 01 04 18 02", "DISPLAY OFF"},
	};
	struct essp_cmd c;
	for (size_t i = 0; i < G_N_ELEMENTS(simple); i++) {
		simple[i].fn(&c);
		g_assert_cmpuint(c.len, ==, 1);
		expect_cmd(&c, simple[i].frame);
		g_assert_cmpstr(essp_cmd_name(c.data[0]), ==, simple[i].name);
	}

	/* No GA138 example: code and length, and a frame that decodes back. */
	essp_cmd_poll_with_ack(&c);
	g_assert_cmpuint(c.len, ==, 1);
	g_assert_cmphex(c.data[0], ==, 0x56);
	essp_cmd_get_counters(&c);
	g_assert_cmpuint(c.len, ==, 1);
	g_assert_cmphex(c.data[0], ==, 0x58);
	expect_cmd(&c, "7F 80 01 58 D0 03");

	g_assert_cmpint(essp_cmd_host_protocol_version(&c, 8), ==, 0);
	expect_cmd(&c, "7F 80 02 06 08 03 94");
	g_assert_cmpint(essp_cmd_host_protocol_version(&c, 9), ==, KIO_ERR_INVALID);
	g_assert_cmpint(essp_cmd_host_protocol_version(&c, 3), ==, KIO_ERR_INVALID);

	essp_cmd_set_inhibits(&c, 0x0007);
	expect_cmd(&c, "7F 80 03 02 07 00 2B B6");
	essp_cmd_set_inhibits(&c, 0xFFFF);
	expect_cmd(&c, "7F 80 03 02 FF FF 25 A4");
	essp_cmd_set_inhibits(&c, 0x007F);
	expect_cmd(&c, "7F 80 03 02 7F 7F 00 2E 26");

	essp_cmd_set_generator(&c, 982451653);
	expect_cmd(&c, "7F 80 09 4A C5 05 8F 3A 00 00 00 00 B2 73");
	essp_cmd_set_modulus(&c, 1287821);
	expect_cmd(&c, "7F 80 09 4B 8D A6 13 00 00 00 00 00 6C F6");
	essp_cmd_request_key_exchange(&c, 7554354432121ull);
	expect_cmd(&c, "7F 80 09 4C 79 C8 9C E2 DE 06 00 00 9D 52");

	g_assert_cmpstr(essp_cmd_name(0x57), ==, "EVENT ACK");
	g_assert_cmpstr(essp_cmd_name(0xEE), ==, "UNKNOWN");
}

/* ---- Generic responses ---- */

static void test_generic(void)
{
	static const struct {
		uint8_t code;
		int err;
	} map[] = {
		{0xF0, 0},
		{0xF2, KIO_ERR_UNSUPPORTED},
		{0xF3, KIO_ERR_INVALID},
		{0xF4, KIO_ERR_INVALID},
		{0xF5, KIO_ERR_BUSY},
		{0xF6, KIO_ERR_IO},
		{0xF8, KIO_ERR_IO},
		{0xFA, KIO_ERR_PROTOCOL},
		{0xF1, KIO_ERR_PROTOCOL},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(map); i++) {
		struct kio_error err = {0};
		g_assert_cmpint(essp_resp_to_err(map[i].code), ==, map[i].err);
		g_assert_cmpint(essp_reply_check(&map[i].code, 1, &err), ==, map[i].err);
		g_assert_cmpint(essp_resp_known(map[i].code), ==, map[i].code != 0xF1);
		if (map[i].err)
			g_assert_nonnull(strstr(err.msg, essp_resp_name(map[i].code)));
	}
	g_assert_cmpstr(essp_resp_name(0xFA), ==, "KEY NOT SET");
	g_assert_cmpint(essp_reply_check(NULL, 0, NULL), ==, KIO_ERR_PROTOCOL);

	/* GA138's Slave Reset example carries F1 where the generic response belongs. */
	uint8_t d[ESSP_DATA_MAX];
	size_t n = frame_data("7F 80 01 F1 26 00", d);
	g_assert_cmpint(essp_reply_check(d, n, NULL), ==, KIO_ERR_PROTOCOL);
}

/* ---- SETUP REQUEST ---- */

/* A v6+ AED reply as an NV9USB would send it: multiplier 5, then expanded values. */
static size_t aed_setup_v7(uint8_t *d)
{
	static const uint32_t aed[] = {5, 10, 20, 50, 100, 200, 500, 1000};
	size_t n = 0;
	d[n++] = 0xF0;
	d[n++] = 0x00;
	memcpy(d + n, "0334AED", 7);
	n += 7;
	d[n++] = 0; d[n++] = 0; d[n++] = 5;
	d[n++] = 8;
	for (int i = 0; i < 8; i++)
		d[n++] = (uint8_t)(aed[i] / 5);
	for (int i = 0; i < 8; i++)
		d[n++] = 2;
	d[n++] = 0; d[n++] = 0; d[n++] = 100;
	d[n++] = 7;
	for (int i = 0; i < 8; i++) {
		memcpy(d + n, "AED", 3);
		n += 3;
	}
	for (int i = 0; i < 8; i++) {
		d[n++] = (uint8_t)aed[i];
		d[n++] = (uint8_t)(aed[i] >> 8);
		d[n++] = 0;
		d[n++] = 0;
	}
	return n;
}

static void test_setup(void)
{
	struct essp_setup s;
	struct kio_error err = {0};
	uint8_t d[ESSP_DATA_MAX];
	int64_t fils = 0;

	/* GA138's GBP 5/10/20 example, protocol 5. Its real value multiplier reads 40 00 00:
	 * big-endian as the ITL SDK and every other multiplier, so 0x400000 (a doc oddity). */
	size_t n = frame_data("7F 80 17 F0 00 30 31 30 30 47 42 50 00 00 01 03 05 0A 14 02 02 02 40 00 00 05 61 81",
			      d);
	g_assert_cmpint(essp_setup_parse(d, n, &s, &err), ==, 0);
	g_assert_cmpuint(s.unit_type, ==, 0);
	g_assert_cmpstr(s.firmware, ==, "0100");
	g_assert_cmpstr(s.country, ==, "GBP");
	g_assert_cmpuint(s.value_multiplier, ==, 1);
	g_assert_cmpuint(s.n_channels, ==, 3);
	g_assert_cmpuint(s.value[0], ==, 5);
	g_assert_cmpuint(s.value[1], ==, 10);
	g_assert_cmpuint(s.value[2], ==, 20);
	g_assert_cmpuint(s.real_value_multiplier, ==, 0x400000);
	g_assert_cmpuint(s.protocol_version, ==, 5);
	g_assert_false(s.expanded);
	g_assert_cmpstr(s.channel_country[1], ==, "GBP");
	g_assert_cmpint(essp_setup_channel_fils(&s, 1, &fils, &err), ==, KIO_ERR_PROTOCOL);
	g_assert_nonnull(strstr(err.msg, "GBP"));

	/* AED at v7: fils from the expanded values × 100. */
	n = aed_setup_v7(d);
	g_assert_cmpint(essp_setup_parse(d, n, &s, &err), ==, 0);
	g_assert_true(s.expanded);
	g_assert_cmpuint(s.protocol_version, ==, 7);
	static const int64_t want[] = {500, 1000, 2000, 5000, 10000, 20000, 50000, 100000};
	for (uint8_t ch = 1; ch <= 8; ch++) {
		g_assert_cmpint(essp_setup_channel_fils(&s, ch, &fils, &err), ==, 0);
		g_assert_cmpint(fils, ==, want[ch - 1]);
	}
	g_assert_cmpint(essp_setup_channel_fils(&s, 0, &fils, NULL), ==, KIO_ERR_NOT_FOUND);
	g_assert_cmpint(essp_setup_channel_fils(&s, 9, &fils, NULL), ==, KIO_ERR_NOT_FOUND);

	/* The expanded value wins over the short one: 1000 AED does not fit a byte. */
	d[12 + 8 - 1 + 1] = 0; /* short value of channel 8 */
	g_assert_cmpint(essp_setup_parse(d, n, &s, NULL), ==, 0);
	g_assert_cmpuint(s.value[7], ==, 1000);

	/* Wrong sizes, counts, types and scales. */
	for (size_t cut = 0; cut < n; cut++)
		g_assert_cmpint(essp_setup_parse(d, cut, &s, NULL), <, 0);
	g_assert_cmpint(essp_setup_parse(d, n + 1, &s, NULL), ==, KIO_ERR_PROTOCOL);
	d[12] = 0;
	g_assert_cmpint(essp_setup_parse(d, n, &s, NULL), ==, KIO_ERR_PROTOCOL);
	d[12] = 17;
	g_assert_cmpint(essp_setup_parse(d, n, &s, NULL), ==, KIO_ERR_PROTOCOL);
	n = aed_setup_v7(d);
	d[1] = 0x03;
	g_assert_cmpint(essp_setup_parse(d, n, &s, &err), ==, KIO_ERR_UNSUPPORTED);
	n = aed_setup_v7(d);
	d[12 + 1 + 16 + 2] = 1; /* real value multiplier 1 */
	g_assert_cmpint(essp_setup_parse(d, n, &s, NULL), ==, 0);
	g_assert_cmpint(essp_setup_channel_fils(&s, 1, &fils, &err), ==, KIO_ERR_PROTOCOL);
	d[0] = 0xF5;
	g_assert_cmpint(essp_setup_parse(d, n, &s, NULL), ==, KIO_ERR_BUSY);
}

static void test_setup_v4_short(void)
{
	/* The same dataset at v4: no expanded block, value = short × multiplier. */
	uint8_t d[ESSP_DATA_MAX];
	(void)aed_setup_v7(d);
	size_t n = 1 + 16 + 2 * 8;
	d[1 + 15 + 16] = 4;
	struct essp_setup s;
	int64_t fils;
	g_assert_cmpint(essp_setup_parse(d, n, &s, NULL), ==, 0);
	g_assert_false(s.expanded);
	g_assert_cmpuint(s.value[7], ==, 1000);
	g_assert_cmpint(essp_setup_channel_fils(&s, 8, &fils, NULL), ==, 0);
	g_assert_cmpint(fils, ==, 100000);
	g_assert_cmpint(essp_setup_channel_fils(&s, 3, &fils, NULL), ==, 0);
	g_assert_cmpint(fils, ==, 2000);
}

/* ---- Other replies ---- */

static void test_serial_unit_values(void)
{
	uint8_t d[ESSP_DATA_MAX];
	struct kio_error err = {0};
	uint32_t serial = 0;
	size_t n = frame_data("7F 80 05 F0 00 1C 96 2C D4 97", d);
	g_assert_cmpint(essp_serial_parse(d, n, &serial, &err), ==, 0);
	g_assert_cmpuint(serial, ==, 1873452);
	g_assert_cmpint(essp_serial_parse(d, n - 1, &serial, &err), ==, KIO_ERR_PROTOCOL);
	g_assert_nonnull(strstr(err.msg, "SERIAL"));

	/* GA138's UNIT DATA example: EUR, fw 3.00, protocol 7. Its multiplier bytes 01 00 00
	 * disagree with SETUP REQUEST's big-endian 00 00 01 (doc inconsistency); read as BE. */
	struct essp_unit_data u;
	n = frame_data("7F 80 0D F0 00 30 33 30 30 45 55 52 01 00 00 07 01 85", d);
	g_assert_cmpint(essp_unit_data_parse(d, n, &u, NULL), ==, 0);
	g_assert_cmpuint(u.unit_type, ==, 0);
	g_assert_cmpstr(u.firmware, ==, "0300");
	g_assert_cmpstr(u.country, ==, "EUR");
	g_assert_cmpuint(u.value_multiplier, ==, 0x010000);
	g_assert_cmpuint(u.protocol_version, ==, 7);
	g_assert_cmpint(essp_unit_data_parse(d, 12, &u, NULL), ==, KIO_ERR_PROTOCOL);

	struct essp_channel_values cv;
	n = frame_data("7F 80 09 F0 07 05 0A 00 14 00 32 64 BC DA", d);
	g_assert_cmpint(essp_channel_values_parse(d, n, 5, &cv, NULL), ==, 0);
	g_assert_cmpuint(cv.n_channels, ==, 7);
	static const uint32_t v5[] = {5, 10, 0, 20, 0, 50, 100};
	for (int i = 0; i < 7; i++)
		g_assert_cmpuint(cv.value[i], ==, v5[i]);
	/* The same bytes are too short for v6, which adds 7 bytes a channel. */
	g_assert_cmpint(essp_channel_values_parse(d, n, 6, &cv, NULL), ==, KIO_ERR_PROTOCOL);

	/* GA138's v6 example shows unused channels' countries as one 00 byte each, so its
	 * length (60) does not fit the 3-bytes-a-channel layout (58): refused, not guessed. */
	n = frame_data("7F 80 3C F0 07 00 00 00 00 00 00 00 45 55 52 45 55 52 45 55 52 00 45 55 "
		       "52 45 55 52 00 45 55 52 45 55 52 05 00 00 00 0A 00 00 00 00 00 00 00 14 "
		       "00 00 00 00 00 00 00 32 00 00 00 64 00 00 00 D0 DF", d);
	g_assert_cmpuint(n, ==, 60);
	g_assert_cmpint(essp_channel_values_parse(d, n, 6, &cv, NULL), ==, KIO_ERR_PROTOCOL);

	/* A well-formed v6 reply: 2 channels AED 5 and 1000. */
	static const uint8_t v6[] = {0xF0, 2, 1, 200, 'A', 'E', 'D', 'A', 'E', 'D', 5, 0, 0, 0, 0xE8, 0x03, 0, 0};
	g_assert_cmpint(essp_channel_values_parse(v6, sizeof(v6), 7, &cv, NULL), ==, 0);
	g_assert_cmpuint(cv.value[0], ==, 5);
	g_assert_cmpuint(cv.value[1], ==, 1000);
	g_assert_cmpstr(cv.country[1], ==, "AED");
}

static void test_counters_reject_key(void)
{
	static const uint8_t ok[] = {0xF0, 5, 0x01, 0x02, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
				     0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF};
	struct essp_counters c;
	g_assert_cmpint(essp_counters_parse(ok, sizeof(ok), &c, NULL), ==, 0);
	g_assert_cmpuint(c.stacked, ==, 0x0201);
	g_assert_cmpuint(c.stored, ==, 0);
	g_assert_cmpuint(c.rejected, ==, 0xFFFFFFFFu);
	g_assert_cmpint(essp_counters_parse(ok, sizeof(ok) - 1, &c, NULL), ==, KIO_ERR_PROTOCOL);
	uint8_t four[sizeof(ok)];
	memcpy(four, ok, sizeof(ok));
	four[1] = 4;
	g_assert_cmpint(essp_counters_parse(four, 2 + 16, &c, NULL), ==, KIO_ERR_PROTOCOL);

	uint8_t d[ESSP_DATA_MAX], code = 0xAA;
	size_t n = frame_data("7F 80 02 F0 08 0C 20", d);
	g_assert_cmpint(essp_last_reject_parse(d, n, &code, NULL), ==, 0);
	g_assert_cmphex(code, ==, ESSP_REJ_BY_HOST);
	g_assert_cmpstr(essp_reject_name(code), ==, "REJECT BY HOST");
	g_assert_cmpstr(essp_reject_name(0x13), ==, "ESCROW TIME-OUT");
	g_assert_cmpstr(essp_reject_name(0x1D), ==, "UNABLE TO STACK");
	g_assert_cmpstr(essp_reject_name(0x1E), ==, "UNKNOWN");
	g_assert_cmpint(essp_last_reject_parse(d, 1, &code, NULL), ==, KIO_ERR_PROTOCOL);

	static const uint8_t key[] = {0xF0, 0x79, 0xC8, 0x9C, 0xE2, 0xDE, 0x06, 0x00, 0x00};
	uint64_t k = 0;
	g_assert_cmpint(essp_key_exchange_parse(key, sizeof(key), &k, NULL), ==, 0);
	g_assert_cmpuint(k, ==, 7554354432121ull);
	g_assert_cmpint(essp_key_exchange_parse(key, 8, &k, NULL), ==, KIO_ERR_PROTOCOL);
	static const uint8_t fail[] = {0xF8};
	g_assert_cmpint(essp_key_exchange_parse(fail, 1, &k, NULL), ==, KIO_ERR_IO);
}

/* ---- Poll events ---- */

static void test_poll_single_events(void)
{
	static const struct {
		const char *frame;
		uint8_t version, code, data;
	} cases[] = {
		{"7F 80 03 F0 EF 00 CF CA", 4, ESSP_EV_READ, 0},
		{"7F 80 03 F0 EF 03 C5 CA", 4, ESSP_EV_READ, 3},
		{"7F 80 03 F0 EE 04 D7 CC", 4, ESSP_EV_CREDIT, 4},
		{"7F 80 03 F0 EE 7F 7F CD CD", 4, ESSP_EV_CREDIT, 0x7F},
		{"7F 80 02 F0 ED 51 A2", 4, ESSP_EV_REJECTING, 0},
		{"7F 80 02 F0 EC 54 22", 4, ESSP_EV_REJECTED, 0},
		{"7F 80 02 F0 EB 45 A2", 4, ESSP_EV_STACKED, 0},
		{"7F 80 02 F0 E9 4A 22", 4, ESSP_EV_UNSAFE_JAM, 0},
		{"7F 80 02 F0 E8 4F A2", 4, ESSP_EV_DISABLED, 0},
		{"7F 80 03 F0 E6 02 C0 7C", 4, ESSP_EV_FRAUD_ATTEMPT, 2},
		{"7F 80 02 F0 E7 6D A2", 4, ESSP_EV_STACKER_FULL, 0},
		{"7F 80 03 F0 E1 00 CC 6E", 4, ESSP_EV_CLEARED_FROM_FRONT, 0},
		{"7F 80 03 F0 E2 02 C3 E4", 5, ESSP_EV_CLEARED_INTO_CASHBOX, 2},
		{"7F 80 02 F0 E3 76 22", 5, ESSP_EV_CASHBOX_REMOVED, 0},
		{"7F 80 02 F0 E4 67 A2", 5, ESSP_EV_CASHBOX_REPLACED, 0},
		{"7F 80 02 F0 E5 62 22", 4, ESSP_EV_BARCODE_VALIDATED, 0},
		{"7F 80 02 F0 D1 D9 A2", 4, ESSP_EV_BARCODE_ACK, 0},
		{"7F 80 02 F0 E0 7C 22", 6, ESSP_EV_NOTE_PATH_OPEN, 0},
		{"7F 80 02 F0 B5 82 23", 7, ESSP_EV_CHANNEL_DISABLE, 0},
		{"7F 80 02 F0 B6 88 23", 7, ESSP_EV_INITIALISING, 0},
		{"7F 80 03 F0 A8 08 F9 58", 6, ESSP_EV_TICKET_PRINT_ERROR, 8},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		uint8_t d[ESSP_DATA_MAX];
		size_t n = frame_data(cases[i].frame, d);
		for (uint8_t v = ESSP_PROTOCOL_MIN; v <= ESSP_PROTOCOL_MAX; v++) {
			struct essp_poll p;
			int rc = essp_poll_parse(d, n, v, &p, NULL);
			if (v < cases[i].version) {
				/* Not defined at that version: refused, not guessed. */
				g_assert_cmpint(rc, ==, KIO_ERR_PROTOCOL);
				continue;
			}
			g_assert_cmpint(rc, ==, 0);
			g_assert_cmpuint(p.n, ==, 1);
			g_assert_cmphex(p.ev[0].code, ==, cases[i].code);
			g_assert_cmphex(p.ev[0].data, ==, cases[i].data);
			g_assert_cmpstr(essp_event_name(p.ev[0].code), !=, "UNKNOWN");
		}
	}
	/* Events GA138 has no frame for. */
	static const uint8_t rest[] = {0xF0, ESSP_EV_SLAVE_RESET, ESSP_EV_STACKING, ESSP_EV_SAFE_JAM,
				       ESSP_EV_TICKET_PRINTING, ESSP_EV_TICKET_PRINTED, ESSP_EV_TICKET_IN_BEZEL_AT_STARTUP,
				       ESSP_EV_TICKET_IN_BEZEL, ESSP_EV_TICKET_PRINT_HALTED,
				       ESSP_EV_TICKET_PRINTED_TO_CASHBOX};
	struct essp_poll p;
	g_assert_cmpint(essp_poll_parse(rest, sizeof(rest), 6, &p, NULL), ==, 0);
	g_assert_cmpuint(p.n, ==, sizeof(rest) - 1);
	for (size_t i = 0; i < p.n; i++)
		g_assert_cmphex(p.ev[i].code, ==, rest[i + 1]);
}

static void test_poll_multi(void)
{
	struct essp_poll p;
	struct kio_error err = {0};
	uint8_t d[ESSP_DATA_MAX];

	/* GA138: credit ch1 and stacked in one reply. */
	size_t n = frame_data("7F 80 04 F0 EE 01 EB B9 48", d);
	g_assert_cmpint(essp_poll_parse(d, n, 4, &p, NULL), ==, 0);
	g_assert_cmpuint(p.n, ==, 2);
	g_assert_cmphex(p.ev[0].code, ==, ESSP_EV_CREDIT);
	g_assert_cmpuint(p.ev[0].data, ==, 1);
	g_assert_cmphex(p.ev[1].code, ==, ESSP_EV_STACKED);

	/* GA973 "Stacker full": credit, stacking, stacked, full in one poll. */
	static const uint8_t full[] = {0xF0, 0xEE, 0x03, 0xCC, 0xEB, 0xE7};
	g_assert_cmpint(essp_poll_parse(full, sizeof(full), 7, &p, NULL), ==, 0);
	g_assert_cmpuint(p.n, ==, 4);
	g_assert_cmphex(p.ev[0].code, ==, 0xEE);
	g_assert_cmpuint(p.ev[0].data, ==, 3);
	g_assert_cmphex(p.ev[1].code, ==, 0xCC);
	g_assert_cmphex(p.ev[2].code, ==, 0xEB);
	g_assert_cmphex(p.ev[3].code, ==, 0xE7);

	/* Power-up with a note: reset, cleared into cashbox ch 5, disabled. */
	static const uint8_t boot[] = {0xF0, 0xF1, 0xE2, 0x05, 0xE8};
	g_assert_cmpint(essp_poll_parse(boot, sizeof(boot), 5, &p, NULL), ==, 0);
	g_assert_cmpuint(p.n, ==, 3);
	g_assert_cmpuint(p.ev[1].data, ==, 5);

	/* GA138's "reset + disabled" example has F8, not E8: the rest is unparseable. */
	n = frame_data("7F 80 03 F0 F1 F8 DC 0C", d);
	g_assert_cmpint(essp_poll_parse(d, n, 7, &p, &err), ==, KIO_ERR_PROTOCOL);
	g_assert_cmpuint(p.n, ==, 1);
	g_assert_cmphex(p.ev[0].code, ==, ESSP_EV_SLAVE_RESET);
	g_assert_nonnull(strstr(err.msg, "0xf8"));
	g_assert_nonnull(strstr(err.msg, "byte 2"));

	/* Truncated event data, an event after an unknown one, empty replies. */
	static const uint8_t trunc[] = {0xF0, 0xEB, 0xEE};
	g_assert_cmpint(essp_poll_parse(trunc, sizeof(trunc), 7, &p, &err), ==, KIO_ERR_PROTOCOL);
	g_assert_cmpuint(p.n, ==, 1);
	static const uint8_t unknown[] = {0xF0, 0x42, 0xEE, 0x01};
	g_assert_cmpint(essp_poll_parse(unknown, sizeof(unknown), 7, &p, NULL), ==, KIO_ERR_PROTOCOL);
	g_assert_cmpuint(p.n, ==, 0);
	static const uint8_t only_ok[] = {0xF0};
	g_assert_cmpint(essp_poll_parse(only_ok, 1, 7, &p, NULL), ==, 0);
	g_assert_cmpuint(p.n, ==, 0);
	g_assert_cmpint(essp_poll_parse(only_ok, 0, 7, &p, NULL), ==, KIO_ERR_PROTOCOL);
	static const uint8_t keynotset[] = {0xFA};
	g_assert_cmpint(essp_poll_parse(keynotset, 1, 7, &p, NULL), ==, KIO_ERR_PROTOCOL);

	/* Versions outside what we parse. */
	g_assert_cmpint(essp_poll_parse(only_ok, 1, 9, &p, NULL), ==, KIO_ERR_UNSUPPORTED);
	g_assert_cmpint(essp_poll_parse(only_ok, 1, 3, &p, NULL), ==, KIO_ERR_UNSUPPORTED);

	/* The largest reply: 254 one-byte events. */
	uint8_t big[ESSP_DATA_MAX];
	big[0] = 0xF0;
	memset(big + 1, ESSP_EV_STACKED, sizeof(big) - 1);
	g_assert_cmpint(essp_poll_parse(big, sizeof(big), 7, &p, NULL), ==, 0);
	g_assert_cmpuint(p.n, ==, ESSP_POLL_EVENTS_MAX);
	uint8_t *too_big = g_malloc0(ESSP_DATA_MAX + 1);
	too_big[0] = 0xF0;
	memset(too_big + 1, ESSP_EV_STACKED, ESSP_DATA_MAX);
	g_assert_cmpint(essp_poll_parse(too_big, ESSP_DATA_MAX + 1, 7, &p, NULL), ==, KIO_ERR_PROTOCOL);
	g_free(too_big);
}

static void test_event_table(void)
{
	g_assert_cmpint(essp_event_data_len(ESSP_EV_CREDIT, 4), ==, 1);
	g_assert_cmpint(essp_event_data_len(ESSP_EV_STACKED, 8), ==, 0);
	g_assert_cmpint(essp_event_data_len(ESSP_EV_CLEARED_INTO_CASHBOX, 4), ==, -1);
	g_assert_cmpint(essp_event_data_len(ESSP_EV_CLEARED_INTO_CASHBOX, 5), ==, 1);
	g_assert_cmpint(essp_event_data_len(ESSP_EV_CHANNEL_DISABLE, 6), ==, -1);
	g_assert_cmpint(essp_event_data_len(0x42, 7), ==, -1);
	g_assert_cmpint(essp_event_data_len(ESSP_EV_CREDIT, 9), ==, -1);
	/* GA138 "Poll with Ack" column. */
	g_assert_true(essp_event_needs_ack(ESSP_EV_CREDIT));
	g_assert_true(essp_event_needs_ack(ESSP_EV_FRAUD_ATTEMPT));
	g_assert_true(essp_event_needs_ack(ESSP_EV_CLEARED_INTO_CASHBOX));
	g_assert_true(essp_event_needs_ack(ESSP_EV_INITIALISING));
	g_assert_false(essp_event_needs_ack(ESSP_EV_READ));
	g_assert_false(essp_event_needs_ack(ESSP_EV_CLEARED_FROM_FRONT));
	g_assert_false(essp_event_needs_ack(ESSP_EV_STACKED));
	g_assert_cmpstr(essp_event_name(ESSP_EV_CREDIT), ==, "NOTE CREDIT");
	g_assert_cmpstr(essp_event_name(0x00), ==, "UNKNOWN");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/essp/frame/manual", test_manual_frames);
	g_test_add_func("/essp/frame/crc", test_crc);
	g_test_add_func("/essp/frame/stuffing", test_encode_stuffing);
	g_test_add_func("/essp/frame/encode-errors", test_encode_errors);
	g_test_add_func("/essp/decoder/every-split", test_decoder_every_split);
	g_test_add_func("/essp/decoder/garbage", test_decoder_garbage_and_pairs);
	g_test_add_func("/essp/decoder/restart", test_decoder_restart);
	g_test_add_func("/essp/decoder/bad-crc", test_decoder_bad_crc);
	g_test_add_func("/essp/decoder/truncated", test_decoder_truncated);
	g_test_add_func("/essp/seq/rule", test_seq_rule);
	g_test_add_func("/essp/cmd/builders", test_builders);
	g_test_add_func("/essp/reply/generic", test_generic);
	g_test_add_func("/essp/reply/setup", test_setup);
	g_test_add_func("/essp/reply/setup-v4", test_setup_v4_short);
	g_test_add_func("/essp/reply/serial-unit-values", test_serial_unit_values);
	g_test_add_func("/essp/reply/counters-reject-key", test_counters_reject_key);
	g_test_add_func("/essp/poll/single", test_poll_single_events);
	g_test_add_func("/essp/poll/multi", test_poll_multi);
	g_test_add_func("/essp/poll/table", test_event_table);
	return g_test_run();
}
