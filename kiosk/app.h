/*
 * The kiosk application: owns the configuration, clock, timers, catalogues, display,
 * database and devices, runs the event loop, and gives screens the narrow API below.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/class/device.h"
#include "kiosk/core/config.h"
#include "kiosk/core/i18n.h"
#include "kiosk/screens/screen.h"
#include "kiosk/ui/display.h"

struct app;
struct core_clock;
struct catalogue;
struct ledger;
struct sync;

struct app_options {
	enum ui_display_mode mode;
	bool simulate;
	const char *config_path;   /* NULL: built-in defaults */
	const char *script_path;   /* NULL: interactive */
	const char *out_dir;       /* overrides paths.out_dir */
	const char *db_path;       /* overrides paths.db */
	const char *lang;          /* overrides kiosk.default_language */
	const char *startup_report; /* write the first-frame time here (bench/startup) */
	/* With the test port, set by the scenario supervisor (kiosk/scenario/supervise.h): its
	 * pipe for `power-cut` (-1: none), and what the process before a power-cut carried over
	 * (NULL on the first). */
	int carry_fd;
	const void *carry;
	size_t carry_len;
};

/* Runs the kiosk until it is asked to stop or its scenario ends; returns the exit status
 * (0 ok, 1 a scenario expectation failed, 2 bad input, 3 a start-up fault). */
int app_run(const struct app_options *opts);

/* ---- for screens ---- */

enum lang app_lang(const struct app *app);
void app_set_lang(struct app *app, enum lang lang);
void app_go(struct app *app, enum scr_id screen);
/* The screen the kiosk shows now. */
enum scr_id app_screen(const struct app *app);
const char *app_str(const struct app *app, const char *key);
const char *app_str_in(const struct app *app, enum lang lang, const char *key);
const struct core_config *app_config(const struct app *app);
/* The language a new customer session starts in (--lang, else kiosk.default_language). */
enum lang app_default_lang(const struct app *app);
/* The page must be built again before it is next looked at or drawn (state a screen shows
 * changed outside a tap: a flow's step after a device event or a timer). */
void app_refresh(struct app *app);
/* A plural catalogue string in the session language (i18n_nget). */
const char *app_nstr(const struct app *app, const char *key, unsigned long n);
/* Amounts and counts as the session language writes them (ui.digits, print_localize_digits):
 * app_fill puts western (a figure) in place of name ("{count}") in tmpl; app_money is fils as
 * "AED 1,250.00" / "1,250.00 د.إ" (catalogue receipt.money). Truncate like snprintf; return out. */
char *app_fill(const struct app *app, const char *tmpl, const char *name, const char *western, char *out,
	       size_t size);
char *app_money(const struct app *app, int64_t fils, char *out, size_t size);
/* s as a left-to-right run (a date, a reference, a code) that keeps its order inside an Arabic
 * line: between LRI and PDI when the language is Arabic (the page check's rule 6), as it is
 * otherwise. Returns out. */
char *app_ltr(const struct app *app, const char *s, char *out, size_t size);

/* ---- for flows' screens (screen.h, lifecycle) ---- */

/* The current screen's on_wake runs at at_ms (app_now_ms's clock), once; a later call replaces
 * the time, and leaving the screen cancels it. */
void app_wake_at(struct app *app, uint64_t at_ms);
uint64_t app_now_ms(const struct app *app);
/* Borrowed from the app, for the flows (kiosk/flows) the screens run. */
const struct core_clock *app_clock(const struct app *app);
struct ledger *app_ledger(struct app *app);
/* The fees catalogue loaded at start (kiosk/fees/catalogue.h); NULL when there is none. */
const struct catalogue *app_catalogue(const struct app *app);
struct cash_unit *app_cash(struct app *app);
const struct i18n *app_i18n(const struct app *app);
/* The store cannot record money (app.c, invariant 1): no flow may take it. */
bool app_out_of_service(const struct app *app);
/* A flow ended with its ledger transaction still open (a note in the path, the ledger refused
 * the end): recovery ends it as it ends a crash's, receipt included, and no money service is
 * offered until it has (kiosk/recovery.h). */
void app_recover_left_open(struct app *app);
/* ---- the host link (kiosk/sync/sync.h: the only face of it the screens see) ---- */

/* The sync, for sync_offline_check and sync_status_get; never NULL once the kiosk runs (with no
 * host configured it answers so). Borrowed. */
struct sync *app_sync(struct app *app);
/* A transaction ended (completed or cancelled): the sync drains now, not at its next timer. */
void app_sync_kick(struct app *app);
/* Asks the host about card (16 digits; sync_card_ask). The answer goes to the current
 * screen's on_card_answer (screen.h, lifecycle 6) from the loop, within host.timeout_ms:
 * SYNC_ASK_UNREACHABLE when none came by then. While the question is out the kiosk is busy:
 * the scenario runner waits for the answer and the virtual clock stands still, so a scenario
 * sees the answered state deterministically. A new ask replaces an unanswered one; leaving the
 * screen drops it. KIO_ERR_INVALID for a card that is not 16 digits. */
int app_card_ask(struct app *app, const char *card, struct kio_error *err);
/* Whether a question to the host is out (the kiosk is busy). */
bool app_card_asking(const struct app *app);
/* Asks the host what is due for a fee (sync_fee_ask: the catalogue's host entity and service,
 * and the reference). As app_card_ask: the answer goes to the current screen's on_fee_answer
 * from the loop within host.timeout_ms (SYNC_FEE_UNREACHABLE when none came by then), the kiosk
 * is busy meanwhile, a new ask replaces an unanswered one and leaving the screen drops it.
 * KIO_ERR_INVALID for ids or a reference the host's path does not take (sync_fee_ask). */
int app_fee_ask(struct app *app, const char *entity, const char *service, const char *reference,
		struct kio_error *err);
/* Asks the host to pay a basket's lines (sync_pay_ask: POST /v1/payments under tx_uuid). The
 * sync retries it; the answer goes to the current screen's on_pay_answer from the loop within
 * host.timeout_ms, SYNC_ASK_UNREACHABLE (the retries given up) when none came by then; the
 * kiosk is busy meanwhile; leaving the screen gives it up (app.c invariant 7). sync_pay_ask's
 * errors (KIO_ERR_INVALID, KIO_ERR_BUSY). */
struct sync_pay_line;
int app_pay_ask(struct app *app, const char *tx_uuid, const struct sync_pay_line *lines, size_t n,
		struct kio_error *err);
/* A voucher's validity (sync_voucher_ask, code canonical): as app_fee_ask, the answer to the
 * current screen's on_voucher_answer within host.timeout_ms (SYNC_ASK_UNREACHABLE by then). */
int app_voucher_ask(struct app *app, const char *code, struct kio_error *err);
/* Redeems amount_fils of code into tx_uuid under redemption_id (sync_voucher_redeem; the caller
 * committed the intent first): the answer to the current screen's on_redeem_answer, retried
 * by the sync until host.timeout_ms, then given up (gave_up true); leaving the screen gives it
 * up too (app.c invariant 7). sync_voucher_redeem's errors. */
int app_voucher_redeem(struct app *app, const char *code, const char *redemption_id, const char *tx_uuid,
		       int64_t amount_fils, struct kio_error *err);
/* Whether the host can be asked now: configured, and its last exchange answered (or none was
 * tried yet). The fees flow offers the services that need the host only then. */
bool app_host_online(struct app *app);

/* Whether the receipt printer can print now (ok, or paper running low). */
bool app_receipt_can_print(struct app *app);
/* The state the screens of one flow share, set by the first and freed by the leave hook of the
 * last (the app only keeps the pointer; NULL when no flow runs). */
void *app_flow(const struct app *app);
void app_set_flow(struct app *app, void *flow);
/* Prints the receipt of the completed ledger transaction tx_id (txreceipt_print: job
 * "TXN-<number>", the reference the done screen shows). 0 when the printer took the job, its
 * id in job (the screen's on_receipt hears how it ended); txreceipt_print's errors otherwise,
 * err filled. */
#define APP_RECEIPT_JOB_MAX 48
int app_print_topup_receipt(struct app *app, int64_t tx_id, char job[APP_RECEIPT_JOB_MAX], struct kio_error *err);

/* Room for every notice that can be due at once, so none is ever dropped: one kiosk state
 * (the store out of service, or start-up recovery pending: never both) and each hardware
 * device (kiosk/kdev.h's KDEV_HARDWARE_COUNT, checked in app.c). */
#define APP_KIOSK_NOTICES 1
#define APP_MAX_NOTICES (APP_KIOSK_NOTICES + 3)
struct app_notice {
	const char *device;      /* a device's name (kiosk/kdev.h): "store", "cash", "receipt", "card" */
	const char *key;         /* catalogue key of the message */
	enum dev_state severity;
};
/* The kiosk's state, then the devices that are not OK, worst first; returns how many were
 * written. With max below APP_MAX_NOTICES one may not fit: logged as an error, never dropped
 * silently. */
int app_device_notices(struct app *app, struct app_notice *out, int max);

enum app_service { APP_SERVICE_TOPUP, APP_SERVICE_BUY_CARD, APP_SERVICE_FEES, APP_SERVICE_BALANCE };
/* Whether the devices a service needs can serve a customer now. */
bool app_service_available(struct app *app, enum app_service service);
