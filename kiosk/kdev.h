/*
 * The kiosk's devices, listed once: each one's name (scenarios, logs, notice ids, device
 * events), its class's fault names, and what the technician and the test port can do with it.
 * Everything that used to compare "cash" / "receipt" / "card" strings asks this table.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "drivers/sim/bench.h"

/* The hardware first (a driver each, a model on the simulated bench); then the store and the
 * host link, as the technician sees them beside them (`expect-device store ok|write-failed`,
 * `expect-device host ok|chain-broken`). */
enum kdev { KDEV_CASH, KDEV_RECEIPT, KDEV_CARD, KDEV_STORE, KDEV_HOST, KDEV_COUNT };
#define KDEV_HARDWARE_COUNT 3 /* KDEV_CASH .. KDEV_CARD */

/* What a device can be asked for, to check a scenario line and to list names in messages. */
enum kdev_role {
	KDEV_ROLE_STATUS,     /* a class state and fault name: every device */
	KDEV_ROLE_SIMULATED,  /* a model on the bench: fault, clear */
	KDEV_ROLE_TEST_PRINT, /* the technician's test print: the printers */
};

struct kdev_info {
	const char *name;
	/* The class's fault names ("none" is fault 0); NULL for a number past the last. */
	const char *(*fault_name)(int fault);
	int fault_count;
	bool hardware;             /* a driver, a USB id ([devices] <name>_usb) and a bench model */
	enum sim_bench_dev bench;  /* hardware only */
	bool test_print;
	/* Notices on attract and home, lowest first: the acceptor leads (without it no service
	 * takes money), then the card printer, then the receipt printer. */
	int notice_rank;
};

/* Static storage; dev must be below KDEV_COUNT. */
const struct kdev_info *kdev_info(enum kdev dev);
/* KIO_ERR_INVALID for a name no device has. */
int kdev_parse(const char *name, enum kdev *out);
bool kdev_has(enum kdev dev, enum kdev_role role);
/* "cash, receipt, card": the names of the devices with role, for messages. Static storage. */
const char *kdev_names(enum kdev_role role);
/* The catalogue id of the notice for a device showing fault (a class fault name):
 * status.<name>.<fault>, or status.<name>.starting for "none" (offline with no fault yet: a
 * driver still setting the device up). */
void kdev_notice_key(enum kdev dev, const char *fault, char *out, size_t cap);
