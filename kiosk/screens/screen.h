/*
 * The customer-facing screens as an explicit state machine. Each screen has a stable id
 * (scenarios and logs use it), builds its page from the kiosk's state, and reacts to taps
 * by asking the app to change state. Screens see the app's narrow API (kiosk/app.h), the
 * device classes and the ledger; never SDL, libusb or SQLite.
 *
 *   attract --(language chosen)--> home --(service)--> topup | buy-card | fees | balance
 *      ^                            |                            |
 *      +----(cancel, or inactivity timeout on any customer screen)+
 *
 *   specimen: a developer's screen (text engine cases), reached only by the scenario
 *   command `goto`; it leaves to attract.
 */
#pragma once

#include <stdbool.h>

#include "kiosk/ui/widget.h"

struct app;

enum scr_id { SCR_ATTRACT, SCR_HOME, SCR_TOPUP, SCR_BUY_CARD, SCR_FEES, SCR_BALANCE,
	     SCR_SPECIMEN, SCR_COUNT };

struct scr_def {
	const char *id;
	/* A customer is mid-session here: the inactivity timeout applies. */
	bool customer_session;
	void (*build)(struct app *app, struct ui_page *page);
	void (*on_tap)(struct app *app, const char *widget_id);
};

const struct scr_def *scr_get(enum scr_id id);
/* Looks a screen up by its id string; KIO_ERR_INVALID if unknown. */
int scr_parse(const char *id, enum scr_id *out);
