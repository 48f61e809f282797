/*
 * Fuzz target: the receipt driver's reply stream (escpos-rx.h). Input: one flags byte (bit 0:
 * the printer answers DLE EOT inside data), then segments of a length byte and that many
 * bytes, alternately sent to the printer and received from it; a zero-length sent segment
 * notes a status request instead. Checks the parser's contract, not just that it survives.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/host/escpos/escpos-rx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct escpos_rx rx;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	escpos_rx_init(&rx, data[0] & 1);
	size_t off = 1;
	for (int seg = 0; off < size; seg++) {
		size_t len = data[off++];
		if (len > size - off)
			len = size - off;
		const uint8_t *b = data + off;
		off += len;
		if (seg % 2 == 0) {
			if (len == 0)
				escpos_rx_note_request(&rx, 1 + seg / 2 % 4);
			else
				escpos_rx_note_sent(&rx, b, len);
			if (escpos_rx_due(&rx) > ESCPOS_RX_EXPECT_MAX)
				abort();
			continue;
		}
		size_t pos = 0;
		while (pos < len) {
			size_t due = escpos_rx_due(&rx);
			struct escpos_rx_item it;
			size_t used = escpos_rx_feed(&rx, b + pos, len - pos, &it);
			if (used > len - pos || (used == 0 && it.kind == ESCPOS_RX_NONE))
				abort(); /* past the end, or no progress */
			pos += used;
			switch (it.kind) {
			case ESCPOS_RX_STATUS:
				if (it.status_kind < 1 || it.status_kind > 4 || (it.byte & 0x93) != 0x12 ||
					escpos_rx_due(&rx) != due - 1)
					abort();
				break;
			case ESCPOS_RX_PROCESS_ID:
				if (strlen(it.process_id) != 4)
					abort();
				for (int i = 0; i < 4; i++)
					if (!escpos_rx_id_char_ok((uint8_t)it.process_id[i]))
						abort();
				break;
			case ESCPOS_RX_GARBAGE:
			case ESCPOS_RX_NONE:
				if (escpos_rx_due(&rx) != due)
					abort();
				break;
			}
		}
		if (seg % 7 == 5)
			escpos_rx_reset(&rx);
	}
	return 0;
}
