/* Inside the ledger module only: the pieces of a transaction's write that tx.c (top-ups) and
 * basket.c (fees) share, so both open, end and recover through one code path. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "kiosk/core/err.h"
#include "tx.h"

/* A statement failed: a rule a trigger refused is KIO_ERR_INVALID; anything else is
 * KIO_ERR_IO and puts the store in FAILING (store.c invariant 4). */
int ledger_sql_fail(struct ledger *ledger, struct kio_error *err, const char *what);

/* The open transaction's record (0: none). */
int ledger_open_tx_rec(struct ledger *ledger, int64_t *rec, struct kio_error *err);

/* A new random (version 4) uuid, lowercase: transaction ids and redemption ids (basket.c). */
int ledger_new_uuid(char out[37], struct kio_error *err);

/* A 16-digit card number. */
bool ledger_card_ok(const char *card);

/* Appends a new transaction record of `kind` in the caller's write: refuses a second open one
 * (KIO_ERR_BUSY, invariant 1), takes the next number (invariant 5) and a new uuid. */
int ledger_tx_append_open(struct ledger *ledger, int64_t now_s, enum ledger_tx_kind kind, const char *lang,
			  int64_t *rec, int64_t *seq, char uuid[37], struct kio_error *err);

/* Appends the end of open transaction tx (and its outbox row when it credited money,
 * invariant 8) in the caller's write. credited_fils: what it credits (invariant 6). */
int ledger_tx_append_end(struct ledger *ledger, const struct ledger_tx *tx, bool completed, bool recovered,
			 int64_t credited_fils, int64_t now_s, struct kio_error *err);

/* basket.c: start-up recovery of one open fees transaction, in its own commit (the rule is
 * in basket.c; kill points recover-written, recovered). */
int ledger_basket_recover(struct ledger *ledger, int64_t id, int64_t now_s, struct kio_error *err);
