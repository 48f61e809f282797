/*
 * The ESC/POS receipt printer driver: one job at a time from a 1-bit image to a cut receipt,
 * with real-time status before, during and after it (Epson ESC/POS command reference, per
 * command in drivers/protocol/escpos/escpos.h; research shared/research/printers.md §6).
 *
 * A job is: ESC @, GS ( D (DLE DC4 off), ESC c 5 1 (panel buttons off), then bands of
 * GS v 0 raster each followed by GS ( H fn48 with the band's own id, then GS V 66 n (feed
 * past the cutter, partial cut) and a last GS ( H for the whole receipt.
 *
 * States (one step function, step(); every transition goes through set_state and logs):
 *
 *            reopen ok            settle_ms            all due replies
 *   CLOSED ----------> SETTLE -------------> STATUS(then) ---------------> by `then`
 *     ^                  ^                    ^   |
 *     |                  | stalled: flush     |   | IDLE:     -> IDLE
 *     | transport gone   |                    |   | PRECHECK: -> SEND, or IDLE + FAILED
 *     | (any state; a    |    poll_ms, print()|   | STALL:    -> SEND (resume) or IDLE + FAILED
 *     | job fails)       |   +----- IDLE -----+   | WAIT:     -> back to SEND/WAIT_DONE, or
 *     |                  |   |                    |             IDLE + FAILED
 *     |                 SEND ---- all sent ---> WAIT_DONE      CONFIRM:  -> IDLE + PRINTED
 *     |                  | window full and            | last id seen -> STATUS(CONFIRM)
 *     |                  | job_poll_ms -> STATUS(WAIT) | job_poll_ms  -> STATUS(WAIT)
 *
 * | from      | on                                   | to               | by            |
 * |-----------|--------------------------------------|------------------|---------------|
 * | any       | transport disconnected               | CLOSED           | on_disconnect |
 * | CLOSED    | transport_reopen() == 0              | SETTLE           | step          |
 * | SETTLE    | settle_ms without input              | STATUS(then)     | step          |
 * | STATUS    | every due reply read                 | per `then`       | status_done   |
 * | STATUS    | reply_timeout_ms                     | IDLE, offline    | status_timeout|
 * | IDLE      | poll due, or a job waiting           | STATUS/SETTLE    | step_idle     |
 * | SEND      | window has room                      | SEND (a chunk)   | step_send     |
 * | SEND      | every byte sent and taken            | WAIT_DONE        | step_send     |
 * | SEND      | transport took nothing for stall_ms  | SETTLE, STALL    | step_send     |
 * | SEND, WAIT_DONE | no progress for job_poll_ms    | STATUS(WAIT)     | wait_progress |
 * | SEND, WAIT_DONE | job_timeout_ms                 | IDLE, FAILED     | wait_progress |
 * | WAIT_DONE | the receipt's own id answered        | STATUS(CONFIRM)  | step_wait     |
 *
 * Invariants:
 *  1. RECEIPT_EV_PRINTED only after the printer confirmed the job: the process-ID answer
 *     after the cut, which Epson sends once everything before it has printed (GS ( H fn48),
 *     then a status round; or, for models without GS ( H, a clean status round after every
 *     byte was taken (research §6 step 9: never count a receipt as printed unconfirmed).
 *  2. Every job ends in exactly one PRINTED or FAILED, with its job id.
 *  3. A job interrupted by paper out, cover open, an error, no answer or a disconnect FAILS
 *     and is never resumed: a customer who has left cannot take a receipt finished when the
 *     technician reloads paper, and a split receipt is not a receipt (research §5); the kiosk
 *     offers a reprint. Only a stall the printer gets over by itself (status reads ready when
 *     asked) goes on, from the byte the printer stopped at.
 *  4. The printer is left able to parse the next job: when a job stopped inside a band, the
 *     band is completed with white rows and the stub fed and cut (the resync tail), as soon
 *     as the printer reads ready again.
 *  5. Status replies are matched to requests in order (escpos-rx.h), including the answers
 *     the printer gives to DLE EOT sequences inside raster data; after a flush or reopen,
 *     input is dropped for settle_ms and matching starts afresh.
 *  6. With process IDs, less than printer_buffer_bytes is ever unconfirmed, so the printer's
 *     buffer never fills and a status request always gets through (research §1.1: a full
 *     printer NAKs every bulk OUT).
 *  7. Arabic is never sent as text: the only print data is raster (GS v 0).
 *  8. Never blocks: every transport call returns at once; waiting is a state plus a timer.
 */
#include "drivers/host/escpos/escpos-receipt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "escpos-receipt"
#include "drivers/host/escpos/escpos-rx.h"
#include "drivers/protocol/escpos/escpos.h"
#include "drivers/class/evq.h"
#include "kiosk/core/bytebuf.h"
#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"

enum prn_state { PS_CLOSED, PS_SETTLE, PS_STATUS, PS_IDLE, PS_SEND, PS_WAIT_DONE, PS_COUNT };
static const char *const state_names[PS_COUNT] = {"CLOSED", "SETTLE", "STATUS", "IDLE", "SEND",
	"WAIT_DONE"};

/* What a status round is for, and so what follows it. */
enum status_then { THEN_IDLE, THEN_PRECHECK, THEN_STALL, THEN_WAIT, THEN_CONFIRM, THEN_COUNT };
static const char *const then_names[THEN_COUNT] = {"idle", "precheck", "stall", "wait",
	"confirm"};

/* One GS v 0 block and the GS ( H that confirms it: [at, data_at) header, [data_at,
 * data_end) rows, [data_end, end) the process-ID request. */
struct band {
	size_t at, data_at, data_end, end;
	char pid[5];
};

struct job {
	bool active;
	char id[RECEIPT_JOB_ID_MAX + 1];
	char pid[5];             /* the receipt's own GS ( H id, after the cut */
	struct core_bytebuf bytes;
	size_t sent;             /* handed to the transport */
	size_t taken;            /* taken by the printer (sent - out_pending) */
	size_t confirmed;        /* printed, by the bands' process IDs */
	struct band *bands;
	size_t n_bands, next_band; /* next_band: the first not yet confirmed */
	size_t cut_at, cut_end;  /* GS V */
	int height;
	uint64_t deadline_ms;
	uint64_t last_progress_ms;
	bool pid_seen;
};

struct escpos_receipt {
	struct receipt_printer base; /* first: the class pointer is this struct */
	struct escpos_receipt_config cfg;
	struct transport *t;
	struct core_timers *timers;
	struct core_clock *clock;

	enum prn_state state;
	enum status_then then;        /* of the round in STATUS, or of the round after SETTLE */
	uint64_t state_since;
	uint64_t deadline_ms;         /* of the current state's wait */
	uint64_t next_poll_ms;
	uint64_t timer_id, timer_at;

	struct escpos_rx rx;
	struct escpos_status round;   /* being collected */
	struct escpos_status last;    /* the last complete round */
	bool have_status;
	enum receipt_fault fault;
	enum dev_state dev_state;

	struct job job;
	enum prn_state resume;        /* where STATUS(WAIT) returns to */
	uint32_t window;              /* bytes allowed unconfirmed (invariant 6); 0 = no limit */
	uint32_t pid_seq;
	struct core_bytebuf resync;   /* invariant 4: bytes to send once the printer is ready */
	struct core_bytebuf status_req; /* DLE EOT 1..4, encoded once by escpos_receipt_new */
	bool resync_pending;

	bool running, again;          /* re-entrancy guard of run() */
	struct class_evq events;     /* finals never dropped, status coalesced (evq.h) */
	struct escpos_receipt_stats stats;
};

static struct escpos_receipt *of(struct receipt_printer *prn)
{
	return (struct escpos_receipt *)prn;
}

static uint64_t now_ms(const struct escpos_receipt *p)
{
	return core_clock_now_ms(p->clock);
}

static void run(struct escpos_receipt *p);

/* ---- events: queued during a step, delivered after it, so a handler may call print() ---- */

static void queue_event(struct escpos_receipt *p, enum receipt_event_kind kind,
	enum receipt_fault fault, const char *job_id)
{
	struct receipt_event ev = {.kind = kind, .fault = fault};
	if (job_id)
		snprintf(ev.job_id, sizeof(ev.job_id), "%s", job_id);
	class_evq_push(&p->events, &ev, kind == RECEIPT_EV_PRINTED || kind == RECEIPT_EV_FAILED);
}

static void deliver_events(struct escpos_receipt *p)
{
	struct receipt_event ev;
	while (class_evq_pop(&p->events, &ev))
		receipt_emit(&p->base, &ev);
}

/* ---- state, timer ---- */

static void set_state(struct escpos_receipt *p, enum prn_state s, const char *why)
{
	LOG_DBG("%s: %s -> %s (%s)", p->t->name, state_names[p->state], state_names[s], why);
	p->state = s;
	p->state_since = now_ms(p);
	p->again = true;
}

static void on_timer(void *user)
{
	struct escpos_receipt *p = user;
	p->timer_id = 0;
	run(p);
}

/* One timer serves every state: it fires at the state's next deadline and runs a step. */
static void arm(struct escpos_receipt *p, uint64_t at)
{
	if (p->timer_id && p->timer_at == at)
		return;
	if (p->timer_id)
		core_timer_cancel(p->timers, p->timer_id);
	uint64_t now = now_ms(p);
	p->timer_at = at;
	p->timer_id = core_timer_add(p->timers, at > now ? at - now : 0, on_timer, p);
}

/* ---- faults ---- */

/*
 * The class fault of a complete status round. The class has no "mechanical error" fault, so
 * an offline printer with no cover or paper cause (autocutter, unrecoverable or
 * auto-recoverable error, Epson "DLE EOT" n = 1 bit 3, n = 3) reads as DISCONNECTED in state
 * FAULT: it answers but cannot print. Cover first: it is what the technician must act on.
 */
static enum receipt_fault fault_of(const struct escpos_status *st, enum dev_state *state)
{
	enum escpos_paper paper = escpos_status_paper(st);
	if (st->cover_open) {
		*state = DEV_STATE_FAULT;
		return RECEIPT_FAULT_COVER_OPEN;
	}
	if (paper == ESCPOS_PAPER_OUT) {
		*state = DEV_STATE_FAULT;
		return RECEIPT_FAULT_PAPER_OUT;
	}
	/* Connected but not printing for a reason of its own (DLE EOT 1-3): a technician's
	 * matter, not a cable's. */
	if (st->offline || st->error || st->autocutter_error || st->unrecoverable_error ||
		st->recoverable_error || st->auto_recoverable_error) {
		*state = DEV_STATE_FAULT;
		return RECEIPT_FAULT_ERROR;
	}
	if (paper == ESCPOS_PAPER_NEAR_END) {
		*state = DEV_STATE_WARNING;
		return RECEIPT_FAULT_PAPER_NEAR_END;
	}
	*state = DEV_STATE_OK;
	return RECEIPT_FAULT_NONE;
}

static void set_fault(struct escpos_receipt *p, enum receipt_fault f, enum dev_state state)
{
	enum receipt_fault old = p->fault;
	p->dev_state = state;
	if (f == old)
		return;
	p->fault = f;
	if (f == RECEIPT_FAULT_NONE) {
		LOG_INFO("%s: recovered from %s", p->t->name, receipt_fault_name(old));
		queue_event(p, RECEIPT_EV_RECOVERED, old, NULL);
	} else {
		LOG_WARN("%s: %s (%s)", p->t->name, receipt_fault_name(f), dev_state_name(state));
		queue_event(p, RECEIPT_EV_FAULT, f, NULL);
	}
}

static bool can_print(enum receipt_fault f)
{
	return f == RECEIPT_FAULT_NONE || f == RECEIPT_FAULT_PAPER_NEAR_END;
}

/* ---- jobs ---- */

/* Invariant 4: what the printer needs after `taken` bytes of the job to end up idle, with
 * whatever it printed of the receipt cut off. */
static void build_resync(struct escpos_receipt *p)
{
	struct job *j = &p->job;
	const uint8_t *d = j->bytes.data;
	size_t t = j->taken;
	core_bytebuf_clear(&p->resync);
	p->resync_pending = false;
	if (t >= j->bytes.len)
		return; /* everything arrived: the printer finishes (and cuts) on its own */
	if (j->n_bands == 0 || t < j->bands[0].at) {
		/* Inside the set-up commands: complete the command; nothing was printed. */
		size_t end = j->n_bands ? j->bands[0].at : j->cut_at;
		core_bytebuf_append(&p->resync, d + t, end - t);
	} else if (t < j->cut_at) {
		const struct band *b = j->bands;
		while (t >= b->end)
			b++;
		if (t == b->at) { /* between two bands: only the cut is missing */
			core_bytebuf_append(&p->resync, d + j->cut_at, j->cut_end - j->cut_at);
			goto out;
		}
		if (t < b->data_at) /* inside the GS v 0 header: its real remainder */
			core_bytebuf_append(&p->resync, d + t, b->data_at - t);
		/* White rows to the band's end. Status requests the stopped printer took as rows in
		 * the meantime make these too many; the surplus lands after the band as NULs, which
		 * the printer skips (as the simulated printer does). */
		static const uint8_t white[256];
		size_t from = t > b->data_at ? t : b->data_at;
		for (size_t n = b->data_end > from ? b->data_end - from : 0; n;) {
			size_t k = n < sizeof(white) ? n : sizeof(white);
			core_bytebuf_append(&p->resync, white, k);
			n -= k;
		}
		from = t > b->data_end ? t : b->data_end; /* the band's GS ( H: answered, ignored */
		core_bytebuf_append(&p->resync, d + from, b->end - from);
		/* Then the job's own feed and cut: the stub leaves the printer. */
		core_bytebuf_append(&p->resync, d + j->cut_at, j->cut_end - j->cut_at);
	} else {
		/* Past the raster: the cut (or the GS ( H after it) is what is left. */
		core_bytebuf_append(&p->resync, d + t, j->bytes.len - t);
	}
out:
	p->resync_pending = p->resync.len > 0;
	if (p->resync_pending)
		LOG_INFO("%s: job %s stopped at byte %zu of %zu; %zu resync bytes will follow once the "
			"printer is ready", p->t->name, j->id, t, j->bytes.len, p->resync.len);
}

static void job_end(struct escpos_receipt *p, bool printed, enum receipt_fault fault,
	const char *why)
{
	struct job *j = &p->job;
	if (!j->active)
		return;
	if (printed) {
		LOG_INFO("%s: job %s printed (%d rows)", p->t->name, j->id, j->height);
		p->stats.jobs_printed++;
		queue_event(p, RECEIPT_EV_PRINTED, p->fault, j->id);
	} else {
		LOG_WARN("%s: job %s failed after %zu of %zu bytes: %s", p->t->name, j->id, j->taken,
			j->bytes.len, why);
		p->stats.jobs_failed++;
		build_resync(p);
		queue_event(p, RECEIPT_EV_FAILED, fault, j->id);
	}
	j->active = false;
	core_bytebuf_free(&j->bytes);
	free(j->bands);
	j->bands = NULL;
	j->n_bands = j->next_band = 0;
}

/* ---- transport ---- */

static void on_disconnect(struct escpos_receipt *p)
{
	if (p->state == PS_CLOSED)
		return;
	LOG_WARN("%s: printer disconnected", p->t->name);
	set_fault(p, RECEIPT_FAULT_DISCONNECTED, DEV_STATE_OFFLINE);
	job_end(p, false, RECEIPT_FAULT_DISCONNECTED, "disconnected");
	escpos_rx_reset(&p->rx);
	p->have_status = false;
	set_state(p, PS_CLOSED, "transport disconnected");
}

/* 0, or < 0 with the disconnect handled; KIO_ERR_BUSY leaves everything as it was. */
static int send(struct escpos_receipt *p, const uint8_t *buf, size_t len)
{
	int rc = transport_write(p->t, buf, len);
	if (rc == KIO_ERR_NO_DEVICE)
		on_disconnect(p);
	return rc;
}

/* Moves the job's taken count forward from what the transport still holds. */
static void track_taken(struct escpos_receipt *p)
{
	struct job *j = &p->job;
	/* A transport that lost the device has dropped its queue: out_pending says nothing about
	 * what the printer took, so the last count stands. */
	if (!j->active || p->state == PS_CLOSED || !transport_connected(p->t))
		return;
	size_t pending = transport_out_pending(p->t);
	size_t taken = j->sent > pending ? j->sent - pending : 0;
	if (taken > j->taken) {
		j->taken = taken;
		j->last_progress_ms = now_ms(p);
	}
}

/* Drops what waits both ways; the next status round starts after SETTLE (invariant 5). */
static void flush_and_settle(struct escpos_receipt *p, enum status_then then, const char *why)
{
	track_taken(p);
	transport_flush(p->t);
	/* What was dropped was never sent, as far as the printer knows. */
	p->job.sent = p->job.taken;
	escpos_rx_reset(&p->rx);
	p->then = then;
	p->deadline_ms = now_ms(p) + p->cfg.settle_ms;
	set_state(p, PS_SETTLE, why);
}

/* The band whose rows contain job byte `at`, or NULL. */
static const struct band *band_data_at(const struct job *j, size_t at)
{
	for (size_t k = 0; k < j->n_bands; k++)
		if (at >= j->bands[k].data_at && at < j->bands[k].data_end)
			return &j->bands[k];
	return NULL;
}

/*
 * Real-time requests stay in the stream after they are answered (Epson "DLE EOT": executed on
 * reception; the bytes are then parsed like any other). Sent while the printer is inside a
 * band's rows, they are taken as rows: the job's next bytes are skipped by as many, so the
 * printer stays aligned (a few dots of that band are lost, never the rest of the receipt).
 * Requests sent at a band boundary, as all but the stall path's are, are harmless commands.
 */
static void absorb_injection(struct escpos_receipt *p, size_t n)
{
	struct job *j = &p->job;
	const struct band *b = j->active ? band_data_at(j, j->sent) : NULL;
	if (!b)
		return;
	size_t eaten = b->data_end - j->sent < n ? b->data_end - j->sent : n;
	LOG_DBG("%s: %zu request bytes land inside band data at byte %zu", p->t->name, eaten,
		j->sent);
	j->sent += eaten;
	p->stats.injected += eaten;
}

static void begin_status(struct escpos_receipt *p, enum status_then then)
{
	int rc = send(p, p->status_req.data, p->status_req.len);
	if (rc == KIO_ERR_NO_DEVICE)
		return;
	if (rc == 0) {
		for (int k = ESCPOS_STATUS_PRINTER; k <= ESCPOS_STATUS_PAPER; k++)
			escpos_rx_note_request(&p->rx, k);
		absorb_injection(p, p->status_req.len);
	}
	/* A refused write (BUSY) leaves nothing due: the round times out like a silent printer. */
	escpos_status_init(&p->round);
	p->then = then;
	p->deadline_ms = now_ms(p) + p->cfg.reply_timeout_ms;
	p->stats.status_rounds++;
	set_state(p, PS_STATUS, then_names[then]);
}

static void write_resync(struct escpos_receipt *p)
{
	if (!p->resync_pending)
		return;
	if (send(p, p->resync.data, p->resync.len) != 0)
		return;
	escpos_rx_note_sent(&p->rx, p->resync.data, p->resync.len);
	LOG_INFO("%s: %zu resync bytes sent: the interrupted receipt is completed white and cut",
		p->t->name, p->resync.len);
	p->stats.resyncs++;
	p->resync_pending = false;
	core_bytebuf_clear(&p->resync);
}

/* ---- input ---- */

static void on_item(struct escpos_receipt *p, const struct escpos_rx_item *it)
{
	struct kio_error err;
	switch (it->kind) {
	case ESCPOS_RX_STATUS:
		if (escpos_status_parse(&p->round, it->status_kind, it->byte, &err) != 0)
			LOG_WARN("%s: %s", p->t->name, err.msg);
		break;
	case ESCPOS_RX_PROCESS_ID: {
		struct job *j = &p->job;
		/* Answers come in the order asked (Epson "GS ( H": after the data before it printed);
		 * one that matches a later band confirms the ones before it too. */
		size_t k = j->next_band;
		while (j->active && k < j->n_bands && strcmp(it->process_id, j->bands[k].pid) != 0)
			k++;
		if (j->active && k < j->n_bands) {
			j->next_band = k + 1;
			j->confirmed = j->bands[k].end;
			j->last_progress_ms = now_ms(p);
			p->next_poll_ms = now_ms(p) + p->cfg.job_poll_ms;
		} else if (j->active && strcmp(it->process_id, j->pid) == 0) {
			j->pid_seen = true;
			j->next_band = j->n_bands;
			j->confirmed = j->bytes.len;
			LOG_DBG("%s: job %s confirmed by process id %s", p->t->name, j->id,
				it->process_id);
		} else {
			/* Invariant 3: a job reported failed may still finish on the printer (paper
			 * reloaded, cover closed); that receipt is not counted again. */
			p->stats.late_process_ids++;
			LOG_DBG("%s: process id %s of no job in progress (a failed job finishing)",
				p->t->name, it->process_id);
		}
		break;
	}
	case ESCPOS_RX_GARBAGE:
		p->stats.garbage_bytes++;
		LOG_DBG("%s: reply byte 0x%02x fits nothing, dropped", p->t->name, it->byte);
		break;
	case ESCPOS_RX_NONE:
		break;
	}
}

/* Reads everything the printer sent; returns false if the transport is gone. */
static bool read_input(struct escpos_receipt *p)
{
	uint8_t buf[256];
	for (;;) {
		ssize_t n = transport_read(p->t, buf, sizeof(buf));
		if (n == KIO_ERR_NO_DEVICE) {
			on_disconnect(p);
			return false;
		}
		if (n <= 0)
			return true;
		if (p->state == PS_SETTLE) {
			p->deadline_ms = now_ms(p) + p->cfg.settle_ms; /* still talking: wait longer */
			continue;
		}
		size_t off = 0;
		while (off < (size_t)n) {
			struct escpos_rx_item it;
			off += escpos_rx_feed(&p->rx, buf + off, (size_t)n - off, &it);
			on_item(p, &it);
		}
	}
}

/* ---- the step function ---- */

static void status_timeout(struct escpos_receipt *p)
{
	p->stats.status_timeouts++;
	LOG_WARN("%s: no status answer in %u ms (%zu replies due)", p->t->name,
		p->cfg.reply_timeout_ms, escpos_rx_due(&p->rx));
	set_fault(p, RECEIPT_FAULT_DISCONNECTED, DEV_STATE_OFFLINE);
	track_taken(p);
	job_end(p, false, RECEIPT_FAULT_DISCONNECTED, "no status answer");
	/* Unanswered requests may still be in the way: the next round starts with a flush and
	 * SETTLE (step_idle), at the poll interval rather than at once. */
	p->have_status = false;
	p->next_poll_ms = now_ms(p) + p->cfg.poll_ms;
	set_state(p, PS_IDLE, "no answer");
}

static void start_sending(struct escpos_receipt *p)
{
	p->job.last_progress_ms = now_ms(p);
	p->next_poll_ms = now_ms(p) + p->cfg.job_poll_ms;
	set_state(p, PS_SEND, "printer ready");
}

static void status_done(struct escpos_receipt *p)
{
	enum dev_state ds;
	enum receipt_fault f = fault_of(&p->round, &ds);
	p->last = p->round;
	p->have_status = true;
	set_fault(p, f, ds);
	if (can_print(f))
		write_resync(p);
	if (p->state == PS_CLOSED)
		return;
	p->next_poll_ms = now_ms(p) + p->cfg.poll_ms;

	switch (p->then) {
	case THEN_IDLE:
		set_state(p, PS_IDLE, "status read");
		break;
	case THEN_PRECHECK:
		if (!p->job.active) {
			set_state(p, PS_IDLE, "job gone");
		} else if (can_print(f)) {
			start_sending(p);
		} else {
			job_end(p, false, f, "not ready before printing");
			set_state(p, PS_IDLE, "precheck failed");
		}
		break;
	case THEN_STALL:
		if (p->job.active && can_print(f)) {
			/* Invariant 3: a stall the printer got over by itself; go on from its byte. */
			p->stats.resumed++;
			start_sending(p);
		} else {
			job_end(p, false, can_print(f) ? RECEIPT_FAULT_DISCONNECTED : f,
				"printer stopped taking data");
			set_state(p, PS_IDLE, "job interrupted");
		}
		break;
	case THEN_WAIT:
		if (!p->job.active) {
			set_state(p, PS_IDLE, "job gone");
		} else if (!can_print(f)) {
			job_end(p, false, f, "printer stopped before the job finished");
			set_state(p, PS_IDLE, "job interrupted");
		} else {
			set_state(p, p->resume, "still printing");
		}
		break;
	case THEN_CONFIRM:
		/* Invariant 1: the process ID (or, without it, this clean round) says it printed;
		 * a paper-out read now concerns the next receipt, not this one. */
		if (p->job.active && (p->job.pid_seen || (!p->cfg.process_id && can_print(f))))
			job_end(p, true, RECEIPT_FAULT_NONE, NULL);
		else
			job_end(p, false, f, "not confirmed");
		set_state(p, PS_IDLE, "job done");
		break;
	case THEN_COUNT:
		break;
	}
}

/* SEND and WAIT_DONE while the printer has not confirmed enough: poll, or give up. */
static void wait_progress(struct escpos_receipt *p)
{
	struct job *j = &p->job;
	uint64_t now = now_ms(p);
	if (now >= j->deadline_ms) {
		job_end(p, false, p->fault == RECEIPT_FAULT_NONE ? RECEIPT_FAULT_DISCONNECTED : p->fault,
			"no confirmation in time");
		set_state(p, PS_IDLE, "job timeout");
	} else if (now >= p->next_poll_ms) {
		p->next_poll_ms = now + p->cfg.job_poll_ms;
		p->resume = p->state;
		begin_status(p, THEN_WAIT);
	} else {
		arm(p, p->next_poll_ms < j->deadline_ms ? p->next_poll_ms : j->deadline_ms);
	}
}

static void step_send(struct escpos_receipt *p)
{
	struct job *j = &p->job;
	uint64_t now = now_ms(p);
	if (j->sent > j->taken) {
		/* Bytes wait in the transport: the printer's buffer is full (USB NAK). */
		if (now - j->last_progress_ms < p->cfg.stall_ms) {
			arm(p, j->last_progress_ms + p->cfg.stall_ms);
			return;
		}
		/* The printer cannot be asked while our bytes block the pipe: drop them (we know
		 * which it took) and ask. */
		p->stats.stalls++;
		LOG_WARN("%s: job %s stalled at byte %zu of %zu for %u ms", p->t->name, j->id,
			j->taken, j->bytes.len, p->cfg.stall_ms);
		flush_and_settle(p, THEN_STALL, "stalled");
		return;
	}
	if (j->sent == j->bytes.len) {
		set_state(p, PS_WAIT_DONE, "all bytes taken");
		return;
	}
	/* Invariant 6, and whole bands only: the printer stops between commands, so a status
	 * request sent while it waits is a command, not rows (see absorb_injection). */
	size_t limit = j->bytes.len;
	if (p->window && j->confirmed + p->window < limit) {
		limit = j->confirmed;
		for (size_t k = j->next_band; k < j->n_bands; k++)
			if (j->bands[k].end <= j->confirmed + p->window)
				limit = j->bands[k].end;
		if (limit < j->sent)
			limit = j->sent;
	}
	if (j->sent >= limit) {
		wait_progress(p); /* invariant 6: the window is full until a band is confirmed */
		return;
	}
	size_t n = limit - j->sent;
	if (n > p->cfg.chunk_bytes)
		n = p->cfg.chunk_bytes;
	int rc = send(p, j->bytes.data + j->sent, n);
	if (rc == KIO_ERR_NO_DEVICE)
		return;
	if (rc == 0) {
		escpos_rx_note_sent(&p->rx, j->bytes.data + j->sent, n);
		j->sent += n;
		track_taken(p);
	}
	/* At most one chunk per millisecond: the loop (and the screen) runs between chunks, and
	 * 4 MB/s is beyond a full-speed USB printer anyway (TM manuals: 12 Mbps). A chunk still
	 * waiting gets a look in 10 ms, or at the wake when the transport drains. */
	arm(p, rc == 0 && j->taken == j->sent ? now + 1 : now + 10);
}

static void step_wait(struct escpos_receipt *p)
{
	if (!p->job.active)
		set_state(p, PS_IDLE, "job gone");
	else if (p->job.pid_seen || !p->cfg.process_id)
		begin_status(p, THEN_CONFIRM);
	else
		wait_progress(p);
}

static void step_idle(struct escpos_receipt *p)
{
	uint64_t now = now_ms(p);
	enum status_then then = p->job.active ? THEN_PRECHECK : THEN_IDLE;
	if (!p->job.active && now < p->next_poll_ms)
		arm(p, p->next_poll_ms);
	else if (!p->have_status) /* the last round went unanswered (invariant 5) */
		flush_and_settle(p, then, "resynchronise");
	else
		begin_status(p, then);
}

static void step(struct escpos_receipt *p)
{
	uint64_t now = now_ms(p);
	if (p->state != PS_CLOSED) {
		if (!transport_connected(p->t)) {
			on_disconnect(p);
			return;
		}
		track_taken(p);
		if (!read_input(p))
			return;
	}
	switch (p->state) {
	case PS_CLOSED: {
		struct kio_error err;
		int rc = transport_reopen(p->t, &err);
		if (rc == 0) {
			p->stats.reopens++;
			LOG_INFO("%s: printer reopened", p->t->name);
			flush_and_settle(p, THEN_IDLE, "reopened");
			break;
		}
		if (rc != KIO_ERR_NO_DEVICE)
			LOG_WARN("%s: reopen: %s", p->t->name, err.msg);
		arm(p, now + p->cfg.reopen_ms);
		break;
	}
	case PS_SETTLE:
		if (now >= p->deadline_ms)
			begin_status(p, p->then);
		else
			arm(p, p->deadline_ms);
		break;
	case PS_STATUS:
		if (escpos_rx_due(&p->rx) == 0 && (p->round.seen & 0x1E) == 0x1E)
			status_done(p);
		else if (p->rx.overflow || now >= p->deadline_ms)
			status_timeout(p);
		else
			arm(p, p->deadline_ms);
		break;
	case PS_IDLE:
		step_idle(p);
		break;
	case PS_SEND:
		step_send(p);
		break;
	case PS_WAIT_DONE:
		step_wait(p);
		break;
	case PS_COUNT:
		break;
	}
}

static void run(struct escpos_receipt *p)
{
	if (p->running) {
		p->again = true;
		return;
	}
	p->running = true;
	int guard = 0;
	do {
		p->again = false;
		step(p);
	} while (p->again && ++guard < 64);
	if (p->again) /* a state that keeps changing: let the loop breathe, come back at once */
		arm(p, now_ms(p));
	p->running = false;
	deliver_events(p);
}

/* ---- class operations ---- */

static void next_pid(struct escpos_receipt *p, char pid[5])
{
	/* 4 characters from a counter, base 30 over letters escpos_rx_id_char_ok accepts
	 * ('A'..'O', 'a'..'o': none looks like a status reply). */
	static const char digits[] = "ABCDEFGHIJKLMNOabcdefghijklmno";
	uint32_t n = p->pid_seq++ % (30u * 30u * 30u * 30u);
	for (int i = 3; i >= 0; i--, n /= 30)
		pid[i] = digits[n % 30];
	pid[4] = '\0';
}

/* Rows per band: the configured height, or fewer so that two bands and their GS ( H fit the
 * window (invariant 6), and the printer prints one while the next arrives. */
static int band_rows_for(const struct escpos_receipt *p, int stride)
{
	int rows = p->cfg.band_rows;
	if (p->window) {
		int fit = (int)((p->window / 2 - 8 - 11) / (uint32_t)stride);
		if (fit < rows)
			rows = fit;
	}
	return rows;
}

/* GS v 0 at the image's own width: the printer prints it from the left margin. */
static int encode_job(struct escpos_receipt *p, const struct receipt_image *img,
	struct kio_error *err)
{
	struct job *j = &p->job;
	struct escpos_bitmap *bm;
	int rc = escpos_bitmap_new(img->width, img->height, &bm, err);
	if (rc)
		return rc;
	for (int y = 0; y < img->height; y++) {
		uint8_t *dst = bm->bits + (size_t)y * (size_t)bm->stride;
		memcpy(dst, img->bits + (size_t)y * (size_t)img->stride, (size_t)bm->stride);
		if (img->width % 8) /* bits past the width are not ours to print */
			dst[bm->stride - 1] &= (uint8_t)(0xFF00u >> (img->width % 8));
	}
	struct core_bytebuf *b = &j->bytes;
	core_bytebuf_clear(b);
	escpos_encode_init(b);             /* ESC @: modes back to power-on */
	escpos_encode_realtime_disable(b); /* GS ( D: raster rows cannot pulse or power off */
	/* ESC c 5 1: panel buttons off, so a customer cannot feed paper (Epson "ESC c 5"). */
	core_bytebuf_append(b, (const uint8_t[]){0x1B, 'c', '5', 0x01}, 4);

	int rows = band_rows_for(p, bm->stride);
	j->n_bands = (size_t)((img->height + rows - 1) / rows);
	j->bands = xcalloc(j->n_bands, sizeof(*j->bands));
	for (size_t k = 0; k < j->n_bands && rc == 0; k++) {
		struct band *bd = &j->bands[k];
		int y = (int)k * rows;
		struct escpos_bitmap view = {.width = bm->width, .stride = bm->stride,
			.height = img->height - y < rows ? img->height - y : rows,
			.bits = bm->bits + (size_t)y * (size_t)bm->stride};
		bd->at = b->len;
		rc = escpos_encode_raster(b, &view, view.height, err);
		bd->data_at = bd->at + 8;
		bd->data_end = b->len;
		if (rc == 0 && p->cfg.process_id) {
			next_pid(p, bd->pid);
			rc = escpos_encode_process_id(b, bd->pid, err);
		}
		bd->end = b->len;
	}
	escpos_bitmap_free(bm);
	if (rc)
		return rc;
	j->height = img->height;
	/* GS V 65/66 n: feed to the cutter + n dots, then cut (Epson "GS V" function B): the
	 * cutter sits above the head, a plain cut would cut through the last lines. */
	j->cut_at = b->len;
	escpos_encode_cut(b, p->cfg.full_cut ? ESCPOS_CUT_FULL_FEED : ESCPOS_CUT_PARTIAL_FEED,
		(uint8_t)p->cfg.cut_feed_dots);
	j->cut_end = b->len;
	if (p->cfg.process_id) {
		next_pid(p, j->pid);
		rc = escpos_encode_process_id(b, j->pid, err);
	}
	return rc;
}

static int op_print(struct receipt_printer *prn, const char *job_id,
	const struct receipt_image *image)
{
	struct escpos_receipt *p = of(prn);
	struct kio_error err;
	if (p->job.active)
		return KIO_ERR_BUSY;
	if (p->state == PS_CLOSED)
		return KIO_ERR_NO_DEVICE;
	size_t id_len = job_id ? strlen(job_id) : 0;
	if (id_len < 1 || id_len > RECEIPT_JOB_ID_MAX) {
		/* Cut short, the job's PRINTED or FAILED would name another job: the caller
		 * waiting for its own would wait for ever. */
		LOG_ERR("%s: job id of %zu bytes refused (1..%d)", p->t->name, id_len, RECEIPT_JOB_ID_MAX);
		return KIO_ERR_INVALID;
	}
	if (!image || !image->bits || image->width < 1 || image->height < 1 ||
		image->width > p->cfg.width_dots || image->stride < (image->width + 7) / 8) {
		LOG_ERR("%s: job %s: image %dx%d does not fit %d dots", p->t->name,
			job_id, image ? image->width : 0, image ? image->height : 0,
			p->cfg.width_dots);
		return KIO_ERR_INVALID;
	}
	struct job *j = &p->job;
	int rc = encode_job(p, image, &err);
	if (rc) {
		LOG_ERR("%s: job %s: %s", p->t->name, job_id, err.msg);
		core_bytebuf_free(&j->bytes);
		free(j->bands);
		j->bands = NULL;
		j->n_bands = 0;
		return rc;
	}
	memcpy(j->id, job_id, id_len + 1);
	j->active = true;
	j->sent = j->taken = j->confirmed = 0;
	j->next_band = 0;
	j->pid_seen = false;
	j->deadline_ms = now_ms(p) + p->cfg.job_timeout_ms;
	LOG_INFO("%s: job %s: %dx%d, %zu bytes", p->t->name, j->id, image->width, image->height,
		j->bytes.len);
	/* From the loop, not from here: no event reaches the caller before print() returns. */
	arm(p, now_ms(p));
	return 0;
}

static void op_get_status(struct receipt_printer *prn, struct receipt_status *out)
{
	struct escpos_receipt *p = of(prn);
	out->state = p->dev_state;
	out->fault = p->fault;
	out->width_dots = p->cfg.width_dots;
}

static void op_service(struct receipt_printer *prn)
{
	run(of(prn));
}

static void op_destroy(struct receipt_printer *prn)
{
	struct escpos_receipt *p = of(prn);
	if (!p)
		return;
	if (p->timer_id)
		core_timer_cancel(p->timers, p->timer_id);
	core_bytebuf_free(&p->job.bytes);
	free(p->job.bands);
	core_bytebuf_free(&p->resync);
	core_bytebuf_free(&p->status_req);
	class_evq_free(&p->events);
	free(p);
}

static const struct receipt_printer_ops escpos_receipt_ops = {
	.print = op_print,
	.get_status = op_get_status,
	.service = op_service,
	.destroy = op_destroy,
};

void escpos_receipt_config_default(struct escpos_receipt_config *cfg)
{
	*cfg = (struct escpos_receipt_config){
		.width_dots = ESCPOS_WIDTH_80MM_203DPI,
		.band_rows = ESCPOS_BAND_ROWS_DEFAULT,
		.cut_feed_dots = 24,
		.full_cut = false,
		.process_id = true,
		.status_in_data = true,
		.poll_ms = 5000,
		.job_poll_ms = 500,
		.reply_timeout_ms = 1000,
		.stall_ms = 3000,
		.job_timeout_ms = 60000,
		.reopen_ms = 2000,
		.settle_ms = 100,
		.chunk_bytes = 4096,
		.printer_buffer_bytes = 4096,
	};
}

/* Zeros take the defaults; bools are taken as given. */
static void fill_defaults(struct escpos_receipt_config *c)
{
	struct escpos_receipt_config d;
	escpos_receipt_config_default(&d);
#define DEF(f) if (!c->f) c->f = d.f
	DEF(width_dots);
	DEF(band_rows);
	DEF(cut_feed_dots);
	DEF(poll_ms);
	DEF(job_poll_ms);
	DEF(reply_timeout_ms);
	DEF(stall_ms);
	DEF(job_timeout_ms);
	DEF(reopen_ms);
	DEF(settle_ms);
	DEF(chunk_bytes);
	DEF(printer_buffer_bytes);
#undef DEF
}

int escpos_receipt_new(struct transport *t, struct core_timers *timers,
	const struct escpos_receipt_config *cfg, struct receipt_printer **out,
	struct kio_error *err)
{
	*out = NULL;
	struct escpos_receipt_config c;
	if (cfg)
		c = *cfg;
	else
		escpos_receipt_config_default(&c);
	fill_defaults(&c);
	if (!t || !timers)
		return kio_fail(err, KIO_ERR_INVALID, "escpos receipt: no transport or timers");
	/* Room for the status requests beside what is in flight (invariant 6). */
	uint32_t window = c.process_id && c.printer_buffer_bytes != ESCPOS_RECEIPT_NO_WINDOW
		? (c.printer_buffer_bytes > 256 ? c.printer_buffer_bytes - 256 : 0) : 0;
	int stride = (c.width_dots + 7) / 8;
	if (c.width_dots < 8 || c.width_dots > ESCPOS_RASTER_MAX_ROW_BYTES * 8 || c.band_rows < 1 ||
		c.band_rows > ESCPOS_BAND_ROWS_MAX || c.cut_feed_dots < 0 || c.cut_feed_dots > 255 ||
		c.chunk_bytes < 16 ||
		(c.process_id && c.printer_buffer_bytes != ESCPOS_RECEIPT_NO_WINDOW &&
			(window / 2 < 8 + 11 + (uint32_t)stride)))
		return kio_fail(err, KIO_ERR_INVALID,
			"escpos receipt %s: width %d dots, bands of %d rows, cut feed %d, chunk %u, "
			"printer buffer %u out of range", t->name, c.width_dots, c.band_rows,
			c.cut_feed_dots, c.chunk_bytes, c.printer_buffer_bytes);
	/* The status requests never change: encoded here, where a failure is an error to the
	 * caller, not in the step function, where it could only crash the kiosk. */
	struct core_bytebuf req = {0};
	for (int k = ESCPOS_STATUS_PRINTER; k <= ESCPOS_STATUS_PAPER; k++) {
		int rc = escpos_encode_status_request(&req, k, err);
		if (rc) {
			core_bytebuf_free(&req);
			return rc;
		}
	}
	struct escpos_receipt *p = xcalloc(1, sizeof(*p));
	p->status_req = req;
	class_evq_init(&p->events, sizeof(struct receipt_event));
	p->base.ops = &escpos_receipt_ops;
	p->base.name = "receipt";
	p->cfg = c;
	p->t = t;
	p->timers = timers;
	p->clock = core_timers_clock(timers);
	p->window = window;
	escpos_rx_init(&p->rx, c.status_in_data);
	p->state = PS_SETTLE;
	p->state_since = now_ms(p);
	p->deadline_ms = p->state_since + c.settle_ms;
	p->then = THEN_IDLE;
	p->fault = RECEIPT_FAULT_NONE;
	p->dev_state = DEV_STATE_OK;
	if (!transport_connected(t)) {
		p->state = PS_CLOSED;
		p->fault = RECEIPT_FAULT_DISCONNECTED;
		p->dev_state = DEV_STATE_OFFLINE;
	}
	LOG_DBG("%s: new, %d dots, %s", t->name, c.width_dots, state_names[p->state]);
	*out = &p->base;
	arm(p, now_ms(p)); /* first step from the loop, not from inside the constructor */
	return 0;
}

void escpos_receipt_stats(const struct receipt_printer *prn, struct escpos_receipt_stats *out)
{
	const struct escpos_receipt *p = (const struct escpos_receipt *)prn;
	*out = p->stats;
	out->garbage_bytes = p->rx.garbage;
}
