/* The fixture of usbtest.h: emulation + usbx context + wake counters. */
#include "tests/usb/usbtest.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

void usbtest_main_init(void)
{
	/* Threads created later inherit it: umockdev's worker and the usbx event thread. */
	if (prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) != 0)
		g_printerr("# PR_SET_TIMERSLACK failed: emulation runs slower\n");
}

void usbtest_init(struct usbtest *u)
{
	struct kio_error err;
	memset(u, 0, sizeof(*u));
	u->emu = usbemu_new();
	int rc = usbx_context_new(&u->ctx, &err);
	if (rc)
		g_error("usbx_context_new: %s", err.msg);
}

void usbtest_fini(struct usbtest *u)
{
	for (size_t i = 0; i < u->n; i++) {
		transport_free(u->devs[i]->t);
		pthread_cond_destroy(&u->devs[i]->cond);
		pthread_mutex_destroy(&u->devs[i]->lock);
		g_free(u->devs[i]);
	}
	u->n = 0;
	usbx_context_free(u->ctx);
	usbemu_free(u->emu);
}

static void on_wake(void *user)
{
	struct usbtest_dev *d = user;
	pthread_mutex_lock(&d->lock);
	d->wakes++;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	if (d->owner->on_any_wake)
		d->owner->on_any_wake(d->owner->on_any_wake_user);
}

void usbtest_default_config(const struct sim_model *model, const struct usbx_id *id,
			    struct usbemu_config *out)
{
	memset(out, 0, sizeof(*out));
	out->vid = id->vid;
	out->pid = id->pid;
	out->max_packet = 64;
	if (strcmp(model->kind, "essp") == 0) {
		out->cls = USBEMU_CDC_ACM;
		out->manufacturer = "Innovative Technology LTD";
		out->product = "NV9USB";
	} else if (strcmp(model->kind, "escpos") == 0) {
		out->cls = USBEMU_PRINTER;
		out->manufacturer = "EPSON";
		out->product = "TM-T20III";
	} else {
		out->cls = USBEMU_PRINTER;
		out->manufacturer = "Evolis";
		out->product = "Zenius";
	}
	out->serial = id->serial[0] ? id->serial : NULL;
}

int usbtest_open(struct usbtest *u, const char *usb_id, struct usbtest_dev **out,
		 struct kio_error *err)
{
	g_assert_cmpuint(u->n, <, USBTEST_DEVS_MAX);
	struct usbtest_dev *d = g_new0(struct usbtest_dev, 1);
	d->owner = u;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	g_assert_cmpint(usbx_id_parse(usb_id, &d->id, err), ==, 0);
	int rc = usbx_open(u->ctx, &d->id, usb_id, &d->t, err);
	g_assert_nonnull(d->t);
	transport_set_wake(d->t, on_wake, d);
	u->devs[u->n++] = d;
	*out = d;
	return rc;
}

struct usbtest_dev *usbtest_attach(struct usbtest *u, const char *usb_id,
				   const struct sim_model *model, const struct usbemu_config *cfg)
{
	struct usbx_id id;
	struct usbemu_config def;
	struct kio_error err;
	g_assert_cmpint(usbx_id_parse(usb_id, &id, &err), ==, 0);
	if (!cfg) {
		usbtest_default_config(model, &id, &def);
		cfg = &def;
	}
	struct usbemu_dev *emu = usbemu_add(u->emu, cfg, model);
	struct usbtest_dev *d = NULL;
	int rc = usbtest_open(u, usb_id, &d, &err);
	if (rc)
		g_error("usbx_open %s: %s", usb_id, err.msg);
	snprintf(d->t->name, sizeof(d->t->name), "%s", model->kind);
	d->emu = emu;
	return d;
}

unsigned usbtest_wakes(struct usbtest_dev *d)
{
	pthread_mutex_lock(&d->lock);
	unsigned n = d->wakes;
	pthread_mutex_unlock(&d->lock);
	return n;
}

static struct timespec deadline_after(int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

bool usbtest_wait(struct usbtest_dev *d, bool (*done)(void *arg), void *arg, int timeout_ms)
{
	struct timespec until = deadline_after(timeout_ms);
	for (;;) {
		unsigned seen = usbtest_wakes(d);
		if (done(arg))
			return true;
		pthread_mutex_lock(&d->lock);
		int rc = 0;
		while (d->wakes == seen && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&d->cond, &d->lock, &until);
		pthread_mutex_unlock(&d->lock);
		if (rc == ETIMEDOUT)
			return done(arg);
	}
}

bool usbtest_wait_wakes(struct usbtest_dev *d, unsigned seen, int timeout_ms)
{
	struct timespec until = deadline_after(timeout_ms);
	int rc = 0;
	pthread_mutex_lock(&d->lock);
	while (d->wakes <= seen && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&d->cond, &d->lock, &until);
	bool ok = d->wakes > seen;
	pthread_mutex_unlock(&d->lock);
	return ok;
}

bool usbtest_poll(bool (*done)(void *arg), void *arg, int timeout_ms)
{
	gint64 until = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	while (!done(arg)) {
		if (g_get_monotonic_time() > until)
			return false;
		g_usleep(1000);
	}
	return true;
}

struct read_n {
	struct usbtest_dev *d;
	uint8_t *buf;
	size_t n, got;
	bool gone;
};

static bool read_more(void *arg)
{
	struct read_n *r = arg;
	while (r->got < r->n) {
		ssize_t k = transport_read(r->d->t, r->buf + r->got, r->n - r->got);
		if (k < 0) {
			r->gone = true;
			return true;
		}
		if (k == 0)
			return false;
		r->got += (size_t)k;
	}
	return true;
}

bool usbtest_read_n(struct usbtest_dev *d, uint8_t *buf, size_t n, int timeout_ms)
{
	struct read_n r = {d, buf, n, 0, false};
	return usbtest_wait(d, read_more, &r, timeout_ms) && !r.gone && r.got == n;
}
