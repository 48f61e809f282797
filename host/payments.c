/*
 * A basket's payment at the host (payments.h): each line checked against the entity's account
 * and paid or refused, the answer stored as the first answer of its tx_uuid.
 *
 * Invariants (cited in the code):
 *  P1. A tx_uuid is paid once: its fee_payment row, lines and the bills they mark commit in one
 *      transaction, under a transaction-scoped lock on the tx_uuid, so a retry racing its first
 *      attempt (two host processes) waits and then reads the first answer.
 *  P2. A bill or item is paid once: its account row is locked (FOR UPDATE) and marked with the
 *      line's host_ref in the same transaction; a later line for it, in this basket or another,
 *      is refused already_paid.
 *  P3. A line is paid only for exactly what is due. A service whose tariff is 'account' needs
 *      the line's reference: a fixed bill's due_fils, an item's amount_fils, an open amount
 *      within the account's min..max on a step. A service the catalogue prices ('fixed' or
 *      'open' tariff in fee_service, the same as assets/catalogue) is paid for its price or
 *      within its bounds; its reference, if any, is recorded, not looked up.
 */
#define LOG_MODULE "host-payments"
#include "payments.h"

#include <glib.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "kiosk/core/log.h"

struct line_verdict {
	bool paid;
	char host_ref[33];
	const char *reason; /* refused: a snake_case word (docs/host-api.yaml, PaymentLineResult) */
	char message[160];
};

static void refuse_line(struct line_verdict *v, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void refuse_line(struct line_verdict *v, const char *reason, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->message, sizeof(v->message), fmt, ap);
	va_end(ap);
	v->paid = false;
	v->reason = reason;
}

/* Decides one line (P2, P3) and marks what it pays. -1 on a database error. */
static int decide_line(PGconn *c, const struct wire_pay_line *l, struct line_verdict *v, char sqlstate[6],
		       struct kio_error *err)
{
	memset(v, 0, sizeof(*v));
	const char *pk[] = {l->entity, l->service};
	PGresult *res;
	if (hdb_query(c,
		      "SELECT EXISTS (SELECT 1 FROM fee_entity WHERE entity = $1), s.tariff, s.amount_fils, s.min_fils,"
		      " s.max_fils, s.step_fils FROM (SELECT 1) one LEFT JOIN fee_service s ON s.entity = $1 AND s.service = $2",
		      2, pk, &res, sqlstate, "read a fee service", err))
		return -1;
	bool entity = strcmp(PQgetvalue(res, 0, 0), "t") == 0, service = !PQgetisnull(res, 0, 1);
	char tariff[8];
	snprintf(tariff, sizeof(tariff), "%s", PQgetvalue(res, 0, 1));
	int64_t t_amount = hdb_int(res, 0, 2), t_min = hdb_int(res, 0, 3), t_max = hdb_int(res, 0, 4),
		t_step = hdb_int(res, 0, 5);
	PQclear(res);
	if (!entity) {
		refuse_line(v, "entity_unknown", "the host knows no entity '%s'", l->entity);
		return 0;
	}
	if (!service) {
		refuse_line(v, "service_unknown", "%s has no service '%s'", l->entity, l->service);
		return 0;
	}
	/* P3: a catalogue-priced service: its tariff, the reference only recorded. */
	if (strcmp(tariff, "fixed") == 0 && l->amount_fils != t_amount)
		refuse_line(v, "amount_mismatch", "%s %s costs %" PRId64 " fils, not %" PRId64, l->entity, l->service, t_amount,
			    l->amount_fils);
	else if (strcmp(tariff, "open") == 0 &&
		 (l->amount_fils < t_min || l->amount_fils > t_max || (l->amount_fils - t_min) % t_step != 0))
		refuse_line(v, "out_of_bounds", "%" PRId64 " fils is not %" PRId64 " to %" PRId64 " in steps of %" PRId64,
			    l->amount_fils, t_min, t_max, t_step);
	else if (strcmp(tariff, "account") == 0 && !l->reference[0])
		refuse_line(v, "reference_unknown", "%s %s is paid per reference: the line names none", l->entity,
			    l->service);
	if (v->reason)
		return 0;
	bool by_account = strcmp(tariff, "account") == 0;
	if (by_account) {
		const char *pa[] = {l->entity, l->service, l->reference};
		if (hdb_query(c,
			      "SELECT kind, due_fils, min_fils, max_fils, step_fils, paid_ref FROM fee_account"
			      " WHERE entity = $1 AND service = $2 AND reference = $3 FOR UPDATE",
			      3, pa, &res, sqlstate, "lock a fee account", err))
			return -1;
		if (PQntuples(res) == 0) {
			PQclear(res);
			refuse_line(v, "reference_unknown", "%s %s has no reference %s", l->entity, l->service, l->reference);
			return 0;
		}
		char kind[8]; /* copied: read again after res is cleared */
		snprintf(kind, sizeof(kind), "%s", PQgetvalue(res, 0, 0));
		int64_t due = hdb_int(res, 0, 1), min = hdb_int(res, 0, 2), max = hdb_int(res, 0, 3),
			step = hdb_int(res, 0, 4);
		bool paid_already = !PQgetisnull(res, 0, 5);
		if (strcmp(kind, "fixed") == 0) {
			if (paid_already || due == 0)
				refuse_line(v, "already_paid", "%s %s %s is paid already", l->entity, l->service, l->reference);
			else if (l->amount_fils != due)
				refuse_line(v, "amount_mismatch", "%" PRId64 " fils is due, not %" PRId64, due, l->amount_fils);
		} else if (strcmp(kind, "open") == 0) {
			if (l->amount_fils < min || l->amount_fils > max || (l->amount_fils - min) % step != 0)
				refuse_line(v, "out_of_bounds",
					    "%" PRId64 " fils is not %" PRId64 " to %" PRId64 " in steps of %" PRId64,
					    l->amount_fils, min, max, step);
		} else if (!l->bill[0]) {
			refuse_line(v, "bill_unknown", "%s %s %s has items: a line names one", l->entity, l->service,
				    l->reference);
		}
		PQclear(res);
		if (v->reason)
			return 0;
		if (strcmp(kind, "items") == 0) {
			const char *pi[] = {l->entity, l->service, l->reference, l->bill};
			if (hdb_query(c,
				      "SELECT amount_fils, paid_ref IS NOT NULL FROM fee_item WHERE entity = $1 AND service = $2"
				      " AND reference = $3 AND id = $4 FOR UPDATE",
				      4, pi, &res, sqlstate, "lock a fee item", err))
				return -1;
			if (PQntuples(res) == 0)
				refuse_line(v, "bill_unknown", "%s %s %s has no item %s", l->entity, l->service, l->reference,
					    l->bill);
			else if (strcmp(PQgetvalue(res, 0, 1), "t") == 0)
				refuse_line(v, "already_paid", "item %s of %s is paid already", l->bill, l->reference);
			else if (hdb_int(res, 0, 0) != l->amount_fils)
				refuse_line(v, "amount_mismatch", "item %s is %" PRId64 " fils, not %" PRId64, l->bill,
					    hdb_int(res, 0, 0), l->amount_fils);
			PQclear(res);
			if (v->reason)
				return 0;
		}
	}
	if (hdb_query(c, "SELECT 'P-' || lpad(nextval('fee_payment_ref')::text, 8, '0')", 0, NULL, &res, sqlstate,
		      "number a payment", err))
		return -1;
	v->paid = true;
	snprintf(v->host_ref, sizeof(v->host_ref), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (!by_account)
		return 0; /* P3: the catalogue's price, no account here */
	/* P2: the bill or item is marked paid in the payment's transaction (an open amount has
	 * nothing to mark: the fixed-only condition leaves it). */
	const char *pm[] = {l->entity, l->service, l->reference, v->host_ref, l->bill};
	return hdb_query(c,
			 l->bill[0] ? "UPDATE fee_item SET paid_ref = $4 WHERE entity = $1 AND service = $2 AND reference = $3"
				      " AND id = $5"
				    : "UPDATE fee_account SET paid_ref = $4 WHERE entity = $1 AND service = $2"
				      " AND reference = $3 AND kind = 'fixed'",
			 l->bill[0] ? 5 : 4, pm, NULL, sqlstate, "mark a bill paid", err)
		       ? -1
		       : 0;
}

int payments_apply(PGconn *c, const char *kiosk_id, const struct wire_payment *p, const char *source, char **answer,
		   bool *same, char sqlstate[6], struct kio_error *err)
{
	*answer = NULL;
	*same = false;
	char *request = wire_payment_json(p);
	const char *pl[] = {p->tx_uuid};
	PGresult *res = NULL;
	int rc = -1;
	/* P1 */
	if (hdb_query(c, "SELECT pg_advisory_xact_lock(hashtextextended($1, 7842))", 1, pl, NULL, sqlstate,
		      "lock the payment's transaction id", err))
		goto out;
	const char *pr[] = {p->tx_uuid, kiosk_id, request};
	if (hdb_query(c,
		      "SELECT answer, kiosk_id = $2 AND request = $3::jsonb FROM fee_payment WHERE tx_uuid = $1::uuid",
		      3, pr, &res, sqlstate, "read a payment", err))
		goto out;
	if (PQntuples(res) == 1) {
		*answer = g_strdup(PQgetvalue(res, 0, 0));
		*same = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
		rc = 0;
		goto out;
	}
	PQclear(res);
	res = NULL;
	struct line_verdict v[WIRE_PAY_LINES_MAX];
	for (size_t k = 0; k < p->n; k++)
		if (decide_line(c, &p->lines[k], &v[k], sqlstate, err))
			goto out;
	JsonBuilder *b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "tx_uuid");
	json_builder_add_string_value(b, p->tx_uuid);
	json_builder_set_member_name(b, "lines");
	json_builder_begin_array(b);
	for (size_t k = 0; k < p->n; k++) {
		json_builder_begin_object(b);
		json_builder_set_member_name(b, "n");
		json_builder_add_int_value(b, p->lines[k].n);
		json_builder_set_member_name(b, "status");
		json_builder_add_string_value(b, v[k].paid ? "paid" : "refused");
		json_builder_set_member_name(b, v[k].paid ? "host_ref" : "reason");
		json_builder_add_string_value(b, v[k].paid ? v[k].host_ref : v[k].reason);
		if (!v[k].paid) {
			json_builder_set_member_name(b, "message");
			json_builder_add_string_value(b, v[k].message);
		}
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_end_object(b);
	char *text = reply_json_text(b);
	const char *pi[] = {p->tx_uuid, kiosk_id, source, request, text};
	if (hdb_query(c,
		      "INSERT INTO fee_payment (tx_uuid, kiosk_id, source, request, answer)"
		      " VALUES ($1::uuid, $2, $3, $4::jsonb, $5)",
		      5, pi, NULL, sqlstate, "store a payment", err)) {
		g_free(text);
		goto out;
	}
	for (size_t k = 0; k < p->n; k++) {
		const struct wire_pay_line *l = &p->lines[k];
		char n[8], amount[24];
		snprintf(n, sizeof(n), "%d", l->n);
		snprintf(amount, sizeof(amount), "%" PRId64, l->amount_fils);
		const char *pq[] = {p->tx_uuid,
				    n,
				    l->entity,
				    l->service,
				    l->reference[0] ? l->reference : NULL,
				    l->bill[0] ? l->bill : NULL,
				    amount,
				    v[k].paid ? "paid" : "refused",
				    v[k].paid ? v[k].host_ref : NULL,
				    v[k].paid ? NULL : v[k].reason};
		if (hdb_query(c,
			      "INSERT INTO fee_payment_line (tx_uuid, n, entity, service, reference, bill, amount_fils, status,"
			      " host_ref, reason) VALUES ($1::uuid, $2::int, $3, $4, $5, $6, $7::bigint, $8, $9, $10)",
			      10, pq, NULL, sqlstate, "store a payment line", err)) {
			g_free(text);
			goto out;
		}
	}
	*answer = text;
	*same = true;
	rc = 0;
out:
	PQclear(res);
	g_free(request);
	return rc;
}

void payments_post(PGconn *c, const char *kiosk_id, const char *buf, size_t len, struct host_reply *reply)
{
	struct wire_payment p;
	struct wire_error werr;
	if (wire_payment_parse(buf, len, &p, &werr) != 0) {
		reply_error(reply, 400, werr.fault == WIRE_BAD_JSON ? "bad_json" : "bad_request", NULL, 0, "%s", werr.msg);
		return;
	}
	struct kio_error err = {0};
	char sqlstate[6] = "";
	/* A twin racing through another host process waits on P1's lock and then reads the first
	 * answer; a deadlock between two baskets locking the same bills in another order is tried
	 * again (nothing of it was applied). */
	for (int attempt = 0; attempt < 3; attempt++) {
		char *answer = NULL;
		bool same = false;
		if (hdb_begin(c, &err))
			break;
		if (payments_apply(c, kiosk_id, &p, "online", &answer, &same, sqlstate, &err) == 0 &&
		    (!same || hdb_query(c, "COMMIT", 0, NULL, NULL, sqlstate, "commit a payment", &err) == 0)) {
			if (!same) {
				hdb_rollback(c);
				reply_error(reply, 422, "idempotency_mismatch", NULL, 0,
					    "transaction %s was paid already with another body", p.tx_uuid);
				g_free(answer);
			} else {
				reply_json(reply, 200, answer);
				LOG_INFO("kiosk %s: payment of tx %s answered", kiosk_id, p.tx_uuid);
			}
			return;
		}
		g_free(answer);
		hdb_rollback(c);
		if (strcmp(sqlstate, "23505") != 0 && strcmp(sqlstate, "40P01") != 0)
			break;
	}
	LOG_ERR("kiosk %s: payment of tx %s: %s", kiosk_id, p.tx_uuid, err.msg);
	reply_error(reply, 500, "internal_error", NULL, 0, "the host could not answer; try again");
}
