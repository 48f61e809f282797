/*
 * The top-up flow: a customer types an e-Dirham card number, pays cash into it, and the
 * ledger credits what was paid (issue 11, "The journey"). One enum of steps and one step
 * function over the ledger (kiosk/ledger/tx.h) and the cash-in unit (drivers/class/cash.h);
 * no SDL: screens render topup_view and forward taps, device events and ticks here.
 *
 *   home.topup
 *       │
 *       ▼    key/del/clear (clear a host refusal)
 *     CARD ◄────┐
 *     │ │ │ └───┘    next (valid card, host_check)
 *     │ │ ├─────────────────────────────► CHECKING ── the app asks the host (nothing open)
 *     │ │ │ ◄─ back; host: blocked,         │  │
 *     │ │ │    unknown; allowance < min ────┘  │ cancel: END(home); idle: END(attract)
 *     │ │ │                                    │ host: active, unreachable or none, and
 *     │ │ │    next (valid card, no host_check)│ allowance ≥ min: ledger_tx_open, enable
 *     │ │ │                                    ▼    ESCROW v ≤ max: accept; > max: return
 *     │ │ └────────────────────────────────► PAY ◄─┐ CREDITED: paid from the ledger
 *     │ │                                    │ └───┘ RETURNED/REJECTED/FAULT: a notice
 *     │ │ back/cancel: END(home)             │ finish (paid ≥ min), cancel, back
 *     │ │ idle: END(attract)                 │ (paid = 0), idle: disable ── leave_pay
 *     │ │                                    ▼
 *     │ └───────────────────────────────  CLOSING ── the note in the path settles
 *     │                                      │       (CREDITED/RETURNED/REJECTED),
 *     │ ◄── back, nothing paid: tx cancelled ┤       or closing_ms pass
 *     ▼                                      │ paid > 0: ledger_tx_complete
 *    END ◄── nothing paid: tx cancelled ─────┤
 *     ▲     (exit home or attract)           ▼
 *     └──────── done_ms, or a tap ──────── DONE  (amount, masked card, transaction no., the
 *                                                 balance after it when the host gave one)
 *
 *   step     input                      guard                        next (function)
 *   CARD     key, del, clear                                         CARD     (on_card)
 *   CARD     next                       card valid, unit not faulty, CHECKING (on_card)
 *                                       host_check
 *   CARD     next                       card valid, unit not faulty  PAY      (enter_pay)
 *   CHECKING host active/unreachable/none  allowance ≥ min          PAY      (on_host, enter_pay)
 *   CHECKING host active/unreachable/none  allowance < min          CARD, needs-host (on_host)
 *   CHECKING host blocked, unknown                                   CARD, blocked/unknown (on_host)
 *   CHECKING back                                                    CARD     (on_checking)
 *   CHECKING cancel                                                  END home (on_checking)
 *   CHECKING tick                       card_idle_ms idle            END attract
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
 *   CARD, CHECKING, PAY  activity (a touch on no button)            same, idle time anew
 *   CARD     key, del, clear after a host refusal                    CARD, the refusal cleared
 *   END      (anything)                                              END
 *
 * When the ledger transaction opens: on next from CARD, before the acceptor is enabled, and
 * not when the flow starts. A note credited with no transaction open goes to suspense (tx.c
 * invariant 2), so the transaction must exist before the first note can move; opening it
 * earlier would spend a gapless transaction number (tx.c invariant 5) and record a
 * cancellation for every customer who only looked at the keypad; and only then is the card
 * number known and valid, which ledger_tx_open records.
 *
 * Asking the host (host_check; issue 12). The flow does not talk to the host: on next it
 * enters CHECKING and the app asks the host for the card (kiosk/sync/sync.h, sync_card_ask),
 * bounded by host.timeout_ms, and reads the offline limits (sync_offline_check) over the
 * top-ups the host has not acknowledged; it hands both in as one TOPUP_IN_HOST. With no host
 * configured the answer is NONE at once; a host that does not answer in time is UNREACHABLE.
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
 *  9. CHECKING holds nothing durable: no ledger transaction is open and the acceptor is
 *     disabled until the host's word is in, so a crash, a walk-away or a back there leaves
 *     nothing to recover, and a late answer to an abandoned question moves nothing (on_host
 *     takes TOPUP_IN_HOST in CHECKING only).
 * 10. A card the host says is blocked, unknown or unregistered takes no money: back to CARD
 *     with the host's reason, no transaction opened, the acceptor never enabled.
 * 11. The most a top-up takes is the smaller of max_fils and the allowance the offline limits
 *     leave (TOPUP_IN_HOST; the app gives none when the host answered for the card, unless the
 *     top-ups it has not acknowledged are already past a limit, and 0 then), fixed as PAY is
 *     entered; invariant 2 returns a note that would
 *     pass it as it returns one over the maximum. The allowance counts the top-ups the host
 *     has not acknowledged before this one opens; while PAY runs no other top-up can complete
 *     on this kiosk and an acknowledgement only lowers the count, so the figure never goes
 *     stale against the limits. An allowance below min_fils refuses at CARD ("needs the
 *     host"): no transaction is opened for a top-up that could never be finished.
 * 12. A balance is shown only as the host gave it (ACTIVE), never guessed: PAY shows it, DONE
 *     shows it plus what this transaction credited, labelled as the balance after this top-up;
 *     when the host did not answer, PAY says the balance needs the host.
 *
 * Kill points (topup_set_checkpoint; the crash suite, tests/crash, kills at each). The flow's
 * durable steps are the ledger's (tx.c lists their kill points); these mark the moments between
 * them where what the acceptor was told differs:
 *   checking      the host is being asked about the card; nothing is open (invariant 9).
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
 *   topup.card.checking       CHECKING: the card is being checked with the host
 *   topup.card.blocked        the host says the card is blocked: no money taken
 *   topup.card.unknown        the host does not know the card (or it is unregistered)
 *   topup.card.needs-host     the offline limits leave less than the minimum: needs the host
 *   topup.pay.no-change       no change is given: every inserted fils is credited
 *   topup.pay.insert          insert notes (between min and max)
 *   topup.pay.note-over-max   note returned: it would take the total over the maximum
 *   topup.pay.note-returned   note returned (the customer took too long, or it was not taken)
 *   topup.pay.note-rejected   note not accepted by the acceptor (fake, unreadable, worn)
 *   topup.pay.note-not-recorded  note returned: the kiosk could not record it
 *   topup.pay.acceptor-fault  the acceptor stopped; what was paid is kept: finish or cancel
 *   topup.pay.acceptor-recovered  the acceptor works again
 *   topup.pay.acceptor-unavailable  cash cannot be taken now (at next from CARD)
 *   topup.pay.balance         the card's balance as the host gave it ({amount})
 *   topup.pay.balance-needs-host  the balance needs the host and cannot be shown now
 *   topup.pay.offline-max     the offline limits lower this top-up's maximum ({max})
 *   topup.done.new-balance    the host's balance plus what was credited ({amount})
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
	TOPUP_CHECKING, /* the host is asked about the card (host_check); nothing open */
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
	TOPUP_IN_HOST,    /* CHECKING: the host's word on the card and the allowance, host */
	TOPUP_IN_COUNT
};

/* The host's word on the card, as the app read it (sync_card_ask's answer). */
enum topup_host_word {
	TOPUP_HOST_ACTIVE,      /* the host knows the card, active: balance_fils */
	TOPUP_HOST_BLOCKED,     /* refused (invariant 10) */
	TOPUP_HOST_UNKNOWN,     /* the host does not know it, or it is unregistered: refused */
	TOPUP_HOST_UNREACHABLE, /* no usable answer within host.timeout_ms */
	TOPUP_HOST_NONE,        /* no host configured: a standalone kiosk */
	TOPUP_HOST_WORD_COUNT
};

struct topup_host {
	enum topup_host_word word;
	int64_t balance_fils;   /* ACTIVE: the host's balance, ≥ 0 */
	/* What the offline limits leave for this top-up (sync_offline_check), ≥ 0; negative: no
	 * limit applies (no host configured). */
	int64_t allowance_fils;
};

struct topup_input {
	enum topup_input_kind kind;
	char digit;
	struct cash_event cash;
	bool printer_ok;
	bool receipt_printed;
	struct topup_host host;
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
	/* Next asks the host first (CHECKING, TOPUP_IN_HOST); false (the default): next opens the
	 * transaction at once, no balance and no offline limits (a flow with no host link). */
	bool host_check;
};

/* Defaults above; prefix "784"; AED 5, 10, 20, 50, 100, 200, 500, 1000. */
void topup_config_default(struct topup_config *cfg);

/* What a screen needs to render the current step. Message ids point to static strings. */
struct topup_view {
	enum topup_step step;
	enum topup_exit exit;                 /* END only */
	char card_grouped[SESSION_CARD_TEXT]; /* CARD: as typed, in fours */
	char card_masked[SESSION_CARD_TEXT];  /* PAY, DONE: last four digits */
	const char *card_msg;                 /* CARD, CHECKING: topup.card.* */
	bool checking;                        /* CHECKING: the app asks the host about card */
	char card[SESSION_CARD_DIGITS + 1];   /* CHECKING: the whole number, for the ask */
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
	/* PAY, DONE: the host's word (invariant 12) */
	const char *balance_msg;              /* topup.pay.balance, .balance-needs-host, or NULL */
	bool balance_known;                   /* the host answered: balance_fils is its figure */
	int64_t balance_fils;
	const char *limit_msg;                /* topup.pay.offline-max when the limits lowered max */
	uint32_t tx_ends;                     /* transactions this flow ended (completed, cancelled) */
	/* DONE */
	int64_t tx_seq;
	char tx_uuid[37];
	int64_t credited_fils;
	bool tx_number_large;                 /* no receipt: the number is the customer's proof */
	const char *receipt_msg;              /* take-receipt, receipt.unavailable or done.receipt-failed */
	bool print_receipt;                   /* the app prints the receipt of tx_seq */
	const char *done_msg;                 /* topup.done.queued-for-sync */
	const char *new_balance_msg;          /* topup.done.new-balance when balance_known */
	int64_t new_balance_fils;             /* balance_fils + credited_fils */
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

/* "card", "checking", "pay", "closing", "done", "end"; "home", "attract", "out-of-service": NULL for
 * another value. */
const char *topup_step_name(int step);
const char *topup_exit_name(int exit);
/* "active", "blocked", "unknown", "unreachable", "none"; NULL for another value. */
const char *topup_host_word_name(int word);
