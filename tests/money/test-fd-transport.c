/*
 * The money test's socket transport keeps transport.h's write contract: a write that
 * returns 0 delivers all of its bytes, in order; one that returns KIO_ERR_BUSY delivers
 * none (a partial send() must not leave half a command on the wire).
 */
#include <glib.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fd-transport.h"

/* Reads what the peer has, checking it continues the pattern at *expect. */
static size_t peer_take(int fd, uint8_t *expect)
{
	size_t total = 0;
	uint8_t buf[4096];
	ssize_t n;
	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			g_assert_cmphex(buf[i], ==, (*expect)++);
		total += (size_t)n;
	}
	return total;
}

static void test_busy_queues_nothing(void)
{
	int sv[2];
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
	int small = 4096;
	g_assert_cmpint(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), ==, 0);
	g_assert_cmpint(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), ==, 0);
	struct transport *t = fd_transport_new("cash", sv[0]);
	uint8_t next = 0, expect = 0;
	size_t accepted = 0, received = 0;
	unsigned busy = 0;
	/* Writes larger than the socket takes at once: send() takes part of one (Linux splits an
	 * AF_UNIX stream write into buffer-sized pieces). */
	for (int round = 0; round < 5000 && busy < 50; round++) {
		uint8_t chunk[20000];
		uint8_t save = next;
		for (size_t i = 0; i < sizeof(chunk); i++)
			chunk[i] = next++;
		size_t before = transport_out_pending(t);
		int rc = transport_write(t, chunk, sizeof(chunk));
		if (rc == KIO_ERR_BUSY) {
			busy++;
			next = save; /* not queued: the same bytes are written again later */
			g_assert_cmpuint(transport_out_pending(t), <=, before);
			/* The device takes some: drain and go on. */
			received += peer_take(sv[1], &expect);
			fd_transport_drain(t);
			continue;
		}
		g_assert_cmpint(rc, ==, 0);
		accepted += sizeof(chunk);
	}
	g_assert_cmpuint(busy, >, 0); /* the case was reached */
	for (int i = 0; i < 1000 && transport_out_pending(t); i++) {
		received += peer_take(sv[1], &expect);
		fd_transport_drain(t);
	}
	g_assert_cmpuint(transport_out_pending(t), ==, 0);
	received += peer_take(sv[1], &expect);
	g_assert_cmpuint(received, ==, accepted);
	transport_free(t);
	close(sv[1]);
}

static void test_peer_gone(void)
{
	int sv[2];
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
	struct transport *t = fd_transport_new("cash", sv[0]);
	close(sv[1]);
	uint8_t b = 1;
	g_assert_cmpint(transport_write(t, &b, 1), ==, KIO_ERR_NO_DEVICE);
	g_assert_false(transport_connected(t));
	g_assert_cmpuint(transport_out_pending(t), ==, 0);
	transport_free(t);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/fd-transport/busy-queues-nothing", test_busy_queues_nothing);
	g_test_add_func("/fd-transport/peer-gone", test_peer_gone);
	return g_test_run();
}
