/*
 * The simulated devices on the bench: one byte-level model per device (eSSP validator, ESC/POS
 * receipt printer, Evolis card printer), each behind an in-process transport for the real
 * protocol drivers, plus the hands of the tester: insert a note, pull a cable, open a cover,
 * and collect what the printers produced as files in the output folder.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "drivers/transport/transport.h"
#include "kiosk/core/clock.h"
#include "kiosk/core/err.h"

enum sim_bench_dev { SIM_BENCH_CASH, SIM_BENCH_RECEIPT, SIM_BENCH_CARD, SIM_BENCH_DEV_COUNT };

struct sim_bench_config {
	const char *out_dir;    /* receipt-<job>.png/.txt and card-<number>.png/.txt go here */
	/* The validator's memory (counters, cashbox, a note left in the path) survives a restart
	 * of the kiosk as it would on real hardware; NULL: a factory-fresh device every run. */
	const char *cash_state_path;
	/* The printers' physical faults the tester raised (paper out, cover open, ribbon out, a
	 * pulled cable...) survive a restart of the kiosk too, as a printer with no paper still
	 * has none after a power cut: kept in this file, written whenever they change. NULL:
	 * fresh printers every run. */
	const char *printer_state_path;
	/* A validator set to require eSSP encryption with this fixed key (the site's choice). */
	bool cash_encryption;
	uint64_t cash_fixed_key;
};

struct sim_bench;

/* Borrows clock; copies cfg. Caller frees with sim_bench_free. KIO_ERR_CORRUPT (err names the
 * file) when the saved validator or printer state cannot be read. */
int sim_bench_new(const struct core_clock *clock, const struct sim_bench_config *cfg,
		  struct sim_bench **out, struct kio_error *err);
/* Saves the validator state (if a path was given) and frees everything. Accepts NULL. Free the
 * drivers first: they hold the transports. */
void sim_bench_free(struct sim_bench *b);

/* The device end of each cable, for the drivers. Borrowed from the bench. */
struct transport *sim_bench_transport(struct sim_bench *b, enum sim_bench_dev dev);

/* "cash", "receipt", "card": the scenario language's device names. KIO_ERR_INVALID else. */
int sim_bench_device_parse(const char *name, enum sim_bench_dev *out);
const char *sim_bench_device_name(enum sim_bench_dev dev);
/* A fault kind of dev (`fault cash jam`), KIO_ERR_INVALID for any other. */
int sim_bench_fault_parse(enum sim_bench_dev dev, const char *kind, int *fault_out);
/* The fault kinds of dev, space-separated, for error messages. Static storage. */
const char *sim_bench_fault_kinds(enum sim_bench_dev dev);

/* Raises or clears one fault; clear_all clears every fault of dev. Wakes the driver. */
int sim_bench_fault(struct sim_bench *b, enum sim_bench_dev dev, int fault, bool on);
int sim_bench_clear_all(struct sim_bench *b, enum sim_bench_dev dev);

/* A customer feeds a genuine note of value_fils: KIO_ERR_NOT_FOUND if the dataset has no such
 * note, KIO_ERR_BUSY if the bezel does not take it now (disabled, busy, faulty). */
int sim_bench_insert_note(struct sim_bench *b, int64_t value_fils);
/* A note fed and held under the validator's sensors (sim_essp_hold_note) until
 * sim_bench_release_note: a scenario can act while the kiosk knows a note is in the path but
 * not yet its value. */
int sim_bench_hold_note(struct sim_bench *b, int64_t value_fils);
int sim_bench_release_note(struct sim_bench *b);
/* A note the validator will not recognise. */
int sim_bench_insert_fake(struct sim_bench *b);

/*
 * The receipt printer cut a receipt for job_id: writes OUT/receipt-<job_id>.png from the
 * oldest receipt not yet collected and, when text is not NULL, OUT/receipt-<job_id>.txt with
 * the logical lines the kiosk meant to print. KIO_ERR_NOT_FOUND when no uncollected receipt
 * exists, KIO_ERR_INVALID for a job id that is not a safe file name, KIO_ERR_IO.
 */
int sim_bench_collect_receipt(struct sim_bench *b, const char *job_id, const char *text,
			      struct kio_error *err);
/* The card printer ejected the card for card_number: OUT/card-<number>.png of its face and
 * OUT/card-<number>.txt with what was encoded on track 2. Errors as above. */
int sim_bench_collect_card(struct sim_bench *b, const char *card_number, struct kio_error *err);
/* Receipts and card faces the printer models still hold in memory: the ones not yet collected
 * (a collected one is filed and freed). */
size_t sim_bench_pages_held(const struct sim_bench *b);

/* Writes the validator state now. The bench also writes it by itself whenever it changes,
 * before the driver can see the change, so a killed kiosk finds the device as it was. */
int sim_bench_save_cash_state(struct sim_bench *b, struct kio_error *err);
