/*
 * The libusb transport: asynchronous bulk transfers driven by one event thread per process,
 * hotplug, and the transport.h invariants on top of them.
 *
 * States of one device (struct usbx_dev.state):
 *
 *        usbx_open / reopen: scan, open, claim, submit IN
 *   CLOSED ---------------------------------------------> OPEN
 *     ^  \___ reopen: stale handle closed first            |
 *     |                                                     | hotplug LEFT, a transfer says
 *     +------ reopen (transfers done, handle closed) --- LOST  NO_DEVICE, repeated errors,
 *                                                              a failed submit
 *
 *   | transition              | function      | what holds after                            |
 *   | CLOSED/LOST -> OPEN     | open_device   | queues empty, IN pending, handle claimed    |
 *   | OPEN -> LOST            | lose_device   | OUT queue dropped, transfers cancelled      |
 *   | LOST -> CLOSED          | close_handle  | no transfer in flight, handle closed        |
 *
 * Invariants (numbered as referred to below):
 *  1. While OPEN, exactly one IN transfer is pending unless the IN queue is full
 *     (USBX_IN_QUEUE_MAX) or the IN endpoint is being un-halted; bytes are appended to the IN
 *     queue only in completion order, so the stream keeps the device's order.
 *  2. At most one OUT transfer is in flight; it carries the first out_inflight bytes of the
 *     OUT queue, which stay queued until the transfer completes, so a short or stalled
 *     transfer is resent from where the device stopped, and out_pending() counts them.
 *  3. Leaving OPEN drops the OUT queue at once (transport.h invariant 2); the IN queue is
 *     still read to its end, then read() says NO_DEVICE.
 *  4. `inflight` counts submitted transfers whose callback has not finished, plus halt
 *     clears running on the event thread; `waking` counts callbacks inside the owner's wake
 *     function. reopen() closes the old handle only when inflight is 0; transport_free frees
 *     only when both are 0, so after it returns no callback can reach the owner.
 *
 * Locking: ctx->lock guards the device list and is held while the hotplug callback walks it,
 * so a device cannot be freed under it (order: ctx->lock, then dev->lock). dev->lock guards
 * every field of a device below `lock`. The wake callback is called with no usbx lock held,
 * from the transfer callbacks and the hotplug callback alike; `waking` keeps the device
 * alive meanwhile (invariant 4). libusb_close and synchronous requests never run inside a libusb callback: halts are
 * cleared by the event thread between two rounds of event handling (libusb docs, "Thread
 * safety": synchronous I/O from a callback would deadlock the event handler).
 */
#include "drivers/transport/usbx.h"

#include <errno.h>
#include <inttypes.h>
#include <libusb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "usbx"
#include "kiosk/core/bytebuf.h"
#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"

/* A printer's receive buffer plus a card image (82 KiB) several times over; more queued
 * means a driver that does not watch out_pending(): refuse with BUSY. */
#define USBX_OUT_QUEUE_MAX (4u << 20)
/* Bytes per bulk OUT transfer: large enough that a card image takes two transfers, small
 * enough that usbfs never has to split it (16 KiB per URB without scatter-gather). */
#define USBX_OUT_CHUNK (16u << 10)
/* Unread device bytes before the IN transfer is paused (the device then NAKs). */
#define USBX_IN_QUEUE_MAX (1u << 20)
/* IN transfer size; rounded down to whole max-size packets so that a device can never
 * overflow it mid-packet (libusb docs, "Packets and overflows"). */
#define USBX_IN_BUF 4096
/* Consecutive failed transfers after which the link counts as lost and reopen() recovers. */
#define USBX_ERRORS_MAX 3

struct usbx_context {
	libusb_context *usb;
	pthread_t thread;
	atomic_bool stop;
	atomic_bool work; /* a device wants a halt cleared */
	bool hotplug;
	libusb_hotplug_callback_handle hotplug_handle;
	pthread_mutex_t lock;
	struct usbx_dev *devs; /* every transport opened on this context */
};

enum usbx_state { USBX_CLOSED, USBX_OPEN, USBX_LOST, USBX_STATE_COUNT };

static const char *const state_names[USBX_STATE_COUNT] = {"closed", "open", "lost"};

struct usbx_dev {
	struct transport base;
	struct usbx_context *ctx;
	struct usbx_id id;
	struct usbx_dev *next; /* ctx->devs, under ctx->lock */

	pthread_mutex_t lock;
	pthread_cond_t idle; /* inflight reached 0 */
	enum usbx_state state;
	bool rescan;         /* a matching device may be there: reopen() should scan */
	bool closing;        /* transport_free is waiting: no resubmits, no wakes */
	int inflight;        /* invariant 4 */
	int waking;          /* callbacks calling the wake function (invariant 4) */
	/* The hotplug callback's list of devices to wake once it dropped every lock (event
	 * thread only). */
	transport_wake_fn hotplug_fn;
	void *hotplug_user;
	struct usbx_dev *hotplug_next;
	libusb_device_handle *handle;
	bool claimed;
	uint8_t ep_in, ep_out;
	struct libusb_transfer *in_xfer, *out_xfer;
	uint8_t *in_buf, *out_buf;
	int in_len;
	bool in_busy, out_busy;
	size_t out_inflight; /* invariant 2 */
	bool out_discard;    /* the in-flight OUT bytes were dropped (flush, loss): do not consume */
	bool halt_in, halt_out;
	int errors_in_row;
	struct core_bytebuf outq, inq;
	struct usbx_stats stats;
};

static struct usbx_dev *dev_of(struct transport *t) { return (struct usbx_dev *)t; }

/* ---- errors ---- */

static int map_libusb(int rc)
{
	switch (rc) {
	case LIBUSB_SUCCESS:
		return 0;
	case LIBUSB_ERROR_TIMEOUT:
		return KIO_ERR_TIMEOUT;
	case LIBUSB_ERROR_NO_DEVICE:
	case LIBUSB_ERROR_NOT_FOUND:
		return KIO_ERR_NO_DEVICE;
	case LIBUSB_ERROR_BUSY:
		return KIO_ERR_BUSY;
	case LIBUSB_ERROR_INVALID_PARAM:
		return KIO_ERR_INVALID;
	case LIBUSB_ERROR_NO_MEM:
		return KIO_ERR_NOMEM;
	case LIBUSB_ERROR_NOT_SUPPORTED:
		return KIO_ERR_UNSUPPORTED;
	case LIBUSB_ERROR_PIPE:     /* stall: the device refused the request */
	case LIBUSB_ERROR_OVERFLOW: /* the device sent more than asked: it broke the protocol */
		return KIO_ERR_PROTOCOL;
	default: /* IO, ACCESS, INTERRUPTED, OTHER */
		return KIO_ERR_IO;
	}
}

static int fail_usb(struct kio_error *err, int rc, const char *dev, const char *what)
{
	const char *hint = rc == LIBUSB_ERROR_ACCESS ? " (are data/udev rules installed?)"
			   : rc == LIBUSB_ERROR_BUSY ? " (another program holds the interface)" : "";
	return kio_fail(err, map_libusb(rc), "%s: %s: %s%s", dev, what, libusb_error_name(rc), hint);
}

/* ---- usbx_id ---- */

static int parse_hex16(const char *s, size_t n, uint16_t *out)
{
	if (n < 1 || n > 4)
		return -1;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
			     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
			     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16u;
		if (d > 15)
			return -1;
		v = v * 16 + d;
	}
	*out = (uint16_t)v;
	return 0;
}

static int parse_byte(const char *s, size_t n, unsigned *out)
{
	char tmp[8];
	if (n < 1 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	char *end = NULL;
	errno = 0;
	unsigned long v = strtoul(tmp, &end, 0);
	if (errno || *end || v > 255 || tmp[0] == '-' || tmp[0] == '+')
		return -1;
	*out = (unsigned)v;
	return 0;
}

int usbx_id_parse(const char *text, struct usbx_id *out, struct kio_error *err)
{
	struct usbx_id id = {0};
	if (!text)
		return kio_fail(err, KIO_ERR_INVALID, "usb id: missing");
	const char *comma = strchr(text, ',');
	size_t head = comma ? (size_t)(comma - text) : strlen(text);
	const char *c1 = memchr(text, ':', head);
	if (!c1)
		return kio_fail(err, KIO_ERR_INVALID, "usb id \"%s\": expected VID:PID in hex, e.g. 191c:4104",
				text);
	const char *pid = c1 + 1;
	const char *c2 = memchr(pid, ':', head - (size_t)(pid - text));
	size_t pid_len = c2 ? (size_t)(c2 - pid) : head - (size_t)(pid - text);
	if (parse_hex16(text, (size_t)(c1 - text), &id.vid))
		return kio_fail(err, KIO_ERR_INVALID, "usb id \"%s\": vendor id is not 1-4 hex digits", text);
	if (parse_hex16(pid, pid_len, &id.pid))
		return kio_fail(err, KIO_ERR_INVALID, "usb id \"%s\": product id is not 1-4 hex digits", text);
	if (c2) {
		const char *ser = c2 + 1;
		size_t n = head - (size_t)(ser - text);
		if (n == 0 || n >= sizeof(id.serial))
			return kio_fail(err, KIO_ERR_INVALID, "usb id \"%s\": serial must be 1..%zu characters",
					text, sizeof(id.serial) - 1);
		for (size_t i = 0; i < n; i++) {
			if (ser[i] < 0x20 || ser[i] > 0x7e)
				return kio_fail(err, KIO_ERR_INVALID, "usb id \"%s\": serial is not printable ASCII",
						text);
		}
		memcpy(id.serial, ser, n);
	}
	bool seen_if = false, seen_in = false, seen_out = false;
	for (const char *p = comma; p; p = strchr(p + 1, ',')) {
		const char *opt = p + 1;
		const char *end = strchr(opt, ',');
		size_t n = end ? (size_t)(end - opt) : strlen(opt);
		const char *eq = memchr(opt, '=', n);
		unsigned v = 0;
		if (!eq || parse_byte(eq + 1, n - (size_t)(eq + 1 - opt), &v))
			return kio_fail(err, KIO_ERR_INVALID,
					"usb id \"%s\": option \"%.*s\" is not if=N, in=EP or out=EP", text, (int)n,
					opt);
		size_t key = (size_t)(eq - opt);
		/* Once each: "if=1,if=2" would otherwise be silently last-wins. */
		bool *seen = key == 2 && memcmp(opt, "if", 2) == 0   ? &seen_if
			     : key == 2 && memcmp(opt, "in", 2) == 0  ? &seen_in
			     : key == 3 && memcmp(opt, "out", 3) == 0 ? &seen_out
								      : NULL;
		if (seen && *seen)
			return kio_fail(err, KIO_ERR_INVALID, "usb id \"%s\": option \"%.*s\" given twice", text,
					(int)key, opt);
		if (seen)
			*seen = true;
		if (key == 2 && memcmp(opt, "if", 2) == 0) {
			id.interface = (uint8_t)v;
		} else if (key == 2 && memcmp(opt, "in", 2) == 0) {
			if (!(v & LIBUSB_ENDPOINT_IN))
				return kio_fail(err, KIO_ERR_INVALID,
						"usb id \"%s\": in=0x%02x is not an IN endpoint (bit 7 clear)", text, v);
			id.ep_in = (uint8_t)v;
		} else if (key == 3 && memcmp(opt, "out", 3) == 0) {
			if (v & LIBUSB_ENDPOINT_IN || v == 0)
				return kio_fail(err, KIO_ERR_INVALID,
						"usb id \"%s\": out=0x%02x is not an OUT endpoint", text, v);
			id.ep_out = (uint8_t)v;
		} else {
			return kio_fail(err, KIO_ERR_INVALID, "usb id \"%s\": unknown option \"%.*s\"", text,
					(int)key, opt);
		}
	}
	*out = id;
	return 0;
}

void usbx_id_format(const struct usbx_id *id, char *buf, size_t cap)
{
	if (cap == 0)
		return;
	int n = snprintf(buf, cap, "%04x:%04x%s%s", id->vid, id->pid, id->serial[0] ? ":" : "",
			 id->serial);
	size_t used = n < 0 ? 0 : (size_t)n;
	if (id->interface && used < cap)
		used += (size_t)snprintf(buf + used, cap - used, ",if=%u", id->interface);
	if (id->ep_in && used < cap)
		used += (size_t)snprintf(buf + used, cap - used, ",in=0x%02x", id->ep_in);
	if (id->ep_out && used < cap)
		snprintf(buf + used, cap - used, ",out=0x%02x", id->ep_out);
}

/* ---- transfers (dev->lock held unless said otherwise) ---- */

static void set_state(struct usbx_dev *d, enum usbx_state s, const char *why)
{
	if (d->state == s)
		return;
	LOG_DBG("%s: %s -> %s (%s)", d->base.name, state_names[d->state], state_names[s], why);
	d->state = s;
}

/* Invariant 3: OPEN -> LOST. Returns true if the owner must be woken. */
static bool lose_device(struct usbx_dev *d, bool unplugged, const char *why)
{
	if (d->state != USBX_OPEN)
		return false;
	LOG_WARN("%s: device lost: %s", d->base.name, why);
	set_state(d, USBX_LOST, why);
	d->stats.lost++;
	if (!unplugged)
		d->rescan = true; /* still on the bus: no arrival will come, so scan on reopen */
	core_bytebuf_clear(&d->outq);
	if (d->out_busy) {
		d->out_discard = true;
		libusb_cancel_transfer(d->out_xfer); /* NOT_FOUND/NO_DEVICE: it is completing anyway */
	}
	if (d->in_busy)
		libusb_cancel_transfer(d->in_xfer);
	return true;
}

static bool submit_in(struct usbx_dev *d)
{
	if (d->state != USBX_OPEN || d->closing || d->in_busy || d->halt_in ||
	    d->inq.len >= USBX_IN_QUEUE_MAX)
		return false;
	int rc = libusb_submit_transfer(d->in_xfer);
	if (rc < 0) {
		char why[96];
		snprintf(why, sizeof(why), "bulk IN submit: %s", libusb_error_name(rc));
		return lose_device(d, rc == LIBUSB_ERROR_NO_DEVICE, why);
	}
	d->in_busy = true;
	d->inflight++;
	return false;
}

static bool submit_out(struct usbx_dev *d)
{
	if (d->state != USBX_OPEN || d->closing || d->out_busy || d->halt_out || d->outq.len == 0)
		return false;
	size_t n = d->outq.len < USBX_OUT_CHUNK ? d->outq.len : USBX_OUT_CHUNK;
	memcpy(d->out_buf, d->outq.data, n);
	d->out_xfer->length = (int)n;
	int rc = libusb_submit_transfer(d->out_xfer);
	if (rc < 0) {
		char why[96];
		snprintf(why, sizeof(why), "bulk OUT submit: %s", libusb_error_name(rc));
		return lose_device(d, rc == LIBUSB_ERROR_NO_DEVICE, why);
	}
	d->out_busy = true;
	d->out_inflight = n;
	d->out_discard = false;
	d->inflight++;
	return false;
}

/*
 * The end of every callback (invariant 4). The wake runs after this callback stops counting
 * as in flight, so that a woken driver's reopen() finds the old connection fully closed, but
 * while it counts in `waking`, so that transport_free still waits for it.
 */
static void finish_callback(struct usbx_dev *d, bool wake)
{
	if (--d->inflight == 0 && d->state == USBX_LOST)
		wake = true; /* the lost device's last transfer: reopen() can close it now */
	transport_wake_fn fn = d->closing ? NULL : d->base.wake;
	void *user = d->base.wake_user;
	if (!wake || !fn) {
		if (d->inflight == 0)
			pthread_cond_broadcast(&d->idle);
		pthread_mutex_unlock(&d->lock);
		return;
	}
	d->waking++;
	pthread_mutex_unlock(&d->lock);
	fn(user);
	pthread_mutex_lock(&d->lock);
	if (--d->waking == 0 && d->inflight == 0)
		pthread_cond_broadcast(&d->idle);
	pthread_mutex_unlock(&d->lock);
}

static const char *status_name(enum libusb_transfer_status st)
{
	switch (st) {
	case LIBUSB_TRANSFER_COMPLETED: return "LIBUSB_TRANSFER_COMPLETED";
	case LIBUSB_TRANSFER_ERROR: return "LIBUSB_TRANSFER_ERROR";
	case LIBUSB_TRANSFER_TIMED_OUT: return "LIBUSB_TRANSFER_TIMED_OUT";
	case LIBUSB_TRANSFER_CANCELLED: return "LIBUSB_TRANSFER_CANCELLED";
	case LIBUSB_TRANSFER_STALL: return "LIBUSB_TRANSFER_STALL";
	case LIBUSB_TRANSFER_NO_DEVICE: return "LIBUSB_TRANSFER_NO_DEVICE";
	case LIBUSB_TRANSFER_OVERFLOW: return "LIBUSB_TRANSFER_OVERFLOW";
	}
	return "LIBUSB_TRANSFER_UNKNOWN";
}

static bool transfer_failed(struct usbx_dev *d, const char *dir, enum libusb_transfer_status st)
{
	d->stats.errors++;
	LOG_WARN("%s: bulk %s: %s", d->base.name, dir, status_name(st));
	if (++d->errors_in_row < USBX_ERRORS_MAX)
		return false;
	return lose_device(d, false, "repeated transfer errors");
}

static void LIBUSB_CALL on_in_done(struct libusb_transfer *x)
{
	struct usbx_dev *d = x->user_data;
	bool wake = false;
	pthread_mutex_lock(&d->lock);
	d->in_busy = false;
	switch (x->status) {
	case LIBUSB_TRANSFER_COMPLETED:
		d->errors_in_row = 0;
		if (x->actual_length == 0) {
			/* A zero-length packet ends a transfer whose data filled whole packets (USB 2.0
			 * §5.8.3); the data came in the previous completion. Nothing to deliver. */
			d->stats.zero_length++;
		} else if (d->state == USBX_OPEN) {
			core_bytebuf_append(&d->inq, x->buffer, (size_t)x->actual_length);
			d->stats.bytes_in += (uint64_t)x->actual_length;
			d->stats.in_transfers++;
			wake = true;
		}
		break;
	case LIBUSB_TRANSFER_CANCELLED:
		break; /* flush, loss or free asked for it */
	case LIBUSB_TRANSFER_NO_DEVICE:
		wake = lose_device(d, true, "bulk IN: no device");
		break;
	case LIBUSB_TRANSFER_STALL:
		/* Cleared on the event thread (libusb_clear_halt is synchronous), then resubmitted. */
		d->halt_in = true;
		atomic_store(&d->ctx->work, true);
		break;
	case LIBUSB_TRANSFER_OVERFLOW:
		/* The device sent more than a whole number of packets allows: bytes were lost, the
		 * stream above must resynchronise. Count it as an error, keep reading. */
	case LIBUSB_TRANSFER_ERROR:
	case LIBUSB_TRANSFER_TIMED_OUT: /* not used: IN transfers have no timeout */
	default:
		wake = transfer_failed(d, "IN", x->status);
		break;
	}
	wake |= submit_in(d);
	finish_callback(d, wake);
}

static void LIBUSB_CALL on_out_done(struct libusb_transfer *x)
{
	struct usbx_dev *d = x->user_data;
	bool wake = false;
	pthread_mutex_lock(&d->lock);
	d->out_busy = false;
	size_t done = (size_t)x->actual_length;
	if (done > d->out_inflight)
		done = d->out_inflight;
	if (!d->out_discard) {
		/* Invariant 2: what the device took leaves the queue; the rest is resent. */
		core_bytebuf_consume(&d->outq, done);
		d->stats.bytes_out += done;
	}
	d->out_inflight = 0;
	d->out_discard = false;
	switch (x->status) {
	case LIBUSB_TRANSFER_COMPLETED:
		d->errors_in_row = 0;
		d->stats.out_transfers++;
		break;
	case LIBUSB_TRANSFER_CANCELLED:
		break;
	case LIBUSB_TRANSFER_NO_DEVICE:
		wake = lose_device(d, true, "bulk OUT: no device");
		break;
	case LIBUSB_TRANSFER_STALL:
		d->halt_out = true;
		atomic_store(&d->ctx->work, true);
		break;
	default:
		wake = transfer_failed(d, "OUT", x->status);
		break;
	}
	wake |= submit_out(d);
	if (d->state == USBX_OPEN && !d->out_busy && d->outq.len == 0 && done > 0)
		wake = true; /* drained: a driver waiting for out_pending() == 0 can go on */
	finish_callback(d, wake);
}

/* ---- event thread ---- */

/* Clears halted endpoints (synchronous, so outside any callback), then resubmits. */
static void clear_halts(struct usbx_context *c)
{
	for (;;) {
		struct usbx_dev *d = NULL;
		libusb_device_handle *h = NULL;
		uint8_t ep = 0;
		pthread_mutex_lock(&c->lock);
		for (struct usbx_dev *it = c->devs; it && !d; it = it->next) {
			pthread_mutex_lock(&it->lock);
			if (it->state == USBX_OPEN && !it->closing && (it->halt_in || it->halt_out)) {
				d = it;
				h = it->handle;
				ep = it->halt_in ? it->ep_in : it->ep_out;
				it->inflight++; /* invariant 4: pins d and its handle */
			}
			pthread_mutex_unlock(&it->lock);
		}
		pthread_mutex_unlock(&c->lock);
		if (!d)
			return;
		int rc = libusb_clear_halt(h, ep);
		pthread_mutex_lock(&d->lock);
		bool wake = false;
		if (ep == d->ep_in)
			d->halt_in = false;
		else
			d->halt_out = false;
		d->stats.stalls++;
		if (rc < 0) {
			char why[96];
			snprintf(why, sizeof(why), "clear halt 0x%02x: %s", ep, libusb_error_name(rc));
			wake = lose_device(d, rc == LIBUSB_ERROR_NO_DEVICE, why);
		} else {
			LOG_INFO("%s: endpoint 0x%02x stalled; halt cleared", d->base.name, ep);
			wake |= submit_in(d);
			wake |= submit_out(d);
		}
		finish_callback(d, wake);
	}
}

static void *event_main(void *arg)
{
	struct usbx_context *c = arg;
	while (!atomic_load(&c->stop)) {
		/* Sleeps in poll() until a transfer completes, a hotplug event comes or
		 * libusb_interrupt_event_handler is called: no CPU while the kiosk is idle. */
		struct timeval tv = {.tv_sec = 1, .tv_usec = 0};
		int rc = libusb_handle_events_timeout_completed(c->usb, &tv, NULL);
		if (rc < 0 && rc != LIBUSB_ERROR_INTERRUPTED)
			LOG_WARN("event handling: %s", libusb_error_name(rc));
		if (atomic_exchange(&c->work, false))
			clear_halts(c);
	}
	return NULL;
}

static int LIBUSB_CALL on_hotplug(libusb_context *usb, libusb_device *device,
				  libusb_hotplug_event ev, void *user)
{
	struct usbx_context *c = user;
	struct libusb_device_descriptor dd;
	/* Cached by libusb at enumeration: no I/O in the callback. */
	if (libusb_get_device_descriptor(device, &dd) < 0)
		return 0;
	/* Decide under the locks, wake after dropping them (the locking rule above): a wake
	 * function that waits on the kiosk's main thread while that thread opens or frees a
	 * transport (ctx->lock) would deadlock. `waking` pins each device meanwhile
	 * (invariant 4), so dropping ctx->lock cannot let transport_free free it under us. */
	struct usbx_dev *to_wake = NULL;
	pthread_mutex_lock(&c->lock);
	for (struct usbx_dev *d = c->devs; d; d = d->next) {
		bool wake = false;
		pthread_mutex_lock(&d->lock);
		if (ev == LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT) {
			if (d->handle && libusb_get_device(d->handle) == device)
				wake = lose_device(d, true, "unplugged");
		} else if (dd.idVendor == d->id.vid && dd.idProduct == d->id.pid) {
			/* The serial needs a string request, not allowed here: reopen() checks it. */
			d->rescan = true;
			wake = d->state != USBX_OPEN;
			LOG_INFO("%s: %04x:%04x arrived", d->base.name, dd.idVendor, dd.idProduct);
		}
		if (wake && !d->closing && d->base.wake) {
			d->waking++;
			d->hotplug_fn = d->base.wake;
			d->hotplug_user = d->base.wake_user;
			d->hotplug_next = to_wake;
			to_wake = d;
		}
		pthread_mutex_unlock(&d->lock);
	}
	pthread_mutex_unlock(&c->lock);
	while (to_wake) {
		struct usbx_dev *d = to_wake;
		to_wake = d->hotplug_next; /* only this thread touches the hotplug_* fields */
		d->hotplug_fn(d->hotplug_user);
		pthread_mutex_lock(&d->lock);
		if (--d->waking == 0 && d->inflight == 0)
			pthread_cond_broadcast(&d->idle);
		pthread_mutex_unlock(&d->lock);
	}
	return 0; /* stay registered */
}

int usbx_context_new(struct usbx_context **out, struct kio_error *err)
{
	struct usbx_context *c = xcalloc(1, sizeof(*c));
	int rc = libusb_init(&c->usb);
	if (rc < 0) {
		rc = fail_usb(err, rc, "usb", "libusb_init");
		goto out_free;
	}
	pthread_mutex_init(&c->lock, NULL);
	atomic_init(&c->stop, false);
	atomic_init(&c->work, false);
	c->hotplug = libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG) != 0;
	if (c->hotplug) {
		/* No ENUMERATE flag: usbx_open scans for itself; only changes matter here. */
		rc = libusb_hotplug_register_callback(
			c->usb, LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT, 0,
			LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY, on_hotplug,
			c, &c->hotplug_handle);
		if (rc < 0) {
			LOG_WARN("hotplug unavailable (%s): devices are re-scanned on reopen",
				 libusb_error_name(rc));
			c->hotplug = false;
		}
	} else {
		LOG_INFO("libusb has no hotplug support: devices are re-scanned on reopen");
	}
	rc = pthread_create(&c->thread, NULL, event_main, c);
	if (rc != 0) {
		rc = kio_fail(err, KIO_ERR_IO, "usb: event thread: %s", strerror(rc));
		goto out_exit;
	}
	*out = c;
	return 0;

out_exit:
	if (c->hotplug)
		libusb_hotplug_deregister_callback(c->usb, c->hotplug_handle);
	pthread_mutex_destroy(&c->lock);
	libusb_exit(c->usb);
out_free:
	free(c);
	return rc;
}

void usbx_context_free(struct usbx_context *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	bool leaked = c->devs != NULL;
	pthread_mutex_unlock(&c->lock);
	if (leaked) /* their callbacks would run on a dead event thread and hang their free */
		LOG_ERR("context freed with transports still open: free them first");
	if (c->hotplug)
		libusb_hotplug_deregister_callback(c->usb, c->hotplug_handle);
	atomic_store(&c->stop, true);
	libusb_interrupt_event_handler(c->usb); /* ends the poll() the thread sleeps in */
	pthread_join(c->thread, NULL);
	libusb_exit(c->usb);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

bool usbx_context_has_hotplug(const struct usbx_context *c) { return c->hotplug; }

/* ---- opening and closing (caller's thread, dev->lock NOT held unless said) ---- */

/* Finds the interface's bulk pair in the active configuration. */
static int find_endpoints(struct usbx_dev *d, libusb_device *dev, uint8_t *ep_in, uint8_t *ep_out,
			  int *in_mps, struct kio_error *err)
{
	struct libusb_config_descriptor *cfg = NULL;
	int rc = libusb_get_active_config_descriptor(dev, &cfg);
	if (rc < 0)
		return fail_usb(err, rc, d->base.name, "configuration descriptor");
	const struct libusb_interface_descriptor *alt = NULL;
	for (int i = 0; i < cfg->bNumInterfaces; i++) {
		const struct libusb_interface *itf = &cfg->interface[i];
		if (itf->num_altsetting > 0 && itf->altsetting[0].bInterfaceNumber == d->id.interface)
			alt = &itf->altsetting[0];
	}
	uint8_t in = 0, out = 0;
	int mps = 0;
	for (int i = 0; alt && i < alt->bNumEndpoints; i++) {
		const struct libusb_endpoint_descriptor *ep = &alt->endpoint[i];
		if ((ep->bmAttributes & LIBUSB_TRANSFER_TYPE_MASK) != LIBUSB_TRANSFER_TYPE_BULK)
			continue;
		uint8_t a = ep->bEndpointAddress;
		if (a & LIBUSB_ENDPOINT_IN) {
			if (!in && (!d->id.ep_in || d->id.ep_in == a)) {
				in = a;
				mps = ep->wMaxPacketSize & 0x7ff;
			}
		} else if (!out && (!d->id.ep_out || d->id.ep_out == a)) {
			out = a;
		}
	}
	libusb_free_config_descriptor(cfg);
	if (!alt)
		return kio_fail(err, KIO_ERR_NOT_FOUND, "%s: no interface %u: LIBUSB_ERROR_NOT_FOUND",
				d->base.name, d->id.interface);
	if (!in || !out)
		return kio_fail(err, KIO_ERR_NOT_FOUND,
				"%s: interface %u has no bulk %s endpoint%s: LIBUSB_ERROR_NOT_FOUND",
				d->base.name, d->id.interface, !in ? "IN" : "OUT",
				(d->id.ep_in || d->id.ep_out) ? " with the configured address" : "");
	*ep_in = in;
	*ep_out = out;
	*in_mps = mps > 0 ? mps : 64;
	return 0;
}

/* Opens the first matching device (vid, pid, serial). NO_DEVICE if none is there. */
static int find_and_open(struct usbx_dev *d, libusb_device_handle **out, struct kio_error *err)
{
	libusb_device **list = NULL;
	ssize_t n = libusb_get_device_list(d->ctx->usb, &list);
	if (n < 0)
		return fail_usb(err, (int)n, d->base.name, "device list");
	int rc = kio_fail(err, KIO_ERR_NO_DEVICE, "%s: no %04x:%04x%s%s on the bus", d->base.name,
			  d->id.vid, d->id.pid, d->id.serial[0] ? " with serial " : "", d->id.serial);
	for (ssize_t i = 0; i < n && !*out; i++) {
		struct libusb_device_descriptor dd;
		if (libusb_get_device_descriptor(list[i], &dd) < 0 || dd.idVendor != d->id.vid ||
		    dd.idProduct != d->id.pid)
			continue;
		libusb_device_handle *h = NULL;
		int urc = libusb_open(list[i], &h);
		if (urc < 0) {
			rc = fail_usb(err, urc, d->base.name, "open");
			continue;
		}
		if (d->id.serial[0]) {
			unsigned char s[USBX_SERIAL_MAX];
			int len = dd.iSerialNumber
					  ? libusb_get_string_descriptor_ascii(h, dd.iSerialNumber, s, sizeof(s))
					  : LIBUSB_ERROR_NOT_FOUND;
			if (len < 0 || (size_t)len != strlen(d->id.serial) ||
			    memcmp(s, d->id.serial, (size_t)len) != 0) {
				libusb_close(h);
				continue;
			}
		}
		*out = h;
		rc = 0;
	}
	libusb_free_device_list(list, 1);
	return rc;
}

/* LOST/CLOSED -> CLOSED with no handle. Called with no transfer in flight, without the lock;
 * the pointer is swapped under it because the hotplug callback compares it. */
static void close_handle(struct usbx_dev *d)
{
	pthread_mutex_lock(&d->lock);
	libusb_device_handle *h = d->handle;
	bool claimed = d->claimed;
	d->handle = NULL;
	d->claimed = false;
	pthread_mutex_unlock(&d->lock);
	if (!h)
		return;
	if (claimed) {
		int rc = libusb_release_interface(h, d->id.interface);
		if (rc < 0 && rc != LIBUSB_ERROR_NO_DEVICE)
			LOG_WARN("%s: release interface: %s", d->base.name, libusb_error_name(rc));
	}
	libusb_close(h);
}

static int open_device(struct usbx_dev *d, struct kio_error *err)
{
	libusb_device_handle *h = NULL;
	int in_mps = 0;
	uint8_t ep_in = 0, ep_out = 0;
	int rc = find_and_open(d, &h, err);
	if (rc) {
		/* Present but unusable (permissions, busy): no arrival will announce a fix, so
		 * every reopen() tries again. Absent: wait for the arrival. */
		if (rc != KIO_ERR_NO_DEVICE) {
			pthread_mutex_lock(&d->lock);
			d->rescan = true;
			pthread_mutex_unlock(&d->lock);
		}
		return rc;
	}
	/* usblp (printer class) or cdc_acm (the NV9USB) own the interface unless detached; libusb
	 * re-attaches it when we release (libusb docs, libusb_set_auto_detach_kernel_driver). */
	int urc = libusb_set_auto_detach_kernel_driver(h, 1);
	if (urc < 0 && urc != LIBUSB_ERROR_NOT_SUPPORTED)
		LOG_WARN("%s: auto-detach: %s", d->base.name, libusb_error_name(urc));
	rc = find_endpoints(d, libusb_get_device(h), &ep_in, &ep_out, &in_mps, err);
	if (rc)
		goto out_close;
	urc = libusb_claim_interface(h, d->id.interface);
	if (urc < 0) {
		rc = fail_usb(err, urc, d->base.name, "claim interface");
		goto out_close;
	}
	pthread_mutex_lock(&d->lock);
	d->handle = h;
	d->claimed = true;
	d->ep_in = ep_in;
	d->ep_out = ep_out;
	d->in_len = USBX_IN_BUF / in_mps * in_mps;
	if (d->in_len == 0)
		d->in_len = in_mps;
	d->in_buf = xrealloc(d->in_buf, (size_t)d->in_len);
	/* Timeout 0: an IN transfer waits for the device as long as it takes, and an OUT
	 * transfer to a printer that NAKs while its cover is open waits too; the drivers own
	 * every protocol timeout (transport.h). */
	libusb_fill_bulk_transfer(d->in_xfer, h, d->ep_in, d->in_buf, d->in_len, on_in_done, d, 0);
	libusb_fill_bulk_transfer(d->out_xfer, h, d->ep_out, d->out_buf, 0, on_out_done, d, 0);
	core_bytebuf_clear(&d->outq);
	core_bytebuf_clear(&d->inq);
	d->halt_in = d->halt_out = false;
	d->errors_in_row = 0;
	d->stats.opens++;
	set_state(d, USBX_OPEN, "opened");
	bool lost = submit_in(d);
	pthread_mutex_unlock(&d->lock);
	if (lost)
		return kio_fail(err, KIO_ERR_NO_DEVICE, "%s: left while opening", d->base.name);
	LOG_INFO("%s: opened %04x:%04x interface %u, IN 0x%02x (%d-byte packets), OUT 0x%02x",
		 d->base.name, d->id.vid, d->id.pid, d->id.interface, d->ep_in, in_mps, d->ep_out);
	return 0;

out_close:
	libusb_close(h);
	pthread_mutex_lock(&d->lock);
	d->rescan = true;
	pthread_mutex_unlock(&d->lock);
	return rc;
}

/* ---- transport ops ---- */

static int usbx_write(struct transport *t, const uint8_t *buf, size_t len)
{
	struct usbx_dev *d = dev_of(t);
	int rc = 0;
	pthread_mutex_lock(&d->lock);
	if (d->state != USBX_OPEN) {
		rc = KIO_ERR_NO_DEVICE;
	} else if (len > USBX_OUT_QUEUE_MAX - d->outq.len) {
		rc = KIO_ERR_BUSY;
	} else if (len > 0) {
		core_bytebuf_append(&d->outq, buf, len);
		/* A failed submit drops the queue (invariant 3): report it, nothing stays queued. */
		if (submit_out(d))
			rc = KIO_ERR_NO_DEVICE;
	}
	pthread_mutex_unlock(&d->lock);
	return rc;
}

static ssize_t usbx_read(struct transport *t, uint8_t *buf, size_t cap)
{
	struct usbx_dev *d = dev_of(t);
	ssize_t rc;
	pthread_mutex_lock(&d->lock);
	if (d->inq.len == 0) {
		rc = d->state == USBX_OPEN ? 0 : KIO_ERR_NO_DEVICE;
	} else {
		size_t n = d->inq.len < cap ? d->inq.len : cap;
		memcpy(buf, d->inq.data, n);
		core_bytebuf_consume(&d->inq, n);
		rc = (ssize_t)n;
		submit_in(d); /* resumes reading if the queue had been full; a loss shows next call */
	}
	pthread_mutex_unlock(&d->lock);
	return rc;
}

static size_t usbx_out_pending(struct transport *t)
{
	struct usbx_dev *d = dev_of(t);
	pthread_mutex_lock(&d->lock);
	size_t n = d->outq.len;
	pthread_mutex_unlock(&d->lock);
	return n;
}

static void usbx_flush(struct transport *t)
{
	struct usbx_dev *d = dev_of(t);
	pthread_mutex_lock(&d->lock);
	core_bytebuf_clear(&d->outq);
	if (d->out_busy) {
		/* What the device already took of this transfer is gone; the driver resynchronises
		 * after a flush anyway (transport.h). */
		d->out_discard = true;
		libusb_cancel_transfer(d->out_xfer);
	}
	core_bytebuf_clear(&d->inq);
	pthread_mutex_unlock(&d->lock);
}

static bool usbx_connected(struct transport *t)
{
	struct usbx_dev *d = dev_of(t);
	pthread_mutex_lock(&d->lock);
	bool open = d->state == USBX_OPEN;
	pthread_mutex_unlock(&d->lock);
	return open;
}

static int usbx_reopen(struct transport *t, struct kio_error *err)
{
	struct usbx_dev *d = dev_of(t);
	pthread_mutex_lock(&d->lock);
	if (d->state == USBX_OPEN) {
		pthread_mutex_unlock(&d->lock);
		return 0;
	}
	if (d->inflight > 0) {
		/* The old handle's transfers are still being cancelled; the last callback wakes the
		 * owner (finish_callback), who calls again. Never wait here. */
		if (d->in_busy)
			libusb_cancel_transfer(d->in_xfer);
		if (d->out_busy)
			libusb_cancel_transfer(d->out_xfer);
		pthread_mutex_unlock(&d->lock);
		return kio_fail(err, KIO_ERR_NO_DEVICE, "%s: previous connection still closing",
				t->name);
	}
	bool scan = d->rescan || !d->ctx->hotplug;
	d->rescan = false; /* an arrival from now on sets it again */
	set_state(d, USBX_CLOSED, "reopen");
	pthread_mutex_unlock(&d->lock);
	close_handle(d); /* no transfer in flight: safe outside the lock, only this thread opens */
	if (!scan)
		return kio_fail(err, KIO_ERR_NO_DEVICE, "%s: %04x:%04x has not come back", t->name,
				d->id.vid, d->id.pid);
	return open_device(d, err);
}

static void usbx_destroy(struct transport *t)
{
	struct usbx_dev *d = dev_of(t);
	struct usbx_context *c = d->ctx;
	pthread_mutex_lock(&c->lock);
	for (struct usbx_dev **p = &c->devs; *p; p = &(*p)->next) {
		if (*p == d) {
			*p = d->next;
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_lock(&d->lock);
	d->closing = true;
	if (d->in_busy)
		libusb_cancel_transfer(d->in_xfer);
	if (d->out_busy)
		libusb_cancel_transfer(d->out_xfer);
	/* Invariant 4: the event thread completes the cancelled transfers (an unplugged
	 * device's too: the kernel gives them back with -ESHUTDOWN). Closing the handle with
	 * transfers in flight is undefined in libusb. */
	while (d->inflight > 0 || d->waking > 0)
		pthread_cond_wait(&d->idle, &d->lock);
	pthread_mutex_unlock(&d->lock);
	close_handle(d);
	libusb_free_transfer(d->in_xfer);
	libusb_free_transfer(d->out_xfer);
	free(d->in_buf);
	free(d->out_buf);
	core_bytebuf_free(&d->outq);
	core_bytebuf_free(&d->inq);
	pthread_cond_destroy(&d->idle);
	pthread_mutex_destroy(&d->lock);
	LOG_DBG("%s: closed", t->name);
	free(d);
}

/* The event thread reads wake and wake_user under the device lock (finish_callback, the
 * hotplug callback): set them under it too. */
static void usbx_set_wake(struct transport *t, transport_wake_fn fn, void *user)
{
	struct usbx_dev *d = (struct usbx_dev *)t;
	pthread_mutex_lock(&d->lock);
	d->base.wake = fn;
	d->base.wake_user = user;
	pthread_mutex_unlock(&d->lock);
}

static const struct transport_ops usbx_ops = {
	.write = usbx_write,
	.read = usbx_read,
	.out_pending = usbx_out_pending,
	.flush = usbx_flush,
	.connected = usbx_connected,
	.reopen = usbx_reopen,
	.destroy = usbx_destroy,
	.set_wake = usbx_set_wake,
};

int usbx_open(struct usbx_context *ctx, const struct usbx_id *id, const char *name,
	      struct transport **out, struct kio_error *err)
{
	*out = NULL;
	if (!ctx || !id || !name || !name[0] || id->vid == 0)
		return kio_fail(err, KIO_ERR_INVALID, "usb open: %s", !name || !name[0] ? "no name"
								     : "no context or device id");
	struct usbx_dev *d = xcalloc(1, sizeof(*d));
	d->base.ops = &usbx_ops;
	snprintf(d->base.name, sizeof(d->base.name), "%s", name);
	d->ctx = ctx;
	d->id = *id;
	d->id.serial[sizeof(d->id.serial) - 1] = '\0';
	d->state = USBX_CLOSED;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->idle, NULL);
	d->in_xfer = libusb_alloc_transfer(0);
	d->out_xfer = libusb_alloc_transfer(0);
	if (!d->in_xfer || !d->out_xfer)
		abort(); /* as xmalloc: a few hundred bytes; exhaustion is fatal everywhere */
	d->out_buf = xmalloc(USBX_OUT_CHUNK);
	/* Linked before the first scan, so an arrival during it is not missed. */
	pthread_mutex_lock(&ctx->lock);
	d->next = ctx->devs;
	ctx->devs = d;
	pthread_mutex_unlock(&ctx->lock);
	*out = &d->base;
	return open_device(d, err);
}

void usbx_get_stats(struct transport *t, struct usbx_stats *out)
{
	struct usbx_dev *d = dev_of(t);
	pthread_mutex_lock(&d->lock);
	*out = d->stats;
	pthread_mutex_unlock(&d->lock);
}
