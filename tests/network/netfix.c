/* The network suite's fixture (netfix.h). */
#include "netfix.h"

#include <glib/gstdio.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/db.h"
#include "host/dump.h"
#include "kiosk/core/config.h"

static const char *env(const char *name)
{
	const char *v = g_getenv(name);
	if (!v)
		g_error("%s is not set (run through meson test)", name);
	return v;
}

/* Runs argv to its end; aborts unless it exits 0. Returns stdout (g_free). */
static char *run(char **argv)
{
	char *out = NULL, *errout = NULL;
	int status;
	GError *gerr = NULL;
	if (!g_spawn_sync(NULL, argv, NULL, 0, NULL, NULL, &out, &errout, &status, &gerr))
		g_error("%s: %s", argv[0], gerr->message);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		g_error("%s %s failed: %s", argv[0], argv[1], errout);
	g_free(errout);
	return out;
}

/* In a server's child before exec: it dies with the test, even by an abort. */
static void die_with_parent(gpointer unused)
{
	(void)unused;
	prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/* Starts argv and reads its "listening on 127.0.0.1:PORT" line. */
static int spawn_listening(char **argv, GPid *pid)
{
	int out_fd;
	GError *gerr = NULL;
	if (!g_spawn_async_with_pipes(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, die_with_parent, NULL, pid, NULL,
				      &out_fd, NULL, &gerr))
		g_error("%s: %s", argv[0], gerr->message);
	char line[128] = "";
	size_t n = 0;
	while (n < sizeof(line) - 1) {
		ssize_t got = read(out_fd, line + n, 1);
		if (got <= 0)
			g_error("%s ended before listening", argv[0]);
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	close(out_fd);
	int port = 0;
	if (sscanf(line, "listening on 127.0.0.1:%d", &port) != 1)
		g_error("%s: '%s'", argv[0], line);
	return port;
}

static void set_file(const char *path, const char *text)
{
	/* Renamed into place so the reader never sees a half-written file. */
	char *tmp = g_strconcat(path, ".tmp", NULL);
	g_assert_true(g_file_set_contents(tmp, text, -1, NULL));
	g_assert_cmpint(g_rename(tmp, path), ==, 0);
	g_free(tmp);
}

int netfix_start(struct netfix *f)
{
	memset(f, 0, sizeof(*f));
	int rc = hostfix_cluster_start(&f->cluster_dir, &f->conninfo);
	if (rc)
		return rc;
	char *host = (char *)env("KIOSK_HOST_BIN");
	char *demo[] = {host, "demo-data", "--db", f->conninfo, NULL};
	g_free(run(demo));
	f->ca_dir = g_build_filename(f->cluster_dir, "ca", NULL);
	char *ca[] = {host, "ca", "init", "--out", f->ca_dir, NULL};
	g_free(run(ca));
	f->faults = g_build_filename(f->cluster_dir, "faults", NULL);
	f->control = g_build_filename(f->cluster_dir, "proxy-mode", NULL);
	set_file(f->faults, "none\n");
	set_file(f->control, "up\n");
	char *cert = g_build_filename(f->ca_dir, "host.crt", NULL), *key = g_build_filename(f->ca_dir, "host.key", NULL),
	     *cacrt = g_build_filename(f->ca_dir, "ca.crt", NULL);
	char *serve[] = {host, "serve", "--db", f->conninfo, "--cert", cert, "--key", key, "--ca", cacrt,
			 "--listen", "127.0.0.1:0", "--threads", "2", "--faults", f->faults, NULL};
	f->host_port = spawn_listening(serve, &f->host_pid);
	char up[32];
	snprintf(up, sizeof(up), "127.0.0.1:%d", f->host_port);
	char *proxy[] = {(char *)env("FAULTPROXY"), "--listen", "127.0.0.1:0", "--upstream", up, "--control",
			 f->control, NULL};
	f->proxy_port = spawn_listening(proxy, &f->proxy_pid);
	f->url = g_strdup_printf("https://127.0.0.1:%d", f->proxy_port);
	f->db = hostfix_connect(f->conninfo);
	g_free(cert);
	g_free(key);
	g_free(cacrt);
	return 0;
}

static void stop_child(GPid pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	int status;
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_spawn_close_pid(pid);
}

void netfix_stop(struct netfix *f)
{
	if (f->db)
		PQfinish(f->db);
	stop_child(f->proxy_pid);
	stop_child(f->host_pid);
	hostfix_cluster_stop(f->cluster_dir);
	g_free(f->conninfo);
	g_free(f->ca_dir);
	g_free(f->faults);
	g_free(f->control);
	g_free(f->url);
	memset(f, 0, sizeof(*f));
}

void netfix_host_fault(struct netfix *f, const char *fault)
{
	char *line = g_strconcat(fault, "\n", NULL);
	set_file(f->faults, line);
	g_free(line);
}

void netfix_proxy(struct netfix *f, const char *mode)
{
	char *line = g_strconcat(mode, "\n", NULL);
	set_file(f->control, line);
	g_free(line);
	/* The proxy looks at the file every 50 ms. */
	g_usleep(200 * 1000);
}

void netfix_clear(struct netfix *f)
{
	netfix_host_fault(f, "none");
	netfix_proxy(f, "up");
}

void netfix_kiosk_new(struct netfix *f, struct nkiosk *k, const char *id)
{
	memset(k, 0, sizeof(*k));
	k->id = g_strdup(id);
	k->dir = g_build_filename(f->cluster_dir, id, NULL);
	k->timeout_ms = 2000;
	char *enrol[] = {(char *)env("KIOSK_HOST_BIN"), "enrol", "--db", f->conninfo, "--ca", f->ca_dir, "--kiosk-id",
			 (char *)id, "--out", k->dir, NULL};
	g_free(run(enrol));
	/* kfix's ledger is dir/ledger, its secret dir/ledger.secret: the enrolment's chain key. */
	kfix_open(&k->k, k->dir);
	struct kio_error err;
	if (ledger_sync_open(k->k.path, true, &k->ls, &err) != 0)
		g_error("ledger_sync_open: %s", err.msg);
}

static void drain_free(struct nkiosk *k)
{
	sync_drain_free(k->d);
	k->d = NULL;
	if (k->t)
		k->t->free(k->t);
	k->t = NULL;
}

void netfix_kiosk_free(struct nkiosk *k)
{
	drain_free(k);
	ledger_sync_close(k->ls);
	kfix_close(&k->k);
	g_free(k->id);
	g_free(k->dir);
	memset(k, 0, sizeof(*k));
}

void netfix_topup(struct nkiosk *k, const char *card, const int64_t *notes)
{
	kfix_topup(&k->k, card, notes);
	k->topups++;
}

void netfix_drain_new(struct netfix *f, struct nkiosk *k)
{
	drain_free(k);
	char *ca = g_build_filename(k->dir, "host-ca.crt", NULL), *cert = g_build_filename(k->dir, "kiosk.crt", NULL),
	     *key = g_build_filename(k->dir, "kiosk.key", NULL);
	struct sync_tls tls = {f->url, ca, cert, key, k->timeout_ms};
	struct kio_error err;
	if (sync_transport_curl_new(&tls, &k->t, &err) != 0)
		g_error("transport: %s", err.msg);
	struct sync_drain_config dc = {200, 10, 100};
	k->d = sync_drain_new(k->ls, k->t, &dc);
	g_free(ca);
	g_free(cert);
	g_free(key);
}

void netfix_drain_once(struct nkiosk *k, struct sync_drain_outcome *o)
{
	struct kio_error err = {0};
	if (sync_drain_once(k->d, o, &err) != 0)
		g_error("drain: %s", err.msg);
	g_test_message("%s: drain %s %" PRId64 "..%" PRId64 " acked %" PRId64 " applied %" PRId64 " duplicates %" PRId64
		       "%s%s",
		       k->id, sync_drain_result_name(o->result), o->first_rec, o->last_rec, o->acked, o->applied,
		       o->duplicates, o->why[0] ? ": " : "", o->why);
}

void netfix_drain_all(struct nkiosk *k)
{
	for (int round = 0; round < 50; round++) {
		struct sync_drain_outcome o;
		netfix_drain_once(k, &o);
		if (o.result == SYNC_DRAIN_IDLE)
			return;
		if (o.result == SYNC_DRAIN_FAULT)
			g_error("%s: the drain stopped: %s", k->id, o.why);
	}
	g_error("%s: not drained after 50 exchanges", k->id);
}

int64_t netfix_kiosk_acked(struct nkiosk *k)
{
	struct ledger_sync_status st;
	struct kio_error err;
	if (ledger_sync_status_read(k->ls, &st, &err) != 0)
		g_error("status: %s", err.msg);
	return st.acked_rec;
}

static int64_t host_int(struct netfix *f, const char *sql, const char *id)
{
	PGresult *r;
	struct kio_error err;
	const char *p[] = {id};
	if (hdb_query(f->db, sql, 1, p, &r, NULL, sql, &err) != 0)
		g_error("%s", err.msg);
	g_assert_cmpint(PQntuples(r), ==, 1);
	int64_t v = hdb_int(r, 0, 0);
	PQclear(r);
	return v;
}

static int64_t host_intv(struct netfix *f, const char *fmt, va_list ap) G_GNUC_PRINTF(2, 0);
static int64_t host_intv(struct netfix *f, const char *fmt, va_list ap)
{
	char *sql = g_strdup_vprintf(fmt, ap);
	int64_t v = hostfix_int(f->db, sql);
	g_free(sql);
	return v;
}

int64_t netfix_host_intf(struct netfix *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int64_t v = host_intv(f, fmt, ap);
	va_end(ap);
	return v;
}

void netfix_wait_cut_commit(struct netfix *f, const char *committed_fmt, ...)
{
	gint64 until = g_get_monotonic_time() + 20 * G_TIME_SPAN_SECOND;
	for (;;) {
		va_list ap;
		va_start(ap, committed_fmt);
		int64_t committed = host_intv(f, committed_fmt, ap);
		va_end(ap);
		if (committed)
			break;
		g_assert_cmpint(g_get_monotonic_time(), <, until);
		g_usleep(20000);
	}
	netfix_proxy(f, "down");
	netfix_host_fault(f, "none");
}

int netfix_run(struct netfix *f)
{
	int rc = netfix_start(f);
	if (rc == 77)
		return 77;
	rc = g_test_run();
	netfix_stop(f);
	return rc;
}

int64_t netfix_host_acked(struct netfix *f, struct nkiosk *k)
{
	return host_int(f, "SELECT coalesce((SELECT acked_rec FROM kiosk_sync WHERE kiosk_id = $1), 0)", k->id);
}

int64_t netfix_host_records(struct netfix *f, struct nkiosk *k)
{
	return host_int(f, "SELECT count(*) FROM record WHERE kiosk_id = $1", k->id);
}

void netfix_check(struct netfix *f, struct nkiosk *k)
{
	/* Record for record: the kiosk's export and the host's dump of this kiosk. */
	GPtrArray *mine = kfix_export(&k->k, 0);
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct kio_error err;
	if (dump_print(f->db, k->id, out, &err) != 0)
		g_error("dump: %s", err.msg);
	fclose(out);
	GPtrArray *theirs = g_ptr_array_new_with_free_func(g_free);
	char **lines = g_strsplit(buf, "\n", -1);
	for (char **l = lines; *l; l++)
		if (g_str_has_prefix(*l, "{\"rec\":"))
			g_ptr_array_add(theirs, g_strdup(*l));
	g_strfreev(lines);
	free(buf);
	g_assert_cmpuint(mine->len, >, 0);
	g_assert_cmpuint(theirs->len, ==, mine->len);
	for (guint r = 0; r < mine->len; r++)
		g_assert_cmpstr(theirs->pdata[r], ==, mine->pdata[r]);
	/* Nothing unacknowledged at the kiosk, and the host's word is the last record. */
	struct ledger_sync_status st;
	if (ledger_sync_status_read(k->ls, &st, &err) != 0)
		g_error("status: %s", err.msg);
	g_assert_cmpint(st.acked_rec, ==, st.last_rec);
	g_assert_cmpint(st.queue_depth, ==, 0);
	g_assert_cmpint(st.outbox_pending, ==, 0);
	g_assert_cmpint(netfix_host_acked(f, k), ==, (int64_t)mine->len);
	/* Applied once: one credit per completed top-up; balances are opening + credits. */
	g_assert_cmpint(host_int(f, "SELECT count(*) FROM card_credit WHERE kiosk_id = $1", k->id), ==, k->topups);
	hostfix_assert_balances(f->db);
	g_assert_cmpint(host_int(f, "SELECT count(*) FROM alarm WHERE kiosk_id = $1", k->id), ==, 0);
	g_ptr_array_unref(mine);
	g_ptr_array_unref(theirs);
}

void netfix_sync_up(struct netfix *f, struct nsync *ks)
{
	struct core_config cfg;
	core_config_defaults(&cfg);
	snprintf(cfg.host_url, sizeof(cfg.host_url), "%s", f->url);
	snprintf(cfg.host_ca, sizeof(cfg.host_ca), "%s/host-ca.crt", ks->k.dir);
	snprintf(cfg.host_cert, sizeof(cfg.host_cert), "%s/kiosk.crt", ks->k.dir);
	snprintf(cfg.host_key, sizeof(cfg.host_key), "%s/kiosk.key", ks->k.dir);
	cfg.host_timeout_ms = 2000;
	cfg.host_backoff_min_ms = 50;
	ks->s = sync_new(&cfg, ks->k.k.path, test_waker_wake, &ks->w);
	struct kio_error err = {0};
	if (sync_start(ks->s, &err) != 0)
		g_error("sync_start: %s", err.msg);
}

void netfix_sync_new(struct netfix *f, struct nsync *ks, const char *id)
{
	netfix_kiosk_new(f, &ks->k, id);
	test_waker_init(&ks->w);
	netfix_sync_up(f, ks);
}

enum ledger_tx_state netfix_sync_power_cut(struct netfix *f, struct nsync *ks, uint32_t ask, int64_t now_s)
{
	g_assert_true(sync_ask_give_up(ks->s, ask));
	sync_free(ks->s);
	ks->s = NULL;
	netfix_clear(f);
	kfix_close(&ks->k.k);
	kfix_open(&ks->k.k, ks->k.dir);
	struct ledger_tx *list = NULL;
	size_t n = 0;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_tx_recover(ks->k.k.ledger, now_s, &list, &n, &err), ==, 0);
	g_assert_cmpuint(n, ==, 1);
	enum ledger_tx_state st = list[0].state;
	free(list);
	return st;
}

void netfix_sync_free(struct nsync *ks)
{
	sync_free(ks->s);
	ks->s = NULL;
	netfix_kiosk_free(&ks->k);
	test_waker_clear(&ks->w);
}
