/*
 * USB device emulation over umockdev: the usbfs ioctls libusb-1.0.26's Linux backend issues,
 * answered from a struct sim_model. Written for this project after the research PoC
 * (shared/research/usb-poc, usb-emulation.md); see usbemu.h for the contract.
 *
 * One device (struct usbemu_dev) outlives its connections: each plug-in is a `struct plug`
 * with its own address, sysfs entry, dev node, ioctl handler and URB queues. An unplugged
 * plug stays answering ENODEV until the end, because a host may hold its node open (usbx
 * closes a lost handle only in reopen) and an ioctl on a node without handler hangs.
 *
 * Invariants:
 *  1. URB records (urb_d/buf_d, umockdev's copies of the client's memory) are written only on
 *     the worker thread, in on_ioctl: umockdev flushes them there. Completions found on other
 *     threads are staged (status, actual, result) and applied when reaped (PoC pitfall 6).
 *  2. Only the head of pending_out is offered to the model, so bytes reach it in order.
 *  3. The doorbell FIFO is readable-empty ("writable" to libusb's poll) exactly while a
 *     completed URB waits in `done`; otherwise libusb would spin on REAPURBNDELAY.
 *  4. dev->ref counts the owner plus every signal connection, so a handler that is still
 *     running when usbemu_free disconnects it finds its device alive.
 */
#include "tests/usb/usbemu.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <linux/usbdevice_fs.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <umockdev.h>

#include "kiosk/core/err.h"
#include <unistd.h>

struct urb {
	UMockdevIoctlClient *client;
	UMockdevIoctlData *urb_d; /* the client's struct usbdevfs_urb */
	UMockdevIoctlData *buf_d; /* its buffer, or NULL */
	unsigned char type, ep;
	int length;
	uint8_t *out;             /* OUT data, copied at submit */
	size_t taken;             /* OUT bytes the model took so far */
	bool nak_counted;
	int status, actual;       /* staged completion */
	size_t result_off;        /* 8 for control URBs: data follows the setup packet */
	uint8_t *result;          /* staged IN data, or NULL */
};

struct plug {
	struct usbemu_dev *dev;
	unsigned devnum;
	char *syspath;            /* /sys/devices/... */
	char *devnode;            /* /dev/bus/usb/001/NNN */
	UMockdevIoctlBase *handler;
	GQueue pending_in, pending_out, done;
	bool gone;                /* unplugged: ENODEV for everything but reaping */
	bool removed;             /* its sysfs entry is gone */
	bool driver_bound;        /* the emulated kernel driver owns the interface */
	unsigned claimed;         /* bit per interface */
	int bell_fd;              /* our end of the doorbell FIFO */
	bool ringing;
	struct plug *next;
};

struct usbemu_dev {
	struct usbemu *emu;
	gatomicrefcount ref;      /* invariant 4 */
	pthread_mutex_t lock;     /* not GMutex: TSan cannot see GLib's futex locks (PoC) */
	struct usbemu_config cfg;
	char *manufacturer, *product, *serial;
	struct sim_model model;
	GByteArray *desc;         /* device descriptor + configuration descriptor */
	uint8_t ep_out, ep_in, data_itf;
	GByteArray *in_data;      /* model output not yet in an IN URB */
	bool zlp_owed;
	int stall_ep;             /* -1 or the endpoint whose next URB stalls */
	struct plug *plug;        /* the connected plug, NULL while unplugged */
	struct plug *plugs;       /* every plug ever made, for usbemu_free */
	uint64_t t0_ms;
	struct usbemu_stats st;
	struct usbemu_dev *next;
};

struct usbemu {
	UMockdevTestbed *tb;
	unsigned next_devnum;
	struct usbemu_dev *devs;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t now_ms(const struct usbemu_dev *d)
{
	return d->cfg.clock ? core_clock_now_ms(d->cfg.clock) : mono_ms() - d->t0_ms;
}

/* ---- descriptors ---- */

static void put16(GByteArray *a, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v & 0xff), (uint8_t)(v >> 8)};
	g_byte_array_append(a, b, 2);
}

static void put_bytes(GByteArray *a, int n, ...)
{
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		uint8_t b = (uint8_t)va_arg(ap, int);
		g_byte_array_append(a, &b, 1);
	}
	va_end(ap);
}

static void put_endpoint(GByteArray *a, uint8_t addr, uint8_t type, uint16_t mps, uint8_t interval)
{
	put_bytes(a, 4, 7, 5, addr, type);
	put16(a, mps);
	put_bytes(a, 1, interval);
}

/* Device descriptor then configuration 1 (USB 2.0 §9.6), as sysfs "descriptors" holds them. */
static GByteArray *build_descriptors(struct usbemu_dev *d)
{
	const struct usbemu_config *c = &d->cfg;
	GByteArray *a = g_byte_array_new();
	put_bytes(a, 2, 18, 1);
	put16(a, 0x0200);
	/* CDC devices say so at device level with IAD-less class 02 (CDC 1.2 §5.1.1). */
	put_bytes(a, 4, c->cls == USBEMU_CDC_ACM ? 2 : 0, 0, 0, 64);
	put16(a, c->vid);
	put16(a, c->pid);
	put16(a, 0x0110);
	put_bytes(a, 4, c->manufacturer ? 1 : 0, c->product ? 2 : 0, c->serial ? 3 : 0, 1);

	GByteArray *cfg = g_byte_array_new();
	if (c->cls == USBEMU_CDC_ACM) {
		d->ep_out = 0x02, d->ep_in = 0x81, d->data_itf = 1;
		put_bytes(cfg, 9, 9, 4, 0, 0, 1, 0x02, 0x02, 0x01, 0); /* comm: ACM, AT commands */
		put_endpoint(cfg, 0x83, 3 /* interrupt */, 8, 16);
		put_bytes(cfg, 9, 9, 4, 1, 0, 2, 0x0a, 0x00, 0x00, 0); /* data */
	} else {
		d->ep_out = 0x01, d->ep_in = 0x82, d->data_itf = 0;
		if (c->cls == USBEMU_PRINTER)
			put_bytes(cfg, 9, 9, 4, 0, 0, 2, 0x07, 0x01, 0x02, 0); /* printer, bidirectional */
		else
			put_bytes(cfg, 9, 9, 4, 0, 0, 2, 0xff, 0x00, 0x00, 0);
	}
	put_endpoint(cfg, d->ep_out, 2, c->max_packet, 0);
	put_endpoint(cfg, d->ep_in, 2, c->max_packet, 0);
	put_bytes(a, 2, 9, 2);
	put16(a, (uint16_t)(9 + cfg->len));
	put_bytes(a, 5, c->cls == USBEMU_CDC_ACM ? 2 : 1, 1, 0, 0xc0, 50); /* self-powered */
	g_byte_array_append(a, cfg->data, cfg->len);
	g_byte_array_unref(cfg);
	return a;
}

/* Standard requests on endpoint 0. Returns the data length, or -EPIPE (a stall). */
static int control(struct usbemu_dev *d, const uint8_t *setup, uint8_t *data, size_t cap)
{
	uint8_t type = setup[0], req = setup[1];
	uint16_t value = (uint16_t)(setup[2] | setup[3] << 8);
	uint8_t buf[256];
	size_t n = 0;
	if (type == 0x80 && req == 6) { /* GET_DESCRIPTOR */
		uint8_t kind = value >> 8, index = value & 0xff;
		const char *s = NULL;
		if (kind == 1) {
			n = 18;
			memcpy(buf, d->desc->data, n);
		} else if (kind == 2 && index == 0) {
			n = MIN(d->desc->len - 18, sizeof(buf));
			memcpy(buf, d->desc->data + 18, n);
		} else if (kind == 3 && index == 0) {
			n = 4;
			memcpy(buf, (const uint8_t[]){4, 3, 0x09, 0x04}, 4); /* LANGID en-US */
		} else if (kind == 3 && (s = index == 1 ? d->manufacturer : index == 2 ? d->product
								: index == 3 ? d->serial : NULL)) {
			size_t len = MIN(strlen(s), 126);
			buf[0] = (uint8_t)(2 + 2 * len);
			buf[1] = 3;
			for (size_t i = 0; i < len; i++) {
				buf[2 + 2 * i] = (uint8_t)s[i];
				buf[3 + 2 * i] = 0;
			}
			n = 2 + 2 * len;
		} else {
			return -EPIPE;
		}
		n = MIN(n, cap);
		memcpy(data, buf, n);
		return (int)n;
	}
	/* CLEAR_FEATURE, SET_FEATURE, SET_CONFIGURATION, and the CDC class requests a host
	 * sends to an ACM device (SET_LINE_CODING, SET_CONTROL_LINE_STATE): accepted. */
	if (!(type & 0x80))
		return 0;
	return -EPIPE;
}

/* ---- URBs (dev->lock held) ---- */

static void urb_free(struct urb *r)
{
	g_free(r->result);
	g_free(r->out);
	g_clear_object(&r->buf_d);
	g_clear_object(&r->urb_d);
	g_clear_object(&r->client);
	g_free(r);
}

static void finish(struct plug *p, struct urb *r, int status, const uint8_t *data, size_t len)
{
	if (data && len)
		r->result = g_memdup2(data, len);
	r->status = status;
	r->actual = (int)len;
	g_queue_push_tail(&p->done, r);
}

/* Invariant 3. */
static void ring(struct plug *p)
{
	char page[4096] = {0};
	bool want = !g_queue_is_empty(&p->done);
	if (p->bell_fd < 0 || want == p->ringing)
		return;
	if (want) {
		while (read(p->bell_fd, page, sizeof(page)) > 0)
			;
	} else {
		while (write(p->bell_fd, page, sizeof(page)) > 0)
			;
	}
	p->ringing = want;
}

static void collect(struct usbemu_dev *d)
{
	uint8_t chunk[512];
	size_t n;
	while ((n = d->model.ops->read(d->model.dev, chunk, sizeof(chunk), now_ms(d))) > 0)
		g_byte_array_append(d->in_data, chunk, (guint)n);
}

/* Kernel view of a disconnect: URBs end with -ESHUTDOWN and stay reapable. */
static void kill_plug(struct plug *p)
{
	struct urb *r;
	if (p->gone)
		return;
	p->gone = true;
	while ((r = g_queue_pop_head(&p->pending_in)))
		finish(p, r, -ESHUTDOWN, NULL, 0);
	while ((r = g_queue_pop_head(&p->pending_out)))
		finish(p, r, -ESHUTDOWN, NULL, r->taken);
	g_byte_array_set_size(p->dev->in_data, 0);
	p->dev->zlp_owed = false;
	ring(p);
}

static void pump_in(struct plug *p)
{
	struct usbemu_dev *d = p->dev;
	uint16_t mps = d->cfg.max_packet;
	while ((d->in_data->len > 0 || d->zlp_owed) && !g_queue_is_empty(&p->pending_in)) {
		struct urb *r = g_queue_pop_head(&p->pending_in);
		if (d->zlp_owed) {
			d->zlp_owed = false;
			finish(p, r, 0, NULL, 0);
			continue;
		}
		size_t n = MIN((size_t)r->length, d->in_data->len);
		finish(p, r, 0, d->in_data->data, n);
		g_byte_array_remove_range(d->in_data, 0, (guint)n);
		/* The host's buffer filled with whole packets and the message ended there: the
		 * device closes it with a ZLP, which lands in the next transfer. */
		if (d->cfg.zlp && n == (size_t)r->length && n % mps == 0 && d->in_data->len == 0)
			d->zlp_owed = true;
	}
}

/* Offers the head OUT URB to the model until it refuses (invariant 2). */
static void pump_out(struct plug *p)
{
	struct usbemu_dev *d = p->dev;
	while (!p->gone && !g_queue_is_empty(&p->pending_out)) {
		struct urb *r = g_queue_peek_head(&p->pending_out);
		size_t accepted = 0, left = (size_t)r->length - r->taken;
		int rc = left ? d->model.ops->write(d->model.dev, r->out + r->taken, left, &accepted,
						    now_ms(d))
			      : 0;
		if (rc == KIO_ERR_NO_DEVICE || !d->model.ops->connected(d->model.dev)) {
			kill_plug(p); /* the model left (power-off): the uevent follows at unlock */
			return;
		}
		r->taken += MIN(accepted, left);
		collect(d);
		if (r->taken < (size_t)r->length) {
			if (!r->nak_counted)
				d->st.naks++;
			r->nak_counted = true;
			break; /* NAK: the host controller retries; we retry at the next unlock */
		}
		g_queue_pop_head(&p->pending_out);
		finish(p, r, 0, NULL, r->taken);
	}
	pump_in(p);
}

static struct urb *take_urb(GQueue *q, UMockdevIoctlClient *client, gulong addr)
{
	for (GList *l = q->head; l; l = l->next) {
		struct urb *r = l->data;
		if (r->client == client && r->urb_d->client_addr == addr) {
			g_queue_delete_link(q, l);
			return r;
		}
	}
	return NULL;
}

static int submit(struct plug *p, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
	struct usbemu_dev *d = p->dev;
	struct urb *r = g_new0(struct urb, 1);
	d->st.submits++;
	r->client = g_object_ref(client);
	r->urb_d = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb), NULL);
	const struct usbdevfs_urb *u = (const struct usbdevfs_urb *)r->urb_d->data;
	r->type = u->type;
	r->ep = u->endpoint;
	r->length = u->buffer_length;
	if (r->length > 0)
		r->buf_d = umockdev_ioctl_data_resolve(r->urb_d, G_STRUCT_OFFSET(struct usbdevfs_urb, buffer),
						       (gsize)r->length, NULL);
	if (r->type == USBDEVFS_URB_TYPE_CONTROL) {
		if (!r->buf_d || r->length < 8) {
			urb_free(r);
			return -EINVAL;
		}
		uint8_t reply[512];
		int n = control(d, r->buf_d->data, reply, MIN(sizeof(reply), (size_t)r->length - 8));
		r->result_off = 8;
		finish(p, r, n < 0 ? n : 0, reply, n < 0 ? 0 : (size_t)n);
		return 0;
	}
	if (r->type != USBDEVFS_URB_TYPE_BULK || (r->ep != d->ep_in && r->ep != d->ep_out)) {
		urb_free(r); /* interrupt and iso endpoints are not emulated */
		return -ENOENT;
	}
	if (d->stall_ep == r->ep) {
		finish(p, r, -EPIPE, NULL, 0);
		return 0;
	}
	if (r->ep == d->ep_out) {
		r->out = g_memdup2(r->buf_d ? r->buf_d->data : (guint8 *)"", (gsize)r->length);
		g_queue_push_tail(&p->pending_out, r);
		pump_out(p);
	} else {
		g_queue_push_tail(&p->pending_in, r);
		collect(d);
		pump_in(p);
	}
	return 0;
}

/* Invariant 1: the staged result goes into umockdev's copies here, on the worker thread. */
static void apply(struct urb *r)
{
	struct usbdevfs_urb *u = (struct usbdevfs_urb *)r->urb_d->data;
	if (r->result && r->buf_d)
		memcpy(r->buf_d->data + r->result_off, r->result, (size_t)r->actual);
	u->status = r->status;
	u->actual_length = r->actual;
}

static unsigned read_uint(UMockdevIoctlData *arg)
{
	UMockdevIoctlData *v = umockdev_ioctl_data_resolve(arg, 0, sizeof(unsigned), NULL);
	unsigned n = v ? *(unsigned *)v->data : ~0u;
	g_clear_object(&v);
	return n;
}

/* Runs on umockdev's worker thread for every ioctl on this plug's node. */
static gboolean on_ioctl(UMockdevIoctlBase *handler, UMockdevIoctlClient *client, struct plug *p)
{
	struct usbemu_dev *d = p->dev;
	gulong req = umockdev_ioctl_client_get_request(client);
	UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
	long ret = 0;
	int err = 0;
	pthread_mutex_lock(&d->lock);
	d->st.ioctls++;
	if (p->gone && req != USBDEVFS_REAPURBNDELAY && req != USBDEVFS_REAPURB) {
		err = ENODEV;
		goto out;
	}
	switch (req) {
	case USBDEVFS_GET_CAPABILITIES: {
		UMockdevIoctlData *v = umockdev_ioctl_data_resolve(arg, 0, sizeof(guint32), NULL);
		/* One URB per transfer, no packet-size limit, URBs reapable after a disconnect. */
		*(guint32 *)v->data = USBDEVFS_CAP_BULK_SCATTER_GATHER | USBDEVFS_CAP_NO_PACKET_SIZE_LIM |
				      USBDEVFS_CAP_REAP_AFTER_DISCONNECT | USBDEVFS_CAP_ZERO_PACKET;
		g_object_unref(v);
		break;
	}
	case USBDEVFS_CLAIMINTERFACE: {
		unsigned itf = read_uint(arg);
		if (itf > d->data_itf)
			err = EINVAL;
		else if (p->driver_bound && itf == d->data_itf)
			err = EBUSY; /* the kernel driver owns it: the host must detach first */
		else
			p->claimed |= 1u << itf;
		break;
	}
	case USBDEVFS_DISCONNECT_CLAIM: {
		UMockdevIoctlData *v =
			umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_disconnect_claim), NULL);
		const struct usbdevfs_disconnect_claim *dc = (const void *)v->data;
		if (dc->interface > d->data_itf) {
			err = EINVAL;
		} else {
			if (p->driver_bound && dc->interface == d->data_itf) {
				p->driver_bound = false;
				d->st.detaches++;
			}
			p->claimed |= 1u << dc->interface;
		}
		g_object_unref(v);
		break;
	}
	case USBDEVFS_RELEASEINTERFACE:
		p->claimed &= ~(1u << (read_uint(arg) & 31));
		break;
	case USBDEVFS_GETDRIVER: {
		UMockdevIoctlData *v =
			umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_getdriver), NULL);
		struct usbdevfs_getdriver *gd = (void *)v->data;
		if (p->driver_bound && gd->interface == d->data_itf)
			snprintf(gd->driver, sizeof(gd->driver), "%s",
				 d->cfg.cls == USBEMU_CDC_ACM ? "cdc_acm" : "usblp");
		else
			err = ENODATA;
		g_object_unref(v);
		break;
	}
	case USBDEVFS_IOCTL: {
		/* Driver (re)binding: libusb re-attaches the kernel driver on release when it
		 * auto-detached it. */
		UMockdevIoctlData *v = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_ioctl), NULL);
		const struct usbdevfs_ioctl *io = (const void *)v->data;
		if (io->ioctl_code == (int)USBDEVFS_CONNECT && d->cfg.cls != USBEMU_VENDOR)
			p->driver_bound = !(p->claimed & (1u << d->data_itf));
		else if (io->ioctl_code == (int)USBDEVFS_DISCONNECT)
			p->driver_bound = false;
		else
			err = ENOTTY;
		g_object_unref(v);
		break;
	}
	case USBDEVFS_CLEAR_HALT:
		if (d->stall_ep >= 0 && read_uint(arg) == (unsigned)d->stall_ep)
			d->stall_ep = -1;
		break;
	case USBDEVFS_SETINTERFACE:
	case USBDEVFS_SETCONFIGURATION:
	case USBDEVFS_RESETEP:
	case USBDEVFS_RESET:
		break;
	case USBDEVFS_SUBMITURB: {
		int rc = submit(p, client, arg);
		if (rc < 0)
			err = -rc;
		break;
	}
	case USBDEVFS_REAPURB: /* libusb uses only the non-blocking one */
	case USBDEVFS_REAPURBNDELAY: {
		struct urb *r = NULL;
		for (GList *l = p->done.head; l && !r; l = l->next) {
			if (((struct urb *)l->data)->client == client) {
				r = l->data;
				g_queue_delete_link(&p->done, l);
			}
		}
		if (!r) {
			d->st.empty_reaps++;
			err = p->gone ? ENODEV : EAGAIN;
			break;
		}
		d->st.reaps++;
		apply(r);
		/* The caller's `struct usbdevfs_urb *` receives the URB's address in its memory. */
		UMockdevIoctlData *slot = umockdev_ioctl_data_resolve(arg, 0, sizeof(gpointer), NULL);
		umockdev_ioctl_data_set_ptr(slot, 0, r->urb_d);
		g_object_unref(slot);
		urb_free(r);
		break;
	}
	case USBDEVFS_DISCARDURB: {
		gulong addr = *(gulong *)arg->data;
		struct urb *r = take_urb(&p->pending_in, client, addr);
		if (!r)
			r = take_urb(&p->pending_out, client, addr);
		if (!r) {
			err = EINVAL; /* already done: libusb then reaps it as completed */
			break;
		}
		d->st.discards++;
		finish(p, r, -ENOENT, NULL, r->out ? r->taken : 0);
		break;
	}
	default:
		pthread_mutex_unlock(&d->lock);
		return FALSE; /* umockdev answers ENOTTY */
	}
out:
	ring(p);
	pthread_mutex_unlock(&d->lock);
	umockdev_ioctl_client_complete(client, err ? -1 : ret, err);
	return TRUE;
}

static void drop_client(GQueue *q, UMockdevIoctlClient *client)
{
	for (GList *l = q->head, *next; l; l = next) {
		next = l->next;
		struct urb *r = l->data;
		if (r->client == client) {
			g_queue_delete_link(q, l);
			urb_free(r);
		}
	}
}

/* The host closed its fd: the kernel kills that fd's URBs and releases its interfaces. */
static void on_client_vanished(UMockdevIoctlBase *handler, UMockdevIoctlClient *client, struct plug *p)
{
	struct usbemu_dev *d = p->dev;
	pthread_mutex_lock(&d->lock);
	drop_client(&p->pending_in, client);
	drop_client(&p->pending_out, client);
	drop_client(&p->done, client);
	p->claimed = 0;
	ring(p);
	pthread_mutex_unlock(&d->lock);
}

/* ---- devices ---- */

static void dev_unref(struct usbemu_dev *d)
{
	if (!g_atomic_ref_count_dec(&d->ref))
		return;
	for (struct plug *p = d->plugs, *next; p; p = next) {
		next = p->next;
		struct urb *r;
		while ((r = g_queue_pop_head(&p->pending_in)))
			urb_free(r);
		while ((r = g_queue_pop_head(&p->pending_out)))
			urb_free(r);
		while ((r = g_queue_pop_head(&p->done)))
			urb_free(r);
		if (p->bell_fd >= 0)
			close(p->bell_fd);
		g_free(p->syspath);
		g_free(p->devnode);
		g_free(p);
	}
	g_byte_array_unref(d->desc);
	g_byte_array_unref(d->in_data);
	g_free(d->manufacturer);
	g_free(d->product);
	g_free(d->serial);
	pthread_mutex_destroy(&d->lock);
	g_free(d);
}

static void closure_unref(gpointer data, GClosure *closure) { dev_unref(((struct plug *)data)->dev); }

/* The node becomes a FIFO kept full ("not writable") while nothing is to be reaped. */
static void make_doorbell(struct usbemu *e, struct plug *p)
{
	g_autofree char *root = umockdev_testbed_get_root_dir(e->tb);
	g_autofree char *node = g_build_filename(root, p->devnode, NULL);
	g_autofree char *dir = g_path_get_dirname(node);
	if (g_mkdir_with_parents(dir, 0755) < 0 || (mkfifo(node, 0666) < 0 && errno != EEXIST))
		g_error("doorbell %s: %s", node, g_strerror(errno));
	p->bell_fd = open(node, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (p->bell_fd < 0)
		g_error("doorbell %s: %s", node, g_strerror(errno));
	if (fcntl(p->bell_fd, F_SETPIPE_SZ, 4096) < 0)
		g_error("doorbell %s: F_SETPIPE_SZ: %s", node, g_strerror(errno));
	p->ringing = true;
	ring(p); /* nothing to reap yet: fill it */
}

/* A new connection at a new address: handler first, doorbell node, then sysfs + "add". */
static void plug_in(struct usbemu_dev *d)
{
	struct usbemu *e = d->emu;
	struct plug *p = g_new0(struct plug, 1);
	g_autoptr(GError) error = NULL;
	p->dev = d;
	p->devnum = e->next_devnum++;
	p->bell_fd = -1;
	p->driver_bound = d->cfg.cls != USBEMU_VENDOR;
	p->syspath = g_strdup_printf("/sys/devices/pci0000:00/0000:00:14.0/usb1/1-%u", p->devnum);
	p->devnode = g_strdup_printf("/dev/bus/usb/001/%03u", p->devnum);
	p->handler = umockdev_ioctl_base_new();
	g_atomic_ref_count_inc(&d->ref);
	g_signal_connect_data(p->handler, "handle-ioctl", G_CALLBACK(on_ioctl), p, closure_unref, 0);
	g_atomic_ref_count_inc(&d->ref);
	g_signal_connect_data(p->handler, "client-vanished", G_CALLBACK(on_client_vanished), p,
			      closure_unref, 0);
	/* Before the node exists, so nobody opens it unanswered (libusb tests/umockdev.c order). */
	if (!umockdev_testbed_attach_ioctl(e->tb, p->devnode, p->handler, &error))
		g_error("attach_ioctl %s: %s", p->devnode, error->message);
	/* The node is made by us, as a FIFO, before the "add" event, so that a host reacting to
	 * the event never opens a plain file (which would make libusb busy-poll). */
	make_doorbell(e, p);

	GString *rec = g_string_new(NULL);
	g_string_append_printf(rec, "P: %s\n", p->syspath + strlen("/sys"));
	g_string_append_printf(rec,
			       "E: SUBSYSTEM=usb\nE: DEVTYPE=usb_device\nE: DRIVER=usb\nE: DEVNAME=%s\n"
			       "E: BUSNUM=001\nE: DEVNUM=%03u\nE: PRODUCT=%x/%x/110\n"
			       "A: busnum=1\\n\nA: devnum=%u\\n\nA: speed=%s\\n\n"
			       "A: bConfigurationValue=1\\n\nA: bNumConfigurations=1\\n\n"
			       "A: idVendor=%04x\\n\nA: idProduct=%04x\\n\n",
			       p->devnode, p->devnum, d->cfg.vid, d->cfg.pid, p->devnum,
			       d->cfg.max_packet >= 512 ? "480" : "12", d->cfg.vid, d->cfg.pid);
	if (d->serial)
		g_string_append_printf(rec, "A: serial=%s\\n\n", d->serial);
	g_string_append(rec, "H: descriptors=");
	for (guint i = 0; i < d->desc->len; i++)
		g_string_append_printf(rec, "%02x", d->desc->data[i]);
	g_string_append(rec, "\n");
	if (!umockdev_testbed_add_from_string(e->tb, rec->str, &error))
		g_error("add device %s: %s", p->syspath, error->message);
	g_string_free(rec, TRUE);

	pthread_mutex_lock(&d->lock);
	p->next = d->plugs;
	d->plugs = p;
	d->plug = p;
	pthread_mutex_unlock(&d->lock);
}

/* Sends "remove" (built from the sysfs entry, so before removing it), then removes it. */
static void plug_out(struct usbemu *e, struct plug *p)
{
	if (p->removed)
		return;
	p->removed = true;
	umockdev_testbed_uevent(e->tb, p->syspath, "remove");
	umockdev_testbed_remove_device(e->tb, p->syspath);
	g_autofree char *root = umockdev_testbed_get_root_dir(e->tb);
	g_autofree char *node = g_build_filename(root, p->devnode, NULL);
	unlink(node); /* open fds keep the FIFO; a new open finds nothing, like the kernel's */
}

struct usbemu *usbemu_new(void)
{
	struct usbemu *e = g_new0(struct usbemu, 1);
	e->tb = umockdev_testbed_new(); /* sets $UMOCKDEV_DIR: before any thread (pitfall 7) */
	e->next_devnum = 2;             /* 1 is the root hub's address */
	return e;
}

struct usbemu_dev *usbemu_add(struct usbemu *e, const struct usbemu_config *cfg,
			      const struct sim_model *model)
{
	g_assert(cfg->cls < USBEMU_CLASS_COUNT);
	struct usbemu_dev *d = g_new0(struct usbemu_dev, 1);
	d->emu = e;
	g_atomic_ref_count_init(&d->ref);
	pthread_mutex_init(&d->lock, NULL);
	d->cfg = *cfg;
	if (!d->cfg.max_packet)
		d->cfg.max_packet = 64;
	d->manufacturer = g_strdup(cfg->manufacturer);
	d->product = g_strdup(cfg->product);
	d->serial = g_strdup(cfg->serial);
	d->cfg.manufacturer = d->manufacturer;
	d->cfg.product = d->product;
	d->cfg.serial = d->serial;
	d->model = *model;
	d->in_data = g_byte_array_new();
	d->stall_ep = -1;
	d->t0_ms = mono_ms();
	d->desc = build_descriptors(d);
	d->next = e->devs;
	e->devs = d;
	g_assert_true(model->ops->connected(model->dev));
	plug_in(d);
	return d;
}

void usbemu_lock(struct usbemu_dev *d) { pthread_mutex_lock(&d->lock); }

void usbemu_unlock(struct usbemu_dev *d)
{
	struct plug *p = d->plug, *out = NULL;
	bool in = false;
	if (p && !p->gone) {
		d->model.ops->tick(d->model.dev, now_ms(d));
		pump_out(p);
		collect(d);
		pump_in(p);
	}
	bool connected = d->model.ops->connected(d->model.dev);
	if (p && !connected) {
		kill_plug(p);
		d->plug = NULL;
		d->st.unplugs++;
		out = p;
	} else if (!p && connected) {
		g_byte_array_set_size(d->in_data, 0); /* a power cycle loses what was unsent */
		d->zlp_owed = false;
		d->st.replugs++;
		in = true;
	}
	if (d->plug)
		ring(d->plug);
	pthread_mutex_unlock(&d->lock);
	/* Testbed calls outside the lock: the worker thread may be waiting for it. */
	if (out)
		plug_out(d->emu, out);
	if (in)
		plug_in(d);
}

bool usbemu_plugged(struct usbemu_dev *d)
{
	pthread_mutex_lock(&d->lock);
	bool r = d->plug != NULL;
	pthread_mutex_unlock(&d->lock);
	return r;
}

unsigned usbemu_address(struct usbemu_dev *d)
{
	pthread_mutex_lock(&d->lock);
	unsigned r = d->plug ? d->plug->devnum : 0;
	pthread_mutex_unlock(&d->lock);
	return r;
}

bool usbemu_kernel_driver_bound(struct usbemu_dev *d)
{
	pthread_mutex_lock(&d->lock);
	bool r = d->plug && d->plug->driver_bound;
	pthread_mutex_unlock(&d->lock);
	return r;
}

void usbemu_stall_next(struct usbemu_dev *d, uint8_t ep)
{
	pthread_mutex_lock(&d->lock);
	d->stall_ep = ep;
	pthread_mutex_unlock(&d->lock);
}

void usbemu_get_stats(struct usbemu_dev *d, struct usbemu_stats *out)
{
	pthread_mutex_lock(&d->lock);
	*out = d->st;
	pthread_mutex_unlock(&d->lock);
}

void usbemu_free(struct usbemu *e)
{
	if (!e)
		return;
	for (struct usbemu_dev *d = e->devs, *next; d; d = next) {
		next = d->next;
		for (struct plug *p = d->plugs; p; p = p->next) {
			/* A handler still running keeps d alive (invariant 4); late ioctls get ENOTTY. */
			g_signal_handlers_disconnect_by_data(p->handler, p);
			umockdev_testbed_detach_ioctl(e->tb, p->devnode, NULL);
			if (!p->removed)
				umockdev_testbed_remove_device(e->tb, p->syspath);
			p->removed = true;
			g_clear_object(&p->handler);
		}
		dev_unref(d);
	}
	g_object_unref(e->tb);
	g_free(e);
}
