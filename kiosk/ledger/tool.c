/* `kiosk ledger verify` and `kiosk ledger export`: the audit commands, read-only over a
 * ledger database a kiosk may be running on. */
#include "tool.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "chain.h"
#include "export.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: kiosk ledger verify --db PATH\n"
		     "       kiosk ledger export --db PATH [--since REC]\n"
		     "\n"
		     "verify  checks the ledger's chain of records (HMAC-SHA256, key in PATH.secret): exit 0\n"
		     "        when it holds, 1 naming the first broken record.\n"
		     "export  verifies, then writes the records after record REC (default 0: all) as JSON\n"
		     "        lines, amounts in fils; exit 1 (nothing written) when the chain is broken.\n"
		     "\n"
		     "Exit status: 0 done, 1 the chain is broken, 2 bad arguments, 3 the database or its\n"
		     "secret cannot be opened.\n");
}

int ledger_tool_main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *cmd = argv[1];
	bool verify = strcmp(cmd, "verify") == 0, export = strcmp(cmd, "export") == 0;
	if (!verify && !export) {
		fprintf(stderr, "kiosk ledger: unknown command '%s' (verify or export)\n", cmd);
		return 2;
	}
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"since", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL;
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
		default:
			fprintf(stderr, "kiosk ledger %s: %s '%s' (see kiosk ledger --help)\n", cmd,
				optopt ? "option needs a value:" : "unknown option", av[optind - 1]);
			return 2;
		}
	}
	if (optind < ac) {
		fprintf(stderr, "kiosk ledger %s: unexpected argument '%s'\n", cmd, av[optind]);
		return 2;
	}
	if (!db || !*db) {
		fprintf(stderr, "kiosk ledger %s: --db PATH is needed\n", cmd);
		return 2;
	}
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
		printf("%s: chain holds, %lld records\n", db, (long long)v.records);
		return 0;
	}
	int rc = ledger_export_file(db, since, stdout, &err);
	if (rc == 0)
		return 0;
	fprintf(stderr, "kiosk ledger export: %s\n", err.msg);
	return rc == KIO_ERR_CORRUPT ? 1 : 3;
}
