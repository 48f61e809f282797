/* The kiosk's devices: drivers over libusb or over the simulated bench, wake-ups, output files. */
#include "kiosk/devices.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "devices"
#include "drivers/host/escpos/escpos-receipt.h"
#include "drivers/host/essp/essp-cash.h"
#include "drivers/host/evolis/evolis-card.h"
#include "drivers/transport/usbx.h"
#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"

/* Receipts queued at once: a customer flow prints one at a time; room for a retry. */
#define MAX_PENDING_TEXTS 4

struct pending_text {
	char job_id[40];
	char *text;
};

struct devices {
	struct devices_config dc;
	struct sim_bench *bench;      /* simulated */
	struct usbx_context *usb;     /* real */
	struct transport *owned[KDEV_HARDWARE_COUNT];   /* real transports (the bench owns the simulated ones) */
	struct cash_unit *cash;
	struct receipt_printer *receipt;
	struct card_issuer *card;
	struct pending_text texts[MAX_PENDING_TEXTS];
};

static void forward_cash(void *user, const struct cash_event *ev)
{
	struct devices *d = user;
	if (d->dc.listeners.on_cash)
		d->dc.listeners.on_cash(d->dc.listeners.user, ev);
}

static char *take_text(struct devices *d, const char *job_id)
{
	for (int i = 0; i < MAX_PENDING_TEXTS; i++) {
		if (d->texts[i].text && strcmp(d->texts[i].job_id, job_id) == 0) {
			char *text = d->texts[i].text;
			d->texts[i].text = NULL;
			return text;
		}
	}
	return NULL;
}

static void forward_receipt(void *user, const struct receipt_event *ev)
{
	struct devices *d = user;
	struct kio_error err;
	if (ev->kind == RECEIPT_EV_PRINTED || ev->kind == RECEIPT_EV_FAILED) {
		char *text = take_text(d, ev->job_id);
		if (d->bench && ev->kind == RECEIPT_EV_PRINTED &&
		    sim_bench_collect_receipt(d->bench, ev->job_id, text, &err) != 0)
			LOG_ERR("receipt %s: %s", ev->job_id, err.msg);
		free(text);
	}
	if (d->dc.listeners.on_receipt)
		d->dc.listeners.on_receipt(d->dc.listeners.user, ev);
}

static void forward_card(void *user, const struct cardprn_event *ev)
{
	struct devices *d = user;
	struct kio_error err;
	if (d->bench && ev->kind == CARDPRN_EV_ISSUED && sim_bench_collect_card(d->bench, ev->card_number, &err) != 0)
		LOG_ERR("card: %s", err.msg);
	if (d->dc.listeners.on_card)
		d->dc.listeners.on_card(d->dc.listeners.user, ev);
}

/* [devices] <name>_usb of a hardware device. */
static const char *usb_id(const struct core_config *cfg, enum kdev dev)
{
	switch (dev) {
	case KDEV_CASH: return cfg->cash_usb;
	case KDEV_RECEIPT: return cfg->receipt_usb;
	case KDEV_CARD: return cfg->card_usb;
	case KDEV_STORE:
	case KDEV_HOST:
	case KDEV_COUNT: break;
	}
	return "";
}

static int open_transports(struct devices *d, struct transport *t[KDEV_HARDWARE_COUNT], struct kio_error *err)
{
	const struct core_config *cfg = d->dc.cfg;
	if (d->dc.simulate) {
		struct sim_bench_config bc = {
			.out_dir = cfg->out_dir,
			.cash_state_path = d->dc.cash_state_path,
			.printer_state_path = d->dc.printer_state_path,
			.cash_encryption = cfg->cash_encryption != 0,
			.cash_fixed_key = cfg->cash_fixed_key,
		};
		int rc = sim_bench_new(core_timers_clock(d->dc.timers), &bc, &d->bench, err);
		if (rc != 0)
			return rc;
		for (int i = 0; i < KDEV_HARDWARE_COUNT; i++)
			t[i] = sim_bench_transport(d->bench, kdev_info((enum kdev)i)->bench);
		return 0;
	}
	int rc = usbx_context_new(&d->usb, err);
	if (rc != 0)
		return rc;
	for (int i = 0; i < KDEV_HARDWARE_COUNT; i++) {
		const char *name = kdev_info((enum kdev)i)->name;
		struct usbx_id id;
		struct kio_error open_err;
		rc = usbx_id_parse(usb_id(cfg, (enum kdev)i), &id, err);
		if (rc != 0)
			return rc;
		/* An absent or busy device is the driver's to report and retry (offline on screen),
		 * not a reason to refuse to start: the transport waits for it. */
		rc = usbx_open(d->usb, &id, name, &d->owned[i], &open_err);
		if (!d->owned[i])
			return kio_fail(err, rc, "%s: %s", name, open_err.msg);
		if (rc != 0)
			LOG_WARN("%s: %s: waiting for the device", name, open_err.msg);
		t[i] = d->owned[i];
	}
	return 0;
}

int devices_check_config(const struct core_config *cfg, struct kio_error *err)
{
	for (int i = 0; i < KDEV_HARDWARE_COUNT; i++) {
		struct usbx_id id;
		struct kio_error why;
		if (usbx_id_parse(usb_id(cfg, (enum kdev)i), &id, &why) != 0) {
			/* file:line: devices.cash_usb: ..., as the loader reports its own faults. */
			char key[48], where[192];
			snprintf(key, sizeof(key), "%s_usb", kdev_info((enum kdev)i)->name);
			core_config_where(cfg, "devices", key, where, sizeof(where));
			return kio_fail(err, KIO_ERR_INVALID, "%s: %s", where, why.msg);
		}
	}
	return 0;
}

int devices_open(const struct devices_config *dc, struct devices **out, struct kio_error *err)
{
	struct devices *d = xcalloc(1, sizeof(*d));
	d->dc = *dc;
	struct transport *t[KDEV_HARDWARE_COUNT] = {0};
	int rc = open_transports(d, t, err);
	if (rc != 0)
		goto out_free;
	for (int i = 0; i < KDEV_HARDWARE_COUNT; i++)
		transport_set_wake(t[i], dc->wake, dc->wake_user);

	struct essp_cash_config cash_cfg;
	essp_cash_config_default(&cash_cfg);
	cash_cfg.encryption = dc->cfg->cash_encryption != 0;
	cash_cfg.fixed_key = dc->cfg->cash_fixed_key;
	rc = essp_cash_new(t[KDEV_CASH], dc->timers, &cash_cfg, dc->journal, &d->cash, err);
	if (rc != 0)
		goto out_free;
	cash_set_listener(d->cash, forward_cash, d);

	struct escpos_receipt_config receipt_cfg;
	escpos_receipt_config_default(&receipt_cfg);
	receipt_cfg.width_dots = dc->cfg->receipt_width_dots;
	rc = escpos_receipt_new(t[KDEV_RECEIPT], dc->timers, &receipt_cfg, &d->receipt, err);
	if (rc != 0)
		goto out_free;
	d->receipt->on_event = forward_receipt;
	d->receipt->on_event_user = d;

	struct evolis_card_config card_cfg;
	evolis_card_config_default(&card_cfg);
	rc = evolis_card_new(t[KDEV_CARD], dc->timers, &card_cfg, &d->card, err);
	if (rc != 0)
		goto out_free;
	d->card->on_event = forward_card;
	d->card->on_event_user = d;

	*out = d;
	return 0;
out_free:
	devices_free(d);
	return rc;
}

void devices_free(struct devices *d)
{
	if (!d)
		return;
	/* Drivers first: they hold the transports. */
	if (d->cash)
		d->cash->ops->destroy(d->cash);
	if (d->receipt)
		d->receipt->ops->destroy(d->receipt);
	if (d->card)
		d->card->ops->destroy(d->card);
	for (int i = 0; i < KDEV_HARDWARE_COUNT; i++)
		transport_free(d->owned[i]);
	usbx_context_free(d->usb);
	sim_bench_free(d->bench);
	for (int i = 0; i < MAX_PENDING_TEXTS; i++)
		free(d->texts[i].text);
	free(d);
}

void devices_service(struct devices *d)
{
	if (d->cash->ops->service)
		d->cash->ops->service(d->cash);
	if (d->receipt->ops->service)
		d->receipt->ops->service(d->receipt);
	if (d->card->ops->service)
		d->card->ops->service(d->card);
}

void devices_status(struct devices *d, enum kdev dev, enum dev_state *state, int *fault)
{
	struct cash_status cs;
	struct receipt_status rs;
	struct cardprn_status ks;
	switch (dev) {
	case KDEV_CASH:
		d->cash->ops->get_status(d->cash, &cs);
		*state = cs.state;
		*fault = (int)cs.fault;
		return;
	case KDEV_RECEIPT:
		d->receipt->ops->get_status(d->receipt, &rs);
		*state = rs.state;
		*fault = (int)rs.fault;
		return;
	case KDEV_CARD:
		d->card->ops->get_status(d->card, &ks);
		*state = ks.state;
		*fault = (int)ks.fault;
		return;
	case KDEV_STORE:
	case KDEV_HOST:
	case KDEV_COUNT: break;
	}
	/* Not hardware: the caller's mistake, shown rather than hidden. */
	*state = DEV_STATE_OFFLINE;
	*fault = 0;
}

struct cash_unit *devices_cash(struct devices *d) { return d->cash; }
struct receipt_printer *devices_receipt(struct devices *d) { return d->receipt; }
struct card_issuer *devices_card(struct devices *d) { return d->card; }
struct sim_bench *devices_bench(struct devices *d) { return d->bench; }

int devices_print_receipt(struct devices *d, const char *job_id, const struct receipt_image *image,
			  const char *text, struct kio_error *err)
{
	int slot = -1;
	for (int i = 0; i < MAX_PENDING_TEXTS && slot < 0; i++)
		if (!d->texts[i].text)
			slot = i;
	if (slot < 0)
		return kio_fail(err, KIO_ERR_BUSY, "receipt %s: %d receipts already waiting", job_id, MAX_PENDING_TEXTS);
	/* Kept before printing: a driver may report the job done before print() returns. */
	snprintf(d->texts[slot].job_id, sizeof(d->texts[slot].job_id), "%s", job_id);
	d->texts[slot].text = xstrdup(text ? text : "");
	int rc = d->receipt->ops->print(d->receipt, job_id, image);
	if (rc != 0) {
		free(take_text(d, job_id));
		return kio_fail(err, rc, "receipt %s: %s", job_id, kio_strerror(rc));
	}
	return 0;
}
