/*
 * Scenario commands carried out through the kiosk's test port, with two watches over the whole
 * run: the log (an error line the scenario did not declare with expect-log fails it) and the
 * output folder as it was at the start (file checks see only what this run wrote). A run spans
 * kiosk processes: at `power-cut` both watches and the line to go on from are carried to the
 * next process (the carry, below).
 */
#define LOG_MODULE "scenario"
#include "runner.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drivers/sim/bench.h"
#include "kiosk/core/bytebuf.h"
#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"
#include "kiosk/ledger/query.h"
#include "kiosk/ledger/sync-state.h"
#include "host.h"

struct runner {
	struct script *script;
	struct testport port;
	int carry_fd;              /* the supervisor's pipe, for power-cut; -1 without */
	uint64_t clock_start_ms;   /* where the virtual clock stood at the power-cut before */
	size_t next;
	/* `type` taps one key per step so each tap is processed like a finger's. */
	const char *typing;
	size_t typed;
	bool waiting;
	uint64_t wait_until;
	/* After `fault` or `clear`: the next line waits until the device's class status shows it
	 * (changed from `before`, or ok after a clear), as a person at the kiosk would. */
	bool settling;
	const struct script_cmd *device_wait; /* `wait-device` in progress */
	uint64_t device_wait_deadline;
	bool printing;        /* after `test-print`: wait for the job to end */
	enum kdev print_device;
	uint64_t print_deadline;
	bool settle_to_ok;
	enum kdev settle_device;
	enum dev_state before_state;
	const char *before_fault;
	uint64_t settle_deadline;

	/* The log watch. The sink runs on whichever thread logs (USB transports have their own),
	 * so what it touches is under log_lock. */
	pthread_mutex_t log_lock;
	struct log_expect {
		const struct script_cmd *cmd; /* expect-log LEVEL "TEXT" */
		enum log_level level;
		bool met;
	} *expects;
	size_t n_expects, cap_expects;
	size_t n_unexpected, n_reported; /* undeclared error lines, and how many were reported */
	char unexpected[600];            /* the first one not yet reported */

	/* The scenario's own host (host.h): wanted when its first host command is `host up`. */
	bool host_wanted;
	struct scn_host *host;
	const struct script_cmd *sync_wait; /* `wait-synced` in progress */
	struct timespec sync_deadline;      /* real time: the sync runs on its own thread */

	/* The output folder at the start: a file that is still exactly as it was then was not
	 * written by this run. */
	struct out_file {
		char *name;
		struct stat st;
	} *before;
	size_t n_before;
};

/* ---- the log watch ---- */

static void on_log(void *user, enum log_level level, const char *module, const char *msg)
{
	struct runner *r = user;
	if (level > LOG_WARN)
		return;
	char line[sizeof(r->unexpected)];
	snprintf(line, sizeof(line), "%s: %s", module, msg);
	pthread_mutex_lock(&r->log_lock);
	bool declared = false;
	for (size_t i = 0; i < r->n_expects && !declared; i++) {
		struct log_expect *e = &r->expects[i];
		if (!e->met && e->level == level && strstr(line, e->cmd->arg2)) {
			e->met = true;
			declared = true;
		}
	}
	if (!declared && level == LOG_ERROR && r->n_unexpected++ == r->n_reported)
		memcpy(r->unexpected, line, sizeof(line));
	pthread_mutex_unlock(&r->log_lock);
}

static void expect_log(struct runner *r, const struct script_cmd *cmd)
{
	enum log_level level = LOG_ERROR;
	log_level_parse(cmd->arg, &level); /* checked at parse time */
	pthread_mutex_lock(&r->log_lock);
	if (r->n_expects == r->cap_expects) {
		r->cap_expects = r->cap_expects ? r->cap_expects * 2 : 8;
		r->expects = xrealloc(r->expects, r->cap_expects * sizeof(*r->expects));
	}
	r->expects[r->n_expects++] = (struct log_expect){cmd, level, false};
	pthread_mutex_unlock(&r->log_lock);
}

/* The first undeclared error line since the last report, into line; false if none. */
static bool take_unexpected(struct runner *r, char *line, size_t cap, size_t *count)
{
	pthread_mutex_lock(&r->log_lock);
	bool any = r->n_unexpected > r->n_reported;
	if (any) {
		snprintf(line, cap, "%s", r->unexpected);
		*count = r->n_unexpected - r->n_reported;
		r->n_reported = r->n_unexpected;
	}
	pthread_mutex_unlock(&r->log_lock);
	return any;
}

/* ---- the output folder ---- */

static const char *out_dir(const struct runner *r) { return r->port.ops->out_dir(r->port.kiosk); }

static void add_before(struct runner *r, size_t *cap, const char *name, const struct stat *st)
{
	if (r->n_before == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		r->before = xrealloc(r->before, *cap * sizeof(*r->before));
	}
	r->before[r->n_before++] = (struct out_file){xstrdup(name), *st};
}

static void snapshot_out_dir(struct runner *r)
{
	const char *dir = out_dir(r);
	DIR *d = opendir(dir);
	if (!d) {
		if (errno != ENOENT)
			LOG_WARN("%s: %s: file checks will treat every file as this run's", dir, strerror(errno));
		return;
	}
	size_t cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat st;
		char *path = xasprintf("%s/%s", dir, de->d_name);
		int rc = stat(path, &st);
		free(path);
		if (rc != 0 || !S_ISREG(st.st_mode))
			continue;
		add_before(r, &cap, de->d_name, &st);
	}
	closedir(d);
}

static bool same_time(struct timespec a, struct timespec b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; }

/*
 * Whether st (of OUT/name now) is the file that was there at the start, untouched. Writing
 * a file, in place or by rename, changes its inode or its change time (ctime, which no
 * program can set back), so a file this run wrote never looks untouched.
 */
static bool left_from_before(const struct runner *r, const char *name, const struct stat *st)
{
	for (size_t i = 0; i < r->n_before; i++) {
		const struct stat *b = &r->before[i].st;
		if (strcmp(r->before[i].name, name) == 0)
			return b->st_dev == st->st_dev && b->st_ino == st->st_ino && b->st_size == st->st_size &&
			       same_time(b->st_mtim, st->st_mtim) && same_time(b->st_ctim, st->st_ctim);
	}
	return false;
}

enum out_state { OUT_ABSENT, OUT_OLD, OUT_WRITTEN };

/* What this run did with OUT/name; st is filled when the file exists. */
static enum out_state out_file_state(const struct runner *r, const char *name, struct stat *st)
{
	char *path = xasprintf("%s/%s", out_dir(r), name);
	int rc = stat(path, st);
	free(path);
	if (rc != 0)
		return OUT_ABSENT;
	return left_from_before(r, name, st) ? OUT_OLD : OUT_WRITTEN;
}

/* ---- the carry: what a power-cut hands to the next kiosk process ----
 *
 * Written by the process that dies (power_cut) into the supervisor's pipe, read back by the
 * next one (runner_open). Same machine, same binary, so native byte order; the script is
 * parsed again from the same file, and the carry names its lines by index:
 *
 *   "KCARRY1\0", u64 lines in the script, u64 next line, u64 virtual clock ms,
 *   u64 n expect-logs, each: u64 line index, u64 met;
 *   u64 n files in the output folder at the start, each: u64 dev, ino, size, mtime s, ns,
 *   ctime s, ns, name length, then the name's bytes.
 *
 * The bytes come from another process, so decode_carry takes nothing on trust: every count
 * is bounded by the bytes left, each expect-log index names an expect-log line once, a name
 * is a plain file name (1..255 bytes, no NUL or '/'), and a carry decodes only if encoding
 * what it decoded gives the same bytes back (the fuzz target checks that promise). The whole
 * carry is at most RUNNER_CARRY_MAX bytes (runner.h), which the supervisor enforces too.
 */
static const char carry_magic[8] = "KCARRY1";

static void put_u64(struct core_bytebuf *b, uint64_t v) { core_bytebuf_append(b, &v, sizeof(v)); }

struct carry_reader {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t get_u64(struct carry_reader *c)
{
	uint64_t v = 0;
	if ((size_t)(c->end - c->p) < sizeof(v)) {
		c->bad = true;
		return 0;
	}
	memcpy(&v, c->p, sizeof(v));
	c->p += sizeof(v);
	return v;
}

static void encode_carry(struct runner *r, uint64_t now_ms, struct core_bytebuf *b)
{
	core_bytebuf_append(b, carry_magic, sizeof(carry_magic));
	put_u64(b, r->script->n);
	put_u64(b, r->next);
	put_u64(b, now_ms);
	pthread_mutex_lock(&r->log_lock);
	put_u64(b, r->n_expects);
	for (size_t i = 0; i < r->n_expects; i++) {
		put_u64(b, (uint64_t)(r->expects[i].cmd - r->script->cmds));
		put_u64(b, r->expects[i].met);
	}
	pthread_mutex_unlock(&r->log_lock);
	put_u64(b, r->n_before);
	for (size_t i = 0; i < r->n_before; i++) {
		const struct stat *st = &r->before[i].st;
		put_u64(b, st->st_dev);
		put_u64(b, st->st_ino);
		put_u64(b, (uint64_t)st->st_size);
		put_u64(b, (uint64_t)st->st_mtim.tv_sec);
		put_u64(b, (uint64_t)st->st_mtim.tv_nsec);
		put_u64(b, (uint64_t)st->st_ctim.tv_sec);
		put_u64(b, (uint64_t)st->st_ctim.tv_nsec);
		put_u64(b, strlen(r->before[i].name));
		core_bytebuf_append(b, r->before[i].name, strlen(r->before[i].name));
	}
}

static int decode_carry(struct runner *r, const void *data, size_t len, struct kio_error *err)
{
	struct carry_reader c = {data, (const uint8_t *)data + len, false};
	if (len < sizeof(carry_magic) || memcmp(data, carry_magic, sizeof(carry_magic)) != 0)
		return kio_fail(err, KIO_ERR_CORRUPT, "%s: power-cut: the state carried over is not one", r->script->path);
	c.p += sizeof(carry_magic);
	uint64_t lines = get_u64(&c), next = get_u64(&c);
	r->clock_start_ms = get_u64(&c);
	/* The file was parsed again: a scenario edited in between is a different run. */
	if (c.bad || lines != r->script->n || next > lines)
		return kio_fail(err, KIO_ERR_CORRUPT, "%s: power-cut: the scenario changed while it ran", r->script->path);
	r->next = (size_t)next;
	uint64_t n = get_u64(&c);
	for (uint64_t i = 0; i < n && !c.bad; i++) {
		uint64_t index = get_u64(&c), met = get_u64(&c);
		bool twice = false;
		for (size_t k = 0; k < r->n_expects && !c.bad && index < lines; k++)
			twice |= r->expects[k].cmd == &r->script->cmds[index];
		if (c.bad)
			break;
		if (index >= lines || r->script->cmds[index].op != SCRIPT_EXPECT_LOG || met > 1 || twice)
			return kio_fail(err, KIO_ERR_CORRUPT, "%s: power-cut: the expect-log lines carried over do not match",
					r->script->path);
		const struct script_cmd *cmd = &r->script->cmds[index];
		enum log_level level = LOG_ERROR;
		log_level_parse(cmd->arg, &level); /* checked at parse time */
		if (r->n_expects == r->cap_expects) {
			r->cap_expects = r->cap_expects ? r->cap_expects * 2 : 8;
			r->expects = xrealloc(r->expects, r->cap_expects * sizeof(*r->expects));
		}
		r->expects[r->n_expects++] = (struct log_expect){cmd, level, met != 0};
	}
	n = get_u64(&c);
	size_t cap = 0;
	for (uint64_t i = 0; i < n && !c.bad; i++) {
		struct stat st = {0};
		st.st_dev = (dev_t)get_u64(&c);
		st.st_ino = (ino_t)get_u64(&c);
		st.st_size = (off_t)get_u64(&c);
		st.st_mtim.tv_sec = (time_t)get_u64(&c);
		st.st_mtim.tv_nsec = (long)get_u64(&c);
		st.st_ctim.tv_sec = (time_t)get_u64(&c);
		st.st_ctim.tv_nsec = (long)get_u64(&c);
		uint64_t name_len = get_u64(&c);
		if (c.bad || (name_len <= 255 && name_len > (uint64_t)(c.end - c.p))) {
			c.bad = true;
			break;
		}
		if (name_len == 0 || name_len > 255 || memchr(c.p, '\0', (size_t)name_len) || memchr(c.p, '/', (size_t)name_len) ||
		    (name_len <= 2 && memcmp(c.p, "..", (size_t)name_len) == 0))
			return kio_fail(err, KIO_ERR_CORRUPT, "%s: power-cut: file %llu of the output folder carried over is "
					"not a file name", r->script->path, (unsigned long long)i);
		char *name = xstrndup((const char *)c.p, (size_t)name_len);
		c.p += name_len;
		add_before(r, &cap, name, &st);
		free(name);
	}
	if (c.bad)
		return kio_fail(err, KIO_ERR_CORRUPT, "%s: power-cut: the state carried over is cut short", r->script->path);
	if (c.p != c.end)
		return kio_fail(err, KIO_ERR_CORRUPT, "%s: power-cut: the state carried over has %zu bytes past its end",
				r->script->path, (size_t)(c.end - c.p));
	return 0;
}

/* All of data into fd: the supervisor reads while this writes, so any length goes. */
static int write_all(int fd, const uint8_t *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int runner_carry_check(const char *path, const void *carry, size_t len, struct core_bytebuf *again,
		       struct kio_error *err)
{
	if (len > RUNNER_CARRY_MAX)
		return kio_fail(err, KIO_ERR_CORRUPT, "%s: power-cut: the state carried over is %zu bytes, more than %d",
				path, len, RUNNER_CARRY_MAX);
	struct script *script = NULL;
	int rc = script_load(path, NULL, NULL, &script, err);
	if (rc != 0)
		return rc;
	struct runner *r = xcalloc(1, sizeof(*r));
	r->script = script;
	pthread_mutex_init(&r->log_lock, NULL);
	rc = decode_carry(r, carry, len, err);
	if (rc == 0) {
		struct core_bytebuf b = {0};
		encode_carry(r, r->clock_start_ms, &b);
		if (b.len != len || memcmp(b.data, carry, len) != 0)
			rc = kio_fail(err, KIO_ERR_CORRUPT, "%s: power-cut: the state carried over does not read back as "
					  "written", path);
		if (again)
			core_bytebuf_append(again, b.data, b.len);
		core_bytebuf_free(&b);
	}
	for (size_t i = 0; i < r->n_before; i++)
		free(r->before[i].name);
	free(r->before);
	free(r->expects);
	pthread_mutex_destroy(&r->log_lock);
	script_free(r->script);
	free(r);
	return rc;
}

/* The scenario's host lives as long as this kiosk process: its first host command starts it
 * (`host up`), and no power-cut may outlive it. *wanted: the scenario has host commands. */
static int check_host_lines(const struct script *script, bool *wanted, struct kio_error *err)
{
	const struct script_cmd *first_host = NULL, *cut = NULL;
	for (size_t i = 0; i < script->n; i++) {
		const struct script_cmd *c = &script->cmds[i];
		if (!first_host && (c->op == SCRIPT_HOST || c->op == SCRIPT_WAIT_SYNCED || c->op == SCRIPT_EXPECT_HOST ||
				    c->op == SCRIPT_HOST_SQL))
			first_host = c;
		if (!cut && c->op == SCRIPT_POWER_CUT)
			cut = c;
	}
	*wanted = first_host != NULL;
	if (first_host && (first_host->op != SCRIPT_HOST || strcmp(first_host->arg, "up") != 0))
		return kio_fail(err, KIO_ERR_INVALID, "%s:%d: the first host command must be 'host up' (it starts the"
			       " scenario's host)", script->path, first_host->line);
	if (first_host && cut)
		return kio_fail(err, KIO_ERR_INVALID,
				"%s:%d: power-cut in a scenario with a host: the host would not outlive the kiosk process",
				script->path, cut->line);
	return 0;
}

int runner_open(const char *path, const struct runner_env *env, const struct testport *port, struct runner **out,
		struct kio_error *err)
{
	struct script *script = NULL;
	int rc = script_load(path, runner_check_cmd, (void *)env, &script, err);
	if (rc != 0)
		return rc;
	bool host_wanted = false;
	if ((rc = check_host_lines(script, &host_wanted, err)) != 0) {
		script_free(script);
		return rc;
	}
	struct runner *r = xcalloc(1, sizeof(*r));
	r->script = script;
	r->host_wanted = host_wanted;
	r->port = *port;
	r->carry_fd = env->carry_fd;
	pthread_mutex_init(&r->log_lock, NULL);
	if (env->carry) {
		rc = decode_carry(r, env->carry, env->carry_len, err);
	} else {
		snapshot_out_dir(r);
		/* The expect-log lines before any other declare what start-up logs (a driver that
		 * finds work for a technician as it opens): registered now, before the kiosk
		 * starts, and the run goes on after them. */
		while (r->next < script->n && script->cmds[r->next].op == SCRIPT_EXPECT_LOG)
			expect_log(r, &script->cmds[r->next++]);
	}
	if (rc != 0) {
		runner_free(r);
		return rc;
	}
	/* Warnings too: expect-log warn must see them whatever --log-level shows. */
	log_set_sink_level(LOG_WARN);
	log_set_sink(on_log, r);
	*out = r;
	return 0;
}

int runner_host_config(struct runner *r, struct core_config *cfg, struct kio_error *err)
{
	if (!r->host_wanted || r->host)
		return 0;
	return scn_host_start(cfg, &r->host, err);
}

void runner_free(struct runner *r)
{
	if (!r)
		return;
	scn_host_stop(r->host);
	log_set_sink(NULL, NULL);
	for (size_t i = 0; i < r->n_before; i++)
		free(r->before[i].name);
	free(r->before);
	free(r->expects);
	pthread_mutex_destroy(&r->log_lock);
	script_free(r->script);
	free(r);
}

uint64_t runner_clock_start_ms(const struct runner *r) { return r->clock_start_ms; }

static int check_expect_device(const struct script_cmd *cmd, char *why, size_t why_len)
{
	enum kdev dev;
	if (kdev_parse(cmd->arg, &dev) != 0) {
		snprintf(why, why_len, "unknown device '%s' (%s)", cmd->arg, kdev_names(KDEV_ROLE_STATUS));
		return -1;
	}
	if (strcmp(cmd->arg2, "ok") == 0)
		return 0;
	char kinds[160] = "ok";
	size_t len = strlen(kinds);
	const char *name;
	/* Fault 0 is "none": a device without a fault is "ok" here. */
	for (int f = 1; (name = kdev_info(dev)->fault_name(f)); f++) {
		if (strcmp(name, cmd->arg2) == 0)
			return 0;
		int n = snprintf(kinds + len, sizeof(kinds) - len, " %s", name);
		if (n > 0 && (size_t)n < sizeof(kinds) - len)
			len += (size_t)n;
	}
	snprintf(why, why_len, "unknown %s state '%s' (%s)", cmd->arg, cmd->arg2, kinds);
	return -1;
}

/* Virtual time `note` lets pass: the acceptor is polled every 200 ms (GA973 §7.4) and a note
 * reaches escrow in two polls. */
#define RUNNER_NOTE_SETTLE_MS 1000
/* The longest `fault`/`clear` waits for the device to show it: the slowest idle status poll
 * (the card printer's, 10 s) plus a reconnect. */
#define RUNNER_FAULT_SETTLE_MS 15000
#define RUNNER_SETTLE_STEP_MS 100

int runner_check_cmd(const struct script_cmd *cmd, void *check_user, char *why, size_t why_len)
{
	const struct runner_env *env = check_user;
	enum kdev dev;
	int fault;
	enum scr_id screen;
	enum log_level level;
	switch (cmd->op) {
	case SCRIPT_NOTE:
	case SCRIPT_NOTE_FAKE:
	case SCRIPT_NOTE_HOLD:
	case SCRIPT_NOTE_RELEASE:
	case SCRIPT_FAULT:
	case SCRIPT_CLEAR:
	case SCRIPT_TEST_PRINT:
		/* Found here, not when the line runs: by then the database has been written. */
		if (env && !env->simulate) {
			snprintf(why, why_len, "%s needs simulated devices (--simulate): a scenario cannot %s real ones",
				 script_op_name(cmd->op),
				 cmd->op == SCRIPT_TEST_PRINT ? "print on"
				 : cmd->op == SCRIPT_NOTE || cmd->op == SCRIPT_NOTE_FAKE || cmd->op == SCRIPT_NOTE_HOLD ||
						   cmd->op == SCRIPT_NOTE_RELEASE
					 ? "put notes into"
											 : "raise or clear faults in");
			return -1;
		}
		break;
	default: break;
	}
	switch (cmd->op) {
	case SCRIPT_EXPECT_LOG:
		if (!log_level_parse(cmd->arg, &level) || level > LOG_WARN) {
			snprintf(why, why_len, "unknown log level '%s' (error, warn)", cmd->arg);
			return -1;
		}
		if (!cmd->arg2[0]) {
			snprintf(why, why_len, "expect-log needs the text the line contains");
			return -1;
		}
		return 0;
	case SCRIPT_FAULT:
	case SCRIPT_CLEAR:
		if (kdev_parse(cmd->arg, &dev) != 0 || !kdev_has(dev, KDEV_ROLE_SIMULATED)) {
			snprintf(why, why_len, "unknown device '%s' (%s)", cmd->arg, kdev_names(KDEV_ROLE_SIMULATED));
			return -1;
		}
		if (cmd->op == SCRIPT_FAULT && sim_bench_fault_parse(kdev_info(dev)->bench, cmd->arg2, &fault) != 0) {
			snprintf(why, why_len, "unknown %s fault '%s' (%s)", cmd->arg, cmd->arg2,
				 sim_bench_fault_kinds(kdev_info(dev)->bench));
			return -1;
		}
		return 0;
	case SCRIPT_EXPECT_DEVICE:
	case SCRIPT_WAIT_DEVICE: return check_expect_device(cmd, why, why_len);
	case SCRIPT_TEST_PRINT:
		if (kdev_parse(cmd->arg, &dev) != 0 || !kdev_has(dev, KDEV_ROLE_TEST_PRINT)) {
			snprintf(why, why_len, "no test print for '%s' (%s)", cmd->arg, kdev_names(KDEV_ROLE_TEST_PRINT));
			return -1;
		}
		return 0;
	case SCRIPT_EXPECT_LEDGER:
		/* The query itself is checked when it runs: the database is not there yet. */
		if (!cmd->arg[0]) {
			snprintf(why, why_len, "expect-ledger needs a query: expect-ledger \"SQL\" \"VALUE\"");
			return -1;
		}
		if (strlen(cmd->arg) > LEDGER_QUERY_MAX_SQL) {
			snprintf(why, why_len, "expect-ledger: the query is %zu bytes, more than %d", strlen(cmd->arg),
				 LEDGER_QUERY_MAX_SQL);
			return -1;
		}
		return 0;
	case SCRIPT_HOST:
		if (!scn_host_mode_known(cmd->arg)) {
			snprintf(why, why_len, "unknown host mode '%s' (up, down, slow, error, cut-after-commit)", cmd->arg);
			return -1;
		}
		return 0;
	case SCRIPT_EXPECT_HOST:
		if (!cmd->arg[0] || strlen(cmd->arg) > LEDGER_QUERY_MAX_SQL) {
			snprintf(why, why_len, "expect-host needs a query of at most %d bytes: expect-host \"SQL\" \"VALUE\"",
				 LEDGER_QUERY_MAX_SQL);
			return -1;
		}
		return 0;
	case SCRIPT_HOST_SQL:
		if (!cmd->arg[0] || strlen(cmd->arg) > LEDGER_QUERY_MAX_SQL) {
			snprintf(why, why_len, "host-sql needs a statement of at most %d bytes: host-sql \"SQL\"",
				 LEDGER_QUERY_MAX_SQL);
			return -1;
		}
		return 0;
	case SCRIPT_EXPECT_SCREEN:
	case SCRIPT_GOTO:
		if (scr_parse(cmd->arg, &screen) != 0) {
			snprintf(why, why_len, "unknown screen '%s'", cmd->arg);
			return -1;
		}
		return 0;
	case SCRIPT_TYPE:
		if (!cmd->arg[0]) {
			snprintf(why, why_len, "nothing to type");
			return -1;
		}
		return 0;
	default: return 0;
	}
}

static int fail(struct runner *r, const struct script_cmd *cmd, int *exit_code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* fmt and ap as a string sized to the message (caller frees): an expected text can be long,
 * and a cut one misleads. */
static char *format_message(const char *fmt, va_list ap)
{
	va_list again;
	va_copy(again, ap);
	char first[256];
	int n = vsnprintf(first, sizeof(first), fmt, ap);
	char *msg;
	if (n < 0) {
		msg = xstrdup("(the failure could not be formatted)");
	} else if ((size_t)n < sizeof(first)) {
		msg = xstrdup(first);
	} else {
		msg = xmalloc((size_t)n + 1);
		vsnprintf(msg, (size_t)n + 1, fmt, again);
	}
	va_end(again);
	return msg;
}

static int fail(struct runner *r, const struct script_cmd *cmd, int *exit_code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = format_message(fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s:%d: FAILED: %s\n  %s\n", r->script->path, cmd->line, cmd->source, msg);
	free(msg);
	*exit_code = 1;
	return RUNNER_DONE;
}

void runner_report_failure(struct runner *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = format_message(fmt, ap);
	va_end(ap);
	if (r->next == 0) {
		fprintf(stderr, "%s: FAILED: before the first line\n  %s\n", r->script->path, msg);
	} else {
		const struct script_cmd *cmd = &r->script->cmds[r->next - 1];
		fprintf(stderr, "%s:%d: FAILED: %s\n  %s\n", r->script->path, cmd->line, cmd->source, msg);
	}
	free(msg);
}

/* ---- the test port ---- */

static struct ui_page *current_page(struct runner *r) { return r->port.ops->current_page(r->port.kiosk); }
static const char *screen_id(struct runner *r) { return scr_get(r->port.ops->screen(r->port.kiosk))->id; }
static struct sim_bench *bench_of(struct runner *r) { return r->port.ops->bench(r->port.kiosk); }
static void device_status(struct runner *r, enum kdev dev, enum dev_state *state, const char **fault)
{
	r->port.ops->device_status(r->port.kiosk, dev, state, fault);
}
/* A device name checked at parse time (runner_check_cmd). */
static enum kdev device_of(const char *name)
{
	enum kdev dev = KDEV_CASH;
	kdev_parse(name, &dev);
	return dev;
}

/* Taps w the way a finger would, after checking a finger could reach it. */
static int tap_widget(struct runner *r, const struct script_cmd *cmd, struct ui_widget *w, int *exit_code)
{
	struct ui_page *page = current_page(r);
	if (!w->visible)
		return fail(r, cmd, exit_code, "expected '%s' to be visible on screen '%s', found it hidden", w->id,
			    screen_id(r));
	if (!w->enabled)
		return fail(r, cmd, exit_code, "expected '%s' to be enabled on screen '%s', found it disabled", w->id,
			    screen_id(r));
	int cx = w->rect.x + w->rect.w / 2, cy = w->rect.y + w->rect.h / 2;
	char id[sizeof(w->id)];
	snprintf(id, sizeof(id), "%s", w->id);
	struct ui_widget *top = ui_page_hit(page, cx, cy);
	if (top != w)
		return fail(r, cmd, exit_code, "expected '%s' under the finger at (%d, %d), found %s%s%s", id, cx, cy,
			    top ? "'" : "nothing touchable", top ? top->id : "", top ? "' covering it" : "");
	struct kio_error err;
	if (r->port.ops->push_tap(r->port.kiosk, cx, cy, &err) != 0)
		return fail(r, cmd, exit_code, "%s", err.msg);
	return RUNNER_CONTINUE;
}

/* The next UTF-8 character of s as a code point; advances *len. */
static uint32_t next_char(const char *s, size_t *len)
{
	const unsigned char *u = (const unsigned char *)s;
	if (u[0] < 0x80) {
		*len = 1;
		return u[0];
	}
	int n = (u[0] & 0xE0) == 0xC0 ? 2 : (u[0] & 0xF0) == 0xE0 ? 3 : (u[0] & 0xF8) == 0xF0 ? 4 : 1;
	uint32_t cp = n == 2 ? u[0] & 0x1F : n == 3 ? u[0] & 0x0F : u[0] & 0x07;
	for (int i = 1; i < n; i++) {
		if ((u[i] & 0xC0) != 0x80) {
			*len = 1;
			return 0xFFFD;
		}
		cp = (cp << 6) | (u[i] & 0x3F);
	}
	*len = (size_t)n;
	return cp;
}

static int type_step(struct runner *r, const struct script_cmd *cmd, int *exit_code)
{
	size_t len;
	uint32_t cp = next_char(r->typing + r->typed, &len);
	struct ui_page *page = current_page(r);
	struct ui_widget *key = NULL;
	for (size_t i = 0; i < page->n && !key; i++)
		if (page->widgets[i].kind == UI_KEY && page->widgets[i].key == cp && page->widgets[i].visible)
			key = &page->widgets[i];
	if (!key) {
		r->typing = NULL;
		return fail(r, cmd, exit_code, "expected a key for '%.*s' on screen '%s', found none", (int)len,
			    cmd->arg + r->typed, screen_id(r));
	}
	r->typed += len;
	if (!r->typing[r->typed])
		r->typing = NULL;
	return tap_widget(r, cmd, key, exit_code);
}

/* A card takes about 20 s in a real printer; a receipt a few. Longer means the job is stuck,
 * which the driver reports itself well before this (its job timeout is 60 s). */
#define RUNNER_PRINT_WAIT_MS 120000

static enum runner_status print_step(struct runner *r, uint64_t now, uint64_t *wait_until)
{
	enum testport_job st = r->port.ops->test_print_state(r->port.kiosk, r->print_device);
	if (st != TESTPORT_JOB_RUNNING || now >= r->print_deadline) {
		if (st == TESTPORT_JOB_RUNNING)
			LOG_INFO("%s: test print still running after %d s", kdev_info(r->print_device)->name,
				 RUNNER_PRINT_WAIT_MS / 1000);
		r->printing = false;
		return RUNNER_CONTINUE;
	}
	*wait_until = now + RUNNER_SETTLE_STEP_MS;
	return RUNNER_WAIT;
}

/* Whether the device shows what cmd (expect-device or wait-device) names. */
static bool device_shows(struct runner *r, const struct script_cmd *cmd, enum dev_state *state,
			 const char **shown)
{
	device_status(r, device_of(cmd->arg), state, shown);
	return strcmp(cmd->arg2, "ok") == 0 ? *state == DEV_STATE_OK : strcmp(cmd->arg2, *shown) == 0;
}

/* `wait-device`: long enough for a reconnect and the slowest status poll, with margin. */
#define RUNNER_DEVICE_WAIT_MS 30000

static enum runner_status device_wait_step(struct runner *r, uint64_t now, uint64_t *wait_until,
					   int *exit_code)
{
	const struct script_cmd *cmd = r->device_wait;
	enum dev_state state = DEV_STATE_OK;
	const char *shown = "?";
	if (device_shows(r, cmd, &state, &shown)) {
		r->device_wait = NULL;
		return RUNNER_CONTINUE;
	}
	if (now >= r->device_wait_deadline) {
		r->device_wait = NULL;
		return fail(r, cmd, exit_code, "expected %s %s within %d s, found %s (%s)", cmd->arg, cmd->arg2,
			    RUNNER_DEVICE_WAIT_MS / 1000, dev_state_name(state), shown);
	}
	*wait_until = now + RUNNER_SETTLE_STEP_MS;
	return RUNNER_WAIT;
}

/* The longest value expect-ledger compares: a query's answer is a count, an amount, a state. */
#define RUNNER_LEDGER_VALUE_MAX 4096

/* expect-file-text reads the whole file; past this it is not a text a scenario checks. */
#define RUNNER_FILE_TEXT_MAX (16 << 20)

/* OUT/name's bytes (NUL-terminated, *len_out without it), or NULL with why filled. */
static char *read_out_file(struct runner *r, const char *name, off_t size, size_t *len_out, char *why,
			   size_t why_len)
{
	if (size > RUNNER_FILE_TEXT_MAX) {
		snprintf(why, why_len, "'%s' is %lld bytes, more than the %d MiB expect-file-text reads", name,
			 (long long)size, RUNNER_FILE_TEXT_MAX >> 20);
		return NULL;
	}
	char *path = xasprintf("%s/%s", out_dir(r), name);
	FILE *f = fopen(path, "rb");
	free(path);
	if (!f) {
		snprintf(why, why_len, "'%s' cannot be read: %s", name, strerror(errno));
		return NULL;
	}
	/* One byte more than stat said tells a file still being written from a whole one. */
	size_t want = (size_t)size + 1;
	char *text = xmalloc(want + 1);
	size_t len = fread(text, 1, want, f);
	bool failed = ferror(f);
	fclose(f);
	if (failed || len != (size_t)size) {
		snprintf(why, why_len, "'%s' %s", name, failed ? "could not be read" : "changed while it was read");
		free(text);
		return NULL;
	}
	text[len] = '\0';
	*len_out = len;
	return text;
}

/* Whether the device has shown the last `fault`/`clear` yet; waits in small steps until it has. */
static enum runner_status settle_step(struct runner *r, uint64_t now, uint64_t *wait_until)
{
	enum dev_state state;
	const char *fault;
	device_status(r, r->settle_device, &state, &fault);
	bool shown = r->settle_to_ok ? state == DEV_STATE_OK
				     : state != r->before_state || strcmp(fault, r->before_fault) != 0;
	if (shown || now >= r->settle_deadline) {
		if (!shown)
			LOG_INFO("%s: still %s (%s) after %d s", kdev_info(r->settle_device)->name, dev_state_name(state), fault,
				 RUNNER_FAULT_SETTLE_MS / 1000);
		r->settling = false;
		return RUNNER_CONTINUE;
	}
	*wait_until = now + RUNNER_SETTLE_STEP_MS;
	return RUNNER_WAIT;
}

/* `expect-ledger "SQL" "VALUE"`: SQL NULL and no row are shown bare, text in quotes, so the
 * text "NULL" and a NULL are told apart in the message. */
static enum runner_status expect_ledger(struct runner *r, const struct script_cmd *cmd, int *exit_code)
{
	char value[RUNNER_LEDGER_VALUE_MAX];
	enum ledger_query_kind kind = LEDGER_QUERY_NO_ROW;
	struct kio_error err;
	int rc = ledger_query_text(r->port.ops->db_path(r->port.kiosk), cmd->arg, value, sizeof(value), &kind, &err);
	if (rc != 0)
		return fail(r, cmd, exit_code, "the query %s: %s", rc == KIO_ERR_INVALID ? "was refused" : "failed", err.msg);
	if (strcmp(value, cmd->arg2) == 0)
		return RUNNER_CONTINUE;
	const char *q = kind == LEDGER_QUERY_VALUE ? "\"" : "";
	return fail(r, cmd, exit_code, "expected \"%s\", found %s%s%s", cmd->arg2, q, value, q);
}

/* `wait-synced`: real time, as the sync's worker thread runs in it. */
#define RUNNER_SYNC_WAIT_MS 30000

static bool real_time_past(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec || (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* Until the kiosk's ledger holds the host's acknowledgement of its last record. Virtual time
 * stands still meanwhile (RUNNER_CONTINUE after a short real sleep): no customer timeout runs
 * out while the kiosk waits for the network. */
static enum runner_status sync_wait_step(struct runner *r, int *exit_code)
{
	const struct script_cmd *cmd = r->sync_wait;
	struct ledger_sync *ls = NULL;
	struct ledger_sync_status st = {0};
	struct kio_error err = {0};
	int rc = ledger_sync_open(r->port.ops->db_path(r->port.kiosk), false, &ls, &err);
	if (!rc)
		rc = ledger_sync_status_read(ls, &st, &err);
	ledger_sync_close(ls);
	if (!rc && st.acked_rec == st.last_rec) {
		r->sync_wait = NULL;
		return RUNNER_CONTINUE;
	}
	if (real_time_past(&r->sync_deadline)) {
		r->sync_wait = NULL;
		if (rc)
			return fail(r, cmd, exit_code, "the ledger's sync state cannot be read: %s", err.msg);
		return fail(r, cmd, exit_code,
			    "expected the host to acknowledge records 1..%" PRId64 " within %d s, it holds 1..%" PRId64
			    " (last error: %s)",
			    st.last_rec, RUNNER_SYNC_WAIT_MS / 1000, st.acked_rec, st.last_error[0] ? st.last_error : "none");
	}
	usleep(20 * 1000);
	return RUNNER_CONTINUE;
}

static enum runner_status expect_host(struct runner *r, const struct script_cmd *cmd, int *exit_code)
{
	char value[RUNNER_LEDGER_VALUE_MAX];
	struct kio_error err;
	if (scn_host_query(r->host, cmd->arg, value, sizeof(value), &err) != 0)
		return fail(r, cmd, exit_code, "the query failed: %s", err.msg);
	if (strcmp(value, cmd->arg2) == 0)
		return RUNNER_CONTINUE;
	return fail(r, cmd, exit_code, "expected \"%s\", found \"%s\"", cmd->arg2, value);
}

/*
 * `power-cut`: this kiosk process dies here as in a power cut, SIGKILL, no cleanup of any kind.
 * First the supervisor is told what the next process needs (the carry, above); it starts that
 * process on the same database, devices' state and output folder once this one is gone.
 */
static enum runner_status power_cut(struct runner *r, const struct script_cmd *cmd, uint64_t now, int *exit_code)
{
	if (r->carry_fd < 0)
		return fail(r, cmd, exit_code, "power-cut needs the scenario supervisor, which kiosk --script starts");
	struct core_bytebuf carry = {0};
	encode_carry(r, now, &carry);
	int rc = write_all(r->carry_fd, carry.data, carry.len);
	int saved = errno;
	core_bytebuf_free(&carry);
	if (rc != 0)
		return fail(r, cmd, exit_code, "power-cut: the supervisor cannot be told where to go on: %s", strerror(saved));
	LOG_INFO("%s:%d: power-cut", r->script->path, cmd->line);
	raise(SIGKILL);
	return fail(r, cmd, exit_code, "power-cut: the kiosk survived SIGKILL");
}

static enum runner_status run_cmd(struct runner *r, const struct script_cmd *cmd, uint64_t now,
				  uint64_t *wait_until, int *exit_code)
{
	struct ui_page *page = current_page(r);
	struct sim_bench *bench = bench_of(r);
	struct kio_error err;
	enum sim_bench_dev dev;
	int fault = 0;
	int rc;
	switch (cmd->op) {
	case SCRIPT_TAP: {
		struct ui_widget *w = ui_page_find(page, cmd->arg);
		if (!w || !ui_widget_touchable(w))
			return fail(r, cmd, exit_code, "expected a touchable widget '%s' on screen '%s', found none",
				    cmd->arg, screen_id(r));
		return tap_widget(r, cmd, w, exit_code);
	}
	case SCRIPT_TOUCH: {
		/* A customer's finger on the page where w is drawn, on a button or on nothing
		 * touchable (a label, a panel, a disabled button): what the screen makes of a touch
		 * that is not a tap. */
		struct ui_widget *w = ui_page_find(page, cmd->arg);
		if (!w || !w->visible)
			return fail(r, cmd, exit_code, "expected a widget '%s' drawn on screen '%s', found none", cmd->arg,
				    screen_id(r));
		if (r->port.ops->push_tap(r->port.kiosk, w->rect.x + w->rect.w / 2, w->rect.y + w->rect.h / 2, &err) != 0)
			return fail(r, cmd, exit_code, "%s", err.msg);
		return RUNNER_CONTINUE;
	}
	case SCRIPT_TAP_TEXT: {
		struct ui_widget *w = ui_page_find_text(page, cmd->arg);
		if (!w)
			return fail(r, cmd, exit_code, "expected a touchable widget labelled \"%s\" on screen '%s', found none",
				    cmd->arg, screen_id(r));
		return tap_widget(r, cmd, w, exit_code);
	}
	case SCRIPT_TYPE:
		r->typing = cmd->arg;
		r->typed = 0;
		return type_step(r, cmd, exit_code);
	case SCRIPT_NOTE:
	case SCRIPT_NOTE_FAKE:
	case SCRIPT_NOTE_HOLD:
	case SCRIPT_NOTE_RELEASE:
	case SCRIPT_FAULT:
	case SCRIPT_CLEAR:
		if (!bench)
			return fail(r, cmd, exit_code, "device commands need simulated devices (--simulate)");
		if (cmd->op == SCRIPT_NOTE_RELEASE) {
			if (sim_bench_release_note(bench) != 0)
				return fail(r, cmd, exit_code, "no note is held (note-hold AED holds one)");
			r->waiting = true;
			r->wait_until = now + RUNNER_NOTE_SETTLE_MS;
			*wait_until = r->wait_until;
			return RUNNER_WAIT;
		}
		if (cmd->op == SCRIPT_NOTE || cmd->op == SCRIPT_NOTE_FAKE || cmd->op == SCRIPT_NOTE_HOLD) {
			rc = cmd->op == SCRIPT_NOTE ? sim_bench_insert_note(bench, cmd->number)
			     : cmd->op == SCRIPT_NOTE_HOLD ? sim_bench_hold_note(bench, cmd->number)
							   : sim_bench_insert_fake(bench);
			/* A shut bezel (acceptor disabled, busy or faulty) is the kiosk's answer, not a
			 * broken script: the customer keeps the note and the page says why. A warning,
			 * so a scenario can check it with expect-log warn. */
			if (rc != 0)
				LOG_WARN("%s:%d: the acceptor did not take the note (%s): the customer keeps it",
					 r->script->path, cmd->line,
					 rc == KIO_ERR_BUSY ? "disabled, busy or faulty" : kio_strerror(rc));
			r->waiting = true;
			r->wait_until = now + RUNNER_NOTE_SETTLE_MS;
			*wait_until = r->wait_until;
			return RUNNER_WAIT;
		}
		r->settling = true;
		r->settle_to_ok = cmd->op == SCRIPT_CLEAR;
		r->settle_device = device_of(cmd->arg);
		r->settle_deadline = now + RUNNER_FAULT_SETTLE_MS;
		device_status(r, r->settle_device, &r->before_state, &r->before_fault);
		dev = kdev_info(r->settle_device)->bench;
		if (cmd->op == SCRIPT_FAULT) {
			sim_bench_fault_parse(dev, cmd->arg2, &fault);
			sim_bench_fault(bench, dev, fault, true);
		} else {
			sim_bench_clear_all(bench, dev);
		}
		return settle_step(r, now, wait_until);
	case SCRIPT_WAIT:
		r->waiting = true;
		r->wait_until = now + (uint64_t)cmd->number;
		*wait_until = r->wait_until;
		return RUNNER_WAIT;
	case SCRIPT_EXPECT_SCREEN:
		if (strcmp(screen_id(r), cmd->arg) != 0)
			return fail(r, cmd, exit_code, "expected screen '%s', found '%s'", cmd->arg, screen_id(r));
		return RUNNER_CONTINUE;
	case SCRIPT_EXPECT_TEXT:
	case SCRIPT_EXPECT_NO_TEXT: {
		bool shown = ui_page_shows_text(page, cmd->arg);
		if (cmd->op == SCRIPT_EXPECT_TEXT && !shown)
			return fail(r, cmd, exit_code, "expected \"%s\" on screen '%s', found it absent", cmd->arg,
				    screen_id(r));
		if (cmd->op == SCRIPT_EXPECT_NO_TEXT && shown)
			return fail(r, cmd, exit_code, "expected no \"%s\" on screen '%s', found it shown", cmd->arg,
				    screen_id(r));
		return RUNNER_CONTINUE;
	}
	case SCRIPT_GOTO: {
		/* Checked at parse time (runner_check_cmd), so the id is known here. */
		enum scr_id screen = SCR_ATTRACT;
		if (scr_parse(cmd->arg, &screen) != 0)
			return fail(r, cmd, exit_code, "unknown screen '%s'", cmd->arg);
		r->port.ops->go(r->port.kiosk, screen);
		return RUNNER_CONTINUE;
	}
	case SCRIPT_WAIT_DEVICE:
		r->device_wait = cmd;
		r->device_wait_deadline = now + RUNNER_DEVICE_WAIT_MS;
		return device_wait_step(r, now, wait_until, exit_code);
	case SCRIPT_EXPECT_DEVICE: {
		enum dev_state state = DEV_STATE_OK;
		const char *shown = "?";
		if (!device_shows(r, cmd, &state, &shown))
			return fail(r, cmd, exit_code, "expected %s %s, found %s (%s)", cmd->arg, cmd->arg2,
				    dev_state_name(state), shown);
		return RUNNER_CONTINUE;
	}
	case SCRIPT_TEST_PRINT:
		if (!bench)
			return fail(r, cmd, exit_code, "test prints in scenarios need simulated devices (--simulate)");
		r->print_device = device_of(cmd->arg);
		if (r->port.ops->test_print(r->port.kiosk, r->print_device, &err) != 0)
			return fail(r, cmd, exit_code, "the test print was refused: %s", err.msg);
		r->printing = true;
		r->print_deadline = now + RUNNER_PRINT_WAIT_MS;
		return print_step(r, now, wait_until);
	case SCRIPT_EXPECT_FILE:
	case SCRIPT_EXPECT_FILE_TEXT: {
		struct stat st;
		enum out_state state = out_file_state(r, cmd->arg, &st);
		if (state != OUT_WRITTEN || st.st_size == 0)
			return fail(r, cmd, exit_code, "expected a file '%s' in %s written by this run, found %s", cmd->arg,
				    out_dir(r),
				    state == OUT_ABSENT ? "none"
				    : state == OUT_OLD ? "only one left there before this run started"
						       : "it empty");
		if (cmd->op == SCRIPT_EXPECT_FILE)
			return RUNNER_CONTINUE;
		size_t len = 0;
		char why[256];
		char *text = read_out_file(r, cmd->arg, st.st_size, &len, why, sizeof(why));
		if (!text)
			return fail(r, cmd, exit_code, "%s", why);
		/* memmem: the file may hold NUL bytes before the text (a PNG, a binary log). */
		bool found = memmem(text, len, cmd->arg2, strlen(cmd->arg2)) != NULL;
		free(text);
		if (!found)
			return fail(r, cmd, exit_code, "expected \"%s\" in %s (%zu bytes), found it absent", cmd->arg2,
				    cmd->arg, len);
		return RUNNER_CONTINUE;
	}
	case SCRIPT_EXPECT_NO_FILE: {
		struct stat st;
		if (out_file_state(r, cmd->arg, &st) == OUT_WRITTEN)
			return fail(r, cmd, exit_code, "expected no file '%s' written in %s by this run, found one",
				    cmd->arg, out_dir(r));
		return RUNNER_CONTINUE;
	}
	case SCRIPT_EXPECT_LOG:
		expect_log(r, cmd);
		return RUNNER_CONTINUE;
	case SCRIPT_EXPECT_LEDGER: return expect_ledger(r, cmd, exit_code);
	case SCRIPT_HOST:
		if (!r->host)
			return fail(r, cmd, exit_code, "the scenario's host is not running (the app did not start it)");
		if (scn_host_mode(r->host, cmd->arg, &err) != 0)
			return fail(r, cmd, exit_code, "%s", err.msg);
		return RUNNER_CONTINUE;
	case SCRIPT_WAIT_SYNCED:
		if (!r->host)
			return fail(r, cmd, exit_code, "the scenario's host is not running (the app did not start it)");
		clock_gettime(CLOCK_MONOTONIC, &r->sync_deadline);
		r->sync_deadline.tv_sec += RUNNER_SYNC_WAIT_MS / 1000;
		r->sync_wait = cmd;
		return RUNNER_CONTINUE;
	case SCRIPT_EXPECT_HOST:
		if (!r->host)
			return fail(r, cmd, exit_code, "the scenario's host is not running (the app did not start it)");
		return expect_host(r, cmd, exit_code);
	case SCRIPT_HOST_SQL:
		if (!r->host)
			return fail(r, cmd, exit_code, "the scenario's host is not running (the app did not start it)");
		if (scn_host_sql(r->host, cmd->arg, &err) != 0)
			return fail(r, cmd, exit_code, "%s", err.msg);
		return RUNNER_CONTINUE;
	case SCRIPT_POWER_CUT: return power_cut(r, cmd, now, exit_code);
	case SCRIPT_SCREENSHOT:
		if (r->port.ops->screenshot(r->port.kiosk, cmd->arg, &err) != 0)
			return fail(r, cmd, exit_code, "%s", err.msg);
		return RUNNER_CONTINUE;
	case SCRIPT_OP_COUNT: break;
	}
	return fail(r, cmd, exit_code, "internal: unknown command");
}

/* An error line nobody declared fails the scenario at the command whose effects logged it:
 * the one that ran last (the runner is not stepped while a command's effects run). */
static bool failed_on_log(struct runner *r, int *exit_code)
{
	char line[sizeof(r->unexpected)];
	size_t count = 0;
	if (!take_unexpected(r, line, sizeof(line), &count))
		return false;
	char more[48] = "";
	if (count > 1)
		snprintf(more, sizeof(more), " (and %zu more)", count - 1);
	runner_report_failure(r, "an error was logged: \"%s\"%s; a scenario that means it says so first: "
			      "expect-log error \"TEXT\"", line, more);
	*exit_code = 1;
	return true;
}

enum runner_status runner_step(struct runner *r, uint64_t now_ms, uint64_t *wait_until_ms, int *exit_code)
{
	if (failed_on_log(r, exit_code))
		return RUNNER_DONE;
	if (r->waiting) {
		if (now_ms < r->wait_until) {
			*wait_until_ms = r->wait_until;
			return RUNNER_WAIT;
		}
		r->waiting = false;
	}
	if (r->settling) {
		enum runner_status st = settle_step(r, now_ms, wait_until_ms);
		if (st != RUNNER_CONTINUE)
			return st;
	}
	if (r->printing) {
		enum runner_status st = print_step(r, now_ms, wait_until_ms);
		if (st != RUNNER_CONTINUE)
			return st;
	}
	if (r->device_wait) {
		int st = device_wait_step(r, now_ms, wait_until_ms, exit_code);
		if (st != RUNNER_CONTINUE)
			return (enum runner_status)st;
	}
	if (r->sync_wait) {
		enum runner_status st = sync_wait_step(r, exit_code);
		if (st != RUNNER_CONTINUE || r->sync_wait)
			return st;
	}
	if (r->typing)
		return (enum runner_status)type_step(r, &r->script->cmds[r->next - 1], exit_code);
	if (r->next >= r->script->n) {
		*exit_code = 0;
		return RUNNER_DONE;
	}
	const struct script_cmd *cmd = &r->script->cmds[r->next++];
	LOG_DBG("%s:%d: %s", r->script->path, cmd->line, cmd->source);
	return run_cmd(r, cmd, now_ms, wait_until_ms, exit_code);
}

/* With a host: the kiosk's records and the host's equal, then the host stopped (always). */
static int finish_host(struct runner *r, int status)
{
	if (!r->host)
		return status;
	struct kio_error err;
	if (status == 0 && scn_host_check(r->host, r->port.ops->db_path(r->port.kiosk), &err) != 0) {
		fprintf(stderr, "%s: FAILED: after the last line\n  the kiosk and its host disagree: %s\n", r->script->path,
			err.msg);
		status = 1;
	}
	scn_host_stop(r->host);
	r->host = NULL;
	return status;
}

int runner_finish(struct runner *r, int status)
{
	status = finish_host(r, status);
	if (status != 0)
		return status;
	char line[sizeof(r->unexpected)];
	size_t count = 0;
	if (take_unexpected(r, line, sizeof(line), &count)) {
		fprintf(stderr, "%s: FAILED: after the last line\n  an error was logged while shutting down: \"%s\"\n",
			r->script->path, line);
		return 1;
	}
	for (size_t i = 0; i < r->n_expects; i++) {
		const struct log_expect *e = &r->expects[i];
		if (!e->met) {
			fprintf(stderr, "%s:%d: FAILED: %s\n  expected a later %s line containing \"%s\", found none\n",
				r->script->path, e->cmd->line, e->cmd->source, e->cmd->arg, e->cmd->arg2);
			return 1;
		}
	}
	return status;
}
