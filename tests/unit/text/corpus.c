/* The kiosk string corpus shared by the raqm comparison and the benchmark. */
#include "corpus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int corpus_load(const char *path, struct corpus *out)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return -1;
	}
	char buf[4096];
	size_t cap = 0;
	out->lines = NULL;
	out->count = 0;
	while (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		if (buf[0] == '#' || buf[0] == '\0')
			continue;
		if (out->count == cap) {
			cap = cap ? cap * 2 : 256;
			char **n = realloc(out->lines, cap * sizeof(*n));
			if (!n)
				abort();
			out->lines = n;
		}
		out->lines[out->count] = strdup(buf);
		if (!out->lines[out->count])
			abort();
		out->count++;
	}
	fclose(f);
	return 0;
}

void corpus_free(struct corpus *c)
{
	for (size_t i = 0; i < c->count; i++)
		free(c->lines[i]);
	free(c->lines);
	c->lines = NULL;
	c->count = 0;
}
