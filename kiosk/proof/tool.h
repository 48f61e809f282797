/* `kiosk receipt pubkey|verify`: the receipt key and an inspector's check (docs/receipts.md). */
#pragma once

/* argv[0] is "receipt". Exit status: 0 done (verify: the receipt is genuine, its fields
 * printed), 1 verify: not genuine (the fault and reason on stderr), 2 bad arguments, 3 the
 * database's secret cannot be read. */
int proof_tool_main(int argc, char **argv);
