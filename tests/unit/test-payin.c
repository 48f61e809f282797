/* Unit tests of the note pay-in the paying flows share (kiosk/flows/payin.h) over a scripted
 * cash unit: the configuration's refusals, the step guard's deferred events, where a note goes
 * in and out of PAY, the notices and the count by denomination. The flows' own tests
 * (test-topup, test-feespay) drive it through the real driver. */
#include <glib.h>
#include <string.h>

#include "kiosk/flows/payin.h"

/* A cash unit that records what it is told and answers as the test sets. */
struct fake_unit {
	struct cash_unit base;
	int enable_rc, accept_rc, return_rc;
	int enables, disables, accepts, returns;
	enum cash_fault fault;
};

static struct fake_unit *fake(struct cash_unit *u) { return (struct fake_unit *)u; }
static int f_enable(struct cash_unit *u, const int64_t *d, size_t n)
{
	(void)d;
	(void)n;
	fake(u)->enables++;
	return fake(u)->enable_rc;
}
static int f_disable(struct cash_unit *u) { return fake(u)->disables++, 0; }
static int f_accept(struct cash_unit *u) { return fake(u)->accepts++, fake(u)->accept_rc; }
static int f_return(struct cash_unit *u) { return fake(u)->returns++, fake(u)->return_rc; }
static void f_status(struct cash_unit *u, struct cash_status *st)
{
	memset(st, 0, sizeof(*st));
	st->fault = fake(u)->fault;
}
static const struct cash_unit_ops fake_ops = {.enable = f_enable, .disable = f_disable, .escrow_accept = f_accept,
					      .escrow_return = f_return, .get_status = f_status};

static const struct payin_notices notices = {"returned", "rejected", "not-recorded", "fault", "recovered"};
static const int64_t denoms[] = {500, 1000, 5000};

struct pfx {
	struct fake_unit unit;
	struct payin pin;
	struct session s;
	const char *notice;
	struct payin_at at;
};

static void setup(struct pfx *f)
{
	memset(f, 0, sizeof(*f));
	f->unit.base.ops = &fake_ops;
	f->unit.base.name = "cash";
	payin_init(&f->pin, &f->unit.base, "transaction", &notices);
	session_start(&f->s, "en", 0, 0, 0);
	f->at = (struct payin_at){.paying = true, .tx_open = true, .step = "pay", .tx_seq = 1, .now_ms = 10,
				  .denoms_fils = denoms, .n_denoms = G_N_ELEMENTS(denoms)};
}

static enum payin_next ev(struct pfx *f, enum cash_event_kind kind, int64_t value)
{
	const struct cash_event e = {.kind = kind, .value_fils = value};
	return payin_cash(&f->pin, &f->s, &e, &f->at, &f->notice);
}

static void test_config(void)
{
	struct kio_error err = {0};
	const char *good[] = {"784", "12345678"};
	g_assert_cmpint(payin_config_check("top-up", denoms, 3, good, 2, &err), ==, 0);
	g_assert_cmpint(payin_config_check("top-up", denoms, 3, NULL, 0, &err), ==, 0); /* any issuer */
	g_assert_cmpint(payin_config_check("top-up", denoms, 0, good, 2, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpstr(err.msg, ==, "top-up: 0 notes to take");
	g_assert_cmpint(payin_config_check("top-up", denoms, CASH_MAX_DENOMS + 1, good, 2, &err), ==, KIO_ERR_INVALID);
	const int64_t zero[] = {500, 0};
	g_assert_cmpint(payin_config_check("fees payment", zero, 2, good, 2, &err), ==, KIO_ERR_INVALID);
	g_assert_cmpstr(err.msg, ==, "fees payment: note 2 is worth 0 fils");
	const char *bad[][1] = {{"78x"}, {"123456789"}, {""}, {NULL}};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_assert_cmpint(payin_config_check("top-up", denoms, 3, bad[i], 1, &err), ==, KIO_ERR_INVALID);
		g_assert_nonnull(strstr(err.msg, "issuer prefix 1"));
	}
	const char *many[SESSION_PREFIXES_MAX + 1] = {0};
	g_assert_cmpint(payin_config_check("top-up", denoms, 3, many, G_N_ELEMENTS(many), &err), ==, KIO_ERR_INVALID);
	g_assert_cmpstr(err.msg, ==, "top-up: 9 issuer prefixes");
}

/* A note outside PAY, or with no transaction open, goes back (invariant 2); in PAY the flow
 * decides with the note accepted before it still counted. */
static void test_escrow(void)
{
	struct pfx f;
	setup(&f);
	f.at.paying = false;
	g_assert_cmpint(ev(&f, CASH_EV_ESCROW, 1000), ==, PAYIN_NONE);
	g_assert_cmpint(f.unit.returns, ==, 1);
	g_assert_cmpint(f.s.path, ==, SESSION_PATH_RETURNING);
	g_assert_cmpint(ev(&f, CASH_EV_RETURNED, 1000), ==, PAYIN_NONE);
	g_assert_null(f.notice); /* not in PAY: no notice */
	f.at.paying = true, f.at.tx_open = false;
	g_assert_cmpint(ev(&f, CASH_EV_ESCROW, 1000), ==, PAYIN_NONE);
	g_assert_cmpint(f.unit.returns, ==, 2);
	ev(&f, CASH_EV_RETURNED, 1000);
	g_assert_cmpstr(f.notice, ==, "returned");

	setup(&f);
	g_assert_cmpint(ev(&f, CASH_EV_ESCROW, 1000), ==, PAYIN_DECIDE);
	g_assert_cmpint(f.pin.moving_fils, ==, 0);
	payin_take(&f.pin, &f.s, &f.notice);
	g_assert_cmpint(f.s.path, ==, SESSION_PATH_ACCEPTED);
	g_assert_cmpint(ev(&f, CASH_EV_ESCROW, 5000), ==, PAYIN_DECIDE);
	g_assert_cmpint(f.pin.moving_fils, ==, 1000);
	g_assert_cmpint(f.s.path_fils, ==, 5000);
	/* Refused by the flow's rule: no "returned" notice over the flow's own. */
	f.notice = "over-max";
	payin_give_back(&f.pin, &f.s, true);
	g_assert_cmpint(ev(&f, CASH_EV_RETURNED, 5000), ==, PAYIN_NONE);
	g_assert_cmpstr(f.notice, ==, "over-max");
	g_assert_false(f.pin.returning_refused);
	/* The unit will not accept: back, not recorded. */
	f.unit.accept_rc = KIO_ERR_IO;
	ev(&f, CASH_EV_ESCROW, 500);
	payin_take(&f.pin, &f.s, &f.notice);
	g_assert_cmpint(f.s.path, ==, SESSION_PATH_RETURNING);
	g_assert_cmpstr(f.notice, ==, "not-recorded");
}

/* CREDITED: counted by denomination only into the open transaction; the notice cleared unless
 * it is the unit's fault; the path empty and the session touched whatever happens. */
static void test_credited_and_notices(void)
{
	struct pfx f;
	setup(&f);
	f.notice = "rejected";
	f.at.now_ms = 500;
	g_assert_cmpint(ev(&f, CASH_EV_CREDITED, 1000), ==, PAYIN_CREDITED);
	g_assert_null(f.notice);
	g_assert_cmpuint(f.s.last_activity_ms, ==, 500);
	g_assert_cmpuint(f.pin.by_denom[1], ==, 1);
	g_assert_cmpint(ev(&f, CASH_EV_FAULT, 0), ==, PAYIN_FAULT);
	g_assert_cmpstr(f.notice, ==, "fault");
	g_assert_true(payin_faulty(&f.pin));
	g_assert_cmpint(ev(&f, CASH_EV_CREDITED, 1000), ==, PAYIN_CREDITED);
	g_assert_cmpstr(f.notice, ==, "fault"); /* kept until it recovers */
	g_assert_cmpint(ev(&f, CASH_EV_RECOVERED, 0), ==, PAYIN_RECOVERED);
	g_assert_cmpstr(f.notice, ==, "recovered");
	g_assert_false(payin_faulty(&f.pin));
	f.unit.fault = CASH_FAULT_JAM; /* the unit's own status is the truth */
	g_assert_true(payin_faulty(&f.pin));
	f.at.tx_open = false;
	f.s.path = SESSION_PATH_ACCEPTED;
	g_assert_cmpint(ev(&f, CASH_EV_CREDITED, 1000), ==, PAYIN_NONE); /* suspense: not the flow's */
	g_assert_cmpint(f.s.path, ==, SESSION_PATH_EMPTY);
	g_assert_cmpuint(f.pin.by_denom[1], ==, 2);
	const struct cash_event rej = {.kind = CASH_EV_REJECTED, .cause = CASH_CAUSE_NOT_RECORDED};
	payin_cash(&f.pin, &f.s, &rej, &f.at, &f.notice);
	g_assert_cmpstr(f.notice, ==, "not-recorded");
	ev(&f, CASH_EV_REJECTED, 0);
	g_assert_cmpstr(f.notice, ==, "rejected");
	payin_restart(&f.pin);
	g_assert_cmpuint(f.pin.by_denom[1], ==, 0);
}

static void test_enable_disable(void)
{
	struct pfx f;
	setup(&f);
	f.unit.enable_rc = KIO_ERR_IO;
	g_assert_cmpint(payin_enable(&f.pin, denoms, 3), ==, KIO_ERR_IO);
	g_assert_false(f.pin.enabled);
	f.unit.enable_rc = 0;
	g_assert_cmpint(payin_enable(&f.pin, denoms, 3), ==, 0);
	g_assert_true(f.pin.enabled);
	payin_disable(&f.pin);
	g_assert_false(f.pin.enabled);
	g_assert_cmpint(f.unit.disables, ==, 1);
}

/* The step guard: events during a step wait, in order, and so do those their handling makes
 * the unit report; more than PAYIN_PENDING_MAX waiting is refused. */
struct seen {
	struct pfx *f;
	int64_t order[64];
	size_t n;
};

static void on_cash(void *user, const struct cash_event *e)
{
	struct seen *s = user;
	g_assert_true(payin_busy(&s->f->pin)); /* still inside the step */
	s->order[s->n++] = e->value_fils;
	if (e->value_fils == 1) {
		const struct cash_event later = {.kind = CASH_EV_CREDITED, .value_fils = 3};
		g_assert_cmpint(payin_defer(&s->f->pin, &later), ==, 0);
	}
}

static void test_step_guard(void)
{
	struct pfx f;
	setup(&f);
	struct seen seen = {.f = &f};
	g_assert_false(payin_busy(&f.pin));
	payin_enter(&f.pin);
	g_assert_true(payin_busy(&f.pin));
	const struct cash_event a = {.kind = CASH_EV_ESCROW, .value_fils = 1}, b = {.kind = CASH_EV_ESCROW, .value_fils = 2};
	g_assert_cmpint(payin_defer(&f.pin, &a), ==, 0);
	g_assert_cmpint(payin_defer(&f.pin, &b), ==, 0);
	payin_leave(&f.pin, on_cash, &seen);
	g_assert_false(payin_busy(&f.pin));
	g_assert_cmpuint(seen.n, ==, 3);
	g_assert_cmpint(seen.order[0], ==, 1);
	g_assert_cmpint(seen.order[1], ==, 2);
	g_assert_cmpint(seen.order[2], ==, 3);
	payin_enter(&f.pin);
	for (int i = 0; i < PAYIN_PENDING_MAX; i++)
		g_assert_cmpint(payin_defer(&f.pin, &b), ==, 0);
	g_assert_cmpint(payin_defer(&f.pin, &b), ==, KIO_ERR_BUSY);
	seen.n = 0;
	payin_leave(&f.pin, on_cash, &seen);
	g_assert_cmpuint(seen.n, ==, PAYIN_PENDING_MAX);
	g_assert_cmpuint(f.pin.n_pending, ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/payin/config", test_config);
	g_test_add_func("/payin/escrow", test_escrow);
	g_test_add_func("/payin/credited-and-notices", test_credited_and_notices);
	g_test_add_func("/payin/enable-disable", test_enable_disable);
	g_test_add_func("/payin/step-guard", test_step_guard);
	return g_test_run();
}
