/*
 * Fuzz target: the eSSP host driver's handling of what a device sends. A scripted fake
 * device behind transport-sim answers the driver with fuzzed bytes: raw chunks, or frames
 * carrying the SEQ/ID of the command just sent (so they get past the sequence check and
 * reach the phase and event handling), while the script also moves virtual time, unplugs
 * the device and makes the kiosk accept, return, enable or disable. Besides memory and UB
 * errors it checks the money invariant: every CASH_EV_CREDITED matches a journey the
 * journal holds as credited, one for one.
 *
 * Script: op byte, length byte, then `length` bytes:
 *   op%8 0: raw bytes to the driver     1,2: a frame with DATA = bytes (current SEQ/ID)
 *   3: a frame with DATA = F0 + bytes   4: time passes (bytes[0] × 50 ms)
 *   5: kiosk: accept/return/enable/disable by bytes[0]   6: unplug/replug   7: nothing
 */
#define LOG_MODULE "fuzz-essp-cash"
#include <stdlib.h>
#include <string.h>

#include "drivers/host/essp/essp-cash.h"
#include "drivers/transport/transport-sim.h"
#include "kiosk/core/log.h"
#include "kiosk/ledger/notes.h"
#include "tests/common/devloop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fake {
	struct essp_decoder dec;
	uint8_t seqid;
	bool plugged;
	uint8_t out[4096];
	size_t out_len;
};

static int fake_write(void *dev, const uint8_t *buf, size_t len, size_t *accepted, uint64_t now_ms)
{
	struct fake *f = dev;
	if (!f->plugged)
		return KIO_ERR_NO_DEVICE;
	size_t off = 0;
	while (off < len) {
		size_t used;
		struct essp_frame fr;
		if (essp_decoder_feed(&f->dec, buf + off, len - off, &used, &fr) == ESSP_DEC_FRAME)
			f->seqid = fr.seqid;
		off += used;
	}
	*accepted = len;
	return 0;
}

static size_t fake_read(void *dev, uint8_t *buf, size_t cap, uint64_t now_ms)
{
	struct fake *f = dev;
	size_t n = f->out_len < cap ? f->out_len : cap;
	memcpy(buf, f->out, n);
	memmove(f->out, f->out + n, f->out_len - n);
	f->out_len -= n;
	return n;
}

static void fake_tick(void *dev, uint64_t now_ms) {}
static bool fake_connected(const void *dev) { return ((const struct fake *)dev)->plugged; }

static const struct sim_model_ops fake_ops = {fake_write, fake_read, fake_tick, fake_connected};

static void put(struct fake *f, const uint8_t *buf, size_t len)
{
	if (len > sizeof(f->out) - f->out_len)
		len = sizeof(f->out) - f->out_len;
	memcpy(f->out + f->out_len, buf, len);
	f->out_len += len;
}

static void put_frame(struct fake *f, const uint8_t *data, size_t len)
{
	uint8_t wire[ESSP_WIRE_MAX];
	size_t n;
	if (essp_frame_encode(f->seqid, data, len, wire, sizeof(wire), &n) == 0)
		put(f, wire, n);
}

struct counts {
	struct cash_unit *unit;
	unsigned credited;
};

static void on_event(void *user, const struct cash_event *ev)
{
	struct counts *c = user;
	if (ev->kind == CASH_EV_CREDITED)
		c->credited++;
}

static void service(void *user)
{
	struct counts *c = user;
	c->unit->ops->service(c->unit);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	log_set_level(LOG_ERROR + (getenv("FUZZ_LOG") ? 3 : 0));
	struct devloop loop;
	devloop_init(&loop);
	struct fake fake = {.plugged = true};
	essp_decoder_init(&fake.dec);
	struct sim_model model = {&fake_ops, &fake, "essp"};
	struct transport *t = transport_sim_new("cash", &model, loop.clock);
	transport_set_wake(t, devloop_wake, &loop);
	struct ledger *ledger;
	struct kio_error err;
	if (ledger_open(":memory:", &ledger, &err) != 0)
		abort();
	struct ledger_notes *notes = ledger_notes_new(ledger, loop.clock);
	struct essp_cash_config cfg;
	essp_cash_config_default(&cfg);
	cfg.escrow_decide_ms = 5000;
	struct counts counts = {0};
	if (essp_cash_new(t, loop.timers, &cfg, ledger_notes_journal(notes), &counts.unit, &err) != 0)
		abort();
	cash_set_listener(counts.unit, on_event, &counts);
	loop.service = service;
	loop.service_user = &counts;

	size_t i = 0;
	while (i < size) {
		uint8_t op = data[i++];
		size_t len = i < size ? data[i++] : 0;
		if (len > size - i)
			len = size - i;
		const uint8_t *arg = data + i;
		i += len;
		switch (op % 8) {
		case 0:
			put(&fake, arg, len);
			break;
		case 1:
		case 2:
			if (len)
				put_frame(&fake, arg, len);
			break;
		case 3: {
			uint8_t reply[ESSP_DATA_MAX];
			reply[0] = ESSP_RESP_OK;
			size_t n = len < sizeof(reply) - 1 ? len : sizeof(reply) - 1;
			memcpy(reply + 1, arg, n);
			put_frame(&fake, reply, n + 1);
			break;
		}
		case 4:
			devloop_run_for(&loop, (uint64_t)(len ? arg[0] : 1) * 50);
			break;
		case 5: {
			struct cash_unit *u = counts.unit;
			static const int64_t some[] = {500, 1000, 2000, 5000, 10000, 20000, 50000, 100000};
			switch (len ? arg[0] % 4 : 0) {
			case 0:
				(void)u->ops->escrow_accept(u);
				break;
			case 1:
				(void)u->ops->escrow_return(u);
				break;
			case 2:
				(void)u->ops->enable(u, some, 8);
				break;
			default:
				(void)u->ops->disable(u);
				break;
			}
			break;
		}
		case 6:
			fake.plugged = !fake.plugged;
			if (!fake.plugged)
				fake.out_len = 0;
			break;
		default:
			break;
		}
		transport_sim_notify(t);
		devloop_run_for(&loop, 10);
	}
	devloop_run_for(&loop, 1500);
	struct cash_status st;
	counts.unit->ops->get_status(counts.unit, &st);
	if (st.fault >= CASH_FAULT_COUNT || st.state >= DEV_STATE_COUNT)
		abort();

	/* Every credit reported is a credited journey, and the other way round. */
	int64_t credited = 0, stacked = 0;
	if (ledger_notes_count(notes, NULL, CASH_NOTE_CREDITED, &credited, NULL, &err) != 0 ||
	    ledger_notes_count(notes, NULL, CASH_NOTE_STACKED, &stacked, NULL, &err) != 0)
		abort();
	if ((int64_t)counts.credited != credited + stacked)
		abort();

	counts.unit->ops->destroy(counts.unit);
	ledger_notes_free(notes);
	ledger_close(ledger);
	transport_free(t);
	devloop_fini(&loop);
	return 0;
}
