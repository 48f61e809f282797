/*
 * The in-process transport: a driver's bytes go straight into a byte-level device model and
 * its answers come straight back, on the caller's thread, with time read from the core clock
 * (virtual in headless runs). `--simulate` and the protocol tests use it; the USB emulation
 * (tests/usb) serves the same models through real libusb.
 */
#pragma once

#include "drivers/sim/model.h"
#include "drivers/transport/transport.h"
#include "kiosk/core/clock.h"

/* Borrows model->dev and clock. Caller frees with transport_free. */
struct transport *transport_sim_new(const char *name, const struct sim_model *model,
				    const struct core_clock *clock);

/*
 * Whoever drives the model from the device side (a note inserted, a fault raised or
 * cleared, a cable pulled) calls this afterwards: the transport notices a disconnect or a
 * reconnection, lets the model's timers run, and wakes the driver if anything is to read.
 */
void transport_sim_notify(struct transport *t);
