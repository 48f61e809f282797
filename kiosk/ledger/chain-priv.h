/* Inside the ledger module only: appending a record to the chain in the caller's write
 * transaction, and verifying the chain of an open database. */
#pragma once

#include <sqlite3.h>

#include "chain.h"
#include "store.h"

/* In the order of chain_specs; FEE_ITEM..VOUCHER_ISSUE are migration 11's, the last two
 * migration 12's (basket.c). */
enum chain_table {
	CHAIN_TX,
	CHAIN_TX_ITEM,
	CHAIN_PAYMENT,
	CHAIN_SUSPENSE,
	CHAIN_TX_END,
	CHAIN_FEE_ITEM,
	CHAIN_FEE_RESULT,
	CHAIN_VOUCHER_PAYMENT,
	CHAIN_VOUCHER_ISSUE,
	CHAIN_VOUCHER_INTENT,
	CHAIN_VOUCHER_VOID,
	CHAIN_TABLE_COUNT
};

enum chain_type { CHAIN_NULL, CHAIN_INT, CHAIN_TEXT };

struct chain_val {
	enum chain_type type;
	int64_t i;
	const char *s; /* CHAIN_TEXT: borrowed, NUL-terminated */
};

#define CHAIN_COLS_MAX 7

/* Each booked table's columns after `rec` and before `mac`, in the order the MAC covers
 * them. Shared by the writer, the verifier and the export so they cannot disagree. */
struct chain_spec {
	const char *table;
	const char *cols[CHAIN_COLS_MAX];
	int n_cols;
};
extern const struct chain_spec chain_specs[CHAIN_TABLE_COUNT];

/* Which chained tables db has: an audit tool may read a ledger from before a migration that
 * added some (migration 11's basket tables); the kiosk itself always has them all. KIO_ERR_IO
 * when the schema cannot be read. */
int chain_tables_present(sqlite3 *db, bool present[CHAIN_TABLE_COUNT], struct kio_error *err);

/* "SELECT rec, <table number> FROM <table> <where> UNION ALL ..." over the tables present,
 * without an ORDER BY: the list of records in chain order is this plus "ORDER BY 1, 2".
 * `where` (may be "") is appended to each SELECT. Caller frees. */
char *chain_records_sql(const bool present[CHAIN_TABLE_COUNT], const char *where);

/* What a prune left of the records it removed (migration 8, prune.c): the chain goes on from
 * record rec + 1 with last_mac as its prev. rec 0: nothing pruned (no MAC to check). */
struct chain_base {
	int64_t rec;
	uint8_t last_mac[LEDGER_MAC_BYTES];
	int64_t seq;      /* the last transaction number pruned */
	int64_t note_max; /* the highest note id whose booking was pruned */
	uint8_t mac[LEDGER_MAC_BYTES];
};

/* Reads the base; a database from before migration 8 has none and reads as rec 0. KIO_ERR_IO
 * on a read error, KIO_ERR_CORRUPT for a row the schema could not hold. */
int chain_base_read(sqlite3 *db, struct chain_base *base, struct kio_error *err);

/* HMAC(key, T("kiosk-ledger-base-v1") I(rec) I(seq) I(note_max) B(last_mac)). */
void chain_base_mac(const uint8_t key[LEDGER_KEY_BYTES], const struct chain_base *base, uint8_t out[LEDGER_MAC_BYTES]);

/* The record MAC (docs/ledger.md, "The chain"). */
void chain_mac(const uint8_t key[LEDGER_KEY_BYTES], const uint8_t prev[LEDGER_MAC_BYTES], int64_t rec,
	       enum chain_table table, const struct chain_val *vals, uint8_t out[LEDGER_MAC_BYTES]);

/* Appends one record (vals: chain_specs[table].n_cols values) as the next in the chain, and
 * moves the head, inside the caller's open write transaction. *rec is its number. Errors:
 * KIO_ERR_IO (SQLite; the caller rolls back and decides about the store's health). */
int chain_append(struct ledger *ledger, enum chain_table table, const struct chain_val *vals, int64_t *rec,
		 struct kio_error *err);

/* Verifies every record of db in order, and the head. 0 with the verdict filled; KIO_ERR_IO
 * when the tables cannot be read. */
int chain_verify(sqlite3 *db, const uint8_t key[LEDGER_KEY_BYTES], struct ledger_verdict *verdict,
		 struct kio_error *err);

/* For the offline tools (verify, export): opens db_path read-only, reads its secret, begins
 * one read transaction (a running kiosk's later commits are not half seen) and verifies the
 * chain in it. On 0 the caller holds *db inside that transaction and ends it with
 * chain_read_end; on an error *db is NULL. KIO_ERR_IO when the file or its tables cannot
 * be read; the secret's own errors (chain.h). */
int chain_read_begin(const char *db_path, sqlite3 **db, struct ledger_verdict *verdict, struct kio_error *err);
void chain_read_end(sqlite3 *db); /* accepts NULL */

/* At ledger_open: reads the secret beside db_path, or creates it when the chain is still
 * empty (0600, O_EXCL, fsynced with its folder). An in-memory database gets a random key. */
int chain_secret_open(const char *db_path, bool in_memory, bool chain_empty, uint8_t key[LEDGER_KEY_BYTES],
		      struct kio_error *err);

/* Whether the chain has no record at all (no head and no row in any booked table). */
int chain_is_empty(sqlite3 *db, bool *empty, struct kio_error *err);

/* At ledger_open, in O(1): the head names the last record, carries its MAC, and its keyed
 * MAC holds. KIO_ERR_CORRUPT otherwise: the kiosk must not append onto a chain that a
 * verify would reject (a technician runs `kiosk ledger verify` to see where it breaks). */
int chain_check_head(struct ledger *ledger, struct kio_error *err);
