/*
 * A byte pipe over a non-blocking stream socket: the money test's "USB cable" between the
 * child running the driver and the parent serving the device model. Keeps transport.h's
 * contract: write() queues all of its bytes or, when its queue is full, none of them.
 */
#pragma once

#include <stdbool.h>

#include "drivers/transport/transport.h"

/* Bytes a write may queue beyond what the socket took; a write that would pass it is BUSY. */
#define FD_TRANSPORT_QUEUE_MAX 65536

/* Takes fd (closed by transport_free). Never NULL. */
struct transport *fd_transport_new(const char *name, int fd);
/* Hands queued bytes to the socket as far as it takes them; call when the fd polls POLLOUT. */
void fd_transport_drain(struct transport *t);
int fd_transport_fd(struct transport *t);
