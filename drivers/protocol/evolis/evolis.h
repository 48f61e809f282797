/*
 * Evolis card printer command language, pure bytes: encoders for the subset the kiosk uses and
 * parsers of the printer's replies, with error replies mapped to a small fault enum. No I/O.
 * Owned by drivers/protocol/evolis; the card-issuer class and its driver call it.
 * Every command and its source: docs/evolis-commands.md (Evolis Programming Guide A5013 rev E,
 * dpavlin/Printer-EVOLIS, Evolis SDK field code).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiosk/core/bytebuf.h"
#include "kiosk/core/err.h"

/*
 * Panel geometry (guide §2 and "Db"): every panel is 1016 lines of 648 dots at 300 dpi; a line
 * runs across the card's short edge. The kiosk draws the face landscape, 1016 x 648.
 */
#define EVOLIS_FACE_WIDTH 1016
#define EVOLIS_FACE_HEIGHT 648
#define EVOLIS_PANEL_LINES 1016
#define EVOLIS_PANEL_DOTS 648
#define EVOLIS_PANEL_LINE_BYTES 81
/* 82,296 bytes. The guide's table says 84,624 (and 592,368 at 7 bits), but that is not a
 * whole number of 81-byte lines; its own Dbc line format (81 bytes, lines 0..1015) and
 * dpavlin's pixel-exact driver (81 bytes per line) agree on 1016 x 81. See the doc. */
#define EVOLIS_PANEL_K_BYTES (EVOLIS_PANEL_LINES * EVOLIS_PANEL_LINE_BYTES)

/* Longest reply we accept; the SDK's own readers use 32..1024 byte buffers. */
#define EVOLIS_REPLY_MAX 128
/* ISO 7811 track 2 carries at most 37 data characters between its sentinels. */
#define EVOLIS_TRACK2_MAX 37

/* The encoders append to a caller's struct core_bytebuf (kiosk/core/bytebuf.h): zero-initialise
 * it, then core_bytebuf_free. Nothing is appended when an encoder fails. */

/*
 * Any command: ESC text CR (guide §3: start ESC, separator ';', stop CR). text is the command
 * and its ';'-separated parameters, printable ASCII 0x20..0x7E, 1..255 characters;
 * KIO_ERR_INVALID otherwise (it could not be framed).
 */
int evolis_encode_command(struct core_bytebuf *b, const char *text, struct kio_error *err);

/* The reads the kiosk uses (guide §R and field code; see the doc for each reply). */
enum evolis_read {
	EVOLIS_READ_MODEL,         /* Rtp */
	EVOLIS_READ_FIRMWARE,      /* Rfv */
	EVOLIS_READ_SERIAL,        /* Rsn */
	EVOLIS_READ_CARD_POSITION, /* Rlr;p */
	EVOLIS_READ_COVER,         /* Rse;o: sensor voltage */
	EVOLIS_READ_FEEDER,        /* Rse;f: sensor voltage */
	EVOLIS_READ_RIBBON_END,    /* Rcr: OK unless on the end mark */
	EVOLIS_READ_CARDS_INSERTED,/* Rco;c */
	EVOLIS_READ_PANELS_PRINTED,/* Rco;p */
	EVOLIS_READ_RIBBON_LEFT,   /* Rco;l: cards left on this ribbon */
	EVOLIS_READ_COUNT,
};
/* The command text of a read ("Rlr;p"); NULL for an out-of-range value. */
const char *evolis_read_text(enum evolis_read what);
int evolis_encode_read(struct core_bytebuf *b, enum evolis_read what, struct kio_error *err);

/* Pr;k: monochrome resin ribbon, the only one the kiosk loads. */
void evolis_encode_ribbon_k(struct core_bytebuf *b);

enum evolis_station {
	EVOLIS_STATION_CONTACT,     /* Sis: under the smart card contacts (offset Pos) */
	EVOLIS_STATION_CONTACTLESS, /* Sic: at the contactless antenna (offset Poc) */
};
/* Takes a card from the feeder (or moves the one inside) to the encoding station. */
void evolis_encode_move_to_station(struct core_bytebuf *b, enum evolis_station st);

/*
 * Dm;2;digits then Smw: writes the card number on magnetic track 2 (guide §10, "Dm", "Smw").
 * digits: 1..EVOLIS_TRACK2_MAX of '0'..'9' (the kiosk's card numbers are numeric);
 * KIO_ERR_INVALID otherwise, nothing appended.
 */
int evolis_encode_mag_track2(struct core_bytebuf *b, const char *digits, struct kio_error *err);

/* A landscape 1-bit card face, 1016 x 648, row-major, MSB leftmost, 1 = resin ink. */
struct evolis_face {
	uint8_t bits[EVOLIS_FACE_HEIGHT][(EVOLIS_FACE_WIDTH + 7) / 8];
};
/* A blank face; caller frees with free(). Aborts on exhaustion. */
struct evolis_face *evolis_face_new(void);
bool evolis_face_get(const struct evolis_face *f, int x, int y); /* false outside */
void evolis_face_set(struct evolis_face *f, int x, int y, bool ink); /* ignores outside */
/* Thresholds 8-bit coverage (0 paper..255 ink, `stride` bytes per row) into the face at its
 * top-left. KIO_ERR_INVALID if larger than the face, threshold 0 or stride < width. */
int evolis_face_from_coverage(struct evolis_face *f, const uint8_t *cov, int width, int height,
	int stride, uint8_t threshold, struct kio_error *err);

/*
 * The face in panel order: 1016 lines of 81 bytes; line i is face column x = i, and dot j of
 * the line (MSB first) is face row y = 647 - j. This is the 90-degree clockwise turn
 * (pnmflip -rotate270) dpavlin's pixel-exact Dualys driver applies before Db. `out` must hold
 * EVOLIS_PANEL_K_BYTES.
 */
void evolis_face_to_panel(const struct evolis_face *f, uint8_t *out);
void evolis_panel_to_face(const uint8_t *panel, struct evolis_face *f);

/*
 * The print job for a front face on the K ribbon: Ss, Sr, Db;k;2;<82,296 bytes> CR, Se. Se
 * prints and ejects the card (taking it from the feeder if none is at a station).
 */
void evolis_encode_print_front_k(struct core_bytebuf *b, const struct evolis_face *f);

/* Ser: ejects the card into the reject box (encoding failed, card not to be issued). */
void evolis_encode_reject(struct core_bytebuf *b);
/* Se outside a sequence: ejects the card at the station without printing. */
void evolis_encode_eject(struct core_bytebuf *b);

/* ---- replies ---- */

/* What the card-issuer class is told. Keep evolis_fault_name in sync. */
enum evolis_fault {
	EVOLIS_FAULT_NONE,
	EVOLIS_FAULT_FEEDER_EMPTY,
	EVOLIS_FAULT_RIBBON_LOW,
	EVOLIS_FAULT_RIBBON_OUT,
	EVOLIS_FAULT_JAM,
	EVOLIS_FAULT_COVER_OPEN,
	EVOLIS_FAULT_BUSY,
	EVOLIS_FAULT_ENCODE,  /* magnetic checksum, data or write error */
	EVOLIS_FAULT_COMMAND, /* the printer refused our command or a parameter: our bug */
	EVOLIS_FAULT_UNKNOWN,
	EVOLIS_FAULT_COUNT,
};
const char *evolis_fault_name(enum evolis_fault f);

enum evolis_reply_kind {
	EVOLIS_REPLY_OK,    /* "OK", or ACK in ACK/NACK mode */
	EVOLIS_REPLY_VALUE, /* any other text: a read's answer */
	EVOLIS_REPLY_ERROR, /* "ERR ...", or NACK code */
};

struct evolis_reply {
	enum evolis_reply_kind kind;
	enum evolis_fault fault; /* NONE unless kind is ERROR */
	char text[EVOLIS_REPLY_MAX + 1]; /* without terminator; NUL-terminated */
};

/*
 * Finds the end of the first reply in buf: a text reply ends at CR, LF or NUL (field drivers
 * read up to NUL); ACK (06) is one byte, NACK (15) is followed by one code byte (guide §5).
 * Sets *frame_len to the bytes to consume (terminator included), or 0 if incomplete.
 * KIO_ERR_PROTOCOL when EVOLIS_REPLY_MAX bytes hold no terminator.
 */
int evolis_reply_frame(const uint8_t *buf, size_t len, size_t *frame_len, struct kio_error *err);

/*
 * Parses one reply (as framed above; the terminator is optional). Text must be printable
 * ASCII and non-empty, else KIO_ERR_PROTOCOL. "ERR <words>" maps by keyword: FEEDER, RIBBON,
 * MECHANICAL or JAM, COVER, BUSY, MAGNETIC, COMMAND or PARAMETER; anything else is UNKNOWN.
 * NACK codes: F feeder, R ribbon, T timeout/mechanical, C cover, K/D/W magnetic, 1/2 command.
 */
int evolis_reply_parse(const uint8_t *buf, size_t len, struct evolis_reply *out,
	struct kio_error *err);

/* 0 for OK; KIO_ERR_BUSY naming the fault for a device error (KIO_ERR_PROTOCOL for
 * EVOLIS_FAULT_COMMAND); KIO_ERR_PROTOCOL for a value where OK was due. */
int evolis_reply_expect_ok(const struct evolis_reply *r, struct kio_error *err);

/* Rco;x: a decimal counter of 1..9 digits. KIO_ERR_PROTOCOL otherwise. */
int evolis_reply_counter(const struct evolis_reply *r, uint32_t *out, struct kio_error *err);

/* Rse;x: "5,00 Volts" (comma as printed by the firmware; a dot is accepted) -> 5000 mV. */
int evolis_reply_volts(const struct evolis_reply *r, int *millivolts, struct kio_error *err);
/* A sensor reading above 2.5 V: cover closed, feeder loaded (0 V open/empty, 5 V closed/loaded). */
bool evolis_sensor_high(int millivolts);

enum evolis_card_position {
	EVOLIS_CARD_NONE,
	EVOLIS_CARD_PRINT,       /* "CARD", or "ERR CARD" on 2003 firmware */
	EVOLIS_CARD_CONTACT,     /* "SMART CARD" */
	EVOLIS_CARD_CONTACTLESS, /* "CONTACTLESS CARD" */
};
/* Rlr;p: "OK" or "NO CARD" = none; KIO_ERR_PROTOCOL for anything else. */
int evolis_reply_card_position(const struct evolis_reply *r, enum evolis_card_position *out,
	struct kio_error *err);

/* Rcr: OK = ribbon usable; an error reply = on the end mark. Combined with Rco;l and the
 * site's low threshold: NONE, RIBBON_LOW or RIBBON_OUT. */
enum evolis_fault evolis_ribbon_state(bool end_mark, uint32_t cards_left, uint32_t low_threshold);
