/*
 * Paying into a fees basket with an e-voucher (`pay.voucher`, issue 13 "Money rules"): the
 * customer types the voucher's code, the host says what it is worth, and its whole value is
 * redeemed into the open fees transaction. A pure step machine over the ledger
 * (kiosk/ledger/basket.h): no SDL, no app, no sync calls. The fees flow embeds it; the app
 * sends the asks the view names and hands the answers back.
 *
 *   pay.voucher (the fees flow: vpay_new with the basket's open transaction)
 *       │
 *       ▼   key/del/clear: the code as typed, vcode_parse's verdict live
 *     CODE ◄──────────────┐ (an answer's message is kept until the code changes)
 *     │ │ └──────────────┘
 *     │ │ redeem (code parses)                        back: outcome BACK
 *     │ └─────────────────────► VALIDATING ── ask VALIDATE (nothing durable, invariant 1)
 *     │                           │ │ valid: VALID ── back: CODE
 *     │   back, unknown, spent,   │ │                │ redeem: ledger_basket_voucher_intent
 *     │   expired, unreachable,   │ │                │ committed, then (only then) ask REDEEM
 *     │   host error: CODE + why ◄┘ │                ▼
 *     │                             │             REDEEMING ── no back (invariant 3)
 *     │                             │               │ │ redeemed: ledger_basket_voucher_paid
 *     │ ◄───────────────────────────┼───────────────┘ │ committed: outcome PAID (paid_fils)
 *     │ unknown/spent/expired/host error/give-up:      ▼
 *     │ CODE + why (the intent stays, unbooked:       PAID (over: the fees flow re-reads
 *     │ voided at the basket's close, invariant 4)          ledger_basket_due)
 *     ▼
 *   BACK / OUT_OF_SERVICE (a ledger write failed: the kiosk stops taking money)
 *
 *   step        input            guard                            next (function)
 *   CODE        key d            fewer than 16 digits typed       CODE, verdict anew (on_code)
 *   CODE        del, clear                                        CODE, verdict anew (on_code)
 *   CODE        redeem           vcode_parse ok, this code has    REDEEMING, ask REDEEM again
 *                                an intent neither booked nor void  (resume_pending, invariant 4)
 *   CODE        redeem           vcode_parse ok                   VALIDATING, ask VALIDATE
 *   CODE        redeem           not ok                           CODE (KIO_ERR_INVALID)
 *   CODE        back                                              over, BACK
 *   VALIDATING  valid (answered) value > 0                        VALID (on_valid)
 *   VALIDATING  unknown/spent/expired (answered)                  CODE, voucher.<kind>
 *   VALIDATING  unreachable, not configured, retry                CODE, voucher.needs-host
 *   VALIDATING  refused, mismatch, anything else                  CODE, voucher.host-error
 *   VALIDATING  give-up                                           CODE, voucher.needs-host
 *   VALIDATING  back                                              CODE (a late answer moves nothing)
 *   VALIDATING  key, del, clear, redeem                           VALIDATING (KIO_ERR_INVALID)
 *   VALID       redeem           intent committed                 REDEEMING, ask REDEEM (on_redeem)
 *   VALID       redeem           the basket has too many intents  CODE, voucher.too-many
 *   VALID       redeem           the intent write fails           over, OUT_OF_SERVICE
 *   VALID       back, key, del, clear                             CODE (the key applied)
 *   REDEEMING   redeemed         booked (voucher_paid)            over, PAID (on_redeemed)
 *   REDEEMING   redeemed         the booking fails                over, OUT_OF_SERVICE
 *   REDEEMING   unknown/spent/expired                             CODE, voucher.<kind>
 *   REDEEMING   mismatch, refused, unreachable, not configured    CODE, voucher.host-error
 *   REDEEMING   give-up                                           CODE, voucher.unconfirmed
 *   REDEEMING   back, keys                                        REDEEMING (KIO_ERR_BUSY)
 *   over        (anything)                                        same (KIO_ERR_INVALID)
 *
 * Invariants (cited in vpay.c):
 *  1. Nothing durable before VALID → redeem: typing, validating and going back write nothing.
 *  2. The redemption is asked only after its intent (code, redemption_id, amount) is committed
 *     in the ledger (ledger_basket_voucher_intent): whatever the host does with the ask, the
 *     ledger knows of it, so a crash or a cut network at any point leaves a record that either
 *     books the value (voucher_payment) or voids the redemption at the host (voucher_void), and
 *     never neither (basket.c invariant 15).
 *  3. While the redeem ask is out (REDEEMING) the machine cannot be left: back is refused and
 *     only the host's answer or the app's give-up moves it. The fees flow must not close the
 *     basket in REDEEMING; if it must (idle), it gives up first (sync_ask_give_up, then
 *     VPAY_IN_GIVE_UP).
 *  4. A redemption the host never confirmed (refused, or given up) is not retried under a new
 *     id: redeem with the same code again in the same basket goes straight to REDEEMING with
 *     the unbooked intent's redemption_id and value (the host answers it once: validating
 *     first would say "spent" for a redemption it holds), and the basket's close or recovery
 *     voids whatever is still unbooked so the host gives the value back.
 *  5. A voucher is one-time: the whole value the host gave at VALIDATING is redeemed, and
 *     paid_fils is what the ledger booked (the host's redeemed_fils equals the ask, the wire
 *     parser holds that). What exceeds the remaining due is the basket's rest (a new voucher or
 *     card credit at the end), said on the screen before redeem (voucher.excess).
 *  6. Only the step waiting for an answer takes it: a VALID answer in VALIDATING, a REDEEMED
 *     answer in REDEEMING; a late answer to an abandoned ask changes nothing.
 *
 * Kill points (ledger_checkpoint, in basket.c): voucher-intent-written, voucher-intent (the
 * intent committed, nothing asked yet), then voucher-paid-written, voucher-paid.
 *
 * Message ids (voucher.*, in locales/ar.po and en.po):
 *   voucher.title          Pay with an e-voucher
 *   voucher.enter          type the 16-digit voucher code
 *   voucher.incomplete     a voucher code has 16 digits
 *   voucher.bad-prefix     voucher codes start with 9 (this may be a card number)
 *   voucher.bad-check      the code is mistyped (check digit)
 *   voucher.ok             the code is well formed: check it
 *   voucher.checking       VALIDATING: asking the host
 *   voucher.valid          the voucher is worth {amount}, valid until {date}
 *   voucher.whole          its whole value is used (a voucher is used once)
 *   voucher.excess         {amount} over what is due becomes your rest: a new voucher or card credit
 *   voucher.redeeming      REDEEMING: the host is redeeming it
 *   voucher.unknown        no such voucher
 *   voucher.spent          this voucher was already used
 *   voucher.expired        this voucher has expired
 *   voucher.needs-host     vouchers need the host, which cannot be reached now
 *   voucher.host-error     the host refused the voucher now: try again or pay in cash
 *   voucher.unconfirmed    the redemption was not confirmed: the voucher keeps its value
 *   voucher.too-many       no more vouchers can be used in this payment
 *   voucher.error.ledger   the kiosk cannot record money: out of service
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "kiosk/core/err.h"
#include "kiosk/core/vcode.h"
#include "kiosk/ledger/store.h"

struct sync_voucher_result;
struct sync_redeem_result;

enum vpay_step {
	VPAY_CODE,       /* typing the code */
	VPAY_VALIDATING, /* the app asks the host what the voucher is worth */
	VPAY_VALID,      /* the value and expiry shown: redeem or back */
	VPAY_REDEEMING,  /* the intent committed, the app asks the host to redeem */
	VPAY_OVER,       /* outcome says how */
	VPAY_STEP_COUNT
};

enum vpay_input_kind {
	VPAY_IN_KEY,      /* digit '0'..'9' */
	VPAY_IN_DEL,
	VPAY_IN_CLEAR,
	VPAY_IN_REDEEM,   /* the button voucher.redeem: check the code (CODE), redeem it (VALID) */
	VPAY_IN_BACK,     /* the button voucher.back */
	VPAY_IN_VALID,    /* the answer to the VALIDATE ask: valid */
	VPAY_IN_REDEEMED, /* the answer to the REDEEM ask: redeem */
	VPAY_IN_GIVE_UP,  /* the app stopped waiting for the ask (no answer) */
	VPAY_IN_COUNT
};

struct vpay_input {
	enum vpay_input_kind kind;
	char digit;                               /* KEY */
	const struct sync_voucher_result *valid;  /* VALID (borrowed for the call) */
	const struct sync_redeem_result *redeem;  /* REDEEMED (borrowed for the call) */
};

enum vpay_ask { VPAY_ASK_NONE, VPAY_ASK_VALIDATE, VPAY_ASK_REDEEM };
enum vpay_outcome { VPAY_GOING, VPAY_PAID, VPAY_BACK, VPAY_OUT_OF_SERVICE };

/* What the page (scr_vpay_build) and the app need now. Message ids are static strings. */
struct vpay_view {
	enum vpay_step step;
	char code_grouped[VCODE_FORMATTED_LEN + 1]; /* as typed, in fours ("9123 45") */
	int digits;                                 /* how many typed */
	const char *msg;            /* voucher.*: the verdict or the latest answer's */
	bool msg_is_error;          /* the page shows msg as a warning */
	bool keys_enabled;          /* CODE, VALID (a key goes back to CODE) */
	bool redeem_enabled;        /* CODE: the code parses; VALID */
	bool back_enabled;          /* every step but REDEEMING and over */
	int64_t remaining_fils;     /* what the basket still owes (vpay_new's figure) */
	/* VALID, REDEEMING: the host's word on the voucher */
	bool value_known;
	int64_t value_fils;         /* the whole value: what is redeemed */
	char expires[11];           /* "YYYY-MM-DD" (Asia/Dubai), as the host gave it */
	int64_t excess_fils;        /* value - remaining when above 0: the basket's rest */
	const char *whole_msg;      /* voucher.whole */
	const char *excess_msg;     /* voucher.excess, or NULL when there is none */
	/* What the app must send now, once: then vpay_ask_sent. */
	enum vpay_ask ask;
	char code[VCODE_DIGITS + 1]; /* canonical */
	char redemption_id[37];      /* REDEEM: the intent's (lowercase uuid) */
	int64_t amount_fils;         /* REDEEM: the whole value */
	/* over */
	enum vpay_outcome outcome;
	int64_t paid_fils;           /* PAID: what the ledger booked */
};

struct vpay;

/* Starts at CODE for the open fees transaction tx_id (borrows the ledger, which must outlive
 * it), which still owes remaining_fils (> 0, from ledger_basket_due). KIO_ERR_INVALID for a
 * remaining_fils <= 0 or a transaction that is not an open fees one (nothing written).
 * Caller frees with vpay_free (accepts NULL), which writes nothing: an unbooked intent is the
 * basket close's or recovery's to void (invariant 4). */
int vpay_new(struct ledger *l, int64_t tx_id, int64_t remaining_fils, struct vpay **out, struct kio_error *err);
void vpay_free(struct vpay *v);

/* The one step function. 0, or (nothing changes) KIO_ERR_INVALID for an input this step does
 * not take or a guard refuses (redeem with a code that does not parse, a key past 16 digits,
 * an answer of the wrong kind or step, anything once over) and KIO_ERR_BUSY for back or keys
 * in REDEEMING (invariant 3). A ledger failure is not an error here: the machine ends
 * OUT_OF_SERVICE with voucher.error.ledger. */
int vpay_step(struct vpay *v, const struct vpay_input *in, int64_t now_s);
void vpay_view(const struct vpay *v, struct vpay_view *out);
/* The app sent view.ask (sync_voucher_ask or sync_voucher_redeem): view.ask is NONE until the
 * next step that needs one. */
void vpay_ask_sent(struct vpay *v);

/* "code", "validating", "valid", "redeeming", "over"; NULL for another value. */
const char *vpay_step_name(int step);
/* "going", "paid", "back", "out-of-service"; NULL for another value. */
const char *vpay_outcome_name(int outcome);
