/*
 * The note pay-in both paying flows share (topup.c, feespay.c): their hold on the cash-in unit
 * (enabled, faulty), where the customer's note is (session.path), the notes counted by
 * denomination, and the unit's events deferred while a step runs. It decides where and when a
 * note may be taken; how much each flow takes stays the flow's own rule (PAYIN_DECIDE).
 *
 * What it keeps for the flows' invariants (topup.h and feespay.h number them alike):
 *  - invariant 1: payin_enable / payin_disable are the only calls that move `enabled`; the
 *    flow enables only in PAY with its transaction open, and disables on every way out.
 *  - invariant 2: a note offered outside PAY, or with no transaction of the flow open, goes
 *    back (payin_cash); in PAY the flow's rule says, then payin_take or payin_give_back.
 *  - invariant 3: a CREDITED note is not counted into paid here: payin_cash answers
 *    PAYIN_CREDITED and the flow reads its total back from the ledger.
 *  - invariant 5: the path is EMPTY only after CREDITED, RETURNED or REJECTED, so the flow's
 *    CLOSING waits for a note accepted or returning.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/class/cash.h"
#include "kiosk/core/err.h"
#include "kiosk/session/session.h"

/* Events that arrive while a step runs (a unit may report from inside a command we give it):
 * handled in order right after it, so no step ever runs inside another. */
#define PAYIN_PENDING_MAX 16

/* The notices a flow shows in its PAY step, as its own message ids (static strings). */
struct payin_notices {
	const char *returned;     /* a note came back that no rule of ours refused */
	const char *rejected;     /* the device refused a note */
	const char *not_recorded; /* a note could not be journaled or accepted: it went back */
	const char *fault;        /* the unit faulted while paying; kept until it recovers */
	const char *recovered;    /* it recovered */
};

struct payin {
	struct cash_unit *unit;                 /* borrowed */
	const char *what;                       /* the flow's name for its transaction, for the log */
	const struct payin_notices *notices;    /* borrowed */
	bool enabled;          /* we asked the unit to take cash and not yet to stop */
	bool unit_fault;       /* a FAULT not yet RECOVERED */
	bool returning_refused; /* the note going back was refused by the flow's rule */
	int64_t moving_fils;   /* at PAYIN_DECIDE: the note accepted before it, still moving */
	uint32_t by_denom[CASH_MAX_DENOMS];
	bool busy;
	struct cash_event pending[PAYIN_PENDING_MAX];
	size_t n_pending;
};

/* Where the flow stands when a unit's event comes. */
struct payin_at {
	bool paying;        /* the flow is in its PAY step */
	bool tx_open;       /* its ledger transaction is open */
	const char *step;   /* the step's name, for the log */
	int64_t tx_seq;     /* for the log */
	uint64_t now_ms;    /* every note event is a sign of life */
	const int64_t *denoms_fils; /* the flow's denominations, for by_denom */
	size_t n_denoms;
};

/* What the flow does after payin_cash. */
enum payin_next {
	PAYIN_NONE,      /* nothing more */
	PAYIN_DECIDE,    /* ESCROW in PAY with the transaction open: the flow's rule, then
			    payin_take or payin_give_back(refused = true) */
	PAYIN_CREDITED,  /* a note credited to the open transaction: read paid from the ledger */
	PAYIN_FAULT,     /* the unit faulted (logged; the PAY notice set) */
	PAYIN_RECOVERED, /* the unit recovered (the PAY notice set) */
};

/* A paying flow's notes and card issuers as its configuration gives them: 1 to CASH_MAX_DENOMS
 * notes, each worth more than nothing; at most SESSION_PREFIXES_MAX issuer prefixes of 1 to
 * SESSION_PREFIX_DIGITS digits (none: any issuer). 0, or KIO_ERR_INVALID with err naming the
 * flow ("top-up") and the item. */
int payin_config_check(const char *flow, const int64_t *denoms_fils, size_t n_denoms, const char *const *prefixes,
		       size_t n_prefixes, struct kio_error *err);

/* Everything zero but the unit, the label ("transaction") and the notices (all borrowed). */
void payin_init(struct payin *pin, struct cash_unit *unit, const char *what, const struct payin_notices *notices);

/* A new payment: no note counted by denomination, none going back for a rule. */
void payin_restart(struct payin *pin);

/* The unit's own status is the truth; the FAULT/RECOVERED events say when it changes. */
bool payin_faulty(const struct payin *pin);

/* Enables the unit for the denominations; `enabled` on success. The unit's error code. */
int payin_enable(struct payin *pin, const int64_t *denoms_fils, size_t n);
/* Disables the unit, logging a refusal (the flow goes on: it no longer asks for cash). */
void payin_disable(struct payin *pin);

/*
 * A unit's event: the session's path and activity, the count by denomination and the PAY
 * notices (*notice) as the flows' tables say; returns what is left to the flow. ESCROW
 * outside PAY or with no transaction open is returned here; a CREDITED with none open is
 * logged as suspense (tx.c invariant 2).
 */
enum payin_next payin_cash(struct payin *pin, struct session *s, const struct cash_event *ev,
			   const struct payin_at *at, const char **notice);

/* The note in escrow back to the customer; refused: by the flow's rule (no "returned" notice). */
void payin_give_back(struct payin *pin, struct session *s, bool refused);
/* Accepts the note in escrow; when the unit refuses, the note goes back with not_recorded. */
void payin_take(struct payin *pin, struct session *s, const char **notice);

/* The step guard. While a step runs (payin_busy), a CASH event waits (payin_defer: 0, or
 * KIO_ERR_BUSY when PAYIN_PENDING_MAX wait already) and anything else is refused by the flow
 * with KIO_ERR_BUSY; payin_leave hands the waiting events to on_cash in order, those that
 * come meanwhile too, and ends the step. */
bool payin_busy(const struct payin *pin);
int payin_defer(struct payin *pin, const struct cash_event *ev);
void payin_enter(struct payin *pin);
void payin_leave(struct payin *pin, void (*on_cash)(void *flow, const struct cash_event *ev), void *flow);
