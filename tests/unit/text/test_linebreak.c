/*
 * The line-break stage (kiosk/text/linebreak.c, UAX #14) on kiosk text and on input that
 * is not text at all: exact break positions, not just "does not crash". LineBreakTest.txt
 * covers the rules pair by pair; these are the strings the kiosk shows and the values a
 * bad decoder or a hostile host could hand over.
 *
 * Expected strings mark the breaks after each character: '|' a break opportunity, '!' a
 * mandatory break (the one at the end of the text, rule LB3, is not shown).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/text/text-priv.h"

static int failures;

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                          \
		}                                                                            \
	} while (0)

enum { MAX = 256 };

/* Appends cp as UTF-8 (anything that is not a scalar value as <XXXX>). */
static size_t put_cp(char *out, size_t at, uint32_t cp)
{
	if (cp < 0x80 && cp >= 0x20)
		out[at++] = (char)cp;
	else if (cp == '\r' || cp == '\n')
		at += (size_t)sprintf(out + at, "%s", cp == '\r' ? "\\r" : "\\n");
	else if (cp < 0x80 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		at += (size_t)sprintf(out + at, "<%04X>", cp);
	else if (cp < 0x800) {
		out[at++] = (char)(0xc0 | cp >> 6);
		out[at++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[at++] = (char)(0xe0 | cp >> 12);
		out[at++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[at++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[at++] = (char)(0xf0 | cp >> 18);
		out[at++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[at++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[at++] = (char)(0x80 | (cp & 0x3f));
	}
	return at;
}

/* The text with its breaks marked, as in the expected strings. */
static void render(const uint32_t *cps, size_t n, char *out)
{
	uint8_t brk[MAX];
	memset(brk, 0xee, sizeof(brk));
	text_linebreaks(cps, n, brk);
	size_t at = 0;
	for (size_t i = 0; i < n; i++) {
		at = put_cp(out, at, cps[i]);
		if (i + 1 == n) {
			CHECK(brk[i] == TEXT_BRK_MUST); /* LB3 */
			break;
		}
		CHECK(brk[i] <= TEXT_BRK_NO);
		if (brk[i] == TEXT_BRK_ALLOW)
			out[at++] = '|';
		else if (brk[i] == TEXT_BRK_MUST)
			out[at++] = '!';
	}
	CHECK(n == MAX || brk[n] == 0xee); /* nothing written past the end */
	out[at] = '\0';
}

static void check_cps(int line, const uint32_t *cps, size_t n, const char *want)
{
	char got[MAX * 8];
	render(cps, n, got);
	if (strcmp(got, want)) {
		fprintf(stderr, "%s:%d: breaks\n  got  \"%s\"\n  want \"%s\"\n", __FILE__, line, got,
			want);
		failures++;
	}
}

/* want is text with '|' and '!' added; the text itself is want without them. */
static void check_at(int line, const char *want)
{
	char utf8[MAX * 4];
	size_t len = 0;
	for (const char *p = want; *p; p++)
		if (*p != '|' && *p != '!')
			utf8[len++] = *p;
	uint32_t cps[MAX * 4], offs[MAX * 4 + 1];
	size_t n = text_utf8_decode(utf8, len, cps, offs);
	/* render() shows CR and LF escaped */
	char esc[MAX * 8];
	size_t e = 0;
	for (const char *p = want; *p; p++) {
		if (*p == '\r' || *p == '\n') {
			esc[e++] = '\\';
			esc[e++] = *p == '\r' ? 'r' : 'n';
		} else {
			esc[e++] = *p;
		}
	}
	esc[e] = '\0';
	check_cps(line, cps, n, esc);
}
#define CHECK_BREAKS(want) check_at(__LINE__, want)
#define CHECK_CPS(want, ...)                                                                 \
	do {                                                                                 \
		static const uint32_t cps_[] = {__VA_ARGS__};                                \
		check_cps(__LINE__, cps_, sizeof(cps_) / sizeof(cps_[0]), want);             \
	} while (0)

static void test_empty(void)
{
	uint8_t brk[4] = {0xee, 0xee, 0xee, 0xee};
	text_linebreaks(NULL, 0, brk);
	CHECK(brk[0] == 0xee);
	uint32_t one = 'a';
	text_linebreaks(&one, 1, brk);
	CHECK(brk[0] == TEXT_BRK_MUST && brk[1] == 0xee);
	CHECK(text_linebreak_unicode[0] != '\0');
}

static void test_not_text(void)
{
	/* Lone surrogates (SG) and noncharacters (XX) break like letters (LB1: AL). */
	CHECK_CPS("a<D800>b", 'a', 0xd800, 'b');
	CHECK_CPS(" |<DC00> |1", ' ', 0xdc00, ' ', '1');
	CHECK_CPS("<DBFF><DFFF>", 0xdbff, 0xdfff);
	CHECK_CPS("1\xef\xbf\xbf" "2", '1', 0xffff, '2');
	CHECK_CPS("\xef\xbf\xbe |\xef\xb7\x90", 0xfffe, ' ', 0xfdd0);
	CHECK_CPS("\xf4\x8f\xbf\xbf<110000><FFFFFFFF> |<80000000>", 0x10ffff, 0x110000, 0xffffffff, ' ',
		  0x80000000);
	/* C0 controls are CM: they join what precedes them (LB9), alone they are AL (LB10). */
	CHECK_CPS("<0000><0001>a", 0, 1, 'a');
	CHECK_CPS("a<0000> |<0000>", 'a', 0, ' ', 0);
	/* A mark with nothing to join at the start, after a space, after a break. */
	CHECK_BREAKS("\xcc\x88" "a |\xcc\x88|\xe2\x80\x94");
	CHECK_BREAKS("\n!\xcc\x88");
}

static void test_newlines_and_spaces(void)
{
	CHECK_BREAKS("a\r\n!b");
	CHECK_BREAKS("a\n!\n!b");
	CHECK_BREAKS("a\r!\r!b");
	CHECK_BREAKS("a  |b");
	CHECK_BREAKS("a\xe2\x80\x8b|b");          /* ZERO WIDTH SPACE: LB8 */
	CHECK_BREAKS("150\xc2\xa0" "AED");        /* NO-BREAK SPACE: LB12, LB12a */
	CHECK_BREAKS("a\xe2\x81\xa0" "b");        /* WORD JOINER: LB11 */
}

static void test_regional_indicators(void)
{
	/* U+1F1E6.. A..Z; flags pair up from the start of each run (LB30a). */
#define RI(c) (0x1f1e6 + (uint32_t)((c) - 'A'))
	CHECK_CPS("\xf0\x9f\x87\xa6\xf0\x9f\x87\xaa", RI('A'), RI('E'));
	CHECK_CPS("\xf0\x9f\x87\xa6\xf0\x9f\x87\xaa|\xf0\x9f\x87\xba\xf0\x9f\x87\xb8", RI('A'), RI('E'),
		  RI('U'), RI('S'));
	CHECK_CPS("\xf0\x9f\x87\xa6\xf0\x9f\x87\xaa|\xf0\x9f\x87\xba", RI('A'), RI('E'), RI('U'));
	CHECK_CPS("a|\xf0\x9f\x87\xa6\xf0\x9f\x87\xaa|\xf0\x9f\x87\xba\xf0\x9f\x87\xb8|b", 'a', RI('A'),
		  RI('E'), RI('U'), RI('S'), 'b');
	/* A mark inside a pair joins the first indicator (LB9): still one pair. */
	CHECK_CPS("\xf0\x9f\x87\xa6\xcc\x88\xf0\x9f\x87\xaa|\xf0\x9f\x87\xba", RI('A'), 0x308, RI('E'),
		  RI('U'));
	/* A space ends the run: the count starts again. */
	CHECK_CPS("\xf0\x9f\x87\xa6 |\xf0\x9f\x87\xaa\xf0\x9f\x87\xba", RI('A'), ' ', RI('E'), RI('U'));
#undef RI
}

static void test_emoji(void)
{
	/* man ZWJ woman ZWJ girl: one family, no break inside (LB9, LB8a). */
	CHECK_BREAKS("\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7");
	/* thumbs up + skin tone (EB x EM, LB30b), and between two emoji a break (ID-like). */
	CHECK_BREAKS("\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd|\xf0\x9f\x91\x8d");
	/* rainbow flag: white flag VS16 ZWJ rainbow */
	CHECK_BREAKS("ok |\xf0\x9f\x8f\xb3\xef\xb8\x8f\xe2\x80\x8d\xf0\x9f\x8c\x88|ok");
	/* unassigned Extended_Pictographic x EM (LB30b): U+1FAFF is reserved in 15.0 */
	CHECK_CPS("\xf0\x9f\xab\xbf\xf0\x9f\x8f\xbb", 0x1faff, 0x1f3fb);
	CHECK_CPS("\xe2\x98\x80|\xf0\x9f\x8f\xbb", 0x2600, 0x1f3fb); /* assigned, not EB: break */
	/* ZWJ after a space is a letter (LB10) and still holds the next character (LB8a). */
	CHECK_BREAKS("a |\xe2\x80\x8d\xf0\x9f\x91\xa9");
}

static void test_arabic(void)
{
	/* bismillah with harakat: marks stay on their letters, breaks only at spaces */
	CHECK_BREAKS("\xd8\xa8\xd9\x90\xd8\xb3\xd9\x92\xd9\x85\xd9\x90 |"
		     "\xd8\xa7\xd9\x84\xd9\x84\xd9\x91\xd9\x8e\xd9\x87\xd9\x90");
	/* "ادفع الآن" */
	CHECK_BREAKS("\xd8\xa7\xd8\xaf\xd9\x81\xd8\xb9 |\xd8\xa7\xd9\x84\xd8\xa2\xd9\x86");
	/* tatweel and a shadda on it */
	CHECK_BREAKS("\xd9\x80\xd9\x91\xd9\x80 |\xd8\xa8");
	/* Arabic comma (IS) and full stop (EX) stay with the word before */
	CHECK_BREAKS("\xd9\x86\xd8\xb9\xd9\x85\xd8\x8c |\xd8\xb4\xd9\x83\xd8\xb1\xd8\xa7\xdb\x94");
	/* ZWNJ is CM: it joins the letter before it */
	CHECK_BREAKS("\xd9\x85\xe2\x80\x8c\xd9\x8a");
}

static void test_numbers_and_currency(void)
{
	CHECK_BREAKS("AED |1,250.00");
	CHECK_BREAKS("150.00 |\xd8\xaf\xd8\xb1\xd9\x87\xd9\x85");                       /* 150.00 درهم */
	CHECK_BREAKS("\xd8\xa7\xd9\x84\xd9\x85\xd8\xa8\xd9\x84\xd8\xba: |150.00 |"      /* المبلغ: */
		     "\xd8\xaf\xd8\xb1\xd9\x87\xd9\x85");
	CHECK_BREAKS("\xd9\xa1\xd9\xac\xd9\xa2\xd9\xa5\xd9\xa0\xd9\xab\xd9\xa0\xd9\xa0 |" /* ١٬٢٥٠٫٠٠ */
		     "\xd8\xaf.\xd8\xa5");                                              /* د.إ */
	CHECK_BREAKS("$1,250.00");
	CHECK_BREAKS("(150.00)");
	CHECK_BREAKS("(e-|Dirham)");
	CHECK_BREAKS("-5.00 |AED");
	CHECK_BREAKS("AED1,250");
	CHECK_BREAKS("15%");
	CHECK_BREAKS("\xd9\xa1\xd9\xa5\xd9\xaa");                                       /* ١٥٪ */
	CHECK_BREAKS("1/2");
	CHECK_BREAKS("+971 |4 |123 |4567");
	CHECK_BREAKS("+971-4-123-4567");     /* HY x NU (LB25): no break in a phone number */
	CHECK_BREAKS("REF-2024-000123");
	CHECK_BREAKS("e-|Dirham");            /* but HY / AL */
	CHECK_BREAKS("$|(x)");          /* PR x OP only before a number (LB25 tailored) */
	CHECK_BREAKS("$(1)");
	CHECK_BREAKS("12)%");           /* NU CP x PO */
	CHECK_BREAKS("\xe2\x82\xac" "5"); /* € */
}

static void test_urls_and_slashes(void)
{
	CHECK_BREAKS("https://|pay.example.ae/|r?|id=42");
	CHECK_BREAKS("www.example.com");
	CHECK_BREAKS("a/|b");
	CHECK_BREAKS("and/|or");
	CHECK_BREAKS("card@example.ae");
}

/*
 * Every code point, and arbitrary 32-bit values, in contexts that reach the look-back and
 * look-ahead rules: the answers stay in range and nothing is read or written out of
 * bounds (the sanitizer build runs this too).
 */
static void test_sweep(void)
{
	static const uint32_t around[] = {'a', ' ', '$', '(', '1', '-', 0x308, 0x200d, 0x1f1e6, 0x5d0};
	enum { N = 8 };
	uint32_t cps[N];
	uint8_t brk[N + 1];
	unsigned bad = 0;
	for (uint64_t v = 0; v <= 0x110100; v++) {
		uint32_t cp = (uint32_t)v, ctx = around[v % (sizeof(around) / sizeof(around[0]))];
		uint32_t seq[N] = {cp, ctx, cp, cp, ctx, '1', cp, ctx};
		memcpy(cps, seq, sizeof(cps));
		brk[N] = 0xee;
		for (size_t n = 1; n <= N; n += 7) {
			text_linebreaks(cps, n, brk);
			for (size_t i = 0; i < n; i++)
				bad += brk[i] > TEXT_BRK_NO;
			bad += brk[n - 1] != TEXT_BRK_MUST;
		}
		bad += brk[N] != 0xee;
	}
	/* Random 32-bit values: a long text, then its every suffix start of a few lengths. */
	static uint32_t text[4096];
	static uint8_t out[4096];
	uint64_t x = 0x9e3779b97f4a7c15u;
	for (size_t i = 0; i < 4096; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint32_t r = (uint32_t)(x >> 32);
		text[i] = (x & 3) == 0 ? r : (x & 3) == 1 ? r % 0x110000 : (x & 3) == 2 ? r % 0x3000 : r % 0x80;
	}
	text_linebreaks(text, 4096, out);
	for (size_t i = 0; i < 4096; i++)
		bad += out[i] > TEXT_BRK_NO;
	for (size_t off = 0; off < 4096; off += 61)
		for (size_t n = 1; off + n <= 4096 && n < 300; n *= 3) {
			text_linebreaks(text + off, n, out);
			bad += out[n - 1] != TEXT_BRK_MUST;
		}
	CHECK(bad == 0);
}

int main(void)
{
	test_sweep();
	test_empty();
	test_not_text();
	test_newlines_and_spaces();
	test_regional_indicators();
	test_emoji();
	test_arabic();
	test_numbers_and_currency();
	test_urls_and_slashes();
	if (failures) {
		fprintf(stderr, "%d failures\n", failures);
		return 1;
	}
	printf("line breaks: all checks pass (UAX #14, Unicode %s)\n", text_linebreak_unicode);
	return 0;
}
