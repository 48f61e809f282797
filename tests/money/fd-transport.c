/* A transport over a non-blocking stream socket, with its own queue towards the device. */
#include "fd-transport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kiosk/core/bytebuf.h"
#include "kiosk/core/xmalloc.h"

struct fd_transport {
	struct transport base;
	int fd;
	bool open;
	/* What the socket has not taken yet. send() on a full socket takes part of a buffer:
	 * without this queue a write would leave half a command on the wire and still say BUSY,
	 * and the driver's re-send would put the whole command after it (transport.h: BUSY
	 * means nothing queued). */
	struct core_bytebuf out;
};

static struct fd_transport *fdt_of(struct transport *t) { return (struct fd_transport *)t; }

static void fdt_lost(struct fd_transport *s)
{
	s->open = false;
	core_bytebuf_clear(&s->out); /* transport.h invariant 2: never delivered later */
}

static void fdt_push(struct fd_transport *s)
{
	while (s->open && s->out.len) {
		ssize_t n = send(s->fd, s->out.data, s->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			fdt_lost(s);
			return;
		}
		core_bytebuf_consume(&s->out, (size_t)n);
	}
}

static int fdt_write(struct transport *t, const uint8_t *buf, size_t len)
{
	struct fd_transport *s = fdt_of(t);
	fdt_push(s);
	if (!s->open)
		return KIO_ERR_NO_DEVICE;
	if (len > FD_TRANSPORT_QUEUE_MAX - s->out.len)
		return KIO_ERR_BUSY;
	core_bytebuf_append(&s->out, buf, len);
	fdt_push(s);
	return s->open ? 0 : KIO_ERR_NO_DEVICE;
}

static ssize_t fdt_read(struct transport *t, uint8_t *buf, size_t cap)
{
	struct fd_transport *s = fdt_of(t);
	if (!s->open)
		return KIO_ERR_NO_DEVICE;
	fdt_push(s);
	ssize_t n = recv(s->fd, buf, cap, MSG_DONTWAIT);
	if (n > 0)
		return n;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	fdt_lost(s);
	return KIO_ERR_NO_DEVICE;
}

static size_t fdt_out_pending(struct transport *t) { return fdt_of(t)->out.len; }

static void fdt_flush(struct transport *t)
{
	struct fd_transport *s = fdt_of(t);
	core_bytebuf_clear(&s->out);
	uint8_t buf[256];
	while (fdt_read(t, buf, sizeof(buf)) > 0)
		;
}

static bool fdt_connected(struct transport *t) { return fdt_of(t)->open; }

static int fdt_reopen(struct transport *t, struct kio_error *err)
{
	(void)err;
	return fdt_of(t)->open ? 0 : KIO_ERR_NO_DEVICE;
}

static void fdt_destroy(struct transport *t)
{
	struct fd_transport *s = fdt_of(t);
	core_bytebuf_free(&s->out);
	close(s->fd);
	free(s);
}

static const struct transport_ops fdt_ops = {
	.write = fdt_write,
	.read = fdt_read,
	.out_pending = fdt_out_pending,
	.flush = fdt_flush,
	.connected = fdt_connected,
	.reopen = fdt_reopen,
	.destroy = fdt_destroy,
};

struct transport *fd_transport_new(const char *name, int fd)
{
	struct fd_transport *s = xcalloc(1, sizeof(*s));
	s->base.ops = &fdt_ops;
	snprintf(s->base.name, sizeof(s->base.name), "%s", name);
	s->fd = fd;
	s->open = true;
	return &s->base;
}

void fd_transport_drain(struct transport *t) { fdt_push(fdt_of(t)); }

int fd_transport_fd(struct transport *t) { return fdt_of(t)->fd; }
