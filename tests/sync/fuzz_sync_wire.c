/* Fuzz target: the parser of every host answer (kiosk/sync/wire.h). The first byte picks
 * the call and the status; the rest is the body. Beyond not crashing: a refusal names the
 * call ("host answer ...") and leaves the answer untouched; an acceptance keeps the
 * contract's ranges (acked within the batch, counts and balances not negative, a fault's rec
 * inside the batch, a known card status, fees amounts and items within their bounds). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk/sync/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int statuses[] = {200, 409, 422, 500, 403, 404, 400, 201};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int status = statuses[data[0] % 8];
	/* 0 records, 1 card, 2 heartbeat, 3 fee, 4 voucher, 5 redeem, 6 payments (7: heartbeat) */
	int call = (data[0] >> 3) % 8;
	const char *body = (const char *)data + 1;
	size_t len = size - 1;
	struct kio_error err = {0};
	if (call == 0) {
		const struct sync_wire_sent sent = {6, 10};
		struct sync_records_answer a, before;
		memset(&a, 0x5A, sizeof(a));
		before = a;
		if (sync_wire_records_answer(status, body, len, &sent, &a, &err) != 0) {
			if (memcmp(&a, &before, sizeof(a)) != 0 || strncmp(err.msg, "host answer ", 12) != 0)
				abort();
			return 0;
		}
		switch (a.kind) {
		case SYNC_RECORDS_ACKED:
			if (a.acked < 5 || a.acked > 10 || a.applied < 0 || a.duplicates < 0 || status != 200)
				abort();
			break;
		case SYNC_RECORDS_SEQUENCE_GAP:
			if (a.acked < 0 || a.acked >= 5 || status != 409)
				abort();
			break;
		case SYNC_RECORDS_CONFLICT:
		case SYNC_RECORDS_CHAIN_BROKEN:
		case SYNC_RECORDS_BAD_RECORD:
			if (a.rec < 6 || a.rec > 10 || !sync_wire_code_known(a.error.code))
				abort();
			break;
		case SYNC_RECORDS_RETRY:
			if (status < 500)
				abort();
			break;
		case SYNC_RECORDS_REFUSED:
			if (!sync_wire_code_known(a.error.code) || status >= 500)
				abort();
			break;
		default: abort();
		}
	} else if (call == 1) {
		struct sync_card_answer a;
		if (sync_wire_card_answer(status, body, len, "7841000024680132", &a, &err) != 0) {
			if (strncmp(err.msg, "host answer ", 12) != 0)
				abort();
			return 0;
		}
		if (a.kind == SYNC_CARD_FOUND &&
		    (a.balance_fils < 0 || strcmp(a.card, "7841000024680132") != 0 || !sync_card_status_name(a.status)))
			abort();
	} else if (call == 3) {
		struct sync_fee_answer a, before;
		memset(&a, 0x5A, sizeof(a));
		before = a;
		if (sync_wire_fee_answer(status, body, len, "police", "fines", "10012345", &a, &err) != 0) {
			if (memcmp(&a, &before, sizeof(a)) != 0 || strncmp(err.msg, "host answer ", 12) != 0)
				abort();
			return 0;
		}
		if (a.kind == SYNC_FEE_FOUND) {
			if (status != 200 || !sync_fee_kind_name(a.fee_kind) || a.n_items > SYNC_FEE_ITEMS_MAX ||
			    a.n_items > a.n_items_host || a.due_fils < 0 || a.due_fils > SYNC_WIRE_FILS_MAX)
				abort();
			if (a.fee_kind == SYNC_FEE_KIND_OPEN &&
			    (a.min_fils < 1 || a.max_fils < a.min_fils || a.step_fils < 1 || a.max_fils > SYNC_WIRE_FILS_MAX))
				abort();
			if (a.fee_kind != SYNC_FEE_KIND_ITEMS && a.n_items_host != 0)
				abort();
			for (size_t k = 0; k < a.n_items; k++)
				if (a.items[k].amount_fils < 1 || a.items[k].amount_fils > SYNC_WIRE_FILS_MAX ||
				    strlen(a.items[k].id) < 1 || strlen(a.items[k].id) > SYNC_FEE_ID_MAX)
					abort();
		} else if (a.kind == SYNC_FEE_UNKNOWN && status != 404) {
			abort();
		}
	} else if (call == 4) {
		struct sync_voucher_answer a, before;
		memset(&a, 0x5A, sizeof(a));
		before = a;
		if (sync_wire_voucher_answer(status, body, len, "9123456789012345", &a, &err) != 0) {
			if (memcmp(&a, &before, sizeof(a)) != 0 || strncmp(err.msg, "host answer ", 12) != 0)
				abort();
			return 0;
		}
		if (!sync_voucher_kind_name(a.kind) || a.kind == SYNC_VOUCHER_REDEEMED || a.kind == SYNC_VOUCHER_MISMATCH)
			abort();
		if (a.kind == SYNC_VOUCHER_VALID &&
		    (status != 200 || a.value_fils < 1 || a.value_fils > SYNC_WIRE_FILS_MAX || strlen(a.expires) != 10 ||
		     a.expires_s < 946684800))
			abort();
	} else if (call == 5) {
		struct sync_redeem_answer a, before;
		memset(&a, 0x5A, sizeof(a));
		before = a;
		if (sync_wire_redeem_answer(status, body, len, "9123456789012345", "0f4b3c2a-9d8e-4f71-a6b5-c4d3e2f1a0b9", 5000,
					    &a, &err) != 0) {
			if (memcmp(&a, &before, sizeof(a)) != 0 || strncmp(err.msg, "host answer ", 12) != 0)
				abort();
			return 0;
		}
		if (a.kind == SYNC_VOUCHER_VALID ||
		    (a.kind == SYNC_VOUCHER_REDEEMED &&
		     (status != 200 || a.redeemed_fils != 5000 || a.remaining_fils < 0 || a.remaining_fils > SYNC_WIRE_FILS_MAX)))
			abort();
	} else if (call == 6) {
		struct sync_pay_answer a, before;
		memset(&a, 0x5A, sizeof(a));
		before = a;
		if (sync_wire_pay_answer(status, body, len, "8d3f6b9e-2c41-4e0a-9b7d-5f1e2a3c4d5e", 2, &a, &err) != 0) {
			if (memcmp(&a, &before, sizeof(a)) != 0 || strncmp(err.msg, "host answer ", 12) != 0)
				abort();
			return 0;
		}
		if (a.kind == SYNC_PAY_ANSWERED) {
			if (status != 200 || a.n != 2)
				abort();
			for (int k = 0; k < 2; k++)
				if (a.lines[k].status == SYNC_LINE_PAID ? a.lines[k].host_ref[0] == '\0'
									 : a.lines[k].status != SYNC_LINE_REFUSED ||
										   a.lines[k].reason[0] == '\0')
					abort();
		}
	} else {
		int64_t t = 0;
		if (sync_wire_heartbeat_answer(status, body, len, &t, &err) == 0 && (t < 1 || status != 200))
			abort();
	}
	return 0;
}
