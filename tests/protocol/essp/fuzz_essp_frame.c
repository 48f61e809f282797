/* Fuzz target: the eSSP stream decoder on arbitrary bytes in arbitrary chunks, and the
 * re-encoding of every frame it accepts (which must decode back to the same frame). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/protocol/essp/essp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	/* The first byte picks the chunk size, so split points vary with the input. */
	size_t chunk = 1 + data[0] % 17;
	data++;
	size--;

	struct essp_decoder d;
	essp_decoder_init(&d);
	size_t off = 0;
	while (off < size) {
		size_t len = size - off < chunk ? size - off : chunk;
		size_t used = 0;
		struct essp_frame f;
		enum essp_dec_result r = essp_decoder_feed(&d, data + off, len, &used, &f);
		if (used == 0 || used > len)
			abort();
		off += used;
		if (r != ESSP_DEC_FRAME)
			continue;
		uint8_t wire[ESSP_WIRE_MAX];
		size_t n = 0;
		if (f.len == 0)
			continue; /* a LEN 0 frame is well formed on the wire but never encoded */
		if (essp_frame_encode(f.seqid, f.data, f.len, wire, sizeof(wire), &n) != 0)
			abort();
		struct essp_decoder d2;
		struct essp_frame g;
		essp_decoder_init(&d2);
		if (essp_decoder_feed(&d2, wire, n, &used, &g) != ESSP_DEC_FRAME || used != n ||
		    g.seqid != f.seqid || g.len != f.len || memcmp(g.data, f.data, f.len) != 0)
			abort();
	}
	if (d.frames + d.crc_errors > size)
		abort();
	return 0;
}
