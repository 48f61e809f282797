/* The kiosk's command line: options, the `layout` developer tool, and start-up. */
#define LOG_MODULE "main"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk-config.h"
#include "kiosk/app.h"
#include "kiosk/core/config.h"
#include "kiosk/core/log.h"
#include "kiosk/core/path.h"
#include "kiosk/ledger/tool.h"
#include "kiosk/fees/catalogue.h"
#include "kiosk/proof/tool.h"
#include "kiosk/sync/tool.h"
#if KIOSK_TEST_PORT
#include "kiosk/scenario/supervise.h"
#endif
#include "kiosk/text/text.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: kiosk [OPTION]...\n"
		"       kiosk layout [OPTION]... TEXT   (text layout tool: kiosk layout --help)\n"
		"       kiosk ledger verify|export --db PATH   (ledger audit: kiosk ledger --help)\n"
		"       kiosk sync status|push --db PATH ...   (sync to the host: kiosk sync --help)\n"
		"       kiosk catalogue check DIR              (fees catalogue: kiosk catalogue --help)\n"
		"       kiosk receipt pubkey|verify ...   (receipts anyone can verify: kiosk receipt --help)\n"
		"\n"
		"The e-Dirham self-service kiosk: top-ups, new cards and government fees paid in banknotes.\n"
		"\n"
		"Options:\n"
		"  --simulate            simulated note acceptor, receipt and card printers (the real\n"
		"                        drivers over device models); without it the real devices are\n"
		"                        opened over libusb by the ids in [devices]\n"
#if KIOSK_TEST_PORT
		"  --headless            no window: SDL's offscreen video driver; needs --script. Time\n"
		"                        is virtual with --simulate, real with real devices\n"
		"  --script FILE         run the scenario FILE (see README, \"Scenarios\"); exit 0 when\n"
		"                        every expectation held, 1 at the first that failed\n"
#endif
		"  --out DIR             screenshots, receipt and card images (default: paths.out_dir, \"out\")\n"
		"  --db PATH             SQLite database (default: paths.db, \"kiosk.db\")\n"
		"  --config FILE         configuration file (INI; every key, documented, from\n"
		"                        --print-config)\n"
		"  --lang ar|en          language the kiosk starts in (default: kiosk.default_language)\n"
		"  --windowed            run in a window\n"
		"  --fullscreen          run full screen (the default unless --headless)\n"
		"  --log-level LEVEL     error, warn (default), info or debug; also KIOSK_LOG\n"
		"  --startup-report FILE write the monotonic time of the first frame presented (bench/startup)\n"
		"  --print-config        print every configuration key with its default and exit\n"
		"  --version             print the version and exit\n"
		"  --help                print this help and exit\n"
		"\n"
		"Exit status: 0 success, 1 a scenario expectation failed, 2 bad input (option, file,\n"
		"configuration or scenario: nothing is written), 3 a start-up fault (display, fonts, database).\n");
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "layout") == 0)
		return text_layout_tool_main(argc - 1, argv + 1);
	/* The ledger's audit commands (kiosk/ledger/tool.c): read-only, no window, no devices. */
	if (argc > 1 && strcmp(argv[1], "ledger") == 0)
		return ledger_tool_main(argc - 1, argv + 1);
	/* The sync's status and a foreground drain (kiosk/sync/tool.c): no window, no devices. */
	if (argc > 1 && strcmp(argv[1], "sync") == 0)
		return sync_tool_main(argc - 1, argv + 1);
	/* The fees catalogue's check (kiosk/fees/tool.c): no window, no devices, no database. */
	if (argc > 1 && strcmp(argv[1], "catalogue") == 0)
		return catalogue_tool_main(argc - 1, argv + 1);
	/* The receipt key and an inspector's check of a receipt's QR (kiosk/proof/tool.c). */
	if (argc > 1 && strcmp(argv[1], "receipt") == 0)
		return proof_tool_main(argc - 1, argv + 1);

	enum { OPT_SIMULATE = 256, OPT_HEADLESS, OPT_SCRIPT, OPT_OUT, OPT_DB, OPT_CONFIG, OPT_LANG, OPT_WINDOWED,
	       OPT_FULLSCREEN, OPT_LOG_LEVEL, OPT_STARTUP_REPORT, OPT_PRINT_CONFIG, OPT_VERSION, OPT_HELP };
	/* In the order of the enum: a repeated option is named by long_opts[c - OPT_SIMULATE]. */
	static const struct option long_opts[] = {
		{"simulate", no_argument, NULL, OPT_SIMULATE},
		{"headless", no_argument, NULL, OPT_HEADLESS},
		{"script", required_argument, NULL, OPT_SCRIPT},
		{"out", required_argument, NULL, OPT_OUT},
		{"db", required_argument, NULL, OPT_DB},
		{"config", required_argument, NULL, OPT_CONFIG},
		{"lang", required_argument, NULL, OPT_LANG},
		{"windowed", no_argument, NULL, OPT_WINDOWED},
		{"fullscreen", no_argument, NULL, OPT_FULLSCREEN},
		{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
		{"startup-report", required_argument, NULL, OPT_STARTUP_REPORT},
		{"print-config", no_argument, NULL, OPT_PRINT_CONFIG},
		{"version", no_argument, NULL, OPT_VERSION},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0},
	};
	struct app_options opts = {.mode = UI_MODE_FULLSCREEN, .carry_fd = -1};
	bool headless = false, windowed = false, fullscreen = false;
	bool help = false, version = false, print_config = false;
	/* Each option once: a repeated one (two --db) would otherwise be silently last-wins. */
	bool seen[OPT_HELP - OPT_SIMULATE + 1] = {false};
	enum log_level level;

	/* ":" first: a missing value is ':', so '?' is always an unknown option. */
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":", long_opts, NULL)) != -1) {
		if (c == ':') {
			fprintf(stderr, "kiosk: option %s needs a value (see kiosk --help)\n", argv[optind - 1]);
			return 2;
		}
		if (c < OPT_SIMULATE || c > OPT_HELP) {
			/* A short option is reported by its letter: argv may hold several ("-xv"). */
			if (optopt > 0 && optopt < OPT_SIMULATE)
				fprintf(stderr, "kiosk: unknown option '-%c' (see kiosk --help)\n", optopt);
			else
				fprintf(stderr, "kiosk: unknown option '%s' (see kiosk --help)\n", argv[optind - 1]);
			return 2;
		}
		if (seen[c - OPT_SIMULATE]) {
			fprintf(stderr, "kiosk: option --%s given twice\n", long_opts[c - OPT_SIMULATE].name);
			return 2;
		}
		seen[c - OPT_SIMULATE] = true;
		switch (c) {
		case OPT_SIMULATE: opts.simulate = true; break;
		case OPT_HEADLESS: headless = true; break;
		case OPT_SCRIPT:
#if !KIOSK_TEST_PORT
			/* Known, so the refusal can say why: an installed kiosk takes no script. */
			fprintf(stderr, "kiosk: --script: this kiosk is built without the test port (meson -Dtest_port=false): "
					"it runs no scenarios\n");
			return 2;
#endif
			opts.script_path = optarg;
			break;
		case OPT_OUT: opts.out_dir = optarg; break;
		case OPT_DB: opts.db_path = optarg; break;
		case OPT_CONFIG: opts.config_path = optarg; break;
		case OPT_LANG:
			if (strcmp(optarg, "ar") != 0 && strcmp(optarg, "en") != 0) {
				fprintf(stderr, "kiosk: --lang %s: must be ar or en\n", optarg);
				return 2;
			}
			opts.lang = optarg;
			break;
		case OPT_WINDOWED: windowed = true; break;
		case OPT_FULLSCREEN: fullscreen = true; break;
		case OPT_LOG_LEVEL:
			if (!log_level_parse(optarg, &level)) {
				fprintf(stderr, "kiosk: --log-level %s: must be error, warn, info or debug\n", optarg);
				return 2;
			}
			log_set_level(level);
			break;
		case OPT_STARTUP_REPORT: opts.startup_report = optarg; break;
		case OPT_PRINT_CONFIG: print_config = true; break;
		case OPT_VERSION: version = true; break;
		case OPT_HELP: help = true; break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kiosk: unexpected argument '%s' (see kiosk --help)\n", argv[optind]);
		return 2;
	}
	/* The environment is input too: a level that is not one is refused, not ignored. */
	const char *env_level = getenv("KIOSK_LOG");
	if (env_level && env_level[0]) {
		enum log_level env;
		if (!log_level_parse(env_level, &env)) {
			fprintf(stderr, "kiosk: KIOSK_LOG=%s: must be error, warn, info or debug\n", env_level);
			return 2;
		}
		if (!seen[OPT_LOG_LEVEL - OPT_SIMULATE]) /* the option wins */
			log_set_level(env);
	}
	/* Only now, with every option read and checked: "--version --lang xx" is bad input. */
	if (help) {
		usage(stdout);
		return 0;
	}
	if (version) {
		printf("kiosk %s\n", KIOSK_VERSION);
		return 0;
	}
	if (print_config) {
		struct core_config cfg;
		core_config_defaults(&cfg);
		core_config_dump(&cfg, stdout);
		return 0;
	}
	if (windowed && fullscreen) {
		fprintf(stderr, "kiosk: --windowed and --fullscreen exclude each other\n");
		return 2;
	}
	if (headless && (windowed || fullscreen)) {
		fprintf(stderr, "kiosk: --headless has no window: drop --windowed/--fullscreen\n");
		return 2;
	}
	if (headless && !opts.script_path) {
		fprintf(stderr, "kiosk: --headless needs --script FILE (nothing else would drive it)\n");
		return 2;
	}
	/* Files named on the command line are looked at before anything starts; --out and --db,
	 * which the configuration may also set, are checked in app_run. */
	struct kio_error err;
	if ((opts.script_path && core_path_check_in_file("--script", opts.script_path, &err) != 0) ||
	    (opts.config_path && core_path_check_in_file("--config", opts.config_path, &err) != 0) ||
	    (opts.startup_report &&
	     core_path_check_out_file("--startup-report", opts.startup_report, 0, true, &err) != 0)) {
		fprintf(stderr, "kiosk: %s\n", err.msg);
		return 2;
	}
	opts.mode = headless ? UI_MODE_HEADLESS : windowed ? UI_MODE_WINDOWED : UI_MODE_FULLSCREEN;
#if KIOSK_TEST_PORT
	/* A scenario that cuts the power (`power-cut`) runs under a supervisor that outlives the
	 * kiosk process. */
	if (opts.script_path && supervise_wanted(opts.script_path))
		return supervise_scenario(&opts);
#endif
	return app_run(&opts);
}
