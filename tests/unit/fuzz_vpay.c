/* Fuzz target: the pay.voucher machine (kiosk/flows/vpay.h) driven by any sequence of taps and
 * host answers over a real ledger. After every step its invariants hold (a REDEEM ask only
 * with its intent committed, PAID only with the redemption booked at the intent's value, no way
 * out while the redeem is out), and after the basket's close the ledger's invariant 15 and the
 * rest hold (ledger_check). One basket per input, on one ledger kept across inputs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kiosk/flows/vpay.h"
#include "kiosk/ledger/basket.h"
#include "kiosk/ledger/tx.h"
#include "kiosk/sync/sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1798761600
#define DUE 45550

static struct ledger *ledger;
static char dir[512], path[600];

/* The ledger and its folder go when the run ends. */
static void cleanup(void)
{
	ledger_close(ledger);
	static const char *const tails[] = {"", ".secret", ".lock", "-wal", "-shm", "-journal"};
	for (size_t k = 0; k < sizeof(tails) / sizeof(tails[0]); k++) {
		char f[640];
		snprintf(f, sizeof(f), "%s%s", path, tails[k]);
		unlink(f);
	}
	rmdir(dir);
}

static struct ledger *the_ledger(void)
{
	if (ledger)
		return ledger;
	/* The run's own TMPDIR, else this build's folder (FUZZ_TMP_DIR, meson): a shared /tmp is
	 * no place a test may assume it can write, as fuzz_note_rows says. */
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/fuzz-vpay-XXXXXX", tmp && tmp[0] ? tmp : FUZZ_TMP_DIR);
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/k.db", dir);
	struct kio_error err = {0};
	if (ledger_open(path, &ledger, &err) != 0) {
		fprintf(stderr, "fuzz_vpay: %s\n", err.msg);
		abort();
	}
	atexit(cleanup);
	return ledger;
}

static const enum sync_voucher_kind kinds[] = {SYNC_VOUCHER_VALID,   SYNC_VOUCHER_REDEEMED, SYNC_VOUCHER_UNKNOWN,
					       SYNC_VOUCHER_SPENT,   SYNC_VOUCHER_EXPIRED,  SYNC_VOUCHER_MISMATCH,
					       SYNC_VOUCHER_RETRY,   SYNC_VOUCHER_REFUSED};

static void check_view(struct ledger *l, int64_t tx_id, const struct vpay *v)
{
	struct vpay_view view;
	vpay_view(v, &view);
	if (view.digits < 0 || view.digits > VCODE_DIGITS || strlen(view.code_grouped) > VCODE_FORMATTED_LEN)
		abort();
	struct ledger_voucher_intent in[LEDGER_BASKET_INTENTS_MAX];
	size_t n = 0;
	struct kio_error err = {0};
	if (ledger_basket_intents(l, tx_id, in, LEDGER_BASKET_INTENTS_MAX, &n, &err) != 0)
		abort();
	/* vpay.h invariant 2: the redeem asked for is a committed intent, as intended. */
	if (view.step == VPAY_REDEEMING) {
		bool found = false;
		for (size_t k = 0; k < n; k++)
			found = found || (strcmp(in[k].redemption_id, view.redemption_id) == 0 &&
					  in[k].state == LEDGER_INTENT_PENDING && in[k].value_fils == view.amount_fils &&
					  strcmp(in[k].code, view.code) == 0);
		if (!found || view.back_enabled || view.keys_enabled)
			abort();
	}
	/* Invariant 5: PAID is what the ledger booked. */
	if (view.outcome == VPAY_PAID) {
		int64_t booked = 0;
		for (size_t k = 0; k < n; k++)
			if (in[k].state == LEDGER_INTENT_BOOKED)
				booked += in[k].value_fils;
		if (view.paid_fils <= 0 || booked < view.paid_fils)
			abort();
	}
	if (view.ask == VPAY_ASK_REDEEM && view.step != VPAY_REDEEMING)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ledger *l = the_ledger();
	struct kio_error err = {0};
	struct ledger_fee_line line = {.entity = "police", .service = "police-fines", .amount_fils = DUE};
	struct ledger_tx tx;
	if (ledger_basket_open(l, NOW, "en", &line, 1, &tx, &err) != 0)
		abort();
	struct vpay *v = NULL;
	if (vpay_new(l, tx.id, DUE, &v, &err) != 0)
		abort();
	for (size_t i = 0; i < size; i++) {
		uint8_t b = data[i];
		uint8_t arg = i + 1 < size ? data[i + 1] : 0;
		struct vpay_input in = {.kind = (enum vpay_input_kind)(b % VPAY_IN_COUNT)};
		struct sync_voucher_result valid = {0};
		struct sync_redeem_result redeem = {0};
		struct vpay_view before;
		vpay_view(v, &before);
		switch (in.kind) {
		case VPAY_IN_KEY: /* '0'..'9' and ':' (refused) */
			in.digit = (char)('0' + arg % 11);
			i++;
			break;
		case VPAY_IN_VALID:
			valid.result = arg & 0x80 ? SYNC_ASK_UNREACHABLE : SYNC_ASK_ANSWERED;
			valid.answer.kind = kinds[arg % 8];
			valid.answer.value_fils = (int64_t)(arg % 7) * 10000 - 5000;
			snprintf(valid.answer.expires, sizeof(valid.answer.expires), "2027-01-30");
			in.valid = arg == 0xFF ? NULL : &valid;
			i++;
			break;
		case VPAY_IN_REDEEMED:
			redeem.result = arg & 0x80 ? SYNC_ASK_NOT_CONFIGURED : SYNC_ASK_ANSWERED;
			redeem.answer.kind = kinds[arg % 8];
			redeem.answer.redeemed_fils = arg & 0x40 ? before.amount_fils + 1 : before.amount_fils;
			in.redeem = &redeem;
			i++;
			break;
		default: break;
		}
		int rc = vpay_step(v, &in, NOW);
		if (rc != 0 && rc != KIO_ERR_INVALID && rc != KIO_ERR_BUSY)
			abort();
		/* Invariant 3: nothing but the answer or a give-up leaves REDEEMING. */
		if (before.step == VPAY_REDEEMING && in.kind == VPAY_IN_BACK && rc != KIO_ERR_BUSY)
			abort();
		if (rc == 0 && in.kind == VPAY_IN_REDEEM && before.step == VPAY_CODE) {
			struct vpay_view after;
			vpay_view(v, &after);
			if (after.step != VPAY_VALIDATING && after.step != VPAY_REDEEMING && after.step != VPAY_OVER)
				abort();
		}
		check_view(l, tx.id, v);
		vpay_ask_sent(v);
	}
	vpay_free(v);
	/* The basket ends; every intent is booked or void (basket.c invariant 15). */
	int64_t due = 0, paid = 0;
	if (ledger_basket_due(l, tx.id, &due, &paid, &err) != 0)
		abort();
	if (ledger_basket_close(l, tx.id, NOW, LEDGER_REST_VOUCHER, NULL, 30, NULL, &err) != 0 ||
	    ledger_check(l, &err) != 0) {
		fprintf(stderr, "fuzz_vpay: %s\n", err.msg);
		abort();
	}
	struct ledger_voucher_intent in[LEDGER_BASKET_INTENTS_MAX];
	size_t n = 0;
	if (ledger_basket_intents(l, tx.id, in, LEDGER_BASKET_INTENTS_MAX, &n, &err) != 0)
		abort();
	for (size_t k = 0; k < n; k++)
		if (in[k].state == LEDGER_INTENT_PENDING)
			abort();
	return 0;
}
