/*
 * The customer's transactions in the money ledger: open one (a top-up for a card), read what
 * was paid into it, complete or cancel it, and at start-up recover what a crash left open.
 * Cash payments are booked by the note journal itself (notes.h) as each note is credited.
 * Pure C: the flows and screens see this header, never SQLite. docs/ledger.md has the
 * diagrams; tx.c has the invariants and the kill points.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiosk/core/err.h"
#include "store.h"

/* A fees transaction is opened, paid and ended through basket.h. */
enum ledger_tx_kind { LEDGER_TX_TOPUP, LEDGER_TX_FEES, LEDGER_TX_KIND_COUNT };
enum ledger_tx_state { LEDGER_TX_OPEN, LEDGER_TX_COMPLETED, LEDGER_TX_CANCELLED, LEDGER_TX_STATE_COUNT };

/* "topup", "fees"; "open", "completed", "cancelled": as stored. NULL for another value. */
const char *ledger_tx_kind_name(int kind);
const char *ledger_tx_state_name(int state);

#define LEDGER_CARD_DIGITS 16

struct ledger_tx {
	int64_t id;     /* its record number in the ledger; the handle of the calls below */
	int64_t seq;    /* the kiosk's transaction number: 1, 2, 3... without gaps */
	char uuid[37];  /* the host's idempotency key (random, RFC 4122 version 4) */
	enum ledger_tx_kind kind;
	char lang[3];   /* "ar" or "en" */
	char card[LEDGER_CARD_DIGITS + 1]; /* the top-up's card number, all digits */
	enum ledger_tx_state state;
	bool recovered; /* ended by start-up recovery, not by the customer */
	int64_t paid_fils;     /* cash booked to it so far (a basket's vouchers: ledger_basket_due) */
	int64_t notes;         /* how many notes */
	int64_t credited_fils; /* what it credited (0 unless COMPLETED) */
	int64_t opened_s, ended_s; /* wall time; ended_s 0 while open */
};

/* Opens a transaction of `kind` in `lang` ("ar"/"en"); card: the top-up's 16 digits (the
 * flow checked Luhn and the issuer). Committed when it returns 0; *out is filled.
 * KIO_ERR_BUSY when one is already open (invariant 1), KIO_ERR_INVALID for bad arguments,
 * KIO_ERR_IO when the store cannot write (then FAILING). */
int ledger_tx_open(struct ledger *ledger, int64_t now_s, enum ledger_tx_kind kind, const char *lang,
		   const char *card, struct ledger_tx *out, struct kio_error *err);

/* The open transaction, if any: KIO_ERR_NOT_FOUND when none is open. */
int ledger_tx_current(struct ledger *ledger, struct ledger_tx *out, struct kio_error *err);
/* Any transaction by id. KIO_ERR_NOT_FOUND for an unknown id. */
int ledger_tx_get(struct ledger *ledger, int64_t id, struct ledger_tx *out, struct kio_error *err);
/* A transaction by its number (seq). KIO_ERR_NOT_FOUND for a number never given. */
int ledger_tx_get_seq(struct ledger *ledger, int64_t seq, struct ledger_tx *out, struct kio_error *err);
/* What has been paid into it: total and number of notes. */
int ledger_tx_paid(struct ledger *ledger, int64_t id, int64_t *paid_fils, int64_t *notes, struct kio_error *err);

/* Completes an open transaction: a top-up credits what was paid into it, which must be more
 * than nothing (cancel it otherwise), and is queued for sync. *out (may be NULL) is the
 * completed transaction. KIO_ERR_INVALID: not open, or nothing paid, or a fees transaction
 * (those end with ledger_basket_close, basket.h; so does their cancel). */
int ledger_tx_complete(struct ledger *ledger, int64_t id, int64_t now_s, struct ledger_tx *out,
		       struct kio_error *err);
/* Cancels an open transaction with nothing paid. KIO_ERR_INVALID if not open or money was
 * paid (complete it: the customer's money is never dropped). */
int ledger_tx_cancel(struct ledger *ledger, int64_t id, int64_t now_s, struct kio_error *err);

/* Start-up recovery: ends every transaction left open, each in its own commit, from the
 * notes booked to it: completed and recorded as recovered if anything was paid (a top-up
 * credits all of it; a fees transaction decides its open lines and gives its rest a voucher,
 * basket.c), cancelled as recovered otherwise. *list (caller frees with free(); NULL
 * when *n is 0) holds them as ended, for recovery receipts. Run it after the cash devices
 * settled their open journeys when possible: a note credited after recovery has no open
 * transaction and goes to suspense (tx.c invariant 2). */
int ledger_tx_recover(struct ledger *ledger, int64_t now_s, struct ledger_tx **list, size_t *n,
		      struct kio_error *err);

/* ---- what a receipt needs (kiosk/txreceipt.h prints it) ---- */

/* The UAE's banknotes are seven; room for a new series beside an old one. */
#define LEDGER_DENOMS_MAX 16

struct ledger_denom {
	int64_t value_fils; /* one note's value: 10000 for AED 100 */
	int64_t count;      /* how many of them were paid */
};

/* The cash paid into transaction id, read from its booked payments, one entry per note value,
 * highest value first: "2 x AED 100, 1 x AED 50". *n is 0 when nothing was paid.
 * KIO_ERR_NOT_FOUND for an unknown id; KIO_ERR_INVALID when more than max values were paid
 * (nothing is cut short silently). */
int ledger_tx_notes_by_denom(struct ledger *ledger, int64_t id, struct ledger_denom *out, size_t max, size_t *n,
			     struct kio_error *err);

/*
 * A transaction's receipt as the printer saw it (tx.c, "Receipts"), so a recovery receipt
 * prints once across restarts. ledger_receipt_sent is called just before a receipt goes to the
 * printer: *sends (may be NULL) counts the sends, this one included; above 1, a receipt of this
 * transaction was sent before, by this process or one that died, and may have come out:
 * print it marked DUPLICATE.
 * ledger_receipt_printed when the printer reported it printed (a second call changes nothing).
 * Both commit before they return; KIO_ERR_NOT_FOUND for an unknown id; KIO_ERR_IO (FAILING)
 * when the store cannot write.
 */
int ledger_receipt_sent(struct ledger *ledger, int64_t id, int64_t now_s, int64_t *sends, struct kio_error *err);
int ledger_receipt_printed(struct ledger *ledger, int64_t id, int64_t now_s, struct kio_error *err);
/* The printer reported a send of the receipt failed (paper out, cover open, offline mid-job):
 * records when, so a reprint knows it never came out whole. Nothing changes for a receipt
 * already reported printed. Errors as ledger_receipt_printed. */
int ledger_receipt_failed(struct ledger *ledger, int64_t id, int64_t now_s, struct kio_error *err);

/* Recovery gives a receipt up (recovery.c invariant 8): it can never be drawn (why: the
 * reason, printable, up to LEDGER_RECEIPT_WHY_MAX - 1 bytes, cut there), or the printer failed
 * it too often. It is no longer due (ledger_receipts_due) and is listed as given up
 * (`kiosk ledger receipts`). A receipt given up or printed before is
 * left as it is (0). Errors as ledger_receipt_printed; KIO_ERR_INVALID for an empty why. */
#define LEDGER_RECEIPT_WHY_MAX 200
int ledger_receipt_give_up(struct ledger *ledger, int64_t id, int64_t now_s, const char *why, struct kio_error *err);

/* A transaction's receipt as recorded: all 0 when none was ever sent. */
struct ledger_receipt {
	int64_t sends;       /* how many times it went to the printer */
	int64_t sent_s;      /* the last send */
	int64_t printed_s;   /* when the printer reported it printed; 0: never */
	int64_t failed_s;    /* when the printer last reported a send failed; 0: never */
	int64_t given_up_s;  /* when recovery gave it up; 0: never */
	char given_up_why[LEDGER_RECEIPT_WHY_MAX];
};
/* KIO_ERR_NOT_FOUND for an unknown id. */
int ledger_receipt_get(struct ledger *ledger, int64_t id, struct ledger_receipt *out, struct kio_error *err);

/* Transactions completed by recovery whose receipt the printer has not reported printed and
 * recovery has not given up, oldest first: ids in *ids (caller frees with free(); NULL when
 * *n is 0). */
int ledger_receipts_due(struct ledger *ledger, int64_t **ids, size_t *n, struct kio_error *err);


/* Checks every invariant of tx.c in SQL (tests, the crash suite, the technicians' menu).
 * 0 when they hold, KIO_ERR_CORRUPT naming the first that does not. */
int ledger_check(struct ledger *ledger, struct kio_error *err);

/* Notes credited with no transaction open: how many, and their total. */
int ledger_suspense_total(struct ledger *ledger, int64_t *count, int64_t *total_fils, struct kio_error *err);
/* Completed transactions queued for the host and not yet sent. */
int ledger_outbox_pending(struct ledger *ledger, int64_t *count, struct kio_error *err);
