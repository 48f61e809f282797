/*
 * What draining kiosk ledgers to the reference host costs end to end (README: Benchmarks;
 * docs/scaling.md): N kiosks, each with its own enrolment (certificate from the run's CA), its
 * own ledger of R records booked by the ledger's own API, and its own sync client, the drain of
 * `kiosk sync push` (kiosk/sync/drain.c over the libcurl transport, mutual TLS over loopback),
 * all draining at once into `kiosk-host serve` processes on one throwaway PostgreSQL cluster.
 * The floor, in the same run: the same rows put into the same (emptied) table by bare libpq
 * INSERT loops, one transaction per batch, over as many connections as the hosts had.
 * A pass counts only if, after it, the host holds exactly each kiosk's records (count, acked,
 * every record's MAC equal to the kiosk's, no alarm) and every card's balance change equals the
 * credits the kiosks' completed top-ups booked to it.
 * Besides records per second and the batch latency percentiles it measures where the time went:
 * the CPU of the host processes, of PostgreSQL (postmaster, backends, reaped children), of the
 * kiosks (this process) and of everything else on the machine (/proc), the states of the
 * host's database sessions sampled from pg_stat_activity, and per batch the exchange (TLS, HTTP,
 * the host) against the kiosk's own SQLite work.
 *
 * Usage: bench-sync [--kiosks N] [--records R] [--batch B] [--pass HxT[,HxT...]] [--timeout-ms MS]
 *                   [--cache DIR]
 *   N kiosks (1..200, default 1), R records each (4..1000000, default 100000), B records per
 *   POST (1..500, default 200, the kiosk's [host] batch), each pass H kiosk-host processes of T
 *   threads (--threads; default 1x4, kiosk-host's default), kiosk i talking to host i mod H.
 *   MS: the kiosk's host.timeout_ms (default 5000, the kiosk's own default); an exchange that
 *   fails is sent again after the drain's backoff, as the kiosk's worker does, and counted.
 *   A pass written HxTb runs KIOSK_HOST_BIN_B instead (another build of kiosk-host, to compare
 *   a change to the host in the same run).
 *   --cache keeps the built ledgers there for the next run with the same N and R.
 * Environment: KIOSK_SOURCE_DIR (the source tree: scripts/pg-throwaway.sh), KIOSK_HOST_BIN (the
 * kiosk-host binary). bench/sync.sh sets both. Exit 77 when no PostgreSQL server is installed.
 */
#define LOG_MODULE "bench-sync"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host/db.h"
#include "host/pki/pki.h"
#include "kiosk/core/log.h"
#include "kiosk/ledger/chain.h"
#include "kiosk/ledger/sync-state.h"
#include "kiosk/sync/drain.h"
#include "kiosk/sync/transport.h"
#include "tests/hostd/hostfix.h"

#define MAX_KIOSKS 200
/* Each kiosk tops up its own ten cards: a card is at one kiosk at a time, so the bench measures
 * no card-row lock waits a real fleet would not have. */
#define CARDS_PER_KIOSK 10
#define CARDS (MAX_KIOSKS * CARDS_PER_KIOSK)
#define MAX_HOSTS 8

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- the kiosks' ledgers: built once with the ledger's API, cached, copied per pass ---- */

static void card_number(int i, char out[17])
{
	/* 7841 0000 then the index, and a Luhn check digit, as a real card would have. */
	char body[16];
	snprintf(body, sizeof(body), "78410000%07d", i);
	int sum = 0;
	for (int k = 14, dbl = 1; k >= 0; k--, dbl = !dbl) {
		int d = body[k] - '0';
		if (dbl && (d *= 2) > 9)
			d -= 9;
		sum += d;
	}
	snprintf(out, 17, "%s%d", body, (10 - sum % 10) % 10);
}

/* Books top-ups until the ledger holds exactly `records` records: a top-up paid with n notes
 * is 3 + n records (tx, item, n payments, end); three notes each, the last one 1 to 6. */
static void build_ledger(const char *dir, int kiosk, int records)
{
	struct kfix k;
	kfix_open(&k, dir);
	static const int64_t values[] = {10000, 5000, 2000, 1000, 500, 20000};
	int left = records, j = 0;
	while (left > 0) {
		int n = left >= 10 ? 3 : left - 3;
		int64_t notes[7] = {0};
		for (int v = 0; v < n; v++)
			notes[v] = values[(j + v) % 6];
		char card[17];
		card_number(kiosk * CARDS_PER_KIOSK + j % CARDS_PER_KIOSK, card);
		kfix_topup(&k, card, notes);
		left -= 3 + n;
		j++;
	}
	kfix_close(&k);
}

static void copy_file(const char *from, const char *to)
{
	char *data;
	gsize len;
	GError *gerr = NULL;
	if (!g_file_get_contents(from, &data, &len, &gerr))
		g_error("%s", gerr->message);
	int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd) != 0)
		g_error("cannot write %s: %s", to, g_strerror(errno));
	g_free(data);
}

/* dir/kNNN/ledger{,.secret,-wal} -> to/kNNN/ (the -wal only when there is one). */
static void copy_ledgers(const char *from, const char *to, int kiosks)
{
	static const char *const files[] = {"ledger", "ledger.secret", "ledger-wal"};
	for (int i = 0; i < kiosks; i++) {
		char name[16];
		snprintf(name, sizeof(name), "k%03d", i);
		char *fd = g_build_filename(from, name, NULL), *td = g_build_filename(to, name, NULL);
		if (g_mkdir_with_parents(td, 0700) != 0)
			g_error("cannot make %s", td);
		for (size_t f = 0; f < G_N_ELEMENTS(files); f++) {
			char *a = g_build_filename(fd, files[f], NULL), *b = g_build_filename(td, files[f], NULL);
			g_unlink(b);
			if (g_file_test(a, G_FILE_TEST_EXISTS))
				copy_file(a, b);
			g_free(a);
			g_free(b);
		}
		g_free(fd);
		g_free(td);
	}
}

struct builder {
	const char *dir;
	int first, step, kiosks, records;
};

static void *build_some(void *arg)
{
	struct builder *b = arg;
	for (int i = b->first; i < b->kiosks; i += b->step) {
		char name[16];
		snprintf(name, sizeof(name), "k%03d", i);
		char *d = g_build_filename(b->dir, name, NULL);
		g_mkdir(d, 0700);
		build_ledger(d, i, b->records);
		g_free(d);
	}
	return NULL;
}

/* The pristine ledgers in a folder: from the cache when it has this N x R, else built (on
 * tmpfs when there is one: the ledger's fsyncs cost nothing there, and the records are the
 * same) and put into the cache. Returns the folder (g_free); *built_s the build time (0: cached). */
static char *pristine_ledgers(const char *cache, int kiosks, int records, double *built_s)
{
	*built_s = 0;
	/* v2: the cards of the ledgers changed (ten per kiosk); older caches are not reused. */
	char *key = g_strdup_printf("sync-v2-%dx%d", kiosks, records);
	char *cached = cache ? g_build_filename(cache, key, NULL) : NULL;
	char *marker = cached ? g_build_filename(cached, "complete", NULL) : NULL;
	g_free(key);
	if (marker && g_file_test(marker, G_FILE_TEST_EXISTS)) {
		g_free(marker);
		return cached;
	}
	char *tmp = g_build_filename(g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm" : g_get_tmp_dir(),
				     "kiosk-bench-XXXXXX", NULL);
	if (!g_mkdtemp(tmp))
		g_error("cannot make %s", tmp);
	double t0 = now_s();
	/* Two builders: the machine's two cores; each ledger is its own database. */
	struct builder b[2] = {{tmp, 0, 2, kiosks, records}, {tmp, 1, 2, kiosks, records}};
	pthread_t th[2];
	for (int t = 0; t < 2; t++)
		pthread_create(&th[t], NULL, build_some, &b[t]);
	for (int t = 0; t < 2; t++)
		pthread_join(th[t], NULL);
	*built_s = now_s() - t0;
	if (!cached) {
		g_free(marker);
		return tmp; /* removed with the run */
	}
	copy_ledgers(tmp, cached, kiosks);
	char *rm = g_strdup_printf("rm -rf '%s'", tmp);
	if (system(rm) != 0)
		g_printerr("bench-sync: could not remove %s\n", tmp);
	g_free(rm);
	g_free(tmp);
	if (!g_file_set_contents(marker, "", 0, NULL))
		g_error("cannot write %s", marker);
	g_free(marker);
	return cached;
}

/* ---- what a kiosk's ledger says the host must hold ---- */

struct expect {
	int64_t last_rec;
	char (*mac)[65]; /* [rec - 1] */
};
static int64_t card_credit[CARDS]; /* sum over every kiosk, fils */
static int64_t completed_topups;

static int card_index(const char *card)
{
	char c[17];
	int i = atoi(card + 8) / 10;
	card_number(i, c);
	if (i < 0 || i >= CARDS || strcmp(c, card) != 0)
		g_error("card %s is none of the bench's", card);
	return i;
}

/* From the ledger's export (read-only: the pristine ledger stays as it is). */
static void expect_read(const char *ledger, struct expect *e)
{
	struct kfix k = {.path = (char *)ledger};
	GPtrArray *lines = kfix_export(&k, 0);
	e->last_rec = lines->len;
	e->mac = g_malloc0(sizeof(*e->mac) * lines->len);
	GHashTable *card_of = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	JsonParser *p = json_parser_new();
	for (guint i = 0; i < lines->len; i++) {
		GError *gerr = NULL;
		if (!json_parser_load_from_data(p, lines->pdata[i], -1, &gerr))
			g_error("export line %u: %s", i, gerr->message);
		JsonObject *o = json_node_get_object(json_parser_get_root(p));
		if (json_object_get_int_member(o, "rec") != (gint64)i + 1)
			g_error("export line %u is not record %u", i, i + 1);
		g_strlcpy(e->mac[i], json_object_get_string_member(o, "mac"), 65);
		const char *type = json_object_get_string_member(o, "type");
		if (strcmp(type, "tx_item") == 0) {
			gint64 *tx = g_new(gint64, 1);
			*tx = json_object_get_int_member(o, "tx_rec");
			g_hash_table_insert(card_of, tx,
					    GINT_TO_POINTER(card_index(json_object_get_string_member(o, "card")) + 1));
		} else if (strcmp(type, "tx_end") == 0 &&
			   strcmp(json_object_get_string_member(o, "state"), "completed") == 0) {
			gint64 tx = json_object_get_int_member(o, "tx_rec");
			int c = GPOINTER_TO_INT(g_hash_table_lookup(card_of, &tx));
			if (!c)
				g_error("tx_end of tx %" G_GINT64_FORMAT " without its item", tx);
			card_credit[c - 1] += json_object_get_int_member(o, "credited_fils");
			completed_topups++;
		}
	}
	g_object_unref(p);
	g_hash_table_unref(card_of);
	g_ptr_array_unref(lines);
}

/* Aborts unless the host holds exactly what the kiosks hold (the figure counts only then). */
static void verify(PGconn *c, const char *run_dir, int kiosks, const struct expect *ex)
{
	struct kio_error err;
	for (int i = 0; i < kiosks; i++) {
		char id[16], name[16];
		snprintf(id, sizeof(id), "K%03d", i);
		snprintf(name, sizeof(name), "k%03d", i);
		const char *p[] = {id};
		PGresult *r;
		if (hdb_query(c, "SELECT rec, encode(mac, 'hex') FROM record WHERE kiosk_id = $1 ORDER BY rec", 1, p, &r,
			      NULL, "read back", &err))
			g_error("%s", err.msg);
		if (PQntuples(r) != ex[i].last_rec)
			g_error("kiosk %s: the host holds %d records, the kiosk %" PRId64, id, PQntuples(r), ex[i].last_rec);
		for (int row = 0; row < PQntuples(r); row++)
			if (hdb_int(r, row, 0) != row + 1 || strcmp(PQgetvalue(r, row, 1), ex[i].mac[row]) != 0)
				g_error("kiosk %s: record %d differs at the host", id, row + 1);
		PQclear(r);
		if (hdb_query(c, "SELECT acked_rec FROM kiosk_sync WHERE kiosk_id = $1", 1, p, &r, NULL, "acked", &err))
			g_error("%s", err.msg);
		if (PQntuples(r) != 1 || hdb_int(r, 0, 0) != ex[i].last_rec)
			g_error("kiosk %s: the host acknowledged %s", id, PQntuples(r) ? PQgetvalue(r, 0, 0) : "nothing");
		PQclear(r);
		/* The kiosk's side: it stored the acknowledgement of every record. */
		char *dir = g_build_filename(run_dir, name, "ledger", NULL);
		struct ledger_sync *ls;
		struct ledger_sync_status st;
		if (ledger_sync_open(dir, false, &ls, &err) || ledger_sync_status_read(ls, &st, &err))
			g_error("%s", err.msg);
		ledger_sync_close(ls);
		if (st.acked_rec != ex[i].last_rec || st.queue_depth != 0)
			g_error("kiosk %s: its ledger says acked %" PRId64 ", queue %" PRId64, id, st.acked_rec, st.queue_depth);
		g_free(dir);
	}
	for (int k = 0; k < kiosks * CARDS_PER_KIOSK; k++) {
		char card[17];
		card_number(k, card);
		const char *p[] = {card};
		PGresult *r;
		if (hdb_query(c, "SELECT balance_fils - opening_fils FROM card WHERE card = $1", 1, p, &r, NULL, "card",
			      &err))
			g_error("%s", err.msg);
		if (PQntuples(r) != 1 || hdb_int(r, 0, 0) != card_credit[k])
			g_error("card %s: the host credited %s, the kiosks booked %" PRId64, card,
				PQntuples(r) ? PQgetvalue(r, 0, 0) : "(no card)", card_credit[k]);
		PQclear(r);
	}
	if (hostfix_int(c, "SELECT count(*) FROM card_credit") != completed_topups)
		g_error("the host holds another number of credits than the %" PRId64 " top-ups", completed_topups);
	if (hostfix_int(c, "SELECT count(*) FROM alarm") != 0)
		g_error("the host raised alarms during the pass");
	hostfix_assert_balances(c);
}

/* The host's side back to before any sync: no record, no credit, every card at its opening. */
static void reset_host(PGconn *c)
{
	hostfix_exec(c, "TRUNCATE card_credit, record, alarm, heartbeat;"
			"UPDATE kiosk_sync SET acked_rec = 0, last_mac = DEFAULT, updated_at = NULL;"
			"UPDATE card SET balance_fils = opening_fils");
}

/* ---- CPU accounting from /proc ---- */

static int64_t proc_ticks(pid_t pid, bool with_children)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *s = strrchr(buf, ')'); /* the command name may hold spaces */
	if (!s)
		return 0;
	/* After ")": state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17). */
	long long v[18] = {0};
	int field = 3;
	for (char *tok = strtok(s + 2, " "); tok && field <= 17; tok = strtok(NULL, " "), field++)
		v[field] = atoll(tok);
	return v[14] + v[15] + (with_children ? v[16] + v[17] : 0);
}

static pid_t proc_ppid(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *s = strrchr(buf, ')');
	int ppid = 0;
	char state;
	if (!s || sscanf(s + 2, "%c %d", &state, &ppid) != 2)
		return 0;
	return ppid;
}

/* PostgreSQL's CPU: the postmaster with its reaped children, and every live child. */
static int64_t postgres_ticks(pid_t postmaster)
{
	int64_t t = proc_ticks(postmaster, true);
	GDir *d = g_dir_open("/proc", 0, NULL);
	const char *name;
	while (d && (name = g_dir_read_name(d)))
		if (g_ascii_isdigit(name[0]) && proc_ppid(atoi(name)) == postmaster)
			t += proc_ticks(atoi(name), false);
	if (d)
		g_dir_close(d);
	return t;
}

/* Busy ticks of the whole machine (every CPU: all but idle and iowait), and their count. */
static int64_t machine_ticks(int *cpus)
{
	FILE *f = fopen("/proc/stat", "r");
	char line[512];
	int64_t busy = 0;
	*cpus = 0;
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "cpu ", 4) == 0) {
			long long u, ni, sy, id, io, irq, sirq, st;
			if (sscanf(line + 4, "%lld %lld %lld %lld %lld %lld %lld %lld", &u, &ni, &sy, &id, &io, &irq, &sirq,
				   &st) == 8)
				busy = u + ni + sy + irq + sirq + st;
		} else if (strncmp(line, "cpu", 3) == 0) {
			(*cpus)++;
		}
	}
	if (f)
		fclose(f);
	return busy;
}

static int64_t self_ticks(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
		   ru.ru_stime.tv_usec / 1e6;
	return (int64_t)(s * (double)sysconf(_SC_CLK_TCK));
}

/* ---- the hosts ---- */

struct host_proc {
	GPid pid;
	char url[160];
};

static int log_fd = -1;
static void host_child_setup(gpointer unused)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM); /* dies with the bench, even by an abort */
	if (log_fd >= 0)
		dup2(log_fd, 2);
}

static void host_start(struct host_proc *h, const char *bin, const char *conninfo, const char *ca_dir, int threads,
		       const char *log)
{
	char *cert = g_build_filename(ca_dir, "host.crt", NULL), *key = g_build_filename(ca_dir, "host.key", NULL),
	     *ca = g_build_filename(ca_dir, "ca.crt", NULL), *t = g_strdup_printf("%d", threads);
	char *argv[] = {(char *)bin, "serve", "--db", (char *)conninfo, "--cert", cert, "--key", key, "--ca", ca,
			"--listen", "127.0.0.1:0", "--threads", t, NULL};
	log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	int out_fd;
	GError *gerr = NULL;
	if (!g_spawn_async_with_pipes(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, host_child_setup, NULL, &h->pid, NULL,
				      &out_fd, NULL, &gerr))
		g_error("kiosk-host serve: %s", gerr->message);
	close(log_fd);
	log_fd = -1;
	char line[128] = "";
	size_t n = 0;
	while (n < sizeof(line) - 1) {
		if (read(out_fd, line + n, 1) <= 0)
			g_error("kiosk-host serve ended before listening (see %s)", log);
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	close(out_fd);
	if (!g_str_has_prefix(line, "listening on "))
		g_error("kiosk-host serve said '%s'", line);
	snprintf(h->url, sizeof(h->url), "https://%s", line + 13);
	g_free(cert);
	g_free(key);
	g_free(ca);
	g_free(t);
}

static void host_stop(struct host_proc *h)
{
	kill(h->pid, SIGTERM);
	int status;
	if (waitpid(h->pid, &status, 0) != h->pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		g_error("kiosk-host serve did not stop cleanly");
	g_spawn_close_pid(h->pid);
}

/* ---- the kiosks' sync clients ---- */

/* The real transport, timed: how long each exchange (TLS, HTTP, the host's work) took. */
struct timed_transport {
	struct sync_transport base;
	struct sync_transport *inner;
	double last_s;
};

static int timed_exchange(struct sync_transport *base, const struct sync_request *req, struct sync_response *resp,
			  struct kio_error *err)
{
	struct timed_transport *t = (struct timed_transport *)base;
	double t0 = now_s();
	int rc = t->inner->exchange(t->inner, req, resp, err);
	t->last_s = now_s() - t0;
	return rc;
}

static void timed_free(struct sync_transport *base)
{
	struct timed_transport *t = (struct timed_transport *)base;
	t->inner->free(t->inner);
	g_free(t);
}

struct kiosk_run {
	int index;
	char db[512], cert[512], key[512], ca[512];
	const char *url;
	int batch;
	pthread_barrier_t *start;
	/* results */
	double *batch_s, *exchange_s; /* per batch sent */
	int batches, cap;
	int64_t records, duplicates;
	int failures;  /* exchanges that ended in a backoff (timeout, refused connection, 5xx) */
	int timeouts;  /* of which: no answer within the timeout */
	int timeout_ms;
	double done_at;
	char failed[300];
};

static void *kiosk_main(void *arg)
{
	struct kiosk_run *k = arg;
	struct kio_error err = {0};
	struct sync_tls tls = {k->url, k->ca, k->cert, k->key, k->timeout_ms};
	struct sync_transport *inner;
	struct ledger_sync *ls = NULL;
	if (sync_transport_curl_new(&tls, &inner, &err) || ledger_sync_open(k->db, true, &ls, &err)) {
		snprintf(k->failed, sizeof(k->failed), "%s", err.msg);
		pthread_barrier_wait(k->start);
		return NULL;
	}
	struct timed_transport *t = g_new0(struct timed_transport, 1);
	t->base.exchange = timed_exchange;
	t->base.free = timed_free;
	t->inner = inner;
	struct sync_drain_config dc = {k->batch, 500, 60000};
	struct sync_drain *d = sync_drain_new(ls, &t->base, &dc);
	pthread_barrier_wait(k->start);
	for (;;) {
		struct sync_drain_outcome o;
		double t0 = now_s();
		if (sync_drain_once(d, &o, &err)) {
			snprintf(k->failed, sizeof(k->failed), "%s", err.msg);
			break;
		}
		double took = now_s() - t0;
		if (o.result == SYNC_DRAIN_IDLE)
			break;
		if (o.result == SYNC_DRAIN_BACKOFF && k->failures < 10000) {
			/* What the kiosk's worker does: wait the drain's backoff (jittered, capped) and send
			 * again; a batch the host committed but could not answer in time comes back as
			 * duplicates, which the verification after the pass counts on being harmless. */
			k->failures++;
			if (strstr(o.why, "no answer within"))
				k->timeouts++;
			g_usleep((gulong)o.delay_ms * 1000);
			continue;
		}
		if (o.result != SYNC_DRAIN_PROGRESS) {
			/* A fault or a gap under load is a finding, not noise: the pass does not count. */
			snprintf(k->failed, sizeof(k->failed), "%s: %s", sync_drain_result_name(o.result), o.why);
			break;
		}
		if (k->batches == k->cap) {
			k->cap = k->cap ? 2 * k->cap : 64;
			k->batch_s = g_renew(double, k->batch_s, k->cap);
			k->exchange_s = g_renew(double, k->exchange_s, k->cap);
		}
		k->batch_s[k->batches] = took;
		k->exchange_s[k->batches++] = t->last_s;
		k->records += o.sent - o.duplicates;
		k->duplicates += o.duplicates;
	}
	k->done_at = now_s();
	sync_drain_free(d);
	ledger_sync_close(ls);
	t->base.free(&t->base);
	return NULL;
}

/* ---- pg_stat_activity, sampled while the kiosks drain ---- */

struct sampler {
	PGconn *c;
	pid_t backend; /* its own backend, whose CPU is not the host's load */
	volatile int stop;
	GHashTable *counts; /* "state wait" -> samples */
	int samples;
	int64_t busy_sessions; /* sessions not idle, summed over samples */
};

static void *sampler_main(void *arg)
{
	struct sampler *s = arg;
	PGconn *c = s->c;
	while (!s->stop) {
		PGresult *r;
		struct kio_error err;
		if (hdb_query(c,
			      "SELECT state || CASE WHEN state = 'active' THEN ' ' || coalesce(wait_event_type || ':' ||"
			      " wait_event, 'on CPU') ELSE '' END, count(*) FROM pg_stat_activity"
			      " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
			      " AND datname = current_database() GROUP BY 1",
			      0, NULL, &r, NULL, "sample", &err) == 0) {
			s->samples++;
			for (int i = 0; i < PQntuples(r); i++) {
				const char *what = PQgetvalue(r, i, 0);
				int64_t n = hdb_int(r, i, 1);
				gpointer old = g_hash_table_lookup(s->counts, what);
				g_hash_table_insert(s->counts, g_strdup(what), GINT_TO_POINTER(GPOINTER_TO_INT(old) + (int)n));
				if (strcmp(what, "idle") != 0)
					s->busy_sessions += n;
			}
			PQclear(r);
		}
		g_usleep(10000);
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(const double *sorted, int n, double p)
{
	if (n == 0)
		return 0;
	int i = (int)((p / 100.0) * (n - 1) + 0.5);
	return sorted[i];
}

/* ---- the floor ---- */

struct floor_job {
	const char *conninfo;
	PGresult *rows;
	int batch;
	int from, step, kiosks; /* this worker's kiosks: from, from + step, ... */
	int64_t inserted;
};

/* rows: kiosk_id, rec, type, tx_uuid, seq, tx_rec, body, mac (hex), ordered by kiosk, rec. */
static void *floor_main(void *arg)
{
	struct floor_job *f = arg;
	PGconn *c = hostfix_connect(f->conninfo);
	struct kio_error err;
	int n = PQntuples(f->rows);
	for (int r = 0; r < n;) {
		int kiosk = atoi(PQgetvalue(f->rows, r, 0) + 1);
		int end = r;
		while (end < n && strcmp(PQgetvalue(f->rows, end, 0), PQgetvalue(f->rows, r, 0)) == 0)
			end++;
		if (kiosk % f->step != f->from) {
			r = end;
			continue;
		}
		for (int i = r; i < end; i++) {
			if ((i - r) % f->batch == 0)
				hostfix_exec(c, "BEGIN");
			const char *p[8];
			for (int col = 0; col < 8; col++)
				p[col] = PQgetisnull(f->rows, i, col) ? NULL : PQgetvalue(f->rows, i, col);
			if (hdb_query(c,
				      "INSERT INTO record (kiosk_id, rec, type, tx_uuid, seq, tx_rec, body, mac)"
				      " VALUES ($1, $2::bigint, $3, $4::uuid, $5::bigint, $6::bigint, $7::jsonb, decode($8, 'hex'))",
				      8, p, NULL, NULL, "floor insert", &err))
				g_error("%s", err.msg);
			if ((i - r) % f->batch == f->batch - 1 || i == end - 1)
				hostfix_exec(c, "COMMIT");
			f->inserted++;
		}
		r = end;
	}
	PQfinish(c);
	return NULL;
}

/* Reads the pass's records back, empties the table and puts them in again by bare INSERTs on
 * `conns` connections at once. Returns the wall time of the inserts. */
static double run_floor(PGconn *c, const char *conninfo, int conns, int batch, int64_t expected, pid_t postmaster,
			double *pg_cpu)
{
	PGresult *rows;
	struct kio_error err;
	if (hdb_query(c,
		      "SELECT kiosk_id, rec::text, type, tx_uuid::text, seq::text, tx_rec::text, body::text,"
		      " encode(mac, 'hex') FROM record ORDER BY kiosk_id, rec",
		      0, NULL, &rows, NULL, "read back", &err))
		g_error("%s", err.msg);
	reset_host(c);
	hostfix_exec(c, "VACUUM ANALYZE record");
	struct floor_job jobs[64];
	pthread_t th[64];
	if (conns > 64)
		conns = 64;
	int64_t pg0 = postgres_ticks(postmaster);
	double t0 = now_s();
	for (int j = 0; j < conns; j++) {
		jobs[j] = (struct floor_job){conninfo, rows, batch, j, conns, 0, 0};
		pthread_create(&th[j], NULL, floor_main, &jobs[j]);
	}
	int64_t total = 0;
	for (int j = 0; j < conns; j++) {
		pthread_join(th[j], NULL);
		total += jobs[j].inserted;
	}
	double took = now_s() - t0;
	*pg_cpu = (double)(postgres_ticks(postmaster) - pg0) / (double)sysconf(_SC_CLK_TCK);
	PQclear(rows);
	if (total != expected || hostfix_int(c, "SELECT count(*) FROM record") != expected)
		g_error("the floor inserted %" PRId64 " records, not %" PRId64, total, expected);
	return took;
}

/* ---- one pass: H hosts of T threads, every kiosk draining at once ---- */

struct pass_result {
	double wall_s, rate, p50, p99, max, ex_share, floor_s, floor_rate;
	int batches;
};

static gint by_count_desc(gconstpointer a, gconstpointer b, gpointer table)
{
	int x = GPOINTER_TO_INT(g_hash_table_lookup(table, a)), y = GPOINTER_TO_INT(g_hash_table_lookup(table, b));
	return y - x;
}

static void run_pass(const char *dir, const char *pristine, const char *conninfo, const char *host_bin, int kiosks,
		     int batch, int timeout_ms, int hosts, int threads, const struct expect *ex, PGconn *c, pid_t postmaster,
		     struct pass_result *out)
{
	char *run_dir = g_build_filename(dir, "run", NULL);
	char *rm = g_strdup_printf("rm -rf '%s'", run_dir);
	if (system(rm) != 0)
		g_error("cannot clear %s", run_dir);
	g_free(rm);
	copy_ledgers(pristine, run_dir, kiosks);
	reset_host(c);
	hostfix_exec(c, "VACUUM ANALYZE");
	char *ca_dir = g_build_filename(dir, "ca", NULL), *log = g_build_filename(dir, "host.log", NULL);
	struct host_proc hp[MAX_HOSTS];
	for (int h = 0; h < hosts; h++)
		host_start(&hp[h], host_bin, conninfo, ca_dir, threads, log);

	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, (unsigned)kiosks + 1);
	struct kiosk_run *k = g_new0(struct kiosk_run, kiosks);
	pthread_t *th = g_new(pthread_t, kiosks);
	for (int i = 0; i < kiosks; i++) {
		char name[16];
		snprintf(name, sizeof(name), "k%03d", i);
		k[i].index = i;
		snprintf(k[i].db, sizeof(k[i].db), "%s/%s/ledger", run_dir, name);
		snprintf(k[i].cert, sizeof(k[i].cert), "%s/enrol/%s/kiosk.crt", dir, name);
		snprintf(k[i].key, sizeof(k[i].key), "%s/enrol/%s/kiosk.key", dir, name);
		snprintf(k[i].ca, sizeof(k[i].ca), "%s/enrol/%s/host-ca.crt", dir, name);
		k[i].url = hp[i % hosts].url;
		k[i].batch = batch;
		k[i].timeout_ms = timeout_ms;
		k[i].start = &start;
		/* Small stacks: a hundred threads of 8 MiB each is memory for nothing. */
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 1 << 20);
		if (pthread_create(&th[i], &attr, kiosk_main, &k[i]) != 0)
			g_error("cannot start kiosk thread %d", i);
		pthread_attr_destroy(&attr);
	}
	struct sampler smp = {hostfix_connect(conninfo), 0, 0, g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
			      0, 0};
	smp.backend = (pid_t)PQbackendPID(smp.c);
	pthread_t sampler_th;
	pthread_create(&sampler_th, NULL, sampler_main, &smp);

	int cpus;
	int64_t host0 = 0, pg0 = postgres_ticks(postmaster) - proc_ticks(smp.backend, false), self0 = self_ticks(), mach0 = machine_ticks(&cpus);
	for (int h = 0; h < hosts; h++)
		host0 += proc_ticks(hp[h].pid, false);
	pthread_barrier_wait(&start);
	double t0 = now_s();
	for (int i = 0; i < kiosks; i++)
		pthread_join(th[i], NULL);
	double wall = now_s() - t0;
	int64_t host1 = 0, pg1 = postgres_ticks(postmaster) - proc_ticks(smp.backend, false), self1 = self_ticks(), mach1 = machine_ticks(&cpus);
	for (int h = 0; h < hosts; h++)
		host1 += proc_ticks(hp[h].pid, false);
	smp.stop = 1;
	pthread_join(sampler_th, NULL);
	int64_t sampler_ticks = proc_ticks(smp.backend, false);
	PQfinish(smp.c);
	for (int h = 0; h < hosts; h++)
		host_stop(&hp[h]);
	pthread_barrier_destroy(&start);

	int64_t records = 0, duplicates = 0;
	int batches = 0, failures = 0, timeouts = 0;
	double *done = g_new(double, kiosks);
	for (int i = 0; i < kiosks; i++) {
		if (k[i].failed[0])
			g_error("kiosk K%03d: %s", i, k[i].failed);
		/* Every record counts once, whatever its exchange: one whose answer was lost was sent
		 * again and acknowledged as a duplicate (verify() proves the host holds each once). */
		records += ex[i].last_rec;
		duplicates += k[i].duplicates;
		batches += k[i].batches;
		failures += k[i].failures;
		timeouts += k[i].timeouts;
		done[i] = k[i].done_at - t0;
	}
	qsort(done, (size_t)kiosks, sizeof(double), cmp_double);
	verify(c, run_dir, kiosks, ex);

	double *lat = g_new(double, batches), sum_batch = 0, sum_ex = 0;
	int n = 0;
	for (int i = 0; i < kiosks; i++)
		for (int b = 0; b < k[i].batches; b++) {
			lat[n++] = k[i].batch_s[b];
			sum_batch += k[i].batch_s[b];
			sum_ex += k[i].exchange_s[b];
		}
	qsort(lat, (size_t)n, sizeof(double), cmp_double);
	out->wall_s = wall;
	out->rate = (double)records / wall;
	out->batches = batches;
	out->p50 = pct(lat, n, 50);
	out->p99 = pct(lat, n, 99);
	out->max = n ? lat[n - 1] : 0;
	out->ex_share = sum_batch > 0 ? sum_ex / sum_batch : 0;
	g_free(lat);

	double tck = (double)sysconf(_SC_CLK_TCK);
	double host_cpu = (double)(host1 - host0) / tck, pg_cpu = (double)(pg1 - pg0) / tck,
	       self_cpu = (double)(self1 - self0) / tck, mach_cpu = (double)(mach1 - mach0) / tck;
	double other = mach_cpu - host_cpu - pg_cpu - self_cpu;
	printf("pass %dx%d: %" PRId64 " records from %d kiosks in %.2f s: %.0f records/s\n", hosts, threads, records,
	       kiosks, wall, out->rate);
	printf("  each kiosk drained in: p50 %.1f s, p99 %.1f s, last %.1f s; exchanges that failed and were sent again after"
	       " the backoff: %d (%d of them no answer within the kiosk's %d ms); records the host acknowledged again as"
	       " duplicates: %" PRId64 "\n",
	       pct(done, kiosks, 50), pct(done, kiosks, 99), done[kiosks - 1], failures, timeouts, timeout_ms, duplicates);
	g_free(done);
	printf("  batches of %d: %d, latency p50 %.1f ms, p99 %.1f ms, max %.1f ms; the exchange (TLS, HTTP, host)"
	       " is %.0f%% of a batch's time, the kiosk's SQLite read and ack the rest\n",
	       batch, batches, out->p50 * 1e3, out->p99 * 1e3, out->max * 1e3, out->ex_share * 100);
	printf("  CPU over the pass (s, and share of the machine's %d CPUs x %.2f s = %.2f s): kiosk-host %.2f (%.0f%%),"
	       " postgres %.2f (%.0f%%), kiosks (this process) %.2f (%.0f%%), others on the machine %.2f (%.0f%%),"
	       " idle %.0f%%\n",
	       cpus, wall, cpus * wall, host_cpu, 100 * host_cpu / (cpus * wall), pg_cpu, 100 * pg_cpu / (cpus * wall),
	       self_cpu, 100 * self_cpu / (cpus * wall), other, 100 * other / (cpus * wall),
	       100 * (1 - mach_cpu / (cpus * wall)));
	printf("  (the pg_stat_activity sampler's own backend, %.2f s over the whole pass, is under others)\n",
	       (double)sampler_ticks / tck);
	printf("  per record: kiosk-host %.0f us, postgres %.0f us, kiosk %.0f us of CPU\n", 1e6 * host_cpu / records,
	       1e6 * pg_cpu / records, 1e6 * self_cpu / records);
	/* What the host's database sessions were doing: active on CPU or waiting (Lock: a row or
	 * transaction lock, e.g. kiosk_sync FOR UPDATE; LWLock, IO), or idle in a transaction
	 * (waiting for kiosk-host's next statement: the host's own time and the round trip). */
	GList *keys = g_list_sort_with_data(g_hash_table_get_keys(smp.counts), by_count_desc, smp.counts);
	printf("  database sessions (pg_stat_activity, %d samples, %.1f busy on average of %d pooled):", smp.samples,
	       smp.samples ? (double)smp.busy_sessions / smp.samples : 0, hosts * threads);
	int shown = 0;
	for (GList *l = keys; l && shown < 8; l = l->next, shown++) {
		int cnt = GPOINTER_TO_INT(g_hash_table_lookup(smp.counts, l->data));
		printf("%s %s %.2f", shown ? "," : "", (char *)l->data, smp.samples ? (double)cnt / smp.samples : 0);
	}
	printf("\n");
	g_list_free(keys);
	g_hash_table_unref(smp.counts);

	/* What a record costs to keep (docs/scaling.md): the table, its TOAST and its indexes. */
	printf("  storage: record %.0f bytes per record with its indexes, card_credit %.0f bytes per top-up\n",
	       (double)hostfix_int(c, "SELECT pg_total_relation_size('record')") / records,
	       (double)hostfix_int(c, "SELECT pg_total_relation_size('card_credit')") / completed_topups);
	fflush(stdout);
	/* The floor on as many connections as the hosts had (one per kiosk at most). */
	int conns = hosts * threads < kiosks ? hosts * threads : kiosks;
	double floor_pg;
	out->floor_s = run_floor(c, conninfo, conns, batch, records, postmaster, &floor_pg);
	out->floor_rate = (double)records / out->floor_s;
	printf("  floor: the same %" PRId64 " records by bare INSERT loops on %d connection%s, %d per transaction:"
	       " %.2f s, %.0f records/s; sync / floor time %.1fx; postgres CPU %.0f us per record, the sync's %.1fx\n",
	       records, conns, conns > 1 ? "s" : "", batch, out->floor_s, out->floor_rate, wall / out->floor_s,
	       1e6 * floor_pg / records, pg_cpu / floor_pg);
	fflush(stdout);

	for (int i = 0; i < kiosks; i++) {
		g_free(k[i].batch_s);
		g_free(k[i].exchange_s);
	}
	g_free(k);
	g_free(th);
	g_free(ca_dir);
	g_free(log);
	g_free(run_dir);
}

/* ---- set-up: the cluster, the CA, the cards, each kiosk enrolled with its ledger's key ---- */

static void enrol_all(PGconn *c, const char *dir, const char *pristine, int kiosks)
{
	struct kio_error err;
	char *ca_dir = g_build_filename(dir, "ca", NULL);
	if (pki_ca_init(ca_dir, "localhost", "127.0.0.1", &err))
		g_error("ca init: %s", err.msg);
	for (int i = 0; i < kiosks; i++) {
		char id[16], name[16];
		snprintf(id, sizeof(id), "K%03d", i);
		snprintf(name, sizeof(name), "k%03d", i);
		char *out = g_build_filename(dir, "enrol", name, NULL);
		struct pki_enrolment e;
		if (pki_enrol(ca_dir, id, out, &e, &err))
			g_error("enrol %s: %s", id, err.msg);
		/* The host verifies the chain with the key the ledger was built with (the cached
		 * ledger's own secret): kiosk-host enrol's SQL, with that key instead of a fresh one. */
		char *ledger = g_build_filename(pristine, name, "ledger", NULL);
		uint8_t key[LEDGER_KEY_BYTES];
		if (ledger_secret_read(ledger, false, key, &err))
			g_error("%s", err.msg);
		char hex[2 * LEDGER_KEY_BYTES + 1];
		for (int b = 0; b < LEDGER_KEY_BYTES; b++)
			snprintf(hex + 2 * b, 3, "%02x", key[b]);
		const char *pk[] = {id, hex}, *pc[] = {e.fingerprint, id};
		if (hdb_query(c, "INSERT INTO kiosk (kiosk_id, chain_key) VALUES ($1, decode($2, 'hex'))", 2, pk, NULL, NULL,
			      "register", &err) ||
		    hdb_query(c, "INSERT INTO kiosk_cert (fingerprint, kiosk_id) VALUES ($1, $2)", 2, pc, NULL, NULL,
			      "certificate", &err) ||
		    hdb_query(c, "INSERT INTO kiosk_sync (kiosk_id) VALUES ($1)", 1, pk, NULL, NULL, "sync row", &err))
			g_error("%s", err.msg);
		g_free(ledger);
		g_free(out);
	}
	for (int k = 0; k < kiosks * CARDS_PER_KIOSK; k++) {
		char card[17];
		card_number(k, card);
		const char *p[] = {card};
		if (hdb_query(c, "INSERT INTO card (card, status, opening_fils, balance_fils) VALUES ($1, 'active', 2500, 2500)",
			      1, p, NULL, NULL, "card", &err))
			g_error("%s", err.msg);
	}
	g_free(ca_dir);
}

static pid_t postmaster_pid(const char *dir)
{
	char *path = g_build_filename(dir, "data", "postmaster.pid", NULL), *text = NULL;
	if (!g_file_get_contents(path, &text, NULL, NULL))
		g_error("cannot read %s", path);
	pid_t pid = (pid_t)atoi(text);
	g_free(text);
	g_free(path);
	return pid;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-sync [--kiosks 1..%d] [--records 4..1000000] [--batch 1..500]"
			" [--pass HxT[,HxT...]] [--timeout-ms MS] [--cache DIR]\n",
		MAX_KIOSKS);
	exit(2);
}

int main(int argc, char **argv)
{
	int kiosks = 1, records = 100000, batch = 200, timeout_ms = 5000;
	const char *passes = "1x4", *cache = NULL;
	static const struct option opts[] = {{"kiosks", required_argument, NULL, 'k'},
					     {"records", required_argument, NULL, 'r'},
					     {"batch", required_argument, NULL, 'b'},
					     {"pass", required_argument, NULL, 'p'},
					     {"cache", required_argument, NULL, 'c'},
					     {"timeout-ms", required_argument, NULL, 't'},
					     {NULL, 0, NULL, 0}};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'k': kiosks = atoi(optarg); break;
		case 'r': records = atoi(optarg); break;
		case 'b': batch = atoi(optarg); break;
		case 'p': passes = optarg; break;
		case 'c': cache = optarg; break;
		case 't': timeout_ms = atoi(optarg); break;
		default: usage();
		}
	}
	if (optind != argc || kiosks < 1 || kiosks > MAX_KIOSKS || records < 4 || records > 1000000 || batch < 1 ||
	    batch > 500 || timeout_ms < 100 || timeout_ms > 600000)
		usage();
	char **pass = g_strsplit(passes, ",", -1);
	for (char **p = pass; *p; p++) {
		int h, t, used = 0;
		char x;
		if (sscanf(*p, "%d%c%d%n", &h, &x, &t, &used) != 3 || x != 'x' || h < 1 || h > MAX_HOSTS || t < 1 ||
		    t > 64 || h * t > 80 || ((*p)[used] && strcmp(*p + used, "b") != 0))
			usage(); /* 80: the cluster's 100 connections, less the bench's own */
	}
	const char *host_bin = g_getenv("KIOSK_HOST_BIN"), *host_bin_b = g_getenv("KIOSK_HOST_BIN_B");
	if (!host_bin)
		host_bin = "host/kiosk-host";
	if (!g_file_test(host_bin, G_FILE_TEST_IS_EXECUTABLE) ||
	    (strchr(passes, 'b') && (!host_bin_b || !g_file_test(host_bin_b, G_FILE_TEST_IS_EXECUTABLE)))) {
		fprintf(stderr, "bench-sync: KIOSK_HOST_BIN (and for a pass HxTb KIOSK_HOST_BIN_B) must name kiosk-host\n");
		return 2;
	}
	log_set_level(LOG_ERROR); /* the drains' retries are counted, not logged one by one */

	double built_s;
	char *pristine = pristine_ledgers(cache, kiosks, records, &built_s);
	if (built_s > 0)
		printf("built %d ledgers of %d records with the ledger's API in %.1f s (%.0f records/s)%s\n", kiosks,
		       records, built_s, kiosks * (double)records / built_s, cache ? "; cached for the next run" : "");
	else
		printf("%d ledgers of %d records from the cache %s\n", kiosks, records, pristine);
	fflush(stdout);
	struct expect *ex = g_new0(struct expect, kiosks);
	for (int i = 0; i < kiosks; i++) {
		char name[16];
		snprintf(name, sizeof(name), "k%03d", i);
		char *ledger = g_build_filename(pristine, name, "ledger", NULL);
		expect_read(ledger, &ex[i]);
		g_free(ledger);
	}

	char *dir, *conninfo;
	if (hostfix_cluster_start(&dir, &conninfo) == 77) {
		fprintf(stderr, "bench-sync: no PostgreSQL server installed\n");
		return 77;
	}
	PGconn *c = hostfix_connect(conninfo);
	enrol_all(c, dir, pristine, kiosks);
	pid_t postmaster = postmaster_pid(dir);
	printf("%d kiosk%s x %d records = %" PRId64 " records, %" PRId64 " top-ups; mutual TLS over loopback;"
	       " the cluster runs with fsync=off, synchronous_commit=off (scripts/pg-throwaway.sh)\n",
	       kiosks, kiosks > 1 ? "s" : "", records, (int64_t)kiosks * records, completed_topups);
	fflush(stdout);
	for (char **p = pass; *p; p++) {
		int h, t;
		char x;
		sscanf(*p, "%d%c%d", &h, &x, &t);
		bool b = strchr(*p, 'b') != NULL;
		printf("-- pass %s: %d kiosk-host of %d threads (%s)\n", *p, h, t, b ? host_bin_b : host_bin);
		fflush(stdout);
		struct pass_result r;
		run_pass(dir, pristine, conninfo, b ? host_bin_b : host_bin, kiosks, batch, timeout_ms, h, t, ex, c, postmaster, &r);
	}
	printf("verified after every pass: the host holds exactly each kiosk's records (count, acked, every MAC),"
	       " no alarm, and every card's balance change equals the credits booked to it\n");
	PQfinish(c);
	hostfix_cluster_stop(dir);
	if (!cache) {
		char *rm = g_strdup_printf("rm -rf '%s'", pristine);
		if (system(rm) != 0)
			g_printerr("could not remove %s\n", pristine);
		g_free(rm);
	}
	for (int i = 0; i < kiosks; i++)
		g_free(ex[i].mac);
	g_free(ex);
	g_free(pristine);
	g_free(conninfo);
	g_strfreev(pass);
	return 0;
}
