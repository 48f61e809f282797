/* Inside the ledger module only: the open database handle, for the ledger's other tables. */
#pragma once

#include <sqlite3.h>

#include "store.h"

/* Borrowed: valid until ledger_close. */
sqlite3 *ledger_db(struct ledger *ledger);
