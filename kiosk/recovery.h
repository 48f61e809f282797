/*
 * Start-up recovery: ends every transaction a crash (or a spell out of service) left open once
 * the note acceptor has settled the notes that were in its path, and prints each recovered transaction's receipt
 * when the receipt printer can, once (kiosk/txreceipt.h), also after further restarts. The
 * application creates it after the devices and passes it the receipt printer's events;
 * recovery.c draws its states and lists its invariants.
 */
#pragma once

#include <stdbool.h>

#include "drivers/class/receipt.h"
#include "kiosk/core/clock.h"
#include "kiosk/core/config.h"
#include "kiosk/core/i18n.h"
#include "kiosk/core/timers.h"
#include "kiosk/devices.h"
#include "kiosk/ledger/notes.h"
#include "kiosk/ledger/store.h"
#include "kiosk/recovery-rule.h" /* RECOVERY_SETTLE_WAIT_MS: when it may end them */
#include "kiosk/text/text.h"
/* How often it looks again while it waits for the acceptor or the receipt printer. */
#define RECOVERY_TICK_MS 500
/* Sends of one recovery receipt that never printed after which it is given up (recovery.c
 * invariant 8): the printer reported it failed, or the kiosk died, each time it went out. */
#define RECOVERY_RECEIPT_TRIES 3

struct catalogue; /* kiosk/fees/catalogue.h */

struct recovery_ctx {
	struct ledger *ledger;       /* all borrowed; they must outlive the recovery */
	struct ledger_notes *notes;
	struct devices *devices;
	struct text_engine *engine;
	const struct i18n *i18n;
	const struct core_config *cfg;
	/* The fees catalogue: a recovered fees transaction's receipt names its lines from it
	 * (NULL: by their ids). */
	const struct catalogue *catalogue;
	const struct core_clock *clock;
	struct core_timers *timers;
	/* Whether a recovery receipt may print now: false while a customer is being served, whose
	 * receipt tray it would land in. NULL: always. Asked from the loop. */
	bool (*may_print)(void *user);
	void *may_print_user;
};

struct recovery;

/* Starts recovery: ends the open transactions at once when no note journey is undecided,
 * otherwise from its timer once the acceptor settled. Caller frees with recovery_free. */
struct recovery *recovery_new(const struct recovery_ctx *ctx);
void recovery_free(struct recovery *r); /* accepts NULL; cancels its timer */

/* The receipt printer's events, all of them (the app's listener forwards each). Every
 * transaction receipt reported printed (txreceipt job ids, the done screen's too) is recorded
 * in the ledger here. */
void recovery_on_receipt_event(struct recovery *r, const struct receipt_event *ev);

/* Runs recovery again from its first phase: the store is back in service, and what a flow
 * could not end while it was out (kiosk/app.c) is ended as a crash's is, its receipt printed
 * once. A receipt at the printer is still followed. Accepts NULL. */
void recovery_restart(struct recovery *r);

/* Open transactions may still be ended (waiting for the acceptor, or the store): no customer
 * may start a money service until this is false (recovery.c invariant 6). False for NULL. */
bool recovery_pending(const struct recovery *r);

/* For tests and the technicians' menu: open transactions are ended, and no recovery receipt
 * is waiting for the printer. */
bool recovery_idle(const struct recovery *r);
