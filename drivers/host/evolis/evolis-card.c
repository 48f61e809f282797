/*
 * The Evolis card issuer driver: status reads, then a card taken to its station, encoded on
 * track 2, printed and ejected, one command and its one reply at a time
 * (docs/evolis-commands.md: every complete command gets exactly one reply).
 *
 * States (one step function, step(); every transition goes through set_state and logs):
 *
 *   CLOSED --reopen--> SETTLE --settle_ms--> status chain (then = IDLE or ISSUE)
 *
 *   status chain:  POSITION --card inside, no job--> CLEAR_CARD (Ser) --+
 *                     | none                                              |
 *                     +--> COVER (Rse;o) --> FEEDER (Rse;f) --> RIBBON_END (Rcr)
 *                          --> RIBBON_LEFT (Rco;l) --> IDLE, or the issue if ready
 *
 *   issue:  RIBBON_SELECT (Pr;k) --> MOVE (Sic/Sis) --> ENCODE (Dm;2 + Smw)
 *           --> PRINT (Ss Sr Db Se) --> CONFIRM (Rlr;p: no card) --> IDLE + ISSUED
 *           any error after MOVE was sent --> REJECT (Ser) --> IDLE + FAILED
 *
 * | from            | on                           | to                 | by            |
 * |-----------------|------------------------------|--------------------|---------------|
 * | any             | transport disconnected       | CLOSED             | on_disconnect |
 * | CLOSED          | transport_reopen() == 0      | SETTLE             | step          |
 * | SETTLE          | settle_ms without input      | POSITION           | step          |
 * | IDLE            | poll_ms, or issue()          | POSITION           | step          |
 * | command states  | every reply read             | next, per table    | on_done       |
 * | command states  | reply or motion timeout      | IDLE, offline      | step          |
 * | REJECT          | its reply (OK or not)        | IDLE + FAILED      | on_done       |
 * | any             | a command not encodable (bug)| SETTLE + FAILED    | command       |
 *
 * Invariants:
 *  1. CARDPRN_EV_ISSUED only after Se answered OK (printed and ejected) and Rlr;p then reads
 *     no card inside.
 *  2. Every issue() that returned 0 ends in exactly one ISSUED or FAILED.
 *  3. No card leaves the feeder unless the status reads just before said cover closed,
 *     feeder loaded, ribbon usable and no jam.
 *  4. A card that has left the feeder and will not be issued goes to the reject box (Ser):
 *     at once on an error reply; after a timeout or a reopen, when the next status chain's
 *     Rlr;p finds it. A card never stays in the printer for the next customer.
 *  5. Replies are matched to commands in order; after a timeout or reopen, input is dropped
 *     for settle_ms so a late reply cannot answer the next command.
 *  6. Never blocks: waiting is a state plus a timer.
 */
#include "drivers/host/evolis/evolis-card.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "evolis-card"
#include "drivers/class/evq.h"
#include "kiosk/core/bytebuf.h"
#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"

enum card_state {
	CS_CLOSED,
	CS_SETTLE,
	CS_IDLE,
	CS_POSITION,
	CS_CLEAR_CARD,
	CS_COVER,
	CS_FEEDER,
	CS_RIBBON_END,
	CS_RIBBON_LEFT,
	CS_RIBBON_SELECT,
	CS_MOVE,
	CS_ENCODE,
	CS_PRINT,
	CS_CONFIRM,
	CS_REJECT,
	CS_COUNT
};

static const char *const state_names[CS_COUNT] = {"CLOSED", "SETTLE", "IDLE", "POSITION",
	"CLEAR_CARD", "COVER", "FEEDER", "RIBBON_END", "RIBBON_LEFT", "RIBBON_SELECT", "MOVE",
	"ENCODE", "PRINT", "CONFIRM", "REJECT"};

struct job {
	bool active;
	char number[24];
	struct core_bytebuf track2; /* Dm;2 + Smw, encoded by issue() (its check of the number) */
	struct evolis_face *face;
	enum evolis_fault fault;   /* the first error of the job */
};

struct evolis_card {
	struct card_issuer base; /* first: the class pointer is this struct */
	struct evolis_card_config cfg;
	struct transport *t;
	struct core_timers *timers;
	struct core_clock *clock;

	enum card_state state;
	bool chain_for_issue;      /* the status chain leads into the issue */
	uint64_t deadline_ms;
	uint64_t next_poll_ms;
	uint64_t timer_id, timer_at;

	struct core_bytebuf cmd;   /* the command(s) of the current state */
	bool cmd_unsent;           /* refused by a full transport: retry */
	int replies_due;
	struct evolis_reply first_error; /* of the current state's replies */
	bool have_error;
	struct evolis_reply last;  /* the last reply of the current state */
	struct core_bytebuf in;    /* bytes read, not yet a whole reply */

	/* What the printer last said. */
	bool have_status;
	bool cover_open, feeder_empty, ribbon_end, jammed;
	/* A jam with no card inside (the feeder or the mechanism) cannot be read from any status
	 * command, so it is latched until the one act that clears it is seen: a technician opens
	 * the cover and closes it again. A jam with a card inside clears when the card is gone. */
	bool jam_without_card, jam_cover_opened;
	uint32_t ribbon_left;
	enum evolis_card_position position;
	enum cardprn_fault fault;
	enum dev_state dev_state;
	uint32_t issued;

	struct job job;
	bool running, again;
	struct class_evq events;     /* finals never dropped, status coalesced (evq.h) */
	struct evolis_card_stats stats;
};

static struct evolis_card *of(struct card_issuer *iss)
{
	return (struct evolis_card *)iss;
}

static uint64_t now_ms(const struct evolis_card *p)
{
	return core_clock_now_ms(p->clock);
}

static void run(struct evolis_card *p);

/* Card numbers in logs: the last four digits only (house style). */
static const char *masked(const char *number, char out[24])
{
	size_t n = strlen(number);
	for (size_t i = 0; i < n && i < 23; i++)
		out[i] = i + 4 < n ? '*' : number[i];
	out[n < 23 ? n : 23] = '\0';
	return out;
}

/* ---- events: queued during a step, delivered after it ---- */

static void queue_event(struct evolis_card *p, enum cardprn_event_kind kind,
	enum cardprn_fault fault, const char *number)
{
	struct cardprn_event ev = {.kind = kind, .fault = fault};
	if (number)
		snprintf(ev.card_number, sizeof(ev.card_number), "%s", number);
	class_evq_push(&p->events, &ev, kind == CARDPRN_EV_ISSUED || kind == CARDPRN_EV_FAILED);
}

static void deliver_events(struct evolis_card *p)
{
	struct cardprn_event ev;
	while (class_evq_pop(&p->events, &ev))
		cardprn_emit(&p->base, &ev);
}

/* ---- state, timer ---- */

static void set_state(struct evolis_card *p, enum card_state s, const char *why)
{
	LOG_DBG("%s: %s -> %s (%s)", p->t->name, state_names[p->state], state_names[s], why);
	p->state = s;
	p->again = true;
}

static void on_timer(void *user)
{
	struct evolis_card *p = user;
	p->timer_id = 0;
	run(p);
}

static void arm(struct evolis_card *p, uint64_t at)
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

/* The class fault of what the printer last said, most urgent first: a jam needs hands inside
 * the printer, an open cover only needs closing. */
static void update_fault(struct evolis_card *p)
{
	enum cardprn_fault f = CARDPRN_FAULT_NONE;
	enum dev_state st = DEV_STATE_OK;
	enum evolis_fault ribbon = evolis_ribbon_state(p->ribbon_end, p->ribbon_left,
		p->cfg.ribbon_low);
	if (p->jammed)
		f = CARDPRN_FAULT_JAM;
	else if (p->cover_open)
		f = CARDPRN_FAULT_COVER_OPEN;
	else if (p->feeder_empty)
		f = CARDPRN_FAULT_FEEDER_EMPTY;
	else if (ribbon == EVOLIS_FAULT_RIBBON_OUT)
		f = CARDPRN_FAULT_RIBBON_OUT;
	else if (ribbon == EVOLIS_FAULT_RIBBON_LOW)
		f = CARDPRN_FAULT_RIBBON_LOW;
	if (f == CARDPRN_FAULT_RIBBON_LOW)
		st = DEV_STATE_WARNING;
	else if (f != CARDPRN_FAULT_NONE)
		st = DEV_STATE_FAULT;
	enum cardprn_fault old = p->fault;
	p->dev_state = st;
	if (f == old)
		return;
	p->fault = f;
	if (f == CARDPRN_FAULT_NONE) {
		LOG_INFO("%s: recovered from %s", p->t->name, cardprn_fault_name(old));
		queue_event(p, CARDPRN_EV_RECOVERED, old, NULL);
	} else {
		LOG_WARN("%s: %s", p->t->name, cardprn_fault_name(f));
		queue_event(p, CARDPRN_EV_FAULT, f, NULL);
	}
}

static void set_offline(struct evolis_card *p, const char *why)
{
	LOG_WARN("%s: offline: %s", p->t->name, why);
	enum cardprn_fault old = p->fault;
	p->fault = CARDPRN_FAULT_DISCONNECTED;
	p->dev_state = DEV_STATE_OFFLINE;
	p->have_status = false;
	if (old != CARDPRN_FAULT_DISCONNECTED)
		queue_event(p, CARDPRN_EV_FAULT, CARDPRN_FAULT_DISCONNECTED, NULL);
}

/* An error reply says something about the printer: remember it for the fault. */
static void note_device_error(struct evolis_card *p, enum evolis_fault f)
{
	switch (f) {
	case EVOLIS_FAULT_FEEDER_EMPTY: p->feeder_empty = true; break;
	case EVOLIS_FAULT_RIBBON_OUT: p->ribbon_end = true; break;
	case EVOLIS_FAULT_JAM:
		if (!p->jammed)
			p->jam_without_card = true; /* until a position read finds a card */
		p->jammed = true;
		break;
	case EVOLIS_FAULT_COVER_OPEN: p->cover_open = true; break;
	default: break;
	}
	update_fault(p);
}

/* The class fault a failed job reports. */
static enum cardprn_fault class_fault(enum evolis_fault f)
{
	switch (f) {
	case EVOLIS_FAULT_FEEDER_EMPTY: return CARDPRN_FAULT_FEEDER_EMPTY;
	case EVOLIS_FAULT_RIBBON_OUT: return CARDPRN_FAULT_RIBBON_OUT;
	case EVOLIS_FAULT_RIBBON_LOW: return CARDPRN_FAULT_RIBBON_LOW;
	case EVOLIS_FAULT_JAM: return CARDPRN_FAULT_JAM;
	case EVOLIS_FAULT_COVER_OPEN: return CARDPRN_FAULT_COVER_OPEN;
	default: return CARDPRN_FAULT_NONE; /* encoding, refused command: the device is fine */
	}
}

/* ---- the job ---- */

static void job_end(struct evolis_card *p, bool issued, enum cardprn_fault fault, const char *why)
{
	struct job *j = &p->job;
	char m[24];
	if (!j->active)
		return;
	if (issued) {
		p->issued++;
		p->stats.issued++;
		LOG_INFO("%s: card %s issued", p->t->name, masked(j->number, m));
		queue_event(p, CARDPRN_EV_ISSUED, p->fault, j->number);
	} else {
		p->stats.failed++;
		LOG_WARN("%s: card %s not issued: %s", p->t->name, masked(j->number, m), why);
		queue_event(p, CARDPRN_EV_FAILED, fault, j->number);
	}
	j->active = false;
	free(j->face);
	j->face = NULL;
	core_bytebuf_free(&j->track2);
}

/* ---- commands ---- */

static void on_disconnect(struct evolis_card *p)
{
	if (p->state == CS_CLOSED)
		return;
	LOG_WARN("%s: card printer disconnected", p->t->name);
	set_offline(p, "disconnected");
	job_end(p, false, CARDPRN_FAULT_DISCONNECTED, "disconnected");
	core_bytebuf_clear(&p->in);
	p->replies_due = 0;
	set_state(p, CS_CLOSED, "transport disconnected");
}

static void flush_and_settle(struct evolis_card *p, const char *why)
{
	transport_flush(p->t);
	core_bytebuf_clear(&p->in);
	p->replies_due = 0;
	p->deadline_ms = now_ms(p) + p->cfg.settle_ms;
	set_state(p, CS_SETTLE, why);
}

static bool is_motion(enum card_state s)
{
	return s == CS_CLEAR_CARD || s == CS_MOVE || s == CS_ENCODE || s == CS_PRINT ||
		s == CS_REJECT;
}

static uint64_t reply_deadline(const struct evolis_card *p)
{
	return now_ms(p) + (is_motion(p->state) ? p->cfg.motion_timeout_ms : p->cfg.reply_timeout_ms);
}

/* The deadline runs from the command's first attempt (command()) and again from the write
 * that took it: a command the transport refuses for good (BUSY: the printer NAKs every
 * bulk OUT) times out as no answer instead of being re-offered for ever with the job open. */
static void try_send(struct evolis_card *p)
{
	int rc = transport_write(p->t, p->cmd.data, p->cmd.len);
	if (rc == KIO_ERR_NO_DEVICE) {
		on_disconnect(p);
		return;
	}
	p->cmd_unsent = rc != 0;
	if (rc == 0)
		p->deadline_ms = reply_deadline(p);
}

/* Enters a command state: encodes its command(s), sends, expects one reply each. */
static void command(struct evolis_card *p, enum card_state s, const char *why)
{
	struct core_bytebuf *b = &p->cmd;
	struct kio_error err;
	int rc = 0;
	core_bytebuf_clear(b);
	p->replies_due = 1;
	p->have_error = false;
	switch (s) {
	case CS_POSITION: rc = evolis_encode_read(b, EVOLIS_READ_CARD_POSITION, &err); break;
	case CS_COVER: rc = evolis_encode_read(b, EVOLIS_READ_COVER, &err); break;
	case CS_FEEDER: rc = evolis_encode_read(b, EVOLIS_READ_FEEDER, &err); break;
	case CS_RIBBON_END: rc = evolis_encode_read(b, EVOLIS_READ_RIBBON_END, &err); break;
	case CS_RIBBON_LEFT: rc = evolis_encode_read(b, EVOLIS_READ_RIBBON_LEFT, &err); break;
	case CS_CONFIRM: rc = evolis_encode_read(b, EVOLIS_READ_CARD_POSITION, &err); break;
	case CS_RIBBON_SELECT: evolis_encode_ribbon_k(b); break;
	case CS_MOVE: evolis_encode_move_to_station(b, p->cfg.station); break;
	case CS_ENCODE: /* Dm;2;digits, Smw */
		core_bytebuf_append(b, p->job.track2.data, p->job.track2.len);
		p->replies_due = 2;
		break;
	case CS_PRINT: /* Ss, Sr, Db;k;2;panel, Se */
		evolis_encode_print_front_k(b, p->job.face);
		p->replies_due = 4;
		break;
	case CS_CLEAR_CARD:
	case CS_REJECT: evolis_encode_reject(b); break;
	default:
		rc = KIO_ERR_INVALID;
		snprintf(err.msg, sizeof(err.msg), "no command for state %s", state_names[s]);
		break;
	}
	if (rc) {
		/* Caller input is encoded by issue(), so this is a driver bug; it must not take
		 * the kiosk down with it. Nothing was sent: the job fails, and the status chain
		 * from SETTLE rejects a card that left the feeder (invariant 4). */
		LOG_ERR("%s: %s: cannot encode: %s", p->t->name, state_names[s], err.msg);
		job_end(p, false, CARDPRN_FAULT_NONE, "driver error: command not encoded");
		p->next_poll_ms = now_ms(p);
		flush_and_settle(p, "command not encoded");
		return;
	}
	p->stats.commands += (uint64_t)p->replies_due;
	set_state(p, s, why);
	/* Nothing to step until the reply wakes us (or the deadline passes): one command per
	 * loop turn, so the kiosk's loop, and a test, sees every step. */
	p->again = false;
	p->deadline_ms = reply_deadline(p);
	try_send(p);
	if (p->state == s)
		arm(p, p->cmd_unsent ? now_ms(p) + 10 : p->deadline_ms);
}

static void begin_status(struct evolis_card *p, bool for_issue)
{
	p->chain_for_issue = for_issue;
	command(p, CS_POSITION, for_issue ? "check before issuing" : "poll");
}

static bool can_issue(const struct evolis_card *p)
{
	return p->have_status &&
		(p->fault == CARDPRN_FAULT_NONE || p->fault == CARDPRN_FAULT_RIBBON_LOW);
}

/* After every reply of the current state has been read. */
static void on_done(struct evolis_card *p)
{
	struct kio_error err;
	const struct evolis_reply *r = p->have_error ? &p->first_error : &p->last;
	/* Actions must answer OK; a value where OK was due is as good as an error. */
	bool ok = !p->have_error && r->kind == EVOLIS_REPLY_OK;
	struct job *j = &p->job;
	int mv;

	switch (p->state) {
	case CS_POSITION:
		if (evolis_reply_card_position(r, &p->position, &err) != 0) {
			LOG_WARN("%s: %s", p->t->name, err.msg);
			p->position = EVOLIS_CARD_NONE;
		}
		if (p->position != EVOLIS_CARD_NONE) {
			p->jam_without_card = false; /* the jam is this card's: it clears with it */
			command(p, CS_CLEAR_CARD, "a card is inside (invariant 4)");
			break;
		}
		/* Nothing inside: a jam with a card was cleared by taking the card out; one without
		 * stays latched until the cover has been opened and closed (see struct evolis_card). */
		if (p->jammed && !p->jam_without_card)
			p->jammed = false;
		command(p, CS_COVER, "position read");
		break;
	case CS_CLEAR_CARD:
		if (ok) {
			p->stats.rejected++;
			LOG_INFO("%s: a card left inside went to the reject box", p->t->name);
		} else {
			note_device_error(p, r->fault);
		}
		command(p, CS_COVER, "card cleared");
		break;
	case CS_COVER:
		if (evolis_reply_volts(r, &mv, &err) == 0)
			p->cover_open = !evolis_sensor_high(mv);
		else
			LOG_WARN("%s: %s", p->t->name, err.msg);
		if (p->jammed && p->jam_without_card) {
			if (p->cover_open) {
				p->jam_cover_opened = true;
			} else if (p->jam_cover_opened) {
				LOG_INFO("%s: cover opened and closed: jam cleared", p->t->name);
				p->jammed = p->jam_without_card = p->jam_cover_opened = false;
			}
		}
		command(p, CS_FEEDER, "cover read");
		break;
	case CS_FEEDER:
		if (evolis_reply_volts(r, &mv, &err) == 0)
			p->feeder_empty = !evolis_sensor_high(mv);
		else
			LOG_WARN("%s: %s", p->t->name, err.msg);
		command(p, CS_RIBBON_END, "feeder read");
		break;
	case CS_RIBBON_END:
		p->ribbon_end = r->kind == EVOLIS_REPLY_ERROR; /* Rcr: OK unless on the end mark */
		command(p, CS_RIBBON_LEFT, "ribbon read");
		break;
	case CS_RIBBON_LEFT:
		if (evolis_reply_counter(r, &p->ribbon_left, &err) != 0) {
			LOG_WARN("%s: %s", p->t->name, err.msg);
			p->ribbon_left = UINT32_MAX; /* unknown: the end mark alone decides */
		}
		p->have_status = true;
		update_fault(p);
		p->next_poll_ms = now_ms(p) + p->cfg.poll_ms;
		if (!p->chain_for_issue || !j->active) {
			set_state(p, CS_IDLE, "status read");
		} else if (can_issue(p)) {
			command(p, CS_RIBBON_SELECT, "printer ready"); /* invariant 3 */
		} else {
			job_end(p, false, p->fault, "printer not ready");
			set_state(p, CS_IDLE, "not ready");
		}
		break;
	case CS_RIBBON_SELECT:
		if (ok) {
			command(p, CS_MOVE, "ribbon selected");
		} else {
			job_end(p, false, class_fault(r->fault), "Pr;k refused");
			set_state(p, CS_IDLE, "ribbon refused");
		}
		break;
	case CS_MOVE:
	case CS_ENCODE:
	case CS_PRINT:
		if (!ok) {
			char m[24];
			LOG_WARN("%s: card %s: %s answered \"%s\"", p->t->name, masked(j->number, m),
				state_names[p->state], r->text);
			j->fault = r->fault;
			note_device_error(p, r->fault);
			command(p, CS_REJECT, "error: reject the card (invariant 4)");
		} else if (p->state == CS_MOVE) {
			command(p, CS_ENCODE, "at the station");
		} else if (p->state == CS_ENCODE) {
			command(p, CS_PRINT, "encoded");
		} else {
			command(p, CS_CONFIRM, "printed and ejected");
		}
		break;
	case CS_CONFIRM:
		if (evolis_reply_card_position(r, &p->position, &err) == 0 &&
			p->position == EVOLIS_CARD_NONE) {
			job_end(p, true, CARDPRN_FAULT_NONE, NULL); /* invariant 1 */
			p->next_poll_ms = now_ms(p); /* ribbon and feeder counts changed */
			set_state(p, CS_IDLE, "issued");
		} else {
			j->fault = EVOLIS_FAULT_JAM;
			command(p, CS_REJECT, "card still inside after Se");
		}
		break;
	case CS_REJECT:
		if (ok) {
			p->stats.rejected++;
		} else {
			note_device_error(p, r->fault);
			LOG_WARN("%s: reject answered \"%s\"", p->t->name, r->text);
		}
		job_end(p, false, class_fault(j->fault), evolis_fault_name(j->fault));
		p->next_poll_ms = now_ms(p); /* read the whole state again at once */
		set_state(p, CS_IDLE, "card rejected");
		break;
	case CS_CLOSED:
	case CS_SETTLE:
	case CS_IDLE:
	case CS_COUNT:
		break;
	}
}

/* ---- input ---- */

static void on_reply_bytes(struct evolis_card *p, const uint8_t *buf, size_t len)
{
	struct kio_error err;
	struct evolis_reply r;
	if (evolis_reply_parse(buf, len, &r, &err) != 0) {
		p->stats.garbage_replies++;
		LOG_DBG("%s: %s (dropped)", p->t->name, err.msg);
		return;
	}
	if (p->replies_due == 0) {
		p->stats.garbage_replies++;
		LOG_DBG("%s: reply \"%s\" to no command (dropped)", p->t->name, r.text);
		return;
	}
	if (r.kind == EVOLIS_REPLY_ERROR && !p->have_error) {
		p->first_error = r;
		p->have_error = true;
	}
	p->last = r;
	if (--p->replies_due == 0)
		on_done(p);
}

/* Reads and handles everything the printer sent; false if the transport is gone. */
static bool read_input(struct evolis_card *p)
{
	uint8_t buf[256];
	for (;;) {
		ssize_t n = transport_read(p->t, buf, sizeof(buf));
		if (n == KIO_ERR_NO_DEVICE) {
			on_disconnect(p);
			return false;
		}
		if (n <= 0)
			break;
		if (p->state == CS_SETTLE) {
			p->deadline_ms = now_ms(p) + p->cfg.settle_ms;
			continue;
		}
		core_bytebuf_append(&p->in, buf, (size_t)n);
	}
	while (p->in.len && p->state != CS_CLOSED && p->state != CS_SETTLE) {
		struct kio_error err;
		size_t frame = 0;
		if (evolis_reply_frame(p->in.data, p->in.len, &frame, &err) != 0) {
			/* 129 bytes without an end cannot be a reply; whatever is glued to them is
			 * lost with them, and the command in flight times out (invariant 5). */
			p->stats.garbage_replies++;
			LOG_DBG("%s: %s (dropped)", p->t->name, err.msg);
			core_bytebuf_clear(&p->in);
			break;
		}
		if (frame == 0)
			break;
		/* Copy: on_done may send the next command and so touch p->in's neighbours. */
		uint8_t one[EVOLIS_REPLY_MAX + 2];
		memcpy(one, p->in.data, frame);
		core_bytebuf_consume(&p->in, frame);
		if (frame == 1 && (one[0] == '\r' || one[0] == '\n' || one[0] == '\0'))
			continue; /* the LF of a CR LF, or NUL padding */
		on_reply_bytes(p, one, frame);
	}
	return true;
}

/* ---- the step function ---- */

static void command_timeout(struct evolis_card *p)
{
	p->stats.timeouts++;
	LOG_WARN("%s: no reply to %s in time", p->t->name, state_names[p->state]);
	set_offline(p, "no answer");
	/* A card may be out of the feeder: the next status chain finds and rejects it. */
	job_end(p, false, CARDPRN_FAULT_DISCONNECTED, "no answer");
	p->next_poll_ms = now_ms(p) + p->cfg.poll_ms;
	flush_and_settle(p, "no answer");
}

static void step(struct evolis_card *p)
{
	uint64_t now = now_ms(p);
	if (p->state != CS_CLOSED) {
		if (!transport_connected(p->t)) {
			on_disconnect(p);
			return;
		}
		if (!read_input(p))
			return;
		if (p->again)
			return; /* a reply moved the state: take the new one from the top */
	}
	switch (p->state) {
	case CS_CLOSED: {
		struct kio_error err;
		int rc = transport_reopen(p->t, &err);
		if (rc == 0) {
			p->stats.reopens++;
			LOG_INFO("%s: card printer reopened", p->t->name);
			p->next_poll_ms = now;
			flush_and_settle(p, "reopened");
			break;
		}
		if (rc != KIO_ERR_NO_DEVICE)
			LOG_WARN("%s: reopen: %s", p->t->name, err.msg);
		arm(p, now + p->cfg.reopen_ms);
		break;
	}
	case CS_SETTLE:
		if (now < p->deadline_ms)
			arm(p, p->deadline_ms);
		else if (p->job.active || now >= p->next_poll_ms)
			begin_status(p, p->job.active);
		else
			set_state(p, CS_IDLE, "settled");
		break;
	case CS_IDLE:
		if (p->job.active)
			begin_status(p, true);
		else if (now >= p->next_poll_ms)
			begin_status(p, false);
		else
			arm(p, p->next_poll_ms);
		break;
	default: /* a command in flight */
		if (p->cmd_unsent && now >= p->deadline_ms) {
			command_timeout(p); /* never taken: as silent as a printer that does not answer */
		} else if (p->cmd_unsent) {
			try_send(p);
			if (p->cmd_unsent)
				arm(p, now + 10);
		} else if (now >= p->deadline_ms) {
			command_timeout(p);
		} else {
			arm(p, p->deadline_ms);
		}
		break;
	}
}

static void run(struct evolis_card *p)
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
	if (p->again)
		arm(p, now_ms(p));
	p->running = false;
	deliver_events(p);
}

/* ---- class operations ---- */

int evolis_card_face_from_rgba(const uint8_t *rgba, int width, int height, int stride,
	uint8_t threshold, struct evolis_face *face, struct kio_error *err)
{
	if (!rgba)
		return kio_fail(err, KIO_ERR_INVALID, "evolis card: front has no pixels");
	if (width < 1 || height < 1 || width > EVOLIS_FACE_WIDTH || height > EVOLIS_FACE_HEIGHT)
		return kio_fail(err, KIO_ERR_INVALID, "evolis card: front %dx%d does not fit the card (%dx%d)",
			width, height, EVOLIS_FACE_WIDTH, EVOLIS_FACE_HEIGHT);
	if (stride < width * 4)
		return kio_fail(err, KIO_ERR_INVALID, "evolis card: front stride %d under 4 x width %d", stride,
			width);
	if (threshold == 0)
		return kio_fail(err, KIO_ERR_INVALID, "evolis card: threshold 0 prints nothing");
	memset(face, 0, sizeof(*face));
	for (int y = 0; y < height; y++) {
		const uint8_t *px = rgba + (size_t)y * (size_t)stride;
		for (int x = 0; x < width; x++, px += 4) {
			/* Rec. 601 luma in 8.8 fixed point, then "over" white by alpha. */
			unsigned l = (77u * px[0] + 150u * px[1] + 29u * px[2]) >> 8;
			unsigned a = px[3];
			unsigned over = (l * a + 255u * (255u - a) + 127u) / 255u;
			if (over < threshold)
				evolis_face_set(face, x, y, true);
		}
	}
	return 0;
}

static int op_issue(struct card_issuer *iss, const char *card_number,
	const struct cardprn_image *front)
{
	struct evolis_card *p = of(iss);
	struct kio_error err;
	if (p->job.active)
		return KIO_ERR_BUSY;
	if (p->state == CS_CLOSED)
		return KIO_ERR_NO_DEVICE;
	/* Everything the job will encode from the caller's input is encoded here, by the
	 * encoders' own checks: input they refuse is an error to the caller, never a state
	 * the job can reach (command()). */
	size_t n = card_number ? strlen(card_number) : 0;
	if (n >= sizeof(p->job.number) || !front) {
		LOG_ERR("%s: issue refused: %s", p->t->name,
			!front ? "no front image" : "card number longer than 23 digits");
		return KIO_ERR_INVALID;
	}
	struct core_bytebuf track2 = {0};
	if (evolis_encode_mag_track2(&track2, card_number, &err) != 0) {
		LOG_ERR("%s: issue refused: %s", p->t->name, err.msg);
		core_bytebuf_free(&track2);
		return KIO_ERR_INVALID;
	}
	struct evolis_face *face = evolis_face_new();
	if (evolis_card_face_from_rgba(front->rgba, front->width, front->height, front->stride,
		    p->cfg.threshold, face, &err) != 0) {
		LOG_ERR("%s: issue refused: %s", p->t->name, err.msg);
		free(face);
		core_bytebuf_free(&track2);
		return KIO_ERR_INVALID;
	}
	struct job *j = &p->job;
	memset(j, 0, sizeof(*j));
	memcpy(j->number, card_number, n + 1);
	j->track2 = track2;
	j->face = face;
	j->active = true;
	char m[24];
	LOG_INFO("%s: issuing card %s", p->t->name, masked(card_number, m));
	arm(p, now_ms(p)); /* from the loop: no event before issue() returns */
	return 0;
}

static void op_get_status(struct card_issuer *iss, struct cardprn_status *out)
{
	struct evolis_card *p = of(iss);
	out->state = p->dev_state;
	out->fault = p->fault;
	out->cards_issued = p->issued;
}

static void op_service(struct card_issuer *iss)
{
	run(of(iss));
}

static void op_destroy(struct card_issuer *iss)
{
	struct evolis_card *p = of(iss);
	if (!p)
		return;
	if (p->timer_id)
		core_timer_cancel(p->timers, p->timer_id);
	free(p->job.face);
	core_bytebuf_free(&p->job.track2);
	core_bytebuf_free(&p->cmd);
	core_bytebuf_free(&p->in);
	class_evq_free(&p->events);
	free(p);
}

static const struct card_issuer_ops evolis_card_ops = {
	.issue = op_issue,
	.get_status = op_get_status,
	.service = op_service,
	.destroy = op_destroy,
};

void evolis_card_config_default(struct evolis_card_config *cfg)
{
	*cfg = (struct evolis_card_config){
		.station = EVOLIS_STATION_CONTACTLESS,
		.ribbon_low = 50,
		.threshold = 128,
		.poll_ms = 10000,
		.reply_timeout_ms = 5000,
		.motion_timeout_ms = 60000,
		.reopen_ms = 2000,
		.settle_ms = 100,
	};
}

int evolis_card_new(struct transport *t, struct core_timers *timers,
	const struct evolis_card_config *cfg, struct card_issuer **out, struct kio_error *err)
{
	*out = NULL;
	struct evolis_card_config c, d;
	evolis_card_config_default(&d);
	c = cfg ? *cfg : d;
#define DEF(f) if (!c.f) c.f = d.f
	DEF(ribbon_low);
	DEF(threshold);
	DEF(poll_ms);
	DEF(reply_timeout_ms);
	DEF(motion_timeout_ms);
	DEF(reopen_ms);
	DEF(settle_ms);
#undef DEF
	if (!t || !timers)
		return kio_fail(err, KIO_ERR_INVALID, "evolis card: no transport or timers");
	if (c.station != EVOLIS_STATION_CONTACT && c.station != EVOLIS_STATION_CONTACTLESS)
		return kio_fail(err, KIO_ERR_INVALID, "evolis card %s: station %d", t->name,
			(int)c.station);
	struct evolis_card *p = xcalloc(1, sizeof(*p));
	class_evq_init(&p->events, sizeof(struct cardprn_event));
	p->base.ops = &evolis_card_ops;
	p->base.name = "card";
	p->cfg = c;
	p->t = t;
	p->timers = timers;
	p->clock = core_timers_clock(timers);
	p->ribbon_left = UINT32_MAX;
	p->fault = CARDPRN_FAULT_NONE;
	p->dev_state = DEV_STATE_OK;
	p->next_poll_ms = now_ms(p);
	if (transport_connected(t)) {
		p->state = CS_SETTLE;
		p->deadline_ms = now_ms(p) + c.settle_ms;
	} else {
		p->state = CS_CLOSED;
		p->fault = CARDPRN_FAULT_DISCONNECTED;
		p->dev_state = DEV_STATE_OFFLINE;
	}
	LOG_DBG("%s: new, %s", t->name, state_names[p->state]);
	*out = &p->base;
	arm(p, now_ms(p));
	return 0;
}

void evolis_card_stats(const struct card_issuer *iss, struct evolis_card_stats *out)
{
	*out = ((const struct evolis_card *)iss)->stats;
}
