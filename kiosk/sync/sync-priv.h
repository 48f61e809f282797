/* Inside the sync module and its tests only: the worker over another transport. */
#pragma once

#include "sync.h"
#include "transport.h"

/* Before sync_start: the worker uses t (taken: freed with the sync) instead of libcurl, and
 * starts even with host.url empty. */
void sync_test_set_transport(struct sync *s, struct sync_transport *t);
