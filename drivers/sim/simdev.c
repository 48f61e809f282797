/*
 * Class-level device simulators. They model what the kiosk observes of each device
 * (events, timing, faults), not its wire protocol; the byte-level models in
 * drivers/sim/<protocol>/ replace them under the protocol drivers.
 */
#define LOG_MODULE "sim"
#include "simdev.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/core/log.h"
#include "kiosk/core/image.h"
#include "kiosk/core/xmalloc.h"

/* Timings of a typical NV200 / thermal printer / card printer, in milliseconds. */
enum {
	ESCROW_TIMEOUT_MS = 10000, /* GA138: the device returns an undecided note after 10 s */
	STACK_MS = 1200,
	PRINT_MS = 1500,
	CARD_MS = 8000,
};

static const int64_t uae_notes_fils[] = {500, 1000, 2000, 5000, 10000, 20000, 50000, 100000};
#define N_NOTES (sizeof(uae_notes_fils) / sizeof(uae_notes_fils[0]))

struct sim_cash {
	struct cash_unit base;
	struct sim_devices *sims;
	bool enabled;
	int64_t accepted[CASH_MAX_DENOMS];
	size_t n_accepted;
	bool escrow_held;
	int64_t escrow_fils;
	uint64_t escrow_timer;
	bool stacking;
	enum cash_fault fault;
	uint32_t counts[N_NOTES];
};

struct sim_receipt {
	struct receipt_printer base;
	struct sim_devices *sims;
	enum receipt_fault fault;
	bool busy;
	struct receipt_event pending;
};

struct sim_card {
	struct card_issuer base;
	struct sim_devices *sims;
	enum cardprn_fault fault;
	bool busy;
	uint32_t issued;
	struct cardprn_event pending;
};

struct sim_devices {
	struct core_timers *timers;
	char *out_dir;
	struct sim_cash cash;
	struct sim_receipt receipt;
	struct sim_card card;
};

/* ---- cash ---- */

static struct sim_cash *to_cash(struct cash_unit *unit) { return (struct sim_cash *)unit; }

static void emit_cash(struct sim_cash *cash, enum cash_event_kind kind, int64_t fils)
{
	struct cash_event ev = {.kind = kind, .value_fils = fils, .fault = cash->fault};
	cash_emit(&cash->base, &ev);
}

static int cash_enable(struct cash_unit *unit, const int64_t *accepted_fils, size_t n)
{
	struct sim_cash *cash = to_cash(unit);
	if (n > CASH_MAX_DENOMS)
		return KIO_ERR_INVALID;
	if (cash->fault != CASH_FAULT_NONE)
		return cash->fault == CASH_FAULT_NO_ANSWER || cash->fault == CASH_FAULT_DISCONNECTED
			       ? KIO_ERR_NO_DEVICE
			       : KIO_ERR_BUSY;
	memcpy(cash->accepted, accepted_fils, n * sizeof(*accepted_fils));
	cash->n_accepted = n;
	cash->enabled = true;
	LOG_DBG("cash: enabled for %zu denominations", n);
	return 0;
}

static int cash_disable(struct cash_unit *unit)
{
	to_cash(unit)->enabled = false;
	return 0;
}

static void on_escrow_timeout(void *user)
{
	struct sim_cash *cash = user;
	cash->escrow_timer = 0;
	if (!cash->escrow_held)
		return;
	LOG_INFO("cash: escrow timed out, returning %lld fils", (long long)cash->escrow_fils);
	cash->escrow_held = false;
	emit_cash(cash, CASH_EV_RETURNED, cash->escrow_fils);
}

static void on_stacked(void *user)
{
	struct sim_cash *cash = user;
	int64_t fils = cash->escrow_fils;
	cash->stacking = false;
	cash->escrow_held = false;
	for (size_t i = 0; i < N_NOTES; i++)
		if (uae_notes_fils[i] == fils)
			cash->counts[i]++;
	/* ITL order: CREDIT (past the point of retrieval), then STACKED. */
	emit_cash(cash, CASH_EV_CREDITED, fils);
	emit_cash(cash, CASH_EV_STACKED, fils);
}

static int cash_escrow_accept(struct cash_unit *unit)
{
	struct sim_cash *cash = to_cash(unit);
	if (!cash->escrow_held || cash->stacking)
		return KIO_ERR_BUSY;
	core_timer_cancel(cash->sims->timers, cash->escrow_timer);
	cash->escrow_timer = 0;
	cash->stacking = true;
	core_timer_add(cash->sims->timers, STACK_MS, on_stacked, cash);
	return 0;
}

static int cash_escrow_return(struct cash_unit *unit)
{
	struct sim_cash *cash = to_cash(unit);
	if (!cash->escrow_held || cash->stacking)
		return KIO_ERR_BUSY;
	core_timer_cancel(cash->sims->timers, cash->escrow_timer);
	cash->escrow_timer = 0;
	cash->escrow_held = false;
	emit_cash(cash, CASH_EV_RETURNED, cash->escrow_fils);
	return 0;
}

static enum dev_state cash_state(const struct sim_cash *cash)
{
	switch (cash->fault) {
	case CASH_FAULT_NONE: return DEV_STATE_OK;
	case CASH_FAULT_NO_ANSWER:
	case CASH_FAULT_DISCONNECTED: return DEV_STATE_OFFLINE;
	default: return DEV_STATE_FAULT;
	}
}

static void cash_get_status(struct cash_unit *unit, struct cash_status *out)
{
	struct sim_cash *cash = to_cash(unit);
	memset(out, 0, sizeof(*out));
	out->state = cash_state(cash);
	out->fault = cash->fault;
	out->enabled = cash->enabled;
	out->escrow_held = cash->escrow_held;
	out->escrow_fils = cash->escrow_held ? cash->escrow_fils : 0;
	out->n_denoms = N_NOTES;
	for (size_t i = 0; i < N_NOTES; i++) {
		out->denoms_fils[i] = uae_notes_fils[i];
		out->counts[i] = cash->counts[i];
	}
}

static void cash_destroy(struct cash_unit *unit) { (void)unit; }

static const struct cash_unit_ops sim_cash_ops = {
	.enable = cash_enable,
	.disable = cash_disable,
	.escrow_accept = cash_escrow_accept,
	.escrow_return = cash_escrow_return,
	.get_status = cash_get_status,
	.destroy = cash_destroy,
};

static bool cash_accepts(const struct sim_cash *cash, int64_t fils)
{
	for (size_t i = 0; i < cash->n_accepted; i++)
		if (cash->accepted[i] == fils)
			return true;
	return false;
}

int sim_insert_note(struct sim_devices *sims, int64_t value_fils)
{
	struct sim_cash *cash = &sims->cash;
	bool known = false;
	for (size_t i = 0; i < N_NOTES; i++)
		known |= uae_notes_fils[i] == value_fils;
	if (!known)
		return KIO_ERR_INVALID;
	if (cash->fault == CASH_FAULT_NO_ANSWER || cash->fault == CASH_FAULT_DISCONNECTED)
		return 0; /* a dead acceptor does not pull the note in: nothing happens */
	if (!cash->enabled || cash->fault != CASH_FAULT_NONE || cash->escrow_held ||
	    !cash_accepts(cash, value_fils)) {
		LOG_INFO("cash: refused %lld fils (enabled=%d fault=%s)", (long long)value_fils, cash->enabled,
			 cash_fault_name(cash->fault));
		emit_cash(cash, CASH_EV_REJECTED, value_fils);
		return 0;
	}
	cash->escrow_held = true;
	cash->escrow_fils = value_fils;
	cash->escrow_timer = core_timer_add(sims->timers, ESCROW_TIMEOUT_MS, on_escrow_timeout, cash);
	emit_cash(cash, CASH_EV_ESCROW, value_fils);
	return 0;
}

int sim_insert_fake_note(struct sim_devices *sims)
{
	struct sim_cash *cash = &sims->cash;
	if (cash->fault == CASH_FAULT_NO_ANSWER || cash->fault == CASH_FAULT_DISCONNECTED)
		return 0;
	emit_cash(cash, CASH_EV_REJECTED, 0);
	return 0;
}

/* ---- receipt printer ---- */

static struct sim_receipt *to_receipt(struct receipt_printer *prn) { return (struct sim_receipt *)prn; }

static void on_printed(void *user)
{
	struct sim_receipt *r = user;
	r->busy = false;
	receipt_emit(&r->base, &r->pending);
}

static int receipt_print(struct receipt_printer *prn, const char *job_id, const struct receipt_image *image)
{
	struct sim_receipt *r = to_receipt(prn);
	if (r->busy)
		return KIO_ERR_BUSY;
	if (r->fault == RECEIPT_FAULT_DISCONNECTED)
		return KIO_ERR_NO_DEVICE;
	memset(&r->pending, 0, sizeof(r->pending));
	snprintf(r->pending.job_id, sizeof(r->pending.job_id), "%s", job_id);
	if (r->fault == RECEIPT_FAULT_PAPER_OUT || r->fault == RECEIPT_FAULT_COVER_OPEN) {
		r->pending.kind = RECEIPT_EV_FAILED;
		r->pending.fault = r->fault;
	} else {
		char *path = xasprintf("%s/receipt-%s.png", r->sims->out_dir, job_id);
		struct kio_error err;
		int rc = core_png_write_ink(path, image->width, image->height, image->stride, image->bits, &err);
		free(path);
		if (rc) {
			LOG_ERR("receipt: %s", err.msg);
			r->pending.kind = RECEIPT_EV_FAILED;
		} else {
			r->pending.kind = RECEIPT_EV_PRINTED;
		}
	}
	r->busy = true;
	core_timer_add(r->sims->timers, PRINT_MS, on_printed, r);
	return 0;
}

static void receipt_get_status(struct receipt_printer *prn, struct receipt_status *out)
{
	struct sim_receipt *r = to_receipt(prn);
	out->fault = r->fault;
	out->width_dots = 576;
	switch (r->fault) {
	case RECEIPT_FAULT_NONE: out->state = DEV_STATE_OK; break;
	case RECEIPT_FAULT_PAPER_NEAR_END: out->state = DEV_STATE_WARNING; break;
	case RECEIPT_FAULT_DISCONNECTED: out->state = DEV_STATE_OFFLINE; break;
	default: out->state = DEV_STATE_FAULT; break;
	}
}

static void receipt_destroy(struct receipt_printer *prn) { (void)prn; }

static const struct receipt_printer_ops sim_receipt_ops = {
	.print = receipt_print,
	.get_status = receipt_get_status,
	.destroy = receipt_destroy,
};

/* ---- card issuer ---- */

static struct sim_card *to_card(struct card_issuer *iss) { return (struct sim_card *)iss; }

static void on_card_done(void *user)
{
	struct sim_card *c = user;
	c->busy = false;
	cardprn_emit(&c->base, &c->pending);
}

static int card_issue(struct card_issuer *iss, const char *card_number, const struct cardprn_image *front)
{
	struct sim_card *c = to_card(iss);
	if (c->busy)
		return KIO_ERR_BUSY;
	if (c->fault == CARDPRN_FAULT_DISCONNECTED)
		return KIO_ERR_NO_DEVICE;
	memset(&c->pending, 0, sizeof(c->pending));
	snprintf(c->pending.card_number, sizeof(c->pending.card_number), "%s", card_number);
	if (c->fault != CARDPRN_FAULT_NONE && c->fault != CARDPRN_FAULT_RIBBON_LOW) {
		c->pending.kind = CARDPRN_EV_FAILED;
		c->pending.fault = c->fault;
	} else {
		char *path = xasprintf("%s/card-%s.png", c->sims->out_dir, card_number);
		struct kio_error err;
		int rc = core_png_write_rgba(path, front->width, front->height, front->stride, front->rgba, &err);
		free(path);
		if (rc) {
			LOG_ERR("card: %s", err.msg);
			c->pending.kind = CARDPRN_EV_FAILED;
		} else {
			c->pending.kind = CARDPRN_EV_ISSUED;
			c->issued++;
		}
	}
	c->busy = true;
	core_timer_add(c->sims->timers, CARD_MS, on_card_done, c);
	return 0;
}

static void card_get_status(struct card_issuer *iss, struct cardprn_status *out)
{
	struct sim_card *c = to_card(iss);
	out->fault = c->fault;
	out->cards_issued = c->issued;
	switch (c->fault) {
	case CARDPRN_FAULT_NONE: out->state = DEV_STATE_OK; break;
	case CARDPRN_FAULT_RIBBON_LOW: out->state = DEV_STATE_WARNING; break;
	case CARDPRN_FAULT_DISCONNECTED: out->state = DEV_STATE_OFFLINE; break;
	default: out->state = DEV_STATE_FAULT; break;
	}
}

static void card_destroy(struct card_issuer *iss) { (void)iss; }

static const struct card_issuer_ops sim_card_ops = {
	.issue = card_issue,
	.get_status = card_get_status,
	.destroy = card_destroy,
};

/* ---- the set and its test port ---- */

struct sim_devices *sim_devices_new(struct core_timers *timers, const char *out_dir)
{
	struct sim_devices *sims = xcalloc(1, sizeof(*sims));
	sims->timers = timers;
	sims->out_dir = xstrdup(out_dir);
	sims->cash = (struct sim_cash){.base = {.ops = &sim_cash_ops, .name = "cash"}, .sims = sims};
	sims->receipt = (struct sim_receipt){.base = {.ops = &sim_receipt_ops, .name = "receipt"}, .sims = sims};
	sims->card = (struct sim_card){.base = {.ops = &sim_card_ops, .name = "card"}, .sims = sims};
	return sims;
}

void sim_devices_free(struct sim_devices *sims)
{
	if (!sims)
		return;
	free(sims->out_dir);
	free(sims);
}

struct cash_unit *sim_devices_cash(struct sim_devices *sims) { return &sims->cash.base; }
struct receipt_printer *sim_devices_receipt(struct sim_devices *sims) { return &sims->receipt.base; }
struct card_issuer *sim_devices_card(struct sim_devices *sims) { return &sims->card.base; }

static const char *const device_names[SIM_DEV_COUNT] = {"cash", "receipt", "card"};

int sim_device_parse(const char *name, enum sim_device *out)
{
	for (int i = 0; i < SIM_DEV_COUNT; i++) {
		if (strcmp(name, device_names[i]) == 0) {
			*out = (enum sim_device)i;
			return 0;
		}
	}
	return KIO_ERR_INVALID;
}

const char *sim_device_name(enum sim_device dev)
{
	return (unsigned)dev < SIM_DEV_COUNT ? device_names[dev] : "?";
}

/* The fault kinds of the scenario language, per device (issue: device drivers). */
static const int cash_kinds[] = {CASH_FAULT_JAM, CASH_FAULT_STACKER_FULL, CASH_FAULT_CASHBOX_REMOVED,
				 CASH_FAULT_FRAUD, CASH_FAULT_NO_ANSWER, CASH_FAULT_DISCONNECTED, -1};
static const int receipt_kinds[] = {RECEIPT_FAULT_PAPER_NEAR_END, RECEIPT_FAULT_PAPER_OUT,
				    RECEIPT_FAULT_COVER_OPEN, RECEIPT_FAULT_DISCONNECTED, -1};
static const int card_kinds[] = {CARDPRN_FAULT_FEEDER_EMPTY, CARDPRN_FAULT_RIBBON_OUT, CARDPRN_FAULT_JAM,
				 CARDPRN_FAULT_DISCONNECTED, -1};

static const char *fault_name(enum sim_device dev, int fault)
{
	switch (dev) {
	case SIM_DEV_CASH: return cash_fault_name((enum cash_fault)fault);
	case SIM_DEV_RECEIPT: return receipt_fault_name((enum receipt_fault)fault);
	default: return cardprn_fault_name((enum cardprn_fault)fault);
	}
}

static const int *kinds_of(enum sim_device dev)
{
	return dev == SIM_DEV_CASH ? cash_kinds : dev == SIM_DEV_RECEIPT ? receipt_kinds : card_kinds;
}

int sim_fault_parse(enum sim_device dev, const char *kind, int *fault_out)
{
	for (const int *k = kinds_of(dev); *k >= 0; k++) {
		if (strcmp(fault_name(dev, *k), kind) == 0) {
			*fault_out = *k;
			return 0;
		}
	}
	return KIO_ERR_INVALID;
}

const char *sim_fault_kinds(enum sim_device dev)
{
	static char buf[SIM_DEV_COUNT][128];
	char *out = buf[dev];
	out[0] = '\0';
	for (const int *k = kinds_of(dev); *k >= 0; k++) {
		if (out[0])
			strcat(out, " ");
		strcat(out, fault_name(dev, *k));
	}
	return out;
}

int sim_fault_set(struct sim_devices *sims, enum sim_device dev, int fault)
{
	switch (dev) {
	case SIM_DEV_CASH: {
		struct sim_cash *cash = &sims->cash;
		cash->fault = (enum cash_fault)fault;
		cash->enabled = false;
		struct cash_event ev = {.kind = CASH_EV_FAULT, .fault = cash->fault};
		cash_emit(&cash->base, &ev);
		break;
	}
	case SIM_DEV_RECEIPT: {
		sims->receipt.fault = (enum receipt_fault)fault;
		struct receipt_event ev = {.kind = RECEIPT_EV_FAULT, .fault = sims->receipt.fault};
		receipt_emit(&sims->receipt.base, &ev);
		break;
	}
	case SIM_DEV_CARD: {
		sims->card.fault = (enum cardprn_fault)fault;
		struct cardprn_event ev = {.kind = CARDPRN_EV_FAULT, .fault = sims->card.fault};
		cardprn_emit(&sims->card.base, &ev);
		break;
	}
	default: return KIO_ERR_INVALID;
	}
	LOG_INFO("%s: fault %s injected", sim_device_name(dev), fault_name(dev, fault));
	return 0;
}

int sim_fault_clear(struct sim_devices *sims, enum sim_device dev)
{
	switch (dev) {
	case SIM_DEV_CASH: {
		struct sim_cash *cash = &sims->cash;
		struct cash_event ev = {.kind = CASH_EV_RECOVERED, .fault = cash->fault};
		cash->fault = CASH_FAULT_NONE;
		cash_emit(&cash->base, &ev);
		break;
	}
	case SIM_DEV_RECEIPT: {
		struct receipt_event ev = {.kind = RECEIPT_EV_RECOVERED, .fault = sims->receipt.fault};
		sims->receipt.fault = RECEIPT_FAULT_NONE;
		receipt_emit(&sims->receipt.base, &ev);
		break;
	}
	case SIM_DEV_CARD: {
		struct cardprn_event ev = {.kind = CARDPRN_EV_RECOVERED, .fault = sims->card.fault};
		sims->card.fault = CARDPRN_FAULT_NONE;
		cardprn_emit(&sims->card.base, &ev);
		break;
	}
	default: return KIO_ERR_INVALID;
	}
	LOG_INFO("%s: faults cleared", sim_device_name(dev));
	return 0;
}
