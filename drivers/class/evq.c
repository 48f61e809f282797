/* The class event queue: finals kept whatever comes, status events coalesced (evq.h). */
#include "evq.h"

#include <stdlib.h>
#include <string.h>

#include "kiosk/core/xmalloc.h"

#define EVQ_INITIAL 8

void class_evq_init(struct class_evq *q, size_t rec_size)
{
	memset(q, 0, sizeof(*q));
	q->rec_size = rec_size;
	q->cap = EVQ_INITIAL;
	q->recs = xcalloc(q->cap, rec_size);
	q->final = xcalloc(q->cap, sizeof(*q->final));
}

void class_evq_free(struct class_evq *q)
{
	free(q->recs);
	free(q->final);
	memset(q, 0, sizeof(*q));
}

static unsigned char *slot(struct class_evq *q, size_t i) { return q->recs + ((q->head + i) % q->cap) * q->rec_size; }

static void grow(struct class_evq *q)
{
	size_t cap = q->cap * 2;
	unsigned char *recs = xcalloc(cap, q->rec_size);
	bool *final = xcalloc(cap, sizeof(*final));
	for (size_t i = 0; i < q->len; i++) {
		memcpy(recs + i * q->rec_size, slot(q, i), q->rec_size);
		final[i] = q->final[(q->head + i) % q->cap];
	}
	free(q->recs);
	free(q->final);
	q->recs = recs;
	q->final = final;
	q->cap = cap;
	q->head = 0;
}

void class_evq_push(struct class_evq *q, const void *rec, bool final)
{
	if (!final && q->len && !q->final[(q->head + q->len - 1) % q->cap]) {
		memcpy(slot(q, q->len - 1), rec, q->rec_size);
		q->coalesced++;
		return;
	}
	if (q->len == q->cap)
		grow(q);
	memcpy(slot(q, q->len), rec, q->rec_size);
	q->final[(q->head + q->len) % q->cap] = final;
	q->len++;
}

bool class_evq_pop(struct class_evq *q, void *rec)
{
	if (!q->len)
		return false;
	memcpy(rec, slot(q, 0), q->rec_size);
	q->head = (q->head + 1) % q->cap;
	q->len--;
	return true;
}
