/*
 * A fees transaction in the money ledger (issue 13): its basket of lines, the vouchers paid
 * into it, each line's result at the host, and its end, where whatever was paid and not spent
 * on a line goes to a card or a new e-voucher. Cash is booked by the note journal as for a
 * top-up (notes.h). Pure C: the flows and screens see this header, never SQLite.
 * docs/ledger.md ("A fees transaction") has the diagram; basket.c the invariants and kill
 * points.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiosk/core/err.h"
#include "store.h"
#include "tx.h"

#define LEDGER_BASKET_MAX 10

/* One line: the catalogue's entity and service ids ([a-z0-9-], 1..32), the customer's
 * reference ("" for none; letters, digits and dashes, up to 24), the host's bill id ("" for
 * none; up to 32 of letters, digits and . _ : / -), and its price (> 0 fils). */
struct ledger_fee_line { char entity[33], service[33], reference[25], bill[33]; int64_t amount_fils; };

/* Opens a fees transaction in lang ("ar"/"en") with lines 1..n (n in 1..LEDGER_BASKET_MAX),
 * all in one commit; *out (may be NULL) is the open transaction. KIO_ERR_BUSY when another
 * is open, KIO_ERR_INVALID for a bad line (the message names it), KIO_ERR_IO when the store
 * cannot write (then FAILING). */
int ledger_basket_open(struct ledger *l, int64_t now_s, const char *lang, const struct ledger_fee_line *lines,
		       size_t n, struct ledger_tx *out, struct kio_error *err);
/* The lines of fees transaction tx_id in order (line k is out[k - 1]). KIO_ERR_NOT_FOUND for
 * an unknown id, KIO_ERR_INVALID for a transaction that is not fees or more than max lines. */
int ledger_basket_lines(struct ledger *l, int64_t tx_id, struct ledger_fee_line *out, size_t max, size_t *n,
			struct kio_error *err);
/* What the basket still costs (the lines not refused or unpaid: before any result, its total)
 * and what was paid into it (cash + vouchers). Errors as ledger_basket_lines. */
int ledger_basket_due(struct ledger *l, int64_t tx_id, int64_t *due_fils, int64_t *paid_fils, struct kio_error *err);

/* A voucher the host redeemed (the app got 200 from /v1/vouchers/redeem): books its value.
 * code: 16 canonical digits (vcode.h); redemption_id: the lowercase uuid of its intent
 * (ledger_basket_voucher_intent, written before the ask), whose code, value and transaction
 * must be these. The same redemption booked again is a no-op (0); the same id with another
 * code, value or transaction, or no intent for it, is KIO_ERR_INVALID. KIO_ERR_INVALID too
 * when the transaction is not an open fees one. */
int ledger_basket_voucher_paid(struct ledger *l, int64_t tx_id, const char *code, const char *redemption_id,
			       int64_t value_fils, int64_t now_s, struct kio_error *err);

/* Before a voucher's redemption is asked at the host (kiosk/flows/vpay.h invariant 2): records
 * the intent to redeem value_fils of code (16 canonical digits) into open fees transaction
 * tx_id, and commits it. redemption_id (37 bytes) receives the redemption's id, a lowercase
 * uuid: a new one, or, when this transaction already has an intent for the same code and value
 * that is neither booked nor void, that intent's id (vpay.h invariant 4: a retry, never a
 * second redemption). Each intent ends booked (ledger_basket_voucher_paid) or void (the
 * close's or recovery's voucher_void record; basket.c invariant 15). KIO_ERR_INVALID for a bad
 * code or value, a transaction that is not an open fees one, or one that already holds
 * LEDGER_BASKET_INTENTS_MAX intents (vpay: voucher.too-many); KIO_ERR_IO when the store
 * cannot write (then FAILING). */
#define LEDGER_BASKET_INTENTS_MAX 8
int ledger_basket_voucher_intent(struct ledger *l, int64_t tx_id, const char *code, int64_t value_fils,
				 int64_t now_s, char redemption_id[37], struct kio_error *err);

/* A redemption intended into a fees transaction and what became of it. */
enum ledger_intent_state { LEDGER_INTENT_PENDING, LEDGER_INTENT_BOOKED, LEDGER_INTENT_VOID };
struct ledger_voucher_intent { char code[17], redemption_id[37]; int64_t value_fils; enum ledger_intent_state state; };
/* The intents of fees transaction tx_id in the order they were written. Errors as
 * ledger_basket_lines (KIO_ERR_INVALID for more than max). */
int ledger_basket_intents(struct ledger *l, int64_t tx_id, struct ledger_voucher_intent *out, size_t max, size_t *n,
			  struct kio_error *err);

enum ledger_line_status { LEDGER_LINE_PAID, LEDGER_LINE_REFUSED, LEDGER_LINE_OFFLINE, LEDGER_LINE_UNPAID, LEDGER_LINE_UNCONFIRMED };
/* "paid", "refused", "offline", "unpaid", "unconfirmed" as stored; NULL for another value. */
const char *ledger_line_status_name(int status);

/* Records what became of line n (1-based) of an open fees transaction; host_ref (NULL or ""
 * for none; printable, up to 64) is the host's payment reference. The same result again is a
 * no-op; another result for a line that has one is KIO_ERR_INVALID (a line is decided once).
 * A line is paid, offline or unconfirmed only with its money paid in (basket.c invariant 12):
 * KIO_ERR_INVALID otherwise. */
int ledger_basket_line_result(struct ledger *l, int64_t tx_id, int n, enum ledger_line_status st, const char *host_ref,
			      int64_t now_s, struct kio_error *err);

/* Where the rest goes: what was paid minus the lines paid/offline/unconfirmed. */
enum ledger_rest_to { LEDGER_REST_NONE /* only when the rest is 0 */, LEDGER_REST_CARD, LEDGER_REST_VOUCHER };
struct ledger_basket_end { int64_t paid_fils, lines_fils, rest_fils; enum ledger_rest_to rest_to;
	char card[17]; char voucher[17]; int64_t voucher_expires_s; };
/* Ends it: nothing paid → cancelled (every line `unpaid`); else lines without a result become
 * `unpaid`, the rest goes to the card (a topup item) or a new voucher (vcode_generate, expiry
 * now + voucher_days), then tx_end completed + outbox, all one commit. Every redemption intent
 * not booked gets a voucher_void record in the same commit, so the host, applying the
 * transaction's records (the sync sends every chained record, cancelled transactions' too),
 * gives the voucher its value back (basket.c invariant 15).
 * `to` and card/voucher_days matter only when a rest is left: LEDGER_REST_NONE then, a card
 * that is not 16 digits, or voucher_days outside 1..3650 are KIO_ERR_INVALID and nothing is
 * written. *out (may be NULL) is ledger_basket_end_get's. KIO_ERR_INVALID when not an open
 * fees transaction; KIO_ERR_IO when the store cannot write or no random code can be made. */
int ledger_basket_close(struct ledger *l, int64_t tx_id, int64_t now_s, enum ledger_rest_to to, const char *card,
			int voucher_days, struct ledger_basket_end *out, struct kio_error *err);
/* For receipts and the done screen: an ended fees transaction's money as booked (also one
 * ended by recovery, whose rest went to a voucher). KIO_ERR_INVALID while it is open or for a
 * transaction that is not fees. */
int ledger_basket_end_get(struct ledger *l, int64_t tx_id, struct ledger_basket_end *out, struct kio_error *err);

/* ---- what a receipt needs (kiosk/txreceipt.h prints it) ---- */

/* What became of one line: decided false while it has no result yet. */
struct ledger_line_result { bool decided; enum ledger_line_status status; char host_ref[65]; };
/* The result of each line of fees transaction tx_id in line order (out[k - 1] is line k's).
 * Errors as ledger_basket_lines. */
int ledger_basket_results(struct ledger *l, int64_t tx_id, struct ledger_line_result *out, size_t max, size_t *n,
			  struct kio_error *err);
/* A voucher paid into a fees transaction: its 16-digit code and the value it paid in. */
struct ledger_voucher_paid { char code[17]; int64_t value_fils; };
/* The vouchers paid into fees transaction tx_id, in the order they were booked. Errors as
 * ledger_basket_lines (KIO_ERR_INVALID for more than max). */
int ledger_basket_vouchers(struct ledger *l, int64_t tx_id, struct ledger_voucher_paid *out, size_t max, size_t *n,
			   struct kio_error *err);
