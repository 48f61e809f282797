/*
 * The fees flow, browsing half (issue 13, "The journey"): a customer picks an entity and a
 * service from the catalogue (kiosk/fees/catalogue.h), types the service's reference, gets the
 * amount (fixed from the catalogue, looked up at the host, or chosen within bounds) and adds it
 * to a basket of up to FEES_BASKET_MAX lines from any entities. One enum of steps and one step
 * function over the catalogue; no SDL, no ledger, no device: screens render fees_view and
 * forward taps and the host's answers here. Paying the basket is the paying half's
 * (kiosk/flows/feespay.h): `basket.pay` leads to PAY, where this flow waits while the screens
 * run the paying flow over the basket's lines; nothing is booked here.
 *
 *   home.fees
 *       │
 *       ▼      entity.<id>                  service.<id>: reference (has_reference)
 *    ENTITY ─────────────────► SERVICE ──────────────────────────► REFERENCE ◄──┐ key/del/clear
 *     ▲  │ back/cancel:         │ ▲  │ service.<id>, no reference       │ │ └───┘ (verdict shown)
 *     │  │ END home             │ │  │ (fixed, or open without host)    │ │ next: the reference
 *     │  │ (back with lines:    │ │  └──────────────────────┐           │ │ checked (invariant 2);
 *     │  │  BASKET)             │ │ back                    │           │ │ not needs_host ──┐
 *     │  │       back ◄─────────┘ └───────────── back ◄─────┼───────────┘ │ needs_host,      │
 *     │  │                                                  │             │ online: ask      ▼
 *     │  │                         ┌── host: ok ──── CHECKING ◄───────────┘             AMOUNT
 *     │  │                         │   (not found, unreachable, error: REFERENCE + why)   ▲ │
 *     │  │                         └──────────────────────────────────────────────────────┘ │
 *     │  │                                 up/down/keys (open), bill.<n> (items), add ──────┘
 *     │  ▼                                                                                  │
 *     └── more ─── BASKET ◄──────────────────────── add: the line(s) appended ◄─────────────┘
 *                  │ ▲ remove.<n>                                  ▲
 *                  │ │                                             │ back
 *                  │ └ pay (≥ 1 line; offline: none needs the host, within the limits) ─► PAY
 *                  │                                    (feespay.h; back: nothing was paid)
 *                  │ cancel: END home (nothing was booked)
 *                  ▼
 *                 END (exit home; attract by the app's inactivity timeout, invariant 7)
 *
 *   step       input                   guard                                next
 *   ENTITY     entity <id>             the catalogue has it                 SERVICE  (on_entity)
 *   ENTITY     back                    basket has lines                     BASKET
 *   ENTITY     back                    basket empty                         END home
 *   ENTITY     cancel                                                       END home
 *   SERVICE    service <id>            available (invariant 4)              REFERENCE (has_reference)
 *   SERVICE    service <id>            available, no reference, needs_host  CHECKING (ask)
 *   SERVICE    service <id>            available, no reference              AMOUNT
 *   SERVICE    service <id>            needs the host, offline              SERVICE, needs-host
 *   SERVICE    back                                                         ENTITY
 *   REFERENCE  key, del, clear         key: below max_len                   REFERENCE, verdict anew
 *   REFERENCE  next                    verdict not ok                       REFERENCE, its message
 *   REFERENCE  next                    ok, needs_host, online               CHECKING (the app asks)
 *   REFERENCE  next                    ok, needs_host, offline              REFERENCE, needs-host
 *   REFERENCE  next                    ok, no host needed                   AMOUNT (catalogue's)
 *   REFERENCE  back                                                         SERVICE
 *   CHECKING   answer ok, something due                                     AMOUNT (host's)
 *   CHECKING   answer ok, nothing due or all of it in the basket            REFERENCE, nothing-due
 *   CHECKING   answer not found                                             REFERENCE, unknown
 *   CHECKING   answer unreachable, not configured                           REFERENCE, needs-host,
 *                                                                           offline (invariant 4)
 *   CHECKING   answer error, or one the flow cannot use                     REFERENCE, host-error
 *   CHECKING   back                                                         REFERENCE
 *   AMOUNT     up, down                open                                 AMOUNT, one step
 *   AMOUNT     key, del, clear         open                                 AMOUNT, typed AED
 *   AMOUNT     bill <n>                items, not in the basket yet         AMOUNT, chosen toggled
 *   AMOUNT     add                     amount valid, room in the basket     BASKET (fees_add)
 *   AMOUNT     add                     no room                              AMOUNT, basket-full
 *   AMOUNT     back                                                         REFERENCE, or SERVICE
 *   BASKET     remove <n>              line n exists                        BASKET
 *   BASKET     more                    room in the basket                   ENTITY
 *   BASKET     pay                     ≥ 1 line, online                     PAY (feespay.h)
 *   BASKET     pay                     offline, a line needs the host       BASKET, needs-host
 *   BASKET     pay                     offline, past the offline limits     BASKET, offline-limit
 *   BASKET     pay                     offline, fixed lines within limits   PAY
 *   BASKET     back                                                         ENTITY (as more)
 *   PAY        back (the paying flow ended with nothing paid)               BASKET
 *   any but END cancel                                                      END home
 *   any        link online/offline                                          same (invariant 4)
 *   END        (anything)                                                   END
 *
 * Invariants (cited in fees.c):
 *  1. Nothing durable: the flow books nothing, opens no ledger transaction and enables no
 *     acceptor in any step (PAY hands the lines to the paying flow, feespay.h, which does). A way
 *     out at any step, by any path, loses nothing but the basket in memory, which is the
 *     customer's to rebuild; inquiry results live in the flow and die with it.
 *  2. The host is never asked about a reference the catalogue's own check refuses
 *     (catalogue_reference_check): next with a verdict other than ok stays at REFERENCE with
 *     the verdict's message (fees.reference.<verdict>).
 *  3. A CHECKING answer moves the flow only in CHECKING and only for the service and
 *     reference it was asked about (fees_input.answer carries them): a late answer to an
 *     abandoned question moves nothing.
 *  4. A service that needs the host is offered only while the link is online (FEES_IN_LINK,
 *     and an answer UNREACHABLE or NOT_CONFIGURED sets it offline until the app says online
 *     again): no question is asked while offline; it says it needs the host. Services that do
 *     not need the host (a fixed fee, an open amount without an inquiry) are always offered.
 *  5. Every line in the basket has an amount > 0 within what was offered: a fixed fee is the
 *     catalogue's amount, a looked-up bill is the host's figure, an open amount lies in
 *     [min, max] on a step from min. The total is the sum of the lines, in fils.
 *  6. A bill (entity, service, reference, host item id) is in the basket at most once: an item
 *     already there is shown so and cannot be chosen again, and an answer whose every item is
 *     in the basket says nothing is left to add.
 *  8. Offline, a basket is paid only when none of its lines needs the host; online or not, only
 *     when its total is within FEES_IN_PAY's allowance_fils, which the app reads from the
 *     offline limits (sync_offline_check_basket) at every PAY, by the top-up's rule (topup.h
 *     invariant 11): offline, what the limits leave; online, no limit (-1) unless the money the
 *     host has not acknowledged is already past a limit, and 0 then, since a link down but not
 *     yet seen so settles the lines offline (feespay.h). Else BASKET says why
 *     (basket.needs-host, basket.offline-limit) and nothing opens.
 *  7. No timers of its own: with nothing booked, the app's ordinary inactivity timeout ends the
 *     session on any of its screens (screen.h, lifecycle 4), and the screens' leave frees the
 *     flow.
 *
 * Message ids (stable; locales/ar.po and en.po). The view names those that depend on state:
 *   fees.title                  the entity list's title (Government fees)
 *   fees.entity.prompt          choose the entity
 *   fees.entity.count           {count} services (plural)
 *   fees.service.prompt         choose the service
 *   fees.service.fixed          a fixed fee: {amount}
 *   fees.service.inquiry        the amount is looked up with the reference
 *   fees.service.open           choose an amount from {min} to {max}
 *   fees.service.needs-host     needs the host, which cannot be reached now
 *   fees.reference.name         over the number: the catalogue's reference name and its length
 *   fees.reference.name-range   ... when its length is a range
 *   fees.reference.enter        type the number on the keypad
 *   fees.reference.empty        CAT_REF_EMPTY: nothing typed
 *   fees.reference.short        CAT_REF_SHORT: too few digits ({min})
 *   fees.reference.long         CAT_REF_LONG: too many digits ({max})
 *   fees.reference.char         CAT_REF_CHAR: only digits
 *   fees.reference.check        CAT_REF_CHECK: the check digit does not match (mistyped)
 *   fees.reference.ok           the reference is well formed: press next
 *   fees.reference.checking     CHECKING: looked up with the entity
 *   fees.reference.unknown      the entity does not know this reference
 *   fees.reference.nothing-due  nothing is due on it (or all of it is in the basket)
 *   fees.reference.needs-host   the look-up needs the host, which cannot be reached now
 *   fees.reference.host-error   the entity could not answer now: try again later
 *   fees.amount.due             the amount due (fixed, or the host's figure)
 *   fees.amount.payee           the payee as the host gave it, masked ({payee})
 *   fees.amount.choose-bills    choose the items to pay
 *   fees.amount.in-basket       an item already in the basket
 *   fees.amount.choose          choose the amount (open)
 *   fees.amount.limits          from {min} to {max}, in steps of {step}
 *   fees.amount.below-min       the typed amount is below the minimum
 *   fees.amount.above-max       the typed amount is above the maximum
 *   fees.amount.off-step        the amount must be a whole step from the minimum
 *   fees.amount.none-chosen     choose at least one item
 *   fees.add                    add to the basket
 *   basket.title, basket.empty, basket.total, basket.more, basket.pay, basket.remove
 *   basket.full                 the basket holds FEES_BASKET_MAX lines: pay or remove one
 *   basket.no-change            no change is given (said before any cash, as the top-up does)
 *   basket.needs-host           offline: a line needs the host; remove it or pay later
 *   basket.offline-limit        offline: the total is past what the kiosk may take offline
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiosk/core/err.h"
#include "kiosk/fees/catalogue.h"

/* The most lines a basket holds: the ledger's basket (kiosk/ledger/basket.h, LEDGER_BASKET_MAX). */
#define FEES_BASKET_MAX 10
/* The most items one inquiry answer lists (sync_fee_ask, LINK). */
#define FEES_ITEMS_MAX 8
#define FEES_BILL_MAX 32
#define FEES_TEXT_MAX 160
/* The longest open amount the keypad types, in whole AED digits (AED 9,999,999). */
#define FEES_TYPED_AED_MAX 7

enum fees_step {
	FEES_ENTITY,    /* the entity list */
	FEES_SERVICE,   /* the chosen entity's services */
	FEES_REFERENCE, /* the reference on the keypad */
	FEES_CHECKING,  /* the app asks the host about the reference; nothing changes meanwhile */
	FEES_AMOUNT,    /* the amount: fixed, the host's items, or open */
	FEES_BASKET,    /* the lines, their total */
	FEES_PAY,       /* the paying flow runs over the lines (feespay.h); this one waits */
	FEES_END,       /* over: the app goes home */
	FEES_STEP_COUNT
};

enum fees_input_kind {
	FEES_IN_ENTITY,  /* id: an entity id */
	FEES_IN_SERVICE, /* id: a service id of the current entity */
	FEES_IN_KEY,     /* digit '0'..'9' (REFERENCE; AMOUNT, open) */
	FEES_IN_DEL,
	FEES_IN_CLEAR,
	FEES_IN_NEXT,    /* REFERENCE */
	FEES_IN_UP,      /* AMOUNT, open: one step */
	FEES_IN_DOWN,
	FEES_IN_BILL,    /* n: an item of the host's answer, 1.. (toggles it) */
	FEES_IN_ADD,
	FEES_IN_REMOVE,  /* n: a basket line, 1.. */
	FEES_IN_MORE,
	FEES_IN_PAY,
	FEES_IN_BACK,
	FEES_IN_CANCEL,
	FEES_IN_LINK,    /* online: whether the host can be asked now (invariant 4) */
	FEES_IN_ANSWER,  /* CHECKING: the host's answer (invariant 3) */
	FEES_IN_COUNT
};

/* The host's answer to an inquiry, as the app read it (sync_fee_ask's result). */
enum fees_answer_result {
	FEES_ANSWER_OK,
	FEES_ANSWER_NOT_FOUND,      /* the entity does not know the reference */
	FEES_ANSWER_UNREACHABLE,    /* no answer in time */
	FEES_ANSWER_NOT_CONFIGURED, /* no host: a standalone kiosk */
	FEES_ANSWER_ERROR,          /* an answer that says it cannot answer, or one unusable */
	FEES_ANSWER_RESULT_COUNT
};
enum fees_due_kind { FEES_DUE_FIXED, FEES_DUE_ITEMS, FEES_DUE_OPEN, FEES_DUE_KIND_COUNT };

struct fees_item {
	char id[FEES_BILL_MAX + 1];
	char description[FEES_TEXT_MAX + 1];
	int64_t amount_fils;
};

struct fees_answer {
	/* What was asked (invariant 3): the service and the reference. */
	char entity[CAT_ID_MAX + 1], service[CAT_ID_MAX + 1], reference[CAT_REF_MAX + 1];
	enum fees_answer_result result;
	enum fees_due_kind kind;
	char payee[FEES_TEXT_MAX + 1];       /* masked by the host */
	char description[FEES_TEXT_MAX + 1];
	int64_t due_fils;                    /* FIXED */
	struct fees_item items[FEES_ITEMS_MAX];
	size_t n_items;                      /* ITEMS */
	int64_t min_fils, max_fils, step_fils; /* OPEN */
};

struct fees_input {
	enum fees_input_kind kind;
	const char *id; /* ENTITY, SERVICE: borrowed for the call */
	char digit;
	int n;          /* BILL, REMOVE */
	bool online;    /* LINK */
	int64_t allowance_fils; /* PAY while offline: what the offline limits leave; < 0: no limit */
	const struct fees_answer *answer; /* ANSWER: borrowed for the call */
};

/* A basket line: the fields of the ledger's line (basket.h, ledger_fee_line), and what the
 * basket screen shows of it. Catalogue ids (not the host path): the entity and service. */
struct fees_line {
	char entity[CAT_ID_MAX + 1], service[CAT_ID_MAX + 1];
	char reference[CAT_REF_MAX + 1]; /* "" for a service without one */
	char bill[FEES_BILL_MAX + 1];    /* the host's item id, "" when none */
	char description[FEES_TEXT_MAX + 1]; /* the host's item or bill description, "" when none */
	int64_t amount_fils;
	bool needs_host;                 /* the service needs the host (invariant 8) */
};

/* What a screen needs. Pointers into the catalogue are borrowed from it; ids are static. */
struct fees_view {
	enum fees_step step;
	bool online;                          /* invariant 4 */
	const struct cat_entity *entity;      /* SERVICE on */
	const struct cat_service *service;    /* REFERENCE on */
	char reference[CAT_REF_MAX + 1];      /* as typed */
	const char *reference_msg;            /* REFERENCE, CHECKING: fees.reference.* */
	bool next_enabled;                    /* REFERENCE: something typed (the check says the rest) */
	bool checking;                        /* CHECKING: the app asks (ask_* below) */
	const char *notice;                   /* what went wrong last (needs-host, basket-full...) */
	/* AMOUNT */
	enum fees_due_kind kind;
	bool from_host;                       /* the figures are the host's answer */
	char payee[FEES_TEXT_MAX + 1], description[FEES_TEXT_MAX + 1];
	int64_t amount_fils;                  /* FIXED: the amount; OPEN: the current one */
	int64_t min_fils, max_fils, step_fils;
	bool typing;                          /* OPEN: the keypad is typing a figure */
	const char *amount_msg;               /* OPEN: a typed figure's fault, or NULL */
	bool up_enabled, down_enabled;
	struct fees_item items[FEES_ITEMS_MAX];
	bool chosen[FEES_ITEMS_MAX], in_basket[FEES_ITEMS_MAX];
	size_t n_items;
	bool add_enabled;
	/* BASKET */
	struct fees_line lines[FEES_BASKET_MAX];
	size_t n_lines;
	int64_t total_fils;
	bool more_enabled, pay_enabled;
};

struct fees;

/* Starts at ENTITY. Borrows cat, which must outlive the flow. online: the link's state now
 * (invariant 4). KIO_ERR_INVALID when the catalogue has no entity. Caller frees. */
int fees_new(const struct catalogue *cat, bool online, struct fees **out, struct kio_error *err);
void fees_free(struct fees *f); /* accepts NULL */

/* The one step function: 0, or KIO_ERR_INVALID (nothing changes) for an input this step does
 * not take or a guard refuses (view.notice or a message says why when the customer could have
 * caused it). */
int fees_step(struct fees *f, const struct fees_input *in);
void fees_view(const struct fees *f, struct fees_view *out);
enum fees_step fees_current(const struct fees *f);
/* Whether service s of the current catalogue is offered now (invariant 4). */
bool fees_service_open(const struct fees *f, const struct cat_service *s);

/* "entity", "service", "reference", "checking", "amount", "basket", "pay", "end"; NULL
 * for another value. */
const char *fees_step_name(int step);
/* "ok", "not-found", "unreachable", "not-configured", "error"; NULL for another value. */
const char *fees_answer_result_name(int result);
