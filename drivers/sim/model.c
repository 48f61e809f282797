/* Adapters that put each byte-level device model behind struct sim_model. */
#include "drivers/sim/model.h"

#include "drivers/sim/escpos/sim-escpos.h"
#include "drivers/sim/essp/sim-essp.h"
#include "drivers/sim/evolis/sim-evolis.h"
#include "kiosk/core/err.h"

static int essp_write(void *dev, const uint8_t *buf, size_t len, size_t *accepted, uint64_t now_ms)
{
	int rc = sim_essp_write(dev, buf, len, now_ms);
	*accepted = rc == 0 ? len : 0;
	return rc;
}

static size_t essp_read(void *dev, uint8_t *buf, size_t cap, uint64_t now_ms)
{
	sim_essp_tick(dev, now_ms);
	return sim_essp_read(dev, buf, cap);
}

static void essp_tick(void *dev, uint64_t now_ms) { sim_essp_tick(dev, now_ms); }
static bool essp_connected(const void *dev) { return sim_essp_connected(dev); }

static const struct sim_model_ops essp_ops = {
	.write = essp_write, .read = essp_read, .tick = essp_tick, .connected = essp_connected,
};

void sim_model_essp(struct sim_model *out, struct sim_essp *dev)
{
	*out = (struct sim_model){&essp_ops, dev, "essp"};
}

static int escpos_write(void *dev, const uint8_t *buf, size_t len, size_t *accepted, uint64_t now_ms)
{
	struct kio_error err;
	*accepted = 0;
	if (!sim_escpos_connected(dev))
		return KIO_ERR_NO_DEVICE;
	return sim_escpos_write(dev, buf, len, accepted, &err);
}

static size_t escpos_read(void *dev, uint8_t *buf, size_t cap, uint64_t now_ms)
{
	return sim_escpos_read(dev, buf, cap);
}

static void no_tick(void *dev, uint64_t now_ms) {}
static bool escpos_connected(const void *dev) { return sim_escpos_connected(dev); }

static const struct sim_model_ops escpos_ops = {
	.write = escpos_write, .read = escpos_read, .tick = no_tick, .connected = escpos_connected,
};

void sim_model_escpos(struct sim_model *out, struct sim_escpos *dev)
{
	*out = (struct sim_model){&escpos_ops, dev, "escpos"};
}

static int evolis_write(void *dev, const uint8_t *buf, size_t len, size_t *accepted, uint64_t now_ms)
{
	struct kio_error err;
	*accepted = 0;
	if (!sim_evolis_connected(dev))
		return KIO_ERR_NO_DEVICE;
	int rc = sim_evolis_write(dev, buf, len, &err);
	*accepted = len;
	return rc;
}

static size_t evolis_read(void *dev, uint8_t *buf, size_t cap, uint64_t now_ms)
{
	return sim_evolis_read(dev, buf, cap);
}

static bool evolis_connected(const void *dev) { return sim_evolis_connected(dev); }

static const struct sim_model_ops evolis_ops = {
	.write = evolis_write, .read = evolis_read, .tick = no_tick, .connected = evolis_connected,
};

void sim_model_evolis(struct sim_model *out, struct sim_evolis *dev)
{
	*out = (struct sim_model){&evolis_ops, dev, "evolis"};
}
