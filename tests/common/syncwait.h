/*
 * Waiting on the sync worker (kiosk/sync/sync.h) from a test thread: the worker's wake callback
 * (test_waker_wake, user = the waker) signals a test_waker, and TEST_WAIT_FOR waits on it until
 * a condition holds, looking again every 50 ms for what changes without a wake-up; after 20 s
 * the test aborts naming the condition. Header only: the tests that use it link the sync.
 */
#pragma once

#include <glib.h>

#include "kiosk/sync/sync.h"

struct test_waker {
	GMutex mu;
	GCond cond;
	int wakes; /* wake-ups so far, read under mu */
};

static inline void test_waker_init(struct test_waker *w)
{
	g_mutex_init(&w->mu);
	g_cond_init(&w->cond);
	w->wakes = 0;
}

static inline void test_waker_clear(struct test_waker *w)
{
	g_mutex_clear(&w->mu);
	g_cond_clear(&w->cond);
}

static inline void test_waker_wake(void *user)
{
	struct test_waker *w = user;
	g_mutex_lock(&w->mu);
	w->wakes++;
	g_cond_broadcast(&w->cond);
	g_mutex_unlock(&w->mu);
}

/* The sync's status now, for a condition: TEST_WAIT_FOR(&w, test_sync_status(s).x == 1). */
static inline struct sync_status test_sync_status(struct sync *s)
{
	struct sync_status st;
	sync_status_get(s, &st);
	return st;
}

/* Polls pred until true, waking on w; 20 s at most, then aborts. */
#define TEST_WAIT_FOR(w, pred)                                                                                       \
	do {                                                                                                         \
		gint64 until_ = g_get_monotonic_time() + 20 * G_TIME_SPAN_SECOND;                                    \
		g_mutex_lock(&(w)->mu);                                                                              \
		while (!(pred)) {                                                                                    \
			if (g_get_monotonic_time() > until_)                                                         \
				g_error("timed out waiting for " #pred);                                             \
			g_cond_wait_until(&(w)->cond, &(w)->mu, g_get_monotonic_time() + 50 * G_TIME_SPAN_MILLISECOND); \
		}                                                                                                    \
		g_mutex_unlock(&(w)->mu);                                                                            \
	} while (0)
