/*
 * The scenario supervisor (supervise.h): fork, wait, and on a power-cut start the kiosk again.
 *
 *   supervisor ──fork──► kiosk (app_run, the scenario runs)
 *       │                   │ power-cut: writes the carry to the pipe, raise(SIGKILL)
 *       │◄── carry, EOF ────┘
 *       ├──fork──► kiosk (app_run with the carry: same database, out folder, clock; next line)
 *       │                   │ exits with the scenario's status
 *       └◄── status ────────┘  returned as the supervisor's own
 *
 *  1. A child goes on from a power-cut only when it died of SIGKILL *and* wrote a carry: a
 *     SIGKILL from outside (a harness, the OOM killer) is passed on, never mistaken for one.
 *  2. A child never outlives its supervisor (PR_SET_PDEATHSIG): a harness that kills the
 *     kiosk it started does not leave a second kiosk holding the database.
 *  3. The carry is bytes from another process: the supervisor reads at most RUNNER_CARRY_MAX
 *     of it (and drains the rest, so the child is never left blocked on the pipe), checks it
 *     with runner_carry_check, and on a bad one starts no other kiosk: it says why and exits
 *     with status 3.
 */
#define LOG_MODULE "supervise"
#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kiosk/core/bytebuf.h"
#include "kiosk/core/log.h"
#include "runner.h"
#include "script.h"

bool supervise_wanted(const char *script_path)
{
	struct script *script = NULL;
	struct kio_error err;
	bool wanted = false;
	if (script_load(script_path, NULL, NULL, &script, &err) != 0)
		return false;
	for (size_t i = 0; i < script->n && !wanted; i++)
		wanted = script->cmds[i].op == SCRIPT_POWER_CUT;
	script_free(script);
	return wanted;
}

/* What the child writes until it dies, kept up to RUNNER_CARRY_MAX + 1 bytes (invariant 3:
 * the rest is read and dropped, *total counts it all); false on a read error. */
static bool read_carry(int fd, struct core_bytebuf *carry, size_t *total)
{
	uint8_t chunk[4096];
	*total = 0;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		if (n == 0)
			return true;
		*total += (size_t)n;
		size_t room = carry->len <= RUNNER_CARRY_MAX ? RUNNER_CARRY_MAX + 1 - carry->len : 0;
		core_bytebuf_append(carry, chunk, (size_t)n < room ? (size_t)n : room);
	}
}

int supervise_scenario(const struct app_options *opts)
{
	struct core_bytebuf carry = {0};
	pid_t supervisor = getpid();
	for (unsigned round = 1;; round++) {
		int fds[2];
		if (pipe2(fds, O_CLOEXEC) != 0) {
			fprintf(stderr, "kiosk: scenario supervisor: pipe: %s\n", strerror(errno));
			core_bytebuf_free(&carry);
			return 3;
		}
		fflush(NULL); /* nothing buffered is written twice */
		pid_t pid = fork();
		if (pid < 0) {
			fprintf(stderr, "kiosk: scenario supervisor: fork: %s\n", strerror(errno));
			close(fds[0]);
			close(fds[1]);
			core_bytebuf_free(&carry);
			return 3;
		}
		if (pid == 0) {
			close(fds[0]);
			/* Invariant 2; and if the supervisor died before the call, go now. */
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != supervisor)
				_exit(3);
			struct app_options child = *opts;
			child.carry_fd = fds[1];
			child.carry = carry.len ? carry.data : NULL;
			child.carry_len = carry.len;
			int status = app_run(&child);
			close(fds[1]);
			core_bytebuf_free(&carry);
			return status;
		}
		close(fds[1]);
		core_bytebuf_clear(&carry);
		size_t total = 0;
		bool read_ok = read_carry(fds[0], &carry, &total);
		close(fds[0]);
		int ws = 0;
		while (waitpid(pid, &ws, 0) < 0) {
			if (errno != EINTR) {
				fprintf(stderr, "kiosk: scenario supervisor: waitpid: %s\n", strerror(errno));
				core_bytebuf_free(&carry);
				return 3;
			}
		}
		/* Invariant 1. */
		if (WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL && read_ok && carry.len > 0) {
			/* Invariant 3. */
			struct kio_error err;
			if (runner_carry_check(opts->script_path, carry.data, carry.len, NULL, &err) != 0) {
				fprintf(stderr, "kiosk: scenario supervisor: kiosk process %d died at a power-cut, and what it "
						"handed on cannot be used (%zu bytes): %s; no other kiosk is started\n",
					(int)pid, total, err.msg);
				core_bytebuf_free(&carry);
				return 3;
			}
			LOG_INFO("power-cut: kiosk process %d of the run is gone; starting number %u", (int)pid, round + 1);
			continue;
		}
		core_bytebuf_free(&carry);
		if (WIFEXITED(ws))
			return WEXITSTATUS(ws);
		int sig = WIFSIGNALED(ws) ? WTERMSIG(ws) : SIGABRT;
		signal(sig, SIG_DFL);
		raise(sig);
		return 128 + sig;
	}
}
