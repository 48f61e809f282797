/* What the `kiosk <tool> <command> --db PATH ...` subcommands (ledger, sync) answer alike when
 * their arguments are wrong: one wording, one exit status (2), written once. */
#pragma once

/* After getopt_long (opterr = 0) returned '?' or ':' on av: prints "kiosk TOOL CMD: unknown
 * option 'X'" or "...: option needs a value: 'X'", with "(see kiosk TOOL --help)". Returns 2. */
int core_cli_bad_option(const char *tool, const char *cmd, char **av);
/* After the options: no argument is left over and --db was given and is not empty. 0, or the
 * line naming what is wrong printed and 2. */
int core_cli_check_db(const char *tool, const char *cmd, int ac, char **av, const char *db);
