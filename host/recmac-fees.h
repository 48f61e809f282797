/*
 * The chained tables' columns and record MACs as the host reads them: the ledger's own
 * (kiosk/ledger/recmac.h) for every table it knows, and, until it knows them, the four fees
 * tables of the ledger's migration 11 (issue 13: fee_item, fee_result, voucher_payment,
 * voucher_issue) with their columns in MAC order as CONTRACT-13.md tables them.
 *
 * TEMPORARY, to go at the merge with the ledger's basket (the LED part of issue 13): once
 * ledger_rec_columns answers for those tables, these functions only pass through to it and
 * this file can go. The test /hostd/recmac/fallback proves the fallback's encoding equals the
 * ledger's on the tables both know, and its column lists equal the ledger's once it has them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiosk/ledger/recmac.h"

/* The widest chained table's column count (fee_item: 7). */
#define HOST_REC_COLS_MAX 7
_Static_assert(LEDGER_REC_COLS_MAX <= HOST_REC_COLS_MAX, "a ledger table is wider than the host reads");

/* As ledger_rec_columns, the ledger's answer first. */
int host_rec_columns(const char *table, const char *const **cols, size_t *n);
/* As ledger_rec_mac, the ledger's first; for a fees table it does not know, the same encoding
 * (docs/ledger.md, "The chain") over the contract's columns. */
int host_rec_mac(const uint8_t key[LEDGER_KEY_BYTES], const uint8_t prev[LEDGER_MAC_BYTES], int64_t rec,
		 const char *table, const struct ledger_rec_val *vals, size_t n, uint8_t out[LEDGER_MAC_BYTES]);
/* The fallback's own answer (tests): the contract's columns of a fees table, -1 otherwise. */
int host_rec_contract_columns(const char *table, const char *const **cols, size_t *n);
/* The fallback's encoding for any table and columns (tests compare it with the ledger's). */
void host_rec_mac_encode(const uint8_t key[LEDGER_KEY_BYTES], const uint8_t prev[LEDGER_MAC_BYTES], int64_t rec,
			 const char *table, const char *const *cols, const struct ledger_rec_val *vals, size_t n,
			 uint8_t out[LEDGER_MAC_BYTES]);
