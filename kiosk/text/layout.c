/*
 * The layout pipeline (issue 4), paragraph by paragraph: bidi levels with bracket pairs,
 * script and face itemisation, HarfBuzz shaping with whole-paragraph context, line
 * breaking in logical order on shaped advances, then per-line L1/L2 reordering and
 * alignment. Work arrays live in the engine and are reused; a layout is one allocation.
 *
 * Invariants:
 * 1. Glyphs of a run are in visual (left-to-right) order; runs of a line likewise.
 * 2. Reordering (L1, L2) happens per line, after wrapping, never on the whole paragraph.
 * 3. Glyph clusters are byte offsets into layout->text, monotone inside a run.
 * 4. Every character is shaped with one of the engine's two faces (role + weight).
 * 5. A line shows the paragraph's shaping, except at a break that falls inside a shaping
 *    context (HarfBuzz flags the glyph after it UNSAFE_TO_BREAK): there the run's piece on
 *    that line is shaped again with the line alone as context, so a break after a ZERO
 *    WIDTH SPACE or an emergency cut inside a word ends the line with a final form and
 *    starts the next with an initial one (as Blink's ShapingLineBreaker and Pango do).
 *    A break at a space changes no form. tests/unit/text/test_break_reshape.c holds both.
 */
#define LOG_MODULE "text"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"
#include "kiosk/text/text-priv.h"

struct item {
	int start, len;        /* paragraph-relative code point indices */
	FriBidiLevel level;
	hb_script_t script;
	enum text_role role;
	int font;
	uint32_t gstart, gcount; /* into scratch.shaped, visual order */
};

#define GROW(ptr, cap, need)                                                     \
	do {                                                                     \
		if ((need) > (cap)) {                                            \
			size_t c_ = (cap) ? (cap) : 64;                          \
			while (c_ < (need))                                      \
				c_ *= 2;                                         \
			(ptr) = xrealloc((ptr), c_ * sizeof(*(ptr)));            \
			(cap) = c_;                                              \
		}                                                                \
	} while (0)

static void scratch_reserve(struct scratch *s, size_t n)
{
	if (n <= s->cap)
		return;
	size_t c = s->cap ? s->cap : 256;
	while (c < n)
		c *= 2;
	s->cps = xrealloc(s->cps, c * sizeof(*s->cps));
	s->offs = xrealloc(s->offs, (c + 1) * sizeof(*s->offs));
	s->types = xrealloc(s->types, c * sizeof(*s->types));
	s->btypes = xrealloc(s->btypes, c * sizeof(*s->btypes));
	s->levels = xrealloc(s->levels, c * sizeof(*s->levels));
	s->map = xrealloc(s->map, c * sizeof(*s->map));
	s->scripts = xrealloc(s->scripts, c * sizeof(*s->scripts));
	s->roles = xrealloc(s->roles, c * sizeof(*s->roles));
	s->brk = xrealloc(s->brk, c * sizeof(*s->brk));
	s->adv26 = xrealloc(s->adv26, c * sizeof(*s->adv26));
	s->cluster_start = xrealloc(s->cluster_start, c * sizeof(*s->cluster_start));
	s->run_of = xrealloc(s->run_of, c * sizeof(*s->run_of));
	s->cap = c;
}

/* Bidi class B: where UAX #9 P1 splits paragraphs. */
static bool is_par_sep(uint32_t cp)
{
	return cp == 0x0a || cp == 0x0d || (cp >= 0x1c && cp <= 0x1e) || cp == 0x85 ||
	       cp == 0x2029;
}

/* Whitespace that hangs past the margin of a wrapped line (and L1 resets). */
static bool is_hanging_space(FriBidiCharType t)
{
	return t == FRIBIDI_TYPE_WS || t == FRIBIDI_TYPE_SS;
}

static bool is_mark(struct text_engine *e, uint32_t cp)
{
	hb_unicode_general_category_t gc = hb_unicode_general_category(e->ufuncs, cp);
	return gc == HB_UNICODE_GENERAL_CATEGORY_NON_SPACING_MARK ||
	       gc == HB_UNICODE_GENERAL_CATEGORY_SPACING_MARK ||
	       gc == HB_UNICODE_GENERAL_CATEGORY_ENCLOSING_MARK;
}

/* Invisible characters do not vote in the face check (issue 4, face rule 4). */
static bool is_invisible(struct text_engine *e, uint32_t cp)
{
	hb_unicode_general_category_t gc = hb_unicode_general_category(e->ufuncs, cp);
	return gc == HB_UNICODE_GENERAL_CATEGORY_FORMAT ||
	       gc == HB_UNICODE_GENERAL_CATEGORY_CONTROL;
}

static bool script_is_neutral(hb_script_t sc)
{
	return sc == HB_SCRIPT_COMMON || sc == HB_SCRIPT_INHERITED || sc == HB_SCRIPT_UNKNOWN;
}

/*
 * Script per character as libraqm 0.7 resolves it (_raqm_resolve_scripts), so runs split
 * where the oracle's do: Common and Inherited take the script before them, a closing
 * bracket that of its opening partner, and leading ones the first real script after them.
 */
static void resolve_scripts(struct text_engine *e, const uint32_t *cps,
			    const FriBidiBracketType *bt, int n, hb_script_t *sc)
{
	enum { STACK = 64 };
	hb_script_t st_script[STACK];
	FriBidiBracketType st_id[STACK];
	int depth = 0, last_set = -1;
	bool have_last = false;
	hb_script_t last = HB_SCRIPT_COMMON;

	for (int i = 0; i < n; i++)
		sc[i] = hb_unicode_script(e->ufuncs, cps[i]);
	for (int i = 0; i < n; i++) {
		if (sc[i] == HB_SCRIPT_COMMON && have_last) {
			FriBidiBracketType b = bt[i];
			if (b != FRIBIDI_NO_BRACKET && FRIBIDI_IS_BRACKET_OPEN(b)) {
				sc[i] = last;
				if (depth < STACK) {
					st_script[depth] = last;
					st_id[depth++] = FRIBIDI_BRACKET_ID(b);
				}
			} else if (b != FRIBIDI_NO_BRACKET) {
				while (depth && st_id[depth - 1] != FRIBIDI_BRACKET_ID(b))
					depth--;
				if (depth) {
					sc[i] = st_script[--depth];
					last = sc[i];
				} else {
					sc[i] = last;
				}
			} else {
				sc[i] = last;
			}
			last_set = i;
		} else if (sc[i] == HB_SCRIPT_INHERITED && have_last) {
			sc[i] = last;
			last_set = i;
		} else {
			for (int j = last_set + 1; j < i; j++)
				sc[j] = sc[i];
			last = sc[i];
			have_last = true;
			last_set = i;
		}
	}
}

/*
 * Face per character, the rule of issue 4:
 * 1. Arabic script takes the Arabic face, any other real script the Latin face;
 * 2. a run of neutrals takes the face of the character before it, at the start of the
 *    text that of the one after it, and with no script at all the Latin face;
 * 3. if that face lacks any character of the run and the other face has them all, the
 *    whole run switches (a number keeps one face), otherwise only the missing ones do;
 * 4. invisible characters (ZWJ, ZWNJ, bidi controls) do not count.
 * Roles here are TEXT_ROLE_ARABIC or TEXT_ROLE_LATIN; the weight is added by the caller.
 */
static void assign_faces(struct text_engine *e, const uint32_t *cps, int n, uint8_t *role)
{
	hb_script_t prev_real = HB_SCRIPT_INVALID;
	for (int i = 0; i < n;) {
		hb_script_t sc = hb_unicode_script(e->ufuncs, cps[i]);
		if (!script_is_neutral(sc)) {
			enum text_role r = sc == HB_SCRIPT_ARABIC ? TEXT_ROLE_ARABIC : TEXT_ROLE_LATIN;
			enum text_role o = r == TEXT_ROLE_ARABIC ? TEXT_ROLE_LATIN : TEXT_ROLE_ARABIC;
			if (!text_role_has(e, r, cps[i]) && text_role_has(e, o, cps[i]))
				r = o;
			role[i++] = (uint8_t)r;
			prev_real = sc;
			continue;
		}
		int j = i;
		while (j < n && script_is_neutral(hb_unicode_script(e->ufuncs, cps[j])))
			j++;
		enum text_role f;
		if (prev_real != HB_SCRIPT_INVALID)
			f = prev_real == HB_SCRIPT_ARABIC ? TEXT_ROLE_ARABIC : TEXT_ROLE_LATIN;
		else if (j < n)
			f = hb_unicode_script(e->ufuncs, cps[j]) == HB_SCRIPT_ARABIC ? TEXT_ROLE_ARABIC
										 : TEXT_ROLE_LATIN;
		else
			f = TEXT_ROLE_LATIN;
		enum text_role o = f == TEXT_ROLE_ARABIC ? TEXT_ROLE_LATIN : TEXT_ROLE_ARABIC;
		bool f_lacks = false, o_has_all = true;
		for (int k = i; k < j; k++) {
			if (is_invisible(e, cps[k]))
				continue;
			if (!text_role_has(e, f, cps[k]))
				f_lacks = true;
			if (!text_role_has(e, o, cps[k]))
				o_has_all = false;
		}
		if (f_lacks && o_has_all) {
			f = o;
			o = f == TEXT_ROLE_ARABIC ? TEXT_ROLE_LATIN : TEXT_ROLE_ARABIC;
			f_lacks = false;
		}
		for (int k = i; k < j; k++) {
			enum text_role r = f;
			if (f_lacks && !is_invisible(e, cps[k]) && !text_role_has(e, f, cps[k]) &&
			    text_role_has(e, o, cps[k]))
				r = o;
			role[k] = (uint8_t)r;
		}
		i = j;
	}
}

static void shape_into(struct text_engine *e, const struct item *it, const uint32_t *ctx,
		       int ctx_len, int start, int len, bool bot, bool eot, int cluster_base)
{
	struct scratch *s = &e->s;
	hb_buffer_t *buf = e->buf;

	hb_buffer_clear_contents(buf);
	hb_buffer_set_direction(buf, it->level & 1 ? HB_DIRECTION_RTL : HB_DIRECTION_LTR);
	hb_buffer_set_script(buf, it->script);
	hb_buffer_set_language(buf, it->script == HB_SCRIPT_ARABIC ? e->lang_ar : e->lang_en);
	/* Marks keep their own clusters, so a caret can stop between letter and haraka. */
	hb_buffer_set_cluster_level(buf, HB_BUFFER_CLUSTER_LEVEL_MONOTONE_CHARACTERS);
	/* BOT/EOT only at the real text edges: a lone haraka elsewhere gets no dotted circle. */
	hb_buffer_set_flags(buf, (bot ? HB_BUFFER_FLAG_BOT : 0) | (eot ? HB_BUFFER_FLAG_EOT : 0));
	/* The whole context goes in, so joining across a face or script change is right. */
	hb_buffer_add_utf32(buf, ctx, ctx_len, (unsigned)start, len);
	hb_shape(e->fonts[it->font].hb, buf, NULL, 0);

	unsigned n = 0;
	hb_glyph_info_t *info = hb_buffer_get_glyph_infos(buf, &n);
	hb_glyph_position_t *pos = hb_buffer_get_glyph_positions(buf, NULL);
	GROW(s->shaped, s->shaped_cap, s->n_shaped + n);
	for (unsigned k = 0; k < n; k++) {
		struct text_glyph *g = &s->shaped[s->n_shaped++];
		g->gid = info[k].codepoint;
		g->cluster = info[k].cluster + (uint32_t)cluster_base;
		g->x26 = 0;
		g->x_offset26 = pos[k].x_offset;
		g->y_offset26 = pos[k].y_offset;
		g->x_advance26 = pos[k].x_advance;
		g->font = (uint16_t)it->font;
		g->flags = (uint8_t)hb_glyph_info_get_glyph_flags(&info[k]);
		g->role = (uint8_t)e->fonts[it->font].role;
	}
}

/* Index range [*gs, *ge) of an item's glyphs whose clusters lie in [cmin, cmax]. */
static void item_glyph_range(const struct scratch *s, const struct item *it, int cmin, int cmax,
			     uint32_t *gs, uint32_t *ge)
{
	const struct text_glyph *g = s->shaped + it->gstart;
	bool rtl = it->level & 1;
	uint32_t n = it->gcount, lo = 0, hi = n;
	/* Clusters ascend in LTR, descend in RTL (invariant 3): two binary searches. */
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		bool before = rtl ? (int)g[mid].cluster > cmax : (int)g[mid].cluster < cmin;
		if (before)
			lo = mid + 1;
		else
			hi = mid;
	}
	uint32_t first = lo;
	hi = n;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		bool inside = rtl ? (int)g[mid].cluster >= cmin : (int)g[mid].cluster <= cmax;
		if (inside)
			lo = mid + 1;
		else
			hi = mid;
	}
	*gs = it->gstart + first;
	*ge = it->gstart + lo;
}

static bool unsafe_at(const struct scratch *s, const struct item *it, int cp)
{
	uint32_t gs, ge;
	item_glyph_range(s, it, cp, cp, &gs, &ge);
	for (uint32_t k = gs; k < ge; k++)
		if (s->shaped[k].flags & HB_GLYPH_FLAG_UNSAFE_TO_BREAK)
			return true;
	return false;
}

struct para {
	const uint32_t *cps;
	const uint32_t *offs;  /* byte offsets, indexed like cps, one past the end valid */
	int n;
	FriBidiCharType *types;
	FriBidiLevel *levels;
	FriBidiParType dir;
	struct item *items;
	int n_items;
	/* work arrays, indexed like cps */
	int32_t *adv26;          /* advance of the glyphs whose cluster starts here */
	uint8_t *cluster_start;  /* a glyph cluster starts here */
	int32_t *run_of;         /* item of each character */
	uint8_t *brk;            /* enum text_brk after each character */
	FriBidiStrIndex *map;    /* visual to logical, per line */
};

/* Appends the visual runs and glyphs of the line [ls, le); shown_end hides hung spaces. */
static void emit_line(struct text_engine *e, struct para *p, int ls, int le, int shown_end)
{
	struct scratch *s = &e->s;
	GROW(s->lines, s->lines_cap, s->n_lines + 1);
	struct text_line *line = &s->lines[s->n_lines++];
	memset(line, 0, sizeof(*line));
	line->run_start = (uint32_t)s->n_runs;
	line->byte_start = p->offs[ls];
	line->byte_end = p->offs[le];
	line->rtl = FRIBIDI_IS_RTL(p->dir);
	if (le <= ls)
		return;

	if (text_bidi_reorder_line(p->types, ls, le - ls, p->dir, p->levels, p->map) != 0)
		LOG_WARN("fribidi_reorder_line failed; line shown in logical order");

	/* 64-bit: a line of thousands of wide glyphs passes INT32_MAX (U+FDFD is 2,166 px at
	 * 300 px); text_layout_build refuses any beyond TEXT_EXTENT_MAX_PX. */
	int64_t pen = 0;
	const int64_t limit26 = (int64_t)TEXT_EXTENT_MAX_PX * 64;
	for (int v = ls; v < le;) {
		int c = p->map[v];
		if (c >= shown_end) {
			v++;
			continue;
		}
		int item = p->run_of[c];
		FriBidiLevel lvl = p->levels[c];
		int cmin = c, cmax = c, w = v + 1;
		while (w < le) {
			int d = p->map[w];
			if (d >= shown_end || p->run_of[d] != item || p->levels[d] != lvl)
				break;
			cmin = d < cmin ? d : cmin;
			cmax = d > cmax ? d : cmax;
			w++;
		}
		v = w;

		const struct item *it = &p->items[item];
		bool cut_start = cmin == ls && it->start < ls && unsafe_at(s, it, ls);
		bool cut_end = cmax == le - 1 && it->start + it->len > le && unsafe_at(s, it, le);
		uint32_t gs, ge;
		size_t mark = s->n_shaped;
		if (cut_start || cut_end) {
			/*
			 * The break split a shaping context (HB_GLYPH_FLAG_UNSAFE_TO_BREAK): shape
			 * this piece again with only the line as context.
			 */
			shape_into(e, it, p->cps + ls, le - ls, cmin - ls, cmax - cmin + 1,
				   ls == 0, le == p->n, ls);
			gs = (uint32_t)mark;
			ge = (uint32_t)s->n_shaped;
		} else {
			item_glyph_range(s, it, cmin, cmax, &gs, &ge);
		}

		GROW(s->runs, s->runs_cap, s->n_runs + 1);
		GROW(s->glyphs, s->glyphs_cap, s->n_glyphs + (ge - gs));
		struct text_run *run = &s->runs[s->n_runs++];
		run->glyph_start = (uint32_t)s->n_glyphs;
		run->glyph_count = ge - gs;
		run->byte_start = p->offs[cmin];
		run->byte_end = p->offs[cmax + 1];
		run->level = lvl;
		for (uint32_t k = gs; k < ge; k++) {
			struct text_glyph *g = &s->glyphs[s->n_glyphs++];
			*g = s->shaped[k];
			g->cluster = p->offs[g->cluster];
			g->x26 = (int32_t)(pen < limit26 ? pen : limit26);
			pen += g->x_advance26;
		}
		s->n_shaped = mark;
	}
	line->run_count = (uint32_t)s->n_runs - line->run_start;
	line->width26 = (int32_t)(pen < limit26 ? pen : limit26);
	if (pen > s->widest26)
		s->widest26 = pen;
}

/* A line may end before character k: a cluster starts there and it is no mark. */
static bool can_cut(struct text_engine *e, const struct para *p, int k)
{
	return k >= p->n || (p->cluster_start[k] && !is_mark(e, p->cps[k]));
}

/* Greedy wrapping on the shaped advances, at UAX #14 opportunities in logical order. */
static void wrap_paragraph(struct text_engine *e, struct para *p, int32_t max26)
{
	int ls = 0;

	while (ls < p->n) {
		int64_t w = 0, wc = 0; /* see emit_line: a line's advances may pass INT32_MAX */
		int last_ok = -1, le = p->n;
		bool hard = false;
		for (int k = ls; k < p->n; k++) {
			w += p->adv26[k];
			if (!is_hanging_space(p->types[k]))
				wc = w;
			if (max26 > 0 && wc > max26 && k > ls) {
				if (last_ok > ls) {
					le = last_ok;
					break;
				}
				/* No opportunity in the line: cut between clusters, never inside. Counted:
				 * a word drawn in two pieces is a layout that did not fit (text.h). */
				e->s.word_cuts++;
				le = k;
				while (le > ls && !can_cut(e, p, le))
					le--;
				if (le == ls) {
					le = k + 1;
					while (!can_cut(e, p, le))
						le++;
				}
				break;
			}
			if (p->brk[k] == TEXT_BRK_MUST && k + 1 < p->n) {
				le = k + 1;
				hard = true;
				break;
			}
			if (p->brk[k] == TEXT_BRK_ALLOW)
				last_ok = k + 1;
		}
		int shown = le;
		if (le < p->n && !hard)
			while (shown > ls && is_hanging_space(p->types[shown - 1]))
				shown--;
		emit_line(e, p, ls, le, shown);
		ls = le;
	}
}

static int layout_paragraph(struct text_engine *e, const struct text_style *st, int p0, int n,
			    FriBidiParType *dir, int font_ar, int font_la)
{
	struct scratch *s = &e->s;
	struct para p = {
		.cps = s->cps + p0, .offs = s->offs + p0, .n = n,
		.types = s->types + p0, .levels = s->levels + p0, .dir = *dir,
		.adv26 = s->adv26 + p0, .cluster_start = s->cluster_start + p0,
		.run_of = s->run_of + p0, .brk = s->brk + p0, .map = s->map + p0,
	};
	if (n == 0) {
		emit_line(e, &p, 0, 0, 0);
		return 0;
	}
	FriBidiBracketType *bt = s->btypes + p0;
	text_bidi_classify(p.cps, n, p.types, bt);
	int rc = text_bidi_levels(&s->bidi, p.types, bt, n, &p.dir, p.levels);
	if (rc)
		return rc;
	*dir = p.dir;

	hb_script_t *sc = s->scripts + p0;
	uint8_t *role = s->roles + p0;
	resolve_scripts(e, p.cps, bt, n, sc);
	assign_faces(e, p.cps, n, role);

	s->n_items = 0;
	for (int i = 0; i < n;) {
		int j = i + 1;
		while (j < n && p.levels[j] == p.levels[i] && sc[j] == sc[i] && role[j] == role[i])
			j++;
		GROW(s->items, s->items_cap, s->n_items + 1);
		struct item *it = &s->items[s->n_items++];
		it->start = i;
		it->len = j - i;
		it->level = p.levels[i];
		it->script = sc[i];
		it->role = role[i];
		it->font = role[i] == TEXT_ROLE_ARABIC ? font_ar : font_la;
		i = j;
	}
	p.items = s->items;
	p.n_items = (int)s->n_items;

	s->n_shaped = 0;
	int32_t *adv = p.adv26;
	uint8_t *cstart = p.cluster_start;
	memset(adv, 0, (size_t)n * sizeof(*adv));
	memset(cstart, 0, (size_t)n);
	for (int k = 0; k < p.n_items; k++) {
		struct item *it = &p.items[k];
		it->gstart = (uint32_t)s->n_shaped;
		shape_into(e, it, p.cps, n, it->start, it->len, it->start == 0,
			   it->start + it->len == n, 0);
		it->gcount = (uint32_t)s->n_shaped - it->gstart;
		for (uint32_t g = it->gstart; g < s->n_shaped; g++) {
			uint32_t c = s->shaped[g].cluster;
			if (c < (uint32_t)n) {
				adv[c] += s->shaped[g].x_advance26;
				cstart[c] = 1;
			}
		}
		for (int c = it->start; c < it->start + it->len; c++)
			p.run_of[c] = k;
	}

	text_linebreaks(p.cps, (size_t)n, p.brk);
	wrap_paragraph(e, &p, st->max_width > 0 ? (int32_t)st->max_width * 64 : 0);
	return 0;
}

static int32_t ceil26(int32_t v)
{
	return (v + 63) >> 6;
}

struct text_layout *text_layout_build(struct text_engine *e, const char *utf8, size_t len,
				      const struct text_style *style, struct layout_cache *lc)
{
	struct scratch *s = &e->s;
	struct text_style st = *style;

	if (!utf8)
		len = 0;
	s->refused[0] = '\0';
	/* Cluster offsets are 32-bit; the kiosk never lays out anything near 256 MiB. */
	if (len > (256u << 20)) {
		snprintf(s->refused, sizeof(s->refused), "a text of %zu bytes (at most 256 MiB)", len);
		LOG_ERR("layout refused: %s", s->refused);
		return NULL;
	}
	if (st.size_px < TEXT_SIZE_MIN)
		st.size_px = TEXT_SIZE_MIN;
	if (st.size_px > TEXT_SIZE_MAX)
		st.size_px = TEXT_SIZE_MAX;
	if (st.max_width < 0)
		st.max_width = 0;
	if (st.max_width > (1 << 20)) /* keeps max_width * 64 in an int32_t */
		st.max_width = 1 << 20;
	if ((unsigned)st.dir > TEXT_DIR_LTR)
		st.dir = TEXT_DIR_AUTO;
	if ((unsigned)st.align > TEXT_ALIGN_CENTER)
		st.align = TEXT_ALIGN_START;

	enum text_role rar = st.bold ? TEXT_ROLE_ARABIC_BOLD : TEXT_ROLE_ARABIC;
	enum text_role rla = st.bold ? TEXT_ROLE_LATIN_BOLD : TEXT_ROLE_LATIN;
	uint64_t gen = e->font_gen;
	int font_ar = text_font_get(e, rar, st.size_px);
	int font_la = text_font_get(e, rla, st.size_px);
	if (gen != e->font_gen) /* the second lookup flushed the table */
		font_ar = text_font_get(e, rar, st.size_px);
	if (font_ar < 0 || font_la < 0)
		return NULL;

	scratch_reserve(s, len + 1);
	size_t n = text_utf8_decode(utf8, len, s->cps, s->offs);
	s->n_glyphs = s->n_runs = s->n_lines = 0;
	s->widest26 = 0;
	s->word_cuts = 0;

	FriBidiParType dir = st.dir == TEXT_DIR_RTL ? FRIBIDI_PAR_RTL
			     : st.dir == TEXT_DIR_LTR ? FRIBIDI_PAR_LTR : FRIBIDI_PAR_ON;
	size_t i = 0;
	for (;;) {
		size_t j = i;
		while (j < n && !is_par_sep(s->cps[j]))
			j++;
		FriBidiParType pdir = dir;
		int rc = layout_paragraph(e, &st, (int)i, (int)(j - i), &pdir, font_ar, font_la);
		if (rc) {
			LOG_ERR("bidi stage failed: %s", kio_strerror(rc));
			return NULL;
		}
		/*
		 * AUTO: a paragraph with no strong character (a lone amount) keeps the direction
		 * of the one before, which FriBidi's weak directions express.
		 */
		if (st.dir == TEXT_DIR_AUTO)
			dir = FRIBIDI_IS_RTL(pdir) ? FRIBIDI_PAR_WRTL : FRIBIDI_PAR_WLTR;
		if (j >= n)
			break;
		size_t sep = (s->cps[j] == 0x0d && j + 1 < n && s->cps[j + 1] == 0x0a) ? 2 : 1;
		/* The separator belongs to the paragraph's last line, for carets. */
		s->lines[s->n_lines - 1].byte_end = s->offs[j + sep];
		i = j + sep;
	}

	/*
	 * Line box. Noto Sans Arabic declares 1.374 + 0.738 em (2.1 em lines) to make room for
	 * stacked marks of every language written in Arabic script; the ink of real kiosk
	 * text (the seed articles, plus probes such as "لَّ بٍّ كَّ ئٌ") reaches 1.11 em above
	 * and 0.45 em below the baseline. So: at least the Latin face's box, at least 1.12 and
	 * 0.48 em, never more than the Arabic face declares. Taller ink overflows, unclipped.
	 */
	if (s->widest26 > (int64_t)TEXT_EXTENT_MAX_PX * 64) {
		snprintf(s->refused, sizeof(s->refused), "a line %lld px wide (at most %d px)",
			 (long long)((s->widest26 + 63) >> 6), TEXT_EXTENT_MAX_PX);
		LOG_ERR("layout refused: %s", s->refused);
		return NULL;
	}
	const struct text_font *fa = &e->fonts[font_ar], *fl = &e->fonts[font_la];
	int32_t em26 = st.size_px * 64;
	int32_t asc = fl->ascent26 > em26 * 112 / 100 ? fl->ascent26 : em26 * 112 / 100;
	int32_t desc = fl->descent26 > em26 * 48 / 100 ? fl->descent26 : em26 * 48 / 100;
	if (asc > fa->ascent26 && fa->ascent26 > fl->ascent26)
		asc = fa->ascent26;
	if (desc > fa->descent26 && fa->descent26 > fl->descent26)
		desc = fa->descent26;

	int64_t height = (int64_t)(ceil26(asc) + ceil26(desc)) * (int64_t)s->n_lines;
	if (height > TEXT_EXTENT_MAX_PX) {
		snprintf(s->refused, sizeof(s->refused), "%zu lines %lld px tall (at most %d px)", s->n_lines,
			 (long long)height, TEXT_EXTENT_MAX_PX);
		LOG_ERR("layout refused: %s", s->refused);
		return NULL;
	}

	size_t bytes = sizeof(struct text_layout) + s->n_lines * sizeof(struct text_line) +
		       s->n_runs * sizeof(struct text_run) + s->n_glyphs * sizeof(struct text_glyph) +
		       len + 1;
	size_t cap = bytes;
	char *mem = lc ? text_layout_block_get(lc, bytes, &cap) : xmalloc(bytes);
	struct text_layout *l = (struct text_layout *)mem;
	l->cap = cap;
	l->pooled = lc != NULL;
	mem += sizeof(*l);
	l->lines = (struct text_line *)mem;
	mem += s->n_lines * sizeof(struct text_line);
	l->runs = (struct text_run *)mem;
	mem += s->n_runs * sizeof(struct text_run);
	l->glyphs = (struct text_glyph *)mem;
	mem += s->n_glyphs * sizeof(struct text_glyph);
	l->text = mem;
	if (len)
		memcpy(l->text, utf8, len);
	l->text[len] = '\0';
	l->text_len = len;
	l->bytes = bytes;
	l->font_gen = e->font_gen;
	l->style = st;
	l->asked = *style;
	l->n_lines = (uint32_t)s->n_lines;
	l->n_runs = (uint32_t)s->n_runs;
	l->n_glyphs = (uint32_t)s->n_glyphs;
	/* A fresh engine's scratch arrays are NULL until a text grows them, and memcpy from NULL
	 * is undefined even for 0 bytes (C17 7.24.1p2): an empty text laid out first has no runs
	 * or glyphs (found by fuzz_text_layout under UBSan). */
	if (s->n_lines)
		memcpy(l->lines, s->lines, s->n_lines * sizeof(struct text_line));
	if (s->n_runs)
		memcpy(l->runs, s->runs, s->n_runs * sizeof(struct text_run));
	if (s->n_glyphs)
		memcpy(l->glyphs, s->glyphs, s->n_glyphs * sizeof(struct text_glyph));

	int natural = 0;
	for (uint32_t k = 0; k < l->n_lines; k++) {
		int w = ceil26(l->lines[k].width26);
		natural = w > natural ? w : natural;
	}
	l->natural_width = natural;
	l->word_cuts = s->word_cuts;
	l->width = st.max_width > 0 ? st.max_width : natural;
	for (uint32_t k = 0; k < l->n_lines; k++) {
		struct text_line *line = &l->lines[k];
		int slack = l->width - ceil26(line->width26);
		bool right = (st.align == TEXT_ALIGN_START) == line->rtl;
		if (st.align == TEXT_ALIGN_CENTER)
			line->x_px = slack / 2;
		else
			line->x_px = right ? slack : 0;
	}
	l->baseline = ceil26(asc);
	l->line_height = l->baseline + ceil26(desc);
	l->height = l->line_height * (int)l->n_lines;
	return l;
}

struct text_layout *text_layout_new(struct text_engine *e, const char *utf8, size_t len,
				    const struct text_style *style)
{
	return text_layout_build(e, utf8, len, style, NULL);
}

void text_layout_free(struct text_layout *layout)
{
	free(layout);
}
