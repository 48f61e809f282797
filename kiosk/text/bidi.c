/*
 * The engine's bidi stage: FriBidi for character classes, bracket types and per-line
 * reordering (L1 end-of-line, L2); the paragraph's embedding levels (UAX #9 P2..I2 with
 * N0 bracket pairs) are resolved here, in caller-owned work arrays.
 *
 * Why not fribidi_get_par_embedding_levels_ex: FriBidi 1.0.8 mallocs and frees its run
 * lists on every call (12.7 allocations per kiosk string, bench-text), and issue 4 asks
 * for none per layout after warm-up. The rules follow the Unicode reference
 * implementation (BidiReference.java, BidiPBAReference.java) step for step, so the
 * conformance files (BidiTest.txt, BidiCharacterTest.txt) hold this file to 100%.
 *
 * Invariants:
 * 1. Work arrays grow in text_bidi_work_reserve() only; resolving allocates nothing.
 * 2. Characters removed by X9 (embeddings, overrides, PDF, BN) take the level of the
 *    character before them, so they never split a level run.
 */
#include "kiosk/text/text-priv.h"

#include <stdlib.h>

#include "kiosk/core/xmalloc.h"

/* Bidi classes as the rules name them (FriBidi's are bit masks). */
enum cls {
	L, R, AL, EN, ES, ET, AN, CS, NSM, BN, B, S, WS, ON,
	LRE, LRO, RLE, RLO, PDF, LRI, RLI, FSI, PDI,
};

#define MAX_DEPTH 125       /* UAX #9 BD2 */
#define MAX_BRACKET_DEPTH 63 /* UAX #9 BD16 */

static uint8_t class_of(FriBidiCharType t)
{
	switch (t) {
	case FRIBIDI_TYPE_LTR: return L;
	case FRIBIDI_TYPE_RTL: return R;
	case FRIBIDI_TYPE_AL: return AL;
	case FRIBIDI_TYPE_EN: return EN;
	case FRIBIDI_TYPE_ES: return ES;
	case FRIBIDI_TYPE_ET: return ET;
	case FRIBIDI_TYPE_AN: return AN;
	case FRIBIDI_TYPE_CS: return CS;
	case FRIBIDI_TYPE_NSM: return NSM;
	case FRIBIDI_TYPE_BN: return BN;
	case FRIBIDI_TYPE_BS: return B;
	case FRIBIDI_TYPE_SS: return S;
	case FRIBIDI_TYPE_WS: return WS;
	case FRIBIDI_TYPE_LRE: return LRE;
	case FRIBIDI_TYPE_LRO: return LRO;
	case FRIBIDI_TYPE_RLE: return RLE;
	case FRIBIDI_TYPE_RLO: return RLO;
	case FRIBIDI_TYPE_PDF: return PDF;
	case FRIBIDI_TYPE_LRI: return LRI;
	case FRIBIDI_TYPE_RLI: return RLI;
	case FRIBIDI_TYPE_FSI: return FSI;
	case FRIBIDI_TYPE_PDI: return PDI;
	default: return ON;
	}
}

static bool is_isolate_init(uint8_t c) { return c == LRI || c == RLI || c == FSI; }
static bool is_removed(uint8_t c) { return c == BN || (c >= LRE && c <= PDF); }
static bool is_ni(uint8_t c) { return c == B || c == S || c == WS || c == ON || (c >= LRI && c <= PDI); }

/* Strong direction for N0 and N1: numbers count as R; ON for anything else. */
static uint8_t strong_n(uint8_t c)
{
	return c == L ? L : (c == R || c == AL || c == EN || c == AN) ? R : ON;
}

void text_bidi_work_reserve(struct text_bidi_work *w, int len)
{
	if (len <= w->cap)
		return;
	int c = w->cap ? w->cap : 256;
	while (c < len)
		c *= 2;
	w->cls = xrealloc(w->cls, (size_t)c);
	w->orig = xrealloc(w->orig, (size_t)c);
	w->seq_cls = xrealloc(w->seq_cls, (size_t)c);
	w->xlevel = xrealloc(w->xlevel, (size_t)c);
	w->match = xrealloc(w->match, (size_t)c * sizeof(*w->match));
	w->kept = xrealloc(w->kept, (size_t)c * sizeof(*w->kept));
	w->run_of = xrealloc(w->run_of, (size_t)c * sizeof(*w->run_of));
	w->run_start = xrealloc(w->run_start, ((size_t)c + 1) * sizeof(*w->run_start));
	w->seq = xrealloc(w->seq, (size_t)c * sizeof(*w->seq));
	w->pairs = xrealloc(w->pairs, (size_t)c * sizeof(*w->pairs));
	w->cap = c;
}

void text_bidi_work_free(struct text_bidi_work *w)
{
	free(w->cls);
	free(w->orig);
	free(w->seq_cls);
	free(w->xlevel);
	free(w->match);
	free(w->kept);
	free(w->run_of);
	free(w->run_start);
	free(w->seq);
	free(w->pairs);
	*w = (struct text_bidi_work){0};
}

/* BD9: match[i] is the matching PDI of an isolate initiator (or of a PDI, its initiator); -1 if none. */
static void match_isolates(const uint8_t *c, int n, int *match, int *stack)
{
	int depth = 0;
	for (int i = 0; i < n; i++) {
		match[i] = -1;
		if (is_isolate_init(c[i])) {
			stack[depth++] = i;
		} else if (c[i] == PDI && depth > 0) {
			int open = stack[--depth];
			match[open] = i;
			match[i] = open;
		} else if (c[i] == B) {
			depth = 0; /* X8: a paragraph separator ends every isolate */
		}
	}
}

/* P2: the first strong class in [from, to) outside isolates: 0 (L), 1 (R, AL), -1 none. */
static int first_strong(const uint8_t *c, const int *match, int from, int to)
{
	for (int i = from; i < to; i++) {
		if (c[i] == L)
			return 0;
		if (c[i] == R || c[i] == AL)
			return 1;
		if (is_isolate_init(c[i])) {
			if (match[i] < 0)
				return -1;
			i = match[i];
		}
	}
	return -1;
}

struct status {
	uint8_t level;
	uint8_t override; /* ON: none, else L or R */
	bool isolate;
};

/* X1..X8: explicit levels; overrides rewrite t. Removed characters get the current level. */
static void explicit_levels(uint8_t *t, const int *match, int n, int plevel, FriBidiLevel *levels)
{
	struct status stack[MAX_DEPTH + 2];
	int sp = 1, over_iso = 0, over_emb = 0, valid_iso = 0;
	stack[0] = (struct status){(uint8_t)plevel, ON, false};
	for (int i = 0; i < n; i++) {
		uint8_t c = t[i];
		const struct status *top = &stack[sp - 1];
		switch (c) {
		case RLE:
		case LRE:
		case RLO:
		case LRO: {
			bool rtl = c == RLE || c == RLO;
			int nl = rtl ? (top->level + 1) | 1 : (top->level + 2) & ~1;
			levels[i] = top->level;
			if (nl <= MAX_DEPTH && over_iso == 0 && over_emb == 0)
				stack[sp++] = (struct status){(uint8_t)nl, c == RLO ? R : c == LRO ? L : ON, false};
			else if (over_iso == 0)
				over_emb++;
			break;
		}
		case RLI:
		case LRI:
		case FSI: {
			levels[i] = top->level;
			if (top->override != ON)
				t[i] = top->override;
			bool rtl = c == RLI ||
				   (c == FSI && first_strong(t, match, i + 1, match[i] >= 0 ? match[i] : n) == 1);
			int nl = rtl ? (top->level + 1) | 1 : (top->level + 2) & ~1;
			if (nl <= MAX_DEPTH && over_iso == 0 && over_emb == 0) {
				valid_iso++;
				stack[sp++] = (struct status){(uint8_t)nl, ON, true};
			} else {
				over_iso++;
			}
			break;
		}
		case PDI:
			if (over_iso > 0) {
				over_iso--;
			} else if (valid_iso > 0) {
				over_emb = 0;
				while (!stack[sp - 1].isolate)
					sp--;
				sp--;
				valid_iso--;
			}
			top = &stack[sp - 1];
			levels[i] = top->level;
			if (top->override != ON)
				t[i] = top->override;
			break;
		case PDF:
			if (over_iso == 0) {
				if (over_emb > 0)
					over_emb--;
				else if (!top->isolate && sp >= 2)
					sp--;
			}
			levels[i] = stack[sp - 1].level;
			break;
		case B:
			/* X8: the separator takes the paragraph level and ends everything. */
			levels[i] = (FriBidiLevel)plevel;
			sp = 1;
			over_iso = over_emb = valid_iso = 0;
			break;
		case BN: levels[i] = top->level; break;
		default:
			levels[i] = top->level;
			if (top->override != ON)
				t[i] = top->override;
			break;
		}
	}
}

static int cmp_pair(const void *a, const void *b)
{
	const int *x = a, *y = b;
	return (x[0] > y[0]) - (x[0] < y[0]);
}

/* N0 for one isolating run sequence: st holds its classes, idx its characters. */
static void resolve_brackets(struct text_bidi_work *w, const FriBidiBracketType *bt, const int *idx, int n,
			     uint8_t *st, uint8_t sos, uint8_t embed)
{
	/* BD16: pairs of (opener, closer) positions in the sequence. */
	int open_pos[MAX_BRACKET_DEPTH];
	FriBidiBracketType open_id[MAX_BRACKET_DEPTH];
	int depth = 0, n_pairs = 0;
	int(*pairs)[2] = (int(*)[2])w->pairs;
	for (int i = 0; i < n; i++) {
		FriBidiBracketType b = bt[idx[i]];
		if (b == FRIBIDI_NO_BRACKET || st[i] != ON)
			continue;
		if (FRIBIDI_IS_BRACKET_OPEN(b)) {
			if (depth == MAX_BRACKET_DEPTH)
				break; /* BD16: stop, keeping the pairs found so far */
			open_pos[depth] = i;
			open_id[depth++] = FRIBIDI_BRACKET_ID(b);
		} else {
			for (int k = depth - 1; k >= 0; k--) {
				if (open_id[k] == FRIBIDI_BRACKET_ID(b)) {
					pairs[n_pairs][0] = open_pos[k];
					pairs[n_pairs++][1] = i;
					depth = k;
					break;
				}
			}
		}
	}
	if (n_pairs == 0)
		return;
	qsort(pairs, (size_t)n_pairs, sizeof(pairs[0]), cmp_pair);

	uint8_t opposite = embed == L ? R : L;
	for (int p = 0; p < n_pairs; p++) {
		int o = pairs[p][0], c = pairs[p][1];
		bool found_embed = false, found_opp = false;
		for (int k = o + 1; k < c && !found_embed; k++) {
			uint8_t d = strong_n(st[k]);
			found_embed |= d == embed;
			found_opp |= d == opposite;
		}
		uint8_t dir = ON;
		if (found_embed) {
			dir = embed;
		} else if (found_opp) {
			uint8_t before = sos;
			for (int k = o - 1; k >= 0; k--) {
				uint8_t d = strong_n(st[k]);
				if (d != ON) {
					before = d;
					break;
				}
			}
			dir = before == opposite ? opposite : embed;
		}
		if (dir == ON)
			continue;
		st[o] = st[c] = dir;
		/* Marks that followed a bracket before W1 follow its new direction (Unicode 8.0). */
		for (int k = o + 1; k < c && w->orig[idx[k]] == NSM; k++)
			st[k] = dir;
		for (int k = c + 1; k < n && w->orig[idx[k]] == NSM; k++)
			st[k] = dir;
	}
}

/* W1..I2 for one isolating run sequence (characters idx[0..n), all at one level). */
static void resolve_sequence(struct text_bidi_work *w, const FriBidiBracketType *bt, const int *idx, int n,
			     int plevel, int n_total, FriBidiLevel *levels)
{
	const uint8_t *t = w->cls;
	uint8_t *st = w->seq_cls;
	int level = levels[idx[0]];

	/* sos and eos come from the explicit levels, before any sequence is resolved. */
	int prev = idx[0] - 1;
	while (prev >= 0 && is_removed(w->orig[prev]))
		prev--;
	int prev_level = prev >= 0 ? w->xlevel[prev] : plevel;
	uint8_t sos = ((prev_level > level ? prev_level : level) & 1) ? R : L;
	int succ_level = plevel;
	if (!is_isolate_init(t[idx[n - 1]])) {
		int next = idx[n - 1] + 1;
		while (next < n_total && is_removed(w->orig[next]))
			next++;
		succ_level = next < n_total ? w->xlevel[next] : plevel;
	}
	uint8_t eos = ((succ_level > level ? succ_level : level) & 1) ? R : L;

	for (int i = 0; i < n; i++)
		st[i] = t[idx[i]];

	/* W1: marks take the class before them (ON after an isolate initiator or PDI). */
	for (int i = 0; i < n; i++)
		if (st[i] == NSM)
			st[i] = i == 0 ? sos : (is_isolate_init(st[i - 1]) || st[i - 1] == PDI) ? ON : st[i - 1];
	/* W2, W3: European numbers after Arabic letters are Arabic numbers; AL is R. */
	uint8_t last = sos;
	for (int i = 0; i < n; i++) {
		if (st[i] == L || st[i] == R || st[i] == AL)
			last = st[i];
		else if (st[i] == EN && last == AL)
			st[i] = AN;
	}
	for (int i = 0; i < n; i++)
		if (st[i] == AL)
			st[i] = R;
	/* W4: one separator between two numbers of a kind joins them. */
	for (int i = 1; i + 1 < n; i++) {
		if (st[i] == ES && st[i - 1] == EN && st[i + 1] == EN)
			st[i] = EN;
		else if (st[i] == CS && st[i - 1] == EN && st[i + 1] == EN)
			st[i] = EN;
		else if (st[i] == CS && st[i - 1] == AN && st[i + 1] == AN)
			st[i] = AN;
	}
	/* W5: terminators next to European numbers are numbers. */
	for (int i = 0; i < n; i++) {
		if (st[i] != ET)
			continue;
		int end = i;
		while (end < n && st[end] == ET)
			end++;
		bool en = (i > 0 && st[i - 1] == EN) || (end < n && st[end] == EN);
		for (int k = i; k < end && en; k++)
			st[k] = EN;
		i = end;
	}
	/* W6: remaining separators and terminators are neutral. */
	for (int i = 0; i < n; i++)
		if (st[i] == ES || st[i] == ET || st[i] == CS)
			st[i] = ON;
	/* W7: European numbers after L (or an L start) are L. */
	last = sos;
	for (int i = 0; i < n; i++) {
		if (st[i] == L || st[i] == R)
			last = st[i];
		else if (st[i] == EN && last == L)
			st[i] = L;
	}

	uint8_t embed = (level & 1) ? R : L;
	if (bt)
		resolve_brackets(w, bt, idx, n, st, sos, embed);

	/* N1, N2: neutrals between two of one direction take it, else the embedding's. */
	for (int i = 0; i < n; i++) {
		if (!is_ni(st[i]))
			continue;
		int end = i;
		while (end < n && is_ni(st[end]))
			end++;
		uint8_t before = i == 0 ? sos : strong_n(st[i - 1]);
		uint8_t after = end == n ? eos : strong_n(st[end]);
		uint8_t dir = before == after ? before : embed;
		for (int k = i; k < end; k++)
			st[k] = dir;
		i = end;
	}

	/* I1, I2. */
	for (int i = 0; i < n; i++) {
		int lv = level;
		if (!(lv & 1))
			lv += st[i] == R ? 1 : (st[i] == AN || st[i] == EN) ? 2 : 0;
		else
			lv += (st[i] == L || st[i] == EN || st[i] == AN) ? 1 : 0;
		levels[idx[i]] = (FriBidiLevel)lv;
	}
}

int text_bidi_levels(struct text_bidi_work *w, const FriBidiCharType *types, const FriBidiBracketType *btypes,
		     int len, FriBidiParType *par_dir, FriBidiLevel *levels)
{
	if (len <= 0)
		return 0;
	text_bidi_work_reserve(w, len);
	uint8_t *t = w->cls;
	for (int i = 0; i < len; i++)
		t[i] = w->orig[i] = class_of(types[i]);
	/* kept doubles as the BD9 stack: it is filled only after. */
	match_isolates(t, len, w->match, w->kept);

	int plevel;
	if (*par_dir == FRIBIDI_PAR_LTR || *par_dir == FRIBIDI_PAR_RTL) {
		plevel = *par_dir == FRIBIDI_PAR_RTL;
	} else {
		plevel = first_strong(t, w->match, 0, len);
		if (plevel < 0)
			plevel = *par_dir == FRIBIDI_PAR_WRTL;
	}
	*par_dir = plevel ? FRIBIDI_PAR_RTL : FRIBIDI_PAR_LTR;

	explicit_levels(t, w->match, len, plevel, levels);
	for (int i = 0; i < len; i++)
		w->xlevel[i] = (uint8_t)levels[i];

	/* X9, X10: level runs of the kept characters, linked into isolating run sequences. */
	int nk = 0, n_runs = 0;
	for (int i = 0; i < len; i++) {
		if (is_removed(w->orig[i]))
			continue;
		if (nk == 0 || levels[i] != levels[w->kept[nk - 1]])
			w->run_start[n_runs++] = nk;
		w->run_of[i] = n_runs - 1;
		w->kept[nk++] = i;
	}
	w->run_start[n_runs] = nk;
	for (int r = 0; r < n_runs; r++) {
		int first = w->kept[w->run_start[r]];
		if (w->orig[first] == PDI && w->match[first] >= 0)
			continue; /* continues the sequence of its initiator */
		int n = 0, run = r;
		for (;;) {
			for (int k = w->run_start[run]; k < w->run_start[run + 1]; k++)
				w->seq[n++] = w->kept[k];
			int lastc = w->seq[n - 1];
			if (!is_isolate_init(w->orig[lastc]) || w->match[lastc] < 0)
				break;
			run = w->run_of[w->match[lastc]];
		}
		resolve_sequence(w, btypes, w->seq, n, plevel, len, levels);
	}

	/*
	 * L1 on the paragraph: separators, and whitespace, isolate controls and removed
	 * characters before a separator or at the paragraph's end, take the paragraph level.
	 * The end of each wrapped line is text_bidi_reorder_line's (FriBidi splits L1 so too).
	 */
	bool trailing = true;
	for (int i = len - 1; i >= 0; i--) {
		uint8_t c = w->orig[i];
		if (c == S || c == B)
			trailing = true;
		else if (c != WS && !is_isolate_init(c) && c != PDI && !is_removed(c))
			trailing = false;
		if (trailing)
			levels[i] = (FriBidiLevel)plevel;
	}
	/* Invariant 2. */
	for (int i = 0; i < len; i++)
		if (is_removed(w->orig[i]))
			levels[i] = i ? levels[i - 1] : (FriBidiLevel)plevel;
	return 0;
}

void text_bidi_classify(const uint32_t *cps, int len, FriBidiCharType *types,
			FriBidiBracketType *btypes)
{
	fribidi_get_bidi_types(cps, len, types);
	/* Without bracket types rule N0 is skipped: "(AED 100)" inside Arabic goes wrong. */
	fribidi_get_bracket_types(cps, len, types, btypes);
}

int text_bidi_reorder_line(const FriBidiCharType *types, int off, int len, FriBidiParType par_dir,
			   FriBidiLevel *levels, FriBidiStrIndex *map)
{
	if (len <= 0)
		return 0;
	for (int i = off; i < off + len; i++)
		map[i] = i;
	/*
	 * Flags 0: no FRIBIDI_FLAG_REORDER_NSM, because marks travel with their base inside
	 * HarfBuzz runs (rule L3 is the shaper's business). It takes the paragraph arrays
	 * from off and rewrites levels of trailing whitespace (L1) for this line only.
	 */
	FriBidiLevel max = fribidi_reorder_line(0, types, len, off, par_dir, levels, NULL, map);
	return max ? 0 : KIO_ERR_NOMEM;
}
