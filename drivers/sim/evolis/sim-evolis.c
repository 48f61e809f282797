/*
 * The simulated Evolis card printer: command stream parser, card path, counters and faults,
 * following docs/evolis-commands.md (Evolis Programming Guide A5013 rev E, field code).
 *
 * Parser states:
 *
 *   WAIT --ESC (or a letter right after CR, guide §3)--> TEXT --CR--> execute, one reply
 *                                                         |
 *                                      "Db;p;l;" complete +--> DATA (fixed size) --> DATA_END
 *                                                                 DATA_END --CR or ESC--> reply
 *   TEXT --over-long or non-ASCII--> DISCARD --CR or ESC--> WAIT or TEXT (no reply)
 * Card path:
 *
 *   feeder --Sis/Sic/Smw/Se--> PRINT/CONTACT/CONTACTLESS --Se--> out (issued)
 *                                                        --Ser--> reject box
 * Invariants:
 *  1. One complete command, one reply; framing errors get none (the driver times out, as with
 *     a real printer that did not understand the frame).
 *  2. Db data is counted by its size, 1016 lines x 648 dots x bits per level (82,296 bytes for
 *     K; see docs/evolis-commands.md on the guide's larger figures), never
 *     searched for CR: panel bytes may be 0x0D. Only the K panel at 2 levels is kept.
 *  3. A card leaves the feeder only through a motion command that succeeds, and leaves the
 *     printer only by Se (issued) or Ser (rejected) or by hand after a jam (lost): every card
 *     taken is accounted for in cards_inserted = issued + rejected + lost + inside.
 *  4. Nothing moves while the cover is open or the printer is jammed.
 */
#include "drivers/sim/evolis/sim-evolis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "sim-evolis"
#include "kiosk/core/image.h"
#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"

enum { NUL = 0x00, LF = 0x0A, CR = 0x0D, ESC = 0x1B };

#define TEXT_MAX 255
#define PANEL_LINES 1016
#define PANEL_LINE_BYTES 81
#define PANEL_K_BYTES (PANEL_LINES * PANEL_LINE_BYTES)
#define FACE_W 1016
#define FACE_H 648

enum pstate { ST_WAIT, ST_TEXT, ST_DATA, ST_DATA_END, ST_DISCARD, ST_COUNT };

struct sim_evolis {
	struct sim_evolis_config cfg;
	char serial[32];
	bool faults[SIM_EVOLIS_FAULT_COUNT];
	int feeder, ribbon;

	enum pstate state;
	bool after_cr;
	char text[TEXT_MAX + 1];
	size_t text_len;
	size_t data_left;
	bool data_keep;
	uint8_t *panel; /* K panel downloaded for the front */
	size_t panel_pos;

	bool in_sequence, side_back, front_loaded;
	char track2[38];
	bool track2_set;

	enum sim_evolis_position pos;
	struct sim_evolis_card *card; /* inside the printer, NULL if none */
	struct sim_evolis_card **out;
	size_t n_out, cap_out;

	uint8_t *tx;
	size_t tx_len, tx_cap;

	struct sim_evolis_stats stats;
	struct kio_error last_error;
	struct kio_error chunk_error; /* the first of this write: the cause, not an echo */
	bool chunk_failed;
	bool in_junk; /* one report per run of bytes outside frames */
};

static const char *const fault_names[SIM_EVOLIS_FAULT_COUNT] = {
	[SIM_EVOLIS_FAULT_FEEDER_EMPTY] = "feeder-empty",
	[SIM_EVOLIS_FAULT_RIBBON_OUT] = "ribbon-out",
	[SIM_EVOLIS_FAULT_JAM] = "jam",
	[SIM_EVOLIS_FAULT_COVER_OPEN] = "cover-open",
	[SIM_EVOLIS_FAULT_DISCONNECT] = "disconnect",
};

void sim_evolis_config_default(struct sim_evolis_config *cfg)
{
	cfg->feeder_cards = 100;  /* a KC200 feeder holds 100 cards */
	cfg->ribbon_cards = 1000; /* a resin K ribbon prints about 1000 faces */
	cfg->serial = "SIM0000001";
}

__attribute__((format(printf, 2, 3)))
static void proto_error(struct sim_evolis *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kio_vfail(&s->last_error, KIO_ERR_PROTOCOL, fmt, ap);
	va_end(ap);
	s->stats.protocol_errors++;
	if (!s->chunk_failed) {
		LOG_WARN("%s", s->last_error.msg);
		s->chunk_error = s->last_error;
	}
	s->chunk_failed = true;
}

bool sim_evolis_connected(const struct sim_evolis *s)
{
	return !s->faults[SIM_EVOLIS_FAULT_DISCONNECT];
}

static void reply(struct sim_evolis *s, const char *text)
{
	size_t n = strlen(text) + 1;
	if (s->tx_len + n > s->tx_cap) {
		s->tx_cap = s->tx_cap ? s->tx_cap * 2 : 256;
		while (s->tx_cap < s->tx_len + n)
			s->tx_cap *= 2;
		s->tx = xrealloc(s->tx, s->tx_cap);
	}
	memcpy(s->tx + s->tx_len, text, n - 1);
	s->tx[s->tx_len + n - 1] = CR;
	s->tx_len += n;
}

static bool feeder_empty(const struct sim_evolis *s)
{
	return s->faults[SIM_EVOLIS_FAULT_FEEDER_EMPTY] || s->feeder <= 0;
}

static bool ribbon_out(const struct sim_evolis *s)
{
	return s->faults[SIM_EVOLIS_FAULT_RIBBON_OUT] || s->ribbon <= 0;
}

/* Invariant 4: the error reply for a motion attempted now, or NULL. */
static const char *motion_blocked(const struct sim_evolis *s)
{
	if (s->faults[SIM_EVOLIS_FAULT_COVER_OPEN])
		return "ERR COVER OPEN";
	if (s->faults[SIM_EVOLIS_FAULT_JAM])
		return "ERR MECHANICAL";
	return NULL;
}

/* A card at the print position, from the feeder if none is inside; error reply or NULL. */
static const char *ensure_card(struct sim_evolis *s)
{
	if (s->card)
		return NULL;
	if (feeder_empty(s))
		return "ERR FEEDER EMPTY";
	s->feeder--;
	s->stats.cards_inserted++;
	s->card = xcalloc(1, sizeof(*s->card));
	s->pos = SIM_EVOLIS_POS_PRINT;
	LOG_DBG("card inserted, %d left in feeder", s->feeder);
	return NULL;
}

static void card_out(struct sim_evolis *s, bool rejected)
{
	s->card->rejected = rejected;
	if (s->n_out == s->cap_out) {
		s->cap_out = s->cap_out ? s->cap_out * 2 : 8;
		s->out = xrealloc(s->out, s->cap_out * sizeof(*s->out));
	}
	s->out[s->n_out++] = s->card;
	s->card = NULL;
	s->pos = SIM_EVOLIS_POS_NONE;
	LOG_DBG("card %zu %s", s->n_out, rejected ? "rejected" : "ejected");
}

/* Guide "Db": line i, dot j (MSB first) of the panel is face column i, row 647 - j. */
static void print_front(struct sim_evolis *s)
{
	struct sim_evolis_card *c = s->card;
	memset(c->face, 0, sizeof(c->face));
	for (int line = 0; line < PANEL_LINES; line++)
		for (int j = 0; j < FACE_H; j++)
			if (s->panel[(size_t)line * PANEL_LINE_BYTES + (size_t)j / 8] & (0x80u >> (j % 8))) {
				int x = line, y = FACE_H - 1 - j;
				c->face[y][x / 8] |= (uint8_t)(0x80u >> (x % 8));
			}
	c->printed = true;
	s->ribbon--;
	s->stats.panels_printed++;
}

static void counter_reply(struct sim_evolis *s, uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	reply(s, buf);
}

static const char *position_text(enum sim_evolis_position p)
{
	switch (p) {
	case SIM_EVOLIS_POS_PRINT: return "CARD";
	case SIM_EVOLIS_POS_CONTACT: return "SMART CARD";
	case SIM_EVOLIS_POS_CONTACTLESS: return "CONTACTLESS CARD";
	case SIM_EVOLIS_POS_NONE: break;
	}
	return "OK";
}

static void exec_sequence_end(struct sim_evolis *s)
{
	const char *e = NULL;
	if (s->in_sequence && s->front_loaded) {
		e = motion_blocked(s);
		if (!e && ribbon_out(s))
			e = "ERR RIBBON ENDED";
		if (!e)
			e = ensure_card(s);
		if (!e) {
			print_front(s);
			card_out(s, false);
		}
	} else if (s->card) {
		e = motion_blocked(s);
		if (!e)
			card_out(s, false);
	}
	s->in_sequence = s->front_loaded = false;
	reply(s, e ? e : "OK");
}

static void execute(struct sim_evolis *s)
{
	const char *t = s->text;
	s->stats.commands++;
	LOG_DBG("command %.16s", t);
	const char *e;
	if (strcmp(t, "Rtp") == 0) {
		reply(s, "Evolis KC200 (simulated)");
	} else if (strcmp(t, "Rfv") == 0) {
		reply(s, "SIM 1.0");
	} else if (strcmp(t, "Rsn") == 0) {
		reply(s, s->serial);
	} else if (strcmp(t, "Rlr;p") == 0) {
		reply(s, position_text(s->pos));
	} else if (strcmp(t, "Rse;o") == 0) {
		reply(s, s->faults[SIM_EVOLIS_FAULT_COVER_OPEN] ? "0,00 Volts" : "5,00 Volts");
	} else if (strcmp(t, "Rse;f") == 0) {
		reply(s, feeder_empty(s) ? "0,00 Volts" : "5,00 Volts");
	} else if (strcmp(t, "Rcr") == 0) {
		reply(s, ribbon_out(s) ? "ERR RIBBON ENDED" : "OK");
	} else if (strcmp(t, "Rco;c") == 0) {
		counter_reply(s, s->stats.cards_inserted);
	} else if (strcmp(t, "Rco;p") == 0) {
		counter_reply(s, s->stats.panels_printed);
	} else if (strcmp(t, "Rco;l") == 0) {
		counter_reply(s, s->ribbon > 0 ? (uint64_t)s->ribbon : 0);
	} else if (strncmp(t, "Pr;", 3) == 0) {
		reply(s, strcmp(t + 3, "k") == 0 ? "OK" : "ERR PARAMETER"); /* only K is loaded */
	} else if (t[0] == 'P' && t[1] >= 'a' && t[1] <= 'z') {
		reply(s, "OK"); /* settings this model does not simulate (Pem, Pmi, Pc, ...) */
	} else if (strcmp(t, "Sis") == 0 || strcmp(t, "Sic") == 0) {
		e = motion_blocked(s);
		if (!e)
			e = ensure_card(s);
		if (!e)
			s->pos = t[2] == 's' ? SIM_EVOLIS_POS_CONTACT : SIM_EVOLIS_POS_CONTACTLESS;
		reply(s, e ? e : "OK");
	} else if (strncmp(t, "Dm;", 3) == 0) {
		/* Dm;track;data: track 2 is what the kiosk writes (ISO 7811: digits, 37 max). */
		const char *d = t + 5;
		size_t n = strlen(d);
		bool ok = t[3] >= '1' && t[3] <= '3' && t[4] == ';' && n >= 1 && n <= 37;
		for (size_t i = 0; ok && t[3] == '2' && i < n; i++)
			ok = d[i] >= '0' && d[i] <= '9';
		if (ok && t[3] == '2') {
			memcpy(s->track2, d, n + 1);
			s->track2_set = true;
		}
		reply(s, ok ? "OK" : "ERR PARAMETER");
	} else if (strcmp(t, "Smw") == 0) {
		e = s->track2_set ? motion_blocked(s) : "ERR PARAMETER";
		if (!e)
			e = ensure_card(s);
		if (!e) {
			memcpy(s->card->track2, s->track2, sizeof(s->track2));
			s->card->encoded = true;
			s->track2_set = false;
		}
		reply(s, e ? e : "OK");
	} else if (strcmp(t, "Ss") == 0) {
		s->in_sequence = true;
		s->front_loaded = s->side_back = false;
		reply(s, "OK");
	} else if (strcmp(t, "Sr") == 0 || strcmp(t, "Sv") == 0) {
		s->side_back = t[1] == 'v';
		reply(s, "OK");
	} else if (strcmp(t, "Se") == 0) {
		exec_sequence_end(s);
	} else if (strcmp(t, "Ser") == 0) {
		e = s->card ? motion_blocked(s) : "ERR NO CARD";
		if (!e)
			card_out(s, true);
		reply(s, e ? e : "OK");
	} else if (strcmp(t, "Srs") == 0) {
		s->in_sequence = s->front_loaded = s->track2_set = false;
		reply(s, "OK");
	} else {
		reply(s, "ERR COMMAND");
	}
}

/* "Db;panel;levels;" is complete in s->text: set up the counted data (invariant 2). */
static void start_download(struct sim_evolis *s)
{
	char panel = 0;
	int levels = 0;
	char tail = 0;
	int bits = 0;
	if (sscanf(s->text, "Db;%c;%d%c", &panel, &levels, &tail) == 3 && tail == ';' &&
		strchr("ymcko", panel)) {
		bits = levels == 2 ? 1 : levels == 32 ? 5 : levels == 64 ? 6 : levels == 128 ? 7 : 0;
	}
	if (!bits) {
		proto_error(s, "sim-evolis: bad download header \"%s\"", s->text);
		reply(s, "ERR PARAMETER");
		s->state = ST_WAIT;
		return;
	}
	s->data_left = (size_t)PANEL_LINES * 648 * (size_t)bits / 8;
	s->data_keep = panel == 'k' && levels == 2 && !s->side_back;
	s->panel_pos = 0;
	s->state = ST_DATA;
}

static void finish_download(struct sim_evolis *s)
{
	s->stats.commands++;
	if (s->data_keep)
		s->front_loaded = true;
	reply(s, "OK");
}

static void step(struct sim_evolis *s, uint8_t b)
{
	switch (s->state) {
	case ST_DATA_END:
		finish_download(s);
		s->state = ST_WAIT;
		if (b == CR) {
			s->after_cr = true;
			return;
		}
		if (b != ESC) {
			proto_error(s, "sim-evolis: 0x%02x after Db data, CR expected", b);
			return;
		}
		/* The guide's §21 example runs the next ESC straight after the data: accept it. */
		/* FALLTHRU */
	case ST_WAIT:
		if (b == ESC || (s->after_cr && ((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z')))) {
			s->text_len = 0;
			s->state = ST_TEXT;
			s->after_cr = false;
			s->in_junk = false;
			if (b != ESC)
				goto text;
		} else if (b == CR || b == LF || b == NUL) {
			s->after_cr = b == CR;
		} else {
			s->after_cr = false;
			if (!s->in_junk)
				proto_error(s, "sim-evolis: byte 0x%02x outside a command", b);
			s->in_junk = true;
		}
		return;
	case ST_TEXT:
	text:
		if (b == CR) {
			s->text[s->text_len] = '\0';
			s->state = ST_WAIT;
			s->after_cr = true;
			if (s->text_len == 0)
				proto_error(s, "sim-evolis: empty command");
			else
				execute(s);
			return;
		}
		if (b == ESC) {
			proto_error(s, "sim-evolis: ESC inside a command, restarting");
			s->text_len = 0;
			return;
		}
		if (b < 0x20 || b > 0x7E || s->text_len == TEXT_MAX) {
			proto_error(s, "sim-evolis: %s in command", s->text_len == TEXT_MAX ?
				"over-long text" : "non-ASCII byte");
			s->state = ST_DISCARD;
			return;
		}
		s->text[s->text_len++] = (char)b;
		s->text[s->text_len] = '\0';
		if (b == ';' && s->text_len >= 7 && strncmp(s->text, "Db;", 3) == 0) {
			int semis = 0;
			for (size_t i = 0; i < s->text_len; i++)
				semis += s->text[i] == ';';
			if (semis == 3)
				start_download(s);
		}
		return;
	case ST_DISCARD:
		if (b == CR) {
			s->state = ST_WAIT;
			s->after_cr = true;
		} else if (b == ESC) {
			s->text_len = 0;
			s->state = ST_TEXT;
		}
		return;
	case ST_DATA:
		if (s->data_keep)
			s->panel[s->panel_pos++] = b;
		if (--s->data_left == 0)
			s->state = ST_DATA_END;
		return;
	case ST_COUNT:
		return;
	}
}

int sim_evolis_write(struct sim_evolis *s, const uint8_t *buf, size_t len, struct kio_error *err)
{
	s->chunk_failed = false;
	if (!sim_evolis_connected(s))
		return 0;
	size_t i = 0;
	while (i < len) {
		/* Bulk copy of panel data: 85 KB per face, byte steps would only cost time. */
		if (s->state == ST_DATA) {
			size_t n = len - i < s->data_left ? len - i : s->data_left;
			if (s->data_keep)
				memcpy(s->panel + s->panel_pos, buf + i, n);
			s->panel_pos += s->data_keep ? n : 0;
			s->data_left -= n;
			i += n;
			if (s->data_left == 0)
				s->state = ST_DATA_END;
			continue;
		}
		step(s, buf[i++]);
	}
	if (s->chunk_failed) {
		if (err)
			*err = s->chunk_error;
		return KIO_ERR_PROTOCOL;
	}
	return 0;
}

size_t sim_evolis_read(struct sim_evolis *s, uint8_t *buf, size_t cap)
{
	size_t n = s->tx_len < cap ? s->tx_len : cap;
	if (n == 0)
		return 0; /* tx may still be NULL: memcpy forbids it even for 0 bytes */
	memcpy(buf, s->tx, n);
	memmove(s->tx, s->tx + n, s->tx_len - n);
	s->tx_len -= n;
	return n;
}

size_t sim_evolis_readable(const struct sim_evolis *s)
{
	return s->tx_len;
}

void sim_evolis_fault_set(struct sim_evolis *s, enum sim_evolis_fault f, bool on)
{
	if ((unsigned)f >= SIM_EVOLIS_FAULT_COUNT)
		return;
	if (s->faults[f] != on)
		LOG_INFO("fault %s %s", fault_names[f], on ? "raised" : "cleared");
	if (f == SIM_EVOLIS_FAULT_JAM && s->faults[f] && !on && s->card) {
		free(s->card); /* invariant 3: pulled out by hand, not issued */
		s->card = NULL;
		s->pos = SIM_EVOLIS_POS_NONE;
		s->stats.cards_lost++;
	}
	s->faults[f] = on;
}

bool sim_evolis_fault_get(const struct sim_evolis *s, enum sim_evolis_fault f)
{
	return (unsigned)f < SIM_EVOLIS_FAULT_COUNT && s->faults[f];
}

int sim_evolis_fault_parse(const char *name, enum sim_evolis_fault *out)
{
	for (int f = 0; f < SIM_EVOLIS_FAULT_COUNT; f++)
		if (strcmp(name, fault_names[f]) == 0) {
			*out = (enum sim_evolis_fault)f;
			return 0;
		}
	return KIO_ERR_NOT_FOUND;
}

const char *sim_evolis_fault_name(enum sim_evolis_fault f)
{
	return (unsigned)f < SIM_EVOLIS_FAULT_COUNT ? fault_names[f] : "unknown";
}

void sim_evolis_load_feeder(struct sim_evolis *s, int cards)
{
	s->feeder = cards < 0 ? 0 : cards;
}

void sim_evolis_load_ribbon(struct sim_evolis *s, int prints)
{
	s->ribbon = prints < 0 ? 0 : prints;
}

int sim_evolis_feeder_level(const struct sim_evolis *s)
{
	return s->feeder;
}

int sim_evolis_ribbon_level(const struct sim_evolis *s)
{
	return s->ribbon;
}

enum sim_evolis_position sim_evolis_position(const struct sim_evolis *s)
{
	return s->pos;
}

int sim_evolis_new(const struct sim_evolis_config *cfg, struct sim_evolis **out,
	struct kio_error *err)
{
	struct sim_evolis_config c;
	if (cfg)
		c = *cfg;
	else
		sim_evolis_config_default(&c);
	*out = NULL;
	if (c.feeder_cards < 0 || c.ribbon_cards < 0 || !c.serial || strlen(c.serial) < 1 ||
		strlen(c.serial) > 31)
		return kio_fail(err, KIO_ERR_INVALID, "sim-evolis: bad config");
	struct sim_evolis *s = xcalloc(1, sizeof(*s));
	s->cfg = c;
	snprintf(s->serial, sizeof(s->serial), "%s", c.serial);
	s->cfg.serial = s->serial;
	s->feeder = c.feeder_cards;
	s->ribbon = c.ribbon_cards;
	s->panel = xmalloc(PANEL_K_BYTES);
	*out = s;
	return 0;
}

void sim_evolis_free(struct sim_evolis *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_out; i++)
		free(s->out[i]);
	free(s->out);
	free(s->card);
	free(s->panel);
	free(s->tx);
	free(s);
}

size_t sim_evolis_card_count(const struct sim_evolis *s)
{
	return s->n_out;
}

const struct sim_evolis_card *sim_evolis_card(const struct sim_evolis *s, size_t index)
{
	return index < s->n_out ? s->out[index] : NULL;
}

void sim_evolis_card_release(struct sim_evolis *s, size_t index)
{
	if (index >= s->n_out)
		return;
	free(s->out[index]);
	s->out[index] = NULL;
}

bool sim_evolis_card_get(const struct sim_evolis_card *c, int x, int y)
{
	if (x < 0 || y < 0 || x >= FACE_W || y >= FACE_H)
		return false;
	return c->face[y][x / 8] & (0x80u >> (x % 8));
}

void sim_evolis_stats(const struct sim_evolis *s, struct sim_evolis_stats *out)
{
	*out = s->stats;
}

const struct kio_error *sim_evolis_last_error(const struct sim_evolis *s)
{
	return &s->last_error;
}

int sim_evolis_card_write_png(const struct sim_evolis_card *c, const char *path,
	struct kio_error *err)
{
	return core_png_write_ink(path, FACE_W, FACE_H, (int)sizeof(c->face[0]), &c->face[0][0], err);
}
