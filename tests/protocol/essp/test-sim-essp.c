/* Conversations with the simulated validator through the real eSSP encoder, decoder and
 * sequence-bit helper: note acceptance, reject, hold, escrow timeout, each fault, repeats,
 * lost/duplicated/corrupted replies, and power cycles with a note in the path. */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/sim/essp/sim-essp.h"
#include "essp-test-util.h"

struct host {
	struct sim_essp *m;
	struct essp_seq seq;
	struct essp_decoder dec;
	struct essp_packet pkt; /* last command sent, for retries */
	uint64_t now;
	uint8_t version;
	int credits; /* NOTE CREDIT events seen over the whole conversation */
};

static void host_init(struct host *h, const struct sim_essp_config *cfg)
{
	struct kio_error err = {0};
	memset(h, 0, sizeof(*h));
	h->now = 1000;
	h->m = sim_essp_new(cfg, h->now, &err);
	g_assert_nonnull(h->m);
	essp_seq_init(&h->seq, 0);
	essp_decoder_init(&h->dec);
	h->version = 4;
}

static void host_free(struct host *h)
{
	sim_essp_free(h->m);
}

/* Reads one frame from the device's pending bytes; ESSP_DEC_MORE if none. */
static enum essp_dec_result host_read(struct host *h, struct essp_frame *f)
{
	uint8_t buf[ESSP_WIRE_MAX * 2];
	enum essp_dec_result r = ESSP_DEC_MORE;
	/* One byte at a time, so a second frame stays pending on the device side. */
	while (r == ESSP_DEC_MORE) {
		size_t used;
		if (sim_essp_read(h->m, buf, 1) != 1)
			break;
		r = essp_decoder_feed(&h->dec, buf, 1, &used, f);
	}
	return r;
}

/* Sends the kept packet (first try or retry) and returns what came back. */
static enum essp_dec_result host_send_kept(struct host *h, struct essp_frame *reply)
{
	g_assert_cmpint(sim_essp_write(h->m, h->pkt.bytes, h->pkt.len, h->now), ==, 0);
	return host_read(h, reply);
}

static void count_credits(struct host *h, const struct essp_frame *reply)
{
	struct essp_poll p;
	if (reply->data[0] != ESSP_RESP_OK || essp_poll_parse(reply->data, reply->len, h->version, &p, NULL))
		return;
	for (size_t i = 0; i < p.n; i++)
		h->credits += p.ev[i].code == ESSP_EV_CREDIT;
}

/* One command with a good reply; the reply's data lands in *reply. */
static void xfer(struct host *h, const struct essp_cmd *c, struct essp_frame *reply)
{
	g_assert_cmpint(essp_seq_prepare(&h->seq, c, &h->pkt), ==, 0);
	g_assert_cmpint(host_send_kept(h, reply), ==, ESSP_DEC_FRAME);
	g_assert_cmpint(essp_seq_on_reply(&h->seq, &h->pkt, reply, NULL), ==, 0);
	if (c->data[0] == ESSP_CMD_POLL || c->data[0] == ESSP_CMD_POLL_WITH_ACK)
		count_credits(h, reply);
}

static uint8_t simple_cmd(struct host *h, void (*build)(struct essp_cmd *))
{
	struct essp_cmd c;
	struct essp_frame r;
	build(&c);
	xfer(h, &c, &r);
	return r.data[0];
}

/* Polls and checks the events after F0, as a hex string ("" for none). */
static void expect_poll(struct host *h, const char *events)
{
	struct essp_cmd c;
	struct essp_frame r;
	uint8_t want[ESSP_DATA_MAX];
	essp_cmd_poll(&c);
	xfer(h, &c, &r);
	want[0] = ESSP_RESP_OK;
	size_t n = 1 + hex_bytes(events, want + 1, sizeof(want) - 1);
	g_assert_cmpmem(r.data, r.len, want, n);
	struct essp_poll p;
	g_assert_cmpint(essp_poll_parse(r.data, r.len, h->version, &p, NULL), ==, 0);
}

static void host_setup(struct host *h, uint8_t version)
{
	struct essp_cmd c;
	struct essp_frame r;
	g_assert_cmphex(simple_cmd(h, essp_cmd_sync), ==, ESSP_RESP_OK);
	g_assert_cmpint(essp_cmd_host_protocol_version(&c, version), ==, 0);
	xfer(h, &c, &r);
	g_assert_cmphex(r.data[0], ==, ESSP_RESP_OK);
	h->version = version;
	essp_cmd_set_inhibits(&c, 0x00FF);
	xfer(h, &c, &r);
	g_assert_cmphex(r.data[0], ==, ESSP_RESP_OK);
	g_assert_cmphex(simple_cmd(h, essp_cmd_enable), ==, ESSP_RESP_OK);
}

/* Drives a note of value_fils into escrow: READ 0, then READ ch. */
static void to_escrow(struct host *h, int64_t value_fils, uint8_t ch)
{
	char want[16];
	g_assert_cmpint(sim_essp_insert_note(h->m, value_fils), ==, 0);
	expect_poll(h, "EF 00");
	g_snprintf(want, sizeof(want), "EF %02X", ch);
	expect_poll(h, want);
}

static struct sim_essp_state state(struct host *h)
{
	struct sim_essp_state s;
	sim_essp_get_state(h->m, &s);
	return s;
}

/* ---- Start-up and identity ---- */

static void test_startup(void)
{
	struct host h;
	struct essp_cmd c;
	struct essp_frame r;
	host_init(&h, NULL);

	/* Power-up: SLAVE RESET once, then DISABLED while disabled (GA138 example intent). */
	g_assert_cmphex(simple_cmd(&h, essp_cmd_sync), ==, ESSP_RESP_OK);
	expect_poll(&h, "F1 E8");
	expect_poll(&h, "E8");

	g_assert_cmpint(essp_cmd_host_protocol_version(&c, 8), ==, 0);
	xfer(&h, &c, &r);
	g_assert_cmphex(r.data[0], ==, ESSP_RESP_FAIL); /* this unit stops at 7 */
	g_assert_cmpint(essp_cmd_host_protocol_version(&c, 7), ==, 0);
	xfer(&h, &c, &r);
	g_assert_cmphex(r.data[0], ==, ESSP_RESP_OK);
	h.version = 7;

	struct essp_setup s;
	essp_cmd_setup_request(&c);
	xfer(&h, &c, &r);
	g_assert_cmpint(essp_setup_parse(r.data, r.len, &s, NULL), ==, 0);
	g_assert_cmpuint(s.n_channels, ==, 8);
	g_assert_true(s.expanded);
	g_assert_cmpuint(s.value_multiplier, ==, 5);
	static const int64_t aed[] = {500, 1000, 2000, 5000, 10000, 20000, 50000, 100000};
	for (uint8_t ch = 1; ch <= 8; ch++) {
		int64_t fils;
		g_assert_cmpint(essp_setup_channel_fils(&s, ch, &fils, NULL), ==, 0);
		g_assert_cmpint(fils, ==, aed[ch - 1]);
	}

	uint32_t serial;
	essp_cmd_get_serial(&c);
	xfer(&h, &c, &r);
	g_assert_cmpint(essp_serial_parse(r.data, r.len, &serial, NULL), ==, 0);
	g_assert_cmpuint(serial, ==, 0x001C962C);

	struct essp_unit_data u;
	essp_cmd_unit_data(&c);
	xfer(&h, &c, &r);
	g_assert_cmpint(essp_unit_data_parse(r.data, r.len, &u, NULL), ==, 0);
	g_assert_cmpstr(u.country, ==, "AED");
	g_assert_cmpstr(u.firmware, ==, "0334");
	g_assert_cmpuint(u.protocol_version, ==, 7);

	struct essp_channel_values cv;
	essp_cmd_channel_value_request(&c);
	xfer(&h, &c, &r);
	g_assert_cmpint(essp_channel_values_parse(r.data, r.len, 7, &cv, NULL), ==, 0);
	g_assert_cmpuint(cv.value[7], ==, 1000);

	struct essp_counters k;
	essp_cmd_get_counters(&c);
	xfer(&h, &c, &r);
	g_assert_cmpint(essp_counters_parse(r.data, r.len, &k, NULL), ==, 0);
	g_assert_cmpuint(k.stacked, ==, 0);

	/* Enabled with every channel inhibited: CHANNEL DISABLE (v7) instead of DISABLED. */
	g_assert_cmphex(simple_cmd(&h, essp_cmd_enable), ==, ESSP_RESP_OK);
	expect_poll(&h, "B5");
	g_assert_cmpint(sim_essp_insert_note(h.m, 500), ==, KIO_ERR_BUSY);
	essp_cmd_set_inhibits(&c, 0x00FF);
	xfer(&h, &c, &r);
	expect_poll(&h, "");
	g_assert_cmpuint(state(&h).inhibit_mask, ==, 0xFF);

	g_assert_cmphex(simple_cmd(&h, essp_cmd_display_off), ==, ESSP_RESP_OK);
	g_assert_cmphex(simple_cmd(&h, essp_cmd_display_on), ==, ESSP_RESP_OK);
	/* eSSP is not modelled: the key exchange is answered as unsupported. */
	essp_cmd_set_generator(&c, 982451653);
	xfer(&h, &c, &r);
	g_assert_cmphex(r.data[0], ==, ESSP_RESP_UNKNOWN_COMMAND);
	g_assert_cmphex(simple_cmd(&h, essp_cmd_poll_with_ack), ==, ESSP_RESP_UNKNOWN_COMMAND);

	/* SETUP REQUEST at v4 carries only the short values × 5: same fils. */
	g_assert_cmpint(essp_cmd_host_protocol_version(&c, 4), ==, 0);
	xfer(&h, &c, &r);
	essp_cmd_setup_request(&c);
	xfer(&h, &c, &r);
	g_assert_cmpint(essp_setup_parse(r.data, r.len, &s, NULL), ==, 0);
	g_assert_false(s.expanded);
	int64_t fils;
	g_assert_cmpint(essp_setup_channel_fils(&s, 8, &fils, NULL), ==, 0);
	g_assert_cmpint(fils, ==, 100000);
	host_free(&h);
}

/* ---- Escrow ---- */

/* A note held under the sensors: READ 0, then nothing new until released; a disable in
 * between does not stop it reaching escrow (the host must return it), and a release with
 * nothing held is refused. */
static void test_hold_release(void)
{
	struct host h;
	host_init(&h, NULL);
	host_setup(&h, 7);
	expect_poll(&h, "F1");
	g_assert_cmpint(sim_essp_release_note(h.m), ==, KIO_ERR_INVALID);
	g_assert_cmpint(sim_essp_hold_note(h.m, 5000), ==, 0);
	expect_poll(&h, "EF 00");
	for (int i = 0; i < 20; i++)
		expect_poll(&h, "");
	g_assert_cmpint(state(&h).note, ==, SIM_ESSP_NOTE_VALIDATING);
	g_assert_cmpint(sim_essp_insert_note(h.m, 500), ==, KIO_ERR_BUSY);
	g_assert_cmphex(simple_cmd(&h, essp_cmd_disable), ==, ESSP_RESP_OK);
	g_assert_cmpint(sim_essp_release_note(h.m), ==, 0);
	g_assert_cmpint(sim_essp_release_note(h.m), ==, KIO_ERR_INVALID);
	expect_poll(&h, "EF 04 E8");
	g_assert_cmpint(state(&h).note, ==, SIM_ESSP_NOTE_ESCROW);
	g_assert_cmphex(simple_cmd(&h, essp_cmd_reject), ==, ESSP_RESP_OK);
	g_assert_cmpint(h.credits, ==, 0);
	g_assert_cmpint(state(&h).cashbox_fils, ==, 0);
	host_free(&h);
}

static void test_accept(void)
{
	struct host h;
	host_init(&h, NULL);
	host_setup(&h, 7);
	expect_poll(&h, "F1");

	to_escrow(&h, 5000, 4);
	g_assert_cmpint(state(&h).note, ==, SIM_ESSP_NOTE_ESCROW);
	g_assert_cmpint(sim_essp_insert_note(h.m, 500), ==, KIO_ERR_BUSY); /* one note at a time */
	expect_poll(&h, "CC");        /* this poll accepted it */
	expect_poll(&h, "EE 04 CC");  /* the credit point */
	expect_poll(&h, "EB");
	expect_poll(&h, "");
	g_assert_cmpint(h.credits, ==, 1);
	struct sim_essp_state s = state(&h);
	g_assert_cmpuint(s.counters.stacked, ==, 1);
	g_assert_cmpuint(s.cashbox[3], ==, 1);
	g_assert_cmpint(s.cashbox_fils, ==, 5000);
	g_assert_cmpint(sim_essp_insert_note(h.m, 1234), ==, KIO_ERR_NOT_FOUND);

	/* The channel order is the dataset's: put 1000 AED on channel 1. */
	struct sim_essp_config cfg;
	sim_essp_config_default(&cfg);
	cfg.channel_fils[0] = 100000;
	cfg.channel_fils[7] = 500;
	struct host h2;
	host_init(&h2, &cfg);
	host_setup(&h2, 7);
	expect_poll(&h2, "F1");
	to_escrow(&h2, 100000, 1);
	host_free(&h2);
	host_free(&h);
}

static void test_reject(void)
{
	struct host h;
	struct essp_cmd c;
	struct essp_frame r;
	host_init(&h, NULL);
	host_setup(&h, 7);
	expect_poll(&h, "F1");

	g_assert_cmphex(simple_cmd(&h, essp_cmd_reject), ==, ESSP_RESP_CANNOT_PROCESS);
	to_escrow(&h, 20000, 6);
	g_assert_cmphex(simple_cmd(&h, essp_cmd_reject), ==, ESSP_RESP_OK);
	expect_poll(&h, "ED");
	expect_poll(&h, "EC");
	expect_poll(&h, "");
	uint8_t code;
	essp_cmd_last_reject_code(&c);
	xfer(&h, &c, &r);
	g_assert_cmpint(essp_last_reject_parse(r.data, r.len, &code, NULL), ==, 0);
	g_assert_cmphex(code, ==, ESSP_REJ_BY_HOST);
	g_assert_cmpint(h.credits, ==, 0);
	g_assert_cmpint(state(&h).cashbox_fils, ==, 0);
	g_assert_cmpuint(state(&h).counters.rejected, ==, 1);

	/* A fake note: read, then rejected by the validator with its reason. */
	g_assert_cmpint(sim_essp_insert_fake(h.m, 0x02), ==, 0);
	expect_poll(&h, "EF 00");
	expect_poll(&h, "ED");
	expect_poll(&h, "EC");
	xfer(&h, &c, &r);
	g_assert_cmpint(essp_last_reject_parse(r.data, r.len, &code, NULL), ==, 0);
	g_assert_cmphex(code, ==, 0x02);

	/* A note on an inhibited channel is read and handed back (reject code 0x06). */
	essp_cmd_set_inhibits(&c, 0x0001);
	xfer(&h, &c, &r);
	g_assert_cmpint(sim_essp_insert_note(h.m, 1000), ==, 0);
	expect_poll(&h, "EF 00");
	expect_poll(&h, "ED");
	expect_poll(&h, "EC");
	essp_cmd_last_reject_code(&c);
	xfer(&h, &c, &r);
	g_assert_cmphex(r.data[1], ==, ESSP_REJ_CHANNEL_INHIBIT);
	g_assert_cmpuint(state(&h).counters.rejected, ==, 3);
	g_assert_cmpint(h.credits, ==, 0);
	host_free(&h);
}

static void test_hold_and_timeout(void)
{
	struct host h;
	struct essp_cmd c;
	struct essp_frame r;
	host_init(&h, NULL);
	host_setup(&h, 7);
	expect_poll(&h, "F1");

	g_assert_cmphex(simple_cmd(&h, essp_cmd_hold), ==, ESSP_RESP_CANNOT_PROCESS);
	to_escrow(&h, 10000, 5);
	/* HOLD every 9 s keeps it for 27 s; the 10 s escrow timer restarts each time. */
	for (int i = 0; i < 3; i++) {
		h.now += 9000;
		g_assert_cmphex(simple_cmd(&h, essp_cmd_hold), ==, ESSP_RESP_OK);
	}
	/* Any command but a poll also holds (GA138 Hold). */
	h.now += 9000;
	essp_cmd_get_serial(&c);
	xfer(&h, &c, &r);
	h.now += 9999;
	sim_essp_tick(h.m, h.now);
	g_assert_cmpint(state(&h).note, ==, SIM_ESSP_NOTE_ESCROW);
	expect_poll(&h, "CC");
	expect_poll(&h, "EE 05 CC");
	expect_poll(&h, "EB");
	g_assert_cmpint(h.credits, ==, 1);

	/* No decision for 10 s: the note goes back, reason ESCROW TIME-OUT. */
	to_escrow(&h, 10000, 5);
	h.now += 10000;
	sim_essp_tick(h.m, h.now);
	/* Silence also trips the comms timeout: the unit inhibits itself (GA973 "Hold note"). */
	expect_poll(&h, "ED E8");
	expect_poll(&h, "EC E8");
	essp_cmd_last_reject_code(&c);
	xfer(&h, &c, &r);
	g_assert_cmphex(r.data[1], ==, ESSP_REJ_ESCROW_TIMEOUT);
	g_assert_cmpint(h.credits, ==, 1);
	g_assert_cmpint(state(&h).cashbox_fils, ==, 10000);

	/* GA973's 5 s timer, configured. */
	struct sim_essp_config cfg;
	sim_essp_config_default(&cfg);
	cfg.escrow_timeout_ms = 5000;
	struct host h5;
	host_init(&h5, &cfg);
	host_setup(&h5, 7);
	expect_poll(&h5, "F1");
	to_escrow(&h5, 500, 1);
	h5.now += 4999;
	sim_essp_tick(h5.m, h5.now);
	g_assert_cmpint(state(&h5).note, ==, SIM_ESSP_NOTE_ESCROW);
	h5.now += 1;
	sim_essp_tick(h5.m, h5.now);
	g_assert_cmpint(state(&h5).note, ==, SIM_ESSP_NOTE_REJECTING);
	host_free(&h5);
	host_free(&h);
}

static void test_comms_timeout(void)
{
	struct host h;
	host_init(&h, NULL);
	host_setup(&h, 7);
	expect_poll(&h, "F1");
	h.now += 9999;
	sim_essp_tick(h.m, h.now);
	g_assert_true(state(&h).enabled);
	h.now += 1;
	sim_essp_tick(h.m, h.now);
	g_assert_false(state(&h).enabled);
	expect_poll(&h, "E8");
	host_free(&h);
}

/* ---- Sequence bit and link faults ---- */

static void test_repeat_after_credit(void)
{
	struct host h;
	struct essp_cmd c;
	struct essp_frame r, again;
	host_init(&h, NULL);
	host_setup(&h, 7);
	expect_poll(&h, "F1");
	to_escrow(&h, 50000, 7);
	expect_poll(&h, "CC");

	essp_cmd_poll(&c);
	xfer(&h, &c, &r);
	g_assert_cmphex(r.data[1], ==, ESSP_EV_CREDIT);
	g_assert_cmpint(h.credits, ==, 1);
	uint64_t executed = state(&h).executed;

	/* The same bytes again (host thinks the reply was lost): byte-identical reply,
	 * nothing executed, so no second credit and the note does not move on. */
	uint8_t first[ESSP_WIRE_MAX];
	size_t first_len = 0;
	g_assert_cmpint(essp_frame_encode(r.seqid, r.data, r.len, first, sizeof(first), &first_len), ==, 0);
	for (int i = 0; i < 3; i++) {
		g_assert_cmpint(sim_essp_write(h.m, h.pkt.bytes, h.pkt.len, h.now), ==, 0);
		uint8_t raw[ESSP_WIRE_MAX];
		size_t n = sim_essp_read(h.m, raw, sizeof(raw));
		g_assert_cmpmem(raw, n, first, first_len);
		decode_one(raw, n, &again);
		g_assert_cmpmem(again.data, again.len, r.data, r.len);
	}
	g_assert_cmpuint(state(&h).executed, ==, executed);
	g_assert_cmpuint(state(&h).repeats, ==, 3);
	g_assert_cmpint(state(&h).note, ==, SIM_ESSP_NOTE_CREDITED);

	expect_poll(&h, "EB");
	expect_poll(&h, "");
	g_assert_cmpint(h.credits, ==, 1);
	g_assert_cmpuint(state(&h).counters.stacked, ==, 1);

	/* A host that toggles on every send (research F4) has its first command after
	 * SYNC taken as a repeat of SYNC: it gets the SYNC reply and nothing runs. */
	g_assert_cmphex(simple_cmd(&h, essp_cmd_sync), ==, ESSP_RESP_OK);
	h.seq.flag = true;
	executed = state(&h).executed;
	essp_cmd_disable(&c);
	xfer(&h, &c, &r);
	g_assert_cmpuint(state(&h).executed, ==, executed);
	g_assert_true(state(&h).enabled);
	host_free(&h);
}

static void test_lost_and_duplicated_replies(void)
{
	struct host h;
	struct essp_cmd c;
	struct essp_frame r;
	host_init(&h, NULL);
	host_setup(&h, 7);
	expect_poll(&h, "F1");
	to_escrow(&h, 2000, 3);

	/* The accepting poll's reply is lost: the retry gets the stored reply, and the
	 * note was accepted once. */
	sim_essp_drop_replies(h.m, 1);
	essp_cmd_poll(&c);
	g_assert_cmpint(essp_seq_prepare(&h.seq, &c, &h.pkt), ==, 0);
	g_assert_cmpint(host_send_kept(&h, &r), ==, ESSP_DEC_MORE);
	g_assert_cmpint(state(&h).note, ==, SIM_ESSP_NOTE_STACKING);
	g_assert_cmpint(host_send_kept(&h, &r), ==, ESSP_DEC_FRAME);
	g_assert_cmpint(essp_seq_on_reply(&h.seq, &h.pkt, &r, NULL), ==, 0);
	g_assert_cmpuint(r.len, ==, 2);
	g_assert_cmphex(r.data[1], ==, ESSP_EV_STACKING);
	g_assert_cmpint(state(&h).note, ==, SIM_ESSP_NOTE_STACKING);

	/* The credit poll's reply arrives twice; the copy carries the old SEQ/ID and the
	 * host's sequence check refuses it as the reply to the next command. */
	sim_essp_duplicate_replies(h.m, 1);
	xfer(&h, &c, &r);
	g_assert_cmphex(r.data[1], ==, ESSP_EV_CREDIT);
	struct essp_frame dup;
	g_assert_cmpint(essp_seq_prepare(&h.seq, &c, &h.pkt), ==, 0);
	g_assert_cmpint(host_read(&h, &dup), ==, ESSP_DEC_FRAME);
	g_assert_cmpint(essp_seq_on_reply(&h.seq, &h.pkt, &dup, NULL), ==, KIO_ERR_PROTOCOL);
	g_assert_cmpint(host_send_kept(&h, &r), ==, ESSP_DEC_FRAME);
	g_assert_cmpint(essp_seq_on_reply(&h.seq, &h.pkt, &r, NULL), ==, 0);
	count_credits(&h, &r);
	g_assert_cmphex(r.data[1], ==, ESSP_EV_STACKED);
	g_assert_cmpint(h.credits, ==, 1);

	/* A corrupted reply: the decoder reports the CRC failure, the retry gets it right. */
	sim_essp_corrupt_replies(h.m, 1);
	essp_cmd_get_serial(&c);
	g_assert_cmpint(essp_seq_prepare(&h.seq, &c, &h.pkt), ==, 0);
	g_assert_cmpint(host_send_kept(&h, &r), ==, ESSP_DEC_BAD_CRC);
	g_assert_cmpint(host_send_kept(&h, &r), ==, ESSP_DEC_FRAME);
	g_assert_cmpint(essp_seq_on_reply(&h.seq, &h.pkt, &r, NULL), ==, 0);
	uint32_t serial;
	g_assert_cmpint(essp_serial_parse(r.data, r.len, &serial, NULL), ==, 0);
	g_assert_cmpuint(serial, ==, 0x001C962C);

	/* A command lost on the way: no reply; the retry is executed, once. */
	uint64_t executed = state(&h).executed;
	sim_essp_drop_commands(h.m, 1);
	essp_cmd_disable(&c);
	g_assert_cmpint(essp_seq_prepare(&h.seq, &c, &h.pkt), ==, 0);
	g_assert_cmpint(host_send_kept(&h, &r), ==, ESSP_DEC_MORE);
	g_assert_cmpuint(state(&h).executed, ==, executed);
	g_assert_cmpint(host_send_kept(&h, &r), ==, ESSP_DEC_FRAME);
	g_assert_cmpuint(state(&h).executed, ==, executed + 1);
	g_assert_false(state(&h).enabled);
	host_free(&h);
}

/* sim_essp_refuse_command: the next n executions of one command answer COMMAND CANNOT BE
 * PROCESSED and do nothing; a repeat of a refused frame repeats the refusal without using up
 * a count; other commands and the note in escrow are untouched. */
static void test_refuse_command(void)
{
	struct host h;
	struct essp_cmd c;
	struct essp_frame r;
	host_init(&h, NULL);
	host_setup(&h, 7);
	expect_poll(&h, "F1");
	to_escrow(&h, 2000, 3);
	sim_essp_refuse_command(h.m, ESSP_CMD_GET_COUNTERS, 2);
	g_assert_cmphex(simple_cmd(&h, essp_cmd_get_counters), ==, ESSP_RESP_CANNOT_PROCESS);
	/* The same frame again (its reply lost): the stored refusal, not a second count. */
	g_assert_cmpint(host_send_kept(&h, &r), ==, ESSP_DEC_FRAME);
	g_assert_cmphex(r.data[0], ==, ESSP_RESP_CANNOT_PROCESS);
	g_assert_cmphex(simple_cmd(&h, essp_cmd_hold), ==, ESSP_RESP_OK);
	g_assert_cmphex(simple_cmd(&h, essp_cmd_get_counters), ==, ESSP_RESP_CANNOT_PROCESS);
	essp_cmd_get_counters(&c);
	xfer(&h, &c, &r);
	struct essp_counters k;
	g_assert_cmpint(essp_counters_parse(r.data, r.len, &k, NULL), ==, 0);
	g_assert_cmpuint(k.stacked, ==, 0);
	g_assert_cmpint(state(&h).note, ==, SIM_ESSP_NOTE_ESCROW);
	host_free(&h);
}

static void test_chunking(void)
{
	struct host h;
	struct essp_cmd c;
	struct essp_frame r;
	host_init(&h, NULL);
	host_setup(&h, 7);
	/* Garbage, then a SET INHIBITS 0x7F whose data needs stuffing, one byte per write. */
	static const uint8_t junk[] = {0x00, 0xF0, 0x23};
	g_assert_cmpint(sim_essp_write(h.m, junk, sizeof(junk), h.now), ==, 0);
	essp_cmd_set_inhibits(&c, 0x007F);
	g_assert_cmpint(essp_seq_prepare(&h.seq, &c, &h.pkt), ==, 0);
	for (size_t i = 0; i < h.pkt.len; i++) {
		g_assert_cmpuint(sim_essp_pending(h.m), ==, 0);
		g_assert_cmpint(sim_essp_write(h.m, h.pkt.bytes + i, 1, h.now), ==, 0);
	}
	g_assert_cmpint(host_read(&h, &r), ==, ESSP_DEC_FRAME);
	g_assert_cmpint(essp_seq_on_reply(&h.seq, &h.pkt, &r, NULL), ==, 0);
	g_assert_cmphex(r.data[0], ==, ESSP_RESP_OK);
	g_assert_cmpuint(state(&h).inhibit_mask, ==, 0x7F);

	/* Frames for another address are ignored. */
	uint8_t other[16];
	struct essp_frame f = {.seqid = 0x90, .len = 1, .data = {0x07}};
	size_t len;
	g_assert_cmpint(essp_frame_encode(f.seqid, f.data, f.len, other, sizeof(other), &len), ==, 0);
	g_assert_cmpint(sim_essp_write(h.m, other, len, h.now), ==, 0);
	g_assert_cmpuint(sim_essp_pending(h.m), ==, 0);
	host_free(&h);
}

/* ---- Faults ---- */

static void test_fault_jam(void)
{
	struct host h;
	struct kio_error err = {0};
	host_init(&h, NULL);
	host_setup(&h, 7);
	expect_poll(&h, "F1");
	to_escrow(&h, 5000, 4);
	expect_poll(&h, "CC");
	sim_essp_set_fault(h.m, SIM_ESSP_FAULT_JAM, true);
	g_assert_true(sim_essp_fault(h.m, SIM_ESSP_FAULT_JAM));
	/* GA973 "Unsafe jam": repeated with DISABLED; no credit. */
	expect_poll(&h, "E9 E8");
	expect_poll(&h, "E9 E8");
	g_assert_cmphex(simple_cmd(&h, essp_cmd_enable), ==, ESSP_RESP_CANNOT_PROCESS);
	g_assert_cmpint(h.credits, ==, 0);

	/* Still jammed across a power cycle while the fault holds. */
	char *saved = sim_essp_save(h.m);
	sim_essp_free(h.m);
	h.m = sim_essp_new_from_state(NULL, saved, h.now, &err);
	g_assert_nonnull(h.m);
	free(saved);
	essp_decoder_init(&h.dec);
	g_assert_cmphex(simple_cmd(&h, essp_cmd_sync), ==, ESSP_RESP_OK);
	expect_poll(&h, "F1 E9 E8");
	g_assert_cmphex(simple_cmd(&h, essp_cmd_enable), ==, ESSP_RESP_CANNOT_PROCESS);
	g_assert_cmpint(state(&h).note, ==, SIM_ESSP_NOTE_JAMMED);
	g_assert_cmpint(state(&h).cashbox_fils, ==, 0);
	host_free(&h);
}

/* A path blocked by no note at all still jams the unit, at once; at power-up with the jam
 * cleared nothing comes out that anyone could be owed. */
static void test_obstruct_and_fraud_attempt(void)
{
	struct host h;
	host_init(&h, NULL);
	host_setup(&h, 7);
	expect_poll(&h, "F1");
	g_assert_cmpint(sim_essp_fraud_attempt(h.m), ==, 0);
	expect_poll(&h, "E6 00");
	expect_poll(&h, "");
	g_assert_cmpint(sim_essp_obstruct(h.m), ==, 0);
	g_assert_true(sim_essp_fault(h.m, SIM_ESSP_FAULT_JAM));
	expect_poll(&h, "E9 E8");
	expect_poll(&h, "E9 E8");
	g_assert_cmpint(sim_essp_insert_note(h.m, 500), ==, KIO_ERR_BUSY);
	g_assert_cmpint(sim_essp_obstruct(h.m), ==, KIO_ERR_BUSY);
	g_assert_cmpint(sim_essp_fraud_attempt(h.m), ==, KIO_ERR_BUSY);
	sim_essp_set_fault(h.m, SIM_ESSP_FAULT_JAM, false);
	h.now += 1000;
	sim_essp_power_cycle(h.m, h.now);
	essp_decoder_init(&h.dec);
	host_setup(&h, 7);
	expect_poll(&h, "F1 E1 00");
	expect_poll(&h, "");
	g_assert_cmpint(state(&h).note, ==, SIM_ESSP_NOTE_NONE);
	g_assert_cmpint(state(&h).cashbox_fils, ==, 0);
	host_free(&h);
}

static void test_fault_jam_cleared_at_power_up(void)
{
	struct host h;
	host_init(&h, NULL);
	host_setup(&h, 7);
	expect_poll(&h, "F1");
	/* Jam armed while idle: the next note sticks while being validated. */
	sim_essp_set_fault(h.m, SIM_ESSP_FAULT_JAM, true);
	g_assert_cmpint(sim_essp_insert_note(h.m, 500), ==, 0);
	expect_poll(&h, "EF 00");
	expect_poll(&h, "E9 E8");
	/* Cleared by hand with the power off: at power-up it comes out of the front. */
	sim_essp_set_fault(h.m, SIM_ESSP_FAULT_JAM, false);
	h.now += 60000;
	sim_essp_power_cycle(h.m, h.now);
	essp_decoder_init(&h.dec);
	host_setup(&h, 7);
	expect_poll(&h, "F1 E1 01");
	expect_poll(&h, "");
	g_assert_cmpint(state(&h).cashbox_fils, ==, 0);
	g_assert_cmpuint(state(&h).power_ups, ==, 2);
	host_free(&h);
}

static void test_fault_stacker_full(void)
{
	struct host h;
	host_init(&h, NULL);
	host_setup(&h, 7);
	expect_poll(&h, "F1");
	to_escrow(&h, 500, 1);
	sim_essp_set_fault(h.m, SIM_ESSP_FAULT_STACKER_FULL, true);
	expect_poll(&h, "CC");
	expect_poll(&h, "EE 01 CC");
	expect_poll(&h, "EB E7"); /* GA973 "Stacker full": in the same poll as stacked */
	expect_poll(&h, "E7");
	g_assert_cmpint(sim_essp_insert_note(h.m, 500), ==, KIO_ERR_BUSY);
	/* Emptied: still refuses until reset (GA973), then works. */
	sim_essp_set_fault(h.m, SIM_ESSP_FAULT_STACKER_FULL, false);
	expect_poll(&h, "E7");
	g_assert_cmphex(simple_cmd(&h, essp_cmd_reset), ==, ESSP_RESP_OK);
	g_assert_cmpuint(state(&h).resets, ==, 1);
	g_assert_false(state(&h).enabled); /* volatile settings gone after RESET */
	essp_decoder_init(&h.dec);
	host_setup(&h, 7);
	expect_poll(&h, "F1");
	g_assert_cmpint(sim_essp_insert_note(h.m, 500), ==, 0);
	g_assert_cmpint(h.credits, ==, 1);
	host_free(&h);

	/* Capacity: the second note fills a two-note box. */
	struct sim_essp_config cfg;
	sim_essp_config_default(&cfg);
	cfg.cashbox_capacity = 2;
	host_init(&h, &cfg);
	host_setup(&h, 7);
	expect_poll(&h, "F1");
	for (int i = 0; i < 2; i++) {
		to_escrow(&h, 1000, 2);
		expect_poll(&h, "CC");
		expect_poll(&h, "EE 02 CC");
		expect_poll(&h, i == 0 ? "EB" : "EB E7");
	}
	g_assert_cmpint(state(&h).cashbox_fils, ==, 2000);
	host_free(&h);
}

static void test_fault_cashbox(void)
{
	struct host h;
	host_init(&h, NULL);
	host_setup(&h, 7);
	expect_poll(&h, "F1");
	sim_essp_set_fault(h.m, SIM_ESSP_FAULT_CASHBOX_REMOVED, true);
	expect_poll(&h, "E3");
	expect_poll(&h, "E3");
	g_assert_cmpint(sim_essp_insert_note(h.m, 500), ==, KIO_ERR_BUSY);
	sim_essp_set_fault(h.m, SIM_ESSP_FAULT_CASHBOX_REMOVED, false);
	expect_poll(&h, "E4");
	expect_poll(&h, "");
	g_assert_cmpint(sim_essp_insert_note(h.m, 500), ==, 0);
	host_free(&h);
}

static void test_fault_fraud(void)
{
	struct host h;
	host_init(&h, NULL);
	host_setup(&h, 7);
	expect_poll(&h, "F1");
	sim_essp_set_fault(h.m, SIM_ESSP_FAULT_FRAUD, true);
	g_assert_cmpint(sim_essp_insert_note(h.m, 20000), ==, 0);
	expect_poll(&h, "EF 00");
	expect_poll(&h, "E6 06");
	expect_poll(&h, "");
	g_assert_cmpint(h.credits, ==, 0);
	g_assert_cmpint(state(&h).cashbox_fils, ==, 0);
	g_assert_cmphex(state(&h).last_reject, ==, ESSP_REJ_FRAUD);
	host_free(&h);
}

static void test_fault_silence(void)
{
	struct host h;
	struct essp_cmd c;
	struct essp_frame r;
	host_init(&h, NULL);
	host_setup(&h, 7);

	sim_essp_set_fault(h.m, SIM_ESSP_FAULT_NO_ANSWER, true);
	uint64_t executed = state(&h).executed;
	essp_cmd_poll(&c);
	g_assert_cmpint(essp_seq_prepare(&h.seq, &c, &h.pkt), ==, 0);
	for (int i = 0; i < 3; i++)
		g_assert_cmpint(host_send_kept(&h, &r), ==, ESSP_DEC_MORE);
	g_assert_cmpuint(state(&h).executed, ==, executed);
	sim_essp_set_fault(h.m, SIM_ESSP_FAULT_NO_ANSWER, false);
	g_assert_cmpint(host_send_kept(&h, &r), ==, ESSP_DEC_FRAME);
	g_assert_cmpint(essp_seq_on_reply(&h.seq, &h.pkt, &r, NULL), ==, 0);

	sim_essp_set_fault(h.m, SIM_ESSP_FAULT_DISCONNECT, true);
	g_assert_false(sim_essp_connected(h.m));
	g_assert_cmpint(essp_seq_prepare(&h.seq, &c, &h.pkt), ==, 0);
	g_assert_cmpint(sim_essp_write(h.m, h.pkt.bytes, h.pkt.len, h.now), ==, KIO_ERR_NO_DEVICE);
	g_assert_cmpuint(sim_essp_pending(h.m), ==, 0);
	/* Plugged back: settings survive (the unit kept its own power). */
	sim_essp_set_fault(h.m, SIM_ESSP_FAULT_DISCONNECT, false);
	g_assert_cmpint(host_send_kept(&h, &r), ==, ESSP_DEC_FRAME);
	g_assert_true(state(&h).enabled);
	g_assert_cmpstr(sim_essp_fault_name(SIM_ESSP_FAULT_DISCONNECT), ==, "disconnect");
	host_free(&h);
}

/* ---- Power cycles with a note in the path (the kill-point tests build on these) ---- */

static void power_cycle_case(int polls_after_escrow, const char *boot_events, int64_t cashbox_fils,
			     int credits_before)
{
	struct host h;
	struct kio_error err = {0};
	host_init(&h, NULL);
	host_setup(&h, 7);
	expect_poll(&h, "F1");
	to_escrow(&h, 50000, 7);
	static const char *const steps[] = {"CC", "EE 07 CC"};
	for (int i = 0; i < polls_after_escrow; i++)
		expect_poll(&h, steps[i]);
	g_assert_cmpint(h.credits, ==, credits_before);

	char *saved = sim_essp_save(h.m);
	g_assert_nonnull(strstr(saved, "sim-essp-state 1\n"));
	sim_essp_free(h.m);
	h.now += 30000;
	h.m = sim_essp_new_from_state(NULL, saved, h.now, &err);
	g_assert_nonnull(h.m);
	free(saved);
	essp_decoder_init(&h.dec);
	essp_seq_init(&h.seq, 0);
	/* The host sets v5+ before its first poll, or it would never see CLEARED INTO CASHBOX. */
	host_setup(&h, 7);
	expect_poll(&h, boot_events);
	expect_poll(&h, "");
	g_assert_cmpint(state(&h).cashbox_fils, ==, cashbox_fils);
	g_assert_cmpuint(state(&h).counters.stacked, ==, cashbox_fils ? 1 : 0);
	host_free(&h);
}

static void test_power_cycle_escrow(void) { power_cycle_case(0, "F1 E1 07", 0, 0); }
static void test_power_cycle_stacking(void) { power_cycle_case(1, "F1 E2 07", 50000, 0); }
static void test_power_cycle_credited(void) { power_cycle_case(2, "F1 E2 07", 50000, 1); }

static void test_power_cycle_v4_hides_e2(void)
{
	struct host h;
	host_init(&h, NULL);
	host_setup(&h, 7);
	expect_poll(&h, "F1");
	to_escrow(&h, 500, 1);
	expect_poll(&h, "CC");
	sim_essp_power_cycle(h.m, h.now);
	essp_decoder_init(&h.dec);
	host_setup(&h, 4);
	/* CLEARED INTO CASHBOX needs v5 (GA138): a v4 host never hears of the note. */
	expect_poll(&h, "F1");
	g_assert_cmpint(state(&h).cashbox_fils, ==, 500);
	host_free(&h);
}

static void test_state_text(void)
{
	struct kio_error err = {0};
	struct sim_essp *m = sim_essp_new(NULL, 0, &err);
	g_assert_nonnull(m);
	char *text = sim_essp_save(m);
	struct sim_essp *again = sim_essp_new_from_state(NULL, text, 0, &err);
	g_assert_nonnull(again);
	char *text2 = sim_essp_save(again);
	g_assert_cmpstr(text, ==, text2);
	/* The snapshot callers compare instead of the text covers exactly what is saved. */
	struct sim_essp_memory a, b;
	sim_essp_memory_get(m, &a);
	sim_essp_memory_get(again, &b);
	g_assert_cmpmem(&a, sizeof(a), &b, sizeof(b));
	sim_essp_free(again);

	g_assert_null(sim_essp_new_from_state(NULL, "hello\n", 0, &err));
	g_assert_cmpint(err.code, ==, KIO_ERR_CORRUPT);
	char *bad = g_strdup(text);
	char *note = strstr(bad, "note none");
	g_assert_nonnull(note);
	memcpy(note, "note nope", 9);
	g_assert_null(sim_essp_new_from_state(NULL, bad, 0, &err));
	g_assert_cmpint(err.code, ==, KIO_ERR_CORRUPT);
	/* What sscanf alone let through, and sim_essp_save never writes (fuzz_essp_sim_state):
	 * words after the numbers, a sign, a repeated line. */
	static const struct {
		const char *from, *to;
	} edits[] = {
		{"serial 1873452\n", "serial 1873452 junk\n"},
		{"last_reject 0\n", "last_reject -0\n"},
		{"counters 0 0 0 0 0\n", "counters 0 0 0 0 -1\n"},
		{"faults 0 0 0 0\n", "faults 0 0 0 0\nfaults 0 0 0 0\n"},
		{"note none 0 0 0\n", "note  none 0 0 0\n"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(edits); i++) {
		const char *at = strstr(text, edits[i].from);
		g_assert_nonnull(at);
		GString *edited = g_string_new_len(text, at - text);
		g_string_append(edited, edits[i].to);
		g_string_append(edited, at + strlen(edits[i].from));
		g_assert_null(sim_essp_new_from_state(NULL, edited->str, 0, &err));
		g_assert_cmpint(err.code, ==, KIO_ERR_CORRUPT);
		g_assert_nonnull(strstr(err.msg, "not as the model writes it"));
		g_string_free(edited, TRUE);
	}
	/* A line missing. */
	char *cut = g_strdup(text);
	*strstr(cut, "faults") = '\0';
	g_assert_null(sim_essp_new_from_state(NULL, cut, 0, &err));
	g_assert_nonnull(strstr(err.msg, "missing"));
	/* A different dataset size than the saved cashbox. */
	struct sim_essp_config cfg;
	sim_essp_config_default(&cfg);
	cfg.n_channels = 4;
	g_assert_null(sim_essp_new_from_state(&cfg, text, 0, &err));
	/* Bad configurations. */
	cfg.channel_fils[0] = 550;
	g_assert_null(sim_essp_new(&cfg, 0, &err));
	g_assert_cmpint(err.code, ==, KIO_ERR_INVALID);
	g_free(cut);
	g_free(bad);
	free(text);
	free(text2);
	sim_essp_free(m);
	sim_essp_free(NULL);
}

/* ---- POLL WITH ACK ---- */

static void test_poll_with_ack(void)
{
	struct sim_essp_config cfg;
	struct essp_cmd c;
	struct essp_frame r;
	struct host h;
	sim_essp_config_default(&cfg);
	cfg.poll_with_ack = true;
	host_init(&h, &cfg);
	host_setup(&h, 7);
	expect_poll(&h, "F1");
	to_escrow(&h, 5000, 4);
	essp_cmd_poll_with_ack(&c);
	xfer(&h, &c, &r); /* accepts: CC */
	xfer(&h, &c, &r);
	g_assert_cmpuint(r.len, ==, 4);
	g_assert_cmphex(r.data[1], ==, ESSP_EV_CREDIT);
	/* Until EVENT ACK the credit repeats and the note stays where it is. */
	for (int i = 0; i < 3; i++) {
		xfer(&h, &c, &r);
		g_assert_cmpuint(r.len, ==, 3);
		g_assert_cmphex(r.data[1], ==, ESSP_EV_CREDIT);
		g_assert_cmpuint(r.data[2], ==, 4);
		g_assert_cmpint(state(&h).note, ==, SIM_ESSP_NOTE_CREDITED);
	}
	g_assert_cmpint(sim_essp_insert_note(h.m, 500), ==, KIO_ERR_BUSY);
	g_assert_cmphex(simple_cmd(&h, essp_cmd_event_ack), ==, ESSP_RESP_OK);
	xfer(&h, &c, &r);
	g_assert_cmpuint(r.len, ==, 2);
	g_assert_cmphex(r.data[1], ==, ESSP_EV_STACKED);
	g_assert_cmpuint(state(&h).counters.stacked, ==, 1);
	host_free(&h);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sim-essp/startup", test_startup);
	g_test_add_func("/sim-essp/accept", test_accept);
	g_test_add_func("/sim-essp/hold-release", test_hold_release);
	g_test_add_func("/sim-essp/reject", test_reject);
	g_test_add_func("/sim-essp/hold-timeout", test_hold_and_timeout);
	g_test_add_func("/sim-essp/comms-timeout", test_comms_timeout);
	g_test_add_func("/sim-essp/seq/repeat-after-credit", test_repeat_after_credit);
	g_test_add_func("/sim-essp/seq/lost-duplicated", test_lost_and_duplicated_replies);
	g_test_add_func("/sim-essp/refuse-command", test_refuse_command);
	g_test_add_func("/sim-essp/chunking", test_chunking);
	g_test_add_func("/sim-essp/fault/jam", test_fault_jam);
	g_test_add_func("/sim-essp/fault/jam-cleared", test_fault_jam_cleared_at_power_up);
	g_test_add_func("/sim-essp/fault/obstruct-and-fraud-attempt", test_obstruct_and_fraud_attempt);
	g_test_add_func("/sim-essp/fault/stacker-full", test_fault_stacker_full);
	g_test_add_func("/sim-essp/fault/cashbox", test_fault_cashbox);
	g_test_add_func("/sim-essp/fault/fraud", test_fault_fraud);
	g_test_add_func("/sim-essp/fault/silence", test_fault_silence);
	g_test_add_func("/sim-essp/power/escrow", test_power_cycle_escrow);
	g_test_add_func("/sim-essp/power/stacking", test_power_cycle_stacking);
	g_test_add_func("/sim-essp/power/credited", test_power_cycle_credited);
	g_test_add_func("/sim-essp/power/v4-hides-e2", test_power_cycle_v4_hides_e2);
	g_test_add_func("/sim-essp/power/state-text", test_state_text);
	g_test_add_func("/sim-essp/poll-with-ack", test_poll_with_ack);
	return g_test_run();
}
