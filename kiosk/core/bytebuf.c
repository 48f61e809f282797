/* A growable byte buffer. */
#include "kiosk/core/bytebuf.h"

#include <stdlib.h>
#include <string.h>

#include "kiosk/core/xmalloc.h"

void core_bytebuf_append(struct core_bytebuf *b, const void *bytes, size_t n)
{
	if (n == 0)
		return;
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap - b->len < n)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	memcpy(b->data + b->len, bytes, n);
	b->len += n;
}

void core_bytebuf_append_byte(struct core_bytebuf *b, uint8_t byte)
{
	core_bytebuf_append(b, &byte, 1);
}

void core_bytebuf_consume(struct core_bytebuf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void core_bytebuf_clear(struct core_bytebuf *b) { b->len = 0; }

void core_bytebuf_free(struct core_bytebuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
