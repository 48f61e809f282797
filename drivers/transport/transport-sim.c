/*
 * The in-process transport over a device model. The queue towards the device holds what the
 * model refused for now (an offline printer's full buffer): it is offered again on every call,
 * as a USB host controller retries a NAKed bulk OUT.
 */
#include "drivers/transport/transport-sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "transport-sim"
#include "kiosk/core/bytebuf.h"
#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"

/* A real printer's receive buffer plus what the USB stack would hold: bigger is a driver bug. */
#define SIM_OUT_QUEUE_MAX (4u << 20)

struct sim_transport {
	struct transport base;
	struct sim_model model;
	const struct core_clock *clock;
	struct core_bytebuf out; /* written, not yet taken by the model */
	struct core_bytebuf in;  /* answered, not yet read by the driver */
	bool open;
};

static struct sim_transport *sim_of(struct transport *t) { return (struct sim_transport *)t; }

static uint64_t now_ms(const struct sim_transport *s) { return core_clock_now_ms(s->clock); }

/* Invariant 2 of transport.h: a device that left takes its queues with it. */
static void drop_link(struct sim_transport *s)
{
	if (!s->open)
		return;
	LOG_INFO("%s: device disconnected", s->base.name);
	s->open = false;
	core_bytebuf_clear(&s->out);
	transport_wake(&s->base);
}

/* Offers the queue to the model and collects its answers; returns true if anything moved. */
static bool pump(struct sim_transport *s)
{
	if (!s->open)
		return false;
	if (!s->model.ops->connected(s->model.dev)) {
		drop_link(s);
		return true;
	}
	bool moved = false;
	if (s->out.len) {
		size_t accepted = 0;
		int rc = s->model.ops->write(s->model.dev, s->out.data, s->out.len, &accepted, now_ms(s));
		if (rc == KIO_ERR_NO_DEVICE) {
			drop_link(s);
			return true;
		}
		if (rc == KIO_ERR_PROTOCOL)
			LOG_WARN("%s: the device rejected part of what the driver sent", s->base.name);
		core_bytebuf_consume(&s->out, accepted);
		moved = accepted > 0;
	} else {
		s->model.ops->tick(s->model.dev, now_ms(s));
	}
	uint8_t chunk[512];
	size_t n;
	while ((n = s->model.ops->read(s->model.dev, chunk, sizeof(chunk), now_ms(s))) > 0) {
		core_bytebuf_append(&s->in, chunk, n);
		moved = true;
	}
	if (!s->model.ops->connected(s->model.dev)) {
		drop_link(s); /* it answered, then left (ESC/POS power-off) */
		moved = true;
	}
	return moved;
}

static int sim_write(struct transport *t, const uint8_t *buf, size_t len)
{
	struct sim_transport *s = sim_of(t);
	pump(s);
	if (!s->open)
		return KIO_ERR_NO_DEVICE;
	if (len > SIM_OUT_QUEUE_MAX - s->out.len)
		return KIO_ERR_BUSY;
	core_bytebuf_append(&s->out, buf, len);
	pump(s);
	if (s->in.len || !s->open)
		transport_wake(t);
	return 0;
}

static ssize_t sim_read(struct transport *t, uint8_t *buf, size_t cap)
{
	struct sim_transport *s = sim_of(t);
	pump(s);
	if (s->in.len == 0)
		return s->open ? 0 : KIO_ERR_NO_DEVICE;
	size_t n = s->in.len < cap ? s->in.len : cap;
	memcpy(buf, s->in.data, n);
	core_bytebuf_consume(&s->in, n);
	return (ssize_t)n;
}

static size_t sim_out_pending(struct transport *t)
{
	struct sim_transport *s = sim_of(t);
	pump(s);
	return s->out.len;
}

static void sim_flush(struct transport *t)
{
	struct sim_transport *s = sim_of(t);
	core_bytebuf_clear(&s->out);
	core_bytebuf_clear(&s->in);
}

static bool sim_connected(struct transport *t)
{
	struct sim_transport *s = sim_of(t);
	pump(s);
	return s->open;
}

static int sim_reopen(struct transport *t, struct kio_error *err)
{
	struct sim_transport *s = sim_of(t);
	if (s->open && s->model.ops->connected(s->model.dev))
		return 0;
	if (!s->model.ops->connected(s->model.dev))
		return KIO_ERR_NO_DEVICE;
	core_bytebuf_clear(&s->out);
	core_bytebuf_clear(&s->in);
	s->open = true;
	LOG_INFO("%s: device connected", t->name);
	return 0;
}

static void sim_destroy(struct transport *t)
{
	struct sim_transport *s = sim_of(t);
	core_bytebuf_free(&s->out);
	core_bytebuf_free(&s->in);
	free(s);
}

static const struct transport_ops sim_ops = {
	.write = sim_write,
	.read = sim_read,
	.out_pending = sim_out_pending,
	.flush = sim_flush,
	.connected = sim_connected,
	.reopen = sim_reopen,
	.destroy = sim_destroy,
};

struct transport *transport_sim_new(const char *name, const struct sim_model *model,
				    const struct core_clock *clock)
{
	struct sim_transport *s = xcalloc(1, sizeof(*s));
	s->base.ops = &sim_ops;
	snprintf(s->base.name, sizeof(s->base.name), "%s", name);
	s->model = *model;
	s->clock = clock;
	s->open = model->ops->connected(model->dev);
	return &s->base;
}

void transport_sim_notify(struct transport *t)
{
	struct sim_transport *s = sim_of(t);
	bool was_open = s->open;
	bool moved = pump(s);
	bool back = !s->open && s->model.ops->connected(s->model.dev);
	if (moved || back || was_open != s->open || s->in.len)
		transport_wake(t);
}
