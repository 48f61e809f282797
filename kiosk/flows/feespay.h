/*
 * The fees flow, paying half (issue 13, "Paying" and "Money rules"): the basket the browsing
 * half built (fees.h) is opened as one fees transaction in the ledger (kiosk/ledger/basket.h),
 * paid in cash, paid at the host line by line, and whatever was paid and not spent on a line
 * goes to the customer's e-Dirham card or a new e-voucher: the kiosk gives no change. One enum
 * of steps and one step function over the ledger and the cash-in unit; no SDL, no sync: the
 * screens render feespay_view, forward taps, device events, ticks and the host's answers here,
 * and send the questions the view asks for (pay_ask, card_ask).
 *
 *   basket.pay (fees.c: offline, only lines that do not need the host, within the limits)
 *       │ feespay_open: ledger_basket_open committed, then the acceptor enabled (inv. 1)
 *       ▼       ESCROW v: remaining > 0 and paid + v - due ≤ cap: accept; else return (inv. 2)
 *      PAY ◄─┐  CREDITED: paid re-read from the ledger (inv. 3)
 *     │ │ └──┘  pay.voucher (remaining > 0, nothing moving): acceptor disabled ─► VOUCHER
 *     │ │       (vpay.h embedded, inv. 10): PAID re-reads due/paid: PAY (acceptor on again)
 *     │ │       or, the total reached, SETTLING; BACK: PAY; cancel, idle: as from PAY
 *     │ │ back (nothing paid): basket cancelled, END(basket)
 *     │ └ paid ≥ due, cancel, idle ─── leave_pay: acceptor disabled ───► CLOSING
 *     │                                                                   │ the path is empty
 *     │     paid = 0: basket cancelled, END(home | attract) ◄─────────────┤ (or closing_ms)
 *     │     0 < paid < due: every line unpaid (inv. 5) ──► CHANGE ◄───────┤
 *     │                                                     ▲             │ paid ≥ due
 *     │                                                     │             ▼
 *     │                       a rest (paid - settled > 0) ──┴────── SETTLING: the app asks the
 *     │                                                     │       host (sync_pay_ask, inv. 6);
 *     │                       no rest: ledger_basket_close ─┼──►    answers → line results
 *     │                                                     │
 *     │   CHANGE ── change.voucher, cancel, idle ───────────┼──► close to a voucher ─┐
 *     │     │ ▲ change.card                                 │                        │
 *     │     ▼ │ back                                        │                        ▼
 *     │   CARD ─ next (valid) ─► CARD_CHECKING ─ host: active/unreachable/none,     DONE
 *     │     ▲    (app: card ask     │           within the offline limits:       (receipt,
 *     │     └── refused, limits ────┘           close to the card ───────────────► number)
 *     ▼                                                                              │
 *    END ◄──────────────────────── done_ms, or done.close ──────────────────────────┘
 *
 *   step           input                    guard                        next (function)
 *   (open)         feespay_open             ledger ok, acceptor enabled  PAY (feespay_open)
 *   (open)         feespay_open             acceptor refused             END basket, cancelled
 *   (open)         feespay_open             ledger fails                 END out-of-service
 *   PAY            cash ESCROW v            remaining > 0, over ≤ cap    PAY, accept (on_escrow)
 *   PAY            cash ESCROW v            remaining ≤ 0 or over > cap  PAY, return + notice
 *   PAY            cash CREDITED            paid < due                   PAY, paid re-read
 *   PAY            cash CREDITED            paid ≥ due                   CLOSING (leave_pay)
 *   PAY            cash RETURNED/REJECTED/FAULT/RECOVERED                PAY, notice
 *   PAY            pay.voucher              remaining > 0, path empty    VOUCHER (enter_voucher)
 *   VOUCHER        vpay input               vpay going                   VOUCHER (on_voucher)
 *   VOUCHER        vpay input               vpay PAID, paid < due        PAY, acceptor enabled
 *   VOUCHER        vpay input               vpay PAID, paid ≥ due        SETTLING
 *   VOUCHER        vpay input               vpay BACK                    PAY, acceptor enabled
 *   VOUCHER        vpay input               vpay OUT_OF_SERVICE          END out-of-service
 *   VOUCHER        cancel, tick (idle)      not REDEEMING                CLOSING (as from PAY)
 *   VOUCHER        cancel                   REDEEMING                    VOUCHER (KIO_ERR_BUSY)
 *   VOUCHER        tick                     REDEEMING                    VOUCHER (no deadline)
 *   PAY            back                     nothing paid or moving       CLOSING → END basket
 *   PAY            cancel                                                CLOSING (leave_pay)
 *   PAY            tick                     pay_idle_ms idle             CLOSING (leave_pay)
 *   CLOSING        the path is empty        paid ≥ due                   SETTLING (settle)
 *   CLOSING        the path is empty        0 < paid < due               CHANGE, lines unpaid
 *   CLOSING        the path is empty        paid = 0                     END home/attract/basket
 *   CLOSING        tick                     closing_ms since leave_pay   as the three above
 *   SETTLING       host answer              per line paid / refused      CHANGE (rest) or DONE
 *   SETTLING       host unreachable, give-up, or settle_ms               lines offline (fixed) /
 *                                                                        unconfirmed (inquiry)
 *   CHANGE         change.voucher, cancel                                DONE (close: voucher)
 *   CHANGE         change.card                                           CARD
 *   CHANGE         tick                     change_idle_ms idle          DONE (close: voucher)
 *   CARD           key, del, clear                                       CARD
 *   CARD           next                     a valid card number          CARD_CHECKING
 *   CARD           back                                                  CHANGE
 *   CARD           cancel, tick (idle)                                   DONE (close: voucher)
 *   CARD_CHECKING  card word                active/unreachable/none, ok  DONE (close: card)
 *   CARD_CHECKING  card word                blocked/unknown, limits      CARD + why
 *   CARD_CHECKING  back                                                  CARD
 *   CARD_CHECKING  tick                     change_idle_ms idle          DONE (close: voucher)
 *   DONE           receipt failed                                        DONE, number large
 *   DONE           tick (done_ms / no_receipt_ms), finish, cancel        END attract
 *   any            a ledger write fails                                  END out-of-service
 *   any            activity (a touch)                                    same, idle time anew
 *
 * Invariants (cited in feespay.c):
 *  1. The acceptor is enabled only in PAY, with the basket's transaction committed open
 *     (ledger_basket_open before enable: a note can never be credited to no transaction);
 *     every way out of PAY goes through leave_pay, which disables it first.
 *  2. A note in escrow is accepted only in PAY, only while something is still owed (remaining
 *     = due - paid - the note already accepted > 0), and only if the overpayment it causes,
 *     paid + moving + v - due, is at most the cap ([fees] overpay_cap_fils): the kiosk gives
 *     no change, so a 1,000 AED note is returned for a 45.50 AED rest, never swallowed. Every
 *     other note goes back with a notice naming why and the largest note taken now.
 *  3. Due and paid are the ledger's (ledger_basket_due after each CREDITED), never sums the
 *     flow keeps: what the screen says is what the receipt and the host will say.
 *  4. Nothing paid, the basket ends cancelled (ledger_basket_close with nothing paid: the
 *     cancellation is all that is recorded). Money paid never ends cancelled and never
 *     abandoned: it pays lines (SETTLING), and what is left goes to the customer's card or an
 *     e-voucher (CHANGE). Inactivity in CHANGE, CARD or CARD_CHECKING issues the voucher.
 *  5. CHANGE and CARD are entered with every line decided (paid, refused, offline,
 *     unconfirmed, or unpaid when the total was not reached) and the rest > 0: a crash there
 *     leaves recovery (ledger_tx_recover) one thing to do, the rest to a voucher.
 *  6. SETTLING asks the host once (view.pay_ask until feespay_pay_sent) about the lines with
 *     the catalogue's host entity and service, under the transaction's uuid (idempotent at the
 *     host); each line's result is recorded as answered (paid with the host's reference, or
 *     refused); with no answer (unreachable, no host, the app gave up, settle_ms passed) a
 *     fixed line is `offline` and a line that needs the host `unconfirmed`: the host settles
 *     both from the records, and the screen says so. A refused line's money is part of the rest.
 *  7. A rest goes to a card only after the card's number passed its checks (prefix, Luhn),
 *     the host did not refuse it (blocked, unknown) and the offline limits take it (the app's
 *     card word: allowance_ok); otherwise CARD says why and the voucher is still offered.
 *  8. DONE says "take your receipt" only while the receipt may still come out: a receipt that
 *     could not be sent or failed switches it to the transaction number shown large, and DONE
 *     then stays no_receipt_ms from the failure (topup.h invariants 7 and 8).
 *  9. A ledger write that fails ends the flow out of service (acceptor disabled); the open
 *     basket stays open for recovery, which ends it as a crash's (rest to a voucher).
 * 10. Paying with an e-voucher (`pay.voucher`) runs the voucher machine (kiosk/flows/vpay.h)
 *     with the acceptor disabled (invariant 1 holds: only PAY takes cash) over what remains
 *     due; its booked value is read back from the ledger (invariant 3), a value past the due
 *     is part of the rest (no cap: no cash is swallowed). While its redeem is out the flow
 *     cannot be left (vpay.h invariant 3): cancel and inactivity wait for the answer or the
 *     app's give-up, so the basket is never closed under a redemption in flight.
 *
 * Kill points (feespay_set_checkpoint; the crash suite kills at each). The ledger's own
 * (basket.c) mark its commits; these mark the moments between them:
 *   fees-pay-enabled   the basket committed open, the acceptor told to take cash.
 *   fees-settling      the total reached, the acceptor told to stop; no line decided yet.
 *   fees-change        a rest to place: every line decided, the customer to choose.
 *   fees-done          the basket ended (DONE): the receipt is still to print.
 *
 * Message ids (locales/ar.po and en.po):
 *   pay.title, pay.no-change (no change: an overpayment goes to your card or an e-voucher, your
 *   choice), pay.due, pay.paid, pay.remaining, pay.largest ({amount}: the largest note taken
 *   now), pay.insert, pay.closing, pay.cancel, pay.finish-rest (cancel once money is in),
 *   pay.note-over-cap ({amount}), pay.note-not-needed, pay.note-returned, pay.note-rejected,
 *   pay.note-not-recorded, pay.acceptor-fault, pay.acceptor-recovered, pay.acceptor-unavailable,
 *   settle.title, settle.asking, change.title, change.rest ({amount}), change.why-refused,
 *   change.why-unpaid, change.why-over, change.card, change.voucher, change.card.title,
 *   change.card.checking, change.card.blocked, change.card.unknown, change.card.needs-host,
 *   fees.done.title, fees.done.line.{paid,refused,offline,unpaid,unconfirmed}, fees.done.offline,
 *   fees.done.voucher ({code} {amount} {date}), fees.done.card ({card} {amount}),
 *   fees.error.ledger.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/class/cash.h"
#include "kiosk/core/clock.h"
#include "kiosk/core/err.h"
#include "kiosk/flows/vpay.h"
#include "kiosk/ledger/basket.h"
#include "kiosk/ledger/store.h"
#include "kiosk/ledger/tx.h"
#include "kiosk/session/session.h"

#define FEESPAY_LINES_MAX LEDGER_BASKET_MAX
#define FEESPAY_HOST_REF_MAX 64

enum feespay_step {
	FEESPAY_PAY,           /* the basket open, the acceptor enabled */
	FEESPAY_CLOSING,       /* acceptor disabled, waiting for the note in the path */
	FEESPAY_SETTLING,      /* paid ≥ due: the host is asked to pay the lines */
	FEESPAY_CHANGE,        /* a rest: the customer chooses card or voucher */
	FEESPAY_CARD,          /* the card number for the rest */
	FEESPAY_CARD_CHECKING, /* the app asks about the card and the offline limits */
	FEESPAY_VOUCHER,       /* paying with an e-voucher (vpay.h); the acceptor disabled */
	FEESPAY_DONE,          /* the basket ended */
	FEESPAY_END,           /* over: the app goes to view.exit */
	FEESPAY_STEP_COUNT
};

enum feespay_exit {
	FEESPAY_EXIT_NONE,
	FEESPAY_EXIT_BASKET,         /* back with nothing paid: the basket again */
	FEESPAY_EXIT_HOME,
	FEESPAY_EXIT_ATTRACT,
	FEESPAY_EXIT_OUT_OF_SERVICE, /* the ledger cannot record money (invariant 9) */
	FEESPAY_EXIT_COUNT
};

enum feespay_input_kind {
	FEESPAY_IN_CASH,      /* an event of the acceptor */
	FEESPAY_IN_TICK,      /* time passed */
	FEESPAY_IN_ACTIVITY,  /* a touch anywhere */
	FEESPAY_IN_PRINTER,   /* printer_ok */
	FEESPAY_IN_BACK,
	FEESPAY_IN_CANCEL,
	FEESPAY_IN_FINISH,    /* DONE: done.close */
	FEESPAY_IN_KEY,       /* CARD: digit */
	FEESPAY_IN_DEL,
	FEESPAY_IN_CLEAR,
	FEESPAY_IN_NEXT,      /* CARD */
	FEESPAY_IN_TO_CARD,   /* CHANGE: change.card */
	FEESPAY_IN_TO_VOUCHER, /* CHANGE: change.voucher */
	FEESPAY_IN_PAY_ANSWER, /* SETTLING: the host's answer, or none (answer) */
	FEESPAY_IN_CARD_WORD, /* CARD_CHECKING: the host's word on the card and the limits (card) */
	FEESPAY_IN_RECEIPT,   /* DONE: receipt_printed */
	FEESPAY_IN_VOUCHER,   /* PAY: pay.voucher */
	FEESPAY_IN_VPAY,      /* VOUCHER: an input for the voucher machine (vpay) */
	FEESPAY_IN_COUNT
};

/* The host's answer to the payment, as the app read it (sync_pay_poll). */
enum feespay_line_word { FEESPAY_LINE_PAID, FEESPAY_LINE_REFUSED, FEESPAY_LINE_WORD_COUNT };
struct feespay_answer {
	bool answered;     /* false: no usable answer (unreachable, no host, given up): invariant 6 */
	size_t n;          /* answered: one word per line, line k at [k - 1] */
	enum feespay_line_word word[FEESPAY_LINES_MAX];
	char host_ref[FEESPAY_LINES_MAX][FEESPAY_HOST_REF_MAX + 1];
};

/* The host's word on the rest's card (sync_card_ask) with the offline limits (invariant 7). */
enum feespay_card_word { FEESPAY_CARD_ACTIVE, FEESPAY_CARD_BLOCKED, FEESPAY_CARD_UNKNOWN, FEESPAY_CARD_UNREACHABLE,
			 FEESPAY_CARD_NONE, FEESPAY_CARD_WORD_COUNT };
struct feespay_card {
	enum feespay_card_word word;
	bool allowance_ok; /* the offline limits take a credit of the rest to this card */
};

struct feespay_input {
	enum feespay_input_kind kind;
	char digit;
	struct cash_event cash;
	bool printer_ok;
	bool receipt_printed;
	const struct feespay_answer *answer; /* PAY_ANSWER: borrowed for the call */
	const struct vpay_input *vpay;       /* VPAY: borrowed for the call */
	struct feespay_card card;
};

/* One basket line to pay: the ledger's line (catalogue ids) and the host's path for it. */
struct feespay_line {
	struct ledger_fee_line ledger;
	char host_entity[33], host_service[33];
	bool needs_host; /* an inquiry line: unconfirmed when the host does not answer (inv. 6) */
};

struct feespay_config {
	int64_t overpay_cap_fils;   /* invariant 2 (20,000: 200 AED) */
	int voucher_days;           /* 30 */
	const char *prefixes[SESSION_PREFIXES_MAX]; /* the card's issuer prefixes; borrowed */
	size_t n_prefixes;
	int64_t denoms_fils[CASH_MAX_DENOMS];
	size_t n_denoms;
	uint64_t pay_idle_ms;       /* PAY: idle before it is left as a cancel (90 s) */
	uint64_t closing_ms;        /* CLOSING: longest wait for the note in the path (30 s) */
	uint64_t settle_ms;         /* SETTLING: the backstop if no answer is handed in (60 s) */
	uint64_t change_idle_ms;    /* CHANGE, CARD, CARD_CHECKING: idle before the voucher (60 s) */
	uint64_t done_ms;           /* 30 s */
	uint64_t no_receipt_ms;     /* 60 s */
};
void feespay_config_default(struct feespay_config *cfg);

/* What the app must send now (SETTLING; CARD_CHECKING) and what a screen needs. */
struct feespay_view {
	enum feespay_step step;
	enum feespay_exit exit;
	int64_t due_fils, paid_fils, remaining_fils; /* the ledger's (invariant 3) */
	int64_t largest_note_fils;  /* PAY: the largest note taken now (0: none) */
	int64_t notes;
	const int64_t *denoms_fils;
	size_t n_denoms;
	uint32_t notes_by_denom[CASH_MAX_DENOMS];
	bool accepting;             /* PAY: enabled and healthy */
	bool back_enabled;          /* PAY: nothing paid or moving */
	bool cancel_keeps_money;    /* PAY: money in, cancel sends it to CHANGE */
	bool voucher_enabled;       /* PAY: pay.voucher can be taken now */
	struct vpay_view vpay;      /* VOUCHER: the voucher machine's view (ask: what the app sends) */
	const char *no_change_msg;  /* pay.no-change, from the first frame */
	const char *printer_msg;    /* topup.receipt.unavailable or NULL */
	const char *notice;
	int64_t notice_fils;        /* the amount a notice names (pay.note-over-cap) */
	uint32_t tx_ends;
	/* SETTLING: the question (invariant 6) */
	bool pay_ask;
	char tx_uuid[37];
	int64_t tx_seq;
	size_t n_lines;
	struct feespay_line lines[FEESPAY_LINES_MAX];
	/* each line's result once decided (CHANGE on) */
	bool decided[FEESPAY_LINES_MAX];
	enum ledger_line_status status[FEESPAY_LINES_MAX];
	bool host_unanswered;       /* invariant 6: the lines are to be confirmed by the host */
	/* CHANGE, CARD */
	int64_t rest_fils;
	const char *rest_why;       /* change.why-over / -refused / -unpaid */
	char card_grouped[SESSION_CARD_TEXT];
	const char *card_msg;       /* topup.card.* verdict of the number typed */
	bool next_enabled;
	bool card_ask;              /* CARD_CHECKING: the app asks (card below) */
	char card[SESSION_CARD_DIGITS + 1];
	/* DONE */
	struct ledger_basket_end end;
	char card_masked[SESSION_CARD_TEXT];
	bool tx_number_large;
	const char *receipt_msg;
	bool print_receipt;
	int64_t tx_id;
};

struct feespay;

/* A paying flow for lines[0..n-1] (1..FEESPAY_LINES_MAX, copied); nothing durable yet:
 * feespay_open opens the basket. Borrows cfg (copied, prefixes borrowed), ledger, unit and
 * clock. KIO_ERR_INVALID for a bad config or lines. Caller frees (feespay_free disables the
 * acceptor and never ends the transaction: recovery does, invariant 9). */
int feespay_new(const struct feespay_config *cfg, struct ledger *ledger, struct cash_unit *unit,
		const struct core_clock *clock, const char *lang, bool printer_ok, const struct feespay_line *lines,
		size_t n, struct feespay **out, struct kio_error *err);
void feespay_free(struct feespay *p);
/* Opens the basket and enables the acceptor (invariant 1): PAY, or END (basket: the acceptor
 * refused; out of service: the ledger refused). */
void feespay_open(struct feespay *p);
/* The one step function: 0, KIO_ERR_INVALID for an input the step does not take (nothing
 * changes), KIO_ERR_BUSY for a non-cash input given from inside a step. */
int feespay_step(struct feespay *p, const struct feespay_input *in);
void feespay_cash_listener(void *user, const struct cash_event *ev);
void feespay_view(const struct feespay *p, struct feespay_view *out);
enum feespay_step feespay_current(const struct feespay *p);
/* The app sent view.pay_ask / view.card_ask / view.vpay.ask: the view stops asking
 * (invariant 6; vpay_ask_sent). */
void feespay_pay_sent(struct feespay *p);
void feespay_card_sent(struct feespay *p);
void feespay_vpay_sent(struct feespay *p);
/* When a tick may next move the flow (0: none). */
uint64_t feespay_deadline_ms(const struct feespay *p);
int64_t feespay_tx_id(const struct feespay *p);

typedef void (*feespay_checkpoint_fn)(void *user, const char *point);
void feespay_set_checkpoint(struct feespay *p, feespay_checkpoint_fn fn, void *user);

/* "pay", "closing", "settling", "change", "card", "card-checking", "voucher", "done", "end". */
const char *feespay_step_name(int step);
/* "none", "basket", "home", "attract", "out-of-service". */
const char *feespay_exit_name(int exit);
