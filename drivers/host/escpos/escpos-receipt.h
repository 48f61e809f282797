/*
 * The ESC/POS receipt printer driver: struct receipt_printer over a struct transport, for
 * Epson TM-compatible printers that print raster (GS v 0) and answer real-time status
 * (DLE EOT). Never blocks: print() encodes the job and returns, service() and the driver's
 * timers move it along as the printer takes bytes and answers.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "drivers/class/receipt.h"
#include "drivers/transport/transport.h"
#include "kiosk/core/err.h"
#include "kiosk/core/timers.h"

struct escpos_receipt_config {
	int width_dots;       /* printable dots per line; 0 = 576 (80 mm at 203 dpi) */
	int band_rows;        /* rows per GS v 0 block; 0 = ESCPOS_BAND_ROWS_DEFAULT (255) */
	int cut_feed_dots;    /* GS V 66 n: dots fed past the cutter position before the partial
	                       * cut; 0 = 24 (3 mm at 203 dpi) */
	bool full_cut;        /* GS V 65 n instead of 66 (some models cut only one way) */
	bool process_id;      /* confirm with GS ( H fn48 (default true); false on models that
	                       * lack it (Epson APG: TM-T88III, TM-L60II, ...): status after the cut */
	bool status_in_data;  /* the printer answers DLE EOT found inside raster data (Epson TM,
	                       * and the simulated printer); default true */
	uint32_t poll_ms;     /* status poll while idle; 0 = 5000 */
	uint32_t job_poll_ms; /* status poll while waiting for a job to finish; 0 = 500 */
	uint32_t reply_timeout_ms; /* for the four DLE EOT answers; 0 = 1000 */
	uint32_t stall_ms;    /* printer took nothing for this long while bytes wait: ask why;
	                       * 0 = 3000 */
	uint32_t job_timeout_ms; /* from the first byte of a job to its confirmation; 0 = 60000 */
	uint32_t reopen_ms;   /* retry interval while disconnected; 0 = 2000 */
	uint32_t settle_ms;   /* after a flush or reopen, input is read and dropped this long so
	                       * answers to earlier requests cannot pass for new ones; 0 = 100 */
	uint32_t chunk_bytes; /* bytes handed to the transport at a time; 0 = 4096 */
	/* The printer's receive buffer (TM-T20/T81: 4 KB). With process_id, the driver keeps
	 * less than this unconfirmed in the printer, in bands each confirmed by its own GS ( H,
	 * so the buffer never fills and a DLE EOT can always get in to ask why printing stopped
	 * (a USB printer with a full buffer NAKs everything, status requests too). 0 = 4096;
	 * ESCPOS_RECEIPT_NO_WINDOW sends as fast as the printer takes. */
	uint32_t printer_buffer_bytes;
};
#define ESCPOS_RECEIPT_NO_WINDOW UINT32_MAX

/* Fills the defaults above (zeros in a config mean the same). */
void escpos_receipt_config_default(struct escpos_receipt_config *cfg);

/*
 * Borrows t and timers (both outlive the printer); cfg is copied (NULL = defaults). The kiosk
 * points the transport's wake callback at its loop and calls ops->service when it fires;
 * the driver sets no wake callback itself. Starts by reading the status (or reopening).
 * Caller frees with (*out)->ops->destroy(*out); a job in progress is dropped without an event.
 * KIO_ERR_INVALID (err filled) for a config out of range.
 */
int escpos_receipt_new(struct transport *t, struct core_timers *timers,
	const struct escpos_receipt_config *cfg, struct receipt_printer **out,
	struct kio_error *err);

/* Counters for tests and the technician's screen. */
struct escpos_receipt_stats {
	uint64_t jobs_printed, jobs_failed;
	uint64_t status_rounds, status_timeouts;
	uint64_t stalls;        /* times the printer stopped taking bytes mid-job */
	uint64_t resumed;       /* stalls after which the job went on (printer ready again) */
	uint64_t reopens;
	uint64_t garbage_bytes; /* reply bytes that fit nothing */
	uint64_t late_process_ids; /* confirmations of jobs already reported failed */
	uint64_t resyncs;       /* interrupted jobs whose remains were completed and cut off */
	uint64_t injected;      /* status request bytes a stalled printer took as raster rows */
};
/* prn must come from escpos_receipt_new. */
void escpos_receipt_stats(const struct receipt_printer *prn, struct escpos_receipt_stats *out);
