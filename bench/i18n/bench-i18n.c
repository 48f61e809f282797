/* Catalogue lookups: the cost of switching LANGUAGE per call (README: Catalogues). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kiosk/core/i18n.h"

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200000;
	struct i18n *cat = NULL;
	struct kio_error err;
	double t0 = now_s();
	if (n <= 0 || i18n_load(NULL, &cat, &err) != 0) {
		fprintf(stderr, "bench-i18n: %s\n", n <= 0 ? "usage: bench-i18n [N]" : err.msg);
		return 1;
	}
	printf("load (every id checked in both languages): %.2f ms\n", (now_s() - t0) * 1e3);
	static const struct {
		const char *what;
		int lang; /* -1: alternating */
	} runs[] = {{"English", LANG_EN}, {"Arabic", LANG_AR}, {"alternating", -1}};
	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
		t0 = now_s();
		for (int i = 0; i < n; i++)
			i18n_get(cat, runs[r].lang < 0 ? (enum lang)(i & 1) : (enum lang)runs[r].lang, "home.title");
		printf("i18n_get, %s: %.3f us/call\n", runs[r].what, (now_s() - t0) / n * 1e6);
	}
	t0 = now_s();
	for (int i = 0; i < n; i++)
		i18n_nget(cat, LANG_AR, "receipt.notes.count", (unsigned long)i);
	printf("i18n_nget, Arabic: %.3f us/call\n", (now_s() - t0) / n * 1e6);
	i18n_free(cat);
	return 0;
}
