/* `kiosk ledger verify|export`: the audit commands over a ledger database (docs/ledger.md). */
#pragma once

/* argv[0] is "ledger". Exit status: 0 done (chain holds), 1 the chain is broken (the first
 * broken record named on stderr), 2 bad arguments, 3 the database or its secret cannot be
 * opened. */
int ledger_tool_main(int argc, char **argv);
