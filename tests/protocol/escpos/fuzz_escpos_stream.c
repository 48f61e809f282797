/*
 * Fuzz target: the simulated receipt printer's ESC/POS stream parser. The first byte picks the
 * chunk size, so split commands are exercised; faults toggle mid-stream to reach held data.
 */
#include <stddef.h>
#include <stdint.h>

#include "drivers/sim/escpos/sim-escpos.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_escpos_config cfg;
	sim_escpos_config_default(&cfg);
	cfg.max_page_rows = 3000; /* keeps each run small; the limit path is part of the target */
	cfg.rx_capacity = 512;
	struct sim_escpos *s;
	if (sim_escpos_new(&cfg, &s, NULL) != 0)
		return 0;
	size_t chunk = size ? 1 + data[0] % 97 : 1;
	size_t pos = size ? 1 : 0;
	int turn = 0;
	while (pos < size) {
		size_t n = size - pos < chunk ? size - pos : chunk;
		size_t acc = 0;
		sim_escpos_write(s, data + pos, n, &acc, NULL);
		pos += acc ? acc : n; /* a full offline buffer drops the rest of the chunk */
		uint8_t sink[64];
		while (sim_escpos_read(s, sink, sizeof(sink)))
			;
		if (++turn % 7 == 0) {
			enum sim_escpos_fault f = (enum sim_escpos_fault)(turn / 7 % SIM_ESCPOS_FAULT_COUNT);
			sim_escpos_fault_set(s, f, !sim_escpos_fault_get(s, f));
		}
		if (!sim_escpos_connected(s) && turn % 5 == 0)
			sim_escpos_power_cycle(s);
	}
	for (int f = 0; f < SIM_ESCPOS_FAULT_COUNT; f++)
		sim_escpos_fault_set(s, (enum sim_escpos_fault)f, false);
	sim_escpos_free(s);
	return 0;
}
