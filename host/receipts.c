/* The host's receipt check (receipts.h): read the QR text, find the kiosk it names, derive
 * that kiosk's public key from its chain key, verify. */
#define LOG_MODULE "host-receipts"
#include "receipts.h"

#include <glib.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "kiosk/core/jsonguard.h"
#include "kiosk/core/log.h"
#include "kiosk/proof/proof.h"

static void invalid(struct host_reply *reply, const char *fault, const char *reason)
{
	JsonBuilder *b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "valid");
	json_builder_add_boolean_value(b, FALSE);
	json_builder_set_member_name(b, "fault");
	json_builder_add_string_value(b, fault);
	json_builder_set_member_name(b, "reason");
	json_builder_add_string_value(b, reason);
	json_builder_end_object(b);
	reply_json(reply, 200, reply_json_text(b));
}

static void valid(struct host_reply *reply, const struct proof_receipt *r)
{
	char id[2 * PROOF_KEY_ID_BYTES + 1], uuid[37], ref[32];
	for (size_t i = 0; i < PROOF_KEY_ID_BYTES; i++)
		snprintf(id + 2 * i, 3, "%02x", r->key_id[i]);
	proof_uuid_format(r->tx_uuid, uuid);
	snprintf(ref, sizeof(ref), "TXN-%06" PRId64, r->seq);
	JsonBuilder *b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "valid");
	json_builder_add_boolean_value(b, TRUE);
	const struct {
		const char *name, *text;
		int64_t v;
	} m[] = {{"kiosk_id", r->kiosk_id, 0}, {"key_id", id, 0},        {"seq", NULL, r->seq},
		 {"reference", ref, 0},        {"tx_uuid", uuid, 0},      {"time_s", NULL, r->time_s},
		 {"paid_fils", NULL, r->paid_fils}, {"currency", r->currency, 0}, {"lines", NULL, r->lines}};
	for (size_t i = 0; i < G_N_ELEMENTS(m); i++) {
		json_builder_set_member_name(b, m[i].name);
		if (m[i].text)
			json_builder_add_string_value(b, m[i].text);
		else
			json_builder_add_int_value(b, m[i].v);
	}
	json_builder_end_object(b);
	reply_json(reply, 200, reply_json_text(b));
}

/* The "qr" member of the body, or NULL with the 400 answer set. Borrowed from parser. */
static const char *qr_of_body(const char *buf, size_t len, JsonParser *parser, struct host_reply *reply)
{
	static const struct core_json_limits lim = {.depth_max = 4, .fractions = true};
	struct core_json_refusal why;
	GError *gerr = NULL;
	if (!core_json_guard_ok(buf, len, &lim, &why)) {
		reply_error(reply, 400, "bad_json", NULL, 0, "%s", why.msg);
		return NULL;
	}
	if (!json_parser_load_from_data(parser, buf, (gssize)len, &gerr)) {
		reply_error(reply, 400, "bad_json", NULL, 0, "not JSON: %s", gerr ? gerr->message : "?");
		g_clear_error(&gerr);
		return NULL;
	}
	JsonNode *root = json_parser_get_root(parser);
	if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
		reply_error(reply, 400, "bad_json", NULL, 0, "the body must be a JSON object");
		return NULL;
	}
	JsonNode *n = json_object_get_member(json_node_get_object(root), "qr");
	if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
		reply_error(reply, 400, "bad_request", NULL, 0, "'qr' must be text: what the receipt's QR code holds");
		return NULL;
	}
	return json_node_get_string(n);
}

void receipts_verify(PGconn *c, const char *buf, size_t len, struct host_reply *reply)
{
	JsonParser *parser = json_parser_new_immutable();
	const char *qr = qr_of_body(buf, len, parser, reply);
	if (!qr)
		goto out_parser;
	struct proof_parsed p;
	enum proof_fault fault = PROOF_OK;
	struct kio_error err = {0};
	if (proof_qr_parse(qr, strlen(qr), &p, &fault, &err) != 0) {
		invalid(reply, proof_fault_name(fault), err.msg);
		goto out_parser;
	}
	PGresult *res;
	const char *params[] = {p.r.kiosk_id};
	if (hdb_query(c, "SELECT encode(chain_key, 'hex') FROM kiosk WHERE kiosk_id = $1", 1, params, &res, NULL,
		      "read a kiosk's chain key", &err)) {
		LOG_ERR("%s", err.msg);
		reply_error(reply, 500, "internal_error", NULL, 0, "the host could not answer; try again");
		goto out_parser;
	}
	if (PQntuples(res) == 0) {
		char why[160];
		snprintf(why, sizeof(why), "receipt: kiosk %s is not enrolled at this host", p.r.kiosk_id);
		invalid(reply, "kiosk_unknown", why);
		goto out_res;
	}
	/* 64 hex digits: the table's CHECK holds the key to 32 bytes (the same shape as a public
	 * key's hex, hence the parser). */
	uint8_t secret[PROOF_SECRET_BYTES];
	if (!proof_pub_parse_hex(PQgetvalue(res, 0, 0), secret)) {
		LOG_ERR("kiosk %s: its chain key does not read as 32 bytes", p.r.kiosk_id);
		reply_error(reply, 500, "internal_error", NULL, 0, "the host could not answer; try again");
		goto out_res;
	}
	struct proof_key key;
	proof_key_from_secret(secret, &key);
	explicit_bzero(secret, sizeof(secret));
	int rc = proof_verify(&p, key.pub, &fault, &err);
	proof_key_wipe(&key);
	if (rc != 0) {
		LOG_WARN("a receipt of kiosk %s (TXN-%06" PRId64 ") did not verify: %s", p.r.kiosk_id, p.r.seq, err.msg);
		invalid(reply, proof_fault_name(fault), err.msg);
	} else {
		valid(reply, &p.r);
	}
out_res:
	PQclear(res);
out_parser:
	g_object_unref(parser);
}
