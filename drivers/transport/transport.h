/*
 * A byte pipe to one device: what the protocol drivers use instead of libusb. Two
 * implementations: USB bulk endpoints through libusb (usbx.h) and an in-process link to a
 * byte-level device model (transport-sim.h). Never blocks: the kiosk runs one event loop, so
 * a driver queues bytes, returns, and reads whatever has arrived when one of its timers fires
 * or the transport wakes it.
 *
 * Invariants every implementation keeps:
 *  1. Bytes reach the device in the order written, each at most once; bytes the device sent
 *     are read in order, each exactly once. flush() is the only way to drop them.
 *  2. Once connected() turns false, write() fails with KIO_ERR_NO_DEVICE and nothing queued
 *     is delivered later, not even after the device comes back: a driver must resynchronise
 *     with the device after reopen(), never resume a half-sent command.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kiosk/core/err.h"

struct transport;

/*
 * Called when bytes arrive, the queue towards the device drains, or the device leaves or
 * comes back. The USB transport calls it from its event thread and the simulated one from
 * inside write(): either way it may only note that the driver wants servicing (push an event,
 * set a flag), never call back into the transport or the driver.
 */
typedef void (*transport_wake_fn)(void *user);

struct transport_ops {
	/* Queues len bytes for the device. 0; KIO_ERR_NO_DEVICE while disconnected (nothing
	 * queued); KIO_ERR_BUSY when the queue towards the device is full (nothing queued). */
	int (*write)(struct transport *t, const uint8_t *buf, size_t len);
	/* Copies up to cap bytes the device sent, without waiting: >= 0 bytes, or
	 * KIO_ERR_NO_DEVICE when disconnected and nothing is left to read. */
	ssize_t (*read)(struct transport *t, uint8_t *buf, size_t cap);
	/* Bytes written and not yet taken by the device (a printer that is offline NAKs). */
	size_t (*out_pending)(struct transport *t);
	/* Drops every queued and unread byte, both ways (before resynchronising). */
	void (*flush)(struct transport *t);
	bool (*connected)(struct transport *t);
	/* Opens the device again after it left: 0 when open (queues empty), KIO_ERR_NO_DEVICE
	 * while it is still absent, another KIO_ERR_* with err filled if opening failed. */
	int (*reopen)(struct transport *t, struct kio_error *err);
	void (*destroy)(struct transport *t);
	/* Optional: sets wake/wake_user under the lock the implementation's own thread reads them
	 * with (usbx). NULL: plain stores, for transports that wake on the caller's thread. */
	void (*set_wake)(struct transport *t, transport_wake_fn fn, void *user);
};

/* Implementations embed this as their first member. */
struct transport {
	const struct transport_ops *ops;
	char name[24]; /* "cash", "receipt", "card": for logs */
	transport_wake_fn wake;
	void *wake_user;
};

static inline void transport_set_wake(struct transport *t, transport_wake_fn fn, void *user)
{
	if (t->ops->set_wake) {
		t->ops->set_wake(t, fn, user);
		return;
	}
	t->wake = fn;
	t->wake_user = user;
}

static inline int transport_write(struct transport *t, const uint8_t *buf, size_t len)
{
	return t->ops->write(t, buf, len);
}

static inline ssize_t transport_read(struct transport *t, uint8_t *buf, size_t cap)
{
	return t->ops->read(t, buf, cap);
}

static inline size_t transport_out_pending(struct transport *t) { return t->ops->out_pending(t); }
static inline void transport_flush(struct transport *t) { t->ops->flush(t); }
static inline bool transport_connected(struct transport *t) { return t->ops->connected(t); }

static inline int transport_reopen(struct transport *t, struct kio_error *err)
{
	return t->ops->reopen(t, err);
}

/* Accepts NULL. */
static inline void transport_free(struct transport *t)
{
	if (t)
		t->ops->destroy(t);
}

/* For implementations: tells the user something changed (no-op without a listener). */
static inline void transport_wake(struct transport *t)
{
	if (t->wake)
		t->wake(t->wake_user);
}
