/*
 * Line-break opportunities: UAX #14 of the Unicode version installed by unicode-data
 * (15.0.0 on Debian 12), with the numbers tailoring of UAX #14 section 8.2 example 7 that
 * LineBreakTest.txt expects (rule LB25 as a regular expression, LB13 leaving NU to it).
 *
 * The class of each code point comes from linebreak-table.h, generated at build time from
 * /usr/share/unicode by gen-linebreak-table.py, with rule LB1 already applied there. The
 * rules run left to right in one pass over the text: no allocation, no recursion, one
 * table lookup per character (plus a short look-ahead for LB25), and every uint32_t is
 * defined input: surrogates and noncharacters have classes in the table (SG and XX, both
 * resolved to AL), and values above U+10FFFF are taken as AL like unassigned code points.
 *
 * Unicode 15.0's rule set, in order: LB4-LB8, LB8a, LB9-LB10 (combining marks and ZWJ
 * join the character before them unless it is BK CR LF NL SP ZW; left alone they are AL),
 * LB11-LB14, LB15 (QU SP* x OP), LB16-LB21, LB21a (HL (HY|BA) x), LB21b, LB22-LB24,
 * LB25 (tailored), LB26-LB29, LB30 (OP/CP other than East Asian F/W/H), LB30a (regional
 * indicator pairs), LB30b (EB x EM, unassigned Extended_Pictographic x EM), LB31. Rules
 * that later revisions add (LB15a-d, LB19a, LB20a, LB28a and the AK/AP/AS/VI/VF classes)
 * are not Unicode 15.0 and its test file expects their absence; gen-linebreak-table.py
 * refuses LineBreak.txt of any other version.
 */
#include "kiosk/text/text-priv.h"
#include "linebreak-table.h"

#define S(c) (UINT64_C(1) << LB_##c)
#define NONE LB_NCLASSES /* "no unit": start of text; in no set */

static inline bool in(unsigned c, uint64_t set)
{
	return (set >> c) & 1;
}

static inline unsigned lb_class(uint32_t cp)
{
	if (cp >= LB_MAXCP)
		return LB_AL; /* not a code point: like an unassigned one (XX, LB1: AL) */
	return lb_stage2[((unsigned)lb_stage1[cp >> LB_SHIFT] << LB_SHIFT) | (cp & ((1u << LB_SHIFT) - 1))];
}

#define OPS (S(OP) | S(OP_EA))
#define CPS (S(CP) | S(CP_EA))
#define IDS (S(ID) | S(ID_XP))
#define AHL (S(AL) | S(HL))
#define HANGUL (S(JL) | S(JV) | S(JT) | S(H2) | S(H3))
#define NO_BASE (S(BK) | S(CR) | S(LF) | S(NL) | S(SP) | S(ZW)) /* LB9: marks do not join */

enum num_state { NUM_NONE, NUM_IN, NUM_CLOSED };

/*
 * The text before a boundary, as the rules see it: units are a character and the marks
 * it took (LB9), each with its effective class.
 */
struct lb_ctx {
	unsigned a;        /* class of the unit before the boundary */
	unsigned prev;     /* class of the unit before that one (LB21a) */
	unsigned base;     /* class of the last unit that is not SP ("X SP*" rules) */
	bool zwj;          /* the character before the boundary is ZWJ itself (LB8a) */
	bool ri_odd;       /* a ends a run of an odd number of RI units (LB30a) */
	uint8_t num;       /* LB25: after NU (NU|SY|IS)*, or that and (CL|CP) */
};

static inline void ctx_push(struct lb_ctx *c, unsigned cls)
{
	c->ri_odd = cls == LB_RI && !(c->a == LB_RI && c->ri_odd);
	if (cls == LB_NU)
		c->num = NUM_IN;
	else if (in(cls, S(SY) | S(IS)))
		c->num = c->num == NUM_IN ? NUM_IN : NUM_NONE;
	else if (in(cls, S(CL) | CPS))
		c->num = c->num == NUM_IN ? NUM_CLOSED : NUM_NONE;
	else
		c->num = NUM_NONE;
	c->prev = c->a;
	c->a = cls;
	if (cls != LB_SP)
		c->base = cls;
}

/* LB25's "(PR | PO) x (OP | HY) NU": the unit after position j, marks skipped, is NU. */
static bool nu_after(const uint32_t *cps, size_t len, size_t j)
{
	for (j++; j < len; j++) {
		unsigned c = lb_class(cps[j]);
		if (c != LB_CM && c != LB_ZWJ)
			return c == LB_NU;
	}
	return false;
}

/* The boundary between the context c and a character of class b at cps[j]. */
static inline uint8_t lb_rule(const struct lb_ctx *c, unsigned b, const uint32_t *cps, size_t len,
			      size_t j)
{
	unsigned a = c->a;

	/* Letter after letter, most of any text: the answer of LB28, which no rule before it
	 * changes for these classes. */
	if (in(a, AHL) && in(b, AHL))
		return TEXT_BRK_NO;
	if (a == LB_BK)                                                     /* LB4 */
		return TEXT_BRK_MUST;
	if (a == LB_CR)                                                     /* LB5 */
		return b == LB_LF ? TEXT_BRK_NO : TEXT_BRK_MUST;
	if (a == LB_LF || a == LB_NL)
		return TEXT_BRK_MUST;
	if (in(b, S(BK) | S(CR) | S(LF) | S(NL) | S(SP) | S(ZW)))           /* LB6, LB7 */
		return TEXT_BRK_NO;
	bool sp = a == LB_SP; /* the context ends in SP*, after c->base */
	if (a == LB_ZW || (sp && c->base == LB_ZW))                        /* LB8 */
		return TEXT_BRK_ALLOW;
	if (c->zwj)                                                         /* LB8a */
		return TEXT_BRK_NO;
	if (b == LB_CM || b == LB_ZWJ) {
		if (!in(a, NO_BASE))                                        /* LB9 */
			return TEXT_BRK_NO;
		b = LB_AL;                                                  /* LB10 */
	}
	if (a == LB_WJ || b == LB_WJ || a == LB_GL)                         /* LB11, LB12 */
		return TEXT_BRK_NO;
	if (b == LB_GL && !in(a, S(SP) | S(BA) | S(HY)))                    /* LB12a */
		return TEXT_BRK_NO;
	if (in(b, S(CL) | CPS | S(EX) | S(IS) | S(SY)))                     /* LB13 */
		return TEXT_BRK_NO;
	unsigned x = sp ? c->base : a; /* for "X SP* x" */
	if (in(x, OPS))                                                     /* LB14 */
		return TEXT_BRK_NO;
	if (x == LB_QU && in(b, OPS))                                       /* LB15 */
		return TEXT_BRK_NO;
	if (in(x, S(CL) | CPS) && b == LB_NS)                               /* LB16 */
		return TEXT_BRK_NO;
	if (x == LB_B2 && b == LB_B2)                                       /* LB17 */
		return TEXT_BRK_NO;
	if (sp)                                                             /* LB18 */
		return TEXT_BRK_ALLOW;
	if (a == LB_QU || b == LB_QU)                                       /* LB19 */
		return TEXT_BRK_NO;
	if (a == LB_CB || b == LB_CB)                                       /* LB20 */
		return TEXT_BRK_ALLOW;
	if (in(b, S(BA) | S(HY) | S(NS)) || a == LB_BB)                     /* LB21 */
		return TEXT_BRK_NO;
	if (in(a, S(HY) | S(BA)) && c->prev == LB_HL)                       /* LB21a */
		return TEXT_BRK_NO;
	if (a == LB_SY && b == LB_HL)                                       /* LB21b */
		return TEXT_BRK_NO;
	if (b == LB_IN)                                                     /* LB22 */
		return TEXT_BRK_NO;
	if ((in(a, AHL) && b == LB_NU) || (a == LB_NU && in(b, AHL)))       /* LB23 */
		return TEXT_BRK_NO;
	if ((a == LB_PR && in(b, IDS | S(EB) | S(EM))) ||                   /* LB23a */
	    (in(a, IDS | S(EB) | S(EM)) && b == LB_PO))
		return TEXT_BRK_NO;
	if ((in(a, S(PR) | S(PO)) && in(b, AHL)) ||                         /* LB24 */
	    (in(a, AHL) && in(b, S(PR) | S(PO))))
		return TEXT_BRK_NO;
	/* LB25, tailored (UAX #14 example 7, as LineBreakTest.txt expects) */
	if (in(a, S(PR) | S(PO)) &&
	    (b == LB_NU || (in(b, OPS | S(HY)) && nu_after(cps, len, j))))
		return TEXT_BRK_NO;
	if (in(a, OPS | S(HY)) && b == LB_NU)
		return TEXT_BRK_NO;
	if (c->num == NUM_IN && in(b, S(NU) | S(SY) | S(IS) | S(CL) | CPS | S(PO) | S(PR)))
		return TEXT_BRK_NO;
	if (c->num == NUM_CLOSED && in(b, S(PO) | S(PR)))
		return TEXT_BRK_NO;
	if ((a == LB_JL && in(b, S(JL) | S(JV) | S(H2) | S(H3))) ||         /* LB26 */
	    (in(a, S(JV) | S(H2)) && in(b, S(JV) | S(JT))) ||
	    (in(a, S(JT) | S(H3)) && b == LB_JT))
		return TEXT_BRK_NO;
	if ((in(a, HANGUL) && b == LB_PO) || (a == LB_PR && in(b, HANGUL))) /* LB27 */
		return TEXT_BRK_NO;
	if (in(a, AHL) && in(b, AHL))                                       /* LB28 */
		return TEXT_BRK_NO;
	if (a == LB_IS && in(b, AHL))                                       /* LB29 */
		return TEXT_BRK_NO;
	if ((in(a, AHL | S(NU)) && b == LB_OP) || (a == LB_CP && in(b, AHL | S(NU)))) /* LB30 */
		return TEXT_BRK_NO;
	if (a == LB_RI && b == LB_RI && c->ri_odd)                          /* LB30a */
		return TEXT_BRK_NO;
	if (b == LB_EM && (a == LB_EB || a == LB_ID_XP))                    /* LB30b */
		return TEXT_BRK_NO;
	return TEXT_BRK_ALLOW;                                              /* LB31 */
}

void text_linebreaks(const uint32_t *cps, size_t len, uint8_t *brk)
{
	if (!len)
		return;
	unsigned b = lb_class(cps[0]);
	struct lb_ctx c = {.a = NONE, .prev = NONE, .base = NONE, .num = NUM_NONE};
	c.zwj = b == LB_ZWJ;
	ctx_push(&c, b == LB_CM || b == LB_ZWJ ? LB_AL : b); /* LB10 at the start */
	for (size_t i = 0; i + 1 < len; i++) {
		b = lb_class(cps[i + 1]);
		brk[i] = lb_rule(&c, b, cps, len, i + 1);
		if (b == LB_CM || b == LB_ZWJ) {
			if (!in(c.a, NO_BASE)) { /* LB9: the mark joins the unit before it */
				c.zwj = b == LB_ZWJ;
				continue;
			}
			ctx_push(&c, LB_AL); /* LB10 */
		} else {
			ctx_push(&c, b);
		}
		c.zwj = b == LB_ZWJ;
	}
	brk[len - 1] = TEXT_BRK_MUST; /* LB3 */
}

const char text_linebreak_unicode[] = LB_UNICODE_VERSION;
