/* Unit tests of the fees flow (kiosk/flows/fees.h): every step and guard of its table over a
 * catalogue built here, the host's answers of each kind and result, the basket's rules
 * (invariants 5 and 6), the link's state (invariant 4) and answers to abandoned questions
 * (invariant 3). The flow books nothing, so there is no ledger here to check: invariant 1 is
 * that fees.h's API has no ledger or device in it at all. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "kiosk/flows/fees.h"

#define AED(n) ((int64_t)(n) * 100)

/* A catalogue like the demo's: police fines (inquiry, 8 digits), DEWA bill (inquiry, 10 digits,
 * Luhn), RTA vehicle renewal (fixed 400, no reference) and Salik (open 50..1000 by 50, no host). */
static struct cat_service police_services[] = {{
	.id = "police-fines", .name = {"Traffic fines", "مخالفات المرور"}, .kind = CAT_FEE_INQUIRY,
	.has_reference = true, .reference = {{"traffic file number", "رقم الملف المروري"}, 8, 8, CAT_CHECK_NONE},
	.host_entity = "police", .host_service = "fines", .needs_host = true,
}};
static struct cat_service dewa_services[] = {{
	.id = "dewa-bill", .name = {"Electricity and water bill", "فاتورة الكهرباء والمياه"}, .kind = CAT_FEE_INQUIRY,
	.has_reference = true, .reference = {{"account number", "رقم الحساب"}, 10, 10, CAT_CHECK_LUHN},
	.host_entity = "dewa", .host_service = "bill", .needs_host = true,
}};
static struct cat_service rta_services[] = {
	{
		.id = "vehicle-renewal", .name = {"Vehicle renewal", "تجديد المركبة"}, .kind = CAT_FEE_FIXED,
		.amount_fils = AED(400),
	},
	{
		.id = "salik-recharge", .name = {"Salik recharge", "تعبئة رصيد سالك"}, .kind = CAT_FEE_OPEN,
		.min_fils = AED(50), .max_fils = AED(1000), .step_fils = AED(50), .has_reference = true,
		.reference = {{"Salik account", "حساب سالك"}, 8, 8, CAT_CHECK_NONE},
		.host_entity = "salik", .host_service = "topup", .needs_host = false,
	},
};
static struct cat_entity entities[] = {
	{.id = "police", .name = {"Dubai Police", "شرطة دبي"}, .order = 1, .n_services = 1, .services = police_services},
	{.id = "dewa", .name = {"DEWA", "هيئة كهرباء ومياه دبي"}, .order = 2, .n_services = 1, .services = dewa_services},
	{.id = "rta", .name = {"RTA", "هيئة الطرق والمواصلات"}, .order = 3, .n_services = 2, .services = rta_services},
};
static struct catalogue cat = {.n_entities = 3, .entities = entities, .version = "test"};

/* A DEWA account number with a good Luhn digit. */
#define DEWA_REF "2000123451"

static int go(struct fees *f, enum fees_input_kind kind)
{
	const struct fees_input in = {.kind = kind};
	return fees_step(f, &in);
}

static int pick(struct fees *f, enum fees_input_kind kind, const char *id)
{
	const struct fees_input in = {.kind = kind, .id = id};
	return fees_step(f, &in);
}

static int nth(struct fees *f, enum fees_input_kind kind, int n)
{
	const struct fees_input in = {.kind = kind, .n = n};
	return fees_step(f, &in);
}

static void type(struct fees *f, const char *digits)
{
	for (const char *p = digits; *p; p++) {
		const struct fees_input in = {.kind = FEES_IN_KEY, .digit = *p};
		g_assert_cmpint(fees_step(f, &in), ==, 0);
	}
}

static struct fees *start(bool online)
{
	struct fees *f = NULL;
	struct kio_error err = {0};
	g_assert_cmpint(fees_new(&cat, online, &f, &err), ==, 0);
	g_assert_cmpint(fees_current(f), ==, FEES_ENTITY);
	return f;
}

static struct fees_answer answer_for(const char *entity, const char *service, const char *ref)
{
	struct fees_answer a = {0};
	snprintf(a.entity, sizeof(a.entity), "%s", entity);
	snprintf(a.service, sizeof(a.service), "%s", service);
	snprintf(a.reference, sizeof(a.reference), "%s", ref);
	return a;
}

static int answer(struct fees *f, const struct fees_answer *a)
{
	const struct fees_input in = {.kind = FEES_IN_ANSWER, .answer = a};
	return fees_step(f, &in);
}

static struct fees_answer police_two_fines(void)
{
	struct fees_answer a = answer_for("police", "police-fines", "10012345");
	a.result = FEES_ANSWER_OK;
	a.kind = FEES_DUE_ITEMS;
	snprintf(a.payee, sizeof(a.payee), "F*** S***");
	a.n_items = 2;
	a.items[0] = (struct fees_item){"F-1", "Speeding", AED(600)};
	a.items[1] = (struct fees_item){"F-2", "Parking", AED(400)};
	return a;
}

static void to_police_checking(struct fees *f)
{
	g_assert_cmpint(pick(f, FEES_IN_ENTITY, "police"), ==, 0);
	g_assert_cmpint(pick(f, FEES_IN_SERVICE, "police-fines"), ==, 0);
	g_assert_cmpint(fees_current(f), ==, FEES_REFERENCE);
	type(f, "10012345");
	g_assert_cmpint(go(f, FEES_IN_NEXT), ==, 0);
	g_assert_cmpint(fees_current(f), ==, FEES_CHECKING);
}

static void test_new_refuses_empty(void)
{
	struct fees *f = (struct fees *)1;
	struct kio_error err = {0};
	struct catalogue empty = {0};
	g_assert_cmpint(fees_new(&empty, true, &f, &err), ==, KIO_ERR_INVALID);
	g_assert_null(f);
	g_assert_nonnull(strstr(err.msg, "no entity"));
}

static void test_browse_and_back(void)
{
	struct fees *f = start(true);
	struct fees_view v;
	g_assert_cmpint(pick(f, FEES_IN_ENTITY, "courts"), ==, KIO_ERR_INVALID); /* not in this catalogue */
	g_assert_cmpint(pick(f, FEES_IN_ENTITY, NULL), ==, KIO_ERR_INVALID);
	g_assert_cmpint(pick(f, FEES_IN_ENTITY, "rta"), ==, 0);
	fees_view(f, &v);
	g_assert_cmpint(v.step, ==, FEES_SERVICE);
	g_assert_cmpstr(v.entity->id, ==, "rta");
	g_assert_cmpint(pick(f, FEES_IN_SERVICE, "police-fines"), ==, KIO_ERR_INVALID); /* another entity's */
	g_assert_cmpint(go(f, FEES_IN_BACK), ==, 0);
	g_assert_cmpint(fees_current(f), ==, FEES_ENTITY);
	/* Back from the entity list with an empty basket: home. */
	g_assert_cmpint(go(f, FEES_IN_BACK), ==, 0);
	g_assert_cmpint(fees_current(f), ==, FEES_END);
	g_assert_cmpint(go(f, FEES_IN_BACK), ==, KIO_ERR_INVALID); /* END takes nothing */
	fees_free(f);
}

/* Invariant 2: the catalogue's check before the host; each verdict has its message. */
static void test_reference_verdicts(void)
{
	struct fees *f = start(true);
	struct fees_view v;
	g_assert_cmpint(pick(f, FEES_IN_ENTITY, "dewa"), ==, 0);
	g_assert_cmpint(pick(f, FEES_IN_SERVICE, "dewa-bill"), ==, 0);
	fees_view(f, &v);
	g_assert_cmpstr(v.reference_msg, ==, "fees.reference.enter");
	g_assert_false(v.next_enabled);
	g_assert_cmpint(go(f, FEES_IN_NEXT), ==, KIO_ERR_INVALID);
	fees_view(f, &v);
	g_assert_cmpstr(v.reference_msg, ==, "fees.reference.empty");
	type(f, "20001");
	g_assert_cmpint(go(f, FEES_IN_NEXT), ==, KIO_ERR_INVALID);
	fees_view(f, &v);
	g_assert_cmpstr(v.reference_msg, ==, "fees.reference.short");
	g_assert_cmpint(fees_current(f), ==, FEES_REFERENCE);
	type(f, "23454");
	/* Ten digits with a wrong check digit. */
	g_assert_cmpint(go(f, FEES_IN_NEXT), ==, KIO_ERR_INVALID);
	fees_view(f, &v);
	g_assert_cmpstr(v.reference_msg, ==, "fees.reference.check");
	g_assert_cmpint(fees_current(f), ==, FEES_REFERENCE); /* no ask: not CHECKING */
	/* The keypad stops at max_len: an eleventh digit is refused, nothing changes. */
	const struct fees_input key = {.kind = FEES_IN_KEY, .digit = '1'};
	g_assert_cmpint(fees_step(f, &key), ==, KIO_ERR_INVALID);
	fees_view(f, &v);
	g_assert_cmpstr(v.reference, ==, "2000123454");
	const struct fees_input letter = {.kind = FEES_IN_KEY, .digit = 'x'};
	g_assert_cmpint(go(f, FEES_IN_DEL), ==, 0);
	g_assert_cmpint(fees_step(f, &letter), ==, KIO_ERR_INVALID);
	type(f, "1");
	fees_view(f, &v);
	g_assert_cmpstr(v.reference, ==, DEWA_REF);
	g_assert_cmpstr(v.reference_msg, ==, "fees.reference.ok");
	g_assert_cmpint(go(f, FEES_IN_NEXT), ==, 0);
	fees_view(f, &v);
	g_assert_true(v.checking);
	g_assert_cmpstr(v.reference_msg, ==, "fees.reference.checking");
	/* Clear, then nothing left to delete. */
	g_assert_cmpint(go(f, FEES_IN_BACK), ==, 0);
	g_assert_cmpint(go(f, FEES_IN_CLEAR), ==, 0);
	g_assert_cmpint(go(f, FEES_IN_DEL), ==, KIO_ERR_INVALID);
	fees_free(f);
}

/* DEWA: a fixed amount the host gives, added; the same bill cannot be added twice (inv. 6). */
static void test_inquiry_fixed(void)
{
	struct fees *f = start(true);
	struct fees_view v;
	for (int round = 0; round < 2; round++) {
		if (round)
			g_assert_cmpint(go(f, FEES_IN_MORE), ==, 0);
		g_assert_cmpint(pick(f, FEES_IN_ENTITY, "dewa"), ==, 0);
		g_assert_cmpint(pick(f, FEES_IN_SERVICE, "dewa-bill"), ==, 0);
		type(f, DEWA_REF);
		g_assert_cmpint(go(f, FEES_IN_NEXT), ==, 0);
		struct fees_answer a = answer_for("dewa", "dewa-bill", DEWA_REF);
		a.kind = FEES_DUE_FIXED;
		a.due_fils = 24550;
		snprintf(a.payee, sizeof(a.payee), "M*** A*** K***");
		snprintf(a.description, sizeof(a.description), "Electricity and water bill");
		g_assert_cmpint(answer(f, &a), ==, 0);
		fees_view(f, &v);
		if (round == 0) {
			g_assert_cmpint(v.step, ==, FEES_AMOUNT);
			g_assert_true(v.from_host);
			g_assert_cmpint(v.amount_fils, ==, 24550);
			g_assert_cmpstr(v.payee, ==, "M*** A*** K***");
			g_assert_true(v.add_enabled);
			g_assert_cmpint(go(f, FEES_IN_UP), ==, KIO_ERR_INVALID); /* a fixed amount does not move */
			g_assert_cmpint(go(f, FEES_IN_ADD), ==, 0);
			fees_view(f, &v);
			g_assert_cmpint(v.step, ==, FEES_BASKET);
			g_assert_cmpuint(v.n_lines, ==, 1);
			g_assert_cmpstr(v.lines[0].entity, ==, "dewa");
			g_assert_cmpstr(v.lines[0].reference, ==, DEWA_REF);
			g_assert_cmpstr(v.lines[0].bill, ==, "");
			g_assert_cmpint(v.total_fils, ==, 24550);
		} else {
			/* The same bill again: nothing left to add, back at the reference. */
			g_assert_cmpint(v.step, ==, FEES_REFERENCE);
			g_assert_cmpstr(v.notice, ==, "fees.reference.nothing-due");
		}
	}
	fees_free(f);
}

/* Police: two fines, both chosen by default and added as two lines; toggling; invariant 6. */
static void test_inquiry_items(void)
{
	struct fees *f = start(true);
	struct fees_view v;
	to_police_checking(f);
	struct fees_answer a = police_two_fines();
	g_assert_cmpint(answer(f, &a), ==, 0);
	fees_view(f, &v);
	g_assert_cmpint(v.step, ==, FEES_AMOUNT);
	g_assert_cmpint(v.kind, ==, FEES_DUE_ITEMS);
	g_assert_cmpuint(v.n_items, ==, 2);
	g_assert_true(v.chosen[0] && v.chosen[1]);
	g_assert_cmpint(nth(f, FEES_IN_BILL, 3), ==, KIO_ERR_INVALID);
	g_assert_cmpint(nth(f, FEES_IN_BILL, 0), ==, KIO_ERR_INVALID);
	g_assert_cmpint(nth(f, FEES_IN_BILL, 1), ==, 0);
	g_assert_cmpint(nth(f, FEES_IN_BILL, 2), ==, 0);
	fees_view(f, &v);
	g_assert_false(v.add_enabled);
	g_assert_cmpstr(v.amount_msg, ==, "fees.amount.none-chosen");
	g_assert_cmpint(go(f, FEES_IN_ADD), ==, KIO_ERR_INVALID);
	g_assert_cmpint(nth(f, FEES_IN_BILL, 2), ==, 0); /* only F-2 */
	g_assert_cmpint(go(f, FEES_IN_ADD), ==, 0);
	fees_view(f, &v);
	g_assert_cmpuint(v.n_lines, ==, 1);
	g_assert_cmpstr(v.lines[0].bill, ==, "F-2");
	g_assert_cmpint(v.lines[0].amount_fils, ==, AED(400));
	/* Again: F-2 is in the basket, shown so and not choosable; F-1 is chosen. */
	g_assert_cmpint(go(f, FEES_IN_MORE), ==, 0);
	to_police_checking(f);
	g_assert_cmpint(answer(f, &a), ==, 0);
	fees_view(f, &v);
	g_assert_true(v.in_basket[1]);
	g_assert_false(v.chosen[1]);
	g_assert_true(v.chosen[0]);
	g_assert_cmpint(nth(f, FEES_IN_BILL, 2), ==, KIO_ERR_INVALID);
	g_assert_cmpint(go(f, FEES_IN_ADD), ==, 0);
	fees_view(f, &v);
	g_assert_cmpuint(v.n_lines, ==, 2);
	g_assert_cmpstr(v.lines[1].bill, ==, "F-1");
	g_assert_cmpint(v.total_fils, ==, AED(1000));
	/* A third time: both in the basket, nothing due. */
	g_assert_cmpint(go(f, FEES_IN_MORE), ==, 0);
	to_police_checking(f);
	g_assert_cmpint(answer(f, &a), ==, 0);
	g_assert_cmpint(fees_current(f), ==, FEES_REFERENCE);
	fees_view(f, &v);
	g_assert_cmpstr(v.notice, ==, "fees.reference.nothing-due");
	fees_free(f);
}

/* Salik: open, no host; starts at the minimum; up, down, the bounds, typing (invariant 5). */
static void test_open_amount(void)
{
	struct fees *f = start(false); /* offline: an open amount without an inquiry is still offered */
	struct fees_view v;
	g_assert_cmpint(pick(f, FEES_IN_ENTITY, "rta"), ==, 0);
	g_assert_cmpint(pick(f, FEES_IN_SERVICE, "salik-recharge"), ==, 0);
	type(f, "40012345");
	g_assert_cmpint(go(f, FEES_IN_NEXT), ==, 0);
	fees_view(f, &v);
	g_assert_cmpint(v.step, ==, FEES_AMOUNT);
	g_assert_cmpint(v.kind, ==, FEES_DUE_OPEN);
	g_assert_false(v.from_host);
	g_assert_cmpint(v.amount_fils, ==, AED(50));
	g_assert_false(v.down_enabled);
	g_assert_cmpint(go(f, FEES_IN_DOWN), ==, KIO_ERR_INVALID);
	g_assert_cmpint(go(f, FEES_IN_UP), ==, 0);
	g_assert_cmpint(go(f, FEES_IN_UP), ==, 0);
	fees_view(f, &v);
	g_assert_cmpint(v.amount_fils, ==, AED(150));
	g_assert_cmpint(go(f, FEES_IN_DOWN), ==, 0);
	fees_view(f, &v);
	g_assert_cmpint(v.amount_fils, ==, AED(100));
	/* Typed: 1000 is the maximum; 1050 above it; 75 off the steps; 20 below the minimum. */
	type(f, "1000");
	fees_view(f, &v);
	g_assert_cmpint(v.amount_fils, ==, AED(1000));
	g_assert_null(v.amount_msg);
	g_assert_false(v.up_enabled);
	g_assert_true(v.add_enabled);
	g_assert_cmpint(go(f, FEES_IN_UP), ==, KIO_ERR_INVALID);
	g_assert_cmpint(go(f, FEES_IN_DEL), ==, 0);
	type(f, "5");
	fees_view(f, &v);
	g_assert_cmpint(v.amount_fils, ==, AED(1005));
	g_assert_cmpstr(v.amount_msg, ==, "fees.amount.above-max");
	g_assert_false(v.add_enabled);
	g_assert_cmpint(go(f, FEES_IN_ADD), ==, KIO_ERR_INVALID);
	/* Down from above the maximum: the top step. */
	g_assert_cmpint(go(f, FEES_IN_DOWN), ==, 0);
	fees_view(f, &v);
	g_assert_cmpint(v.amount_fils, ==, AED(1000));
	type(f, "75");
	fees_view(f, &v);
	g_assert_cmpstr(v.amount_msg, ==, "fees.amount.off-step");
	g_assert_cmpint(go(f, FEES_IN_UP), ==, 0); /* the next step above 75 */
	fees_view(f, &v);
	g_assert_cmpint(v.amount_fils, ==, AED(100));
	type(f, "75");
	g_assert_cmpint(go(f, FEES_IN_DOWN), ==, 0);
	fees_view(f, &v);
	g_assert_cmpint(v.amount_fils, ==, AED(50));
	type(f, "20");
	fees_view(f, &v);
	g_assert_cmpstr(v.amount_msg, ==, "fees.amount.below-min");
	g_assert_true(v.up_enabled);
	const struct fees_input zero = {.kind = FEES_IN_KEY, .digit = '0'};
	g_assert_cmpint(go(f, FEES_IN_CLEAR), ==, 0);
	g_assert_cmpint(fees_step(f, &zero), ==, KIO_ERR_INVALID); /* no leading zero */
	fees_view(f, &v);
	g_assert_cmpstr(v.amount_msg, ==, "fees.amount.choose");
	g_assert_false(v.add_enabled);
	type(f, "250");
	g_assert_cmpint(go(f, FEES_IN_ADD), ==, 0);
	fees_view(f, &v);
	g_assert_cmpint(v.lines[0].amount_fils, ==, AED(250));
	g_assert_cmpstr(v.lines[0].service, ==, "salik-recharge");
	fees_free(f);
}

/* A fixed fee, no reference; the basket: remove, pay to PAY and back; full (inv. 5). Offline
 * (invariant 8): pay past the offline allowance is refused, within it goes on. */
static void test_fixed_and_basket(void)
{
	struct fees *f = start(false);
	struct fees_view v;
	for (int i = 0; i < FEES_BASKET_MAX; i++) {
		if (i)
			g_assert_cmpint(go(f, FEES_IN_MORE), ==, 0);
		g_assert_cmpint(pick(f, FEES_IN_ENTITY, "rta"), ==, 0);
		g_assert_cmpint(pick(f, FEES_IN_SERVICE, "vehicle-renewal"), ==, 0);
		fees_view(f, &v);
		g_assert_cmpint(v.step, ==, FEES_AMOUNT);
		g_assert_cmpint(v.amount_fils, ==, AED(400));
		g_assert_cmpint(go(f, FEES_IN_ADD), ==, 0);
	}
	fees_view(f, &v);
	g_assert_cmpuint(v.n_lines, ==, FEES_BASKET_MAX);
	g_assert_cmpint(v.total_fils, ==, FEES_BASKET_MAX * AED(400));
	g_assert_false(v.more_enabled);
	g_assert_cmpint(go(f, FEES_IN_MORE), ==, KIO_ERR_INVALID);
	fees_view(f, &v);
	g_assert_cmpstr(v.notice, ==, "basket.full");
	g_assert_cmpint(nth(f, FEES_IN_REMOVE, FEES_BASKET_MAX + 1), ==, KIO_ERR_INVALID);
	g_assert_cmpint(nth(f, FEES_IN_REMOVE, 1), ==, 0);
	fees_view(f, &v);
	g_assert_cmpuint(v.n_lines, ==, FEES_BASKET_MAX - 1);
	g_assert_true(v.more_enabled);
	/* Offline: 9 x 400 AED is past an allowance of 3,599.99 AED, within one of 3,600. */
	struct fees_input pay = {.kind = FEES_IN_PAY, .allowance_fils = 9 * AED(400) - 1};
	g_assert_cmpint(fees_step(f, &pay), ==, KIO_ERR_INVALID);
	fees_view(f, &v);
	g_assert_cmpstr(v.notice, ==, "basket.offline-limit");
	g_assert_cmpint(fees_current(f), ==, FEES_BASKET);
	pay.allowance_fils = 9 * AED(400);
	g_assert_cmpint(fees_step(f, &pay), ==, 0);
	g_assert_cmpint(fees_current(f), ==, FEES_PAY);
	g_assert_true(v.lines[0].needs_host == false);
	g_assert_cmpint(go(f, FEES_IN_ADD), ==, KIO_ERR_INVALID);
	g_assert_cmpint(go(f, FEES_IN_BACK), ==, 0);
	g_assert_cmpint(fees_current(f), ==, FEES_BASKET);
	while (fees_view(f, &v), v.n_lines)
		g_assert_cmpint(nth(f, FEES_IN_REMOVE, 1), ==, 0);
	fees_view(f, &v);
	g_assert_false(v.pay_enabled);
	g_assert_cmpint(go(f, FEES_IN_PAY), ==, KIO_ERR_INVALID);
	g_assert_cmpint(go(f, FEES_IN_CANCEL), ==, 0);
	g_assert_cmpint(fees_current(f), ==, FEES_END);
	fees_free(f);
}

/* A basket one short of full refuses two fines at once, and keeps what it holds. */
static void test_items_past_full(void)
{
	struct fees *f = start(true);
	struct fees_view v;
	for (int i = 0; i < FEES_BASKET_MAX - 1; i++) {
		if (i)
			g_assert_cmpint(go(f, FEES_IN_MORE), ==, 0);
		g_assert_cmpint(pick(f, FEES_IN_ENTITY, "rta"), ==, 0);
		g_assert_cmpint(pick(f, FEES_IN_SERVICE, "vehicle-renewal"), ==, 0);
		g_assert_cmpint(go(f, FEES_IN_ADD), ==, 0);
	}
	g_assert_cmpint(go(f, FEES_IN_MORE), ==, 0);
	to_police_checking(f);
	struct fees_answer a = police_two_fines();
	g_assert_cmpint(answer(f, &a), ==, 0);
	g_assert_cmpint(go(f, FEES_IN_ADD), ==, KIO_ERR_INVALID);
	fees_view(f, &v);
	g_assert_cmpstr(v.notice, ==, "basket.full");
	g_assert_cmpuint(v.n_lines, ==, FEES_BASKET_MAX - 1);
	g_assert_cmpint(nth(f, FEES_IN_BILL, 2), ==, 0);
	g_assert_cmpint(go(f, FEES_IN_ADD), ==, 0);
	fees_view(f, &v);
	g_assert_cmpuint(v.n_lines, ==, FEES_BASKET_MAX);
	fees_free(f);
}

/* Invariant 4: offline, inquiry services are not offered and nothing is asked; an unreachable
 * answer takes the flow offline; the link back online offers them again. */
static void test_offline(void)
{
	struct fees *f = start(false);
	struct fees_view v;
	g_assert_cmpint(pick(f, FEES_IN_ENTITY, "police"), ==, 0);
	g_assert_false(fees_service_open(f, &police_services[0]));
	g_assert_true(fees_service_open(f, &rta_services[0]));
	g_assert_cmpint(pick(f, FEES_IN_SERVICE, "police-fines"), ==, KIO_ERR_INVALID);
	fees_view(f, &v);
	g_assert_cmpint(v.step, ==, FEES_SERVICE);
	g_assert_cmpstr(v.notice, ==, "fees.service.needs-host");
	const struct fees_input up = {.kind = FEES_IN_LINK, .online = true};
	g_assert_cmpint(fees_step(f, &up), ==, 0);
	g_assert_cmpint(pick(f, FEES_IN_SERVICE, "police-fines"), ==, 0);
	type(f, "10012345");
	/* Offline again while typing: next does not ask. */
	const struct fees_input down = {.kind = FEES_IN_LINK, .online = false};
	g_assert_cmpint(fees_step(f, &down), ==, 0);
	g_assert_cmpint(go(f, FEES_IN_NEXT), ==, 0);
	fees_view(f, &v);
	g_assert_cmpint(v.step, ==, FEES_REFERENCE);
	g_assert_false(v.checking);
	g_assert_cmpstr(v.notice, ==, "fees.reference.needs-host");
	g_assert_cmpint(fees_step(f, &up), ==, 0);
	g_assert_cmpint(go(f, FEES_IN_NEXT), ==, 0);
	g_assert_cmpint(fees_current(f), ==, FEES_CHECKING);
	static const enum fees_answer_result down_results[] = {FEES_ANSWER_UNREACHABLE, FEES_ANSWER_NOT_CONFIGURED};
	for (size_t i = 0; i < G_N_ELEMENTS(down_results); i++) {
		struct fees_answer a = answer_for("police", "police-fines", "10012345");
		a.result = down_results[i];
		g_assert_cmpint(answer(f, &a), ==, 0);
		fees_view(f, &v);
		g_assert_cmpint(v.step, ==, FEES_REFERENCE);
		g_assert_false(v.online);
		g_assert_cmpstr(v.notice, ==, "fees.reference.needs-host");
		g_assert_cmpint(fees_step(f, &up), ==, 0);
		g_assert_cmpint(go(f, FEES_IN_NEXT), ==, 0);
	}
	/* Not found and an error are said as such, the link stays online. */
	struct fees_answer a = answer_for("police", "police-fines", "10012345");
	a.result = FEES_ANSWER_NOT_FOUND;
	g_assert_cmpint(answer(f, &a), ==, 0);
	fees_view(f, &v);
	g_assert_cmpstr(v.notice, ==, "fees.reference.unknown");
	g_assert_true(v.online);
	g_assert_cmpint(go(f, FEES_IN_NEXT), ==, 0);
	a.result = FEES_ANSWER_ERROR;
	g_assert_cmpint(answer(f, &a), ==, 0);
	fees_view(f, &v);
	g_assert_cmpstr(v.notice, ==, "fees.reference.host-error");
	fees_free(f);
}

/* Invariant 8: offline, a basket with a line that needs the host is not paid (BASKET says
 * why); online again it is when the app leaves no limit, and not when the money the host has
 * not acknowledged is already past one (the allowance 0 the app then gives). */
static void test_offline_basket(void)
{
	struct fees *f = start(true);
	struct fees_view v;
	to_police_checking(f);
	struct fees_answer a = police_two_fines();
	g_assert_cmpint(answer(f, &a), ==, 0);
	g_assert_cmpint(nth(f, FEES_IN_BILL, 1), ==, 0);
	g_assert_cmpint(go(f, FEES_IN_ADD), ==, 0);
	fees_view(f, &v);
	g_assert_cmpuint(v.n_lines, ==, 1);
	g_assert_true(v.lines[0].needs_host);
	const struct fees_input down = {.kind = FEES_IN_LINK, .online = false};
	g_assert_cmpint(fees_step(f, &down), ==, 0);
	const struct fees_input pay = {.kind = FEES_IN_PAY, .allowance_fils = -1};
	g_assert_cmpint(fees_step(f, &pay), ==, KIO_ERR_INVALID);
	fees_view(f, &v);
	g_assert_cmpint(v.step, ==, FEES_BASKET);
	g_assert_cmpstr(v.notice, ==, "basket.needs-host");
	const struct fees_input up = {.kind = FEES_IN_LINK, .online = true};
	g_assert_cmpint(fees_step(f, &up), ==, 0);
	/* Online, the money not acknowledged already past a limit (the app's allowance 0): the link
	 * may be down and not yet seen so, so no basket opens (invariant 8, topup.h 11). */
	const struct fees_input pay0 = {.kind = FEES_IN_PAY, .allowance_fils = 0};
	g_assert_cmpint(fees_step(f, &pay0), ==, KIO_ERR_INVALID);
	fees_view(f, &v);
	g_assert_cmpint(v.step, ==, FEES_BASKET);
	g_assert_cmpstr(v.notice, ==, "basket.offline-limit");
	/* Online within the limits (no allowance, -1): it pays, a line needing the host too. */
	const struct fees_input pay_free = {.kind = FEES_IN_PAY, .allowance_fils = -1};
	g_assert_cmpint(fees_step(f, &pay_free), ==, 0);
	g_assert_cmpint(fees_current(f), ==, FEES_PAY);
	fees_view(f, &v);
	g_assert_null(v.notice);
	fees_free(f);
}

/* Invariant 3: an answer to another question, or after the customer left CHECKING, moves
 * nothing; invariant 5: an answer with figures the basket cannot hold is refused as an error. */
static void test_stale_and_bad_answers(void)
{
	struct fees *f = start(true);
	struct fees_view v;
	to_police_checking(f);
	struct fees_answer other = police_two_fines();
	snprintf(other.reference, sizeof(other.reference), "10099999");
	g_assert_cmpint(answer(f, &other), ==, KIO_ERR_INVALID);
	g_assert_cmpint(fees_current(f), ==, FEES_CHECKING);
	g_assert_cmpint(answer(f, NULL), ==, KIO_ERR_INVALID);
	g_assert_cmpint(go(f, FEES_IN_BACK), ==, 0);
	struct fees_answer late = police_two_fines();
	g_assert_cmpint(answer(f, &late), ==, KIO_ERR_INVALID);
	g_assert_cmpint(fees_current(f), ==, FEES_REFERENCE);
	g_assert_cmpint(go(f, FEES_IN_NEXT), ==, 0);
	struct fees_answer bad = police_two_fines();
	bad.items[1].amount_fils = 0;
	g_assert_cmpint(answer(f, &bad), ==, 0);
	fees_view(f, &v);
	g_assert_cmpint(v.step, ==, FEES_REFERENCE);
	g_assert_cmpstr(v.notice, ==, "fees.reference.host-error");
	g_assert_cmpint(go(f, FEES_IN_NEXT), ==, 0);
	struct fees_answer open = answer_for("police", "police-fines", "10012345");
	open.kind = FEES_DUE_OPEN;
	open.min_fils = AED(10), open.max_fils = AED(5), open.step_fils = AED(1); /* max below min */
	g_assert_cmpint(answer(f, &open), ==, 0);
	g_assert_cmpint(fees_current(f), ==, FEES_REFERENCE);
	g_assert_cmpint(go(f, FEES_IN_NEXT), ==, 0);
	struct fees_answer none = answer_for("police", "police-fines", "10012345");
	none.kind = FEES_DUE_ITEMS; /* no item: nothing due */
	g_assert_cmpint(answer(f, &none), ==, 0);
	fees_view(f, &v);
	g_assert_cmpstr(v.notice, ==, "fees.reference.nothing-due");
	fees_free(f);
}

/* An open amount the host bounds (an inquiry answering open): the host's bounds, not the
 * catalogue's. */
static void test_host_open(void)
{
	struct fees *f = start(true);
	struct fees_view v;
	to_police_checking(f);
	struct fees_answer a = answer_for("police", "police-fines", "10012345");
	a.kind = FEES_DUE_OPEN;
	a.min_fils = 5000, a.max_fils = 100000, a.step_fils = 5000;
	g_assert_cmpint(answer(f, &a), ==, 0);
	fees_view(f, &v);
	g_assert_cmpint(v.step, ==, FEES_AMOUNT);
	g_assert_cmpint(v.amount_fils, ==, 5000);
	g_assert_cmpint(v.max_fils, ==, 100000);
	for (int i = 0; i < 19; i++)
		g_assert_cmpint(go(f, FEES_IN_UP), ==, 0);
	g_assert_cmpint(go(f, FEES_IN_UP), ==, KIO_ERR_INVALID);
	fees_view(f, &v);
	g_assert_cmpint(v.amount_fils, ==, 100000);
	/* Back from the amount keeps the reference. */
	g_assert_cmpint(go(f, FEES_IN_BACK), ==, 0);
	fees_view(f, &v);
	g_assert_cmpint(v.step, ==, FEES_REFERENCE);
	g_assert_cmpstr(v.reference, ==, "10012345");
	fees_free(f);
}

static void test_names(void)
{
	g_assert_cmpstr(fees_step_name(FEES_PAY), ==, "pay");
	g_assert_null(fees_step_name(FEES_STEP_COUNT));
	g_assert_null(fees_step_name(-1));
	g_assert_cmpstr(fees_answer_result_name(FEES_ANSWER_NOT_CONFIGURED), ==, "not-configured");
	g_assert_null(fees_answer_result_name(FEES_ANSWER_RESULT_COUNT));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/fees/new-refuses-empty", test_new_refuses_empty);
	g_test_add_func("/fees/browse-and-back", test_browse_and_back);
	g_test_add_func("/fees/reference-verdicts", test_reference_verdicts);
	g_test_add_func("/fees/inquiry-fixed", test_inquiry_fixed);
	g_test_add_func("/fees/inquiry-items", test_inquiry_items);
	g_test_add_func("/fees/open-amount", test_open_amount);
	g_test_add_func("/fees/fixed-and-basket", test_fixed_and_basket);
	g_test_add_func("/fees/items-past-full", test_items_past_full);
	g_test_add_func("/fees/offline", test_offline);
	g_test_add_func("/fees/offline-basket", test_offline_basket);
	g_test_add_func("/fees/stale-and-bad-answers", test_stale_and_bad_answers);
	g_test_add_func("/fees/host-open", test_host_open);
	g_test_add_func("/fees/names", test_names);
	return g_test_run();
}
