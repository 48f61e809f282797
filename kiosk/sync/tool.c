/* `kiosk sync status --db PATH` and `kiosk sync push --db PATH --config FILE`: what the host
 * holds of a ledger, and one drain in the foreground (tests, the demo, a technician). */
#define LOG_MODULE "sync-tool"
#include "tool.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "drain.h"
#include "kiosk/core/cli.h"
#include "kiosk/core/config.h"
#include "kiosk/core/log.h"
#include "kiosk/ledger/sync-state.h"
#include "transport.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: kiosk sync status --db PATH\n"
		     "       kiosk sync push --db PATH --config FILE\n"
		     "\n"
		     "status  prints what the host has not acknowledged of the ledger at PATH: queue depth,\n"
		     "        the oldest unsynced record, the last success and the last error.\n"
		     "push    drains the ledger to the host of FILE's [host] once, in the foreground, printing\n"
		     "        each batch sent and what the host acknowledged; stops at the first failure.\n"
		     "\n"
		     "Exit status: 0 done (push: the host holds every record), 1 the host refused or could not\n"
		     "be reached, 2 bad arguments or configuration, 3 the database cannot be used.\n");
}

static void when(int64_t t, char *buf, size_t cap)
{
	if (t <= 0) {
		snprintf(buf, cap, "never");
		return;
	}
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static int status(const char *db)
{
	struct ledger_sync *ls = NULL;
	struct ledger_sync_status st;
	struct kio_error err = {0};
	if (ledger_sync_open(db, false, &ls, &err) != 0 || ledger_sync_status_read(ls, &st, &err) != 0) {
		fprintf(stderr, "kiosk sync status: %s\n", err.msg);
		ledger_sync_close(ls);
		return 3;
	}
	ledger_sync_close(ls);
	char t[64];
	printf("queue depth: %" PRId64 " records (%" PRId64 " transactions not marked sent)\n", st.queue_depth,
	       st.outbox_pending);
	printf("host holds: records 1..%" PRId64 " of %" PRId64 "\n", st.acked_rec, st.last_rec);
	if (st.queue_depth > 0) {
		when(st.oldest_unsynced_s, t, sizeof(t));
		printf("oldest unsynced: record %" PRId64 " at %s\n", st.oldest_unsynced_rec, t);
	} else {
		printf("oldest unsynced: none\n");
	}
	when(st.last_ok_s, t, sizeof(t));
	printf("last success: %s\n", t);
	if (st.last_error_s > 0) {
		when(st.last_error_s, t, sizeof(t));
		printf("last error: %s: %s (%" PRId64 " failures since the last success)\n", t, st.last_error, st.attempts);
	} else {
		printf("last error: none\n");
	}
	return 0;
}

static int push(const char *db, const char *config)
{
	struct core_config cfg;
	core_config_defaults(&cfg);
	struct kio_error err = {0};
	if (core_config_load(&cfg, config, &err) != 0) {
		fprintf(stderr, "kiosk sync push: %s\n", err.msg);
		return 2;
	}
	if (!cfg.host_url[0]) {
		fprintf(stderr, "kiosk sync push: %s: host.url is empty: there is no host to push to\n", config);
		return 2;
	}
	struct sync_tls tls = {cfg.host_url, cfg.host_ca, cfg.host_cert, cfg.host_key, cfg.host_timeout_ms};
	struct sync_transport *t = NULL;
	if (sync_transport_curl_new(&tls, &t, &err) != 0) {
		fprintf(stderr, "kiosk sync push: %s: %s\n", config, err.msg);
		return 2;
	}
	struct ledger_sync *ls = NULL;
	if (ledger_sync_open(db, true, &ls, &err) != 0) {
		fprintf(stderr, "kiosk sync push: %s\n", err.msg);
		t->free(t);
		return 3;
	}
	struct sync_drain_config dc = {cfg.host_batch, cfg.host_backoff_min_ms, cfg.host_backoff_max_ms};
	struct sync_drain *d = sync_drain_new(ls, t, &dc);
	int rc = 0;
	/* Bounded: a host that keeps answering gaps could otherwise keep it here. */
	for (int round = 0; round < 1000000; round++) {
		struct sync_drain_outcome o;
		if (sync_drain_once(d, &o, &err) != 0) {
			fprintf(stderr, "kiosk sync push: %s\n", err.msg);
			rc = 3;
			break;
		}
		if (o.result == SYNC_DRAIN_IDLE) {
			struct ledger_sync_status st;
			if (ledger_sync_status_read(ls, &st, &err) == 0)
				printf("done: the host holds records 1..%" PRId64 "\n", st.acked_rec);
			break;
		}
		if (o.result == SYNC_DRAIN_PROGRESS)
			printf("sent records %" PRId64 "..%" PRId64 " (%d): host acked %" PRId64 " (applied %" PRId64
			       ", duplicates %" PRId64 "), %" PRId64 " transactions marked sent\n",
			       o.first_rec, o.last_rec, o.sent, o.acked, o.applied, o.duplicates, o.marked);
		else if (o.result == SYNC_DRAIN_RESUME)
			printf("sent records %" PRId64 "..%" PRId64 " (%d): host holds 1..%" PRId64 " only, sending from %" PRId64
			       "\n", o.first_rec, o.last_rec, o.sent, o.acked, o.acked + 1);
		else {
			fprintf(stderr, "kiosk sync push: %s%s\n", o.result == SYNC_DRAIN_FAULT ? "stopped: " : "", o.why);
			rc = 1;
			break;
		}
	}
	sync_drain_free(d);
	ledger_sync_close(ls);
	t->free(t);
	return rc;
}

int sync_tool_main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *cmd = argv[1];
	bool is_status = strcmp(cmd, "status") == 0, is_push = strcmp(cmd, "push") == 0;
	if (!is_status && !is_push) {
		fprintf(stderr, "kiosk sync: unknown command '%s' (status or push)\n", cmd);
		return 2;
	}
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL, *config = NULL;
	optind = 1;
	opterr = 0;
	int c;
	int ac = argc - 1;
	char **av = argv + 1;
	while ((c = getopt_long(ac, av, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'c':
			if (!is_push) {
				fprintf(stderr, "kiosk sync status: --config belongs to push\n");
				return 2;
			}
			config = optarg;
			break;
		case 'h': usage(stdout); return 0;
		default: return core_cli_bad_option("sync", cmd, av);
		}
	}
	if (core_cli_check_db("sync", cmd, ac, av, db) != 0)
		return 2;
	if (is_push && (!config || !*config)) {
		fprintf(stderr, "kiosk sync push: --config FILE is needed (its [host] names the host)\n");
		return 2;
	}
	return is_status ? status(db) : push(db, config);
}
