/*
 * Line-break stage benchmark: the engine's own UAX #14 breaker (kiosk/text/linebreak.c)
 * against the stage it replaced, libunibreak 1.1 behind the same guard the engine used
 * (copied below), in the same run on the same code points:
 *   - per string: each corpus line (kiosk labels, amounts, Arabic sentences) one call;
 *   - bulk: the whole corpus joined by spaces into one text, one call.
 * Usage: bench-linebreak CORPUS [ROUNDS]. Prints ns per character for both and the ratio
 * (own / libunibreak: below 1 is faster). Built without libunibreak, it times ours only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "corpus.h"
#include "kiosk/text/text-priv.h"

#ifdef HAVE_UNIBREAK
#include <linebreak.h>

/* The engine's line-break stage before the own breaker (kiosk/text/linebreak.c, d892af2). */
static uint32_t lb_subst(uint32_t cp)
{
	if (cp >= 0x1f1e6 && cp <= 0x1f1ff)
		return 0x41; /* RI: its pair table lacks the class and asserts */
	if (cp == 0xffff || cp > 0x10ffff)
		return 0xfffd; /* U+FFFF is its end-of-string sentinel */
	return 0;
}

static void unibreak_linebreaks(const uint32_t *cps, size_t len, uint8_t *brk)
{
	static const uint8_t map[4] = {
		[LINEBREAK_MUSTBREAK] = TEXT_BRK_MUST,
		[LINEBREAK_ALLOWBREAK] = TEXT_BRK_ALLOW,
		[LINEBREAK_NOBREAK] = TEXT_BRK_NO,
		[LINEBREAK_INSIDEACHAR] = TEXT_BRK_NO,
	};
	if (!len)
		return;
	const utf32_t *in = cps;
	utf32_t *copy = NULL;
	for (size_t i = 0; i < len; i++) {
		if (lb_subst(cps[i])) {
			copy = malloc(len * sizeof(*copy));
			if (!copy)
				abort();
			for (size_t k = 0; k < len; k++) {
				uint32_t sub = lb_subst(cps[k]);
				copy[k] = sub ? sub : cps[k];
			}
			in = copy;
			break;
		}
	}
	set_linebreaks_utf32(in, len, "en", (char *)brk);
	for (size_t i = 0; i < len; i++)
		brk[i] = brk[i] < 4 ? map[brk[i]] : TEXT_BRK_NO;
	free(copy);
}
#endif

typedef void (*breaker_fn)(const uint32_t *, size_t, uint8_t *);

static double now_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct text {
	uint32_t *cps;
	size_t n;
};

static volatile unsigned sink;

/* ns per character over rounds passes of every text; the best of 5 runs. */
static double time_breaker(breaker_fn fn, const struct text *texts, size_t count, int rounds,
			   uint8_t *brk)
{
	double best = 1e30;
	size_t chars = 0;
	for (size_t i = 0; i < count; i++)
		chars += texts[i].n;
	for (int run = 0; run < 5; run++) {
		double t0 = now_cpu();
		for (int r = 0; r < rounds; r++)
			for (size_t i = 0; i < count; i++) {
				fn(texts[i].cps, texts[i].n, brk);
				sink += brk[0];
			}
		double ns = (now_cpu() - t0) * 1e9 / ((double)rounds * (double)chars);
		best = ns < best ? ns : best;
	}
	return best;
}

static void report(const char *what, const struct text *texts, size_t count, int rounds, uint8_t *brk)
{
	size_t chars = 0;
	for (size_t i = 0; i < count; i++)
		chars += texts[i].n;
	double own = time_breaker(text_linebreaks, texts, count, rounds, brk);
	printf("%s (%zu text%s, %zu characters), %d rounds, best of 5:\n", what, count,
	       count == 1 ? "" : "s", chars, rounds);
	printf("  own UAX #14 (Unicode %s)     %7.2f ns/char\n", text_linebreak_unicode, own);
#ifdef HAVE_UNIBREAK
	double ub = time_breaker(unibreak_linebreaks, texts, count, rounds, brk);
	printf("  libunibreak 1.1, guarded     %7.2f ns/char\n", ub);
	printf("  ratio own / libunibreak      %7.2f\n", own / ub);
#endif
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS [ROUNDS]\n", argv[0]);
		return 2;
	}
	int rounds = argc > 2 ? atoi(argv[2]) : 200;
	if (rounds < 1)
		rounds = 1;
	struct corpus c;
	if (corpus_load(argv[1], &c) != 0)
		return 1;
#ifdef HAVE_UNIBREAK
	init_linebreak();
#endif
	struct text *texts = calloc(c.count, sizeof(*texts));
	size_t total = 0, longest = 0;
	for (size_t i = 0; i < c.count; i++) {
		size_t len = strlen(c.lines[i]);
		texts[i].cps = malloc((len + 1) * sizeof(uint32_t));
		uint32_t *offs = malloc((len + 1) * sizeof(uint32_t));
		texts[i].n = text_utf8_decode(c.lines[i], len, texts[i].cps, offs);
		free(offs);
		total += texts[i].n + 1;
		longest = texts[i].n > longest ? texts[i].n : longest;
	}
	struct text all = {malloc(total * sizeof(uint32_t)), 0};
	for (size_t i = 0; i < c.count; i++) {
		memcpy(all.cps + all.n, texts[i].cps, texts[i].n * sizeof(uint32_t));
		all.n += texts[i].n;
		all.cps[all.n++] = ' ';
	}
	uint8_t *brk = malloc(total > longest ? total : longest + 1);

	/* Both stages must agree on where a line may break in kiosk text, or the ratio lies. */
#ifdef HAVE_UNIBREAK
	uint8_t *brk2 = malloc(total);
	text_linebreaks(all.cps, all.n, brk);
	unibreak_linebreaks(all.cps, all.n, brk2);
	size_t differ = 0;
	for (size_t i = 0; i + 1 < all.n; i++)
		differ += (brk[i] == TEXT_BRK_NO) != (brk2[i] == TEXT_BRK_NO);
	printf("corpus: %zu of %zu boundaries differ between the two stages\n", differ, all.n - 1);
	free(brk2);
#endif
	report("per string (corpus lines, one call each)", texts, c.count, rounds, brk);
	report("bulk (the corpus as one text)", &all, 1, rounds, brk);

	for (size_t i = 0; i < c.count; i++)
		free(texts[i].cps);
	free(texts);
	free(all.cps);
	free(brk);
	corpus_free(&c);
	return 0;
}
