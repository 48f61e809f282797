/*
 * LineBreakTest.txt (UAX #14, from unicode-data) through the engine's line-break stage
 * (kiosk/text/linebreak.c, its table generated from the same unicode-data). Every line must
 * pass: the test prints the figure and fails on any line that does not, naming the first
 * few. Skips (77) when unicode-data is not installed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/text/text-priv.h"

#define MAXLEN 256
#define TEST_FILE "/usr/share/unicode/auxiliary/LineBreakTest.txt"
/* Lines in Debian 12's LineBreakTest-15.0.0.txt; a file with fewer is not the suite. */
#define MIN_LINES 7654

int main(void)
{
	FILE *f = fopen(TEST_FILE, "r");
	if (!f) {
		fprintf(stderr, "SKIP: %s: %s\n", TEST_FILE, strerror(errno));
		return errno == ENOENT ? 77 : 1;
	}
	char line[8192];
	long pass = 0, total = 0, with_ri = 0, ri_pass = 0;
	while (fgets(line, sizeof(line), f)) {
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		uint32_t cps[MAXLEN];
		bool want[MAXLEN]; /* break allowed after cps[i] */
		int n = 0;
		bool ri = false;
		for (char *tok = strtok(line, " \t\n"); tok; tok = strtok(NULL, " \t\n")) {
			if (!strcmp(tok, "\xc3\x97")) { /* × */
				if (n)
					want[n - 1] = false;
			} else if (!strcmp(tok, "\xc3\xb7")) { /* ÷ */
				if (n)
					want[n - 1] = true;
			} else if (n < MAXLEN) {
				cps[n] = (uint32_t)strtoul(tok, NULL, 16);
				ri |= cps[n] >= 0x1f1e6 && cps[n] <= 0x1f1ff;
				n++;
			}
		}
		if (!n)
			continue;
		uint8_t brk[MAXLEN];
		text_linebreaks(cps, (size_t)n, brk);
		bool ok = true;
		for (int i = 0; i + 1 < n; i++)
			ok &= (brk[i] != TEXT_BRK_NO) == want[i];
		if (!ok && total - pass < 10) {
			fprintf(stderr, "FAIL line %ld:", total + 1);
			for (int i = 0; i < n; i++)
				fprintf(stderr, " %04X %s", cps[i],
					i + 1 == n ? "" : brk[i] != TEXT_BRK_NO ? "\xc3\xb7" : "\xc3\x97");
			fprintf(stderr, "\n");
		}
		total++;
		pass += ok;
		with_ri += ri;
		ri_pass += ri && ok;
	}
	fclose(f);
	printf("LineBreakTest.txt: %ld/%ld pass (%.1f%%), engine: own UAX #14, Unicode %s tables\n",
	       pass, total, total ? 100.0 * (double)pass / (double)total : 0.0, text_linebreak_unicode);
	printf("  lines with regional indicators: %ld, %ld pass\n", with_ri, ri_pass);
	if (total < MIN_LINES || pass != total) {
		fprintf(stderr, "%ld of %ld lines fail (%ld lines read, at least %d expected)\n",
			total - pass, total, total, MIN_LINES);
		return 1;
	}
	return 0;
}
