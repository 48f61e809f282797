/*
 * faultproxy: a TCP proxy between the kiosk and the reference host that breaks the link on
 * command, for the network suite and the scenarios' `host down|slow` (tests/README.md,
 * "Network faults"). It works below TLS, so it can only do what a real network does to an
 * encrypted link: refuse, delay, cut. Faults that need the host's answer itself (HTTP 500, a
 * malformed body, a cut after the host committed) are the host's test switches instead.
 *
 *   faultproxy --listen 127.0.0.1:0 --upstream 127.0.0.1:PORT --control FILE
 *
 * prints "listening on 127.0.0.1:PORT" once it accepts. The mode is the first line of the
 * control file, read again whenever the file changes, so a test switches it by rewriting the
 * file (write a temporary file, rename it over):
 *
 *   up          forward both ways
 *   down        refuse new connections (the listening socket is closed, as on a host that is
 *               off) and cut the open ones: keep-alive connections must not outlive a down
 *   slow MS     hold every byte from the host MS milliseconds before passing it on
 *   cut BYTES   pass at most BYTES bytes from the host on each connection, then cut it
 *
 * An unknown mode is refused on stderr and the previous mode stays: a typo in a test must
 * not silently mean "up".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINKS 64
#define CHUNK 16384
/* Bytes from the host waiting for their release time in `slow` mode. */
#define HELD_MAX 64

enum mode { MODE_UP, MODE_DOWN, MODE_SLOW, MODE_CUT };

struct held {
	uint64_t due_ms;
	size_t len;
	char *data;
};

struct link {
	int client, upstream; /* -1 when closed */
	uint64_t from_host;   /* bytes passed from the host so far */
	bool host_closed;     /* the host ended; held bytes still go out first */
	struct held held[HELD_MAX];
	int n_held;
};

static struct link links[MAX_LINKS];
static enum mode mode = MODE_UP;
static long mode_arg;
static struct sockaddr_in listen_addr, upstream_addr;
static int listener = -1;
static const char *control_path;
static struct timespec control_mtime;
static off_t control_size = -1;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int parse_addr(const char *s, struct sockaddr_in *out)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof host)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535)
		return -1;
	memset(out, 0, sizeof *out);
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &out->sin_addr) == 1 ? 0 : -1;
}

static void close_link(struct link *l)
{
	if (l->client >= 0)
		close(l->client);
	if (l->upstream >= 0)
		close(l->upstream);
	for (int k = 0; k < l->n_held; k++)
		free(l->held[k].data);
	memset(l, 0, sizeof *l);
	l->client = l->upstream = -1;
}

static int open_listener(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&listen_addr, sizeof listen_addr) < 0 || listen(fd, 16) < 0) {
		close(fd);
		return -1;
	}
	/* Port 0 picked one: keep it, so a `down` then `up` comes back where the kiosk looks. */
	socklen_t len = sizeof listen_addr;
	getsockname(fd, (struct sockaddr *)&listen_addr, &len);
	return fd;
}

/* Reads the control file when it changed. Returns true when the mode changed. */
static bool read_control(void)
{
	struct stat st;
	if (stat(control_path, &st) < 0)
		return false;
	if (st.st_size == control_size && st.st_mtim.tv_sec == control_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == control_mtime.tv_nsec)
		return false;
	control_size = st.st_size;
	control_mtime = st.st_mtim;
	FILE *f = fopen(control_path, "r");
	if (!f)
		return false;
	char line[128] = "";
	if (!fgets(line, sizeof line, f))
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	char word[16] = "";
	long arg = 0;
	int n = sscanf(line, "%15s %ld", word, &arg);
	enum mode next;
	if (n >= 1 && strcmp(word, "up") == 0 && n == 1)
		next = MODE_UP;
	else if (n >= 1 && strcmp(word, "down") == 0 && n == 1)
		next = MODE_DOWN;
	else if (n == 2 && strcmp(word, "slow") == 0 && arg >= 0 && arg <= 600000)
		next = MODE_SLOW;
	else if (n == 2 && strcmp(word, "cut") == 0 && arg >= 0)
		next = MODE_CUT;
	else {
		fprintf(stderr, "faultproxy: control: '%s' is not up, down, slow MS or cut BYTES; mode unchanged\n", line);
		return false;
	}
	bool changed = next != mode || arg != mode_arg;
	mode = next;
	mode_arg = n == 2 ? arg : 0;
	return changed;
}

static void apply_mode(void)
{
	if (mode == MODE_DOWN) {
		for (int k = 0; k < MAX_LINKS; k++)
			if (links[k].client >= 0)
				close_link(&links[k]);
		if (listener >= 0) {
			close(listener);
			listener = -1;
		}
	} else if (listener < 0) {
		listener = open_listener();
		if (listener < 0)
			fprintf(stderr, "faultproxy: cannot listen again on port %u: %s\n", ntohs(listen_addr.sin_port),
				strerror(errno));
	}
}

static void accept_one(void)
{
	int c = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return;
	struct link *l = NULL;
	for (int k = 0; k < MAX_LINKS && !l; k++)
		if (links[k].client < 0)
			l = &links[k];
	int u = l ? socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) : -1;
	if (u < 0 || connect(u, (struct sockaddr *)&upstream_addr, sizeof upstream_addr) < 0) {
		/* The host itself is gone, or too many links: the kiosk sees a cut, as it would. */
		if (u >= 0)
			close(u);
		close(c);
		return;
	}
	int one = 1;
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	memset(l, 0, sizeof *l);
	l->client = c;
	l->upstream = u;
}

static bool write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		len -= (size_t)w;
	}
	return true;
}

/* Data from the host: passed on now, held (slow) or cut short (cut). False: close the link. */
static bool from_host(struct link *l, const char *buf, size_t len)
{
	if (mode == MODE_CUT) {
		uint64_t room = (uint64_t)mode_arg > l->from_host ? (uint64_t)mode_arg - l->from_host : 0;
		size_t pass = len < room ? len : (size_t)room;
		if (pass && !write_all(l->client, buf, pass))
			return false;
		l->from_host += pass;
		return pass == len;
	}
	if (mode == MODE_SLOW || l->n_held) {
		if (l->n_held == HELD_MAX)
			return false;
		struct held *h = &l->held[l->n_held++];
		h->due_ms = now_ms() + (mode == MODE_SLOW ? (uint64_t)mode_arg : 0);
		h->len = len;
		h->data = malloc(len);
		if (!h->data)
			return false;
		memcpy(h->data, buf, len);
		return true;
	}
	l->from_host += len;
	return write_all(l->client, buf, len);
}

static bool release_held(struct link *l, uint64_t now)
{
	while (l->n_held && l->held[0].due_ms <= now) {
		bool ok = write_all(l->client, l->held[0].data, l->held[0].len);
		l->from_host += l->held[0].len;
		free(l->held[0].data);
		memmove(&l->held[0], &l->held[1], (size_t)(l->n_held - 1) * sizeof l->held[0]);
		l->n_held--;
		if (!ok)
			return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	const char *listen_s = NULL, *upstream_s = NULL;
	for (int k = 1; k + 1 < argc; k += 2) {
		if (strcmp(argv[k], "--listen") == 0)
			listen_s = argv[k + 1];
		else if (strcmp(argv[k], "--upstream") == 0)
			upstream_s = argv[k + 1];
		else if (strcmp(argv[k], "--control") == 0)
			control_path = argv[k + 1];
	}
	if (argc % 2 != 1 || !listen_s || !upstream_s || !control_path || parse_addr(listen_s, &listen_addr) < 0 ||
	    parse_addr(upstream_s, &upstream_addr) < 0) {
		fprintf(stderr, "usage: faultproxy --listen IP:PORT --upstream IP:PORT --control FILE\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	for (int k = 0; k < MAX_LINKS; k++)
		links[k].client = links[k].upstream = -1;
	read_control();
	listener = open_listener();
	if (listener < 0) {
		fprintf(stderr, "faultproxy: cannot listen on %s: %s\n", listen_s, strerror(errno));
		return 1;
	}
	printf("listening on 127.0.0.1:%u\n", ntohs(listen_addr.sin_port));
	fflush(stdout);
	apply_mode();

	for (;;) {
		struct pollfd pfd[1 + 2 * MAX_LINKS];
		int idx[1 + 2 * MAX_LINKS];
		int n = 0;
		if (listener >= 0) {
			pfd[n] = (struct pollfd){.fd = listener, .events = POLLIN};
			idx[n++] = -1;
		}
		uint64_t now = now_ms();
		int timeout = 50; /* the control file is looked at this often */
		for (int k = 0; k < MAX_LINKS; k++) {
			if (links[k].client < 0)
				continue;
			pfd[n] = (struct pollfd){.fd = links[k].client, .events = POLLIN};
			idx[n++] = k;
			if (!links[k].host_closed) {
				pfd[n] = (struct pollfd){.fd = links[k].upstream, .events = POLLIN};
				idx[n++] = k;
			}
			if (links[k].n_held) {
				uint64_t due = links[k].held[0].due_ms;
				int wait = due > now ? (int)(due - now) : 0;
				if (wait < timeout)
					timeout = wait;
			}
		}
		if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR)
			return 1;
		if (read_control())
			apply_mode();
		now = now_ms();
		for (int k = 0; k < n; k++) {
			if (idx[k] < 0) {
				if (listener >= 0 && (pfd[k].revents & POLLIN))
					accept_one();
				continue;
			}
			struct link *l = &links[idx[k]];
			if (l->client < 0 || !(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char buf[CHUNK];
			ssize_t r = read(pfd[k].fd, buf, sizeof buf);
			if (r <= 0 && pfd[k].fd == l->upstream && l->n_held) {
				/* A slow link still delivers what the host said before it hung up. */
				l->host_closed = true;
				continue;
			}
			if (r <= 0) {
				close_link(l);
				continue;
			}
			bool ok = pfd[k].fd == l->client ? write_all(l->upstream, buf, (size_t)r)
							 : from_host(l, buf, (size_t)r);
			if (!ok)
				close_link(l);
		}
		for (int k = 0; k < MAX_LINKS; k++)
			if (links[k].client >= 0 && links[k].n_held &&
			    (!release_held(&links[k], now) || (links[k].host_closed && !links[k].n_held)))
				close_link(&links[k]);
	}
}
