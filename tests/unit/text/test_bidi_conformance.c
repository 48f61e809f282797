/*
 * Unicode's own bidi conformance files through the engine's bidi stage (text_bidi_*):
 * BidiCharacterTest.txt (code points, with brackets) and BidiTest.txt (classes), every
 * line, levels after per-line reordering and visual order. Prints pass/total per file and
 * fails below 100%. Skips (77) when unicode-data is not installed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/text/text-priv.h"

#define MAXLEN 256
#define UCD_DIR "/usr/share/unicode/"

/* The resolver's work arrays, grown once and reused by every case. */
static struct text_bidi_work work;

struct tally {
	long pass, total;
};

static bool parse_levels(char *s, int *lv, int *n)
{
	*n = 0;
	for (char *tok = strtok(s, " \t"); tok; tok = strtok(NULL, " \t")) {
		if (*n >= MAXLEN)
			return false;
		lv[(*n)++] = tok[0] == 'x' ? -1 : atoi(tok);
	}
	return true;
}

/* One paragraph, one line: levels and order as the test files define them. */
static bool run_case(const FriBidiCharType *types, const FriBidiBracketType *bt, int n,
		     FriBidiParType dir, int want_par, const int *want_lv, const int *want_ord,
		     int n_ord)
{
	FriBidiLevel levels[MAXLEN];
	FriBidiStrIndex map[MAXLEN];
	if (text_bidi_levels(&work, types, bt, n, &dir, levels) != 0)
		return false;
	if (want_par >= 0 && FRIBIDI_DIR_TO_LEVEL(dir) != want_par)
		return false;
	if (text_bidi_reorder_line(types, 0, n, dir, levels, map) != 0)
		return false;
	for (int i = 0; i < n; i++)
		if (want_lv[i] >= 0 && levels[i] != want_lv[i])
			return false;
	/* Characters removed by rule X9 (explicit codes, BN) have no place in the order. */
	int k = 0;
	for (int v = 0; v < n; v++) {
		if (FRIBIDI_IS_EXPLICIT_OR_BN(types[map[v]]))
			continue;
		if (k >= n_ord || map[v] != want_ord[k])
			return false;
		k++;
	}
	return k == n_ord;
}

static int bidi_character_test(struct tally *t)
{
	FILE *f = fopen(UCD_DIR "BidiCharacterTest.txt", "r");
	if (!f)
		return errno == ENOENT ? 77 : 1;
	char line[8192];
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		char *field[5];
		char *p = line;
		int nf = 0;
		for (; nf < 5 && p; nf++) {
			field[nf] = p;
			p = strchr(p, ';');
			if (p)
				*p++ = '\0';
		}
		if (nf != 5)
			continue;
		uint32_t cps[MAXLEN];
		int n = 0;
		for (char *tok = strtok(field[0], " "); tok && n < MAXLEN; tok = strtok(NULL, " "))
			cps[n++] = (uint32_t)strtoul(tok, NULL, 16);
		int dirf = atoi(field[1]), par = atoi(field[2]);
		int lv[MAXLEN], ord[MAXLEN], nl, no;
		if (!parse_levels(field[3], lv, &nl) || !parse_levels(field[4], ord, &no) || nl != n)
			continue;
		FriBidiCharType types[MAXLEN];
		FriBidiBracketType bt[MAXLEN];
		text_bidi_classify(cps, n, types, bt);
		FriBidiParType dir = dirf == 0 ? FRIBIDI_PAR_LTR : dirf == 1 ? FRIBIDI_PAR_RTL
									: FRIBIDI_PAR_ON;
		t->total++;
		if (run_case(types, bt, n, dir, par, lv, ord, no))
			t->pass++;
		else if (t->total - t->pass <= 5)
			fprintf(stderr, "BidiCharacterTest mismatch: %s;%d\n", field[0], dirf);
	}
	fclose(f);
	return 0;
}

static FriBidiCharType class_of(const char *name)
{
	static const struct {
		const char *name;
		FriBidiCharType type;
	} tab[] = {
		{"L", FRIBIDI_TYPE_LTR}, {"R", FRIBIDI_TYPE_RTL}, {"AL", FRIBIDI_TYPE_AL},
		{"EN", FRIBIDI_TYPE_EN}, {"ES", FRIBIDI_TYPE_ES}, {"ET", FRIBIDI_TYPE_ET},
		{"AN", FRIBIDI_TYPE_AN}, {"CS", FRIBIDI_TYPE_CS}, {"NSM", FRIBIDI_TYPE_NSM},
		{"BN", FRIBIDI_TYPE_BN}, {"B", FRIBIDI_TYPE_BS}, {"S", FRIBIDI_TYPE_SS},
		{"WS", FRIBIDI_TYPE_WS}, {"ON", FRIBIDI_TYPE_ON}, {"LRE", FRIBIDI_TYPE_LRE},
		{"LRO", FRIBIDI_TYPE_LRO}, {"RLE", FRIBIDI_TYPE_RLE}, {"RLO", FRIBIDI_TYPE_RLO},
		{"PDF", FRIBIDI_TYPE_PDF}, {"LRI", FRIBIDI_TYPE_LRI}, {"RLI", FRIBIDI_TYPE_RLI},
		{"FSI", FRIBIDI_TYPE_FSI}, {"PDI", FRIBIDI_TYPE_PDI},
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (!strcmp(tab[i].name, name))
			return tab[i].type;
	return FRIBIDI_TYPE_SENTINEL;
}

static int bidi_test(struct tally *t)
{
	FILE *f = fopen(UCD_DIR "BidiTest.txt", "r");
	if (!f)
		return errno == ENOENT ? 77 : 1;
	char line[8192];
	int lv[MAXLEN], ord[MAXLEN], nl = 0, no = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (!strncmp(line, "@Levels:", 8)) {
			parse_levels(line + 8, lv, &nl);
			continue;
		}
		if (!strncmp(line, "@Reorder:", 9)) {
			parse_levels(line + 9, ord, &no);
			continue;
		}
		if (line[0] == '@')
			continue;
		char *semi = strchr(line, ';');
		if (!semi)
			continue;
		*semi = '\0';
		int bits = atoi(semi + 1);
		FriBidiCharType types[MAXLEN];
		int n = 0;
		bool ok = true;
		for (char *tok = strtok(line, " "); tok && n < MAXLEN; tok = strtok(NULL, " ")) {
			types[n] = class_of(tok);
			ok &= types[n++] != FRIBIDI_TYPE_SENTINEL;
		}
		static const FriBidiParType dirs[3] = {FRIBIDI_PAR_ON, FRIBIDI_PAR_LTR, FRIBIDI_PAR_RTL};
		for (int b = 0; b < 3; b++) {
			if (!(bits & (1 << b)))
				continue;
			t->total++;
			if (ok && n == nl && run_case(types, NULL, n, dirs[b], -1, lv, ord, no))
				t->pass++;
			else if (t->total - t->pass <= 5)
				fprintf(stderr, "BidiTest mismatch: %s; bit %d\n", line, b);
		}
	}
	fclose(f);
	return 0;
}

int main(void)
{
	struct tally chr = {0}, cls = {0};
	int rc = bidi_character_test(&chr);
	if (rc == 77) {
		fprintf(stderr, "SKIP: " UCD_DIR "BidiCharacterTest.txt absent (unicode-data)\n");
		return 77;
	}
	if (rc)
		return rc;
	rc = bidi_test(&cls);
	if (rc == 77) {
		fprintf(stderr, "SKIP: " UCD_DIR "BidiTest.txt absent (unicode-data)\n");
		return 77;
	}
	if (rc)
		return rc;
	printf("BidiCharacterTest.txt: %ld/%ld pass\n", chr.pass, chr.total);
	printf("BidiTest.txt: %ld/%ld pass\n", cls.pass, cls.total);
	text_bidi_work_free(&work);
	/* Both files, in full, through the engine's stage: anything less is a regression. */
	return chr.total > 90000 && cls.total > 770000 && chr.pass == chr.total &&
			       cls.pass == cls.total
		       ? 0
		       : 1;
}
