/*
 * The host voiding the redemptions a kiosk never booked (host/records.c H10; the ledger's
 * basket invariant 15) on a real PostgreSQL, below HTTP: a real kiosk ledger intends, the host
 * redeems, the kiosk dies before booking, recovery voids, the records reach the host, and the
 * voucher has its value again while a late retry of that redemption is refused.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "host/accounts.h"
#include "host/db.h"
#include "host/demo.h"
#include "host/records.h"
#include "host/reply.h"
#include "kiosk/core/vcode.h"
#include "kiosk/ledger/basket.h"
#include "kiosk/ledger/chain.h"
#include "kiosk/ledger/tx.h"
#include "hostfix.h"

#define NOW 1798761600

static char *conninfo, *cluster_dir;
static PGconn *db;

static void make_code(const char *first15, char out[VCODE_DIGITS + 1])
{
	snprintf(out, VCODE_DIGITS + 1, "%s%c", first15, vcode_damm(first15, 15));
}

static void host_voucher(const char *code, int64_t fils)
{
	char *sql = g_strdup_printf("INSERT INTO voucher (code, value_fils, remaining_fils, expires)"
				    " VALUES ('%s', %" PRId64 ", %" PRId64 ", current_date + 30)",
				    code, fils, fils);
	hostfix_exec(db, sql);
	g_free(sql);
}

static int64_t remaining(const char *code)
{
	char *sql = g_strdup_printf("SELECT remaining_fils FROM voucher WHERE code = '%s'", code);
	int64_t v = hostfix_int(db, sql);
	g_free(sql);
	return v;
}

/* POST /v1/vouchers/redeem below HTTP: the status. */
static unsigned redeem(const char *kiosk, const char *code, const char *rid, const char *tx_uuid, int64_t fils)
{
	char *body = g_strdup_printf("{\"code\": \"%s\", \"redemption_id\": \"%s\", \"tx_uuid\": \"%s\", \"amount_fils\": %" PRId64
				     "}",
				     code, rid, tx_uuid, fils);
	struct host_reply r = {0};
	accounts_voucher_redeem(db, kiosk, body, strlen(body), &r);
	unsigned st = r.status;
	if (st != 200)
		g_test_message("redeem %s: %u %s", rid, st, r.body);
	reply_clear(&r);
	g_free(body);
	return st;
}

static void upload(struct kfix *k, const char *kiosk, unsigned want)
{
	GPtrArray *lines = kfix_export(k, 0);
	char *batch = kfix_batch(lines, 0, lines->len);
	struct host_reply r = {0};
	records_upload(db, kiosk, batch, strlen(batch), &r);
	if (r.status != want)
		g_error("upload: %u %s", r.status, r.body);
	reply_clear(&r);
	g_free(batch);
	g_ptr_array_unref(lines);
}

static void register_kiosk(struct kfix *k, const char *id)
{
	uint8_t key[LEDGER_KEY_BYTES];
	struct kio_error err = {0};
	g_assert_cmpint(ledger_secret_read(k->path, false, key, &err), ==, 0);
	char hex[65];
	for (int b = 0; b < LEDGER_KEY_BYTES; b++)
		snprintf(hex + 2 * b, 3, "%02x", key[b]);
	char *sql = g_strdup_printf("INSERT INTO kiosk (kiosk_id, chain_key) VALUES ('%s', decode('%s', 'hex'));"
				    "INSERT INTO kiosk_sync (kiosk_id) VALUES ('%s')",
				    id, hex, id);
	hostfix_exec(db, sql);
	g_free(sql);
}

static void test_void_restores(void)
{
	char *dir = g_build_filename(cluster_dir, "K-VOID", NULL);
	g_assert_cmpint(g_mkdir(dir, 0700), ==, 0);
	struct kfix k;
	kfix_open(&k, dir);
	register_kiosk(&k, "K-VOID");
	int64_t alarms0 = hostfix_int(db, "SELECT count(*) FROM alarm");
	char a[17], b[17], c[17];
	make_code("911111111111111", a);
	make_code("922222222222222", b);
	make_code("933333333333333", c);
	host_voucher(a, 20000);
	host_voucher(b, 7000);
	host_voucher(c, 5000);
	struct kio_error err = {0};
	struct ledger_fee_line line = {.entity = "police", .service = "fines", .reference = "10012345",
				       .amount_fils = 30000};
	struct ledger_tx tx;
	g_assert_cmpint(ledger_basket_open(k.ledger, NOW, "en", &line, 1, &tx, &err), ==, 0);
	/* c: redeemed and booked (stays spent). */
	char rc_[37], ra[37], rb[37];
	g_assert_cmpint(ledger_basket_voucher_intent(k.ledger, tx.id, c, 5000, NOW, rc_, &err), ==, 0);
	g_assert_cmpuint(redeem("K-VOID", c, rc_, tx.uuid, 5000), ==, 200);
	g_assert_cmpint(ledger_basket_voucher_paid(k.ledger, tx.id, c, rc_, 5000, NOW, &err), ==, 0);
	/* b: intended, never reached the host (the link was cut before the ask). */
	g_assert_cmpint(ledger_basket_voucher_intent(k.ledger, tx.id, b, 7000, NOW, rb, &err), ==, 0);
	/* a: the host redeemed it, the kiosk died before booking it. */
	g_assert_cmpint(ledger_basket_voucher_intent(k.ledger, tx.id, a, 20000, NOW, ra, &err), ==, 0);
	g_assert_cmpuint(redeem("K-VOID", a, ra, tx.uuid, 20000), ==, 200);
	g_assert_cmpint(remaining(a), ==, 0);
	/* The restart: recovery ends the basket (5000 paid, short of 30000: unpaid, the 5000 to a
	 * new voucher) and voids a and b. */
	kfix_close(&k);
	kfix_open(&k, dir);
	struct ledger_tx *list = NULL;
	size_t n = 0;
	g_assert_cmpint(ledger_tx_recover(k.ledger, NOW + 60, &list, &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 1);
	free(list);
	struct ledger_voucher_intent in[LEDGER_BASKET_INTENTS_MAX];
	g_assert_cmpint(ledger_basket_intents(k.ledger, tx.id, in, G_N_ELEMENTS(in), &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 3);
	g_assert_cmpint(in[0].state, ==, LEDGER_INTENT_BOOKED);
	g_assert_cmpint(in[1].state, ==, LEDGER_INTENT_VOID);
	g_assert_cmpint(in[2].state, ==, LEDGER_INTENT_VOID);
	/* The records reach the host: a has its value back, b is refused from now on, c stays spent. */
	upload(&k, "K-VOID", 200);
	g_assert_cmpint(remaining(a), ==, 20000);
	g_assert_cmpint(remaining(b), ==, 7000);
	g_assert_cmpint(remaining(c), ==, 0);
	g_assert_cmpint(hostfix_int(db, "SELECT count(*) FROM voucher_void WHERE kiosk_id = 'K-VOID'"), ==, 2);
	char *q = g_strdup_printf("SELECT restored_fils FROM voucher_void WHERE redemption_id = '%s'", ra);
	g_assert_cmpint(hostfix_int(db, q), ==, 20000);
	g_free(q);
	q = g_strdup_printf("SELECT restored_fils FROM voucher_void WHERE redemption_id = '%s'", rb);
	g_assert_cmpint(hostfix_int(db, q), ==, 0);
	g_free(q);
	/* A late retry of a voided redemption is refused and takes nothing. */
	g_assert_cmpuint(redeem("K-VOID", a, ra, tx.uuid, 20000), ==, 409);
	g_assert_cmpuint(redeem("K-VOID", b, rb, tx.uuid, 7000), ==, 409);
	g_assert_cmpint(remaining(a), ==, 20000);
	g_assert_cmpint(remaining(b), ==, 7000);
	/* The same records again: held already, applied once (nothing restored twice). */
	upload(&k, "K-VOID", 200);
	g_assert_cmpint(remaining(a), ==, 20000);
	/* The voucher is usable again under a new redemption. */
	g_assert_cmpuint(redeem("K-VOID", a, "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b", tx.uuid, 20000), ==, 200);
	g_assert_cmpint(remaining(a), ==, 0);
	g_assert_cmpint(hostfix_int(db, "SELECT count(*) FROM alarm"), ==, alarms0);
	kfix_close(&k);
	g_free(dir);
}

/* A redeem already under way at the host and a void of the same id serialise on the id's lock:
 * whichever is second sees the first (H10). Here: the void lands first, the redeem is refused. */
static void test_void_before_redeem(void)
{
	char *dir = g_build_filename(cluster_dir, "K-VOID2", NULL);
	g_assert_cmpint(g_mkdir(dir, 0700), ==, 0);
	struct kfix k;
	kfix_open(&k, dir);
	register_kiosk(&k, "K-VOID2");
	char a[17];
	make_code("944444444444444", a);
	host_voucher(a, 9000);
	struct kio_error err = {0};
	struct ledger_fee_line line = {.entity = "police", .service = "fines", .amount_fils = 9000};
	struct ledger_tx tx;
	g_assert_cmpint(ledger_basket_open(k.ledger, NOW, "ar", &line, 1, &tx, &err), ==, 0);
	char ra[37];
	g_assert_cmpint(ledger_basket_voucher_intent(k.ledger, tx.id, a, 9000, NOW, ra, &err), ==, 0);
	g_assert_cmpint(ledger_basket_close(k.ledger, tx.id, NOW, LEDGER_REST_NONE, NULL, 30, NULL, &err), ==, 0);
	upload(&k, "K-VOID2", 200);
	/* The kiosk's redeem, delayed in the network, arrives after the void. */
	g_assert_cmpuint(redeem("K-VOID2", a, ra, tx.uuid, 9000), ==, 409);
	g_assert_cmpint(remaining(a), ==, 9000);
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
	g_test_add_func("/hostd/voucher-void/restores", test_void_restores);
	g_test_add_func("/hostd/voucher-void/before-redeem", test_void_before_redeem);
	rc = g_test_run();
	PQfinish(db);
	hostfix_cluster_stop(cluster_dir);
	g_free(conninfo);
	return rc;
}
