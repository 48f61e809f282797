/*
 * The reference host's batch and account logic on a real PostgreSQL (one throwaway cluster for
 * the binary), called directly, below HTTP: records from a real kiosk ledger applied exactly
 * once, every refusal changing nothing, the chain verified with the kiosk's own MAC code, two
 * host processes racing on one kiosk, and the card, fee, voucher, catalogue and heartbeat
 * routes. test-server.c covers the same over mutual TLS with the authentication cases.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "host/accounts.h"
#include "host/catalogue.h"
#include "host/db.h"
#include "host/demo.h"
#include "host/dump.h"
#include "host/payments.h"
#include "host/records.h"
#include "hostfix.h"
#include "kiosk/fees/catalogue.h"
#include "kiosk/ledger/chain.h"
#include "kiosk/ledger/recmac.h"

#define CARD_DEMO "7841000024680132"
#define CARD_ZERO "7841000013579022"

static char *conninfo, *cluster_dir;
static PGconn *db;
static int kiosk_count;

/* A fresh kiosk registered at the host with its ledger's own chain key (what `kiosk-host enrol`
 * does with a key it makes). */
struct kiosk {
	char id[16];
	char *dir;
	struct kfix k;
	uint8_t key[LEDGER_KEY_BYTES];
};

static void kiosk_new(struct kiosk *ks)
{
	memset(ks, 0, sizeof(*ks));
	snprintf(ks->id, sizeof(ks->id), "K-%04d", ++kiosk_count);
	/* Inside the cluster's folder: removed with it, even when a test aborts. */
	ks->dir = g_build_filename(cluster_dir, ks->id, NULL);
	g_assert_cmpint(g_mkdir(ks->dir, 0700), ==, 0);
	kfix_open(&ks->k, ks->dir);
	struct kio_error err;
	g_assert_cmpint(ledger_secret_read(ks->k.path, false, ks->key, &err), ==, 0);
	char hex[65];
	for (int b = 0; b < LEDGER_KEY_BYTES; b++)
		snprintf(hex + 2 * b, 3, "%02x", ks->key[b]);
	char *sql = g_strdup_printf("INSERT INTO kiosk (kiosk_id, chain_key) VALUES ('%s', decode('%s', 'hex'));"
				    "INSERT INTO kiosk_sync (kiosk_id) VALUES ('%s')",
				    ks->id, hex, ks->id);
	hostfix_exec(db, sql);
	g_free(sql);
}

static void kiosk_free(struct kiosk *ks)
{
	kfix_close(&ks->k);
	char *cmd = g_strdup_printf("rm -rf '%s'", ks->dir);
	g_assert_cmpint(system(cmd), ==, 0);
	g_free(cmd);
	g_free(ks->dir);
}

/* Sends body as kiosk id; returns the status, *json (may be NULL) the parsed answer. */
static unsigned upload(const char *id, const char *body, JsonObject **json)
{
	struct host_reply r = {0};
	records_upload(db, id, body, strlen(body), &r);
	g_assert_nonnull(r.body);
	g_assert_cmpint(PQtransactionStatus(db), ==, PQTRANS_IDLE);
	unsigned status = r.status;
	if (json) {
		JsonParser *p = json_parser_new();
		g_assert_true(json_parser_load_from_data(p, r.body, -1, NULL));
		*json = json_object_ref(json_node_get_object(json_parser_get_root(p)));
		g_object_unref(p);
	}
	reply_clear(&r);
	return status;
}

static int64_t member(JsonObject *o, const char *name) { return json_object_get_int_member(o, name); }

static const char *error_code(JsonObject *o)
{
	return json_object_get_string_member(json_object_get_object_member(o, "error"), "code");
}

/* Uploads body, which must be refused with status and code, changing no table; returns the
 * error's `rec` or `acked` member when it has one, else -1. */
static int64_t refused(const char *id, const char *body, unsigned status, const char *code)
{
	char *before = hostfix_snapshot(db);
	JsonObject *o;
	g_assert_cmpuint(upload(id, body, &o), ==, status);
	g_assert_cmpstr(error_code(o), ==, code);
	JsonObject *e = json_object_get_object_member(o, "error");
	int64_t extra = json_object_has_member(e, "rec")     ? json_object_get_int_member(e, "rec")
			: json_object_has_member(e, "acked") ? json_object_get_int_member(e, "acked")
							     : -1;
	json_object_unref(o);
	char *after = hostfix_snapshot(db);
	g_assert_cmpstr(before, ==, after);
	g_free(before);
	g_free(after);
	return extra;
}

static int64_t balance(const char *card)
{
	char *sql = g_strdup_printf("SELECT balance_fils FROM card WHERE card = '%s'", card);
	int64_t v = hostfix_int(db, sql);
	g_free(sql);
	return v;
}

static int64_t alarms(const char *code)
{
	char *sql = g_strdup_printf("SELECT count(*) FROM alarm WHERE code = '%s'", code);
	int64_t v = hostfix_int(db, sql);
	g_free(sql);
	return v;
}

/* The host's dump of a kiosk's records equals the kiosk's export, line for line. */
static void assert_dump_equals_export(struct kiosk *ks)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct kio_error err;
	g_assert_cmpint(dump_print(db, ks->id, f, &err), ==, 0);
	fclose(f);
	GPtrArray *exp = kfix_export(&ks->k, 0);
	GString *want = g_string_new(NULL);
	for (guint k = 0; k < exp->len; k++)
		g_string_append_printf(want, "%s\n", (char *)exp->pdata[k]);
	GString *got = g_string_new(NULL);
	char **lines = g_strsplit(buf, "\n", -1);
	for (char **l = lines; *l; l++)
		if (g_str_has_prefix(*l, "{\"rec\""))
			g_string_append_printf(got, "%s\n", *l);
	g_assert_cmpstr(got->str, ==, want->str);
	g_strfreev(lines);
	g_string_free(want, TRUE);
	g_string_free(got, TRUE);
	g_ptr_array_unref(exp);
	free(buf);
}

static const int64_t notes_150[] = {10000, 5000, 0};
static const int64_t notes_20[] = {2000, 0};

static void test_happy_and_replay(void)
{
	struct kiosk ks;
	kiosk_new(&ks);
	int64_t before = balance(CARD_DEMO);
	kfix_topup(&ks.k, CARD_DEMO, notes_150);
	GPtrArray *lines = kfix_export(&ks.k, 0);
	g_assert_cmpuint(lines->len, ==, 5); /* tx, tx_item, 2 payments, tx_end */
	char *body = kfix_batch(lines, 0, lines->len);
	JsonObject *o;
	g_assert_cmpuint(upload(ks.id, body, &o), ==, 200);
	g_assert_cmpint(member(o, "acked"), ==, 5);
	g_assert_cmpint(member(o, "applied"), ==, 5);
	g_assert_cmpint(member(o, "duplicates"), ==, 0);
	json_object_unref(o);
	g_assert_cmpint(balance(CARD_DEMO), ==, before + 15000);
	assert_dump_equals_export(&ks);

	/* The same batch again (an answer lost on the way): acknowledged, nothing applied twice. */
	char *snap = hostfix_snapshot(db);
	g_assert_cmpuint(upload(ks.id, body, &o), ==, 200);
	g_assert_cmpint(member(o, "acked"), ==, 5);
	g_assert_cmpint(member(o, "applied"), ==, 0);
	g_assert_cmpint(member(o, "duplicates"), ==, 5);
	json_object_unref(o);
	char *after = hostfix_snapshot(db);
	g_assert_cmpstr(snap, ==, after);
	g_assert_cmpint(balance(CARD_DEMO), ==, before + 15000);

	/* A second top-up sent with an overlap of old records. */
	kfix_topup(&ks.k, CARD_DEMO, notes_20);
	GPtrArray *all = kfix_export(&ks.k, 0);
	char *overlap = kfix_batch(all, 3, all->len);
	g_assert_cmpuint(upload(ks.id, overlap, &o), ==, 200);
	g_assert_cmpint(member(o, "acked"), ==, (int64_t)all->len);
	g_assert_cmpint(member(o, "applied"), ==, (int64_t)all->len - 5);
	g_assert_cmpint(member(o, "duplicates"), ==, 2);
	json_object_unref(o);
	g_assert_cmpint(balance(CARD_DEMO), ==, before + 17000);
	hostfix_assert_balances(db);
	assert_dump_equals_export(&ks);

	/* An empty batch asks where the host is. */
	g_assert_cmpuint(upload(ks.id, "{\"records\":[]}", &o), ==, 200);
	g_assert_cmpint(member(o, "acked"), ==, (int64_t)all->len);
	json_object_unref(o);
	g_free(overlap);
	g_ptr_array_unref(all);
	g_free(snap);
	g_free(after);
	g_free(body);
	g_ptr_array_unref(lines);
	kiosk_free(&ks);
}

static void test_order_and_gaps(void)
{
	struct kiosk ks;
	kiosk_new(&ks);
	kfix_topup(&ks.k, CARD_ZERO, notes_150);
	GPtrArray *lines = kfix_export(&ks.k, 0);
	/* Out of order inside a batch. */
	GPtrArray *swapped = g_ptr_array_new();
	g_ptr_array_add(swapped, lines->pdata[1]);
	g_ptr_array_add(swapped, lines->pdata[0]);
	char *body = kfix_batch(swapped, 0, 2);
	refused(ks.id, body, 400, "bad_request");
	g_free(body);
	/* A gap: the first new record is not acked + 1. */
	body = kfix_batch(lines, 1, lines->len);
	g_assert_cmpint(refused(ks.id, body, 409, "sequence_gap"), ==, 0);
	g_free(body);
	/* A hole inside the batch. */
	GPtrArray *holed = g_ptr_array_new();
	g_ptr_array_add(holed, lines->pdata[0]);
	g_ptr_array_add(holed, lines->pdata[2]);
	body = kfix_batch(holed, 0, 2);
	g_assert_cmpint(refused(ks.id, body, 409, "sequence_gap"), ==, 0);
	g_free(body);
	/* After the first two, the host says where to resume. */
	body = kfix_batch(lines, 0, 2);
	g_assert_cmpuint(upload(ks.id, body, NULL), ==, 200);
	g_free(body);
	body = kfix_batch(lines, 3, lines->len);
	g_assert_cmpint(refused(ks.id, body, 409, "sequence_gap"), ==, 2);
	g_free(body);
	body = kfix_batch(lines, 2, lines->len);
	g_assert_cmpuint(upload(ks.id, body, NULL), ==, 200);
	g_free(body);
	g_assert_cmpint(balance(CARD_ZERO), ==, 15000);
	g_ptr_array_unref(holed);
	g_ptr_array_unref(swapped);
	g_ptr_array_unref(lines);
	kiosk_free(&ks);
}

/* line with the first occurrence of from replaced by to. */
static char *edit(const char *line, const char *from, const char *to)
{
	const char *at = strstr(line, from);
	g_assert_nonnull(at);
	return g_strdup_printf("%.*s%s%s", (int)(at - line), line, to, at + strlen(from));
}

static char *one(const char *line) { return g_strdup_printf("{\"records\":[%s]}", line); }

static void test_conflict_and_chain(void)
{
	struct kiosk ks, other;
	kiosk_new(&ks);
	kiosk_new(&other);
	kfix_topup(&ks.k, CARD_DEMO, notes_20);
	GPtrArray *lines = kfix_export(&ks.k, 0);
	char *body = kfix_batch(lines, 0, 2);
	g_assert_cmpuint(upload(ks.id, body, NULL), ==, 200);
	g_free(body);

	/* A held record with other content (a changed field under the same MAC, or another MAC). */
	int64_t alarms_before = alarms("record_conflict");
	char *changed = edit(lines->pdata[0], "\"lang\":\"en\"", "\"lang\":\"ar\"");
	body = one(changed);
	g_assert_cmpint(refused(ks.id, body, 409, "record_conflict"), ==, 1);
	g_free(body);
	g_free(changed);
	const char *mac = strstr(lines->pdata[1], "\"mac\":\"") + 7;
	char *flipped = g_strdup(lines->pdata[1]);
	char *m = strstr(flipped, "\"mac\":\"") + 7;
	m[0] = mac[0] == '0' ? '1' : '0';
	body = one(flipped);
	g_assert_cmpint(refused(ks.id, body, 409, "record_conflict"), ==, 2);
	g_free(body);
	g_free(flipped);
	g_assert_cmpint(alarms("record_conflict"), ==, alarms_before + 2);

	/* A new record whose MAC does not verify: an amount changed on the way. */
	int64_t broken_before = alarms("chain_broken");
	char *forged = edit(lines->pdata[2], "\"value_fils\":2000", "\"value_fils\":20000");
	GPtrArray *rest = g_ptr_array_new();
	g_ptr_array_add(rest, forged);
	for (guint k = 3; k < lines->len; k++)
		g_ptr_array_add(rest, lines->pdata[k]);
	body = kfix_batch(rest, 0, rest->len);
	g_assert_cmpint(refused(ks.id, body, 422, "chain_broken"), ==, 3);
	g_free(body);
	g_assert_cmpint(alarms("chain_broken"), ==, broken_before + 1);
	/* Another kiosk's genuine records sent as this kiosk's: its key does not match. */
	kfix_topup(&other.k, CARD_DEMO, notes_20);
	GPtrArray *theirs = kfix_export(&other.k, 0);
	body = kfix_batch(theirs, 0, theirs->len);
	g_assert_cmpint(refused(ks.id, body, 409, "record_conflict"), ==, 1);
	g_free(body);
	body = kfix_batch(theirs, 2, theirs->len);
	g_assert_cmpint(refused(ks.id, body, 422, "chain_broken"), ==, 3);
	g_free(body);
	/* The genuine rest still goes in. */
	body = kfix_batch(lines, 2, lines->len);
	g_assert_cmpuint(upload(ks.id, body, NULL), ==, 200);
	g_free(body);
	hostfix_assert_balances(db);
	g_ptr_array_unref(theirs);
	g_free(forged);
	g_ptr_array_unref(rest);
	g_ptr_array_unref(lines);
	kiosk_free(&other);
	kiosk_free(&ks);
}

static void test_bad_bodies(void)
{
	struct kiosk ks;
	kiosk_new(&ks);
	kfix_topup(&ks.k, CARD_DEMO, notes_20);
	GPtrArray *lines = kfix_export(&ks.k, 0);
	char *body = kfix_batch(lines, 0, 2);
	g_assert_cmpuint(upload(ks.id, body, NULL), ==, 200);
	g_free(body);
	const char *pay = lines->pdata[2];
	static const struct {
		const char *from, *to;
		unsigned status;
		const char *code;
	} cases[] = {
		{"\"value_fils\":2000", "\"value_fils\":-2000", 422, "bad_record"},
		{"\"value_fils\":2000", "\"value_fils\":\"2000\"", 422, "bad_record"},
		{"\"value_fils\":2000", "\"value_fils\":null", 422, "bad_record"},
		{"\"value_fils\":2000", "\"value_fils\":2000.5", 400, "bad_request"},
		{"\"value_fils\":2000", "\"value_fils\":2e3", 400, "bad_request"},
		{"\"value_fils\":2000", "\"value_fils\":-18446744073709549616", 400, "bad_request"},
		{"\"value_fils\":2000", "\"value_fils\":18446744073709553616", 400, "bad_request"},
		/* json-glib reads hexadecimal: 0x7D0 would pass as 2000, MAC and all. */
		{"\"value_fils\":2000", "\"value_fils\":0x7D0", 400, "bad_json"},
		{"\"value_fils\":2000", "\"value_fils\":-0x7D0", 400, "bad_json"},
		{"\"type\":\"payment\"", "\"type\":\"refund\"", 422, "bad_record"},
		{"\"method\":\"cash\"", "\"method\":\"card\"", 422, "bad_record"},
		{"\"method\":\"cash\"", "\"method\":\"cash\\u0000card\"", 400, "bad_request"},
		/* json-glib keeps the last of two members with one name (here 2000, a valid payment)
		 * and reads 02000 as 2000: both refused by the lexical guard, spelled plainly or
		 * escaped. */
		{"\"value_fils\":2000", "\"value_fils\":1,\"value_fils\":2000", 400, "bad_request"},
		{"\"value_fils\":2000", "\"value_fils\":1,\"value\\u005ffils\":2000", 400, "bad_request"},
		{"\"value_fils\":2000", "\"value_fils\":02000", 400, "bad_json"},
		{"\"rec\":3", "\"rec\":\"3\"", 400, "bad_request"},
		{"\"mac\":\"", "\"mac\":\"zz", 422, "bad_record"},
	};
	for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
		char *bad = edit(pay, cases[k].from, cases[k].to);
		body = one(bad);
		g_test_message("case %zu: %s", k, bad);
		refused(ks.id, body, cases[k].status, cases[k].code);
		g_free(body);
		g_free(bad);
	}
	/* A card that is not 16 digits. */
	char *item = edit(lines->pdata[1], CARD_DEMO, "784100002468013");
	body = one(item);
	/* rec 2 is held already, so the shape is checked before the comparison. */
	refused(ks.id, body, 422, "bad_record");
	g_free(body);
	g_free(item);
	refused(ks.id, "{\"records\":[", 400, "bad_json");
	refused(ks.id, "[1,2]", 400, "bad_json");
	refused(ks.id, "\xff\xfe{}", 400, "bad_json");
	/* json-glib recurses once per level: a deep body would exhaust the host's stack. */
	GString *deep = g_string_new("{\"records\":");
	for (int k = 0; k < 100000; k++)
		g_string_append_c(deep, '[');
	refused(ks.id, deep->str, 400, "bad_request");
	g_string_free(deep, TRUE);
	refused(ks.id, "{\"records\":[],\"records\":[]}", 400, "bad_request");
	refused(ks.id, "{\"records\":{}}", 400, "bad_request");
	refused(ks.id, "{}", 400, "bad_request");
	/* More than a batch may hold. */
	GString *many = g_string_new("{\"records\":[");
	for (int k = 0; k < 501; k++)
		g_string_append_printf(many, "%s%s", k ? "," : "", pay);
	g_string_append(many, "]}");
	refused(ks.id, many->str, 400, "bad_request");
	g_string_free(many, TRUE);

	/* Rules between records, on records whose MAC holds (made with the kiosk's own code and
	 * key, as a kiosk with a bug would send them): a payment into a transaction the host does
	 * not hold. */
	uint8_t prev[LEDGER_MAC_BYTES], mac[LEDGER_MAC_BYTES];
	const char *lastmac = strstr(lines->pdata[1], "\"mac\":\"") + 7;
	for (int b = 0; b < LEDGER_MAC_BYTES; b++)
		sscanf(lastmac + 2 * b, "%2hhx", &prev[b]);
	struct ledger_rec_val vals[] = {{LEDGER_REC_INT, 99, NULL}, {LEDGER_REC_TEXT, 0, "cash"},
					{LEDGER_REC_INT, 77, NULL}, {LEDGER_REC_INT, 1000, NULL},
					{LEDGER_REC_INT, 1798761600, NULL}};
	g_assert_cmpint(ledger_rec_mac(ks.key, prev, 3, "payment", vals, 5, mac), ==, 0);
	char hex[65];
	for (int b = 0; b < LEDGER_MAC_BYTES; b++)
		snprintf(hex + 2 * b, 3, "%02x", mac[b]);
	body = g_strdup_printf("{\"records\":[{\"rec\":3,\"type\":\"payment\",\"tx_rec\":99,\"method\":\"cash\","
			       "\"note_id\":77,\"value_fils\":1000,\"at_s\":1798761600,\"mac\":\"%s\"}]}",
			       hex);
	g_assert_cmpint(refused(ks.id, body, 422, "bad_record"), ==, 3);
	g_free(body);
	/* An end crediting more than was paid. */
	struct ledger_rec_val end[] = {{LEDGER_REC_INT, 1, NULL}, {LEDGER_REC_TEXT, 0, "completed"},
				       {LEDGER_REC_INT, 0, NULL}, {LEDGER_REC_INT, 5000, NULL},
				       {LEDGER_REC_INT, 1798761600, NULL}};
	g_assert_cmpint(ledger_rec_mac(ks.key, prev, 3, "tx_end", end, 5, mac), ==, 0);
	for (int b = 0; b < LEDGER_MAC_BYTES; b++)
		snprintf(hex + 2 * b, 3, "%02x", mac[b]);
	body = g_strdup_printf("{\"records\":[{\"rec\":3,\"type\":\"tx_end\",\"tx_rec\":1,\"state\":\"completed\","
			       "\"recovered\":0,\"credited_fils\":5000,\"at_s\":1798761600,\"mac\":\"%s\"}]}",
			       hex);
	g_assert_cmpint(refused(ks.id, body, 422, "bad_record"), ==, 3);
	g_free(body);
	/* The genuine records still apply after all that. */
	body = kfix_batch(lines, 2, lines->len);
	g_assert_cmpuint(upload(ks.id, body, NULL), ==, 200);
	g_free(body);
	hostfix_assert_balances(db);
	g_ptr_array_unref(lines);
	kiosk_free(&ks);
}

/* A record made with the kiosk's own MAC code and key after prev_line (a record of the batch),
 * as a kiosk with a bug would send it: fields is the JSON of its columns in chain order. */
static char *forge(struct kiosk *ks, const char *prev_line, int64_t rec, const char *type,
		   const struct ledger_rec_val *vals, size_t n, const char *fields)
{
	uint8_t prev[LEDGER_MAC_BYTES], mac[LEDGER_MAC_BYTES];
	const char *m = strstr(prev_line, "\"mac\":\"") + 7;
	for (int b = 0; b < LEDGER_MAC_BYTES; b++)
		g_assert_cmpint(sscanf(m + 2 * b, "%2hhx", &prev[b]), ==, 1);
	g_assert_cmpint(ledger_rec_mac(ks->key, prev, rec, type, vals, n, mac), ==, 0);
	char hex[65];
	for (int b = 0; b < LEDGER_MAC_BYTES; b++)
		snprintf(hex + 2 * b, 3, "%02x", mac[b]);
	return g_strdup_printf("{\"rec\":%" G_GINT64_FORMAT ",\"type\":\"%s\",%s,\"mac\":\"%s\"}", rec, type, fields,
			       hex);
}

/* {"records": [lines 0..upto-1, extra]} */
static char *batch_plus(GPtrArray *lines, guint upto, const char *extra)
{
	char *head = kfix_batch(lines, 0, upto);
	head[strlen(head) - 2] = '\0'; /* drop "]}" */
	char *body = g_strdup_printf("%s%s%s]}", head, upto ? "," : "", extra);
	g_free(head);
	return body;
}

/* The ledger's rules between records hold when the transaction arrives in the same batch as
 * the record that breaks them (records.c H7: the batch's own transaction is answered from
 * memory, not from the database): an end crediting what was not paid, a payment after the end,
 * a transaction number that does not follow. Each is refused and changes nothing; the genuine
 * records apply after. */
static void test_rules_in_one_batch(void)
{
	struct kiosk ks;
	kiosk_new(&ks);
	kfix_topup(&ks.k, CARD_ZERO, notes_20); /* tx 1, item 2, payment 3, end 4 */
	GPtrArray *lines = kfix_export(&ks.k, 0);
	g_assert_cmpuint(lines->len, ==, 4);

	/* tx, item, then an end crediting 5000 fils with nothing paid. */
	struct ledger_rec_val end0[] = {{LEDGER_REC_INT, 1, NULL}, {LEDGER_REC_TEXT, 0, "completed"},
					{LEDGER_REC_INT, 0, NULL}, {LEDGER_REC_INT, 5000, NULL},
					{LEDGER_REC_INT, 1798761600, NULL}};
	char *rec = forge(&ks, lines->pdata[1], 3, "tx_end", end0, 5,
			  "\"tx_rec\":1,\"state\":\"completed\",\"recovered\":0,\"credited_fils\":5000,\"at_s\":1798761600");
	char *body = batch_plus(lines, 2, rec);
	g_assert_cmpint(refused(ks.id, body, 422, "bad_record"), ==, 3);
	g_free(body);
	g_free(rec);

	/* tx, item, the 2000 fils payment, then an end crediting 3000. */
	struct ledger_rec_val end1[] = {{LEDGER_REC_INT, 1, NULL}, {LEDGER_REC_TEXT, 0, "completed"},
					{LEDGER_REC_INT, 0, NULL}, {LEDGER_REC_INT, 3000, NULL},
					{LEDGER_REC_INT, 1798761600, NULL}};
	rec = forge(&ks, lines->pdata[2], 4, "tx_end", end1, 5,
		    "\"tx_rec\":1,\"state\":\"completed\",\"recovered\":0,\"credited_fils\":3000,\"at_s\":1798761600");
	body = batch_plus(lines, 3, rec);
	g_assert_cmpint(refused(ks.id, body, 422, "bad_record"), ==, 4);
	g_free(body);
	g_free(rec);

	/* The whole top-up, then a payment into it after its end. */
	struct ledger_rec_val pay[] = {{LEDGER_REC_INT, 1, NULL}, {LEDGER_REC_TEXT, 0, "cash"},
				       {LEDGER_REC_INT, 77, NULL}, {LEDGER_REC_INT, 1000, NULL},
				       {LEDGER_REC_INT, 1798761600, NULL}};
	rec = forge(&ks, lines->pdata[3], 5, "payment", pay, 5,
		    "\"tx_rec\":1,\"method\":\"cash\",\"note_id\":77,\"value_fils\":1000,\"at_s\":1798761600");
	body = batch_plus(lines, 4, rec);
	g_assert_cmpint(refused(ks.id, body, 422, "bad_record"), ==, 5);
	g_free(body);
	g_free(rec);

	/* The whole top-up, then a transaction numbered 3 where 2 is due. */
	struct ledger_rec_val tx[] = {{LEDGER_REC_TEXT, 0, "5b1f4c1e-8d0a-4c55-9d49-3f5d2a7e9b10"},
				      {LEDGER_REC_INT, 3, NULL}, {LEDGER_REC_TEXT, 0, "topup"},
				      {LEDGER_REC_TEXT, 0, "en"}, {LEDGER_REC_INT, 1798761600, NULL}};
	rec = forge(&ks, lines->pdata[3], 5, "tx", tx, 5,
		    "\"uuid\":\"5b1f4c1e-8d0a-4c55-9d49-3f5d2a7e9b10\",\"seq\":3,\"kind\":\"topup\",\"lang\":\"en\","
		    "\"opened_s\":1798761600");
	body = batch_plus(lines, 4, rec);
	g_assert_cmpint(refused(ks.id, body, 422, "bad_record"), ==, 5);
	g_free(body);
	g_free(rec);

	/* The genuine records, all in one batch, apply and credit the card exactly once. */
	int64_t before = balance(CARD_ZERO);
	body = kfix_batch(lines, 0, lines->len);
	g_assert_cmpuint(upload(ks.id, body, NULL), ==, 200);
	g_free(body);
	g_assert_cmpint(balance(CARD_ZERO), ==, before + 2000);
	hostfix_assert_balances(db);
	assert_dump_equals_export(&ks);
	g_ptr_array_unref(lines);
	kiosk_free(&ks);
}

static void test_unknown_card(void)
{
	struct kiosk ks;
	kiosk_new(&ks);
	int64_t before = alarms("card_unregistered");
	kfix_topup(&ks.k, "7841000055556666", notes_150);
	GPtrArray *lines = kfix_export(&ks.k, 0);
	char *body = kfix_batch(lines, 0, lines->len);
	g_assert_cmpuint(upload(ks.id, body, NULL), ==, 200);
	g_assert_cmpint(balance("7841000055556666"), ==, 15000);
	g_assert_cmpint(hostfix_int(db, "SELECT count(*) FROM card WHERE card = '7841000055556666'"
					" AND status = 'unregistered'"),
			==, 1);
	g_assert_cmpint(alarms("card_unregistered"), ==, before + 1);
	/* A blocked card (offline top-up): credited all the same, and an alarm. */
	int64_t blocked_before = alarms("card_blocked"), was = balance("7841000099990002");
	int64_t since = (int64_t)lines->len;
	kfix_topup(&ks.k, "7841000099990002", notes_20);
	GPtrArray *more = kfix_export(&ks.k, since);
	char *more_body = kfix_batch(more, 0, more->len);
	g_assert_cmpuint(upload(ks.id, more_body, NULL), ==, 200);
	g_assert_cmpint(balance("7841000099990002"), ==, was + 2000);
	g_assert_cmpint(alarms("card_blocked"), ==, blocked_before + 1);
	hostfix_assert_balances(db);
	g_free(more_body);
	g_ptr_array_unref(more);
	g_free(body);
	g_ptr_array_unref(lines);
	kiosk_free(&ks);
}

/* Two host processes (two connections) receive the same batch at once: one applies it, the
 * other finds it held (H2, H3). */
struct racer {
	const char *id;
	const char *body;
	unsigned status;
	int64_t applied;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	PGconn *c = hostfix_connect(conninfo);
	struct host_reply reply = {0};
	records_upload(c, r->id, r->body, strlen(r->body), &reply);
	r->status = reply.status;
	JsonParser *p = json_parser_new();
	if (json_parser_load_from_data(p, reply.body, -1, NULL)) {
		JsonObject *o = json_node_get_object(json_parser_get_root(p));
		if (json_object_has_member(o, "applied"))
			r->applied = json_object_get_int_member(o, "applied");
	}
	g_object_unref(p);
	reply_clear(&reply);
	PQfinish(c);
	return NULL;
}

static void test_two_hosts_race(void)
{
	struct kiosk ks;
	kiosk_new(&ks);
	int64_t before = balance(CARD_ZERO);
	for (int k = 0; k < 5; k++)
		kfix_topup(&ks.k, CARD_ZERO, notes_20);
	GPtrArray *lines = kfix_export(&ks.k, 0);
	char *body = kfix_batch(lines, 0, lines->len);
	for (int round = 0; round < 3; round++) {
		struct racer a = {ks.id, body, 0, 0}, b = {ks.id, body, 0, 0};
		pthread_t ta, tb;
		pthread_create(&ta, NULL, race, &a);
		pthread_create(&tb, NULL, race, &b);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		g_assert_cmpuint(a.status, ==, 200);
		g_assert_cmpuint(b.status, ==, 200);
		g_assert_cmpint(a.applied + b.applied, ==, round == 0 ? (int64_t)lines->len : 0);
	}
	g_assert_cmpint(balance(CARD_ZERO), ==, before + 5 * 2000);
	hostfix_assert_balances(db);
	g_free(body);
	g_ptr_array_unref(lines);
	kiosk_free(&ks);
}

/* ---- accounts ---- */

static JsonObject *answer(struct host_reply *r, unsigned status)
{
	g_assert_cmpuint(r->status, ==, status);
	JsonObject *o = NULL;
	if (r->body) {
		JsonParser *p = json_parser_new();
		g_assert_true(json_parser_load_from_data(p, r->body, -1, NULL));
		o = json_object_ref(json_node_get_object(json_parser_get_root(p)));
		g_object_unref(p);
	}
	reply_clear(r);
	return o;
}

static void test_cards_and_fees(void)
{
	struct host_reply r = {0};
	accounts_card(db, CARD_ZERO, &r);
	JsonObject *o = answer(&r, 200);
	g_assert_cmpstr(json_object_get_string_member(o, "status"), ==, "active");
	g_assert_cmpint(member(o, "balance_fils"), ==, balance(CARD_ZERO));
	json_object_unref(o);
	accounts_card(db, "7841000000000000", &r);
	o = answer(&r, 404);
	g_assert_cmpstr(error_code(o), ==, "card_unknown");
	json_object_unref(o);
	accounts_card(db, "78410000", &r);
	o = answer(&r, 400);
	g_assert_cmpstr(error_code(o), ==, "bad_card");
	json_object_unref(o);

	accounts_fee(db, "dewa", "bill", "2000123456", &r);
	o = answer(&r, 200);
	g_assert_cmpstr(json_object_get_string_member(o, "payee"), ==, "M*** A*** K***");
	JsonObject *amount = json_object_get_object_member(o, "amount");
	g_assert_cmpstr(json_object_get_string_member(amount, "kind"), ==, "fixed");
	g_assert_cmpint(member(amount, "due_fils"), ==, 24550);
	json_object_unref(o);
	accounts_fee(db, "police", "fines", "10012345", &r);
	o = answer(&r, 200);
	JsonArray *items = json_object_get_array_member(o, "items");
	g_assert_cmpuint(json_array_get_length(items), ==, 2);
	g_assert_cmpint(member(json_array_get_object_element(items, 0), "amount_fils"), ==, 60000);
	g_assert_cmpint(member(json_array_get_object_element(items, 1), "amount_fils"), ==, 40000);
	json_object_unref(o);
	accounts_fee(db, "salik", "topup", "40012345", &r);
	o = answer(&r, 200);
	amount = json_object_get_object_member(o, "amount");
	g_assert_cmpstr(json_object_get_string_member(amount, "kind"), ==, "open");
	g_assert_cmpint(member(amount, "min_fils"), ==, 5000);
	g_assert_cmpint(member(amount, "step_fils"), ==, 5000);
	g_assert_cmpint(member(amount, "max_fils"), ==, 100000);
	json_object_unref(o);
	static const struct {
		const char *e, *s, *ref;
		unsigned status;
		const char *code;
	} misses[] = {
		{"fewa", "bill", "1", 404, "entity_unknown"},
		{"dewa", "water", "1", 404, "service_unknown"},
		{"dewa", "bill", "2000000000", 404, "reference_unknown"},
		{"dewa", "bill", "20001'23", 400, "bad_request"},
		/* The API's ids take dashes (the kiosk's catalogue has vehicle-renewal): not found, not bad. */
		{"road-x", "vehicle-renewal", "1", 404, "entity_unknown"},
		{"dewa", "vehicle-renewal", "1", 404, "service_unknown"},
		{"dewa", "bill_x", "1", 404, "service_unknown"},
	};
	for (size_t k = 0; k < G_N_ELEMENTS(misses); k++) {
		accounts_fee(db, misses[k].e, misses[k].s, misses[k].ref, &r);
		o = answer(&r, misses[k].status);
		g_assert_cmpstr(error_code(o), ==, misses[k].code);
		json_object_unref(o);
	}
	char *masked = accounts_mask_name("محمد أحمد");
	g_assert_cmpstr(masked, ==, "م*** أ***");
	g_free(masked);
}

static void redeem(const char *kiosk, const char *code, const char *id, int64_t amount, unsigned status,
		   const char *want_code, int64_t remaining)
{
	char *body = g_strdup_printf("{\"code\":\"%s\",\"redemption_id\":\"%s\","
				     "\"tx_uuid\":\"0f8e2c4a-1b2d-4c3e-9f00-123456789abc\",\"amount_fils\":%" G_GINT64_FORMAT
				     "}",
				     code, id, amount);
	struct host_reply r = {0};
	accounts_voucher_redeem(db, kiosk, body, strlen(body), &r);
	JsonObject *o = answer(&r, status);
	if (want_code)
		g_assert_cmpstr(error_code(o), ==, want_code);
	else
		g_assert_cmpint(member(o, "remaining_fils"), ==, remaining);
	json_object_unref(o);
	g_free(body);
}

static void test_vouchers(void)
{
	struct kiosk ks;
	kiosk_new(&ks);
	static const struct {
		const char *code;
		unsigned status;
		const char *err;
	} checks[] = {
		{"9135724680246804", 200, NULL},
		{"9382716059483720", 409, "voucher_spent"},
		{"9473625180937462", 410, "voucher_expired"},
		{"9100000000000003", 404, "voucher_unknown"},
	};
	for (size_t k = 0; k < G_N_ELEMENTS(checks); k++) {
		char *body = g_strdup_printf("{\"code\":\"%s\"}", checks[k].code);
		struct host_reply r = {0};
		accounts_voucher_validate(db, body, strlen(body), &r);
		JsonObject *o = answer(&r, checks[k].status);
		if (checks[k].err)
			g_assert_cmpstr(error_code(o), ==, checks[k].err);
		else
			g_assert_cmpint(member(o, "value_fils"), ==, 5000);
		json_object_unref(o);
		g_free(body);
	}
	const char *id1 = "6f1c2d3e-4b5a-4c6d-8e7f-901234567890", *id2 = "7f1c2d3e-4b5a-4c6d-8e7f-901234567890";
	redeem(ks.id, "9260482601593711", id1, 5000, 200, NULL, 15000);
	char *snap = hostfix_snapshot(db);
	/* The same redemption again answers the first answer, and spends nothing more. */
	redeem(ks.id, "9260482601593711", id1, 5000, 200, NULL, 15000);
	/* The same id with another body. */
	redeem(ks.id, "9260482601593711", id1, 6000, 422, "idempotency_mismatch", 0);
	redeem(ks.id, "9135724680246804", id1, 5000, 422, "idempotency_mismatch", 0);
	char *after = hostfix_snapshot(db);
	g_assert_cmpstr(snap, ==, after);
	redeem(ks.id, "9260482601593711", id2, 20000, 409, "voucher_spent", 0);
	redeem(ks.id, "9382716059483720", id2, 1000, 409, "voucher_spent", 0);
	redeem(ks.id, "9473625180937462", id2, 1000, 410, "voucher_expired", 0);
	redeem(ks.id, "9100000000000003", id2, 1000, 404, "voucher_unknown", 0);
	struct host_reply r = {0};
	accounts_voucher_redeem(db, ks.id, "{\"code\":\"9260482601593711\"}", 27, &r);
	JsonObject *o = answer(&r, 400);
	g_assert_cmpstr(error_code(o), ==, "bad_request");
	json_object_unref(o);
	g_free(snap);
	g_free(after);
	kiosk_free(&ks);
}

/* The same redemption sent twice at once (a kiosk's retry racing its first attempt through
 * two host processes): both answered the same, the voucher spent once; and two different
 * redemptions of one voucher at once never spend more than it holds. */
struct redeemer {
	const char *kiosk, *body;
	unsigned status;
	int64_t remaining;
};

static void *redeem_thread(void *arg)
{
	struct redeemer *r = arg;
	PGconn *c = hostfix_connect(conninfo);
	struct host_reply reply = {0};
	accounts_voucher_redeem(c, r->kiosk, r->body, strlen(r->body), &reply);
	r->status = reply.status;
	JsonParser *p = json_parser_new();
	if (reply.body && json_parser_load_from_data(p, reply.body, -1, NULL)) {
		JsonObject *o = json_node_get_object(json_parser_get_root(p));
		if (json_object_has_member(o, "remaining_fils"))
			r->remaining = json_object_get_int_member(o, "remaining_fils");
	}
	g_object_unref(p);
	reply_clear(&reply);
	PQfinish(c);
	return NULL;
}

static void test_voucher_race(void)
{
	struct kiosk ks;
	kiosk_new(&ks);
	hostfix_exec(db, "INSERT INTO voucher VALUES ('RACE-1', 10000, 10000, '2099-12-31'),"
			 " ('RACE-2', 10000, 10000, '2099-12-31')");
	/* Three rounds: the race is a matter of timing (one round failed 2 runs in 3 before the fix). */
	for (int round = 1; round <= 3; round++) {
		char *same = g_strdup_printf("{\"code\":\"RACE-1\",\"redemption_id\":\"2a2b3c4d-0000-4000-8000-00000000000%d\","
					     "\"tx_uuid\":\"2a2b3c4d-0000-4000-8000-0000000000ff\",\"amount_fils\":3000}",
					     round);
		struct redeemer a = {ks.id, same, 0, -1}, b = {ks.id, same, 0, -1};
		pthread_t ta, tb;
		pthread_create(&ta, NULL, redeem_thread, &a);
		pthread_create(&tb, NULL, redeem_thread, &b);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		g_assert_cmpuint(a.status, ==, 200);
		g_assert_cmpuint(b.status, ==, 200);
		g_assert_cmpint(a.remaining, ==, 10000 - 3000 * round);
		g_assert_cmpint(b.remaining, ==, 10000 - 3000 * round);
		g_free(same);
	}
	g_assert_cmpint(hostfix_int(db, "SELECT remaining_fils FROM voucher WHERE code = 'RACE-1'"), ==, 1000);
	pthread_t ta, tb;
	const char *one = "{\"code\":\"RACE-2\",\"redemption_id\":\"3a2b3c4d-0000-4000-8000-000000000001\","
			  "\"tx_uuid\":\"3a2b3c4d-0000-4000-8000-0000000000ff\",\"amount_fils\":6000}";
	const char *two = "{\"code\":\"RACE-2\",\"redemption_id\":\"3a2b3c4d-0000-4000-8000-000000000002\","
			  "\"tx_uuid\":\"3a2b3c4d-0000-4000-8000-0000000000fe\",\"amount_fils\":6000}";
	struct redeemer c1 = {ks.id, one, 0, -1}, c2 = {ks.id, two, 0, -1};
	pthread_create(&ta, NULL, redeem_thread, &c1);
	pthread_create(&tb, NULL, redeem_thread, &c2);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	g_assert_true((c1.status == 200) != (c2.status == 200));
	g_assert_cmpuint(c1.status == 200 ? c2.status : c1.status, ==, 409);
	g_assert_cmpint(hostfix_int(db, "SELECT remaining_fils FROM voucher WHERE code = 'RACE-2'"), ==, 4000);
	kiosk_free(&ks);
}

/* POST /v1/payments below HTTP: the answer text (g_free) for kiosk's body, with status. */
static char *pay(const char *kiosk, const char *body, unsigned status)
{
	struct host_reply r = {0};
	payments_post(db, kiosk, body, strlen(body), &r);
	g_assert_cmpint(PQtransactionStatus(db), ==, PQTRANS_IDLE);
	if (r.status != status)
		g_error("payment answered %u, not %u: %s", r.status, status, r.body);
	char *text = r.body;
	r.body = NULL;
	reply_clear(&r);
	return text;
}

/* Line n's status and its host_ref or reason, from an answer's text. */
static void line_of(const char *answer, int n, char *status, char *detail)
{
	JsonParser *p = json_parser_new();
	g_assert_true(json_parser_load_from_data(p, answer, -1, NULL));
	JsonArray *lines = json_object_get_array_member(json_node_get_object(json_parser_get_root(p)), "lines");
	JsonObject *l = json_array_get_object_element(lines, (guint)n - 1);
	g_assert_cmpint(json_object_get_int_member(l, "n"), ==, n);
	strcpy(status, json_object_get_string_member(l, "status"));
	strcpy(detail, json_object_get_string_member(l, strcmp(status, "paid") == 0 ? "host_ref" : "reason"));
	g_object_unref(p);
}

static void assert_line(const char *answer, int n, const char *status, const char *reason)
{
	char st[16], detail[64];
	line_of(answer, n, st, detail);
	if (strcmp(st, status) != 0 || (reason && strcmp(detail, reason) != 0))
		g_error("line %d: %s %s, not %s %s (%s)", n, st, detail, status, reason ? reason : "", answer);
	if (!reason)
		g_assert_true(g_str_has_prefix(detail, "P-"));
}

#define PAY_UUID_1 "5a5b5c5d-0000-4000-8000-000000000001"
#define PAY_UUID_2 "5a5b5c5d-0000-4000-8000-000000000002"
#define PAY_UUID_3 "5a5b5c5d-0000-4000-8000-000000000003"

static void test_payments(void)
{
	struct kiosk ks, other;
	kiosk_new(&ks);
	kiosk_new(&other);
	hostfix_exec(db, "INSERT INTO fee_account (entity, service, reference, payee, description, kind, due_fils) VALUES"
			 " ('dewa', 'bill', '2000777777', 'Amal Noor', 'Electricity and water bill', 'fixed', 30000),"
			 " ('dewa', 'bill', '2000888888', 'Amal Noor', 'Electricity and water bill', 'fixed', 5000);"
			 "INSERT INTO fee_account (entity, service, reference, payee, description, kind) VALUES"
			 " ('police', 'fines', '10077777', 'Omar Saleh', 'Traffic fines', 'items');"
			 "INSERT INTO fee_item (entity, service, reference, id, description, amount_fils) VALUES"
			 " ('police', 'fines', '10077777', 'G-1', 'Speeding', 10000),"
			 " ('police', 'fines', '10077777', 'G-2', 'Parking', 20000)");
	const char *basket =
		"{\"tx_uuid\": \"" PAY_UUID_1 "\", \"lines\": ["
		"{\"n\": 1, \"entity\": \"dewa\", \"service\": \"bill\", \"reference\": \"2000777777\", \"bill\": null,"
		" \"amount_fils\": 30000},"
		"{\"n\": 2, \"entity\": \"police\", \"service\": \"fines\", \"reference\": \"10077777\", \"bill\": \"G-1\","
		" \"amount_fils\": 10000},"
		"{\"n\": 3, \"entity\": \"police\", \"service\": \"fines\", \"reference\": \"10077777\", \"bill\": \"G-2\","
		" \"amount_fils\": 20000},"
		"{\"n\": 4, \"entity\": \"salik\", \"service\": \"topup\", \"reference\": \"40012345\", \"amount_fils\": 15000},"
		"{\"n\": 5, \"entity\": \"police\", \"service\": \"good-conduct\", \"reference\": null, \"bill\": null,"
		" \"amount_fils\": 22000},"
		"{\"n\": 6, \"entity\": \"rta\", \"service\": \"vehicle-renewal\", \"reference\": \"55501\","
		" \"amount_fils\": 45000},"
		"{\"n\": 7, \"entity\": \"courts\", \"service\": \"case-fee\", \"reference\": \"2026-77\","
		" \"amount_fils\": 12300}]}";
	char *first = pay(ks.id, basket, 200);
	for (int n = 1; n <= 7; n++)
		assert_line(first, n, "paid", NULL);
	g_assert_cmpint(hostfix_int(db, "SELECT count(DISTINCT host_ref) FROM fee_payment_line WHERE tx_uuid = '" PAY_UUID_1
					"'"),
			==, 7);
	/* Answered bills stay paid: the inquiry owes nothing and lists no paid item. */
	struct host_reply r = {0};
	accounts_fee(db, "dewa", "bill", "2000777777", &r);
	JsonObject *o = answer(&r, 200);
	g_assert_cmpint(member(json_object_get_object_member(o, "amount"), "due_fils"), ==, 0);
	json_object_unref(o);
	accounts_fee(db, "police", "fines", "10077777", &r);
	o = answer(&r, 200);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "items")), ==, 0);
	json_object_unref(o);

	/* The same body again: the first answer, nothing changed; another body or another kiosk:
	 * 422, nothing changed. */
	char *snap = hostfix_snapshot(db);
	char *again = pay(ks.id, basket, 200);
	g_assert_cmpstr(again, ==, first);
	char *spaced = g_strdup_printf("  %s  ", basket); /* same JSON, other bytes */
	g_free(pay(ks.id, spaced, 200));
	g_free(spaced);
	char *upper = g_strdup(basket);
	memcpy(strstr(upper, PAY_UUID_1), "5A5B5C5D", 8); /* the key without case */
	g_free(pay(ks.id, upper, 200));
	g_free(upper);
	char *changed = g_strdup(basket);
	memcpy(strstr(changed, "15000"), "20000", 5);
	char *e = pay(ks.id, changed, 422);
	g_assert_nonnull(strstr(e, "idempotency_mismatch"));
	g_free(e);
	g_free(changed);
	e = pay(other.id, basket, 422);
	g_assert_nonnull(strstr(e, "idempotency_mismatch"));
	g_free(e);
	char *after = hostfix_snapshot(db);
	g_assert_cmpstr(snap, ==, after);
	g_free(after);

	/* Each refusal, with its reason; the basket's other lines are still paid. */
	const char *refusals =
		"{\"tx_uuid\": \"" PAY_UUID_2 "\", \"lines\": ["
		"{\"n\": 1, \"entity\": \"dewa\", \"service\": \"bill\", \"reference\": \"2000777777\", \"amount_fils\": 30000},"
		"{\"n\": 2, \"entity\": \"police\", \"service\": \"fines\", \"reference\": \"10077777\", \"bill\": \"G-1\","
		" \"amount_fils\": 10000},"
		"{\"n\": 3, \"entity\": \"police\", \"service\": \"fines\", \"reference\": \"10077777\", \"bill\": \"G-9\","
		" \"amount_fils\": 10000},"
		"{\"n\": 4, \"entity\": \"police\", \"service\": \"fines\", \"reference\": \"10077777\", \"amount_fils\": 10000},"
		"{\"n\": 5, \"entity\": \"dewa\", \"service\": \"bill\", \"reference\": \"2000999999\", \"amount_fils\": 100},"
		"{\"n\": 6, \"entity\": \"salik\", \"service\": \"topup\", \"reference\": \"40012345\", \"amount_fils\": 7000},"
		"{\"n\": 7, \"entity\": \"salik\", \"service\": \"topup\", \"reference\": \"40012345\", \"amount_fils\": 105000},"
		"{\"n\": 8, \"entity\": \"dewa\", \"service\": \"bill\", \"reference\": \"2000888888\", \"amount_fils\": 4000},"
		"{\"n\": 9, \"entity\": \"water\", \"service\": \"bill\", \"reference\": \"1\", \"amount_fils\": 100},"
		"{\"n\": 10, \"entity\": \"dewa\", \"service\": \"gas\", \"reference\": \"1\", \"amount_fils\": 100}]}";
	char *ans = pay(ks.id, refusals, 200);
	static const char *const reasons[] = {"already_paid",	   "already_paid",  "bill_unknown",    "bill_unknown",
					      "reference_unknown", "out_of_bounds", "out_of_bounds",   "amount_mismatch",
					      "entity_unknown",	   "service_unknown"};
	for (int n = 1; n <= 10; n++)
		assert_line(ans, n, "refused", reasons[n - 1]);
	g_free(ans);
	/* The catalogue's prices: a fixed fee for another amount, an open one off its step, an
	 * account service without its reference. */
	const char *tariffs =
		"{\"tx_uuid\": \"5a5b5c5d-0000-4000-8000-000000000004\", \"lines\": ["
		"{\"n\": 1, \"entity\": \"police\", \"service\": \"good-conduct\", \"amount_fils\": 21000},"
		"{\"n\": 2, \"entity\": \"courts\", \"service\": \"case-fee\", \"reference\": \"1\", \"amount_fils\": 10050},"
		"{\"n\": 3, \"entity\": \"courts\", \"service\": \"case-fee\", \"amount_fils\": 9900},"
		"{\"n\": 4, \"entity\": \"dewa\", \"service\": \"bill\", \"amount_fils\": 24550}]}";
	ans = pay(ks.id, tariffs, 200);
	assert_line(ans, 1, "refused", "amount_mismatch");
	assert_line(ans, 2, "refused", "out_of_bounds");
	assert_line(ans, 3, "refused", "out_of_bounds");
	assert_line(ans, 4, "refused", "reference_unknown");
	g_free(ans);
	/* One basket naming one item twice pays it once. */
	const char *twice =
		"{\"tx_uuid\": \"" PAY_UUID_3 "\", \"lines\": ["
		"{\"n\": 1, \"entity\": \"dewa\", \"service\": \"bill\", \"reference\": \"2000888888\", \"amount_fils\": 5000},"
		"{\"n\": 2, \"entity\": \"dewa\", \"service\": \"bill\", \"reference\": \"2000888888\", \"amount_fils\": 5000}]}";
	ans = pay(ks.id, twice, 200);
	assert_line(ans, 1, "paid", NULL);
	assert_line(ans, 2, "refused", "already_paid");
	g_free(ans);

	/* Bodies refused whole (400), changing nothing. */
	g_free(snap);
	snap = hostfix_snapshot(db);
	static const char *const bad[] = {
		"{\"tx_uuid\": \"" PAY_UUID_3 "x\", \"lines\": []}",
		"{\"tx_uuid\": \"5a5b5c5d-0000-4000-8000-000000000009\", \"lines\": []}",
		"{\"tx_uuid\": \"5a5b5c5d-0000-4000-8000-000000000009\", \"lines\": [{\"n\": 2, \"entity\": \"dewa\","
		" \"service\": \"bill\", \"amount_fils\": 100}]}",
		"{\"tx_uuid\": \"5a5b5c5d-0000-4000-8000-000000000009\", \"lines\": [{\"n\": 1, \"entity\": \"dewa\","
		" \"service\": \"bill\", \"amount_fils\": 0}]}",
		"{\"tx_uuid\": \"5a5b5c5d-0000-4000-8000-000000000009\", \"lines\": [{\"n\": 1, \"entity\": \"dewa\","
		" \"service\": \"bill\", \"amount_fils\": 100.5}]}",
		"{\"tx_uuid\": \"5a5b5c5d-0000-4000-8000-000000000009\", \"lines\": [{\"n\": 1, \"entity\": \"DEWA\","
		" \"service\": \"bill\", \"amount_fils\": 100}]}",
		"{\"tx_uuid\": \"5a5b5c5d-0000-4000-8000-000000000009\", \"lines\": [{\"n\": 1, \"entity\": \"dewa\","
		" \"service\": \"bill\", \"reference\": \"\", \"amount_fils\": 100}]}",
		"{\"tx_uuid\": \"5a5b5c5d-0000-4000-8000-000000000009\", \"lines\": [{\"n\": 1, \"entity\": \"dewa\","
		" \"service\": \"bill\", \"bill\": \"a b\", \"amount_fils\": 100}]}",
	};
	for (size_t k = 0; k < G_N_ELEMENTS(bad); k++)
		g_free(pay(ks.id, bad[k], 400));
	GString *eleven = g_string_new("{\"tx_uuid\": \"5a5b5c5d-0000-4000-8000-000000000009\", \"lines\": [");
	for (int n = 1; n <= 11; n++)
		g_string_append_printf(eleven, "%s{\"n\": %d, \"entity\": \"dewa\", \"service\": \"bill\", \"amount_fils\": 1}",
				       n > 1 ? ", " : "", n);
	g_string_append(eleven, "]}");
	g_free(pay(ks.id, eleven->str, 400));
	g_string_free(eleven, TRUE);
	after = hostfix_snapshot(db);
	g_assert_cmpstr(snap, ==, after);
	g_free(snap);
	g_free(after);
	g_free(first);
	g_free(again);
	kiosk_free(&ks);
	kiosk_free(&other);
}

/* A kiosk's retry racing its first attempt through two host processes: both get the first
 * answer, the bill is paid once; two baskets paying one bill at once: one pays, one is refused. */
struct payer {
	const char *kiosk, *body;
	unsigned status;
	char *answer;
};

static void *pay_thread(void *arg)
{
	struct payer *p = arg;
	PGconn *c = hostfix_connect(conninfo);
	struct host_reply reply = {0};
	payments_post(c, p->kiosk, p->body, strlen(p->body), &reply);
	p->status = reply.status;
	p->answer = g_strdup(reply.body);
	reply_clear(&reply);
	PQfinish(c);
	return NULL;
}

static void test_payment_race(void)
{
	struct kiosk ks;
	kiosk_new(&ks);
	for (int round = 1; round <= 3; round++) {
		char *setup = g_strdup_printf("INSERT INTO fee_account (entity, service, reference, payee, description, kind,"
					      " due_fils) VALUES ('dewa', 'bill', '300000000%d', 'R', 'd', 'fixed', 1000),"
					      " ('dewa', 'bill', '310000000%d', 'R', 'd', 'fixed', 1000)",
					      round, round);
		hostfix_exec(db, setup);
		g_free(setup);
		char *same = g_strdup_printf("{\"tx_uuid\": \"6a5b5c5d-0000-4000-8000-00000000000%d\", \"lines\": [{\"n\": 1,"
					     " \"entity\": \"dewa\", \"service\": \"bill\", \"reference\": \"300000000%d\","
					     " \"amount_fils\": 1000}]}",
					     round, round);
		struct payer a = {ks.id, same, 0, NULL}, b = {ks.id, same, 0, NULL};
		pthread_t ta, tb;
		pthread_create(&ta, NULL, pay_thread, &a);
		pthread_create(&tb, NULL, pay_thread, &b);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		g_assert_cmpuint(a.status, ==, 200);
		g_assert_cmpuint(b.status, ==, 200);
		g_assert_cmpstr(a.answer, ==, b.answer);
		assert_line(a.answer, 1, "paid", NULL);
		g_free(a.answer);
		g_free(b.answer);
		g_free(same);
		char *one = g_strdup_printf("{\"tx_uuid\": \"7a5b5c5d-0000-4000-8000-00000000000%d\", \"lines\": [{\"n\": 1,"
					    " \"entity\": \"dewa\", \"service\": \"bill\", \"reference\": \"310000000%d\","
					    " \"amount_fils\": 1000}]}",
					    round, round);
		char *two = g_strdup_printf("{\"tx_uuid\": \"8a5b5c5d-0000-4000-8000-00000000000%d\", \"lines\": [{\"n\": 1,"
					    " \"entity\": \"dewa\", \"service\": \"bill\", \"reference\": \"310000000%d\","
					    " \"amount_fils\": 1000}]}",
					    round, round);
		struct payer c1 = {ks.id, one, 0, NULL}, c2 = {ks.id, two, 0, NULL};
		pthread_create(&ta, NULL, pay_thread, &c1);
		pthread_create(&tb, NULL, pay_thread, &c2);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		g_assert_cmpuint(c1.status, ==, 200);
		g_assert_cmpuint(c2.status, ==, 200);
		char s1[16], s2[16], d[64];
		line_of(c1.answer, 1, s1, d);
		line_of(c2.answer, 1, s2, d);
		g_assert_true((strcmp(s1, "paid") == 0) != (strcmp(s2, "paid") == 0));
		g_free(c1.answer);
		g_free(c2.answer);
		g_free(one);
		g_free(two);
	}
	g_assert_cmpint(hostfix_int(db, "SELECT count(*) FROM fee_payment_line WHERE reference LIKE '3%' AND status = 'paid'"),
			==, 6);
	kiosk_free(&ks);
}

static void test_catalogue_and_heartbeat(void)
{
	struct host_reply r = {0};
	accounts_catalogue(db, NULL, &r);
	g_assert_cmpuint(r.status, ==, 200);
	char etag[80];
	g_assert_cmpuint(strlen(r.etag), >, 2);
	g_strlcpy(etag, r.etag, sizeof(etag));
	/* docs/host-api.yaml, Catalogue: the kiosk's shipped files as one document, which the
	 * kiosk's own parser takes (host/catalogue.c). */
	struct catalogue *cat = NULL, *files = NULL;
	struct kio_error cerr = {0};
	if (catalogue_parse(r.body, strlen(r.body), "host catalogue", &cat, &cerr) != 0)
		g_error("the served catalogue: %s", cerr.msg);
	g_assert_cmpint(catalogue_load_dir(host_catalogue_default_dir(), &files, &cerr), ==, 0);
	g_assert_cmpuint(cat->n_entities, ==, files->n_entities);
	g_assert_nonnull(catalogue_service(catalogue_entity(cat, "police"), "police-fines"));
	catalogue_free(cat);
	catalogue_free(files);
	reply_clear(&r);
	accounts_catalogue(db, etag, &r);
	g_assert_cmpuint(r.status, ==, 304);
	g_assert_null(r.body);
	reply_clear(&r);
	accounts_catalogue(db, "\"stale\"", &r);
	g_assert_cmpuint(r.status, ==, 200);
	reply_clear(&r);

	struct kiosk ks;
	kiosk_new(&ks);
	const char *hb = "{\"version\":\"0.1.0\",\"queue_depth\":3,\"oldest_unsynced_s\":1765000000,"
			 "\"devices\":{\"cash\":\"ok\",\"receipt\":\"paper-out\"},\"sent_s\":1765000100,\"extra\":[1]}";
	accounts_heartbeat(db, ks.id, hb, strlen(hb), 1765000101, &r);
	JsonObject *o = answer(&r, 200);
	g_assert_cmpint(member(o, "server_time_s"), ==, 1765000101);
	json_object_unref(o);
	accounts_heartbeat(db, ks.id, hb, strlen(hb), 1765000102, &r);
	json_object_unref(answer(&r, 200));
	char *sql = g_strdup_printf("SELECT beats * 1000 + queue_depth FROM heartbeat WHERE kiosk_id = '%s'"
				    " AND devices->>'receipt' = 'paper-out'",
				    ks.id);
	g_assert_cmpint(hostfix_int(db, sql), ==, 2003);
	g_free(sql);
	const char *bad = "{\"version\":\"0.1.0\",\"queue_depth\":-1,\"oldest_unsynced_s\":null,\"devices\":{},\"sent_s\":1}";
	accounts_heartbeat(db, ks.id, bad, strlen(bad), 1, &r);
	o = answer(&r, 400);
	g_assert_cmpstr(error_code(o), ==, "bad_request");
	json_object_unref(o);
	kiosk_free(&ks);
}

static void test_migrate_and_demo_again(void)
{
	/* Both are idempotent: a second run changes nothing. */
	char *before = hostfix_snapshot(db);
	int applied = -1;
	struct kio_error err;
	g_assert_cmpint(hdb_migrate(db, &applied, &err), ==, 0);
	g_assert_cmpint(applied, ==, 0);
	g_assert_cmpint(demo_load(db, &err), ==, 0);
	char *after = hostfix_snapshot(db);
	g_assert_cmpstr(before, ==, after);
	g_free(before);
	g_free(after);
}

/* Two hosts starting together on a fresh database: both migrations succeed, each migration
 * runs once (the advisory lock). */
struct migrator {
	const char *conninfo;
	int rc, applied;
};

static void *migrate_thread(void *arg)
{
	struct migrator *m = arg;
	PGconn *c = hostfix_connect(m->conninfo);
	struct kio_error err;
	m->rc = hdb_migrate(c, &m->applied, &err);
	if (m->rc)
		g_printerr("%s\n", err.msg);
	PQfinish(c);
	return NULL;
}

static void test_concurrent_migrate(void)
{
	/* A few rounds: the race is a matter of timing (before the fix it failed 2 runs in 3 with
	 * one round). */
	for (int round = 0; round < 4; round++) {
		hostfix_exec(db, "DROP DATABASE IF EXISTS fresh");
		hostfix_exec(db, "CREATE DATABASE fresh");
		char *fresh = g_strdup_printf("%s dbname=fresh", conninfo);
		struct migrator a = {fresh, -1, -1}, b = {fresh, -1, -1};
		pthread_t ta, tb;
		pthread_create(&ta, NULL, migrate_thread, &a);
		pthread_create(&tb, NULL, migrate_thread, &b);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		g_assert_cmpint(a.rc, ==, 0);
		g_assert_cmpint(b.rc, ==, 0);
		g_assert_cmpint(a.applied + b.applied, ==, hdb_schema_latest());
		PGconn *c = hostfix_connect(fresh);
		int version = 0;
		struct kio_error err;
		g_assert_cmpint(hdb_schema_version(c, &version, &err), ==, 0);
		g_assert_cmpint(version, ==, hdb_schema_latest());
		g_assert_cmpint(hostfix_int(c, "SELECT count(*) FROM schema_migration"), ==, hdb_schema_latest());
		PQfinish(c);
		g_free(fresh);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	int rc = hostfix_cluster_start(&cluster_dir, &conninfo);
	if (rc == 77)
		return 77;
	db = hostfix_connect(conninfo);
	struct kio_error err;
	if (demo_load(db, &err) != 0)
		g_error("%s", err.msg);
	g_test_add_func("/hostd/records/happy-and-replay", test_happy_and_replay);
	g_test_add_func("/hostd/records/order-and-gaps", test_order_and_gaps);
	g_test_add_func("/hostd/records/conflict-and-chain", test_conflict_and_chain);
	g_test_add_func("/hostd/records/bad-bodies", test_bad_bodies);
	g_test_add_func("/hostd/records/rules-in-one-batch", test_rules_in_one_batch);
	g_test_add_func("/hostd/records/unknown-card", test_unknown_card);
	g_test_add_func("/hostd/records/two-hosts-race", test_two_hosts_race);
	g_test_add_func("/hostd/accounts/cards-and-fees", test_cards_and_fees);
	g_test_add_func("/hostd/accounts/vouchers", test_vouchers);
	g_test_add_func("/hostd/accounts/voucher-race", test_voucher_race);
	g_test_add_func("/hostd/accounts/catalogue-and-heartbeat", test_catalogue_and_heartbeat);
	g_test_add_func("/hostd/accounts/payments", test_payments);
	g_test_add_func("/hostd/accounts/payment-race", test_payment_race);
	g_test_add_func("/hostd/db/migrate-and-demo-again", test_migrate_and_demo_again);
	g_test_add_func("/hostd/db/concurrent-migrate", test_concurrent_migrate);
	rc = g_test_run();
	PQfinish(db);
	hostfix_cluster_stop(cluster_dir);
	g_free(conninfo);
	return rc;
}
