/*
 * Cash-in unit (the banknote acceptor), modelled on CEN/XFS CIM: the kiosk enables the
 * denominations it will take, decides for each note held in escrow whether to accept or
 * return it, and is told when a note is credited. Implementations: the eSSP driver (real
 * device) and the simulator; the kiosk sees only this header.
 *
 * Invariants every implementation keeps:
 *  1. CASH_EV_CREDITED is reported exactly once per note, and only after the device said
 *     the note can no longer be retrieved.
 *  2. A note in escrow is reported (CASH_EV_ESCROW) before any decision is asked of it,
 *     and ends in exactly one of CREDITED or RETURNED (or a jam/fault event). A note the
 *     unit gives back without asking (it cannot take it safely) is never offered: it is
 *     reported once, as CASH_EV_REJECTED with its value and cause.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"

enum cash_fault {
	CASH_FAULT_NONE,
	CASH_FAULT_JAM,
	CASH_FAULT_STACKER_FULL,
	CASH_FAULT_CASHBOX_REMOVED,
	CASH_FAULT_FRAUD,
	CASH_FAULT_NO_ANSWER,
	CASH_FAULT_DISCONNECTED,
	/* Notes from before a restart that neither the device's events nor its counters can
	 * prove credited or returned, or that the note journal cannot list: the unit stays
	 * disabled until they are decided (the eSSP driver's invariant 5), by a technician if
	 * it lasts. Not a device fault: the unit's own reconciliation. */
	CASH_FAULT_UNDECIDED,
	CASH_FAULT_COUNT
};

enum cash_event_kind {
	CASH_EV_ESCROW,           /* a valid note is held: call accept or return */
	CASH_EV_STACKED,          /* the note reached the cashbox */
	CASH_EV_CREDITED,         /* the credit point: count the money */
	CASH_EV_REJECTED,         /* a note went back with no journey: the device refused it
				   * (fake, unreadable, disabled), or the unit could not take it
				   * safely (see cause) */
	CASH_EV_RETURNED,         /* an escrowed note went back to the customer */
	CASH_EV_FAULT,            /* status.fault changed to a fault */
	CASH_EV_RECOVERED,        /* the fault cleared */
	CASH_EV_COUNT
};

/*
 * Why the unit gave a note back before the kiosk was asked about it (CASH_EV_REJECTED), so
 * the screen can say more than "refused". The customer keeps the note; nothing is credited.
 */
enum cash_cause {
	CASH_CAUSE_NONE,         /* the device refused it (fake, unreadable, disabled) */
	CASH_CAUSE_NOT_RECORDED, /* the note journal could not record it: a note we cannot
				  * record is a note we must not take */
	CASH_CAUSE_NO_COUNTERS,  /* the device could not give its counters: after a crash
				  * nothing could prove whether the note reached the cashbox */
	CASH_CAUSE_COUNT
};

struct cash_event {
	enum cash_event_kind kind;
	int64_t value_fils;   /* ESCROW, STACKED, CREDITED, RETURNED: the note's value */
	enum cash_fault fault; /* FAULT, RECOVERED */
	/* ESCROW, CREDITED, STACKED, RETURNED: the note's journey in the cash journal
	 * (cash-journal.h), so a listener can tie the events of one note together and never
	 * book one twice; 0 when the implementation keeps no journal. */
	int64_t note_id;
	enum cash_cause cause; /* REJECTED: why (CASH_CAUSE_NONE for a device refusal) */
};

#define CASH_MAX_DENOMS 16

struct cash_status {
	enum dev_state state;
	enum cash_fault fault;
	bool enabled;
	bool escrow_held;
	int64_t escrow_fils;
	/* Notes in the cashbox per denomination, index matching denoms_fils. */
	size_t n_denoms;
	int64_t denoms_fils[CASH_MAX_DENOMS];
	uint32_t counts[CASH_MAX_DENOMS];
};

typedef void (*cash_event_fn)(void *user, const struct cash_event *ev);

struct cash_unit;

struct cash_unit_ops {
	/* Takes the listed denominations (fils) from now on; others are refused at the bezel. */
	int (*enable)(struct cash_unit *unit, const int64_t *accepted_fils, size_t n);
	int (*disable)(struct cash_unit *unit);
	/* Decide the note in escrow. KIO_ERR_BUSY if none is held. */
	int (*escrow_accept)(struct cash_unit *unit);
	int (*escrow_return)(struct cash_unit *unit);
	void (*get_status)(struct cash_unit *unit, struct cash_status *out);
	/* Processes what the device sent since the last call. The kiosk calls it whenever the
	 * device's transport wakes it; drivers keep their own timers for polls and timeouts.
	 * NULL when the implementation needs no servicing. */
	void (*service)(struct cash_unit *unit);
	void (*destroy)(struct cash_unit *unit);
};

/* Implementations embed this as their first member. */
struct cash_unit {
	const struct cash_unit_ops *ops;
	const char *name;
	cash_event_fn on_event;
	void *on_event_user;
};

static inline void cash_set_listener(struct cash_unit *unit, cash_event_fn fn, void *user)
{
	unit->on_event = fn;
	unit->on_event_user = user;
}

/* Device-facing helper for implementations: delivers ev to the listener, if any. */
void cash_emit(struct cash_unit *unit, const struct cash_event *ev);

const char *cash_fault_name(enum cash_fault fault);
/* "none", "not-recorded", "no-counters"; never NULL. */
const char *cash_cause_name(enum cash_cause cause);
