/*
 * Receipt printer class: prints a 1-bit raster (the kiosk draws every receipt itself, so
 * Arabic never depends on the printer's code pages) and reports paper and cover state.
 * Printing is asynchronous: print() queues the job and RECEIPT_EV_PRINTED or
 * RECEIPT_EV_FAILED follows.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "device.h"

enum receipt_fault {
	RECEIPT_FAULT_NONE,
	RECEIPT_FAULT_PAPER_NEAR_END, /* a warning: still prints */
	RECEIPT_FAULT_PAPER_OUT,
	RECEIPT_FAULT_COVER_OPEN,
	RECEIPT_FAULT_ERROR,       /* the printer reports an error: cutter, mechanism, offline */
	RECEIPT_FAULT_DISCONNECTED,
	RECEIPT_FAULT_COUNT
};

struct receipt_status {
	enum dev_state state;
	enum receipt_fault fault;
	int width_dots; /* printable width, e.g. 576 for 80 mm at 203 dpi */
};

/* A 1-bit image, MSB = leftmost pixel, 1 = ink. Borrowed for the duration of print(). */
struct receipt_image {
	int width, height, stride;
	const uint8_t *bits;
};

enum receipt_event_kind { RECEIPT_EV_PRINTED, RECEIPT_EV_FAILED, RECEIPT_EV_FAULT, RECEIPT_EV_RECOVERED };

/* The longest job id print() takes: every event of the job carries it whole. */
#define RECEIPT_JOB_ID_MAX 39

struct receipt_event {
	enum receipt_event_kind kind;
	char job_id[RECEIPT_JOB_ID_MAX + 1];
	enum receipt_fault fault;
};

typedef void (*receipt_event_fn)(void *user, const struct receipt_event *ev);

struct receipt_printer;

struct receipt_printer_ops {
	/* job_id names the transaction (the simulator writes receipt-<job_id>.png): 1 to
	 * RECEIPT_JOB_ID_MAX bytes, so the job's events name it whole. KIO_ERR_INVALID for a
	 * job id or an image out of range (nothing starts, no event follows). */
	int (*print)(struct receipt_printer *prn, const char *job_id, const struct receipt_image *image);
	void (*get_status)(struct receipt_printer *prn, struct receipt_status *out);
	/* Processes what the device sent since the last call. The kiosk calls it whenever the
	 * device's transport wakes it; drivers keep their own timers for polls and timeouts.
	 * NULL when the implementation needs no servicing. */
	void (*service)(struct receipt_printer *prn);
	void (*destroy)(struct receipt_printer *prn);
};

struct receipt_printer {
	const struct receipt_printer_ops *ops;
	const char *name;
	receipt_event_fn on_event;
	void *on_event_user;
};

void receipt_emit(struct receipt_printer *prn, const struct receipt_event *ev);
const char *receipt_fault_name(enum receipt_fault fault);
