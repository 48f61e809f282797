/* Decoding of ESC/POS real-time status bytes (DLE EOT 1..4) and classification of IN bytes. */
#include "drivers/protocol/escpos/escpos.h"

#include <string.h>

/*
 * Every DLE EOT reply reads 0xx1xx10 (Epson TM-U230/TM-U295 appendix "Transmission status
 * identification"; the DLE EOT reference lists bits 0, 1, 4, 7 as fixed 0, 1, 1, 0).
 */
#define FIXED_MASK 0x93u
#define FIXED_VALUE 0x12u

void escpos_status_init(struct escpos_status *st)
{
	memset(st, 0, sizeof(*st));
}

int escpos_status_parse(struct escpos_status *st, int kind, uint8_t byte, struct kio_error *err)
{
	if (kind < ESCPOS_STATUS_PRINTER || kind > ESCPOS_STATUS_PAPER)
		return kio_fail(err, KIO_ERR_INVALID, "escpos: status kind %d (1..4)", kind);
	if ((byte & FIXED_MASK) != FIXED_VALUE)
		return kio_fail(err, KIO_ERR_PROTOCOL,
			"escpos: DLE EOT %d reply 0x%02x has wrong fixed bits (want 0xx1xx10)", kind, byte);

	switch (kind) {
	case ESCPOS_STATUS_PRINTER: /* Epson "DLE EOT": n = 1 printer status */
		st->drawer_pin3_high = byte & 0x04;
		st->offline = byte & 0x08;
		st->waiting_recovery = byte & 0x20;
		st->feed_button = byte & 0x40;
		break;
	case ESCPOS_STATUS_OFFLINE: /* n = 2 offline cause */
		st->cover_open = byte & 0x04;
		st->feeding_by_button = byte & 0x08;
		st->paper_end_stop = byte & 0x20;
		st->error = byte & 0x40;
		break;
	case ESCPOS_STATUS_ERROR: /* n = 3 error cause */
		st->recoverable_error = byte & 0x04;
		st->autocutter_error = byte & 0x08;
		st->unrecoverable_error = byte & 0x20;
		st->auto_recoverable_error = byte & 0x40;
		break;
	case ESCPOS_STATUS_PAPER: /* n = 4 roll paper sensor: pairs 0x0C near-end, 0x60 end */
		st->paper_near_end = byte & 0x0C;
		st->paper_out = byte & 0x60;
		break;
	}
	st->seen |= 1u << kind;
	return 0;
}

enum escpos_paper escpos_status_paper(const struct escpos_status *st)
{
	bool have4 = st->seen & (1u << ESCPOS_STATUS_PAPER);
	bool have2 = st->seen & (1u << ESCPOS_STATUS_OFFLINE);
	if ((have4 && st->paper_out) || (have2 && st->paper_end_stop))
		return ESCPOS_PAPER_OUT;
	if (have4 && st->paper_near_end)
		return ESCPOS_PAPER_NEAR_END;
	if (have4)
		return ESCPOS_PAPER_OK;
	return ESCPOS_PAPER_UNKNOWN;
}

bool escpos_status_ready(const struct escpos_status *st)
{
	unsigned all = (1u << ESCPOS_STATUS_PRINTER) | (1u << ESCPOS_STATUS_OFFLINE) |
		(1u << ESCPOS_STATUS_ERROR) | (1u << ESCPOS_STATUS_PAPER);
	if ((st->seen & all) != all)
		return false;
	return !st->offline && !st->cover_open && !st->paper_out && !st->paper_end_stop &&
		!st->error && !st->autocutter_error && !st->unrecoverable_error &&
		!st->auto_recoverable_error && !st->recoverable_error;
}

enum escpos_reply_kind escpos_reply_classify(uint8_t byte)
{
	if (byte == 0x11)
		return ESCPOS_REPLY_XON;
	if (byte == 0x13)
		return ESCPOS_REPLY_XOFF;
	if ((byte & FIXED_MASK) == FIXED_VALUE)
		return ESCPOS_REPLY_DLE_EOT;
	if ((byte & FIXED_MASK) == 0x10)
		return ESCPOS_REPLY_ASB_FIRST;
	return ESCPOS_REPLY_OTHER;
}
