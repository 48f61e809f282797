/*
 * The top-up flow: a customer types an e-Dirham card number, pays cash into it, and the
 * ledger credits what was paid (issue 11, "The journey"). One enum of steps and one step
 * function over the ledger (kiosk/ledger/tx.h) and the cash-in unit (drivers/class/cash.h);
 * no SDL: screens render topup_view and forward taps, device events and ticks here.
 *
 *   home.topup
 *       │
 *       ▼    key/del/clear                       ESCROW v ≤ max: accept; > max: return
 *     CARD ◄────┐                                CREDITED: paid from the ledger
 *     │ │ │ └───┘     next (valid card):          RETURNED/REJECTED/FAULT: a notice
 *     │ │ │           ledger_tx_open, enable    ┌────┐
 *     │ │ └──────────────────────────────────► PAY ◄─┘
 *     │ │                                       │ finish (paid ≥ min), cancel, back
 *     │ │ back/cancel: END(home)                │ (paid = 0), idle: disable ── leave_pay
 *     │ │ idle: END(attract)                    ▼
 *     │ └──────────────────────────────────  CLOSING ── the note in the path settles
 *     │                                         │       (CREDITED/RETURNED/REJECTED),
 *     │ ◄── back, nothing paid: tx cancelled ───┤       or closing_ms pass
 *     ▼                                         │ paid > 0: ledger_tx_complete
 *    END ◄── nothing paid: tx cancelled ────────┤
 *     ▲     (exit home or attract)              ▼
 *     └──────── done_ms, or a tap ─────────── DONE  (amount, masked card, transaction no.)
 *
 *   step     input                      guard                        next (function)
 *   CARD     key, del, clear                                         CARD     (on_card)
 *   CARD     next                       card valid, unit not faulty  PAY      (enter_pay)
 *   CARD     next                       ledger_tx_open fails         END out-of-service
 *   CARD     back, cancel                                            END home
 *   CARD     tick                       card_idle_ms idle            END attract
 *   PAY      cash ESCROW v              paid + v ≤ max               PAY, accept (on_cash)
 *   PAY      cash ESCROW v              paid + v > max               PAY, return + notice
 *   PAY      cash CREDITED              (booked by the ledger)       PAY, paid re-read
 *   PAY      cash RETURNED/REJECTED/FAULT/RECOVERED                  PAY, notice
 *   PAY      finish                     paid ≥ min                   CLOSING  (leave_pay)
 *   PAY      cancel                                                  CLOSING  (leave_pay)
 *   PAY      back                       nothing paid or in the path  CLOSING  (leave_pay)
 *   PAY      tick                       pay_idle_ms idle             CLOSING  (leave_pay)
 *   CLOSING  cash ESCROW                                             CLOSING, return
 *   CLOSING  the path is empty          paid > 0                     DONE     (settle)
 *   CLOSING  the path is empty          paid = 0                     CARD or END (settle)
 *   CLOSING  tick                       closing_ms since leave_pay   DONE/END (settle)
 *   CLOSING  ledger complete/cancel fails                            END out-of-service
 *   DONE     tick                       done_ms since DONE, or       END attract
 *                                       no_receipt_ms (invariant 8)
 *   DONE     finish, next, cancel                                    END attract
 *   DONE     receipt failed (the send refused, or the job failed)    DONE, number large,
 *                                                                    its time anew (inv. 8)
 *   CARD, PAY  activity (a touch on no button)                      same, idle time anew
 *   END      (anything)                                              END
 *
 * When the ledger transaction opens: on next from CARD, before the acceptor is enabled, and
 * not when the flow starts. A note credited with no transaction open goes to suspense (tx.c
 * invariant 2), so the transaction must exist before the first note can move; opening it
 * earlier would spend a gapless transaction number (tx.c invariant 5) and record a
 * cancellation for every customer who only looked at the keypad; and only then is the card
 * number known and valid, which ledger_tx_open records.
 *
 * Invariants (cited in topup.c):
 *  1. The acceptor is enabled only in PAY, with a ledger transaction open; every way out of
 *     PAY goes through leave_pay, which disables it first.
 *  2. A note offered in escrow is accepted only in PAY and only if the total with it stays
 *     at or under the maximum; any other note offered is returned, never stacked.
 *  3. The total shown is the ledger's (ledger_tx_paid after each CREDITED), never a sum the
 *     flow keeps: what the screen says is what the receipt and the host will say.
 *  4. A transaction with money paid is completed, never cancelled and never left open by
 *     the flow: cancel, back and inactivity with money all end in ledger_tx_complete. If the
 *     ledger cannot write, the flow ends out of service and start-up recovery completes it.
 *  5. The flow does not settle while a note is in the path (accepted, or returning), except
 *     after closing_ms: then it completes with what the ledger holds and says so; a note
 *     credited later is in suspense (tx.c invariant 2), never lost.
 *  6. Inactivity ends the flow as session_idle_action says: to attract with nothing paid,
 *     completion with money (then attract after done_ms), and a note in the path is waited
 *     for first (CLOSING, invariant 5), never walked away from. Every touch is activity,
 *     on a button or not (TOPUP_IN_ACTIVITY): a customer touching the screen is not idle.
 *  7. DONE says "take your receipt" only while the receipt may still come out: a send the
 *     printer refused or a job it reported failed (TOPUP_IN_RECEIPT) switches it to "no
 *     receipt could be printed" with the transaction number large, the customer's only proof.
 *  8. While DONE shows the number large (no receipt at DONE, or it failed) the customer may be
 *     copying it down: DONE stays no_receipt_ms, counted anew from the moment the receipt
 *     failed, not what was left of done_ms (a failure at 29 s must not end the screen at 30).
 *
 * Kill points (topup_set_checkpoint; the crash suite, tests/crash, kills at each). The flow's
 * durable steps are the ledger's (tx.c lists their kill points); these mark the moments between
 * them where what the acceptor was told differs:
 *   pay-enabled   the transaction is committed open and the acceptor told to take cash: a
 *                 crash leaves a device that may still take a note while the kiosk restarts.
 *   closing       PAY left, the acceptor told to stop; the transaction not yet ended.
 *   done          the transaction completed (DONE): the receipt is still to print.
 *
 * Message ids (stable; a later session puts them in the gettext catalogues). The view names
 * those that depend on state; insert, credited and take-receipt are fixed texts of their step:
 *   topup.card.enter          type the 16-digit card number
 *   topup.card.incomplete     the number has 16 digits
 *   topup.card.bad-prefix     this is not an e-Dirham card number (issuer prefix)
 *   topup.card.bad-luhn       the number is mistyped (check digit)
 *   topup.card.ok             the number is valid
 *   topup.pay.no-change       no change is given: every inserted fils is credited
 *   topup.pay.insert          insert notes (between min and max)
 *   topup.pay.note-over-max   note returned: it would take the total over the maximum
 *   topup.pay.note-returned   note returned (the customer took too long, or it was not taken)
 *   topup.pay.note-rejected   note not accepted by the acceptor (fake, unreadable, worn)
 *   topup.pay.note-not-recorded  note returned: the kiosk could not record it
 *   topup.pay.acceptor-fault  the acceptor stopped; what was paid is kept: finish or cancel
 *   topup.pay.acceptor-recovered  the acceptor works again
 *   topup.pay.acceptor-unavailable  cash cannot be taken now (at next from CARD)
 *   topup.receipt.unavailable no receipt can be printed: note the transaction number
 *   topup.done.credited       the amount was credited
 *   topup.done.queued-for-sync  the credit reaches the card when the kiosk next connects
 *   topup.done.take-receipt   take your receipt
 *   topup.done.receipt-failed the receipt could not be printed: note the transaction number
 *   topup.done.note-unsettled a note was held by a fault: keep the transaction number
 *   topup.error.ledger        the kiosk cannot record money: out of service
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/class/cash.h"
#include "kiosk/core/clock.h"
#include "kiosk/core/err.h"
#include "kiosk/ledger/store.h"
#include "kiosk/ledger/tx.h"
#include "kiosk/session/session.h"

enum topup_step {
	TOPUP_CARD,    /* typing the card number */
	TOPUP_PAY,     /* transaction open, the acceptor enabled */
	TOPUP_CLOSING, /* acceptor disabled, waiting for the note in the path */
	TOPUP_DONE,    /* completed */
	TOPUP_END,     /* over: the app goes to view.exit */
	TOPUP_STEP_COUNT
};

enum topup_exit {
	TOPUP_EXIT_NONE,           /* not over */
	TOPUP_EXIT_HOME,
	TOPUP_EXIT_ATTRACT,
	TOPUP_EXIT_OUT_OF_SERVICE, /* the ledger cannot record money */
	TOPUP_EXIT_COUNT
};

enum topup_input_kind {
	TOPUP_IN_KEY,     /* digit: '0'..'9' */
	TOPUP_IN_DEL,
	TOPUP_IN_CLEAR,
	TOPUP_IN_NEXT,
	TOPUP_IN_BACK,
	TOPUP_IN_CANCEL,
	TOPUP_IN_FINISH,
	TOPUP_IN_CASH,    /* cash: an event of the acceptor */
	TOPUP_IN_TICK,    /* time passed: inactivity, closing and done timers */
	TOPUP_IN_PRINTER, /* printer_ok: the receipt printer can print */
	TOPUP_IN_ACTIVITY, /* the customer touched the screen, a button or not (invariant 6) */
	TOPUP_IN_RECEIPT, /* DONE: how the receipt's job ended, receipt_printed (invariant 7) */
	TOPUP_IN_COUNT
};

struct topup_input {
	enum topup_input_kind kind;
	char digit;
	struct cash_event cash;
	bool printer_ok;
	bool receipt_printed;
};

#define TOPUP_FILS_PER_AED 100

struct topup_config {
	int64_t min_fils, max_fils;         /* 10 AED, 5,000 AED */
	const char *prefixes[SESSION_PREFIXES_MAX]; /* issuer prefixes, digits; borrowed */
	size_t n_prefixes;                  /* 0 accepts any issuer */
	int64_t denoms_fils[CASH_MAX_DENOMS]; /* the notes the acceptor takes */
	size_t n_denoms;
	uint64_t card_idle_ms;    /* CARD: idle before attract (60 s) */
	uint64_t pay_idle_ms;     /* PAY: idle before session_idle_action (90 s) */
	uint64_t closing_ms;      /* CLOSING: longest wait for the note in the path (30 s) */
	uint64_t done_ms;         /* DONE: back to attract by itself (30 s) */
	uint64_t no_receipt_ms;   /* DONE with the number large: the same, from the failure (60 s) */
};

/* Defaults above; prefix "784"; AED 5, 10, 20, 50, 100, 200, 500, 1000. */
void topup_config_default(struct topup_config *cfg);

/* What a screen needs to render the current step. Message ids point to static strings. */
struct topup_view {
	enum topup_step step;
	enum topup_exit exit;                 /* END only */
	char card_grouped[SESSION_CARD_TEXT]; /* CARD: as typed, in fours */
	char card_masked[SESSION_CARD_TEXT];  /* PAY, DONE: last four digits */
	const char *card_msg;                 /* CARD: topup.card.* */
	bool next_enabled;                    /* CARD: a valid card and the acceptor usable */
	bool back_enabled;                    /* CARD; PAY while nothing is paid or moving */
	bool finish_enabled;                  /* PAY: total ≥ min */
	bool cancel_finishes;                 /* PAY: money credited, cancel = finish with it */
	bool accepting;                       /* PAY: the acceptor is enabled and healthy */
	int64_t total_fils;                   /* the ledger's figure (invariant 3) */
	int64_t notes;
	int64_t min_fils, max_fils;
	const int64_t *denoms_fils;           /* the notes the acceptor takes */
	size_t n_denoms;
	uint32_t notes_by_denom[CASH_MAX_DENOMS]; /* credited notes, index as denoms_fils */
	const char *no_change_msg;            /* topup.pay.no-change, said before cash goes in */
	const char *printer_msg;              /* topup.receipt.unavailable or NULL */
	const char *notice;                   /* the latest event's message id, or NULL */
	/* DONE */
	int64_t tx_seq;
	char tx_uuid[37];
	int64_t credited_fils;
	bool tx_number_large;                 /* no receipt: the number is the customer's proof */
	const char *receipt_msg;              /* take-receipt, receipt.unavailable or done.receipt-failed */
	bool print_receipt;                   /* the app prints the receipt of tx_seq */
	const char *done_msg;                 /* topup.done.queued-for-sync */
};

struct topup;

/* Starts a top-up at CARD. Borrows cfg (copied), ledger, unit and clock, which must outlive
 * it; the caller routes the unit's events to topup_cash_listener (or TOPUP_IN_CASH). The
 * acceptor must be disabled (it is disabled here, invariant 1). Caller frees with topup_free,
 * which disables the acceptor and never ends a transaction (recovery does, invariant 4).
 * KIO_ERR_INVALID for a bad config (min ≤ 0, max < min, no notes or one worth ≤ 0, a prefix
 * not 1 to 8 digits). */
int topup_new(const struct topup_config *cfg, struct ledger *ledger, struct cash_unit *unit,
	      const struct core_clock *clock, const char *lang, bool printer_ok, struct topup **out,
	      struct kio_error *err);
void topup_free(struct topup *t); /* accepts NULL */

/* The one step function. 0, or (nothing changes) KIO_ERR_INVALID for an input this step
 * does not take or a guard refuses (next with a bad card, finish below the minimum), and
 * KIO_ERR_BUSY for next while the acceptor is faulty (view.notice says so) or for an input
 * other than cash given from inside a step (a unit's event there is queued and handled right
 * after it). Ledger failures are not errors here: they end the flow out of service
 * (view.exit) with topup.error.ledger. */
int topup_step(struct topup *t, const struct topup_input *in);
/* A cash_event_fn: user is the flow. */
void topup_cash_listener(void *user, const struct cash_event *ev);

void topup_view(const struct topup *t, struct topup_view *out);
enum topup_step topup_current(const struct topup *t);
const struct session *topup_session(const struct topup *t);
/* The ledger transaction of this flow (id 0 before PAY). */
int64_t topup_tx_id(const struct topup *t);
/* When a TOPUP_IN_TICK may next move the flow (the clock's ms): the step's idle, closing or
 * done time (invariant 8); 0 when no time can (END, or that timer set to 0). A tick before it changes
 * nothing, so the app sleeps until then instead of ticking. */
uint64_t topup_deadline_ms(const struct topup *t);

/* Tests and the crash suite: fn is called with the name of each kill point above as the flow
 * passes it; NULL removes it. */
typedef void (*topup_checkpoint_fn)(void *user, const char *point);
void topup_set_checkpoint(struct topup *t, topup_checkpoint_fn fn, void *user);

/* "card", "pay", "closing", "done", "end"; "home", "attract", "out-of-service": NULL for
 * another value. */
const char *topup_step_name(int step);
const char *topup_exit_name(int exit);
