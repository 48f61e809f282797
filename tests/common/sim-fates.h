/*
 * What the world does to the simulated validator while the kiosk process is dead: nothing, a
 * power cut, or minutes with nobody listening. Shared by the money suite (one note, the driver
 * alone) and the crash suite (the whole top-up journey): the device outlives the process as
 * real hardware does, and each fate leaves it in a state a real device could be in.
 */
#pragma once

#include <stdint.h>

#include "drivers/sim/essp/sim-essp.h"

enum sim_fate {
	SIM_FATE_AS_IS,       /* restart at once: the device kept everything, its last reply lost */
	SIM_FATE_POWER_CYCLE, /* the device lost power: only what it keeps (sim_essp_save) survives,
			       * then it powers up with the note where it was (GA138 power-up) */
	SIM_FATE_ALONE,       /* minutes pass with nobody talking: a note nobody accepted goes back
			       * (escrow timeout), one accepted stacks, and the events are lost */
	SIM_FATE_COUNT
};

/* "as-is", "power-cycle", "alone"; NULL for another value. */
const char *sim_fate_name(int fate);

/* Applies fate to *sim at device time now_ms; may replace *sim (same config cfg, NULL for the
 * defaults) and returns how many milliseconds of device time it let pass. Aborts the test if
 * the model refuses its own saved state, or ends ALONE with a note still in the path of a
 * device that answers (not jammed, hung or unplugged). */
uint64_t sim_fate_apply(struct sim_essp **sim, const struct sim_essp_config *cfg, enum sim_fate fate,
			uint64_t now_ms);
