/*
 * The network suite's fault proxy does what its modes say, on plain TCP against a tiny
 * upstream of the test's own: the host-link tests trust it to refuse, delay and cut, so it
 * is proven here first.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The upstream: answers each connection's first read with a fixed 100-byte reply, then
 * closes. */
#define REPLY_LEN 100
static int upstream_fd;

static void *upstream_main(void *arg)
{
	(void)arg;
	for (;;) {
		int c = accept(upstream_fd, NULL, NULL);
		if (c < 0)
			return NULL;
		char buf[256];
		if (read(c, buf, sizeof buf) > 0) {
			char reply[REPLY_LEN];
			memset(reply, 'h', sizeof reply);
			if (write(c, reply, sizeof reply) != (ssize_t)sizeof reply)
				g_printerr("upstream: short write\n");
		}
		close(c);
	}
}

struct proxy {
	GPid pid;
	int port;
	char *control;
	char *dir;
};

static void set_mode(struct proxy *p, const char *mode)
{
	/* Renamed into place so the proxy never reads a half-written file. */
	char *tmp = g_strconcat(p->control, ".tmp", NULL);
	g_assert_true(g_file_set_contents(tmp, mode, -1, NULL));
	g_assert_cmpint(g_rename(tmp, p->control), ==, 0);
	g_free(tmp);
	/* The proxy looks at the file every 50 ms. */
	g_usleep(200 * 1000);
}

static void proxy_start(struct proxy *p, int upstream_port)
{
	p->dir = g_dir_make_tmp("faultproxy-XXXXXX", NULL);
	g_assert_nonnull(p->dir);
	p->control = g_build_filename(p->dir, "mode", NULL);
	g_assert_true(g_file_set_contents(p->control, "up\n", -1, NULL));
	char up[32];
	snprintf(up, sizeof up, "127.0.0.1:%d", upstream_port);
	const char *exe = g_getenv("FAULTPROXY");
	g_assert_nonnull(exe);
	char *argv[] = {(char *)exe, "--listen", "127.0.0.1:0", "--upstream", up, "--control", p->control, NULL};
	int out = -1;
	GError *error = NULL;
	g_assert_true(g_spawn_async_with_pipes(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &p->pid, NULL,
					       &out, NULL, &error));
	char line[64] = "";
	FILE *f = fdopen(out, "r");
	g_assert_nonnull(fgets(line, sizeof line, f));
	fclose(f);
	g_assert_cmpint(sscanf(line, "listening on 127.0.0.1:%d", &p->port), ==, 1);
}

static void proxy_stop(struct proxy *p)
{
	kill(p->pid, SIGTERM);
	waitpid(p->pid, NULL, 0);
	g_unlink(p->control);
	g_rmdir(p->dir);
	g_free(p->control);
	g_free(p->dir);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Connects, sends a request, reads until the far end closes. -1: the connection was refused. */
static int exchange(int port, double *seconds)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	double t0 = now_s();
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		int e = errno;
		close(fd);
		g_assert_cmpint(e, ==, ECONNREFUSED);
		return -1;
	}
	g_assert_cmpint(write(fd, "ask", 3), ==, 3);
	int got = 0;
	char buf[256];
	ssize_t r;
	while ((r = read(fd, buf, sizeof buf)) > 0)
		got += (int)r;
	close(fd);
	if (seconds)
		*seconds = now_s() - t0;
	return got;
}

static int upstream_port;

static void test_modes(void)
{
	struct proxy p;
	proxy_start(&p, upstream_port);

	double fast = 0, slow = 0;
	g_assert_cmpint(exchange(p.port, &fast), ==, REPLY_LEN);

	set_mode(&p, "slow 600\n");
	g_assert_cmpint(exchange(p.port, &slow), ==, REPLY_LEN);
	g_assert_cmpfloat(slow, >=, 0.55);

	set_mode(&p, "cut 40\n");
	g_assert_cmpint(exchange(p.port, NULL), ==, 40);
	set_mode(&p, "cut 0\n");
	g_assert_cmpint(exchange(p.port, NULL), ==, 0);

	set_mode(&p, "down\n");
	g_assert_cmpint(exchange(p.port, NULL), ==, -1);

	/* A typo keeps the mode it had: still down. */
	set_mode(&p, "dwon\n");
	g_assert_cmpint(exchange(p.port, NULL), ==, -1);

	/* Back up on the same port. */
	set_mode(&p, "up\n");
	g_assert_cmpint(exchange(p.port, NULL), ==, REPLY_LEN);
	proxy_stop(&p);
}

/* A connection open when the link goes down is cut, not left to carry on. */
static void test_down_cuts_open_links(void)
{
	struct proxy p;
	proxy_start(&p, upstream_port);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p.port)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	g_assert_cmpint(connect(fd, (struct sockaddr *)&a, sizeof a), ==, 0);
	g_usleep(100 * 1000);
	set_mode(&p, "down\n");
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	g_assert_cmpint(poll(&pfd, 1, 2000), ==, 1);
	char buf[8];
	g_assert_cmpint(read(fd, buf, sizeof buf), <=, 0);
	close(fd);
	proxy_stop(&p);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	signal(SIGPIPE, SIG_IGN);
	upstream_fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	g_assert_cmpint(bind(upstream_fd, (struct sockaddr *)&a, sizeof a), ==, 0);
	g_assert_cmpint(listen(upstream_fd, 16), ==, 0);
	socklen_t len = sizeof a;
	getsockname(upstream_fd, (struct sockaddr *)&a, &len);
	upstream_port = ntohs(a.sin_port);
	pthread_t th;
	pthread_create(&th, NULL, upstream_main, NULL);
	pthread_detach(th);

	g_test_add_func("/faultproxy/modes", test_modes);
	g_test_add_func("/faultproxy/down-cuts-open-links", test_down_cuts_open_links);
	return g_test_run();
}
