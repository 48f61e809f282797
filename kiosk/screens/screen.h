/*
 * The customer-facing screens as an explicit state machine. Each screen has a stable id
 * (scenarios and logs use it), builds its page from the kiosk's state, and reacts to taps
 * by asking the app to change state. Screens see the app's narrow API (kiosk/app.h), the
 * device classes, the flows and the ledger; never SDL, libusb or SQLite.
 *
 *   attract --(language chosen)--> home --(service)--> topup-card | buy-card | fees | balance
 *      ^                            |                      │        (fees: kiosk/screens/fees.c, the
 *      │                            |                      │        entity list to the basket)
 *      +----(cancel, or inactivity timeout on any customer screen)
 *                                   ▲                      ▼
 *                                   └── the top-up flow: topup-card ⇄ topup-pay → topup-done
 *                                       (kiosk/flows/topup.h decides every move; exit home,
 *                                       attract, or attract out of service)
 *
 *   specimen: a developer's screen (text engine cases), reached only by the scenario
 *   command `goto`; it leaves to attract.
 *
 * Lifecycle, for every way from screen A to screen B (a tap, a flow's step, the inactivity
 * timeout, out of service, `goto`, shutdown):
 *   1. A.leave(app, B) runs, always, before B is current: a screen that started something
 *      (a flow, an enabled acceptor) ends it there, whatever path leaves it.
 *   2. B becomes current and B.enter(app, A) runs before B's first build.
 *   3. While B is current, device events go to B.on_cash (the app's default without one: a
 *      note offered is returned), device state changes to B.on_devices, and the time B asked
 *      for with app_wake_at to B.on_wake.
 *   4. Inactivity: a customer screen without on_wake returns to attract after
 *      ui.inactivity_timeout_s without a touch; a screen with on_wake decides itself (a
 *      flow's own idle times, kiosk/flows/), and the app never leaves it by that timer. Every
 *      touch, on a button or on nothing, goes to B.on_activity first: a customer touching the
 *      screen is there, whatever they touch.
 *   5. The receipt printer's job events (printed, failed) go to B.on_receipt, after the ledger
 *      recorded them (kiosk/recovery.h).
 *   6. The host's answer to B's app_card_ask goes to B.on_card_answer, and to its
 *      app_fee_ask to B.on_fee_answer, to its app_pay_ask to B.on_pay_answer, its
 *      app_voucher_ask and app_voucher_redeem to B.on_voucher_answer and B.on_redeem_answer,
 *      from the loop; an
 *      ask left unanswered when B is left is dropped, never delivered to another screen.
 */
#pragma once

#include <stdbool.h>

#include "drivers/class/cash.h"
#include "drivers/class/receipt.h"
#include "kiosk/ui/widget.h"

struct app;
struct sync_card_result;
struct sync_fee_result;
struct sync_pay_result;
struct sync_voucher_result;
struct sync_redeem_result;

enum scr_id { SCR_ATTRACT, SCR_HOME, SCR_TOPUP_CARD, SCR_TOPUP_PAY, SCR_TOPUP_DONE, SCR_BUY_CARD, SCR_FEES,
	     SCR_BALANCE, SCR_SPECIMEN, SCR_FEES_SERVICE, SCR_FEES_REFERENCE, SCR_FEES_AMOUNT, SCR_BASKET, SCR_FEES_PAY,
	     SCR_FEES_CHANGE, SCR_FEES_CARD, SCR_FEES_DONE, SCR_FEES_VOUCHER, SCR_COUNT };

struct scr_def {
	const char *id;
	/* A customer is mid-session here: the inactivity timeout applies (lifecycle 4). */
	bool customer_session;
	void (*build)(struct app *app, struct ui_page *page);
	void (*on_tap)(struct app *app, const char *widget_id);
	/* Optional hooks (NULL: nothing to do), lifecycle 1 to 3 above. enter may itself move
	 * the app on with app_go (the move happens after enter returns). */
	void (*enter)(struct app *app, enum scr_id from);
	void (*leave)(struct app *app, enum scr_id to);
	void (*on_cash)(struct app *app, const struct cash_event *ev);
	void (*on_devices)(struct app *app);
	void (*on_wake)(struct app *app);
	void (*on_activity)(struct app *app);
	void (*on_receipt)(struct app *app, const struct receipt_event *ev);
	void (*on_card_answer)(struct app *app, const struct sync_card_result *r);
	void (*on_fee_answer)(struct app *app, const struct sync_fee_result *r);
	void (*on_pay_answer)(struct app *app, const struct sync_pay_result *r);
	void (*on_voucher_answer)(struct app *app, const struct sync_voucher_result *r);
	/* gave_up: the app stopped waiting (host.timeout_ms), r has no answer. */
	void (*on_redeem_answer)(struct app *app, const struct sync_redeem_result *r, bool gave_up);
};

const struct scr_def *scr_get(enum scr_id id);
/* Looks a screen up by its id string; KIO_ERR_INVALID if unknown. */
int scr_parse(const char *id, enum scr_id *out);
/* Lifecycle 5 for a screen that sent one receipt job (job: its id, "" for none): true when ev
 * ends that job, printed (*printed) or failed, and job is forgotten so its end is taken once;
 * false for another job, no job, or an event that ends none (a fault, a recovery). */
bool scr_receipt_job_ended(char *job, const struct receipt_event *ev, bool *printed);
/* soon.c: the "coming soon" page of screen (widgets <screen>.title, <screen>.soon,
 * <screen>.back), titled by the catalogue string title_key. */
void scr_soon_build(struct app *app, struct ui_page *page, const char *screen, const char *title_key);
