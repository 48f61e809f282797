/*
 * The kiosk's three devices: opens the protocol drivers over libusb (real hardware) or over
 * the simulated bench (--simulate), carries their wake-ups to the main loop, and, when
 * simulated, files what the printers produced. The rest of the kiosk sees only the device
 * classes (drivers/class) through this module.
 */
#pragma once

#include <stdbool.h>

#include "drivers/class/cardprn.h"
#include "drivers/class/cash.h"
#include "drivers/class/receipt.h"
#include "drivers/sim/bench.h"
#include "kiosk/core/config.h"
#include "kiosk/core/timers.h"
#include "kiosk/kdev.h"

struct cash_journal;
struct devices;

struct devices_listeners {
	cash_event_fn on_cash;
	receipt_event_fn on_receipt;
	cardprn_event_fn on_card;
	void *user;
};

struct devices_config {
	bool simulate;
	const struct core_config *cfg;   /* device ids, printer width, output folder */
	const char *cash_state_path;     /* simulated validator memory; NULL = fresh each run */
	const char *printer_state_path;  /* simulated printers' faults; NULL = fresh each run */
	struct core_timers *timers;      /* borrowed: the drivers' polls and timeouts */
	struct cash_journal *journal;    /* borrowed: every note's journey, for exactly-once */
	/* Called when a device wants servicing, possibly from a driver thread: it must only wake
	 * the main loop, which then calls devices_service(). */
	void (*wake)(void *user);
	void *wake_user;
	struct devices_listeners listeners;
};

/* Checks the device keys of cfg (the USB ids' fields) without opening anything, so a typo stops
 * the kiosk at start with "file:line: devices.KEY: reason" in err (KIO_ERR_INVALID). */
int devices_check_config(const struct core_config *cfg, struct kio_error *err);

/* Opens all three devices. A device that is absent or faulty is not an error: its class
 * reports it (offline, fault) and the driver keeps trying. Errors are for what cannot work at
 * all (no USB stack, an unreadable simulated state); err says which. */
int devices_open(const struct devices_config *dc, struct devices **out, struct kio_error *err);
void devices_free(struct devices *d); /* accepts NULL */

/* On the main loop after a wake: lets each driver read what its device sent. */
void devices_service(struct devices *d);

/* Borrowed from d. */
struct cash_unit *devices_cash(struct devices *d);
struct receipt_printer *devices_receipt(struct devices *d);
struct card_issuer *devices_card(struct devices *d);
/* What the class of a hardware device (KDEV_CASH .. KDEV_CARD) reports now: its state and its
 * fault, a number of the class's fault enum (kdev_info(dev)->fault_name names it). */
void devices_status(struct devices *d, enum kdev dev, enum dev_state *state, int *fault);
/* The test port's hands on the simulated devices; NULL with real hardware. */
struct sim_bench *devices_bench(struct devices *d);

/* Prints image as receipt job_id. text is the logical content, kept beside the simulated
 * printer's PNG as receipt-<job_id>.txt (ignored with real hardware). Errors as the class. */
int devices_print_receipt(struct devices *d, const char *job_id, const struct receipt_image *image,
			  const char *text, struct kio_error *err);
