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
		      with_end ? "SELECT (SELECT type FROM record WHERE kiosk_id = $1 AND rec = $2::bigint) = 'tx',"
				 " EXISTS (SELECT 1 FROM record WHERE kiosk_id = $1 AND type = 'tx_end' AND tx_rec = $2::bigint),"
				 " p.paid, i.n, i.card"
				 " FROM (SELECT coalesce(sum((body->>'value_fils')::bigint), 0) AS paid FROM record"
				 "   WHERE kiosk_id = $1 AND type = 'payment' AND tx_rec = $2::bigint) p,"
				 " (SELECT count(*) AS n, min(body->>'card') AS card FROM record WHERE kiosk_id = $1"
				 "   AND type = 'tx_item' AND tx_rec = $2::bigint AND body->>'kind' = 'topup') i"
			       : "SELECT (SELECT type FROM record WHERE kiosk_id = $1 AND rec = $2::bigint) = 'tx',"
				 " EXISTS (SELECT 1 FROM record WHERE kiosk_id = $1 AND type = 'tx_end' AND tx_rec = $2::bigint)",
		      2, p, &res, NULL, "read a record's transaction", &b->err))
		return -1;
	out->is_tx = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	out->ended = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	if (with_end) {
		out->paid_fils = hdb_int(res, 0, 2);
		out->topup_items = hdb_int(res, 0, 3);
		snprintf(out->card, sizeof(out->card), "%s", PQgetvalue(res, 0, 4));
	}
	PQclear(res);
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
	if (strcmp(r->type, "tx_end") != 0)
		return 0;
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
static int apply_end(struct batch_ctx *b, const struct wire_record *r, const struct held_tx *tx)
{
	if (strcmp(col_text(r, "state"), "completed") != 0)
		return 0;
	char txs[24], recs[24], amount[24];
	snprintf(txs, sizeof(txs), "%" PRId64, col_int(r, "tx_rec"));
	snprintf(recs, sizeof(recs), "%" PRId64, r->rec);
	snprintf(amount, sizeof(amount), "%" PRId64, col_int(r, "credited_fils"));
	const char *p[] = {tx->card, amount, b->kiosk, txs, recs};
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
		LOG_ERR("ALARM %s kiosk %s record %s: card ****%s credited %s fils", code, b->kiosk, recs, tx->card + 12,
			amount);
	}
	return 0;
}

/* H7: what an inserted record changes of the batch's transaction, as read_tx's query would
 * see it (a payment's value_fils summed, top-up items counted, the smallest card kept). */
static void note_inserted(struct batch_tx *tx, const struct wire_record *r)
{
	if (strcmp(r->type, "tx") == 0) {
		*tx = (struct batch_tx){.rec = r->rec, .seq = col_int(r, "seq")};
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
	if (strcmp(r->type, "tx_end") == 0 && (rc = apply_end(b, r, &tx)))
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
