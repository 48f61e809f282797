/*
 * A few-line fixture for tests over real libusb: emulate a device model as VID:PID in a
 * umockdev testbed and get a usbx transport opened on it, with a wake counter to wait on.
 *
 *     struct usbtest u;
 *     usbtest_init(&u);
 *     struct usbtest_dev *cash = usbtest_attach(&u, "191c:4104,if=1", &model, NULL);
 *     ... transport_write(cash->t, ...); usbtest_wait(cash, have_reply, &state, 5000); ...
 *     usbtest_fini(&u);
 *
 * Driver-level tests pass cash->t to a host driver and use usbtest_wait on its wake-ups.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/transport/usbx.h"
#include "tests/usb/usbemu.h"

#define USBTEST_DEVS_MAX 8

struct usbtest;

struct usbtest_dev {
	struct usbtest *owner;
	struct usbemu_dev *emu;
	struct transport *t;   /* usbx transport, freed by usbtest_fini */
	struct usbx_id id;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned wakes;        /* wake callbacks so far (event thread) */
};

struct usbtest {
	struct usbemu *emu;
	struct usbx_context *ctx;
	size_t n;
	struct usbtest_dev *devs[USBTEST_DEVS_MAX];
	/* Optional: called on the event thread after any device's wake-up is counted, so one
	 * loop can wait on all devices (tests/usb/test-usb-drivers.c). Set it after usbtest_init
	 * and before the first usbtest_attach/usbtest_open: the event thread reads it unlocked. */
	void (*on_any_wake)(void *user);
	void *on_any_wake_user;
};

/* Sets timer slack to 1 ns (research §3: umockdev's per-ioctl usleep(0)); call first in main. */
void usbtest_main_init(void);

/* Testbed, then the usbx context (its thread must start after the testbed's setenv). */
void usbtest_init(struct usbtest *u);
/* Transports, then the context (libusb_exit), then the emulation: the only safe order. */
void usbtest_fini(struct usbtest *u);

/*
 * Emulates `model` (borrowed) with the VID:PID of usb_id ("191c:4104,if=1") and opens a usbx
 * transport on it named after the model's kind. cfg NULL: the class, strings and endpoints of
 * the model's real device (essp: CDC-ACM NV9USB; escpos and evolis: printer class with usblp).
 * Asserts the open succeeds.
 */
struct usbtest_dev *usbtest_attach(struct usbtest *u, const char *usb_id,
				   const struct sim_model *model, const struct usbemu_config *cfg);
/* The emulation config usbtest_attach uses for a model kind. */
void usbtest_default_config(const struct sim_model *model, const struct usbx_id *id,
			    struct usbemu_config *out);
/* Opens one more usbx transport on an id (for devices added or absent); never asserts. */
int usbtest_open(struct usbtest *u, const char *usb_id, struct usbtest_dev **out,
		 struct kio_error *err);

unsigned usbtest_wakes(struct usbtest_dev *d);
/* Waits until done(arg) holds, re-checking after every wake-up of d. False on timeout. */
bool usbtest_wait(struct usbtest_dev *d, bool (*done)(void *arg), void *arg, int timeout_ms);
/* Waits for more than `seen` wake-ups. */
bool usbtest_wait_wakes(struct usbtest_dev *d, unsigned seen, int timeout_ms);
/* For emulation-side conditions that wake nobody: re-checks every millisecond. */
bool usbtest_poll(bool (*done)(void *arg), void *arg, int timeout_ms);
/* Reads exactly n bytes, waiting on wake-ups; false on timeout or disconnect. */
bool usbtest_read_n(struct usbtest_dev *d, uint8_t *buf, size_t n, int timeout_ms);
