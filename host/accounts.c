/* Card accounts, fees, vouchers, the catalogue and heartbeats at the host (accounts.h). */
#define LOG_MODULE "host-accounts"
#include "accounts.h"

#include <glib.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "kiosk/core/log.h"
#include "wire.h"

static void internal(struct host_reply *reply, const struct kio_error *err)
{
	LOG_ERR("%s", err->msg);
	reply_error(reply, 500, "internal_error", NULL, 0, "the host could not answer; try again");
}

static void member_int(JsonBuilder *b, const char *name, int64_t v)
{
	json_builder_set_member_name(b, name);
	json_builder_add_int_value(b, v);
}

static void member_text(JsonBuilder *b, const char *name, const char *v)
{
	json_builder_set_member_name(b, name);
	json_builder_add_string_value(b, v);
}

void accounts_card(PGconn *c, const char *card, struct host_reply *reply)
{
	if (!wire_card_ok(card)) {
		reply_error(reply, 400, "bad_card", NULL, 0, "a card number is 16 digits");
		return;
	}
	struct kio_error err;
	PGresult *res;
	const char *p[] = {card};
	if (hdb_query(c, "SELECT status, balance_fils FROM card WHERE card = $1", 1, p, &res, NULL, "read a card", &err)) {
		internal(reply, &err);
		return;
	}
	if (PQntuples(res) == 0) {
		reply_error(reply, 404, "card_unknown", NULL, 0, "the host has no card ****%s", card + 12);
	} else {
		JsonBuilder *b = json_builder_new();
		json_builder_begin_object(b);
		member_text(b, "card", card);
		member_text(b, "status", PQgetvalue(res, 0, 0));
		member_int(b, "balance_fils", hdb_int(res, 0, 1));
		json_builder_end_object(b);
		reply_json(reply, 200, reply_json_text(b));
	}
	PQclear(res);
}

char *accounts_mask_name(const char *name)
{
	GString *out = g_string_new(NULL);
	bool word_start = true;
	for (const char *p = name; *p; p = g_utf8_next_char(p)) {
		if (*p == ' ') {
			word_start = true;
			continue;
		}
		if (word_start) {
			if (out->len)
				g_string_append_c(out, ' ');
			g_string_append_len(out, p, g_utf8_next_char(p) - p);
			g_string_append(out, "***");
			word_start = false;
		}
	}
	return g_string_free(out, FALSE);
}

static bool path_part_ok(const char *s, bool reference)
{
	size_t n = strlen(s);
	if (n < 1 || n > 32)
		return false;
	for (size_t k = 0; k < n; k++) {
		char ch = s[k];
		/* docs/host-api.yaml: entity and service [a-z0-9_-], a reference [A-Za-z0-9-]. */
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
			  (reference ? (ch >= 'A' && ch <= 'Z') : ch == '_');
		if (!ok)
			return false;
	}
	return true;
}

void accounts_fee(PGconn *c, const char *entity, const char *service, const char *reference,
		  struct host_reply *reply)
{
	if (!path_part_ok(entity, false) || !path_part_ok(service, false) || !path_part_ok(reference, true)) {
		reply_error(reply, 400, "bad_request", NULL, 0,
			    "entity and service are [a-z0-9_-], a reference [A-Za-z0-9-], 1 to 32 characters");
		return;
	}
	struct kio_error err;
	PGresult *res = NULL, *items = NULL;
	const char *p[] = {entity, service, reference};
	if (hdb_query(c,
		      /* A paid fixed bill is due 0 and a paid item is no longer listed (payments.c P2). */
		      "SELECT payee, description, kind, CASE WHEN paid_ref IS NULL THEN due_fils ELSE 0 END, min_fils,"
		      " max_fils, step_fils,"
		      " EXISTS (SELECT 1 FROM fee_entity WHERE entity = $1),"
		      " EXISTS (SELECT 1 FROM fee_service WHERE entity = $1 AND service = $2)"
		      " FROM (SELECT 1) one LEFT JOIN fee_account ON entity = $1 AND service = $2 AND reference = $3",
		      3, p, &res, NULL, "read a fee account", &err) ||
	    hdb_query(c,
		      "SELECT id, description, amount_fils FROM fee_item WHERE entity = $1 AND service = $2"
		      " AND reference = $3 AND paid_ref IS NULL ORDER BY id",
		      3, p, &items, NULL, "read a fee account's items", &err)) {
		PQclear(res);
		internal(reply, &err);
		return;
	}
	if (strcmp(PQgetvalue(res, 0, 7), "t") != 0) {
		reply_error(reply, 404, "entity_unknown", NULL, 0, "the host knows no entity '%s'", entity);
	} else if (strcmp(PQgetvalue(res, 0, 8), "t") != 0) {
		reply_error(reply, 404, "service_unknown", NULL, 0, "%s has no service '%s'", entity, service);
	} else if (PQgetisnull(res, 0, 0)) {
		reply_error(reply, 404, "reference_unknown", NULL, 0, "%s %s has no reference %s", entity, service,
			    reference);
	} else {
		const char *kind = PQgetvalue(res, 0, 2);
		JsonBuilder *b = json_builder_new();
		json_builder_begin_object(b);
		member_text(b, "entity", entity);
		member_text(b, "service", service);
		member_text(b, "reference", reference);
		char *masked = accounts_mask_name(PQgetvalue(res, 0, 0));
		member_text(b, "payee", masked);
		g_free(masked);
		member_text(b, "description", PQgetvalue(res, 0, 1));
		json_builder_set_member_name(b, "amount");
		json_builder_begin_object(b);
		member_text(b, "kind", kind);
		if (strcmp(kind, "fixed") == 0) {
			member_int(b, "due_fils", hdb_int(res, 0, 3));
		} else if (strcmp(kind, "open") == 0) {
			member_int(b, "min_fils", hdb_int(res, 0, 4));
			member_int(b, "max_fils", hdb_int(res, 0, 5));
			member_int(b, "step_fils", hdb_int(res, 0, 6));
		}
		json_builder_end_object(b);
		json_builder_set_member_name(b, "items");
		json_builder_begin_array(b);
		for (int k = 0; k < PQntuples(items); k++) {
			json_builder_begin_object(b);
			member_text(b, "id", PQgetvalue(items, k, 0));
			member_text(b, "description", PQgetvalue(items, k, 1));
			member_int(b, "amount_fils", hdb_int(items, k, 2));
			json_builder_end_object(b);
		}
		json_builder_end_array(b);
		json_builder_end_object(b);
		reply_json(reply, 200, reply_json_text(b));
	}
	PQclear(res);
	PQclear(items);
}

static void bad_body(struct host_reply *reply, const struct wire_error *werr)
{
	reply_error(reply, 400, werr->fault == WIRE_BAD_JSON ? "bad_json" : "bad_request", NULL, 0, "%s", werr->msg);
}

void accounts_voucher_validate(PGconn *c, const char *buf, size_t len, struct host_reply *reply)
{
	struct wire_voucher v;
	struct wire_error werr;
	if (wire_voucher_validate_parse(buf, len, &v, &werr) != 0) {
		bad_body(reply, &werr);
		return;
	}
	struct kio_error err;
	PGresult *res;
	const char *p[] = {v.code};
	if (hdb_query(c, "SELECT remaining_fils, expires < current_date, to_char(expires, 'YYYY-MM-DD') FROM voucher"
			 " WHERE code = $1",
		      1, p, &res, NULL, "read a voucher", &err)) {
		internal(reply, &err);
		return;
	}
	if (PQntuples(res) == 0) {
		reply_error(reply, 404, "voucher_unknown", NULL, 0, "no voucher %s", v.code);
	} else if (strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
		reply_error(reply, 410, "voucher_expired", NULL, 0, "voucher %s expired on %s", v.code, PQgetvalue(res, 0, 2));
	} else if (hdb_int(res, 0, 0) == 0) {
		reply_error(reply, 409, "voucher_spent", NULL, 0, "voucher %s has been spent", v.code);
	} else {
		JsonBuilder *b = json_builder_new();
		json_builder_begin_object(b);
		member_text(b, "code", v.code);
		member_text(b, "status", "valid");
		member_int(b, "value_fils", hdb_int(res, 0, 0));
		member_text(b, "expires", PQgetvalue(res, 0, 2));
		json_builder_end_object(b);
		reply_json(reply, 200, reply_json_text(b));
	}
	PQclear(res);
}

static char *redeem_answer(const char *code, const char *id, int64_t redeemed, int64_t remaining)
{
	JsonBuilder *b = json_builder_new();
	json_builder_begin_object(b);
	member_text(b, "code", code);
	member_text(b, "redemption_id", id);
	member_int(b, "redeemed_fils", redeemed);
	member_int(b, "remaining_fils", remaining);
	json_builder_end_object(b);
	return reply_json_text(b);
}

/* One attempt in one transaction: 0 answered (reply filled, committed or rolled back), -1 a
 * database error with sqlstate (a racing twin of this redemption id gives 23505: try again). */
static int redeem_once(PGconn *c, const char *kiosk_id, const struct wire_voucher *v, struct host_reply *reply,
		       char sqlstate[6], struct kio_error *err)
{
	char amount[24];
	snprintf(amount, sizeof(amount), "%" PRId64, v->amount_fils);
	PGresult *res = NULL;
	if (hdb_begin(c, err))
		return -1;
	/* The first answer is the answer: replayed for the same body, even once the voucher has
	 * since expired or been spent. A retry racing its first attempt through another host
	 * process waits here for it (a lock per redemption id), then finds its answer: checked
	 * first without the lock, it found none, waited on the voucher, and saw the voucher the
	 * first attempt had spent (409, the voucher-race test). */
	const char *pr[] = {v->redemption_id};
	if (hdb_query(c, "SELECT pg_advisory_xact_lock(hashtextextended($1, 7841))", 1, pr, NULL, sqlstate,
		      "lock the redemption id", err))
		goto out_rollback;
	/* records.c H10: a redemption the kiosk voided (it never booked it) is refused from then
	 * on, even a retry of its first attempt: its value went back to the voucher. 409 spent is
	 * the contract's word for "this redemption cannot take the value". */
	if (hdb_query(c, "SELECT 1 FROM voucher_void WHERE redemption_id = $1::uuid", 1, pr, &res, sqlstate,
		      "read a void", err))
		goto out_rollback;
	bool voided = PQntuples(res) == 1;
	PQclear(res);
	res = NULL;
	if (voided) {
		reply_error(reply, 409, "voucher_spent", NULL, 0, "redemption %s was voided by its kiosk", v->redemption_id);
		hdb_rollback(c);
		return 0;
	}
	if (hdb_query(c,
		      "SELECT code, kiosk_id, tx_uuid::text, amount_fils, remaining_fils FROM voucher_redemption"
		      " WHERE redemption_id = $1::uuid",
		      1, pr, &res, sqlstate, "read a redemption", err))
		goto out_rollback;
	if (PQntuples(res) == 1) {
		bool same = strcmp(PQgetvalue(res, 0, 0), v->code) == 0 && strcmp(PQgetvalue(res, 0, 1), kiosk_id) == 0 &&
			    g_ascii_strcasecmp(PQgetvalue(res, 0, 2), v->tx_uuid) == 0 && hdb_int(res, 0, 3) == v->amount_fils;
		if (same)
			reply_json(reply, 200, redeem_answer(v->code, v->redemption_id, v->amount_fils, hdb_int(res, 0, 4)));
		else
			reply_error(reply, 422, "idempotency_mismatch", NULL, 0,
				    "redemption %s was made already with another body", v->redemption_id);
		PQclear(res);
		hdb_rollback(c);
		return 0;
	}
	PQclear(res);
	const char *pv[] = {v->code};
	if (hdb_query(c, "SELECT remaining_fils, expires < current_date FROM voucher WHERE code = $1 FOR UPDATE", 1, pv,
		      &res, sqlstate, "lock a voucher", err))
		goto out_rollback;
	int64_t remaining = PQntuples(res) ? hdb_int(res, 0, 0) : 0;
	if (PQntuples(res) == 0)
		reply_error(reply, 404, "voucher_unknown", NULL, 0, "no voucher %s", v->code);
	else if (strcmp(PQgetvalue(res, 0, 1), "t") == 0)
		reply_error(reply, 410, "voucher_expired", NULL, 0, "voucher %s has expired", v->code);
	else if (remaining == 0)
		reply_error(reply, 409, "voucher_spent", NULL, 0, "voucher %s has been spent", v->code);
	else if (remaining < v->amount_fils) /* the contract's codes: spent, for what is asked */
		reply_error(reply, 409, "voucher_spent", NULL, 0,
			    "voucher %s holds %" PRId64 " fils, %" PRId64 " asked", v->code, remaining, v->amount_fils);
	PQclear(res);
	if (reply->status) {
		hdb_rollback(c);
		return 0;
	}
	char left[24];
	snprintf(left, sizeof(left), "%" PRId64, remaining - v->amount_fils);
	const char *pu[] = {v->code, left};
	const char *pi[] = {v->redemption_id, v->code, kiosk_id, v->tx_uuid, amount, left};
	if (hdb_query(c, "UPDATE voucher SET remaining_fils = $2::bigint WHERE code = $1", 2, pu, NULL, sqlstate,
		      "spend a voucher", err) ||
	    hdb_query(c,
		      "INSERT INTO voucher_redemption (redemption_id, code, kiosk_id, tx_uuid, amount_fils, remaining_fils)"
		      " VALUES ($1::uuid, $2, $3, $4::uuid, $5::bigint, $6::bigint)",
		      6, pi, NULL, sqlstate, "record a redemption", err) ||
	    hdb_query(c, "COMMIT", 0, NULL, NULL, sqlstate, "commit a redemption", err))
		goto out_rollback;
	reply_json(reply, 200, redeem_answer(v->code, v->redemption_id, v->amount_fils, remaining - v->amount_fils));
	return 0;
out_rollback:
	hdb_rollback(c);
	return -1;
}

void accounts_voucher_redeem(PGconn *c, const char *kiosk_id, const char *buf, size_t len, struct host_reply *reply)
{
	struct wire_voucher v;
	struct wire_error werr;
	if (wire_voucher_redeem_parse(buf, len, &v, &werr) != 0) {
		bad_body(reply, &werr);
		return;
	}
	struct kio_error err;
	char sqlstate[6];
	for (int attempt = 0; attempt < 3; attempt++) {
		if (redeem_once(c, kiosk_id, &v, reply, sqlstate, &err) == 0)
			return;
		if (strcmp(sqlstate, "23505") != 0 && strcmp(sqlstate, "40P01") != 0)
			break;
	}
	internal(reply, &err);
}

void accounts_catalogue(PGconn *c, const char *if_none_match, struct host_reply *reply)
{
	struct kio_error err;
	PGresult *res;
	if (hdb_query(c, "SELECT document::text, etag FROM catalogue WHERE id = 1", 0, NULL, &res, NULL,
		      "read the catalogue", &err)) {
		internal(reply, &err);
		return;
	}
	if (PQntuples(res) == 0) {
		reply_error(reply, 404, "catalogue_missing", NULL, 0, "the host has no catalogue loaded");
		PQclear(res);
		return;
	}
	snprintf(reply->etag, sizeof(reply->etag), "\"%s\"", PQgetvalue(res, 0, 1));
	if (if_none_match && (strcmp(if_none_match, reply->etag) == 0 || strcmp(if_none_match, "*") == 0)) {
		reply->status = 304;
		g_free(reply->body);
		reply->body = NULL;
	} else {
		reply_json(reply, 200, g_strdup(PQgetvalue(res, 0, 0)));
	}
	PQclear(res);
}

void accounts_heartbeat(PGconn *c, const char *kiosk_id, const char *buf, size_t len, int64_t now_s,
			struct host_reply *reply)
{
	struct wire_heartbeat hb;
	struct wire_error werr;
	if (wire_heartbeat_parse(buf, len, &hb, &werr) != 0) {
		bad_body(reply, &werr);
		return;
	}
	char depth[24], oldest[24], sent[24];
	snprintf(depth, sizeof(depth), "%" PRId64, hb.queue_depth);
	snprintf(oldest, sizeof(oldest), "%" PRId64, hb.oldest_unsynced_s);
	snprintf(sent, sizeof(sent), "%" PRId64, hb.sent_s);
	const char *p[] = {kiosk_id, hb.version, depth, hb.has_oldest ? oldest : NULL, hb.devices_json, sent};
	struct kio_error err;
	if (hdb_query(c,
		      "INSERT INTO heartbeat (kiosk_id, version, queue_depth, oldest_unsynced_s, devices, sent_s)"
		      " VALUES ($1, $2, $3::bigint, $4::bigint, $5::jsonb, $6::bigint)"
		      " ON CONFLICT (kiosk_id) DO UPDATE SET received_at = now(), version = excluded.version,"
		      " queue_depth = excluded.queue_depth, oldest_unsynced_s = excluded.oldest_unsynced_s,"
		      " devices = excluded.devices, sent_s = excluded.sent_s, beats = heartbeat.beats + 1",
		      6, p, NULL, NULL, "store a heartbeat", &err)) {
		internal(reply, &err);
	} else {
		reply_json(reply, 200, g_strdup_printf("{\"server_time_s\":%" PRId64 "}", now_s));
	}
	wire_heartbeat_clear(&hb);
}
