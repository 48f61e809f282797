/* Fuzz target: the device model's input path. The input is a script: each step either
 * writes raw bytes, writes a well-framed command with fuzzed DATA, advances the clock,
 * inserts a note or flips a fault; the model's output must always decode as frames. */
#define LOG_MODULE "fuzz-essp-sim"
#include <stdint.h>
#include <stdlib.h>

#include "drivers/sim/essp/sim-essp.h"
#include "kiosk/core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drain(struct sim_essp *m, struct essp_decoder *d)
{
	uint8_t buf[64];
	size_t n;
	while ((n = sim_essp_read(m, buf, sizeof(buf))) > 0) {
		size_t off = 0;
		while (off < n) {
			size_t used;
			struct essp_frame f;
			enum essp_dec_result r = essp_decoder_feed(d, buf + off, n - off, &used, &f);
			/* The model only ever sends whole, good frames (corruption is a knob we don't turn). */
			if (r == ESSP_DEC_BAD_CRC || (r == ESSP_DEC_FRAME && f.len == 0))
				abort();
			off += used;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	log_set_level(LOG_ERROR);
	struct sim_essp *m = sim_essp_new(NULL, 0, NULL);
	if (!m)
		abort();
	struct essp_decoder dec;
	essp_decoder_init(&dec);
	uint64_t now = 0;
	size_t i = 0;
	while (i < size) {
		uint8_t op = data[i++];
		size_t len = i < size ? 1 + data[i++] % 24 : 0;
		if (len > size - i)
			len = size - i;
		switch (op % 8) {
		case 0: /* raw bytes */
			(void)sim_essp_write(m, data + i, len, now);
			break;
		case 1:
		case 2:
		case 3: { /* a framed command, either flag */
			uint8_t wire[ESSP_WIRE_MAX];
			size_t n;
			if (len && essp_frame_encode((uint8_t)(op & ESSP_SEQ_FLAG), data + i, len, wire, sizeof(wire), &n) == 0)
				(void)sim_essp_write(m, wire, n, now);
			break;
		}
		case 4:
			now += len * 500u;
			sim_essp_tick(m, now);
			break;
		case 5:
			(void)sim_essp_insert_note(m, (int64_t)(op >> 3) * 500);
			break;
		case 6:
			sim_essp_set_fault(m, (enum sim_essp_fault)((op >> 3) % SIM_ESSP_FAULT_COUNT), op & 0x80);
			break;
		case 7:
			if (op & 0x80) {
				char *text = sim_essp_save(m);
				struct sim_essp *again = sim_essp_new_from_state(NULL, text, now, NULL);
				free(text);
				if (!again)
					abort();
				sim_essp_free(m);
				m = again;
				essp_decoder_init(&dec);
			} else {
				(void)sim_essp_insert_fake(m, op >> 3);
			}
			break;
		}
		i += len;
		drain(m, &dec);
	}
	sim_essp_free(m);
	return 0;
}
