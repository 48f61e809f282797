/*
 * When start-up recovery may end the transactions a crash left open (kiosk/recovery.c
 * invariant 1), as one pure function of what the ledger and the cash class say and of the
 * time waited: the app's recovery and the crash suite (tests/crash/crash.c) both ask it, so
 * the rule they test is the rule that runs.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "drivers/class/cash.h"

/* How long recovery waits for the acceptor to settle its open journeys (it may be unplugged,
 * or never answer) before it ends the open transaction with the notes booked so far: a note
 * the acceptor credits later goes to suspense (tx.c invariant 2), never nowhere. */
#define RECOVERY_SETTLE_WAIT_MS 60000

struct recovery_rule_in {
	bool store_failing;     /* ledger_failing: the store is out of service */
	bool journal_read;      /* the note journal was read; false: in_path is unknown */
	int64_t in_path;        /* note journeys in ESCROW or ACCEPTED (ledger_notes_count) */
	enum dev_state cash_state; /* the acceptor's cash_status */
	enum cash_fault cash_fault;
	uint64_t waited_ms;     /* since recovery started (or restarted) */
};

enum recovery_verdict {
	RECOVERY_WAIT_STORE,    /* wait, quietly: the store's fault listener has said it already */
	RECOVERY_WAIT_JOURNAL,  /* wait: the journal cannot be read (worth a warning) */
	RECOVERY_WAIT_SETTLE,   /* wait: the acceptor is still settling the notes in its path */
	RECOVERY_NOW_EMPTY,     /* end them now: nothing in the path, the booked payments are all */
	RECOVERY_NOW_SETTLED,   /* end them now: the acceptor is in service, its journeys ended */
	RECOVERY_NOW_UNDECIDED, /* give up: the acceptor reports journeys it cannot decide */
	RECOVERY_NOW_TIMEOUT,   /* give up: RECOVERY_SETTLE_WAIT_MS passed without it settling */
	RECOVERY_VERDICT_COUNT
};

enum recovery_verdict recovery_rule(const struct recovery_rule_in *in);
/* Whether the verdict is one of the RECOVERY_NOW_* (end the open transactions now). */
bool recovery_rule_now(enum recovery_verdict v);
/* Whether recovering now is giving up on the acceptor (worth a warning with the reason). */
bool recovery_rule_gave_up(enum recovery_verdict v);
/* "wait-store", "wait-journal", ...; NULL for another value. */
const char *recovery_verdict_name(enum recovery_verdict v);
