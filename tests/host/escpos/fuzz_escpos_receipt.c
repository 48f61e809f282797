/*
 * Fuzz target: the ESC/POS receipt driver against the receipt printer model, with a script
 * that injects bytes and status replies, silences the printer, raises and clears faults,
 * unplugs it, lets time pass and prints receipts. Besides memory and UB errors it checks
 * the driver's invariants (escpos-receipt.c): every print() that returned 0 ends in exactly
 * one PRINTED or FAILED with its job id (2), a final event never comes without a job, and,
 * when no reply was forged, PRINTED never outnumbers the receipts the model cut (1).
 *
 * Script: op byte, length byte, then `length` bytes:
 *   op%8 0: raw bytes to the driver          1: status bytes from a menu
 *   2: time passes (bytes[0] x 100 ms)       3: fault bytes[0]%4 toggled
 *   4: print() an image bytes[0] rows high   5: the printer goes silent / speaks again
 *   6: power cycle                           7: nothing
 */
#define LOG_MODULE "fuzz-escpos-receipt"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/host/escpos/escpos-receipt.h"
#include "drivers/sim/escpos/sim-escpos.h"
#include "drivers/transport/transport-sim.h"
#include "kiosk/core/log.h"
#include "tests/common/devloop.h"
#include "tests/common/tapped-model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	struct receipt_printer *prn;
	unsigned accepted;        /* print() calls that returned 0 */
	unsigned printed, failed; /* final events */
	bool forged;             /* the script put replies on the wire the printer never sent */
	char ids[64][40];         /* job ids, in order */
};

static void on_event(void *user, const struct receipt_event *ev)
{
	struct run *r = user;
	if (ev->kind != RECEIPT_EV_PRINTED && ev->kind != RECEIPT_EV_FAILED) {
		if ((unsigned)ev->fault >= RECEIPT_FAULT_COUNT)
			abort();
		return;
	}
	unsigned done = r->printed + r->failed;
	if (done >= r->accepted)
		abort(); /* a final event without a job: invariant 2 */
	if (strcmp(ev->job_id, r->ids[done % 64]) != 0)
		abort(); /* jobs end in order, each with its own id */
	if (ev->kind == RECEIPT_EV_PRINTED)
		r->printed++;
	else
		r->failed++;
}

static bool all_ended(void *user)
{
	const struct run *r = user;
	return r->printed + r->failed == r->accepted;
}

static void service(void *user)
{
	struct run *r = user;
	r->prn->ops->service(r->prn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Real-time status answers (DLE EOT 1..4): online, paper near end, cover open, paper
	 * out, error; then a process-ID answer's first bytes and a NUL. */
	static const uint8_t statuses[] = {0x12, 0x16, 0x1E, 0x72, 0x7E, 0x12, 0x0C, 0x60, 0x37, 0x22, 0x00};
	static uint8_t bits[255 * 72];

	log_set_level(getenv("FUZZ_LOG") ? LOG_DEBUG : LOG_ERROR);
	struct devloop loop;
	devloop_init(&loop);
	struct kio_error err;
	struct sim_escpos *sim = NULL;
	if (sim_escpos_new(NULL, &sim, &err) != 0)
		abort();
	struct tapped_model w = {0};
	sim_model_escpos(&w.inner, sim);
	struct sim_model model = tapped_model_wrap(&w, "escpos");
	struct transport *t = transport_sim_new("receipt", &model, loop.clock);
	transport_set_wake(t, devloop_wake, &loop);
	struct run r = {0};
	if (escpos_receipt_new(t, loop.timers, NULL, &r.prn, &err) != 0)
		abort();
	r.prn->on_event = on_event;
	r.prn->on_event_user = &r;
	loop.service = service;
	loop.service_user = &r;
	for (size_t i = 0; i < sizeof(bits); i++)
		bits[i] = (uint8_t)(i * 37);

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
			tapped_model_inject(&w, arg, len);
			r.forged = r.forged || len > 0;
			break;
		case 1:
			r.forged = true;
			for (size_t k = 0; k < len; k++)
				tapped_model_inject(&w, &statuses[arg[k] % sizeof(statuses)], 1);
			break;
		case 2:
			devloop_run_for(&loop, (uint64_t)(len ? arg[0] : 1) * 100);
			break;
		case 3:
			if (len) {
				enum sim_escpos_fault f = (enum sim_escpos_fault)(arg[0] % SIM_ESCPOS_FAULT_COUNT);
				sim_escpos_fault_set(sim, f, !sim_escpos_fault_get(sim, f));
			}
			break;
		case 4: {
			/* 576 dots wide (72 bytes) by 0..254 rows: 0 rows is refused. */
			const struct receipt_image img = {576, len ? arg[0] : 0, 72, bits};
			char id[40];
			snprintf(id, sizeof(id), "J%u", r.accepted);
			if (r.prn->ops->print(r.prn, id, &img) == 0) {
				snprintf(r.ids[r.accepted % 64], sizeof(r.ids[0]), "%s", id);
				r.accepted++;
			}
			break;
		}
		case 5:
			w.mute = !w.mute;
			break;
		case 6:
			sim_escpos_power_cycle(sim);
			break;
		default:
			break;
		}
		transport_sim_notify(t);
		devloop_run_for(&loop, 10);
	}

	/* A technician puts everything right; every job must then end, one way or the other. */
	w.mute = false;
	w.inject_len = 0;
	for (int f = 0; f < SIM_ESCPOS_FAULT_COUNT; f++)
		sim_escpos_fault_set(sim, (enum sim_escpos_fault)f, false);
	transport_sim_notify(t);
	devloop_run_until(&loop, all_ended, &r, 300000);
	if (r.printed + r.failed != r.accepted)
		abort(); /* invariant 2: exactly one final event per accepted print() */
	if (!r.forged && r.printed > sim_escpos_receipt_count(sim))
		abort(); /* invariant 1: PRINTED only for paper the printer cut */
	struct receipt_status st;
	r.prn->ops->get_status(r.prn, &st);
	if (st.fault >= RECEIPT_FAULT_COUNT || st.state >= DEV_STATE_COUNT)
		abort();

	r.prn->ops->destroy(r.prn);
	transport_free(t);
	sim_escpos_free(sim);
	devloop_fini(&loop);
	return 0;
}
