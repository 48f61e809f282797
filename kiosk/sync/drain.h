/*
 * The drain: sends the ledger's unacknowledged records to the host in rec order, in batches,
 * and marks what the host acknowledged (drain.c has the phases, invariants and kill points).
 * One exchange per sync_drain_once; the worker (sync.c) and `kiosk sync push` loop over it.
 * Single-threaded: owned by whoever calls it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "kiosk/core/err.h"
#include "kiosk/ledger/sync-state.h"
#include "transport.h"
#include "wire.h"

struct sync_drain_config {
	int batch;          /* records per POST, 1..500 */
	int backoff_min_ms; /* the first retry's delay; each next one's cap doubles ... */
	int backoff_max_ms; /* ... up to this */
};

/* A uniform 32-bit random number (full jitter); tests inject theirs. */
typedef uint32_t (*sync_random_fn)(void *user);
/* Wall-clock seconds (the Date header and the ledger's times). */
typedef int64_t (*sync_wall_fn)(void *user);

enum sync_drain_result {
	SYNC_DRAIN_IDLE,     /* nothing to send: the host holds every record */
	SYNC_DRAIN_PROGRESS, /* the host acknowledged; call again for more */
	SYNC_DRAIN_RESUME,   /* sequence_gap: the next batch starts after the host's acked */
	SYNC_DRAIN_BACKOFF,  /* nothing marked; try again after delay_ms */
	SYNC_DRAIN_FAULT,    /* conflict, chain broken, bad record: stopped until restarted */
	SYNC_DRAIN_RESULT_COUNT
};
const char *sync_drain_result_name(int result);

enum sync_fault {
	SYNC_FAULT_NONE,
	SYNC_FAULT_CONFLICT,     /* the host holds a different record under this rec */
	SYNC_FAULT_CHAIN_BROKEN, /* the host cannot verify the record's MAC */
	SYNC_FAULT_BAD_RECORD,   /* the host refuses the record's fields */
	SYNC_FAULT_COUNT
};
/* "none", "record-conflict", "chain-broken", "bad-record". */
const char *sync_fault_name(int fault);

struct sync_drain_outcome {
	enum sync_drain_result result;
	int sent;                      /* records sent in this exchange (0: none) */
	int64_t first_rec, last_rec;   /* what was sent */
	int64_t acked, applied, duplicates; /* the host's word (PROGRESS, RESUME) */
	int64_t marked;                /* outbox rows marked sent now */
	int delay_ms;                  /* BACKOFF */
	bool reachable;                /* an HTTP answer came (whatever it said) */
	enum sync_fault fault;         /* FAULT */
	int64_t fault_rec;
	char why[256];                 /* BACKOFF, FAULT: what went wrong */
};

struct sync_drain;

/* Borrows ls and transport for its life. */
struct sync_drain *sync_drain_new(struct ledger_sync *ls, struct sync_transport *transport,
				  const struct sync_drain_config *cfg);
void sync_drain_free(struct sync_drain *d); /* accepts NULL */
/* Defaults: getrandom() and time(). */
void sync_drain_set_random(struct sync_drain *d, sync_random_fn fn, void *user);
void sync_drain_set_wall(struct sync_drain *d, sync_wall_fn fn, void *user);

/* One exchange (or none when there is nothing to send, or while FAULT). Returns 0 with *out
 * filled whatever the host said; an error only when the ledger cannot be read at all
 * (KIO_ERR_IO, KIO_ERR_CORRUPT: also reported as BACKOFF in *out). */
int sync_drain_once(struct sync_drain *d, struct sync_drain_outcome *out, struct kio_error *err);

/* The sticky fault, if any (FAULT stays until the drain is made anew: a restart). */
enum sync_fault sync_drain_fault(const struct sync_drain *d, int64_t *rec, char *why, size_t cap);
/* The delay the next failure would get before jitter (tests): min(max, min * 2^failures). */
int sync_drain_backoff_cap(const struct sync_drain *d);
