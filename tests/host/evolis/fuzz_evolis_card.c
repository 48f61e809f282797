/*
 * Fuzz target: the Evolis card issuer driver against the card printer model, with a script
 * that injects bytes and replies, silences the printer, raises and clears faults, unplugs it,
 * lets time pass and asks for cards. Besides memory and UB errors it checks the driver's
 * invariants (evolis-card.c): every issue() that returned 0 ends in exactly one ISSUED or
 * FAILED (2), an ISSUED names the card asked for and a card left the printer for the
 * customer (1), and a final event never comes without a job.
 *
 * Script: op byte, length byte, then `length` bytes:
 *   op%8 0: raw bytes to the driver          1: a reply from a menu (+ terminator byte)
 *   2: time passes (bytes[0] x 100 ms)       3: fault bytes[0]%5 toggled
 *   4: issue() a number made of the bytes    5: the printer goes silent / speaks again
 *   6: feeder and ribbon levels from bytes   7: nothing
 */
#define LOG_MODULE "fuzz-evolis-card"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/host/evolis/evolis-card.h"
#include "drivers/sim/evolis/sim-evolis.h"
#include "drivers/transport/transport-sim.h"
#include "kiosk/core/log.h"
#include "tests/common/devloop.h"
#include "tests/common/tapped-model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	struct card_issuer *iss;
	unsigned accepted;       /* issue() calls that returned 0 */
	unsigned issued, failed; /* final events */
	bool forged;             /* the script put replies on the wire the printer never sent */
	char numbers[64][24];    /* card numbers asked for, in order */
};

static void on_event(void *user, const struct cardprn_event *ev)
{
	struct run *r = user;
	if (ev->kind != CARDPRN_EV_ISSUED && ev->kind != CARDPRN_EV_FAILED) {
		if ((unsigned)ev->fault >= CARDPRN_FAULT_COUNT)
			abort();
		return;
	}
	unsigned done = r->issued + r->failed;
	if (done >= r->accepted)
		abort(); /* a final event without a job: invariant 2 */
	if (strcmp(ev->card_number, r->numbers[done % 64]) != 0)
		abort(); /* jobs end in order, each with its own number */
	if (ev->kind == CARDPRN_EV_ISSUED)
		r->issued++;
	else
		r->failed++;
}

static bool all_ended(void *user)
{
	const struct run *r = user;
	return r->issued + r->failed == r->accepted;
}

static void service(void *user)
{
	struct run *r = user;
	r->iss->ops->service(r->iss);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const replies[] = {"OK", "ERR FEEDER EMPTY", "ERR RIBBON", "ERR MECHANICAL JAM",
		"ERR COVER OPEN", "ERR BUSY", "ERR MAGNETIC", "ERR COMMAND", "ERR", "0", "120", "4294967296",
		"-1", "CARD INSIDE", "NO CARD", "2500", "DEACTIVATED", "x"};
	static const uint8_t terminators[] = {'\r', '\n', '\0', 0x06, 0x15};
	static uint8_t rgba[32 * 16 * 4];

	log_set_level(getenv("FUZZ_LOG") ? LOG_DEBUG : LOG_ERROR);
	struct devloop loop;
	devloop_init(&loop);
	struct kio_error err;
	struct sim_evolis *sim = NULL;
	if (sim_evolis_new(NULL, &sim, &err) != 0)
		abort();
	struct tapped_model w = {0};
	sim_model_evolis(&w.inner, sim);
	struct sim_model model = tapped_model_wrap(&w, "evolis");
	struct transport *t = transport_sim_new("card", &model, loop.clock);
	transport_set_wake(t, devloop_wake, &loop);
	struct run r = {0};
	if (evolis_card_new(t, loop.timers, NULL, &r.iss, &err) != 0)
		abort();
	r.iss->on_event = on_event;
	r.iss->on_event_user = &r;
	loop.service = service;
	loop.service_user = &r;
	for (size_t i = 0; i < sizeof(rgba); i += 4)
		rgba[i] = rgba[i + 1] = rgba[i + 2] = (uint8_t)(i * 7), rgba[i + 3] = 255;
	const struct cardprn_image front = {32, 16, 32 * 4, rgba};

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
		case 1: {
			r.forged = true;
			const char *text = replies[(len ? arg[0] : 0) % (sizeof(replies) / sizeof(replies[0]))];
			tapped_model_inject(&w, text, strlen(text));
			uint8_t term = terminators[(len > 1 ? arg[1] : 0) % sizeof(terminators)];
			tapped_model_inject(&w, &term, 1);
			break;
		}
		case 2:
			devloop_run_for(&loop, (uint64_t)(len ? arg[0] : 1) * 100);
			break;
		case 3:
			if (len) {
				enum sim_evolis_fault f = (enum sim_evolis_fault)(arg[0] % SIM_EVOLIS_FAULT_COUNT);
				sim_evolis_fault_set(sim, f, !sim_evolis_fault_get(sim, f));
			}
			break;
		case 4: {
			/* A card costs a whole panel (~1 ms to rasterise and parse): four per input
			 * reach every path and keep a run fast. */
			if (r.accepted >= 4)
				break;
			/* Mostly 1..23 digits, so most calls are valid; a refusal logs an error. */
			char number[32];
			size_t n = len < 24 ? len : 1 + len % 23 + (len >= 250);
			for (size_t k = 0; k < n; k++)
				number[k] = k >= len || arg[k] < 250 ? (char)('0' + (k < len ? arg[k] : k) % 10) : (char)arg[k];
			number[n] = '\0';
			if (r.iss->ops->issue(r.iss, number, &front) == 0) {
				if (strlen(number) >= sizeof(r.numbers[0]))
					abort(); /* issue() promises 1..23 digits */
				snprintf(r.numbers[r.accepted % 64], sizeof(r.numbers[0]), "%s", number);
				r.accepted++;
			}
			break;
		}
		case 5:
			w.mute = !w.mute;
			break;
		case 6:
			sim_evolis_load_feeder(sim, len ? arg[0] % 8 : 0);
			sim_evolis_load_ribbon(sim, len > 1 ? arg[1] % 8 : 0);
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
	for (int f = 0; f < SIM_EVOLIS_FAULT_COUNT; f++)
		sim_evolis_fault_set(sim, (enum sim_evolis_fault)f, false);
	transport_sim_notify(t);
	/* Longer than any chain of timeouts (motion 60 s, then a reject and a status chain). */
	devloop_run_until(&loop, all_ended, &r, 300000);
	if (r.issued + r.failed != r.accepted)
		abort(); /* invariant 2: exactly one final event per accepted issue() */
	unsigned to_customer = 0;
	for (size_t k = 0; k < sim_evolis_card_count(sim); k++)
		to_customer += !sim_evolis_card(sim, k)->rejected;
	if (!r.forged && r.issued > to_customer)
		abort(); /* invariant 1: ISSUED only for a card that left for the customer */
	struct cardprn_status st;
	r.iss->ops->get_status(r.iss, &st);
	if (st.fault >= CARDPRN_FAULT_COUNT || st.state >= DEV_STATE_COUNT)
		abort();

	r.iss->ops->destroy(r.iss);
	transport_free(t);
	sim_evolis_free(sim);
	devloop_fini(&loop);
	return 0;
}
