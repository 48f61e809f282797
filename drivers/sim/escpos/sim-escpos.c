/*
 * The simulated ESC/POS receipt printer: incremental stream parser, paper model, cutter and
 * real-time status, following the Epson ESC/POS reference (command pages cited below).
 *
 * Parser states (one byte at a time, so any chunking gives the same result):
 *
 *   IDLE --ESC/GS/DLE/FS--> CMD --header complete--> execute --+--> IDLE
 *     ^                                                        +--> RASTER (GS v 0 rows)
 *     |                                                        +--> PAYLOAD (GS ( H, GS ( D)
 *     +--------------- data counted down ----------------------+--> SKIP (sized data we ignore)
 *                                                              +--> UNTIL_NUL (ESC D, GS k)
 *
 * Invariants:
 *  1. Every size read from the stream is bounded before it is used: header bytes <= HDR_MAX,
 *     payload kept <= PAYLOAD_MAX, raster rows <= cfg.max_band_rows and row bytes <= ROW_MAX;
 *     anything larger is skipped by counting, never allocated.
 *  2. Paper only grows by printed or fed rows and never beyond cfg.max_page_rows per receipt.
 *  3. Real-time commands (DLE EOT n, DLE DC4 fn2) act on arrival, in any state, even inside
 *     raster data and while offline (Epson TM-T85/TM-U295: "transmitted whenever the data
 *     sequence 10H 04H n is received"); the parser later consumes them without effect.
 *  4. While offline (paper out, cover open) nothing but invariant 3 runs: bytes wait in the
 *     receive buffer, and writes are refused once it is full, as a NAKing USB printer does,
 *     except whole real-time commands: Epson executes DLE EOT "even when the printer is
 *     offline, the receive buffer is full, or there is an error status", so with a full
 *     buffer a write that starts with complete real-time commands is taken, answered and not
 *     stored (rt_len). Without this a host polling status through a long paper-out fills the
 *     buffer with its own queries and then loses the printer for good.
 */
#include "drivers/sim/escpos/sim-escpos.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "sim-escpos"
#include "kiosk/core/image.h"
#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"

enum { NUL = 0x00, HT = 0x09, LF = 0x0A, FF = 0x0C, CR = 0x0D, DLE = 0x10, CAN = 0x18,
	ESC = 0x1B, FS = 0x1C, GS = 0x1D };

#define HDR_MAX 16
#define PAYLOAD_MAX 64
#define ROW_MAX 256          /* GS v 0 x range on the TM-T81 */
#define TX_MAX 65536         /* replies nobody reads are dropped past this */
#define STATUS_BASE 0x12     /* DLE EOT fixed bits: 0xx1xx10 */

enum pstate { ST_IDLE, ST_CMD, ST_RASTER, ST_PAYLOAD, ST_SKIP, ST_UNTIL_NUL, ST_COUNT };

struct sim_escpos {
	struct sim_escpos_config cfg;
	bool faults[SIM_ESCPOS_FAULT_COUNT];
	int runs_out_rows; /* PAPER_RUNS_OUT armed: raster rows left on the roll */
	bool powered_off;

	uint8_t *rx;
	size_t rx_len;
	uint8_t *tx;
	size_t tx_len, tx_cap;

	/* Arrival-time real-time detection (invariant 3). */
	uint8_t hist[5];
	bool dc4_pulse_enabled, dc4_poweroff_enabled;

	enum pstate state;
	uint8_t hdr[HDR_MAX];
	size_t hdr_len;
	uint64_t skip;
	size_t nul_budget;
	uint8_t payload[PAYLOAD_MAX];
	size_t pay_len, pay_need;
	uint8_t pay_fn;

	/* Current GS v 0 block. */
	int r_bytes, r_rows, r_sx, r_sy, r_row, r_col;
	uint8_t rowbuf[ROW_MAX];

	int line_spacing;
	int align; /* 0 left, 1 centre, 2 right (ESC a) */

	struct sim_escpos_page cur;
	size_t cur_cap_rows;
	bool overflow_reported;
	struct sim_escpos_page **receipts;
	size_t n_receipts, cap_receipts;

	struct sim_escpos_stats stats;
	struct kio_error last_error;
	struct kio_error chunk_error; /* the first of this write: the cause, not an echo */
	bool chunk_failed;
};

static const char *const fault_names[SIM_ESCPOS_FAULT_COUNT] = {
	[SIM_ESCPOS_FAULT_PAPER_NEAR_END] = "paper-near-end",
	[SIM_ESCPOS_FAULT_PAPER_OUT] = "paper-out",
	[SIM_ESCPOS_FAULT_COVER_OPEN] = "cover-open",
	[SIM_ESCPOS_FAULT_DISCONNECT] = "disconnect",
	[SIM_ESCPOS_FAULT_PAPER_RUNS_OUT] = "paper-runs-out",
};

void sim_escpos_config_default(struct sim_escpos_config *cfg)
{
	cfg->width_dots = 576;
	cfg->dpi = 203;
	cfg->max_band_rows = 2303;
	cfg->max_page_rows = 16384; /* ~2 m at 203 dpi */
	cfg->rx_capacity = 4096;    /* TM-T81 DIP switch: 4 KB receive buffer */
	cfg->cutter_offset = 0;
}

__attribute__((format(printf, 2, 3)))
static void proto_error(struct sim_escpos *s, const char *fmt, ...)
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

static bool online(const struct sim_escpos *s)
{
	return !s->powered_off && !s->faults[SIM_ESCPOS_FAULT_DISCONNECT] &&
		!s->faults[SIM_ESCPOS_FAULT_PAPER_OUT] && !s->faults[SIM_ESCPOS_FAULT_COVER_OPEN];
}

bool sim_escpos_connected(const struct sim_escpos *s)
{
	return !s->powered_off && !s->faults[SIM_ESCPOS_FAULT_DISCONNECT];
}

static void reset_modes(struct sim_escpos *s)
{
	s->line_spacing = (s->cfg.dpi + 3) / 6; /* 1/6 inch, the power-on line spacing */
	s->align = 0;
}

static void reply(struct sim_escpos *s, const uint8_t *bytes, size_t n)
{
	if (s->tx_len + n > TX_MAX)
		return;
	if (s->tx_len + n > s->tx_cap) {
		s->tx_cap = s->tx_cap ? s->tx_cap * 2 : 64;
		while (s->tx_cap < s->tx_len + n)
			s->tx_cap *= 2;
		s->tx = xrealloc(s->tx, s->tx_cap);
	}
	memcpy(s->tx + s->tx_len, bytes, n);
	s->tx_len += n;
}

/* Epson "DLE EOT" reply bytes, built from the injected faults. */
static uint8_t status_byte(const struct sim_escpos *s, int n)
{
	bool out = s->faults[SIM_ESCPOS_FAULT_PAPER_OUT];
	bool cover = s->faults[SIM_ESCPOS_FAULT_COVER_OPEN];
	bool near = s->faults[SIM_ESCPOS_FAULT_PAPER_NEAR_END];
	uint8_t b = STATUS_BASE;
	switch (n) {
	case 1:
		if (out || cover)
			b |= 0x08; /* offline */
		break;
	case 2:
		if (cover)
			b |= 0x04;
		if (out)
			b |= 0x20; /* printing stopped by paper end */
		break;
	case 3:
		break; /* no mechanical faults modelled */
	case 4:
		/* An empty roll also reads near-end: both sensors see no paper (DLE EOT 4 = 7E). */
		if (near || out)
			b |= 0x0C;
		if (out)
			b |= 0x60;
		break;
	}
	return b;
}

/* Invariant 3: real-time sequences act on arrival. */
static void realtime_scan(struct sim_escpos *s, uint8_t b)
{
	memmove(s->hist, s->hist + 1, sizeof(s->hist) - 1);
	s->hist[sizeof(s->hist) - 1] = b;
	const uint8_t *h = s->hist;
	if (h[2] == DLE && h[3] == 0x04 && b >= 1 && b <= 4) {
		uint8_t st = status_byte(s, b);
		reply(s, &st, 1);
		s->stats.status_replies++;
		LOG_DBG("DLE EOT %u -> 0x%02x", b, st);
	}
	/* DLE DC4 fn2 (10 14 02 01 08): power off, unless GS ( D disabled it. */
	if (h[0] == DLE && h[1] == 0x14 && h[2] == 0x02 && h[3] == 0x01 && h[4] == 0x08 &&
		s->dc4_poweroff_enabled) {
		LOG_INFO("DLE DC4 power-off obeyed");
		s->powered_off = true;
		s->stats.power_offs++;
	}
}

/* ---- paper ---- */

static void page_reserve(struct sim_escpos_page *p, size_t *cap_rows, size_t rows)
{
	if (rows <= *cap_rows)
		return;
	size_t cap = *cap_rows ? *cap_rows : 256;
	while (cap < rows)
		cap *= 2;
	p->bits = xrealloc(p->bits, cap * (size_t)p->stride);
	*cap_rows = cap;
}

/* Appends n blank rows; returns the first new row, or NULL when none fit (invariant 2). */
static uint8_t *paper_add(struct sim_escpos *s, int n)
{
	int room = s->cfg.max_page_rows - s->cur.height;
	if (n > room) {
		s->stats.lost_rows += (uint64_t)(n - room);
		if (!s->overflow_reported)
			proto_error(s, "sim-escpos: receipt longer than %d rows, rest lost",
				s->cfg.max_page_rows);
		s->overflow_reported = true;
		n = room;
	}
	if (n <= 0)
		return NULL;
	page_reserve(&s->cur, &s->cur_cap_rows, (size_t)s->cur.height + (size_t)n);
	uint8_t *row = s->cur.bits + (size_t)s->cur.height * (size_t)s->cur.stride;
	memset(row, 0, (size_t)n * (size_t)s->cur.stride);
	s->cur.height += n;
	return row;
}

static void feed(struct sim_escpos *s, int rows)
{
	paper_add(s, rows);
}

/*
 * GS V: the cutter sits cfg.cutter_offset dots past the head, so a cut without feed leaves the
 * last rows on the roll for the next receipt; GS V 65/66 n first feed those rows plus n
 * (Epson reference "GS V", function B).
 */
static void cut(struct sim_escpos *s, bool partial, bool with_feed, int n)
{
	if (with_feed)
		feed(s, s->cfg.cutter_offset + n);
	int at = s->cur.height - s->cfg.cutter_offset;
	if (at < 0)
		at = 0;
	s->stats.cuts++;
	if (at > 0) {
		struct sim_escpos_page *r = xcalloc(1, sizeof(*r));
		r->width = s->cur.width;
		r->stride = s->cur.stride;
		r->height = at;
		r->partial_cut = partial;
		r->bits = xmalloc((size_t)at * (size_t)r->stride);
		memcpy(r->bits, s->cur.bits, (size_t)at * (size_t)r->stride);
		if (s->n_receipts == s->cap_receipts) {
			s->cap_receipts = s->cap_receipts ? s->cap_receipts * 2 : 8;
			s->receipts = xrealloc(s->receipts, s->cap_receipts * sizeof(*s->receipts));
		}
		s->receipts[s->n_receipts++] = r;
		size_t left = (size_t)(s->cur.height - at) * (size_t)s->cur.stride;
		memmove(s->cur.bits, s->cur.bits + (size_t)at * (size_t)s->cur.stride, left);
		s->cur.height -= at;
		LOG_DBG("receipt %zu cut: %d rows (%s)", s->n_receipts, at, partial ? "partial" : "full");
	}
	s->overflow_reported = false;
}

/* One GS v 0 row into the paper, scaled and aligned (ESC a applies to raster, standard mode). */
static void raster_row(struct sim_escpos *s)
{
	int dots = s->r_bytes * 8 * s->r_sx;
	int off = 0;
	if (s->align == 1)
		off = (s->cur.width - dots) / 2;
	else if (s->align == 2)
		off = s->cur.width - dots;
	if (off < 0)
		off = 0;
	if (s->faults[SIM_ESCPOS_FAULT_PAPER_RUNS_OUT] && --s->runs_out_rows <= 0) {
		/* The roll ends here, mid-job: the rest is held as with any paper-out. */
		LOG_INFO("the paper ran out in the middle of a raster band");
		s->faults[SIM_ESCPOS_FAULT_PAPER_RUNS_OUT] = false;
		s->faults[SIM_ESCPOS_FAULT_PAPER_OUT] = true;
	}
	for (int k = 0; k < s->r_sy; k++) {
		uint8_t *row = paper_add(s, 1);
		if (!row)
			return;
		/* A receipt is mostly white paper: a byte without ink is skipped whole, and a
		 * byte-aligned row at single width is one OR per byte. Dot by dot this loop was the
		 * headless top-up's largest cost (issue 14: 12% of its CPU). */
		bool bytewise = s->r_sx == 1 && off % 8 == 0;
		for (int j = 0; j < s->r_bytes; j++) {
			uint8_t ink = s->rowbuf[j];
			if (!ink)
				continue;
			int x0 = off + j * 8 * s->r_sx;
			if (bytewise && x0 + 8 <= s->cur.width) {
				row[x0 / 8] |= ink;
				continue;
			}
			for (int i = j * 8; i < j * 8 + 8; i++) {
				if (!(ink & (0x80u >> (i % 8))))
					continue;
				for (int d = 0; d < s->r_sx; d++) {
					int x = off + i * s->r_sx + d;
					if (x < s->cur.width) /* excess beyond the print area is not printed */
						row[x / 8] |= (uint8_t)(0x80u >> (x % 8));
				}
			}
		}
	}
}

/* A raster row is drawn once its last byte is in, whichever way the bytes came (one at a time
 * or in a run); the band ends with its last row. */
static void raster_row_if_full(struct sim_escpos *s)
{
	if (s->r_col != s->r_bytes)
		return;
	raster_row(s);
	s->r_col = 0;
	if (++s->r_row == s->r_rows) {
		s->stats.bands++;
		s->state = ST_IDLE;
	}
}

/* ---- parser ---- */

/*
 * Total header length of the command in s->hdr, given the bytes collected so far: > hdr_len
 * means wait for more, 0 means unknown command. Lengths from the Epson reference per command.
 */
static size_t header_need(const struct sim_escpos *s)
{
	const uint8_t *h = s->hdr;
	if (s->hdr_len < 2)
		return 2;
	switch (h[0]) {
	case ESC:
		switch (h[1]) {
		case '@': case '2': case '<': case 'L': case 'S': case 'i': case 'm': case FF:
			return 2;
		case '!': case '-': case 'E': case 'G': case 'M': case 'R': case 't': case 'a':
		case '{': case '3': case 'J': case 'd': case 'U': case 'V': case '=': case ' ':
		case 'T': case '%': case '?': case 'r': case 'e': case 'u':
			return 3;
		case 'c': /* ESC c 3 n, ESC c 4 n, ESC c 5 n */
			return 4;
		case '$': case '\\':
			return 4;
		case 'p': /* ESC p m t1 t2 */
			return 5;
		case 'W':
			return 10;
		case '*': /* ESC * m nL nH d... */
			return 5;
		case 'D': /* tab positions, NUL-terminated */
			return 2;
		}
		return 0;
	case GS:
		switch (h[1]) {
		case 'V':
			if (s->hdr_len < 3)
				return 3;
			switch (h[2]) {
			case 0: case 1: case '0': case '1':
				return 3;
			case 65: case 66: case 97: case 98: case 103: case 104:
				return 4;
			}
			return 0;
		case 'v':
			return 8; /* GS v 0 m xL xH yL yH */
		case '(':
			return 5; /* GS ( fn pL pH, then pL + 256 pH bytes */
		case '!': case 'B': case 'H': case 'I': case 'a': case 'b': case 'f': case 'h':
		case 'r': case 'w': case '/': case 'E':
			return 3;
		case 'L': case 'W': case 'P': case '$': case '\\':
			return 4;
		case '*': /* GS * x y d1..d(x*y*8) */
			return 4;
		case 'k':
			if (s->hdr_len < 3)
				return 3;
			return h[2] <= 6 ? 3 : 4; /* function A: NUL-terminated; B: m n d1..dn */
		}
		return 0;
	case DLE:
		switch (h[1]) {
		case 0x04:
			if (s->hdr_len < 3)
				return 3;
			return (h[2] == 7 || h[2] == 8 || h[2] == 18) ? 4 : 3;
		case 0x05:
			return 3;
		case 0x14:
			if (s->hdr_len < 3)
				return 3;
			switch (h[2]) {
			case 1: case 2:
				return 5;
			case 8:
				return 10;
			}
			return 0;
		}
		return 0;
	case FS:
		switch (h[1]) {
		case '.': case '&':
			return 2;
		case 'C':
			return 3;
		case 'p':
			return 4;
		case '(':
			return 5;
		}
		return 0;
	}
	return 0;
}

static void start_skip(struct sim_escpos *s, uint64_t n)
{
	s->skip = n;
	s->state = n ? ST_SKIP : ST_IDLE;
}

static void exec_raster(struct sim_escpos *s)
{
	const uint8_t *h = s->hdr;
	int m = h[3];
	int x = h[4] | h[5] << 8;
	int y = h[6] | h[7] << 8;
	uint64_t k = (uint64_t)x * (uint64_t)y;
	if (h[2] != '0' && h[2] != 0) {
		proto_error(s, "sim-escpos: GS v %u is not GS v 0", h[2]);
		s->state = ST_IDLE;
		return;
	}
	if (m >= 48)
		m -= 48;
	if (m > 3 || x == 0 || y == 0 || x > ROW_MAX || y > s->cfg.max_band_rows) {
		/* Invariant 1: an absurd block is counted past, never allocated. */
		proto_error(s, "sim-escpos: GS v 0 m=%u x=%d y=%d refused (x 1..%d, y 1..%d); %llu "
			"data bytes skipped", h[3], x, y, ROW_MAX, s->cfg.max_band_rows,
			(unsigned long long)k);
		start_skip(s, k);
		return;
	}
	s->r_bytes = x;
	s->r_rows = y;
	s->r_sx = (m & 1) ? 2 : 1;
	s->r_sy = (m & 2) ? 2 : 1;
	s->r_row = s->r_col = 0;
	s->state = ST_RASTER;
}

static void exec_payload(struct sim_escpos *s)
{
	const uint8_t *p = s->payload;
	if (s->pay_fn == 'H' && s->pay_len == 6 && p[0] == 0x30 && p[1] == 0x30) {
		/* GS ( H fn48: answer 37 22 d1..d4 00 once everything before it has printed; the
		 * parser only runs while online, so reaching here means it has. */
		const uint8_t r[7] = {0x37, 0x22, p[2], p[3], p[4], p[5], 0x00};
		reply(s, r, sizeof(r));
	} else if (s->pay_fn == 'D' && s->pay_len >= 3 && p[0] == 0x14 && s->pay_len % 2 == 1) {
		for (size_t i = 1; i + 1 < s->pay_len; i += 2) {
			bool enable = p[i + 1] == 1;
			if (p[i] == 1)
				s->dc4_pulse_enabled = enable;
			else if (p[i] == 2)
				s->dc4_poweroff_enabled = enable;
		}
	}
	s->state = ST_IDLE;
}

static void execute(struct sim_escpos *s)
{
	const uint8_t *h = s->hdr;
	s->state = ST_IDLE;
	if (h[0] == ESC) {
		switch (h[1]) {
		case '@':
			reset_modes(s);
			break;
		case '2':
			s->line_spacing = (s->cfg.dpi + 3) / 6;
			break;
		case '3':
			s->line_spacing = h[2];
			break;
		case 'J':
			feed(s, h[2]);
			break;
		case 'd':
			feed(s, h[2] * s->line_spacing);
			break;
		case 'a':
			s->align = (h[2] >= '0' ? h[2] - '0' : h[2]);
			if (s->align > 2)
				s->align = 0;
			break;
		case 'D':
			s->nul_budget = 33; /* at most 32 tab positions and the NUL */
			s->state = ST_UNTIL_NUL;
			break;
		case '*': {
			uint64_t n = (uint64_t)(h[3] | h[4] << 8);
			proto_error(s, "sim-escpos: ESC * bit image is not rendered by this raster model");
			start_skip(s, (h[2] == 32 || h[2] == 33) ? 3 * n : n);
			break;
		}
		}
		return;
	}
	if (h[0] == GS) {
		switch (h[1]) {
		case 'V':
			if (s->hdr_len == 3)
				cut(s, h[2] == 1 || h[2] == '1', false, 0);
			else
				cut(s, h[2] % 2 == 0, true, h[3]); /* 66, 98, 104 partial */
			break;
		case 'v':
			exec_raster(s);
			break;
		case '(': {
			size_t n = (size_t)(h[3] | h[4] << 8);
			if ((h[2] == 'H' || h[2] == 'D') && n <= PAYLOAD_MAX && n > 0) {
				s->pay_fn = h[2];
				s->pay_need = n;
				s->pay_len = 0;
				s->state = ST_PAYLOAD;
			} else {
				start_skip(s, n); /* length-defined: safe to skip whatever the function */
			}
			break;
		}
		case '*':
			start_skip(s, (uint64_t)h[2] * h[3] * 8);
			break;
		case 'k':
			proto_error(s, "sim-escpos: GS k barcode is not rendered by this raster model");
			if (s->hdr_len == 3) {
				s->nul_budget = 256;
				s->state = ST_UNTIL_NUL;
			} else {
				start_skip(s, h[3]);
			}
			break;
		}
		return;
	}
	if (h[0] == FS && h[1] == '(')
		start_skip(s, (uint64_t)(h[3] | h[4] << 8));
	/* DLE EOT / DLE DC4 already acted on arrival (invariant 3); DLE ENQ needs no model. */
}

static void step(struct sim_escpos *s, uint8_t b)
{
	switch (s->state) {
	case ST_IDLE:
		switch (b) {
		case ESC: case GS: case DLE: case FS:
			s->hdr[0] = b;
			s->hdr_len = 1;
			s->state = ST_CMD;
			break;
		case LF:
			feed(s, s->line_spacing);
			break;
		case NUL: case HT: case CR: case FF: case CAN:
			break; /* CR: auto line feed is off by default; HT without tabs; FF page mode */
		default:
			if (b < 0x20) {
				proto_error(s, "sim-escpos: unknown control byte 0x%02x", b);
			} else {
				s->stats.text_bytes++;
				proto_error(s, "sim-escpos: text byte 0x%02x: this model prints raster only",
					b);
			}
		}
		break;
	case ST_CMD: {
		s->hdr[s->hdr_len++] = b;
		size_t need = header_need(s);
		if (need == 0) {
			proto_error(s, "sim-escpos: unknown command %02x %02x%s", s->hdr[0], s->hdr[1],
				s->hdr_len > 2 ? " (+1)" : "");
			s->state = ST_IDLE;
		} else if (s->hdr_len >= need) {
			execute(s);
		}
		break;
	}
	case ST_RASTER:
		s->rowbuf[s->r_col++] = b;
		raster_row_if_full(s);
		break;
	case ST_PAYLOAD:
		s->payload[s->pay_len++] = b;
		if (s->pay_len == s->pay_need)
			exec_payload(s);
		break;
	case ST_SKIP:
		if (--s->skip == 0)
			s->state = ST_IDLE;
		break;
	case ST_UNTIL_NUL:
		if (b == NUL) {
			s->state = ST_IDLE;
		} else if (--s->nul_budget == 0) {
			proto_error(s, "sim-escpos: NUL-terminated list too long");
			s->state = ST_IDLE;
		}
		break;
	case ST_COUNT:
		break;
	}
}

/*
 * Length of the complete real-time command at buf[0..len), or 0 (invariant 4): DLE EOT n,
 * DLE ENQ n and DLE DC4 fn m t, the forms realtime_scan knows. A command cut short by the end
 * of the write is not taken: the host sends it again whole.
 */
static size_t rt_len(const uint8_t *buf, size_t len)
{
	if (len < 3 || buf[0] != DLE)
		return 0;
	if ((buf[1] == 0x04 && buf[2] >= 1 && buf[2] <= 4) || buf[1] == 0x05)
		return 3;
	if (buf[1] == 0x14 && (buf[2] == 1 || buf[2] == 2) && len >= 5)
		return 5;
	return 0;
}

/*
 * Raster data arriving with nothing held and the printer online goes straight into the row,
 * up to the row's end (raster_row may take the printer offline: the caller looks again).
 * Exactly what the byte path would do: realtime_scan can act only on a byte with a DLE two or
 * four bytes before it, so a run with no DLE in it or in the last four bytes seen only moves
 * the history; anything else goes byte by byte. Byte by byte, the calls per raster byte were
 * a tenth of a headless top-up's CPU (issue 14). Returns the bytes taken (0: none).
 */
static size_t raster_run(struct sim_escpos *s, const uint8_t *buf, size_t n)
{
	size_t left = (size_t)(s->r_bytes - s->r_col);
	size_t m = n < left ? n : left;
	if (m == 0 || memchr(s->hist + 1, DLE, sizeof(s->hist) - 1) || memchr(buf, DLE, m))
		return 0;
	memcpy(s->rowbuf + s->r_col, buf, m);
	s->r_col += (int)m;
	if (m >= sizeof(s->hist)) {
		memcpy(s->hist, buf + m - sizeof(s->hist), sizeof(s->hist));
	} else {
		memmove(s->hist, s->hist + m, sizeof(s->hist) - m);
		memcpy(s->hist + sizeof(s->hist) - m, buf, m);
	}
	s->stats.bytes_in += m;
	raster_row_if_full(s);
	return m;
}

static void process(struct sim_escpos *s)
{
	size_t pos = 0;
	while (pos < s->rx_len && online(s))
		step(s, s->rx[pos++]);
	memmove(s->rx, s->rx + pos, s->rx_len - pos);
	s->rx_len -= pos;
}

int sim_escpos_write(struct sim_escpos *s, const uint8_t *buf, size_t len, size_t *accepted,
	struct kio_error *err)
{
	size_t i = 0;
	s->chunk_failed = false;
	while (i < len) {
		if (!sim_escpos_connected(s)) {
			i = len; /* swallowed: a dead device answers nothing */
			break;
		}
		size_t room = s->cfg.rx_capacity - s->rx_len;
		size_t rt = rt_len(buf + i, len - i);
		if (rt > room) {
			/* Invariant 4: a real-time command the buffer has no room for is executed on
			 * arrival and not stored, never split between the buffer and a NAK. */
			for (size_t k = 0; k < rt; k++)
				realtime_scan(s, buf[i + k]);
			i += rt;
			s->stats.bytes_in += rt;
			s->stats.realtime_unbuffered++;
			continue;
		}
		if (room == 0)
			break; /* offline and full: NAK */
		/* Up to the next real-time command, which the loop above looks at whole. */
		size_t n = len - i < room ? len - i : room;
		for (size_t k = 1; k < n; k++)
			if (buf[i + k] == DLE && rt_len(buf + i + k, len - i - k) > room - k) {
				n = k;
				break;
			}
		for (size_t k = 0; k < n && sim_escpos_connected(s); k++) {
			size_t run = s->state == ST_RASTER && s->rx_len == 0 && online(s) ? raster_run(s, buf + i, n - k) : 0;
			if (run) {
				i += run;
				k += run - 1;
				continue;
			}
			s->rx[s->rx_len++] = buf[i];
			realtime_scan(s, buf[i]);
			i++;
			s->stats.bytes_in++;
			/* Byte by byte, so replies keep stream order whatever the chunking. */
			process(s);
		}
	}
	if (accepted)
		*accepted = i;
	if (s->chunk_failed) {
		if (err)
			*err = s->chunk_error;
		return KIO_ERR_PROTOCOL;
	}
	return 0;
}

size_t sim_escpos_read(struct sim_escpos *s, uint8_t *buf, size_t cap)
{
	size_t n = s->tx_len < cap ? s->tx_len : cap;
	if (n == 0)
		return 0; /* tx may still be NULL: memcpy forbids it even for 0 bytes */
	memcpy(buf, s->tx, n);
	memmove(s->tx, s->tx + n, s->tx_len - n);
	s->tx_len -= n;
	return n;
}

size_t sim_escpos_readable(const struct sim_escpos *s)
{
	return s->tx_len;
}

void sim_escpos_fault_set(struct sim_escpos *s, enum sim_escpos_fault f, bool on)
{
	if ((unsigned)f >= SIM_ESCPOS_FAULT_COUNT)
		return;
	if (s->faults[f] != on)
		LOG_INFO("fault %s %s", fault_names[f], on ? "raised" : "cleared");
	s->faults[f] = on;
	if (f == SIM_ESCPOS_FAULT_PAPER_RUNS_OUT)
		s->runs_out_rows = SIM_ESCPOS_RUNS_OUT_ROWS;
	s->chunk_failed = false;
	process(s); /* resume held data once back online */
}

bool sim_escpos_fault_get(const struct sim_escpos *s, enum sim_escpos_fault f)
{
	return (unsigned)f < SIM_ESCPOS_FAULT_COUNT && s->faults[f];
}

int sim_escpos_fault_parse(const char *name, enum sim_escpos_fault *out)
{
	for (int f = 0; f < SIM_ESCPOS_FAULT_COUNT; f++)
		if (strcmp(name, fault_names[f]) == 0) {
			*out = (enum sim_escpos_fault)f;
			return 0;
		}
	return KIO_ERR_NOT_FOUND;
}

const char *sim_escpos_fault_name(enum sim_escpos_fault f)
{
	return (unsigned)f < SIM_ESCPOS_FAULT_COUNT ? fault_names[f] : "unknown";
}

void sim_escpos_power_cycle(struct sim_escpos *s)
{
	s->powered_off = false;
	s->rx_len = 0;
	s->tx_len = 0;
	memset(s->hist, 0, sizeof(s->hist));
	s->dc4_pulse_enabled = s->dc4_poweroff_enabled = true; /* power-on default: enabled */
	s->state = ST_IDLE;
	s->hdr_len = 0;
	s->cur.height = 0;
	s->overflow_reported = false;
	reset_modes(s);
}

int sim_escpos_new(const struct sim_escpos_config *cfg, struct sim_escpos **out,
	struct kio_error *err)
{
	struct sim_escpos_config c;
	if (cfg)
		c = *cfg;
	else
		sim_escpos_config_default(&c);
	*out = NULL;
	if (c.width_dots < 8 || c.width_dots > ROW_MAX * 8 || c.dpi < 60 || c.dpi > 600 ||
		c.max_band_rows < 1 || c.max_band_rows > 65535 || c.max_page_rows < 1 ||
		c.max_page_rows > 1 << 20 || c.rx_capacity < 1 || c.rx_capacity > 1 << 24 ||
		c.cutter_offset < 0 || c.cutter_offset > 1000)
		return kio_fail(err, KIO_ERR_INVALID, "sim-escpos: bad config (width %d dpi %d)",
			c.width_dots, c.dpi);
	struct sim_escpos *s = xcalloc(1, sizeof(*s));
	s->cfg = c;
	s->rx = xmalloc(c.rx_capacity);
	s->cur.width = c.width_dots;
	s->cur.stride = (c.width_dots + 7) / 8;
	sim_escpos_power_cycle(s);
	*out = s;
	return 0;
}

void sim_escpos_free(struct sim_escpos *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_receipts; i++) {
		if (s->receipts[i])
			free(s->receipts[i]->bits);
		free(s->receipts[i]);
	}
	free(s->receipts);
	free(s->cur.bits);
	free(s->rx);
	free(s->tx);
	free(s);
}

size_t sim_escpos_receipt_count(const struct sim_escpos *s)
{
	return s->n_receipts;
}

const struct sim_escpos_page *sim_escpos_receipt(const struct sim_escpos *s, size_t index)
{
	return index < s->n_receipts ? s->receipts[index] : NULL;
}

void sim_escpos_receipt_release(struct sim_escpos *s, size_t index)
{
	if (index >= s->n_receipts || !s->receipts[index])
		return;
	free(s->receipts[index]->bits);
	free(s->receipts[index]);
	s->receipts[index] = NULL;
}

const struct sim_escpos_page *sim_escpos_current(const struct sim_escpos *s)
{
	return &s->cur;
}

void sim_escpos_stats(const struct sim_escpos *s, struct sim_escpos_stats *out)
{
	*out = s->stats;
	out->held = s->rx_len;
}

const struct kio_error *sim_escpos_last_error(const struct sim_escpos *s)
{
	return &s->last_error;
}

bool sim_escpos_page_get(const struct sim_escpos_page *p, int x, int y)
{
	if (x < 0 || y < 0 || x >= p->width || y >= p->height)
		return false;
	return p->bits[(size_t)y * (size_t)p->stride + (size_t)x / 8] & (0x80u >> (x % 8));
}

size_t sim_escpos_page_ink(const struct sim_escpos_page *p)
{
	size_t n = 0;
	for (size_t i = 0; i < (size_t)p->height * (size_t)p->stride; i++)
		n += (size_t)__builtin_popcount(p->bits[i]);
	return n;
}

int sim_escpos_page_write_png(const struct sim_escpos_page *p, const char *path,
	struct kio_error *err)
{
	if (!p || p->height < 1 || p->width < 1)
		return kio_fail(err, KIO_ERR_INVALID, "sim-escpos: empty page for %s", path);
	return core_png_write_ink(path, p->width, p->height, p->stride, p->bits, err);
}
