/*
 * The crash suite's sync kill points with the real host (issue 12: "a kill at every step of
 * sync"): a kiosk's drain runs in a child process against `kiosk-host serve` over mutual TLS
 * (tests/network/netfix.h: one throwaway cluster for the binary, one enrolled kiosk per
 * case) and SIGKILLs itself at a named kill point's Nth hit (drain.c: sync-before-send,
 * sync-host-answered; sync-state.c: sync-ack-written, sync-acked). A census run first lists
 * the points a drain passes, so a new kill point is killed at without a change here. After
 * each kill the kiosk restarts (a new drain on the same database, in another process: this
 * one), drains, and netfix_check holds: the export equal to the host's records, one
 * card_credit per completed top-up (nothing applied twice), balances = opening + credits,
 * nothing unacknowledged; and ledger_sync_check passes (the sync's marks agree with the
 * ledger). Every third case is killed a second time in the restarted kiosk first.
 */
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/network/netfix.h"

#define CARD_A "7841000024680132"
#define CARD_B "7841000013579022"
#define HITS_MAX 3

static struct netfix fx;

struct kill_at {
	const char *point; /* NULL: census, no kill */
	int hit;
	int census_fd;     /* census: each point's name written here */
	int seen;
};

static void on_checkpoint(void *user, const char *point)
{
	struct kill_at *k = user;
	if (k->census_fd >= 0) {
		char line[64];
		int n = snprintf(line, sizeof(line), "%s\n", point);
		if (write(k->census_fd, line, (size_t)n) != n)
			_exit(3);
	}
	if (k->point && strcmp(point, k->point) == 0 && ++k->seen == k->hit)
		kill(getpid(), SIGKILL);
}

/* The kiosk process: opens the ledger and drains it to the host, killed at `at` if it gets
 * there. Returns the child's wait status. */
static int kiosk_process(struct nkiosk *k, struct kill_at *at)
{
	fflush(NULL);
	pid_t pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		struct ledger_sync *ls = NULL;
		struct kio_error err;
		if (ledger_sync_open(k->k.path, true, &ls, &err) != 0)
			_exit(4);
		ledger_sync_set_checkpoint(ls, on_checkpoint, at);
		char *ca = g_build_filename(k->dir, "host-ca.crt", NULL), *cert = g_build_filename(k->dir, "kiosk.crt", NULL),
		     *key = g_build_filename(k->dir, "kiosk.key", NULL);
		struct sync_tls tls = {fx.url, ca, cert, key, 5000};
		struct sync_transport *t = NULL;
		if (sync_transport_curl_new(&tls, &t, &err) != 0)
			_exit(5);
		/* Small batches: several exchanges, so a point is passed more than once. */
		struct sync_drain_config dc = {4, 10, 100};
		struct sync_drain *d = sync_drain_new(ls, t, &dc);
		for (int round = 0; round < 100; round++) {
			struct sync_drain_outcome o;
			if (sync_drain_once(d, &o, &err) != 0 || o.result == SYNC_DRAIN_FAULT ||
			    o.result == SYNC_DRAIN_BACKOFF)
				_exit(6);
			if (o.result == SYNC_DRAIN_IDLE)
				_exit(0);
		}
		_exit(7);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		g_assert_cmpint(errno, ==, EINTR);
	return status;
}

static void book(struct nkiosk *k)
{
	static const int64_t a[] = {5000, 10000, 0}, b[] = {2000, 0}, c[] = {20000, 5000, 0};
	netfix_topup(k, CARD_A, a);
	netfix_topup(k, CARD_B, b);
	netfix_topup(k, CARD_A, c);
}

/* The points a drain of book()'s records passes, each with its number of hits. */
static GHashTable *census(void)
{
	struct nkiosk k;
	netfix_kiosk_new(&fx, &k, "C-CENSUS");
	book(&k);
	int fds[2];
	g_assert_cmpint(pipe(fds), ==, 0);
	struct kill_at at = {NULL, 0, fds[1], 0};
	int status = kiosk_process(&k, &at);
	close(fds[1]);
	g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	GString *names = g_string_new(NULL);
	char buf[512];
	ssize_t n;
	while ((n = read(fds[0], buf, sizeof(buf))) > 0)
		g_string_append_len(names, buf, n);
	close(fds[0]);
	GHashTable *hits = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	char **lines = g_strsplit(names->str, "\n", -1);
	for (char **l = lines; *l; l++)
		if (**l)
			g_hash_table_insert(hits, g_strdup(*l),
					    GINT_TO_POINTER(GPOINTER_TO_INT(g_hash_table_lookup(hits, *l)) + 1));
	g_strfreev(lines);
	g_string_free(names, TRUE);
	netfix_check(&fx, &k);
	netfix_kiosk_free(&k);
	return hits;
}

static int cases, kills;

static void one_case(const char *point, int hit, const char *second)
{
	char id[32];
	snprintf(id, sizeof(id), "C-%03d", ++cases);
	struct nkiosk k;
	netfix_kiosk_new(&fx, &k, id);
	book(&k);
	struct kill_at at = {point, hit, -1, 0};
	int status = kiosk_process(&k, &at);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		g_error("%s: %s hit %d: the kiosk was not killed there (status %d)", id, point, hit, status);
	kills++;
	if (second) {
		struct kill_at again = {second, 1, -1, 0};
		status = kiosk_process(&k, &again);
		if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
			g_error("%s: restarted kiosk ended with status %d", id, status);
		kills += WIFSIGNALED(status);
	}
	g_test_message("%s: killed at %s hit %d%s%s; host holds %" PRId64 " records, kiosk marked %" PRId64, id, point,
		       hit, second ? ", then at " : "", second ? second : "", netfix_host_records(&fx, &k),
		       netfix_kiosk_acked(&k));
	/* The restart: a new drain on the same database. */
	netfix_drain_new(&fx, &k);
	netfix_drain_all(&k);
	struct kio_error err;
	if (ledger_sync_check(k.ls, &err) != 0)
		g_error("%s: ledger_sync_check: %s", id, err.msg);
	netfix_check(&fx, &k);
	netfix_kiosk_free(&k);
}

static void test_kill_points(void)
{
	GHashTable *hits = census();
	static const char *const expected[] = {"sync-before-send", "sync-host-answered", "sync-ack-written", "sync-acked"};
	for (size_t e = 0; e < G_N_ELEMENTS(expected); e++)
		if (!g_hash_table_contains(hits, expected[e]))
			g_error("the census did not pass %s", expected[e]);
	GList *points = g_list_sort(g_hash_table_get_keys(hits), (GCompareFunc)strcmp);
	int n = 0;
	for (GList *p = points; p; p = p->next) {
		int passed = GPOINTER_TO_INT(g_hash_table_lookup(hits, p->data));
		for (int hit = 1; hit <= passed && hit <= HITS_MAX; hit++) {
			n++;
			/* Every third case dies again in the restarted kiosk, at the next point. */
			const char *second = n % 3 == 0 ? (p->next ? p->next->data : points->data) : NULL;
			one_case(p->data, hit, second);
		}
	}
	g_list_free(points);
	g_hash_table_unref(hits);
	g_assert_cmpint(cases, >=, 8);
	/* On stderr: TAP owns stdout. scripts/test.sh finds the line in the log. */
	fprintf(stderr, "crash: %d cases at the sync's kill points with the real host, %d kills\n", cases, kills);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/crash/sync/kill-points", test_kill_points);
	return netfix_run(&fx);
}
