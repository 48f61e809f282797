/*
 * LineBreakTest.txt (UAX #14, from unicode-data) through the engine's line-break stage
 * (libunibreak 1.1, guarded). That library implements Unicode 6.2 rules, so not every
 * line of the Unicode 15 file passes; the test prints the figure, asserts the floor
 * measured when the guard went in, and asserts that no line crashes the stage.
 * Skips (77) when unicode-data is not installed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/text/text-priv.h"

#define MAXLEN 256
#define TEST_FILE "/usr/share/unicode/auxiliary/LineBreakTest.txt"
/* Measured on Debian 12 (libunibreak 1.1-2.1, unicode-data 15.0.0-1): 6997 of 7654. */
#define PASS_FLOOR 6997

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
		total++;
		pass += ok;
		with_ri += ri;
		ri_pass += ri && ok;
	}
	fclose(f);
	printf("LineBreakTest.txt: %ld/%ld pass (%.1f%%), engine: libunibreak 1.1 guarded\n", pass,
	       total, total ? 100.0 * (double)pass / (double)total : 0.0);
	printf("  lines with regional indicators (abort libunibreak unguarded): %ld, %ld pass\n",
	       with_ri, ri_pass);
	if (total < 7000 || pass < PASS_FLOOR) {
		fprintf(stderr, "below the floor of %d passing lines\n", PASS_FLOOR);
		return 1;
	}
	return 0;
}
