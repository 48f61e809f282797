/* The simulated devices on the bench: models, their transports, faults by name, output files. */
#include "drivers/sim/bench.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_MODULE "sim-bench"
#include "drivers/sim/escpos/sim-escpos.h"
#include "drivers/sim/essp/sim-essp.h"
#include "drivers/sim/evolis/sim-evolis.h"
#include "drivers/sim/model.h"
#include "drivers/transport/transport-sim.h"
#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"

/* GA138 reject code 0x02 (validation fail): what a photocopy or foreign note gets. */
#define FAKE_NOTE_REJECT 0x02

struct sim_bench {
	const struct core_clock *clock;
	char *out_dir;
	char *cash_state_path;
	char *cash_spare_path; /* <cash_state_path>.tmp: the next text goes here, then is swapped in */
	bool cash_no_exchange; /* the file system refused RENAME_EXCHANGE: rename over, as before */
	char *printer_state_path;
	/* The printers' raised faults as a bit per fault, last written to printer_state_path. */
	uint32_t printer_saved[SIM_BENCH_DEV_COUNT];
	bool printer_saved_valid;
	struct sim_essp_config essp_cfg;
	struct sim_essp *essp;
	struct sim_essp_memory cash_saved; /* the validator state last written to cash_state_path */
	bool cash_saved_valid;
	struct sim_model essp_inner;  /* the model's own adapter, wrapped by persisting_ops */
	struct sim_escpos *escpos;
	struct sim_evolis *evolis;
	struct sim_model models[SIM_BENCH_DEV_COUNT];
	struct transport *transports[SIM_BENCH_DEV_COUNT];
	size_t receipts_collected;
	size_t cards_collected;
};

/* what: "validator", "printer", for the messages. */
static char *read_file(const char *path, const char *what, struct kio_error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (errno != ENOENT)
			kio_fail(err, KIO_ERR_IO, "%s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 4096, len = 0;
	char *text = xmalloc(cap);
	size_t n;
	while ((n = fread(text + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len - 1 == 0) {
			if (cap >= (1u << 20)) {
				fclose(f);
				free(text);
				kio_fail(err, KIO_ERR_CORRUPT, "%s: larger than any saved %s state", path, what);
				return NULL;
			}
			cap *= 2;
			text = xrealloc(text, cap);
		}
	}
	text[len] = '\0';
	fclose(f);
	/* The model reads a C string: a NUL would hide everything after it from the check that
	 * the whole file is a state the model wrote. */
	if (memchr(text, '\0', len)) {
		kio_fail(err, KIO_ERR_CORRUPT, "%s: a NUL byte at offset %zu: not a saved %s state", path,
			 (size_t)((char *)memchr(text, '\0', len) - text), what);
		free(text);
		return NULL;
	}
	return text;
}

static int new_essp(struct sim_bench *b, struct kio_error *err)
{
	uint64_t now = core_clock_now_ms(b->clock);
	struct kio_error read_err = {0};
	char *saved = b->cash_state_path ? read_file(b->cash_state_path, "validator", &read_err) : NULL;
	if (read_err.code)
		return kio_fail(err, read_err.code, "%s", read_err.msg);
	if (saved) {
		struct kio_error model_err;
		b->essp = sim_essp_new_from_state(&b->essp_cfg, saved, now, &model_err);
		free(saved);
		if (!b->essp)
			return kio_fail(err, KIO_ERR_CORRUPT, "%s: %s", b->cash_state_path, model_err.msg);
		LOG_INFO("cash: validator state restored from %s", b->cash_state_path);
		return 0;
	}
	b->essp = sim_essp_new(&b->essp_cfg, now, err);
	return b->essp ? 0 : err->code;
}

/*
 * The validator's memory goes to disk the moment it changes, inside the write or tick that
 * changed it, so before the driver can read the reply: a kiosk killed at any point then
 * restarts against the device as it really was, as with hardware that keeps its own state.
 * Comparing a snapshot of the memory (not its text: formatting that on every poll was most of
 * what a virtual day cost) means no work on the polls that change nothing. A failed write
 * leaves the old snapshot, so the next exchange tries again.
 */
static void persist_cash(struct sim_bench *b)
{
	if (!b->cash_state_path)
		return;
	struct sim_essp_memory now;
	sim_essp_memory_get(b->essp, &now);
	if (b->cash_saved_valid && memcmp(&now, &b->cash_saved, sizeof(now)) == 0)
		return;
	struct kio_error err;
	if (sim_bench_save_cash_state(b, &err) != 0) {
		LOG_ERR("%s", err.msg);
		return;
	}
	memcpy(&b->cash_saved, &now, sizeof(now));
	b->cash_saved_valid = true;
}

static int persisting_write(void *dev, const uint8_t *buf, size_t len, size_t *accepted, uint64_t now_ms)
{
	struct sim_bench *b = dev;
	int rc = b->essp_inner.ops->write(b->essp_inner.dev, buf, len, accepted, now_ms);
	persist_cash(b);
	return rc;
}

static size_t persisting_read(void *dev, uint8_t *buf, size_t cap, uint64_t now_ms)
{
	struct sim_bench *b = dev;
	size_t n = b->essp_inner.ops->read(b->essp_inner.dev, buf, cap, now_ms);
	persist_cash(b); /* time may have moved the note (the escrow timeout) */
	return n;
}

static void persisting_tick(void *dev, uint64_t now_ms)
{
	struct sim_bench *b = dev;
	b->essp_inner.ops->tick(b->essp_inner.dev, now_ms);
	persist_cash(b);
}

static bool persisting_connected(const void *dev)
{
	const struct sim_bench *b = dev;
	return b->essp_inner.ops->connected(b->essp_inner.dev);
}

static const struct sim_model_ops persisting_ops = {
	.write = persisting_write,
	.read = persisting_read,
	.tick = persisting_tick,
	.connected = persisting_connected,
};

/* ---- the printers' faults across a restart ----
 *
 * The file is one line per printer that has a fault raised: its name and its faults' names,
 * `receipt paper-out cover-open`. Written (then renamed over the old one) whenever the set
 * changes, by the tester's hands only: the models raise no fault by themselves.
 */
static const enum sim_bench_dev printers[] = {SIM_BENCH_RECEIPT, SIM_BENCH_CARD};
static const char *const device_names[SIM_BENCH_DEV_COUNT] = {"cash", "receipt", "card"};
static int write_text(const char *path, const char *text, struct kio_error *err);
static int fault_count(enum sim_bench_dev dev);
static const char *fault_name(enum sim_bench_dev dev, int fault);
static bool fault_on(const struct sim_bench *b, enum sim_bench_dev dev, int fault);

static uint32_t raised_faults(const struct sim_bench *b, enum sim_bench_dev dev)
{
	uint32_t mask = 0;
	for (int f = 0; f < fault_count(dev); f++)
		if (fault_on(b, dev, f))
			mask |= 1u << f;
	return mask;
}

static void persist_printers(struct sim_bench *b)
{
	if (!b->printer_state_path)
		return;
	uint32_t now[SIM_BENCH_DEV_COUNT] = {0};
	for (size_t i = 0; i < sizeof(printers) / sizeof(printers[0]); i++)
		now[printers[i]] = raised_faults(b, printers[i]);
	if (b->printer_saved_valid && memcmp(now, b->printer_saved, sizeof(now)) == 0)
		return;
	/* Every fault of both printers is under 200 bytes: the lengths below never pass the end. */
	char text[512] = "";
	size_t len = 0;
	for (size_t i = 0; i < sizeof(printers) / sizeof(printers[0]); i++) {
		enum sim_bench_dev dev = printers[i];
		if (!now[dev])
			continue;
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s", device_names[dev]);
		for (int f = 0; f < fault_count(dev); f++)
			if (now[dev] & (1u << f))
				len += (size_t)snprintf(text + len, sizeof(text) - len, " %s", fault_name(dev, f));
		len += (size_t)snprintf(text + len, sizeof(text) - len, "\n");
	}
	struct kio_error err;
	char *tmp = xasprintf("%s.tmp", b->printer_state_path);
	int rc = write_text(tmp, text, &err);
	if (rc == 0 && rename(tmp, b->printer_state_path) != 0)
		rc = kio_fail(&err, KIO_ERR_IO, "%s: %s", b->printer_state_path, strerror(errno));
	free(tmp);
	/* A failed write leaves the old snapshot: the next change tries again. */
	if (rc != 0) {
		LOG_ERR("%s", err.msg);
		return;
	}
	memcpy(b->printer_saved, now, sizeof(now));
	b->printer_saved_valid = true;
}

/* Raises the faults the file names on the fresh printer models; none without a file. */
static int load_printers(struct sim_bench *b, struct kio_error *err)
{
	struct kio_error read_err = {0};
	char *text = b->printer_state_path ? read_file(b->printer_state_path, "printer", &read_err) : NULL;
	if (read_err.code)
		return kio_fail(err, read_err.code, "%s", read_err.msg);
	if (!text)
		return 0;
	int rc = 0, line = 0;
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l && rc == 0; l = strtok_r(NULL, "\n", &save)) {
		line++;
		char *words = NULL;
		char *name = strtok_r(l, " ", &words);
		enum sim_bench_dev dev = SIM_BENCH_DEV_COUNT;
		if (!name || sim_bench_device_parse(name, &dev) != 0 || dev == SIM_BENCH_CASH) {
			rc = kio_fail(err, KIO_ERR_CORRUPT, "%s:%d: not a printer: '%s'", b->printer_state_path, line,
				      name ? name : "");
			break;
		}
		for (char *w = strtok_r(NULL, " ", &words); w; w = strtok_r(NULL, " ", &words)) {
			int fault;
			if (sim_bench_fault_parse(dev, w, &fault) != 0) {
				rc = kio_fail(err, KIO_ERR_CORRUPT, "%s:%d: not a %s fault: '%s'", b->printer_state_path,
					      line, name, w);
				break;
			}
			if (dev == SIM_BENCH_RECEIPT)
				sim_escpos_fault_set(b->escpos, (enum sim_escpos_fault)fault, true);
			else
				sim_evolis_fault_set(b->evolis, (enum sim_evolis_fault)fault, true);
		}
	}
	free(text);
	if (rc == 0)
		LOG_INFO("printers: faults restored from %s", b->printer_state_path);
	return rc;
}

int sim_bench_new(const struct core_clock *clock, const struct sim_bench_config *cfg,
		  struct sim_bench **out, struct kio_error *err)
{
	struct sim_bench *b = xcalloc(1, sizeof(*b));
	b->clock = clock;
	b->out_dir = xstrdup(cfg->out_dir ? cfg->out_dir : ".");
	b->cash_state_path = cfg->cash_state_path ? xstrdup(cfg->cash_state_path) : NULL;
	b->cash_spare_path = cfg->cash_state_path ? xasprintf("%s.tmp", cfg->cash_state_path) : NULL;
	sim_essp_config_default(&b->essp_cfg);
	b->essp_cfg.encryption = cfg->cash_encryption;
	if (cfg->cash_encryption)
		b->essp_cfg.fixed_key = cfg->cash_fixed_key;
	b->printer_state_path = cfg->printer_state_path ? xstrdup(cfg->printer_state_path) : NULL;
	int rc = new_essp(b, err);
	if (rc == 0)
		rc = sim_escpos_new(NULL, &b->escpos, err);
	if (rc == 0)
		rc = sim_evolis_new(NULL, &b->evolis, err);
	if (rc == 0)
		rc = load_printers(b, err);
	if (rc != 0) {
		/* Never overwrite a state file we could not read. */
		free(b->cash_state_path);
		b->cash_state_path = NULL;
		free(b->printer_state_path);
		b->printer_state_path = NULL;
		sim_bench_free(b);
		return rc;
	}
	/* What the file said is what the printers have: nothing to write until it changes. */
	for (size_t i = 0; i < sizeof(printers) / sizeof(printers[0]); i++)
		b->printer_saved[printers[i]] = raised_faults(b, printers[i]);
	b->printer_saved_valid = true;
	sim_model_essp(&b->essp_inner, b->essp);
	b->models[SIM_BENCH_CASH] = (struct sim_model){&persisting_ops, b, "essp"};
	persist_cash(b);
	sim_model_escpos(&b->models[SIM_BENCH_RECEIPT], b->escpos);
	sim_model_evolis(&b->models[SIM_BENCH_CARD], b->evolis);
	for (int d = 0; d < SIM_BENCH_DEV_COUNT; d++)
		b->transports[d] = transport_sim_new(sim_bench_device_name(d), &b->models[d], clock);
	*out = b;
	return 0;
}

void sim_bench_free(struct sim_bench *b)
{
	if (!b)
		return;
	/* The file already holds what the model holds unless a save failed (then try once more). */
	if (b->essp)
		persist_cash(b);
	free(b->cash_spare_path);
	for (int d = 0; d < SIM_BENCH_DEV_COUNT; d++)
		transport_free(b->transports[d]);
	sim_essp_free(b->essp);
	sim_escpos_free(b->escpos);
	sim_evolis_free(b->evolis);
	free(b->cash_state_path);
	free(b->printer_state_path);
	free(b->out_dir);
	free(b);
}

struct transport *sim_bench_transport(struct sim_bench *b, enum sim_bench_dev dev)
{
	return (unsigned)dev < SIM_BENCH_DEV_COUNT ? b->transports[dev] : NULL;
}

int sim_bench_device_parse(const char *name, enum sim_bench_dev *out)
{
	for (int d = 0; d < SIM_BENCH_DEV_COUNT; d++) {
		if (strcmp(name, device_names[d]) == 0) {
			*out = (enum sim_bench_dev)d;
			return 0;
		}
	}
	return KIO_ERR_INVALID;
}

const char *sim_bench_device_name(enum sim_bench_dev dev)
{
	return (unsigned)dev < SIM_BENCH_DEV_COUNT ? device_names[dev] : "?";
}

static int fault_count(enum sim_bench_dev dev)
{
	switch (dev) {
	case SIM_BENCH_CASH: return SIM_ESSP_FAULT_COUNT;
	case SIM_BENCH_RECEIPT: return SIM_ESCPOS_FAULT_COUNT;
	case SIM_BENCH_CARD: return SIM_EVOLIS_FAULT_COUNT;
	default: return 0;
	}
}

static const char *fault_name(enum sim_bench_dev dev, int fault)
{
	switch (dev) {
	case SIM_BENCH_CASH: return sim_essp_fault_name((enum sim_essp_fault)fault);
	case SIM_BENCH_RECEIPT: return sim_escpos_fault_name((enum sim_escpos_fault)fault);
	case SIM_BENCH_CARD: return sim_evolis_fault_name((enum sim_evolis_fault)fault);
	default: return "?";
	}
}

int sim_bench_fault_parse(enum sim_bench_dev dev, const char *kind, int *fault_out)
{
	for (int f = 0; f < fault_count(dev); f++) {
		if (strcmp(fault_name(dev, f), kind) == 0) {
			*fault_out = f;
			return 0;
		}
	}
	return KIO_ERR_INVALID;
}

const char *sim_bench_fault_kinds(enum sim_bench_dev dev)
{
	static char lists[SIM_BENCH_DEV_COUNT][160];
	if ((unsigned)dev >= SIM_BENCH_DEV_COUNT)
		return "";
	char *out = lists[dev];
	size_t len = 0;
	out[0] = '\0';
	for (int f = 0; f < fault_count(dev); f++) {
		int n = snprintf(out + len, sizeof(lists[dev]) - len, "%s%s", len ? " " : "", fault_name(dev, f));
		if (n < 0 || (size_t)n >= sizeof(lists[dev]) - len)
			break;
		len += (size_t)n;
	}
	return out;
}

int sim_bench_fault(struct sim_bench *b, enum sim_bench_dev dev, int fault, bool on)
{
	if ((unsigned)dev >= SIM_BENCH_DEV_COUNT || fault < 0 || fault >= fault_count(dev))
		return KIO_ERR_INVALID;
	switch (dev) {
	case SIM_BENCH_CASH:
		sim_essp_set_fault(b->essp, (enum sim_essp_fault)fault, on);
		/* With no note in the path, act the fault out the way it happens at a kiosk whose
		 * acceptor is idle: debris blocks the path; someone fishes at the bezel. (With a note
		 * in the path the model jams or flags that note itself.) */
		if (on && fault == SIM_ESSP_FAULT_JAM)
			sim_essp_obstruct(b->essp);
		if (on && fault == SIM_ESSP_FAULT_FRAUD)
			sim_essp_fraud_attempt(b->essp);
		break;
	case SIM_BENCH_RECEIPT: sim_escpos_fault_set(b->escpos, (enum sim_escpos_fault)fault, on); break;
	case SIM_BENCH_CARD: sim_evolis_fault_set(b->evolis, (enum sim_evolis_fault)fault, on); break;
	default: break;
	}
	LOG_INFO("%s: %s %s", device_names[dev], fault_name(dev, fault), on ? "raised" : "cleared");
	if (dev == SIM_BENCH_CASH)
		persist_cash(b);
	else
		persist_printers(b);
	transport_sim_notify(b->transports[dev]);
	return 0;
}

static bool fault_on(const struct sim_bench *b, enum sim_bench_dev dev, int fault)
{
	switch (dev) {
	case SIM_BENCH_CASH: return sim_essp_fault(b->essp, (enum sim_essp_fault)fault);
	case SIM_BENCH_RECEIPT: return sim_escpos_fault_get(b->escpos, (enum sim_escpos_fault)fault);
	case SIM_BENCH_CARD: return sim_evolis_fault_get(b->evolis, (enum sim_evolis_fault)fault);
	default: return false;
	}
}

int sim_bench_clear_all(struct sim_bench *b, enum sim_bench_dev dev)
{
	if ((unsigned)dev >= SIM_BENCH_DEV_COUNT)
		return KIO_ERR_INVALID;
	bool any = false;
	for (int f = 0; f < fault_count(dev); f++) {
		if (fault_on(b, dev, f)) {
			sim_bench_fault(b, dev, f, false);
			any = true;
		}
	}
	/* A technician clears a validator jam or empties a full box with the unit opened, which
	 * powers it down; the latches (unsafe jam, stacker full) clear only at power-up (GA973). */
	if (dev == SIM_BENCH_CASH && any) {
		sim_essp_power_cycle(b->essp, core_clock_now_ms(b->clock));
		persist_cash(b);
		transport_sim_notify(b->transports[dev]);
	}
	return 0;
}

int sim_bench_insert_note(struct sim_bench *b, int64_t value_fils)
{
	int rc = sim_essp_insert_note(b->essp, value_fils);
	if (rc == 0) {
		persist_cash(b);
		transport_sim_notify(b->transports[SIM_BENCH_CASH]);
	}
	return rc;
}

int sim_bench_hold_note(struct sim_bench *b, int64_t value_fils)
{
	int rc = sim_essp_hold_note(b->essp, value_fils);
	if (rc == 0) {
		persist_cash(b);
		transport_sim_notify(b->transports[SIM_BENCH_CASH]);
	}
	return rc;
}

int sim_bench_release_note(struct sim_bench *b)
{
	int rc = sim_essp_release_note(b->essp);
	if (rc == 0)
		transport_sim_notify(b->transports[SIM_BENCH_CASH]);
	return rc;
}

int sim_bench_insert_fake(struct sim_bench *b)
{
	int rc = sim_essp_insert_fake(b->essp, FAKE_NOTE_REJECT);
	if (rc == 0) {
		persist_cash(b);
		transport_sim_notify(b->transports[SIM_BENCH_CASH]);
	}
	return rc;
}

/* Job ids and card numbers become file names: nothing that could leave the folder. */
static bool safe_name(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return false;
	for (const char *p = s; *p; p++) {
		char c = *p;
		bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' ||
			  c == '_';
		if (!ok)
			return false;
	}
	return true;
}

static int write_text(const char *path, const char *text, struct kio_error *err)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return kio_fail(err, KIO_ERR_IO, "%s: %s", path, strerror(errno));
	size_t len = strlen(text);
	bool ok = fwrite(text, 1, len, f) == len;
	if (fclose(f) != 0)
		ok = false;
	return ok ? 0 : kio_fail(err, KIO_ERR_IO, "%s: write failed", path);
}

int sim_bench_collect_receipt(struct sim_bench *b, const char *job_id, const char *text,
			      struct kio_error *err)
{
	if (!safe_name(job_id))
		return kio_fail(err, KIO_ERR_INVALID, "receipt job id '%s' is not a safe file name",
				job_id ? job_id : "");
	if (b->receipts_collected >= sim_escpos_receipt_count(b->escpos))
		return kio_fail(err, KIO_ERR_NOT_FOUND, "receipt %s: the printer cut no new receipt", job_id);
	const struct sim_escpos_page *page = sim_escpos_receipt(b->escpos, b->receipts_collected);
	char *path = xasprintf("%s/receipt-%s.png", b->out_dir, job_id);
	int rc = sim_escpos_page_write_png(page, path, err);
	free(path);
	if (rc == 0 && text) {
		path = xasprintf("%s/receipt-%s.txt", b->out_dir, job_id);
		rc = write_text(path, text, err);
		free(path);
	}
	if (rc == 0) {
		/* Filed: the model need not keep it (a long headless run grew by every receipt). */
		sim_escpos_receipt_release(b->escpos, b->receipts_collected);
		b->receipts_collected++;
	}
	return rc;
}

size_t sim_bench_pages_held(const struct sim_bench *b)
{
	size_t n = 0;
	for (size_t i = 0; i < sim_escpos_receipt_count(b->escpos); i++)
		n += sim_escpos_receipt(b->escpos, i) != NULL;
	for (size_t i = 0; i < sim_evolis_card_count(b->evolis); i++)
		n += sim_evolis_card(b->evolis, i) != NULL;
	return n;
}

int sim_bench_collect_card(struct sim_bench *b, const char *card_number, struct kio_error *err)
{
	if (!safe_name(card_number))
		return kio_fail(err, KIO_ERR_INVALID, "card number is not a safe file name");
	const struct sim_evolis_card *card = NULL;
	size_t index = 0;
	while (b->cards_collected < sim_evolis_card_count(b->evolis)) {
		index = b->cards_collected++;
		card = sim_evolis_card(b->evolis, index);
		if (card && !card->rejected)
			break;
		sim_evolis_card_release(b->evolis, index); /* rejected: nothing to file */
		card = NULL;
	}
	if (!card)
		return kio_fail(err, KIO_ERR_NOT_FOUND, "card: the printer ejected no new card");
	char *path = xasprintf("%s/card-%s.png", b->out_dir, card_number);
	int rc = sim_evolis_card_write_png(card, path, err);
	free(path);
	if (rc == 0) {
		char *text = xasprintf("track2=%s\n", card->encoded ? card->track2 : "");
		path = xasprintf("%s/card-%s.txt", b->out_dir, card_number);
		rc = write_text(path, text, err);
		free(path);
		free(text);
	}
	if (rc == 0)
		sim_evolis_card_release(b->evolis, index); /* filed, as receipts are */
	return rc;
}

/*
 * The validator's memory file is replaced whole in one step, so a kill at any point leaves
 * the old text or the new, never part of one; it is never synced (a process kill, not a
 * power cut, is what the crash suites model: the page cache survives it).
 *
 * It is replaced a dozen times per top-up. A new file renamed over the old cost ext4 a new
 * inode, the old one's blocks freed (and discarded) and a writeback of the new data forced
 * by the rename (its replace-by-rename heuristic, auto_da_alloc): a tenth of a headless
 * top-up's CPU (README: Benchmarks). Instead two files take turns: the text is written into
 * the spare <path>.tmp, then renameat2(RENAME_EXCHANGE) swaps the two names atomically and
 * the old text becomes the next spare, inode and block kept. Where the file system cannot
 * exchange (or there is no file yet to exchange with) the spare is renamed over, as before.
 */
static int write_all(int fd, const char *text, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pwrite(fd, text + done, len - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			errno = EIO; /* no progress and no error: never loop on it */
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return ftruncate(fd, (off_t)len);
}

static int replace_cash_file(struct sim_bench *b, const char *text, struct kio_error *err)
{
	/* Opened by name each time (no O_TRUNC: the blocks stay), so whatever now stands at the
	 * spare's name is what gets written or refused, never an inode we remember. */
	int fd = open(b->cash_spare_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
	if (fd < 0)
		return kio_fail(err, KIO_ERR_IO, "%s: %s", b->cash_spare_path, strerror(errno));
	int rc = write_all(fd, text, strlen(text));
	int e = errno;
	if (close(fd) != 0 && rc == 0) {
		rc = -1;
		e = errno;
	}
	if (rc != 0)
		return kio_fail(err, KIO_ERR_IO, "%s: write failed: %s", b->cash_spare_path, strerror(e));
	if (!b->cash_no_exchange) {
		if (renameat2(AT_FDCWD, b->cash_spare_path, AT_FDCWD, b->cash_state_path, RENAME_EXCHANGE) == 0)
			return 0;
		if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)
			b->cash_no_exchange = true;
		else if (errno != ENOENT) /* ENOENT: no file yet, the first save renames */
			return kio_fail(err, KIO_ERR_IO, "%s: %s", b->cash_state_path, strerror(errno));
	}
	if (rename(b->cash_spare_path, b->cash_state_path) != 0)
		return kio_fail(err, KIO_ERR_IO, "%s: %s", b->cash_state_path, strerror(errno));
	return 0;
}

int sim_bench_save_cash_state(struct sim_bench *b, struct kio_error *err)
{
	if (!b->cash_state_path)
		return 0;
	char *text = sim_essp_save(b->essp);
	int rc = replace_cash_file(b, text, err);
	free(text);
	return rc;
}
