/* The subcommands' shared refusals of bad arguments (cli.h). */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>

int core_cli_bad_option(const char *tool, const char *cmd, char **av)
{
	fprintf(stderr, "kiosk %s %s: %s '%s' (see kiosk %s --help)\n", tool, cmd,
		optopt ? "option needs a value:" : "unknown option", av[optind - 1], tool);
	return 2;
}

int core_cli_check_db(const char *tool, const char *cmd, int ac, char **av, const char *db)
{
	if (optind < ac) {
		fprintf(stderr, "kiosk %s %s: unexpected argument '%s'\n", tool, cmd, av[optind]);
		return 2;
	}
	if (!db || !*db) {
		fprintf(stderr, "kiosk %s %s: --db PATH is needed\n", tool, cmd);
		return 2;
	}
	return 0;
}
