/*
 * Retention of the money ledger (docs/ledger.md, "Retention"): records the host acknowledged
 * and older than `[host] retention_days` are removed, whole transactions at a time, with their
 * outbox and receipt rows and the note journal of their notes; unsynced records never. The
 * chain stays verifiable: a keyed base row (migration 8) carries the last removed record's MAC.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "kiosk/core/err.h"
#include "store.h"

#define LEDGER_DAY_S 86400

struct ledger_prune_result {
	int64_t upto;         /* the chain's base after the prune (records 1..upto are gone) */
	int64_t records;      /* booked records removed by this prune */
	int64_t transactions; /* of which transactions (tx rows) */
	int64_t notes;        /* note journeys removed */
};

/* Removes, in one SQLite transaction, every record at or below the longest prefix of the
 * chain that ends a transaction (or is a suspense record), is acknowledged by the host
 * (sync_state.acked_rec), has nothing newer than now_s - retention_days days, and books no
 * note whose journey (or an older one) is still open. Nothing to remove is not an error
 * (out->records 0). retention_days >= 1. Errors: KIO_ERR_INVALID (bad retention), KIO_ERR_IO
 * (SQLite; the store turns FAILING as for any write), KIO_ERR_BUSY (a write is open). Kill
 * points: prune-base-written, prune-written, pruned (prune.c). out may be NULL. */
int ledger_prune(struct ledger *ledger, int64_t now_s, int retention_days, struct ledger_prune_result *out,
		 struct kio_error *err);

/* For the running kiosk: prunes at most once per LEDGER_DAY_S of now_s (*last_s holds the
 * last attempt, 0 at start, so the first call prunes). true when it ran. A failure is logged
 * here and left for the next day: the records it would have removed stay, nothing is lost. */
bool ledger_prune_daily(struct ledger *ledger, int64_t now_s, int retention_days, int64_t *last_s);
