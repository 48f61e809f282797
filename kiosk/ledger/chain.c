/* The ledger's hash chain: record MACs, appending, verifying, and the per-kiosk secret file. */
#define LOG_MODULE "ledger-chain"
#include "chain.h"
#include "chain-priv.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <nettle/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kiosk/core/infile.h"
#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"
#include "store-priv.h"

/*
 * Encoding (docs/ledger.md, "The chain"). A record's MAC is
 *   HMAC-SHA256(key, T("kiosk-ledger-v1") B(prev MAC) I(rec) T(table) I(n)
 *                    T(col1) V(val1) ... T(coln) V(valn))
 * with T(s) = 'T' u32be(len) bytes, B(b) = 'B' u32be(len) bytes, I(i) = 'I' i64be(i) and
 * N = 'N' for NULL. Every field is tagged and length-prefixed, so no two different records
 * encode alike ("12"+"3" and "1"+"23" differ). prev of record 1 is 32 zero bytes. The head
 * row carries HMAC(key, T("kiosk-ledger-head-v1") I(rec) B(mac of rec)): a chain cut at
 * its end then fails too, unless the key is known.
 */

const struct chain_spec chain_specs[CHAIN_TABLE_COUNT] = {
	[CHAIN_TX] = {"tx", {"uuid", "seq", "kind", "lang", "opened_s"}, 5},
	[CHAIN_TX_ITEM] = {"tx_item", {"tx_rec", "kind", "card", "amount_fils"}, 4},
	[CHAIN_PAYMENT] = {"payment", {"tx_rec", "method", "note_id", "value_fils", "at_s"}, 5},
	[CHAIN_SUSPENSE] = {"suspense", {"note_id", "value_fils", "at_s", "why"}, 4},
	[CHAIN_TX_END] = {"tx_end", {"tx_rec", "state", "recovered", "credited_fils", "at_s"}, 5},
	/* Migration 11: a fees transaction's basket (basket.c). */
	[CHAIN_FEE_ITEM] = {"fee_item", {"tx_rec", "n", "entity", "service", "reference", "bill", "amount_fils"}, 7},
	[CHAIN_FEE_RESULT] = {"fee_result", {"tx_rec", "n", "status", "host_ref", "at_s"}, 5},
	[CHAIN_VOUCHER_PAYMENT] = {"voucher_payment", {"tx_rec", "code", "redemption_id", "value_fils", "at_s"}, 5},
	[CHAIN_VOUCHER_ISSUE] = {"voucher_issue", {"tx_rec", "code", "value_fils", "expires_s", "why", "at_s"}, 6},
	/* Migration 12: redemption intents and their voids (basket.c invariant 15). */
	[CHAIN_VOUCHER_INTENT] = {"voucher_intent", {"tx_rec", "code", "redemption_id", "value_fils", "at_s"}, 5},
	[CHAIN_VOUCHER_VOID] = {"voucher_void", {"tx_rec", "code", "redemption_id", "at_s"}, 4},
};

int chain_tables_present(sqlite3 *db, bool present[CHAIN_TABLE_COUNT], struct kio_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return kio_fail(err, KIO_ERR_IO, "ledger chain: read the schema: %s", sqlite3_errmsg(db));
	int rc = 0;
	for (int t = 0; t < CHAIN_TABLE_COUNT && !rc; t++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, chain_specs[t].table, -1, SQLITE_STATIC);
		int step = sqlite3_step(st);
		if (step == SQLITE_ROW || step == SQLITE_DONE)
			present[t] = step == SQLITE_ROW;
		else
			rc = kio_fail(err, KIO_ERR_IO, "ledger chain: read the schema: %s", sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	return rc;
}

char *chain_records_sql(const bool present[CHAIN_TABLE_COUNT], const char *where)
{
	char *sql = xstrdup("");
	for (int t = 0; t < CHAIN_TABLE_COUNT; t++) {
		if (!present[t])
			continue;
		char *next = xasprintf("%s%sSELECT rec, %d FROM %s %s", sql, sql[0] ? " UNION ALL " : "", t,
				       chain_specs[t].table, where);
		free(sql);
		sql = next;
	}
	return sql;
}

static void put_bytes(struct hmac_sha256_ctx *ctx, uint8_t tag, const void *data, size_t len)
{
	uint8_t hdr[5] = {tag, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
	hmac_sha256_update(ctx, sizeof(hdr), hdr);
	hmac_sha256_update(ctx, len, data);
}

static void put_text(struct hmac_sha256_ctx *ctx, const char *s) { put_bytes(ctx, 'T', s, strlen(s)); }

static void put_int(struct hmac_sha256_ctx *ctx, int64_t v)
{
	uint8_t b[9] = {'I'};
	uint64_t u = (uint64_t)v;
	for (int k = 0; k < 8; k++)
		b[1 + k] = (uint8_t)(u >> (56 - 8 * k));
	hmac_sha256_update(ctx, sizeof(b), b);
}

void chain_mac(const uint8_t key[LEDGER_KEY_BYTES], const uint8_t prev[LEDGER_MAC_BYTES], int64_t rec,
	       enum chain_table table, const struct chain_val *vals, uint8_t out[LEDGER_MAC_BYTES])
{
	const struct chain_spec *spec = &chain_specs[table];
	struct hmac_sha256_ctx ctx;
	hmac_sha256_set_key(&ctx, LEDGER_KEY_BYTES, key);
	put_text(&ctx, "kiosk-ledger-v1");
	put_bytes(&ctx, 'B', prev, LEDGER_MAC_BYTES);
	put_int(&ctx, rec);
	put_text(&ctx, spec->table);
	put_int(&ctx, spec->n_cols);
	for (int c = 0; c < spec->n_cols; c++) {
		put_text(&ctx, spec->cols[c]);
		switch (vals[c].type) {
		case CHAIN_INT: put_int(&ctx, vals[c].i); break;
		case CHAIN_TEXT: put_text(&ctx, vals[c].s); break;
		case CHAIN_NULL:
		default: hmac_sha256_update(&ctx, 1, (const uint8_t *)"N"); break;
		}
	}
	hmac_sha256_digest(&ctx, LEDGER_MAC_BYTES, out);
}

static void head_mac(const uint8_t key[LEDGER_KEY_BYTES], int64_t rec, const uint8_t mac[LEDGER_MAC_BYTES],
		     uint8_t out[LEDGER_MAC_BYTES])
{
	struct hmac_sha256_ctx ctx;
	hmac_sha256_set_key(&ctx, LEDGER_KEY_BYTES, key);
	put_text(&ctx, "kiosk-ledger-head-v1");
	put_int(&ctx, rec);
	put_bytes(&ctx, 'B', mac, LEDGER_MAC_BYTES);
	hmac_sha256_digest(&ctx, LEDGER_MAC_BYTES, out);
}

static int sql_fail(sqlite3 *db, struct kio_error *err, const char *what)
{
	return kio_fail(err, KIO_ERR_IO, "ledger chain: %s: %s", what, sqlite3_errmsg(db));
}

void chain_base_mac(const uint8_t key[LEDGER_KEY_BYTES], const struct chain_base *base, uint8_t out[LEDGER_MAC_BYTES])
{
	struct hmac_sha256_ctx ctx;
	hmac_sha256_set_key(&ctx, LEDGER_KEY_BYTES, key);
	put_text(&ctx, "kiosk-ledger-base-v1");
	put_int(&ctx, base->rec);
	put_int(&ctx, base->seq);
	put_int(&ctx, base->note_max);
	put_bytes(&ctx, 'B', base->last_mac, LEDGER_MAC_BYTES);
	hmac_sha256_digest(&ctx, LEDGER_MAC_BYTES, out);
}

int chain_base_read(sqlite3 *db, struct chain_base *base, struct kio_error *err)
{
	memset(base, 0, sizeof(*base));
	sqlite3_stmt *st = NULL;
	/* A ledger from before migration 8 (the audit tools read any version): no base. */
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'chain_base'", -1,
			       &st, NULL) != SQLITE_OK)
		return sql_fail(db, err, "look for the chain base");
	int step = sqlite3_step(st);
	bool exists = step == SQLITE_ROW && sqlite3_column_int64(st, 0) == 1;
	sqlite3_finalize(st);
	if (step != SQLITE_ROW)
		return sql_fail(db, err, "look for the chain base");
	if (!exists)
		return 0;
	if (sqlite3_prepare_v2(db, "SELECT rec, last_mac, seq, note_max, mac FROM chain_base WHERE id = 1", -1, &st,
			       NULL) != SQLITE_OK)
		return sql_fail(db, err, "read the chain base");
	int rc = 0;
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		base->rec = sqlite3_column_int64(st, 0);
		base->seq = sqlite3_column_int64(st, 2);
		base->note_max = sqlite3_column_int64(st, 3);
		if (sqlite3_column_bytes(st, 1) != LEDGER_MAC_BYTES || sqlite3_column_bytes(st, 4) != LEDGER_MAC_BYTES ||
		    base->rec < 0) {
			rc = kio_fail(err, KIO_ERR_CORRUPT, "ledger chain: the chain base row is damaged");
		} else {
			memcpy(base->last_mac, sqlite3_column_blob(st, 1), LEDGER_MAC_BYTES);
			memcpy(base->mac, sqlite3_column_blob(st, 4), LEDGER_MAC_BYTES);
		}
	} else if (step == SQLITE_DONE) {
		/* Migration 8 inserts the row and a trigger keeps it: gone is tampering. */
		rc = kio_fail(err, KIO_ERR_CORRUPT, "ledger chain: the chain base row is missing");
	} else {
		rc = sql_fail(db, err, "read the chain base");
	}
	sqlite3_finalize(st);
	return rc;
}

/* A base that names pruned records must carry the key's MAC over them: without the key, no
 * one can make the chain start later than it does (and hide records by deleting them). */
static bool base_holds(const uint8_t key[LEDGER_KEY_BYTES], const struct chain_base *base)
{
	if (base->rec == 0)
		return true;
	uint8_t want[LEDGER_MAC_BYTES];
	chain_base_mac(key, base, want);
	return memcmp(want, base->mac, LEDGER_MAC_BYTES) == 0;
}

int chain_append(struct ledger *ledger, enum chain_table table, const struct chain_val *vals, int64_t *rec,
		 struct kio_error *err)
{
	sqlite3 *db = ledger_db(ledger);
	const struct chain_spec *spec = &chain_specs[table];
	uint8_t prev[LEDGER_MAC_BYTES] = {0};
	int64_t last = 0;
	sqlite3_stmt *st = NULL;
	/* The writer trusts the head for the previous MAC (one lookup); the verifier trusts
	 * nothing and recomputes every MAC from the records. */
	if (ledger_stmt(ledger, "SELECT rec, last_mac FROM chain_head WHERE id = 1", &st) != SQLITE_OK)
		return sql_fail(db, err, "read head");
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		last = sqlite3_column_int64(st, 0);
		if (sqlite3_column_bytes(st, 1) == LEDGER_MAC_BYTES)
			memcpy(prev, sqlite3_column_blob(st, 1), LEDGER_MAC_BYTES);
		else
			step = SQLITE_CORRUPT;
	}
	ledger_stmt_done(ledger, st);
	if (step == SQLITE_CORRUPT)
		return kio_fail(err, KIO_ERR_CORRUPT, "ledger chain: the head's MAC is damaged");
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return sql_fail(db, err, "read head");
	int64_t next = last + 1;
	uint8_t mac[LEDGER_MAC_BYTES];
	chain_mac(ledger_key(ledger), prev, next, table, vals, mac);

	char cols[256] = "rec", qs[64] = "?";
	for (int c = 0; c < spec->n_cols; c++) {
		strncat(cols, ", ", sizeof(cols) - strlen(cols) - 1);
		strncat(cols, spec->cols[c], sizeof(cols) - strlen(cols) - 1);
		strncat(qs, ", ?", sizeof(qs) - strlen(qs) - 1);
	}
	char *q = xasprintf("INSERT INTO %s(%s, mac) VALUES (%s, ?)", spec->table, cols, qs);
	int prc = ledger_stmt(ledger, q, &st);
	free(q);
	if (prc != SQLITE_OK)
		return sql_fail(db, err, "append record");
	sqlite3_bind_int64(st, 1, next);
	for (int c = 0; c < spec->n_cols; c++) {
		switch (vals[c].type) {
		case CHAIN_INT: sqlite3_bind_int64(st, 2 + c, vals[c].i); break;
		case CHAIN_TEXT: sqlite3_bind_text(st, 2 + c, vals[c].s, -1, SQLITE_STATIC); break;
		case CHAIN_NULL:
		default: sqlite3_bind_null(st, 2 + c); break;
		}
	}
	sqlite3_bind_blob(st, 2 + spec->n_cols, mac, LEDGER_MAC_BYTES, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sql_fail(db, err, spec->table);
	ledger_stmt_done(ledger, st);
	if (rc)
		return rc;

	uint8_t hmac[LEDGER_MAC_BYTES];
	head_mac(ledger_key(ledger), next, mac, hmac);
	if (ledger_stmt(ledger,
			"INSERT INTO chain_head(id, rec, last_mac, mac) VALUES (1, ?, ?, ?)"
			" ON CONFLICT(id) DO UPDATE SET rec = excluded.rec, last_mac = excluded.last_mac,"
			" mac = excluded.mac",
			&st) != SQLITE_OK)
		return sql_fail(db, err, "move head");
	sqlite3_bind_int64(st, 1, next);
	sqlite3_bind_blob(st, 2, mac, LEDGER_MAC_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, hmac, LEDGER_MAC_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sql_fail(db, err, "move head");
	ledger_stmt_done(ledger, st);
	if (!rc)
		*rec = next;
	return rc;
}

/* The last record's number (0: none) and whether there is a head, over the tables db has:
 * each table's max(rec) is one probe of its rowid, so this stays O(1) at start-up. */
static int last_record(sqlite3 *db, int64_t *last, bool *has_head, struct kio_error *err)
{
	bool present[CHAIN_TABLE_COUNT];
	int rc = chain_tables_present(db, present, err);
	if (rc)
		return rc;
	char *maxes = xstrdup("0");
	for (int t = 0; t < CHAIN_TABLE_COUNT; t++) {
		if (!present[t])
			continue;
		char *next = xasprintf("%s, coalesce((SELECT max(rec) FROM %s), 0)", maxes, chain_specs[t].table);
		free(maxes);
		maxes = next;
	}
	/* max() of one argument is the aggregate: the leading 0 makes it the scalar. */
	char *q = xasprintf("SELECT max(%s), (SELECT count(*) FROM chain_head)", maxes);
	free(maxes);
	sqlite3_stmt *st = NULL;
	int prc = sqlite3_prepare_v2(db, q, -1, &st, NULL);
	free(q);
	if (prc != SQLITE_OK)
		return sql_fail(db, err, "read the chain");
	if (sqlite3_step(st) == SQLITE_ROW) {
		*last = sqlite3_column_int64(st, 0);
		*has_head = sqlite3_column_int64(st, 1) != 0;
	} else {
		rc = sql_fail(db, err, "read the chain");
	}
	sqlite3_finalize(st);
	return rc;
}

int chain_is_empty(sqlite3 *db, bool *empty, struct kio_error *err)
{
	int64_t last = 0;
	bool has_head = false;
	int rc = last_record(db, &last, &has_head, err);
	if (!rc)
		*empty = last == 0 && !has_head;
	return rc;
}

int chain_check_head(struct ledger *ledger, struct kio_error *err)
{
	sqlite3 *db = ledger_db(ledger);
	sqlite3_stmt *st = NULL;
	int64_t last = 0;
	bool has_head = false, present[CHAIN_TABLE_COUNT];
	int rc = last_record(db, &last, &has_head, err);
	if (!rc)
		rc = chain_tables_present(db, present, err);
	if (rc)
		return rc;
	/* After a prune that took every record, the last one is the base's (prune.c). */
	struct chain_base base;
	rc = chain_base_read(db, &base, err);
	if (rc)
		return rc;
	if (!base_holds(ledger_key(ledger), &base))
		return kio_fail(err, KIO_ERR_CORRUPT,
				"the ledger's chain base (records 1..%" PRId64 " pruned) does not verify: it was changed",
				base.rec);
	bool at_base = base.rec > 0 && last <= base.rec;
	if (at_base)
		last = base.rec;
	if (sqlite3_prepare_v2(db, "SELECT rec, last_mac, mac FROM chain_head WHERE id = 1", -1, &st, NULL) != SQLITE_OK)
		return sql_fail(db, err, "read head");
	int step = sqlite3_step(st);
	bool ok = false;
	if (step == SQLITE_DONE) {
		ok = last == 0;
	} else if (step == SQLITE_ROW && sqlite3_column_int64(st, 0) == last &&
		   sqlite3_column_bytes(st, 1) == LEDGER_MAC_BYTES && sqlite3_column_bytes(st, 2) == LEDGER_MAC_BYTES) {
		uint8_t want[LEDGER_MAC_BYTES];
		head_mac(ledger_key(ledger), last, sqlite3_column_blob(st, 1), want);
		ok = memcmp(want, sqlite3_column_blob(st, 2), LEDGER_MAC_BYTES) == 0;
		/* The head's last MAC must be the last record's own (or the base's, when that
		 * record was pruned). */
		if (ok && at_base)
			ok = memcmp(base.last_mac, sqlite3_column_blob(st, 1), LEDGER_MAC_BYTES) == 0;
		for (int t = 0; ok && !at_base && t < CHAIN_TABLE_COUNT; t++) {
			if (!present[t])
				continue;
			sqlite3_stmt *r = NULL;
			char *q = xasprintf("SELECT mac FROM %s WHERE rec = ?", chain_specs[t].table);
			int prc = sqlite3_prepare_v2(db, q, -1, &r, NULL);
			free(q);
			if (prc != SQLITE_OK) {
				ok = false;
				break;
			}
			sqlite3_bind_int64(r, 1, last);
			if (sqlite3_step(r) == SQLITE_ROW)
				ok = sqlite3_column_bytes(r, 0) == LEDGER_MAC_BYTES &&
				     memcmp(sqlite3_column_blob(r, 0), sqlite3_column_blob(st, 1), LEDGER_MAC_BYTES) == 0;
			sqlite3_finalize(r);
		}
	} else if (step != SQLITE_ROW) {
		rc = sql_fail(db, err, "read head");
	}
	sqlite3_finalize(st);
	if (!rc && !ok)
		rc = kio_fail(err, KIO_ERR_CORRUPT,
			      "the ledger's chain head does not match its last record %" PRId64
			      ": records were changed or removed (kiosk ledger verify names the first)",
			      last);
	return rc;
}

static int broken(struct ledger_verdict *v, int64_t rec, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int broken(struct ledger_verdict *v, int64_t rec, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
	v->ok = false;
	v->first_bad = rec;
	return 0;
}

/* Reads record rec of one table into vals and its MAC; texts point into the statement's
 * row, valid until it is reset. 1 if found, 0 if not, -1 on a read error. *odd: a value of
 * a type the schema never stores (or text with a NUL), which no MAC can vouch for. */
static int read_record(sqlite3_stmt *st, int64_t rec, int n_cols, struct chain_val *vals,
		       uint8_t mac[LEDGER_MAC_BYTES], bool *odd)
{
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, rec);
	int step = sqlite3_step(st);
	if (step != SQLITE_ROW)
		return step == SQLITE_DONE ? 0 : -1;
	*odd = false;
	for (int c = 0; c < n_cols; c++) {
		switch (sqlite3_column_type(st, c)) {
		case SQLITE_INTEGER: vals[c] = (struct chain_val){CHAIN_INT, sqlite3_column_int64(st, c), NULL}; break;
		case SQLITE_NULL: vals[c] = (struct chain_val){CHAIN_NULL, 0, NULL}; break;
		case SQLITE_TEXT: {
			const char *s = (const char *)sqlite3_column_text(st, c);
			size_t len = (size_t)sqlite3_column_bytes(st, c);
			if (!s || memchr(s, '\0', len))
				*odd = true;
			vals[c] = (struct chain_val){CHAIN_TEXT, 0, s ? s : ""};
			break;
		}
		default: *odd = true; vals[c] = (struct chain_val){CHAIN_NULL, 0, NULL}; break;
		}
	}
	if (sqlite3_column_type(st, n_cols) == SQLITE_BLOB && sqlite3_column_bytes(st, n_cols) == LEDGER_MAC_BYTES)
		memcpy(mac, sqlite3_column_blob(st, n_cols), LEDGER_MAC_BYTES);
	else
		*odd = true;
	return 1;
}

int chain_verify(sqlite3 *db, const uint8_t key[LEDGER_KEY_BYTES], struct ledger_verdict *v, struct kio_error *err)
{
	memset(v, 0, sizeof(*v));
	v->ok = true;
	sqlite3_stmt *by_table[CHAIN_TABLE_COUNT] = {0};
	sqlite3_stmt *order = NULL;
	bool present[CHAIN_TABLE_COUNT];
	int rc = chain_tables_present(db, present, err);
	if (rc)
		return rc;
	for (int t = 0; t < CHAIN_TABLE_COUNT; t++) {
		if (!present[t])
			continue;
		const struct chain_spec *spec = &chain_specs[t];
		char cols[256] = "";
		for (int c = 0; c < spec->n_cols; c++) {
			strncat(cols, spec->cols[c], sizeof(cols) - strlen(cols) - 1);
			strncat(cols, ", ", sizeof(cols) - strlen(cols) - 1);
		}
		char *q = xasprintf("SELECT %smac FROM %s WHERE rec = ?", cols, spec->table);
		int prc = sqlite3_prepare_v2(db, q, -1, &by_table[t], NULL);
		free(q);
		if (prc != SQLITE_OK) {
			rc = sql_fail(db, err, "read records");
			goto out_finalize;
		}
	}
	char *records = chain_records_sql(present, "");
	char *q = xasprintf("%s ORDER BY 1, 2", records);
	int prc = sqlite3_prepare_v2(db, q, -1, &order, NULL);
	free(q);
	free(records);
	if (prc != SQLITE_OK) {
		rc = sql_fail(db, err, "list records");
		goto out_finalize;
	}
	/* The chain starts after the base (prune.c): its MAC is the first record's prev. */
	struct chain_base base;
	rc = chain_base_read(db, &base, err);
	if (rc)
		goto out_finalize;
	v->base = base.rec;
	if (!base_holds(key, &base)) {
		broken(v, base.rec, "the chain base (records 1..%" PRId64 " pruned) does not match its MAC: changed",
		       base.rec);
		goto out_finalize;
	}
	uint8_t prev[LEDGER_MAC_BYTES] = {0};
	memcpy(prev, base.last_mac, LEDGER_MAC_BYTES);
	int64_t expect = base.rec + 1;
	int step;
	while ((step = sqlite3_step(order)) == SQLITE_ROW) {
		int64_t rec = sqlite3_column_int64(order, 0);
		int t = sqlite3_column_int(order, 1);
		const char *table = chain_specs[t].table;
		if (rec <= base.rec) {
			broken(v, rec, "record %" PRId64 " (%s) is at or below the chain base %" PRId64
			       ": a prune left it or it was put back", rec, table, base.rec);
			goto out_finalize;
		}
		if (rec < expect) {
			broken(v, rec, "record %" PRId64 " appears twice (again in %s)", rec, table);
			goto out_finalize;
		}
		if (rec > expect) {
			broken(v, expect, "record %" PRId64 " is missing (the next one is %" PRId64 ", in %s)", expect,
			       rec, table);
			goto out_finalize;
		}
		struct chain_val vals[CHAIN_COLS_MAX];
		uint8_t stored[LEDGER_MAC_BYTES] = {0}, want[LEDGER_MAC_BYTES];
		bool odd = false;
		int got = read_record(by_table[t], rec, chain_specs[t].n_cols, vals, stored, &odd);
		if (got < 0) {
			rc = sql_fail(db, err, "read record");
			goto out_finalize;
		}
		chain_mac(key, prev, rec, (enum chain_table)t, vals, want);
		if (got == 0 || odd || memcmp(want, stored, LEDGER_MAC_BYTES) != 0) {
			broken(v, rec, "record %" PRId64 " (%s) does not match its MAC: changed, moved or forged", rec,
			       table);
			goto out_finalize;
		}
		memcpy(prev, stored, LEDGER_MAC_BYTES);
		v->records++;
		expect++;
	}
	if (step != SQLITE_DONE) {
		rc = sql_fail(db, err, "list records");
		goto out_finalize;
	}
	/* The head: a chain cut at its end leaves records that all verify. */
	sqlite3_finalize(order);
	order = NULL;
	if (sqlite3_prepare_v2(db, "SELECT rec, mac FROM chain_head WHERE id = 1", -1, &order, NULL) != SQLITE_OK) {
		rc = sql_fail(db, err, "read head");
		goto out_finalize;
	}
	step = sqlite3_step(order);
	int64_t last = base.rec + v->records;
	if (step == SQLITE_DONE) {
		if (last > 0)
			broken(v, last, "the chain head is missing (%" PRId64 " records)", last);
	} else if (step == SQLITE_ROW) {
		int64_t head = sqlite3_column_int64(order, 0);
		uint8_t want[LEDGER_MAC_BYTES];
		head_mac(key, head, prev, want);
		if (head > last)
			broken(v, last + 1, "records %" PRId64 "..%" PRId64 " are missing at the end (the head says %"
				PRId64 ")", last + 1, head, head);
		else if (head < last || sqlite3_column_bytes(order, 1) != LEDGER_MAC_BYTES ||
			 memcmp(sqlite3_column_blob(order, 1), want, LEDGER_MAC_BYTES) != 0)
			broken(v, head < last ? head + 1 : head,
			       "the chain head (record %" PRId64 ") does not match the last record %" PRId64, head, last);
	} else {
		rc = sql_fail(db, err, "read head");
	}

out_finalize:
	sqlite3_finalize(order);
	for (int t = 0; t < CHAIN_TABLE_COUNT; t++)
		sqlite3_finalize(by_table[t]);
	return rc;
}

/* ---- the secret file ---- */

static const char secret_magic[] = "kiosk-ledger-secret v1\n";

char *ledger_secret_path(const char *db_path) { return xasprintf("%s.secret", db_path); }

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int ledger_secret_parse(const uint8_t *buf, size_t len, uint8_t key[LEDGER_KEY_BYTES], struct kio_error *err)
{
	size_t magic = sizeof(secret_magic) - 1;
	if (len != LEDGER_SECRET_FILE_BYTES)
		return kio_fail(err, KIO_ERR_CORRUPT, "ledger secret: %zu bytes, expected %d", len,
				LEDGER_SECRET_FILE_BYTES);
	if (memcmp(buf, secret_magic, magic) != 0)
		return kio_fail(err, KIO_ERR_CORRUPT, "ledger secret: not a kiosk ledger secret (v1)");
	if (buf[len - 1] != '\n')
		return kio_fail(err, KIO_ERR_CORRUPT, "ledger secret: no newline at the end");
	uint8_t out[LEDGER_KEY_BYTES];
	for (size_t k = 0; k < LEDGER_KEY_BYTES; k++) {
		int hi = hexval(buf[magic + 2 * k]), lo = hexval(buf[magic + 2 * k + 1]);
		if (hi < 0 || lo < 0)
			return kio_fail(err, KIO_ERR_CORRUPT, "ledger secret: byte %zu is not lowercase hex",
					magic + 2 * k + (hi < 0 ? 0 : 1));
		out[k] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(key, out, LEDGER_KEY_BYTES);
	return 0;
}

int ledger_secret_read(const char *db_path, bool strict, uint8_t key[LEDGER_KEY_BYTES], struct kio_error *err)
{
	char *path = ledger_secret_path(db_path);
	int rc = 0;
	/* Not open()ed blocking: a FIFO at the path would hang the kiosk's start (core_infile_open
	 * refuses it); O_NOFOLLOW: the key is never read through a link someone else placed. */
	char name[sizeof(err->msg)]; /* a longer one is cut in the message anyway */
	snprintf(name, sizeof(name), "ledger secret %s", path);
	struct stat st;
	int fd = core_infile_open(path, name, O_NOFOLLOW, &st, err);
	if (fd < 0) {
		/* Something else at the secret's path is a damaged store, as before (exit 3). */
		rc = fd == KIO_ERR_INVALID ? KIO_ERR_CORRUPT : fd;
		if (err)
			err->code = rc;
		goto out_free;
	}
	if (strict && (st.st_uid != geteuid() || (st.st_mode & 077) != 0)) {
		rc = kio_fail(err, KIO_ERR_CORRUPT,
			      "ledger secret %s must belong to uid %ld and be readable by it alone (mode 0600); it is"
			      " uid %ld mode %04o",
			      path, (long)geteuid(), (long)st.st_uid, (unsigned)(st.st_mode & 07777));
		goto out_close;
	}
	uint8_t buf[LEDGER_SECRET_FILE_BYTES + 1];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n < 0) {
		rc = kio_fail(err, KIO_ERR_IO, "ledger secret %s: %s", path, strerror(errno));
		goto out_close;
	}
	struct kio_error why;
	if (ledger_secret_parse(buf, (size_t)n, key, &why) != 0)
		rc = kio_fail(err, KIO_ERR_CORRUPT, "%s (%s)", why.msg, path);
	explicit_bzero(buf, sizeof(buf));
out_close:
	close(fd);
out_free:
	free(path);
	return rc;
}

static int fsync_dir_of(const char *path, struct kio_error *err)
{
	char *copy = xstrdup(path);
	int rc = 0;
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		rc = kio_fail(err, KIO_ERR_IO, "ledger secret: cannot sync the folder of %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

/* Written whole under a temporary name, then linked to its name: link() never replaces a
 * file, so a secret is never overwritten, and a crash leaves either no secret or a whole one
 * (a partial temporary is removed at the next start; the database lock keeps this to one
 * process). */
static int create_secret(const char *db_path, uint8_t key[LEDGER_KEY_BYTES], struct kio_error *err)
{
	char *path = ledger_secret_path(db_path);
	char *tmp = xasprintf("%s.new", path);
	uint8_t fresh[LEDGER_KEY_BYTES];
	char text[LEDGER_SECRET_FILE_BYTES + 1];
	int rc = 0, fd = -1;
	if (getrandom(fresh, sizeof(fresh), 0) != (ssize_t)sizeof(fresh)) {
		rc = kio_fail(err, KIO_ERR_IO, "ledger secret: no random bytes: %s", strerror(errno));
		goto out_free;
	}
	size_t len = (size_t)snprintf(text, sizeof(text), "%s", secret_magic);
	for (size_t k = 0; k < LEDGER_KEY_BYTES; k++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%02x", fresh[k]);
	text[len++] = '\n';
	if (unlink(tmp) != 0 && errno != ENOENT) {
		rc = kio_fail(err, KIO_ERR_IO, "ledger secret: cannot remove %s: %s", tmp, strerror(errno));
		goto out_free;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) != 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
		rc = kio_fail(err, KIO_ERR_IO, "ledger secret: cannot write %s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	if (link(tmp, path) != 0) {
		rc = kio_fail(err, errno == EEXIST ? KIO_ERR_BUSY : KIO_ERR_IO, "ledger secret: cannot create %s: %s",
			      path, strerror(errno));
		goto out_unlink;
	}
	memcpy(key, fresh, LEDGER_KEY_BYTES);
out_unlink:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	if (!rc)
		rc = fsync_dir_of(path, err);
out_free:
	explicit_bzero(fresh, sizeof(fresh));
	explicit_bzero(text, sizeof(text));
	free(tmp);
	free(path);
	return rc;
}

int chain_secret_open(const char *db_path, bool in_memory, bool chain_empty, uint8_t key[LEDGER_KEY_BYTES],
		      struct kio_error *err)
{
	if (in_memory) {
		if (getrandom(key, LEDGER_KEY_BYTES, 0) != LEDGER_KEY_BYTES)
			return kio_fail(err, KIO_ERR_IO, "ledger secret: no random bytes: %s", strerror(errno));
		return 0;
	}
	int rc = ledger_secret_read(db_path, true, key, err);
	if (rc != KIO_ERR_NOT_FOUND)
		return rc;
	if (!chain_empty)
		return kio_fail(err, KIO_ERR_CORRUPT,
				"database %s: its ledger secret is missing, so the records cannot be verified or"
				" continued (restore %s.secret from the kiosk's backup)",
				db_path, db_path);
	rc = create_secret(db_path, key, err);
	if (!rc)
		LOG_INFO("created the ledger secret beside %s", db_path);
	return rc;
}

int chain_read_begin(const char *db_path, sqlite3 **out, struct ledger_verdict *verdict, struct kio_error *err)
{
	sqlite3 *db = NULL;
	uint8_t key[LEDGER_KEY_BYTES];
	int rc = 0;
	*out = NULL;
	/* `kiosk ledger verify|export --db`: SQLite's read-only open of a FIFO would wait for a
	 * writer, so what is at the path is looked at first. */
	char name[64 + PATH_MAX];
	snprintf(name, sizeof(name), "database %s", db_path);
	rc = core_infile_regular(db_path, name, err);
	if (rc) {
		rc = KIO_ERR_IO;
		goto out_close;
	}
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		rc = kio_fail(err, KIO_ERR_IO, "database %s: %s", db_path, db ? sqlite3_errmsg(db) : "cannot open");
		goto out_close;
	}
	sqlite3_busy_timeout(db, 2000);
	rc = ledger_secret_read(db_path, false, key, err);
	if (rc)
		goto out_close;
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		rc = kio_fail(err, KIO_ERR_IO, "database %s: %s", db_path, sqlite3_errmsg(db));
		goto out_close;
	}
	struct kio_error why = {0};
	rc = chain_verify(db, key, verdict, &why);
	if (rc) {
		kio_fail(err, KIO_ERR_IO, "database %s is not a kiosk ledger or cannot be read: %s", db_path, why.msg);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
out_close:
	explicit_bzero(key, sizeof(key));
	if (rc)
		sqlite3_close(db);
	else
		*out = db;
	return rc;
}

void chain_read_end(sqlite3 *db)
{
	if (!db)
		return;
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
}

int ledger_verify_file(const char *db_path, struct ledger_verdict *verdict, struct kio_error *err)
{
	sqlite3 *db;
	int rc = chain_read_begin(db_path, &db, verdict, err);
	chain_read_end(db);
	return rc;
}

void ledger_derive_key(const struct ledger *ledger, const char *label, uint8_t out[32])
{
	struct hmac_sha256_ctx ctx;
	hmac_sha256_set_key(&ctx, LEDGER_KEY_BYTES, ledger_key(ledger));
	hmac_sha256_update(&ctx, strlen(label), (const uint8_t *)label);
	hmac_sha256_digest(&ctx, 32, out);
	explicit_bzero(&ctx, sizeof(ctx));
}
