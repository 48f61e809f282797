/* A device model with bytes injected into and replies swallowed from its wire (fuzz targets). */
#include "tapped-model.h"

#include <string.h>

static int tap_write(void *dev, const uint8_t *buf, size_t len, size_t *accepted, uint64_t now_ms)
{
	struct tapped_model *w = dev;
	return w->inner.ops->write(w->inner.dev, buf, len, accepted, now_ms);
}

static size_t tap_read(void *dev, uint8_t *buf, size_t cap, uint64_t now_ms)
{
	struct tapped_model *w = dev;
	if (w->inject_len) {
		size_t n = w->inject_len < cap ? w->inject_len : cap;
		memcpy(buf, w->inject, n);
		memmove(w->inject, w->inject + n, w->inject_len - n);
		w->inject_len -= n;
		return n;
	}
	/* The model still produces its reply, so its state moves as if the wire carried it. */
	size_t n = w->inner.ops->read(w->inner.dev, buf, cap, now_ms);
	return w->mute ? 0 : n;
}

static void tap_tick(void *dev, uint64_t now_ms)
{
	struct tapped_model *w = dev;
	w->inner.ops->tick(w->inner.dev, now_ms);
}

static bool tap_connected(const void *dev)
{
	const struct tapped_model *w = dev;
	return w->inner.ops->connected(w->inner.dev);
}

static const struct sim_model_ops tap_ops = {tap_write, tap_read, tap_tick, tap_connected};

struct sim_model tapped_model_wrap(struct tapped_model *tap, const char *name)
{
	return (struct sim_model){&tap_ops, tap, name};
}

void tapped_model_inject(struct tapped_model *tap, const void *buf, size_t len)
{
	if (len > sizeof(tap->inject) - tap->inject_len)
		len = sizeof(tap->inject) - tap->inject_len;
	memcpy(tap->inject + tap->inject_len, buf, len);
	tap->inject_len += len;
}
