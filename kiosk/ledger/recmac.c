/* The record MAC by table name: a thin face over chain.c's chain_mac for code outside the
 * ledger module (the host verifies uploaded records with it). */
#include "recmac.h"

#include <string.h>

#include "chain-priv.h"

_Static_assert(LEDGER_REC_COLS_MAX == CHAIN_COLS_MAX, "recmac.h and chain-priv.h disagree");

static int table_of(const char *table)
{
	for (int t = 0; t < CHAIN_TABLE_COUNT; t++)
		if (table && strcmp(chain_specs[t].table, table) == 0)
			return t;
	return -1;
}

int ledger_rec_columns(const char *table, const char *const **cols, size_t *n)
{
	int t = table_of(table);
	if (t < 0)
		return -1;
	*cols = chain_specs[t].cols;
	*n = (size_t)chain_specs[t].n_cols;
	return 0;
}

int ledger_rec_mac(const uint8_t key[LEDGER_KEY_BYTES], const uint8_t prev[LEDGER_MAC_BYTES], int64_t rec,
		   const char *table, const struct ledger_rec_val *vals, size_t n, uint8_t out[LEDGER_MAC_BYTES])
{
	int t = table_of(table);
	if (t < 0 || n != (size_t)chain_specs[t].n_cols)
		return -1;
	struct chain_val cv[CHAIN_COLS_MAX];
	for (size_t c = 0; c < n; c++) {
		switch (vals[c].type) {
		case LEDGER_REC_INT: cv[c] = (struct chain_val){CHAIN_INT, vals[c].i, NULL}; break;
		case LEDGER_REC_TEXT: cv[c] = (struct chain_val){CHAIN_TEXT, 0, vals[c].s ? vals[c].s : ""}; break;
		case LEDGER_REC_NULL:
		default: cv[c] = (struct chain_val){CHAIN_NULL, 0, NULL}; break;
		}
	}
	chain_mac(key, prev, rec, (enum chain_table)t, cv, out);
	return 0;
}
