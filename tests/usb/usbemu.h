/*
 * USB devices emulated inside a umockdev testbed, so that real libusb (and usbx on top of it)
 * talks to the byte-level device models of drivers/sim through the kernel's usbfs interface:
 * sysfs descriptors for enumeration, usbdevfs ioctls answered here on umockdev's worker thread.
 * Bulk OUT bytes go into model->ops->write (a refusal is a NAK: the URB stays pending until the
 * model takes the rest), model output comes back on bulk IN.
 *
 * The model's connected() is the cable: when it turns false (a `disconnect` fault, an ESC/POS
 * power-off) the device is unplugged as the kernel does it (in-flight URBs end with -ESHUTDOWN,
 * further ioctls fail with ENODEV, a udev "remove" event), and when it turns true again the
 * device is plugged back in at a new address ("add" event). Both happen in usbemu_unlock().
 *
 * Threads: the model is called on umockdev's worker thread under the device lock; a test that
 * drives the model itself (inserts a note, raises a fault) holds the same lock through
 * usbemu_lock()/usbemu_unlock().
 *
 * Order of life (research/usb-emulation.md, pitfalls 5 and 7): usbemu_new before libusb starts
 * or any thread exists (the testbed calls setenv); usbemu_free after libusb_exit
 * (usbx_context_free), or a still-open device node hangs its next ioctl.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "drivers/sim/model.h"
#include "kiosk/core/clock.h"

struct usbemu;
struct usbemu_dev;

/* The interface layout the device presents. */
enum usbemu_class {
	/* Interface 0, vendor class 0xff, bulk OUT 0x01 / IN 0x82 (Epson TM in 04b8:0202 mode). */
	USBEMU_VENDOR,
	/* Interface 0, printer class 07/01/02, bulk OUT 0x01 / IN 0x82; usblp is bound until the
	 * host detaches it (claiming without detaching gives EBUSY, as the kernel does). */
	USBEMU_PRINTER,
	/* CDC-ACM like the NV9USB: interface 0 communications (interrupt IN 0x83), interface 1
	 * data with bulk OUT 0x02 / IN 0x81; cdc_acm bound to interface 1 until detached. */
	USBEMU_CDC_ACM,
	USBEMU_CLASS_COUNT
};

struct usbemu_config {
	uint16_t vid, pid;
	enum usbemu_class cls;
	const char *manufacturer, *product, *serial; /* string descriptors; NULL = none; copied */
	uint16_t max_packet;  /* bulk wMaxPacketSize; 0 = 64 (full speed: Epson TM, NV9USB) */
	/* Ends an IN transfer whose data filled the host's buffer with whole packets by a
	 * zero-length packet, which the next IN transfer receives as an empty completion. */
	bool zlp;
	const struct core_clock *clock; /* the models' now_ms; NULL = real time since creation */
};

struct usbemu_stats {
	unsigned long ioctls, submits, reaps, empty_reaps, discards;
	unsigned long naks;      /* OUT URBs the model refused in part, each counted once */
	unsigned long detaches;  /* kernel driver unbound by the host */
	unsigned long unplugs, replugs;
};

/* A fresh testbed (sets $UMOCKDEV_DIR). Aborts the test on failure. Caller frees. */
struct usbemu *usbemu_new(void);
/* Frees the devices and the testbed. Every libusb handle must be closed (libusb_exit). */
void usbemu_free(struct usbemu *e);

/*
 * Plugs in a device serving `model` (borrowed: it must outlive the emulation) at the next
 * free address of bus 1. The model must be connected. Returns the device, owned by e.
 */
struct usbemu_dev *usbemu_add(struct usbemu *e, const struct usbemu_config *cfg,
			      const struct sim_model *model);

/* Hold the device lock to touch the model from the test. */
void usbemu_lock(struct usbemu_dev *d);
/* Lets the model's timers run, offers NAKed OUT bytes again, delivers new model output,
 * and unplugs or replugs the device if the model's connected() changed. Then unlocks. */
void usbemu_unlock(struct usbemu_dev *d);

bool usbemu_plugged(struct usbemu_dev *d);
/* Current device address (devnum); each replug takes a new one. */
unsigned usbemu_address(struct usbemu_dev *d);
/* True while the emulated kernel driver (usblp, cdc_acm) owns its interface. */
bool usbemu_kernel_driver_bound(struct usbemu_dev *d);
/* The next bulk URB on endpoint ep completes with -EPIPE (a stall) until the host clears it. */
void usbemu_stall_next(struct usbemu_dev *d, uint8_t ep);
void usbemu_get_stats(struct usbemu_dev *d, struct usbemu_stats *out);
