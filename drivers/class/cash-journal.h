/*
 * The note journey: how a cash-in driver records each banknote from escrow to the cashbox
 * (or back to the customer) so that a crash never loses or doubles one. The driver writes
 * every step here, durably, before it acts on the step or reports it; at start-up it lists
 * the journeys that are not over and reconciles them with what the device says.
 * Implementations: kiosk/ledger/notes.h (SQLite); the ledger takes this interface over.
 *
 * A journey:
 *
 *   ESCROW ──► ACCEPTED ──► CREDITED ──► STACKED
 *     │           │  ▲          ▲
 *     │           └──┼──────────┘ (credit seen, or proven at reconciliation)
 *     ├──────────────┘ (the device credited an undecided note: power-up, anomaly)
 *     └──► RETURNED ◄── ACCEPTED
 *
 * Invariants every implementation keeps:
 *  1. A note enters CREDITED at most once: advance() to CREDITED from anything but ESCROW
 *     or ACCEPTED fails with KIO_ERR_INVALID and changes nothing. The driver reports
 *     CASH_EV_CREDITED only after that advance returned 0.
 *  2. STACKED and RETURNED are final; nothing moves a note backwards.
 *  3. Every advance that returned 0 survives a crash or power cut (it is committed).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiosk/core/err.h"

enum cash_note_state {
	CASH_NOTE_ESCROW,   /* held in escrow; the kiosk has not decided */
	CASH_NOTE_ACCEPTED, /* the kiosk accepted; the driver is letting it stack */
	CASH_NOTE_CREDITED, /* past the device's credit point: the money counts */
	CASH_NOTE_STACKED,  /* in the cashbox: over */
	CASH_NOTE_RETURNED, /* back at the bezel or cleared from the front: over, no money */
	CASH_NOTE_STATE_COUNT
};

/* "escrow", "accepted", ...: as stored, and for logs. Never NULL. */
static inline const char *cash_note_state_name(enum cash_note_state state)
{
	static const char *const names[CASH_NOTE_STATE_COUNT] = {"escrow", "accepted", "credited", "stacked",
								 "returned"};
	return (unsigned)state < CASH_NOTE_STATE_COUNT ? names[state] : "?";
}

/* True for STACKED and RETURNED. */
static inline bool cash_note_state_final(enum cash_note_state state)
{
	return state == CASH_NOTE_STACKED || state == CASH_NOTE_RETURNED;
}

/* The moves of the diagram above: true if `from` may advance to `to`. */
static inline bool cash_note_move_allowed(enum cash_note_state from, enum cash_note_state to)
{
	switch (to) {
	case CASH_NOTE_ACCEPTED:
		return from == CASH_NOTE_ESCROW;
	case CASH_NOTE_CREDITED:
		return from == CASH_NOTE_ESCROW || from == CASH_NOTE_ACCEPTED;
	case CASH_NOTE_STACKED:
		return from == CASH_NOTE_CREDITED;
	case CASH_NOTE_RETURNED:
		return from == CASH_NOTE_ESCROW || from == CASH_NOTE_ACCEPTED;
	default:
		return false;
	}
}

#define CASH_NOTE_DEVICE_MAX 32

struct cash_note {
	int64_t id;                         /* given by begin(); unique, never reused */
	char device[CASH_NOTE_DEVICE_MAX];  /* the unit it went into: "essp:001C962C" */
	uint8_t channel;                    /* the device's channel, 0 if unknown */
	int64_t value_fils;
	enum cash_note_state state;
	/* The device's persistent counters when the note reached escrow (GA138 Get Counters):
	 * the stacked count proves, after a crash, whether the note reached the cashbox. */
	bool counters_known;
	uint32_t stacked_before;
	uint32_t rejected_before;
};

struct cash_journal;

struct cash_journal_ops {
	/* Records a new journey in note->state (ESCROW, or CREDITED for a note the device
	 * credited without an escrow we saw) and sets note->id. Durable when it returns 0. */
	int (*begin)(struct cash_journal *j, struct cash_note *note, struct kio_error *err);
	/* Moves journey id to `to`, saying why ("poll: NOTE CREDIT", "power-up: cleared into
	 * cashbox", "counters: stacked +1"). KIO_ERR_INVALID for a move the diagram above does not
	 * have (invariants 1, 2), KIO_ERR_NOT_FOUND for an unknown id. Durable when it returns 0. */
	int (*advance)(struct cash_journal *j, int64_t id, enum cash_note_state to, const char *why,
		       struct kio_error *err);
	/* Fills out[0..*n) with the journeys of `device` that are not over (ESCROW, ACCEPTED,
	 * CREDITED), oldest first, at most cap of them; *n counts all there are. */
	int (*list_open)(struct cash_journal *j, const char *device, struct cash_note *out, size_t cap,
			 size_t *n, struct kio_error *err);
};

/* Implementations embed this as their first member. */
struct cash_journal {
	const struct cash_journal_ops *ops;
};

static inline int cash_journal_begin(struct cash_journal *j, struct cash_note *note, struct kio_error *err)
{
	return j->ops->begin(j, note, err);
}

static inline int cash_journal_advance(struct cash_journal *j, int64_t id, enum cash_note_state to,
				       const char *why, struct kio_error *err)
{
	return j->ops->advance(j, id, to, why, err);
}

static inline int cash_journal_list_open(struct cash_journal *j, const char *device, struct cash_note *out,
					 size_t cap, size_t *n, struct kio_error *err)
{
	return j->ops->list_open(j, device, out, cap, n, err);
}
