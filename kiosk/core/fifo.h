/*
 * A bounded FIFO of fixed-size records in caller-provided storage. Drivers queue class events
 * during a step and deliver them after it, so a listener may call back into the driver.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct core_fifo {
	unsigned char *storage; /* borrowed: cap * rec_size bytes */
	size_t rec_size;
	size_t cap;
	size_t head; /* index of the oldest record */
	size_t len;
};

void core_fifo_init(struct core_fifo *q, void *storage, size_t rec_size, size_t cap);
/* Copies rec in; false (nothing changed) when full. */
bool core_fifo_push(struct core_fifo *q, const void *rec);
/* Copies the oldest record out and drops it; false when empty. */
bool core_fifo_pop(struct core_fifo *q, void *rec);
