/*
 * Simulated devices at the class level: a cash-in unit, a receipt printer and a card
 * issuer behind the same class interfaces as the real drivers, plus the test port the
 * scenario language drives (insert a note, inject a fault). Time comes from the core
 * timers, so headless runs with the virtual clock are deterministic.
 */
#pragma once

#include <stdint.h>

#include "drivers/class/cardprn.h"
#include "drivers/class/cash.h"
#include "drivers/class/receipt.h"
#include "kiosk/core/timers.h"

enum sim_device { SIM_DEV_CASH, SIM_DEV_RECEIPT, SIM_DEV_CARD, SIM_DEV_COUNT };

struct sim_devices;

/* Borrows timers and clock; out_dir receives receipt-<job>.png and card-<number>.png. */
struct sim_devices *sim_devices_new(struct core_timers *timers, const char *out_dir);
void sim_devices_free(struct sim_devices *sims); /* destroys the three devices; accepts NULL */

/* Borrowed: owned by sims. */
struct cash_unit *sim_devices_cash(struct sim_devices *sims);
struct receipt_printer *sim_devices_receipt(struct sim_devices *sims);
struct card_issuer *sim_devices_card(struct sim_devices *sims);

/* "cash", "receipt", "card". */
int sim_device_parse(const char *name, enum sim_device *out);
const char *sim_device_name(enum sim_device dev);
/* The fault kinds a device accepts (`fault cash jam`); KIO_ERR_INVALID for any other. */
int sim_fault_parse(enum sim_device dev, const char *kind, int *fault_out);
/* A space-separated list of the fault kinds of dev, for error messages. */
const char *sim_fault_kinds(enum sim_device dev);

/* The customer feeds a genuine note of value_fils / a note the acceptor will refuse. */
int sim_insert_note(struct sim_devices *sims, int64_t value_fils);
int sim_insert_fake_note(struct sim_devices *sims);
int sim_fault_set(struct sim_devices *sims, enum sim_device dev, int fault);
int sim_fault_clear(struct sim_devices *sims, enum sim_device dev);
