/* A bounded FIFO of fixed-size records. */
#include "kiosk/core/fifo.h"

#include <string.h>

void core_fifo_init(struct core_fifo *q, void *storage, size_t rec_size, size_t cap)
{
	*q = (struct core_fifo){.storage = storage, .rec_size = rec_size, .cap = cap};
}

bool core_fifo_push(struct core_fifo *q, const void *rec)
{
	if (q->len == q->cap)
		return false;
	size_t tail = (q->head + q->len) % q->cap;
	memcpy(q->storage + tail * q->rec_size, rec, q->rec_size);
	q->len++;
	return true;
}

bool core_fifo_pop(struct core_fifo *q, void *rec)
{
	if (q->len == 0)
		return false;
	memcpy(rec, q->storage + q->head * q->rec_size, q->rec_size);
	q->head = (q->head + 1) % q->cap;
	q->len--;
	return true;
}
