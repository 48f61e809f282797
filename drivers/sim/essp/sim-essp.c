/*
 * The simulated SSP banknote validator: decodes host frames, applies the sequence-bit
 * rule, executes commands against a note-path state machine and frames the replies.
 *
 * Note path (one step per POLL, as in GA973 §8's flows; time moves only the escrow and
 * comms timers):
 *
 *   NONE --insert--> READING --poll: READ 0--> VALIDATING
 *   VALIDATING --poll--> ESCROW     (READ ch; genuine note, channel enabled)
 *                    \-> RETURNED   (REJECTING; fake or inhibited channel)
 *                    \-> NONE       (FRAUD ATTEMPT ch; fraud fault)
 *                    \-> JAMMED     (UNSAFE JAM; jam fault)
 *   ESCROW --poll (accept): STACKING--> STACKING
 *          --REJECT / escrow timeout--> REJECTING --poll: REJECTING--> RETURNED
 *          --any other command: timer restarts (GA138 Hold)
 *   STACKING --poll: CREDIT ch, STACKING--> CREDITED --poll: STACKED (+STACKER FULL)--> NONE
 *   RETURNED --poll: REJECTED--> NONE
 *
 * Invariants:
 *  1. A command is executed at most once per sequence flag: a frame with the flag of
 *     the last executed one gets the stored reply, byte for byte (GA138 Transport Layer).
 *  2. NOTE CREDIT is pushed exactly once per note, on the STACKING→CREDITED step; the
 *     cashbox and the stacked counter grow exactly once per note, on STACKED or on
 *     NOTE CLEARED INTO CASHBOX at power-up, never both.
 *  3. Under POLL WITH ACK, events that need an ack stay queued, and the note path does
 *     not move, until EVENT ACK (GA138 Poll With Ack).
 *  4. Events not defined at the protocol version in force are not reported (GA138 Host
 *     Protocol Version: hosts only see events they know the length of).
 *  5. In eSSP mode, a command runs only if it came sealed with the expected eCOUNT under the
 *     negotiated key (SYNC and the key exchange excepted); the count moves once per command
 *     run, and its reply carries the new count (GA138 Encryption Layer, as the ITL SDK).
 *     A repeat (same flag) gets the stored sealed reply, byte for byte, not a new seal.
 */
#define LOG_MODULE "sim-essp"
#include "sim-essp.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/core/bytebuf.h"
#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"

#define QUEUE_MAX 64

struct queued_event {
	uint8_t code;
	uint8_t data;
};

struct sim_essp {
	struct sim_essp_config cfg;
	bool fault[SIM_ESSP_FAULT_COUNT];
	uint64_t now;

	/* Volatile: lost at power-up or RESET. */
	bool enabled;
	uint16_t inhibits;
	uint8_t protocol;
	int last_flag; /* -1 until the first frame after power-up */
	uint8_t last_reply[ESSP_WIRE_MAX];
	size_t last_reply_len;
	bool reset_pending;
	struct queued_event queue[QUEUE_MAX];
	size_t n_queue;
	struct essp_decoder dec;
	struct core_bytebuf out; /* replies not yet read by the host */
	uint64_t escrow_ref;
	uint64_t last_cmd;
	/* eSSP (volatile: the key is lost at power-up and RESET, GA138). */
	uint64_t dh_gen, dh_mod;
	bool key_set;
	struct essp_frame inner; /* the opened command of a sealed packet */
	uint8_t last_plain_resp; /* for the log */
#ifdef ESSP_HAVE_CRYPTO
	struct essp_crypto crypto;
#endif

	/* Persistent: kept across power cycles and in sim_essp_save. */
	uint32_t serial;
	enum sim_essp_note note;
	uint8_t note_ch;
	bool note_fake;
	/* The customer keeps hold of the note under the sensors: it stays VALIDATING (READ 0
	 * reported, no channel yet) until released. Not saved: a power cut lets go of it. */
	bool note_held;
	uint8_t note_reject; /* reason the note will be rejected with */
	bool full_latched;
	struct essp_counters counters;
	uint32_t cashbox[ESSP_CHANNELS_MAX];
	uint8_t last_reject;

	unsigned drop_replies, drop_commands, dup_replies, corrupt_replies;
	uint8_t refuse_code;
	unsigned refuse_n;
	uint64_t executed, repeats, resets, power_ups;
};

static const char *const note_names[SIM_ESSP_NOTE_COUNT] = {
	"none", "reading", "validating", "escrow", "stacking", "credited", "rejecting", "returned", "jammed",
};

static const char *const fault_names[SIM_ESSP_FAULT_COUNT] = {
	"jam", "stacker-full", "cashbox-removed", "fraud", "no-answer", "disconnect",
};

const char *sim_essp_note_name(enum sim_essp_note note)
{
	return note < SIM_ESSP_NOTE_COUNT ? note_names[note] : "?";
}

const char *sim_essp_fault_name(enum sim_essp_fault fault)
{
	return fault < SIM_ESSP_FAULT_COUNT ? fault_names[fault] : "?";
}

void sim_essp_config_default(struct sim_essp_config *cfg)
{
	static const int64_t aed[] = {500, 1000, 2000, 5000, 10000, 20000, 50000, 100000};
	memset(cfg, 0, sizeof(*cfg));
	cfg->addr = ESSP_ADDR_VALIDATOR;
	cfg->serial = 0x001C962C; /* GA138's Get Serial Number example */
	memcpy(cfg->firmware, "0334", 5);
	cfg->n_channels = sizeof(aed) / sizeof(aed[0]);
	memcpy(cfg->channel_fils, aed, sizeof(aed));
	cfg->max_protocol = 7;
	/* The lowest version: GA973 §6 has the host set its version first so no event is lost. */
	cfg->power_up_protocol = 4;
	cfg->escrow_timeout_ms = 10000;
	cfg->comms_timeout_ms = 10000;
	cfg->fixed_key = 0x0123456701234567ull; /* GA973 §6.2.2 */
}

static int check_config(const struct sim_essp_config *cfg, struct kio_error *err)
{
	if (cfg->n_channels < 1 || cfg->n_channels > ESSP_CHANNELS_MAX)
		return kio_fail(err, KIO_ERR_INVALID, "sim-essp: %zu channels (1..16)", cfg->n_channels);
	bool any = false;
	for (size_t i = 0; i < cfg->n_channels; i++) {
		int64_t v = cfg->channel_fils[i];
		if (v < 0 || v % 100 != 0 || v / 100 > UINT32_MAX)
			return kio_fail(err, KIO_ERR_INVALID, "sim-essp: channel %zu value %" PRId64 " fils is not whole AED",
					i + 1, v);
		any |= v > 0;
	}
	if (!any)
		return kio_fail(err, KIO_ERR_INVALID, "sim-essp: dataset has no notes");
	if (cfg->max_protocol < ESSP_PROTOCOL_MIN || cfg->max_protocol > ESSP_PROTOCOL_MAX ||
	    cfg->power_up_protocol < ESSP_PROTOCOL_MIN || cfg->power_up_protocol > cfg->max_protocol)
		return kio_fail(err, KIO_ERR_INVALID, "sim-essp: protocol versions %u/%u out of range",
				cfg->power_up_protocol, cfg->max_protocol);
	if (cfg->addr > ESSP_ADDR_MAX)
		return kio_fail(err, KIO_ERR_INVALID, "sim-essp: address 0x%02x", cfg->addr);
#ifndef ESSP_HAVE_CRYPTO
	if (cfg->encryption)
		return kio_fail(err, KIO_ERR_UNSUPPORTED, "sim-essp: eSSP mode needs a build with nettle");
#endif
	return 0;
}

static void push_event(struct sim_essp *m, uint8_t code, uint8_t data)
{
	/* A host that never polls must not grow us without bound; the oldest are kept. */
	if (m->n_queue == QUEUE_MAX) {
		LOG_WARN("event queue full, dropping 0x%02x %s", code, essp_event_name(code));
		return;
	}
	m->queue[m->n_queue++] = (struct queued_event){code, data};
}

static bool ack_pending(const struct sim_essp *m)
{
	for (size_t i = 0; i < m->n_queue; i++)
		if (essp_event_needs_ack(m->queue[i].code))
			return true;
	return false;
}

static void set_note(struct sim_essp *m, enum sim_essp_note note)
{
	if (m->note != note)
		LOG_DBG("note %s -> %s (ch %u)", note_names[m->note], note_names[note], m->note_ch);
	m->note = note;
}

static void to_cashbox(struct sim_essp *m)
{
	m->counters.stacked++;
	if (m->note_ch >= 1 && m->note_ch <= m->cfg.n_channels)
		m->cashbox[m->note_ch - 1]++;
}

static uint32_t cashbox_total(const struct sim_essp *m)
{
	uint32_t n = 0;
	for (size_t i = 0; i < m->cfg.n_channels; i++)
		n += m->cashbox[i];
	return n;
}

/* Power-up as GA138 describes it: SLAVE RESET, and a note found in the path is either
 * returned through the bezel (CLEARED FROM FRONT) or, past the stacker gate, pushed into
 * the cashbox (CLEARED INTO CASHBOX); channel given when known. */
static void power_up(struct sim_essp *m, bool lose_output)
{
	m->enabled = false;
	m->inhibits = 0;
	m->protocol = m->cfg.power_up_protocol;
	m->last_flag = -1;
	m->last_reply_len = 0;
	m->dh_gen = m->dh_mod = 0;
	m->key_set = false;
	m->reset_pending = false;
	m->n_queue = 0;
	essp_decoder_init(&m->dec);
	/* After RESET the reply is already on the wire; a power cut loses what was in flight. */
	if (lose_output)
		core_bytebuf_clear(&m->out);
	m->last_cmd = m->now;
	m->escrow_ref = m->now;
	/* Emptying the box is done with the power off; a still-full box stays full. */
	m->full_latched = m->fault[SIM_ESSP_FAULT_STACKER_FULL];
	m->power_ups++;

	push_event(m, ESSP_EV_SLAVE_RESET, 0);
	switch (m->note) {
	case SIM_ESSP_NOTE_NONE:
		break;
	case SIM_ESSP_NOTE_READING:
	case SIM_ESSP_NOTE_VALIDATING:
	case SIM_ESSP_NOTE_REJECTING:
	case SIM_ESSP_NOTE_RETURNED:
		push_event(m, ESSP_EV_CLEARED_FROM_FRONT, 0);
		set_note(m, SIM_ESSP_NOTE_NONE);
		break;
	case SIM_ESSP_NOTE_ESCROW:
		push_event(m, ESSP_EV_CLEARED_FROM_FRONT, m->note_ch);
		set_note(m, SIM_ESSP_NOTE_NONE);
		break;
	case SIM_ESSP_NOTE_STACKING:
	case SIM_ESSP_NOTE_CREDITED:
		push_event(m, ESSP_EV_CLEARED_INTO_CASHBOX, m->note_ch);
		to_cashbox(m);
		set_note(m, SIM_ESSP_NOTE_NONE);
		break;
	case SIM_ESSP_NOTE_JAMMED:
		/* An unsafe jam sits where the customer can reach it (GA973 "Unsafe jam"). */
		if (!m->fault[SIM_ESSP_FAULT_JAM]) {
			push_event(m, ESSP_EV_CLEARED_FROM_FRONT, m->note_ch);
			set_note(m, SIM_ESSP_NOTE_NONE);
		}
		break;
	case SIM_ESSP_NOTE_COUNT:
		break;
	}
	if (m->note == SIM_ESSP_NOTE_NONE) {
		m->note_ch = 0;
		m->note_fake = false;
	}
	LOG_DBG("power-up %" PRIu64 ", note %s", m->power_ups, note_names[m->note]);
}

static struct sim_essp *alloc_model(const struct sim_essp_config *cfg, uint64_t now_ms, struct kio_error *err)
{
	struct sim_essp_config def;
	if (!cfg) {
		sim_essp_config_default(&def);
		cfg = &def;
	}
	if (check_config(cfg, err))
		return NULL;
	struct sim_essp *m = xcalloc(1, sizeof(*m));
	m->cfg = *cfg;
	m->cfg.firmware[4] = '\0';
	m->serial = cfg->serial;
	m->now = now_ms;
	return m;
}

struct sim_essp *sim_essp_new(const struct sim_essp_config *cfg, uint64_t now_ms, struct kio_error *err)
{
	struct sim_essp *m = alloc_model(cfg, now_ms, err);
	if (m)
		power_up(m, true);
	return m;
}

void sim_essp_free(struct sim_essp *m)
{
	if (!m)
		return;
	core_bytebuf_free(&m->out);
	free(m);
}

void sim_essp_power_cycle(struct sim_essp *m, uint64_t now_ms)
{
	m->now = now_ms;
	power_up(m, true);
}

/* ---- Persistence ---- */

void sim_essp_memory_get(const struct sim_essp *m, struct sim_essp_memory *out)
{
	memset(out, 0, sizeof(*out));
	out->serial = m->serial;
	out->n_channels = (uint32_t)m->cfg.n_channels;
	out->counters = m->counters;
	for (size_t i = 0; i < m->cfg.n_channels && i < ESSP_CHANNELS_MAX; i++)
		out->cashbox[i] = m->cashbox[i];
	out->note = (uint32_t)m->note;
	out->note_ch = m->note_ch;
	out->note_fake = m->note_fake;
	out->note_reject = m->note_reject;
	out->last_reject = m->last_reject;
	out->fault[0] = m->fault[SIM_ESSP_FAULT_JAM];
	out->fault[1] = m->fault[SIM_ESSP_FAULT_STACKER_FULL];
	out->fault[2] = m->fault[SIM_ESSP_FAULT_CASHBOX_REMOVED];
	out->fault[3] = m->fault[SIM_ESSP_FAULT_FRAUD];
}

char *sim_essp_save(const struct sim_essp *m)
{
	/* Written from the snapshot, so what callers compare is exactly what is saved. */
	struct sim_essp_memory mem;
	sim_essp_memory_get(m, &mem);
	char cashbox[ESSP_CHANNELS_MAX * 11 + 1] = "";
	size_t pos = 0;
	for (size_t i = 0; i < mem.n_channels && i < ESSP_CHANNELS_MAX; i++)
		pos += (size_t)snprintf(cashbox + pos, sizeof(cashbox) - pos, " %" PRIu32, mem.cashbox[i]);
	const struct essp_counters *c = &mem.counters;
	return xasprintf("sim-essp-state 1\n"
			 "serial %" PRIu32 "\n"
			 "counters %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32 "\n"
			 "cashbox %" PRIu32 "%s\n"
			 "note %s %u %u %u\n"
			 "last_reject %u\n"
			 "faults %d %d %d %d\n",
			 mem.serial, c->stacked, c->stored, c->dispensed, c->transferred, c->rejected,
			 mem.n_channels, cashbox, sim_essp_note_name((enum sim_essp_note)mem.note), mem.note_ch,
			 mem.note_fake, mem.note_reject, mem.last_reject, mem.fault[0], mem.fault[1], mem.fault[2],
			 mem.fault[3]);
}

static int load_line(struct sim_essp *m, const char *line, unsigned *seen)
{
	unsigned a, b, c, d;
	int e, f, g, h;
	char word[32];
	struct essp_counters *k = &m->counters;

	if (sscanf(line, "serial %" SCNu32, &m->serial) == 1) {
		*seen |= 1;
	} else if (sscanf(line, "counters %" SCNu32 " %" SCNu32 " %" SCNu32 " %" SCNu32 " %" SCNu32, &k->stacked,
			  &k->stored, &k->dispensed, &k->transferred, &k->rejected) == 5) {
		*seen |= 2;
	} else if (strncmp(line, "cashbox ", 8) == 0) {
		const char *p = line + 8;
		char *end;
		unsigned long n = strtoul(p, &end, 10);
		if (end == p || n != m->cfg.n_channels)
			return -1;
		for (size_t i = 0; i < n; i++) {
			p = end;
			unsigned long v = strtoul(p, &end, 10);
			if (end == p || v > UINT32_MAX)
				return -1;
			m->cashbox[i] = (uint32_t)v;
		}
		*seen |= 4;
	} else if (sscanf(line, "note %31s %u %u %u", word, &a, &b, &c) == 4) {
		int found = -1;
		for (int i = 0; i < SIM_ESSP_NOTE_COUNT; i++)
			if (strcmp(word, note_names[i]) == 0)
				found = i;
		if (found < 0 || a > m->cfg.n_channels || b > 1 || c > 0xFF)
			return -1;
		m->note = (enum sim_essp_note)found;
		m->note_ch = (uint8_t)a;
		m->note_fake = b;
		m->note_reject = (uint8_t)c;
		*seen |= 8;
	} else if (sscanf(line, "last_reject %u", &d) == 1 && d <= 0xFF) {
		m->last_reject = (uint8_t)d;
		*seen |= 16;
	} else if (sscanf(line, "faults %d %d %d %d", &e, &f, &g, &h) == 4 && !((e | f | g | h) & ~1)) {
		m->fault[SIM_ESSP_FAULT_JAM] = e;
		m->fault[SIM_ESSP_FAULT_STACKER_FULL] = f;
		m->fault[SIM_ESSP_FAULT_CASHBOX_REMOVED] = g;
		m->fault[SIM_ESSP_FAULT_FRAUD] = h;
		*seen |= 32;
	} else {
		return -1;
	}
	return 0;
}

struct sim_essp *sim_essp_new_from_state(const struct sim_essp_config *cfg, const char *text,
					 uint64_t now_ms, struct kio_error *err)
{
	struct sim_essp *m = alloc_model(cfg, now_ms, err);
	if (!m)
		return NULL;
	if (!text || strncmp(text, "sim-essp-state 1\n", 17) != 0) {
		kio_fail(err, KIO_ERR_CORRUPT, "sim-essp: state has no 'sim-essp-state 1' header");
		goto out_free;
	}
	unsigned seen = 0;
	const char *p = text + 17;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char line[256];
		bool ok = n < sizeof(line);
		if (ok) {
			memcpy(line, p, n);
			line[n] = '\0';
			ok = load_line(m, line, &seen) == 0;
		}
		if (!ok) {
			kio_fail(err, KIO_ERR_CORRUPT, "sim-essp: bad state line '%.*s'", (int)(n < 64 ? n : 64), p);
			goto out_free;
		}
		p += n + (nl ? 1 : 0);
	}
	if (seen != 63) {
		kio_fail(err, KIO_ERR_CORRUPT, "sim-essp: state is missing lines (mask 0x%x)", seen);
		goto out_free;
	}
	/* Only sim_essp_save writes this memory, so what loads must be exactly what it would
	 * write back: sscanf alone lets through words after the numbers, signs ("-1" read as
	 * 4294967295), spaces and a repeated line (last wins), i.e. a file someone edited or a
	 * write gone wrong, which must not become the device's memory (found by fuzz_essp_sim_state). */
	char *again = sim_essp_save(m);
	size_t same = 0;
	while (again[same] && again[same] == text[same])
		same++;
	bool canonical = again[same] == text[same];
	free(again);
	if (!canonical) {
		const char *line = text + same;
		while (line > text && line[-1] != '\n')
			line--;
		size_t n = strcspn(line, "\n");
		kio_fail(err, KIO_ERR_CORRUPT, "sim-essp: state line '%.*s' is not as the model writes it",
			 (int)(n < 64 ? n : 64), line);
		goto out_free;
	}
	power_up(m, true);
	return m;

out_free:
	sim_essp_free(m);
	return NULL;
}

/* ---- Output with the link knobs ---- */

static void out_append(struct sim_essp *m, const uint8_t *buf, size_t len)
{
	core_bytebuf_append(&m->out, buf, len);
}

/*
 * Re-frames a good frame with its CRC off by one bit, stuffing kept right, so the host
 * sees a CRC failure and not a frame restart. Returns the new length in out.
 */
static size_t corrupt_crc(const uint8_t *frame, size_t len, uint8_t *out)
{
	struct essp_decoder dec;
	struct essp_frame f;
	size_t used, out_len = 0;
	essp_decoder_init(&dec);
	if (essp_decoder_feed(&dec, frame, len, &used, &f) != ESSP_DEC_FRAME)
		return 0;
	uint8_t raw[2 + ESSP_DATA_MAX + 2];
	raw[0] = f.seqid;
	raw[1] = f.len;
	memcpy(raw + 2, f.data, f.len);
	uint16_t crc = essp_crc16(0xFFFF, raw, 2 + (size_t)f.len) ^ 0x0100;
	raw[2 + f.len] = (uint8_t)crc;
	raw[3 + f.len] = (uint8_t)(crc >> 8);
	out[out_len++] = ESSP_STX;
	for (size_t i = 0; i < 4 + (size_t)f.len; i++) {
		out[out_len++] = raw[i];
		if (raw[i] == ESSP_STX)
			out[out_len++] = ESSP_STX;
	}
	return out_len;
}

static void send_reply(struct sim_essp *m)
{
	if (m->drop_replies) {
		m->drop_replies--;
		LOG_DBG("reply lost (knob)");
		return;
	}
	uint8_t buf[ESSP_WIRE_MAX];
	size_t len = m->last_reply_len;
	memcpy(buf, m->last_reply, len);
	if (m->corrupt_replies) {
		m->corrupt_replies--;
		len = corrupt_crc(m->last_reply, m->last_reply_len, buf);
	}
	out_append(m, buf, len);
	if (m->dup_replies) {
		m->dup_replies--;
		out_append(m, buf, len);
	}
}

size_t sim_essp_read(struct sim_essp *m, uint8_t *buf, size_t cap)
{
	size_t n = m->out.len < cap ? m->out.len : cap;
	if (n == 0 || m->fault[SIM_ESSP_FAULT_DISCONNECT])
		return 0;
	memcpy(buf, m->out.data, n);
	core_bytebuf_consume(&m->out, n);
	return n;
}

size_t sim_essp_pending(const struct sim_essp *m)
{
	return m->fault[SIM_ESSP_FAULT_DISCONNECT] ? 0 : m->out.len;
}

bool sim_essp_connected(const struct sim_essp *m)
{
	return !m->fault[SIM_ESSP_FAULT_DISCONNECT];
}

/* ---- Replies ---- */

struct reply {
	uint8_t data[ESSP_DATA_MAX];
	size_t len;
};

static void put(struct reply *r, uint8_t b)
{
	if (r->len < sizeof(r->data))
		r->data[r->len++] = b;
}

static void put_be24(struct reply *r, uint32_t v)
{
	put(r, (uint8_t)(v >> 16));
	put(r, (uint8_t)(v >> 8));
	put(r, (uint8_t)v);
}

static void put_le32(struct reply *r, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		put(r, (uint8_t)(v >> (8 * i)));
}

static void put_str(struct reply *r, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put(r, (uint8_t)s[i]);
}

static uint32_t major(const struct sim_essp *m, size_t i)
{
	return (uint32_t)(m->cfg.channel_fils[i] / 100);
}

static uint32_t gcd(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* The short-value multiplier: the largest that fits every channel in a byte, or 0 when
 * none does (then only v6's expanded values carry the dataset, GA138). */
static uint32_t value_multiplier(const struct sim_essp *m)
{
	uint32_t g = 0;
	for (size_t i = 0; i < m->cfg.n_channels; i++)
		g = gcd(g, major(m, i));
	for (size_t i = 0; i < m->cfg.n_channels && g; i++)
		if (major(m, i) / g > 255)
			g = 0;
	return g;
}

static void reply_setup(struct sim_essp *m, struct reply *r)
{
	uint32_t mult = value_multiplier(m);
	size_t n = m->cfg.n_channels;
	put(r, ESSP_RESP_OK);
	put(r, 0x00);
	put_str(r, m->cfg.firmware, 4);
	put_str(r, "AED", 3);
	put_be24(r, mult);
	put(r, (uint8_t)n);
	for (size_t i = 0; i < n; i++)
		put(r, mult ? (uint8_t)(major(m, i) / mult) : 0);
	for (size_t i = 0; i < n; i++)
		put(r, mult ? 2 : 0); /* obsolete security byte: 2 when the multiplier is set */
	put_be24(r, 100);         /* fils per dirham */
	put(r, m->protocol);
	if (m->protocol >= 6) {
		for (size_t i = 0; i < n; i++)
			put_str(r, "AED", 3);
		for (size_t i = 0; i < n; i++)
			put_le32(r, major(m, i));
	}
}

static void reply_channel_values(struct sim_essp *m, struct reply *r)
{
	uint32_t mult = value_multiplier(m);
	size_t n = m->cfg.n_channels;
	put(r, ESSP_RESP_OK);
	put(r, (uint8_t)n);
	for (size_t i = 0; i < n; i++)
		put(r, mult ? (uint8_t)(major(m, i) / mult) : 0);
	if (m->protocol >= 6) {
		for (size_t i = 0; i < n; i++)
			put_str(r, "AED", 3);
		for (size_t i = 0; i < n; i++)
			put_le32(r, major(m, i));
	}
}

static bool accepting(const struct sim_essp *m)
{
	return m->enabled && m->inhibits && m->note != SIM_ESSP_NOTE_JAMMED && !m->full_latched &&
	       !m->fault[SIM_ESSP_FAULT_CASHBOX_REMOVED];
}

/* One poll's worth of note movement (the comment at the top draws it). */
static void advance_note(struct sim_essp *m)
{
	uint8_t ch = m->note_ch;
	switch (m->note) {
	case SIM_ESSP_NOTE_NONE:
	case SIM_ESSP_NOTE_COUNT:
		break;
	case SIM_ESSP_NOTE_READING:
		push_event(m, ESSP_EV_READ, 0);
		set_note(m, SIM_ESSP_NOTE_VALIDATING);
		break;
	case SIM_ESSP_NOTE_VALIDATING:
		if (m->note_held)
			break; /* still reading: the poll reports nothing new */
		if (m->fault[SIM_ESSP_FAULT_JAM]) {
			push_event(m, ESSP_EV_UNSAFE_JAM, 0);
			set_note(m, SIM_ESSP_NOTE_JAMMED);
		} else if (m->fault[SIM_ESSP_FAULT_FRAUD] && !m->note_fake) {
			/* GA973 "Fraud attempt": no credit follows; the note is pulled back out. */
			push_event(m, ESSP_EV_FRAUD_ATTEMPT, ch);
			m->last_reject = ESSP_REJ_FRAUD;
			set_note(m, SIM_ESSP_NOTE_NONE);
		} else if (m->note_fake || !(m->inhibits & (1u << (ch - 1)))) {
			m->last_reject = m->note_fake ? m->note_reject : ESSP_REJ_CHANNEL_INHIBIT;
			push_event(m, ESSP_EV_REJECTING, 0);
			set_note(m, SIM_ESSP_NOTE_RETURNED);
		} else {
			push_event(m, ESSP_EV_READ, ch);
			m->escrow_ref = m->now;
			set_note(m, SIM_ESSP_NOTE_ESCROW);
		}
		break;
	case SIM_ESSP_NOTE_ESCROW:
		/* A plain poll while a note is held accepts it (GA138 Read, GA973 §8). */
		push_event(m, ESSP_EV_STACKING, 0);
		set_note(m, SIM_ESSP_NOTE_STACKING);
		break;
	case SIM_ESSP_NOTE_STACKING:
		if (m->fault[SIM_ESSP_FAULT_JAM]) {
			push_event(m, ESSP_EV_UNSAFE_JAM, 0);
			set_note(m, SIM_ESSP_NOTE_JAMMED);
		} else {
			push_event(m, ESSP_EV_CREDIT, ch);
			push_event(m, ESSP_EV_STACKING, 0);
			set_note(m, SIM_ESSP_NOTE_CREDITED);
		}
		break;
	case SIM_ESSP_NOTE_CREDITED:
		push_event(m, ESSP_EV_STACKED, 0);
		to_cashbox(m);
		m->last_reject = ESSP_REJ_ACCEPTED;
		set_note(m, SIM_ESSP_NOTE_NONE);
		m->note_ch = 0;
		if (m->fault[SIM_ESSP_FAULT_STACKER_FULL] ||
		    (m->cfg.cashbox_capacity && cashbox_total(m) >= m->cfg.cashbox_capacity)) {
			m->full_latched = true;
			push_event(m, ESSP_EV_STACKER_FULL, 0);
		}
		break;
	case SIM_ESSP_NOTE_REJECTING:
		push_event(m, ESSP_EV_REJECTING, 0);
		set_note(m, SIM_ESSP_NOTE_RETURNED);
		break;
	case SIM_ESSP_NOTE_RETURNED:
		push_event(m, ESSP_EV_REJECTED, 0);
		m->counters.rejected++;
		set_note(m, SIM_ESSP_NOTE_NONE);
		m->note_ch = 0;
		m->note_fake = false;
		break;
	case SIM_ESSP_NOTE_JAMMED:
		push_event(m, ESSP_EV_UNSAFE_JAM, 0); /* repeats until cleared (GA973 "Unsafe jam") */
		break;
	}
}

static bool reply_has(const struct reply *r, uint8_t code)
{
	/* Only looks at event codes the model puts alone, so data bytes cannot alias. */
	for (size_t i = 1; i < r->len; i++)
		if (r->data[i] == code)
			return true;
	return false;
}

static void put_event(const struct sim_essp *m, struct reply *r, uint8_t code, uint8_t data)
{
	int n = essp_event_data_len(code, m->protocol);
	if (n < 0)
		return; /* invariant 4 */
	put(r, code);
	if (n > 0)
		put(r, data);
}

static void do_poll(struct sim_essp *m, struct reply *r, bool with_ack)
{
	/* A note already in the path finishes first; it reports full with STACKED. */
	if (m->fault[SIM_ESSP_FAULT_STACKER_FULL] && m->note == SIM_ESSP_NOTE_NONE)
		m->full_latched = true;
	if (!ack_pending(m))
		advance_note(m);

	put(r, ESSP_RESP_OK);
	for (size_t i = 0; i < m->n_queue; i++)
		put_event(m, r, m->queue[i].code, m->queue[i].data);
	/* Conditions, reported on every poll while they hold. */
	if (m->full_latched && !reply_has(r, ESSP_EV_STACKER_FULL))
		put_event(m, r, ESSP_EV_STACKER_FULL, 0);
	if (m->fault[SIM_ESSP_FAULT_CASHBOX_REMOVED])
		put_event(m, r, ESSP_EV_CASHBOX_REMOVED, 0);
	if (!m->enabled || m->note == SIM_ESSP_NOTE_JAMMED)
		put_event(m, r, ESSP_EV_DISABLED, 0);
	else if (!m->inhibits)
		put_event(m, r, ESSP_EV_CHANNEL_DISABLE, 0);

	size_t keep = 0;
	for (size_t i = 0; i < m->n_queue; i++)
		if (with_ack && essp_event_needs_ack(m->queue[i].code) &&
		    essp_event_data_len(m->queue[i].code, m->protocol) >= 0)
			m->queue[keep++] = m->queue[i];
	m->n_queue = keep;
}

#ifdef ESSP_HAVE_CRYPTO
static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* GA138 Set Generator / Set Modulus / Request Key Exchange: both numbers must be prime
 * (PARAMETER OUT OF RANGE otherwise); the exchange fails until both are set. The slave's
 * secret is fixed per power-up so runs are repeatable. */
static void key_exchange(struct sim_essp *m, const struct essp_frame *f, struct reply *r)
{
	if (f->len != 9) {
		put(r, ESSP_RESP_WRONG_PARAMS);
		return;
	}
	uint64_t v = get_le64(f->data + 1);
	switch (f->data[0]) {
	case ESSP_CMD_SET_GENERATOR:
	case ESSP_CMD_SET_MODULUS:
		if (!essp_is_prime(v)) {
			put(r, ESSP_RESP_PARAM_OUT_OF_RANGE);
			return;
		}
		if (f->data[0] == ESSP_CMD_SET_GENERATOR)
			m->dh_gen = v;
		else
			m->dh_mod = v;
		put(r, ESSP_RESP_OK);
		return;
	default:
		if (!m->dh_gen || !m->dh_mod) {
			put(r, ESSP_RESP_FAIL);
			return;
		}
		uint64_t secret = (0x2545F491ull + 7919ull * m->power_ups) % m->dh_mod;
		uint64_t slave = essp_dh_powmod(m->dh_gen, secret, m->dh_mod);
		essp_crypto_init(&m->crypto, m->cfg.fixed_key, essp_dh_powmod(v, secret, m->dh_mod));
		m->key_set = true;
		put(r, ESSP_RESP_OK);
		for (int i = 0; i < 8; i++)
			put(r, (uint8_t)(slave >> (8 * i)));
		return;
	}
}
#endif

static void execute(struct sim_essp *m, const struct essp_frame *f, struct reply *r)
{
	uint8_t cmd = f->data[0];
	size_t n = f->len;

	if (m->note == SIM_ESSP_NOTE_ESCROW && cmd != ESSP_CMD_POLL && cmd != ESSP_CMD_POLL_WITH_ACK)
		m->escrow_ref = m->now; /* GA138 Hold: any command but a poll restarts the timer */

	if (m->refuse_n && cmd == m->refuse_code) {
		m->refuse_n--;
		put(r, ESSP_RESP_CANNOT_PROCESS);
		return;
	}
	switch (cmd) {
	case ESSP_CMD_SYNC:
	case ESSP_CMD_DISPLAY_ON:
	case ESSP_CMD_DISPLAY_OFF:
		put(r, n == 1 ? ESSP_RESP_OK : ESSP_RESP_WRONG_PARAMS);
		break;
	case ESSP_CMD_RESET:
		put(r, ESSP_RESP_OK);
		m->reset_pending = true;
		break;
	case ESSP_CMD_HOST_PROTOCOL_VERSION:
		if (n != 2) {
			put(r, ESSP_RESP_WRONG_PARAMS);
		} else if (f->data[1] < ESSP_PROTOCOL_MIN || f->data[1] > m->cfg.max_protocol) {
			put(r, ESSP_RESP_FAIL);
		} else {
			m->protocol = f->data[1];
			put(r, ESSP_RESP_OK);
		}
		break;
	case ESSP_CMD_SETUP_REQUEST:
		reply_setup(m, r);
		break;
	case ESSP_CMD_SET_INHIBITS:
		/* One byte for channels 1-8 or two for 1-16 (GA138 Set Inhibits, non-NV200). */
		if (n != 2 && n != 3) {
			put(r, ESSP_RESP_WRONG_PARAMS);
		} else {
			m->inhibits = (uint16_t)(f->data[1] | (n == 3 ? f->data[2] << 8 : 0));
			m->inhibits &= (uint16_t)((1u << m->cfg.n_channels) - 1);
			put(r, ESSP_RESP_OK);
		}
		break;
	case ESSP_CMD_ENABLE:
		if (m->note == SIM_ESSP_NOTE_JAMMED) {
			put(r, ESSP_RESP_CANNOT_PROCESS);
		} else {
			m->enabled = true;
			put(r, ESSP_RESP_OK);
		}
		break;
	case ESSP_CMD_DISABLE:
		m->enabled = false;
		put(r, ESSP_RESP_OK);
		break;
	case ESSP_CMD_POLL:
		do_poll(m, r, false);
		break;
	case ESSP_CMD_POLL_WITH_ACK:
		if (m->cfg.poll_with_ack)
			do_poll(m, r, true);
		else
			put(r, ESSP_RESP_UNKNOWN_COMMAND);
		break;
	case ESSP_CMD_EVENT_ACK:
		if (!m->cfg.poll_with_ack) {
			put(r, ESSP_RESP_UNKNOWN_COMMAND);
		} else {
			size_t keep = 0;
			for (size_t i = 0; i < m->n_queue; i++)
				if (!essp_event_needs_ack(m->queue[i].code))
					m->queue[keep++] = m->queue[i];
			m->n_queue = keep;
			put(r, ESSP_RESP_OK);
		}
		break;
	case ESSP_CMD_REJECT:
		/* Nothing held: COMMAND CANNOT BE PROCESSED (GA973 "Reject note"). */
		if (m->note != SIM_ESSP_NOTE_ESCROW) {
			put(r, ESSP_RESP_CANNOT_PROCESS);
		} else {
			m->last_reject = ESSP_REJ_BY_HOST;
			set_note(m, SIM_ESSP_NOTE_REJECTING);
			put(r, ESSP_RESP_OK);
		}
		break;
	case ESSP_CMD_HOLD:
		/* GA973 "Hold note" answers 0xF5 with nothing held; GA138's example shows 0xF8. */
		put(r, m->note == SIM_ESSP_NOTE_ESCROW ? ESSP_RESP_OK : ESSP_RESP_CANNOT_PROCESS);
		break;
	case ESSP_CMD_LAST_REJECT_CODE:
		put(r, ESSP_RESP_OK);
		put(r, m->last_reject);
		break;
	case ESSP_CMD_GET_SERIAL:
		put(r, ESSP_RESP_OK);
		put(r, (uint8_t)(m->serial >> 24));
		put_be24(r, m->serial & 0xFFFFFF);
		break;
	case ESSP_CMD_UNIT_DATA:
		put(r, ESSP_RESP_OK);
		put(r, 0x00);
		put_str(r, m->cfg.firmware, 4);
		put_str(r, "AED", 3);
		put_be24(r, value_multiplier(m));
		put(r, m->protocol);
		break;
	case ESSP_CMD_CHANNEL_VALUE_REQUEST:
		reply_channel_values(m, r);
		break;
	case ESSP_CMD_GET_FIRMWARE_VERSION:
		put(r, ESSP_RESP_OK);
		put_str(r, "NV9USB", 6);
		put_str(r, m->cfg.firmware, 4);
		break;
	case ESSP_CMD_GET_DATASET_VERSION:
		put(r, ESSP_RESP_OK);
		put_str(r, "AED01001", 8);
		break;
	case ESSP_CMD_GET_COUNTERS:
		put(r, ESSP_RESP_OK);
		put(r, 5);
		put_le32(r, m->counters.stacked);
		put_le32(r, m->counters.stored);
		put_le32(r, m->counters.dispensed);
		put_le32(r, m->counters.transferred);
		put_le32(r, m->counters.rejected);
		break;
	case ESSP_CMD_RESET_COUNTERS:
		memset(&m->counters, 0, sizeof(m->counters));
		put(r, ESSP_RESP_OK);
		break;
#ifdef ESSP_HAVE_CRYPTO
	case ESSP_CMD_SET_GENERATOR:
	case ESSP_CMD_SET_MODULUS:
	case ESSP_CMD_REQUEST_KEY_EXCHANGE:
		if (m->cfg.encryption) {
			key_exchange(m, f, r);
			break;
		}
		put(r, ESSP_RESP_UNKNOWN_COMMAND);
		break;
#endif
	default:
		/* Without eSSP mode the key exchange is not known here either: the model answers
		 * as a device without the command would, and the host stays in plain SSP. */
		put(r, ESSP_RESP_UNKNOWN_COMMAND);
		break;
	}
}

/*
 * eSSP mode: decides whether a frame may run (invariant 5). Returns false to ignore it;
 * true with r filled (KEY NOT SET) to answer without running it; true with r empty to run
 * it, *seal telling that it came sealed (opened into m->inner) and its reply must be too.
 */
static bool open_sealed(struct sim_essp *m, const struct essp_frame *f, struct reply *r, bool *seal)
{
	uint8_t cmd = f->data[0];
	*seal = false;
	if (cmd == ESSP_CMD_SYNC || cmd == ESSP_CMD_SET_GENERATOR || cmd == ESSP_CMD_SET_MODULUS ||
	    cmd == ESSP_CMD_REQUEST_KEY_EXCHANGE)
		return true;
#ifdef ESSP_HAVE_CRYPTO
	if (cmd == ESSP_STEX && m->key_set) {
		uint8_t plain[ESSP_DATA_MAX];
		size_t len = 0;
		uint32_t count = 0;
		struct kio_error err;
		if (essp_crypto_open(&m->crypto, f->data, f->len, plain, &len, &count, &err) != 0 || len == 0) {
			LOG_DBG("sealed packet not opened: %s", err.msg);
			return false;
		}
		if (count != m->crypto.count) {
			LOG_DBG("sealed packet eCOUNT %u, expected %u: ignored", count, m->crypto.count);
			return false;
		}
		m->crypto.count++;
		m->inner.seqid = f->seqid;
		m->inner.len = (uint8_t)len;
		memcpy(m->inner.data, plain, len);
		*seal = true;
		return true;
	}
#endif
	/* GA138: in eSSP mode nothing else runs until keys are set, and then only sealed. */
	put(r, ESSP_RESP_KEY_NOT_SET);
	return true;
}

static void handle_frame(struct sim_essp *m, const struct essp_frame *f)
{
	if ((f->seqid & ESSP_ADDR_MASK) != m->cfg.addr || f->len == 0)
		return;
	if (m->fault[SIM_ESSP_FAULT_NO_ANSWER])
		return;
	if (m->drop_commands) {
		m->drop_commands--;
		LOG_DBG("command lost (knob)");
		return;
	}
	m->last_cmd = m->now;

	int flag = (f->seqid & ESSP_SEQ_FLAG) ? 1 : 0;
	uint8_t cmd = f->data[0];
	if (cmd != ESSP_CMD_SYNC && flag == m->last_flag && m->last_reply_len) {
		/* Invariant 1: the host did not get our reply; send it again, do nothing. */
		m->repeats++;
		if (m->note == SIM_ESSP_NOTE_ESCROW && cmd != ESSP_CMD_POLL && cmd != ESSP_CMD_POLL_WITH_ACK)
			m->escrow_ref = m->now;
		LOG_DBG("repeat of %s (seq %d): last reply resent", essp_cmd_name(cmd), flag);
		send_reply(m);
		return;
	}

	struct reply r = {.len = 0};
	bool seal = false;
	if (m->cfg.encryption && !open_sealed(m, f, &r, &seal))
		return; /* invariant 5: not acted on */
	if (!r.len)
		execute(m, seal ? &m->inner : f, &r);
	m->last_plain_resp = r.len ? r.data[0] : 0;
#ifdef ESSP_HAVE_CRYPTO
	if (seal) {
		/* Invariant 5: the reply carries the count the next command must use. */
		uint8_t pad[16];
		for (size_t i = 0; i < sizeof(pad); i++)
			pad[i] = (uint8_t)(0xA5 ^ (m->crypto.count + i));
		struct essp_cmd sealed;
		if (essp_crypto_seal(&m->crypto, m->crypto.count, r.data, r.len, pad, &sealed) == 0) {
			memcpy(r.data, sealed.data, sealed.len);
			r.len = sealed.len;
		}
	}
#endif
	m->executed++;
	/* SYNC makes the device expect flag 0 next (GA138 Sync). */
	m->last_flag = cmd == ESSP_CMD_SYNC ? 1 : flag;
	if (essp_frame_encode(f->seqid, r.data, r.len, m->last_reply, sizeof(m->last_reply), &m->last_reply_len)) {
		LOG_ERR("cannot frame a %zu-byte reply to %s", r.len, essp_cmd_name(cmd));
		m->last_reply_len = 0;
		return;
	}
	LOG_DBG("%s -> %s (%zu bytes%s)", essp_cmd_name(seal ? m->inner.data[0] : cmd),
		essp_resp_name(seal ? m->last_plain_resp : r.data[0]), r.len, seal ? ", sealed" : "");
	send_reply(m);
	if (m->reset_pending) {
		/* The reply leaves first; then the unit reboots and USB re-enumerates (GA973 Reset). */
		m->resets++;
		power_up(m, false);
	}
}

int sim_essp_write(struct sim_essp *m, const uint8_t *buf, size_t len, uint64_t now_ms)
{
	if (m->fault[SIM_ESSP_FAULT_DISCONNECT])
		return KIO_ERR_NO_DEVICE;
	sim_essp_tick(m, now_ms);
	size_t off = 0;
	while (off < len) {
		size_t used = 0;
		struct essp_frame f;
		enum essp_dec_result res = essp_decoder_feed(&m->dec, buf + off, len - off, &used, &f);
		off += used;
		if (res == ESSP_DEC_FRAME)
			handle_frame(m, &f);
		else if (res == ESSP_DEC_BAD_CRC)
			LOG_DBG("frame with a bad CRC ignored");
	}
	return 0;
}

void sim_essp_tick(struct sim_essp *m, uint64_t now_ms)
{
	if (now_ms > m->now)
		m->now = now_ms;
	if (m->note == SIM_ESSP_NOTE_ESCROW && m->now - m->escrow_ref >= m->cfg.escrow_timeout_ms) {
		/* GA138 reject code 0x13: the host did not decide in time. */
		LOG_DBG("escrow timeout: returning the note");
		m->last_reject = ESSP_REJ_ESCROW_TIMEOUT;
		set_note(m, SIM_ESSP_NOTE_REJECTING);
	}
	if (m->cfg.comms_timeout_ms && m->enabled && m->now - m->last_cmd >= m->cfg.comms_timeout_ms) {
		LOG_DBG("no command for %" PRIu64 " ms: disabling", m->now - m->last_cmd);
		m->enabled = false;
	}
}

/* ---- Injection ---- */

static int insert(struct sim_essp *m, uint8_t ch, bool fake, uint8_t reject_code)
{
	if (m->note != SIM_ESSP_NOTE_NONE || !accepting(m) || ack_pending(m))
		return KIO_ERR_BUSY;
	m->note_ch = ch;
	m->note_fake = fake;
	m->note_reject = reject_code;
	set_note(m, SIM_ESSP_NOTE_READING);
	return 0;
}

int sim_essp_insert_note(struct sim_essp *m, int64_t value_fils)
{
	for (size_t i = 0; i < m->cfg.n_channels; i++)
		if (value_fils > 0 && m->cfg.channel_fils[i] == value_fils)
			return insert(m, (uint8_t)(i + 1), false, 0);
	return KIO_ERR_NOT_FOUND;
}

int sim_essp_insert_fake(struct sim_essp *m, uint8_t reject_code)
{
	return insert(m, 0, true, reject_code);
}

int sim_essp_hold_note(struct sim_essp *m, int64_t value_fils)
{
	int rc = sim_essp_insert_note(m, value_fils);
	if (rc == 0)
		m->note_held = true;
	return rc;
}

int sim_essp_release_note(struct sim_essp *m)
{
	if (!m->note_held)
		return KIO_ERR_INVALID;
	m->note_held = false;
	return 0;
}

void sim_essp_set_fault(struct sim_essp *m, enum sim_essp_fault fault, bool on)
{
	if (fault >= SIM_ESSP_FAULT_COUNT || m->fault[fault] == on)
		return;
	m->fault[fault] = on;
	LOG_DBG("fault %s %s", fault_names[fault], on ? "on" : "off");
	switch (fault) {
	case SIM_ESSP_FAULT_JAM:
		/* A note already in the path jams where it is; else the next one will. */
		if (on && m->note != SIM_ESSP_NOTE_NONE && m->note != SIM_ESSP_NOTE_CREDITED)
			set_note(m, SIM_ESSP_NOTE_JAMMED);
		break;
	case SIM_ESSP_FAULT_CASHBOX_REMOVED:
		if (!on)
			push_event(m, ESSP_EV_CASHBOX_REPLACED, 0);
		break;
	case SIM_ESSP_FAULT_DISCONNECT:
		/* Bytes in flight when the cable goes are lost. */
		if (on)
			core_bytebuf_clear(&m->out);
		break;
	default:
		break;
	}
}

int sim_essp_obstruct(struct sim_essp *m)
{
	if (m->note != SIM_ESSP_NOTE_NONE)
		return KIO_ERR_BUSY;
	m->fault[SIM_ESSP_FAULT_JAM] = true;
	m->note_ch = 0;
	set_note(m, SIM_ESSP_NOTE_JAMMED);
	LOG_DBG("path obstructed: unsafe jam");
	return 0;
}

int sim_essp_fraud_attempt(struct sim_essp *m)
{
	if (m->note != SIM_ESSP_NOTE_NONE)
		return KIO_ERR_BUSY;
	m->last_reject = ESSP_REJ_FRAUD;
	push_event(m, ESSP_EV_FRAUD_ATTEMPT, 0);
	LOG_DBG("fraud attempt at the bezel");
	return 0;
}

bool sim_essp_fault(const struct sim_essp *m, enum sim_essp_fault fault)
{
	return fault < SIM_ESSP_FAULT_COUNT && m->fault[fault];
}

void sim_essp_drop_replies(struct sim_essp *m, unsigned n) { m->drop_replies = n; }
void sim_essp_drop_commands(struct sim_essp *m, unsigned n) { m->drop_commands = n; }
void sim_essp_duplicate_replies(struct sim_essp *m, unsigned n) { m->dup_replies = n; }
void sim_essp_corrupt_replies(struct sim_essp *m, unsigned n) { m->corrupt_replies = n; }

void sim_essp_refuse_command(struct sim_essp *m, uint8_t code, unsigned n)
{
	m->refuse_code = code;
	m->refuse_n = n;
}

void sim_essp_get_state(const struct sim_essp *m, struct sim_essp_state *out)
{
	memset(out, 0, sizeof(*out));
	out->enabled = m->enabled;
	out->inhibit_mask = m->inhibits;
	out->protocol = m->protocol;
	out->note = m->note;
	out->note_channel = m->note_ch;
	out->counters = m->counters;
	memcpy(out->cashbox, m->cashbox, sizeof(out->cashbox));
	for (size_t i = 0; i < m->cfg.n_channels; i++)
		out->cashbox_fils += (int64_t)m->cashbox[i] * m->cfg.channel_fils[i];
	out->last_reject = m->last_reject;
	out->executed = m->executed;
	out->repeats = m->repeats;
	out->resets = m->resets;
	out->power_ups = m->power_ups;
}
