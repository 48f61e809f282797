/*
 * Reading a layout back: extents, glyph records for the tool and tests, caret positions
 * and hit testing for the on-screen keyboard, and digit shapes for formatters.
 */
#include <string.h>

#include "kiosk/text/text-priv.h"

int text_layout_width(const struct text_layout *l)
{
	return l ? l->width : 0;
}

int text_layout_height(const struct text_layout *l)
{
	return l ? l->height : 0;
}

int text_layout_line_count(const struct text_layout *l)
{
	return l ? (int)l->n_lines : 0;
}

int text_layout_baseline(const struct text_layout *l)
{
	return l ? l->baseline : 0;
}

int text_layout_natural_width(const struct text_layout *l)
{
	return l ? l->natural_width : 0;
}

int text_layout_word_cuts(const struct text_layout *l)
{
	return l ? l->word_cuts : 0;
}

int text_layout_line_x(const struct text_layout *l, int line)
{
	if (!l || line < 0 || (uint32_t)line >= l->n_lines)
		return -1;
	return l->lines[line].x_px;
}

int text_layout_line_glyphs(const struct text_layout *l, int line)
{
	if (!l || line < 0 || (uint32_t)line >= l->n_lines)
		return -1;
	const struct text_line *ln = &l->lines[line];
	int n = 0;
	for (uint32_t r = ln->run_start; r < ln->run_start + ln->run_count; r++)
		n += (int)l->runs[r].glyph_count;
	return n;
}

bool text_layout_glyph(const struct text_layout *l, int line, int i, struct text_glyph_info *out)
{
	if (!l || line < 0 || (uint32_t)line >= l->n_lines || i < 0)
		return false;
	const struct text_line *ln = &l->lines[line];
	for (uint32_t r = ln->run_start; r < ln->run_start + ln->run_count; r++) {
		const struct text_run *run = &l->runs[r];
		if ((uint32_t)i >= run->glyph_count) {
			i -= (int)run->glyph_count;
			continue;
		}
		const struct text_glyph *g = &l->glyphs[run->glyph_start + (uint32_t)i];
		out->glyph_id = g->gid;
		out->cluster = g->cluster;
		out->x26 = g->x26;
		out->x_offset26 = g->x_offset26;
		out->y_offset26 = g->y_offset26;
		out->x_advance26 = g->x_advance26;
		out->arabic_face = g->role == TEXT_ROLE_ARABIC || g->role == TEXT_ROLE_ARABIC_BOLD;
		out->rtl = run->level & 1;
		return true;
	}
	return false;
}

/* Length of the UTF-8 character at s[i] as the decoder sees it (invalid bytes: 1). */
static size_t char_len(const char *s, size_t len, size_t i)
{
	uint32_t cp[4], offs[5];
	size_t avail = len - i < 4 ? len - i : 4;
	text_utf8_decode(s + i, avail, cp, offs);
	return offs[1];
}

static uint32_t char_at(const char *s, size_t len, size_t i)
{
	uint32_t cp[4], offs[5];
	size_t avail = len - i < 4 ? len - i : 4;
	text_utf8_decode(s + i, avail, cp, offs);
	return cp[0];
}

static bool is_mark_cp(uint32_t cp)
{
	hb_unicode_general_category_t gc = hb_unicode_general_category(hb_unicode_funcs_get_default(), cp);
	return gc == HB_UNICODE_GENERAL_CATEGORY_NON_SPACING_MARK ||
	       gc == HB_UNICODE_GENERAL_CATEGORY_SPACING_MARK ||
	       gc == HB_UNICODE_GENERAL_CATEGORY_ENCLOSING_MARK;
}

/* Moves i back to the start of the character that contains it. */
static size_t char_floor(const struct text_layout *l, size_t i)
{
	if (i >= l->text_len)
		return l->text_len;
	size_t p = 0;
	while (p < l->text_len) {
		size_t n = char_len(l->text, l->text_len, p);
		if (p + n > i)
			return p;
		p += n;
	}
	return l->text_len;
}

/*
 * Screen edges (26.6, line coordinates) of the character at byte b if this line shows it.
 * A cluster of several characters (lam-alef) is shared evenly among its non-mark ones.
 */
static bool char_edges(const struct text_layout *l, const struct text_line *ln, size_t b,
		       int32_t *left, int32_t *right, bool *rtl)
{
	for (uint32_t r = ln->run_start; r < ln->run_start + ln->run_count; r++) {
		const struct text_run *run = &l->runs[r];
		if (b < run->byte_start || b >= run->byte_end)
			continue;
		const struct text_glyph *g = l->glyphs + run->glyph_start;
		uint32_t n = run->glyph_count;
		/* The cluster holding b: the largest cluster value <= b. */
		uint32_t c = 0;
		bool found = false;
		for (uint32_t k = 0; k < n; k++)
			if (g[k].cluster <= b && (!found || g[k].cluster > c)) {
				c = g[k].cluster;
				found = true;
			}
		if (!found)
			return false;
		uint32_t cend = run->byte_end;
		int32_t x0 = INT32_MAX, x1 = INT32_MIN;
		for (uint32_t k = 0; k < n; k++) {
			if (g[k].cluster > c && g[k].cluster < cend)
				cend = g[k].cluster;
			if (g[k].cluster == c) {
				x0 = g[k].x26 < x0 ? g[k].x26 : x0;
				int32_t e = g[k].x26 + g[k].x_advance26;
				x1 = e > x1 ? e : x1;
			}
		}
		/* Marks after the first character share the slot of the letter before them. */
		int parts = 0, mine = 0;
		for (size_t p = c; p < cend; p += char_len(l->text, cend, p)) {
			bool base = p == c || !is_mark_cp(char_at(l->text, cend, p));
			if (base)
				parts++;
			if (p == b)
				mine = parts - 1;
		}
		int32_t w = x1 - x0;
		bool is_rtl = run->level & 1;
		int32_t a = x0 + (int32_t)((int64_t)w * mine / parts);
		int32_t z = x0 + (int32_t)((int64_t)w * (mine + 1) / parts);
		if (is_rtl) {
			int32_t na = x0 + x1 - z, nz = x0 + x1 - a;
			a = na;
			z = nz;
		}
		*left = a;
		*right = z;
		*rtl = is_rtl;
		return true;
	}
	return false;
}

static int line_of(const struct text_layout *l, size_t i)
{
	for (uint32_t k = 0; k < l->n_lines; k++)
		if (i < l->lines[k].byte_end || k + 1 == l->n_lines)
			return (int)k;
	return 0;
}

int text_layout_caret(const struct text_layout *l, size_t index, bool rtl_affinity,
		      struct text_caret *out)
{
	if (!l || !l->n_lines)
		return KIO_ERR_INVALID;
	size_t i = char_floor(l, index);
	int li = line_of(l, i);
	const struct text_line *ln = &l->lines[li];
	int32_t a_l, a_r, b_l, b_r, x26;
	bool a_rtl, b_rtl;
	/* a: the character after the caret, b: the one before it (logical order). */
	bool has_a = i < ln->byte_end && char_edges(l, ln, i, &a_l, &a_r, &a_rtl);
	bool has_b = false;
	if (i > ln->byte_start) {
		size_t prev = char_floor(l, i - 1);
		has_b = char_edges(l, ln, prev, &b_l, &b_r, &b_rtl);
	}
	int32_t a_x = 0, b_x = 0;
	if (has_a)
		a_x = a_rtl ? a_r : a_l;
	if (has_b)
		b_x = b_rtl ? b_l : b_r;
	if (has_a && has_b)
		x26 = (a_rtl != b_rtl && b_rtl == rtl_affinity) ? b_x : a_x;
	else if (has_a)
		x26 = a_x;
	else if (has_b)
		x26 = b_x;
	else /* empty line, or a hung space: the end of the line in its direction */
		x26 = ln->rtl ? 0 : ln->width26;
	out->line = li;
	out->x = ln->x_px + ((x26 + 32) >> 6);
	out->y = li * l->line_height;
	out->height = l->line_height;
	return 0;
}

size_t text_layout_hit(const struct text_layout *l, int x, int y)
{
	if (!l || !l->n_lines)
		return 0;
	int li = l->line_height > 0 ? y / l->line_height : 0;
	if (li < 0)
		li = 0;
	if ((uint32_t)li >= l->n_lines)
		li = (int)l->n_lines - 1;
	const struct text_line *ln = &l->lines[li];
	size_t best = ln->byte_start;
	int best_d = -1;
	size_t end = ln->byte_end;
	/* The last line also takes the caret after the final character. */
	if ((uint32_t)li + 1 < l->n_lines && end > ln->byte_start)
		end = char_floor(l, end - 1);
	for (size_t p = ln->byte_start;; p += char_len(l->text, l->text_len, p)) {
		struct text_caret c;
		if (p > end)
			break;
		if (text_layout_caret(l, p, ln->rtl, &c) == 0 && c.line == li) {
			int d = c.x > x ? c.x - x : x - c.x;
			if (best_d < 0 || d < best_d) {
				best_d = d;
				best = p;
			}
		}
		if (p >= l->text_len)
			break;
	}
	return best;
}

size_t text_layout_next_index(const struct text_layout *l, size_t index)
{
	size_t i = char_floor(l, index);
	if (i >= l->text_len)
		return l->text_len;
	i += char_len(l->text, l->text_len, i);
	while (i < l->text_len && is_mark_cp(char_at(l->text, l->text_len, i)))
		i += char_len(l->text, l->text_len, i);
	return i;
}

size_t text_layout_prev_index(const struct text_layout *l, size_t index)
{
	size_t i = char_floor(l, index);
	while (i > 0) {
		i = char_floor(l, i - 1);
		if (!is_mark_cp(char_at(l->text, l->text_len, i)))
			break;
	}
	return i;
}

size_t text_digits_apply(enum text_digits digits, const char *utf8, char *out, size_t out_size)
{
	size_t n = 0, written = 0;
	bool full = false;

	for (size_t i = 0; utf8[i]; i++) {
		char c = utf8[i];
		bool digit = c >= '0' && c <= '9';
		bool sep = (c == '.' || c == ',') && i > 0 && utf8[i - 1] >= '0' &&
			   utf8[i - 1] <= '9' && utf8[i + 1] >= '0' && utf8[i + 1] <= '9';
		char enc[2] = {c, 0};
		size_t k = 1;
		if (digits == TEXT_DIGITS_EASTERN_ARABIC && (digit || sep)) {
			/* U+0660..0669, U+066B decimal, U+066C thousands: two bytes, D9 xx. */
			enc[0] = (char)0xd9;
			enc[1] = (char)(digit ? 0xa0 + (c - '0') : c == '.' ? 0xab : 0xac);
			k = 2;
		}
		/* Truncation never splits a character: stop at the first one that does not fit. */
		if (!full && written + k < out_size) {
			memcpy(out + written, enc, k);
			written += k;
		} else {
			full = true;
		}
		n += k;
	}
	if (out_size)
		out[written] = '\0';
	return n;
}
