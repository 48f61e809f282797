/* Names and event delivery shared by the device classes. */
#include "cash.h"
#include "cardprn.h"
#include "receipt.h"

const char *dev_state_name(enum dev_state state)
{
	static const char *const names[DEV_STATE_COUNT] = {"ok", "warning", "fault", "offline"};
	return (unsigned)state < DEV_STATE_COUNT ? names[state] : "?";
}

/* Names double as the scenario language's fault kinds (`fault cash jam`). */
const char *cash_fault_name(enum cash_fault fault)
{
	static const char *const names[CASH_FAULT_COUNT] = {
		"none", "jam", "stacker-full", "cashbox-removed", "fraud", "no-answer", "disconnect", "undecided"};
	return (unsigned)fault < CASH_FAULT_COUNT ? names[fault] : "?";
}

const char *cash_cause_name(enum cash_cause cause)
{
	static const char *const names[CASH_CAUSE_COUNT] = {"none", "not-recorded", "no-counters"};
	return (unsigned)cause < CASH_CAUSE_COUNT ? names[cause] : "?";
}

const char *receipt_fault_name(enum receipt_fault fault)
{
	static const char *const names[RECEIPT_FAULT_COUNT] = {
		"none", "paper-near-end", "paper-out", "cover-open", "error", "disconnect"};
	return (unsigned)fault < RECEIPT_FAULT_COUNT ? names[fault] : "?";
}

const char *cardprn_fault_name(enum cardprn_fault fault)
{
	static const char *const names[CARDPRN_FAULT_COUNT] = {
		"none", "ribbon-low", "feeder-empty", "ribbon-out", "jam", "cover-open", "disconnect"};
	return (unsigned)fault < CARDPRN_FAULT_COUNT ? names[fault] : "?";
}

void cash_emit(struct cash_unit *unit, const struct cash_event *ev)
{
	if (unit->on_event)
		unit->on_event(unit->on_event_user, ev);
}

void receipt_emit(struct receipt_printer *prn, const struct receipt_event *ev)
{
	if (prn->on_event)
		prn->on_event(prn->on_event_user, ev);
}

void cardprn_emit(struct card_issuer *iss, const struct cardprn_event *ev)
{
	if (iss->on_event)
		iss->on_event(iss->on_event_user, ev);
}
