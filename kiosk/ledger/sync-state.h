/*
 * The ledger's side of the sync to the host (kiosk/sync, docs/ledger.md "Sync"): the records
 * after the host's acknowledgement as wire objects, marking what the host acknowledged, the
 * last error, the numbers `kiosk sync status` prints, and the money the host has not yet
 * acknowledged (the offline limits). Pure C: the sync worker opens its own connection here,
 * never the kiosk's (which stays on the UI thread).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiosk/core/err.h"
#include "store.h"

/* A connection to a ledger database for the sync (sync-state.c). */
struct ledger_sync;

/* Opens the ledger at db_path (it must exist: the kiosk creates it). writable: the worker
 * and `kiosk sync push`; read-only: `kiosk sync status`. KIO_ERR_NOT_FOUND when there is no
 * such file; KIO_ERR_CORRUPT for a file that is not a kiosk ledger, one whose schema has no
 * sync state yet (older than 7: the kiosk migrates it at its start) or a newer one;
 * KIO_ERR_IO when it cannot be opened. *out is NULL on error. */
int ledger_sync_open(const char *db_path, bool writable, struct ledger_sync **out, struct kio_error *err);
void ledger_sync_close(struct ledger_sync *ls); /* accepts NULL */

/* Named kill points of the ack (sync-state.c): "sync-ack-written", "sync-acked". */
void ledger_sync_set_checkpoint(struct ledger_sync *ls, ledger_checkpoint_fn fn, void *user);
/* For the drain's own kill points, so one hook hears them all. */
void ledger_sync_checkpoint(struct ledger_sync *ls, const char *point);

/* A batch for POST /v1/records: body is {"records": [...]} (owned, NUL-terminated, len bytes
 * without the NUL), the records first_rec..last_rec, n of them (0: nothing to send, body NULL). */
struct ledger_sync_batch {
	char *body;
	size_t len;
	int64_t first_rec, last_rec;
	int n;
};
/* The records after `after` (the host's acknowledgement), at most max (1..500), read in one
 * read transaction. KIO_ERR_CORRUPT when the chain has a hole there (a record missing: nothing
 * is sent past it); KIO_ERR_IO on a read error. Clear the batch with ledger_sync_batch_clear. */
int ledger_sync_batch_read(struct ledger_sync *ls, int64_t after, int max, struct ledger_sync_batch *out,
			   struct kio_error *err);
void ledger_sync_batch_clear(struct ledger_sync_batch *b);

/* The host holds records 1..acked: in one SQLite transaction moves sync_state.acked_rec to it
 * and marks sent (sent_s = now_s) the outbox row of every transaction whose records are all
 * acknowledged (its tx_end is, since it is its last record); last_ok_s = now_s, attempts = 0.
 * *marked (may be NULL): outbox rows marked now. KIO_ERR_PROTOCOL, nothing changed, for an
 * acked beyond the ledger's last record or below the acknowledgement stored before (a host
 * error: invariants 1 and 2); KIO_ERR_BUSY when another connection holds the write lock past
 * the busy timeout; KIO_ERR_IO otherwise (nothing changed: the next drain sends again). */
int ledger_sync_ack(struct ledger_sync *ls, int64_t acked, int64_t now_s, int64_t *marked,
		    struct kio_error *err);

/* A failed attempt: last_error = why (borrowed; cut at 255 bytes), last_error_s = now_s,
 * attempts + 1. Errors as ledger_sync_ack. */
int ledger_sync_error(struct ledger_sync *ls, int64_t now_s, const char *why, struct kio_error *err);

/* What `kiosk sync status` prints and the heartbeat sends. Times are Unix seconds, 0: never. */
struct ledger_sync_status {
	int64_t last_rec;           /* the chain's last record (0: empty) */
	int64_t acked_rec;          /* the host holds 1..acked_rec */
	int64_t acked_s;            /* when acked_rec last grew */
	int64_t queue_depth;        /* records not acknowledged: last_rec - acked_rec */
	int64_t oldest_unsynced_rec; /* acked_rec + 1, 0 when the queue is empty */
	int64_t oldest_unsynced_s;  /* that record's time (a tx_item: its transaction's) */
	int64_t outbox_pending;     /* completed transactions not yet marked sent */
	int64_t last_ok_s;          /* the last acknowledgement */
	char last_error[256];       /* "" when none was ever recorded */
	int64_t last_error_s;
	int64_t attempts;           /* failures since the last acknowledgement */
};
int ledger_sync_status_read(struct ledger_sync *ls, struct ledger_sync_status *out, struct kio_error *err);

/* The money the host has not acknowledged (their tx_end after acked_rec), per completed
 * transaction that holds some: a top-up's credit; a fees transaction's lines settled `offline`
 * or `unconfirmed` plus the rest it credited to a card (sync-state.c says why nothing else).
 * kiosk_*: every such transaction, counted once, and all its money; card_* (card may be NULL:
 * 0): the top-ups of card and the fees rests credited to it, with only those credits' money.
 * An open transaction is not counted: the caller adds what it is about to accept. */
struct ledger_unacked {
	int64_t card_count, card_fils;
	int64_t kiosk_count, kiosk_fils;
};
int ledger_sync_unacked(struct ledger_sync *ls, const char *card, struct ledger_unacked *out,
			struct kio_error *err);
/* The same over the kiosk's own connection (the UI thread's offline-limit checks). */
int ledger_unacked_money(struct ledger *ledger, const char *card, struct ledger_unacked *out,
			 struct kio_error *err);

/* The stored fees catalogue's catalogue_meta.source into out[cap] ("" when none is stored):
 * the worker reads the ETag of a stored download from it (kiosk/fees/catalogue.h,
 * CAT_SOURCE_HOST) for its first If-None-Match. KIO_ERR_IO on a read error. */
int ledger_sync_catalogue_source(struct ledger_sync *ls, char *out, size_t cap, struct kio_error *err);

/* Invariants 2 and 3 of sync-state.c in SQL (tests, the crash suite): 0 when they hold,
 * KIO_ERR_CORRUPT naming the first that does not. */
int ledger_sync_check(struct ledger_sync *ls, struct kio_error *err);
