/*
 * Full-stack test over real libusb: emulates the kiosk's three USB devices (NV9USB validator,
 * TM receipt printer, Evolis card printer: the drivers/sim models) in a umockdev testbed, runs
 * the unmodified kiosk binary on them as a child process in headless real-devices mode with a
 * scenario, serves the devices while it runs, and changes them when the scenario says so.
 *
 *   kiosk-usb-harness KIOSK SCENARIO WORKDIR [SHOT=DEVICE:ACTION]...
 *
 * Handshake: the scenario's `screenshot SHOT` writes WORKDIR/out/SHOT.png; when that file is
 * closed the harness carries out DEVICE:ACTION (DEVICE cash, receipt or card; ACTION unplug or
 * replug) at once, and the scenario's next `wait` gives the kiosk time to see it. The harness
 * learns of the file through inotify and of the kiosk's exit through a pidfd: it sleeps in
 * poll() and sleeps nowhere else.
 *
 * Exit: the kiosk's status (0 when every expectation held), 1 when a handshake never came or
 * the kiosk ran over the deadline, 77 (skip) when libumockdev-preload is not installed.
 *
 * The child gets LD_PRELOAD=libumockdev-preload.so.0 (after any preload the test sets) and
 * inherits $UMOCKDEV_DIR, which usbemu_new set. Under ASan the runtime refuses a preload
 * ahead of it unless ASAN_OPTIONS has verify_asan_link_order=0, which the harness adds
 * (research/usb-emulation.md, pitfall 1). The testbed is freed only after the kiosk exited:
 * the preload library aborts on a testbed that vanished under it (pitfall 5).
 */
#include <ftw.h>
#include <errno.h>
#include <glib.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "drivers/sim/escpos/sim-escpos.h"
#include "drivers/sim/essp/sim-essp.h"
#include "drivers/sim/evolis/sim-evolis.h"
#include "drivers/transport/usb-ids.h"
#include "tests/usb/usbtest.h"

extern char **environ;

#define PRELOAD "libumockdev-preload.so.0"
/* The whole run, kiosk start-up included; the scenario's waits total well below it. */
#define DEADLINE_MS 50000
#define MAX_STEPS 16

enum dev { DEV_CASH, DEV_RECEIPT, DEV_CARD, DEV_COUNT };
static const char *const dev_names[DEV_COUNT] = {"cash", "receipt", "card"};

struct harness {
	struct usbemu *emu;
	struct usbemu_dev *emu_dev[DEV_COUNT];
	struct sim_model model[DEV_COUNT];
	struct sim_essp *cash;
	struct sim_escpos *receipt;
	struct sim_evolis *card;
};

struct step {
	char shot[NAME_MAX + 1]; /* "all-ok.png" */
	enum dev dev;
	bool unplug;
	bool done;
};

static int parse_step(const char *arg, struct step *out)
{
	const char *eq = strchr(arg, '='), *colon = eq ? strchr(eq, ':') : NULL;
	if (!eq || !colon || eq == arg || (size_t)(eq - arg) + 5 > sizeof(out->shot))
		return -1;
	memset(out, 0, sizeof(*out));
	snprintf(out->shot, sizeof(out->shot), "%.*s.png", (int)(eq - arg), arg);
	int d;
	for (d = 0; d < DEV_COUNT; d++)
		if ((size_t)(colon - eq - 1) == strlen(dev_names[d]) && strncmp(eq + 1, dev_names[d], strlen(dev_names[d])) == 0)
			break;
	if (d == DEV_COUNT)
		return -1;
	out->dev = (enum dev)d;
	if (strcmp(colon + 1, "unplug") == 0)
		out->unplug = true;
	else if (strcmp(colon + 1, "replug") != 0)
		return -1;
	return 0;
}

static void add_device(struct harness *h, enum dev d, const char *usb_id)
{
	struct usbx_id id;
	struct kio_error err;
	if (usbx_id_parse(usb_id, &id, &err) != 0)
		g_error("%s", err.msg);
	struct usbemu_config cfg;
	usbtest_default_config(&h->model[d], &id, &cfg);
	h->emu_dev[d] = usbemu_add(h->emu, &cfg, &h->model[d]);
}

static void harness_start(struct harness *h)
{
	struct kio_error err;
	memset(h, 0, sizeof(*h));
	/* Before any thread: the testbed calls setenv (pitfall 7). */
	h->emu = usbemu_new();
	h->cash = sim_essp_new(NULL, 0, &err);
	if (!h->cash || sim_escpos_new(NULL, &h->receipt, &err) != 0 || sim_evolis_new(NULL, &h->card, &err) != 0)
		g_error("models: %s", err.msg);
	sim_model_essp(&h->model[DEV_CASH], h->cash);
	sim_model_escpos(&h->model[DEV_RECEIPT], h->receipt);
	sim_model_evolis(&h->model[DEV_CARD], h->card);
	add_device(h, DEV_CASH, USB_ID_CASH_DEFAULT);
	add_device(h, DEV_RECEIPT, USB_ID_RECEIPT_DEFAULT);
	add_device(h, DEV_CARD, USB_ID_CARD_DEFAULT);
}

static void harness_stop(struct harness *h)
{
	usbemu_free(h->emu);
	sim_essp_free(h->cash);
	sim_escpos_free(h->receipt);
	sim_evolis_free(h->card);
}

/* The cable: the model's connected() turns, and usbemu_unlock unplugs or replugs. */
static void act(struct harness *h, const struct step *s)
{
	usbemu_lock(h->emu_dev[s->dev]);
	switch (s->dev) {
	case DEV_CASH:
		sim_essp_set_fault(h->cash, SIM_ESSP_FAULT_DISCONNECT, s->unplug);
		break;
	case DEV_RECEIPT:
		if (!s->unplug)
			sim_escpos_power_cycle(h->receipt); /* a replugged printer starts empty */
		sim_escpos_fault_set(h->receipt, SIM_ESCPOS_FAULT_DISCONNECT, s->unplug);
		break;
	case DEV_CARD:
		sim_evolis_fault_set(h->card, SIM_EVOLIS_FAULT_DISCONNECT, s->unplug);
		break;
	case DEV_COUNT: break;
	}
	usbemu_unlock(h->emu_dev[s->dev]);
	g_printerr("harness: %s %s (plugged: %s)\n", dev_names[s->dev], s->unplug ? "unplugged" : "plugged back in",
		   usbemu_plugged(h->emu_dev[s->dev]) ? "yes" : "no");
}

/* The environment of the kiosk: ours, plus the preload and the ASan option. */
static char **child_env(void)
{
	GStrv env = g_get_environ();
	const char *pre = g_environ_getenv(env, "LD_PRELOAD");
	g_autofree char *preload = pre && *pre ? g_strdup_printf("%s %s", pre, PRELOAD) : g_strdup(PRELOAD);
	env = g_environ_setenv(env, "LD_PRELOAD", preload, TRUE);
	const char *asan = g_environ_getenv(env, "ASAN_OPTIONS");
	g_autofree char *asan_opts = asan && *asan ? g_strdup_printf("%s:verify_asan_link_order=0", asan)
						   : g_strdup("verify_asan_link_order=0");
	env = g_environ_setenv(env, "ASAN_OPTIONS", asan_opts, TRUE);
	return env;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Carries out every step whose file now exists, in the order given. */
static void run_due_steps(struct harness *h, const char *out_dir, struct step *steps, int n)
{
	for (int i = 0; i < n; i++) {
		if (steps[i].done)
			continue;
		g_autofree char *path = g_build_filename(out_dir, steps[i].shot, NULL);
		if (!g_file_test(path, G_FILE_TEST_EXISTS))
			return; /* steps happen in order: a later shot never runs an earlier step's action */
		act(h, &steps[i]);
		steps[i].done = true;
	}
}

/* Whether the dynamic loader will find the preload library for the kiosk. (The harness links
 * it: umockdev's uevent sender finds the device through libudev in the testbed's /sys.) */
static bool preload_installed(void)
{
	static const char *const dirs[] = {"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64",
					   "/usr/lib", "/usr/local/lib", NULL};
	for (int i = 0; dirs[i]; i++) {
		g_autofree char *path = g_build_filename(dirs[i], PRELOAD, NULL);
		if (access(path, R_OK) == 0)
			return true;
	}
	return false;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* rm -rf: a previous run's output must not answer this run's handshakes. */
static int remove_tree(const char *path)
{
	if (access(path, F_OK) != 0)
		return 0;
	return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s KIOSK SCENARIO WORKDIR [SHOT=DEVICE:unplug|replug]...\n", argv[0]);
		return 2;
	}
	const char *kiosk = argv[1], *scenario = argv[2], *work = argv[3];
	struct step steps[MAX_STEPS];
	int n_steps = 0;
	for (int i = 4; i < argc; i++) {
		if (n_steps == MAX_STEPS || parse_step(argv[i], &steps[n_steps]) != 0) {
			fprintf(stderr, "harness: bad step '%s' (SHOT=cash|receipt|card:unplug|replug)\n", argv[i]);
			return 2;
		}
		n_steps++;
	}
	if (!preload_installed()) {
		fprintf(stderr, "harness: SKIP: %s is not installed (Debian: libumockdev0)\n", PRELOAD);
		return 77;
	}

	usbtest_main_init();
	g_autofree char *out_dir = g_build_filename(work, "out", NULL);
	g_autofree char *db = g_build_filename(work, "kiosk.db", NULL);
	if (remove_tree(work) != 0 || g_mkdir_with_parents(out_dir, 0755) != 0) {
		fprintf(stderr, "harness: cannot prepare %s: %s\n", work, strerror(errno));
		return 1;
	}
	int ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ino < 0 || inotify_add_watch(ino, out_dir, IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
		fprintf(stderr, "harness: inotify on %s: %s\n", out_dir, strerror(errno));
		return 1;
	}

	struct harness h;
	harness_start(&h);
	char **env = child_env();
	char *child_argv[] = {(char *)kiosk, "--headless", "--script", (char *)scenario, "--out", out_dir,
			      "--db", db, NULL};
	pid_t pid;
	int rc = posix_spawn(&pid, kiosk, NULL, NULL, child_argv, env);
	g_strfreev(env);
	if (rc != 0) {
		fprintf(stderr, "harness: cannot start %s: %s\n", kiosk, strerror(rc));
		harness_stop(&h);
		return 1;
	}
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		fprintf(stderr, "harness: pidfd_open: %s\n", strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		harness_stop(&h);
		return 1;
	}
	uint64_t t0 = now_ms(), deadline = t0 + DEADLINE_MS;
	int status = 0;
	bool exited = false;
	while (!exited) {
		uint64_t now = now_ms();
		if (now >= deadline) {
			fprintf(stderr, "harness: the kiosk ran %d s without finishing: killed\n", DEADLINE_MS / 1000);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			status = -1;
			break;
		}
		struct pollfd fds[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = ino, .events = POLLIN}};
		if (poll(fds, 2, (int)(deadline - now)) < 0 && errno != EINTR) {
			fprintf(stderr, "harness: poll: %s\n", strerror(errno));
			break;
		}
		if (fds[1].revents & POLLIN) {
			char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
			while (read(ino, buf, sizeof(buf)) > 0)
				; /* which file does not matter: the steps look for theirs */
			run_due_steps(&h, out_dir, steps, n_steps);
		}
		if (fds[0].revents & POLLIN) {
			if (waitpid(pid, &status, 0) == pid)
				exited = true;
		}
	}
	close(pidfd);
	close(ino);
	harness_stop(&h);

	int result;
	if (status == -1) {
		result = 1;
	} else if (WIFSIGNALED(status)) {
		fprintf(stderr, "harness: the kiosk died of signal %d\n", WTERMSIG(status));
		result = 1;
	} else {
		result = WEXITSTATUS(status);
		fprintf(stderr, "harness: the kiosk exited %d after %.1f s\n", result, (double)(now_ms() - t0) / 1000.0);
	}
	for (int i = 0; i < n_steps; i++)
		if (!steps[i].done) {
			fprintf(stderr, "harness: the scenario never wrote %s: %s %s did not happen\n", steps[i].shot,
				dev_names[steps[i].dev], steps[i].unplug ? "unplug" : "replug");
			if (result == 0)
				result = 1;
		}
	return result;
}
