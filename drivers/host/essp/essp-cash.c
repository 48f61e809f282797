/*
 * The eSSP host driver: sets up a session with the validator, polls it, holds notes in
 * escrow while the kiosk decides, and turns poll events into cash_unit events, recording
 * each note's journey before it acts on it. Sources: GA138 SSP Protocol Manual v2.2 and
 * GA973 SSP Implementation Guide v2.2 (section numbers below), research/cash-acceptor.md.
 *
 * Session phases (one command in flight at a time; each arrow is a good reply):
 *
 *        reopen ok                      encryption only
 *   OFFLINE ────► SYNC ──► GENERATOR ─► MODULUS ─► KEY_EXCHANGE ─┐
 *     ▲            │  └──────────────────────────────────────────┤
 *     │            ▼ (retries spent)                             ▼
 *     │        NO_ANSWER ◄── (retries spent, any phase)       PROTOCOL ─► SETUP ─► SERIAL
 *     │            │ reconnect_ms                                                   │
 *     │            └──► SYNC                                                        ▼
 *   (link lost,                         RUN ◄── ENABLE ◄── INHIBITS ◄── SETTLE ◄── DISABLE
 *    any phase)                          │ SLAVE RESET / KEY NOT SET ──► SYNC
 *
 *   phase        command                      good reply                     function
 *   OFFLINE      (none; reopen every          transport reopened → SYNC      on_retry_timer
 *                 reconnect_ms and on wake)
 *   SYNC         SYNC (0x11)                  OK → GENERATOR or PROTOCOL     step
 *   GENERATOR    SET GENERATOR (0x4A)         OK → MODULUS                   step
 *   MODULUS      SET MODULUS (0x4B)           OK → KEY_EXCHANGE              step
 *   KEY_EXCHANGE REQUEST KEY EXCHANGE (0x4C)  key set, sealing on → PROTOCOL step
 *   PROTOCOL     HOST PROTOCOL VERSION (0x06) OK → SETUP; FAIL → one lower    step
 *   SETUP        SETUP REQUEST (0x05)         channel values → SERIAL        step
 *   SERIAL       GET SERIAL (0x0C)            serial → DISABLE               step
 *   DISABLE      DISABLE (0x09)               → SETTLE                       step
 *   SETTLE       (list open journeys; on a    journeys reconciled → INHIBITS settle_*
 *                journal error again every
 *                reconnect_ms), REJECT, then
 *                POLL until a quiet reply,
 *                GET COUNTERS
 *   INHIBITS     SET INHIBITS (0x02)          → ENABLE                       step
 *   ENABLE       ENABLE (0x0A) if wanted      → RUN                          step
 *   RUN          POLL / HOLD every poll_ms    events → cash_unit events      run_reply, pump
 *                (idle_poll_ms disabled, 10),
 *                REJECT, GET COUNTERS, LAST
 *                REJECT CODE, INHIBITS, ENABLE, DISABLE as needed
 *   NO_ANSWER    (none; SYNC after            → SYNC                         on_retry_timer
 *                 reconnect_ms)
 *
 * A note in RUN (struct note; one at a time: the NV9 escrow holds one note):
 *
 *   NONE ─READ ch─► READ ─GET COUNTERS, journal ESCROW, emit ESCROW─► HELD (HOLD each poll_ms)
 *   READ ─no counters after 1 + retries GET COUNTERS, or the journal refuses ESCROW:
 *          nothing journaled (invariant 8)─► RETURNING (REJECT 0x08)
 *   HELD ─escrow_accept: journal ACCEPTED─► ACCEPTED (next POLL lets it stack, GA973 §8)
 *   HELD ─escrow_return / escrow_decide_ms─► RETURNING (REJECT 0x08)
 *   ACCEPTED ─NOTE CREDIT: journal CREDITED, emit CREDITED─► CREDITED
 *   CREDITED ─STACKED: journal STACKED, emit STACKED─► NONE
 *   CREDITED ─READ ch or REJECTED (the next note's: ours was stacked, its STACKED lost with a
 *          killed process): journal STACKED, emit STACKED─► NONE, then the event is handled
 *          for the next note (invariant 9)
 *   RETURNING never accepted (journal ESCROW) ─READ ch (the next note's): journal RETURNED,
 *          emit─► NONE, then the READ is the next note's (invariant 9); RETURNING unjournaled:
 *          emit REJECTED with the cause, likewise
 *   HELD/ACCEPTED/RETURNING ─REJECTED or CLEARED FROM FRONT: journal RETURNED, emit─► NONE
 *          (not ACCEPTED in SETTLE: the counters decide it, invariant 9)
 *   RETURNING unjournaled ─REJECTED or CLEARED FROM FRONT: emit REJECTED with the cause─► NONE
 *   any journaled ─CLEARED INTO CASHBOX: journal CREDITED (if not), STACKED, emit─► NONE
 *
 * SETTLE runs at every session start (first connect, resync after NO_ANSWER, SLAVE RESET,
 * reopen after unplug). It reconciles the note the driver was carrying and every journey
 * the journal lists as open for this device serial:
 *   0. List them all (settle_list: why all, and why the newest is the note in the path).
 *      If the journal cannot, nothing is sent and the list is tried again every
 *      reconnect_ms: the device stays disabled meanwhile (invariant 5).
 *   1. REJECT: a note still held in escrow goes back to the customer (nothing promised it
 *      credit yet: an accepted note not yet past the credit point is returned too).
 *   2. POLL until a reply carries no note-path event: the first polls after a restart
 *      carry what happened meanwhile (GA973 §7.3): NOTE CREDIT, STACKED, REJECTED,
 *      CLEARED INTO CASHBOX / FROM FRONT at power-up (GA138 event table) finish journeys.
 *   3. GET COUNTERS: for a journey still open, the stacked counter against its snapshot
 *      taken at escrow says whether the note reached the cashbox (credit it) or not
 *      (returned). The device stays disabled until this is done, so no other note can
 *      move the counter. A journey nothing proves (settle_resolve_one) stays open and the
 *      device disabled: SETTLE runs again every reconnect_ms until a technician closed it.
 *
 * Kill points (the process dies; the device and the journal outlive it). Each is a
 * checkpoint() name; tests/money kills at each and checks the note ends exactly once:
 *   escrow-read        READ ch parsed, nothing journaled. The device holds the note: SETTLE's
 *                      REJECT returns it (or CLEARED FROM FRONT after a power cycle). No
 *                      journey, no money.
 *   escrow-journaled   journey ESCROW committed, ESCROW not emitted: REJECT → REJECTED →
 *                      RETURNED; power cycle: CLEARED FROM FRONT → RETURNED.
 *   accept-journaled   journey ACCEPTED, the accepting POLL not sent: as escrow-journaled.
 *   accept-sent        the accepting POLL written: the note is stacking. SETTLE's polls see
 *                      NOTE CREDIT (or STACKED alone) → CREDITED; power cycle: CLEARED INTO
 *                      CASHBOX → CREDITED; events lost: counters +1 → CREDITED.
 *   credit-read        NOTE CREDIT parsed, not journaled: STACKED without CREDIT → CREDITED;
 *                      power cycle: CLEARED INTO CASHBOX; otherwise counters +1.
 *   credit-journaled   CREDITED committed, not emitted: the journal row is the credit (the
 *                      ledger takes it in the same transaction when it owns the journal);
 *                      STACKED closes it; it is never credited again (journal invariant 1).
 *   credit-emitted     after the emit: as credit-journaled.
 *   stacked-read       STACKED parsed, not journaled: SETTLE closes it (counters or
 *                      CLEARED INTO CASHBOX), no second credit.
 *   escrow-refused     a note read in escrow is going back unjournaled (no counters after the
 *                      retries, or the journal refused ESCROW), REJECT not yet written. The
 *                      device holds it: SETTLE's REJECT returns it (CLEARED FROM FRONT after a
 *                      power cycle; its own escrow timeout if left alone). No journey, no money.
 *   return-sent        REJECT written: REJECTED → RETURNED, or counters unchanged → RETURNED.
 *                      For an unjournaled note: REJECTED reported, or already over; no journey.
 *   returned-read      REJECTED parsed, not journaled: counters unchanged → RETURNED.
 *   settle-listed      at restart, open journeys listed, nothing done: SETTLE runs again.
 *   settle-resolved    a journey resolved by counters, before INHIBITS: nothing left open.
 *
 * Invariants:
 *  1. One command in flight. A new command gets the next sequence flag; a timeout re-sends
 *     the identical bytes (sealed once, never re-encrypted) so the device repeats its reply
 *     instead of executing twice (GA138 Transport Layer; essp_seq).
 *  2. A frame is acted on only if a command is in flight, its SEQ/ID matches and (eSSP) it
 *     opens with the expected eCOUNT; anything else is dropped and counted.
 *  3. No POLL is sent while a note is HELD: the kiosk has not decided, and a POLL accepts
 *     (GA138 Read event). HOLD (or any other command) keeps it (GA138 Hold).
 *  4. CASH_EV_CREDITED is emitted only after the journal committed CREDITED, at most once per
 *     journey (cash-journal.h invariant 1); ESCROW only after ESCROW is committed.
 *  5. A journey the driver carries or the journal lists as open for this serial is not left
 *     behind: SETTLE ends it as credited or returned, or the device stays disabled (a jam
 *     holds it, the journal cannot list or write, or the counters cannot decide it and a
 *     technician must) until it can. RUN is entered only after the list was read and every
 *     journey on it ended: the newest open journey is then always the last one begun, the
 *     note in the path, and the counters since its snapshot moved for it alone.
 *  6. Events of one poll reply are handled in order and completely before the next command;
 *     if the journal refuses a write, the rest wait and no command is sent (GA973 §7.5).
 *     A new session (link lost, resync) keeps them: SETTLE handles them before anything
 *     else, as the device will never report them again. Only a different unit's are
 *     dropped (logged: its journeys are a technician's).
 *  7. FAULT is sticky per kind: NO_ANSWER and DISCONNECTED clear only when a new session
 *     reaches RUN; jam, stacker full and cashbox removed follow what each poll reports;
 *     UNDECIDED is raised when a SETTLE cannot list the open journeys, gets no counters
 *     to decide them, or leaves some undecided (invariant 5), and cleared by the SETTLE
 *     that ends them all, so the kiosk shows why cash waits, never "starting".
 *  8. A note is journaled, and offered to the kiosk, only with its counters snapshot: without
 *     one, SETTLE could not tell after a crash whether it reached the cashbox (a technician
 *     would have to). GET COUNTERS refused or unreadable is asked again up to cfg.retries
 *     times, then the note goes back from escrow with no journey and REJECTED says why
 *     (CASH_CAUSE_NO_COUNTERS); a journal that refuses ESCROW does the same
 *     (CASH_CAUSE_NOT_RECORDED). The driver never advances the note on missing data.
 *  9. Each event is logged and journaled against the note it is about. The validator moves
 *     one note at a time, and a credited note is past the point of no return (GA973 §8):
 *     a READ ch or REJECTED while the note we carry is CREDITED is the next note's, so ours
 *     went into the cashbox and its STACKED was lost (a process killed after reading it,
 *     then a customer feeding a note): it is closed as STACKED, as SETTLE's counters would
 *     close any credited journey, and the event goes to the next note. Never an error, and
 *     never "given back": a credit is final (invariant 4). Likewise a READ ch of the next
 *     note while ours is going back never accepted (journal ESCROW: no POLL let it stack,
 *     invariant 3) or refused unjournaled (invariant 8): ours went back, its REJECTED lost.
 *     A READ ch while an ACCEPTED note has not ended after a restart (SETTLE) means its end
 *     went with the killed process: it may have stacked or gone back, and only the counters
 *     can say, so a new session (info); in RUN, or while HELD, the device broke its own
 *     order (error). In SETTLE a REJECTED never ends an ACCEPTED note we carry: SETTLE's
 *     REJECT returned whatever was in escrow, ours (its accepting POLL never went out) or
 *     the next note's, and only the counters tell which (step 3).
 * 10. Polls are poll_ms apart whenever a note can move or the kiosk wants notes; only a
 *     disabled acceptor with an empty path and no waiting event is polled every
 *     idle_poll_ms (poll_period), and a request to enable is sent at once, not at the next
 *     idle poll. Fault detection while idle stays within idle_poll_ms plus one reply.
 */
#define LOG_MODULE "essp-cash"
#include "essp-cash.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"

enum phase {
	PH_OFFLINE,
	PH_SYNC,
	PH_GENERATOR,
	PH_MODULUS,
	PH_KEY_EXCHANGE,
	PH_PROTOCOL,
	PH_SETUP,
	PH_SERIAL,
	PH_DISABLE,
	PH_SETTLE,
	PH_INHIBITS,
	PH_ENABLE,
	PH_RUN,
	PH_NO_ANSWER,
	PH_COUNT
};

static const char *const phase_names[PH_COUNT] = {
	"offline", "sync", "generator", "modulus", "key-exchange", "protocol", "setup",
	"serial", "disable", "settle", "inhibits", "enable", "run", "no-answer",
};

enum note_ph {
	NOTE_NONE,
	NOTE_READ,      /* READ ch seen; counters and journal next */
	NOTE_HELD,      /* journaled ESCROW, the kiosk decides */
	NOTE_ACCEPTED,  /* journaled ACCEPTED, stacking */
	NOTE_RETURNING, /* going back (REJECT sent or the device returns it) */
	NOTE_CREDITED,  /* journaled CREDITED, waiting for STACKED */
	NOTE_PH_COUNT
};

static const char *const note_names[NOTE_PH_COUNT] = {"none", "read", "held", "accepted", "returning", "credited"};

struct note {
	enum note_ph ph;
	uint8_t ch;
	int64_t fils;
	bool journaled;
	bool auto_return;  /* the driver decides (settle, journal failure), not the kiosk */
	bool reject_sent;
	bool accept_sent;
	unsigned counters_fails; /* GET COUNTERS refused or unreadable for this READ */
	enum cash_cause cause;   /* why an unjournaled note goes back (invariant 8) */
	struct cash_note j;
};

enum settle_step { SETTLE_LIST, SETTLE_REJECT, SETTLE_POLL, SETTLE_COUNTERS };

/* Open journeys SETTLE takes in hand at once; past this a technician must look (the device
 * stays disabled, invariant 5). Each is a note a crash or a refused write left unfinished. */
#define SETTLE_OPEN_MAX 4096

struct essp_cash {
	struct cash_unit base; /* first: the class face */
	struct essp_cash_config cfg;
	char name[24];
	struct transport *t;
	struct core_timers *timers;
	struct cash_journal *journal;

	enum phase phase;
	struct essp_seq seq;
	struct essp_decoder dec;

	/* The command in flight (invariant 1). */
	bool busy;
	uint8_t cmd;
	bool sealed;
	struct essp_packet pkt;
	unsigned tries;

	uint64_t reply_timer, poll_timer, retry_timer, decide_timer, fraud_timer;

	/* Session. */
	uint8_t protocol_try;
	uint8_t protocol;
	struct essp_setup setup;
	int64_t ch_fils[ESSP_CHANNELS_MAX];
	bool serial_known;
	uint32_t serial;
	char device[CASH_NOTE_DEVICE_MAX];
#ifdef ESSP_HAVE_CRYPTO
	struct essp_crypto crypto;
	uint64_t dh_gen, dh_mod, dh_secret;
#endif
	bool crypto_on;
	bool dev_enabled;
	bool counters_known;
	struct essp_counters counters;
	uint8_t last_reject;
	enum settle_step settle;

	/* What the kiosk asked for. */
	bool want_enabled;
	uint16_t want_mask;
	size_t n_want;
	int64_t want_fils[CASH_MAX_DENOMS];

	/* Work for RUN (pump picks one at a time). */
	bool need_poll, need_inhibits, need_enable, need_disable, need_last_reject;
	bool resync_after; /* SLAVE RESET or KEY NOT SET seen: set up again after this reply */
	unsigned polls_in_session;

	/* The poll reply being handled, kept while the journal refuses a write (invariant 6). */
	struct essp_poll poll;
	size_t ev_next;
	bool ev_blocked;
	bool ev_from_poll;

	struct note cur;
	struct cash_note *older; /* open journeys before cur, oldest first (SETTLE) */
	size_t n_older, older_cap;
	/* The stacked counter at the escrow of the journey after the last older one (the note
	 * in the path), kept when listed: that note may be over before the older ones are. */
	bool older_bound_from_cur, older_bound_known;
	uint32_t older_bound;
	bool list_failed;        /* the last list_open failed: logged once until it works */
	/* Journeys the counters could not decide (invariant 5): left by this SETTLE, and every
	 * id ever left by this process, which stays undecided (settle_resolve_one). */
	size_t n_undecided, undecided_reported;
	int64_t *undecided_ids;
	size_t n_undecided_ids, undecided_cap;

	unsigned faults; /* 1 << enum cash_fault */
	uint32_t counts[ESSP_CHANNELS_MAX];
	bool in_step;

	uint64_t n_commands, n_resends, n_stale, n_bad, n_resyncs;
};

static struct essp_cash *drv_of(struct cash_unit *u) { return (struct essp_cash *)u; }

static void enter(struct essp_cash *d, enum phase to, const char *why);
static void pump(struct essp_cash *d);

/* ---- Small helpers ---- */

static void checkpoint(struct essp_cash *d, const char *point)
{
	LOG_DBG("%s: checkpoint %s", d->name, point);
	if (d->cfg.checkpoint)
		d->cfg.checkpoint(d->cfg.checkpoint_user, point);
}

/*
 * The kernel's CSPRNG. The DH secret decides the session key: a guessable one (a PRNG seeded
 * by the clock) lets anyone who recorded the key exchange on the cable read and forge every
 * sealed command, ENABLE and credit included. EINTR (a signal before any byte) is asked
 * again, a short read is completed; anything else (ENOSYS on an old kernel, EFAULT) is an
 * error and never falls back to a weaker source.
 */
static int os_random(void *user, uint8_t *buf, size_t len)
{
	(void)user;
	size_t got = 0;
	unsigned interrupted = 0;
	while (got < len) {
		ssize_t n = getrandom(buf + got, len - got, 0);
		if (n < 0 && errno == EINTR && ++interrupted < 100)
			continue;
		if (n <= 0) {
			LOG_ERR("getrandom: %s", n < 0 ? strerror(errno) : "no bytes");
			return KIO_ERR_IO;
		}
		got += (size_t)n;
	}
	return 0;
}

static int random_bytes(struct essp_cash *d, void *buf, size_t len)
{
	int rc = d->cfg.random ? d->cfg.random(d->cfg.random_user, buf, len) : os_random(NULL, buf, len);
	if (rc)
		LOG_ERR("%s: no random bytes: %s", d->name, kio_strerror(rc));
	return rc;
}

#ifdef ESSP_HAVE_CRYPTO
/* The key exchange's primes and host secret. ITL's SDK draws them below 2^31 (research
 * §1.7); every draw comes from random_bytes, none from a seeded generator. */
static int draw_dh(struct essp_cash *d)
{
	uint64_t p[2] = {0, 0}, secret = 0;
	for (int k = 0; k < 2; k++) {
		do {
			uint32_t r;
			if (random_bytes(d, &r, sizeof(r)) != 0)
				return KIO_ERR_IO;
			p[k] = ((uint64_t)r & 0x7FFFFFFFull) | 0x40000001ull;
		} while (!essp_is_prime(p[k]) || (k == 1 && p[1] == p[0]));
	}
	uint32_t r;
	if (random_bytes(d, &r, sizeof(r)) != 0)
		return KIO_ERR_IO;
	secret = ((uint64_t)r & 0x7FFFFFFFull) | 1;
	d->dh_gen = p[0] < p[1] ? p[0] : p[1];
	d->dh_mod = p[0] < p[1] ? p[1] : p[0];
	d->dh_secret = secret;
	return 0;
}
#endif

static void cancel(struct essp_cash *d, uint64_t *id)
{
	if (*id) {
		core_timer_cancel(d->timers, *id);
		*id = 0;
	}
}

/* note_id: the note's journey (cash_note.id), 0 for events about no journaled note. */
static void emit(struct essp_cash *d, enum cash_event_kind kind, int64_t fils, enum cash_fault fault,
		 int64_t note_id)
{
	struct cash_event ev = {.kind = kind, .value_fils = fils, .fault = fault, .note_id = note_id};
	cash_emit(&d->base, &ev);
}

/* A note given back with no journey (cash.h: CASH_EV_REJECTED); fils 0 if its value is unknown. */
static void emit_rejected(struct essp_cash *d, int64_t fils, enum cash_cause cause)
{
	struct cash_event ev = {.kind = CASH_EV_REJECTED, .value_fils = fils, .cause = cause};
	cash_emit(&d->base, &ev);
}

static bool fault_on(const struct essp_cash *d, enum cash_fault f) { return d->faults & (1u << f); }

static void set_fault(struct essp_cash *d, enum cash_fault f, bool on)
{
	if (fault_on(d, f) == on)
		return;
	if (on) {
		d->faults |= 1u << f;
		LOG_WARN("%s: fault %s", d->name, cash_fault_name(f));
		emit(d, CASH_EV_FAULT, 0, f, 0);
	} else {
		d->faults &= ~(1u << f);
		LOG_INFO("%s: %s cleared", d->name, cash_fault_name(f));
		emit(d, CASH_EV_RECOVERED, 0, f, 0);
	}
}

/* Faults the device reports, during which it cannot take notes (enable would be refused). */
static bool device_fault(const struct essp_cash *d)
{
	return fault_on(d, CASH_FAULT_JAM) || fault_on(d, CASH_FAULT_STACKER_FULL) ||
	       fault_on(d, CASH_FAULT_CASHBOX_REMOVED);
}

static void set_note(struct essp_cash *d, enum note_ph ph)
{
	if (d->cur.ph != ph)
		LOG_DBG("%s: note %" PRId64 " %s -> %s", d->name, d->cur.j.id, note_names[d->cur.ph], note_names[ph]);
	d->cur.ph = ph;
	if (ph == NOTE_NONE)
		memset(&d->cur, 0, sizeof(d->cur));
}

/* ---- Sending (invariant 1) ---- */

static bool cmd_goes_plain(uint8_t code)
{
	/* SYNC and the key exchange are never encrypted (GA138 Encryption Layer). */
	return code == ESSP_CMD_SYNC || code == ESSP_CMD_SET_GENERATOR || code == ESSP_CMD_SET_MODULUS ||
	       code == ESSP_CMD_REQUEST_KEY_EXCHANGE;
}

static void on_reply_timeout(void *user);

static void link_lost(struct essp_cash *d)
{
	if (d->phase == PH_OFFLINE)
		return;
	set_fault(d, CASH_FAULT_DISCONNECTED, true);
	enter(d, PH_OFFLINE, "transport disconnected");
}

static void write_pkt(struct essp_cash *d)
{
	cancel(d, &d->reply_timer);
	d->reply_timer = core_timer_add(d->timers, d->cfg.reply_timeout_ms, on_reply_timeout, d);
	int rc = transport_write(d->t, d->pkt.bytes, d->pkt.len);
	if (rc == KIO_ERR_NO_DEVICE) {
		link_lost(d);
	} else if (rc) {
		/* BUSY: the timeout re-sends the same bytes. */
		LOG_WARN("%s: writing %s: %s", d->name, essp_cmd_name(d->cmd), kio_strerror(rc));
	}
}

static void no_answer(struct essp_cash *d, const char *why);

/*
 * Writes a new command; false if it could not be made (no random pad, sealing or framing
 * refused it). Then nothing is in flight and no reply timer would ever fire, so the session
 * is given up through NO_ANSWER, which sets it up again after reconnect_ms: a driver that
 * only logged here sat in its phase for good ("offline" during set-up). The caller does
 * nothing more after false: the phase has changed.
 */
static bool send_cmd(struct essp_cash *d, const struct essp_cmd *plain)
{
	struct essp_cmd wire = *plain;
	char why[64];
	d->sealed = false;
	d->busy = false;
#ifdef ESSP_HAVE_CRYPTO
	if (d->crypto_on && !cmd_goes_plain(plain->data[0])) {
		uint8_t pad[16];
		if (random_bytes(d, pad, sizeof(pad)) != 0 || essp_crypto_host_seal(&d->crypto, plain, pad, &wire) != 0) {
			snprintf(why, sizeof(why), "cannot seal %s", essp_cmd_name(plain->data[0]));
			LOG_ERR("%s: %s", d->name, why);
			no_answer(d, why);
			return false;
		}
		d->sealed = true;
	}
#else
	(void)cmd_goes_plain;
#endif
	if (essp_seq_prepare(&d->seq, &wire, &d->pkt) != 0) {
		snprintf(why, sizeof(why), "cannot frame %s", essp_cmd_name(plain->data[0]));
		LOG_ERR("%s: %s", d->name, why);
		no_answer(d, why);
		return false;
	}
	d->cmd = plain->data[0];
	d->busy = true;
	d->tries = 0;
	d->n_commands++;
	LOG_DBG("%s: -> %s seq %d%s", d->name, essp_cmd_name(d->cmd), (d->pkt.seqid & ESSP_SEQ_FLAG) ? 1 : 0,
		d->sealed ? " (sealed)" : "");
	write_pkt(d);
	return true;
}

static void no_answer(struct essp_cash *d, const char *why)
{
	set_fault(d, CASH_FAULT_NO_ANSWER, true);
	enter(d, PH_NO_ANSWER, why);
}

static void on_reply_timeout(void *user)
{
	struct essp_cash *d = user;
	d->reply_timer = 0;
	if (!d->busy)
		return;
	if (!transport_connected(d->t)) {
		link_lost(d);
		return;
	}
	if (d->tries >= d->cfg.retries) {
		char why[64];
		snprintf(why, sizeof(why), "%s unanswered after %u re-sends", essp_cmd_name(d->cmd), d->tries);
		d->busy = false;
		no_answer(d, why);
		return;
	}
	/* Invariant 1: the identical bytes, so a device that executed it repeats its reply. */
	d->tries++;
	d->n_resends++;
	LOG_DBG("%s: no reply to %s, re-sending (%u/%u)", d->name, essp_cmd_name(d->cmd), d->tries, d->cfg.retries);
	write_pkt(d);
}

static void on_poll_timer(void *user)
{
	struct essp_cash *d = user;
	d->poll_timer = 0;
	d->need_poll = true;
	pump(d);
}

static void on_retry_timer(void *user)
{
	struct essp_cash *d = user;
	d->retry_timer = 0;
	struct kio_error err = {0};
	switch (d->phase) {
	case PH_OFFLINE: {
		int rc = transport_reopen(d->t, &err);
		if (rc == 0)
			enter(d, PH_SYNC, "transport reopened");
		else {
			if (rc != KIO_ERR_NO_DEVICE)
				LOG_WARN("%s: reopen: %s", d->name, err.msg);
			d->retry_timer = core_timer_add(d->timers, d->cfg.reconnect_ms, on_retry_timer, d);
		}
		break;
	}
	case PH_NO_ANSWER:
		enter(d, PH_SYNC, "resync");
		break;
	default:
		/* A journal write was refused: try the waiting events again (invariant 6). */
		pump(d);
		break;
	}
}

static void on_decide_timer(void *user)
{
	struct essp_cash *d = user;
	d->decide_timer = 0;
	if (d->cur.ph != NOTE_HELD)
		return;
	LOG_WARN("%s: note %" PRId64 " undecided after %u ms: returning it", d->name, d->cur.j.id,
		 d->cfg.escrow_decide_ms);
	d->cur.auto_return = true;
	d->cur.reject_sent = false;
	set_note(d, NOTE_RETURNING);
	pump(d);
}

static void on_fraud_timer(void *user)
{
	struct essp_cash *d = user;
	d->fraud_timer = 0;
	set_fault(d, CASH_FAULT_FRAUD, false);
}

/* ---- Journal steps (invariant 4) ---- */

enum jmove { JMOVE_DONE, JMOVE_REFUSED, JMOVE_FAILED };

/* DONE: committed, act and report. REFUSED: the journal already has the note there or past
 * it (cash-journal.h invariant 1): act, never report twice. FAILED: not recorded, wait. */
static enum jmove journal_move(struct essp_cash *d, enum cash_note_state to, const char *why)
{
	struct kio_error err = {0};
	int rc = cash_journal_advance(d->journal, d->cur.j.id, to, why, &err);
	if (rc == KIO_ERR_INVALID) {
		LOG_ERR("%s: note %" PRId64 ": %s (%s): not reported again", d->name, d->cur.j.id, err.msg, why);
		return JMOVE_REFUSED;
	}
	if (rc) {
		LOG_ERR("%s: note %" PRId64 " -> %s not recorded: %s", d->name, d->cur.j.id, cash_note_state_name(to),
			err.msg);
		return JMOVE_FAILED;
	}
	d->cur.j.state = to;
	return JMOVE_DONE;
}

/* Begins a journey for a note the device credited that we had no journey for. */
static bool journal_unknown_credit(struct essp_cash *d, uint8_t ch, const char *why)
{
	memset(&d->cur, 0, sizeof(d->cur));
	d->cur.ch = ch;
	d->cur.fils = ch >= 1 && ch <= ESSP_CHANNELS_MAX ? d->ch_fils[ch - 1] : 0;
	struct cash_note *j = &d->cur.j;
	snprintf(j->device, sizeof(j->device), "%s", d->device);
	j->channel = ch;
	j->value_fils = d->cur.fils;
	j->state = CASH_NOTE_CREDITED;
	struct kio_error err = {0};
	if (cash_journal_begin(d->journal, j, &err) != 0) {
		LOG_ERR("%s: credit of a note on ch %u not recorded: %s", d->name, ch, err.msg);
		memset(&d->cur, 0, sizeof(d->cur));
		return false;
	}
	d->cur.journaled = true;
	d->cur.ph = NOTE_CREDITED;
	LOG_WARN("%s: note %" PRId64 " (ch %u, %" PRId64 " fils) credited with no escrow seen (%s)", d->name, j->id,
		 ch, d->cur.fils, why);
	emit(d, CASH_EV_CREDITED, d->cur.fils, CASH_FAULT_NONE, d->cur.j.id);
	return true;
}

static bool credit_cur(struct essp_cash *d, const char *why)
{
	if (d->cur.ph == NOTE_CREDITED)
		return true;
	checkpoint(d, "credit-read");
	enum jmove m = journal_move(d, CASH_NOTE_CREDITED, why);
	if (m == JMOVE_FAILED)
		return false;
	checkpoint(d, "credit-journaled");
	set_note(d, NOTE_CREDITED);
	if (m == JMOVE_DONE) {
		LOG_INFO("%s: note %" PRId64 " credited, %" PRId64 " fils (%s)", d->name, d->cur.j.id, d->cur.fils, why);
		emit(d, CASH_EV_CREDITED, d->cur.fils, CASH_FAULT_NONE, d->cur.j.id);
	}
	checkpoint(d, "credit-emitted");
	return true;
}

static bool stack_cur(struct essp_cash *d, const char *why)
{
	checkpoint(d, "stacked-read");
	enum jmove m = journal_move(d, CASH_NOTE_STACKED, why);
	if (m == JMOVE_FAILED)
		return false;
	checkpoint(d, "stacked-journaled");
	if (d->cur.ch >= 1 && d->cur.ch <= ESSP_CHANNELS_MAX && m == JMOVE_DONE)
		d->counts[d->cur.ch - 1]++;
	int64_t fils = d->cur.fils, id = d->cur.j.id;
	set_note(d, NOTE_NONE);
	if (m == JMOVE_DONE)
		emit(d, CASH_EV_STACKED, fils, CASH_FAULT_NONE, id);
	return true;
}

static bool return_cur(struct essp_cash *d, const char *why)
{
	checkpoint(d, "returned-read");
	enum jmove m = journal_move(d, CASH_NOTE_RETURNED, why);
	if (m == JMOVE_FAILED)
		return false;
	checkpoint(d, "returned-journaled");
	int64_t fils = d->cur.fils, id = d->cur.j.id;
	cancel(d, &d->decide_timer);
	set_note(d, NOTE_NONE);
	if (m == JMOVE_DONE) {
		LOG_INFO("%s: note %" PRId64 " returned (%s)", d->name, id, why);
		emit(d, CASH_EV_RETURNED, fils, CASH_FAULT_NONE, id);
	}
	return true;
}

/*
 * Invariant 9: the device reports a note in the path (event) while the note we carry is
 * credited. The validator takes one note at a time and a credited note is past the point of
 * no return (GA973 §8), so ours left the path into the cashbox and its STACKED was lost with
 * a killed process: close its journey as stacked, as SETTLE's counters would (a credited
 * journey is stacked whatever they say), and let the caller give the event to the next note.
 * A normal consequence of a restart: logged at info, naming each note for what it did.
 */
static bool stack_before_next(struct essp_cash *d, const char *event)
{
	char why[112];
	snprintf(why, sizeof(why), "poll: %s of the next note", event);
	LOG_INFO("%s: note %" PRId64 " (ch %u) is in the cashbox, its STACKED lost: %s is the next note's",
		 d->name, d->cur.j.id, d->cur.ch, event);
	return stack_cur(d, why);
}

/* A journaled note the kiosk never accepted: no POLL let it stack (invariant 3). */
static bool never_accepted(const struct essp_cash *d)
{
	return d->cur.journaled && d->cur.j.state == CASH_NOTE_ESCROW;
}

/*
 * Invariant 9: the device reads the next note (event) while the note we carry, never
 * accepted, has not ended: ours went back (REJECT or the device's escrow timeout) and its
 * REJECTED was lost with a killed process. Close it as returned; the event is the next note's.
 */
static bool return_before_next(struct essp_cash *d, const char *event)
{
	char why[112];
	snprintf(why, sizeof(why), "poll: %s of the next note", event);
	LOG_INFO("%s: note %" PRId64 " (ch %u) was given back, its REJECTED lost: %s is the next note's", d->name,
		 d->cur.j.id, d->cur.ch, event);
	return return_cur(d, why);
}

/* The unjournaled note of refuse_cur is back at the bezel (invariant 8): say why. */
static void refused_back(struct essp_cash *d, const char *why)
{
	int64_t fils = d->cur.fils;
	enum cash_cause cause = d->cur.cause;
	LOG_WARN("%s: note (ch %u, %" PRId64 " fils) given back (%s): %s", d->name, d->cur.ch, fils, why,
		 cash_cause_name(cause));
	set_note(d, NOTE_NONE);
	emit_rejected(d, fils, cause);
}

static bool note_open(const struct note *n)
{
	return n->journaled && (n->ph == NOTE_HELD || n->ph == NOTE_ACCEPTED || n->ph == NOTE_RETURNING ||
				n->ph == NOTE_CREDITED);
}

static bool cur_open(const struct essp_cash *d) { return note_open(&d->cur); }

/* ---- Poll events (GA138 event table; invariant 6) ---- */

struct poll_seen {
	bool path, jam, full, removed, disabled;
};

/* Handles one event; false when the journal refused a write (retry the same event later). */
static bool handle_event(struct essp_cash *d, const struct essp_event *ev, struct poll_seen *seen)
{
	uint8_t ch = ev->data;
	char why[64];
	switch (ev->code) {
	case ESSP_EV_SLAVE_RESET:
		/* The device lost inhibits, enable, protocol and keys (GA138 Slave Reset). In the
		 * session's first poll it reports the power-up this session was set up after
		 * (GA973 §6's start-up flow polls straight on); later it means a new reset. */
		if (d->polls_in_session > 1) {
			LOG_INFO("%s: device reset", d->name);
			d->resync_after = true;
		} else {
			LOG_INFO("%s: device powered up before this session", d->name);
		}
		return true;
	case ESSP_EV_READ:
		seen->path = true;
		if (ch == 0)
			return true;
		/* Invariant 9: the note credited before is in the cashbox; this READ is the next. */
		if (d->cur.ph == NOTE_CREDITED) {
			snprintf(why, sizeof(why), "READ ch %u", ch);
			if (!stack_before_next(d, why))
				return false;
		} else if (d->cur.ph == NOTE_RETURNING && !d->cur.journaled) {
			snprintf(why, sizeof(why), "READ ch %u of the next note", ch);
			refused_back(d, why);
		} else if (d->cur.ph == NOTE_RETURNING && never_accepted(d)) {
			snprintf(why, sizeof(why), "READ ch %u", ch);
			if (!return_before_next(d, why))
				return false;
		}
		if (d->cur.ph == NOTE_NONE) {
			d->cur.ch = ch;
			d->cur.fils = ch <= ESSP_CHANNELS_MAX ? d->ch_fils[ch - 1] : 0;
			/* While settling the kiosk is not asking; a note of unknown value is refused. */
			d->cur.auto_return = d->phase != PH_RUN || d->cur.fils <= 0;
			set_note(d, NOTE_READ);
			checkpoint(d, "escrow-read");
		} else if (!((d->cur.ph == NOTE_HELD || d->cur.ph == NOTE_READ) && d->cur.ch == ch)) {
			/* A new note while ours has not ended: its end was lost. Polling on would
			 * accept the new one undecided (invariant 3); a new session returns it and
			 * settles ours by the counters. */
			if (d->phase == PH_SETTLE && d->cur.ph == NOTE_ACCEPTED)
				/* After a restart: its end went with the killed process (invariant 9). */
				LOG_INFO("%s: READ ch %u is the next note's: note %" PRId64 " (ch %u, accepted) ended "
					 "unseen; setting up again, the counters decide it",
					 d->name, ch, d->cur.j.id, d->cur.ch);
			else
				LOG_ERR("%s: READ ch %u while note %" PRId64 " (ch %u) is %s: resynchronising", d->name,
					ch, d->cur.j.id, d->cur.ch, note_names[d->cur.ph]);
			d->resync_after = true;
		}
		return true;
	case ESSP_EV_CREDIT:
		/* The credit point: "safe for the host to use this event as its Credit" (GA973 §8). */
		seen->path = true;
		if (cur_open(d) && d->cur.ph != NOTE_CREDITED) {
			if (d->cur.ch != ch)
				LOG_WARN("%s: NOTE CREDIT ch %u for note %" PRId64 " read on ch %u", d->name, ch, d->cur.j.id,
					 d->cur.ch);
			if (d->cur.ph == NOTE_HELD || d->cur.ph == NOTE_RETURNING)
				LOG_WARN("%s: the device credited note %" PRId64 " the kiosk had not accepted", d->name,
					 d->cur.j.id);
			return credit_cur(d, "poll: NOTE CREDIT");
		}
		if (d->cur.ph == NOTE_CREDITED) {
			LOG_DBG("%s: NOTE CREDIT repeated for note %" PRId64, d->name, d->cur.j.id);
			return true;
		}
		return journal_unknown_credit(d, ch, "poll: NOTE CREDIT");
	case ESSP_EV_STACKING:
	case ESSP_EV_REJECTING:
		seen->path = true;
		return true;
	case ESSP_EV_STACKED:
		seen->path = true;
		if (!cur_open(d)) {
			LOG_WARN("%s: STACKED with no note in the path", d->name);
			return true;
		}
		/* In the cashbox without a CREDIT we saw (lost with a killed process): it counts. */
		if (d->cur.ph != NOTE_CREDITED && !credit_cur(d, "poll: STACKED without NOTE CREDIT"))
			return false;
		return stack_cur(d, "poll: STACKED");
	case ESSP_EV_REJECTED:
		seen->path = true;
		d->need_last_reject = true;
		if (d->phase == PH_SETTLE && d->cur.ph == NOTE_ACCEPTED && d->cur.accept_sent) {
			/* Invariant 9: SETTLE's REJECT returned whatever was in escrow: ours if its
			 * accepting POLL never went out, else the next note, and ours stacked or not.
			 * The counters tell both apart (step 3); this REJECTED cannot. */
			LOG_INFO("%s: REJECTED of the note held at start: the counters decide note %" PRId64,
				 d->name, d->cur.j.id);
			emit_rejected(d, 0, CASH_CAUSE_NONE);
			return true;
		}
		if (cur_open(d))
			return return_cur(d, "poll: REJECTED");
		/* Invariant 9: a credited note is never given back; the REJECTED is the next
		 * note's, one we never saw read (SETTLE's REJECT returned it). */
		if (d->cur.ph == NOTE_CREDITED && !stack_before_next(d, "REJECTED"))
			return false;
		if (d->cur.ph == NOTE_RETURNING) {
			refused_back(d, "poll: REJECTED");
			return true;
		}
		if (d->cur.ph == NOTE_READ)
			set_note(d, NOTE_NONE);
		emit_rejected(d, 0, CASH_CAUSE_NONE);
		return true;
	case ESSP_EV_CLEARED_FROM_FRONT:
		/* Power-up found a note in the path and gave it back (GA138 event table). */
		seen->path = true;
		if (cur_open(d) && d->cur.ph != NOTE_CREDITED)
			return return_cur(d, "power-up: cleared from front");
		if (d->cur.ph == NOTE_RETURNING) {
			refused_back(d, "power-up: cleared from front");
			return true;
		}
		if (d->cur.ph == NOTE_READ)
			set_note(d, NOTE_NONE);
		LOG_INFO("%s: note (ch %u) cleared from the front at power-up, none of ours", d->name, ch);
		return true;
	case ESSP_EV_CLEARED_INTO_CASHBOX:
		/* Power-up found a note past the stacker gate and stacked it: it counts. */
		seen->path = true;
		snprintf(why, sizeof(why), "power-up: cleared into cashbox (ch %u)", ch);
		if (!cur_open(d) && !journal_unknown_credit(d, ch, why))
			return false;
		if (d->cur.ph != NOTE_CREDITED && !credit_cur(d, why))
			return false;
		return stack_cur(d, why);
	case ESSP_EV_SAFE_JAM:
	case ESSP_EV_UNSAFE_JAM:
		/* GA973 §8: both need a reset; no credit is given for either here: the note's
		 * journey stays open and SETTLE decides it after recovery. */
		seen->path = true;
		seen->jam = true;
		return true;
	case ESSP_EV_FRAUD_ATTEMPT:
		/* GA973 "Fraud attempt": no credit follows; the note was pulled back. */
		seen->path = true;
		LOG_WARN("%s: fraud attempt (ch %u)", d->name, ch);
		set_fault(d, CASH_FAULT_FRAUD, true);
		cancel(d, &d->fraud_timer);
		d->fraud_timer = core_timer_add(d->timers, d->cfg.fraud_clear_ms, on_fraud_timer, d);
		if (cur_open(d) && d->cur.ph == NOTE_HELD)
			return return_cur(d, "poll: FRAUD ATTEMPT");
		return true;
	case ESSP_EV_STACKER_FULL:
		seen->full = true;
		return true;
	case ESSP_EV_CASHBOX_REMOVED:
		seen->removed = true;
		return true;
	case ESSP_EV_CASHBOX_REPLACED:
		return true;
	case ESSP_EV_DISABLED:
		seen->disabled = true;
		d->dev_enabled = false;
		return true;
	case ESSP_EV_CHANNEL_DISABLE:
		if (d->want_mask)
			d->need_inhibits = true;
		return true;
	default:
		LOG_DBG("%s: event 0x%02x %s", d->name, ev->code, essp_event_name(ev->code));
		return true;
	}
}

/* Handles the kept poll reply from ev_next on; false if blocked on the journal. */
static bool process_events(struct essp_cash *d)
{
	static struct poll_seen none;
	struct poll_seen seen = none;
	while (d->ev_next < d->poll.n) {
		if (!handle_event(d, &d->poll.ev[d->ev_next], &seen)) {
			if (!d->ev_blocked)
				LOG_WARN("%s: %zu poll events wait for the journal", d->name, d->poll.n - d->ev_next);
			d->ev_blocked = true;
			cancel(d, &d->retry_timer);
			d->retry_timer = core_timer_add(d->timers, d->cfg.reconnect_ms, on_retry_timer, d);
			return false;
		}
		d->ev_next++;
	}
	d->ev_blocked = false;
	if (d->ev_from_poll) {
		/* Conditions the device reports on every poll while they hold (invariant 7). */
		d->ev_from_poll = false;
		set_fault(d, CASH_FAULT_JAM, seen.jam);
		set_fault(d, CASH_FAULT_STACKER_FULL, seen.full);
		set_fault(d, CASH_FAULT_CASHBOX_REMOVED, seen.removed);
		if (d->phase == PH_RUN && seen.disabled && d->want_enabled && !device_fault(d))
			d->need_enable = true; /* it disabled itself (GA973 §7.4 comms timeout) */
		if (d->phase == PH_SETTLE && d->settle == SETTLE_POLL && !seen.path && d->cur.ph != NOTE_READ &&
		    d->cur.ph != NOTE_HELD && !(d->cur.ph == NOTE_RETURNING && !d->cur.reject_sent))
			d->settle = SETTLE_COUNTERS; /* a quiet reply: nothing moves in the path */
	}
	if (d->resync_after && d->phase >= PH_SETTLE && d->phase <= PH_RUN) {
		d->resync_after = false;
		enter(d, PH_SYNC, "device reset");
	}
	return true;
}

/* ---- Settling at session start ---- */

/* SETTLE step 1 for the note the driver carries: one held undecided goes back. */
static void settle_begin(struct essp_cash *d)
{
	d->n_older = 0;
	if (d->cur.ph == NOTE_READ)
		set_note(d, NOTE_NONE); /* not journaled: the REJECT returns it */
	if (d->cur.ph == NOTE_HELD || (d->cur.ph == NOTE_ACCEPTED && !d->cur.accept_sent)) {
		cancel(d, &d->decide_timer);
		d->cur.auto_return = true;
		set_note(d, NOTE_RETURNING);
	}
	if (d->cur.ph == NOTE_RETURNING)
		d->cur.reject_sent = true; /* SETTLE's own REJECT covers it */
}

/*
 * SETTLE step 0: takes every journey the journal lists as open for this device in hand,
 * the newest as the current note if none is carried, the others in `older`. False if the
 * journal cannot list them (or there are more than SETTLE_OPEN_MAX): the caller retries
 * and nothing else happens meanwhile (invariant 5). Going on without them would let the
 * next session's notes move the stacked counter past an open journey's snapshot, and the
 * next SETTLE would credit a note the customer got back.
 *
 * All of them, and the newest as the current note: SETTLE's REJECT and polls report what
 * happened to the note in the path, which can only be the last journey begun; applied to
 * an older one, a NOTE CREDIT would close the wrong journey (maybe of another value) and
 * leave the newest to the counters, which the same note moved: a second credit. An older
 * journey is decided by the counters against the snapshot of the journey after it, so none
 * may be left for later, when the journeys after it are closed and no longer bound it.
 */
static bool settle_list(struct essp_cash *d)
{
	d->n_older = 0;
	d->n_undecided = 0;
	size_t n = 0;
	struct kio_error err = {0};
	for (;;) {
		if (cash_journal_list_open(d->journal, d->device, d->older, d->older_cap, &n, &err) != 0) {
			if (!d->list_failed)
				LOG_ERR("%s: cannot list open journeys (%s): staying disabled, retrying every %u ms",
					d->name, err.msg, d->cfg.reconnect_ms);
			d->list_failed = true;
			set_fault(d, CASH_FAULT_UNDECIDED, true); /* invariant 7: not "starting" */
			return false;
		}
		if (n <= d->older_cap)
			break;
		if (n > SETTLE_OPEN_MAX) {
			if (!d->list_failed)
				LOG_ERR("%s: %zu open journeys (more than %d): staying disabled for a technician",
					d->name, n, SETTLE_OPEN_MAX);
			d->list_failed = true;
			set_fault(d, CASH_FAULT_UNDECIDED, true);
			return false;
		}
		free(d->older);
		d->older_cap = n;
		d->older = xcalloc(n, sizeof(*d->older));
	}
	if (d->list_failed)
		LOG_INFO("%s: open journeys listed: %zu", d->name, n);
	d->list_failed = false;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		struct cash_note j = d->older[i];
		if (d->cur.journaled && d->cur.j.id == j.id)
			continue;
		if (i + 1 == n && d->cur.ph == NOTE_NONE) {
			d->cur.j = j;
			d->cur.journaled = true;
			d->cur.ch = j.channel;
			d->cur.fils = j.value_fils;
			d->cur.auto_return = true;
			d->cur.reject_sent = true;
			d->cur.accept_sent = true;
			d->cur.ph = j.state == CASH_NOTE_CREDITED ? NOTE_CREDITED
				    : j.state == CASH_NOTE_ACCEPTED ? NOTE_ACCEPTED
								    : NOTE_RETURNING;
			LOG_INFO("%s: note %" PRId64 " (%" PRId64 " fils) was %s when the driver stopped: reconciling",
				 d->name, j.id, j.value_fils, cash_note_state_name(j.state));
			continue;
		}
		LOG_WARN("%s: older open note %" PRId64 " (%s): reconciling by counters", d->name, j.id,
			 cash_note_state_name(j.state));
		d->older[k++] = j;
	}
	d->n_older = k;
	d->older_bound_from_cur = d->cur.journaled;
	d->older_bound = d->cur.j.stacked_before;
	d->older_bound_known = d->cur.j.counters_known;
	checkpoint(d, "settle-listed");
	return true;
}

/* Steps 0 and 1: list, then REJECT; or wait for the retry timer and list again. */
static void settle_list_or_wait(struct essp_cash *d)
{
	if (!settle_list(d)) {
		cancel(d, &d->retry_timer);
		d->retry_timer = core_timer_add(d->timers, d->cfg.reconnect_ms, on_retry_timer, d);
		return;
	}
	struct essp_cmd c;
	d->settle = SETTLE_REJECT;
	essp_cmd_reject(&c);
	send_cmd(d, &c);
}

static bool undecided_before(const struct essp_cash *d, int64_t id)
{
	for (size_t i = 0; i < d->n_undecided_ids; i++)
		if (d->undecided_ids[i] == id)
			return true;
	return false;
}

/*
 * Ends one journey from the counters (SETTLE step 3): the note went into the cashbox iff
 * the stacked counter moved past its snapshot before the next note's snapshot.
 *
 * Or leaves it open, undecided, when nothing proves where it went: no snapshot of its own;
 * a move the next journey (without a snapshot) may have made; a move of 2 or more (between
 * one snapshot and the next only that note can stack, so other notes went in that the list
 * does not bound); or this process left it undecided before (the journey that made it
 * ambiguous may have ended since, and then the newest open journey looks like the note in
 * the path: counters other notes moved would credit it). The caller keeps the device
 * disabled while any is left (invariant 5): a note taken meanwhile would move the counters
 * past the snapshots and be attributed to the wrong journey.
 */
static bool settle_resolve_one(struct essp_cash *d, uint32_t stacked_next, bool next_known)
{
	struct cash_note *j = &d->cur.j;
	char why[80];
	uint32_t moved = stacked_next - j->stacked_before; /* the counters wrap (GA138) */
	if (j->state == CASH_NOTE_CREDITED) {
		snprintf(why, sizeof(why), "settle: out of the path (stacked +%" PRIu32 ")", moved);
		return stack_cur(d, why);
	}
	const char *cannot = !j->counters_known	  ? "no snapshot"
			     : undecided_before(d, j->id) ? "undecided before"
			     : moved >= 1 && !next_known  ? "the next journey has no snapshot"
			     : moved > 1		  ? "the counter moved by more than one note"
							  : NULL;
	if (cannot) {
		if (!undecided_before(d, j->id)) {
			LOG_ERR("%s: note %" PRId64 " (%" PRId64 " fils) cannot be decided by the counters (%s): "
				"left open for a technician",
				d->name, j->id, j->value_fils, cannot);
			if (d->n_undecided_ids == d->undecided_cap) {
				d->undecided_cap = d->undecided_cap ? 2 * d->undecided_cap : 8;
				d->undecided_ids = xrealloc(d->undecided_ids, d->undecided_cap * sizeof(int64_t));
			}
			d->undecided_ids[d->n_undecided_ids++] = j->id;
		}
		d->n_undecided++;
		set_note(d, NOTE_NONE);
		return true;
	}
	if (moved >= 1) {
		snprintf(why, sizeof(why), "counters: stacked %" PRIu32 " -> %" PRIu32, j->stacked_before, stacked_next);
		if (!credit_cur(d, why))
			return false;
		return stack_cur(d, why);
	}
	snprintf(why, sizeof(why), "counters: stacked unchanged at %" PRIu32, stacked_next);
	return return_cur(d, why);
}

static bool settle_resolve(struct essp_cash *d)
{
	/* Oldest first: each note's "next snapshot" is the following journey's. */
	while (d->n_older) {
		struct note saved = d->cur;
		memset(&d->cur, 0, sizeof(d->cur));
		d->cur.j = d->older[0];
		d->cur.journaled = true;
		d->cur.ch = d->older[0].channel;
		d->cur.fils = d->older[0].value_fils;
		d->cur.ph = d->older[0].state == CASH_NOTE_CREDITED ? NOTE_CREDITED : NOTE_RETURNING;
		/* The bound is the next journey's snapshot even when that note is over by now
		 * (SETTLE's polls may have stacked it): the current counter includes it. */
		bool next_known = d->n_older > 1       ? d->older[1].counters_known
				  : d->older_bound_from_cur ? d->older_bound_known
							    : true;
		/* Without the next snapshot the current counter still proves "not stacked"
		 * when it has not moved; a move is then ambiguous (settle_resolve_one). */
		uint32_t next = !next_known		 ? d->counters.stacked
				: d->n_older > 1	 ? d->older[1].stacked_before
				: d->older_bound_from_cur ? d->older_bound
							  : d->counters.stacked;
		bool ok = settle_resolve_one(d, next, next_known);
		if (ok && d->cur.ph != NOTE_NONE)
			set_note(d, NOTE_NONE);
		d->cur = saved;
		if (!ok)
			return false;
		memmove(&d->older[0], &d->older[1], (d->n_older - 1) * sizeof(d->older[0]));
		d->n_older--;
	}
	if (cur_open(d)) {
		if (!settle_resolve_one(d, d->counters.stacked, true))
			return false;
		checkpoint(d, "settle-resolved");
	}
	if (d->cur.ph != NOTE_NONE && !d->cur.journaled)
		set_note(d, NOTE_NONE); /* returned unrecorded (journal refused its escrow) */
	return true;
}

/* ---- Replies ---- */

static bool reply_ok(const uint8_t *data, size_t len) { return len >= 1 && data[0] == ESSP_RESP_OK; }

static void counters_reply(struct essp_cash *d, const uint8_t *data, size_t len, bool *ok)
{
	struct kio_error err = {0};
	*ok = essp_counters_parse(data, len, &d->counters, &err) == 0;
	if (*ok)
		d->counters_known = true;
	else
		LOG_WARN("%s: GET COUNTERS: %s", d->name, err.msg);
}

/*
 * A note read in escrow that the driver will not offer to the kiosk (invariant 8): nothing
 * journaled, REJECT next (pump), and REJECTED tells the kiosk why once the device gave it
 * back. Nothing promised it credit, so the customer keeping it is the whole outcome.
 */
static void refuse_cur(struct essp_cash *d, enum cash_cause cause)
{
	d->cur.auto_return = true;
	d->cur.reject_sent = false;
	d->cur.cause = cause;
	set_note(d, NOTE_RETURNING);
	checkpoint(d, "escrow-refused");
}

/* READ ch answered by GET COUNTERS: journal the escrow with its snapshot, then tell the
 * kiosk (invariants 4, 8). */
static void escrow_journal(struct essp_cash *d)
{
	struct cash_note *j = &d->cur.j;
	memset(j, 0, sizeof(*j));
	snprintf(j->device, sizeof(j->device), "%s", d->device);
	j->channel = d->cur.ch;
	j->value_fils = d->cur.fils > 0 ? d->cur.fils : 0;
	j->state = CASH_NOTE_ESCROW;
	j->counters_known = true;
	j->stacked_before = d->counters.stacked;
	j->rejected_before = d->counters.rejected;
	struct kio_error err = {0};
	if (cash_journal_begin(d->journal, j, &err) != 0) {
		/* A note we cannot record is a note we must not take. */
		LOG_ERR("%s: escrow not recorded (%s): returning the note", d->name, err.msg);
		refuse_cur(d, CASH_CAUSE_NOT_RECORDED);
		return;
	}
	d->cur.journaled = true;
	checkpoint(d, "escrow-journaled");
	if (d->cur.auto_return) {
		LOG_INFO("%s: note %" PRId64 " (ch %u) in escrow while %s: returning it", d->name, j->id, d->cur.ch,
			 phase_names[d->phase]);
		d->cur.reject_sent = false;
		set_note(d, NOTE_RETURNING);
		return;
	}
	set_note(d, NOTE_HELD);
	LOG_INFO("%s: note %" PRId64 " in escrow: %" PRId64 " fils (ch %u)", d->name, j->id, d->cur.fils, d->cur.ch);
	if (d->cfg.escrow_decide_ms)
		d->decide_timer = core_timer_add(d->timers, d->cfg.escrow_decide_ms, on_decide_timer, d);
	emit(d, CASH_EV_ESCROW, d->cur.fils, CASH_FAULT_NONE, j->id);
}

/* Replies to the commands of RUN and SETTLE. */
static void run_reply(struct essp_cash *d, uint8_t cmd, const uint8_t *data, size_t len)
{
	struct kio_error err = {0};
	bool ok;
	switch (cmd) {
	case ESSP_CMD_POLL: {
		if (d->polls_in_session < 2)
			d->polls_in_session++;
		int rc = essp_poll_parse(data, len, d->protocol, &d->poll, &err);
		if (rc) {
			/* GA138: an unknown event makes the rest unparseable; the events before it
			 * are still good (a credit among them must not be lost). */
			LOG_WARN("%s: poll reply: %s", d->name, err.msg);
		}
		d->ev_next = 0;
		d->ev_from_poll = rc == 0;
		process_events(d);
		break;
	}
	case ESSP_CMD_HOLD:
		if (!reply_ok(data, len) && d->cur.ph == NOTE_HELD) {
			/* Nothing held: the device gave it back on its own (escrow timeout, GA138 0x13). */
			LOG_WARN("%s: HOLD refused (%s): the note left escrow", d->name, essp_resp_name(data[0]));
			d->cur.reject_sent = true;
			set_note(d, NOTE_RETURNING);
			d->need_poll = true;
		}
		break;
	case ESSP_CMD_REJECT:
		if (d->phase == PH_SETTLE && d->settle == SETTLE_REJECT) {
			if (reply_ok(data, len))
				LOG_INFO("%s: a note was held in escrow at start: returning it", d->name);
			d->settle = SETTLE_POLL;
		} else if (!reply_ok(data, len)) {
			LOG_INFO("%s: REJECT: %s (nothing held)", d->name, essp_resp_name(data[0]));
		}
		d->need_poll = true;
		break;
	case ESSP_CMD_GET_COUNTERS:
		counters_reply(d, data, len, &ok);
		if (d->cur.ph == NOTE_READ && ok) {
			escrow_journal(d);
		} else if (d->cur.ph == NOTE_READ) {
			/* Invariant 8: no snapshot, no journey. Asked again (pump) as a lost reply
			 * would be re-sent; then the note goes back. */
			if (++d->cur.counters_fails <= d->cfg.retries) {
				LOG_WARN("%s: no counters for the note in escrow (ch %u): asking again (%u/%u)",
					 d->name, d->cur.ch, d->cur.counters_fails, d->cfg.retries);
			} else {
				LOG_ERR("%s: note (ch %u, %" PRId64 " fils) returned: the device gave no counters "
					"after %u tries, and without them a crash could leave it unprovable",
					d->name, d->cur.ch, d->cur.fils, d->cur.counters_fails);
				refuse_cur(d, CASH_CAUSE_NO_COUNTERS);
			}
		} else if (d->phase == PH_SETTLE && d->settle == SETTLE_COUNTERS) {
			/* Without counters the open journeys cannot be decided: said as such while
			 * it lasts (invariant 7), not as "starting". */
			if (!ok && (d->n_older || cur_open(d)))
				set_fault(d, CASH_FAULT_UNDECIDED, true);
			if (!ok || !settle_resolve(d)) {
				cancel(d, &d->retry_timer);
				d->retry_timer = core_timer_add(d->timers, d->cfg.reconnect_ms, on_retry_timer, d);
				break;
			}
			if (d->n_undecided) {
				/* Invariant 5: disabled until a technician closes them; listed again
				 * every reconnect_ms so that is seen without a restart. */
				if (d->n_undecided != d->undecided_reported)
					LOG_ERR("%s: %zu open journeys cannot be decided: cash stays disabled until a "
						"technician reconciles them",
						d->name, d->n_undecided);
				d->undecided_reported = d->n_undecided;
				/* The kiosk shows why, not "starting" (SETTLE alone is no fault). */
				set_fault(d, CASH_FAULT_UNDECIDED, true);
				d->settle = SETTLE_LIST;
				cancel(d, &d->retry_timer);
				d->retry_timer = core_timer_add(d->timers, d->cfg.reconnect_ms, on_retry_timer, d);
				break;
			}
			if (d->undecided_reported)
				LOG_INFO("%s: every open journey reconciled", d->name);
			d->undecided_reported = 0;
			set_fault(d, CASH_FAULT_UNDECIDED, false);
			enter(d, PH_INHIBITS, "settled");
		}
		break;
	case ESSP_CMD_LAST_REJECT_CODE:
		if (essp_last_reject_parse(data, len, &d->last_reject, &err) == 0)
			LOG_INFO("%s: last reject: 0x%02x %s", d->name, d->last_reject, essp_reject_name(d->last_reject));
		break;
	case ESSP_CMD_SET_INHIBITS:
		if (!reply_ok(data, len))
			LOG_WARN("%s: SET INHIBITS: %s", d->name, essp_resp_name(data[0]));
		break;
	case ESSP_CMD_ENABLE:
		d->dev_enabled = reply_ok(data, len);
		if (!d->dev_enabled)
			LOG_WARN("%s: ENABLE: %s", d->name, essp_resp_name(data[0]));
		break;
	case ESSP_CMD_DISABLE:
		d->dev_enabled = false;
		break;
	default:
		break;
	}
}

static uint16_t mask_for(const struct essp_cash *d)
{
	uint16_t mask = 0;
	for (size_t ch = 0; ch < d->setup.n_channels && ch < ESSP_CHANNELS_MAX; ch++)
		for (size_t k = 0; k < d->n_want; k++)
			if (d->ch_fils[ch] > 0 && d->ch_fils[ch] == d->want_fils[k])
				mask |= (uint16_t)(1u << ch);
	return mask;
}

/* The one step function: a good reply to the command of the current phase. */
static void step(struct essp_cash *d, uint8_t cmd, const uint8_t *data, size_t len)
{
	struct kio_error err = {0};
	LOG_DBG("%s: <- %s for %s (%zu bytes) in %s", d->name, essp_resp_name(data[0]), essp_cmd_name(cmd), len,
		phase_names[d->phase]);
	if (data[0] == ESSP_RESP_KEY_NOT_SET && d->phase > PH_KEY_EXCHANGE) {
		/* The device lost its keys (reset) or runs in eSSP mode (F6 in research §5). */
		LOG_WARN("%s: %s answered KEY NOT SET", d->name, essp_cmd_name(cmd));
		if (d->cfg.encryption)
			enter(d, PH_SYNC, "key not set");
		else
			no_answer(d, "the device wants eSSP encryption (config: encryption)");
		return;
	}
	switch (d->phase) {
	case PH_OFFLINE:
	case PH_NO_ANSWER:
	case PH_COUNT:
		break;
	case PH_SYNC:
		if (!reply_ok(data, len)) {
			no_answer(d, "SYNC refused");
			break;
		}
		enter(d, d->cfg.encryption ? PH_GENERATOR : PH_PROTOCOL, "synced");
		break;
	case PH_GENERATOR:
	case PH_MODULUS:
		if (!reply_ok(data, len)) {
			no_answer(d, "key exchange refused");
			break;
		}
		enter(d, d->phase == PH_GENERATOR ? PH_MODULUS : PH_KEY_EXCHANGE, "key exchange");
		break;
	case PH_KEY_EXCHANGE: {
#ifdef ESSP_HAVE_CRYPTO
		uint64_t slave = 0;
		if (essp_key_exchange_parse(data, len, &slave, &err) != 0) {
			LOG_ERR("%s: key exchange: %s", d->name, err.msg);
			no_answer(d, "key exchange failed");
			break;
		}
		uint64_t key = essp_dh_powmod(slave, d->dh_secret, d->dh_mod);
		essp_crypto_init(&d->crypto, d->cfg.fixed_key, key);
		d->crypto_on = true;
		enter(d, PH_PROTOCOL, "keys set");
#endif
		break;
	}
	case PH_PROTOCOL:
		if (reply_ok(data, len)) {
			d->protocol = d->protocol_try;
			enter(d, PH_SETUP, "protocol set");
		} else if (data[0] == ESSP_RESP_FAIL && d->protocol_try > ESSP_PROTOCOL_MIN) {
			LOG_WARN("%s: protocol %u refused, trying %u", d->name, d->protocol_try, d->protocol_try - 1);
			d->protocol_try--;
			enter(d, PH_PROTOCOL, "lower protocol");
		} else {
			LOG_ERR("%s: no protocol version between %u and %u accepted", d->name, ESSP_PROTOCOL_MIN,
				d->cfg.protocol_version);
			no_answer(d, "protocol refused");
		}
		break;
	case PH_SETUP: {
		struct essp_setup s;
		if (essp_setup_parse(data, len, &s, &err) != 0) {
			LOG_ERR("%s: setup: %s", d->name, err.msg);
			no_answer(d, "setup unreadable");
			break;
		}
		d->setup = s;
		for (uint8_t ch = 1; ch <= ESSP_CHANNELS_MAX; ch++) {
			int64_t fils = 0;
			if (ch <= s.n_channels && essp_setup_channel_fils(&s, ch, &fils, &err) != 0)
				fils = 0; /* unused or not AED: never enabled, never credited by value */
			d->ch_fils[ch - 1] = fils;
		}
		enter(d, PH_SERIAL, "setup read");
		break;
	}
	case PH_SERIAL: {
		uint32_t serial = 0;
		if (essp_serial_parse(data, len, &serial, &err) != 0) {
			LOG_ERR("%s: serial: %s", d->name, err.msg);
			no_answer(d, "serial unreadable");
			break;
		}
		if (d->serial_known && serial != d->serial) {
			/* GA138: check the serial after a gap. Another unit's journeys stay open for
			 * a technician; nothing of the old unit is reconciled against this one. */
			LOG_ERR("%s: validator changed: serial %08" PRIX32 " -> %08" PRIX32, d->name, d->serial, serial);
			if (d->ev_blocked)
				LOG_ERR("%s: %zu events of the old unit never recorded: reconcile its cashbox", d->name,
					d->poll.n - d->ev_next);
			d->ev_blocked = false;
			d->poll.n = d->ev_next = 0;
			cancel(d, &d->decide_timer);
			set_note(d, NOTE_NONE);
			memset(d->counts, 0, sizeof(d->counts));
		}
		d->serial = serial;
		d->serial_known = true;
		snprintf(d->device, sizeof(d->device), "essp:%08" PRIX32, serial);
		enter(d, PH_DISABLE, "serial read");
		break;
	}
	case PH_DISABLE:
		d->dev_enabled = false;
		enter(d, PH_SETTLE, "disabled");
		break;
	case PH_SETTLE:
		run_reply(d, cmd, data, len);
		break;
	case PH_INHIBITS:
		if (!reply_ok(data, len))
			LOG_WARN("%s: SET INHIBITS: %s", d->name, essp_resp_name(data[0]));
		enter(d, PH_ENABLE, "inhibits set");
		break;
	case PH_ENABLE:
		d->dev_enabled = reply_ok(data, len);
		if (!d->dev_enabled)
			LOG_WARN("%s: ENABLE: %s", d->name, essp_resp_name(data[0]));
		enter(d, PH_RUN, "enabled");
		break;
	case PH_RUN:
		run_reply(d, cmd, data, len);
		break;
	}
}

/* Everything a phase does on entry: its command, or a timer. */
static void enter(struct essp_cash *d, enum phase to, const char *why)
{
	LOG_DBG("%s: %s -> %s (%s)", d->name, phase_names[d->phase], phase_names[to], why);
	d->phase = to;
	d->busy = false;
	cancel(d, &d->reply_timer);
	cancel(d, &d->poll_timer);
	cancel(d, &d->retry_timer);
	struct essp_cmd c;
	switch (to) {
	case PH_OFFLINE:
	case PH_NO_ANSWER:
		d->crypto_on = false;
		d->retry_timer = core_timer_add(d->timers, d->cfg.reconnect_ms, on_retry_timer, d);
		break;
	case PH_SYNC:
		/* A new session: whatever was half-received belongs to the old one. */
		d->n_resyncs++;
		d->crypto_on = false;
		d->resync_after = false;
		d->polls_in_session = 0;
		/* Events the journal has not taken yet are facts the device will not repeat (a
		 * credit with no journey may be the only trace of a note in the cashbox): they
		 * stay, and SETTLE handles them first (invariant 6). The conditions of that old
		 * reply say nothing about the new session. */
		if (!d->ev_blocked)
			d->poll.n = d->ev_next = 0;
		d->ev_from_poll = false;
		d->need_poll = d->need_inhibits = d->need_enable = d->need_disable = d->need_last_reject = false;
		transport_flush(d->t);
		essp_decoder_init(&d->dec);
		essp_seq_init(&d->seq, d->cfg.address);
		d->protocol_try = d->cfg.protocol_version;
		essp_cmd_sync(&c);
		send_cmd(d, &c);
		break;
	case PH_GENERATOR:
	case PH_MODULUS:
	case PH_KEY_EXCHANGE:
#ifdef ESSP_HAVE_CRYPTO
		if (to == PH_GENERATOR) {
			if (draw_dh(d) != 0) {
				no_answer(d, "no random numbers for the key exchange");
				break;
			}
			essp_cmd_set_generator(&c, d->dh_gen);
		} else if (to == PH_MODULUS) {
			essp_cmd_set_modulus(&c, d->dh_mod);
		} else {
			essp_cmd_request_key_exchange(&c, essp_dh_powmod(d->dh_gen, d->dh_secret, d->dh_mod));
		}
		send_cmd(d, &c);
#endif
		break;
	case PH_PROTOCOL:
		if (essp_cmd_host_protocol_version(&c, d->protocol_try) == 0)
			send_cmd(d, &c);
		else
			no_answer(d, "protocol version out of range");
		break;
	case PH_SETUP:
		essp_cmd_setup_request(&c);
		send_cmd(d, &c);
		break;
	case PH_SERIAL:
		essp_cmd_get_serial(&c);
		send_cmd(d, &c);
		break;
	case PH_DISABLE:
		essp_cmd_disable(&c);
		send_cmd(d, &c);
		break;
	case PH_SETTLE:
		settle_begin(d);
		d->settle = SETTLE_LIST;
		if (d->ev_blocked && (!process_events(d) || d->phase != PH_SETTLE))
			break; /* the last session's events first; the retry timer lists after them */
		settle_list_or_wait(d);
		break;
	case PH_INHIBITS:
		d->want_mask = mask_for(d);
		essp_cmd_set_inhibits(&c, d->want_mask);
		send_cmd(d, &c);
		break;
	case PH_ENABLE:
		if (d->want_enabled) {
			essp_cmd_enable(&c);
			send_cmd(d, &c);
		} else {
			enter(d, PH_RUN, "kiosk wants it disabled");
		}
		break;
	case PH_RUN:
		set_fault(d, CASH_FAULT_NO_ANSWER, false);
		set_fault(d, CASH_FAULT_DISCONNECTED, false);
		LOG_INFO("%s: %s ready, protocol %u%s, %s", d->name, d->device, d->protocol,
			 d->crypto_on ? ", encrypted" : "", d->dev_enabled ? "enabled" : "disabled");
		d->need_poll = true;
		pump(d);
		break;
	case PH_COUNT:
		break;
	}
}

/*
 * Invariant 10: the time to the next POLL. idle_poll_ms only in RUN with the acceptor
 * disabled, neither wanted enabled nor reported enabled, no note in the path and no event
 * waiting: then nothing can be inserted and a POLL can only bring a fault, which it still
 * does within idle_poll_ms (GA973 §7.4 allows polls up to 1000 ms apart; the device's own
 * 10 s no-command timeout only disables it, which it already is). Anything else, SETTLE's
 * polls included, keeps poll_ms. drv_enable drops an idle timer, so an enabled acceptor
 * never waits out the idle period to be polled.
 */
static uint32_t poll_period(const struct essp_cash *d)
{
	bool idle = d->phase == PH_RUN && !d->want_enabled && !d->dev_enabled && d->cur.ph == NOTE_NONE &&
		    !d->ev_blocked;
	return idle ? d->cfg.idle_poll_ms : d->cfg.poll_ms;
}

/*
 * Picks the next command in RUN and SETTLE: the note's needs first, then the kiosk's
 * requests, then the poll (or HOLD while the kiosk decides, invariant 3) every poll_ms.
 */
static void pump(struct essp_cash *d)
{
	if (d->busy || d->in_step || (d->phase != PH_RUN && d->phase != PH_SETTLE))
		return;
	if (d->ev_blocked && !process_events(d))
		return;
	if (d->phase != PH_RUN && d->phase != PH_SETTLE)
		return; /* the events asked for a new session */
	if (d->phase == PH_SETTLE && d->settle == SETTLE_LIST) {
		if (!d->retry_timer)
			settle_list_or_wait(d);
		return;
	}
	struct essp_cmd c;
	bool run = d->phase == PH_RUN;
	if (d->cur.ph == NOTE_READ) {
		essp_cmd_get_counters(&c);
		send_cmd(d, &c);
	} else if (d->cur.ph == NOTE_RETURNING && !d->cur.reject_sent) {
		d->cur.reject_sent = true;
		essp_cmd_reject(&c);
		if (send_cmd(d, &c))
			checkpoint(d, "return-sent");
	} else if (d->need_last_reject) {
		d->need_last_reject = false;
		essp_cmd_last_reject_code(&c);
		send_cmd(d, &c);
	} else if (run && d->need_inhibits) {
		d->need_inhibits = false;
		d->want_mask = mask_for(d);
		essp_cmd_set_inhibits(&c, d->want_mask);
		send_cmd(d, &c);
	} else if (run && d->need_disable) {
		d->need_disable = false;
		d->need_enable = false;
		essp_cmd_disable(&c);
		send_cmd(d, &c);
	} else if (run && d->need_enable) {
		d->need_enable = false;
		if (d->want_enabled) {
			essp_cmd_enable(&c);
			send_cmd(d, &c);
		} else {
			pump(d);
		}
	} else if (!run && d->settle == SETTLE_COUNTERS && !d->retry_timer) {
		essp_cmd_get_counters(&c);
		send_cmd(d, &c);
	} else if (d->need_poll) {
		d->need_poll = false;
		cancel(d, &d->poll_timer);
		if (d->cur.ph == NOTE_HELD) {
			essp_cmd_hold(&c);
			send_cmd(d, &c);
		} else {
			bool accepting = d->cur.ph == NOTE_ACCEPTED && !d->cur.accept_sent;
			essp_cmd_poll(&c);
			if (send_cmd(d, &c) && accepting) {
				d->cur.accept_sent = true;
				checkpoint(d, "accept-sent");
			}
		}
	} else if (!d->poll_timer) {
		d->poll_timer = core_timer_add(d->timers, poll_period(d), on_poll_timer, d);
	}
}

/* ---- Frames from the device (invariant 2) ---- */

static void handle_frame(struct essp_cash *d, const struct essp_frame *f)
{
	if (!d->busy || f->seqid != d->pkt.seqid || f->len == 0) {
		d->n_stale++;
		LOG_DBG("%s: dropped a frame (seq/id 0x%02x, %u bytes): nothing outstanding matches", d->name, f->seqid,
			f->len);
		return;
	}
	const uint8_t *data = f->data;
	size_t len = f->len;
#ifdef ESSP_HAVE_CRYPTO
	uint8_t plain[ESSP_DATA_MAX];
	if (d->sealed && data[0] == ESSP_STEX) {
		struct kio_error err = {0};
		if (essp_crypto_host_open(&d->crypto, data, len, plain, &len, &err) != 0 || len == 0) {
			/* GA138: a packet that fails to decrypt or count is not acted on; the timeout
			 * re-sends and the device repeats its reply. */
			d->n_bad++;
			LOG_WARN("%s: reply to %s dropped: %s", d->name, essp_cmd_name(d->cmd), err.msg);
			return;
		}
		data = plain;
	} else if (d->sealed && data[0] == ESSP_RESP_OK) {
		/* Replies carrying data must be encrypted once keys are set (GA138). */
		d->n_bad++;
		LOG_WARN("%s: plain OK to a sealed %s dropped", d->name, essp_cmd_name(d->cmd));
		return;
	}
#endif
	struct kio_error err = {0};
	if (essp_seq_on_reply(&d->seq, &d->pkt, f, &err) != 0)
		return;
	cancel(d, &d->reply_timer);
	d->busy = false;
	uint8_t cmd = d->cmd;
	d->in_step = true;
	step(d, cmd, data, len);
	d->in_step = false;
}

static void drv_service(struct cash_unit *u)
{
	struct essp_cash *d = drv_of(u);
	if (d->phase == PH_OFFLINE) {
		/* A wake while offline may be the device coming back: try now, not in a while. */
		struct kio_error err = {0};
		if (transport_reopen(d->t, &err) == 0)
			enter(d, PH_SYNC, "transport reopened");
		return;
	}
	uint8_t buf[512];
	for (;;) {
		ssize_t n = transport_read(d->t, buf, sizeof(buf));
		if (n < 0) {
			link_lost(d);
			return;
		}
		if (n == 0)
			break;
		size_t off = 0;
		while (off < (size_t)n) {
			size_t used = 0;
			struct essp_frame f;
			enum essp_dec_result r = essp_decoder_feed(&d->dec, buf + off, (size_t)n - off, &used, &f);
			off += used;
			if (r == ESSP_DEC_FRAME) {
				handle_frame(d, &f);
				if (d->phase == PH_OFFLINE)
					return;
			} else if (r == ESSP_DEC_BAD_CRC) {
				d->n_bad++;
				LOG_DBG("%s: frame with a bad CRC dropped", d->name);
			}
		}
	}
	if (!transport_connected(d->t)) {
		link_lost(d);
		return;
	}
	pump(d);
}

/* ---- The cash_unit face ---- */

static int drv_enable(struct cash_unit *u, const int64_t *accepted_fils, size_t n)
{
	struct essp_cash *d = drv_of(u);
	if (n > CASH_MAX_DENOMS)
		return KIO_ERR_INVALID;
	for (size_t i = 0; i < n; i++)
		if (accepted_fils[i] <= 0)
			return KIO_ERR_INVALID;
	memcpy(d->want_fils, accepted_fils, n * sizeof(*accepted_fils));
	d->n_want = n;
	d->want_enabled = true;
	d->need_disable = false;
	d->need_inhibits = true;
	d->need_enable = true;
	cancel(d, &d->poll_timer); /* an idle period's timer (invariant 10); pump sets the next */
	pump(d);
	return 0;
}

static int drv_disable(struct cash_unit *u)
{
	struct essp_cash *d = drv_of(u);
	d->want_enabled = false;
	d->need_enable = false;
	d->need_disable = true;
	pump(d);
	return 0;
}

static int drv_escrow_accept(struct cash_unit *u)
{
	struct essp_cash *d = drv_of(u);
	if (d->cur.ph != NOTE_HELD || d->phase != PH_RUN)
		return KIO_ERR_BUSY;
	struct kio_error err = {0};
	int rc = cash_journal_advance(d->journal, d->cur.j.id, CASH_NOTE_ACCEPTED, "kiosk: accept", &err);
	if (rc) {
		LOG_ERR("%s: accept of note %" PRId64 " not recorded: %s", d->name, d->cur.j.id, err.msg);
		return rc;
	}
	d->cur.j.state = CASH_NOTE_ACCEPTED;
	checkpoint(d, "accept-journaled");
	cancel(d, &d->decide_timer);
	set_note(d, NOTE_ACCEPTED);
	d->need_poll = true; /* the next POLL accepts it (GA973 §8 "Accept note") */
	pump(d);
	return 0;
}

static int drv_escrow_return(struct cash_unit *u)
{
	struct essp_cash *d = drv_of(u);
	if (d->cur.ph != NOTE_HELD || d->phase != PH_RUN)
		return KIO_ERR_BUSY;
	cancel(d, &d->decide_timer);
	d->cur.reject_sent = false;
	set_note(d, NOTE_RETURNING);
	pump(d);
	return 0;
}

static void drv_get_status(struct cash_unit *u, struct cash_status *out)
{
	struct essp_cash *d = drv_of(u);
	static const enum cash_fault order[] = {CASH_FAULT_DISCONNECTED, CASH_FAULT_NO_ANSWER, CASH_FAULT_JAM,
						CASH_FAULT_CASHBOX_REMOVED, CASH_FAULT_STACKER_FULL, CASH_FAULT_FRAUD,
						CASH_FAULT_UNDECIDED};
	memset(out, 0, sizeof(*out));
	out->fault = CASH_FAULT_NONE;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (fault_on(d, order[i])) {
			out->fault = order[i];
			break;
		}
	}
	if (fault_on(d, CASH_FAULT_DISCONNECTED) || fault_on(d, CASH_FAULT_NO_ANSWER) || d->phase < PH_SETTLE)
		out->state = DEV_STATE_OFFLINE;
	else if (out->fault != CASH_FAULT_NONE || d->phase != PH_RUN)
		out->state = DEV_STATE_FAULT;
	else
		out->state = DEV_STATE_OK;
	out->enabled = d->want_enabled && d->dev_enabled && d->phase == PH_RUN;
	out->escrow_held = d->cur.ph == NOTE_HELD;
	out->escrow_fils = out->escrow_held ? d->cur.fils : 0;
	/* Denominations in ascending value; channels sharing a value (paper and polymer
	 * series) add up. Counts are the notes stacked since the driver started. */
	for (size_t ch = 0; ch < ESSP_CHANNELS_MAX; ch++) {
		int64_t v = d->ch_fils[ch];
		if (v <= 0)
			continue;
		size_t k = 0;
		while (k < out->n_denoms && out->denoms_fils[k] < v)
			k++;
		if (k == out->n_denoms || out->denoms_fils[k] != v) {
			memmove(&out->denoms_fils[k + 1], &out->denoms_fils[k], (out->n_denoms - k) * sizeof(int64_t));
			memmove(&out->counts[k + 1], &out->counts[k], (out->n_denoms - k) * sizeof(uint32_t));
			out->denoms_fils[k] = v;
			out->counts[k] = 0;
			out->n_denoms++;
		}
		out->counts[k] += d->counts[ch];
	}
}

static void drv_destroy(struct cash_unit *u)
{
	struct essp_cash *d = drv_of(u);
	if (!d)
		return;
	cancel(d, &d->reply_timer);
	cancel(d, &d->poll_timer);
	cancel(d, &d->retry_timer);
	cancel(d, &d->decide_timer);
	cancel(d, &d->fraud_timer);
	free(d->older);
	free(d->undecided_ids);
	free(d);
}

static const struct cash_unit_ops essp_cash_ops = {
	.enable = drv_enable,
	.disable = drv_disable,
	.escrow_accept = drv_escrow_accept,
	.escrow_return = drv_escrow_return,
	.get_status = drv_get_status,
	.service = drv_service,
	.destroy = drv_destroy,
};

void essp_cash_config_default(struct essp_cash_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->name = "cash";
	cfg->address = ESSP_ADDR_VALIDATOR;
	cfg->poll_ms = 200;
	cfg->idle_poll_ms = 1000;
	cfg->reply_timeout_ms = 1000;
	cfg->retries = 3;
	cfg->protocol_version = 7;
	cfg->fixed_key = 0x0123456701234567ull;
	cfg->reconnect_ms = 2000;
	cfg->escrow_decide_ms = 30000;
	cfg->fraud_clear_ms = 30000;
}

int essp_cash_new(struct transport *t, struct core_timers *timers, const struct essp_cash_config *cfg,
		  struct cash_journal *journal, struct cash_unit **out, struct kio_error *err)
{
	struct essp_cash_config def;
	if (!cfg) {
		essp_cash_config_default(&def);
		cfg = &def;
	}
	if (!t || !timers || !journal)
		return kio_fail(err, KIO_ERR_INVALID, "essp-cash: transport, timers and journal are required");
	if (cfg->address > ESSP_ADDR_MAX || cfg->poll_ms == 0 || cfg->idle_poll_ms < cfg->poll_ms ||
	    cfg->reply_timeout_ms == 0 ||
	    cfg->reconnect_ms == 0 || cfg->protocol_version < ESSP_PROTOCOL_MIN ||
	    cfg->protocol_version > ESSP_PROTOCOL_MAX)
		return kio_fail(err, KIO_ERR_INVALID, "essp-cash: bad config (address 0x%02x, protocol %u)",
				cfg->address, cfg->protocol_version);
#ifndef ESSP_HAVE_CRYPTO
	if (cfg->encryption)
		return kio_fail(err, KIO_ERR_UNSUPPORTED, "essp-cash: built without eSSP encryption (nettle)");
#endif
	struct essp_cash *d = xcalloc(1, sizeof(*d));
	d->cfg = *cfg;
	snprintf(d->name, sizeof(d->name), "%s", cfg->name ? cfg->name : "cash");
	d->cfg.name = d->name;
	d->base.ops = &essp_cash_ops;
	d->base.name = d->name;
	d->t = t;
	d->timers = timers;
	d->journal = journal;
	d->older_cap = 8;
	d->older = xcalloc(d->older_cap, sizeof(*d->older));
	d->phase = PH_OFFLINE;
	*out = &d->base;
	if (transport_connected(t)) {
		enter(d, PH_SYNC, "start");
	} else {
		/* Absent at start is the same state as unplugged later: say so, not "starting". */
		set_fault(d, CASH_FAULT_DISCONNECTED, true);
		enter(d, PH_OFFLINE, "start: no device");
	}
	return 0;
}

void essp_cash_get_info(struct cash_unit *u, struct essp_cash_info *out)
{
	struct essp_cash *d = drv_of(u);
	memset(out, 0, sizeof(*out));
	out->phase = phase_names[d->phase];
	snprintf(out->device, sizeof(out->device), "%s", d->device);
	out->serial = d->serial;
	out->protocol = d->protocol;
	out->encrypted = d->crypto_on;
	memcpy(out->firmware, d->setup.firmware, sizeof(out->firmware));
	out->counters_known = d->counters_known;
	out->counters = d->counters;
	out->last_reject = d->last_reject;
	out->note_id = d->cur.journaled ? d->cur.j.id : 0;
	out->commands = d->n_commands;
	out->resends = d->n_resends;
	out->stale_frames = d->n_stale;
	out->bad_frames = d->n_bad;
	out->resyncs = d->n_resyncs;
}
