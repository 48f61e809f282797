/* The device fates between a killed kiosk and the next (sim-fates.h). */
#include "tests/common/sim-fates.h"

#include <stdio.h>
#include <stdlib.h>

#include "drivers/protocol/essp/essp.h"

/* GA138: the escrow gives a note back after 10 s; this is past it, and past the model's comms
 * timeout, so a device left enabled has disabled itself too. */
#define ALONE_MS 15000

const char *sim_fate_name(int fate)
{
	static const char *const names[SIM_FATE_COUNT] = {"as-is", "power-cycle", "alone"};
	return fate >= 0 && fate < SIM_FATE_COUNT ? names[fate] : NULL;
}

static void die(const char *what)
{
	fprintf(stderr, "sim-fates: %s\n", what);
	abort();
}

/* Minutes pass with the kiosk dead. The validator reads a note on its own and holds it in
 * escrow until the host accepts it (a poll) or its escrow timeout (GA138: 10 s) gives it back;
 * a note already accepted runs on into the cashbox. The model moves a note only when polled,
 * so someone else's polls (a service tool, a reset; the events go to nobody we know) move it,
 * each after a REJECT: in escrow that is the timeout's return, elsewhere it does nothing. A
 * bare poll would accept the note, which nobody did: the kiosk was dead. */
static void alone(struct sim_essp *sim, uint64_t now_ms)
{
	sim_essp_tick(sim, now_ms);
	struct essp_seq seq;
	essp_seq_init(&seq, ESSP_ADDR_VALIDATOR);
	for (int i = 0; i < 17; i++) {
		struct essp_cmd c;
		if (i == 0)
			essp_cmd_sync(&c);
		else if (i % 2)
			essp_cmd_reject(&c);
		else
			essp_cmd_poll(&c);
		struct essp_packet pkt;
		if (essp_seq_prepare(&seq, &c, &pkt) != 0)
			die("cannot frame a command");
		sim_essp_write(sim, pkt.bytes, pkt.len, now_ms);
		uint8_t junk[512];
		while (sim_essp_read(sim, junk, sizeof(junk)) > 0)
			;
		seq.flag = !seq.flag;
	}
	struct sim_essp_state st;
	sim_essp_get_state(sim, &st);
	/* Only a device that answers can be moved: a jam, hung firmware or an unplugged cable keep
	 * the note where it is. */
	if (st.note != SIM_ESSP_NOTE_NONE && st.note != SIM_ESSP_NOTE_JAMMED &&
	    !sim_essp_fault(sim, SIM_ESSP_FAULT_NO_ANSWER) && !sim_essp_fault(sim, SIM_ESSP_FAULT_DISCONNECT))
		die("a note is still in the path after the device was left alone");
}

uint64_t sim_fate_apply(struct sim_essp **sim, const struct sim_essp_config *cfg, enum sim_fate fate,
			uint64_t now_ms)
{
	switch (fate) {
	case SIM_FATE_AS_IS:
	case SIM_FATE_COUNT:
		return 0;
	case SIM_FATE_POWER_CYCLE: {
		/* Through the saved text, as a device's memory survives a power cut. */
		char *state = sim_essp_save(*sim);
		sim_essp_free(*sim);
		struct kio_error err;
		*sim = sim_essp_new_from_state(cfg, state, now_ms, &err);
		free(state);
		if (!*sim)
			die(err.msg);
		return 0;
	}
	case SIM_FATE_ALONE:
		alone(*sim, now_ms + ALONE_MS);
		return ALONE_MS;
	}
	return 0;
}
