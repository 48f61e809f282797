/* `kiosk ledger verify`, `export` and `receipts`: the audit commands, read-only over a
 * ledger database a kiosk may be running on; and `kiosk ledger prune`, the retention run by
 * hand on a database no kiosk holds. */
#include "tool.h"

#include <getopt.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "chain.h"
#include "export.h"
#include "kiosk/core/cli.h"
#include "kiosk/core/config.h"
#include "kiosk/core/infile.h"
#include "prune.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: kiosk ledger verify --db PATH\n"
		     "       kiosk ledger export --db PATH [--since REC]\n"
		     "       kiosk ledger prune --db PATH --config FILE\n"
		     "       kiosk ledger receipts --db PATH\n"
		     "\n"
		     "verify  checks the ledger's chain of records (HMAC-SHA256, key in PATH.secret): exit 0\n"
		     "        when it holds, 1 naming the first broken record.\n"
		     "export  verifies, then writes the records after record REC (default 0: all) as JSON\n"
		     "        lines, amounts in fils; exit 1 (nothing written) when the chain is broken.\n"
		     "        After a prune the records start after the chain's base.\n"
		     "prune   removes the records the host acknowledged that are older than [host]\n"
		     "        retention_days of FILE, whole transactions at a time (never an unsynced one);\n"
		     "        the chain still verifies. Needs the database to itself (no kiosk running).\n"
		     "receipts lists the receipts of transactions recovery ended that never printed: due (the\n"
		     "        kiosk prints them when the printer can) or given up (never drawable, or failed\n"
		     "        by the printer too often: print them by hand from the export), with why.\n"
		     "\n"
		     "Exit status: 0 done, 1 the chain is broken, 2 bad arguments, 3 the database or its\n"
		     "secret cannot be opened (prune: or written).\n");
}

/* The retention of FILE's [host] retention_days, on the database opened as a kiosk opens it
 * (its lock: a running kiosk makes this refuse, it prunes by itself once a day). */
static int prune_main(const char *db, const char *config)
{
	if (!config || !*config) {
		fprintf(stderr, "kiosk ledger prune: --config FILE is needed (for [host] retention_days)\n");
		return 2;
	}
	struct core_config cfg;
	struct kio_error err = {0};
	core_config_defaults(&cfg);
	if (core_config_load(&cfg, config, &err) != 0) {
		fprintf(stderr, "kiosk ledger prune: %s\n", err.msg);
		return 2;
	}
	struct ledger *ledger = NULL;
	if (ledger_open(db, &ledger, &err) != 0) {
		fprintf(stderr, "kiosk ledger prune: %s\n", err.msg);
		return 3;
	}
	struct ledger_prune_result res;
	int rc = ledger_prune(ledger, (int64_t)time(NULL), cfg.host_retention_days, &res, &err);
	ledger_close(ledger);
	if (rc) {
		fprintf(stderr, "kiosk ledger prune: %s\n", err.msg);
		return 3;
	}
	if (res.records)
		printf("%s: pruned %lld records (%lld transactions); the chain now starts after record %lld\n", db,
		       (long long)res.records, (long long)res.transactions, (long long)res.upto);
	else
		printf("%s: nothing to prune (records 1..%lld pruned before; the rest is unsynced or inside %d days)\n",
		       db, (long long)res.upto, cfg.host_retention_days);
	return 0;
}

/* `kiosk ledger receipts`: what recovery owes (tx.c, "Receipts"; recovery.c invariant 8), on a
 * connection of its own opened read-only, so a running kiosk is never disturbed. */
static int receipts_main(const char *db_path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = 3;
	struct kio_error err = {0};
	/* SQLite's read-only open of a FIFO would wait for a writer. */
	if (core_infile_regular(db_path, db_path, &err) != 0) {
		fprintf(stderr, "kiosk ledger receipts: database %s\n", err.msg);
		goto out_close;
	}
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "kiosk ledger receipts: database %s: %s\n", db_path, db ? sqlite3_errmsg(db) : "cannot open");
		goto out_close;
	}
	sqlite3_busy_timeout(db, 2000);
	if (sqlite3_prepare_v2(db,
			       "SELECT t.seq, t.uuid, coalesce(r.sends, 0), coalesce(r.failed_s, 0),"
			       " coalesce(r.given_up_s, 0), coalesce(r.given_up_why, '')"
			       " FROM tx_end e JOIN tx t ON t.rec = e.tx_rec LEFT JOIN receipt r ON r.tx_rec = e.tx_rec"
			       " WHERE e.recovered = 1 AND e.state = 'completed' AND r.printed_s IS NULL ORDER BY e.tx_rec",
			       -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "kiosk ledger receipts: database %s is not a kiosk ledger of this version: %s\n", db_path,
			sqlite3_errmsg(db));
		goto out_close;
	}
	int step, due = 0, given_up = 0;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0), sends = sqlite3_column_int64(st, 2);
		int64_t failed_s = sqlite3_column_int64(st, 3), given_up_s = sqlite3_column_int64(st, 4);
		const char *uuid = (const char *)sqlite3_column_text(st, 1);
		if (given_up_s) {
			given_up++;
			printf("TXN-%06" PRId64 " %s given-up at %" PRId64 " after %" PRId64 " sends: %s\n", seq, uuid,
			       given_up_s, sends, (const char *)sqlite3_column_text(st, 5));
		} else {
			due++;
			printf("TXN-%06" PRId64 " %s due, %" PRId64 " sends%s\n", seq, uuid, sends,
			       failed_s ? ", the last failed at the printer" : "");
		}
	}
	if (step != SQLITE_DONE) {
		fprintf(stderr, "kiosk ledger receipts: database %s: %s\n", db_path, sqlite3_errmsg(db));
		goto out_close;
	}
	printf("%s: %d recovery receipts due, %d given up\n", db_path, due, given_up);
	rc = 0;
out_close:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

int ledger_tool_main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *cmd = argv[1];
	bool verify = strcmp(cmd, "verify") == 0, export = strcmp(cmd, "export") == 0, prune = strcmp(cmd, "prune") == 0;
	bool receipts = strcmp(cmd, "receipts") == 0;
	if (!verify && !export && !prune && !receipts) {
		fprintf(stderr, "kiosk ledger: unknown command '%s' (verify, export, prune or receipts)\n", cmd);
		return 2;
	}
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"since", required_argument, NULL, 's'},
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL, *config = NULL;
	int64_t since = 0;
	struct kio_error err = {0};
	optind = 1;
	opterr = 0;
	int c;
	/* getopt sees "verify --db ..." with the command as its program name. */
	int ac = argc - 1;
	char **av = argv + 1;
	while ((c = getopt_long(ac, av, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'c':
			if (!prune) {
				fprintf(stderr, "kiosk ledger %s: --config belongs to prune\n", cmd);
				return 2;
			}
			config = optarg;
			break;
		case 's':
			if (!export) {
				fprintf(stderr, "kiosk ledger verify: --since belongs to export\n");
				return 2;
			}
			if (ledger_export_since_parse(optarg, &since, &err) != 0) {
				fprintf(stderr, "kiosk ledger export: %s\n", err.msg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: return core_cli_bad_option("ledger", cmd, av);
		}
	}
	if (core_cli_check_db("ledger", cmd, ac, av, db) != 0)
		return 2;
	if (prune)
		return prune_main(db, config);
	if (receipts)
		return receipts_main(db);
	if (verify) {
		struct ledger_verdict v;
		if (ledger_verify_file(db, &v, &err) != 0) {
			fprintf(stderr, "kiosk ledger verify: %s\n", err.msg);
			return 3;
		}
		if (!v.ok) {
			fprintf(stderr, "kiosk ledger verify: %s: broken at record %lld: %s\n", db, (long long)v.first_bad,
				v.why);
			return 1;
		}
		if (v.base > 0)
			printf("%s: chain holds, %lld records (records 1..%lld pruned)\n", db, (long long)v.records,
			       (long long)v.base);
		else
			printf("%s: chain holds, %lld records\n", db, (long long)v.records);
		return 0;
	}
	int rc = ledger_export_file(db, since, stdout, &err);
	if (rc == 0)
		return 0;
	fprintf(stderr, "kiosk ledger export: %s\n", err.msg);
	return rc == KIO_ERR_CORRUPT ? 1 : 3;
}
