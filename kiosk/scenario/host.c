/* A scenario's own host: cluster, kiosk-host, fault proxy, and the end-of-run check (host.h). */
#define LOG_MODULE "scenario-host"
#include "host.h"

#include <errno.h>
#include <glib.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kiosk-config.h"
#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"
#include "kiosk/ledger/export.h"
#include "kiosk/ledger/query.h"

#define SCN_HOST_KIOSK_DEFAULT "K-SCENARIO"

struct scn_host {
	char *dir, *conninfo, *kiosk_id, *faults, *control;
	char *host_bin, *proxy_bin;
	pid_t host_pid, proxy_pid, keeper_pid;
	int keeper_fd; /* write end: closed (by exit or by scn_host_stop), the keeper cleans up */
	int timeout_ms;
};

/* A child about to exec: dies with the kiosk, stderr to err_path (or kept). Only
 * async-signal-safe calls: the kiosk may have threads. */
static void child_setup(bool die_with_parent, const char *err_path)
{
	if (die_with_parent)
		prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (err_path) {
		int fd = open(err_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd >= 0)
			dup2(fd, 2);
	}
}

/* Runs argv to its end; *out gets its stdout (free) and the exit status is returned (-1 when
 * it could not run). Its stderr is appended to the folder's log, read back into err on failure. */
static int run(struct scn_host *h, char *const argv[], char **out)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	char *err_path = xasprintf("%s/commands.log", h->dir);
	pid_t pid = fork();
	if (pid == 0) {
		child_setup(true, err_path);
		dup2(fds[1], 1);
		execv(argv[0], argv);
		_exit(127);
	}
	free(err_path);
	close(fds[1]);
	size_t len = 0, cap = 256;
	char *buf = xmalloc(cap);
	ssize_t n;
	while (pid > 0 && (n = read(fds[0], buf + len, cap - len - 1)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		len += (size_t)n;
		if (cap - len < 2)
			buf = xrealloc(buf, cap *= 2);
	}
	buf[len] = '\0';
	close(fds[0]);
	int status = -1;
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (out)
		*out = buf;
	else
		free(buf);
	return pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The last lines of the commands' log, for a failure message. */
static const char *log_tail(struct scn_host *h, char *buf, size_t cap)
{
	char *path = xasprintf("%s/commands.log", h->dir);
	FILE *f = fopen(path, "r");
	free(path);
	buf[0] = '\0';
	if (!f)
		return buf;
	char line[300];
	while (fgets(line, sizeof(line), f))
		if (line[0] && line[0] != '\n')
			snprintf(buf, cap, "%s", line);
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

static int run_ok(struct scn_host *h, char *const argv[], char **out, struct kio_error *err)
{
	int st = run(h, argv, out);
	if (st == 0)
		return 0;
	char tail[300];
	return kio_fail(err, KIO_ERR_IO, "the scenario's host: %s %s failed (%d): %s", argv[0], argv[1], st,
			log_tail(h, tail, sizeof(tail)));
}

/* Starts a server that prints "listening on 127.0.0.1:PORT"; its port, or -1. */
static int spawn_listening(struct scn_host *h, char *const argv[], const char *log_name, pid_t *pid)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	char *err_path = xasprintf("%s/%s", h->dir, log_name);
	*pid = fork();
	if (*pid == 0) {
		child_setup(true, err_path);
		dup2(fds[1], 1);
		execv(argv[0], argv);
		_exit(127);
	}
	free(err_path);
	close(fds[1]);
	char line[128] = "";
	size_t n = 0;
	while (*pid > 0 && n < sizeof(line) - 1) {
		ssize_t got = read(fds[0], line + n, 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 || line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	close(fds[0]);
	int port = -1;
	if (sscanf(line, "listening on 127.0.0.1:%d", &port) != 1)
		port = -1;
	return port;
}

static int set_file(const char *path, const char *text, struct kio_error *err)
{
	/* Renamed into place: the reader never sees half a line. */
	char *tmp = xasprintf("%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	int rc = 0;
	if (!f || fputs(text, f) < 0 || fclose(f) != 0 || rename(tmp, path) != 0)
		rc = kio_fail(err, KIO_ERR_IO, "the scenario's host: cannot write %s: %s", path, strerror(errno));
	free(tmp);
	return rc;
}

static int copy_secret(const char *from, const char *to, struct kio_error *err)
{
	char buf[4096];
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int outfd = in >= 0 ? open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
	ssize_t n = -1;
	if (outfd >= 0)
		n = read(in, buf, sizeof(buf));
	bool ok = n > 0 && write(outfd, buf, (size_t)n) == n && fsync(outfd) == 0;
	if (in >= 0)
		close(in);
	if (outfd >= 0 && close(outfd) != 0)
		ok = false;
	explicit_bzero(buf, sizeof(buf));
	if (!ok)
		return kio_fail(err, KIO_ERR_IO, "the scenario's host: cannot install the chain key as %s: %s", to,
				strerror(errno));
	return 0;
}

/* The keeper: a process of its own group that waits until the kiosk closes the pipe (at
 * scn_host_stop, or by dying), then stops the cluster and removes the folder. */
static int start_keeper(struct scn_host *h, const char *script, struct kio_error *err)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0)
		return kio_fail(err, KIO_ERR_IO, "the scenario's host: pipe: %s", strerror(errno));
	h->keeper_pid = fork();
	if (h->keeper_pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return kio_fail(err, KIO_ERR_IO, "the scenario's host: fork: %s", strerror(errno));
	}
	if (h->keeper_pid == 0) {
		setpgid(0, 0); /* a kill of the test's process group must not take it before it cleaned up */
		if (fds[0] == 3)
			fcntl(3, F_SETFD, 0); /* dup2 onto itself would keep close-on-exec */
		else
			dup2(fds[0], 3);
		execl("/bin/bash", "bash", "-c",
		      "exec </dev/null >/dev/null 2>&1; read -r _ <&3; bash \"$0\" stop \"$1\"; rm -rf \"$1\"", script,
		      h->dir, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	h->keeper_fd = fds[1];
	return 0;
}

bool scn_host_mode_known(const char *mode)
{
	static const char *const modes[] = {"up", "down", "slow", "error", "cut-after-commit"};
	for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++)
		if (strcmp(mode, modes[k]) == 0)
			return true;
	return false;
}

int scn_host_start(struct core_config *cfg, struct scn_host **out, struct kio_error *err)
{
	*out = NULL;
	char *secret = xasprintf("%s.secret", cfg->db_path);
	struct stat st;
	if (stat(secret, &st) == 0) {
		int rc = kio_fail(err, KIO_ERR_INVALID,
				  "host up: %s already holds a chain key; the scenario's host enrols a new kiosk, whose"
				  " key would not match that ledger's chain (use a new --db)",
				  secret);
		free(secret);
		return rc;
	}
	struct scn_host *h = xcalloc(1, sizeof(*h));
	h->keeper_fd = -1;
	h->timeout_ms = cfg->host_timeout_ms > 0 ? cfg->host_timeout_ms : 5000;
	h->kiosk_id = xstrdup(cfg->kiosk_id[0] ? cfg->kiosk_id : SCN_HOST_KIOSK_DEFAULT);
	h->host_bin = xasprintf("%s/host/kiosk-host", KIOSK_BUILD_ROOT);
	h->proxy_bin = xasprintf("%s/tests/network/faultproxy", KIOSK_BUILD_ROOT);
	char *script = xasprintf("%s/scripts/pg-throwaway.sh", KIOSK_SOURCE_DIR);
	/* In the temporary folder (TMPDIR), or KIOSK_SCENARIO_HOST_ROOT (the tests, to find what a
	 * run left). pg-throwaway.sh refuses, naming it, a folder whose socket path would be too
	 * long or that the postgres user cannot reach when root. */
	const char *root = getenv("KIOSK_SCENARIO_HOST_ROOT");
	if (!root || !*root || strlen(root) >= 100)
		root = g_get_tmp_dir();
	char tmpl[160];
	snprintf(tmpl, sizeof(tmpl), "%s/kiosk-scenario-host-XXXXXX", root);
	int rc = 0;
	char *text = NULL;
	if (access(h->host_bin, X_OK) != 0 || access(h->proxy_bin, X_OK) != 0) {
		rc = kio_fail(err, KIO_ERR_IO, "host up: %s and %s are needed (build the tree with ninja)", h->host_bin,
			      h->proxy_bin);
		goto out;
	}
	if (!mkdtemp(tmpl)) {
		rc = kio_fail(err, KIO_ERR_IO, "host up: cannot make a folder under /tmp: %s", strerror(errno));
		goto out;
	}
	h->dir = xstrdup(tmpl);
	if ((rc = start_keeper(h, script, err)))
		goto out;
	char *pg[] = {"/bin/bash", script, "start", h->dir, NULL};
	int pst = run(h, pg, &text);
	if (pst == 3) {
		rc = kio_fail(err, KIO_ERR_UNSUPPORTED, "host up: no PostgreSQL server is installed (apt-get install postgresql)");
		goto out;
	}
	if (pst != 0) {
		char tail[300];
		rc = kio_fail(err, KIO_ERR_IO, "host up: pg-throwaway.sh start failed: %s", log_tail(h, tail, sizeof(tail)));
		goto out;
	}
	text[strcspn(text, "\n")] = '\0';
	h->conninfo = text;
	text = NULL;
	char *ca_dir = xasprintf("%s/ca", h->dir), *kiosk_dir = xasprintf("%s/kiosk", h->dir);
	char *migrate[] = {h->host_bin, "migrate", "--db", h->conninfo, NULL};
	char *demo[] = {h->host_bin, "demo-data", "--db", h->conninfo, NULL};
	char *ca[] = {h->host_bin, "ca", "init", "--out", ca_dir, NULL};
	char *enrol[] = {h->host_bin, "enrol", "--db", h->conninfo, "--ca", ca_dir, "--kiosk-id", h->kiosk_id,
			 "--out", kiosk_dir, NULL};
	rc = run_ok(h, migrate, NULL, err);
	if (!rc)
		rc = run_ok(h, demo, NULL, err);
	if (!rc)
		rc = run_ok(h, ca, NULL, err);
	if (!rc)
		rc = run_ok(h, enrol, NULL, err);
	char *from = xasprintf("%s/ledger.secret", kiosk_dir);
	if (!rc)
		rc = copy_secret(from, secret, err);
	free(from);
	h->faults = xasprintf("%s/faults", h->dir);
	h->control = xasprintf("%s/proxy-mode", h->dir);
	if (!rc)
		rc = set_file(h->faults, "none\n", err);
	if (!rc)
		rc = set_file(h->control, "up\n", err);
	char *cert = xasprintf("%s/host.crt", ca_dir), *key = xasprintf("%s/host.key", ca_dir),
	     *cacrt = xasprintf("%s/ca.crt", ca_dir);
	char *serve[] = {h->host_bin, "serve", "--db", h->conninfo, "--cert", cert, "--key", key, "--ca", cacrt,
			 "--listen", "127.0.0.1:0", "--threads", "2", "--faults", h->faults, NULL};
	int host_port = rc ? -1 : spawn_listening(h, serve, "host.log", &h->host_pid);
	if (!rc && host_port < 0)
		rc = kio_fail(err, KIO_ERR_IO, "host up: kiosk-host serve did not start (%s/host.log)", h->dir);
	char up[32];
	snprintf(up, sizeof(up), "127.0.0.1:%d", host_port);
	char *proxy[] = {h->proxy_bin, "--listen", "127.0.0.1:0", "--upstream", up, "--control", h->control, NULL};
	int proxy_port = rc ? -1 : spawn_listening(h, proxy, "proxy.log", &h->proxy_pid);
	if (!rc && proxy_port < 0)
		rc = kio_fail(err, KIO_ERR_IO, "host up: the fault proxy did not start (%s/proxy.log)", h->dir);
	if (!rc) {
		snprintf(cfg->host_url, sizeof(cfg->host_url), "https://127.0.0.1:%d", proxy_port);
		snprintf(cfg->host_ca, sizeof(cfg->host_ca), "%s/host-ca.crt", kiosk_dir);
		snprintf(cfg->host_cert, sizeof(cfg->host_cert), "%s/kiosk.crt", kiosk_dir);
		snprintf(cfg->host_key, sizeof(cfg->host_key), "%s/kiosk.key", kiosk_dir);
		LOG_INFO("the scenario's host: kiosk %s, %s (host on port %d), cluster in %s", h->kiosk_id, cfg->host_url,
			 host_port, h->dir);
	}
	free(cert);
	free(key);
	free(cacrt);
	free(ca_dir);
	free(kiosk_dir);
out:
	free(text);
	free(script);
	if (rc) {
		scn_host_stop(h);
		/* Only what this run installed: the check above refused an existing key. */
		if (rc != KIO_ERR_INVALID)
			unlink(secret);
	} else {
		*out = h;
	}
	free(secret);
	return rc;
}

static void end_child(pid_t *pid, int sig)
{
	if (*pid <= 0)
		return;
	if (sig)
		kill(*pid, sig);
	while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
		;
	*pid = 0;
}

void scn_host_stop(struct scn_host *h)
{
	if (!h)
		return;
	end_child(&h->proxy_pid, SIGTERM);
	end_child(&h->host_pid, SIGTERM);
	if (h->keeper_fd >= 0)
		close(h->keeper_fd);
	end_child(&h->keeper_pid, 0); /* it stops the cluster and removes the folder */
	free(h->dir);
	free(h->conninfo);
	free(h->kiosk_id);
	free(h->faults);
	free(h->control);
	free(h->host_bin);
	free(h->proxy_bin);
	free(h);
}

int scn_host_mode(struct scn_host *h, const char *mode, struct kio_error *err)
{
	char slow[48];
	/* The proxy holds every byte from the host longer than the kiosk waits for a whole answer. */
	snprintf(slow, sizeof(slow), "slow %d\n", h->timeout_ms + 2000);
	const char *proxy = strcmp(mode, "down") == 0 ? "down\n" : strcmp(mode, "slow") == 0 ? slow : "up\n";
	const char *fault = strcmp(mode, "error") == 0 ? "error\n"
			    : strcmp(mode, "cut-after-commit") == 0 ? "cut-after-commit\n"
								     : "none\n";
	if (!scn_host_mode_known(mode))
		return kio_fail(err, KIO_ERR_INVALID, "unknown host mode '%s' (up, down, slow, error, cut-after-commit)", mode);
	int rc = set_file(h->faults, fault, err);
	if (!rc)
		rc = set_file(h->control, proxy, err);
	/* The proxy looks at its file every 50 ms; the host at every request. */
	if (!rc)
		usleep(150 * 1000);
	return rc;
}

int scn_host_query(struct scn_host *h, const char *sql, char *value, size_t cap, struct kio_error *err)
{
	char *q[] = {h->host_bin, "query", "--db", h->conninfo, "--sql", (char *)sql, NULL};
	char *text = NULL;
	int rc = run_ok(h, q, &text, err);
	if (!rc) {
		text[strcspn(text, "\n")] = '\0';
		snprintf(value, cap, "%s", text);
	}
	free(text);
	return rc;
}

int scn_host_sql(struct scn_host *h, const char *sql, struct kio_error *err)
{
	/* psql from PATH (through env: run() execs a path): the host's own `query` is read-only,
	 * and this is the one write a scenario makes to the host's database. */
	char *q[] = {"/usr/bin/env", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", h->conninfo, "-c", (char *)sql, NULL};
	return run_ok(h, q, NULL, err);
}

/* Lines of text that begin with prefix (all when NULL), in order; caller frees each and the array. */
static char **lines_of(const char *text, const char *prefix, size_t *n)
{
	size_t cap = 16;
	char **v = xmalloc(cap * sizeof(*v));
	*n = 0;
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		if (len && (!prefix || strncmp(p, prefix, strlen(prefix)) == 0)) {
			if (*n == cap)
				v = xrealloc(v, (cap *= 2) * sizeof(*v));
			char *line = xmalloc(len + 1);
			memcpy(line, p, len);
			line[len] = '\0';
			v[(*n)++] = line;
		}
		p += len + (p[len] == '\n');
	}
	return v;
}

static void lines_free(char **v, size_t n)
{
	for (size_t k = 0; k < n; k++)
		free(v[k]);
	free(v);
}

int scn_host_check(struct scn_host *h, const char *db_path, struct kio_error *err)
{
	char *mine_text = NULL, *theirs_text = NULL;
	size_t mine_len = 0;
	FILE *f = open_memstream(&mine_text, &mine_len);
	if (!f)
		return kio_fail(err, KIO_ERR_NOMEM, "open_memstream");
	int rc = ledger_export_file(db_path, 0, f, err);
	fclose(f);
	char *dump[] = {h->host_bin, "dump", "--db", h->conninfo, "--kiosk", h->kiosk_id, NULL};
	if (!rc)
		rc = run_ok(h, dump, &theirs_text, err);
	/* A kiosk that pruned ([host] retention_days, kiosk/ledger/prune.h) exports from its chain
	 * base on; the host keeps every record, so its first `base` records are only counted. */
	char value[64], kiosk_value[64];
	enum ledger_query_kind kind;
	if (!rc)
		rc = ledger_query_text(db_path, "SELECT coalesce((SELECT rec FROM chain_base), 0)", kiosk_value,
				       sizeof(kiosk_value), &kind, err);
	size_t base = rc ? 0 : (size_t)strtoull(kiosk_value, NULL, 10);
	size_t nm = 0, nt = 0;
	char **mine = rc ? NULL : lines_of(mine_text, NULL, &nm);
	char **theirs = rc ? NULL : lines_of(theirs_text, "{\"rec\":", &nt);
	if (!rc && nt < base)
		rc = kio_fail(err, KIO_ERR_CORRUPT, "the kiosk pruned %zu records, the host holds only %zu of kiosk %s",
			      base, nt, h->kiosk_id);
	for (size_t k = 0; !rc && k < nm && base + k < nt; k++)
		if (strcmp(mine[k], theirs[base + k]) != 0)
			rc = kio_fail(err, KIO_ERR_CORRUPT, "record %zu differs: the kiosk has %.200s, the host %.200s",
				      base + k + 1, mine[k], theirs[base + k]);
	if (!rc && base + nm != nt)
		rc = kio_fail(err, KIO_ERR_CORRUPT,
			      "the kiosk has %zu records (and %zu pruned), the host %zu of kiosk %s (end with wait-synced)", nm,
			      base, nt, h->kiosk_id);
	if (!rc)
		rc = scn_host_query(h,
				    "SELECT count(*) FROM card c WHERE balance_fils != opening_fils + coalesce((SELECT"
				    " sum(amount_fils) FROM card_credit cc WHERE cc.card = c.card), 0)",
				    value, sizeof(value), err);
	if (!rc && strcmp(value, "0") != 0)
		rc = kio_fail(err, KIO_ERR_CORRUPT, "%s card balance(s) at the host differ from opening + credits", value);
	/* Top-ups the kiosk pruned are no longer there to count: only those after its base. */
	char *credits = xasprintf("SELECT count(*) FROM card_credit WHERE kiosk_id = '%s' AND tx_rec > %zu", h->kiosk_id,
				  base);
	if (!rc)
		rc = scn_host_query(h, credits, value, sizeof(value), err);
	if (!rc)
		rc = ledger_query_text(db_path,
				       "SELECT count(*) FROM tx_end e JOIN tx t ON t.rec = e.tx_rec WHERE t.kind = 'topup'"
				       " AND e.state = 'completed' AND e.credited_fils > 0",
				       kiosk_value, sizeof(kiosk_value), &kind, err);
	if (!rc && strcmp(value, kiosk_value) != 0)
		rc = kio_fail(err, KIO_ERR_CORRUPT, "the host credited %s top-up(s), the kiosk completed %s", value,
			      kiosk_value);
	free(credits);
	/* Fees payments the same way: every line the kiosk took the customer's money for, in an
	 * ended transaction (paid at the host, or offline / unconfirmed, which the host settles
	 * from the records: host/records.c H9), is a line the host holds paid, in number and in
	 * fils. A line the host refused at its settlement is money owed to the customer (fee_owed)
	 * and shows here as a difference. Only the transactions after the kiosk's pruned base. */
	char *fees_host = xasprintf(
		"SELECT count(*) || ' line(s), ' || coalesce(sum(l.amount_fils), 0) || ' fils'"
		" FROM fee_payment_line l JOIN fee_payment p ON p.tx_uuid = l.tx_uuid"
		" WHERE p.kiosk_id = '%s' AND l.status = 'paid' AND EXISTS (SELECT 1 FROM record t JOIN record e"
		"   ON e.kiosk_id = t.kiosk_id AND e.tx_rec = t.rec AND e.type = 'tx_end'"
		"   WHERE t.kiosk_id = p.kiosk_id AND t.type = 'tx' AND t.tx_uuid = p.tx_uuid AND t.rec > %zu)",
		h->kiosk_id, base);
	if (!rc)
		rc = scn_host_query(h, fees_host, value, sizeof(value), err);
	if (!rc)
		rc = ledger_query_text(db_path,
				       "SELECT count(*) || ' line(s), ' || coalesce(sum(i.amount_fils), 0) || ' fils'"
				       " FROM fee_item i JOIN fee_result r ON r.tx_rec = i.tx_rec AND r.n = i.n"
				       " JOIN tx_end e ON e.tx_rec = i.tx_rec"
				       " WHERE r.status IN ('paid', 'offline', 'unconfirmed')",
				       kiosk_value, sizeof(kiosk_value), &kind, err);
	if (!rc && strcmp(value, kiosk_value) != 0)
		rc = kio_fail(err, KIO_ERR_CORRUPT, "the host holds %s of fees paid, the kiosk took the money for %s", value,
			      kiosk_value);
	free(fees_host);
	lines_free(mine, nm);
	lines_free(theirs, nt);
	free(mine_text);
	free(theirs_text);
	return rc;
}
