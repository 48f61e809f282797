/*
 * Fuzz target: the reference host's parsers of every request body and the Date header
 * (host/wire.h). Input: one selector byte (records, voucher validate, voucher redeem,
 * heartbeat, Date, payment) then the body. Promises: no read past the input; a parse that succeeds
 * gives only what the rules allow (records in increasing rec, every column of its table with
 * an allowed kind, no negative amount, a 16-digit card), and a record's canonical JSON parses
 * back to the same JSON (what the host stores is what it compares duplicates with); a payment
 * has 1..10 lines numbered in order with amounts in range, and its canonical JSON parses back
 * to the same canonical JSON (what the idempotency check compares).
 */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_batch(const struct wire_batch *b)
{
	for (size_t k = 0; k < b->n; k++) {
		const struct wire_record *r = &b->recs[k];
		if (r->rec < 1 || (k && r->rec <= b->recs[k - 1].rec) || !r->type || r->n_cols > LEDGER_REC_COLS_MAX)
			abort();
		for (size_t c = 0; c < r->n_cols; c++) {
			const struct ledger_rec_val *v = &r->vals[c];
			if (v->type == LEDGER_REC_INT && strstr(r->cols[c], "fils") && v->i < 0)
				abort();
			if (v->type == LEDGER_REC_TEXT && (!v->s || (strcmp(r->cols[c], "card") == 0 && !wire_card_ok(v->s))))
				abort();
		}
		char *json = wire_record_json(r);
		char *doc = g_strdup_printf("{\"records\":[%s]}", json);
		struct wire_batch again;
		struct wire_error err;
		if (wire_records_parse(doc, strlen(doc), &again, &err) != 0 || again.n != 1)
			abort();
		char *json2 = wire_record_json(&again.recs[0]);
		if (strcmp(json, json2) != 0)
			abort();
		g_free(json2);
		wire_batch_clear(&again);
		g_free(doc);
		g_free(json);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *body = (const char *)data + 1;
	size_t len = size - 1;
	struct wire_error err;
	switch (data[0] % 6) {
	case 0: {
		struct wire_batch b;
		if (wire_records_parse(body, len, &b, &err) == 0) {
			check_batch(&b);
			wire_batch_clear(&b);
		} else if (b.n != 0 || b.recs) {
			abort();
		}
		break;
	}
	case 1:
	case 2: {
		struct wire_voucher v;
		int rc = data[0] % 6 == 1 ? wire_voucher_validate_parse(body, len, &v, &err)
					  : wire_voucher_redeem_parse(body, len, &v, &err);
		if (rc == 0 && (strlen(v.code) < 1 || (data[0] % 6 == 2 && v.amount_fils <= 0)))
			abort();
		break;
	}
	case 3: {
		struct wire_heartbeat hb;
		if (wire_heartbeat_parse(body, len, &hb, &err) == 0) {
			if (hb.queue_depth < 0 || !hb.devices_json)
				abort();
			wire_heartbeat_clear(&hb);
		}
		break;
	}
	case 5: {
		struct wire_payment p, again;
		if (wire_payment_parse(body, len, &p, &err) != 0) {
			if (p.n != 0)
				abort();
			break;
		}
		if (p.n < 1 || p.n > WIRE_PAY_LINES_MAX || !wire_uuid_ok(p.tx_uuid))
			abort();
		for (size_t k = 0; k < p.n; k++)
			if (p.lines[k].n != (int)k + 1 || p.lines[k].amount_fils < 1 || p.lines[k].amount_fils > WIRE_FILS_MAX ||
			    !p.lines[k].entity[0] || !p.lines[k].service[0])
				abort();
		char *json = wire_payment_json(&p);
		if (wire_payment_parse(json, strlen(json), &again, &err) != 0)
			abort();
		char *json2 = wire_payment_json(&again);
		if (strcmp(json, json2) != 0)
			abort();
		g_free(json);
		g_free(json2);
		break;
	}
	case 4:
	default: {
		char text[64];
		size_t n = len < sizeof(text) - 1 ? len : sizeof(text) - 1;
		memcpy(text, body, n);
		text[n] = '\0';
		int64_t t;
		if (wire_http_date_parse(text, &t) && strlen(text) != 29)
			abort();
		break;
	}
	}
	return 0;
}
