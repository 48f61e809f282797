/* A fees transaction's basket in the money ledger: its lines, the vouchers paid into it, each
 * line's result, and the end that sends the rest to a card or a new e-voucher (issue 13). */
#define LOG_MODULE "ledger-basket"
#include "basket.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain-priv.h"
#include "kiosk/core/log.h"
#include "kiosk/core/vcode.h"
#include "prune.h"
#include "store-priv.h"
#include "tx-priv.h"

/*
 * A fees transaction (records, not updates: each arrow appends chained records):
 *
 *             ledger_basket_open: tx 'fees' + fee_item 1..n
 *   (none) ─────────────────────────────────────────► OPEN ◄──┐ note CREDITED (notes.c): payment
 *                                                     │ │ │   ├ ledger_basket_voucher_intent:
 *                                                     │ │ │   │   voucher_intent (before the ask)
 *                                                     │ │ │   ├ ledger_basket_voucher_paid:
 *                                                     │ │ │   │   voucher_payment (as intended)
 *                                                     │ │ │   └ ledger_basket_line_result:
 *                                                     │ │ │       fee_result (once per line)
 *      ledger_basket_close, paid > 0:                 │ │ │ ledger_basket_close, paid = 0:
 *      intents not booked → voucher_void,             │ │ │   intents not booked → void,
 *      lines without a result → unpaid,               │ │ └── lines → unpaid,
 *      rest → tx_item topup (card) or voucher_issue,  │ │     tx_end 'cancelled' ──► CANCELLED
 *      tx_end 'completed' + outbox ──► COMPLETED ◄────┘ │
 *                                                       │ ledger_tx_recover at start-up:
 *      first, every intent not booked → voucher_void (the host gives the value back), then
 *      paid >= due: lines without a result → unconfirmed (the host settles them from the
 *                   records), the rest → voucher_issue 'recovered'; tx_end completed, recovered
 *      paid <  due: lines without a result → unpaid, the rest → voucher_issue 'recovered'
 *      paid =  0:   lines → unpaid; tx_end cancelled, recovered
 *
 *   transition    records appended (one SQLite transaction)              function
 *   open          tx 'fees', fee_item 1..n                               ledger_basket_open
 *   pay cash      note_journey CREDITED + payment                        notes.c
 *   intend        voucher_intent (committed before the redeem is asked)  ledger_basket_voucher_intent
 *   pay voucher   voucher_payment                                        ledger_basket_voucher_paid
 *   line result   fee_result                                             ledger_basket_line_result
 *   close         voucher_void..., fee_result unpaid..., tx_item |       ledger_basket_close
 *                 voucher_issue, tx_end (+ outbox)
 *   recover       voucher_void..., fee_result unconfirmed|unpaid...,     ledger_basket_recover
 *                 voucher_issue, tx_end recovered (+ outbox)             (from ledger_tx_recover)
 *
 * "Paid" is cash + voucher payments; a line is "settled" when its result is paid, offline or
 * unconfirmed (its money went to the entity, now or once the host settles it); "due" is the
 * lines not refused or unpaid; the "rest" is paid - settled. tx_end.credited_fils of a fees
 * transaction is everything paid into it.
 *
 * Invariants (tx.c has 1-8; T: a trigger of migration 11 holds it against any SQL;
 * ledger_check tests all):
 *  9. A fees transaction ends with every line's result recorded, and cash + voucher payments
 *     = Σ lines settled + Σ topup credits + Σ vouchers issued, to the fils; a cancelled one had
 *     nothing paid (T: tx_end_fees_balanced, tx_end_matches_paid).
 * 10. Its lines are fixed at its open: line n is record tx_rec + n, n = 1, 2, 3... up to
 *     LEDGER_BASKET_MAX, each with a price above 0 (T: fee_item_with_open, CHECKs).
 * 11. Its only items are the card credit of its rest (kind topup, a card, an amount above 0),
 *     and it credits a card or issues a voucher, never both, once at most (T:
 *     item_fees_card_credit; the close writes one of them; ledger_check).
 * 12. A line is settled only with its money paid in: Σ settled <= paid at every commit, so the
 *     rest is never negative (T: fee_result_covered).
 * 13. A line has one result (T: UNIQUE(tx_rec, n)); a redemption is booked once (T: UNIQUE
 *     redemption_id; the same one again is a no-op here).
 * 14. Vouchers and results only into an open fees transaction (T: fee_result_to_open_line,
 *     voucher_payment_to_open_fees, voucher_issue_to_open_fees, voucher_intent_to_open_fees):
 *     invariant 3 for baskets.
 * 15. A redemption is intended before it is asked: its voucher_intent (code, redemption_id,
 *     value) is committed before the host hears of it (kiosk/flows/vpay.h invariant 2), a
 *     voucher_payment books exactly an intent, and once the transaction ended every intent is
 *     booked or void (voucher_void, written by the close or the recovery in the end's commit),
 *     never both and never neither (T: voucher_payment_intended, voucher_void_unbooked,
 *     tx_end_intents_decided). So after a crash or a cut link at any point the value is
 *     either in the basket (booked, and its rest in the end) or named void in the records the
 *     host applies, which gives the voucher its value back and refuses that redemption id.
 *
 * Kill points (ledger_checkpoint; -written: inside the write, a crash leaves the state before):
 *   basket-open-written   tx and lines written, not committed: no transaction after a crash.
 *   basket-opened         committed: open; recovery ends it (nothing paid: cancelled).
 *   voucher-intent-written  an intent written, not committed: nothing was asked at the host.
 *   voucher-intent        committed, not yet asked (or asked, or redeemed at the host): the
 *                         close or recovery voids it unless it is booked (invariant 15).
 *   voucher-paid-written  a redemption written, not committed: not booked; the host may hold
 *                         the redemption: recovery voids the intent, and the host undoes it.
 *   voucher-paid          committed.
 *   line-result-written   a line's result written, not committed: the line has none;
 *                         recovery decides it (unconfirmed or unpaid).
 *   line-result           committed.
 *   basket-end-written    results, credit or voucher and end written, not committed: still
 *                         open; recovery ends it from the same payments.
 *   basket-ended          committed.
 *   recover-written, recovered   as in tx.c, for a fees transaction.
 */

/* A recovered rest's voucher: the customer was not there to choose, so it lasts as long as the
 * longest a kiosk is configured to give (issue 13: "e.g. 30 days") would at least. */
#define RECOVERED_VOUCHER_DAYS 30
#define VOUCHER_DAYS_MAX 3650

static const char *const status_names[] = {
	[LEDGER_LINE_PAID] = "paid",       [LEDGER_LINE_REFUSED] = "refused",
	[LEDGER_LINE_OFFLINE] = "offline", [LEDGER_LINE_UNPAID] = "unpaid",
	[LEDGER_LINE_UNCONFIRMED] = "unconfirmed",
};

#define SETTLED "('paid', 'offline', 'unconfirmed')"

const char *ledger_line_status_name(int status)
{
	if (status < 0 || status >= (int)(sizeof(status_names) / sizeof(status_names[0])))
		return NULL;
	return status_names[status];
}

/* ---- input checks: bad input from any side gets a clear error and writes nothing ---- */

static bool text_ok(const char *s, size_t size, size_t min, const char *allowed_extra, bool lower_only)
{
	size_t len = strnlen(s, size);
	if (len == size || len < min)
		return false;
	for (size_t k = 0; k < len; k++) {
		char c = s[k];
		bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (!lower_only && c >= 'A' && c <= 'Z') ||
			  (allowed_extra && strchr(allowed_extra, c));
		if (!ok)
			return false;
	}
	return true;
}

static int line_ok(const struct ledger_fee_line *line, size_t k, struct kio_error *err)
{
	const char *what = NULL;
	if (!text_ok(line->entity, sizeof(line->entity), 1, "-", true))
		what = "entity must be 1..32 of a-z, 0-9 and -";
	else if (!text_ok(line->service, sizeof(line->service), 1, "-", true))
		what = "service must be 1..32 of a-z, 0-9 and -";
	else if (!text_ok(line->reference, sizeof(line->reference), 0, "-", false))
		what = "reference must be up to 24 letters, digits and -";
	else if (!text_ok(line->bill, sizeof(line->bill), 0, "-._:/", false))
		what = "bill must be up to 32 letters, digits and . _ : / -";
	else if (line->amount_fils <= 0 || line->amount_fils > INT64_MAX / (LEDGER_BASKET_MAX * 4))
		what = "amount_fils must be above 0 (and a sane amount)";
	if (!what)
		return 0;
	return kio_fail(err, KIO_ERR_INVALID, "ledger basket: line %zu: %s", k + 1, what);
}

static bool uuid_ok(const char *s)
{
	if (!s || strlen(s) != 36)
		return false;
	for (int k = 0; k < 36; k++) {
		bool dash = k == 8 || k == 13 || k == 18 || k == 23;
		if (dash ? s[k] != '-' : !((s[k] >= '0' && s[k] <= '9') || (s[k] >= 'a' && s[k] <= 'f')))
			return false;
	}
	return true;
}

static bool code_ok(const char *code)
{
	char canon[VCODE_DIGITS + 1];
	return code && vcode_parse(code, canon) == VCODE_OK && strcmp(canon, code) == 0;
}

static bool host_ref_ok(const char *s)
{
	size_t len = strnlen(s, 65);
	if (len > 64)
		return false;
	for (size_t k = 0; k < len; k++)
		if ((unsigned char)s[k] < 0x21 || (unsigned char)s[k] > 0x7e)
			return false;
	return true;
}

/* ---- reads ---- */

static int prepare(struct ledger *l, const char *sql, sqlite3_stmt **st, struct kio_error *err)
{
	if (sqlite3_prepare_v2(ledger_db(l), sql, -1, st, NULL) == SQLITE_OK)
		return 0;
	return ledger_sql_fail(l, err, "prepare");
}

/* A statement on one transaction: sql prepared with ?1 bound to the transaction's id. */
static int prepare_on_tx(struct ledger *l, const char *sql, int64_t id, sqlite3_stmt **st, struct kio_error *err)
{
	int rc = prepare(l, sql, st, err);
	if (!rc)
		sqlite3_bind_int64(*st, 1, id);
	return rc;
}

/* The first column of sql's one row, with ?1 = a and ?2 = b where the statement has them. */
static int query_int(struct ledger *l, const char *sql, int64_t a, int64_t b, int64_t *out, const char *what,
		     struct kio_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(l, sql, &st, err);
	if (rc)
		return rc;
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_int64(st, 1, a);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, b);
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		rc = ledger_sql_fail(l, err, what);
	sqlite3_finalize(st);
	return rc;
}

/* Transaction id, which must be a fees one. */
static int fees_tx(struct ledger *l, int64_t id, struct ledger_tx *tx, struct kio_error *err)
{
	int rc = ledger_tx_get(l, id, tx, err);
	if (rc)
		return rc;
	if (tx->kind != LEDGER_TX_FEES)
		return kio_fail(err, KIO_ERR_INVALID, "ledger basket: transaction %" PRId64 " is a %s, not fees", tx->seq,
				ledger_tx_kind_name(tx->kind));
	return 0;
}

/* One row of a list reader (read_rows): the statement's row into row, zeroed; ordinal is its
 * 1-based place. 0, or the error that stops the read. */
typedef int (*row_fill_fn)(sqlite3_stmt *st, void *row, int64_t seq, size_t ordinal, struct kio_error *err);

/*
 * The list readers' loop: sql on ?1 = tx_id, which must be a fees transaction, read row by
 * row into out (max rows of size bytes) by fill. More rows than max is an error naming them
 * (`many`); what names the read when SQLite fails. On any error *n is 0.
 */
static int read_rows(struct ledger *l, int64_t tx_id, const char *sql, void *out, size_t size, size_t max, size_t *n,
		     row_fill_fn fill, const char *many, const char *what, struct kio_error *err)
{
	*n = 0;
	struct ledger_tx tx;
	int rc = fees_tx(l, tx_id, &tx, err);
	if (rc)
		return rc;
	sqlite3_stmt *st = NULL;
	rc = prepare_on_tx(l, sql, tx_id, &st, err);
	if (rc)
		return rc;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == max) {
			rc = kio_fail(err, KIO_ERR_INVALID, "ledger basket: transaction %" PRId64 " has more than %zu %s",
				      tx.seq, max, many);
			break;
		}
		void *row = (char *)out + (*n)++ * size;
		memset(row, 0, size);
		rc = fill(st, row, tx.seq, *n, err);
		if (rc)
			break;
	}
	if (!rc && step != SQLITE_DONE)
		rc = ledger_sql_fail(l, err, what);
	sqlite3_finalize(st);
	if (rc)
		*n = 0;
	return rc;
}

static int open_fees_tx(struct ledger *l, int64_t id, struct ledger_tx *tx, struct kio_error *err)
{
	int rc = fees_tx(l, id, tx, err);
	if (!rc && tx->state != LEDGER_TX_OPEN)
		rc = kio_fail(err, KIO_ERR_INVALID, "ledger basket: transaction %" PRId64 " is %s, not open", tx->seq,
			      ledger_tx_state_name(tx->state));
	return rc;
}

struct money {
	int64_t paid;    /* cash + vouchers paid in */
	int64_t settled; /* lines paid, offline or unconfirmed */
	int64_t due;     /* lines not refused or unpaid */
	int64_t lines;   /* how many lines */
	bool refused;    /* a line was refused */
};

static int money_of(struct ledger *l, int64_t id, struct money *m, struct kio_error *err)
{
	memset(m, 0, sizeof(*m));
	int64_t cash = 0, vouchers = 0, refused = 0;
	int rc = query_int(l, "SELECT coalesce(sum(value_fils), 0) FROM payment WHERE tx_rec = ?1", id, 0, &cash,
			   "read cash paid", err);
	if (!rc)
		rc = query_int(l, "SELECT coalesce(sum(value_fils), 0) FROM voucher_payment WHERE tx_rec = ?1", id, 0,
			       &vouchers, "read vouchers paid", err);
	if (!rc)
		rc = query_int(l,
			       "SELECT coalesce(sum(i.amount_fils), 0) FROM fee_item i JOIN fee_result r ON r.tx_rec = i.tx_rec"
			       " AND r.n = i.n WHERE i.tx_rec = ?1 AND r.status IN " SETTLED,
			       id, 0, &m->settled, "read the lines settled", err);
	if (!rc)
		rc = query_int(l,
			       "SELECT coalesce(sum(i.amount_fils), 0) FROM fee_item i WHERE i.tx_rec = ?1 AND NOT EXISTS"
			       " (SELECT 1 FROM fee_result r WHERE r.tx_rec = i.tx_rec AND r.n = i.n"
			       "  AND r.status IN ('refused', 'unpaid'))",
			       id, 0, &m->due, "read what is due", err);
	if (!rc)
		rc = query_int(l, "SELECT count(*) FROM fee_item WHERE tx_rec = ?1", id, 0, &m->lines, "count the lines",
			       err);
	if (!rc)
		rc = query_int(l, "SELECT count(*) FROM fee_result WHERE tx_rec = ?1 AND status = 'refused'", id, 0,
			       &refused, "count refused lines", err);
	m->paid = cash + vouchers;
	m->refused = refused > 0;
	return rc;
}

/* ---- writes (each in the caller's write) ---- */

/* The opening every write on an open basket shares: refuse while the ledger is failing, begin
 * the write, find the open fees transaction and (when `m` is given) its money. On an error the
 * write is already rolled back, so the caller only returns. */
static int begin_on_open_tx(struct ledger *l, const char *what, int64_t id, struct ledger_tx *tx, struct money *m,
			    struct kio_error *err)
{
	int rc = ledger_refuse_while_failing(l, what, err);
	if (rc)
		return rc;
	rc = ledger_write_begin(l, "ledger basket: begin", err);
	if (rc)
		return rc;
	rc = open_fees_tx(l, id, tx, err);
	if (!rc && m)
		rc = money_of(l, id, m, err);
	if (rc)
		ledger_write_rollback(l);
	return rc;
}

static int append_result(struct ledger *l, int64_t id, int64_t n, enum ledger_line_status st, const char *host_ref,
			 int64_t now_s, struct kio_error *err)
{
	int64_t rec = 0;
	struct chain_val r[] = {{CHAIN_INT, id, NULL}, {CHAIN_INT, n, NULL}, {CHAIN_TEXT, 0, status_names[st]},
				host_ref && host_ref[0] ? (struct chain_val){CHAIN_TEXT, 0, host_ref}
							: (struct chain_val){CHAIN_NULL, 0, NULL},
				{CHAIN_INT, now_s, NULL}};
	return chain_append(l, CHAIN_FEE_RESULT, r, &rec, err) ? ledger_sql_fail(l, err, "record a line's result") : 0;
}

/* Every line without a result gets st (unpaid at a close, unconfirmed or unpaid at recovery). */
static int decide_open_lines(struct ledger *l, int64_t id, enum ledger_line_status st, int64_t now_s,
			     struct kio_error *err)
{
	sqlite3_stmt *q = NULL;
	int rc = prepare_on_tx(l,
			       "SELECT n FROM fee_item i WHERE tx_rec = ?1 AND NOT EXISTS"
			       " (SELECT 1 FROM fee_result r WHERE r.tx_rec = i.tx_rec AND r.n = i.n) ORDER BY n",
			       id, &q, err);
	if (rc)
		return rc;
	int64_t open[LEDGER_BASKET_MAX];
	size_t count = 0;
	int step;
	while ((step = sqlite3_step(q)) == SQLITE_ROW && count < LEDGER_BASKET_MAX)
		open[count++] = sqlite3_column_int64(q, 0);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = ledger_sql_fail(l, err, "list the lines without a result");
	sqlite3_finalize(q);
	for (size_t k = 0; k < count && !rc; k++)
		rc = append_result(l, id, open[k], st, NULL, now_s, err);
	return rc;
}

/* A new voucher for value: a code no voucher of this ledger has yet (10^14 codes: a repeat is
 * next to impossible, but a UNIQUE refusal would lose the customer's end, so it is looked for). */
static int issue_voucher(struct ledger *l, int64_t id, int64_t value, int64_t expires_s, const char *why,
			 int64_t now_s, char code[VCODE_DIGITS + 1], struct kio_error *err)
{
	int rc = 0;
	for (int tries = 0;; tries++) {
		if (vcode_generate(code) != 0)
			return kio_fail(err, KIO_ERR_IO, "ledger basket: no random bytes for a voucher code");
		sqlite3_stmt *st = NULL;
		rc = prepare(l, "SELECT count(*) FROM voucher_issue WHERE code = ?1", &st, err);
		if (rc)
			return rc;
		sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
		int64_t used = 1;
		if (sqlite3_step(st) == SQLITE_ROW)
			used = sqlite3_column_int64(st, 0);
		else
			rc = ledger_sql_fail(l, err, "look for a voucher code");
		sqlite3_finalize(st);
		if (rc)
			return rc;
		if (!used)
			break;
		if (tries == 8)
			return kio_fail(err, KIO_ERR_IO, "ledger basket: the random source repeats voucher codes");
	}
	int64_t rec = 0;
	struct chain_val v[] = {{CHAIN_INT, id, NULL},        {CHAIN_TEXT, 0, code}, {CHAIN_INT, value, NULL},
				{CHAIN_INT, expires_s, NULL}, {CHAIN_TEXT, 0, why},  {CHAIN_INT, now_s, NULL}};
	return chain_append(l, CHAIN_VOUCHER_ISSUE, v, &rec, err) ? ledger_sql_fail(l, err, "issue a voucher") : 0;
}

static int credit_card(struct ledger *l, int64_t id, const char *card, int64_t value, struct kio_error *err)
{
	int64_t rec = 0;
	struct chain_val it[] = {{CHAIN_INT, id, NULL}, {CHAIN_TEXT, 0, "topup"}, {CHAIN_TEXT, 0, card},
				 {CHAIN_INT, value, NULL}};
	return chain_append(l, CHAIN_TX_ITEM, it, &rec, err) ? ledger_sql_fail(l, err, "credit the rest to a card") : 0;
}

/* Invariant 15: every intent of the transaction that was not booked is named void, in the
 * caller's write (the end's). */
static int void_unbooked(struct ledger *l, int64_t id, int64_t now_s, struct kio_error *err)
{
	sqlite3_stmt *q = NULL;
	int rc = prepare_on_tx(l,
			       "SELECT code, redemption_id FROM voucher_intent i WHERE tx_rec = ?1"
			       " AND NOT EXISTS (SELECT 1 FROM voucher_payment p WHERE p.redemption_id = i.redemption_id)"
			       " AND NOT EXISTS (SELECT 1 FROM voucher_void v WHERE v.redemption_id = i.redemption_id)"
			       " ORDER BY rec",
			       id, &q, err);
	if (rc)
		return rc;
	struct {
		char code[VCODE_DIGITS + 1], rid[37];
	} open[LEDGER_BASKET_INTENTS_MAX];
	size_t count = 0;
	int step;
	while ((step = sqlite3_step(q)) == SQLITE_ROW && count < LEDGER_BASKET_INTENTS_MAX) {
		snprintf(open[count].code, sizeof(open[count].code), "%s", (const char *)sqlite3_column_text(q, 0));
		snprintf(open[count].rid, sizeof(open[count].rid), "%s", (const char *)sqlite3_column_text(q, 1));
		count++;
	}
	/* More than the most ledger_basket_voucher_intent writes: a store changed under it. The
	 * end's trigger refuses what is left undecided, so it is an error, not a silent cut. */
	if (step == SQLITE_ROW)
		rc = kio_fail(err, KIO_ERR_CORRUPT, "ledger basket: more than %d redemption intents in one transaction",
			      LEDGER_BASKET_INTENTS_MAX);
	else if (step != SQLITE_DONE)
		rc = ledger_sql_fail(l, err, "list the redemptions not booked");
	sqlite3_finalize(q);
	for (size_t k = 0; k < count && !rc; k++) {
		int64_t rec = 0;
		struct chain_val v[] = {{CHAIN_INT, id, NULL}, {CHAIN_TEXT, 0, open[k].code},
					{CHAIN_TEXT, 0, open[k].rid}, {CHAIN_INT, now_s, NULL}};
		if (chain_append(l, CHAIN_VOUCHER_VOID, v, &rec, err))
			rc = ledger_sql_fail(l, err, "void a redemption not booked");
		else
			LOG_INFO("transaction record %" PRId64 ": redemption %s of voucher ...%s void (never booked)", id,
				 open[k].rid, open[k].code + VCODE_DIGITS - 4);
	}
	return rc;
}

/* ---- the API ---- */

int ledger_basket_open(struct ledger *l, int64_t now_s, const char *lang, const struct ledger_fee_line *lines,
		       size_t n, struct ledger_tx *out, struct kio_error *err)
{
	if (!lang || (strcmp(lang, "ar") != 0 && strcmp(lang, "en") != 0))
		return kio_fail(err, KIO_ERR_INVALID, "ledger basket: language must be ar or en");
	if (!lines || n < 1 || n > LEDGER_BASKET_MAX)
		return kio_fail(err, KIO_ERR_INVALID, "ledger basket: a basket has 1..%d lines, not %zu", LEDGER_BASKET_MAX,
				n);
	int64_t total = 0;
	for (size_t k = 0; k < n; k++) {
		int rc = line_ok(&lines[k], k, err);
		if (rc)
			return rc;
		total += lines[k].amount_fils; /* bounded by line_ok */
	}
	int rc = ledger_refuse_while_failing(l, "ledger basket: open", err);
	if (rc)
		return rc;
	rc = ledger_write_begin(l, "ledger basket: begin", err);
	if (rc)
		return rc;
	char uuid[37];
	int64_t rec = 0, seq = 0;
	rc = ledger_tx_append_open(l, now_s, LEDGER_TX_FEES, lang, &rec, &seq, uuid, err);
	for (size_t k = 0; k < n && !rc; k++) { /* invariant 10 */
		const struct ledger_fee_line *line = &lines[k];
		int64_t item = 0;
		struct chain_val v[] = {
			{CHAIN_INT, rec, NULL},
			{CHAIN_INT, (int64_t)k + 1, NULL},
			{CHAIN_TEXT, 0, line->entity},
			{CHAIN_TEXT, 0, line->service},
			line->reference[0] ? (struct chain_val){CHAIN_TEXT, 0, line->reference}
					   : (struct chain_val){CHAIN_NULL, 0, NULL},
			line->bill[0] ? (struct chain_val){CHAIN_TEXT, 0, line->bill} : (struct chain_val){CHAIN_NULL, 0, NULL},
			{CHAIN_INT, line->amount_fils, NULL},
		};
		if (chain_append(l, CHAIN_FEE_ITEM, v, &item, err))
			rc = ledger_sql_fail(l, err, "record a basket line");
	}
	if (rc)
		goto out_rollback;
	ledger_checkpoint(l, "basket-open-written");
	rc = ledger_write_commit(l, "ledger basket: commit", err);
	if (rc)
		return rc;
	ledger_checkpoint(l, "basket-opened");
	LOG_INFO("transaction %" PRId64 " (%s) opened: fees, %zu lines, %" PRId64 " fils", seq, uuid, n, total);
	return out ? ledger_tx_get(l, rec, out, err) : 0;

out_rollback:
	ledger_write_rollback(l);
	return rc;
}

static int fill_line(sqlite3_stmt *st, void *row, int64_t seq, size_t ordinal, struct kio_error *err)
{
	(void)seq;
	(void)ordinal;
	(void)err;
	struct ledger_fee_line *line = row;
	snprintf(line->entity, sizeof(line->entity), "%s", (const char *)sqlite3_column_text(st, 0));
	snprintf(line->service, sizeof(line->service), "%s", (const char *)sqlite3_column_text(st, 1));
	snprintf(line->reference, sizeof(line->reference), "%s", (const char *)sqlite3_column_text(st, 2));
	snprintf(line->bill, sizeof(line->bill), "%s", (const char *)sqlite3_column_text(st, 3));
	line->amount_fils = sqlite3_column_int64(st, 4);
	return 0;
}

int ledger_basket_lines(struct ledger *l, int64_t tx_id, struct ledger_fee_line *out, size_t max, size_t *n,
			struct kio_error *err)
{
	return read_rows(l, tx_id,
			 "SELECT entity, service, coalesce(reference, ''), coalesce(bill, ''), amount_fils"
			 " FROM fee_item WHERE tx_rec = ?1 ORDER BY n",
			 out, sizeof(*out), max, n, fill_line, "lines", "read the basket lines", err);
}

int ledger_basket_due(struct ledger *l, int64_t tx_id, int64_t *due_fils, int64_t *paid_fils, struct kio_error *err)
{
	struct ledger_tx tx;
	int rc = fees_tx(l, tx_id, &tx, err);
	struct money m;
	if (!rc)
		rc = money_of(l, tx_id, &m, err);
	if (rc)
		return rc;
	if (due_fils)
		*due_fils = m.due;
	if (paid_fils)
		*paid_fils = m.paid;
	return 0;
}

int ledger_basket_voucher_paid(struct ledger *l, int64_t tx_id, const char *code, const char *redemption_id,
			       int64_t value_fils, int64_t now_s, struct kio_error *err)
{
	if (!code_ok(code))
		return kio_fail(err, KIO_ERR_INVALID, "ledger basket: a voucher code is 16 digits with its check digit");
	if (!uuid_ok(redemption_id))
		return kio_fail(err, KIO_ERR_INVALID, "ledger basket: a redemption id is a lowercase uuid");
	if (value_fils <= 0 || value_fils > INT64_MAX / 4)
		return kio_fail(err, KIO_ERR_INVALID, "ledger basket: a voucher pays more than 0 fils");
	struct ledger_tx tx;
	int rc = begin_on_open_tx(l, "ledger basket: voucher paid", tx_id, &tx, NULL, err);
	if (rc)
		return rc;
	/* Invariant 13: a redemption already booked is the app's retry, not new money. */
	sqlite3_stmt *st = NULL;
	rc = prepare(l, "SELECT tx_rec = ?2 AND code = ?3 AND value_fils = ?4 FROM voucher_payment WHERE redemption_id = ?1",
		     &st, err);
	if (rc)
		goto out_rollback;
	sqlite3_bind_text(st, 1, redemption_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, tx_id);
	sqlite3_bind_text(st, 3, code, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, value_fils);
	int step = sqlite3_step(st);
	bool same = step == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
	sqlite3_finalize(st);
	if (step == SQLITE_ROW) {
		ledger_write_rollback(l);
		if (same)
			return 0;
		return kio_fail(err, KIO_ERR_INVALID,
				"ledger basket: redemption %s is already booked with another code, value or transaction",
				redemption_id);
	}
	if (step != SQLITE_DONE) {
		rc = ledger_sql_fail(l, err, "look for the redemption");
		goto out_rollback;
	}
	/* Invariant 15: only what was intended, as intended, and not yet void. */
	rc = prepare(l,
		     "SELECT count(*) FROM voucher_intent i WHERE i.redemption_id = ?1 AND i.tx_rec = ?2 AND i.code = ?3"
		     " AND i.value_fils = ?4 AND NOT EXISTS (SELECT 1 FROM voucher_void v WHERE v.redemption_id = ?1)",
		     &st, err);
	if (rc)
		goto out_rollback;
	sqlite3_bind_text(st, 1, redemption_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, tx_id);
	sqlite3_bind_text(st, 3, code, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, value_fils);
	step = sqlite3_step(st);
	bool intended = step == SQLITE_ROW && sqlite3_column_int64(st, 0) == 1;
	sqlite3_finalize(st);
	if (step != SQLITE_ROW) {
		rc = ledger_sql_fail(l, err, "look for the redemption's intent");
		goto out_rollback;
	}
	if (!intended) {
		rc = kio_fail(err, KIO_ERR_INVALID,
			      "ledger basket: redemption %s was not intended with this code and value into transaction %" PRId64,
			      redemption_id, tx.seq);
		goto out_rollback;
	}
	int64_t rec = 0;
	struct chain_val v[] = {{CHAIN_INT, tx_id, NULL}, {CHAIN_TEXT, 0, code}, {CHAIN_TEXT, 0, redemption_id},
				{CHAIN_INT, value_fils, NULL}, {CHAIN_INT, now_s, NULL}};
	if (chain_append(l, CHAIN_VOUCHER_PAYMENT, v, &rec, err)) {
		rc = ledger_sql_fail(l, err, "book a voucher payment");
		goto out_rollback;
	}
	ledger_checkpoint(l, "voucher-paid-written");
	rc = ledger_write_commit(l, "ledger basket: commit", err);
	if (rc)
		return rc;
	ledger_checkpoint(l, "voucher-paid");
	LOG_INFO("transaction %" PRId64 ": voucher ...%s paid %" PRId64 " fils (redemption %s)", tx.seq,
		 code + VCODE_DIGITS - 4, value_fils, redemption_id);
	return 0;

out_rollback:
	ledger_write_rollback(l);
	return rc;
}

int ledger_basket_voucher_intent(struct ledger *l, int64_t tx_id, const char *code, int64_t value_fils,
				 int64_t now_s, char redemption_id[37], struct kio_error *err)
{
	redemption_id[0] = '\0';
	if (!code_ok(code))
		return kio_fail(err, KIO_ERR_INVALID, "ledger basket: a voucher code is 16 digits with its check digit");
	if (value_fils <= 0 || value_fils > INT64_MAX / 4)
		return kio_fail(err, KIO_ERR_INVALID, "ledger basket: a voucher pays more than 0 fils");
	struct ledger_tx tx;
	int rc = begin_on_open_tx(l, "ledger basket: voucher intent", tx_id, &tx, NULL, err);
	if (rc)
		return rc;
	/* vpay.h invariant 4: the same voucher again in this basket, its redemption neither booked
	 * nor void, is the same redemption asked again (the host answers it once), never a second. */
	sqlite3_stmt *st = NULL;
	rc = prepare_on_tx(l,
			   "SELECT redemption_id FROM voucher_intent i WHERE tx_rec = ?1 AND code = ?2 AND value_fils = ?3"
			   " AND NOT EXISTS (SELECT 1 FROM voucher_payment p WHERE p.redemption_id = i.redemption_id)"
			   " AND NOT EXISTS (SELECT 1 FROM voucher_void v WHERE v.redemption_id = i.redemption_id)"
			   " ORDER BY rec DESC LIMIT 1",
			   tx_id, &st, err);
	if (rc)
		goto out_rollback;
	sqlite3_bind_text(st, 2, code, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, value_fils);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		snprintf(redemption_id, 37, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (step == SQLITE_ROW) {
		ledger_write_rollback(l);
		LOG_INFO("transaction %" PRId64 ": voucher ...%s asked again under redemption %s", tx.seq,
			 code + VCODE_DIGITS - 4, redemption_id);
		return 0;
	}
	if (step != SQLITE_DONE) {
		rc = ledger_sql_fail(l, err, "look for an earlier intent");
		goto out_rollback;
	}
	int64_t count = 0;
	rc = query_int(l, "SELECT count(*) FROM voucher_intent WHERE tx_rec = ?1", tx_id, 0, &count, "count the intents",
		       err);
	if (rc)
		goto out_rollback;
	if (count >= LEDGER_BASKET_INTENTS_MAX) {
		rc = kio_fail(err, KIO_ERR_INVALID, "ledger basket: transaction %" PRId64 " already tried %d vouchers",
			      tx.seq, LEDGER_BASKET_INTENTS_MAX);
		goto out_rollback;
	}
	char rid[37];
	rc = ledger_new_uuid(rid, err);
	if (rc)
		goto out_rollback;
	int64_t rec = 0;
	struct chain_val v[] = {{CHAIN_INT, tx_id, NULL}, {CHAIN_TEXT, 0, code}, {CHAIN_TEXT, 0, rid},
				{CHAIN_INT, value_fils, NULL}, {CHAIN_INT, now_s, NULL}};
	if (chain_append(l, CHAIN_VOUCHER_INTENT, v, &rec, err)) {
		rc = ledger_sql_fail(l, err, "record a redemption intent");
		goto out_rollback;
	}
	ledger_checkpoint(l, "voucher-intent-written");
	rc = ledger_write_commit(l, "ledger basket: commit", err);
	if (rc)
		return rc;
	ledger_checkpoint(l, "voucher-intent");
	memcpy(redemption_id, rid, sizeof(rid));
	LOG_INFO("transaction %" PRId64 ": voucher ...%s, %" PRId64 " fils, to be redeemed as %s", tx.seq,
		 code + VCODE_DIGITS - 4, value_fils, rid);
	return 0;

out_rollback:
	ledger_write_rollback(l);
	return rc;
}

static int fill_intent(sqlite3_stmt *st, void *row, int64_t seq, size_t ordinal, struct kio_error *err)
{
	(void)seq;
	(void)ordinal;
	struct ledger_voucher_intent *v = row;
	snprintf(v->code, sizeof(v->code), "%s", (const char *)sqlite3_column_text(st, 0));
	snprintf(v->redemption_id, sizeof(v->redemption_id), "%s", (const char *)sqlite3_column_text(st, 1));
	v->value_fils = sqlite3_column_int64(st, 2);
	bool booked = sqlite3_column_int(st, 3), voided = sqlite3_column_int(st, 4);
	/* Both is invariant 15 broken: the triggers refuse it, so it is a corrupt store. */
	if (booked && voided)
		return kio_fail(err, KIO_ERR_CORRUPT, "ledger basket: redemption %s is both booked and void",
				v->redemption_id);
	v->state = booked ? LEDGER_INTENT_BOOKED : voided ? LEDGER_INTENT_VOID : LEDGER_INTENT_PENDING;
	return 0;
}

int ledger_basket_intents(struct ledger *l, int64_t tx_id, struct ledger_voucher_intent *out, size_t max, size_t *n,
			  struct kio_error *err)
{
	return read_rows(l, tx_id,
			 "SELECT code, redemption_id, value_fils,"
			 " EXISTS (SELECT 1 FROM voucher_payment p WHERE p.redemption_id = i.redemption_id),"
			 " EXISTS (SELECT 1 FROM voucher_void v WHERE v.redemption_id = i.redemption_id)"
			 " FROM voucher_intent i WHERE tx_rec = ?1 ORDER BY rec",
			 out, sizeof(*out), max, n, fill_intent, "redemption intents", "read the redemption intents", err);
}

int ledger_basket_line_result(struct ledger *l, int64_t tx_id, int n, enum ledger_line_status st, const char *host_ref,
			      int64_t now_s, struct kio_error *err)
{
	if (!ledger_line_status_name((int)st))
		return kio_fail(err, KIO_ERR_INVALID, "ledger basket: unknown line status %d", (int)st);
	if (host_ref && !host_ref_ok(host_ref))
		return kio_fail(err, KIO_ERR_INVALID, "ledger basket: a host reference is up to 64 printable characters");
	if (n < 1 || n > LEDGER_BASKET_MAX)
		return kio_fail(err, KIO_ERR_INVALID, "ledger basket: no line %d", n);
	struct ledger_tx tx;
	struct money m;
	int rc = begin_on_open_tx(l, "ledger basket: line result", tx_id, &tx, &m, err);
	if (rc)
		return rc;
	if (n > m.lines) {
		rc = kio_fail(err, KIO_ERR_INVALID, "ledger basket: transaction %" PRId64 " has no line %d", tx.seq, n);
		goto out_rollback;
	}
	sqlite3_stmt *q = NULL;
	rc = prepare_on_tx(l,
			   "SELECT r.status, coalesce(r.host_ref, ''), i.amount_fils FROM fee_item i"
			   " LEFT JOIN fee_result r ON r.tx_rec = i.tx_rec AND r.n = i.n"
			   " WHERE i.tx_rec = ?1 AND i.n = ?2",
			   tx_id, &q, err);
	if (rc)
		goto out_rollback;
	sqlite3_bind_int64(q, 2, n);
	char had[16] = "", had_ref[65] = "";
	int64_t amount = 0;
	if (sqlite3_step(q) == SQLITE_ROW) {
		const unsigned char *s = sqlite3_column_text(q, 0);
		snprintf(had, sizeof(had), "%s", s ? (const char *)s : "");
		snprintf(had_ref, sizeof(had_ref), "%s", (const char *)sqlite3_column_text(q, 1));
		amount = sqlite3_column_int64(q, 2);
	} else {
		rc = ledger_sql_fail(l, err, "read a line");
	}
	sqlite3_finalize(q);
	if (rc)
		goto out_rollback;
	if (had[0]) { /* invariant 13 */
		ledger_write_rollback(l);
		if (strcmp(had, status_names[st]) == 0 && strcmp(had_ref, host_ref ? host_ref : "") == 0)
			return 0;
		return kio_fail(err, KIO_ERR_INVALID, "ledger basket: line %d of transaction %" PRId64 " is already %s",
				n, tx.seq, had);
	}
	bool settles = st == LEDGER_LINE_PAID || st == LEDGER_LINE_OFFLINE || st == LEDGER_LINE_UNCONFIRMED;
	if (settles && m.settled + amount > m.paid) { /* invariant 12 */
		rc = kio_fail(err, KIO_ERR_INVALID,
			      "ledger basket: line %d (%" PRId64 " fils) cannot be %s: %" PRId64 " fils paid, %" PRId64
			      " already settled",
			      n, amount, status_names[st], m.paid, m.settled);
		goto out_rollback;
	}
	rc = append_result(l, tx_id, n, st, host_ref, now_s, err);
	if (rc)
		goto out_rollback;
	ledger_checkpoint(l, "line-result-written");
	rc = ledger_write_commit(l, "ledger basket: commit", err);
	if (rc)
		return rc;
	ledger_checkpoint(l, "line-result");
	LOG_INFO("transaction %" PRId64 ": line %d %s%s%s", tx.seq, n, status_names[st], host_ref && host_ref[0] ? " " : "",
		 host_ref ? host_ref : "");
	return 0;

out_rollback:
	ledger_write_rollback(l);
	return rc;
}

/* The end, in the caller's write: the lines still open get `open_lines`, the rest goes where
 * `to` says, then tx_end (invariant 9 is the trigger's to check once more). */
static int append_close(struct ledger *l, const struct ledger_tx *tx, const struct money *m,
			enum ledger_line_status open_lines, enum ledger_rest_to to, const char *card, int64_t expires_s,
			const char *why, bool recovered, int64_t now_s, struct kio_error *err)
{
	int rc = void_unbooked(l, tx->id, now_s, err);
	if (!rc)
		rc = decide_open_lines(l, tx->id, open_lines, now_s, err);
	int64_t rest = m->paid - m->settled;
	if (!rc && rest > 0 && to == LEDGER_REST_CARD)
		rc = credit_card(l, tx->id, card, rest, err);
	char code[VCODE_DIGITS + 1];
	if (!rc && rest > 0 && to == LEDGER_REST_VOUCHER)
		rc = issue_voucher(l, tx->id, rest, expires_s, why, now_s, code, err);
	if (!rc)
		rc = ledger_tx_append_end(l, tx, m->paid > 0, recovered, m->paid, now_s, err);
	return rc;
}

int ledger_basket_close(struct ledger *l, int64_t tx_id, int64_t now_s, enum ledger_rest_to to, const char *card,
			int voucher_days, struct ledger_basket_end *out, struct kio_error *err)
{
	if (out)
		memset(out, 0, sizeof(*out));
	struct ledger_tx tx;
	struct money m;
	int rc = begin_on_open_tx(l, "ledger basket: close", tx_id, &tx, &m, err);
	if (rc)
		return rc;
	int64_t rest = m.paid - m.settled;
	if (rest < 0) { /* invariant 12 broken under the triggers' feet */
		rc = kio_fail(err, KIO_ERR_CORRUPT,
			      "ledger basket: transaction %" PRId64 " settled %" PRId64 " fils with %" PRId64 " paid", tx.seq,
			      m.settled, m.paid);
		goto out_rollback;
	}
	if (rest > 0) { /* invariant 9: the rest goes somewhere the customer named */
		if (to == LEDGER_REST_CARD && !ledger_card_ok(card))
			rc = kio_fail(err, KIO_ERR_INVALID, "ledger basket: the rest goes to a card of %d digits",
				      LEDGER_CARD_DIGITS);
		else if (to == LEDGER_REST_VOUCHER && (voucher_days < 1 || voucher_days > VOUCHER_DAYS_MAX))
			rc = kio_fail(err, KIO_ERR_INVALID, "ledger basket: a voucher lasts 1..%d days, not %d",
				      VOUCHER_DAYS_MAX, voucher_days);
		else if (to != LEDGER_REST_CARD && to != LEDGER_REST_VOUCHER)
			rc = kio_fail(err, KIO_ERR_INVALID,
				      "ledger basket: transaction %" PRId64 " has %" PRId64
				      " fils left: they go to a card or a voucher",
				      tx.seq, rest);
		if (rc)
			goto out_rollback;
	}
	const char *why = m.refused ? "refused" : m.settled > 0 ? "overpayment" : "cancelled";
	rc = append_close(l, &tx, &m, LEDGER_LINE_UNPAID, rest > 0 ? to : LEDGER_REST_NONE, card,
			  now_s + (int64_t)voucher_days * LEDGER_DAY_S, why, false, now_s, err);
	if (rc)
		goto out_rollback;
	ledger_checkpoint(l, "basket-end-written");
	rc = ledger_write_commit(l, "ledger basket: commit", err);
	if (rc)
		return rc;
	ledger_checkpoint(l, "basket-ended");
	LOG_INFO("transaction %" PRId64 " (%s) %s: %" PRId64 " fils paid, %" PRId64 " on lines, %" PRId64 " fils %s",
		 tx.seq, tx.uuid, m.paid > 0 ? "completed" : "cancelled", m.paid, m.settled, rest,
		 rest == 0 ? "left" : to == LEDGER_REST_CARD ? "to a card" : "to a voucher");
	return out ? ledger_basket_end_get(l, tx_id, out, err) : 0;

out_rollback:
	ledger_write_rollback(l);
	return rc;
}

int ledger_basket_recover(struct ledger *l, int64_t id, int64_t now_s, struct kio_error *err)
{
	struct ledger_tx tx;
	struct money m;
	int rc = begin_on_open_tx(l, "ledger basket: recover", id, &tx, &m, err);
	if (rc)
		return rc;
	/* Paid in full: the app may have asked the host to pay the lines and died before it wrote
	 * the answer, so the host settles them from the records (unconfirmed). Short of it, the
	 * host was never asked (the flow pays only a covered basket): unpaid. */
	enum ledger_line_status open_lines = m.paid > 0 && m.paid >= m.due ? LEDGER_LINE_UNCONFIRMED : LEDGER_LINE_UNPAID;
	if (open_lines == LEDGER_LINE_UNCONFIRMED) {
		/* Every line left becomes settled: its money must be in (invariant 12). */
		m.settled = m.due;
	}
	rc = append_close(l, &tx, &m, open_lines, LEDGER_REST_VOUCHER, NULL,
			  now_s + (int64_t)RECOVERED_VOUCHER_DAYS * LEDGER_DAY_S, "recovered", true, now_s, err);
	if (rc)
		goto out_rollback;
	ledger_checkpoint(l, "recover-written");
	rc = ledger_write_commit(l, "ledger basket: commit", err);
	if (rc)
		return rc;
	ledger_checkpoint(l, "recovered");
	LOG_WARN("transaction %" PRId64 " (%s) %s by recovery: %" PRId64 " fils paid, %" PRId64
		 " on lines (open lines %s), %" PRId64 " fils to a voucher",
		 tx.seq, tx.uuid, m.paid > 0 ? "completed" : "cancelled", m.paid, m.settled, status_names[open_lines],
		 m.paid - m.settled);
	return 0;

out_rollback:
	ledger_write_rollback(l);
	return rc;
}

int ledger_basket_end_get(struct ledger *l, int64_t tx_id, struct ledger_basket_end *out, struct kio_error *err)
{
	memset(out, 0, sizeof(*out));
	struct ledger_tx tx;
	struct money m;
	int rc = fees_tx(l, tx_id, &tx, err);
	if (rc)
		return rc;
	if (tx.state == LEDGER_TX_OPEN)
		return kio_fail(err, KIO_ERR_INVALID, "ledger basket: transaction %" PRId64 " is still open", tx.seq);
	rc = money_of(l, tx_id, &m, err);
	if (rc)
		return rc;
	out->paid_fils = m.paid;
	out->lines_fils = m.settled;
	out->rest_fils = m.paid - m.settled;
	sqlite3_stmt *st = NULL;
	rc = prepare_on_tx(l,
			   "SELECT 1, card, 0 FROM tx_item WHERE tx_rec = ?1 AND kind = 'topup'"
			   " AND amount_fils IS NOT NULL"
			   " UNION ALL SELECT 2, code, expires_s FROM voucher_issue WHERE tx_rec = ?1",
			   tx_id, &st, err);
	if (rc)
		return rc;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(st, 1);
		if (sqlite3_column_int(st, 0) == 1) {
			out->rest_to = LEDGER_REST_CARD;
			snprintf(out->card, sizeof(out->card), "%s", text ? text : "");
		} else {
			out->rest_to = LEDGER_REST_VOUCHER;
			snprintf(out->voucher, sizeof(out->voucher), "%s", text ? text : "");
			out->voucher_expires_s = sqlite3_column_int64(st, 2);
		}
	}
	if (step != SQLITE_DONE)
		rc = ledger_sql_fail(l, err, "read where the rest went");
	sqlite3_finalize(st);
	return rc;
}

static int fill_result(sqlite3_stmt *st, void *row, int64_t seq, size_t ordinal, struct kio_error *err)
{
	struct ledger_line_result *r = row;
	const char *status = (const char *)sqlite3_column_text(st, 0);
	if (status) {
		int k = 0;
		while (k < (int)(sizeof(status_names) / sizeof(status_names[0])) && strcmp(status_names[k], status))
			k++;
		/* The table's CHECK allows only these: another is a corrupt store. */
		if (k == (int)(sizeof(status_names) / sizeof(status_names[0])))
			return kio_fail(err, KIO_ERR_CORRUPT, "ledger basket: transaction %" PRId64 " line %zu has status '%s'",
					seq, ordinal, status);
		r->decided = true;
		r->status = (enum ledger_line_status)k;
	}
	snprintf(r->host_ref, sizeof(r->host_ref), "%s", (const char *)sqlite3_column_text(st, 1));
	return 0;
}

int ledger_basket_results(struct ledger *l, int64_t tx_id, struct ledger_line_result *out, size_t max, size_t *n,
			  struct kio_error *err)
{
	return read_rows(l, tx_id,
			 "SELECT r.status, coalesce(r.host_ref, '') FROM fee_item i LEFT JOIN fee_result r"
			 " ON r.tx_rec = i.tx_rec AND r.n = i.n WHERE i.tx_rec = ?1 ORDER BY i.n",
			 out, sizeof(*out), max, n, fill_result, "lines", "read the line results", err);
}

static int fill_voucher(sqlite3_stmt *st, void *row, int64_t seq, size_t ordinal, struct kio_error *err)
{
	(void)seq;
	(void)ordinal;
	(void)err;
	struct ledger_voucher_paid *v = row;
	snprintf(v->code, sizeof(v->code), "%s", (const char *)sqlite3_column_text(st, 0));
	v->value_fils = sqlite3_column_int64(st, 1);
	return 0;
}

int ledger_basket_vouchers(struct ledger *l, int64_t tx_id, struct ledger_voucher_paid *out, size_t max, size_t *n,
			   struct kio_error *err)
{
	return read_rows(l, tx_id, "SELECT code, value_fils FROM voucher_payment WHERE tx_rec = ?1 ORDER BY rec", out,
			 sizeof(*out), max, n, fill_voucher, "vouchers paid in", "read the vouchers paid in", err);
}
