/* The `pay.voucher` machine (kiosk/flows/vpay.h) over a real ledger: every row of its table
 * and each numbered invariant, the host's answers given as the sync would hand them in. */
#include <glib.h>
#include <string.h>

#include "kiosk/core/vcode.h"
#include "kiosk/flows/vpay.h"
#include "kiosk/ledger/basket.h"
#include "kiosk/ledger/tx.h"
#include "kiosk/sync/sync.h"
#include "tests/common/ledgerfix.h"

#define NOW 1798761600
#define DUE 45550 /* 455.50 AED */

struct fx {
	struct lfix f;
	struct ledger_tx tx;
	struct vpay *v;
	char code[VCODE_DIGITS + 1];
};

static void make_code(const char *first15, char out[VCODE_DIGITS + 1])
{
	snprintf(out, VCODE_DIGITS + 1, "%s%c", first15, vcode_damm(first15, 15));
}

static void fx_new(struct fx *x)
{
	memset(x, 0, sizeof(*x));
	lfix_new(&x->f, "kiosk-vpay", NOW);
	struct ledger_fee_line lines[] = {{.entity = "police", .service = "police-fines", .amount_fils = 30000},
					  {.entity = "dewa", .service = "dewa-bill", .amount_fils = DUE - 30000}};
	struct kio_error err = {0};
	g_assert_cmpint(ledger_basket_open(x->f.l, NOW, "en", lines, 2, &x->tx, &err), ==, 0);
	g_assert_cmpint(vpay_new(x->f.l, x->tx.id, DUE, &x->v, &err), ==, 0);
	make_code("912345678901234", x->code);
}

static void fx_free(struct fx *x)
{
	vpay_free(x->v);
	lfix_free(&x->f);
}

static int in(struct fx *x, enum vpay_input_kind kind)
{
	struct vpay_input i = {.kind = kind};
	return vpay_step(x->v, &i, NOW);
}

static void type(struct fx *x, const char *digits)
{
	for (const char *p = digits; *p; p++) {
		struct vpay_input i = {.kind = VPAY_IN_KEY, .digit = *p};
		g_assert_cmpint(vpay_step(x->v, &i, NOW), ==, 0);
	}
}

static struct vpay_view view(struct fx *x)
{
	struct vpay_view v;
	vpay_view(x->v, &v);
	return v;
}

static int valid_answer(struct fx *x, enum sync_ask_result res, enum sync_voucher_kind kind, int64_t value)
{
	struct sync_voucher_result r = {.ask = 7, .result = res};
	r.answer.kind = kind;
	r.answer.value_fils = value;
	snprintf(r.answer.expires, sizeof(r.answer.expires), "2027-01-30");
	struct vpay_input i = {.kind = VPAY_IN_VALID, .valid = &r};
	return vpay_step(x->v, &i, NOW);
}

static int redeem_answer(struct fx *x, enum sync_ask_result res, enum sync_voucher_kind kind, int64_t redeemed)
{
	struct sync_redeem_result r = {.ask = 8, .result = res, .attempts = 1};
	r.answer.kind = kind;
	r.answer.redeemed_fils = redeemed;
	struct vpay_input i = {.kind = VPAY_IN_REDEEMED, .redeem = &r};
	return vpay_step(x->v, &i, NOW + 5);
}

static size_t intents(struct fx *x, struct ledger_voucher_intent out[LEDGER_BASKET_INTENTS_MAX])
{
	size_t n = 0;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_basket_intents(x->f.l, x->tx.id, out, LEDGER_BASKET_INTENTS_MAX, &n, &err), ==, 0);
	return n;
}

/* Typed, checked valid at the host for value: the machine at VALID. */
static void to_valid(struct fx *x, int64_t value)
{
	type(x, x->code);
	g_assert_cmpint(in(x, VPAY_IN_REDEEM), ==, 0);
	vpay_ask_sent(x->v);
	g_assert_cmpint(valid_answer(x, SYNC_ASK_ANSWERED, SYNC_VOUCHER_VALID, value), ==, 0);
	g_assert_cmpint(view(x).step, ==, VPAY_VALID);
}

static void test_code_keypad(void)
{
	struct fx x;
	fx_new(&x);
	struct vpay_view v = view(&x);
	g_assert_cmpint(v.step, ==, VPAY_CODE);
	g_assert_cmpstr(v.msg, ==, "voucher.enter");
	g_assert_false(v.redeem_enabled);
	g_assert_true(v.back_enabled && v.keys_enabled);
	g_assert_cmpint(v.ask, ==, VPAY_ASK_NONE);
	g_assert_cmpint(v.outcome, ==, VPAY_GOING);
	g_assert_cmpint(v.remaining_fils, ==, DUE);
	/* A wrong first digit is said at once (a card number typed here). */
	type(&x, "7");
	v = view(&x);
	g_assert_cmpstr(v.msg, ==, "voucher.bad-prefix");
	g_assert_true(v.msg_is_error);
	g_assert_cmpint(in(&x, VPAY_IN_DEL), ==, 0);
	g_assert_cmpstr(view(&x).msg, ==, "voucher.enter");
	type(&x, "912345");
	v = view(&x);
	g_assert_cmpstr(v.code_grouped, ==, "9123 45");
	g_assert_cmpint(v.digits, ==, 6);
	g_assert_cmpstr(v.msg, ==, "voucher.incomplete");
	g_assert_false(v.redeem_enabled);
	/* Redeem with a code that does not parse: refused, nothing changes. */
	g_assert_cmpint(in(&x, VPAY_IN_REDEEM), ==, KIO_ERR_INVALID);
	g_assert_cmpint(view(&x).step, ==, VPAY_CODE);
	g_assert_cmpint(in(&x, VPAY_IN_CLEAR), ==, 0);
	g_assert_cmpint(view(&x).digits, ==, 0);
	/* The check digit wrong: mistyped. */
	char bad[VCODE_DIGITS + 1];
	memcpy(bad, x.code, sizeof(bad));
	bad[15] = bad[15] == '9' ? '0' : (char)(bad[15] + 1);
	type(&x, bad);
	v = view(&x);
	g_assert_cmpstr(v.msg, ==, "voucher.bad-check");
	g_assert_false(v.redeem_enabled);
	/* A 17th digit or a non-digit is refused. */
	struct vpay_input k = {.kind = VPAY_IN_KEY, .digit = '1'};
	g_assert_cmpint(vpay_step(x.v, &k, NOW), ==, KIO_ERR_INVALID);
	g_assert_cmpint(in(&x, VPAY_IN_DEL), ==, 0);
	k.digit = 'x';
	g_assert_cmpint(vpay_step(x.v, &k, NOW), ==, KIO_ERR_INVALID);
	k.digit = x.code[15];
	g_assert_cmpint(vpay_step(x.v, &k, NOW), ==, 0);
	v = view(&x);
	g_assert_cmpstr(v.msg, ==, "voucher.ok");
	g_assert_true(v.redeem_enabled);
	char grouped[VCODE_FORMATTED_LEN + 1];
	g_assert_true(vcode_format(x.code, grouped));
	g_assert_cmpstr(v.code_grouped, ==, grouped);
	/* Answers nobody asked for move nothing (invariant 6). */
	g_assert_cmpint(valid_answer(&x, SYNC_ASK_ANSWERED, SYNC_VOUCHER_VALID, 100), ==, KIO_ERR_INVALID);
	g_assert_cmpint(redeem_answer(&x, SYNC_ASK_ANSWERED, SYNC_VOUCHER_REDEEMED, 100), ==, KIO_ERR_INVALID);
	g_assert_cmpint(in(&x, VPAY_IN_GIVE_UP), ==, KIO_ERR_INVALID);
	/* Back at CODE: over, nothing written (invariant 1). */
	g_assert_cmpint(in(&x, VPAY_IN_BACK), ==, 0);
	v = view(&x);
	g_assert_cmpint(v.step, ==, VPAY_OVER);
	g_assert_cmpint(v.outcome, ==, VPAY_BACK);
	g_assert_cmpint(in(&x, VPAY_IN_BACK), ==, KIO_ERR_INVALID);
	struct ledger_voucher_intent l[LEDGER_BASKET_INTENTS_MAX];
	g_assert_cmpuint(intents(&x, l), ==, 0);
	fx_free(&x);
}

static void test_validate_answers(void)
{
	static const struct {
		enum sync_ask_result res;
		enum sync_voucher_kind kind;
		const char *msg;
	} cases[] = {
		{SYNC_ASK_ANSWERED, SYNC_VOUCHER_UNKNOWN, "voucher.unknown"},
		{SYNC_ASK_ANSWERED, SYNC_VOUCHER_SPENT, "voucher.spent"},
		{SYNC_ASK_ANSWERED, SYNC_VOUCHER_EXPIRED, "voucher.expired"},
		{SYNC_ASK_ANSWERED, SYNC_VOUCHER_RETRY, "voucher.needs-host"},
		{SYNC_ASK_ANSWERED, SYNC_VOUCHER_REFUSED, "voucher.host-error"},
		{SYNC_ASK_ANSWERED, SYNC_VOUCHER_MISMATCH, "voucher.host-error"},
		{SYNC_ASK_UNREACHABLE, SYNC_VOUCHER_VALID, "voucher.needs-host"},
		{SYNC_ASK_NOT_CONFIGURED, SYNC_VOUCHER_VALID, "voucher.needs-host"},
	};
	struct fx x;
	fx_new(&x);
	type(&x, x.code);
	for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
		g_assert_cmpint(in(&x, VPAY_IN_REDEEM), ==, 0);
		struct vpay_view v = view(&x);
		g_assert_cmpint(v.step, ==, VPAY_VALIDATING);
		g_assert_cmpint(v.ask, ==, VPAY_ASK_VALIDATE);
		g_assert_cmpstr(v.code, ==, x.code);
		g_assert_cmpstr(v.msg, ==, "voucher.checking");
		g_assert_false(v.keys_enabled || v.redeem_enabled);
		g_assert_true(v.back_enabled);
		vpay_ask_sent(x.v);
		g_assert_cmpint(view(&x).ask, ==, VPAY_ASK_NONE);
		/* Keys wait for the answer. */
		g_assert_cmpint(in(&x, VPAY_IN_DEL), ==, KIO_ERR_INVALID);
		g_assert_cmpint(valid_answer(&x, cases[c].res, cases[c].kind, 100), ==, 0);
		v = view(&x);
		g_assert_cmpint(v.step, ==, VPAY_CODE);
		g_assert_cmpstr(v.msg, ==, cases[c].msg);
		g_assert_true(v.msg_is_error);
		g_assert_false(v.value_known);
		/* The code stays for another try. */
		char grouped[VCODE_FORMATTED_LEN + 1];
		g_assert_true(vcode_format(x.code, grouped));
		g_assert_cmpstr(v.code_grouped, ==, grouped);
		g_assert_true(v.redeem_enabled);
	}
	/* Give-up: no answer came. */
	g_assert_cmpint(in(&x, VPAY_IN_REDEEM), ==, 0);
	g_assert_cmpint(in(&x, VPAY_IN_GIVE_UP), ==, 0);
	g_assert_cmpstr(view(&x).msg, ==, "voucher.needs-host");
	/* Back while validating, then the late answer: nothing moves (invariant 6). */
	g_assert_cmpint(in(&x, VPAY_IN_REDEEM), ==, 0);
	g_assert_cmpint(in(&x, VPAY_IN_BACK), ==, 0);
	g_assert_cmpint(view(&x).step, ==, VPAY_CODE);
	g_assert_cmpstr(view(&x).msg, ==, "voucher.ok");
	g_assert_cmpint(valid_answer(&x, SYNC_ASK_ANSWERED, SYNC_VOUCHER_VALID, 100), ==, KIO_ERR_INVALID);
	/* A "valid" of no value is the host's error. */
	g_assert_cmpint(in(&x, VPAY_IN_REDEEM), ==, 0);
	g_assert_cmpint(valid_answer(&x, SYNC_ASK_ANSWERED, SYNC_VOUCHER_VALID, 0), ==, 0);
	g_assert_cmpstr(view(&x).msg, ==, "voucher.host-error");
	/* Nothing of it was durable (invariant 1). */
	struct ledger_voucher_intent l[LEDGER_BASKET_INTENTS_MAX];
	g_assert_cmpuint(intents(&x, l), ==, 0);
	fx_free(&x);
}

static void test_valid_view(void)
{
	struct fx x;
	fx_new(&x);
	/* Worth less than the due: no rest. */
	to_valid(&x, 20000);
	struct vpay_view v = view(&x);
	g_assert_cmpstr(v.msg, ==, "voucher.valid");
	g_assert_true(v.value_known);
	g_assert_cmpint(v.value_fils, ==, 20000);
	g_assert_cmpstr(v.expires, ==, "2027-01-30");
	g_assert_cmpstr(v.whole_msg, ==, "voucher.whole");
	g_assert_null(v.excess_msg);
	g_assert_cmpint(v.excess_fils, ==, 0);
	g_assert_true(v.redeem_enabled && v.back_enabled && v.keys_enabled);
	g_assert_cmpint(v.ask, ==, VPAY_ASK_NONE);
	/* Back: to CODE with the code, the value forgotten. */
	g_assert_cmpint(in(&x, VPAY_IN_BACK), ==, 0);
	v = view(&x);
	g_assert_cmpint(v.step, ==, VPAY_CODE);
	g_assert_false(v.value_known);
	g_assert_cmpint(v.digits, ==, VCODE_DIGITS);
	/* Worth more than the due: the excess is said before redeem (invariant 5). */
	g_assert_cmpint(in(&x, VPAY_IN_REDEEM), ==, 0);
	g_assert_cmpint(valid_answer(&x, SYNC_ASK_ANSWERED, SYNC_VOUCHER_VALID, 50000), ==, 0);
	v = view(&x);
	g_assert_cmpint(v.excess_fils, ==, 50000 - DUE);
	g_assert_cmpstr(v.excess_msg, ==, "voucher.excess");
	/* A key at VALID edits the code: back to CODE. */
	g_assert_cmpint(in(&x, VPAY_IN_DEL), ==, 0);
	v = view(&x);
	g_assert_cmpint(v.step, ==, VPAY_CODE);
	g_assert_cmpstr(v.msg, ==, "voucher.incomplete");
	g_assert_false(v.value_known);
	struct ledger_voucher_intent l[LEDGER_BASKET_INTENTS_MAX];
	g_assert_cmpuint(intents(&x, l), ==, 0);
	fx_free(&x);
}

/* Invariants 2, 3 and 5: the intent is committed before the ask shows; while it is out the
 * machine cannot be left; the whole value is booked and the excess is the basket's rest. */
static void test_redeem_paid(void)
{
	struct fx x;
	fx_new(&x);
	to_valid(&x, 50000);
	g_assert_cmpint(in(&x, VPAY_IN_REDEEM), ==, 0);
	struct vpay_view v = view(&x);
	g_assert_cmpint(v.step, ==, VPAY_REDEEMING);
	g_assert_cmpint(v.ask, ==, VPAY_ASK_REDEEM);
	g_assert_cmpstr(v.msg, ==, "voucher.redeeming");
	struct ledger_voucher_intent l[LEDGER_BASKET_INTENTS_MAX];
	g_assert_cmpuint(intents(&x, l), ==, 1);
	g_assert_cmpint(l[0].state, ==, LEDGER_INTENT_PENDING);
	g_assert_cmpstr(v.redemption_id, ==, l[0].redemption_id);
	g_assert_cmpstr(v.code, ==, x.code);
	g_assert_cmpint(v.amount_fils, ==, 50000);
	g_assert_cmpint(l[0].value_fils, ==, 50000);
	g_assert_false(v.back_enabled || v.keys_enabled || v.redeem_enabled);
	vpay_ask_sent(x.v);
	g_assert_cmpint(view(&x).ask, ==, VPAY_ASK_NONE);
	g_assert_cmpint(in(&x, VPAY_IN_BACK), ==, KIO_ERR_BUSY);
	g_assert_cmpint(in(&x, VPAY_IN_CLEAR), ==, KIO_ERR_BUSY);
	g_assert_cmpint(in(&x, VPAY_IN_REDEEM), ==, KIO_ERR_BUSY);
	g_assert_cmpint(valid_answer(&x, SYNC_ASK_ANSWERED, SYNC_VOUCHER_VALID, 50000), ==, KIO_ERR_INVALID);
	g_assert_cmpint(redeem_answer(&x, SYNC_ASK_ANSWERED, SYNC_VOUCHER_REDEEMED, 50000), ==, 0);
	v = view(&x);
	g_assert_cmpint(v.step, ==, VPAY_OVER);
	g_assert_cmpint(v.outcome, ==, VPAY_PAID);
	g_assert_cmpint(v.paid_fils, ==, 50000);
	g_assert_cmpuint(intents(&x, l), ==, 1);
	g_assert_cmpint(l[0].state, ==, LEDGER_INTENT_BOOKED);
	int64_t due = 0, paid = 0;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_basket_due(x.f.l, x.tx.id, &due, &paid, &err), ==, 0);
	g_assert_cmpint(paid, ==, 50000);
	/* The fees flow pays the lines; the excess over them is the rest, to a new voucher. */
	g_assert_cmpint(ledger_basket_line_result(x.f.l, x.tx.id, 1, LEDGER_LINE_PAID, "P-1", NOW, &err), ==, 0);
	g_assert_cmpint(ledger_basket_line_result(x.f.l, x.tx.id, 2, LEDGER_LINE_PAID, "P-2", NOW, &err), ==, 0);
	struct ledger_basket_end end;
	g_assert_cmpint(ledger_basket_close(x.f.l, x.tx.id, NOW, LEDGER_REST_VOUCHER, NULL, 30, &end, &err), ==, 0);
	g_assert_cmpint(end.rest_fils, ==, 50000 - DUE);
	g_assert_cmpint(ledger_check(x.f.l, &err), ==, 0);
	g_assert_cmpint(in(&x, VPAY_IN_BACK), ==, KIO_ERR_INVALID);
	fx_free(&x);
}

static void test_redeem_refused(void)
{
	static const struct {
		enum sync_ask_result res;
		enum sync_voucher_kind kind;
		const char *msg;
	} cases[] = {
		{SYNC_ASK_ANSWERED, SYNC_VOUCHER_SPENT, "voucher.spent"},
		{SYNC_ASK_ANSWERED, SYNC_VOUCHER_UNKNOWN, "voucher.unknown"},
		{SYNC_ASK_ANSWERED, SYNC_VOUCHER_EXPIRED, "voucher.expired"},
		{SYNC_ASK_ANSWERED, SYNC_VOUCHER_MISMATCH, "voucher.host-error"},
		{SYNC_ASK_ANSWERED, SYNC_VOUCHER_REFUSED, "voucher.host-error"},
		{SYNC_ASK_NOT_CONFIGURED, SYNC_VOUCHER_REDEEMED, "voucher.needs-host"},
	};
	for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
		struct fx x;
		fx_new(&x);
		to_valid(&x, 20000);
		g_assert_cmpint(in(&x, VPAY_IN_REDEEM), ==, 0);
		g_assert_cmpint(redeem_answer(&x, cases[c].res, cases[c].kind, 20000), ==, 0);
		struct vpay_view v = view(&x);
		g_assert_cmpint(v.step, ==, VPAY_CODE);
		g_assert_cmpstr(v.msg, ==, cases[c].msg);
		/* Not booked; the close voids it (invariant 4, basket.c invariant 15). */
		struct ledger_voucher_intent l[LEDGER_BASKET_INTENTS_MAX];
		g_assert_cmpuint(intents(&x, l), ==, 1);
		g_assert_cmpint(l[0].state, ==, LEDGER_INTENT_PENDING);
		struct kio_error err = {0};
		g_assert_cmpint(ledger_basket_close(x.f.l, x.tx.id, NOW, LEDGER_REST_NONE, NULL, 30, NULL, &err), ==, 0);
		g_assert_cmpuint(intents(&x, l), ==, 1);
		g_assert_cmpint(l[0].state, ==, LEDGER_INTENT_VOID);
		fx_free(&x);
	}
	/* The host redeemed another figure than asked: not booked. */
	struct fx x;
	fx_new(&x);
	to_valid(&x, 20000);
	g_assert_cmpint(in(&x, VPAY_IN_REDEEM), ==, 0);
	g_assert_cmpint(redeem_answer(&x, SYNC_ASK_ANSWERED, SYNC_VOUCHER_REDEEMED, 19999), ==, 0);
	g_assert_cmpstr(view(&x).msg, ==, "voucher.host-error");
	int64_t paid = -1;
	struct kio_error err = {0};
	g_assert_cmpint(ledger_basket_due(x.f.l, x.tx.id, NULL, &paid, &err), ==, 0);
	g_assert_cmpint(paid, ==, 0);
	fx_free(&x);
}

/* Invariant 4: given up, the same code goes straight back to the same redemption. */
static void test_give_up_and_resume(void)
{
	struct fx x;
	fx_new(&x);
	to_valid(&x, 20000);
	g_assert_cmpint(in(&x, VPAY_IN_REDEEM), ==, 0);
	char rid[37];
	snprintf(rid, sizeof(rid), "%s", view(&x).redemption_id);
	vpay_ask_sent(x.v);
	g_assert_cmpint(in(&x, VPAY_IN_GIVE_UP), ==, 0);
	struct vpay_view v = view(&x);
	g_assert_cmpint(v.step, ==, VPAY_CODE);
	g_assert_cmpstr(v.msg, ==, "voucher.unconfirmed");
	g_assert_true(v.redeem_enabled);
	/* Redeem again: no validate (the host would say spent for its own redemption). */
	g_assert_cmpint(in(&x, VPAY_IN_REDEEM), ==, 0);
	v = view(&x);
	g_assert_cmpint(v.step, ==, VPAY_REDEEMING);
	g_assert_cmpint(v.ask, ==, VPAY_ASK_REDEEM);
	g_assert_cmpstr(v.redemption_id, ==, rid);
	g_assert_cmpint(v.amount_fils, ==, 20000);
	struct ledger_voucher_intent l[LEDGER_BASKET_INTENTS_MAX];
	g_assert_cmpuint(intents(&x, l), ==, 1);
	g_assert_cmpint(redeem_answer(&x, SYNC_ASK_ANSWERED, SYNC_VOUCHER_REDEEMED, 20000), ==, 0);
	g_assert_cmpint(view(&x).outcome, ==, VPAY_PAID);
	g_assert_cmpint(view(&x).paid_fils, ==, 20000);
	fx_free(&x);
}

static void test_too_many_and_ledger_failures(void)
{
	struct fx x;
	fx_new(&x);
	struct kio_error err = {0};
	char other[VCODE_DIGITS + 1], rid[37];
	make_code("987654321098765", other);
	for (int k = 0; k < LEDGER_BASKET_INTENTS_MAX; k++)
		g_assert_cmpint(ledger_basket_voucher_intent(x.f.l, x.tx.id, other, 100 + k, NOW, rid, &err), ==, 0);
	to_valid(&x, 20000);
	g_assert_cmpint(in(&x, VPAY_IN_REDEEM), ==, 0);
	struct vpay_view v = view(&x);
	g_assert_cmpint(v.step, ==, VPAY_CODE);
	g_assert_cmpstr(v.msg, ==, "voucher.too-many");
	g_assert_cmpint(v.ask, ==, VPAY_ASK_NONE);
	fx_free(&x);

	/* The basket ended under the machine (the embedding flow broke invariant 3): the intent
	 * cannot be written, so nothing is asked: out of service. */
	fx_new(&x);
	to_valid(&x, 20000);
	g_assert_cmpint(ledger_basket_close(x.f.l, x.tx.id, NOW, LEDGER_REST_NONE, NULL, 30, NULL, &err), ==, 0);
	g_assert_cmpint(in(&x, VPAY_IN_REDEEM), ==, 0);
	v = view(&x);
	g_assert_cmpint(v.outcome, ==, VPAY_OUT_OF_SERVICE);
	g_assert_cmpstr(v.msg, ==, "voucher.error.ledger");
	g_assert_cmpint(v.ask, ==, VPAY_ASK_NONE);
	fx_free(&x);

	/* Ended while the redeem was out: the answer cannot be booked; the close voided it, so
	 * the host gives the value back. */
	fx_new(&x);
	to_valid(&x, 20000);
	g_assert_cmpint(in(&x, VPAY_IN_REDEEM), ==, 0);
	g_assert_cmpint(ledger_basket_close(x.f.l, x.tx.id, NOW, LEDGER_REST_NONE, NULL, 30, NULL, &err), ==, 0);
	g_assert_cmpint(redeem_answer(&x, SYNC_ASK_ANSWERED, SYNC_VOUCHER_REDEEMED, 20000), ==, 0);
	g_assert_cmpint(view(&x).outcome, ==, VPAY_OUT_OF_SERVICE);
	struct ledger_voucher_intent l[LEDGER_BASKET_INTENTS_MAX];
	g_assert_cmpuint(intents(&x, l), ==, 1);
	g_assert_cmpint(l[0].state, ==, LEDGER_INTENT_VOID);
	fx_free(&x);
}

static void test_new_refuses(void)
{
	struct lfix f;
	lfix_new(&f, "kiosk-vpay", NOW);
	struct kio_error err = {0};
	struct vpay *v = (struct vpay *)&f; /* set to NULL by a refusal */
	struct ledger_fee_line one = {.entity = "rta", .service = "salik-recharge", .amount_fils = 5000};
	struct ledger_tx tx;
	g_assert_cmpint(ledger_basket_open(f.l, NOW, "ar", &one, 1, &tx, &err), ==, 0);
	g_assert_cmpint(vpay_new(f.l, tx.id, 0, &v, &err), ==, KIO_ERR_INVALID);
	g_assert_null(v);
	g_assert_cmpint(ledger_basket_close(f.l, tx.id, NOW, LEDGER_REST_NONE, NULL, 30, NULL, &err), ==, 0);
	g_assert_cmpint(vpay_new(f.l, tx.id, 5000, &v, &err), ==, KIO_ERR_INVALID); /* ended */
	struct ledger_tx top;
	g_assert_cmpint(ledger_tx_open(f.l, NOW, LEDGER_TX_TOPUP, "en", "7840123456789012", &top, &err), ==, 0);
	g_assert_cmpint(vpay_new(f.l, top.id, 5000, &v, &err), ==, KIO_ERR_INVALID);
	g_assert_nonnull(strstr(err.msg, "not an open fees"));
	vpay_free(NULL);
	lfix_free(&f);
	g_assert_cmpstr(vpay_step_name(VPAY_REDEEMING), ==, "redeeming");
	g_assert_null(vpay_step_name(VPAY_STEP_COUNT));
	g_assert_cmpstr(vpay_outcome_name(VPAY_OUT_OF_SERVICE), ==, "out-of-service");
	g_assert_null(vpay_outcome_name(-1));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vpay/code-keypad", test_code_keypad);
	g_test_add_func("/vpay/validate-answers", test_validate_answers);
	g_test_add_func("/vpay/valid-view", test_valid_view);
	g_test_add_func("/vpay/redeem-paid", test_redeem_paid);
	g_test_add_func("/vpay/redeem-refused", test_redeem_refused);
	g_test_add_func("/vpay/give-up-and-resume", test_give_up_and_resume);
	g_test_add_func("/vpay/too-many-and-ledger-failures", test_too_many_and_ledger_failures);
	g_test_add_func("/vpay/new-refuses", test_new_refuses);
	return g_test_run();
}
