/* Retention: removing the records the host holds and the kiosk no longer needs, whole
 * transactions at a time, in one SQLite transaction that leaves the chain verifiable. */
#define LOG_MODULE "ledger-prune"
#include "prune.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "chain-priv.h"
#include "kiosk/core/log.h"
#include "store-priv.h"

/*
 * A record's life, and what ledger_prune does (docs/ledger.md, "Retention"):
 *
 *   booked ──sync──► acknowledged ──(retention_days pass)──► prunable ──ledger_prune──► gone
 *   (rec > acked_rec)  (rec <= acked_rec)                      │                (chain_base
 *                                                              │                 stands for it)
 *   one SQLite transaction (BEGIN IMMEDIATE):                  ▼
 *     find upto: the longest prefix of the chain past the base whose every transaction end
 *       and suspense record is <= acked_rec and older than the cut-off, and books no note
 *       at or after the oldest open note journey
 *     INSERT prune_permit(upto, cutoff)         trigger prune_permit_valid: 1, 2, 3
 *     UPDATE chain_base: rec upto, its MAC, the last seq, the highest note id, keyed MAC
 *                                               [prune-base-written]
 *     DELETE receipt, outbox, tx_end, payment, tx_item, suspense, the basket's
 *       fee_result, voucher_payment, voucher_issue, fee_item, then tx <= upto
 *                                               triggers *_no_delete: 4
 *     DELETE note_step, note_journey of closed notes below the highest one pruned
 *     DELETE prune_permit                       trigger prune_permit_whole: 5
 *                                               [prune-written]
 *   COMMIT                                      [pruned]
 *
 * Invariants (T: a trigger of migration 8 enforces it against any SQL; ledger_check tests 4):
 *  1. Only records the host acknowledged go: upto <= sync_state.acked_rec, and no outbox row
 *     at or below it is unsent (T: prune_permit_valid). Unsynced records are never removed.
 *  2. Only records older than the retention go: every transaction end and suspense record at
 *     or below upto is at or before the cut-off (T: prune_permit_valid).
 *  3. Whole transactions: upto is a transaction's end or a suspense record, no transaction
 *     straddles it, and a transaction's outbox and receipt rows go with it (T:
 *     prune_permit_valid, prune_permit_whole).
 *  4. Deletes happen only inside a prune: a booked record, an outbox or receipt row is
 *     deleted only while a permit is set and only at or below it (T: *_no_delete); the
 *     permit is set and cleared in one SQLite transaction, so none is ever committed.
 *  5. A prune is whole or nothing: the permit is cleared only when no record at or below upto
 *     is left and the base stands at upto; the base moves only forward and only to a permit's
 *     end (T: prune_permit_whole, chain_base_moves_in_prune).
 *  6. The chain stays verifiable: the base carries record upto's MAC under a keyed MAC of its
 *     own (chain.c); verify, the head check, export and the sync start after it.
 *  7. Numbers and ids go on: the base keeps the last transaction number (tx_seq_gapless and
 *     the next number count from it) and the newest pruned note's journey is kept, so SQLite
 *     never hands its id to another note.
 *  8. A note journey goes only when it and every older journey are closed (stacked or
 *     returned) and no booking left names it.
 *
 * Kill points (ledger_checkpoint; tests/unit/test-ledger-prune.c SIGKILLs a child at each):
 *   prune-base-written   permit set, base moved, nothing deleted, not committed: after a
 *                        restart the ledger is as before the prune.
 *   prune-written        everything deleted, permit cleared, not committed: as before.
 *   pruned               committed: the records are gone, the chain verifies from the base.
 */

static int sql_fail(struct ledger *ledger, struct kio_error *err, const char *what)
{
	sqlite3 *db = ledger_db(ledger);
	if ((sqlite3_errcode(db) & 0xFF) == SQLITE_CONSTRAINT)
		return kio_fail(err, KIO_ERR_INVALID, "ledger prune: %s: %s", what, sqlite3_errmsg(db));
	struct kio_error local;
	struct kio_error *e = err ? err : &local;
	int rc = kio_fail(e, KIO_ERR_IO, "ledger prune: %s: %s", what, sqlite3_errmsg(db));
	ledger_write_failed(ledger, e);
	return rc;
}

/* One statement with up to two integer parameters; *out gets the first column of the first
 * row (out may be NULL), *changes the rows it changed (may be NULL). */
static int run(struct ledger *ledger, const char *sql, int64_t a, int64_t b, int64_t *out, int64_t *changes,
	       const char *what, struct kio_error *err)
{
	sqlite3 *db = ledger_db(ledger);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_fail(ledger, err, what);
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_int64(st, 1, a);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, b);
	int step = sqlite3_step(st);
	int rc = 0;
	if (step == SQLITE_ROW && out)
		*out = sqlite3_column_int64(st, 0);
	else if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = sql_fail(ledger, err, what);
	sqlite3_finalize(st);
	if (!rc && changes)
		*changes = sqlite3_changes64(db);
	return rc;
}

/* The end of the longest prunable prefix past the base (invariants 1, 2, 3, 8); 0 if none. */
static int find_upto(struct ledger *ledger, const struct chain_base *base, int64_t cutoff_s, int64_t *upto,
		     struct kio_error *err)
{
	*upto = 0;
	int64_t acked = 0, open_min = INT64_MAX;
	int rc = run(ledger, "SELECT acked_rec FROM sync_state WHERE id = 1", 0, 0, &acked, NULL, "read acked_rec", err);
	if (!rc)
		rc = run(ledger,
			 "SELECT coalesce(min(id), 9223372036854775807) FROM note_journey"
			 " WHERE state NOT IN ('stacked', 'returned')",
			 0, 0, &open_min, NULL, "find the oldest open note", err);
	if (rc || acked <= base->rec)
		return rc;
	sqlite3_stmt *st = NULL;
	/* Boundaries in chain order: each transaction's end with the highest note it booked, and
	 * each suspense record with its note. */
	if (sqlite3_prepare_v2(ledger_db(ledger),
			       "SELECT e.rec, e.at_s, (SELECT max(note_id) FROM payment WHERE tx_rec = e.tx_rec)"
			       " FROM tx_end e WHERE e.rec > ?1 AND e.rec <= ?2"
			       " UNION ALL SELECT s.rec, s.at_s, s.note_id FROM suspense s WHERE s.rec > ?1 AND s.rec <= ?2"
			       " ORDER BY 1",
			       -1, &st, NULL) != SQLITE_OK)
		return sql_fail(ledger, err, "list transaction ends");
	sqlite3_bind_int64(st, 1, base->rec);
	sqlite3_bind_int64(st, 2, acked);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t at_s = sqlite3_column_int64(st, 1);
		bool has_note = sqlite3_column_type(st, 2) != SQLITE_NULL;
		if (at_s > cutoff_s || (has_note && sqlite3_column_int64(st, 2) >= open_min))
			break; /* the prefix ends before the first record that must stay */
		*upto = sqlite3_column_int64(st, 0);
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = sql_fail(ledger, err, "list transaction ends");
	sqlite3_finalize(st);
	return rc;
}

/* Moves the base to upto (invariants 6, 7), inside the prune's write. */
static int move_base(struct ledger *ledger, const struct chain_base *old, int64_t upto, int64_t now_s,
		     struct chain_base *next, struct kio_error *err)
{
	*next = *old;
	next->rec = upto;
	int rc = run(ledger, "SELECT coalesce(max(seq), ?2) FROM tx WHERE rec <= ?1", upto, old->seq, &next->seq, NULL,
		     "read the last transaction number", err);
	if (!rc)
		rc = run(ledger,
			 "SELECT max(?2, coalesce((SELECT max(note_id) FROM payment WHERE rec <= ?1), 0),"
			 " coalesce((SELECT max(note_id) FROM suspense WHERE rec <= ?1), 0))",
			 upto, old->note_max, &next->note_max, NULL, "read the last note", err);
	if (rc)
		return rc;
	sqlite3 *db = ledger_db(ledger);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT mac FROM tx_end WHERE rec = ?1 UNION ALL SELECT mac FROM suspense WHERE rec = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return sql_fail(ledger, err, "read the last pruned MAC");
	sqlite3_bind_int64(st, 1, upto);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == LEDGER_MAC_BYTES)
		memcpy(next->last_mac, sqlite3_column_blob(st, 0), LEDGER_MAC_BYTES);
	else
		rc = kio_fail(err, KIO_ERR_CORRUPT, "ledger prune: record %" PRId64 " has no MAC to keep", upto);
	sqlite3_finalize(st);
	if (rc)
		return rc;
	chain_base_mac(ledger_key(ledger), next, next->mac);
	if (sqlite3_prepare_v2(db,
			       "UPDATE chain_base SET rec = ?, last_mac = ?, seq = ?, note_max = ?, pruned_s = ?, mac = ?"
			       " WHERE id = 1",
			       -1, &st, NULL) != SQLITE_OK)
		return sql_fail(ledger, err, "move the chain base");
	sqlite3_bind_int64(st, 1, next->rec);
	sqlite3_bind_blob(st, 2, next->last_mac, LEDGER_MAC_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, next->seq);
	sqlite3_bind_int64(st, 4, next->note_max);
	sqlite3_bind_int64(st, 5, now_s);
	sqlite3_bind_blob(st, 6, next->mac, LEDGER_MAC_BYTES, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sql_fail(ledger, err, "move the chain base");
	sqlite3_finalize(st);
	return rc;
}

/* Children before parents: foreign keys are on (store.c). Every chained table but tx names
 * its transaction (or none), so they go first, taken from chain_specs: a chained table added
 * later is pruned with its transaction without a list here to forget it. */
static int delete_records(struct ledger *ledger, int64_t upto, struct kio_error *err)
{
	int rc = run(ledger, "DELETE FROM receipt WHERE tx_rec <= ?1", upto, 0, NULL, NULL, "remove receipt rows", err);
	if (!rc)
		rc = run(ledger, "DELETE FROM outbox WHERE tx_rec <= ?1", upto, 0, NULL, NULL, "remove outbox rows", err);
	for (int t = 0; !rc && t <= CHAIN_TABLE_COUNT; t++) {
		/* tx last: t == CHAIN_TABLE_COUNT stands for it. */
		if (t == CHAIN_TX)
			continue;
		const char *table = chain_specs[t == CHAIN_TABLE_COUNT ? CHAIN_TX : t].table;
		char sql[96], what[64];
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE rec <= ?1", table);
		snprintf(what, sizeof(what), "remove the %s records", table);
		rc = run(ledger, sql, upto, 0, NULL, NULL, what, err);
	}
	return rc;
}

/* Invariant 8: journeys below the newest pruned note (kept: invariant 7) that no booking
 * left names; find_upto made sure every one of them is closed. */
#define UNBOOKED_BELOW                                                                                         \
	"id < ?1 AND NOT EXISTS (SELECT 1 FROM payment WHERE note_id = note_journey.id)"                       \
	" AND NOT EXISTS (SELECT 1 FROM suspense WHERE note_id = note_journey.id)"

int ledger_prune(struct ledger *ledger, int64_t now_s, int retention_days, struct ledger_prune_result *out,
		 struct kio_error *err)
{
	struct ledger_prune_result res = {0};
	if (out)
		*out = res;
	if (retention_days < 1)
		return kio_fail(err, KIO_ERR_INVALID, "ledger prune: retention_days must be 1 or more, not %d",
				retention_days);
	if (ledger_write_open(ledger))
		return kio_fail(err, KIO_ERR_BUSY, "ledger prune: another write is open");
	int rc = ledger_refuse_while_failing(ledger, "ledger prune", err);
	if (rc)
		return rc;
	int64_t cutoff_s = now_s - (int64_t)retention_days * LEDGER_DAY_S;
	rc = ledger_write_begin(ledger, "ledger prune: begin", err);
	if (rc)
		return rc;
	struct chain_base base, next;
	rc = chain_base_read(ledger_db(ledger), &base, err);
	int64_t upto = 0;
	if (!rc)
		rc = find_upto(ledger, &base, cutoff_s, &upto, err);
	if (rc || upto == 0) {
		ledger_write_rollback(ledger);
		res.upto = base.rec;
		if (out && !rc)
			*out = res;
		return rc;
	}
	rc = run(ledger, "INSERT INTO prune_permit(id, upto, cutoff_s) VALUES (1, ?1, ?2)", upto, cutoff_s, NULL, NULL,
		 "set the prune permit", err);
	if (!rc)
		rc = move_base(ledger, &base, upto, now_s, &next, err);
	if (rc)
		goto out_rollback;
	ledger_checkpoint(ledger, "prune-base-written");
	rc = run(ledger, "SELECT count(*) FROM tx WHERE rec <= ?1", upto, 0, &res.transactions, NULL,
		 "count transactions", err);
	if (!rc)
		rc = delete_records(ledger, upto, err);
	if (!rc)
		rc = run(ledger, "DELETE FROM note_step WHERE note_id IN (SELECT id FROM note_journey WHERE " UNBOOKED_BELOW ")",
			 next.note_max, 0, NULL, NULL, "remove note steps", err);
	if (!rc)
		rc = run(ledger, "DELETE FROM note_journey WHERE " UNBOOKED_BELOW, next.note_max, 0, NULL, &res.notes,
			 "remove note journeys", err);
	if (!rc) /* invariant 5: the trigger refuses a prune that left anything behind */
		rc = run(ledger, "DELETE FROM prune_permit WHERE id = 1", 0, 0, NULL, NULL, "clear the prune permit", err);
	if (rc)
		goto out_rollback;
	ledger_checkpoint(ledger, "prune-written");
	rc = ledger_write_commit(ledger, "ledger prune: commit", err);
	if (rc)
		return rc;
	ledger_checkpoint(ledger, "pruned");
	res.upto = upto;
	res.records = upto - base.rec;
	LOG_INFO("pruned records %" PRId64 "..%" PRId64 " (%" PRId64 " transactions, %" PRId64
		 " note journeys): acknowledged by the host and older than %d days",
		 base.rec + 1, upto, res.transactions, res.notes, retention_days);
	if (out)
		*out = res;
	return 0;

out_rollback:
	ledger_write_rollback(ledger);
	return rc;
}

bool ledger_prune_daily(struct ledger *ledger, int64_t now_s, int retention_days, int64_t *last_s)
{
	/* A clock set back runs it again rather than never. */
	if (*last_s != 0 && now_s >= *last_s && now_s - *last_s < LEDGER_DAY_S)
		return false;
	*last_s = now_s;
	struct ledger_prune_result res;
	struct kio_error err = {0};
	if (ledger_prune(ledger, now_s, retention_days, &res, &err) != 0)
		LOG_WARN("daily prune not done, tried again tomorrow (nothing is lost): %s", err.msg);
	return true;
}
