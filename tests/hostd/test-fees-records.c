/*
 * The host applying a fees transaction's records (issue 13; host/records.c H8, H9) on a real
 * PostgreSQL, below HTTP. The records are built column by column (so a test can write what a
 * kiosk's ledger never would) and chained with the kiosk's key by the ledger's own
 * ledger_rec_mac; the first test holds the ledger's basket columns to CONTRACT-13.md's table.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "host/accounts.h"
#include "host/db.h"
#include "host/demo.h"
#include "host/payments.h"
#include "host/records.h"
#include "kiosk/ledger/basket.h"
#include "kiosk/ledger/chain.h"
#include "kiosk/ledger/recmac.h"
#include "kiosk/ledger/tx.h"
#include "host/wire.h"
#include "hostfix.h"

#define CARD_ZERO "7841000013579022"
#define NOW 1798761600

static char *conninfo, *cluster_dir;
static PGconn *db;
static int kiosk_count;

/* A kiosk at the host, and the chain it writes: records are built, chained and kept as the
 * export lines they would be; a mark lets a test try a bad record and go back. */
struct chain {
	char id[16];
	uint8_t key[LEDGER_KEY_BYTES];
	uint8_t prev[LEDGER_MAC_BYTES];
	int64_t rec;
	GPtrArray *lines; /* export lines not yet sent */
};

static void chain_new(struct chain *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "K-F%03d", ++kiosk_count);
	for (int k = 0; k < LEDGER_KEY_BYTES; k++)
		c->key[k] = (uint8_t)g_random_int();
	char hex[65];
	for (int k = 0; k < LEDGER_KEY_BYTES; k++)
		snprintf(hex + 2 * k, 3, "%02x", c->key[k]);
	char *sql = g_strdup_printf("INSERT INTO kiosk (kiosk_id, chain_key) VALUES ('%s', decode('%s', 'hex'));"
				    "INSERT INTO kiosk_sync (kiosk_id) VALUES ('%s')",
				    c->id, hex, c->id);
	hostfix_exec(db, sql);
	g_free(sql);
	c->lines = g_ptr_array_new_with_free_func(g_free);
}

static void chain_free(struct chain *c) { g_ptr_array_unref(c->lines); }

/* Values: 'i' int64, 's' text (NULL: null), in the table's column order. Returns its rec. */
static int64_t add(struct chain *c, const char *table, const char *types, ...)
{
	struct wire_record r = {0};
	const char *const *cols;
	g_assert_cmpint(ledger_rec_columns(table, &cols, &r.n_cols), ==, 0);
	g_assert_cmpuint(strlen(types), ==, r.n_cols);
	r.rec = ++c->rec;
	r.type = table;
	r.cols = cols;
	va_list ap;
	va_start(ap, types);
	for (size_t k = 0; k < r.n_cols; k++) {
		if (types[k] == 'i') {
			r.vals[k] = (struct ledger_rec_val){LEDGER_REC_INT, va_arg(ap, int64_t), NULL};
		} else {
			const char *s = va_arg(ap, const char *);
			r.vals[k] = s ? (struct ledger_rec_val){LEDGER_REC_TEXT, 0, s} : (struct ledger_rec_val){LEDGER_REC_NULL, 0, NULL};
		}
	}
	va_end(ap);
	g_assert_cmpint(ledger_rec_mac(c->key, c->prev, r.rec, table, r.vals, r.n_cols, r.mac), ==, 0);
	for (int k = 0; k < LEDGER_MAC_BYTES; k++)
		snprintf(r.mac_hex + 2 * k, 3, "%02x", r.mac[k]);
	memcpy(c->prev, r.mac, LEDGER_MAC_BYTES);
	g_ptr_array_add(c->lines, wire_record_json(&r));
	return r.rec;
}

struct mark {
	uint8_t prev[LEDGER_MAC_BYTES];
	int64_t rec;
	guint lines;
};

static struct mark mark(const struct chain *c)
{
	struct mark m;
	memcpy(m.prev, c->prev, sizeof(m.prev));
	m.rec = c->rec;
	m.lines = c->lines->len;
	return m;
}

static void back_to(struct chain *c, const struct mark *m)
{
	memcpy(c->prev, m->prev, sizeof(c->prev));
	c->rec = m->rec;
	g_ptr_array_set_size(c->lines, m->lines);
}

static unsigned send(struct chain *c, char **code)
{
	GString *body = g_string_new("{\"records\":[");
	for (guint k = 0; k < c->lines->len; k++)
		g_string_append_printf(body, "%s%s", k ? "," : "", (char *)c->lines->pdata[k]);
	g_string_append(body, "]}");
	struct host_reply r = {0};
	records_upload(db, c->id, body->str, body->len, &r);
	g_assert_cmpint(PQtransactionStatus(db), ==, PQTRANS_IDLE);
	unsigned status = r.status;
	if (code) {
		JsonParser *p = json_parser_new();
		g_assert_true(json_parser_load_from_data(p, r.body, -1, NULL));
		JsonObject *o = json_node_get_object(json_parser_get_root(p));
		*code = json_object_has_member(o, "error")
				? g_strdup_printf("%s: %s",
						  json_object_get_string_member(json_object_get_object_member(o, "error"), "code"),
						  json_object_get_string_member(json_object_get_object_member(o, "error"), "message"))
				: g_strdup("ok");
		g_object_unref(p);
	}
	reply_clear(&r);
	g_string_free(body, TRUE);
	return status;
}

/* Sends what is pending; it must be applied. */
static void sent_ok(struct chain *c)
{
	char *why = NULL;
	unsigned st = send(c, &why);
	if (st != 200)
		g_error("%s: %u %s", c->id, st, why);
	g_free(why);
	g_ptr_array_set_size(c->lines, 0);
}

/* Sends what is pending; it must be refused 422 bad_record with want in the message, changing
 * nothing; then the chain goes back to m. */
static void refused_back(struct chain *c, const struct mark *m, const char *want)
{
	char *before = hostfix_snapshot(db), *why = NULL;
	int64_t alarms = hostfix_int(db, "SELECT count(*) FROM alarm");
	unsigned st = send(c, &why);
	if (st != 422 || !strstr(why, "bad_record") || !strstr(why, want))
		g_error("%s: %u %s, not 422 bad_record '%s'", c->id, st, why, want);
	char *after = hostfix_snapshot(db);
	g_assert_cmpstr(before, ==, after);
	g_assert_cmpint(hostfix_int(db, "SELECT count(*) FROM alarm"), ==, alarms);
	g_free(before);
	g_free(after);
	g_free(why);
	back_to(c, m);
}

static int64_t alarms(const char *code)
{
	char *sql = g_strdup_printf("SELECT count(*) FROM alarm WHERE code = '%s'", code);
	int64_t v = hostfix_int(db, sql);
	g_free(sql);
	return v;
}

static int64_t tx(struct chain *c, const char *uuid, int64_t seq)
{
	return add(c, "tx", "sissi", uuid, seq, "fees", "en", (int64_t)NOW);
}

static void line(struct chain *c, int64_t t, int64_t n, const char *e, const char *s, const char *ref, const char *bill,
		 int64_t amount)
{
	add(c, "fee_item", "iissssi", t, n, e, s, ref, bill, amount);
}

static void cash(struct chain *c, int64_t t, int64_t note, int64_t fils)
{
	add(c, "payment", "isiii", t, "cash", note, fils, (int64_t)NOW);
}

static void result(struct chain *c, int64_t t, int64_t n, const char *status, const char *host_ref)
{
	add(c, "fee_result", "iissi", t, n, status, host_ref, (int64_t)NOW);
}

static void end(struct chain *c, int64_t t, const char *state, int64_t credited)
{
	add(c, "tx_end", "isiii", t, state, (int64_t)0, credited, (int64_t)NOW);
}

/* The ledger's basket tables have the columns, in MAC order, that CONTRACT-13.md tables and
 * the host's rules (host/wire.c) read. */
static void test_contract_columns(void)
{
	static const struct {
		const char *table;
		const char *cols[7];
		size_t n;
	} contract[] = {
		{"fee_item", {"tx_rec", "n", "entity", "service", "reference", "bill", "amount_fils"}, 7},
		{"fee_result", {"tx_rec", "n", "status", "host_ref", "at_s"}, 5},
		{"voucher_payment", {"tx_rec", "code", "redemption_id", "value_fils", "at_s"}, 5},
		{"voucher_issue", {"tx_rec", "code", "value_fils", "expires_s", "why", "at_s"}, 6},
	};
	for (size_t t = 0; t < G_N_ELEMENTS(contract); t++) {
		const char *const *cols;
		size_t n;
		g_assert_cmpint(ledger_rec_columns(contract[t].table, &cols, &n), ==, 0);
		g_assert_cmpuint(n, ==, contract[t].n);
		for (size_t c = 0; c < n; c++)
			g_assert_cmpstr(cols[c], ==, contract[t].cols[c]);
	}
}

#define TX_A "aa000000-0000-4000-8000-0000000000a1"
#define TX_B "aa000000-0000-4000-8000-0000000000b1"
#define TX_C "aa000000-0000-4000-8000-0000000000c1"
#define TX_D "aa000000-0000-4000-8000-0000000000d1"
#define TX_E "aa000000-0000-4000-8000-0000000000e1"
#define RID_A "aa000000-0000-4000-8000-00000000ee01"
#define VOUCHER_IN "9100000000050002"  /* 100.00 AED, the test's own */
#define VOUCHER_OUT "9135724680246804" /* issued by the kiosk in TX_A: must be new to the host */

static char *payment_answer_ref(const char *answer, int n)
{
	JsonParser *p = json_parser_new();
	g_assert_true(json_parser_load_from_data(p, answer, -1, NULL));
	JsonArray *a = json_object_get_array_member(json_node_get_object(json_parser_get_root(p)), "lines");
	JsonObject *l = json_array_get_object_element(a, (guint)n - 1);
	char *ref = g_strdup(json_object_get_string_member(l, "host_ref"));
	g_object_unref(p);
	return ref;
}

/* Four baskets: paid online with a voucher in and a voucher out; settled offline (an account's
 * open amount, a catalogue-priced fee, a fine) with a card credit; a refused offline line owed
 * to the customer; a cancel. */
static void test_fees_transactions(void)
{
	struct chain c;
	chain_new(&c);
	hostfix_exec(db, "DELETE FROM voucher WHERE code = '" VOUCHER_OUT "';"
			 "INSERT INTO voucher (code, value_fils, remaining_fils, expires) VALUES"
			 " ('" VOUCHER_IN "', 10000, 10000, '2099-12-31');"
			 "INSERT INTO fee_account (entity, service, reference, payee, description, kind, due_fils) VALUES"
			 " ('dewa', 'bill', '2000600001', 'A B', 'bill', 'fixed', 24550),"
			 " ('dewa', 'bill', '2000600002', 'A B', 'bill', 'fixed', 5000);"
			 "INSERT INTO fee_account (entity, service, reference, payee, description, kind) VALUES"
			 " ('police', 'fines', '10600001', 'C D', 'fines', 'items');"
			 "INSERT INTO fee_item (entity, service, reference, id, description, amount_fils) VALUES"
			 " ('police', 'fines', '10600001', 'H-1', 'Speeding', 60000),"
			 " ('police', 'fines', '10600001', 'H-2', 'Parking', 40000)");
	int64_t balance0 = hostfix_int(db, "SELECT balance_fils FROM card WHERE card = '" CARD_ZERO "'");

	/* A: the kiosk paid both lines online and redeemed 50.00 AED of a voucher. */
	const char *pay_a = "{\"tx_uuid\": \"" TX_A "\", \"lines\": ["
			    "{\"n\": 1, \"entity\": \"dewa\", \"service\": \"bill\", \"reference\": \"2000600001\", \"amount_fils\": 24550},"
			    "{\"n\": 2, \"entity\": \"police\", \"service\": \"fines\", \"reference\": \"10600001\", \"bill\": \"H-1\","
			    " \"amount_fils\": 60000}]}";
	struct host_reply r = {0};
	payments_post(db, c.id, pay_a, strlen(pay_a), &r);
	g_assert_cmpuint(r.status, ==, 200);
	char *ref1 = payment_answer_ref(r.body, 1), *ref2 = payment_answer_ref(r.body, 2);
	reply_clear(&r);
	const char *redeem = "{\"code\": \"" VOUCHER_IN "\", \"redemption_id\": \"" RID_A "\", \"tx_uuid\": \"" TX_A "\","
			     " \"amount_fils\": 5000}";
	accounts_voucher_redeem(db, c.id, redeem, strlen(redeem), &r);
	g_assert_cmpuint(r.status, ==, 200);
	reply_clear(&r);
	int64_t a = tx(&c, TX_A, 1);
	line(&c, a, 1, "dewa", "bill", "2000600001", NULL, 24550);
	line(&c, a, 2, "police", "fines", "10600001", "H-1", 60000);
	cash(&c, a, 1, 50000);
	cash(&c, a, 2, 50000);
	add(&c, "voucher_payment", "issii", a, VOUCHER_IN, RID_A, (int64_t)5000, (int64_t)NOW);
	result(&c, a, 1, "paid", ref1);
	result(&c, a, 2, "paid", ref2);
	/* 105000 in, 84550 of lines: 20450 to a new voucher. */
	add(&c, "voucher_issue", "isiisi", a, VOUCHER_OUT, (int64_t)20450, (int64_t)(NOW + 30 * 86400), "overpayment",
	    (int64_t)NOW);
	struct mark before_end = mark(&c);
	/* Broken ends first, each refused whole. */
	end(&c, a, "completed", 100000);
	refused_back(&c, &before_end, "crediting 100000 fils for 105000 paid");
	end(&c, a, "cancelled", 105000);
	refused_back(&c, &before_end, "a cancelled fees transaction with 105000 fils paid in");
	end(&c, a, "completed", 105000);
	sent_ok(&c);
	g_assert_cmpint(hostfix_int(db, "SELECT remaining_fils FROM voucher WHERE code = '" VOUCHER_OUT "'"), ==, 20450);
	g_assert_cmpint(hostfix_int(db, "SELECT (expires - date '1970-01-01') FROM voucher WHERE code = '" VOUCHER_OUT "'"), ==,
			(NOW + 30 * 86400 + 4 * 3600) / 86400);
	g_assert_cmpint(alarms("fee_result_mismatch") + alarms("voucher_payment_unmatched") + alarms("fee_owed"), ==, 0);
	/* The issued voucher is redeemable at once, anywhere. */
	const char *validate = "{\"code\": \"" VOUCHER_OUT "\"}";
	accounts_voucher_validate(db, validate, strlen(validate), &r);
	g_assert_cmpuint(r.status, ==, 200);
	reply_clear(&r);

	/* B: offline; a Salik amount, a catalogue-priced fee and a fine, the rest to a card. */
	int64_t b = tx(&c, TX_B, 2);
	line(&c, b, 1, "salik", "topup", "40012345", NULL, 10000);
	line(&c, b, 2, "police", "good-conduct", NULL, NULL, 22000);
	line(&c, b, 3, "police", "fines", "10600001", "H-2", 40000);
	cash(&c, b, 3, 50000);
	cash(&c, b, 4, 20000);
	cash(&c, b, 5, 10000);
	result(&c, b, 1, "offline", NULL);
	result(&c, b, 2, "offline", NULL);
	result(&c, b, 3, "unconfirmed", NULL);
	/* 80000 in, 72000 of lines: 8000 to the customer's card. */
	add(&c, "tx_item", "issi", b, "topup", CARD_ZERO, (int64_t)8000);
	end(&c, b, "completed", 80000);
	sent_ok(&c);
	g_assert_cmpint(hostfix_int(db, "SELECT count(*) FROM fee_payment_line l JOIN fee_payment p USING (tx_uuid)"
					" WHERE tx_uuid = '" TX_B "' AND status = 'paid' AND p.source = 'records'"),
			==, 3);
	g_assert_cmpint(hostfix_int(db, "SELECT balance_fils FROM card WHERE card = '" CARD_ZERO "'"), ==, balance0 + 8000);
	hostfix_assert_balances(db);
	g_assert_cmpint(alarms("fee_owed"), ==, 0);

	/* C: an offline line the host refuses (not what is due): owed to the customer, an alarm. */
	int64_t cc = tx(&c, TX_C, 3);
	line(&c, cc, 1, "dewa", "bill", "2000600002", NULL, 4000);
	cash(&c, cc, 6, 4000);
	result(&c, cc, 1, "offline", NULL);
	end(&c, cc, "completed", 4000);
	sent_ok(&c);
	g_assert_cmpint(alarms("fee_owed"), ==, 1);
	g_assert_cmpint(hostfix_int(db, "SELECT o.amount_fils FROM fee_owed o JOIN record t ON t.kiosk_id = o.kiosk_id"
					" AND t.rec = o.tx_rec WHERE t.tx_uuid = '" TX_C "'"),
			==, 4000);

	/* D: cancelled before any money. */
	int64_t d = tx(&c, TX_D, 4);
	line(&c, d, 1, "dewa", "bill", "2000600002", NULL, 5000);
	result(&c, d, 1, "unpaid", NULL);
	end(&c, d, "cancelled", 0);
	sent_ok(&c);
	/* E: the kiosk asked online, the host paid one line and refused the other, and the answer
	 * was lost: both booked unconfirmed. The end settles from the host's answer: nothing paid
	 * twice, the refused line owed. */
	hostfix_exec(db, "INSERT INTO fee_account (entity, service, reference, payee, description, kind, due_fils) VALUES"
			 " ('dewa', 'bill', '2000600003', 'A B', 'bill', 'fixed', 7000)");
	const char *pay_e = "{\"tx_uuid\": \"" TX_E "\", \"lines\": ["
			    "{\"n\": 1, \"entity\": \"dewa\", \"service\": \"bill\", \"reference\": \"2000600003\", \"amount_fils\": 7000},"
			    "{\"n\": 2, \"entity\": \"dewa\", \"service\": \"bill\", \"reference\": \"2000600003\", \"amount_fils\": 7000}]}";
	payments_post(db, c.id, pay_e, strlen(pay_e), &r);
	g_assert_cmpuint(r.status, ==, 200);
	reply_clear(&r);
	int64_t owed = alarms("fee_owed"), mismatches = alarms("fee_result_mismatch");
	int64_t e = tx(&c, TX_E, 5);
	line(&c, e, 1, "dewa", "bill", "2000600003", NULL, 7000);
	line(&c, e, 2, "dewa", "bill", "2000600003", NULL, 7000);
	cash(&c, e, 7, 10000);
	cash(&c, e, 8, 5000);
	result(&c, e, 1, "unconfirmed", NULL);
	result(&c, e, 2, "unconfirmed", NULL);
	add(&c, "voucher_issue", "isiisi", e, "9382716059483736" /* a canonical code new to the host */, (int64_t)1000,
	    (int64_t)(NOW + 86400), "overpayment", (int64_t)NOW);
	end(&c, e, "completed", 15000);
	sent_ok(&c);
	g_assert_cmpint(hostfix_int(db, "SELECT count(*) FROM fee_payment WHERE tx_uuid = '" TX_E "' AND source = 'online'"), ==,
			1);
	g_assert_cmpint(hostfix_int(db, "SELECT count(*) FROM fee_payment_line WHERE tx_uuid = '" TX_E "'"), ==, 2);
	g_assert_cmpint(alarms("fee_owed"), ==, owed + 1);
	g_assert_cmpint(alarms("fee_result_mismatch"), ==, mismatches);
	g_free(ref1);
	g_free(ref2);
	chain_free(&c);
}

/* The rules between records of a basket, each refusal changing nothing. */
static void test_fees_refusals(void)
{
	struct chain c;
	chain_new(&c);
	/* A top-up transaction takes no basket record. */
	int64_t t = add(&c, "tx", "sissi", "bb000000-0000-4000-8000-000000000001", (int64_t)1, "topup", "ar", (int64_t)NOW);
	sent_ok(&c);
	struct mark m = mark(&c);
	line(&c, t, 1, "dewa", "bill", NULL, NULL, 100);
	refused_back(&c, &m, "which is a topup, not a fees transaction");
	add(&c, "tx_item", "isss", t, "topup", CARD_ZERO, NULL);
	add(&c, "tx_end", "isiii", t, "cancelled", (int64_t)0, (int64_t)0, (int64_t)NOW);
	sent_ok(&c);

	int64_t f = tx(&c, "bb000000-0000-4000-8000-000000000002", 2);
	m = mark(&c);
	line(&c, f, 2, "dewa", "bill", NULL, NULL, 100);
	refused_back(&c, &m, "line 2 after 0 lines");
	line(&c, f, 1, "dewa", "bill", NULL, NULL, 1500);
	sent_ok(&c);
	m = mark(&c);
	result(&c, f, 2, "paid", "P-1");
	refused_back(&c, &m, "a result for line 2, which the transaction does not have");
	cash(&c, f, 1, 2000);
	result(&c, f, 1, "offline", NULL);
	sent_ok(&c);
	m = mark(&c);
	result(&c, f, 1, "paid", "P-1");
	refused_back(&c, &m, "has one already");
	/* Invariant 9: 2000 in, 1500 of line, but a voucher of 501 out. */
	add(&c, "voucher_issue", "isiisi", f, "9260482601593711" /* any code: refused before it counts */, (int64_t)501,
	    (int64_t)NOW, "overpayment", (int64_t)NOW);
	end(&c, f, "completed", 2000);
	refused_back(&c, &m, "(invariant 9)");
	/* A line without its result at the end. */
	line(&c, f, 2, "dewa", "bill", NULL, NULL, 500);
	end(&c, f, "completed", 2000);
	refused_back(&c, &m, "ends with 2 lines and 1 results (every line needs one)");
	/* A code with a wrong check digit, a status the ledger does not have: refused as records. */
	add(&c, "voucher_issue", "isiisi", f, "9260482601593712", (int64_t)500, (int64_t)NOW, "overpayment", (int64_t)NOW);
	refused_back(&c, &m, "is not a voucher code");
	chain_free(&c);
}

/* What the host disagrees with raises alarms in the batch, and the records still apply: a line
 * booked paid that the host never paid, a voucher payment without its redemption. */
static void test_fees_alarms(void)
{
	struct chain c;
	chain_new(&c);
	int64_t before_mismatch = alarms("fee_result_mismatch"), before_unmatched = alarms("voucher_payment_unmatched");
	int64_t t = tx(&c, "cc000000-0000-4000-8000-000000000001", 1);
	line(&c, t, 1, "salik", "topup", "40012345", NULL, 5000);
	add(&c, "voucher_payment", "issii", t, "9100000000050002", "cc000000-0000-4000-8000-0000000000ff", (int64_t)5000,
	    (int64_t)NOW);
	result(&c, t, 1, "paid", "P-99999999");
	end(&c, t, "completed", 5000);
	sent_ok(&c);
	g_assert_cmpint(alarms("fee_result_mismatch"), ==, before_mismatch + 1);
	g_assert_cmpint(alarms("voucher_payment_unmatched"), ==, before_unmatched + 1);

	/* Another kiosk's payment under the same uuid is not this kiosk's answer: its offline
	 * line is not taken as paid; it cannot be settled under that uuid, so it is owed. */
	hostfix_exec(db, "INSERT INTO fee_account (entity, service, reference, payee, description, kind, due_fils) VALUES"
			 " ('dewa', 'bill', '2000600004', 'A B', 'bill', 'fixed', 3000)");
	const char *other = "{\"tx_uuid\": \"cc000000-0000-4000-8000-000000000002\", \"lines\": [{\"n\": 1, \"entity\":"
			    " \"dewa\", \"service\": \"bill\", \"reference\": \"2000600004\", \"amount_fils\": 3000}]}";
	struct host_reply r = {0};
	payments_post(db, c.id, other, strlen(other), &r);
	g_assert_cmpuint(r.status, ==, 200);
	reply_clear(&r);
	struct chain c2;
	chain_new(&c2);
	int64_t owed = alarms("fee_owed");
	int64_t t2 = tx(&c2, "cc000000-0000-4000-8000-000000000002", 1);
	line(&c2, t2, 1, "dewa", "bill", "2000600004", NULL, 3000);
	cash(&c2, t2, 1, 3000);
	result(&c2, t2, 1, "offline", NULL);
	end(&c2, t2, "completed", 3000);
	sent_ok(&c2);
	g_assert_cmpint(alarms("fee_owed"), ==, owed + 1);
	char *sql = g_strdup_printf("SELECT count(*) FROM fee_owed WHERE kiosk_id = '%s'", c2.id);
	g_assert_cmpint(hostfix_int(db, sql), ==, 1);
	g_free(sql);
	chain_free(&c2);
	chain_free(&c);
}

/* A real kiosk ledger's baskets (kiosk/ledger/basket.h) exported and uploaded: what the ledger
 * writes is what the host accepts and settles. Lines carry the kiosk's catalogue ids, as the
 * fees screen books them (police/police-fines); the online payment the host's path (the
 * catalogue's `host`: police/fines), as the app asks it. The host maps the one to the other by
 * the catalogue it serves (records.c H11): an offline line is paid, a paid one matches. */
static void credit_note(struct kfix *k, int64_t value_fils)
{
	struct kio_error err = {0};
	struct cash_note note = {.device = "essp:0001", .channel = 4, .value_fils = value_fils, .state = CASH_NOTE_ESCROW,
				 .counters_known = true};
	struct cash_journal *j = ledger_notes_journal(k->notes);
	g_assert_cmpint(cash_journal_begin(j, &note, &err), ==, 0);
	g_assert_cmpint(cash_journal_advance(j, note.id, CASH_NOTE_ACCEPTED, "accept", &err), ==, 0);
	g_assert_cmpint(cash_journal_advance(j, note.id, CASH_NOTE_CREDITED, "credit", &err), ==, 0);
	g_assert_cmpint(cash_journal_advance(j, note.id, CASH_NOTE_STACKED, "stacked", &err), ==, 0);
}

static struct ledger_fee_line fee_line(const char *e, const char *s, const char *ref, const char *bill, int64_t fils)
{
	struct ledger_fee_line l = {.amount_fils = fils};
	snprintf(l.entity, sizeof(l.entity), "%s", e);
	snprintf(l.service, sizeof(l.service), "%s", s);
	snprintf(l.reference, sizeof(l.reference), "%s", ref);
	snprintf(l.bill, sizeof(l.bill), "%s", bill);
	return l;
}

static void test_real_ledger(void)
{
	char *dir = g_build_filename(cluster_dir, "K-REAL", NULL);
	g_assert_cmpint(g_mkdir(dir, 0700), ==, 0);
	struct kfix k;
	kfix_open(&k, dir);
	struct chain c; /* the host's registration of this kiosk's key; records come from the ledger */
	memset(&c, 0, sizeof(c));
	snprintf(c.id, sizeof(c.id), "K-REAL");
	struct kio_error err = {0};
	g_assert_cmpint(ledger_secret_read(k.path, false, c.key, &err), ==, 0);
	char hex[65];
	for (int b = 0; b < LEDGER_KEY_BYTES; b++)
		snprintf(hex + 2 * b, 3, "%02x", c.key[b]);
	char *sql = g_strdup_printf("INSERT INTO kiosk (kiosk_id, chain_key) VALUES ('K-REAL', decode('%s', 'hex'));"
				    "INSERT INTO kiosk_sync (kiosk_id) VALUES ('K-REAL')",
				    hex);
	hostfix_exec(db, sql);
	g_free(sql);
	int64_t card0 = hostfix_int(db, "SELECT balance_fils FROM card WHERE card = '" CARD_ZERO "'");
	int64_t alarms0 = hostfix_int(db, "SELECT count(*) FROM alarm");

	/* 1: a police fine, a Salik amount and a fixed fee, paid online; the rest to a voucher. */
	struct ledger_fee_line one[] = {fee_line("police", "police-fines", "10012345", "F-2", 40000),
					fee_line("rta", "salik-recharge", "40012345", "", 10000),
					fee_line("police", "police-good-conduct", "", "", 22000)};
	struct ledger_tx t1;
	g_assert_cmpint(ledger_basket_open(k.ledger, NOW, "en", one, 3, &t1, &err), ==, 0);
	credit_note(&k, 50000);
	credit_note(&k, 50000);
	char *body = g_strdup_printf(
		"{\"tx_uuid\": \"%s\", \"lines\": ["
		"{\"n\": 1, \"entity\": \"police\", \"service\": \"fines\", \"reference\": \"10012345\", \"bill\": \"F-2\","
		" \"amount_fils\": 40000},"
		"{\"n\": 2, \"entity\": \"salik\", \"service\": \"topup\", \"reference\": \"40012345\", \"amount_fils\": 10000},"
		"{\"n\": 3, \"entity\": \"police\", \"service\": \"good-conduct\", \"amount_fils\": 22000}]}",
		t1.uuid);
	struct host_reply r = {0};
	payments_post(db, c.id, body, strlen(body), &r);
	g_assert_cmpuint(r.status, ==, 200);
	for (int n = 1; n <= 3; n++) {
		char *ref = payment_answer_ref(r.body, n);
		g_assert_cmpint(ledger_basket_line_result(k.ledger, t1.id, n, LEDGER_LINE_PAID, ref, NOW, &err), ==, 0);
		g_free(ref);
	}
	reply_clear(&r);
	g_free(body);
	struct ledger_basket_end e1;
	g_assert_cmpint(ledger_basket_close(k.ledger, t1.id, NOW, LEDGER_REST_VOUCHER, NULL, 30, &e1, &err), ==, 0);
	g_assert_cmpint(e1.rest_fils, ==, 28000);

	/* 2: the DEWA bill and a police certificate with the host unreachable; the rest to the
	 * customer's card. */
	struct ledger_fee_line two[] = {fee_line("dewa", "dewa-bill", "2000123456", "", 24550),
					fee_line("police", "police-good-conduct", "", "", 22000)};
	struct ledger_tx t2;
	g_assert_cmpint(ledger_basket_open(k.ledger, NOW, "ar", two, 2, &t2, &err), ==, 0);
	credit_note(&k, 20000);
	credit_note(&k, 20000);
	credit_note(&k, 5000);
	credit_note(&k, 5000);
	credit_note(&k, 1000);
	g_assert_cmpint(ledger_basket_line_result(k.ledger, t2.id, 1, LEDGER_LINE_OFFLINE, NULL, NOW, &err), ==, 0);
	g_assert_cmpint(ledger_basket_line_result(k.ledger, t2.id, 2, LEDGER_LINE_OFFLINE, NULL, NOW, &err), ==, 0);
	struct ledger_basket_end e2;
	g_assert_cmpint(ledger_basket_close(k.ledger, t2.id, NOW, LEDGER_REST_CARD, CARD_ZERO, 30, &e2, &err), ==, 0);
	g_assert_cmpint(e2.rest_fils, ==, 51000 - 24550 - 22000);

	/* 3: cancelled before any money. */
	struct ledger_tx t3;
	g_assert_cmpint(ledger_basket_open(k.ledger, NOW, "en", two, 1, &t3, &err), ==, 0);
	g_assert_cmpint(ledger_basket_close(k.ledger, t3.id, NOW, LEDGER_REST_NONE, NULL, 30, NULL, &err), ==, 0);

	GPtrArray *lines = kfix_export(&k, 0);
	char *batch = kfix_batch(lines, 0, lines->len);
	r = (struct host_reply){0};
	records_upload(db, c.id, batch, strlen(batch), &r);
	if (r.status != 200)
		g_error("upload: %u %s", r.status, r.body);
	reply_clear(&r);
	char *q = g_strdup_printf("SELECT value_fils FROM voucher WHERE code = '%s' AND issued_by = 'K-REAL'", e1.voucher);
	g_assert_cmpint(hostfix_int(db, q), ==, 28000);
	g_free(q);
	g_assert_cmpint(hostfix_int(db, "SELECT balance_fils FROM card WHERE card = '" CARD_ZERO "'"), ==, card0 + 4450);
	hostfix_assert_balances(db);
	/* Both offline lines settled paid from the records, at the host's path; nothing owed. */
	q = g_strdup_printf("SELECT count(*) FROM fee_payment_line l JOIN fee_payment p USING (tx_uuid)"
			    " WHERE l.tx_uuid = '%s' AND p.source = 'records' AND l.status = 'paid'"
			    " AND (l.n, l.entity, l.service) IN ((1, 'dewa', 'bill'), (2, 'police', 'good-conduct'))",
			    t2.uuid);
	g_assert_cmpint(hostfix_int(db, q), ==, 2);
	g_free(q);
	g_assert_cmpint(hostfix_int(db, "SELECT count(*) FROM fee_owed WHERE kiosk_id = 'K-REAL'"), ==, 0);
	/* The offline bill was paid from the records: no longer due. */
	accounts_fee(db, "dewa", "bill", "2000123456", &r);
	g_assert_cmpuint(r.status, ==, 200);
	g_assert_nonnull(strstr(r.body, "\"due_fils\":0"));
	reply_clear(&r);
	g_assert_cmpint(hostfix_int(db, "SELECT count(*) FROM alarm"), ==, alarms0);
	g_free(batch);
	g_ptr_array_unref(lines);
	kfix_close(&k);
	g_free(dir);
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
	g_test_add_func("/hostd/fees/contract-columns", test_contract_columns);
	g_test_add_func("/hostd/fees/transactions", test_fees_transactions);
	g_test_add_func("/hostd/fees/refusals", test_fees_refusals);
	g_test_add_func("/hostd/fees/alarms", test_fees_alarms);
	g_test_add_func("/hostd/fees/real-ledger", test_real_ledger);
	rc = g_test_run();
	PQfinish(db);
	hostfix_cluster_stop(cluster_dir);
	g_free(conninfo);
	return rc;
}
