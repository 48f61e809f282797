/*
 * The start-up recovery rule (kiosk/recovery-rule.h) over its whole input table: every
 * combination of store, journal, notes in the path, acceptor state and fault, and time
 * waited, checked against the rule as the issue states it, written here independently.
 */
#include <glib.h>

#include "kiosk/recovery-rule.h"

/* The rule as docs and recovery.c invariant 1 state it, written as a table lookup. */
static enum recovery_verdict expected(const struct recovery_rule_in *in)
{
	if (in->store_failing)
		return RECOVERY_WAIT_STORE;
	if (!in->journal_read)
		return RECOVERY_WAIT_JOURNAL;
	if (in->in_path == 0)
		return RECOVERY_NOW_EMPTY;
	if (in->cash_state == DEV_STATE_OK)
		return RECOVERY_NOW_SETTLED;
	if (in->cash_fault == CASH_FAULT_UNDECIDED)
		return RECOVERY_NOW_UNDECIDED;
	return in->waited_ms >= 60000 ? RECOVERY_NOW_TIMEOUT : RECOVERY_WAIT_SETTLE;
}

static void test_whole_table(void)
{
	static const int64_t paths[] = {0, 1, 3};
	static const uint64_t waits[] = {0, 1, 59999, 60000, 60001, 3600000};
	size_t cases = 0;
	for (int sf = 0; sf < 2; sf++)
		for (int jr = 0; jr < 2; jr++)
			for (size_t p = 0; p < G_N_ELEMENTS(paths); p++)
				for (int st = 0; st < DEV_STATE_COUNT; st++)
					for (int f = 0; f < CASH_FAULT_COUNT; f++)
						for (size_t w = 0; w < G_N_ELEMENTS(waits); w++) {
							struct recovery_rule_in in = {
								.store_failing = sf,
								.journal_read = jr,
								.in_path = paths[p],
								.cash_state = (enum dev_state)st,
								.cash_fault = (enum cash_fault)f,
								.waited_ms = waits[w],
							};
							enum recovery_verdict v = recovery_rule(&in);
							enum recovery_verdict want = expected(&in);
							if (v != want)
								g_error("store_failing=%d journal_read=%d in_path=%" G_GINT64_FORMAT
									" state=%s fault=%s waited=%" G_GUINT64_FORMAT
									": %s, want %s",
									sf, jr, paths[p], dev_state_name(in.cash_state),
									cash_fault_name(in.cash_fault), waits[w],
									recovery_verdict_name(v), recovery_verdict_name(want));
							g_assert_nonnull(recovery_verdict_name(v));
							/* Waiting and recovering are exclusive; giving up is recovering. */
							g_assert_cmpint(recovery_rule_now(v), ==,
									v != RECOVERY_WAIT_STORE && v != RECOVERY_WAIT_JOURNAL &&
										v != RECOVERY_WAIT_SETTLE);
							if (recovery_rule_gave_up(v))
								g_assert_true(recovery_rule_now(v));
							cases++;
						}
	g_assert_cmpuint(cases, ==, 2 * 2 * 3 * DEV_STATE_COUNT * CASH_FAULT_COUNT * 6);
	g_test_message("%zu input combinations", cases);
}

/* The cases the issue names, spelled out so a reader sees them without the table. */
static void test_named_cases(void)
{
	struct recovery_rule_in in = {.journal_read = true, .cash_state = DEV_STATE_OFFLINE,
				      .cash_fault = CASH_FAULT_DISCONNECTED};
	g_assert_cmpint(recovery_rule(&in), ==, RECOVERY_NOW_EMPTY); /* no note in the path: at once */
	in.in_path = 1;
	g_assert_cmpint(recovery_rule(&in), ==, RECOVERY_WAIT_SETTLE);
	in.waited_ms = RECOVERY_SETTLE_WAIT_MS - 1;
	g_assert_cmpint(recovery_rule(&in), ==, RECOVERY_WAIT_SETTLE);
	in.waited_ms = RECOVERY_SETTLE_WAIT_MS;
	g_assert_cmpint(recovery_rule(&in), ==, RECOVERY_NOW_TIMEOUT);
	g_assert_true(recovery_rule_gave_up(RECOVERY_NOW_TIMEOUT));
	in.waited_ms = 0;
	in.cash_fault = CASH_FAULT_UNDECIDED;
	g_assert_cmpint(recovery_rule(&in), ==, RECOVERY_NOW_UNDECIDED);
	in.cash_state = DEV_STATE_OK;
	in.cash_fault = CASH_FAULT_NONE;
	g_assert_cmpint(recovery_rule(&in), ==, RECOVERY_NOW_SETTLED);
	g_assert_false(recovery_rule_gave_up(RECOVERY_NOW_SETTLED));
	/* The store failing: wait quietly, even past the acceptor's deadline. */
	in.store_failing = true;
	in.waited_ms = 10 * RECOVERY_SETTLE_WAIT_MS;
	g_assert_cmpint(recovery_rule(&in), ==, RECOVERY_WAIT_STORE);
	g_assert_null(recovery_verdict_name(RECOVERY_VERDICT_COUNT));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/recovery-rule/whole-table", test_whole_table);
	g_test_add_func("/recovery-rule/named-cases", test_named_cases);
	return g_test_run();
}
