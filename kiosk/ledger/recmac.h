/*
 * One chained record's MAC by table name, for whoever checks a kiosk's records away from its
 * SQLite file (the reference host, host/records.c). The encoding is chain.c's own (docs/ledger.md,
 * "The chain"): the kiosk and the host call the same code, so they cannot disagree.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "chain.h"

enum ledger_rec_type { LEDGER_REC_NULL, LEDGER_REC_INT, LEDGER_REC_TEXT };

struct ledger_rec_val {
	enum ledger_rec_type type;
	int64_t i;
	const char *s; /* LEDGER_REC_TEXT: borrowed, NUL-terminated */
};

#define LEDGER_REC_COLS_MAX 7

/* The columns of a chained table after `rec` and before `mac`, in MAC order: *cols points to
 * n names owned by the ledger (static). -1 for a table that is not chained. */
int ledger_rec_columns(const char *table, const char *const **cols, size_t *n);

/* The MAC of record rec of `table` whose previous record's MAC is prev (32 zero bytes before
 * record 1), over vals (one per column of ledger_rec_columns, in that order). 0, or -1 for an
 * unknown table or a wrong number of values (out untouched). */
int ledger_rec_mac(const uint8_t key[LEDGER_KEY_BYTES], const uint8_t prev[LEDGER_MAC_BYTES], int64_t rec,
		   const char *table, const struct ledger_rec_val *vals, size_t n, uint8_t out[LEDGER_MAC_BYTES]);
