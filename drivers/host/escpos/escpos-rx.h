/*
 * The bytes a receipt printer sends back, as one stream: real-time status replies matched
 * to the DLE EOT requests that caused them (ours, and those the printer finds inside raster
 * data), process-ID responses, and anything else counted as garbage. Pure bytes, no I/O;
 * the ESC/POS receipt driver owns one per printer.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* More outstanding status replies than this means the stream is lost: resynchronise. */
#define ESCPOS_RX_EXPECT_MAX 4096

struct escpos_rx {
	/* Kinds (1..4) of the DLE EOT replies still due, oldest first (a ring). */
	uint8_t expect[ESCPOS_RX_EXPECT_MAX];
	size_t head, count;
	bool overflow;       /* a reply was predicted with the ring full: alignment is lost */
	bool scan_data;      /* false for printers that ignore DLE EOT inside data */
	uint8_t sent_hist[2]; /* the last two bytes sent, for DLE EOT split across writes */
	/* Reply parser. */
	int state;
	uint8_t block[8];
	size_t block_len;
	uint64_t garbage;    /* bytes that fit no reply */
	uint64_t unsolicited; /* status-shaped bytes nobody asked for */
};

/* scan_data: the printer answers DLE EOT n wherever the sequence occurs in the stream, raster
 * data included (Epson TM-T85/TM-U295 "DLE EOT": "transmitted whenever the data sequence
 * 10H 04H n is received"); the simulated printer does. */
void escpos_rx_init(struct escpos_rx *rx, bool scan_data);
/* Forgets what was due and any half-read reply (after a transport flush or a reopen). */
void escpos_rx_reset(struct escpos_rx *rx);

/* Notes a DLE EOT `kind` request (1..4) the driver sent: one reply byte is due. */
void escpos_rx_note_request(struct escpos_rx *rx, int kind);
/*
 * Notes other bytes handed to the printer (a job). With scan_data, every DLE EOT n (n = 1..4)
 * they contain, such as raster rows that happen to hold 10 04 01, will be answered by one
 * status byte in stream order, as if requested: the ring records its kind, so the driver's
 * own requests stay matched to their answers.
 */
void escpos_rx_note_sent(struct escpos_rx *rx, const uint8_t *buf, size_t len);
/* Status replies still due. */
static inline size_t escpos_rx_due(const struct escpos_rx *rx) { return rx->count; }

/* A process-ID character this parser accepts: 0x20..0x7E (Epson "GS ( H"), but not 0x37 and
 * not shaped like a DLE EOT reply (0xx1xx10), so ids and status bytes cannot be confused. */
bool escpos_rx_id_char_ok(uint8_t c);

enum escpos_rx_kind {
	ESCPOS_RX_NONE,       /* the bytes given ran out before an item was complete */
	ESCPOS_RX_STATUS,     /* .status_kind (1..4) answered with .byte */
	ESCPOS_RX_PROCESS_ID, /* GS ( H fn48 answer 37 22 d1..d4 00: .process_id */
	ESCPOS_RX_GARBAGE,    /* .byte fits nothing: counted and dropped */
};

struct escpos_rx_item {
	enum escpos_rx_kind kind;
	int status_kind;
	uint8_t byte;
	char process_id[5];
};

/*
 * Consumes bytes from buf until one item is complete or len runs out, and returns how many
 * it consumed (never more than len; call again with the rest). XON/XOFF and the three data
 * bytes after an Automatic Status Back header are consumed silently (Epson TM-U230 appendix
 * "Transmission status identification"). A status-shaped byte with nothing due is GARBAGE.
 */
size_t escpos_rx_feed(struct escpos_rx *rx, const uint8_t *buf, size_t len,
	struct escpos_rx_item *item);
