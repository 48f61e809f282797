/*
 * Fuzz target: the simulated card printer's command parser. The first byte picks the chunk
 * size; faults toggle between chunks so every card path branch is reachable.
 */
#include <stddef.h>
#include <stdint.h>

#include "drivers/sim/evolis/sim-evolis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_evolis_config cfg;
	sim_evolis_config_default(&cfg);
	cfg.feeder_cards = 4;
	cfg.ribbon_cards = 3;
	struct sim_evolis *s;
	if (sim_evolis_new(&cfg, &s, NULL) != 0)
		return 0;
	size_t chunk = size ? 1 + data[0] % 61 : 1;
	size_t pos = size ? 1 : 0;
	int turn = 0;
	while (pos < size) {
		size_t n = size - pos < chunk ? size - pos : chunk;
		sim_evolis_write(s, data + pos, n, NULL);
		pos += n;
		uint8_t sink[64];
		while (sim_evolis_read(s, sink, sizeof(sink)))
			;
		if (++turn % 5 == 0) {
			enum sim_evolis_fault f = (enum sim_evolis_fault)(turn / 5 % SIM_EVOLIS_FAULT_COUNT);
			sim_evolis_fault_set(s, f, !sim_evolis_fault_get(s, f));
		}
	}
	sim_evolis_free(s);
	return 0;
}
