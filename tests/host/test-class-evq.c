/*
 * The class event queue the receipt and card drivers deliver through (drivers/class/evq.h):
 * a flood of status changes between two deliveries never pushes out a job's final event
 * (the old 8-slot FIFO dropped PRINTED / FAILED / ISSUED once full), finals keep their
 * order, and the status the listener is left with is the latest one.
 */
#include <glib.h>

#include "drivers/class/evq.h"
#include "drivers/class/receipt.h"

static void push_status(struct class_evq *q, enum receipt_event_kind kind, enum receipt_fault f)
{
	struct receipt_event ev = {.kind = kind, .fault = f};
	class_evq_push(q, &ev, false);
}

static void push_final(struct class_evq *q, enum receipt_event_kind kind, const char *job)
{
	struct receipt_event ev = {.kind = kind};
	g_strlcpy(ev.job_id, job, sizeof(ev.job_id));
	class_evq_push(q, &ev, true);
}

static void test_flood(void)
{
	struct class_evq q = {0};
	class_evq_init(&q, sizeof(struct receipt_event));
	/* Twenty jobs end between two deliveries, each among 100 status changes (paper out and
	 * back): far more than the old queue's 8 slots. */
	for (int job = 0; job < 20; job++) {
		for (int i = 0; i < 50; i++) {
			push_status(&q, RECEIPT_EV_FAULT, RECEIPT_FAULT_PAPER_OUT);
			push_status(&q, RECEIPT_EV_RECOVERED, RECEIPT_FAULT_PAPER_OUT);
		}
		char id[16];
		g_snprintf(id, sizeof(id), "J%d", job);
		push_final(&q, job % 2 ? RECEIPT_EV_FAILED : RECEIPT_EV_PRINTED, id);
	}
	push_status(&q, RECEIPT_EV_FAULT, RECEIPT_FAULT_COVER_OPEN);
	g_assert_cmpuint(q.coalesced, ==, 20 * 100 - 20);

	struct receipt_event ev;
	int job = 0;
	size_t n = 0;
	struct receipt_event last = {0};
	while (class_evq_pop(&q, &ev)) {
		n++;
		if (ev.kind == RECEIPT_EV_PRINTED || ev.kind == RECEIPT_EV_FAILED) {
			char id[16];
			g_snprintf(id, sizeof(id), "J%d", job);
			g_assert_cmpstr(ev.job_id, ==, id);
			g_assert_cmpint(ev.kind, ==, job % 2 ? RECEIPT_EV_FAILED : RECEIPT_EV_PRINTED);
			job++;
		}
		last = ev;
	}
	g_assert_cmpint(job, ==, 20);        /* every final, in order */
	g_assert_cmpuint(n, ==, 20 * 2 + 1); /* each run of status changes is one event */
	g_assert_cmpint(last.kind, ==, RECEIPT_EV_FAULT);
	g_assert_cmpint(last.fault, ==, RECEIPT_FAULT_COVER_OPEN);
	class_evq_free(&q);
}

/* The queue wraps and grows with records in place: order survives both. */
static void test_wrap_and_grow(void)
{
	struct class_evq q = {0};
	class_evq_init(&q, sizeof(int));
	int next_in = 0, next_out = 0;
	for (int round = 0; round < 200; round++) {
		int burst = round % 23;
		for (int i = 0; i < burst; i++) {
			class_evq_push(&q, &next_in, true);
			next_in++;
		}
		int out;
		for (int i = 0; i < burst / 2 + 1 && class_evq_pop(&q, &out); i++)
			g_assert_cmpint(out, ==, next_out++);
	}
	int out;
	while (class_evq_pop(&q, &out))
		g_assert_cmpint(out, ==, next_out++);
	g_assert_cmpint(next_out, ==, next_in);
	class_evq_free(&q);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/class-evq/flood", test_flood);
	g_test_add_func("/class-evq/wrap-and-grow", test_wrap_and_grow);
	return g_test_run();
}
