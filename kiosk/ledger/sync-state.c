/* The ledger's side of the sync: batches of records for the host, the host's acknowledgement
 * and errors in sync_state (migration 7), and the numbers status and offline limits read. */
#define LOG_MODULE "ledger-sync"
#include "sync-state.h"

#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "export-priv.h"
#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"
#include "store-priv.h"
#include "sync-state-priv.h"

/*
 * A record's sync states (docs/ledger.md, "Sync", draws them with the drain's phases):
 *
 *   booked (rec > acked_rec) ──batch read──► sent ──host answers acked >= rec──► acknowledged
 *        ▲                                    │                                (rec <= acked_rec)
 *        └──── no answer, error, kill ────────┘
 *
 * "sent" is not stored: a record is acknowledged or it is not, so a kill anywhere before the
 * ack's commit leaves it unacknowledged and it is sent again (the host counts it as a
 * duplicate). Invariants:
 *  1. acked_rec never decreases (trigger sync_state_acked_grows; ledger_sync_ack refuses it).
 *  2. acked_rec never passes the chain's last record (ledger_sync_ack refuses it).
 *  3. An outbox row's sent_s is set in the same commit as the acked_rec that covers its
 *     transaction's tx_end, never before and never in another: outbox sent_s IS NOT NULL
 *     exactly when tx_end.rec <= acked_rec (sync_state_check tests 2 and 3 in SQL, for
 *     ledger_sync_check and ledger_check; 1 is a trigger).
 *  4. Nothing of the ledger is deleted or changed by the sync: only sync_state and the outbox
 *     rows' sent_s move (the triggers of migrations 4 and 7).
 *
 * Kill points (ledger_sync_checkpoint):
 *   sync-ack-written  acked_rec and sent_s written, not committed: after a restart neither
 *                     moved; the drain sends the batch again, the host answers duplicates.
 *   sync-acked        committed.
 */

#define SYNC_BUSY_MS 2000

struct ledger_sync {
	sqlite3 *db;
	char *path;
	ledger_checkpoint_fn checkpoint;
	void *checkpoint_user;
};

static int sql_fail(sqlite3 *db, struct kio_error *err, const char *what)
{
	int code = sqlite3_errcode(db) & 0xFF;
	return kio_fail(err, code == SQLITE_BUSY || code == SQLITE_LOCKED ? KIO_ERR_BUSY : KIO_ERR_IO,
			"ledger sync: %s: %s", what, sqlite3_errmsg(db));
}

static int exec(sqlite3 *db, const char *sql, struct kio_error *err, const char *what)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : sql_fail(db, err, what);
}

/* One integer (or NULL as 0) from sql with up to two bound integers. */
static int query_int(sqlite3 *db, const char *sql, int64_t a, int64_t b, int64_t *out, struct kio_error *err,
		     const char *what)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_fail(db, err, what);
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_int64(st, 1, a);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, b);
	int rc = 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		rc = sql_fail(db, err, what);
	sqlite3_finalize(st);
	return rc;
}

int ledger_sync_open(const char *db_path, bool writable, struct ledger_sync **out, struct kio_error *err)
{
	*out = NULL;
	struct stat sb;
	if (stat(db_path, &sb) != 0)
		return kio_fail(err, KIO_ERR_NOT_FOUND, "database %s: no such file (the kiosk creates it at its start)",
				db_path);
	if (!S_ISREG(sb.st_mode))
		return kio_fail(err, KIO_ERR_INVALID, "database %s is not a regular file", db_path);
	struct ledger_sync *ls = xcalloc(1, sizeof(*ls));
	ls->path = xstrdup(db_path);
	int rc = 0;
	if (sqlite3_open_v2(db_path, &ls->db, writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		rc = kio_fail(err, KIO_ERR_IO, "database %s: %s", db_path, ls->db ? sqlite3_errmsg(ls->db) : "cannot open");
		goto out_close;
	}
	sqlite3_busy_timeout(ls->db, SYNC_BUSY_MS);
	int64_t version = 0;
	struct kio_error why;
	if (query_int(ls->db, "PRAGMA user_version", 0, 0, &version, &why, "read user_version") != 0) {
		rc = kio_fail(err, KIO_ERR_CORRUPT, "database %s is not a kiosk ledger: %s", db_path,
			      sqlite3_errmsg(ls->db));
		goto out_close;
	}
	if (version > ledger_schema_latest()) {
		rc = kio_fail(err, KIO_ERR_CORRUPT, "database %s: schema version %" PRId64 " is newer than this kiosk knows (%d)",
			      db_path, version, ledger_schema_latest());
		goto out_close;
	}
	int64_t tables = 0;
	if (query_int(ls->db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('sync_state', 'tx', 'outbox', 'chain_head')",
		      0, 0, &tables, &why, "read schema") != 0 || version == 0 || tables == 0) {
		rc = kio_fail(err, KIO_ERR_CORRUPT, "database %s is not a kiosk ledger (no ledger tables)", db_path);
		goto out_close;
	}
	if (version < 7 || tables != 4) {
		rc = kio_fail(err, KIO_ERR_CORRUPT,
			      "database %s: schema version %" PRId64 " has no sync state yet (the kiosk migrates it to %d at its"
			      " next start)",
			      db_path, version, ledger_schema_latest());
		goto out_close;
	}
	/* The kiosk's writer set WAL, which the file keeps; FULL as it does, so an ack that
	 * returned survives a power cut as the records it marks did. */
	if (writable) {
		rc = exec(ls->db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", err, "set pragmas");
		if (rc)
			goto out_close;
		/* Without WAL the worker's reads would block the kiosk's money writes (and its
		 * writes wait on theirs): a database the kiosk has not made WAL is not synced. */
		sqlite3_stmt *st = NULL;
		bool wal = false;
		if (sqlite3_prepare_v2(ls->db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW) {
			const char *mode = (const char *)sqlite3_column_text(st, 0);
			wal = mode && strcmp(mode, "wal") == 0;
		}
		sqlite3_finalize(st);
		if (!wal) {
			rc = kio_fail(err, KIO_ERR_CORRUPT,
				      "database %s is not in WAL mode (the kiosk sets it at its start): not synced", db_path);
			goto out_close;
		}
	}
	*out = ls;
	return 0;

out_close:
	ledger_sync_close(ls);
	return rc;
}

void ledger_sync_close(struct ledger_sync *ls)
{
	if (!ls)
		return;
	if (ls->db && sqlite3_close(ls->db) != SQLITE_OK)
		LOG_ERR("database %s: close: %s", ls->path, sqlite3_errmsg(ls->db));
	free(ls->path);
	free(ls);
}

void ledger_sync_set_checkpoint(struct ledger_sync *ls, ledger_checkpoint_fn fn, void *user)
{
	ls->checkpoint = fn;
	ls->checkpoint_user = user;
}

void ledger_sync_checkpoint(struct ledger_sync *ls, const char *point)
{
	LOG_DBG("checkpoint %s", point);
	if (ls->checkpoint)
		ls->checkpoint(ls->checkpoint_user, point);
}

/* ---- batches ---- */

struct batch_walk {
	JsonArray *records;
	int64_t expect; /* the next rec: a hole is refused, never skipped */
	int64_t first, last;
	int n;
};

static int add_record(void *user, int64_t rec, JsonNode *obj, struct kio_error *err)
{
	struct batch_walk *w = user;
	if (rec != w->expect)
		return kio_fail(err, KIO_ERR_CORRUPT, "ledger sync: record %" PRId64 " is missing (the next is %" PRId64
			       "): nothing is sent past a hole (kiosk ledger verify)", w->expect, rec);
	if (w->n == 0)
		w->first = rec;
	w->last = rec;
	w->expect++;
	w->n++;
	json_array_add_element(w->records, json_node_ref(obj));
	return 0;
}

int ledger_sync_batch_read(struct ledger_sync *ls, int64_t after, int max, struct ledger_sync_batch *out,
			   struct kio_error *err)
{
	memset(out, 0, sizeof(*out));
	if (after < 0 || max < 1 || max > 500)
		return kio_fail(err, KIO_ERR_INVALID, "ledger sync: batch after %" PRId64 " of %d records", after, max);
	int rc = exec(ls->db, "BEGIN", err, "read batch");
	if (rc)
		return rc;
	struct batch_walk w = {.records = json_array_new(), .expect = after + 1};
	rc = export_records_each(ls->db, after, max, add_record, &w, err);
	sqlite3_exec(ls->db, "COMMIT", NULL, NULL, NULL);
	if (!rc && w.n > 0) {
		JsonObject *top = json_object_new();
		json_object_set_array_member(top, "records", json_array_ref(w.records));
		JsonNode *root = json_node_init_object(json_node_alloc(), top);
		JsonGenerator *gen = json_generator_new();
		json_generator_set_root(gen, root);
		gsize len = 0;
		gchar *text = json_generator_to_data(gen, &len);
		out->body = xmalloc(len + 1);
		memcpy(out->body, text, len + 1);
		out->len = len;
		out->first_rec = w.first;
		out->last_rec = w.last;
		out->n = w.n;
		g_free(text);
		g_object_unref(gen);
		json_node_unref(root);
		json_object_unref(top);
	}
	json_array_unref(w.records);
	return rc;
}

void ledger_sync_batch_clear(struct ledger_sync_batch *b)
{
	free(b->body);
	memset(b, 0, sizeof(*b));
}

/* ---- the acknowledgement ---- */

#define LAST_REC_SQL "SELECT coalesce((SELECT rec FROM chain_head WHERE id = 1), 0)"

int ledger_sync_ack(struct ledger_sync *ls, int64_t acked, int64_t now_s, int64_t *marked, struct kio_error *err)
{
	sqlite3 *db = ls->db;
	int rc = exec(db, "BEGIN IMMEDIATE", err, "acknowledge");
	if (rc)
		return rc;
	int64_t last = 0, before = 0;
	rc = query_int(db, LAST_REC_SQL, 0, 0, &last, err, "read the chain head");
	if (!rc)
		rc = query_int(db, "SELECT acked_rec FROM sync_state WHERE id = 1", 0, 0, &before, err, "read sync state");
	if (rc)
		goto out_rollback;
	/* Invariants 2 and 1: a host that says it holds more than was ever booked, or less than
	 * it said before, is wrong about this kiosk; nothing is marked on its word. */
	if (acked > last) {
		rc = kio_fail(err, KIO_ERR_PROTOCOL,
			      "host acknowledged record %" PRId64 ", beyond the ledger's last record %" PRId64, acked, last);
		goto out_rollback;
	}
	if (acked < before) {
		rc = kio_fail(err, KIO_ERR_PROTOCOL,
			      "host acknowledged record %" PRId64 ", below its earlier acknowledgement %" PRId64, acked,
			      before);
		goto out_rollback;
	}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db,
			       "UPDATE sync_state SET acked_s = CASE WHEN ?1 > acked_rec THEN ?2 ELSE acked_s END,"
			       " acked_rec = ?1, last_ok_s = ?2, attempts = 0 WHERE id = 1",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = sql_fail(db, err, "acknowledge");
		goto out_rollback;
	}
	sqlite3_bind_int64(st, 1, acked);
	sqlite3_bind_int64(st, 2, now_s);
	rc = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1 ? 0 : sql_fail(db, err, "acknowledge");
	sqlite3_finalize(st);
	if (rc)
		goto out_rollback;
	/* Invariant 3: a transaction's tx_end is its last record, so it is acknowledged whole
	 * exactly when its tx_end is. */
	if (sqlite3_prepare_v2(db,
			       "UPDATE outbox SET sent_s = ?2 WHERE sent_s IS NULL AND tx_rec IN"
			       " (SELECT tx_rec FROM tx_end WHERE rec <= ?1)",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = sql_fail(db, err, "mark the outbox");
		goto out_rollback;
	}
	sqlite3_bind_int64(st, 1, acked);
	sqlite3_bind_int64(st, 2, now_s);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sql_fail(db, err, "mark the outbox");
	int64_t n = sqlite3_changes(db);
	sqlite3_finalize(st);
	if (rc)
		goto out_rollback;
	ledger_sync_checkpoint(ls, "sync-ack-written");
	rc = exec(db, "COMMIT", err, "acknowledge");
	if (rc)
		goto out_rollback;
	if (marked)
		*marked = n;
	if (acked > before)
		LOG_INFO("host holds records 1..%" PRId64 " (%" PRId64 " transactions marked sent)", acked, n);
	ledger_sync_checkpoint(ls, "sync-acked");
	return 0;

out_rollback:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int ledger_sync_error(struct ledger_sync *ls, int64_t now_s, const char *why, struct kio_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(ls->db,
			       "UPDATE sync_state SET last_error = ?1, last_error_s = ?2, attempts = attempts + 1 WHERE id = 1",
			       -1, &st, NULL) != SQLITE_OK)
		return sql_fail(ls->db, err, "record an error");
	char text[256];
	snprintf(text, sizeof(text), "%s", why ? why : "");
	sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now_s);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sql_fail(ls->db, err, "record an error");
	sqlite3_finalize(st);
	return rc;
}

/* ---- numbers ---- */

int ledger_sync_status_read(struct ledger_sync *ls, struct ledger_sync_status *out, struct kio_error *err)
{
	memset(out, 0, sizeof(*out));
	sqlite3 *db = ls->db;
	int rc = exec(db, "BEGIN", err, "read status");
	if (rc)
		return rc;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db,
			       "SELECT acked_rec, coalesce(acked_s, 0), coalesce(last_ok_s, 0), coalesce(last_error, ''),"
			       " coalesce(last_error_s, 0), attempts FROM sync_state WHERE id = 1",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = sql_fail(db, err, "read status");
		goto out_end;
	}
	if (sqlite3_step(st) == SQLITE_ROW) {
		out->acked_rec = sqlite3_column_int64(st, 0);
		out->acked_s = sqlite3_column_int64(st, 1);
		out->last_ok_s = sqlite3_column_int64(st, 2);
		snprintf(out->last_error, sizeof(out->last_error), "%s", (const char *)sqlite3_column_text(st, 3));
		out->last_error_s = sqlite3_column_int64(st, 4);
		out->attempts = sqlite3_column_int64(st, 5);
	} else {
		rc = kio_fail(err, KIO_ERR_CORRUPT, "ledger sync: the sync state row is missing");
	}
	sqlite3_finalize(st);
	if (!rc)
		rc = query_int(db, LAST_REC_SQL, 0, 0, &out->last_rec, err, "read the chain head");
	if (!rc)
		rc = query_int(db, "SELECT count(*) FROM outbox WHERE sent_s IS NULL", 0, 0, &out->outbox_pending, err,
			       "read the outbox");
	if (rc)
		goto out_end;
	out->queue_depth = out->last_rec > out->acked_rec ? out->last_rec - out->acked_rec : 0;
	if (out->queue_depth > 0) {
		out->oldest_unsynced_rec = out->acked_rec + 1;
		rc = query_int(db,
			       "SELECT coalesce((SELECT opened_s FROM tx WHERE rec = ?1),"
			       " (SELECT t.opened_s FROM tx_item i JOIN tx t ON t.rec = i.tx_rec WHERE i.rec = ?1),"
			       " (SELECT at_s FROM payment WHERE rec = ?1), (SELECT at_s FROM suspense WHERE rec = ?1),"
			       " (SELECT at_s FROM tx_end WHERE rec = ?1),"
			       " (SELECT t.opened_s FROM fee_item i JOIN tx t ON t.rec = i.tx_rec WHERE i.rec = ?1),"
			       " (SELECT at_s FROM fee_result WHERE rec = ?1), (SELECT at_s FROM voucher_payment WHERE rec = ?1),"
			       " (SELECT at_s FROM voucher_issue WHERE rec = ?1), (SELECT at_s FROM voucher_intent WHERE rec = ?1),"
			       " (SELECT at_s FROM voucher_void WHERE rec = ?1), 0)",
			       out->oldest_unsynced_rec, 0, &out->oldest_unsynced_s, err, "read the oldest record");
	}
out_end:
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return rc;
}

/*
 * The money the host has not acknowledged (docs/ledger.md "Offline limits"), one row per
 * completed transaction whose tx_end is past acked_rec and that holds some:
 *   a top-up: what it credited, to its card;
 *   a fees transaction: its lines settled `offline` or `unconfirmed` (the kiosk took the money
 *     for an entity the host has not paid yet) plus the rest it credited to a card (its one
 *     tx_item, basket.c invariant 11), that rest alone counting for that card.
 * Lines the host answered `paid` are its own word already, refused and unpaid ones moved no
 * money to anyone, and a rest issued as an e-voucher is redeemable only at the host (online),
 * so none of them is at risk while the host is away.
 */
static const char unacked_sql[] =
	"WITH acked(a) AS (SELECT acked_rec FROM sync_state WHERE id = 1),"
	" money(fils, card, card_fils) AS ("
	"  SELECT e.credited_fils, i.card, e.credited_fils"
	"   FROM tx_end e JOIN tx t ON t.rec = e.tx_rec JOIN tx_item i ON i.tx_rec = e.tx_rec"
	"   WHERE t.kind = 'topup' AND e.state = 'completed' AND e.rec > (SELECT a FROM acked)"
	"  UNION ALL"
	"  SELECT coalesce((SELECT sum(f.amount_fils) FROM fee_item f"
	"                    JOIN fee_result r ON r.tx_rec = f.tx_rec AND r.n = f.n"
	"                    WHERE f.tx_rec = e.tx_rec AND r.status IN ('offline', 'unconfirmed')), 0)"
	"         + coalesce((SELECT sum(i.amount_fils) FROM tx_item i WHERE i.tx_rec = e.tx_rec), 0),"
	"         (SELECT i.card FROM tx_item i WHERE i.tx_rec = e.tx_rec),"
	"         coalesce((SELECT sum(i.amount_fils) FROM tx_item i WHERE i.tx_rec = e.tx_rec), 0)"
	"   FROM tx_end e JOIN tx t ON t.rec = e.tx_rec"
	"   WHERE t.kind = 'fees' AND e.state = 'completed' AND e.rec > (SELECT a FROM acked))"
	" SELECT count(*), coalesce(sum(fils), 0), coalesce(sum(card IS ?1 AND card_fils > 0), 0),"
	"  coalesce(sum(CASE WHEN card IS ?1 THEN card_fils ELSE 0 END), 0)"
	" FROM money WHERE fils > 0";

static int unacked(sqlite3 *db, const char *card, struct ledger_unacked *out, struct kio_error *err)
{
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, unacked_sql, -1, &st, NULL) != SQLITE_OK)
		return sql_fail(db, err, "read unacknowledged money");
	if (card)
		sqlite3_bind_text(st, 1, card, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_text(st, 1, "", -1, SQLITE_STATIC); /* no card number is empty */
	int rc = 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		out->kiosk_count = sqlite3_column_int64(st, 0);
		out->kiosk_fils = sqlite3_column_int64(st, 1);
		out->card_count = sqlite3_column_int64(st, 2);
		out->card_fils = sqlite3_column_int64(st, 3);
	} else {
		rc = sql_fail(db, err, "read unacknowledged money");
	}
	sqlite3_finalize(st);
	return rc;
}

int ledger_sync_unacked(struct ledger_sync *ls, const char *card, struct ledger_unacked *out, struct kio_error *err)
{
	return unacked(ls->db, card, out, err);
}

int ledger_unacked_money(struct ledger *ledger, const char *card, struct ledger_unacked *out,
			 struct kio_error *err)
{
	return unacked(ledger_db(ledger), card, out, err);
}

int ledger_sync_catalogue_source(struct ledger_sync *ls, char *out, size_t cap, struct kio_error *err)
{
	out[0] = '\0';
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(ls->db, "SELECT source FROM catalogue_meta WHERE id = 1", -1, &st, NULL) != SQLITE_OK)
		return sql_fail(ls->db, err, "read the catalogue's source");
	int rc = 0, step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		snprintf(out, cap, "%s", v ? v : "");
	} else if (step != SQLITE_DONE) {
		rc = sql_fail(ls->db, err, "read the catalogue's source");
	}
	sqlite3_finalize(st);
	return rc;
}

int ledger_sync_check(struct ledger_sync *ls, struct kio_error *err) { return sync_state_check(ls->db, err); }

int sync_state_check(sqlite3 *db, struct kio_error *err)
{
	static const struct {
		int invariant;
		const char *what, *sql;
	} checks[] = {
		{2, "the host's acknowledgement passes the chain's last record",
		 "SELECT acked_rec > " "coalesce((SELECT rec FROM chain_head WHERE id = 1), 0) FROM sync_state WHERE id = 1"},
		{3, "an outbox row is marked sent before its transaction was acknowledged, or not after",
		 "SELECT count(*) FROM outbox o JOIN tx_end e ON e.tx_rec = o.tx_rec"
		 " WHERE (o.sent_s IS NOT NULL) != (e.rec <= (SELECT acked_rec FROM sync_state WHERE id = 1))"},
	};
	for (size_t k = 0; k < sizeof(checks) / sizeof(checks[0]); k++) {
		int64_t bad = 0;
		int rc = query_int(db, checks[k].sql, 0, 0, &bad, err, "check");
		if (rc)
			return rc;
		if (bad)
			return kio_fail(err, KIO_ERR_CORRUPT, "ledger sync: invariant %d broken: %s", checks[k].invariant,
					checks[k].what);
	}
	return 0;
}
