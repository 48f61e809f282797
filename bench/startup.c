/*
 * bench/startup: time from exec to the first frame presented, peak RSS, and CPU used while
 * idling on the attract screen with the real clock, for the kiosk and for a baseline (a bare
 * SDL program that opens the same window and presents one frame), in the same run, so the
 * figure that matters is the ratio.
 *
 *   startup KIOSK BASELINE [IDLE_SECONDS]      (bench/startup.sh builds and runs it)
 *
 * Runs each under SDL's offscreen driver (or the display in $DISPLAY if BENCH_USE_DISPLAY=1).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long read_report(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long long ns = -1;
	if (fscanf(f, "first_frame_monotonic_ns %lld", &ns) != 1)
		ns = -1;
	fclose(f);
	return ns;
}

/* utime + stime in clock ticks, from /proc/PID/stat (fields 14 and 15). */
static long long cpu_ticks(pid_t pid)
{
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* the command name may contain spaces */
	if (!p)
		return -1;
	long long ut = 0, st = 0;
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld", &ut, &st) != 2)
		return -1;
	return ut + st;
}

static long peak_rss_kib(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long kib = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

struct result {
	double first_frame_ms, idle_cpu_s;
	long rss_kib;
};

static int measure(char *const argv[], const char *report, int idle_s, struct result *out)
{
	unlink(report);
	long long start = mono_ns();
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (!getenv("BENCH_USE_DISPLAY"))
			setenv("SDL_VIDEODRIVER", "offscreen", 1);
		execv(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	long long frame = -1;
	for (int i = 0; i < 3000 && frame < 0; i++) { /* up to 30 s for the first frame */
		usleep(10000);
		frame = read_report(report);
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "startup: %s exited before its first frame\n", argv[0]);
			return -1;
		}
	}
	if (frame < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	out->first_frame_ms = (double)(frame - start) / 1e6;
	long long before = cpu_ticks(pid);
	sleep((unsigned)idle_s);
	long long after = cpu_ticks(pid);
	out->idle_cpu_s = (double)(after - before) / (double)sysconf(_SC_CLK_TCK);
	out->rss_kib = peak_rss_kib(pid);
	kill(pid, SIGTERM);
	int status = 0;
	waitpid(pid, &status, 0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s KIOSK BASELINE [IDLE_SECONDS]\n", argv[0]);
		return 2;
	}
	int idle_s = argc > 3 ? atoi(argv[3]) : 30;
	/* The run's own TMPDIR, else this build's folder (BENCH_TMP_DIR, meson): a shared /tmp
	 * is no place to assume, nor to leave a database in when a run is killed. */
	const char *tmp = getenv("TMPDIR");
	char dir[4096 + 32];
	snprintf(dir, sizeof(dir), "%s/kiosk-bench-XXXXXX", tmp && *tmp ? tmp : BENCH_TMP_DIR);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	char report[sizeof(dir) + 16], db[sizeof(dir) + 16], out[sizeof(dir) + 16];
	snprintf(report, sizeof(report), "%s/report", dir);
	snprintf(db, sizeof(db), "%s/kiosk.db", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	char *kiosk_argv[] = {argv[1], "--simulate", "--windowed", "--db", db, "--out", out,
			      "--startup-report", report, NULL};
	char *base_argv[] = {argv[2], report, NULL};
	struct result k, b;
	if (measure(base_argv, report, idle_s, &b) != 0 || measure(kiosk_argv, report, idle_s, &k) != 0) {
		fprintf(stderr, "startup: measurement failed\n");
		return 1;
	}
	printf("%-28s %12s %12s %8s\n", "", "kiosk", "sdl baseline", "ratio");
	printf("%-28s %12.1f %12.1f %8.2f\n", "exec to first frame (ms)", k.first_frame_ms, b.first_frame_ms,
	       k.first_frame_ms / b.first_frame_ms);
	printf("%-28s %12ld %12ld %8.2f\n", "peak RSS (KiB)", k.rss_kib, b.rss_kib, (double)k.rss_kib / (double)b.rss_kib);
	printf("%-28s %12.2f %12.2f\n", "CPU idle (s) over", k.idle_cpu_s, b.idle_cpu_s);
	printf("(idle window: %d s of real time on the attract screen)\n", idle_s);
	return 0;
}
