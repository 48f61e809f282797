/* Fuzz target: the card printer reply framer and parsers, over a stream of replies. */
#include <stddef.h>
#include <stdint.h>

#include "drivers/protocol/evolis/evolis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	while (off < size) {
		size_t frame = 0;
		if (evolis_reply_frame(data + off, size - off, &frame, NULL) != 0 || frame == 0)
			frame = size - off; /* unterminated tail: parse it as the last reply */
		struct evolis_reply r;
		if (evolis_reply_parse(data + off, frame, &r, NULL) == 0) {
			uint32_t v;
			int mv;
			enum evolis_card_position p;
			evolis_reply_expect_ok(&r, NULL);
			evolis_reply_counter(&r, &v, NULL);
			evolis_reply_volts(&r, &mv, NULL);
			evolis_reply_card_position(&r, &p, NULL);
		}
		off += frame;
	}
	return 0;
}
