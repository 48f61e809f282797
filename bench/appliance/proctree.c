/*
 * bench/appliance/proctree: runs one command as a child subreaper, so every process it starts
 * stays in its tree even when orphaned (Chromium's helpers outlive their parents, which is how
 * `time -v` misses them), and measures the whole tree. Prints key value lines on stdout:
 *
 *   proctree [options] -- COMMAND [ARG...]
 *     --stderr FILE       the command's stderr goes there (default: /dev/null)
 *     (no --hold)         one-shot: waits until every process of the tree has exited;
 *                         prints wall_ms (to the last exit), main_ms (to the command's exit),
 *                         status, cpu_ms (user + system of the whole tree)
 *     --hold MS           keeps it running: waits for --ready-file FILE to be non-empty or
 *                         --ready-text TEXT to appear in the stderr file (at most --timeout MS,
 *                         default 30000), then MS more; then prints ready_ms, pss_kib and
 *                         rss_kib (sums over the tree), procs, and over --idle MS (default 0)
 *                         idle_cpu_ms and idle_switches (context switches of every thread);
 *                         then SIGTERMs the tree, SIGKILLs what is left after 3 s, reaps all
 *   exec_mono_ns / exec_real_ns: CLOCK_MONOTONIC / CLOCK_REALTIME just before the fork, for a
 *   first-frame time the command reports on either clock.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The parent pid of pid, or -1. */
static int ppid_of(int pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
	int ppid;
	if (!p || sscanf(p + 2, "%*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

enum { MAX_PROCS = 4096 };

/* Every live descendant of root (not root itself), into out; returns the count. */
static int descendants(int root, int *out)
{
	static int pids[MAX_PROCS * 8], ppids[MAX_PROCS * 8];
	int n = 0;
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < (int)(sizeof(pids) / sizeof(pids[0]))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		int pp = ppid_of((int)pid);
		if (pp < 0)
			continue;
		pids[n] = (int)pid, ppids[n] = pp, n++;
	}
	closedir(d);
	int m = 0;
	/* Breadth first from root: a process is in if its parent is. */
	int frontier[MAX_PROCS], nf = 1;
	frontier[0] = root;
	while (nf > 0 && m < MAX_PROCS) {
		int parent = frontier[--nf];
		for (int i = 0; i < n && m < MAX_PROCS; i++)
			if (ppids[i] == parent) {
				out[m++] = pids[i];
				if (nf < MAX_PROCS)
					frontier[nf++] = pids[i];
			}
	}
	return m;
}

/* Sums "Key: N kB" of /proc/PID/smaps_rollup or status. */
static long field_kib(int pid, const char *file, const char *key)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	long v = 0;
	size_t kl = strlen(key);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			v = strtol(line + kl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* CPU time (ns, from each thread's schedstat: finer than utime's clock ticks) and context
 * switches (voluntary + involuntary) of every thread of pid. */
static void task_stats(int pid, long long *cpu_ns, long long *n_switches)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char file[300];
		snprintf(file, sizeof(file), "task/%s/status", e->d_name);
		*n_switches += field_kib(pid, file, "voluntary_ctxt_switches") +
			       field_kib(pid, file, "nonvoluntary_ctxt_switches");
		snprintf(file, sizeof(file), "/proc/%d/task/%s/schedstat", pid, e->d_name);
		FILE *f = fopen(file, "r");
		long long ns = 0;
		if (f) {
			if (fscanf(f, "%lld", &ns) == 1)
				*cpu_ns += ns;
			fclose(f);
		}
	}
	closedir(d);
}

/* The CPU (ns) of the tree so far: live processes plus every reaped one (RUSAGE_CHILDREN). */
static long long tree_cpu_ns(int self, long long *n_switches)
{
	static int pids[MAX_PROCS];
	int n = descendants(self, pids);
	long long ns = 0, sw = 0;
	for (int i = 0; i < n; i++)
		task_stats(pids[i], &ns, &sw);
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	ns += (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
	      (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
	sw += ru.ru_nvcsw + ru.ru_nivcsw;
	if (n_switches)
		*n_switches = sw;
	return ns;
}

static bool file_has(const char *path, const char *text)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	bool found = false;
	char line[8192];
	while (!found && fgets(line, sizeof(line), f))
		found = text ? strstr(line, text) != NULL : line[0] != '\0';
	fclose(f);
	return found;
}

/* Reaps whatever has exited; returns false once no child is left. main_status set when the
 * command itself is reaped. */
static bool reap(int main_pid, int *main_status, long long *main_ns, bool block)
{
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, block ? 0 : WNOHANG);
		if (p < 0)
			return errno != ECHILD;
		if (p == 0)
			return true;
		if (p == main_pid) {
			*main_status = st;
			*main_ns = now_ns(CLOCK_MONOTONIC);
		}
		if (!block)
			continue;
		return true;
	}
}

int main(int argc, char **argv)
{
	const char *err_path = "/dev/null", *ready_file = NULL, *ready_text = NULL;
	long hold_ms = -1, idle_ms = 0, timeout_ms = 30000;
	int i = 1;
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (i + 1 >= argc)
			goto usage;
		if (strcmp(argv[i], "--stderr") == 0)
			err_path = argv[++i];
		else if (strcmp(argv[i], "--hold") == 0)
			hold_ms = atol(argv[++i]);
		else if (strcmp(argv[i], "--idle") == 0)
			idle_ms = atol(argv[++i]);
		else if (strcmp(argv[i], "--timeout") == 0)
			timeout_ms = atol(argv[++i]);
		else if (strcmp(argv[i], "--ready-file") == 0)
			ready_file = argv[++i];
		else if (strcmp(argv[i], "--ready-text") == 0)
			ready_text = argv[++i];
		else
			goto usage;
	}
	if (i + 1 >= argc || (hold_ms >= 0 && !ready_file && !ready_text))
		goto usage;
	char **cmd = argv + i + 1;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
		perror("proctree: PR_SET_CHILD_SUBREAPER");
		return 2;
	}
	long long t0 = now_ns(CLOCK_MONOTONIC), t0_real = now_ns(CLOCK_REALTIME);
	pid_t child = fork();
	if (child < 0) {
		perror("proctree: fork");
		return 2;
	}
	if (child == 0) {
		int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0)
			dup2(fd, 2);
		int null = open("/dev/null", O_RDWR);
		if (null >= 0)
			dup2(null, 0), dup2(null, 1);
		execvp(cmd[0], cmd);
		fprintf(stderr, "proctree: %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	printf("exec_mono_ns %lld\nexec_real_ns %lld\n", t0, t0_real);
	int main_status = -1;
	long long main_ns = 0;
	int self = getpid(), rc = 0;
	if (hold_ms < 0) {
		while (reap(child, &main_status, &main_ns, true))
			;
		long long end = now_ns(CLOCK_MONOTONIC);
		printf("wall_ms %.1f\nmain_ms %.1f\nstatus %d\ncpu_ms %.1f\n", (double)(end - t0) / 1e6,
		       (double)(main_ns - t0) / 1e6,
		       WIFEXITED(main_status) ? WEXITSTATUS(main_status) : 128 + WTERMSIG(main_status),
		       (double)tree_cpu_ns(self, NULL) / 1e6);
		return 0;
	}
	long long ready = -1;
	while (now_ns(CLOCK_MONOTONIC) - t0 < timeout_ms * 1000000LL) {
		if ((ready_file && file_has(ready_file, NULL)) || (ready_text && file_has(err_path, ready_text))) {
			ready = now_ns(CLOCK_MONOTONIC);
			break;
		}
		if (!reap(child, &main_status, &main_ns, false) || main_status != -1)
			break;
		sleep_ms(10);
	}
	if (ready < 0) {
		fprintf(stderr, "proctree: %s never became ready (see %s)\n", cmd[0], err_path);
		rc = 1;
	} else {
		printf("ready_ms %.1f\n", (double)(ready - t0) / 1e6);
		sleep_ms(hold_ms);
		static int pids[MAX_PROCS];
		int n = descendants(self, pids);
		long pss = 0, rss = 0;
		for (int k = 0; k < n; k++)
			pss += field_kib(pids[k], "smaps_rollup", "Pss"), rss += field_kib(pids[k], "status", "VmRSS");
		printf("procs %d\npss_kib %ld\nrss_kib %ld\n", n, pss, rss);
		if (idle_ms > 0) {
			long long sw0, sw1;
			long long c0 = tree_cpu_ns(self, &sw0);
			sleep_ms(idle_ms);
			long long c1 = tree_cpu_ns(self, &sw1);
			printf("idle_cpu_ms %.1f\nidle_switches %lld\n", (double)(c1 - c0) / 1e6, sw1 - sw0);
		}
	}
	/* Down with the whole tree, orphans included. */
	static int pids[MAX_PROCS];
	int n = descendants(self, pids);
	for (int k = 0; k < n; k++)
		kill(pids[k], SIGTERM);
	for (int waited = 0; waited < 3000 && descendants(self, pids) > 0; waited += 20) {
		reap(child, &main_status, &main_ns, false);
		sleep_ms(20);
	}
	n = descendants(self, pids);
	for (int k = 0; k < n; k++)
		kill(pids[k], SIGKILL);
	while (reap(child, &main_status, &main_ns, true))
		;
	return rc;
usage:
	fprintf(stderr, "usage: proctree [--stderr FILE] [--hold MS (--ready-file FILE | --ready-text TEXT) "
			"[--idle MS] [--timeout MS]] -- COMMAND [ARG...]\n");
	return 2;
}
