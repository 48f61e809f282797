/* Loads tests/unit/text/corpus.txt (kiosk strings, one per line) for tests and benchmarks. */
#pragma once

#include <stddef.h>

struct corpus {
	char **lines;
	size_t count;
};

/* Returns 0, or -1 if the file cannot be read (perror'd). */
int corpus_load(const char *path, struct corpus *out);
void corpus_free(struct corpus *c);
