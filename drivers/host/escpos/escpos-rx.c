/* The receipt printer's reply stream: status replies matched to requests, process IDs, garbage. */
#include "drivers/host/escpos/escpos-rx.h"

#include <string.h>

enum { DLE = 0x10, EOT = 0x04, XON = 0x11, XOFF = 0x13, PID_HEADER = 0x37, PID_ID = 0x22 };

/* Every DLE EOT reply reads 0xx1xx10 (Epson TM-U230 appendix "Transmission status
 * identification"); the process-ID header 37 does not, so the two never mix. */
#define STATUS_MASK 0x93u
#define STATUS_VALUE 0x12u

enum rx_state { RX_IDLE, RX_PROCESS_ID, RX_COUNT };

bool escpos_rx_id_char_ok(uint8_t c)
{
	return c >= 0x20 && c <= 0x7E && (c & STATUS_MASK) != STATUS_VALUE && c != PID_HEADER;
}

void escpos_rx_init(struct escpos_rx *rx, bool scan_data)
{
	memset(rx, 0, sizeof(*rx));
	rx->scan_data = scan_data;
}

void escpos_rx_reset(struct escpos_rx *rx)
{
	rx->head = rx->count = 0;
	rx->overflow = false;
	rx->state = RX_IDLE;
	rx->block_len = 0;
	rx->sent_hist[0] = rx->sent_hist[1] = 0;
}

static void expect(struct escpos_rx *rx, uint8_t kind)
{
	if (rx->count == ESCPOS_RX_EXPECT_MAX) {
		rx->overflow = true;
		return;
	}
	rx->expect[(rx->head + rx->count) % ESCPOS_RX_EXPECT_MAX] = kind;
	rx->count++;
}

static void push_hist(struct escpos_rx *rx, uint8_t b)
{
	rx->sent_hist[0] = rx->sent_hist[1];
	rx->sent_hist[1] = b;
}

void escpos_rx_note_request(struct escpos_rx *rx, int kind)
{
	expect(rx, (uint8_t)kind);
	push_hist(rx, DLE);
	push_hist(rx, EOT);
	push_hist(rx, (uint8_t)kind);
}

void escpos_rx_note_sent(struct escpos_rx *rx, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t b = buf[i];
		if (rx->scan_data && rx->sent_hist[0] == DLE && rx->sent_hist[1] == EOT && b >= 1 &&
			b <= 4)
			expect(rx, b);
		push_hist(rx, b);
	}
}

static size_t garbage(struct escpos_rx *rx, uint8_t byte, size_t consumed,
	struct escpos_rx_item *item)
{
	rx->garbage++;
	item->kind = ESCPOS_RX_GARBAGE;
	item->byte = byte;
	return consumed;
}

size_t escpos_rx_feed(struct escpos_rx *rx, const uint8_t *buf, size_t len,
	struct escpos_rx_item *item)
{
	memset(item, 0, sizeof(*item));
	for (size_t i = 0; i < len; i++) {
		uint8_t b = buf[i];
		if (rx->state == RX_PROCESS_ID) {
			/* 37 22 d1 d2 d3 d4 00 (Epson "GS ( H" fn48). The driver's ids use no character
			 * shaped like a status reply (escpos_rx_id_char_ok), so a status byte inside a
			 * block means the block broke: it is garbage and the byte is read again. */
			size_t at = rx->block_len;
			bool fits = at == 0 ? b == PID_ID : at <= 4 ? escpos_rx_id_char_ok(b) : b == 0x00;
			if (!fits) {
				rx->state = RX_IDLE;
				rx->block_len = 0;
				return garbage(rx, PID_HEADER, i, item);
			}
			if (at < 5) {
				rx->block[rx->block_len++] = b;
				continue;
			}
			rx->state = RX_IDLE;
			rx->block_len = 0;
			item->kind = ESCPOS_RX_PROCESS_ID;
			memcpy(item->process_id, rx->block + 1, 4);
			item->process_id[4] = '\0';
			return i + 1;
		}
		if (b == XON || b == XOFF)
			continue;
		if ((b & STATUS_MASK) == STATUS_VALUE) {
			if (rx->count == 0) {
				rx->unsolicited++;
				return garbage(rx, b, i + 1, item);
			}
			item->kind = ESCPOS_RX_STATUS;
			item->status_kind = rx->expect[rx->head];
			item->byte = b;
			rx->head = (rx->head + 1) % ESCPOS_RX_EXPECT_MAX;
			rx->count--;
			return i + 1;
		}
		if (b == PID_HEADER) {
			rx->state = RX_PROCESS_ID;
			rx->block_len = 0;
			continue;
		}
		return garbage(rx, b, i + 1, item);
	}
	return len;
}
