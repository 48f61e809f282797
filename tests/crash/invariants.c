/* The crash suite's invariants in SQL (invariants.h): one table, each query a single number
 * that is 0 when its promise holds. Parameters: :cashbox_fils, :stacked, :by_value, :max_fils
 * (struct crash_device). They read the ledger's tables as docs/ledger.md documents them. The
 * schema itself holds what needs no query (a transaction id or number used twice: UNIQUE).
 * `test-crash --check-invariants` (test crash-invariants) breaks each one in a copy of a good
 * database and requires its query, and no earlier one, to catch it. */
#include "invariants.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#define CREDITED "('credited', 'stacked')"
/* After a prune (kiosk/ledger/prune.c) the ledger starts at its chain_base: transaction numbers
 * go on from the base's, and the one journey it keeps (the newest pruned note, so its id is
 * never used again) has no booking left. The cashbox sums below count since the device
 * model's start, so they hold only for a ledger never pruned: the crash suite never prunes
 * (tests/unit/test-ledger-prune.c kills the prune itself). */
#define BASE_SEQ "(SELECT seq FROM chain_base WHERE id = 1)"
#define NOT_KEPT "n.id != (SELECT note_max FROM chain_base WHERE id = 1)"

static const struct {
	const char *promise;
	const char *sql;
} invariants[] = {
	/* Issue 11: "every credited note is in exactly one completed transaction or in suspense". */
	{"every credited note is in exactly one completed transaction or in suspense, at its value",
	 "SELECT count(*) FROM note_journey n WHERE n.state IN " CREDITED " AND " NOT_KEPT " AND"
	 " (SELECT count(*) FROM payment p JOIN tx_end e ON e.tx_rec = p.tx_rec"
	 "   WHERE p.note_id = n.id AND e.state = 'completed' AND p.value_fils = n.value_fils) +"
	 " (SELECT count(*) FROM suspense s WHERE s.note_id = n.id AND s.value_fils = n.value_fils) != 1"},
	{"no payment or suspense row without a credited note; no payment outside a completed transaction",
	 "SELECT (SELECT count(*) FROM payment p WHERE NOT EXISTS (SELECT 1 FROM note_journey n"
	 "   WHERE n.id = p.note_id AND n.state IN " CREDITED ")) +"
	 " (SELECT count(*) FROM payment p WHERE NOT EXISTS (SELECT 1 FROM tx_end e"
	 "   WHERE e.tx_rec = p.tx_rec AND e.state = 'completed')) +"
	 " (SELECT count(*) FROM suspense s WHERE NOT EXISTS (SELECT 1 FROM note_journey n"
	 "   WHERE n.id = s.note_id AND n.state IN " CREDITED "))"},
	/* Issue 11: "the sum of payments equals the device's stacked notes" (a note in suspense is
	 * in the cashbox too, so it counts on both sides). */
	{"payments + suspense (fils) equal the value of the notes in the device's cashbox",
	 "SELECT (SELECT coalesce(sum(value_fils), 0) FROM payment) +"
	 " (SELECT coalesce(sum(value_fils), 0) FROM suspense) - :cashbox_fils"},
	{"credited notes equal the device's stacked counter",
	 "SELECT (SELECT count(*) FROM note_journey WHERE state IN " CREDITED ") - :stacked"},
	{"credited notes by value equal the cashbox's notes by value",
	 "SELECT (SELECT count(*) FROM json_each(:by_value) c WHERE c.value !="
	 "   (SELECT count(*) FROM note_journey WHERE state IN " CREDITED
	 "    AND value_fils = CAST(c.key AS INTEGER))) +"
	 " (SELECT count(*) FROM note_journey n WHERE n.state IN " CREDITED " AND NOT EXISTS"
	 "   (SELECT 1 FROM json_each(:by_value) c WHERE CAST(c.key AS INTEGER) = n.value_fils))"},
	{"no note journey is left open after start-up (each ended stacked or returned)",
	 "SELECT count(*) FROM note_journey WHERE state NOT IN ('stacked', 'returned')"},
	{"no transaction is left open after start-up recovery",
	 "SELECT count(*) FROM tx WHERE rec NOT IN (SELECT tx_rec FROM tx_end)"},
	/* Issue 11: "sequence numbers are gapless and unique". */
	{"transaction numbers are unique and run 1, 2, 3... (after a prune, from the base's) without gaps",
	 "SELECT count(*) != coalesce(max(seq), " BASE_SEQ ") - " BASE_SEQ " OR count(DISTINCT seq) != count(*) OR"
	 " coalesce(min(seq), " BASE_SEQ " + 1) != " BASE_SEQ " + 1 FROM tx"},
	{"an end credits exactly its payments (cash and vouchers): a completed one more than 0, a top-up at most"
	 " the maximum, a cancelled one nothing",
	 "SELECT count(*) FROM tx_end e JOIN tx t ON t.rec = e.tx_rec WHERE e.credited_fils !="
	 " (SELECT coalesce(sum(value_fils), 0) FROM payment WHERE tx_rec = e.tx_rec) +"
	 " (SELECT coalesce(sum(value_fils), 0) FROM voucher_payment WHERE tx_rec = e.tx_rec)"
	 " OR (e.state = 'cancelled' AND e.credited_fils != 0)"
	 " OR (e.state = 'completed' AND e.credited_fils <= 0)"
	 " OR (t.kind = 'topup' AND e.state = 'completed' AND e.credited_fils > :max_fils)"},
	{"every completed top-up is queued for sync",
	 "SELECT count(*) FROM tx_end e WHERE e.state = 'completed' AND NOT EXISTS"
	 " (SELECT 1 FROM outbox o WHERE o.tx_rec = e.tx_rec)"},
	/* Issue 13: "every path is a ledger transaction whose items, payments and voucher records
	 * balance to the fils" (kiosk/ledger/tx.c invariant 9). */
	{"every fees transaction ended with a result for each line, and cash + vouchers paid in = lines paid,"
	 " offline or unconfirmed + card credits + vouchers issued, to the fils",
	 "SELECT count(*) FROM tx_end e JOIN tx t ON t.rec = e.tx_rec WHERE t.kind = 'fees' AND ("
	 " NOT EXISTS (SELECT 1 FROM fee_item WHERE tx_rec = e.tx_rec)"
	 " OR EXISTS (SELECT 1 FROM fee_item i WHERE i.tx_rec = e.tx_rec AND NOT EXISTS"
	 "   (SELECT 1 FROM fee_result r WHERE r.tx_rec = i.tx_rec AND r.n = i.n))"
	 " OR (SELECT coalesce(sum(value_fils), 0) FROM payment WHERE tx_rec = e.tx_rec) +"
	 "   (SELECT coalesce(sum(value_fils), 0) FROM voucher_payment WHERE tx_rec = e.tx_rec) !="
	 "   (SELECT coalesce(sum(i.amount_fils), 0) FROM fee_item i JOIN fee_result r ON r.tx_rec = i.tx_rec"
	 "     AND r.n = i.n WHERE i.tx_rec = e.tx_rec AND r.status IN ('paid', 'offline', 'unconfirmed')) +"
	 "   (SELECT coalesce(sum(amount_fils), 0) FROM tx_item WHERE tx_rec = e.tx_rec AND kind = 'topup') +"
	 "   (SELECT coalesce(sum(value_fils), 0) FROM voucher_issue WHERE tx_rec = e.tx_rec))"},
	/* Issue 13, a voucher "safe against a crash or a cut network at every point"
	 * (kiosk/ledger/basket.c invariant 15): whatever the host did with a redemption, the
	 * ledger either booked it or names it void for the host to give back. */
	{"every redemption intended into a transaction that ended is booked or void, never both, and nothing"
	 " is booked or void that was not intended",
	 "SELECT (SELECT count(*) FROM voucher_intent i WHERE EXISTS (SELECT 1 FROM tx_end e WHERE e.tx_rec = i.tx_rec)"
	 "   AND (SELECT count(*) FROM voucher_payment p WHERE p.redemption_id = i.redemption_id) +"
	 "   (SELECT count(*) FROM voucher_void v WHERE v.redemption_id = i.redemption_id) != 1) +"
	 " (SELECT count(*) FROM voucher_payment p WHERE NOT EXISTS (SELECT 1 FROM voucher_intent i"
	 "   WHERE i.redemption_id = p.redemption_id AND i.tx_rec = p.tx_rec AND i.value_fils = p.value_fils)) +"
	 " (SELECT count(*) FROM voucher_void v WHERE NOT EXISTS (SELECT 1 FROM voucher_intent i"
	 "   WHERE i.redemption_id = v.redemption_id AND i.tx_rec = v.tx_rec))"},
};

size_t crash_invariants_count(void) { return sizeof(invariants) / sizeof(invariants[0]); }

static void bind(sqlite3_stmt *st, const char *name, int64_t v)
{
	int i = sqlite3_bind_parameter_index(st, name);
	if (i)
		sqlite3_bind_int64(st, i, v);
}

int crash_invariants_check(const char *db_path, const struct crash_device *dev, char *why, size_t why_len)
{
	sqlite3 *db = NULL;
	int failed = 0;
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(why, why_len, "%s: %s", db_path, db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return -1;
	}
	for (size_t k = 0; k < crash_invariants_count() && !failed; k++) {
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(db, invariants[k].sql, -1, &st, NULL) != SQLITE_OK) {
			snprintf(why, why_len, "invariant %zu: %s", k + 1, sqlite3_errmsg(db));
			failed = (int)k + 1;
			break;
		}
		bind(st, ":cashbox_fils", dev->cashbox_fils);
		bind(st, ":stacked", dev->stacked);
		bind(st, ":max_fils", dev->max_fils);
		int i = sqlite3_bind_parameter_index(st, ":by_value");
		if (i)
			sqlite3_bind_text(st, i, dev->by_value, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW) {
			snprintf(why, why_len, "invariant %zu: %s", k + 1, sqlite3_errmsg(db));
			failed = (int)k + 1;
		} else if (sqlite3_column_int64(st, 0) != 0) {
			snprintf(why, why_len, "invariant %zu broken (%lld): %s", k + 1,
				 (long long)sqlite3_column_int64(st, 0), invariants[k].promise);
			failed = (int)k + 1;
		}
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return failed;
}
