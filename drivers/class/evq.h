/*
 * The queue a driver keeps its class events in between a step and their delivery (so a
 * listener may call back into the driver). A job's final event (PRINTED, FAILED, ISSUED) is
 * never dropped: the kiosk waits for it, and a sale would wait for ever. Status events
 * (FAULT, RECOVERED) only say "the status changed, read it" (kiosk/app.c reads get_status),
 * so a status event queued right behind another one replaces it: a flood of status changes
 * costs one slot, and the queue grows only for finals, one per job.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct class_evq {
	unsigned char *recs; /* cap records of rec_size bytes, a ring from head */
	bool *final;
	size_t rec_size, cap, head, len;
	size_t coalesced;    /* status events replaced by a later one (for tests and logs) */
};

/* Zero-initialise q, then init; free with class_evq_free. */
void class_evq_init(struct class_evq *q, size_t rec_size);
void class_evq_free(struct class_evq *q);
/* Copies rec in. A status event (final false) replaces a status event at the tail. Never
 * fails: a full queue grows (allocation failure aborts, xmalloc). */
void class_evq_push(struct class_evq *q, const void *rec, bool final);
/* Copies the oldest record out and drops it; false when empty. */
bool class_evq_pop(struct class_evq *q, void *rec);
