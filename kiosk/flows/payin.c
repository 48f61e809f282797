/* The note pay-in the paying flows share: the unit's hold, the note's path, the deferred
 * events (payin.h). The invariants cited are the flows' (topup.h, feespay.h). */
#define LOG_MODULE "flow-payin"
#include "payin.h"

#include <inttypes.h>
#include <string.h>

#include "kiosk/core/log.h"

static bool prefix_ok(const char *s)
{
	if (!s || !*s || strlen(s) > SESSION_PREFIX_DIGITS)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int payin_config_check(const char *flow, const int64_t *denoms_fils, size_t n_denoms, const char *const *prefixes,
		       size_t n_prefixes, struct kio_error *err)
{
	if (n_denoms == 0 || n_denoms > CASH_MAX_DENOMS)
		return kio_fail(err, KIO_ERR_INVALID, "%s: %zu notes to take", flow, n_denoms);
	for (size_t i = 0; i < n_denoms; i++)
		if (denoms_fils[i] <= 0)
			return kio_fail(err, KIO_ERR_INVALID, "%s: note %zu is worth %" PRId64 " fils", flow, i + 1,
					denoms_fils[i]);
	if (n_prefixes > SESSION_PREFIXES_MAX)
		return kio_fail(err, KIO_ERR_INVALID, "%s: %zu issuer prefixes", flow, n_prefixes);
	for (size_t i = 0; i < n_prefixes; i++)
		if (!prefix_ok(prefixes[i]))
			return kio_fail(err, KIO_ERR_INVALID, "%s: issuer prefix %zu \"%s\" is not 1 to %d digits", flow,
					i + 1, prefixes[i] ? prefixes[i] : "", SESSION_PREFIX_DIGITS);
	return 0;
}

void payin_init(struct payin *pin, struct cash_unit *unit, const char *what, const struct payin_notices *notices)
{
	memset(pin, 0, sizeof(*pin));
	pin->unit = unit;
	pin->what = what;
	pin->notices = notices;
}

void payin_restart(struct payin *pin)
{
	pin->returning_refused = false;
	memset(pin->by_denom, 0, sizeof(pin->by_denom));
}

bool payin_faulty(const struct payin *pin)
{
	struct cash_status st;
	pin->unit->ops->get_status(pin->unit, &st);
	return pin->unit_fault || st.fault != CASH_FAULT_NONE || st.state == DEV_STATE_FAULT;
}

int payin_enable(struct payin *pin, const int64_t *denoms_fils, size_t n)
{
	int rc = pin->unit->ops->enable(pin->unit, denoms_fils, n);
	if (rc == 0)
		pin->enabled = true;
	return rc;
}

void payin_disable(struct payin *pin)
{
	int rc = pin->unit->ops->disable(pin->unit);
	if (rc)
		LOG_ERR("%s: disable failed: %s", pin->unit->name, kio_strerror(rc));
	pin->enabled = false;
}

void payin_give_back(struct payin *pin, struct session *s, bool refused)
{
	int rc = pin->unit->ops->escrow_return(pin->unit);
	if (rc)
		LOG_WARN("%s: return from escrow refused: %s (the unit returns it by itself)", pin->unit->name,
			 kio_strerror(rc));
	s->path = SESSION_PATH_RETURNING;
	pin->returning_refused = refused;
}

void payin_take(struct payin *pin, struct session *s, const char **notice)
{
	int rc = pin->unit->ops->escrow_accept(pin->unit);
	if (rc) {
		LOG_WARN("%s: accept refused: %s; the note goes back", pin->unit->name, kio_strerror(rc));
		*notice = pin->notices->not_recorded;
		payin_give_back(pin, s, false);
		return;
	}
	s->path = SESSION_PATH_ACCEPTED;
}

enum payin_next payin_cash(struct payin *pin, struct session *s, const struct cash_event *ev,
			   const struct payin_at *at, const char **notice)
{
	const struct payin_notices *n = pin->notices;
	switch (ev->kind) {
	case CASH_EV_ESCROW:
		session_touch(s, at->now_ms);
		/* The note accepted before this one, if it is still moving, counts against the
		 * flow's rule (invariant 2); the path now names the note offered. */
		pin->moving_fils = s->path == SESSION_PATH_ACCEPTED ? s->path_fils : 0;
		s->path_fils = ev->value_fils;
		if (!at->paying || !at->tx_open) {
			/* Invariant 2: outside PAY (a note read as the unit was disabled) it goes back. */
			LOG_INFO("note of %" PRId64 " fils offered in %s: returned", ev->value_fils, at->step);
			payin_give_back(pin, s, false);
			return PAYIN_NONE;
		}
		return PAYIN_DECIDE;
	case CASH_EV_CREDITED:
		/* The note journal booked it to the open transaction in the same commit (tx.c
		 * invariant 2), or to suspense when none is open: the flow reads what the ledger
		 * says (invariant 3). */
		session_touch(s, at->now_ms);
		s->path = SESSION_PATH_EMPTY;
		if (!at->tx_open) {
			LOG_WARN("note of %" PRId64 " fils credited with no %s of this flow open: suspense", ev->value_fils,
				 pin->what);
			return PAYIN_NONE;
		}
		for (size_t i = 0; i < at->n_denoms; i++)
			if (at->denoms_fils[i] == ev->value_fils)
				pin->by_denom[i]++;
		if (at->paying && *notice && strcmp(*notice, n->fault) != 0)
			*notice = NULL;
		return PAYIN_CREDITED;
	case CASH_EV_RETURNED:
		session_touch(s, at->now_ms);
		s->path = SESSION_PATH_EMPTY;
		if (at->paying && !pin->returning_refused)
			*notice = n->returned;
		pin->returning_refused = false;
		return PAYIN_NONE;
	case CASH_EV_REJECTED:
		session_touch(s, at->now_ms);
		s->path = SESSION_PATH_EMPTY;
		if (at->paying)
			*notice = ev->cause == CASH_CAUSE_NONE ? n->rejected : n->not_recorded;
		return PAYIN_NONE;
	case CASH_EV_FAULT:
		pin->unit_fault = true;
		LOG_WARN("%s: fault %s during %s (%s %" PRId64 ", paid %" PRId64 " fils)", pin->unit->name,
			 cash_fault_name(ev->fault), at->step, pin->what, at->tx_seq, s->paid_fils);
		if (at->paying)
			*notice = n->fault;
		return PAYIN_FAULT;
	case CASH_EV_RECOVERED:
		pin->unit_fault = false;
		if (at->paying)
			*notice = n->recovered;
		return PAYIN_RECOVERED;
	case CASH_EV_STACKED:
	case CASH_EV_COUNT:
		break;
	}
	return PAYIN_NONE;
}

bool payin_busy(const struct payin *pin) { return pin->busy; }

int payin_defer(struct payin *pin, const struct cash_event *ev)
{
	if (pin->n_pending == PAYIN_PENDING_MAX) {
		LOG_ERR("%s: %zu events waiting; dropping a %d", pin->unit->name, pin->n_pending, ev->kind);
		return KIO_ERR_BUSY;
	}
	pin->pending[pin->n_pending++] = *ev;
	return 0;
}

void payin_enter(struct payin *pin) { pin->busy = true; }

void payin_leave(struct payin *pin, void (*on_cash)(void *flow, const struct cash_event *ev), void *flow)
{
	/* Still busy: what these events make the unit report waits behind them (n_pending grows). */
	for (size_t i = 0; i < pin->n_pending; i++)
		on_cash(flow, &pin->pending[i]);
	pin->n_pending = 0;
	pin->busy = false;
}
