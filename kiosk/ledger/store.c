/* SQLite open, start-up checks, schema migrations, and the store's health at run time. */
#define LOG_MODULE "ledger"
#include "store.h"
#include "store-priv.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chain-priv.h"
#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"

/*
 * The store's health (one kiosk, one database):
 *
 *   (ledger_open)         a write fails after the busy timeout
 *   ─────────────► OK ─────────────────────────────────────────► FAILING
 *                   ▲                                              │
 *                   └──── ledger_recover: probe + kept events ─────┘
 *                         committed in one transaction
 *
 * Invariants:
 *  1. One process has the database: ledger_open takes an exclusive lock on <db>.lock for
 *     the ledger's life, so two kiosks never migrate, write or run a simulated device
 *     (<db>.sim-cash) over the same files. The holder's pid is in the lock file.
 *  2. Nothing writes the database file before its schema version is known to be one this
 *     kiosk understands: a newer database is refused byte for byte unchanged.
 *  3. ledger_open returns 0 only for a store that took a committed write (the probe), is
 *     not read-only and passes PRAGMA quick_check.
 *  4. In FAILING no write is tried (the note journal and device events fail at once, without
 *     the busy wait), and every device event offered is kept in memory, in order, until
 *     ledger_recover commits it; only events beyond LEDGER_PENDING_MAX are lost, and their
 *     number is itself recorded. The listener hears each change of state once.
 *  5. A statement from ledger_stmt is the connection's own, prepared once per SQL text and
 *     kept until ledger_close (preparing was a sixth of a headless top-up's CPU, README:
 *     Benchmarks). Between uses it is reset with no bindings: it holds no read snapshot,
 *     no lock and no pointer into its last caller's memory. It is a cache and nothing more:
 *     what each statement does, and when anything commits, is the caller's as before.
 */

/* How long a write waits for another connection's lock before the store counts as failing:
 * long enough for a technician's sqlite3 read or a checkpoint, short enough that the UI
 * thread does not freeze for long. */
#define LEDGER_BUSY_MS 2000
/* Device events kept while the store fails: a day of flapping devices is far below this. */
#define LEDGER_PENDING_MAX 256

/* Distinct SQL texts kept prepared (invariant 5): the ledger's own are about fifty; a text
 * beyond these is prepared and finalized per use, as before the cache. */
#define LEDGER_STMT_MAX 96

struct cached_stmt {
	char *sql;
	uint32_t hash;
	sqlite3_stmt *st;
	bool out; /* handed out and not yet given back: a nested use gets its own statement */
};

struct pending_event {
	int64_t at_s;
	char *device, *state, *detail;
};

struct ledger {
	sqlite3 *db;
	int lock_fd; /* -1 for an in-memory database */
	bool failing;
	char why[256];
	ledger_fault_fn on_fault;
	void *on_fault_user;
	struct pending_event pending[LEDGER_PENDING_MAX];
	size_t n_pending;
	uint64_t lost; /* device events beyond the queue while failing */
	int write_depth; /* 0: no write open; 1: BEGIN IMMEDIATE; more: savepoints */
	uint8_t key[LEDGER_KEY_BYTES];
	ledger_checkpoint_fn checkpoint;
	void *checkpoint_user;
	struct cached_stmt stmts[LEDGER_STMT_MAX];
	size_t n_stmts;
};

/*
 * Append-only: migration N takes user_version N-1 to N. Never edit one that has shipped;
 * add the next. All pending migrations run in one BEGIN IMMEDIATE transaction that first
 * re-reads user_version, so a crash mid-migration leaves the previous version intact and a
 * second writer can never apply one twice.
 */
static const char *const migrations[] = {
	/* 1: device state changes, for the technicians' menu and fault history. */
	"CREATE TABLE device_event ("
	"  id INTEGER PRIMARY KEY,"
	"  at_s INTEGER NOT NULL,"
	"  device TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  detail TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX device_event_by_device ON device_event(device, id);",
	/* 2: each banknote's journey from escrow to the cashbox or back (notes.h). One row per
	 * note with its current state, and every step it took, for reconciliation after a
	 * crash and for the technicians' audit. */
	"CREATE TABLE note_journey ("
	"  id INTEGER PRIMARY KEY,"
	"  device TEXT NOT NULL,"
	"  channel INTEGER NOT NULL,"
	"  value_fils INTEGER NOT NULL CHECK (value_fils >= 0),"
	"  state TEXT NOT NULL"
	"    CHECK (state IN ('escrow', 'accepted', 'credited', 'stacked', 'returned')),"
	"  counters_known INTEGER NOT NULL,"
	"  stacked_before INTEGER NOT NULL,"
	"  rejected_before INTEGER NOT NULL,"
	"  begun_s INTEGER NOT NULL,"
	"  credited_s INTEGER,"
	"  closed_s INTEGER"
	");"
	"CREATE INDEX note_journey_open ON note_journey(device, state, id);"
	"CREATE TABLE note_step ("
	"  id INTEGER PRIMARY KEY,"
	"  note_id INTEGER NOT NULL REFERENCES note_journey(id),"
	"  at_s INTEGER NOT NULL,"
	"  state TEXT NOT NULL,"
	"  why TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX note_step_by_note ON note_step(note_id, id);",
	/* 3: one row the kiosk rewrites at start-up and when it checks a failing store: a
	 * committed write proves the file, its WAL and the disk under them take one (invariant
	 * 3), which neither sqlite3_db_readonly nor quick_check can. */
	"CREATE TABLE store_probe ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  pid INTEGER NOT NULL,"
	"  writes INTEGER NOT NULL"
	");"
	"INSERT INTO store_probe(id, pid, writes) VALUES (1, 0, 0);",
	/* 4: the money ledger (tx.c, chain.c, docs/ledger.md). Every booked record (tx, tx_item,
	 * payment, suspense, tx_end) has its place `rec` in one chain shared by the five tables
	 * and an HMAC-SHA256 over its fields and the previous record's MAC. Triggers keep the
	 * records append-only and the money rules of tx.c (invariants cited). The outbox is a
	 * queue for the sync, not a booked record: its rows are marked sent later. */
	"CREATE TABLE tx ("
	"  rec INTEGER PRIMARY KEY,"
	"  uuid TEXT NOT NULL UNIQUE CHECK (length(uuid) = 36),"
	"  seq INTEGER NOT NULL UNIQUE CHECK (seq >= 1),"
	"  kind TEXT NOT NULL CHECK (kind IN ('topup')),"
	"  lang TEXT NOT NULL CHECK (lang IN ('ar', 'en')),"
	"  opened_s INTEGER NOT NULL,"
	"  mac BLOB NOT NULL CHECK (length(mac) = 32)"
	") STRICT;"
	"CREATE TABLE tx_item ("
	"  rec INTEGER PRIMARY KEY,"
	"  tx_rec INTEGER NOT NULL REFERENCES tx(rec),"
	"  kind TEXT NOT NULL CHECK (kind IN ('topup')),"
	"  card TEXT,"
	"  amount_fils INTEGER CHECK (amount_fils IS NULL OR amount_fils >= 0),"
	"  mac BLOB NOT NULL CHECK (length(mac) = 32)"
	") STRICT;"
	"CREATE INDEX tx_item_by_tx ON tx_item(tx_rec);"
	"CREATE TABLE payment ("
	"  rec INTEGER PRIMARY KEY,"
	"  tx_rec INTEGER NOT NULL REFERENCES tx(rec),"
	"  method TEXT NOT NULL CHECK (method IN ('cash')),"
	"  note_id INTEGER UNIQUE REFERENCES note_journey(id),"
	"  value_fils INTEGER NOT NULL CHECK (value_fils >= 0),"
	"  at_s INTEGER NOT NULL,"
	"  mac BLOB NOT NULL CHECK (length(mac) = 32),"
	"  CHECK (method != 'cash' OR note_id IS NOT NULL)"
	") STRICT;"
	"CREATE INDEX payment_by_tx ON payment(tx_rec);"
	"CREATE TABLE suspense ("
	"  rec INTEGER PRIMARY KEY,"
	"  note_id INTEGER NOT NULL UNIQUE REFERENCES note_journey(id),"
	"  value_fils INTEGER NOT NULL CHECK (value_fils >= 0),"
	"  at_s INTEGER NOT NULL,"
	"  why TEXT NOT NULL,"
	"  mac BLOB NOT NULL CHECK (length(mac) = 32)"
	") STRICT;"
	"CREATE TABLE tx_end ("
	"  rec INTEGER PRIMARY KEY,"
	"  tx_rec INTEGER NOT NULL UNIQUE REFERENCES tx(rec),"
	"  state TEXT NOT NULL CHECK (state IN ('completed', 'cancelled')),"
	"  recovered INTEGER NOT NULL CHECK (recovered IN (0, 1)),"
	"  credited_fils INTEGER NOT NULL CHECK (credited_fils >= 0),"
	"  at_s INTEGER NOT NULL,"
	"  mac BLOB NOT NULL CHECK (length(mac) = 32)"
	") STRICT;"
	"CREATE TABLE chain_head ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  rec INTEGER NOT NULL,"
	"  last_mac BLOB NOT NULL,"
	"  mac BLOB NOT NULL"
	") STRICT;"
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY,"
	"  tx_rec INTEGER NOT NULL UNIQUE REFERENCES tx(rec),"
	"  queued_s INTEGER NOT NULL,"
	"  sent_s INTEGER"
	") STRICT;"
	/* tx.c invariant 4: booked records are never changed or removed. */
	"CREATE TRIGGER tx_no_update BEFORE UPDATE ON tx BEGIN SELECT RAISE(ABORT, 'ledger: tx is append-only'); END;"
	"CREATE TRIGGER tx_no_delete BEFORE DELETE ON tx BEGIN SELECT RAISE(ABORT, 'ledger: tx is append-only'); END;"
	"CREATE TRIGGER tx_item_no_update BEFORE UPDATE ON tx_item"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: tx_item is append-only'); END;"
	"CREATE TRIGGER tx_item_no_delete BEFORE DELETE ON tx_item"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: tx_item is append-only'); END;"
	"CREATE TRIGGER payment_no_update BEFORE UPDATE ON payment"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: payment is append-only'); END;"
	"CREATE TRIGGER payment_no_delete BEFORE DELETE ON payment"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: payment is append-only'); END;"
	"CREATE TRIGGER suspense_no_update BEFORE UPDATE ON suspense"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: suspense is append-only'); END;"
	"CREATE TRIGGER suspense_no_delete BEFORE DELETE ON suspense"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: suspense is append-only'); END;"
	"CREATE TRIGGER tx_end_no_update BEFORE UPDATE ON tx_end"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: tx_end is append-only'); END;"
	"CREATE TRIGGER tx_end_no_delete BEFORE DELETE ON tx_end"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: tx_end is append-only'); END;"
	"CREATE TRIGGER outbox_no_delete BEFORE DELETE ON outbox"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: outbox rows are kept'); END;"
	"CREATE TRIGGER outbox_only_sent BEFORE UPDATE ON outbox"
	"  WHEN NEW.id IS NOT OLD.id OR NEW.tx_rec IS NOT OLD.tx_rec OR NEW.queued_s IS NOT OLD.queued_s"
	"    OR OLD.sent_s IS NOT NULL"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: an outbox row is only marked sent, once'); END;"
	/* tx.c invariant 1: one transaction open at a time. */
	"CREATE TRIGGER tx_one_open BEFORE INSERT ON tx"
	"  WHEN EXISTS (SELECT 1 FROM tx WHERE rec NOT IN (SELECT tx_rec FROM tx_end))"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: a transaction is already open'); END;"
	/* tx.c invariant 5: sequence numbers are gapless. */
	"CREATE TRIGGER tx_seq_gapless BEFORE INSERT ON tx"
	"  WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM tx)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: transaction numbers are gapless'); END;"
	/* tx.c invariant 3: money is booked only to an open transaction. */
	"CREATE TRIGGER payment_to_open_tx BEFORE INSERT ON payment"
	"  WHEN EXISTS (SELECT 1 FROM tx_end WHERE tx_rec = NEW.tx_rec)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: payment to a closed transaction'); END;"
	"CREATE TRIGGER item_to_open_tx BEFORE INSERT ON tx_item"
	"  WHEN EXISTS (SELECT 1 FROM tx_end WHERE tx_rec = NEW.tx_rec)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: item for a closed transaction'); END;"
	/* tx.c invariant 2: a note is booked once, to a payment or to suspense. */
	"CREATE TRIGGER payment_note_once BEFORE INSERT ON payment"
	"  WHEN NEW.note_id IN (SELECT note_id FROM suspense)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: note already in suspense'); END;"
	"CREATE TRIGGER suspense_note_once BEFORE INSERT ON suspense"
	"  WHEN NEW.note_id IN (SELECT note_id FROM payment WHERE note_id IS NOT NULL)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: note already paid'); END;"
	/* tx.c invariant 6: a completion credits what was paid; a cancel has nothing paid. */
	"CREATE TRIGGER tx_end_matches_paid BEFORE INSERT ON tx_end"
	"  WHEN NEW.credited_fils IS NOT (SELECT coalesce(sum(value_fils), 0) FROM payment WHERE tx_rec = NEW.tx_rec)"
	"    OR (NEW.state = 'cancelled' AND NEW.credited_fils != 0)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: an end must credit exactly what was paid'); END;",
	/* 5: each transaction's receipt as the printer saw it (tx.c, "Receipts"): when it was
	 * last sent, how often, and when the printer said it printed. A print state, not a booked
	 * record: it is not chained, and only printed_s moves, once. It lets a recovery receipt
	 * print once across restarts and a reprint say DUPLICATE. */
	"CREATE TABLE receipt ("
	"  tx_rec INTEGER PRIMARY KEY REFERENCES tx(rec),"
	"  sent_s INTEGER NOT NULL,"
	"  sends INTEGER NOT NULL CHECK (sends >= 1),"
	"  printed_s INTEGER"
	") STRICT;"
	"CREATE TRIGGER receipt_no_delete BEFORE DELETE ON receipt"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: receipt rows are kept'); END;"
	"CREATE TRIGGER receipt_printed_once BEFORE UPDATE ON receipt"
	"  WHEN NEW.tx_rec IS NOT OLD.tx_rec OR NEW.sends < OLD.sends"
	"    OR (OLD.printed_s IS NOT NULL AND NEW.printed_s IS NOT OLD.printed_s)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: a receipt row only counts sends and is marked printed once'); END;",
	/* 6: when the printer last reported a send of the receipt failed (paper out or offline
	 * mid-job): the customer was told to note the number, and a reprint knows this receipt
	 * never came out whole. Set on each failure until the receipt is printed, never after. */
	"ALTER TABLE receipt ADD COLUMN failed_s INTEGER;"
	"CREATE TRIGGER receipt_failed_before_printed BEFORE UPDATE OF failed_s ON receipt"
	"  WHEN OLD.printed_s IS NOT NULL AND NEW.failed_s IS NOT OLD.failed_s"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: a printed receipt cannot fail'); END;",
	/* 7: what the host has acknowledged of the chain (kiosk/sync, sync-state.c): one row,
	 * moved with the outbox rows' sent_s in one commit. acked_rec only grows (sync-state.c
	 * invariant 1) and never passes the chain's last record (invariant 2). */
	"CREATE TABLE sync_state ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  acked_rec INTEGER NOT NULL CHECK (acked_rec >= 0),"
	"  acked_s INTEGER,"
	"  last_ok_s INTEGER,"
	"  last_error TEXT,"
	"  last_error_s INTEGER,"
	"  attempts INTEGER NOT NULL CHECK (attempts >= 0)"
	") STRICT;"
	"INSERT INTO sync_state(id, acked_rec, attempts) VALUES (1, 0, 0);"
	"CREATE TRIGGER sync_state_no_delete BEFORE DELETE ON sync_state"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: the sync state is kept'); END;"
	"CREATE TRIGGER sync_state_acked_grows BEFORE UPDATE ON sync_state"
	"  WHEN NEW.acked_rec < OLD.acked_rec OR NEW.id IS NOT OLD.id"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: the host''s acknowledgement never moves backwards'); END;",
	/* 8: retention (prune.c, docs/ledger.md "Retention"). chain_base stands for the records
	 * pruned: the last one's number and MAC (where the chain goes on), the last transaction
	 * number and note id they held (so numbers stay gapless and ids unique), and a keyed MAC
	 * over all of it (rec 0: nothing pruned, no MAC). prune_permit is set and cleared inside
	 * the one SQLite transaction of a prune: a booked record, its outbox and receipt rows
	 * may be deleted only while it is set, only at or below its `upto`, which a trigger
	 * checks is acknowledged by the host, older than the cut-off and a transaction's end
	 * (prune.c invariants 1-4); clearing it checks the prune is whole (invariant 5). */
	"CREATE TABLE chain_base ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  rec INTEGER NOT NULL CHECK (rec >= 0),"
	"  last_mac BLOB NOT NULL CHECK (length(last_mac) = 32),"
	"  seq INTEGER NOT NULL CHECK (seq >= 0),"
	"  note_max INTEGER NOT NULL CHECK (note_max >= 0),"
	"  pruned_s INTEGER,"
	"  mac BLOB NOT NULL CHECK (length(mac) = 32)"
	") STRICT;"
	"INSERT INTO chain_base(id, rec, last_mac, seq, note_max, mac) VALUES (1, 0, zeroblob(32), 0, 0, zeroblob(32));"
	"CREATE TABLE prune_permit ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  upto INTEGER NOT NULL,"
	"  cutoff_s INTEGER NOT NULL"
	") STRICT;"
	/* Invariants 1-4: the permit names a transaction's end (or a suspense record) that the
	 * host acknowledged, beyond the base, with nothing at or below it newer than the cut-off
	 * and no transaction straddling it. */
	"CREATE TRIGGER prune_permit_valid BEFORE INSERT ON prune_permit"
	"  WHEN NEW.upto > (SELECT acked_rec FROM sync_state WHERE id = 1)"
	"    OR NEW.upto <= (SELECT rec FROM chain_base WHERE id = 1)"
	"    OR NOT (NEW.upto IN (SELECT rec FROM tx_end) OR NEW.upto IN (SELECT rec FROM suspense))"
	"    OR EXISTS (SELECT 1 FROM tx_end WHERE rec <= NEW.upto AND at_s > NEW.cutoff_s)"
	"    OR EXISTS (SELECT 1 FROM suspense WHERE rec <= NEW.upto AND at_s > NEW.cutoff_s)"
	"    OR EXISTS (SELECT 1 FROM tx t WHERE t.rec <= NEW.upto"
	"      AND NOT EXISTS (SELECT 1 FROM tx_end e WHERE e.tx_rec = t.rec AND e.rec <= NEW.upto))"
	"    OR EXISTS (SELECT 1 FROM outbox o WHERE o.sent_s IS NULL"
	"      AND o.tx_rec IN (SELECT tx_rec FROM tx_end WHERE rec <= NEW.upto))"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: a prune may only take whole transactions the host acknowledged,"
	" older than the retention'); END;"
	"CREATE TRIGGER prune_permit_fixed BEFORE UPDATE ON prune_permit"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: a prune permit is not changed'); END;"
	/* Invariant 5: the permit is cleared only when nothing at or below it is left and the
	 * base stands at its end. */
	"CREATE TRIGGER prune_permit_whole BEFORE DELETE ON prune_permit"
	"  WHEN (SELECT rec FROM chain_base WHERE id = 1) != OLD.upto"
	"    OR EXISTS (SELECT 1 FROM tx WHERE rec <= OLD.upto) OR EXISTS (SELECT 1 FROM tx_item WHERE rec <= OLD.upto)"
	"    OR EXISTS (SELECT 1 FROM payment WHERE rec <= OLD.upto)"
	"    OR EXISTS (SELECT 1 FROM suspense WHERE rec <= OLD.upto)"
	"    OR EXISTS (SELECT 1 FROM tx_end WHERE rec <= OLD.upto)"
	"    OR EXISTS (SELECT 1 FROM outbox WHERE tx_rec <= OLD.upto)"
	"    OR EXISTS (SELECT 1 FROM receipt WHERE tx_rec <= OLD.upto)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: a prune must remove every record up to its end'); END;"
	"CREATE TRIGGER chain_base_no_delete BEFORE DELETE ON chain_base"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: the chain base is kept'); END;"
	"CREATE TRIGGER chain_base_moves_in_prune BEFORE UPDATE ON chain_base"
	"  WHEN NEW.id IS NOT OLD.id OR NEW.rec IS NOT (SELECT upto FROM prune_permit WHERE id = 1)"
	"    OR NEW.seq < OLD.seq OR NEW.note_max < OLD.note_max"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: the chain base only moves forward, to a prune''s end'); END;"
	/* tx.c invariant 4, now with the prune's one exception. */
	"DROP TRIGGER tx_no_delete; DROP TRIGGER tx_item_no_delete; DROP TRIGGER payment_no_delete;"
	"DROP TRIGGER suspense_no_delete; DROP TRIGGER tx_end_no_delete;"
	"DROP TRIGGER outbox_no_delete; DROP TRIGGER receipt_no_delete;"
	"CREATE TRIGGER tx_no_delete BEFORE DELETE ON tx"
	"  WHEN NOT EXISTS (SELECT 1 FROM prune_permit WHERE OLD.rec <= upto)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: tx is append-only (only a prune removes it)'); END;"
	"CREATE TRIGGER tx_item_no_delete BEFORE DELETE ON tx_item"
	"  WHEN NOT EXISTS (SELECT 1 FROM prune_permit WHERE OLD.rec <= upto)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: tx_item is append-only (only a prune removes it)'); END;"
	"CREATE TRIGGER payment_no_delete BEFORE DELETE ON payment"
	"  WHEN NOT EXISTS (SELECT 1 FROM prune_permit WHERE OLD.rec <= upto)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: payment is append-only (only a prune removes it)'); END;"
	"CREATE TRIGGER suspense_no_delete BEFORE DELETE ON suspense"
	"  WHEN NOT EXISTS (SELECT 1 FROM prune_permit WHERE OLD.rec <= upto)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: suspense is append-only (only a prune removes it)'); END;"
	"CREATE TRIGGER tx_end_no_delete BEFORE DELETE ON tx_end"
	"  WHEN NOT EXISTS (SELECT 1 FROM prune_permit WHERE OLD.rec <= upto)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: tx_end is append-only (only a prune removes it)'); END;"
	"CREATE TRIGGER outbox_no_delete BEFORE DELETE ON outbox"
	"  WHEN OLD.sent_s IS NULL OR NOT EXISTS (SELECT 1 FROM prune_permit WHERE OLD.tx_rec <= upto)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: outbox rows are kept (only a prune removes a sent one)'); END;"
	"CREATE TRIGGER receipt_no_delete BEFORE DELETE ON receipt"
	"  WHEN NOT EXISTS (SELECT 1 FROM prune_permit WHERE OLD.tx_rec <= upto)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: receipt rows are kept (only a prune removes them)'); END;"
	/* tx.c invariant 5 across a prune: the next number follows the base's when no
	 * transaction is left. */
	"DROP TRIGGER tx_seq_gapless;"
	"CREATE TRIGGER tx_seq_gapless BEFORE INSERT ON tx"
	"  WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), (SELECT seq FROM chain_base WHERE id = 1), 0) + 1 FROM tx)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: transaction numbers are gapless'); END;",
	/* 9: tx.c invariant 1 in constant time. Migration 4's tx_one_open looked for any
	 * transaction without an end, a scan of every transaction at each open: 13 ms at 16,668
	 * transactions (bench/hostd, bench-sync's ledger build). Since the trigger has always
	 * refused a second open, an open transaction can only be the newest one, so looking at
	 * the newest (the rowid's max) and its end (tx_end.tx_rec is UNIQUE, so indexed) is the
	 * same rule. ledger_check still tests the invariant in full. */
	"DROP TRIGGER tx_one_open;"
	"CREATE TRIGGER tx_one_open BEFORE INSERT ON tx"
	"  WHEN EXISTS (SELECT 1 FROM tx t WHERE t.rec = (SELECT max(rec) FROM tx)"
	"    AND NOT EXISTS (SELECT 1 FROM tx_end e WHERE e.tx_rec = t.rec))"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: a transaction is already open'); END;"
	/* tx.c invariant 2 likewise: `IN (SELECT note_id FROM payment WHERE note_id IS NOT NULL)`
	 * built a list of every paid note for each suspense booking; EXISTS on the unique
	 * note_id is one index probe. */
	"DROP TRIGGER suspense_note_once;"
	"CREATE TRIGGER suspense_note_once BEFORE INSERT ON suspense"
	"  WHEN EXISTS (SELECT 1 FROM payment WHERE note_id = NEW.note_id)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: note already paid'); END;",
	/* 10: the fees catalogue's last good copy (kiosk/fees/catalogue-store.c, issue 13):
	 * configuration, not money, so no rec, no MAC and no chain; replaced whole, in one
	 * commit, when a catalogue that passes every check differs from it, and read back (and
	 * checked again) when the files do not pass. The CHECKs repeat the loader's rules the
	 * table can say, so a stored copy cannot hold what the loader refuses. */
	"CREATE TABLE catalogue_meta ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  version TEXT NOT NULL CHECK (length(version) = 64),"
	"  source TEXT NOT NULL"
	") STRICT;"
	"CREATE TABLE catalogue_entity ("
	"  id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 32),"
	"  name_en TEXT NOT NULL,"
	"  name_ar TEXT NOT NULL,"
	"  icon TEXT NOT NULL,"
	"  ord INTEGER NOT NULL CHECK (ord BETWEEN 0 AND 9999)"
	") STRICT;"
	"CREATE TABLE catalogue_service ("
	"  entity TEXT NOT NULL REFERENCES catalogue_entity(id),"
	"  n INTEGER NOT NULL CHECK (n >= 0),"
	"  id TEXT NOT NULL UNIQUE CHECK (length(id) BETWEEN 1 AND 32),"
	"  name_en TEXT NOT NULL,"
	"  name_ar TEXT NOT NULL,"
	"  kind TEXT NOT NULL CHECK (kind IN ('fixed', 'inquiry', 'open')),"
	"  amount_fils INTEGER CHECK ((kind = 'fixed') = (amount_fils IS NOT NULL)),"
	"  min_fils INTEGER, max_fils INTEGER, step_fils INTEGER,"
	"  ref_name_en TEXT, ref_name_ar TEXT, ref_min_len INTEGER, ref_max_len INTEGER,"
	"  ref_check TEXT CHECK (ref_check IS NULL OR ref_check IN ('none', 'luhn', 'mod97', 'damm')),"
	"  host_entity TEXT NOT NULL,"
	"  host_service TEXT NOT NULL,"
	"  needs_host INTEGER NOT NULL CHECK (needs_host IN (0, 1)),"
	"  PRIMARY KEY (entity, n),"
	"  CHECK ((kind = 'open') = (min_fils IS NOT NULL AND max_fils IS NOT NULL AND step_fils IS NOT NULL)),"
	"  CHECK ((ref_check IS NULL) = (ref_name_en IS NULL) AND (ref_check IS NULL) = (ref_min_len IS NULL))"
	") STRICT;",
	/* 11: the basket ledger of issue 13 (basket.c, docs/ledger.md "A fees transaction").
	 * tx.kind gains 'fees': tx is rebuilt with the wider CHECK, keeping every row and MAC
	 * (a CHECK cannot be altered in place, and PRAGMA foreign_keys cannot change inside the
	 * migration's transaction). The rows wait in a plain table while tx is dropped and made
	 * again; defer_foreign_keys lets the children (tx_item, payment, tx_end, outbox, receipt,
	 * whose REFERENCES tx name the table, not the old one) be orphaned for that moment and
	 * counts them: each row put back into tx counts its children off again, so a row lost
	 * on the way fails the COMMIT and the migration leaves version 10 as it was. The drop
	 * runs no trigger (SQLite's implicit DELETE of a DROP TABLE never does). */
	"PRAGMA defer_foreign_keys = ON;"
	"CREATE TABLE tx_v10_rows AS SELECT * FROM tx;"
	"DROP TABLE tx;"
	"CREATE TABLE tx ("
	"  rec INTEGER PRIMARY KEY,"
	"  uuid TEXT NOT NULL UNIQUE CHECK (length(uuid) = 36),"
	"  seq INTEGER NOT NULL UNIQUE CHECK (seq >= 1),"
	"  kind TEXT NOT NULL CHECK (kind IN ('topup', 'fees')),"
	"  lang TEXT NOT NULL CHECK (lang IN ('ar', 'en')),"
	"  opened_s INTEGER NOT NULL,"
	"  mac BLOB NOT NULL CHECK (length(mac) = 32)"
	") STRICT;"
	"INSERT INTO tx(rec, uuid, seq, kind, lang, opened_s, mac)"
	"  SELECT rec, uuid, seq, kind, lang, opened_s, mac FROM tx_v10_rows ORDER BY rec;"
	"DROP TABLE tx_v10_rows;"
	/* tx's triggers went with the old table: the latest of each again (migrations 4, 8, 9). */
	"CREATE TRIGGER tx_no_update BEFORE UPDATE ON tx BEGIN SELECT RAISE(ABORT, 'ledger: tx is append-only'); END;"
	"CREATE TRIGGER tx_no_delete BEFORE DELETE ON tx"
	"  WHEN NOT EXISTS (SELECT 1 FROM prune_permit WHERE OLD.rec <= upto)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: tx is append-only (only a prune removes it)'); END;"
	"CREATE TRIGGER tx_one_open BEFORE INSERT ON tx"
	"  WHEN EXISTS (SELECT 1 FROM tx t WHERE t.rec = (SELECT max(rec) FROM tx)"
	"    AND NOT EXISTS (SELECT 1 FROM tx_end e WHERE e.tx_rec = t.rec))"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: a transaction is already open'); END;"
	"CREATE TRIGGER tx_seq_gapless BEFORE INSERT ON tx"
	"  WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), (SELECT seq FROM chain_base WHERE id = 1), 0) + 1 FROM tx)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: transaction numbers are gapless'); END;"
	/* The four chained basket tables (columns in MAC order, chain.c). */
	"CREATE TABLE fee_item ("
	"  rec INTEGER PRIMARY KEY,"
	"  tx_rec INTEGER NOT NULL REFERENCES tx(rec),"
	"  n INTEGER NOT NULL CHECK (n BETWEEN 1 AND 10),"
	"  entity TEXT NOT NULL CHECK (length(entity) BETWEEN 1 AND 32),"
	"  service TEXT NOT NULL CHECK (length(service) BETWEEN 1 AND 32),"
	"  reference TEXT CHECK (reference IS NULL OR length(reference) BETWEEN 1 AND 24),"
	"  bill TEXT CHECK (bill IS NULL OR length(bill) BETWEEN 1 AND 32),"
	"  amount_fils INTEGER NOT NULL CHECK (amount_fils > 0),"
	"  mac BLOB NOT NULL CHECK (length(mac) = 32),"
	"  UNIQUE (tx_rec, n)"
	") STRICT;"
	"CREATE TABLE fee_result ("
	"  rec INTEGER PRIMARY KEY,"
	"  tx_rec INTEGER NOT NULL REFERENCES tx(rec),"
	"  n INTEGER NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('paid', 'refused', 'offline', 'unpaid', 'unconfirmed')),"
	"  host_ref TEXT CHECK (host_ref IS NULL OR length(host_ref) BETWEEN 1 AND 64),"
	"  at_s INTEGER NOT NULL,"
	"  mac BLOB NOT NULL CHECK (length(mac) = 32),"
	"  UNIQUE (tx_rec, n)"
	") STRICT;"
	"CREATE TABLE voucher_payment ("
	"  rec INTEGER PRIMARY KEY,"
	"  tx_rec INTEGER NOT NULL REFERENCES tx(rec),"
	"  code TEXT NOT NULL CHECK (length(code) = 16 AND code GLOB '9*' AND code NOT GLOB '*[^0-9]*'),"
	"  redemption_id TEXT NOT NULL UNIQUE CHECK (length(redemption_id) = 36),"
	"  value_fils INTEGER NOT NULL CHECK (value_fils > 0),"
	"  at_s INTEGER NOT NULL,"
	"  mac BLOB NOT NULL CHECK (length(mac) = 32)"
	") STRICT;"
	"CREATE INDEX voucher_payment_by_tx ON voucher_payment(tx_rec);"
	"CREATE TABLE voucher_issue ("
	"  rec INTEGER PRIMARY KEY,"
	"  tx_rec INTEGER NOT NULL REFERENCES tx(rec),"
	"  code TEXT NOT NULL UNIQUE CHECK (length(code) = 16 AND code GLOB '9*' AND code NOT GLOB '*[^0-9]*'),"
	"  value_fils INTEGER NOT NULL CHECK (value_fils > 0),"
	"  expires_s INTEGER NOT NULL,"
	"  why TEXT NOT NULL CHECK (why IN ('overpayment', 'cancelled', 'refused', 'recovered')),"
	"  at_s INTEGER NOT NULL,"
	"  mac BLOB NOT NULL CHECK (length(mac) = 32),"
	"  CHECK (expires_s > at_s)"
	") STRICT;"
	"CREATE INDEX voucher_issue_by_tx ON voucher_issue(tx_rec);"
	/* tx.c invariant 4 for the new tables, with the prune's exception (migration 8). */
	"CREATE TRIGGER fee_item_no_update BEFORE UPDATE ON fee_item"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: fee_item is append-only'); END;"
	"CREATE TRIGGER fee_item_no_delete BEFORE DELETE ON fee_item"
	"  WHEN NOT EXISTS (SELECT 1 FROM prune_permit WHERE OLD.rec <= upto)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: fee_item is append-only (only a prune removes it)'); END;"
	"CREATE TRIGGER fee_result_no_update BEFORE UPDATE ON fee_result"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: fee_result is append-only'); END;"
	"CREATE TRIGGER fee_result_no_delete BEFORE DELETE ON fee_result"
	"  WHEN NOT EXISTS (SELECT 1 FROM prune_permit WHERE OLD.rec <= upto)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: fee_result is append-only (only a prune removes it)'); END;"
	"CREATE TRIGGER voucher_payment_no_update BEFORE UPDATE ON voucher_payment"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: voucher_payment is append-only'); END;"
	"CREATE TRIGGER voucher_payment_no_delete BEFORE DELETE ON voucher_payment"
	"  WHEN NOT EXISTS (SELECT 1 FROM prune_permit WHERE OLD.rec <= upto)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: voucher_payment is append-only (only a prune removes it)'); END;"
	"CREATE TRIGGER voucher_issue_no_update BEFORE UPDATE ON voucher_issue"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: voucher_issue is append-only'); END;"
	"CREATE TRIGGER voucher_issue_no_delete BEFORE DELETE ON voucher_issue"
	"  WHEN NOT EXISTS (SELECT 1 FROM prune_permit WHERE OLD.rec <= upto)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: voucher_issue is append-only (only a prune removes it)'); END;"
	/* basket.c invariant 10: the lines are the records right after their fees transaction's
	 * open, numbered 1, 2, 3... (so nothing is paid or decided before the basket is fixed). */
	"CREATE TRIGGER fee_item_with_open BEFORE INSERT ON fee_item"
	"  WHEN (SELECT kind FROM tx WHERE rec = NEW.tx_rec) IS NOT 'fees' OR NEW.rec IS NOT NEW.tx_rec + NEW.n"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: basket lines are written with their fees transaction''s open,"
	" numbered from 1'); END;"
	/* tx.c invariant 3: a line's result, a voucher paid in or issued only into an open fees
	 * transaction, a result only for one of its lines (UNIQUE: once). */
	"CREATE TRIGGER fee_result_to_open_line BEFORE INSERT ON fee_result"
	"  WHEN EXISTS (SELECT 1 FROM tx_end WHERE tx_rec = NEW.tx_rec)"
	"    OR NOT EXISTS (SELECT 1 FROM fee_item WHERE tx_rec = NEW.tx_rec AND n = NEW.n)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: a line result only for a line of an open fees transaction'); END;"
	"CREATE TRIGGER voucher_payment_to_open_fees BEFORE INSERT ON voucher_payment"
	"  WHEN (SELECT kind FROM tx WHERE rec = NEW.tx_rec) IS NOT 'fees'"
	"    OR EXISTS (SELECT 1 FROM tx_end WHERE tx_rec = NEW.tx_rec)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: a voucher pays only into an open fees transaction'); END;"
	"CREATE TRIGGER voucher_issue_to_open_fees BEFORE INSERT ON voucher_issue"
	"  WHEN (SELECT kind FROM tx WHERE rec = NEW.tx_rec) IS NOT 'fees'"
	"    OR EXISTS (SELECT 1 FROM tx_end WHERE tx_rec = NEW.tx_rec)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: a voucher is issued only by an open fees transaction'); END;"
	/* basket.c invariant 11: an item of a fees transaction is the card credit of its rest. */
	"CREATE TRIGGER item_fees_card_credit BEFORE INSERT ON tx_item"
	"  WHEN (SELECT kind FROM tx WHERE rec = NEW.tx_rec) = 'fees' AND (NEW.kind IS NOT 'topup'"
	"    OR NEW.card IS NULL OR length(NEW.card) != 16 OR NEW.card GLOB '*[^0-9]*'"
	"    OR NEW.amount_fils IS NULL OR NEW.amount_fils <= 0)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: a fees transaction''s item is a card credit with its card and amount');"
	" END;"
	/* basket.c invariant 12: a line is settled (paid, offline, unconfirmed) only with its
	 * money paid in, so the rest of a basket is never negative. */
	"CREATE TRIGGER fee_result_covered BEFORE INSERT ON fee_result"
	"  WHEN NEW.status IN ('paid', 'offline', 'unconfirmed') AND"
	"    (SELECT amount_fils FROM fee_item WHERE tx_rec = NEW.tx_rec AND n = NEW.n) +"
	"    (SELECT coalesce(sum(i.amount_fils), 0) FROM fee_item i JOIN fee_result r ON r.tx_rec = i.tx_rec"
	"      AND r.n = i.n WHERE i.tx_rec = NEW.tx_rec AND r.status IN ('paid', 'offline', 'unconfirmed')) >"
	"    (SELECT coalesce(sum(value_fils), 0) FROM payment WHERE tx_rec = NEW.tx_rec) +"
	"    (SELECT coalesce(sum(value_fils), 0) FROM voucher_payment WHERE tx_rec = NEW.tx_rec)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: a line is settled only with its money paid in'); END;"
	/* tx.c invariant 6: an end credits everything paid into it, cash and vouchers. */
	"DROP TRIGGER tx_end_matches_paid;"
	"CREATE TRIGGER tx_end_matches_paid BEFORE INSERT ON tx_end"
	"  WHEN NEW.credited_fils IS NOT"
	"    (SELECT coalesce(sum(value_fils), 0) FROM payment WHERE tx_rec = NEW.tx_rec) +"
	"    (SELECT coalesce(sum(value_fils), 0) FROM voucher_payment WHERE tx_rec = NEW.tx_rec)"
	"    OR (NEW.state = 'cancelled' AND NEW.credited_fils != 0)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: an end must credit exactly what was paid'); END;"
	/* tx.c invariant 9: a fees transaction ends with a result for every line, and what was
	 * paid in (cash + vouchers) = the lines settled + the card credits + the vouchers issued. */
	"CREATE TRIGGER tx_end_fees_balanced BEFORE INSERT ON tx_end"
	"  WHEN (SELECT kind FROM tx WHERE rec = NEW.tx_rec) = 'fees' AND ("
	"    NOT EXISTS (SELECT 1 FROM fee_item WHERE tx_rec = NEW.tx_rec)"
	"    OR EXISTS (SELECT 1 FROM fee_item i WHERE i.tx_rec = NEW.tx_rec"
	"      AND NOT EXISTS (SELECT 1 FROM fee_result r WHERE r.tx_rec = i.tx_rec AND r.n = i.n))"
	"    OR (SELECT coalesce(sum(value_fils), 0) FROM payment WHERE tx_rec = NEW.tx_rec) +"
	"      (SELECT coalesce(sum(value_fils), 0) FROM voucher_payment WHERE tx_rec = NEW.tx_rec) IS NOT"
	"      (SELECT coalesce(sum(i.amount_fils), 0) FROM fee_item i JOIN fee_result r ON r.tx_rec = i.tx_rec"
	"        AND r.n = i.n WHERE i.tx_rec = NEW.tx_rec AND r.status IN ('paid', 'offline', 'unconfirmed')) +"
	"      (SELECT coalesce(sum(amount_fils), 0) FROM tx_item WHERE tx_rec = NEW.tx_rec AND kind = 'topup') +"
	"      (SELECT coalesce(sum(value_fils), 0) FROM voucher_issue WHERE tx_rec = NEW.tx_rec))"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: a fees transaction ends with a result for every line and its money"
	" balanced to the fils (invariant 9)'); END;"
	/* prune.c invariant 5 over the new tables too. */
	"DROP TRIGGER prune_permit_whole;"
	"CREATE TRIGGER prune_permit_whole BEFORE DELETE ON prune_permit"
	"  WHEN (SELECT rec FROM chain_base WHERE id = 1) != OLD.upto"
	"    OR EXISTS (SELECT 1 FROM tx WHERE rec <= OLD.upto) OR EXISTS (SELECT 1 FROM tx_item WHERE rec <= OLD.upto)"
	"    OR EXISTS (SELECT 1 FROM payment WHERE rec <= OLD.upto)"
	"    OR EXISTS (SELECT 1 FROM suspense WHERE rec <= OLD.upto)"
	"    OR EXISTS (SELECT 1 FROM tx_end WHERE rec <= OLD.upto)"
	"    OR EXISTS (SELECT 1 FROM fee_item WHERE rec <= OLD.upto)"
	"    OR EXISTS (SELECT 1 FROM fee_result WHERE rec <= OLD.upto)"
	"    OR EXISTS (SELECT 1 FROM voucher_payment WHERE rec <= OLD.upto)"
	"    OR EXISTS (SELECT 1 FROM voucher_issue WHERE rec <= OLD.upto)"
	"    OR EXISTS (SELECT 1 FROM outbox WHERE tx_rec <= OLD.upto)"
	"    OR EXISTS (SELECT 1 FROM receipt WHERE tx_rec <= OLD.upto)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: a prune must remove every record up to its end'); END;",
	/* 12: redemption intents (basket.c invariant 15, kiosk/flows/vpay.h invariant 2). An
	 * intent is committed before a voucher's redeem is asked at the host; the redemption is
	 * then booked (voucher_payment, which must match an intent) or, at the basket's end or its
	 * recovery, void (voucher_void: the host gives the voucher its value back and refuses the
	 * redemption id from then on). Two chained tables, columns in MAC order (chain.c). */
	"CREATE TABLE voucher_intent ("
	"  rec INTEGER PRIMARY KEY,"
	"  tx_rec INTEGER NOT NULL REFERENCES tx(rec),"
	"  code TEXT NOT NULL CHECK (length(code) = 16 AND code GLOB '9*' AND code NOT GLOB '*[^0-9]*'),"
	"  redemption_id TEXT NOT NULL UNIQUE CHECK (length(redemption_id) = 36),"
	"  value_fils INTEGER NOT NULL CHECK (value_fils > 0),"
	"  at_s INTEGER NOT NULL,"
	"  mac BLOB NOT NULL CHECK (length(mac) = 32)"
	") STRICT;"
	"CREATE INDEX voucher_intent_by_tx ON voucher_intent(tx_rec);"
	"CREATE TABLE voucher_void ("
	"  rec INTEGER PRIMARY KEY,"
	"  tx_rec INTEGER NOT NULL REFERENCES tx(rec),"
	"  code TEXT NOT NULL CHECK (length(code) = 16 AND code GLOB '9*' AND code NOT GLOB '*[^0-9]*'),"
	"  redemption_id TEXT NOT NULL UNIQUE CHECK (length(redemption_id) = 36),"
	"  at_s INTEGER NOT NULL,"
	"  mac BLOB NOT NULL CHECK (length(mac) = 32)"
	") STRICT;"
	"CREATE INDEX voucher_void_by_tx ON voucher_void(tx_rec);"
	"CREATE TRIGGER voucher_intent_no_update BEFORE UPDATE ON voucher_intent"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: voucher_intent is append-only'); END;"
	"CREATE TRIGGER voucher_intent_no_delete BEFORE DELETE ON voucher_intent"
	"  WHEN NOT EXISTS (SELECT 1 FROM prune_permit WHERE OLD.rec <= upto)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: voucher_intent is append-only (only a prune removes it)'); END;"
	"CREATE TRIGGER voucher_void_no_update BEFORE UPDATE ON voucher_void"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: voucher_void is append-only'); END;"
	"CREATE TRIGGER voucher_void_no_delete BEFORE DELETE ON voucher_void"
	"  WHEN NOT EXISTS (SELECT 1 FROM prune_permit WHERE OLD.rec <= upto)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: voucher_void is append-only (only a prune removes it)'); END;"
	/* tx.c invariant 3: an intent only into an open fees transaction. */
	"CREATE TRIGGER voucher_intent_to_open_fees BEFORE INSERT ON voucher_intent"
	"  WHEN (SELECT kind FROM tx WHERE rec = NEW.tx_rec) IS NOT 'fees'"
	"    OR EXISTS (SELECT 1 FROM tx_end WHERE tx_rec = NEW.tx_rec)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: a redemption is intended only into an open fees transaction'); END;"
	/* basket.c invariant 15: booked only as intended and never once void; void only as
	 * intended, never once booked, and only before its transaction's end (the end's commit);
	 * an end leaves no intent undecided. */
	"CREATE TRIGGER voucher_payment_intended BEFORE INSERT ON voucher_payment"
	"  WHEN NOT EXISTS (SELECT 1 FROM voucher_intent WHERE redemption_id = NEW.redemption_id"
	"      AND tx_rec = NEW.tx_rec AND code = NEW.code AND value_fils = NEW.value_fils)"
	"    OR EXISTS (SELECT 1 FROM voucher_void WHERE redemption_id = NEW.redemption_id)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: a voucher is booked only as its redemption was intended, never"
	" once void (invariant 15)'); END;"
	"CREATE TRIGGER voucher_void_unbooked BEFORE INSERT ON voucher_void"
	"  WHEN NOT EXISTS (SELECT 1 FROM voucher_intent WHERE redemption_id = NEW.redemption_id"
	"      AND tx_rec = NEW.tx_rec AND code = NEW.code)"
	"    OR EXISTS (SELECT 1 FROM voucher_payment WHERE redemption_id = NEW.redemption_id)"
	"    OR EXISTS (SELECT 1 FROM tx_end WHERE tx_rec = NEW.tx_rec)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: only an intended redemption not booked is void, before its"
	" transaction ends (invariant 15)'); END;"
	"CREATE TRIGGER tx_end_intents_decided BEFORE INSERT ON tx_end"
	"  WHEN EXISTS (SELECT 1 FROM voucher_intent i WHERE i.tx_rec = NEW.tx_rec"
	"    AND NOT EXISTS (SELECT 1 FROM voucher_payment p WHERE p.redemption_id = i.redemption_id)"
	"    AND NOT EXISTS (SELECT 1 FROM voucher_void v WHERE v.redemption_id = i.redemption_id))"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: a transaction ends with each redemption intent booked or void"
	" (invariant 15)'); END;"
	/* prune.c invariant 5 over the new tables too. */
	"DROP TRIGGER prune_permit_whole;"
	"CREATE TRIGGER prune_permit_whole BEFORE DELETE ON prune_permit"
	"  WHEN (SELECT rec FROM chain_base WHERE id = 1) != OLD.upto"
	"    OR EXISTS (SELECT 1 FROM tx WHERE rec <= OLD.upto) OR EXISTS (SELECT 1 FROM tx_item WHERE rec <= OLD.upto)"
	"    OR EXISTS (SELECT 1 FROM payment WHERE rec <= OLD.upto)"
	"    OR EXISTS (SELECT 1 FROM suspense WHERE rec <= OLD.upto)"
	"    OR EXISTS (SELECT 1 FROM tx_end WHERE rec <= OLD.upto)"
	"    OR EXISTS (SELECT 1 FROM fee_item WHERE rec <= OLD.upto)"
	"    OR EXISTS (SELECT 1 FROM fee_result WHERE rec <= OLD.upto)"
	"    OR EXISTS (SELECT 1 FROM voucher_payment WHERE rec <= OLD.upto)"
	"    OR EXISTS (SELECT 1 FROM voucher_issue WHERE rec <= OLD.upto)"
	"    OR EXISTS (SELECT 1 FROM voucher_intent WHERE rec <= OLD.upto)"
	"    OR EXISTS (SELECT 1 FROM voucher_void WHERE rec <= OLD.upto)"
	"    OR EXISTS (SELECT 1 FROM outbox WHERE tx_rec <= OLD.upto)"
	"    OR EXISTS (SELECT 1 FROM receipt WHERE tx_rec <= OLD.upto)"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: a prune must remove every record up to its end'); END;",
	/* 13: a recovery receipt given up (recovery.c invariant 8): one that cannot be drawn from
	 * its records, or that the printer failed RECOVERY_RECEIPT_TRIES times. It is no longer due,
	 * so it does not hold back the receipts after it, and stays listed for a technician
	 * (`kiosk ledger receipts`) with why. Set once, never on a receipt that printed. */
	"ALTER TABLE receipt ADD COLUMN given_up_s INTEGER;"
	"ALTER TABLE receipt ADD COLUMN given_up_why TEXT;"
	"CREATE TRIGGER receipt_given_up_once BEFORE UPDATE OF given_up_s, given_up_why ON receipt"
	"  WHEN (OLD.given_up_s IS NOT NULL"
	"    AND (NEW.given_up_s IS NOT OLD.given_up_s OR NEW.given_up_why IS NOT OLD.given_up_why))"
	"    OR (NEW.given_up_s IS NOT NULL AND (OLD.printed_s IS NOT NULL OR NEW.given_up_why IS NULL))"
	"  BEGIN SELECT RAISE(ABORT, 'ledger: a receipt is given up once, with why, and never once printed'); END;",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int ledger_schema_latest(void) { return N_MIGRATIONS; }

static bool in_memory(const char *path) { return strcmp(path, ":memory:") == 0; }

static int db_fail(struct ledger *ledger, struct kio_error *err, const char *what)
{
	return kio_fail(err, KIO_ERR_IO, "database: %s: %s", what, sqlite3_errmsg(ledger->db));
}

static int exec(sqlite3 *db, const char *sql, struct kio_error *err, const char *what)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	int rc = kio_fail(err, KIO_ERR_IO, "database: %s: %s", what, msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return rc;
}

static int read_user_version(struct ledger *ledger, int *version, struct kio_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(ledger->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return db_fail(ledger, err, "read user_version");
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : db_fail(ledger, err, "read user_version");
}

static int refuse_newer(const char *path, int version, struct kio_error *err)
{
	return kio_fail(err, KIO_ERR_CORRUPT, "database %s: schema version %d is newer than this kiosk knows (%d)",
			path, version, N_MIGRATIONS);
}

/* Runs migrations from..to-1 on an open transaction. */
static int apply_migrations(sqlite3 *db, int from, int to, struct kio_error *err)
{
	for (int v = from; v < to; v++) {
		char *msg = NULL;
		if (sqlite3_exec(db, migrations[v], NULL, NULL, &msg) != SQLITE_OK) {
			int rc = kio_fail(err, KIO_ERR_IO, "database: migration %d failed: %s", v + 1,
					  msg ? msg : sqlite3_errmsg(db));
			sqlite3_free(msg);
			return rc;
		}
	}
	char *bump = xasprintf("PRAGMA user_version = %d", to);
	int rc = exec(db, bump, err, "set user_version");
	free(bump);
	return rc;
}

static int migrate(struct ledger *ledger, const char *path, struct kio_error *err)
{
	/* IMMEDIATE takes the write lock first, then the version is read again under it: what
	 * ledger_open saw before may have been changed by another writer meanwhile. */
	int rc = exec(ledger->db, "BEGIN IMMEDIATE", err, "migrate");
	if (rc)
		return rc;
	int version = 0;
	rc = read_user_version(ledger, &version, err);
	if (rc)
		goto out_rollback;
	if (version > N_MIGRATIONS) {
		rc = refuse_newer(path, version, err);
		goto out_rollback;
	}
	if (version == N_MIGRATIONS)
		return exec(ledger->db, "COMMIT", err, "migrate");
	rc = apply_migrations(ledger->db, version, N_MIGRATIONS, err);
	if (rc)
		goto out_rollback;
	rc = exec(ledger->db, "COMMIT", err, "migrate");
	if (rc)
		goto out_rollback;
	LOG_INFO("schema migrated from version %d to %d", version, N_MIGRATIONS);
	return 0;

out_rollback:
	sqlite3_exec(ledger->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* PRAGMA quick_check: the b-tree pages are sound (not every index entry, which is slow on a
 * big file). Its first complaint is the message. */
static int check_sound(struct ledger *ledger, const char *path, struct kio_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(ledger->db, "PRAGMA quick_check(1)", -1, &st, NULL) != SQLITE_OK)
		return kio_fail(err, KIO_ERR_CORRUPT, "database %s is damaged: %s", path, sqlite3_errmsg(ledger->db));
	int rc = 0;
	int step = sqlite3_step(st);
	if (step != SQLITE_ROW) {
		rc = kio_fail(err, KIO_ERR_CORRUPT, "database %s is damaged: %s", path, sqlite3_errmsg(ledger->db));
	} else {
		const unsigned char *verdict = sqlite3_column_text(st, 0);
		if (!verdict || strcmp((const char *)verdict, "ok") != 0) {
			rc = kio_fail(err, KIO_ERR_CORRUPT, "database %s is damaged: %s", path,
				      verdict ? (const char *)verdict : "no verdict");
			/* quick_check's verdict spans lines; the kiosk's message is one. */
			for (char *p = err ? err->msg : NULL; p && *p; p++)
				if (*p == '\n')
					*p = ' ';
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/* The probe write (invariant 3), optionally with the device events kept while failing, in
 * one committed transaction. */
static int write_probe(struct ledger *ledger, bool flush, struct kio_error *err)
{
	int rc = exec(ledger->db, "BEGIN IMMEDIATE", err, "write check");
	if (rc)
		return rc;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(ledger->db, "UPDATE store_probe SET pid = ?, writes = writes + 1 WHERE id = 1", -1, &st,
			       NULL) != SQLITE_OK) {
		rc = db_fail(ledger, err, "write check");
		goto out_rollback;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)getpid());
	rc = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(ledger->db) == 1 ? 0 : db_fail(ledger, err, "write check");
	sqlite3_finalize(st);
	if (rc)
		goto out_rollback;
	if (flush) {
		for (size_t i = 0; i < ledger->n_pending && !rc; i++) {
			struct pending_event *p = &ledger->pending[i];
			rc = ledger_insert_device_event(ledger, p->at_s, p->device, p->state, p->detail, err);
		}
		if (!rc && ledger->lost) {
			char detail[64];
			snprintf(detail, sizeof(detail), "%llu device events lost while the store failed",
				 (unsigned long long)ledger->lost);
			int64_t at = ledger->n_pending ? ledger->pending[ledger->n_pending - 1].at_s : 0;
			rc = ledger_insert_device_event(ledger, at, "store", "lost", detail, err);
		}
		if (rc)
			goto out_rollback;
	}
	rc = exec(ledger->db, "COMMIT", err, "write check");
	if (rc)
		goto out_rollback;
	return 0;

out_rollback:
	sqlite3_exec(ledger->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* Invariant 1. Side files live beside the database, so the lock file does too. */
static int take_lock(struct ledger *ledger, const char *path, struct kio_error *err)
{
	char *lock_path = xasprintf("%s.lock", path);
	int rc = 0;
	int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		rc = kio_fail(err, KIO_ERR_IO, "database %s: cannot create its lock file %s: %s%s", path, lock_path,
			      strerror(errno), errno == EACCES || errno == EROFS ? " (the folder is not writable)" : "");
		goto out_free;
	}
	/* An open-file-description lock: unlike a POSIX record lock it is not dropped when
	 * SQLite closes another descriptor, and it excludes a second open in this process too. */
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	if (fcntl(fd, F_OFD_SETLK, &fl) != 0) {
		if (errno == EAGAIN || errno == EACCES) {
			char pid[24] = "";
			ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
			pid[n > 0 ? n : 0] = '\0';
			pid[strcspn(pid, "\n")] = '\0';
			rc = kio_fail(err, KIO_ERR_BUSY, "database %s is in use by another kiosk (pid %s)", path,
				      pid[0] ? pid : "unknown");
		} else {
			rc = kio_fail(err, KIO_ERR_IO, "database %s: cannot lock %s: %s", path, lock_path,
				      strerror(errno));
		}
		close(fd);
		goto out_free;
	}
	char pid[24];
	int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
		rc = kio_fail(err, KIO_ERR_IO, "database %s: cannot write %s: %s", path, lock_path, strerror(errno));
		close(fd);
		goto out_free;
	}
	ledger->lock_fd = fd;
out_free:
	free(lock_path);
	return rc;
}

/* journal_mode answers with the mode it got, which is not always the one asked for (a file
 * system without shared memory keeps the rollback journal): the durability promise rests on
 * WAL, so anything else is refused rather than assumed. */
static int set_wal(struct ledger *ledger, const char *path, struct kio_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(ledger->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK)
		return db_fail(ledger, err, "set WAL");
	int rc = 0;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = db_fail(ledger, err, "set WAL");
	} else {
		const char *mode = (const char *)sqlite3_column_text(st, 0);
		if (!mode || (strcmp(mode, "wal") != 0 && !(in_memory(path) && strcmp(mode, "memory") == 0)))
			rc = kio_fail(err, KIO_ERR_IO, "database: journal mode is %s, not wal", mode ? mode : "?");
	}
	sqlite3_finalize(st);
	return rc;
}

/* Names the file in a write failure; a lock held by another program gets a hint. */
static void cannot_write(const char *path, struct kio_error *err)
{
	if (!err)
		return;
	struct kio_error cause = *err;
	const char *msg = strncmp(cause.msg, "database: ", 10) == 0 ? cause.msg + 10 : cause.msg;
	kio_fail(err, cause.code, "database %s cannot be written: %s%s", path, msg,
		 strstr(msg, "locked") ? " (another program holds it)" : "");
}

/* The chain key (chain.c): created with the first start of a ledger, required after. Then
 * credited notes older than the ledger are booked to suspense (tx.c invariant 2). */
static int open_chain(struct ledger *ledger, const char *path, struct kio_error *err)
{
	bool empty = false;
	if (chain_is_empty(ledger->db, &empty, err) != 0)
		return db_fail(ledger, err, "read the ledger chain");
	int rc = chain_secret_open(path, in_memory(path), empty, ledger->key, err);
	if (rc)
		return rc == KIO_ERR_CORRUPT || rc == KIO_ERR_NOT_FOUND ? KIO_ERR_CORRUPT : rc;
	if (!empty) {
		struct kio_error why;
		rc = chain_check_head(ledger, &why);
		if (rc)
			return kio_fail(err, rc, "database %s: %s", path, why.msg);
	}
	/* Every note credited since the ledger exists made a record, so credited notes with an
	 * empty chain are from a kiosk before it (an upgrade, or a crash right after it): booked
	 * once, here. Never later: a note without a booking then is a broken invariant for
	 * ledger_check to report, not something to paper over. Wall time as the kiosk sees it at
	 * start-up; the clock module is not passed this far. */
	return empty ? ledger_book_orphans(ledger, (int64_t)time(NULL), err) : 0;
}

int ledger_open(const char *path, struct ledger **out, struct kio_error *err)
{
	*out = NULL;
	struct ledger *ledger = xcalloc(1, sizeof(*ledger));
	ledger->lock_fd = -1;
	int rc = 0;
	if (path[0] == '\0') {
		rc = kio_fail(err, KIO_ERR_INVALID, "database: an empty path names no file");
		goto out_close;
	}
	struct stat st;
	if (!in_memory(path) && stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* Before the lock file: nothing is left beside a folder or a device named by mistake. */
		rc = kio_fail(err, KIO_ERR_INVALID, "database %s is not a regular file", path);
		goto out_close;
	}
	if (!in_memory(path)) {
		rc = take_lock(ledger, path, err);
		if (rc)
			goto out_close;
	}
	if (sqlite3_open_v2(path, &ledger->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		rc = kio_fail(err, KIO_ERR_IO, "database %s: %s", path,
			      ledger->db ? sqlite3_errmsg(ledger->db) : "cannot open");
		goto out_close;
	}
	sqlite3_busy_timeout(ledger->db, LEDGER_BUSY_MS);
	/* Invariant 2: the version first, by a read; journal_mode=WAL below rewrites the header. */
	int version = 0;
	rc = read_user_version(ledger, &version, err);
	if (rc) {
		int code = sqlite3_errcode(ledger->db);
		bool access = code == SQLITE_READONLY || code == SQLITE_CANTOPEN || code == SQLITE_PERM;
		rc = kio_fail(err, access ? KIO_ERR_IO : KIO_ERR_CORRUPT, "database %s cannot be read: %s%s", path,
			      sqlite3_errmsg(ledger->db),
			      access ? " (the file and its folder must be writable for the WAL)" : "");
		goto out_close;
	}
	if (version > N_MIGRATIONS) {
		rc = refuse_newer(path, version, err);
		goto out_close;
	}
	if (sqlite3_db_readonly(ledger->db, "main") == 1) {
		rc = kio_fail(err, KIO_ERR_IO, "database %s is read-only: the kiosk could not record money", path);
		goto out_close;
	}
	rc = check_sound(ledger, path, err);
	if (rc)
		goto out_close;
	/* WAL + synchronous=FULL: a committed money record survives a power cut. The cache bound
	 * (store.h) is memory only: it changes no write and no sync. */
	char *pragmas = xasprintf("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-%d;",
				  LEDGER_CACHE_KIB);
	rc = exec(ledger->db, pragmas, err, "set pragmas");
	free(pragmas);
	if (!rc)
		rc = set_wal(ledger, path, err);
	if (!rc)
		rc = migrate(ledger, path, err);
	if (!rc)
		rc = open_chain(ledger, path, err);
	if (!rc)
		rc = write_probe(ledger, false, err);
	if (rc) {
		if (rc != KIO_ERR_CORRUPT)
			cannot_write(path, err);
		goto out_close;
	}
	*out = ledger;
	return 0;

out_close:
	ledger_close(ledger);
	return rc;
}

static void drop_pending(struct ledger *ledger)
{
	for (size_t i = 0; i < ledger->n_pending; i++) {
		free(ledger->pending[i].device);
		free(ledger->pending[i].state);
		free(ledger->pending[i].detail);
	}
	ledger->n_pending = 0;
	ledger->lost = 0;
}

void ledger_close(struct ledger *ledger)
{
	if (!ledger)
		return;
	if (ledger->n_pending || ledger->lost)
		LOG_ERR("closing with %zu device events never written (%llu more lost): the store failed",
			ledger->n_pending, (unsigned long long)ledger->lost);
	drop_pending(ledger);
	/* Invariant 5: the cached statements go before the connection, which refuses to close
	 * while any is left. One still out is a caller that never gave it back: say so. */
	for (size_t i = 0; i < ledger->n_stmts; i++) {
		if (ledger->stmts[i].out)
			LOG_ERR("closing with a statement still in use: %s", ledger->stmts[i].sql);
		sqlite3_finalize(ledger->stmts[i].st);
		free(ledger->stmts[i].sql);
	}
	ledger->n_stmts = 0;
	/* A statement left open keeps the connection (and its file locks) alive: say so, since
	 * the lock file below is released regardless. */
	explicit_bzero(ledger->key, sizeof(ledger->key));
	if (sqlite3_close(ledger->db) != SQLITE_OK)
		LOG_ERR("database close: %s", sqlite3_errmsg(ledger->db));
	/* After the database: the lock covers the files until SQLite has let go of them. */
	if (ledger->lock_fd >= 0)
		close(ledger->lock_fd);
	free(ledger);
}

sqlite3 *ledger_db(struct ledger *ledger) { return ledger->db; }

const uint8_t *ledger_key(const struct ledger *ledger) { return ledger->key; }

/* ---- prepared statements (invariant 5) ---- */

static uint32_t sql_hash(const char *sql)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)sql; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

int ledger_stmt(struct ledger *ledger, const char *sql, sqlite3_stmt **st)
{
	*st = NULL;
	uint32_t h = sql_hash(sql);
	for (size_t i = 0; i < ledger->n_stmts; i++) {
		struct cached_stmt *c = &ledger->stmts[i];
		if (c->hash != h || c->out || strcmp(c->sql, sql) != 0)
			continue;
		c->out = true;
		*st = c->st;
		return SQLITE_OK;
	}
	int rc = sqlite3_prepare_v2(ledger->db, sql, -1, st, NULL);
	if (rc != SQLITE_OK || !*st || ledger->n_stmts == LEDGER_STMT_MAX)
		return rc;
	ledger->stmts[ledger->n_stmts++] = (struct cached_stmt){.sql = xstrdup(sql), .hash = h, .st = *st, .out = true};
	return SQLITE_OK;
}

void ledger_stmt_done(struct ledger *ledger, sqlite3_stmt *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < ledger->n_stmts; i++) {
		struct cached_stmt *c = &ledger->stmts[i];
		if (c->st != st)
			continue;
		/* reset's code repeats the last step's, which the caller has already handled. */
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		c->out = false;
		return;
	}
	sqlite3_finalize(st);
}

/* The SQL text run to its end with no rows expected, through the cache: BEGIN and COMMIT
 * are four of each note's statements. The error is the connection's, as sqlite3_exec's. */
static int run_cached(struct ledger *ledger, const char *sql, struct kio_error *err, const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc = ledger_stmt(ledger, sql, &st);
	if (rc == SQLITE_OK) {
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
		if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
	}
	int out = rc == SQLITE_OK ? 0 : kio_fail(err, KIO_ERR_IO, "database: %s: %s", what, sqlite3_errmsg(ledger->db));
	ledger_stmt_done(ledger, st);
	return out;
}

void ledger_set_checkpoint(struct ledger *ledger, ledger_checkpoint_fn fn, void *user)
{
	ledger->checkpoint = fn;
	ledger->checkpoint_user = user;
}

void ledger_checkpoint(struct ledger *ledger, const char *point)
{
	LOG_DBG("checkpoint %s", point);
	if (ledger->checkpoint)
		ledger->checkpoint(ledger->checkpoint_user, point);
}

/* ---- the write transaction ---- */

bool ledger_write_open(const struct ledger *ledger) { return ledger->write_depth > 0; }

int ledger_write_begin(struct ledger *ledger, const char *what, struct kio_error *err)
{
	int rc = run_cached(ledger, ledger->write_depth == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT ledger_step", err, what);
	if (rc) {
		ledger_write_failed(ledger, err);
		return rc;
	}
	ledger->write_depth++;
	return 0;
}

int ledger_write_commit(struct ledger *ledger, const char *what, struct kio_error *err)
{
	if (ledger->write_depth == 0)
		return kio_fail(err, KIO_ERR_INVALID, "database: %s: commit without a write", what);
	int rc = run_cached(ledger, ledger->write_depth == 1 ? "COMMIT" : "RELEASE ledger_step", err, what);
	if (rc) {
		ledger_write_rollback(ledger);
		ledger_write_failed(ledger, err);
		return rc;
	}
	ledger->write_depth--;
	return 0;
}

void ledger_write_rollback(struct ledger *ledger)
{
	if (ledger->write_depth == 0)
		return;
	if (ledger->write_depth == 1)
		sqlite3_exec(ledger->db, "ROLLBACK", NULL, NULL, NULL);
	else
		sqlite3_exec(ledger->db, "ROLLBACK TO ledger_step; RELEASE ledger_step", NULL, NULL, NULL);
	ledger->write_depth--;
}

int ledger_schema_version(struct ledger *ledger)
{
	int version = -1;
	read_user_version(ledger, &version, NULL);
	return version;
}

/* ---- health ---- */

void ledger_set_fault_listener(struct ledger *ledger, ledger_fault_fn fn, void *user)
{
	ledger->on_fault = fn;
	ledger->on_fault_user = user;
}

bool ledger_failing(const struct ledger *ledger) { return ledger->failing; }

const char *ledger_fault_name(int fault)
{
	switch (fault) {
	case LEDGER_FAULT_NONE: return "none";
	case LEDGER_FAULT_WRITE_FAILED: return "write-failed";
	default: return NULL;
	}
}

void ledger_write_failed(struct ledger *ledger, const struct kio_error *why)
{
	if (ledger->failing)
		return;
	ledger->failing = true;
	snprintf(ledger->why, sizeof(ledger->why), "%s", why && why->msg[0] ? why->msg : "a write failed");
	/* Logged once, where handled: by the listener if there is one. */
	if (ledger->on_fault)
		ledger->on_fault(ledger->on_fault_user, true, ledger->why);
	else
		LOG_ERR("store failing: %s", ledger->why);
}

int ledger_refuse_while_failing(struct ledger *ledger, const char *what, struct kio_error *err)
{
	if (!ledger->failing)
		return 0;
	return kio_fail(err, KIO_ERR_IO, "%s: not written, the store is failing (%s)", what, ledger->why);
}

int ledger_recover(struct ledger *ledger, struct kio_error *err)
{
	if (!ledger->failing)
		return 0;
	int rc = write_probe(ledger, true, err);
	if (rc)
		return rc;
	LOG_INFO("store writes again: %zu kept device events written", ledger->n_pending);
	drop_pending(ledger);
	ledger->failing = false;
	ledger->why[0] = '\0';
	if (ledger->on_fault)
		ledger->on_fault(ledger->on_fault_user, false, NULL);
	return 0;
}

/* ---- device events ---- */

int ledger_insert_device_event(struct ledger *ledger, int64_t wall_s, const char *device, const char *state,
			       const char *detail, struct kio_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(ledger->db, "INSERT INTO device_event(at_s, device, state, detail) VALUES (?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(ledger, err, "record device event");
	sqlite3_bind_int64(st, 1, wall_s);
	sqlite3_bind_text(st, 2, device, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, state, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, detail ? detail : "", -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(ledger, err, "record device event");
	sqlite3_finalize(st);
	return rc;
}

/* Invariant 4: kept in order; beyond the queue only counted. */
static void keep_event(struct ledger *ledger, int64_t wall_s, const char *device, const char *state,
		       const char *detail)
{
	if (ledger->n_pending == LEDGER_PENDING_MAX) {
		ledger->lost++;
		return;
	}
	struct pending_event *p = &ledger->pending[ledger->n_pending++];
	p->at_s = wall_s;
	p->device = xstrdup(device);
	p->state = xstrdup(state);
	p->detail = xstrdup(detail ? detail : "");
}

int ledger_device_event_add(struct ledger *ledger, int64_t wall_s, const char *device, const char *state,
			    const char *detail, struct kio_error *err)
{
	int rc = ledger_refuse_while_failing(ledger, "device event", err);
	if (!rc) {
		rc = ledger_insert_device_event(ledger, wall_s, device, state, detail, err);
		if (!rc)
			return 0;
		ledger_write_failed(ledger, err);
	}
	keep_event(ledger, wall_s, device, state, detail);
	return rc;
}

int ledger_device_event_count(struct ledger *ledger, int64_t *count, struct kio_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(ledger->db, "SELECT count(*) FROM device_event", -1, &st, NULL) != SQLITE_OK)
		return db_fail(ledger, err, "count device events");
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*count = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : db_fail(ledger, err, "count device events");
}

/*
 * The next test-print number, recorded as a device event in the same write: the number is the
 * largest recorded so far plus one, so it goes on across restarts and power cuts and a test
 * print never takes the name (receipt-TEST-<n>.png, card-99...<n>) of an earlier one.
 */
int ledger_test_print_next(struct ledger *ledger, int64_t wall_s, const char *device, unsigned *number,
			   struct kio_error *err)
{
	int rc = ledger_refuse_while_failing(ledger, "test print number", err);
	if (rc)
		return rc;
	rc = ledger_write_begin(ledger, "test print number", err);
	if (rc)
		return rc;
	sqlite3_stmt *st = NULL;
	int64_t next = 0;
	if (sqlite3_prepare_v2(ledger->db,
			       "SELECT coalesce(max(CAST(detail AS INTEGER)), 0) + 1 FROM device_event"
			       " WHERE state = 'test-print'",
			       -1, &st, NULL) != SQLITE_OK)
		rc = db_fail(ledger, err, "read the last test print number");
	else if (sqlite3_step(st) != SQLITE_ROW)
		rc = db_fail(ledger, err, "read the last test print number");
	else
		next = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (!rc && (next < 1 || next > UINT32_MAX))
		rc = kio_fail(err, KIO_ERR_INVALID, "database: test print number %lld out of range", (long long)next);
	char detail[24];
	snprintf(detail, sizeof(detail), "%lld", (long long)next);
	if (!rc)
		rc = ledger_insert_device_event(ledger, wall_s, device, "test-print", detail, err);
	if (rc) {
		ledger_write_rollback(ledger);
		ledger_write_failed(ledger, err);
		return rc;
	}
	rc = ledger_write_commit(ledger, "test print number", err); /* fails to FAILING itself */
	if (!rc)
		*number = (unsigned)next;
	return rc;
}

int ledger_test_apply(sqlite3 *db, int from, int to, struct kio_error *err)
{
	if (from < 0 || to > N_MIGRATIONS || from > to)
		return kio_fail(err, KIO_ERR_INVALID, "no migrations %d..%d", from, to);
	return apply_migrations(db, from, to, err);
}

int ledger_test_build_at(const char *path, int version, struct kio_error *err)
{
	struct ledger tmp = {.lock_fd = -1};
	if (sqlite3_open_v2(path, &tmp.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		int rc = kio_fail(err, KIO_ERR_IO, "database %s: %s", path, tmp.db ? sqlite3_errmsg(tmp.db) : "?");
		sqlite3_close(tmp.db);
		return rc;
	}
	int rc = exec(tmp.db, "PRAGMA journal_mode=WAL; BEGIN IMMEDIATE", err, "build");
	if (!rc)
		rc = ledger_test_apply(tmp.db, 0, version, err);
	if (!rc)
		rc = exec(tmp.db, "COMMIT", err, "build");
	sqlite3_close(tmp.db);
	return rc;
}
