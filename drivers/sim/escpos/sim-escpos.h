/*
 * The simulated ESC/POS receipt printer: a byte-level model that consumes the stream a host
 * driver sends, prints raster into paper, cuts receipts, and answers real-time status the way an
 * Epson TM printer does, with injectable faults. Owned by drivers/sim/escpos; the simulated
 * transport and the tests drive it. Independent of drivers/protocol/escpos on purpose: its
 * constants are written from the manuals again, so an encoder bug cannot hide in both.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiosk/core/err.h"

struct sim_escpos;

struct sim_escpos_config {
	int width_dots;       /* printable dots per line; 576 (80 mm, 203 dpi) */
	int dpi;              /* vertical and horizontal; sets the default line spacing (1/6 in) */
	int max_band_rows;    /* GS v 0 y above this is refused (TM-T81: 2303) */
	int max_page_rows;    /* paper between two cuts; rows beyond are lost and reported */
	size_t rx_capacity;   /* receive buffer; full while offline means writes are refused (NAK) */
	int cutter_offset;    /* dots between head and cutter: GS V 0/1 leave them on the roll */
};
void sim_escpos_config_default(struct sim_escpos_config *cfg);

/* cfg is copied; NULL means defaults. Caller frees with sim_escpos_free. KIO_ERR_INVALID on a
 * nonsensical config. */
int sim_escpos_new(const struct sim_escpos_config *cfg, struct sim_escpos **out,
	struct kio_error *err);
void sim_escpos_free(struct sim_escpos *s); /* accepts NULL */

/*
 * Host -> printer. Accepts bytes into the receive buffer (*accepted of len; fewer when the
 * buffer is full because the printer is offline: a USB NAK), intercepts real-time commands on
 * arrival, and processes the buffer while the printer is online. Returns 0, or
 * KIO_ERR_PROTOCOL (err filled, bytes still consumed and the parser resynchronised) when this
 * chunk contained something the printer rejects: unknown command, absurd raster size, text.
 * While disconnected every byte is swallowed and nothing is answered.
 */
int sim_escpos_write(struct sim_escpos *s, const uint8_t *buf, size_t len, size_t *accepted,
	struct kio_error *err);

/* Printer -> host: copies up to cap queued reply bytes, returns how many. */
size_t sim_escpos_read(struct sim_escpos *s, uint8_t *buf, size_t cap);
size_t sim_escpos_readable(const struct sim_escpos *s);

/* Fault kinds of the scenario `fault receipt KIND` command. */
enum sim_escpos_fault {
	SIM_ESCPOS_FAULT_PAPER_NEAR_END,
	SIM_ESCPOS_FAULT_PAPER_OUT,
	SIM_ESCPOS_FAULT_COVER_OPEN,
	SIM_ESCPOS_FAULT_DISCONNECT,
	/* Armed, not yet a fault: the roll ends SIM_ESCPOS_RUNS_OUT_ROWS rows into the next
	 * raster printed, and PAPER_OUT is raised there, in the middle of that job (a receipt
	 * job that fails after it was sent). The status reads ready until then. The bench saves
	 * faults as the tester set them (bench.c): across a power cut it is armed again, and the
	 * paper-out it became is not carried over. */
	SIM_ESCPOS_FAULT_PAPER_RUNS_OUT,
	SIM_ESCPOS_FAULT_COUNT,
};
/* Raising or clearing a fault; clearing paper-out or cover-open resumes the held data, as a
 * real printer resumes after reload (research §5: receipts split by a paper-out). */
void sim_escpos_fault_set(struct sim_escpos *s, enum sim_escpos_fault f, bool on);
bool sim_escpos_fault_get(const struct sim_escpos *s, enum sim_escpos_fault f);
#define SIM_ESCPOS_RUNS_OUT_ROWS 200
/* "paper-near-end", "paper-out", "cover-open", "disconnect", "paper-runs-out";
 * KIO_ERR_NOT_FOUND otherwise. */
int sim_escpos_fault_parse(const char *name, enum sim_escpos_fault *out);
const char *sim_escpos_fault_name(enum sim_escpos_fault f);
/* False while disconnected or after a DLE DC4 power-off; a transport reports NO_DEVICE then. */
bool sim_escpos_connected(const struct sim_escpos *s);
/* Power cycle: modes reset, buffers and unfinished paper lost, printed receipts kept. */
void sim_escpos_power_cycle(struct sim_escpos *s);

/* A strip of paper: 1 bit per dot, MSB leftmost, 1 = ink, `stride` bytes per row. */
struct sim_escpos_page {
	int width;
	int height;
	int stride;
	uint8_t *bits;
	bool partial_cut;
};
bool sim_escpos_page_get(const struct sim_escpos_page *p, int x, int y);
/* Ink dots in the page, for tests that check a receipt is not blank. */
size_t sim_escpos_page_ink(const struct sim_escpos_page *p);
/* PNG, 1-bit greyscale, black ink on white paper. KIO_ERR_IO with the path on failure,
 * KIO_ERR_INVALID for an empty page. */
int sim_escpos_page_write_png(const struct sim_escpos_page *p, const char *path,
	struct kio_error *err);

/* Receipts finished by a cut, oldest first. Borrowed; valid until free or power cycle does not
 * touch them (they live until sim_escpos_free). */
size_t sim_escpos_receipt_count(const struct sim_escpos *s);
const struct sim_escpos_page *sim_escpos_receipt(const struct sim_escpos *s, size_t index);
/* Frees receipt index once its owner has filed it (the kiosk's bench, after writing its PNG):
 * the count stays, sim_escpos_receipt(index) is NULL from then on. A receipt is ~120 KB, and
 * a headless kiosk keeping all of them grew by that per top-up (issue 14, memory over time). */
void sim_escpos_receipt_release(struct sim_escpos *s, size_t index);
/* Paper printed since the last cut (height 0 when none). Borrowed, changes with every write. */
const struct sim_escpos_page *sim_escpos_current(const struct sim_escpos *s);

struct sim_escpos_stats {
	uint64_t bytes_in;        /* accepted bytes, all states */
	uint64_t protocol_errors;
	uint64_t status_replies;  /* DLE EOT answers, including those triggered inside data */
	uint64_t realtime_unbuffered; /* real-time commands taken with the buffer full (not stored) */
	uint64_t bands;           /* GS v 0 blocks printed */
	uint64_t cuts;
	uint64_t lost_rows;       /* rows dropped by max_page_rows or clipped height */
	uint64_t text_bytes;      /* printable bytes outside commands: this model prints raster only */
	uint64_t power_offs;      /* DLE DC4 fn2 obeyed */
	size_t held;              /* bytes waiting in the receive buffer (offline) */
};
void sim_escpos_stats(const struct sim_escpos *s, struct sim_escpos_stats *out);
/* The last protocol error seen (code 0 when none). Borrowed. */
const struct kio_error *sim_escpos_last_error(const struct sim_escpos *s);
