/* The drain's state machine: batch, send, read the host's answer, mark what it holds. */
#define LOG_MODULE "sync-drain"
#include "drain.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"

/*
 * One exchange (sync_drain_once), phase by phase:
 *
 *   READ ──nothing after cursor──► IDLE
 *    │ batch cursor+1..last
 *    ▼   [sync-before-send]
 *   SEND ──no answer (down, timeout, TLS, too big)──────────────► BACKOFF
 *    │ status + body
 *    ▼
 *   ANSWERED (wire.c) ──malformed, 5xx, refusal──────────────────► BACKOFF
 *    │   [sync-host-answered]   ├─ sequence_gap: cursor = acked ─► RESUME
 *    │                          └─ conflict / chain_broken /
 *    │                             bad_record ───────────────────► FAULT (sticky)
 *    ▼ 200 acked
 *   ACK (ledger_sync_ack: sync_state + outbox, one commit)
 *    │   [sync-ack-written] [sync-acked]   ── the ledger refuses ──► BACKOFF
 *    ▼
 *   PROGRESS (cursor = acked)
 *
 *   transition        function                  what is written
 *   READ              ledger_sync_batch_read    nothing
 *   SEND              transport->exchange       nothing
 *   ANSWERED          sync_wire_records_answer  nothing
 *   ACK               ledger_sync_ack           sync_state, outbox sent_s (one commit)
 *   BACKOFF           ledger_sync_error         last_error, attempts
 *
 * Invariants:
 *  1. Records are sent in rec order, each batch contiguous, beginning right after the
 *     cursor: the host's acknowledgement as last heard (at start, the ledger's acked_rec).
 *  2. Nothing is marked except on a 200 the wire parser accepted, and then only up to its
 *     acked (never beyond what was sent, never below the batch's start): a refused,
 *     malformed or missing answer marks nothing.
 *  3. The ledger's acked_rec moves only forwards (sync-state.c invariant 1): after a
 *     sequence_gap below it (a host that lost records) the records are sent again from the
 *     host's acked, and acked_rec stays until the host passes it.
 *  4. A conflict, chain_broken or bad_record answer stops the drain in FAULT: no further
 *     batch is sent by this drain (never a retry loop), nothing is deleted, and the fault is
 *     the ledger's last error for `kiosk sync status` and the app.
 *  5. Each failure's delay is uniform in [backoff_min_ms, cap], cap = min(backoff_max_ms,
 *     backoff_min_ms * 2^(failures - 1)) (full jitter above the minimum); an acknowledgement
 *     resets the count.
 *
 * Kill points (ledger_sync_checkpoint, with the ledger's own sync-ack-written and
 * sync-acked): at each, a restart reads acked_rec from the ledger and sends again what was
 * not marked; the host counts records it already holds as duplicates, so nothing is marked
 * or applied twice.
 *   sync-before-send     the batch is read, nothing sent.
 *   sync-host-answered   the host committed and answered; nothing marked yet.
 */

struct sync_drain {
	struct ledger_sync *ls;
	struct sync_transport *t;
	struct sync_drain_config cfg;
	sync_random_fn random;
	void *random_user;
	sync_wall_fn wall;
	void *wall_user;
	bool have_cursor;
	int64_t cursor;     /* invariant 1 */
	int64_t ledger_acked; /* the ledger's acked_rec as last read or written */
	int failures;       /* invariant 5 */
	enum sync_fault fault;
	int64_t fault_rec;
	char fault_why[256];
};

const char *sync_drain_result_name(int result)
{
	static const char *const names[SYNC_DRAIN_RESULT_COUNT] = {"idle", "progress", "resume", "backoff", "fault"};
	return result >= 0 && result < SYNC_DRAIN_RESULT_COUNT ? names[result] : NULL;
}

const char *sync_fault_name(int fault)
{
	static const char *const names[SYNC_FAULT_COUNT] = {"none", "record-conflict", "chain-broken", "bad-record"};
	return fault >= 0 && fault < SYNC_FAULT_COUNT ? names[fault] : NULL;
}

static uint32_t default_random(void *user)
{
	(void)user;
	uint32_t v = 0;
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v))
		v = (uint32_t)rand(); /* jitter only spreads retries: any number will do */
	return v;
}

static int64_t default_wall(void *user)
{
	(void)user;
	return (int64_t)time(NULL);
}

struct sync_drain *sync_drain_new(struct ledger_sync *ls, struct sync_transport *transport,
				  const struct sync_drain_config *cfg)
{
	struct sync_drain *d = xcalloc(1, sizeof(*d));
	d->ls = ls;
	d->t = transport;
	d->cfg = *cfg;
	if (d->cfg.batch < 1 || d->cfg.batch > 500)
		d->cfg.batch = 200;
	if (d->cfg.backoff_min_ms < 1)
		d->cfg.backoff_min_ms = 500;
	if (d->cfg.backoff_max_ms < d->cfg.backoff_min_ms)
		d->cfg.backoff_max_ms = d->cfg.backoff_min_ms;
	d->random = default_random;
	d->wall = default_wall;
	return d;
}

void sync_drain_free(struct sync_drain *d) { free(d); }

void sync_drain_set_random(struct sync_drain *d, sync_random_fn fn, void *user)
{
	d->random = fn ? fn : default_random;
	d->random_user = user;
}

void sync_drain_set_wall(struct sync_drain *d, sync_wall_fn fn, void *user)
{
	d->wall = fn ? fn : default_wall;
	d->wall_user = user;
}

int sync_drain_backoff_cap(const struct sync_drain *d)
{
	int64_t cap = d->cfg.backoff_min_ms;
	for (int k = 1; k < d->failures && cap < d->cfg.backoff_max_ms; k++)
		cap *= 2;
	return (int)(cap < d->cfg.backoff_max_ms ? cap : d->cfg.backoff_max_ms);
}

enum sync_fault sync_drain_fault(const struct sync_drain *d, int64_t *rec, char *why, size_t cap)
{
	if (rec)
		*rec = d->fault_rec;
	if (why && cap)
		snprintf(why, cap, "%s", d->fault_why);
	return d->fault;
}

/* Invariant 5; the failure is the ledger's last error too (a failed write of it is only
 * logged: it loses no money and the next exchange tries again). */
static void backoff(struct sync_drain *d, struct sync_drain_outcome *out, const char *why)
{
	d->failures++;
	int cap = sync_drain_backoff_cap(d);
	uint32_t span = (uint32_t)(cap - d->cfg.backoff_min_ms) + 1;
	out->result = SYNC_DRAIN_BACKOFF;
	out->delay_ms = d->cfg.backoff_min_ms + (int)(d->random(d->random_user) % span);
	snprintf(out->why, sizeof(out->why), "%s", why);
	struct kio_error err;
	if (ledger_sync_error(d->ls, d->wall(d->wall_user), why, &err) != 0)
		LOG_WARN("cannot record the sync error: %s", err.msg);
	LOG_WARN("sync: %s; again in %d ms (failure %d)", why, out->delay_ms, d->failures);
}

static void fault(struct sync_drain *d, struct sync_drain_outcome *out, const struct sync_records_answer *a)
{
	d->fault = a->kind == SYNC_RECORDS_CONFLICT       ? SYNC_FAULT_CONFLICT
		   : a->kind == SYNC_RECORDS_CHAIN_BROKEN ? SYNC_FAULT_CHAIN_BROKEN
							  : SYNC_FAULT_BAD_RECORD;
	d->fault_rec = a->rec;
	snprintf(d->fault_why, sizeof(d->fault_why), "host refused record %" PRId64 ": %s%s%s", a->rec, a->error.code,
		 a->error.message[0] ? ": " : "", a->error.message);
	out->result = SYNC_DRAIN_FAULT;
	out->fault = d->fault;
	out->fault_rec = d->fault_rec;
	snprintf(out->why, sizeof(out->why), "%s", d->fault_why);
	struct kio_error err;
	if (ledger_sync_error(d->ls, d->wall(d->wall_user), d->fault_why, &err) != 0)
		LOG_WARN("cannot record the sync fault: %s", err.msg);
	LOG_ERR("sync stopped (%s): %s", sync_fault_name(d->fault), d->fault_why);
}

static int read_cursor(struct sync_drain *d, struct kio_error *err)
{
	struct ledger_sync_status st;
	int rc = ledger_sync_status_read(d->ls, &st, err);
	if (rc)
		return rc;
	d->ledger_acked = st.acked_rec;
	if (!d->have_cursor) {
		d->cursor = st.acked_rec;
		d->have_cursor = true;
	}
	return 0;
}

int sync_drain_once(struct sync_drain *d, struct sync_drain_outcome *out, struct kio_error *err)
{
	memset(out, 0, sizeof(*out));
	if (d->fault) { /* invariant 4 */
		out->result = SYNC_DRAIN_FAULT;
		out->fault = d->fault;
		out->fault_rec = d->fault_rec;
		snprintf(out->why, sizeof(out->why), "%s", d->fault_why);
		return 0;
	}
	struct ledger_sync_batch b = {0};
	int rc = read_cursor(d, err);
	if (!rc)
		rc = ledger_sync_batch_read(d->ls, d->cursor, d->cfg.batch, &b, err);
	if (rc) {
		backoff(d, out, err ? err->msg : "the ledger cannot be read");
		return rc;
	}
	if (b.n == 0) {
		out->result = SYNC_DRAIN_IDLE;
		return 0;
	}
	out->sent = b.n;
	out->first_rec = b.first_rec;
	out->last_rec = b.last_rec;
	LOG_DBG("sending records %" PRId64 "..%" PRId64, b.first_rec, b.last_rec);
	ledger_sync_checkpoint(d->ls, "sync-before-send");
	struct sync_request req = {"POST", "/v1/records", b.body, b.len, d->wall(d->wall_user), NULL};
	struct sync_response resp = {0};
	struct kio_error why = {0};
	if (d->t->exchange(d->t, &req, &resp, &why) != 0) {
		backoff(d, out, why.msg);
		goto out_clear;
	}
	out->reachable = true;
	struct sync_records_answer a;
	struct sync_wire_sent sent = {b.first_rec, b.last_rec};
	if (sync_wire_records_answer(resp.status, resp.body, resp.len, &sent, &a, &why) != 0) {
		backoff(d, out, why.msg); /* invariant 2 */
		goto out_clear;
	}
	ledger_sync_checkpoint(d->ls, "sync-host-answered");
	switch (a.kind) {
	case SYNC_RECORDS_ACKED: {
		out->acked = a.acked;
		if (a.acked == d->cursor) {
			/* A 200 that takes nothing would send the same batch forever. */
			char msg[128];
			snprintf(msg, sizeof(msg), "host acknowledged none of records %" PRId64 "..%" PRId64, b.first_rec,
				 b.last_rec);
			backoff(d, out, msg);
			goto out_clear;
		}
		out->applied = a.applied;
		out->duplicates = a.duplicates;
		/* Invariant 3: below the ledger's acked_rec (catching up after a gap) there is
		 * nothing to mark; the ack still records the host's success. */
		int64_t mark = a.acked > d->ledger_acked ? a.acked : d->ledger_acked;
		if (ledger_sync_ack(d->ls, mark, d->wall(d->wall_user), &out->marked, &why) != 0) {
			backoff(d, out, why.msg);
			goto out_clear;
		}
		d->ledger_acked = mark;
		d->cursor = a.acked;
		d->failures = 0;
		out->result = SYNC_DRAIN_PROGRESS;
		break;
	}
	case SYNC_RECORDS_SEQUENCE_GAP:
		if (a.acked < d->ledger_acked)
			LOG_WARN("host holds records 1..%" PRId64 " only, the kiosk had its word for 1..%" PRId64
				 ": sending again from %" PRId64, a.acked, d->ledger_acked, a.acked + 1);
		d->cursor = a.acked;
		out->acked = a.acked;
		out->result = SYNC_DRAIN_RESUME;
		break;
	case SYNC_RECORDS_CONFLICT:
	case SYNC_RECORDS_CHAIN_BROKEN:
	case SYNC_RECORDS_BAD_RECORD: fault(d, out, &a); break;
	case SYNC_RECORDS_RETRY:
	case SYNC_RECORDS_REFUSED:
	default: {
		char msg[256];
		snprintf(msg, sizeof(msg), "host answered %d %s%s%s", a.error.status,
			 a.error.code[0] ? a.error.code : "(no error code)", a.error.message[0] ? ": " : "",
			 a.error.message);
		backoff(d, out, msg);
		break;
	}
	}
out_clear:
	sync_response_clear(&resp);
	ledger_sync_batch_clear(&b);
	return 0;
}
