/*
 * The eSSP host driver over the NV9USB model: the session it sets up, every command it
 * sends, each poll event mapped to the class, escrow decisions, sequence-bit repeats, lost,
 * duplicated and corrupt replies, lost commands, garbage and partial frames, timeouts,
 * link loss, every fault kind, power cycles with a note in the path, and eSSP.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <string.h>

#define LOG_MODULE "test-essp-cash"
#include "kiosk/core/log.h"

#include "essp-cash-fixture.h"

#define AED(x) ((int64_t)(x) * 100)

static bool has_escrow(struct fx *f) { return fx_count(f, CASH_EV_ESCROW) > 0; }
static bool has_credit(struct fx *f) { return fx_count(f, CASH_EV_CREDITED) > 0; }
static bool has_stacked(struct fx *f) { return fx_count(f, CASH_EV_STACKED) > 0; }
static bool has_returned(struct fx *f) { return fx_count(f, CASH_EV_RETURNED) > 0; }
static bool has_rejected(struct fx *f) { return fx_count(f, CASH_EV_REJECTED) > 0; }
static bool path_empty(struct fx *f) { return fx_sim(f).note == SIM_ESSP_NOTE_NONE && fx_info(f).note_id == 0; }

static bool contains(GArray *cmds, uint8_t code)
{
	for (guint i = 0; i < cmds->len; i++)
		if (g_array_index(cmds, uint8_t, i) == code)
			return true;
	return false;
}

/* One note, accepted: ESCROW, CREDITED, STACKED once each; journal and cashbox agree. */
static void assert_one_credit(struct fx *f, int64_t fils)
{
	g_assert_cmpuint(fx_count(f, CASH_EV_CREDITED), ==, 1);
	g_assert_cmpint(fx_sum(f, CASH_EV_CREDITED), ==, fils);
	g_assert_cmpuint(fx_count(f, CASH_EV_RETURNED), ==, 0);
	int64_t total = 0;
	g_assert_cmpint(fx_journal(f, CASH_NOTE_STACKED, &total), ==, 1);
	g_assert_cmpint(total, ==, fils);
	g_assert_cmpint(fx_journal(f, CASH_NOTE_ESCROW, NULL) + fx_journal(f, CASH_NOTE_ACCEPTED, NULL) +
				fx_journal(f, CASH_NOTE_CREDITED, NULL) + fx_journal(f, CASH_NOTE_RETURNED, NULL),
			==, 0);
	g_assert_cmpint(fx_sim(f).cashbox_fils, ==, fils);
	g_assert_cmpuint(fx_sim(f).counters.stacked, ==, 1);
}

static void insert(struct fx *f, int64_t fils)
{
	g_assert_cmpint(sim_essp_insert_note(f->sim, fils), ==, 0);
	fx_notify(f);
}

/* ---- Session ---- */

static void test_connect(void)
{
	struct fx f;
	fx_init(&f);
	fx_start(&f);
	g_assert_cmpuint(fx_writes(&f), ==, 1); /* SYNC written by the constructor */
	g_assert_true(fx_run_until(&f, fx_in_run, 10000));
	fx_enable_all(&f);
	GArray *cmds = fx_sent_cmds(&f, 0);
	static const uint8_t expect[] = {ESSP_CMD_SYNC, ESSP_CMD_HOST_PROTOCOL_VERSION, ESSP_CMD_SETUP_REQUEST,
					 ESSP_CMD_GET_SERIAL, ESSP_CMD_DISABLE, ESSP_CMD_REJECT, ESSP_CMD_POLL,
					 ESSP_CMD_GET_COUNTERS};
	g_assert_cmpuint(cmds->len, >=, sizeof(expect));
	for (size_t i = 0; i < sizeof(expect); i++)
		g_assert_cmphex(g_array_index(cmds, uint8_t, i), ==, expect[i]);
	g_assert_true(contains(cmds, ESSP_CMD_SET_INHIBITS));
	g_assert_true(contains(cmds, ESSP_CMD_ENABLE));
	g_array_free(cmds, TRUE);

	struct essp_cash_info info = fx_info(&f);
	g_assert_cmpstr(info.device, ==, "essp:001C962C");
	g_assert_cmpuint(info.protocol, ==, 7);
	g_assert_cmpstr(info.firmware, ==, "0334");
	g_assert_true(info.counters_known);
	struct sim_essp_state sim = fx_sim(&f);
	g_assert_cmphex(sim.inhibit_mask, ==, 0xFF);
	g_assert_cmpuint(sim.protocol, ==, 7);
	struct cash_status st = fx_status(&f);
	g_assert_cmpint(st.state, ==, DEV_STATE_OK);
	g_assert_cmpint(st.fault, ==, CASH_FAULT_NONE);
	g_assert_cmpuint(st.n_denoms, ==, 8);
	g_assert_cmpint(st.denoms_fils[0], ==, AED(5));
	g_assert_cmpint(st.denoms_fils[7], ==, AED(1000));

	/* Polling continues at poll_ms, and nothing else is sent when nothing happens. */
	size_t before = fx_writes(&f);
	fx_run_for(&f, 2000);
	cmds = fx_sent_cmds(&f, before);
	g_assert_cmpuint(cmds->len, >=, 9);
	g_assert_cmpuint(cmds->len, <=, 11);
	for (guint i = 0; i < cmds->len; i++)
		g_assert_cmphex(g_array_index(cmds, uint8_t, i), ==, ESSP_CMD_POLL);
	g_array_free(cmds, TRUE);

	/* Disable and enable a subset: the inhibit mask follows the kiosk's denominations. */
	g_assert_cmpint(f.unit->ops->disable(f.unit), ==, 0);
	fx_run_for(&f, 1000);
	g_assert_false(fx_sim(&f).enabled);
	g_assert_false(fx_status(&f).enabled);
	int64_t some[] = {AED(10), AED(50)};
	g_assert_cmpint(f.unit->ops->enable(f.unit, some, 2), ==, 0);
	fx_run_for(&f, 1000);
	g_assert_true(fx_sim(&f).enabled);
	g_assert_cmphex(fx_sim(&f).inhibit_mask, ==, 0x0A);
	int64_t bad[] = {0};
	g_assert_cmpint(f.unit->ops->enable(f.unit, bad, 1), ==, KIO_ERR_INVALID);
	g_assert_cmpint(f.unit->ops->escrow_accept(f.unit), ==, KIO_ERR_BUSY);
	g_assert_cmpint(f.unit->ops->escrow_return(f.unit), ==, KIO_ERR_BUSY);
	fx_fini(&f);
}

static void test_protocol_fallback(void)
{
	struct fx f;
	fx_init(&f);
	f.sim_cfg.max_protocol = 6;
	f.cfg.protocol_version = 8;
	fx_start(&f);
	g_assert_true(fx_run_until(&f, fx_in_run, 10000));
	g_assert_cmpuint(fx_info(&f).protocol, ==, 6);
	fx_enable_all(&f);
	f.on_escrow = 1;
	insert(&f, AED(100));
	g_assert_true(fx_run_until(&f, has_stacked, 10000));
	assert_one_credit(&f, AED(100));
	fx_fini(&f);
}

/* ---- Escrow ---- */

static void test_accept(void)
{
	struct fx f;
	fx_init(&f);
	fx_start(&f);
	fx_enable_all(&f);
	insert(&f, AED(20));
	g_assert_true(fx_run_until(&f, has_escrow, 5000));
	g_assert_cmpint(f.ev[f.n_ev - 1].value_fils, ==, AED(20));
	struct cash_status st = fx_status(&f);
	g_assert_true(st.escrow_held);
	g_assert_cmpint(st.escrow_fils, ==, AED(20));
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_ESCROW, NULL), ==, 1);

	/* Invariant 3: while the kiosk decides, HOLD keeps the note; no POLL would accept it.
	 * 8 s is close to the device's own 10 s escrow timeout (GA138): HOLD resets it. */
	size_t before = fx_writes(&f);
	fx_run_for(&f, 8000);
	GArray *cmds = fx_sent_cmds(&f, before);
	g_assert_cmpuint(cmds->len, >=, 30);
	for (guint i = 0; i < cmds->len; i++)
		g_assert_cmphex(g_array_index(cmds, uint8_t, i), ==, ESSP_CMD_HOLD);
	g_array_free(cmds, TRUE);
	g_assert_cmpint(fx_sim(&f).note, ==, SIM_ESSP_NOTE_ESCROW);

	g_assert_cmpint(f.unit->ops->escrow_accept(f.unit), ==, 0);
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_ACCEPTED, NULL), ==, 1);
	g_assert_true(fx_run_until(&f, has_stacked, 5000));
	assert_one_credit(&f, AED(20));
	/* Order: ESCROW, CREDITED, STACKED. */
	size_t i_esc = 0, i_cred = 0, i_stk = 0;
	for (size_t i = 0; i < f.n_ev; i++) {
		if (f.ev[i].kind == CASH_EV_ESCROW)
			i_esc = i + 1;
		if (f.ev[i].kind == CASH_EV_CREDITED)
			i_cred = i + 1;
		if (f.ev[i].kind == CASH_EV_STACKED)
			i_stk = i + 1;
	}
	g_assert_cmpuint(i_esc, <, i_cred);
	g_assert_cmpuint(i_cred, <, i_stk);
	/* One note, one journey: the three events name it, so a listener can never book it twice. */
	int64_t id = f.ev[i_esc - 1].note_id;
	g_assert_cmpint(id, >, 0);
	g_assert_cmpint(f.ev[i_cred - 1].note_id, ==, id);
	g_assert_cmpint(f.ev[i_stk - 1].note_id, ==, id);
	st = fx_status(&f);
	g_assert_false(st.escrow_held);
	g_assert_cmpuint(st.counts[2], ==, 1); /* AED 20 is the third denomination */
	g_assert_cmpuint(fx_info(&f).note_id, ==, 0);
	fx_fini(&f);
}

static void test_return(void)
{
	struct fx f;
	fx_init(&f);
	fx_start(&f);
	fx_enable_all(&f);
	f.on_escrow = 2;
	insert(&f, AED(50));
	g_assert_true(fx_run_until(&f, has_returned, 5000));
	g_assert_true(fx_run_until(&f, path_empty, 5000));
	fx_run_for(&f, 1000);
	g_assert_cmpuint(fx_count(&f, CASH_EV_RETURNED), ==, 1);
	g_assert_cmpint(fx_sum(&f, CASH_EV_RETURNED), ==, AED(50));
	g_assert_cmpuint(fx_count(&f, CASH_EV_CREDITED), ==, 0);
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_RETURNED, NULL), ==, 1);
	g_assert_cmpint(fx_sim(&f).cashbox_fils, ==, 0);
	g_assert_cmphex(fx_info(&f).last_reject, ==, ESSP_REJ_BY_HOST);
	fx_fini(&f);
}

static void test_decide_timeout(void)
{
	struct fx f;
	fx_init(&f);
	f.cfg.escrow_decide_ms = 3000;
	fx_start(&f);
	fx_enable_all(&f);
	insert(&f, AED(10));
	g_assert_true(fx_run_until(&f, has_escrow, 5000));
	g_assert_true(fx_run_until(&f, has_returned, 6000));
	g_assert_cmpint(f.unit->ops->escrow_accept(f.unit), ==, KIO_ERR_BUSY);
	fx_run_for(&f, 2000);
	g_assert_cmpuint(fx_count(&f, CASH_EV_CREDITED), ==, 0);
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_RETURNED, NULL), ==, 1);
	fx_fini(&f);
}

/* The device returns the note on its own when nothing reaches it for its escrow timeout. */
static void test_device_escrow_timeout(void)
{
	struct fx f;
	fx_init(&f);
	f.sim_cfg.escrow_timeout_ms = 2000;
	fx_start(&f);
	fx_enable_all(&f);
	insert(&f, AED(200));
	g_assert_true(fx_run_until(&f, has_escrow, 5000));
	sim_essp_set_fault(f.sim, SIM_ESSP_FAULT_NO_ANSWER, true);
	fx_run_for(&f, 3500); /* HOLDs unanswered; the device times the escrow out */
	sim_essp_set_fault(f.sim, SIM_ESSP_FAULT_NO_ANSWER, false);
	fx_notify(&f);
	g_assert_true(fx_run_until(&f, has_returned, 20000));
	g_assert_true(fx_run_until(&f, fx_in_run, 10000));
	fx_run_for(&f, 1000);
	g_assert_cmpuint(fx_count(&f, CASH_EV_RETURNED), ==, 1);
	g_assert_cmpuint(fx_count(&f, CASH_EV_CREDITED), ==, 0);
	g_assert_cmphex(fx_info(&f).last_reject, ==, ESSP_REJ_ESCROW_TIMEOUT);
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_RETURNED, NULL), ==, 1);
	g_assert_cmpint(fx_status(&f).fault, ==, CASH_FAULT_NONE);
	fx_fini(&f);
}

static void test_fake_rejected(void)
{
	struct fx f;
	fx_init(&f);
	fx_start(&f);
	fx_enable_all(&f);
	g_assert_cmpint(sim_essp_insert_fake(f.sim, 0x02), ==, 0);
	fx_notify(&f);
	g_assert_true(fx_run_until(&f, has_rejected, 5000));
	fx_run_for(&f, 1000);
	g_assert_cmpuint(fx_count(&f, CASH_EV_ESCROW), ==, 0);
	g_assert_cmpuint(fx_count(&f, CASH_EV_REJECTED), ==, 1);
	g_assert_cmphex(fx_info(&f).last_reject, ==, 0x02);
	fx_fini(&f);
}

/* ---- Link: repeats, loss, duplicates, corruption, garbage ---- */

/* Drops the reply to the k-th command after the note is accepted: the retry is the same
 * bytes, the device repeats instead of executing again, and the note counts once. */
static void test_dropped_reply_each_step(void)
{
	for (unsigned k = 0; k < 6; k++) {
		struct fx f;
		fx_init(&f);
		fx_start(&f);
		fx_enable_all(&f);
		insert(&f, AED(100));
		g_assert_true(fx_run_until(&f, has_escrow, 5000));
		size_t mark = fx_writes(&f);
		g_assert_cmpint(f.unit->ops->escrow_accept(f.unit), ==, 0);
		/* let k commands through, then lose one reply */
		for (unsigned i = 0; i < k; i++) {
			size_t w = fx_writes(&f);
			while (fx_writes(&f) == w)
				fx_run_for(&f, 50);
		}
		g_test_message("losing the reply to command %u after the accept", k);
		sim_essp_drop_replies(f.sim, 1);
		uint64_t repeats = fx_sim(&f).repeats;
		size_t at = fx_writes(&f);
		g_assert_true(fx_run_until(&f, has_stacked, 10000));
		fx_run_for(&f, 3000); /* past the reply timeout of whichever command lost it */
		assert_one_credit(&f, AED(100));
		g_assert_cmpuint(fx_sim(&f).repeats, ==, repeats + 1);
		g_assert_cmpuint(fx_info(&f).resends, ==, 1);
		/* The re-send is byte-identical to the write before it. */
		bool found = false;
		for (size_t i = at + 1; i < fx_writes(&f); i++) {
			GByteArray *a = g_ptr_array_index(f.tap->writes, i - 1);
			GByteArray *b = g_ptr_array_index(f.tap->writes, i);
			if (a->len == b->len && memcmp(a->data, b->data, a->len) == 0)
				found = true;
		}
		g_assert_true(found);
		(void)mark;
		fx_fini(&f);
	}
}

static void test_duplicate_replies(void)
{
	struct fx f;
	fx_init(&f);
	fx_start(&f);
	fx_enable_all(&f);
	sim_essp_duplicate_replies(f.sim, 50);
	f.on_escrow = 1;
	insert(&f, AED(5));
	g_assert_true(fx_run_until(&f, has_stacked, 10000));
	fx_run_for(&f, 2000);
	assert_one_credit(&f, AED(5));
	g_assert_cmpuint(fx_info(&f).stale_frames, >=, 5);
	fx_fini(&f);
}

static void test_corrupt_replies(void)
{
	struct fx f;
	fx_init(&f);
	fx_start(&f);
	fx_enable_all(&f);
	f.on_escrow = 1;
	insert(&f, AED(500));
	g_assert_true(fx_run_until(&f, has_escrow, 5000));
	sim_essp_corrupt_replies(f.sim, 3); /* the accepting POLL's reply and the next two */
	g_assert_true(fx_run_until(&f, has_stacked, 20000));
	fx_run_for(&f, 1000);
	assert_one_credit(&f, AED(500));
	g_assert_cmpuint(fx_info(&f).bad_frames, ==, 3);
	g_assert_cmpint(fx_status(&f).fault, ==, CASH_FAULT_NONE);
	fx_fini(&f);
}

static void test_dropped_commands(void)
{
	struct fx f;
	fx_init(&f);
	fx_start(&f);
	fx_enable_all(&f);
	f.on_escrow = 1;
	insert(&f, AED(1000));
	g_assert_true(fx_run_until(&f, has_escrow, 5000));
	sim_essp_drop_commands(f.sim, 2);
	g_assert_true(fx_run_until(&f, has_stacked, 20000));
	fx_run_for(&f, 1000);
	assert_one_credit(&f, AED(1000));
	g_assert_cmpuint(fx_info(&f).resends, >=, 2);
	fx_fini(&f);
}

/* Garbage, a frame cut off mid-way, a good frame for nobody and bytes arriving one at a
 * time all reach the driver; only the matching reply is acted on. */
static void test_garbage_and_partial_frames(void)
{
	struct fx f;
	fx_init(&f);
	fx_start(&f);
	f.tap->read_cap = 1;
	fx_enable_all(&f);
	static const uint8_t garbage[] = {0x00, 0xFF, 0x11, 0x7F, 0x80, 0x09, 0xF0, 0xEE, /* cut short */
					  0x7F, 0x7F, 0x55, 0x7E};
	g_byte_array_append(f.tap->inject, garbage, sizeof(garbage));
	/* A well-formed credit for channel 3 with the wrong SEQ/ID (stale): must not count. */
	uint8_t wire[ESSP_WIRE_MAX];
	size_t n;
	static const uint8_t credit[] = {ESSP_RESP_OK, ESSP_EV_CREDIT, 3, ESSP_EV_STACKED};
	g_assert_cmpint(essp_frame_encode(0x05, credit, sizeof(credit), wire, sizeof(wire), &n), ==, 0);
	g_byte_array_append(f.tap->inject, wire, (guint)n);
	fx_run_for(&f, 2000);
	g_assert_cmpuint(fx_count(&f, CASH_EV_CREDITED), ==, 0);
	g_assert_cmpuint(fx_info(&f).stale_frames, >=, 1);
	f.on_escrow = 1;
	insert(&f, AED(20));
	g_assert_true(fx_run_until(&f, has_stacked, 10000));
	fx_run_for(&f, 1000);
	assert_one_credit(&f, AED(20));
	fx_fini(&f);
}

/* Stuffing reaching the driver: a serial whose reply has 0x7F in its data and its CRC. */
static void test_stuffed_replies(void)
{
	uint32_t serial = 0;
	bool found = false;
	for (uint32_t s = 0x7F7F0000; s < 0x7F7F7F7F && !found; s++) {
		uint8_t data[5] = {ESSP_RESP_OK, (uint8_t)(s >> 24), (uint8_t)(s >> 16), (uint8_t)(s >> 8), (uint8_t)s};
		uint8_t raw[7] = {0x80, 5};
		memcpy(raw + 2, data, 5);
		uint16_t crc = essp_crc16(0xFFFF, raw, sizeof(raw));
		for (int flag = 0; flag < 2; flag++) {
			raw[0] = flag ? 0x80 : 0x00;
			crc = essp_crc16(0xFFFF, raw, sizeof(raw));
			if ((crc & 0xFF) == 0x7F || (crc >> 8) == 0x7F) {
				serial = s;
				found = true;
			}
		}
	}
	g_assert_true(found);
	struct fx f;
	fx_init(&f);
	f.sim_cfg.serial = serial;
	fx_start(&f);
	fx_enable_all(&f);
	g_assert_cmphex(fx_info(&f).serial, ==, serial);
	f.on_escrow = 1;
	insert(&f, AED(50));
	g_assert_true(fx_run_until(&f, has_stacked, 10000));
	fx_run_for(&f, 500);
	assert_one_credit(&f, AED(50));
	g_assert_cmpuint(fx_info(&f).bad_frames, ==, 0);
	fx_fini(&f);
}

/* ---- Faults ---- */

static bool fault_no_answer(struct fx *f) { return fx_status(f).fault == CASH_FAULT_NO_ANSWER; }
static bool fault_disconnected(struct fx *f) { return fx_status(f).fault == CASH_FAULT_DISCONNECTED; }
static bool fault_jam(struct fx *f) { return fx_status(f).fault == CASH_FAULT_JAM; }
static bool fault_full(struct fx *f) { return fx_status(f).fault == CASH_FAULT_STACKER_FULL; }
static bool fault_removed(struct fx *f) { return fx_status(f).fault == CASH_FAULT_CASHBOX_REMOVED; }
static bool fault_fraud(struct fx *f) { return fx_status(f).fault == CASH_FAULT_FRAUD; }
static bool no_fault_enabled(struct fx *f)
{
	struct cash_status st = fx_status(f);
	return st.fault == CASH_FAULT_NONE && st.state == DEV_STATE_OK && st.enabled && fx_sim(f).enabled;
}

static void test_no_answer(void)
{
	struct fx f;
	fx_init(&f);
	fx_start(&f);
	fx_enable_all(&f);
	sim_essp_set_fault(f.sim, SIM_ESSP_FAULT_NO_ANSWER, true);
	/* 1 s reply timeout × (1 + 3 re-sends) */
	g_assert_true(fx_run_until(&f, fault_no_answer, 5000));
	g_assert_cmpuint(fx_info(&f).resends, ==, 3);
	g_assert_cmpint(fx_status(&f).state, ==, DEV_STATE_OFFLINE);
	g_assert_cmpuint(fx_count_fault(&f, CASH_EV_FAULT, CASH_FAULT_NO_ANSWER), ==, 1);
	/* It keeps trying (SYNC every reconnect_ms) without raising the fault again. */
	fx_run_for(&f, 20000);
	g_assert_cmpuint(fx_count_fault(&f, CASH_EV_FAULT, CASH_FAULT_NO_ANSWER), ==, 1);
	uint64_t resyncs = fx_info(&f).resyncs;
	g_assert_cmpuint(resyncs, >=, 3);
	sim_essp_set_fault(f.sim, SIM_ESSP_FAULT_NO_ANSWER, false);
	g_assert_true(fx_run_until(&f, no_fault_enabled, 10000));
	g_assert_cmpuint(fx_count_fault(&f, CASH_EV_RECOVERED, CASH_FAULT_NO_ANSWER), ==, 1);
	f.on_escrow = 1;
	insert(&f, AED(10));
	g_assert_true(fx_run_until(&f, has_stacked, 10000));
	assert_one_credit(&f, AED(10));
	fx_fini(&f);
}

static void test_disconnect(void)
{
	struct fx f;
	fx_init(&f);
	fx_start(&f);
	fx_enable_all(&f);
	sim_essp_set_fault(f.sim, SIM_ESSP_FAULT_DISCONNECT, true);
	fx_notify(&f);
	g_assert_true(fx_run_until(&f, fault_disconnected, 2000));
	g_assert_cmpint(fx_status(&f).state, ==, DEV_STATE_OFFLINE);
	fx_run_for(&f, 10000);
	g_assert_cmpuint(fx_count_fault(&f, CASH_EV_FAULT, CASH_FAULT_DISCONNECTED), ==, 1);
	/* Replugged: a power-up like a real USB device (GA973 Reset: it re-enumerates). */
	sim_essp_power_cycle(f.sim, core_clock_now_ms(f.loop.clock));
	sim_essp_set_fault(f.sim, SIM_ESSP_FAULT_DISCONNECT, false);
	fx_notify(&f);
	g_assert_true(fx_run_until(&f, no_fault_enabled, 10000));
	g_assert_cmpuint(fx_count_fault(&f, CASH_EV_RECOVERED, CASH_FAULT_DISCONNECTED), ==, 1);
	g_assert_cmphex(fx_sim(&f).inhibit_mask, ==, 0xFF);
	fx_fini(&f);
}

/* Unplugged with a note accepted and stacking; plugged back without power loss. */
static void test_disconnect_mid_note(void)
{
	struct fx f;
	fx_init(&f);
	fx_start(&f);
	fx_enable_all(&f);
	insert(&f, AED(100));
	g_assert_true(fx_run_until(&f, has_escrow, 5000));
	g_assert_cmpint(f.unit->ops->escrow_accept(f.unit), ==, 0);
	fx_run_for(&f, 10); /* the accepting POLL goes out: STACKING */
	g_assert_cmpint(fx_sim(&f).note, ==, SIM_ESSP_NOTE_STACKING);
	sim_essp_set_fault(f.sim, SIM_ESSP_FAULT_DISCONNECT, true);
	fx_notify(&f);
	g_assert_true(fx_run_until(&f, fault_disconnected, 2000));
	sim_essp_set_fault(f.sim, SIM_ESSP_FAULT_DISCONNECT, false);
	fx_notify(&f);
	g_assert_true(fx_run_until(&f, has_stacked, 10000));
	g_assert_true(fx_run_until(&f, no_fault_enabled, 10000));
	assert_one_credit(&f, AED(100));
	fx_fini(&f);
}

static void test_jam(void)
{
	struct fx f;
	fx_init(&f);
	fx_start(&f);
	fx_enable_all(&f);
	insert(&f, AED(20));
	g_assert_true(fx_run_until(&f, has_escrow, 5000));
	g_assert_cmpint(f.unit->ops->escrow_accept(f.unit), ==, 0);
	fx_run_for(&f, 10);
	sim_essp_set_fault(f.sim, SIM_ESSP_FAULT_JAM, true); /* jams where it is: stacking */
	g_assert_true(fx_run_until(&f, fault_jam, 2000));
	g_assert_cmpint(fx_status(&f).state, ==, DEV_STATE_FAULT);
	fx_run_for(&f, 5000);
	/* Unsafe jam: no credit, the journey stays open (GA973 "Unsafe jam"). */
	g_assert_cmpuint(fx_count(&f, CASH_EV_CREDITED), ==, 0);
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_ACCEPTED, NULL), ==, 1);
	/* A technician clears it and power-cycles: the note comes out of the front. */
	sim_essp_set_fault(f.sim, SIM_ESSP_FAULT_JAM, false);
	sim_essp_power_cycle(f.sim, core_clock_now_ms(f.loop.clock));
	fx_notify(&f);
	g_assert_true(fx_run_until(&f, has_returned, 10000));
	g_assert_true(fx_run_until(&f, no_fault_enabled, 10000));
	g_assert_cmpuint(fx_count_fault(&f, CASH_EV_RECOVERED, CASH_FAULT_JAM), ==, 1);
	g_assert_cmpuint(fx_count(&f, CASH_EV_CREDITED), ==, 0);
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_RETURNED, NULL), ==, 1);
	g_assert_cmpint(fx_sim(&f).cashbox_fils, ==, 0);
	fx_fini(&f);
}

static void test_stacker_full(void)
{
	struct fx f;
	fx_init(&f);
	f.sim_cfg.cashbox_capacity = 1;
	fx_start(&f);
	fx_enable_all(&f);
	f.on_escrow = 1;
	insert(&f, AED(50));
	/* CREDIT, STACKING, then STACKED with STACKER FULL (GA973 "Stacker full"). */
	g_assert_true(fx_run_until(&f, fault_full, 10000));
	assert_one_credit(&f, AED(50));
	g_assert_cmpint(sim_essp_insert_note(f.sim, AED(50)), ==, KIO_ERR_BUSY);
	fx_run_for(&f, 3000);
	g_assert_cmpuint(fx_count_fault(&f, CASH_EV_FAULT, CASH_FAULT_STACKER_FULL), ==, 1);
	fx_fini(&f);
}

static void test_cashbox_removed(void)
{
	struct fx f;
	fx_init(&f);
	f.sim_cfg.power_up_protocol = 5;
	fx_start(&f);
	fx_enable_all(&f);
	sim_essp_set_fault(f.sim, SIM_ESSP_FAULT_CASHBOX_REMOVED, true);
	fx_notify(&f);
	g_assert_true(fx_run_until(&f, fault_removed, 2000));
	fx_run_for(&f, 2000);
	g_assert_cmpuint(fx_count_fault(&f, CASH_EV_FAULT, CASH_FAULT_CASHBOX_REMOVED), ==, 1);
	sim_essp_set_fault(f.sim, SIM_ESSP_FAULT_CASHBOX_REMOVED, false);
	fx_notify(&f);
	g_assert_true(fx_run_until(&f, no_fault_enabled, 3000));
	g_assert_cmpuint(fx_count_fault(&f, CASH_EV_RECOVERED, CASH_FAULT_CASHBOX_REMOVED), ==, 1);
	fx_fini(&f);
}

static void test_fraud(void)
{
	struct fx f;
	fx_init(&f);
	f.cfg.fraud_clear_ms = 5000;
	fx_start(&f);
	fx_enable_all(&f);
	sim_essp_set_fault(f.sim, SIM_ESSP_FAULT_FRAUD, true);
	f.on_escrow = 1;
	insert(&f, AED(100));
	g_assert_true(fx_run_until(&f, fault_fraud, 3000));
	g_assert_cmpint(fx_status(&f).state, ==, DEV_STATE_FAULT);
	sim_essp_set_fault(f.sim, SIM_ESSP_FAULT_FRAUD, false);
	g_assert_true(fx_run_until(&f, no_fault_enabled, 6000));
	g_assert_cmpuint(fx_count(&f, CASH_EV_ESCROW), ==, 0);
	g_assert_cmpuint(fx_count(&f, CASH_EV_CREDITED), ==, 0);
	g_assert_cmpuint(fx_count_fault(&f, CASH_EV_RECOVERED, CASH_FAULT_FRAUD), ==, 1);
	g_assert_cmpint(fx_sim(&f).cashbox_fils, ==, 0);
	fx_fini(&f);
}

/* The device disables itself after 10 s without a command (GA973 §7.4); the driver puts it
 * back when the kiosk wants it enabled. */
static void test_self_disable(void)
{
	struct fx f;
	fx_init(&f);
	fx_start(&f);
	fx_enable_all(&f);
	sim_essp_set_fault(f.sim, SIM_ESSP_FAULT_NO_ANSWER, true);
	fx_run_for(&f, 11000);
	sim_essp_set_fault(f.sim, SIM_ESSP_FAULT_NO_ANSWER, false);
	sim_essp_tick(f.sim, core_clock_now_ms(f.loop.clock));
	g_assert_true(fx_run_until(&f, no_fault_enabled, 10000));
	fx_fini(&f);
}

static size_t count_cmd(GArray *cmds, uint8_t code);

/*
 * A disabled acceptor with no note in its path is polled every idle_poll_ms, not every
 * poll_ms (idle CPU on attract, issue 14), and still reports a fault within a couple of
 * seconds; enabling it brings the fast polls back at once, disabling sends it back to idle.
 */
static void test_idle_poll(void)
{
	struct fx f;
	fx_init(&f);
	g_assert_cmpuint(f.cfg.idle_poll_ms, ==, 1000); /* the default */
	fx_start(&f);
	g_assert_true(fx_run_until(&f, fx_in_run, 10000));
	g_assert_false(fx_sim(&f).enabled);
	size_t before = fx_writes(&f);
	fx_run_for(&f, 10000);
	GArray *cmds = fx_sent_cmds(&f, before);
	g_assert_cmpuint(count_cmd(cmds, ESSP_CMD_POLL), >=, 9);
	g_assert_cmpuint(count_cmd(cmds, ESSP_CMD_POLL), <=, 11);
	g_assert_cmpuint(cmds->len, ==, count_cmd(cmds, ESSP_CMD_POLL));
	g_array_free(cmds, TRUE);

	/* A fault while disabled still shows within the idle period and its reply. */
	sim_essp_set_fault(f.sim, SIM_ESSP_FAULT_CASHBOX_REMOVED, true);
	fx_notify(&f);
	g_assert_true(fx_run_until(&f, fault_removed, 2000));
	sim_essp_set_fault(f.sim, SIM_ESSP_FAULT_CASHBOX_REMOVED, false);
	fx_notify(&f);
	fx_run_for(&f, 2000);
	g_assert_cmpint(fx_status(&f).fault, ==, CASH_FAULT_NONE);

	/* Enabled: the kiosk's request goes out at once and the polls are every poll_ms. */
	int64_t all[] = {AED(5), AED(10), AED(20), AED(50), AED(100), AED(200), AED(500), AED(1000)};
	g_assert_cmpint(f.unit->ops->enable(f.unit, all, 8), ==, 0);
	fx_run_for(&f, 100);
	g_assert_true(fx_sim(&f).enabled);
	before = fx_writes(&f);
	fx_run_for(&f, 2000);
	cmds = fx_sent_cmds(&f, before);
	g_assert_cmpuint(count_cmd(cmds, ESSP_CMD_POLL), >=, 9);
	g_assert_cmpuint(count_cmd(cmds, ESSP_CMD_POLL), <=, 11);
	g_array_free(cmds, TRUE);

	/* A note is read at the fast rate and the journey is the same as ever. */
	f.on_escrow = 1;
	insert(&f, AED(50));
	g_assert_true(fx_run_until(&f, has_stacked, 5000));
	assert_one_credit(&f, AED(50));

	/* Disabled again: back to the idle period. */
	g_assert_cmpint(f.unit->ops->disable(f.unit), ==, 0);
	fx_run_for(&f, 1000);
	g_assert_false(fx_sim(&f).enabled);
	before = fx_writes(&f);
	fx_run_for(&f, 10000);
	cmds = fx_sent_cmds(&f, before);
	g_assert_cmpuint(count_cmd(cmds, ESSP_CMD_POLL), <=, 11);
	g_assert_cmpuint(count_cmd(cmds, ESSP_CMD_POLL), >=, 9);
	g_array_free(cmds, TRUE);
	fx_fini(&f);
}

/* ---- Power cycles with a note in the path (GA138 power-up events) ---- */

static void test_power_cycle_held(void)
{
	struct fx f;
	fx_init(&f);
	fx_start(&f);
	fx_enable_all(&f);
	insert(&f, AED(10));
	g_assert_true(fx_run_until(&f, has_escrow, 5000));
	sim_essp_power_cycle(f.sim, core_clock_now_ms(f.loop.clock)); /* CLEARED FROM FRONT */
	fx_notify(&f);
	g_assert_true(fx_run_until(&f, has_returned, 10000));
	g_assert_true(fx_run_until(&f, no_fault_enabled, 10000));
	g_assert_cmpuint(fx_count(&f, CASH_EV_CREDITED), ==, 0);
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_RETURNED, NULL), ==, 1);
	fx_fini(&f);
}

static void test_power_cycle_stacking(void)
{
	struct fx f;
	fx_init(&f);
	fx_start(&f);
	fx_enable_all(&f);
	insert(&f, AED(200));
	g_assert_true(fx_run_until(&f, has_escrow, 5000));
	g_assert_cmpint(f.unit->ops->escrow_accept(f.unit), ==, 0);
	fx_run_for(&f, 10);
	g_assert_cmpint(fx_sim(&f).note, ==, SIM_ESSP_NOTE_STACKING);
	sim_essp_power_cycle(f.sim, core_clock_now_ms(f.loop.clock)); /* CLEARED INTO CASHBOX */
	fx_notify(&f);
	g_assert_true(fx_run_until(&f, has_stacked, 10000));
	g_assert_true(fx_run_until(&f, no_fault_enabled, 10000));
	fx_run_for(&f, 1000);
	assert_one_credit(&f, AED(200));
	fx_fini(&f);
}

static void test_power_cycle_after_credit(void)
{
	struct fx f;
	fx_init(&f);
	fx_start(&f);
	fx_enable_all(&f);
	insert(&f, AED(500));
	g_assert_true(fx_run_until(&f, has_escrow, 5000));
	g_assert_cmpint(f.unit->ops->escrow_accept(f.unit), ==, 0);
	g_assert_true(fx_run_until(&f, has_credit, 5000));
	g_assert_cmpint(fx_sim(&f).note, ==, SIM_ESSP_NOTE_CREDITED);
	sim_essp_power_cycle(f.sim, core_clock_now_ms(f.loop.clock));
	fx_notify(&f);
	g_assert_true(fx_run_until(&f, has_stacked, 10000));
	g_assert_true(fx_run_until(&f, no_fault_enabled, 10000));
	fx_run_for(&f, 1000);
	assert_one_credit(&f, AED(500)); /* CLEARED INTO CASHBOX does not credit it again */
	fx_fini(&f);
}


/* ---- Settling with a journal that fails ---- */

static bool listed(struct fx *f) { return f->journal.n_list > 0; }

/* Asks for every denomination and lets 5 s pass: the device may or may not enable. */
static void fx_enable_all_or_timeout(struct fx *f)
{
	int64_t all[] = {AED(5), AED(10), AED(20), AED(50), AED(100), AED(200), AED(500), AED(1000)};
	g_assert_cmpint(f->unit->ops->enable(f->unit, all, 8), ==, 0);
	fx_run_for(f, 5000);
}

/* ---- A note the driver cannot take safely goes back (invariant 8) ---- */

/* The one REJECTED event of the run; fails the test if there is not exactly one. */
static struct cash_event the_rejected(const struct fx *f)
{
	g_assert_cmpuint(fx_count(f, CASH_EV_REJECTED), ==, 1);
	for (size_t i = 0; i < f->n_ev; i++)
		if (f->ev[i].kind == CASH_EV_REJECTED)
			return f->ev[i];
	g_assert_not_reached();
}

static size_t count_cmd(GArray *cmds, uint8_t code)
{
	size_t n = 0;
	for (guint i = 0; i < cmds->len; i++)
		n += g_array_index(cmds, uint8_t, i) == code;
	return n;
}

static int64_t journeys(struct fx *f)
{
	int64_t n = 0;
	for (int s = 0; s < CASH_NOTE_STATE_COUNT; s++)
		n += fx_journal(f, (enum cash_note_state)s, NULL);
	return n;
}

/*
 * Issue 9 follow-up: GET COUNTERS fails at escrow on every try. The note used to be
 * journaled without a snapshot and offered to the kiosk; accepted, and had the kiosk died
 * with the note's events lost, no SETTLE could decide it (a technician had to). Now the
 * driver asks again (cfg.retries), then returns the note from escrow unjournaled and says
 * why: REJECTED with cause no-counters and the note's value. The next note, whose counters
 * answer, is taken as usual, without a new session.
 */
static void test_counters_fail_at_escrow(void)
{
	struct fx f;
	fx_init(&f);
	fx_start(&f);
	fx_enable_all(&f);
	f.on_escrow = 1;
	uint64_t resyncs = fx_info(&f).resyncs;
	size_t from = fx_writes(&f);
	sim_essp_refuse_command(f.sim, ESSP_CMD_GET_COUNTERS, f.cfg.retries + 1);
	insert(&f, AED(100));
	g_assert_true(fx_run_until(&f, has_rejected, 5000));
	g_assert_true(fx_run_until(&f, path_empty, 5000));
	fx_run_for(&f, 1000);
	struct cash_event ev = the_rejected(&f);
	g_assert_cmpint(ev.cause, ==, CASH_CAUSE_NO_COUNTERS);
	g_assert_cmpint(ev.value_fils, ==, AED(100));
	g_assert_cmpint(ev.note_id, ==, 0);
	g_assert_cmpuint(fx_count(&f, CASH_EV_ESCROW), ==, 0);
	g_assert_cmpuint(fx_count(&f, CASH_EV_CREDITED), ==, 0);
	g_assert_cmpuint(fx_count(&f, CASH_EV_RETURNED), ==, 0);
	g_assert_cmpint(journeys(&f), ==, 0);
	g_assert_cmpint(fx_sim(&f).cashbox_fils, ==, 0);
	g_assert_cmphex(fx_sim(&f).last_reject, ==, ESSP_REJ_BY_HOST);
	GArray *cmds = fx_sent_cmds(&f, from);
	g_assert_cmpuint(count_cmd(cmds, ESSP_CMD_GET_COUNTERS), ==, f.cfg.retries + 1);
	g_assert_cmpuint(count_cmd(cmds, ESSP_CMD_REJECT), ==, 1);
	g_assert_cmpuint(count_cmd(cmds, ESSP_CMD_HOLD), ==, 0);
	g_array_free(cmds, TRUE);

	insert(&f, AED(20));
	g_assert_true(fx_run_until(&f, has_stacked, 10000));
	assert_one_credit(&f, AED(20));
	g_assert_cmpuint(fx_count(&f, CASH_EV_ESCROW), ==, 1);
	g_assert_cmpuint(fx_info(&f).resyncs, ==, resyncs);
	g_assert_cmpint(fx_status(&f).fault, ==, CASH_FAULT_NONE);
	fx_fini(&f);
}

/* Counters that fail fewer times than cfg.retries: asked again, the note is journaled with
 * its snapshot and offered as usual. Before: journaled at the first failure without one. */
static void test_counters_fail_then_answer(void)
{
	struct fx f;
	fx_init(&f);
	fx_start(&f);
	fx_enable_all(&f);
	/* Something in the cashbox already, so the snapshot is not simply zero. */
	f.on_escrow = 1;
	insert(&f, AED(5));
	g_assert_true(fx_run_until(&f, has_stacked, 10000));
	f.on_escrow = 0;
	f.n_ev = 0;
	sim_essp_refuse_command(f.sim, ESSP_CMD_GET_COUNTERS, f.cfg.retries);
	insert(&f, AED(50));
	g_assert_true(fx_run_until(&f, has_escrow, 5000));
	struct cash_note open[2];
	size_t n = 0;
	struct kio_error err;
	g_assert_cmpint(cash_journal_list_open(f.journal.inner, fx_info(&f).device, open, 2, &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 1);
	g_assert_true(open[0].counters_known);
	g_assert_cmpuint(open[0].stacked_before, ==, 1);
	g_assert_cmpint(f.unit->ops->escrow_accept(f.unit), ==, 0);
	g_assert_true(fx_run_until(&f, has_stacked, 10000));
	g_assert_cmpint(fx_sum(&f, CASH_EV_CREDITED), ==, AED(50));
	g_assert_cmpuint(fx_count(&f, CASH_EV_REJECTED), ==, 0);
	fx_fini(&f);
}

/*
 * The journal refuses the escrow (a note we cannot record is a note we must not take): the
 * note goes back, REJECTED says why (cause not-recorded). The next note is taken as usual.
 * Before: the driver kept the returned note as "returning" after REJECTED, so the next
 * note's READ looked like a second note in the path: a new session, and it was refused.
 */
static void test_escrow_not_recorded(void)
{
	struct fx f;
	fx_init(&f);
	fx_start(&f);
	fx_enable_all(&f);
	f.on_escrow = 1;
	uint64_t resyncs = fx_info(&f).resyncs;
	f.journal.fail_begin = 1;
	insert(&f, AED(50));
	g_assert_true(fx_run_until(&f, has_rejected, 5000));
	g_assert_true(fx_run_until(&f, path_empty, 5000));
	fx_run_for(&f, 1000);
	struct cash_event ev = the_rejected(&f);
	g_assert_cmpint(ev.cause, ==, CASH_CAUSE_NOT_RECORDED);
	g_assert_cmpint(ev.value_fils, ==, AED(50));
	g_assert_cmpuint(fx_count(&f, CASH_EV_ESCROW), ==, 0);
	g_assert_cmpint(journeys(&f), ==, 0);

	insert(&f, AED(10));
	g_assert_true(fx_run_until(&f, has_stacked, 10000));
	assert_one_credit(&f, AED(10));
	g_assert_cmpuint(fx_info(&f).resyncs, ==, resyncs);
	g_assert_cmpuint(fx_count(&f, CASH_EV_REJECTED), ==, 1);
	fx_fini(&f);
}

/* Stops a run at a kill point of essp-cash.c; `lose_next` loses the next command (the
 * process died before writing it). */
static struct stop_at {
	struct fx *f;
	const char *point;
	bool lose_next, hit;
} stop_at;

static void stop_checkpoint(void *user, const char *point)
{
	struct stop_at *s = user;
	if (s->hit || strcmp(point, s->point) != 0)
		return;
	s->hit = true;
	if (s->lose_next)
		sim_essp_drop_commands(s->f->sim, 1);
}

static bool stopped(struct fx *f)
{
	(void)f;
	return stop_at.hit;
}

/*
 * The kiosk dies with the unjournaled note on its way back: at escrow-refused (decided, the
 * REJECT never written) or return-sent (REJECT written, its reply lost with the process).
 * The new process's SETTLE returns it or sees it returned: no journey, no credit, nothing
 * left open; the device takes the next note.
 */
static void test_counters_fail_restart(void)
{
	static const char *const points[] = {"escrow-refused", "return-sent"};
	for (int k = 0; k < 2; k++) {
		struct fx f;
		fx_init(&f);
		stop_at = (struct stop_at){.f = &f, .point = points[k], .lose_next = k == 0};
		f.cfg.checkpoint = stop_checkpoint;
		f.cfg.checkpoint_user = &stop_at;
		fx_start(&f);
		fx_enable_all(&f);
		f.on_escrow = 1;
		sim_essp_refuse_command(f.sim, ESSP_CMD_GET_COUNTERS, f.cfg.retries + 1);
		insert(&f, AED(200));
		g_assert_true(fx_run_until(&f, stopped, 5000));
		f.cfg.checkpoint = NULL;
		fx_restart(&f);
		g_assert_cmpint(fx_sim(&f).note, ==, k == 0 ? SIM_ESSP_NOTE_ESCROW : SIM_ESSP_NOTE_REJECTING);
		fx_enable_all(&f);
		g_assert_true(fx_run_until(&f, path_empty, 10000));
		g_assert_cmpint(journeys(&f), ==, 0);
		g_assert_cmpint(fx_sim(&f).cashbox_fils, ==, 0);
		g_assert_cmpuint(fx_count(&f, CASH_EV_CREDITED), ==, 0);
		insert(&f, AED(10));
		g_assert_true(fx_run_until(&f, has_stacked, 10000));
		assert_one_credit(&f, AED(10));
		fx_fini(&f);
	}
}

/*
 * Issue 9: a note went back to the customer while the kiosk was down (its journey still
 * says ESCROW, the stacked counter did not move), and the journal could not list open
 * journeys once at the next start. The driver went on to RUN; the next note moved the
 * counter, and the start after that credited the returned note by the counters: two
 * credits, 3,000 fils, with 2,000 in the cashbox. It must stay in SETTLE, disabled, and
 * list again.
 */
static void test_settle_list_fails(void)
{
	struct fx f;
	fx_init(&f);
	fx_prepare(&f);
	struct cash_note j = {.channel = 2, .value_fils = AED(10), .state = CASH_NOTE_ESCROW, .counters_known = true};
	snprintf(j.device, sizeof(j.device), "essp:%08X", f.sim_cfg.serial);
	struct kio_error err;
	g_assert_cmpint(cash_journal_begin(f.journal.inner, &j, &err), ==, 0);
	f.journal.fail_list = 1;
	fx_start(&f);
	int64_t all[] = {AED(5), AED(10), AED(20), AED(50), AED(100), AED(200), AED(500), AED(1000)};
	g_assert_cmpint(f.unit->ops->enable(f.unit, all, 8), ==, 0);
	g_assert_true(fx_run_until(&f, listed, 5000));
	/* Nothing moves while the journeys are unknown: no command, the device disabled. */
	size_t writes = fx_writes(&f);
	fx_run_for(&f, 1500);
	g_assert_cmpstr(fx_info(&f).phase, ==, "settle");
	g_assert_cmpuint(fx_writes(&f), ==, writes);
	g_assert_false(fx_sim(&f).enabled);
	g_assert_false(fx_status(&f).enabled);
	/* Said as the reason cash waits, not as "starting" (a fault of none). */
	g_assert_cmpint(fx_status(&f).fault, ==, CASH_FAULT_UNDECIDED);
	/* The retry lists it, and the counters say it never reached the cashbox. */
	g_assert_true(fx_run_until(&f, no_fault_enabled, 5000));
	g_assert_cmpuint(fx_count_fault(&f, CASH_EV_FAULT, CASH_FAULT_UNDECIDED), ==, 1);
	g_assert_cmpuint(fx_count_fault(&f, CASH_EV_RECOVERED, CASH_FAULT_UNDECIDED), ==, 1);
	g_assert_cmpuint(f.journal.n_list, ==, 2);
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_RETURNED, NULL), ==, 1);
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_ESCROW, NULL), ==, 0);

	/* The next note, then a new session: one credit, the note in the cashbox. */
	f.on_escrow = 1;
	insert(&f, AED(20));
	g_assert_true(fx_run_until(&f, has_stacked, 10000));
	sim_essp_power_cycle(f.sim, core_clock_now_ms(f.loop.clock));
	fx_notify(&f);
	fx_run_for(&f, 3000);
	g_assert_true(fx_run_until(&f, no_fault_enabled, 10000));
	g_assert_cmpuint(f.journal.n_list, ==, 3);
	/* Before the fix: CREDITED 1,000 (the returned note) + 2,000, with 2,000 in the box. */
	g_assert_cmpuint(fx_count(&f, CASH_EV_CREDITED), ==, 1);
	g_assert_cmpint(fx_sum(&f, CASH_EV_CREDITED), ==, AED(20));
	int64_t total = 0;
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_STACKED, &total), ==, 1);
	g_assert_cmpint(total, ==, AED(20));
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_RETURNED, NULL), ==, 1);
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_ESCROW, NULL) + fx_journal(&f, CASH_NOTE_ACCEPTED, NULL) +
				fx_journal(&f, CASH_NOTE_CREDITED, NULL),
			==, 0);
	g_assert_cmpint(fx_sim(&f).cashbox_fils, ==, AED(20));
	fx_fini(&f);
}

/* An open journey at start-up and a device that will not give its counters for a while:
 * SETTLE cannot decide it and says so (fault UNDECIDED, once), not "starting"; when the
 * counters come, the journey is decided and the fault clears. */
static void test_settle_no_counters_says_so(void)
{
	struct fx f;
	fx_init(&f);
	fx_prepare(&f);
	struct cash_note j = {.channel = 2, .value_fils = AED(10), .state = CASH_NOTE_ESCROW, .counters_known = true};
	snprintf(j.device, sizeof(j.device), "essp:%08X", f.sim_cfg.serial);
	struct kio_error err;
	g_assert_cmpint(cash_journal_begin(f.journal.inner, &j, &err), ==, 0);
	sim_essp_refuse_command(f.sim, ESSP_CMD_GET_COUNTERS, 3);
	fx_start(&f);
	int64_t all[] = {AED(5), AED(10), AED(20), AED(50), AED(100), AED(200), AED(500), AED(1000)};
	g_assert_cmpint(f.unit->ops->enable(f.unit, all, 8), ==, 0);
	fx_run_for(&f, 1500);
	g_assert_cmpstr(fx_info(&f).phase, ==, "settle");
	g_assert_false(fx_status(&f).enabled);
	g_assert_cmpint(fx_status(&f).fault, ==, CASH_FAULT_UNDECIDED);
	g_assert_true(fx_run_until(&f, no_fault_enabled, 20000));
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_RETURNED, NULL), ==, 1);
	g_assert_cmpuint(fx_count_fault(&f, CASH_EV_FAULT, CASH_FAULT_UNDECIDED), ==, 1);
	g_assert_cmpuint(fx_count_fault(&f, CASH_EV_RECOVERED, CASH_FAULT_UNDECIDED), ==, 1);
	g_assert_cmpuint(fx_count(&f, CASH_EV_CREDITED), ==, 0);
	fx_fini(&f);
}

/* A journal that fails for a long time keeps the device disabled all along, and says so
 * once, not at every retry. */
static void test_settle_list_fails_long(void)
{
	struct fx f;
	fx_init(&f);
	f.journal.fail_list = 5;
	fx_start(&f);
	fx_enable_all(&f);
	g_assert_cmpuint(f.journal.n_list, ==, 6);
	/* One fault while it lasted, not one per retry. */
	g_assert_cmpuint(fx_count_fault(&f, CASH_EV_FAULT, CASH_FAULT_UNDECIDED), ==, 1);
	g_assert_cmpint(fx_status(&f).fault, ==, CASH_FAULT_NONE);
	g_assert_cmpuint(fx_count(&f, CASH_EV_CREDITED), ==, 0);
	fx_fini(&f);
}

/*
 * More open journeys than fit the driver's first list: every one is taken in hand, the
 * newest as the note in the path, each older one decided by the counters against the
 * snapshot of the journey after it.
 */
static void test_settle_many_open(void)
{
	struct fx f;
	fx_init(&f);
	fx_prepare(&f);
	const int n = 20;
	char dev[CASH_NOTE_DEVICE_MAX];
	snprintf(dev, sizeof(dev), "essp:%08X", f.sim_cfg.serial);
	struct kio_error err;
	/* Journeys 0..n-1, all ESCROW with the counter at 0: none reached the cashbox. */
	for (int i = 0; i < n; i++) {
		struct cash_note j = {.channel = 1, .value_fils = AED(5), .state = CASH_NOTE_ESCROW,
				      .counters_known = true};
		snprintf(j.device, sizeof(j.device), "%s", dev);
		g_assert_cmpint(cash_journal_begin(f.journal.inner, &j, &err), ==, 0);
	}
	fx_start(&f);
	fx_enable_all(&f);
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_RETURNED, NULL), ==, n);
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_ESCROW, NULL), ==, 0);
	g_assert_cmpuint(fx_count(&f, CASH_EV_CREDITED), ==, 0);
	fx_fini(&f);
}

/*
 * The newest open journey is the note the device still holds: a new process's SETTLE
 * finishes it from the device's events (CLEARED INTO CASHBOX of a 200 note at power-up),
 * never an older journey of another value, and more open journeys than the driver's first
 * list held change nothing.
 */
static void test_settle_newest_in_path(void)
{
	struct fx f;
	fx_init(&f);
	fx_start(&f);
	fx_enable_all(&f);
	char dev[CASH_NOTE_DEVICE_MAX];
	snprintf(dev, sizeof(dev), "essp:%08X", f.sim_cfg.serial);
	struct kio_error err;
	for (int i = 0; i < 12; i++) {
		/* Older notes of AED 5 that went back with nobody to record it. */
		struct cash_note j = {.channel = 1, .value_fils = AED(5), .state = CASH_NOTE_ESCROW,
				      .counters_known = true};
		snprintf(j.device, sizeof(j.device), "%s", dev);
		g_assert_cmpint(cash_journal_begin(f.journal.inner, &j, &err), ==, 0);
	}
	insert(&f, AED(200));
	g_assert_true(fx_run_until(&f, has_escrow, 5000));
	g_assert_cmpint(f.unit->ops->escrow_accept(f.unit), ==, 0);
	fx_run_for(&f, 10);
	g_assert_cmpint(fx_sim(&f).note, ==, SIM_ESSP_NOTE_STACKING);
	/* The kiosk dies and the power goes: a new process meets CLEARED INTO CASHBOX. */
	sim_essp_power_cycle(f.sim, core_clock_now_ms(f.loop.clock));
	fx_restart(&f);
	fx_enable_all(&f);
	fx_run_for(&f, 1000);
	g_assert_cmpuint(fx_count(&f, CASH_EV_CREDITED), ==, 1);
	g_assert_cmpint(fx_sum(&f, CASH_EV_CREDITED), ==, AED(200));
	int64_t total = 0;
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_STACKED, &total), ==, 1);
	g_assert_cmpint(total, ==, AED(200));
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_RETURNED, NULL), ==, 12);
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_ESCROW, NULL) + fx_journal(&f, CASH_NOTE_ACCEPTED, NULL) +
				fx_journal(&f, CASH_NOTE_CREDITED, NULL),
			==, 0);
	g_assert_cmpint(fx_sim(&f).cashbox_fils, ==, AED(200));
	fx_fini(&f);
}

/* Fils the journal counts as credited (CREDITED or STACKED). */
static int64_t credited_fils(struct fx *f)
{
	int64_t a = 0, b = 0;
	fx_journal(f, CASH_NOTE_CREDITED, &a);
	fx_journal(f, CASH_NOTE_STACKED, &b);
	return a + b;
}

/* Another host drives the device (a technician's tool): raw commands, replies dropped. */
static void other_host(struct fx *f, struct essp_seq *seq, void (*build)(struct essp_cmd *))
{
	struct essp_cmd c;
	struct essp_packet pkt;
	build(&c);
	g_assert_cmpint(essp_seq_prepare(seq, &c, &pkt), ==, 0);
	g_assert_cmpint(sim_essp_write(f->sim, pkt.bytes, pkt.len, core_clock_now_ms(f->loop.clock)), ==, 0);
	uint8_t junk[512];
	while (sim_essp_read(f->sim, junk, sizeof(junk)) > 0)
		;
	seq->flag = !seq->flag;
}

static void inhibits_all(struct essp_cmd *c) { essp_cmd_set_inhibits(c, 0x00FF); }

/*
 * Audit of the settle path: a credit the device reports for a note with no journey (here a
 * 50 note another host left stacking when the power went: CLEARED INTO CASHBOX at power-up)
 * waits while the journal refuses to begin it (invariant 6). If the link is lost meanwhile,
 * the new session dropped the waiting events, the device never repeats them and no journey
 * or counter tells SETTLE about the note: 5,000 fils in the cashbox, never credited. Events
 * the device reported are facts: they are handled before anything else when the journal
 * takes writes again, whatever session it is by then.
 */
static void test_blocked_credit_survives_link_loss(void)
{
	struct fx f;
	fx_init(&f);
	fx_prepare(&f);
	struct essp_seq seq;
	essp_seq_init(&seq, ESSP_ADDR_VALIDATOR);
	other_host(&f, &seq, essp_cmd_sync);
	other_host(&f, &seq, inhibits_all);
	other_host(&f, &seq, essp_cmd_enable);
	g_assert_cmpint(sim_essp_insert_note(f.sim, AED(50)), ==, 0);
	for (int i = 0; i < 3; i++) /* READ 0, READ ch (escrow), accepted: stacking */
		other_host(&f, &seq, essp_cmd_poll);
	g_assert_cmpint(fx_sim(&f).note, ==, SIM_ESSP_NOTE_STACKING);
	sim_essp_power_cycle(f.sim, core_clock_now_ms(f.loop.clock));
	g_assert_cmpint(fx_sim(&f).cashbox_fils, ==, AED(50));

	f.journal.fail_begin = 1000;
	fx_start(&f);
	fx_run_for(&f, 5000); /* the CLEARED INTO CASHBOX event waits for the journal */
	g_assert_cmpuint(fx_count(&f, CASH_EV_CREDITED), ==, 0);
	sim_essp_set_fault(f.sim, SIM_ESSP_FAULT_DISCONNECT, true);
	fx_notify(&f);
	g_assert_true(fx_run_until(&f, fault_disconnected, 5000));
	sim_essp_set_fault(f.sim, SIM_ESSP_FAULT_DISCONNECT, false);
	fx_notify(&f);
	fx_run_for(&f, 5000);
	f.journal.fail_begin = 0;
	g_assert_true(fx_run_until(&f, has_credit, 10000));
	fx_enable_all(&f);
	g_assert_cmpuint(fx_count(&f, CASH_EV_CREDITED), ==, 1);
	g_assert_cmpint(fx_sum(&f, CASH_EV_CREDITED), ==, AED(50));
	g_assert_cmpint(credited_fils(&f), ==, fx_sim(&f).cashbox_fils);
	fx_fini(&f);
}

/* ---- Journeys SETTLE cannot decide keep the device disabled (invariant 5) ---- */

/* Journeys as a database from before invariant 8 may hold them: x with its snapshot, y
 * without one (GET COUNTERS failed at its escrow). Both notes went back to the customer. */
static void write_legacy_pair(struct fx *f, struct cash_note *x, struct cash_note *y, uint32_t x_stacked)
{
	struct kio_error err;
	*x = (struct cash_note){.channel = 1, .value_fils = AED(5), .state = CASH_NOTE_ESCROW, .counters_known = true,
				.stacked_before = x_stacked};
	*y = (struct cash_note){.channel = 2, .value_fils = AED(10), .state = CASH_NOTE_ESCROW};
	snprintf(x->device, sizeof(x->device), "essp:%08X", f->sim_cfg.serial);
	snprintf(y->device, sizeof(y->device), "essp:%08X", f->sim_cfg.serial);
	g_assert_cmpint(cash_journal_begin(f->journal.inner, x, &err), ==, 0);
	g_assert_cmpint(cash_journal_begin(f->journal.inner, y, &err), ==, 0);
}

/*
 * Audit of the settle path: SETTLE left journeys it could not decide open "for a technician"
 * and went on to RUN. The next notes then moved the counters and closed the journey that
 * bounded the undecided one; at a later start the undecided journey was the newest open one,
 * read as "the note in the path", and credited by counters some other note had moved.
 * Invariant 5 as written: RUN only once every listed journey ended. Here x (snapshot 0) and
 * y (none) are open while the counter stands at 1 (a 20 note stacked after x): the device
 * must stay disabled; once a technician closes both, the driver lists again and runs.
 * Before: RUN and enabled at once.
 */
static void test_settle_undecided_stays_disabled(void)
{
	struct fx f;
	fx_init(&f);
	fx_start(&f);
	fx_enable_all(&f);
	f.on_escrow = 1;
	insert(&f, AED(20));
	g_assert_true(fx_run_until(&f, has_stacked, 10000));
	struct cash_note x, y;
	write_legacy_pair(&f, &x, &y, 0);
	fx_restart(&f);
	int64_t all[] = {AED(5), AED(10), AED(20), AED(50), AED(100), AED(200), AED(500), AED(1000)};
	g_assert_cmpint(f.unit->ops->enable(f.unit, all, 8), ==, 0);
	fx_run_for(&f, 5000);
	g_assert_cmpstr(fx_info(&f).phase, ==, "settle");
	g_assert_false(fx_sim(&f).enabled);
	g_assert_false(fx_status(&f).enabled);
	g_assert_cmpint(fx_status(&f).state, !=, DEV_STATE_OK);
	/* Said as such, once, not as "starting" (a fault of none while the driver sets up). */
	g_assert_cmpint(fx_status(&f).state, ==, DEV_STATE_FAULT);
	g_assert_cmpint(fx_status(&f).fault, ==, CASH_FAULT_UNDECIDED);
	g_assert_cmpuint(fx_count_fault(&f, CASH_EV_FAULT, CASH_FAULT_UNDECIDED), ==, 1);
	g_assert_cmpuint(fx_count(&f, CASH_EV_CREDITED), ==, 0);
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_ESCROW, NULL), ==, 2);
	g_assert_cmpint(sim_essp_insert_note(f.sim, AED(50)), ==, KIO_ERR_BUSY);

	/* A technician reconciles both (the cashbox count says neither is in it). */
	struct kio_error err;
	g_assert_cmpint(cash_journal_advance(f.journal.inner, x.id, CASH_NOTE_RETURNED, "technician", &err), ==, 0);
	g_assert_cmpint(cash_journal_advance(f.journal.inner, y.id, CASH_NOTE_RETURNED, "technician", &err), ==, 0);
	g_assert_true(fx_run_until(&f, fx_in_run, 5000));
	g_assert_true(fx_run_until(&f, no_fault_enabled, 5000));
	g_assert_cmpint(fx_status(&f).fault, ==, CASH_FAULT_NONE);
	g_assert_cmpuint(fx_count_fault(&f, CASH_EV_RECOVERED, CASH_FAULT_UNDECIDED), ==, 1);
	g_assert_cmpint(credited_fils(&f), ==, AED(20));
	fx_fini(&f);
}

/*
 * The double credit end to end, as a customer could bring it about at a kiosk whose database
 * holds such a pair: a note inserted and the kiosk killed with it in escrow (nothing
 * journaled), a restart (SETTLE's REJECT gives it back and closes y with it), another
 * restart (x is now the newest open journey: counter 1 against its snapshot 0). Before:
 * x credited, 2,500 fils credited with 2,000 in the cashbox. Whatever the driver lets happen,
 * the journal's credits must equal the cashbox.
 */
static void test_settle_undecided_no_double_credit(void)
{
	struct fx f;
	fx_init(&f);
	stop_at = (struct stop_at){.f = &f, .point = "escrow-read"};
	fx_start(&f);
	fx_enable_all(&f);
	f.on_escrow = 1;
	insert(&f, AED(20));
	g_assert_true(fx_run_until(&f, has_stacked, 10000));
	struct cash_note x, y;
	write_legacy_pair(&f, &x, &y, 0);
	f.cfg.checkpoint = stop_checkpoint;
	f.cfg.checkpoint_user = &stop_at;
	fx_restart(&f);
	fx_enable_all_or_timeout(&f);
	if (sim_essp_insert_note(f.sim, AED(100)) == 0) {
		fx_notify(&f);
		g_assert_true(fx_run_until(&f, stopped, 5000));
	}
	f.cfg.checkpoint = NULL;
	fx_restart(&f);
	fx_enable_all_or_timeout(&f);
	fx_restart(&f);
	fx_enable_all_or_timeout(&f);
	g_assert_cmpint(fx_sim(&f).cashbox_fils, ==, AED(20));
	g_assert_cmpint(credited_fils(&f), ==, fx_sim(&f).cashbox_fils);
	g_assert_cmpint(fx_sum(&f, CASH_EV_CREDITED), ==, 0);
	fx_fini(&f);
}

/*
 * Between a journey's snapshot and the next one's (or the counter now, for the newest) only
 * that note can have stacked: a move of 2 or more says other notes went in after it (a
 * database that does not hold every journey), so the counters prove nothing about it.
 * Before: x (snapshot 0) credited because the counter stood at 2.
 */
static void test_settle_counter_moved_twice(void)
{
	struct fx f;
	fx_init(&f);
	fx_start(&f);
	fx_enable_all(&f);
	f.on_escrow = 1;
	insert(&f, AED(20));
	g_assert_true(fx_run_until(&f, has_stacked, 10000));
	f.n_ev = 0;
	insert(&f, AED(50));
	g_assert_true(fx_run_until(&f, has_stacked, 10000));
	struct cash_note x = {.channel = 1, .value_fils = AED(5), .state = CASH_NOTE_ESCROW, .counters_known = true};
	snprintf(x.device, sizeof(x.device), "essp:%08X", f.sim_cfg.serial);
	struct kio_error err;
	g_assert_cmpint(cash_journal_begin(f.journal.inner, &x, &err), ==, 0);
	fx_restart(&f);
	fx_enable_all_or_timeout(&f);
	g_assert_cmpuint(fx_count(&f, CASH_EV_CREDITED), ==, 0);
	g_assert_cmpint(credited_fils(&f), ==, AED(70));
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_ESCROW, NULL), ==, 1);
	g_assert_false(fx_sim(&f).enabled);
	fx_fini(&f);
}

/*
 * An open journey followed by one without a counters snapshot (GET COUNTERS failed at its
 * escrow, before invariant 8). While the stacked counter has not moved past the first one's
 * snapshot, it was not stacked: returned. Once it moved, the later note may be what moved it:
 * the first cannot be decided either and stays open for a technician; nothing is credited for
 * it. While any is open the device stays disabled (invariant 5).
 */
static void test_settle_next_without_snapshot(void)
{
	struct fx f;
	fx_init(&f);
	fx_prepare(&f);
	char dev[CASH_NOTE_DEVICE_MAX];
	snprintf(dev, sizeof(dev), "essp:%08X", f.sim_cfg.serial);
	struct kio_error err;
	struct cash_note x = {.channel = 1, .value_fils = AED(5), .state = CASH_NOTE_ESCROW, .counters_known = true};
	struct cash_note y = {.channel = 2, .value_fils = AED(10), .state = CASH_NOTE_ESCROW, .stacked_before = 7};
	snprintf(x.device, sizeof(x.device), "%s", dev);
	snprintf(y.device, sizeof(y.device), "%s", dev);
	g_assert_cmpint(cash_journal_begin(f.journal.inner, &x, &err), ==, 0);
	g_assert_cmpint(cash_journal_begin(f.journal.inner, &y, &err), ==, 0);
	fx_start(&f);
	fx_enable_all_or_timeout(&f);
	/* Counter unchanged (0): x returned; y has no snapshot at all: open, device disabled. */
	g_assert_cmpuint(fx_count(&f, CASH_EV_CREDITED), ==, 0);
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_RETURNED, NULL), ==, 1);
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_ESCROW, NULL), ==, 1);
	g_assert_false(fx_sim(&f).enabled);
	g_assert_cmpstr(fx_info(&f).phase, ==, "settle");

	/* A technician closes y; the counter then moves (a note stacks), and two more such
	 * journeys wait at a restart. */
	g_assert_cmpint(cash_journal_advance(f.journal.inner, y.id, CASH_NOTE_RETURNED, "technician", &err), ==, 0);
	g_assert_true(fx_run_until(&f, no_fault_enabled, 5000));
	f.on_escrow = 1;
	insert(&f, AED(50));
	g_assert_true(fx_run_until(&f, has_stacked, 10000));
	x.id = y.id = 0;
	g_assert_cmpint(cash_journal_begin(f.journal.inner, &x, &err), ==, 0);
	g_assert_cmpint(cash_journal_begin(f.journal.inner, &y, &err), ==, 0);
	fx_restart(&f);
	fx_enable_all_or_timeout(&f);
	g_assert_cmpuint(fx_count(&f, CASH_EV_CREDITED), ==, 0);
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_RETURNED, NULL), ==, 2);
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_ESCROW, NULL), ==, 2);
	int64_t total = 0;
	g_assert_cmpint(fx_journal(&f, CASH_NOTE_STACKED, &total), ==, 1);
	g_assert_cmpint(total, ==, AED(50));
	g_assert_false(fx_sim(&f).enabled);
	fx_fini(&f);
}

/* ---- eSSP ---- */

#ifdef ESSP_HAVE_CRYPTO
static void test_encrypted(void)
{
	struct fx f;
	fx_init(&f);
	f.sim_cfg.encryption = true;
	f.sim_cfg.fixed_key = 0x1122334455667788ull;
	f.cfg.encryption = true;
	f.cfg.fixed_key = 0x1122334455667788ull;
	fx_start(&f);
	fx_enable_all(&f);
	g_assert_true(fx_info(&f).encrypted);
	GArray *cmds = fx_sent_cmds(&f, 0);
	g_assert_cmphex(g_array_index(cmds, uint8_t, 1), ==, ESSP_CMD_SET_GENERATOR);
	g_assert_cmphex(g_array_index(cmds, uint8_t, 2), ==, ESSP_CMD_SET_MODULUS);
	g_assert_cmphex(g_array_index(cmds, uint8_t, 3), ==, ESSP_CMD_REQUEST_KEY_EXCHANGE);
	for (guint i = 4; i < cmds->len; i++)
		g_assert_cmphex(g_array_index(cmds, uint8_t, i), ==, ESSP_STEX); /* all sealed */
	g_array_free(cmds, TRUE);
	insert(&f, AED(100));
	g_assert_true(fx_run_until(&f, has_escrow, 5000));
	g_assert_cmpint(f.unit->ops->escrow_accept(f.unit), ==, 0);
	sim_essp_drop_replies(f.sim, 1); /* the sealed accepting POLL: re-sent as is, not re-sealed */
	g_assert_true(fx_run_until(&f, has_stacked, 10000));
	fx_run_for(&f, 1000);
	assert_one_credit(&f, AED(100));
	g_assert_cmpuint(fx_info(&f).resends, ==, 1);
	g_assert_cmpuint(fx_sim(&f).repeats, ==, 1);

	/* The device resets: keys are lost, the driver negotiates again and carries on. */
	sim_essp_power_cycle(f.sim, core_clock_now_ms(f.loop.clock));
	fx_notify(&f);
	fx_run_for(&f, 3000);
	g_assert_true(fx_run_until(&f, no_fault_enabled, 10000));
	g_assert_true(fx_info(&f).encrypted);
	fx_fini(&f);
}

static bool fault_no_answer_ev(struct fx *f) { return fx_count_fault(f, CASH_EV_FAULT, CASH_FAULT_NO_ANSWER) > 0; }

/*
 * Issue 9: a command that cannot be sealed (here: no random bytes for its pad) left the
 * driver in its set-up phase with nothing in flight and no timer: "offline" for good. It
 * goes through NO_ANSWER and sets the session up again.
 */
static void test_seal_failure_resyncs(void)
{
	struct fx f;
	fx_init(&f);
	f.sim_cfg.encryption = true;
	f.cfg.encryption = true;
	f.cfg.random = fx_random;
	f.cfg.random_user = &f;
	f.fail_pad = 2; /* HOST PROTOCOL VERSION, the first sealed command, twice */
	fx_start(&f);
	g_assert_true(fx_run_until(&f, fault_no_answer_ev, 5000));
	g_assert_cmpint(fx_status(&f).state, ==, DEV_STATE_OFFLINE);
	fx_enable_all(&f);
	g_assert_cmpuint(f.fail_pad, ==, 0);
	g_assert_cmpuint(fx_count_fault(&f, CASH_EV_FAULT, CASH_FAULT_NO_ANSWER), ==, 1);
	g_assert_cmpuint(fx_count_fault(&f, CASH_EV_RECOVERED, CASH_FAULT_NO_ANSWER), ==, 1);
	g_assert_true(fx_info(&f).encrypted);
	g_assert_cmpuint(fx_info(&f).resyncs, ==, 3);
	/* A pad that fails in RUN (the accepting POLL): a new session, the note settled. */
	insert(&f, AED(50));
	g_assert_true(fx_run_until(&f, has_escrow, 5000));
	f.fail_pad = 1;
	g_assert_cmpint(f.unit->ops->escrow_accept(f.unit), ==, 0);
	g_assert_true(fx_run_until(&f, has_returned, 10000));
	g_assert_true(fx_run_until(&f, no_fault_enabled, 10000));
	g_assert_cmpuint(fx_count(&f, CASH_EV_CREDITED), ==, 0);
	g_assert_cmpint(fx_sim(&f).cashbox_fils, ==, 0);
	fx_fini(&f);
}

/*
 * The key exchange's secrets come from the random source and nowhere else: while it fails
 * no SET GENERATOR goes out (no fallback to a clock-seeded generator) and the driver shows
 * NO_ANSWER; when it works again the session is set up.
 */
static void test_key_exchange_needs_random(void)
{
	struct fx f;
	fx_init(&f);
	f.sim_cfg.encryption = true;
	f.cfg.encryption = true;
	f.cfg.random = fx_random;
	f.cfg.random_user = &f;
	f.fail_random = 3;
	fx_start(&f);
	g_assert_true(fx_run_until(&f, fault_no_answer_ev, 5000));
	fx_run_for(&f, 4500); /* two more session attempts (every 2 s), both without random bytes */
	g_assert_cmpuint(f.fail_random, ==, 0);
	GArray *cmds = fx_sent_cmds(&f, 0);
	g_assert_false(contains(cmds, ESSP_CMD_SET_GENERATOR));
	g_array_free(cmds, TRUE);
	fx_enable_all(&f);
	g_assert_true(fx_info(&f).encrypted);
	g_assert_cmpuint(f.n_random, >, 3);
	fx_fini(&f);
}

/* Makes getrandom(2) fail with ENOSYS in this process from now on; false if the kernel
 * has no seccomp filters. */
static bool deny_getrandom(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getrandom, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(filter) / sizeof(filter[0]), .filter = filter};
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

/* The kernel's source refusing (ENOSYS, as under a seccomp filter or an old kernel) is an
 * error, not a reason to use a weaker one: no key exchange, NO_ANSWER. */
static void test_getrandom_enosys(void)
{
	if (!g_test_subprocess()) {
		pid_t pid = fork();
		g_assert_cmpint(pid, >=, 0);
		if (pid == 0)
			_exit(deny_getrandom() ? 0 : 1);
		int status = 0;
		g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			g_test_skip("no seccomp filters here");
			return;
		}
		g_test_trap_subprocess(NULL, 20 * 1000000, G_TEST_SUBPROCESS_DEFAULT);
		g_test_trap_assert_passed();
		g_test_trap_assert_stderr("*getrandom: Function not implemented*");
		return;
	}
	struct fx f;
	fx_init(&f);
	f.sim_cfg.encryption = true;
	f.cfg.encryption = true;
	fx_prepare(&f);
	g_assert_true(deny_getrandom());
	uint8_t probe;
	g_assert_cmpint(getrandom(&probe, 1, 0), ==, -1);
	g_assert_cmpint(errno, ==, ENOSYS);
	fx_start(&f);
	g_assert_true(fx_run_until(&f, fault_no_answer_ev, 5000));
	fx_run_for(&f, 5000);
	GArray *cmds = fx_sent_cmds(&f, 0);
	g_assert_false(contains(cmds, ESSP_CMD_SET_GENERATOR));
	g_array_free(cmds, TRUE);
	g_assert_false(fx_info(&f).encrypted);
	g_assert_cmpint(fx_status(&f).state, ==, DEV_STATE_OFFLINE);
	fx_fini(&f);
}

static void test_encryption_required(void)
{
	struct fx f;
	fx_init(&f);
	f.sim_cfg.encryption = true;
	fx_start(&f);
	g_assert_true(fx_run_until(&f, fault_no_answer, 5000));
	fx_fini(&f);
}

static void test_wrong_fixed_key(void)
{
	struct fx f;
	fx_init(&f);
	f.sim_cfg.encryption = true;
	f.cfg.encryption = true;
	f.cfg.fixed_key = 0xDEADBEEFull; /* the device ignores what it cannot open */
	fx_start(&f);
	g_assert_true(fx_run_until(&f, fault_no_answer, 10000));
	g_assert_false(fx_in_run(&f));
	fx_fini(&f);
}
#endif

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	enum log_level level;
	if (getenv("KIOSK_LOG") && log_level_parse(getenv("KIOSK_LOG"), &level))
		log_set_level(level);
	g_test_add_func("/essp-cash/connect", test_connect);
	g_test_add_func("/essp-cash/protocol-fallback", test_protocol_fallback);
	g_test_add_func("/essp-cash/accept", test_accept);
	g_test_add_func("/essp-cash/return", test_return);
	g_test_add_func("/essp-cash/decide-timeout", test_decide_timeout);
	g_test_add_func("/essp-cash/device-escrow-timeout", test_device_escrow_timeout);
	g_test_add_func("/essp-cash/fake-rejected", test_fake_rejected);
	g_test_add_func("/essp-cash/dropped-reply-each-step", test_dropped_reply_each_step);
	g_test_add_func("/essp-cash/duplicate-replies", test_duplicate_replies);
	g_test_add_func("/essp-cash/corrupt-replies", test_corrupt_replies);
	g_test_add_func("/essp-cash/dropped-commands", test_dropped_commands);
	g_test_add_func("/essp-cash/garbage-and-partial-frames", test_garbage_and_partial_frames);
	g_test_add_func("/essp-cash/stuffed-replies", test_stuffed_replies);
	g_test_add_func("/essp-cash/no-answer", test_no_answer);
	g_test_add_func("/essp-cash/disconnect", test_disconnect);
	g_test_add_func("/essp-cash/disconnect-mid-note", test_disconnect_mid_note);
	g_test_add_func("/essp-cash/jam", test_jam);
	g_test_add_func("/essp-cash/stacker-full", test_stacker_full);
	g_test_add_func("/essp-cash/cashbox-removed", test_cashbox_removed);
	g_test_add_func("/essp-cash/fraud", test_fraud);
	g_test_add_func("/essp-cash/self-disable", test_self_disable);
	g_test_add_func("/essp-cash/idle-poll", test_idle_poll);
	g_test_add_func("/essp-cash/power-cycle-held", test_power_cycle_held);
	g_test_add_func("/essp-cash/power-cycle-stacking", test_power_cycle_stacking);
	g_test_add_func("/essp-cash/power-cycle-after-credit", test_power_cycle_after_credit);
	g_test_add_func("/essp-cash/counters-fail-at-escrow", test_counters_fail_at_escrow);
	g_test_add_func("/essp-cash/counters-fail-then-answer", test_counters_fail_then_answer);
	g_test_add_func("/essp-cash/counters-fail-restart", test_counters_fail_restart);
	g_test_add_func("/essp-cash/escrow-not-recorded", test_escrow_not_recorded);
	g_test_add_func("/essp-cash/settle-list-fails", test_settle_list_fails);
	g_test_add_func("/essp-cash/settle-list-fails-long", test_settle_list_fails_long);
	g_test_add_func("/essp-cash/settle-many-open", test_settle_many_open);
	g_test_add_func("/essp-cash/settle-newest-in-path", test_settle_newest_in_path);
	g_test_add_func("/essp-cash/settle-next-without-snapshot", test_settle_next_without_snapshot);
	g_test_add_func("/essp-cash/blocked-credit-survives-link-loss", test_blocked_credit_survives_link_loss);
	g_test_add_func("/essp-cash/settle-undecided-stays-disabled", test_settle_undecided_stays_disabled);
	g_test_add_func("/essp-cash/settle-no-counters-says-so", test_settle_no_counters_says_so);
	g_test_add_func("/essp-cash/settle-undecided-no-double-credit", test_settle_undecided_no_double_credit);
	g_test_add_func("/essp-cash/settle-counter-moved-twice", test_settle_counter_moved_twice);
#ifdef ESSP_HAVE_CRYPTO
	g_test_add_func("/essp-cash/encrypted", test_encrypted);
	g_test_add_func("/essp-cash/encryption-required", test_encryption_required);
	g_test_add_func("/essp-cash/wrong-fixed-key", test_wrong_fixed_key);
	g_test_add_func("/essp-cash/seal-failure-resyncs", test_seal_failure_resyncs);
	g_test_add_func("/essp-cash/key-exchange-needs-random", test_key_exchange_needs_random);
	g_test_add_func("/essp-cash/getrandom-enosys", test_getrandom_enosys);
#endif
	return g_test_run();
}
