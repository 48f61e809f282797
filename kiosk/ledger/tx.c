/* The customer's transactions in the ledger: the one write path for opening, paying (booked
 * by the note journal), completing, cancelling and recovering them. */
#define LOG_MODULE "ledger-tx"
#include "tx.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "chain-priv.h"
#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"
#include "store-priv.h"
#include "sync-state-priv.h"
#include "tx-priv.h"

/*
 * A transaction (records, not updates: each arrow appends one chained record):
 *
 *               ledger_tx_open: tx + tx_item
 *   (none) ──────────────────────────────────► OPEN ◄─┐ note CREDITED (notes.c):
 *                                              │ │ │  └─ payment, same commit
 *              ledger_tx_complete (paid > 0)   │ │ │ ledger_tx_cancel (paid = 0)
 *        COMPLETED ◄── tx_end 'completed' ─────┘ │ └──── tx_end 'cancelled' ──► CANCELLED
 *        (+ outbox row)                          │
 *                      ledger_tx_recover at start-up: tx_end recovered=1,
 *                      'completed' if paid > 0, else 'cancelled'
 *
 *   transition   records appended (one SQLite transaction)        function
 *   open         tx, tx_item (card)                               ledger_tx_open
 *   pay          note_journey CREDITED + payment                  notes.c advance/begin
 *   (no tx)      note_journey CREDITED + suspense                 notes.c advance/begin
 *   complete     tx_end completed + outbox                        ledger_tx_complete
 *   cancel       tx_end cancelled                                 ledger_tx_cancel
 *   recover      tx_end recovered (+ outbox if completed)         ledger_tx_recover
 *                (a fees transaction: basket.c's rule)            ledger_basket_recover
 *
 * Invariants (SQL triggers of migration 4 enforce those marked T; ledger_check tests all):
 *  1. At most one transaction is open (T: tx_one_open).
 *  2. Credited notes = cash payments booked + suspense, at every commit: every journey in
 *     CREDITED or STACKED has exactly one booking, a payment or a suspense row, of its value;
 *     no booking names a note that is not credited. The CREDITED step and its booking are
 *     one commit (notes.c). (T: payment_note_once, suspense_note_once.)
 *  3. Money and items are booked only to an open transaction (T: payment_to_open_tx,
 *     item_to_open_tx).
 *  4. Booked records (tx, tx_item, payment, suspense, tx_end) are never updated or deleted;
 *     a state move is a new tx_end record, at most one per transaction (T: *_no_update,
 *     *_no_delete, UNIQUE tx_end.tx_rec). The one exception is a prune of records the host
 *     acknowledged, past the retention (prune.c; T: the triggers of migration 8).
 *  5. Transaction numbers (seq) run 1, 2, 3... without gaps or repeats (T: tx_seq_gapless).
 *  6. An end credits exactly what was paid (cash, and for a fees transaction the vouchers
 *     paid in too); a cancelled transaction had nothing paid (T: tx_end_matches_paid, remade
 *     by migration 11). The customer's money is never dropped by a cancel.
 *  7. Every booked record is chained (chain.c): record n's MAC covers record n-1's.
 *  8. A completed transaction that credited money has an outbox row from the same commit.
 *  9. A fees transaction ends with every line's result recorded, and cash + voucher payments
 *     = Σ lines paid/offline/unconfirmed + Σ topup credits + Σ vouchers issued, to the fils;
 *     a cancelled one had nothing paid (T: tx_end_fees_balanced). basket.c writes its ends
 *     (ledger_tx_complete and ledger_tx_cancel refuse one) and numbers 10-14 for baskets.
 *
 * Kill points (ledger_checkpoint; the crash suite kills at each):
 *   tx-open-written      tx and item written, not committed: after a crash there is no
 *                        transaction; the flow starts again at the card number.
 *   tx-opened            committed: open; recovery ends it.
 *   note-credited-written, note-credited   (notes.c)
 *   tx-end-written       tx_end (and outbox) written, not committed: still open; recovery
 *                        completes it from the same payments.
 *   tx-ended             committed.
 *   recover-written      one recovery tx_end written, not committed: recovery runs again.
 *   recovered            one transaction recovered and committed.
 *   receipt-sent-written a receipt's send counted, not committed: the receipt was not sent;
 *                        still due, its next send is the first.
 *   receipt-sent         committed, not printed: due; the next send says DUPLICATE.
 *   receipt-printed-written  the printer's word, not committed: still due, reprinted as a
 *                        DUPLICATE (it did come out).
 *   receipt-printed      committed: never printed again by recovery.
 *   receipt-failed-written  the printer's failure, not committed: the receipt reads as sent,
 *                        not printed, as before the failure.
 *   receipt-failed       committed: the receipt is known not printed (failed_s).
 *   receipt-given-up-written  recovery's give-up, not committed: still due, tried again.
 *   receipt-given-up     committed: no longer due, listed as given up (given_up_s, why).
 *
 * Receipts (migration 5, table receipt; not booked records, so not chained): a row per
 * transaction whose receipt was sent to the printer, counting the sends, and the time the
 * printer reported it printed. The row is committed before the receipt goes out, so a crash
 * between the two reprints it (marked DUPLICATE: the first may have come out) rather than
 * losing it; a crash after it printed and before printed_s commits does the same. A
 * recovered, completed transaction with no printed_s is due (ledger_receipts_due), until
 * recovery gives it up (migration 13, given_up_s and given_up_why): one that can never print
 * must not hold back the receipts after it (recovery.c invariant 8).
 */

const char *ledger_tx_kind_name(int kind)
{
	switch (kind) {
	case LEDGER_TX_TOPUP: return "topup";
	case LEDGER_TX_FEES: return "fees";
	default: return NULL;
	}
}

const char *ledger_tx_state_name(int state)
{
	switch (state) {
	case LEDGER_TX_OPEN: return "open";
	case LEDGER_TX_COMPLETED: return "completed";
	case LEDGER_TX_CANCELLED: return "cancelled";
	default: return NULL;
	}
}

/* A read failure is reported; a write failure (not a rule a trigger refused) makes the store
 * FAILING: money the kiosk cannot record stops the service (store.c invariant 4). */
int ledger_sql_fail(struct ledger *ledger, struct kio_error *err, const char *what)
{
	sqlite3 *db = ledger_db(ledger);
	if ((sqlite3_errcode(db) & 0xFF) == SQLITE_CONSTRAINT)
		return kio_fail(err, KIO_ERR_INVALID, "ledger: %s: %s", what, sqlite3_errmsg(db));
	struct kio_error local;
	struct kio_error *e = err ? err : &local;
	int rc = kio_fail(e, KIO_ERR_IO, "ledger: %s: %s", what, sqlite3_errmsg(db));
	ledger_write_failed(ledger, e);
	return rc;
}

static int prepare(struct ledger *ledger, const char *sql, sqlite3_stmt **st, struct kio_error *err)
{
	if (ledger_stmt(ledger, sql, st) == SQLITE_OK)
		return 0;
	return ledger_sql_fail(ledger, err, "prepare");
}

int ledger_open_tx_rec(struct ledger *ledger, int64_t *rec, struct kio_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(ledger, "SELECT rec FROM tx WHERE rec NOT IN (SELECT tx_rec FROM tx_end) ORDER BY rec LIMIT 1",
			 &st, err);
	if (rc)
		return rc;
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		*rec = sqlite3_column_int64(st, 0);
	else if (step == SQLITE_DONE)
		*rec = 0;
	else
		rc = ledger_sql_fail(ledger, err, "find the open transaction");
	ledger_stmt_done(ledger, st);
	return rc;
}

static int next_seq(struct ledger *ledger, int64_t *seq, struct kio_error *err)
{
	sqlite3_stmt *st = NULL;
	/* After a prune took every transaction, the number goes on from the base's (invariant 5). */
	int rc = prepare(ledger, "SELECT coalesce(max(seq), (SELECT seq FROM chain_base WHERE id = 1), 0) + 1 FROM tx",
			 &st, err);
	if (rc)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW)
		*seq = sqlite3_column_int64(st, 0);
	else
		rc = ledger_sql_fail(ledger, err, "next transaction number");
	ledger_stmt_done(ledger, st);
	return rc;
}

int ledger_new_uuid(char out[37], struct kio_error *err)
{
	uint8_t b[16];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return kio_fail(err, KIO_ERR_IO, "ledger: no random bytes for a transaction id");
	b[6] = (uint8_t)((b[6] & 0x0F) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
		 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

bool ledger_card_ok(const char *card)
{
	if (!card || strlen(card) != LEDGER_CARD_DIGITS)
		return false;
	for (const char *p = card; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

int ledger_tx_append_open(struct ledger *ledger, int64_t now_s, enum ledger_tx_kind kind, const char *lang,
			  int64_t *rec, int64_t *seq, char uuid[37], struct kio_error *err)
{
	int rc = ledger_new_uuid(uuid, err);
	if (rc)
		return rc;
	int64_t open_rec = 0;
	rc = ledger_open_tx_rec(ledger, &open_rec, err);
	if (!rc && open_rec) /* invariant 1 */
		rc = kio_fail(err, KIO_ERR_BUSY, "ledger: transaction %" PRId64 " is still open", open_rec);
	if (!rc)
		rc = next_seq(ledger, seq, err);
	if (rc)
		return rc;
	struct chain_val tx[] = {{CHAIN_TEXT, 0, uuid}, {CHAIN_INT, *seq, NULL},
				 {CHAIN_TEXT, 0, ledger_tx_kind_name(kind)}, {CHAIN_TEXT, 0, lang},
				 {CHAIN_INT, now_s, NULL}};
	rc = chain_append(ledger, CHAIN_TX, tx, rec, err);
	return rc ? ledger_sql_fail(ledger, err, "open transaction") : 0;
}

int ledger_tx_open(struct ledger *ledger, int64_t now_s, enum ledger_tx_kind kind, const char *lang,
		   const char *card, struct ledger_tx *out, struct kio_error *err)
{
	if (kind == LEDGER_TX_FEES)
		return kio_fail(err, KIO_ERR_INVALID, "ledger: a fees transaction opens with its basket (ledger_basket_open)");
	if (kind != LEDGER_TX_TOPUP)
		return kio_fail(err, KIO_ERR_INVALID, "ledger: unknown transaction kind %d", (int)kind);
	if (!lang || (strcmp(lang, "ar") != 0 && strcmp(lang, "en") != 0))
		return kio_fail(err, KIO_ERR_INVALID, "ledger: language must be ar or en");
	if (!ledger_card_ok(card))
		return kio_fail(err, KIO_ERR_INVALID, "ledger: a top-up needs a card number of %d digits",
				LEDGER_CARD_DIGITS);
	int rc = ledger_refuse_while_failing(ledger, "ledger: open transaction", err);
	if (rc)
		return rc;
	rc = ledger_write_begin(ledger, "ledger: begin", err);
	if (rc)
		return rc;
	char uuid[37];
	int64_t seq = 0, rec = 0, item = 0;
	rc = ledger_tx_append_open(ledger, now_s, kind, lang, &rec, &seq, uuid, err);
	if (rc)
		goto out_rollback;
	/* The top-up's amount is what will be paid: NULL until the end fixes it (invariant 6). */
	struct chain_val it[] = {{CHAIN_INT, rec, NULL}, {CHAIN_TEXT, 0, "topup"}, {CHAIN_TEXT, 0, card},
				 {CHAIN_NULL, 0, NULL}};
	rc = chain_append(ledger, CHAIN_TX_ITEM, it, &item, err);
	if (rc) {
		rc = ledger_sql_fail(ledger, err, "record the top-up item");
		goto out_rollback;
	}
	ledger_checkpoint(ledger, "tx-open-written");
	rc = ledger_write_commit(ledger, "ledger: commit", err);
	if (rc)
		return rc;
	ledger_checkpoint(ledger, "tx-opened");
	LOG_INFO("transaction %" PRId64 " (%s) opened: topup, card ...%s", seq, uuid, card + LEDGER_CARD_DIGITS - 4);
	return out ? ledger_tx_get(ledger, rec, out, err) : 0;

out_rollback:
	ledger_write_rollback(ledger);
	return rc;
}

int ledger_tx_get(struct ledger *ledger, int64_t id, struct ledger_tx *out, struct kio_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(ledger,
			 "SELECT t.seq, t.uuid, t.kind, t.lang, t.opened_s,"
			 " (SELECT card FROM tx_item WHERE tx_rec = t.rec AND kind = 'topup'),"
			 " e.state, e.recovered, e.credited_fils, e.at_s,"
			 " (SELECT coalesce(sum(value_fils), 0) FROM payment WHERE tx_rec = t.rec),"
			 " (SELECT count(*) FROM payment WHERE tx_rec = t.rec)"
			 " FROM tx t LEFT JOIN tx_end e ON e.tx_rec = t.rec WHERE t.rec = ?",
			 &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		out->id = id;
		out->seq = sqlite3_column_int64(st, 0);
		snprintf(out->uuid, sizeof(out->uuid), "%s", (const char *)sqlite3_column_text(st, 1));
		const unsigned char *kind = sqlite3_column_text(st, 2);
		out->kind = kind && strcmp((const char *)kind, "fees") == 0 ? LEDGER_TX_FEES : LEDGER_TX_TOPUP;
		snprintf(out->lang, sizeof(out->lang), "%s", (const char *)sqlite3_column_text(st, 3));
		out->opened_s = sqlite3_column_int64(st, 4);
		const unsigned char *card = sqlite3_column_text(st, 5);
		snprintf(out->card, sizeof(out->card), "%s", card ? (const char *)card : "");
		const unsigned char *state = sqlite3_column_text(st, 6);
		out->state = !state ? LEDGER_TX_OPEN
			     : strcmp((const char *)state, "completed") == 0 ? LEDGER_TX_COMPLETED
									      : LEDGER_TX_CANCELLED;
		out->recovered = sqlite3_column_int(st, 7) != 0;
		out->credited_fils = sqlite3_column_int64(st, 8);
		out->ended_s = sqlite3_column_int64(st, 9);
		out->paid_fils = sqlite3_column_int64(st, 10);
		out->notes = sqlite3_column_int64(st, 11);
	} else if (step == SQLITE_DONE) {
		rc = kio_fail(err, KIO_ERR_NOT_FOUND, "ledger: no transaction %" PRId64, id);
	} else {
		rc = ledger_sql_fail(ledger, err, "read transaction");
	}
	ledger_stmt_done(ledger, st);
	return rc;
}

int ledger_tx_get_seq(struct ledger *ledger, int64_t seq, struct ledger_tx *out, struct kio_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(ledger, "SELECT rec FROM tx WHERE seq = ?", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, seq);
	int step = sqlite3_step(st);
	int64_t rec = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	ledger_stmt_done(ledger, st);
	if (step == SQLITE_DONE)
		return kio_fail(err, KIO_ERR_NOT_FOUND, "ledger: no transaction number %" PRId64, seq);
	if (step != SQLITE_ROW)
		return ledger_sql_fail(ledger, err, "find a transaction by number");
	return ledger_tx_get(ledger, rec, out, err);
}

int ledger_tx_current(struct ledger *ledger, struct ledger_tx *out, struct kio_error *err)
{
	int64_t rec = 0;
	int rc = ledger_open_tx_rec(ledger, &rec, err);
	if (rc)
		return rc;
	if (!rec)
		return kio_fail(err, KIO_ERR_NOT_FOUND, "ledger: no transaction is open");
	return ledger_tx_get(ledger, rec, out, err);
}

int ledger_tx_paid(struct ledger *ledger, int64_t id, int64_t *paid_fils, int64_t *notes, struct kio_error *err)
{
	struct ledger_tx tx;
	int rc = ledger_tx_get(ledger, id, &tx, err);
	if (rc)
		return rc;
	if (paid_fils)
		*paid_fils = tx.paid_fils;
	if (notes)
		*notes = tx.notes;
	return 0;
}

int ledger_tx_append_end(struct ledger *ledger, const struct ledger_tx *tx, bool completed, bool recovered,
			 int64_t credited_fils, int64_t now_s, struct kio_error *err)
{
	int64_t rec = 0;
	struct chain_val end[] = {{CHAIN_INT, tx->id, NULL}, {CHAIN_TEXT, 0, completed ? "completed" : "cancelled"},
				  {CHAIN_INT, recovered, NULL}, {CHAIN_INT, completed ? credited_fils : 0, NULL},
				  {CHAIN_INT, now_s, NULL}};
	int rc = chain_append(ledger, CHAIN_TX_END, end, &rec, err);
	if (rc)
		return ledger_sql_fail(ledger, err, "end transaction");
	if (!completed || credited_fils == 0)
		return 0;
	/* Invariant 8. */
	sqlite3_stmt *st = NULL;
	rc = prepare(ledger, "INSERT INTO outbox(tx_rec, queued_s) VALUES (?, ?)", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, tx->id);
	sqlite3_bind_int64(st, 2, now_s);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : ledger_sql_fail(ledger, err, "queue for sync");
	ledger_stmt_done(ledger, st);
	return rc;
}

/* One end: reads the transaction inside the write (so what is paid cannot change between
 * the read and the record), checks the rule, appends, commits. */
static int end_tx(struct ledger *ledger, int64_t id, bool completed, bool recovered, int64_t now_s,
		  struct ledger_tx *out, struct kio_error *err)
{
	const char *what = recovered ? "recover" : completed ? "complete" : "cancel";
	int rc = ledger_refuse_while_failing(ledger, "ledger: end transaction", err);
	if (rc)
		return rc;
	rc = ledger_write_begin(ledger, "ledger: begin", err);
	if (rc)
		return rc;
	struct ledger_tx tx;
	rc = ledger_tx_get(ledger, id, &tx, err);
	if (rc)
		goto out_rollback;
	if (tx.state != LEDGER_TX_OPEN) {
		rc = kio_fail(err, KIO_ERR_INVALID, "ledger: cannot %s transaction %" PRId64 ": it is %s", what, tx.seq,
			      ledger_tx_state_name(tx.state));
		goto out_rollback;
	}
	if (tx.kind == LEDGER_TX_FEES) { /* invariant 9: its lines and its rest decide its end */
		rc = kio_fail(err, KIO_ERR_INVALID,
			      "ledger: cannot %s transaction %" PRId64 " this way: a fees transaction ends with"
			      " ledger_basket_close",
			      what, tx.seq);
		goto out_rollback;
	}
	if (recovered) {
		completed = tx.paid_fils > 0;
	} else if (completed && tx.paid_fils == 0) {
		rc = kio_fail(err, KIO_ERR_INVALID, "ledger: transaction %" PRId64 " has nothing paid: cancel it",
			      tx.seq);
		goto out_rollback;
	} else if (!completed && tx.paid_fils > 0) { /* invariant 6 */
		rc = kio_fail(err, KIO_ERR_INVALID,
			      "ledger: transaction %" PRId64 " has %" PRId64 " fils paid: complete it, never cancel",
			      tx.seq, tx.paid_fils);
		goto out_rollback;
	}
	rc = ledger_tx_append_end(ledger, &tx, completed, recovered, tx.paid_fils, now_s, err);
	if (rc)
		goto out_rollback;
	ledger_checkpoint(ledger, recovered ? "recover-written" : "tx-end-written");
	rc = ledger_write_commit(ledger, "ledger: commit", err);
	if (rc)
		return rc;
	ledger_checkpoint(ledger, recovered ? "recovered" : "tx-ended");
	LOG_INFO("transaction %" PRId64 " (%s) %s%s: %" PRId64 " fils in %" PRId64 " notes", tx.seq, tx.uuid,
		 completed ? "completed" : "cancelled", recovered ? " by recovery" : "", tx.paid_fils, tx.notes);
	return out ? ledger_tx_get(ledger, id, out, err) : 0;

out_rollback:
	ledger_write_rollback(ledger);
	return rc;
}

int ledger_tx_complete(struct ledger *ledger, int64_t id, int64_t now_s, struct ledger_tx *out,
		       struct kio_error *err)
{
	return end_tx(ledger, id, true, false, now_s, out, err);
}

int ledger_tx_cancel(struct ledger *ledger, int64_t id, int64_t now_s, struct kio_error *err)
{
	return end_tx(ledger, id, false, false, now_s, NULL, err);
}

int ledger_tx_recover(struct ledger *ledger, int64_t now_s, struct ledger_tx **list, size_t *n,
		      struct kio_error *err)
{
	*list = NULL;
	*n = 0;
	size_t cap = 0;
	int rc = 0;
	/* Invariant 1 leaves at most one open, but a database written by a broken build could
	 * have more: each is ended, oldest first. */
	for (;;) {
		int64_t rec = 0;
		rc = ledger_open_tx_rec(ledger, &rec, err);
		if (rc || !rec)
			break;
		if (*n == cap) {
			cap = cap ? cap * 2 : 2;
			*list = xrealloc(*list, cap * sizeof(**list));
		}
		struct ledger_tx tx;
		rc = ledger_tx_get(ledger, rec, &tx, err);
		if (rc)
			break;
		if (tx.kind == LEDGER_TX_FEES) {
			rc = ledger_basket_recover(ledger, rec, now_s, err);
			if (!rc)
				rc = ledger_tx_get(ledger, rec, &(*list)[*n], err);
		} else {
			rc = end_tx(ledger, rec, false, true, now_s, &(*list)[*n], err);
		}
		if (rc)
			break;
		(*n)++;
	}
	if (rc) {
		free(*list);
		*list = NULL;
		*n = 0;
	}
	return rc;
}

int ledger_tx_notes_by_denom(struct ledger *ledger, int64_t id, struct ledger_denom *out, size_t max, size_t *n,
			     struct kio_error *err)
{
	*n = 0;
	struct ledger_tx tx;
	int rc = ledger_tx_get(ledger, id, &tx, err);
	if (rc)
		return rc;
	sqlite3_stmt *st = NULL;
	rc = prepare(ledger,
		     "SELECT value_fils, count(*) FROM payment WHERE tx_rec = ? AND method = 'cash'"
		     " GROUP BY value_fils ORDER BY value_fils DESC",
		     &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == max) {
			rc = kio_fail(err, KIO_ERR_INVALID, "ledger: transaction %" PRId64 " has more than %zu note values",
				      tx.seq, max);
			break;
		}
		out[*n].value_fils = sqlite3_column_int64(st, 0);
		out[*n].count = sqlite3_column_int64(st, 1);
		(*n)++;
	}
	if (!rc && step != SQLITE_DONE)
		rc = ledger_sql_fail(ledger, err, "read the notes of a transaction");
	ledger_stmt_done(ledger, st);
	if (rc)
		*n = 0;
	return rc;
}

/* One statement on the receipt row of id, in its own write. */
/* text (may be NULL) is bound to ?3. */
static int receipt_write(struct ledger *ledger, int64_t id, int64_t now_s, const char *text, const char *sql,
			 const char *what, const char *written, const char *committed, int64_t *sends,
			 struct kio_error *err)
{
	struct ledger_tx tx;
	int rc = ledger_tx_get(ledger, id, &tx, err);
	if (rc)
		return rc;
	rc = ledger_refuse_while_failing(ledger, "ledger: receipt", err);
	if (rc)
		return rc;
	rc = ledger_write_begin(ledger, "ledger: begin", err);
	if (rc)
		return rc;
	sqlite3_stmt *st = NULL;
	rc = prepare(ledger, sql, &st, err);
	if (rc)
		goto out_rollback;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now_s);
	if (text)
		sqlite3_bind_text(st, 3, text, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : ledger_sql_fail(ledger, err, what);
	ledger_stmt_done(ledger, st);
	if (!rc && sends) {
		rc = prepare(ledger, "SELECT sends FROM receipt WHERE tx_rec = ?", &st, err);
		if (!rc) {
			sqlite3_bind_int64(st, 1, id);
			if (sqlite3_step(st) == SQLITE_ROW)
				*sends = sqlite3_column_int64(st, 0);
			else
				rc = ledger_sql_fail(ledger, err, "read the receipt row");
			ledger_stmt_done(ledger, st);
		}
	}
	if (rc)
		goto out_rollback;
	ledger_checkpoint(ledger, written);
	rc = ledger_write_commit(ledger, "ledger: commit", err);
	if (rc == 0)
		ledger_checkpoint(ledger, committed);
	return rc;

out_rollback:
	ledger_write_rollback(ledger);
	return rc;
}

int ledger_receipt_sent(struct ledger *ledger, int64_t id, int64_t now_s, int64_t *sends, struct kio_error *err)
{
	int64_t n = 0;
	int rc = receipt_write(ledger, id, now_s, NULL,
			       "INSERT INTO receipt(tx_rec, sent_s, sends) VALUES (?1, ?2, 1)"
			       " ON CONFLICT(tx_rec) DO UPDATE SET sent_s = ?2, sends = sends + 1",
			       "record a receipt sent", "receipt-sent-written", "receipt-sent", &n, err);
	if (!rc && sends)
		*sends = n;
	return rc;
}

int ledger_receipt_printed(struct ledger *ledger, int64_t id, int64_t now_s, struct kio_error *err)
{
	/* A receipt printed that was never recorded as sent (a build that printed before it
	 * recorded) still counts as printed. */
	return receipt_write(ledger, id, now_s, NULL,
			     "INSERT INTO receipt(tx_rec, sent_s, sends, printed_s) VALUES (?1, ?2, 1, ?2)"
			     " ON CONFLICT(tx_rec) DO UPDATE SET printed_s = ?2 WHERE printed_s IS NULL",
			     "record a receipt printed", "receipt-printed-written", "receipt-printed", NULL, err);
}

int ledger_receipt_failed(struct ledger *ledger, int64_t id, int64_t now_s, struct kio_error *err)
{
	/* A failure reported for a receipt never recorded as sent still says it did not come
	 * out; one already printed stays printed (an old job's late word). */
	return receipt_write(ledger, id, now_s, NULL,
			     "INSERT INTO receipt(tx_rec, sent_s, sends, failed_s) VALUES (?1, ?2, 1, ?2)"
			     " ON CONFLICT(tx_rec) DO UPDATE SET failed_s = ?2 WHERE printed_s IS NULL",
			     "record a receipt failed", "receipt-failed-written", "receipt-failed", NULL, err);
}

int ledger_receipt_give_up(struct ledger *ledger, int64_t id, int64_t now_s, const char *why, struct kio_error *err)
{
	if (!why || !why[0])
		return kio_fail(err, KIO_ERR_INVALID, "ledger: a receipt is given up with a reason");
	/* The reason is a log line's text: control bytes would break `kiosk ledger receipts`. */
	char text[LEDGER_RECEIPT_WHY_MAX];
	size_t k = 0;
	for (; why[k] && k < sizeof(text) - 1; k++)
		text[k] = (unsigned char)why[k] < 0x20 || why[k] == 0x7f ? ' ' : why[k];
	text[k] = '\0';
	/* A receipt never sent (it could not be drawn) gets its row here, with no send counted:
	 * sends counts what went to the printer, and 1 is its floor (CHECK), so such a row says
	 * sent_s = the give-up and sends = 1; given_up_why tells which. */
	return receipt_write(ledger, id, now_s, text,
			     "INSERT INTO receipt(tx_rec, sent_s, sends, given_up_s, given_up_why) VALUES (?1, ?2, 1, ?2, ?3)"
			     " ON CONFLICT(tx_rec) DO UPDATE SET given_up_s = ?2, given_up_why = ?3"
			     " WHERE printed_s IS NULL AND given_up_s IS NULL",
			     "record a receipt given up", "receipt-given-up-written", "receipt-given-up", NULL, err);
}

int ledger_receipt_get(struct ledger *ledger, int64_t id, struct ledger_receipt *out, struct kio_error *err)
{
	memset(out, 0, sizeof(*out));
	struct ledger_tx tx;
	int rc = ledger_tx_get(ledger, id, &tx, err);
	if (rc)
		return rc;
	sqlite3_stmt *st = NULL;
	rc = prepare(ledger,
		     "SELECT sends, sent_s, coalesce(printed_s, 0), coalesce(failed_s, 0), coalesce(given_up_s, 0),"
		     " coalesce(given_up_why, '') FROM receipt WHERE tx_rec = ?",
		     &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		out->sends = sqlite3_column_int64(st, 0);
		out->sent_s = sqlite3_column_int64(st, 1);
		out->printed_s = sqlite3_column_int64(st, 2);
		out->failed_s = sqlite3_column_int64(st, 3);
		out->given_up_s = sqlite3_column_int64(st, 4);
		snprintf(out->given_up_why, sizeof(out->given_up_why), "%s", (const char *)sqlite3_column_text(st, 5));
	} else if (step != SQLITE_DONE) {
		rc = ledger_sql_fail(ledger, err, "read a receipt row");
	}
	ledger_stmt_done(ledger, st);
	return rc;
}

int ledger_receipts_due(struct ledger *ledger, int64_t **ids, size_t *n, struct kio_error *err)
{
	*ids = NULL;
	*n = 0;
	sqlite3_stmt *st = NULL;
	int rc = prepare(ledger,
			 "SELECT e.tx_rec FROM tx_end e LEFT JOIN receipt r ON r.tx_rec = e.tx_rec"
			 " WHERE e.recovered = 1 AND e.state = 'completed' AND r.printed_s IS NULL AND r.given_up_s IS NULL"
			 " ORDER BY e.tx_rec",
			 &st, err);
	if (rc)
		return rc;
	size_t cap = 0;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			*ids = xrealloc(*ids, cap * sizeof(**ids));
		}
		(*ids)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	if (step != SQLITE_DONE) {
		rc = ledger_sql_fail(ledger, err, "list the receipts due");
		free(*ids);
		*ids = NULL;
		*n = 0;
	}
	ledger_stmt_done(ledger, st);
	return rc;
}

int ledger_book_credit(struct ledger *ledger, int64_t note_id, int64_t value_fils, int64_t now_s,
		       struct kio_error *err)
{
	int64_t open = 0, rec = 0;
	int rc = ledger_open_tx_rec(ledger, &open, err);
	if (rc)
		return rc;
	if (open) {
		struct chain_val pay[] = {{CHAIN_INT, open, NULL}, {CHAIN_TEXT, 0, "cash"}, {CHAIN_INT, note_id, NULL},
					  {CHAIN_INT, value_fils, NULL}, {CHAIN_INT, now_s, NULL}};
		rc = chain_append(ledger, CHAIN_PAYMENT, pay, &rec, err);
		if (rc)
			return ledger_sql_fail(ledger, err, "book payment");
		LOG_DBG("note %" PRId64 ": %" PRId64 " fils paid into transaction record %" PRId64, note_id, value_fils,
			open);
		return 0;
	}
	struct chain_val sus[] = {{CHAIN_INT, note_id, NULL}, {CHAIN_INT, value_fils, NULL}, {CHAIN_INT, now_s, NULL},
				  {CHAIN_TEXT, 0, "no transaction open"}};
	rc = chain_append(ledger, CHAIN_SUSPENSE, sus, &rec, err);
	if (rc)
		return ledger_sql_fail(ledger, err, "book suspense");
	LOG_WARN("note %" PRId64 ": %" PRId64 " fils credited with no transaction open: kept in suspense", note_id,
		 value_fils);
	return 0;
}

int ledger_book_orphans(struct ledger *ledger, int64_t now_s, struct kio_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(ledger,
			 "SELECT id, value_fils FROM note_journey n WHERE state IN ('credited', 'stacked')"
			 " AND NOT EXISTS (SELECT 1 FROM payment WHERE note_id = n.id)"
			 " AND NOT EXISTS (SELECT 1 FROM suspense WHERE note_id = n.id) ORDER BY id",
			 &st, err);
	if (rc)
		return rc;
	int64_t (*notes)[2] = NULL;
	size_t count = 0, cap = 0;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			cap = cap ? cap * 2 : 8;
			notes = xrealloc(notes, cap * sizeof(*notes));
		}
		notes[count][0] = sqlite3_column_int64(st, 0);
		notes[count][1] = sqlite3_column_int64(st, 1);
		count++;
	}
	ledger_stmt_done(ledger, st);
	if (step != SQLITE_DONE) {
		rc = ledger_sql_fail(ledger, err, "list unbooked notes");
		goto out_free;
	}
	if (count == 0)
		goto out_free;
	rc = ledger_write_begin(ledger, "ledger: begin", err);
	if (rc)
		goto out_free;
	for (size_t k = 0; k < count && !rc; k++) {
		int64_t rec = 0;
		struct chain_val sus[] = {{CHAIN_INT, notes[k][0], NULL}, {CHAIN_INT, notes[k][1], NULL},
					  {CHAIN_INT, now_s, NULL}, {CHAIN_TEXT, 0, "credited before the ledger"}};
		rc = chain_append(ledger, CHAIN_SUSPENSE, sus, &rec, err);
		if (rc)
			rc = ledger_sql_fail(ledger, err, "book an older note to suspense");
	}
	if (rc) {
		ledger_write_rollback(ledger);
		goto out_free;
	}
	rc = ledger_write_commit(ledger, "ledger: commit", err);
	if (!rc)
		LOG_WARN("%zu credited notes older than the ledger booked to suspense", count);
out_free:
	free(notes);
	return rc;
}

/* The last transaction number a prune removed (0 before any): numbers go on from it. */
#define BASE_SEQ "(SELECT seq FROM chain_base WHERE id = 1)"

/* Each check is a query whose first column is 0 when the invariant holds. */
static const struct {
	int invariant;
	const char *what;
	const char *sql;
} checks[] = {
	{1, "more than one transaction is open",
	 "SELECT count(*) > 1 FROM tx WHERE rec NOT IN (SELECT tx_rec FROM tx_end)"},
	/* A prune (prune.c) removes the bookings of notes up to the base's note_max with them;
	 * the one journey it keeps (so no id is used again) has no booking left to match. */
	{2, "a credited note is not booked exactly once, at its value",
	 "SELECT count(*) FROM note_journey n WHERE n.state IN ('credited', 'stacked') AND"
	 " n.id != (SELECT note_max FROM chain_base WHERE id = 1) AND"
	 " (SELECT count(*) FROM payment WHERE note_id = n.id AND value_fils = n.value_fils) +"
	 " (SELECT count(*) FROM suspense WHERE note_id = n.id AND value_fils = n.value_fils) != 1"},
	{2, "a booking names a note that is not credited",
	 "SELECT (SELECT count(*) FROM payment p WHERE p.method = 'cash' AND NOT EXISTS (SELECT 1 FROM note_journey"
	 " WHERE id = p.note_id AND state IN ('credited', 'stacked'))) + (SELECT count(*) FROM suspense s WHERE NOT"
	 " EXISTS (SELECT 1 FROM note_journey WHERE id = s.note_id AND state IN ('credited', 'stacked')))"},
	{2, "credited notes differ from cash payments + suspense",
	 "SELECT (SELECT coalesce(sum(value_fils), 0) FROM note_journey WHERE state IN ('credited', 'stacked')"
	 " AND id != (SELECT note_max FROM chain_base WHERE id = 1)) !="
	 " (SELECT coalesce(sum(value_fils), 0) FROM payment WHERE method = 'cash') +"
	 " (SELECT coalesce(sum(value_fils), 0) FROM suspense)"},
	{3, "a payment was booked after its transaction ended",
	 "SELECT count(*) FROM payment p JOIN tx_end e ON e.tx_rec = p.tx_rec WHERE p.rec > e.rec"},
	{5, "transaction numbers have a gap or a repeat",
	 "SELECT count(*) != coalesce(max(seq), " BASE_SEQ ") - " BASE_SEQ " OR count(DISTINCT seq) != count(*)"
	 " OR coalesce(min(seq), " BASE_SEQ " + 1) != " BASE_SEQ " + 1 FROM tx"},
	{3, "a basket record was booked after its transaction ended",
	 "SELECT count(*) FROM tx_end e WHERE EXISTS (SELECT 1 FROM fee_item WHERE tx_rec = e.tx_rec AND rec > e.rec)"
	 " OR EXISTS (SELECT 1 FROM fee_result WHERE tx_rec = e.tx_rec AND rec > e.rec)"
	 " OR EXISTS (SELECT 1 FROM voucher_payment WHERE tx_rec = e.tx_rec AND rec > e.rec)"
	 " OR EXISTS (SELECT 1 FROM voucher_issue WHERE tx_rec = e.tx_rec AND rec > e.rec)"
	 " OR EXISTS (SELECT 1 FROM voucher_intent WHERE tx_rec = e.tx_rec AND rec > e.rec)"
	 " OR EXISTS (SELECT 1 FROM voucher_void WHERE tx_rec = e.tx_rec AND rec > e.rec)"
	 " OR EXISTS (SELECT 1 FROM tx_item WHERE tx_rec = e.tx_rec AND rec > e.rec)"},
	{6, "an end does not credit exactly what was paid (cash and vouchers)",
	 "SELECT count(*) FROM tx_end e WHERE e.credited_fils != (SELECT coalesce(sum(value_fils), 0) FROM payment"
	 " WHERE tx_rec = e.tx_rec) + (SELECT coalesce(sum(value_fils), 0) FROM voucher_payment WHERE tx_rec = e.tx_rec)"
	 " OR (e.state = 'cancelled' AND e.credited_fils != 0)"},
	/* basket.c */
	{9, "a fees transaction ended without a result for every line",
	 "SELECT count(*) FROM tx_end e JOIN tx t ON t.rec = e.tx_rec WHERE t.kind = 'fees' AND (NOT EXISTS"
	 " (SELECT 1 FROM fee_item WHERE tx_rec = e.tx_rec) OR EXISTS (SELECT 1 FROM fee_item i WHERE i.tx_rec = e.tx_rec"
	 " AND NOT EXISTS (SELECT 1 FROM fee_result r WHERE r.tx_rec = i.tx_rec AND r.n = i.n)))"},
	{9, "a fees transaction's payments differ from its lines settled + card credits + vouchers issued",
	 "SELECT count(*) FROM tx_end e JOIN tx t ON t.rec = e.tx_rec WHERE t.kind = 'fees' AND"
	 " (SELECT coalesce(sum(value_fils), 0) FROM payment WHERE tx_rec = e.tx_rec) +"
	 " (SELECT coalesce(sum(value_fils), 0) FROM voucher_payment WHERE tx_rec = e.tx_rec) !="
	 " (SELECT coalesce(sum(i.amount_fils), 0) FROM fee_item i JOIN fee_result r ON r.tx_rec = i.tx_rec AND r.n = i.n"
	 "  WHERE i.tx_rec = e.tx_rec AND r.status IN ('paid', 'offline', 'unconfirmed')) +"
	 " (SELECT coalesce(sum(amount_fils), 0) FROM tx_item WHERE tx_rec = e.tx_rec AND kind = 'topup') +"
	 " (SELECT coalesce(sum(value_fils), 0) FROM voucher_issue WHERE tx_rec = e.tx_rec)"},
	{10, "basket lines are not the records right after their fees transaction's open, numbered from 1",
	 "SELECT count(*) FROM fee_item i LEFT JOIN tx t ON t.rec = i.tx_rec WHERE t.kind IS NOT 'fees'"
	 " OR i.rec != i.tx_rec + i.n"},
	{11, "a fees transaction has an item that is not one card credit, or both a card credit and a voucher",
	 "SELECT count(*) FROM tx t WHERE t.kind = 'fees' AND ((SELECT count(*) FROM tx_item WHERE tx_rec = t.rec) +"
	 " (SELECT count(*) FROM voucher_issue WHERE tx_rec = t.rec) > 1 OR EXISTS (SELECT 1 FROM tx_item WHERE"
	 " tx_rec = t.rec AND (kind != 'topup' OR card IS NULL OR amount_fils IS NULL OR amount_fils <= 0)))"},
	{12, "a fees transaction settled lines for more than was paid into it",
	 "SELECT count(*) FROM tx t WHERE t.kind = 'fees' AND"
	 " (SELECT coalesce(sum(i.amount_fils), 0) FROM fee_item i JOIN fee_result r ON r.tx_rec = i.tx_rec AND r.n = i.n"
	 "  WHERE i.tx_rec = t.rec AND r.status IN ('paid', 'offline', 'unconfirmed')) >"
	 " (SELECT coalesce(sum(value_fils), 0) FROM payment WHERE tx_rec = t.rec) +"
	 " (SELECT coalesce(sum(value_fils), 0) FROM voucher_payment WHERE tx_rec = t.rec)"},
	{14, "a line result or a voucher belongs to no fees transaction, or a result to no line",
	 "SELECT (SELECT count(*) FROM fee_result r WHERE NOT EXISTS (SELECT 1 FROM fee_item WHERE tx_rec = r.tx_rec"
	 " AND n = r.n)) + (SELECT count(*) FROM voucher_payment v JOIN tx t ON t.rec = v.tx_rec WHERE t.kind != 'fees')"
	 " + (SELECT count(*) FROM voucher_issue v JOIN tx t ON t.rec = v.tx_rec WHERE t.kind != 'fees')"
	 " + (SELECT count(*) FROM voucher_intent v JOIN tx t ON t.rec = v.tx_rec WHERE t.kind != 'fees')"},
	{15, "a redemption intent is both booked and void, or neither once its transaction ended",
	 "SELECT count(*) FROM voucher_intent i WHERE EXISTS (SELECT 1 FROM voucher_payment p WHERE"
	 " p.redemption_id = i.redemption_id) = EXISTS (SELECT 1 FROM voucher_void v WHERE v.redemption_id ="
	 " i.redemption_id) AND (EXISTS (SELECT 1 FROM voucher_payment p WHERE p.redemption_id = i.redemption_id)"
	 " OR EXISTS (SELECT 1 FROM tx_end e WHERE e.tx_rec = i.tx_rec))"},
	{15, "a voucher was booked or void without its redemption's intent",
	 "SELECT (SELECT count(*) FROM voucher_payment p WHERE NOT EXISTS (SELECT 1 FROM voucher_intent i WHERE"
	 " i.redemption_id = p.redemption_id AND i.tx_rec = p.tx_rec AND i.code = p.code AND i.value_fils ="
	 " p.value_fils)) + (SELECT count(*) FROM voucher_void v WHERE NOT EXISTS (SELECT 1 FROM voucher_intent i"
	 " WHERE i.redemption_id = v.redemption_id AND i.tx_rec = v.tx_rec AND i.code = v.code))"},
	{4, "a prune permit was committed: records may be deleted outside a prune (prune.c invariant 4)",
	 "SELECT count(*) FROM prune_permit"},
	{8, "a completed transaction with money is not queued for sync",
	 "SELECT count(*) FROM tx_end e WHERE e.state = 'completed' AND e.credited_fils > 0 AND NOT EXISTS"
	 " (SELECT 1 FROM outbox WHERE tx_rec = e.tx_rec)"},
};

int ledger_check(struct ledger *ledger, struct kio_error *err)
{
	for (size_t k = 0; k < sizeof(checks) / sizeof(checks[0]); k++) {
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(ledger_db(ledger), checks[k].sql, -1, &st, NULL) != SQLITE_OK)
			return kio_fail(err, KIO_ERR_IO, "ledger check: %s", sqlite3_errmsg(ledger_db(ledger)));
		int step = sqlite3_step(st);
		int64_t bad = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
		sqlite3_finalize(st);
		if (step != SQLITE_ROW)
			return kio_fail(err, KIO_ERR_IO, "ledger check: %s", sqlite3_errmsg(ledger_db(ledger)));
		if (bad)
			return kio_fail(err, KIO_ERR_CORRUPT, "ledger: invariant %d broken: %s", checks[k].invariant,
					checks[k].what);
	}
	/* The sync's marks (sync-state.c invariants 2 and 3): an outbox row marked sent exactly
	 * when the host acknowledged its transaction. */
	int src = sync_state_check(ledger_db(ledger), err);
	if (src)
		return src;
	/* Invariant 7 (and 4, for what a trigger cannot stop: a record removed with the
	 * triggers dropped). */
	struct ledger_verdict v;
	int rc = chain_verify(ledger_db(ledger), ledger_key(ledger), &v, err);
	if (!rc && !v.ok)
		rc = kio_fail(err, KIO_ERR_CORRUPT, "ledger: invariant 7 broken: %s", v.why);
	return rc;
}

static int count2(struct ledger *ledger, const char *sql, int64_t *a, int64_t *b, struct kio_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(ledger, sql, &st, err);
	if (rc)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW) {
		if (a)
			*a = sqlite3_column_int64(st, 0);
		if (b)
			*b = sqlite3_column_int64(st, 1);
	} else {
		rc = ledger_sql_fail(ledger, err, "count");
	}
	ledger_stmt_done(ledger, st);
	return rc;
}

int ledger_suspense_total(struct ledger *ledger, int64_t *count, int64_t *total_fils, struct kio_error *err)
{
	return count2(ledger, "SELECT count(*), coalesce(sum(value_fils), 0) FROM suspense", count, total_fils, err);
}

int ledger_outbox_pending(struct ledger *ledger, int64_t *count, struct kio_error *err)
{
	return count2(ledger, "SELECT count(*), 0 FROM outbox WHERE sent_s IS NULL", count, NULL, err);
}
