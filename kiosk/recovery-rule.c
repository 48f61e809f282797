/*
 * The rule for when start-up recovery may end what a crash left open (recovery-rule.h):
 * pure, no I/O, so both the app and the crash suite run this copy.
 */
#include "kiosk/recovery-rule.h"

enum recovery_verdict recovery_rule(const struct recovery_rule_in *in)
{
	/* First: while the store is failing the journal cannot be trusted to read, and nothing
	 * can be ended anyway; the app's store check brings it back and says so once. */
	if (in->store_failing)
		return RECOVERY_WAIT_STORE;
	if (!in->journal_read)
		return RECOVERY_WAIT_JOURNAL;
	if (in->in_path <= 0)
		return RECOVERY_NOW_EMPTY;
	/* RUN (DEV_STATE_OK) comes only after the driver's SETTLE ended every journey: a note it
	 * credited meanwhile is booked to the transaction still open, as the customer paid it. */
	if (in->cash_state == DEV_STATE_OK)
		return RECOVERY_NOW_SETTLED;
	if (in->cash_fault == CASH_FAULT_UNDECIDED)
		return RECOVERY_NOW_UNDECIDED;
	/* An acceptor unplugged or broken must not keep a customer's money in an open
	 * transaction: what it credits later goes to suspense (tx.c invariant 2). */
	if (in->waited_ms >= RECOVERY_SETTLE_WAIT_MS)
		return RECOVERY_NOW_TIMEOUT;
	return RECOVERY_WAIT_SETTLE;
}

bool recovery_rule_now(enum recovery_verdict v)
{
	return v == RECOVERY_NOW_EMPTY || v == RECOVERY_NOW_SETTLED || v == RECOVERY_NOW_UNDECIDED ||
	       v == RECOVERY_NOW_TIMEOUT;
}

bool recovery_rule_gave_up(enum recovery_verdict v)
{
	return v == RECOVERY_NOW_UNDECIDED || v == RECOVERY_NOW_TIMEOUT;
}

const char *recovery_verdict_name(enum recovery_verdict v)
{
	static const char *const names[RECOVERY_VERDICT_COUNT] = {
		"wait-store", "wait-journal", "wait-settle", "now-empty", "now-settled", "now-undecided", "now-timeout",
	};
	return (unsigned)v < RECOVERY_VERDICT_COUNT ? names[v] : NULL;
}
