/*
 * POST /v1/receipts/verify below HTTP (host/receipts.c) on a real PostgreSQL: the host derives
 * each kiosk's receipt key from the chain key it stores, so a receipt a real kiosk ledger
 * signed verifies with nothing but its text; an altered one, another kiosk's, a kiosk never
 * enrolled and each kind of bad text answer valid:false with the fault; a bad body is a 400.
 * test-server.c proves the route over mutual TLS.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "host/receipts.h"
#include "hostfix.h"
#include "kiosk/ledger/chain.h"
#include "kiosk/proof/proof.h"

static char *conninfo, *cluster_dir;
static PGconn *db;

struct answer {
	unsigned status;
	JsonParser *parser;
	JsonObject *o;
};

static void ask(const char *body, struct answer *a)
{
	struct host_reply r = {0};
	receipts_verify(db, body, strlen(body), &r);
	g_assert_nonnull(r.body);
	g_assert_cmpint(PQtransactionStatus(db), ==, PQTRANS_IDLE);
	a->status = r.status;
	a->parser = json_parser_new();
	g_assert_true(json_parser_load_from_data(a->parser, r.body, -1, NULL));
	a->o = json_node_get_object(json_parser_get_root(a->parser));
	reply_clear(&r);
}

static char *body_of(const char *qr)
{
	return g_strdup_printf("{\"qr\":\"%s\"}", qr);
}

/* {"qr": qr} answers valid:false with fault. */
static void expect_invalid(const char *qr, const char *fault)
{
	char *body = body_of(qr);
	struct answer a;
	ask(body, &a);
	g_assert_cmpint(a.status, ==, 200);
	g_assert_false(json_object_get_boolean_member(a.o, "valid"));
	g_assert_cmpstr(json_object_get_string_member(a.o, "fault"), ==, fault);
	g_assert_cmpuint(strlen(json_object_get_string_member(a.o, "reason")), >, 10);
	g_object_unref(a.parser);
	g_free(body);
}

/* A kiosk ledger in the cluster's folder, enrolled at the host under id with its own chain
 * key (what `kiosk-host enrol` stores); its receipt key, derived as the kiosk derives it. */
static void enrol(const char *id, struct kfix *k, struct proof_key *key)
{
	char *dir = g_build_filename(cluster_dir, id, NULL);
	g_assert_cmpint(g_mkdir(dir, 0700), ==, 0);
	kfix_open(k, dir);
	g_free(dir);
	uint8_t seed[PROOF_SEED_BYTES], secret[PROOF_SECRET_BYTES];
	ledger_derive_key(k->ledger, PROOF_SEED_LABEL, seed);
	proof_key_from_seed(seed, key);
	struct kio_error err;
	g_assert_cmpint(ledger_secret_read(k->path, false, secret, &err), ==, 0);
	char hex[65];
	for (int b = 0; b < 32; b++)
		snprintf(hex + 2 * b, 3, "%02x", secret[b]);
	char *sql = g_strdup_printf("INSERT INTO kiosk (kiosk_id, chain_key) VALUES ('%s', decode('%s', 'hex'))", id, hex);
	hostfix_exec(db, sql);
	g_free(sql);
}

static void receipt_text(const char *kiosk, int64_t seq, const struct proof_key *key, char out[PROOF_QR_TEXT_MAX + 1])
{
	struct proof_receipt r = {.seq = seq, .time_s = 1805005920, .paid_fils = 15000, .lines = 1};
	snprintf(r.kiosk_id, sizeof(r.kiosk_id), "%s", kiosk);
	snprintf(r.currency, sizeof(r.currency), "AED");
	g_assert_true(proof_uuid_parse("0f8fad5b-d9cb-469f-a165-70867728950e", r.tx_uuid));
	struct kio_error err;
	g_assert_cmpint(proof_qr_text(&r, key, out, PROOF_QR_TEXT_MAX + 1, &err), ==, 0);
}

static void test_verify(void)
{
	struct kfix ka, kb;
	struct proof_key a, b;
	enrol("KSK-A", &ka, &a);
	enrol("KSK-B", &kb, &b);
	char text[PROOF_QR_TEXT_MAX + 1];
	receipt_text("KSK-A", 42, &a, text);
	char *body = body_of(text);
	struct answer ans;
	ask(body, &ans);
	g_free(body);
	g_assert_cmpint(ans.status, ==, 200);
	g_assert_true(json_object_get_boolean_member(ans.o, "valid"));
	g_assert_cmpstr(json_object_get_string_member(ans.o, "kiosk_id"), ==, "KSK-A");
	g_assert_cmpint(json_object_get_int_member(ans.o, "seq"), ==, 42);
	g_assert_cmpstr(json_object_get_string_member(ans.o, "reference"), ==, "TXN-000042");
	g_assert_cmpstr(json_object_get_string_member(ans.o, "tx_uuid"), ==, "0f8fad5b-d9cb-469f-a165-70867728950e");
	g_assert_cmpint(json_object_get_int_member(ans.o, "time_s"), ==, 1805005920);
	g_assert_cmpint(json_object_get_int_member(ans.o, "paid_fils"), ==, 15000);
	g_assert_cmpstr(json_object_get_string_member(ans.o, "currency"), ==, "AED");
	g_assert_cmpint(json_object_get_int_member(ans.o, "lines"), ==, 1);
	char id[9];
	snprintf(id, sizeof(id), "%02x%02x%02x%02x", a.key_id[0], a.key_id[1], a.key_id[2], a.key_id[3]);
	g_assert_cmpstr(json_object_get_string_member(ans.o, "key_id"), ==, id);
	g_object_unref(ans.parser);

	/* KSK-B's own receipt verifies too: each kiosk's key from its own chain key. */
	char tb[PROOF_QR_TEXT_MAX + 1];
	receipt_text("KSK-B", 7, &b, tb);
	body = body_of(tb);
	ask(body, &ans);
	g_free(body);
	g_assert_true(json_object_get_boolean_member(ans.o, "valid"));
	g_object_unref(ans.parser);

	/* Claims KSK-B, signed by KSK-A's key: the key id gives it away. */
	char forged[PROOF_QR_TEXT_MAX + 1];
	receipt_text("KSK-B", 42, &a, forged);
	expect_invalid(forged, "key-id");
	/* A kiosk the host never enrolled. */
	receipt_text("KSK-NONE", 42, &a, forged);
	expect_invalid(forged, "kiosk_unknown");
	/* Altered: the last character of the signature. */
	g_strlcpy(forged, text, sizeof(forged));
	size_t n = strlen(forged);
	forged[n - 2] = forged[n - 2] == 'A' ? 'B' : 'A';
	expect_invalid(forged, "signature");
	expect_invalid("https://example.com/receipt/42", "prefix");
	g_strlcpy(forged, text, sizeof(forged));
	forged[9] = 'a';
	expect_invalid(forged, "base32");
	/* The record without its last byte, written as a text again. */
	uint8_t bytes[PROOF_TLV_MAX];
	size_t len, bad;
	const char *why;
	g_assert_true(proof_base32_decode(text + 5, n - 5, bytes, sizeof(bytes), &len, &bad, &why));
	memcpy(forged, "EDK1:", 5);
	g_assert_true(proof_base32_encode(bytes, len - 1, forged + 5, sizeof(forged) - 5));
	expect_invalid(forged, "truncated");
	char *longer = g_strdup_printf("%sAA", text); /* one byte more */
	expect_invalid(longer, "trailing");
	g_free(longer);
	proof_key_wipe(&a);
	proof_key_wipe(&b);
	kfix_close(&ka);
	kfix_close(&kb);
}

static void test_bad_bodies(void)
{
	static const struct {
		const char *body, *code;
	} cases[] = {
		{"", "bad_json"},
		{"[\"EDK1:AA\"]", "bad_json"},
		{"{\"qr\":5}", "bad_request"},
		{"{\"qr\":null}", "bad_request"},
		{"{}", "bad_request"},
		{"{\"qr\":\"EDK1:\",\"qr\":\"x\"}", "bad_json"}, /* a member twice: the guard */
		{"{\"qr\":\"EDK1:\\u0000\"}", "bad_json"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct answer a;
		ask(cases[i].body, &a);
		g_assert_cmpint(a.status, ==, 400);
		JsonObject *e = json_object_get_object_member(a.o, "error");
		if (strcmp(json_object_get_string_member(e, "code"), cases[i].code) != 0)
			g_error("body %s: %s", cases[i].body, json_object_get_string_member(e, "code"));
		g_object_unref(a.parser);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	int rc = hostfix_cluster_start(&cluster_dir, &conninfo);
	if (rc == 77)
		return 77;
	db = hostfix_connect(conninfo);
	g_test_add_func("/hostd/receipts/verify", test_verify);
	g_test_add_func("/hostd/receipts/bad-bodies", test_bad_bodies);
	rc = g_test_run();
	PQfinish(db);
	hostfix_cluster_stop(cluster_dir);
	g_free(conninfo);
	return rc;
}
