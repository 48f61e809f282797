/*
 * Issue 4: no heap allocation per text_layout() call in the steady state. The layout
 * cache is kept full and missing (corpus strings at four wrap widths, 1,040 keys against
 * 512 entries, cycled in order), and after warm-up not one malloc may happen. Built
 * without sanitizers only: they own malloc.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "kiosk/text/text-priv.h"

/* glibc lets the executable interpose malloc for the whole process, libraries included. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static unsigned long n_allocs;

void *malloc(size_t n)
{
	n_allocs++;
	return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	n_allocs++;
	return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	n_allocs++;
	return __libc_realloc(p, n);
}

static const int widths[] = {0, 1200, 900, 600};

static int cycle(struct text_engine *e, const struct corpus *c)
{
	for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
		for (size_t i = 0; i < c->count; i++) {
			struct text_style st = {.size_px = 32, .dir = TEXT_DIR_AUTO, .max_width = widths[w]};
			if (!text_layout(e, c->lines[i], &st))
				return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct corpus c;
	struct text_engine *e;
	struct kio_error err = {0};
	if (argc < 2 || corpus_load(argv[1], &c) != 0)
		return 1;
	if (text_engine_new(NULL, &e, &err) != 0) {
		fprintf(stderr, "SKIP: %s\n", err.msg);
		return 77;
	}
	int rc = 1;
	if (c.count * 4 <= TEXT_LAYOUT_CACHE_ENTRIES) {
		fprintf(stderr, "corpus too small to keep the cache missing\n");
		goto out;
	}
	for (int r = 0; r < 3; r++)
		if (cycle(e, &c) != 0)
			goto out;
	uint64_t hits = e->lc.hits, misses = e->lc.misses;
	unsigned long before = n_allocs;
	/* The hook must see the engine's own allocations, or a zero below proves nothing. */
	if (before == 0) {
		fprintf(stderr, "the counting malloc saw nothing: not interposed\n");
		goto out;
	}
	if (cycle(e, &c) != 0)
		goto out;
	unsigned long allocs = n_allocs - before;
	printf("%llu text_layout() misses, %llu hits, %lu heap allocations\n",
	       (unsigned long long)(e->lc.misses - misses), (unsigned long long)(e->lc.hits - hits), allocs);
	rc = allocs == 0 && e->lc.hits == hits && e->lc.misses - misses == c.count * 4 ? 0 : 1;
out:
	text_engine_free(e);
	corpus_free(&c);
	return rc;
}
