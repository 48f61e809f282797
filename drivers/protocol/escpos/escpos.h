/*
 * ESC/POS receipt printer protocol, pure bytes: the encoder of a raster receipt job and the
 * decoder of the real-time status bytes. No I/O; the host driver moves these bytes over a
 * transport. Owned by drivers/protocol/escpos; the receipt class and its driver call it.
 *
 * References (see docs in the research note shared/research/printers.md, section 1):
 *   Epson ESC/POS Application Programming Guide and command reference, per command below;
 *   the TM-T20/T81/T88 technical reference manuals for ranges.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiosk/core/bytebuf.h"
#include "kiosk/core/err.h"

/* 80 mm paper at 203 dpi: 72 mm printable = 576 dots (TM-T20II/III, TM-m30III). */
#define ESCPOS_WIDTH_80MM_203DPI 576
/* TM-T88III/IV/V and TM-T70 (ANK) print 512 dots at 180 dpi. */
#define ESCPOS_WIDTH_80MM_180DPI 512

/*
 * Default and maximum rows per GS v 0 block. 255 rows keep yH = 0, which firmwares that only
 * honour yL accept (Printer::ESCPOS refuses taller images), are not a multiple of 48 or 96
 * (python-escpos #424: some clones break there), and are 18,360 bytes at 576 dots, far under
 * the 960-row fragments python-escpos uses and the 1024 rows ESC-POS-.NET #201 advises.
 * The maximum is the TM-T81's documented y range (1..2303).
 */
#define ESCPOS_BAND_ROWS_DEFAULT 255
#define ESCPOS_BAND_ROWS_MAX 2303
/* GS v 0 x range on the TM-T81 (bytes per row); 2048 dots, wider than any roll. */
#define ESCPOS_RASTER_MAX_ROW_BYTES 256

/*
 * A 1-bit image in printer order: rows top to bottom, each row `stride` bytes, the MSB of a
 * byte is the leftmost dot, 1 = ink (GS v 0 data layout, Epson reference "GS v 0").
 * Bits past `width` in the last byte of a row are 0.
 */
struct escpos_bitmap {
	int width;  /* dots */
	int height; /* rows */
	int stride; /* bytes per row = ceil(width / 8) */
	uint8_t *bits;
};

/* A zeroed (white) bitmap; caller frees with escpos_bitmap_free. Aborts on exhaustion (xmalloc).
 * KIO_ERR_INVALID if a dimension is < 1 or the image would exceed 64 MiB. */
int escpos_bitmap_new(int width, int height, struct escpos_bitmap **out, struct kio_error *err);
void escpos_bitmap_free(struct escpos_bitmap *bm); /* accepts NULL */
bool escpos_bitmap_get(const struct escpos_bitmap *bm, int x, int y); /* false outside */
void escpos_bitmap_set(struct escpos_bitmap *bm, int x, int y, bool ink); /* ignores outside */

/*
 * Thresholds an 8-bit coverage image (0 = paper .. 255 = full ink; `cov_stride` bytes per row,
 * borrowed) into a new 1-bit bitmap `printer_width` dots wide (0 = ESCPOS_WIDTH_80MM_203DPI),
 * the image at its left edge. A dot is ink when coverage >= threshold (1..255; text is rendered
 * anti-aliased, a threshold keeps strokes crisp where dithering would fray them).
 * KIO_ERR_INVALID if the image is wider than the printer or an argument is out of range.
 */
int escpos_bitmap_from_coverage(const uint8_t *cov, int width, int height, int cov_stride,
	uint8_t threshold, int printer_width, struct escpos_bitmap **out, struct kio_error *err);

/* The encoders append to a caller's struct core_bytebuf (kiosk/core/bytebuf.h): zero-initialise
 * it, then core_bytebuf_free. Nothing is appended when an encoder fails. */

/* ESC @ (1B 40): clears the print buffer and resets modes; the receive buffer is kept. */
void escpos_encode_init(struct core_bytebuf *b);

/*
 * GS ( D (1D 28 44 05 00 14 01 00 02 00): disables the real-time commands DLE DC4 fn1 (drawer
 * pulse) and fn2 (power off), so raster data containing 10 14 can neither pulse nor power off
 * the printer (Epson TM-T88III guide, "GS ( D"). Send after ESC @.
 */
void escpos_encode_realtime_disable(struct core_bytebuf *b);

/*
 * The bitmap as GS v 0 m=0 blocks (1D 76 30 00 xL xH yL yH d...) of at most `band_rows` rows
 * (0 = ESCPOS_BAND_ROWS_DEFAULT, max ESCPOS_BAND_ROWS_MAX). Bands print contiguously.
 * KIO_ERR_INVALID for an empty bitmap, a row wider than ESCPOS_RASTER_MAX_ROW_BYTES or a band
 * height out of range; nothing is appended then.
 */
int escpos_encode_raster(struct core_bytebuf *b, const struct escpos_bitmap *bm, int band_rows,
	struct kio_error *err);

/* LF (0A): print and feed one line at the current line spacing. */
void escpos_encode_lf(struct core_bytebuf *b);
/* ESC d n (1B 64 n): print and feed n lines. */
void escpos_encode_feed_lines(struct core_bytebuf *b, uint8_t lines);
/* ESC J n (1B 4A n): print and feed n motion units (1 dot vertical on 203 dpi TM models). */
void escpos_encode_feed_dots(struct core_bytebuf *b, uint8_t dots);

enum escpos_cut {
	ESCPOS_CUT_FULL,    /* GS V 0: cut where the paper is (content under the head is lost to the next receipt) */
	ESCPOS_CUT_PARTIAL, /* GS V 1 */
	ESCPOS_CUT_FULL_FEED,    /* GS V 65 n: feed to the cutter + n units, then cut */
	ESCPOS_CUT_PARTIAL_FEED, /* GS V 66 n: the kiosk default (research §5 "Cut not executed") */
};
/* GS V (1D 56 m [n]); `feed` is used only by the *_FEED kinds. */
void escpos_encode_cut(struct core_bytebuf *b, enum escpos_cut kind, uint8_t feed);

/* Real-time status request kinds, DLE EOT n (Epson reference "DLE EOT"). */
enum escpos_status_kind {
	ESCPOS_STATUS_PRINTER = 1,
	ESCPOS_STATUS_OFFLINE = 2,
	ESCPOS_STATUS_ERROR = 3,
	ESCPOS_STATUS_PAPER = 4,
};
/* DLE EOT n (10 04 n), n = 1..4; each is answered by one byte. KIO_ERR_INVALID otherwise. */
int escpos_encode_status_request(struct core_bytebuf *b, int kind, struct kio_error *err);

/*
 * GS ( H fn48 (1D 28 48 06 00 30 30 d1 d2 d3 d4): the printer answers 37 22 d1..d4 00 once
 * all data before it has been printed (Epson reference "GS ( H"). Each d must be 0x20..0x7E;
 * KIO_ERR_INVALID otherwise.
 */
int escpos_encode_process_id(struct core_bytebuf *b, const char id[4], struct kio_error *err);

/*
 * The status decoded from DLE EOT replies. Each parse fills only the fields its byte carries;
 * start from escpos_status_init and feed 1..4 in any order. `seen` has bit n set once n parsed.
 */
struct escpos_status {
	unsigned seen;
	/* n = 1 */
	bool drawer_pin3_high;
	bool offline;
	bool waiting_recovery;
	bool feed_button;
	/* n = 2 */
	bool cover_open;
	bool feeding_by_button;
	bool paper_end_stop;
	bool error;
	/* n = 3 */
	bool recoverable_error;
	bool autocutter_error;
	bool unrecoverable_error;
	bool auto_recoverable_error;
	/* n = 4 */
	bool paper_near_end;
	bool paper_out;
};
void escpos_status_init(struct escpos_status *st);

/*
 * Decodes the reply byte to DLE EOT `kind`. Every DLE EOT reply matches 0xx1xx10: bits 1 and 4
 * set, 0 and 7 clear (Epson TM-U230 appendix "Transmission status identification"); a byte that
 * does not is KIO_ERR_PROTOCOL and leaves st untouched. KIO_ERR_INVALID for a bad kind.
 * For n = 4, Epson defines bits 2+3 (near-end) and 5+6 (paper end) as pairs; one bit of a pair
 * alone is read as the condition present, the safe side for a money-taking kiosk.
 */
int escpos_status_parse(struct escpos_status *st, int kind, uint8_t byte, struct kio_error *err);

enum escpos_paper {
	ESCPOS_PAPER_OK,
	ESCPOS_PAPER_NEAR_END,
	ESCPOS_PAPER_OUT,
	ESCPOS_PAPER_UNKNOWN, /* neither n = 2 nor n = 4 parsed */
};
/* Paper state from whichever of n = 4 (roll sensor) and n = 2 (stopped by paper end) is known. */
enum escpos_paper escpos_status_paper(const struct escpos_status *st);
/* True when the parsed bytes say the printer can print now: online, cover closed, paper not
 * out, no error. Unparsed kinds count as unknown and make this false. */
bool escpos_status_ready(const struct escpos_status *st);

/* What an unsolicited or awaited byte from the printer is, by its pattern (same appendix). */
enum escpos_reply_kind {
	ESCPOS_REPLY_DLE_EOT,   /* 0xx1xx10 */
	ESCPOS_REPLY_ASB_FIRST, /* 0xx1xx00: first byte of a 4-byte Automatic Status Back */
	ESCPOS_REPLY_XON,       /* 0x11 */
	ESCPOS_REPLY_XOFF,      /* 0x13 */
	ESCPOS_REPLY_OTHER,     /* ASB bytes 2-4, GS I, GS r, process-id response bytes */
};
enum escpos_reply_kind escpos_reply_classify(uint8_t byte);
