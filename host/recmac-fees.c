/* The host's reading of chained tables (recmac-fees.h): the ledger's, or the fees tables of
 * CONTRACT-13.md until the ledger knows them. */
#include "recmac-fees.h"

#include <nettle/hmac.h>
#include <string.h>

static const struct {
	const char *table;
	const char *cols[HOST_REC_COLS_MAX];
	size_t n;
} contract[] = {
	{"fee_item", {"tx_rec", "n", "entity", "service", "reference", "bill", "amount_fils"}, 7},
	{"fee_result", {"tx_rec", "n", "status", "host_ref", "at_s"}, 5},
	{"voucher_payment", {"tx_rec", "code", "redemption_id", "value_fils", "at_s"}, 5},
	{"voucher_issue", {"tx_rec", "code", "value_fils", "expires_s", "why", "at_s"}, 6},
};

int host_rec_contract_columns(const char *table, const char *const **cols, size_t *n)
{
	for (size_t t = 0; t < sizeof(contract) / sizeof(contract[0]); t++)
		if (table && strcmp(contract[t].table, table) == 0) {
			*cols = contract[t].cols;
			*n = contract[t].n;
			return 0;
		}
	return -1;
}

int host_rec_columns(const char *table, const char *const **cols, size_t *n)
{
	if (ledger_rec_columns(table, cols, n) == 0)
		return 0;
	return host_rec_contract_columns(table, cols, n);
}

/* docs/ledger.md, "The chain": T(s), B(b), I(i), V; the ledger's chain.c writes the same. */
static void put_bytes(struct hmac_sha256_ctx *ctx, uint8_t tag, const void *data, size_t len)
{
	uint8_t hdr[5] = {tag, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
	hmac_sha256_update(ctx, sizeof(hdr), hdr);
	hmac_sha256_update(ctx, len, data);
}

static void put_text(struct hmac_sha256_ctx *ctx, const char *s) { put_bytes(ctx, 'T', s, strlen(s)); }

static void put_int(struct hmac_sha256_ctx *ctx, int64_t v)
{
	uint8_t b[9] = {'I'};
	uint64_t u = (uint64_t)v;
	for (int k = 0; k < 8; k++)
		b[1 + k] = (uint8_t)(u >> (56 - 8 * k));
	hmac_sha256_update(ctx, sizeof(b), b);
}

void host_rec_mac_encode(const uint8_t key[LEDGER_KEY_BYTES], const uint8_t prev[LEDGER_MAC_BYTES], int64_t rec,
			 const char *table, const char *const *cols, const struct ledger_rec_val *vals, size_t n,
			 uint8_t out[LEDGER_MAC_BYTES])
{
	struct hmac_sha256_ctx ctx;
	hmac_sha256_set_key(&ctx, LEDGER_KEY_BYTES, key);
	put_text(&ctx, "kiosk-ledger-v1");
	put_bytes(&ctx, 'B', prev, LEDGER_MAC_BYTES);
	put_int(&ctx, rec);
	put_text(&ctx, table);
	put_int(&ctx, (int64_t)n);
	for (size_t c = 0; c < n; c++) {
		put_text(&ctx, cols[c]);
		switch (vals[c].type) {
		case LEDGER_REC_INT: put_int(&ctx, vals[c].i); break;
		case LEDGER_REC_TEXT: put_text(&ctx, vals[c].s ? vals[c].s : ""); break;
		case LEDGER_REC_NULL:
		default: hmac_sha256_update(&ctx, 1, (const uint8_t *)"N"); break;
		}
	}
	hmac_sha256_digest(&ctx, LEDGER_MAC_BYTES, out);
}

int host_rec_mac(const uint8_t key[LEDGER_KEY_BYTES], const uint8_t prev[LEDGER_MAC_BYTES], int64_t rec,
		 const char *table, const struct ledger_rec_val *vals, size_t n, uint8_t out[LEDGER_MAC_BYTES])
{
	const char *const *cols;
	size_t want;
	if (ledger_rec_columns(table, &cols, &want) == 0)
		return ledger_rec_mac(key, prev, rec, table, vals, n, out);
	if (host_rec_contract_columns(table, &cols, &want) != 0 || n != want)
		return -1;
	host_rec_mac_encode(key, prev, rec, table, cols, vals, n, out);
	return 0;
}
