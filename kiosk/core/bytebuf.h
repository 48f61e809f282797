/* A growable byte buffer: protocol encoders append to it, transports queue through it. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Zero-initialise, then core_bytebuf_free. Allocation failure aborts (xmalloc): callers bound
 * what they queue before it gets here. */
struct core_bytebuf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

void core_bytebuf_append(struct core_bytebuf *b, const void *bytes, size_t n);
void core_bytebuf_append_byte(struct core_bytebuf *b, uint8_t byte);
/* Drops the first n bytes (all of them if n >= len). */
void core_bytebuf_consume(struct core_bytebuf *b, size_t n);
void core_bytebuf_clear(struct core_bytebuf *b); /* keeps the allocation */
void core_bytebuf_free(struct core_bytebuf *b);  /* frees data, leaves b empty and reusable */
