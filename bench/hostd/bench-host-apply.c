/*
 * What the reference host's record batches cost below HTTP: N top-ups booked in a real kiosk
 * ledger (6 records each: tx, item, 3 payments, end), exported, and applied by records_upload
 * in batches of 500 on one connection to a throwaway cluster (Unix socket); against the floor,
 * the same rows put into the same table by bare libpq INSERTs in transactions of 500 with no
 * check at all. The figure counts only if the card's balance is exactly what was paid.
 * Usage: bench-host-apply [TOPUPS]   (default 2000; KIOSK_SOURCE_DIR names the source tree)
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/db.h"
#include "host/records.h"
#include "kiosk/ledger/chain.h"
#include "tests/hostd/hostfix.h"

#define BATCH 500

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int topups = argc > 1 ? atoi(argv[1]) : 2000;
	if (topups < 1 || topups > 1000000) {
		fprintf(stderr, "usage: bench-host-apply [TOPUPS 1..1000000]\n");
		return 2;
	}
	char *dir, *conninfo;
	if (hostfix_cluster_start(&dir, &conninfo) == 77) {
		fprintf(stderr, "bench-host-apply: no PostgreSQL server installed\n");
		return 77;
	}
	PGconn *c = hostfix_connect(conninfo);
	char *kdir = g_build_filename(dir, "kiosk", NULL);
	g_mkdir(kdir, 0700);
	struct kfix k;
	kfix_open(&k, kdir);
	static const int64_t notes[] = {10000, 5000, 2000, 0};
	for (int i = 0; i < topups; i++)
		kfix_topup(&k, "7841000024680132", notes);
	uint8_t key[LEDGER_KEY_BYTES];
	struct kio_error err;
	if (ledger_secret_read(k.path, false, key, &err) != 0)
		g_error("%s", err.msg);
	char hex[2 * LEDGER_KEY_BYTES + 1];
	for (int b = 0; b < LEDGER_KEY_BYTES; b++)
		snprintf(hex + 2 * b, 3, "%02x", key[b]);
	char *sql = g_strdup_printf("INSERT INTO card (card, status) VALUES ('7841000024680132', 'active');"
				    "INSERT INTO kiosk VALUES ('K', decode('%s', 'hex')), ('F', decode('%s', 'hex'));"
				    "INSERT INTO kiosk_sync (kiosk_id) VALUES ('K')",
				    hex, hex);
	hostfix_exec(c, sql);
	g_free(sql);
	GPtrArray *lines = kfix_export(&k, 0);

	double t0 = now_s();
	for (guint sent = 0; sent < lines->len;) {
		guint to = sent + BATCH < lines->len ? sent + BATCH : lines->len;
		char *body = kfix_batch(lines, sent, to);
		struct host_reply r = {0};
		records_upload(c, "K", body, strlen(body), &r);
		if (r.status != 200)
			g_error("batch at %u: %u %s", sent, r.status, r.body);
		reply_clear(&r);
		g_free(body);
		sent = to;
	}
	double host_s = now_s() - t0;
	int64_t balance = hostfix_int(c, "SELECT balance_fils FROM card");
	if (balance != (int64_t)topups * 17000)
		g_error("balance %" PRId64 ", expected %" PRId64, balance, (int64_t)topups * 17000);

	/* The floor: the same rows, no parsing, no MAC, no rule, no credit. */
	PGresult *rows;
	if (hdb_query(c, "SELECT rec::text, type, tx_uuid::text, seq::text, tx_rec::text, body::text, encode(mac, 'hex')"
			 " FROM record WHERE kiosk_id = 'K' ORDER BY rec",
		      0, NULL, &rows, NULL, "read back", &err))
		g_error("%s", err.msg);
	t0 = now_s();
	for (int r = 0; r < PQntuples(rows); r++) {
		if (r % BATCH == 0)
			hostfix_exec(c, "BEGIN");
		const char *p[8] = {"F"};
		for (int col = 0; col < 7; col++)
			p[col + 1] = PQgetisnull(rows, r, col) ? NULL : PQgetvalue(rows, r, col);
		if (hdb_query(c,
			      "INSERT INTO record (kiosk_id, rec, type, tx_uuid, seq, tx_rec, body, mac)"
			      " VALUES ($1, $2::bigint, $3, $4::uuid, $5::bigint, $6::bigint, $7::jsonb, decode($8, 'hex'))",
			      8, p, NULL, NULL, "floor insert", &err))
			g_error("%s", err.msg);
		if (r % BATCH == BATCH - 1 || r == PQntuples(rows) - 1)
			hostfix_exec(c, "COMMIT");
	}
	double floor_s = now_s() - t0;
	PQclear(rows);

	printf("host apply: %u records (%d top-ups) in %.2f s: %.0f records/s, %.0f top-ups/s\n", lines->len, topups,
	       host_s, lines->len / host_s, topups / host_s);
	printf("floor (bare INSERT, same table, %d per transaction): %.2f s: %.0f records/s\n", BATCH, floor_s,
	       lines->len / floor_s);
	printf("host / floor: %.1fx\n", host_s / floor_s);
	g_ptr_array_unref(lines);
	kfix_close(&k);
	g_free(kdir);
	PQfinish(c);
	hostfix_cluster_stop(dir);
	g_free(conninfo);
	return 0;
}
