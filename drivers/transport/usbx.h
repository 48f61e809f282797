/*
 * The USB transport: struct transport over a device's bulk IN/OUT endpoints through libusb-1.0.
 * One usbx_context per process runs libusb's event handling on its own thread; each device is
 * a transport opened by VID:PID (and serial) that never blocks the caller: write() queues and
 * submits asynchronous bulk OUT transfers, a bulk IN transfer is always pending so that bytes
 * the device sends are buffered until read(), and the transport's wake callback runs on the
 * event thread when bytes arrive, the OUT queue drains, or the device leaves or comes back.
 *
 * Threads (see usbx.c for the locking):
 *  - the caller's thread (the kiosk's loop) calls the transport ops, usbx_open and the
 *    context functions; one device is used from one thread at a time;
 *  - the event thread runs libusb's transfer and hotplug callbacks and the wake callbacks.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/transport/transport.h"
#include "kiosk/core/err.h"

struct usbx_context;

/* Longest serial number string matched (USB string descriptors hold at most 126 chars). */
#define USBX_SERIAL_MAX 128

/* Which device and which pipe of it. */
struct usbx_id {
	uint16_t vid;
	uint16_t pid;
	char serial[USBX_SERIAL_MAX]; /* "" = the first device with this vid:pid */
	uint8_t interface;            /* bInterfaceNumber (altsetting 0) */
	uint8_t ep_in;                /* 0 = the interface's first bulk IN endpoint */
	uint8_t ep_out;               /* 0 = the interface's first bulk OUT endpoint */
};

/*
 * Parses a configuration string "VID:PID[:SERIAL][,if=N][,in=EP][,out=EP]": VID and PID are
 * 1..4 hex digits ("191c:4104"), the serial is printable ASCII without ',' and EP is an endpoint
 * address (decimal or 0x hex: in=0x81 needs bit 7 set, out=0x01 needs it clear). Unset fields
 * are 0 (interface 0, first bulk pair). KIO_ERR_INVALID with the offending part in err; *out
 * is untouched then.
 */
int usbx_id_parse(const char *text, struct usbx_id *out, struct kio_error *err);
/* "191c:4104:SERIAL,if=1" (the fields that are set), for logs. Always NUL-terminates. */
void usbx_id_format(const struct usbx_id *id, char *buf, size_t cap);

/*
 * libusb_init plus the event thread and one hotplug callback for every device opened on it.
 * KIO_ERR_IO (libusb error name in err) if libusb cannot start. Caller frees with
 * usbx_context_free, after freeing every transport opened on it.
 */
int usbx_context_new(struct usbx_context **out, struct kio_error *err);
/* Stops the event thread and closes libusb. Accepts NULL. */
void usbx_context_free(struct usbx_context *ctx);
/* False where libusb has no hotplug support (no udev): then reopen() re-scans the bus on
 * every call, and the kiosk must call it from a timer since no arrival wakes it. */
bool usbx_context_has_hotplug(const struct usbx_context *ctx);

/*
 * Opens the device as a transport named `name` (for logs). Detaches a kernel driver that owns
 * the interface (usblp binds to printer-class interfaces, cdc_acm to the NV9USB), claims the
 * interface and starts the pending IN transfer. Opening does a few synchronous requests
 * (open, claim, the serial string): milliseconds, at start-up and in reopen() only.
 *
 * Returns 0 with an open transport; KIO_ERR_NO_DEVICE when no such device is present, or
 * another KIO_ERR_* (err names the libusb error: LIBUSB_ERROR_ACCESS means the udev rules are
 * not installed, BUSY that another program holds the interface, NOT_FOUND in err for a missing
 * interface or endpoint). In all these cases *out is a transport the caller frees with
 * transport_free: a closed one keeps waiting for the device, wakes its owner when a matching
 * device arrives, and reopen() retries. KIO_ERR_INVALID (bad id or name) leaves *out NULL.
 * Borrows ctx, which must outlive the transport.
 */
int usbx_open(struct usbx_context *ctx, const struct usbx_id *id, const char *name,
	      struct transport **out, struct kio_error *err);

/* Counters of one USB transport, for tests, benchmarks and the technician's screen. */
struct usbx_stats {
	uint64_t bytes_out;     /* taken by the device */
	uint64_t bytes_in;      /* received */
	uint64_t out_transfers; /* completed bulk OUT transfers */
	uint64_t in_transfers;  /* completed bulk IN transfers carrying data */
	uint64_t zero_length;   /* IN completions with no data (a ZLP ending a transfer) */
	uint64_t stalls;        /* endpoint halts cleared */
	uint64_t errors;        /* failed transfers (not cancellations or unplugs) */
	uint64_t opens;         /* successful opens, the first one included */
	uint64_t lost;          /* times the device was lost while open */
};
/* t must come from usbx_open. */
void usbx_get_stats(struct transport *t, struct usbx_stats *out);
