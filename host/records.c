/*
 * A kiosk's ledger records arriving at the host (records.h): checked, chained, applied once.
 *
 *   parse (wire.c) ──► lock kiosk_sync row ──► duplicates (rec <= acked): same MAC and body?
 *        │ 400/422         FOR UPDATE               │ no: 409 record_conflict + alarm
 *        ▼                                          ▼
 *   new records in rec order: MAC ──► ledger rules ──► INSERT record ──► effects (card credit)
 *                    │ 422 chain_broken + alarm │ 422 bad_record
 *                    ▼                          ▼
 *             ROLLBACK: nothing of the batch is applied           COMMIT: acked moves
 *
 * Invariants (cited in the code):
 *  H1. Everything a batch changes commits in one PostgreSQL transaction or not at all: the
 *      records, the card balances and credits, and the kiosk's acked_rec/last_mac.
 *  H2. Batches of one kiosk serialise on its kiosk_sync row (SELECT ... FOR UPDATE), so two
 *      host processes cannot both apply record n.
 *  H3. A record is applied once: (kiosk, rec), (kiosk, tx uuid), (kiosk, tx seq) and
 *      (kiosk, tx_end's tx) are unique in the table, and a card credit is unique per
 *      (kiosk, tx); a record already held is only compared, never applied again.
 *  H4. acked_rec = n means records 1..n are all held, and last_mac is record n's MAC: every
 *      new record's MAC is recomputed (kiosk/ledger/recmac.h, the kiosk's own code) from the
 *      kiosk's chain key and the previous record's MAC held here.
 *  H5. A card's balance_fils = opening_fils + the sum of its card_credit rows: a completed
 *      top-up's tx_end adds its credited_fils, exactly what its payments booked.
 *  H6. Money paid is never dropped: a top-up for a card the host does not know creates the card
 *      `unregistered`, one for a blocked card still credits it; both raise an alarm.
 *  H7. The rules read a transaction inserted earlier in the same batch from batch_ctx.tx, never
 *      from a guess: records are applied in rec order and a record may only name a transaction
 *      before it, so what the database holds of a transaction inserted in this (uncommitted)
 *      batch is exactly the records of this batch that named it, which update tx as they are
 *      inserted. Any other transaction is read from the database. A retried batch starts empty.
 *  H8. A fees transaction (issue 13) ends as the ledger's invariant 9 says, checked again here
 *      (422 bad_record otherwise): every line has one result, the end credits the cash and
 *      voucher payments, and those equal the lines paid/offline/unconfirmed + the card credit +
 *      the vouchers issued, to the fils; a cancelled one had nothing paid.
 *  H9. What a fees end settles commits with it: a line the kiosk booked paid must be the
 *      host's own paid answer, a line offline or unconfirmed is paid now if the host has no
 *      answer for it (payments.c, source records), a refusal of a line the customer paid for
 *      is owed to the customer (fee_owed); each disagreement raises an alarm in the batch's
 *      transaction, never a refusal (the kiosk's money is booked; an operator settles). A
 *      voucher_issue creates its voucher (redeemable anywhere from then); a voucher_payment
 *      must match its redemption (else an alarm); a card credit is a top-up's (H5, H6).
 * H10. A voucher_void (the kiosk's basket invariant 15: a redemption it intended and never
 *      booked) gives the voucher back what that redemption took, once: the voucher_void row,
 *      keyed by the redemption id, is written with the restore in the batch's transaction,
 *      under the same per-id lock as a redeem (accounts.c), so a redeem racing the void either
 *      finished first (and is restored) or finds the void and is refused. A void of a
 *      redemption the host never made is kept too (nothing to restore; the id is refused from
 *      then on). One naming another kiosk's or transaction's redemption restores nothing and
 *      raises an alarm. A voucher_intent is held as a record only.
 * H11. A fee_item names its line by the kiosk's catalogue ids (police/police-good-conduct),
 *      what the customer chose; the host's payments and answers use the host's path
 *      (police/good-conduct, the catalogue's `host` of that service). Settling an end (H9)
 *      maps each line through the catalogue the host serves (GET /v1/catalogue, the one
 *      current document) before it pays a line or compares it with the online answer: the
 *      host is the catalogue's authority and kiosks take it from here, so the mapping needs no
 *      record change and holds for records already in the field. A line whose ids the served
 *      catalogue no longer has keeps them as they are: the payment refuses it (unknown
 *      service) and the money is owed to the customer with an alarm (H9), never lost.
 */
#define LOG_MODULE "host-records"
#include "records.h"

#include <glib.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "kiosk/core/log.h"
#include "payments.h"
#include "wire.h"

/* A refusal found inside the transaction: the reply to send after the rollback, and the
 * alarm to raise (code NULL for none). */
struct refusal {
	unsigned status;
	const char *code;
	int64_t rec;
	const char *alarm;
	char msg[240];
};

static int refuse(struct refusal *f, unsigned status, const char *code, int64_t rec, const char *alarm,
		  const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int refuse(struct refusal *f, unsigned status, const char *code, int64_t rec, const char *alarm,
		  const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	f->status = status;
	f->code = code;
	f->rec = rec;
	f->alarm = alarm;
	return 1;
}

void records_alarm(PGconn *c, const char *kiosk_id, int64_t rec, const char *code, const char *fmt, ...)
{
	char msg[300], recs[24];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(recs, sizeof(recs), "%" PRId64, rec);
	LOG_ERR("ALARM %s kiosk %s record %" PRId64 ": %s", code, kiosk_id ? kiosk_id : "-", rec, msg);
	const char *p[] = {kiosk_id, rec ? recs : NULL, code, msg};
	struct kio_error err;
	if (hdb_query(c, "INSERT INTO alarm (kiosk_id, rec, code, message) VALUES ($1, $2::bigint, $3, $4)", 4, p,
		      NULL, NULL, "raise an alarm", &err) != 0)
		LOG_ERR("the alarm above could not be stored: %s", err.msg);
}

static bool from_hex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return false;
	for (size_t k = 0; k < n; k++) {
		int hi = g_ascii_xdigit_value(s[2 * k]), lo = g_ascii_xdigit_value(s[2 * k + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[k] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static const struct ledger_rec_val *col(const struct wire_record *r, const char *name)
{
	for (size_t c = 0; c < r->n_cols; c++)
		if (strcmp(r->cols[c], name) == 0)
			return &r->vals[c];
	return NULL;
}

static int64_t col_int(const struct wire_record *r, const char *name)
{
	const struct ledger_rec_val *v = col(r, name);
	return v && v->type == LEDGER_REC_INT ? v->i : 0;
}

static const char *col_text(const struct wire_record *r, const char *name)
{
	const struct ledger_rec_val *v = col(r, name);
	return v && v->type == LEDGER_REC_TEXT ? v->s : NULL;
}

/* The transaction this batch inserted last, as the database now holds it (H7). A kiosk's
 * ledger has one transaction open at a time, so its item, payments and end follow it, mostly in
 * the same batch: answering them from here saves the two statements per record that asking the
 * database cost (bench/sync.sh: round trips and their planning are the host's cost). */
struct batch_tx {
	int64_t rec;  /* 0: none inserted in this batch yet */
	int64_t seq;
	char kind[8], uuid[37];
	bool ended;
	int64_t paid_fils, topup_items;
	char card[17];
};

struct batch_ctx {
	PGconn *c;
	const char *kiosk;
	struct kio_error err;
	struct refusal f;
	int64_t applied, duplicates, acked;
	struct batch_tx tx;
};

/* A record the host holds already: identical (same MAC and same canonical body) or a conflict. */
static int check_duplicate(struct batch_ctx *b, const struct wire_record *r)
{
	char recs[24];
	snprintf(recs, sizeof(recs), "%" PRId64, r->rec);
	char *body = wire_record_json(r);
	const char *p[] = {b->kiosk, recs, body, r->mac_hex};
	PGresult *res;
	int rc = hdb_query(b->c,
			   "SELECT mac = decode($4, 'hex') AND body = $3::jsonb FROM record"
			   " WHERE kiosk_id = $1 AND rec = $2::bigint",
			   4, p, &res, NULL, "compare a held record", &b->err);
	g_free(body);
	if (rc)
		return -1;
	bool same = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!same)
		return refuse(&b->f, 409, "record_conflict", r->rec, "record_conflict",
			      "record %" PRId64 " differs from the one the host holds", r->rec);
	b->duplicates++;
	return 0;
}

/* What the host holds of the transaction a tx_item, payment or tx_end names, in one statement
 * (round trips are what a batch costs: bench/hostd). */
struct held_tx {
	bool is_tx, ended;
	char kind[8];  /* "topup", "fees" */
	char uuid[37];
	int64_t paid_fils; /* its payments so far */
	int64_t topup_items;
	char card[17]; /* its top-up item's card, "" if none */
};

/* with_end: also the payments and the top-up item, which only an end needs. */
static int read_tx(struct batch_ctx *b, int64_t tx_rec, bool with_end, struct held_tx *out)
{
	if (b->tx.rec && tx_rec == b->tx.rec) { /* H7 */
		out->is_tx = true;
		out->ended = b->tx.ended;
		snprintf(out->kind, sizeof(out->kind), "%s", b->tx.kind);
		snprintf(out->uuid, sizeof(out->uuid), "%s", b->tx.uuid);
		out->paid_fils = b->tx.paid_fils;
		out->topup_items = b->tx.topup_items;
		snprintf(out->card, sizeof(out->card), "%s", b->tx.card);
		return 0;
	}
	char txs[24];
	snprintf(txs, sizeof(txs), "%" PRId64, tx_rec);
	const char *p[] = {b->kiosk, txs};
	PGresult *res;
	if (hdb_query(b->c,
		      with_end ? "SELECT t.type = 'tx',"
				 " EXISTS (SELECT 1 FROM record WHERE kiosk_id = $1 AND type = 'tx_end' AND tx_rec = $2::bigint),"
				 " t.body->>'kind', t.tx_uuid::text, p.paid, i.n, i.card"
				 " FROM (SELECT 1) one LEFT JOIN record t ON t.kiosk_id = $1 AND t.rec = $2::bigint,"
				 " (SELECT coalesce(sum((body->>'value_fils')::bigint), 0) AS paid FROM record"
				 "   WHERE kiosk_id = $1 AND type = 'payment' AND tx_rec = $2::bigint) p,"
				 " (SELECT count(*) AS n, min(body->>'card') AS card FROM record WHERE kiosk_id = $1"
				 "   AND type = 'tx_item' AND tx_rec = $2::bigint AND body->>'kind' = 'topup') i"
			       : "SELECT t.type = 'tx',"
				 " EXISTS (SELECT 1 FROM record WHERE kiosk_id = $1 AND type = 'tx_end' AND tx_rec = $2::bigint),"
				 " t.body->>'kind', t.tx_uuid::text"
				 " FROM (SELECT 1) one LEFT JOIN record t ON t.kiosk_id = $1 AND t.rec = $2::bigint",
		      2, p, &res, NULL, "read a record's transaction", &b->err))
		return -1;
	out->is_tx = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	out->ended = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	snprintf(out->kind, sizeof(out->kind), "%s", PQgetvalue(res, 0, 2));
	snprintf(out->uuid, sizeof(out->uuid), "%s", PQgetvalue(res, 0, 3));
	if (with_end) {
		out->paid_fils = hdb_int(res, 0, 4);
		out->topup_items = hdb_int(res, 0, 5);
		snprintf(out->card, sizeof(out->card), "%s", PQgetvalue(res, 0, 6));
	}
	PQclear(res);
	return 0;
}

/* An alarm inside the batch's transaction: it stands exactly when the batch does. */
static int batch_alarm(struct batch_ctx *b, int64_t rec, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int batch_alarm(struct batch_ctx *b, int64_t rec, const char *code, const char *fmt, ...)
{
	char msg[300], recs[24];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(recs, sizeof(recs), "%" PRId64, rec);
	const char *p[] = {b->kiosk, recs, code, msg};
	if (hdb_query(b->c, "INSERT INTO alarm (kiosk_id, rec, code, message) VALUES ($1, $2::bigint, $3, $4)", 4, p, NULL,
		      NULL, "raise an alarm", &b->err))
		return -1;
	LOG_ERR("ALARM %s kiosk %s record %s: %s", code, b->kiosk, recs, msg);
	return 0;
}

/* A basket line (fee_item n: the next, 1..10) or its result (one per existing line). */
static int check_line(struct batch_ctx *b, const struct wire_record *r, int64_t tx_rec)
{
	char txs[24], ns[24];
	snprintf(txs, sizeof(txs), "%" PRId64, tx_rec);
	int64_t n = col_int(r, "n");
	snprintf(ns, sizeof(ns), "%" PRId64, n);
	const char *p[] = {b->kiosk, txs, ns};
	PGresult *res;
	if (hdb_query(b->c,
		      "SELECT count(*) FILTER (WHERE type = 'fee_item'),"
		      " count(*) FILTER (WHERE type = 'fee_item' AND (body->>'n')::bigint = $3::bigint),"
		      " count(*) FILTER (WHERE type = 'fee_result' AND (body->>'n')::bigint = $3::bigint)"
		      " FROM record WHERE kiosk_id = $1 AND tx_rec = $2::bigint AND type IN ('fee_item', 'fee_result')",
		      3, p, &res, NULL, "read a basket's lines", &b->err))
		return -1;
	int64_t lines = hdb_int(res, 0, 0), line = hdb_int(res, 0, 1), results = hdb_int(res, 0, 2);
	PQclear(res);
	if (strcmp(r->type, "fee_item") == 0) {
		if (n != lines + 1 || n > WIRE_PAY_LINES_MAX)
			return refuse(&b->f, 422, "bad_record", r->rec, NULL,
				      "record %" PRId64 ": line %" PRId64 " after %" PRId64 " lines (lines are 1, 2, ... up to %d)",
				      r->rec, n, lines, WIRE_PAY_LINES_MAX);
		return 0;
	}
	if (line != 1 || results != 0)
		return refuse(&b->f, 422, "bad_record", r->rec, NULL,
			      "record %" PRId64 ": a result for line %" PRId64 ", which %s", r->rec, n,
			      line != 1 ? "the transaction does not have" : "has one already");
	return 0;
}

/* What the host holds of a fees transaction when its end arrives (H8). */
struct fees_tx {
	int64_t cash, vouchers, issued, credits, n_credits, n_lines, n_results, lines_fils;
	char card[17];
};

static int read_fees(struct batch_ctx *b, int64_t tx_rec, struct fees_tx *f)
{
	char txs[24];
	snprintf(txs, sizeof(txs), "%" PRId64, tx_rec);
	const char *p[] = {b->kiosk, txs};
	PGresult *res;
	if (hdb_query(b->c,
		      "SELECT coalesce(sum((body->>'value_fils')::bigint) FILTER (WHERE type = 'payment'), 0),"
		      " coalesce(sum((body->>'value_fils')::bigint) FILTER (WHERE type = 'voucher_payment'), 0),"
		      " coalesce(sum((body->>'value_fils')::bigint) FILTER (WHERE type = 'voucher_issue'), 0),"
		      " coalesce(sum((body->>'amount_fils')::bigint) FILTER (WHERE type = 'tx_item'), 0),"
		      " count(*) FILTER (WHERE type = 'tx_item'),"
		      " count(*) FILTER (WHERE type = 'fee_item'),"
		      " count(*) FILTER (WHERE type = 'fee_result'),"
		      " coalesce(min(body->>'card') FILTER (WHERE type = 'tx_item'), ''),"
		      " (SELECT coalesce(sum((i.body->>'amount_fils')::bigint), 0) FROM record i JOIN record s"
		      "   ON s.kiosk_id = i.kiosk_id AND s.tx_rec = i.tx_rec AND s.type = 'fee_result'"
		      "   AND s.body->'n' = i.body->'n'"
		      "   WHERE i.kiosk_id = $1 AND i.tx_rec = $2::bigint AND i.type = 'fee_item'"
		      "   AND s.body->>'status' IN ('paid', 'offline', 'unconfirmed'))"
		      " FROM record WHERE kiosk_id = $1 AND tx_rec = $2::bigint",
		      2, p, &res, NULL, "read a fees transaction", &b->err))
		return -1;
	f->cash = hdb_int(res, 0, 0);
	f->vouchers = hdb_int(res, 0, 1);
	f->issued = hdb_int(res, 0, 2);
	f->credits = hdb_int(res, 0, 3);
	f->n_credits = hdb_int(res, 0, 4);
	f->n_lines = hdb_int(res, 0, 5);
	f->n_results = hdb_int(res, 0, 6);
	snprintf(f->card, sizeof(f->card), "%s", PQgetvalue(res, 0, 7));
	f->lines_fils = hdb_int(res, 0, 8);
	PQclear(res);
	return 0;
}

/* H8: the ledger's invariant 9, again at the host. */
static int check_fees_end(struct batch_ctx *b, const struct wire_record *r, int64_t tx_rec)
{
	struct fees_tx f;
	if (read_fees(b, tx_rec, &f))
		return -1;
	bool completed = strcmp(col_text(r, "state"), "completed") == 0;
	int64_t paid_in = f.cash + f.vouchers, credited = col_int(r, "credited_fils");
	if (f.n_lines < 1 || f.n_results != f.n_lines)
		return refuse(&b->f, 422, "bad_record", r->rec, NULL,
			      "record %" PRId64 ": fees transaction %" PRId64 " ends with %" PRId64 " lines and %" PRId64
			      " results (every line needs one)",
			      r->rec, tx_rec, f.n_lines, f.n_results);
	if (credited != paid_in)
		return refuse(&b->f, 422, "bad_record", r->rec, NULL,
			      "record %" PRId64 ": a fees end crediting %" PRId64 " fils for %" PRId64 " paid (cash %" PRId64
			      ", vouchers %" PRId64 ")",
			      r->rec, credited, paid_in, f.cash, f.vouchers);
	if (!completed && (paid_in != 0 || f.issued != 0 || f.credits != 0))
		return refuse(&b->f, 422, "bad_record", r->rec, NULL,
			      "record %" PRId64 ": a cancelled fees transaction with %" PRId64 " fils paid in", r->rec, paid_in);
	if (completed && paid_in == 0)
		return refuse(&b->f, 422, "bad_record", r->rec, NULL,
			      "record %" PRId64 ": a completed fees transaction with nothing paid in", r->rec);
	if (f.n_credits > 1)
		return refuse(&b->f, 422, "bad_record", r->rec, NULL,
			      "record %" PRId64 ": a fees transaction credits %" PRId64 " cards (one at most)", r->rec,
			      f.n_credits);
	if (paid_in != f.lines_fils + f.credits + f.issued)
		return refuse(&b->f, 422, "bad_record", r->rec, NULL,
			      "record %" PRId64 ": %" PRId64 " fils paid in, but lines %" PRId64 " + card %" PRId64
			      " + vouchers issued %" PRId64 " = %" PRId64 " (invariant 9)",
			      r->rec, paid_in, f.lines_fils, f.credits, f.issued, f.lines_fils + f.credits + f.issued);
	return 0;
}

/* The ledger's rules between records (tx.c's invariants 3, 5 and 6, as the host can see them).
 * *tx: what is held of the transaction the record names (tx_item, payment, tx_end). */
static int check_rules(struct batch_ctx *b, const struct wire_record *r, struct held_tx *tx)
{
	if (strcmp(r->type, "tx") == 0) {
		int64_t last = b->tx.seq; /* H7: the batch's last transaction is the kiosk's last */
		if (!b->tx.rec) {
			PGresult *res;
			const char *p[] = {b->kiosk};
			if (hdb_query(b->c, "SELECT coalesce(max(seq), 0) FROM record WHERE kiosk_id = $1 AND type = 'tx'", 1,
				      p, &res, NULL, "read the last transaction number", &b->err))
				return -1;
			last = hdb_int(res, 0, 0);
			PQclear(res);
		}
		if (col_int(r, "seq") != last + 1)
			return refuse(&b->f, 422, "bad_record", r->rec, NULL,
				      "record %" PRId64 ": transaction number %" PRId64 " does not follow %" PRId64, r->rec,
				      col_int(r, "seq"), last);
		return 0;
	}
	if (strcmp(r->type, "suspense") == 0)
		return 0;
	int64_t tx_rec = col_int(r, "tx_rec");
	if (tx_rec >= r->rec)
		return refuse(&b->f, 422, "bad_record", r->rec, NULL,
			      "record %" PRId64 " names transaction %" PRId64 ", which is not before it", r->rec, tx_rec);
	if (read_tx(b, tx_rec, strcmp(r->type, "tx_end") == 0, tx))
		return -1;
	if (!tx->is_tx)
		return refuse(&b->f, 422, "bad_record", r->rec, NULL,
			      "record %" PRId64 " (%s) names transaction %" PRId64 ", which the host does not hold",
			      r->rec, r->type, tx_rec);
	if (tx->ended)
		return refuse(&b->f, 422, "bad_record", r->rec, NULL,
			      "record %" PRId64 " (%s) names transaction %" PRId64 ", which has already ended", r->rec,
			      r->type, tx_rec);
	bool fees = strcmp(tx->kind, "fees") == 0;
	bool basket_record = strcmp(r->type, "fee_item") == 0 || strcmp(r->type, "fee_result") == 0 ||
			     strcmp(r->type, "voucher_payment") == 0 || strcmp(r->type, "voucher_issue") == 0 ||
			     strcmp(r->type, "voucher_intent") == 0 || strcmp(r->type, "voucher_void") == 0;
	if (basket_record && !fees)
		return refuse(&b->f, 422, "bad_record", r->rec, NULL,
			      "record %" PRId64 " (%s) names transaction %" PRId64 ", which is a %s, not a fees transaction",
			      r->rec, r->type, tx_rec, tx->kind);
	if (fees && strcmp(r->type, "tx_item") == 0 &&
	    (col(r, "amount_fils")->type != LEDGER_REC_INT || col_int(r, "amount_fils") < 1))
		return refuse(&b->f, 422, "bad_record", r->rec, NULL,
			      "record %" PRId64 ": a fees transaction's card credit names its amount", r->rec);
	if (strcmp(r->type, "fee_item") == 0 || strcmp(r->type, "fee_result") == 0)
		return check_line(b, r, tx_rec);
	if (strcmp(r->type, "tx_end") != 0)
		return 0;
	if (fees)
		return check_fees_end(b, r, tx_rec);
	/* A tx_end credits exactly what its payments booked; a cancel had nothing paid; a completed
	 * top-up names one card. */
	int64_t credited = col_int(r, "credited_fils");
	bool completed = strcmp(col_text(r, "state"), "completed") == 0;
	if (credited != (completed ? tx->paid_fils : 0) || (!completed && tx->paid_fils != 0) ||
	    (completed && tx->paid_fils == 0))
		return refuse(&b->f, 422, "bad_record", r->rec, NULL,
			      "record %" PRId64 ": a %s end crediting %" PRId64 " fils for %" PRId64 " fils paid", r->rec,
			      completed ? "completed" : "cancelled", credited, tx->paid_fils);
	if (completed && tx->topup_items != 1)
		return refuse(&b->f, 422, "bad_record", r->rec, NULL,
			      "record %" PRId64 ": a completed top-up needs one card item, transaction %" PRId64 " has %" PRId64,
			      r->rec, tx_rec, tx->topup_items);
	return 0;
}

/* A completed top-up's credit to its card (H5, H6), after its tx_end record is inserted: the
 * balance and the credit row in one statement. An unknown card is inserted `unregistered` with
 * the amount as its balance (xmax = 0 tells an insert from the update of an existing row). */
static int credit_card(struct batch_ctx *b, const struct wire_record *r, const char *card, int64_t amount_fils)
{
	char txs[24], recs[24], amount[24];
	snprintf(txs, sizeof(txs), "%" PRId64, col_int(r, "tx_rec"));
	snprintf(recs, sizeof(recs), "%" PRId64, r->rec);
	snprintf(amount, sizeof(amount), "%" PRId64, amount_fils);
	const char *p[] = {card, amount, b->kiosk, txs, recs};
	PGresult *res;
	char state[6];
	if (hdb_query(b->c,
		      "WITH c AS (INSERT INTO card (card, status, balance_fils) VALUES ($1, 'unregistered', $2::bigint)"
		      "   ON CONFLICT (card) DO UPDATE SET balance_fils = card.balance_fils + excluded.balance_fils,"
		      "   updated_at = now() RETURNING status, xmax = 0 AS created),"
		      " credit AS (INSERT INTO card_credit (kiosk_id, tx_rec, card, amount_fils, end_rec)"
		      "   VALUES ($3, $4::bigint, $1, $2::bigint, $5::bigint))"
		      " SELECT status, created FROM c",
		      5, p, &res, state, "credit the card", &b->err)) {
		if (strcmp(state, "23505") == 0) /* H3: cannot happen while tx_end is unique */
			return refuse(&b->f, 422, "bad_record", r->rec, NULL,
				      "record %" PRId64 ": transaction %s was credited already", r->rec, txs);
		return -1;
	}
	bool created = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	bool blocked = strcmp(PQgetvalue(res, 0, 0), "blocked") == 0;
	PQclear(res);
	/* H6: the money was paid, so the card is credited even when the host did not know it or
	 * blocked it (an offline top-up); an operator settles it. The alarm is written inside the
	 * batch's transaction: it stands exactly when the credit does. */
	if (created || blocked) {
		const char *code = created ? "card_unregistered" : "card_blocked";
		const char *pa[] = {b->kiosk, recs, code,
				    created ? "a top-up credited a card the host did not know" : "a top-up credited a blocked card"};
		if (hdb_query(b->c, "INSERT INTO alarm (kiosk_id, rec, code, message) VALUES ($1, $2::bigint, $3, $4)", 4,
			      pa, NULL, NULL, "raise an alarm", &b->err))
			return -1;
		LOG_ERR("ALARM %s kiosk %s record %s: card ****%s credited %s fils", code, b->kiosk, recs, card + 12,
			amount);
	}
	return 0;
}

static int apply_end(struct batch_ctx *b, const struct wire_record *r, const struct held_tx *tx)
{
	if (strcmp(col_text(r, "state"), "completed") != 0)
		return 0;
	return credit_card(b, r, tx->card, col_int(r, "credited_fils"));
}

/* H9: a voucher_payment names the redemption the host answered for this kiosk and transaction. */
static int match_redemption(struct batch_ctx *b, const struct wire_record *r, const struct held_tx *tx)
{
	const char *p[] = {col_text(r, "redemption_id")};
	PGresult *res;
	if (hdb_query(b->c,
		      "SELECT code, kiosk_id, tx_uuid::text, amount_fils FROM voucher_redemption WHERE redemption_id = $1::uuid",
		      1, p, &res, NULL, "read a redemption", &b->err))
		return -1;
	bool same = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), col_text(r, "code")) == 0 &&
		    strcmp(PQgetvalue(res, 0, 1), b->kiosk) == 0 && g_ascii_strcasecmp(PQgetvalue(res, 0, 2), tx->uuid) == 0 &&
		    hdb_int(res, 0, 3) == col_int(r, "value_fils");
	bool found = PQntuples(res) == 1;
	PQclear(res);
	if (same)
		return 0;
	return batch_alarm(b, r->rec, "voucher_payment_unmatched",
			   "voucher %.4s... paid %" PRId64 " fils into transaction %" PRId64 " under redemption %s, %s",
			   col_text(r, "code"), col_int(r, "value_fils"), col_int(r, "tx_rec"), col_text(r, "redemption_id"),
			   found ? "which the host answered with another code, kiosk, transaction or amount"
				 : "which the host never answered");
}

/* H10: the redemption the kiosk never booked is undone. */
static int void_redemption(struct batch_ctx *b, const struct wire_record *r, const struct held_tx *tx)
{
	const char *rid = col_text(r, "redemption_id");
	char recs[24];
	snprintf(recs, sizeof(recs), "%" PRId64, r->rec);
	const char *pl[] = {rid};
	const char *pv[] = {rid, col_text(r, "code"), b->kiosk, tx->uuid, recs};
	PGresult *res = NULL;
	if (hdb_query(b->c, "SELECT pg_advisory_xact_lock(hashtextextended($1, 7841))", 1, pl, NULL, NULL,
		      "lock the redemption id", &b->err) ||
	    hdb_query(b->c,
		      "INSERT INTO voucher_void (redemption_id, code, kiosk_id, tx_uuid, void_rec)"
		      " VALUES ($1::uuid, $2, $3, $4::uuid, $5::bigint) ON CONFLICT DO NOTHING RETURNING 1",
		      5, pv, &res, NULL, "void a redemption", &b->err))
		return -1;
	bool first = PQntuples(res) == 1;
	PQclear(res);
	if (!first)
		return batch_alarm(b, r->rec, "voucher_void_repeated",
				   "redemption %s of voucher %.4s... was voided already (by another record)", rid,
				   col_text(r, "code"));
	if (hdb_query(b->c,
		      "SELECT code, kiosk_id, tx_uuid::text, amount_fils FROM voucher_redemption WHERE redemption_id = $1::uuid",
		      1, pl, &res, NULL, "read a redemption", &b->err))
		return -1;
	if (PQntuples(res) == 0) { /* never reached the host: nothing to give back */
		PQclear(res);
		LOG_INFO("kiosk %s: redemption %s voided before the host made it", b->kiosk, rid);
		return 0;
	}
	bool same = strcmp(PQgetvalue(res, 0, 0), col_text(r, "code")) == 0 && strcmp(PQgetvalue(res, 0, 1), b->kiosk) == 0 &&
		    g_ascii_strcasecmp(PQgetvalue(res, 0, 2), tx->uuid) == 0;
	char amount[24];
	snprintf(amount, sizeof(amount), "%s", PQgetvalue(res, 0, 3));
	PQclear(res);
	if (!same)
		return batch_alarm(b, r->rec, "voucher_void_unmatched",
				   "the kiosk voided redemption %s of voucher %.4s... in transaction %" PRId64
				   ", which the host made for another code, kiosk or transaction: nothing restored",
				   rid, col_text(r, "code"), col_int(r, "tx_rec"));
	const char *pu[] = {col_text(r, "code"), amount};
	const char *pn[] = {rid, amount};
	if (hdb_query(b->c, "UPDATE voucher SET remaining_fils = remaining_fils + $2::bigint WHERE code = $1", 2, pu, NULL,
		      NULL, "restore a voucher", &b->err) ||
	    hdb_query(b->c, "UPDATE voucher_void SET restored_fils = $2::bigint WHERE redemption_id = $1::uuid", 2, pn,
		      NULL, NULL, "note the restore", &b->err))
		return -1;
	LOG_INFO("kiosk %s: redemption %s voided, %s fils back on voucher %.4s...", b->kiosk, rid, amount,
		 col_text(r, "code"));
	return 0;
}

/* H9: the voucher a kiosk issued, redeemable anywhere from now; it expires at the end of the
 * day of expires_s in Dubai (UTC+4 all year), as the host keeps dates. A code the host holds
 * already (14 random digits: never seen) is an alarm, not a refusal: the kiosk's records go on. */
static int issue_voucher(struct batch_ctx *b, const struct wire_record *r)
{
	int64_t day = (col_int(r, "expires_s") + 4 * 3600) / 86400;
	char value[24], days[24], recs[24];
	snprintf(value, sizeof(value), "%" PRId64, col_int(r, "value_fils"));
	snprintf(days, sizeof(days), "%" PRId64, day);
	snprintf(recs, sizeof(recs), "%" PRId64, r->rec);
	const char *p[] = {col_text(r, "code"), value, days, b->kiosk, recs, col_text(r, "why")};
	PGresult *res;
	if (hdb_query(b->c,
		      "INSERT INTO voucher (code, value_fils, remaining_fils, expires, issued_by, issued_rec, why)"
		      " VALUES ($1, $2::bigint, $2::bigint, date '1970-01-01' + $3::int, $4, $5::bigint, $6)"
		      " ON CONFLICT (code) DO NOTHING RETURNING code",
		      6, p, &res, NULL, "issue a voucher", &b->err))
		return -1;
	bool inserted = PQntuples(res) == 1;
	PQclear(res);
	if (inserted)
		return 0;
	return batch_alarm(b, r->rec, "voucher_code_taken",
			   "the kiosk issued voucher %.4s... of %" PRId64 " fils, a code the host holds already", col_text(r, "code"),
			   col_int(r, "value_fils"));
}

/* One basket line at its end (H9), as the kiosk booked it and as the host answered it. */
struct end_line {
	int n;
	char entity[33], service[33], reference[33], bill[33];
	int64_t amount_fils;
	char status[16], host_ref[33];   /* the kiosk's fee_result */
	bool host_has;                   /* the host answered this line (fee_payment_line) */
	bool host_paid, host_same;       /* paid; and for the same entity, service, reference, bill, amount */
	char host_status[16], host_ref_host[33];
};

static int owe(struct batch_ctx *b, const struct wire_record *r, const struct end_line *l, const char *reason)
{
	char txs[24], ns[8], amount[24], recs[24];
	snprintf(txs, sizeof(txs), "%" PRId64, col_int(r, "tx_rec"));
	snprintf(ns, sizeof(ns), "%d", l->n);
	snprintf(amount, sizeof(amount), "%" PRId64, l->amount_fils);
	snprintf(recs, sizeof(recs), "%" PRId64, r->rec);
	const char *p[] = {b->kiosk, txs, ns, amount, reason, recs};
	if (hdb_query(b->c,
		      "INSERT INTO fee_owed (kiosk_id, tx_rec, n, amount_fils, reason, end_rec)"
		      " VALUES ($1, $2::bigint, $3::int, $4::bigint, $5, $6::bigint) ON CONFLICT DO NOTHING",
		      6, p, NULL, NULL, "record what is owed", &b->err))
		return -1;
	return batch_alarm(b, r->rec, "fee_owed",
			   "transaction %s line %d (%s/%s, %s fils) was paid by the customer and %s: owed to the customer", txs,
			   l->n, l->entity, l->service, amount, reason);
}

/* H9: a fees transaction's end settles its lines with the host's answers. */
static int apply_fees_end(struct batch_ctx *b, const struct wire_record *r, const struct held_tx *tx)
{
	char txs[24];
	int64_t tx_rec = col_int(r, "tx_rec");
	snprintf(txs, sizeof(txs), "%" PRId64, tx_rec);
	const char *p[] = {b->kiosk, txs, tx->uuid};
	PGresult *res;
	if (hdb_query(b->c,
		      "SELECT (i.body->>'n')::int, m.entity, m.service, coalesce(i.body->>'reference', ''),"
		      " coalesce(i.body->>'bill', ''), (i.body->>'amount_fils')::bigint, s.body->>'status',"
		      " coalesce(s.body->>'host_ref', ''), l.status IS NOT NULL, coalesce(l.status, ''),"
		      " coalesce(l.host_ref, ''), l.entity = m.entity AND l.service = m.service"
		      "   AND l.reference IS NOT DISTINCT FROM i.body->>'reference' AND l.bill IS NOT DISTINCT FROM i.body->>'bill'"
		      "   AND l.amount_fils = (i.body->>'amount_fils')::bigint"
		      " FROM record i JOIN record s ON s.kiosk_id = i.kiosk_id AND s.tx_rec = i.tx_rec AND s.type = 'fee_result'"
		      "   AND s.body->'n' = i.body->'n'"
		      /* H11: the line's catalogue ids to the host's path, by the catalogue it serves. */
		      " CROSS JOIN LATERAL (SELECT coalesce(("
		      "     SELECT jsonb_build_array(sv->'host'->>'entity', sv->'host'->>'service')"
		      "     FROM catalogue c, jsonb_array_elements(c.document->'entities') e,"
		      "       jsonb_array_elements(e->'services') sv"
		      "     WHERE c.id = 1 AND e->>'id' = i.body->>'entity' AND sv->>'id' = i.body->>'service'"
		      "       AND sv->'host'->>'entity' IS NOT NULL AND sv->'host'->>'service' IS NOT NULL LIMIT 1),"
		      "   jsonb_build_array(i.body->>'entity', i.body->>'service')) AS p) mp"
		      " CROSS JOIN LATERAL (SELECT mp.p->>0 AS entity, mp.p->>1 AS service) m"
		      /* Only this kiosk's payment counts: a uuid another kiosk paid under is not its answer. */
		      " LEFT JOIN (fee_payment_line l JOIN fee_payment p ON p.tx_uuid = l.tx_uuid AND p.kiosk_id = $1)"
		      "   ON l.tx_uuid = $3::uuid AND l.n = (i.body->>'n')::int"
		      " WHERE i.kiosk_id = $1 AND i.tx_rec = $2::bigint AND i.type = 'fee_item'"
		      " ORDER BY (i.body->>'n')::int",
		      3, p, &res, NULL, "read a basket's lines and answers", &b->err))
		return -1;
	int n = PQntuples(res);
	struct end_line lines[WIRE_PAY_LINES_MAX];
	if (n > WIRE_PAY_LINES_MAX)
		n = WIRE_PAY_LINES_MAX; /* check_line allows no more */
	for (int k = 0; k < n; k++) {
		struct end_line *l = &lines[k];
		memset(l, 0, sizeof(*l));
		l->n = (int)hdb_int(res, k, 0);
		snprintf(l->entity, sizeof(l->entity), "%s", PQgetvalue(res, k, 1));
		snprintf(l->service, sizeof(l->service), "%s", PQgetvalue(res, k, 2));
		snprintf(l->reference, sizeof(l->reference), "%s", PQgetvalue(res, k, 3));
		snprintf(l->bill, sizeof(l->bill), "%s", PQgetvalue(res, k, 4));
		l->amount_fils = hdb_int(res, k, 5);
		snprintf(l->status, sizeof(l->status), "%s", PQgetvalue(res, k, 6));
		snprintf(l->host_ref, sizeof(l->host_ref), "%s", PQgetvalue(res, k, 7));
		l->host_has = strcmp(PQgetvalue(res, k, 8), "t") == 0;
		snprintf(l->host_status, sizeof(l->host_status), "%s", PQgetvalue(res, k, 9));
		l->host_paid = strcmp(l->host_status, "paid") == 0;
		snprintf(l->host_ref_host, sizeof(l->host_ref_host), "%s", PQgetvalue(res, k, 10));
		l->host_same = strcmp(PQgetvalue(res, k, 11), "t") == 0;
	}
	PQclear(res);

	/* Lines the customer paid for that the host never answered: paid now, in this batch. */
	struct wire_payment pay = {0};
	snprintf(pay.tx_uuid, sizeof(pay.tx_uuid), "%s", tx->uuid);
	bool any_answer = false;
	for (int k = 0; k < n; k++) {
		const struct end_line *l = &lines[k];
		any_answer = any_answer || l->host_has;
		bool funded = strcmp(l->status, "offline") == 0 || strcmp(l->status, "unconfirmed") == 0;
		if (funded && !l->host_has) {
			struct wire_pay_line *pl = &pay.lines[pay.n++];
			pl->n = l->n;
			snprintf(pl->entity, sizeof(pl->entity), "%s", l->entity);
			snprintf(pl->service, sizeof(pl->service), "%s", l->service);
			snprintf(pl->reference, sizeof(pl->reference), "%s", l->reference);
			snprintf(pl->bill, sizeof(pl->bill), "%s", l->bill);
			pl->amount_fils = l->amount_fils;
		}
	}
	if (pay.n && !any_answer) {
		char *answer = NULL, sqlstate[6];
		bool same = false;
		if (payments_apply(b->c, b->kiosk, &pay, "records", &answer, &same, sqlstate, &b->err))
			return -1;
		g_free(answer);
		/* Not ours (another kiosk paid under this uuid): nothing settled, the lines are owed below. */
		if (!same)
			pay.n = 0;
		/* Read back what was decided, line by line (payments.c stored it). */
		for (size_t j = 0; j < pay.n; j++) {
			char ns[8];
			snprintf(ns, sizeof(ns), "%d", pay.lines[j].n);
			const char *pq[] = {tx->uuid, ns};
			if (hdb_query(b->c, "SELECT status, coalesce(host_ref, '') FROM fee_payment_line WHERE tx_uuid = $1::uuid"
					    " AND n = $2::int",
				      2, pq, &res, NULL, "read a settled line", &b->err))
				return -1;
			for (int k = 0; k < n; k++)
				if (lines[k].n == pay.lines[j].n && PQntuples(res) == 1) {
					lines[k].host_has = lines[k].host_same = true;
					snprintf(lines[k].host_status, sizeof(lines[k].host_status), "%s", PQgetvalue(res, 0, 0));
					lines[k].host_paid = strcmp(lines[k].host_status, "paid") == 0;
					snprintf(lines[k].host_ref_host, sizeof(lines[k].host_ref_host), "%s", PQgetvalue(res, 0, 1));
				}
			PQclear(res);
		}
		LOG_INFO("kiosk %s: transaction %s: %zu line(s) settled from its records", b->kiosk, txs, pay.n);
	}

	for (int k = 0; k < n; k++) {
		const struct end_line *l = &lines[k];
		bool funded = strcmp(l->status, "offline") == 0 || strcmp(l->status, "unconfirmed") == 0;
		int rc = 0;
		if (strcmp(l->status, "paid") == 0) {
			if (!l->host_paid || !l->host_same || strcmp(l->host_ref, l->host_ref_host) != 0)
				rc = batch_alarm(b, r->rec, "fee_result_mismatch",
						 "transaction %s line %d: the kiosk booked it paid (%s), the host %s%s%s", txs, l->n,
						 l->host_ref[0] ? l->host_ref : "no reference",
						 l->host_has ? "answered " : "has no answer for it", l->host_status,
						 l->host_has && !l->host_same ? " for another line" : "");
		} else if (funded) {
			if (!l->host_has)
				rc = owe(b, r, l, "the host could not settle it (its payment answered other lines)");
			else if (!l->host_paid || !l->host_same)
				rc = owe(b, r, l, "the host refused it");
		} else if (l->host_paid) { /* refused or unpaid at the kiosk: its money went elsewhere */
			rc = batch_alarm(b, r->rec, "fee_result_mismatch",
					 "transaction %s line %d: the kiosk booked it %s, but the host paid it (%s)", txs, l->n,
					 l->status, l->host_ref_host);
		}
		if (rc)
			return rc;
	}
	if (strcmp(col_text(r, "state"), "completed") != 0)
		return 0;
	struct fees_tx f;
	if (read_fees(b, tx_rec, &f))
		return -1;
	return f.n_credits == 1 ? credit_card(b, r, f.card, f.credits) : 0;
}

/* H7: what an inserted record changes of the batch's transaction, as read_tx's query would
 * see it (a payment's value_fils summed, top-up items counted, the smallest card kept). */
static void note_inserted(struct batch_tx *tx, const struct wire_record *r)
{
	if (strcmp(r->type, "tx") == 0) {
		*tx = (struct batch_tx){.rec = r->rec, .seq = col_int(r, "seq")};
		snprintf(tx->kind, sizeof(tx->kind), "%s", col_text(r, "kind"));
		snprintf(tx->uuid, sizeof(tx->uuid), "%s", col_text(r, "uuid"));
		/* One spelling of the key (the uuid column holds it lowercase, as read_tx reads it). */
		for (char *c = tx->uuid; *c; c++)
			*c = g_ascii_tolower(*c);
		return;
	}
	if (!tx->rec || col_int(r, "tx_rec") != tx->rec)
		return;
	if (strcmp(r->type, "payment") == 0) {
		tx->paid_fils += col_int(r, "value_fils");
	} else if (strcmp(r->type, "tx_end") == 0) {
		tx->ended = true;
	} else if (strcmp(r->type, "tx_item") == 0) {
		const char *kind = col_text(r, "kind"), *card = col_text(r, "card");
		if (kind && strcmp(kind, "topup") == 0) {
			tx->topup_items++;
			if (card && (!tx->card[0] || strcmp(card, tx->card) < 0))
				snprintf(tx->card, sizeof(tx->card), "%s", card);
		}
	}
}

static int apply_new(struct batch_ctx *b, const struct wire_record *r, const uint8_t key[LEDGER_KEY_BYTES],
		     uint8_t prev[LEDGER_MAC_BYTES])
{
	/* H4: the MAC first; a record that is not the kiosk's is not looked at further. */
	uint8_t want[LEDGER_MAC_BYTES];
	if (ledger_rec_mac(key, prev, r->rec, r->type, r->vals, r->n_cols, want) != 0 ||
	    memcmp(want, r->mac, LEDGER_MAC_BYTES) != 0)
		return refuse(&b->f, 422, "chain_broken", r->rec, "chain_broken",
			      "record %" PRId64 " (%s) does not match its chain MAC", r->rec, r->type);
	struct held_tx tx = {0};
	int rc = check_rules(b, r, &tx);
	if (rc)
		return rc;

	char recs[24], seqs[24], txs[24];
	snprintf(recs, sizeof(recs), "%" PRId64, r->rec);
	bool is_tx = strcmp(r->type, "tx") == 0, has_tx = !is_tx && strcmp(r->type, "suspense") != 0;
	snprintf(seqs, sizeof(seqs), "%" PRId64, col_int(r, "seq"));
	snprintf(txs, sizeof(txs), "%" PRId64, col_int(r, "tx_rec"));
	char *body = wire_record_json(r);
	const char *p[] = {b->kiosk, recs, r->type, is_tx ? col_text(r, "uuid") : NULL, is_tx ? seqs : NULL,
			   has_tx ? txs : NULL, body, r->mac_hex};
	PGresult *res;
	/* H3: ON CONFLICT DO NOTHING on every unique key; no row back means another record of this
	 * kiosk holds the uuid, seq or end already. */
	rc = hdb_query(b->c,
		       "INSERT INTO record (kiosk_id, rec, type, tx_uuid, seq, tx_rec, body, mac)"
		       " VALUES ($1, $2::bigint, $3, $4::uuid, $5::bigint, $6::bigint, $7::jsonb, decode($8, 'hex'))"
		       " ON CONFLICT DO NOTHING RETURNING rec",
		       8, p, &res, NULL, "store a record", &b->err);
	g_free(body);
	if (rc)
		return -1;
	bool inserted = PQntuples(res) == 1;
	PQclear(res);
	if (!inserted)
		return refuse(&b->f, 422, "bad_record", r->rec, NULL,
			      "record %" PRId64 ": its transaction uuid, number or end is held already under another record",
			      r->rec);
	if (strcmp(r->type, "tx_end") == 0 &&
	    (rc = strcmp(tx.kind, "fees") == 0 ? apply_fees_end(b, r, &tx) : apply_end(b, r, &tx)))
		return rc;
	if (strcmp(r->type, "voucher_payment") == 0 && (rc = match_redemption(b, r, &tx)))
		return rc;
	if (strcmp(r->type, "voucher_issue") == 0 && (rc = issue_voucher(b, r)))
		return rc;
	if (strcmp(r->type, "voucher_void") == 0 && (rc = void_redemption(b, r, &tx)))
		return rc;
	note_inserted(&b->tx, r);
	memcpy(prev, r->mac, LEDGER_MAC_BYTES);
	b->applied++;
	return 0;
}

/* One attempt at the whole batch in one transaction (H1). 0 applied, 1 refused (b->f), -1 a
 * database error (b->err); the transaction is ended either way. */
static int apply_batch(struct batch_ctx *b, const struct wire_batch *batch, char sqlstate[6])
{
	b->applied = b->duplicates = 0;
	b->tx = (struct batch_tx){0}; /* H7: a retried batch reads the database afresh */
	sqlstate[0] = '\0';
	if (hdb_begin(b->c, &b->err))
		return -1;
	int rc;
	const char *p[] = {b->kiosk};
	PGresult *res = NULL;
	/* Enrolment makes the row; a kiosk registered by hand gets it here. */
	rc = hdb_query(b->c, "INSERT INTO kiosk_sync (kiosk_id) VALUES ($1) ON CONFLICT DO NOTHING", 1, p, NULL, sqlstate,
		       "create the sync row", &b->err);
	/* H2 */
	if (!rc)
		rc = hdb_query(b->c,
			       "SELECT s.acked_rec, encode(s.last_mac, 'hex'), encode(k.chain_key, 'hex')"
			       " FROM kiosk_sync s JOIN kiosk k USING (kiosk_id) WHERE s.kiosk_id = $1 FOR UPDATE OF s",
			       1, p, &res, sqlstate, "lock the kiosk's sync row", &b->err);
	if (rc)
		goto out_rollback;
	uint8_t key[LEDGER_KEY_BYTES], prev[LEDGER_MAC_BYTES];
	if (PQntuples(res) != 1 || !from_hex(PQgetvalue(res, 0, 1), prev, sizeof(prev)) ||
	    !from_hex(PQgetvalue(res, 0, 2), key, sizeof(key))) {
		PQclear(res);
		rc = kio_fail(&b->err, KIO_ERR_CORRUPT, "kiosk %s: its sync row or chain key is unreadable", b->kiosk);
		goto out_rollback;
	}
	b->acked = hdb_int(res, 0, 0);
	PQclear(res);

	/* Contiguous, and beginning at or below acked + 1: the kiosk resumes from acked + 1. */
	for (size_t k = 0; k < batch->n; k++) {
		int64_t want = k ? batch->recs[k - 1].rec + 1 : 1;
		if ((k == 0 && batch->recs[0].rec > b->acked + 1) || (k > 0 && batch->recs[k].rec != want)) {
			rc = refuse(&b->f, 409, "sequence_gap", b->acked, NULL,
				    "record %" PRId64 " does not follow the host's record %" PRId64 "; resend from %" PRId64,
				    batch->recs[k].rec, k ? batch->recs[k - 1].rec : b->acked, b->acked + 1);
			goto out_rollback;
		}
	}
	for (size_t k = 0; k < batch->n; k++) {
		const struct wire_record *r = &batch->recs[k];
		rc = r->rec <= b->acked ? check_duplicate(b, r) : apply_new(b, r, key, prev);
		if (rc)
			goto out_rollback;
	}
	if (batch->n && batch->recs[batch->n - 1].rec > b->acked) {
		char acked[24], mac[2 * LEDGER_MAC_BYTES + 1];
		b->acked = batch->recs[batch->n - 1].rec;
		snprintf(acked, sizeof(acked), "%" PRId64, b->acked);
		for (size_t k = 0; k < LEDGER_MAC_BYTES; k++)
			snprintf(mac + 2 * k, 3, "%02x", prev[k]);
		const char *pu[] = {b->kiosk, acked, mac};
		rc = hdb_query(b->c,
			       "UPDATE kiosk_sync SET acked_rec = $2::bigint, last_mac = decode($3, 'hex'), updated_at = now()"
			       " WHERE kiosk_id = $1",
			       3, pu, NULL, sqlstate, "move the kiosk's acknowledgement", &b->err);
		if (rc)
			goto out_rollback;
	}
	rc = hdb_query(b->c, "COMMIT", 0, NULL, NULL, sqlstate, "commit the batch", &b->err);
	if (!rc)
		return 0;
out_rollback:
	hdb_rollback(b->c);
	return rc;
}

void records_upload(PGconn *c, const char *kiosk_id, const char *buf, size_t len, struct host_reply *reply)
{
	struct wire_batch batch;
	struct wire_error werr;
	if (wire_records_parse(buf, len, &batch, &werr) != 0) {
		if (werr.fault == WIRE_BAD_RECORD)
			reply_error(reply, 422, "bad_record", "rec", werr.rec, "%s", werr.msg);
		else
			reply_error(reply, 400, werr.fault == WIRE_BAD_JSON ? "bad_json" : "bad_request", NULL, 0, "%s",
				    werr.msg);
		return;
	}
	struct batch_ctx b = {.c = c, .kiosk = kiosk_id};
	char sqlstate[6];
	int rc;
	/* Two kiosks' batches crediting the same cards in another order may deadlock; PostgreSQL
	 * aborts one, which is simply tried again (nothing of it was applied, H1). */
	for (int attempt = 0;; attempt++) {
		rc = apply_batch(&b, &batch, sqlstate);
		if (rc >= 0 || attempt == 4 || (strcmp(sqlstate, "40P01") != 0 && strcmp(sqlstate, "40001") != 0))
			break;
		LOG_WARN("kiosk %s: batch retried after %s", kiosk_id, b.err.msg);
	}
	if (rc == 0) {
		char *json = g_strdup_printf("{\"acked\":%" PRId64 ",\"applied\":%" PRId64 ",\"duplicates\":%" PRId64 "}",
					     b.acked, b.applied, b.duplicates);
		reply_json(reply, 200, json);
		if (b.applied)
			LOG_INFO("kiosk %s: %" PRId64 " record(s) applied, %" PRId64 " duplicate(s), acked %" PRId64,
				 kiosk_id, b.applied, b.duplicates, b.acked);
	} else if (rc > 0) {
		if (b.f.alarm)
			records_alarm(c, kiosk_id, b.f.rec, b.f.alarm, "%s", b.f.msg);
		else
			LOG_WARN("kiosk %s: batch refused: %s", kiosk_id, b.f.msg);
		reply_error(reply, b.f.status, b.f.code, strcmp(b.f.code, "sequence_gap") == 0 ? "acked" : "rec", b.f.rec,
			    "%s", b.f.msg);
	} else {
		LOG_ERR("kiosk %s: batch not applied: %s", kiosk_id, b.err.msg);
		reply_error(reply, 500, "internal_error", NULL, 0, "the host could not store the batch; send it again");
	}
	wire_batch_clear(&batch);
}
