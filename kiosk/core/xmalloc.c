/* Allocation wrappers: out of memory is not a recoverable state on a kiosk, so fail loudly. */
#include "xmalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *check(void *p, size_t size)
{
	if (!p && size) {
		fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", size);
		abort();
	}
	return p;
}

void *xmalloc(size_t size) { return check(malloc(size ? size : 1), size); }
void *xcalloc(size_t n, size_t size) { return check(calloc(n ? n : 1, size ? size : 1), n * size); }
void *xrealloc(void *ptr, size_t size) { return check(realloc(ptr, size ? size : 1), size); }
char *xstrdup(const char *s) { return check(strdup(s), strlen(s) + 1); }
char *xstrndup(const char *s, size_t n) { return check(strndup(s, n), n + 1); }

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *out = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&out, fmt, ap);
	va_end(ap);
	if (n < 0) {
		fprintf(stderr, "fatal: out of memory formatting a string\n");
		abort();
	}
	return out;
}
