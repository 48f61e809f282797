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
#include "kiosk/ledger/tool.h"
#include "kiosk/text/text.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: kiosk [OPTION]...\n"
		"       kiosk layout [OPTION]... TEXT   (text layout tool: kiosk layout --help)\n"
		"       kiosk ledger verify|export --db PATH   (ledger audit: kiosk ledger --help)\n"
		"\n"
		"The e-Dirham self-service kiosk: top-ups, new cards and government fees paid in banknotes.\n"
		"\n"
		"Options:\n"
		"  --simulate            simulated note acceptor, receipt and card printers (the real\n"
		"                        drivers over device models); without it the real devices are\n"
		"                        opened over libusb by the ids in [devices]\n"
		"  --headless            no window: SDL's offscreen video driver; needs --script. Time\n"
		"                        is virtual with --simulate, real with real devices\n"
		"  --script FILE         run the scenario FILE (see README, \"Scenarios\"); exit 0 when\n"
		"                        every expectation held, 1 at the first that failed\n"
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

	enum { OPT_SIMULATE = 256, OPT_HEADLESS, OPT_SCRIPT, OPT_OUT, OPT_DB, OPT_CONFIG, OPT_LANG, OPT_WINDOWED,
	       OPT_FULLSCREEN, OPT_LOG_LEVEL, OPT_STARTUP_REPORT, OPT_PRINT_CONFIG, OPT_VERSION, OPT_HELP };
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
	struct app_options opts = {.mode = UI_MODE_FULLSCREEN};
	bool headless = false, windowed = false, fullscreen = false;
	const char *env_level = getenv("KIOSK_LOG");
	enum log_level level;
	if (env_level && log_level_parse(env_level, &level))
		log_set_level(level);

	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_SIMULATE: opts.simulate = true; break;
		case OPT_HEADLESS: headless = true; break;
		case OPT_SCRIPT: opts.script_path = optarg; break;
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
		case OPT_PRINT_CONFIG: {
			struct core_config cfg;
			core_config_defaults(&cfg);
			core_config_dump(&cfg, stdout);
			return 0;
		}
		case OPT_VERSION: printf("kiosk %s\n", KIOSK_VERSION); return 0;
		case OPT_HELP: usage(stdout); return 0;
		case '?':
		default:
			if (optopt)
				fprintf(stderr, "kiosk: option %s needs a value (see kiosk --help)\n", argv[optind - 1]);
			else
				fprintf(stderr, "kiosk: unknown option '%s' (see kiosk --help)\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kiosk: unexpected argument '%s' (see kiosk --help)\n", argv[optind]);
		return 2;
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
	opts.mode = headless ? UI_MODE_HEADLESS : windowed ? UI_MODE_WINDOWED : UI_MODE_FULLSCREEN;
	return app_run(&opts);
}
