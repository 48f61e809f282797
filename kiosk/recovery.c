/*
 * Start-up recovery: waits for the note acceptor to settle, ends the transactions a crash left
 * open (ledger_tx_recover), and prints their receipts once the receipt printer can. The app
 * runs it again (recovery_restart) when the store is back in service, for what a flow could
 * not end while it was out: the same path, so those get their receipt once too.
 *
 *   (start, recovery_restart from any phase)
 *        │
 *        ▼
 *   WAIT_SETTLE ──recovery_rule (recovery-rule.h): the store not failing and no journey in
 *        │        the acceptor's path, the acceptor in service or reporting UNDECIDED, or
 *        │        RECOVERY_SETTLE_WAIT_MS passed──► RECOVER
 *   RECOVER ──ledger_tx_recover committed, each ended transaction logged──► RECEIPTS, or
 *        │     PRINTING while a job sent before the restart is still at the printer
 *        (the store cannot write: stays, tried again every tick; the store's fault listener
 *         has taken the kiosk out of service)
 *   RECEIPTS ──nothing due (ledger_receipts_due)──► IDLE (no timer: costs nothing)
 *        │     printer OK or WARNING: txreceipt_print(oldest due)──► PRINTING
 *        ├──── the oldest due was sent RECOVERY_RECEIPT_TRIES times, or cannot be drawn:
 *        │     ledger_receipt_give_up, logged──► RECEIPTS (the next one, invariant 8)
 *        └──── printer cannot print, or a customer is being served (invariant 5): looks
 *              again every tick and at the printer's next event
 *   PRINTING ──RECEIPT_EV_PRINTED for the job: txreceipt_printed──► RECEIPTS
 *            ──RECEIPT_EV_FAILED for the job: txreceipt_failed──► RECEIPTS (the reprint says
 *              DUPLICATE: part of the first may have come out)
 *   (the job's event in WAIT_SETTLE or RECOVER is recorded the same way; the phase stays)
 *
 *   phase        what runs                                   function
 *   WAIT_SETTLE  journal and acceptor looked at each tick     settled, on_tick
 *   RECOVER      ledger_tx_recover, a log line per ended tx   recover
 *   RECEIPTS     ledger_receipts_due, txreceipt_print,        print_next, give_up
 *                ledger_receipt_give_up
 *   PRINTING     the printer's events                         recovery_on_receipt_event
 *
 * Invariants:
 *  1. Open transactions are ended only once the acceptor has decided the notes that were in
 *     its path (a note it credits while the transaction is still open is booked to it, as
 *     the customer paid it), or after RECOVERY_SETTLE_WAIT_MS without that (an acceptor
 *     unplugged or broken must not keep a customer's money in an open transaction; a note it
 *     credits later goes to suspense, tx.c invariant 2).
 *  2. At most one recovery receipt is at the printer at a time.
 *  3. What is due is read from the ledger (receipt.printed_s), never kept only in memory: a
 *     restart before the printer reported a receipt printed prints it again, marked
 *     DUPLICATE (ledger_receipt_sent counted the first send); one reported printed is never
 *     printed again by recovery.
 *  4. Nothing blocks the loop: each step is one short ledger call or one print job; the
 *     timer runs only while something waits.
 *  5. A recovery receipt is not printed while another customer is being served
 *     (recovery_ctx.may_print): it would land in their tray, next to their own receipt.
 *  6. While open transactions may still be ended (WAIT_SETTLE, RECOVER: recovery_pending),
 *     no customer may start a money service (app_service_available): ledger_tx_recover
 *     ends every open transaction, and one a customer opened in that window would be ended
 *     under them, with their notes still going in.
 *  7. Every transaction receipt the printer reports printed or failed is recorded in the
 *     ledger (txreceipt_printed, txreceipt_failed), recovery's and the done screen's alike.
 *  8. A receipt that can never print does not hold back the receipts after it: one whose
 *     records cannot make a receipt (txreceipt_print's KIO_ERR_CORRUPT, _INVALID, _NOT_FOUND:
 *     the same records give the same answer) is given up at once; one sent
 *     RECOVERY_RECEIPT_TRIES times without the printer reporting it printed is given up before
 *     a further send. Given up means recorded in the ledger with why (ledger_receipt_give_up,
 *     so a restart does not try it again, and `kiosk ledger receipts` lists it) and logged at
 *     error level naming the transaction: never dropped silently. A printer that cannot print
 *     at all (offline, busy, out of paper) gives nothing up: every receipt waits for it alike.
 */
#define LOG_MODULE "recovery"
#include "kiosk/recovery.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"
#include "kiosk/ledger/tx.h"
#include "kiosk/txreceipt.h"

enum phase { PH_WAIT_SETTLE, PH_RECOVER, PH_RECEIPTS, PH_PRINTING, PH_IDLE, PH_COUNT };
static const char *const phase_names[PH_COUNT] = {"wait-settle", "recover", "receipts", "printing", "idle"};

struct recovery {
	struct recovery_ctx ctx;
	enum phase phase;
	uint64_t timer;
	uint64_t settle_start_ms;     /* WAIT_SETTLE began (recovery_rule_in.waited_ms) */
	char job[TXRECEIPT_JOB_MAX]; /* PRINTING: the job at the printer (invariant 2) */
	int64_t job_tx;
	/* A receipt the printer printed whose record the store refused: recorded first at the
	 * next tick, so it is not printed again. */
	char printed_unrecorded[TXRECEIPT_JOB_MAX];
	bool waiting_logged;          /* "waiting for the printer" said once per wait */
};

static void on_tick(void *user);

static void enter(struct recovery *r, enum phase ph, const char *why)
{
	if (r->phase != ph)
		LOG_DBG("%s -> %s (%s)", phase_names[r->phase], phase_names[ph], why);
	r->phase = ph;
}

static void arm(struct recovery *r, uint64_t ms)
{
	if (r->timer)
		core_timer_cancel(r->ctx.timers, r->timer);
	r->timer = core_timer_add(r->ctx.timers, ms, on_tick, r);
}

/* Invariant 1: whether the open transactions may be ended now (recovery-rule.h decides; this
 * gathers its inputs and says why when it gives up on the acceptor). */
static bool settled(struct recovery *r)
{
	struct kio_error err = {0};
	int64_t escrow = 0, accepted = 0;
	struct recovery_rule_in in = {
		.store_failing = ledger_failing(r->ctx.ledger),
		.journal_read = true,
		.waited_ms = core_clock_now_ms(r->ctx.clock) - r->settle_start_ms,
	};
	if (!in.store_failing &&
	    (ledger_notes_count(r->ctx.notes, NULL, CASH_NOTE_ESCROW, &escrow, NULL, &err) != 0 ||
	     ledger_notes_count(r->ctx.notes, NULL, CASH_NOTE_ACCEPTED, &accepted, NULL, &err) != 0))
		in.journal_read = false;
	in.in_path = escrow + accepted;
	struct cash_unit *cash = devices_cash(r->ctx.devices);
	struct cash_status cs;
	cash->ops->get_status(cash, &cs);
	in.cash_state = cs.state;
	in.cash_fault = cs.fault;
	enum recovery_verdict v = recovery_rule(&in);
	switch (v) {
	case RECOVERY_WAIT_STORE: /* the store's fault listener said it, and says when it is back */
	case RECOVERY_WAIT_SETTLE:
		return false;
	case RECOVERY_WAIT_JOURNAL:
		LOG_WARN("cannot read the note journal: %s", err.msg);
		return false;
	case RECOVERY_NOW_EMPTY:
	case RECOVERY_NOW_SETTLED:
		return true;
	case RECOVERY_NOW_UNDECIDED:
		LOG_WARN("%" PRId64 " note journeys the acceptor cannot decide wait for a technician: ending the "
			 "open transaction with the notes booked to it",
			 in.in_path);
		return true;
	case RECOVERY_NOW_TIMEOUT:
		LOG_WARN("the acceptor did not settle %" PRId64 " note journeys within %d s (%s, %s): ending the open "
			 "transaction with the notes booked to it; a note credited later goes to suspense",
			 in.in_path, RECOVERY_SETTLE_WAIT_MS / 1000, dev_state_name(cs.state), cash_fault_name(cs.fault));
		return true;
	case RECOVERY_VERDICT_COUNT:
		break;
	}
	return false;
}

static bool recover(struct recovery *r)
{
	struct kio_error err = {0};
	struct ledger_tx *list = NULL;
	size_t n = 0;
	/* Out of service: the app's store check brings the store back, and the next tick ends
	 * them; trying meanwhile would only fail (and say so) every tick. The same wait as
	 * recovery_rule's RECOVERY_WAIT_STORE, for a store that fails after the rule said now. */
	if (ledger_failing(r->ctx.ledger)) {
		LOG_DBG("the store is failing: transactions left open wait for it");
		return false;
	}
	if (ledger_tx_recover(r->ctx.ledger, core_clock_wall_s(r->ctx.clock), &list, &n, &err) != 0) {
		LOG_ERR("transactions left open cannot be ended now, trying again: %s", err.msg);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ledger_tx *t = &list[i];
		if (t->state == LEDGER_TX_COMPLETED && t->kind == LEDGER_TX_FEES)
			/* Its rest went to a voucher whose code only the receipt tells the customer
			 * (not logged: the code spends it). */
			LOG_WARN("fees transaction %" PRId64 " (%s) was left open by an interruption: ended by recovery, "
				 "%" PRId64 " fils paid in, its open lines decided and the rest on an e-voucher; its "
				 "receipt prints when the printer can",
				 t->seq, t->uuid, t->credited_fils);
		else if (t->state == LEDGER_TX_COMPLETED)
			LOG_WARN("transaction %" PRId64 " (%s) was left open by an interruption: completed by recovery, "
				 "%" PRId64 " fils credited from %" PRId64 " notes to card ...%s; its receipt prints "
				 "when the printer can",
				 t->seq, t->uuid, t->credited_fils, t->notes, t->card[0] ? t->card + strlen(t->card) - 4 : "");
		else
			LOG_WARN("transaction %" PRId64 " (%s) was left open by an interruption with nothing paid: "
				 "cancelled by recovery",
				 t->seq, t->uuid);
	}
	free(list);
	return true;
}

static bool printer_ready(struct recovery *r)
{
	if (r->ctx.may_print && !r->ctx.may_print(r->ctx.may_print_user))
		return false; /* invariant 5 */
	struct receipt_printer *prn = devices_receipt(r->ctx.devices);
	struct receipt_status st;
	prn->ops->get_status(prn, &st);
	return st.state == DEV_STATE_OK || st.state == DEV_STATE_WARNING;
}

/* Invariant 8: tx's receipt is no longer due; the next tick looks at the one after it. */
static void give_up(struct recovery *r, int64_t tx, const char *why)
{
	struct kio_error err = {0};
	struct ledger_tx t;
	int64_t seq = ledger_tx_get(r->ctx.ledger, tx, &t, &err) == 0 ? t.seq : 0;
	if (ledger_receipt_give_up(r->ctx.ledger, tx, core_clock_wall_s(r->ctx.clock), why, &err) != 0) {
		/* Not recorded: still due, so it is met again next tick (the store's fault listener
		 * has said why the store cannot write). */
		LOG_WARN("recovery receipt of transaction %" PRId64 " cannot be given up yet: %s", seq, err.msg);
		arm(r, RECOVERY_TICK_MS);
		return;
	}
	LOG_ERR("recovery receipt of transaction %" PRId64 " given up (%s): the receipts after it print; a technician "
		"finds it with `kiosk ledger receipts` and gives the customer its record from `kiosk ledger export`",
		seq, why);
	arm(r, 0);
}

/* Whether txreceipt_print's error says the receipt itself can never be made (invariant 8),
 * rather than that the printer or the store cannot take it now. */
static bool receipt_unprintable(int rc)
{
	return rc == KIO_ERR_CORRUPT || rc == KIO_ERR_INVALID || rc == KIO_ERR_NOT_FOUND;
}

/* RECEIPTS: the oldest receipt due goes to the printer, or the wait goes on. */
static void print_next(struct recovery *r)
{
	/* Once receipts are known to wait for the printer, each tick asks only its status (in
	 * memory) and the customer screen; the ledger is asked again when it can print, not twice
	 * a second for a printer that may stay down for a day. */
	if (r->waiting_logged && !printer_ready(r)) {
		arm(r, RECOVERY_TICK_MS);
		return;
	}
	struct kio_error err = {0};
	int64_t *due = NULL;
	size_t n = 0;
	if (ledger_receipts_due(r->ctx.ledger, &due, &n, &err) != 0) {
		LOG_WARN("cannot list the receipts due: %s", err.msg);
		arm(r, RECOVERY_TICK_MS);
		return;
	}
	if (n == 0) {
		enter(r, PH_IDLE, "no receipt due");
		return;
	}
	int64_t tx = due[0];
	free(due);
	if (!printer_ready(r)) {
		if (!r->waiting_logged)
			LOG_INFO("%zu recovery receipts wait for the receipt printer", n);
		r->waiting_logged = true;
		arm(r, RECOVERY_TICK_MS);
		return;
	}
	r->waiting_logged = false;
	struct ledger_receipt rec;
	if (ledger_receipt_get(r->ctx.ledger, tx, &rec, &err) != 0) {
		LOG_WARN("cannot read the receipt of transaction record %" PRId64 ": %s", tx, err.msg);
		arm(r, RECOVERY_TICK_MS);
		return;
	}
	if (rec.sends >= RECOVERY_RECEIPT_TRIES) {
		char why[LEDGER_RECEIPT_WHY_MAX];
		snprintf(why, sizeof(why), "sent %" PRId64 " times, never reported printed%s", rec.sends,
			 rec.failed_s ? " (the printer reported it failed)" : "");
		give_up(r, tx, why);
		return;
	}
	int rc = txreceipt_print(r->ctx.devices, r->ctx.ledger, r->ctx.engine, r->ctx.i18n, r->ctx.cfg,
				 r->ctx.catalogue, tx, core_clock_wall_s(r->ctx.clock), r->job, &err);
	if (rc != 0 && receipt_unprintable(rc)) {
		/* ledger_receipt_give_up keeps what fits of a long message. */
		char why[LEDGER_RECEIPT_WHY_MAX + sizeof(err.msg)];
		snprintf(why, sizeof(why), "cannot be drawn: %s", err.msg);
		give_up(r, tx, why);
		return;
	}
	if (rc != 0) {
		LOG_WARN("recovery receipt of transaction record %" PRId64 " not sent, trying again: %s", tx, err.msg);
		arm(r, RECOVERY_TICK_MS);
		return;
	}
	r->job_tx = tx;
	enter(r, PH_PRINTING, r->job);
}

static void step(struct recovery *r)
{
	switch (r->phase) {
	case PH_WAIT_SETTLE:
		if (!settled(r)) {
			arm(r, RECOVERY_TICK_MS);
			return;
		}
		enter(r, PH_RECOVER, "the acceptor settled");
		/* fall through */
	case PH_RECOVER:
		if (!recover(r)) {
			arm(r, RECOVERY_TICK_MS);
			return;
		}
		if (r->job[0]) { /* invariant 2: the job sent before a restart is still out */
			enter(r, PH_PRINTING, "open transactions ended; a receipt at the printer");
			return;
		}
		enter(r, PH_RECEIPTS, "open transactions ended");
		/* fall through */
	case PH_RECEIPTS:
		if (r->printed_unrecorded[0]) {
			struct kio_error err = {0};
			if (txreceipt_printed(r->ctx.ledger, r->printed_unrecorded, core_clock_wall_s(r->ctx.clock), NULL,
					      &err) != 0) {
				LOG_WARN("receipt %s printed, not yet recorded: %s", r->printed_unrecorded, err.msg);
				arm(r, RECOVERY_TICK_MS);
				return;
			}
			r->printed_unrecorded[0] = '\0';
		}
		print_next(r);
		return;
	case PH_PRINTING: /* the printer's event moves on (invariant 2) */
	case PH_IDLE:
	case PH_COUNT:
		return;
	}
}

static void on_tick(void *user)
{
	struct recovery *r = user;
	r->timer = 0;
	step(r);
}

struct recovery *recovery_new(const struct recovery_ctx *ctx)
{
	struct recovery *r = xcalloc(1, sizeof(*r));
	r->ctx = *ctx;
	r->phase = PH_WAIT_SETTLE;
	r->settle_start_ms = core_clock_now_ms(ctx->clock);
	/* At once when nothing is in the acceptor's path: a customer never meets a transaction
	 * left open (ledger_tx_open would refuse theirs). */
	step(r);
	return r;
}

void recovery_free(struct recovery *r)
{
	if (!r)
		return;
	if (r->timer)
		core_timer_cancel(r->ctx.timers, r->timer);
	free(r);
}

void recovery_on_receipt_event(struct recovery *r, const struct receipt_event *ev)
{
	if (!r)
		return;
	bool ended = ev->kind == RECEIPT_EV_PRINTED || ev->kind == RECEIPT_EV_FAILED;
	if (ended && r->job[0] && strcmp(ev->job_id, r->job) == 0) {
		struct kio_error err = {0};
		if (ev->kind == RECEIPT_EV_PRINTED) {
			LOG_INFO("recovery receipt %s printed", r->job);
			if (txreceipt_printed(r->ctx.ledger, r->job, core_clock_wall_s(r->ctx.clock), NULL, &err) != 0) {
				LOG_WARN("receipt %s printed, not yet recorded: %s", r->job, err.msg);
				snprintf(r->printed_unrecorded, sizeof(r->printed_unrecorded), "%s", r->job);
			}
		} else {
			LOG_WARN("recovery receipt %s failed: printed again, marked DUPLICATE, when the printer can",
				 r->job);
			if (txreceipt_failed(r->ctx.ledger, r->job, core_clock_wall_s(r->ctx.clock), NULL, &err) != 0)
				LOG_WARN("receipt %s failed, not recorded: %s", r->job, err.msg);
		}
		r->job[0] = '\0';
		/* In WAIT_SETTLE or RECOVER (recovery_restart) the phase goes on as it was. */
		if (r->phase == PH_PRINTING) {
			enter(r, PH_RECEIPTS, ev->kind == RECEIPT_EV_PRINTED ? "printed" : "failed");
			/* From the loop, not inside the driver's callback. */
			arm(r, 0);
		}
		return;
	}
	/* Any other transaction's receipt (the done screen's) is recorded too (invariant 7), so
	 * the ledger knows every receipt that came out (a reprint of it would say DUPLICATE) and
	 * every one that did not. */
	int64_t seq = 0;
	if (ended && txreceipt_job_seq(ev->job_id, &seq)) {
		struct kio_error err = {0};
		int64_t now_s = core_clock_wall_s(r->ctx.clock);
		if (ev->kind == RECEIPT_EV_PRINTED ? txreceipt_printed(r->ctx.ledger, ev->job_id, now_s, NULL, &err)
						   : txreceipt_failed(r->ctx.ledger, ev->job_id, now_s, NULL, &err))
			LOG_WARN("receipt %s %s, not recorded: %s", ev->job_id,
				 ev->kind == RECEIPT_EV_PRINTED ? "printed" : "failed", err.msg);
		else if (ev->kind == RECEIPT_EV_FAILED)
			LOG_WARN("receipt %s failed (%s): recorded as not printed", ev->job_id, receipt_fault_name(ev->fault));
		return;
	}
	/* The printer came back: a receipt waiting for it goes now, not at the next tick. */
	if (ev->kind == RECEIPT_EV_RECOVERED && r->phase == PH_RECEIPTS)
		arm(r, 0);
}

void recovery_restart(struct recovery *r)
{
	if (!r || r->phase == PH_WAIT_SETTLE || r->phase == PH_RECOVER)
		return; /* already on its way to ledger_tx_recover */
	r->settle_start_ms = core_clock_now_ms(r->ctx.clock);
	if (r->timer)
		core_timer_cancel(r->ctx.timers, r->timer);
	r->timer = 0;
	enter(r, PH_WAIT_SETTLE, "restarted");
	/* At once when nothing is in the acceptor's path, as at start-up. */
	step(r);
}

bool recovery_pending(const struct recovery *r)
{
	return r && (r->phase == PH_WAIT_SETTLE || r->phase == PH_RECOVER);
}

bool recovery_idle(const struct recovery *r) { return !r || r->phase == PH_IDLE; }
